/* POST /revoke (RFC 7009), POST /introspect (RFC 7662), POST /logout. */
#include "log.h"
#include "server.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A compact JWS has exactly two dots; our refresh tokens have none. */
static bool looks_like_jwt(const char *t)
{
    const char *d = strchr(t, '.');
    return d && strchr(d + 1, '.') && !strchr(strchr(d + 1, '.') + 1, '.');
}

/* Put an access token's jti on the denylist (memory and store) until its exp. */
static jotd_rc_t deny_access(jotd_app_t *app, const jot_token_t *t)
{
    const jot_claims_t *c = jot_token_claims(t);
    const char *jti;
    int64_t exp;
    if (jot_claims_get_string(c, "jti", &jti) != JOT_OK ||
        jot_claims_get_int(c, "exp", &exp) != JOT_OK)
        return JOTD_E_INVAL;
    jotd_rc_t rc = jotd_store_deny_add(app->store, jti, exp);
    if (rc == JOTD_OK)
        jotd_denylist_add(app->deny, jti, strlen(jti), exp);
    return rc;
}

/* RFC 7009 §2.1: a token of a confidential client is revoked only by that client,
 * authenticated; a token of a public client (or of the default client) by whoever holds it;
 * an authenticated client never revokes another client's tokens. */
static bool may_revoke(jotd_app_t *app, jotd_client_auth_t auth, const char *requester,
                       const char *owner)
{
    if (!owner)
        return false;
    if (requester)
        return strcmp(requester, owner) == 0 &&
               (auth == JOTD_CLIENT_CONFIDENTIAL || auth == JOTD_CLIENT_PUBLIC);
    char *hash = NULL;
    jotd_rc_t rc = jotd_store_client_get(app->store, owner, &hash);
    bool confidential = rc == JOTD_OK && hash != NULL;
    free(hash);
    return !confidential; /* unknown owner: the default client, a public one */
}

static const char *claim_str(const jot_token_t *t, const char *name)
{
    const char *v = NULL;
    return jot_claims_get_string(jot_token_claims(t), name, &v) == JOT_OK ? v : NULL;
}

void jotd_route_revoke(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    char *client_id = NULL;
    jotd_client_auth_t auth = jotd_client_authenticate(app, req, &params, &client_id);
    const char *token = jotd_params_get(&params, "token");
    if (auth == JOTD_CLIENT_INVALID) {
        jotd_resp_invalid_client(resp);
    } else if (!token || !*token) {
        jotd_resp_error(resp, 400, "invalid_request", "token is required");
    } else {
        /* RFC 7009 §2.2: invalid, unknown or foreign tokens get 200 all the same */
        jotd_rc_t rc = JOTD_OK;
        if (looks_like_jwt(token)) {
            jot_token_t *t = NULL;
            const char *why;
            if (jotd_access_verify(app, rt, token, strlen(token), &t, &why) == JOT_OK) {
                if (may_revoke(app, auth, client_id, claim_str(t, "client_id"))) {
                    rc = deny_access(app, t);
                    if (rc == JOTD_OK)
                        jotd_audit("revoke_access_token", "jti", claim_str(t, "jti"), "sid",
                                   claim_str(t, "sid"), "ip", req->ip, NULL);
                }
                jot_token_free(t);
            }
        } else {
            uint8_t hash[JOTD_HASH_LEN];
            jotd_session_t s = {0};
            bool live;
            jotd_refresh_hash(token, strlen(token), hash);
            rc = jotd_store_refresh_lookup(app->store, hash, jotd_now(), &s, &live);
            if (rc == JOTD_OK && may_revoke(app, auth, client_id, s.client_id)) {
                rc = jotd_store_session_revoke(app->store, s.sid, jotd_now());
                if (rc == JOTD_OK)
                    jotd_audit("revoke_refresh_token", "sid", s.sid, "ip", req->ip, NULL);
            } else if (rc == JOTD_OK || rc == JOTD_E_NOTFOUND) {
                rc = JOTD_OK; /* unknown or not this client's: 200 all the same */
            }
            jotd_session_clear(&s);
        }
        if (rc == JOTD_OK || rc == JOTD_E_INVAL)
            jotd_resp_json(resp, 200, json_object());
        else
            jotd_resp_unavailable(resp, rc);
    }
    free(client_id);
    jotd_params_clear(&params);
}

/* An active answer comes from the verified-token cache (the claims of a token do not change);
 * the session and the user are read from the store on every request. */
static void introspect_access(jotd_app_t *app, const jotd_runtime_t *rt, const char *token,
                              jotd_resp_t *resp)
{
    jotd_verified_t v;
    const char *why;
    jot_err_t vrc = jotd_access_check(app, rt, token, strlen(token), true, &v, &why);
    if (vrc == JOT_E_NOMEM) {
        jotd_resp_error(resp, 500, "server_error", NULL);
        return;
    }
    if (vrc != JOT_OK) {
        jotd_resp_json(resp, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    /* beyond the signature: the session must still be alive and the user enabled */
    jotd_session_t s = {0};
    bool active = false;
    jotd_rc_t rc = *v.sid ? jotd_store_session_get(app->store, v.sid, jotd_now(), &s, &active)
                          : JOTD_E_NOTFOUND;
    jotd_session_clear(&s);
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND) {
        jotd_verified_clear(&v);
        jotd_resp_unavailable(resp, rc);
        return;
    }
    if (rc != JOTD_OK || !active) {
        jotd_verified_clear(&v);
        jotd_resp_json(resp, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    free(resp->body);
    resp->body = strdup(v.introspection);
    jotd_verified_clear(&v);
    if (!resp->body) {
        jotd_resp_error(resp, 500, "server_error", NULL);
        return;
    }
    resp->body_len = strlen(resp->body);
    resp->content_type = "application/json";
    resp->status = 200;
}

static void introspect_refresh(jotd_app_t *app, const char *token, jotd_resp_t *resp)
{
    uint8_t hash[JOTD_HASH_LEN];
    jotd_session_t s = {0};
    bool live = false;
    jotd_refresh_hash(token, strlen(token), hash);
    jotd_rc_t rc = jotd_store_refresh_lookup(app->store, hash, jotd_now(), &s, &live);
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND) {
        jotd_resp_unavailable(resp, rc);
        return;
    }
    if (rc != JOTD_OK || !live) {
        jotd_session_clear(&s);
        jotd_resp_json(resp, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    char sub[24];
    snprintf(sub, sizeof sub, "%lld", (long long)s.user_id);
    json_t *out = json_pack("{s:b,s:s,s:s,s:s,s:s,s:I,s:I}", "active", 1, "token_type",
                            "refresh_token", "client_id", s.client_id, "sub", sub, "sid", s.sid,
                            "exp", (json_int_t)s.expires_at, "iat", (json_int_t)s.created_at);
    if (out && s.scope && *s.scope)
        json_object_set_new(out, "scope", json_string(s.scope));
    jotd_session_clear(&s);
    jotd_resp_json(resp, 200, out);
}

/* Runs on the event loop first (http.c): with cached client credentials an introspection
 * needs no Argon2, only the verified-token cache and one store read (a WAL reader never
 * waits for a writer), so the hand-off to a worker would cost more than the work. */
void jotd_route_introspect(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    char *client_id = NULL;
    const char *token = jotd_params_get(&params, "token");
    jotd_client_auth_t auth = jotd_client_authenticate(app, req, &params, &client_id);
    if (auth != JOTD_CLIENT_CONFIDENTIAL && req->on_event_loop)
        resp->status = JOTD_STATUS_DEFER; /* credentials not cached: again on a worker */
    else if (auth != JOTD_CLIENT_CONFIDENTIAL)
        jotd_resp_invalid_client(resp); /* RFC 7662 §2.1: the caller must authenticate */
    else if (!token || !*token)
        jotd_resp_error(resp, 400, "invalid_request", "token is required");
    else if (looks_like_jwt(token))
        introspect_access(app, rt, token, resp);
    else
        introspect_refresh(app, token, resp);
    free(client_id);
    jotd_params_clear(&params);
}

void jotd_route_logout(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    size_t blen = 0;
    const char *bearer = req->authorization ? jotd_bearer_token(req->authorization, &blen) : NULL;
    const char *refresh = jotd_params_get(&params, "refresh_token");
    jotd_rc_t rc = JOTD_OK;
    if (!bearer && !refresh) {
        jotd_resp_error(resp, 400, "invalid_request", "send a bearer token or a refresh_token");
        jotd_params_clear(&params);
        return;
    }
    if (bearer) {
        jot_token_t *t = NULL;
        const char *why;
        if (jotd_access_verify(app, rt, bearer, blen, &t, &why) != JOT_OK) {
            if (why == jotd_reason_revoked) { /* logged out already: nothing left to end */
                resp->status = 204;
            } else {
                jotd_resp_bearer_challenge(resp, "invalid_token", why);
            }
            jotd_params_clear(&params);
            return;
        }
        rc = deny_access(app, t);
        const char *sid = claim_str(t, "sid");
        if (rc == JOTD_OK && sid)
            rc = jotd_store_session_revoke(app->store, sid, jotd_now());
        if (rc == JOTD_OK)
            jotd_audit("logout", "sid", sid, "jti", claim_str(t, "jti"), "ip", req->ip, NULL);
        jot_token_free(t);
    }
    if (rc == JOTD_OK && refresh) {
        uint8_t hash[JOTD_HASH_LEN];
        jotd_session_t s = {0};
        bool live;
        jotd_refresh_hash(refresh, strlen(refresh), hash);
        rc = jotd_store_refresh_lookup(app->store, hash, jotd_now(), &s, &live);
        if (rc == JOTD_OK) {
            rc = jotd_store_session_revoke(app->store, s.sid, jotd_now());
            if (rc == JOTD_OK)
                jotd_audit("logout", "sid", s.sid, "ip", req->ip, NULL);
        } else if (rc == JOTD_E_NOTFOUND) {
            rc = JOTD_OK; /* already gone: logging out twice is fine */
        }
        jotd_session_clear(&s);
    }
    if (rc == JOTD_OK) {
        resp->status = 204;
    } else {
        jotd_resp_unavailable(resp, rc);
    }
    jotd_params_clear(&params);
}
