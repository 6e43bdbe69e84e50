/* Key sets (RFC 7517 §5): a bounded list of keys with unique kids, JWKS import and export. */
#include "internal.h"

#include <openssl/err.h>
#include <string.h>

/* From jwk.c. */

struct jot_keyset {
    size_t count;
    jot_key_t *keys[JOT_MAX_KEYS];
};

jot_err_t jot_keyset_new(jot_keyset_t **out_set)
{
    if (!out_set)
        return JOT_E_INVAL;
    jot_keyset_t *set = jot__calloc(1, sizeof *set);
    if (!set)
        return JOT_E_NOMEM;
    *out_set = set;
    return JOT_OK;
}

void jot_keyset_free(jot_keyset_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        jot_key_free(set->keys[i]);
    jot_memzero(set, sizeof *set);
    jot_free(set);
}

jot_err_t jot_keyset_add(jot_keyset_t *set, jot_key_t *key)
{
    if (!set || !key)
        return JOT_E_INVAL;
    for (size_t i = 0; i < set->count; i++) {
        if (set->keys[i] == key)
            return JOT_E_INVAL; /* the set would free it twice */
        if (key->kid && set->keys[i]->kid && strcmp(key->kid, set->keys[i]->kid) == 0)
            return JOT_E_KEYSET;
    }
    if (set->count >= JOT_MAX_KEYS)
        return JOT_E_TOOBIG;
    set->keys[set->count++] = key;
    return JOT_OK;
}

size_t jot_keyset_count(const jot_keyset_t *set)
{
    return set ? set->count : 0;
}

const jot_key_t *jot_keyset_get(const jot_keyset_t *set, size_t i)
{
    return set && i < set->count ? set->keys[i] : NULL;
}

const jot_key_t *jot_keyset_find(const jot_keyset_t *set, const char *kid, size_t kid_len)
{
    if (!set || (!kid && kid_len))
        return NULL;
    for (size_t i = 0; i < set->count; i++) {
        const char *k = set->keys[i]->kid;
        /* a kid is an opaque byte string: same length, same bytes (a NUL inside the
         * query can never match, as stored kids are C strings) */
        if (k && strlen(k) == kid_len && (kid_len == 0 || memcmp(k, kid, kid_len) == 0))
            return set->keys[i];
    }
    return NULL;
}

static jot_err_t import_keys(json_t *keys, jot_keyset_t *set)
{
    size_t n = json_array_size(keys);
    if (n > JOT_MAX_KEYS)
        return JOT_E_TOOBIG;
    size_t with_private = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *member = json_array_get(keys, i);
        if (!json_is_object(member))
            return JOT_E_KEYSET;
        jot_key_t *key = NULL;
        jot_err_t rc = jot__key_from_json(member, &key);
        /* RFC 7517 §5: ignore keys of a type, curve, algorithm (RSA-OAEP, A256GCM...) or
         * strength this library does not use */
        if (rc == JOT_E_UNSUPPORTED || rc == JOT_E_KEY_WEAK || rc == JOT_E_ALG_UNKNOWN)
            continue;
        if (rc != JOT_OK)
            return rc;
        with_private += key->has_private;
        if ((rc = jot_keyset_add(set, key)) != JOT_OK) {
            jot_key_free(key);
            return rc;
        }
    }
    /* secret or private keys beside public ones: a set meant for signing was mixed with one
     * meant for verifying (Wycheproof MixedKeySet) */
    if (with_private && with_private != set->count)
        return JOT_E_KEYSET;
    return JOT_OK;
}

jot_err_t jot_keyset_from_jwks(const char *json, size_t len, jot_keyset_t **out_set)
{
    if (!json || !out_set)
        return JOT_E_INVAL;
    json_t *obj = NULL;
    jot_err_t rc = jot__json_parse(json, len, JOT_MAX_JWK_BYTES, JOT_MAX_JSON_DEPTH, false, &obj);
    if (rc != JOT_OK)
        return rc;
    json_t *keys = json_is_object(obj) ? json_object_get(obj, "keys") : NULL;
    jot_keyset_t *set = NULL;
    if (!json_is_array(keys))
        rc = JOT_E_KEYSET;
    else if ((rc = jot_keyset_new(&set)) == JOT_OK)
        rc = import_keys(keys, set);
    /* wipe every member, also those after the one that failed */
    for (size_t i = 0; json_is_array(keys) && i < json_array_size(keys); i++)
        jot__jwk_wipe_json(json_array_get(keys, i));
    json_decref(obj);
    if (rc != JOT_OK) {
        jot_keyset_free(set);
        ERR_clear_error();
        return rc;
    }
    *out_set = set;
    return JOT_OK;
}

jot_err_t jot_keyset_to_jwks(const jot_keyset_t *set, unsigned flags, char **out_json,
                             size_t *out_len)
{
    if (!set || !out_json || (flags & ~JOT_JWK_PRIVATE))
        return JOT_E_INVAL;
    bool priv = flags & JOT_JWK_PRIVATE;
    char *parts[JOT_MAX_KEYS] = {0};
    size_t lens[JOT_MAX_KEYS] = {0};
    size_t total = sizeof "{\"keys\":[]}" - 1;
    jot_err_t rc = JOT_OK;
    for (size_t i = 0; i < set->count && rc == JOT_OK; i++) {
        const jot_key_t *key = set->keys[i];
        if (!priv && key->kty == JOT_KTY_OCT)
            continue; /* a secret has no public form: a public JWKS leaves it out */
        rc = jot_key_to_jwk(key, flags, &parts[i], &lens[i]);
        if (rc == JOT_OK)
            total += lens[i] + 1; /* and a comma */
    }
    char *out = rc == JOT_OK ? jot__malloc(total + 1) : NULL;
    if (rc == JOT_OK && !out)
        rc = JOT_E_NOMEM;
    size_t w = 0;
    if (rc == JOT_OK) {
        memcpy(out, "{\"keys\":[", 9);
        w = 9;
        bool first = true;
        for (size_t i = 0; i < set->count; i++) {
            if (!parts[i])
                continue;
            if (!first)
                out[w++] = ',';
            first = false;
            memcpy(out + w, parts[i], lens[i]);
            w += lens[i];
        }
        memcpy(out + w, "]}", 3);
        w += 2;
    }
    for (size_t i = 0; i < set->count; i++)
        if (parts[i]) /* private JWKs hold secrets */
            jot__free_secret(parts[i], lens[i]);
    if (rc != JOT_OK)
        return rc;
    *out_json = out;
    if (out_len)
        *out_len = w;
    return JOT_OK;
}
