/* Unit tests for server/ratelimit.c: per-account and per-IP login throttling. The clock is
 * always passed in, so every case is deterministic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include <pthread.h>

#include "ratelimit.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_lockout), cmocka_unit_test(test_account_cap),
        cmocka_unit_test(test_names_distinct),  cmocka_unit_test(test_ip_window),
        cmocka_unit_test(test_ip_networks),     cmocka_unit_test(test_ip_window_rolls),
        cmocka_unit_test(test_ip_doubling),     cmocka_unit_test(test_ip_no_early_forgiveness),
        cmocka_unit_test(test_null_args),       cmocka_unit_test(test_limits_off),
        cmocka_unit_test(test_eviction),        cmocka_unit_test(test_eviction_keeps_locked),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
