/* Unit tests for lib/keyset.c: key sets, kid lookup, JWKS import/export, and the Wycheproof
 * json_web_key_test.json key sets (import results printed for review). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>

/* RFC 8037 A.2 */
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
/* RFC 7515 A.3 */
#define P256_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define P256_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define P256_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
#define HS_K                                                                                       \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"

#define ED_PUB_KID(kid)                                                                            \
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"" kid "\"}"
#define EC_PUB_KID(kid)                                                                            \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\",\"kid\":\"" kid   \
    "\"}"
#define EC_PRIV_KID(kid)                                                                           \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X "\",\"y\":\"" P256_Y "\",\"d\":\"" P256_D  \
    "\",\"kid\":\"" kid "\"}"
#define OCT_KID(kid) "{\"kty\":\"oct\",\"k\":\"" HS_K "\",\"kid\":\"" kid "\"}"

static jot_key_t *key_from(const char *json)
{
    jot_key_t *key = NULL;
    jot_err_t rc = jot_key_from_jwk(json, strlen(json), &key);
    if (rc != JOT_OK)
        fail_msg("%s: %s", json, jot_err_name(rc));
    return key;
}

static jot_err_t from_jwks(const char *json, jot_keyset_t **out)
{
    return jot_keyset_from_jwks(json, strlen(json), out);
}

static void expect_jwks_reject(const char *json, jot_err_t want)
{
    jot_keyset_t *set = (jot_keyset_t *)(uintptr_t)0x1;
    ERR_clear_error();
    jot_err_t rc = from_jwks(json, &set);
    if (rc != want)
        fail_msg("%.300s\n  got %s, want %s", json, jot_err_name(rc), jot_err_name(want));
    assert_ptr_equal(set, (jot_keyset_t *)(uintptr_t)0x1);
    assert_int_equal(ERR_peek_error(), 0);
}

static jot_keyset_t *must_jwks(const char *json, size_t want_count)
{
    jot_keyset_t *set = NULL;
    jot_err_t rc = from_jwks(json, &set);
    if (rc != JOT_OK)
        fail_msg("%.300s: %s", json, jot_err_name(rc));
    assert_int_equal(jot_keyset_count(set), want_count);
    return set;
}

/* ---- building sets ---------------------------------------------------------------------- */

static void test_new_add_get(void **state)
{
    (void)state;
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    assert_int_equal(jot_keyset_count(set), 0);
    assert_null(jot_keyset_get(set, 0));
    jot_key_t *a = key_from(ED_PUB_KID("a"));
    jot_key_t *b = key_from(EC_PUB_KID("b"));
    jot_key_t *c = key_from("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}");
    jot_key_t *d = key_from("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}");
    assert_rc(jot_keyset_add(set, a), JOT_OK);
    assert_rc(jot_keyset_add(set, b), JOT_OK);
    assert_rc(jot_keyset_add(set, c), JOT_OK);
    assert_rc(jot_keyset_add(set, d), JOT_OK);      /* several keys without kid are fine */
    assert_rc(jot_keyset_add(set, a), JOT_E_INVAL); /* already owned */
    assert_int_equal(jot_keyset_count(set), 4);
    assert_ptr_equal(jot_keyset_get(set, 0), a);
    assert_ptr_equal(jot_keyset_get(set, 1), b);
    assert_ptr_equal(jot_keyset_get(set, 3), d);
    assert_null(jot_keyset_get(set, 4));
    assert_null(jot_keyset_get(set, SIZE_MAX));
    assert_rc(jot_keyset_add(set, NULL), JOT_E_INVAL);
    assert_rc(jot_keyset_add(NULL, a), JOT_E_INVAL);
    assert_int_equal(jot_keyset_count(NULL), 0);
    assert_null(jot_keyset_get(NULL, 0));
    jot_keyset_free(set);
    jot_keyset_free(NULL);
    assert_rc(jot_keyset_new(NULL), JOT_E_INVAL);
}

static void test_add_duplicate_kid(void **state)
{
    (void)state;
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    jot_key_t *a = key_from(ED_PUB_KID("same"));
    jot_key_t *b = key_from(EC_PUB_KID("same"));
    jot_key_t *c = key_from(EC_PUB_KID("Same"));
    assert_rc(jot_keyset_add(set, a), JOT_OK);
    assert_rc(jot_keyset_add(set, b), JOT_E_KEYSET);
    assert_rc(jot_keyset_add(set, c), JOT_OK); /* kids are case-sensitive */
    assert_int_equal(jot_keyset_count(set), 2);
    jot_key_free(b); /* not taken over on failure */
    jot_keyset_free(set);
}

static void test_add_too_many(void **state)
{
    (void)state;
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    for (unsigned i = 0; i < JOT_MAX_KEYS; i++) {
        jot_key_t *k = NULL;
        assert_rc(jot_key_generate(JOT_ALG_HS256, 0, &k), JOT_OK);
        assert_rc(jot_keyset_add(set, k), JOT_OK);
    }
    jot_key_t *k = NULL;
    assert_rc(jot_key_generate(JOT_ALG_HS256, 0, &k), JOT_OK);
    assert_rc(jot_keyset_add(set, k), JOT_E_TOOBIG);
    assert_int_equal(jot_keyset_count(set), JOT_MAX_KEYS);
    jot_key_free(k);
    jot_keyset_free(set);
}

/* ---- find ----------------------------------------------------------------------------- */

static void test_find(void **state)
{
    (void)state;
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    jot_key_t *a = key_from(ED_PUB_KID("a"));
    jot_key_t *x = key_from(EC_PUB_KID("../x"));
    jot_key_t *n = key_from("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}");
    jot_key_t *u = key_from(EC_PUB_KID("k\\u00e9y"));
    assert_rc(jot_keyset_add(set, a), JOT_OK);
    assert_rc(jot_keyset_add(set, x), JOT_OK);
    assert_rc(jot_keyset_add(set, n), JOT_OK);
    assert_rc(jot_keyset_add(set, u), JOT_OK);
    assert_ptr_equal(jot_keyset_find(set, "a", 1), a);
    assert_ptr_equal(jot_keyset_find(set, "../x", 4), x);
    assert_ptr_equal(jot_keyset_find(set, "k\xc3\xa9y", 4), u);
    /* "" never matches a key without kid */
    assert_null(jot_keyset_find(set, "", 0));
    assert_null(jot_keyset_find(set, NULL, 0));
    /* no path handling: "x", "./../x", "..%2fx" are other kids */
    assert_null(jot_keyset_find(set, "x", 1));
    assert_null(jot_keyset_find(set, "./../x", 6));
    assert_null(jot_keyset_find(set, "..%2fx", 6));
    /* NUL inside: "a\0" and "a\0b" are not "a"; prefixes and case differ */
    assert_null(jot_keyset_find(set, "a\0", 2));
    assert_null(jot_keyset_find(set, "a\0b", 3));
    assert_null(jot_keyset_find(set, "A", 1));
    assert_null(jot_keyset_find(set, "../", 3));
    assert_null(jot_keyset_find(set, "../xx", 5));
    /* the length is honoured: "ab" with length 1 is "a" */
    assert_ptr_equal(jot_keyset_find(set, "ab", 1), a);
    assert_null(jot_keyset_find(NULL, "a", 1));
    jot_keyset_free(set);
}

static void test_find_empty_kid(void **state)
{
    (void)state;
    /* a key whose kid is "" is found by "" and only by "" */
    jot_keyset_t *set = must_jwks("{\"keys\":[" ED_PUB_KID("") "," EC_PUB_KID("b") "]}", 2);
    const jot_key_t *k = jot_keyset_find(set, "", 0);
    assert_non_null(k);
    assert_int_equal(jot_key_kty(k), JOT_KTY_OKP);
    assert_ptr_equal(jot_keyset_find(set, "b", 1), jot_keyset_get(set, 1));
    jot_keyset_free(set);
}

/* ---- JWKS import ------------------------------------------------------------------------ */

static void test_jwks_public(void **state)
{
    (void)state;
    jot_keyset_t *set = must_jwks("{\"keys\":[" ED_PUB_KID("ed") "," EC_PUB_KID("ec") "]}", 2);
    assert_int_equal(jot_key_kty(jot_keyset_find(set, "ed", 2)), JOT_KTY_OKP);
    assert_int_equal(jot_key_kty(jot_keyset_find(set, "ec", 2)), JOT_KTY_EC);
    assert_false(jot_key_is_private(jot_keyset_get(set, 0)));
    jot_keyset_free(set);
    set = must_jwks(" {\"keys\":[]} ", 0);
    jot_keyset_free(set);
    /* unknown top-level members are ignored */
    set = must_jwks("{\"keys\":[" ED_PUB_KID("ed") "],\"next\":\"https://x\"}", 1);
    jot_keyset_free(set);
}

static void test_jwks_private(void **state)
{
    (void)state;
    /* secret and private keys together: a signing set */
    jot_keyset_t *set = must_jwks("{\"keys\":[" OCT_KID("h") "," EC_PRIV_KID("e") "]}", 2);
    assert_true(jot_key_is_private(jot_keyset_find(set, "e", 1)));
    jot_keyset_free(set);
}

static void test_jwks_mixed(void **state)
{
    (void)state;
    expect_jwks_reject("{\"keys\":[" EC_PRIV_KID("a") "," EC_PUB_KID("b") "]}", JOT_E_KEYSET);
    expect_jwks_reject("{\"keys\":[" EC_PUB_KID("b") "," EC_PRIV_KID("a") "]}", JOT_E_KEYSET);
    /* oct keys count as secret */
    expect_jwks_reject("{\"keys\":[" OCT_KID("h") "," EC_PUB_KID("b") "]}", JOT_E_KEYSET);
}

static void test_jwks_duplicate_kid(void **state)
{
    (void)state;
    expect_jwks_reject("{\"keys\":[" ED_PUB_KID("k") "," EC_PUB_KID("k") "]}", JOT_E_KEYSET);
    expect_jwks_reject("{\"keys\":[" OCT_KID("k") "," OCT_KID("k") "]}", JOT_E_KEYSET);
}

static void test_jwks_skips_unsupported(void **state)
{
    (void)state;
    /* unknown kty, X25519, unknown EC curve: skipped (RFC 7517 §5) */
    jot_keyset_t *set = must_jwks(
        "{\"keys\":[{\"kty\":\"DSA\",\"kid\":\"dsa\"}," ED_PUB_KID(
            "ed") ","
                  "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" ED_X "\",\"kid\":\"x\"},"
                  "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\",\"kid\":\"p\"},"
                  "{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\"}]}",
        1);
    assert_non_null(jot_keyset_find(set, "ed", 2));
    assert_null(jot_keyset_find(set, "x", 1));
    assert_null(jot_keyset_find(set, "dsa", 3));
    jot_keyset_free(set);
    /* skipped members do not count for the mixing rule: a short (weak) oct key beside a
     * public key leaves a public set */
    set = must_jwks("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAEC\"}," EC_PUB_KID("b") "]}", 1);
    jot_keyset_free(set);
}

static void test_jwks_member_errors(void **state)
{
    (void)state;
    /* a malformed member refuses the whole set */
    expect_jwks_reject("{\"keys\":[" ED_PUB_KID("a") ",{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                                     "\"x\":\"" ED_X "=\"}]}",
                       JOT_E_BASE64);
    expect_jwks_reject(
        "{\"keys\":[" ED_PUB_KID("a") ",{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X
                                      "\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}]}",
        JOT_E_KEY_INVALID);
    expect_jwks_reject("{\"keys\":[{\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}]}", JOT_E_KEY_INVALID);
    expect_jwks_reject("{\"keys\":[" ED_PUB_KID("a") ",{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                                     "\"x\":\"" ED_X "\",\"alg\":\"none\"}]}",
                       JOT_E_ALG_NONE);
    expect_jwks_reject("{\"keys\":[" ED_PUB_KID("a") ",7]}", JOT_E_KEYSET);
    expect_jwks_reject("{\"keys\":[" ED_PUB_KID("a") ",[]]}", JOT_E_KEYSET);
}

static void test_jwks_structure(void **state)
{
    (void)state;
    expect_jwks_reject("{}", JOT_E_KEYSET);
    expect_jwks_reject("[]", JOT_E_KEYSET);
    expect_jwks_reject("\"keys\"", JOT_E_KEYSET);
    expect_jwks_reject("{\"keys\":{}}", JOT_E_KEYSET);
    expect_jwks_reject("{\"keys\":null}", JOT_E_KEYSET);
    expect_jwks_reject(ED_PUB_KID("a"), JOT_E_KEYSET); /* a JWK is not a JWKS */
    expect_jwks_reject("{\"keys\":[],\"keys\":[]}", JOT_E_JSON_DUPLICATE);
    expect_jwks_reject("{\"keys\":[]", JOT_E_JSON);
    expect_jwks_reject("", JOT_E_JSON);
    expect_jwks_reject("{\"keys\":[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]}", JOT_E_JSON_DEPTH);
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_from_jwks(NULL, 0, &set), JOT_E_INVAL);
    assert_rc(jot_keyset_from_jwks("{}", 2, NULL), JOT_E_INVAL);
    char *huge = malloc(JOT_MAX_JWK_BYTES + 1);
    assert_non_null(huge);
    memset(huge, ' ', JOT_MAX_JWK_BYTES + 1);
    huge[0] = '{';
    assert_rc(jot_keyset_from_jwks(huge, JOT_MAX_JWK_BYTES + 1, &set), JOT_E_TOOBIG);
    free(huge);
}

static void test_jwks_too_many(void **state)
{
    (void)state;
    size_t cap = 64 * 1024;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (unsigned total = JOT_MAX_KEYS; total <= JOT_MAX_KEYS + 1; total++) {
        size_t w = (size_t)snprintf(buf, cap, "{\"keys\":[");
        for (unsigned i = 0; i < total; i++)
            w += (size_t)snprintf(buf + w, cap - w,
                                  "%s{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                                  "\",\"kid\":\"k%u\"}",
                                  i ? "," : "", i);
        snprintf(buf + w, cap - w, "]}");
        if (total == JOT_MAX_KEYS) {
            jot_keyset_t *set = must_jwks(buf, JOT_MAX_KEYS);
            jot_keyset_free(set);
        } else {
            expect_jwks_reject(buf, JOT_E_TOOBIG);
        }
    }
    free(buf);
}

static void test_jwks_use_enc_kept(void **state)
{
    (void)state;
    /* a key marked for encryption is kept, but never verifies */
    jot_keyset_t *set = must_jwks("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                                  "\",\"kid\":\"e\",\"use\":\"enc\"}]}",
                                  1);
    assert_rc(jot_key_check_alg(jot_keyset_find(set, "e", 1), JOT_ALG_EDDSA, 0), JOT_E_KEY_USE);
    jot_keyset_free(set);
}

/* ---- JWKS export ------------------------------------------------------------------------ */

static void test_jwks_export(void **state)
{
    (void)state;
    jot_keyset_t *set = must_jwks("{\"keys\":[" OCT_KID("h") "," EC_PRIV_KID(
                                      "e") ","
                                           "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                                           "\",\"d\":\"" ED_D "\",\"kid\":\"ed\"}]}",
                                  3);
    char *pub = NULL;
    size_t n = 0;
    assert_rc(jot_keyset_to_jwks(set, JOT_JWK_PUBLIC, &pub, &n), JOT_OK);
    assert_int_equal(strlen(pub), n);
    /* the oct key is left out, no private member appears */
    assert_string_equal(pub, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" P256_X
                             "\",\"y\":\"" P256_Y "\",\"kid\":\"e\"},{\"kty\":\"OKP\","
                             "\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"ed\"}]}");
    jot_keyset_t *back = must_jwks(pub, 2);
    assert_false(jot_key_is_private(jot_keyset_get(back, 0)));
    jot_keyset_free(back);

    char *priv = NULL;
    assert_rc(jot_keyset_to_jwks(set, JOT_JWK_PRIVATE, &priv, NULL), JOT_OK);
    back = must_jwks(priv, 3);
    char *priv2 = NULL;
    assert_rc(jot_keyset_to_jwks(back, JOT_JWK_PRIVATE, &priv2, NULL), JOT_OK);
    assert_string_equal(priv, priv2);
    assert_non_null(strstr(priv, "\"k\":\"" HS_K "\""));
    assert_non_null(strstr(priv, "\"d\":\"" ED_D "\""));
    jot_keyset_free(back);

    /* a public set cannot be exported as private */
    jot_keyset_t *pubset = must_jwks(pub, 2);
    char *s = NULL;
    assert_rc(jot_keyset_to_jwks(pubset, JOT_JWK_PRIVATE, &s, NULL), JOT_E_KEY_PRIVATE_NEEDED);
    assert_null(s);
    assert_rc(jot_keyset_to_jwks(pubset, 4u, &s, NULL), JOT_E_INVAL);
    jot_keyset_free(pubset);

    jot_keyset_t *empty = NULL;
    assert_rc(jot_keyset_new(&empty), JOT_OK);
    assert_rc(jot_keyset_to_jwks(empty, JOT_JWK_PUBLIC, &s, NULL), JOT_OK);
    assert_string_equal(s, "{\"keys\":[]}");
    jot_free(s);
    jot_keyset_free(empty);

    jot_free(pub);
    jot_free(priv);
    jot_free(priv2);
    jot_keyset_free(set);
}

/* ---- Wycheproof json_web_key_test.json --------------------------------------------------- */

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

/* What importing each group's "private" and "public" key set gives (by first tcId of the
 * group). Reviewed by hand; see the comments. */
static const struct {
    int tc;
    jot_err_t priv, pub; /* JOT_ERR__LAST: the group has no such set */
    size_t priv_count, pub_count;
} wycheproof_expect[] = {
    {1, JOT_E_KEYSET, JOT_ERR__LAST, 0, 0}, /* oct + public EC: MixedKeySet */
    {2, JOT_OK, JOT_ERR__LAST, 2, 0},       /* two HS256 keys */
    /* duplicate kid, but the second key's k ends in non-zero unused bits ("...ngge"): the
     * base64url error comes first; the duplicate kid is tested in test_jwks_duplicate_kid */
    {4, JOT_E_BASE64, JOT_ERR__LAST, 0, 0},
    {5, JOT_OK, JOT_OK, 1, 1},                        /* RS256 */
    {6, JOT_OK, JOT_OK, 0, 0},                        /* "RSA1_5": not a JWS alg, skipped */
    {7, JOT_OK, JOT_OK, 0, 0},                        /* ROCA modulus: weak, skipped */
    {8, JOT_OK, JOT_OK, 0, 0},                        /* 1024-bit RSA: weak, skipped */
    {9, JOT_E_KEY_INVALID, JOT_E_KEY_INVALID, 0, 0},  /* e = 1 */
    {10, JOT_OK, JOT_ERR__LAST, 0, 0},                /* short HS256 key: skipped */
    {11, JOT_OK, JOT_ERR__LAST, 0, 0},                /* short HS384 key: skipped */
    {12, JOT_OK, JOT_ERR__LAST, 0, 0},                /* short HS512 key: skipped */
    {13, JOT_OK, JOT_ERR__LAST, 1, 0},                /* long HS256 key */
    {14, JOT_OK, JOT_ERR__LAST, 1, 0},                /* long HS384 key */
    {15, JOT_OK, JOT_ERR__LAST, 1, 0},                /* long HS512 key */
    {16, JOT_OK, JOT_ERR__LAST, 0, 0},                /* empty HS256 key: skipped */
    {17, JOT_OK, JOT_ERR__LAST, 0, 0},                /* empty HS384 key: skipped */
    {18, JOT_OK, JOT_ERR__LAST, 0, 0},                /* empty HS512 key: skipped */
    {19, JOT_OK, JOT_OK, 0, 0},                       /* "ES521": unknown alg, skipped */
    {20, JOT_OK, JOT_OK, 0, 0},                       /* "ES224": unknown alg, skipped */
    {21, JOT_OK, JOT_OK, 1, 1},                       /* use "enc": kept, never verifies */
    {22, JOT_E_KEY_INVALID, JOT_E_KEY_INVALID, 0, 0}, /* point not on the curve */
    {23, JOT_E_KEY_INVALID, JOT_E_KEY_INVALID, 0, 0}, /* P-384 with 32-byte coordinates */
    {24, JOT_E_KEY_INVALID, JOT_E_KEY_INVALID, 0, 0}, /* kty RSA with EC members */
    {25, JOT_OK, JOT_ERR__LAST, 0, 0},                /* "A256GCM": a JWE alg, skipped */
    {26, JOT_OK, JOT_ERR__LAST, 0, 0},                /* "A256KW": a JWE alg, skipped */
};

static jot_err_t import_set(const json_t *set_json, size_t *count, char *detail, size_t dsize)
{
    char *text = json_dumps(set_json, JSON_COMPACT);
    assert_non_null(text);
    jot_keyset_t *set = NULL;
    jot_err_t rc = jot_keyset_from_jwks(text, strlen(text), &set);
    *count = rc == JOT_OK ? jot_keyset_count(set) : 0;
    jot_keyset_free(set);
    free(text);
    /* and each member alone */
    size_t w = 0;
    detail[0] = '\0';
    json_t *keys = json_object_get(set_json, "keys");
    for (size_t i = 0; i < json_array_size(keys); i++) {
        char *one = json_dumps(json_array_get(keys, i), JSON_COMPACT);
        jot_key_t *key = NULL;
        jot_err_t krc = jot_key_from_jwk(one, strlen(one), &key);
        int n = snprintf(detail + w, dsize - w, "%s%s", i ? "," : "", jot_err_name(krc));
        if (n > 0 && (size_t)n < dsize - w)
            w += (size_t)n;
        jot_key_free(key);
        free(one);
    }
    return rc;
}

static void test_wycheproof_keys(void **state)
{
    (void)state;
    char *text = read_vector("wycheproof/testvectors_v1/json_web_key_test.json");
    if (!text) {
        printf("SKIPPED: json_web_key_test.json not found (JOT_VECTORS)\n");
        return;
    }
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    assert_non_null(doc);
    json_t *groups = json_object_get(doc, "testGroups");
    size_t checked = 0;
    for (size_t g = 0; g < json_array_size(groups); g++) {
        json_t *grp = json_array_get(groups, g);
        json_t *tests = json_object_get(grp, "tests");
        int tc = (int)json_integer_value(json_object_get(json_array_get(tests, 0), "tcId"));
        const char *comment = json_string_value(json_object_get(grp, "comment"));
        const char *tcomment =
            json_string_value(json_object_get(json_array_get(tests, 0), "comment"));
        jot_err_t got[2] = {JOT_ERR__LAST, JOT_ERR__LAST};
        size_t count[2] = {0, 0};
        static const char *const which[2] = {"private", "public"};
        for (int w = 0; w < 2; w++) {
            json_t *set = json_object_get(grp, which[w]);
            if (!set) {
                printf("wycheproof tc %2d %-24s %-28s %-7s set: (none)\n", tc, comment, tcomment,
                       which[w]);
                continue;
            }
            char detail[256];
            got[w] = import_set(set, &count[w], detail, sizeof detail);
            printf("wycheproof tc %2d %-24s %-28s %-7s set: %-20s (%zu keys); members: %s\n", tc,
                   comment, tcomment, which[w], jot_err_name(got[w]), count[w], detail);
        }
        bool found = false;
        for (size_t i = 0; i < sizeof wycheproof_expect / sizeof wycheproof_expect[0]; i++) {
            if (wycheproof_expect[i].tc != tc)
                continue;
            found = true;
            if (got[0] != wycheproof_expect[i].priv || got[1] != wycheproof_expect[i].pub ||
                count[0] != wycheproof_expect[i].priv_count ||
                count[1] != wycheproof_expect[i].pub_count)
                fail_msg("tc %d: got %s/%s (%zu/%zu keys)", tc, jot_err_name(got[0]),
                         jot_err_name(got[1]), count[0], count[1]);
            checked++;
        }
        if (!found)
            fail_msg("tc %d: no expectation", tc);
    }
    assert_int_equal(checked, sizeof wycheproof_expect / sizeof wycheproof_expect[0]);
    json_decref(doc);
}

/* ---- allocation failures ------------------------------------------------------------------ */

/* Each allocation fails in turn: JOT_E_NOMEM, never a crash; leaks show under valgrind /
 * ASan. */
static void test_oom(void **state)
{
    (void)state;
    const char *jwks = "{\"keys\":[" OCT_KID("h") "," EC_PRIV_KID(
        "e") ","
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"d\":\"" ED_D
             "\",\"kid\":\"ed\",\"key_ops\":[\"sign\"]}]}";
    oom_install();
    bool done = false;
    for (long budget = 0; !done && budget < 2000; budget++) {
        jot_keyset_t *set = NULL;
        char *out = NULL;
        oom_arm(budget + 1, true); /* budget allocations succeed, then none */
        jot_err_t rc = jot_keyset_from_jwks(jwks, strlen(jwks), &set);
        if (rc == JOT_OK)
            rc = jot_keyset_to_jwks(set, JOT_JWK_PRIVATE, &out, NULL);
        oom_disarm();
        if (rc != JOT_OK && rc != JOT_E_NOMEM)
            fail_msg("budget %ld: %s", budget, jot_err_name(rc));
        done = rc == JOT_OK;
        jot_free(out);
        jot_keyset_free(set);
    }
    oom_uninstall();
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_add_get),
        cmocka_unit_test(test_add_duplicate_kid),
        cmocka_unit_test(test_add_too_many),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_find_empty_kid),
        cmocka_unit_test(test_jwks_public),
        cmocka_unit_test(test_jwks_private),
        cmocka_unit_test(test_jwks_mixed),
        cmocka_unit_test(test_jwks_duplicate_kid),
        cmocka_unit_test(test_jwks_skips_unsupported),
        cmocka_unit_test(test_jwks_member_errors),
        cmocka_unit_test(test_jwks_structure),
        cmocka_unit_test(test_jwks_too_many),
        cmocka_unit_test(test_jwks_use_enc_kept),
        cmocka_unit_test(test_jwks_export),
        cmocka_unit_test(test_wycheproof_keys),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
