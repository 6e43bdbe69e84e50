/* Parsing of request bodies and credentials, without sockets (unit-tested and fuzzed):
 * application/x-www-form-urlencoded and JSON bodies into one parameter list, HTTP Basic
 * client credentials (RFC 6749 §2.3.1), Bearer tokens (RFC 6750 §2.1). */
#ifndef JOTD_REQUEST_H
#define JOTD_REQUEST_H

#include "rc.h"

#include <stdbool.h>
#include <stddef.h>

#define JOTD_MAX_PARAMS 32

typedef struct jotd_param {
    char *name, *value; /* NUL-terminated, decoded; values contain no NUL */
} jotd_param_t;

typedef struct jotd_params {
    jotd_param_t items[JOTD_MAX_PARAMS];
    size_t n;
} jotd_params_t;

/** Parse \p body by \p content_type ("application/x-www-form-urlencoded" or
 *  "application/json", parameters like "; charset=utf-8" allowed; NULL/empty body gives no
 *  params). JSON bodies must be an object whose values are strings (numbers and booleans are
 *  converted to their text; arrays of strings are joined with spaces, for "scope"). On
 *  failure \p out is left empty and the rc (rc.h) says why: JOTD_E_MALFORMED (malformed
 *  body, bad encoding, not UTF-8), JOTD_E_DUPLICATE (a parameter given twice, RFC 6749
 *  §3.2), JOTD_E_TOOMANY (more than JOTD_MAX_PARAMS), JOTD_E_MEDIA (unsupported
 *  Content-Type), JOTD_E_NOMEM. */
jotd_rc_t jotd_params_parse(const char *content_type, const char *body, size_t len,
                            jotd_params_t *out);
/** Value of \p name or NULL. */
const char *jotd_params_get(const jotd_params_t *p, const char *name);
/** Free every string; leaves \p p empty. */
void jotd_params_clear(jotd_params_t *p);

/** Parse "Basic <base64>" into client_id and secret (each form-urldecoded, malloc'd).
 *  Returns 0, or -1 when the header is not well-formed Basic credentials. */
int jotd_basic_auth_parse(const char *header, char **out_id, char **out_secret);
/** Locate the token of "Bearer <token>" (scheme case-insensitive, one space or more).
 *  Returns a pointer into \p header and its length, or NULL. */
const char *jotd_bearer_token(const char *header, size_t *out_len);

/* ---- the request head, before any handler sees it ---- */

/** One request header as received (name and value NUL-terminated, borrowed). */
typedef struct jotd_hdr {
    const char *name, *value;
} jotd_hdr_t;

/** What the HTTP layer knows about a request before routing it. */
typedef struct jotd_req_head {
    const char *method;
    const char *path; /* decoded, \p path_len bytes (may contain NUL: then it is refused) */
    size_t path_len;
    bool url_ctl; /* jotd_url_unescape() saw a control byte in the path or a query argument */
    const jotd_hdr_t *hdrs; /* every header, in order, repeats included */
    size_t n_hdrs;
} jotd_req_head_t;

/** Percent-decode \p s in place as libmicrohttpd's unescaper does (%HH; a '%' without two
 *  hex digits stays as it is) and return the decoded length. Sets *out_ctl when the result
 *  holds a control byte (0x00-0x1F, 0x7F): a NUL would cut the C string that handlers see,
 *  so such a URL must be refused, never routed. */
size_t jotd_url_unescape(char *s, bool *out_ctl);

/** Decide whether a request head may reach a handler: NULL when it may, otherwise the
 *  reason for a 400 after which the connection is closed. Refused: a control byte in the
 *  decoded path or query (url_ctl, or in path[0..path_len)), a repeated Content-Length or
 *  one that is not all digits, Content-Length together with Transfer-Encoding, a repeated
 *  Transfer-Encoding or one other than "chunked", a repeated Authorization. A proxy in front
 *  of jotd and jotd then never disagree on where a request ends or whose it is. */
const char *jotd_req_head_check(const jotd_req_head_t *h);

#endif
