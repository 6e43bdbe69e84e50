/* Unit tests for server/keyring.c and server/seal.c: the signing keys in the store, their
 * lifecycle (published, active, retired, revoked), the KEK that seals them, and the import of
 * an earlier release's DATA/keys directory. Each test has its own data directory and SQLite
 * store (the store's own tests cover the PostgreSQL rows). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring.h"
#include "seal.h"
#include "secrets.h"

#define TTL 900
#define LEAD 600
#define T0 1700000000 /* 2023-11-14T22:13:20Z */

typedef struct {
    char dir[64];
    char db[96];
    jotd_store_t *st;
    jotd_kek_t kek;
} fixture_t;

static int rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char p[512];
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
            rm_rf(p);
        }
        closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/jotd-keyring-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/jotd.db", f->dir);
    if (jotd_store_open(f->db, &f->st) != JOTD_OK ||
        jotd_kek_open(f->st, NULL, f->dir, &f->kek, NULL, 0) != JOTD_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    jotd_store_close(f->st);
    rm_rf(f->dir);
    free(f);
    return 0;
}

static void ensure_ok(const fixture_t *f, jot_alg_t alg, int64_t now)
{
    char err[256] = "";
    jotd_rc_t rc =
        jotd_keyring_ensure(f->st, &f->kek, f->dir, alg, TTL, now, NULL, err, sizeof err);
    if (rc != JOTD_OK)
        fail_msg("ensure: %s", err);
}

static jotd_keyring_t *load_ok(const fixture_t *f, int64_t now)
{
    char err[256] = "";
    jotd_keyring_t *kr = NULL;
    jotd_rc_t rc = jotd_keyring_load(f->st, &f->kek, TTL, now, &kr, err, sizeof err);
    if (rc != JOTD_OK)
        fail_msg("load: %s", err);
    return kr;
}

static const char *signing_kid(const jotd_keyring_t *kr, int64_t now)
{
    const jot_key_t *k = jotd_keyring_signing_key(kr, now);
    assert_non_null(k);
    assert_non_null(jot_key_kid(k));
    return jot_key_kid(k);
}

static void rotate_ok(const fixture_t *f, jot_alg_t alg, int64_t now,
                      char kid[JOT_THUMBPRINT_LEN + 1])
{
    char err[256] = "";
    int64_t at = 0;
    jotd_rc_t rc =
        jotd_keyring_rotate(f->st, &f->kek, f->dir, alg, LEAD, TTL, now, kid, &at, err, sizeof err);
    if (rc != JOTD_OK)
        fail_msg("rotate: %s", err);
    assert_int_equal(at, now + LEAD);
}

static char *list_of(const fixture_t *f, int64_t now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_rc(jotd_keyring_list(f->st, TTL, now, m, NULL, 0), JOTD_OK);
    fclose(m);
    return buf;
}

static size_t rows_of(const fixture_t *f)
{
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    assert_rc(jotd_store_key_list(f->st, &rows, &n), JOTD_OK);
    jotd_key_list_free(rows, n);
    return n;
}

static size_t jwks_has(const jotd_keyring_t *kr, const char *kid, bool *found)
{
    size_t len = 0;
    const char *jwks = jotd_keyring_jwks(kr, &len);
    jot_keyset_t *set = NULL;
    size_t n;

    assert_non_null(jwks);
    assert_int_equal(strlen(jwks), len);
    assert_int_equal(jot_keyset_from_jwks(jwks, len, &set), JOT_OK);
    n = jot_keyset_count(set);
    *found = jot_keyset_find(set, kid, strlen(kid)) != NULL;
    jot_keyset_free(set);
    return n;
}

static char *sign(const jot_key_t *key, const char *sub)
{
    jot_claims_t *c = NULL;
    char *tok = NULL;
    size_t len = 0;
    assert_int_equal(jot_claims_new(&c), JOT_OK);
    assert_int_equal(jot_claims_set_string(c, "sub", sub), JOT_OK);
    assert_int_equal(jot_jwt_sign(key, NULL, c, &tok, &len), JOT_OK);
    jot_claims_free(c);
    return tok;
}

static jot_err_t verify(const jotd_keyring_t *kr, const char *tok)
{
    jot_verifier_t *v = NULL;
    jot_err_t rc;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_keyset(v, jotd_keyring_verify_keys(kr));
    jot_verifier_set_algs(v, jotd_keyring_algs(kr));
    jot_verifier_allow_no_exp(v, 1);
    rc = jot_verify(v, tok, strlen(tok), NULL);
    jot_verifier_free(v);
    return rc;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_first_key(void **state)
{
    fixture_t *f = *state;
    size_t imported = 9;
    assert_rc(
        jotd_keyring_ensure(f->st, &f->kek, f->dir, JOT_ALG_ES256, TTL, T0, &imported, NULL, 0),
        JOTD_OK);
    assert_int_equal(imported, 0);
    assert_int_equal(rows_of(f), 1);
    ensure_ok(f, JOT_ALG_EDDSA, T0 + 5); /* a second instance: nothing more */
    assert_int_equal(rows_of(f), 1);
    jotd_keyring_t *kr = load_ok(f, T0);
    const jot_key_t *k = jotd_keyring_signing_key(kr, T0);
    assert_true(jot_key_is_private(k));
    assert_int_equal(jot_key_alg(k), JOT_ALG_ES256);
    char tp[JOT_THUMBPRINT_LEN + 1];
    assert_int_equal(jot_key_thumbprint(k, tp), JOT_OK);
    assert_string_equal(tp, jot_key_kid(k));
    bool found = false;
    assert_int_equal(jwks_has(kr, tp, &found), 1);
    assert_true(found);
    /* the JWKS is public only */
    size_t len = 0;
    const char *jwks = jotd_keyring_jwks(kr, &len);
    assert_null(strstr(jwks, "\"d\""));
    assert_int_equal(jotd_keyring_next_change(kr), 0);
    char *tok = sign(k, "alice");
    assert_int_equal(verify(kr, tok), JOT_OK);
    jot_free(tok);
    jotd_keyring_free(kr);
    /* the private part is sealed in the store, never plain */
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    assert_rc(jotd_store_key_list(f->st, &rows, &n), JOTD_OK);
    assert_non_null(strstr(rows[0].private_sealed, f->kek.id));
    assert_null(strstr(rows[0].private_sealed, "\"d\""));
    assert_null(strstr(rows[0].public_jwk, "\"d\""));
    jotd_key_list_free(rows, n);
}

static void test_hmac_refused(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    assert_rc(
        jotd_keyring_ensure(f->st, &f->kek, f->dir, JOT_ALG_HS256, TTL, T0, NULL, err, sizeof err),
        JOTD_E_INVAL);
    assert_non_null(strstr(err, "HMAC"));
    assert_int_equal(rows_of(f), 0);
    ensure_ok(f, JOT_ALG_ES256, T0);
    char kid[JOT_THUMBPRINT_LEN + 1];
    int64_t at;
    assert_rc(jotd_keyring_rotate(f->st, &f->kek, f->dir, JOT_ALG_HS512, LEAD, TTL, T0, kid, &at,
                                  NULL, 0),
              JOTD_E_INVAL);
    assert_int_equal(rows_of(f), 1);
}

/* A rotation publishes first and signs from the activation time on, on every loaded
 * keyring alike; the old key verifies until its tokens have expired. */
static void test_rotate_lifecycle(void **state)
{
    fixture_t *f = *state;
    ensure_ok(f, JOT_ALG_ES256, T0);
    jotd_keyring_t *kr = load_ok(f, T0);
    char old[JOT_THUMBPRINT_LEN + 1], fresh[JOT_THUMBPRINT_LEN + 1];
    snprintf(old, sizeof old, "%s", signing_kid(kr, T0));
    char *old_tok = sign(jotd_keyring_signing_key(kr, T0), "a");
    jotd_keyring_free(kr);

    rotate_ok(f, JOT_ALG_UNSET, T0 + 10, fresh); /* the active key's algorithm */
    assert_string_not_equal(old, fresh);
    kr = load_ok(f, T0 + 10);
    bool found = false;
    assert_int_equal(jwks_has(kr, fresh, &found), 2); /* published at once */
    assert_true(found);
    assert_string_equal(signing_kid(kr, T0 + 10), old);
    assert_string_equal(signing_kid(kr, T0 + 10 + LEAD - 1), old);
    assert_string_equal(signing_kid(kr, T0 + 10 + LEAD), fresh); /* no reload needed */
    assert_int_equal(jot_key_alg(jotd_keyring_signing_key(kr, T0 + 10 + LEAD)), JOT_ALG_ES256);
    /* the old key leaves the JWKS when its last token has expired */
    assert_int_equal(jotd_keyring_next_change(kr), T0 + 10 + LEAD + TTL + 60);
    char *new_tok = sign(jotd_keyring_signing_key(kr, T0 + 10 + LEAD), "b");
    assert_int_equal(verify(kr, old_tok), JOT_OK);
    assert_int_equal(verify(kr, new_tok), JOT_OK);
    jotd_keyring_free(kr);

    int64_t after = T0 + 10 + LEAD + TTL + 60;
    kr = load_ok(f, after - 1);
    assert_int_equal(jwks_has(kr, old, &found), 2);
    jotd_keyring_free(kr);
    kr = load_ok(f, after);
    assert_int_equal(jwks_has(kr, old, &found), 1);
    assert_false(found);
    assert_int_equal(verify(kr, old_tok), JOT_E_KEY_NOT_FOUND);
    assert_int_equal(verify(kr, new_tok), JOT_OK);
    assert_int_equal(jotd_keyring_next_change(kr), 0);
    jotd_keyring_free(kr);

    char *list = list_of(f, after);
    assert_non_null(strstr(list, "state=expired"));
    assert_non_null(strstr(list, "state=active"));
    free(list);
    jot_free(old_tok);
    jot_free(new_tok);
}

/* Revoking the active key: out of the JWKS, its tokens refused, a new key signs at once. */
static void test_revoke_active_is_the_emergency_path(void **state)
{
    fixture_t *f = *state;
    ensure_ok(f, JOT_ALG_EDDSA, T0);
    jotd_keyring_t *kr = load_ok(f, T0);
    char active[JOT_THUMBPRINT_LEN + 1], pending[JOT_THUMBPRINT_LEN + 1];
    char fresh[JOT_THUMBPRINT_LEN + 1], err[256] = "";
    snprintf(active, sizeof active, "%s", signing_kid(kr, T0));
    char *tok = sign(jotd_keyring_signing_key(kr, T0), "a");
    jotd_keyring_free(kr);
    rotate_ok(f, JOT_ALG_ES256, T0 + 1, pending);

    assert_rc(jotd_keyring_revoke(f->st, &f->kek, active, T0 + 2, fresh, err, sizeof err), JOTD_OK);
    assert_true(fresh[0]);
    kr = load_ok(f, T0 + 2);
    bool found = false;
    assert_int_equal(jwks_has(kr, active, &found), 2); /* the new one and the pending one */
    assert_false(found);
    assert_int_equal(verify(kr, tok), JOT_E_KEY_NOT_FOUND);
    assert_string_equal(signing_kid(kr, T0 + 2), fresh);
    assert_int_equal(jot_key_alg(jotd_keyring_signing_key(kr, T0 + 2)), JOT_ALG_EDDSA);
    /* the rotation still happens at its time */
    assert_string_equal(signing_kid(kr, T0 + 1 + LEAD), pending);
    jotd_keyring_free(kr);

    /* revoking a key that does not sign makes no new key; twice changes nothing more */
    assert_rc(jotd_keyring_revoke(f->st, &f->kek, pending, T0 + 3, fresh, NULL, 0), JOTD_OK);
    assert_false(fresh[0]);
    assert_rc(jotd_keyring_revoke(f->st, &f->kek, pending, T0 + 4, fresh, NULL, 0), JOTD_OK);
    assert_false(fresh[0]);
    assert_rc(jotd_keyring_revoke(f->st, &f->kek, "no-such-kid", T0 + 4, fresh, NULL, 0),
              JOTD_E_NOTFOUND);
    assert_int_equal(rows_of(f), 3);
    char *list = list_of(f, T0 + 5);
    assert_non_null(strstr(list, "state=revoked"));
    free(list);
    jot_free(tok);
}

/* A key sealed with another KEK does not open: the message names both KEK ids. */
static void test_other_kek_refused(void **state)
{
    fixture_t *f = *state;
    ensure_ok(f, JOT_ALG_ES256, T0);
    char other_path[128], err[512] = "";
    snprintf(other_path, sizeof other_path, "%s/other-kek", f->dir);
    jotd_kek_t other;
    assert_rc(jotd_kek_create(other_path, &other, NULL, 0), JOTD_OK);
    assert_string_not_equal(other.id, f->kek.id);
    jotd_keyring_t *kr = NULL;
    assert_rc(jotd_keyring_load(f->st, &other, TTL, T0, &kr, err, sizeof err), JOTD_E_CRYPTO);
    assert_null(kr);
    assert_non_null(strstr(err, other.id));
    assert_non_null(strstr(err, f->kek.id));
    /* and an instance without the file is told which one it needs, not given a new one */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/absent-kek", f->dir);
    assert_rc(jotd_kek_open(f->st, missing, f->dir, &other, err, sizeof err), JOTD_E_NOTFOUND);
    assert_non_null(strstr(err, f->kek.id));
    assert_int_equal(access(missing, F_OK), -1);
    jotd_kek_wipe(&other);
}

/* The KEK file: 0600, 43 base64url characters; a wider mode or a symlink is refused. */
static void test_kek_file(void **state)
{
    fixture_t *f = *state;
    char path[128], link[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, JOTD_KEK_DEFAULT_NAME);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    jotd_kek_t k;
    assert_rc(jotd_kek_load(path, &k, NULL, 0), JOTD_OK);
    assert_string_equal(k.id, f->kek.id);
    assert_memory_equal(k.key, f->kek.key, JOTD_KEK_LEN);
    char err[256] = "";
    assert_int_equal(chmod(path, 0640), 0);
    assert_rc(jotd_kek_load(path, &k, err, sizeof err), JOTD_E_INVAL);
    assert_non_null(strstr(err, "0600"));
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(link, sizeof link, "%s/kek-link", f->dir);
    assert_int_equal(symlink(path, link), 0);
    assert_int_not_equal(jotd_kek_load(link, &k, NULL, 0), JOTD_OK);
    /* a damaged file */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad-kek", f->dir);
    int fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "too-short\n", 10), 10);
    close(fd);
    assert_rc(jotd_kek_load(bad, &k, NULL, 0), JOTD_E_INVAL);
    assert_rc(jotd_kek_create(path, &k, NULL, 0), JOTD_E_EXISTS);
    jotd_kek_wipe(&k);
}

/* Sealed values: bound to their purpose, refused when damaged. */
static void test_seal(void **state)
{
    fixture_t *f = *state;
    const uint8_t msg[] = "the private key";
    char *sealed = NULL;
    uint8_t *out = NULL;
    size_t len = 0;
    assert_rc(jotd_seal(&f->kek, "signing-key:a", msg, sizeof msg, &sealed), JOTD_OK);
    assert_null(strstr(sealed, "private"));
    assert_rc(jotd_unseal(&f->kek, "signing-key:a", sealed, &out, &len, NULL, 0), JOTD_OK);
    assert_int_equal(len, sizeof msg);
    assert_memory_equal(out, msg, len);
    free(out);
    assert_rc(jotd_unseal(&f->kek, "signing-key:b", sealed, &out, &len, NULL, 0), JOTD_E_CRYPTO);
    assert_null(out);
    size_t n = strlen(sealed);
    sealed[n - 2] = sealed[n - 2] == 'A' ? 'B' : 'A';
    assert_rc(jotd_unseal(&f->kek, "signing-key:a", sealed, &out, &len, NULL, 0), JOTD_E_CRYPTO);
    assert_rc(jotd_unseal(&f->kek, "signing-key:a", "v1.junk", &out, &len, NULL, 0), JOTD_E_CRYPTO);
    assert_rc(jotd_unseal(&f->kek, "signing-key:a", "", &out, &len, NULL, 0), JOTD_E_CRYPTO);
    free(sealed);
    /* two seals of one value differ (a fresh nonce each) */
    char *a = NULL, *b = NULL;
    assert_rc(jotd_seal(&f->kek, "p", msg, sizeof msg, &a), JOTD_OK);
    assert_rc(jotd_seal(&f->kek, "p", msg, sizeof msg, &b), JOTD_OK);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
}

/* Shared secrets: made once, the same for every reader; an earlier release's file is kept. */
static void test_secrets(void **state)
{
    fixture_t *f = *state;
    uint8_t a[32], b[32];
    assert_rc(jotd_secret_load(f->st, &f->kek, f->dir, JOTD_SECRET_REFRESH, a, NULL, 0), JOTD_OK);
    assert_rc(jotd_secret_load(f->st, &f->kek, f->dir, JOTD_SECRET_REFRESH, b, NULL, 0), JOTD_OK);
    assert_memory_equal(a, b, 32);
    assert_rc(jotd_secret_load(f->st, &f->kek, f->dir, JOTD_SECRET_CLIENT, b, NULL, 0), JOTD_OK);
    assert_memory_not_equal(a, b, 32);
    /* a legacy DATA/keys/client.key is what a store without the secret takes */
    char keys[128], path[160];
    snprintf(keys, sizeof keys, "%s/keys", f->dir);
    assert_int_equal(mkdir(keys, 0700), 0);
    snprintf(path, sizeof path, "%s/other.key", keys);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    const char *text = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"; /* bytes 0..31 */
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_rc(jotd_secret_load(f->st, &f->kek, f->dir, "other.key", a, NULL, 0), JOTD_OK);
    for (int i = 0; i < 32; i++)
        assert_int_equal(a[i], i);
    assert_int_equal(unlink(path), 0); /* from now on the store's value */
    assert_rc(jotd_secret_load(f->st, &f->kek, f->dir, "other.key", b, NULL, 0), JOTD_OK);
    assert_memory_equal(a, b, 32);
    /* another KEK cannot open it */
    char other_path[128];
    snprintf(other_path, sizeof other_path, "%s/other-kek", f->dir);
    jotd_kek_t other;
    assert_rc(jotd_kek_create(other_path, &other, NULL, 0), JOTD_OK);
    assert_rc(jotd_secret_load(f->st, &other, f->dir, "other.key", b, NULL, 0), JOTD_E_CRYPTO);
    jotd_kek_wipe(&other);
}

/* Write an earlier release's DATA/keys: the keys and keyring.json entries given. */
static void legacy_write(const fixture_t *f, jot_key_t **keys, const int64_t *created,
                         const int64_t *retired, size_t n)
{
    char dir[128], path[256];
    snprintf(dir, sizeof dir, "%s/keys", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        char *jwk = NULL;
        size_t len = 0;
        assert_int_equal(jot_key_to_jwk(keys[i], JOT_JWK_PRIVATE, &jwk, &len), JOT_OK);
        snprintf(path, sizeof path, "%s/%s.jwk", dir, jot_key_kid(keys[i]));
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, jwk, len), (ssize_t)len);
        close(fd);
        jot_free(jwk);
        json_array_append_new(list, json_pack("{s:s,s:s,s:I,s:o}", "kid", jot_key_kid(keys[i]),
                                              "alg", jot_alg_name(jot_key_alg(keys[i])), "created",
                                              (json_int_t)created[i], "retired",
                                              retired[i] ? json_integer(retired[i]) : json_null()));
    }
    json_t *ring = json_pack("{s:o}", "keys", list);
    snprintf(path, sizeof path, "%s/keyring.json", dir);
    assert_int_equal(json_dump_file(ring, path, 0), 0);
    assert_int_equal(chmod(path, 0600), 0);
    json_decref(ring);
}

/* An earlier release's keys/ moves into the store: the signing key stays the signing key,
 * a retired one verifies until its tokens expired, an expired one is left out. */
static void test_legacy_import(void **state)
{
    fixture_t *f = *state;
    jot_key_t *k[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++)
        assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &k[i]), JOT_OK);
    /* k0 retired long ago, k1 retired in the same second k2 was made, k2 signs */
    int64_t created[3] = {T0 - 10 * 86400, T0 - 100, T0 - 100};
    int64_t retired[3] = {T0 - 9 * 86400, T0 - 100, 0};
    legacy_write(f, k, created, retired, 3);
    size_t imported = 0;
    char err[256] = "";
    assert_rc(jotd_keyring_ensure(f->st, &f->kek, f->dir, JOT_ALG_ES256, TTL, T0, &imported, err,
                                  sizeof err),
              JOTD_OK);
    assert_int_equal(imported, 2);
    jotd_keyring_t *kr = load_ok(f, T0);
    assert_string_equal(signing_kid(kr, T0), jot_key_kid(k[2]));
    bool found = false;
    assert_int_equal(jwks_has(kr, jot_key_kid(k[1]), &found), 2);
    assert_true(found);
    char *tok = sign(k[1], "a");
    assert_int_equal(verify(kr, tok), JOT_OK);
    jot_free(tok);
    jotd_keyring_free(kr);
    /* once imported, the directory is not read again */
    ensure_ok(f, JOT_ALG_ES256, T0 + 1);
    assert_int_equal(rows_of(f), 2);
    for (int i = 0; i < 3; i++)
        jot_key_free(k[i]);
}

static void test_legacy_damaged(void **state)
{
    fixture_t *f = *state;
    jot_key_t *k = NULL;
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &k), JOT_OK);
    int64_t created = T0, retired = 0;
    legacy_write(f, &k, &created, &retired, 1);
    char path[256], err[256] = "";
    snprintf(path, sizeof path, "%s/keys/%s.jwk", f->dir, jot_key_kid(k));
    assert_int_equal(chmod(path, 0644), 0); /* readable by others: refused, not imported */
    assert_rc(
        jotd_keyring_ensure(f->st, &f->kek, f->dir, JOT_ALG_ES256, TTL, T0, NULL, err, sizeof err),
        JOTD_E_IO);
    assert_int_equal(rows_of(f), 0);
    jot_key_free(k);
}

static void test_bad_args(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = NULL;
    assert_rc(jotd_keyring_load(NULL, &f->kek, TTL, T0, &kr, NULL, 0), JOTD_E_INVAL);
    assert_rc(jotd_keyring_load(f->st, &f->kek, TTL, T0, &kr, NULL, 0), JOTD_E_NOTFOUND);
    assert_null(kr);
    assert_null(jotd_keyring_signing_key(NULL, T0));
    assert_null(jotd_keyring_jwks(NULL, NULL));
    assert_int_equal(jotd_keyring_next_change(NULL), 0);
    jotd_keyring_free(NULL);
    assert_rc(jotd_keyring_list(f->st, TTL, T0, NULL, NULL, 0), JOTD_E_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmac_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_active_is_the_emergency_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_kek_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kek_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
