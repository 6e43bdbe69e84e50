/* Unit tests for the browser rules of server/names.c and server/cors.c: the origin syntax a
 * client may allow, cookie names and the cookie-mode rule, the refresh cookie's name and
 * Path, the CSRF checks of a cookie-authenticated request, the in-memory origin set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#include "names.h"
#include "server.h"

static void test_origin_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"https://app.example.com",
                                       "https://a.b.c.d",
                                       "https://app.example.com:8443",
                                       "https://x1-y2.example",
                                       "http://localhost",
                                       "http://localhost:5173",
                                       "http://127.0.0.1:8080",
                                       "http://[::1]:3000",
                                       "https://[2001:db8::1]",
                                       "https://a",
                                       "https://app.example.com:65535"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!jotd_origin_valid(good[i]))
            fail_msg("refused: %s", good[i]);
    static const char *const bad[] = {
        "",
        "null",
        "app.example.com",
        "http://app.example.com",       /* plain http off loopback */
        "http://localhost.evil.com",    /* not loopback */
        "http://127.0.0.1.nip.io",      /* not loopback */
        "https://App.example.com",      /* capitals */
        "HTTPS://app.example.com",      /* capitals in the scheme */
        "https://app.example.com/",     /* trailing slash */
        "https://app.example.com/path", /* path */
        "https://app.example.com?x",    /* query */
        "https://app.example.com#x",    /* fragment */
        "https://user@app.example.com", /* user information */
        "https://app.example.com:443",  /* the default port */
        "http://localhost:80",          /* the default port */
        "https://app.example.com:0",
        "https://app.example.com:080",
        "https://app.example.com:65536",
        "https://app.example.com:",
        "https://app.example.com:x",
        "https://",
        "https://.example.com",
        "https://app..example.com",
        "https://app.example.com.",
        "https://-app.example.com",
        "https://app-.example.com",
        "https://app_x.example.com",
        "https://app example.com",
        "https://app.example.com\n",
        "https://[::1",
        "https://[]",
        "https://[::G]",
        "ftp://app.example.com",
        "https://xn--bcher-kva.example\x7f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jotd_origin_valid(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    assert_false(jotd_origin_valid(NULL));
    char longest[JOTD_ORIGIN_MAX + 2];
    memset(longest, 'a', sizeof longest);
    memcpy(longest, "https://", 8);
    longest[sizeof longest - 1] = '\0';
    assert_false(jotd_origin_valid(longest));
}

static void test_cookie_names(void **state)
{
    (void)state;
    assert_true(jotd_cookie_name_valid("jotd-refresh-my.app_1"));
    assert_true(jotd_cookie_name_valid("__Secure-jotd-refresh-x"));
    assert_false(jotd_cookie_name_valid(""));
    assert_false(jotd_cookie_name_valid(NULL));
    static const char *const bad[] = {"a@b", "a b", "a=b", "a;b",  "a,b", "a\"b",
                                      "a/b", "a:b", "a(b", "a\tb", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jotd_cookie_name_valid(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    /* the cookie-mode rule */
    assert_null(jotd_cookie_mode_refusal("spa", true, 1));
    assert_non_null(strstr(jotd_cookie_mode_refusal("spa", false, 1), "public"));
    assert_non_null(strstr(jotd_cookie_mode_refusal("spa", true, 0), "allowed origin"));
    assert_non_null(strstr(jotd_cookie_mode_refusal("sp@a", true, 1), "cookie name"));
}

static void test_refresh_cookie_name_and_path(void **state)
{
    (void)state;
    jotd_runtime_t rt;
    memset(&rt, 0, sizeof rt);
    char name[128], path[128];
    /* plain HTTP on loopback: no prefix */
    assert_int_equal(jotd_refresh_cookie_name(&rt, "spa", name, sizeof name), 0);
    assert_string_equal(name, "jotd-refresh-spa");
    rt.cfg.insecure_http = true; /* HTTPS at a proxy */
    assert_int_equal(jotd_refresh_cookie_name(&rt, "spa", name, sizeof name), 0);
    assert_string_equal(name, "__Secure-jotd-refresh-spa");
    assert_int_equal(jotd_refresh_cookie_name(&rt, "a@b", name, sizeof name), -1);
    assert_int_equal(jotd_refresh_cookie_name(&rt, "spa", name, 10), -1);
    static const char *const cases[][2] = {
        {"https://h", "/token"},
        {"https://h/", "/token"},
        {"https://h/auth", "/auth/token"},
        {"https://h/auth/", "/auth/token"},
        {"https://h:8443/a/b", "/a/b/token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(jotd_token_endpoint_path(cases[i][0], path, sizeof path), 0);
        assert_string_equal(path, cases[i][1]);
    }
}

static void test_cookie_request_refusal(void **state)
{
    (void)state;
    char *origins[] = {"https://app.test"};
    jotd_client_t cl = {.client_id = "spa", .allowed_origins = origins, .n_allowed_origins = 1};
    jotd_req_t r = {.origin = "https://app.test", .content_type = "application/json"};
    assert_null(jotd_cookie_request_refusal(&r, &cl));
    r.content_type = "application/json; charset=utf-8";
    assert_null(jotd_cookie_request_refusal(&r, &cl));
    r.sec_fetch_site = "same-site";
    assert_null(jotd_cookie_request_refusal(&r, &cl));
    r.sec_fetch_site = "cross-site";
    assert_non_null(strstr(jotd_cookie_request_refusal(&r, &cl), "cross-site"));
    r.sec_fetch_site = NULL;
    r.content_type = "application/x-www-form-urlencoded";
    assert_non_null(strstr(jotd_cookie_request_refusal(&r, &cl), "X-Requested-With"));
    r.content_type = "application/jsonx";
    assert_non_null(jotd_cookie_request_refusal(&r, &cl));
    r.content_type = "text/plain";
    r.x_requested_with = "";
    assert_non_null(jotd_cookie_request_refusal(&r, &cl));
    r.x_requested_with = "XMLHttpRequest";
    assert_null(jotd_cookie_request_refusal(&r, &cl));
    r.origin = "https://app.test.evil";
    assert_string_equal(jotd_cookie_request_refusal(&r, &cl), "origin not allowed");
    r.origin = NULL;
    assert_string_equal(jotd_cookie_request_refusal(&r, &cl), "origin not allowed");
    r.origin = "https://App.test";
    assert_string_equal(jotd_cookie_request_refusal(&r, &cl), "origin not allowed");
}

/* The in-memory set of allowed origins: public, enabled clients only; rebuilt from the store
 * only when marked stale (a client change), and then it follows the change. */
static void test_origin_set(void **state)
{
    (void)state;
    char dir[] = "/tmp/jotd-cors-XXXXXX", path[64], cmd[96];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/jotd.db", dir);
    jotd_store_t *st = NULL;
    assert_int_equal(jotd_store_open(path, &st), JOTD_OK);
    char *pub[] = {"https://b.test", "https://a.test"}, *conf[] = {"https://conf.test"},
         *off[] = {"https://off.test"};
    jotd_client_t c1 = {.client_id = "pub", .allowed_origins = pub, .n_allowed_origins = 2};
    jotd_client_t c2 = {.client_id = "conf",
                        .secret_hash = "$jotd-hmac-sha256$x",
                        .allowed_origins = conf,
                        .n_allowed_origins = 1};
    jotd_client_t c3 = {.client_id = "off", .allowed_origins = off, .n_allowed_origins = 1};
    jotd_client_t c4 = {.client_id = "dup", .allowed_origins = pub, .n_allowed_origins = 1};
    assert_int_equal(jotd_store_client_create(st, &c1, 1000), JOTD_OK);
    assert_int_equal(jotd_store_client_create(st, &c2, 1000), JOTD_OK);
    assert_int_equal(jotd_store_client_create(st, &c3, 1000), JOTD_OK);
    assert_int_equal(jotd_store_client_create(st, &c4, 1000), JOTD_OK);
    assert_int_equal(jotd_store_client_set_state(st, "off", JOTD_CLIENT_DISABLE, 1001), JOTD_OK);
    jotd_origins_t *o = jotd_origins_new();
    assert_false(jotd_origins_has(o, "https://a.test")); /* not loaded yet */
    assert_int_equal(jotd_origins_reload(o, st), JOTD_OK);
    assert_true(jotd_origins_has(o, "https://a.test"));
    assert_true(jotd_origins_has(o, "https://b.test"));
    assert_false(jotd_origins_has(o, "https://conf.test")); /* confidential: never */
    assert_false(jotd_origins_has(o, "https://off.test"));  /* disabled */
    assert_false(jotd_origins_has(o, "https://a.test/"));
    assert_false(jotd_origins_has(o, ""));
    assert_false(jotd_origins_has(o, NULL));
    /* a change: seen only after the client change marks the set stale */
    const char *now[] = {"https://c.test"};
    jotd_client_patch_t p = {
        .allowed_origins = now, .n_allowed_origins = 1, .has_allowed_origins = true};
    assert_int_equal(jotd_store_client_update(st, "pub", &p, 1002), JOTD_OK);
    assert_int_equal(jotd_origins_reload(o, st), JOTD_OK);
    assert_false(jotd_origins_has(o, "https://c.test"));
    jotd_origins_changed(o);
    assert_int_equal(jotd_origins_reload(o, st), JOTD_OK);
    assert_true(jotd_origins_has(o, "https://c.test"));
    assert_true(jotd_origins_has(o, "https://b.test")); /* still "dup"'s */
    assert_false(jotd_origins_has(o, "https://a.test"));
    jotd_origins_free(o);
    jotd_origins_free(NULL);
    assert_false(jotd_origins_has(NULL, "https://c.test"));
    jotd_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_valid),
        cmocka_unit_test(test_cookie_names),
        cmocka_unit_test(test_refresh_cookie_name_and_path),
        cmocka_unit_test(test_cookie_request_refusal),
        cmocka_unit_test(test_origin_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
