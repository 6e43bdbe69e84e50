/* Unit tests for lib/claims.c: claim sets, typed setters and getters, limits, and their
 * behaviour when allocations fail. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#include "internal.h"

static jot_claims_t *new_claims(void)
{
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_new(&c), JOT_OK);
    assert_non_null(c);
    return c;
}

static jot_claims_t *claims_from(const char *json)
{
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_from_json(json, strlen(json), &c), JOT_OK);
    assert_non_null(c);
    return c;
}

static void assert_json(const jot_claims_t *c, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    assert_rc(jot_claims_to_json(c, &out, &len), JOT_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    jot_free(out);
}

static void assert_claim_json(const jot_claims_t *c, const char *name, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    assert_rc(jot_claims_get_json(c, name, &out, &len), JOT_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    jot_free(out);
}

/* ---- construction ------------------------------------------------------------------------- */

static void test_new_is_empty_object(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    assert_json(c, "{}");
    assert_int_equal(jot_claims_has(c, "iss"), 0);
    jot_claims_free(c);
    jot_claims_free(NULL); /* no-op */
}

static void test_from_json_strict(void **state)
{
    (void)state;
    jot_claims_t *c = (jot_claims_t *)&c; /* sentinel: written only on success */
    jot_claims_t *const sentinel = c;
    const struct {
        const char *json;
        jot_err_t want;
    } cases[] = {
        {"{\"a\":1,\"a\":2}", JOT_E_JSON_DUPLICATE},
        {"{\"a\":{\"b\":1,\"b\":1}}", JOT_E_JSON_DUPLICATE},
        {"{\"a\":\"\xc0\xaf\"}", JOT_E_UTF8},
        {"{\"a\":\"\xed\xa0\x80\"}", JOT_E_UTF8},
        {"{\"a\":\"\\u0000\"}", JOT_E_JSON},
        {"{\"a\":\"\\ud800\"}", JOT_E_JSON},
        {"{} {}", JOT_E_JSON},
        {"{\"a\":1}x", JOT_E_JSON},
        {"\xef\xbb\xbf{}", JOT_E_JSON},
        {"[]", JOT_E_JSON},
        {"\"claims\"", JOT_E_JSON},
        {"null", JOT_E_JSON},
        {"", JOT_E_JSON},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", JOT_E_JSON_DEPTH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jot_err_t rc = jot_claims_from_json(cases[i].json, strlen(cases[i].json), &c);
        if (rc != cases[i].want)
            fail_msg("claims_from_json('%s'): got %s, want %s", cases[i].json, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        assert_ptr_equal(c, sentinel);
    }
    c = claims_from(" {\"iss\":\"joe\",\r\n \"exp\":1300819380} ");
    assert_json(c, "{\"iss\":\"joe\",\"exp\":1300819380}");
    jot_claims_free(c);
}

static void test_from_json_size_cap(void **state)
{
    (void)state;
    /* {"p":"xxx...x"} exactly JOT_MAX_PAYLOAD_BYTES long, then one byte more */
    size_t n = JOT_MAX_PAYLOAD_BYTES;
    char *s = test_malloc(n + 2);
    memset(s, 'x', n + 1);
    memcpy(s, "{\"p\":\"", 6);
    memcpy(s + n - 2, "\"}", 2);
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_from_json(s, n, &c), JOT_OK);
    jot_claims_free(c);
    c = NULL;
    s[n - 2] = 'x';
    memcpy(s + n - 1, "\"}", 2);
    assert_rc(jot_claims_from_json(s, n + 1, &c), JOT_E_TOOBIG);
    assert_null(c);
    test_free(s);
}

/* ---- setters and getters -------------------------------------------------------------------- */

static void test_string(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    const char *v = NULL;
    assert_rc(jot_claims_get_string(c, "iss", &v), JOT_E_NOT_FOUND);
    assert_null(v);
    assert_rc(jot_claims_set_string(c, "iss", "joe"), JOT_OK);
    assert_int_equal(jot_claims_has(c, "iss"), 1);
    assert_rc(jot_claims_get_string(c, "iss", &v), JOT_OK);
    assert_string_equal(v, "joe");
    assert_rc(jot_claims_set_string(c, "name", "Jos\xc3\xa9 \xf0\x9f\x98\x80"), JOT_OK);
    assert_rc(jot_claims_get_string(c, "name", &v), JOT_OK);
    assert_string_equal(v, "Jos\xc3\xa9 \xf0\x9f\x98\x80");
    assert_rc(jot_claims_set_string(c, "empty", ""), JOT_OK);
    assert_rc(jot_claims_get_string(c, "empty", &v), JOT_OK);
    assert_string_equal(v, "");
    /* the value is copied */
    char buf[8] = "abc";
    assert_rc(jot_claims_set_string(c, "copy", buf), JOT_OK);
    buf[0] = 'X';
    assert_rc(jot_claims_get_string(c, "copy", &v), JOT_OK);
    assert_string_equal(v, "abc");
    /* type errors: a string getter on other types, other getters on a string */
    assert_rc(jot_claims_set_int(c, "n", 5), JOT_OK);
    v = NULL;
    assert_rc(jot_claims_get_string(c, "n", &v), JOT_E_CLAIM_TYPE);
    assert_null(v);
    int64_t i = 0;
    int b = 0;
    assert_rc(jot_claims_get_int(c, "iss", &i), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_bool(c, "iss", &b), JOT_E_CLAIM_TYPE);
    assert_json(c, "{\"iss\":\"joe\",\"name\":\"Jos\xc3\xa9 \xf0\x9f\x98\x80\",\"empty\":\"\","
                   "\"copy\":\"abc\",\"n\":5}");
    jot_claims_free(c);
}

static void test_int(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    int64_t v = 7;
    assert_rc(jot_claims_get_int(c, "exp", &v), JOT_E_NOT_FOUND);
    assert_int_equal(v, 7);
    const int64_t values[] = {0, 1, -1, 1300819380, INT64_MAX, INT64_MIN, (int64_t)1 << 53};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        assert_rc(jot_claims_set_int(c, "exp", values[k]), JOT_OK);
        assert_rc(jot_claims_get_int(c, "exp", &v), JOT_OK);
        assert_true(v == values[k]);
    }
    assert_claim_json(c, "exp", "9007199254740992");
    const char *s = NULL;
    int b;
    assert_rc(jot_claims_get_string(c, "exp", &s), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_bool(c, "exp", &b), JOT_E_CLAIM_TYPE);
    jot_claims_free(c);
}

/* An integer claim is a JSON number without a fraction: 1e3 and 1.0 are integers. */
static void test_int_from_json_numbers(void **state)
{
    (void)state;
    jot_claims_t *c = claims_from("{\"e3\":1e3,\"one\":1.0,\"neg\":-2E2,\"half\":1.5,"
                                  "\"tiny\":1e-300,\"huge\":1e300,\"e19\":1e19,"
                                  "\"max\":9007199254740992.0,\"over\":18014398509481984.0,"
                                  "\"s\":\"5\",\"t\":true,\"z\":null,\"a\":[1],\"o\":{}}");
    int64_t v = 0;
    assert_rc(jot_claims_get_int(c, "e3", &v), JOT_OK);
    assert_int_equal(v, 1000);
    assert_rc(jot_claims_get_int(c, "one", &v), JOT_OK);
    assert_int_equal(v, 1);
    assert_rc(jot_claims_get_int(c, "neg", &v), JOT_OK);
    assert_true(v == -200);
    assert_rc(jot_claims_get_int(c, "max", &v), JOT_OK);
    assert_true(v == (int64_t)1 << 53);
    v = 99;
    const char *bad[] = {"half", "tiny", "huge", "e19", "over", "s", "t", "z", "a", "o"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jot_err_t rc = jot_claims_get_int(c, bad[i], &v);
        if (rc != JOT_E_CLAIM_TYPE)
            fail_msg("get_int(%s): got %s", bad[i], jot_err_name(rc));
    }
    assert_int_equal(v, 99); /* untouched on failure */
    jot_claims_free(c);
}

static void test_bool(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    int v = 5;
    assert_rc(jot_claims_get_bool(c, "admin", &v), JOT_E_NOT_FOUND);
    assert_int_equal(v, 5);
    assert_rc(jot_claims_set_bool(c, "admin", 1), JOT_OK);
    assert_rc(jot_claims_get_bool(c, "admin", &v), JOT_OK);
    assert_int_equal(v, 1);
    assert_rc(jot_claims_set_bool(c, "admin", 0), JOT_OK);
    assert_rc(jot_claims_get_bool(c, "admin", &v), JOT_OK);
    assert_int_equal(v, 0);
    assert_rc(jot_claims_set_bool(c, "other", 42), JOT_OK); /* any non-zero is true */
    assert_rc(jot_claims_get_bool(c, "other", &v), JOT_OK);
    assert_int_equal(v, 1);
    assert_json(c, "{\"admin\":false,\"other\":true}");
    jot_claims_free(c);

    c = claims_from("{\"one\":1,\"zero\":0,\"s\":\"true\",\"n\":null}");
    v = 5;
    assert_rc(jot_claims_get_bool(c, "one", &v), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_bool(c, "zero", &v), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_bool(c, "s", &v), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_bool(c, "n", &v), JOT_E_CLAIM_TYPE);
    assert_int_equal(v, 5);
    jot_claims_free(c);
}

static void test_strings(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    const char *const auds[] = {"a", "b\xc3\xa9", "c"};
    assert_rc(jot_claims_set_strings(c, "aud", auds, 3), JOT_OK);
    size_t n = 0;
    assert_rc(jot_claims_get_strings_count(c, "aud", &n), JOT_OK);
    assert_int_equal(n, 3);
    const char *v = NULL;
    for (size_t i = 0; i < 3; i++) {
        assert_rc(jot_claims_get_strings_at(c, "aud", i, &v), JOT_OK);
        assert_string_equal(v, auds[i]);
    }
    v = NULL;
    assert_rc(jot_claims_get_strings_at(c, "aud", 3, &v), JOT_E_NOT_FOUND);
    assert_rc(jot_claims_get_strings_at(c, "aud", SIZE_MAX, &v), JOT_E_NOT_FOUND);
    assert_null(v);
    assert_claim_json(c, "aud", "[\"a\",\"b\xc3\xa9\",\"c\"]");
    /* an array is not a string */
    assert_rc(jot_claims_get_string(c, "aud", &v), JOT_E_CLAIM_TYPE);

    /* a plain string counts as one */
    assert_rc(jot_claims_set_string(c, "one", "x"), JOT_OK);
    assert_rc(jot_claims_get_strings_count(c, "one", &n), JOT_OK);
    assert_int_equal(n, 1);
    assert_rc(jot_claims_get_strings_at(c, "one", 0, &v), JOT_OK);
    assert_string_equal(v, "x");
    assert_rc(jot_claims_get_strings_at(c, "one", 1, &v), JOT_E_NOT_FOUND);

    /* empty array: from NULL with n == 0 */
    assert_rc(jot_claims_set_strings(c, "none", NULL, 0), JOT_OK);
    assert_rc(jot_claims_get_strings_count(c, "none", &n), JOT_OK);
    assert_int_equal(n, 0);
    assert_rc(jot_claims_get_strings_at(c, "none", 0, &v), JOT_E_NOT_FOUND);
    assert_claim_json(c, "none", "[]");

    /* missing */
    n = 77;
    assert_rc(jot_claims_get_strings_count(c, "missing", &n), JOT_E_NOT_FOUND);
    assert_rc(jot_claims_get_strings_at(c, "missing", 0, &v), JOT_E_NOT_FOUND);
    assert_int_equal(n, 77);
    jot_claims_free(c);

    /* arrays holding something other than strings, and non-arrays */
    c = claims_from("{\"mixed\":[\"a\",1],\"nums\":[1,2],\"nested\":[[\"a\"]],\"n\":1,"
                    "\"o\":{\"a\":\"b\"},\"z\":null,\"t\":true}");
    n = 77;
    const char *bad[] = {"mixed", "nums", "nested", "n", "o", "z", "t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jot_err_t rc = jot_claims_get_strings_count(c, bad[i], &n);
        if (rc != JOT_E_CLAIM_TYPE)
            fail_msg("get_strings_count(%s): got %s", bad[i], jot_err_name(rc));
    }
    assert_int_equal(n, 77);
    assert_rc(jot_claims_get_strings_at(c, "mixed", 0, &v), JOT_OK);
    assert_string_equal(v, "a");
    assert_rc(jot_claims_get_strings_at(c, "mixed", 1, &v), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_strings_at(c, "nums", 0, &v), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_strings_at(c, "n", 0, &v), JOT_E_CLAIM_TYPE);
    assert_rc(jot_claims_get_strings_at(c, "o", 0, &v), JOT_E_CLAIM_TYPE);
    jot_claims_free(c);
}

static void test_replace_claim(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    assert_rc(jot_claims_set_string(c, "a", "1"), JOT_OK);
    assert_rc(jot_claims_set_string(c, "b", "2"), JOT_OK);
    assert_rc(jot_claims_set_string(c, "c", "3"), JOT_OK);
    /* replacing keeps one member, with the new value and type, in its place */
    assert_rc(jot_claims_set_int(c, "a", 10), JOT_OK);
    assert_json(c, "{\"a\":10,\"b\":\"2\",\"c\":\"3\"}");
    assert_rc(jot_claims_set_bool(c, "b", 1), JOT_OK);
    const char *const one[] = {"x"};
    assert_rc(jot_claims_set_strings(c, "c", one, 1), JOT_OK);
    assert_json(c, "{\"a\":10,\"b\":true,\"c\":[\"x\"]}");
    assert_rc(jot_claims_set_json(c, "a", "{\"k\":null}", 10), JOT_OK);
    assert_rc(jot_claims_set_string(c, "b", "back"), JOT_OK);
    assert_json(c, "{\"a\":{\"k\":null},\"b\":\"back\",\"c\":[\"x\"]}");
    const char *v;
    assert_rc(jot_claims_get_string(c, "b", &v), JOT_OK);
    assert_string_equal(v, "back");
    /* a failed replacement leaves the old value */
    assert_rc(jot_claims_set_string(c, "b", "\xff"), JOT_E_UTF8);
    assert_rc(jot_claims_set_json(c, "b", "{\"x\":1,\"x\":2}", 13), JOT_E_JSON_DUPLICATE);
    const char *const badlist[] = {"ok", "\xc0\xaf"};
    assert_rc(jot_claims_set_strings(c, "b", badlist, 2), JOT_E_UTF8);
    assert_rc(jot_claims_get_string(c, "b", &v), JOT_OK);
    assert_string_equal(v, "back");
    jot_claims_free(c);
}

static void test_del_and_has(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    assert_rc(jot_claims_del(c, "a"), JOT_E_NOT_FOUND);
    assert_rc(jot_claims_set_int(c, "a", 1), JOT_OK);
    assert_rc(jot_claims_set_int(c, "b", 2), JOT_OK);
    assert_int_equal(jot_claims_has(c, "a"), 1);
    assert_rc(jot_claims_del(c, "a"), JOT_OK);
    assert_int_equal(jot_claims_has(c, "a"), 0);
    assert_int_equal(jot_claims_has(c, "b"), 1);
    assert_rc(jot_claims_del(c, "a"), JOT_E_NOT_FOUND);
    /* re-added after deletion: goes last */
    assert_rc(jot_claims_set_int(c, "a", 3), JOT_OK);
    assert_json(c, "{\"b\":2,\"a\":3}");
    /* names are exact: no case folding, no prefix match */
    assert_int_equal(jot_claims_has(c, "A"), 0);
    assert_int_equal(jot_claims_has(c, "a "), 0);
    assert_int_equal(jot_claims_has(c, ""), 0);
    jot_claims_free(c);
}

static void test_invalid_utf8_rejected(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    const char *bad[] = {"\xff",     "a\xc0\xaf",        "\xed\xa0\x80",
                         "\xe2\x82", "\xf4\x90\x80\x80", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_rc(jot_claims_set_string(c, "v", bad[i]), JOT_E_UTF8);
        assert_rc(jot_claims_set_string(c, bad[i], "v"), JOT_E_UTF8);
        assert_rc(jot_claims_set_int(c, bad[i], 1), JOT_E_UTF8);
        assert_rc(jot_claims_set_bool(c, bad[i], 1), JOT_E_UTF8);
        const char *const list[] = {"fine", bad[i]};
        assert_rc(jot_claims_set_strings(c, "v", list, 2), JOT_E_UTF8);
        assert_rc(jot_claims_set_strings(c, bad[i], list, 1), JOT_E_UTF8);
        assert_rc(jot_claims_set_json(c, bad[i], "1", 1), JOT_E_UTF8);
    }
    /* nothing was added */
    assert_json(c, "{}");
    /* accept side: the same shapes, well-formed */
    assert_rc(jot_claims_set_string(c, "\xc3\xa9", "\xf4\x8f\xbf\xbf"), JOT_OK);
    assert_json(c, "{\"\xc3\xa9\":\"\xf4\x8f\xbf\xbf\"}");
    jot_claims_free(c);
}

static void test_set_json(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    const struct {
        const char *json;
        jot_err_t want;
    } cases[] = {
        {"{\"a\":[1,2,{\"b\":null}]}", JOT_OK},
        {"[1,\"two\",3.5]", JOT_OK},
        {"42", JOT_OK},
        {"\"s\"", JOT_OK},
        {"null", JOT_OK},
        {"true", JOT_OK},
        {" {} ", JOT_OK},
        {"", JOT_E_JSON},
        {"{", JOT_E_JSON},
        {"{\"a\":1,\"a\":2}", JOT_E_JSON_DUPLICATE},
        {"[{\"a\":1,\"a\":2}]", JOT_E_JSON_DUPLICATE},
        {"{} {}", JOT_E_JSON},
        {"1 2", JOT_E_JSON},
        {"[1,]", JOT_E_JSON},
        {"\"\xc0\xaf\"", JOT_E_UTF8},
        {"\"\\u0000\"", JOT_E_JSON},
        {"\"\\udc00\"", JOT_E_JSON},
        {"\xef\xbb\xbf{}", JOT_E_JSON},
        {"NaN", JOT_E_JSON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jot_err_t rc = jot_claims_set_json(c, "x", cases[i].json, strlen(cases[i].json));
        if (rc != cases[i].want)
            fail_msg("set_json('%s'): got %s, want %s", cases[i].json, jot_err_name(rc),
                     jot_err_name(cases[i].want));
        if (rc == JOT_OK && i == 0)
            assert_claim_json(c, "x", "{\"a\":[1,2,{\"b\":null}]}");
    }
    assert_claim_json(c, "x", "{}"); /* the last success */
    /* the length is honoured */
    assert_rc(jot_claims_set_json(c, "y", "[1]garbage", 3), JOT_OK);
    assert_claim_json(c, "y", "[1]");
    assert_rc(jot_claims_set_json(c, "y", "[1]", 2), JOT_E_JSON);
    assert_rc(jot_claims_set_json(c, "y", "[1]\0", 4), JOT_E_JSON);
    jot_claims_free(c);
}

/* A claim value may nest one level less than the limit, since the claim set itself is a
 * level: whatever set_json accepts must survive to_json -> from_json. */
static void test_set_json_depth(void **state)
{
    (void)state;
    char doc[2 * JOT_MAX_JSON_DEPTH + 1];
    jot_claims_t *c = new_claims();
    for (unsigned depth = 1; depth <= JOT_MAX_JSON_DEPTH; depth++) {
        memset(doc, '[', depth);
        memset(doc + depth, ']', depth);
        jot_err_t rc = jot_claims_set_json(c, "deep", doc, 2 * (size_t)depth);
        if (depth <= JOT_MAX_JSON_DEPTH - 1)
            assert_rc(rc, JOT_OK);
        else
            assert_rc(rc, JOT_E_JSON_DEPTH);
    }
    char *json = NULL;
    size_t len = 0;
    assert_rc(jot_claims_to_json(c, &json, &len), JOT_OK);
    jot_claims_t *back = NULL;
    assert_rc(jot_claims_from_json(json, len, &back), JOT_OK);
    jot_claims_free(back);
    jot_free(json);
    jot_claims_free(c);
}

static void test_set_json_size_cap(void **state)
{
    (void)state;
    size_t n = JOT_MAX_PAYLOAD_BYTES;
    char *s = test_malloc(n + 1);
    memset(s, 'x', n + 1);
    s[0] = '"';
    s[n - 1] = '"';
    jot_claims_t *c = new_claims();
    assert_rc(jot_claims_set_json(c, "big", s, n), JOT_OK);
    s[n - 1] = 'x';
    s[n] = '"';
    assert_rc(jot_claims_set_json(c, "big2", s, n + 1), JOT_E_TOOBIG);
    assert_int_equal(jot_claims_has(c, "big2"), 0);
    test_free(s);
    jot_claims_free(c);
}

/* ---- serialisation ------------------------------------------------------------------------ */

static void test_to_json_round_trip_in_order(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    assert_rc(jot_claims_set_string(c, "zeta", "z"), JOT_OK);
    assert_rc(jot_claims_set_int(c, "alpha", -5), JOT_OK);
    assert_rc(jot_claims_set_bool(c, "mid", 0), JOT_OK);
    const char *const list[] = {"q", "\"quoted\"", "back\\slash", "\xe2\x82\xac"};
    assert_rc(jot_claims_set_strings(c, "beta", list, 4), JOT_OK);
    const char *obj = "{ \"y\" : 2 , \"x\" : [ ] }";
    assert_rc(jot_claims_set_json(c, "obj", obj, strlen(obj)), JOT_OK);
    assert_rc(jot_claims_set_string(c, "ctl", "tab\there\nnl"), JOT_OK);
    const char *want = "{\"zeta\":\"z\",\"alpha\":-5,\"mid\":false,"
                       "\"beta\":[\"q\",\"\\\"quoted\\\"\",\"back\\\\slash\",\"\xe2\x82\xac\"],"
                       "\"obj\":{\"y\":2,\"x\":[]},\"ctl\":\"tab\\there\\nnl\"}";
    assert_json(c, want);

    char *json = NULL;
    size_t len = 0;
    assert_rc(jot_claims_to_json(c, &json, NULL), JOT_OK); /* out_len may be NULL */
    len = strlen(json);
    jot_claims_t *back = NULL;
    assert_rc(jot_claims_from_json(json, len, &back), JOT_OK);
    assert_json(back, want);
    const char *v;
    assert_rc(jot_claims_get_strings_at(back, "beta", 2, &v), JOT_OK);
    assert_string_equal(v, "back\\slash");
    assert_rc(jot_claims_get_string(back, "ctl", &v), JOT_OK);
    assert_string_equal(v, "tab\there\nnl");
    jot_claims_free(back);
    jot_free(json);
    jot_claims_free(c);
}

/* ---- the member cap ---------------------------------------------------------------------- */

static void test_max_claims(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    char name[16];
    for (unsigned i = 0; i < JOT_MAX_CLAIMS; i++) {
        snprintf(name, sizeof name, "c%u", i);
        assert_rc(jot_claims_set_int(c, name, (int64_t)i), JOT_OK);
    }
    /* every setter refuses a new name */
    const char *const one[] = {"x"};
    assert_rc(jot_claims_set_int(c, "extra", 1), JOT_E_TOOBIG);
    assert_rc(jot_claims_set_string(c, "extra", "x"), JOT_E_TOOBIG);
    assert_rc(jot_claims_set_bool(c, "extra", 1), JOT_E_TOOBIG);
    assert_rc(jot_claims_set_strings(c, "extra", one, 1), JOT_E_TOOBIG);
    assert_rc(jot_claims_set_json(c, "extra", "{}", 2), JOT_E_TOOBIG);
    assert_int_equal(jot_claims_has(c, "extra"), 0);
    /* but replacing an existing one is fine */
    assert_rc(jot_claims_set_string(c, "c0", "replaced"), JOT_OK);
    assert_rc(jot_claims_set_json(c, "c1", "[1]", 3), JOT_OK);
    /* and so is adding after a deletion */
    assert_rc(jot_claims_del(c, "c2"), JOT_OK);
    assert_rc(jot_claims_set_int(c, "extra", 1), JOT_OK);
    assert_rc(jot_claims_set_int(c, "extra2", 1), JOT_E_TOOBIG);

    /* parsing: exactly JOT_MAX_CLAIMS members is fine, one more is too many */
    char *json = NULL;
    size_t len = 0;
    assert_rc(jot_claims_to_json(c, &json, &len), JOT_OK);
    jot_claims_t *back = NULL;
    assert_rc(jot_claims_from_json(json, len, &back), JOT_OK);
    jot_claims_free(back);
    back = NULL;
    char *more = test_malloc(len + 16);
    memcpy(more, json, len - 1);
    memcpy(more + len - 1, ",\"one\":1}", 10);
    assert_rc(jot_claims_from_json(more, strlen(more), &back), JOT_E_TOOBIG);
    assert_null(back);
    test_free(more);
    jot_free(json);
    jot_claims_free(c);
}

/* ---- NULL arguments --------------------------------------------------------------------- */

static void test_null_arguments(void **state)
{
    (void)state;
    jot_claims_t *c = new_claims();
    assert_rc(jot_claims_set_string(c, "s", "v"), JOT_OK);
    const char *v;
    int64_t i;
    int b;
    size_t n;
    char *json;
    size_t len;
    const char *const list[] = {"a", NULL};

    assert_rc(jot_claims_new(NULL), JOT_E_INVAL);
    assert_rc(jot_claims_from_json(NULL, 2, &c), JOT_E_INVAL);
    assert_rc(jot_claims_from_json("{}", 2, NULL), JOT_E_INVAL);

    assert_rc(jot_claims_set_string(NULL, "a", "b"), JOT_E_INVAL);
    assert_rc(jot_claims_set_string(c, NULL, "b"), JOT_E_INVAL);
    assert_rc(jot_claims_set_string(c, "a", NULL), JOT_E_INVAL);
    assert_rc(jot_claims_set_int(NULL, "a", 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_int(c, NULL, 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_bool(NULL, "a", 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_bool(c, NULL, 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_strings(NULL, "a", list, 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_strings(c, NULL, list, 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_strings(c, "a", NULL, 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_strings(c, "a", list, 2), JOT_E_INVAL); /* NULL element */
    assert_rc(jot_claims_set_json(NULL, "a", "1", 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_json(c, NULL, "1", 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_json(c, "a", NULL, 1), JOT_E_INVAL);
    assert_rc(jot_claims_set_json(c, "a", NULL, 0), JOT_E_INVAL);
    assert_rc(jot_claims_del(NULL, "s"), JOT_E_INVAL);
    assert_rc(jot_claims_del(c, NULL), JOT_E_INVAL);
    assert_int_equal(jot_claims_has(NULL, "s"), 0);
    assert_int_equal(jot_claims_has(c, NULL), 0);

    assert_rc(jot_claims_get_string(NULL, "s", &v), JOT_E_INVAL);
    assert_rc(jot_claims_get_string(c, NULL, &v), JOT_E_INVAL);
    assert_rc(jot_claims_get_int(NULL, "s", &i), JOT_E_INVAL);
    assert_rc(jot_claims_get_int(c, NULL, &i), JOT_E_INVAL);
    assert_rc(jot_claims_get_bool(NULL, "s", &b), JOT_E_INVAL);
    assert_rc(jot_claims_get_bool(c, NULL, &b), JOT_E_INVAL);
    assert_rc(jot_claims_get_strings_count(NULL, "s", &n), JOT_E_INVAL);
    assert_rc(jot_claims_get_strings_count(c, NULL, &n), JOT_E_INVAL);
    assert_rc(jot_claims_get_strings_at(NULL, "s", 0, &v), JOT_E_INVAL);
    assert_rc(jot_claims_get_strings_at(c, NULL, 0, &v), JOT_E_INVAL);
    assert_rc(jot_claims_get_json(NULL, "s", &json, &len), JOT_E_INVAL);
    assert_rc(jot_claims_get_json(c, NULL, &json, &len), JOT_E_INVAL);
    assert_rc(jot_claims_to_json(NULL, &json, &len), JOT_E_INVAL);
    assert_rc(jot_claims_to_json(c, NULL, &len), JOT_E_INVAL);

    /* nothing above changed the claim set */
    assert_json(c, "{\"s\":\"v\"}");
    jot_claims_free(c);
}

/* A NULL output pointer must be refused, not written through. Each call runs in a child
 * process so that a crash is reported as a failure instead of ending the test program. */
typedef jot_err_t (*claims_call_fn)(const jot_claims_t *c);

static jot_err_t call_get_string(const jot_claims_t *c)
{
    return jot_claims_get_string(c, "s", NULL);
}
static jot_err_t call_get_int(const jot_claims_t *c)
{
    return jot_claims_get_int(c, "i", NULL);
}
static jot_err_t call_get_bool(const jot_claims_t *c)
{
    return jot_claims_get_bool(c, "b", NULL);
}
static jot_err_t call_get_strings_count(const jot_claims_t *c)
{
    return jot_claims_get_strings_count(c, "a", NULL);
}
static jot_err_t call_get_strings_at(const jot_claims_t *c)
{
    return jot_claims_get_strings_at(c, "a", 0, NULL);
}
static jot_err_t call_get_json(const jot_claims_t *c)
{
    return jot_claims_get_json(c, "s", NULL, NULL);
}

/* Returns the function's result, or -1 if the child process died. */
static int run_in_child(claims_call_fn fn, const jot_claims_t *c)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka's handlers would longjmp back into the test runner in the child */
        const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        _exit(100 + (int)fn(c));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
        return WEXITSTATUS(status) - 100;
    return -1;
}

/* Regression: the claim getters used to write through a NULL out pointer (segfault)
 * instead of returning JOT_E_INVAL. */
static void test_null_out_pointers(void **state)
{
    (void)state;
    jot_claims_t *c = claims_from("{\"s\":\"v\",\"i\":1,\"b\":true,\"a\":[\"x\"]}");
    const struct {
        const char *name;
        claims_call_fn fn;
    } calls[] = {
        {"jot_claims_get_string", call_get_string},
        {"jot_claims_get_int", call_get_int},
        {"jot_claims_get_bool", call_get_bool},
        {"jot_claims_get_strings_count", call_get_strings_count},
        {"jot_claims_get_strings_at", call_get_strings_at},
        {"jot_claims_get_json", call_get_json},
    };
    int failures = 0;
    for (size_t k = 0; k < sizeof calls / sizeof calls[0]; k++) {
        int rc = run_in_child(calls[k].fn, c);
        if (rc == -1) {
            print_error("  %s(..., NULL): crashed\n", calls[k].name);
            failures++;
        } else if (rc != JOT_E_INVAL) {
            print_error("  %s(..., NULL): %s, want JOT_E_INVAL\n", calls[k].name,
                        jot_err_name((jot_err_t)rc));
            failures++;
        }
    }
    jot_claims_free(c);
    if (failures)
        fail_msg("%d getter(s) mishandle a NULL output pointer (library bug)", failures);
}

/* ---- NumericDate (internal) ------------------------------------------------------------------ */

static void test_numeric_date(void **state)
{
    (void)state;
    jot_claims_t *c = claims_from(
        "{\"zero\":0,\"int\":1300819380,\"max\":9007199254740991,\"frac\":1300819380.9,"
        "\"e\":1.5e9,\"negzero\":-0.0,"
        "\"neg\":-1,\"negfrac\":-0.5,\"over\":9007199254740992,\"overr\":9007199254740992.0,"
        "\"big\":1e300,\"s\":\"1300819380\",\"t\":true,\"z\":null,\"a\":[1],\"o\":{}}");
    const struct {
        const char *name;
        int64_t value;
    } ok[] = {{"zero", 0},          {"int", 1300819380}, {"max", 9007199254740991},
              {"frac", 1300819380}, {"e", 1500000000},   {"negzero", 0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -7;
        assert_rc(jot__claims_get_numeric_date(c, ok[i].name, &v), JOT_OK);
        assert_true(v == ok[i].value);
    }
    const char *bad[] = {"neg", "negfrac", "over", "overr", "big", "s", "t", "z", "a", "o"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = -7;
        jot_err_t rc = jot__claims_get_numeric_date(c, bad[i], &v);
        if (rc != JOT_E_CLAIM_TYPE)
            fail_msg("numeric date '%s': got %s", bad[i], jot_err_name(rc));
        assert_true(v == -7);
    }
    int64_t v = -7;
    assert_rc(jot__claims_get_numeric_date(c, "missing", &v), JOT_E_NOT_FOUND);
    assert_true(v == -7);
    jot_claims_free(c);
}

/* ---- allocation failures ------------------------------------------------------------------- */

#define STEP(call)                                                                                 \
    do {                                                                                           \
        if (rc == JOT_OK)                                                                          \
            rc = (call);                                                                           \
    } while (0)

static const char scenario_json[] =
    "{\"iss\":\"mary\",\"exp\":1300819380,\"adm\":true,\"aud\":[\"a\",\"b\",\"c\"],"
    "\"x\":{\"k\":[1,2,{\"z\":null}]}}";

/* Builds a claim set with every setter, serialises and re-parses it. On success the result
 * must be exactly scenario_json (JOT_E_MALFORMED flags a silent loss). */
static jot_err_t claims_scenario(void)
{
    jot_claims_t *c = NULL, *back = NULL;
    char *json = NULL, *one = NULL, *again = NULL;
    size_t len = 0, one_len = 0, again_len = 0;
    const char *const auds[] = {"a", "b", "c"};
    const char *x = "{\"k\":[1,2,{\"z\":null}]}";
    jot_err_t rc = jot_claims_new(&c);
    STEP(jot_claims_set_string(c, "iss", "joe"));
    STEP(jot_claims_set_int(c, "exp", 1300819380));
    STEP(jot_claims_set_bool(c, "adm", 1));
    STEP(jot_claims_set_strings(c, "aud", auds, 3));
    STEP(jot_claims_set_json(c, "x", x, strlen(x)));
    STEP(jot_claims_set_string(c, "tmp", "gone"));
    STEP(jot_claims_del(c, "tmp"));
    STEP(jot_claims_set_string(c, "iss", "mary"));
    STEP(jot_claims_get_json(c, "aud", &one, &one_len));
    STEP(jot_claims_to_json(c, &json, &len));
    STEP(jot_claims_from_json(json, len, &back));
    STEP(jot_claims_to_json(back, &again, &again_len));
    if (rc == JOT_OK && (strcmp(again, scenario_json) != 0 || strcmp(one, "[\"a\",\"b\",\"c\"]")))
        rc = JOT_E_MALFORMED;
    jot_free(again);
    jot_free(one);
    jot_free(json);
    jot_claims_free(back);
    jot_claims_free(c);
    return rc;
}

/* Fails the 1st, 2nd, ... allocation in turn. Fails the test on any leak or silent loss;
 * returns how many runs ended in something other than JOT_OK / JOT_E_NOMEM, and prints a
 * summary of those codes when asked. */
static int oom_torture(jot_err_t (*scenario)(void), bool report_codes)
{
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
        if (leaked != 0) {
            oom_uninstall();
            fail_msg("allocation %ld failing leaks %ld allocation(s) (rc %s)", k, leaked,
                     jot_err_name(rc));
        }
        if (rc == JOT_E_MALFORMED) {
            oom_uninstall();
            fail_msg("allocation %ld failing: success reported but data lost", k);
        }
        if (!oom_injected()) {
            oom_uninstall();
            assert_rc(rc, JOT_OK);
            break;
        }
        if (rc == JOT_OK)
            continue; /* the failure was absorbed and the result is complete */
        if (rc != JOT_E_NOMEM) {
            if (rc >= 0 && rc < JOT_ERR__LAST && wrong_by_code[rc]++ == 0)
                first_by_code[rc] = k;
            wrong_codes++;
        }
    }
    oom_uninstall();
    assert_true(k > 5); /* the scenario does allocate */
    for (int code = 0; report_codes && code < JOT_ERR__LAST; code++)
        if (wrong_by_code[code])
            print_error("  %ld of %ld allocation failures reported as %s (first: allocation %ld)\n",
                        wrong_by_code[code], k, jot_err_name((jot_err_t)code), first_by_code[code]);
    return wrong_codes;
}

static void test_oom_no_leaks(void **state)
{
    (void)state;
    (void)oom_torture(claims_scenario, false);
}

/* Regression: set_value() used to map a failed json_object_set_new() or json_string() to
 * JOT_E_UTF8, and a failed parse to JOT_E_JSON, so an allocation failure read as bad input. */
static void test_oom_reports_nomem(void **state)
{
    (void)state;
    int wrong = oom_torture(claims_scenario, true);
    if (wrong)
        fail_msg("%d allocation failure(s) reported as something other than JOT_E_NOMEM", wrong);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_empty_object),
        cmocka_unit_test(test_from_json_strict),
        cmocka_unit_test(test_from_json_size_cap),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_int_from_json_numbers),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_replace_claim),
        cmocka_unit_test(test_del_and_has),
        cmocka_unit_test(test_invalid_utf8_rejected),
        cmocka_unit_test(test_set_json),
        cmocka_unit_test(test_set_json_depth),
        cmocka_unit_test(test_set_json_size_cap),
        cmocka_unit_test(test_to_json_round_trip_in_order),
        cmocka_unit_test(test_max_claims),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_null_out_pointers),
        cmocka_unit_test(test_numeric_date),
        cmocka_unit_test(test_oom_no_leaks),
        cmocka_unit_test(test_oom_reports_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
