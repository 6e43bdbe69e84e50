/* Logging: one JSON line per request and one per audit event, on stderr. Never a password,
 * a secret or a whole token: tokens are identified by jti, sid or a short hash prefix. */
#ifndef JOTD_LOG_H
#define JOTD_LOG_H

#include <stdint.h>

/** {"ts":..,"type":"request","method":..,"path":..,"status":..,"latency_us":..,"ip":..}.
 *  Batched: written within 100 ms, before the next audit or log line, or at exit. */
void jotd_log_request(const char *method, const char *path, unsigned status, int64_t latency_us,
                      const char *ip);
/** {"ts":..,"type":"audit","event":<event>, then each key/value pair as strings}.
 *  The pairs are NULL-terminated: jotd_audit("login_failure", "user", name, "ip", ip, NULL).
 *  Values are JSON-escaped. */
void jotd_audit(const char *event, ...);
/** Write the batched request lines now. */
void jotd_log_flush(void);
/** {"ts":..,"type":"log","level":..,"msg":..}: start-up, shutdown, errors. */
void jotd_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
