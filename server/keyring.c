/* The signing keys of jotd in the store (see keyring.h for their life).
 *
 * A key's row holds its public JWK in the clear (the JWKS is built from it, without opening
 * anything) and its private JWK sealed with the KEK under the purpose "signing-key:<kid>".
 * Both are checked against the kid (the RFC 7638 thumbprint) when loaded, so that a row
 * cannot be edited to publish or sign with another key than its kid says. */
#include "keyring.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEEWAY 60 /* seconds a retired key outlives the last token it may have signed */
#define PURPOSE_LEN (JOT_THUMBPRINT_LEN + 16)

typedef enum key_state {
    KEY_PUBLISHED,
    KEY_ACTIVE,
    KEY_RETIRED,
    KEY_EXPIRED, /* retired, and every token it signed has expired */
    KEY_REVOKED,
} key_state_t;

static const char *const state_names[] = {"published", "active", "retired", "expired", "revoked"};

typedef struct signer {
    int64_t activate_at;
    jot_key_t *key; /* private */
} signer_t;

struct jotd_keyring {
    signer_t *signers; /* the active key and the published ones, in activation order */
    size_t n_signers;
    jot_keyset_t *verify; /* public keys of the published, active and retired keys */
    char *jwks;           /* jot_free() */
    size_t jwks_len;
    unsigned algs;
    int64_t next_change; /* when a retired key leaves the JWKS; 0: never */
};

static int64_t sat_add(int64_t a, int64_t b)
{
    return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

static jotd_rc_t check_alg(jot_alg_t alg, char *err, size_t errlen)
{
    if (alg <= JOT_ALG_UNSET || alg >= JOT_ALG__COUNT) {
        jotd_seterr(err, errlen, "keyring: no algorithm given");
        return JOTD_E_INVAL;
    }
    if (alg == JOT_ALG_HS256 || alg == JOT_ALG_HS384 || alg == JOT_ALG_HS512) {
        jotd_seterr(err, errlen,
                    "keyring: %s cannot sign access tokens: an HMAC key would have to be "
                    "published in the JWKS; use an asymmetric algorithm (ES256, EdDSA, RS256...)",
                    jot_alg_name(alg));
        return JOTD_E_INVAL;
    }
    return JOTD_OK;
}

/* ---- the lifecycle, from the rows (in the store's order) --------------------------------- */

/* When row i stops signing: the activation of the next unrevoked row, or 0 (none yet). */
static int64_t retires_at(const jotd_key_row_t *rows, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++)
        if (!rows[j].revoked_at)
            return rows[j].activate_at;
    return 0;
}

/* The state of row i at \p now; *until: when a retired (or soon retired) key leaves the
 * JWKS, 0 when it has no successor. */
static key_state_t key_state(const jotd_key_row_t *rows, size_t n, size_t i, int64_t access_ttl,
                             int64_t now, int64_t *until)
{
    *until = 0;
    if (rows[i].revoked_at)
        return KEY_REVOKED;
    int64_t r = retires_at(rows, n, i);
    if (r)
        *until = sat_add(sat_add(r, access_ttl > 0 ? access_ttl : 0), LEEWAY);
    if (rows[i].activate_at > now)
        return KEY_PUBLISHED;
    if (!r || r > now)
        return KEY_ACTIVE;
    return *until > now ? KEY_RETIRED : KEY_EXPIRED;
}

/* The index of the row that signs at \p now, or -1 when none does. */
static long signer_index(const jotd_key_row_t *rows, size_t n, int64_t now)
{
    long s = -1;
    for (size_t i = 0; i < n; i++)
        if (!rows[i].revoked_at && rows[i].activate_at <= now)
            s = (long)i;
    return s;
}

/* ---- rows <-> keys ----------------------------------------------------------------------- */

static void purpose_of(const char *kid, char out[PURPOSE_LEN])
{
    snprintf(out, PURPOSE_LEN, "signing-key:%s", kid);
}

/* Parse \p jwk (private or public) as the key \p row says: kid = thumbprint, alg usable. */
static jotd_rc_t key_of(const jotd_key_row_t *row, const char *jwk, size_t len, bool private_part,
                        jot_key_t **out, char *err, size_t errlen)
{
    jot_alg_t alg;
    jot_key_t *key = NULL;
    char tp[JOT_THUMBPRINT_LEN + 1];
    *out = NULL;
    if (jot_alg_from_name(row->alg, strlen(row->alg), &alg) != JOT_OK ||
        check_alg(alg, NULL, 0) != JOTD_OK) {
        jotd_seterr(err, errlen, "keyring: key %s has an unusable algorithm '%s'", row->kid,
                    row->alg);
        return JOTD_E_IO;
    }
    jot_err_t jrc = jot_key_from_jwk(jwk, len, &key);
    if (jrc != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: key %s: %s", row->kid, jot_strerror(jrc));
        return jrc == JOT_E_NOMEM ? JOTD_E_NOMEM : JOTD_E_IO;
    }
    jotd_rc_t rc = JOTD_E_IO;
    if (jot_key_is_private(key) != private_part || jot_key_kty(key) == JOT_KTY_OCT)
        jotd_seterr(err, errlen, "keyring: key %s: not the %s part of an asymmetric key", row->kid,
                    private_part ? "private" : "public");
    else if (jot_key_thumbprint(key, tp) != JOT_OK || strcmp(tp, row->kid) != 0)
        jotd_seterr(err, errlen, "keyring: key %s does not hold the key its kid names", row->kid);
    else if ((jot_key_alg(key) == JOT_ALG_UNSET && jot_key_set_alg(key, alg) != JOT_OK) ||
             jot_key_alg(key) != alg || jot_key_check_alg(key, alg, private_part) != JOT_OK)
        jotd_seterr(err, errlen, "keyring: key %s cannot be used with %s", row->kid, row->alg);
    else if ((!jot_key_kid(key) || strcmp(jot_key_kid(key), row->kid) != 0) &&
             jot_key_set_kid(key, row->kid) != JOT_OK)
        jotd_seterr(err, errlen, "keyring: out of memory");
    else
        rc = JOTD_OK;
    if (rc != JOTD_OK) {
        jot_key_free(key);
        return rc;
    }
    *out = key;
    return JOTD_OK;
}

static jotd_rc_t open_private(const jotd_key_row_t *row, const jotd_kek_t *kek, jot_key_t **out,
                              char *err, size_t errlen)
{
    char purpose[PURPOSE_LEN];
    uint8_t *jwk = NULL;
    size_t len = 0;
    purpose_of(row->kid, purpose);
    jotd_rc_t rc = jotd_unseal(kek, purpose, row->private_sealed, &jwk, &len, err, errlen);
    if (rc != JOTD_OK)
        return rc;
    rc = key_of(row, (const char *)jwk, len, true, out, err, errlen);
    jot_memzero(jwk, len);
    free(jwk);
    return rc;
}

/* The row of \p key (private, kid = thumbprint), its private part sealed. The caller clears
 * it (jotd_key_row_clear). */
static jotd_rc_t row_of(const jot_key_t *key, jot_alg_t alg, const jotd_kek_t *kek,
                        int64_t created_at, int64_t activate_at, jotd_key_row_t *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    char tp[JOT_THUMBPRINT_LEN + 1], purpose[PURPOSE_LEN];
    char *priv = NULL, *pub = NULL;
    size_t priv_len = 0, pub_len = 0;
    jotd_rc_t rc = JOTD_E_NOMEM;
    if (jot_key_thumbprint(key, tp) != JOT_OK ||
        jot_key_to_jwk(key, JOT_JWK_PRIVATE, &priv, &priv_len) != JOT_OK ||
        jot_key_to_jwk(key, JOT_JWK_PUBLIC, &pub, &pub_len) != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: cannot export a key");
        rc = JOTD_E_CRYPTO;
        goto out;
    }
    purpose_of(tp, purpose);
    out->kid = strdup(tp);
    out->alg = strdup(jot_alg_name(alg));
    out->public_jwk = strdup(pub);
    out->created_at = created_at;
    out->activate_at = activate_at;
    if (!out->kid || !out->alg || !out->public_jwk) {
        jotd_seterr(err, errlen, "keyring: out of memory");
        goto out;
    }
    rc = jotd_seal(kek, purpose, (const uint8_t *)priv, priv_len, &out->private_sealed);
    if (rc != JOTD_OK)
        jotd_seterr(err, errlen, "keyring: cannot seal key %s", tp);
out:
    if (priv)
        jot_memzero(priv, priv_len);
    jot_free(priv);
    jot_free(pub);
    if (rc != JOTD_OK)
        jotd_key_row_clear(out);
    return rc;
}

/* A new key for \p alg as a row (sealed). */
static jotd_rc_t new_row(jot_alg_t alg, const jotd_kek_t *kek, int64_t now, int64_t activate_at,
                         jotd_key_row_t *out, char *err, size_t errlen)
{
    jot_key_t *key = NULL;
    jotd_rc_t rc = check_alg(alg, err, errlen);
    if (rc != JOTD_OK)
        return rc;
    jot_err_t jrc = jot_key_generate(alg, 0, &key);
    if (jrc != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: cannot generate a %s key: %s", jot_alg_name(alg),
                    jot_strerror(jrc));
        return JOTD_E_CRYPTO;
    }
    rc = row_of(key, alg, kek, now, activate_at, out, err, errlen);
    jot_key_free(key);
    return rc;
}

static jotd_rc_t store_err(jotd_rc_t rc, char *err, size_t errlen)
{
    jotd_seterr(err, errlen, "keyring: store: %s", jotd_store_errmsg(NULL));
    return rc;
}

/* ---- ensure: the first key, or the import of DATA/keys ----------------------------------- */

/* Insert the legacy keys whose tokens may still be live, the signing one first (so that a
 * reader in between never sees an older key alone), each activated before the next one. */
static jotd_rc_t import_legacy(jotd_store_t *st, const jotd_kek_t *kek, jotd_legacy_key_t *v,
                               size_t n, int64_t access_ttl, int64_t now, size_t *out_n, char *err,
                               size_t errlen)
{
    int64_t *act = calloc(n ? n : 1, sizeof *act);
    if (!act)
        return JOTD_E_NOMEM;
    for (size_t i = n; i-- > 0;) {
        act[i] = v[i].created;
        if (i + 1 < n && act[i] >= act[i + 1])
            act[i] = act[i + 1] - 1;
    }
    jotd_rc_t rc = JOTD_OK;
    bool first = true;
    for (size_t i = n; i-- > 0 && rc == JOTD_OK;) {
        bool last = i + 1 == n;
        if (!last && v[i].retired &&
            sat_add(sat_add(v[i].retired, access_ttl > 0 ? access_ttl : 0), LEEWAY) <= now)
            continue; /* every token it signed has expired */
        jotd_key_row_t row;
        rc = row_of(v[i].key, jot_key_alg(v[i].key), kek, v[i].created, act[i], &row, err, errlen);
        if (rc != JOTD_OK)
            break;
        rc = jotd_store_key_add(st, &row, first);
        jotd_key_row_clear(&row);
        if (rc == JOTD_E_EXISTS && first) { /* another instance imported them */
            rc = JOTD_OK;
            break;
        }
        if (rc == JOTD_E_EXISTS) /* (a kid listed twice) */
            rc = JOTD_OK;
        else if (rc != JOTD_OK)
            rc = store_err(rc, err, errlen);
        else
            (*out_n)++;
        first = false;
    }
    free(act);
    return rc;
}

jotd_rc_t jotd_keyring_ensure(jotd_store_t *st, const jotd_kek_t *kek, const char *data_dir,
                              jot_alg_t alg, int64_t access_ttl, int64_t now, size_t *out_imported,
                              char *err, size_t errlen)
{
    size_t imported = 0;
    if (out_imported)
        *out_imported = 0;
    if (!st || !kek) {
        jotd_seterr(err, errlen, "keyring: no store");
        return JOTD_E_INVAL;
    }
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_key_list(st, &rows, &n);
    if (rc != JOTD_OK)
        return store_err(rc, err, errlen);
    bool have = false;
    for (size_t i = 0; i < n; i++)
        have |= !rows[i].revoked_at;
    jotd_key_list_free(rows, n);
    if (have)
        return JOTD_OK;

    jotd_legacy_key_t *legacy = NULL;
    size_t n_legacy = 0;
    rc = jotd_legacy_keys_read(data_dir, &legacy, &n_legacy, err, errlen);
    if (rc == JOTD_OK && n_legacy > 0) {
        rc = import_legacy(st, kek, legacy, n_legacy, access_ttl, now, &imported, err, errlen);
        jotd_legacy_keys_free(legacy, n_legacy);
        if (out_imported)
            *out_imported = imported;
        return rc;
    }
    jotd_legacy_keys_free(legacy, n_legacy);
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND)
        return rc;
    if (alg == JOT_ALG_UNSET)
        alg = JOT_ALG_ES256;
    jotd_key_row_t row;
    rc = new_row(alg, kek, now, now, &row, err, errlen);
    if (rc != JOTD_OK)
        return rc;
    rc = jotd_store_key_add(st, &row, true);
    jotd_key_row_clear(&row);
    if (rc == JOTD_E_EXISTS) /* another instance made the first key */
        return JOTD_OK;
    return rc == JOTD_OK ? JOTD_OK : store_err(rc, err, errlen);
}

/* ---- load --------------------------------------------------------------------------------- */

void jotd_keyring_free(jotd_keyring_t *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->n_signers; i++)
        jot_key_free(kr->signers[i].key);
    free(kr->signers);
    jot_keyset_free(kr->verify);
    jot_free(kr->jwks);
    free(kr);
}

static jotd_rc_t add_public(jotd_keyring_t *kr, const jotd_key_row_t *row, char *err, size_t errlen)
{
    jot_key_t *pub = NULL;
    jotd_rc_t rc = key_of(row, row->public_jwk, strlen(row->public_jwk), false, &pub, err, errlen);
    if (rc != JOTD_OK)
        return rc;
    jot_alg_t alg = jot_key_alg(pub);
    if (jot_keyset_add(kr->verify, pub) != JOT_OK) {
        jot_key_free(pub);
        jotd_seterr(err, errlen, "keyring: out of memory");
        return JOTD_E_NOMEM;
    }
    kr->algs |= JOT_ALG_BIT(alg);
    return JOTD_OK;
}

jotd_rc_t jotd_keyring_load(jotd_store_t *st, const jotd_kek_t *kek, int64_t access_ttl,
                            int64_t now, jotd_keyring_t **out, char *err, size_t errlen)
{
    if (!st || !kek || !out) {
        jotd_seterr(err, errlen, "keyring: NULL argument");
        return JOTD_E_INVAL;
    }
    *out = NULL;
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_key_list(st, &rows, &n);
    if (rc != JOTD_OK)
        return store_err(rc, err, errlen);
    jotd_keyring_t *kr = calloc(1, sizeof *kr);
    if (!kr || (n && !(kr->signers = calloc(n, sizeof *kr->signers))) ||
        jot_keyset_new(&kr->verify) != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: out of memory");
        rc = JOTD_E_NOMEM;
        goto fail;
    }
    /* the JWKS newest first */
    for (size_t k = n; k-- > 0;) {
        int64_t until;
        key_state_t s = key_state(rows, n, k, access_ttl, now, &until);
        if (s == KEY_REVOKED || s == KEY_EXPIRED)
            continue;
        if (until > now && (!kr->next_change || until < kr->next_change))
            kr->next_change = until;
        if ((rc = add_public(kr, &rows[k], err, errlen)) != JOTD_OK)
            goto fail;
    }
    /* the keys that sign now or will, in activation order */
    for (size_t k = 0; k < n; k++) {
        int64_t until;
        key_state_t s = key_state(rows, n, k, access_ttl, now, &until);
        if (s != KEY_ACTIVE && s != KEY_PUBLISHED)
            continue;
        signer_t *sg = &kr->signers[kr->n_signers];
        if ((rc = open_private(&rows[k], kek, &sg->key, err, errlen)) != JOTD_OK)
            goto fail;
        sg->activate_at = rows[k].activate_at;
        kr->n_signers++;
    }
    if (kr->n_signers == 0) {
        jotd_seterr(err, errlen, "keyring: the store has no signing key");
        rc = JOTD_E_NOTFOUND;
        goto fail;
    }
    jot_err_t jrc = jot_keyset_to_jwks(kr->verify, JOT_JWK_PUBLIC, &kr->jwks, &kr->jwks_len);
    if (jrc != JOT_OK) {
        rc = jrc == JOT_E_NOMEM ? JOTD_E_NOMEM : JOTD_E_CRYPTO;
        jotd_seterr(err, errlen, "keyring: cannot build the JWKS: %s", jot_strerror(jrc));
        goto fail;
    }
    jotd_key_list_free(rows, n);
    *out = kr;
    return JOTD_OK;
fail:
    jotd_key_list_free(rows, n);
    jotd_keyring_free(kr);
    return rc;
}

int64_t jotd_keyring_next_change(const jotd_keyring_t *kr)
{
    return kr ? kr->next_change : 0;
}

const jot_key_t *jotd_keyring_signing_key(const jotd_keyring_t *kr, int64_t now)
{
    if (!kr || kr->n_signers == 0)
        return NULL;
    /* the latest activated; with a clock behind every activation, the first */
    size_t s = 0;
    for (size_t i = 1; i < kr->n_signers; i++)
        if (kr->signers[i].activate_at <= now)
            s = i;
    return kr->signers[s].key;
}

const jot_keyset_t *jotd_keyring_verify_keys(const jotd_keyring_t *kr)
{
    return kr ? kr->verify : NULL;
}

const char *jotd_keyring_jwks(const jotd_keyring_t *kr, size_t *out_len)
{
    if (!kr)
        return NULL;
    if (out_len)
        *out_len = kr->jwks_len;
    return kr->jwks;
}

unsigned jotd_keyring_algs(const jotd_keyring_t *kr)
{
    return kr ? kr->algs : 0;
}

/* ---- operator commands -------------------------------------------------------------------- */

jotd_rc_t jotd_keyring_rotate(jotd_store_t *st, const jotd_kek_t *kek, const char *data_dir,
                              jot_alg_t alg, int64_t lead_time, int64_t access_ttl, int64_t now,
                              char out_kid[JOT_THUMBPRINT_LEN + 1], int64_t *out_activate_at,
                              char *err, size_t errlen)
{
    jotd_rc_t rc = jotd_keyring_ensure(st, kek, data_dir, alg, access_ttl, now, NULL, err, errlen);
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    if (rc == JOTD_OK && (rc = jotd_store_key_list(st, &rows, &n)) != JOTD_OK)
        rc = store_err(rc, err, errlen);
    if (rc != JOTD_OK)
        return rc;
    long s = signer_index(rows, n, now);
    if (alg == JOT_ALG_UNSET && s >= 0 &&
        jot_alg_from_name(rows[s].alg, strlen(rows[s].alg), &alg) != JOT_OK)
        alg = JOT_ALG_UNSET;
    jotd_key_list_free(rows, n);
    if (alg == JOT_ALG_UNSET)
        alg = JOT_ALG_ES256;
    int64_t at = sat_add(now, lead_time > 0 ? lead_time : 0);
    jotd_key_row_t row;
    rc = new_row(alg, kek, now, at, &row, err, errlen);
    if (rc != JOTD_OK)
        return rc;
    rc = jotd_store_key_add(st, &row, false);
    if (rc == JOTD_OK) {
        snprintf(out_kid, JOT_THUMBPRINT_LEN + 1, "%s", row.kid);
        *out_activate_at = at;
    } else {
        rc = store_err(rc, err, errlen);
    }
    jotd_key_row_clear(&row);
    return rc;
}

jotd_rc_t jotd_keyring_revoke(jotd_store_t *st, const jotd_kek_t *kek, const char *kid, int64_t now,
                              char out_new_kid[JOT_THUMBPRINT_LEN + 1], char *err, size_t errlen)
{
    out_new_kid[0] = '\0';
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_key_list(st, &rows, &n);
    if (rc != JOTD_OK)
        return store_err(rc, err, errlen);
    long s = signer_index(rows, n, now), found = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].kid, kid) == 0)
            found = (long)i;
    jotd_key_row_t repl = {0};
    bool with_repl = found >= 0 && found == s;
    if (found < 0) {
        jotd_seterr(err, errlen, "no signing key %s (see jotd keys list)", kid);
        rc = JOTD_E_NOTFOUND;
    } else if (with_repl) {
        /* the key that signs now: its successor signs from now (the emergency path) */
        jot_alg_t alg = JOT_ALG_ES256;
        if (jot_alg_from_name(rows[s].alg, strlen(rows[s].alg), &alg) != JOT_OK)
            alg = JOT_ALG_ES256;
        rc = new_row(alg, kek, now, now, &repl, err, errlen);
    }
    jotd_key_list_free(rows, n);
    if (rc == JOTD_OK) {
        rc = jotd_store_key_revoke(st, kid, now, with_repl ? &repl : NULL);
        if (rc != JOTD_OK)
            rc = store_err(rc, err, errlen);
        else if (with_repl)
            snprintf(out_new_kid, JOT_THUMBPRINT_LEN + 1, "%s", repl.kid);
    }
    jotd_key_row_clear(&repl);
    return rc;
}

static void iso8601(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "@%" PRId64, t);
}

jotd_rc_t jotd_keyring_list(jotd_store_t *st, int64_t access_ttl, int64_t now, FILE *out, char *err,
                            size_t errlen)
{
    FILE *f = out ? out : stdout;
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_key_list(st, &rows, &n);
    if (rc != JOTD_OK)
        return store_err(rc, err, errlen);
    if (n == 0) {
        jotd_seterr(err, errlen, "no signing key yet (jotd serve makes one at its first start)");
        return JOTD_E_NOTFOUND;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t until;
        key_state_t s = key_state(rows, n, i, access_ttl, now, &until);
        char created[32], act[32], end[32] = "-";
        iso8601(rows[i].created_at, created);
        iso8601(rows[i].activate_at, act);
        int64_t r = retires_at(rows, n, i);
        if (rows[i].revoked_at)
            iso8601(rows[i].revoked_at, end);
        else if (r)
            iso8601(r, end);
        fprintf(f, "%s %s created=%s activates=%s %s=%s state=%s\n", rows[i].kid, rows[i].alg,
                created, act, rows[i].revoked_at ? "revoked" : "retires", end, state_names[s]);
    }
    jotd_key_list_free(rows, n);
    if (fflush(f) != 0) {
        jotd_seterr(err, errlen, "keyring: cannot write the list");
        return JOTD_E_IO;
    }
    return JOTD_OK;
}
