/* GET /verify (forward-auth for nginx auth_request, Traefik, Caddy), GET /userinfo, and the
 * bearer -> session -> user lookup that /userinfo and /admin share (jotd_session_user). */
#include "metrics.h"
#include "redirect.h"
#include "server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jotd_resp_bearer_challenge(jotd_resp_t *resp, const char *error, const char *description)
{
    char challenge[256];
    if (error) {
        /* RFC 6750 §3: the description is a quoted-string of printable ASCII without '"' or
         * '\\'; ours are static texts from jot_strerror() and this file */
        snprintf(challenge, sizeof challenge,
                 "Bearer realm=\"jotd\", error=\"%s\", error_description=\"%s\"", error,
                 description ? description : "");
        jotd_resp_error(resp, 401, error, description);
    } else {
        snprintf(challenge, sizeof challenge, "Bearer realm=\"jotd\"");
        jotd_resp_error(resp, 401, "unauthorized", "a bearer token is required");
    }
    jotd_resp_header(resp, "WWW-Authenticate", challenge);
}

jot_err_t jotd_access_check(jotd_app_t *app, const jotd_runtime_t *rt, const char *token,
                            size_t len, bool introspection, jotd_verified_t *out,
                            const char **reason)
{
    uint8_t key[JOTD_VCACHE_KEY_LEN];
    int64_t now = jotd_now();
    jotd_vcache_key(token, len, key);
    if (jotd_vcache_get(rt->vcache, key, now, out)) {
        jotd_metrics_inc(JOTD_M_VCACHE_HIT);
        /* revocation after the token was cached: the same check as jotd_access_verify() */
        const char *why =
            jotd_token_void_reason(app, out->jti, out->sid, out->hdr[0], out->gen, now);
        if (why) {
            jotd_verified_clear(out);
            *reason = why;
            return JOT_E_EXPIRED;
        }
        if (!introspection || *out->introspection)
            return JOT_OK;
        jotd_verified_clear(out); /* cached by /verify: verify again, cache the whole answer */
    }
    if (rt->vcache)
        jotd_metrics_inc(JOTD_M_VCACHE_MISS);
    jot_token_t *t = NULL;
    jot_err_t rc = jotd_access_verify(app, rt, token, len, &t, reason);
    if (rc != JOT_OK)
        return rc;
    int built = jotd_verified_from_token(t, introspection, out);
    jot_token_free(t);
    if (built != 0) {
        *reason = "out of memory";
        return JOT_E_NOMEM;
    }
    jotd_vcache_put(rt->vcache, key, out, now);
    return JOT_OK;
}

/* Verify the request's bearer token; on failure the 401 is already in \p resp. */
static jot_token_t *bearer(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    if (!req->authorization) {
        jotd_resp_bearer_challenge(resp, NULL, NULL);
        return NULL;
    }
    size_t len = 0;
    const char *token = jotd_bearer_token(req->authorization, &len);
    if (!token) {
        jotd_resp_bearer_challenge(resp, "invalid_request", "malformed Authorization header");
        return NULL;
    }
    jot_token_t *t = NULL;
    const char *why = NULL;
    if (jotd_access_verify(app, rt, token, len, &t, &why) != JOT_OK) {
        jotd_resp_bearer_challenge(resp, "invalid_token", why);
        return NULL;
    }
    return t;
}

bool jotd_token_has_role(const jot_token_t *t, const char *role)
{
    size_t n = 0;
    if (jot_claims_get_strings_count(jot_token_claims(t), "roles", &n) != JOT_OK)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *r = NULL;
        if (jot_claims_get_strings_at(jot_token_claims(t), "roles", i, &r) == JOT_OK && r &&
            strcmp(r, role) == 0)
            return true;
    }
    return false;
}

jot_token_t *jotd_bearer_verified(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                                  jotd_resp_t *resp)
{
    return bearer(app, rt, req, resp);
}

/* \p lines ('\n'-separated audiences, jotd_verified_t.aud) holds \p want. */
static bool aud_lines_have(const char *lines, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = lines; p && *p;) {
        size_t len = strcspn(p, "\n");
        if (len == n && memcmp(p, want, n) == 0)
            return true;
        p += len;
        p += *p == '\n';
    }
    return false;
}

/* A 401 of /verify for a browser: when the proxy names the URL the browser asked for
 * (X-Original-URL, nginx: `proxy_set_header X-Original-URL $scheme://$http_host$request_uri`)
 * and it is a redirect target jotd accepts (redirect.h), Location: <issuer>/login?rd=<it>,
 * which the proxy answers the browser with (`error_page 401 = @login`). Anything else: no
 * Location, and the proxy's 401 stands. */
static void login_location(const jotd_runtime_t *rt, const jotd_req_t *req, jotd_resp_t *resp)
{
    const char *url = rt->cfg.cookie_domain ? jotd_req_header(req, "X-Original-URL") : NULL;
    if (!url ||
        !jotd_rd_ok(url, strlen(url), rt->cfg.cookie_domain, !jotd_secure_cookies(rt), NULL))
        return;
    char enc[JOTD_RD_MAX * 3 + 1];
    if (jotd_percent_encode(url, enc, sizeof enc) == 0)
        return;
    size_t n = strlen(rt->cfg.issuer);
    while (n && rt->cfg.issuer[n - 1] == '/')
        n--;
    size_t cap = n + strlen(enc) + 16;
    char *loc = malloc(cap);
    if (!loc)
        return;
    snprintf(loc, cap, "%.*s/login?rd=%s", (int)n, rt->cfg.issuer, enc);
    jotd_resp_header(resp, "Location", loc);
    free(loc);
}

/* The access token of a /verify request: the bearer token, else (with --cookie-domain) the
 * portal's access cookie. NULL after answering 401. */
static const char *verify_token(const jotd_runtime_t *rt, const jotd_req_t *req, char *buf,
                                size_t cap, size_t *len, jotd_resp_t *resp)
{
    if (req->authorization) {
        const char *token = jotd_bearer_token(req->authorization, len);
        if (!token)
            jotd_resp_bearer_challenge(resp, "invalid_request", "malformed Authorization header");
        return token;
    }
    const char *name = jotd_cookie_name(rt, "__Secure-jotd-access");
    const char *token = rt->cfg.cookie_domain ? jotd_cookie_get(req, name, buf, cap) : NULL;
    if (token && *token) {
        *len = strlen(token);
        return token;
    }
    jotd_resp_bearer_challenge(resp, NULL, NULL);
    return NULL;
}

/* The X-Auth-* headers come from the verified-token cache (vcache.c builds them from the
 * claims); a miss verifies the token and fills the cache. The bearer token and the portal's
 * access cookie are checked alike, in memory (the cache, the denylist, ended sessions): no
 * store read on this path. */
void jotd_route_verify(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    char cookie[8192]; /* browsers keep cookies of at most 4096 bytes */
    size_t len = 0;
    const char *token = verify_token(rt, req, cookie, sizeof cookie, &len, resp);
    if (!token) {
        login_location(rt, req, resp);
        return;
    }
    jotd_verified_t v;
    const char *why = NULL;
    jot_err_t rc = jotd_access_check(app, rt, token, len, false, &v, &why);
    if (rc == JOT_E_NOMEM) {
        jotd_resp_error(resp, 500, "server_error", NULL);
        return;
    }
    if (rc != JOT_OK) {
        jotd_resp_bearer_challenge(resp, "invalid_token", why);
        login_location(rt, req, resp);
        return;
    }
    /* The audience this forward-auth check protects: the server's, or the one the proxy
     * names (`auth_request /verify?audience=https://orders.example.com`). A token issued for
     * another resource (a service token: RFC 8707) is not accepted here, whatever jotd
     * issued it for; /introspect applies its caller's audiences instead. */
    char abuf[512];
    const char *want = jotd_req_query(req, "audience", abuf, sizeof abuf);
    if (!want || !*want)
        want = rt->cfg.audience;
    if (!aud_lines_have(v.aud, want)) {
        jotd_verified_clear(&v);
        /* no Location: signing in again would bring a token for the same audience, and the
         * browser would go round /login?rd= and back for ever */
        jotd_resp_bearer_challenge(resp, "invalid_token", jot_strerror(JOT_E_AUDIENCE));
        return;
    }
    for (size_t i = 0; i < JOTD_VERIFY_HEADERS; i++)
        jotd_resp_header(resp, jotd_verify_header_names[i], v.hdr[i]);
    /* the token itself, for an upstream that verifies it rather than trust the headers */
    jotd_resp_header_n(resp, "X-Auth-Token", token, len);
    jotd_verified_clear(&v);
    resp->status = 200;
}

jotd_rc_t jotd_session_user(jotd_app_t *app, const jot_token_t *t, jotd_user_t *out,
                            jotd_resp_t *resp)
{
    const char *sid = NULL;
    if (jot_claims_get_string(jot_token_claims(t), "sid", &sid) != JOT_OK)
        sid = NULL;
    jotd_session_t s = {0};
    jotd_user_t u = {0};
    bool active = false;
    jotd_rc_t rc =
        sid ? jotd_store_session_get(app->store, sid, jotd_now(), &s, &active) : JOTD_E_NOTFOUND;
    if (rc == JOTD_OK && !active)
        rc = JOTD_E_EXPIRED;
    if (rc == JOTD_OK)
        rc = jotd_store_user_get(app->store, s.user_id, &u);
    if (rc == JOTD_OK && u.disabled)
        rc = JOTD_E_DISABLED;
    jotd_session_clear(&s);
    if (rc == JOTD_OK) {
        *out = u;
        return JOTD_OK;
    }
    jotd_user_clear(&u);
    if (rc == JOTD_E_NOTFOUND || rc == JOTD_E_EXPIRED || rc == JOTD_E_DISABLED)
        jotd_resp_bearer_challenge(resp, "invalid_token", "session ended");
    else
        jotd_resp_unavailable(resp, rc);
    return rc;
}

void jotd_route_userinfo(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp)
{
    jot_token_t *t = bearer(app, rt, req, resp);
    if (!t)
        return;
    const char *sub = NULL;
    if (jot_claims_get_string(jot_token_claims(t), "sub", &sub) != JOT_OK)
        sub = NULL;
    jotd_user_t u = {0};
    if (jotd_session_user(app, t, &u, resp) == JOTD_OK) {
        json_t *roles = json_array(), *perms = json_array();
        for (size_t i = 0; i < u.n_roles; i++)
            json_array_append_new(roles, json_string(u.roles[i]));
        for (size_t i = 0; i < u.n_permissions; i++)
            json_array_append_new(perms, json_string(u.permissions[i]));
        jotd_resp_json(resp, 200,
                       json_pack("{s:s,s:s,s:o,s:o}", "sub", sub ? sub : "", "preferred_username",
                                 u.username, "roles", roles, "permissions", perms));
    }
    jotd_user_clear(&u);
    jot_token_free(t);
}
