/* The HTTP layer of jotd on libmicrohttpd: body collection with a cap, routing with 404/405,
 * responses with their headers, one log line per request, graceful stop. */
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "common/buf.h"
#include "common/strparse.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 16
#define MAX_HEADERS 128 /* headers looked at per request; more is refused (400) */

/* One request. Requests that touch the database or hash passwords are handed to a worker
 * thread while libmicrohttpd suspends the connection, so that the event loops keep serving
 * /verify and the other in-memory endpoints whatever SQLite or Argon2 are doing. Everything
 * a handler reads is therefore copied here first. */
typedef struct jotd_conn { /* jotd_conn_t of server.h */
    jotx_buf_t body;       /* capped at max_body, wiped when freed (passwords, secrets) */
    bool too_big;
    bool answered;  /* a response was queued (400/413 early, or the final one) */
    bool started;   /* on_request has seen the headers */
    bool url_ctl;   /* the raw URL decodes to a control byte (see on_uri) */
    unsigned route; /* index in routes[] for the metrics; N_ROUTES: none (404, 400...) */
    enum { ST_READING, ST_QUEUED, ST_DONE } state;
    int64_t start_us;
    unsigned status;
    char method[16];
    char path[128]; /* for the log line */
    char ip[JOTD_ADDR_TEXT];
    char *url, *content_type, *authorization, *cookie;
    char *origin, *sec_fetch_site, *x_requested_with; /* browsers (cors.c) */
    char *arg_name[MAX_ARGS], *arg_value[MAX_ARGS];
    size_t n_args;
    struct MHD_Connection *conn;
    jotd_resp_t resp;       /* the answer of a worker */
    struct jotd_conn *next; /* job queue */
} conn_ctx_t;

struct jotd_http {
    struct MHD_Daemon *daemon;
    struct MHD_Daemon *metrics_daemon; /* --metrics-listen (NULL: none) */
    uint16_t metrics_port;
    jotd_app_t *app;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    conn_ctx_t *head, *tail; /* queued jobs */
    unsigned busy;           /* jobs being handled */
    bool stop;
    pthread_t *workers;
    unsigned n_workers;
};

/* Requests between their first byte and their completion: what SIGTERM waits for (idle
 * keep-alive connections are not waited for). */
static _Atomic long in_flight;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void jotd_resp_header_n(jotd_resp_t *r, const char *name, const char *value, size_t len)
{
    if (r->n_hdr >= JOTD_MAX_HEADERS || !value)
        return;
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, value, len);
    copy[len] = '\0';
    r->hdr_name[r->n_hdr] = name;
    r->hdr_value[r->n_hdr++] = copy;
}

void jotd_resp_header(jotd_resp_t *r, const char *name, const char *value)
{
    if (value)
        jotd_resp_header_n(r, name, value, strlen(value));
}

void jotd_resp_json(jotd_resp_t *r, unsigned status, json_t *j)
{
    free(r->body);
    r->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!r->body) {
        r->status = 500;
        r->body = strdup("{\"error\":\"server_error\"}");
    } else {
        r->status = status;
    }
    r->body_len = r->body ? strlen(r->body) : 0;
    r->content_type = "application/json";
}

void jotd_resp_error(jotd_resp_t *r, unsigned status, const char *error, const char *description)
{
    json_t *j = json_object();
    json_object_set_new(j, "error", json_string(error));
    if (description)
        json_object_set_new(j, "error_description", json_string(description));
    jotd_resp_json(r, status, j);
}

const char *jotd_req_query(const jotd_req_t *req, const char *name, char *buf, size_t len)
{
    const conn_ctx_t *ctx = req->conn;
    for (size_t i = 0; ctx && i < ctx->n_args; i++) {
        if (strcmp(ctx->arg_name[i], name) != 0)
            continue;
        const char *v = ctx->arg_value[i] ? ctx->arg_value[i] : "";
        if (strlen(v) >= len)
            return NULL;
        memcpy(buf, v, strlen(v) + 1);
        return buf;
    }
    return NULL;
}

const char *jotd_req_header(const jotd_req_t *req, const char *name)
{
    const conn_ctx_t *ctx = req->conn;
    if (!ctx || !ctx->conn)
        return NULL;
    /* the connection's own copy: it lives until the request completes, and libmicrohttpd does
     * not touch it while a worker holds the suspended connection */
    return MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, name);
}

/* ---- routing ---------------------------------------------------------------------- */

typedef void (*route_fn)(jotd_app_t *, const jotd_runtime_t *, const jotd_req_t *, jotd_resp_t *);

static void route_jwks(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    (void)app;
    (void)req;
    size_t n;
    const char *jwks = jotd_keyring_jwks(rt->keyring, &n);
    resp->status = 200;
    resp->body = strndup(jwks, n);
    resp->body_len = resp->body ? n : 0;
    resp->content_type = "application/jwk-set+json";
    /* a rotated key is published --key-lead-time (>= this) before it signs */
    char cc[48];
    snprintf(cc, sizeof cc, "public, max-age=%lld", (long long)rt->cfg.jwks_max_age);
    jotd_resp_header(resp, "Cache-Control", cc);
}

static void route_metadata(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    (void)app;
    (void)req;
    resp->status = 200;
    resp->body = strdup(rt->metadata_json);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    resp->content_type = "application/json";
    jotd_resp_header(resp, "Cache-Control", "public, max-age=300");
}

static void route_healthz(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_resp_t *resp)
{
    (void)app;
    (void)rt;
    (void)req;
    jotd_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

/* Readiness: can this instance serve logins? A store round trip (so on a worker thread:
 * never on the event loop) and, on PostgreSQL with --events-listen on, the LISTEN
 * connection up (else revocations made elsewhere would only be seen at the next poll). */
static void route_readyz(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp)
{
    (void)rt;
    (void)req;
    int64_t v = 0;
    const char *reason = NULL;
    if (jotd_store_schema_version(app->store, &v) != JOTD_OK)
        reason = "the store does not answer";
    else if (app->listener && !jotd_store_listen_connected(app->listener))
        reason = "the events listener is not connected to the store";
    if (reason) {
        jotd_resp_json(resp, 503,
                       json_pack("{s:s,s:s}", "status", "unavailable", "reason", reason));
        jotd_resp_header(resp, "Retry-After", "1");
    } else {
        jotd_resp_json(resp, 200, json_pack("{s:s}", "status", "ready"));
    }
    jotd_resp_header(resp, "Cache-Control", "no-store");
}

static void route_metrics(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_resp_t *resp);

static const struct route {
    const char *path;
    bool prefix;       /* path is a prefix ending in '/' */
    const char *allow; /* Allow header value */
    route_fn fn;
    enum {
        ON_LOOP,    /* in memory only: on the event loop */
        OFFLOAD,    /* database writes or Argon2 work: on a worker thread */
        LOOP_FIRST, /* on the event loop unless the handler answers JOTD_STATUS_DEFER */
    } where;
    enum {
        CORS_NONE,
        CORS_CREDENTIALS, /* the allowed origins of public clients, with credentials; OPTIONS
                             preflight answered on the loop (cors.c) */
        CORS_PUBLIC,      /* a public document: Access-Control-Allow-Origin: * */
    } cors;
} routes[] = {
    {"/token", false, "POST", jotd_route_token, OFFLOAD, CORS_CREDENTIALS},
    {"/revoke", false, "POST", jotd_route_revoke, OFFLOAD, CORS_CREDENTIALS},
    {"/introspect", false, "POST", jotd_route_introspect, LOOP_FIRST, CORS_NONE},
    {"/logout", false, "POST", jotd_route_logout, OFFLOAD, CORS_CREDENTIALS},
    {"/login", false, "GET, HEAD, POST", jotd_route_login, OFFLOAD, CORS_NONE},
    {"/authorize", false, "GET, HEAD", jotd_route_authorize, OFFLOAD, CORS_NONE},
    {"/verify", false, "GET, HEAD", jotd_route_verify, ON_LOOP, CORS_NONE},
    /* OIDC Core §5.3.1: GET and POST */
    {"/userinfo", false, "GET, HEAD, POST", jotd_route_userinfo, OFFLOAD, CORS_CREDENTIALS},
    {"/.well-known/jwks.json", false, "GET, HEAD", route_jwks, ON_LOOP, CORS_PUBLIC},
    {"/.well-known/oauth-authorization-server", false, "GET, HEAD", route_metadata, ON_LOOP,
     CORS_PUBLIC},
    {"/healthz", false, "GET, HEAD", route_healthz, ON_LOOP, CORS_NONE},
    {"/readyz", false, "GET, HEAD", route_readyz, OFFLOAD, CORS_NONE},
    {"/admin/users", false, "GET, POST", jotd_route_admin, OFFLOAD, CORS_NONE},
    /* per-user resources: methods are checked by the admin router itself */
    {"/admin/users/", true, "GET, PATCH, DELETE", jotd_route_admin, OFFLOAD, CORS_NONE},
    {"/admin/clients", false, "GET, POST", jotd_route_admin_clients, OFFLOAD, CORS_NONE},
    {"/admin/clients/", true, "GET, POST, PATCH, DELETE", jotd_route_admin_clients, OFFLOAD,
     CORS_NONE},
    {"/admin/keys", false, "GET", jotd_route_admin_keys, OFFLOAD, CORS_NONE},
    {"/admin/keys/", true, "POST", jotd_route_admin_keys, OFFLOAD, CORS_NONE},
    /* a cached list on the loop; building one reads the store: on a worker */
    {"/statuslists/", true, "GET, HEAD", jotd_route_statuslist, LOOP_FIRST, CORS_PUBLIC},
    /* counters in memory: on the loop */
    {"/metrics", false, "GET, HEAD", route_metrics, ON_LOOP, CORS_NONE},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])
_Static_assert(N_ROUTES < JOTD_METRICS_MAX_ROUTES, "raise JOTD_METRICS_MAX_ROUTES");

/* The Prometheus text of this process (the route label: the table's path, "other" for
 * requests no route took). */
static void metrics_text(jotd_app_t *app, const jotd_runtime_t *rt, jotd_resp_t *resp)
{
    const char *names[N_ROUTES + 1];
    for (size_t i = 0; i < N_ROUTES; i++)
        names[i] = routes[i].path;
    names[N_ROUTES] = "other";
    jotd_metrics_gauges_t g = {0};
    g.vcache_entries = jotd_vcache_count(rt->vcache, jotd_now(), &g.vcache_capacity);
    g.denylist_jtis = jotd_denylist_count(app->deny);
    g.denylist_sessions = jotd_denylist_count(app->ended_sessions);
    g.in_flight = in_flight;
    jotx_buf_t b;
    jotx_buf_init(&b, NULL, 0, 4u << 20, false, NULL);
    if (jotd_metrics_render(&b, names, N_ROUTES + 1, &g) != JOTX_OK) {
        jotx_buf_free(&b);
        jotd_resp_error(resp, 500, "server_error", NULL);
        return;
    }
    resp->status = 200;
    resp->body = jotx_buf_take(&b, &resp->body_len);
    if (!resp->body)
        resp->body_len = 0;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    jotd_resp_header(resp, "Cache-Control", "no-store");
}

/* GET /metrics on the main listener: never public. A bearer access token whose user has the
 * `metrics` role (a role change bumps the user's generation, which voids older tokens, so
 * the claim is as current as the user record); the counters are in memory. */
static void route_metrics(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_resp_t *resp)
{
    if (!rt->cfg.metrics) {
        jotd_resp_error(resp, 404, "not_found", "metrics are off (--metrics off)");
        return;
    }
    jot_token_t *t = jotd_bearer_verified(app, rt, req, resp);
    if (!t)
        return;
    bool allowed = jotd_token_has_role(t, "metrics");
    jot_token_free(t);
    if (!allowed) {
        jotd_resp_error(resp, 403, "insufficient_scope", "the metrics role is required");
        jotd_resp_header(resp, "WWW-Authenticate",
                         "Bearer realm=\"jotd\", error=\"insufficient_scope\"");
        return;
    }
    metrics_text(app, rt, resp);
}

bool jotd_method_allowed(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += n)
        if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

bool jotd_resp_method(const jotd_req_t *req, const char *allow, jotd_resp_t *resp)
{
    if (jotd_method_allowed(allow, req->method))
        return true;
    jotd_resp_error(resp, 405, "method_not_allowed", NULL);
    jotd_resp_header(resp, "Allow", allow);
    return false;
}

/* An OPTIONS request to a credentialed CORS endpoint: a browser's preflight (cors.c). */
static bool is_preflight(const jotd_req_t *req, const struct route *r)
{
    return r->cors == CORS_CREDENTIALS && strcmp(req->method, "OPTIONS") == 0;
}

/* The route of a request, or NULL after answering 404/405 in \p resp. */
static const struct route *find_route(const jotd_req_t *req, jotd_resp_t *resp)
{
    const struct route *r = NULL;
    for (size_t i = 0; i < N_ROUTES; i++) {
        size_t n = strlen(routes[i].path);
        if (routes[i].prefix ? strncmp(req->path, routes[i].path, n) == 0 && req->path[n]
                             : strcmp(req->path, routes[i].path) == 0) {
            r = &routes[i];
            break;
        }
    }
    if (!r) {
        jotd_resp_error(resp, 404, "not_found", "no such endpoint");
        return NULL;
    }
    if (!r->prefix && !is_preflight(req, r) && !jotd_resp_method(req, r->allow, resp))
        return NULL;
    return r;
}

static void run_route(jotd_app_t *app, const struct route *r, const jotd_req_t *req,
                      jotd_resp_t *resp)
{
    if (is_preflight(req, r)) { /* /userinfo: GET, POST; the others: POST */
        jotd_cors_preflight(app, req, strstr(r->allow, "GET") ? "GET, POST" : "POST", resp);
        return;
    }
    pthread_rwlock_rdlock(&app->rt_lock);
    r->fn(app, app->rt, req, resp);
    pthread_rwlock_unlock(&app->rt_lock);
    if (resp->status == JOTD_STATUS_DEFER)
        return;
    if (r->cors == CORS_CREDENTIALS)
        jotd_cors_headers(app, req, resp);
    else if (r->cors == CORS_PUBLIC)
        jotd_resp_header(resp, "Access-Control-Allow-Origin", "*");
}

static jotd_req_t request_of(conn_ctx_t *ctx)
{
    jotd_req_t req = {
        .method = ctx->method,
        .path = ctx->url,
        .query = "",
        .content_type = ctx->content_type,
        .authorization = ctx->authorization,
        .cookie = ctx->cookie,
        .origin = ctx->origin,
        .sec_fetch_site = ctx->sec_fetch_site,
        .x_requested_with = ctx->x_requested_with,
        .ip = ctx->ip,
        .body = ctx->body.p ? ctx->body.p : "",
        .body_len = ctx->body.len,
        .conn = ctx,
    };
    return req;
}

/* ---- workers ----------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    jotd_http_t *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (!h->head && !h->stop)
            pthread_cond_wait(&h->cv, &h->mu);
        conn_ctx_t *ctx = h->head;
        if (!ctx) { /* stopping and nothing left */
            pthread_mutex_unlock(&h->mu);
            return NULL;
        }
        h->head = ctx->next;
        if (!h->head)
            h->tail = NULL;
        h->busy++;
        pthread_mutex_unlock(&h->mu);

        jotd_req_t req = request_of(ctx);
        jotd_resp_t resp = {0};
        const struct route *r = find_route(&req, &resp);
        if (r)
            run_route(h->app, r, &req, &resp);
        ctx->resp = resp;
        ctx->state = ST_DONE;
        MHD_resume_connection(ctx->conn); /* libmicrohttpd calls on_request again */

        pthread_mutex_lock(&h->mu);
        h->busy--;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
}

static void enqueue(jotd_http_t *h, conn_ctx_t *ctx)
{
    pthread_mutex_lock(&h->mu);
    ctx->next = NULL;
    if (h->tail)
        h->tail->next = ctx;
    else
        h->head = ctx;
    h->tail = ctx;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    conn_ctx_t *ctx = cls;
    if (ctx->n_args >= MAX_ARGS || !key)
        return MHD_NO;
    ctx->arg_name[ctx->n_args] = strdup(key);
    ctx->arg_value[ctx->n_args] = dup_or_null(value);
    if (!ctx->arg_name[ctx->n_args]) {
        free(ctx->arg_value[ctx->n_args]);
        return MHD_NO;
    }
    ctx->n_args++;
    return MHD_YES;
}

void jotd_resp_clear(jotd_resp_t *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->n_hdr; i++)
        free(resp->hdr_value[i]);
    memset(resp, 0, sizeof *resp);
}

static void ctx_free(conn_ctx_t *ctx)
{
    jotx_buf_free(&ctx->body);
    free(ctx->url);
    free(ctx->content_type);
    free(ctx->origin);
    free(ctx->sec_fetch_site);
    free(ctx->x_requested_with);
    if (ctx->cookie) { /* holds a session's refresh token */
        jot_memzero(ctx->cookie, strlen(ctx->cookie));
        free(ctx->cookie);
    }
    if (ctx->authorization) {
        jot_memzero(ctx->authorization, strlen(ctx->authorization));
        free(ctx->authorization);
    }
    for (size_t i = 0; i < ctx->n_args; i++) {
        free(ctx->arg_name[i]);
        free(ctx->arg_value[i]);
    }
    free(ctx->resp.body);
    for (size_t i = 0; i < ctx->resp.n_hdr; i++)
        free(ctx->resp.hdr_value[i]);
    free(ctx);
}

/* ---- libmicrohttpd callbacks --------------------------------------------------------- */

static enum MHD_Result send_response(struct MHD_Connection *c, conn_ctx_t *ctx, jotd_resp_t *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body_len, resp->body ? resp->body : (void *)"",
        resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    resp->body = NULL; /* now MHD's */
    enum MHD_Result ret = MHD_NO;
    if (r) {
        if (resp->content_type)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
        bool has_cache_control = false;
        for (size_t i = 0; i < resp->n_hdr; i++) {
            MHD_add_response_header(r, resp->hdr_name[i], resp->hdr_value[i]);
            has_cache_control |= strcasecmp(resp->hdr_name[i], "Cache-Control") == 0;
        }
        /* tokens, claims and errors are never cached (RFC 6749 §5.1) */
        if (!has_cache_control) {
            MHD_add_response_header(r, "Cache-Control", "no-store");
            MHD_add_response_header(r, "Pragma", "no-cache");
        }
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        ret = MHD_queue_response(c, resp->status, r);
        MHD_destroy_response(r);
    }
    ctx->status = resp->status;
    for (size_t i = 0; i < resp->n_hdr; i++)
        free(resp->hdr_value[i]);
    return ret;
}

/* Before libmicrohttpd unescapes anything it shows us the raw URL (path and query): decode
 * a copy the way it will, and remember whether a control byte comes out. A "%00" would
 * otherwise cut the C strings that the handlers and the router see ("/admin/users/6%00/x"
 * routed as user 6), and a "%0a" would reach the logs. This is also where a request's
 * context is made, once per request, keep-alive or not. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    conn_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL; /* on_request answers nothing and the connection closes */
    in_flight++;
    ctx->conn = c;
    ctx->route = N_ROUTES;
    ctx->start_us = mono_us();
    char *copy = strdup(uri ? uri : "");
    if (copy)
        jotd_url_unescape(copy, &ctx->url_ctl);
    else
        ctx->url_ctl = true; /* unknown: refuse rather than route it */
    free(copy);
    return ctx;
}

typedef struct hdr_list {
    jotd_hdr_t h[MAX_HEADERS];
    size_t n;
    bool overflow;
} hdr_list_t;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    hdr_list_t *l = cls;
    if (l->n >= MAX_HEADERS) {
        l->overflow = true;
        return MHD_NO;
    }
    l->h[l->n].name = key;
    l->h[l->n++].value = value;
    return MHD_YES;
}

/* NULL when the request head may be routed, else why it is refused (jotd_req_head_check). */
static const char *head_refusal(struct MHD_Connection *c, const conn_ctx_t *ctx, const char *url,
                                const char *method, hdr_list_t *hl)
{
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, hl);
    if (hl->overflow)
        return "too many header fields";
    jotd_req_head_t head = {
        .method = method,
        .path = url,
        .path_len = strlen(url), /* whole: a NUL inside was refused through url_ctl */
        .url_ctl = ctx->url_ctl,
        .hdrs = hl->h,
        .n_hdrs = hl->n,
    };
    return jotd_req_head_check(&head);
}

/* The peer address of the connection as 16 bytes (IPv4 mapped, proxy.h); false if unknown. */
static bool peer_addr(struct MHD_Connection *c, uint8_t out[16])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

/* The client address as text: the peer, or behind a --trusted-proxy the client it names
 * (jotd_client_addr). What the logs, the audit trail and the login throttle see. */
static void client_ip(jotd_app_t *app, struct MHD_Connection *c, const hdr_list_t *hl, char *out)
{
    uint8_t peer[16], client[16];
    if (!peer_addr(c, peer)) {
        snprintf(out, JOTD_ADDR_TEXT, "?");
        return;
    }
    pthread_rwlock_rdlock(&app->rt_lock);
    const jotd_config_t *cfg = &app->rt->cfg;
    jotd_client_addr(cfg->trusted_proxies, cfg->n_trusted_proxies, peer, hl->h, hl->n, client);
    pthread_rwlock_unlock(&app->rt_lock);
    jotd_addr_format(client, out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    jotd_http_t *h = cls;
    jotd_app_t *app = h->app;
    conn_ctx_t *ctx = *con_cls;

    if (ctx && ctx->state == ST_DONE && !ctx->answered) { /* back from a worker */
        ctx->answered = true;
        jotd_resp_t resp = ctx->resp;
        memset(&ctx->resp, 0, sizeof ctx->resp);
        return send_response(c, ctx, &resp);
    }
    pthread_rwlock_rdlock(&app->rt_lock); /* SIGHUP may swap the runtime at any moment */
    size_t max_body = app->rt->cfg.max_body;
    pthread_rwlock_unlock(&app->rt_lock);

    if (!ctx) /* on_uri ran out of memory */
        return MHD_NO;
    if (!ctx->started) { /* first call: headers only */
        ctx->started = true;
        jotx_buf_init(&ctx->body, NULL, 0, max_body, true, NULL);
        snprintf(ctx->method, sizeof ctx->method, "%s", method);
        snprintf(ctx->path, sizeof ctx->path, "%s", url);
        /* only the count and the flag: zeroing 128 entries cost 3% of a cached /verify */
        hdr_list_t hl;
        hl.n = 0;
        hl.overflow = false;
        const char *why = head_refusal(c, ctx, url, method, &hl);
        client_ip(app, c, &hl, ctx->ip);
        if (why) { /* before any handler, and the connection closes after the answer */
            jotd_resp_t resp = {0};
            jotd_resp_error(&resp, 400, "invalid_request", why);
            jotd_resp_header(&resp, "Connection", "close");
            ctx->answered = true;
            return send_response(c, ctx, &resp);
        }
        ctx->url = strdup(url);
        ctx->content_type =
            dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
        ctx->authorization =
            dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
        ctx->cookie = dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"));
        ctx->origin = dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"));
        ctx->sec_fetch_site =
            dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"));
        ctx->x_requested_with =
            dup_or_null(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Requested-With"));
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, copy_arg, ctx);
        if (!ctx->url)
            return MHD_NO;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strlen(cl) > 12)
            ctx->too_big = true;
        else if (cl) { /* digits only: jotd_req_head_check() refused anything else */
            const char *p = cl;
            uint64_t n;
            ctx->too_big = jotx_parse_u64(&p, cl + strlen(cl), max_body, &n) == JOTX_ERANGE;
        }
        if (ctx->too_big) { /* answer now; MHD closes the connection after it */
            jotd_resp_t resp = {0};
            jotd_resp_error(&resp, 413, "invalid_request", "request body too large");
            ctx->answered = true;
            return send_response(c, ctx, &resp);
        }
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        if (!ctx->too_big) {
            int rc = jotx_buf_add(&ctx->body, upload_data, *upload_data_size);
            if (rc == JOTX_ENOMEM)
                return MHD_NO;
            ctx->too_big = rc == JOTX_ETOOBIG;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ctx->answered || ctx->state == ST_QUEUED)
        return MHD_YES;
    jotd_resp_t resp = {0};
    if (ctx->too_big) {
        jotd_resp_error(&resp, 413, "invalid_request", "request body too large");
    } else {
        jotd_req_t req = request_of(ctx);
        const struct route *r = find_route(&req, &resp);
        if (r)
            ctx->route = (unsigned)(r - routes);
        bool loop = r && (r->where != OFFLOAD || is_preflight(&req, r));
        if (loop) {
            req.on_event_loop = true;
            run_route(app, r, &req, &resp);
        }
        if (r && ((!loop && r->where == OFFLOAD) ||
                  (r->where == LOOP_FIRST && resp.status == JOTD_STATUS_DEFER))) {
            jotd_resp_clear(&resp); /* a deferring handler answers nothing else */
            ctx->state = ST_QUEUED;
            MHD_suspend_connection(c);
            enqueue(h, ctx);
            return MHD_YES;
        }
    }
    ctx->answered = true;
    return send_response(c, ctx, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx_t *ctx = *con_cls;
    if (!ctx)
        return;
    if (ctx->started) { /* else libmicrohttpd refused the head itself, and logged why */
        int64_t us = mono_us() - ctx->start_us;
        jotd_log_request(ctx->method, ctx->path, ctx->status, us, ctx->ip);
        jotd_metrics_request(ctx->route, ctx->status, us);
    }
    ctx_free(ctx);
    *con_cls = NULL;
    in_flight--;
}

/* libmicrohttpd's own messages (bad requests it rejects itself, socket errors) go to the
 * log as JSON lines like everything else. */
__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    jotd_log("warn", "http: %s", msg);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1024 * 1024 + 1);
    size_t n = buf ? fread(buf, 1, 1024 * 1024, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* TLS 1.2 and 1.3 only; in TLS 1.2 only forward-secret key exchange (ECDHE, DHE) with AEAD
 * ciphers. TLS 1.0/1.1 (SHA-1 in the handshake, CBC padding oracles) and static-RSA key
 * exchange (no forward secrecy) are not offered at all, so a client cannot be talked down
 * to them. TLS 1.3 suites are all AEAD and forward-secret. */
#define TLS_PRIORITIES                                                                             \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"         \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:%SERVER_"          \
    "PRECEDENCE"

/* Why the listen socket could not be had: libmicrohttpd only says that it failed, so bind
 * a probe socket the same way (SO_REUSEADDR, as libmicrohttpd) and report its errno. */
static int bind_errno(const struct sockaddr_storage *ss)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int one = 1, rc = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)(const void *)ss, len) != 0)
        rc = errno;
    close(fd);
    return rc;
}

/* ---- --metrics-listen ----------------------------------------------------------------- */

/* The monitoring listener: GET /metrics and nothing else, without a token (whoever reaches
 * this address is the monitoring network: bind it there). One thread of its own; it reads
 * the counters and takes the runtime's read lock like any request. */
static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *c, const char *url,
                                          const char *method, const char *version,
                                          const char *upload_data, size_t *upload_data_size,
                                          void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    jotd_app_t *app = cls;
    jotd_resp_t resp = {0};
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body is ignored */
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0) {
        jotd_resp_error(&resp, 404, "not_found", "only /metrics here");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        jotd_resp_error(&resp, 405, "method_not_allowed", NULL);
        jotd_resp_header(&resp, "Allow", "GET, HEAD");
    } else {
        pthread_rwlock_rdlock(&app->rt_lock);
        if (app->rt->cfg.metrics)
            metrics_text(app, app->rt, &resp);
        else
            jotd_resp_error(&resp, 404, "not_found", "metrics are off (--metrics off)");
        pthread_rwlock_unlock(&app->rt_lock);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp.body_len, resp.body ? resp.body : (void *)"", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (r) {
        if (resp.content_type)
            MHD_add_response_header(r, "Content-Type", resp.content_type);
        for (size_t i = 0; i < resp.n_hdr; i++)
            MHD_add_response_header(r, resp.hdr_name[i], resp.hdr_value[i]);
        ret = MHD_queue_response(c, resp.status, r);
        MHD_destroy_response(r);
    }
    jotd_resp_clear(&resp);
    return ret;
}

static jotd_rc_t metrics_listen_start(jotd_http_t *h, const char *where, char *err, size_t errlen)
{
    char *host = NULL, why[160] = "";
    uint16_t port = 0;
    if (jotd_parse_listen(where, &host, &port, why, sizeof why) != 0) {
        snprintf(err, errlen, "--metrics-listen: %s", why);
        return JOTD_E_INVAL;
    }
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    const char *a = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
    } else if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "--metrics-listen: '%s' is not an IP address", host);
        free(host);
        return JOTD_E_INVAL;
    }
    h->metrics_daemon = MHD_start_daemon(flags, port, NULL, NULL, on_metrics_request, h->app,
                                         MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                                         MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
                                         64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!h->metrics_daemon) {
        int e = bind_errno(&ss);
        snprintf(err, errlen, "cannot listen on %s (--metrics-listen): %s", where,
                 e ? strerror(e) : "libmicrohttpd refused");
        free(host);
        return JOTD_E_IO;
    }
    free(host);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(h->metrics_daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->metrics_port = info ? info->port : port;
    return JOTD_OK;
}

uint16_t jotd_http_metrics_port(const jotd_http_t *h)
{
    return h && h->metrics_daemon ? h->metrics_port : 0;
}

jotd_rc_t jotd_http_start(jotd_app_t *app, jotd_http_t **out, uint16_t *out_port, char *err,
                          size_t errlen)
{
    if (!err)
        errlen = 0; /* snprintf(NULL, 0, ...) writes nothing */
    const jotd_config_t *cfg = &app->rt->cfg;
    struct sockaddr_storage ss = {0};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
    const char *host = strcmp(cfg->listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->listen_host;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->listen_port);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->listen_port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "--listen: '%s' is not an IP address", cfg->listen_host);
        return JOTD_E_INVAL;
    }
    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert) {
        cert = read_file(cfg->tls_cert);
        key = read_file(cfg->tls_key);
        if (!cert || !key) {
            snprintf(err, errlen, "cannot read --tls-cert/--tls-key");
            free(cert);
            free(key);
            return JOTD_E_IO;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    jotd_http_t *h = calloc(1, sizeof *h);
    /* workers: Argon2 is CPU work, SQLite mostly waits on fsync; twice the event loops */
    unsigned n_workers = cfg->threads * 2 < 4 ? 4 : cfg->threads * 2;
    if (h)
        h->workers = calloc(n_workers, sizeof *h->workers);
    if (!h || !h->workers) {
        snprintf(err, errlen, "out of memory");
        free(h);
        free(cert);
        free(key);
        return JOTD_E_NOMEM;
    }
    h->app = app;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    for (; h->n_workers < n_workers; h->n_workers++)
        if (pthread_create(&h->workers[h->n_workers], NULL, worker_main, h) != 0)
            break;
    struct MHD_Daemon *d = NULL;
    if (h->n_workers)
        d = MHD_start_daemon(
            flags, cfg->listen_port, NULL, NULL, on_request, h,
            /* the logger first, so that libmicrohttpd's own messages all go through it */
            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, MHD_OPTION_SOCK_ADDR, &ss,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            (unsigned)cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)cfg->connection_timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
            /* no MHD_OPTION_LISTENING_ADDRESS_REUSE: its SO_REUSEPORT let a second jotd share
             * the port silently; libmicrohttpd's own SO_REUSEADDR is what a restart needs
             * while old connections sit in TIME_WAIT */
            MHD_OPTION_ARRAY, cert ? tls_opts : tls_opts + 3, MHD_OPTION_END);
    if (key) {
        jot_memzero(key, strlen(key));
        free(key);
    }
    free(cert);
    if (!d) {
        int e = bind_errno(&ss);
        bool v6 = strchr(cfg->listen_host, ':') != NULL;
        if (e)
            snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", v6 ? "[" : "", cfg->listen_host,
                     v6 ? "]" : "", (unsigned)cfg->listen_port,
                     e == EADDRINUSE ? "address already in use" : strerror(e));
        else
            snprintf(err, errlen, "cannot listen on %s%s%s:%u (TLS certificate or key invalid?)",
                     v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "", (unsigned)cfg->listen_port);
        jotd_http_stop(h, 0);
        return JOTD_E_IO;
    }
    h->daemon = d;
    if (cfg->metrics_listen) {
        jotd_rc_t mrc = metrics_listen_start(h, cfg->metrics_listen, err, errlen);
        if (mrc != JOTD_OK) {
            jotd_http_stop(h, 0);
            return mrc;
        }
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *out_port = info ? info->port : cfg->listen_port;
    *out = h;
    return JOTD_OK;
}

void jotd_http_stop(jotd_http_t *h, unsigned drain_seconds)
{
    if (!h)
        return;
    if (h->metrics_daemon)
        MHD_stop_daemon(h->metrics_daemon);
    h->metrics_daemon = NULL;
    if (h->daemon) {
        MHD_quiesce_daemon(h->daemon); /* no new connections; requests under way finish */
        for (unsigned i = 0; i < drain_seconds * 20 && in_flight > 0; i++) {
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        /* a suspended connection must be resumed before the daemon stops: let the workers
         * finish every queued job first (each is bounded by Argon2 or the busy timeout) */
        pthread_mutex_lock(&h->mu);
        while (h->head || h->busy)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
        MHD_stop_daemon(h->daemon);
    }
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    for (unsigned i = 0; i < h->n_workers; i++)
        pthread_join(h->workers[i], NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h->workers);
    free(h);
}
