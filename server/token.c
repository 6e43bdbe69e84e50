/* Token material of jotd: access JWTs (RFC 9068), refresh tokens and their successors. */
#include "names.h"
#include "server.h"
#include "statuslist.h"
#include "common/random.h"
#include "common/sha256.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <string.h>
#include <time.h>

int64_t jotd_now(void)
{
    return (int64_t)time(NULL);
}

void jotd_random_id(char out[JOTD_SID_LEN + 1])
{
    if (jotx_random_b64url(out, JOTD_SID_LEN + 1, JOTD_SID_BYTES) < 0)
        abort(); /* no randomness: issuing guessable tokens is worse than stopping */
}

void jotd_refresh_new(char out[JOTD_REFRESH_TOKEN_LEN + 1])
{
    if (jotx_random_b64url(out, JOTD_REFRESH_TOKEN_LEN + 1, JOTD_REFRESH_TOKEN_BYTES) < 0)
        abort(); /* as above */
}

void jotd_refresh_successor(const jotd_app_t *app, const char *token, size_t len,
                            char out[JOTD_REFRESH_TOKEN_LEN + 1])
{
    uint8_t mac[32];
    size_t mac_len = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, app->refresh_key, sizeof app->refresh_key,
                   (const unsigned char *)token, len, mac, sizeof mac, &mac_len) ||
        mac_len != sizeof mac)
        abort();
    jot_b64url_encode(out, mac, sizeof mac);
    jot_memzero(mac, sizeof mac);
}

void jotd_refresh_hash(const char *token, size_t len, uint8_t out[JOTD_HASH_LEN])
{
    jotx_sha256(token, len, out);
}

/* "status":{"status_list":{"idx":I,"uri":"<issuer>/statuslists/K"}} for the session's index:
 * the list K = index / N, idx its place in that list (statuslist.h). */
static jot_err_t set_status(jot_claims_t *c, const char *issuer, int64_t status_idx)
{
    if (status_idx < 0)
        return JOT_E_INVAL;
    int64_t k = status_idx / JOTD_STATUS_LIST_BITS;
    size_t n = strlen(issuer) + JOTD_STATUS_URI_EXTRA;
    char *uri = malloc(n);
    if (!uri)
        return JOT_E_NOMEM;
    jot_err_t rc = JOT_E_NOMEM;
    if (jotd_statuslist_uri(issuer, k, uri, n) == 0) {
        json_t *j = json_pack("{s:{s:I,s:s}}", "status_list", "idx",
                              (json_int_t)(status_idx - k * JOTD_STATUS_LIST_BITS), "uri", uri);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text)
            rc = jot_claims_set_json(c, "status", text, strlen(text));
        free(text);
        json_decref(j);
    }
    free(uri);
    return rc;
}

/* The claims every access token of ours has (RFC 9068 §2.2), into \p c. */
static jot_err_t base_claims(jot_claims_t *c, const jotd_runtime_t *rt, const char *sub,
                             const char *aud, const char *client_id, const char *scope, int64_t now,
                             const char *jti)
{
    jot_err_t rc = jot_claims_set_string(c, "iss", rt->cfg.issuer);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "sub", sub);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "aud", aud);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "exp", now + rt->cfg.access_ttl);
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, "iat", now);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "jti", jti);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "client_id", client_id);
    if (rc == JOT_OK && scope && *scope)
        rc = jot_claims_set_string(c, "scope", scope);
    return rc;
}

/* The generation and status claims, then \p c signed as an at+jwt (consumed either way). */
static jot_err_t sign_access(const jotd_runtime_t *rt, jot_claims_t *c, jot_err_t rc, int64_t gen,
                             int64_t status_idx, int64_t now, char **out_token)
{
    if (rc == JOT_OK)
        rc = jot_claims_set_int(c, JOTD_GEN_CLAIM, gen);
    if (rc == JOT_OK)
        rc = set_status(c, rt->cfg.issuer, status_idx);
    if (rc == JOT_OK) {
        jot_sign_opts_t opts = {.typ = "at+jwt"};
        rc = jot_jwt_sign(jotd_keyring_signing_key(rt->keyring, now), &opts, c, out_token, NULL);
    }
    jot_claims_free(c);
    return rc;
}

jot_err_t jotd_access_token(const jotd_runtime_t *rt, const jotd_user_t *user,
                            const jotd_session_t *s, const char *scope, int64_t now,
                            char **out_token, char out_jti[JOTD_SID_LEN + 1])
{
    jot_claims_t *c;
    jot_err_t rc = jot_claims_new(&c);
    if (rc != JOT_OK)
        return rc;
    char sub[24], jti[JOTD_SID_LEN + 1];
    snprintf(sub, sizeof sub, "%lld", (long long)user->id);
    jotd_random_id(jti);
    rc = base_claims(c, rt, sub, rt->cfg.audience, s->client_id, scope, now, jti);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "sid", s->sid);
    if (rc == JOT_OK)
        rc = jot_claims_set_string(c, "preferred_username", user->username);
    if (rc == JOT_OK)
        rc = jot_claims_set_strings(c, "roles", (const char *const *)user->roles, user->n_roles);
    if (rc == JOT_OK)
        rc = jot_claims_set_strings(c, "permissions", (const char *const *)user->permissions,
                                    user->n_permissions);
    rc = sign_access(rt, c, rc, user->generation, s->status_idx, now, out_token);
    if (rc != JOT_OK)
        return rc;
    if (out_jti)
        memcpy(out_jti, jti, sizeof jti);
    return JOT_OK;
}

jot_err_t jotd_client_token(const jotd_runtime_t *rt, const jotd_client_t *cl, const char *aud,
                            const char *scope, int64_t now, char **out_token)
{
    jot_claims_t *c;
    jot_err_t rc = jot_claims_new(&c);
    if (rc != JOT_OK)
        return rc;
    char jti[JOTD_SID_LEN + 1];
    jotd_random_id(jti);
    rc = base_claims(c, rt, cl->client_id, aud, cl->client_id, scope, now, jti);
    return sign_access(rt, c, rc, cl->generation, cl->status_idx, now, out_token);
}

int jotd_client_void_key(const char *client_id, int64_t gen, char out[JOTD_CLIENT_VOID_KEY_MAX])
{
    int n = snprintf(out, JOTD_CLIENT_VOID_KEY_MAX, "%s\n%lld", client_id, (long long)gen);
    return n > 0 && n < JOTD_CLIENT_VOID_KEY_MAX ? n : -1;
}

const char jotd_reason_revoked[] = "token revoked";
static const char reason_session_ended[] = "session ended";
static const char reason_client_disabled[] = "client disabled";
static const char reason_superseded[] = "token superseded: the user changed";

const char *jotd_token_void_reason(jotd_app_t *app, const char *jti, const char *sid,
                                   const char *sub, int64_t gen, int64_t now)
{
    if (jti && jotd_denylist_contains(app->deny, jti, strlen(jti), now))
        return jotd_reason_revoked;
    if (sid && *sid && jotd_denylist_contains(app->ended_sessions, sid, strlen(sid), now))
        return reason_session_ended;
    if ((!sid || !*sid) && sub && app->void_clients) { /* a service token: sub is its client */
        char key[JOTD_CLIENT_VOID_KEY_MAX];
        int n = jotd_client_void_key(sub, gen, key);
        if (n < 0 || jotd_denylist_contains(app->void_clients, key, (size_t)n, now))
            return reason_client_disabled;
    }
    int64_t uid;
    /* sub is a user id in the tokens of users (they have a sid); a generation counts only
     * for those: a service token's sub is a client id, which may look like a number */
    if (sid && *sid && sub && jotd_parse_id(sub, &uid) == 0 &&
        gen < jotd_genmap_get(app->gens, uid))
        return reason_superseded;
    return NULL;
}

const char *jotd_token_rejection(jot_err_t rc)
{
    switch (rc) {
    case JOT_E_MALFORMED:
    case JOT_E_BASE64:
    case JOT_E_JSON:
    case JOT_E_JSON_DUPLICATE:
    case JOT_E_JSON_DEPTH:
    case JOT_E_UTF8:
    case JOT_E_PAYLOAD:
    case JOT_E_HEADER:
        return jot_strerror(JOT_E_MALFORMED);
    default:
        return jot_strerror(rc);
    }
}

/* The token's aud (a string or an array of strings) holds \p want. */
static bool aud_has(const jot_claims_t *c, const char *want)
{
    size_t n = 0;
    const char *v;
    if (!want || jot_claims_get_strings_count(c, "aud", &n) != JOT_OK)
        return false;
    for (size_t i = 0; i < n; i++)
        if (jot_claims_get_strings_at(c, "aud", i, &v) == JOT_OK && strcmp(v, want) == 0)
            return true;
    return false;
}

jot_err_t jotd_access_verify(jotd_app_t *app, const jotd_runtime_t *rt, const char *token,
                             size_t len, jot_token_t **out, const char **reason)
{
    jot_token_t *t;
    jot_err_t rc = jot_verify(rt->access_verifier, token, len, &t);
    if (rc != JOT_OK) {
        *reason = jotd_token_rejection(rc);
        return rc;
    }
    const char *jti = NULL;
    if (jot_claims_get_string(jot_token_claims(t), "jti", &jti) != JOT_OK) {
        jot_token_free(t);
        *reason = "token has no jti";
        return JOT_E_MISSING_CLAIM;
    }
    const jot_claims_t *c = jot_token_claims(t);
    const char *sid = NULL, *sub = NULL;
    int64_t gen = 0;
    if (jot_claims_get_string(c, "sid", &sid) != JOT_OK)
        sid = NULL;
    if (jot_claims_get_string(c, "sub", &sub) != JOT_OK)
        sub = NULL;
    if (jot_claims_get_int(c, JOTD_GEN_CLAIM, &gen) != JOT_OK)
        gen = 0; /* tokens of an earlier release: generation 0 */
    const char *why = NULL;
    if (sid && *sid) {
        /* a user's token: the server's audience (the verifier checks none: a service
         * token's audience is its resource) */
        if (!aud_has(c, rt->cfg.audience))
            why = jot_strerror(JOT_E_AUDIENCE);
    } else {
        const char *cid = NULL;
        if (!sub || jot_claims_get_string(c, "client_id", &cid) != JOT_OK || strcmp(cid, sub) != 0)
            why = "token has no sid"; /* neither a user's token nor a service token */
    }
    if (why) {
        jot_token_free(t);
        *reason = why;
        return JOT_E_AUDIENCE;
    }
    why = jotd_token_void_reason(app, jti, sid, sub, gen, jotd_now());
    if (why) {
        jot_token_free(t);
        *reason = why;
        return JOT_E_EXPIRED;
    }
    *out = t;
    return JOT_OK;
}
