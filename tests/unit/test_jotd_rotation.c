/* Unit tests for the backend-neutral half of the store (server/store.c), with no database:
 * the refresh-rotation decision (jotd_rotation_decide, jotd_rotation_rc), the stored text of
 * roles/permissions/scopes (jotd_store__list_encode/_decode), and the argument checks that
 * answer before any backend operation is called (a fake backend whose table is empty). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "store_backend.h"

/* ---- the rotation decision --------------------------------------------------------------- */

#define NOW 1000
#define GRACE 10

/* A live token of session "sid-1" (client "web", ends at 5000), user enabled; the
 * presented successor is all 0x22, the recorded one (when used) the same. */
typedef struct fixture {
    jotd_rotation_row_t row;
    jotd_session_t session;
    jotd_user_t user;
    uint8_t new_hash[JOTD_HASH_LEN];
    const char *client_id;
    int64_t now, grace;
} fixture_t;

static fixture_t live(void)
{
    fixture_t f;
    memset(&f, 0, sizeof f);
    f.row.token_expires_at = NOW + 100;
    f.row.user_present = true;
    memcpy(f.session.sid, "sid-1", 6);
    f.session.client_id = "web";
    f.session.scope = "";
    f.session.expires_at = NOW + 4000;
    f.user.id = 7;
    memset(f.new_hash, 0x22, sizeof f.new_hash);
    f.client_id = "web";
    f.now = NOW;
    f.grace = GRACE;
    return f;
}

/* live() after one rotation GRACE/2 seconds ago to new_hash, whose row is still live */
static fixture_t used(void)
{
    fixture_t f = live();
    f.row.used = true;
    f.row.used_at = NOW - GRACE / 2;
    f.row.has_successor = true;
    memcpy(f.row.successor, f.new_hash, JOTD_HASH_LEN);
    f.row.successor_live = true;
    return f;
}

static jotd_rotation_action_t decide(const fixture_t *f)
{
    return jotd_rotation_decide(&f->row, &f->session, &f->user, f->client_id, f->new_hash, f->now,
                                f->grace);
}

static void test_live(void **state)
{
    (void)state;
    fixture_t f = live();
    assert_int_equal(decide(&f), JOTD_ROTATE_LIVE);
    f.now = f.row.token_expires_at - 1; /* the last second of the idle window */
    assert_int_equal(decide(&f), JOTD_ROTATE_LIVE);
    f.grace = 0; /* the window plays no part for an unused token */
    assert_int_equal(decide(&f), JOTD_ROTATE_LIVE);
}

static void test_expired(void **state)
{
    (void)state;
    fixture_t f = live();
    f.row.token_expires_at = NOW; /* idle expiry == now: expired */
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED);
    f = live();
    f.session.expires_at = NOW; /* session end == now: ended */
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED);
    f = live();
    f.session.revoked = true;
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED);
    /* a used token of a revoked session (every token of it is marked used): EXPIRED, not
     * REUSE, so that presenting it after a logout revokes nothing more */
    f = used();
    f.session.revoked = true;
    f.row.has_successor = false;
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED);
}

static void test_mismatch(void **state)
{
    (void)state;
    fixture_t f = live();
    f.client_id = "other";
    assert_int_equal(decide(&f), JOTD_ROTATE_MISMATCH);
    f.client_id = "we"; /* a prefix is another client */
    assert_int_equal(decide(&f), JOTD_ROTATE_MISMATCH);
    f.client_id = "web2";
    assert_int_equal(decide(&f), JOTD_ROTATE_MISMATCH);
    f = used(); /* even a replayed token: another client learns nothing, revokes nothing */
    f.client_id = "other";
    assert_int_equal(decide(&f), JOTD_ROTATE_MISMATCH);
}

static void test_disabled(void **state)
{
    (void)state;
    fixture_t f = live();
    f.user.disabled = true;
    assert_int_equal(decide(&f), JOTD_ROTATE_DISABLED);
    f = live();
    f.row.user_present = false; /* deleted */
    assert_int_equal(decide(&f), JOTD_ROTATE_DISABLED);
    assert_int_equal(
        jotd_rotation_decide(&f.row, &f.session, NULL, f.client_id, f.new_hash, f.now, f.grace),
        JOTD_ROTATE_DISABLED);
    f = used(); /* a replay by a disabled user: refused, no revocation */
    f.user.disabled = true;
    f.row.successor_live = false;
    assert_int_equal(decide(&f), JOTD_ROTATE_DISABLED);
}

/* expired → mismatch → disabled → live → grace → reuse: the first that applies wins. */
static void test_precedence(void **state)
{
    (void)state;
    fixture_t f = live();
    f.row.token_expires_at = NOW;
    f.client_id = "other";
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED); /* expired AND mismatched */
    f.user.disabled = true;
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED); /* ... AND disabled */
    f = live();
    f.client_id = "other";
    f.user.disabled = true;
    assert_int_equal(decide(&f), JOTD_ROTATE_MISMATCH); /* mismatched AND disabled */
    f.row.user_present = false;
    assert_int_equal(decide(&f), JOTD_ROTATE_MISMATCH); /* mismatched AND deleted */
    f = used();
    f.row.successor_live = false;
    f.session.expires_at = NOW;
    assert_int_equal(decide(&f), JOTD_ROTATE_EXPIRED); /* reuse of an ended session */
}

static void test_grace(void **state)
{
    (void)state;
    fixture_t f = used();
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
    f.row.used_at = NOW - GRACE; /* exactly at the edge of the window: still grace */
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
    f.row.used_at = NOW; /* the same second */
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
    f.row.used_at = NOW + 3; /* a clock that stepped back: still inside */
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
    f = used();
    f.grace = 1;
    f.row.used_at = NOW - 1;
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
}

static void test_reuse(void **state)
{
    (void)state;
    fixture_t f = used();
    f.row.used_at = NOW - GRACE - 1; /* one second past the window */
    assert_int_equal(decide(&f), JOTD_ROTATE_REUSE);

    f = used();
    f.new_hash[JOTD_HASH_LEN - 1] ^= 1; /* within the window, another successor */
    assert_int_equal(decide(&f), JOTD_ROTATE_REUSE);
    f = used();
    f.new_hash[0] ^= 0x80;
    assert_int_equal(decide(&f), JOTD_ROTATE_REUSE);

    f = used();
    f.row.successor_live = false; /* the successor was rotated on, expired or is gone */
    assert_int_equal(decide(&f), JOTD_ROTATE_REUSE);

    f = used();
    f.grace = 0; /* no window at all, even in the same second */
    f.row.used_at = NOW;
    assert_int_equal(decide(&f), JOTD_ROTATE_REUSE);

    f = used();
    f.row.has_successor = false; /* killed without a successor (the session's revocation) */
    assert_int_equal(decide(&f), JOTD_ROTATE_REUSE);
}

/* The decision reads only what it is given. */
static void test_decide_is_pure(void **state)
{
    (void)state;
    fixture_t f = used(), copy = used();
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
    assert_memory_equal(&f, &copy, sizeof f);
    assert_int_equal(decide(&f), JOTD_ROTATE_GRACE);
}

static void test_rotation_rc(void **state)
{
    (void)state;
    fixture_t f = live();
    assert_rc(jotd_rotation_rc(JOTD_ROTATE_LIVE, &f.session), JOTD_OK);
    assert_rc(jotd_rotation_rc(JOTD_ROTATE_GRACE, &f.session), JOTD_OK);
    assert_rc(jotd_rotation_rc(JOTD_ROTATE_EXPIRED, &f.session), JOTD_E_EXPIRED);
    assert_string_equal(jotd_store_errmsg(NULL), "refresh token expired or session ended");
    assert_rc(jotd_rotation_rc(JOTD_ROTATE_MISMATCH, &f.session), JOTD_E_MISMATCH);
    assert_string_equal(jotd_store_errmsg(NULL), "refresh token issued to another client");
    assert_rc(jotd_rotation_rc(JOTD_ROTATE_DISABLED, &f.session), JOTD_E_DISABLED);
    assert_string_equal(jotd_store_errmsg(NULL), "user disabled");
    assert_rc(jotd_rotation_rc(JOTD_ROTATE_REUSE, &f.session), JOTD_E_REUSED);
    assert_string_equal(jotd_store_errmsg(NULL), "refresh token reuse: session sid-1 revoked");
    assert_rc(jotd_rotation_rc((jotd_rotation_action_t)99, &f.session), JOTD_E_IO);
}

/* ---- list encoding --------------------------------------------------------------------- */

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* encode \p v, expect \p text exactly, decode it back to \p v */
static void round_trip(const char *const *v, size_t n, const char *text)
{
    char *enc = NULL;
    assert_rc(jotd_store__list_encode(v, n, &enc), JOTD_OK);
    assert_string_equal(enc, text);
    char **dec = NULL;
    size_t dec_n = 99;
    assert_rc(jotd_store__list_decode(enc, strlen(enc), &dec, &dec_n), JOTD_OK);
    assert_int_equal(dec_n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(dec[i], v[i]);
    free_list(dec, dec_n);
    free(enc);
}

static void test_list_empty(void **state)
{
    (void)state;
    round_trip(NULL, 0, "[]");
    char **dec = (char **)&dec;
    size_t n = 99;
    assert_rc(jotd_store__list_decode(NULL, 0, &dec, &n), JOTD_OK);
    assert_null(dec);
    assert_int_equal(n, 0);
    dec = (char **)&dec;
    n = 99;
    assert_rc(jotd_store__list_decode("", 0, &dec, &n), JOTD_OK);
    assert_null(dec);
    assert_int_equal(n, 0);
    assert_rc(jotd_store__list_decode(" [ ] ", 5, &dec, &n), JOTD_OK);
    assert_int_equal(n, 0);
}

/* The text that existing databases hold: compact, in order, UTF-8 as it is. */
static void test_list_format(void **state)
{
    (void)state;
    const char *const roles[] = {"admin", "ops", "admin"};
    round_trip(roles, 3, "[\"admin\",\"ops\",\"admin\"]");
    const char *const one[] = {""};
    round_trip(one, 1, "[\"\"]");
}

static void test_list_unicode(void **state)
{
    (void)state;
    const char *const v[] = {"r\xc3\xb4le", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x94\x91"};
    round_trip(v, 3, "[\"r\xc3\xb4le\",\"\xe6\x97\xa5\xe6\x9c\xac\",\"\xf0\x9f\x94\x91\"]");
    /* escapes written by another writer decode to the same strings */
    char **dec = NULL;
    size_t n = 0;
    const char *esc = "[\"r\\u00f4le\",\"\\ud83d\\udd11\"]";
    assert_rc(jotd_store__list_decode(esc, strlen(esc), &dec, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_string_equal(dec[0], "r\xc3\xb4le");
    assert_string_equal(dec[1], "\xf0\x9f\x94\x91");
    free_list(dec, n);
}

static void test_list_quotes(void **state)
{
    (void)state;
    const char *const v[] = {"say \"hi\"", "back\\slash", "tab\tnew\nline", "[\"a\",\"b\"]"};
    round_trip(v, 4,
               "[\"say \\\"hi\\\"\",\"back\\\\slash\",\"tab\\tnew\\nline\","
               "\"[\\\"a\\\",\\\"b\\\"]\"]");
}

/* decode reads \p len bytes, not up to a NUL */
static void test_list_decode_len(void **state)
{
    (void)state;
    char **dec = NULL;
    size_t n = 0;
    assert_rc(jotd_store__list_decode("[\"a\"]garbage", 5, &dec, &n), JOTD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(dec[0], "a");
    free_list(dec, n);
    assert_rc(jotd_store__list_decode("[\"a\"]", 4, &dec, &n), JOTD_E_IO);
}

static void test_list_decode_bad(void **state)
{
    (void)state;
    const char *bad[] = {
        "not json",  "{}",     "\"a\"",    "[1]",  "[\"a\",null]",
        "[[\"a\"]]", "[\"a\"", "[\"a\",]", "null", "[\"\xff\"]", /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char **dec = (char **)&dec;
        size_t n = 99;
        assert_rc(jotd_store__list_decode(bad[i], strlen(bad[i]), &dec, &n), JOTD_E_IO);
        assert_ptr_equal(dec, (char **)&dec); /* outputs untouched */
        assert_int_equal(n, 99);
        assert_non_null(strstr(jotd_store_errmsg(NULL), "corrupt row"));
    }
}

static void test_list_encode_bad(void **state)
{
    (void)state;
    char *enc = (char *)&enc;
    const char *const bad_utf8[] = {"ok", "\xc3("};
    assert_rc(jotd_store__list_encode(bad_utf8, 2, &enc), JOTD_E_INVAL);
    const char *const with_null[] = {"ok", NULL};
    assert_rc(jotd_store__list_encode(with_null, 2, &enc), JOTD_E_INVAL);
    assert_rc(jotd_store__list_encode(NULL, 1, &enc), JOTD_E_INVAL);
    assert_ptr_equal(enc, (char *)&enc);
}

/* ---- store.c's checks, before any backend operation ---------------------------------------- */

static int rotate_calls;

static jotd_rc_t fake_rotate(jotd_store_t *st, const uint8_t old_hash[JOTD_HASH_LEN],
                             const uint8_t new_hash[JOTD_HASH_LEN], const char *client_id,
                             int64_t now, int64_t idle_ttl, int64_t grace_seconds,
                             jotd_rotation_t *out)
{
    (void)st, (void)old_hash, (void)new_hash, (void)client_id, (void)now, (void)idle_ttl;
    (void)grace_seconds, (void)out;
    rotate_calls++;
    return JOTD_E_NOTFOUND;
}

/* Every other operation is NULL: reaching one would crash the test. */
static const jotd_store_ops_t fake_ops = {.name = "fake", .refresh_rotate = fake_rotate};

static void test_checks_before_dispatch(void **state)
{
    (void)state;
    jotd_store_t st = {.ops = &fake_ops};
    uint8_t a[JOTD_HASH_LEN], b[JOTD_HASH_LEN];
    memset(a, 1, sizeof a);
    memset(b, 2, sizeof b);
    jotd_rotation_t rot = {0};
    jotd_user_t u = {0};
    jotd_session_t se = {0};
    char buf[8];
    int64_t v;

    rotate_calls = 0;
    assert_rc(jotd_store_refresh_rotate(&st, a, b, "web", 10, 60, 5, &rot), JOTD_E_NOTFOUND);
    assert_int_equal(rotate_calls, 1);
    assert_rc(jotd_store_refresh_rotate(&st, a, a, "web", 10, 60, 5, &rot), JOTD_E_INVAL);
    assert_string_equal(jotd_store_errmsg(NULL), "refresh_rotate: successor equals the old token");
    assert_rc(jotd_store_refresh_rotate(&st, a, b, NULL, 10, 60, 5, &rot), JOTD_E_INVAL);
    assert_rc(jotd_store_refresh_rotate(&st, a, b, "web", -1, 60, 5, &rot), JOTD_E_INVAL);
    assert_rc(jotd_store_refresh_rotate(&st, a, b, "web", 10, 0, 5, &rot), JOTD_E_INVAL);
    assert_rc(jotd_store_refresh_rotate(&st, a, b, "web", 10, 60, -1, &rot), JOTD_E_INVAL);
    assert_string_equal(jotd_store_errmsg(NULL), "refresh_rotate: bad time arguments");
    assert_int_equal(rotate_calls, 1);

    assert_rc(jotd_store_user_create(&st, &u, 0, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_user_get(&st, 1, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_user_get_by_name(&st, NULL, &u), JOTD_E_INVAL);
    jotd_user_patch_t patch = {.disabled = 2};
    assert_rc(jotd_store_user_update(&st, 1, &patch, 0), JOTD_E_INVAL);
    patch = (jotd_user_patch_t){.disabled = -1, .password_hash = ""};
    assert_rc(jotd_store_user_update(&st, 1, &patch, 0), JOTD_E_INVAL);
    assert_rc(jotd_store_user_hash_params(&st, buf, 0), JOTD_E_INVAL);
    assert_rc(jotd_store_user_rehash(&st, 1, "old", ""), JOTD_E_INVAL);

    jotd_client_t c = {.client_id = "web", .n_scopes = JOTD_CLIENT_MAX_LIST + 1};
    assert_rc(jotd_store_client_create(&st, &c, 0), JOTD_E_INVAL);
    assert_string_equal(jotd_store_errmsg(NULL), "client: too many scopes or audiences");
    jotd_client_patch_t cp = {.n_introspect = JOTD_CLIENT_MAX_LIST + 1};
    assert_rc(jotd_store_client_update(&st, "web", &cp, 0), JOTD_E_INVAL);
    cp = (jotd_client_patch_t){.secret_hash = ""};
    assert_rc(jotd_store_client_update(&st, "web", &cp, 0), JOTD_E_INVAL);

    memset(se.sid, 'a', sizeof se.sid); /* no NUL within JOTD_SID_LEN + 1: too long */
    se.client_id = "web";
    se.scope = "";
    se.expires_at = 100;
    assert_rc(jotd_store_session_create(&st, &se, a, 60, 0), JOTD_E_INVAL);
    memset(se.sid, 0, sizeof se.sid); /* empty */
    assert_rc(jotd_store_session_create(&st, &se, a, 60, 0), JOTD_E_INVAL);
    memcpy(se.sid, "sid", 4);
    assert_rc(jotd_store_session_create(&st, &se, a, 0, 0), JOTD_E_INVAL);
    assert_rc(jotd_store_session_create(&st, &se, a, 60, 100), JOTD_E_INVAL);
    assert_rc(jotd_store_refresh_lookup(&st, a, 0, &se, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_session_get(&st, "sid", 0, &se, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_sessions_revoke_user(NULL, 1, 0, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_user_delete(NULL, 1, 0), JOTD_E_INVAL);
    assert_rc(jotd_store_user_list(&st, 0, 10, NULL, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_client_get(&st, "web", NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_client_list(&st, NULL, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_client_rehash(&st, "web", NULL, "new"), JOTD_E_INVAL);
    assert_rc(jotd_store_session_revoke(&st, NULL, 0), JOTD_E_INVAL);
    assert_rc(jotd_store_deny_add(&st, "", 0), JOTD_E_INVAL);
    assert_rc(jotd_store_deny_load(&st, 0, NULL, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_events_since(&st, 0, 0, NULL, NULL, &v), JOTD_E_INVAL);
    assert_rc(jotd_store_gc(&st, 0, -1), JOTD_E_INVAL);
    assert_rc(jotd_store_schema_version(&st, NULL), JOTD_E_INVAL);
}

static void test_open_close_durability(void **state)
{
    (void)state;
    jotd_store_t *out = NULL;
    assert_rc(jotd_store_open(NULL, &out), JOTD_E_INVAL);
    assert_rc(jotd_store_open("", &out), JOTD_E_INVAL);
    assert_rc(jotd_store_open("x.db", NULL), JOTD_E_INVAL);
    assert_string_equal(jotd_store_errmsg(NULL), "store location missing");
    jotd_store_close(NULL);
    jotd_store_set_durability(NULL, JOTD_DURABILITY_NORMAL);

    jotd_store_t st = {.ops = &fake_ops};
    jotd_store_set_durability(&st, JOTD_DURABILITY_NORMAL);
    assert_int_equal(st.durability, JOTD_DURABILITY_NORMAL);
    jotd_store_set_durability(&st, JOTD_DURABILITY_FULL);
    assert_int_equal(st.durability, JOTD_DURABILITY_FULL);

    /* A postgres:// location never reaches SQLite. Without libpq it is refused with this
     * text; with it, the .invalid host (RFC 6761) cannot be reached. */
    const char *uris[] = {"postgres://jotd-test.invalid/x?connect_timeout=1",
                          "postgresql://jotd-test.invalid/x?connect_timeout=1"};
    for (size_t i = 0; i < 2; i++) {
        jotd_rc_t rc = jotd_store_open(uris[i], &out);
        if (strstr(jotd_store_errmsg(NULL), "built without PostgreSQL support"))
            assert_rc(rc, JOTD_E_INVAL);
        else
            assert_int_not_equal(rc, JOTD_OK);
        /* what the SQLite backend would have said of such a path */
        assert_null(strstr(jotd_store_errmsg(NULL), "cannot create"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_grace),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_decide_is_pure),
        cmocka_unit_test(test_rotation_rc),
        cmocka_unit_test(test_list_empty),
        cmocka_unit_test(test_list_format),
        cmocka_unit_test(test_list_unicode),
        cmocka_unit_test(test_list_quotes),
        cmocka_unit_test(test_list_decode_len),
        cmocka_unit_test(test_list_decode_bad),
        cmocka_unit_test(test_list_encode_bad),
        cmocka_unit_test(test_checks_before_dispatch),
        cmocka_unit_test(test_open_close_durability),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
