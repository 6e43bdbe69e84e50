/* Token Status Lists: the bit array, its ZLIB + base64url encoding, the signed token and the
 * cache of signed lists (statuslist.h). */
#include "statuslist.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* zlib's default level. Measured on 2^20 bits with 1 % set at random (docs/PERFORMANCE.md):
 * level 6 builds in ~4 ms to 16 KB, level 9 in ~58 ms to 14 KB; a list is rebuilt after
 * every revocation that a fetch follows, so the faster one. */
#define JOTD_STATUS_LIST_ZLEVEL 6

/* ---- the bit array --------------------------------------------------------------------------- */

void jotd_statuslist_set(uint8_t *bits, size_t nbytes, uint64_t idx)
{
    if (idx / 8 < nbytes)
        bits[idx / 8] = (uint8_t)(bits[idx / 8] | (1u << (idx % 8)));
}

int jotd_statuslist_get(const uint8_t *bits, size_t nbytes, uint64_t idx)
{
    return idx / 8 < nbytes ? (bits[idx / 8] >> (idx % 8)) & 1 : 0;
}

jotd_rc_t jotd_statuslist_encode(const uint8_t *bits, size_t nbytes, char **out_lst)
{
    if (!bits || !out_lst || nbytes == 0 || nbytes > UINT32_MAX / 2)
        return JOTD_E_INVAL;
    uLong cap = compressBound((uLong)nbytes);
    uint8_t *z = malloc(cap);
    if (!z)
        return JOTD_E_NOMEM;
    uLongf zlen = cap;
    if (compress2(z, &zlen, bits, (uLong)nbytes, JOTD_STATUS_LIST_ZLEVEL) != Z_OK) {
        free(z);
        return JOTD_E_NOMEM; /* the only failure left with a bound-sized output */
    }
    char *lst = malloc(jot_b64url_encoded_len(zlen) + 1);
    if (!lst) {
        free(z);
        return JOTD_E_NOMEM;
    }
    jot_b64url_encode(lst, z, zlen);
    free(z);
    *out_lst = lst;
    return JOTD_OK;
}

jotd_rc_t jotd_statuslist_decode(const char *lst, size_t len, size_t max, uint8_t **out,
                                 size_t *out_n)
{
    if (!lst || !out || !out_n || max == 0 || max > UINT32_MAX / 2 || len > UINT32_MAX / 2)
        return JOTD_E_INVAL;
    uint8_t *z = malloc(len / 4 * 3 + 3);
    uint8_t *bits = malloc(max + 1); /* one more: a larger result is detected, not cut */
    size_t zlen = 0;
    jotd_rc_t r = JOTD_OK;
    if (!z || !bits)
        r = JOTD_E_NOMEM;
    else if (jot_b64url_decode(z, &zlen, lst, len) != JOT_OK)
        r = JOTD_E_MALFORMED;
    if (r == JOTD_OK) {
        z_stream s = {0};
        if (inflateInit(&s) != Z_OK) {
            r = JOTD_E_NOMEM;
        } else {
            s.next_in = z;
            s.avail_in = (uInt)zlen;
            s.next_out = bits;
            s.avail_out = (uInt)(max + 1);
            int zr = inflate(&s, Z_FINISH);
            if (zr == Z_BUF_ERROR && s.avail_out == 0)
                r = JOTD_E_TOOMANY;
            else if (zr != Z_STREAM_END || s.avail_in != 0)
                r = JOTD_E_MALFORMED;
            else if (s.total_out > max)
                r = JOTD_E_TOOMANY;
            else
                *out_n = s.total_out;
            inflateEnd(&s);
        }
    }
    free(z);
    if (r != JOTD_OK) {
        free(bits);
        return r;
    }
    *out = bits;
    return JOTD_OK;
}

int jotd_statuslist_uri(const char *issuer, int64_t k, char *out, size_t size)
{
    size_t n = strlen(issuer);
    while (n > 0 && issuer[n - 1] == '/')
        n--;
    int w = snprintf(out, size, "%.*s/statuslists/%lld", (int)(n > 65536 ? 65536 : n), issuer,
                     (long long)k);
    return w < 0 || (size_t)w >= size || n > 65536 ? -1 : 0;
}

int jotd_statuslist_parse_k(const char *s, int64_t *out)
{
    if (!s || !*s || (s[0] == '0' && s[1] != '\0'))
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        int d = *p - '0';
        if (v > (JOTD_STATUS_LIST_MAX_K - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* ---- a Status List Token --------------------------------------------------------------------- */

typedef struct fill_ctx {
    uint8_t *bits;
    int64_t first;
} fill_ctx_t;

static void fill(void *ctx, int64_t idx)
{
    fill_ctx_t *f = ctx;
    if (idx >= f->first)
        jotd_statuslist_set(f->bits, JOTD_STATUS_LIST_BYTES, (uint64_t)(idx - f->first));
}

/* Sign the Status List Token of \p uri holding \p lst. A list of 2^20 entries whose bits do
 * not compress (about 235 KB signed) is larger than the 64 KiB tokens jot_jwt_sign makes:
 * jot_jws_sign_large, with the header and claims written here. */
static jotd_rc_t sign_list(const jotd_statuslist_params_t *p, const char *uri, const char *lst,
                           int64_t now, char **out, size_t *out_len)
{
    jot_alg_t alg = jot_key_alg(p->key);
    if (alg == JOT_ALG_UNSET)
        alg = jot_key_default_alg(p->key);
    const char *kid = jot_key_kid(p->key);
    json_t *h = json_pack("{s:s, s:s}", "alg", jot_alg_name(alg), "typ", "statuslist+jwt");
    json_int_t iat = now, exp = (json_int_t)now + (json_int_t)p->lifetime, ttl = p->ttl;
    json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:I, s:{s:i, s:s}}", "sub", uri, "iss", p->issuer,
                          "iat", iat, "exp", exp, "ttl", ttl, "status_list", "bits", 1, "lst", lst);
    if (h && kid)
        json_object_set_new(h, "kid", json_string(kid));
    char *hs = h ? json_dumps(h, JSON_COMPACT) : NULL;
    char *cs = c ? json_dumps(c, JSON_COMPACT) : NULL;
    jotd_rc_t r = JOTD_E_NOMEM;
    if (hs && cs) {
        jot_err_t e = jot_jws_sign_large(p->key, alg, hs, strlen(hs), (const uint8_t *)cs,
                                         strlen(cs), JOT_MAX_LARGE_TOKEN_LEN, out, out_len);
        r = e == JOT_OK ? JOTD_OK : e == JOT_E_NOMEM ? JOTD_E_NOMEM : JOTD_E_CRYPTO;
    }
    free(hs);
    free(cs);
    json_decref(h);
    json_decref(c);
    return r;
}

jotd_rc_t jotd_statuslist_token(jotd_store_t *st, const jotd_statuslist_params_t *p, int64_t k,
                                int64_t now, char **out_token, size_t *out_len)
{
    if (!st || !p || !p->issuer || !p->key || !out_token || k < 0 || k > JOTD_STATUS_LIST_MAX_K ||
        p->ttl <= 0 || p->lifetime < p->ttl)
        return JOTD_E_INVAL;
    size_t urilen = strlen(p->issuer) + JOTD_STATUS_URI_EXTRA;
    char *uri = malloc(urilen);
    uint8_t *bits = calloc(1, JOTD_STATUS_LIST_BYTES);
    char *lst = NULL, *tok = NULL;
    size_t toklen = 0;
    jotd_rc_t r = uri && bits ? JOTD_OK : JOTD_E_NOMEM;
    if (r == JOTD_OK && jotd_statuslist_uri(p->issuer, k, uri, urilen) < 0)
        r = JOTD_E_INVAL;
    fill_ctx_t f = {.bits = bits, .first = k * JOTD_STATUS_LIST_BITS};
    int64_t next = 0;
    if (r == JOTD_OK)
        r = jotd_store_status_read(st, f.first, JOTD_STATUS_LIST_BITS, fill, &f, &next);
    if (r == JOTD_OK && next <= f.first)
        r = JOTD_E_NOTFOUND; /* no index of this list was ever handed out */
    if (r == JOTD_OK)
        r = jotd_statuslist_encode(bits, JOTD_STATUS_LIST_BYTES, &lst);
    if (r == JOTD_OK)
        r = sign_list(p, uri, lst, now, &tok, &toklen);
    if (r == JOTD_OK) {
        /* jot_free'd memory is not free()'s: hand out a plain copy */
        *out_token = malloc(toklen + 1);
        if (!*out_token) {
            r = JOTD_E_NOMEM;
        } else {
            memcpy(*out_token, tok, toklen + 1);
            if (out_len)
                *out_len = toklen;
        }
    }
    jot_free(tok);
    free(lst);
    free(bits);
    free(uri);
    return r;
}

/* ---- the cache ------------------------------------------------------------------------------- */

typedef struct entry {
    char *token; /* NULL: none */
    size_t len;
    int64_t built_at;
    uint64_t gen;         /* the change counter when its store read began */
    const jot_key_t *key; /* the key that signed it (compared, never dereferenced) */
} entry_t;

struct jotd_statuslists {
    /* lock guards entries and n, held only to look up or store (never during a build, so
     * that the event loop never waits behind a store read); build_lock makes builds one at a
     * time: requests that find a list stale while it is being built wait for that build
     * and take its result instead of building again */
    pthread_mutex_t lock;
    pthread_mutex_t build_lock;
    entry_t *entries; /* indexed by K */
    size_t n;
    atomic_uint_fast64_t gen; /* bumped by jotd_statuslists_changed */
};

jotd_statuslists_t *jotd_statuslists_new(void)
{
    jotd_statuslists_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (pthread_mutex_init(&c->build_lock, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    atomic_init(&c->gen, 0);
    return c;
}

void jotd_statuslists_free(jotd_statuslists_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->entries[i].token);
    free(c->entries);
    pthread_mutex_destroy(&c->build_lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void jotd_statuslists_changed(jotd_statuslists_t *c)
{
    if (c)
        atomic_fetch_add(&c->gen, 1);
}

static bool fresh(const entry_t *e, uint64_t gen, const jotd_statuslist_params_t *p, int64_t now)
{
    /* a list is rebuilt at half its ttl, so that what services cache is at most 1.5 ttl old */
    int64_t half = p->ttl / 2 > 0 ? p->ttl / 2 : 1;
    return e->token && e->gen == gen && e->key == p->key && now >= e->built_at &&
           now - e->built_at < half;
}

static jotd_rc_t copy_out(const entry_t *e, char **out, size_t *out_len)
{
    char *t = malloc(e->len + 1);
    if (!t)
        return JOTD_E_NOMEM;
    memcpy(t, e->token, e->len + 1);
    *out = t;
    *out_len = e->len;
    return JOTD_OK;
}

/* The fresh cached token of list k into *out, under c->lock: JOTD_OK, or JOTD_E_NOTFOUND
 * (none, or stale). */
static jotd_rc_t cached(jotd_statuslists_t *c, const jotd_statuslist_params_t *p, int64_t k,
                        int64_t now, char **out, size_t *out_len)
{
    jotd_rc_t r = JOTD_E_NOTFOUND;
    pthread_mutex_lock(&c->lock);
    uint64_t gen = atomic_load(&c->gen);
    if ((size_t)k < c->n && fresh(&c->entries[k], gen, p, now))
        r = copy_out(&c->entries[k], out, out_len);
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Keep \p tok (taken over) as list k's, built from a store read that began at \p gen. */
static void store_entry(jotd_statuslists_t *c, const jotd_statuslist_params_t *p, int64_t k,
                        int64_t now, uint64_t gen, char *tok, size_t len)
{
    pthread_mutex_lock(&c->lock);
    if ((size_t)k >= c->n && (size_t)k < SIZE_MAX / sizeof *c->entries - 1) {
        entry_t *grown = realloc(c->entries, ((size_t)k + 1) * sizeof *grown);
        if (grown) { /* else: answered, not cached */
            memset(grown + c->n, 0, ((size_t)k + 1 - c->n) * sizeof *grown);
            c->entries = grown;
            c->n = (size_t)k + 1;
        }
    }
    if ((size_t)k < c->n) {
        entry_t *e = &c->entries[k];
        free(e->token);
        *e = (entry_t){.token = tok, .len = len, .built_at = now, .gen = gen, .key = p->key};
        tok = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    free(tok);
}

jotd_rc_t jotd_statuslists_get(jotd_statuslists_t *c, jotd_store_t *st,
                               const jotd_statuslist_params_t *p, int64_t k, int64_t now,
                               bool may_build, char **out, size_t *out_len)
{
    if (!p || !out || !out_len || k < 0 || k > JOTD_STATUS_LIST_MAX_K)
        return JOTD_E_INVAL;
    if (!c)
        return may_build ? jotd_statuslist_token(st, p, k, now, out, out_len) : JOTD_E_BUSY;
    jotd_rc_t r = cached(c, p, k, now, out, out_len);
    if (r != JOTD_E_NOTFOUND)
        return r;
    if (!may_build)
        return JOTD_E_BUSY;
    pthread_mutex_lock(&c->build_lock);
    r = cached(c, p, k, now, out, out_len); /* built by the holder we waited for? */
    if (r == JOTD_E_NOTFOUND) {
        /* gen is read before the store: an event applied meanwhile makes the next call
         * build again, never the other way round */
        uint64_t gen = atomic_load(&c->gen);
        char *tok = NULL;
        size_t len = 0;
        r = jotd_statuslist_token(st, p, k, now, &tok, &len);
        if (r == JOTD_OK) {
            char *copy = malloc(len + 1);
            if (!copy) {
                free(tok);
                r = JOTD_E_NOMEM;
            } else {
                memcpy(copy, tok, len + 1);
                store_entry(c, p, k, now, gen, tok, len);
                *out = copy;
                *out_len = len;
            }
        }
    }
    pthread_mutex_unlock(&c->build_lock);
    return r;
}
