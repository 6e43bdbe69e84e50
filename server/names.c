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
