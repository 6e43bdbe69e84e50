/* Verified-token cache (see vcache.h).
 *
 * Key: plain SHA-256 of the token. A keyed hash is not needed: what must not happen is that
 * a token that was never verified finds the entry of one that was, which needs a SHA-256
 * collision (second preimage, in fact); and an attacker who can compute keys still cannot
 * fill the cache, since only tokens that passed the signature check are put. The set of an
 * entry is taken from the key's first bytes; the whole 32-byte key is compared with
 * jot_ct_equal().
 *
 * Layout: n_sets sets of JOTD_VCACHE_WAYS entries, each set under its own mutex (hits copy
 * a few hundred bytes out, so the critical sections are short and two threads meet only on
 * the same set). Eviction, O(WAYS): an empty or expired way first, else the way whose token
 * expires first. */
#include "vcache.h"
#include "common/sha256.h"

#include "names.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const jotd_verify_header_names[JOTD_VERIFY_HEADERS] = {
    "X-Auth-Subject",     "X-Auth-User",  "X-Auth-Roles",
    "X-Auth-Permissions", "X-Auth-Scope", "X-Auth-Client",
};
static const struct {
    const char *claim;
    char sep;
} header_claims[JOTD_VERIFY_HEADERS] = {
    {"sub", ','},   {"preferred_username", ','}, {"roles", ','}, {"permissions", ','},
    {"scope", ' '}, {"client_id", ','},
};

/* The strings of a blob, in order: jti, sid, introspection, gen, aud, then the headers. */
#define BLOB_STRINGS (5 + JOTD_VERIFY_HEADERS)
#define BLOB_HEADERS 5 /* index of the first header */

typedef struct entry {
    uint8_t key[JOTD_VCACHE_KEY_LEN];
    int64_t exp; /* 0: empty */
    char *blob;
    size_t blob_len;
} entry_t;

typedef struct set {
    pthread_mutex_t mu;
    entry_t way[JOTD_VCACHE_WAYS];
} set_t;

struct jotd_vcache {
    size_t n_sets;
    size_t ways; /* JOTD_VCACHE_WAYS, or fewer for a capacity below one set */
    set_t *sets;
};

/* ---- building an entry from a token ------------------------------------------------- */

/* Header values built from claims: a comma-separated list (X-Auth-Roles) or one string.
 * Role and permission names are restricted when stored; control characters are dropped here
 * all the same so that no claim can ever split a header. */
static char *header_value(const jot_claims_t *c, const char *name, char sep)
{
    size_t n = 0, total = 1;
    const char *v;
    if (jot_claims_get_strings_count(c, name, &n) != JOT_OK)
        return strdup("");
    for (size_t i = 0; i < n; i++)
        if (jot_claims_get_strings_at(c, name, i, &v) == JOT_OK)
            total += strlen(v) + 1;
    char *out = malloc(total), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (jot_claims_get_strings_at(c, name, i, &v) != JOT_OK)
            continue;
        if (p != out)
            *p++ = sep;
        for (; *v; v++)
            if ((unsigned char)*v >= 0x20 && *v != 0x7f)
                *p++ = *v;
    }
    *p = '\0';
    return out;
}

/* RFC 7662 answer for an active token: its claims plus active, token_type, username. Built
 * by appending the three members to the claims' compact JSON (a parse and a re-dump of the
 * claims showed in the profile of uncached /verify); a token that has one of those members
 * itself takes the slow way, where ours override. */
static char *introspection(const jot_claims_t *c)
{
    char *claims = NULL;
    size_t n = 0;
    if (jot_claims_to_json(c, &claims, &n) != JOT_OK)
        return NULL;
    const char *username = NULL;
    if (jot_claims_get_string(c, "preferred_username", &username) != JOT_OK)
        username = NULL;
    char *s = NULL;
    if (!jot_claims_has(c, "active") && !jot_claims_has(c, "token_type") &&
        !jot_claims_has(c, "username") && n >= 2 && claims[n - 1] == '}') {
        static const char extra[] = "\"active\":true,\"token_type\":\"Bearer\"";
        json_t *u = username ? json_string(username) : NULL;
        char *uj = u ? json_dumps(u, JSON_ENCODE_ANY) : NULL;
        json_decref(u);
        if (!username || uj) {
            size_t total = n + 1 + sizeof extra + (uj ? strlen(uj) + 12 : 0) + 2;
            s = malloc(total);
            if (s) /* claims without the '}', then ,"active":..[,"username":..]} */
                snprintf(s, total, "%.*s%s%s%s%s}", (int)(n - 1), claims, n > 2 ? "," : "", extra,
                         uj ? ",\"username\":" : "", uj ? uj : "");
        }
        free(uj);
        jot_free(claims);
        return s;
    }
    json_t *out = json_loads(claims, 0, NULL);
    jot_free(claims);
    if (!out)
        return NULL;
    json_object_set_new(out, "active", json_true());
    json_object_set_new(out, "token_type", json_string("Bearer"));
    if (username)
        json_object_set_new(out, "username", json_string(username));
    s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return s;
}

/* Point the strings of \p v into its blob. */
static void link_blob(jotd_verified_t *v)
{
    const char *s[BLOB_STRINGS];
    const char *p = v->blob;
    for (size_t i = 0; i < BLOB_STRINGS; i++) {
        s[i] = p;
        p += strlen(p) + 1;
    }
    v->jti = s[0];
    v->sid = s[1];
    v->introspection = s[2];
    v->aud = s[4];
    for (size_t i = 0; i < JOTD_VERIFY_HEADERS; i++)
        v->hdr[i] = s[BLOB_HEADERS + i];
    /* written by jotd_verified_from_token() as a decimal; a generation past 2^53 (never made
     * by a store) reads as the largest, voided by nothing */
    if (jotd_parse_id(s[3], &v->gen) != 0)
        v->gen = INT64_MAX;
}

int jotd_verified_from_token(const jot_token_t *t, bool with_introspection, jotd_verified_t *out)
{
    const jot_claims_t *c = jot_token_claims(t);
    const char *jti = NULL, *sid = NULL;
    int64_t exp;
    memset(out, 0, sizeof *out);
    if (jot_claims_get_string(c, "jti", &jti) != JOT_OK ||
        jot_claims_get_int(c, "exp", &exp) != JOT_OK)
        return -1;
    if (jot_claims_get_string(c, "sid", &sid) != JOT_OK)
        sid = "";
    int64_t gen = 0;
    if (jot_claims_get_int(c, JOTD_GEN_CLAIM, &gen) != JOT_OK)
        gen = 0;
    char gen_text[24];
    snprintf(gen_text, sizeof gen_text, "%lld", (long long)gen);
    char *parts[BLOB_STRINGS] = {0};
    int rc = -1;
    parts[0] = strdup(jti);
    parts[1] = strdup(sid);
    parts[2] = with_introspection ? introspection(c) : strdup("");
    parts[3] = strdup(gen_text);
    parts[4] = header_value(c, "aud", '\n'); /* control characters dropped: '\n' separates */
    for (size_t i = 0; i < JOTD_VERIFY_HEADERS; i++)
        parts[BLOB_HEADERS + i] = header_value(c, header_claims[i].claim, header_claims[i].sep);
    size_t total = 0;
    for (size_t i = 0; i < BLOB_STRINGS; i++) {
        if (!parts[i])
            goto done;
        total += strlen(parts[i]) + 1;
    }
    out->blob = malloc(total);
    if (!out->blob)
        goto done;
    char *p = out->blob;
    for (size_t i = 0; i < BLOB_STRINGS; i++) {
        size_t n = strlen(parts[i]) + 1;
        memcpy(p, parts[i], n);
        p += n;
    }
    out->blob_len = total;
    out->exp = exp;
    link_blob(out);
    rc = 0;
done:
    for (size_t i = 0; i < BLOB_STRINGS; i++)
        free(parts[i]);
    return rc;
}

void jotd_verified_clear(jotd_verified_t *v)
{
    if (!v)
        return;
    free(v->blob);
    memset(v, 0, sizeof *v);
}

/* ---- the cache ------------------------------------------------------------------------- */

jotd_vcache_t *jotd_vcache_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    jotd_vcache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ways = capacity < JOTD_VCACHE_WAYS ? capacity : JOTD_VCACHE_WAYS;
    c->n_sets = capacity / c->ways;
    c->sets = calloc(c->n_sets, sizeof *c->sets);
    if (!c->sets) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->n_sets; i++)
        pthread_mutex_init(&c->sets[i].mu, NULL);
    return c;
}

size_t jotd_vcache_count(jotd_vcache_t *c, int64_t now, size_t *out_capacity)
{
    size_t n = 0;
    if (out_capacity)
        *out_capacity = c ? c->n_sets * c->ways : 0;
    for (size_t i = 0; c && i < c->n_sets; i++) {
        pthread_mutex_lock(&c->sets[i].mu);
        for (size_t w = 0; w < c->ways; w++)
            n += c->sets[i].way[w].exp > now;
        pthread_mutex_unlock(&c->sets[i].mu);
    }
    return n;
}

static void entry_clear(entry_t *e)
{
    free(e->blob);
    memset(e, 0, sizeof *e);
}

void jotd_vcache_flush(jotd_vcache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_sets; i++) {
        pthread_mutex_lock(&c->sets[i].mu);
        for (size_t w = 0; w < c->ways; w++)
            entry_clear(&c->sets[i].way[w]);
        pthread_mutex_unlock(&c->sets[i].mu);
    }
}

void jotd_vcache_free(jotd_vcache_t *c)
{
    if (!c)
        return;
    jotd_vcache_flush(c);
    for (size_t i = 0; i < c->n_sets; i++)
        pthread_mutex_destroy(&c->sets[i].mu);
    free(c->sets);
    free(c);
}

void jotd_vcache_key(const char *token, size_t len, uint8_t out[JOTD_VCACHE_KEY_LEN])
{
    jotx_sha256(token, len, out); /* common/sha256.h: the algorithm fetched once */
}

static set_t *set_of(jotd_vcache_t *c, const uint8_t key[JOTD_VCACHE_KEY_LEN])
{
    uint64_t h = 0;
    for (size_t i = 0; i < 8; i++)
        h = h << 8 | key[i];
    return &c->sets[h % c->n_sets];
}

bool jotd_vcache_get(jotd_vcache_t *c, const uint8_t key[JOTD_VCACHE_KEY_LEN], int64_t now,
                     jotd_verified_t *out)
{
    if (!c)
        return false;
    set_t *s = set_of(c, key);
    bool hit = false;
    pthread_mutex_lock(&s->mu);
    for (size_t w = 0; w < c->ways; w++) {
        entry_t *e = &s->way[w];
        if (e->exp > now && jot_ct_equal(e->key, key, JOTD_VCACHE_KEY_LEN)) {
            out->blob = malloc(e->blob_len);
            if (out->blob) {
                memcpy(out->blob, e->blob, e->blob_len);
                out->blob_len = e->blob_len;
                out->exp = e->exp;
                hit = true;
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (hit)
        link_blob(out);
    return hit;
}

void jotd_vcache_put(jotd_vcache_t *c, const uint8_t key[JOTD_VCACHE_KEY_LEN],
                     const jotd_verified_t *v, int64_t now)
{
    if (!c || !v->blob || v->exp <= now)
        return;
    char *blob = malloc(v->blob_len);
    if (!blob)
        return;
    memcpy(blob, v->blob, v->blob_len);
    set_t *s = set_of(c, key);
    pthread_mutex_lock(&s->mu);
    entry_t *victim = NULL;
    for (size_t w = 0; w < c->ways && !victim; w++) /* the same token (two misses at once) */
        if (s->way[w].exp > now && jot_ct_equal(s->way[w].key, key, JOTD_VCACHE_KEY_LEN))
            victim = &s->way[w];
    if (!victim) { /* an empty or expired way, else the one that expires first */
        victim = &s->way[0];
        for (size_t w = 0; w < c->ways; w++) {
            entry_t *e = &s->way[w];
            if (e->exp <= now) {
                victim = e;
                break;
            }
            if (e->exp < victim->exp)
                victim = e;
        }
    }
    entry_clear(victim);
    memcpy(victim->key, key, JOTD_VCACHE_KEY_LEN);
    victim->exp = v->exp;
    victim->blob = blob;
    victim->blob_len = v->blob_len;
    pthread_mutex_unlock(&s->mu);
}
