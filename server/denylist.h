/* In-memory denylist of revoked access-token ids (jti) until their exp. Thread-safe; the
 * /verify hot path reads it without touching the database. Bounded: entries past exp are
 * purged as new ones arrive. */
#ifndef JOTD_DENYLIST_H
#define JOTD_DENYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Live entries at most. A revocation is one fsync'd store transaction, so filling the table
 * within one access-token lifetime (15 min by default) takes 4,700 revocations a second
 * sustained; each entry costs about 80 bytes (entry, allocator overhead, bucket). */
#define JOTD_DENYLIST_MAX 4000000u

typedef struct jotd_denylist jotd_denylist_t;

jotd_denylist_t *jotd_denylist_new(void);
void jotd_denylist_free(jotd_denylist_t *d);
/** Add (or extend) an entry. Returns 1 when added, 0 when it was there (exp raised to the
 *  later one), -1 when full (JOTD_DENYLIST_MAX live entries) or out of memory. */
int jotd_denylist_add(jotd_denylist_t *d, const char *jti, size_t jti_len, int64_t exp);
/** Remove an entry (undo an add whose persistent write failed). */
void jotd_denylist_remove(jotd_denylist_t *d, const char *jti, size_t jti_len);
/** true when \p jti is listed and its exp is still in the future. */
bool jotd_denylist_contains(jotd_denylist_t *d, const char *jti, size_t jti_len, int64_t now);
/** Drop entries with exp <= now; returns how many remain. */
/** Entries held now (expired ones not yet purged included). Lock-free. */
size_t jotd_denylist_count(jotd_denylist_t *d);
size_t jotd_denylist_purge(jotd_denylist_t *d, int64_t now);

#endif
