/* Token status (IETF Token Status List draft): Status List Tokens fetched and cached by the
 * same module as remote key sets (rdoc.c, fetch.c), one cached document per list URI,
 * verified with the issuer's keys, inflated with zlib under a cap, and the verifier's check
 * of a token's status.status_list {idx, uri} claim. */
#include "internal.h"
#include "fetch.h"
#include "jws.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#define ZLIB_CONST /* next_in is const: no cast away of the caller's const */
#include <zlib.h>

#define MAX_URI_LEN 2048u

/* A decoded list: the inflated bytes and the bits per entry. */
typedef struct status_list {
    uint8_t *bytes;
    size_t len;
    unsigned bits;
    bool has_exp;
    int64_t exp;
} status_list_t;

typedef struct list_entry {
    jot_status_checker_t *sc;
    jot_rdoc_t doc;
} list_entry_t;

struct jot_status_checker {
    jot_status_opts_t opts;
    char *prefix;      /* owned */
    jot_verifier_t *v; /* verifies the list tokens */
    pthread_mutex_t mu;
    list_entry_t *lists[JOT_STATUS_MAX_LISTS];
    size_t n;
    char errmsg[JOT_FETCH_ERRMSG]; /* the last failed check (under mu) */
};

/* ---- decoding (also used by the conformance tests) ------------------------------------ */

/* Inflate ZLIB (RFC 1950) data, refusing more than \p max output bytes and anything after
 * the stream's end. */
jot_err_t jot__zlib_inflate(const uint8_t *in, size_t len, size_t max, uint8_t **out,
                            size_t *out_len)
{
    if (len > UINT32_MAX)
        return JOT_E_TOOBIG;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return JOT_E_NOMEM;
    size_t cap = len * 4 + 64 < max ? len * 4 + 64 : max;
    uint8_t *buf = jot__malloc(cap ? cap : 1);
    jot_err_t rc = buf ? JOT_OK : JOT_E_NOMEM;
    size_t have = 0;
    zs.next_in = in;
    zs.avail_in = (uInt)len;
    int zr = Z_OK;
    while (rc == JOT_OK && zr != Z_STREAM_END) {
        if (have == cap) {
            if (cap >= max) {
                rc = JOT_E_TOOBIG; /* more output than the cap: a bomb, or just too big */
                break;
            }
            size_t ncap = cap > max / 2 ? max : cap * 2;
            uint8_t *nb = jot__realloc(buf, ncap);
            if (!nb) {
                rc = JOT_E_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - have;
        zs.next_out = buf + have;
        zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        uInt before = zs.avail_out;
        zr = inflate(&zs, Z_NO_FLUSH);
        have += before - zs.avail_out;
        if (zr == Z_BUF_ERROR && zs.avail_out != 0)
            rc = JOT_E_STATUS_LIST; /* input ended before the stream did */
        else if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            rc = zr == Z_MEM_ERROR ? JOT_E_NOMEM : JOT_E_STATUS_LIST;
    }
    if (rc == JOT_OK && zs.avail_in != 0)
        rc = JOT_E_STATUS_LIST; /* bytes after the end of the stream */
    inflateEnd(&zs);
    if (rc != JOT_OK) {
        jot_free(buf);
        return rc;
    }
    *out = buf;
    *out_len = have;
    return JOT_OK;
}

/* The status_list object {bits, lst} into \p out (bytes owned by the caller). */
jot_err_t jot__status_list_decode(const json_t *obj, size_t max, uint8_t **out_bytes,
                                  size_t *out_len, unsigned *out_bits)
{
    const json_t *bits = json_object_get(obj, "bits");
    const json_t *lst = json_object_get(obj, "lst");
    if (!json_is_object(obj) || !json_is_integer(bits) || !json_is_string(lst))
        return JOT_E_STATUS_LIST;
    json_int_t b = json_integer_value(bits);
    if (b != 1 && b != 2 && b != 4 && b != 8)
        return JOT_E_STATUS_LIST;
    uint8_t *z = NULL;
    size_t zl = 0;
    jot_err_t rc =
        jot__b64url_decode_alloc(json_string_value(lst), json_string_length(lst), &z, &zl);
    if (rc != JOT_OK)
        return rc == JOT_E_NOMEM ? rc : JOT_E_STATUS_LIST;
    rc = jot__zlib_inflate(z, zl, max, out_bytes, out_len);
    jot_free(z);
    if (rc == JOT_OK)
        *out_bits = (unsigned)b;
    return rc;
}

/* Entry \p idx: the bits-wide block at bit idx * bits, counted from the least significant
 * bit of byte 0 (the draft's order). */
jot_err_t jot__status_get(const uint8_t *bytes, size_t len, unsigned bits, uint64_t idx,
                          unsigned *out)
{
    if (bits == 0 || bits > 8 || idx > (UINT64_MAX - 7) / bits)
        return JOT_E_STATUS_LIST;
    uint64_t bit = idx * bits;
    if (bit / 8 >= len)
        return JOT_E_STATUS_LIST; /* beyond the list: no statement can be made */
    unsigned v = bytes[bit / 8] >> (bit % 8);
    *out = v & ((1u << bits) - 1u);
    return JOT_OK;
}

/* ---- the cached lists ---------------------------------------------------------------- */

static void free_list(void *obj)
{
    status_list_t *l = obj;
    if (l) {
        jot_free(l->bytes);
        jot_free(l);
    }
}

static int64_t wall_now(void)
{
    return (int64_t)time(NULL);
}

/* The claims of a verified list token into a list (sub, iat, status_list, ttl, exp). */
static jot_err_t read_list(list_entry_t *e, const jot_claims_t *c, int64_t *io_max_age,
                           status_list_t *l, char *err)
{
    const char *sub = NULL;
    int64_t iat = 0, ttl = 0;
    if (jot_claims_get_string(c, "sub", &sub) != JOT_OK || strcmp(sub, e->doc.url) != 0) {
        snprintf(err, JOT_FETCH_ERRMSG, "status list: sub is not the list's URI");
        return JOT_E_STATUS_LIST;
    }
    if (jot_claims_get_int(c, "iat", &iat) != JOT_OK) {
        snprintf(err, JOT_FETCH_ERRMSG, "status list: no iat");
        return JOT_E_STATUS_LIST;
    }
    bool has_ttl = jot_claims_has(c, "ttl");
    if (has_ttl && (jot_claims_get_int(c, "ttl", &ttl) != JOT_OK || ttl <= 0)) {
        snprintf(err, JOT_FETCH_ERRMSG, "status list: ttl is not a positive integer");
        return JOT_E_STATUS_LIST;
    }
    l->has_exp = jot_claims_has(c, "exp");
    if (l->has_exp && jot__claims_get_numeric_date(c, "exp", &l->exp) != JOT_OK)
        return JOT_E_STATUS_LIST;
    /* the claims of a verified token are a view: the member's own text, parsed once */
    const jot_jmember_t *m = c->view ? jot__jview_get(c->view, "status_list") : NULL;
    json_t *obj = NULL;
    jot_err_t rc = m ? jot__json_parse(m->raw, m->raw_len, e->sc->opts.fetch.max_body,
                                       JOT_MAX_JSON_DEPTH, true, &obj)
                     : JOT_E_STATUS_LIST;
    if (rc == JOT_OK)
        rc = jot__status_list_decode(obj, e->sc->opts.max_list_bytes, &l->bytes, &l->len, &l->bits);
    json_decref(obj);
    if (rc == JOT_E_TOOBIG)
        snprintf(err, JOT_FETCH_ERRMSG, "status list: inflated list larger than %zu bytes",
                 e->sc->opts.max_list_bytes);
    else if (rc != JOT_OK && rc != JOT_E_NOMEM)
        snprintf(err, JOT_FETCH_ERRMSG, "status list: invalid status_list (bits, lst)");
    if (rc != JOT_OK)
        return rc == JOT_E_NOMEM ? rc : JOT_E_STATUS_LIST;
    /* ttl and exp win over the HTTP caching headers (draft, "Status List Response") */
    int64_t age = has_ttl ? ttl : -1;
    if (l->has_exp) {
        int64_t left = l->exp - wall_now();
        left = left < 0 ? 0 : left;
        age = age < 0 || left < age ? left : age;
    }
    if (age >= 0)
        *io_max_age = age;
    return JOT_OK;
}

static jot_err_t parse_list(void *ctx, const char *body, size_t len, int64_t *io_max_age,
                            void **out_obj, char err[JOT_FETCH_ERRMSG])
{
    list_entry_t *e = ctx;
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
        len--; /* the compact JWS, perhaps with a final newline */
    jot_token_t *t = NULL;
    jot_err_t rc = jot_verify(e->sc->v, body, len, &t);
    if (rc != JOT_OK) {
        snprintf(err, JOT_FETCH_ERRMSG, "status list token: %s", jot_strerror(rc));
        return rc == JOT_E_NOMEM ? rc : JOT_E_STATUS_LIST;
    }
    status_list_t *l = jot__calloc(1, sizeof *l);
    rc = l ? read_list(e, jot_token_claims(t), io_max_age, l, err) : JOT_E_NOMEM;
    jot_token_free(t);
    if (rc != JOT_OK) {
        free_list(l);
        return rc;
    }
    *out_obj = l;
    return JOT_OK;
}

void jot_status_opts_init(jot_status_opts_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    jot_remote_opts_init(&opts->fetch);
    /* lists change more often than keys: their ttl rules; without one, refetch often */
    opts->fetch.min_cache_s = 1;
    opts->fetch.max_cache_s = 3600;
    opts->max_list_bytes = 16u * 1024u * 1024u;
}

jot_err_t jot_status_checker_new(const jot_status_opts_t *opts, const jot_keyset_t *keys,
                                 jot_remote_keyset_t *remote_keys, jot_status_checker_t **out_sc)
{
    if (!opts || !out_sc || (!keys && !remote_keys) || !opts->uri_prefix || !opts->uri_prefix[0] ||
        !opts->alg_mask || opts->max_list_bytes == 0)
        return JOT_E_INVAL;
    if (!jot__fetch_available())
        return JOT_E_UNSUPPORTED;
    jot_status_opts_t o = *opts;
    jot_err_t rc = jot__remote_opts_check(&opts->fetch, &o.fetch);
    if (rc == JOT_OK)
        rc = jot__fetch_check_url(opts->uri_prefix, o.fetch.allow_http != 0);
    if (rc != JOT_OK)
        return rc;
    jot_status_checker_t *sc = jot__calloc(1, sizeof *sc);
    if (!sc)
        return JOT_E_NOMEM;
    sc->opts = o;
    sc->prefix = jot__strdup(opts->uri_prefix);
    rc = sc->prefix ? jot_verifier_new(&sc->v) : JOT_E_NOMEM;
    if (rc == JOT_OK) {
        sc->opts.uri_prefix = sc->prefix;
        if (keys)
            jot_verifier_set_keyset(sc->v, keys);
        else
            jot_verifier_set_remote_keyset(sc->v, remote_keys);
        jot_verifier_set_algs(sc->v, o.alg_mask);
        jot_verifier_allow_no_exp(sc->v, 1);
        /* a list for a million sessions is larger than any access token: up to the body */
        sc->v->max_payload = o.fetch.max_body;
        rc = jot_verifier_set_typ(sc->v, "statuslist+jwt");
    }
    if (rc != JOT_OK) {
        jot_verifier_free(sc->v);
        jot_free(sc->prefix);
        jot_free(sc);
        return rc;
    }
    pthread_mutex_init(&sc->mu, NULL);
    *out_sc = sc;
    return JOT_OK;
}

void jot_status_checker_free(jot_status_checker_t *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n; i++) {
        jot__rdoc_destroy(&sc->lists[i]->doc);
        jot_free(sc->lists[i]);
    }
    pthread_mutex_destroy(&sc->mu);
    jot_verifier_free(sc->v);
    jot_free(sc->prefix);
    jot_free(sc);
}

/* The cache entry of \p uri (NUL-terminated), made on first use. */
static jot_err_t entry_for(jot_status_checker_t *sc, const char *uri, list_entry_t **out)
{
    jot_err_t rc = JOT_OK;
    pthread_mutex_lock(&sc->mu);
    list_entry_t *e = NULL;
    for (size_t i = 0; i < sc->n && !e; i++)
        if (strcmp(sc->lists[i]->doc.url, uri) == 0)
            e = sc->lists[i];
    if (!e) {
        if (sc->n >= JOT_STATUS_MAX_LISTS)
            rc = JOT_E_TOOBIG;
        else if (jot__fetch_check_url(uri, sc->opts.fetch.allow_http != 0) != JOT_OK)
            rc = JOT_E_STATUS_URI;
        else if (!(e = jot__calloc(1, sizeof *e)))
            rc = JOT_E_NOMEM;
        if (rc == JOT_OK) {
            e->sc = sc;
            rc = jot__rdoc_init(&e->doc, uri, &sc->opts.fetch, "application/statuslist+jwt",
                                parse_list, free_list, e);
            if (rc == JOT_OK)
                sc->lists[sc->n++] = e;
            else
                jot_free(e);
        }
    }
    pthread_mutex_unlock(&sc->mu);
    if (rc == JOT_OK)
        *out = e;
    return rc;
}

/* Remember why a check failed (the list itself was fine), for jot_status_checker_errmsg(). */
static void check_failed(jot_status_checker_t *sc, const char *why, uint64_t idx)
{
    pthread_mutex_lock(&sc->mu);
    if (why)
        snprintf(sc->errmsg, sizeof sc->errmsg, "%s", why);
    else
        snprintf(sc->errmsg, sizeof sc->errmsg, "index %llu beyond the status list",
                 (unsigned long long)idx);
    pthread_mutex_unlock(&sc->mu);
}

jot_err_t jot_status_check(jot_status_checker_t *sc, const char *uri, size_t uri_len, uint64_t idx,
                           unsigned *out_status)
{
    if (!sc || !uri || !out_status)
        return JOT_E_INVAL;
    size_t plen = strlen(sc->prefix);
    char u[MAX_URI_LEN + 1];
    if (uri_len > MAX_URI_LEN || uri_len < plen || memchr(uri, '\0', uri_len) ||
        memcmp(uri, sc->prefix, plen) != 0) {
        check_failed(sc, "status list URI not under the allowed prefix", idx);
        return JOT_E_STATUS_URI;
    }
    memcpy(u, uri, uri_len);
    u[uri_len] = '\0';
    list_entry_t *e = NULL;
    jot_err_t rc = entry_for(sc, u, &e);
    jot_rdoc_ref_t *ref = NULL;
    if (rc == JOT_OK)
        rc = jot__rdoc_acquire(&e->doc, JOT_RDOC_CACHED, &ref);
    int64_t now = wall_now();
    const status_list_t *l = rc == JOT_OK && ref ? ref->obj : NULL;
    if (l && l->has_exp && now >= l->exp) {
        /* past the list's exp: a new one (at most one fetch per cooldown); the old one only
         * within max_stale of its exp */
        jot__rdoc_release(&e->doc, ref);
        ref = NULL;
        rc = jot__rdoc_acquire(&e->doc, JOT_RDOC_NEWER, &ref);
        l = rc == JOT_OK && ref ? ref->obj : NULL;
        if (l && l->has_exp && now >= l->exp && now - l->exp >= sc->opts.fetch.max_stale_s)
            rc = JOT_E_STALE;
    }
    unsigned v = 0;
    if (rc != JOT_OK)
        l = NULL;
    if (l) {
        rc = jot__status_get(l->bytes, l->len, l->bits, idx, &v);
        if (rc != JOT_OK)
            check_failed(sc, NULL, idx);
    } else if (rc == JOT_OK) {
        rc = JOT_E_STATUS_LIST; /* never: a cached document always has its list */
    }
    if (ref)
        jot__rdoc_release(&e->doc, ref);
    if (rc != JOT_OK)
        return rc;
    *out_status = v;
    return JOT_OK;
}

uint64_t jot_status_checker_fetches(jot_status_checker_t *sc)
{
    if (!sc)
        return 0;
    uint64_t n = 0;
    pthread_mutex_lock(&sc->mu);
    for (size_t i = 0; i < sc->n; i++)
        n += jot__rdoc_fetches(&sc->lists[i]->doc);
    pthread_mutex_unlock(&sc->mu);
    return n;
}

void jot_status_checker_errmsg(jot_status_checker_t *sc, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    if (!sc)
        return;
    pthread_mutex_lock(&sc->mu);
    /* the latest list fetch failure wins over a check failure */
    snprintf(buf, cap, "%s", sc->errmsg);
    for (size_t i = 0; i < sc->n; i++) {
        char m[JOT_FETCH_ERRMSG];
        jot__rdoc_errmsg(&sc->lists[i]->doc, m, sizeof m);
        if (m[0])
            snprintf(buf, cap, "%s", m);
    }
    pthread_mutex_unlock(&sc->mu);
}

void jot_verifier_set_status_checker(jot_verifier_t *v, jot_status_checker_t *sc)
{
    if (v)
        v->status = sc;
}

/* The token's status.status_list {idx, uri}, then its status. The claim is read with the
 * fast views of jview.c (no jansson tree): this runs on every verification. */
jot_err_t jot__status_check_token(jot_status_checker_t *sc, const jot_jview_t *claims)
{
    const jot_jmember_t *m = jot__jview_get(claims, "status");
    if (!m)
        return JOT_E_MISSING_CLAIM;
    if (m->v.type != JOT_J_OBJECT)
        return JOT_E_CLAIM_TYPE;
    jot_jview_t *status = NULL, *list = NULL;
    jot_err_t rc = jot__jview_parse(m->raw, m->raw_len, JOT_MAX_PAYLOAD_BYTES, JOT_MAX_JSON_DEPTH,
                                    JOT_MAX_CLAIMS, &status);
    const jot_jmember_t *sl = rc == JOT_OK ? jot__jview_get(status, "status_list") : NULL;
    if (rc == JOT_OK && !sl)
        rc = JOT_E_MISSING_CLAIM;
    else if (rc == JOT_OK && sl->v.type != JOT_J_OBJECT)
        rc = JOT_E_CLAIM_TYPE;
    if (rc == JOT_OK)
        rc = jot__jview_parse(sl->raw, sl->raw_len, JOT_MAX_PAYLOAD_BYTES, JOT_MAX_JSON_DEPTH,
                              JOT_MAX_CLAIMS, &list);
    const jot_jmember_t *idx = rc == JOT_OK ? jot__jview_get(list, "idx") : NULL;
    const jot_jmember_t *uri = rc == JOT_OK ? jot__jview_get(list, "uri") : NULL;
    unsigned v = 0;
    if (rc == JOT_OK && (!idx || !uri))
        rc = JOT_E_MISSING_CLAIM;
    else if (rc == JOT_OK &&
             (idx->v.type != JOT_J_INT || idx->v.i < 0 || uri->v.type != JOT_J_STRING))
        rc = JOT_E_CLAIM_TYPE;
    if (rc == JOT_OK)
        rc = jot_status_check(sc, uri->v.str, uri->v.len, (uint64_t)idx->v.i, &v);
    jot_free(status);
    jot_free(list);
    if (rc == JOT_OK && v != 0)
        rc = JOT_E_REVOKED; /* INVALID, SUSPENDED, or an application status: not VALID */
    return rc;
}
