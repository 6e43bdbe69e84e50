/* What names jotd accepts for users, roles and permissions, and bounded number parsing. */
#ifndef JOTD_NAMES_H
#define JOTD_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOTD_MAX_NAMES 64 /* roles or permissions per user */
#define JOTD_PASSWORD_MIN 8

/** 1-64 characters of A-Z a-z 0-9 . _ @ - */
bool jotd_username_valid(const char *s);
/** Role or permission: 1-64 characters of A-Z a-z 0-9 . _ : / - (no comma, space or control
 *  character, so lists of them fit in one HTTP header). */
bool jotd_name_valid(const char *s);
/** One scope token (RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E), 1-128 characters. */
bool jotd_scope_token_valid(const char *s);
/** An audience (a URI or a name): 1-255 printable ASCII characters, no space. */
bool jotd_audience_valid(const char *s);
/** A redirect URI a client may register (RFC 6749 §3.1.2, OAuth 2.1 §2.3.1): 1-1024
 *  printable ASCII characters, no space; "https://" and a host, or "http://" only for a
 *  loopback host (localhost, 127.0.0.1, [::1]); no fragment, no user information. The
 *  scheme is lowercase: the URIs are compared as exact strings. */
bool jotd_redirect_uri_valid(const char *s);
#define JOTD_REDIRECT_URI_MAX 1024
/** An origin a client may allow (browsers' Origin header, RFC 6454 serialisation):
 *  "https://host[:port]", or "http://" only for localhost, 127.0.0.1 or [::1]; the host in
 *  lower case (a DNS name or a bracketed IPv6 address), the port 1-65535 without leading
 *  zeros and not the scheme's default (a browser never sends it); no path, no trailing slash,
 *  no user information. Compared as exact strings with the Origin header. */
bool jotd_origin_valid(const char *s);
#define JOTD_ORIGIN_MAX 270
/** A cookie name (RFC 6265 §4.1.1: an RFC 9110 token): 1 or more tchar. */
bool jotd_cookie_name_valid(const char *s);
/** Why a client cannot be in cookie mode (static text), or NULL when it can: it is public,
 *  allows at least one origin, and its id fits in a cookie name (no '@'). */
const char *jotd_cookie_mode_refusal(const char *client_id, bool is_public, size_t n_origins);
/** Decimal integer 0..2^53 without sign or spaces: 0, or -1. */
int jotd_parse_id(const char *s, int64_t *out);

#endif
