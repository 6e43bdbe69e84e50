/* Strict JSON on top of jansson: size cap, nesting cap checked before parsing, duplicate
 * member names, UTF-8, trailing data and NUL bytes all rejected. */
#include "internal.h"

#include <string.h>

/* Nesting depth of arrays/objects, counted without parsing so that a hostile document
 * never reaches jansson's recursive descent. Strings (and escapes inside them) are
 * skipped. Returns false when the depth exceeds max_depth. */
static bool depth_ok(const char *s, size_t len, unsigned max_depth)
{
    unsigned depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++; /* skip the escaped character (\" must not end the string) */
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if ((c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    return true;
}

jot_err_t jot__json_parse(const char *s, size_t len, size_t max_len, unsigned max_depth,
                          bool want_object, json_t **out)
{
    if (!s && len)
        return JOT_E_INVAL;
    if (len > max_len)
        return JOT_E_TOOBIG;
    if (!depth_ok(s, len, max_depth))
        return JOT_E_JSON_DEPTH;
    json_error_t err;
    jot__json_oom_clear();
    json_t *j = json_loadb(s ? s : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!j) {
        if (jot__json_oom())
            return JOT_E_NOMEM;
        switch (json_error_code(&err)) {
        case json_error_duplicate_key:
            return JOT_E_JSON_DUPLICATE;
        case json_error_invalid_utf8:
            return JOT_E_UTF8;
        case json_error_out_of_memory:
            return JOT_E_NOMEM;
        case json_error_stack_overflow:
            return JOT_E_JSON_DEPTH;
        default:
            return JOT_E_JSON;
        }
    }
    /* jansson may drop a byte of a string whose buffer could not grow and still succeed:
     * a tree built while an allocation failed is never trusted */
    if (jot__json_oom()) {
        json_decref(j);
        return JOT_E_NOMEM;
    }
    /* JSON text never holds a raw NUL (in a string it must be escaped, and \u0000 is refused
     * by jansson), but jansson lets one through after a number ({"a":0<NUL>}). Checked
     * after jansson so that an earlier error keeps its own code. */
    if (s && memchr(s, 0, len)) {
        json_decref(j);
        return JOT_E_JSON;
    }
    if (want_object && !json_is_object(j)) {
        json_decref(j);
        return JOT_E_JSON;
    }
    *out = j;
    return JOT_OK;
}

jot_err_t jot__json_dump(const json_t *j, char **out, size_t *out_len)
{
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0)
        return JOT_E_NOMEM;
    char *buf = jot__malloc(n + 1);
    if (!buf)
        return JOT_E_NOMEM;
    if (json_dumpb(j, buf, n, JSON_COMPACT | JSON_ENCODE_ANY) != n) {
        jot_free(buf);
        return JOT_E_NOMEM;
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len)
        *out_len = n;
    return JOT_OK;
}

jot_err_t jot__json_get_b64(const json_t *obj, const char *name, uint8_t **out, size_t *out_len)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return JOT_E_NOT_FOUND;
    if (!json_is_string(v))
        return JOT_E_CLAIM_TYPE;
    return jot__b64url_decode_alloc(json_string_value(v), json_string_length(v), out, out_len);
}

jot_err_t jot__json_set_b64(json_t *obj, const char *name, const uint8_t *data, size_t len)
{
    char *s;
    size_t slen;
    jot_err_t rc = jot__b64url_encode_alloc(data, len, &s, &slen);
    if (rc != JOT_OK)
        return rc;
    json_t *v = json_stringn(s, slen);
    jot_free(s);
    if (!v || json_object_set_new(obj, name, v) != 0)
        return JOT_E_NOMEM;
    return JOT_OK;
}
