/* Signature dispatch: binds the algorithm to the key, then calls the family back end. */
#include "internal.h"

jot_err_t jot__sig_sign(jot_alg_t alg, const jot_key_t *key, const uint8_t *data, size_t len,
                        uint8_t **out_sig, size_t *out_len)
{
    if (!out_sig || !out_len || (!data && len))
        return JOT_E_INVAL;
    jot_err_t rc = jot_key_check_alg(key, alg, 1);
    if (rc != JOT_OK)
        return rc;
    const jot_alg_info_t *ai = jot__alg_info(alg);
    switch (ai->family) {
    case JOT_FAM_HMAC: {
        uint8_t *tag = jot__malloc(ai->hash_len);
        if (!tag)
            return JOT_E_NOMEM;
        rc = jot__hmac_key_sign(ai, key, data, len, tag);
        if (rc != JOT_OK) {
            jot_free(tag);
            return rc;
        }
        *out_sig = tag;
        *out_len = ai->hash_len;
        return JOT_OK;
    }
    case JOT_FAM_RSA_PKCS1:
    case JOT_FAM_RSA_PSS:
        return jot__rsa_sign(ai, key, data, len, out_sig, out_len);
    case JOT_FAM_ECDSA:
        return jot__ec_sign(ai, key, data, len, out_sig, out_len);
    case JOT_FAM_EDDSA:
        return jot__eddsa_sign(key, data, len, out_sig, out_len);
    case JOT_FAM_NONE:
        break;
    }
    return JOT_E_ALG_UNKNOWN;
}

jot_err_t jot__sig_verify(jot_alg_t alg, const jot_key_t *key, const uint8_t *data, size_t len,
                          const uint8_t *sig, size_t sig_len)
{
    jot_err_t rc = jot_key_check_alg(key, alg, 0);
    if (rc != JOT_OK)
        return rc;
    const jot_alg_info_t *ai = jot__alg_info(alg);
    switch (ai->family) {
    case JOT_FAM_HMAC:
        return jot__hmac_key_verify(ai, key, data, len, sig, sig_len);
    case JOT_FAM_RSA_PKCS1:
    case JOT_FAM_RSA_PSS:
        return jot__rsa_verify(ai, key, data, len, sig, sig_len);
    case JOT_FAM_ECDSA:
        return jot__ec_verify(ai, key, data, len, sig, sig_len);
    case JOT_FAM_EDDSA:
        return jot__eddsa_verify(key, data, len, sig, sig_len);
    case JOT_FAM_NONE:
        break;
    }
    return JOT_E_ALG_UNKNOWN;
}
