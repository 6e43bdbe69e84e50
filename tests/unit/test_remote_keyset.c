/* Remote key sets (lib/remote.c, lib/rdoc.c, lib/fetch.c) against the in-process server of
 * support/httpd.c on loopback plain HTTP (allow_http). Intervals are set down to 1 s; the
 * tests sleep just past them and assert fetch counts and results, never durations. */
#include "test.h"
#include "support/httpd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static jot_key_t *k1, *k2;
static char *jwks1, *jwks12; /* {k1}, {k1, k2} (public) */
static char *tok1, *tok2;    /* signed by k1 / k2, kid "k1" / "k2" */

static char *sign_with(const jot_key_t *key, const char *kid)
{
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_new(&c), JOT_OK);
    assert_rc(jot_claims_set_string(c, "sub", "alice"), JOT_OK);
    assert_rc(jot_claims_set_int(c, "exp", (int64_t)time(NULL) + 3600), JOT_OK);
    jot_sign_opts_t o = {0};
    o.kid = kid;
    char *tok = NULL;
    assert_rc(jot_jwt_sign(key, &o, c, &tok, NULL), JOT_OK);
    jot_claims_free(c);
    return tok;
}

static char *jwks_of(const jot_key_t *a, const jot_key_t *b)
{
    jot_keyset_t *set = NULL;
    jot_key_t *pa = NULL, *pb = NULL;
    assert_rc(jot_keyset_new(&set), JOT_OK);
    assert_rc(jot_key_public(a, &pa), JOT_OK);
    assert_rc(jot_keyset_add(set, pa), JOT_OK);
    if (b) {
        assert_rc(jot_key_public(b, &pb), JOT_OK);
        assert_rc(jot_keyset_add(set, pb), JOT_OK);
    }
    char *json = NULL;
    assert_rc(jot_keyset_to_jwks(set, JOT_JWK_PUBLIC, &json, NULL), JOT_OK);
    jot_keyset_free(set);
    return json;
}

static int group_setup(void **state)
{
    (void)state;
    if (jot_key_generate(JOT_ALG_ES256, 0, &k1) != JOT_OK ||
        jot_key_generate(JOT_ALG_ES256, 0, &k2) != JOT_OK || jot_key_set_kid(k1, "k1") ||
        jot_key_set_kid(k2, "k2"))
        return -1;
    jwks1 = jwks_of(k1, NULL);
    jwks12 = jwks_of(k1, k2);
    tok1 = sign_with(k1, "k1");
    tok2 = sign_with(k2, "k2");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    jot_key_free(k1);
    jot_key_free(k2);
    jot_free(jwks1);
    jot_free(jwks12);
    jot_free(tok1);
    jot_free(tok2);
    return 0;
}

/* Each test: a server, and helpers to make a remote key set on it and a verifier. */
typedef struct fixture {
    test_httpd_t *h;
    jot_remote_keyset_t *rk;
    jot_verifier_t *v;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f || !(f->h = test_httpd_start()))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    jot_verifier_free(f->v);
    jot_remote_keyset_free(f->rk);
    test_httpd_stop(f->h);
    free(f);
    return 0;
}

static jot_remote_opts_t fast_opts(void)
{
    jot_remote_opts_t o;
    jot_remote_opts_init(&o);
    o.allow_http = 1;
    return o;
}

static void serve(fixture_t *f, const char *body, const char *cache_control, const char *etag)
{
    test_route_t r = {0};
    r.body = body;
    r.cache_control = cache_control;
    r.etag = etag;
    test_httpd_route(f->h, "/jwks", &r);
}

static void make(fixture_t *f, const jot_remote_opts_t *o)
{
    char url[128];
    test_httpd_url(f->h, "/jwks", url, sizeof url);
    assert_rc(jot_remote_keyset_new(url, o, &f->rk), JOT_OK);
    assert_rc(jot_verifier_new(&f->v), JOT_OK);
    jot_verifier_set_algs(f->v, JOT_ALG_BIT(JOT_ALG_ES256));
    jot_verifier_set_remote_keyset(f->v, f->rk);
}

static jot_err_t verify(fixture_t *f, const char *tok)
{
    return jot_verify(f->v, tok, strlen(tok), NULL);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The background revalidation runs on its own thread: wait (bounded) for the count. */
static uint64_t wait_fetches(jot_remote_keyset_t *rk, uint64_t want)
{
    for (int i = 0; i < 500 && jot_remote_keyset_fetches(rk) < want; i++)
        sleep_ms(10);
    sleep_ms(20); /* and for the swap after the request */
    return jot_remote_keyset_fetches(rk);
}

static void errmsg_has(jot_remote_keyset_t *rk, const char *want)
{
    char msg[200];
    jot_remote_keyset_errmsg(rk, msg, sizeof msg);
    if (!strstr(msg, want))
        fail_msg("errmsg '%s' lacks '%s'", msg, want);
}

/* ---- caching ------------------------------------------------------------------------ */

static void test_cached(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=600", NULL);
    jot_remote_opts_t o = fast_opts();
    make(f, &o);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 0); /* lazy */
    for (int i = 0; i < 50; i++)
        assert_rc(verify(f, tok1), JOT_OK);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 1);
    assert_int_equal(test_httpd_requests(f->h, "/jwks"), 1);
}

/* max-age under the minimum: the minimum (1 s here); after it, one revalidation in the
 * background while the cached set keeps verifying. */
static void test_max_age_min_clamp(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=0", NULL);
    jot_remote_opts_t o = fast_opts();
    o.min_cache_s = 1;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    assert_rc(verify(f, tok1), JOT_OK);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 1);
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK); /* the expired set is used while revalidating */
    assert_int_equal(wait_fetches(f->rk, 2), 2);
    assert_rc(verify(f, tok1), JOT_OK);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 2);
}

/* max-age over the maximum: the maximum (1 s). */
static void test_max_age_max_clamp(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "public, max-age=100000", NULL);
    jot_remote_opts_t o = fast_opts();
    o.min_cache_s = 1;
    o.max_cache_s = 1;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK);
    assert_int_equal(wait_fetches(f->rk, 2), 2);
}

/* max-age within [min, max] is honoured: no refetch before it. */
static void test_max_age_honoured(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=3600", NULL);
    jot_remote_opts_t o = fast_opts();
    o.min_cache_s = 1;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK);
    sleep_ms(50);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 1);
}

/* ETag: the revalidation sends If-None-Match; a 304 keeps the set and restarts its age. */
static void test_etag_304(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=1", "\"v1\"");
    jot_remote_opts_t o = fast_opts();
    o.min_cache_s = 1;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK);
    assert_int_equal(wait_fetches(f->rk, 2), 2);
    assert_int_equal(test_httpd_not_modified(f->h, "/jwks"), 1);
    assert_rc(verify(f, tok1), JOT_OK); /* the set kept, and fresh again: no third fetch */
    sleep_ms(50);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 2);
    /* a new set under a new tag replaces it */
    serve(f, jwks12, "max-age=1", "\"v2\"");
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK);
    assert_int_equal(wait_fetches(f->rk, 3), 3);
    assert_int_equal(test_httpd_not_modified(f->h, "/jwks"), 1);
    assert_rc(verify(f, tok2), JOT_OK);
}

/* ---- unknown kids ------------------------------------------------------------------- */

/* A rotation: the set gains k2; a token with kid k2 refetches (past the cooldown). */
static void test_unknown_kid_refetch(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=3600", NULL);
    jot_remote_opts_t o = fast_opts();
    o.cooldown_s = 1;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    serve(f, jwks12, "max-age=3600", NULL);
    /* within the cooldown of the first fetch: no refetch, the kid stays unknown */
    assert_rc(verify(f, tok2), JOT_E_KEY_NOT_FOUND);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 1);
    sleep_ms(1100);
    assert_rc(verify(f, tok2), JOT_OK);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 2);
    assert_rc(verify(f, tok1), JOT_OK);
}

#define FLOOD_THREADS 4
#define FLOOD_PER_THREAD 500

typedef struct flood {
    fixture_t *f;
    char **toks;
    size_t n;
    unsigned ok, not_found, other;
} flood_t;

static void *flood_main(void *arg)
{
    flood_t *fl = arg;
    for (size_t i = 0; i < fl->n; i++) {
        jot_err_t rc = verify(fl->f, fl->toks[i]);
        if (rc == JOT_OK)
            fl->ok++;
        else if (rc == JOT_E_KEY_NOT_FOUND)
            fl->not_found++;
        else
            fl->other++;
    }
    return NULL;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Distinct random kids from several threads: at most one fetch per cooldown. With the
 * default cooldown (30 s) and a cold cache: exactly one fetch for all of them. */
static void run_flood(fixture_t *f, uint64_t *out_fetches, double *out_seconds)
{
    static char *toks[FLOOD_THREADS][FLOOD_PER_THREAD];
    for (size_t t = 0; t < FLOOD_THREADS; t++)
        for (size_t i = 0; i < FLOOD_PER_THREAD; i++) {
            char kid[32];
            snprintf(kid, sizeof kid, "rnd-%zu-%zu-%d", t, i, rand());
            toks[t][i] = sign_with(k2, kid);
        }
    flood_t fl[FLOOD_THREADS];
    pthread_t th[FLOOD_THREADS];
    double t0 = mono_s();
    for (size_t t = 0; t < FLOOD_THREADS; t++) {
        fl[t] = (flood_t){f, toks[t], FLOOD_PER_THREAD, 0, 0, 0};
        assert_int_equal(pthread_create(&th[t], NULL, flood_main, &fl[t]), 0);
    }
    for (size_t t = 0; t < FLOOD_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(fl[t].not_found, FLOOD_PER_THREAD);
        assert_int_equal(fl[t].other, 0);
    }
    *out_seconds = mono_s() - t0;
    *out_fetches = jot_remote_keyset_fetches(f->rk);
    for (size_t t = 0; t < FLOOD_THREADS; t++)
        for (size_t i = 0; i < FLOOD_PER_THREAD; i++)
            jot_free(toks[t][i]);
}

static void test_unknown_kid_flood_cold(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=3600", NULL);
    jot_remote_opts_t o = fast_opts();
    make(f, &o);
    uint64_t n;
    double secs;
    run_flood(f, &n, &secs);
    assert_int_equal(n, 1);
    assert_int_equal(test_httpd_requests(f->h, "/jwks"), 1);
}

/* Cooldown 1 s, set warm and past its cooldown: the flood may refetch once per second it
 * lasts (the bound is computed from how long it took, not asserted on it). */
static void test_unknown_kid_flood_cooldown(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=3600", NULL);
    jot_remote_opts_t o = fast_opts();
    o.cooldown_s = 1;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    sleep_ms(1100);
    uint64_t n;
    double secs;
    run_flood(f, &n, &secs);
    uint64_t bound = 1 + 1 + (uint64_t)secs / (uint64_t)o.cooldown_s;
    if (n < 2 || n > bound)
        fail_msg("%llu fetches for a flood of %.2f s (want 2..%llu)", (unsigned long long)n, secs,
                 (unsigned long long)bound);
}

/* ---- single flight ------------------------------------------------------------------- */

#define SF_THREADS 8

static void *sf_main(void *arg)
{
    flood_t *fl = arg;
    if (verify(fl->f, tok1) == JOT_OK)
        fl->ok++;
    else
        fl->other++;
    return NULL;
}

static void test_single_flight(void **state)
{
    fixture_t *f = *state;
    test_route_t r = {0};
    r.body = jwks1;
    r.delay_ms = 300; /* slow enough that every thread arrives while it runs */
    test_httpd_route(f->h, "/jwks", &r);
    jot_remote_opts_t o = fast_opts();
    make(f, &o);
    flood_t fl[SF_THREADS];
    pthread_t th[SF_THREADS];
    for (size_t t = 0; t < SF_THREADS; t++) {
        fl[t] = (flood_t){f, NULL, 0, 0, 0, 0};
        assert_int_equal(pthread_create(&th[t], NULL, sf_main, &fl[t]), 0);
    }
    for (size_t t = 0; t < SF_THREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(fl[t].ok, 1);
    }
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 1);
    assert_int_equal(test_httpd_requests(f->h, "/jwks"), 1);
}

/* ---- failures ------------------------------------------------------------------------ */

/* The server fails: the last good set is used up to max_stale past its expiry, then
 * JOT_E_STALE; retries at most once per cooldown; back to OK when the server is. */
static void test_stale_then_fail_closed(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, "max-age=1", NULL);
    jot_remote_opts_t o = fast_opts();
    o.min_cache_s = 1;
    o.max_cache_s = 1;
    o.cooldown_s = 1;
    o.max_stale_s = 2;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_OK);
    test_route_t down = {0};
    down.status = 503;
    down.body = "down";
    test_httpd_route(f->h, "/jwks", &down);
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK); /* stale-if-error */
    wait_fetches(f->rk, 2);
    jot_err_t rc = JOT_OK;
    for (int i = 0; i < 100 && rc == JOT_OK; i++) {
        rc = verify(f, tok1);
        if (rc == JOT_OK)
            sleep_ms(100);
    }
    assert_rc(rc, JOT_E_STALE);
    errmsg_has(f->rk, "HTTP 503");
    uint64_t fetches = jot_remote_keyset_fetches(f->rk);
    /* at most one fetch per cooldown: the failing calls in a row do not fetch each */
    for (int i = 0; i < 100; i++)
        assert_rc(verify(f, tok1), JOT_E_STALE);
    assert_true(jot_remote_keyset_fetches(f->rk) <= fetches + 1);
    serve(f, jwks1, "max-age=60", NULL);
    sleep_ms(1100);
    assert_rc(verify(f, tok1), JOT_OK);
}

static void test_size_cap(void **state)
{
    fixture_t *f = *state;
    size_t n = 4096;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, jwks1, strlen(jwks1));
    big[n] = '\0';
    test_route_t r = {0};
    r.body = big;
    test_httpd_route(f->h, "/jwks", &r);
    free(big);
    jot_remote_opts_t o = fast_opts();
    o.max_body = 1024;
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_E_FETCH);
    errmsg_has(f->rk, "larger than 1024");
    /* within the cooldown after the failure: no new request */
    assert_rc(verify(f, tok1), JOT_E_FETCH);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 1);
}

static void test_timeout(void **state)
{
    fixture_t *f = *state;
    unsigned short port = 0;
    int fd = test_blackhole_open(&port);
    assert_true(fd >= 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/jwks", (unsigned)port);
    jot_remote_opts_t o = fast_opts();
    o.timeout_s = 1;
    assert_rc(jot_remote_keyset_new(url, &o, &f->rk), JOT_OK);
    assert_rc(jot_remote_keyset_refresh(f->rk), JOT_E_FETCH);
    errmsg_has(f->rk, "imeout");
    test_blackhole_close(fd);
}

static void test_redirect_refused(void **state)
{
    fixture_t *f = *state;
    test_route_t r = {0};
    r.status = 302;
    r.location = "file:///etc/passwd";
    test_httpd_route(f->h, "/jwks", &r);
    test_route_t ok = {0};
    ok.body = jwks1;
    test_httpd_route(f->h, "/elsewhere", &ok);
    jot_remote_opts_t o = fast_opts();
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_E_FETCH);
    errmsg_has(f->rk, "redirects are not followed");
    /* nor to the same server over the same scheme */
    char loc[128];
    test_httpd_url(f->h, "/elsewhere", loc, sizeof loc);
    r.location = loc;
    test_httpd_route(f->h, "/jwks", &r);
    jot_remote_keyset_free(f->rk);
    jot_verifier_free(f->v);
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_E_FETCH);
    errmsg_has(f->rk, "HTTP 302");
    assert_int_equal(test_httpd_requests(f->h, "/elsewhere"), 0);
}

static void test_invalid_json(void **state)
{
    fixture_t *f = *state;
    serve(f, "{\"keys\":[", NULL, NULL);
    jot_remote_opts_t o = fast_opts();
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_E_FETCH);
    errmsg_has(f->rk, "invalid JWKS");
    /* duplicate members are refused as in a local file */
    jot_remote_keyset_free(f->rk);
    jot_verifier_free(f->v);
    serve(f, "{\"keys\":[],\"keys\":[]}", NULL, NULL);
    make(f, &o);
    assert_rc(verify(f, tok1), JOT_E_FETCH);
    errmsg_has(f->rk, "duplicate");
}

/* ---- the URL rules -------------------------------------------------------------------- */

static void test_url_rules(void **state)
{
    (void)state;
    jot_remote_keyset_t *rk = NULL;
    jot_remote_opts_t o;
    jot_remote_opts_init(&o);
    /* plain http refused without allow_http, even to loopback */
    assert_rc(jot_remote_keyset_new("http://127.0.0.1:1/jwks", &o, &rk), JOT_E_INVAL);
    assert_rc(jot_remote_keyset_new("http://localhost/jwks", NULL, &rk), JOT_E_INVAL);
    /* https is fine (nothing is fetched yet) */
    assert_rc(jot_remote_keyset_new("https://issuer.example/jwks", &o, &rk), JOT_OK);
    jot_remote_keyset_free(rk);
    rk = NULL;
    o.allow_http = 1;
    static const char *const refused[] = {
        "http://example.com/jwks",
        "http://10.0.0.1/jwks",
        "http://127.0.0.1.nip.io/jwks",
        "http://[::2]/jwks",
        "http://localhost.example/j",
        "file:///etc/passwd",
        "ftp://127.0.0.1/jwks",
        "gopher://127.0.0.1/",
        "not a url",
        "",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (jot_remote_keyset_new(refused[i], &o, &rk) != JOT_E_INVAL)
            fail_msg("accepted %s", refused[i]);
    }
    static const char *const accepted[] = {"http://127.0.0.1:9/j", "http://127.1.2.3/j",
                                           "http://[::1]:9/j", "http://localhost:9/j",
                                           "HTTP://LOCALHOST/j"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        if (jot_remote_keyset_new(accepted[i], &o, &rk) != JOT_OK)
            fail_msg("refused %s", accepted[i]);
        jot_remote_keyset_free(rk);
        rk = NULL;
    }
    /* options out of range */
    o.min_cache_s = 0;
    assert_rc(jot_remote_keyset_new("https://a.example/", &o, &rk), JOT_E_INVAL);
    jot_remote_opts_init(&o);
    o.max_cache_s = 10;
    o.min_cache_s = 20;
    assert_rc(jot_remote_keyset_new("https://a.example/", &o, &rk), JOT_E_INVAL);
    jot_remote_opts_init(&o);
    o.cooldown_s = 0;
    assert_rc(jot_remote_keyset_new("https://a.example/", &o, &rk), JOT_E_INVAL);
    assert_rc(jot_remote_keyset_new(NULL, NULL, &rk), JOT_E_INVAL);
    jot_remote_keyset_free(NULL);
}

/* The algorithm is the verifier's: a token whose alg is not allowed never causes a fetch;
 * a key of the set is bound to its type as with a local set. */
static void test_alg_from_verifier(void **state)
{
    fixture_t *f = *state;
    serve(f, jwks1, NULL, NULL);
    jot_remote_opts_t o = fast_opts();
    make(f, &o);
    jot_verifier_set_algs(f->v, JOT_ALG_BIT(JOT_ALG_RS256));
    assert_rc(verify(f, tok1), JOT_E_ALG_NOT_ALLOWED);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 0);
    /* a local key set, when set, wins over the remote one */
    jot_verifier_set_algs(f->v, JOT_ALG_BIT(JOT_ALG_ES256));
    jot_keyset_t *local = NULL;
    assert_rc(jot_keyset_from_jwks(jwks12, strlen(jwks12), &local), JOT_OK);
    jot_verifier_set_keyset(f->v, local);
    assert_rc(verify(f, tok2), JOT_OK);
    assert_int_equal(jot_remote_keyset_fetches(f->rk), 0);
    jot_verifier_set_keyset(f->v, NULL);
    assert_rc(verify(f, tok2), JOT_E_KEY_NOT_FOUND);
    jot_keyset_free(local);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_age_min_clamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_age_max_clamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_age_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_etag_304, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_kid_refetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_kid_flood_cold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_kid_flood_cooldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_then_fail_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test_setup_teardown(test_alg_from_verifier, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
