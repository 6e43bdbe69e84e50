/* Unit tests for server/keyring.c: the key files of jotd, rotation and the JWKS. Each test
 * works in its own temporary data directory. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring.h"

#define TTL 900
#define T0 1700000000 /* 2023-11-14T22:13:20Z */

typedef struct {
    char dir[64];
    char keys[96];
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
    snprintf(f->keys, sizeof(f->keys), "%s/keys", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    rm_rf(f->dir);
    free(f);
    return 0;
}

static jotd_keyring_t *load_ok(const fixture_t *f, jot_alg_t alg, int64_t now)
{
    jotd_keyring_t *kr = NULL;
    char err[512] = "";
    if (jotd_keyring_load(f->dir, alg, TTL, now, &kr, err, sizeof(err)) != JOTD_OK)
        fail_msg("jotd_keyring_load: %s", err);
    assert_non_null(kr);
    return kr;
}

/* Load that must fail on the key directory or its files (JOTD_E_IO); the message must
 * mention \p want. */
static void load_fails(const fixture_t *f, int64_t now, const char *want)
{
    jotd_keyring_t *kr = NULL;
    char err[512] = "";
    jotd_rc_t rc = jotd_keyring_load(f->dir, JOT_ALG_ES256, TTL, now, &kr, err, sizeof(err));
    if (rc == JOTD_OK)
        fail_msg("load succeeded, wanted an error about \"%s\"", want);
    if (rc != JOTD_E_IO)
        fail_msg("load failed with %s, wanted JOTD_E_IO: %s", jotd_rc_name(rc), err);
    assert_null(kr);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

static const char *signing_kid(const jotd_keyring_t *kr)
{
    const jot_key_t *k = jotd_keyring_signing_key(kr);
    assert_non_null(k);
    assert_non_null(jot_key_kid(k));
    return jot_key_kid(k);
}

static void path_of(const fixture_t *f, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->keys, name);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    return buf;
}

static void spit(const char *path, const char *text, mode_t mode)
{
    FILE *fp;
    unlink(path);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *list_of(const fixture_t *f, int64_t now)
{
    char *buf = NULL;
    size_t len = 0;
    char err[512] = "";
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    if (jotd_keyring_list(f->dir, TTL, now, fp, err, sizeof(err)) != JOTD_OK)
        fail_msg("jotd_keyring_list: %s", err);
    fclose(fp);
    return buf;
}

static void rotate_ok(const fixture_t *f, jot_alg_t alg, int64_t now, char kid[64])
{
    char err[512] = "";
    if (jotd_keyring_rotate(f->dir, alg, now, kid, 64, err, sizeof(err)) != JOTD_OK)
        fail_msg("jotd_keyring_rotate: %s", err);
}

/* Number of keys in the JWKS and whether \p kid is among them. */
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

static void test_first_load(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    const jot_key_t *k = jotd_keyring_signing_key(kr);
    char path[256], tp[44];
    struct stat st;

    /* keys/ 0700, <kid>.jwk 0600, keyring.json present */
    assert_int_equal(stat(f->keys, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_true(jot_key_is_private(k));
    assert_int_equal(jot_key_alg(k), JOT_ALG_ES256);
    assert_int_equal(jot_key_thumbprint(k, tp), JOT_OK);
    assert_string_equal(signing_kid(kr), tp);
    snprintf(path, sizeof(path), "%s/%s.jwk", f->keys, tp);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);

    /* The file holds the private key. */
    char *text = slurp(path);
    jot_key_t *fk = NULL;
    assert_non_null(text);
    assert_int_equal(jot_key_from_jwk(text, strlen(text), &fk), JOT_OK);
    assert_true(jot_key_is_private(fk));
    jot_key_free(fk);
    free(text);

    /* keyring.json records it. */
    path_of(f, "keyring.json", path, sizeof(path));
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(root);
    json_t *keys = json_object_get(root, "keys");
    assert_int_equal(json_array_size(keys), 1);
    json_t *e = json_array_get(keys, 0);
    assert_string_equal(json_string_value(json_object_get(e, "kid")), tp);
    assert_string_equal(json_string_value(json_object_get(e, "alg")), "ES256");
    assert_int_equal(json_integer_value(json_object_get(e, "created")), T0);
    assert_true(json_is_null(json_object_get(e, "retired")));
    json_decref(root);

    assert_int_equal(jotd_keyring_algs(kr), JOT_ALG_BIT(JOT_ALG_ES256));
    assert_int_equal(jot_keyset_count(jotd_keyring_verify_keys(kr)), 1);
    jotd_keyring_free(kr);
    jotd_keyring_free(NULL);
}

static void test_reload_same_kid(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *a = load_ok(f, JOT_ALG_ES256, T0);
    /* A different alg at reload does not replace the existing key. */
    jotd_keyring_t *b = load_ok(f, JOT_ALG_EDDSA, T0 + 100);
    size_t la, lb;

    assert_string_equal(signing_kid(a), signing_kid(b));
    assert_string_equal(jotd_keyring_jwks(a, &la), jotd_keyring_jwks(b, &lb));
    assert_int_equal(la, lb);
    /* The reloaded key signs; the first one's keys verify (same key). */
    char *tok = sign(jotd_keyring_signing_key(b), "alice");
    assert_int_equal(verify(a, tok), JOT_OK);
    jot_free(tok);
    jotd_keyring_free(a);
    jotd_keyring_free(b);
}

static void test_jwks_public_only(void **state)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"};
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_RS256, T0);
    char kid[64];
    size_t len = 0;
    const char *jwks;
    json_error_t je;

    rotate_ok(f, JOT_ALG_EDDSA, T0 + 10, kid);
    jotd_keyring_free(kr);
    kr = load_ok(f, JOT_ALG_ES256, T0 + 20);
    jwks = jotd_keyring_jwks(kr, &len);

    json_t *root = json_loadb(jwks, len, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(root);
    json_t *keys = json_object_get(root, "keys");
    assert_int_equal(json_array_size(keys), 2);
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *k = json_array_get(keys, i);
        for (size_t j = 0; j < sizeof(private_members) / sizeof(private_members[0]); j++) {
            if (json_object_get(k, private_members[j]))
                fail_msg("JWKS key %zu has private member \"%s\"", i, private_members[j]);
        }
        assert_non_null(json_object_get(k, "kid"));
    }
    json_decref(root);

    jot_keyset_t *set = NULL;
    assert_int_equal(jot_keyset_from_jwks(jwks, len, &set), JOT_OK);
    assert_int_equal(jot_keyset_count(set), 2);
    for (size_t i = 0; i < jot_keyset_count(set); i++)
        assert_false(jot_key_is_private(jot_keyset_get(set, i)));
    jot_keyset_free(set);
    /* The verify set is public too, and the mask holds both algorithms. */
    const jot_keyset_t *vs = jotd_keyring_verify_keys(kr);
    for (size_t i = 0; i < jot_keyset_count(vs); i++)
        assert_false(jot_key_is_private(jot_keyset_get(vs, i)));
    assert_int_equal(jotd_keyring_algs(kr),
                     JOT_ALG_BIT(JOT_ALG_RS256) | JOT_ALG_BIT(JOT_ALG_EDDSA));
    assert_string_equal(signing_kid(kr), kid);
    assert_int_equal(jot_key_alg(jotd_keyring_signing_key(kr)), JOT_ALG_EDDSA);
    jotd_keyring_free(kr);
}

static void test_sign_verify(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char *tok = sign(jotd_keyring_signing_key(kr), "bob");
    jot_token_t *t = NULL;

    assert_int_equal(verify(kr, tok), JOT_OK);
    /* The header names the signing key. */
    assert_int_equal(jot_decode_unverified(tok, strlen(tok), &t), JOT_OK);
    assert_string_equal(jot_token_kid(t), signing_kid(kr));
    assert_int_equal(jot_token_alg(t), JOT_ALG_ES256);
    jot_token_free(t);
    /* A flipped signature byte fails. */
    tok[strlen(tok) - 2] = (char)(tok[strlen(tok) - 2] == 'A' ? 'B' : 'A');
    assert_int_not_equal(verify(kr, tok), JOT_OK);
    jot_free(tok);
    jotd_keyring_free(kr);
}

static void test_rotate(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char old_kid[64], new_kid[64];
    const int64_t rot = T0 + 1000;
    bool found;

    snprintf(old_kid, sizeof(old_kid), "%s", signing_kid(kr));
    char *old_tok = sign(jotd_keyring_signing_key(kr), "carol");
    jotd_keyring_free(kr);

    rotate_ok(f, JOT_ALG_UNSET, rot, new_kid); /* UNSET: same alg as before */
    assert_string_not_equal(old_kid, new_kid);

    kr = load_ok(f, JOT_ALG_ES256, rot);
    assert_string_equal(signing_kid(kr), new_kid);
    assert_int_equal(jot_key_alg(jotd_keyring_signing_key(kr)), JOT_ALG_ES256);
    assert_int_equal(jwks_has(kr, old_kid, &found), 2);
    assert_true(found);
    assert_int_equal(verify(kr, old_tok), JOT_OK); /* old tokens still verify */
    char *new_tok = sign(jotd_keyring_signing_key(kr), "carol");
    assert_int_equal(verify(kr, new_tok), JOT_OK);
    jotd_keyring_free(kr);

    /* Until retired + ttl + 60 s the old key stays ... */
    kr = load_ok(f, JOT_ALG_ES256, rot + TTL + 59);
    assert_int_equal(jwks_has(kr, old_kid, &found), 2);
    assert_true(found);
    assert_int_equal(verify(kr, old_tok), JOT_OK);
    jotd_keyring_free(kr);

    /* ... then it is gone from the JWKS and the verify set. */
    kr = load_ok(f, JOT_ALG_ES256, rot + TTL + 60);
    assert_int_equal(jwks_has(kr, old_kid, &found), 1);
    assert_false(found);
    assert_int_equal(jwks_has(kr, new_kid, &found), 1);
    assert_true(found);
    assert_int_equal(verify(kr, old_tok), JOT_E_KEY_NOT_FOUND);
    assert_int_equal(verify(kr, new_tok), JOT_OK);
    assert_string_equal(signing_kid(kr), new_kid);
    jotd_keyring_free(kr);

    /* The expired key file may even be gone. */
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.jwk", f->keys, old_kid);
    assert_int_equal(unlink(path), 0);
    kr = load_ok(f, JOT_ALG_ES256, rot + TTL + 60);
    jotd_keyring_free(kr);
    jot_free(old_tok);
    jot_free(new_tok);
}

static void test_list(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char first[64], second[64], third[64], want[1024];
    char *out;
    char err[256] = "";

    snprintf(first, sizeof(first), "%s", signing_kid(kr));
    jotd_keyring_free(kr);
    rotate_ok(f, JOT_ALG_EDDSA, T0 + 3600, second);
    rotate_ok(f, JOT_ALG_ES256, T0 + 7200, third);

    out = list_of(f, T0 + 7200 + 100);
    snprintf(want, sizeof(want),
             "%s ES256 created=2023-11-14T22:13:20Z retired=2023-11-14T23:13:20Z state=expired\n"
             "%s EdDSA created=2023-11-14T23:13:20Z retired=2023-11-15T00:13:20Z "
             "state=verifying\n"
             "%s ES256 created=2023-11-15T00:13:20Z retired=- state=signing\n",
             first, second, third);
    assert_string_equal(out, want);
    free(out);

    out = list_of(f, T0 + 7200 + TTL + 60);
    assert_non_null(strstr(out, "retired=2023-11-15T00:13:20Z state=expired\n"));
    assert_null(strstr(out, "verifying"));
    free(out);

    /* No keyring yet: an error that says so. */
    char empty[128];
    snprintf(empty, sizeof(empty), "%s/none", f->dir);
    assert_int_equal(jotd_keyring_list(empty, TTL, T0, stdout, err, sizeof(err)), JOTD_E_IO);
    assert_true(strlen(err) > 0);
}

static void test_group_readable_refused(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char path[256];

    snprintf(path, sizeof(path), "%s/%s.jwk", f->keys, signing_kid(kr));
    jotd_keyring_free(kr);

    assert_int_equal(chmod(path, 0640), 0);
    load_fails(f, T0, "chmod 600");
    assert_int_equal(chmod(path, 0604), 0);
    load_fails(f, T0, "group or others");
    assert_int_equal(chmod(path, 0610), 0);
    load_fails(f, T0, "group or others");
    assert_int_equal(chmod(path, 0400), 0); /* read-only for the owner is fine */
    kr = load_ok(f, JOT_ALG_ES256, T0);
    jotd_keyring_free(kr);

    /* A keys directory writable by others is refused too. */
    assert_int_equal(chmod(f->keys, 0777), 0);
    load_fails(f, T0, "chmod 700");
    assert_int_equal(chmod(f->keys, 0755), 0);
    kr = load_ok(f, JOT_ALG_ES256, T0);
    jotd_keyring_free(kr);
}

static void test_hmac_refused(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = NULL;
    char err[512] = "", kid[64];

    assert_int_equal(jotd_keyring_load(f->dir, JOT_ALG_HS256, TTL, T0, &kr, err, sizeof(err)),
                     JOTD_E_INVAL);
    assert_null(kr);
    assert_non_null(strstr(err, "HS256"));
    kr = load_ok(f, JOT_ALG_ES256, T0);
    jotd_keyring_free(kr);
    assert_int_equal(
        jotd_keyring_rotate(f->dir, JOT_ALG_HS512, T0, kid, sizeof(kid), err, sizeof(err)),
        JOTD_E_INVAL);
}

static void test_key_file_checks(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char path[256], kid[64];
    jot_key_t *other = NULL, *pub = NULL;
    char *jwk = NULL;
    size_t len;

    snprintf(kid, sizeof(kid), "%s", signing_kid(kr));
    snprintf(path, sizeof(path), "%s/%s.jwk", f->keys, kid);
    jotd_keyring_free(kr);
    char *saved = slurp(path);
    assert_non_null(saved);

    /* Another key under this kid's name: the thumbprint check catches it. */
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &other), JOT_OK);
    assert_int_equal(jot_key_to_jwk(other, JOT_JWK_PRIVATE, &jwk, &len), JOT_OK);
    spit(path, jwk, 0600);
    load_fails(f, T0, "thumbprint");
    jot_free(jwk);

    /* The right key but only its public part: refused. */
    kr = NULL;
    spit(path, saved, 0600);
    jot_key_t *mine = NULL;
    assert_int_equal(jot_key_from_jwk(saved, strlen(saved), &mine), JOT_OK);
    assert_int_equal(jot_key_public(mine, &pub), JOT_OK);
    assert_int_equal(jot_key_to_jwk(pub, JOT_JWK_PUBLIC, &jwk, &len), JOT_OK);
    spit(path, jwk, 0600);
    load_fails(f, T0, "private");
    jot_free(jwk);

    /* Garbage, a symlink and a missing file are refused. */
    spit(path, "{not json", 0600);
    load_fails(f, T0, kid);
    unlink(path);
    load_fails(f, T0, "missing");
    char target[256];
    snprintf(target, sizeof(target), "%s/elsewhere.json", f->dir);
    spit(target, saved, 0600);
    assert_int_equal(symlink(target, path), 0);
    load_fails(f, T0, kid);
    unlink(path);

    /* Restored: fine again. */
    spit(path, saved, 0600);
    kr = load_ok(f, JOT_ALG_ES256, T0);
    assert_string_equal(signing_kid(kr), kid);
    jotd_keyring_free(kr);
    jot_key_free(other);
    jot_key_free(pub);
    jot_key_free(mine);
    free(saved);
}

static void test_keyring_json_checks(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char path[256], doc[512], kid[64];

    snprintf(kid, sizeof(kid), "%s", signing_kid(kr));
    jotd_keyring_free(kr);
    path_of(f, "keyring.json", path, sizeof(path));

    spit(path, "[]", 0600);
    load_fails(f, T0, "keys");
    spit(path, "{\"keys\":[], \"keys\":[]}", 0600);
    load_fails(f, T0, "JSON");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kid\":\"../../etc/passwd\",\"alg\":\"ES256\",\"created\":1}]}");
    spit(path, doc, 0600);
    load_fails(f, T0, "kid");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kid\":\"%s\",\"alg\":\"none\",\"created\":1,\"retired\":null}]}", kid);
    spit(path, doc, 0600);
    load_fails(f, T0, "alg");
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kid\":\"%s\",\"alg\":\"ES256\",\"created\":\"1\"}]}",
             kid);
    spit(path, doc, 0600);
    load_fails(f, T0, "created");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kid\":\"%s\",\"alg\":\"ES256\",\"created\":1},"
             "{\"kid\":\"%s\",\"alg\":\"ES256\",\"created\":2}]}",
             kid, kid);
    spit(path, doc, 0600);
    load_fails(f, T0, "twice");
    /* An alg that does not fit the key file. */
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kid\":\"%s\",\"alg\":\"ES384\",\"created\":1,\"retired\":null}]}", kid);
    spit(path, doc, 0600);
    load_fails(f, T0, "ES384");

    /* keyring.json gone while key files remain: refused rather than guessed. */
    unlink(path);
    load_fails(f, T0, "keyring.json");

    /* Hand-written, "retired" absent = not retired: loads. */
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kid\":\"%s\",\"alg\":\"ES256\",\"created\":5}]}",
             kid);
    spit(path, doc, 0644);
    kr = load_ok(f, JOT_ALG_ES256, T0);
    assert_string_equal(signing_kid(kr), kid);
    jotd_keyring_free(kr);
}

/* Every key retired (by hand): load makes a new signing key and keeps the old for verifying. */
static void test_all_retired(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char path[256], doc[512], kid[64];
    bool found;

    snprintf(kid, sizeof(kid), "%s", signing_kid(kr));
    jotd_keyring_free(kr);
    path_of(f, "keyring.json", path, sizeof(path));
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kid\":\"%s\",\"alg\":\"ES256\",\"created\":%d,\"retired\":%d}]}", kid,
             T0, T0 + 10);
    spit(path, doc, 0600);

    kr = load_ok(f, JOT_ALG_EDDSA, T0 + 20);
    assert_string_not_equal(signing_kid(kr), kid);
    assert_int_equal(jot_key_alg(jotd_keyring_signing_key(kr)), JOT_ALG_EDDSA);
    assert_int_equal(jwks_has(kr, kid, &found), 2);
    assert_true(found);
    char new_kid[64];
    snprintf(new_kid, sizeof(new_kid), "%s", signing_kid(kr));
    jotd_keyring_free(kr);
    /* ... and it is persisted: the next load signs with the same new key. */
    kr = load_ok(f, JOT_ALG_ES256, T0 + 30);
    assert_string_equal(signing_kid(kr), new_kid);
    jotd_keyring_free(kr);
}

/* A crash between the two writes of a rotation leaves a key file that keyring.json does
 * not list, and maybe a temporary file: the old state stays valid and the debris goes. */
static void test_crash_debris(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = load_ok(f, JOT_ALG_ES256, T0);
    char kid[64], path[256], tmp[256];
    jot_key_t *orphan = NULL;
    char *jwk = NULL;
    size_t len;
    struct stat st;

    snprintf(kid, sizeof(kid), "%s", signing_kid(kr));
    jotd_keyring_free(kr);
    assert_int_equal(jot_key_generate(JOT_ALG_ES256, 0, &orphan), JOT_OK);
    assert_int_equal(jot_key_to_jwk(orphan, JOT_JWK_PRIVATE, &jwk, &len), JOT_OK);
    snprintf(path, sizeof(path), "%s/%s.jwk", f->keys, jot_key_kid(orphan));
    spit(path, jwk, 0600);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-0123456789abcdef-keyring.json", f->keys);
    spit(tmp, "{\"keys\":[", 0600);

    kr = load_ok(f, JOT_ALG_ES256, T0 + 5);
    assert_string_equal(signing_kid(kr), kid);
    assert_int_equal(jot_keyset_count(jotd_keyring_verify_keys(kr)), 1);
    jotd_keyring_free(kr);
    assert_int_equal(stat(tmp, &st), -1);
    jot_free(jwk);
    jot_key_free(orphan);
}

static void test_bad_args(void **state)
{
    fixture_t *f = *state;
    jotd_keyring_t *kr = NULL;
    char err[256] = "", kid[8];

    assert_int_equal(jotd_keyring_load(NULL, JOT_ALG_ES256, TTL, T0, &kr, err, sizeof(err)),
                     JOTD_E_INVAL);
    assert_int_equal(jotd_keyring_load("", JOT_ALG_ES256, TTL, T0, &kr, err, sizeof(err)),
                     JOTD_E_INVAL);
    assert_int_equal(jotd_keyring_load(f->dir, JOT_ALG_ES256, TTL, T0, NULL, NULL, 0),
                     JOTD_E_INVAL);
    /* A kid buffer too small for the new kid. */
    assert_int_equal(
        jotd_keyring_rotate(f->dir, JOT_ALG_ES256, T0, kid, sizeof(kid), err, sizeof(err)),
        JOTD_E_INVAL);
    /* ... leaves no key file behind, so a first load still starts cleanly. */
    kr = load_ok(f, JOT_ALG_ES256, T0);
    assert_int_equal(jot_keyset_count(jotd_keyring_verify_keys(kr)), 1);
    jotd_keyring_free(kr);
    assert_null(jotd_keyring_signing_key(NULL));
    assert_null(jotd_keyring_verify_keys(NULL));
    assert_null(jotd_keyring_jwks(NULL, NULL));
    assert_int_equal(jotd_keyring_algs(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_same_kid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jwks_public_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_readable_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmac_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyring_json_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_retired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_debris, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
