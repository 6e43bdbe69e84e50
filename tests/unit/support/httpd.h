/* A small HTTP server for the unit tests of remote documents (remote key sets, status
 * lists): libmicrohttpd on 127.0.0.1, an ephemeral port, one thread per connection. Each
 * route answers with what the test last set for it (status, body, Cache-Control, ETag,
 * Location, a delay); If-None-Match equal to the route's ETag gets a 304. Counts requests.
 * Also a "black hole": a listening socket that never accepts (a server that never answers). */
#ifndef JOT_TEST_HTTPD_H
#define JOT_TEST_HTTPD_H

#include <stddef.h>

typedef struct test_httpd test_httpd_t;

typedef struct test_route {
    int status;                /* 0: 200 */
    const char *body;          /* copied; NULL: empty */
    size_t len;                /* 0 with a body: strlen(body) */
    const char *content_type;  /* copied; NULL: application/json */
    const char *cache_control; /* copied; NULL: none */
    const char *etag;          /* copied; NULL: none */
    const char *location;      /* copied; NULL: none */
    unsigned delay_ms;         /* wait this long before answering */
} test_route_t;

/** Start; NULL on failure. */
test_httpd_t *test_httpd_start(void);
void test_httpd_stop(test_httpd_t *h);
unsigned short test_httpd_port(const test_httpd_t *h);
/** Set (replace) what \p path answers. */
void test_httpd_route(test_httpd_t *h, const char *path, const test_route_t *r);
/** Requests to \p path so far (NULL: all), and how many of them got a 304. */
unsigned test_httpd_requests(test_httpd_t *h, const char *path);
unsigned test_httpd_not_modified(test_httpd_t *h, const char *path);
/** "http://127.0.0.1:PORT" + path into buf. */
void test_httpd_url(const test_httpd_t *h, const char *path, char *buf, size_t cap);

/** A listening socket on 127.0.0.1 that never accepts: its port, or 0. Close with
 *  test_blackhole_close(). */
int test_blackhole_open(unsigned short *out_port);
void test_blackhole_close(int fd);

#endif
