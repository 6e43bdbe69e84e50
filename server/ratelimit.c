/* Login throttling (see ratelimit.h): one table of entries keyed by (kind, name), where the
 * kind is an account or a client IP, behind one mutex. Entries live in a chained hash table
 * (seeded hash, so names cannot be chosen to collide) and on an LRU list; when the table is
 * full, the least recently used entry that is not locked right now is evicted (looking at
 * the EVICT_SCAN oldest), or else the least recently used one.
 *
 * Account: `failures` consecutive failures; from account_max on, each failure locks the
 * account for 2^(failures - account_max) s from that failure (capped at LOCK_CAP). A
 * success deletes the entry.
 *
 * IP: failures are counted in a window that opens at the first failure and lasts
 * IP_WINDOW s. The failure that brings the count to ip_per_minute is a violation: the IP
 * is locked until IP_WINDOW * 2^(violations - 1) s after the window opened (so the first
 * lock ends with the window), capped at LOCK_CAP. The violation count is forgiven when a
 * new violation comes more than FORGIVE s after the previous lock ended.
 *
 * IP keys are normalised first (ip_key): an IPv6 client is counted by its /64, since one
 * host usually holds a whole /64 and could otherwise step through 2^64 addresses; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d, from a dual-stack socket or a proxy header)
 * counts as the IPv4 address; an IPv4 address as itself.
 *
 * A limit of 0 (account_max or ip_per_minute) turns that kind of throttling off. The clock
 * is always the caller's `now`. */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_CAP 3600 /* longest lock, seconds */
#define IP_WINDOW 60  /* seconds */
#define FORGIVE 3600  /* quiet seconds after a lock that reset the IP's violations */
#define KEY_MAX 1024  /* longer names are truncated (only ever makes throttling stricter) */
#define EVICT_SCAN 16 /* LRU entries examined for an unlocked one to evict */
#define MAX_BUCKETS (1u << 22)

enum { KIND_ACCOUNT = 1, KIND_IP = 2 };

typedef struct tentry {
    struct tentry *hnext;       /* hash chain */
    struct tentry *prev, *next; /* LRU list: head is the most recently used */
    uint64_t hash;
    int64_t lock_until;  /* locked while now < lock_until */
    int64_t win_start;   /* IP: start of the current window */
    uint32_t failures;   /* account: consecutive failures; IP: failures in the window */
    uint32_t violations; /* IP: windows in which the limit was exceeded */
    unsigned char kind;
    size_t len;
    char key[]; /* len bytes */
} tentry_t;

struct jotd_throttle {
    pthread_mutex_t mu;
    unsigned account_max, ip_per_minute;
    size_t max_entries, count;
    tentry_t **buckets;
    size_t n_buckets; /* a power of two */
    tentry_t *head, *tail;
    uint64_t seed;
};

static uint64_t hash_key(uint64_t seed, unsigned char kind, const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    h ^= kind;
    h *= 0x100000001b3ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= seed ^ (uint64_t)len;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

jotd_throttle_t *jotd_throttle_new(unsigned account_max, unsigned ip_per_minute, size_t max_entries)
{
    jotd_throttle_t *t;
    size_t nb = 16;

    if (max_entries == 0)
        return NULL;
    while (nb < max_entries && nb < MAX_BUCKETS)
        nb *= 2;
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->buckets || RAND_bytes((unsigned char *)&t->seed, (int)sizeof(t->seed)) != 1 ||
        pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->buckets);
        free(t);
        return NULL;
    }
    t->n_buckets = nb;
    t->account_max = account_max;
    t->ip_per_minute = ip_per_minute;
    t->max_entries = max_entries;
    return t;
}

void jotd_throttle_free(jotd_throttle_t *t)
{
    if (!t)
        return;
    for (tentry_t *e = t->head; e;) {
        tentry_t *next = e->next;
        free(e);
        e = next;
    }
    free(t->buckets);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static void lru_unlink(jotd_throttle_t *t, tentry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(jotd_throttle_t *t, tentry_t *e)
{
    e->prev = NULL;
    e->next = t->head;
    if (t->head)
        t->head->prev = e;
    t->head = e;
    if (!t->tail)
        t->tail = e;
}

static void touch(jotd_throttle_t *t, tentry_t *e)
{
    if (t->head != e) {
        lru_unlink(t, e);
        lru_push_front(t, e);
    }
}

static void remove_entry(jotd_throttle_t *t, tentry_t *e)
{
    tentry_t **pp = &t->buckets[e->hash & (t->n_buckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(t, e);
    free(e);
    t->count--;
}

static size_t key_len(const char *key)
{
    return strnlen(key, KEY_MAX);
}

static tentry_t *find(jotd_throttle_t *t, unsigned char kind, const char *key, size_t len,
                      uint64_t h)
{
    for (tentry_t *e = t->buckets[h & (t->n_buckets - 1)]; e; e = e->hnext) {
        if (e->hash == h && e->kind == kind && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

static void evict_one(jotd_throttle_t *t, int64_t now)
{
    tentry_t *victim = t->tail;
    size_t n = 0;

    for (tentry_t *e = t->tail; e && n < EVICT_SCAN; e = e->prev, n++) {
        if (e->lock_until <= now) {
            victim = e;
            break;
        }
    }
    if (victim)
        remove_entry(t, victim);
}

/* The entry for (kind, key), created (zeroed) when missing; NULL when out of memory. */
static tentry_t *get(jotd_throttle_t *t, unsigned char kind, const char *key, int64_t now)
{
    size_t len = key_len(key);
    uint64_t h = hash_key(t->seed, kind, key, len);
    tentry_t *e = find(t, kind, key, len, h);
    size_t b;

    if (e) {
        touch(t, e);
        return e;
    }
    while (t->count >= t->max_entries && t->tail)
        evict_one(t, now);
    e = calloc(1, sizeof(*e) + len);
    if (!e)
        return NULL;
    e->hash = h;
    e->kind = kind;
    e->len = len;
    memcpy(e->key, key, len);
    b = (size_t)(h & (t->n_buckets - 1));
    e->hnext = t->buckets[b];
    t->buckets[b] = e;
    lru_push_front(t, e);
    t->count++;
    return e;
}

static int64_t wait_for(jotd_throttle_t *t, unsigned char kind, const char *key, int64_t now)
{
    size_t len = key_len(key);
    tentry_t *e = find(t, kind, key, len, hash_key(t->seed, kind, key, len));
    int64_t w;

    if (!e)
        return 0;
    touch(t, e);
    if (e->lock_until <= now)
        return 0;
    w = e->lock_until - now;
    return w > LOCK_CAP ? LOCK_CAP : w; /* only if the clock went backwards */
}

/* The throttle key of a client address (see the top of the file) into \p out; text that is
 * no address ("?") is kept as it is. */
static const char *ip_key(const char *ip, char *out, size_t size)
{
    struct in6_addr a6;
    char text[INET6_ADDRSTRLEN];
    if (!strchr(ip, ':') || inet_pton(AF_INET6, ip, &a6) != 1)
        return ip;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        if (!inet_ntop(AF_INET, &a6.s6_addr[12], out, (socklen_t)size))
            return ip;
        return out;
    }
    memset(&a6.s6_addr[8], 0, 8);
    if (!inet_ntop(AF_INET6, &a6, text, sizeof text))
        return ip;
    snprintf(out, size, "%s/64", text);
    return out;
}

int64_t jotd_throttle_check(jotd_throttle_t *t, const char *account, const char *ip, int64_t now)
{
    int64_t wait = 0, w;
    char keybuf[INET6_ADDRSTRLEN + 4];

    if (!t)
        return 0;
    if (ip)
        ip = ip_key(ip, keybuf, sizeof keybuf);
    pthread_mutex_lock(&t->mu);
    if (account && t->account_max > 0)
        wait = wait_for(t, KIND_ACCOUNT, account, now);
    if (ip && t->ip_per_minute > 0) {
        w = wait_for(t, KIND_IP, ip, now);
        if (w > wait)
            wait = w;
    }
    pthread_mutex_unlock(&t->mu);
    return wait;
}

/* 2^shift seconds, capped at LOCK_CAP. */
static int64_t backoff(uint32_t shift)
{
    int64_t s;

    if (shift >= 12)
        return LOCK_CAP;
    s = (int64_t)1 << shift;
    return s > LOCK_CAP ? LOCK_CAP : s;
}

/* IP lock after \p violations: IP_WINDOW * 2^(violations - 1) s, capped at LOCK_CAP. */
static int64_t ip_lock(uint32_t violations)
{
    int64_t s;

    if (violations >= 8)
        return LOCK_CAP;
    s = (int64_t)IP_WINDOW << (violations - 1);
    return s > LOCK_CAP ? LOCK_CAP : s;
}

void jotd_throttle_failure(jotd_throttle_t *t, const char *account, const char *ip, int64_t now)
{
    tentry_t *e;
    char keybuf[INET6_ADDRSTRLEN + 4];

    if (!t)
        return;
    if (ip)
        ip = ip_key(ip, keybuf, sizeof keybuf);
    pthread_mutex_lock(&t->mu);
    if (account && t->account_max > 0 && (e = get(t, KIND_ACCOUNT, account, now))) {
        if (e->failures < UINT32_MAX)
            e->failures++;
        if (e->failures >= t->account_max)
            e->lock_until = sat_add(now, backoff(e->failures - t->account_max));
    }
    if (ip && t->ip_per_minute > 0 && (e = get(t, KIND_IP, ip, now))) {
        if (e->failures == 0 || now >= sat_add(e->win_start, IP_WINDOW) || now < e->win_start) {
            e->win_start = now;
            e->failures = 0;
        }
        if (e->failures < UINT32_MAX)
            e->failures++;
        if (e->failures == (uint64_t)t->ip_per_minute) {
            if (e->violations > 0 && now >= sat_add(e->lock_until, FORGIVE))
                e->violations = 0;
            if (e->violations < UINT32_MAX)
                e->violations++;
            /* 60 s, 120 s, 240 s ... from the start of the window, at most an hour. */
            e->lock_until = sat_add(e->win_start, ip_lock(e->violations));
        }
    }
    pthread_mutex_unlock(&t->mu);
}

void jotd_throttle_success(jotd_throttle_t *t, const char *account, int64_t now)
{
    size_t len;
    tentry_t *e;

    (void)now;
    if (!t || !account)
        return;
    len = key_len(account);
    pthread_mutex_lock(&t->mu);
    e = find(t, KIND_ACCOUNT, account, len, hash_key(t->seed, KIND_ACCOUNT, account, len));
    if (e)
        remove_entry(t, e);
    pthread_mutex_unlock(&t->mu);
}

void jotd_throttle_set_limits(jotd_throttle_t *t, unsigned account_max, unsigned ip_per_minute)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->account_max = account_max;
    t->ip_per_minute = ip_per_minute;
    pthread_mutex_unlock(&t->mu);
}
