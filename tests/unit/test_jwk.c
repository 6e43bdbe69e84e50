/* Unit tests for lib/jwk.c: JWK import (every kty and curve), export, RFC 7638 thumbprints,
 * jot_key_public() and jot_key_parse(). No signing is involved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

/* ---- keys from RFC text -------------------------------------------------------------- */

/* RFC 7638 §3.1 (also RFC 7517 A.1): 2048-bit RSA public key */
#define RFC7638_N                                                                                  \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"      \
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"              \
    "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"   \
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_JWK                                                                                \
    "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-" \
    "29\"}"
#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* RFC 8037 A.1 / A.2 / A.3: Ed25519 (RFC 8032 §7.1 TEST 1) */
#define ED_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_PRIV "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"" ED_D "\",\"x\":\"" ED_X "\"}"
#define ED_PUB "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}"
#define RFC8037_THUMBPRINT "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

/* RFC 7515 A.3: P-256 */
#define P256_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define P256_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define P256_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
#define P256_PUB "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}"
#define P256_PRIV                                                                                  \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\",\"d\":\"" P256_D  \
    "\"}"

/* RFC 7515 A.1: the HS256 key (64 bytes) */
#define HS_K                                                                                       \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"

/* ---- helpers ------------------------------------------------------------------------- */

static jot_err_t import(const char *json, jot_key_t **out)
{
    return jot_key_from_jwk(json, strlen(json), out);
}

/* Import must fail with \p want, leave the output alone and the OpenSSL queue empty. */
static void expect_reject(const char *json, jot_err_t want)
{
    jot_key_t *key = (jot_key_t *)(uintptr_t)0x1;
    ERR_clear_error();
    jot_err_t rc = jot_key_from_jwk(json, strlen(json), &key);
    if (rc != want)
        fail_msg("import of %.200s\n  got %s, want %s", json, jot_err_name(rc), jot_err_name(want));
    assert_ptr_equal(key, (jot_key_t *)(uintptr_t)0x1);
    assert_int_equal(ERR_peek_error(), 0);
}

static jot_key_t *must_import(const char *json)
{
    jot_key_t *key = NULL;
    jot_err_t rc = import(json, &key);
    if (rc != JOT_OK)
        fail_msg("import of %.200s: %s", json, jot_err_name(rc));
    assert_non_null(key);
    return key;
}

static char *export(const jot_key_t *key, unsigned flags)
{
    char *s = NULL;
    size_t n = 0;
    assert_rc(jot_key_to_jwk(key, flags, &s, &n), JOT_OK);
    assert_non_null(s);
    assert_int_equal(strlen(s), n);
    return s;
}

/* \p json with member \p name replaced by (or set to) \p value; value NULL deletes it. The
 * value reference is stolen. Caller frees with free(). */
static char *jwk_with(const char *json, const char *name, json_t *value)
{
    json_error_t err;
    json_t *o = json_loads(json, 0, &err);
    assert_non_null(o);
    if (value)
        assert_int_equal(json_object_set_new(o, name, value), 0);
    else
        json_object_del(o, name);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    assert_non_null(s);
    return s;
}

/* base64url of the bytes of member \p name of \p json, changed by \p edit. */
static json_t *b64_edited(const char *json, const char *name, void (*edit)(uint8_t *, size_t *))
{
    json_error_t err;
    json_t *o = json_loads(json, 0, &err);
    assert_non_null(o);
    json_t *v = json_object_get(o, name);
    assert_true(json_is_string(v));
    uint8_t buf[2048];
    size_t n = 0;
    assert_true(json_string_length(v) / 4 * 3 + 2 < sizeof buf - 8);
    assert_rc(jot_b64url_decode(buf, &n, json_string_value(v), json_string_length(v)), JOT_OK);
    edit(buf, &n);
    char enc[4096];
    jot_b64url_encode(enc, buf, n);
    json_decref(o);
    return json_string(enc);
}

static void prepend_zero(uint8_t *b, size_t *n)
{
    memmove(b + 1, b, *n);
    b[0] = 0;
    (*n)++;
}

static void append_zero(uint8_t *b, size_t *n)
{
    b[(*n)++] = 0;
}

static void drop_first(uint8_t *b, size_t *n)
{
    memmove(b, b + 1, *n - 1);
    (*n)--;
}

static void flip_last_bit(uint8_t *b, size_t *n)
{
    b[*n - 1] ^= 1;
}

static char *read_vector(const char *rel)
{
    const char *dir = getenv("JOT_VECTORS");
    if (!dir)
        return NULL;
    char path[1024];
    int w = snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (w < 0 || (size_t)w >= sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1u << 20);
    size_t n = buf ? fread(buf, 1, (1u << 20) - 1, f) : 0;
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* ---- round trips ---------------------------------------------------------------------- */

/* generate → private JWK → import → private JWK again: byte-identical; same for the public
 * form; the thumbprint is the kid and is the same for the private and the public key */
static void round_trip(jot_alg_t alg, unsigned bits, jot_kty_t kty, const char *crv)
{
    jot_key_t *key = NULL;
    ERR_clear_error();
    assert_rc(jot_key_generate(alg, bits, &key), JOT_OK);
    assert_int_equal(jot_key_kty(key), kty);
    if (crv)
        assert_string_equal(jot_key_curve(key), crv);
    else
        assert_null(jot_key_curve(key));

    char *priv1 = export(key, JOT_JWK_PRIVATE);
    jot_key_t *back = must_import(priv1);
    assert_true(jot_key_is_private(back));
    assert_int_equal(jot_key_bits(back), jot_key_bits(key));
    assert_int_equal(jot_key_alg(back), alg);
    assert_string_equal(jot_key_kid(back), jot_key_kid(key));
    char *priv2 = export(back, JOT_JWK_PRIVATE);
    assert_string_equal(priv1, priv2);
    assert_non_null(strstr(priv1, "\"d\":") ? priv1 : strstr(priv1, "\"k\":"));

    char tp1[44], tp2[44];
    assert_rc(jot_key_thumbprint(key, tp1), JOT_OK);
    assert_int_equal(strlen(tp1), 43);
    assert_string_equal(tp1, jot_key_kid(key));
    assert_rc(jot_key_thumbprint(back, tp2), JOT_OK);
    assert_string_equal(tp1, tp2);

    if (kty != JOT_KTY_OCT) {
        char *pub1 = export(key, JOT_JWK_PUBLIC);
        assert_null(strstr(pub1, "\"d\":"));
        assert_null(strstr(pub1, "\"p\":"));
        jot_key_t *pub = must_import(pub1);
        assert_false(jot_key_is_private(pub));
        char *pub2 = export(pub, JOT_JWK_PUBLIC);
        assert_string_equal(pub1, pub2);
        assert_rc(jot_key_thumbprint(pub, tp2), JOT_OK);
        assert_string_equal(tp1, tp2);
        char *s = NULL;
        assert_rc(jot_key_to_jwk(pub, JOT_JWK_PRIVATE, &s, NULL), JOT_E_KEY_PRIVATE_NEEDED);
        assert_null(s);

        /* jot_key_public() of the private key gives the same public JWK */
        jot_key_t *pub3 = NULL;
        assert_rc(jot_key_public(key, &pub3), JOT_OK);
        assert_false(jot_key_is_private(pub3));
        assert_ptr_not_equal(pub3->pkey, key->pkey);
        char *pub4 = export(pub3, JOT_JWK_PUBLIC);
        assert_string_equal(pub1, pub4);
        jot_free(pub4);
        jot_key_free(pub3);
        jot_free(pub1);
        jot_free(pub2);
        jot_key_free(pub);
    } else {
        char *s = NULL;
        assert_rc(jot_key_to_jwk(key, JOT_JWK_PUBLIC, &s, NULL), JOT_E_UNSUPPORTED);
        jot_key_t *pub = NULL;
        assert_rc(jot_key_public(key, &pub), JOT_E_UNSUPPORTED);
        assert_null(pub);
    }
    jot_free(priv1);
    jot_free(priv2);
    jot_key_free(back);
    jot_key_free(key);
    /* success leaves nothing behind in OpenSSL's error queue either */
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_round_trip_hs256(void **state)
{
    (void)state;
    round_trip(JOT_ALG_HS256, 0, JOT_KTY_OCT, NULL);
}

static void test_round_trip_hs384(void **state)
{
    (void)state;
    round_trip(JOT_ALG_HS384, 0, JOT_KTY_OCT, NULL);
}

static void test_round_trip_hs512(void **state)
{
    (void)state;
    round_trip(JOT_ALG_HS512, 1024, JOT_KTY_OCT, NULL);
}

static void test_round_trip_rsa(void **state)
{
    (void)state;
    round_trip(JOT_ALG_RS256, 2048, JOT_KTY_RSA, NULL);
    round_trip(JOT_ALG_PS384, 0, JOT_KTY_RSA, NULL);
}

static void test_round_trip_p256(void **state)
{
    (void)state;
    round_trip(JOT_ALG_ES256, 0, JOT_KTY_EC, "P-256");
}

static void test_round_trip_p384(void **state)
{
    (void)state;
    round_trip(JOT_ALG_ES384, 0, JOT_KTY_EC, "P-384");
}

static void test_round_trip_p521(void **state)
{
    (void)state;
    /* repeat: P-521 coordinates often start with zero bits, and d with a zero octet */
    for (int i = 0; i < 8; i++)
        round_trip(JOT_ALG_ES512, 0, JOT_KTY_EC, "P-521");
}

static void test_round_trip_secp256k1(void **state)
{
    (void)state;
    round_trip(JOT_ALG_ES256K, 0, JOT_KTY_EC, "secp256k1");
}

static void test_round_trip_ed25519(void **state)
{
    (void)state;
    round_trip(JOT_ALG_EDDSA, 0, JOT_KTY_OKP, "Ed25519");
}

static void test_round_trip_ed448(void **state)
{
    (void)state;
    round_trip(JOT_ALG_EDDSA, 448, JOT_KTY_OKP, "Ed448");
}

/* ---- exact export format --------------------------------------------------------------- */

static void test_export_order_okp(void **state)
{
    (void)state;
    jot_key_t *key = must_import("{\"key_ops\":[\"sign\",\"verify\"],\"use\":\"sig\","
                                 "\"alg\":\"EdDSA\",\"kid\":\"k1\",\"x\":\"" ED_X "\",\"d\":\"" ED_D
                                 "\",\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x5c\":[\"AAAA\"]}");
    char *s = export(key, JOT_JWK_PRIVATE);
    assert_string_equal(s, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"d\":\"" ED_D
                           "\",\"kid\":\"k1\",\"alg\":\"EdDSA\",\"use\":\"sig\","
                           "\"key_ops\":[\"sign\",\"verify\"]}");
    jot_free(s);
    s = export(key, JOT_JWK_PUBLIC);
    assert_string_equal(s, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"k1\","
                           "\"alg\":\"EdDSA\",\"use\":\"sig\",\"key_ops\":[\"sign\",\"verify\"]}");
    jot_free(s);
    jot_key_free(key);
}

static void test_export_order_ec(void **state)
{
    (void)state;
    jot_key_t *key = must_import("{\"d\":\"" P256_D "\",\"y\":\"" P256_Y "\",\"x\":\"" P256_X
                                 "\",\"crv\":\"P-256\",\"kty\":\"EC\",\"alg\":\"ES256\"}");
    char *s = export(key, JOT_JWK_PRIVATE);
    assert_string_equal(s, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y
                           "\",\"d\":\"" P256_D "\",\"alg\":\"ES256\"}");
    jot_free(s);
    jot_key_free(key);
}

static void test_export_order_rsa_public(void **state)
{
    (void)state;
    jot_key_t *key = must_import(RFC7638_JWK);
    char *s = export(key, JOT_JWK_PUBLIC);
    assert_string_equal(s, "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\","
                           "\"kid\":\"2011-04-29\",\"alg\":\"RS256\"}");
    jot_free(s);
    assert_int_equal(jot_key_bits(key), 2048);
    jot_key_free(key);
}

static void test_export_oct(void **state)
{
    (void)state;
    jot_key_t *key = must_import("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"use\":\"sig\"}");
    assert_int_equal(jot_key_bits(key), 512);
    assert_true(jot_key_is_private(key));
    char *s = export(key, JOT_JWK_PRIVATE);
    assert_string_equal(s, "{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"use\":\"sig\"}");
    jot_free(s);
    s = NULL;
    assert_rc(jot_key_to_jwk(key, JOT_JWK_PUBLIC, &s, NULL), JOT_E_UNSUPPORTED);
    assert_rc(jot_key_to_jwk(key, 2u, &s, NULL), JOT_E_INVAL);
    assert_null(s);
    jot_key_free(key);
}

static void test_export_kid_escaped(void **state)
{
    (void)state;
    /* a kid holding quotes, a backslash, a control character, '/' and non-ASCII */
    jot_key_t *key = must_import("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\","
                                 "\"kid\":\"a\\\"b\\\\c\\n../d\\u00e9\"}");
    assert_string_equal(jot_key_kid(key), "a\"b\\c\n../d\xc3\xa9");
    char *s = export(key, JOT_JWK_PUBLIC);
    jot_key_t *back = must_import(s);
    assert_string_equal(jot_key_kid(back), jot_key_kid(key));
    jot_free(s);
    jot_key_free(back);
    jot_key_free(key);
}

static void test_export_key_ops_other(void **state)
{
    (void)state;
    /* ["encrypt"] keeps no name on export, but stays unusable after a round trip */
    jot_key_t *key =
        must_import("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"key_ops\":[]}");
    assert_rc(jot_key_check_alg(key, JOT_ALG_EDDSA, 0), JOT_E_KEY_USE);
    char *s = export(key, JOT_JWK_PUBLIC);
    assert_string_equal(s, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\","
                           "\"key_ops\":[]}");
    jot_key_t *back = must_import(s);
    assert_rc(jot_key_check_alg(back, JOT_ALG_EDDSA, 0), JOT_E_KEY_USE);
    jot_free(s);
    jot_key_free(back);
    jot_key_free(key);
}

/* ---- thumbprints ----------------------------------------------------------------------- */

static void test_thumbprint_rfc7638(void **state)
{
    (void)state;
    jot_key_t *key = must_import(RFC7638_JWK);
    char tp[44];
    memset(tp, 'X', sizeof tp);
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, RFC7638_THUMBPRINT);
    jot_key_free(key);
    /* kid, alg, use and unknown members never change it */
    key = must_import("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}");
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, RFC7638_THUMBPRINT);
    assert_rc(jot_key_set_kid(key, "other"), JOT_OK);
    assert_rc(jot_key_set_alg(key, JOT_ALG_PS512), JOT_OK);
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, RFC7638_THUMBPRINT);
    jot_key_free(key);
}

static void test_thumbprint_rfc7638_file(void **state)
{
    (void)state;
    char *text = read_vector("rfc-examples/rfc7638_3.1_thumbprint.json");
    if (!text) {
        printf("SKIPPED: rfc7638_3.1_thumbprint.json not found (JOT_VECTORS)\n");
        return;
    }
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    assert_non_null(doc);
    char *jwk = json_dumps(json_object_get(doc, "jwk"), JSON_COMPACT);
    jot_key_t *key = must_import(jwk);
    char tp[44];
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, json_string_value(json_object_get(doc, "thumbprint")));
    free(jwk);
    jot_key_free(key);
    json_decref(doc);
}

static void test_thumbprint_rfc8037(void **state)
{
    (void)state;
    char tp[44];
    jot_key_t *key = must_import(ED_PUB);
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, RFC8037_THUMBPRINT);
    jot_key_free(key);
    key = must_import(ED_PRIV); /* d is not part of it */
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, RFC8037_THUMBPRINT);
    jot_key_free(key);
}

static void test_thumbprint_rfc8037_file(void **state)
{
    (void)state;
    char *text = read_vector("rfc-examples/rfc8037_A_Ed25519.json");
    if (!text) {
        printf("SKIPPED: rfc8037_A_Ed25519.json not found (JOT_VECTORS)\n");
        return;
    }
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    assert_non_null(doc);
    char *jwk = json_dumps(json_object_get(doc, "A.1_private_jwk"), JSON_COMPACT);
    jot_key_t *key = must_import(jwk);
    char tp[44];
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, json_string_value(json_object_get(doc, "A.3_thumbprint")));
    /* the private key's public half is the A.2 key */
    uint8_t pub[32];
    size_t n = sizeof pub;
    assert_int_equal(EVP_PKEY_get_raw_public_key(key->pkey, pub, &n), 1);
    char hex[65];
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", pub[i]);
    assert_string_equal(hex, json_string_value(json_object_get(doc, "A.1_public_key_hex")));
    free(jwk);
    jot_key_free(key);
    json_decref(doc);
}

static void test_thumbprint_oct_and_ec(void **state)
{
    (void)state;
    /* computed independently: SHA-256 of the canonical JSON, base64url */
    static const char *const cases[][2] = {
        {"{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"kid\":\"x\"}",
         "{\"k\":\"" HS_K "\",\"kty\":\"oct\"}"},
        {P256_PRIV, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jot_key_t *key = must_import(cases[i][0]);
        char tp[44];
        assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
        uint8_t md[32];
        unsigned mdlen = 0;
        assert_int_equal(
            EVP_Digest(cases[i][1], strlen(cases[i][1]), md, &mdlen, EVP_sha256(), NULL), 1);
        char want[44];
        jot_b64url_encode(want, md, sizeof md);
        assert_string_equal(tp, want);
        jot_key_free(key);
    }
}

/* ---- RFC 7520 cookbook keys ------------------------------------------------------------- */

static jot_key_t *cookbook(const char *name, jot_err_t want)
{
    char rel[256];
    snprintf(rel, sizeof rel, "jose-cookbook/jwk/%s", name);
    char *text = read_vector(rel);
    if (!text) {
        printf("SKIPPED: %s not found (JOT_VECTORS)\n", rel);
        return NULL;
    }
    jot_key_t *key = NULL;
    jot_err_t rc = jot_key_from_jwk(text, strlen(text), &key);
    if (rc != want)
        fail_msg("%s: got %s, want %s", name, jot_err_name(rc), jot_err_name(want));
    /* the private export lists the same members with the same values */
    if (key && jot_key_is_private(key)) {
        char *out = export(key, JOT_JWK_PRIVATE);
        json_error_t err;
        json_t *a = json_loads(text, 0, &err), *b = json_loads(out, 0, &err);
        assert_non_null(a);
        assert_non_null(b);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        jot_free(out);
    }
    free(text);
    return key;
}

static void test_cookbook_ec(void **state)
{
    (void)state;
    jot_key_t *key = cookbook("3_1.ec_public_key.json", JOT_OK);
    if (!key)
        return;
    assert_int_equal(jot_key_kty(key), JOT_KTY_EC);
    assert_string_equal(jot_key_curve(key), "P-521");
    assert_int_equal(jot_key_bits(key), 521);
    assert_false(jot_key_is_private(key));
    assert_string_equal(jot_key_kid(key), "bilbo.baggins@hobbiton.example");
    assert_int_equal(key->use, JOT_USE_SIG);
    assert_rc(jot_key_check_alg(key, JOT_ALG_ES512, 0), JOT_OK);
    assert_rc(jot_key_check_alg(key, JOT_ALG_ES512, 1), JOT_E_KEY_PRIVATE_NEEDED);
    jot_key_free(key);
    key = cookbook("3_2.ec_private_key.json", JOT_OK);
    assert_non_null(key);
    assert_true(jot_key_is_private(key));
    assert_rc(jot_key_check_alg(key, JOT_ALG_ES512, 1), JOT_OK);
    jot_key_free(key);
}

static void test_cookbook_rsa(void **state)
{
    (void)state;
    jot_key_t *key = cookbook("3_3.rsa_public_key.json", JOT_OK);
    if (!key)
        return;
    assert_int_equal(jot_key_kty(key), JOT_KTY_RSA);
    assert_int_equal(jot_key_bits(key), 2048);
    assert_false(jot_key_is_private(key));
    jot_key_free(key);
    key = cookbook("3_4.rsa_private_key.json", JOT_OK);
    assert_non_null(key);
    assert_true(jot_key_is_private(key));
    assert_rc(jot_key_check_alg(key, JOT_ALG_PS256, 1), JOT_OK);
    jot_key_free(key);
}

static void test_cookbook_oct(void **state)
{
    (void)state;
    jot_key_t *key = cookbook("3_5.symmetric_key_mac_computation.json", JOT_OK);
    if (!key)
        return;
    assert_int_equal(jot_key_kty(key), JOT_KTY_OCT);
    assert_int_equal(jot_key_alg(key), JOT_ALG_HS256);
    assert_int_equal(jot_key_bits(key), 256);
    jot_key_free(key);
    /* 3.6 is an A256GCM content-encryption key: its "alg" is not a JWS algorithm, so it is
     * refused outright rather than imported as an unusable key */
    key = cookbook("3_6.symmetric_key_encryption.json", JOT_E_ALG_UNKNOWN);
    assert_null(key);
}

/* ---- rejections: RSA ------------------------------------------------------------------- */

/* Public (and private) JWK of a fresh RSA key of \p bits made with OpenSSL directly. */
static char *rsa_jwk_openssl(unsigned bits, bool priv)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    assert_non_null(pk);
    static const char *const names[][2] = {
        {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
        {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    json_t *o = json_object();
    json_object_set_new(o, "kty", json_string("RSA"));
    for (size_t i = 0; i < (priv ? 8u : 2u); i++) {
        BIGNUM *bn = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(pk, names[i][1], &bn), 1);
        uint8_t buf[1024];
        int n = BN_bn2bin(bn, buf);
        char enc[2048];
        jot_b64url_encode(enc, buf, (size_t)n);
        json_object_set_new(o, names[i][0], json_string(enc));
        BN_clear_free(bn);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    EVP_PKEY_free(pk);
    return s;
}

static void test_reject_rsa_1024(void **state)
{
    (void)state;
    char *pub = rsa_jwk_openssl(1024, false);
    expect_reject(pub, JOT_E_KEY_WEAK);
    char *priv = rsa_jwk_openssl(1024, true);
    expect_reject(priv, JOT_E_KEY_WEAK);
    free(pub);
    free(priv);
}

static void test_reject_rsa_e_one(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQ\"}", JOT_E_KEY_INVALID);
}

static void test_reject_rsa_e_even(void **state)
{
    (void)state;
    /* 65538 */
    expect_reject("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAC\"}", JOT_E_KEY_INVALID);
}

static void test_reject_rsa_e_empty(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"\"}", JOT_E_KEY_INVALID);
}

static void test_reject_rsa_n_leading_zero(void **state)
{
    (void)state;
    char *s = jwk_with(RFC7638_JWK, "n", b64_edited(RFC7638_JWK, "n", prepend_zero));
    assert_non_null(strstr(s, "\"n\":\"AN")); /* 0x00 0xd2 ... */
    expect_reject(s, JOT_E_KEY_INVALID);
    free(s);
}

static void test_reject_rsa_missing_n(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", JOT_E_KEY_INVALID);
}

static void test_reject_rsa_private_inconsistent(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_RS256, 2048, &key), JOT_OK);
    char *priv = export(key, JOT_JWK_PRIVATE);
    jot_key_free(key);
    json_error_t err;
    json_t *o = json_loads(priv, 0, &err);
    /* dp and dq swapped */
    json_t *dp = json_deep_copy(json_object_get(o, "dp"));
    json_t *dq = json_deep_copy(json_object_get(o, "dq"));
    char *s1 = jwk_with(priv, "dp", dq);
    char *s2 = jwk_with(s1, "dq", dp);
    expect_reject(s2, JOT_E_KEY_INVALID);
    /* d changed */
    char *s3 = jwk_with(priv, "d", b64_edited(priv, "d", flip_last_bit));
    expect_reject(s3, JOT_E_KEY_INVALID);
    /* n of another key */
    char *s4 = jwk_with(priv, "n", json_string(RFC7638_N));
    expect_reject(s4, JOT_E_KEY_INVALID);
    json_decref(o);
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    jot_memzero(priv, strlen(priv));
    jot_free(priv);
}

static void test_reject_rsa_partial_crt(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_RS256, 2048, &key), JOT_OK);
    char *priv = export(key, JOT_JWK_PRIVATE);
    jot_key_free(key);
    char *no_qi = jwk_with(priv, "qi", NULL);
    expect_reject(no_qi, JOT_E_KEY_INVALID);
    /* CRT members without d */
    char *no_d = jwk_with(priv, "d", NULL);
    expect_reject(no_d, JOT_E_KEY_INVALID);
    /* d alone: OpenSSL 3.0 cannot check it against n and e */
    char *d_only = jwk_with(priv, "p", NULL);
    char *t;
    static const char *const crt[] = {"q", "dp", "dq", "qi"};
    for (size_t i = 0; i < 4; i++) {
        t = jwk_with(d_only, crt[i], NULL);
        free(d_only);
        d_only = t;
    }
    expect_reject(d_only, JOT_E_UNSUPPORTED);
    /* multi-prime */
    char *oth =
        jwk_with(priv, "oth", json_pack("[{s:s,s:s,s:s}]", "r", "AQAB", "d", "AQAB", "t", "AQAB"));
    expect_reject(oth, JOT_E_UNSUPPORTED);
    free(no_qi);
    free(no_d);
    free(d_only);
    free(oth);
    jot_free(priv);
}

/* ---- rejections: EC --------------------------------------------------------------------- */

static void test_reject_ec_not_on_curve(void **state)
{
    (void)state;
    char *s = jwk_with(P256_PUB, "y", b64_edited(P256_PUB, "y", flip_last_bit));
    expect_reject(s, JOT_E_KEY_INVALID);
    char *t = jwk_with(P256_PRIV, "y", b64_edited(P256_PRIV, "y", flip_last_bit));
    expect_reject(t, JOT_E_KEY_INVALID);
    free(s);
    free(t);
}

static void test_reject_ec_wrong_length(void **state)
{
    (void)state;
    char *s = jwk_with(P256_PUB, "x", b64_edited(P256_PUB, "x", append_zero));
    expect_reject(s, JOT_E_KEY_INVALID);
    char *t = jwk_with(P256_PUB, "x", b64_edited(P256_PUB, "x", drop_first));
    expect_reject(t, JOT_E_KEY_INVALID);
    /* a short d, and a y of the right length for another curve */
    char *u = jwk_with(P256_PRIV, "d", b64_edited(P256_PRIV, "d", drop_first));
    expect_reject(u, JOT_E_KEY_INVALID);
    char *v = jwk_with(P256_PUB, "crv", json_string("P-384"));
    expect_reject(v, JOT_E_KEY_INVALID);
    free(s);
    free(t);
    free(u);
    free(v);
}

static void test_reject_ec_p521_short_coordinate(void **state)
{
    (void)state;
    /* RFC 7518 §6.2.1.2: 66 octets even when the top one is zero; the same value in 65
     * octets is refused. Find a key whose x starts with a zero octet (about one in two). */
    bool tested = false;
    for (int tries = 0; tries < 64 && !tested; tries++) {
        jot_key_t *key = NULL;
        assert_rc(jot_key_generate(JOT_ALG_ES512, 0, &key), JOT_OK);
        char *pub = export(key, JOT_JWK_PUBLIC);
        jot_key_free(key);
        const char *x0 = strstr(pub, "\"x\":\"") + 5;
        /* first octet zero: "A" (6 zero bits), then 2 zero bits: "A".."P" */
        if (x0[0] == 'A' && x0[1] >= 'A' && x0[1] <= 'P') {
            json_t *x = b64_edited(pub, "x", drop_first);
            uint8_t raw[80];
            size_t n = 0;
            assert_rc(jot_b64url_decode(raw, &n, json_string_value(x), json_string_length(x)),
                      JOT_OK);
            assert_int_equal(n, 65);
            char *s = jwk_with(pub, "x", x);
            expect_reject(s, JOT_E_KEY_INVALID);
            free(s);
            tested = true;
        }
        jot_free(pub);
    }
    assert_true(tested);
}

static void test_reject_ec_private_mismatch(void **state)
{
    (void)state;
    char *s = jwk_with(P256_PRIV, "d", b64_edited(P256_PRIV, "d", flip_last_bit));
    expect_reject(s, JOT_E_KEY_INVALID);
    free(s);
    /* d = 0 */
    expect_reject("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y
                  "\",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                  JOT_E_KEY_INVALID);
}

static void test_reject_ec_unknown_crv(void **state)
{
    (void)state;
    char *s = jwk_with(P256_PUB, "crv", json_string("P-192"));
    expect_reject(s, JOT_E_UNSUPPORTED);
    char *t = jwk_with(P256_PUB, "crv", json_string("p-256")); /* case-sensitive */
    expect_reject(t, JOT_E_UNSUPPORTED);
    char *u = jwk_with(P256_PUB, "crv", json_string("Ed25519")); /* not an EC curve */
    expect_reject(u, JOT_E_UNSUPPORTED);
    char *v = jwk_with(P256_PUB, "crv", NULL);
    expect_reject(v, JOT_E_KEY_INVALID);
    free(s);
    free(t);
    free(u);
    free(v);
}

static void test_reject_ec_bad_base64(void **state)
{
    (void)state;
    /* '+' and '/' belong to the other alphabet */
    char x[64];
    snprintf(x, sizeof x, "%s", P256_X);
    x[3] = '+';
    char *s = jwk_with(P256_PUB, "x", json_string(x));
    expect_reject(s, JOT_E_BASE64);
    x[3] = '/';
    char *t = jwk_with(P256_PUB, "x", json_string(x));
    expect_reject(t, JOT_E_BASE64);
    char *u = jwk_with(P256_PUB, "y", json_string(P256_Y "="));
    expect_reject(u, JOT_E_BASE64);
    free(s);
    free(t);
    free(u);
}

/* ---- rejections: OKP -------------------------------------------------------------------- */

static void test_reject_ed25519_mismatch(void **state)
{
    (void)state;
    char *s = jwk_with(ED_PRIV, "x", b64_edited(ED_PRIV, "x", flip_last_bit));
    expect_reject(s, JOT_E_KEY_INVALID);
    free(s);
}

static void test_reject_okp_lengths_and_curves(void **state)
{
    (void)state;
    char *s = jwk_with(ED_PUB, "x", b64_edited(ED_PUB, "x", append_zero));
    expect_reject(s, JOT_E_KEY_INVALID);
    char *t = jwk_with(ED_PRIV, "d", b64_edited(ED_PRIV, "d", drop_first));
    expect_reject(t, JOT_E_KEY_INVALID);
    char *u = jwk_with(ED_PUB, "crv", json_string("X25519"));
    expect_reject(u, JOT_E_UNSUPPORTED);
    char *v = jwk_with(ED_PUB, "crv", json_string("P-256"));
    expect_reject(v, JOT_E_UNSUPPORTED);
    char *w = jwk_with(ED_PUB, "x", NULL);
    expect_reject(w, JOT_E_KEY_INVALID);
    /* an Ed448-sized x under Ed25519 */
    jot_key_t *k448 = NULL;
    assert_rc(jot_key_generate(JOT_ALG_EDDSA, 448, &k448), JOT_OK);
    char *p448 = export(k448, JOT_JWK_PUBLIC);
    char *x = jwk_with(p448, "crv", json_string("Ed25519"));
    expect_reject(x, JOT_E_KEY_INVALID);
    jot_key_free(k448);
    jot_free(p448);
    free(s);
    free(t);
    free(u);
    free(v);
    free(w);
    free(x);
}

/* ---- rejections: oct --------------------------------------------------------------------- */

static void test_reject_oct_empty(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"oct\",\"k\":\"\"}", JOT_E_KEY_WEAK);
    expect_reject("{\"kty\":\"oct\"}", JOT_E_KEY_INVALID);
}

static void test_reject_oct_short(void **state)
{
    (void)state;
    /* 31 bytes */
    expect_reject("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\"}",
                  JOT_E_KEY_WEAK);
    /* 32 bytes is enough for HS256 but not for HS384 */
    jot_key_t *key =
        must_import("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\","
                    "\"alg\":\"HS256\"}");
    assert_int_equal(jot_key_bits(key), 256);
    jot_key_free(key);
    expect_reject(
        "{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\"alg\":\"HS384\"}",
        JOT_E_KEY_WEAK);
}

static void test_reject_oct_too_long(void **state)
{
    (void)state;
    uint8_t k[JOT_MAX_HMAC_KEY_BYTES + 1];
    memset(k, 7, sizeof k);
    char enc[2 * sizeof k];
    jot_b64url_encode(enc, k, sizeof k);
    char *s = jwk_with("{\"kty\":\"oct\"}", "k", json_string(enc));
    expect_reject(s, JOT_E_KEY_INVALID);
    free(s);
    jot_b64url_encode(enc, k, sizeof k - 1);
    s = jwk_with("{\"kty\":\"oct\"}", "k", json_string(enc));
    jot_key_t *key = must_import(s);
    assert_int_equal(jot_key_bits(key), JOT_MAX_HMAC_KEY_BYTES * 8);
    jot_key_free(key);
    free(s);
}

static void test_reject_oct_padded(void **state)
{
    (void)state;
    /* 32 bytes: 43 characters, '=' padding refused */
    expect_reject("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
                  JOT_E_BASE64);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "==\"}", JOT_E_BASE64);
    /* non-zero unused bits */
    expect_reject("{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\"}",
                  JOT_E_BASE64);
}

/* ---- rejections: JSON and common members ------------------------------------------------ */

static void test_reject_duplicate_member(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"x\":\"" ED_X "\"}",
                  JOT_E_JSON_DUPLICATE);
    expect_reject("{\"kty\":\"oct\",\"kty\":\"oct\",\"k\":\"" HS_K "\"}", JOT_E_JSON_DUPLICATE);
}

/* An oct JWK with an unknown member "z" nested \p depth arrays deep in all (the object
 * itself is one level). */
static void nested_jwk(char *buf, size_t size, unsigned depth)
{
    size_t w = (size_t)snprintf(buf, size, "{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"z\":");
    assert_true(w + 2 * depth + 2 < size);
    for (unsigned i = 1; i < depth; i++)
        buf[w++] = '[';
    for (unsigned i = 1; i < depth; i++)
        buf[w++] = ']';
    buf[w++] = '}';
    buf[w] = '\0';
}

static void test_reject_nesting(void **state)
{
    (void)state;
    char buf[1024];
    nested_jwk(buf, sizeof buf, JOT_MAX_JSON_DEPTH + 1);
    expect_reject(buf, JOT_E_JSON_DEPTH);
    nested_jwk(buf, sizeof buf, 200);
    expect_reject(buf, JOT_E_JSON_DEPTH);
    /* at the cap it is fine (an unknown member is ignored) */
    nested_jwk(buf, sizeof buf, JOT_MAX_JSON_DEPTH);
    jot_key_t *key = must_import(buf);
    jot_key_free(key);
}

static void test_reject_not_json(void **state)
{
    (void)state;
    expect_reject("", JOT_E_JSON);
    expect_reject("[]", JOT_E_JSON);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\"} x", JOT_E_JSON);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",}", JOT_E_JSON);
    expect_reject("{\"kty\":\"oct\",\"kid\":\"\xff\",\"k\":\"" HS_K "\"}", JOT_E_UTF8);
    jot_key_t *key = NULL;
    assert_rc(jot_key_from_jwk(NULL, 0, &key), JOT_E_INVAL);
    assert_rc(jot_key_from_jwk("{}", 2, NULL), JOT_E_INVAL);
}

static void test_reject_kty_missing(void **state)
{
    (void)state;
    expect_reject("{\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}", JOT_E_KEY_INVALID);
    expect_reject("{}", JOT_E_KEY_INVALID);
}

static void test_reject_kty_unknown(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"none\",\"k\":\"" HS_K "\"}", JOT_E_UNSUPPORTED);
    expect_reject("{\"kty\":\"DSA\"}", JOT_E_UNSUPPORTED);
    expect_reject("{\"kty\":\"ec\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\"}",
                  JOT_E_UNSUPPORTED);
    expect_reject("{\"kty\":\"\"}", JOT_E_UNSUPPORTED);
}

static void test_reject_member_types(void **state)
{
    (void)state;
    expect_reject("{\"kty\":1}", JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"kid\":7}", JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"alg\":null}", JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"oct\",\"k\":[\"" HS_K "\"]}", JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"OKP\",\"crv\":[\"Ed25519\"],\"x\":\"" ED_X "\"}", JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"d\":{}}",
                  JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"use\":true}", JOT_E_KEY_INVALID);
}

static void test_reject_alg_none(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"alg\":\"none\"}", JOT_E_ALG_NONE);
}

static void test_reject_alg_unknown(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\",\"alg\":\"RSA-OAEP\"}",
                  JOT_E_ALG_UNKNOWN);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"alg\":\"hs256\"}", JOT_E_ALG_UNKNOWN);
    char *s = jwk_with(P256_PUB, "alg", json_string("ES521"));
    expect_reject(s, JOT_E_ALG_UNKNOWN);
    free(s);
}

static void test_reject_alg_mismatch(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    assert_rc(jot_key_generate(JOT_ALG_ES384, 0, &key), JOT_OK);
    char *pub = export(key, JOT_JWK_PUBLIC);
    jot_key_free(key);
    assert_non_null(strstr(pub, "\"alg\":\"ES384\""));
    char *s = jwk_with(pub, "alg", json_string("ES256"));
    expect_reject(s, JOT_E_KEY_MISMATCH);
    char *t = jwk_with(pub, "alg", json_string("RS256"));
    expect_reject(t, JOT_E_KEY_MISMATCH);
    char *u = jwk_with(pub, "alg", json_string("HS256"));
    expect_reject(u, JOT_E_KEY_MISMATCH);
    char *v = jwk_with(ED_PUB, "alg", json_string("ES256"));
    expect_reject(v, JOT_E_KEY_MISMATCH);
    jot_free(pub);
    free(s);
    free(t);
    free(u);
    free(v);
}

static void test_use_enc(void **state)
{
    (void)state;
    /* imported (RFC 7517 allows it), but never usable for a JWS */
    jot_key_t *key = must_import("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X
                                 "\",\"y\":\"" P256_Y "\",\"use\":\"enc\",\"alg\":\"ES256\"}");
    assert_int_equal(key->use, JOT_USE_ENC);
    assert_rc(jot_key_check_alg(key, JOT_ALG_ES256, 0), JOT_E_KEY_USE);
    jot_key_free(key);
    key = must_import(P256_PRIV);
    assert_int_equal(key->use, JOT_USE_ANY);
    assert_rc(jot_key_check_alg(key, JOT_ALG_ES256, 0), JOT_OK);
    jot_key_free(key);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"use\":\"Sig\"}", JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"use\":\"\"}", JOT_E_KEY_INVALID);
}

static void test_key_ops(void **state)
{
    (void)state;
    jot_key_t *key = must_import("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                                 "\",\"d\":\"" ED_D "\",\"key_ops\":[\"encrypt\"]}");
    assert_int_equal(key->key_ops, JOT_OP_OTHER);
    assert_rc(jot_key_check_alg(key, JOT_ALG_EDDSA, 0), JOT_E_KEY_USE);
    assert_rc(jot_key_check_alg(key, JOT_ALG_EDDSA, 1), JOT_E_KEY_USE);
    jot_key_free(key);
    key = must_import("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"d\":\"" ED_D
                      "\",\"key_ops\":[\"verify\"]}");
    assert_int_equal(key->key_ops, JOT_OP_VERIFY);
    assert_rc(jot_key_check_alg(key, JOT_ALG_EDDSA, 0), JOT_OK);
    assert_rc(jot_key_check_alg(key, JOT_ALG_EDDSA, 1), JOT_E_KEY_USE);
    jot_key_free(key);
    key = must_import("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"d\":\"" ED_D
                      "\",\"key_ops\":[\"sign\",\"wrapKey\",\"x-private-op\"]}");
    assert_int_equal(key->key_ops, JOT_OP_SIGN | JOT_OP_OTHER);
    assert_rc(jot_key_check_alg(key, JOT_ALG_EDDSA, 1), JOT_OK);
    jot_key_free(key);
}

static void test_reject_key_ops(void **state)
{
    (void)state;
    expect_reject("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                  "\",\"key_ops\":[\"verify\",\"verify\"]}",
                  JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                  "\",\"key_ops\":[\"verify\",1]}",
                  JOT_E_KEY_INVALID);
    expect_reject("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"key_ops\":\"verify\"}",
                  JOT_E_KEY_INVALID);
}

static void test_ignored_members(void **state)
{
    (void)state;
    /* x5c, x5u, jku and unknown members are ignored: never used to find another key */
    jot_key_t *key = must_import(
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"x5u\":\"https://evil/\","
        "\"jku\":\"https://evil/\",\"x5c\":[\"MIIB\"],\"ext\":true,\"n\":\"AQAB\"}");
    char tp[44];
    assert_rc(jot_key_thumbprint(key, tp), JOT_OK);
    assert_string_equal(tp, RFC8037_THUMBPRINT);
    jot_key_free(key);
}

/* ---- jot_key_public, jot_key_parse ---------------------------------------------------------- */

static void test_key_public(void **state)
{
    (void)state;
    jot_key_t *key = must_import("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X
                                 "\",\"y\":\"" P256_Y "\",\"d\":\"" P256_D "\",\"kid\":\"k\","
                                 "\"alg\":\"ES256\",\"use\":\"sig\",\"key_ops\":[\"sign\"]}");
    jot_key_t *pub = NULL;
    assert_rc(jot_key_public(key, &pub), JOT_OK);
    assert_false(jot_key_is_private(pub));
    assert_string_equal(jot_key_kid(pub), "k");
    assert_ptr_not_equal(jot_key_kid(pub), jot_key_kid(key));
    assert_int_equal(jot_key_alg(pub), JOT_ALG_ES256);
    assert_int_equal(pub->use, JOT_USE_SIG);
    assert_int_equal(pub->key_ops, JOT_OP_SIGN);
    assert_int_equal(jot_key_bits(pub), 256);
    assert_rc(jot_key_check_alg(pub, JOT_ALG_ES256, 0), JOT_E_KEY_USE); /* key_ops: sign */
    assert_rc(jot_key_check_alg(pub, JOT_ALG_ES256, 1), JOT_E_KEY_PRIVATE_NEEDED);
    char *s = NULL;
    assert_rc(jot_key_to_jwk(pub, JOT_JWK_PRIVATE, &s, NULL), JOT_E_KEY_PRIVATE_NEEDED);
    jot_key_free(key); /* the public key lives on alone */
    s = export(pub, JOT_JWK_PUBLIC);
    assert_string_equal(s, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y
                           "\",\"kid\":\"k\",\"alg\":\"ES256\",\"use\":\"sig\","
                           "\"key_ops\":[\"sign\"]}");
    jot_free(s);
    /* of a public key: a copy */
    jot_key_t *pub2 = NULL;
    assert_rc(jot_key_public(pub, &pub2), JOT_OK);
    assert_ptr_not_equal(pub2, pub);
    jot_key_free(pub);
    jot_key_free(pub2);
    assert_rc(jot_key_public(NULL, &pub), JOT_E_INVAL);
}

static void test_key_parse(void **state)
{
    (void)state;
    jot_key_t *key = NULL;
    const char *jwk = " \r\n\t" ED_PUB "\n";
    assert_rc(jot_key_parse(jwk, strlen(jwk), &key), JOT_OK);
    assert_int_equal(jot_key_kty(key), JOT_KTY_OKP);
    char *pem = NULL;
    assert_rc(jot_key_to_pem(key, JOT_JWK_PUBLIC, &pem, NULL), JOT_OK);
    jot_key_free(key);
    key = NULL;
    char buf[1024];
    snprintf(buf, sizeof buf, "\n  %s", pem);
    assert_rc(jot_key_parse(buf, strlen(buf), &key), JOT_OK);
    assert_int_equal(jot_key_kty(key), JOT_KTY_OKP);
    jot_key_free(key);
    jot_free(pem);
    key = NULL;
    assert_rc(jot_key_parse("", 0, &key), JOT_E_KEY_INVALID);
    assert_rc(jot_key_parse("   ", 3, &key), JOT_E_KEY_INVALID);
    assert_rc(jot_key_parse("AAAA", 4, &key), JOT_E_KEY_INVALID);
    assert_rc(jot_key_parse("-----BEGI", 9, &key), JOT_E_KEY_INVALID);
    assert_rc(jot_key_parse("[{}]", 4, &key), JOT_E_KEY_INVALID);
    assert_rc(jot_key_parse("-----BEGIN nothing", 18, &key), JOT_E_PEM);
    assert_rc(jot_key_parse("{\"kty\":\"x\"}", 11, &key), JOT_E_UNSUPPORTED);
    assert_null(key);
    size_t big = JOT_MAX_JWK_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    assert_rc(jot_key_parse(huge, big, &key), JOT_E_TOOBIG);
    assert_rc(jot_key_from_jwk(huge, big, &key), JOT_E_TOOBIG);
    free(huge);
}

/* ---- allocation failures ------------------------------------------------------------------ */

/* Every allocation in turn fails: the result is JOT_E_NOMEM (or success once the budget is
 * large enough), never a crash; leaks show under valgrind / ASan. */
static void test_oom(void **state)
{
    (void)state;
    static const char *const jwks[] = {ED_PRIV, P256_PRIV, RFC7638_JWK,
                                       "{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"kid\":\"a\"}"};
    oom_install();
    for (size_t i = 0; i < sizeof jwks / sizeof jwks[0]; i++) {
        bool done = false;
        for (long budget = 0; !done && budget < 1000; budget++) {
            jot_key_t *key = NULL;
            char *s = NULL;
            char tp[44];
            oom_arm(budget + 1, true); /* budget allocations succeed, then none */
            jot_err_t rc = import(jwks[i], &key);
            if (rc == JOT_OK)
                rc = jot_key_to_jwk(key, key->has_private ? JOT_JWK_PRIVATE : 0, &s, NULL);
            if (rc == JOT_OK)
                rc = jot_key_thumbprint(key, tp);
            oom_disarm();
            if (rc != JOT_OK && rc != JOT_E_NOMEM)
                fail_msg("budget %ld, key %zu: %s", budget, i, jot_err_name(rc));
            done = rc == JOT_OK;
            jot_free(s);
            jot_key_free(key);
        }
        assert_true(done);
    }
    oom_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_hs256),
        cmocka_unit_test(test_round_trip_hs384),
        cmocka_unit_test(test_round_trip_hs512),
        cmocka_unit_test(test_round_trip_rsa),
        cmocka_unit_test(test_round_trip_p256),
        cmocka_unit_test(test_round_trip_p384),
        cmocka_unit_test(test_round_trip_p521),
        cmocka_unit_test(test_round_trip_secp256k1),
        cmocka_unit_test(test_round_trip_ed25519),
        cmocka_unit_test(test_round_trip_ed448),
        cmocka_unit_test(test_export_order_okp),
        cmocka_unit_test(test_export_order_ec),
        cmocka_unit_test(test_export_order_rsa_public),
        cmocka_unit_test(test_export_oct),
        cmocka_unit_test(test_export_kid_escaped),
        cmocka_unit_test(test_export_key_ops_other),
        cmocka_unit_test(test_thumbprint_rfc7638),
        cmocka_unit_test(test_thumbprint_rfc7638_file),
        cmocka_unit_test(test_thumbprint_rfc8037),
        cmocka_unit_test(test_thumbprint_rfc8037_file),
        cmocka_unit_test(test_thumbprint_oct_and_ec),
        cmocka_unit_test(test_cookbook_ec),
        cmocka_unit_test(test_cookbook_rsa),
        cmocka_unit_test(test_cookbook_oct),
        cmocka_unit_test(test_reject_rsa_1024),
        cmocka_unit_test(test_reject_rsa_e_one),
        cmocka_unit_test(test_reject_rsa_e_even),
        cmocka_unit_test(test_reject_rsa_e_empty),
        cmocka_unit_test(test_reject_rsa_n_leading_zero),
        cmocka_unit_test(test_reject_rsa_missing_n),
        cmocka_unit_test(test_reject_rsa_private_inconsistent),
        cmocka_unit_test(test_reject_rsa_partial_crt),
        cmocka_unit_test(test_reject_ec_not_on_curve),
        cmocka_unit_test(test_reject_ec_wrong_length),
        cmocka_unit_test(test_reject_ec_p521_short_coordinate),
        cmocka_unit_test(test_reject_ec_private_mismatch),
        cmocka_unit_test(test_reject_ec_unknown_crv),
        cmocka_unit_test(test_reject_ec_bad_base64),
        cmocka_unit_test(test_reject_ed25519_mismatch),
        cmocka_unit_test(test_reject_okp_lengths_and_curves),
        cmocka_unit_test(test_reject_oct_empty),
        cmocka_unit_test(test_reject_oct_short),
        cmocka_unit_test(test_reject_oct_too_long),
        cmocka_unit_test(test_reject_oct_padded),
        cmocka_unit_test(test_reject_duplicate_member),
        cmocka_unit_test(test_reject_nesting),
        cmocka_unit_test(test_reject_not_json),
        cmocka_unit_test(test_reject_kty_missing),
        cmocka_unit_test(test_reject_kty_unknown),
        cmocka_unit_test(test_reject_member_types),
        cmocka_unit_test(test_reject_alg_none),
        cmocka_unit_test(test_reject_alg_unknown),
        cmocka_unit_test(test_reject_alg_mismatch),
        cmocka_unit_test(test_use_enc),
        cmocka_unit_test(test_key_ops),
        cmocka_unit_test(test_reject_key_ops),
        cmocka_unit_test(test_ignored_members),
        cmocka_unit_test(test_key_public),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
