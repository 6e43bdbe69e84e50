/* Allocation-failure torture of libjot's public paths.
 *
 * The failing allocator of test.h (support/alloc.c) is installed with jot_set_allocator()
 * before anything else. For each path (JWK import of every kty, JWK export, key generation,
 * JWKS import, PEM import, JWT signing, verification with claim checks, JWS verification,
 * unverified decoding) the operation is first run once without failures (the reference),
 * then again with the 1st, 2nd, 3rd ... allocation made to fail, until a run makes fewer
 * allocations than the one chosen to fail. Two failure models are run: only the N-th
 * allocation fails ("once"), and every allocation from the N-th on fails ("from"). Each
 * failing run must:
 *   - return JOT_E_NOMEM, or the very result of the reference run (a failure the library
 *     legitimately absorbed: then the output must equal the reference output);
 *   - never return JOT_OK when the reference run failed (a rejected token must stay
 *     rejected whatever the allocator does);
 *   - leave no allocation alive once the outputs are freed (no leak), and free only blocks
 *     that came from the hook (each block carries a header checked on free/realloc).
 * Every problem is collected and printed, then the test of that path fails.
 *
 * OpenSSL's own allocations do not go through libjot's hook, so they never fail here; the
 * torture covers libjot's and jansson's (which libjot routes through the hook). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "internal.h"

#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>

/* ---- problems, collected per path ---------------------------------------------------- */

static char problems[16384];
static size_t problems_len;
static int n_problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    n_problems++;
    if (n_problems > 40) /* enough to see the pattern */
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(problems + problems_len, sizeof problems - problems_len, fmt, ap);
    va_end(ap);
    if (n > 0 && problems_len + (size_t)n < sizeof problems)
        problems_len += (size_t)n;
}

static void problems_reset(void)
{
    problems[0] = '\0';
    problems_len = 0;
    n_problems = 0;
}

static void problems_check(void)
{
    if (n_problems) {
        /* cmocka cuts long messages: the list goes to stderr whole */
        fprintf(stderr, "%d problem(s)%s:\n%s", n_problems,
                n_problems > 40 ? " (the first 40 shown)" : "", problems);
        fflush(stderr);
        fail_msg("%d allocation-failure problem(s), listed above", n_problems);
    }
}

/* ---- results --------------------------------------------------------------------------- */

/* What a scenario produced, described as text (plain libc memory: not counted). */
typedef struct result {
    char *text;
} result_t;

static void res_add(result_t *r, const char *label, const char *s, size_t n)
{
    size_t old = r->text ? strlen(r->text) : 0;
    size_t add = strlen(label) + 1 + n + 1;
    char *t = realloc(r->text, old + add + 1);
    assert_non_null(t);
    memcpy(t + old, label, strlen(label));
    t[old + strlen(label)] = '=';
    memcpy(t + old + strlen(label) + 1, s, n);
    t[old + add - 1] = '\n';
    t[old + add] = '\0';
    r->text = t;
}

static void res_str(result_t *r, const char *label, const char *s)
{
    res_add(r, label, s ? s : "(null)", s ? strlen(s) : 6);
}

static void res_fmt(result_t *r, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void res_fmt(result_t *r, const char *label, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    res_str(r, label, buf);
}

/* A scenario runs the operation under test with the allocator armed, then calls
 * disarm() before it inspects the result (so that inspection never fails), describes the
 * result into *res (only when it returns JOT_OK) and frees everything it made. */
typedef jot_err_t (*scenario_fn)(const void *arg, result_t *res);

static void disarm(void)
{
    oom_disarm();
}

/* ---- the driver ------------------------------------------------------------------------- */

#define MAX_RUNS 20000

typedef struct run_out {
    jot_err_t rc;
    char *text;
    long allocs;
    bool injected;
    long leaked;
    long bad_frees;
} run_out_t;

static run_out_t run_once(scenario_fn fn, const void *arg, long fail_n, bool onward)
{
    run_out_t o = {0};
    result_t res = {NULL};
    long live0 = oom_live(), bad0 = oom_bad_frees();
    oom_arm(fail_n, onward);
    o.rc = fn(arg, &res);
    oom_disarm();
    o.allocs = oom_allocs();
    o.injected = oom_injected();
    o.leaked = oom_live() - live0;
    o.bad_frees = oom_bad_frees() - bad0;
    o.text = res.text;
    return o;
}

static const char *model_name(bool onward)
{
    return onward ? "from" : "once";
}

/* A run that succeeded despite a failed allocation but produced something else: show
 * where the two results part (the texts can be long: RSA JWKs). */
static void report_difference(const char *name, const char *mn, long n, const char *want,
                              const char *got)
{
    if (!want || !got) {
        problem("%s [%s %ld]: JOT_OK after a failed allocation but %s result\n", name, mn, n,
                got ? "the reference has no" : "no");
        return;
    }
    size_t i = 0;
    while (want[i] && want[i] == got[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    problem("%s [%s %ld]: JOT_OK after a failed allocation but the result differs at byte "
            "%zu:\n    want ...%.80s\n    got  ...%.80s\n",
            name, mn, n, i, want + from, got + from);
}

/* Run \p fn under both failure models; record every problem. Returns the number of
 * allocations of the reference run. */
static long torture(const char *name, scenario_fn fn, const void *arg)
{
    run_out_t ref = run_once(fn, arg, 0, false);
    if (ref.leaked || ref.bad_frees)
        problem("%s: reference run leaks %ld block(s), %ld bad free(s)\n", name, ref.leaked,
                ref.bad_frees);
    if (ref.allocs == 0 && ref.rc == JOT_OK)
        problem("%s: the reference run made no allocation through the hook\n", name);
    long nomem = 0, absorbed = 0;
    for (int m = 0; m < 2; m++) {
        bool onward = m == 1;
        long n;
        for (n = 1; n <= MAX_RUNS; n++) {
            run_out_t o = run_once(fn, arg, n, onward);
            const char *mn = model_name(onward);
            if (o.leaked)
                problem("%s [%s %ld]: %ld block(s) leaked (rc %s)\n", name, mn, n, o.leaked,
                        jot_err_name(o.rc));
            if (o.bad_frees)
                problem("%s [%s %ld]: %ld free(s) of a block not from the hook\n", name, mn, n,
                        o.bad_frees);
            if (!o.injected) { /* fewer allocations than n: the run was complete */
                if (o.rc != ref.rc)
                    problem("%s [%s %ld]: no failure injected yet rc %s, reference %s\n", name, mn,
                            n, jot_err_name(o.rc), jot_err_name(ref.rc));
                free(o.text);
                break;
            }
            if (o.rc == JOT_E_NOMEM && ref.rc != JOT_E_NOMEM) {
                nomem++;
            } else if (o.rc == ref.rc) {
                absorbed++;
                if (o.rc == JOT_OK && (!o.text || !ref.text || strcmp(o.text, ref.text) != 0))
                    report_difference(name, mn, n, ref.text, o.text);
            } else if (o.rc == JOT_OK) {
                problem("%s [%s %ld]: ACCEPTED (JOT_OK) under a failed allocation; the "
                        "reference run says %s\n",
                        name, mn, n, jot_err_name(ref.rc));
            } else {
                problem("%s [%s %ld]: allocation failure reported as %s (want JOT_E_NOMEM)\n", name,
                        mn, n, jot_err_name(o.rc));
            }
            free(o.text);
        }
        if (n > MAX_RUNS)
            problem("%s [%s]: still failing after %d runs\n", name, model_name(onward), MAX_RUNS);
    }
    print_message("  %-44s %4ld allocations, rc %s; %ld failing runs gave NOMEM, %ld absorbed\n",
                  name, ref.allocs, jot_err_name(ref.rc), nomem, absorbed);
    free(ref.text);
    return ref.allocs;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

typedef struct keyfix {
    const char *name;
    jot_alg_t alg;
    unsigned bits;
    jot_key_t *key;  /* private (or secret) */
    jot_key_t *pub;  /* public part (NULL for oct) */
    char *jwk_priv;  /* private JWK text */
    char *jwk_pub;   /* public JWK text (NULL for oct) */
    char *token;     /* a JWT signed with key */
    char *bad_token; /* the same with one signature bit flipped */
} keyfix_t;

static keyfix_t keys[] = {
    {"HS256", JOT_ALG_HS256, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"HS512", JOT_ALG_HS512, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"RS256", JOT_ALG_RS256, 2048, NULL, NULL, NULL, NULL, NULL, NULL},
    {"PS256", JOT_ALG_PS256, 2048, NULL, NULL, NULL, NULL, NULL, NULL},
    {"ES256", JOT_ALG_ES256, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"ES384", JOT_ALG_ES384, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"ES512", JOT_ALG_ES512, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"ES256K", JOT_ALG_ES256K, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"EdDSA-Ed25519", JOT_ALG_EDDSA, 0, NULL, NULL, NULL, NULL, NULL, NULL},
    {"EdDSA-Ed448", JOT_ALG_EDDSA, 448, NULL, NULL, NULL, NULL, NULL, NULL},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static const int64_t NOW = 1700000000;
static const char CLAIMS_JSON[] =
    "{\"iss\":\"https://issuer.example\",\"sub\":\"user-42\",\"aud\":[\"api\",\"other\"],"
    "\"exp\":1700003600,\"nbf\":1699999990,\"iat\":1699999990,\"jti\":\"j-1\","
    "\"roles\":[\"admin\",\"editor\"],\"scope\":\"read write\",\"n\":{\"deep\":[1,2,{\"x\":"
    "null}]},\"flag\":true,\"name\":\"J\\u00f6rg \\u2603\"}";

static char *jwks_public;  /* every public key (and the first oct key) as one JWKS */
static char *jwks_private; /* every private key */

/* PEM texts */
typedef struct pemfix {
    const char *name;
    char *pem;
} pemfix_t;
static pemfix_t pems[10];
static size_t n_pems;

static void add_pem(const char *name, char *pem)
{
    assert_true(n_pems < sizeof pems / sizeof pems[0]);
    assert_non_null(pem);
    pems[n_pems].name = name;
    pems[n_pems].pem = pem;
    n_pems++;
}

/* Encode with an OpenSSL encoder ("type-specific": traditional RSA/EC private keys and the
 * PKCS#1 RSA PUBLIC KEY). The text is copied into hook memory (freed with jot_free). */
static char *encode_pem(EVP_PKEY *pkey, int selection, const char *structure)
{
    OSSL_ENCODER_CTX *ec = OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, NULL);
    assert_non_null(ec);
    unsigned char *data = NULL;
    size_t len = 0;
    assert_int_equal(OSSL_ENCODER_to_data(ec, &data, &len), 1);
    OSSL_ENCODER_CTX_free(ec);
    char *out = jot__strndup((const char *)data, len);
    OPENSSL_clear_free(data, len);
    return out;
}

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return NOW;
}

static jot_verifier_t *verifier_for(const jot_key_t *key, jot_alg_t alg)
{
    jot_verifier_t *v = NULL;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, JOT_ALG_BIT(alg));
    jot_verifier_set_clock(v, fixed_clock, NULL);
    return v;
}

static char *sign_claims(const jot_key_t *key, jot_alg_t alg, const char *claims_json)
{
    jot_claims_t *c = NULL;
    assert_int_equal(jot_claims_from_json(claims_json, strlen(claims_json), &c), JOT_OK);
    jot_sign_opts_t o = {.alg = alg, .typ = "at+jwt"};
    char *tok = NULL;
    assert_int_equal(jot_jwt_sign(key, &o, c, &tok, NULL), JOT_OK);
    jot_claims_free(c);
    return tok;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        keyfix_t *k = &keys[i];
        assert_int_equal(jot_key_generate(k->alg, k->bits, &k->key), JOT_OK);
        assert_int_equal(jot_key_to_jwk(k->key, JOT_JWK_PRIVATE, &k->jwk_priv, NULL), JOT_OK);
        if (jot_key_kty(k->key) != JOT_KTY_OCT) {
            assert_int_equal(jot_key_public(k->key, &k->pub), JOT_OK);
            assert_int_equal(jot_key_to_jwk(k->key, JOT_JWK_PUBLIC, &k->jwk_pub, NULL), JOT_OK);
        }
        k->token = sign_claims(k->key, k->alg, CLAIMS_JSON);
        k->bad_token = jot__strdup(k->token);
        assert_non_null(k->bad_token);
        char *last = &k->bad_token[strlen(k->bad_token) - 2];
        *last = *last == 'A' ? 'B' : 'A';
    }
    /* key sets */
    jot_keyset_t *pub = NULL, *priv = NULL;
    assert_int_equal(jot_keyset_new(&pub), JOT_OK);
    assert_int_equal(jot_keyset_new(&priv), JOT_OK);
    for (size_t i = 0; i < N_KEYS; i++) {
        jot_key_t *copy = NULL;
        assert_int_equal(jot_key_parse(keys[i].jwk_priv, strlen(keys[i].jwk_priv), &copy), JOT_OK);
        assert_int_equal(jot_keyset_add(priv, copy), JOT_OK);
        if (keys[i].pub) {
            assert_int_equal(jot_key_public(keys[i].key, &copy), JOT_OK);
            assert_int_equal(jot_keyset_add(pub, copy), JOT_OK);
        }
    }
    assert_int_equal(jot_keyset_to_jwks(pub, JOT_JWK_PUBLIC, &jwks_public, NULL), JOT_OK);
    assert_int_equal(jot_keyset_to_jwks(priv, JOT_JWK_PRIVATE, &jwks_private, NULL), JOT_OK);
    jot_keyset_free(pub);
    jot_keyset_free(priv);
    /* PEM: PKCS#8 and SPKI through libjot, traditional and PKCS#1 through OpenSSL */
    const keyfix_t *rsa = &keys[2], *p256 = &keys[4], *ed = &keys[8], *ed448 = &keys[9];
    char *pem = NULL;
    assert_int_equal(jot_key_to_pem(rsa->key, JOT_JWK_PRIVATE, &pem, NULL), JOT_OK);
    add_pem("RSA PKCS#8", pem);
    assert_int_equal(jot_key_to_pem(rsa->key, JOT_JWK_PUBLIC, &pem, NULL), JOT_OK);
    add_pem("RSA SPKI", pem);
    assert_int_equal(jot_key_to_pem(p256->key, JOT_JWK_PRIVATE, &pem, NULL), JOT_OK);
    add_pem("EC P-256 PKCS#8", pem);
    assert_int_equal(jot_key_to_pem(p256->key, JOT_JWK_PUBLIC, &pem, NULL), JOT_OK);
    add_pem("EC P-256 SPKI", pem);
    assert_int_equal(jot_key_to_pem(ed->key, JOT_JWK_PRIVATE, &pem, NULL), JOT_OK);
    add_pem("Ed25519 PKCS#8", pem);
    assert_int_equal(jot_key_to_pem(ed448->key, JOT_JWK_PUBLIC, &pem, NULL), JOT_OK);
    add_pem("Ed448 SPKI", pem);
    add_pem("RSA traditional",
            encode_pem(rsa->key->pkey, OSSL_KEYMGMT_SELECT_KEYPAIR, "type-specific"));
    add_pem("RSA PKCS#1 public",
            encode_pem(rsa->key->pkey, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, "type-specific"));
    add_pem("EC traditional",
            encode_pem(p256->key->pkey, OSSL_KEYMGMT_SELECT_KEYPAIR, "type-specific"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        keyfix_t *k = &keys[i];
        jot_key_free(k->key);
        jot_key_free(k->pub);
        jot_free(k->jwk_priv);
        jot_free(k->jwk_pub);
        jot_free(k->token);
        jot_free(k->bad_token);
    }
    for (size_t i = 0; i < n_pems; i++)
        jot_free(pems[i].pem);
    jot_free(jwks_public);
    jot_free(jwks_private);
    if (oom_live() != 0)
        fail_msg("%ld block(s) still live after freeing every fixture", oom_live());
    return 0;
}

/* ---- describing results ------------------------------------------------------------------ */

/* A key: its JWK (private when it has private parts), kty, alg, bits, thumbprint. */
static void describe_key(result_t *r, const jot_key_t *key)
{
    char *j = NULL;
    char tp[44];
    unsigned fl = jot_key_is_private(key) ? JOT_JWK_PRIVATE : JOT_JWK_PUBLIC;
    assert_int_equal(jot_key_to_jwk(key, fl, &j, NULL), JOT_OK);
    assert_int_equal(jot_key_thumbprint(key, tp), JOT_OK);
    res_str(r, "jwk", j);
    res_str(r, "thumbprint", tp);
    res_fmt(r, "meta", "kty %d alg %s bits %u private %d kid %s", (int)jot_key_kty(key),
            jot_alg_name(jot_key_alg(key)), jot_key_bits(key), jot_key_is_private(key),
            jot_key_kid(key) ? jot_key_kid(key) : "-");
    jot_free(j);
}

static void describe_token(result_t *r, const jot_token_t *t)
{
    size_t hl = 0, pl = 0;
    const char *h = jot_token_header_json(t, &hl);
    const uint8_t *p = jot_token_payload(t, &pl);
    res_add(r, "header", h ? h : "", h ? hl : 0);
    res_add(r, "payload", p ? (const char *)p : "", p ? pl : 0);
    res_fmt(r, "meta", "alg %s kid %s typ %s", jot_alg_name(jot_token_alg(t)),
            jot_token_kid(t) ? jot_token_kid(t) : "-", jot_token_typ(t) ? jot_token_typ(t) : "-");
    const jot_claims_t *c = jot_token_claims(t);
    if (c) {
        char *j = NULL;
        assert_int_equal(jot_claims_to_json(c, &j, NULL), JOT_OK);
        res_str(r, "claims", j);
        const char *s = NULL;
        if (jot_claims_get_string(c, "sub", &s) == JOT_OK)
            res_str(r, "sub", s);
        jot_free(j);
    } else {
        res_str(r, "claims", "(none)");
    }
}

/* ---- scenarios ---------------------------------------------------------------------------- */

static jot_err_t sc_key_from_jwk(const void *arg, result_t *res)
{
    const char *json = arg;
    jot_key_t *key = NULL;
    jot_err_t rc = jot_key_from_jwk(json, strlen(json), &key);
    disarm();
    if (rc == JOT_OK)
        describe_key(res, key);
    jot_key_free(key);
    return rc;
}

typedef struct export_arg {
    const jot_key_t *key;
    unsigned flags;
} export_arg_t;

static jot_err_t sc_key_to_jwk(const void *arg, result_t *res)
{
    const export_arg_t *a = arg;
    char *json = NULL;
    size_t len = 0;
    jot_err_t rc = jot_key_to_jwk(a->key, a->flags, &json, &len);
    disarm();
    if (rc == JOT_OK) {
        assert_int_equal(len, strlen(json));
        res_str(res, "jwk", json);
    }
    jot_free(json);
    return rc;
}

static jot_err_t sc_keyset_to_jwks(const void *arg, result_t *res)
{
    const char *jwks = arg;
    jot_keyset_t *set = NULL;
    disarm();
    assert_int_equal(jot_keyset_from_jwks(jwks, strlen(jwks), &set), JOT_OK);
    oom_rearm();
    char *json = NULL;
    jot_err_t rc = jot_keyset_to_jwks(set, JOT_JWK_PUBLIC, &json, NULL);
    disarm();
    if (rc == JOT_OK)
        res_str(res, "jwks", json);
    jot_free(json);
    jot_keyset_free(set);
    return rc;
}

/* Keys are random: the result is checked for soundness (type, alg, kid = thumbprint, a
 * signature made with it verifies) rather than compared. */
static jot_err_t sc_key_generate(const void *arg, result_t *res)
{
    const keyfix_t *k = arg;
    jot_key_t *key = NULL;
    jot_err_t rc = jot_key_generate(k->alg, k->bits, &key);
    disarm();
    if (rc == JOT_OK) {
        char tp[44];
        assert_int_equal(jot_key_thumbprint(key, tp), JOT_OK);
        assert_non_null(jot_key_kid(key));
        assert_string_equal(jot_key_kid(key), tp);
        assert_int_equal(jot_key_alg(key), k->alg);
        assert_true(jot_key_is_private(key));
        char *tok = sign_claims(key, k->alg, CLAIMS_JSON);
        jot_verifier_t *v = verifier_for(key, k->alg);
        assert_int_equal(jot_verify(v, tok, strlen(tok), NULL), JOT_OK);
        jot_verifier_free(v);
        jot_free(tok);
        res_fmt(res, "meta", "kty %d alg %s bits %u", (int)jot_key_kty(key),
                jot_alg_name(jot_key_alg(key)), jot_key_bits(key));
    }
    jot_key_free(key);
    return rc;
}

static jot_err_t sc_keyset_from_jwks(const void *arg, result_t *res)
{
    const char *jwks = arg;
    jot_keyset_t *set = NULL;
    jot_err_t rc = jot_keyset_from_jwks(jwks, strlen(jwks), &set);
    disarm();
    if (rc == JOT_OK) {
        res_fmt(res, "count", "%zu", jot_keyset_count(set));
        for (size_t i = 0; i < jot_keyset_count(set); i++)
            describe_key(res, jot_keyset_get(set, i));
    }
    jot_keyset_free(set);
    return rc;
}

static jot_err_t sc_key_from_pem(const void *arg, result_t *res)
{
    const char *pem = arg;
    jot_key_t *key = NULL;
    jot_err_t rc = jot_key_from_pem(pem, strlen(pem), &key);
    disarm();
    if (rc == JOT_OK)
        describe_key(res, key);
    jot_key_free(key);
    return rc;
}

/* Sign the claim set (built inside the window too: claims are part of the signing path). */
static jot_err_t sc_jwt_sign(const void *arg, result_t *res)
{
    const keyfix_t *k = arg;
    jot_claims_t *c = NULL;
    char *tok = NULL;
    jot_err_t rc = jot_claims_new(&c);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "iss", "https://issuer.example");
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "sub", "user-42");
    if (rc == JOT_OK) {
        static const char *const aud[] = {"api", "other"};
        rc = jot_claims_set_strings(c, "aud", aud, 2);
    }
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "exp", NOW + 3600);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "iat", NOW);
    if (rc == JOT_OK)
        rc = jot_claims_set_bool(c, "flag", 1);
    if (rc == JOT_OK)
        rc = jot_claims_set_json(c, "n", "{\"deep\":[1,2,{\"x\":null}]}", 26);
    if (rc == JOT_OK) {
        jot_sign_opts_t o = {.alg = k->alg, .kid = "kid-1", .typ = "at+jwt"};
        rc = jot_jwt_sign(k->key, &o, c, &tok, NULL);
    }
    disarm();
    if (rc == JOT_OK) {
        /* ECDSA/PSS signatures are random: describe what verification yields */
        jot_verifier_t *v = verifier_for(k->pub ? k->pub : k->key, k->alg);
        jot_token_t *t = NULL;
        jot_err_t vrc = jot_verify(v, tok, strlen(tok), &t);
        if (vrc != JOT_OK)
            fail_msg("a token signed under allocation failures does not verify: %s",
                     jot_err_name(vrc));
        describe_token(res, t);
        jot_token_free(t);
        jot_verifier_free(v);
    }
    jot_free(tok);
    jot_claims_free(c);
    return rc;
}

typedef struct verify_arg {
    const keyfix_t *k;
    const char *token;
    bool use_keyset; /* verify through the public JWKS (kid lookup) */
    const char *issuer;
    const char *audience;
} verify_arg_t;

/* The whole verification as a caller does it: configure a verifier with every claim check,
 * then verify. */
static jot_err_t sc_verify(const void *arg, result_t *res)
{
    const verify_arg_t *a = arg;
    jot_keyset_t *set = NULL;
    jot_verifier_t *v = NULL;
    jot_token_t *t = NULL;
    jot_err_t rc = JOT_OK;
    if (a->use_keyset)
        rc = jot_keyset_from_jwks(jwks_public, strlen(jwks_public), &set);
    if (rc == JOT_OK)
        rc = jot_verifier_new(&v);
    if (rc == JOT_OK) {
        if (set)
            jot_verifier_set_keyset(v, set);
        else
            jot_verifier_set_key(v, a->k->pub ? a->k->pub : a->k->key);
        jot_verifier_set_algs(v, JOT_ALG_BIT(a->k->alg) | JOT_ALG_BIT(JOT_ALG_ES256));
        jot_verifier_set_clock(v, fixed_clock, NULL);
        jot_verifier_set_leeway(v, 30);
        jot_verifier_set_max_age(v, 86400);
        rc = jot_verifier_set_issuer(v, "https://decoy.example");
    }
    if (rc == JOT_OK)
        rc = jot_verifier_add_issuer(v, a->issuer);
    if (rc == JOT_OK)
        rc = jot_verifier_add_audience(v, "nobody");
    if (rc == JOT_OK)
        rc = jot_verifier_add_audience(v, a->audience);
    if (rc == JOT_OK)
        rc = jot_verifier_set_subject(v, "user-42");
    if (rc == JOT_OK)
        rc = jot_verifier_set_typ(v, "at+jwt");
    if (rc == JOT_OK)
        rc = jot_verifier_require_claim(v, "jti");
    if (rc == JOT_OK)
        rc = jot_verifier_require_claim(v, "roles");
    jot_verify_detail_t detail;
    if (rc == JOT_OK)
        rc = jot_verify_ex(v, a->token, strlen(a->token), &t, &detail);
    disarm();
    if (rc == JOT_OK)
        describe_token(res, t);
    jot_token_free(t);
    jot_verifier_free(v);
    jot_keyset_free(set);
    return rc;
}

typedef struct prebuilt_arg {
    const jot_verifier_t *v;
    const char *token;
    bool jws; /* jot_jws_verify instead of jot_verify */
} prebuilt_arg_t;

/* Verification alone with a verifier configured beforehand (the hot path of a service). */
static jot_err_t sc_verify_prebuilt(const void *arg, result_t *res)
{
    const prebuilt_arg_t *a = arg;
    jot_token_t *t = NULL;
    jot_err_t rc = a->jws ? jot_jws_verify(a->v, a->token, strlen(a->token), &t)
                          : jot_verify(a->v, a->token, strlen(a->token), &t);
    disarm();
    if (rc == JOT_OK)
        describe_token(res, t);
    jot_token_free(t);
    return rc;
}

/* out_token NULL: the verifier must still free everything it made. */
static jot_err_t sc_verify_no_out(const void *arg, result_t *res)
{
    const prebuilt_arg_t *a = arg;
    jot_err_t rc = jot_verify(a->v, a->token, strlen(a->token), NULL);
    disarm();
    if (rc == JOT_OK)
        res_str(res, "ok", "1");
    return rc;
}

static jot_err_t sc_decode(const void *arg, result_t *res)
{
    const char *tok = arg;
    jot_token_t *t = NULL;
    jot_err_t rc = jot_decode_unverified(tok, strlen(tok), &t);
    disarm();
    if (rc == JOT_OK)
        describe_token(res, t);
    jot_token_free(t);
    return rc;
}

static jot_err_t sc_claims_from_json(const void *arg, result_t *res)
{
    const char *json = arg;
    jot_claims_t *c = NULL;
    jot_err_t rc = jot_claims_from_json(json, strlen(json), &c);
    char *out = NULL;
    if (rc == JOT_OK)
        rc = jot_claims_to_json(c, &out, NULL);
    disarm();
    if (rc == JOT_OK)
        res_str(res, "claims", out);
    jot_free(out);
    jot_claims_free(c);
    return rc;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_key_from_jwk(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(name, sizeof name, "key_from_jwk %s private", keys[i].name);
        torture(name, sc_key_from_jwk, keys[i].jwk_priv);
        if (keys[i].jwk_pub) {
            snprintf(name, sizeof name, "key_from_jwk %s public", keys[i].name);
            torture(name, sc_key_from_jwk, keys[i].jwk_pub);
        }
    }
    /* members that exercise the optional paths: use, key_ops, x5c ignored, unknown members */
    torture("key_from_jwk oct with use/key_ops/extras", sc_key_from_jwk,
            "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Y"
            "j0iPS4hcgUuTwjAzZr1Z9CAow\",\"kid\":\"k1\",\"alg\":\"HS256\",\"use\":\"sig\","
            "\"key_ops\":[\"sign\",\"verify\"],\"ext\":true,\"x\":{\"y\":[1,2,3]}}");
    /* rejected inputs stay rejected */
    torture("key_from_jwk weak HMAC (rejected)", sc_key_from_jwk,
            "{\"kty\":\"oct\",\"k\":\"c2hvcnQ\",\"alg\":\"HS256\"}");
    torture(
        "key_from_jwk bad EC point (rejected)", sc_key_from_jwk,
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}");
    problems_check();
}

static void test_key_to_jwk(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < N_KEYS; i++) {
        export_arg_t priv = {keys[i].key, JOT_JWK_PRIVATE};
        snprintf(name, sizeof name, "key_to_jwk %s private", keys[i].name);
        torture(name, sc_key_to_jwk, &priv);
        if (keys[i].pub) {
            export_arg_t pub = {keys[i].key, JOT_JWK_PUBLIC};
            snprintf(name, sizeof name, "key_to_jwk %s public", keys[i].name);
            torture(name, sc_key_to_jwk, &pub);
        }
    }
    torture("keyset_to_jwks public", sc_keyset_to_jwks, jwks_public);
    problems_check();
}

static void test_key_generate(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(name, sizeof name, "key_generate %s", keys[i].name);
        torture(name, sc_key_generate, &keys[i]);
    }
    problems_check();
}

static void test_keyset_from_jwks(void **state)
{
    (void)state;
    problems_reset();
    torture("keyset_from_jwks public (8 keys)", sc_keyset_from_jwks, jwks_public);
    torture("keyset_from_jwks private (10 keys)", sc_keyset_from_jwks, jwks_private);
    /* a member that is skipped (RFC 7517 §5) and one for encryption */
    torture("keyset_from_jwks with skipped members", sc_keyset_from_jwks,
            "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"},"
            "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Y"
            "j0iPS4hcgUuTwjAzZr1Z9CAow\",\"kid\":\"a\",\"alg\":\"HS256\"},"
            "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Y"
            "j0iPS4hcgUuTwjAzZr1Z9CAow\",\"kid\":\"b\",\"use\":\"enc\"}]}");
    torture("keyset_from_jwks duplicate kid (rejected)", sc_keyset_from_jwks,
            "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0g"
            "ZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\",\"kid\":\"a\"},{\"kty\":\"oct\",\"k\":\"AyM1Sys"
            "PpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\","
            "\"kid\":\"a\"}]}");
    problems_check();
}

static void test_key_from_pem(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < n_pems; i++) {
        snprintf(name, sizeof name, "key_from_pem %s", pems[i].name);
        torture(name, sc_key_from_pem, pems[i].pem);
    }
    torture("key_from_pem garbage (rejected)", sc_key_from_pem,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    problems_check();
}

static void test_jwt_sign(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(name, sizeof name, "jwt_sign %s", keys[i].name);
        torture(name, sc_jwt_sign, &keys[i]);
    }
    problems_check();
}

static void test_verify(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < N_KEYS; i++) {
        const keyfix_t *k = &keys[i];
        verify_arg_t good = {k, k->token, false, "https://issuer.example", "api"};
        snprintf(name, sizeof name, "verify %s (all claim checks)", k->name);
        torture(name, sc_verify, &good);
        verify_arg_t bad_sig = {k, k->bad_token, false, "https://issuer.example", "api"};
        snprintf(name, sizeof name, "verify %s bad signature (rejected)", k->name);
        torture(name, sc_verify, &bad_sig);
        verify_arg_t bad_aud = {k, k->token, false, "https://issuer.example", "elsewhere"};
        snprintf(name, sizeof name, "verify %s wrong audience (rejected)", k->name);
        torture(name, sc_verify, &bad_aud);
        if (k->pub) { /* through the JWKS: lookup by kid */
            verify_arg_t ks = {k, k->token, true, "https://issuer.example", "other"};
            snprintf(name, sizeof name, "verify %s through the JWKS", k->name);
            torture(name, sc_verify, &ks);
        }
    }
    verify_arg_t iss = {&keys[4], keys[4].token, false, "https://evil.example", "api"};
    torture("verify ES256 wrong issuer (rejected)", sc_verify, &iss);

    /* expired, with a verifier built beforehand */
    const keyfix_t *k = &keys[8];
    char *expired =
        sign_claims(k->key, k->alg, "{\"sub\":\"s\",\"exp\":1600000000,\"iat\":1599999000}");
    jot_verifier_t *v = verifier_for(k->pub, k->alg);
    prebuilt_arg_t pa = {v, k->token, false};
    torture("verify EdDSA prebuilt verifier", sc_verify_prebuilt, &pa);
    torture("verify EdDSA prebuilt verifier, no out_token", sc_verify_no_out, &pa);
    prebuilt_arg_t pe = {v, expired, false};
    torture("verify EdDSA expired (rejected)", sc_verify_prebuilt, &pe);
    jot_verifier_free(v);
    jot_free(expired);
    problems_check();
}

static void test_jws_verify(void **state)
{
    (void)state;
    problems_reset();
    static const char header[] = "{\"alg\":\"ES256\",\"cty\":\"text/plain\",\"kid\":\"x\"}";
    static const uint8_t payload[] = "not JSON \x01\x02\xff at all";
    const keyfix_t *k = &keys[4];
    char *tok = NULL;
    assert_int_equal(jot_jws_sign(k->key, JOT_ALG_ES256, header, strlen(header), payload,
                                  sizeof payload - 1, &tok, NULL),
                     JOT_OK);
    jot_verifier_t *v = verifier_for(k->pub, JOT_ALG_ES256);
    prebuilt_arg_t a = {v, tok, true};
    torture("jws_verify ES256 non-JSON payload", sc_verify_prebuilt, &a);
    prebuilt_arg_t b = {v, k->token, true};
    torture("jws_verify ES256 JWT payload", sc_verify_prebuilt, &b);
    prebuilt_arg_t c = {v, k->bad_token, true};
    torture("jws_verify ES256 bad signature (rejected)", sc_verify_prebuilt, &c);
    jot_verifier_free(v);
    jot_free(tok);
    problems_check();
}

static void test_decode_unverified(void **state)
{
    (void)state;
    problems_reset();
    char name[96];
    for (size_t i = 0; i < N_KEYS; i += 3) {
        snprintf(name, sizeof name, "decode_unverified %s", keys[i].name);
        torture(name, sc_decode, keys[i].token);
    }
    torture("decode_unverified malformed (rejected)", sc_decode, "eyJhbGciOiJIUzI1NiJ9.e30");
    problems_check();
}

static void test_claims(void **state)
{
    (void)state;
    problems_reset();
    torture("claims_from_json + to_json", sc_claims_from_json, CLAIMS_JSON);
    torture("claims_from_json duplicate (rejected)", sc_claims_from_json,
            "{\"a\":1,\"b\":[1,2,3],\"a\":2}");
    problems_check();
}

/* The driver itself: a leak and a wrong error code must be seen (so that a green run
 * means something). The blocks leaked on purpose are kept here and freed afterwards. */
static void *stash[64];
static size_t n_stash;

static jot_err_t sc_leaky(const void *arg, result_t *res)
{
    (void)arg;
    void *p = jot__malloc(8);
    void *q = jot__malloc(8);
    disarm();
    if (!p || !q) {
        void *kept = p ? p : q;
        if (kept && n_stash < sizeof stash / sizeof stash[0])
            stash[n_stash++] = kept;
        return JOT_E_INVAL; /* the wrong code for an allocation failure, on purpose */
    }
    jot_free(p);
    jot_free(q);
    res_str(res, "ok", "1");
    return JOT_OK;
}

static void test_driver_self_check(void **state)
{
    (void)state;
    problems_reset();
    torture("self-check (must report problems)", sc_leaky, NULL);
    int seen = n_problems;
    bool saw_leak = strstr(problems, "leaked") != NULL;
    bool saw_code = strstr(problems, "reported as JOT_E_INVAL") != NULL;
    problems_reset();
    for (size_t i = 0; i < n_stash; i++)
        jot_free(stash[i]);
    n_stash = 0;
    assert_true(seen >= 2);
    assert_true(saw_leak);
    assert_true(saw_code);
}

int main(void)
{
    /* Before any other libjot call: every allocation from here on is ours. */
    oom_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_self_check),
        cmocka_unit_test(test_key_from_jwk),
        cmocka_unit_test(test_key_to_jwk),
        cmocka_unit_test(test_key_generate),
        cmocka_unit_test(test_keyset_from_jwks),
        cmocka_unit_test(test_key_from_pem),
        cmocka_unit_test(test_jwt_sign),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_jws_verify),
        cmocka_unit_test(test_decode_unverified),
        cmocka_unit_test(test_claims),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    oom_uninstall();
    return failed;
}
