/* EdDSA back end (RFC 8037): Ed25519 and Ed448, pure (one-shot, no pre-hash). The curve
 * comes from the key; the signature is exactly 64 (Ed25519) or 114 (Ed448) bytes. */
#include "internal.h"

#include <openssl/err.h>

static const uint8_t empty_input[1] = {0};

/* Signature length for the key's curve, 0 for a key that is not Ed25519/Ed448. */
static size_t eddsa_sig_len(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_ED25519:
        return 64;
    case EVP_PKEY_ED448:
        return 114;
    default:
        return 0;
    }
}

static jot_err_t eddsa_sign(EVP_PKEY *pkey, const uint8_t *data, size_t len, uint8_t **out_sig,
                            size_t *out_len)
{
    if (!pkey || (!data && len) || !out_sig || !out_len)
        return JOT_E_INVAL;
    size_t want = eddsa_sig_len(pkey);
    if (!want)
        return JOT_E_KEY_MISMATCH;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!mctx)
        return JOT_E_NOMEM;
    uint8_t *sig = jot__malloc(want);
    if (!sig) {
        EVP_MD_CTX_free(mctx);
        return JOT_E_NOMEM;
    }
    size_t sig_len = want;
    int ok = EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, pkey, NULL) == 1 &&
             EVP_DigestSign(mctx, sig, &sig_len, len ? data : empty_input, len) == 1 &&
             sig_len == want;
    EVP_MD_CTX_free(mctx);
    if (!ok) {
        jot_free(sig);
        return JOT_E_CRYPTO;
    }
    *out_sig = sig;
    *out_len = sig_len;
    return JOT_OK;
}

jot_err_t jot__eddsa_sign(EVP_PKEY *pkey, const uint8_t *data, size_t len, uint8_t **out_sig,
                          size_t *out_len)
{
    jot_err_t rc = eddsa_sign(pkey, data, len, out_sig, out_len);
    if (rc != JOT_OK)
        ERR_clear_error(); /* the failure is reported by rc alone */
    return rc;
}

jot_err_t jot__eddsa_verify(EVP_PKEY *pkey, const uint8_t *data, size_t len, const uint8_t *sig,
                            size_t sig_len)
{
    if (!pkey || (!data && len) || (!sig && sig_len))
        return JOT_E_INVAL;
    size_t want = eddsa_sig_len(pkey);
    if (!want)
        return JOT_E_KEY_MISMATCH;
    if (sig_len != want)
        return JOT_E_SIGNATURE;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!mctx)
        return JOT_E_NOMEM;
    jot_err_t rc = JOT_E_CRYPTO;
    if (EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, pkey, NULL) == 1)
        rc = EVP_DigestVerify(mctx, sig, sig_len, len ? data : empty_input, len) == 1
                 ? JOT_OK
                 : JOT_E_SIGNATURE;
    EVP_MD_CTX_free(mctx);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}
