/* Checks shared by the key targets (jwk, jwks, pem): everything a key offers, and the
 * round trips that must hold for any key libjot accepted:
 *   - error codes are in range;
 *   - an imported key has a thumbprint of 43 base64url characters;
 *   - its JWK export (private form for private keys, public form for asymmetric keys) imports
 *     again, with the same thumbprint, kid, alg, type and privacy, and exports to the very
 *     same text (export is a fixed point after one round);
 *   - jot_key_public gives a public key with the same thumbprint and the same public JWK;
 *   - asymmetric keys export to PEM (SPKI, and PKCS#8 when private), and the PEM imports
 *     with the same thumbprint. */
#ifndef JOT_FUZZ_KEYCHECK_H
#define JOT_FUZZ_KEYCHECK_H

#include "fuzz_common.h"

#include <jot/jot.h>
#include <stdbool.h>

static void check_err(jot_err_t rc)
{
    FUZZ_CHECK((unsigned)rc < (unsigned)JOT_ERR__LAST);
}

static void thumbprint(const jot_key_t *k, char out[44])
{
    jot_err_t rc = jot_key_thumbprint(k, out);
    FUZZ_CHECK(rc == JOT_OK);
    FUZZ_CHECK(strlen(out) == 43);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void same_key(const jot_key_t *a, const jot_key_t *b, bool same_privacy)
{
    char ta[44], tb[44];
    thumbprint(a, ta);
    thumbprint(b, tb);
    FUZZ_CHECK(strcmp(ta, tb) == 0);
    FUZZ_CHECK(jot_key_kty(a) == jot_key_kty(b));
    FUZZ_CHECK(jot_key_bits(a) == jot_key_bits(b));
    FUZZ_CHECK(same_str(jot_key_curve(a), jot_key_curve(b)));
    if (same_privacy)
        FUZZ_CHECK(jot_key_is_private(a) == jot_key_is_private(b));
}

/* Export with \p flags, import the text again: same key, and the export of the copy is the
 * same text. */
static void jwk_roundtrip(const jot_key_t *k, unsigned flags)
{
    char *json = NULL;
    size_t len = 0;
    jot_err_t rc = jot_key_to_jwk(k, flags, &json, &len);
    if (rc != JOT_OK)
        fprintf(stderr, "export (flags %u) failed: %s\n", flags, jot_err_name(rc));
    FUZZ_CHECK(rc == JOT_OK && json != NULL && strlen(json) == len);
    jot_key_t *k2 = NULL;
    rc = jot_key_from_jwk(json, len, &k2);
    if (rc != JOT_OK)
        fprintf(stderr, "re-import of the export failed: %s\n%s\n", jot_err_name(rc),
                flags ? "(private JWK not shown)" : json);
    FUZZ_CHECK(rc == JOT_OK);
    same_key(k, k2, flags == JOT_JWK_PRIVATE);
    FUZZ_CHECK(jot_key_is_private(k2) ==
               (flags == JOT_JWK_PRIVATE || jot_key_kty(k) == JOT_KTY_OCT));
    FUZZ_CHECK(same_str(jot_key_kid(k), jot_key_kid(k2)));
    FUZZ_CHECK(jot_key_alg(k) == jot_key_alg(k2));
    FUZZ_CHECK(jot_key_default_alg(k) == jot_key_default_alg(k2));
    for (int a = 0; a < (int)JOT_ALG__COUNT; a++)
        FUZZ_CHECK(jot_key_check_alg(k, (jot_alg_t)a, 0) == jot_key_check_alg(k2, (jot_alg_t)a, 0));
    char *json2 = NULL;
    size_t len2 = 0;
    rc = jot_key_to_jwk(k2, flags, &json2, &len2);
    FUZZ_CHECK(rc == JOT_OK && len2 == len && memcmp(json, json2, len) == 0);
    jot_memzero(json, len);
    jot_memzero(json2, len2);
    jot_free(json);
    jot_free(json2);
    jot_key_free(k2);
}

static void pem_roundtrip(const jot_key_t *k, unsigned flags)
{
    char *pem = NULL;
    size_t len = 0;
    jot_err_t rc = jot_key_to_pem(k, flags, &pem, &len);
    if (rc != JOT_OK)
        fprintf(stderr, "PEM export (flags %u) failed: %s\n", flags, jot_err_name(rc));
    FUZZ_CHECK(rc == JOT_OK && pem != NULL);
    jot_key_t *k2 = NULL;
    rc = jot_key_from_pem(pem, len, &k2);
    if (rc != JOT_OK)
        fprintf(stderr, "PEM re-import failed: %s\n", jot_err_name(rc));
    FUZZ_CHECK(rc == JOT_OK);
    same_key(k, k2, flags == JOT_JWK_PRIVATE);
    FUZZ_CHECK(jot_key_is_private(k2) == (flags == JOT_JWK_PRIVATE));
    jot_memzero(pem, len);
    jot_free(pem);
    jot_key_free(k2);
}

/* Everything above on one key that libjot accepted. */
static void fuzz_check_key(const jot_key_t *k)
{
    jot_err_t rc;
    jot_kty_t kty = jot_key_kty(k);
    FUZZ_CHECK(kty != JOT_KTY_NONE);
    const char *kid = jot_key_kid(k);
    if (kid)
        (void)strlen(kid);
    FUZZ_CHECK((unsigned)jot_key_alg(k) < (unsigned)JOT_ALG__COUNT);
    FUZZ_CHECK((unsigned)jot_key_default_alg(k) < (unsigned)JOT_ALG__COUNT);
    FUZZ_CHECK(jot_key_bits(k) > 0);
    if (kty == JOT_KTY_EC || kty == JOT_KTY_OKP)
        FUZZ_CHECK(jot_key_curve(k) != NULL);
    for (int a = 0; a < (int)JOT_ALG__COUNT; a++) {
        check_err(jot_key_check_alg(k, (jot_alg_t)a, 0));
        check_err(jot_key_check_alg(k, (jot_alg_t)a, 1));
    }
    /* a key's own "alg" always suits it, unless "use"/"key_ops" forbid verifying */
    if (jot_key_alg(k) != JOT_ALG_UNSET) {
        jot_err_t rc2 = jot_key_check_alg(k, jot_key_alg(k), 0);
        FUZZ_CHECK(rc2 == JOT_OK || rc2 == JOT_E_KEY_USE);
    }
    char tp[44];
    thumbprint(k, tp);

    if (jot_key_is_private(k))
        jwk_roundtrip(k, JOT_JWK_PRIVATE);
    else {
        char *json = NULL;
        size_t len = 0;
        rc = jot_key_to_jwk(k, JOT_JWK_PRIVATE, &json, &len);
        FUZZ_CHECK(rc == JOT_E_KEY_PRIVATE_NEEDED);
    }
    if (kty != JOT_KTY_OCT) {
        jwk_roundtrip(k, JOT_JWK_PUBLIC);
        jot_key_t *pub = NULL;
        rc = jot_key_public(k, &pub);
        FUZZ_CHECK(rc == JOT_OK);
        FUZZ_CHECK(!jot_key_is_private(pub));
        same_key(k, pub, false);
        char *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        jot_err_t ra = jot_key_to_jwk(k, JOT_JWK_PUBLIC, &a, &alen);
        jot_err_t rb = jot_key_to_jwk(pub, JOT_JWK_PUBLIC, &b, &blen);
        FUZZ_CHECK(ra == JOT_OK && rb == JOT_OK && alen == blen && memcmp(a, b, alen) == 0);
        jot_free(a);
        jot_free(b);
        jot_key_free(pub);
        pem_roundtrip(k, JOT_JWK_PUBLIC);
        if (jot_key_is_private(k))
            pem_roundtrip(k, JOT_JWK_PRIVATE);
    } else {
        jot_key_t *pub = NULL;
        rc = jot_key_public(k, &pub);
        FUZZ_CHECK(rc == JOT_E_UNSUPPORTED && pub == NULL);
        char *pem = NULL;
        size_t len = 0;
        rc = jot_key_to_pem(k, JOT_JWK_PRIVATE, &pem, &len);
        FUZZ_CHECK(rc == JOT_E_UNSUPPORTED);
    }
}

#endif
