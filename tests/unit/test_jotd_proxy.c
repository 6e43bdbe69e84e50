/* Unit tests for server/proxy.c: CIDR parsing (strict), range membership, and the client
 * address behind trusted proxies (X-Forwarded-For and Forwarded, rightmost untrusted). */
#include <stdio.h>
#include <string.h>

#include "test.h"

#include "proxy.h"

static jotd_cidr_t cidr(const char *s)
{
    jotd_cidr_t c;
    char why[96];
    if (jotd_cidr_parse(s, strlen(s), &c, why, sizeof why) != 0)
        fail_msg("%s: %s", s, why);
    return c;
}

static void test_cidr_parse(void **state)
{
    (void)state;
    static const char *const good[] = {
        "127.0.0.1", "127.0.0.1/32",  "10.0.0.0/8", "0.0.0.0/0", "192.168.1.128/25", "::1",
        "::1/128",   "2001:db8::/32", "fd00::/8",   "::/0",      "2001:db8::1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        (void)cidr(good[i]);
    static const char *const bad[] = {"",
                                      "/8",
                                      "10.0.0.0/",
                                      "10.0.0.0/33",
                                      "10.0.0.0/08",
                                      "10.0.0.1/8",
                                      "10.0.0.0/8 ",
                                      " 10.0.0.0/8",
                                      "10.0.0/8",
                                      "010.0.0.0/8",
                                      "10.0.0.0/-1",
                                      "10.0.0.0/+8",
                                      "::1/129",
                                      "2001:db8::1/32",
                                      "fe80::1%eth0",
                                      "[::1]",
                                      "::ffff:10.0.0.1",
                                      "localhost",
                                      "10.0.0.0/8/8",
                                      "1.2.3.4:80",
                                      "10.0.0.0/1000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jotd_cidr_t c;
        char why[96] = "";
        if (jotd_cidr_parse(bad[i], strlen(bad[i]), &c, why, sizeof why) == 0)
            fail_msg("accepted: \"%s\"", bad[i]);
        assert_true(why[0] != '\0');
    }
}

static void addr(const char *s, uint8_t out[16])
{
    assert_int_equal(jotd_addr_parse(s, strlen(s), out), 0);
}

static void test_contains(void **state)
{
    (void)state;
    jotd_cidr_t r[] = {cidr("10.0.0.0/8"), cidr("192.168.1.128/25"), cidr("2001:db8::/32"),
                       cidr("127.0.0.1")};
    static const struct {
        const char *a;
        bool in;
    } cases[] = {
        {"10.0.0.0", true},        {"10.255.255.255", true},   {"11.0.0.0", false},
        {"9.255.255.255", false},  {"192.168.1.128", true},    {"192.168.1.255", true},
        {"192.168.1.127", false},  {"127.0.0.1", true},        {"127.0.0.2", false},
        {"::ffff:10.1.2.3", true}, {"2001:db8:ffff::1", true}, {"2001:db9::1", false},
        {"::a00:1", false}, /* ::10.0.0.1 (IPv4-compatible) is not 10.0.0.1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t a[16];
        addr(cases[i].a, a);
        if (jotd_cidr_contains(r, 4, a) != cases[i].in)
            fail_msg("%s: expected %s", cases[i].a, cases[i].in ? "in" : "out");
    }
    uint8_t a[16];
    addr("1.2.3.4", a);
    jotd_cidr_t all = cidr("0.0.0.0/0");
    assert_true(jotd_cidr_contains(&all, 1, a));
    assert_false(jotd_cidr_contains(&all, 0, a));
    addr("2001:db8::1", a);
    assert_false(jotd_cidr_contains(&all, 1, a)); /* IPv4 /0 is every IPv4 address only */
}

/* The client of a request from \p peer with headers \p h (NULL-terminated name, value pairs)
 * behind the trusted ranges 127.0.0.1, 10.0.0.0/8 and 2001:db8:proxy::/48. */
static const char *client(const char *peer, const char *const *h)
{
    static char out[JOTD_ADDR_TEXT];
    jotd_cidr_t trusted[] = {cidr("127.0.0.1"), cidr("10.0.0.0/8"), cidr("2001:db8:aaaa::/48")};
    jotd_hdr_t hdrs[8];
    size_t n = 0;
    for (; h && h[2 * n]; n++) {
        hdrs[n].name = h[2 * n];
        hdrs[n].value = h[2 * n + 1];
    }
    uint8_t p[16], c[16];
    addr(peer, p);
    jotd_client_addr(trusted, 3, p, hdrs, n, c);
    jotd_addr_format(c, out);
    return out;
}

#define H(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_xff(void **state)
{
    (void)state;
    /* from a trusted proxy: the rightmost untrusted entry */
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "203.0.113.7")), "203.0.113.7");
    assert_string_equal(client("127.0.0.1", H("x-forwarded-for", "1.1.1.1, 203.0.113.7")),
                        "203.0.113.7"); /* what the client wrote on the left is ignored */
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "1.1.1.1,203.0.113.7, 10.1.1.1")),
                        "203.0.113.7"); /* a second, trusted, proxy skipped */
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "10.0.0.9, 10.0.0.8")),
                        "10.0.0.9"); /* all trusted: the leftmost */
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "2001:db8::5")), "2001:db8::5");
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "[2001:db8::5]:4711")),
                        "2001:db8::5");
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "203.0.113.7:5555")),
                        "203.0.113.7");
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "::ffff:203.0.113.7")),
                        "203.0.113.7");
    assert_string_equal(client("::ffff:127.0.0.1", H("X-Forwarded-For", "203.0.113.7")),
                        "203.0.113.7"); /* a mapped peer matches the IPv4 range */
    assert_string_equal(client("2001:db8:aaaa::1", H("X-Forwarded-For", "203.0.113.7")),
                        "203.0.113.7");
    /* several headers: one list, in order */
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "203.0.113.1", "Host", "a",
                                              "X-Forwarded-For", "203.0.113.2")),
                        "203.0.113.2");
    assert_string_equal(
        client("127.0.0.1", H("X-Forwarded-For", "203.0.113.1", "X-Forwarded-For", "10.0.0.1")),
        "203.0.113.1");
    /* malformed on the way: the peer; garbage left of the client does not matter */
    static const char *const bad[] = {"unknown",
                                      "",
                                      " ",
                                      "203.0.113.7,",
                                      "1.2.3",
                                      "x, 10.0.0.1",
                                      "203.0.113.7 10.0.0.1",
                                      "[2001:db8::1",
                                      "[1.2.3.4]x",
                                      "1.2.3.4:",
                                      "1.2.3.4:123456",
                                      "fe80::1%eth0",
                                      "2001:db8::1:80:",
                                      "1.2.3.4, , 10.0.0.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *got = client("127.0.0.1", H("X-Forwarded-For", bad[i]));
        if (strcmp(got, "127.0.0.1") != 0)
            fail_msg("\"%s\" gave %s", bad[i], got);
    }
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", "garbage, 203.0.113.7")),
                        "203.0.113.7");
    /* no header: the peer */
    assert_string_equal(client("127.0.0.1", NULL), "127.0.0.1");
    /* an untrusted peer is never overridden */
    assert_string_equal(client("198.51.100.1", H("X-Forwarded-For", "203.0.113.7")),
                        "198.51.100.1");
    assert_string_equal(client("198.51.100.1", H("Forwarded", "for=203.0.113.7")), "198.51.100.1");
    assert_string_equal(client("2001:db8:bbbb::1", H("X-Forwarded-For", "203.0.113.7")),
                        "2001:db8:bbbb::1");
}

static void test_forwarded(void **state)
{
    (void)state;
    assert_string_equal(client("127.0.0.1", H("Forwarded", "for=203.0.113.7")), "203.0.113.7");
    assert_string_equal(client("127.0.0.1", H("Forwarded", "For=\"[2001:db8:cafe::17]:4711\"")),
                        "2001:db8:cafe::17");
    assert_string_equal(
        client("127.0.0.1", H("Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43")),
        "192.0.2.60");
    assert_string_equal(client("127.0.0.1", H("Forwarded", "for=192.0.2.43, for=198.51.100.17")),
                        "198.51.100.17");
    assert_string_equal(
        client("127.0.0.1", H("Forwarded", "for=192.0.2.43, for=\"10.0.0.1\";proto=https")),
        "192.0.2.43");
    assert_string_equal(
        client("127.0.0.1", H("Forwarded", "for=192.0.2.43", "Forwarded", "for=198.51.100.17")),
        "198.51.100.17");
    assert_string_equal(client("127.0.0.1", H("Forwarded", "by=\"a,b;c\";for=192.0.2.9")),
                        "192.0.2.9");
    assert_string_equal(client("127.0.0.1", H("Forwarded", "for=\"192.0.2.\\9\"")),
                        "192.0.2.9"); /* a quoted-pair */
    /* X-Forwarded-For wins when both are there */
    assert_string_equal(
        client("127.0.0.1", H("Forwarded", "for=192.0.2.1", "X-Forwarded-For", "192.0.2.2")),
        "192.0.2.2");
    static const char *const bad[] = {"for=unknown",
                                      "for=_hidden",
                                      "for=\"[2001:db8::1\"",
                                      "for=2001:db8::1:4711:",
                                      "proto=https",
                                      "for=1.2.3.4;for=5.6.7.8",
                                      "for=\"1.2.3.4",
                                      "for",
                                      "=1.2.3.4",
                                      "for=1.2.3.4,",
                                      "for=1.2.3.4 x",
                                      "for=1.2.3.4, proto=http",
                                      "for=\"\"",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *got = client("127.0.0.1", H("Forwarded", bad[i]));
        if (strcmp(got, "127.0.0.1") != 0)
            fail_msg("\"%s\" gave %s", bad[i], got);
    }
}

static void test_many_entries(void **state)
{
    (void)state;
    /* longer than the entries remembered: the rightmost ones decide */
    char v[8192];
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(v + n, sizeof v - n, "%s198.51.100.%d", i ? "," : "", i % 250);
    snprintf(v + n, sizeof v - n, ",203.0.113.7,10.0.0.1");
    assert_string_equal(client("127.0.0.1", H("X-Forwarded-For", v)), "203.0.113.7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse),   cmocka_unit_test(test_contains),
        cmocka_unit_test(test_xff),          cmocka_unit_test(test_forwarded),
        cmocka_unit_test(test_many_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
