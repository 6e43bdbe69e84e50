/* Unit tests for the browser rules of server/names.c and server/cors.c: the origin syntax a
 * client may allow, cookie names and the cookie-mode rule, the refresh cookie's name and
 * Path, the CSRF checks of a cookie-authenticated request, the in-memory origin set. */
#include <stdio.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_valid),
        cmocka_unit_test(test_cookie_names),
        cmocka_unit_test(test_refresh_cookie_name_and_path),
        cmocka_unit_test(test_cookie_request_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
