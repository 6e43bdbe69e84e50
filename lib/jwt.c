/* JWT (RFC 7519): the verifier's policy, claim validation after the signature, signing a
 * claim set. */
#include "internal.h"
#include "jws.h"

#include <strings.h>
#include <string.h>
#include <time.h>

static int64_t system_clock(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

jot_err_t jot_verifier_new(jot_verifier_t **out_verifier)
{
    if (!out_verifier)
        return JOT_E_INVAL;
    jot_verifier_t *v = jot__calloc(1, sizeof *v);
    if (!v)
        return JOT_E_NOMEM;
    v->clock = system_clock;
    *out_verifier = v;
    return JOT_OK;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jot_free(list[i]);
    jot_free(list);
}

void jot_verifier_free(jot_verifier_t *v)
{
    if (!v)
        return;
    jot_free(v->sub);
    jot_free(v->typ);
    free_list(v->isss, v->n_isss);
    free_list(v->auds, v->n_auds);
    free_list(v->required, v->n_required);
    jot_free(v);
}

void jot_verifier_set_key(jot_verifier_t *v, const jot_key_t *key)
{
    if (v)
        v->key = key;
}

void jot_verifier_set_keyset(jot_verifier_t *v, const jot_keyset_t *set)
{
    if (v)
        v->keyset = set;
}

void jot_verifier_set_algs(jot_verifier_t *v, unsigned alg_mask)
{
    /* bit 0 is JOT_ALG_UNSET: never a valid choice */
    if (v)
        v->algs = alg_mask & ~JOT_ALG_BIT(JOT_ALG_UNSET) & (JOT_ALG_BIT(JOT_ALG__COUNT) - 1u);
}

static jot_err_t replace_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = jot__strdup(value)))
        return JOT_E_NOMEM;
    jot_free(*slot);
    *slot = copy;
    return JOT_OK;
}

static jot_err_t append_string(char ***list, size_t *n, const char *value)
{
    if (!value)
        return JOT_E_INVAL;
    if (*n >= JOT_MAX_CLAIMS)
        return JOT_E_TOOBIG;
    char *copy = jot__strdup(value);
    if (!copy)
        return JOT_E_NOMEM;
    char **grown = jot__realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) {
        jot_free(copy);
        return JOT_E_NOMEM;
    }
    grown[(*n)++] = copy;
    *list = grown;
    return JOT_OK;
}

/* set_issuer replaces the list with one issuer (or none); add_issuer appends. */
jot_err_t jot_verifier_set_issuer(jot_verifier_t *v, const char *iss)
{
    if (!v)
        return JOT_E_INVAL;
    char **one = NULL;
    size_t n = 0;
    if (iss) {
        jot_err_t rc = append_string(&one, &n, iss);
        if (rc != JOT_OK)
            return rc;
    }
    free_list(v->isss, v->n_isss);
    v->isss = one;
    v->n_isss = n;
    return JOT_OK;
}

jot_err_t jot_verifier_add_issuer(jot_verifier_t *v, const char *iss)
{
    return v ? append_string(&v->isss, &v->n_isss, iss) : JOT_E_INVAL;
}

jot_err_t jot_verifier_set_subject(jot_verifier_t *v, const char *sub)
{
    return v ? replace_string(&v->sub, sub) : JOT_E_INVAL;
}

jot_err_t jot_verifier_set_typ(jot_verifier_t *v, const char *typ)
{
    return v ? replace_string(&v->typ, typ) : JOT_E_INVAL;
}

jot_err_t jot_verifier_add_audience(jot_verifier_t *v, const char *aud)
{
    return v ? append_string(&v->auds, &v->n_auds, aud) : JOT_E_INVAL;
}

jot_err_t jot_verifier_require_claim(jot_verifier_t *v, const char *name)
{
    return v ? append_string(&v->required, &v->n_required, name) : JOT_E_INVAL;
}

void jot_verifier_set_leeway(jot_verifier_t *v, int64_t seconds)
{
    if (!v)
        return;
    v->leeway = seconds < 0 ? 0 : seconds > JOT_MAX_LEEWAY ? JOT_MAX_LEEWAY : seconds;
}

void jot_verifier_set_clock(jot_verifier_t *v, jot_clock_fn fn, void *ctx)
{
    if (!v)
        return;
    v->clock = fn ? fn : system_clock;
    v->clock_ctx = fn ? ctx : NULL;
}

void jot_verifier_set_max_age(jot_verifier_t *v, int64_t seconds)
{
    if (v)
        v->max_age = seconds > 0 ? seconds : 0;
}

void jot_verifier_allow_no_exp(jot_verifier_t *v, int allow)
{
    if (v)
        v->allow_no_exp = allow != 0;
}

/* RFC 7515 §4.1.9: media type names compare case-insensitively, and "application/" may be
 * left out when there is no other '/'. */
static const char *strip_application(const char *s)
{
    if (strncasecmp(s, "application/", 12) == 0 && !strchr(s + 12, '/'))
        return s + 12;
    return s;
}

static bool typ_matches(const char *want, const char *got)
{
    return strcasecmp(strip_application(want), strip_application(got)) == 0;
}

static bool jstr_equals(const jot_jval_t *v, const char *want)
{
    size_t n = strlen(want);
    return v->type == JOT_J_STRING && v->len == n && memcmp(v->str, want, n) == 0;
}

/* aud is a string or an array of strings; one of them must be one of the verifier's. */
static bool audience_ok(const jot_verifier_t *v, const jot_jview_t *view, const jot_jmember_t *aud)
{
    for (size_t i = 0; aud && i < v->n_auds; i++) {
        if (jstr_equals(&aud->v, v->auds[i]))
            return true;
        for (size_t j = 0; aud->v.type == JOT_J_ARRAY && j < aud->count; j++)
            if (jstr_equals(&view->elems[aud->first + j], v->auds[i]))
                return true;
    }
    return false;
}

/* Name the member at fault in \p d (NULL: nobody asked). A name that does not fit is cut
 * at a UTF-8 character boundary. */
static void blame(jot_verify_detail_t *d, const char *name, size_t len, int in_header)
{
    if (!d)
        return;
    if (len > JOT_DETAIL_NAME_MAX) {
        len = JOT_DETAIL_NAME_MAX;
        while (len > 0 && ((unsigned char)name[len] & 0xC0u) == 0x80u)
            len--; /* name[len] continues a character: cut before that character */
    }
    memcpy(d->name, name, len);
    d->name[len] = '\0';
    d->in_header = in_header;
}

#define BLAME(d, lit) blame((d), (lit), sizeof(lit) - 1, 0)

/* The registered claims the verifier reads, found in one pass over the members. Registered
 * claims must have their registered types whether or not the caller checks them (RFC 7519
 * §4.1): iss/sub/jti strings, aud a string or an array of strings, exp/nbf/iat numbers. */
typedef struct registered {
    const jot_jmember_t *iss, *sub, *aud;
    int64_t exp, nbf, iat;
    bool has_exp, has_nbf, has_iat;
} registered_t;

static jot_err_t read_member(const jot_jview_t *view, const jot_jmember_t *m, registered_t *r)
{
    const char *n = m->name;
    if (memcmp(n, "iss", 3) == 0 || memcmp(n, "sub", 3) == 0 || memcmp(n, "jti", 3) == 0) {
        if (m->v.type != JOT_J_STRING)
            return JOT_E_CLAIM_TYPE;
        if (n[0] == 'i')
            r->iss = m;
        else if (n[0] == 's')
            r->sub = m;
    } else if (memcmp(n, "aud", 3) == 0) {
        if (m->v.type == JOT_J_ARRAY) {
            for (size_t j = 0; j < m->count; j++)
                if (view->elems[m->first + j].type != JOT_J_STRING)
                    return JOT_E_CLAIM_TYPE;
        } else if (m->v.type != JOT_J_STRING) {
            return JOT_E_CLAIM_TYPE;
        }
        r->aud = m;
    } else if (memcmp(n, "exp", 3) == 0) {
        r->has_exp = true;
        return jot__jval_numeric_date(&m->v, &r->exp);
    } else if (memcmp(n, "nbf", 3) == 0) {
        r->has_nbf = true;
        return jot__jval_numeric_date(&m->v, &r->nbf);
    } else if (memcmp(n, "iat", 3) == 0) {
        r->has_iat = true;
        return jot__jval_numeric_date(&m->v, &r->iat);
    }
    return JOT_OK;
}

static jot_err_t read_registered(const jot_jview_t *view, registered_t *r, jot_verify_detail_t *d)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < view->n; i++) {
        const jot_jmember_t *m = &view->members[i];
        if (m->name_len != 3)
            continue;
        jot_err_t rc = read_member(view, m, r);
        if (rc != JOT_OK) {
            blame(d, m->name, 3, 0);
            return rc;
        }
    }
    return JOT_OK;
}

static bool issuer_ok(const jot_verifier_t *v, const jot_jmember_t *iss)
{
    for (size_t i = 0; iss && i < v->n_isss; i++)
        if (jstr_equals(&iss->v, v->isss[i]))
            return true;
    return false;
}

/* exp, nbf, iat against the clock. */
static jot_err_t check_times(const jot_verifier_t *v, const registered_t *r, jot_verify_detail_t *d)
{
    /* NumericDates are below 2^53 and leeway below a day: with the clock clamped to +-2^62
     * none of the comparisons below can overflow, whatever an injected clock returns. */
    int64_t now = v->clock(v->clock_ctx);
    const int64_t bound = INT64_C(1) << 62;
    now = now > bound ? bound : now < -bound ? -bound : now;
    jot_err_t rc = JOT_OK;
    if (!r->has_exp && !v->allow_no_exp)
        rc = JOT_E_NO_EXP;
    /* RFC 7519 §4.1.4: the current time must be before exp */
    else if (r->has_exp && now - v->leeway >= r->exp)
        rc = JOT_E_EXPIRED;
    if (rc != JOT_OK) {
        BLAME(d, "exp");
        return rc;
    }
    if (r->has_nbf && now + v->leeway < r->nbf) {
        BLAME(d, "nbf");
        return JOT_E_NOT_YET_VALID;
    }
    if (v->max_age) {
        if (!r->has_iat)
            rc = JOT_E_MISSING_CLAIM;
        else if (r->iat > now + v->leeway)
            rc = JOT_E_IAT_FUTURE;
        else if (now - r->iat - v->leeway > v->max_age) /* max_age may be INT64_MAX */
            rc = JOT_E_TOO_OLD;
        if (rc != JOT_OK)
            BLAME(d, "iat");
    }
    return rc;
}

static jot_err_t validate_claims(const jot_verifier_t *v, const jot_token_t *t,
                                 jot_verify_detail_t *d)
{
    const jot_jview_t *view = t->claims->view;
    if (v->typ) {
        const char *typ = jot__jview_string(t->header, "typ");
        if (!typ || !typ_matches(v->typ, typ)) {
            blame(d, "typ", 3, 1);
            return JOT_E_TYP;
        }
    }
    registered_t r;
    jot_err_t rc = read_registered(view, &r, d);
    if (rc == JOT_OK)
        rc = check_times(v, &r, d);
    if (rc != JOT_OK)
        return rc;
    if (v->n_isss && !issuer_ok(v, r.iss)) {
        BLAME(d, "iss");
        return JOT_E_ISSUER;
    }
    if (v->n_auds && !audience_ok(v, view, r.aud)) {
        BLAME(d, "aud");
        return JOT_E_AUDIENCE;
    }
    if (v->sub && !(r.sub && jstr_equals(&r.sub->v, v->sub))) {
        BLAME(d, "sub");
        return JOT_E_SUBJECT;
    }
    for (size_t i = 0; i < v->n_required; i++) {
        if (!jot__jview_get(view, v->required[i])) {
            blame(d, v->required[i], strlen(v->required[i]), 0);
            return JOT_E_MISSING_CLAIM;
        }
    }
    return JOT_OK;
}

/* The header parameter behind a failure found before the claims were read, if one is. */
static void blame_header(jot_verify_detail_t *d, jot_err_t rc)
{
    if (rc == JOT_E_ALG_NONE || rc == JOT_E_ALG_UNKNOWN || rc == JOT_E_ALG_NOT_ALLOWED)
        blame(d, "alg", 3, 1);
    else if (rc == JOT_E_CRIT)
        blame(d, "crit", 4, 1);
}

/* The payload of a token whose signature is good: parse it into the claims view. */
static jot_err_t parse_payload(jot_token_t *t, size_t max_payload)
{
    jot_err_t rc = jot__jview_parse((const char *)t->payload, t->payload_len, max_payload,
                                    JOT_MAX_JSON_DEPTH, JOT_MAX_CLAIMS, &t->own_claims.view);
    if (rc == JOT_OK) {
        t->claims = &t->own_claims;
    } else if (rc == JOT_E_JSON) {
        /* valid JSON that is not an object (a JWS of "Payload", an array...) vs broken JSON */
        json_t *any;
        if (jot__json_parse((const char *)t->payload, t->payload_len, max_payload,
                            JOT_MAX_JSON_DEPTH, false, &any) == JOT_OK) {
            json_decref(any);
            rc = JOT_E_PAYLOAD;
        } else if (!t->payload_len || t->payload[0] != '{') {
            rc = JOT_E_PAYLOAD;
        }
    }
    return rc;
}

jot_err_t jot_verify_ex(const jot_verifier_t *v, const char *token, size_t len,
                        jot_token_t **out_token, jot_verify_detail_t *detail)
{
    if (detail)
        blame(detail, "", 0, 0);
    jot_token_t *t;
    jot_err_t rc = jot__jws_verify(v, token, len, &t);
    if (rc != JOT_OK) {
        blame_header(detail, rc);
        return rc;
    }
    /* the signature is good: now, and only now, the payload is parsed */
    rc = parse_payload(t, jot__verifier_max_payload(v));
    if (rc == JOT_OK)
        rc = validate_claims(v, t, detail);
    /* the draft: the token's own checks first; its status only for an otherwise valid one */
    if (rc == JOT_OK && v->status) {
        rc = jot__status_check_token(v->status, t->claims->view);
        if (rc == JOT_E_MISSING_CLAIM || rc == JOT_E_CLAIM_TYPE)
            BLAME(detail, "status");
    }
    if (rc != JOT_OK) {
        jot_token_free(t);
        return rc;
    }
    if (out_token)
        *out_token = t;
    else
        jot_token_free(t);
    return JOT_OK;
}

jot_err_t jot_verify(const jot_verifier_t *v, const char *token, size_t len,
                     jot_token_t **out_token)
{
    return jot_verify_ex(v, token, len, out_token, NULL);
}

jot_err_t jot_jwt_sign(const jot_key_t *key, const jot_sign_opts_t *opts,
                       const jot_claims_t *claims, char **out_token, size_t *out_len)
{
    if (!key || !claims || !out_token)
        return JOT_E_INVAL;
    jot_sign_opts_t o = {0};
    if (opts)
        o = *opts;
    jot_alg_t alg = o.alg != JOT_ALG_UNSET ? o.alg : jot_key_default_alg(key);
    const char *kid = o.kid ? o.kid : key->kid;
    const char *typ = o.typ ? o.typ : "JWT";

    const jot_alg_info_t *ai = jot__alg_info(alg);
    if (!ai)
        return JOT_E_ALG_UNKNOWN;

    /* {"alg":...,"typ":...,"kid":...}, written directly (the same bytes jansson gives) */
    char hstack[256], pstack[2048];
    jot_jbuf_t h, p;
    jot__jbuf_init(&h, hstack, sizeof hstack);
    jot__jbuf_init(&p, pstack, sizeof pstack);
    jot_err_t rc = JOT_OK;
    jot__jbuf_put(&h, "{\"alg\":\"", 8);
    jot__jbuf_put(&h, ai->name, strlen(ai->name));
    jot__jbuf_put(&h, "\"", 1);
    if (*typ) {
        jot__jbuf_put(&h, ",\"typ\":", 7);
        if (!jot__jbuf_string(&h, typ, strlen(typ)))
            rc = JOT_E_UTF8;
    }
    if (kid && *kid) {
        jot__jbuf_put(&h, ",\"kid\":", 7);
        if (!jot__jbuf_string(&h, kid, strlen(kid)))
            rc = JOT_E_UTF8;
    }
    jot__jbuf_put(&h, "}", 1);

    char *dumped = NULL; /* a view's claims go through jansson (rare: re-signing) */
    const char *ptext = NULL;
    size_t plen = 0;
    if (rc == JOT_OK && claims->obj) {
        if (!jot__jbuf_json(&p, claims->obj, 1))
            rc = p.oom ? JOT_E_NOMEM : JOT_E_UTF8;
        ptext = p.p;
        plen = p.len;
    } else if (rc == JOT_OK) {
        rc = jot__claims_dump(claims, &dumped, &plen);
        ptext = dumped;
    }
    if (rc == JOT_OK && (h.oom || p.oom))
        rc = JOT_E_NOMEM;
    if (rc == JOT_OK)
        rc = jot__jws_sign_unchecked(key, alg, h.p, h.len, (const uint8_t *)ptext, plen, out_token,
                                     out_len);
    jot__jbuf_free(&h);
    jot__jbuf_free(&p);
    jot_free(dumped);
    return rc;
}
