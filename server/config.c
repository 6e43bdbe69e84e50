/* jotd configuration: defaults < config file < JOTD_* environment < command-line flags.
 *
 * One table (opts[]) names every setting once; the long flag (--access-ttl), the environment
 * variable (JOTD_ACCESS_TTL) and the file key (access_ttl) are all derived from its key.
 * Loading runs in three steps: the command line is scanned first (flags are remembered, the
 * rest collected) so that --config is known before the file is read; then the file, the
 * environment and the remembered flags are applied in that order. Every error names where
 * the bad value came from: "--access-ttl", "JOTD_ACCESS_TTL" or "FILE:LINE: access_ttl". */
#include "config.h"
#include "redirect.h"
#include "common/buf.h"
#include "common/duration.h"
#include "common/strparse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (1024 * 1024)   /* bytes; a config file is a few hundred */
#define KEY_MAX 64                      /* longest key, flag or environment name */
#define SRC_MAX 512                     /* "FILE:LINE: key" in messages */
#define TTL_MAX ((int64_t)3650 * 86400) /* ten years: keeps now + ttl far from overflow */
#define ACCESS_TTL_MAX 86400
#define EVENTS_POLL_MAX 3600
#define STATUS_LIST_TTL_MAX 3600
#define JWKS_MAX_AGE_MAX 86400
#define KEY_LEAD_TIME_MAX (30 * 86400)
#define GRACE_MAX 60
#define THREADS_MAX 256
#define MAX_BODY_MAX ((size_t)64 * 1024 * 1024)
#define VERIFY_CACHE_MAX ((size_t)10 * 1000 * 1000) /* entries; ~2 KiB each at most in use */

typedef enum opt_type {
    T_STR,      /* non-empty string */
    T_OPTSTR,   /* string; empty means unset (tls_cert, tls_key) */
    T_LISTEN,   /* HOST:PORT or [IPv6]:PORT */
    T_BOOL,     /* true/false/1/0/yes/no; a bare flag means true */
    T_ALG,      /* jot_alg_from_name, "none" refused */
    T_DURATION, /* int64_t seconds */
    T_U32,      /* uint32_t */
    T_UINT,     /* unsigned */
    T_SIZE,     /* size_t */
    T_SYNC,     /* --durability: "full" or "normal" -> bool durability_full */
    T_ONOFF,    /* "on" or "off" -> bool; a value is required (unlike T_BOOL) */
    T_CIDRS,    /* comma-separated CIDRs, repeatable -> trusted_proxies[] */
    T_STORE,    /* a libpq URI; empty means unset (SQLite in --data) */
} opt_type_t;

typedef struct opt {
    const char *key; /* file key; flag and environment names derive from it */
    opt_type_t type;
    size_t off;       /* offset of the field in jotd_config_t */
    const char *arg;  /* the value's name in --help ("" for a bare flag) */
    const char *help; /* one line of --help */
} opt_t;

#define OPT(key, type, field, arg, help)                                                           \
    {                                                                                              \
        key, type, offsetof(jotd_config_t, field), arg, help                                       \
    }

/* The one list of options: flags, environment variables, file keys and `jotd --help`
 * (jotd_config_usage) all come from it. */
static const opt_t opts[] = {
    OPT("data", T_STR, data_dir, "DIR",
        "local files: the key-encryption key and the SQLite store jotd.db (default ./var)"),
    OPT("store", T_STORE, store, "URI",
        "a PostgreSQL store: postgres://... (no password on the command line)"),
    OPT("listen", T_LISTEN, listen_host, "ADDR:PORT",
        "where to listen (default 127.0.0.1:8080; port 0: any free one)"),
    OPT("issuer", T_STR, issuer, "URL", "iss of every token (default http://LISTEN)"),
    OPT("audience", T_STR, audience, "AUD", "aud of every access token (default: the issuer)"),
    OPT("tls_cert", T_OPTSTR, tls_cert, "FILE",
        "serve HTTPS with this certificate (PEM), with --tls-key"),
    OPT("tls_key", T_OPTSTR, tls_key, "FILE", "the private key of --tls-cert (PEM)"),
    OPT("insecure_http", T_BOOL, insecure_http, "",
        "allow plain HTTP on a non-loopback address (behind a TLS proxy)"),
    OPT("allow_http_jwks_url", T_BOOL, allow_http_jwks_url, "",
        "a private_key_jwt client's --jwks-url may be http:// to a loopback host (tests)"),
    OPT("alg", T_ALG, alg, "ALG", "algorithm of new signing keys (default ES256)"),
    OPT("key_encryption_key", T_OPTSTR, key_encryption_key, "FILE",
        "seals the keys and secrets in the store (default DATA/key-encryption-key)"),
    OPT("jwks_max_age", T_DURATION, jwks_max_age, "D",
        "Cache-Control max-age of the JWKS (default 300s, 1s..1d)"),
    OPT("key_lead_time", T_DURATION, key_lead_time, "D",
        "a rotated key is published this long before it signs (default 600s)"),
    OPT("access_ttl", T_DURATION, access_ttl, "D", "access-token lifetime (default 15m)"),
    OPT("refresh_idle_ttl", T_DURATION, refresh_idle_ttl, "D",
        "a refresh token unused this long expires (default 7d)"),
    OPT("refresh_absolute_ttl", T_DURATION, refresh_abs_ttl, "D",
        "a session ends this long after login (default 30d)"),
    OPT("refresh_grace", T_DURATION, refresh_grace, "D",
        "a rotated refresh token answers again within this (default 0, at most 60s)"),
    OPT("argon2_m_kib", T_U32, argon2_m_kib, "N",
        "Argon2id memory of new password hashes in KiB (default 19456)"),
    OPT("argon2_t", T_U32, argon2_t, "N", "Argon2id passes (default 2)"),
    OPT("argon2_p", T_U32, argon2_p, "N", "Argon2id lanes (default 1)"),
    OPT("max_body", T_SIZE, max_body, "N", "larger request bodies get 413 (default 16384)"),
    OPT("threads", T_UINT, threads, "N", "HTTP event loops (default: the number of CPUs)"),
    OPT("max_connections", T_UINT, max_connections, "N", "open connections at most (default 1024)"),
    OPT("max_connections_per_ip", T_UINT, max_connections_per_ip, "N",
        "open connections from one address (default 0: no limit)"),
    OPT("connection_timeout", T_UINT, connection_timeout, "S",
        "idle or slow connections are closed after S seconds (default 30)"),
    OPT("throttle_account_failures", T_UINT, throttle_account_failures, "N",
        "consecutive failures before an account backs off (default 5)"),
    OPT("throttle_ip_failures", T_UINT, throttle_ip_failures, "N",
        "failures per minute before an address backs off (default 20)"),
    OPT("default_client", T_STR, default_client, "ID",
        "client_id of requests that name none (default \"default\")"),
    OPT("portal_client", T_STR, portal_client, "ID",
        "the public client of /login's browser sessions (default \"default\")"),
    OPT("cookie_domain", T_OPTSTR, cookie_domain, "DOMAIN",
        "the forward-auth portal's access cookie for DOMAIN (jotd's host under it)"),
    OPT("verify_cache_size", T_SIZE, verify_cache_size, "N",
        "verified access tokens remembered (default 10000; 0: off)"),
    OPT("durability", T_SYNC, durability_full, "full|normal",
        "whether logins and rotations wait for an fsync (default normal)"),
    OPT("trusted_proxy", T_CIDRS, trusted_proxies, "CIDR",
        "a proxy whose X-Forwarded-For/Forwarded is believed (repeatable)"),
    OPT("events_poll_interval", T_DURATION, events_poll_interval, "D",
        "how often serve reads the store's events (default 1s, 1s..1h)"),
    OPT("events_listen", T_ONOFF, events_listen, "on|off",
        "PostgreSQL: hold a LISTEN connection for the events (default on)"),
    OPT("status_list_ttl", T_DURATION, status_list_ttl, "D",
        "ttl of the Token Status Lists (default 30s, 1s..1h)"),
    OPT("authorization_code_ttl", T_DURATION, authorization_code_ttl, "D",
        "lifetime of an authorization code (default 60s, 1s..60s)"),
    OPT("metrics", T_ONOFF, metrics, "on|off",
        "count requests, logins... for GET /metrics (default on)"),
    OPT("metrics_listen", T_OPTSTR, metrics_listen, "ADDR:PORT",
        "also serve /metrics there without a token (the monitoring network)"),
};
#define N_OPTS (sizeof opts / sizeof opts[0])

static void flag_name(const opt_t *o, char *buf, size_t size);

/* ---- usage ------------------------------------------------------------------------------- */

void jotd_config_usage(FILE *f, const char *const *keys)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        bool listed = !keys;
        for (size_t k = 0; keys && keys[k] && !listed; k++)
            listed = !strcmp(keys[k], opts[i].key);
        if (!listed)
            continue;
        char flag[64], head[96];
        flag_name(&opts[i], flag, sizeof flag);
        snprintf(head, sizeof head, "%s%s%s", flag, *opts[i].arg ? " " : "", opts[i].arg);
        fprintf(f, "  %-34s %s\n", head, opts[i].help);
    }
}

/* Which of issuer/audience some source set explicitly (else they follow the listen address).
 * A list option (trusted_proxy) accumulates within one source (repeated lines or flags) and
 * the next source replaces it as a whole, like any other option: `level` is the source being
 * applied (1 file, 2 environment, 3 flags), `proxies_level` the one the list came from. */
enum { LEVEL_FILE = 1, LEVEL_ENV = 2, LEVEL_FLAGS = 3 };

typedef struct load_state {
    bool issuer_set, audience_set;
    int level, proxies_level; /* LEVEL_* */
    jotd_rc_t rc; /* why a failed load failed: JOTD_E_INVAL unless a step says otherwise */
} load_state_t;

/* ---- names ------------------------------------------------------------------------------- */

static void flag_name(const opt_t *o, char *buf, size_t size)
{
    size_t i = 0;
    if (size < 3)
        return;
    buf[i++] = '-';
    buf[i++] = '-';
    for (const char *k = o->key; *k && i + 1 < size; k++)
        buf[i++] = *k == '_' ? '-' : *k;
    buf[i] = '\0';
}

static void env_name(const opt_t *o, char *buf, size_t size)
{
    snprintf(buf, size, "JOTD_");
    size_t i = strlen(buf);
    for (const char *k = o->key; *k && i + 1 < size; k++)
        buf[i++] = (char)toupper((unsigned char)*k);
    buf[i] = '\0';
}

/* Flag "--access-ttl" (name without the dashes, \p n bytes) -> its option; '-' in the flag
 * stands for '_' in the key. */
static const opt_t *find_flag(const char *name, size_t n)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *k = opts[i].key;
        if (strlen(k) != n)
            continue;
        size_t j = 0;
        while (j < n && (k[j] == '_' ? name[j] == '-' : name[j] == k[j]))
            j++;
        if (j == n)
            return &opts[i];
    }
    return NULL;
}

/* File key (either '_' or '-' between words) -> its option. */
static const opt_t *find_key(const char *name, size_t n)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *k = opts[i].key;
        if (strlen(k) != n)
            continue;
        size_t j = 0;
        while (j < n && (k[j] == '_' ? (name[j] == '_' || name[j] == '-') : name[j] == k[j]))
            j++;
        if (j == n)
            return &opts[i];
    }
    return NULL;
}

/* ---- value parsers ----------------------------------------------------------------------- */

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes"};
    static const char *const no[] = {"false", "0", "no"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* "HOST:PORT" or "[IPv6]:PORT" -> malloc'd host (without brackets) and port. */
static int parse_listen(const char *s, char **out_host, uint16_t *out_port, char *why,
                        size_t whylen)
{
    const char *host, *host_end, *port;
    if (s[0] == '[') {
        host = s + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':') {
            snprintf(why, whylen, "expected [IPv6]:PORT");
            return -1;
        }
        port = host_end + 2;
        char tmp[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        size_t hn = (size_t)(host_end - host);
        if (hn == 0 || hn >= sizeof tmp) {
            snprintf(why, whylen, "bad IPv6 address");
            return -1;
        }
        memcpy(tmp, host, hn);
        tmp[hn] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            snprintf(why, whylen, "bad IPv6 address");
            return -1;
        }
    } else {
        host = s;
        host_end = strrchr(s, ':');
        if (!host_end) {
            snprintf(why, whylen, "expected HOST:PORT");
            return -1;
        }
        if (memchr(s, ':', (size_t)(host_end - s))) {
            snprintf(why, whylen, "an IPv6 address needs brackets: [::1]:PORT");
            return -1;
        }
        port = host_end + 1;
    }
    if (host_end == host) {
        snprintf(why, whylen, "empty host");
        return -1;
    }
    for (const char *p = host; p < host_end; p++) {
        if ((unsigned char)*p <= ' ' || *p == '/' || *p == '[' || *p == ']' || *p == 0x7f) {
            snprintf(why, whylen, "bad character in host");
            return -1;
        }
    }
    uint64_t v;
    if (jotx_parse_u64_str(port, 65535, &v) != JOTX_OK) {
        snprintf(why, whylen, "port must be a number 0..65535");
        return -1;
    }
    char *h = jotx_strdup_n(host, (size_t)(host_end - host));
    if (!h) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    *out_host = h;
    *out_port = (uint16_t)v;
    return 0;
}

/* Replace the string field \p *slot with a copy of \p val (NULL clears). */
static int set_string(char **slot, const char *val)
{
    char *copy = NULL;
    if (val) {
        copy = jotx_strdup_n(val, strlen(val));
        if (!copy)
            return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static bool is_blank(char ch);

/* --trusted-proxy: a comma-separated list of CIDRs or addresses, appended to the list of the
 * same source; an empty value clears it (a later source saying "none"). */
static int apply_cidrs(jotd_config_t *c, const char *val, const char *src, load_state_t *st,
                       char *err, size_t errlen)
{
    if (st->proxies_level != st->level) {
        c->n_trusted_proxies = 0;
        st->proxies_level = st->level;
    }
    if (!*val)
        return 0;
    for (const char *p = val;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && is_blank(*p))
            p++;
        while (end > p && is_blank(end[-1]))
            end--;
        char why[96];
        jotd_cidr_t cidr;
        if (p == end) {
            jotd_seterr(err, errlen, "%s: empty entry in \"%s\"", src, val);
            return -1;
        }
        if (jotd_cidr_parse(p, (size_t)(end - p), &cidr, why, sizeof why) != 0) {
            jotd_seterr(err, errlen, "%s: bad CIDR \"%.*s\": %s", src, (int)(end - p), p, why);
            return -1;
        }
        if (c->n_trusted_proxies >= JOTD_MAX_TRUSTED_PROXIES) {
            jotd_seterr(err, errlen, "%s: more than %d trusted proxy ranges", src,
                        JOTD_MAX_TRUSTED_PROXIES);
            return -1;
        }
        c->trusted_proxies[c->n_trusted_proxies++] = cidr;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Apply \p val to the field of \p o. \p src names where it came from, for the message. */
static int apply(jotd_config_t *c, const opt_t *o, const char *val, const char *src,
                 load_state_t *st, char *err, size_t errlen)
{
    char *base = (char *)c;
    void *field = base + o->off;
    uint64_t v;
    char why[96];

    switch (o->type) {
    case T_STR:
        if (!*val) {
            jotd_seterr(err, errlen, "%s: must not be empty", src);
            return -1;
        }
        if (set_string(field, val) != 0)
            goto nomem;
        if (strcmp(o->key, "issuer") == 0)
            st->issuer_set = true;
        else if (strcmp(o->key, "audience") == 0)
            st->audience_set = true;
        return 0;
    case T_OPTSTR:
        if (set_string(field, *val ? val : NULL) != 0)
            goto nomem;
        return 0;
    case T_STORE:
        /* the value is never echoed: it may hold a password */
        if (*val && !jotd_uri_is_pg(val)) {
            jotd_seterr(err, errlen,
                        "%s: expected a PostgreSQL connection URI (postgres://... or "
                        "postgresql://...); without it the store is SQLite in --data",
                        src);
            return -1;
        }
        if (st->level == LEVEL_FLAGS && jotd_uri_has_password(val)) {
            jotd_seterr(
                err, errlen,
                "%s: refusing a password on the command line (every user sees it in ps): "
                "put it in libpq's password file (PGPASSFILE, or passfile=FILE in the URI), "
                "or give the URI in JOTD_STORE or the config file's store key",
                src);
            return -1;
        }
        if (set_string(field, *val ? val : NULL) != 0)
            goto nomem;
        return 0;
    case T_LISTEN: {
        char *host;
        uint16_t port;
        if (parse_listen(val, &host, &port, why, sizeof why) != 0) {
            jotd_seterr(err, errlen, "%s: bad address \"%s\": %s", src, val, why);
            return -1;
        }
        free(c->listen_host);
        c->listen_host = host;
        c->listen_port = port;
        return 0;
    }
    case T_BOOL:
        if (parse_bool(val, field) != 0) {
            jotd_seterr(err, errlen, "%s: expected true/false/yes/no/1/0, not \"%s\"", src, val);
            return -1;
        }
        return 0;
    case T_ALG: {
        jot_alg_t alg;
        jot_err_t rc = jot_alg_from_name(val, strlen(val), &alg);
        if (rc == JOT_E_ALG_NONE) {
            jotd_seterr(err, errlen, "%s: \"none\" is never accepted", src);
            return -1;
        }
        if (rc != JOT_OK) {
            jotd_seterr(err, errlen, "%s: unknown algorithm \"%s\"", src, val);
            return -1;
        }
        if (alg == JOT_ALG_HS256 || alg == JOT_ALG_HS384 || alg == JOT_ALG_HS512) {
            jotd_seterr(err, errlen,
                        "%s: %s is symmetric and cannot be published in the JWKS; use ES256, "
                        "EdDSA, RS256 or PS256",
                        src, val);
            return -1;
        }
        c->alg = alg;
        return 0;
    }
    case T_SYNC:
        if (strcmp(val, "full") == 0 || strcmp(val, "normal") == 0) {
            *(bool *)field = val[0] == 'f';
            return 0;
        }
        jotd_seterr(err, errlen, "%s: expected full or normal, not \"%s\"", src, val);
        return -1;
    case T_ONOFF:
        if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0) {
            *(bool *)field = val[1] == 'n';
            return 0;
        }
        jotd_seterr(err, errlen, "%s: expected on or off, not \"%s\"", src, val);
        return -1;
    case T_DURATION: {
        int64_t d;
        if (jotx_parse_duration(val, JOTX_DURATION_MAX, &d) != JOTX_OK) {
            jotd_seterr(err, errlen,
                        "%s: bad duration \"%s\" (use 90s, 15m, 1h, 30d, 2w or seconds)", src, val);
            return -1;
        }
        *(int64_t *)field = d;
        return 0;
    }
    case T_CIDRS:
        return apply_cidrs(c, val, src, st, err, errlen);
    case T_U32:
    case T_UINT:
    case T_SIZE: {
        uint64_t max = o->type == T_U32    ? UINT32_MAX
                       : o->type == T_UINT ? (uint64_t)UINT_MAX
                                           : (uint64_t)SIZE_MAX;
        if (jotx_parse_u64_str(val, max, &v) != JOTX_OK) {
            jotd_seterr(err, errlen, "%s: expected a number 0..%" PRIu64 ", not \"%s\"", src, max,
                        val);
            return -1;
        }
        if (o->type == T_U32)
            *(uint32_t *)field = (uint32_t)v;
        else if (o->type == T_UINT)
            *(unsigned *)field = (unsigned)v;
        else
            *(size_t *)field = (size_t)v;
        return 0;
    }
    }
    jotd_seterr(err, errlen, "%s: internal error", src);
    return -1;
nomem:
    st->rc = JOTD_E_NOMEM;
    jotd_seterr(err, errlen, "%s: out of memory", src);
    return -1;
}

/* ---- defaults ---------------------------------------------------------------------------- */

/* "http://HOST:PORT" ("https" with TLS), with brackets around an IPv6 host. */
static char *default_issuer(const jotd_config_t *c)
{
    const char *host = c->listen_host ? c->listen_host : "127.0.0.1";
    bool v6 = strchr(host, ':') != NULL;
    size_t n = strlen(host) + 32;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s://%s%s%s:%u", c->tls_cert ? "https" : "http", v6 ? "[" : "", host,
                 v6 ? "]" : "", (unsigned)c->listen_port);
    return s;
}

void jotd_config_defaults(jotd_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->data_dir = jotx_strdup_n("./var", 5);
    c->listen_host = jotx_strdup_n("127.0.0.1", 9);
    c->listen_port = 8080;
    c->issuer = default_issuer(c);
    c->audience = c->issuer ? jotx_strdup_n(c->issuer, strlen(c->issuer)) : NULL;
    c->alg = JOT_ALG_ES256;
    c->jwks_max_age = 300;
    c->key_lead_time = 600;
    c->access_ttl = 900;
    c->events_poll_interval = 1;
    c->status_list_ttl = 30;
    c->authorization_code_ttl = 60;
    c->events_listen = true;
    c->metrics = true;
    c->refresh_idle_ttl = 7 * 86400;
    c->refresh_abs_ttl = 30 * 86400;
    c->refresh_grace = 0;
    c->argon2_m_kib = 19456; /* OWASP: m=19 MiB, t=2, p=1 */
    c->argon2_t = 2;
    c->argon2_p = 1;
    c->max_body = 16 * 1024;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = cpus < 1 ? 1u : cpus > THREADS_MAX ? THREADS_MAX : (unsigned)cpus;
    c->max_connections = 1024;
    c->connection_timeout = 30;
    c->throttle_account_failures = 5;
    c->throttle_ip_failures = 20;
    c->default_client = jotx_strdup_n("default", 7);
    c->portal_client = jotx_strdup_n("default", 7);
    c->verify_cache_size = 10000;
}

void jotd_config_free(jotd_config_t *c)
{
    if (!c)
        return;
    free(c->data_dir);
    if (c->store) { /* may hold a password */
        jot_memzero(c->store, strlen(c->store));
        free(c->store);
    }
    free(c->listen_host);
    free(c->issuer);
    free(c->audience);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->key_encryption_key);
    free(c->metrics_listen);
    free(c->config_file);
    free(c->default_client);
    free(c->portal_client);
    free(c->cookie_domain);
    memset(c, 0, sizeof *c);
}

jotd_rc_t jotd_config_check_key_times(const jotd_config_t *c, char *err, size_t errlen)
{
    if (c->jwks_max_age <= 0 || c->jwks_max_age > JWKS_MAX_AGE_MAX) {
        jotd_seterr(err, errlen, "--jwks-max-age: must be 1s..1d, not %" PRId64 "s",
                    c->jwks_max_age);
        return JOTD_E_INVAL;
    }
    if (c->key_lead_time <= 0 || c->key_lead_time > KEY_LEAD_TIME_MAX) {
        jotd_seterr(err, errlen, "--key-lead-time: must be 1s..30d, not %" PRId64 "s",
                    c->key_lead_time);
        return JOTD_E_INVAL;
    }
    if (c->key_lead_time < c->jwks_max_age) {
        jotd_seterr(err, errlen,
                    "--key-lead-time (%" PRId64 "s) must be at least --jwks-max-age (%" PRId64
                    "s): a verifier that cached the JWKS would not know a new key when it starts "
                    "signing",
                    c->key_lead_time, c->jwks_max_age);
        return JOTD_E_INVAL;
    }
    return JOTD_OK;
}

jotd_rc_t jotd_config_copy(jotd_config_t *dst, const jotd_config_t *src)
{
    *dst = *src;
    char **fields[] = {&dst->data_dir,       &dst->store,
                       &dst->listen_host,    &dst->issuer,
                       &dst->audience,       &dst->tls_cert,
                       &dst->tls_key,        &dst->config_file,
                       &dst->default_client, &dst->key_encryption_key,
                       &dst->metrics_listen, &dst->portal_client,
                       &dst->cookie_domain};
    bool ok = true;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (*fields[i] && !(*fields[i] = jotx_strdup_n(*fields[i], strlen(*fields[i])))) {
            for (size_t j = i + 1; j < sizeof fields / sizeof fields[0]; j++)
                *fields[j] = NULL;
            ok = false;
            break;
        }
    if (!ok) {
        jotd_config_free(dst);
        return JOTD_E_NOMEM;
    }
    return JOTD_OK;
}

/* ---- config file ------------------------------------------------------------------------- */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

static jotd_rc_t read_file(const char *path, char **out, size_t *out_len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        jotd_seterr(err, errlen, "config file %s: %s", path, strerror(errno));
        return JOTD_E_IO;
    }
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    if (!buf) {
        close(fd);
        jotd_seterr(err, errlen, "config file %s: out of memory", path);
        return JOTD_E_NOMEM;
    }
    size_t len = 0;
    jotd_rc_t rc = JOTD_E_IO;
    for (;;) {
        ssize_t r = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            jotd_seterr(err, errlen, "config file %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > CONFIG_FILE_MAX) {
            jotd_seterr(err, errlen, "config file %s: larger than %d bytes", path, CONFIG_FILE_MAX);
            rc = JOTD_E_INVAL;
            goto fail;
        }
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return JOTD_OK;
fail:
    close(fd);
    free(buf);
    return rc;
}

/* One line [p, end): blank, "# comment" or key = value (value optionally "quoted", an
 * unquoted value may be followed by " # comment"). */
static int file_line(jotd_config_t *c, const char *path, unsigned lineno, char *p, char *end,
                     load_state_t *st, char *err, size_t errlen)
{
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    if (p == end || *p == '#')
        return 0;
    char *key = p;
    while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
        p++;
    size_t key_len = (size_t)(p - key);
    while (p < end && is_blank(*p))
        p++;
    if (key_len == 0 || p == end || *p != '=') {
        jotd_seterr(err, errlen, "%s:%u: expected key = value", path, lineno);
        return -1;
    }
    const opt_t *o = find_key(key, key_len);
    if (!o) {
        jotd_seterr(err, errlen, "%s:%u: unknown key \"%.*s\"", path, lineno, (int)key_len, key);
        return -1;
    }
    p++;
    while (p < end && is_blank(*p))
        p++;
    char *val = p, *val_end = end;
    if (p < end && *p == '"') {
        val = p + 1;
        char *q = memchr(val, '"', (size_t)(end - val));
        if (!q) {
            jotd_seterr(err, errlen, "%s:%u: %s: missing closing quote", path, lineno, o->key);
            return -1;
        }
        val_end = q;
        for (q++; q < end && is_blank(*q); q++)
            ;
        if (q < end && *q != '#') {
            jotd_seterr(err, errlen, "%s:%u: %s: text after the closing quote", path, lineno,
                        o->key);
            return -1;
        }
    } else {
        for (char *q = val; q < end; q++) {
            if (*q == '#' && q > val && is_blank(q[-1])) {
                val_end = q;
                break;
            }
        }
        while (val_end > val && is_blank(val_end[-1]))
            val_end--;
    }
    char src[SRC_MAX];
    *val_end = '\0';
    snprintf(src, sizeof src, "%s:%u: %s", path, lineno, o->key);
    return apply(c, o, val, src, st, err, errlen);
}

static int load_file(jotd_config_t *c, const char *path, load_state_t *st, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    jotd_rc_t rrc = read_file(path, &buf, &len, err, errlen);
    if (rrc != JOTD_OK) {
        st->rc = rrc;
        return -1;
    }
    if (memchr(buf, '\0', len)) {
        jotd_seterr(err, errlen, "config file %s: contains a NUL byte", path);
        free(buf);
        return -1;
    }
    unsigned lineno = 0;
    char *p = buf, *end = buf + len;
    int rc = 0;
    while (p < end && rc == 0) {
        lineno++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        rc = file_line(c, path, lineno, p, line_end, st, err, errlen);
        p = nl ? nl + 1 : end;
    }
    free(buf);
    return rc;
}

/* ---- environment ------------------------------------------------------------------------- */

static int load_env(jotd_config_t *c, load_state_t *st, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        char name[KEY_MAX];
        env_name(&opts[i], name, sizeof name);
        const char *val = getenv(name);
        if (!val || !*val) /* an empty variable counts as unset */
            continue;
        if (apply(c, &opts[i], val, name, st, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ---- command line ------------------------------------------------------------------------ */

typedef struct flag_use {
    const opt_t *opt;
    const char *val;
} flag_use_t;

static bool key_allowed(const char *const *allowed, const char *key)
{
    if (!allowed)
        return true;
    for (; *allowed; allowed++)
        if (strcmp(*allowed, key) == 0)
            return true;
    return false;
}

jotd_rc_t jotd_config_load(jotd_config_t *c, int argc, char **argv, char **rest, int *n_rest,
                           char *err, size_t errlen)
{
    return jotd_config_load_for(c, argc, argv, rest, n_rest, NULL, NULL, err, errlen);
}

jotd_rc_t jotd_config_load_for(jotd_config_t *c, int argc, char **argv, char **rest, int *n_rest,
                               const char *const *allowed, const char *cmd, char *err,
                               size_t errlen)
{
    load_state_t st = {false, false, 0, 0, JOTD_E_INVAL};
    flag_use_t *uses = NULL;
    size_t n_uses = 0;
    const char *config_path = NULL;
    int nr = 0, rc = -1;

    if (n_rest)
        *n_rest = 0;
    if (argc > 1) {
        uses = calloc((size_t)argc, sizeof *uses);
        if (!uses) {
            jotd_seterr(err, errlen, "out of memory");
            return JOTD_E_NOMEM;
        }
    }

    /* 1. Scan argv: remember config flags, collect everything else. */
    bool only_rest = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_rest || strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (!only_rest && strcmp(a, "--") == 0) {
                only_rest = true; /* "--" ends the flags; it is not passed on */
                continue;
            }
            goto not_config;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        const char *val = eq ? eq + 1 : NULL;

        if (name_len == 6 && strncmp(name, "config", 6) == 0) {
            if (!val) {
                if (i + 1 >= argc) {
                    jotd_seterr(err, errlen, "--config needs a value");
                    goto out;
                }
                val = argv[++i];
            }
            if (!*val) {
                jotd_seterr(err, errlen, "--config: must not be empty");
                goto out;
            }
            config_path = val;
            continue;
        }
        const opt_t *o = find_flag(name, name_len);
        if (!o)
            goto not_config;
        if (!key_allowed(allowed, o->key)) {
            char fl[KEY_MAX];
            flag_name(o, fl, sizeof fl);
            jotd_seterr(err, errlen, "option %s does not apply to 'jotd %s'", fl, cmd ? cmd : "");
            goto out;
        }
        if (!val) {
            if (o->type == T_BOOL) {
                val = "true";
            } else if (i + 1 >= argc) {
                char fl[KEY_MAX];
                flag_name(o, fl, sizeof fl);
                jotd_seterr(err, errlen, "%s needs a value", fl);
                goto out;
            } else {
                val = argv[++i];
            }
        }
        uses[n_uses].opt = o;
        uses[n_uses].val = val;
        n_uses++;
        continue;
    not_config:
        if (!rest) {
            if (strncmp(a, "--", 2) == 0) /* the name only: "--password=..." must not echo */
                jotd_seterr(err, errlen, "unknown option %.*s", (int)strcspn(a, "="), a);
            else
                jotd_seterr(err, errlen, "unexpected argument \"%s\"", a);
            goto out;
        }
        rest[nr++] = argv[i];
    }

    /* 2. The config file: --config, else JOTD_CONFIG. */
    if (!config_path) {
        const char *e = getenv("JOTD_CONFIG");
        if (e && *e)
            config_path = e;
    }
    if (config_path) {
        if (set_string(&c->config_file, config_path) != 0) {
            st.rc = JOTD_E_NOMEM;
            jotd_seterr(err, errlen, "out of memory");
            goto out;
        }
        st.level = LEVEL_FILE;
        if (load_file(c, c->config_file, &st, err, errlen) != 0)
            goto out;
    }

    /* 3. Environment, then flags (in order; the last of a repeated flag wins, but a repeated
     *    list flag adds to the list). */
    st.level = LEVEL_ENV;
    if (load_env(c, &st, err, errlen) != 0)
        goto out;
    st.level = LEVEL_FLAGS;
    for (size_t k = 0; k < n_uses; k++) {
        char fl[KEY_MAX];
        flag_name(uses[k].opt, fl, sizeof fl);
        if (apply(c, uses[k].opt, uses[k].val, fl, &st, err, errlen) != 0)
            goto out;
    }

    /* 4. Derived defaults: the issuer follows the listen address, the audience the issuer. */
    if (!st.issuer_set) {
        char *iss = default_issuer(c);
        if (!iss) {
            st.rc = JOTD_E_NOMEM;
            jotd_seterr(err, errlen, "out of memory");
            goto out;
        }
        free(c->issuer);
        c->issuer = iss;
    }
    if (!st.audience_set) {
        if (set_string(&c->audience, c->issuer) != 0) {
            st.rc = JOTD_E_NOMEM;
            jotd_seterr(err, errlen, "out of memory");
            goto out;
        }
    }
    if (!c->data_dir || !c->listen_host || !c->default_client || !c->portal_client) {
        st.rc = JOTD_E_NOMEM;
        jotd_seterr(err, errlen, "out of memory");
        goto out;
    }
    if (n_rest)
        *n_rest = nr;
    rc = 0;
out:
    free(uses);
    return rc == 0 ? JOTD_OK : st.rc;
}

/* ---- validation -------------------------------------------------------------------------- */

static bool is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

static bool readable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static bool valid_url(const char *s)
{
    const char *rest;
    if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    else
        return false;
    if (*rest == '\0' || *rest == '/')
        return false;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#')
            return false;
    }
    return true;
}

int jotd_parse_listen(const char *s, char **out_host, uint16_t *out_port, char *why, size_t whylen)
{
    return parse_listen(s, out_host, out_port, why, whylen);
}

/* --cookie-domain: a DNS name (redirect.h) that jotd's own host (the issuer's) is or is
 * under, so that the access cookie jotd sets is one the browser keeps. Over HTTPS as the
 * browser sees it (--tls-cert, or --insecure-http behind a TLS proxy) the issuer must be
 * https. A jotd serving plain HTTP on loopback (development) may use it only for exactly its
 * own host, in practice "localhost", and then sets a host-only cookie (routes_login.c), which
 * reaches every port of localhost, where a development app runs: browsers drop a parent
 * Domain=localhost set by a subdomain such as auth.localhost (Chromium and Firefox treat
 * localhost like a public suffix there), some have dropped Domain=localhost outright, and
 * none takes a Domain on an IP address. */
static jotd_rc_t check_cookie_domain(const jotd_config_t *c, char *err, size_t errlen)
{
    const char *d = c->cookie_domain;
    if (!jotd_cookie_domain_ok(d)) {
        jotd_seterr(err, errlen,
                    "--cookie-domain: \"%s\" is not a lower-case DNS name of at least two labels "
                    "(no leading dot, no IP address)",
                    d);
        return JOTD_E_INVAL;
    }
    bool https = strncmp(c->issuer, "https://", 8) == 0;
    const char *host = c->issuer + (https ? 8 : 7);
    size_t hlen = strcspn(host, ":/");
    bool secure = c->tls_cert || c->insecure_http;
    if (!jotd_host_under(host, hlen, d)) {
        jotd_seterr(err, errlen,
                    "--cookie-domain: jotd's host (from --issuer %s) is not %s or under it: the "
                    "browser would refuse the cookie",
                    c->issuer, d);
        return JOTD_E_INVAL;
    }
    if (secure && !https) {
        jotd_seterr(err, errlen,
                    "--cookie-domain: the issuer %s is not https: the access cookie is Secure",
                    c->issuer);
        return JOTD_E_INVAL;
    }
    if (!secure && hlen != strlen(d)) {
        jotd_seterr(err, errlen,
                    "--cookie-domain: over plain HTTP (development on loopback) only jotd's own "
                    "host, %.*s: browsers drop a parent Domain there. Serve HTTPS (--tls-cert, or "
                    "--insecure-http behind a TLS proxy) for a domain of several hosts",
                    (int)hlen, host);
        return JOTD_E_INVAL;
    }
    return JOTD_OK;
}

jotd_rc_t jotd_config_validate(const jotd_config_t *c, char *err, size_t errlen)
{
    if (c->metrics_listen) {
        char *h = NULL, why[160] = "";
        uint16_t port = 0;
        int bad = parse_listen(c->metrics_listen, &h, &port, why, sizeof why);
        free(h);
        if (bad) {
            jotd_seterr(err, errlen, "--metrics-listen: %s", why);
            return JOTD_E_INVAL;
        }
    }
    if (!c->data_dir || !*c->data_dir) {
        jotd_seterr(err, errlen, "--data: must not be empty");
        return JOTD_E_INVAL;
    }
    if (!c->listen_host || !*c->listen_host) {
        jotd_seterr(err, errlen, "--listen: no host");
        return JOTD_E_INVAL;
    }
    if (!c->tls_cert != !c->tls_key) {
        jotd_seterr(err, errlen, "%s given without %s: TLS needs both",
                    c->tls_cert ? "--tls-cert" : "--tls-key",
                    c->tls_cert ? "--tls-key" : "--tls-cert");
        return JOTD_E_INVAL;
    }
    if (c->tls_cert && !readable(c->tls_cert)) {
        jotd_seterr(err, errlen, "--tls-cert: cannot read %s: %s", c->tls_cert, strerror(errno));
        return JOTD_E_IO;
    }
    if (c->tls_key && !readable(c->tls_key)) {
        jotd_seterr(err, errlen, "--tls-key: cannot read %s: %s", c->tls_key, strerror(errno));
        return JOTD_E_IO;
    }
    if (!c->tls_cert && !c->insecure_http && !is_loopback(c->listen_host)) {
        jotd_seterr(err, errlen,
                    "--listen: refusing plain HTTP on the non-loopback address %s: give "
                    "--tls-cert and --tls-key, or --insecure-http when a TLS-terminating proxy "
                    "is in front",
                    c->listen_host);
        return JOTD_E_INVAL;
    }
    if (!c->issuer || !valid_url(c->issuer)) {
        jotd_seterr(err, errlen, "--issuer: \"%s\" is not an http(s) URL without query or fragment",
                    c->issuer ? c->issuer : "");
        return JOTD_E_INVAL;
    }
    if (c->cookie_domain && check_cookie_domain(c, err, errlen) != JOTD_OK)
        return JOTD_E_INVAL;
    if (!c->audience || !*c->audience) {
        jotd_seterr(err, errlen, "--audience: must not be empty");
        return JOTD_E_INVAL;
    }
    if (c->alg == JOT_ALG_UNSET || c->alg >= JOT_ALG__COUNT || c->alg == JOT_ALG_HS256 ||
        c->alg == JOT_ALG_HS384 || c->alg == JOT_ALG_HS512) {
        jotd_seterr(err, errlen, "--alg: an asymmetric signing algorithm is required");
        return JOTD_E_INVAL;
    }
    if (jotd_config_check_key_times(c, err, errlen) != JOTD_OK)
        return JOTD_E_INVAL;
    if (c->access_ttl <= 0 || c->access_ttl > ACCESS_TTL_MAX) {
        jotd_seterr(err, errlen, "--access-ttl: must be 1s..1d, not %" PRId64 "s", c->access_ttl);
        return JOTD_E_INVAL;
    }
    if (c->events_poll_interval <= 0 || c->events_poll_interval > EVENTS_POLL_MAX) {
        jotd_seterr(err, errlen, "--events-poll-interval: must be 1s..1h, not %" PRId64 "s",
                    c->events_poll_interval);
        return JOTD_E_INVAL;
    }
    if (c->authorization_code_ttl <= 0 || c->authorization_code_ttl > 60) {
        jotd_seterr(err, errlen, "--authorization-code-ttl: must be 1s..60s, not %" PRId64 "s",
                    c->authorization_code_ttl);
        return JOTD_E_INVAL;
    }
    if (c->status_list_ttl <= 0 || c->status_list_ttl > STATUS_LIST_TTL_MAX) {
        jotd_seterr(err, errlen, "--status-list-ttl: must be 1s..1h, not %" PRId64 "s",
                    c->status_list_ttl);
        return JOTD_E_INVAL;
    }
    if (c->refresh_idle_ttl <= 0 || c->refresh_idle_ttl > TTL_MAX) {
        jotd_seterr(err, errlen, "--refresh-idle-ttl: must be 1s..3650d, not %" PRId64 "s",
                    c->refresh_idle_ttl);
        return JOTD_E_INVAL;
    }
    if (c->refresh_abs_ttl <= 0 || c->refresh_abs_ttl > TTL_MAX) {
        jotd_seterr(err, errlen, "--refresh-absolute-ttl: must be 1s..3650d, not %" PRId64 "s",
                    c->refresh_abs_ttl);
        return JOTD_E_INVAL;
    }
    if (c->refresh_idle_ttl > c->refresh_abs_ttl) {
        jotd_seterr(err, errlen,
                    "--refresh-idle-ttl (%" PRId64 "s) exceeds --refresh-absolute-ttl (%" PRId64
                    "s)",
                    c->refresh_idle_ttl, c->refresh_abs_ttl);
        return JOTD_E_INVAL;
    }
    if (c->refresh_grace < 0 || c->refresh_grace > GRACE_MAX) {
        jotd_seterr(err, errlen, "--refresh-grace: must be 0..60s, not %" PRId64 "s",
                    c->refresh_grace);
        return JOTD_E_INVAL;
    }
    if (c->argon2_t < 1 || c->argon2_p < 1 || c->argon2_p > 0xffffff) {
        jotd_seterr(err, errlen, "--argon2-t must be >= 1 and --argon2-p 1..16777215");
        return JOTD_E_INVAL;
    }
    if (c->argon2_m_kib < 8 * c->argon2_p || c->argon2_m_kib > 4u * 1024 * 1024) {
        jotd_seterr(err, errlen, "--argon2-m-kib: must be 8*argon2_p..4194304 (4 GiB), not %u",
                    (unsigned)c->argon2_m_kib);
        return JOTD_E_INVAL;
    }
    if (c->max_body < 1 || c->max_body > MAX_BODY_MAX) {
        jotd_seterr(err, errlen, "--max-body: must be 1..%zu bytes, not %zu", MAX_BODY_MAX,
                    c->max_body);
        return JOTD_E_INVAL;
    }
    if (c->verify_cache_size > VERIFY_CACHE_MAX) {
        jotd_seterr(err, errlen, "--verify-cache-size: must be 0..%zu entries, not %zu",
                    VERIFY_CACHE_MAX, c->verify_cache_size);
        return JOTD_E_INVAL;
    }
    if (c->threads < 1 || c->threads > THREADS_MAX) {
        jotd_seterr(err, errlen, "--threads: must be 1..%d, not %u", THREADS_MAX, c->threads);
        return JOTD_E_INVAL;
    }
    if (c->max_connections < 1) {
        jotd_seterr(err, errlen, "--max-connections: must be at least 1");
        return JOTD_E_INVAL;
    }
    if (c->connection_timeout < 1) {
        jotd_seterr(err, errlen, "--connection-timeout: must be at least 1 second");
        return JOTD_E_INVAL;
    }
    if (c->throttle_account_failures < 1 || c->throttle_ip_failures < 1) {
        jotd_seterr(err, errlen,
                    "--throttle-account-failures and --throttle-ip-failures must be at least 1");
        return JOTD_E_INVAL;
    }
    if (!c->default_client || !*c->default_client) {
        jotd_seterr(err, errlen, "--default-client: must not be empty");
        return JOTD_E_INVAL;
    }
    if (!c->portal_client || !*c->portal_client) {
        jotd_seterr(err, errlen, "--portal-client: must not be empty");
        return JOTD_E_INVAL;
    }
    return JOTD_OK;
}

/* ---- the data directory ------------------------------------------------------------------ */

jotd_rc_t jotd_data_dir_check(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (!dir || !*dir) {
        jotd_seterr(err, errlen, "--data: must not be empty");
        return JOTD_E_INVAL;
    }
    if (stat(dir, &st) != 0) {
        jotd_seterr(err, errlen, "data directory %s: %s", dir, strerror(errno));
        return JOTD_E_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        jotd_seterr(err, errlen, "data directory %s: not a directory", dir);
        return JOTD_E_INVAL;
    }
    if (st.st_uid != geteuid()) {
        jotd_seterr(err, errlen,
                    "data directory %s is owned by uid %u, not by the user running jotd (uid %u): "
                    "refusing it",
                    dir, (unsigned)st.st_uid, (unsigned)geteuid());
        return JOTD_E_INVAL;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        jotd_seterr(err, errlen,
                    "data directory %s is writable by %s (mode %04o): refusing it; chmod go-w %s",
                    dir, (st.st_mode & S_IWOTH) ? "others" : "its group",
                    (unsigned)(st.st_mode & 07777), dir);
        return JOTD_E_INVAL;
    }
    return JOTD_OK;
}

/* ---- libpq connection URIs --------------------------------------------------------------- */

/* How libpq reads a URI (conninfo_uri_parse_options): after the scheme, a user[:password]@
 * designator is present when an '@' comes before any '/'; the password runs from the first
 * ':' to that '@'. Parameters follow the first '?' after it, key=value pairs separated by
 * '&', both percent-decoded. An empty password is no password. */

static size_t uri_scheme_len(const char *uri)
{
    static const char *const schemes[] = {"postgresql://", "postgres://"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(uri, schemes[i], n) == 0)
            return n;
    }
    return 0;
}

bool jotd_uri_is_pg(const char *uri)
{
    return uri && uri_scheme_len(uri) > 0;
}

/* Whether the percent-encoded key [p, end) decodes to \p want. */
static bool key_is(const char *p, const char *end, const char *want)
{
    for (; p < end; want++) {
        int ch = (unsigned char)*p;
        if (*p == '%' && end - p >= 3 && jotx_hex_digit(p[1]) >= 0 && jotx_hex_digit(p[2]) >= 0) {
            ch = jotx_hex_digit(p[1]) * 16 + jotx_hex_digit(p[2]);
            p += 3;
        } else {
            p++;
        }
        if (!*want || ch != (unsigned char)*want)
            return false;
    }
    return !*want;
}

bool jotd_uri_has_password(const char *uri)
{
    size_t start = uri ? uri_scheme_len(uri) : 0;
    if (!start)
        return false;
    const char *p = uri + start;
    const char *delim = p + strcspn(p, "@/");
    const char *params_from = p;
    if (*delim == '@') {
        const char *colon = memchr(p, ':', (size_t)(delim - p));
        if (colon && delim > colon + 1)
            return true;
        params_from = delim + 1;
    }
    for (const char *q = strchr(params_from, '?'); q;) {
        const char *key = q + 1;
        const char *amp = strchr(key, '&');
        const char *end = amp ? amp : key + strlen(key);
        const char *eq = memchr(key, '=', (size_t)(end - key));
        if (eq && end > eq + 1 && key_is(key, eq, "password"))
            return true;
        q = amp;
    }
    return false;
}
