/* The duration grammar (duration.h). */
#include "common/duration.h"
#include "common/strparse.h"

#include <string.h>

int jotx_parse_duration(const char *s, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return JOTX_ENUM;
    if (max < 0)
        return JOTX_ERANGE;
    size_t n = strlen(s);
    uint64_t unit = 1;
    switch (s[n - 1]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 604800;
        break;
    default:
        unit = 0; /* a bare number: every character must be a digit */
        break;
    }
    const char *p = s, *end = s + n - (unit ? 1 : 0);
    if (!unit)
        unit = 1;
    /* the grammar first ("1.5h", "1hh", "15 m", "h"), so that a long malformed input is
     * JOTX_ENUM, not JOTX_ERANGE */
    if (p == end)
        return JOTX_ENUM;
    for (const char *q = p; q < end; q++)
        if (*q < '0' || *q > '9')
            return JOTX_ENUM;
    uint64_t v;
    int rc = jotx_parse_u64(&p, end, (uint64_t)max / unit, &v);
    if (rc != JOTX_OK)
        return rc;
    *out = (int64_t)(v * unit);
    return JOTX_OK;
}
