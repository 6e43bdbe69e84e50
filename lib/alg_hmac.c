/* HMAC back end (HS256/384/512): raw key bytes in, tag out. The JWS-level minimum key length
 * is enforced by jot_key_check_alg(), not here: this layer is plain HMAC. */
#include "internal.h"

#include <openssl/err.h>

/* EVP_Q_mac() wants a non-NULL key pointer even for an empty key, and a non-NULL data
 * pointer even for empty data. */
static const uint8_t empty_input[1] = {0};

static jot_err_t hmac_compute(const jot_alg_info_t *ai, const uint8_t *key, size_t key_len,
                              const uint8_t *data, size_t len, uint8_t *out, size_t out_size)
{
    size_t out_len = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, ai->md_name, NULL, key_len ? key : empty_input, key_len,
                   len ? data : empty_input, len, out, out_size, &out_len))
        return JOT_E_CRYPTO;
    if (out_len != ai->hash_len)
        return JOT_E_CRYPTO;
    return JOT_OK;
}

static bool hmac_args_ok(const jot_alg_info_t *ai, const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t len)
{
    return ai && ai->family == JOT_FAM_HMAC && ai->md_name && ai->hash_len > 0 &&
           ai->hash_len <= EVP_MAX_MD_SIZE && (key || !key_len) && (data || !len);
}

jot_err_t jot__hmac_sign(const jot_alg_info_t *ai, const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t len, uint8_t *out_tag)
{
    if (!hmac_args_ok(ai, key, key_len, data, len) || !out_tag)
        return JOT_E_INVAL;
    jot_err_t rc = hmac_compute(ai, key, key_len, data, len, out_tag, ai->hash_len);
    if (rc != JOT_OK) {
        jot_memzero(out_tag, ai->hash_len);
        ERR_clear_error(); /* the failure is reported by rc alone */
    }
    return rc;
}

jot_err_t jot__hmac_verify(const jot_alg_info_t *ai, const uint8_t *key, size_t key_len,
                           const uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len)
{
    if (!hmac_args_ok(ai, key, key_len, data, len) || (!tag && tag_len))
        return JOT_E_INVAL;
    /* JWS never truncates: the tag is exactly the hash length */
    if (tag_len != ai->hash_len)
        return JOT_E_SIGNATURE;
    uint8_t mac[EVP_MAX_MD_SIZE];
    jot_err_t rc = hmac_compute(ai, key, key_len, data, len, mac, sizeof mac);
    if (rc == JOT_OK && !jot_ct_equal(mac, tag, tag_len))
        rc = JOT_E_SIGNATURE;
    jot_memzero(mac, sizeof mac);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}
