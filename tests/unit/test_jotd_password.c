/* Unit tests for server/password.c: Argon2id hashing and verification of PHC strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include <argon2.h>
#include <malloc.h>
#include <pthread.h>

#include "password.h"

/* Cheap parameters keep the suite fast; one test uses the OWASP defaults. */
static const jotd_argon2_t fast = {64, 1, 1};

#define PREFIX "$argon2id$v=19$m=64,t=1,p=1$"

static void hash_ok(const jotd_argon2_t *params, const char *pw, size_t len, char *out)
{
    int rc = jotd_password_hash(params, pw, len, out);
    if (rc != 0)
        fail_msg("jotd_password_hash(\"%.*s\") = %d", (int)len, pw, rc);
}

static void test_hash_format(void **state)
{
    char phc[JOTD_PHC_MAX];
    char phc2[JOTD_PHC_MAX];
    (void)state;

    hash_ok(&fast, "hunter2", 7, phc);
    assert_int_equal(strncmp(phc, PREFIX, strlen(PREFIX)), 0);
    /* 16-byte salt = 22 characters, 32-byte hash = 43 characters. */
    assert_int_equal(strlen(phc), strlen(PREFIX) + 22 + 1 + 43);
    assert_int_equal(phc[strlen(PREFIX) + 22], '$');
    /* A fresh salt every time. */
    hash_ok(&fast, "hunter2", 7, phc2);
    assert_string_not_equal(phc, phc2);
}

static void test_verify_right_wrong(void **state)
{
    char phc[JOTD_PHC_MAX];
    (void)state;

    hash_ok(&fast, "correct horse", 13, phc);
    assert_int_equal(jotd_password_verify(phc, "correct horse", 13), 1);
    assert_int_equal(jotd_password_verify(phc, "correct horsE", 13), 0);
    assert_int_equal(jotd_password_verify(phc, "correct hors", 12), 0);
    assert_int_equal(jotd_password_verify(phc, "correct horse!", 14), 0);
    assert_int_equal(jotd_password_verify(phc, "", 0), 0);
    /* (ptr, len): bytes after len do not count, embedded NULs do. */
    assert_int_equal(jotd_password_verify(phc, "correct horse battery", 13), 1);
    hash_ok(&fast, "a\0b", 3, phc);
    assert_int_equal(jotd_password_verify(phc, "a\0b", 3), 1);
    assert_int_equal(jotd_password_verify(phc, "a\0c", 3), 0);
    assert_int_equal(jotd_password_verify(phc, "a", 1), 0);
}

static void test_empty_password(void **state)
{
    char phc[JOTD_PHC_MAX];
    (void)state;

    hash_ok(&fast, "", 0, phc);
    assert_int_equal(jotd_password_verify(phc, "", 0), 1);
    assert_int_equal(jotd_password_verify(phc, NULL, 0), 1);
    assert_int_equal(jotd_password_verify(phc, "x", 1), 0);
    assert_int_equal(jotd_password_hash(&fast, NULL, 1, phc), -1);
}

static void test_long_password(void **state)
{
    char *pw = malloc(JOTD_PASSWORD_MAX + 2);
    char phc[JOTD_PHC_MAX];
    (void)state;

    assert_non_null(pw);
    memset(pw, 'p', JOTD_PASSWORD_MAX + 1);
    pw[JOTD_PASSWORD_MAX + 1] = '\0';
    hash_ok(&fast, pw, JOTD_PASSWORD_MAX, phc);
    assert_int_equal(jotd_password_verify(phc, pw, JOTD_PASSWORD_MAX), 1);
    /* One byte over the cap: refused for hashing, never a match on verification (even
     * though its first JOTD_PASSWORD_MAX bytes are the hashed password). */
    memset(phc, 'x', sizeof(phc));
    assert_int_equal(jotd_password_hash(&fast, pw, JOTD_PASSWORD_MAX + 1, phc), -1);
    hash_ok(&fast, pw, JOTD_PASSWORD_MAX, phc);
    assert_int_equal(jotd_password_verify(phc, pw, JOTD_PASSWORD_MAX + 1), 0);
    free(pw);
}

static void test_bad_params(void **state)
{
    char phc[JOTD_PHC_MAX];
    const jotd_argon2_t bad[] = {
        {7, 1, 1},  {4194305, 1, 1}, {64, 0, 1}, {64, 101, 1},
        {64, 1, 0}, {1024, 1, 65},   {16, 1, 4}, /* under 8 KiB per lane */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jotd_password_hash(&bad[i], "pw", 2, phc) != -1)
            fail_msg("params m=%u t=%u p=%u accepted", bad[i].m_kib, bad[i].t, bad[i].p);
    }
    assert_int_equal(jotd_password_hash(NULL, "pw", 2, phc), -1);
    /* The edges themselves are fine. */
    const jotd_argon2_t edge = {8, 1, 1};
    hash_ok(&edge, "pw", 2, phc);
    assert_int_equal(jotd_password_verify(phc, "pw", 2), 1);
}

static void test_owasp_defaults(void **state)
{
    const jotd_argon2_t owasp = {JOTD_ARGON2_M_KIB, JOTD_ARGON2_T, JOTD_ARGON2_P};
    char phc[JOTD_PHC_MAX];
    (void)state;

    hash_ok(&owasp, "pa55word", 8, phc);
    assert_int_equal(strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    assert_int_equal(jotd_password_verify(phc, "pa55word", 8), 1);
    assert_int_equal(jotd_password_verify(phc, "pa55wore", 8), 0);
}

static void test_not_argon2id(void **state)
{
    /* Valid-looking strings of other schemes and variants, and malformed ones: all -1. */
    static const char *const bad[] = {
        "",
        "plain",
        "$2b$12$abcdefghijklmnopqrstuuSNnTrSxGm5CFd38ixkK1jd0x2vBRR3a",
        "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2d$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        /* parameters out of bounds: 8 GiB, 1000 passes, 0 lanes, leading zero */
        "$argon2id$v=19$m=8388608,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=19$m=64,t=1000,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        /* parameter order, missing parts, junk */
        "$argon2id$v=19$t=1,m=64,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA",
        "$argon2id$v=19$m=64,t=1,p=1$$Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2m"
        "HbwqMU$",
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2m"
        "HbwqMU=",
        "$argon2id$v=19$m=64,t=1,p=1,keyid=x$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
        " $argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "Z6W+8rRIyKI3eA7JuwAtnbK2NbLBHqHqVtN2mHbwqMU",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = jotd_password_verify(bad[i], "password", 8);
        if (rc != -1)
            fail_msg("verify(\"%s\") = %d, want -1", bad[i], rc);
    }
    assert_int_equal(jotd_password_verify(NULL, "password", 8), -1);

    /* Longer than JOTD_PHC_MAX. */
    char big[JOTD_PHC_MAX + 40];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, PREFIX, strlen(PREFIX));
    big[strlen(PREFIX) + 22] = '$';
    assert_int_equal(jotd_password_verify(big, "password", 8), -1);
}

static void test_tampered(void **state)
{
    char phc[JOTD_PHC_MAX];
    char t[JOTD_PHC_MAX];
    size_t n;
    (void)state;

    hash_ok(&fast, "secret", 6, phc);
    n = strlen(phc);
    assert_int_equal(jotd_password_verify(phc, "secret", 6), 1);

    /* Flip one character of the hash, of the salt, and change a parameter: never a match. */
    memcpy(t, phc, n + 1);
    t[n - 5] = (char)(t[n - 5] == 'A' ? 'B' : 'A');
    assert_true(jotd_password_verify(t, "secret", 6) <= 0);

    memcpy(t, phc, n + 1);
    t[strlen(PREFIX) + 3] = (char)(t[strlen(PREFIX) + 3] == 'A' ? 'B' : 'A');
    assert_true(jotd_password_verify(t, "secret", 6) <= 0);

    memcpy(t, phc, n + 1);
    t[strlen("$argon2id$v=19$m=64,t=")] = '2';
    assert_int_equal(jotd_password_verify(t, "secret", 6), 0);

    /* Truncated hash (still valid base64 length): no match or invalid, never 1. */
    memcpy(t, phc, n + 1);
    t[n - 3] = '\0';
    assert_true(jotd_password_verify(t, "secret", 6) <= 0);

    /* Variant swapped to argon2i with the same bytes: refused outright. */
    memcpy(t, "$argon2i$", 9);
    memcpy(t + 9, phc + 10, n - 10 + 1);
    assert_int_equal(jotd_password_verify(t, "secret", 6), -1);
}

static void test_dummy(void **state)
{
    jotd_password_dummy_t d;
    const jotd_argon2_t bad = {1, 1, 1};
    (void)state;

    assert_int_equal(jotd_password_dummy_init(&d, &fast), 0);
    assert_int_equal(strncmp(d.phc, PREFIX, strlen(PREFIX)), 0);
    /* The dummy hash is a real one of the same cost; no password we could guess matches. */
    assert_int_equal(jotd_password_verify(d.phc, "", 0), 0);
    assert_int_equal(jotd_password_verify(d.phc, "password", 8), 0);
    jotd_password_dummy_verify(&d, "password", 8);
    jotd_password_dummy_verify(&d, "", 0);
    jotd_password_dummy_verify(&d, NULL, 0);
    char *big = calloc(1, JOTD_PASSWORD_MAX * 2);
    assert_non_null(big);
    jotd_password_dummy_verify(&d, big, JOTD_PASSWORD_MAX * 2);
    free(big);
    jotd_password_dummy_verify(NULL, "x", 1);

    /* Parameters follow the caller's. */
    const jotd_argon2_t other = {128, 2, 2};
    assert_int_equal(jotd_password_dummy_init(&d, &other), 0);
    assert_int_equal(strncmp(d.phc, "$argon2id$v=19$m=128,t=2,p=2$", 29), 0);
    assert_int_equal(jotd_password_dummy_init(&d, &bad), -1);
}

/* Strings written by libargon2 itself verify here, and ours verify with libargon2: the PHC
 * string is read and written by password.c, not by libargon2. Salts and hashes of lengths
 * that are not multiples of 3 exercise the unpadded base64 both ways. */
static void test_libargon2_interop(void **state)
{
    (void)state;
    const size_t salt_lens[] = {8, 16, 17, 33};
    const size_t hash_lens[] = {16, 32, 31, 64};
    for (size_t i = 0; i < 4; i++) {
        uint8_t salt[64];
        memset(salt, (int)(0x41 + i), sizeof salt);
        char enc[256];
        assert_int_equal(argon2id_hash_encoded(1, 64, 1, "hunter22", 8, salt, salt_lens[i],
                                               hash_lens[i], enc, sizeof enc),
                         ARGON2_OK);
        assert_int_equal(jotd_password_verify(enc, "hunter22", 8), 1);
        assert_int_equal(jotd_password_verify(enc, "hunter23", 8), 0);
    }
    char phc[JOTD_PHC_MAX];
    hash_ok(&fast, "correct horse", 13, phc);
    assert_int_equal(argon2id_verify(phc, "correct horse", 13), ARGON2_OK);
    assert_int_equal(argon2id_verify(phc, "correct horsf", 13), ARGON2_VERIFY_MISMATCH);
    /* a non-canonical last character (unused trailing bits set) is refused by both */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char t[JOTD_PHC_MAX];
    memcpy(t, phc, sizeof t);
    char *last = t + strlen(t) - 1; /* 32 bytes: 43 characters, the last has 2 unused bits */
    size_t v = (size_t)(strchr(alphabet, *last) - alphabet);
    *last = alphabet[v | 1u];
    assert_int_equal(argon2id_verify(t, "correct horse", 13), ARGON2_DECODING_FAIL);
    assert_int_equal(jotd_password_verify(t, "correct horse", 13), -1);
}

/* The work area (m KiB) is mapped by password.c, not taken from malloc: the heap does not
 * grow by it, it is reused by the next hash, and trim returns it. */
static void test_work_area_outside_the_heap(void **state)
{
    (void)state;
    const jotd_argon2_t big = {8192, 1, 1}; /* 8 MiB */
    jotd_password_trim(0);
    char phc[JOTD_PHC_MAX];
    hash_ok(&big, "first", 5, phc); /* glibc would raise its mmap threshold on this one */
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 3; i++)
        assert_int_equal(jotd_password_verify(phc, "first", 5), 1);
    struct mallinfo2 after = mallinfo2();
    assert_true(after.arena < before.arena + 1024 * 1024);
    assert_true(after.hblkhd < before.hblkhd + 1024 * 1024);
    /* one area, cached for the next hash */
    assert_int_equal(jotd_password_trim(3600), (size_t)8192 * 1024); /* used just now */
    assert_int_equal(jotd_password_trim(0), 0);
    assert_int_equal(jotd_password_trim(3600), 0);
}

static void *hash_thread(void *arg)
{
    const jotd_argon2_t mid = {2048, 2, 1};
    char phc[JOTD_PHC_MAX];
    for (int i = 0; i < 3; i++)
        if (jotd_password_hash(&mid, "parallel", 8, phc) != 0)
            *(int *)arg = 1;
    return NULL;
}

/* jotd_password_set_parallel(1): four threads hashing at once never map more than one work
 * area (without the limit each would map its own). */
static void test_parallel_limit(void **state)
{
    (void)state;
    jotd_password_trim(0);
    jotd_password_set_parallel(1);
    pthread_t th[4];
    int err = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hash_thread, &err), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(err, 0);
    assert_int_equal(jotd_password_trim(3600), (size_t)2048 * 1024); /* what is mapped */
    jotd_password_set_parallel(0);
    assert_int_equal(jotd_password_trim(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format),
        cmocka_unit_test(test_verify_right_wrong),
        cmocka_unit_test(test_empty_password),
        cmocka_unit_test(test_long_password),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_owasp_defaults),
        cmocka_unit_test(test_not_argon2id),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_dummy),
        cmocka_unit_test(test_libargon2_interop),
        cmocka_unit_test(test_work_area_outside_the_heap),
        cmocka_unit_test(test_parallel_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
