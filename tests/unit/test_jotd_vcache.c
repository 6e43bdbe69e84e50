/* Unit tests for server/vcache.c (the verified-token cache) and jotd_access_check() in
 * server/routes_resource.c (the cache in front of jotd_access_verify, denylist on every
 * hit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include <jansson.h>
#include <pthread.h>

#include "server.h"

/* A verified entry made by hand: jti and a marker in the subject header. */
static jotd_verified_t entry(const char *jti, const char *sub, int64_t exp)
{
    char blob[256];
    /* jti, sid, introspection, gen, aud, then the headers (vcache.c) */
    int n = snprintf(blob, sizeof blob, "%s%c%s%c{\"sub\":\"%s\"}%c0%caud%c%s%cu%cr%cp%cs%cc", jti,
                     0, "sid1", 0, sub, 0, 0, 0, sub, 0, 0, 0, 0, 0);
    assert_true(n > 0 && (size_t)n < sizeof blob);
    jotd_verified_t v = {.exp = exp, .blob_len = (size_t)n + 1};
    v.blob = malloc(v.blob_len);
    assert_non_null(v.blob);
    memcpy(v.blob, blob, v.blob_len);
    return v;
}

static void key_of(const char *token, uint8_t key[JOTD_VCACHE_KEY_LEN])
{
    jotd_vcache_key(token, strlen(token), key);
}

static void put(jotd_vcache_t *c, const char *token, const char *jti, int64_t exp, int64_t now)
{
    uint8_t k[JOTD_VCACHE_KEY_LEN];
    key_of(token, k);
    jotd_verified_t v = entry(jti, token, exp);
    jotd_vcache_put(c, k, &v, now);
    jotd_verified_clear(&v);
}

/* The subject header of the cached entry of \p token, or NULL on a miss (static buffer). */
static const char *get_sub(jotd_vcache_t *c, const char *token, int64_t now)
{
    static char sub[128];
    uint8_t k[JOTD_VCACHE_KEY_LEN];
    jotd_verified_t v;
    key_of(token, k);
    if (!jotd_vcache_get(c, k, now, &v))
        return NULL;
    snprintf(sub, sizeof sub, "%s", v.hdr[0]);
    assert_string_equal(v.sid, "sid1");
    jotd_verified_clear(&v);
    return sub;
}

/* How many of the tokens \p prefix + 0..n-1 are cached at \p now: what the cache holds, seen
 * through get() as its callers see it. */
static size_t hits(jotd_vcache_t *c, const char *prefix, int n, int64_t now)
{
    size_t k = 0;
    char tok[32];
    for (int i = 0; i < n; i++) {
        snprintf(tok, sizeof tok, "%s%d", prefix, i);
        k += get_sub(c, tok, now) != NULL;
    }
    return k;
}

static void test_hit_miss(void **state)
{
    (void)state;
    jotd_vcache_t *c = jotd_vcache_new(64);
    assert_non_null(c);
    assert_null(get_sub(c, "tok-a", 100));
    put(c, "tok-a", "jti-a", 200, 100);
    assert_string_equal(get_sub(c, "tok-a", 100), "tok-a");
    /* another token, a prefix, a longer one: misses */
    assert_null(get_sub(c, "tok-b", 100));
    assert_null(get_sub(c, "tok-", 100));
    assert_null(get_sub(c, "tok-aa", 100));
    jotd_vcache_free(c);
}

static void test_expiry(void **state)
{
    (void)state;
    jotd_vcache_t *c = jotd_vcache_new(64);
    put(c, "tok", "jti", 200, 100);
    assert_non_null(get_sub(c, "tok", 199));
    /* from exp on: a miss, never beyond the token's own life */
    assert_null(get_sub(c, "tok", 200));
    assert_null(get_sub(c, "tok", 1000));
    /* a token already expired is not put */
    put(c, "old", "jti2", 100, 100);
    assert_null(get_sub(c, "old", 50));
    assert_non_null(get_sub(c, "tok", 0));
    jotd_vcache_free(c);
}

static void test_capacity_and_eviction(void **state)
{
    (void)state;
    /* one set of 8: the ninth token evicts the one that expires first */
    jotd_vcache_t *c = jotd_vcache_new(JOTD_VCACHE_WAYS);
    char tok[32];
    for (int i = 0; i < JOTD_VCACHE_WAYS; i++) {
        snprintf(tok, sizeof tok, "tok-%d", i);
        put(c, tok, tok, i == 3 ? 150 : 1000 + i, 100);
    }
    assert_int_equal(hits(c, "tok-", JOTD_VCACHE_WAYS, 100), JOTD_VCACHE_WAYS);
    put(c, "tok-new", "new", 2000, 100);
    assert_int_equal(hits(c, "tok-", JOTD_VCACHE_WAYS, 100), JOTD_VCACHE_WAYS - 1);
    assert_null(get_sub(c, "tok-3", 100));
    assert_non_null(get_sub(c, "tok-new", 100));
    for (int i = 0; i < JOTD_VCACHE_WAYS; i++) {
        snprintf(tok, sizeof tok, "tok-%d", i);
        if (i != 3)
            assert_non_null(get_sub(c, tok, 100));
    }
    /* an expired way is reused before any live one */
    put(c, "tok-late", "late", 3000, 1005); /* tok-0..tok-5 (exp 1000..1005) have expired */
    assert_non_null(get_sub(c, "tok-late", 1005));
    assert_non_null(get_sub(c, "tok-new", 1005));
    jotd_vcache_free(c);

    /* a bigger cache never holds more than its capacity, however many tokens pass */
    c = jotd_vcache_new(100);
    for (int i = 0; i < 5000; i++) {
        snprintf(tok, sizeof tok, "t%d", i);
        put(c, tok, tok, 10000, 100);
    }
    assert_int_equal(hits(c, "t", 5000, 100), 96); /* 12 whole sets of 8 */
    jotd_vcache_free(c);

    /* below one set: one smaller set */
    c = jotd_vcache_new(3);
    for (int i = 0; i < 10; i++) {
        snprintf(tok, sizeof tok, "s%d", i);
        put(c, tok, tok, 10000, 100);
    }
    assert_int_equal(hits(c, "s", 10, 100), 3);
    jotd_vcache_free(c);
}

static void test_flush_and_disabled(void **state)
{
    (void)state;
    jotd_vcache_t *c = jotd_vcache_new(64);
    put(c, "a", "1", 200, 100);
    put(c, "b", "2", 200, 100);
    assert_non_null(get_sub(c, "a", 100));
    assert_non_null(get_sub(c, "b", 100));
    jotd_vcache_flush(c);
    assert_null(get_sub(c, "a", 100));
    assert_null(get_sub(c, "b", 100));
    jotd_vcache_free(c);

    /* size 0: no cache; every call is a harmless no-op */
    assert_null(jotd_vcache_new(0));
    put(NULL, "a", "1", 200, 100);
    assert_null(get_sub(NULL, "a", 100));
    jotd_vcache_flush(NULL);
    jotd_vcache_free(NULL);
}

static void test_same_token_replaced(void **state)
{
    (void)state;
    jotd_vcache_t *c = jotd_vcache_new(JOTD_VCACHE_WAYS);
    put(c, "tok", "jti", 300, 100);
    put(c, "tok", "jti", 300, 100); /* two threads that missed at once: still one entry */
    /* so the one set still has room for 7 others (a second copy would evict o0, which
     * expires first) */
    char tok[32];
    for (int i = 0; i < JOTD_VCACHE_WAYS - 1; i++) {
        snprintf(tok, sizeof tok, "o%d", i);
        put(c, tok, tok, 200 + i, 100);
    }
    assert_int_equal(hits(c, "o", JOTD_VCACHE_WAYS - 1, 100), JOTD_VCACHE_WAYS - 1);
    assert_non_null(get_sub(c, "tok", 100));
    jotd_vcache_free(c);
}

/* ---- with real tokens: jotd_verified_from_token and jotd_access_check ------------------ */

typedef struct fixture {
    jot_key_t *key, *other;
    jot_keyset_t *keys;
    jotd_runtime_t rt;
    jotd_app_t app;
} fixture_t;

static fixture_t fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &fx.key), JOT_OK);
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &fx.other), JOT_OK);
    assert_int_equal(jot_keyset_new(&fx.keys), JOT_OK);
    assert_int_equal(jot_verifier_new(&fx.rt.access_verifier), JOT_OK);
    jot_verifier_t *v = fx.rt.access_verifier;
    assert_int_equal(jot_verifier_set_issuer(v, "https://iss"), JOT_OK);
    assert_int_equal(jot_verifier_add_audience(v, "https://aud"), JOT_OK);
    fx.rt.cfg.audience = "https://aud"; /* users' tokens: checked by jotd_access_verify */
    assert_int_equal(jot_verifier_set_typ(v, "at+jwt"), JOT_OK);
    assert_int_equal(jot_verifier_require_claim(v, "jti"), JOT_OK);
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_ES256));
    fx.rt.vcache = jotd_vcache_new(64);
    fx.app.deny = jotd_denylist_new();
    assert_non_null(fx.rt.vcache);
    assert_non_null(fx.app.deny);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jot_verifier_free(fx.rt.access_verifier);
    jot_keyset_free(fx.keys);
    jot_key_free(fx.other);
    jot_key_free(fx.key);
    jotd_vcache_free(fx.rt.vcache);
    jotd_denylist_free(fx.app.deny);
    return 0;
}

static const char *extra_claim; /* "name=json" added by mint() when set */

/* An access token like jotd's, signed by \p key. malloc'd (jot_free). */
static char *mint(const jot_key_t *key, const char *jti, const char *sub, const char *roles0)
{
    jot_claims_t *c = NULL;
    const char *roles[] = {roles0, "reader"};
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(jot_claims_new(&c), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "iss", "https://iss"), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "aud", "https://aud"), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "sub", sub), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "jti", jti), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "sid", "S1"), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "client_id", "web"), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "scope", "a b"), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "preferred_username", "alice"), JOT_OK);
    assert_int_equal(jot_claims_set_strings(c, "roles", roles, 2), JOT_OK);
    assert_int_equal(jot_claims_set_int(c, "iat", now), JOT_OK);
    assert_int_equal(jot_claims_set_int(c, "exp", now + 900), JOT_OK);
    if (extra_claim) {
        const char *eq = strchr(extra_claim, '=');
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(eq - extra_claim), extra_claim);
        assert_int_equal(jot_claims_set_json(c, name, eq + 1, strlen(eq + 1)), JOT_OK);
    }
    jot_sign_opts_t opts = {.typ = "at+jwt"};
    char *tok = NULL;
    assert_int_equal(jot_jwt_sign(key, &opts, c, &tok, NULL), JOT_OK);
    jot_claims_free(c);
    return tok;
}

/* Verifier keys: only fx.key (the keyset is rebuilt to simulate a key change). */
static void trust(const jot_key_t *key)
{
    jot_keyset_free(fx.keys);
    fx.keys = NULL;
    assert_int_equal(jot_keyset_new(&fx.keys), JOT_OK);
    jot_key_t *pub = NULL;
    assert_int_equal(jot_key_public(key, &pub), JOT_OK);
    assert_int_equal(jot_keyset_add(fx.keys, pub), JOT_OK);
    jot_verifier_set_keyset(fx.rt.access_verifier, fx.keys);
}

static jot_err_t check(const char *tok, jotd_verified_t *v, const char **why)
{
    return jotd_access_check(&fx.app, &fx.rt, tok, strlen(tok), true, v, why);
}

/* As /verify asks: without the introspection answer. */
static jot_err_t check_verify(const char *tok, jotd_verified_t *v, const char **why)
{
    return jotd_access_check(&fx.app, &fx.rt, tok, strlen(tok), false, v, why);
}

/* Whether \p tok is in the runtime's cache now (jotd_access_check put it there). */
static bool cached(const char *tok)
{
    uint8_t k[JOTD_VCACHE_KEY_LEN];
    jotd_verified_t v;
    jotd_vcache_key(tok, strlen(tok), k);
    if (!jotd_vcache_get(fx.rt.vcache, k, (int64_t)time(NULL), &v))
        return false;
    jotd_verified_clear(&v);
    return true;
}

static void test_access_check_caches_and_denylist_applies(void **state)
{
    (void)state;
    trust(fx.key);
    char *tok = mint(fx.key, "J1", "42", "admin");
    jotd_verified_t v;
    const char *why = NULL;
    assert_int_equal(check(tok, &v, &why), JOT_OK);
    assert_string_equal(v.jti, "J1");
    assert_string_equal(v.sid, "S1");
    assert_string_equal(v.hdr[0], "42");
    assert_string_equal(v.hdr[1], "alice");
    assert_string_equal(v.hdr[2], "admin,reader");
    assert_string_equal(v.hdr[3], "");
    assert_string_equal(v.hdr[4], "a b");
    assert_string_equal(v.hdr[5], "web");
    assert_non_null(strstr(v.introspection, "\"active\":true"));
    assert_non_null(strstr(v.introspection, "\"username\":\"alice\""));
    jotd_verified_clear(&v);
    assert_true(cached(tok));

    /* a hit answers the same */
    assert_int_equal(check(tok, &v, &why), JOT_OK);
    assert_string_equal(v.hdr[2], "admin,reader");
    jotd_verified_clear(&v);

    /* revoked after it was cached: the next check refuses it (from the cache) */
    assert_int_equal(jotd_denylist_add(fx.app.deny, "J1", 2, (int64_t)time(NULL) + 900), 1);
    assert_true(cached(tok));
    assert_int_not_equal(check(tok, &v, &why), JOT_OK);
    assert_ptr_equal(why, jotd_reason_revoked);
    jot_free(tok);
}

static void test_access_check_same_claims_no_collision(void **state)
{
    (void)state;
    trust(fx.key);
    /* same claims, signed twice (ECDSA is randomised): two tokens, two entries */
    char *a = mint(fx.key, "J2", "7", "r");
    char *b = mint(fx.key, "J2", "7", "r");
    assert_string_not_equal(a, b);
    jotd_verified_t v;
    const char *why;
    assert_int_equal(check(a, &v, &why), JOT_OK);
    jotd_verified_clear(&v);
    assert_int_equal(check(b, &v, &why), JOT_OK);
    jotd_verified_clear(&v);
    assert_true(cached(a));
    assert_true(cached(b));
    /* a forged token with a's claims but a bad signature: not a hit, refused */
    char *forged = strdup(a);
    char *sig = strrchr(forged, '.') + 1;
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    assert_int_equal(check(forged, &v, &why), JOT_E_SIGNATURE);
    /* and never cached */
    assert_false(cached(forged));
    /* signed by another key: refused, not cached */
    char *c = mint(fx.other, "J3", "7", "r");
    assert_int_not_equal(check(c, &v, &why), JOT_OK);
    assert_false(cached(c));
    assert_true(cached(a));
    assert_true(cached(b));
    free(forged);
    jot_free(a);
    jot_free(b);
    jot_free(c);
}

/* The introspection answer: the claims plus active, token_type and username, valid JSON
 * without duplicate members, ours overriding a token's own members of those names. */
static void test_introspection_json(void **state)
{
    (void)state;
    trust(fx.key);
    const char *cases[] = {NULL, "username=\"evil\"", "active=false", "token_type=\"x\"",
                           "note=\"q\\\"uote\\u00e9\""};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        extra_claim = cases[i];
        char *tok = mint(fx.key, "J9", "5", "r");
        extra_claim = NULL;
        jotd_verified_t v;
        const char *why;
        assert_int_equal(check(tok, &v, &why), JOT_OK);
        json_error_t e;
        json_t *j = json_loads(v.introspection, JSON_REJECT_DUPLICATES, &e);
        if (!j)
            fail_msg("case %zu: not JSON (%s): %s", i, e.text, v.introspection);
        assert_true(json_is_true(json_object_get(j, "active")));
        assert_string_equal(json_string_value(json_object_get(j, "token_type")), "Bearer");
        assert_string_equal(json_string_value(json_object_get(j, "username")), "alice");
        assert_string_equal(json_string_value(json_object_get(j, "sub")), "5");
        assert_string_equal(json_string_value(json_object_get(j, "jti")), "J9");
        assert_int_equal(json_array_size(json_object_get(j, "roles")), 2);
        if (i == 4)
            assert_string_equal(json_string_value(json_object_get(j, "note")), "q\"uote\xc3\xa9");
        json_decref(j);
        jotd_verified_clear(&v);
        jot_free(tok);
    }
}

/* An entry cached by /verify has no introspection answer; /introspect then verifies again and
 * replaces it with a whole one, which /verify uses too. */
static void test_access_check_introspection_upgrade(void **state)
{
    (void)state;
    trust(fx.key);
    char *tok = mint(fx.key, "J5", "8", "r");
    jotd_verified_t v;
    const char *why;
    assert_int_equal(check_verify(tok, &v, &why), JOT_OK);
    assert_string_equal(v.introspection, "");
    assert_string_equal(v.hdr[0], "8");
    jotd_verified_clear(&v);
    assert_int_equal(check_verify(tok, &v, &why), JOT_OK); /* hit */
    assert_string_equal(v.introspection, "");
    jotd_verified_clear(&v);
    assert_int_equal(check(tok, &v, &why), JOT_OK);
    assert_non_null(strstr(v.introspection, "\"active\":true"));
    jotd_verified_clear(&v);
    assert_true(cached(tok));
    assert_int_equal(check_verify(tok, &v, &why), JOT_OK);
    assert_non_null(strstr(v.introspection, "\"jti\":\"J5\""));
    jotd_verified_clear(&v);
    /* revoked: refused for both, from the cache */
    assert_int_equal(jotd_denylist_add(fx.app.deny, "J5", 2, (int64_t)time(NULL) + 900), 1);
    assert_int_not_equal(check_verify(tok, &v, &why), JOT_OK);
    assert_ptr_equal(why, jotd_reason_revoked);
    assert_int_not_equal(check(tok, &v, &why), JOT_OK);
    assert_ptr_equal(why, jotd_reason_revoked);
    jot_free(tok);
}

static void test_access_check_without_cache(void **state)
{
    (void)state;
    trust(fx.key);
    jotd_vcache_t *saved = fx.rt.vcache;
    fx.rt.vcache = NULL; /* --verify-cache-size 0 */
    char *tok = mint(fx.key, "J4", "9", "r");
    jotd_verified_t v;
    const char *why;
    assert_int_equal(check(tok, &v, &why), JOT_OK);
    assert_string_equal(v.hdr[0], "9");
    jotd_verified_clear(&v);
    assert_int_equal(jotd_denylist_add(fx.app.deny, "J4", 2, (int64_t)time(NULL) + 900), 1);
    assert_int_not_equal(check(tok, &v, &why), JOT_OK);
    fx.rt.vcache = saved;
    jot_free(tok);
}

/* Many threads hitting and filling one small cache (run under TSan/ASan by make tsan and
 * the sanitizer build). */
static jotd_vcache_t *shared;
static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char tok[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(tok, sizeof tok, "t%d", (i * 7 + id) % 300);
        if (!get_sub(shared, tok, 100))
            put(shared, tok, tok, 1000, 100);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    shared = jotd_vcache_new(128);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(hits(shared, "t", 300, 100) <= 128);
    jotd_vcache_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_miss),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_capacity_and_eviction),
        cmocka_unit_test(test_flush_and_disabled),
        cmocka_unit_test(test_same_token_replaced),
        cmocka_unit_test_setup_teardown(test_access_check_caches_and_denylist_applies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_access_check_same_claims_no_collision, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_access_check_without_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_introspection_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_check_introspection_upgrade, setup, teardown),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
