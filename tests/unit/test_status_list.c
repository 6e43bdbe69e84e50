/* Token status (lib/status.c): decoding (the draft's small examples, bit order), and the
 * checker against the in-process server of support/httpd.c: valid, revoked, suspended,
 * ttl refetch, stale then fail closed, decompression bomb, index out of range, wrong
 * signature, wrong typ, wrong sub, URI not allowed, missing claim. The long examples of
 * the draft are tests/conformance/conf_status_list.c. */
#include "test.h"
#include "support/httpd.h"

#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static jot_key_t *k1, *k2;
static jot_keyset_t *keys; /* k1 public */

static int group_setup(void **state)
{
    (void)state;
    jot_key_t *pub = NULL;
    if (jot_key_generate(JOT_ALG_ES256, 0, &k1) || jot_key_generate(JOT_ALG_ES256, 0, &k2) ||
        jot_key_set_kid(k1, "k1") || jot_key_set_kid(k2, "k2") || jot_key_public(k1, &pub) ||
        jot_keyset_new(&keys) || jot_keyset_add(keys, pub))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    jot_key_free(k1);
    jot_key_free(k2);
    jot_keyset_free(keys);
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- decoding ------------------------------------------------------------------------ */

static void decode_example(const char *json, unsigned want_bits, const unsigned *want, size_t n)
{
    json_t *obj = NULL;
    assert_rc(jot__json_parse(json, strlen(json), 4096, 4, true, &obj), JOT_OK);
    uint8_t *bytes = NULL;
    size_t len = 0;
    unsigned bits = 0;
    assert_rc(jot__status_list_decode(obj, 1024, &bytes, &len, &bits), JOT_OK);
    assert_int_equal(bits, want_bits);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 99;
        assert_rc(jot__status_get(bytes, len, bits, i, &v), JOT_OK);
        if (v != want[i])
            fail_msg("status[%zu] = %u, want %u", i, v, want[i]);
    }
    unsigned v;
    assert_rc(jot__status_get(bytes, len, bits, len * 8 / bits, &v), JOT_E_STATUS_LIST);
    assert_rc(jot__status_get(bytes, len, bits, UINT64_MAX, &v), JOT_E_STATUS_LIST);
    jot_free(bytes);
    json_decref(obj);
}

/* The two examples of the draft's "Compressed Byte Array" section. */
static void test_draft_examples(void **state)
{
    (void)state;
    static const unsigned one[16] = {1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1};
    decode_example("{\"bits\":1,\"lst\":\"eNrbuRgAAhcBXQ\"}", 1, one, 16);
    static const unsigned two[12] = {1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3};
    decode_example("{\"bits\":2,\"lst\":\"eNo76fITAAPfAgc\"}", 2, two, 12);
}

static void test_decode_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"bits\":3,\"lst\":\"eNrbuRgAAhcBXQ\"}",   /* bits not 1/2/4/8 */
        "{\"bits\":1,\"lst\":\"eNrbuRgAAhcBXQ==\"}", /* padding */
        "{\"bits\":1,\"lst\":\"eNrbuRgAAhcB\"}",     /* truncated stream */
        "{\"bits\":1,\"lst\":\"AAAA\"}",             /* not zlib */
        "{\"bits\":\"1\",\"lst\":\"eNrbuRgAAhcBXQ\"}",
        "{\"lst\":\"eNrbuRgAAhcBXQ\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *obj = NULL;
        assert_rc(jot__json_parse(bad[i], strlen(bad[i]), 4096, 4, true, &obj), JOT_OK);
        uint8_t *bytes = NULL;
        size_t len = 0;
        unsigned bits = 0;
        if (jot__status_list_decode(obj, 1024, &bytes, &len, &bits) == JOT_OK)
            fail_msg("accepted %s", bad[i]);
        json_decref(obj);
    }
    /* trailing bytes after the zlib stream */
    uint8_t z[] = {0x78, 0xda, 0xdb, 0xb9, 0x18, 0x00, 0x02, 0x17, 0x01, 0x5d, 0x00};
    uint8_t *out = NULL;
    size_t ol = 0;
    assert_rc(jot__zlib_inflate(z, sizeof z - 1, 16, &out, &ol), JOT_OK);
    assert_int_equal(ol, 2);
    jot_free(out);
    assert_rc(jot__zlib_inflate(z, sizeof z, 16, &out, &ol), JOT_E_STATUS_LIST);
    /* the cap */
    assert_rc(jot__zlib_inflate(z, sizeof z - 1, 1, &out, &ol), JOT_E_TOOBIG);
}

/* ---- lists and tokens made here -------------------------------------------------------- */

/* lst of \p n bytes of raw list (zlib, base64url). Caller frees. */
static char *make_lst(const uint8_t *raw, size_t n)
{
    uLongf zl = compressBound((uLong)n);
    uint8_t *z = malloc(zl);
    assert_non_null(z);
    assert_int_equal(compress2(z, &zl, raw, (uLong)n, 9), Z_OK);
    char *b = malloc(jot_b64url_encoded_len(zl) + 1);
    jot_b64url_encode(b, z, zl);
    free(z);
    return b;
}

typedef struct list_spec {
    const jot_key_t *key;
    const char *typ; /* NULL: statuslist+jwt */
    const char *sub; /* NULL: the URI */
    unsigned bits;
    const uint8_t *raw;
    size_t n;
    int64_t ttl;    /* 0: none */
    int64_t exp_in; /* 0: none; else now + exp_in */
} list_spec_t;

/* A list token assembled by hand, signed by jot__sig_sign(): for lists larger than the
 * signing API's payload cap (an issuer of big lists has its own signer). */
static char *make_big_list_token(const list_spec_t *s, const char *uri)
{
    char *lst = make_lst(s->raw, s->n);
    size_t cap = strlen(lst) + 512;
    char *payload = malloc(cap);
    int pl = snprintf(payload, cap,
                      "{\"sub\":\"%s\",\"iat\":%lld,\"ttl\":%lld,"
                      "\"status_list\":{\"bits\":%u,\"lst\":\"%s\"}}",
                      uri, (long long)time(NULL), (long long)s->ttl, s->bits, lst);
    static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"statuslist+jwt\",\"kid\":\"k1\"}";
    size_t hl = jot_b64url_encoded_len(sizeof header - 1);
    size_t bl = jot_b64url_encoded_len((size_t)pl);
    char *tok = malloc(hl + bl + 200);
    jot_b64url_encode(tok, (const uint8_t *)header, sizeof header - 1);
    tok[hl] = '.';
    jot_b64url_encode(tok + hl + 1, (const uint8_t *)payload, (size_t)pl);
    uint8_t *sig = NULL;
    size_t sl = 0;
    assert_rc(jot__sig_sign(JOT_ALG_ES256, k1, (const uint8_t *)tok, hl + 1 + bl, &sig, &sl),
              JOT_OK);
    tok[hl + 1 + bl] = '.';
    jot_b64url_encode(tok + hl + bl + 2, sig, sl);
    jot_free(sig);
    free(payload);
    free(lst);
    return tok;
}

static char *make_list_token(const list_spec_t *s, const char *uri)
{
    char *lst = make_lst(s->raw, s->n);
    char json[4096 + 64];
    size_t need = strlen(lst) + 64;
    char *sl = need > sizeof json ? malloc(need) : json;
    snprintf(sl, need > sizeof json ? need : sizeof json, "{\"bits\":%u,\"lst\":\"%s\"}", s->bits,
             lst);
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_new(&c), JOT_OK);
    assert_rc(jot_claims_set_string(c, "sub", s->sub ? s->sub : uri), JOT_OK);
    assert_rc(jot_claims_set_int(c, "iat", (int64_t)time(NULL)), JOT_OK);
    if (s->exp_in)
        assert_rc(jot_claims_set_int(c, "exp", (int64_t)time(NULL) + s->exp_in), JOT_OK);
    if (s->ttl)
        assert_rc(jot_claims_set_int(c, "ttl", s->ttl), JOT_OK);
    assert_rc(jot_claims_set_json(c, "status_list", sl, strlen(sl)), JOT_OK);
    jot_sign_opts_t o = {0};
    o.typ = s->typ ? s->typ : "statuslist+jwt";
    char *tok = NULL;
    assert_rc(jot_jwt_sign(s->key ? s->key : k1, &o, c, &tok, NULL), JOT_OK);
    jot_claims_free(c);
    if (sl != json)
        free(sl);
    free(lst);
    return tok;
}

/* A token referencing entry \p idx of \p uri (NULL: no status claim). */
static char *make_ref_token(const char *uri, long long idx)
{
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_new(&c), JOT_OK);
    assert_rc(jot_claims_set_string(c, "sub", "alice"), JOT_OK);
    assert_rc(jot_claims_set_int(c, "exp", (int64_t)time(NULL) + 3600), JOT_OK);
    if (uri) {
        char json[512];
        snprintf(json, sizeof json, "{\"status_list\":{\"idx\":%lld,\"uri\":\"%s\"}}", idx, uri);
        assert_rc(jot_claims_set_json(c, "status", json, strlen(json)), JOT_OK);
    }
    char *tok = NULL;
    assert_rc(jot_jwt_sign(k1, NULL, c, &tok, NULL), JOT_OK);
    jot_claims_free(c);
    return tok;
}

typedef struct fixture {
    test_httpd_t *h;
    char uri[128], prefix[128];
    jot_status_checker_t *sc;
    jot_verifier_t *v;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f || !(f->h = test_httpd_start()))
        return -1;
    test_httpd_url(f->h, "/statuslists/1", f->uri, sizeof f->uri);
    test_httpd_url(f->h, "/statuslists/", f->prefix, sizeof f->prefix);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    jot_verifier_free(f->v);
    jot_status_checker_free(f->sc);
    test_httpd_stop(f->h);
    free(f);
    return 0;
}

static void serve_list(fixture_t *f, const list_spec_t *s)
{
    char *tok = make_list_token(s, f->uri);
    test_route_t r = {0};
    r.body = tok;
    r.content_type = "application/statuslist+jwt";
    test_httpd_route(f->h, "/statuslists/1", &r);
    jot_free(tok);
}

static void make(fixture_t *f, jot_status_opts_t *o)
{
    jot_status_opts_t d;
    if (!o) {
        jot_status_opts_init(&d);
        o = &d;
    }
    o->fetch.allow_http = 1;
    o->uri_prefix = f->prefix;
    o->alg_mask = JOT_ALG_BIT(JOT_ALG_ES256);
    assert_rc(jot_status_checker_new(o, keys, NULL, &f->sc), JOT_OK);
    assert_rc(jot_verifier_new(&f->v), JOT_OK);
    jot_verifier_set_algs(f->v, JOT_ALG_BIT(JOT_ALG_ES256));
    jot_verifier_set_keyset(f->v, keys);
    jot_verifier_set_status_checker(f->v, f->sc);
}

static jot_err_t verify_idx(fixture_t *f, const char *uri, long long idx)
{
    char *tok = make_ref_token(uri, idx);
    jot_err_t rc = jot_verify(f->v, tok, strlen(tok), NULL);
    jot_free(tok);
    return rc;
}

static void errmsg_has(fixture_t *f, const char *want)
{
    char msg[200];
    jot_status_checker_errmsg(f->sc, msg, sizeof msg);
    if (!strstr(msg, want))
        fail_msg("errmsg '%s' lacks '%s'", msg, want);
}

static const uint8_t raw16[2] = {0xb9, 0xa3}; /* 1 0 0 1 1 1 0 1 | 1 1 0 0 0 1 0 1 */

static void test_valid_and_revoked(void **state)
{
    fixture_t *f = *state;
    list_spec_t s = {.bits = 1, .raw = raw16, .n = 2, .ttl = 300, .exp_in = 3600};
    serve_list(f, &s);
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 1), JOT_OK);
    assert_rc(verify_idx(f, f->uri, 2), JOT_OK);
    assert_rc(verify_idx(f, f->uri, 0), JOT_E_REVOKED);
    assert_rc(verify_idx(f, f->uri, 15), JOT_E_REVOKED);
    assert_rc(verify_idx(f, f->uri, 14), JOT_OK);
    assert_int_equal(jot_status_checker_fetches(f->sc), 1); /* cached */
    /* the index beyond the list */
    assert_rc(verify_idx(f, f->uri, 16), JOT_E_STATUS_LIST);
    errmsg_has(f, "beyond the status list");
    assert_rc(verify_idx(f, f->uri, 1LL << 60), JOT_E_STATUS_LIST);
    /* a token without the claim, or with a bad one */
    jot_verify_detail_t d;
    char *tok = make_ref_token(NULL, 0);
    assert_rc(jot_verify_ex(f->v, tok, strlen(tok), NULL, &d), JOT_E_MISSING_CLAIM);
    assert_string_equal(d.name, "status");
    jot_free(tok);
    assert_rc(verify_idx(f, f->uri, -1), JOT_E_CLAIM_TYPE);
    /* jot_status_check() directly */
    unsigned v = 9;
    assert_rc(jot_status_check(f->sc, f->uri, strlen(f->uri), 3, &v), JOT_OK);
    assert_int_equal(v, 1);
}

static void test_bits2_suspended(void **state)
{
    fixture_t *f = *state;
    static const uint8_t raw[3] = {0xc9, 0x44, 0xf9}; /* 1 2 0 3 | 0 1 0 1 | 1 2 3 3 */
    list_spec_t s = {.bits = 2, .raw = raw, .n = 3, .ttl = 300};
    serve_list(f, &s);
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 2), JOT_OK);
    assert_rc(verify_idx(f, f->uri, 1), JOT_E_REVOKED); /* SUSPENDED is not VALID */
    assert_rc(verify_idx(f, f->uri, 3), JOT_E_REVOKED); /* application-specific */
    assert_rc(verify_idx(f, f->uri, 12), JOT_E_STATUS_LIST);
}

/* ttl: the list is refetched after it (in the background), and a revocation is seen. */
static void test_ttl_refetch(void **state)
{
    fixture_t *f = *state;
    uint8_t raw[2] = {0, 0};
    list_spec_t s = {.bits = 1, .raw = raw, .n = 2, .ttl = 1};
    serve_list(f, &s);
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 5), JOT_OK);
    raw[0] = 0x20; /* idx 5 revoked */
    serve_list(f, &s);
    assert_rc(verify_idx(f, f->uri, 5), JOT_OK); /* cached within the ttl */
    sleep_ms(1100);
    jot_err_t rc = JOT_OK;
    for (int i = 0; i < 200 && rc == JOT_OK; i++) {
        rc = verify_idx(f, f->uri, 5);
        if (rc == JOT_OK)
            sleep_ms(10);
    }
    assert_rc(rc, JOT_E_REVOKED);
    assert_int_equal(jot_status_checker_fetches(f->sc), 2);
}

/* The server fails: the list is used up to max_stale past its ttl, then JOT_E_STALE. */
static void test_stale_fail_closed(void **state)
{
    fixture_t *f = *state;
    uint8_t raw[2] = {0, 0};
    list_spec_t s = {.bits = 1, .raw = raw, .n = 2, .ttl = 1};
    serve_list(f, &s);
    jot_status_opts_t o;
    jot_status_opts_init(&o);
    o.fetch.cooldown_s = 1;
    o.fetch.max_stale_s = 2;
    make(f, &o);
    assert_rc(verify_idx(f, f->uri, 0), JOT_OK);
    test_route_t down = {0};
    down.status = 500;
    test_httpd_route(f->h, "/statuslists/1", &down);
    sleep_ms(1100);
    assert_rc(verify_idx(f, f->uri, 0), JOT_OK); /* stale-if-error */
    jot_err_t rc = JOT_OK;
    for (int i = 0; i < 100 && rc == JOT_OK; i++) {
        rc = verify_idx(f, f->uri, 0);
        if (rc == JOT_OK)
            sleep_ms(100);
    }
    assert_rc(rc, JOT_E_STALE);
}

/* A list whose exp has passed is not used (beyond max_stale 0 here). */
static void test_expired_list(void **state)
{
    fixture_t *f = *state;
    uint8_t raw[2] = {0, 0};
    list_spec_t s = {.bits = 1, .raw = raw, .n = 2, .exp_in = -10};
    serve_list(f, &s);
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 0), JOT_E_STATUS_LIST);
    errmsg_has(f, "token expired");
}

static void test_bomb(void **state)
{
    fixture_t *f = *state;
    size_t n = 8u * 1024u * 1024u; /* 8 MiB of zeros: about 8 KiB compressed */
    uint8_t *raw = calloc(1, n);
    list_spec_t s = {.bits = 1, .raw = raw, .n = n, .ttl = 300};
    serve_list(f, &s);
    free(raw);
    jot_status_opts_t o;
    jot_status_opts_init(&o);
    o.max_list_bytes = 1024u * 1024u;
    make(f, &o);
    assert_rc(verify_idx(f, f->uri, 0), JOT_E_STATUS_LIST);
    errmsg_has(f, "inflated list larger than 1048576 bytes");
}

static void test_wrong_signature_typ_sub(void **state)
{
    fixture_t *f = *state;
    uint8_t raw[2] = {0, 0};
    list_spec_t s = {.key = k2, .bits = 1, .raw = raw, .n = 2, .ttl = 300};
    serve_list(f, &s); /* signed by a key the checker does not trust (kid k2) */
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 0), JOT_E_STATUS_LIST);
    errmsg_has(f, "no matching key");
    jot_verifier_free(f->v);
    jot_status_checker_free(f->sc);

    list_spec_t t = {.typ = "JWT", .bits = 1, .raw = raw, .n = 2, .ttl = 300};
    serve_list(f, &t);
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 0), JOT_E_STATUS_LIST);
    errmsg_has(f, "typ");
    jot_verifier_free(f->v);
    jot_status_checker_free(f->sc);

    char other[160];
    test_httpd_url(f->h, "/statuslists/2", other, sizeof other);
    list_spec_t u = {.sub = other, .bits = 1, .raw = raw, .n = 2, .ttl = 300};
    serve_list(f, &u);
    make(f, NULL);
    assert_rc(verify_idx(f, f->uri, 0), JOT_E_STATUS_LIST);
    errmsg_has(f, "sub is not the list's URI");
}

/* Only URIs under the prefix are fetched, whatever the (validly signed) token says. */
static void test_uri_not_allowed(void **state)
{
    fixture_t *f = *state;
    uint8_t raw[2] = {0, 0};
    list_spec_t s = {.bits = 1, .raw = raw, .n = 2, .ttl = 300};
    serve_list(f, &s);
    make(f, NULL);
    char url[160];
    test_httpd_url(f->h, "/other/1", url, sizeof url);
    assert_rc(verify_idx(f, url, 0), JOT_E_STATUS_URI);
    assert_rc(verify_idx(f, "https://evil.example/statuslists/1", 0), JOT_E_STATUS_URI);
    snprintf(url, sizeof url, "http://localhost:%u/statuslists/1", (unsigned)test_httpd_port(f->h));
    assert_rc(verify_idx(f, url, 0), JOT_E_STATUS_URI); /* another origin spelling */
    assert_int_equal(test_httpd_requests(f->h, NULL), 0);
    assert_int_equal(jot_status_checker_fetches(f->sc), 0);
    errmsg_has(f, "not under the allowed prefix");
    /* the checker's own arguments */
    jot_status_opts_t o;
    jot_status_opts_init(&o);
    jot_status_checker_t *sc = NULL;
    o.alg_mask = JOT_ALG_BIT(JOT_ALG_ES256);
    assert_rc(jot_status_checker_new(&o, keys, NULL, &sc), JOT_E_INVAL); /* no prefix */
    o.uri_prefix = f->prefix;                                            /* http, not allowed */
    assert_rc(jot_status_checker_new(&o, keys, NULL, &sc), JOT_E_INVAL);
    o.uri_prefix = "https://issuer.example/statuslists/";
    assert_rc(jot_status_checker_new(&o, NULL, NULL, &sc), JOT_E_INVAL); /* no keys */
    assert_rc(jot_status_checker_new(&o, keys, NULL, &sc), JOT_OK);
    jot_status_checker_free(sc);
    jot_status_checker_free(NULL);
}

/* A million sessions, worst case for compression (random bits): a list token of about
 * 170 KB, far larger than any access token, is read (the checker's payload cap is its body
 * cap). */
static void test_million_entries(void **state)
{
    fixture_t *f = *state;
    size_t n = 125000;
    uint8_t *raw = malloc(n);
    assert_non_null(raw);
    srand(13);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)(rand() & 0xff);
    list_spec_t s = {.bits = 1, .raw = raw, .n = n, .ttl = 300};
    char *tok = make_big_list_token(&s, f->uri);
    assert_true(strlen(tok) > 150000);
    test_route_t r = {0};
    r.body = tok;
    test_httpd_route(f->h, "/statuslists/1", &r);
    free(tok);
    make(f, NULL);
    static const uint64_t idx[] = {0, 1, 7, 8, 4242, 123456, 999999};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        unsigned want = (raw[idx[i] / 8] >> (idx[i] % 8)) & 1u;
        assert_rc(verify_idx(f, f->uri, (long long)idx[i]), want ? JOT_E_REVOKED : JOT_OK);
    }
    assert_rc(verify_idx(f, f->uri, 1000000), JOT_E_STATUS_LIST);
    assert_int_equal(jot_status_checker_fetches(f->sc), 1);
    free(raw);
}

/* The list verified with a remote key set (the JWKS from the same server). */
static void test_remote_keys(void **state)
{
    fixture_t *f = *state;
    uint8_t raw[2] = {0x02, 0};
    list_spec_t s = {.bits = 1, .raw = raw, .n = 2, .ttl = 300};
    serve_list(f, &s);
    char *jwks = NULL;
    assert_rc(jot_keyset_to_jwks(keys, JOT_JWK_PUBLIC, &jwks, NULL), JOT_OK);
    test_route_t r = {0};
    r.body = jwks;
    test_httpd_route(f->h, "/jwks", &r);
    jot_free(jwks);
    char url[160];
    test_httpd_url(f->h, "/jwks", url, sizeof url);
    jot_remote_opts_t ro;
    jot_remote_opts_init(&ro);
    ro.allow_http = 1;
    jot_remote_keyset_t *rk = NULL;
    assert_rc(jot_remote_keyset_new(url, &ro, &rk), JOT_OK);
    jot_status_opts_t o;
    jot_status_opts_init(&o);
    o.fetch.allow_http = 1;
    o.uri_prefix = f->prefix;
    o.alg_mask = JOT_ALG_BIT(JOT_ALG_ES256);
    assert_rc(jot_status_checker_new(&o, NULL, rk, &f->sc), JOT_OK);
    assert_rc(jot_verifier_new(&f->v), JOT_OK);
    jot_verifier_set_algs(f->v, JOT_ALG_BIT(JOT_ALG_ES256));
    jot_verifier_set_remote_keyset(f->v, rk);
    jot_verifier_set_status_checker(f->v, f->sc);
    assert_rc(verify_idx(f, f->uri, 0), JOT_OK);
    assert_rc(verify_idx(f, f->uri, 1), JOT_E_REVOKED);
    assert_int_equal(jot_remote_keyset_fetches(rk), 1);
    jot_verifier_free(f->v);
    f->v = NULL;
    jot_status_checker_free(f->sc);
    f->sc = NULL;
    jot_remote_keyset_free(rk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draft_examples),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test_setup_teardown(test_valid_and_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bits2_suspended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_refetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_fail_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_signature_typ_sub, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_million_entries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
