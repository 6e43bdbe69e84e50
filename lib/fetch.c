/* One HTTP(S) GET under the rules of remote documents (key sets, status lists), with
 * libcurl. The rules, and why:
 * - https only; http only when the caller allows it and the host is a loopback literal or
 *   "localhost" (which libcurl resolves to loopback itself, never through DNS): tests and a
 *   sidecar on the same machine, never a cleartext fetch across a network.
 * - No redirect is followed (a 3xx is a failed fetch): a key set's URL is configuration,
 *   and a redirect could only widen where keys come from (another scheme, another host).
 * - No Accept-Encoding: the body arrives as is, so the size cap is the memory cap (no
 *   decompression bomb at this layer).
 * - The body is capped while it arrives (the write callback refuses past the cap); the
 *   whole transfer, connection included, is bounded by the timeout (a slow drip fails).
 * Built without libcurl (JOT_HAVE_CURL undefined) every entry point says
 * JOT_E_UNSUPPORTED. */
#include "internal.h"
#include "fetch.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void jot__fetch_result_clear(jot_fetch_result_t *r)
{
    jot_free(r->body);
    memset(r, 0, sizeof *r);
}

#ifndef JOT_HAVE_CURL

bool jot__fetch_available(void)
{
    return false;
}

jot_err_t jot__fetch_check_url(const char *url, bool allow_http)
{
    (void)url;
    (void)allow_http;
    return JOT_E_UNSUPPORTED;
}

jot_err_t jot__fetch(const jot_fetch_cfg_t *cfg, const char *url, const char *etag,
                     jot_fetch_result_t *out, char err[JOT_FETCH_ERRMSG])
{
    (void)cfg;
    (void)url;
    (void)etag;
    (void)out;
    snprintf(err, JOT_FETCH_ERRMSG, "libjot was built without libcurl");
    return JOT_E_UNSUPPORTED;
}

#else

#include "common/strparse.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool jot__fetch_available(void)
{
    return true;
}

static bool is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return true;
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    size_t n = strlen(host);
    if (n > 2 && n < 64 && host[0] == '[' && host[n - 1] == ']') {
        char h6[64];
        memcpy(h6, host + 1, n - 2);
        h6[n - 2] = '\0';
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return inet_pton(AF_INET6, h6, a) == 1 && memcmp(a, one, 16) == 0;
    }
    return false;
}

jot_err_t jot__fetch_check_url(const char *url, bool allow_http)
{
    if (!url)
        return JOT_E_INVAL;
    pthread_once(&curl_once, curl_init_once);
    if (!curl_ok)
        return JOT_E_UNSUPPORTED;
    CURLU *u = curl_url();
    if (!u)
        return JOT_E_NOMEM;
    char *scheme = NULL, *host = NULL;
    jot_err_t rc = JOT_E_INVAL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcmp(scheme, "https") == 0)
            rc = JOT_OK;
        else if (strcmp(scheme, "http") == 0 && allow_http && is_loopback(host))
            rc = JOT_OK;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

typedef struct xfer {
    jotx_buf_t body;
    jot_fetch_result_t *out;
} xfer_t;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    xfer_t *x = arg;
    /* size is 1 (libcurl's promise), so size * n cannot overflow */
    if (jotx_buf_add(&x->body, data, size * n) != JOTX_OK)
        return 0; /* cap or allocation: abort the transfer */
    return size * n;
}

/* The value of header \p name in the line \p h (\p n bytes, "Name: value\r\n"), trimmed;
 * NULL when the line is another header. */
static const char *header_value(const char *h, size_t n, const char *name, size_t *out_len)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(h, name, nl) != 0 || h[nl] != ':')
        return NULL;
    const char *p = h + nl + 1, *end = h + n;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *out_len = (size_t)(end - p);
    return p;
}

/* Cache-Control: max-age=N (the smallest if several), 0 for no-cache or no-store. */
static void parse_cache_control(const char *p, const char *end, int64_t *max_age)
{
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',' || *p == '\t'))
            p++;
        const char *tok = p;
        while (p < end && *p != ',')
            p++;
        size_t tl = (size_t)(p - tok);
        uint64_t v;
        const char *q = tok + 8;
        if ((tl == 8 && strncasecmp(tok, "no-cache", 8) == 0) ||
            (tl == 8 && strncasecmp(tok, "no-store", 8) == 0)) {
            *max_age = 0;
        } else if (tl > 8 && strncasecmp(tok, "max-age=", 8) == 0 &&
                   jotx_parse_u64(&q, p, (uint64_t)INT64_MAX / 2000, &v) == JOTX_OK) {
            if (*max_age < 0 || (int64_t)v < *max_age)
                *max_age = (int64_t)v;
        }
    }
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    xfer_t *x = arg;
    size_t len = size * n, vl = 0;
    const char *v;
    if ((v = header_value(data, len, "etag", &vl)) != NULL) {
        if (vl <= JOT_FETCH_ETAG_MAX) {
            memcpy(x->out->etag, v, vl);
            x->out->etag[vl] = '\0';
        }
    } else if ((v = header_value(data, len, "cache-control", &vl)) != NULL) {
        parse_cache_control(v, v + vl, &x->out->max_age);
    }
    return len;
}

static jot_err_t perform(CURL *c, xfer_t *x, const jot_fetch_cfg_t *cfg, char *err)
{
    CURLcode cc = curl_easy_perform(c);
    if (x->body.toobig) {
        snprintf(err, JOT_FETCH_ERRMSG, "response larger than %zu bytes", cfg->max_body);
        return JOT_E_TOOBIG;
    }
    if (x->body.oom)
        return JOT_E_NOMEM;
    if (cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, JOT_FETCH_ERRMSG, "response larger than %zu bytes", cfg->max_body);
        return JOT_E_TOOBIG;
    }
    if (cc != CURLE_OK) {
        snprintf(err, JOT_FETCH_ERRMSG, "%s", curl_easy_strerror(cc));
        return JOT_E_FETCH;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 && status < 400 && status != 304) {
        snprintf(err, JOT_FETCH_ERRMSG, "HTTP %ld: redirects are not followed", status);
        return JOT_E_FETCH;
    }
    if (status != 200 && status != 304) {
        snprintf(err, JOT_FETCH_ERRMSG, "HTTP %ld", status);
        return JOT_E_FETCH;
    }
    x->out->status = status;
    return JOT_OK;
}

jot_err_t jot__fetch(const jot_fetch_cfg_t *cfg, const char *url, const char *etag,
                     jot_fetch_result_t *out, char err[JOT_FETCH_ERRMSG])
{
    err[0] = '\0';
    jot_err_t rc = jot__fetch_check_url(url, cfg->allow_http);
    if (rc == JOT_E_INVAL)
        snprintf(err, JOT_FETCH_ERRMSG, "URL refused (https only; http to loopback when allowed)");
    if (rc != JOT_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->max_age = -1;
    xfer_t x = {.out = out};
    jotx_buf_init(&x.body, NULL, 0, cfg->max_body, false, &jot__alloc);
    struct curl_slist *hdrs = NULL, *h2;
    char line[sizeof "If-None-Match: " + JOT_FETCH_ETAG_MAX + 1];
    CURL *c = curl_easy_init();
    rc = c ? JOT_OK : JOT_E_NOMEM;
    if (rc == JOT_OK && cfg->accept) {
        snprintf(line, sizeof line, "Accept: %s", cfg->accept);
        if (!(h2 = curl_slist_append(hdrs, line)))
            rc = JOT_E_NOMEM;
        else
            hdrs = h2;
    }
    if (rc == JOT_OK && etag && *etag && strlen(etag) <= JOT_FETCH_ETAG_MAX) {
        snprintf(line, sizeof line, "If-None-Match: %s", etag);
        if (!(h2 = curl_slist_append(hdrs, line)))
            rc = JOT_E_NOMEM;
        else
            hdrs = h2;
    }
    if (rc == JOT_OK) {
        long ms = (long)(cfg->timeout_s * 1000);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, cfg->allow_http ? "http,https" : "https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
        curl_easy_setopt(c, CURLOPT_USERAGENT, "libjot/" JOT_VERSION_STRING);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
        if (cfg->ca_file)
            curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
        rc = perform(c, &x, cfg, err);
    }
    if (rc == JOT_OK && out->status == 200) {
        /* hand the body over: a NUL-terminated heap copy (an empty body has no storage) */
        out->body = jot__strndup(x.body.p ? x.body.p : "", x.body.len);
        out->len = x.body.len;
        if (!out->body)
            rc = JOT_E_NOMEM;
    }
    if (rc == JOT_E_NOMEM && !err[0])
        snprintf(err, JOT_FETCH_ERRMSG, "out of memory");
    jotx_buf_free(&x.body);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (rc != JOT_OK)
        jot__fetch_result_clear(out);
    return rc;
}

#endif
