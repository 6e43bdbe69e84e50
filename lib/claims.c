/* JWT claim sets: a strict JSON object with typed setters and getters. Claims built or parsed
 * by the caller are a jansson object; the claims of a verified token are a view of its
 * payload (jview.c: no tree, one allocation), read by the same getters. */
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
    c->view = NULL;
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

void jot__claims_clear(jot_claims_t *c)
{
    json_decref(c->obj);
    jot_free(c->view);
    c->obj = NULL;
    c->view = NULL;
}

void jot_claims_free(jot_claims_t *claims)
{
    if (!claims)
        return;
    jot__claims_clear(claims);
    jot_free(claims);
}

/* A setter on a view: it becomes a jansson object first. */
static jot_err_t materialize(jot_claims_t *c)
{
    if (c->obj)
        return JOT_OK;
    if (!c->view)
        return JOT_E_INVAL;
    json_t *obj;
    jot_err_t rc = jot__json_parse(c->view->text, c->view->text_len, JOT_MAX_PAYLOAD_BYTES,
                                   JOT_MAX_JSON_DEPTH, true, &obj);
    if (rc != JOT_OK)
        return rc;
    jot_free(c->view);
    c->view = NULL;
    c->obj = obj;
    return JOT_OK;
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
    jot_err_t rc = materialize(c);
    if (rc != JOT_OK) {
        json_decref(v);
        return rc;
    }
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
    jot_err_t rc = materialize(c);
    if (rc != JOT_OK)
        return rc;
    return json_object_del(c->obj, name) == 0 ? JOT_OK : JOT_E_NOT_FOUND;
}

/* A claim, from either representation: exactly one of *out_j / *out_m is set. */
static jot_err_t get(const jot_claims_t *c, const char *name, const void *out_ptr, json_t **out_j,
                     const jot_jmember_t **out_m)
{
    if (!c || !name || !out_ptr)
        return JOT_E_INVAL;
    *out_j = NULL;
    *out_m = NULL;
    if (c->obj)
        *out_j = json_object_get(c->obj, name);
    else
        *out_m = jot__jview_get(c->view, name);
    return *out_j || *out_m ? JOT_OK : JOT_E_NOT_FOUND;
}

int jot_claims_has(const jot_claims_t *c, const char *name)
{
    json_t *j = NULL;
    const jot_jmember_t *m = NULL;
    return get(c, name, &j, &j, &m) == JOT_OK;
}

/* A scalar of either representation as a view value (containers: type only). */
static jot_jval_t jval_of(const json_t *j)
{
    jot_jval_t v = {0};
    switch (json_typeof(j)) {
    case JSON_STRING:
        v.type = JOT_J_STRING;
        v.str = json_string_value(j);
        v.len = json_string_length(j);
        break;
    case JSON_INTEGER:
        v.type = JOT_J_INT;
        v.i = (int64_t)json_integer_value(j);
        break;
    case JSON_REAL:
        v.type = JOT_J_REAL;
        v.d = json_real_value(j);
        break;
    case JSON_TRUE:
        v.type = JOT_J_TRUE;
        break;
    case JSON_FALSE:
        v.type = JOT_J_FALSE;
        break;
    case JSON_NULL:
        v.type = JOT_J_NULL;
        break;
    case JSON_ARRAY:
        v.type = JOT_J_ARRAY;
        break;
    case JSON_OBJECT:
        v.type = JOT_J_OBJECT;
        break;
    }
    return v;
}

static jot_err_t get_val(const jot_claims_t *c, const char *name, const void *out_ptr,
                         jot_jval_t *out)
{
    json_t *j = NULL;
    const jot_jmember_t *m = NULL;
    jot_err_t rc = get(c, name, out_ptr, &j, &m);
    if (rc == JOT_OK)
        *out = j ? jval_of(j) : m->v;
    return rc;
}

jot_err_t jot_claims_get_string(const jot_claims_t *c, const char *name, const char **out_value)
{
    jot_jval_t v = {0};
    jot_err_t rc = get_val(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (v.type != JOT_J_STRING)
        return JOT_E_CLAIM_TYPE;
    *out_value = v.str;
    return JOT_OK;
}

jot_err_t jot_claims_get_int(const jot_claims_t *c, const char *name, int64_t *out_value)
{
    jot_jval_t v = {0};
    jot_err_t rc = get_val(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (v.type == JOT_J_INT) {
        *out_value = v.i;
        return JOT_OK;
    }
    /* only integral values that int64 represents exactly */
    if (v.type == JOT_J_REAL && v.d == floor(v.d) && v.d >= -9007199254740992.0 &&
        v.d <= 9007199254740992.0) {
        *out_value = (int64_t)v.d;
        return JOT_OK;
    }
    return JOT_E_CLAIM_TYPE;
}

jot_err_t jot_claims_get_bool(const jot_claims_t *c, const char *name, int *out_value)
{
    jot_jval_t v = {0};
    jot_err_t rc = get_val(c, name, out_value, &v);
    if (rc != JOT_OK)
        return rc;
    if (v.type != JOT_J_TRUE && v.type != JOT_J_FALSE)
        return JOT_E_CLAIM_TYPE;
    *out_value = v.type == JOT_J_TRUE;
    return JOT_OK;
}

/* Element i of an array claim: *out_n the array size; out NULL asks for the size only. */
static jot_err_t array_at(const json_t *j, const jot_claims_t *c, const jot_jmember_t *m, size_t i,
                          size_t *out_n, jot_jval_t *out)
{
    if (j) {
        if (!json_is_array(j))
            return JOT_E_CLAIM_TYPE;
        *out_n = json_array_size(j);
        if (out && i < *out_n)
            *out = jval_of(json_array_get(j, i));
        return JOT_OK;
    }
    if (m->v.type != JOT_J_ARRAY)
        return JOT_E_CLAIM_TYPE;
    *out_n = m->count;
    if (out && i < *out_n)
        *out = c->view->elems[m->first + i];
    return JOT_OK;
}

jot_err_t jot_claims_get_strings_count(const jot_claims_t *c, const char *name, size_t *out_n)
{
    json_t *j = NULL;
    const jot_jmember_t *m = NULL;
    jot_err_t rc = get(c, name, out_n, &j, &m);
    if (rc != JOT_OK)
        return rc;
    if ((j ? jval_of(j) : m->v).type == JOT_J_STRING) {
        *out_n = 1;
        return JOT_OK;
    }
    size_t n;
    if ((rc = array_at(j, c, m, 0, &n, NULL)) != JOT_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        jot_jval_t e = {0};
        (void)array_at(j, c, m, i, &n, &e);
        if (e.type != JOT_J_STRING)
            return JOT_E_CLAIM_TYPE;
    }
    *out_n = n;
    return JOT_OK;
}

jot_err_t jot_claims_get_strings_at(const jot_claims_t *c, const char *name, size_t i,
                                    const char **out_value)
{
    json_t *j = NULL;
    const jot_jmember_t *m = NULL;
    jot_err_t rc = get(c, name, out_value, &j, &m);
    if (rc != JOT_OK)
        return rc;
    jot_jval_t v = j ? jval_of(j) : m->v;
    if (v.type == JOT_J_STRING) {
        if (i != 0)
            return JOT_E_NOT_FOUND;
        *out_value = v.str;
        return JOT_OK;
    }
    size_t n;
    jot_jval_t e = {0};
    if ((rc = array_at(j, c, m, i, &n, &e)) != JOT_OK)
        return rc;
    if (i >= n)
        return JOT_E_NOT_FOUND;
    if (e.type != JOT_J_STRING)
        return JOT_E_CLAIM_TYPE;
    *out_value = e.str;
    return JOT_OK;
}

/* JSON text of a view's value, re-serialised compactly exactly as the jansson path does. */
static jot_err_t dump_text(const char *text, size_t len, bool object, char **out_json,
                           size_t *out_len)
{
    json_t *j = NULL;
    jot_err_t rc =
        jot__json_parse(text, len, JOT_MAX_PAYLOAD_BYTES, JOT_MAX_JSON_DEPTH, object, &j);
    if (rc != JOT_OK)
        return rc;
    rc = jot__json_dump(j, out_json, out_len);
    json_decref(j);
    return rc;
}

jot_err_t jot_claims_get_json(const jot_claims_t *c, const char *name, char **out_json,
                              size_t *out_len)
{
    json_t *j = NULL;
    const jot_jmember_t *m = NULL;
    jot_err_t rc = get(c, name, out_json, &j, &m);
    if (rc != JOT_OK)
        return rc;
    return j ? jot__json_dump(j, out_json, out_len)
             : dump_text(m->raw, m->raw_len, false, out_json, out_len);
}

jot_err_t jot__claims_dump(const jot_claims_t *c, char **out, size_t *out_len)
{
    if (c->obj)
        return jot__json_dump(c->obj, out, out_len);
    if (!c->view)
        return JOT_E_INVAL;
    return dump_text(c->view->text, c->view->text_len, true, out, out_len);
}

jot_err_t jot_claims_to_json(const jot_claims_t *c, char **out_json, size_t *out_len)
{
    if (!c || !out_json)
        return JOT_E_INVAL;
    return jot__claims_dump(c, out_json, out_len);
}

jot_err_t jot__jval_numeric_date(const jot_jval_t *v, int64_t *out)
{
    /* RFC 7519 §2: a JSON number of seconds; strings, booleans, null are not NumericDates */
    if (v->type == JOT_J_INT && v->i >= 0 && v->i < (INT64_C(1) << 53)) {
        *out = v->i;
        return JOT_OK;
    }
    if (v->type == JOT_J_REAL && isfinite(v->d) && v->d >= 0 && v->d < 9007199254740992.0) {
        *out = (int64_t)v->d; /* fractions of a second are truncated */
        return JOT_OK;
    }
    return JOT_E_CLAIM_TYPE;
}

jot_err_t jot__claims_get_numeric_date(const jot_claims_t *c, const char *name, int64_t *out)
{
    jot_jval_t v = {0};
    jot_err_t rc = get_val(c, name, out, &v);
    return rc != JOT_OK ? rc : jot__jval_numeric_date(&v, out);
}
