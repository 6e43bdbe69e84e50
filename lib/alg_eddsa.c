/* EdDSA back end (RFC 8037): Ed25519 and Ed448, pure (one-shot, no pre-hash). The curve
 * comes from the key; the signature is exactly 64 (Ed25519) or 114 (Ed448) bytes. */
#include "internal.h"

#include <openssl/err.h>
#include <pthread.h>

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

/* EdDSA signs in one shot, so its prepared context is the EVP_MD_CTX after
 * EVP_DigestSignInit/VerifyInit, used again for the next message. Whether this OpenSSL allows
 * that is checked once per process (sign twice, verify twice, with a throwaway key); if not,
 * every call prepares a fresh context as OpenSSL's documentation describes. */
static bool reuse_ok;
static pthread_once_t reuse_once = PTHREAD_ONCE_INIT;

static void reuse_probe(void)
{
    static const uint8_t m1[] = "probe one", m2[] = "probe two";
    uint8_t s1[64], s2[64];
    size_t l1 = sizeof s1, l2 = sizeof s2;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_MD_CTX *sc = EVP_MD_CTX_new(), *vc = EVP_MD_CTX_new();
    reuse_ok = k && sc && vc && EVP_DigestSignInit_ex(sc, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
               EVP_DigestSign(sc, s1, &l1, m1, sizeof m1) == 1 &&
               EVP_DigestSign(sc, s2, &l2, m2, sizeof m2) == 1 &&
               EVP_DigestVerifyInit_ex(vc, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
               EVP_DigestVerify(vc, s1, l1, m1, sizeof m1) == 1 &&
               EVP_DigestVerify(vc, s2, l2, m2, sizeof m2) == 1 &&
               EVP_DigestVerify(vc, s1, l1, m2, sizeof m2) != 1 &&
               EVP_DigestVerify(vc, s2, l2, m2, sizeof m2) == 1;
    EVP_MD_CTX_free(sc);
    EVP_MD_CTX_free(vc);
    EVP_PKEY_free(k);
    ERR_clear_error();
}

static EVP_MD_CTX *eddsa_ctx(const jot_key_t *key, int op)
{
    const jot_alg_info_t *ai = jot__alg_info(JOT_ALG_EDDSA);
    pthread_once(&reuse_once, reuse_probe);
    EVP_MD_CTX *c = reuse_ok ? jot__pool_take(key, ai, op) : NULL;
    if (c)
        return c;
    c = EVP_MD_CTX_new();
    int ok = c && (op == JOT_POOL_SIGN
                       ? EVP_DigestSignInit_ex(c, NULL, NULL, NULL, NULL, key->pkey, NULL)
                       : EVP_DigestVerifyInit_ex(c, NULL, NULL, NULL, NULL, key->pkey, NULL));
    if (ok != 1) {
        EVP_MD_CTX_free(c);
        return NULL;
    }
    return c;
}

static void eddsa_done(const jot_key_t *key, int op, EVP_MD_CTX *c, bool ok)
{
    const jot_alg_info_t *ai = jot__alg_info(JOT_ALG_EDDSA);
    if (!ok || !reuse_ok || !jot__pool_give(key, ai, op, c))
        EVP_MD_CTX_free(c);
}

static jot_err_t eddsa_sign(const jot_key_t *key, const uint8_t *data, size_t len,
                            uint8_t **out_sig, size_t *out_len)
{
    EVP_PKEY *pkey = key ? key->pkey : NULL;
    if (!pkey || (!data && len) || !out_sig || !out_len)
        return JOT_E_INVAL;
    size_t want = eddsa_sig_len(pkey);
    if (!want)
        return JOT_E_KEY_MISMATCH;
    uint8_t *sig = jot__malloc(want);
    if (!sig)
        return JOT_E_NOMEM;
    EVP_MD_CTX *mctx = eddsa_ctx(key, JOT_POOL_SIGN);
    size_t sig_len = want;
    bool ok = mctx && EVP_DigestSign(mctx, sig, &sig_len, len ? data : empty_input, len) == 1 &&
              sig_len == want;
    if (mctx)
        eddsa_done(key, JOT_POOL_SIGN, mctx, ok);
    if (!ok) {
        jot_free(sig);
        return JOT_E_CRYPTO;
    }
    *out_sig = sig;
    *out_len = sig_len;
    return JOT_OK;
}

jot_err_t jot__eddsa_sign(const jot_key_t *key, const uint8_t *data, size_t len, uint8_t **out_sig,
                          size_t *out_len)
{
    jot_err_t rc = eddsa_sign(key, data, len, out_sig, out_len);
    if (rc != JOT_OK)
        ERR_clear_error(); /* the failure is reported by rc alone */
    return rc;
}

jot_err_t jot__eddsa_verify(const jot_key_t *key, const uint8_t *data, size_t len,
                            const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY *pkey = key ? key->pkey : NULL;
    if (!pkey || (!data && len) || (!sig && sig_len))
        return JOT_E_INVAL;
    size_t want = eddsa_sig_len(pkey);
    if (!want)
        return JOT_E_KEY_MISMATCH;
    if (sig_len != want)
        return JOT_E_SIGNATURE;
    EVP_MD_CTX *mctx = eddsa_ctx(key, JOT_POOL_VERIFY);
    if (!mctx) {
        ERR_clear_error();
        return JOT_E_CRYPTO;
    }
    bool ok = EVP_DigestVerify(mctx, sig, sig_len, len ? data : empty_input, len) == 1;
    /* a context that refused a signature is not reused: only a clean one goes back */
    eddsa_done(key, JOT_POOL_VERIFY, mctx, ok);
    if (!ok)
        ERR_clear_error();
    return ok ? JOT_OK : JOT_E_SIGNATURE;
}
