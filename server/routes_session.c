/* POST /revoke (RFC 7009), POST /introspect (RFC 7662), POST /logout. */
#include "log.h"
#include "metrics.h"
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

static const char *claim_str(const jot_token_t *t, const char *name)
{
    const char *v = NULL;
    return jot_claims_get_string(jot_token_claims(t), name, &v) == JOT_OK ? v : NULL;
}

/* 503 for a revocation that memory could not hold: it must never be reported done. */
static void resp_not_recorded(jotd_resp_t *resp)
{
    jotd_log("error", "%s",
             "revocation NOT recorded: the in-memory table is full or out of "
             "memory; answering 503 (see docs/jotd.md, Limits)");
    jotd_resp_error(resp, 503, "temporarily_unavailable", "revocation not recorded, retry later");
    jotd_resp_header(resp, "Retry-After", "1");
}

/* Put an access token's jti on the denylist until its exp: memory first (the table that
 * /verify reads; when it cannot hold the entry nothing is written and the caller answers
 * 503), then the store (with its event, for restarts and the other instances); when the
 * store fails, the memory entry is taken back, so that a revocation answered 503 took no
 * effect anywhere. An expired token needs no entry. JOTD_E_NOMEM: memory refused. */
static jotd_rc_t deny_access(jotd_app_t *app, const jot_token_t *t)
{
    const jot_claims_t *c = jot_token_claims(t);
    const char *jti;
    int64_t exp;
    if (jot_claims_get_string(c, "jti", &jti) != JOT_OK ||
        jot_claims_get_int(c, "exp", &exp) != JOT_OK)
        return JOTD_E_INVAL;
    if (exp <= jotd_now() - 60) /* past exp and any leeway: void already */
        return JOTD_OK;
    int added = jotd_denylist_add(app->deny, jti, strlen(jti), exp);
    if (added < 0)
        return JOTD_E_NOMEM;
    jotd_rc_t rc = jotd_store_deny_add(app->store, jti, exp);
    if (rc != JOTD_OK && added == 1)
        jotd_denylist_remove(app->deny, jti, strlen(jti));
    return rc;
}

/* End a session in the store and in memory at once (its event reaches the others). An
 * unknown session is ended already. JOTD_E_NOMEM: memory refused (the store has it). */
static jotd_rc_t end_session(jotd_app_t *app, const jotd_runtime_t *rt, const char *sid)
{
    int64_t now = jotd_now();
    jotd_rc_t rc = jotd_store_session_revoke(app->store, sid, now);
    if (rc == JOTD_E_NOTFOUND)
        return JOTD_OK;
    if (rc == JOTD_OK && jotd_session_ended(app, sid, now, rt->cfg.access_ttl) != 0)
        return JOTD_E_NOMEM;
    return rc;
}

/* RFC 7009 §2.1: a token of a confidential client is ended only by that client,
 * authenticated; a token of a public client by whoever holds it, unless the request names
 * another client. \p requester is the authenticated or named client (NULL: none named). */
static jotd_rc_t may_end(jotd_app_t *app, const jotd_client_t *requester, const char *owner,
                         bool *ok)
{
    *ok = false;
    if (!owner)
        return JOTD_OK;
    if (requester) {
        *ok = strcmp(requester->client_id, owner) == 0;
        return JOTD_OK;
    }
    jotd_client_t o = {0};
    jotd_rc_t rc = jotd_store_client_get(app->store, owner, &o);
    if (rc == JOTD_E_NOTFOUND) { /* a client since deleted: its tokens are no one's */
        *ok = true;
        return JOTD_OK;
    }
    *ok = rc == JOTD_OK && !jotd_client_is_confidential(&o);
    jotd_client_clear(&o);
    return rc;
}

/* Answer a store or memory failure of a revocation. */
static void resp_revocation_failed(jotd_resp_t *resp, jotd_rc_t rc)
{
    if (rc == JOTD_E_NOMEM)
        resp_not_recorded(resp);
    else
        jotd_resp_unavailable(resp, rc);
}

void jotd_route_revoke(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    jotd_client_t cl = {0};
    int64_t retry = 0;
    jotd_client_auth_t auth = jotd_client_authenticate(app, rt, req, &params, &cl, &retry);
    const jotd_client_t *requester = auth == JOTD_CLIENT_NONE ? NULL : &cl;
    const char *token = jotd_params_get(&params, "token");
    if (auth != JOTD_CLIENT_NONE && auth != JOTD_CLIENT_PUBLIC &&
        auth != JOTD_CLIENT_CONFIDENTIAL) {
        jotd_resp_client_error(resp, req, auth, retry);
    } else if (!token || !*token) {
        jotd_resp_error(resp, 400, "invalid_request", "token is required");
    } else {
        /* RFC 7009 §2.2: invalid, unknown or foreign tokens get 200 all the same */
        jotd_rc_t rc = JOTD_OK;
        bool ok = false;
        if (looks_like_jwt(token)) {
            jot_token_t *t = NULL;
            const char *why;
            if (jotd_access_verify(app, rt, token, strlen(token), &t, &why) == JOT_OK) {
                rc = may_end(app, requester, claim_str(t, "client_id"), &ok);
                if (rc == JOTD_OK && ok)
                    rc = deny_access(app, t);
                if (rc == JOTD_OK && ok) {
                    jotd_metrics_inc(JOTD_M_REVOCATION);
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
            if (rc == JOTD_OK)
                rc = may_end(app, requester, s.client_id, &ok);
            if (rc == JOTD_OK && ok)
                rc = end_session(app, rt, s.sid);
            if (rc == JOTD_OK && ok) {
                jotd_metrics_inc(JOTD_M_REVOCATION);
                jotd_audit("revoke_refresh_token", "sid", s.sid, "ip", req->ip, NULL);
            }
            if (rc == JOTD_E_NOTFOUND)
                rc = JOTD_OK; /* unknown: 200 all the same */
            jotd_session_clear(&s);
        }
        if (rc == JOTD_OK || rc == JOTD_E_INVAL)
            jotd_resp_json(resp, 200, json_object());
        else
            resp_revocation_failed(resp, rc);
    }
    jotd_client_clear(&cl);
    jotd_params_clear(&params);
}

/* An audience of the token (its '\n'-separated list) that the client serves. */
static bool serves_audience(const jotd_client_t *cl, const char *auds)
{
    for (const char *p = auds; *p;) {
        size_t n = strcspn(p, "\n");
        for (size_t i = 0; i < cl->n_introspect; i++)
            if (strlen(cl->introspect[i]) == n && memcmp(cl->introspect[i], p, n) == 0)
                return true;
        p += n + (p[n] == '\n');
    }
    return false;
}

static void inactive(jotd_resp_t *resp)
{
    jotd_resp_json(resp, 200, json_pack("{s:b}", "active", 0));
}

/* An active answer comes from the verified-token cache (the claims of a token do not change);
 * the session and the user are read from the store on every request. */
static void introspect_access(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_client_t *cl,
                              const char *token, jotd_resp_t *resp)
{
    jotd_verified_t v;
    const char *why;
    jot_err_t vrc = jotd_access_check(app, rt, token, strlen(token), true, &v, &why);
    if (vrc == JOT_E_NOMEM) {
        jotd_resp_error(resp, 500, "server_error", NULL);
        return;
    }
    if (vrc != JOT_OK) {
        inactive(resp);
        return;
    }
    if (!serves_audience(cl, v.aud)) { /* RFC 7662 §4: not a token meant for this caller */
        jotd_verified_clear(&v);
        inactive(resp);
        return;
    }
    /* beyond the signature: the session must still be alive and the user enabled; a service
     * token (no sid, sub = its client: jotd_access_verify) needs its client still there */
    jotd_session_t s = {0};
    jotd_client_t owner = {0};
    bool active = false;
    jotd_rc_t rc;
    if (*v.sid) {
        rc = jotd_store_session_get(app->store, v.sid, jotd_now(), &s, &active);
    } else {
        rc = jotd_store_client_get(app->store, v.hdr[0], &owner);
        active = rc == JOTD_OK && !owner.disabled && v.gen >= owner.generation;
    }
    jotd_session_clear(&s);
    jotd_client_clear(&owner);
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND) {
        jotd_verified_clear(&v);
        jotd_resp_unavailable(resp, rc);
        return;
    }
    if (rc != JOTD_OK || !active) {
        jotd_verified_clear(&v);
        inactive(resp);
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

/* A refresh token is active only to the client it was issued to. */
static void introspect_refresh(jotd_app_t *app, const jotd_client_t *cl, const char *token,
                               jotd_resp_t *resp)
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
    if (rc != JOTD_OK || !live || strcmp(s.client_id, cl->client_id) != 0) {
        jotd_session_clear(&s);
        inactive(resp);
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
 * needs no store read for the client, only the verified-token cache and one store read (a
 * WAL reader never waits for a writer), so the hand-off to a worker would cost more than the
 * work. Only clients registered as resource servers (--introspect AUD) may introspect, and
 * only tokens meant for an audience they serve (RFC 7662 §4). */
void jotd_route_introspect(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    jotd_client_t cl = {0};
    int64_t retry = 0;
    const char *token = jotd_params_get(&params, "token");
    jotd_client_auth_t auth = jotd_client_authenticate(app, rt, req, &params, &cl, &retry);
    if (auth == JOTD_CLIENT_THROTTLED)
        jotd_resp_client_error(resp, req, auth, retry);
    else if (auth != JOTD_CLIENT_CONFIDENTIAL && req->on_event_loop)
        resp->status = JOTD_STATUS_DEFER;      /* credentials not cached: again on a worker */
    else if (auth != JOTD_CLIENT_CONFIDENTIAL) /* RFC 7662 §2.1: the caller must authenticate */
        jotd_resp_client_error(resp, req, auth == JOTD_CLIENT_PUBLIC ? JOTD_CLIENT_INVALID : auth,
                               retry);
    else if (cl.n_introspect == 0)
        jotd_resp_error(resp, 403, "access_denied",
                        "this client is not registered to introspect tokens");
    else if (!token || !*token)
        jotd_resp_error(resp, 400, "invalid_request", "token is required");
    else if (looks_like_jwt(token))
        introspect_access(app, rt, &cl, token, resp);
    else
        introspect_refresh(app, &cl, token, resp);
    jotd_client_clear(&cl);
    jotd_params_clear(&params);
}

/* The outcome of one credential of a logout: the first failure is the answer. */
typedef struct logout {
    jotd_resp_t *resp;
    bool failed;
    char *cookie_client; /* a cookie-mode client whose refresh cookie is cleared (malloc'd) */
} logout_t;

/* The session of \p client_id ended: clear its refresh cookie if it is a cookie-mode client. */
static void logout_cookie_client(jotd_app_t *app, const char *client_id, logout_t *lo)
{
    jotd_client_t c = {0};
    if (!lo->cookie_client && client_id &&
        jotd_store_client_get(app->store, client_id, &c) == JOTD_OK && c.cookie_mode)
        lo->cookie_client = strdup(client_id);
    jotd_client_clear(&c);
}

static void logout_fail_client(logout_t *lo)
{
    if (lo->failed)
        return;
    lo->failed = true;
    jotd_resp_error(lo->resp, 401, "invalid_client",
                    "this token belongs to a confidential client: authenticate as that client");
}

static void logout_fail_rc(logout_t *lo, jotd_rc_t rc)
{
    if (!lo->failed) {
        lo->failed = true;
        resp_revocation_failed(lo->resp, rc);
    }
}

/* The refresh token: end its session (ownership as /revoke). Unknown: ended already. */
static void logout_refresh(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           const jotd_client_t *requester, const char *refresh, logout_t *lo)
{
    uint8_t hash[JOTD_HASH_LEN];
    jotd_session_t s = {0};
    bool live, ok = false;
    jotd_refresh_hash(refresh, strlen(refresh), hash);
    jotd_rc_t rc = jotd_store_refresh_lookup(app->store, hash, jotd_now(), &s, &live);
    if (rc == JOTD_OK)
        rc = may_end(app, requester, s.client_id, &ok);
    if (rc == JOTD_OK && !ok)
        logout_fail_client(lo);
    if (rc == JOTD_OK && ok)
        rc = end_session(app, rt, s.sid);
    if (rc == JOTD_OK && ok) {
        jotd_metrics_inc(JOTD_M_REVOCATION);
        jotd_audit("logout", "sid", s.sid, "ip", req->ip, NULL);
    }
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND)
        logout_fail_rc(lo, rc);
    jotd_session_clear(&s);
}

/* The bearer: an access token of ours, expired or revoked or not, names its session; end
 * that session and denylist the token (ownership as /revoke). */
static void logout_bearer(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          const jotd_client_t *requester, const char *bearer, size_t blen,
                          logout_t *lo)
{
    jot_token_t *t = NULL;
    jot_err_t vrc = jot_verify(rt->logout_verifier, bearer, blen, &t);
    if (vrc != JOT_OK) {
        if (!lo->failed) {
            lo->failed = true;
            jotd_resp_bearer_challenge(lo->resp, "invalid_token", jotd_token_rejection(vrc));
        }
        return;
    }
    bool ok = false;
    const char *sid = claim_str(t, "sid");
    jotd_rc_t rc = may_end(app, requester, claim_str(t, "client_id"), &ok);
    if (rc == JOTD_OK && !ok)
        logout_fail_client(lo);
    if (rc == JOTD_OK && ok)
        rc = deny_access(app, t);
    if (rc == JOTD_OK && ok && sid)
        rc = end_session(app, rt, sid);
    if (rc == JOTD_OK && ok) {
        jotd_metrics_inc(JOTD_M_REVOCATION);
        jotd_audit("logout", "sid", sid, "jti", claim_str(t, "jti"), "ip", req->ip, NULL);
        logout_cookie_client(app, claim_str(t, "client_id"), lo);
    }
    if (rc != JOTD_OK)
        logout_fail_rc(lo, rc);
    jot_token_free(t);
}

/* Each credential given is judged on its own, and every one that can be honoured is, even
 * when another fails; 204 only when every session named has ended. A confidential client's
 * tokens need that client's credentials (Basic or client_id/client_secret), as at /revoke. */
void jotd_route_logout(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    size_t blen = 0;
    const char *refresh = jotd_params_get(&params, "refresh_token");
    /* an Authorization header carries either the bearer or the client's Basic credentials */
    const char *bearer = req->authorization ? jotd_bearer_token(req->authorization, &blen) : NULL;
    if (!bearer && !refresh && jotd_params_get(&params, "csrf")) { /* the login page's form */
        jotd_browser_logout(app, rt, req, &params, resp);
        jotd_params_clear(&params);
        return;
    }
    jotd_client_t cl = {0};
    int64_t retry = 0;
    jotd_client_auth_t auth = jotd_client_authenticate(app, rt, req, &params, &cl, &retry);
    logout_t lo = {resp, false, NULL};
    char cookie[JOTD_REFRESH_TOKEN_LEN + 8], name[128];
    const char *why = NULL;
    if (auth == JOTD_CLIENT_PUBLIC && cl.cookie_mode && !bearer && !refresh &&
        jotd_refresh_cookie_name(rt, cl.client_id, name, sizeof name) == 0 &&
        jotd_cookie_get(req, name, cookie, sizeof cookie)) { /* its refresh cookie */
        if ((why = jotd_cookie_request_refusal(req, &cl)) == NULL) {
            refresh = cookie;
            lo.cookie_client = strdup(cl.client_id);
        }
    }
    if (why) {
        jotd_cors_refused(req, &cl, why, resp);
    } else if (auth != JOTD_CLIENT_NONE && auth != JOTD_CLIENT_PUBLIC &&
               auth != JOTD_CLIENT_CONFIDENTIAL) {
        jotd_resp_client_error(resp, req, auth, retry);
    } else if (!bearer && !(refresh && *refresh)) {
        jotd_resp_error(resp, 400, "invalid_request", "send a bearer token or a refresh_token");
    } else {
        const jotd_client_t *requester = auth == JOTD_CLIENT_NONE ? NULL : &cl;
        if (refresh && *refresh)
            logout_refresh(app, rt, req, requester, refresh, &lo);
        if (bearer)
            logout_bearer(app, rt, req, requester, bearer, blen, &lo);
        if (!lo.failed)
            resp->status = 204;
        if (lo.cookie_client)
            jotd_refresh_cookie_set(resp, rt, lo.cookie_client, NULL);
    }
    free(lo.cookie_client);
    jot_memzero(cookie, sizeof cookie);
    jotd_client_clear(&cl);
    jotd_params_clear(&params);
}
