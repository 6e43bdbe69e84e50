/* Fuzz target "json": the strict JSON layer under headers, claims and JWKs
 * (jot__json_parse on top of jansson), and claim sets (jot_claims_from_json plus every
 * getter on every member).
 *
 * Input: one option byte, then the JSON text.
 *   bits 0-4  max_depth - 1 for jot__json_parse (1..32; the library uses 16)
 *   bit 5     want_object
 *   bit 6     max_len JOT_MAX_HEADER_BYTES instead of JOT_MAX_PAYLOAD_BYTES
 * Invariants:
 *   - jot__json_parse fails only with the JSON error codes, returns an object when asked to,
 *     and what it accepts is within its caps;
 *   - what it accepts serialises (jot__json_dump) and parses back to an equal value;
 *   - jot_claims_from_json accepts exactly the objects jot__json_parse accepts with the
 *     payload caps (and at most JOT_MAX_CLAIMS members);
 *   - every getter answers consistently (a string claim is a 1-element string list...),
 *     and the claim set's JSON parses back to an equal claim set;
 *   - the fast path of verification (jview.c) agrees with jot__json_parse: what
 *     jot__jscan_object proves valid is valid, jot__jview_parse fails exactly when and as
 *     jot__json_parse(want_object) fails, and every getter on the view answers exactly as
 *     on the jansson claim set of the same text. */
#include "fuzz_common.h"

#include "internal.h"

static void check_err(jot_err_t rc)
{
    FUZZ_CHECK((unsigned)rc < (unsigned)JOT_ERR__LAST);
}

static bool parse_error(jot_err_t rc)
{
    return rc == JOT_E_JSON || rc == JOT_E_JSON_DUPLICATE || rc == JOT_E_JSON_DEPTH ||
           rc == JOT_E_UTF8 || rc == JOT_E_TOOBIG;
}

/* Nesting depth of a parsed value (1 for an empty object or array, 0 for a scalar). */
static unsigned depth_of(const json_t *j)
{
    unsigned d = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v)
        {
            unsigned c = depth_of(v);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            unsigned c = depth_of(json_array_get(j, i));
            d = c > d ? c : d;
        }
        return d + 1;
    }
    return 0;
}

static void roundtrip(const json_t *j)
{
    char *text = NULL;
    size_t len = 0;
    jot_err_t rc = jot__json_dump(j, &text, &len);
    FUZZ_CHECK(rc == JOT_OK && text != NULL && strlen(text) == len);
    /* the signing path's writer (jwrite.c) gives the same bytes as jansson's dump */
    char stack[64];
    jot_jbuf_t b;
    jot__jbuf_init(&b, stack, sizeof stack);
    bool wrote = jot__jbuf_json(&b, j, 1);
    FUZZ_CHECK(wrote || b.oom); /* parsed values are at most 32 deep and hold no NUL */
    if (wrote && !b.oom) {
        if (b.len != len || memcmp(b.p, text, len) != 0)
            fprintf(stderr, "jwrite: %.*s\njansson: %s\n", (int)b.len, b.p, text);
        FUZZ_CHECK(b.len == len && memcmp(b.p, text, len) == 0);
    }
    jot__jbuf_free(&b);
    json_t *back = NULL;
    rc = jot__json_parse(text, len, SIZE_MAX, 1000, false, &back);
    if (rc != JOT_OK)
        fprintf(stderr, "dumped JSON does not parse back (%s): %s\n", jot_err_name(rc), text);
    FUZZ_CHECK(rc == JOT_OK);
    FUZZ_CHECK(json_equal(j, back));
    json_decref(back);
    jot_free(text);
}

/* Every getter on member \p name. */
static void getters(const jot_claims_t *c, const char *name, const json_t *v)
{
    FUZZ_CHECK(jot_claims_has(c, name));
    const char *s = NULL;
    jot_err_t rc = jot_claims_get_string(c, name, &s);
    check_err(rc);
    FUZZ_CHECK((rc == JOT_OK) == (json_is_string(v) != 0));
    if (rc == JOT_OK)
        FUZZ_CHECK(s == json_string_value(v));

    int64_t n = 0;
    rc = jot_claims_get_int(c, name, &n);
    check_err(rc);
    if (json_is_integer(v))
        FUZZ_CHECK(rc == JOT_OK && n == (int64_t)json_integer_value(v));
    else if (!json_is_real(v))
        FUZZ_CHECK(rc == JOT_E_CLAIM_TYPE);

    int b = -1;
    rc = jot_claims_get_bool(c, name, &b);
    FUZZ_CHECK((rc == JOT_OK) == (json_is_boolean(v) != 0));
    if (rc == JOT_OK)
        FUZZ_CHECK(b == (json_is_true(v) ? 1 : 0));

    size_t count = 0;
    rc = jot_claims_get_strings_count(c, name, &count);
    check_err(rc);
    if (json_is_string(v))
        FUZZ_CHECK(rc == JOT_OK && count == 1);
    if (rc == JOT_OK) {
        for (size_t i = 0; i <= count; i++) {
            jot_err_t rc2 = jot_claims_get_strings_at(c, name, i, &s);
            if (i < count)
                FUZZ_CHECK(rc2 == JOT_OK && s != NULL);
            else
                FUZZ_CHECK(rc2 == JOT_E_NOT_FOUND);
        }
    } else {
        FUZZ_CHECK(rc == JOT_E_CLAIM_TYPE);
        jot_err_t rc2 = jot_claims_get_strings_at(c, name, 0, &s);
        FUZZ_CHECK(rc2 != JOT_OK || json_is_array(v)); /* element 0 may still be a string */
    }

    char *json = NULL;
    size_t json_len = 0;
    rc = jot_claims_get_json(c, name, &json, &json_len);
    FUZZ_CHECK(rc == JOT_OK && json != NULL && strlen(json) == json_len);
    json_t *back = NULL;
    rc = jot__json_parse(json, json_len, SIZE_MAX, 1000, false, &back);
    FUZZ_CHECK(rc == JOT_OK && json_equal(back, v));
    json_decref(back);
    jot_free(json);

    int64_t date = -1;
    rc = jot__claims_get_numeric_date(c, name, &date);
    check_err(rc);
    if (rc == JOT_OK)
        FUZZ_CHECK(date >= 0 && date < (INT64_C(1) << 53));
    else
        FUZZ_CHECK(rc == JOT_E_CLAIM_TYPE);
}

static void same_string(jot_err_t ra, const char *a, jot_err_t rb, const char *b)
{
    FUZZ_CHECK(ra == rb);
    if (ra == JOT_OK)
        FUZZ_CHECK(a && b && strcmp(a, b) == 0);
}

/* Every getter on both representations of one claim set gives the same answer. */
static void same_getters(const jot_claims_t *a, const jot_claims_t *b, const char *name)
{
    FUZZ_CHECK(jot_claims_has(a, name) == jot_claims_has(b, name));
    const char *sa = NULL, *sb = NULL;
    jot_err_t ra = jot_claims_get_string(a, name, &sa), rb = jot_claims_get_string(b, name, &sb);
    same_string(ra, sa, rb, sb);
    int64_t ia = 0, ib = 0;
    ra = jot_claims_get_int(a, name, &ia);
    rb = jot_claims_get_int(b, name, &ib);
    FUZZ_CHECK(ra == rb && (ra != JOT_OK || ia == ib));
    ra = jot__claims_get_numeric_date(a, name, &ia);
    rb = jot__claims_get_numeric_date(b, name, &ib);
    FUZZ_CHECK(ra == rb && (ra != JOT_OK || ia == ib));
    int ba = -1, bb = -1;
    ra = jot_claims_get_bool(a, name, &ba);
    rb = jot_claims_get_bool(b, name, &bb);
    FUZZ_CHECK(ra == rb && ba == bb);
    size_t na = 0, nb = 0;
    ra = jot_claims_get_strings_count(a, name, &na);
    rb = jot_claims_get_strings_count(b, name, &nb);
    FUZZ_CHECK(ra == rb && na == nb);
    for (size_t i = 0; i < 3; i++) {
        ra = jot_claims_get_strings_at(a, name, i, &sa);
        rb = jot_claims_get_strings_at(b, name, i, &sb);
        same_string(ra, sa, rb, sb);
    }
    char *ja = NULL, *jb = NULL;
    size_t la = 0, lb = 0;
    ra = jot_claims_get_json(a, name, &ja, &la);
    rb = jot_claims_get_json(b, name, &jb, &lb);
    FUZZ_CHECK(ra == rb && la == lb);
    if (ra == JOT_OK)
        FUZZ_CHECK(memcmp(ja, jb, la) == 0);
    jot_free(ja);
    jot_free(jb);
}

static void check_view(const char *text, size_t len, unsigned max_depth, size_t max_len)
{
    json_t *j = NULL;
    jot_err_t want = jot__json_parse(text, len, max_len, max_depth, true, &j);
    if (jot__jscan_object(text, len, max_depth)) {
        if (want != JOT_OK)
            fprintf(stderr, "fast validator accepts what jot__json_parse refuses (%s)\n",
                    jot_err_name(want));
        FUZZ_CHECK(want == JOT_OK);
    }
    jot_claims_t view = {NULL, NULL};
    jot_err_t got = jot__jview_parse(text, len, max_len, max_depth, SIZE_MAX, &view.view);
    if (got != want)
        fprintf(stderr, "jot__jview_parse: %s, jot__json_parse: %s\n", jot_err_name(got),
                jot_err_name(want));
    FUZZ_CHECK(got == want);
    if (got == JOT_OK) {
        FUZZ_CHECK(view.view->n == json_object_size(j));
        jot_claims_t ref = {j, NULL};
        size_t i = 0;
        const char *name;
        json_t *v;
        json_object_foreach(j, name, v)
        {
            FUZZ_CHECK(strcmp(view.view->members[i++].name, name) == 0); /* same order */
            same_getters(&ref, &view, name);
        }
        char *da = NULL, *db = NULL;
        size_t la = 0, lb = 0;
        FUZZ_CHECK(jot_claims_to_json(&ref, &da, &la) == JOT_OK);
        FUZZ_CHECK(jot_claims_to_json(&view, &db, &lb) == JOT_OK);
        FUZZ_CHECK(la == lb && memcmp(da, db, la) == 0);
        jot_free(da);
        jot_free(db);
    }
    jot__claims_clear(&view);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    size_t len = size - 1;
    char *text = fuzz_copy(data + 1, len, 0);

    unsigned max_depth = (opt & 31u) + 1;
    bool want_object = (opt & 32) != 0;
    size_t max_len = (opt & 64) ? JOT_MAX_HEADER_BYTES : JOT_MAX_PAYLOAD_BYTES;
    json_t *j = NULL;
    jot_err_t rc = jot__json_parse(text, len, max_len, max_depth, want_object, &j);
    check_err(rc);
    if (rc == JOT_OK) {
        FUZZ_CHECK(j != NULL && len <= max_len);
        FUZZ_CHECK(!want_object || json_is_object(j));
        FUZZ_CHECK(depth_of(j) <= max_depth);
        roundtrip(j);
        json_decref(j);
    } else {
        FUZZ_CHECK(parse_error(rc));
        FUZZ_CHECK(j == NULL);
    }

    check_view(text, len, max_depth, max_len);

    /* the same text as a claim set: the payload caps and an object */
    json_t *ref = NULL;
    jot_err_t rc_ref =
        jot__json_parse(text, len, JOT_MAX_PAYLOAD_BYTES, JOT_MAX_JSON_DEPTH, true, &ref);
    jot_claims_t *c = NULL;
    rc = jot_claims_from_json(text, len, &c);
    check_err(rc);
    if (rc_ref == JOT_OK && json_object_size(ref) <= JOT_MAX_CLAIMS)
        FUZZ_CHECK(rc == JOT_OK);
    else
        FUZZ_CHECK(rc != JOT_OK);
    json_decref(ref);
    if (rc == JOT_OK) {
        const char *name;
        json_t *v;
        json_object_foreach(c->obj, name, v)
        {
            getters(c, name, v);
        }
        FUZZ_CHECK(!jot_claims_has(c, "\x01-not-a-claim"));
        char *all = NULL;
        size_t all_len = 0;
        rc = jot_claims_to_json(c, &all, &all_len);
        FUZZ_CHECK(rc == JOT_OK);
        jot_claims_t *c2 = NULL;
        rc = jot_claims_from_json(all, all_len, &c2);
        /* a compact dump may be longer than the input (reals print 17 digits) */
        FUZZ_CHECK(rc == JOT_OK || (rc == JOT_E_TOOBIG && all_len > JOT_MAX_PAYLOAD_BYTES));
        if (rc == JOT_OK)
            FUZZ_CHECK(json_equal(c->obj, c2->obj));
        jot_claims_free(c2);
        jot_free(all);
    }
    jot_claims_free(c);
    free(text);
    return 0;
}
