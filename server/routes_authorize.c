/* GET /authorize: the authorization code flow (RFC 6749 §4.1) with PKCE (RFC 7636), under
 * OAuth 2.1's rules: response_type=code only, S256 only, redirect URIs registered and
 * compared as exact strings, the issuer in the response (RFC 9207).
 *
 * Until the client and its redirect URI are known good, an error is a page here and never
 * a redirect (RFC 6749 §4.1.2.1: no open redirector). After that, errors go back to the
 * redirect URI with error, state and iss. Without a browser session (routes_login.c) the
 * answer is the login form, which carries the request's parameters (re-encoded) and after
 * a successful login sends the browser back here, where the code is issued. A code is 256
 * random bits, stored only as its SHA-256 with what it is bound to (store.h
 * jotd_auth_code_t), valid --authorization-code-ttl seconds (default 60), redeemed once at
 * POST /token. */
#include "log.h"
#include "names.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QMAX 4096 /* a parameter's value */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool bad;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->bad || b->len + n + 1 > b->cap) {
        b->bad = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* "name=value" percent-encoded (RFC 3986 unreserved kept), '&' before all but the first. */
static void sb_param(sbuf_t *b, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    if (b->len && b->p[b->len - 1] != '?')
        sb_add(b, "&", 1);
    sb_add(b, name, strlen(name));
    sb_add(b, "=", 1);
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
            *v == '-' || *v == '.' || *v == '_' || *v == '~') {
            sb_add(b, (const char *)v, 1);
        } else {
            char e[3] = {'%', hex[*v >> 4], hex[*v & 15]};
            sb_add(b, e, 3);
        }
    }
}

typedef struct authz {
    char client_id[256], redirect_uri[JOTD_REDIRECT_URI_MAX + 1], response_type[32];
    char scope[1100], state[1024], challenge[160], method[16];
    bool has_scope, has_state, has_challenge, has_method, has_response_type;
} authz_t;

static const char *param(const jotd_req_t *req, const char *name, char *buf, size_t len, bool *has)
{
    const char *v = jotd_req_query(req, name, buf, len);
    if (has)
        *has = v != NULL;
    return v;
}

/* 302 to the validated redirect URI with \p a's state and the issuer, and either a code or
 * an error (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207). */
static void back_to_client(jotd_resp_t *resp, const jotd_runtime_t *rt, const authz_t *a,
                           const char *code, const char *error, const char *description)
{
    size_t cap = strlen(a->redirect_uri) + 3 * (sizeof a->state + 512) + 3 * strlen(rt->cfg.issuer);
    sbuf_t b = {malloc(cap), 0, cap, false};
    if (!b.p) {
        jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
        return;
    }
    b.p[0] = '\0';
    sb_add(&b, a->redirect_uri, strlen(a->redirect_uri));
    if (!strchr(a->redirect_uri, '?')) /* else sb_param adds '&' (RFC 6749 §3.1.2: keep it) */
        sb_add(&b, "?", 1);
    if (code) {
        sb_param(&b, "code", code);
    } else {
        sb_param(&b, "error", error);
        if (description)
            sb_param(&b, "error_description", description);
    }
    if (a->has_state)
        sb_param(&b, "state", a->state);
    sb_param(&b, "iss", rt->cfg.issuer);
    if (b.bad) {
        jotd_resp_error(resp, 500, "server_error", "redirect too long");
    } else {
        resp->status = 302;
        jotd_resp_header(resp, "Location", b.p);
        jotd_resp_header(resp, "Cache-Control", "no-store");
        jotd_resp_header(resp, "Referrer-Policy", "no-referrer");
    }
    free(b.p);
}

/* The origin (scheme://host[:port]) of a validated redirect URI, for the login page's CSP. */
static void origin_of(const char *uri, char *out, size_t len)
{
    const char *a = strstr(uri, "://");
    size_t n = a ? (size_t)(a + 3 - uri) + strcspn(a + 3, "/?") : 0;
    if (n >= len)
        n = 0;
    memcpy(out, uri, n);
    out[n] = '\0';
}

static bool registered(const jotd_client_t *cl, const char *uri)
{
    for (size_t i = 0; i < cl->n_redirect_uris; i++)
        if (strcmp(cl->redirect_uris[i], uri) == 0)
            return true;
    return false;
}

/* RFC 7636 §4.2: S256's challenge is base64url(SHA-256): 43 characters. */
static bool challenge_valid(const char *c)
{
    if (strlen(c) != 43)
        return false;
    for (const char *p = c; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static void issue_code(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       const authz_t *a, const jotd_client_t *cl, char *scope,
                       const jotd_user_t *user, jotd_resp_t *resp)
{
    char code[JOTD_REFRESH_TOKEN_LEN + 1];
    uint8_t hash[JOTD_HASH_LEN];
    jotd_refresh_new(code); /* 256 random bits, base64url */
    jotd_refresh_hash(code, strlen(code), hash);
    jotd_auth_code_t ac = {.client_id = cl->client_id,
                           .redirect_uri = (char *)a->redirect_uri,
                           .code_challenge = (char *)a->challenge,
                           .scope = scope,
                           .user_id = user->id,
                           .expires_at = jotd_now() + rt->cfg.authorization_code_ttl};
    jotd_random_id(ac.sid);
    jotd_rc_t rc = jotd_store_code_create(app->store, hash, &ac);
    if (rc != JOTD_OK) {
        jotd_resp_unavailable(resp, rc);
    } else {
        jotd_audit("code_issued", "user", user->username, "client_id", cl->client_id, "ip", req->ip,
                   NULL);
        back_to_client(resp, rt, a, code, NULL, NULL);
    }
    jot_memzero(code, sizeof code);
}

void jotd_route_authorize(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_resp_t *resp)
{
    authz_t *a = calloc(1, sizeof *a);
    if (!a) {
        jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
        return;
    }
    bool has_cid, has_uri;
    param(req, "client_id", a->client_id, sizeof a->client_id, &has_cid);
    param(req, "redirect_uri", a->redirect_uri, sizeof a->redirect_uri, &has_uri);
    param(req, "response_type", a->response_type, sizeof a->response_type, &a->has_response_type);
    param(req, "scope", a->scope, sizeof a->scope, &a->has_scope);
    param(req, "state", a->state, sizeof a->state, &a->has_state);
    param(req, "code_challenge", a->challenge, sizeof a->challenge, &a->has_challenge);
    param(req, "code_challenge_method", a->method, sizeof a->method, &a->has_method);
    jotd_client_t cl = {0};
    jotd_rc_t rc = has_cid && a->client_id[0] ? jotd_store_client_get(app->store, a->client_id, &cl)
                                              : JOTD_E_NOTFOUND;
    char *scope = NULL;
    if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND) {
        jotd_resp_unavailable(resp, rc);
    } else if (rc == JOTD_E_NOTFOUND || cl.disabled) {
        jotd_html_page(resp, 400, "Sign-in request refused",
                       "This application is not known here (client_id missing or unknown). "
                       "Nothing was sent back to it.");
    } else if (!has_uri || !registered(&cl, a->redirect_uri)) {
        jotd_html_page(resp, 400, "Sign-in request refused",
                       "This application asked to send you back to an address it has not "
                       "registered (redirect_uri missing or not registered). Nothing was sent "
                       "back to it.");
    } else if (!a->has_response_type || strcmp(a->response_type, "code") != 0) {
        back_to_client(resp, rt, a, NULL,
                       a->has_response_type ? "unsupported_response_type" : "invalid_request",
                       "response_type must be code");
    } else if (!a->has_challenge || !a->has_method || strcmp(a->method, "S256") != 0) {
        back_to_client(resp, rt, a, NULL, "invalid_request",
                       "PKCE is required: code_challenge with code_challenge_method=S256");
    } else if (!challenge_valid(a->challenge)) {
        back_to_client(resp, rt, a, NULL, "invalid_request", "malformed code_challenge");
    } else {
        int s = jotd_scope_for_client(a->has_scope ? a->scope : NULL, &cl, &scope);
        jotd_session_t bs = {0};
        jotd_user_t user = {0};
        if (s == 1) {
            back_to_client(resp, rt, a, NULL, "invalid_scope", "scope not allowed for this client");
        } else if (s < 0) {
            back_to_client(resp, rt, a, NULL, "server_error", "out of memory");
        } else if (jotd_browser_session(app, rt, req, &bs, &user)) {
            issue_code(app, rt, req, a, &cl, scope, &user, resp);
            jotd_user_clear(&user);
            jotd_session_clear(&bs);
        } else { /* the login form, carrying the request */
            size_t cap = 4 * sizeof *a;
            sbuf_t b = {malloc(cap), 0, cap, false};
            char origin[JOTD_REDIRECT_URI_MAX + 1];
            origin_of(a->redirect_uri, origin, sizeof origin);
            if (b.p) {
                b.p[0] = '\0';
                sb_param(&b, "response_type", a->response_type);
                sb_param(&b, "client_id", a->client_id);
                sb_param(&b, "redirect_uri", a->redirect_uri);
                if (a->has_scope)
                    sb_param(&b, "scope", a->scope);
                if (a->has_state)
                    sb_param(&b, "state", a->state);
                sb_param(&b, "code_challenge", a->challenge);
                sb_param(&b, "code_challenge_method", a->method);
            }
            if (!b.p || b.bad)
                jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
            else
                jotd_login_page(app, rt, resp, 200, NULL, b.p, origin[0] ? origin : NULL);
            free(b.p);
        }
    }
    free(scope);
    jotd_client_clear(&cl);
    free(a);
}
