/* Open addressing with linear probing over (user id, generation) pairs: ids are positive
 * integers handed out by the store (never reused), so 0 marks an empty slot and nothing is
 * ever removed (a user's generation only grows; a deleted user's stays, voiding the tokens
 * that outlive the account). Hashing: ids are chosen by the store, not by a client, so a
 * fixed avalanche mix is enough. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#endif
#include "genmap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define GENMAP_MIN_SLOTS 64u

typedef struct slot {
    int64_t id; /* 0: empty */
    int64_t gen;
} slot_t;

struct jotd_genmap {
    pthread_rwlock_t lock;
    slot_t *slots; /* n_slots, a power of two */
    size_t n_slots;
    _Atomic size_t count; /* written under the write lock; read without it (get) */
};

static size_t mix(int64_t id)
{
    uint64_t x = (uint64_t)id;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

jotd_genmap_t *jotd_genmap_new(void)
{
    jotd_genmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->n_slots = GENMAP_MIN_SLOTS;
    m->slots = calloc(m->n_slots, sizeof *m->slots);
    pthread_rwlockattr_t attr;
    int ok = m->slots && pthread_rwlockattr_init(&attr) == 0;
    if (ok) {
        /* a bump must not wait behind a steady stream of /verify readers */
        (void)pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        ok = pthread_rwlock_init(&m->lock, &attr) == 0;
        pthread_rwlockattr_destroy(&attr);
    }
    if (!ok) {
        free(m->slots);
        free(m);
        return NULL;
    }
    return m;
}

void jotd_genmap_free(jotd_genmap_t *m)
{
    if (!m)
        return;
    pthread_rwlock_destroy(&m->lock);
    free(m->slots);
    free(m);
}

static slot_t *find(slot_t *slots, size_t n, int64_t id)
{
    for (size_t i = mix(id) & (n - 1);; i = (i + 1) & (n - 1))
        if (slots[i].id == id || slots[i].id == 0)
            return &slots[i];
}

static int grow_locked(jotd_genmap_t *m)
{
    size_t n = m->n_slots * 2;
    slot_t *ns = calloc(n, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->n_slots; i++)
        if (m->slots[i].id)
            *find(ns, n, m->slots[i].id) = m->slots[i];
    free(m->slots);
    m->slots = ns;
    m->n_slots = n;
    return 0;
}

int jotd_genmap_raise(jotd_genmap_t *m, int64_t user_id, int64_t gen)
{
    if (!m || user_id <= 0)
        return -1;
    if (gen <= 0)
        return 0; /* generation 0 is everyone's */
    int rc = 0;
    pthread_rwlock_wrlock(&m->lock);
    slot_t *s = find(m->slots, m->n_slots, user_id);
    if (s->id == 0) {
        if (m->count >= JOTD_GENMAP_MAX ||
            ((m->count + 1) * 2 > m->n_slots && grow_locked(m) != 0)) {
            rc = -1;
            goto out;
        }
        s = find(m->slots, m->n_slots, user_id);
        s->id = user_id;
        s->gen = gen;
        m->count++;
    } else if (gen > s->gen) {
        s->gen = gen;
    }
out:
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

int64_t jotd_genmap_get(jotd_genmap_t *m, int64_t user_id)
{
    if (!m || user_id <= 0 || atomic_load_explicit(&m->count, memory_order_acquire) == 0)
        return 0; /* no generation bumped: no lock on the /verify path */
    pthread_rwlock_rdlock(&m->lock);
    const slot_t *s = find(m->slots, m->n_slots, user_id);
    int64_t gen = s->id == user_id ? s->gen : 0;
    pthread_rwlock_unlock(&m->lock);
    return gen;
}

size_t jotd_genmap_count(jotd_genmap_t *m)
{
    if (!m)
        return 0;
    pthread_rwlock_rdlock(&m->lock);
    size_t n = m->count;
    pthread_rwlock_unlock(&m->lock);
    return n;
}
