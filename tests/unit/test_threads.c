/* Thread safety of libjot: the header promises that keys, key sets and verifiers are
 * immutable once configured and may be used by any number of threads at once. Here 4
 * threads sign and verify at the same time with the SAME objects:
 *   - one private jot_key_t per algorithm (HS256, ES256, RS256, EdDSA) signs;
 *   - one jot_keyset_t (the public JWKS of those keys, plus the HMAC key) and one
 *     jot_verifier_t over it verify, finding the key by kid;
 *   - one jot_verifier_t per algorithm bound to a single key verifies too, with every claim
 *     check configured (iss, aud, sub pattern via required claims, typ, max age, leeway);
 *   - the shared objects are also read concurrently (JWK export, thumbprint, kid lookup).
 * Every result is checked: the claims that come back are the ones the same thread signed,
 * a tampered token is rejected with JOT_E_SIGNATURE, a token signed with a key outside the
 * set is rejected, an expired token is rejected with JOT_E_EXPIRED.
 *
 * Built normally it is a functional test; built with -DJOT_SANITIZE=thread (`make tsan`)
 * ThreadSanitizer reports any data race on libjot's side. JOT_THREADS_ITERATIONS overrides
 * the number of iterations per thread (default 350). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include <pthread.h>

#include <jot/jot.h>

/* More threads than a key keeps prepared OpenSSL contexts for (JOT_POOL_SLOTS, 8, in
 * lib/internal.h): contexts are then also made when the pool is empty and freed when it is
 * full, under contention (lib/pool.c). */
#define N_THREADS 12
#define N_ALGS 4
#define NOW ((int64_t)1700000000)
#define ISSUER "https://issuer.threads.test"

static const jot_alg_t algs[N_ALGS] = {JOT_ALG_HS256, JOT_ALG_ES256, JOT_ALG_RS256, JOT_ALG_EDDSA};

/* The shared objects, created before any thread starts and freed after all have ended. */
static jot_key_t *sign_keys[N_ALGS];         /* private */
static jot_key_t *verify_keys[N_ALGS];       /* public (the HMAC key itself for HS256) */
static jot_keyset_t *keyset;                 /* public keys + the HMAC key, by kid */
static jot_verifier_t *set_verifier;         /* over keyset, all four algorithms */
static jot_verifier_t *one_verifier[N_ALGS]; /* one key each, full claim checks */
static jot_key_t *stranger;                  /* an ES256 key outside the set */
static char *reference_jwk[N_ALGS]; /* public (or secret) JWK of each key, for comparison */
static char reference_tp[N_ALGS][44];

static long iterations = 350;

/* ---- failures from threads: counted, the first few kept ------------------------------------ */

static atomic_long n_failures;
static atomic_long n_checks;
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char messages[4096];

static void thread_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void thread_fail(const char *fmt, ...)
{
    long n = atomic_fetch_add(&n_failures, 1);
    if (n >= 10)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&msg_lock);
    size_t used = strlen(messages);
    snprintf(messages + used, sizeof messages - used, "%s\n", line);
    pthread_mutex_unlock(&msg_lock);
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        atomic_fetch_add(&n_checks, 1);                                                            \
        if (!(cond))                                                                               \
            thread_fail(__VA_ARGS__);                                                              \
    } while (0)

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return NOW;
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static void configure(jot_verifier_t *v, unsigned mask)
{
    jot_verifier_set_algs(v, mask);
    jot_verifier_set_clock(v, fixed_clock, NULL);
    jot_verifier_set_leeway(v, 5);
    jot_verifier_set_max_age(v, 3600);
    assert_int_equal(jot_verifier_set_issuer(v, ISSUER), JOT_OK);
    assert_int_equal(jot_verifier_add_audience(v, "api"), JOT_OK);
    assert_int_equal(jot_verifier_set_typ(v, "at+jwt"), JOT_OK);
    assert_int_equal(jot_verifier_require_claim(v, "jti"), JOT_OK);
    assert_int_equal(jot_verifier_require_claim(v, "n"), JOT_OK);
}

static int setup(void **state)
{
    (void)state;
    const char *it = getenv("JOT_THREADS_ITERATIONS");
    if (it && *it) {
        char *end = NULL;
        long n = strtol(it, &end, 10);
        if (end && *end == '\0' && n > 0 && n <= 1000000)
            iterations = n;
    }
    assert_int_equal(jot_keyset_new(&keyset), JOT_OK);
    unsigned mask = 0;
    for (size_t i = 0; i < N_ALGS; i++) {
        assert_int_equal(jot_key_generate(algs[i], 0, &sign_keys[i]), JOT_OK);
        if (algs[i] == JOT_ALG_HS256) {
            char *jwk = NULL;
            assert_int_equal(jot_key_to_jwk(sign_keys[i], JOT_JWK_PRIVATE, &jwk, NULL), JOT_OK);
            assert_int_equal(jot_key_from_jwk(jwk, strlen(jwk), &verify_keys[i]), JOT_OK);
            jot_free(jwk);
        } else {
            assert_int_equal(jot_key_public(sign_keys[i], &verify_keys[i]), JOT_OK);
        }
        /* the set gets its own copy (it owns its keys) */
        jot_key_t *copy = NULL;
        char *jwk = NULL;
        unsigned fl = algs[i] == JOT_ALG_HS256 ? JOT_JWK_PRIVATE : JOT_JWK_PUBLIC;
        assert_int_equal(jot_key_to_jwk(verify_keys[i], fl, &jwk, NULL), JOT_OK);
        reference_jwk[i] = jwk;
        assert_int_equal(jot_key_thumbprint(verify_keys[i], reference_tp[i]), JOT_OK);
        assert_int_equal(jot_key_from_jwk(jwk, strlen(jwk), &copy), JOT_OK);
        assert_int_equal(jot_keyset_add(keyset, copy), JOT_OK);
        mask |= JOT_ALG_BIT(algs[i]);

        assert_int_equal(jot_verifier_new(&one_verifier[i]), JOT_OK);
        jot_verifier_set_key(one_verifier[i], verify_keys[i]);
        configure(one_verifier[i], JOT_ALG_BIT(algs[i]));
    }
    assert_int_equal(jot_verifier_new(&set_verifier), JOT_OK);
    jot_verifier_set_keyset(set_verifier, keyset);
    configure(set_verifier, mask);
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &stranger), JOT_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jot_verifier_free(set_verifier);
    for (size_t i = 0; i < N_ALGS; i++) {
        jot_verifier_free(one_verifier[i]);
        jot_key_free(sign_keys[i]);
        jot_key_free(verify_keys[i]);
        jot_free(reference_jwk[i]);
    }
    jot_keyset_free(keyset);
    jot_key_free(stranger);
    return 0;
}

/* ---- the work of one thread ------------------------------------------------------------------ */

static char *make_token(const jot_key_t *key, jot_alg_t alg, const char *sub, int64_t iat,
                        int64_t exp, long n)
{
    jot_claims_t *c = NULL;
    char *tok = NULL;
    static const char *const aud[] = {"api", "web"};
    jot_err_t rc = jot_claims_new(&c);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "iss", ISSUER);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "sub", sub);
    if (rc == JOT_OK)
        rc = jot_claims_set_strings(c, "aud", aud, 2);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "iat", iat);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "exp", exp);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "jti", sub);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "n", n);
    if (rc == JOT_OK) {
        jot_sign_opts_t o = {.alg = alg, .typ = "at+jwt"};
        rc = jot_jwt_sign(key, &o, c, &tok, NULL);
    }
    jot_claims_free(c);
    CHECK(rc == JOT_OK, "sign %s (%s): %s", jot_alg_name(alg), sub, jot_err_name(rc));
    return rc == JOT_OK ? tok : NULL;
}

/* Verify \p tok with \p v; on success the claims must be the ones signed. */
static void expect_valid(const jot_verifier_t *v, const char *tok, const char *sub, long n,
                         const char *what)
{
    jot_token_t *t = NULL;
    jot_err_t rc = jot_verify(v, tok, strlen(tok), &t);
    CHECK(rc == JOT_OK, "%s: verify %s: %s", what, sub, jot_err_name(rc));
    if (rc != JOT_OK)
        return;
    const char *got = NULL;
    int64_t got_n = -1;
    const jot_claims_t *c = jot_token_claims(t);
    CHECK(c && jot_claims_get_string(c, "sub", &got) == JOT_OK && strcmp(got, sub) == 0,
          "%s: wrong sub: got %s, want %s", what, got ? got : "(none)", sub);
    CHECK(c && jot_claims_get_int(c, "n", &got_n) == JOT_OK && got_n == n,
          "%s: wrong n: got %lld, want %ld", what, (long long)got_n, n);
    jot_token_free(t);
}

static void expect_rejected(const jot_verifier_t *v, const char *tok, jot_err_t want,
                            jot_err_t also_ok, const char *what)
{
    jot_token_t *t = NULL;
    jot_err_t rc = jot_verify(v, tok, strlen(tok), &t);
    CHECK(rc == want || rc == also_ok, "%s: got %s, want %s", what, jot_err_name(rc),
          jot_err_name(want));
    CHECK(t == NULL, "%s: a token object was returned for a rejected token", what);
    jot_token_free(t);
}

typedef struct worker {
    int id;
    pthread_t thread;
} worker_t;

static void *work(void *arg)
{
    const worker_t *w = arg;
    char sub[64];
    for (long i = 0; i < iterations; i++) {
        size_t a = (size_t)(i + w->id) % N_ALGS;
        const char *name = jot_alg_name(algs[a]);
        snprintf(sub, sizeof sub, "t%d-%ld-%s", w->id, i, name);
        long n = (long)w->id * 1000000 + i;
        char *tok = make_token(sign_keys[a], algs[a], sub, NOW - 10, NOW + 600, n);
        if (!tok)
            continue;
        expect_valid(set_verifier, tok, sub, n, "keyset verifier");
        expect_valid(one_verifier[a], tok, sub, n, name);

        /* one flipped bit in the signature */
        size_t len = strlen(tok);
        tok[len - 3] = tok[len - 3] == 'A' ? 'B' : 'A';
        expect_rejected(set_verifier, tok, JOT_E_SIGNATURE, JOT_E_SIGNATURE, "tampered (set)");
        expect_rejected(one_verifier[a], tok, JOT_E_SIGNATURE, JOT_E_SIGNATURE, "tampered (one)");
        jot_free(tok);

        /* the algorithm of another verifier: not allowed there */
        size_t other = (a + 1) % N_ALGS;
        tok = make_token(sign_keys[a], algs[a], sub, NOW - 10, NOW + 600, n);
        if (tok) {
            expect_rejected(one_verifier[other], tok, JOT_E_ALG_NOT_ALLOWED, JOT_E_KEY_MISMATCH,
                            "wrong verifier");
            jot_free(tok);
        }

        /* expired (beyond the leeway) */
        if (i % 4 == 0) {
            tok = make_token(sign_keys[a], algs[a], sub, NOW - 1000, NOW - 100, n);
            if (tok) {
                expect_rejected(set_verifier, tok, JOT_E_EXPIRED, JOT_E_EXPIRED, "expired");
                /* the detail is the caller's: shared verifier, one answer per call */
                jot_verify_detail_t d;
                jot_err_t rc = jot_verify_ex(set_verifier, tok, strlen(tok), NULL, &d);
                CHECK(rc == JOT_E_EXPIRED && strcmp(d.name, "exp") == 0 && !d.in_header,
                      "expired: detail '%s'", d.name);
                jot_free(tok);
            }
        }
        /* a key outside the set (its kid is unknown there) */
        if (i % 8 == 1) {
            tok = make_token(stranger, JOT_ALG_ES256, sub, NOW - 10, NOW + 600, n);
            if (tok) {
                expect_rejected(set_verifier, tok, JOT_E_KEY_NOT_FOUND, JOT_E_SIGNATURE,
                                "stranger key");
                expect_rejected(one_verifier[1], tok, JOT_E_SIGNATURE, JOT_E_SIGNATURE,
                                "stranger key (ES256 verifier)");
                jot_free(tok);
            }
        }
        /* read-only use of the shared keys and set */
        if (i % 16 == 2) {
            char *jwk = NULL;
            unsigned fl = algs[a] == JOT_ALG_HS256 ? JOT_JWK_PRIVATE : JOT_JWK_PUBLIC;
            jot_err_t rc = jot_key_to_jwk(verify_keys[a], fl, &jwk, NULL);
            CHECK(rc == JOT_OK && strcmp(jwk, reference_jwk[a]) == 0, "concurrent JWK export");
            jot_free(jwk);
            char tp[44];
            CHECK(jot_key_thumbprint(sign_keys[a], tp) == JOT_OK &&
                      strcmp(tp, reference_tp[a]) == 0,
                  "concurrent thumbprint");
            const char *kid = jot_key_kid(sign_keys[a]);
            CHECK(kid && jot_keyset_find(keyset, kid, strlen(kid)) != NULL, "keyset lookup");
            char *jwks = NULL;
            CHECK(jot_keyset_to_jwks(keyset, JOT_JWK_PUBLIC, &jwks, NULL) == JOT_OK || jwks == NULL,
                  "concurrent JWKS export");
            jot_free(jwks);
        }
    }
    return NULL;
}

static void test_shared_objects(void **state)
{
    (void)state;
    worker_t w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i].id = i;
        assert_int_equal(pthread_create(&w[i].thread, NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
    long failures = atomic_load(&n_failures);
    print_message("  %d threads x %ld iterations: %ld checks, %ld failures\n", N_THREADS,
                  iterations, atomic_load(&n_checks), failures);
    if (failures)
        fail_msg("%ld check(s) failed; first ones:\n%s", failures, messages);
    assert_true(atomic_load(&n_checks) >= (long)N_THREADS * iterations * 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_objects),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
