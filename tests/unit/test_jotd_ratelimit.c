/* Unit tests for server/ratelimit.c: per-account and per-IP login throttling. The clock is
 * always passed in, so every case is deterministic.
 *
 * The behaviour tests run twice: in memory, and with every throttle attached to one SQLite
 * store under a scope of its own (new_throttle, through the jotd_throttle_new macro below):
 * the rules are the same whether the counters live here or in the store. The tests of the
 * store-backed throttle proper (shared counters, the local pre-filter, the fallback when
 * the store fails) and of the step functions are at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include <pthread.h>

#include "ratelimit.h"

#include <sqlite3.h>
#include <unistd.h>

/* ---- the store-backed group ---------------------------------------------------------------- */

typedef struct store_fx {
    char dir[64];
    char path[96];
    jotd_store_t *st;
} store_fx_t;

static store_fx_t *g_fx; /* set: every throttle of the behaviour tests uses its store */
static unsigned g_scopes;

static store_fx_t *store_fx_new(void)
{
    store_fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    snprintf(f->dir, sizeof f->dir, "/tmp/jot-ratelimit-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s/jotd.db", f->dir);
    if (jotd_store_open(f->path, &f->st) != JOTD_OK) {
        fprintf(stderr, "open %s: %s\n", f->path, jotd_store_errmsg(NULL));
        rmdir(f->dir);
        free(f);
        return NULL;
    }
    /* thousands of failures: no fsync each */
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);
    return f;
}

static void store_fx_free(store_fx_t *f)
{
    char p[128];
    if (!f)
        return;
    jotd_store_close(f->st);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
}

static int group_store_setup(void **state)
{
    (void)state;
    g_fx = store_fx_new();
    return g_fx ? 0 : -1;
}

static int group_store_teardown(void **state)
{
    (void)state;
    store_fx_free(g_fx);
    g_fx = NULL;
    return 0;
}

/* jotd_throttle_new, attached to the group's store (if any) under a scope of its own, so
 * that the tests do not see each other's rows. */
static jotd_throttle_t *new_throttle(unsigned account_max, unsigned ip_per_minute,
                                     size_t max_entries)
{
    jotd_throttle_t *t = (jotd_throttle_new)(account_max, ip_per_minute, max_entries);
    char scope[16];
    if (t && g_fx) {
        snprintf(scope, sizeof scope, "t%u", g_scopes++);
        jotd_throttle_set_store(t, g_fx->st, scope);
    }
    return t;
}
#define jotd_throttle_new(a, i, m) new_throttle((a), (i), (m))

static const char *show(const char *s)
{
    return s ? s : "NULL";
}

#define assert_wait(t, acct, ip, now, want)                                                        \
    do {                                                                                           \
        int64_t got_ = jotd_throttle_check((t), (acct), (ip), (now));                              \
        if (got_ != (int64_t)(want))                                                               \
            fail_msg("check(%s, %s, %lld) = %lld, want %lld", show(acct), show(ip),                \
                     (long long)(now), (long long)got_, (long long)(want));                        \
    } while (0)

static void fail_n(jotd_throttle_t *t, const char *acct, const char *ip, int64_t now, int n)
{
    for (int i = 0; i < n; i++)
        jotd_throttle_failure(t, acct, ip, now);
}

static void test_account_lockout(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 20, 1000);
    (void)state;

    assert_non_null(t);
    assert_wait(t, "alice", "10.0.0.1", 100, 0);
    fail_n(t, "alice", "10.0.0.1", 100, 4);
    assert_wait(t, "alice", "10.0.0.1", 100, 0);
    /* Fifth consecutive failure: locked for 2^0 = 1 s from that failure. */
    jotd_throttle_failure(t, "alice", "10.0.0.2", 100);
    assert_wait(t, "alice", "10.0.0.9", 100, 1);
    assert_wait(t, "alice", NULL, 100, 1);
    assert_wait(t, "alice", NULL, 101, 0);
    /* Other accounts are not affected. */
    assert_wait(t, "bob", "10.0.0.1", 100, 0);
    /* Sixth: 2 s, seventh: 4 s, counted from the last failure. */
    jotd_throttle_failure(t, "alice", "10.0.0.3", 101);
    assert_wait(t, "alice", NULL, 101, 2);
    assert_wait(t, "alice", NULL, 102, 1);
    assert_wait(t, "alice", NULL, 103, 0);
    jotd_throttle_failure(t, "alice", "10.0.0.4", 110);
    assert_wait(t, "alice", NULL, 110, 4);
    assert_wait(t, "alice", NULL, 113, 1);
    assert_wait(t, "alice", NULL, 114, 0);
    /* A success resets the count: the next failure does not lock. */
    jotd_throttle_success(t, "alice", 120);
    assert_wait(t, "alice", NULL, 120, 0);
    fail_n(t, "alice", "10.0.0.5", 121, 4);
    assert_wait(t, "alice", NULL, 121, 0);
    jotd_throttle_failure(t, "alice", "10.0.0.5", 122);
    assert_wait(t, "alice", NULL, 122, 1);
    jotd_throttle_free(t);
    jotd_throttle_free(NULL);
}

static void test_account_cap(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 0, 1000); /* IP limit off */
    (void)state;

    fail_n(t, "carol", "10.0.0.1", 1000, 5 + 11);
    assert_wait(t, "carol", NULL, 1000, 2048);
    jotd_throttle_failure(t, "carol", "10.0.0.1", 1000);
    assert_wait(t, "carol", NULL, 1000, 3600); /* 4096 capped at an hour */
    fail_n(t, "carol", "10.0.0.1", 1000, 1000);
    assert_wait(t, "carol", NULL, 1000, 3600);
    assert_wait(t, "carol", NULL, 4599, 1);
    assert_wait(t, "carol", NULL, 4600, 0);
    jotd_throttle_free(t);
}

/* Names are compared exactly: case, prefixes and accounts vs IPs are distinct. */
static void test_names_distinct(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(1, 1, 1000);
    (void)state;

    jotd_throttle_failure(t, "dave", NULL, 10);
    assert_wait(t, "dave", NULL, 10, 1);
    assert_wait(t, "Dave", NULL, 10, 0);
    assert_wait(t, "dav", NULL, 10, 0);
    assert_wait(t, "davey", NULL, 10, 0);
    assert_wait(t, NULL, "dave", 10, 0); /* an IP named like the account */
    jotd_throttle_free(t);
}

static void test_ip_window(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 20, 1000);
    char acct[32];
    (void)state;

    /* 19 failures for different accounts within the minute: still allowed. */
    for (int i = 0; i < 19; i++) {
        snprintf(acct, sizeof(acct), "user%d", i);
        jotd_throttle_failure(t, acct, "192.0.2.7", 1000 + i);
    }
    assert_wait(t, NULL, "192.0.2.7", 1019, 0);
    assert_wait(t, "someone", "192.0.2.7", 1019, 0);
    /* The 20th within the minute locks the IP until the minute (from 1000) is over. */
    jotd_throttle_failure(t, "user99", "192.0.2.7", 1030);
    assert_wait(t, NULL, "192.0.2.7", 1030, 30);
    assert_wait(t, "someone", "192.0.2.7", 1030, 30);
    assert_wait(t, "someone", "192.0.2.8", 1030, 0); /* other IPs free */
    assert_wait(t, "someone", NULL, 1030, 0);
    assert_wait(t, NULL, "192.0.2.7", 1059, 1);
    /* Next minute: free again. */
    assert_wait(t, NULL, "192.0.2.7", 1060, 0);
    /* A success for an account does not unlock the IP. */
    fail_n(t, NULL, "192.0.2.9", 2000, 20);
    jotd_throttle_success(t, "user1", 2001);
    assert_wait(t, "user1", "192.0.2.9", 2001, 59);
    jotd_throttle_free(t);
}

/* IPv6 clients count by their /64; IPv4-mapped IPv6 counts as the IPv4 address. */
static void test_ip_networks(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 4, 1000);
    (void)state;

    /* four addresses of one /64: one client */
    jotd_throttle_failure(t, NULL, "2001:db8:1:2::1", 1000);
    jotd_throttle_failure(t, NULL, "2001:db8:1:2::2", 1000);
    jotd_throttle_failure(t, NULL, "2001:db8:1:2:ffff:ffff:ffff:ffff", 1000);
    assert_wait(t, NULL, "2001:db8:1:2::99", 1000, 0);
    jotd_throttle_failure(t, NULL, "2001:DB8:1:2:0:0:0:7", 1000);
    assert_wait(t, NULL, "2001:db8:1:2::1", 1000, 60);
    assert_wait(t, NULL, "2001:db8:1:2:abcd::", 1000, 60);
    /* the next /64 is another client */
    assert_wait(t, NULL, "2001:db8:1:3::1", 1000, 0);
    assert_wait(t, NULL, "2001:db8:1:1::1", 1000, 0);

    /* ::ffff:a.b.c.d and a.b.c.d are one client; IPv4 neighbours are not */
    jotd_throttle_failure(t, NULL, "::ffff:192.0.2.5", 2000);
    jotd_throttle_failure(t, NULL, "192.0.2.5", 2000);
    jotd_throttle_failure(t, NULL, "::FFFF:192.0.2.5", 2000);
    jotd_throttle_failure(t, NULL, "192.0.2.5", 2000);
    assert_wait(t, NULL, "192.0.2.5", 2000, 60);
    assert_wait(t, NULL, "::ffff:c000:205", 2000, 60);
    assert_wait(t, NULL, "192.0.2.4", 2000, 0);
    assert_wait(t, NULL, "192.0.2.6", 2000, 0);
    /* an IPv4-compatible or other IPv6 address is not the IPv4 one */
    assert_wait(t, NULL, "::192.0.2.5", 2000, 0);
    /* text that is no address is a key of its own */
    assert_wait(t, NULL, "?", 2000, 0);
    jotd_throttle_free(t);
}

static void test_ip_window_rolls(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 20, 1000);
    (void)state;

    /* 19 in one window and 19 in the next: never 20 within one window. */
    fail_n(t, NULL, "198.51.100.1", 0, 19);
    fail_n(t, NULL, "198.51.100.1", 60, 19);
    assert_wait(t, NULL, "198.51.100.1", 60, 0);
    fail_n(t, NULL, "198.51.100.1", 125, 19);
    assert_wait(t, NULL, "198.51.100.1", 125, 0);
    jotd_throttle_failure(t, NULL, "198.51.100.1", 184); /* 20th in [125, 185) */
    assert_wait(t, NULL, "198.51.100.1", 184, 1);
    assert_wait(t, NULL, "198.51.100.1", 185, 0);
    jotd_throttle_free(t);
}

static void test_ip_doubling(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 20, 1000);
    const char *ip = "203.0.113.5";
    int64_t now = 10000;
    (void)state;

    fail_n(t, NULL, ip, now, 20);
    assert_wait(t, NULL, ip, now, 60);
    /* Failures reported while locked do not escalate within the same window. */
    fail_n(t, NULL, ip, now + 10, 5);
    assert_wait(t, NULL, ip, now + 10, 50);

    /* Each further violation doubles: 120, 240, ... up to an hour. */
    int64_t want = 120;
    now += 60;
    for (int v = 2; v <= 9; v++) {
        assert_wait(t, NULL, ip, now, 0);
        fail_n(t, NULL, ip, now, 20);
        assert_wait(t, NULL, ip, now, want > 3600 ? 3600 : want);
        now += want > 3600 ? 3600 : want;
        want *= 2;
    }
    assert_wait(t, NULL, ip, now, 0);

    /* After an hour without violations, the next one starts over at the window. */
    now += 3600;
    fail_n(t, NULL, ip, now, 20);
    assert_wait(t, NULL, ip, now, 60);
    jotd_throttle_free(t);
}

/* A violation within an hour of the last lock keeps doubling. */
static void test_ip_no_early_forgiveness(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(5, 20, 1000);
    const char *ip = "203.0.113.6";
    (void)state;

    fail_n(t, NULL, ip, 0, 20);
    assert_wait(t, NULL, ip, 0, 60);
    fail_n(t, NULL, ip, 60 + 3599, 20);
    assert_wait(t, NULL, ip, 60 + 3599, 120);
    jotd_throttle_free(t);
}

static void test_null_args(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(2, 3, 1000);
    (void)state;

    /* NULL account: only the IP is counted and checked. */
    fail_n(t, NULL, "192.0.2.1", 50, 3);
    assert_wait(t, NULL, "192.0.2.1", 50, 60);
    /* NULL IP: only the account. */
    fail_n(t, "erin", NULL, 50, 2);
    assert_wait(t, "erin", NULL, 50, 1);
    assert_wait(t, "erin", "192.0.2.2", 50, 1);
    assert_wait(t, NULL, NULL, 50, 0);
    jotd_throttle_failure(t, NULL, NULL, 50);
    jotd_throttle_success(t, NULL, 50);
    jotd_throttle_success(t, "nobody", 50);
    /* A NULL table is harmless. */
    assert_int_equal(jotd_throttle_check(NULL, "a", "b", 50), 0);
    jotd_throttle_failure(NULL, "a", "b", 50);
    jotd_throttle_success(NULL, "a", 50);
    assert_null(jotd_throttle_new(5, 20, 0));
    jotd_throttle_free(t);
}

static void test_limits_off(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(0, 0, 10);
    (void)state;

    fail_n(t, "frank", "192.0.2.1", 50, 1000);
    assert_wait(t, "frank", "192.0.2.1", 50, 0);
    jotd_throttle_free(t);
}

/* Memory bound: at most max_entries names are remembered; the least recently used go. */
static void test_eviction(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(2, 0, 4);
    char acct[32];
    (void)state;

    /* One failure each for a0..a3: table full. */
    for (int i = 0; i < 4; i++) {
        snprintf(acct, sizeof(acct), "a%d", i);
        jotd_throttle_failure(t, acct, NULL, 10);
    }
    /* a0 is used again (most recent now); a1 is the least recently used. */
    assert_wait(t, "a0", NULL, 10, 0);
    jotd_throttle_failure(t, "a4", NULL, 10); /* evicts a1 */
    /* a1 forgot its failure: one more does not lock; a0, a2 remember theirs. */
    jotd_throttle_failure(t, "a1", NULL, 10); /* evicts a2 (LRU now) */
    assert_wait(t, "a1", NULL, 10, 0);
    jotd_throttle_failure(t, "a0", NULL, 10);
    assert_wait(t, "a0", NULL, 10, 1);
    jotd_throttle_free(t);

    /* Many names through a small table: only the last max_entries keep state. */
    t = jotd_throttle_new(2, 0, 100);
    for (int i = 0; i < 10000; i++) {
        snprintf(acct, sizeof(acct), "user-%d", i);
        jotd_throttle_failure(t, acct, NULL, 20);
    }
    for (int i = 9900; i < 10000; i++) {
        snprintf(acct, sizeof(acct), "user-%d", i);
        jotd_throttle_failure(t, acct, NULL, 20); /* second failure: locks */
        assert_wait(t, acct, NULL, 20, 1);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(acct, sizeof(acct), "user-%d", i);
        jotd_throttle_failure(t, acct, NULL, 20); /* forgotten: a first failure again */
        assert_wait(t, acct, NULL, 20, 0);
    }
    jotd_throttle_free(t);
}

/* A full table evicts an unlocked entry before a locked one. */
static void test_eviction_keeps_locked(void **state)
{
    jotd_throttle_t *t = jotd_throttle_new(2, 0, 8);
    char acct[32];
    (void)state;

    fail_n(t, "victim", NULL, 10, 2);
    assert_wait(t, "victim", NULL, 10, 1);
    for (int i = 0; i < 100; i++) {
        snprintf(acct, sizeof(acct), "flood-%d", i);
        jotd_throttle_failure(t, acct, NULL, 10);
    }
    assert_wait(t, "victim", NULL, 10, 1);
    jotd_throttle_free(t);
}

#define PER_THREAD 50000

typedef struct {
    jotd_throttle_t *t;
} thr_arg_t;

static void *hammer(void *p)
{
    thr_arg_t *a = p;
    for (int i = 0; i < PER_THREAD; i++) {
        jotd_throttle_failure(a->t, NULL, "192.0.2.200", 500);
        (void)jotd_throttle_check(a->t, "x", "192.0.2.200", 500);
    }
    return NULL;
}

/* 4 threads x PER_THREAD failures: the count is exact (4 * PER_THREAD trips a limit equal
 * to it, not one above it). */
static void test_threads(void **state)
{
    (void)state;
    for (unsigned limit = 4 * PER_THREAD; limit <= 4 * PER_THREAD + 1; limit++) {
        jotd_throttle_t *t = jotd_throttle_new(5, limit, 100);
        pthread_t th[4];
        thr_arg_t arg = {t};
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_create(&th[i], NULL, hammer, &arg), 0);
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_wait(t, NULL, "192.0.2.200", 500, limit <= 4 * PER_THREAD ? 60 : 0);
        jotd_throttle_free(t);
    }
}

/* ---- the step functions ---------------------------------------------------------------- */

static void test_step_account(void **state)
{
    jotd_throttle_state_t s = {0};
    (void)state;

    for (int i = 0; i < 4; i++)
        jotd_throttle_account_step(&s, 5, 100);
    assert_int_equal(s.failures, 4);
    assert_int_equal(s.lock_until, 0);
    jotd_throttle_account_step(&s, 5, 100); /* the fifth: 2^0 s */
    assert_int_equal(s.lock_until, 101);
    jotd_throttle_account_step(&s, 5, 200); /* 2^1 s from this failure */
    assert_int_equal(s.lock_until, 202);
    s.failures = 5 + 20;
    jotd_throttle_account_step(&s, 5, 300);
    assert_int_equal(s.lock_until, 300 + 3600); /* capped at an hour */
    /* a stored row out of range is clamped, never trusted */
    s = (jotd_throttle_state_t){.failures = -7};
    jotd_throttle_account_step(&s, 5, 300);
    assert_int_equal(s.failures, 1);
    s = (jotd_throttle_state_t){.failures = INT64_MAX};
    jotd_throttle_account_step(&s, 5, 300);
    assert_int_equal(s.failures, (int64_t)UINT32_MAX);
    assert_int_equal(s.lock_until, 300 + 3600);
    /* the limit off: nothing changes */
    s = (jotd_throttle_state_t){0};
    jotd_throttle_account_step(&s, 0, 300);
    assert_int_equal(s.failures, 0);
}

static void test_step_ip(void **state)
{
    jotd_throttle_state_t s = {0};
    (void)state;

    jotd_throttle_ip_step(&s, 3, 1000); /* opens the window */
    assert_int_equal(s.win_start, 1000);
    jotd_throttle_ip_step(&s, 3, 1010);
    assert_int_equal(s.lock_until, 0);
    jotd_throttle_ip_step(&s, 3, 1020); /* the third in the window: until the window ends */
    assert_int_equal(s.failures, 3);
    assert_int_equal(s.violations, 1);
    assert_int_equal(s.lock_until, 1060);
    jotd_throttle_ip_step(&s, 3, 1030); /* beyond the limit in the same window: no escalation */
    assert_int_equal(s.violations, 1);
    assert_int_equal(s.lock_until, 1060);
    for (int i = 0; i < 3; i++) /* the next window: the second violation, 120 s */
        jotd_throttle_ip_step(&s, 3, 1060);
    assert_int_equal(s.win_start, 1060);
    assert_int_equal(s.violations, 2);
    assert_int_equal(s.lock_until, 1060 + 120);
    for (int i = 0; i < 3; i++) /* an hour after that lock ended: forgiven */
        jotd_throttle_ip_step(&s, 3, 1180 + 3600);
    assert_int_equal(s.violations, 1);
    assert_int_equal(s.lock_until, 1180 + 3600 + 60);
    /* a clock gone backwards opens a new window */
    jotd_throttle_ip_step(&s, 3, 500);
    assert_int_equal(s.win_start, 500);
    assert_int_equal(s.failures, 1);
    s = (jotd_throttle_state_t){0};
    jotd_throttle_ip_step(&s, 0, 300);
    assert_int_equal(s.failures, 0);
}

/* ---- the store-backed throttle ------------------------------------------------------------ */

#define NOW ((int64_t)1700000000)

/* A throttle on \p st under \p scope. */
static jotd_throttle_t *on_store(jotd_store_t *st, const char *scope, unsigned account_max,
                                 unsigned ip_per_minute)
{
    jotd_throttle_t *t = (jotd_throttle_new)(account_max, ip_per_minute, 1000);
    assert_non_null(t);
    jotd_throttle_set_store(t, st, scope);
    return t;
}

/* The failures stored for (scope, kind, name); 0 when there is no row. */
static int64_t stored_failures(jotd_store_t *st, const char *scope, const char *kind,
                               const char *name)
{
    char key[JOTD_THROTTLE_KEY_LEN + 1];
    jotd_throttle_state_t v;
    assert_rc(jotd_store_throttle_key(scope, kind, name, strlen(name), key), JOTD_OK);
    jotd_rc_t rc = jotd_store_throttle_get(st, key, &v);
    if (rc == JOTD_E_NOTFOUND)
        return 0;
    assert_rc(rc, JOTD_OK);
    return v.failures;
}

/* Two instances (two throttles, each with its own local table) on one store. */
static void test_store_shared_account(void **state)
{
    store_fx_t *f = store_fx_new();
    (void)state;
    assert_non_null(f);
    jotd_throttle_t *a = on_store(f->st, "login", 4, 100);
    jotd_throttle_t *b = on_store(f->st, "login", 4, 100);
    jotd_throttle_t *other = on_store(f->st, "client", 4, 100);

    /* four failures spread over both: each saw two, the store counts four */
    jotd_throttle_failure(a, "alice", "10.0.0.1", NOW);
    jotd_throttle_failure(b, "alice", "10.0.0.2", NOW);
    jotd_throttle_failure(a, "alice", "10.0.0.3", NOW);
    assert_wait(a, "alice", NULL, NOW, 0);
    assert_wait(b, "alice", NULL, NOW, 0);
    jotd_throttle_failure(b, "alice", "10.0.0.4", NOW);
    assert_int_equal(stored_failures(f->st, "login", "account", "alice"), 4);
    /* the fourth, made on b, locks on a too */
    assert_wait(b, "alice", "10.0.0.9", NOW, 1);
    assert_wait(a, "alice", "10.0.0.9", NOW, 1);
    /* a fresh instance (nothing local) sees it from the store */
    jotd_throttle_t *c = on_store(f->st, "login", 4, 100);
    assert_wait(c, "alice", NULL, NOW, 1);
    /* another scope, another account: not locked */
    assert_wait(other, "alice", NULL, NOW, 0);
    assert_wait(a, "bob", NULL, NOW, 0);
    /* the fifth (on a) doubles, seen by b */
    jotd_throttle_failure(a, "alice", "10.0.0.1", NOW + 1);
    assert_wait(b, "alice", NULL, NOW + 1, 2);

    /* a success on c clears the store's count: the next failures start from one */
    jotd_throttle_success(c, "alice", NOW + 10);
    assert_int_equal(stored_failures(f->st, "login", "account", "alice"), 0);
    assert_wait(c, "alice", NULL, NOW + 10, 0);
    assert_wait(b, "alice", NULL, NOW + 10, 0);
    jotd_throttle_failure(b, "alice", "10.0.0.1", NOW + 10);
    jotd_throttle_failure(a, "alice", "10.0.0.1", NOW + 10);
    assert_int_equal(stored_failures(f->st, "login", "account", "alice"), 2);
    assert_wait(a, "alice", NULL, NOW + 10, 0);
    assert_wait(c, "alice", NULL, NOW + 10, 0);

    jotd_throttle_free(a);
    jotd_throttle_free(b);
    jotd_throttle_free(c);
    jotd_throttle_free(other);
    store_fx_free(f);
}

/* A success writes to the store only for an account with failures: a client
 * authentication or login without failures must not wait for the database's write lock
 * (the regression: every /introspect by a resource server deleted a row that was not
 * there, and waited out the write lock behind a long write). */
static void test_store_success_without_failures_writes_nothing(void **state)
{
    store_fx_t *f = store_fx_new();
    (void)state;
    assert_non_null(f);
    jotd_throttle_t *a = on_store(f->st, "login", 4, 100);
    jotd_throttle_t *b = on_store(f->st, "login", 4, 100);
    jotd_throttle_failure(a, "alice", "10.0.0.1", NOW);
    assert_int_equal(stored_failures(f->st, "login", "account", "alice"), 1);
    /* b never checked alice: it knows of no failure, so its success deletes nothing */
    jotd_throttle_success(b, "alice", NOW);
    assert_int_equal(stored_failures(f->st, "login", "account", "alice"), 1);
    /* after its check (which mirrors the row) a success clears it */
    assert_wait(b, "alice", NULL, NOW, 0);
    jotd_throttle_success(b, "alice", NOW);
    assert_int_equal(stored_failures(f->st, "login", "account", "alice"), 0);
    jotd_throttle_free(a);
    jotd_throttle_free(b);
    store_fx_free(f);
}

static void test_store_shared_ip(void **state)
{
    store_fx_t *f = store_fx_new();
    char acct[32];
    (void)state;
    assert_non_null(f);
    jotd_throttle_t *a = on_store(f->st, "login", 100, 6);
    jotd_throttle_t *b = on_store(f->st, "login", 100, 6);

    /* six failures of six accounts from one /64, over both instances */
    for (int i = 0; i < 6; i++) {
        snprintf(acct, sizeof acct, "user%d", i);
        char ip[64];
        snprintf(ip, sizeof ip, "2001:db8:1:2::%x", i + 1);
        jotd_throttle_failure(i % 2 ? b : a, acct, ip, NOW + i);
    }
    assert_int_equal(stored_failures(f->st, "login", "ip", "2001:db8:1:2::/64"), 6);
    /* locked until the minute from the first failure has passed, on both */
    assert_wait(a, "someone", "2001:db8:1:2::99", NOW + 10, 50);
    assert_wait(b, NULL, "2001:db8:1:2::1", NOW + 10, 50);
    assert_wait(b, NULL, "2001:db8:1:3::1", NOW + 10, 0); /* another /64 */
    assert_wait(a, NULL, "2001:db8:1:2::1", NOW + 60, 0);
    jotd_throttle_free(a);
    jotd_throttle_free(b);
    store_fx_free(f);
}

/* While a mirrored lock runs the answer is local: a flood costs no store read. Shown by
 * removing the row behind the throttle's back: the instance that mirrored the lock still
 * refuses, a fresh one (which must ask the store) lets through. */
static void test_store_local_prefilter(void **state)
{
    store_fx_t *f = store_fx_new();
    char key[JOTD_THROTTLE_KEY_LEN + 1];
    (void)state;
    assert_non_null(f);
    jotd_throttle_t *a = on_store(f->st, "login", 2, 100);
    jotd_throttle_t *b = on_store(f->st, "login", 2, 100);
    fail_n(a, "carol", NULL, NOW, 3);      /* 2 s */
    assert_wait(b, "carol", NULL, NOW, 2); /* read from the store, mirrored */
    assert_rc(jotd_store_throttle_key("login", "account", "carol", 5, key), JOTD_OK);
    assert_rc(jotd_store_throttle_clear(f->st, key), JOTD_OK);
    assert_wait(b, "carol", NULL, NOW + 1, 1); /* local */
    jotd_throttle_t *c = on_store(f->st, "login", 2, 100);
    assert_wait(c, "carol", NULL, NOW + 1, 0);
    assert_wait(b, "carol", NULL, NOW + 2, 0);
    jotd_throttle_free(a);
    jotd_throttle_free(b);
    jotd_throttle_free(c);
    store_fx_free(f);
}

/* A store that fails (its table gone): the local counters take over, nothing crashes; once
 * the store works again (after STORE_RETRY_S) it is the truth again. */
static void test_store_failure_falls_back(void **state)
{
    store_fx_t *f = store_fx_new();
    sqlite3 *db = NULL;
    (void)state;
    assert_non_null(f);
    jotd_throttle_t *a = on_store(f->st, "login", 3, 100);
    jotd_throttle_failure(a, "dave", "192.0.2.1", NOW);
    assert_int_equal(stored_failures(f->st, "login", "account", "dave"), 1);

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "ALTER TABLE throttle RENAME TO throttle_away", NULL, NULL, NULL),
        SQLITE_OK);
    /* the local table counted the first failure (mirrored) and counts on */
    assert_wait(a, "dave", NULL, NOW, 0);
    jotd_throttle_failure(a, "dave", "192.0.2.1", NOW);
    jotd_throttle_failure(a, "dave", "192.0.2.1", NOW);
    assert_wait(a, "dave", NULL, NOW, 1);
    jotd_throttle_success(a, "dave", NOW + 1);
    assert_wait(a, "dave", NULL, NOW + 1, 0);
    jotd_throttle_failure(a, "erin", "192.0.2.1", NOW + 2);

    /* back: the store's rows count again */
    assert_int_equal(
        sqlite3_exec(db, "ALTER TABLE throttle_away RENAME TO throttle", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    jotd_throttle_failure(a, "erin", "192.0.2.1", NOW + 100);
    assert_int_equal(stored_failures(f->st, "login", "account", "erin"), 1);
    jotd_throttle_free(a);
    store_fx_free(f);
}

/* Many threads of two instances failing at once: every failure is counted once. */
#define STORE_THREADS 8
#define STORE_PER_THREAD 10

typedef struct {
    jotd_throttle_t *t;
} store_thr_t;

static void *store_hammer(void *p)
{
    store_thr_t *a = p;
    for (int i = 0; i < STORE_PER_THREAD; i++)
        jotd_throttle_failure(a->t, "frank", "192.0.2.77", NOW);
    return NULL;
}

static void test_store_threads(void **state)
{
    store_fx_t *f = store_fx_new();
    (void)state;
    assert_non_null(f);
    jotd_throttle_t *t[2] = {on_store(f->st, "login", 1000, 1000),
                             on_store(f->st, "login", 1000, 1000)};
    pthread_t th[STORE_THREADS];
    store_thr_t arg[2] = {{t[0]}, {t[1]}};
    for (int i = 0; i < STORE_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, store_hammer, &arg[i % 2]), 0);
    for (int i = 0; i < STORE_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(stored_failures(f->st, "login", "account", "frank"),
                     STORE_THREADS * STORE_PER_THREAD);
    assert_int_equal(stored_failures(f->st, "login", "ip", "192.0.2.77"),
                     STORE_THREADS * STORE_PER_THREAD);
    jotd_throttle_free(t[0]);
    jotd_throttle_free(t[1]);
    store_fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_lockout),
        cmocka_unit_test(test_account_cap),
        cmocka_unit_test(test_names_distinct),
        cmocka_unit_test(test_ip_window),
        cmocka_unit_test(test_ip_networks),
        cmocka_unit_test(test_ip_window_rolls),
        cmocka_unit_test(test_ip_doubling),
        cmocka_unit_test(test_ip_no_early_forgiveness),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_limits_off),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_eviction_keeps_locked),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_step_account),
        cmocka_unit_test(test_step_ip),
        cmocka_unit_test(test_store_shared_account),
        cmocka_unit_test(test_store_shared_ip),
        cmocka_unit_test(test_store_local_prefilter),
        cmocka_unit_test(test_store_success_without_failures_writes_nothing),
        cmocka_unit_test(test_store_failure_falls_back),
        cmocka_unit_test(test_store_threads),
    };
    /* the rules again, every throttle on a store (eviction and the in-memory thread test are
     * about the local table) */
    const struct CMUnitTest on_store_tests[] = {
        cmocka_unit_test(test_account_lockout), cmocka_unit_test(test_account_cap),
        cmocka_unit_test(test_names_distinct),  cmocka_unit_test(test_ip_window),
        cmocka_unit_test(test_ip_networks),     cmocka_unit_test(test_ip_window_rolls),
        cmocka_unit_test(test_ip_doubling),     cmocka_unit_test(test_ip_no_early_forgiveness),
        cmocka_unit_test(test_null_args),       cmocka_unit_test(test_limits_off),
    };
    int failed = cmocka_run_group_tests_name("in memory", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("on a SQLite store", on_store_tests, group_store_setup,
                                          group_store_teardown);
    return failed;
}
