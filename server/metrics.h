/* jotd's Prometheus metrics (GET /metrics, --metrics-listen): counters and histograms kept
 * in relaxed atomics, so that counting never takes a lock (the /verify hot path runs on the
 * event loops). Process-wide, like the log. Counting stops while jotd_metrics_enable(false)
 * (--metrics off): each call is then one relaxed load of a flag.
 * Names, labels and units: docs/operations.md. */
#ifndef JOTD_METRICS_H
#define JOTD_METRICS_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Routes counted separately (http.c's table has fewer); the last index is "other" (404s). */
#define JOTD_METRICS_MAX_ROUTES 24

typedef enum {
    JOTD_M_LOGIN_SUCCESS,
    JOTD_M_LOGIN_FAILURE,
    JOTD_M_LOGIN_THROTTLED,
    JOTD_M_REFRESH,
    JOTD_M_REFRESH_REUSE,
    JOTD_M_REVOCATION,
    JOTD_M_VCACHE_HIT,
    JOTD_M_VCACHE_MISS,
    JOTD_M_STORE_ERROR,
    JOTD_M__COUNT
} jotd_metric_t;

/** What only the caller knows at render time (sizes of its tables). */
typedef struct jotd_metrics_gauges {
    size_t vcache_entries, vcache_capacity;
    size_t denylist_jtis, denylist_sessions;
    long in_flight;
} jotd_metrics_gauges_t;

void jotd_metrics_enable(bool on);
bool jotd_metrics_enabled(void);
/** One more of \p m. Any thread, lock-free. */
void jotd_metrics_inc(jotd_metric_t m);
/** A request answered: \p route an index below JOTD_METRICS_MAX_ROUTES, \p status its HTTP
 *  status, \p us its latency in microseconds. Any thread, lock-free. */
void jotd_metrics_request(unsigned route, unsigned status, int64_t us);
/** A revocation event of the store applied \p lag_ms after its created_at (PostgreSQL: an
 *  event written by another instance). */
void jotd_metrics_event_lag(int64_t lag_ms);
/** The text exposition format (version 0.0.4) appended to \p b: \p route_names[i] names route i
 *  (n_routes of them; the rest are not shown). JOTX_ENOMEM / JOTX_ETOOBIG of \p b. */
int jotd_metrics_render(jotx_buf_t *b, const char *const *route_names, size_t n_routes,
                        const jotd_metrics_gauges_t *g);
/** Zero every counter (tests). */
void jotd_metrics_reset(void);

#endif
