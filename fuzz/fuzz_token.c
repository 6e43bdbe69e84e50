/* Fuzz target "token": a compact JWS/JWT through the whole verify path.
 *
 * Input: one option byte, then the token bytes.
 *   bit 0     0: verify with the key set (kid lookup, or the one key that suits the alg)
 *             1: verify with the single key chosen by bits 1-2
 *   bits 1-2  which single key (HS, RS, ES, Ed25519)
 *   bit 3     expect iss "https://issuer.example"
 *   bit 4     expect aud "api" (or "urn:other")
 *   bit 5     expect typ "JWT"
 *   bit 6     expect sub "user-1" and require "jti"
 *   bit 7     allow a missing exp, max age one day, leeway 60 s
 * The clock is fixed at FUZZ_NOW and every algorithm is allowed.
 *
 * Each input goes through jot_verify(), jot_jws_verify() and jot_decode_unverified(), and
 * every accessor of whatever they return. Invariants:
 *   - error codes are in range and have a name and a message;
 *   - a token jot_verify() accepts, jot_jws_verify() accepts; one jot_jws_verify() accepts,
 *     jot_decode_unverified() decodes, with the same header and payload bytes;
 *   - an accepted token's alg is allowed and verified claims hold what the options demand;
 *   - whatever decodes, when re-signed with a key of the set that suits its alg (same header
 *     and payload bytes), verifies with that key; the re-signed token then also goes through
 *     jot_verify with the input's options, which is how fuzzed claims reach the claim checks
 *     (the fuzzer cannot forge a signature). */
#include "fuzz_common.h"
#include "fuzz_keys.h"

#include <jot/jot.h>
#include <stdbool.h>

static jot_key_t *keys[FUZZ_NKEYS]; /* borrowed by single-key verifiers */
static jot_keyset_t *keyset;        /* its own copies of the same keys */

static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return FUZZ_NOW;
}

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    jot_err_t rc = jot_keyset_new(&keyset);
    FUZZ_CHECK(rc == JOT_OK);
    for (size_t i = 0; i < FUZZ_NKEYS; i++) {
        const char *jwk = fuzz_key_jwk[i];
        jot_key_t *copy = NULL;
        rc = jot_key_from_jwk(jwk, strlen(jwk), &keys[i]);
        FUZZ_CHECK(rc == JOT_OK);
        rc = jot_key_from_jwk(jwk, strlen(jwk), &copy);
        FUZZ_CHECK(rc == JOT_OK);
        rc = jot_keyset_add(keyset, copy);
        FUZZ_CHECK(rc == JOT_OK);
    }
}

static void check_err(jot_err_t rc)
{
    FUZZ_CHECK((unsigned)rc < (unsigned)JOT_ERR__LAST);
    FUZZ_CHECK(jot_strerror(rc) != NULL && jot_err_name(rc) != NULL);
}

/* Every getter of a claim set, on every member. */
static void walk_claims(const jot_claims_t *c)
{
    static const char *const names[] = {"iss", "sub", "aud",   "exp", "nbf",
                                        "iat", "jti", "scope", "typ", "x"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *s = NULL;
        int64_t n = 0;
        int b = 0;
        size_t count = 0;
        char *json = NULL;
        size_t json_len = 0;
        (void)jot_claims_has(c, names[i]);
        jot_err_t rc = jot_claims_get_string(c, names[i], &s);
        check_err(rc);
        if (rc == JOT_OK)
            FUZZ_CHECK(s != NULL);
        rc = jot_claims_get_int(c, names[i], &n);
        check_err(rc);
        rc = jot_claims_get_bool(c, names[i], &b);
        check_err(rc);
        rc = jot_claims_get_strings_count(c, names[i], &count);
        check_err(rc);
        for (size_t k = 0; rc == JOT_OK && k < count; k++) {
            jot_err_t rc2 = jot_claims_get_strings_at(c, names[i], k, &s);
            FUZZ_CHECK(rc2 == JOT_OK && s != NULL);
        }
        rc = jot_claims_get_json(c, names[i], &json, &json_len);
        check_err(rc);
        if (rc == JOT_OK)
            FUZZ_CHECK(json != NULL && strlen(json) == json_len);
        jot_free(json);
    }
    char *all = NULL;
    size_t all_len = 0;
    jot_err_t rc = jot_claims_to_json(c, &all, &all_len);
    FUZZ_CHECK(rc == JOT_OK && all != NULL && all[0] == '{');
    jot_free(all);
}

static void walk_token(const jot_token_t *t)
{
    FUZZ_CHECK(t != NULL);
    jot_alg_t alg = jot_token_alg(t);
    FUZZ_CHECK((unsigned)alg < (unsigned)JOT_ALG__COUNT);
    FUZZ_CHECK(jot_alg_name(alg) != NULL);
    const char *kid = jot_token_kid(t), *typ = jot_token_typ(t);
    if (kid)
        (void)strlen(kid);
    if (typ)
        (void)strlen(typ);
    size_t hlen = 0, plen = 0;
    const char *h = jot_token_header_json(t, &hlen);
    const uint8_t *p = jot_token_payload(t, &plen);
    FUZZ_CHECK(h != NULL && hlen > 0);
    size_t i = 0; /* JSON whitespace may come first (RFC 8259 §2) */
    while (i < hlen && (h[i] == ' ' || h[i] == '\t' || h[i] == '\n' || h[i] == '\r'))
        i++;
    FUZZ_CHECK(i < hlen && h[i] == '{');
    FUZZ_CHECK(p != NULL || plen == 0);
    const jot_claims_t *c = jot_token_claims(t);
    if (c)
        walk_claims(c);
}

static bool same_bytes(const jot_token_t *a, const jot_token_t *b)
{
    size_t ah, bh, ap, bp;
    const char *ahj = jot_token_header_json(a, &ah), *bhj = jot_token_header_json(b, &bh);
    const uint8_t *app = jot_token_payload(a, &ap), *bpp = jot_token_payload(b, &bp);
    return ah == bh && ap == bp && memcmp(ahj, bhj, ah) == 0 &&
           (ap == 0 || memcmp(app, bpp, ap) == 0);
}

static jot_verifier_t *make_verifier(uint8_t opt);
static void check_policy(uint8_t opt, const jot_token_t *t);

/* Sign the decoded header and payload again with each key that suits the alg: the result
 * must verify with that key. The fuzzer cannot forge signatures, so this is also how fuzzed
 * claims reach the claim checks of jot_verify (with the input's options). */
static void resign(const jot_token_t *t, uint8_t opt)
{
    jot_alg_t alg = jot_token_alg(t);
    if (alg == JOT_ALG_UNSET)
        return;
    size_t hlen = 0, plen = 0;
    const char *h = jot_token_header_json(t, &hlen);
    const uint8_t *p = jot_token_payload(t, &plen);
    for (size_t i = 0; i < FUZZ_NKEYS; i++) {
        if (jot_key_check_alg(keys[i], alg, 1) != JOT_OK)
            continue;
        char *tok = NULL;
        size_t tok_len = 0;
        jot_err_t rc = jot_jws_sign(keys[i], alg, h, hlen, p, plen, &tok, &tok_len);
        check_err(rc);
        if (rc != JOT_OK)
            continue; /* e.g. "crit", or a token that would exceed JOT_MAX_TOKEN_LEN */
        FUZZ_CHECK(tok != NULL && strlen(tok) == tok_len);
        jot_verifier_t *v = NULL;
        rc = jot_verifier_new(&v);
        FUZZ_CHECK(rc == JOT_OK);
        jot_verifier_set_key(v, keys[i]);
        jot_verifier_set_algs(v, JOT_ALG_BIT(alg));
        jot_token_t *t2 = NULL;
        rc = jot_jws_verify(v, tok, tok_len, &t2);
        if (rc != JOT_OK)
            fprintf(stderr, "re-signed token (%s) failed to verify: %s\n", jot_alg_name(alg),
                    jot_err_name(rc));
        FUZZ_CHECK(rc == JOT_OK);
        FUZZ_CHECK(same_bytes(t, t2));
        jot_token_free(t2);
        jot_verifier_free(v);

        v = make_verifier(opt);
        jot_verifier_set_key(v, keys[i]);
        t2 = NULL;
        rc = jot_verify(v, tok, tok_len, &t2);
        check_err(rc);
        if (rc == JOT_OK) {
            walk_token(t2);
            check_policy(opt, t2);
            FUZZ_CHECK(same_bytes(t, t2));
        }
        jot_token_free(t2);
        jot_verifier_free(v);
        jot_free(tok);
    }
}

static jot_verifier_t *make_verifier(uint8_t opt)
{
    jot_verifier_t *v = NULL;
    jot_err_t rc = jot_verifier_new(&v);
    FUZZ_CHECK(rc == JOT_OK);
    jot_verifier_set_clock(v, fixed_clock, NULL);
    jot_verifier_set_algs(v, ~0u); /* permissive: every algorithm libjot knows */
    if (opt & 1)
        jot_verifier_set_key(v, keys[(opt >> 1) & 3]);
    else
        jot_verifier_set_keyset(v, keyset);
    if (opt & 8) {
        rc = jot_verifier_set_issuer(v, "https://issuer.example");
        FUZZ_CHECK(rc == JOT_OK);
    }
    if (opt & 16) {
        rc = jot_verifier_add_audience(v, "api");
        FUZZ_CHECK(rc == JOT_OK);
        rc = jot_verifier_add_audience(v, "urn:other");
        FUZZ_CHECK(rc == JOT_OK);
    }
    if (opt & 32) {
        rc = jot_verifier_set_typ(v, "JWT");
        FUZZ_CHECK(rc == JOT_OK);
    }
    if (opt & 64) {
        rc = jot_verifier_set_subject(v, "user-1");
        FUZZ_CHECK(rc == JOT_OK);
        rc = jot_verifier_require_claim(v, "jti");
        FUZZ_CHECK(rc == JOT_OK);
    }
    if (opt & 128) {
        jot_verifier_allow_no_exp(v, 1);
        jot_verifier_set_max_age(v, 86400);
        jot_verifier_set_leeway(v, 60);
    }
    return v;
}

/* What the options demand of a token jot_verify() accepted. */
static void check_policy(uint8_t opt, const jot_token_t *t)
{
    const jot_claims_t *c = jot_token_claims(t);
    FUZZ_CHECK(c != NULL);
    const char *s = NULL;
    int64_t exp = 0;
    if (!(opt & 128)) {
        FUZZ_CHECK(jot_claims_has(c, "exp"));
        if (jot_claims_get_int(c, "exp", &exp) == JOT_OK)
            FUZZ_CHECK(exp > FUZZ_NOW);
    }
    if (opt & 8)
        FUZZ_CHECK(jot_claims_get_string(c, "iss", &s) == JOT_OK &&
                   strcmp(s, "https://issuer.example") == 0);
    if (opt & 16)
        FUZZ_CHECK(jot_claims_has(c, "aud"));
    if (opt & 32)
        FUZZ_CHECK(jot_token_typ(t) != NULL);
    if (opt & 64)
        FUZZ_CHECK(jot_claims_has(c, "jti") && jot_claims_get_string(c, "sub", &s) == JOT_OK &&
                   strcmp(s, "user-1") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    size_t len = size - 1;
    char *tok = fuzz_copy(data + 1, len, 0); /* not NUL-terminated: the API takes (ptr, len) */
    jot_verifier_t *v = make_verifier(opt);

    jot_token_t *jwt = NULL, *jws = NULL, *raw = NULL;
    jot_err_t rc_jwt = jot_verify(v, tok, len, &jwt);
    check_err(rc_jwt);
    jot_err_t rc_jws = jot_jws_verify(v, tok, len, &jws);
    check_err(rc_jws);
    jot_err_t rc_raw = jot_decode_unverified(tok, len, &raw);
    check_err(rc_raw);
#ifdef FUZZ_VERBOSE /* cc -DFUZZ_VERBOSE: what each input reached, for seed review */
    fprintf(stderr, "opt %02x: verify %s, jws_verify %s, decode %s\n", opt, jot_err_name(rc_jwt),
            jot_err_name(rc_jws), jot_err_name(rc_raw));
#endif

    if (rc_jwt == JOT_OK) {
        walk_token(jwt);
        FUZZ_CHECK(jot_token_alg(jwt) != JOT_ALG_UNSET);
        check_policy(opt, jwt);
        FUZZ_CHECK(rc_jws == JOT_OK);
    }
    if (rc_jws == JOT_OK) {
        walk_token(jws);
        FUZZ_CHECK(jot_token_alg(jws) != JOT_ALG_UNSET);
        FUZZ_CHECK(rc_raw == JOT_OK);
        FUZZ_CHECK(same_bytes(jws, raw));
        if (jwt)
            FUZZ_CHECK(same_bytes(jws, jwt));
    }
    if (rc_raw == JOT_OK) {
        walk_token(raw);
        resign(raw, opt);
    }
    jot_token_free(jwt);
    jot_token_free(jws);
    jot_token_free(raw);
    jot_verifier_free(v);
    free(tok);
    return 0;
}
