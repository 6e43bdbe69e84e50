/* Per-user token generations in memory: user id -> the generation below which the user's
 * access tokens are void (store.h, jotd_user_t.generation). Fed by the store's
 * user_generation events; read on every /verify, so lookups take a read lock only.
 * Users absent from the map are at generation 0 (nothing voided). Thread-safe. Memory: 16
 * bytes per user whose generation was ever bumped within the events' retention, at a load
 * factor of at most 1/2 (JOTD_GENMAP_MAX users at most). */
#ifndef JOTD_GENMAP_H
#define JOTD_GENMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOTD_GENMAP_MAX (16u * 1024u * 1024u)

typedef struct jotd_genmap jotd_genmap_t;

jotd_genmap_t *jotd_genmap_new(void);
void jotd_genmap_free(jotd_genmap_t *m);
/** Raise \p user_id's generation to \p gen (never lowers it). 0, or -1 when out of memory
 *  or full (the map is unchanged). */
int jotd_genmap_raise(jotd_genmap_t *m, int64_t user_id, int64_t gen);
/** The generation of \p user_id (0 when unknown). */
int64_t jotd_genmap_get(jotd_genmap_t *m, int64_t user_id);
/** Users in the map. */
size_t jotd_genmap_count(jotd_genmap_t *m);

#endif
