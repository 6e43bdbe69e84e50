/* JOSE-level conformance: RFC 7515 A.1-A.5, RFC 7519 §3.1 and §6.1, RFC 8037 A, RFC 7638
 * §3.1, the RFC 7520 cookbook JWS examples in compact form, and the Wycheproof
 * json_web_signature, json_web_key and json_web_crypto files. Everything goes through the
 * public API only. Vectors come from $JOT_VECTORS; when absent each suite prints SKIPPED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jot/jot.h"
#include "vectors.h"

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Import a JWK given as a jansson value. */
static jot_err_t key_from_json(const json_t *jwk, jot_key_t **out)
{
    char *s = dump(jwk);
    jot_err_t rc = jot_key_from_jwk(s, strlen(s), out);
    free(s);
    return rc;
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* jot_jws_verify (any payload) or jot_verify (a JWT) of a token with one key and one alg. */
static jot_err_t verify_with(const jot_key_t *key, unsigned algs, const char *token, int jwt,
                             const int64_t *now)
{
    jot_verifier_t *v;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, algs);
    if (now)
        jot_verifier_set_clock(v, fixed_clock, (void *)now);
    jot_err_t rc = jwt ? jot_verify(v, token, strlen(token), NULL)
                       : jot_jws_verify(v, token, strlen(token), NULL);
    jot_verifier_free(v);
    return rc;
}

static const char *str(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    assert_non_null(s);
    return s;
}

/* ---- RFC examples (rfc-examples/) -------------------------------------------------- */

/* Verify the token and, for deterministic algorithms, re-sign the exact header and payload
 * bytes and compare with the RFC's token. */
static void rfc_token(const char *file, int resign)
{
    json_t *d = vec_load(file);
    if (!d) {
        vec_skip(file, "vectors not present");
        return;
    }
    jot_key_t *key;
    assert_int_equal(key_from_json(json_object_get(d, "jwk"), &key), JOT_OK);
    jot_alg_t alg;
    const char *alg_name = str(d, "alg");
    assert_int_equal(jot_alg_from_name(alg_name, strlen(alg_name), &alg), JOT_OK);
    const char *token = str(d, "token");
    assert_int_equal(verify_with(key, JOT_ALG_BIT(alg), token, 0, NULL), JOT_OK);
    /* the same token under any other single algorithm is refused */
    for (int a = JOT_ALG_HS256; a < JOT_ALG__COUNT; a++)
        if (a != (int)alg)
            assert_int_not_equal(verify_with(key, JOT_ALG_BIT(a), token, 0, NULL), JOT_OK);
    if (resign) {
        /* RFC 8037's file names the header after its section, A.4 */
        json_t *h = json_object_get(d, "protected_header");
        const char *hdr = h ? json_string_value(h) : str(d, "A.4_protected_header");
        const char *payload = str(d, "payload");
        char *out;
        size_t n;
        assert_int_equal(jot_jws_sign(key, alg, hdr, strlen(hdr), (const uint8_t *)payload,
                                      strlen(payload), &out, &n),
                         JOT_OK);
        assert_string_equal(out, token);
        assert_int_equal(n, strlen(token));
        jot_free(out);
    }
    printf("%s: verified%s\n", file, resign ? ", re-signed to identical bytes" : "");
    jot_key_free(key);
    json_decref(d);
}

static void test_rfc7515_a1(void **state)
{
    (void)state;
    rfc_token("rfc-examples/rfc7515_A.1_HS256.json", 1);
}

static void test_rfc7515_a2(void **state)
{
    (void)state;
    rfc_token("rfc-examples/rfc7515_A.2_RS256.json", 1);
}

static void test_rfc7515_a3(void **state)
{
    (void)state;
    rfc_token("rfc-examples/rfc7515_A.3_ES256.json", 0);
}

static void test_rfc7515_a4(void **state)
{
    (void)state;
    rfc_token("rfc-examples/rfc7515_A.4_ES512.json", 0);
    json_t *d = vec_load("rfc-examples/rfc7515_A.4_ES512.json");
    if (!d)
        return;
    /* "Payload" is a valid JWS but not a JWT */
    jot_key_t *key;
    assert_int_equal(key_from_json(json_object_get(d, "jwk"), &key), JOT_OK);
    assert_int_equal(verify_with(key, JOT_ALG_BIT(JOT_ALG_ES512), str(d, "token"), 1, NULL),
                     JOT_E_PAYLOAD);
    jot_key_free(key);
    json_decref(d);
}

/* alg "none" is refused whatever key and allowlist the caller passes */
static void none_refused(const char *file)
{
    json_t *d = vec_load(file);
    if (!d) {
        vec_skip(file, "vectors not present");
        return;
    }
    const char *token = str(d, "token");
    jot_key_t *key;
    assert_int_equal(jot_key_generate(JOT_ALG_HS256, 0, &key), JOT_OK);
    unsigned all = JOT_ALG_BIT(JOT_ALG__COUNT) - 1u;
    assert_int_equal(verify_with(key, all, token, 0, NULL), JOT_E_ALG_NONE);
    assert_int_equal(verify_with(key, all, token, 1, NULL), JOT_E_ALG_NONE);
    jot_token_t *t;
    assert_int_equal(jot_decode_unverified(token, strlen(token), &t), JOT_OK);
    assert_int_equal(jot_token_alg(t), JOT_ALG_UNSET);
    jot_token_free(t);
    printf("%s: rejected (alg none)\n", file);
    jot_key_free(key);
    json_decref(d);
}

static void test_rfc7515_a5(void **state)
{
    (void)state;
    none_refused("rfc-examples/rfc7515_A.5_none.json");
}

static void test_rfc7519_6_1(void **state)
{
    (void)state;
    none_refused("rfc-examples/rfc7519_6.1_unsecured_JWT.json");
}

static void test_rfc7519_3_1(void **state)
{
    (void)state;
    const char *file = "rfc-examples/rfc7519_3.1_JWT.json";
    json_t *d = vec_load(file);
    if (!d) {
        vec_skip(file, "vectors not present");
        return;
    }
    jot_key_t *key;
    assert_int_equal(key_from_json(json_object_get(d, "jwk"), &key), JOT_OK);
    const char *token = str(d, "token");
    unsigned hs = JOT_ALG_BIT(JOT_ALG_HS256);
    int64_t before = 1300819379, at = 1300819380;
    assert_int_equal(verify_with(key, hs, token, 1, &before), JOT_OK);
    assert_int_equal(verify_with(key, hs, token, 1, &at), JOT_E_EXPIRED);
    assert_int_equal(verify_with(key, hs, token, 1, NULL), JOT_E_EXPIRED);

    jot_verifier_t *v;
    jot_token_t *t;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, hs);
    jot_verifier_set_clock(v, fixed_clock, &before);
    assert_int_equal(jot_verifier_set_issuer(v, "joe"), JOT_OK);
    assert_int_equal(jot_verify(v, token, strlen(token), &t), JOT_OK);
    int b = 0;
    assert_int_equal(jot_claims_get_bool(jot_token_claims(t), "http://example.com/is_root", &b),
                     JOT_OK);
    assert_true(b);
    jot_token_free(t);
    assert_int_equal(jot_verifier_set_issuer(v, "Joe"), JOT_OK);
    assert_int_equal(jot_verify(v, token, strlen(token), NULL), JOT_E_ISSUER);
    jot_verifier_free(v);
    printf("%s: valid with the clock pinned before exp, expired after\n", file);
    jot_key_free(key);
    json_decref(d);
}

static void test_rfc8037(void **state)
{
    (void)state;
    const char *file = "rfc-examples/rfc8037_A_Ed25519.json";
    rfc_token(file, 1);
    json_t *d = vec_load(file);
    if (!d)
        return;
    jot_key_t *key;
    char tp[44];
    assert_int_equal(key_from_json(json_object_get(d, "jwk"), &key), JOT_OK);
    assert_int_equal(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    jot_key_free(key);
    json_decref(d);
}

static void test_rfc7638(void **state)
{
    (void)state;
    const char *file = "rfc-examples/rfc7638_3.1_thumbprint.json";
    json_t *d = vec_load(file);
    if (!d) {
        vec_skip(file, "vectors not present");
        return;
    }
    jot_key_t *key;
    char tp[44];
    assert_int_equal(key_from_json(json_object_get(d, "jwk"), &key), JOT_OK);
    assert_int_equal(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    printf("%s: thumbprint %s\n", file, tp);
    jot_key_free(key);
    json_decref(d);
}

/* ---- RFC 7520 cookbook (jose-cookbook/) -------------------------------------------- */

static void cookbook(const char *file, vec_tally_t *t)
{
    json_t *d = vec_load(file);
    if (!d) {
        vec_skip(file, "vectors not present");
        return;
    }
    json_t *in = json_object_get(d, "input"), *outp = json_object_get(d, "output");
    const char *compact = json_string_value(json_object_get(outp, "compact"));
    const char *payload = str(in, "payload");
    if (!compact) {
        t->skipped++; /* JSON serialization only: jot is compact-only */
        printf("%s: SKIPPED (JSON serialization only)\n", file);
        json_decref(d);
        return;
    }
    const char *dot = strchr(compact, '.');
    if (dot && dot[1] == '.') {
        t->skipped++; /* detached content: the compact form has an empty payload */
        printf("%s: SKIPPED (detached payload)\n", file);
        json_decref(d);
        return;
    }
    jot_key_t *key;
    jot_alg_t alg;
    const char *alg_name = str(in, "alg");
    assert_int_equal(key_from_json(json_object_get(in, "key"), &key), JOT_OK);
    assert_int_equal(jot_alg_from_name(alg_name, strlen(alg_name), &alg), JOT_OK);
    jot_verifier_t *v;
    jot_token_t *tok;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, JOT_ALG_BIT(alg));
    jot_err_t rc = jot_jws_verify(v, compact, strlen(compact), &tok);
    if (vec_judge(t, 0, file, "valid", rc == JOT_OK)) {
        size_t n;
        const uint8_t *p = jot_token_payload(tok, &n);
        assert_int_equal(n, strlen(payload));
        assert_memory_equal(p, payload, n);
        jot_token_free(tok);
    }
    json_t *reproducible = json_object_get(d, "reproducible");
    if (json_is_true(reproducible)) {
        /* re-sign the exact protected header bytes and compare */
        const char *prot = str(json_object_get(d, "signing"), "protected_b64u");
        uint8_t hdr[4096];
        size_t hlen;
        assert_int_equal(jot_b64url_decode(hdr, &hlen, prot, strlen(prot)), JOT_OK);
        char *out;
        assert_int_equal(jot_jws_sign(key, alg, (const char *)hdr, hlen, (const uint8_t *)payload,
                                      strlen(payload), &out, NULL),
                         JOT_OK);
        assert_string_equal(out, compact);
        jot_free(out);
    }
    jot_verifier_free(v);
    jot_key_free(key);
    json_decref(d);
}

static void test_cookbook(void **state)
{
    (void)state;
    if (!vec_dir()) {
        vec_skip("jose-cookbook", "vectors not present");
        return;
    }
    static const char *const files[] = {
        "jose-cookbook/jws/4_1.rsa_v15_signature.json",
        "jose-cookbook/jws/4_2.rsa-pss_signature.json",
        "jose-cookbook/jws/4_3.ecdsa_signature.json",
        "jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json",
        "jose-cookbook/jws/4_5.signature_with_detached_content.json",
        "jose-cookbook/jws/4_6.protecting_specific_header_fields.json",
        "jose-cookbook/jws/4_7.protecting_content_only.json",
        "jose-cookbook/jws/4_8.multiple_signatures.json",
        "jose-cookbook/curve25519/jws.json",
    };
    vec_tally_t t = {.file = "jose-cookbook (JWS, compact)"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        cookbook(files[i], &t);
    vec_tally_print(&t);
    assert_int_equal(t.failed, 0);
    assert_int_equal(t.run, 5);
}

/* ---- Wycheproof JOSE files ------------------------------------------------------------ */

/* Data problems listed in shared/vectors/README.md, judged as that file says. */
static const char *known_problem(const char *file, int tc_id, const char **expected)
{
    if (strcmp(file, "json_web_signature_test.json") != 0)
        return NULL;
    if (tc_id == 367 || tc_id == 370)
        return "skip: byte-identical to valid tcId 357 (C2SP/wycheproof#236)";
    if (tc_id == 346 || tc_id == 350) {
        /* RFC 7520 §4.2 (Figure 20) is PS384, but Wycheproof's copy of the key says
         * "alg":"PS256": a verifier that enforces the key's alg must refuse the token. */
        *expected = "invalid";
        return "judged invalid: the key's alg PS256 disagrees with the token's PS384";
    }
    if (tc_id == 372 || tc_id == 373) {
        *expected = "invalid"; /* a '?' inside a segment is not base64url (RFC 7515 §2) */
        return "judged invalid: illegal character in a segment";
    }
    return NULL;
}

/* Rewrites the unregistered "ES521" of the RFC 7520 copies to ES512 (README, problem 3). */
static void fix_es521(json_t *jwk)
{
    json_t *alg = json_object_get(jwk, "alg");
    if (json_is_string(alg) && strcmp(json_string_value(alg), "ES521") == 0)
        json_object_set_new(jwk, "alg", json_string("ES512"));
}

typedef struct wp_keys {
    jot_key_t *key;
    jot_keyset_t *set;
    jot_err_t rc; /* import result */
    unsigned algs;
} wp_keys_t;

static unsigned algs_of(const jot_key_t *k)
{
    jot_alg_t a = jot_key_alg(k);
    /* a key without "alg": every algorithm, so that only the key binding decides */
    return a != JOT_ALG_UNSET ? JOT_ALG_BIT(a) : JOT_ALG_BIT(JOT_ALG__COUNT) - 2u;
}

static void wp_import(json_t *group, wp_keys_t *k, int rewrite_es521)
{
    memset(k, 0, sizeof *k);
    json_t *jwk = json_object_get(group, "public");
    if (!jwk)
        jwk = json_object_get(group, "private");
    json_t *copy = json_deep_copy(jwk);
    json_t *keys = json_object_get(copy, "keys");
    if (rewrite_es521 && !keys)
        fix_es521(copy);
    char *s = dump(copy);
    if (keys) {
        k->rc = jot_keyset_from_jwks(s, strlen(s), &k->set);
        for (size_t i = 0; k->rc == JOT_OK && i < jot_keyset_count(k->set); i++)
            k->algs |= algs_of(jot_keyset_get(k->set, i));
    } else {
        k->rc = jot_key_from_jwk(s, strlen(s), &k->key);
        if (k->rc == JOT_OK)
            k->algs = algs_of(k->key);
    }
    free(s);
    json_decref(copy);
}

static int wp_verify(const wp_keys_t *k, const json_t *jws)
{
    if (k->rc != JOT_OK || !json_is_string(jws))
        return 0; /* key refused, or JSON serialization (jot is compact-only) */
    jot_verifier_t *v;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    if (k->key)
        jot_verifier_set_key(v, k->key);
    else
        jot_verifier_set_keyset(v, k->set);
    jot_verifier_set_algs(v, k->algs);
    jot_err_t rc = jot_jws_verify(v, json_string_value(jws), json_string_length(jws), NULL);
    jot_verifier_free(v);
    return rc == JOT_OK;
}

static void wycheproof_jose(const char *file)
{
    char path[256];
    snprintf(path, sizeof path, "wycheproof/testvectors_v1/%s", file);
    json_t *d = vec_load(path);
    if (!d) {
        vec_skip(file, "vectors not present");
        return;
    }
    vec_tally_t t = {.file = file};
    size_t i, j;
    json_t *group, *tc;
    json_array_foreach(json_object_get(d, "testGroups"), i, group)
    {
        const char *type = json_string_value(json_object_get(group, "type"));
        json_t *tests = json_object_get(group, "tests");
        if (type && strcmp(type, "JsonWebEncryption") == 0) {
            t.skipped += (unsigned)json_array_size(tests);
            continue;
        }
        wp_keys_t k;
        wp_import(group, &k, 1);
        json_array_foreach(tests, j, tc)
        {
            int id = (int)json_integer_value(json_object_get(tc, "tcId"));
            const char *expected = json_string_value(json_object_get(tc, "result"));
            const char *comment = json_string_value(json_object_get(tc, "comment"));
            if (!json_object_get(tc, "jws")) { /* a JWE case in the combined file */
                t.skipped++;
                continue;
            }
            const char *why = known_problem(file, id, &expected);
            if (why && strncmp(why, "skip", 4) == 0) {
                t.skipped++;
                printf("%s tcId %d: %s\n", file, id, why);
                continue;
            }
            if (why)
                printf("%s tcId %d: %s\n", file, id, why);
            vec_judge(&t, id, comment, expected, wp_verify(&k, json_object_get(tc, "jws")));
        }
        jot_key_free(k.key);
        jot_keyset_free(k.set);
    }
    vec_tally_print(&t);
    assert_int_equal(t.failed, 0);
    assert_int_equal(t.run + t.skipped,
                     (unsigned)json_integer_value(json_object_get(d, "numberOfTests")));
    json_decref(d);
}

static void test_wycheproof_jws(void **state)
{
    (void)state;
    wycheproof_jose("json_web_signature_test.json");
}

static void test_wycheproof_jwk(void **state)
{
    (void)state;
    wycheproof_jose("json_web_key_test.json");
}

static void test_wycheproof_crypto(void **state)
{
    (void)state;
    wycheproof_jose("json_web_crypto_test.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7515_a1),        cmocka_unit_test(test_rfc7515_a2),
        cmocka_unit_test(test_rfc7515_a3),        cmocka_unit_test(test_rfc7515_a4),
        cmocka_unit_test(test_rfc7515_a5),        cmocka_unit_test(test_rfc7519_3_1),
        cmocka_unit_test(test_rfc7519_6_1),       cmocka_unit_test(test_rfc8037),
        cmocka_unit_test(test_rfc7638),           cmocka_unit_test(test_cookbook),
        cmocka_unit_test(test_wycheproof_jws),    cmocka_unit_test(test_wycheproof_jwk),
        cmocka_unit_test(test_wycheproof_crypto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
