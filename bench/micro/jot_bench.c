/* jot_bench: libjot sign/verify next to the raw OpenSSL primitive, measured in the same
 * process run, over the same signing input bytes and the same key material.
 *
 * Output (stdout): comment lines ("# ...") and machine lines "name value unit", one figure
 * each, then one empty line, then a human-readable table whose lines all start with "# ".
 * Progress and failures go to stderr. bench/README.md explains every line and how the raw
 * baseline is measured. Exit status: 0 when every call and every correctness guard passed,
 * 1 when anything failed (the smoke run under `make test` relies on it), 2 on a usage error.
 *
 * Only the public API of libjot is used (<jot/jot.h>); OpenSSL is called directly for the
 * raw primitives. */
#include <jot/jot.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 3       /* timed rounds per figure; the best one is reported */
#define WARMUP_S 0.1   /* warm-up (and batch calibration) per figure, seconds */
#define BATCH_S 0.0005 /* the clock is read once per batch of about this long */
#define COUNT_OPS 64u  /* operations per allocation-counting pass */
#define SIG_MAX 1024u  /* largest signature handled (RSA 2048: 256 bytes) */
#define MAX_THREADS 64u
#define MAX_RESULTS 1024u

/* ---- options -------------------------------------------------------------------------- */

static struct {
    double seconds;   /* per figure, split over ROUNDS rounds */
    bool smoke;       /* one iteration of everything */
    const char *only; /* comma-separated labels, NULL: all */
    unsigned threads; /* largest thread count of the scaling series */
    bool series;      /* payload-size and thread-scaling series */
} opt = {1.0, false, NULL, 2, true};

static int g_failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jot_bench: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    g_failures++;
}

/* ---- allocation counting ---------------------------------------------------------------
 * libjot allocates through jot_set_allocator()'s hook, and routes jansson's allocations
 * through the same hook (lib/mem.c); OpenSSL through CRYPTO_set_mem_functions(). Counting is
 * switched on only for the short single-threaded counting passes, never while timing; the
 * flag is written only while no other thread runs. */

static bool g_counting;
static unsigned long g_jot_allocs; /* malloc + realloc calls through jot's hook */
static long g_jot_live;            /* blocks allocated minus blocks freed (leak check) */
static unsigned long g_ossl_allocs;

static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    if (g_counting) {
        g_jot_allocs++;
        g_jot_live += p != NULL;
    }
    return p;
}

static void *count_realloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (g_counting) {
        g_jot_allocs++;
        g_jot_live += old == NULL && p != NULL;
    }
    return p;
}

static void count_free(void *p)
{
    if (g_counting && p)
        g_jot_live--;
    free(p);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (g_counting)
        g_ossl_allocs++;
    return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (g_counting)
        g_ossl_allocs++;
    return realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* ---- results ----------------------------------------------------------------------------
 * Every figure is printed as it is measured and kept for the table at the end. */

struct result {
    char name[96];
    double value;
};
static struct result g_results[MAX_RESULTS];
static size_t g_nresults;

static void emit(double value, int prec, const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void emit(double value, int prec, const char *unit, const char *fmt, ...)
{
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof name) {
        fail("result name too long");
        return;
    }
    printf("%s %.*f %s\n", name, prec, value, unit);
    fflush(stdout);
    if (g_nresults < MAX_RESULTS) {
        memcpy(g_results[g_nresults].name, name, (size_t)n + 1);
        g_results[g_nresults].value = value;
        g_nresults++;
    }
}

/* The value of a figure, NAN when it was not measured. */
static double get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static double get(const char *fmt, ...)
{
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof name)
        return NAN;
    for (size_t i = 0; i < g_nresults; i++)
        if (strcmp(g_results[i].name, name) == 0)
            return g_results[i].value;
    return NAN;
}

/* ---- algorithms ------------------------------------------------------------------------ */

enum fam { FAM_HMAC, FAM_RSA, FAM_PSS, FAM_EC, FAM_ED };

struct alg_case {
    const char *label; /* figure names; "Ed448" is EdDSA over Ed448 */
    jot_alg_t alg;
    unsigned bits; /* jot_key_generate(): RSA modulus, EdDSA curve */
    enum fam fam;
    const char *md; /* digest name, NULL for EdDSA */
    size_t coord;   /* ECDSA: bytes of r and of s in JOSE form */
};

static const struct alg_case cases[] = {
    {"HS256", JOT_ALG_HS256, 0, FAM_HMAC, "SHA256", 0},
    {"HS384", JOT_ALG_HS384, 0, FAM_HMAC, "SHA384", 0},
    {"HS512", JOT_ALG_HS512, 0, FAM_HMAC, "SHA512", 0},
    {"RS256", JOT_ALG_RS256, 2048, FAM_RSA, "SHA256", 0},
    {"RS384", JOT_ALG_RS384, 2048, FAM_RSA, "SHA384", 0},
    {"RS512", JOT_ALG_RS512, 2048, FAM_RSA, "SHA512", 0},
    {"PS256", JOT_ALG_PS256, 2048, FAM_PSS, "SHA256", 0},
    {"PS384", JOT_ALG_PS384, 2048, FAM_PSS, "SHA384", 0},
    {"PS512", JOT_ALG_PS512, 2048, FAM_PSS, "SHA512", 0},
    {"ES256", JOT_ALG_ES256, 0, FAM_EC, "SHA256", 32},
    {"ES384", JOT_ALG_ES384, 0, FAM_EC, "SHA384", 48},
    {"ES512", JOT_ALG_ES512, 0, FAM_EC, "SHA512", 66},
    {"ES256K", JOT_ALG_ES256K, 0, FAM_EC, "SHA256", 32},
    {"EdDSA", JOT_ALG_EDDSA, 25519, FAM_ED, NULL, 0},
    {"Ed448", JOT_ALG_EDDSA, 448, FAM_ED, NULL, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Targets of issue 5: libjot ops/s over raw ops/s. */
static double target_ratio(const struct alg_case *ac)
{
    return ac->fam == FAM_HMAC ? 0.50 : 0.95;
}

static bool selected(const char *label)
{
    if (!opt.only)
        return true;
    size_t n = strlen(label);
    const char *p = opt.only;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, label, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* One algorithm's keys, verifier and token. */
struct alg_state {
    const struct alg_case *ac;
    jot_key_t *key;       /* private (HMAC: the secret), kid "k1" */
    jot_key_t *pub;       /* public part; what the verifier holds (HMAC: the secret) */
    jot_verifier_t *ver;  /* set_key, set_algs(one), set_issuer, add_audience */
    jot_claims_t *claims; /* the ~300-byte claim set */
    EVP_PKEY *priv;       /* the same private key, parsed by OpenSSL from jot's PEM */
    EVP_PKEY *pubk;       /* the same public key, from jot's SPKI PEM */
    EVP_MD *md;           /* prefetched */
    EVP_MAC *mac;         /* prefetched HMAC */
    uint8_t hkey[64];
    size_t hkey_len;
    size_t hash_len;
    char *token; /* jot-signed; caller frees with jot_free() */
    size_t token_len;
    size_t si_len;              /* signing input: token[0, si_len) */
    int best_sign, best_verify; /* index of the faster raw variant */
};

/* ---- raw OpenSSL primitives --------------------------------------------------------------
 * One raw_ctx per thread: contexts are created and keyed once, outside the timed loop;
 * keys and prefetched algorithms are shared. Every op returns 1 on success. */

struct raw_ctx {
    const struct alg_state *st;
    const uint8_t *in; /* signing input (ASCII header.payload) */
    size_t in_len;
    const uint8_t *sig; /* binary signature to verify (DER for ECDSA) */
    size_t sig_len;
    EVP_MAC_CTX *mac;   /* HMAC: keyed once, re-initialised per op */
    EVP_MD_CTX *smctx;  /* EVP_DigestSign: reused */
    EVP_MD_CTX *vmctx;  /* EVP_DigestVerify: reused (a context does not switch operation) */
    EVP_MD_CTX *dctx;   /* the digest of the pkey variant: reused */
    EVP_PKEY_CTX *sctx; /* EVP_PKEY_sign, initialised once */
    EVP_PKEY_CTX *vctx; /* EVP_PKEY_verify, initialised once */
    uint8_t out[SIG_MAX];
    size_t out_len;
};

static bool rsa_params(const struct alg_state *st, EVP_PKEY_CTX *pctx, bool digest_set)
{
    if (st->ac->fam == FAM_RSA)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
               (digest_set || EVP_PKEY_CTX_set_signature_md(pctx, st->md) == 1);
    if (st->ac->fam == FAM_PSS)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
               (digest_set || EVP_PKEY_CTX_set_signature_md(pctx, st->md) == 1) &&
               EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, st->md) == 1 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)st->hash_len) == 1;
    if (st->ac->fam == FAM_EC)
        return digest_set || EVP_PKEY_CTX_set_signature_md(pctx, st->md) == 1;
    return true;
}

static void raw_ctx_free(struct raw_ctx *rc)
{
    EVP_MAC_CTX_free(rc->mac);
    EVP_MD_CTX_free(rc->smctx);
    EVP_MD_CTX_free(rc->vmctx);
    EVP_MD_CTX_free(rc->dctx);
    EVP_PKEY_CTX_free(rc->sctx);
    EVP_PKEY_CTX_free(rc->vctx);
    memset(rc, 0, sizeof *rc);
}

static bool raw_ctx_init(struct raw_ctx *rc, const struct alg_state *st, const uint8_t *in,
                         size_t in_len)
{
    memset(rc, 0, sizeof *rc);
    rc->st = st;
    rc->in = in;
    rc->in_len = in_len;
    if (st->ac->fam == FAM_HMAC) {
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)st->ac->md, 0);
        params[1] = OSSL_PARAM_construct_end();
        rc->mac = EVP_MAC_CTX_new(st->mac);
        if (!rc->mac || EVP_MAC_init(rc->mac, st->hkey, st->hkey_len, params) != 1)
            goto fail;
        return true;
    }
    rc->smctx = EVP_MD_CTX_new();
    rc->vmctx = EVP_MD_CTX_new();
    if (!rc->smctx || !rc->vmctx)
        goto fail;
    if (st->ac->fam == FAM_ED)
        return true;
    rc->dctx = EVP_MD_CTX_new();
    rc->sctx = EVP_PKEY_CTX_new_from_pkey(NULL, st->priv, NULL);
    rc->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, st->pubk, NULL);
    if (!rc->dctx || !rc->sctx || !rc->vctx || EVP_PKEY_sign_init(rc->sctx) != 1 ||
        !rsa_params(st, rc->sctx, false) || EVP_PKEY_verify_init(rc->vctx) != 1 ||
        !rsa_params(st, rc->vctx, false))
        goto fail;
    return true;
fail:
    raw_ctx_free(rc);
    return false;
}

/* HMAC, EVP_MAC: the prefetched MAC's context keyed once, re-initialised with no key. */
static int raw_mac_sign(void *arg)
{
    struct raw_ctx *rc = arg;
    size_t n = 0;
    int ok = EVP_MAC_init(rc->mac, NULL, 0, NULL) == 1 &&
             EVP_MAC_update(rc->mac, rc->in, rc->in_len) == 1 &&
             EVP_MAC_final(rc->mac, rc->out, &n, sizeof rc->out) == 1;
    rc->out_len = n;
    return ok;
}

static int raw_mac_verify(void *arg)
{
    struct raw_ctx *rc = arg;
    return raw_mac_sign(rc) && rc->out_len == rc->sig_len &&
           CRYPTO_memcmp(rc->out, rc->sig, rc->sig_len) == 0;
}

/* HMAC, the one-shot HMAC() with the prefetched digest. */
static int raw_hmac_sign(void *arg)
{
    struct raw_ctx *rc = arg;
    unsigned n = 0;
    int ok = HMAC(rc->st->md, rc->st->hkey, (int)rc->st->hkey_len, rc->in, rc->in_len, rc->out,
                  &n) != NULL;
    rc->out_len = n;
    return ok;
}

static int raw_hmac_verify(void *arg)
{
    struct raw_ctx *rc = arg;
    return raw_hmac_sign(rc) && rc->out_len == rc->sig_len &&
           CRYPTO_memcmp(rc->out, rc->sig, rc->sig_len) == 0;
}

/* EVP_DigestSignInit_ex() + EVP_DigestSign() on a reused EVP_MD_CTX (no reset between
 * operations: OpenSSL 3 re-initialises it in place, measured faster than a reset). */
static int raw_ds_sign(void *arg)
{
    struct raw_ctx *rc = arg;
    const struct alg_state *st = rc->st;
    EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
    size_t n = sizeof rc->out;
    int ok = EVP_DigestSignInit_ex(rc->smctx, &pctx, st->ac->md, NULL, NULL, st->priv, NULL) == 1 &&
             rsa_params(st, pctx, true) &&
             EVP_DigestSign(rc->smctx, rc->out, &n, rc->in, rc->in_len) == 1;
    rc->out_len = ok ? n : 0;
    return ok;
}

static int raw_ds_verify(void *arg)
{
    struct raw_ctx *rc = arg;
    const struct alg_state *st = rc->st;
    EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
    return EVP_DigestVerifyInit_ex(rc->vmctx, &pctx, st->ac->md, NULL, NULL, st->pubk, NULL) == 1 &&
           rsa_params(st, pctx, true) &&
           EVP_DigestVerify(rc->vmctx, rc->sig, rc->sig_len, rc->in, rc->in_len) == 1;
}

/* The digest on a reused context, then EVP_PKEY_sign()/EVP_PKEY_verify() on a context
 * initialised (padding, digest, salt length) once. */
static int raw_pk_digest(struct raw_ctx *rc, uint8_t *d, unsigned *dl)
{
    return EVP_DigestInit_ex2(rc->dctx, rc->st->md, NULL) == 1 &&
           EVP_DigestUpdate(rc->dctx, rc->in, rc->in_len) == 1 &&
           EVP_DigestFinal_ex(rc->dctx, d, dl) == 1;
}

static int raw_pk_sign(void *arg)
{
    struct raw_ctx *rc = arg;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    size_t n = sizeof rc->out;
    int ok = raw_pk_digest(rc, d, &dl) && EVP_PKEY_sign(rc->sctx, rc->out, &n, d, dl) == 1;
    rc->out_len = ok ? n : 0;
    return ok;
}

static int raw_pk_verify(void *arg)
{
    struct raw_ctx *rc = arg;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    return raw_pk_digest(rc, d, &dl) && EVP_PKEY_verify(rc->vctx, rc->sig, rc->sig_len, d, dl) == 1;
}

typedef int (*op_fn)(void *arg);

struct variant {
    const char *name;
    op_fn sign;
    op_fn verify;
};

static const struct variant hmac_variants[] = {
    {"evp_mac", raw_mac_sign, raw_mac_verify},
    {"hmac", raw_hmac_sign, raw_hmac_verify},
};
static const struct variant pk_variants[] = {
    {"digestsign", raw_ds_sign, raw_ds_verify},
    {"pkey", raw_pk_sign, raw_pk_verify},
};

static const struct variant *variants(const struct alg_case *ac, size_t *out_n)
{
    if (ac->fam == FAM_HMAC) {
        *out_n = 2;
        return hmac_variants;
    }
    /* EdDSA has no separate digest: EVP_DigestSign() is its only one-shot interface in 3.0 */
    *out_n = ac->fam == FAM_ED ? 1 : 2;
    return pk_variants;
}

/* ---- libjot operations ------------------------------------------------------------------ */

struct jot_ctx {
    const struct alg_state *st;
    const char *token;
    size_t len;
};

static int jot_sign_op(void *arg)
{
    const struct jot_ctx *jc = arg;
    jot_sign_opts_t o = {jc->st->ac->alg, "k1", NULL};
    char *tok = NULL;
    size_t len = 0;
    jot_err_t rc = jot_jwt_sign(jc->st->key, &o, jc->st->claims, &tok, &len);
    jot_free(tok);
    return rc == JOT_OK && len > 0;
}

/* What "verify" means here: parse, check the signature, exp/iss/aud, hand the claims to the
 * caller, who reads one. */
static int jot_verify_op(void *arg)
{
    const struct jot_ctx *jc = arg;
    jot_token_t *t = NULL;
    const char *sub = NULL;
    int ok = jot_verify(jc->st->ver, jc->token, jc->len, &t) == JOT_OK &&
             jot_claims_get_string(jot_token_claims(t), "sub", &sub) == JOT_OK && sub[0] != '\0';
    jot_token_free(t);
    return ok;
}

/* ---- timing ------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct bench {
    const char *what; /* for failure messages */
    op_fn fn;
    void *arg;
    unsigned long batch; /* ops between clock reads */
    double best;         /* best ops/s over the rounds */
};

/* Run b->fn for at least \p seconds (smoke: exactly once); ops/s, or 0 on a failed op. */
static double run_for(struct bench *b, double seconds)
{
    unsigned long ops = 0;
    double t0 = now_s(), el;
    if (opt.smoke) {
        if (!b->fn(b->arg)) {
            fail("%s: operation failed", b->what);
            return 0;
        }
        el = now_s() - t0;
        return 1.0 / (el > 1e-9 ? el : 1e-9);
    }
    do {
        for (unsigned long i = 0; i < b->batch; i++)
            if (!b->fn(b->arg)) {
                fail("%s: operation failed", b->what);
                return 0;
            }
        ops += b->batch;
        el = now_s() - t0;
    } while (el < seconds);
    return (double)ops / el;
}

/* Warm each up (which also sizes its batch), then ROUNDS rounds interleaved: b[0], b[1], ...,
 * b[0], b[1], ... so that machine noise hits all alike; each keeps its best round. */
static void measure(struct bench *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        b[i].batch = 1;
        b[i].best = 0;
        if (opt.smoke)
            continue;
        double rate = run_for(&b[i], WARMUP_S);
        double batch = rate * BATCH_S;
        b[i].batch = batch < 1 ? 1 : batch > 1e6 ? 1000000 : (unsigned long)batch;
    }
    unsigned rounds = opt.smoke ? 1 : ROUNDS;
    for (unsigned r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            double rate = run_for(&b[i], opt.seconds / ROUNDS);
            if (rate > b[i].best)
                b[i].best = rate;
        }
}

/* Allocations per op of \p fn over COUNT_OPS ops (after one uncounted op); libjot's leak
 * balance must come back to zero. */
static void count_allocs(const char *what, op_fn fn, void *arg, double *out_jot, double *out_ossl)
{
    unsigned n = opt.smoke ? 2u : COUNT_OPS;
    bool ok = fn(arg) != 0;
    g_jot_allocs = 0;
    g_jot_live = 0;
    g_ossl_allocs = 0;
    g_counting = true;
    for (unsigned i = 0; i < n && ok; i++)
        ok = fn(arg) != 0;
    g_counting = false;
    if (!ok)
        fail("%s: operation failed while counting allocations", what);
    if (g_jot_live != 0)
        fail("%s: libjot leaks: %ld blocks not freed after %u ops", what, g_jot_live, n);
    *out_jot = (double)g_jot_allocs / n;
    *out_ossl = (double)g_ossl_allocs / n;
}

/* ---- threads ---------------------------------------------------------------------------- */

struct thread_job {
    op_fn fn;
    void *arg;
    unsigned long batch;
    double seconds;
    pthread_barrier_t *start;
    unsigned long ops;
    double el;
    bool failed;
};

static void *thread_main(void *p)
{
    struct thread_job *j = p;
    pthread_barrier_wait(j->start);
    double t0 = now_s();
    do {
        for (unsigned long i = 0; i < j->batch; i++)
            if (!j->fn(j->arg)) {
                j->failed = true;
                return NULL;
            }
        j->ops += j->batch;
        j->el = now_s() - t0;
    } while (j->el < j->seconds);
    return NULL;
}

/* \p n threads each run fn(args[i]) for \p seconds; the sum of their ops/s, 0 on failure. */
static double run_threads(const char *what, op_fn fn, void **args, unsigned n, unsigned long batch,
                          double seconds)
{
    pthread_t tid[MAX_THREADS];
    struct thread_job jobs[MAX_THREADS];
    pthread_barrier_t start;
    unsigned started = 0;
    double total = 0;
    if (pthread_barrier_init(&start, NULL, n) != 0) {
        fail("%s: pthread_barrier_init", what);
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        jobs[i] = (struct thread_job){
            fn, args[i], opt.smoke ? 1 : batch, opt.smoke ? 0 : seconds, &start, 0, 0, false};
        if (pthread_create(&tid[i], NULL, thread_main, &jobs[i]) != 0)
            break;
        started++;
    }
    if (started < n) {
        /* the barrier can never open: nothing was measured and the run is broken */
        fail("%s: pthread_create", what);
        exit(1);
    }
    bool failed = false;
    for (unsigned i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        failed |= jobs[i].failed;
        total += (double)jobs[i].ops / (jobs[i].el > 1e-9 ? jobs[i].el : 1e-9);
    }
    pthread_barrier_destroy(&start);
    if (failed) {
        fail("%s: operation failed in a thread", what);
        return 0;
    }
    return total;
}

/* ---- keys, claims, tokens --------------------------------------------------------------- */

static const char ISS[] = "https://auth.example.com/realms/production-eu-west";
static const char AUD[] = "https://api.example.com/orders/v2/fulfilment";
static const char SUB[] = "user:7f3c9a1e-5b2d-4e8f-9a6b-1c2d3e4f5a6b@tenant";
static const char JTI[] = "Xq3v9Zt0bK2mW8sR4nL6yP1cD7hF5gJ0aE3uT9iO2wQ";
#define EXP_FAR 4102444800 /* 2100-01-01 */

/* The claim set of the benchmark token (8 claims, ~300 bytes of JSON), plus a "pad" string
 * claim when \p pad > 0 (the payload-size series). */
static jot_claims_t *make_claims(size_t pad)
{
    static const char *const roles[] = {"admin", "editor"};
    jot_claims_t *c = NULL;
    int64_t now = (int64_t)time(NULL);
    if (jot_claims_new(&c) != JOT_OK)
        return NULL;
    bool ok = jot_claims_set_string(c, "iss", ISS) == JOT_OK &&
              jot_claims_set_string(c, "sub", SUB) == JOT_OK &&
              jot_claims_set_string(c, "aud", AUD) == JOT_OK &&
              jot_claims_set_int(c, "exp", EXP_FAR) == JOT_OK &&
              jot_claims_set_int(c, "nbf", now - 60) == JOT_OK &&
              jot_claims_set_int(c, "iat", now - 60) == JOT_OK &&
              jot_claims_set_string(c, "jti", JTI) == JOT_OK &&
              jot_claims_set_strings(c, "roles", roles, 2) == JOT_OK;
    if (ok && pad > 0) {
        char *s = malloc(pad + 1);
        ok = s != NULL;
        if (ok) {
            memset(s, 'x', pad);
            s[pad] = '\0';
            ok = jot_claims_set_string(c, "pad", s) == JOT_OK;
            free(s);
        }
    }
    if (!ok) {
        jot_claims_free(c);
        return NULL;
    }
    return c;
}

static size_t claims_json_len(const jot_claims_t *c)
{
    char *json = NULL;
    size_t len = 0;
    if (jot_claims_to_json(c, &json, &len) != JOT_OK)
        return 0;
    jot_free(json);
    return len;
}

/* Claims whose JSON is \p target bytes (the base set when it is already that long). */
static jot_claims_t *make_claims_sized(size_t target)
{
    jot_claims_t *base = make_claims(0);
    size_t len = base ? claims_json_len(base) : 0;
    static const size_t member = sizeof ",\"pad\":\"\"" - 1;
    if (!base || target <= len + member)
        return base;
    jot_claims_free(base);
    return make_claims(target - len - member);
}

static bool sign_token(const struct alg_state *st, const jot_claims_t *c, char **out_tok,
                       size_t *out_len, size_t *out_si)
{
    jot_sign_opts_t o = {st->ac->alg, "k1", NULL};
    if (jot_jwt_sign(st->key, &o, c, out_tok, out_len) != JOT_OK)
        return false;
    size_t si = *out_len;
    while (si > 0 && (*out_tok)[si - 1] != '.')
        si--;
    if (si == 0) {
        jot_free(*out_tok);
        *out_tok = NULL;
        return false;
    }
    *out_si = si - 1;
    return true;
}

/* Signature of a compact token, base64url-decoded. */
static bool token_sig(const char *tok, size_t len, size_t si, uint8_t *out, size_t *out_len)
{
    const char *b = tok + si + 1;
    size_t blen = len - si - 1;
    if ((blen / 4) * 3 + 2 > SIG_MAX)
        return false;
    return jot_b64url_decode(out, out_len, b, blen) == JOT_OK;
}

/* ECDSA: JOSE r||s -> DER and back (used by the correctness guard only). */
static bool ec_jose_to_der(const uint8_t *rs, size_t len, uint8_t *der, size_t *der_len)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)(len / 2), NULL);
    BIGNUM *ss = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
    bool ok = s && r && ss && ECDSA_SIG_set0(s, r, ss) == 1;
    if (ok) {
        r = ss = NULL; /* owned by s */
        int n = i2d_ECDSA_SIG(s, NULL);
        ok = n > 0 && (size_t)n <= SIG_MAX;
        if (ok) {
            unsigned char *p = der;
            *der_len = (size_t)i2d_ECDSA_SIG(s, &p);
        }
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return ok;
}

static bool ec_der_to_jose(const uint8_t *der, size_t der_len, size_t coord, uint8_t *rs)
{
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r = NULL, *ss = NULL;
    if (!s)
        return false;
    ECDSA_SIG_get0(s, &r, &ss);
    bool ok = BN_bn2binpad(r, rs, (int)coord) == (int)coord &&
              BN_bn2binpad(ss, rs + coord, (int)coord) == (int)coord;
    ECDSA_SIG_free(s);
    return ok;
}

static EVP_PKEY *pem_to_pkey(const char *pem, size_t len, bool priv)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pk = NULL;
    if (bio)
        pk = priv ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                  : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pk;
}

static void alg_state_free(struct alg_state *st)
{
    jot_verifier_free(st->ver);
    jot_key_free(st->pub);
    jot_key_free(st->key);
    jot_claims_free(st->claims);
    jot_free(st->token);
    EVP_PKEY_free(st->priv);
    EVP_PKEY_free(st->pubk);
    EVP_MD_free(st->md);
    EVP_MAC_free(st->mac);
    OPENSSL_cleanse(st->hkey, sizeof st->hkey);
    memset(st, 0, sizeof *st);
}

/* Keys on both sides from one key: HMAC, a random secret imported into jot as an oct JWK;
 * otherwise jot_key_generate() and its PKCS#8 / SPKI PEM parsed by OpenSSL. */
static bool alg_state_init(struct alg_state *st, const struct alg_case *ac)
{
    memset(st, 0, sizeof *st);
    st->ac = ac;
    if (ac->md) {
        st->md = EVP_MD_fetch(NULL, ac->md, NULL);
        if (!st->md)
            return false;
        st->hash_len = (size_t)EVP_MD_get_size(st->md);
    }
    if (ac->fam == FAM_HMAC) {
        char k64[100], jwk[200];
        st->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        st->hkey_len = st->hash_len;
        if (!st->mac || RAND_bytes(st->hkey, (int)st->hkey_len) != 1)
            return false;
        jot_b64url_encode(k64, st->hkey, st->hkey_len);
        int n = snprintf(jwk, sizeof jwk, "{\"kty\":\"oct\",\"k\":\"%s\",\"alg\":\"%s\"}", k64,
                         jot_alg_name(ac->alg));
        bool ok = n > 0 && (size_t)n < sizeof jwk &&
                  jot_key_from_jwk(jwk, (size_t)n, &st->key) == JOT_OK &&
                  jot_key_from_jwk(jwk, (size_t)n, &st->pub) == JOT_OK;
        OPENSSL_cleanse(jwk, sizeof jwk);
        OPENSSL_cleanse(k64, sizeof k64);
        if (!ok)
            return false;
    } else {
        char *pem = NULL;
        size_t len = 0;
        if (jot_key_generate(ac->alg, ac->bits, &st->key) != JOT_OK ||
            jot_key_public(st->key, &st->pub) != JOT_OK ||
            jot_key_to_pem(st->key, JOT_JWK_PRIVATE, &pem, &len) != JOT_OK)
            return false;
        st->priv = pem_to_pkey(pem, len, true);
        jot_memzero(pem, len);
        jot_free(pem);
        if (jot_key_to_pem(st->pub, JOT_JWK_PUBLIC, &pem, &len) != JOT_OK)
            return false;
        st->pubk = pem_to_pkey(pem, len, false);
        jot_free(pem);
        if (!st->priv || !st->pubk)
            return false;
    }
    if (jot_key_set_kid(st->key, "k1") != JOT_OK || jot_key_set_kid(st->pub, "k1") != JOT_OK ||
        jot_verifier_new(&st->ver) != JOT_OK)
        return false;
    jot_verifier_set_key(st->ver, st->pub);
    jot_verifier_set_algs(st->ver, JOT_ALG_BIT(ac->alg));
    if (jot_verifier_set_issuer(st->ver, ISS) != JOT_OK ||
        jot_verifier_add_audience(st->ver, AUD) != JOT_OK)
        return false;
    st->claims = make_claims(0);
    return st->claims && sign_token(st, st->claims, &st->token, &st->token_len, &st->si_len);
}

/* Raw's own signature over \p rc's input with raw variant 0, into \p out (DER for ECDSA). */
static bool raw_signature(struct raw_ctx *rc, uint8_t *out, size_t *out_len)
{
    size_t nv = 0;
    const struct variant *v = variants(rc->st->ac, &nv);
    if (!v[0].sign(rc))
        return false;
    memcpy(out, rc->out, rc->out_len);
    *out_len = rc->out_len;
    return true;
}

/* ---- correctness guard -------------------------------------------------------------------
 * Before anything is timed: the raw path and libjot must agree on the same key and bytes. */
static bool guard(struct alg_state *st)
{
    const struct alg_case *ac = st->ac;
    const uint8_t *in = (const uint8_t *)st->token;
    struct jot_ctx jc = {st, st->token, st->token_len};
    struct raw_ctx rc;
    uint8_t jsig[SIG_MAX], jsig_bin[SIG_MAX], rsig[SIG_MAX];
    size_t jsig_len = 0, jsig_bin_len = 0, rsig_len = 0, nv = 0;
    const struct variant *v = variants(ac, &nv);
    bool ok = true;

    if (!jot_verify_op(&jc)) {
        fail("%s: libjot does not verify its own token", ac->label);
        return false;
    }
    if (!token_sig(st->token, st->token_len, st->si_len, jsig, &jsig_len)) {
        fail("%s: cannot decode the token's signature", ac->label);
        return false;
    }
    if (!raw_ctx_init(&rc, st, in, st->si_len)) {
        fail("%s: cannot set up the raw OpenSSL contexts", ac->label);
        return false;
    }
    /* jot's signature in OpenSSL's form */
    if (ac->fam == FAM_EC) {
        if (jsig_len != 2 * ac->coord || !ec_jose_to_der(jsig, jsig_len, jsig_bin, &jsig_bin_len))
            ok = false;
    } else {
        memcpy(jsig_bin, jsig, jsig_len);
        jsig_bin_len = jsig_len;
    }
    for (size_t i = 0; ok && i < nv; i++) {
        /* libjot's signature verifies with raw OpenSSL */
        rc.sig = jsig_bin;
        rc.sig_len = jsig_bin_len;
        if (!v[i].verify(&rc)) {
            fail("%s: raw %s does not verify libjot's signature", ac->label, v[i].name);
            ok = false;
        }
        /* raw signs; deterministic schemes give libjot's bytes exactly */
        if (ok && !v[i].sign(&rc)) {
            fail("%s: raw %s sign failed", ac->label, v[i].name);
            ok = false;
        }
        bool det = ac->fam == FAM_HMAC || ac->fam == FAM_RSA || ac->fam == FAM_ED;
        if (ok && det && (rc.out_len != jsig_len || CRYPTO_memcmp(rc.out, jsig, jsig_len) != 0)) {
            fail("%s: raw %s signature differs from libjot's", ac->label, v[i].name);
            ok = false;
        }
        /* raw's signature verifies with every raw variant, and a flipped bit with none */
        if (ok) {
            memcpy(rsig, rc.out, rc.out_len);
            rsig_len = rc.out_len;
            rc.sig = rsig;
            rc.sig_len = rsig_len;
            for (size_t k = 0; k < nv; k++) {
                rsig[rsig_len / 2] ^= 0x01;
                bool bad = v[k].verify(&rc) != 0;
                rsig[rsig_len / 2] ^= 0x01;
                if (!v[k].verify(&rc) || bad) {
                    fail("%s: raw %s verify of raw %s signature is wrong", ac->label, v[k].name,
                         v[i].name);
                    ok = false;
                }
            }
        }
        /* raw's signature as a JWS verifies with libjot (and a tampered one does not) */
        if (ok) {
            uint8_t jose[SIG_MAX];
            size_t jose_len = rsig_len;
            if (ac->fam == FAM_EC) {
                jose_len = 2 * ac->coord;
                ok = ec_der_to_jose(rsig, rsig_len, ac->coord, jose);
            } else {
                memcpy(jose, rsig, rsig_len);
            }
            size_t tlen = st->si_len + 1 + jot_b64url_encoded_len(jose_len);
            char *tok = malloc(tlen + 1);
            ok = ok && tok != NULL;
            if (ok) {
                memcpy(tok, st->token, st->si_len + 1);
                jot_b64url_encode(tok + st->si_len + 1, jose, jose_len);
                struct jot_ctx jr = {st, tok, tlen};
                if (!jot_verify_op(&jr)) {
                    fail("%s: libjot does not verify raw %s's signature", ac->label, v[i].name);
                    ok = false;
                }
                char *c = tok + st->si_len + 1 + (tlen - st->si_len - 1) / 2;
                *c = *c == 'A' ? 'B' : 'A';
                if (ok && jot_verify_op(&jr)) {
                    fail("%s: libjot accepts a tampered signature", ac->label);
                    ok = false;
                }
            }
            free(tok);
        }
    }
    raw_ctx_free(&rc);
    return ok;
}

/* ---- one algorithm: sign, verify, allocations ------------------------------------------- */

static void bench_alg(struct alg_state *st)
{
    const struct alg_case *ac = st->ac;
    const char *L = ac->label;
    struct raw_ctx rc;
    uint8_t rsig[SIG_MAX];
    size_t rsig_len = 0, nv = 0;
    const struct variant *v = variants(ac, &nv);
    struct jot_ctx jc = {st, st->token, st->token_len};
    struct bench b[3];
    char what[3][64];

    if (!raw_ctx_init(&rc, st, (const uint8_t *)st->token, st->si_len) ||
        !raw_signature(&rc, rsig, &rsig_len)) {
        fail("%s: raw set-up", L);
        raw_ctx_free(&rc);
        return;
    }
    rc.sig = rsig;
    rc.sig_len = rsig_len;

    for (int op = 0; op < 2; op++) {
        const char *opname = op == 0 ? "sign" : "verify";
        for (size_t i = 0; i < nv; i++) {
            snprintf(what[i], sizeof what[i], "raw.%s.%s.%s", L, opname, v[i].name);
            b[i] = (struct bench){what[i], op == 0 ? v[i].sign : v[i].verify, &rc, 1, 0};
        }
        snprintf(what[nv], sizeof what[nv], "jot.%s.%s", L, opname);
        b[nv] = (struct bench){what[nv], op == 0 ? jot_sign_op : jot_verify_op, &jc, 1, 0};
        fprintf(stderr, "jot_bench: %s %s\n", L, opname);
        measure(b, nv + 1);
        int best = 0;
        for (size_t i = 0; i < nv; i++) {
            if (nv > 1)
                emit(b[i].best, 0, "ops/s", "raw.%s.%s.%s", L, opname, v[i].name);
            if (b[i].best > b[best].best)
                best = (int)i;
        }
        if (op == 0)
            st->best_sign = best;
        else
            st->best_verify = best;
        double raw = b[best].best, jot = b[nv].best;
        emit(jot, 0, "ops/s", "jot.%s.%s", L, opname);
        emit(raw, 0, "ops/s", "raw.%s.%s", L, opname);
        emit(raw > 0 ? jot / raw : 0, 3, "x", "ratio.%s.%s", L, opname);
        emit(jot > 0 ? 1e9 / jot : 0, 0, "ns/op", "jot.%s.%s.ns", L, opname);
        emit(raw > 0 ? 1e9 / raw : 0, 0, "ns/op", "raw.%s.%s.ns", L, opname);
    }

    /* allocations, counted in separate untimed passes */
    double aj = 0, ao = 0;
    count_allocs("jot sign", jot_sign_op, &jc, &aj, &ao);
    emit(aj, 2, "allocs/op", "alloc.%s.sign.jot", L);
    emit(ao, 2, "allocs/op", "alloc.%s.sign.openssl", L);
    count_allocs("raw sign", v[st->best_sign].sign, &rc, &aj, &ao);
    emit(ao, 2, "allocs/op", "alloc.%s.sign.raw", L);
    count_allocs("jot verify", jot_verify_op, &jc, &aj, &ao);
    emit(aj, 2, "allocs/op", "alloc.%s.verify.jot", L);
    emit(ao, 2, "allocs/op", "alloc.%s.verify.openssl", L);
    count_allocs("raw verify", v[st->best_verify].verify, &rc, &aj, &ao);
    emit(ao, 2, "allocs/op", "alloc.%s.verify.raw", L);
    raw_ctx_free(&rc);
}

/* ---- payload-size series ---------------------------------------------------------------- */

#define NSIZES 3u
static const size_t sizes[NSIZES] = {300, 1024, 8192};

static void series_size(struct alg_state *st)
{
    const char *L = st->ac->label;
    size_t nv = 0;
    const struct variant *v = variants(st->ac, &nv);
    double ns[NSIZES] = {0};
    size_t tlen[NSIZES] = {0};
    for (size_t s = 0; s < NSIZES; s++) {
        jot_claims_t *c = make_claims_sized(sizes[s]);
        char *tok = NULL;
        size_t len = 0, si = 0, rsig_len = 0;
        uint8_t rsig[SIG_MAX];
        struct raw_ctx rc;
        memset(&rc, 0, sizeof rc);
        if (!c || !sign_token(st, c, &tok, &len, &si) ||
            !raw_ctx_init(&rc, st, (const uint8_t *)tok, si) ||
            !raw_signature(&rc, rsig, &rsig_len)) {
            fail("%s: payload %zu set-up", L, sizes[s]);
            raw_ctx_free(&rc);
            jot_free(tok);
            jot_claims_free(c);
            continue;
        }
        rc.sig = rsig;
        rc.sig_len = rsig_len;
        struct jot_ctx jc = {st, tok, len};
        struct bench b[2] = {{"raw size verify", v[st->best_verify].verify, &rc, 1, 0},
                             {"jot size verify", jot_verify_op, &jc, 1, 0}};
        fprintf(stderr, "jot_bench: %s verify, %zu-byte payload\n", L, sizes[s]);
        measure(b, 2);
        size_t payload = claims_json_len(c);
        emit(b[1].best, 0, "ops/s", "size.%s.verify.%zu", L, sizes[s]);
        emit(b[0].best, 0, "ops/s", "size.%s.verify.%zu.raw", L, sizes[s]);
        emit(b[0].best > 0 ? b[1].best / b[0].best : 0, 3, "x", "size.%s.verify.%zu.ratio", L,
             sizes[s]);
        ns[s] = b[1].best > 0 ? 1e9 / b[1].best : 0;
        tlen[s] = len;
        emit(ns[s], 0, "ns/op", "size.%s.verify.%zu.ns", L, sizes[s]);
        emit(b[0].best > 0 ? 1e9 / b[0].best : 0, 0, "ns/op", "size.%s.verify.%zu.raw.ns", L,
             sizes[s]);
        emit(b[1].best * (double)len, 0, "B/s", "size.%s.verify.%zu.bytes", L, sizes[s]);
        emit((double)payload, 0, "B", "size.%s.verify.%zu.payload", L, sizes[s]);
        emit((double)len, 0, "B", "size.%s.verify.%zu.token", L, sizes[s]);
        double aj = 0, ao = 0;
        count_allocs("jot size verify", jot_verify_op, &jc, &aj, &ao);
        emit(aj, 2, "allocs/op", "size.%s.verify.%zu.alloc.jot", L, sizes[s]);
        emit(ao, 2, "allocs/op", "size.%s.verify.%zu.alloc.openssl", L, sizes[s]);
        raw_ctx_free(&rc);
        jot_free(tok);
        jot_claims_free(c);
    }
    /* marginal cost per token byte between the smallest and the largest token */
    if (tlen[NSIZES - 1] > tlen[0] && ns[0] > 0 && ns[NSIZES - 1] > 0)
        emit((ns[NSIZES - 1] - ns[0]) / (double)(tlen[NSIZES - 1] - tlen[0]), 3, "ns/B",
             "size.%s.verify.slope", L);
}

/* ---- thread-scaling series -------------------------------------------------------------- */

/* Thread counts 1, 2, 4, ... and opt.threads itself. */
static unsigned next_threads(unsigned n)
{
    if (n >= opt.threads)
        return opt.threads + 1;
    return n * 2 > opt.threads ? opt.threads : n * 2;
}

static void series_threads(struct alg_state *st)
{
    const char *L = st->ac->label;
    size_t nv = 0;
    const struct variant *v = variants(st->ac, &nv);
    op_fn raw_fn = v[st->best_verify].verify;
    struct jot_ctx jc = {st, st->token, st->token_len};
    struct raw_ctx rcs[MAX_THREADS];
    void *jargs[MAX_THREADS], *rargs[MAX_THREADS];
    uint8_t rsig[SIG_MAX];
    size_t rsig_len = 0;
    unsigned nrc = 0;
    double one_jot = 0, one_raw = 0;

    memset(rcs, 0, sizeof rcs);
    for (unsigned i = 0; i < opt.threads; i++) {
        if (!raw_ctx_init(&rcs[i], st, (const uint8_t *)st->token, st->si_len))
            break;
        nrc++;
    }
    if (nrc == 0 || nrc < opt.threads || !raw_signature(&rcs[0], rsig, &rsig_len)) {
        fail("%s: thread set-up", L);
        goto out;
    }
    for (unsigned i = 0; i < opt.threads; i++) {
        rcs[i].sig = rsig;
        rcs[i].sig_len = rsig_len;
        jargs[i] = &jc; /* one verifier, one key, shared by every thread */
        rargs[i] = &rcs[i];
    }
    /* batch sizes from a single-threaded warm-up */
    struct bench b[2] = {{"raw thread verify", raw_fn, &rcs[0], 1, 0},
                         {"jot thread verify", jot_verify_op, &jc, 1, 0}};
    unsigned long batch[2] = {1, 1};
    if (!opt.smoke)
        for (int i = 0; i < 2; i++) {
            double r = run_for(&b[i], WARMUP_S) * BATCH_S;
            batch[i] = r < 1 ? 1 : (unsigned long)r;
        }
    for (unsigned n = 1; n <= opt.threads; n = next_threads(n)) {
        double best_raw = 0, best_jot = 0;
        fprintf(stderr, "jot_bench: %s verify, %u thread(s)\n", L, n);
        for (unsigned r = 0; r < (opt.smoke ? 1u : ROUNDS); r++) {
            double x = run_threads("raw threads", raw_fn, rargs, n, batch[0], opt.seconds / ROUNDS);
            if (x > best_raw)
                best_raw = x;
            x = run_threads("jot threads", jot_verify_op, jargs, n, batch[1], opt.seconds / ROUNDS);
            if (x > best_jot)
                best_jot = x;
        }
        if (n == 1) {
            one_jot = best_jot;
            one_raw = best_raw;
        }
        emit(best_jot, 0, "ops/s", "threads.%s.verify.%u", L, n);
        emit(best_raw, 0, "ops/s", "threads.%s.verify.%u.raw", L, n);
        if (n > 1) {
            emit(one_jot > 0 ? best_jot / one_jot : 0, 3, "x", "scale.%s.verify.%u", L, n);
            emit(one_raw > 0 ? best_raw / one_raw : 0, 3, "x", "scale.%s.verify.%u.raw", L, n);
        }
    }
out:
    for (unsigned i = 0; i < nrc; i++)
        raw_ctx_free(&rcs[i]);
}

/* ---- header and table ------------------------------------------------------------------- */

static void cpu_model(char *out, size_t cap)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, cap, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *p = strchr(line, ':');
        if (!p)
            break;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, "\n");
        snprintf(out, cap, "%.*s", (int)n, p);
        break;
    }
    fclose(f);
}

static void print_header(size_t payload)
{
    char cpu[200], date[32];
    time_t t = time(NULL);
    struct tm tm;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_model(cpu, sizeof cpu);
    if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(date, sizeof date, "unknown");
    printf("# jot_bench: libjot %d.%d.%d vs the raw OpenSSL primitive, same process, same keys,"
           " same signing input\n",
           jot_version_number() / 10000, jot_version_number() / 100 % 100,
           jot_version_number() % 100);
    printf("# openssl: %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("# cpu: %s (%ld online)\n", cpu, ncpu);
    printf("# date: %s\n", date);
    printf("# method: per figure %.2f s in %d interleaved rounds (raw, jot, raw, jot, ...) after "
           "a %.1f s warm-up; best round reported%s\n",
           opt.seconds, ROUNDS, WARMUP_S,
           opt.smoke ? "; SMOKE RUN: one op per figure, rates "
                       "are meaningless"
                     : "");
    printf("# format: name value unit; the human table follows the first empty line\n");
    emit(opt.seconds, 2, "s", "meta.seconds");
    emit(ROUNDS, 0, "rounds", "meta.rounds");
    emit((double)ncpu, 0, "cpus", "meta.cpus");
    emit(opt.threads, 0, "threads", "meta.threads_max");
    emit((double)payload, 0, "B", "meta.payload");
    emit(opt.smoke ? 1 : 0, 0, "bool", "meta.smoke");
}

static void print_table(void)
{
    printf("\n# libjot vs raw OpenSSL (ops/s, best of %d rounds; ratio = libjot / raw; target: "
           "HS* >= 0.50, others >= 0.95)\n",
           ROUNDS);
    printf("# %-7s %-6s %11s %11s %7s %-6s %9s %9s %9s\n", "alg", "op", "libjot", "raw", "ratio",
           "target", "alloc.jot", "alloc.ssl", "alloc.raw");
    for (size_t i = 0; i < NCASES; i++) {
        const char *L = cases[i].label;
        if (isnan(get("jot.%s.sign", L)))
            continue;
        for (int op = 0; op < 2; op++) {
            const char *o = op == 0 ? "sign" : "verify";
            double ratio = get("ratio.%s.%s", L, o);
            printf("# %-7s %-6s %11.0f %11.0f %7.3f %-6s %9.2f %9.2f %9.2f\n", L, o,
                   get("jot.%s.%s", L, o), get("raw.%s.%s", L, o), ratio,
                   ratio >= target_ratio(&cases[i]) ? "met" : "BELOW", get("alloc.%s.%s.jot", L, o),
                   get("alloc.%s.%s.openssl", L, o), get("alloc.%s.%s.raw", L, o));
        }
    }
    printf("# alloc.jot: through libjot's allocator (libjot + jansson); alloc.ssl: OpenSSL's, "
           "inside the libjot call; alloc.raw: OpenSSL's, in the raw op\n");
    bool hdr = false;
    for (size_t i = 0; i < NCASES; i++) {
        const char *L = cases[i].label;
        for (size_t s = 0; s < NSIZES; s++) {
            double jot = get("size.%s.verify.%zu", L, sizes[s]);
            if (isnan(jot))
                continue;
            if (!hdr) {
                printf("#\n# verify vs payload size\n# %-7s %7s %7s %11s %11s %7s %9s %11s %9s "
                       "%9s\n",
                       "alg", "payload", "token", "libjot", "raw", "ratio", "ns/op", "MB/s",
                       "alloc.jot", "alloc.ssl");
                hdr = true;
            }
            printf("# %-7s %7.0f %7.0f %11.0f %11.0f %7.3f %9.0f %11.1f %9.2f %9.2f\n", L,
                   get("size.%s.verify.%zu.payload", L, sizes[s]),
                   get("size.%s.verify.%zu.token", L, sizes[s]), jot,
                   get("size.%s.verify.%zu.raw", L, sizes[s]),
                   get("size.%s.verify.%zu.ratio", L, sizes[s]),
                   get("size.%s.verify.%zu.ns", L, sizes[s]),
                   get("size.%s.verify.%zu.bytes", L, sizes[s]) / 1e6,
                   get("size.%s.verify.%zu.alloc.jot", L, sizes[s]),
                   get("size.%s.verify.%zu.alloc.openssl", L, sizes[s]));
        }
    }
    hdr = false;
    for (size_t i = 0; i < NCASES; i++) {
        const char *L = cases[i].label;
        for (unsigned n = 1; n <= opt.threads; n++) {
            double jot = get("threads.%s.verify.%u", L, n);
            if (isnan(jot))
                continue;
            if (!hdr) {
                printf("#\n# verify, threads sharing one verifier and key\n"
                       "# %-7s %7s %11s %11s %9s %9s\n",
                       "alg", "threads", "libjot", "raw", "scale", "scale.raw");
                hdr = true;
            }
            printf("# %-7s %7u %11.0f %11.0f %9.2f %9.2f\n", L, n, jot,
                   get("threads.%s.verify.%u.raw", L, n),
                   n > 1 ? get("scale.%s.verify.%u", L, n) : 1.0,
                   n > 1 ? get("scale.%s.verify.%u.raw", L, n) : 1.0);
        }
    }
    printf("#\n# %s\n", g_failures ? "FAILED: see stderr" : "all correctness guards passed");
}

/* ---- remote key set: warm remote vs local, and an unknown-kid flood ---------------------- */

/* A loopback HTTP server for the remote key set: one thread, one fixed answer (the JWKS),
 * Connection: close. Counts requests. */
struct mini_httpd {
    int fd;
    unsigned short port;
    pthread_t th;
    char *resp;
    size_t resp_len;
    _Atomic unsigned requests;
};

static void *mini_main(void *arg)
{
    struct mini_httpd *h = arg;
    for (;;) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0)
            return NULL; /* shut down */
        char buf[4096];
        size_t got = 0;
        while (got < sizeof buf - 1) { /* the request head, then the answer */
            ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        h->requests++;
        size_t off = 0;
        while (off < h->resp_len) {
            ssize_t n = write(c, h->resp + off, h->resp_len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        close(c);
    }
}

/* The answer: \p body as \p ctype. Only while no request is being served. */
static bool mini_set(struct mini_httpd *h, const char *body, const char *ctype)
{
    const char *jwks = body;
    size_t jl = strlen(jwks);
    free(h->resp);
    h->resp = malloc(jl + 256);
    if (!h->resp)
        return false;
    int n = snprintf(h->resp, jl + 256,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                     "Cache-Control: max-age=3600\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     ctype, jl, jwks);
    h->resp_len = (size_t)n;
    return true;
}

static bool mini_start_as(struct mini_httpd *h, const char *body, const char *ctype)
{
    memset(h, 0, sizeof *h);
    if (!mini_set(h, body, ctype))
        return false;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(h->fd, 64) != 0 || getsockname(h->fd, (struct sockaddr *)&sa, &sl) != 0 ||
        pthread_create(&h->th, NULL, mini_main, h) != 0) {
        if (h->fd >= 0)
            close(h->fd);
        free(h->resp);
        return false;
    }
    h->port = ntohs(sa.sin_port);
    return true;
}

static bool mini_start(struct mini_httpd *h, const char *jwks)
{
    return mini_start_as(h, jwks, "application/jwk-set+json");
}

static void mini_stop(struct mini_httpd *h)
{
    shutdown(h->fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(h->th, NULL);
    close(h->fd);
    free(h->resp);
}

struct remote_ctx {
    const jot_verifier_t *v;
    const char *tok;
    size_t len;
};

static int remote_verify_op(void *arg)
{
    const struct remote_ctx *rc = arg;
    jot_token_t *t = NULL;
    const char *sub = NULL;
    int ok = jot_verify(rc->v, rc->tok, rc->len, &t) == JOT_OK &&
             jot_claims_get_string(jot_token_claims(t), "sub", &sub) == JOT_OK && sub[0] != '\0';
    jot_token_free(t);
    return ok;
}

static jot_verifier_t *remote_policy(jot_alg_t alg)
{
    jot_verifier_t *v = NULL;
    if (jot_verifier_new(&v) != JOT_OK)
        return NULL;
    jot_verifier_set_algs(v, JOT_ALG_BIT(alg));
    if (jot_verifier_set_issuer(v, ISS) != JOT_OK || jot_verifier_add_audience(v, AUD) != JOT_OK) {
        jot_verifier_free(v);
        return NULL;
    }
    return v;
}

static jot_remote_keyset_t *remote_new(unsigned short port, int64_t cooldown_s)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/jwks", (unsigned)port);
    jot_remote_opts_t o;
    jot_remote_opts_init(&o);
    o.allow_http = 1;
    o.cooldown_s = cooldown_s;
    jot_remote_keyset_t *rk = NULL;
    return jot_remote_keyset_new(url, &o, &rk) == JOT_OK ? rk : NULL;
}

/* Verify through a warm remote key set and through a local key set made from the same
 * JWKS, interleaved in the same run. */
static void remote_vs_local(const char *L, jot_alg_t alg, jot_key_t *key, struct mini_httpd *h,
                            const char *jwks)
{
    jot_keyset_t *local = NULL;
    jot_remote_keyset_t *rk = remote_new(h->port, 30);
    jot_verifier_t *vl = remote_policy(alg), *vr = remote_policy(alg);
    jot_claims_t *c = make_claims(0);
    char *tok = NULL;
    size_t len = 0;
    jot_sign_opts_t so = {alg, "bench-1", NULL};
    if (!rk || !vl || !vr || !c || jot_keyset_from_jwks(jwks, strlen(jwks), &local) != JOT_OK ||
        jot_jwt_sign(key, &so, c, &tok, &len) != JOT_OK ||
        jot_remote_keyset_refresh(rk) != JOT_OK) {
        fail("remote %s: set-up", L);
    } else {
        jot_verifier_set_keyset(vl, local);
        jot_verifier_set_remote_keyset(vr, rk);
        struct remote_ctx cl = {vl, tok, len}, cr = {vr, tok, len};
        char wl[64], wr[64];
        snprintf(wl, sizeof wl, "remote.%s.verify.local", L);
        snprintf(wr, sizeof wr, "remote.%s.verify.remote", L);
        struct bench b[2] = {{wl, remote_verify_op, &cl, 1, 0}, {wr, remote_verify_op, &cr, 1, 0}};
        fprintf(stderr, "jot_bench: remote key set %s\n", L);
        measure(b, 2);
        emit(b[0].best, 0, "ops/s", "remote.%s.verify.local", L);
        emit(b[1].best, 0, "ops/s", "remote.%s.verify.remote", L);
        emit(b[0].best > 0 ? b[1].best / b[0].best : 0, 3, "x", "ratio.remote.%s.verify", L);
        emit((double)jot_remote_keyset_fetches(rk), 0, "fetches", "remote.%s.fetches", L);
    }
    jot_free(tok);
    jot_claims_free(c);
    jot_verifier_free(vl);
    jot_verifier_free(vr);
    jot_remote_keyset_free(rk);
    jot_keyset_free(local);
}

/* A Status List Token for \p uri: 1,000 entries of 1 bit, all VALID, ttl 3600. */
static char *status_list_token(const jot_key_t *key, const char *uri)
{
    /* zlib of 125 zero bytes, made once by zlib.compress(bytes(125), 9) */
    static const char lst[] = "eNpjYBhAAAAAfQAB";
    char sl[128];
    snprintf(sl, sizeof sl, "{\"bits\":1,\"lst\":\"%s\"}", lst);
    jot_claims_t *c = NULL;
    char *tok = NULL;
    jot_sign_opts_t so = {JOT_ALG_ES256, "bench-1", "statuslist+jwt"};
    if (jot_claims_new(&c) == JOT_OK && jot_claims_set_string(c, "sub", uri) == JOT_OK &&
        jot_claims_set_int(c, "iat", (int64_t)time(NULL)) == JOT_OK &&
        jot_claims_set_int(c, "ttl", 3600) == JOT_OK &&
        jot_claims_set_json(c, "status_list", sl, strlen(sl)) == JOT_OK &&
        jot_jwt_sign(key, &so, c, &tok, NULL) != JOT_OK)
        tok = NULL;
    jot_claims_free(c);
    return tok;
}

/* Verify with a local key set (no status) vs a warm remote key set with the status check
 * on (a cached list): the cost of both together. */
static void remote_status_vs_local(jot_key_t *key, struct mini_httpd *h, const char *jwks)
{
    struct mini_httpd hs;
    char uri[96], prefix[64];
    jot_keyset_t *local = NULL;
    jot_remote_keyset_t *rk = remote_new(h->port, 30);
    jot_verifier_t *vl = remote_policy(JOT_ALG_ES256), *vr = remote_policy(JOT_ALG_ES256);
    jot_status_checker_t *sc = NULL;
    jot_claims_t *c = make_claims(0);
    char *tok = NULL, *list = NULL;
    size_t len = 0;
    jot_sign_opts_t so = {JOT_ALG_ES256, "bench-1", NULL};
    bool served = false;
    bool ok = rk && vl && vr && c && jot_keyset_from_jwks(jwks, strlen(jwks), &local) == JOT_OK;
    /* the list names its own URI, which has the port: start, then set the answer (before
     * any request reaches the server) */
    if (ok && (ok = mini_start_as(&hs, "-", "application/statuslist+jwt"))) {
        served = true;
        snprintf(prefix, sizeof prefix, "http://127.0.0.1:%u/", (unsigned)hs.port);
        snprintf(uri, sizeof uri, "%sstatuslists/1", prefix);
        list = status_list_token(key, uri);
        ok = list && mini_set(&hs, list, "application/statuslist+jwt");
    }
    char status[160];
    snprintf(status, sizeof status, "{\"status_list\":{\"idx\":5,\"uri\":\"%s\"}}", uri);
    jot_status_opts_t so2;
    jot_status_opts_init(&so2);
    so2.fetch.allow_http = 1;
    so2.uri_prefix = prefix;
    so2.alg_mask = JOT_ALG_BIT(JOT_ALG_ES256);
    if (!ok || jot_claims_set_json(c, "status", status, strlen(status)) != JOT_OK ||
        jot_jwt_sign(key, &so, c, &tok, &len) != JOT_OK ||
        jot_status_checker_new(&so2, NULL, rk, &sc) != JOT_OK) {
        fail("remote status: set-up");
    } else {
        jot_verifier_set_keyset(vl, local);
        jot_verifier_set_remote_keyset(vr, rk);
        jot_verifier_set_status_checker(vr, sc);
        struct remote_ctx cl = {vl, tok, len}, cr = {vr, tok, len};
        struct bench b[2] = {{"remote.status.local", remote_verify_op, &cl, 1, 0},
                             {"remote.status.remote", remote_verify_op, &cr, 1, 0}};
        fprintf(stderr, "jot_bench: remote key set + status check ES256\n");
        if (!remote_verify_op(&cr)) {
            fail("remote status: the first verification failed");
        } else {
            measure(b, 2);
            emit(b[0].best, 0, "ops/s", "remote.ES256.verify.local_nostatus");
            emit(b[1].best, 0, "ops/s", "remote.ES256.verify.remote_status");
            emit(b[0].best > 0 ? b[1].best / b[0].best : 0, 3, "x",
                 "ratio.remote.ES256.verify_status");
            emit((double)jot_status_checker_fetches(sc), 0, "fetches", "remote.status.fetches");
        }
    }
    jot_verifier_free(vl);
    jot_verifier_free(vr);
    jot_status_checker_free(sc);
    if (served)
        mini_stop(&hs);
    jot_free(tok);
    jot_free(list);
    jot_claims_free(c);
    jot_remote_keyset_free(rk);
    jot_keyset_free(local);
}

/* FLOOD_TOKENS tokens with random kids against a remote set: at most one fetch per cooldown.
 * Cold (the default 30 s cooldown, the flood starts the first fetch) and warm past a 1 s
 * cooldown (the bound then grows with the flood's duration). */
#define FLOOD_TOKENS 10000u
static void remote_flood(jot_key_t *key, struct mini_httpd *h)
{
    unsigned n = opt.smoke ? 20u : FLOOD_TOKENS;
    char **toks = calloc(n, sizeof *toks);
    size_t *lens = calloc(n, sizeof *lens);
    jot_claims_t *c = make_claims(0);
    bool ok = toks && lens && c;
    for (unsigned i = 0; ok && i < n; i++) {
        uint8_t rnd[12];
        char kid[32];
        ok = RAND_bytes(rnd, sizeof rnd) == 1;
        for (size_t j = 0; j < sizeof rnd; j++)
            snprintf(kid + 2 * j, 3, "%02x", rnd[j]);
        jot_sign_opts_t so = {JOT_ALG_ES256, kid, NULL};
        ok = ok && jot_jwt_sign(key, &so, c, &toks[i], &lens[i]) == JOT_OK;
    }
    for (int pass = 0; ok && pass < 2; pass++) {
        int64_t cooldown = pass == 0 ? 30 : 1;
        const char *L = pass == 0 ? "cold" : "warm";
        jot_remote_keyset_t *rk = remote_new(h->port, cooldown);
        jot_verifier_t *v = remote_policy(JOT_ALG_ES256);
        ok = rk && v;
        if (ok && pass == 1) { /* warm, and past the cooldown of that first fetch */
            ok = jot_remote_keyset_refresh(rk) == JOT_OK;
            struct timespec ts = {1, 100000000L};
            nanosleep(&ts, NULL);
        }
        if (ok) {
            jot_verifier_set_remote_keyset(v, rk);
            uint64_t before = jot_remote_keyset_fetches(rk);
            unsigned wrong = 0;
            double t0 = now_s();
            for (unsigned i = 0; i < n; i++)
                wrong += jot_verify(v, toks[i], lens[i], NULL) != JOT_E_KEY_NOT_FOUND;
            double el = now_s() - t0;
            uint64_t during = jot_remote_keyset_fetches(rk) - before;
            double windows = ceil(el / (double)cooldown);
            if (wrong)
                fail("remote flood %s: %u tokens not refused as JOT_E_KEY_NOT_FOUND", L, wrong);
            if ((double)during > (windows < 1 ? 1 : windows))
                fail("remote flood %s: %llu fetches in %.3f s (cooldown %lld s)", L,
                     (unsigned long long)during, el, (long long)cooldown);
            emit(n, 0, "tokens", "remote.flood.%s.tokens", L);
            emit((double)during, 0, "fetches", "remote.flood.%s.fetches", L);
            emit(el, 3, "s", "remote.flood.%s.seconds", L);
            emit((double)cooldown, 0, "s", "remote.flood.%s.cooldown", L);
        }
        jot_verifier_free(v);
        jot_remote_keyset_free(rk);
    }
    if (!ok)
        fail("remote flood: set-up");
    for (unsigned i = 0; toks && i < n; i++)
        jot_free(toks[i]);
    free(toks);
    free(lens);
    jot_claims_free(c);
}

static void bench_remote(void)
{
    jot_key_t *es = NULL, *ed = NULL, *pes = NULL, *ped = NULL;
    jot_keyset_t *pub = NULL;
    char *jwks = NULL;
    struct mini_httpd h;
    bool ok = jot_key_generate(JOT_ALG_ES256, 0, &es) == JOT_OK &&
              jot_key_generate(JOT_ALG_EDDSA, 0, &ed) == JOT_OK &&
              jot_key_set_kid(es, "bench-1") == JOT_OK && jot_key_public(es, &pes) == JOT_OK &&
              jot_key_public(ed, &ped) == JOT_OK && jot_key_set_kid(ped, "bench-1") == JOT_OK &&
              jot_keyset_new(&pub) == JOT_OK;
    /* two sets of one key each, both kid "bench-1": the ES256 one and the EdDSA one */
    char *jwks_ed = NULL;
    jot_keyset_t *pub_ed = NULL;
    if (ok && jot_keyset_add(pub, pes) == JOT_OK) {
        pes = NULL;
        ok = jot_keyset_to_jwks(pub, JOT_JWK_PUBLIC, &jwks, NULL) == JOT_OK &&
             jot_keyset_new(&pub_ed) == JOT_OK && jot_keyset_add(pub_ed, ped) == JOT_OK;
        if (ok)
            ped = NULL;
        ok = ok && jot_keyset_to_jwks(pub_ed, JOT_JWK_PUBLIC, &jwks_ed, NULL) == JOT_OK;
    } else {
        ok = false;
    }
    if (ok && mini_start(&h, jwks)) {
        remote_vs_local("ES256", JOT_ALG_ES256, es, &h, jwks);
        remote_status_vs_local(es, &h, jwks);
        remote_flood(es, &h);
        emit(h.requests, 0, "requests", "remote.server.requests");
        mini_stop(&h);
        if (jot_key_set_kid(ed, "bench-1") == JOT_OK && mini_start(&h, jwks_ed)) {
            remote_vs_local("EdDSA", JOT_ALG_EDDSA, ed, &h, jwks_ed);
            mini_stop(&h);
        } else {
            fail("remote EdDSA: set-up");
        }
    } else {
        fail("remote: set-up (keys, server)");
    }
    jot_free(jwks);
    jot_free(jwks_ed);
    jot_keyset_free(pub);
    jot_keyset_free(pub_ed);
    jot_key_free(pes);
    jot_key_free(ped);
    jot_key_free(es);
    jot_key_free(ed);
}

static void print_remote_table(void)
{
    if (isnan(get("ratio.remote.ES256.verify")))
        return;
    printf("#\n# verify through a warm remote key set vs a local key set (ops/s, same run; "
           "target >= 0.97)\n# %-7s %11s %11s %7s %-6s\n",
           "alg", "local", "remote", "ratio", "target");
    static const char *const algs[] = {"ES256", "EdDSA"};
    for (size_t i = 0; i < 2; i++) {
        double r = get("ratio.remote.%s.verify", algs[i]);
        if (isnan(r))
            continue;
        printf("# %-7s %11.0f %11.0f %7.3f %-6s\n", algs[i], get("remote.%s.verify.local", algs[i]),
               get("remote.%s.verify.remote", algs[i]), r, r >= 0.97 ? "met" : "BELOW");
    }
    double rs = get("ratio.remote.ES256.verify_status");
    if (!isnan(rs))
        printf("# ES256, remote key set + status check vs local key set: %11.0f %11.0f %7.3f %-6s "
               "(target >= 0.95)\n",
               get("remote.ES256.verify.local_nostatus"), get("remote.ES256.verify.remote_status"),
               rs, rs >= 0.95 ? "met" : "BELOW");
    printf("# unknown-kid flood: %.0f random kids, cold (cooldown 30 s): %.0f fetch(es) in %.3f s; "
           "warm (cooldown 1 s): %.0f fetch(es) in %.3f s\n",
           get("remote.flood.cold.tokens"), get("remote.flood.cold.fetches"),
           get("remote.flood.cold.seconds"), get("remote.flood.warm.fetches"),
           get("remote.flood.warm.seconds"));
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: jot_bench [--seconds S] [--smoke] [--only ALG[,ALG...]] [--threads N]\n"
          "                 [--no-series]\n"
          "  --seconds S   time per figure (default 1), split over 3 interleaved rounds\n"
          "  --smoke       one operation per figure: a test that every path works\n"
          "  --only LIST   algorithms, e.g. HS256,ES256,EdDSA,Ed448; 'remote' for the remote\n"
          "                key set (warm remote vs local verify, unknown-kid flood)\n"
          "  --threads N   largest thread count of the scaling series (default 2)\n"
          "  --no-series   skip the payload-size and thread-scaling series\n",
          f);
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10u + (unsigned)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 3600)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    /* Before any other OpenSSL call: afterwards OpenSSL refuses a new allocator. */
    if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1) {
        fprintf(stderr, "jot_bench: CRYPTO_set_mem_functions failed\n");
        return 1;
    }
    jot_set_allocator(count_malloc, count_realloc, count_free);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--smoke") == 0) {
            opt.smoke = true;
        } else if (strcmp(a, "--no-series") == 0) {
            opt.series = false;
        } else if (strcmp(a, "--seconds") == 0 && val && parse_seconds(val, &opt.seconds)) {
            i++;
        } else if (strcmp(a, "--threads") == 0 && val &&
                   parse_uint(val, MAX_THREADS, &opt.threads) && opt.threads > 0) {
            i++;
        } else if (strcmp(a, "--only") == 0 && val) {
            opt.only = val;
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "jot_bench: bad argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (opt.only) {
        bool any = false;
        for (size_t i = 0; i < NCASES; i++)
            any |= selected(cases[i].label);
        any |= selected("remote");
        if (!any) {
            fprintf(stderr, "jot_bench: --only %s: no such algorithm\n", opt.only);
            return 2;
        }
    }

    jot_claims_t *base = make_claims(0);
    if (!base) {
        fprintf(stderr, "jot_bench: cannot build the claim set\n");
        return 1;
    }
    print_header(claims_json_len(base));
    jot_claims_free(base);

    static struct alg_state states[NCASES];
    bool ready[NCASES] = {false};
    for (size_t i = 0; i < NCASES; i++) {
        if (!selected(cases[i].label))
            continue;
        fprintf(stderr, "jot_bench: %s: keys and guard\n", cases[i].label);
        if (!alg_state_init(&states[i], &cases[i])) {
            fail("%s: set-up (keys, verifier, token) failed", cases[i].label);
            continue;
        }
        if (!guard(&states[i]))
            continue;
        ready[i] = true;
        bench_alg(&states[i]);
    }
    if (opt.series) {
        static const char *const size_algs[] = {"HS256", "ES256", "EdDSA"};
        static const char *const thread_algs[] = {"HS256", "ES256", "EdDSA", "RS256"};
        for (size_t k = 0; k < sizeof size_algs / sizeof size_algs[0]; k++)
            for (size_t i = 0; i < NCASES; i++)
                if (ready[i] && strcmp(cases[i].label, size_algs[k]) == 0)
                    series_size(&states[i]);
        for (size_t k = 0; k < sizeof thread_algs / sizeof thread_algs[0]; k++)
            for (size_t i = 0; i < NCASES; i++)
                if (ready[i] && strcmp(cases[i].label, thread_algs[k]) == 0)
                    series_threads(&states[i]);
    }
    if (selected("remote"))
        bench_remote();
    print_table();
    print_remote_table();
    for (size_t i = 0; i < NCASES; i++)
        alg_state_free(&states[i]);
    if (g_failures)
        fprintf(stderr, "jot_bench: %d failure(s)\n", g_failures);
    return g_failures ? 1 : 0;
}
