/* jotd_rc_str() and jotd_rc_name(), generated from JOTD_RC_MAP (rc.h). */
#include "rc.h"

#include <stddef.h>

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
