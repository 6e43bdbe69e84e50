/* Unit tests for lib/pem.c: PKCS#8 / SPKI export and import for every key type, traditional
 * RSA and EC private keys and PKCS#1 RSA public keys written by OpenSSL, and refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "internal.h"

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

static char *jwk_of(const jot_key_t *key, unsigned flags)
{
    char *s = NULL;
    assert_rc(jot_key_to_jwk(key, flags, &s, NULL), JOT_OK);
    return s;
}

static void expect_pem_reject(const char *pem, size_t len, jot_err_t want)
{
    jot_key_t *key = (jot_key_t *)(uintptr_t)0x1;
    ERR_clear_error();
    jot_err_t rc = jot_key_from_pem(pem, len, &key);
    if (rc != want)
        fail_msg("%.200s\n  got %s, want %s", pem, jot_err_name(rc), jot_err_name(want));
    assert_ptr_equal(key, (jot_key_t *)(uintptr_t)0x1);
    assert_int_equal(ERR_peek_error(), 0);
}

/* Bytes written to a memory BIO, as a malloc'd string. */
static char *bio_text(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    return s;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- PKCS#8 and SPKI round trips ---------------------------------------------------------- */

static void pem_round_trip(jot_alg_t alg, unsigned bits)
{
    jot_key_t *key = NULL;
    ERR_clear_error();
    assert_rc(jot_key_generate(alg, bits, &key), JOT_OK);
    char *want_priv = jwk_of(key, JOT_JWK_PRIVATE);
    char *want_pub = jwk_of(key, JOT_JWK_PUBLIC);

    char *pem = NULL;
    size_t len = 0;
    assert_rc(jot_key_to_pem(key, JOT_JWK_PRIVATE, &pem, &len), JOT_OK);
    assert_int_equal(strlen(pem), len);
    assert_true(starts_with(pem, "-----BEGIN PRIVATE KEY-----\n"));
    assert_non_null(strstr(pem, "-----END PRIVATE KEY-----"));
    jot_key_t *back = NULL;
    assert_rc(jot_key_from_pem(pem, len, &back), JOT_OK);
    assert_true(jot_key_is_private(back));
    assert_null(jot_key_kid(back)); /* PEM carries no kid or alg */
    assert_int_equal(jot_key_alg(back), JOT_ALG_UNSET);
    assert_rc(jot_key_set_kid(back, jot_key_kid(key)), JOT_OK);
    assert_rc(jot_key_set_alg(back, alg), JOT_OK);
    char *got = jwk_of(back, JOT_JWK_PRIVATE);
    assert_string_equal(got, want_priv);
    jot_free(got);
    jot_key_free(back);
    jot_free(pem);

    assert_rc(jot_key_to_pem(key, JOT_JWK_PUBLIC, &pem, &len), JOT_OK);
    assert_true(starts_with(pem, "-----BEGIN PUBLIC KEY-----\n"));
    assert_rc(jot_key_from_pem(pem, len, &back), JOT_OK);
    assert_false(jot_key_is_private(back));
    assert_rc(jot_key_set_kid(back, jot_key_kid(key)), JOT_OK);
    assert_rc(jot_key_set_alg(back, alg), JOT_OK);
    got = jwk_of(back, JOT_JWK_PUBLIC);
    assert_string_equal(got, want_pub);
    char *s = NULL;
    assert_rc(jot_key_to_pem(back, JOT_JWK_PRIVATE, &s, NULL), JOT_E_KEY_PRIVATE_NEEDED);
    assert_null(s);
    jot_free(got);
    jot_key_free(back);
    jot_free(pem);

    jot_free(want_priv);
    jot_free(want_pub);
    jot_key_free(key);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_pem_rsa(void **state)
{
    (void)state;
    pem_round_trip(JOT_ALG_RS256, 2048);
}

static void test_pem_ec(void **state)
{
    (void)state;
    pem_round_trip(JOT_ALG_ES256, 0);
    pem_round_trip(JOT_ALG_ES384, 0);
    pem_round_trip(JOT_ALG_ES512, 0);
    pem_round_trip(JOT_ALG_ES256K, 0);
}

static void test_pem_okp(void **state)
{
    (void)state;
    pem_round_trip(JOT_ALG_EDDSA, 25519);
    pem_round_trip(JOT_ALG_EDDSA, 448);
}

static void test_pem_oct(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_HS256, 0, &key), JOT_OK);
    char *s = NULL;
    assert_rc(jot_key_to_pem(key, JOT_JWK_PRIVATE, &s, NULL), JOT_E_UNSUPPORTED);
    assert_rc(jot_key_to_pem(key, JOT_JWK_PUBLIC, &s, NULL), JOT_E_UNSUPPORTED);
    assert_null(s);
    jot_key_free(key);
}

/* ---- formats written by OpenSSL ----------------------------------------------------------- */

/* Traditional ("RSA PRIVATE KEY" / "EC PRIVATE KEY") PEM of \p key, optionally encrypted. */
static char *traditional_pem(const jot_key_t *key, bool encrypt)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    unsigned char pass[] = "secret";
    assert_int_equal(
        PEM_write_bio_PrivateKey_traditional(bio, key->pkey, encrypt ? EVP_aes_128_cbc() : NULL,
                                             encrypt ? pass : NULL, encrypt ? 6 : 0, NULL, NULL),
        1);
    char *s = bio_text(bio);
    BIO_free(bio);
    return s;
}

static void traditional_round_trip(jot_alg_t alg, const char *label)
{
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(alg, 0, &key), JOT_OK);
    char *pem = traditional_pem(key, false);
    assert_true(starts_with(pem, label));
    jot_key_t *back = NULL;
    assert_rc(jot_key_from_pem(pem, strlen(pem), &back), JOT_OK);
    assert_true(jot_key_is_private(back));
    char tp1[44], tp2[44];
    assert_rc(jot_key_thumbprint(key, tp1), JOT_OK);
    assert_rc(jot_key_thumbprint(back, tp2), JOT_OK);
    assert_string_equal(tp1, tp2);
    assert_rc(jot_key_set_alg(back, alg), JOT_OK);
    assert_rc(jot_key_set_kid(back, jot_key_kid(key)), JOT_OK);
    char *a = jwk_of(key, JOT_JWK_PRIVATE), *b = jwk_of(back, JOT_JWK_PRIVATE);
    assert_string_equal(a, b);
    jot_free(a);
    jot_free(b);
    jot_key_free(back);

    /* the same key encrypted: refused, without asking for a passphrase */
    char *enc = traditional_pem(key, true);
    assert_non_null(strstr(enc, "ENCRYPTED"));
    expect_pem_reject(enc, strlen(enc), JOT_E_UNSUPPORTED);
    free(enc);
    free(pem);
    jot_key_free(key);
}

static void test_pem_traditional_rsa(void **state)
{
    (void)state;
    traditional_round_trip(JOT_ALG_PS256, "-----BEGIN RSA PRIVATE KEY-----\n");
}

static void test_pem_traditional_ec(void **state)
{
    (void)state;
    traditional_round_trip(JOT_ALG_ES256, "-----BEGIN EC PRIVATE KEY-----\n");
    traditional_round_trip(JOT_ALG_ES512, "-----BEGIN EC PRIVATE KEY-----\n");
}

static void test_pem_ec_parameters_first(void **state)
{
    (void)state;
    /* `openssl ecparam -genkey` writes an "EC PARAMETERS" block before the key */
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_ES384, 0, &key), JOT_OK);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_Parameters(bio, key->pkey), 1);
    assert_int_equal(
        PEM_write_bio_PrivateKey_traditional(bio, key->pkey, NULL, NULL, 0, NULL, NULL), 1);
    char *pem = bio_text(bio);
    BIO_free(bio);
    assert_true(starts_with(pem, "-----BEGIN EC PARAMETERS-----\n"));
    jot_key_t *back = NULL;
    assert_rc(jot_key_from_pem(pem, strlen(pem), &back), JOT_OK);
    assert_string_equal(jot_key_curve(back), "P-384");
    assert_true(jot_key_is_private(back));
    jot_key_free(back);
    /* parameters alone are no key */
    char *end = strstr(pem, "-----BEGIN EC PRIVATE KEY-----");
    assert_non_null(end);
    expect_pem_reject(pem, (size_t)(end - pem), JOT_E_PEM);
    free(pem);
    jot_key_free(key);
}

static void test_pem_rsa_public_pkcs1(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_RS256, 0, &key), JOT_OK);
    OSSL_ENCODER_CTX *ectx =
        OSSL_ENCODER_CTX_new_for_pkey(key->pkey, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);
    assert_non_null(ectx);
    unsigned char *data = NULL;
    size_t len = 0;
    assert_int_equal(OSSL_ENCODER_to_data(ectx, &data, &len), 1);
    OSSL_ENCODER_CTX_free(ectx);
    assert_true(starts_with((const char *)data, "-----BEGIN RSA PUBLIC KEY-----\n"));
    jot_key_t *back = NULL;
    assert_rc(jot_key_from_pem((const char *)data, len, &back), JOT_OK);
    assert_false(jot_key_is_private(back));
    char tp1[44], tp2[44];
    assert_rc(jot_key_thumbprint(key, tp1), JOT_OK);
    assert_rc(jot_key_thumbprint(back, tp2), JOT_OK);
    assert_string_equal(tp1, tp2);
    OPENSSL_free(data);
    jot_key_free(back);
    jot_key_free(key);
}

static void test_pem_encrypted_pkcs8(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_ES256, 0, &key), JOT_OK);
    BIO *bio = BIO_new(BIO_s_mem());
    char pass[] = "secret";
    assert_int_equal(
        PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, EVP_aes_256_cbc(), pass, 6, NULL, NULL), 1);
    char *pem = bio_text(bio);
    BIO_free(bio);
    assert_true(starts_with(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    expect_pem_reject(pem, strlen(pem), JOT_E_UNSUPPORTED);
    free(pem);
    jot_key_free(key);
}

/* ---- refusals ------------------------------------------------------------------------------ */

static void test_pem_garbage(void **state)
{
    (void)state;
    expect_pem_reject("", 0, JOT_E_PEM);
    expect_pem_reject("hello world\n", 12, JOT_E_PEM);
    const char *no_end = "-----BEGIN PUBLIC "
                         "KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n";
    expect_pem_reject(no_end, strlen(no_end), JOT_E_PEM);
    const char *bad_b64 =
        "-----BEGIN PUBLIC KEY-----\nMCow!!!!BQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
    expect_pem_reject(bad_b64, strlen(bad_b64), JOT_E_PEM);
    /* valid base64, not DER */
    const char *not_der =
        "-----BEGIN PUBLIC KEY-----\naGVsbG8gd29ybGQ=\n-----END PUBLIC KEY-----\n";
    expect_pem_reject(not_der, strlen(not_der), JOT_E_PEM);
    /* an SPKI under the private-key label */
    const char *mislabelled = "-----BEGIN PRIVATE KEY-----\n"
                              "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                              "-----END PRIVATE KEY-----\n";
    expect_pem_reject(mislabelled, strlen(mislabelled), JOT_E_PEM);
    jot_key_t *key = NULL;
    assert_rc(jot_key_from_pem(NULL, 0, &key), JOT_E_INVAL);
    assert_rc(jot_key_from_pem("", 0, NULL), JOT_E_INVAL);
}

static void test_pem_rfc8037_spki(void **state)
{
    (void)state;
    /* the RFC 8037 A.2 key as SPKI: OID 1.3.101.112 then the 32 key bytes */
    const char *pem = "-----BEGIN PUBLIC KEY-----\n"
                      "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                      "-----END PUBLIC KEY-----\n";
    jot_key_t *key = NULL;
    assert_rc(jot_key_from_pem(pem, strlen(pem), &key), JOT_OK);
    char tp[44];
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    jot_key_free(key);
    /* trailing bytes after the DER are refused */
    const char *trailing = "-----BEGIN PUBLIC KEY-----\n"
                           "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURoA\n"
                           "-----END PUBLIC KEY-----\n";
    expect_pem_reject(trailing, strlen(trailing), JOT_E_PEM);
}

static void test_pem_unsupported_types(void **state)
{
    (void)state;
    /* X25519 (key agreement) as PKCS#8 and SPKI */
    EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    assert_non_null(x);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, x, NULL, NULL, 0, NULL, NULL), 1);
    char *pem = bio_text(bio);
    BIO_free(bio);
    expect_pem_reject(pem, strlen(pem), JOT_E_UNSUPPORTED);
    free(pem);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, x), 1);
    pem = bio_text(bio);
    BIO_free(bio);
    expect_pem_reject(pem, strlen(pem), JOT_E_UNSUPPORTED);
    free(pem);
    EVP_PKEY_free(x);
    /* a label that is no key */
    const char *cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect_pem_reject(cert, strlen(cert), JOT_E_UNSUPPORTED);
}

static void test_pem_rsa_weak(void **state)
{
    (void)state;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(pk);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    char *pem = bio_text(bio);
    BIO_free(bio);
    expect_pem_reject(pem, strlen(pem), JOT_E_KEY_WEAK);
    free(pem);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
    pem = bio_text(bio);
    BIO_free(bio);
    expect_pem_reject(pem, strlen(pem), JOT_E_KEY_WEAK);
    free(pem);
    EVP_PKEY_free(pk);
}

static void test_pem_too_big(void **state)
{
    (void)state;
    size_t big = JOT_MAX_JWK_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '\n', big);
    jot_key_t *key = NULL;
    assert_rc(jot_key_from_pem(huge, big, &key), JOT_E_TOOBIG);
    assert_null(key);
    free(huge);
}

static void test_pem_first_key_taken(void **state)
{
    (void)state;
    /* a private key followed by something else (a certificate chain, say): the key */
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_EDDSA, 0, &key), JOT_OK);
    char *pem = NULL;
    assert_rc(jot_key_to_pem(key, JOT_JWK_PRIVATE, &pem, NULL), JOT_OK);
    char buf[2048];
    snprintf(buf, sizeof buf,
             "Bag Attributes\n%s-----BEGIN CERTIFICATE-----\nAAAA\n"
             "-----END CERTIFICATE-----\n",
             pem);
    jot_key_t *back = NULL;
    assert_rc(jot_key_from_pem(buf, strlen(buf), &back), JOT_OK);
    assert_true(jot_key_is_private(back));
    jot_key_free(back);
    jot_free(pem);
    jot_key_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pem_rsa),
        cmocka_unit_test(test_pem_ec),
        cmocka_unit_test(test_pem_okp),
        cmocka_unit_test(test_pem_oct),
        cmocka_unit_test(test_pem_traditional_rsa),
        cmocka_unit_test(test_pem_traditional_ec),
        cmocka_unit_test(test_pem_ec_parameters_first),
        cmocka_unit_test(test_pem_rsa_public_pkcs1),
        cmocka_unit_test(test_pem_encrypted_pkcs8),
        cmocka_unit_test(test_pem_garbage),
        cmocka_unit_test(test_pem_rfc8037_spki),
        cmocka_unit_test(test_pem_unsupported_types),
        cmocka_unit_test(test_pem_rsa_weak),
        cmocka_unit_test(test_pem_too_big),
        cmocka_unit_test(test_pem_first_key_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
