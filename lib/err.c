/* Error messages and names, generated from JOT_ERR_MAP. */
#include "internal.h"

const char *jot_strerror(jot_err_t err)
{
    switch (err) {
#define JOT__ERR_MSG(num, name, msg)                                                               \
    case JOT_##name:                                                                               \
        return msg;
        JOT_ERR_MAP(JOT__ERR_MSG)
#undef JOT__ERR_MSG
    case JOT_ERR__LAST:
        break;
    }
    return "unknown error";
}

const char *jot_err_name(jot_err_t err)
{
    switch (err) {
#define JOT__ERR_NAME(num, name, msg)                                                              \
    case JOT_##name:                                                                               \
        return "JOT_" #name;
        JOT_ERR_MAP(JOT__ERR_NAME)
#undef JOT__ERR_NAME
    case JOT_ERR__LAST:
        break;
    }
    return "JOT_E_UNKNOWN";
}

int jot_version_number(void)
{
    return JOT_VERSION_NUMBER;
}
