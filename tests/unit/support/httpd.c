/* The test HTTP server of support/httpd.h. */
#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 16

struct route {
    char *path;
    test_route_t r; /* strings owned */
    unsigned requests, not_modified;
};

struct test_httpd {
    struct MHD_Daemon *d;
    unsigned short port;
    pthread_mutex_t mu;
    struct route routes[MAX_ROUTES];
    size_t n;
    unsigned requests;
};

static char *dup_or_null(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static void route_clear(struct route *rt)
{
    free((char *)rt->r.body);
    free((char *)rt->r.content_type);
    free((char *)rt->r.cache_control);
    free((char *)rt->r.etag);
    free((char *)rt->r.location);
    memset(&rt->r, 0, sizeof rt->r);
}

static struct route *find(test_httpd_t *h, const char *path)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->routes[i].path, path) == 0)
            return &h->routes[i];
    return NULL;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_len;
    test_httpd_t *h = cls;
    if (!*state) { /* first call: headers only */
        *state = h;
        return MHD_YES;
    }
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    pthread_mutex_lock(&h->mu);
    h->requests++;
    struct route *rt = find(h, url);
    test_route_t r = {404, "not found", 9, "text/plain", NULL, NULL, NULL, 0};
    char *body = NULL, *ctype = NULL, *cc = NULL, *etag = NULL, *loc = NULL;
    if (rt) {
        rt->requests++;
        r = rt->r;
        /* copies: the test may replace the route while this answer is being sent */
        body = dup_or_null(r.body, r.len);
        ctype = dup_or_null(r.content_type, r.content_type ? strlen(r.content_type) : 0);
        cc = dup_or_null(r.cache_control, r.cache_control ? strlen(r.cache_control) : 0);
        etag = dup_or_null(r.etag, r.etag ? strlen(r.etag) : 0);
        loc = dup_or_null(r.location, r.location ? strlen(r.location) : 0);
        if (etag && inm && strcmp(etag, inm) == 0 && (r.status == 0 || r.status == 200)) {
            r.status = 304;
            rt->not_modified++;
        }
    }
    pthread_mutex_unlock(&h->mu);
    if (r.delay_ms)
        sleep_ms(r.delay_ms);
    int status = r.status ? r.status : 200;
    size_t len = status == 304 ? 0 : r.len;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, rt ? (void *)body : (void *)"not found", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (resp) {
        MHD_add_response_header(resp, "Content-Type", ctype ? ctype : "application/json");
        if (cc)
            MHD_add_response_header(resp, "Cache-Control", cc);
        if (etag)
            MHD_add_response_header(resp, "ETag", etag);
        if (loc)
            MHD_add_response_header(resp, "Location", loc);
        ret = MHD_queue_response(c, (unsigned)status, resp);
        MHD_destroy_response(resp);
    }
    free(body);
    free(ctype);
    free(cc);
    free(etag);
    free(loc);
    return ret;
}

test_httpd_t *test_httpd_start(void)
{
    test_httpd_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, answer, h, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!h->d) {
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return h;
}

void test_httpd_stop(test_httpd_t *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    for (size_t i = 0; i < h->n; i++) {
        route_clear(&h->routes[i]);
        free(h->routes[i].path);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

unsigned short test_httpd_port(const test_httpd_t *h)
{
    return h->port;
}

void test_httpd_route(test_httpd_t *h, const char *path, const test_route_t *r)
{
    pthread_mutex_lock(&h->mu);
    struct route *rt = find(h, path);
    if (!rt && h->n < MAX_ROUTES) {
        rt = &h->routes[h->n++];
        memset(rt, 0, sizeof *rt);
        rt->path = dup_or_null(path, strlen(path));
    }
    if (rt) {
        route_clear(rt);
        rt->r = *r;
        rt->r.len = r->body && !r->len ? strlen(r->body) : r->len;
        rt->r.body = dup_or_null(r->body, rt->r.len);
        rt->r.content_type =
            dup_or_null(r->content_type, r->content_type ? strlen(r->content_type) : 0);
        rt->r.cache_control =
            dup_or_null(r->cache_control, r->cache_control ? strlen(r->cache_control) : 0);
        rt->r.etag = dup_or_null(r->etag, r->etag ? strlen(r->etag) : 0);
        rt->r.location = dup_or_null(r->location, r->location ? strlen(r->location) : 0);
    }
    pthread_mutex_unlock(&h->mu);
}

unsigned test_httpd_requests(test_httpd_t *h, const char *path)
{
    pthread_mutex_lock(&h->mu);
    struct route *rt = path ? find(h, path) : NULL;
    unsigned n = path ? (rt ? rt->requests : 0) : h->requests;
    pthread_mutex_unlock(&h->mu);
    return n;
}

unsigned test_httpd_not_modified(test_httpd_t *h, const char *path)
{
    pthread_mutex_lock(&h->mu);
    struct route *rt = find(h, path);
    unsigned n = rt ? rt->not_modified : 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

void test_httpd_url(const test_httpd_t *h, const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://127.0.0.1:%u%s", (unsigned)h->port, path);
}

int test_blackhole_open(unsigned short *out_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    *out_port = ntohs(sa.sin_port);
    return fd;
}

void test_blackhole_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
