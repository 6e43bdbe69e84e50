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
