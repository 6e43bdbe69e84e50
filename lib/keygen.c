/* Fresh keys for every algorithm: HMAC secrets from the DRBG, RSA (e = 65537), EC on the
 * curve the algorithm names, Ed25519 / Ed448. The key gets "alg" and its RFC 7638 kid. */
#include "internal.h"

#include <openssl/err.h>
#include <openssl/rand.h>

static jot_err_t gen_hmac(const jot_alg_info_t *ai, unsigned bits, jot_key_t **out)
{
    if (bits == 0)
        bits = (unsigned)(ai->hash_len * 8);
    if (bits % 8 != 0 || bits / 8 > JOT_MAX_HMAC_KEY_BYTES)
        return JOT_E_INVAL;
    if (bits / 8 < ai->hash_len) /* RFC 7518 §3.2 */
        return JOT_E_KEY_WEAK;
    size_t len = bits / 8;
    jot_key_t *key = jot__key_alloc(JOT_KTY_OCT);
    uint8_t *k = jot__malloc(len);
    if (!key || !k) {
        jot_free(key);
        jot_free(k);
        return JOT_E_NOMEM;
    }
    if (RAND_priv_bytes(k, (int)len) != 1) {
        jot__free_secret(k, len);
        jot_free(key);
        return JOT_E_CRYPTO;
    }
    key->oct = k;
    key->oct_len = len;
    key->has_private = true;
    key->bits = bits;
    *out = key;
    return JOT_OK;
}

static jot_err_t gen_pkey(const jot_alg_info_t *ai, unsigned bits, jot_key_t **out)
{
    EVP_PKEY *pkey = NULL;
    switch (ai->family) {
    case JOT_FAM_RSA_PKCS1:
    case JOT_FAM_RSA_PSS:
        if (bits == 0)
            bits = JOT_MIN_RSA_BITS;
        if (bits < JOT_MIN_RSA_BITS)
            return JOT_E_KEY_WEAK;
        if (bits > JOT_MAX_RSA_BITS)
            return JOT_E_INVAL;
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits); /* e = 65537 */
        break;
    case JOT_FAM_ECDSA: {
        const char *group = jot__crv_group(ai->crv);
        if (!group)
            return JOT_E_UNSUPPORTED;
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
        break;
    }
    case JOT_FAM_EDDSA:
        if (bits == 0 || bits == 25519)
            pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        else if (bits == 448)
            pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
        else
            return JOT_E_INVAL;
        break;
    default:
        return JOT_E_ALG_UNKNOWN;
    }
    if (!pkey)
        return JOT_E_CRYPTO;
    jot_err_t rc = jot__key_from_pkey(pkey, out);
    if (rc != JOT_OK)
        EVP_PKEY_free(pkey);
    return rc;
}

jot_err_t jot_key_generate(jot_alg_t alg, unsigned bits, jot_key_t **out_key)
{
    if (!out_key)
        return JOT_E_INVAL;
    const jot_alg_info_t *ai = jot__alg_info(alg);
    if (!ai)
        return JOT_E_ALG_UNKNOWN;
    jot_key_t *key = NULL;
    jot_err_t rc = ai->family == JOT_FAM_HMAC ? gen_hmac(ai, bits, &key) : gen_pkey(ai, bits, &key);
    char tp[JOT_THUMBPRINT_LEN + 1];
    if (rc == JOT_OK) {
        key->alg = alg;
        rc = jot_key_thumbprint(key, tp);
    }
    if (rc == JOT_OK)
        rc = jot_key_set_kid(key, tp);
    if (rc != JOT_OK) {
        jot_key_free(key);
        ERR_clear_error();
        return rc;
    }
    *out_key = key;
    return JOT_OK;
}
