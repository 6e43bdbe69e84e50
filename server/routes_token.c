/* POST /token (RFC 6749 §4.3 password grant, §6 refresh): login and refresh-token rotation. */
#include "log.h"
#include "metrics.h"
#include "server.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Shared by the session routes: parse the body, answer 400 on failure. */
bool jotd_parse_body(const jotd_req_t *req, jotd_params_t *params, jotd_resp_t *resp)
{
    switch (jotd_params_parse(req->content_type, req->body, req->body_len, params)) {
    case JOTD_OK:
        return true;
    case JOTD_E_DUPLICATE:
        jotd_resp_error(resp, 400, "invalid_request", "a parameter is repeated");
        return false;
    case JOTD_E_TOOMANY:
        jotd_resp_error(resp, 400, "invalid_request", "too many parameters");
        return false;
    case JOTD_E_MEDIA:
        jotd_resp_error(resp, 400, "invalid_request",
                        "use application/x-www-form-urlencoded or application/json");
        return false;
    case JOTD_E_NOMEM:
        jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
        return false;
    default: /* JOTD_E_MALFORMED */
        break;
    }
    jotd_resp_error(resp, 400, "invalid_request", "malformed request body");
    return false;
}

/* 401 for a client that failed to authenticate (RFC 6749 §5.2). The Basic challenge only
 * answers a client that used the Authorization header: standard clients (openid-client) take
 * a challenge to a client_secret_post request for an HTTP-level refusal and hide the
 * invalid_client error from their caller. */
void jotd_resp_invalid_client(jotd_resp_t *resp, const jotd_req_t *req)
{
    jotd_resp_error(resp, 401, "invalid_client", "client authentication failed");
    if (req->authorization && strncasecmp(req->authorization, "Basic", 5) == 0)
        jotd_resp_header(resp, "WWW-Authenticate", "Basic realm=\"jotd\"");
}

/* 503 for a store that cannot answer now (busy, read-only, disk full). */
void jotd_resp_unavailable(jotd_resp_t *resp, jotd_rc_t rc)
{
    /* the detail (disk full, read-only, locked) is for the operator, not the client */
    jotd_log("error", "store: %s: %s", jotd_rc_str(rc), jotd_store_errmsg(NULL));
    jotd_metrics_inc(JOTD_M_STORE_ERROR);
    jotd_resp_error(resp, 503, "temporarily_unavailable", "storage unavailable, retry later");
    jotd_resp_header(resp, "Retry-After", "1");
}

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces */
static bool scope_valid(const char *s)
{
    if (strlen(s) > 1024)
        return false;
    bool at_token_start = true;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ') {
            if (at_token_start)
                return false; /* leading or double space */
            at_token_start = true;
        } else if (c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)) {
            at_token_start = false;
        } else {
            return false;
        }
    }
    return !(*s && at_token_start); /* no trailing space */
}

/* Calls \p fn for each space-separated token of \p s (a valid scope string). */
static bool scope_each(const char *s, bool (*fn)(const char *tok, size_t n, void *ctx), void *ctx)
{
    for (const char *p = s; *p;) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!fn(p, n, ctx))
            return false;
        p = end ? end + 1 : p + n;
    }
    return true;
}

/* \p tok is one of the space-separated tokens of the string \p have. */
static bool in_scope_string(const char *tok, size_t n, void *have)
{
    const char *q = have;
    while (*q) {
        const char *qe = strchr(q, ' ');
        size_t m = qe ? (size_t)(qe - q) : strlen(q);
        if (m == n && memcmp(tok, q, n) == 0)
            return true;
        q = qe ? qe + 1 : q + m;
    }
    return false;
}

typedef struct scope_list {
    char *const *v;
    size_t n;
} scope_list_t;

static bool in_scope_list(const char *tok, size_t n, void *list)
{
    const scope_list_t *l = list;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == n && memcmp(l->v[i], tok, n) == 0)
            return true;
    return false;
}

/* Every scope token of \p want appears in \p have. */
static bool scope_subset(const char *want, const char *have)
{
    return scope_each(want, in_scope_string, (void *)have);
}

/* Every scope token of \p want is one the client may ask for. */
static bool scope_allowed(const char *want, const jotd_client_t *cl)
{
    scope_list_t l = {cl->scopes, cl->n_scopes};
    return scope_each(want, in_scope_list, &l);
}

typedef struct scope_out {
    char *buf;
    size_t len;
    scope_list_t allowed;
} scope_out_t;

static bool keep_if_allowed(const char *tok, size_t n, void *ctx)
{
    scope_out_t *o = ctx;
    if (in_scope_list(tok, n, &o->allowed)) {
        if (o->len)
            o->buf[o->len++] = ' ';
        memcpy(o->buf + o->len, tok, n);
        o->len += n;
    }
    return true;
}

/* The tokens of \p have that the client may still ask for (malloc'd; NULL: no memory). */
static char *scope_still_allowed(const char *have, const jotd_client_t *cl)
{
    scope_out_t o = {malloc(strlen(have) + 1), 0, {cl->scopes, cl->n_scopes}};
    if (!o.buf)
        return NULL;
    scope_each(have, keep_if_allowed, &o);
    o.buf[o.len] = '\0';
    return o.buf;
}

/* The client's default scopes as one string (malloc'd; NULL: no memory). */
static char *scope_defaults(const jotd_client_t *cl)
{
    size_t total = 1;
    for (size_t i = 0; i < cl->n_default_scopes; i++)
        total += strlen(cl->default_scopes[i]) + 1;
    char *s = malloc(total), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < cl->n_default_scopes; i++)
        p += snprintf(p, total - (size_t)(p - s), "%s%s", i ? " " : "", cl->default_scopes[i]);
    return s;
}

static void token_response(jotd_resp_t *resp, const char *access, int64_t ttl, const char *refresh,
                           const char *scope)
{
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:s}", "access_token", access, "token_type", "Bearer",
                          "expires_in", (json_int_t)ttl, "refresh_token", refresh, "scope",
                          scope ? scope : "");
    jotd_resp_json(resp, 200, j);
}

/* The answer of a grant that issued \p refresh: in the JSON, or for a cookie-mode client
 * only in its HttpOnly refresh cookie (cors.c), never where a script can read it. */
static void issue_response(jotd_resp_t *resp, const jotd_runtime_t *rt, const jotd_client_t *cl,
                           const char *access, const char *refresh, const char *scope)
{
    if (!cl->cookie_mode) {
        token_response(resp, access, rt->cfg.access_ttl, refresh, scope);
        return;
    }
    json_t *j =
        json_pack("{s:s,s:s,s:I,s:s}", "access_token", access, "token_type", "Bearer", "expires_in",
                  (json_int_t)rt->cfg.access_ttl, "scope", scope ? scope : "");
    jotd_resp_json(resp, 200, j);
    jotd_refresh_cookie_set(resp, rt, cl->client_id, refresh);
}

/* The grace window of \p cl's refresh rotation: its own, else 10 s in cookie mode (two tabs
 * of one app refresh at once), else the server's --refresh-grace. */
static int64_t client_grace(const jotd_runtime_t *rt, const jotd_client_t *cl)
{
    if (cl->has_refresh_grace)
        return cl->refresh_grace;
    return cl->cookie_mode ? JOTD_COOKIE_MODE_GRACE : rt->cfg.refresh_grace;
}

/* After a successful login: a hash made with other Argon2 parameters than the current ones
 * is replaced by one made with them (the password is at hand only now). Without this the
 * user would keep the old cost, and an old cost tells existing users from unknown ones. A
 * password changed meanwhile wins (conditional update); failures only cost a retry at the
 * next login. */
static void rehash_if_stale(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_user_t *user,
                            const char *password)
{
    jotd_argon2_t now = {rt->cfg.argon2_m_kib, rt->cfg.argon2_t, rt->cfg.argon2_p};
    char phc[JOTD_PHC_MAX];
    if (jotd_password_needs_rehash(user->password_hash, &now) != 1)
        return;
    if (jotd_password_hash(&now, password, strlen(password), phc) != 0) {
        jotd_log("error", "%s", "cannot rehash a password with the current settings");
        return;
    }
    jotd_rc_t rc = jotd_store_user_rehash(app->store, user->id, user->password_hash, phc);
    jot_memzero(phc, sizeof phc);
    if (rc == JOTD_OK)
        jotd_audit("password_rehashed", "user", user->username, NULL);
    else if (rc != JOTD_E_NOTFOUND)
        jotd_log("error", "rehash: %s: %s", jotd_rc_str(rc), jotd_store_errmsg(NULL));
}

/* RFC 6749 §3.3: the requested scope, every token of which the client may ask for, or the
 * client's default scopes when it asks for none. NULL after answering 400 (or 503). */
static char *granted_scope(const jotd_params_t *params, const jotd_client_t *cl, jotd_resp_t *resp)
{
    const char *scope = jotd_params_get(params, "scope");
    if (scope && !scope_valid(scope)) {
        jotd_resp_error(resp, 400, "invalid_scope", "malformed scope");
        return NULL;
    }
    if (scope && !scope_allowed(scope, cl)) {
        jotd_resp_error(resp, 400, "invalid_scope", "scope not allowed for this client");
        return NULL;
    }
    char *s = scope ? strdup(scope) : scope_defaults(cl);
    if (!s)
        jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
    return s;
}

jotd_login_result_t jotd_login_check(jotd_app_t *app, const jotd_runtime_t *rt,
                                     const jotd_req_t *req, const char *username,
                                     const char *password, const char *client_id, jotd_user_t *out,
                                     int64_t *out_wait)
{
    int64_t now = jotd_now();
    int64_t wait = jotd_throttle_check(app->throttle, username, req->ip, now);
    if (wait > 0) {
        jotd_audit("login_throttled", "user", username, "ip", req->ip, NULL);
        jotd_metrics_inc(JOTD_M_LOGIN_THROTTLED);
        *out_wait = wait;
        return JOTD_LOGIN_THROTTLED;
    }
    jotd_user_t user = {0};
    jotd_rc_t rc = jotd_store_user_get_by_name(app->store, username, &user);
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND) {
        jotd_log("error", "store: %s: %s", jotd_rc_str(rc), jotd_store_errmsg(NULL));
        jotd_metrics_inc(JOTD_M_STORE_ERROR);
        return JOTD_LOGIN_UNAVAILABLE;
    }
    /* The same Argon2 work whether or not the user exists or is disabled, and the same
     * answer for every failure. */
    bool ok;
    if (rc == JOTD_OK) {
        ok = jotd_password_verify(user.password_hash, password, strlen(password)) == 1 &&
             !user.disabled;
    } else {
        jotd_password_dummy_verify(&app->dummy, password, strlen(password));
        ok = false;
    }
    if (!ok) {
        jotd_throttle_failure(app->throttle, username, req->ip, now);
        jotd_audit("login_failure", "user", username, "ip", req->ip, "client_id", client_id, NULL);
        jotd_metrics_inc(JOTD_M_LOGIN_FAILURE);
        jotd_user_clear(&user);
        return JOTD_LOGIN_BAD;
    }
    jotd_throttle_success(app->throttle, username, now);
    rehash_if_stale(app, rt, &user, password);
    *out = user;
    return JOTD_LOGIN_OK;
}

jotd_rc_t jotd_login_session(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                             const jotd_user_t *user, const char *client_id, char *scope,
                             int64_t now, jotd_session_t *out,
                             char refresh[JOTD_REFRESH_TOKEN_LEN + 1])
{
    jotd_session_t s = {0};
    if (out->sid[0]) /* chosen by the caller (the code grant: the code names it) */
        memcpy(s.sid, out->sid, sizeof s.sid);
    else
        jotd_random_id(s.sid);
    s.user_id = user->id;
    s.client_id = (char *)client_id;
    s.scope = scope;
    s.ip = (char *)req->ip;
    s.created_at = now;
    s.expires_at = now + rt->cfg.refresh_abs_ttl;
    uint8_t hash[JOTD_HASH_LEN];
    jotd_refresh_new(refresh);
    jotd_refresh_hash(refresh, strlen(refresh), hash);
    jotd_rc_t rc = jotd_store_session_create(app->store, &s, hash, rt->cfg.refresh_idle_ttl, now);
    if (rc != JOTD_OK) {
        jot_memzero(refresh, JOTD_REFRESH_TOKEN_LEN + 1);
        return rc;
    }
    jotd_metrics_inc(JOTD_M_LOGIN_SUCCESS);
    jotd_audit("login_success", "user", user->username, "ip", req->ip, "client_id", client_id,
               "sid", s.sid, NULL);
    *out = s;
    return JOTD_OK;
}

int jotd_scope_for_client(const char *requested, const jotd_client_t *cl, char **out)
{
    if (requested && (!scope_valid(requested) || !scope_allowed(requested, cl)))
        return 1;
    *out = requested ? strdup(requested) : scope_defaults(cl);
    return *out ? 0 : -1;
}

/* RFC 7636 §4.1: 43-128 characters of ALPHA / DIGIT / "-" / "." / "_" / "~" */
static bool verifier_valid(const char *v)
{
    size_t n = strlen(v);
    if (n < 43 || n > 128)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_' || *p == '~'))
            return false;
    return true;
}

/* RFC 6749 §4.1.3 and RFC 7636 §4.6: the code redeemed once, for the client it was issued
 * to, with the same redirect URI, and the verifier whose S256 is its challenge. A code
 * presented again revokes the session its first exchange created. */
static void code_grant(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       const jotd_params_t *params, const jotd_client_t *cl, jotd_resp_t *resp)
{
    const char *code = jotd_params_get(params, "code");
    const char *redirect_uri = jotd_params_get(params, "redirect_uri");
    const char *verifier = jotd_params_get(params, "code_verifier");
    if (!code || !*code || !redirect_uri || !verifier) {
        jotd_resp_error(resp, 400, "invalid_request",
                        "code, redirect_uri and code_verifier are required");
        return;
    }
    if (!verifier_valid(verifier)) {
        jotd_resp_error(resp, 400, "invalid_request", "malformed code_verifier");
        return;
    }
    uint8_t hash[JOTD_HASH_LEN];
    jotd_refresh_hash(code, strlen(code), hash);
    int64_t now = jotd_now();
    jotd_auth_code_t ac = {0};
    jotd_rc_t rc = jotd_store_code_redeem(app->store, hash, now, &ac);
    if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 400, "invalid_grant", "invalid authorization code");
        return;
    }
    if (rc != JOTD_OK) {
        jotd_resp_unavailable(resp, rc);
        return;
    }
    const char *why = NULL;
    char challenge[64];
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL);
    jot_b64url_encode(challenge, md, sizeof md);
    if (ac.used) {
        why = "authorization code already used";
        jotd_rc_t r = jotd_store_session_revoke(app->store, ac.sid, now);
        if (r == JOTD_OK)
            jotd_session_ended(app, ac.sid, now, rt->cfg.access_ttl);
        jotd_audit("code_replay", "client_id", cl->client_id, "sid", ac.sid, "ip", req->ip, NULL);
    } else if (now >= ac.expires_at) {
        why = "authorization code expired";
    } else if (strcmp(ac.client_id, cl->client_id) != 0) {
        why = "authorization code issued to another client";
    } else if (strcmp(ac.redirect_uri, redirect_uri) != 0) {
        why = "redirect_uri differs from the authorization request's";
    } else if (strlen(ac.code_challenge) != strlen(challenge) ||
               jot_ct_equal(ac.code_challenge, challenge, strlen(challenge)) != 1) {
        why = "code_verifier does not match the code_challenge";
    }
    jotd_user_t user = {0};
    if (!why) {
        rc = jotd_store_user_get(app->store, ac.user_id, &user);
        if (rc == JOTD_E_NOTFOUND || (rc == JOTD_OK && user.disabled))
            why = "the user can no longer sign in";
        else if (rc != JOTD_OK) {
            jotd_resp_unavailable(resp, rc);
            jotd_auth_code_clear(&ac);
            return;
        }
    }
    if (why) {
        jotd_resp_error(resp, 400, "invalid_grant", why);
        jotd_user_clear(&user);
        jotd_auth_code_clear(&ac);
        return;
    }
    jotd_session_t s = {0};
    memcpy(s.sid, ac.sid, sizeof s.sid);
    char refresh[JOTD_REFRESH_TOKEN_LEN + 1];
    rc = jotd_login_session(app, rt, req, &user, cl->client_id, ac.scope, now, &s, refresh);
    char *access = NULL;
    bool replayed = false;
    if (rc == JOTD_OK)
        rc = jotd_store_code_replayed(app->store, hash, &replayed);
    if (rc == JOTD_OK && replayed) {
        /* a replay came in between the redemption and the session's insert: it found no
         * session to revoke, so this exchange revokes its own (store.h) */
        jotd_rc_t r = jotd_store_session_revoke(app->store, s.sid, now);
        if (r == JOTD_OK)
            jotd_session_ended(app, s.sid, now, rt->cfg.access_ttl);
        jotd_audit("code_replay", "client_id", cl->client_id, "sid", s.sid, "ip", req->ip, NULL);
        if (r == JOTD_OK || r == JOTD_E_NOTFOUND)
            jotd_resp_error(resp, 400, "invalid_grant", "authorization code already used");
        else
            jotd_resp_unavailable(resp, r);
    } else if (rc != JOTD_OK)
        jotd_resp_unavailable(resp, rc);
    else if (jotd_access_token(rt, &user, &s, s.scope, now, &access, NULL) != JOT_OK)
        jotd_resp_error(resp, 500, "server_error", "cannot sign the access token");
    else
        issue_response(resp, rt, cl, access, refresh, s.scope);
    jot_free(access);
    jot_memzero(refresh, sizeof refresh);
    jotd_user_clear(&user);
    jotd_auth_code_clear(&ac);
}

static void password_grant(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           const jotd_params_t *params, const jotd_client_t *cl, jotd_resp_t *resp)
{
    const char *username = jotd_params_get(params, "username");
    const char *password = jotd_params_get(params, "password");
    const char *client_id = cl->client_id;
    if (!username || !*username || !password) {
        jotd_resp_error(resp, 400, "invalid_request", "username and password are required");
        return;
    }
    char *scope = granted_scope(params, cl, resp);
    if (!scope)
        return;
    jotd_user_t user = {0};
    int64_t wait = 0;
    switch (jotd_login_check(app, rt, req, username, password, client_id, &user, &wait)) {
    case JOTD_LOGIN_OK:
        break;
    case JOTD_LOGIN_THROTTLED: {
        char retry[24];
        snprintf(retry, sizeof retry, "%lld", (long long)wait);
        jotd_resp_error(resp, 429, "temporarily_unavailable",
                        "too many failed attempts, retry later");
        jotd_resp_header(resp, "Retry-After", retry);
        free(scope);
        return;
    }
    case JOTD_LOGIN_UNAVAILABLE:
        jotd_resp_error(resp, 503, "temporarily_unavailable", "storage unavailable, retry later");
        jotd_resp_header(resp, "Retry-After", "1");
        free(scope);
        return;
    default:
        jotd_resp_error(resp, 400, "invalid_grant", "invalid username or password");
        free(scope);
        return;
    }
    int64_t now = jotd_now();
    jotd_session_t s = {0};
    char refresh[JOTD_REFRESH_TOKEN_LEN + 1];
    jotd_rc_t rc = jotd_login_session(app, rt, req, &user, client_id, scope, now, &s, refresh);
    char *access = NULL;
    if (rc != JOTD_OK) {
        jotd_resp_unavailable(resp, rc);
    } else if (jotd_access_token(rt, &user, &s, s.scope, now, &access, NULL) != JOT_OK) {
        jotd_resp_error(resp, 500, "server_error", "cannot sign the access token");
    } else {
        issue_response(resp, rt, cl, access, refresh, s.scope);
    }
    jot_free(access);
    jot_memzero(refresh, sizeof refresh);
    jotd_user_clear(&user);
    free(scope);
}

/* The audit line of a detected reuse names the session it revoked and its user (the
 * rotation reports no session on that path: it is read again, a rare path off the loop). */
static void reuse_audit(jotd_app_t *app, const uint8_t old_hash[JOTD_HASH_LEN], int64_t now,
                        const char *client_id, const char *ip)
{
    jotd_session_t s = {0};
    bool live = false;
    char uid[24] = "";
    if (jotd_store_refresh_lookup(app->store, old_hash, now, &s, &live) == JOTD_OK)
        snprintf(uid, sizeof uid, "%lld", (long long)s.user_id);
    jotd_metrics_inc(JOTD_M_REFRESH_REUSE);
    jotd_audit("refresh_reuse_detected", "sid", s.sid, "user_id", uid, "client_id", client_id, "ip",
               ip, NULL);
    jotd_session_clear(&s);
}

void jotd_refreshed_clear(jotd_refreshed_t *r)
{
    free(r->scope);
    r->scope = NULL;
    jot_free(r->access);
    r->access = NULL;
    jot_memzero(r->refresh, sizeof r->refresh);
}

bool jotd_refresh_rotate(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         const jotd_client_t *cl, const char *old, const char *scope,
                         jotd_refreshed_t *out, jotd_resp_t *resp)
{
    const char *client_id = cl->client_id;
    int64_t now = jotd_now();
    uint8_t old_hash[JOTD_HASH_LEN], new_hash[JOTD_HASH_LEN];
    char successor[JOTD_REFRESH_TOKEN_LEN + 1];
    jotd_refresh_hash(old, strlen(old), old_hash);
    jotd_refresh_successor(app, old, strlen(old), successor);
    jotd_refresh_hash(successor, strlen(successor), new_hash);

    if (scope) { /* RFC 6749 §6: no scope beyond what the session was granted */
        jotd_session_t s = {0};
        bool live = false;
        jotd_rc_t lrc = jotd_store_refresh_lookup(app->store, old_hash, now, &s, &live);
        bool ok = lrc == JOTD_OK && scope_subset(scope, s.scope);
        jotd_session_clear(&s);
        if (lrc == JOTD_OK && !ok) {
            jotd_resp_error(resp, 400, "invalid_scope", "scope exceeds the granted scope");
            jot_memzero(successor, sizeof successor);
            return false;
        }
    }

    jotd_rotation_t rot = {0};
    jotd_rc_t rc = jotd_store_refresh_rotate(app->store, old_hash, new_hash, client_id, now,
                                             rt->cfg.refresh_idle_ttl, client_grace(rt, cl), &rot);
    char *access = NULL, *granted = NULL;
    bool ok = false;
    switch (rc) {
    case JOTD_OK:
        /* what was asked (at most the session's scope), less what the client may no longer
         * ask for */
        granted = scope_still_allowed(scope ? scope : rot.session.scope, cl);
        if (!granted) {
            jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
            break;
        }
        if (jotd_access_token(rt, &rot.user, &rot.session, granted, now, &access, NULL) != JOT_OK) {
            jotd_resp_error(resp, 500, "server_error", "cannot sign the access token");
            break;
        }
        jotd_metrics_inc(JOTD_M_REFRESH);
        jotd_audit(rot.grace ? "refresh_grace" : "refresh", "sid", rot.session.sid, "user",
                   rot.user.username, "client_id", client_id, "ip", req->ip, NULL);
        memcpy(out->refresh, successor, sizeof out->refresh);
        out->access = access;
        out->scope = granted;
        access = NULL;
        granted = NULL;
        ok = true;
        break;
    case JOTD_E_REUSED:
        /* the session ended in the store: end it here before answering */
        (void)jotd_events_sync(app, rt->cfg.access_ttl);
        reuse_audit(app, old_hash, now, client_id, req->ip);
        jotd_resp_error(resp, 400, "invalid_grant", "refresh token reused: session revoked");
        if (cl->cookie_mode) /* a dead cookie: the browser drops it */
            jotd_refresh_cookie_set(resp, rt, client_id, NULL);
        break;
    case JOTD_E_NOTFOUND:
    case JOTD_E_EXPIRED:
    case JOTD_E_MISMATCH:
    case JOTD_E_DISABLED:
        jotd_resp_error(resp, 400, "invalid_grant", "refresh token invalid or expired");
        if (cl->cookie_mode)
            jotd_refresh_cookie_set(resp, rt, client_id, NULL);
        break;
    default:
        jotd_resp_unavailable(resp, rc);
    }
    jot_free(access);
    free(granted);
    jot_memzero(successor, sizeof successor);
    jotd_rotation_clear(&rot);
    return ok;
}

static void refresh_grant(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          const jotd_params_t *params, const jotd_client_t *cl, jotd_resp_t *resp)
{
    const char *client_id = cl->client_id;
    const char *old = jotd_params_get(params, "refresh_token");
    const char *scope = jotd_params_get(params, "scope");
    char cookie[JOTD_REFRESH_TOKEN_LEN + 8];
    if (cl->cookie_mode) { /* cookie-authenticated: CSRF checks first (cors.c) */
        const char *why = jotd_cookie_request_refusal(req, cl);
        char name[128];
        if (why) {
            jotd_cors_refused(req, cl, why, resp);
            return;
        }
        if (old) {
            jotd_resp_error(resp, 400, "invalid_request",
                            "this client's refresh token is read from its cookie only: send no "
                            "refresh_token parameter");
            return;
        }
        old = jotd_refresh_cookie_name(rt, client_id, name, sizeof name) == 0
                  ? jotd_cookie_get(req, name, cookie, sizeof cookie)
                  : NULL;
        if (!old || !*old) {
            jotd_resp_error(resp, 400, "invalid_grant", "no refresh token cookie");
            return;
        }
    }
    if (!old || !*old) {
        jotd_resp_error(resp, 400, "invalid_request", "refresh_token is required");
        return;
    }
    if (scope && !scope_valid(scope)) {
        jot_memzero(cookie, sizeof cookie);
        jotd_resp_error(resp, 400, "invalid_scope", "malformed scope");
        return;
    }
    jotd_refreshed_t r = {0};
    bool ok = jotd_refresh_rotate(app, rt, req, cl, old, scope, &r, resp);
    jot_memzero(cookie, sizeof cookie);
    /* r.refresh goes to jansson, which could write all of r for all clang's analyzer knows:
     * the pointers are held here */
    char *access = r.access, *granted = r.scope;
    if (ok)
        issue_response(resp, rt, cl, access, r.refresh, granted);
    jot_free(access);
    free(granted);
    jot_memzero(r.refresh, sizeof r.refresh);
}

/* RFC 8707: the audience of a service token. \p want (the resource parameter) must be one of
 * the client's resources; absent, the client's first one; a client registered with none gets
 * tokens for the server's own audience (as a user's tokens), and may name only that. */
static const char *target(const jotd_runtime_t *rt, const jotd_client_t *cl, const char *want)
{
    if (cl->n_resources == 0)
        return !want || strcmp(want, rt->cfg.audience) == 0 ? rt->cfg.audience : NULL;
    if (!want)
        return cl->resources[0];
    for (size_t i = 0; i < cl->n_resources; i++)
        if (strcmp(want, cl->resources[i]) == 0)
            return cl->resources[i];
    return NULL;
}

/* RFC 6749 §4.4: a confidential client gets a token of its own: no user, no session, no
 * refresh token (§4.4.3). */
static void client_credentials_grant(const jotd_runtime_t *rt, const jotd_req_t *req,
                                     const jotd_params_t *params, const jotd_client_t *cl,
                                     jotd_client_auth_t auth, jotd_resp_t *resp)
{
    if (auth != JOTD_CLIENT_CONFIDENTIAL) {
        jotd_resp_error(resp, 400, "unauthorized_client",
                        "client_credentials needs a confidential client");
        return;
    }
    const char *aud = target(rt, cl, jotd_params_get(params, "resource"));
    if (!aud) {
        jotd_resp_error(resp, 400, "invalid_target", "resource not allowed for this client");
        return;
    }
    char *scope = granted_scope(params, cl, resp);
    if (!scope)
        return;
    int64_t now = jotd_now();
    char *access = NULL;
    if (jotd_client_token(rt, cl, aud, scope, now, &access) != JOT_OK) {
        jotd_resp_error(resp, 500, "server_error", "cannot sign the access token");
    } else {
        jotd_audit("client_token", "client_id", cl->client_id, "aud", aud, "ip", req->ip, NULL);
        json_t *j = json_pack("{s:s,s:s,s:I,s:s}", "access_token", access, "token_type", "Bearer",
                              "expires_in", (json_int_t)rt->cfg.access_ttl, "scope", scope);
        jotd_resp_json(resp, 200, j);
    }
    jot_free(access);
    free(scope);
}

void jotd_route_token(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (!jotd_parse_body(req, &params, resp))
        return;
    jotd_client_t cl = {0};
    int64_t retry = 0;
    jotd_client_auth_t auth = jotd_client_authenticate(app, rt, req, &params, &cl, &retry);
    const char *grant = jotd_params_get(&params, "grant_type");
    if (auth == JOTD_CLIENT_NONE) {
        /* a request that names no client acts as the default client, a public one: the same
         * as naming it (client_id=default) */
        jotd_rc_t rc = jotd_client_default(app, rt, &cl);
        auth = rc == JOTD_OK           ? JOTD_CLIENT_PUBLIC
               : rc == JOTD_E_NOTFOUND ? JOTD_CLIENT_INVALID
                                       : JOTD_CLIENT_UNAVAILABLE;
    }
    bool user_grant = grant && (!strcmp(grant, "password") || !strcmp(grant, "refresh_token") ||
                                !strcmp(grant, "authorization_code"));
    if (auth != JOTD_CLIENT_PUBLIC && auth != JOTD_CLIENT_CONFIDENTIAL)
        jotd_resp_client_error(resp, req, auth, retry);
    else if (!grant)
        jotd_resp_error(resp, 400, "invalid_request", "grant_type is required");
    else if (cl.cookie_mode && user_grant && !jotd_client_origin_allowed(&cl, req->origin))
        jotd_cors_refused(req, &cl, "origin not allowed", resp); /* a page of another origin */
    else if (strcmp(grant, "password") == 0)
        password_grant(app, rt, req, &params, &cl, resp);
    else if (strcmp(grant, "refresh_token") == 0)
        refresh_grant(app, rt, req, &params, &cl, resp);
    else if (strcmp(grant, "authorization_code") == 0)
        code_grant(app, rt, req, &params, &cl, resp);
    else if (strcmp(grant, "client_credentials") == 0)
        client_credentials_grant(rt, req, &params, &cl, auth, resp);
    else
        jotd_resp_error(resp, 400, "unsupported_grant_type", NULL);
    jotd_client_clear(&cl);
    jotd_params_clear(&params);
}
