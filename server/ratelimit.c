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
 * is always the caller's `now`.
 *
 * The arithmetic of a failure is jotd_throttle_account_step / jotd_throttle_ip_step, over a
 * jotd_throttle_state_t: the local entries hold one, and with a store attached the same
 * functions run inside the store's transaction on the stored row (ratelimit.h). The store
 * key of a counter is jotd_store_throttle_key(scope, "account" or "ip", name), where the
 * name is what the local table keys by (an account truncated to KEY_MAX bytes, an address
 * after ip_key). The store's answers are mirrored into the local entries (mirror); the
 * local table is the whole truth only while the store fails (store_failed). */
#include "ratelimit.h"

#include "log.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
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
#define COUNT_MAX UINT32_MAX /* failures and violations saturate here */
#define STORE_RETRY_S 5      /* after a store error, the local table alone for this long */
#define STORE_LOG_S 60       /* at most one log line about store errors per this long */
#define SCOPE_MAX 16

enum { KIND_ACCOUNT = 1, KIND_IP = 2 };

typedef struct tentry {
    struct tentry *hnext;       /* hash chain */
    struct tentry *prev, *next; /* LRU list: head is the most recently used */
    uint64_t hash;
    jotd_throttle_state_t s; /* failures, violations, win_start, lock_until (store.h) */
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
    jotd_store_t *store; /* NULL: local only; set once before use */
    char scope[SCOPE_MAX];
    _Atomic int64_t store_down_until; /* the local table alone while now < this */
    _Atomic int64_t store_logged_at;  /* when a store error was last logged */
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
        if (e->s.lock_until <= now) {
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
    if (e->s.lock_until <= now)
        return 0;
    w = e->s.lock_until - now;
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

int64_t jotd_throttle_check_local(jotd_throttle_t *t, const char *account, const char *ip,
                                  int64_t now)
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
static int64_t backoff(int64_t shift)
{
    int64_t s;

    if (shift >= 12)
        return LOCK_CAP;
    s = (int64_t)1 << shift;
    return s > LOCK_CAP ? LOCK_CAP : s;
}

/* IP lock after \p violations (>= 1): IP_WINDOW * 2^(violations - 1) s, capped at LOCK_CAP. */
static int64_t ip_lock(int64_t violations)
{
    int64_t s;

    if (violations >= 8)
        return LOCK_CAP;
    s = (int64_t)IP_WINDOW << (violations - 1);
    return s > LOCK_CAP ? LOCK_CAP : s;
}

/* A count read from a store row: anything outside [0, COUNT_MAX] is clamped. */
static int64_t count_of(int64_t v)
{
    return v < 0 ? 0 : v > (int64_t)COUNT_MAX ? (int64_t)COUNT_MAX : v;
}

void jotd_throttle_account_step(jotd_throttle_state_t *s, unsigned account_max, int64_t now)
{
    if (account_max == 0)
        return;
    s->failures = count_of(s->failures);
    if (s->failures < (int64_t)COUNT_MAX)
        s->failures++;
    if (s->failures >= (int64_t)account_max)
        s->lock_until = sat_add(now, backoff(s->failures - (int64_t)account_max));
}

void jotd_throttle_ip_step(jotd_throttle_state_t *s, unsigned ip_per_minute, int64_t now)
{
    if (ip_per_minute == 0)
        return;
    s->failures = count_of(s->failures);
    s->violations = count_of(s->violations);
    if (s->failures == 0 || now >= sat_add(s->win_start, IP_WINDOW) || now < s->win_start) {
        s->win_start = now;
        s->failures = 0;
    }
    if (s->failures < (int64_t)COUNT_MAX)
        s->failures++;
    if (s->failures == (int64_t)ip_per_minute) {
        if (s->violations > 0 && now >= sat_add(s->lock_until, FORGIVE))
            s->violations = 0;
        if (s->violations < (int64_t)COUNT_MAX)
            s->violations++;
        /* 60 s, 120 s, 240 s ... from the start of the window, at most an hour. */
        s->lock_until = sat_add(s->win_start, ip_lock(s->violations));
    }
}

/* The local failure: both steps on the local entries (the store is not attached, or
 * failing). \p ip is already an ip_key. */
static void failure_local(jotd_throttle_t *t, const char *account, const char *ip, int64_t now)
{
    tentry_t *e;

    pthread_mutex_lock(&t->mu);
    if (account && t->account_max > 0 && (e = get(t, KIND_ACCOUNT, account, now)))
        jotd_throttle_account_step(&e->s, t->account_max, now);
    if (ip && t->ip_per_minute > 0 && (e = get(t, KIND_IP, ip, now)))
        jotd_throttle_ip_step(&e->s, t->ip_per_minute, now);
    pthread_mutex_unlock(&t->mu);
}

/* ---- the store ----------------------------------------------------------------------------- */

void jotd_throttle_set_store(jotd_throttle_t *t, jotd_store_t *store, const char *scope)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->store = store;
    snprintf(t->scope, sizeof t->scope, "%s", scope ? scope : "");
    pthread_mutex_unlock(&t->mu);
}

/* The store, or NULL when none is attached or it failed less than STORE_RETRY_S ago. */
static jotd_store_t *store_of(jotd_throttle_t *t, int64_t now)
{
    if (!t->store || now < atomic_load(&t->store_down_until))
        return NULL;
    return t->store;
}

/* A store call failed: the local table alone for a while, and a log line at most once per
 * STORE_LOG_S (one thread wins the exchange). */
static void store_failed(jotd_throttle_t *t, const char *what, int64_t now)
{
    int64_t last = atomic_load(&t->store_logged_at);

    atomic_store(&t->store_down_until, sat_add(now, STORE_RETRY_S));
    if ((last == 0 || now >= sat_add(last, STORE_LOG_S) || now < last) &&
        atomic_compare_exchange_strong(&t->store_logged_at, &last, now))
        jotd_log("error", "%s throttle: store %s failed, counting in this process alone: %s",
                 t->scope, what, jotd_store_errmsg(t->store));
}

/* The store key of (kind, name) into \p out; false when it cannot be made (out of memory). */
static bool store_key(jotd_throttle_t *t, unsigned char kind, const char *name,
                      char out[JOTD_THROTTLE_KEY_LEN + 1])
{
    return jotd_store_throttle_key(t->scope, kind == KIND_ACCOUNT ? "account" : "ip", name,
                                   key_len(name), out) == JOTD_OK;
}

/* Copy \p st, as the store holds it, into the local entry of (kind, name). A lock that
 * would run longer than LOCK_CAP from now (another instance's clock far ahead, a row
 * written by hand) is mirrored as LOCK_CAP. */
static void mirror(jotd_throttle_t *t, unsigned char kind, const char *name,
                   const jotd_throttle_state_t *st, int64_t now)
{
    tentry_t *e;

    pthread_mutex_lock(&t->mu);
    if ((e = get(t, kind, name, now))) {
        e->s = *st;
        if (e->s.lock_until > sat_add(now, LOCK_CAP))
            e->s.lock_until = sat_add(now, LOCK_CAP);
    }
    pthread_mutex_unlock(&t->mu);
}

/* The wait the store's row of (kind, name) imposes, mirrored locally; 0 when there is no
 * row. *out_ok false when the store failed. */
static int64_t store_wait(jotd_throttle_t *t, jotd_store_t *st, unsigned char kind,
                          const char *name, int64_t now, bool *out_ok)
{
    char key[JOTD_THROTTLE_KEY_LEN + 1];
    jotd_throttle_state_t v;
    jotd_rc_t rc;

    *out_ok = true;
    if (!store_key(t, kind, name, key))
        return 0; /* out of memory: the local answer stands */
    rc = jotd_store_throttle_get(st, key, &v);
    if (rc == JOTD_E_NOTFOUND)
        return 0;
    if (rc != JOTD_OK) {
        *out_ok = false;
        return 0;
    }
    mirror(t, kind, name, &v, now);
    if (v.lock_until <= now)
        return 0;
    return v.lock_until - now > LOCK_CAP ? LOCK_CAP : v.lock_until - now;
}

int64_t jotd_throttle_check(jotd_throttle_t *t, const char *account, const char *ip, int64_t now)
{
    int64_t wait, w;
    unsigned account_max, ip_per_minute;
    char keybuf[INET6_ADDRSTRLEN + 4];
    jotd_store_t *st;
    bool ok = true;

    wait = jotd_throttle_check_local(t, account, ip, now);
    if (wait > 0 || !t || !(st = store_of(t, now)))
        return wait;
    pthread_mutex_lock(&t->mu);
    account_max = t->account_max;
    ip_per_minute = t->ip_per_minute;
    pthread_mutex_unlock(&t->mu);
    if (account && account_max > 0)
        wait = store_wait(t, st, KIND_ACCOUNT, account, now, &ok);
    if (ok && ip && ip_per_minute > 0) {
        w = store_wait(t, st, KIND_IP, ip_key(ip, keybuf, sizeof keybuf), now, &ok);
        if (w > wait)
            wait = w;
    }
    if (!ok)
        store_failed(t, "read", now);
    return wait;
}

struct step_ctx {
    unsigned limit;
};

static void account_cb(void *ctx, jotd_throttle_state_t *s, int64_t now)
{
    jotd_throttle_account_step(s, ((struct step_ctx *)ctx)->limit, now);
}

static void ip_cb(void *ctx, jotd_throttle_state_t *s, int64_t now)
{
    jotd_throttle_ip_step(s, ((struct step_ctx *)ctx)->limit, now);
}

/* One failure of (kind, name) in the store, mirrored; false when the store failed. */
static bool store_failure(jotd_throttle_t *t, jotd_store_t *st, unsigned char kind,
                          const char *name, unsigned limit, int64_t now)
{
    char key[JOTD_THROTTLE_KEY_LEN + 1];
    struct step_ctx x = {.limit = limit};
    jotd_throttle_state_t v;

    if (!store_key(t, kind, name, key) ||
        jotd_store_throttle_update(st, key, now, kind == KIND_ACCOUNT ? account_cb : ip_cb, &x,
                                   &v) != JOTD_OK)
        return false;
    mirror(t, kind, name, &v, now);
    return true;
}

void jotd_throttle_failure(jotd_throttle_t *t, const char *account, const char *ip, int64_t now)
{
    char keybuf[INET6_ADDRSTRLEN + 4];
    unsigned account_max, ip_per_minute;
    jotd_store_t *st;

    if (!t)
        return;
    if (ip)
        ip = ip_key(ip, keybuf, sizeof keybuf);
    if (!(st = store_of(t, now))) {
        failure_local(t, account, ip, now);
        return;
    }
    pthread_mutex_lock(&t->mu);
    account_max = t->account_max;
    ip_per_minute = t->ip_per_minute;
    pthread_mutex_unlock(&t->mu);
    /* each counter on its own: a failed store update counts that one locally */
    if (account && account_max > 0 &&
        !store_failure(t, st, KIND_ACCOUNT, account, account_max, now)) {
        store_failed(t, "update", now);
        failure_local(t, account, NULL, now);
    }
    if (ip && ip_per_minute > 0 && !store_failure(t, st, KIND_IP, ip, ip_per_minute, now)) {
        store_failed(t, "update", now);
        failure_local(t, NULL, ip, now);
    }
}

/* Remove the local entry of \p account; true when there was one. */
static bool local_remove(jotd_throttle_t *t, const char *account)
{
    size_t len;
    tentry_t *e;

    if (!t || !account)
        return false;
    len = key_len(account);
    pthread_mutex_lock(&t->mu);
    e = find(t, KIND_ACCOUNT, account, len, hash_key(t->seed, KIND_ACCOUNT, account, len));
    if (e)
        remove_entry(t, e);
    pthread_mutex_unlock(&t->mu);
    return e != NULL;
}

void jotd_throttle_success_local(jotd_throttle_t *t, const char *account, int64_t now)
{
    (void)now;
    (void)local_remove(t, account);
}

void jotd_throttle_success(jotd_throttle_t *t, const char *account, int64_t now)
{
    char key[JOTD_THROTTLE_KEY_LEN + 1];
    jotd_store_t *st;

    /* Only an account with failures has a row to delete. The store-backed check before
     * mirrored any row it found into the local table, so no local entry means no row: a
     * success then writes nothing (a write would wait for the database's write lock, which
     * reads such as /introspect must never do). */
    if (!local_remove(t, account) || !(st = store_of(t, now)) ||
        !store_key(t, KIND_ACCOUNT, account, key))
        return;
    if (jotd_store_throttle_clear(st, key) != JOTD_OK)
        store_failed(t, "clear", now);
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
