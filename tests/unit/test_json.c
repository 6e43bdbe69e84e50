/* Unit tests for lib/json.c: the strict JSON layer (jot__json_parse and helpers). */
#include <string.h>

#include "test.h"

#include "internal.h"

#define BIG (1u << 20)

/* Parses with the library's header limits; returns the code and leaves nothing behind.
 * The output is checked to be written exactly when the parse succeeds. */
static jot_err_t parse_n(const char *s, size_t len, bool want_object)
{
    json_t *sentinel = json_object(), *out = sentinel;
    assert_non_null(sentinel);
    jot_err_t rc = jot__json_parse(s, len, BIG, JOT_MAX_JSON_DEPTH, want_object, &out);
    if (rc == JOT_OK) {
        assert_ptr_not_equal(out, sentinel);
        assert_non_null(out);
        if (want_object)
            assert_true(json_is_object(out));
        json_decref(out);
    } else {
        assert_ptr_equal(out, sentinel);
    }
    json_decref(sentinel);
    return rc;
}

static jot_err_t parse(const char *s)
{
    return parse_n(s, strlen(s), false);
}

static jot_err_t parse_obj(const char *s)
{
    return parse_n(s, strlen(s), true);
}

static void expect(const char *s, jot_err_t want)
{
    jot_err_t rc = parse(s);
    if (rc != want)
        fail_msg("parse of '%s': got %s, want %s", s, jot_err_name(rc), jot_err_name(want));
}

static void expect_n(const char *s, size_t len, jot_err_t want)
{
    jot_err_t rc = parse_n(s, len, false);
    if (rc != want)
        fail_msg("parse of %zu bytes '%.*s': got %s, want %s", len, (int)len, s, jot_err_name(rc),
                 jot_err_name(want));
}

/* ---- plain acceptance ------------------------------------------------------------------ */

static void test_valid_documents(void **state)
{
    (void)state;
    expect("{}", JOT_OK);
    expect("[]", JOT_OK);
    expect("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}", JOT_OK);
    expect(" \t\r\n{ \"a\" : 1 } \t\r\n", JOT_OK); /* JSON whitespace around and inside */
    expect("-0", JOT_OK);
    expect("1e3", JOT_OK);
    expect("1E+3", JOT_OK);
    expect("-1.5e-3", JOT_OK);
    expect("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u00e9\"", JOT_OK);

    json_t *j = NULL;
    const char *doc = "{\"iss\":\"joe\",\"n\":42}";
    assert_rc(jot__json_parse(doc, strlen(doc), BIG, 4, true, &j), JOT_OK);
    assert_string_equal(json_string_value(json_object_get(j, "iss")), "joe");
    assert_int_equal(json_integer_value(json_object_get(j, "n")), 42);
    json_decref(j);
}

static void test_invalid_syntax(void **state)
{
    (void)state;
    expect("", JOT_E_JSON);
    expect("   ", JOT_E_JSON);
    expect("{", JOT_E_JSON);
    expect("{\"a\":}", JOT_E_JSON);
    expect("{'a':1}", JOT_E_JSON);
    expect("[1,]", JOT_E_JSON);
    expect("{\"a\":1,}", JOT_E_JSON);
    expect("01", JOT_E_JSON);
    expect("NaN", JOT_E_JSON);
    expect("Infinity", JOT_E_JSON);
    expect("0x10", JOT_E_JSON);
    expect("{\"a\":1 /* comment */}", JOT_E_JSON);
    expect("{a:1}", JOT_E_JSON);
    expect("\"\\x41\"", JOT_E_JSON);
    expect("\"unterminated", JOT_E_JSON);
    expect("1e400", JOT_E_JSON);                          /* real overflow */
    expect("123456789012345678901234567890", JOT_E_JSON); /* integer overflow */
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_rc(jot__json_parse(NULL, 2, BIG, 4, false, &j), JOT_E_INVAL);
    assert_null(j);
    /* NULL with length 0 is the empty document, which is not JSON */
    assert_rc(jot__json_parse(NULL, 0, BIG, 4, false, &j), JOT_E_JSON);
    assert_null(j);
}

/* ---- duplicate member names ------------------------------------------------------------- */

static void test_duplicate_names(void **state)
{
    (void)state;
    expect("{\"a\":1,\"a\":2}", JOT_E_JSON_DUPLICATE);
    expect("{\"a\":1,\"a\":1}", JOT_E_JSON_DUPLICATE); /* same value too */
    expect("{\"a\":1,\"b\":2,\"a\":{}}", JOT_E_JSON_DUPLICATE);
    expect("{\"x\":{\"a\":1,\"a\":2}}", JOT_E_JSON_DUPLICATE);     /* nested */
    expect("[{\"a\":1},{\"b\":1,\"b\":2}]", JOT_E_JSON_DUPLICATE); /* inside an array */
    expect("{\"x\":[[{\"k\":0,\"k\":0}]]}", JOT_E_JSON_DUPLICATE); /* deep */
    expect("{\"alg\":\"HS256\",\"\\u0061lg\":\"none\"}", JOT_E_JSON_DUPLICATE); /* escaped */
    expect("{\"\\u00e9\":1,\"\xc3\xa9\":2}", JOT_E_JSON_DUPLICATE); /* escape vs raw UTF-8 */

    /* accept side: distinct names, same name at different levels or in sibling objects */
    expect("{\"a\":1,\"A\":2}", JOT_OK);
    expect("{\"a\":1,\"a \":2}", JOT_OK);
    expect("{\"a\":{\"a\":{\"a\":1}}}", JOT_OK);
    expect("[{\"a\":1},{\"a\":2}]", JOT_OK);
    expect("{\"x\":{\"a\":1},\"y\":{\"a\":1}}", JOT_OK);
}

/* ---- nesting depth ------------------------------------------------------------------- */

/* n nested containers: "[[[...]]]" or {"a":{"a":...{}}} */
static char *nest(unsigned n, bool objects, const char *prefix, const char *innermost)
{
    size_t cap = strlen(prefix) + strlen(innermost) + (size_t)n * 8 + 8;
    char *s = test_malloc(cap);
    size_t o = 0;
    memcpy(s + o, prefix, strlen(prefix));
    o += strlen(prefix);
    for (unsigned i = 0; i < n; i++) {
        const char *open = objects ? (i + 1 < n ? "{\"a\":" : "{") : "[";
        memcpy(s + o, open, strlen(open));
        o += strlen(open);
    }
    memcpy(s + o, innermost, strlen(innermost));
    o += strlen(innermost);
    for (unsigned i = 0; i < n; i++)
        s[o++] = objects ? '}' : ']';
    s[o] = '\0';
    assert_true(o < cap);
    return s;
}

static char *concat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = test_malloc(la + lb + lc + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

static void expect_nested(unsigned n, bool objects, const char *prefix, const char *innermost,
                          const char *suffix, jot_err_t want)
{
    char *inner = nest(n, objects, prefix, innermost);
    size_t cap = strlen(inner) + strlen(suffix) + 1;
    char *s = test_malloc(cap);
    memcpy(s, inner, strlen(inner));
    memcpy(s + strlen(inner), suffix, strlen(suffix) + 1);
    jot_err_t rc = parse(s);
    if (rc != want)
        fail_msg("depth %u (%s): got %s, want %s\n  %s", n, objects ? "objects" : "arrays",
                 jot_err_name(rc), jot_err_name(want), s);
    test_free(s);
    test_free(inner);
}

static void test_depth_limit(void **state)
{
    (void)state;
    const unsigned max = JOT_MAX_JSON_DEPTH;
    expect_nested(1, false, "", "", "", JOT_OK);
    expect_nested(max - 1, false, "", "", "", JOT_OK);
    expect_nested(max, false, "", "", "", JOT_OK);
    expect_nested(max + 1, false, "", "", "", JOT_E_JSON_DEPTH);
    expect_nested(max + 2, false, "", "", "", JOT_E_JSON_DEPTH);
    expect_nested(max, true, "", "", "", JOT_OK);
    expect_nested(max + 1, true, "", "", "", JOT_E_JSON_DEPTH);
    /* scalars inside the deepest container do not count as a level */
    expect_nested(max, false, "", "1,\"s\",null", "", JOT_OK);
    /* siblings do not add up: two max-deep arrays side by side */
    char *a = nest(max - 1, false, "", "");
    char *doc = test_malloc(2 * strlen(a) + 4);
    doc[0] = '[';
    memcpy(doc + 1, a, strlen(a));
    doc[1 + strlen(a)] = ',';
    memcpy(doc + 2 + strlen(a), a, strlen(a));
    doc[2 + 2 * strlen(a)] = ']';
    doc[3 + 2 * strlen(a)] = '\0';
    expect(doc, JOT_OK);
    test_free(doc);
    test_free(a);
}

static void test_depth_limit_is_the_argument(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_rc(jot__json_parse("[[]]", 4, BIG, 2, false, &j), JOT_OK);
    json_decref(j);
    assert_rc(jot__json_parse("[[[]]]", 6, BIG, 2, false, &j), JOT_E_JSON_DEPTH);
    assert_rc(jot__json_parse("{\"a\":{}}", 8, BIG, 1, false, &j), JOT_E_JSON_DEPTH);
    assert_rc(jot__json_parse("{}", 2, BIG, 1, false, &j), JOT_OK);
    json_decref(j);
    assert_rc(jot__json_parse("1", 1, BIG, 0, false, &j), JOT_OK);
    json_decref(j);
    assert_rc(jot__json_parse("[]", 2, BIG, 0, false, &j), JOT_E_JSON_DEPTH);
}

/* A hostile document is refused by counting, without recursing: deep, unbalanced, huge. */
static void test_depth_hostile(void **state)
{
    (void)state;
    size_t n = 200000;
    char *s = test_malloc(n);
    memset(s, '[', n);
    expect_n(s, n, JOT_E_JSON_DEPTH);
    memset(s, '{', n);
    expect_n(s, n, JOT_E_JSON_DEPTH);
    /* a max-deep prefix followed by a flood of openers inside a value */
    for (size_t i = 0; i < n; i += 5)
        memcpy(s + i, "{\"a\":", n - i < 5 ? n - i : 5);
    expect_n(s, n, JOT_E_JSON_DEPTH);
    test_free(s);
    /* closing brackets without openers do not lower the count below zero */
    expect("]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", JOT_E_JSON);
    expect_nested(JOT_MAX_JSON_DEPTH + 1, false, "]]]]]]]]]]]]]]]]]]", "", "", JOT_E_JSON_DEPTH);
}

static void test_depth_brackets_in_strings_not_counted(void **state)
{
    (void)state;
    const unsigned max = JOT_MAX_JSON_DEPTH;
    const char *many_open = "\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{\"";
    const char *many_close = "\"]]]]]]]]]]]]]]]]]]]]}}}}}}}}}}}}}}}}}}}}}\"";
    expect_nested(1, false, "", many_open, "", JOT_OK);
    expect_nested(max, false, "", many_open, "", JOT_OK);
    expect_nested(max + 1, false, "", many_open, "", JOT_E_JSON_DEPTH);
    /* closers in a string must not lower the count either */
    expect_nested(max + 1, false, "", many_close, "", JOT_E_JSON_DEPTH);
    expect_nested(max, false, "", many_close, "", JOT_OK);
    /* in member names too */
    expect("{\"[[[[[[[[[[[[[[[[[[[[[[[[\":1}", JOT_OK);
    expect("{\"{{{{{{{{{{{{{{{{{{{{{{{{\":{\"}}}}}}}}}}}}}}}}}}}}}}}}}}\":[]}}", JOT_OK);
}

static void test_depth_escaped_quotes_in_strings(void **state)
{
    (void)state;
    const unsigned max = JOT_MAX_JSON_DEPTH;
    /* \" does not end the string: the brackets after it are still string content */
    expect_nested(max, false, "", "\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[\"", "", JOT_OK);
    expect_nested(max, false, "", "\"a\\\"b\\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"", "", JOT_OK);
    expect("{\"k\\\"[[[[[[[[[[[[[[[[[[[[[[[[[\":\"\\\"]]]]]]]]]]]]]]]]]]]]]]]]\"}", JOT_OK);
    /* \\ does end with the next quote: what follows IS structure and must be counted */
    char *deep = nest(max, false, "", "");
    char *s = concat3("[\"\\\\\",", deep, "]"); /* ["\\", <max deep>] */
    expect(s, JOT_E_JSON_DEPTH);
    test_free(s);
    s = concat3("[\"\\\\\",", deep + 1, ""); /* one level less: fine */
    expect(s, JOT_OK);
    test_free(s);
    /* an escaped backslash then an escaped quote: still inside the string */
    s = concat3("[\"\\\\\\\"", deep, "\"]");
    expect(s, JOT_OK);
    test_free(s);
    test_free(deep);
}

static void test_trailing_data(void **state)
{
    (void)state;
    expect("{} x", JOT_E_JSON);
    expect("{}}", JOT_E_JSON);
    expect("{}{}", JOT_E_JSON);
    expect("{} {}", JOT_E_JSON);
    expect("[] []", JOT_E_JSON);
    expect("1 2", JOT_E_JSON);
    expect("\"a\"\"b\"", JOT_E_JSON);
    expect("{},", JOT_E_JSON);
    expect("null null", JOT_E_JSON);
    expect_n("{}\0", 3, JOT_E_JSON);
    expect_n("{}\0{}", 5, JOT_E_JSON);
    /* accept side: trailing JSON whitespace only */
    expect("{} \t\r\n", JOT_OK);
    /* the length is honoured: bytes past len are not looked at */
    expect_n("{}garbage", 2, JOT_OK);
    expect_n("{\"a\":1}}", 7, JOT_OK);
}

static void test_bom_rejected(void **state)
{
    (void)state;
    expect("\xef\xbb\xbf{}", JOT_E_JSON);
    expect("\xef\xbb\xbf[]", JOT_E_JSON);
    expect("{}\xef\xbb\xbf", JOT_E_JSON);
    /* U+FEFF inside a string is just a character */
    expect("[\"\xef\xbb\xbf\"]", JOT_OK);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* overlong encodings of '/' and of NUL */
    expect("[\"\xc0\xaf\"]", JOT_E_UTF8);
    expect("[\"\xc0\x80\"]", JOT_E_UTF8);
    expect("[\"\xc1\xbf\"]", JOT_E_UTF8);
    expect("[\"\xe0\x80\xaf\"]", JOT_E_UTF8);
    expect("[\"\xe0\x9f\xbf\"]", JOT_E_UTF8);
    expect("[\"\xf0\x80\x80\xaf\"]", JOT_E_UTF8);
    expect("[\"\xf0\x8f\xbf\xbf\"]", JOT_E_UTF8);
    /* UTF-16 surrogates encoded as UTF-8 */
    expect("[\"\xed\xa0\x80\"]", JOT_E_UTF8);
    expect("[\"\xed\xbf\xbf\"]", JOT_E_UTF8);
    expect("[\"\xed\xa0\xbd\xed\xb8\x80\"]", JOT_E_UTF8);
    /* beyond U+10FFFF, and bytes that never occur */
    expect("[\"\xf4\x90\x80\x80\"]", JOT_E_UTF8);
    expect("[\"\xf5\x80\x80\x80\"]", JOT_E_UTF8);
    expect("[\"\xf8\x88\x80\x80\x80\"]", JOT_E_UTF8);
    expect("[\"\xfe\"]", JOT_E_UTF8);
    expect("[\"\xff\"]", JOT_E_UTF8);
    /* truncated sequences and stray continuation bytes */
    expect("[\"\xe2\x82\"]", JOT_E_UTF8);
    expect("[\"\xc3\"]", JOT_E_UTF8);
    expect("[\"\xf0\x9f\x98\"]", JOT_E_UTF8);
    expect("[\"\x80\"]", JOT_E_UTF8);
    expect("[\"a\xbf\"]", JOT_E_UTF8);
    expect_n("[\"\xe2\x82", 5, JOT_E_UTF8); /* truncated by the end of input */
    /* in a member name, and outside any string */
    expect("{\"\xc0\xaf\":1}", JOT_E_UTF8);
    expect("{\"a\":1}\xff", JOT_E_UTF8);

    /* accept side: the boundaries of every sequence length */
    expect("[\"\x7f\"]", JOT_OK);
    expect("[\"\xc2\x80\"]", JOT_OK);
    expect("[\"\xc3\xa9\"]", JOT_OK);
    expect("[\"\xdf\xbf\"]", JOT_OK);
    expect("[\"\xe0\xa0\x80\"]", JOT_OK);
    expect("[\"\xe2\x82\xac\"]", JOT_OK);
    expect("[\"\xed\x9f\xbf\"]", JOT_OK); /* U+D7FF, just below the surrogates */
    expect("[\"\xee\x80\x80\"]", JOT_OK); /* U+E000, just above */
    expect("[\"\xef\xbf\xbf\"]", JOT_OK);
    expect("[\"\xf0\x90\x80\x80\"]", JOT_OK);
    expect("[\"\xf0\x9f\x98\x80\"]", JOT_OK);
    expect("[\"\xf4\x8f\xbf\xbf\"]", JOT_OK); /* U+10FFFF */
    expect("{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x82\xac\"}", JOT_OK);
}

static void test_escapes(void **state)
{
    (void)state;
    /* \u0000 would truncate C strings: refused in values and in names */
    expect("[\"\\u0000\"]", JOT_E_JSON);
    expect("[\"a\\u0000b\"]", JOT_E_JSON);
    expect("{\"a\\u0000\":1}", JOT_E_JSON);
    expect("{\"\\u0000\":1}", JOT_E_JSON);
    expect("[\"\\u0001\"]", JOT_OK);
    expect("[\"\\u001f\"]", JOT_OK);
    /* lone or misordered surrogate escapes */
    expect("[\"\\ud800\"]", JOT_E_JSON);
    expect("[\"\\udbff\"]", JOT_E_JSON);
    expect("[\"\\udc00\"]", JOT_E_JSON);
    expect("[\"\\udfff\"]", JOT_E_JSON);
    expect("[\"\\ud800\\u0041\"]", JOT_E_JSON);
    expect("[\"\\ud800x\"]", JOT_E_JSON);
    expect("[\"\\ude00\\ud83d\"]", JOT_E_JSON);
    expect("{\"\\ud800\":1}", JOT_E_JSON);
    /* accept side: a proper pair, and the BMP around the surrogates */
    expect("[\"\\ud83d\\ude00\"]", JOT_OK);
    expect("[\"\\udbff\\udfff\"]", JOT_OK);
    expect("[\"\\ud7ff\\ue000\"]", JOT_OK);
    /* malformed escapes */
    expect("[\"\\u12\"]", JOT_E_JSON);
    expect("[\"\\u12g4\"]", JOT_E_JSON);
    expect("[\"\\a\"]", JOT_E_JSON);
    expect("[\"\\'\"]", JOT_E_JSON);

    json_t *j = NULL;
    const char *pair = "\"\\ud83d\\ude00\"";
    assert_rc(jot__json_parse(pair, strlen(pair), BIG, 4, false, &j), JOT_OK);
    assert_string_equal(json_string_value(j), "\xf0\x9f\x98\x80");
    json_decref(j);
}

static void test_raw_control_characters(void **state)
{
    (void)state;
    for (unsigned c = 1; c < 0x20; c++) {
        char s[8] = {'[', '"', 'a', (char)c, 'b', '"', ']', '\0'};
        jot_err_t rc = parse(s);
        if (rc != JOT_E_JSON)
            fail_msg("raw control byte 0x%02x in a string: got %s", c, jot_err_name(rc));
    }
    expect_n("[\"a\0b\"]", 7, JOT_E_JSON); /* raw NUL in a string */
    expect_n("{\"a\":\0}", 7, JOT_E_JSON); /* raw NUL as a value */
    expect_n("\0{}", 3, JOT_E_JSON);       /* leading NUL */
    /* jansson itself accepts a raw NUL right after a number (found by fuzz_json comparing
     * it with the fast path of jview.c): refused before jansson sees it */
    expect_n("{\"a\":0\0,\"t\":31}", 15, JOT_E_JSON);
    expect_n("[1\0]", 4, JOT_E_JSON);
    expect("[\"a\x7f b\"]", JOT_OK); /* DEL is not a control character in JSON */
    expect("{\"a\":\x0c"
           "1}",
           JOT_E_JSON); /* form feed is not JSON whitespace */
    expect("{\"a\":\x0b"
           "1}",
           JOT_E_JSON); /* nor vertical tab */
}

/* ---- size cap ------------------------------------------------------------------------------- */

static void test_size_cap(void **state)
{
    (void)state;
    const char *doc = "{\"a\":\"0123456789\"}"; /* 18 bytes */
    size_t n = strlen(doc);
    json_t *j = NULL;
    assert_rc(jot__json_parse(doc, n, n, 4, true, &j), JOT_OK);
    json_decref(j);
    j = NULL;
    assert_rc(jot__json_parse(doc, n, n - 1, 4, true, &j), JOT_E_TOOBIG);
    assert_null(j);
    assert_rc(jot__json_parse(doc, n, 0, 4, true, &j), JOT_E_TOOBIG);
    /* the cap is checked first: oversized garbage is TOOBIG, not a JSON error */
    assert_rc(jot__json_parse("{{{{", 4, 3, 4, true, &j), JOT_E_TOOBIG);
    assert_rc(jot__json_parse("[[[[[", 5, 4, 1, true, &j), JOT_E_TOOBIG);
    /* a large valid document right at the cap */
    size_t big = 100000;
    char *s = test_malloc(big);
    memset(s, ' ', big);
    s[0] = '[';
    s[1] = '1';
    s[big - 1] = ']';
    assert_rc(jot__json_parse(s, big, big, 4, false, &j), JOT_OK);
    json_decref(j);
    assert_rc(jot__json_parse(s, big, big - 1, 4, false, &j), JOT_E_TOOBIG);
    test_free(s);
}

/* ---- want_object --------------------------------------------------------------------------------
 */

static void test_want_object(void **state)
{
    (void)state;
    assert_rc(parse_obj("{}"), JOT_OK);
    assert_rc(parse_obj(" {\"a\":[1]} "), JOT_OK);
    assert_rc(parse_obj("[]"), JOT_E_JSON);
    assert_rc(parse_obj("[{}]"), JOT_E_JSON);
    assert_rc(parse_obj("\"{}\""), JOT_E_JSON);
    assert_rc(parse_obj("\"string\""), JOT_E_JSON);
    assert_rc(parse_obj("null"), JOT_E_JSON);
    assert_rc(parse_obj("true"), JOT_E_JSON);
    assert_rc(parse_obj("42"), JOT_E_JSON);
    /* without want_object every value type is fine at the top level */
    expect("[]", JOT_OK);
    expect("\"string\"", JOT_OK);
    expect("null", JOT_OK);
    expect("true", JOT_OK);
    expect("42", JOT_OK);
}

/* ---- dump and the base64url member helpers ------------------------------------------------- */

static void test_dump_compact_in_order(void **state)
{
    (void)state;
    const char *in = "{ \"z\" : 1, \"a\" : [ true , null ], \"m\" : { \"k\" : \"v\" } }";
    json_t *j = NULL;
    assert_rc(jot__json_parse(in, strlen(in), BIG, 4, true, &j), JOT_OK);
    char *out = NULL;
    size_t len = 0;
    assert_rc(jot__json_dump(j, &out, &len), JOT_OK);
    assert_string_equal(out, "{\"z\":1,\"a\":[true,null],\"m\":{\"k\":\"v\"}}");
    assert_int_equal(len, strlen(out));
    jot_free(out);
    json_decref(j);

    json_t *s = json_string("\xc3\xa9\"\n");
    assert_rc(jot__json_dump(s, &out, NULL), JOT_OK); /* out_len may be NULL */
    assert_string_equal(out, "\"\xc3\xa9\\\"\\n\"");
    jot_free(out);
    json_decref(s);
}

static void test_b64_members(void **state)
{
    (void)state;
    const char *in = "{\"k\":\"AQID\",\"bad\":\"AQI=\",\"bits\":\"QR\",\"n\":5}";
    json_t *j = NULL;
    assert_rc(jot__json_parse(in, strlen(in), BIG, 4, true, &j), JOT_OK);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_rc(jot__json_get_b64(j, "k", &buf, &len), JOT_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "\x01\x02\x03", 3);
    jot_free(buf);
    buf = NULL;
    assert_rc(jot__json_get_b64(j, "missing", &buf, &len), JOT_E_NOT_FOUND);
    assert_rc(jot__json_get_b64(j, "n", &buf, &len), JOT_E_CLAIM_TYPE);
    assert_rc(jot__json_get_b64(j, "bad", &buf, &len), JOT_E_BASE64);
    assert_rc(jot__json_get_b64(j, "bits", &buf, &len), JOT_E_BASE64);
    assert_null(buf);

    const uint8_t data[4] = {0xfb, 0xff, 0xbf, 0x00};
    assert_rc(jot__json_set_b64(j, "new", data, sizeof data), JOT_OK);
    assert_string_equal(json_string_value(json_object_get(j, "new")), "-_-_AA");
    assert_rc(jot__json_set_b64(j, "k", NULL, 0), JOT_OK); /* replaces */
    assert_string_equal(json_string_value(json_object_get(j, "k")), "");
    assert_rc(jot__json_get_b64(j, "new", &buf, &len), JOT_OK);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(buf, data, sizeof data);
    jot_free(buf);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_invalid_syntax),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_duplicate_names),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_limit_is_the_argument),
        cmocka_unit_test(test_depth_hostile),
        cmocka_unit_test(test_depth_brackets_in_strings_not_counted),
        cmocka_unit_test(test_depth_escaped_quotes_in_strings),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_bom_rejected),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_raw_control_characters),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_want_object),
        cmocka_unit_test(test_dump_compact_in_order),
        cmocka_unit_test(test_b64_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
