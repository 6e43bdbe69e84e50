/* Unit tests of the security-review fixes: the Argon2 parameters of stored hashes and of
 * the dummy hash (unknown users cost what most users cost), rehashing after a login with
 * new settings (conditional, keeps sessions), user names unique up to ASCII case, the data
 * directory check, the store refusing a symlinked database, and throttle limits changed
 * on SIGHUP without losing counters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

#define T0 ((int64_t)1700000000)

static const jotd_argon2_t cheap = {64, 1, 1};
static const jotd_argon2_t other = {128, 2, 1};

typedef struct fx {
    char dir[128];
    char path[192];
    jotd_store_t *st;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/jotd-hyg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/jotd.db", f->dir);
    if (jotd_store_open(f->path, &f->st) != JOTD_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char p[256];
    jotd_store_close(f->st);
    static const char *const files[] = {"jotd.db", "jotd.db-wal", "jotd.db-shm", "link.db", "sub"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static int64_t add_user_at(jotd_store_t *st, const char *name, const jotd_argon2_t *params,
                           const char *pw, char phc_out[JOTD_PHC_MAX])
{
    char phc[JOTD_PHC_MAX];
    assert_int_equal(jotd_password_hash(params, pw, strlen(pw), phc), 0);
    jotd_user_t u = {.username = (char *)name, .password_hash = phc};
    int64_t id = 0;
    assert_rc(jotd_store_user_create(st, &u, T0, &id), JOTD_OK);
    if (phc_out)
        memcpy(phc_out, phc, sizeof phc);
    return id;
}

static void assert_params(const jotd_argon2_t *got, const jotd_argon2_t *want)
{
    assert_int_equal(got->m_kib, want->m_kib);
    assert_int_equal(got->t, want->t);
    assert_int_equal(got->p, want->p);
}

/* ---- password.c: the parameters of a PHC string ------------------------------------------ */

static void test_phc_params(void **state)
{
    char phc[JOTD_PHC_MAX];
    jotd_argon2_t p;
    (void)state;

    assert_int_equal(jotd_password_hash(&other, "pw", 2, phc), 0);
    assert_int_equal(jotd_password_params(phc, &p), 0);
    assert_params(&p, &other);
    assert_int_equal(jotd_password_needs_rehash(phc, &other), 0);
    assert_int_equal(jotd_password_needs_rehash(phc, &cheap), 1);
    assert_int_equal(
        jotd_password_needs_rehash("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA", &cheap), -1);
    assert_int_equal(jotd_password_params_parse("m=19456,t=2,p=1", 15, &p), 0);
    assert_int_equal(p.m_kib, 19456);
    assert_int_equal(p.t, 2);
    assert_int_equal(p.p, 1);
    /* the length bounds the field; bad shapes and out-of-bounds costs are refused */
    assert_int_equal(jotd_password_params_parse("m=19456,t=2,p=1$salt", 15, &p), 0);
    assert_int_equal(jotd_password_params_parse("m=19456,t=2,p=1x", 16, &p), -1);
    assert_int_equal(jotd_password_params_parse("m=19456,t=2", 11, &p), -1);
    assert_int_equal(jotd_password_params_parse("m=1,t=2,p=1", 11, &p), -1);
    assert_int_equal(jotd_password_params_parse("m=64,t=0,p=1", 12, &p), -1);
    assert_int_equal(jotd_password_params_parse("m=64,t=1000,p=1", 15, &p), -1);
    assert_int_equal(jotd_password_params_parse("m=064,t=1,p=1", 13, &p), -1);
}

/* ---- the dummy hash costs what most stored hashes cost ------------------------------------ */

static void test_dummy_follows_stored_params(void **state)
{
    fx_t *f = *state;
    char field[48];
    jotd_argon2_t p, settings = {256, 3, 1};
    jotd_password_dummy_t d;

    /* no user: the current settings */
    assert_rc(jotd_store_user_hash_params(f->st, field, sizeof field), JOTD_E_NOTFOUND);
    assert_int_equal(jotd_dummy_params(f->st, &settings, &p), 0);
    assert_params(&p, &settings);

    add_user_at(f->st, "a1", &cheap, "password-1", NULL);
    add_user_at(f->st, "a2", &cheap, "password-2", NULL);
    add_user_at(f->st, "b1", &other, "password-3", NULL);
    assert_rc(jotd_store_user_hash_params(f->st, field, sizeof field), JOTD_OK);
    assert_string_equal(field, "m=64,t=1,p=1");
    assert_rc(jotd_store_user_hash_params(f->st, field, 5), JOTD_E_INVAL);

    /* the settings differ (say --argon2-t 3): the dummy still costs what most users cost */
    assert_int_equal(jotd_dummy_params(f->st, &settings, &p), 0);
    assert_params(&p, &cheap);
    assert_int_equal(jotd_password_dummy_init(&d, &p), 0);
    assert_int_equal(jotd_password_dummy_params(&d, &p), 0);
    assert_params(&p, &cheap);

    /* the majority moves: so does the dummy */
    add_user_at(f->st, "b2", &other, "password-4", NULL);
    add_user_at(f->st, "b3", &other, "password-5", NULL);
    assert_int_equal(jotd_dummy_params(f->st, &settings, &p), 0);
    assert_params(&p, &other);
}

/* ---- rehash: conditional, sessions kept ---------------------------------------------------- */

static void test_rehash_keeps_sessions(void **state)
{
    fx_t *f = *state;
    char old_phc[JOTD_PHC_MAX], new_phc[JOTD_PHC_MAX], newer[JOTD_PHC_MAX];
    int64_t id = add_user_at(f->st, "carol", &cheap, "carol-password", old_phc);

    jotd_session_t s = {.user_id = id, .client_id = "default", .scope = ""};
    uint8_t h[JOTD_HASH_LEN] = {1, 2, 3};
    memcpy(s.sid, "AAAAAAAAAAAAAAAAAAAAAA", JOTD_SID_LEN + 1);
    s.created_at = T0;
    s.expires_at = T0 + 86400;
    assert_rc(jotd_store_session_create(f->st, &s, h, 3600, T0), JOTD_OK);

    assert_int_equal(jotd_password_hash(&other, "carol-password", 14, new_phc), 0);
    assert_rc(jotd_store_user_rehash(f->st, id, old_phc, new_phc), JOTD_OK);

    jotd_user_t u = {0};
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_string_equal(u.password_hash, new_phc);
    assert_int_equal(jotd_password_verify(u.password_hash, "carol-password", 14), 1);
    assert_int_equal(u.updated_at, T0);
    jotd_user_clear(&u);

    jotd_session_t got = {0};
    bool active = false;
    assert_rc(jotd_store_session_get(f->st, s.sid, T0 + 1, &got, &active), JOTD_OK);
    assert_true(active);
    jotd_session_clear(&got);

    /* a stale "old" hash (the password changed meanwhile) changes nothing */
    assert_int_equal(jotd_password_hash(&cheap, "carol-password", 14, newer), 0);
    assert_rc(jotd_store_user_rehash(f->st, id, old_phc, newer), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_string_equal(u.password_hash, new_phc);
    jotd_user_clear(&u);
    assert_rc(jotd_store_user_rehash(f->st, id + 100, new_phc, newer), JOTD_E_NOTFOUND);
}

/* ---- user names are unique up to ASCII case ------------------------------------------------ */

static void test_username_case_insensitive_unique(void **state)
{
    fx_t *f = *state;
    jotd_user_t u = {.password_hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"};
    int64_t id;

    u.username = "admin";
    assert_rc(jotd_store_user_create(f->st, &u, T0, &id), JOTD_OK);
    static const char *const clash[] = {"Admin", "ADMIN", "aDmIn", "admin"};
    for (size_t i = 0; i < sizeof clash / sizeof clash[0]; i++) {
        u.username = (char *)clash[i];
        assert_rc(jotd_store_user_create(f->st, &u, T0, &id), JOTD_E_EXISTS);
    }
    u.username = "admin2";
    assert_rc(jotd_store_user_create(f->st, &u, T0, &id), JOTD_OK);

    /* logins stay exact-match */
    jotd_user_t got = {0};
    assert_rc(jotd_store_user_get_by_name(f->st, "Admin", &got), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_user_get_by_name(f->st, "admin", &got), JOTD_OK);
    jotd_user_clear(&got);

    jotd_user_t *list = NULL;
    size_t n = 0;
    assert_rc(jotd_store_user_list(f->st, 0, 10, &list, &n), JOTD_OK);
    assert_int_equal(n, 2);
    jotd_user_list_free(list, n);
}

/* ---- the data directory and the database file ---------------------------------------------- */

static void test_data_dir_check(void **state)
{
    fx_t *f = *state;
    char err[256], sub[256];

    assert_int_equal(chmod(f->dir, 0700), 0);
    assert_int_equal(jotd_data_dir_check(f->dir, err, sizeof err), JOTD_OK);
    assert_int_equal(chmod(f->dir, 0750), 0);
    assert_int_equal(jotd_data_dir_check(f->dir, err, sizeof err), JOTD_OK);
    assert_int_equal(chmod(f->dir, 0770), 0);
    assert_int_equal(jotd_data_dir_check(f->dir, err, sizeof err), JOTD_E_INVAL);
    assert_non_null(strstr(err, "writable"));
    assert_int_equal(chmod(f->dir, 0702), 0);
    assert_int_equal(jotd_data_dir_check(f->dir, err, sizeof err), JOTD_E_INVAL);
    assert_int_equal(chmod(f->dir, 01777), 0);
    assert_int_equal(jotd_data_dir_check(f->dir, err, sizeof err), JOTD_E_INVAL);
    assert_int_equal(chmod(f->dir, 0700), 0);
    /* not a directory, missing */
    assert_int_equal(jotd_data_dir_check(f->path, err, sizeof err), JOTD_E_INVAL);
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    assert_int_equal(jotd_data_dir_check(sub, err, sizeof err), JOTD_E_IO);
    /* owned by someone else: the root directory, unless we are root */
    if (geteuid() != 0) {
        assert_int_equal(jotd_data_dir_check("/", err, sizeof err), JOTD_E_INVAL);
        assert_non_null(strstr(err, "owned by"));
    }
}

static void test_store_refuses_symlinked_db(void **state)
{
    fx_t *f = *state;
    char link[256];
    jotd_store_t *st = NULL;

    snprintf(link, sizeof link, "%s/link.db", f->dir);
    assert_int_equal(symlink(f->path, link), 0);
    assert_rc(jotd_store_open(link, &st), JOTD_E_IO);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "symbolic link"));
    assert_null(st);
}

/* ---- throttle limits change without losing counters ---------------------------------------- */

static void test_throttle_set_limits(void **state)
{
    (void)state;
    jotd_throttle_t *t = jotd_throttle_new(100, 1000, 64);
    assert_non_null(t);
    for (int i = 0; i < 3; i++)
        jotd_throttle_failure(t, "eve", "192.0.2.1", T0);
    assert_int_equal(jotd_throttle_check(t, "eve", "192.0.2.1", T0), 0);
    jotd_throttle_set_limits(t, 4, 1000);
    assert_int_equal(jotd_throttle_check(t, "eve", "192.0.2.1", T0), 0);
    /* the fourth failure counts the three before the change */
    jotd_throttle_failure(t, "eve", "192.0.2.1", T0);
    assert_true(jotd_throttle_check(t, "eve", "192.0.2.1", T0) > 0);
    /* raising it again keeps the lock that runs */
    jotd_throttle_set_limits(t, 100, 1000);
    assert_true(jotd_throttle_check(t, "eve", "192.0.2.1", T0) > 0);
    jotd_throttle_set_limits(NULL, 1, 1);
    jotd_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phc_params),
        cmocka_unit_test_setup_teardown(test_dummy_follows_stored_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehash_keeps_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_username_case_insensitive_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_dir_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_symlinked_db, setup, teardown),
        cmocka_unit_test(test_throttle_set_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
