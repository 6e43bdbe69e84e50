/* Remote key sets: a JWKS behind a URL, cached by rdoc.c, parsed by jot_keyset_from_jwks(),
 * and the key selection of a verifier that uses one (jot__remote_select()). */
#include "internal.h"
#include "fetch.h"
#include "jws.h"

#include <stdio.h>

struct jot_remote_keyset {
    jot_rdoc_t doc;
};

static jot_err_t parse_jwks(void *ctx, const char *body, size_t len, int64_t *io_max_age,
                            void **out_obj, char err[JOT_FETCH_ERRMSG])
{
    (void)ctx;
    (void)io_max_age;
    jot_keyset_t *set = NULL;
    jot_err_t rc = jot_keyset_from_jwks(body, len, &set);
    if (rc != JOT_OK) {
        snprintf(err, JOT_FETCH_ERRMSG, "invalid JWKS: %s", jot_strerror(rc));
        return rc;
    }
    *out_obj = set;
    return JOT_OK;
}

static void free_jwks(void *obj)
{
    jot_keyset_free(obj);
}

jot_err_t jot_remote_keyset_new(const char *url, const jot_remote_opts_t *opts,
                                jot_remote_keyset_t **out_rk)
{
    if (!url || !out_rk)
        return JOT_E_INVAL;
    if (!jot__fetch_available())
        return JOT_E_UNSUPPORTED;
    jot_remote_opts_t o;
    jot_err_t rc = jot__remote_opts_check(opts, &o);
    if (rc == JOT_OK)
        rc = jot__fetch_check_url(url, o.allow_http != 0);
    if (rc != JOT_OK)
        return rc;
    jot_remote_keyset_t *rk = jot__calloc(1, sizeof *rk);
    if (!rk)
        return JOT_E_NOMEM;
    rc = jot__rdoc_init(&rk->doc, url, &o, "application/jwk-set+json, application/json", parse_jwks,
                        free_jwks, NULL);
    if (rc != JOT_OK) {
        jot_free(rk);
        return rc;
    }
    *out_rk = rk;
    return JOT_OK;
}

void jot_remote_keyset_free(jot_remote_keyset_t *rk)
{
    if (!rk)
        return;
    jot__rdoc_destroy(&rk->doc);
    jot_free(rk);
}

jot_err_t jot_remote_keyset_refresh(jot_remote_keyset_t *rk)
{
    if (!rk)
        return JOT_E_INVAL;
    jot_rdoc_ref_t *ref = NULL;
    jot_err_t rc = jot__rdoc_acquire(&rk->doc, JOT_RDOC_NEWER, &ref);
    jot__rdoc_release(&rk->doc, ref);
    return rc;
}

uint64_t jot_remote_keyset_fetches(jot_remote_keyset_t *rk)
{
    return rk ? jot__rdoc_fetches(&rk->doc) : 0;
}

void jot_remote_keyset_errmsg(jot_remote_keyset_t *rk, char *buf, size_t cap)
{
    if (!rk) {
        if (buf && cap)
            buf[0] = '\0';
        return;
    }
    jot__rdoc_errmsg(&rk->doc, buf, cap);
}

void jot_verifier_set_remote_keyset(jot_verifier_t *v, jot_remote_keyset_t *rk)
{
    if (v)
        v->remote = rk;
}

jot_err_t jot__remote_select(jot_remote_keyset_t *rk, const jot_jview_t *header, jot_alg_t alg,
                             const jot_key_t **out_key, jot_rdoc_ref_t **out_ref)
{
    jot_rdoc_ref_t *ref = NULL;
    jot_err_t rc = jot__rdoc_acquire(&rk->doc, JOT_RDOC_CACHED, &ref);
    if (rc == JOT_OK)
        rc = jot__keyset_select(ref->obj, header, alg, out_key);
    if (rc == JOT_E_KEY_NOT_FOUND) {
        /* a key the cached set lacks: a rotation we have not seen yet, or a forged kid.
         * At most one fetch per cooldown either way. */
        jot__rdoc_release(&rk->doc, ref);
        ref = NULL;
        rc = jot__rdoc_acquire(&rk->doc, JOT_RDOC_NEWER, &ref);
        if (rc == JOT_OK)
            rc = jot__keyset_select(ref->obj, header, alg, out_key);
    }
    if (rc != JOT_OK) {
        jot__rdoc_release(&rk->doc, ref);
        return rc;
    }
    *out_ref = ref;
    return JOT_OK;
}

void jot__remote_release(jot_remote_keyset_t *rk, jot_rdoc_ref_t *ref)
{
    jot__rdoc_release(&rk->doc, ref);
}

uint64_t jot__remote_fetches(jot_remote_keyset_t *rk)
{
    return jot__rdoc_fetches(&rk->doc);
}
