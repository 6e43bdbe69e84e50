/* Prometheus metrics: see metrics.h. Every counter is a relaxed atomic: the totals may be a
 * few increments apart from each other while a scrape reads them (a histogram's count and
 * its buckets, say), which the exposition format tolerates; no increment is ever lost and
 * none takes a lock. */
#include "metrics.h"

#include <jot/jot.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* The statuses jotd answers with; anything else is counted as "other". */
static const unsigned statuses[] = {200, 201, 204, 302, 303, 304, 400, 401, 403,
                                    404, 405, 409, 413, 415, 429, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1)

/* Request latency buckets, microseconds (rendered in seconds). */
static const int64_t lat_le_us[] = {100,   250,   500,    1000,   2500,   5000,    10000,
                                    25000, 50000, 100000, 250000, 500000, 1000000, 5000000};
#define N_LAT (sizeof lat_le_us / sizeof lat_le_us[0])

/* Revocation-event lag buckets, milliseconds (created_at has a resolution of a second). */
static const int64_t lag_le_ms[] = {100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000};
#define N_LAG (sizeof lag_le_ms / sizeof lag_le_ms[0])

typedef atomic_uint_fast64_t counter_t;

static atomic_bool enabled = true;
static counter_t counters[JOTD_M__COUNT];
static counter_t requests[JOTD_METRICS_MAX_ROUTES][N_STATUS];
static counter_t lat_bucket[JOTD_METRICS_MAX_ROUTES][N_LAT + 1]; /* the last: +Inf only */
static counter_t lat_sum_us[JOTD_METRICS_MAX_ROUTES];
static counter_t lag_bucket[N_LAG + 1];
static counter_t lag_sum_ms, lag_count;
static _Atomic int64_t lag_last_ms = -1;

static inline void add(counter_t *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static inline uint64_t get(counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void jotd_metrics_enable(bool on)
{
    atomic_store_explicit(&enabled, on, memory_order_relaxed);
}

bool jotd_metrics_enabled(void)
{
    return atomic_load_explicit(&enabled, memory_order_relaxed);
}

void jotd_metrics_inc(jotd_metric_t m)
{
    if (jotd_metrics_enabled() && (unsigned)m < JOTD_M__COUNT)
        add(&counters[m], 1);
}

void jotd_metrics_request(unsigned route, unsigned status, int64_t us)
{
    if (!jotd_metrics_enabled() || route >= JOTD_METRICS_MAX_ROUTES)
        return;
    size_t s = N_STATUS - 1;
    for (size_t i = 0; i + 1 < N_STATUS; i++)
        if (statuses[i] == status) {
            s = i;
            break;
        }
    add(&requests[route][s], 1);
    if (us < 0)
        us = 0;
    size_t b = 0;
    while (b < N_LAT && us > lat_le_us[b])
        b++;
    add(&lat_bucket[route][b], 1);
    add(&lat_sum_us[route], (uint64_t)us);
}

void jotd_metrics_event_lag(int64_t lag_ms)
{
    if (!jotd_metrics_enabled())
        return;
    if (lag_ms < 0)
        lag_ms = 0; /* clocks of two machines */
    size_t b = 0;
    while (b < N_LAG && lag_ms > lag_le_ms[b])
        b++;
    add(&lag_bucket[b], 1);
    add(&lag_sum_ms, (uint64_t)lag_ms);
    add(&lag_count, 1);
    atomic_store_explicit(&lag_last_ms, lag_ms, memory_order_relaxed);
}

void jotd_metrics_reset(void)
{
    for (size_t i = 0; i < JOTD_M__COUNT; i++)
        atomic_store(&counters[i], 0);
    for (size_t r = 0; r < JOTD_METRICS_MAX_ROUTES; r++) {
        for (size_t s = 0; s < N_STATUS; s++)
            atomic_store(&requests[r][s], 0);
        for (size_t b = 0; b <= N_LAT; b++)
            atomic_store(&lat_bucket[r][b], 0);
        atomic_store(&lat_sum_us[r], 0);
    }
    for (size_t b = 0; b <= N_LAG; b++)
        atomic_store(&lag_bucket[b], 0);
    atomic_store(&lag_sum_ms, 0);
    atomic_store(&lag_count, 0);
    atomic_store(&lag_last_ms, -1);
}

/* ---- rendering ---------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int out(jotx_buf_t *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return JOTX_ETOOBIG;
    return jotx_buf_add(b, line, (size_t)n);
}

static void head(jotx_buf_t *b, const char *name, const char *type, const char *help)
{
    out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(jotx_buf_t *b, const char *name, const char *help, jotd_metric_t m)
{
    head(b, name, "counter", help);
    out(b, "%s %llu\n", name, (unsigned long long)get(&counters[m]));
}

static void status_label(unsigned i, char *buf, size_t n)
{
    if (i + 1 < N_STATUS)
        snprintf(buf, n, "%u", statuses[i]);
    else
        snprintf(buf, n, "other");
}

int jotd_metrics_render(jotx_buf_t *b, const char *const *route_names, size_t n_routes,
                        const jotd_metrics_gauges_t *g)
{
    if (n_routes > JOTD_METRICS_MAX_ROUTES)
        n_routes = JOTD_METRICS_MAX_ROUTES;
    head(b, "jotd_build_info", "gauge", "The version of this jotd (the value is always 1).");
    out(b, "jotd_build_info{version=\"%s\"} 1\n", JOT_VERSION_STRING);
    head(b, "jotd_metrics_enabled", "gauge", "1 while counting (--metrics on), else 0.");
    out(b, "jotd_metrics_enabled %d\n", jotd_metrics_enabled() ? 1 : 0);

    head(b, "jotd_http_requests_total", "counter", "HTTP requests answered, by route and status.");
    for (size_t r = 0; r < n_routes; r++)
        for (unsigned s = 0; s < N_STATUS; s++) {
            uint64_t v = get(&requests[r][s]);
            if (!v)
                continue;
            char st[16];
            status_label(s, st, sizeof st);
            out(b, "jotd_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n", route_names[r],
                st, (unsigned long long)v);
        }
    head(b, "jotd_http_request_duration_seconds", "histogram",
         "Time from the request's first byte to its answer, by route.");
    for (size_t r = 0; r < n_routes; r++) {
        uint64_t cum = 0;
        for (size_t i = 0; i <= N_LAT; i++)
            cum += get(&lat_bucket[r][i]);
        if (!cum)
            continue; /* a route never asked */
        cum = 0;
        for (size_t i = 0; i < N_LAT; i++) {
            cum += get(&lat_bucket[r][i]);
            out(b, "jotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                route_names[r], (double)lat_le_us[i] / 1e6, (unsigned long long)cum);
        }
        cum += get(&lat_bucket[r][N_LAT]);
        out(b, "jotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
            route_names[r], (unsigned long long)cum);
        out(b, "jotd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r],
            (double)get(&lat_sum_us[r]) / 1e6);
        out(b, "jotd_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_names[r],
            (unsigned long long)cum);
    }
    head(b, "jotd_http_requests_in_flight", "gauge", "Requests being handled now.");
    out(b, "jotd_http_requests_in_flight %ld\n", g ? g->in_flight : 0);

    head(b, "jotd_logins_total", "counter", "Password logins, by result.");
    out(b, "jotd_logins_total{result=\"success\"} %llu\n",
        (unsigned long long)get(&counters[JOTD_M_LOGIN_SUCCESS]));
    out(b, "jotd_logins_total{result=\"failure\"} %llu\n",
        (unsigned long long)get(&counters[JOTD_M_LOGIN_FAILURE]));
    out(b, "jotd_logins_total{result=\"throttled\"} %llu\n",
        (unsigned long long)get(&counters[JOTD_M_LOGIN_THROTTLED]));
    counter(b, "jotd_refreshes_total", "Refresh tokens rotated (grace answers included).",
            JOTD_M_REFRESH);
    counter(b, "jotd_refresh_reuse_detected_total",
            "Rotated refresh tokens presented again: their sessions revoked.",
            JOTD_M_REFRESH_REUSE);
    counter(b, "jotd_revocations_total",
            "Revocations by /revoke and /logout (sessions and access tokens).", JOTD_M_REVOCATION);
    counter(b, "jotd_store_errors_total",
            "Store operations that failed for the store's sake (I/O, busy, unreachable).",
            JOTD_M_STORE_ERROR);

    head(b, "jotd_verify_cache_requests_total", "counter",
         "Lookups of the verified-token cache, by result.");
    out(b, "jotd_verify_cache_requests_total{result=\"hit\"} %llu\n",
        (unsigned long long)get(&counters[JOTD_M_VCACHE_HIT]));
    out(b, "jotd_verify_cache_requests_total{result=\"miss\"} %llu\n",
        (unsigned long long)get(&counters[JOTD_M_VCACHE_MISS]));
    head(b, "jotd_verify_cache_entries", "gauge", "Verified access tokens cached now.");
    out(b, "jotd_verify_cache_entries %zu\n", g ? g->vcache_entries : 0);
    head(b, "jotd_verify_cache_capacity", "gauge", "--verify-cache-size.");
    out(b, "jotd_verify_cache_capacity %zu\n", g ? g->vcache_capacity : 0);
    head(b, "jotd_denylist_entries", "gauge",
         "What ended, in memory: revoked access-token jtis and ended sessions, until expiry.");
    out(b, "jotd_denylist_entries{list=\"jti\"} %zu\n", g ? g->denylist_jtis : 0);
    out(b, "jotd_denylist_entries{list=\"session\"} %zu\n", g ? g->denylist_sessions : 0);

    head(b, "jotd_revocation_event_lag_seconds", "histogram",
         "From a store event's created_at to its application here (1 s resolution).");
    uint64_t cum = 0;
    for (size_t i = 0; i < N_LAG; i++) {
        cum += get(&lag_bucket[i]);
        out(b, "jotd_revocation_event_lag_seconds_bucket{le=\"%g\"} %llu\n",
            (double)lag_le_ms[i] / 1e3, (unsigned long long)cum);
    }
    cum += get(&lag_bucket[N_LAG]);
    out(b, "jotd_revocation_event_lag_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    out(b, "jotd_revocation_event_lag_seconds_sum %.3f\n", (double)get(&lag_sum_ms) / 1e3);
    out(b, "jotd_revocation_event_lag_seconds_count %llu\n", (unsigned long long)get(&lag_count));
    int64_t last = atomic_load_explicit(&lag_last_ms, memory_order_relaxed);
    head(b, "jotd_revocation_event_last_lag_seconds", "gauge",
         "The lag of the last event applied (-1: none yet).");
    out(b, "jotd_revocation_event_last_lag_seconds %.3f\n", last < 0 ? -1.0 : (double)last / 1e3);
    return jotx_buf_err(b);
}
