/* jotd configuration: defaults < config file < JOTD_* environment < command-line flags.
 * The config file is `key = value` lines (# comments), keys named like the long flags
 * with '_' for '-': data, store, listen, issuer, audience, tls_cert, tls_key, insecure_http, alg,
 * key_encryption_key, jwks_max_age, key_lead_time,
 * access_ttl, refresh_idle_ttl, refresh_absolute_ttl, refresh_grace, argon2_m_kib,
 * argon2_t, argon2_p, max_body, threads, max_connections, max_connections_per_ip,
 * connection_timeout, verify_cache_size,
 * throttle_account_failures, throttle_ip_failures, default_client, durability, trusted_proxy
 * (the one list: repeat it, or separate CIDRs with commas), events_poll_interval,
 * events_listen (on or off), status_list_ttl, authorization_code_ttl, metrics (on or off),
 * metrics_listen, cookie_domain. Environment variables are JOTD_ + the key in upper case
 * (JOTD_LISTEN, JOTD_ACCESS_TTL...). Durations accept 90s, 15m, 1h, 30d or plain seconds. */
#ifndef JOTD_CONFIG_H
#define JOTD_CONFIG_H

#include "proxy.h"
#include "rc.h"

#include <jot/jot.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct jotd_config {
    char *data_dir; /* default "./var" */
    /* --store: a libpq connection URI (postgres://, postgresql://) of a PostgreSQL store;
     * NULL (the default): SQLite in DATA/jotd.db. A password in it is refused on the command
     * line (visible in ps) and never printed: see jotd_store_pg_redact(). */
    char *store;
    char *listen_host;    /* default "127.0.0.1" */
    uint16_t listen_port; /* default 8080 */
    char *issuer;         /* default "http://<listen>" */
    char *audience;       /* default: the issuer */
    char *tls_cert, *tls_key;
    bool insecure_http;
    /* private_key_jwt clients' --jwks-url may be plain http:// to a loopback host (tests and
     * a JWKS served on the same machine); never to any other host (libjot's rule) */
    bool allow_http_jwks_url;
    char *config_file;
    jot_alg_t alg; /* default ES256 */
    /* --key-encryption-key FILE: seals the keys and secrets in the store (seal.h, secrets.h);
     * NULL (the default): DATA/key-encryption-key */
    char *key_encryption_key;
    int64_t jwks_max_age;     /* Cache-Control max-age of the JWKS; default 300 s, 1 s..1 d */
    int64_t key_lead_time;    /* a rotated key is published this long before it signs; default
                                 600 s, at least jwks_max_age */
    int64_t access_ttl;       /* default 900 */
    int64_t refresh_idle_ttl; /* default 7 days */
    int64_t refresh_abs_ttl;  /* default 30 days */
    int64_t refresh_grace;    /* default 0 */
    uint32_t argon2_m_kib, argon2_t, argon2_p; /* OWASP defaults */
    size_t max_body;                           /* default 16 KiB */
    unsigned threads;                          /* default: number of CPUs */
    unsigned max_connections;                  /* default 1024 */
    unsigned max_connections_per_ip;           /* default 0: no per-address limit */
    unsigned connection_timeout;               /* seconds, default 30 */
    unsigned throttle_account_failures;        /* default 5 */
    unsigned throttle_ip_failures;             /* default 20 per minute */
    char *default_client; /* client_id for requests that name none; default "default" */
    char *portal_client;  /* the public client of /login's browser sessions ("default") */
    /* --cookie-domain: the domain of the forward-auth portal's access cookie, under which
     * /login's rd may point (NULL: no portal cookie, no rd) */
    char *cookie_domain;
    size_t verify_cache_size; /* verified access tokens remembered (vcache.h); 0: off */
    bool durability_full; /* --durability full: logins and rotations fsync too; default normal */
    /* --trusted-proxy: connections from these ranges may name the client in X-Forwarded-For
     * or Forwarded (proxy.h); default none */
    jotd_cidr_t trusted_proxies[JOTD_MAX_TRUSTED_PROXIES];
    size_t n_trusted_proxies;
    /* --events-poll-interval: how often serve reads the store's events table (revocations
     * made elsewhere); default 1 s, 1 s..1 h. On PostgreSQL a LISTEN connection wakes it
     * sooner (store.h, jotd_store_listen_start) */
    int64_t events_poll_interval;
    /* --events-listen on|off: whether serve holds that LISTEN connection (PostgreSQL only;
     * default on). off: the events table is only polled, for a store reached through
     * PgBouncer in transaction pooling mode, where LISTEN does not work */
    bool events_listen;
    /* --status-list-ttl: the ttl claim and Cache-Control max-age of the Token Status Lists
     * (statuslist.h); default 30 s, 1 s..1 h */
    int64_t status_list_ttl;
    /* --authorization-code-ttl: how long a code of GET /authorize may be exchanged; default
     * 60 s, 1 s..60 s */
    int64_t authorization_code_ttl;
    /* --metrics on|off: count for GET /metrics (metrics.h); default on. off: nothing is
     * counted and /metrics answers 404 */
    bool metrics;
    /* --metrics-listen ADDR:PORT: a second listener serving only GET /metrics, without a
     * token, for the monitoring network; NULL (the default): none */
    char *metrics_listen;
} jotd_config_t;

/** Print one line per option (flag, value name, what it does) to \p f: `jotd --help`; only
 *  the options whose file key is in \p keys (NULL-terminated) unless \p keys is NULL. The
 *  list is the option table itself, so a new option is listed by adding it. */
void jotd_config_usage(FILE *f, const char *const *keys);
/** Fill \p c with the defaults. */
void jotd_config_defaults(jotd_config_t *c);
/* The functions below follow rc.h: they return jotd_rc_t and on error write a message to
 * \p err (\p errlen bytes) when it is non-NULL. */

/** Apply file, environment and flags (argv[0] is the subcommand, e.g. "serve"). Flags that
 *  are not configuration (e.g. --password-stdin) are left for the caller: their indexes are
 *  not consumed only if \p rest is non-NULL, where unknown arguments are collected in order
 *  (rest must have room for argc pointers; *n_rest set). Errors: JOTD_E_INVAL (unknown
 *  option, bad value, config file too large), JOTD_E_IO (config file unreadable),
 *  JOTD_E_NOMEM. */
jotd_rc_t jotd_config_load(jotd_config_t *c, int argc, char **argv, char **rest, int *n_rest,
                           char *err, size_t errlen);
/** jotd_config_load() for a command that takes only some configuration flags: a flag whose
 *  file key is not in \p allowed (NULL-terminated; NULL: every flag) is refused with
 *  "option --audience does not apply to 'jotd CMD'" (\p cmd names the command). --config is
 *  always allowed; the config file and JOTD_* variables may still set every key, as they are
 *  shared by all commands. */
jotd_rc_t jotd_config_load_for(jotd_config_t *c, int argc, char **argv, char **rest, int *n_rest,
                               const char *const *allowed, const char *cmd, char *err,
                               size_t errlen);
/** Check consistency (TLS pair, plain HTTP only on loopback unless insecure_http...):
 *  JOTD_E_INVAL, or JOTD_E_IO when a TLS file cannot be read. */
jotd_rc_t jotd_config_validate(const jotd_config_t *c, char *err, size_t errlen);
void jotd_config_free(jotd_config_t *c);
/** A deep copy of \p src into \p dst (jotd_config_free it). JOTD_E_NOMEM (dst zeroed). */
jotd_rc_t jotd_config_copy(jotd_config_t *dst, const jotd_config_t *src);
/** The key timing rules: jwks_max_age 1 s..1 d, key_lead_time 1 s..30 d and not shorter than
 *  jwks_max_age (part of jotd_config_validate, and of `jotd keys rotate`). JOTD_E_INVAL. */
jotd_rc_t jotd_config_check_key_times(const jotd_config_t *c, char *err, size_t errlen);
/** Check that the data directory \p dir may hold secrets: a directory (symlinks to one are
 *  followed), owned by the effective user, with no write bit for group or others (mode &
 *  022 == 0): anyone else who can write there could swap the database or the key files.
 *  JOTD_E_IO when it cannot be examined (missing...), JOTD_E_INVAL when it is refused. */
jotd_rc_t jotd_data_dir_check(const char *dir, char *err, size_t errlen);

/** "HOST:PORT" or "[IPv6]:PORT" (as --listen) into a malloc'd host and a port: 0, or -1
 *  with the reason in \p why. */
int jotd_parse_listen(const char *s, char **out_host, uint16_t *out_port, char *why, size_t whylen);
/** true when \p uri is a libpq connection URI (it starts with postgres:// or postgresql://). */
bool jotd_uri_is_pg(const char *uri);
/** true when the libpq URI \p uri carries a password (user:PASSWORD@ or a password=
 *  parameter, its name percent-encoded or not). */
bool jotd_uri_has_password(const char *uri);

#endif
