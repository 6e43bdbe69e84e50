/* Prepared OpenSSL contexts kept by a key, and digests fetched once.
 *
 * Setting up an OpenSSL 3 operation costs more than a small operation itself: fetching the
 * algorithm, running the HMAC key schedule, creating and initialising an EVP_PKEY_CTX.
 * A key therefore keeps contexts already prepared for each (algorithm, operation): a
 * keyed HMAC context; for RSA and ECDSA an EVP_PKEY_CTX after EVP_PKEY_sign_init/verify_init
 * with its digest and padding set, and a digest context; for EdDSA an EVP_MD_CTX after
 * EVP_DigestSignInit/VerifyInit (alg_eddsa.c). Contexts are not thread-safe and keys are shared
 * between threads, so a call takes a context out of a slot with an atomic exchange (no two threads
 * ever hold the same one) and gives it back with a compare-and-swap into an empty slot; with every
 * slot full it is freed. A context whose operation failed is never given back. */
#include "internal.h"

#include <openssl/crypto.h>
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

/* The slot this thread tries first: threads are numbered as they first use a pool, so that
 * up to JOT_POOL_SLOTS threads each have a slot (and a cache line) of their own. */
static size_t home_slot(void)
{
    static atomic_uint next_thread;
    static _Thread_local unsigned home; /* 0: not numbered yet */
    if (!home)
        home = atomic_fetch_add(&next_thread, 1) % JOT_POOL_SLOTS + 1;
    return home - 1;
}

void *jot__pool_take(const jot_key_t *key, const jot_alg_info_t *ai, int op)
{
    jot_key_t *k = (jot_key_t *)key; /* the pool is the only mutable part of a key */
    jot_pool_slot_t *row = k->pool[pool_row(ai, op)];
    size_t home = home_slot();
    for (size_t i = 0; i < JOT_POOL_SLOTS; i++) {
        void *c = atomic_exchange(&row[(home + i) % JOT_POOL_SLOTS].ctx, NULL);
        if (c)
            return c;
    }
    return NULL;
}

bool jot__pool_give(const jot_key_t *key, const jot_alg_info_t *ai, int op, void *ctx)
{
    jot_key_t *k = (jot_key_t *)key;
    jot_pool_slot_t *row = k->pool[pool_row(ai, op)];
    size_t home = home_slot();
    for (size_t i = 0; i < JOT_POOL_SLOTS; i++) {
        void *empty = NULL;
        if (atomic_compare_exchange_strong(&row[(home + i) % JOT_POOL_SLOTS].ctx, &empty, ctx))
            return true;
    }
    return false;
}

/* RSA and ECDSA keep a signature context and a digest context together. */
typedef struct prepared {
    EVP_PKEY_CTX *pkey; /* after sign_init/verify_init, digest and padding set */
    EVP_MD_CTX *md;     /* reinitialised for each digest */
} prepared_t;

static void prepared_free(prepared_t *p)
{
    if (!p)
        return;
    EVP_PKEY_CTX_free(p->pkey);
    EVP_MD_CTX_free(p->md);
    OPENSSL_free(p);
}

void jot__pool_release(jot_key_t *key)
{
    for (size_t r = 0; r < JOT_POOL_ROWS; r++) {
        for (size_t i = 0; i < JOT_POOL_SLOTS; i++) {
            void *c = atomic_exchange(&key->pool[r][i].ctx, NULL);
            if (!c)
                continue;
            if (key->kty == JOT_KTY_OCT)
                EVP_MAC_CTX_free(c); /* wipes the keyed state */
            else if (key->kty == JOT_KTY_OKP)
                EVP_MD_CTX_free(c);
            else
                prepared_free(c);
        }
    }
}

/* ---- RSA and ECDSA: digest, then sign or verify the digest ----------------------------- */

static const uint8_t empty_input[1] = {0};

static prepared_t *prepared_get(const jot_alg_info_t *ai, const jot_key_t *key, int op,
                                bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *))
{
    prepared_t *p = jot__pool_take(key, ai, op);
    if (p)
        return p;
    const EVP_MD *md = jot__digest(ai);
    /* OpenSSL's allocator, like the two contexts it holds: a cache of OpenSSL objects */
    if (!md || !(p = OPENSSL_zalloc(sizeof *p)))
        return NULL;
    p->md = EVP_MD_CTX_new();
    p->pkey = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    int ok = p->md && p->pkey &&
             (op == JOT_POOL_SIGN ? EVP_PKEY_sign_init(p->pkey) : EVP_PKEY_verify_init(p->pkey));
    if (ok != 1 || EVP_PKEY_CTX_set_signature_md(p->pkey, md) != 1 ||
        (setup && !setup(ai, p->pkey))) {
        prepared_free(p);
        return NULL;
    }
    return p;
}

static void prepared_done(const jot_alg_info_t *ai, const jot_key_t *key, int op, prepared_t *p,
                          bool ok)
{
    if (!ok || !jot__pool_give(key, ai, op, p))
        prepared_free(p);
}

static bool digest(const jot_alg_info_t *ai, EVP_MD_CTX *mctx, const uint8_t *data, size_t len,
                   uint8_t out[EVP_MAX_MD_SIZE], size_t *out_len)
{
    unsigned n = 0;
    if (EVP_DigestInit_ex2(mctx, jot__digest(ai), NULL) != 1 ||
        EVP_DigestUpdate(mctx, len ? data : empty_input, len) != 1 ||
        EVP_DigestFinal_ex(mctx, out, &n) != 1)
        return false;
    *out_len = n;
    return n == ai->hash_len;
}

jot_err_t jot__pkey_sign_digest(const jot_alg_info_t *ai, const jot_key_t *key,
                                bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *),
                                const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len)
{
    prepared_t *p = prepared_get(ai, key, JOT_POOL_SIGN, setup);
    if (!p)
        return JOT_E_CRYPTO;
    uint8_t d[EVP_MAX_MD_SIZE];
    size_t dlen;
    bool ok = digest(ai, p->md, data, len, d, &dlen) &&
              EVP_PKEY_sign(p->pkey, sig, sig_len, d, dlen) == 1;
    prepared_done(ai, key, JOT_POOL_SIGN, p, ok);
    return ok ? JOT_OK : JOT_E_CRYPTO;
}

jot_err_t jot__pkey_verify_digest(const jot_alg_info_t *ai, const jot_key_t *key,
                                  bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *),
                                  const uint8_t *data, size_t len, const uint8_t *sig,
                                  size_t sig_len)
{
    prepared_t *p = prepared_get(ai, key, JOT_POOL_VERIFY, setup);
    if (!p)
        return JOT_E_CRYPTO;
    uint8_t d[EVP_MAX_MD_SIZE];
    size_t dlen;
    if (!digest(ai, p->md, data, len, d, &dlen)) {
        prepared_done(ai, key, JOT_POOL_VERIFY, p, false);
        return JOT_E_CRYPTO;
    }
    bool ok = EVP_PKEY_verify(p->pkey, sig, sig_len, d, dlen) == 1;
    /* a context that refused a signature is not reused: only a clean one goes back */
    prepared_done(ai, key, JOT_POOL_VERIFY, p, ok);
    return ok ? JOT_OK : JOT_E_SIGNATURE;
}
