/* Login throttling, in process memory (see docs/jotd.md for many instances):
 * - per account: after `account_max` consecutive failures the account is locked for
 *   2^(failures - account_max) seconds (1 s, 2 s, 4 s ... capped at 1 hour); a success
 *   resets the count;
 * - per client IP: `ip_per_minute` failures within a minute lock the IP until
 *   the minute has passed, doubling for each further violation (capped at 1 hour).
 * Addresses are counted by network: an IPv6 client by its /64, an IPv4-mapped IPv6 address
 * as the IPv4 address. Thread-safe; memory bounded (least recently used entries are evicted). */
#ifndef JOTD_RATELIMIT_H
#define JOTD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct jotd_throttle jotd_throttle_t;

jotd_throttle_t *jotd_throttle_new(unsigned account_max, unsigned ip_per_minute,
                                   size_t max_entries);
void jotd_throttle_free(jotd_throttle_t *t);
/** 0 when a login attempt for \p account from \p ip may proceed now, otherwise the number
 *  of seconds to wait (for Retry-After). \p account may be NULL. */
int64_t jotd_throttle_check(jotd_throttle_t *t, const char *account, const char *ip, int64_t now);
void jotd_throttle_failure(jotd_throttle_t *t, const char *account, const char *ip, int64_t now);
void jotd_throttle_success(jotd_throttle_t *t, const char *account, int64_t now);
/** Change the limits (SIGHUP) keeping every counter and lock: a lower limit applies from
 *  the next failure, a lock already running ends when it would have. */
void jotd_throttle_set_limits(jotd_throttle_t *t, unsigned account_max, unsigned ip_per_minute);

#endif
