/* Unit tests for server/metrics.c (counters from many threads, nothing counted while off,
 * the text's shape) and server/notify.c (the sd_notify datagram). The text format itself is
 * checked by an independent parser in the e2e suite jotd_metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "metrics.h"
#include "notify.h"

#define THREADS 4
#define PER_THREAD 100000

static const char *const names[] = {"/verify", "/token", "other"};

static char *render(void)
{
    jotx_buf_t b;
    jotx_buf_init(&b, NULL, 0, 1u << 20, false, NULL);
    jotd_metrics_gauges_t g = {.vcache_entries = 3, .denylist_jtis = 2};
    assert_int_equal(jotd_metrics_render(&b, names, 3, &g), JOTX_OK);
    return jotx_buf_take(&b, NULL);
}

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        jotd_metrics_request(0, 200, 150);
        jotd_metrics_inc(JOTD_M_VCACHE_HIT);
    }
    return NULL;
}

/* No increment is lost when every thread counts at once (no lock: atomics). */
static void test_threads_exact(void **state)
{
    (void)state;
    jotd_metrics_reset();
    jotd_metrics_enable(true);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render();
    char want[128];
    snprintf(want, sizeof want, "jotd_http_requests_total{route=\"/verify\",status=\"200\"} %d\n",
             THREADS * PER_THREAD);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "jotd_verify_cache_requests_total{result=\"hit\"} %d\n",
             THREADS * PER_THREAD);
    assert_non_null(strstr(text, want));
    /* 150 us: in the 250 us bucket, not in the 100 us one; cumulative above */
    assert_non_null(strstr(
        text, "jotd_http_request_duration_seconds_bucket{route=\"/verify\",le=\"0.0001\"} 0\n"));
    snprintf(want, sizeof want,
             "jotd_http_request_duration_seconds_bucket{route=\"/verify\",le=\"0.00025\"} %d\n",
             THREADS * PER_THREAD);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "jotd_verify_cache_entries 3\n"));
    assert_non_null(strstr(text, "jotd_denylist_entries{list=\"jti\"} 2\n"));
    /* a route never asked has no samples */
    assert_null(strstr(text, "route=\"/token\""));
    free(text);
}

static void test_off_counts_nothing(void **state)
{
    (void)state;
    jotd_metrics_reset();
    jotd_metrics_enable(false);
    jotd_metrics_request(1, 400, 10);
    jotd_metrics_inc(JOTD_M_LOGIN_FAILURE);
    jotd_metrics_event_lag(1500);
    char *text = render();
    assert_null(strstr(text, "route=\"/token\""));
    assert_non_null(strstr(text, "jotd_logins_total{result=\"failure\"} 0\n"));
    assert_non_null(strstr(text, "jotd_revocation_event_lag_seconds_count 0\n"));
    assert_non_null(strstr(text, "jotd_metrics_enabled 0\n"));
    free(text);
    jotd_metrics_enable(true);
    jotd_metrics_event_lag(1500);
    jotd_metrics_request(7, 418, 10); /* an odd status: "other"; an unnamed route: not shown */
    jotd_metrics_request(2, 418, 10);
    text = render();
    assert_non_null(strstr(text, "jotd_revocation_event_lag_seconds_bucket{le=\"1\"} 0\n"));
    assert_non_null(strstr(text, "jotd_revocation_event_lag_seconds_bucket{le=\"2\"} 1\n"));
    assert_non_null(strstr(text, "jotd_revocation_event_last_lag_seconds 1.500\n"));
    assert_non_null(strstr(text, "jotd_http_requests_total{route=\"other\",status=\"other\"} 1\n"));
    free(text);
    jotd_metrics_reset();
}

/* jotd_notify: nothing without NOTIFY_SOCKET; one datagram with it; an error for a socket
 * that is not there. */
static void test_notify(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(jotd_notify("READY=1"), 0);
    char dir[] = "/tmp/jotd-notify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/s", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(jotd_notify("READY=1"), 1);
    char buf[64] = "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    assert_int_equal(n, 7);
    assert_string_equal(buf, "READY=1");
    close(fd);
    unlink(path);
    assert_int_equal(jotd_notify("STOPPING=1"), -1); /* nobody bound there now */
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(jotd_notify("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_exact),
        cmocka_unit_test(test_off_counts_nothing),
        cmocka_unit_test(test_notify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
