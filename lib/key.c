/* The key object: lifetime, accessors, safety checks on import and the alg/key binding. */
#include "internal.h"

#include <openssl/core_names.h>
#include <string.h>

jot_key_t *jot__key_alloc(jot_kty_t kty)
{
    jot_key_t *k = jot__calloc(1, sizeof *k);
    if (k)
        k->kty = kty;
    return k;
}

void jot_key_free(jot_key_t *key)
{
    if (!key)
        return;
    jot__free_secret(key->oct, key->oct_len);
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material itself */
    jot_free(key->kid);
    jot_memzero(key, sizeof *key);
    jot_free(key);
}

static jot_crv_t crv_from_group(const char *group)
{
    static const struct {
        const char *group;
        jot_crv_t crv;
    } groups[] = {
        {"prime256v1", JOT_CRV_P256},     {"P-256", JOT_CRV_P256},     {"secp384r1", JOT_CRV_P384},
        {"P-384", JOT_CRV_P384},          {"secp521r1", JOT_CRV_P521}, {"P-521", JOT_CRV_P521},
        {"secp256k1", JOT_CRV_SECP256K1},
    };
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(groups[i].group, group) == 0)
            return groups[i].crv;
    return JOT_CRV_NONE;
}

static bool pkey_has_bn(const EVP_PKEY *pkey, const char *param)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        return false;
    BN_clear_free(bn);
    return true;
}

static jot_err_t check_rsa(EVP_PKEY *pkey, jot_key_t *k)
{
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < (int)JOT_MIN_RSA_BITS)
        return JOT_E_KEY_WEAK;
    if (bits > (int)JOT_MAX_RSA_BITS)
        return JOT_E_KEY_INVALID;
    BIGNUM *e = NULL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        return JOT_E_KEY_INVALID;
    /* e must be odd and at least 3 (e = 1 makes every "signature" the message itself) */
    bool ok = BN_is_odd(e) && !BN_is_one(e) && BN_num_bits(e) <= 256;
    BN_free(e);
    if (!ok)
        return JOT_E_KEY_INVALID;
    k->bits = (unsigned)bits;
    k->has_private = pkey_has_bn(pkey, OSSL_PKEY_PARAM_RSA_D);
    return JOT_OK;
}

static jot_err_t check_ec(EVP_PKEY *pkey, jot_key_t *k)
{
    char group[64];
    size_t glen = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1)
        return JOT_E_KEY_INVALID;
    k->crv = crv_from_group(group);
    if (k->crv == JOT_CRV_NONE)
        return JOT_E_UNSUPPORTED;
    k->has_private = pkey_has_bn(pkey, OSSL_PKEY_PARAM_PRIV_KEY);
    /* the public point must be on the curve and not the point at infinity */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        return JOT_E_NOMEM;
    int ok = EVP_PKEY_public_check(ctx);
    if (ok == 1 && k->has_private)
        ok = EVP_PKEY_pairwise_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    if (ok != 1)
        return JOT_E_KEY_INVALID;
    k->bits = (unsigned)EVP_PKEY_get_bits(pkey);
    return JOT_OK;
}

jot_err_t jot__key_from_pkey(EVP_PKEY *pkey, jot_key_t **out_key)
{
    if (!pkey || !out_key)
        return JOT_E_INVAL;
    jot_key_t *k = jot__key_alloc(JOT_KTY_NONE);
    if (!k)
        return JOT_E_NOMEM;
    jot_err_t rc = JOT_OK;
    size_t n = 0;
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        k->kty = JOT_KTY_RSA;
        rc = check_rsa(pkey, k);
        break;
    case EVP_PKEY_RSA_PSS: /* PSS-restricted keys carry parameters JOSE cannot express */
        rc = JOT_E_UNSUPPORTED;
        break;
    case EVP_PKEY_EC:
        k->kty = JOT_KTY_EC;
        rc = check_ec(pkey, k);
        break;
    case EVP_PKEY_ED25519:
        k->kty = JOT_KTY_OKP;
        k->crv = JOT_CRV_ED25519;
        k->bits = 256;
        k->has_private = EVP_PKEY_get_raw_private_key(pkey, NULL, &n) == 1;
        break;
    case EVP_PKEY_ED448:
        k->kty = JOT_KTY_OKP;
        k->crv = JOT_CRV_ED448;
        k->bits = 456;
        k->has_private = EVP_PKEY_get_raw_private_key(pkey, NULL, &n) == 1;
        break;
    default:
        rc = JOT_E_UNSUPPORTED;
    }
    if (rc != JOT_OK) {
        jot_free(k);
        return rc;
    }
    k->pkey = pkey;
    *out_key = k;
    return JOT_OK;
}

const char *jot_key_kid(const jot_key_t *key)
{
    return key ? key->kid : NULL;
}

jot_alg_t jot_key_alg(const jot_key_t *key)
{
    return key ? key->alg : JOT_ALG_UNSET;
}

jot_kty_t jot_key_kty(const jot_key_t *key)
{
    return key ? key->kty : JOT_KTY_NONE;
}

int jot_key_is_private(const jot_key_t *key)
{
    return key && key->has_private;
}

const char *jot_key_curve(const jot_key_t *key)
{
    return key ? jot__crv_name(key->crv) : NULL;
}

unsigned jot_key_bits(const jot_key_t *key)
{
    return key ? key->bits : 0;
}

jot_err_t jot_key_set_kid(jot_key_t *key, const char *kid)
{
    if (!key)
        return JOT_E_INVAL;
    char *copy = NULL;
    if (kid && !(copy = jot__strdup(kid)))
        return JOT_E_NOMEM;
    jot_free(key->kid);
    key->kid = copy;
    return JOT_OK;
}

jot_err_t jot_key_set_alg(jot_key_t *key, jot_alg_t alg)
{
    if (!key)
        return JOT_E_INVAL;
    if (alg != JOT_ALG_UNSET) {
        jot_alg_t saved = key->alg;
        key->alg = JOT_ALG_UNSET;
        jot_err_t rc = jot_key_check_alg(key, alg, 0);
        key->alg = saved;
        if (rc != JOT_OK)
            return rc;
    }
    key->alg = alg;
    return JOT_OK;
}

jot_err_t jot_key_check_alg(const jot_key_t *key, jot_alg_t alg, int for_signing)
{
    const jot_alg_info_t *ai = jot__alg_info(alg);
    if (!key)
        return JOT_E_INVAL;
    if (!ai)
        return JOT_E_ALG_UNKNOWN;
    if (key->kty != ai->kty)
        return JOT_E_KEY_MISMATCH;
    if (key->alg != JOT_ALG_UNSET && key->alg != alg)
        return JOT_E_KEY_MISMATCH;
    if (key->use == JOT_USE_ENC)
        return JOT_E_KEY_USE;
    if (key->key_ops && !(key->key_ops & (for_signing ? JOT_OP_SIGN : JOT_OP_VERIFY)))
        return JOT_E_KEY_USE;
    switch (ai->family) {
    case JOT_FAM_HMAC:
        if (key->oct_len < ai->hash_len) /* RFC 7518 §3.2 */
            return JOT_E_KEY_WEAK;
        break;
    case JOT_FAM_RSA_PKCS1:
    case JOT_FAM_RSA_PSS:
        if (key->bits < JOT_MIN_RSA_BITS)
            return JOT_E_KEY_WEAK;
        break;
    case JOT_FAM_ECDSA:
        if (key->crv != ai->crv)
            return JOT_E_KEY_MISMATCH;
        break;
    case JOT_FAM_EDDSA:
        if (key->crv != JOT_CRV_ED25519 && key->crv != JOT_CRV_ED448)
            return JOT_E_KEY_MISMATCH;
        break;
    case JOT_FAM_NONE:
        return JOT_E_ALG_UNKNOWN;
    }
    if (for_signing && !key->has_private)
        return JOT_E_KEY_PRIVATE_NEEDED;
    return JOT_OK;
}

jot_alg_t jot_key_default_alg(const jot_key_t *key)
{
    if (!key)
        return JOT_ALG_UNSET;
    if (key->alg != JOT_ALG_UNSET)
        return key->alg;
    switch (key->kty) {
    case JOT_KTY_OCT:
        return key->oct_len >= 64   ? JOT_ALG_HS512
               : key->oct_len >= 48 ? JOT_ALG_HS384
                                    : JOT_ALG_HS256;
    case JOT_KTY_RSA:
        return JOT_ALG_RS256;
    case JOT_KTY_EC:
        switch (key->crv) {
        case JOT_CRV_P256:
            return JOT_ALG_ES256;
        case JOT_CRV_P384:
            return JOT_ALG_ES384;
        case JOT_CRV_P521:
            return JOT_ALG_ES512;
        case JOT_CRV_SECP256K1:
            return JOT_ALG_ES256K;
        default:
            return JOT_ALG_UNSET;
        }
    case JOT_KTY_OKP:
        return JOT_ALG_EDDSA;
    case JOT_KTY_NONE:
        break;
    }
    return JOT_ALG_UNSET;
}
