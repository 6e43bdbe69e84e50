/* Login throttling, in process memory and, when a store is attached, shared by every jotd
 * instance on that store:
 * - per account: after `account_max` consecutive failures the account is locked for
 *   2^(failures - account_max) seconds (1 s, 2 s, 4 s ... capped at 1 hour); a success
 *   resets the count;
 * - per client IP: `ip_per_minute` failures within a minute lock the IP until
 *   the minute has passed, doubling for each further violation (capped at 1 hour).
 * Addresses are counted by network: an IPv6 client by its /64, an IPv4-mapped IPv6 address
 * as the IPv4 address. Thread-safe; memory bounded (least recently used entries are evicted).
 *
 * Shared counters (jotd_throttle_set_store). Without a store each instance counts alone, so
 * N instances behind a load balancer would allow N times the attempts. With one, the
 * store's throttle table holds the counters (store.h: one row per account or address of
 * each scope, keyed by a hash of scope, kind and name) and the in-memory table becomes a
 * mirror of the rows this instance has seen:
 * - check: the local table first, a pre-filter: while a mirrored lock runs the answer is
 *   local, so a flood against a locked account or address costs no store read. When the
 *   local table says go, the account's and the address's rows are read from the store and
 *   the longest remaining lock is the answer; a row found is mirrored into the local entry.
 *   A lock set by another instance is therefore seen at the next check, and a success on
 *   another instance that ends a lock already mirrored here is seen when that lock ends;
 * - failure: one store transaction per counter (jotd_store_throttle_update), in which the
 *   step functions below run on the row as stored, so that failures arriving at many
 *   instances at once are all counted; the new state is mirrored locally;
 * - success: the local entry is deleted and, when there was one (the check mirrors every row
 *   it finds, so only then can the store hold one), the account's row in the store: a
 *   success without failures writes nothing.
 * A store error never fails a request: that call, and every call for 5 s after it (so that
 * an outage does not add a store timeout to each login), counts in the local table alone,
 * as without a store; the error is logged at most once a minute. A success meanwhile
 * clears the local entry only.
 * The store-backed calls do store I/O: never call them on an event loop (use the _local
 * variants there). */
#ifndef JOTD_RATELIMIT_H
#define JOTD_RATELIMIT_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct jotd_throttle jotd_throttle_t;

jotd_throttle_t *jotd_throttle_new(unsigned account_max, unsigned ip_per_minute,
                                   size_t max_entries);
void jotd_throttle_free(jotd_throttle_t *t);
/** Share the counters through \p store (borrowed: it must outlive \p t) under \p scope
 *  ("login", "client": the throttles of one process must have different scopes; copied,
 *  at most 15 bytes). Call once, before any other thread uses \p t. NULL \p store: local
 *  only (the default). */
void jotd_throttle_set_store(jotd_throttle_t *t, jotd_store_t *store, const char *scope);
/** 0 when a login attempt for \p account from \p ip may proceed now, otherwise the number
 *  of seconds to wait (for Retry-After). \p account may be NULL. With a store: the local
 *  table, then the store (see the top of this file). */
int64_t jotd_throttle_check(jotd_throttle_t *t, const char *account, const char *ip, int64_t now);
/** jotd_throttle_check on the local table alone: no store I/O (for an event loop). */
int64_t jotd_throttle_check_local(jotd_throttle_t *t, const char *account, const char *ip,
                                  int64_t now);
void jotd_throttle_failure(jotd_throttle_t *t, const char *account, const char *ip, int64_t now);
void jotd_throttle_success(jotd_throttle_t *t, const char *account, int64_t now);
/** jotd_throttle_success on the local table alone: no store I/O (for an event loop). */
void jotd_throttle_success_local(jotd_throttle_t *t, const char *account, int64_t now);
/** Change the limits (SIGHUP) keeping every counter and lock: a lower limit applies from
 *  the next failure, a lock already running ends when it would have. */
void jotd_throttle_set_limits(jotd_throttle_t *t, unsigned account_max, unsigned ip_per_minute);

/* ---- the rules of one failure (pure: the local table and the store both run these) ---- */
/** One failed login for an account in state \p s at \p now (account_max > 0; 0 changes
 *  nothing): one more consecutive failure; from account_max on, locked for
 *  2^(failures - account_max) s from now, at most an hour. */
void jotd_throttle_account_step(jotd_throttle_state_t *s, unsigned account_max, int64_t now);
/** One failure from an address in state \p s at \p now (ip_per_minute > 0; 0 changes
 *  nothing): counted in a one-minute window opened by the first failure; the failure that
 *  reaches ip_per_minute is a violation and locks until 60 s * 2^(violations - 1) after
 *  the window opened (at most an hour); violations are forgiven after an hour's quiet. */
void jotd_throttle_ip_step(jotd_throttle_state_t *s, unsigned ip_per_minute, int64_t now);

#endif
