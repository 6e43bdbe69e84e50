/* RSA back end: RS* (RSASSA-PKCS1-v1_5) and PS* (RSASSA-PSS, MGF1 with the same hash, salt
 * length = hash length, RFC 7518 §3.5). The salt length is fixed on both sides: a verifier
 * that auto-detects it accepts signatures JWS does not allow. */
#include "internal.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

static bool rsa_args_ok(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                        size_t len)
{
    return ai && (ai->family == JOT_FAM_RSA_PKCS1 || ai->family == JOT_FAM_RSA_PSS) &&
           ai->md_name && key && key->pkey && (data || !len);
}

/* Padding and PSS parameters on a new sign or verify context (pool.c). */
static bool set_padding(const jot_alg_info_t *ai, EVP_PKEY_CTX *pctx)
{
    if (ai->family == JOT_FAM_RSA_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, ai->md_name, NULL) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ai->hash_len) == 1;
}

static jot_err_t rsa_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                          size_t len, uint8_t **out_sig, size_t *out_len)
{
    if (!rsa_args_ok(ai, key, data, len) || !out_sig || !out_len)
        return JOT_E_INVAL;
    if (EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA)
        return JOT_E_KEY_MISMATCH;
    int size = EVP_PKEY_get_size(key->pkey);
    if (size <= 0)
        return JOT_E_CRYPTO;
    size_t mod_len = (size_t)size;
    uint8_t *sig = jot__malloc(mod_len);
    if (!sig)
        return JOT_E_NOMEM;
    size_t sig_len = mod_len;
    jot_err_t rc = jot__pkey_sign_digest(ai, key, set_padding, data, len, sig, &sig_len);
    if (rc == JOT_OK && sig_len != mod_len)
        rc = JOT_E_CRYPTO;
    if (rc != JOT_OK) {
        jot_free(sig);
        return rc;
    }
    *out_sig = sig;
    *out_len = sig_len;
    return JOT_OK;
}

jot_err_t jot__rsa_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                        size_t len, uint8_t **out_sig, size_t *out_len)
{
    jot_err_t rc = rsa_sign(ai, key, data, len, out_sig, out_len);
    if (rc != JOT_OK)
        ERR_clear_error(); /* the failure is reported by rc alone */
    return rc;
}

jot_err_t jot__rsa_verify(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                          size_t len, const uint8_t *sig, size_t sig_len)
{
    if (!rsa_args_ok(ai, key, data, len) || (!sig && sig_len))
        return JOT_E_INVAL;
    if (EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA)
        return JOT_E_KEY_MISMATCH;
    /* exactly the modulus length: no leading zeros stripped, none added */
    int size = EVP_PKEY_get_size(key->pkey);
    if (size <= 0 || sig_len != (size_t)size)
        return JOT_E_SIGNATURE;
    jot_err_t rc = jot__pkey_verify_digest(ai, key, set_padding, data, len, sig, sig_len);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}
