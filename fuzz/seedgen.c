/* Seed generator for the committed corpora: what only libjot itself can make. Run by
 * fuzz/mkcorpus.py (see fuzz/README.md), never by the tests.
 *
 *   fuzz_seedgen OUTDIR
 *
 * writes OUTDIR/token/gen-*   tokens signed with the fixed key set of fuzz_keys.h, for every
 *                             algorithm those keys allow, each behind the option byte that
 *                             the token target reads
 *        OUTDIR/jwk/gen-*     JWK exports (private and public) of the fixed keys and of
 *                             fresh keys for the other curves and sizes
 *        OUTDIR/pem/gen-*     PKCS#8 and SPKI exports of the asymmetric ones
 *        OUTDIR/jwks/gen-*    key sets made of them */
#include "fuzz_keys.h"

#include <jot/jot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *outdir;

static void die(const char *what, jot_err_t rc)
{
    fprintf(stderr, "seedgen: %s: %s\n", what, jot_err_name(rc));
    exit(1);
}

static void write_seed(const char *target, const char *name, const void *prefix, size_t plen,
                       const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/gen-%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(prefix, 1, plen, f) != plen || fwrite(data, 1, len, f) != len ||
        fclose(f) != 0) {
        fprintf(stderr, "seedgen: cannot write %s\n", path);
        exit(1);
    }
}

static jot_key_t *import(const char *jwk)
{
    jot_key_t *k = NULL;
    jot_err_t rc = jot_key_from_jwk(jwk, strlen(jwk), &k);
    if (rc != JOT_OK)
        die("import", rc);
    return k;
}

static void claims_set(jot_claims_t *c, int full)
{
    jot_err_t rc = jot_claims_set_string(c, "iss", "https://issuer.example");
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "sub", "user-1");
    static const char *const aud[] = {"api", "urn:other"};
    if (rc == JOT_OK)
        rc = full ? jot_claims_set_strings(c, "aud", aud, 2)
                  : jot_claims_set_string(c, "aud", "api");
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "iat", FUZZ_NOW - 100);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "exp", FUZZ_NOW + 3600);
    if (rc == JOT_OK && full)
        rc = jot_claims_set_int(c, "nbf", FUZZ_NOW - 100);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "jti", "3f2a9c1e");
    if (rc == JOT_OK && full)
        rc = jot_claims_set_string(c, "scope", "read write");
    static const char cnf[] = "{\"jkt\":\"abc\",\"n\":[1,2.5,true,null]}";
    if (rc == JOT_OK && full)
        rc = jot_claims_set_json(c, "cnf", cnf, sizeof cnf - 1);
    if (rc != JOT_OK)
        die("claims", rc);
}

static void tokens(jot_key_t *const keys[FUZZ_NKEYS])
{
    static const struct {
        size_t key;
        jot_alg_t alg;
    } plan[] = {
        {0, JOT_ALG_HS256}, {0, JOT_ALG_HS384}, {0, JOT_ALG_HS512}, {1, JOT_ALG_RS256},
        {1, JOT_ALG_RS384}, {1, JOT_ALG_RS512}, {1, JOT_ALG_PS256}, {1, JOT_ALG_PS384},
        {1, JOT_ALG_PS512}, {2, JOT_ALG_ES256}, {3, JOT_ALG_EDDSA},
    };
    jot_claims_t *full = NULL, *small = NULL;
    jot_err_t rc = jot_claims_new(&full);
    if (rc == JOT_OK)
        rc = jot_claims_new(&small);
    if (rc != JOT_OK)
        die("claims", rc);
    claims_set(full, 1);
    claims_set(small, 0);
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        const jot_key_t *k = keys[plan[i].key];
        const char *alg = jot_alg_name(plan[i].alg);
        /* 1: everything the options can ask for, with the kid; single key and key set */
        jot_sign_opts_t o = {.alg = plan[i].alg, .kid = NULL, .typ = "JWT"};
        char *tok = NULL;
        size_t len = 0;
        if ((rc = jot_jwt_sign(k, &o, full, &tok, &len)) != JOT_OK)
            die("sign", rc);
        char name[64];
        uint8_t opt = 0x78; /* key set; iss, aud, typ, sub+jti */
        snprintf(name, sizeof name, "%s-full-keyset", alg);
        write_seed("token", name, &opt, 1, tok, len);
        if (i == 0 || plan[i].key != plan[i - 1].key) { /* the same, single key */
            opt = (uint8_t)(0x79 | (plan[i].key << 1));
            snprintf(name, sizeof name, "%s-full-key", alg);
            write_seed("token", name, &opt, 1, tok, len);
        }
        jot_free(tok);
        /* 2: no kid, no typ, fewer claims: the key set picks the one key for the alg */
        o.kid = "";
        o.typ = "";
        if ((rc = jot_jwt_sign(k, &o, small, &tok, &len)) != JOT_OK)
            die("sign", rc);
        opt = 0x80;
        snprintf(name, sizeof name, "%s-nokid", alg);
        write_seed("token", name, &opt, 1, tok, len);
        jot_free(tok);
    }
    /* a JWS whose payload is not JSON, and one with an at+jwt typ */
    static const char payload[] = "not a claim set";
    char *tok = NULL;
    size_t len = 0;
    static const char hdr[] = "{\"alg\":\"EdDSA\",\"kid\":\"fuzz-ed25519\"}";
    rc = jot_jws_sign(keys[3], JOT_ALG_EDDSA, hdr, sizeof hdr - 1, (const uint8_t *)payload,
                      sizeof payload - 1, &tok, &len);
    if (rc != JOT_OK)
        die("jws", rc);
    uint8_t opt = 0;
    write_seed("token", "EdDSA-jws-text", &opt, 1, tok, len);
    jot_free(tok);
    static const char hdr2[] =
        "{\"typ\":\"at+jwt\",\"alg\":\"HS256\",\"cty\":\"JWT\",\"b64\":true}";
    static const char body[] = "{\"exp\":1300822600,\"aud\":[],\"iat\":1300818900.5,\"sub\":\"u\"}";
    rc = jot_jws_sign(keys[0], JOT_ALG_HS256, hdr2, sizeof hdr2 - 1, (const uint8_t *)body,
                      sizeof body - 1, &tok, &len);
    if (rc != JOT_OK)
        die("jws", rc);
    opt = 0xa0;
    write_seed("token", "HS256-atjwt", &opt, 1, tok, len);
    jot_free(tok);
    jot_claims_free(full);
    jot_claims_free(small);
}

static void export_key(const jot_key_t *k, const char *name, int pem)
{
    char *text = NULL;
    size_t len = 0;
    char fname[96];
    jot_err_t rc;
    if (jot_key_is_private(k)) {
        if ((rc = jot_key_to_jwk(k, JOT_JWK_PRIVATE, &text, &len)) != JOT_OK)
            die("to_jwk", rc);
        snprintf(fname, sizeof fname, "%s-private.json", name);
        write_seed("jwk", fname, "", 0, text, len);
        jot_free(text);
    }
    if (jot_key_kty(k) == JOT_KTY_OCT)
        return;
    if ((rc = jot_key_to_jwk(k, JOT_JWK_PUBLIC, &text, &len)) != JOT_OK)
        die("to_jwk", rc);
    snprintf(fname, sizeof fname, "%s-public.json", name);
    write_seed("jwk", fname, "", 0, text, len);
    jot_free(text);
    if (!pem)
        return;
    if ((rc = jot_key_to_pem(k, JOT_JWK_PUBLIC, &text, &len)) != JOT_OK)
        die("to_pem", rc);
    snprintf(fname, sizeof fname, "%s-spki.pem", name);
    write_seed("pem", fname, "", 0, text, len);
    jot_free(text);
    if (jot_key_is_private(k)) {
        if ((rc = jot_key_to_pem(k, JOT_JWK_PRIVATE, &text, &len)) != JOT_OK)
            die("to_pem", rc);
        snprintf(fname, sizeof fname, "%s-pkcs8.pem", name);
        write_seed("pem", fname, "", 0, text, len);
        jot_free(text);
    }
}

static void keyset_seed(jot_key_t *const *keys, size_t n, unsigned flags, const char *name)
{
    jot_keyset_t *set = NULL;
    jot_err_t rc = jot_keyset_new(&set);
    if (rc != JOT_OK)
        die("keyset", rc);
    for (size_t i = 0; i < n; i++) {
        jot_key_t *copy = NULL;
        char *json = NULL;
        size_t len = 0;
        unsigned f = jot_key_kty(keys[i]) == JOT_KTY_OCT ? JOT_JWK_PRIVATE : flags;
        if ((rc = jot_key_to_jwk(keys[i], f, &json, &len)) != JOT_OK ||
            (rc = jot_key_from_jwk(json, len, &copy)) != JOT_OK ||
            (rc = jot_keyset_add(set, copy)) != JOT_OK)
            die("keyset add", rc);
        jot_free(json);
    }
    char *json = NULL;
    size_t len = 0;
    if ((rc = jot_keyset_to_jwks(set, flags, &json, &len)) != JOT_OK)
        die("to_jwks", rc);
    /* the first byte of a jwks input also sets the length of the kid looked up at its end */
    write_seed("jwks", name, "", 0, json, len);
    jot_free(json);
    jot_keyset_free(set);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    jot_key_t *keys[FUZZ_NKEYS];
    for (size_t i = 0; i < FUZZ_NKEYS; i++)
        keys[i] = import(fuzz_key_jwk[i]);
    tokens(keys);

    static const char *const names[FUZZ_NKEYS] = {"hs256", "rs256", "es256", "ed25519"};
    for (size_t i = 0; i < FUZZ_NKEYS; i++)
        export_key(keys[i], names[i], 1);

    /* fresh keys for what the fixed set does not cover */
    static const struct {
        jot_alg_t alg;
        unsigned bits;
        const char *name;
    } fresh[] = {
        {JOT_ALG_ES384, 0, "es384"},         {JOT_ALG_ES512, 0, "es512"},
        {JOT_ALG_ES256K, 0, "es256k"},       {JOT_ALG_EDDSA, 448, "ed448"},
        {JOT_ALG_PS256, 3072, "ps256-3072"}, {JOT_ALG_HS384, 0, "hs384"},
    };
    jot_key_t *gen[sizeof fresh / sizeof fresh[0]];
    for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) {
        jot_err_t rc = jot_key_generate(fresh[i].alg, fresh[i].bits, &gen[i]);
        if (rc != JOT_OK)
            die("generate", rc);
        export_key(gen[i], fresh[i].name, 1);
    }
    keyset_seed(keys + 1, 3, JOT_JWK_PUBLIC, "fixed-public.json");
    keyset_seed(keys, FUZZ_NKEYS, JOT_JWK_PRIVATE, "fixed-private.json");
    keyset_seed(gen, 5, JOT_JWK_PUBLIC, "generated-public.json");

    for (size_t i = 0; i < FUZZ_NKEYS; i++)
        jot_key_free(keys[i]);
    for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++)
        jot_key_free(gen[i]);
    return 0;
}
