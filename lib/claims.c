/* JWT claim sets: a strict JSON object with typed setters and getters. */
#include "internal.h"

#include <math.h>
#include <string.h>

jot_err_t jot__claims_wrap(json_t *obj, jot_claims_t **out)
{
    jot_claims_t *c = jot__malloc(sizeof *c);
    if (!c) {
        json_decref(obj);
        return JOT_E_NOMEM;
    }
    c->obj = obj;
    *out = c;
    return JOT_OK;
}

jot_err_t jot_claims_new(jot_claims_t **out_claims)
{
    if (!out_claims)
        return JOT_E_INVAL;
    json_t *obj = json_object();
    if (!obj)
        return JOT_E_NOMEM;
    return jot__claims_wrap(obj, out_claims);
}

jot_err_t jot_claims_from_json(const char *json, size_t len, jot_claims_t **out_claims)
{
    if (!json || !out_claims)
        return JOT_E_INVAL;
    json_t *obj;
    jot_err_t rc =
        jot__json_parse(json, len, JOT_MAX_PAYLOAD_BYTES, JOT_MAX_JSON_DEPTH, true, &obj);
    if (rc != JOT_OK)
        return rc;
    if (json_object_size(obj) > JOT_MAX_CLAIMS) {
        json_decref(obj);
        return JOT_E_TOOBIG;
    }
    return jot__claims_wrap(obj, out_claims);
}

void jot_claims_free(jot_claims_t *claims)
{
    if (!claims)
        return;
    json_decref(claims->obj);
    jot_free(claims);
}

/* Takes over the reference to v (also on failure). */
static jot_err_t set_value(jot_claims_t *c, const char *name, json_t *v, jot_err_t if_null)
{
    if (!c || !name) {
        json_decref(v);
        return JOT_E_INVAL;
    }
    if (!v)
        return jot__json_oom() ? JOT_E_NOMEM : if_null;
    if (!json_object_get(c->obj, name) && json_object_size(c->obj) >= JOT_MAX_CLAIMS) {
        json_decref(v);
        return JOT_E_TOOBIG;
    }
    /* json_object_set_new validates the name as UTF-8 and steals v */
    if (json_object_set_new(c->obj, name, v) != 0)
        return jot__json_oom() ? JOT_E_NOMEM : JOT_E_UTF8;
    return JOT_OK;
}

jot_err_t jot_claims_set_string(jot_claims_t *c, const char *name, const char *value)
{
    jot__json_oom_clear();
    if (!value)
        return JOT_E_INVAL;
    /* json_string() returns NULL for invalid UTF-8 */
    return set_value(c, name, json_string(value), JOT_E_UTF8);
}

jot_err_t jot_claims_set_int(jot_claims_t *c, const char *name, int64_t value)
{
    jot__json_oom_clear();
    return set_value(c, name, json_integer((json_int_t)value), JOT_E_NOMEM);
}

jot_err_t jot_claims_set_bool(jot_claims_t *c, const char *name, int value)
{
    jot__json_oom_clear();
    return set_value(c, name, json_boolean(value), JOT_E_NOMEM);
}

jot_err_t jot_claims_set_strings(jot_claims_t *c, const char *name, const char *const *values,
                                 size_t n)
{
    jot__json_oom_clear();
    if (!values && n)
        return JOT_E_INVAL;
    json_t *arr = json_array();
    if (!arr)
        return JOT_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *s = values[i] ? json_string(values[i]) : NULL;
        if (!s || json_array_append_new(arr, s) != 0) {
            json_decref(arr);
            return !values[i] ? JOT_E_INVAL : jot__json_oom() ? JOT_E_NOMEM : JOT_E_UTF8;
        }
    }
    return set_value(c, name, arr, JOT_E_NOMEM);
}

jot_err_t jot_claims_set_json(jot_claims_t *c, const char *name, const char *json, size_t len)
{
    jot__json_oom_clear();
    if (!json)
        return JOT_E_INVAL;
    json_t *v;
    jot_err_t rc =
        jot__json_parse(json, len, JOT_MAX_PAYLOAD_BYTES, JOT_MAX_JSON_DEPTH - 1, false, &v);
    if (rc != JOT_OK)
        return rc;
    return set_value(c, name, v, JOT_E_NOMEM);
}

jot_err_t jot_claims_del(jot_claims_t *c, const char *name)
{
    if (!c || !name)
        return JOT_E_INVAL;
    return json_object_del(c->obj, name) == 0 ? JOT_OK : JOT_E_NOT_FOUND;
}

int jot_claims_has(const jot_claims_t *c, const char *name)
{
    return c && name && json_object_get(c->obj, name) != NULL;
}

static jot_err_t get(const jot_claims_t *c, const char *name, const void *out_ptr, json_t **out)
{
    if (!c || !name || !out_ptr)
        return JOT_E_INVAL;
    *out = json_object_get(c->obj, name);
    return *out ? JOT_OK : JOT_E_NOT_FOUND;
}

jot_err_t jot_claims_get_string(const jot_claims_t *c, const char *name, const char **out_value)
{
    json_t *v;
    jot_err_t rc = get(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (!json_is_string(v))
        return JOT_E_CLAIM_TYPE;
    *out_value = json_string_value(v);
    return JOT_OK;
}

jot_err_t jot_claims_get_int(const jot_claims_t *c, const char *name, int64_t *out_value)
{
    json_t *v;
    jot_err_t rc = get(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (json_is_integer(v)) {
        *out_value = (int64_t)json_integer_value(v);
        return JOT_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* only integral values that int64 represents exactly */
        if (d == floor(d) && d >= -9007199254740992.0 && d <= 9007199254740992.0) {
            *out_value = (int64_t)d;
            return JOT_OK;
        }
    }
    return JOT_E_CLAIM_TYPE;
}

jot_err_t jot_claims_get_bool(const jot_claims_t *c, const char *name, int *out_value)
{
    json_t *v;
    jot_err_t rc = get(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (!json_is_boolean(v))
        return JOT_E_CLAIM_TYPE;
    *out_value = json_is_true(v);
    return JOT_OK;
}

jot_err_t jot_claims_get_strings_count(const jot_claims_t *c, const char *name, size_t *out_n)
{
    json_t *v;
    jot_err_t rc = get(c, name, out_n, &v);
    if (rc != JOT_OK)
        return rc;
    if (json_is_string(v)) {
        *out_n = 1;
        return JOT_OK;
    }
    if (!json_is_array(v))
        return JOT_E_CLAIM_TYPE;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return JOT_E_CLAIM_TYPE;
    *out_n = json_array_size(v);
    return JOT_OK;
}

jot_err_t jot_claims_get_strings_at(const jot_claims_t *c, const char *name, size_t i,
                                    const char **out_value)
{
    json_t *v;
    jot_err_t rc = get(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (json_is_string(v)) {
        if (i != 0)
            return JOT_E_NOT_FOUND;
        *out_value = json_string_value(v);
        return JOT_OK;
    }
    if (!json_is_array(v))
        return JOT_E_CLAIM_TYPE;
    json_t *e = json_array_get(v, i);
    if (!e)
        return JOT_E_NOT_FOUND;
    if (!json_is_string(e))
        return JOT_E_CLAIM_TYPE;
    *out_value = json_string_value(e);
    return JOT_OK;
}

jot_err_t jot_claims_get_json(const jot_claims_t *c, const char *name, char **out_json,
                              size_t *out_len)
{
    json_t *v;
    jot_err_t rc = get(c, name, out_json, &v);
    if (rc != JOT_OK)
        return rc;
    return jot__json_dump(v, out_json, out_len);
}

jot_err_t jot_claims_to_json(const jot_claims_t *c, char **out_json, size_t *out_len)
{
    if (!c || !out_json)
        return JOT_E_INVAL;
    return jot__json_dump(c->obj, out_json, out_len);
}

jot_err_t jot__claims_get_numeric_date(const json_t *obj, const char *name, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return JOT_E_NOT_FOUND;
    /* RFC 7519 §2: a JSON number of seconds; strings, booleans, null are not NumericDates */
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || i >= ((json_int_t)1 << 53))
            return JOT_E_CLAIM_TYPE;
        *out = (int64_t)i;
        return JOT_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d < 0 || d >= 9007199254740992.0)
            return JOT_E_CLAIM_TYPE;
        *out = (int64_t)d; /* fractions of a second are truncated */
        return JOT_OK;
    }
    return JOT_E_CLAIM_TYPE;
}
