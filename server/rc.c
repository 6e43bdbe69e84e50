/* jotd_rc_str() and jotd_rc_name(), generated from JOTD_RC_MAP (rc.h). */
#include "rc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

const char *jotd_rc_str(jotd_rc_t rc)
{
    switch (rc) {
#define JOTD__RC_STR(num, name, msg)                                                               \
    case JOTD_##name:                                                                              \
        return msg;
        JOTD_RC_MAP(JOTD__RC_STR)
#undef JOTD__RC_STR
    case JOTD_RC__LAST:
        break;
    }
    return "unknown error";
}

const char *jotd_rc_name(jotd_rc_t rc)
{
    switch (rc) {
#define JOTD__RC_NAME(num, name, msg)                                                              \
    case JOTD_##name:                                                                              \
        return "JOTD_" #name;
        JOTD_RC_MAP(JOTD__RC_NAME)
#undef JOTD__RC_NAME
    case JOTD_RC__LAST:
        break;
    }
    return "JOTD_E_UNKNOWN";
}

void jotd_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
