/* Unit tests for lib/keygen.c: jot_key_generate() for every algorithm, its size rules, and
 * the kid it sets. No signing is involved. */
#include <stdio.h>
#include <string.h>

#include "test.h"

#include "internal.h"

#include <openssl/core_names.h>

/* Generate, check the common properties, return the key. */
static jot_key_t *gen(jot_alg_t alg, unsigned bits, jot_kty_t kty, const char *crv,
                      unsigned want_bits)
{
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(alg, bits, &key), JOT_OK);
    assert_non_null(key);
    assert_int_equal(jot_key_kty(key), kty);
    assert_int_equal(jot_key_alg(key), alg);
    assert_int_equal(jot_key_bits(key), want_bits);
    assert_true(jot_key_is_private(key));
    if (crv)
        assert_string_equal(jot_key_curve(key), crv);
    else
        assert_null(jot_key_curve(key));
    /* kid = RFC 7638 thumbprint */
    char tp[44];
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_non_null(jot_key_kid(key));
    assert_int_equal(strlen(jot_key_kid(key)), 43);
    assert_string_equal(jot_key_kid(key), tp);
    /* usable for the algorithm, for signing and verifying */
    assert_rc(jot_key_check_alg(key, alg, 1), JOT_OK);
    assert_rc(jot_key_check_alg(key, alg, 0), JOT_OK);
    assert_int_equal(jot_key_default_alg(key), alg);
    return key;
}

static void test_hmac(void **state)
{
    (void)state;
    jot_key_t *k = gen(JOT_ALG_HS256, 0, JOT_KTY_OCT, NULL, 256);
    assert_int_equal(k->oct_len, 32);
    jot_key_free(k);
    k = gen(JOT_ALG_HS384, 0, JOT_KTY_OCT, NULL, 384);
    assert_int_equal(k->oct_len, 48);
    jot_key_free(k);
    k = gen(JOT_ALG_HS512, 0, JOT_KTY_OCT, NULL, 512);
    assert_int_equal(k->oct_len, 64);
    jot_key_free(k);
    k = gen(JOT_ALG_HS256, 264, JOT_KTY_OCT, NULL, 264);
    assert_int_equal(k->oct_len, 33);
    jot_key_free(k);
    k = gen(JOT_ALG_HS512, JOT_MAX_HMAC_KEY_BYTES * 8, JOT_KTY_OCT, NULL,
            JOT_MAX_HMAC_KEY_BYTES * 8);
    jot_key_free(k);
}

static void test_hmac_sizes_refused(void **state)
{
    (void)state;
    jot_key_t *k = NULL;
    assert_rc(jot_key_generate(JOT_ALG_HS256, 128, &k), JOT_E_KEY_WEAK);
    assert_rc(jot_key_generate(JOT_ALG_HS256, 248, &k), JOT_E_KEY_WEAK);
    assert_rc(jot_key_generate(JOT_ALG_HS384, 256, &k), JOT_E_KEY_WEAK);
    assert_rc(jot_key_generate(JOT_ALG_HS512, 384, &k), JOT_E_KEY_WEAK);
    assert_rc(jot_key_generate(JOT_ALG_HS256, 260, &k), JOT_E_INVAL);
    assert_rc(jot_key_generate(JOT_ALG_HS256, 257, &k), JOT_E_INVAL);
    assert_rc(jot_key_generate(JOT_ALG_HS256, JOT_MAX_HMAC_KEY_BYTES * 8 + 8, &k), JOT_E_INVAL);
    assert_null(k);
}

static void test_hmac_random(void **state)
{
    (void)state;
    jot_key_t *a = gen(JOT_ALG_HS256, 0, JOT_KTY_OCT, NULL, 256);
    jot_key_t *b = gen(JOT_ALG_HS256, 0, JOT_KTY_OCT, NULL, 256);
    assert_memory_not_equal(a->oct, b->oct, 32);
    assert_string_not_equal(jot_key_kid(a), jot_key_kid(b));
    jot_key_free(a);
    jot_key_free(b);
}

static void check_rsa_e(const jot_key_t *key)
{
    BIGNUM *e = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_true(BN_is_word(e, 65537));
    BN_free(e);
}

static void test_rsa(void **state)
{
    (void)state;
    jot_key_t *k = gen(JOT_ALG_RS256, 0, JOT_KTY_RSA, NULL, 2048);
    check_rsa_e(k);
    /* an RSA key serves RS* and PS* alike, but its "alg" binds it to one */
    assert_rc(jot_key_check_alg(k, JOT_ALG_PS256, 0), JOT_E_KEY_MISMATCH);
    jot_key_free(k);
    k = gen(JOT_ALG_PS512, 3072, JOT_KTY_RSA, NULL, 3072);
    check_rsa_e(k);
    jot_key_free(k);
}

static void test_rsa_sizes_refused(void **state)
{
    (void)state;
    jot_key_t *k = NULL;
    assert_rc(jot_key_generate(JOT_ALG_RS256, 1024, &k), JOT_E_KEY_WEAK);
    assert_rc(jot_key_generate(JOT_ALG_PS256, 2047, &k), JOT_E_KEY_WEAK);
    assert_rc(jot_key_generate(JOT_ALG_RS512, JOT_MAX_RSA_BITS + 1, &k), JOT_E_INVAL);
    assert_null(k);
}

static void test_ec(void **state)
{
    (void)state;
    jot_key_t *k = gen(JOT_ALG_ES256, 0, JOT_KTY_EC, "P-256", 256);
    jot_key_free(k);
    k = gen(JOT_ALG_ES384, 12345 /* ignored */, JOT_KTY_EC, "P-384", 384);
    jot_key_free(k);
    k = gen(JOT_ALG_ES512, 0, JOT_KTY_EC, "P-521", 521);
    jot_key_free(k);
    k = gen(JOT_ALG_ES256K, 0, JOT_KTY_EC, "secp256k1", 256);
    /* the curve binds the algorithm */
    assert_rc(jot_key_check_alg(k, JOT_ALG_ES256, 0), JOT_E_KEY_MISMATCH);
    jot_key_free(k);
}

static void test_eddsa(void **state)
{
    (void)state;
    jot_key_t *k = gen(JOT_ALG_EDDSA, 0, JOT_KTY_OKP, "Ed25519", 256);
    jot_key_free(k);
    k = gen(JOT_ALG_EDDSA, 25519, JOT_KTY_OKP, "Ed25519", 256);
    jot_key_free(k);
    k = gen(JOT_ALG_EDDSA, 448, JOT_KTY_OKP, "Ed448", 456);
    jot_key_free(k);
    k = NULL;
    assert_rc(jot_key_generate(JOT_ALG_EDDSA, 255, &k), JOT_E_INVAL);
    assert_rc(jot_key_generate(JOT_ALG_EDDSA, 256, &k), JOT_E_INVAL);
    assert_null(k);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jot_key_t *k = NULL;
    assert_rc(jot_key_generate(JOT_ALG_UNSET, 0, &k), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_key_generate(JOT_ALG__COUNT, 0, &k), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_key_generate((jot_alg_t)-1, 0, &k), JOT_E_ALG_UNKNOWN);
    assert_null(k);
    assert_rc(jot_key_generate(JOT_ALG_HS256, 0, NULL), JOT_E_INVAL);
}

static void test_kid_is_public_thumbprint(void **state)
{
    (void)state;
    /* the kid of a generated key is also the thumbprint of its public half */
    jot_key_t *k = gen(JOT_ALG_ES256, 0, JOT_KTY_EC, "P-256", 256);
    jot_key_t *pub = NULL;
    assert_rc(jot_key_public(k, &pub), JOT_OK);
    char tp[44];
    assert_rc(jot_key_thumbprint(pub, tp), JOT_OK);
    assert_string_equal(tp, jot_key_kid(k));
    assert_string_equal(jot_key_kid(pub), jot_key_kid(k));
    jot_key_free(pub);
    jot_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_hmac_sizes_refused),
        cmocka_unit_test(test_hmac_random),
        cmocka_unit_test(test_rsa),
        cmocka_unit_test(test_rsa_sizes_refused),
        cmocka_unit_test(test_ec),
        cmocka_unit_test(test_eddsa),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_kid_is_public_thumbprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
