/* Unit tests for lib/jws.c and lib/jwt.c: compact JWS signing and parsing, the verifier's
 * policy and claim validation, key selection, and the order of the checks. HS256 with oct
 * keys throughout (HMAC is deterministic, so exact tokens can be compared). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#include "internal.h"
#include "jws.h"

#define NOW ((int64_t)1700000000)
#define HS256_ONLY JOT_ALG_BIT(JOT_ALG_HS256)

/* ---- helpers ---------------------------------------------------------------------------- */

static char *b64(const void *data, size_t len)
{
    char *out = NULL;
    assert_rc(jot__b64url_encode_alloc(data, len, &out, NULL), JOT_OK);
    return out;
}

/* Joins up to three strings with dots into a jot_free-able string ("a.b.c"). */
static char *join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = jot__malloc(la + lb + lc + 3);
    assert_non_null(s);
    memcpy(s, a, la);
    s[la] = '.';
    memcpy(s + la + 1, b, lb);
    s[la + 1 + lb] = '.';
    memcpy(s + la + lb + 2, c, lc + 1);
    return s;
}

/* A token from raw header and payload text and the given signature text (unsigned). */
static char *raw_token(const char *header, const char *payload, const char *sig)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    char *t = join3(h, p, sig);
    jot_free(h);
    jot_free(p);
    return t;
}

/* A token whose header and payload are taken as given, with a valid HMAC computed over
 * them directly: for headers jot_jws_sign() would refuse. */
static char *hand_signed_n(const jot_key_t *key, jot_alg_t alg, const char *header,
                           const uint8_t *payload, size_t plen)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, plen);
    char *input = join3(h, p, "");
    size_t n = strlen(input) - 1; /* without the trailing dot */
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    assert_rc(jot__sig_sign(alg, key, (const uint8_t *)input, n, &sig, &sig_len), JOT_OK);
    char *s = b64(sig, sig_len);
    char *t = join3(h, p, s);
    jot_free(sig);
    jot_free(s);
    jot_free(input);
    jot_free(h);
    jot_free(p);
    return t;
}

static char *hand_signed(const jot_key_t *key, const char *header, const char *payload)
{
    return hand_signed_n(key, JOT_ALG_HS256, header, (const uint8_t *)payload, strlen(payload));
}

/* A correctly signed token over exactly these header and payload bytes. */
static char *jws(const jot_key_t *key, jot_alg_t alg, const char *header, const char *payload)
{
    char *t = NULL;
    size_t len = 0;
    assert_rc(jot_jws_sign(key, alg, header, strlen(header), (const uint8_t *)payload,
                           strlen(payload), &t, &len),
              JOT_OK);
    assert_int_equal(len, strlen(t));
    return t;
}

static char *jwt_opts(const jot_key_t *key, const jot_sign_opts_t *opts, const char *claims_json)
{
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_from_json(claims_json, strlen(claims_json), &c), JOT_OK);
    char *t = NULL;
    size_t len = 0;
    assert_rc(jot_jwt_sign(key, opts, c, &t, &len), JOT_OK);
    assert_int_equal(len, strlen(t));
    jot_claims_free(c);
    return t;
}

static char *jwt(const jot_key_t *key, const char *claims_json)
{
    return jwt_opts(key, NULL, claims_json);
}

/* claims JSON with printf-style formatting (static buffer, one at a time) */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char buf[4096];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    return buf;
}

static jot_key_t *oct_key_n(size_t len, uint8_t seed)
{
    uint8_t raw[128];
    assert_true(len <= sizeof raw);
    for (size_t i = 0; i < len; i++)
        raw[i] = (uint8_t)(seed + i * 7);
    char *k = b64(raw, len);
    char jwk[256];
    int n = snprintf(jwk, sizeof jwk, "{\"kty\":\"oct\",\"k\":\"%s\"}", k);
    jot_free(k);
    jot_key_t *key = NULL;
    assert_rc(jot_key_from_jwk(jwk, (size_t)n, &key), JOT_OK);
    assert_int_equal(jot_key_kty(key), JOT_KTY_OCT);
    return key;
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* A key, a verifier on that key with HS256 allowed, and a settable clock at NOW. */
typedef struct fx {
    jot_key_t *key;
    jot_verifier_t *v;
    int64_t now;
} fx_t;

static void fx_init(fx_t *fx)
{
    fx->key = oct_key_n(32, 1);
    fx->now = NOW;
    assert_rc(jot_verifier_new(&fx->v), JOT_OK);
    jot_verifier_set_key(fx->v, fx->key);
    jot_verifier_set_algs(fx->v, HS256_ONLY);
    jot_verifier_set_clock(fx->v, fixed_clock, &fx->now);
}

static void fx_done(fx_t *fx)
{
    jot_verifier_free(fx->v);
    jot_key_free(fx->key);
}

/* jot_verify(), checking that the output is written exactly on success, and that the
 * result does not depend on whether the caller wants the token. */
static jot_err_t verify(const jot_verifier_t *v, const char *token)
{
    static int sentinel_storage;
    jot_token_t *const sentinel = (jot_token_t *)&sentinel_storage;
    jot_token_t *t = sentinel;
    jot_err_t rc = jot_verify(v, token, strlen(token), &t);
    if (rc == JOT_OK) {
        assert_ptr_not_equal(t, sentinel);
        assert_non_null(t);
        assert_non_null(jot_token_claims(t));
        jot_token_free(t);
    } else {
        assert_ptr_equal(t, sentinel);
    }
    jot_err_t rc2 = jot_verify(v, token, strlen(token), NULL);
    if (rc2 != rc)
        fail_msg("jot_verify with and without out_token disagree: %s vs %s", jot_err_name(rc),
                 jot_err_name(rc2));
    return rc;
}

/* Signs claims_json with fx's key and verifies it with fx's verifier. */
static jot_err_t sign_verify(fx_t *fx, const char *claims_json)
{
    char *t = jwt(fx->key, claims_json);
    jot_err_t rc = verify(fx->v, t);
    jot_free(t);
    return rc;
}

#define expect_claims(fx, want, ...)                                                               \
    do {                                                                                           \
        const char *claims_ = fmt(__VA_ARGS__);                                                    \
        jot_err_t rc_ = sign_verify((fx), claims_);                                                \
        if (rc_ != (want))                                                                         \
            fail_msg("line %d: claims %s (now %lld): got %s, want %s", __LINE__, claims_,          \
                     (long long)(fx)->now, jot_err_name(rc_), jot_err_name(want));                 \
    } while (0)

#define expect_token(v, token, want)                                                               \
    do {                                                                                           \
        jot_err_t rc_ = verify((v), (token));                                                      \
        if (rc_ != (want))                                                                         \
            fail_msg("line %d: token %s: got %s, want %s", __LINE__, (token), jot_err_name(rc_),   \
                     jot_err_name(want));                                                          \
    } while (0)

/* ---- signing ------------------------------------------------------------------------------- */

/* RFC 7515 Appendix A.1, from /work/shared/vectors/rfc-examples/rfc7515_A.1_HS256.json:
 * the header and payload contain CRLF and a leading space, so the token can only be
 * reproduced by signing the exact bytes. */
static const char a1_k[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char a1_header[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
static const char a1_payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
static const char a1_token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                               ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcG"
                               "xlLmNvbS9pc19yb290Ijp0cnVlfQ"
                               ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static void test_rfc7515_a1(void **state)
{
    (void)state;
    char jwk[160];
    int n = snprintf(jwk, sizeof jwk, "{\"kty\":\"oct\",\"k\":\"%s\"}", a1_k);
    jot_key_t *key = NULL;
    assert_rc(jot_key_from_jwk(jwk, (size_t)n, &key), JOT_OK);
    char *t = jws(key, JOT_ALG_HS256, a1_header, a1_payload);
    assert_string_equal(t, a1_token);
    jot_free(t);

    jot_verifier_t *v = NULL;
    assert_rc(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, HS256_ONLY);
    assert_rc(jot_verifier_set_issuer(v, "joe"), JOT_OK);
    assert_rc(jot_verifier_set_typ(v, "JWT"), JOT_OK);
    int64_t now = 1300819379;
    jot_verifier_set_clock(v, fixed_clock, &now);
    jot_token_t *tok = NULL;
    assert_rc(jot_verify(v, a1_token, strlen(a1_token), &tok), JOT_OK);
    assert_int_equal(jot_token_alg(tok), JOT_ALG_HS256);
    assert_string_equal(jot_token_typ(tok), "JWT");
    assert_null(jot_token_kid(tok));
    size_t len = 0;
    assert_string_equal(jot_token_header_json(tok, &len), a1_header);
    assert_int_equal(len, strlen(a1_header));
    assert_memory_equal(jot_token_payload(tok, &len), a1_payload, strlen(a1_payload));
    assert_int_equal(len, strlen(a1_payload));
    int b = 0;
    assert_rc(jot_claims_get_bool(jot_token_claims(tok), "http://example.com/is_root", &b), JOT_OK);
    assert_int_equal(b, 1);
    jot_token_free(tok);
    /* the example expired on 2011-03-22T18:43:00Z */
    now = 1300819380;
    assert_rc(jot_verify(v, a1_token, strlen(a1_token), NULL), JOT_E_EXPIRED);
    /* one changed signature character */
    char bad[sizeof a1_token];
    memcpy(bad, a1_token, sizeof a1_token);
    bad[sizeof a1_token - 5] = bad[sizeof a1_token - 5] == 'j' ? 'k' : 'j';
    now = 1300819379;
    assert_rc(jot_verify(v, bad, strlen(bad), NULL), JOT_E_SIGNATURE);
    jot_verifier_free(v);
    jot_key_free(key);
}

static void assert_header(const char *token, const char *want)
{
    jot_token_t *t = NULL;
    assert_rc(jot_decode_unverified(token, strlen(token), &t), JOT_OK);
    size_t len = 0;
    assert_string_equal(jot_token_header_json(t, &len), want);
    assert_int_equal(len, strlen(want));
    jot_token_free(t);
}

static void test_jwt_sign_header(void **state)
{
    (void)state;
    jot_key_t *key = oct_key_n(32, 1);
    const char *claims = "{\"sub\":\"x\",\"exp\":2000000000}";
    char *t = jwt(key, claims);
    assert_header(t, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    /* the payload is the compact claim set */
    jot_token_t *tok = NULL;
    assert_rc(jot_decode_unverified(t, strlen(t), &tok), JOT_OK);
    size_t len = 0;
    const uint8_t *p = jot_token_payload(tok, &len);
    assert_int_equal(len, strlen(claims));
    assert_memory_equal(p, claims, len);
    jot_token_free(tok);
    jot_free(t);

    jot_sign_opts_t o = {0};
    o.typ = "";
    t = jwt_opts(key, &o, claims);
    assert_header(t, "{\"alg\":\"HS256\"}");
    jot_free(t);
    o.typ = "at+jwt";
    o.kid = "k-1";
    t = jwt_opts(key, &o, claims);
    assert_header(t, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"k-1\"}");
    jot_free(t);

    /* the key's kid by default; "" omits it; opts.kid overrides it */
    assert_rc(jot_key_set_kid(key, "key-kid"), JOT_OK);
    t = jwt(key, claims);
    assert_header(t, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-kid\"}");
    jot_free(t);
    o.typ = NULL;
    o.kid = "";
    t = jwt_opts(key, &o, claims);
    assert_header(t, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    jot_free(t);
    o.kid = "other";
    t = jwt_opts(key, &o, claims);
    assert_header(t, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"other\"}");
    jot_free(t);
    jot_key_free(key);

    /* the default alg follows the key */
    key = oct_key_n(64, 9);
    t = jwt(key, claims);
    assert_header(t, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}");
    jot_free(t);
    o.kid = NULL;
    o.alg = JOT_ALG_HS384;
    t = jwt_opts(key, &o, claims);
    assert_header(t, "{\"alg\":\"HS384\",\"typ\":\"JWT\"}");
    jot_free(t);
    jot_key_free(key);
}

static void test_jwt_sign_errors(void **state)
{
    (void)state;
    jot_key_t *key = oct_key_n(32, 1);
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_new(&c), JOT_OK);
    char *t = (char *)"untouched";
    size_t len = 5;
    jot_sign_opts_t o = {0};
    assert_rc(jot_jwt_sign(NULL, NULL, c, &t, &len), JOT_E_INVAL);
    assert_rc(jot_jwt_sign(key, NULL, NULL, &t, &len), JOT_E_INVAL);
    assert_rc(jot_jwt_sign(key, NULL, c, NULL, &len), JOT_E_INVAL);
    o.alg = JOT_ALG_HS512; /* a 32-byte key is too short for HS512 */
    assert_rc(jot_jwt_sign(key, &o, c, &t, &len), JOT_E_KEY_WEAK);
    o.alg = JOT_ALG_ES256; /* not an oct algorithm */
    assert_rc(jot_jwt_sign(key, &o, c, &t, &len), JOT_E_KEY_MISMATCH);
    o.alg = (jot_alg_t)99;
    assert_rc(jot_jwt_sign(key, &o, c, &t, &len), JOT_E_ALG_UNKNOWN);
    o.alg = JOT_ALG_UNSET;
    o.kid = "\xff";
    assert_rc(jot_jwt_sign(key, &o, c, &t, &len), JOT_E_UTF8);
    o.kid = NULL;
    o.typ = "\xc0\xaf";
    assert_rc(jot_jwt_sign(key, &o, c, &t, &len), JOT_E_UTF8);
    assert_string_equal(t, "untouched");
    assert_int_equal(len, 5);
    /* a key restricted to another algorithm */
    assert_rc(jot_key_set_alg(key, JOT_ALG_HS256), JOT_OK);
    o.typ = NULL;
    o.alg = JOT_ALG_HS384;
    jot_key_t *k48 = oct_key_n(48, 3);
    assert_rc(jot_key_set_alg(k48, JOT_ALG_HS512), JOT_E_KEY_WEAK);
    assert_rc(jot_key_set_alg(k48, JOT_ALG_HS256), JOT_OK);
    assert_rc(jot_jwt_sign(k48, &o, c, &t, &len), JOT_E_KEY_MISMATCH);
    jot_key_free(k48);
    jot_claims_free(c);
    jot_key_free(key);
}

static void test_jws_sign_errors(void **state)
{
    (void)state;
    jot_key_t *key = oct_key_n(32, 1);
    const uint8_t p[] = "{}";
    char *t = (char *)"untouched";
    size_t len = 5;
    const struct {
        const char *header;
        jot_alg_t alg;
        jot_err_t want;
    } cases[] = {
        {"{\"alg\":\"HS384\"}", JOT_ALG_HS256, JOT_E_HEADER}, /* header and argument differ */
        {"{\"alg\":\"HS256\"}", JOT_ALG_HS384, JOT_E_HEADER},
        {"{\"alg\":\"HS256\"}", JOT_ALG_UNSET, JOT_E_HEADER},
        {"{\"typ\":\"JWT\"}", JOT_ALG_HS256, JOT_E_HEADER}, /* no alg */
        {"{\"alg\":256}", JOT_ALG_HS256, JOT_E_HEADER},
        {"{\"alg\":\"none\"}", JOT_ALG_HS256, JOT_E_ALG_NONE},
        {"{\"alg\":\"hs256\"}", JOT_ALG_HS256, JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"HS256\",\"alg\":\"HS256\"}", JOT_ALG_HS256, JOT_E_JSON_DUPLICATE},
        {"{\"alg\":\"HS256\"", JOT_ALG_HS256, JOT_E_JSON},
        {"[\"HS256\"]", JOT_ALG_HS256, JOT_E_JSON},
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", JOT_ALG_HS256, JOT_E_CRIT},
        {"{\"alg\":\"HS256\",\"b64\":false}", JOT_ALG_HS256, JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"kid\":7}", JOT_ALG_HS256, JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"k\":\"\xff\"}", JOT_ALG_HS256, JOT_E_UTF8},
        {"{\"alg\":\"HS512\"}", JOT_ALG_HS512, JOT_E_KEY_WEAK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jot_err_t rc = jot_jws_sign(key, cases[i].alg, cases[i].header, strlen(cases[i].header), p,
                                    2, &t, &len);
        if (rc != cases[i].want)
            fail_msg("jws_sign header %s: got %s, want %s", cases[i].header, jot_err_name(rc),
                     jot_err_name(cases[i].want));
    }
    assert_rc(jot_jws_sign(NULL, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", 15, p, 2, &t, &len),
              JOT_E_INVAL);
    assert_rc(jot_jws_sign(key, JOT_ALG_HS256, NULL, 15, p, 2, &t, &len), JOT_E_INVAL);
    assert_rc(jot_jws_sign(key, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", 15, NULL, 2, &t, &len),
              JOT_E_INVAL);
    assert_rc(jot_jws_sign(key, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", 15, p, 2, NULL, &len),
              JOT_E_INVAL);
    assert_string_equal(t, "untouched");
    assert_int_equal(len, 5);
    /* an empty payload is a valid JWS */
    assert_rc(jot_jws_sign(key, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", 15, NULL, 0, &t, NULL),
              JOT_OK);
    assert_non_null(strstr(t, ".."));
    jot_free(t);

    /* a key too short for any HMAC algorithm, built by hand (jot_key_from_jwk refuses it) */
    jot_key_t *weak = jot__key_alloc(JOT_KTY_OCT);
    weak->oct = jot__malloc(16);
    memset(weak->oct, 0x42, 16);
    weak->oct_len = 16;
    weak->bits = 128;
    weak->has_private = true;
    assert_rc(jot_jws_sign(weak, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", 15, p, 2, &t, &len),
              JOT_E_KEY_WEAK);
    jot_key_free(weak);
    jot_key_free(key);
}

/* ---- exp, nbf, iat ------------------------------------------------------------------------- */

static void test_exp(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(NOW + 1));
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(NOW + 86400 * 365));
    /* RFC 7519 §4.1.4: the current time must be BEFORE exp */
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)NOW);
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)(NOW - 1));
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":0}");
    /* the same token, moving the clock */
    char *t = jwt(fx.key, fmt("{\"exp\":%lld}", (long long)(NOW + 100)));
    fx.now = NOW + 99;
    expect_token(fx.v, t, JOT_OK);
    fx.now = NOW + 100;
    expect_token(fx.v, t, JOT_E_EXPIRED);
    /* leeway: accepted until exp + leeway - 1 */
    jot_verifier_set_leeway(fx.v, 10);
    fx.now = NOW + 109;
    expect_token(fx.v, t, JOT_OK);
    fx.now = NOW + 110;
    expect_token(fx.v, t, JOT_E_EXPIRED);
    jot_free(t);
    /* fractional NumericDates are allowed (truncated) */
    fx.now = NOW;
    jot_verifier_set_leeway(fx.v, 0);
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld.5}", (long long)(NOW + 1));
    expect_claims(&fx, JOT_OK, "{\"exp\":1.8e9}");
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld.9}", (long long)(NOW - 1));
    fx_done(&fx);
}

static void test_exp_types(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    const char *bad[] = {
        "\"2000000000\"",   "true",  "false", "null", "-1", "-1700000000", "[1]", "{}",
        "9007199254740992", "1e300", "-0.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":%s}", bad[i]);
        expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"nbf\":%s}", bad[i]);
        expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"iat\":%s}", bad[i]);
    }
    /* the wrong type is reported even when absence would be allowed */
    jot_verifier_allow_no_exp(fx.v, 1);
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":null}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":\"\"}");
    /* the largest NumericDate accepted */
    expect_claims(&fx, JOT_OK, "{\"exp\":9007199254740991}");
    fx_done(&fx);
}

static void test_missing_exp(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    expect_claims(&fx, JOT_E_NO_EXP, "{}");
    expect_claims(&fx, JOT_E_NO_EXP, "{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW);
    expect_claims(&fx, JOT_E_NO_EXP, "{\"EXP\":2000000000}"); /* names are case-sensitive */
    jot_verifier_allow_no_exp(fx.v, 1);
    expect_claims(&fx, JOT_OK, "{}");
    expect_claims(&fx, JOT_OK, "{\"sub\":\"a\"}");
    /* allowing no exp does not allow an expired one */
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)NOW);
    jot_verifier_allow_no_exp(fx.v, 0);
    expect_claims(&fx, JOT_E_NO_EXP, "{}");
    jot_verifier_allow_no_exp(fx.v, 2); /* any non-zero */
    expect_claims(&fx, JOT_OK, "{}");
    fx_done(&fx);
}

static void test_nbf(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* valid from nbf on (RFC 7519 §4.1.5: on or after) */
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"nbf\":%lld}", (long long)NOW);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"nbf\":%lld}", (long long)(NOW - 1));
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"nbf\":0}");
    expect_claims(&fx, JOT_E_NOT_YET_VALID, "{\"exp\":2000000000,\"nbf\":%lld}",
                  (long long)(NOW + 1));
    expect_claims(&fx, JOT_E_NOT_YET_VALID, "{\"exp\":2000000000,\"nbf\":1999999999}");
    jot_verifier_set_leeway(fx.v, 30);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"nbf\":%lld}", (long long)(NOW + 30));
    expect_claims(&fx, JOT_E_NOT_YET_VALID, "{\"exp\":2000000000,\"nbf\":%lld}",
                  (long long)(NOW + 31));
    fx_done(&fx);
}

static void test_leeway_bounds(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* the published limit is a day, and larger values are clamped to it (jot.h) */
    assert_int_equal(JOT_MAX_LEEWAY, 86400);
    jot_verifier_set_leeway(fx.v, JOT_MAX_LEEWAY);
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(NOW - JOT_MAX_LEEWAY + 1));
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)(NOW - JOT_MAX_LEEWAY));
    jot_verifier_set_leeway(fx.v, (int64_t)JOT_MAX_LEEWAY + 1);
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)(NOW - JOT_MAX_LEEWAY));
    jot_verifier_set_leeway(fx.v, 10 * (int64_t)JOT_MAX_LEEWAY);
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(NOW - JOT_MAX_LEEWAY + 1));
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)(NOW - JOT_MAX_LEEWAY));
    jot_verifier_set_leeway(fx.v, INT64_MAX);
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)(NOW - JOT_MAX_LEEWAY));
    expect_claims(&fx, JOT_E_NOT_YET_VALID, "{\"exp\":2000000000,\"nbf\":%lld}",
                  (long long)(NOW + JOT_MAX_LEEWAY + 1));
    /* a negative leeway is no leeway */
    jot_verifier_set_leeway(fx.v, -100);
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)NOW);
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(NOW + 1));
    jot_verifier_set_leeway(fx.v, INT64_MIN);
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(NOW + 1));
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"nbf\":%lld}", (long long)NOW);
    fx_done(&fx);
}

static void test_iat_max_age(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* without max_age, iat is only type-checked */
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iat\":0}");
    jot_verifier_set_max_age(fx.v, 300);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iat\":%lld}", (long long)NOW);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW - 300));
    expect_claims(&fx, JOT_E_TOO_OLD, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW - 301));
    expect_claims(&fx, JOT_E_TOO_OLD, "{\"exp\":2000000000,\"iat\":0}");
    expect_claims(&fx, JOT_E_MISSING_CLAIM, "{\"exp\":2000000000}");
    expect_claims(&fx, JOT_E_IAT_FUTURE, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW + 1));
    expect_claims(&fx, JOT_E_IAT_FUTURE, "{\"exp\":2000000000,\"iat\":1999999999}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"iat\":\"%lld\"}", (long long)NOW);
    /* leeway widens both ends */
    jot_verifier_set_leeway(fx.v, 5);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW + 5));
    expect_claims(&fx, JOT_E_IAT_FUTURE, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW + 6));
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW - 305));
    expect_claims(&fx, JOT_E_TOO_OLD, "{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW - 306));
    /* 0 switches it off again; negative too */
    jot_verifier_set_max_age(fx.v, 0);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000}");
    jot_verifier_set_max_age(fx.v, -5);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iat\":0}");
    fx_done(&fx);
}

/* Runs fn in a child process (so that a sanitizer abort or a crash is a failure, not the
 * end of the test program); returns its jot_err_t, or -1 if it died. */
static int run_in_child(jot_err_t (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        _exit(100 + (int)fn());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
        return WEXITSTATUS(status) - 100;
    return -1;
}

static jot_err_t huge_max_age_with_leeway(void)
{
    fx_t fx;
    fx_init(&fx);
    /* "require iat, any age": the largest max_age, plus some leeway */
    jot_verifier_set_max_age(fx.v, INT64_MAX);
    jot_verifier_set_leeway(fx.v, 60);
    char *t = jwt(fx.key, fmt("{\"exp\":2000000000,\"iat\":%lld}", (long long)(NOW - 10)));
    jot_err_t rc = jot_verify(fx.v, t, strlen(t), NULL);
    jot_free(t);
    fx_done(&fx);
    return rc;
}

/* Regression: validate_claims() used to compute v->max_age + v->leeway in int64_t, which
 * overflows for a large max_age (undefined behaviour; in practice every token was
 * JOT_E_TOO_OLD). */
static void test_iat_max_age_no_overflow(void **state)
{
    (void)state;
    int rc = run_in_child(huge_max_age_with_leeway);
    if (rc == -1)
        fail_msg("max_age INT64_MAX with leeway 60: crashed (signed overflow trapped?)");
    if (rc != JOT_OK)
        fail_msg("max_age INT64_MAX with leeway 60, iat 10 s ago: got %s, want JOT_OK",
                 jot_err_name((jot_err_t)rc));
}

static int64_t clock_value;

static int64_t extreme_clock(void *ctx)
{
    (void)ctx;
    return clock_value;
}

static jot_err_t verify_at(int64_t now, const char *claims, int64_t leeway, int64_t max_age)
{
    jot_key_t *key = oct_key_n(32, 1);
    jot_verifier_t *v = NULL;
    jot_err_t rc = jot_verifier_new(&v);
    if (rc != JOT_OK)
        return rc;
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, HS256_ONLY);
    jot_verifier_set_leeway(v, leeway);
    jot_verifier_set_max_age(v, max_age);
    jot_verifier_allow_no_exp(v, 1);
    clock_value = now;
    jot_verifier_set_clock(v, extreme_clock, NULL);
    char *t = jwt(key, claims);
    rc = jot_verify(v, t, strlen(t), NULL);
    jot_free(t);
    jot_verifier_free(v);
    jot_key_free(key);
    return rc;
}

static jot_err_t clock_max_exp(void)
{
    return verify_at(INT64_MAX, "{\"exp\":9007199254740991}", 86400, 0);
}
static jot_err_t clock_max_nbf(void)
{
    return verify_at(INT64_MAX, "{\"nbf\":9007199254740991}", 86400, 0);
}
static jot_err_t clock_max_iat(void)
{
    return verify_at(INT64_MAX, "{\"iat\":0}", 86400, INT64_MAX);
}
static jot_err_t clock_min_exp(void)
{
    return verify_at(INT64_MIN, "{\"exp\":0}", 86400, 0);
}
static jot_err_t clock_min_nbf(void)
{
    return verify_at(INT64_MIN, "{\"nbf\":0}", 86400, 0);
}
static jot_err_t clock_min_iat(void)
{
    return verify_at(INT64_MIN, "{\"iat\":9007199254740991}", 86400, INT64_MAX);
}

/* Whatever an injected clock returns, the comparisons neither overflow nor let a token
 * through that a sane clock at that extreme would refuse. */
static void test_extreme_clock(void **state)
{
    (void)state;
    const struct {
        const char *name;
        jot_err_t (*fn)(void);
        jot_err_t want;
    } cases[] = {
        {"INT64_MAX, exp 2^53-1", clock_max_exp, JOT_E_EXPIRED},
        {"INT64_MAX, nbf 2^53-1", clock_max_nbf, JOT_OK},
        {"INT64_MAX, iat 0, max_age INT64_MAX", clock_max_iat, JOT_OK},
        {"INT64_MIN, exp 0", clock_min_exp, JOT_OK},
        {"INT64_MIN, nbf 0", clock_min_nbf, JOT_E_NOT_YET_VALID},
        {"INT64_MIN, iat 2^53-1", clock_min_iat, JOT_E_IAT_FUTURE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run_in_child(cases[i].fn);
        if (rc == -1)
            fail_msg("clock %s: crashed", cases[i].name);
        if (rc != (int)cases[i].want)
            fail_msg("clock %s: got %s, want %s", cases[i].name, jot_err_name((jot_err_t)rc),
                     jot_err_name(cases[i].want));
    }
}

static void test_default_clock(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    jot_verifier_set_clock(fx.v, NULL, NULL); /* back to time(NULL) */
    int64_t now = (int64_t)time(NULL);
    fx.now = 0; /* would expire anything if still used */
    expect_claims(&fx, JOT_OK, "{\"exp\":%lld}", (long long)(now + 3600));
    expect_claims(&fx, JOT_E_EXPIRED, "{\"exp\":%lld}", (long long)(now - 3600));
    /* a fresh verifier uses the system clock too */
    jot_verifier_t *v = NULL;
    assert_rc(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, fx.key);
    jot_verifier_set_algs(v, HS256_ONLY);
    char *t = jwt(fx.key, fmt("{\"exp\":%lld}", (long long)(now - 3600)));
    expect_token(v, t, JOT_E_EXPIRED);
    jot_free(t);
    t = jwt(fx.key, fmt("{\"exp\":%lld}", (long long)(now + 3600)));
    expect_token(v, t, JOT_OK);
    jot_free(t);
    jot_verifier_free(v);
    fx_done(&fx);
}

/* ---- iss, aud, sub, typ, required claims --------------------------------------------------- */

static void test_iss(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* nothing expected: any string, or none */
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"whoever\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000}");
    /* the registered type is checked even when the value is not */
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"iss\":42}");
    assert_rc(jot_verifier_set_issuer(fx.v, "https://issuer.example"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://issuer.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://evil.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://issuer.example/\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://issuer.exampl\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"HTTPS://ISSUER.EXAMPLE\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"iss\":null}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE,
                  "{\"exp\":2000000000,\"iss\":[\"https://issuer.example\"]}");
    /* an escaped form of the same string is the same string */
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https:\\/\\/issuer.example\"}");
    /* replacing and removing the expectation */
    assert_rc(jot_verifier_set_issuer(fx.v, "joe"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"joe\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://issuer.example\"}");
    assert_rc(jot_verifier_set_issuer(fx.v, NULL), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000}");
    fx_done(&fx);
}

static void test_aud(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* nothing expected: any well-typed aud */
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":\"x\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":[\"x\",\"y\"]}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":[]}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"aud\":[\"x\",1]}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"aud\":7}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"aud\":{\"x\":1}}");

    assert_rc(jot_verifier_add_audience(fx.v, "api"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":\"api\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":[\"api\"]}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":[\"other\",\"api\"]}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000,\"aud\":\"other\"}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000,\"aud\":[\"other\",\"API\"]}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000,\"aud\":\"api2\"}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000,\"aud\":\"ap\"}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000,\"aud\":[]}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"aud\":[\"api\",1]}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"aud\":[[\"api\"]]}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"aud\":null}");
    /* several acceptable audiences: any one of them will do */
    assert_rc(jot_verifier_add_audience(fx.v, "web"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":\"web\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":\"api\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"aud\":[\"x\",\"web\"]}");
    expect_claims(&fx, JOT_E_AUDIENCE, "{\"exp\":2000000000,\"aud\":[\"x\",\"y\"]}");
    assert_rc(jot_verifier_add_audience(fx.v, NULL), JOT_E_INVAL);
    fx_done(&fx);
}

static void test_sub(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"sub\":\"anyone\"}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"sub\":1}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"jti\":1}");
    assert_rc(jot_verifier_set_subject(fx.v, "user-1"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"sub\":\"user-1\"}");
    expect_claims(&fx, JOT_E_SUBJECT, "{\"exp\":2000000000,\"sub\":\"user-2\"}");
    expect_claims(&fx, JOT_E_SUBJECT, "{\"exp\":2000000000,\"sub\":\"user-10\"}");
    expect_claims(&fx, JOT_E_SUBJECT, "{\"exp\":2000000000,\"sub\":\"User-1\"}");
    expect_claims(&fx, JOT_E_SUBJECT, "{\"exp\":2000000000}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"sub\":[\"user-1\"]}");
    assert_rc(jot_verifier_set_subject(fx.v, NULL), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000}");
    fx_done(&fx);
}

static jot_err_t verify_typ(fx_t *fx, const char *typ)
{
    jot_sign_opts_t o = {0};
    o.typ = typ;
    char *t = jwt_opts(fx->key, &o, "{\"exp\":2000000000}");
    jot_err_t rc = verify(fx->v, t);
    jot_free(t);
    return rc;
}

static void test_typ(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* nothing expected: any typ, or none */
    assert_rc(verify_typ(&fx, "whatever"), JOT_OK);
    assert_rc(verify_typ(&fx, ""), JOT_OK);
    assert_rc(jot_verifier_set_typ(fx.v, "JWT"), JOT_OK);
    const char *ok[] = {
        "JWT", "jwt", "Jwt", "application/JWT", "application/jwt", "APPLICATION/jwt"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (verify_typ(&fx, ok[i]) != JOT_OK)
            fail_msg("typ '%s' should match JWT", ok[i]);
    const char *bad[] = {"at+jwt",
                         "JWT ",
                         " JWT",
                         "JWS",
                         "application/at+jwt",
                         "application/foo/JWT",
                         "applicationJWT",
                         "application/",
                         "JW",
                         "text/JWT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jot_err_t rc = verify_typ(&fx, bad[i]);
        if (rc != JOT_E_TYP)
            fail_msg("typ '%s' against JWT: got %s, want JOT_E_TYP", bad[i], jot_err_name(rc));
    }
    assert_rc(verify_typ(&fx, ""), JOT_E_TYP); /* absent */
    /* an expectation given with the prefix */
    assert_rc(jot_verifier_set_typ(fx.v, "application/at+jwt"), JOT_OK);
    assert_rc(verify_typ(&fx, "at+jwt"), JOT_OK);
    assert_rc(verify_typ(&fx, "application/AT+JWT"), JOT_OK);
    assert_rc(verify_typ(&fx, "JWT"), JOT_E_TYP);
    assert_rc(jot_verifier_set_typ(fx.v, "at+jwt"), JOT_OK);
    assert_rc(verify_typ(&fx, "application/at+JWT"), JOT_OK);
    assert_rc(verify_typ(&fx, "jwt"), JOT_E_TYP);
    /* "application/" is implied only for a value with no '/' of its own (RFC 7515 §4.1.9) */
    assert_rc(jot_verifier_set_typ(fx.v, "application/foo/bar"), JOT_OK);
    assert_rc(verify_typ(&fx, "application/foo/bar"), JOT_OK);
    assert_rc(verify_typ(&fx, "foo/bar"), JOT_E_TYP);
    assert_rc(jot_verifier_set_typ(fx.v, "foo/bar"), JOT_OK);
    assert_rc(verify_typ(&fx, "FOO/BAR"), JOT_OK);
    assert_rc(verify_typ(&fx, "application/foo/bar"), JOT_E_TYP);
    /* removing the expectation */
    assert_rc(jot_verifier_set_typ(fx.v, NULL), JOT_OK);
    assert_rc(verify_typ(&fx, ""), JOT_OK);
    /* a non-string typ is a bad header, expected or not */
    char *t = hand_signed(fx.key, "{\"alg\":\"HS256\",\"typ\":1}", "{\"exp\":2000000000}");
    expect_token(fx.v, t, JOT_E_HEADER);
    jot_free(t);
    fx_done(&fx);
}

static void test_required_claims(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    assert_rc(jot_verifier_require_claim(fx.v, "jti"), JOT_OK);
    assert_rc(jot_verifier_require_claim(fx.v, "scope"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"jti\":\"1\",\"scope\":\"read\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"jti\":\"1\",\"scope\":[]}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"jti\":\"1\",\"scope\":null}");
    expect_claims(&fx, JOT_E_MISSING_CLAIM, "{\"exp\":2000000000,\"jti\":\"1\"}");
    expect_claims(&fx, JOT_E_MISSING_CLAIM, "{\"exp\":2000000000,\"scope\":\"read\"}");
    expect_claims(&fx, JOT_E_MISSING_CLAIM, "{\"exp\":2000000000,\"JTI\":\"1\",\"scope\":1}");
    expect_claims(&fx, JOT_E_MISSING_CLAIM, "{\"exp\":2000000000}");
    assert_rc(jot_verifier_require_claim(fx.v, NULL), JOT_E_INVAL);
    fx_done(&fx);
}

/* Several issuers: set_issuer replaces the list with one, add_issuer appends. */
static void test_add_issuer(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* add_issuer alone starts the list */
    assert_rc(jot_verifier_add_issuer(fx.v, "https://a.example"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://a.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://b.example\"}");
    assert_rc(jot_verifier_add_issuer(fx.v, "https://b.example"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://a.example\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://b.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://c.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://A.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000}");
    expect_claims(&fx, JOT_E_CLAIM_TYPE, "{\"exp\":2000000000,\"iss\":[\"https://a.example\"]}");
    /* set_issuer replaces every one of them */
    assert_rc(jot_verifier_set_issuer(fx.v, "https://c.example"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://c.example\"}");
    expect_claims(&fx, JOT_E_ISSUER, "{\"exp\":2000000000,\"iss\":\"https://a.example\"}");
    assert_rc(jot_verifier_add_issuer(fx.v, "https://a.example"), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://a.example\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"https://c.example\"}");
    /* set_issuer(NULL) removes them all */
    assert_rc(jot_verifier_set_issuer(fx.v, NULL), JOT_OK);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"anyone\"}");
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000}");
    /* arguments, copies, the cap */
    assert_rc(jot_verifier_add_issuer(fx.v, NULL), JOT_E_INVAL);
    assert_rc(jot_verifier_add_issuer(NULL, "x"), JOT_E_INVAL);
    char iss[16] = "joe";
    assert_rc(jot_verifier_add_issuer(fx.v, iss), JOT_OK);
    iss[0] = 'X';
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"joe\"}");
    for (unsigned i = 1; i < JOT_MAX_CLAIMS; i++) {
        snprintf(iss, sizeof iss, "iss%u", i);
        assert_rc(jot_verifier_add_issuer(fx.v, iss), JOT_OK);
    }
    assert_rc(jot_verifier_add_issuer(fx.v, "one-too-many"), JOT_E_TOOBIG);
    expect_claims(&fx, JOT_OK, "{\"exp\":2000000000,\"iss\":\"iss255\"}");
    fx_done(&fx);
}

/* jot_verify_ex(): the code of jot_verify(), and the member at fault. */
static void expect_detail_line(int line, const jot_verifier_t *v, const char *token, jot_err_t want,
                               const char *want_name, int want_in_header)
{
    jot_verify_detail_t d;
    memset(&d, 0x5a, sizeof d); /* written on every return: no stale bytes survive */
    jot_token_t *t = NULL;
    jot_err_t rc = jot_verify_ex(v, token, strlen(token), &t, &d);
    jot_token_free(t);
    if (rc != want)
        fail_msg("line %d: got %s, want %s", line, jot_err_name(rc), jot_err_name(want));
    if (rc != verify(v, token))
        fail_msg("line %d: jot_verify_ex and jot_verify disagree", line);
    if (strcmp(d.name, want_name) != 0 || d.in_header != want_in_header)
        fail_msg("line %d: detail '%s' (header %d), want '%s' (header %d)", line, d.name,
                 d.in_header, want_name, want_in_header);
    assert_rc(jot_verify_ex(v, token, strlen(token), NULL, NULL), want); /* both optional */
}

#define expect_detail(fx, want, name, in_header, ...)                                              \
    do {                                                                                           \
        char *t_ = jwt((fx)->key, fmt(__VA_ARGS__));                                               \
        expect_detail_line(__LINE__, (fx)->v, t_, (want), (name), (in_header));                    \
        jot_free(t_);                                                                              \
    } while (0)

static void test_verify_detail(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* success: an empty name */
    expect_detail(&fx, JOT_OK, "", 0, "{\"exp\":2000000000}");
    /* time claims */
    expect_detail(&fx, JOT_E_NO_EXP, "exp", 0, "{\"iat\":1}");
    expect_detail(&fx, JOT_E_EXPIRED, "exp", 0, "{\"exp\":%lld}", (long long)NOW);
    expect_detail(&fx, JOT_E_CLAIM_TYPE, "exp", 0, "{\"exp\":\"soon\"}");
    expect_detail(&fx, JOT_E_NOT_YET_VALID, "nbf", 0, "{\"exp\":2000000000,\"nbf\":1999999999}");
    expect_detail(&fx, JOT_E_CLAIM_TYPE, "nbf", 0, "{\"exp\":2000000000,\"nbf\":true}");
    jot_verifier_set_max_age(fx.v, 60);
    expect_detail(&fx, JOT_E_MISSING_CLAIM, "iat", 0, "{\"exp\":2000000000}");
    expect_detail(&fx, JOT_E_TOO_OLD, "iat", 0, "{\"exp\":2000000000,\"iat\":%lld}",
                  (long long)(NOW - 61));
    expect_detail(&fx, JOT_E_IAT_FUTURE, "iat", 0, "{\"exp\":2000000000,\"iat\":%lld}",
                  (long long)(NOW + 1));
    jot_verifier_set_max_age(fx.v, 0);
    /* iss, aud, sub, and the registered types of iss/sub/jti/aud */
    assert_rc(jot_verifier_set_issuer(fx.v, "joe"), JOT_OK);
    assert_rc(jot_verifier_add_audience(fx.v, "api"), JOT_OK);
    assert_rc(jot_verifier_set_subject(fx.v, "u1"), JOT_OK);
    const char *good = "\"iss\":\"joe\",\"aud\":\"api\",\"sub\":\"u1\"";
    expect_detail(&fx, JOT_OK, "", 0, "{\"exp\":2000000000,%s}", good);
    expect_detail(&fx, JOT_E_ISSUER, "iss", 0, "{\"exp\":2000000000,\"aud\":\"api\"}");
    expect_detail(&fx, JOT_E_ISSUER, "iss", 0, "{\"exp\":2000000000,\"iss\":\"eve\"}");
    expect_detail(&fx, JOT_E_CLAIM_TYPE, "iss", 0, "{\"exp\":2000000000,\"iss\":1}");
    expect_detail(&fx, JOT_E_AUDIENCE, "aud", 0, "{\"exp\":2000000000,\"iss\":\"joe\"}");
    expect_detail(&fx, JOT_E_CLAIM_TYPE, "aud", 0, "{\"exp\":2000000000,\"aud\":[1]}");
    expect_detail(&fx, JOT_E_SUBJECT, "sub", 0,
                  "{\"exp\":2000000000,\"iss\":\"joe\",\"aud\":\"api\",\"sub\":\"u2\"}");
    expect_detail(&fx, JOT_E_CLAIM_TYPE, "sub", 0, "{\"exp\":2000000000,\"sub\":{}}");
    expect_detail(&fx, JOT_E_CLAIM_TYPE, "jti", 0, "{\"exp\":2000000000,%s,\"jti\":7}", good);
    /* required claims: the name given to the verifier */
    assert_rc(jot_verifier_require_claim(fx.v, "scope"), JOT_OK);
    expect_detail(&fx, JOT_E_MISSING_CLAIM, "scope", 0, "{\"exp\":2000000000,%s}", good);
    expect_detail(&fx, JOT_OK, "", 0, "{\"exp\":2000000000,%s,\"scope\":\"r\"}", good);
    fx_done(&fx);
}

static void test_verify_detail_header(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    /* a required-claim name longer than the detail holds is cut at a character boundary:
     * 62 ASCII bytes, then "é" (2 bytes) that would end at byte 64, one past the room */
    char longname[80];
    memset(longname, 'n', 62);
    memcpy(longname + 62, "\xc3\xa9xyz", 6);
    assert_rc(jot_verifier_require_claim(fx.v, longname), JOT_OK);
    char want[64];
    memset(want, 'n', 62);
    want[62] = '\0';
    char *t = jwt(fx.key, "{\"exp\":2000000000}");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_MISSING_CLAIM, want, 0);
    jot_free(t);
    /* typ is a header parameter */
    assert_rc(jot_verifier_set_typ(fx.v, "at+jwt"), JOT_OK);
    t = jwt(fx.key, "{\"exp\":2000000000}");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_TYP, "typ", 1);
    jot_free(t);
    /* alg: not allowed, unknown, none; crit */
    t = hand_signed(fx.key, "{\"alg\":\"HS384\"}", "{\"exp\":2000000000}");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_ALG_NOT_ALLOWED, "alg", 1);
    jot_free(t);
    t = hand_signed(fx.key, "{\"alg\":\"XS256\"}", "{\"exp\":2000000000}");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_ALG_UNKNOWN, "alg", 1);
    jot_free(t);
    t = raw_token("{\"alg\":\"none\"}", "{\"exp\":2000000000}", "");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_ALG_NONE, "alg", 1);
    jot_free(t);
    t = hand_signed(fx.key, "{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", "{\"exp\":2000000000}");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_CRIT, "crit", 1);
    jot_free(t);
    /* nothing to name: signature, structure, payload */
    t = jwt(fx.key, "{\"exp\":2000000000}");
    t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
    expect_detail_line(__LINE__, fx.v, t, JOT_E_SIGNATURE, "", 0);
    jot_free(t);
    expect_detail_line(__LINE__, fx.v, "a.b", JOT_E_MALFORMED, "", 0);
    t = hand_signed(fx.key, "{\"alg\":\"HS256\"}", "[1]");
    expect_detail_line(__LINE__, fx.v, t, JOT_E_PAYLOAD, "", 0);
    jot_free(t);
    fx_done(&fx);
}

/* ---- algorithms -------------------------------------------------------------------------- */

static void test_alg_allowlist(void **state)
{
    (void)state;
    jot_key_t *k48 = oct_key_n(48, 5);
    jot_verifier_t *v = NULL;
    assert_rc(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, k48);
    int64_t now = NOW;
    jot_verifier_set_clock(v, fixed_clock, &now);
    jot_sign_opts_t o = {0};
    o.alg = JOT_ALG_HS256;
    char *t256 = jwt_opts(k48, &o, "{\"exp\":2000000000}");
    o.alg = JOT_ALG_HS384;
    char *t384 = jwt_opts(k48, &o, "{\"exp\":2000000000}");
    /* no allowlist: nothing verifies */
    expect_token(v, t256, JOT_E_ALG_NOT_ALLOWED);
    jot_verifier_set_algs(v, 0);
    expect_token(v, t256, JOT_E_ALG_NOT_ALLOWED);
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_UNSET)); /* not an algorithm */
    expect_token(v, t256, JOT_E_ALG_NOT_ALLOWED);
    /* only HS256 */
    jot_verifier_set_algs(v, HS256_ONLY);
    expect_token(v, t256, JOT_OK);
    expect_token(v, t384, JOT_E_ALG_NOT_ALLOWED);
    /* only HS384 */
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_HS384));
    expect_token(v, t256, JOT_E_ALG_NOT_ALLOWED);
    expect_token(v, t384, JOT_OK);
    /* both; and everything */
    jot_verifier_set_algs(v, HS256_ONLY | JOT_ALG_BIT(JOT_ALG_HS384));
    expect_token(v, t256, JOT_OK);
    expect_token(v, t384, JOT_OK);
    jot_verifier_set_algs(v, ~0u);
    expect_token(v, t256, JOT_OK);
    /* the allowlist is checked before the signature */
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_RS256));
    char *bad = raw_token("{\"alg\":\"HS256\"}", "{\"exp\":2000000000}", "AAAA");
    expect_token(v, bad, JOT_E_ALG_NOT_ALLOWED);
    jot_free(bad);
    jot_free(t256);
    jot_free(t384);
    jot_verifier_free(v);
    jot_key_free(k48);
}

/* The key decides too: a token naming an algorithm the key was not made for fails even
 * when the allowlist has it (algorithm confusion). */
static void test_alg_key_binding(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    char *t = jwt(fx.key, "{\"exp\":2000000000}");
    /* an EC public key with HS256 allowed as well: never used as an HMAC secret */
    jot_key_t *ec = NULL, *ec_pub = NULL;
    assert_rc(jot_key_generate(JOT_ALG_ES256, 0, &ec), JOT_OK);
    assert_rc(jot_key_public(ec, &ec_pub), JOT_OK);
    jot_verifier_set_key(fx.v, ec_pub);
    jot_verifier_set_algs(fx.v, HS256_ONLY | JOT_ALG_BIT(JOT_ALG_ES256));
    expect_token(fx.v, t, JOT_E_KEY_MISMATCH);
    /* an ES256 header checked against the oct key */
    jot_verifier_set_key(fx.v, fx.key);
    char *es = raw_token("{\"alg\":\"ES256\"}", "{\"exp\":2000000000}", "AAAA");
    expect_token(fx.v, es, JOT_E_KEY_MISMATCH);
    jot_free(es);
    /* an oct key whose "alg" is HS384 does not verify HS256 */
    jot_key_t *k48 = oct_key_n(48, 5);
    char *t48 = NULL;
    jot_sign_opts_t o = {0};
    o.alg = JOT_ALG_HS256;
    t48 = jwt_opts(k48, &o, "{\"exp\":2000000000}");
    assert_rc(jot_key_set_alg(k48, JOT_ALG_HS384), JOT_OK);
    jot_verifier_set_key(fx.v, k48);
    jot_verifier_set_algs(fx.v, HS256_ONLY | JOT_ALG_BIT(JOT_ALG_HS384));
    expect_token(fx.v, t48, JOT_E_KEY_MISMATCH);
    assert_rc(jot_key_set_alg(k48, JOT_ALG_UNSET), JOT_OK);
    expect_token(fx.v, t48, JOT_OK);
    /* HS384 with a 32-byte key: too weak (RFC 7518 §3.2) */
    jot_verifier_set_key(fx.v, fx.key);
    char *hs384 = raw_token("{\"alg\":\"HS384\"}", "{\"exp\":2000000000}", "AAAA");
    expect_token(fx.v, hs384, JOT_E_KEY_WEAK);
    jot_free(hs384);
    /* keys marked for encryption, or not for verifying */
    jot_key_t *enc = NULL, *signonly = NULL;
    char jwk[200];
    char *k = b64(fx.key->oct, fx.key->oct_len);
    int n = snprintf(jwk, sizeof jwk, "{\"kty\":\"oct\",\"use\":\"enc\",\"k\":\"%s\"}", k);
    assert_rc(jot_key_from_jwk(jwk, (size_t)n, &enc), JOT_OK);
    n = snprintf(jwk, sizeof jwk, "{\"kty\":\"oct\",\"key_ops\":[\"sign\"],\"k\":\"%s\"}", k);
    assert_rc(jot_key_from_jwk(jwk, (size_t)n, &signonly), JOT_OK);
    jot_free(k);
    jot_verifier_set_algs(fx.v, HS256_ONLY);
    jot_verifier_set_key(fx.v, enc);
    expect_token(fx.v, t, JOT_E_KEY_USE);
    jot_verifier_set_key(fx.v, signonly);
    expect_token(fx.v, t, JOT_E_KEY_USE);
    /* no key at all */
    jot_verifier_set_key(fx.v, NULL);
    expect_token(fx.v, t, JOT_E_KEY_NOT_FOUND);
    jot_verifier_set_key(fx.v, fx.key);
    expect_token(fx.v, t, JOT_OK);
    jot_key_free(enc);
    jot_key_free(signonly);
    jot_free(t48);
    jot_key_free(k48);
    jot_key_free(ec_pub);
    jot_key_free(ec);
    jot_free(t);
    fx_done(&fx);
}

static void test_alg_header_values(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    jot_verifier_set_algs(fx.v, ~0u); /* even with everything allowed */
    const char *payload = "{\"exp\":2000000000}";
    const struct {
        const char *header;
        jot_err_t want;
    } cases[] = {
        {"{\"alg\":\"none\"}", JOT_E_ALG_NONE},
        {"{\"typ\":\"JWT\",\"alg\":\"none\"}", JOT_E_ALG_NONE},
        {"{\"alg\":\"None\"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"NONE\"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"nOnE\"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"none \"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"HS256 \"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\" HS256\"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"hs256\"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"HS256\\u0000\"}", JOT_E_HEADER}, /* \u0000 is refused by the parser */
        {"{\"alg\":\"\"}", JOT_E_ALG_UNKNOWN},
        {"{\"alg\":\"RSA-OAEP\"}", JOT_E_ALG_UNKNOWN},
        {"{}", JOT_E_HEADER},
        {"{\"typ\":\"JWT\"}", JOT_E_HEADER},
        {"{\"ALG\":\"HS256\"}", JOT_E_HEADER},
        {"{\"alg\":null}", JOT_E_HEADER},
        {"{\"alg\":256}", JOT_E_HEADER},
        {"{\"alg\":true}", JOT_E_HEADER},
        {"{\"alg\":[\"HS256\"]}", JOT_E_HEADER},
        {"{\"alg\":{\"name\":\"HS256\"}}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"alg\":\"none\"}", JOT_E_JSON_DUPLICATE},
        {"{\"alg\":\"none\",\"alg\":\"HS256\"}", JOT_E_JSON_DUPLICATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* signed with the right key: only the header is wrong */
        char *t = hand_signed(fx.key, cases[i].header, payload);
        jot_err_t rc = verify(fx.v, t);
        if (rc != cases[i].want)
            fail_msg("header %s: got %s, want %s", cases[i].header, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        jot_free(t);
    }
    /* the classic unsecured JWT: alg none and an empty signature */
    char *t = raw_token("{\"alg\":\"none\"}", payload, "");
    expect_token(fx.v, t, JOT_E_ALG_NONE);
    assert_rc(jot_jws_verify(fx.v, t, strlen(t), NULL), JOT_E_ALG_NONE);
    jot_free(t);
    /* RFC 7519 §6.1 example */
    const char *rfc = "eyJhbGciOiJub25lIn0"
                      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9"
                      "pc19yb290Ijp0cnVlfQ"
                      ".";
    expect_token(fx.v, rfc, JOT_E_ALG_NONE);
    fx_done(&fx);
}

static void test_crit_b64_header_params(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    const char *payload = "{\"exp\":2000000000}";
    const struct {
        const char *header;
        jot_err_t want;
    } cases[] = {
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", JOT_E_CRIT},
        {"{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":true}", JOT_E_CRIT},
        {"{\"alg\":\"HS256\",\"crit\":[\"unknown\"]}", JOT_E_CRIT},
        {"{\"alg\":\"HS256\",\"crit\":[]}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"crit\":\"exp\"}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"crit\":null}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"crit\":{}}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"crit\":1}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"b64\":false}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"b64\":\"false\"}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"b64\":0}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"b64\":null}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"b64\":true}", JOT_OK}, /* the default, spelled out */
        {"{\"alg\":\"HS256\",\"kid\":1}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"kid\":null}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"kid\":[\"a\"]}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"kid\":\"a\"}", JOT_OK},
        {"{\"alg\":\"HS256\",\"kid\":\"\"}", JOT_OK},
        {"{\"alg\":\"HS256\",\"typ\":false}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"cty\":{}}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"jku\":1}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"x5u\":1}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"x5t\":1}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"x5t#S256\":1}", JOT_E_HEADER},
        /* well-typed, and never used to find a key: no effect */
        {"{\"alg\":\"HS256\",\"jku\":\"https://evil.example/jwks\",\"x5u\":\"https://e.x/c\"}",
         JOT_OK},
        {"{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}", JOT_OK},
        {"{\"alg\":\"HS256\",\"cty\":\"JWT\",\"x5t\":\"abc\",\"x5t#S256\":\"def\"}", JOT_OK},
        {"{\"alg\":\"HS256\",\"private\":[1,{\"a\":null}]}", JOT_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = hand_signed(fx.key, cases[i].header, payload);
        jot_err_t rc = verify(fx.v, t);
        if (rc != cases[i].want)
            fail_msg("header %s: got %s, want %s", cases[i].header, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        /* jws_verify applies the same header rules */
        rc = jot_jws_verify(fx.v, t, strlen(t), NULL);
        if (rc != cases[i].want)
            fail_msg("jws_verify header %s: got %s, want %s", cases[i].header, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        jot_free(t);
    }
    fx_done(&fx);
}

/* Regression: a "crit" array holding a non-string is malformed (JOT_E_HEADER), as
 * check_header() documents, not an unsupported extension (JOT_E_CRIT). */
static void test_crit_non_string_member(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    char *t = hand_signed(fx.key, "{\"alg\":\"HS256\",\"crit\":[1]}", "{\"exp\":2000000000}");
    jot_err_t rc = verify(fx.v, t);
    jot_free(t);
    fx_done(&fx);
    assert_true(rc != JOT_OK); /* rejected, in any case */
    assert_rc(rc, JOT_E_HEADER);
}

/* ---- structure ------------------------------------------------------------------------------ */

/* Builds a token from a pattern: 'h', 'p' and 's' stand for the parts of \p good, every
 * other character is copied. */
static void build(char *out, size_t cap, const char *pattern, const char *good)
{
    const char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
    const char *part[3] = {good, d1 + 1, d2 + 1};
    size_t plen[3] = {(size_t)(d1 - good), (size_t)(d2 - d1 - 1), strlen(d2 + 1)};
    size_t o = 0;
    for (const char *c = pattern; *c; c++) {
        const char *hps = strchr("hps", *c);
        const char *src = hps ? part[hps - "hps"] : c;
        size_t n = hps ? plen[hps - "hps"] : 1;
        assert_true(o + n < cap);
        memcpy(out + o, src, n);
        o += n;
    }
    out[o] = '\0';
}

static void test_structure(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    char *good = jwt(fx.key, "{\"exp\":2000000000}");
    expect_token(fx.v, good, JOT_OK);
    char buf[512];
    const struct {
        const char *pattern;
        jot_err_t want;
    } cases[] = {
        {"h.p.s", JOT_OK},
        {"h.p", JOT_E_MALFORMED},       /* 2 parts */
        {"hp.s", JOT_E_MALFORMED},      /* 2 parts */
        {"h.p.s.", JOT_E_MALFORMED},    /* 4 parts, last empty */
        {"h.p.s.s", JOT_E_MALFORMED},   /* 4 parts */
        {"h.p.s.h.p", JOT_E_MALFORMED}, /* 5 parts: the JWE shape */
        {".p.s", JOT_E_MALFORMED},      /* empty header */
        {"..s", JOT_E_MALFORMED},
        {"h.p.", JOT_E_SIGNATURE}, /* empty (stripped) signature */
        {" h.p.s", JOT_E_BASE64},  /* whitespace anywhere */
        {"h.p.s ", JOT_E_BASE64},
        {"h.p.s\n", JOT_E_BASE64},
        {"h.p .s", JOT_E_SIGNATURE}, /* signed text changed */
        {"h=.p.s", JOT_E_BASE64},    /* padding */
        {"h.p.s=", JOT_E_BASE64},
        {"h.p.sA", JOT_E_SIGNATURE}, /* a longer signature */
        {"h.p.ss", JOT_E_SIGNATURE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build(buf, sizeof buf, cases[i].pattern, good);
        jot_err_t rc = verify(fx.v, buf);
        if (rc != cases[i].want)
            fail_msg("token '%s' (%s): got %s, want %s", buf, cases[i].pattern, jot_err_name(rc),
                     jot_err_name(cases[i].want));
    }
    expect_token(fx.v, "", JOT_E_MALFORMED);
    expect_token(fx.v, ".", JOT_E_MALFORMED);
    expect_token(fx.v, "..", JOT_E_MALFORMED);
    expect_token(fx.v, "...", JOT_E_MALFORMED);
    expect_token(fx.v, "abc", JOT_E_MALFORMED);
    /* the length is honoured: a valid token followed by bytes outside len */
    build(buf, sizeof buf, "h.p.s.extra", good);
    assert_rc(jot_verify(fx.v, buf, strlen(good), NULL), JOT_OK);
    /* and an embedded NUL is just a bad byte */
    build(buf, sizeof buf, "h.p.s", good);
    buf[3] = '\0';
    assert_rc(jot_verify(fx.v, buf, strlen(good), NULL), JOT_E_BASE64);
    jot_free(good);
    fx_done(&fx);
}

static void test_header_encoding(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    const char *payload = "{\"exp\":2000000000}";
    const struct {
        const char *header;
        jot_err_t want;
    } cases[] = {
        {"{\"alg\":\"HS256\"", JOT_E_HEADER},     /* not JSON */
        {"{\"alg\":\"HS256\"} {}", JOT_E_HEADER}, /* trailing data */
        {"[\"HS256\"]", JOT_E_HEADER},            /* not an object */
        {"\"HS256\"", JOT_E_HEADER},
        {"\xef\xbb\xbf{\"alg\":\"HS256\"}", JOT_E_HEADER},      /* BOM */
        {"{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}", JOT_E_UTF8}, /* overlong UTF-8 */
        {"{\"alg\":\"HS256\",\"x\":\"\\ud800\"}", JOT_E_HEADER},
        {"{\"alg\":\"HS256\",\"x\":[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}", JOT_E_JSON_DEPTH},
        {"{\"alg\":\"HS256\",\"x\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}", JOT_OK}, /* depth 16 */
        {" {\"alg\" : \"HS256\"}\r\n", JOT_OK},                               /* whitespace */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = hand_signed(fx.key, cases[i].header, payload);
        jot_err_t rc = verify(fx.v, t);
        if (rc != cases[i].want)
            fail_msg("header %s: got %s, want %s", cases[i].header, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        jot_free(t);
    }
    /* non-canonical base64url in each part */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *t = jwt(fx.key, payload);
    char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    /* the signature is 32 bytes: 43 characters, the last carrying 2 unused bits */
    assert_int_equal(strlen(d2 + 1), 43);
    char *lastp = t + strlen(t) - 1, last = *lastp;
    size_t idx = (size_t)(strchr(alphabet, last) - alphabet);
    assert_int_equal(idx & 3, 0);
    *lastp = alphabet[idx | 1];
    expect_token(fx.v, t, JOT_E_BASE64);
    *lastp = alphabet[idx | 2];
    expect_token(fx.v, t, JOT_E_BASE64);
    *lastp = last;
    expect_token(fx.v, t, JOT_OK);
    /* header and payload parts: a character outside the alphabet */
    char h1 = t[1];
    t[1] = '+';
    expect_token(fx.v, t, JOT_E_BASE64);
    t[1] = h1;
    d1[1] = '/';
    expect_token(fx.v, t, JOT_E_SIGNATURE); /* the payload is decoded after the signature */
    jot_free(t);
    fx_done(&fx);
}

static void test_signature_mismatch(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    char *t = jwt(fx.key, "{\"exp\":2000000000,\"sub\":\"alice\"}");
    expect_token(fx.v, t, JOT_OK);
    /* a different key of the same size */
    jot_key_t *other = oct_key_n(32, 2);
    jot_verifier_set_key(fx.v, other);
    expect_token(fx.v, t, JOT_E_SIGNATURE);
    jot_verifier_set_key(fx.v, fx.key);
    /* payload swapped for another validly-encoded payload */
    char *t2 = jwt(fx.key, "{\"exp\":2000000000,\"sub\":\"admin\"}");
    char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    char *e1 = strchr(t2, '.'), *e2 = strchr(e1 + 1, '.');
    assert_int_equal(d2 - d1, e2 - e1);
    memcpy(d1, e1, (size_t)(e2 - e1));
    expect_token(fx.v, t, JOT_E_SIGNATURE);
    jot_free(t);
    /* the header's alg switched to HS384 (same key size would be refused anyway) */
    jot_key_t *k64 = oct_key_n(64, 7);
    jot_verifier_set_key(fx.v, k64);
    jot_verifier_set_algs(fx.v, HS256_ONLY | JOT_ALG_BIT(JOT_ALG_HS384));
    jot_sign_opts_t o = {0};
    o.alg = JOT_ALG_HS256;
    o.typ = "";
    char *t3 = jwt_opts(k64, &o, "{\"exp\":2000000000}");
    char *h384 = b64("{\"alg\":\"HS384\"}", 15);
    assert_int_equal(strchr(t3, '.') - t3, (ptrdiff_t)strlen(h384));
    memcpy(t3, h384, strlen(h384));
    expect_token(fx.v, t3, JOT_E_SIGNATURE);
    /* every single flipped signature character */
    jot_verifier_set_key(fx.v, fx.key);
    jot_verifier_set_algs(fx.v, HS256_ONLY);
    size_t n = strlen(t2);
    for (size_t i = n - 43; i < n - 1; i++) {
        char c = t2[i];
        t2[i] = c == 'A' ? 'B' : 'A';
        assert_rc(jot_verify(fx.v, t2, n, NULL), JOT_E_SIGNATURE);
        t2[i] = c;
    }
    assert_rc(jot_verify(fx.v, t2, n, NULL), JOT_OK);
    /* truncated signatures */
    for (size_t cut = 1; cut < 43; cut++) {
        jot_err_t rc = jot_verify(fx.v, t2, n - cut, NULL);
        if (rc != JOT_E_SIGNATURE && rc != JOT_E_BASE64)
            fail_msg("signature cut by %zu: %s", cut, jot_err_name(rc));
        if ((43 - cut) % 4 == 0 && rc != JOT_E_SIGNATURE)
            fail_msg("signature cut by %zu: %s, want JOT_E_SIGNATURE", cut, jot_err_name(rc));
        if ((43 - cut) % 4 == 1 && rc != JOT_E_BASE64)
            fail_msg("signature cut by %zu: %s, want JOT_E_BASE64", cut, jot_err_name(rc));
    }
    /* an over-long signature is refused before it is decoded */
    size_t big = 3000;
    char *longsig = jot__malloc(n + big + 1);
    memcpy(longsig, t2, n);
    memset(longsig + n, 'A', big);
    longsig[n + big] = '\0';
    expect_token(fx.v, longsig, JOT_E_SIGNATURE);
    jot_free(longsig);
    jot_free(h384);
    jot_free(t3);
    jot_key_free(k64);
    jot_free(t2);
    jot_key_free(other);
    fx_done(&fx);
}

/* ---- sizes ---------------------------------------------------------------------------------- */

static void test_token_size_limits(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    const char *hdr = "{\"alg\":\"HS256\"}";
    size_t fixed = jot_b64url_encoded_len(strlen(hdr)) + 2 + 43;
    /* a payload whose token is exactly JOT_MAX_TOKEN_LEN long */
    size_t plen = 0;
    for (size_t n = 40000; n < JOT_MAX_PAYLOAD_BYTES; n++)
        if (fixed + jot_b64url_encoded_len(n) == JOT_MAX_TOKEN_LEN)
            plen = n;
    assert_true(plen > 0);
    char *payload = test_malloc(plen + 2);
    const char *head = "{\"exp\":2000000000,\"p\":\"";
    memset(payload, 'x', plen + 1);
    memcpy(payload, head, strlen(head));
    memcpy(payload + plen - 2, "\"}", 3);
    assert_int_equal(strlen(payload), plen);
    char *t = NULL;
    size_t len = 0;
    assert_rc(jot_jws_sign(fx.key, JOT_ALG_HS256, hdr, strlen(hdr), (const uint8_t *)payload, plen,
                           &t, &len),
              JOT_OK);
    assert_int_equal(len, JOT_MAX_TOKEN_LEN);
    expect_token(fx.v, t, JOT_OK);
    /* one byte more: the token cannot be made, and a hand-made one is refused */
    char *big = jot__malloc(len + 2);
    memcpy(big, t, len);
    big[len] = 'A';
    big[len + 1] = '\0';
    assert_rc(jot_verify(fx.v, big, len + 1, NULL), JOT_E_TOOBIG);
    assert_rc(jot_jws_verify(fx.v, big, len + 1, NULL), JOT_E_TOOBIG);
    jot_token_t *tok = NULL;
    assert_rc(jot_decode_unverified(big, len + 1, &tok), JOT_E_TOOBIG);
    jot_free(big);
    jot_free(t);
    memset(payload, 'x', plen + 1);
    memcpy(payload, head, strlen(head));
    memcpy(payload + plen - 1, "\"}", 3);
    t = (char *)"untouched";
    assert_rc(jot_jws_sign(fx.key, JOT_ALG_HS256, hdr, strlen(hdr), (const uint8_t *)payload,
                           plen + 1, &t, &len),
              JOT_E_TOOBIG);
    assert_string_equal(t, "untouched");
    test_free(payload);
    /* the payload cap of jot_jws_sign */
    uint8_t *huge = test_calloc(1, JOT_MAX_PAYLOAD_BYTES + 1);
    assert_rc(jot_jws_sign(fx.key, JOT_ALG_HS256, hdr, strlen(hdr), huge, JOT_MAX_PAYLOAD_BYTES + 1,
                           &t, &len),
              JOT_E_TOOBIG);
    test_free(huge);
    /* a far larger token: refused on length alone */
    size_t n = 1u << 20;
    char *flood = test_malloc(n + 1);
    memset(flood, 'A', n);
    flood[10] = '.';
    flood[20] = '.';
    flood[n] = '\0';
    assert_rc(jot_verify(fx.v, flood, n, NULL), JOT_E_TOOBIG);
    test_free(flood);
    /* jot_jws_sign_large: a document beyond a token's caps, up to the caller's max_len */
    size_t dlen = 200 * 1024;
    uint8_t *doc = test_malloc(dlen);
    memset(doc, 'x', dlen);
    memcpy(doc, "{\"a\":\"", 6);
    memcpy(doc + dlen - 2, "\"}", 2);
    t = NULL;
    assert_rc(jot_jws_sign_large(fx.key, JOT_ALG_HS256, hdr, strlen(hdr), doc, dlen,
                                 JOT_MAX_LARGE_TOKEN_LEN, &t, &len),
              JOT_OK);
    assert_true(len > dlen && len <= JOT_MAX_LARGE_TOKEN_LEN);
    assert_int_equal(strlen(t), len);
    assert_rc(jot_verify(fx.v, t, len, NULL), JOT_E_TOOBIG); /* a document, not a token */
    jot_free(t);
    t = (char *)"untouched";
    assert_rc(
        jot_jws_sign_large(fx.key, JOT_ALG_HS256, hdr, strlen(hdr), doc, dlen, dlen, &t, &len),
        JOT_E_TOOBIG); /* the whole token is longer than max_len */
    assert_rc(jot_jws_sign_large(fx.key, JOT_ALG_HS256, hdr, strlen(hdr), doc, dlen,
                                 JOT_MAX_LARGE_TOKEN_LEN + 1, &t, &len),
              JOT_E_INVAL);
    assert_rc(jot_jws_sign_large(fx.key, JOT_ALG_HS384, hdr, strlen(hdr), doc, dlen,
                                 JOT_MAX_LARGE_TOKEN_LEN, &t, &len),
              JOT_E_HEADER); /* the header names HS256 */
    assert_string_equal(t, "untouched");
    test_free(doc);
    fx_done(&fx);
}

static void test_header_size_limit(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    const char *payload = "{\"exp\":2000000000}";
    size_t n = JOT_MAX_HEADER_BYTES;
    char *hdr = test_malloc(n + 2);
    const char *head = "{\"alg\":\"HS256\",\"x\":\"";
    memset(hdr, 'x', n + 1);
    memcpy(hdr, head, strlen(head));
    memcpy(hdr + n - 2, "\"}", 3);
    assert_int_equal(strlen(hdr), n);
    /* exactly the limit: fine */
    char *t = jws(fx.key, JOT_ALG_HS256, hdr, payload);
    expect_token(fx.v, t, JOT_OK);
    jot_free(t);
    /* one byte more */
    memset(hdr, 'x', n + 1);
    memcpy(hdr, head, strlen(head));
    memcpy(hdr + n - 1, "\"}", 3);
    assert_int_equal(strlen(hdr), n + 1);
    size_t len = 0;
    assert_rc(jot_jws_sign(fx.key, JOT_ALG_HS256, hdr, n + 1, (const uint8_t *)payload,
                           strlen(payload), &t, &len),
              JOT_E_TOOBIG);
    t = hand_signed(fx.key, hdr, payload);
    expect_token(fx.v, t, JOT_E_TOOBIG);
    jot_free(t);
    test_free(hdr);
    fx_done(&fx);
}

/* ---- the payload ---------------------------------------------------------------------------- */

static void test_payload_not_an_object(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    jot_verifier_allow_no_exp(fx.v, 1);
    const char *hdr = "{\"alg\":\"HS256\"}";
    /* each correctly signed: only the payload is wrong */
    const struct {
        const char *payload;
        jot_err_t want;
    } cases[] = {
        {"[]", JOT_E_PAYLOAD},
        {"[{\"exp\":2000000000}]", JOT_E_PAYLOAD},
        {"\"string\"", JOT_E_PAYLOAD},
        {"null", JOT_E_PAYLOAD},
        {"42", JOT_E_PAYLOAD},
        {"true", JOT_E_PAYLOAD},
        {"Payload", JOT_E_PAYLOAD},
        {"", JOT_E_PAYLOAD},
        {"{", JOT_E_JSON},
        {"{} {}", JOT_E_JSON},
        {"\xef\xbb\xbf{}", JOT_E_PAYLOAD},
        {"{\"a\":1,\"a\":2}", JOT_E_JSON_DUPLICATE},
        {"{\"exp\":2000000000,\"exp\":1}", JOT_E_JSON_DUPLICATE},
        {"{\"exp\":1,\"exp\":2000000000}", JOT_E_JSON_DUPLICATE},
        {"{\"x\":{\"sub\":\"a\",\"sub\":\"b\"}}", JOT_E_JSON_DUPLICATE},
        {"{\"sub\":\"\xed\xa0\x80\"}", JOT_E_UTF8},
        {"{\"x\":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}", JOT_E_JSON_DEPTH},
        {"{\"x\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}", JOT_OK}, /* depth 16 with the object */
        {" {} ", JOT_OK},
        {"{}", JOT_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = jws(fx.key, JOT_ALG_HS256, hdr, cases[i].payload);
        jot_err_t rc = verify(fx.v, t);
        if (rc != cases[i].want)
            fail_msg("payload '%s': got %s, want %s", cases[i].payload, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        jot_free(t);
    }
    /* JOT_MAX_CLAIMS members, then one more */
    char *claims = test_malloc(16 * (JOT_MAX_CLAIMS + 2));
    size_t o = 0;
    claims[o++] = '{';
    for (unsigned i = 0; i <= JOT_MAX_CLAIMS; i++)
        o += (size_t)snprintf(claims + o, 16, "%s\"c%u\":%u", i ? "," : "", i, i);
    claims[o++] = '}';
    claims[o] = '\0';
    char *t = jws(fx.key, JOT_ALG_HS256, hdr, claims);
    expect_token(fx.v, t, JOT_E_TOOBIG);
    jot_free(t);
    char *last = strrchr(claims, ',');
    last[0] = '}';
    last[1] = '\0';
    t = jws(fx.key, JOT_ALG_HS256, hdr, claims);
    expect_token(fx.v, t, JOT_OK);
    jot_free(t);
    test_free(claims);
    fx_done(&fx);
}

/* The signature is checked before the payload is looked at. */
static void test_signature_before_payload(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    const char *hdr = "{\"alg\":\"HS256\"}";
    /* a hostile payload under a bad signature: the signature is what fails */
    const char *payloads[] = {"{\"a\":1,\"a\":2}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "Payload",
                              "{\"exp\":0}", "{\"sub\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char *t = raw_token(hdr, payloads[i], "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        expect_token(fx.v, t, JOT_E_SIGNATURE);
        jot_free(t);
    }
    /* a payload part that is not base64url: under a bad signature, still the signature */
    char *h = b64(hdr, strlen(hdr));
    char *t = join3(h, "not+base64", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    expect_token(fx.v, t, JOT_E_SIGNATURE);
    jot_free(t);
    /* ... and under a valid HMAC of that exact text, the encoding */
    char *input = join3(h, "not+base64", "");
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    assert_rc(jot__sig_sign(JOT_ALG_HS256, fx.key, (const uint8_t *)input, strlen(input) - 1, &sig,
                            &sig_len),
              JOT_OK);
    char *s = b64(sig, sig_len);
    t = join3(h, "not+base64", s);
    expect_token(fx.v, t, JOT_E_BASE64);
    assert_rc(jot_jws_verify(fx.v, t, strlen(t), NULL), JOT_E_BASE64);
    jot_free(t);
    jot_free(s);
    jot_free(sig);
    jot_free(input);
    jot_free(h);
    fx_done(&fx);
}

static void test_jws_verify_any_payload(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    char *t = jws(fx.key, JOT_ALG_HS256, "{\"alg\":\"HS256\",\"cty\":\"text/plain\"}", "Payload");
    jot_token_t *tok = NULL;
    assert_rc(jot_jws_verify(fx.v, t, strlen(t), &tok), JOT_OK);
    size_t len = 0;
    const uint8_t *p = jot_token_payload(tok, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "Payload", 7);
    assert_int_equal(p[len], 0); /* NUL-terminated for convenience */
    assert_null(jot_token_claims(tok));
    assert_int_equal(jot_token_alg(tok), JOT_ALG_HS256);
    jot_token_free(tok);
    assert_rc(jot_jws_verify(fx.v, t, strlen(t), NULL), JOT_OK);
    /* the same token is not a JWT */
    expect_token(fx.v, t, JOT_E_PAYLOAD);
    jot_free(t);
    /* binary payload */
    const uint8_t bin[4] = {0x00, 0xff, 0x80, 0x0a};
    char *b = NULL;
    assert_rc(jot_jws_sign(fx.key, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", 15, bin, 4, &b, NULL),
              JOT_OK);
    assert_rc(jot_jws_verify(fx.v, b, strlen(b), &tok), JOT_OK);
    p = jot_token_payload(tok, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(p, bin, 4);
    jot_token_free(tok);
    expect_token(fx.v, b, JOT_E_PAYLOAD);
    jot_free(b);
    /* jws_verify judges no claims: an expired JWT is a valid JWS */
    t = jwt(fx.key, "{\"exp\":1}");
    assert_rc(jot_jws_verify(fx.v, t, strlen(t), NULL), JOT_OK);
    expect_token(fx.v, t, JOT_E_EXPIRED);
    /* but it does verify the signature */
    t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
    assert_rc(jot_jws_verify(fx.v, t, strlen(t), NULL), JOT_E_SIGNATURE);
    jot_free(t);
    /* an empty payload */
    b = jws(fx.key, JOT_ALG_HS256, "{\"alg\":\"HS256\"}", "");
    assert_rc(jot_jws_verify(fx.v, b, strlen(b), &tok), JOT_OK);
    assert_non_null(jot_token_payload(tok, &len));
    assert_int_equal(len, 0);
    jot_token_free(tok);
    jot_free(b);
    fx_done(&fx);
}

/* ---- decode without verifying ------------------------------------------------------------------
 */

static void test_decode_unverified(void **state)
{
    (void)state;
    jot_key_t *key = oct_key_n(32, 1);
    jot_sign_opts_t o = {0};
    o.kid = "kid-1";
    char *t = jwt_opts(key, &o, "{\"exp\":1,\"sub\":\"bob\"}");
    jot_token_t *tok = NULL;
    assert_rc(jot_decode_unverified(t, strlen(t), &tok), JOT_OK);
    assert_int_equal(jot_token_alg(tok), JOT_ALG_HS256);
    assert_string_equal(jot_token_kid(tok), "kid-1");
    assert_string_equal(jot_token_typ(tok), "JWT");
    const char *sub = NULL;
    assert_rc(jot_claims_get_string(jot_token_claims(tok), "sub", &sub), JOT_OK);
    assert_string_equal(sub, "bob");
    jot_token_free(tok);
    /* a wrong signature, alg none, unknown alg, no alg: all decode (nothing is judged) */
    const struct {
        const char *header;
        jot_alg_t alg;
    } shown[] = {
        {"{\"alg\":\"none\"}", JOT_ALG_UNSET},
        {"{\"alg\":\"XYZ\"}", JOT_ALG_UNSET},
        {"{\"typ\":\"JWT\"}", JOT_ALG_UNSET},
        {"{\"alg\":1}", JOT_ALG_UNSET},
        {"{\"alg\":\"ES512\"}", JOT_ALG_ES512},
        {"{\"alg\":\"HS256\",\"crit\":[\"x\"]}", JOT_ALG_HS256},
    };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        char *r = raw_token(shown[i].header, "{\"a\":1}", "c2ln");
        tok = NULL;
        assert_rc(jot_decode_unverified(r, strlen(r), &tok), JOT_OK);
        assert_int_equal(jot_token_alg(tok), shown[i].alg);
        assert_non_null(jot_token_claims(tok));
        jot_token_free(tok);
        jot_free(r);
    }
    /* a non-object payload decodes, without claims */
    const char *payloads[] = {"Payload", "[1]", "{not json", "", "{\"a\":1,\"a\":2}"};
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char *r = raw_token("{\"alg\":\"HS256\"}", payloads[i], "");
        tok = NULL;
        assert_rc(jot_decode_unverified(r, strlen(r), &tok), JOT_OK);
        assert_null(jot_token_claims(tok));
        size_t len = 0;
        jot_token_payload(tok, &len);
        assert_int_equal(len, strlen(payloads[i]));
        jot_token_free(tok);
        jot_free(r);
    }
    /* malformed input is still refused */
    static int sentinel_storage;
    jot_token_t *const sentinel = (jot_token_t *)&sentinel_storage;
    const struct {
        const char *token;
        jot_err_t want;
    } bad[] = {
        {"", JOT_E_MALFORMED},
        {"eyJhbGciOiJIUzI1NiJ9.e30", JOT_E_MALFORMED},
        {"eyJhbGciOiJIUzI1NiJ9.e30.c2ln.x", JOT_E_MALFORMED},
        {".e30.c2ln", JOT_E_MALFORMED},
        {"eyJhbGciOiJIUzI1NiJ9=.e30.c2ln", JOT_E_BASE64},
        {"eyJhbGciOiJIUzI1NiJ9.e30=.c2ln", JOT_E_BASE64},
        {"eyJhbGciOiJIUzI1NiJ9.e30.c2ln=", JOT_E_BASE64},
        {"eyJhbGciOiJIUzI1NiJ9.e30.c2l", JOT_E_BASE64}, /* unused bits set */
        {"eyJhbGciOiJIUzI1NiJ9.e30.c", JOT_E_BASE64},   /* length % 4 == 1 */
        {"bm90IGpzb24.e30.c2ln", JOT_E_HEADER},         /* "not json" */
        {"WzFd.e30.c2ln", JOT_E_HEADER},                /* "[1]" */
        {"eyJhIjoxLCJhIjoyfQ.e30.c2ln", JOT_E_JSON_DUPLICATE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tok = sentinel;
        jot_err_t rc = jot_decode_unverified(bad[i].token, strlen(bad[i].token), &tok);
        if (rc != bad[i].want)
            fail_msg("decode '%s': got %s, want %s", bad[i].token, jot_err_name(rc),
                     jot_err_name(bad[i].want));
        assert_ptr_equal(tok, sentinel);
    }
    assert_rc(jot_decode_unverified(NULL, 3, &tok), JOT_E_INVAL);
    assert_rc(jot_decode_unverified(t, strlen(t), NULL), JOT_E_INVAL);
    jot_free(t);
    jot_key_free(key);
}

static void test_token_accessors_null(void **state)
{
    (void)state;
    size_t len = 99;
    assert_int_equal(jot_token_alg(NULL), JOT_ALG_UNSET);
    assert_null(jot_token_kid(NULL));
    assert_null(jot_token_typ(NULL));
    assert_null(jot_token_claims(NULL));
    assert_null(jot_token_header_json(NULL, &len));
    assert_null(jot_token_payload(NULL, &len));
    jot_token_free(NULL);
    /* a kid or typ that is absent reads as NULL */
    jot_key_t *key = oct_key_n(32, 1);
    jot_sign_opts_t o = {0};
    o.typ = "";
    char *t = jwt_opts(key, &o, "{}");
    jot_token_t *tok = NULL;
    assert_rc(jot_decode_unverified(t, strlen(t), &tok), JOT_OK);
    assert_null(jot_token_kid(tok));
    assert_null(jot_token_typ(tok));
    assert_non_null(jot_token_header_json(tok, NULL)); /* out_len may be NULL */
    assert_non_null(jot_token_payload(tok, NULL));
    jot_token_free(tok);
    jot_free(t);
    jot_key_free(key);
}

/* ---- verifier arguments ---------------------------------------------------------------------- */

static void test_verifier_arguments(void **state)
{
    (void)state;
    fx_t fx;
    fx_init(&fx);
    char *t = jwt(fx.key, "{\"exp\":2000000000}");
    jot_token_t *tok = NULL;
    assert_rc(jot_verifier_new(NULL), JOT_E_INVAL);
    assert_rc(jot_verify(NULL, t, strlen(t), &tok), JOT_E_INVAL);
    assert_rc(jot_verify(fx.v, NULL, 10, &tok), JOT_E_INVAL);
    assert_rc(jot_jws_verify(NULL, t, strlen(t), &tok), JOT_E_INVAL);
    assert_rc(jot_jws_verify(fx.v, NULL, 10, &tok), JOT_E_INVAL);
    assert_null(tok);
    assert_rc(jot_verifier_set_issuer(NULL, "x"), JOT_E_INVAL);
    assert_rc(jot_verifier_set_subject(NULL, "x"), JOT_E_INVAL);
    assert_rc(jot_verifier_set_typ(NULL, "x"), JOT_E_INVAL);
    assert_rc(jot_verifier_add_audience(NULL, "x"), JOT_E_INVAL);
    assert_rc(jot_verifier_require_claim(NULL, "x"), JOT_E_INVAL);
    /* setters on NULL are no-ops, not crashes */
    jot_verifier_set_key(NULL, fx.key);
    jot_verifier_set_keyset(NULL, NULL);
    jot_verifier_set_algs(NULL, 1);
    jot_verifier_set_leeway(NULL, 1);
    jot_verifier_set_clock(NULL, fixed_clock, NULL);
    jot_verifier_set_max_age(NULL, 1);
    jot_verifier_allow_no_exp(NULL, 1);
    jot_verifier_free(NULL);
    /* strings given to the verifier are copied */
    char iss[8] = "joe";
    assert_rc(jot_verifier_set_issuer(fx.v, iss), JOT_OK);
    iss[0] = 'X';
    jot_free(t);
    t = jwt(fx.key, "{\"exp\":2000000000,\"iss\":\"joe\"}");
    expect_token(fx.v, t, JOT_OK);
    jot_free(t);
    /* many audiences, up to the cap */
    char aud[16];
    for (unsigned i = 0; i < JOT_MAX_CLAIMS; i++) {
        snprintf(aud, sizeof aud, "aud%u", i);
        assert_rc(jot_verifier_add_audience(fx.v, aud), JOT_OK);
    }
    assert_rc(jot_verifier_add_audience(fx.v, "one-too-many"), JOT_E_TOOBIG);
    t = jwt(fx.key, "{\"exp\":2000000000,\"iss\":\"joe\",\"aud\":[\"x\",\"aud255\"]}");
    expect_token(fx.v, t, JOT_OK);
    jot_free(t);
    fx_done(&fx);
}

/* ---- key sets ---------------------------------------------------------------------------------
 */

static jot_key_t *oct_key_kid(size_t len, uint8_t seed, const char *kid)
{
    jot_key_t *k = oct_key_n(len, seed);
    assert_rc(jot_key_set_kid(k, kid), JOT_OK);
    return k;
}

static char *jwt_kid(const jot_key_t *key, const char *kid)
{
    jot_sign_opts_t o = {0};
    o.kid = kid;
    return jwt_opts(key, &o, "{\"exp\":2000000000}");
}

static void test_keyset_selection(void **state)
{
    (void)state;
    jot_key_t *k1 = oct_key_kid(32, 11, "k1"), *k2 = oct_key_kid(32, 22, "k2");
    jot_key_t *signer1 = oct_key_kid(32, 11, "k1"), *signer2 = oct_key_kid(32, 22, "k2");
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    assert_rc(jot_keyset_add(set, k1), JOT_OK);
    jot_verifier_t *v = NULL;
    assert_rc(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_keyset(v, set);
    jot_verifier_set_algs(v, HS256_ONLY);
    int64_t now = NOW;
    jot_verifier_set_clock(v, fixed_clock, &now);

    char *t1 = jwt_kid(signer1, NULL);     /* kid "k1" from the key */
    char *t2 = jwt_kid(signer2, NULL);     /* kid "k2" */
    char *t1_nokid = jwt_kid(signer1, ""); /* no kid */
    char *t2_nokid = jwt_kid(signer2, "");
    char *t1_as_k2 = jwt_kid(signer1, "k2"); /* signed by k1, claims to be k2 */
    char *t_k3 = jwt_kid(signer1, "k3");
    char *t_K1 = jwt_kid(signer1, "K1");
    char *t_k1x = jwt_kid(signer1, "k1 ");

    /* one key in the set */
    expect_token(v, t1, JOT_OK);
    expect_token(v, t1_nokid, JOT_OK); /* no kid, one suitable key */
    expect_token(v, t2_nokid, JOT_E_SIGNATURE);
    expect_token(v, t_k3, JOT_E_KEY_NOT_FOUND);
    expect_token(v, t_K1, JOT_E_KEY_NOT_FOUND); /* kids are exact */
    expect_token(v, t_k1x, JOT_E_KEY_NOT_FOUND);

    /* two keys */
    assert_rc(jot_keyset_add(set, k2), JOT_OK);
    expect_token(v, t1, JOT_OK);
    expect_token(v, t2, JOT_OK);
    expect_token(v, t1_as_k2, JOT_E_SIGNATURE);
    expect_token(v, t_k3, JOT_E_KEY_NOT_FOUND);
    /* no kid and two suitable keys: ambiguous, no guessing */
    expect_token(v, t1_nokid, JOT_E_KEY_NOT_FOUND);
    expect_token(v, t2_nokid, JOT_E_KEY_NOT_FOUND);

    /* an empty set, and a verifier with neither key nor set */
    jot_keyset_t *empty = NULL;
    assert_rc(jot_keyset_new(&empty), JOT_OK);
    jot_verifier_set_keyset(v, empty);
    expect_token(v, t1, JOT_E_KEY_NOT_FOUND);
    expect_token(v, t1_nokid, JOT_E_KEY_NOT_FOUND);
    jot_verifier_set_keyset(v, NULL);
    expect_token(v, t1, JOT_E_KEY_NOT_FOUND);

    /* a kid that is not a string is a bad header, not a lookup */
    jot_verifier_set_keyset(v, set);
    char *bad = hand_signed(signer1, "{\"alg\":\"HS256\",\"kid\":1}", "{\"exp\":2000000000}");
    expect_token(v, bad, JOT_E_HEADER);
    jot_free(bad);

    jot_free(t1);
    jot_free(t2);
    jot_free(t1_nokid);
    jot_free(t2_nokid);
    jot_free(t1_as_k2);
    jot_free(t_k3);
    jot_free(t_K1);
    jot_free(t_k1x);
    jot_verifier_free(v);
    jot_keyset_free(empty);
    jot_keyset_free(set);
    jot_key_free(signer1);
    jot_key_free(signer2);
}

/* Without a kid, only keys that suit the token's algorithm count. */
static void test_keyset_no_kid_picks_suitable_key(void **state)
{
    (void)state;
    jot_key_t *a = oct_key_kid(32, 11, "a"), *b = oct_key_kid(48, 22, "b");
    jot_key_t *sa = oct_key_n(32, 11), *sb = oct_key_n(48, 22);
    assert_rc(jot_key_set_alg(a, JOT_ALG_HS256), JOT_OK);
    assert_rc(jot_key_set_alg(b, JOT_ALG_HS384), JOT_OK);
    jot_keyset_t *set = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    assert_rc(jot_keyset_add(set, a), JOT_OK);
    assert_rc(jot_keyset_add(set, b), JOT_OK);
    jot_verifier_t *v = NULL;
    assert_rc(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_keyset(v, set);
    jot_verifier_set_algs(v, HS256_ONLY | JOT_ALG_BIT(JOT_ALG_HS384));
    int64_t now = NOW;
    jot_verifier_set_clock(v, fixed_clock, &now);
    jot_sign_opts_t o = {0};
    o.alg = JOT_ALG_HS256;
    char *t256 = jwt_opts(sa, &o, "{\"exp\":2000000000}");
    o.alg = JOT_ALG_HS384;
    char *t384 = jwt_opts(sb, &o, "{\"exp\":2000000000}");
    expect_token(v, t256, JOT_OK);
    expect_token(v, t384, JOT_OK);
    /* HS512: no key suits it */
    jot_key_t *s64 = oct_key_n(64, 33);
    o.alg = JOT_ALG_HS512;
    char *t512 = jwt_opts(s64, &o, "{\"exp\":2000000000}");
    jot_verifier_set_algs(v, ~0u);
    expect_token(v, t512, JOT_E_KEY_NOT_FOUND);
    jot_free(t512);
    jot_key_free(s64);
    jot_free(t256);
    jot_free(t384);
    jot_verifier_free(v);
    jot_keyset_free(set);
    jot_key_free(sa);
    jot_key_free(sb);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static jot_key_t *oom_key;

/* Sign a claim set, verify it with a full policy, read the result. JOT_E_MALFORMED flags a
 * success that lost data. */
static jot_err_t sign_verify_scenario(void)
{
    jot_claims_t *c = NULL;
    jot_verifier_t *v = NULL;
    jot_token_t *tok = NULL;
    char *t = NULL;
    size_t len = 0;
    int64_t now = NOW;
    const char *aud[] = {"api", "web"};
    jot_sign_opts_t o = {0};
    o.kid = "kid";
    jot_err_t rc = jot_claims_new(&c);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "iss", "joe");
    if (rc == JOT_OK)
        rc = jot_claims_set_strings(c, "aud", aud, 2);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "exp", 2000000000);
    if (rc == JOT_OK)
        rc = jot_jwt_sign(oom_key, &o, c, &t, &len);
    if (rc == JOT_OK)
        rc = jot_verifier_new(&v);
    if (rc == JOT_OK) {
        jot_verifier_set_key(v, oom_key);
        jot_verifier_set_algs(v, HS256_ONLY);
        jot_verifier_set_clock(v, fixed_clock, &now);
        rc = jot_verifier_set_issuer(v, "joe");
    }
    if (rc == JOT_OK)
        rc = jot_verifier_add_audience(v, "web");
    if (rc == JOT_OK)
        rc = jot_verifier_set_typ(v, "JWT");
    if (rc == JOT_OK)
        rc = jot_verifier_require_claim(v, "aud");
    if (rc == JOT_OK)
        rc = jot_verify(v, t, len, &tok);
    if (rc == JOT_OK) {
        const char *iss = NULL;
        if (jot_claims_get_string(jot_token_claims(tok), "iss", &iss) != JOT_OK ||
            strcmp(iss, "joe") != 0 || strcmp(jot_token_kid(tok), "kid") != 0)
            rc = JOT_E_MALFORMED;
    }
    jot_token_free(tok);
    jot_verifier_free(v);
    jot_free(t);
    jot_claims_free(c);
    return rc;
}

static int oom_torture(jot_err_t (*scenario)(void), bool report_codes)
{
    oom_key = oct_key_n(32, 1);
    oom_install();
    int wrong_codes = 0;
    long wrong_by_code[JOT_ERR__LAST] = {0}, first_by_code[JOT_ERR__LAST] = {0};
    long k;
    for (k = 0; k < 10000; k++) {
        long live0 = oom_live();
        oom_arm(k + 1, true); /* k allocations succeed, then every one fails */
        jot_err_t rc = scenario();
        oom_disarm();
        long leaked = oom_live() - live0;
        if (leaked != 0 || rc == JOT_E_MALFORMED) {
            oom_uninstall();
            jot_key_free(oom_key);
            if (leaked != 0)
                fail_msg("allocation %ld failing leaks %ld allocation(s) (rc %s)", k, leaked,
                         jot_err_name(rc));
            fail_msg("allocation %ld failing: success reported but data lost", k);
        }
        if (!oom_injected()) {
            oom_uninstall();
            jot_key_free(oom_key);
            assert_rc(rc, JOT_OK);
            break;
        }
        if (rc != JOT_OK && rc != JOT_E_NOMEM) {
            if (rc >= 0 && rc < JOT_ERR__LAST && wrong_by_code[rc]++ == 0)
                first_by_code[rc] = k;
            wrong_codes++;
        }
    }
    assert_true(k > 10);
    for (int code = 0; report_codes && code < JOT_ERR__LAST; code++)
        if (wrong_by_code[code])
            print_error("  %ld of %ld allocation failures reported as %s (first: allocation %ld)\n",
                        wrong_by_code[code], k, jot_err_name((jot_err_t)code), first_by_code[code]);
    return wrong_codes;
}

static void test_oom_no_leaks(void **state)
{
    (void)state;
    (void)oom_torture(sign_verify_scenario, false);
}

/* Regression: allocation failures used to surface as JOT_E_UTF8 (jot_jwt_sign, claim
 * setters), JOT_E_HEADER or JOT_E_PAYLOAD (a failed jansson parse read as JOT_E_JSON)
 * instead of JOT_E_NOMEM. */
static void test_oom_reports_nomem(void **state)
{
    (void)state;
    int wrong = oom_torture(sign_verify_scenario, true);
    if (wrong)
        fail_msg("%d allocation failure(s) reported as something other than JOT_E_NOMEM", wrong);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7515_a1),
        cmocka_unit_test(test_jwt_sign_header),
        cmocka_unit_test(test_jwt_sign_errors),
        cmocka_unit_test(test_jws_sign_errors),
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_exp_types),
        cmocka_unit_test(test_missing_exp),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_leeway_bounds),
        cmocka_unit_test(test_iat_max_age),
        cmocka_unit_test(test_iat_max_age_no_overflow),
        cmocka_unit_test(test_extreme_clock),
        cmocka_unit_test(test_default_clock),
        cmocka_unit_test(test_iss),
        cmocka_unit_test(test_aud),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_typ),
        cmocka_unit_test(test_required_claims),
        cmocka_unit_test(test_add_issuer),
        cmocka_unit_test(test_verify_detail),
        cmocka_unit_test(test_verify_detail_header),
        cmocka_unit_test(test_alg_allowlist),
        cmocka_unit_test(test_alg_key_binding),
        cmocka_unit_test(test_alg_header_values),
        cmocka_unit_test(test_crit_b64_header_params),
        cmocka_unit_test(test_crit_non_string_member),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_header_encoding),
        cmocka_unit_test(test_signature_mismatch),
        cmocka_unit_test(test_token_size_limits),
        cmocka_unit_test(test_header_size_limit),
        cmocka_unit_test(test_payload_not_an_object),
        cmocka_unit_test(test_signature_before_payload),
        cmocka_unit_test(test_jws_verify_any_payload),
        cmocka_unit_test(test_decode_unverified),
        cmocka_unit_test(test_token_accessors_null),
        cmocka_unit_test(test_verifier_arguments),
        cmocka_unit_test(test_keyset_selection),
        cmocka_unit_test(test_keyset_no_kid_picks_suitable_key),
        cmocka_unit_test(test_oom_no_leaks),
        cmocka_unit_test(test_oom_reports_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
