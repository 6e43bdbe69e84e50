/* A resource server that protects one route with libjot alone: jotd's keys fetched from its
 * JWKS (a remote key set), the token's type, issuer, audience and expiry checked, and its
 * entry in jotd's Token Status List (a revoked session is refused without asking jotd). See
 * docs/verifying.md; tests/e2e/jotd_examples.test.mjs runs it against a real jotd.
 *
 *   resource-server --issuer URL --audience AUD [--listen 127.0.0.1:8081] [--ca-file F]
 *                   [--allow-http] [--cache-min S] [--cooldown S] [--max-stale S]
 *                   [--timeout S] [--token-header NAME] [--signout-url URL]
 *
 *   GET /        an HTML page for a person in a browser, behind jotd's forward-auth portal
 *                (docs/browser.md, examples/portal/nginx.conf): "Signed in as NAME" (the
 *                preferred_username or username claim, else sub; escaped) from a token
 *                verified here with libjot, exactly as /hello verifies one, taken from the
 *                header NAME of --token-header (nginx passes jotd's X-Auth-Token) or else
 *                from "Authorization: Bearer"; 401 page otherwise. With --signout-url, a
 *                link <a id="signout" href="URL">Sign out</a>. The token is never trusted
 *                for where it came from: a header the proxy set or one a client forged
 *                verify the same way.
 *   GET /hello   with "Authorization: Bearer <access token>": 200 {"sub":..,"scope":..}, or
 *                401 with a WWW-Authenticate: Bearer error (RFC 6750), or 503 when jotd's
 *                keys or lists cannot be had (fail closed)
 *   GET /healthz 200: the service itself is up
 *
 * --allow-http: plain HTTP to a loopback issuer (tests); --cache-min, --cooldown, --max-stale,
 * --timeout change libjot's defaults (300 s, 30 s, 1 day, 5 s), for tests. */
#include <jot/jot.h>

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct service {
    jot_remote_keyset_t *keys;
    jot_status_checker_t *status;
    jot_verifier_t *verifier;
    const char *token_header; /* --token-header (NULL: Authorization only) */
    const char *signout_url;  /* --signout-url (NULL: no link) */
} service_t;

/* Every asymmetric algorithm jotd may sign with; never HMAC (the keys are public). */
static const unsigned ALGS = JOT_ALG_BIT(JOT_ALG_ES256) | JOT_ALG_BIT(JOT_ALG_ES384) |
                             JOT_ALG_BIT(JOT_ALG_ES512) | JOT_ALG_BIT(JOT_ALG_EDDSA) |
                             JOT_ALG_BIT(JOT_ALG_RS256) | JOT_ALG_BIT(JOT_ALG_RS384) |
                             JOT_ALG_BIT(JOT_ALG_RS512) | JOT_ALG_BIT(JOT_ALG_PS256) |
                             JOT_ALG_BIT(JOT_ALG_PS384) | JOT_ALG_BIT(JOT_ALG_PS512);

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             const char *www_authenticate)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (www_authenticate)
        MHD_add_response_header(r, "WWW-Authenticate", www_authenticate);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The answer to a token that did not verify: 503 when jotd's documents cannot be had (the
 * token may be fine: the client should retry), 401 otherwise. */
static enum MHD_Result refuse(struct MHD_Connection *c, jot_err_t rc)
{
    char body[160], www[200];
    if (rc == JOT_E_FETCH || rc == JOT_E_STALE) {
        snprintf(body, sizeof body, "{\"error\":\"temporarily_unavailable\",\"reason\":\"%s\"}",
                 jot_strerror(rc));
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, body, NULL);
    }
    snprintf(body, sizeof body, "{\"error\":\"invalid_token\",\"reason\":\"%s\"}",
             jot_strerror(rc));
    snprintf(www, sizeof www, "Bearer error=\"invalid_token\", error_description=\"%s\"",
             jot_strerror(rc));
    return reply(c, MHD_HTTP_UNAUTHORIZED, body, www);
}

/* \p in as the inside of a JSON string, cut to fit \p cap (NUL included): the claims come
 * from a verified token, and an answer is still written as JSON, never pasted. */
static void json_escape(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    for (; *in && n + 7 < cap; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char)ch;
        } else if (ch < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
        } else {
            out[n++] = (char)ch;
        }
    }
    out[n] = '\0';
}

static enum MHD_Result hello(service_t *s, struct MHD_Connection *c)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return reply(c, MHD_HTTP_UNAUTHORIZED, "{\"error\":\"invalid_request\"}", "Bearer");
    const char *token = auth + 7;
    jot_token_t *t = NULL;
    jot_err_t rc = jot_verify(s->verifier, token, strlen(token), &t);
    if (rc != JOT_OK)
        return refuse(c, rc);
    /* authorised from the claims: here only echoed */
    const char *sub = NULL, *scope = NULL;
    const jot_claims_t *cl = jot_token_claims(t);
    if (jot_claims_get_string(cl, "sub", &sub) != JOT_OK)
        sub = "";
    if (jot_claims_get_string(cl, "scope", &scope) != JOT_OK)
        scope = "";
    char esub[256], escope[1024], body[1400];
    json_escape(esub, sizeof esub, sub);
    json_escape(escope, sizeof escope, scope);
    snprintf(body, sizeof body, "{\"hello\":\"world\",\"sub\":\"%s\",\"scope\":\"%s\"}", esub,
             escope);
    jot_token_free(t);
    return reply(c, MHD_HTTP_OK, body, NULL);
}

/* \p in with & < > " ' escaped for HTML text and attribute values, cut to fit \p cap. */
static void html_escape(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    for (; *in; in++) {
        const char *e = *in == '&'    ? "&amp;"
                        : *in == '<'  ? "&lt;"
                        : *in == '>'  ? "&gt;"
                        : *in == '"'  ? "&quot;"
                        : *in == '\'' ? "&#39;"
                                      : NULL;
        size_t len = e ? strlen(e) : 1;
        if (n + len >= cap)
            break;
        memcpy(out + n, e ? e : in, len);
        n += len;
    }
    out[n] = '\0';
}

static enum MHD_Result page(service_t *s, struct MHD_Connection *c, unsigned status,
                            const char *main_html)
{
    char esc[2048] = "", link[2200] = "", body[8192];
    if (s->signout_url) {
        html_escape(esc, sizeof esc, s->signout_url);
        snprintf(link, sizeof link, "<p><a id=\"signout\" href=\"%s\">Sign out</a></p>\n", esc);
    }
    snprintf(body, sizeof body,
             "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<title>Resource server</title></head>\n<body><main>\n%s%s</main></body></html>\n",
             main_html, link);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET /: who is signed in, from a token verified here. */
static enum MHD_Result home(service_t *s, struct MHD_Connection *c)
{
    const char *token = NULL;
    if (s->token_header)
        token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, s->token_header);
    if (!token || !*token) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    }
    jot_token_t *t = NULL;
    jot_err_t rc = token ? jot_verify(s->verifier, token, strlen(token), &t) : JOT_E_MALFORMED;
    if (rc != JOT_OK) {
        char html[512];
        snprintf(html, sizeof html, "<h1>Not signed in</h1>\n<p id=\"error\">%s</p>\n",
                 token ? jot_strerror(rc) : "no token");
        return page(s, c,
                    rc == JOT_E_FETCH || rc == JOT_E_STALE ? MHD_HTTP_SERVICE_UNAVAILABLE
                                                           : MHD_HTTP_UNAUTHORIZED,
                    html);
    }
    const char *name = NULL;
    const jot_claims_t *cl = jot_token_claims(t);
    if (jot_claims_get_string(cl, "preferred_username", &name) != JOT_OK &&
        jot_claims_get_string(cl, "username", &name) != JOT_OK &&
        jot_claims_get_string(cl, "sub", &name) != JOT_OK)
        name = "";
    char esc[1024], html[1200];
    html_escape(esc, sizeof esc, name);
    snprintf(html, sizeof html,
             "<h1>Resource server</h1>\n<p>Signed in as <strong id=\"user\">%s</strong></p>\n",
             esc);
    jot_token_free(t);
    return page(s, c, MHD_HTTP_OK, html);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)version;
    (void)data;
    if (!*state) { /* first call: headers only */
        *state = (void *)1;
        return MHD_YES;
    }
    if (*data_size) { /* no route takes a body */
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"method not allowed\"}", NULL);
    if (!strcmp(url, "/healthz"))
        return reply(c, MHD_HTTP_OK, "{\"status\":\"ok\"}", NULL);
    if (!strcmp(url, "/hello"))
        return hello(cls, c);
    if (!strcmp(url, "/"))
        return home(cls, c);
    return reply(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"not found\"}", NULL);
}

static int usage(void)
{
    fprintf(stderr, "usage: resource-server --issuer URL --audience AUD [--listen HOST:PORT] "
                    "[--ca-file F] [--allow-http] [--cache-min S] [--cooldown S] "
                    "[--max-stale S] [--timeout S] [--token-header NAME] [--signout-url URL]\n");
    return 2;
}

static bool seconds_arg(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > 86400 * 365)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *issuer = NULL, *audience = NULL, *listen = "127.0.0.1:8081";
    const char *token_header = NULL, *signout_url = NULL;
    jot_remote_opts_t fetch;
    jot_remote_opts_init(&fetch);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(a, "--allow-http")) {
            fetch.allow_http = 1;
            continue;
        }
        if (!v)
            return usage();
        if (!strcmp(a, "--issuer"))
            issuer = v;
        else if (!strcmp(a, "--audience"))
            audience = v;
        else if (!strcmp(a, "--listen"))
            listen = v;
        else if (!strcmp(a, "--token-header"))
            token_header = v;
        else if (!strcmp(a, "--signout-url"))
            signout_url = v;
        else if (!strcmp(a, "--ca-file"))
            fetch.ca_file = v;
        else if (!strcmp(a, "--cache-min"))
            ok = seconds_arg(v, &fetch.min_cache_s);
        else if (!strcmp(a, "--cooldown"))
            ok = seconds_arg(v, &fetch.cooldown_s);
        else if (!strcmp(a, "--max-stale"))
            ok = seconds_arg(v, &fetch.max_stale_s);
        else if (!strcmp(a, "--timeout"))
            ok = seconds_arg(v, &fetch.timeout_s);
        else
            return usage();
        if (!ok)
            return usage();
        i++;
    }
    if (!issuer || !audience)
        return usage();
    size_t n = strlen(issuer);
    while (n && issuer[n - 1] == '/')
        n--;

    /* what jotd publishes: its keys, and its status lists under <issuer>/statuslists/ */
    char jwks_url[1024], prefix[1024];
    snprintf(jwks_url, sizeof jwks_url, "%.*s/.well-known/jwks.json", (int)n, issuer);
    snprintf(prefix, sizeof prefix, "%.*s/statuslists/", (int)n, issuer);
    service_t s = {.token_header = token_header, .signout_url = signout_url};
    jot_status_opts_t so;
    jot_status_opts_init(&so);
    so.fetch = fetch;
    so.uri_prefix = prefix;
    so.alg_mask = ALGS;
    jot_err_t rc = jot_remote_keyset_new(jwks_url, &fetch, &s.keys);
    if (rc == JOT_OK)
        rc = jot_status_checker_new(&so, NULL, s.keys, &s.status);
    if (rc == JOT_OK)
        rc = jot_verifier_new(&s.verifier);
    if (rc == JOT_OK)
        rc = jot_verifier_set_issuer(s.verifier, issuer);
    if (rc == JOT_OK)
        rc = jot_verifier_add_audience(s.verifier, audience);
    if (rc == JOT_OK)
        rc = jot_verifier_set_typ(s.verifier, "at+jwt"); /* RFC 9068: an access token */
    if (rc != JOT_OK) {
        fprintf(stderr, "resource-server: %s\n", jot_strerror(rc));
        return 1;
    }
    jot_verifier_set_algs(s.verifier, ALGS);
    jot_verifier_set_leeway(s.verifier, 30);
    jot_verifier_set_remote_keyset(s.verifier, s.keys);
    jot_verifier_set_status_checker(s.verifier, s.status);

    /* listen */
    char host[256];
    const char *colon = strrchr(listen, ':');
    int64_t port = 0;
    if (!colon || (size_t)(colon - listen) >= sizeof host || !seconds_arg(colon + 1, &port) ||
        port > 65535)
        return usage();
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return usage();
    /* a thread per connection: a request may wait for a fetch (bounded by the timeout) */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "resource-server: cannot listen on %s\n", listen);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("resource-server listening on http://%s:%u\n", host, info ? info->port : 0u);
    fflush(stdout);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int sig;
    sigwait(&sigs, &sig);

    MHD_stop_daemon(d);
    jot_verifier_free(s.verifier);
    jot_status_checker_free(s.status);
    jot_remote_keyset_free(s.keys);
    return 0;
}
