/* Browsers calling jotd from other origins (docs/browser.md, "Single-page apps"): CORS and
 * the refresh cookie of cookie-mode clients.
 *
 * CORS. /token, /revoke, /logout and /userinfo answer a request whose Origin is an allowed
 * origin of some public client with that exact origin in Access-Control-Allow-Origin,
 * Allow-Credentials and Vary: Origin; their OPTIONS preflight is 204 for such an origin and
 * 403 (no Access-Control-* header) for any other. The JWKS, the metadata and the status lists
 * are public documents: "*", no credentials. A confidential client's origins are never
 * honoured: a page cannot keep a secret, so no page may act as that client.
 *
 * The set of allowed origins is kept in memory (a sorted array, looked up under a read lock:
 * cheap enough for the event loop, which never reads the store). It is rebuilt from the store
 * off the loop by jotd_events_sync(), the one path by which every client change reaches this
 * process (its own at once, another process's within the events poll or a NOTIFY), whenever
 * a client_changed event was read, and at the first sync at start.
 *
 * Cookie-authenticated requests (the refresh cookie at /token and /logout) defend against
 * CSRF three ways, each enough against a plain cross-site form: the Origin must be one of
 * the client's allowed origins; the request must be one a page can only send after a CORS
 * preflight (a JSON body, or a non-empty X-Requested-With header); and Sec-Fetch-Site, when
 * the browser sends it, must not say cross-site. The cookie itself is SameSite=Strict. */
#include "log.h"
#include "names.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct jotd_origins {
    pthread_mutex_t reload; /* one rebuild at a time: a second caller waits for the first */
    pthread_rwlock_t lock;
    char **v; /* sorted, distinct */
    size_t n;
    atomic_bool stale; /* a client changed (or never loaded): rebuild at the next sync */
};

jotd_origins_t *jotd_origins_new(void)
{
    jotd_origins_t *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    pthread_rwlock_init(&o->lock, NULL);
    pthread_mutex_init(&o->reload, NULL);
    atomic_init(&o->stale, true);
    return o;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void jotd_origins_free(jotd_origins_t *o)
{
    if (!o)
        return;
    free_list(o->v, o->n);
    pthread_rwlock_destroy(&o->lock);
    pthread_mutex_destroy(&o->reload);
    free(o);
}

void jotd_origins_changed(jotd_origins_t *o)
{
    if (o)
        atomic_store(&o->stale, true);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static jotd_rc_t reload(jotd_origins_t *o, jotd_store_t *st);

/* Under o->reload: whoever returns has seen a set at least as new as the change that made
 * it stale (a handler's own change is in force when it answers). */
jotd_rc_t jotd_origins_reload(jotd_origins_t *o, jotd_store_t *st)
{
    if (!o)
        return JOTD_OK;
    pthread_mutex_lock(&o->reload);
    jotd_rc_t rc = atomic_exchange(&o->stale, false) ? reload(o, st) : JOTD_OK;
    pthread_mutex_unlock(&o->reload);
    return rc;
}

static jotd_rc_t reload(jotd_origins_t *o, jotd_store_t *st)
{
    jotd_client_t *cl = NULL;
    size_t n = 0, total = 0, m = 0;
    jotd_rc_t rc = jotd_store_client_list(st, &cl, &n);
    if (rc != JOTD_OK) {
        atomic_store(&o->stale, true); /* the next sync tries again */
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (!jotd_client_is_confidential(&cl[i]) && !cl[i].disabled)
            total += cl[i].n_allowed_origins;
    char **v = total ? calloc(total, sizeof *v) : NULL;
    for (size_t i = 0; v && i < n; i++) {
        if (jotd_client_is_confidential(&cl[i]) || cl[i].disabled)
            continue;
        for (size_t k = 0; k < cl[i].n_allowed_origins && m < total; k++) {
            v[m] = strdup(cl[i].allowed_origins[k]);
            if (!v[m]) {
                free_list(v, m);
                v = NULL;
                break;
            }
            m++;
        }
    }
    jotd_client_list_free(cl, n);
    if (total && !v) {
        atomic_store(&o->stale, true);
        return JOTD_E_NOMEM;
    }
    if (m > 1) { /* sorted, duplicates dropped */
        qsort(v, m, sizeof *v, cmp_str);
        size_t w = 1;
        for (size_t r = 1; r < m; r++) {
            if (strcmp(v[r], v[w - 1]) == 0)
                free(v[r]);
            else
                v[w++] = v[r];
        }
        m = w;
    }
    pthread_rwlock_wrlock(&o->lock);
    char **old = o->v;
    size_t old_n = o->n;
    o->v = v;
    o->n = m;
    pthread_rwlock_unlock(&o->lock);
    free_list(old, old_n);
    return JOTD_OK;
}

bool jotd_origins_has(jotd_origins_t *o, const char *origin)
{
    if (!o || !origin || !*origin)
        return false;
    pthread_rwlock_rdlock(&o->lock);
    bool found = o->n && bsearch(&origin, o->v, o->n, sizeof *o->v, cmp_str) != NULL;
    pthread_rwlock_unlock(&o->lock);
    return found;
}

void jotd_cors_headers(jotd_app_t *app, const jotd_req_t *req, jotd_resp_t *resp)
{
    if (!req->origin)
        return;
    jotd_resp_header(resp, "Vary", "Origin");
    if (!jotd_origins_has(app->origins, req->origin))
        return;
    jotd_resp_header(resp, "Access-Control-Allow-Origin", req->origin);
    jotd_resp_header(resp, "Access-Control-Allow-Credentials", "true");
}

void jotd_cors_preflight(jotd_app_t *app, const jotd_req_t *req, const char *methods,
                         jotd_resp_t *resp)
{
    if (!req->origin || !jotd_origins_has(app->origins, req->origin)) {
        jotd_resp_error(resp, 403, "invalid_request", "origin not allowed");
        if (req->origin)
            jotd_resp_header(resp, "Vary", "Origin");
        return;
    }
    resp->status = 204;
    jotd_resp_header(resp, "Access-Control-Allow-Origin", req->origin);
    jotd_resp_header(resp, "Access-Control-Allow-Credentials", "true");
    jotd_resp_header(resp, "Access-Control-Allow-Methods", methods);
    jotd_resp_header(resp, "Access-Control-Allow-Headers",
                     "Authorization, Content-Type, X-Requested-With, DPoP");
    jotd_resp_header(resp, "Access-Control-Max-Age", "600");
    jotd_resp_header(resp, "Vary", "Origin");
}

bool jotd_client_origin_allowed(const jotd_client_t *cl, const char *origin)
{
    if (!origin)
        return false;
    for (size_t i = 0; i < cl->n_allowed_origins; i++)
        if (strcmp(cl->allowed_origins[i], origin) == 0)
            return true;
    return false;
}

/* application/json, with parameters or not (jotd_params_parse took the body as JSON). */
static bool json_body(const char *ct)
{
    size_t n = sizeof "application/json" - 1;
    return ct && strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

const char *jotd_cookie_request_refusal(const jotd_req_t *req, const jotd_client_t *cl)
{
    if (!jotd_client_origin_allowed(cl, req->origin))
        return "origin not allowed";
    if (req->sec_fetch_site && strcasecmp(req->sec_fetch_site, "cross-site") == 0)
        return "cross-site request refused (Sec-Fetch-Site)";
    if (!json_body(req->content_type) && !(req->x_requested_with && *req->x_requested_with))
        return "a cookie-authenticated request needs a JSON body or an X-Requested-With header";
    return NULL;
}

void jotd_cors_refused(const jotd_req_t *req, const jotd_client_t *cl, const char *why,
                       jotd_resp_t *resp)
{
    jotd_audit("cors_refused", "client_id", cl->client_id, "origin", req->origin ? req->origin : "",
               "reason", why, "ip", req->ip, NULL);
    jotd_resp_error(resp, 403, "invalid_request", why);
}

int jotd_refresh_cookie_name(const jotd_runtime_t *rt, const char *client_id, char *out, size_t len)
{
    char full[128];
    int n = snprintf(full, sizeof full, "__Secure-jotd-refresh-%s", client_id);
    if (n < 0 || (size_t)n >= sizeof full || !jotd_cookie_name_valid(full))
        return -1;
    n = snprintf(out, len, "%s", jotd_cookie_name(rt, full));
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int jotd_token_endpoint_path(const char *issuer, char *out, size_t len)
{
    const char *p = strstr(issuer, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    size_t n = p ? strlen(p) : 0;
    while (n && p[n - 1] == '/')
        n--;
    int w = snprintf(out, len, "%.*s/token", (int)n, p ? p : "");
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

void jotd_refresh_cookie_set(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *client_id,
                             const char *value)
{
    char name[128], path[512];
    if (jotd_refresh_cookie_name(rt, client_id, name, sizeof name) != 0 ||
        jotd_token_endpoint_path(rt->cfg.issuer, path, sizeof path) != 0)
        return;
    jotd_cookie_attrs_t a = {
        .path = path, .same_site = "Strict", .max_age = value ? rt->cfg.refresh_idle_ttl : 0};
    jotd_cookie_set(resp, rt, name, value ? value : "", &a);
}
