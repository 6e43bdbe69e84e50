/* Where the login page may send a browser back to (the forward-auth portal's `rd`), and the
 * checks of --cookie-domain. Pure functions: no state, no allocation
 * (tests/unit/test_jotd_redirect.c).
 *
 * An `rd` is accepted only when it is, byte for byte (nothing is normalised, nothing
 * decoded):
 * - at most JOTD_RD_MAX bytes, printable ASCII only: no control character, no space, no
 *   byte >= 0x7f (a raw IDN is refused; its punycode form is a plain DNS name), no
 *   backslash (browsers read `\` as `/`), no `%00`, every `%` followed by two hex digits;
 * - absolute, "https://" in lower case ("http://" only when jotd itself serves plain HTTP);
 * - an authority (up to the first '/', '?' or '#') of a lower-case DNS name, optionally
 *   ":PORT" (1..65535): no userinfo ('@'), no IP literal, no empty label, no
 *   percent-encoding;
 * - a host equal to the cookie domain or ending in "." + the cookie domain.
 * Anything else is refused whole: a URL is never "repaired" into an acceptable one. */
#ifndef JOTD_REDIRECT_H
#define JOTD_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

#define JOTD_RD_MAX 2048
/* "https://" + a host of at most 253 + ":65535" + NUL */
#define JOTD_ORIGIN_MAX 272

/** Whether \p rd (\p len bytes) is an acceptable redirect target under \p cookie_domain
 *  (see above); \p allow_http: "http://" too. On true, when \p origin is not NULL, the
 *  target's origin ("https://host[:port]") is written there (JOTD_ORIGIN_MAX bytes). */
bool jotd_rd_ok(const char *rd, size_t len, const char *cookie_domain, bool allow_http,
                char origin[JOTD_ORIGIN_MAX]);

/** Whether \p name is an acceptable --cookie-domain: a lower-case DNS name of at least two
 *  labels ("example.com", not "com"), or "localhost"; no leading or trailing dot, no IP
 *  address, labels of [a-z0-9-] not starting or ending with '-', at most 253 bytes. */
bool jotd_cookie_domain_ok(const char *name);

/** Whether the host \p host (\p len bytes) is \p domain or under it (case-sensitive: both
 *  are lower case). */
bool jotd_host_under(const char *host, size_t len, const char *domain);

/** \p s percent-encoded for a query value (every byte but A-Z a-z 0-9 - . _ ~) into \p out
 *  of \p cap bytes: its length, or 0 when it does not fit. */
size_t jotd_percent_encode(const char *s, char *out, size_t cap);

#endif
