/* Bounded decimal parsing (strparse.h). */
#include "common/strparse.h"

#include <string.h>

int jotx_parse_u64(const char **p, const char *end, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s >= end || *s < '0' || *s > '9')
        return JOTX_ENUM;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (d > max || v > (max - d) / 10u)
            return JOTX_ERANGE;
        v = v * 10u + d;
    }
    *p = s;
    *out = v;
    return JOTX_OK;
}

int jotx_parse_u64_str(const char *s, uint64_t max, uint64_t *out)
{
    if (!s)
        return JOTX_ENUM;
    const char *p = s, *end = s + strlen(s);
    uint64_t v;
    int rc = jotx_parse_u64(&p, end, max, &v);
    if (rc != JOTX_OK)
        return rc;
    if (p != end)
        return JOTX_ENUM;
    *out = v;
    return JOTX_OK;
}

int jotx_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
