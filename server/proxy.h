/* The client address of a request, when trusted reverse proxies stand in front of jotd.
 *
 * Behind a proxy every connection comes from the proxy's address, so the per-IP login
 * throttle, the logs and the audit trail would see one client. The proxy says who its
 * client was in X-Forwarded-For (or RFC 7239 Forwarded: for=); each proxy on the way appends
 * the address it received the request from. Only the entries appended by proxies we trust
 * are true: a client can write anything to the left of them. So the list is read from the
 * right, skipping trusted proxies; the first untrusted address is the client. Nothing is
 * read unless the connection itself comes from a trusted proxy.
 *
 * Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so that one
 * comparison serves both families and a dual-stack socket's mapped peers match IPv4 ranges.
 * Pure functions over (ptr, len): unit-tested in test_jotd_proxy.c. */
#ifndef JOTD_PROXY_H
#define JOTD_PROXY_H

#include "request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOTD_MAX_TRUSTED_PROXIES 64 /* ranges in --trusted-proxy */
#define JOTD_ADDR_TEXT 46           /* INET6_ADDRSTRLEN */

typedef struct jotd_cidr {
    uint8_t addr[16]; /* the network, host bits zero */
    unsigned bits;    /* prefix length over the 128-bit form (IPv4 /n is 96 + n) */
} jotd_cidr_t;

/** Parse "a.b.c.d", "a.b.c.d/n" (n 0..32), "v6" or "v6/n" (n 0..128) from [s, s+n).
 *  Strict: no spaces, no leading zeros in the prefix, no host bits set beyond the prefix
 *  ("10.0.0.1/8" is refused: did the operator mean 10.0.0.1/32 or 10.0.0.0/8?). Returns 0,
 *  or -1 with the reason in \p why. */
int jotd_cidr_parse(const char *s, size_t n, jotd_cidr_t *out, char *why, size_t whylen);
/** Parse one address (IPv4 dotted quad or IPv6, no brackets, no port) from [s, s+n). 0/-1. */
int jotd_addr_parse(const char *s, size_t n, uint8_t out[16]);
/** Whether \p a is inside one of the \p n ranges. */
bool jotd_cidr_contains(const jotd_cidr_t *ranges, size_t n, const uint8_t a[16]);
/** Text of \p a: IPv4-mapped addresses as the IPv4 dotted quad. */
void jotd_addr_format(const uint8_t a[16], char out[JOTD_ADDR_TEXT]);

/** The client address of a request from \p peer: \p peer itself unless it lies in one of
 *  the \p n_trusted ranges; then the rightmost untrusted address of the X-Forwarded-For
 *  list (every X-Forwarded-For header of \p hdrs, in order, as one comma-separated list) or,
 *  when there is no X-Forwarded-For, of the for= parameters of Forwarded (RFC 7239); the
 *  leftmost when all are trusted. A malformed entry met on the way (an "unknown" or
 *  obfuscated node, garbage, an element without for=) gives \p peer. Entries may carry a
 *  port ("192.0.2.1:80", "[2001:db8::1]:4711"). */
void jotd_client_addr(const jotd_cidr_t *trusted, size_t n_trusted, const uint8_t peer[16],
                      const jotd_hdr_t *hdrs, size_t n_hdrs, uint8_t out[16]);

#endif
