#include "names.h"
#include "common/strparse.h"

#include <string.h>

static bool charset_ok(const char *s, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(extra, c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

bool jotd_username_valid(const char *s)
{
    return s && charset_ok(s, "._@-");
}

bool jotd_name_valid(const char *s)
{
    return s && charset_ok(s, "._:/-");
}

int jotd_parse_id(const char *s, int64_t *out)
{
    uint64_t v;
    if (!s || strlen(s) > 16 || jotx_parse_u64_str(s, UINT64_C(1) << 53, &v) != JOTX_OK)
        return -1;
    *out = (int64_t)v;
    return 0;
}

bool jotd_scope_token_valid(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (!(c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)))
            return false;
    }
    return n >= 1 && n <= 128;
}

bool jotd_audience_valid(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return n >= 1 && n <= 255;
}

/* The authority's host part: "localhost", "127.0.0.1" or "[::1]", then a port, a path, a
 * query or the end. */
static bool loopback_authority(const char *a)
{
    static const char *const hosts[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(a, hosts[i], n) == 0 && strchr(":/?", a[n]) != NULL)
            return true;
    }
    return false;
}

bool jotd_redirect_uri_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    if (n == 0 || n > JOTD_REDIRECT_URI_MAX)
        return false;
    if (strchr(s, '#'))
        return false;
    const char *a;
    if (strncmp(s, "https://", 8) == 0)
        a = s + 8;
    else if (strncmp(s, "http://", 7) == 0 && loopback_authority(s + 7))
        a = s + 7;
    else
        return false;
    size_t host = strcspn(a, "/?");
    if (host == 0 || a[0] == ':' || memchr(a, '@', host) != NULL)
        return false;
    return true;
}

/* A DNS name in lower case: labels of a-z 0-9 '-', not starting or ending with '-', joined by
 * single dots; or a bracketed IPv6 address of lower-case hex digits, colons and dots. */
static bool origin_host_valid(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    if (h[0] == '[') {
        if (n < 4 || h[n - 1] != ']')
            return false;
        for (size_t i = 1; i + 1 < n; i++)
            if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f') || h[i] == ':' ||
                  h[i] == '.'))
                return false;
        return true;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            if (c == '-' && label == 0)
                return false;
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && h[n - 1] != '-';
}

bool jotd_origin_valid(const char *s)
{
    if (!s || strlen(s) > JOTD_ORIGIN_MAX)
        return false;
    bool https = strncmp(s, "https://", 8) == 0;
    if (!https && strncmp(s, "http://", 7) != 0)
        return false;
    const char *h = s + (https ? 8 : 7);
    const char *colon = h[0] == '[' ? strchr(h, ']') : h;
    if (!colon)
        return false;
    colon = strchr(colon, ':');
    size_t hn = colon ? (size_t)(colon - h) : strlen(h);
    if (!origin_host_valid(h, hn))
        return false;
    if (!https &&
        !((hn == 9 && !strncmp(h, "localhost", 9)) || (hn == 9 && !strncmp(h, "127.0.0.1", 9)) ||
          (hn == 5 && !strncmp(h, "[::1]", 5))))
        return false;
    if (colon) { /* 1-65535, no leading zero, not the scheme's default (never in an Origin) */
        const char *p = colon + 1;
        size_t pn = strlen(p);
        if (pn == 0 || pn > 5 || p[0] == '0')
            return false;
        unsigned long port = 0;
        for (size_t i = 0; i < pn; i++) {
            if (p[i] < '0' || p[i] > '9')
                return false;
            port = port * 10 + (unsigned long)(p[i] - '0');
        }
        if (port > 65535 || (https && port == 443) || (!https && port == 80))
            return false;
    }
    return true;
}

/* RFC 9110 §5.6.2 tchar */
static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool jotd_cookie_name_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!tchar(*p))
            return false;
    return true;
}

const char *jotd_cookie_mode_refusal(const char *client_id, bool is_public, size_t n_origins)
{
    if (!is_public)
        return "cookie mode is for public clients only (a browser app keeps no secret)";
    if (n_origins == 0)
        return "cookie mode needs at least one allowed origin";
    if (!jotd_cookie_name_valid(client_id))
        return "cookie mode needs a client id that can be part of a cookie name (A-Z a-z 0-9 . _ "
               "-; no @)";
    return NULL;
}
