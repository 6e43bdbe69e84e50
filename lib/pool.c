/* Prepared OpenSSL contexts kept by a key, and digests fetched once.
 *
 * Setting up an OpenSSL 3 operation costs more than a small operation itself: fetching the
 * algorithm, running the HMAC key schedule, creating and initialising an EVP_PKEY_CTX.
 * A key therefore keeps contexts already prepared for each (algorithm, operation): a
 * keyed HMAC context, or an EVP_PKEY_CTX after EVP_PKEY_sign_init/verify_init with its
 * digest and padding set. Contexts are not thread-safe and keys are shared between threads,
 * so a call takes a context out of a slot with an atomic exchange (no two threads ever hold
 * the same one) and gives it back with a compare-and-swap into an empty slot; with every
 * slot full it is freed. A context whose operation failed is never given back. */
#include "internal.h"

#include <pthread.h>
#include <string.h>

static EVP_MD *digests[3]; /* SHA-256, SHA-384, SHA-512; kept for the life of the process */
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;

static void digests_fetch(void)
{
    digests[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
    digests[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
    digests[2] = EVP_MD_fetch(NULL, "SHA512", NULL);
}

const EVP_MD *jot__digest(const jot_alg_info_t *ai)
{
    pthread_once(&digests_once, digests_fetch);
    switch (ai->hash_len) {
    case 32:
        return digests[0];
    case 48:
        return digests[1];
    case 64:
        return digests[2];
    default:
        return NULL;
    }
}

/* Row of the pool for an algorithm and operation (jot_pool_op_t), per key type:
 * oct: HS256/384/512 (one context serves both operations); RSA: the six RS and PS
 * algorithms x sign/verify; EC: sign/verify (an EC key has exactly one algorithm). */
static size_t pool_row(const jot_alg_info_t *ai, int op)
{
    switch (ai->family) {
    case JOT_FAM_HMAC:
        return ai->hash_len == 32 ? 0 : ai->hash_len == 48 ? 1 : 2;
    case JOT_FAM_RSA_PKCS1:
    case JOT_FAM_RSA_PSS:
        return (size_t)(ai->alg - JOT_ALG_RS256) * 2 + (size_t)op;
    default:
        return (size_t)op;
    }
}

void *jot__pool_take(const jot_key_t *key, const jot_alg_info_t *ai, int op)
{
    jot_key_t *k = (jot_key_t *)key; /* the pool is the only mutable part of a key */
    _Atomic(void *) *row = k->pool[pool_row(ai, op)];
    for (size_t i = 0; i < JOT_POOL_SLOTS; i++) {
        void *c = atomic_exchange(&row[i], NULL);
        if (c)
            return c;
    }
    return NULL;
}

bool jot__pool_give(const jot_key_t *key, const jot_alg_info_t *ai, int op, void *ctx)
{
    jot_key_t *k = (jot_key_t *)key;
    _Atomic(void *) *row = k->pool[pool_row(ai, op)];
    for (size_t i = 0; i < JOT_POOL_SLOTS; i++) {
        void *empty = NULL;
        if (atomic_compare_exchange_strong(&row[i], &empty, ctx))
            return true;
    }
    return false;
}

void jot__pool_release(jot_key_t *key)
{
    for (size_t r = 0; r < JOT_POOL_ROWS; r++) {
        for (size_t i = 0; i < JOT_POOL_SLOTS; i++) {
            void *c = atomic_exchange(&key->pool[r][i], NULL);
            if (!c)
                continue;
            if (key->kty == JOT_KTY_OCT)
                EVP_MAC_CTX_free(c); /* wipes the keyed state */
            else
                EVP_PKEY_CTX_free(c);
        }
    }
}

/* ---- RSA and ECDSA: digest, then sign or verify the digest ----------------------------- */

static const uint8_t empty_input[1] = {0};

static EVP_PKEY_CTX *pkey_ctx(const jot_alg_info_t *ai, const jot_key_t *key, int op,
                              bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *))
{
    EVP_PKEY_CTX *c = jot__pool_take(key, ai, op);
    if (c)
        return c;
    const EVP_MD *md = jot__digest(ai);
    if (!md || !(c = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)))
        return NULL;
    int ok = op == JOT_POOL_SIGN ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c);
    if (ok != 1 || EVP_PKEY_CTX_set_signature_md(c, md) != 1 || (setup && !setup(ai, c))) {
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    return c;
}

static void pkey_ctx_done(const jot_alg_info_t *ai, const jot_key_t *key, int op, EVP_PKEY_CTX *c,
                          bool ok)
{
    if (!ok || !jot__pool_give(key, ai, op, c))
        EVP_PKEY_CTX_free(c);
}

static bool digest(const jot_alg_info_t *ai, const uint8_t *data, size_t len,
                   uint8_t out[EVP_MAX_MD_SIZE], size_t *out_len)
{
    const EVP_MD *md = jot__digest(ai);
    unsigned n = 0;
    if (!md || EVP_Digest(len ? data : empty_input, len, out, &n, md, NULL) != 1)
        return false;
    *out_len = n;
    return n == ai->hash_len;
}

jot_err_t jot__pkey_sign_digest(const jot_alg_info_t *ai, const jot_key_t *key,
                                bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *),
                                const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    size_t dlen;
    if (!digest(ai, data, len, d, &dlen))
        return JOT_E_CRYPTO;
    EVP_PKEY_CTX *c = pkey_ctx(ai, key, JOT_POOL_SIGN, setup);
    if (!c)
        return JOT_E_CRYPTO;
    bool ok = EVP_PKEY_sign(c, sig, sig_len, d, dlen) == 1;
    pkey_ctx_done(ai, key, JOT_POOL_SIGN, c, ok);
    return ok ? JOT_OK : JOT_E_CRYPTO;
}

jot_err_t jot__pkey_verify_digest(const jot_alg_info_t *ai, const jot_key_t *key,
                                  bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *),
                                  const uint8_t *data, size_t len, const uint8_t *sig,
                                  size_t sig_len)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    size_t dlen;
    if (!digest(ai, data, len, d, &dlen))
        return JOT_E_CRYPTO;
    EVP_PKEY_CTX *c = pkey_ctx(ai, key, JOT_POOL_VERIFY, setup);
    if (!c)
        return JOT_E_CRYPTO;
    bool ok = EVP_PKEY_verify(c, sig, sig_len, d, dlen) == 1;
    /* a context that refused a signature is not reused: only a clean one goes back */
    pkey_ctx_done(ai, key, JOT_POOL_VERIFY, c, ok);
    return ok ? JOT_OK : JOT_E_SIGNATURE;
}
