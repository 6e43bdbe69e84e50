/* TEMPORARY (branch i11-pginfra only, removed when i11-split's server/store.c is merged):
 * jotd_store_schema_version() is store.c's, declared in store.h; until that file is here,
 * this weak stand-in lets jotd link. A strong definition anywhere wins over it. */
#include "store.h"

__attribute__((weak)) jotd_rc_t jotd_store_schema_version(jotd_store_t *st, int64_t *out)
{
    (void)st;
    (void)out;
    return JOTD_E_INVAL; /* "invalid argument": this build cannot tell the version yet */
}
