/* Unit tests for server/redirect.c: the login page's `rd` (the forward-auth portal sends the
 * browser back there, so anything off the cookie domain is an open redirect), the
 * --cookie-domain check and the percent-encoding of the Location /verify answers with. */
#include <stdio.h>
#include <string.h>

#include "test.h"

#include "redirect.h"

static bool rd(const char *s)
{
    return jotd_rd_ok(s, strlen(s), "jot.test", false, NULL);
}

static void test_rd_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "https://jot.test",
        "https://jot.test/",
        "https://app.jot.test/",
        "https://app.jot.test:8443/path?q=1&r=%2F#frag",
        "https://a.b.app.jot.test/x/y/z",
        "https://app.jot.test?x=https://evil.com",
        "https://app.jot.test/%2e%2e/%2E",  /* dots in the path: still on app.jot.test */
        "https://xn--80ak6aa92e.jot.test/", /* punycode: a plain DNS name under the domain */
        "https://app.jot.test:1/",
        "https://app.jot.test:65535/",
        "https://app-1.jot.test/",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!rd(good[i]))
            fail_msg("refused: %s", good[i]);
    char origin[JOTD_ORIGIN_MAX];
    const char *u = "https://app.jot.test:8443/path?q=1";
    assert_true(jotd_rd_ok(u, strlen(u), "jot.test", false, origin));
    assert_string_equal(origin, "https://app.jot.test:8443");
    u = "https://app.jot.test?x";
    assert_true(jotd_rd_ok(u, strlen(u), "jot.test", false, origin));
    assert_string_equal(origin, "https://app.jot.test");
    /* http only when jotd serves plain HTTP */
    u = "http://localhost:8080/app";
    assert_false(jotd_rd_ok(u, strlen(u), "localhost", false, NULL));
    assert_true(jotd_rd_ok(u, strlen(u), "localhost", true, origin));
    assert_string_equal(origin, "http://localhost:8080");
}

static void test_rd_hostile(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "https://evil.com/",
        "https://evil.com?.jot.test",
        "https://evil.com#.jot.test",
        "https://evil.com/.jot.test",
        "https://jot.test.evil.com/",
        "https://eviljot.test/",
        "https://jot.test@evil.com/",
        "https://user:pw@app.jot.test/",
        "https://evil.com@app.jot.test/",
        "https://evil.com\\@app.jot.test/",
        "https://app.jot.test\\evil.com/",
        "https://app.jot.test/\\evil.com",
        "//evil.com",
        "//app.jot.test/",
        "/relative/path",
        "app.jot.test/",
        "https:app.jot.test/",
        "https:/app.jot.test/",
        "https:///app.jot.test/",
        "javascript:alert(1)//.jot.test",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://app.jot.test/",
        "HTTPS://app.jot.test/",
        "http://app.jot.test/", /* https only here */
        "https://APP.jot.test/",
        "https://app.JOT.TEST/",
        "https://app.jot.test%00.evil.com/",
        "https://app.jot.test/%00",
        "https://app.jot.test/%0",
        "https://app.jot.test/%zz",
        "https://app%2ejot.test/",
        "https://evil.com%2ejot.test/",
        "https://app.jot.test/\r\nSet-Cookie: x=1",
        "https://app.jot.test/\n",
        "https://app.jot.test/\t",
        "https://app.jot.test/a b",
        "https://app.jot.test/\x7f",
        " https://app.jot.test/",
        "https://app.jot.test:/",
        "https://app.jot.test:0/",
        "https://app.jot.test:08443/",
        "https://app.jot.test:65536/",
        "https://app.jot.test:123456/",
        "https://app.jot.test:80:80/",
        "https://app.jot.test:x/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]:443/",
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://app..jot.test/",
        "https://.jot.test/",
        "https://app.jot.test./",
        "https://-app.jot.test/",
        "https://app-.jot.test/",
        "https://app_1.jot.test/",
        "https://\xd0\xbf\xd1\x80\xd0\xb8.jot.test/", /* a raw IDN */
        "https://app.jot.test/\xc3\xa9",
        /* an ideographic full stop; two literals, or \x82e would be one escape */
        ("https://jot.test\xe3\x80\x82"
         "evil.com/"),
        "https://",
        "https:///",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rd(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    /* an embedded NUL: the length says more than strlen */
    static const char nul[] = "https://app.jot.test\0.evil.com/";
    assert_false(jotd_rd_ok(nul, sizeof nul - 1, "jot.test", false, NULL));
    /* over-long */
    char lng[JOTD_RD_MAX + 64];
    int n = snprintf(lng, sizeof lng, "https://app.jot.test/");
    memset(lng + n, 'a', sizeof lng - (size_t)n - 1);
    lng[sizeof lng - 1] = '\0';
    assert_false(rd(lng));
    lng[JOTD_RD_MAX] = '\0';
    assert_true(rd(lng));
    /* a host label over 63 bytes, a host over 253 */
    char host[400];
    n = snprintf(host, sizeof host, "https://");
    memset(host + n, 'a', 64);
    snprintf(host + n + 64, sizeof host - (size_t)n - 64, ".jot.test/");
    assert_false(rd(host));
    /* missing domain */
    const char *u = "https://app.jot.test/";
    assert_false(jotd_rd_ok(u, strlen(u), "", false, NULL));
    assert_false(jotd_rd_ok(NULL, 0, "jot.test", false, NULL));
}

static void test_cookie_domain(void **state)
{
    (void)state;
    static const char *const good[] = {"jot.test", "example.com", "a.b.example.co.uk", "localhost",
                                       "xn--80ak6aa92e.com"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!jotd_cookie_domain_ok(good[i]))
            fail_msg("refused: %s", good[i]);
    static const char *const bad[] = {
        "",         "com",       ".jot.test",    "jot.test.", "Jot.test",   "127.0.0.1",
        "[::1]",    "jot..test", "jot.test:443", "jot test",  "*.jot.test", "https://jot.test",
        "-jot.test"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jotd_cookie_domain_ok(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    assert_false(jotd_cookie_domain_ok(NULL));
    assert_true(jotd_host_under("auth.jot.test", 13, "jot.test"));
    assert_true(jotd_host_under("jot.test", 8, "jot.test"));
    assert_false(jotd_host_under("eviljot.test", 12, "jot.test"));
    assert_false(jotd_host_under("jot.test.evil", 13, "jot.test"));
}

static void test_percent_encode(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(jotd_percent_encode("https://a.jot.test/x?y=1&z=%2F", out, sizeof out), 48);
    assert_string_equal(out, "https%3A%2F%2Fa.jot.test%2Fx%3Fy%3D1%26z%3D%252F");
    assert_int_equal(jotd_percent_encode("a-._~Z9", out, sizeof out), 7);
    assert_string_equal(out, "a-._~Z9");
    assert_int_equal(jotd_percent_encode("\r\n", out, sizeof out), 6);
    assert_string_equal(out, "%0D%0A");
    assert_int_equal(jotd_percent_encode("abc", out, 3), 0); /* no room for the NUL */
    assert_int_equal(jotd_percent_encode("/", out, 3), 0);
    assert_int_equal(jotd_percent_encode("/", out, 4), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rd_accepted),
        cmocka_unit_test(test_rd_hostile),
        cmocka_unit_test(test_cookie_domain),
        cmocka_unit_test(test_percent_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
