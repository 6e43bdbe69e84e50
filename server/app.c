/* The runtime of a serving jotd: what SIGHUP rebuilds from the configuration and keys. */
#include "server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *endpoint(const char *issuer, const char *path)
{
    size_t n = strlen(issuer);
    while (n && issuer[n - 1] == '/')
        n--;
    char *s = malloc(n + strlen(path) + 1);
    if (s) {
        memcpy(s, issuer, n);
        memcpy(s + n, path, strlen(path) + 1);
    }
    return s;
}

static json_t *alg_names(unsigned mask)
{
    json_t *a = json_array();
    for (int alg = JOT_ALG_HS256; alg < JOT_ALG__COUNT; alg++)
        if (mask & JOT_ALG_BIT(alg))
            json_array_append_new(a, json_string(jot_alg_name((jot_alg_t)alg)));
    return a;
}

/* RFC 8414 authorization server metadata. */
static char *metadata(const jotd_config_t *cfg, unsigned algs)
{
    static const struct {
        const char *name, *path;
    } eps[] = {
        {"authorization_endpoint", "/authorize"}, {"token_endpoint", "/token"},
        {"revocation_endpoint", "/revoke"},       {"introspection_endpoint", "/introspect"},
        {"userinfo_endpoint", "/userinfo"},       {"jwks_uri", "/.well-known/jwks.json"},
    };
    json_t *m = json_object();
    json_object_set_new(m, "issuer", json_string(cfg->issuer));
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        char *url = endpoint(cfg->issuer, eps[i].path);
        json_object_set_new(m, eps[i].name, json_string(url ? url : ""));
        free(url);
    }
    json_object_set_new(m, "grant_types_supported",
                        json_pack("[s,s,s,s]", "authorization_code", "password", "refresh_token",
                                  "client_credentials"));
    json_object_set_new(m, "response_types_supported", json_pack("[s]", "code"));
    json_object_set_new(m, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    json_object_set_new(m, "authorization_response_iss_parameter_supported", json_true());
    json_object_set_new(m, "token_endpoint_auth_methods_supported",
                        json_pack("[s,s,s,s]", "client_secret_basic", "client_secret_post",
                                  "private_key_jwt", "none"));
    json_object_set_new(m, "revocation_endpoint_auth_methods_supported",
                        json_pack("[s,s,s,s]", "client_secret_basic", "client_secret_post",
                                  "private_key_jwt", "none"));
    json_object_set_new(
        m, "introspection_endpoint_auth_methods_supported",
        json_pack("[s,s,s]", "client_secret_basic", "client_secret_post", "private_key_jwt"));
    /* RFC 8414 §2: the algorithms of private_key_jwt assertions (asymmetric only) */
    json_object_set_new(m, "token_endpoint_auth_signing_alg_values_supported",
                        alg_names(JOTD_ASSERTION_ALGS));
    json_object_set_new(m, "revocation_endpoint_auth_signing_alg_values_supported",
                        alg_names(JOTD_ASSERTION_ALGS));
    json_object_set_new(m, "introspection_endpoint_auth_signing_alg_values_supported",
                        alg_names(JOTD_ASSERTION_ALGS));
    json_object_set_new(m, "access_token_signing_alg_values_supported", alg_names(algs));
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return s;
}

/* A verifier of our access tokens: keys, algorithms, iss, typ at+jwt, jti and sub. The
 * audience is checked by jotd_access_verify(): the server's for a user's token, the resource
 * it was issued for for a service token (client_credentials). */
static jot_verifier_t *access_verifier(const jotd_config_t *cfg, const jotd_keyring_t *kr,
                                       int64_t leeway)
{
    jot_verifier_t *v = NULL;
    if (jot_verifier_new(&v) != JOT_OK || jot_verifier_set_issuer(v, cfg->issuer) != JOT_OK ||
        jot_verifier_set_typ(v, "at+jwt") != JOT_OK ||
        jot_verifier_require_claim(v, "jti") != JOT_OK ||
        jot_verifier_require_claim(v, "sub") != JOT_OK) {
        jot_verifier_free(v);
        return NULL;
    }
    jot_verifier_set_keyset(v, jotd_keyring_verify_keys(kr));
    jot_verifier_set_algs(v, jotd_keyring_algs(kr));
    jot_verifier_set_leeway(v, leeway);
    return v;
}

jotd_rc_t jotd_runtime_new(jotd_config_t *cfg, jotd_store_t *st, const jotd_kek_t *kek, int64_t now,
                           jotd_runtime_t **out, char *err, size_t errlen)
{
    if (!err)
        errlen = 0; /* snprintf(NULL, 0, ...) writes nothing */
    jotd_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return JOTD_E_NOMEM;
    }
    jotd_rc_t rc = jotd_keyring_load(st, kek, cfg->access_ttl, now, &rt->keyring, err, errlen);
    if (rc != JOTD_OK) {
        free(rt);
        return rc;
    }
    /* a little skew between instances behind one issuer */
    rt->access_verifier = access_verifier(cfg, rt->keyring, 5);
    /* /logout: an expired access token still names the session it belonged to */
    rt->logout_verifier = access_verifier(cfg, rt->keyring, cfg->refresh_abs_ttl);
    rt->metadata_json = metadata(cfg, jotd_keyring_algs(rt->keyring));
    rt->vcache = jotd_vcache_new(cfg->verify_cache_size);
    if (!rt->access_verifier || !rt->logout_verifier || !rt->metadata_json ||
        (cfg->verify_cache_size && !rt->vcache)) {
        snprintf(err, errlen, "out of memory");
        rt->cfg = *cfg;
        memset(cfg, 0, sizeof *cfg);
        jotd_runtime_free(rt);
        return JOTD_E_NOMEM;
    }
    rt->cfg = *cfg; /* taken over */
    memset(cfg, 0, sizeof *cfg);
    *out = rt;
    return JOTD_OK;
}

void jotd_runtime_free(jotd_runtime_t *rt)
{
    if (!rt)
        return;
    jotd_vcache_free(rt->vcache);
    jot_verifier_free(rt->access_verifier);
    jot_verifier_free(rt->logout_verifier);
    jotd_keyring_free(rt->keyring);
    free(rt->metadata_json);
    jotd_config_free(&rt->cfg);
    free(rt);
}

jotd_rc_t jotd_dummy_params(jotd_store_t *st, const jotd_argon2_t *fallback, jotd_argon2_t *out)
{
    char field[48];
    jotd_argon2_t p = *fallback;
    jotd_rc_t rc = jotd_store_user_hash_params(st, field, sizeof field);
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND && rc != JOTD_E_INVAL)
        return rc;
    /* no stored hash, or parameters we would refuse to verify anyway: the settings */
    if (rc != JOTD_OK || jotd_password_params_parse(field, strlen(field), &p) != 0)
        p = *fallback;
    *out = p;
    return JOTD_OK;
}
