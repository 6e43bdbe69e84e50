/* HMAC back end (HS256/384/512): raw key bytes in, tag out. The JWS-level minimum key length
 * is enforced by jot_key_check_alg(), not here: this layer is plain HMAC. */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <pthread.h>
#include <string.h>

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

/* The verdict on a computed MAC (rc: how computing it went): constant-time comparison with
 * the presented tag, then the MAC wiped. */
static jot_err_t judge_tag(jot_err_t rc, uint8_t mac[EVP_MAX_MD_SIZE], const uint8_t *tag,
                           size_t tag_len)
{
    if (rc == JOT_OK && !jot_ct_equal(mac, tag, tag_len))
        rc = JOT_E_SIGNATURE;
    jot_memzero(mac, EVP_MAX_MD_SIZE);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
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
    return judge_tag(hmac_compute(ai, key, key_len, data, len, mac, sizeof mac), mac, tag, tag_len);
}

/* ---- keyed contexts kept by the key (pool.c) -------------------------------------------
 * EVP_Q_mac() fetches the MAC and its digest and runs the key schedule on every call; a
 * pooled context is restarted from its keyed state by EVP_MAC_init() with a NULL key. */

static EVP_MAC *hmac_method;
static pthread_once_t hmac_method_once = PTHREAD_ONCE_INIT;

static void hmac_method_fetch(void)
{
    hmac_method = EVP_MAC_fetch(NULL, "HMAC", NULL); /* kept for the life of the process */
}

static EVP_MAC_CTX *ctx_take(const jot_alg_info_t *ai, const jot_key_t *key)
{
    EVP_MAC_CTX *c = jot__pool_take(key, ai, JOT_POOL_SIGN);
    if (c)
        return c;
    pthread_once(&hmac_method_once, hmac_method_fetch);
    if (!hmac_method)
        return NULL;
    c = EVP_MAC_CTX_new(hmac_method);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)ai->md_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!c || !EVP_MAC_init(c, key->oct_len ? key->oct : empty_input, key->oct_len, params)) {
        EVP_MAC_CTX_free(c);
        return NULL;
    }
    return c;
}

static jot_err_t key_mac(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                         size_t len, uint8_t *out)
{
    EVP_MAC_CTX *c = ctx_take(ai, key);
    if (!c)
        return JOT_E_CRYPTO;
    size_t out_len = 0;
    bool ok = EVP_MAC_init(c, NULL, 0, NULL) && EVP_MAC_update(c, len ? data : empty_input, len) &&
              EVP_MAC_final(c, out, &out_len, EVP_MAX_MD_SIZE) && out_len == ai->hash_len;
    if (!ok || !jot__pool_give(key, ai, JOT_POOL_SIGN, c))
        EVP_MAC_CTX_free(c); /* after a failure its state is unknown: never pooled */
    return ok ? JOT_OK : JOT_E_CRYPTO;
}

static bool key_args_ok(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                        size_t len)
{
    return key && key->kty == JOT_KTY_OCT && hmac_args_ok(ai, key->oct, key->oct_len, data, len);
}

jot_err_t jot__hmac_key_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                             size_t len, uint8_t *out_tag)
{
    if (!key_args_ok(ai, key, data, len) || !out_tag)
        return JOT_E_INVAL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    jot_err_t rc = key_mac(ai, key, data, len, mac);
    if (rc == JOT_OK)
        memcpy(out_tag, mac, ai->hash_len);
    else
        ERR_clear_error(); /* the failure is reported by rc alone */
    jot_memzero(mac, sizeof mac);
    return rc;
}

jot_err_t jot__hmac_key_verify(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                               size_t len, const uint8_t *tag, size_t tag_len)
{
    if (!key_args_ok(ai, key, data, len) || (!tag && tag_len))
        return JOT_E_INVAL;
    /* JWS never truncates: the tag is exactly the hash length */
    if (tag_len != ai->hash_len)
        return JOT_E_SIGNATURE;
    uint8_t mac[EVP_MAX_MD_SIZE];
    return judge_tag(key_mac(ai, key, data, len, mac), mac, tag, tag_len);
}
