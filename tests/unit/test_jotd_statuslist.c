/* Token Status Lists (server/statuslist.c): the bit order and the ZLIB + base64url encoding
 * against the draft's own examples (../shared/specs/token-status-list/), the K of a path,
 * the URI, the signed token built from a store, and the cache's freshness rules. */
#include "test.h"

#include "statuslist.h"
#include "store.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1700000000
#define N JOTD_STATUS_LIST_BITS

/* status_list_encoding_json.md: byte_array = [0xb9, 0xa3] → "eNrbuRgAAhcBXQ", the statuses
 * listed in the draft's section "Status List" (1 bit per status). */
static const char example_lst[] = "eNrbuRgAAhcBXQ";
static const int example_status[16] = {1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1};

/* status_list_encoding1_long_json.md: 2^20 entries, these set (the draft's "Test vectors"). */
static const char long_lst[] = "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogE"
                               "AAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                               "AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAA"
                               "A7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA"
                               "ACAZC8L2AEb";
static const uint64_t long_set[] = {0,      1993,   25460,  159495, 495669, 554353,
                                    645645, 723232, 854545, 934534, 1000345};

static void test_bit_order_matches_draft(void **state)
{
    (void)state;
    uint8_t bits[2] = {0};
    for (uint64_t i = 0; i < 16; i++)
        if (example_status[i])
            jotd_statuslist_set(bits, sizeof bits, i);
    assert_int_equal(bits[0], 0xb9); /* index 0 is the least significant bit of byte 0 */
    assert_int_equal(bits[1], 0xa3);
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(jotd_statuslist_get(bits, sizeof bits, i), example_status[i]);
    /* past the end: ignored, reads 0 */
    jotd_statuslist_set(bits, sizeof bits, 16);
    assert_int_equal(jotd_statuslist_get(bits, sizeof bits, 16), 0);
    assert_int_equal(bits[1], 0xa3);
}

static void test_short_example_round_trip(void **state)
{
    (void)state;
    /* the draft's encoding decodes to the draft's bytes */
    uint8_t *d = NULL;
    size_t n = 0;
    assert_rc(jotd_statuslist_decode(example_lst, strlen(example_lst), 16, &d, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[0], 0xb9);
    assert_int_equal(d[1], 0xa3);
    /* ours decodes to the same bytes (byte equality of the compressed text is not required) */
    char *lst = NULL;
    assert_rc(jotd_statuslist_encode(d, n, &lst), JOTD_OK);
    free(d);
    d = NULL;
    assert_rc(jotd_statuslist_decode(lst, strlen(lst), 16, &d, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[0], 0xb9);
    assert_int_equal(d[1], 0xa3);
    for (const char *p = lst; *p; p++) /* base64url, no padding */
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    free(lst);
    free(d);
}

static void test_long_example_same_bits(void **state)
{
    (void)state;
    uint8_t *bits = calloc(1, JOTD_STATUS_LIST_BYTES);
    assert_non_null(bits);
    for (size_t i = 0; i < sizeof long_set / sizeof long_set[0]; i++)
        jotd_statuslist_set(bits, JOTD_STATUS_LIST_BYTES, long_set[i]);
    char *lst = NULL;
    assert_rc(jotd_statuslist_encode(bits, JOTD_STATUS_LIST_BYTES, &lst), JOTD_OK);
    uint8_t *ours = NULL, *theirs = NULL;
    size_t n1 = 0, n2 = 0;
    assert_rc(jotd_statuslist_decode(lst, strlen(lst), JOTD_STATUS_LIST_BYTES, &ours, &n1),
              JOTD_OK);
    assert_rc(
        jotd_statuslist_decode(long_lst, strlen(long_lst), JOTD_STATUS_LIST_BYTES, &theirs, &n2),
        JOTD_OK);
    assert_int_equal(n1, JOTD_STATUS_LIST_BYTES);
    assert_int_equal(n2, JOTD_STATUS_LIST_BYTES);
    assert_memory_equal(ours, theirs, JOTD_STATUS_LIST_BYTES);
    assert_memory_equal(ours, bits, JOTD_STATUS_LIST_BYTES);
    size_t ones = 0;
    for (uint64_t i = 0; i < N; i++)
        ones += (size_t)jotd_statuslist_get(theirs, n2, i);
    assert_int_equal(ones, sizeof long_set / sizeof long_set[0]);
    printf("# 2^20 entries, 11 set: our lst %zu characters, the draft's %zu\n", strlen(lst),
           strlen(long_lst));
    free(lst);
    free(ours);
    free(theirs);
    free(bits);
}

static void test_decode_refuses(void **state)
{
    (void)state;
    uint8_t *zeros = calloc(1, JOTD_STATUS_LIST_BYTES);
    assert_non_null(zeros);
    char *lst = NULL;
    assert_rc(jotd_statuslist_encode(zeros, JOTD_STATUS_LIST_BYTES, &lst), JOTD_OK);
    uint8_t *d = NULL;
    size_t n = 0;
    /* 128 KiB from ~150 characters: a cap stops a decompression bomb */
    assert_rc(jotd_statuslist_decode(lst, strlen(lst), 1000, &d, &n), JOTD_E_TOOMANY);
    assert_rc(jotd_statuslist_decode(lst, strlen(lst), JOTD_STATUS_LIST_BYTES - 1, &d, &n),
              JOTD_E_TOOMANY);
    assert_null(d);
    /* truncated stream, not base64url, padding, trailing garbage */
    assert_rc(jotd_statuslist_decode(lst, strlen(lst) - 4, JOTD_STATUS_LIST_BYTES, &d, &n),
              JOTD_E_MALFORMED);
    assert_rc(jotd_statuslist_decode("eNrb+RgAAhcBXQ", 14, 16, &d, &n), JOTD_E_MALFORMED);
    assert_rc(jotd_statuslist_decode("eNrbuRgAAhcBXQ==", 16, 16, &d, &n), JOTD_E_MALFORMED);
    assert_rc(jotd_statuslist_decode("eNrbuRgAAhcBXQAA", 16, 16, &d, &n), JOTD_E_MALFORMED);
    assert_rc(jotd_statuslist_encode(zeros, 0, &lst), JOTD_E_INVAL);
    free(lst);
    free(zeros);
}

static void test_parse_k_and_uri(void **state)
{
    (void)state;
    int64_t k = -1;
    assert_int_equal(jotd_statuslist_parse_k("0", &k), 0);
    assert_int_equal(k, 0);
    assert_int_equal(jotd_statuslist_parse_k("17", &k), 0);
    assert_int_equal(k, 17);
    char max[32];
    snprintf(max, sizeof max, "%lld", (long long)JOTD_STATUS_LIST_MAX_K);
    assert_int_equal(jotd_statuslist_parse_k(max, &k), 0);
    assert_int_equal(k, JOTD_STATUS_LIST_MAX_K);
    snprintf(max, sizeof max, "%lld", (long long)JOTD_STATUS_LIST_MAX_K + 1);
    k = 5;
    const char *bad[] = {
        "", "00", "01", "-1", "+1", "1x", " 1", "1 ", "0x1", "1/", "99999999999999999999", max};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jotd_statuslist_parse_k(bad[i], &k) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(k, 5);
    char uri[128];
    assert_int_equal(jotd_statuslist_uri("https://id.example", 3, uri, sizeof uri), 0);
    assert_string_equal(uri, "https://id.example/statuslists/3");
    assert_int_equal(jotd_statuslist_uri("https://id.example/auth//", 0, uri, sizeof uri), 0);
    assert_string_equal(uri, "https://id.example/auth/statuslists/0");
    assert_int_equal(jotd_statuslist_uri("https://id.example", 3, uri, 20), -1);
}

/* ---- the signed token and the cache, on a SQLite store ---- */

typedef struct fx {
    char dir[256];
    jotd_store_t *st;
    jot_key_t *key;
    int64_t uid;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/jotd-sl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char path[300];
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(path, sizeof path, "%s/jotd.db", f->dir);
    if (jotd_store_open(path, &f->st) != JOTD_OK)
        return -1;
    if (jot_key_generate(JOT_ALG_ES256, 0, &f->key) != JOT_OK)
        return -1;
    jotd_user_t u = {.username = "sl", .password_hash = "h"};
    if (jotd_store_user_create(f->st, &u, T0, &f->uid) != JOTD_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    jotd_store_close(f->st);
    jot_key_free(f->key);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            if (e->d_name[0] != '.')
                unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static int64_t login(fx_t *f, unsigned n)
{
    jotd_session_t s = {
        .user_id = f->uid, .client_id = "web", .scope = "", .expires_at = T0 + 86400};
    snprintf(s.sid, sizeof s.sid, "sl-%u", n);
    uint8_t h[JOTD_HASH_LEN] = {(uint8_t)n, (uint8_t)(n >> 8), 7};
    assert_rc(jotd_store_session_create(f->st, &s, h, 3600, T0), JOTD_OK);
    return s.status_idx;
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* Verify \p tok with the fixture's key (typ statuslist+jwt) at \p now and return its bits. */
static uint8_t *token_bits(fx_t *f, const char *tok, int64_t k, int64_t now)
{
    jot_verifier_t *v = NULL;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, f->key);
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_ES256));
    assert_int_equal(jot_verifier_set_typ(v, "statuslist+jwt"), JOT_OK);
    jot_verifier_set_leeway(v, 0);
    jot_verifier_set_clock(v, fixed_clock, &now);
    jot_token_t *t = NULL;
    assert_int_equal(jot_verify(v, tok, strlen(tok), &t), JOT_OK);
    const jot_claims_t *c = jot_token_claims(t);
    const char *sub = NULL;
    int64_t ttl = 0, iat = 0, exp = 0;
    assert_int_equal(jot_claims_get_string(c, "sub", &sub), JOT_OK);
    char uri[128];
    assert_int_equal(jotd_statuslist_uri("https://id.example", k, uri, sizeof uri), 0);
    assert_string_equal(sub, uri);
    assert_int_equal(jot_claims_get_int(c, "ttl", &ttl), JOT_OK);
    assert_int_equal(ttl, 30);
    assert_int_equal(jot_claims_get_int(c, "iat", &iat), JOT_OK);
    assert_int_equal(jot_claims_get_int(c, "exp", &exp), JOT_OK);
    assert_int_equal(exp - iat, 960);
    char *sl = NULL;
    size_t sl_len = 0;
    assert_int_equal(jot_claims_get_json(c, "status_list", &sl, &sl_len), JOT_OK);
    /* {"bits":1,"lst":"..."} */
    assert_non_null(strstr(sl, "\"bits\":1"));
    const char *p = strstr(sl, "\"lst\":\"");
    assert_non_null(p);
    p += 7;
    const char *q = strchr(p, '"');
    assert_non_null(q);
    uint8_t *bits = NULL;
    size_t n = 0;
    assert_rc(jotd_statuslist_decode(p, (size_t)(q - p), JOTD_STATUS_LIST_BYTES, &bits, &n),
              JOTD_OK);
    assert_int_equal(n, JOTD_STATUS_LIST_BYTES);
    jot_free(sl);
    jot_token_free(t);
    jot_verifier_free(v);
    return bits;
}

static void test_token_from_store(void **state)
{
    fx_t *f = *state;
    jotd_statuslist_params_t p = {
        .issuer = "https://id.example/", .key = f->key, .ttl = 30, .lifetime = 960};
    char *tok = NULL;
    size_t len = 0;
    /* no session yet: list 0 holds one allocated index all the same, the default client's
     * (every client has one, for its service tokens), so it is served */
    assert_rc(jotd_statuslist_token(f->st, &p, 0, T0, &tok, &len), JOTD_OK);
    free(tok);
    tok = NULL;
    int64_t a = login(f, 1), b = login(f, 2), c = login(f, 3);
    assert_rc(jotd_store_session_revoke(f->st, "sl-2", T0 + 1), JOTD_OK);
    assert_rc(jotd_statuslist_token(f->st, &p, 0, T0 + 2, &tok, &len), JOTD_OK);
    assert_int_equal(len, strlen(tok));
    uint8_t *bits = token_bits(f, tok, 0, T0 + 2);
    assert_int_equal(jotd_statuslist_get(bits, JOTD_STATUS_LIST_BYTES, (uint64_t)a), 0);
    assert_int_equal(jotd_statuslist_get(bits, JOTD_STATUS_LIST_BYTES, (uint64_t)b), 1);
    assert_int_equal(jotd_statuslist_get(bits, JOTD_STATUS_LIST_BYTES, (uint64_t)c), 0);
    free(bits);
    free(tok);
    assert_rc(jotd_statuslist_token(f->st, &p, 1, T0, &tok, &len), JOTD_E_NOTFOUND);
    p.lifetime = 10; /* shorter than ttl */
    assert_rc(jotd_statuslist_token(f->st, &p, 0, T0, &tok, &len), JOTD_E_INVAL);
}

/* A list whose bits do not compress (half of 2^20 entries revoked, at random): about 235 KB
 * signed, beyond the 64 KiB tokens jot_jwt_sign makes. jotd signs it all the same (the
 * regression: a busy store's list could not be built, and every service failed closed), and
 * libjot's status checker reads it (test_status_list.c covers the checker's size cap). */
static void test_incompressible_list_is_signed(void **state)
{
    fx_t *f = *state;
    (void)login(f, 1);
    char path[300], sql[256];
    snprintf(path, sizeof path, "%s/jotd.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE status_counter SET next = %u WHERE id = 0",
             (unsigned)JOTD_STATUS_LIST_BITS);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
                                  " WHERE i < 1048575)"
                                  " INSERT OR IGNORE INTO status_revoked (idx, revoked_at)"
                                  " SELECT i, 1 FROM n WHERE random() % 2 = 0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    jotd_statuslist_params_t p = {
        .issuer = "https://id.example", .key = f->key, .ttl = 30, .lifetime = 960};
    char *tok = NULL;
    size_t len = 0;
    assert_rc(jotd_statuslist_token(f->st, &p, 0, T0, &tok, &len), JOTD_OK);
    assert_true(len > 64 * 1024);
    assert_true(len <= JOT_MAX_LARGE_TOKEN_LEN);
    /* what jot_verify takes is a token: a list this size is a document for the checker */
    jot_verifier_t *v = NULL;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, f->key);
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_ES256));
    assert_int_equal(jot_verify(v, tok, len, NULL), JOT_E_TOOBIG);
    jot_verifier_free(v);
    /* the signature is good over the whole document */
    const char *dot = strrchr(tok, '.');
    assert_non_null(dot);
    uint8_t sig[256];
    size_t sig_len = 0;
    assert_int_equal(jot_b64url_decode(sig, &sig_len, dot + 1, strlen(dot + 1)), JOT_OK);
    assert_int_equal(sig_len, 64);
    free(tok);
}

static void test_cache_rules(void **state)
{
    fx_t *f = *state;
    jotd_statuslists_t *c = jotd_statuslists_new();
    assert_non_null(c);
    jotd_statuslist_params_t p = {
        .issuer = "https://id.example", .key = f->key, .ttl = 30, .lifetime = 960};
    int64_t a = login(f, 1);
    char *t1 = NULL, *t2 = NULL;
    size_t n1, n2;
    /* nothing cached: the event loop may not build */
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0, false, &t1, &n1), JOTD_E_BUSY);
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0, true, &t1, &n1), JOTD_OK);
    /* fresh: the same token, also without building */
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0 + 14, false, &t2, &n2), JOTD_OK);
    assert_string_equal(t1, t2);
    free(t2);
    /* a revocation is not seen until an event says so (the store is not read) */
    assert_rc(jotd_store_session_revoke(f->st, "sl-1", T0 + 1), JOTD_OK);
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0 + 2, true, &t2, &n2), JOTD_OK);
    assert_string_equal(t1, t2);
    free(t2);
    jotd_statuslists_changed(c);
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0 + 2, false, &t2, &n2), JOTD_E_BUSY);
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0 + 2, true, &t2, &n2), JOTD_OK);
    uint8_t *bits = token_bits(f, t2, 0, T0 + 2);
    assert_int_equal(jotd_statuslist_get(bits, JOTD_STATUS_LIST_BYTES, (uint64_t)a), 1);
    free(bits);
    free(t1);
    /* at ttl / 2 it is stale */
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0 + 2 + 14, false, &t1, &n1), JOTD_OK);
    free(t1);
    assert_rc(jotd_statuslists_get(c, f->st, &p, 0, T0 + 2 + 15, false, &t1, &n1), JOTD_E_BUSY);
    /* another signing key: stale */
    jot_key_t *k2 = NULL;
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &k2), JOT_OK);
    jotd_statuslist_params_t p2 = p;
    p2.key = k2;
    assert_rc(jotd_statuslists_get(c, f->st, &p2, 0, T0 + 3, false, &t1, &n1), JOTD_E_BUSY);
    /* a list never allocated is not cached (and not found) */
    assert_rc(jotd_statuslists_get(c, f->st, &p, 5, T0 + 3, true, &t1, &n1), JOTD_E_NOTFOUND);
    assert_rc(jotd_statuslists_get(c, f->st, &p, -1, T0 + 3, true, &t1, &n1), JOTD_E_INVAL);
    /* no cache at all: builds each time, never on the loop */
    assert_rc(jotd_statuslists_get(NULL, f->st, &p, 0, T0 + 3, false, &t1, &n1), JOTD_E_BUSY);
    assert_rc(jotd_statuslists_get(NULL, f->st, &p, 0, T0 + 3, true, &t1, &n1), JOTD_OK);
    free(t1);
    free(t2);
    jot_key_free(k2);
    jotd_statuslists_free(c);
    jotd_statuslists_free(NULL);
}

/* Many threads asking for the list while it keeps being invalidated: every answer is a
 * whole, valid token. */
struct getter {
    jotd_statuslists_t *c;
    fx_t *f;
    const jotd_statuslist_params_t *p;
    int ok, busy, other;
};

static void *getter_main(void *arg)
{
    struct getter *g = arg;
    for (int i = 0; i < 40; i++) {
        char *t = NULL;
        size_t n = 0;
        jotd_rc_t r = jotd_statuslists_get(g->c, g->f->st, g->p, 0, T0 + 1, i % 3 != 0, &t, &n);
        if (r == JOTD_OK && t && strlen(t) == n && strncmp(t, "eyJ", 3) == 0)
            g->ok++;
        else if (r == JOTD_E_BUSY && i % 3 == 0)
            g->busy++;
        else
            g->other++;
        free(t);
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    fx_t *f = *state;
    jotd_statuslists_t *c = jotd_statuslists_new();
    assert_non_null(c);
    jotd_statuslist_params_t p = {
        .issuer = "https://id.example", .key = f->key, .ttl = 30, .lifetime = 960};
    (void)login(f, 1);
    enum { NT = 4 };
    pthread_t th[NT];
    struct getter g[NT];
    for (int i = 0; i < NT; i++) {
        g[i] = (struct getter){.c = c, .f = f, .p = &p};
        assert_int_equal(pthread_create(&th[i], NULL, getter_main, &g[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        jotd_statuslists_changed(c);
        usleep(1000);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(g[i].other, 0);
        assert_true(g[i].ok >= 26); /* every building call */
    }
    jotd_statuslists_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_order_matches_draft),
        cmocka_unit_test(test_short_example_round_trip),
        cmocka_unit_test(test_long_example_same_bits),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_parse_k_and_uri),
        cmocka_unit_test_setup_teardown(test_token_from_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incompressible_list_is_signed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_threads, setup, teardown),
    };
    return cmocka_run_group_tests_name("status lists", tests, NULL, NULL);
}
