/* Unit tests for server/denylist.c: the in-memory jti denylist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include <pthread.h>

#include "denylist.h"

static bool has(jotd_denylist_t *d, const char *jti, int64_t now)
{
    return jotd_denylist_contains(d, jti, strlen(jti), now);
}

/* 0 added or extended, -1 refused */
static int add(jotd_denylist_t *d, const char *jti, int64_t exp)
{
    return jotd_denylist_add(d, jti, strlen(jti), exp) < 0 ? -1 : 0;
}

/* add() tells a new entry from an extended one; remove() undoes an add. */
static void test_add_result_and_remove(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    (void)state;
    assert_int_equal(jotd_denylist_add(d, "j", 1, 1000), 1);
    assert_int_equal(jotd_denylist_add(d, "j", 1, 2000), 0);
    assert_true(has(d, "j", 1500));
    jotd_denylist_remove(d, "k", 1); /* absent: nothing */
    jotd_denylist_remove(d, "j", 1);
    assert_false(has(d, "j", 1500));
    assert_int_equal(jotd_denylist_purge(d, 0), 0);
    assert_int_equal(jotd_denylist_add(d, "j", 1, 1000), 1);
    jotd_denylist_free(d);
}

static void test_add_contains(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    (void)state;

    assert_non_null(d);
    assert_false(has(d, "a", 100));
    assert_int_equal(add(d, "a", 200), 0);
    assert_true(has(d, "a", 100));
    assert_false(has(d, "b", 100));
    /* Exact bytes: prefixes, longer ids and case differ. */
    assert_false(has(d, "A", 100));
    assert_false(has(d, "aa", 100));
    assert_int_equal(add(d, "abc", 200), 0);
    assert_false(has(d, "ab", 100));
    assert_false(jotd_denylist_contains(d, "abcd", 4, 100));
    assert_true(jotd_denylist_contains(d, "abcd", 3, 100));
    /* Embedded NUL bytes are part of the id. */
    assert_int_equal(jotd_denylist_add(d, "x\0y", 3, 200), 1);
    assert_true(jotd_denylist_contains(d, "x\0y", 3, 100));
    assert_false(jotd_denylist_contains(d, "x\0z", 3, 100));
    assert_false(jotd_denylist_contains(d, "x", 1, 100));
    jotd_denylist_free(d);
    jotd_denylist_free(NULL);
}

static void test_expiry_boundary(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    (void)state;

    assert_int_equal(add(d, "j", 1000), 0);
    assert_true(has(d, "j", 998));
    assert_true(has(d, "j", 999));
    assert_false(has(d, "j", 1000)); /* exp == now: the token itself is expired */
    assert_false(has(d, "j", 1001));
    jotd_denylist_free(d);
}

static void test_extend(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    (void)state;

    assert_int_equal(add(d, "j", 1000), 0);
    assert_int_equal(add(d, "j", 2000), 0); /* extends */
    assert_true(has(d, "j", 1500));
    assert_int_equal(add(d, "j", 500), 0); /* never shortens */
    assert_true(has(d, "j", 1500));
    assert_int_equal(jotd_denylist_purge(d, 1500), 1);
    jotd_denylist_free(d);
}

static void test_bad_args(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    char big[258];
    (void)state;

    memset(big, 'j', sizeof(big));
    assert_int_equal(jotd_denylist_add(d, "", 0, 100), -1);
    assert_int_equal(jotd_denylist_add(d, NULL, 3, 100), -1);
    assert_int_equal(jotd_denylist_add(NULL, "abc", 3, 100), -1);
    assert_int_equal(jotd_denylist_add(d, big, 257, 100), -1);
    assert_int_equal(jotd_denylist_add(d, big, 256, 100), 1);
    assert_true(jotd_denylist_contains(d, big, 256, 50));
    assert_false(jotd_denylist_contains(d, big, 257, 50));
    assert_false(jotd_denylist_contains(d, NULL, 3, 50));
    assert_false(jotd_denylist_contains(NULL, "abc", 3, 50));
    assert_int_equal(jotd_denylist_purge(NULL, 50), 0);
    jotd_denylist_free(d);
}

static void test_purge(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    char jti[32];
    (void)state;

    for (int i = 0; i < 100; i++) {
        snprintf(jti, sizeof(jti), "jti-%d", i);
        assert_int_equal(add(d, jti, 1000 + i), 0);
    }
    assert_int_equal(jotd_denylist_purge(d, 999), 100);
    assert_int_equal(jotd_denylist_purge(d, 1000), 99); /* exp <= now goes */
    assert_int_equal(jotd_denylist_purge(d, 1049), 50);
    assert_false(has(d, "jti-49", 1000)); /* purged: gone even for an earlier clock */
    assert_true(has(d, "jti-50", 1000));
    assert_true(has(d, "jti-99", 1098));
    assert_int_equal(jotd_denylist_purge(d, 5000), 0);
    assert_false(has(d, "jti-99", 1000));
    /* Still usable after being emptied. */
    assert_int_equal(add(d, "again", 6000), 0);
    assert_true(has(d, "again", 5000));
    jotd_denylist_free(d);
}

static void test_many(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    char jti[32];
    const int n = 100000;
    (void)state;

    for (int i = 0; i < n; i++) {
        snprintf(jti, sizeof(jti), "%08x-jti", (unsigned)i * 2654435761u);
        assert_int_equal(add(d, jti, 10000 + i), 0);
    }
    for (int i = 0; i < n; i++) {
        snprintf(jti, sizeof(jti), "%08x-jti", (unsigned)i * 2654435761u);
        if (!has(d, jti, 9999))
            fail_msg("entry %d missing", i);
        snprintf(jti, sizeof(jti), "%08x-jtj", (unsigned)i * 2654435761u);
        if (has(d, jti, 9999))
            fail_msg("phantom entry %d", i);
    }
    assert_int_equal(jotd_denylist_purge(d, 10000 + n / 2), (size_t)(n - n / 2 - 1));
    jotd_denylist_free(d);
}

/* Growth purges what the clock (the latest `now` given to contains/purge) has expired, and
 * never what is still live. */
static void test_growth_purges_expired(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    char jti[32];
    (void)state;

    for (int i = 0; i < 1000; i++) {
        snprintf(jti, sizeof(jti), "old-%d", i);
        assert_int_equal(add(d, jti, 100), 0);
    }
    assert_false(has(d, "old-0", 100)); /* the clock reaches 100 */
    for (int i = 0; i < 5000; i++) {
        snprintf(jti, sizeof(jti), "new-%d", i);
        assert_int_equal(add(d, jti, 1000), 0);
    }
    /* Every "old-" entry went during growth; every "new-" one stayed. */
    assert_int_equal(jotd_denylist_purge(d, 100), 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(jti, sizeof(jti), "new-%d", i);
        assert_true(has(d, jti, 999));
    }
    jotd_denylist_free(d);
}

/* The memory cap: JOTD_DENYLIST_MAX entries, then -1 until something expires. */
static void test_cap(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    char jti[32];
    const int cap = (int)JOTD_DENYLIST_MAX;
    (void)state;

    for (int i = 0; i < cap; i++) {
        snprintf(jti, sizeof(jti), "%d", i);
        if (add(d, jti, i < 10 ? 50 : 5000) != 0)
            fail_msg("add %d failed below the cap", i);
    }
    assert_int_equal(add(d, "one-too-many", 5000), -1);
    assert_int_equal(add(d, "0", 6000), 0); /* extending an entry still works */
    assert_false(has(d, "1", 50));          /* clock -> 50: nine entries have expired */
    assert_int_equal(add(d, "fits-now", 5000), 0);
    assert_true(has(d, "fits-now", 51));
    assert_true(has(d, "0", 5500));
    jotd_denylist_free(d);
}

/* 4 readers + 1 writer: readers must always see every entry added before they started
 * and the writer's entries must all be there at the end (run under TSan for races). */
#define BASE_N 2000
#define WRITER_N 20000

typedef struct {
    jotd_denylist_t *d;
    int failures;
} thr_arg_t;

static void *reader(void *p)
{
    thr_arg_t *a = p;
    char jti[32];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < BASE_N; i++) {
            snprintf(jti, sizeof(jti), "base-%d", i);
            if (!has(a->d, jti, 500))
                a->failures++;
            snprintf(jti, sizeof(jti), "none-%d", i);
            if (has(a->d, jti, 500))
                a->failures++;
        }
    }
    return NULL;
}

static void *writer(void *p)
{
    thr_arg_t *a = p;
    char jti[32];
    for (int i = 0; i < WRITER_N; i++) {
        snprintf(jti, sizeof(jti), "w-%d", i);
        if (add(a->d, jti, 1000) != 0)
            a->failures++;
        if (i % 1000 == 0)
            (void)jotd_denylist_purge(a->d, 500);
    }
    return NULL;
}

static void test_threads(void **state)
{
    jotd_denylist_t *d = jotd_denylist_new();
    pthread_t th[5];
    thr_arg_t args[5];
    char jti[32];
    (void)state;

    for (int i = 0; i < BASE_N; i++) {
        snprintf(jti, sizeof(jti), "base-%d", i);
        assert_int_equal(add(d, jti, 1000), 0);
    }
    for (int i = 0; i < 5; i++) {
        args[i].d = d;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, i == 4 ? writer : reader, &args[i]), 0);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(jotd_denylist_purge(d, 500), BASE_N + WRITER_N);
    for (int i = 0; i < WRITER_N; i++) {
        snprintf(jti, sizeof(jti), "w-%d", i);
        assert_true(has(d, jti, 999));
    }
    jotd_denylist_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_contains),
        cmocka_unit_test(test_add_result_and_remove),
        cmocka_unit_test(test_expiry_boundary),
        cmocka_unit_test(test_extend),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_purge),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_growth_purges_expired),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
