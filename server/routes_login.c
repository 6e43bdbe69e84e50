/* The login page: GET/POST /login and the page's POST /logout (a browser session).
 *
 * A browser session is a session of the portal client (--portal-client, a public client)
 * whose refresh token lives in an HttpOnly cookie, "__Host-jotd-session" (Secure,
 * SameSite=Lax, Path=/). The page is plain HTML: no JavaScript, no external asset, one
 * inline style allowed by its hash in the Content-Security-Policy.
 *
 * CSRF (double submit, signed): each form rendered sets a random nonce in the cookie
 * "__Host-jotd-csrf" (HttpOnly, Secure, SameSite=Strict) and carries
 * base64url(HMAC-SHA256(browser.key, "jotd-csrf" NUL nonce)) in its hidden field "csrf". A
 * post is accepted only with both, matching (constant-time). Another site can neither read
 * the cookie nor compute the MAC without the server's key (secrets.h), and SameSite=Strict
 * keeps the cookie off cross-site posts anyway.
 *
 * The forward-auth portal (--cookie-domain): every login and every silent refresh also
 * sets "__Secure-jotd-access", the session's current access token, for the cookie domain
 * (Domain=, Path=/, HttpOnly, Secure, SameSite=Lax, Max-Age=access_ttl), which GET /verify
 * accepts (routes_resource.c). /login?rd=URL sends the browser back to URL afterwards, only
 * for a URL under the cookie domain (redirect.h); with a live browser session that is a
 * silent refresh: the session's refresh token rotated by grant_type=refresh_token's own code
 * (jotd_refresh_rotate, the grace window included), both cookies set, 303 to rd, no form.
 *
 * Cookie names and attributes: cookie.c (plain HTTP on loopback drops the __Host- prefix
 * and Secure). */
#include "log.h"
#include "redirect.h"
#include "server.h"
#include "common/random.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSRF_LEN 43 /* base64url of a 32-byte MAC */
#define PAGE_MAX 24576

static const char style[] =
    "body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}"
    "label,input,button{display:block;width:100%;box-sizing:border-box;font-size:1rem}"
    "input{margin:.25rem 0 1rem;padding:.5rem}button{padding:.5rem}"
    ".error{color:#a00;font-weight:bold}";

static const char *session_cookie(const jotd_runtime_t *rt)
{
    return jotd_cookie_name(rt, "__Host-jotd-session");
}

static const char *csrf_cookie(const jotd_runtime_t *rt)
{
    return jotd_cookie_name(rt, "__Host-jotd-csrf");
}

static const char *access_cookie(const jotd_runtime_t *rt)
{
    return jotd_cookie_name(rt, "__Secure-jotd-access");
}

static void set_cookie(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *name,
                       const char *value, const char *same_site, int64_t max_age)
{
    jotd_cookie_set(resp, rt, name, value, &(jotd_cookie_attrs_t){NULL, NULL, same_site, max_age});
}

/* The portal's access cookie: \p token for the cookie domain ("" and max_age 0: cleared).
 * Nothing without --cookie-domain. Over plain HTTP on loopback (development) the cookie
 * domain is jotd's own host (config.c): the cookie is then host-only, no Domain attribute,
 * which is the same scope, and the one every browser keeps (Domain=localhost has been
 * dropped by some, and a host-only localhost cookie reaches every port of localhost). */
static void set_access_cookie(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *token,
                              int64_t max_age)
{
    if (!rt->cfg.cookie_domain)
        return;
    const char *domain = jotd_secure_cookies(rt) ? rt->cfg.cookie_domain : NULL;
    jotd_cookie_set(resp, rt, access_cookie(rt), token,
                    &(jotd_cookie_attrs_t){NULL, domain, "Lax", max_age});
}

/* \p rd (a request's, NUL-terminated) when it is an acceptable redirect target (redirect.h),
 * with its origin into \p origin; NULL otherwise, the refusal audited. */
static const char *rd_accepted(const jotd_runtime_t *rt, const jotd_req_t *req, const char *rd,
                               char origin[JOTD_ORIGIN_MAX])
{
    if (!rd)
        return NULL;
    if (rt->cfg.cookie_domain &&
        jotd_rd_ok(rd, strlen(rd), rt->cfg.cookie_domain, !jotd_secure_cookies(rt), origin))
        return rd;
    char shown[257];
    snprintf(shown, sizeof shown, "%s", rd);
    jotd_audit("redirect_refused", "rd", shown, "ip", req->ip, NULL);
    return NULL;
}

/* The form's token for \p nonce. */
static void csrf_mac(const jotd_app_t *app, const char *nonce, char out[CSRF_LEN + 1])
{
    unsigned char msg[16 + JOTD_SID_LEN];
    size_t nlen = strlen(nonce);
    memcpy(msg, "jotd-csrf", 10); /* with its NUL */
    memcpy(msg + 10, nonce, nlen);
    uint8_t mac[32];
    size_t mac_len = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, app->browser_key, sizeof app->browser_key,
                   msg, 10 + nlen, mac, sizeof mac, &mac_len) ||
        mac_len != sizeof mac)
        abort();
    jot_b64url_encode(out, mac, sizeof mac);
    jot_memzero(mac, sizeof mac);
}

/* A post carries the csrf field that matches its nonce cookie. */
static bool csrf_ok(const jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                    const jotd_params_t *params)
{
    char nonce[JOTD_SID_LEN + 2], want[CSRF_LEN + 1];
    const char *got = jotd_params_get(params, "csrf");
    if (!got || strlen(got) != CSRF_LEN ||
        !jotd_cookie_get(req, csrf_cookie(rt), nonce, sizeof nonce) ||
        strlen(nonce) != JOTD_SID_LEN)
        return false;
    csrf_mac(app, nonce, want);
    return jot_ct_equal(want, got, CSRF_LEN) == 1;
}

/* A new nonce cookie and the form's token for it. */
static void csrf_new(const jotd_app_t *app, const jotd_runtime_t *rt, jotd_resp_t *resp,
                     char token[CSRF_LEN + 1])
{
    char nonce[JOTD_SID_LEN + 1];
    jotd_random_id(nonce);
    csrf_mac(app, nonce, token);
    set_cookie(resp, rt, csrf_cookie(rt), nonce, "Strict", -1);
}

/* \p s with & < > " ' escaped, into \p out (cut at \p len - 1). */
static void html_escape(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s && o + 7 < len; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

/* The headers of every page: the CSP allows nothing but the inline style (by its hash) and
 * form posts; no framing, no base, no referrer. */
static void page_headers(jotd_resp_t *resp, const char *origin)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char b64[48];
    EVP_Digest(style, sizeof style - 1, md, &mdlen, EVP_sha256(), NULL);
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    /* form-action 'self': the forms post to /login and /logout. Chromium applies form-action
     * to the redirects after a post too: a login that continues an authorization request
     * ends at the client's redirect URI, whose origin is then allowed as well. */
    char *csp = malloc(512 + (origin ? strlen(origin) : 0));
    if (!csp)
        return;
    snprintf(csp, 512 + (origin ? strlen(origin) : 0),
             "default-src 'none'; style-src 'sha256-%s'; form-action 'self'%s%s; "
             "frame-ancestors 'none'; base-uri 'none'",
             b64, origin ? " " : "", origin ? origin : "");
    jotd_resp_header(resp, "Content-Security-Policy", csp);
    free(csp);
    jotd_resp_header(resp, "Referrer-Policy", "no-referrer");
    jotd_resp_header(resp, "X-Frame-Options", "DENY");
    jotd_resp_header(resp, "Cache-Control", "no-store");
}

static void page(jotd_resp_t *resp, unsigned status, const char *title, const char *main_html,
                 const char *origin)
{
    char *body = malloc(PAGE_MAX);
    if (!body) {
        jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
        return;
    }
    int n = snprintf(body, PAGE_MAX,
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>%s</title><style>%s</style></head>\n<body><main>\n%s</main></body>"
                     "</html>\n",
                     title, style, main_html);
    if (n < 0 || n >= PAGE_MAX) {
        free(body);
        jotd_resp_error(resp, 500, "server_error", "page too large");
        return;
    }
    free(resp->body);
    resp->status = status;
    resp->body = body;
    resp->body_len = (size_t)n;
    resp->content_type = "text/html; charset=utf-8";
    page_headers(resp, origin);
}

/* A continuation jotd accepts: a query string for /authorize, percent-encoded (so that it
 * can follow "/authorize?" in a Location header as it is). */
static bool authorize_ok(const char *q)
{
    size_t n = strlen(q);
    if (n == 0 || n > 3072)
        return false;
    for (const char *p = q; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-._~%&=+", *p)))
            return false;
    return true;
}

/* The sign-in form, with \p message (static text, NULL: none) above it, continuing either
 * an authorization request \p authorize or a portal redirect \p rd (an accepted one). */
static void login_form(jotd_app_t *app, const jotd_runtime_t *rt, jotd_resp_t *resp,
                       unsigned status, const char *message, const char *authorize, const char *rd,
                       const char *origin)
{
    char token[CSRF_LEN + 1], msg[512] = "", cont[16000] = "", esc[15800];
    char html[sizeof msg + sizeof cont + sizeof token + 1024]; /* the fixed text: < 1 KiB */
    csrf_new(app, rt, resp, token);
    if (authorize && authorize_ok(authorize)) {
        html_escape(authorize, esc, sizeof esc);
        snprintf(cont, sizeof cont, "<input type=\"hidden\" name=\"authorize\" value=\"%s\">\n",
                 esc);
    } else if (rd) { /* at most JOTD_RD_MAX bytes: escaped, it fits */
        html_escape(rd, esc, sizeof esc);
        snprintf(cont, sizeof cont, "<input type=\"hidden\" name=\"rd\" value=\"%s\">\n", esc);
    }
    if (message)
        snprintf(msg, sizeof msg, "<p class=\"error\" role=\"alert\" id=\"error\">%s</p>\n",
                 message);
    snprintf(html, sizeof html,
             "<h1>Sign in</h1>\n%s"
             "<form method=\"post\" action=\"/login\">\n"
             "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n%s"
             "<label for=\"username\">Username</label>\n"
             "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
             "autocapitalize=\"none\" spellcheck=\"false\" required autofocus%s>\n"
             "<label for=\"password\">Password</label>\n"
             "<input id=\"password\" name=\"password\" type=\"password\" "
             "autocomplete=\"current-password\" required>\n"
             "<button type=\"submit\">Sign in</button>\n</form>\n",
             msg, token, cont, message ? " aria-describedby=\"error\"" : "");
    page(resp, status, "Sign in", html, origin);
}

void jotd_login_page(jotd_app_t *app, const jotd_runtime_t *rt, jotd_resp_t *resp, unsigned status,
                     const char *message, const char *authorize, const char *origin)
{
    login_form(app, rt, resp, status, message, authorize, NULL, origin);
}

/* The page of a signed-in browser: who, and the sign-out form. */
static void signed_in(jotd_app_t *app, const jotd_runtime_t *rt, jotd_resp_t *resp,
                      const char *username)
{
    char token[CSRF_LEN + 1], html[1024], name[512];
    csrf_new(app, rt, resp, token);
    html_escape(username, name, sizeof name);
    snprintf(html, sizeof html,
             "<h1>Signed in</h1>\n<p>You are signed in as <strong id=\"user\">%s</strong>.</p>\n"
             "<form method=\"post\" action=\"/logout\">\n"
             "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
             "<button type=\"submit\">Sign out</button>\n</form>\n",
             name, token);
    page(resp, 200, "Signed in", html, NULL);
}

/* The browser's session from its cookie: a live session of the portal client whose user is
 * enabled (*user filled), else false. */
bool jotd_browser_session(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_session_t *s, jotd_user_t *user)
{
    char tok[JOTD_REFRESH_TOKEN_LEN + 2];
    if (!jotd_cookie_get(req, session_cookie(rt), tok, sizeof tok) ||
        strlen(tok) != JOTD_REFRESH_TOKEN_LEN)
        return false;
    uint8_t hash[JOTD_HASH_LEN];
    jotd_refresh_hash(tok, strlen(tok), hash);
    jot_memzero(tok, sizeof tok);
    bool live = false;
    if (jotd_store_refresh_lookup(app->store, hash, jotd_now(), s, &live) != JOTD_OK)
        return false;
    if (!live || strcmp(s->client_id, rt->cfg.portal_client) != 0 ||
        jotd_store_user_get(app->store, s->user_id, user) != JOTD_OK) {
        jotd_session_clear(s);
        return false;
    }
    if (user->disabled) {
        jotd_user_clear(user);
        jotd_session_clear(s);
        return false;
    }
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The origin (scheme://authority) of the redirect_uri in a continuation, percent-decoded,
 * for the CSP of the form rendered again ("" when there is none or it does not fit). Only
 * a CSP source: /authorize checks the URI itself before anything goes there. */
static void continuation_origin(const char *q, char *out, size_t len)
{
    out[0] = '\0';
    const char *p = strstr(q, "redirect_uri=");
    if (!p || (p != q && p[-1] != '&'))
        return;
    p += strlen("redirect_uri=");
    size_t o = 0;
    int slashes = 0;
    for (; *p && *p != '&' && o + 1 < len; p++) {
        char c = *p;
        if (c == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        }
        if (c == '/' && ++slashes == 3)
            break;
        if (c == '?' || c == '#' || c == ';' || c == ' ' || c == '\'' || (unsigned char)c < 0x21)
            break;
        out[o++] = c;
    }
    out[o] = '\0';
    if (strncmp(out, "https://", 8) != 0 && strncmp(out, "http://", 7) != 0)
        out[0] = '\0';
}

/* The answer to a successful login or silent refresh of the browser session: the session
 * cookie (\p refresh), the portal's access cookie (\p access, NULL: none), and 303 to
 * \p location. */
static void signed_in_redirect(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *refresh,
                               const char *access, const char *location)
{
    set_cookie(resp, rt, session_cookie(rt), refresh, "Lax", rt->cfg.refresh_idle_ttl);
    if (access)
        set_access_cookie(resp, rt, access, rt->cfg.access_ttl);
    resp->status = 303;
    jotd_resp_header(resp, "Location", location);
    jotd_resp_header(resp, "Cache-Control", "no-store");
}

static void post_login(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    jotd_params_t params = {0};
    if (jotd_params_parse(req->content_type, req->body, req->body_len, &params) != JOTD_OK) {
        jotd_login_page(app, rt, resp, 400, "The form could not be read. Please try again.", NULL,
                        NULL);
        return;
    }
    const char *username = jotd_params_get(&params, "username");
    const char *password = jotd_params_get(&params, "password");
    const char *authorize = jotd_params_get(&params, "authorize");
    if (authorize && !authorize_ok(authorize))
        authorize = NULL;
    char origin[JOTD_ORIGIN_MAX] = "";
    const char *rd = NULL;
    if (authorize)
        continuation_origin(authorize, origin, sizeof origin);
    else
        rd = rd_accepted(rt, req, jotd_params_get(&params, "rd"), origin);
    const char *o = origin[0] ? origin : NULL;
    jotd_user_t user = {0};
    int64_t wait = 0;
    if (!csrf_ok(app, rt, req, &params)) {
        jotd_audit("login_csrf_refused", "ip", req->ip, NULL);
        login_form(app, rt, resp, 403,
                   "This form expired or did not come from this page. Please sign in again.",
                   authorize, rd, o);
    } else if (!username || !*username || !password || !*password) {
        login_form(app, rt, resp, 400, "Enter your username and your password.", authorize, rd, o);
    } else {
        const char *portal = rt->cfg.portal_client;
        switch (jotd_login_check(app, rt, req, username, password, portal, &user, &wait)) {
        case JOTD_LOGIN_OK: {
            jotd_session_t s = {0};
            char refresh[JOTD_REFRESH_TOKEN_LEN + 1];
            int64_t now = jotd_now();
            jotd_rc_t rc = jotd_login_session(app, rt, req, &user, portal, "", now, &s, refresh);
            if (rc != JOTD_OK) {
                jotd_resp_unavailable(resp, rc);
                break;
            }
            char *access = NULL;
            if (rt->cfg.cookie_domain &&
                jotd_access_token(rt, &user, &s, s.scope, now, &access, NULL) != JOT_OK) {
                jot_memzero(refresh, sizeof refresh);
                jotd_resp_error(resp, 500, "server_error", "cannot sign the access token");
                break;
            }
            char *loc = NULL;
            if (authorize) { /* back to the authorization request, now with a session */
                loc = malloc(strlen(authorize) + 12);
                if (loc)
                    snprintf(loc, strlen(authorize) + 12, "/authorize?%s", authorize);
            }
            signed_in_redirect(resp, rt, refresh, access, loc ? loc : rd ? rd : "/login");
            free(loc);
            jot_free(access);
            jot_memzero(refresh, sizeof refresh);
            break;
        }
        case JOTD_LOGIN_THROTTLED: {
            char retry[24], msg[160];
            snprintf(retry, sizeof retry, "%lld", (long long)wait);
            snprintf(msg, sizeof msg,
                     "Too many failed sign-in attempts. Please wait %lld second%s and try again.",
                     (long long)wait, wait == 1 ? "" : "s");
            login_form(app, rt, resp, 429, msg, authorize, rd, o);
            jotd_resp_header(resp, "Retry-After", retry);
            break;
        }
        case JOTD_LOGIN_UNAVAILABLE:
            login_form(app, rt, resp, 503,
                       "Signing in is unavailable right now. Please try again shortly.", authorize,
                       rd, o);
            jotd_resp_header(resp, "Retry-After", "1");
            break;
        default:
            login_form(app, rt, resp, 400, "Wrong username or password.", authorize, rd, o);
            break;
        }
    }
    jotd_user_clear(&user);
    jotd_params_clear(&params);
}

/* /login?rd= with the session cookie: rotate the session's refresh token through
 * grant_type=refresh_token's code (for the portal client, with its grace window) and send
 * the browser back to \p rd with both cookies. false when there is no session to refresh (no
 * cookie, a dead or reused token, another client's): the caller shows the form. A store that
 * cannot answer gets its 503. */
static bool silent_refresh(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           const char *rd, jotd_resp_t *resp)
{
    char tok[JOTD_REFRESH_TOKEN_LEN + 2];
    if (!jotd_cookie_get(req, session_cookie(rt), tok, sizeof tok) ||
        strlen(tok) != JOTD_REFRESH_TOKEN_LEN)
        return false;
    jotd_client_t cl = {0};
    jotd_rc_t rc = jotd_store_client_get(app->store, rt->cfg.portal_client, &cl);
    if (rc != JOTD_OK) {
        jot_memzero(tok, sizeof tok);
        if (rc == JOTD_E_NOTFOUND)
            return false;
        jotd_resp_unavailable(resp, rc);
        return true;
    }
    /* the session cookie is a browser's, like a cookie-mode client's refresh cookie: tabs
     * come back at once after the access cookie expired, so unless the portal client has a
     * window of its own this rotation gets the cookie-mode one (the same client's other
     * refresh tokens, at /token, keep the server's --refresh-grace) */
    if (!cl.has_refresh_grace) {
        cl.has_refresh_grace = true;
        cl.refresh_grace = JOTD_COOKIE_MODE_GRACE;
    }
    jotd_refreshed_t r = {0};
    jotd_resp_t err = {0};
    bool ok = jotd_refresh_rotate(app, rt, req, &cl, tok, NULL, &r, &err);
    jot_memzero(tok, sizeof tok);
    jotd_client_clear(&cl);
    if (ok) {
        signed_in_redirect(resp, rt, r.refresh, r.access, rd);
    } else if (err.status == 503) {
        jotd_html_page(resp, 503, "Unavailable",
                       "Signing in is unavailable right now. Please try again shortly.");
        jotd_resp_header(resp, "Retry-After", "1");
        ok = true;
    }
    jotd_refreshed_clear(&r);
    jotd_resp_clear(&err);
    return ok;
}

void jotd_route_login(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp)
{
    if (strcmp(req->method, "POST") == 0) {
        post_login(app, rt, req, resp);
        return;
    }
    /* room for any query value the HTTP layer takes: an over-long rd is refused (and
     * audited) by rd_accepted, not lost as an absent one */
    enum { QMAX = 65536 };
    char *buf = malloc(QMAX), origin[JOTD_ORIGIN_MAX];
    if (!buf) {
        jotd_resp_error(resp, 503, "temporarily_unavailable", "out of memory");
        return;
    }
    const char *rd = rd_accepted(rt, req, jotd_req_query(req, "rd", buf, QMAX), origin);
    if (rd && silent_refresh(app, rt, req, rd, resp)) { /* signed in: back at once */
        free(buf);
        return;
    }
    jotd_session_t s = {0};
    jotd_user_t user = {0};
    if (!rd && jotd_browser_session(app, rt, req, &s, &user)) { /* signed in: no form */
        signed_in(app, rt, resp, user.username);
        jotd_user_clear(&user);
        jotd_session_clear(&s);
    } else {
        login_form(app, rt, resp, 200, NULL, NULL, rd, rd ? origin : NULL);
    }
    free(buf);
}

void jotd_browser_logout(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         const jotd_params_t *params, jotd_resp_t *resp)
{
    if (!csrf_ok(app, rt, req, params)) {
        jotd_audit("logout_csrf_refused", "ip", req->ip, NULL);
        jotd_login_page(app, rt, resp, 403,
                        "This form expired or did not come from this page. Nothing was changed.",
                        NULL, NULL);
        return;
    }
    jotd_session_t s = {0};
    jotd_user_t user = {0};
    if (jotd_browser_session(app, rt, req, &s, &user)) {
        int64_t now = jotd_now();
        jotd_rc_t rc = jotd_store_session_revoke(app->store, s.sid, now);
        if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND) {
            jotd_user_clear(&user);
            jotd_session_clear(&s);
            jotd_resp_unavailable(resp, rc);
            return;
        }
        jotd_session_ended(app, s.sid, now, rt->cfg.access_ttl);
        jotd_audit("logout", "user", user.username, "sid", s.sid, "ip", req->ip, NULL);
        jotd_user_clear(&user);
        jotd_session_clear(&s);
    }
    /* every cookie jotd set, cleared */
    set_cookie(resp, rt, session_cookie(rt), "", "Lax", 0);
    set_cookie(resp, rt, csrf_cookie(rt), "", "Strict", 0);
    set_access_cookie(resp, rt, "", 0);
    resp->status = 303;
    jotd_resp_header(resp, "Location", "/login");
    jotd_resp_header(resp, "Cache-Control", "no-store");
}

void jotd_html_page(jotd_resp_t *resp, unsigned status, const char *title, const char *text)
{
    char html[2048], esc[1536];
    html_escape(text, esc, sizeof esc);
    snprintf(html, sizeof html, "<h1>%s</h1>\n<p role=\"alert\" id=\"error\">%s</p>\n", title, esc);
    page(resp, status, title, html, NULL);
}
