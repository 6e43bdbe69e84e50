/* In-memory denylist of revoked access-token ids: a chained hash table under a
 * reader/writer lock. contains() (the /verify hot path) takes the read lock only.
 *
 * Hash flooding: buckets are chosen by FNV-1a started from a per-table random 64-bit seed
 * and finished with a 64-bit avalanche mix, so an attacker cannot precompute colliding
 * jtis. (The jtis come from tokens this server signed, so this is defence in depth.)
 *
 * Clock: jotd_denylist_add() receives no time, so the table keeps the latest `now` it has
 * been given by contains() or purge() and purges with that when it has to grow. That clock
 * never runs ahead of the caller's, so an entry is never dropped before its exp.
 *
 * Memory: at most DENY_MAX_ENTRIES entries of at most DENY_MAX_JTI bytes each; add()
 * returns -1 beyond that (after purging what has expired), and the caller refuses the
 * revocation (503) rather than report one that /verify would not see. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writers must not starve */
#endif
#include "denylist.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DENY_MAX_JTI 256u
#define DENY_MAX_ENTRIES JOTD_DENYLIST_MAX
#define DENY_MIN_BUCKETS 64u

typedef struct deny_entry {
    struct deny_entry *next;
    uint64_t hash;
    int64_t exp;
    size_t len;
    char jti[]; /* len bytes, not NUL-terminated */
} deny_entry_t;

struct jotd_denylist {
    pthread_rwlock_t lock;
    deny_entry_t **buckets; /* n_buckets, a power of two */
    size_t n_buckets;
    _Atomic size_t count; /* written under the write lock; read without it (contains) */
    uint64_t seed;
    _Atomic int64_t clock;    /* the latest `now` seen */
    int64_t full_purge_clock; /* clock of the last purge forced by a full table */
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_jti(uint64_t seed, const char *jti, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)jti[i];
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ seed ^ (uint64_t)len);
}

static void clock_advance(jotd_denylist_t *d, int64_t now)
{
    int64_t seen = atomic_load_explicit(&d->clock, memory_order_relaxed);
    while (now > seen && !atomic_compare_exchange_weak_explicit(
                             &d->clock, &seen, now, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* A reader/writer lock that lets a waiting writer in ahead of new readers: /verify reads
 * constantly, and a revocation must not wait for a gap between readers. */
static int rwlock_init(pthread_rwlock_t *lock)
{
    pthread_rwlockattr_t attr;
    int rc;

    if (pthread_rwlockattr_init(&attr) != 0)
        return -1;
#if defined(__GLIBC__)
    (void)pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    rc = pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return rc;
}

jotd_denylist_t *jotd_denylist_new(void)
{
    jotd_denylist_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->n_buckets = DENY_MIN_BUCKETS;
    d->buckets = calloc(d->n_buckets, sizeof(*d->buckets));
    if (!d->buckets || RAND_bytes((unsigned char *)&d->seed, (int)sizeof(d->seed)) != 1 ||
        rwlock_init(&d->lock) != 0) {
        free(d->buckets);
        free(d);
        return NULL;
    }
    atomic_init(&d->clock, INT64_MIN);
    d->full_purge_clock = INT64_MIN;
    return d;
}

void jotd_denylist_free(jotd_denylist_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_buckets; i++) {
        deny_entry_t *e = d->buckets[i];
        while (e) {
            deny_entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(d->buckets);
    pthread_rwlock_destroy(&d->lock);
    free(d);
}

/* Drop entries with exp <= now. Caller holds the write lock. */
static void purge_locked(jotd_denylist_t *d, int64_t now)
{
    for (size_t i = 0; i < d->n_buckets; i++) {
        deny_entry_t **pp = &d->buckets[i];
        while (*pp) {
            deny_entry_t *e = *pp;
            if (e->exp <= now) {
                *pp = e->next;
                free(e);
                d->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

/* Double the bucket array. Caller holds the write lock. Returns 0 or -1 (no memory; the
 * table stays as it was and remains usable). */
static int grow_locked(jotd_denylist_t *d)
{
    size_t n = d->n_buckets * 2;
    deny_entry_t **nb;

    if (n > SIZE_MAX / sizeof(*nb))
        return -1;
    nb = calloc(n, sizeof(*nb));
    if (!nb)
        return -1;
    for (size_t i = 0; i < d->n_buckets; i++) {
        deny_entry_t *e = d->buckets[i];
        while (e) {
            deny_entry_t *next = e->next;
            size_t b = (size_t)(e->hash & (n - 1));
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(d->buckets);
    d->buckets = nb;
    d->n_buckets = n;
    return 0;
}

static deny_entry_t *find_locked(const jotd_denylist_t *d, uint64_t h, const char *jti, size_t len)
{
    for (deny_entry_t *e = d->buckets[h & (d->n_buckets - 1)]; e; e = e->next) {
        if (e->hash == h && e->len == len && memcmp(e->jti, jti, len) == 0)
            return e;
    }
    return NULL;
}

int jotd_denylist_add(jotd_denylist_t *d, const char *jti, size_t jti_len, int64_t exp)
{
    deny_entry_t *e;
    uint64_t h;
    int rc = 0;

    if (!d || !jti || jti_len == 0 || jti_len > DENY_MAX_JTI)
        return -1;
    h = hash_jti(d->seed, jti, jti_len);
    pthread_rwlock_wrlock(&d->lock);
    e = find_locked(d, h, jti, jti_len);
    if (e) {
        if (exp > e->exp)
            e->exp = exp;
        goto out;
    }
    rc = 1;
    if (d->count >= DENY_MAX_ENTRIES) {
        /* Full: purge, but at most once per clock tick, so that a flood of adds to a full
         * table costs O(1) each rather than a scan of a million entries. */
        int64_t now = atomic_load_explicit(&d->clock, memory_order_relaxed);
        if (now != d->full_purge_clock) {
            d->full_purge_clock = now;
            purge_locked(d, now);
        }
        if (d->count >= DENY_MAX_ENTRIES) {
            rc = -1;
            goto out;
        }
    }
    if (d->count + 1 > d->n_buckets / 4 * 3) {
        /* Load factor 3/4: first drop what has expired; grow unless that brought the load
         * under 1/2 (so the next scan is at least n_buckets/4 additions away). A failed grow
         * only lengthens the chains; the entry still goes in. */
        purge_locked(d, atomic_load_explicit(&d->clock, memory_order_relaxed));
        if (d->count + 1 > d->n_buckets / 2)
            (void)grow_locked(d);
    }
    e = malloc(sizeof(*e) + jti_len);
    if (!e) {
        rc = -1;
        goto out;
    }
    e->hash = h;
    e->exp = exp;
    e->len = jti_len;
    memcpy(e->jti, jti, jti_len);
    e->next = d->buckets[h & (d->n_buckets - 1)];
    d->buckets[h & (d->n_buckets - 1)] = e;
    d->count++;
out:
    pthread_rwlock_unlock(&d->lock);
    return rc;
}

void jotd_denylist_remove(jotd_denylist_t *d, const char *jti, size_t jti_len)
{
    if (!d || !jti || jti_len == 0 || jti_len > DENY_MAX_JTI)
        return;
    uint64_t h = hash_jti(d->seed, jti, jti_len);
    pthread_rwlock_wrlock(&d->lock);
    for (deny_entry_t **pp = &d->buckets[h & (d->n_buckets - 1)]; *pp; pp = &(*pp)->next) {
        deny_entry_t *e = *pp;
        if (e->hash == h && e->len == jti_len && memcmp(e->jti, jti, jti_len) == 0) {
            *pp = e->next;
            free(e);
            d->count--;
            break;
        }
    }
    pthread_rwlock_unlock(&d->lock);
}

bool jotd_denylist_contains(jotd_denylist_t *d, const char *jti, size_t jti_len, int64_t now)
{
    const deny_entry_t *e;
    uint64_t h;
    bool listed;

    if (!d || !jti || jti_len == 0 || jti_len > DENY_MAX_JTI)
        return false;
    clock_advance(d, now);
    /* the common case on /verify: nothing listed at all, no hash and no lock */
    if (atomic_load_explicit(&d->count, memory_order_acquire) == 0)
        return false;
    h = hash_jti(d->seed, jti, jti_len);
    pthread_rwlock_rdlock(&d->lock);
    e = find_locked(d, h, jti, jti_len);
    listed = e && e->exp > now;
    pthread_rwlock_unlock(&d->lock);
    return listed;
}

size_t jotd_denylist_count(jotd_denylist_t *d)
{
    return d ? atomic_load_explicit(&d->count, memory_order_relaxed) : 0;
}

size_t jotd_denylist_purge(jotd_denylist_t *d, int64_t now)
{
    size_t left;

    if (!d)
        return 0;
    clock_advance(d, now);
    pthread_rwlock_wrlock(&d->lock);
    purge_locked(d, now);
    left = d->count;
    pthread_rwlock_unlock(&d->lock);
    return left;
}
