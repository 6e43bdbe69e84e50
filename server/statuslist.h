/* Token Status Lists (draft-ietf-oauth-status-list): what jotd publishes so that services
 * learn of a revoked session without calling jotd per request.
 *
 * Every session has an index (jotd_session_t.status_idx, allocated by the store at its
 * creation, never reused); every access token of the session carries
 * "status":{"status_list":{"idx":I,"uri":"<issuer>/statuslists/K"}} with K = I / N and
 * I the index itself (the draft's idx is the position in the list: I - K * N). List K holds
 * the indexes [K * N, (K + 1) * N), N = JOTD_STATUS_LIST_BITS, one bit each: 1 when the
 * session was revoked (status_revoked in the store), 0 otherwise. Bit order is the draft's:
 * index i is bit (i % 8) of byte i / 8, counting from the least significant bit.
 *
 * A list is served as a Status List Token: a JWT (typ statuslist+jwt) signed with the key
 * that signs access tokens now, claims sub (the list's URI), iat, exp, ttl and
 * status_list {bits: 1, lst: base64url(ZLIB(bit array))}. Every list has all N bits, so a
 * token allocated after the list was built still finds its bit (0) in it. */
#ifndef JOTD_STATUSLIST_H
#define JOTD_STATUSLIST_H

#include "rc.h"
#include "store.h"

#include <jot/jot.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOTD_STATUS_LIST_BITS 1048576 /* N: indexes per list (2^20: 128 KiB of bits) */
#define JOTD_STATUS_LIST_BYTES (JOTD_STATUS_LIST_BITS / 8)
/* The highest list number served: K * N fits an int64 with room to spare. */
#define JOTD_STATUS_LIST_MAX_K (INT64_MAX / JOTD_STATUS_LIST_BITS - 1)
/* Room for "<issuer>/statuslists/<K>" past the issuer's own length. */
#define JOTD_STATUS_URI_EXTRA 40

/* ---- the bit array (pure) ---- */
/** Set bit \p idx of \p bits (\p nbytes long; an index past the end is ignored). */
void jotd_statuslist_set(uint8_t *bits, size_t nbytes, uint64_t idx);
/** Bit \p idx of \p bits: 0 or 1 (0 past the end). */
int jotd_statuslist_get(const uint8_t *bits, size_t nbytes, uint64_t idx);
/** The draft's "lst": base64url (no padding) of the ZLIB (RFC 1950) compressed \p bits, at
 *  zlib's default level (statuslist.c says why). *out_lst malloc'd, NUL-terminated. JOTD_E_NOMEM,
 * JOTD_E_INVAL
 *  (\p nbytes 0 or more than zlib takes in one call). */
jotd_rc_t jotd_statuslist_encode(const uint8_t *bits, size_t nbytes, char **out_lst);
/** The reverse, for tests and benchmarks: *out (malloc'd) the inflated bytes, *out_n their
 *  number, at most \p max (a larger result is JOTD_E_TOOMANY: a decompression bomb stops
 *  there). JOTD_E_MALFORMED for text that is not base64url of a complete ZLIB stream. */
jotd_rc_t jotd_statuslist_decode(const char *lst, size_t len, size_t max, uint8_t **out,
                                 size_t *out_n);

/** "<issuer>/statuslists/<k>" into \p out (the issuer without its trailing slashes). 0, or
 *  -1 when it does not fit in \p size. */
int jotd_statuslist_uri(const char *issuer, int64_t k, char *out, size_t size);
/** Parse the K of a path segment: a decimal without sign or leading zeros ("0" alone),
 *  at most JOTD_STATUS_LIST_MAX_K. 0, or -1. */
int jotd_statuslist_parse_k(const char *s, int64_t *out);

/* ---- a Status List Token ---- */
typedef struct jotd_statuslist_params {
    const char *issuer;   /* the lists' URIs are under it */
    const jot_key_t *key; /* signs (borrowed) */
    int64_t ttl;          /* the ttl claim: seconds a service may cache the list */
    int64_t lifetime;     /* exp = iat + lifetime */
} jotd_statuslist_params_t;

/** Read list \p k's revoked indexes from \p st and sign its Status List Token at \p now.
 *  *out_token malloc'd (free()). JOTD_E_NOTFOUND when no index of list k was ever allocated
 *  (k * N >= the store's counter); the store's errors; JOTD_E_CRYPTO (signing),
 *  JOTD_E_NOMEM. */
jotd_rc_t jotd_statuslist_token(jotd_store_t *st, const jotd_statuslist_params_t *p, int64_t k,
                                int64_t now, char **out_token, size_t *out_len);

/* ---- the signed lists of this process, built lazily ----
 * A list is built when asked for and kept until one of: an event that may change a bit or
 * the signing key was applied (jotd_statuslists_changed, called by events.c for
 * session_revoked, user_generation and key_changed), the signing key differs, or it is
 * older than ttl / 2. The bits come from the store, so any instance serves the same list.
 * Thread-safe: one build at a time (others that need one wait for it and take its result);
 * a lookup without building never waits for a build, only for another lookup. */
typedef struct jotd_statuslists jotd_statuslists_t;

jotd_statuslists_t *jotd_statuslists_new(void);
void jotd_statuslists_free(jotd_statuslists_t *c); /* NULL: no-op */
/** Something that may change a list happened: every cached list is stale. */
void jotd_statuslists_changed(jotd_statuslists_t *c);
/** List \p k's token into *out (malloc'd) and *out_len: the cached one while fresh, else,
 *  with \p may_build, a new one (jotd_statuslist_token's errors); without it (the event
 *  loop, which must not read the store) JOTD_E_BUSY. \p c may be NULL (nothing cached). */
jotd_rc_t jotd_statuslists_get(jotd_statuslists_t *c, jotd_store_t *st,
                               const jotd_statuslist_params_t *p, int64_t k, int64_t now,
                               bool may_build, char **out, size_t *out_len);

#endif
