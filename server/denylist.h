/* In-memory denylist of revoked access-token ids (jti) until their exp. Thread-safe; the
 * /verify hot path reads it without touching the database. Bounded: entries past exp are
 * purged as new ones arrive. */
#ifndef JOTD_DENYLIST_H
#define JOTD_DENYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jotd_denylist jotd_denylist_t;

jotd_denylist_t *jotd_denylist_new(void);
void jotd_denylist_free(jotd_denylist_t *d);
/** Add (or extend) an entry. Returns 0, or -1 when out of memory. */
int jotd_denylist_add(jotd_denylist_t *d, const char *jti, size_t jti_len, int64_t exp);
/** true when \p jti is listed and its exp is still in the future. */
bool jotd_denylist_contains(jotd_denylist_t *d, const char *jti, size_t jti_len, int64_t now);
/** Drop entries with exp <= now; returns how many remain. */
size_t jotd_denylist_purge(jotd_denylist_t *d, int64_t now);

#endif
