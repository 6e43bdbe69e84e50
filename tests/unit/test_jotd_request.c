/* Unit tests for server/request.c (form and JSON bodies, Content-Type, HTTP Basic and Bearer
 * credentials) and server/log.c (JSON lines on stderr, escaping, truncation, one write per
 * line, request lines batched). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include <jansson.h>

#include "log.h"
#include "request.h"

static const char *rc_name(jotd_rc_t rc)
{
    return jotd_rc_name(rc);
}

/* "name=value|name=value" rendering of a parameter list, for comparisons. */
static void render(const jotd_params_t *p, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        int n = snprintf(buf + o, size - o, "%s%s=%s", i ? "|" : "", p->items[i].name,
                         p->items[i].value);
        assert_true(n > 0 && (size_t)n < size - o);
        o += (size_t)n;
    }
}

typedef struct body_case {
    const char *body;
    size_t len; /* 0: strlen(body) */
    jotd_rc_t rc;
    const char *want; /* rendered params when OK */
} body_case_t;

static void run_cases(const char *ct, const body_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        jotd_params_t p;
        char got[2048];
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        memset(&p, 0xa5, sizeof p); /* the parser must not rely on a cleared struct */
        jotd_rc_t rc = jotd_params_parse(ct, cases[i].body, len, &p);
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\": got %s, want %s", i, cases[i].body, rc_name(rc),
                     rc_name(cases[i].rc));
        if (rc != JOTD_OK) {
            assert_int_equal(p.n, 0); /* left empty on failure */
            continue;
        }
        render(&p, got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].body, got,
                     cases[i].want);
        jotd_params_clear(&p);
        assert_int_equal(p.n, 0);
    }
}

/* ---- application/x-www-form-urlencoded --------------------------------------------------- */

static void test_form_decoding(void **state)
{
    (void)state;
    static const body_case_t cases[] = {
        {"a=b", 0, JOTD_OK, "a=b"},
        {"grant_type=password&username=alice&password=s3cret", 0, JOTD_OK,
         "grant_type=password|username=alice|password=s3cret"},
        {"a=b+c", 0, JOTD_OK, "a=b c"},
        {"a=b%20c", 0, JOTD_OK, "a=b c"},
        {"a=b%2Bc", 0, JOTD_OK, "a=b+c"},
        {"a=%2b%2F%3d%26", 0, JOTD_OK, "a=+/=&"},
        {"a+b%41=c", 0, JOTD_OK, "a bA=c"},
        {"a==b", 0, JOTD_OK, "a==b"},
        {"a=", 0, JOTD_OK, "a="},
        {"a", 0, JOTD_OK, "a="},
        {"a&b=1", 0, JOTD_OK, "a=|b=1"},
        {"a=1&&b=2", 0, JOTD_OK, "a=1|b=2"},
        {"&a=1&", 0, JOTD_OK, "a=1"},
        {"&&&", 0, JOTD_OK, ""},
        {"=x&b=1", 0, JOTD_OK, "b=1"}, /* empty name: skipped */
        {"a=%zz", 0, JOTD_E_MALFORMED, NULL},
        {"a=%4", 0, JOTD_E_MALFORMED, NULL},
        {"a=%", 0, JOTD_E_MALFORMED, NULL},
        {"a=%%41", 0, JOTD_E_MALFORMED, NULL},
        {"a%2=1", 0, JOTD_E_MALFORMED, NULL},
        {"a=%g0", 0, JOTD_E_MALFORMED, NULL},
        {"a=%g0%9F%98%80", 0, JOTD_E_MALFORMED, NULL}, /* bad digit must not make a valid byte */
        {"a=% 1", 0, JOTD_E_MALFORMED, NULL},
        {"=%zz", 0, JOTD_E_MALFORMED, NULL}, /* skipped pairs are still checked */
        /* UTF-8 */
        {"a=%C3%A9", 0, JOTD_OK, "a=\xc3\xa9"},
        {"a=\xc3\xa9", 0, JOTD_OK, "a=\xc3\xa9"},
        {"a=%F0%9F%98%80", 0, JOTD_OK, "a=\xf0\x9f\x98\x80"},
        {"a=%E2%82", 0, JOTD_E_MALFORMED, NULL},       /* truncated */
        {"a=%C3", 0, JOTD_E_MALFORMED, NULL},          /* truncated */
        {"a=%FF", 0, JOTD_E_MALFORMED, NULL},          /* never in UTF-8 */
        {"a=\xff", 0, JOTD_E_MALFORMED, NULL},         /* raw byte */
        {"a=%C0%AF", 0, JOTD_E_MALFORMED, NULL},       /* overlong */
        {"a=%E0%80%AF", 0, JOTD_E_MALFORMED, NULL},    /* overlong */
        {"a=%ED%A0%80", 0, JOTD_E_MALFORMED, NULL},    /* surrogate */
        {"a=%F4%90%80%80", 0, JOTD_E_MALFORMED, NULL}, /* above U+10FFFF */
        {"a=%80", 0, JOTD_E_MALFORMED, NULL},          /* lone continuation */
        {"%C3%28=1", 0, JOTD_E_MALFORMED, NULL},       /* bad name */
        /* NUL */
        {"a=%00", 0, JOTD_E_MALFORMED, NULL},
        {"a%00=1", 0, JOTD_E_MALFORMED, NULL},
        {"a=b\0c", 5, JOTD_E_MALFORMED, NULL},
        {"a=1\0", 4, JOTD_E_MALFORMED, NULL},
        /* duplicates (RFC 6749 §3.2), names compared exactly */
        {"a=1&a=2", 0, JOTD_E_DUPLICATE, NULL},
        {"a=1&a=1", 0, JOTD_E_DUPLICATE, NULL},
        {"a&a", 0, JOTD_E_DUPLICATE, NULL},
        {"a=1&%61=2", 0, JOTD_E_DUPLICATE, NULL},
        {"a=1&A=2", 0, JOTD_OK, "a=1|A=2"},
        /* only len bytes are read */
        {"a=1&b=2", 3, JOTD_OK, "a=1"},
        {"a=%41", 4, JOTD_E_MALFORMED, NULL},
    };
    run_cases("application/x-www-form-urlencoded", cases, sizeof cases / sizeof cases[0]);
}

static void test_form_too_many(void **state)
{
    (void)state;
    char body[1024];
    size_t o = 0;
    for (int i = 0; i < JOTD_MAX_PARAMS; i++)
        o += (size_t)snprintf(body + o, sizeof body - o, "%sp%d=%d", i ? "&" : "", i, i);
    jotd_params_t p;
    assert_int_equal(jotd_params_parse("application/x-www-form-urlencoded", body, o, &p), JOTD_OK);
    assert_int_equal(p.n, JOTD_MAX_PARAMS);
    assert_string_equal(jotd_params_get(&p, "p31"), "31");
    jotd_params_clear(&p);
    o += (size_t)snprintf(body + o, sizeof body - o, "&extra=1");
    assert_int_equal(jotd_params_parse("application/x-www-form-urlencoded", body, o, &p),
                     JOTD_E_TOOMANY);
    assert_int_equal(p.n, 0);
}

static void test_params_get_clear(void **state)
{
    (void)state;
    jotd_params_t p;
    const char body[] = "scope=read+write&client_id=app&empty=";
    assert_int_equal(
        jotd_params_parse("application/x-www-form-urlencoded", body, sizeof body - 1, &p), JOTD_OK);
    assert_string_equal(jotd_params_get(&p, "scope"), "read write");
    assert_string_equal(jotd_params_get(&p, "client_id"), "app");
    assert_string_equal(jotd_params_get(&p, "empty"), "");
    assert_null(jotd_params_get(&p, "Scope"));
    assert_null(jotd_params_get(&p, "missing"));
    assert_null(jotd_params_get(&p, NULL));
    assert_null(jotd_params_get(NULL, "scope"));
    jotd_params_clear(&p);
    assert_null(jotd_params_get(&p, "scope"));
    jotd_params_clear(&p); /* twice is fine */
    jotd_params_clear(NULL);
}

/* ---- empty bodies and Content-Type ------------------------------------------------------- */

static void test_empty_body(void **state)
{
    (void)state;
    jotd_params_t p;
    p.n = 7;
    assert_int_equal(jotd_params_parse("application/json", NULL, 0, &p), JOTD_OK);
    assert_int_equal(p.n, 0);
    p.n = 7;
    assert_int_equal(jotd_params_parse("application/x-www-form-urlencoded", "", 0, &p), JOTD_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(jotd_params_parse(NULL, NULL, 0, &p), JOTD_OK);
    assert_int_equal(jotd_params_parse(NULL, "a=1", 0, &p), JOTD_OK);
    /* a body without a Content-Type */
    assert_int_equal(jotd_params_parse(NULL, "a=1", 3, &p), JOTD_E_MEDIA);
    assert_int_equal(p.n, 0);
}

static void test_content_types(void **state)
{
    (void)state;
    static const struct {
        const char *ct;
        jotd_rc_t rc; /* for the body "a=1" */
    } form[] = {
        {"application/x-www-form-urlencoded", JOTD_OK},
        {"application/x-www-form-urlencoded; charset=UTF-8", JOTD_OK},
        {"application/x-www-form-urlencoded;charset=iso-8859-1", JOTD_OK},
        {"Application/X-WWW-Form-UrlEncoded", JOTD_OK},
        {" application/x-www-form-urlencoded ; charset=utf-8", JOTD_OK},
        {"application/x-www-form-urlencoded;", JOTD_OK},
        {"text/plain", JOTD_E_MEDIA},
        {"text/plain; charset=utf-8", JOTD_E_MEDIA},
        {"multipart/form-data; boundary=x", JOTD_E_MEDIA},
        {"application/x-www-form-urlencodedx", JOTD_E_MEDIA},
        {"application/x-www-form", JOTD_E_MEDIA},
        {"", JOTD_E_MEDIA},
        {";", JOTD_E_MEDIA},
        {"application/json", JOTD_E_MALFORMED}, /* "a=1" is not JSON */
    };
    for (size_t i = 0; i < sizeof form / sizeof form[0]; i++) {
        jotd_params_t p;
        jotd_rc_t rc = jotd_params_parse(form[i].ct, "a=1", 3, &p);
        if (rc != form[i].rc)
            fail_msg("\"%s\": got %s, want %s", form[i].ct, rc_name(rc), rc_name(form[i].rc));
        if (rc == JOTD_OK)
            assert_string_equal(jotd_params_get(&p, "a"), "1");
        jotd_params_clear(&p);
    }
    static const char *const json_ok[] = {"application/json", "APPLICATION/JSON",
                                          "application/json; charset=utf-8",
                                          "application/Json ;charset=\"UTF-8\""};
    for (size_t i = 0; i < sizeof json_ok / sizeof json_ok[0]; i++) {
        jotd_params_t p;
        jotd_rc_t rc = jotd_params_parse(json_ok[i], "{\"a\":\"1\"}", 9, &p);
        if (rc != JOTD_OK)
            fail_msg("\"%s\": got %s", json_ok[i], rc_name(rc));
        assert_string_equal(jotd_params_get(&p, "a"), "1");
        jotd_params_clear(&p);
    }
    static const char *const json_bad[] = {"application/jsonx", "application/json-patch+json",
                                           "application/ld+json", "text/json"};
    for (size_t i = 0; i < sizeof json_bad / sizeof json_bad[0]; i++) {
        jotd_params_t p;
        jotd_rc_t rc = jotd_params_parse(json_bad[i], "{\"a\":\"1\"}", 9, &p);
        if (rc != JOTD_E_MEDIA)
            fail_msg("\"%s\": got %s, want MEDIA", json_bad[i], rc_name(rc));
    }
}

/* ---- application/json -------------------------------------------------------------------- */

static void test_json_bodies(void **state)
{
    (void)state;
    static const body_case_t cases[] = {
        {"{\"grant_type\":\"password\",\"username\":\"alice\"}", 0, JOTD_OK,
         "grant_type=password|username=alice"},
        {"{}", 0, JOTD_OK, ""},
        {" { \"a\" : \"b\" } \n", 0, JOTD_OK, "a=b"},
        {"{\"a\":\"\"}", 0, JOTD_OK, "a="},
        {"{\"a\":\"x\\u00e9\\ud83d\\ude00\"}", 0, JOTD_OK, "a=x\xc3\xa9\xf0\x9f\x98\x80"},
        {"{\"a\":\"l1\\nl2\"}", 0, JOTD_OK, "a=l1\nl2"},
        /* scalars become text */
        {"{\"n\":5}", 0, JOTD_OK, "n=5"},
        {"{\"n\":-42}", 0, JOTD_OK, "n=-42"},
        {"{\"n\":9223372036854775807}", 0, JOTD_OK, "n=9223372036854775807"},
        {"{\"r\":1.5}", 0, JOTD_OK, "r=1.5"},
        {"{\"r\":0.1}", 0, JOTD_OK, "r=0.1"},
        {"{\"r\":-2.5e-3}", 0, JOTD_OK, "r=-0.0025"},
        {"{\"r\":1e300}", 0, JOTD_OK, "r=1e+300"},
        {"{\"t\":true,\"f\":false}", 0, JOTD_OK, "t=true|f=false"},
        /* arrays of strings: joined with single spaces (scope) */
        {"{\"scope\":[\"read\",\"write\"]}", 0, JOTD_OK, "scope=read write"},
        {"{\"scope\":[\"openid\"]}", 0, JOTD_OK, "scope=openid"},
        {"{\"scope\":[]}", 0, JOTD_OK, "scope="},
        {"{\"scope\":[\"read\",1]}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"scope\":[\"read\",null]}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"scope\":[[\"read\"]]}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"scope\":[\"read write\"]}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"scope\":[\"\"]}", 0, JOTD_E_MALFORMED, NULL},
        /* values without a text */
        {"{\"a\":null}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":{}}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":{\"b\":\"c\"}}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"ok\":\"1\",\"a\":{\"b\":\"c\"}}", 0, JOTD_E_MALFORMED, NULL},
        /* the top level is an object */
        {"[]", 0, JOTD_E_MALFORMED, NULL},
        {"[\"a\"]", 0, JOTD_E_MALFORMED, NULL},
        {"\"a\"", 0, JOTD_E_MALFORMED, NULL},
        {"5", 0, JOTD_E_MALFORMED, NULL},
        {"null", 0, JOTD_E_MALFORMED, NULL},
        /* duplicates */
        {"{\"a\":\"1\",\"a\":\"2\"}", 0, JOTD_E_DUPLICATE, NULL},
        {"{\"a\":\"1\",\"b\":{\"c\":1,\"c\":2}}", 0, JOTD_E_DUPLICATE, NULL},
        /* malformed */
        {"{\"a\":\"b\"}x", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"b\"}{\"c\":\"d\"}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"b\"", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"b\",}", 0, JOTD_E_MALFORMED, NULL},
        {"{'a':'b'}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"\xff\"}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"\xc0\xaf\"}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"\xff\":\"b\"}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"\\ud800\"}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"\\u0000\"}", 0, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"b\"}\0", 10, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"b\0\"}", 10, JOTD_E_MALFORMED, NULL},
        {"{\"a\":\"b\"} ", 9, JOTD_OK, "a=b"}, /* only len bytes */
        {"{\"a\":\"b\"}", 8, JOTD_E_MALFORMED, NULL},
        /* empty names skipped, as in forms */
        {"{\"\":\"x\",\"a\":\"b\"}", 0, JOTD_OK, "a=b"},
    };
    run_cases("application/json", cases, sizeof cases / sizeof cases[0]);
}

static void test_json_limits(void **state)
{
    (void)state;
    char body[2048];
    size_t o = 0;
    body[o++] = '{';
    for (int i = 0; i < JOTD_MAX_PARAMS; i++)
        o += (size_t)snprintf(body + o, sizeof body - o, "%s\"p%d\":%d", i ? "," : "", i, i);
    body[o++] = '}';
    jotd_params_t p;
    assert_int_equal(jotd_params_parse("application/json", body, o, &p), JOTD_OK);
    assert_int_equal(p.n, JOTD_MAX_PARAMS);
    assert_string_equal(jotd_params_get(&p, "p7"), "7");
    jotd_params_clear(&p);
    o--;
    o += (size_t)snprintf(body + o, sizeof body - o, ",\"extra\":1}");
    assert_int_equal(jotd_params_parse("application/json", body, o, &p), JOTD_E_TOOMANY);
    assert_int_equal(p.n, 0);

    /* deep nesting is refused, not recursed into without bound */
    char deep[8192];
    size_t d = 0;
    deep[d++] = '{';
    memcpy(deep + d, "\"a\":", 4);
    d += 4;
    for (int i = 0; i < 3000; i++)
        deep[d++] = '[';
    for (int i = 0; i < 3000; i++)
        deep[d++] = ']';
    deep[d++] = '}';
    assert_true(d < sizeof deep);
    assert_int_equal(jotd_params_parse("application/json", deep, d, &p), JOTD_E_MALFORMED);
}

/* ---- HTTP Basic (RFC 7617, RFC 6749 §2.3.1) ---------------------------------------------- */

/* Standard base64 with padding, written here independently of the code under test. */
static void b64(const char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)(unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static int basic(const char *scheme, const char *creds, char **id, char **secret)
{
    char header[512];
    char enc[400];
    b64(creds, strlen(creds), enc);
    snprintf(header, sizeof header, "%s %s", scheme, enc);
    return jotd_basic_auth_parse(header, id, secret);
}

static void test_basic_valid(void **state)
{
    (void)state;
    static const struct {
        const char *scheme, *creds, *id, *secret;
    } ok[] = {
        {"Basic", "client:secret", "client", "secret"},
        {"basic", "client:secret", "client", "secret"},
        {"BASIC", "client:secret", "client", "secret"},
        {"Basic", "a:b:c", "a", "b:c"}, /* the first colon splits */
        {"Basic", "spa:", "spa", ""},
        {"Basic", "my%20client:p%40ss%2Bword+x", "my client", "p@ss+word x"},
        {"Basic", "%3Aid%3a:%3A", ":id:", ":"},
        {"Basic", "caf%C3%A9:\xc3\xa9t\xc3\xa9", "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
        {"Basic", "x:y", "x", "y"},
        {"Basic", "xy:z", "xy", "z"},
        {"Basic", "xyz:0", "xyz", "0"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *id = NULL, *secret = NULL;
        if (basic(ok[i].scheme, ok[i].creds, &id, &secret) != 0)
            fail_msg("%s \"%s\" refused", ok[i].scheme, ok[i].creds);
        assert_string_equal(id, ok[i].id);
        assert_string_equal(secret, ok[i].secret);
        free(id);
        free(secret);
    }
    /* several spaces after the scheme, trailing spaces */
    char *id = NULL, *secret = NULL;
    assert_int_equal(jotd_basic_auth_parse("Basic   Y2xpZW50OnNlY3JldA==  ", &id, &secret), 0);
    assert_string_equal(id, "client");
    assert_string_equal(secret, "secret");
    free(id);
    free(secret);
}

static void test_basic_invalid(void **state)
{
    (void)state;
    static const char *const bad_creds[] = {
        "nocolon", ":secret", "",       "a%zz:b", "a:%4",
        "%00:b",   "a:b%00",  "\xff:b", "a:\xc3", "a\0:b", /* (ends at the NUL: "a") */
    };
    for (size_t i = 0; i < sizeof bad_creds / sizeof bad_creds[0]; i++) {
        char *id = (char *)"untouched", *secret = (char *)"untouched";
        if (basic("Basic", bad_creds[i], &id, &secret) == 0)
            fail_msg("credentials \"%s\" accepted", bad_creds[i]);
        assert_string_equal(id, "untouched");
        assert_string_equal(secret, "untouched");
    }
    /* a raw NUL inside the decoded credentials */
    char enc[32], header[64];
    b64("a:b\0c", 5, enc);
    snprintf(header, sizeof header, "Basic %s", enc);
    char *id = NULL, *secret = NULL;
    assert_int_equal(jotd_basic_auth_parse(header, &id, &secret), -1);
    assert_null(id);

    static const char *const bad_headers[] = {
        "Basic",
        "Basic ",
        "Basic    ",
        "Basic !!!!",
        "Basic Y2xpZW50OnNlY3JldA",    /* padding missing */
        "Basic Y2xpZW50OnNlY3JldA=",   /* padding short */
        "Basic Y2xpZW50OnNlY3JldA===", /* padding long */
        "Basic Y2xp=W50OnNlY3JldA==",  /* '=' inside */
        "Basic =Y2xpZW50OnNlY3JldA=",
        "Basic eDp5eg==", /* valid ("x:yz"): the control, checked below */
        "Basic eDp5eh==", /* non-zero bits under the padding */
        "Basic eDp5eg=",
        "Basic eDp-eg==", /* base64url alphabet */
        "Basic eDp_eg==",
        "Basic eDp5 eg==",
        "Basic eDp5\teg==",
        "Basic\teDp5eg==",
        "Basicx eDp5eg==",
        " Basic eDp5eg==",
        "Bearer eDp5eg==",
        "Digest eDp5eg==",
        "",
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        if (i == 9)
            continue; /* the one valid header in the list, checked below */
        id = (char *)"untouched";
        secret = (char *)"untouched";
        if (jotd_basic_auth_parse(bad_headers[i], &id, &secret) == 0)
            fail_msg("header \"%s\" accepted", bad_headers[i]);
        assert_string_equal(id, "untouched");
    }
    /* the control: "eDp5eg==" is "x:yz" */
    assert_int_equal(jotd_basic_auth_parse(bad_headers[9], &id, &secret), 0);
    assert_string_equal(id, "x");
    assert_string_equal(secret, "yz");
    free(id);
    free(secret);
    assert_int_equal(jotd_basic_auth_parse(NULL, &id, &secret), -1);

    /* absurdly long header */
    size_t n = 20000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memcpy(big, "Basic ", 6);
    memset(big + 6, 'A', n - 6);
    big[n] = '\0';
    assert_int_equal(jotd_basic_auth_parse(big, &id, &secret), -1);
    free(big);
}

/* ---- Bearer (RFC 6750 §2.1) -------------------------------------------------------------- */

static void test_bearer(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        const char *token; /* NULL: refused */
    } cases[] = {
        {"Bearer abc", "abc"},
        {"Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
         "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"},
        {"bearer abc", "abc"},
        {"BEARER abc", "abc"},
        {"Bearer  abc", "abc"},
        {"Bearer abc  ", "abc"},
        {"Bearer AZaz09-._~+/", "AZaz09-._~+/"},
        {"Bearer abc==", "abc=="},
        {"Bearer abc=", "abc="},
        {"Bearer abc==  ", "abc=="},
        {"Bearer", NULL},
        {"Bearer ", NULL},
        {"Bearer   ", NULL},
        {"Bearerx abc", NULL},
        {"Bearerabc", NULL},
        {" Bearer abc", NULL},
        {"Bearer\tabc", NULL},
        {"Bearer abc\t", NULL},
        {"Bearer abc def", NULL},
        {"Bearer a=b", NULL},
        {"Bearer =abc", NULL},
        {"Bearer ==", NULL},
        {"Bearer a,b", NULL},
        {"Bearer a\"b", NULL},
        {"Bearer abc\r\n", NULL},
        {"Bearer \xc3\xa9", NULL},
        {"Basic abc", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 12345;
        const char *tok = jotd_bearer_token(cases[i].header, &len);
        if (!cases[i].token) {
            if (tok)
                fail_msg("\"%s\" gave a token", cases[i].header);
            continue;
        }
        if (!tok)
            fail_msg("\"%s\" refused", cases[i].header);
        if (len != strlen(cases[i].token) || memcmp(tok, cases[i].token, len) != 0)
            fail_msg("\"%s\": got \"%.*s\"", cases[i].header, (int)len, tok);
        /* a pointer into the header */
        assert_true(tok > cases[i].header && tok < cases[i].header + strlen(cases[i].header));
    }
    size_t len;
    assert_null(jotd_bearer_token(NULL, &len));
}

/* ---- logging ----------------------------------------------------------------------------- */

static int saved_stderr = -1;
static char capture_path[64];

static void capture_begin(void)
{
    snprintf(capture_path, sizeof capture_path, "/tmp/jotd_log_test_XXXXXX");
    int fd = mkstemp(capture_path);
    assert_true(fd >= 0);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Restore stderr; the captured bytes, malloc'd and NUL-terminated. */
static char *capture_end(size_t *out_len)
{
    jotd_log_flush(); /* request lines are batched */
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    FILE *f = fopen(capture_path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    n = fread(buf, 1, cap, f);
    fclose(f);
    unlink(capture_path);
    buf[n] = '\0';
    *out_len = n;
    return buf;
}

/* The single line in \p text, parsed; fails unless exactly one line of valid JSON. */
static json_t *one_line(const char *text, size_t len)
{
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_ptr_equal(memchr(text, '\n', len), text + len - 1);
    for (size_t i = 0; i + 1 < len; i++) {
        if ((unsigned char)text[i] < 0x20)
            fail_msg("raw control byte 0x%02x at %zu in %s", (unsigned char)text[i], i, text);
    }
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, text);
    assert_true(json_is_object(j));
    return j;
}

static void check_ts(json_t *j)
{
    const char *ts = json_string_value(json_object_get(j, "ts"));
    assert_non_null(ts);
    /* 2024-05-01T12:00:00.123Z */
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    assert_int_equal(strlen(ts), strlen(shape));
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (ts[i] < '0' || ts[i] > '9') : ts[i] != shape[i])
            fail_msg("timestamp \"%s\" not RFC 3339 UTC with milliseconds", ts);
    }
}

static void test_log_request(void **state)
{
    (void)state;
    size_t len;
    capture_begin();
    jotd_log_request("GET", "/a\"b\\c\n\x01\x1f\x7f", 404, 1234, "127.0.0.1");
    char *text = capture_end(&len);
    json_t *j = one_line(text, len);
    check_ts(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "request");
    assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/a\"b\\c\n\x01\x1f\x7f");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), 1234);
    assert_string_equal(json_string_value(json_object_get(j, "ip")), "127.0.0.1");
    assert_null(json_object_get(j, "truncated"));
    /* control characters as \u00XX */
    assert_non_null(strstr(text, "\\u0001"));
    assert_non_null(strstr(text, "\\u000a"));
    assert_non_null(strstr(text, "\\u007f"));
    json_decref(j);
    free(text);

    capture_begin();
    jotd_log_request(NULL, "/", 200, -1, NULL);
    text = capture_end(&len);
    j = one_line(text, len);
    assert_true(json_is_null(json_object_get(j, "method")));
    assert_true(json_is_null(json_object_get(j, "ip")));
    assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), -1);
    json_decref(j);
    free(text);
}

static void test_log_audit_utf8(void **state)
{
    (void)state;
    size_t len;
    capture_begin();
    jotd_audit("login_failure", "user", "al\xffice\xc3", "ip", NULL, "name",
               "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "over", "\xc0\xaf\xed\xa0\x80", NULL);
    char *text = capture_end(&len);
    json_t *j = one_line(text, len);
    check_ts(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "audit");
    assert_string_equal(json_string_value(json_object_get(j, "event")), "login_failure");
    assert_string_equal(json_string_value(json_object_get(j, "user")), "al\xef\xbf\xbd"
                                                                       "ice\xef\xbf\xbd");
    assert_true(json_is_null(json_object_get(j, "ip")));
    assert_string_equal(json_string_value(json_object_get(j, "name")),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* overlong and surrogate encodings: each byte replaced */
    assert_string_equal(json_string_value(json_object_get(j, "over")),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(j);
    free(text);

    /* an event with no pairs; keys are escaped too */
    capture_begin();
    jotd_audit("logout", "k\"ey", "v", NULL);
    text = capture_end(&len);
    j = one_line(text, len);
    assert_string_equal(json_string_value(json_object_get(j, "k\"ey")), "v");
    json_decref(j);
    free(text);
}

static void test_log_message(void **state)
{
    (void)state;
    size_t len;
    capture_begin();
    jotd_log("info", "listening on %s:%d (%s)", "127.0.0.1", 8080, "tab\there");
    char *text = capture_end(&len);
    json_t *j = one_line(text, len);
    check_ts(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "log");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "msg")),
                        "listening on 127.0.0.1:8080 (tab\there)");
    json_decref(j);
    free(text);
}

static void test_log_truncation(void **state)
{
    (void)state;
    size_t len;
    char *big = malloc(20001);
    assert_non_null(big);
    memset(big, 'a', 20000);
    big[20000] = '\0';

    /* one long value: shortened with an ellipsis, the line stays JSON and bounded */
    capture_begin();
    jotd_audit("x", "long", big, "after", "kept", NULL);
    char *text = capture_end(&len);
    assert_true(len <= 4096);
    json_t *j = one_line(text, len);
    const char *v = json_string_value(json_object_get(j, "long"));
    assert_non_null(v);
    assert_true(strlen(v) > 100 && strlen(v) < 2000);
    assert_string_equal(v + strlen(v) - 3, "\xe2\x80\xa6");
    assert_string_equal(json_string_value(json_object_get(j, "after")), "kept");
    assert_true(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    free(text);

    /* control characters expand sixfold: the cap counts escaped bytes */
    memset(big, '\x01', 20000);
    capture_begin();
    jotd_log_request("GET", big, 200, 1, big);
    text = capture_end(&len);
    assert_true(len <= 4096);
    j = one_line(text, len);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    json_decref(j);
    free(text);

    /* many pairs: the ones that do not fit are dropped, the line still parses */
    memset(big, 'b', 300);
    big[300] = '\0';
    capture_begin();
    jotd_audit("many", "k01", big, "k02", big, "k03", big, "k04", big, "k05", big, "k06", big,
               "k07", big, "k08", big, "k09", big, "k10", big, "k11", big, "k12", big, "k13", big,
               "k14", big, "k15", big, "k16", big, "k17", big, "k18", big, "k19", big, "k20", big,
               NULL);
    text = capture_end(&len);
    assert_true(len <= 4096);
    j = one_line(text, len);
    assert_string_equal(json_string_value(json_object_get(j, "k01")), big);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_null(json_object_get(j, "k20"));
    json_decref(j);
    free(text);

    /* a truncated UTF-8 value never ends in half a character */
    for (size_t i = 0; i + 2 < 20000; i += 2) {
        big[i] = '\xc3';
        big[i + 1] = '\xa9';
    }
    big[19998] = '\0';
    capture_begin();
    jotd_log("warn", "%s", big);
    text = capture_end(&len);
    assert_true(len <= 4096);
    j = one_line(text, len); /* jansson rejects invalid UTF-8 */
    v = json_string_value(json_object_get(j, "msg"));
    assert_non_null(v);
    assert_string_equal(v + strlen(v) - 3, "\xe2\x80\xa6");
    json_decref(j);
    free(text);
    free(big);
}

/* Size of the captured file now (stderr is the capture file). */
static long captured_size(void)
{
    return lseek(STDERR_FILENO, 0, SEEK_END);
}

static void *request_worker(void *arg)
{
    char path[64];
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 500; i++) {
        snprintf(path, sizeof path, "/t%d/%d", id, i);
        jotd_log_request("GET", path, 200, i, "127.0.0.1");
    }
    return NULL;
}

/* Request lines wait in a batch: written before the next audit or log line (in call order),
 * when the batch is full, by the flusher thread or by jotd_log_flush(); never cut. */
static void test_log_request_batch(void **state)
{
    (void)state;
    size_t len;
    capture_begin();
    jotd_log_request("GET", "/first", 200, 1, "127.0.0.1");
    jotd_log_request("GET", "/second", 200, 1, "127.0.0.1");
    long before = captured_size();
    assert_true(before < 100);               /* not written yet (unless the flusher just ran) */
    jotd_audit("logout", "sid", "s1", NULL); /* the batch first, then the audit line */
    char *text = capture_end(&len);
    char *first = strstr(text, "/first"), *second = strstr(text, "/second");
    char *audit = strstr(text, "\"logout\"");
    assert_non_null(first);
    assert_non_null(second);
    assert_non_null(audit);
    assert_true(first < second && second < audit);
    free(text);

    /* the flusher writes a batch by itself within its period */
    capture_begin();
    jotd_log_request("GET", "/alone", 200, 1, "127.0.0.1");
    for (int i = 0; i < 50 && captured_size() == 0; i++) {
        struct timespec d = {0, 20 * 1000000L};
        nanosleep(&d, NULL);
    }
    assert_true(captured_size() > 0);
    text = capture_end(&len);
    json_t *j = one_line(text, len);
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/alone");
    json_decref(j);
    free(text);

    /* many threads: every line whole, each thread's lines in order */
    pthread_t th[4];
    capture_begin();
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, request_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    text = capture_end(&len);
    int next[4] = {0};
    size_t lines = 0;
    for (char *p = text; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        assert_non_null(nl);
        j = one_line(p, (size_t)(nl - p) + 1);
        const char *path = json_string_value(json_object_get(j, "path"));
        assert_true(path && path[0] == '/' && path[1] == 't' && path[3] == '/');
        int t = path[2] - '0', n = 0;
        assert_in_range(t, 0, 3);
        for (const char *q = path + 4; *q; q++)
            n = n * 10 + (*q - '0');
        assert_int_equal(n, next[t]);
        next[t]++;
        json_decref(j);
        lines++;
        p = nl + 1;
    }
    assert_int_equal(lines, 4 * 500);
    free(text);
}

#define LOG_THREADS 4
#define LOG_LINES 200

static void *log_worker(void *arg)
{
    char user[700];
    int id = (int)(intptr_t)arg;
    memset(user, 'A' + id, sizeof user - 1);
    user[sizeof user - 1] = '\0';
    for (int i = 0; i < LOG_LINES; i++)
        jotd_audit("refresh", "user", user, "n", i % 2 ? "odd" : "even", NULL);
    return NULL;
}

static void test_log_concurrent_lines(void **state)
{
    (void)state;
    size_t len;
    pthread_t th[LOG_THREADS];
    capture_begin();
    for (int i = 0; i < LOG_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(th[i], NULL);
    char *text = capture_end(&len);
    size_t lines = 0;
    for (char *p = text; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        assert_non_null(nl);
        json_t *j = one_line(p, (size_t)(nl - p) + 1);
        const char *user = json_string_value(json_object_get(j, "user"));
        assert_non_null(user);
        assert_int_equal(strlen(user), 699);
        for (size_t k = 1; k < 699; k++)
            assert_int_equal(user[k], user[0]);
        json_decref(j);
        lines++;
        p = nl + 1;
    }
    assert_int_equal(lines, LOG_THREADS * LOG_LINES);
    free(text);
}

/* ---- the request head (jotd_url_unescape, jotd_req_head_check) ---- */

static void test_url_unescape(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        size_t len;
        bool ctl;
    } cases[] = {
        {"/healthz", "/healthz", 8, false},
        {"/a%20b", "/a b", 4, false},
        {"/a%2Fb%2f", "/a/b/", 5, false},
        {"/%zz%4", "/%zz%4", 6, false}, /* not escapes: kept as they are */
        {"/admin/users/6%00/sessions", "/admin/users/6\0/sessions", 24, true},
        {"/x%0a", "/x\n", 3, true},
        {"/x%1F", "/x\x1f", 3, true},
        {"/x%7f", "/x\x7f", 3, true},
        {"/x\t", "/x\t", 3, true}, /* a raw control byte too */
        {"/x%80%ff", "/x\x80\xff", 4, false},
        {"?a=%00", "?a=\0", 4, true},
        {"", "", 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        bool ctl = !cases[i].ctl;
        size_t n = jotd_url_unescape(buf, &ctl);
        assert_int_equal(n, cases[i].len);
        assert_memory_equal(buf, cases[i].out, n);
        assert_int_equal(buf[n], '\0');
        assert_int_equal(ctl, cases[i].ctl);
    }
}

static const char *check(const char *path, size_t path_len, bool url_ctl, const jotd_hdr_t *h,
                         size_t n)
{
    jotd_req_head_t head = {.method = "POST",
                            .path = path,
                            .path_len = path_len,
                            .url_ctl = url_ctl,
                            .hdrs = h,
                            .n_hdrs = n};
    return jotd_req_head_check(&head);
}

static void test_req_head_check(void **state)
{
    (void)state;
    const jotd_hdr_t ok[] = {{"Host", "a"},
                             {"Content-Length", "12"},
                             {"authorization", "Bearer x"},
                             {"X-Forwarded-For", "1.2.3.4"},
                             {"X-Forwarded-For", "5.6.7.8"}};
    assert_null(check("/token", 6, false, ok, 5));
    assert_null(check("/token", 6, false, NULL, 0));
    /* the path: its whole length is looked at, NUL included */
    assert_non_null(check("/admin/users/6\0/sessions", 24, false, ok, 5));
    assert_null(check("/admin/users/6\0/sessions", 14, false, ok, 5));
    assert_non_null(check("/token", 6, true, ok, 5));
    assert_non_null(check("/tok\x7f", 5, false, NULL, 0));

    const jotd_hdr_t te[] = {{"Transfer-Encoding", "Chunked"}};
    assert_null(check("/", 1, false, te, 1));
    static const jotd_hdr_t bad[][2] = {
        {{"Content-Length", "3"}, {"content-length", "3"}}, /* repeated, even equal */
        {{"Content-Length", "3"}, {"Content-Length", "5"}}, /* disagreeing */
        {{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}},
        {{"transfer-encoding", "chunked"}, {"Content-Length", "0"}},
        {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
        {{"Transfer-Encoding", "gzip, chunked"}, {"Host", "a"}},
        {{"Authorization", "Bearer a"}, {"AUTHORIZATION", "Bearer a"}},
        {{"Content-Length", "3, 3"}, {"Host", "a"}},
        {{"Content-Length", "+3"}, {"Host", "a"}},
        {{"Content-Length", ""}, {"Host", "a"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_non_null(check("/token", 6, false, bad[i], 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_decoding),        cmocka_unit_test(test_form_too_many),
        cmocka_unit_test(test_params_get_clear),     cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_content_types),        cmocka_unit_test(test_json_bodies),
        cmocka_unit_test(test_json_limits),          cmocka_unit_test(test_basic_valid),
        cmocka_unit_test(test_basic_invalid),        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_log_request),          cmocka_unit_test(test_log_audit_utf8),
        cmocka_unit_test(test_log_message),          cmocka_unit_test(test_log_truncation),
        cmocka_unit_test(test_log_concurrent_lines), cmocka_unit_test(test_log_request_batch),
        cmocka_unit_test(test_url_unescape),         cmocka_unit_test(test_req_head_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
