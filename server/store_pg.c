/* The PostgreSQL backend of the jotd store (libpq): the contract is server/store.h, the
 * rules this file keeps are those of server/store_backend.h; server/store_sqlite.c is the
 * reference for what every operation reads and writes.
 *
 * Connections. jotd_store_pg_open() checks the URI (PQconninfoParse) and keeps it; each
 * connection is opened with PQconnectdbParams(expand_dbname = 1), the URI last so that what
 * it says wins over our defaults, which are added only for what it leaves out:
 * target_session_attrs=read-write (a standby is skipped), connect_timeout=5 (an unreachable
 * server is JOTD_E_IO within seconds, never a hang), application_name=jotd,
 * client_encoding=UTF8, TCP keepalives (a vanished peer is found in about 25 s), and
 * options "-c statement_timeout=5s -c lock_timeout=3s" in the startup packet (a URI with
 * options of its own, even an empty "options=", gets only its own). A pool like
 * store_sqlite.c's: an idle list under a mutex, a connection opened when the list is empty,
 * each used by one operation from start to end: the pool holds as many connections as
 * operations were ever in flight at once, i.e. at most the server's worker threads. A
 * connection in CONNECTION_BAD state, or whose statement failed with a connection-class
 * error (SQLSTATE class 08, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
 * cannot_connect_now), is closed instead of pooled, so the next operation reconnects. When
 * the very first statement of an operation fails that way on a connection taken from the
 * idle list (the server restarted, or the backend was terminated while idle), nothing has
 * happened yet: the operation runs again on another connection, so a restart of PostgreSQL
 * costs the callers nothing once it is back.
 *
 * PgBouncer (transaction pooling). Statements are unnamed (PQexecParams / PQexec, never
 * PQprepare); no session state is relied on: every transaction begins with
 * SET LOCAL statement_timeout / lock_timeout in the same round trip as BEGIN, advisory locks
 * are transaction-level (pg_advisory_xact_lock), times are BIGINT epoch seconds (no time
 * zone), nothing is SET per connection. The startup options only bound the single-statement
 * reads (autocommit). PgBouncer refuses startup options it does not track ("unsupported
 * startup parameter"): when a connection fails so, ours are left out from then on, and those
 * reads are bounded by PgBouncer's query_timeout or the role's settings instead (or list
 * options in its ignore_startup_parameters, or write "options=" in the URI).
 *
 * Transactions. READ COMMITTED; every write is BEGIN ... COMMIT, rolled back on any error,
 * run again (up to TX_ATTEMPTS times) after a serialization failure or deadlock (40001,
 * 40P01), then JOTD_E_BUSY. Locks are taken in one order everywhere, so that deadlocks stay
 * rare: a user row, then session rows, then refresh-token rows, then the events lock (below)
 * last. A refresh rotation first locks its session row (SELECT ... FOR NO KEY UPDATE), then
 * reads the token, session, user and successor in a second statement: under READ COMMITTED
 * each statement has a new snapshot, so the read sees whatever the rotation it waited for
 * committed (a single locking SELECT would re-check only the locked row, and see the other
 * tables as they were before the wait). Of N rotations of one token exactly one finds it
 * unused; the mark-used UPDATE is conditional (used_at IS NULL) as well. Session revocation
 * updates the session row first for the same reason: no rotation can add a successor while
 * the tokens are being killed.
 *
 * Events. Readers remember the last id they saw (store.h), so ids must become visible in
 * id order: with concurrent writers a smaller id could otherwise commit after a larger one
 * and be skipped for ever. Every event insert takes pg_advisory_xact_lock(EVENTS_LOCK_KEY)
 * in the same statement, before its id is drawn, and holds it to the commit: event-writing
 * transactions commit one at a time, in id order. Revocations and user/client changes only;
 * logins and rotations write no event.
 *
 * Durability. JOTD_DURABILITY_FULL: the server's synchronous_commit, raised to on in every
 * transaction where it is off (in the BEGIN round trip; 'local', 'remote_write' and the rest
 * are left alone: they all flush the local WAL). JOTD_DURABILITY_NORMAL: logins
 * (session_create), rotations that rotate, and password rehashes commit with
 * SET LOCAL synchronous_commit = off (sent with the COMMIT): a crash of the PostgreSQL
 * server can lose the last of those (up to 3 x wal_writer_delay), never a revocation; the
 * reuse path of a rotation sets synchronous_commit on explicitly. */
#include "common/buf.h"
#include "common/strparse.h"
#include "log.h"
#include "store_backend.h"

#include <jot/jot.h>
#include <libpq-fe.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TX_ATTEMPTS 3     /* a transaction hit by a deadlock or serialization failure */
#define STALE_ATTEMPTS 64 /* dead idle connections dropped before one operation gives up */
#define MIGRATION_LOCK_KEY "7667012837443462001" /* 0x6A6F74645F736371: "jotd_scq" */
#define EVENTS_LOCK_KEY "7667012837443331700"    /* 0x6A6F74645F5F7674 */
#define MAX_PARAMS 14
#define EVENTS_CHANNEL "jotd_events" /* LISTEN/NOTIFY channel of the events */
#define LISTEN_BACKOFF_MIN_MS 1000
#define LISTEN_BACKOFF_MAX_MS 10000

/* ---- schema: numbered migrations ---------------------------------------------------------- */

/* migrations[i] takes a database from version i to i + 1 (jotd_schema.version). Append new
 * steps; never edit one that has shipped. Each runs in its own transaction under the
 * migration lock. Version 1 is the equivalent of SQLite's schema 2. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE users ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY," /* never reused: sub stays unique */
    " username TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL,"
    " roles TEXT NOT NULL,"       /* JSON array of strings */
    " permissions TEXT NOT NULL," /* JSON array of strings */
    " disabled BOOLEAN NOT NULL DEFAULT false,"
    " generation BIGINT NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    /* names differing only in ASCII case are one account (SQLite: COLLATE NOCASE) */
    "CREATE UNIQUE INDEX users_username_nocase ON users"
    " (translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'));"
    "CREATE TABLE clients ("
    " client_id TEXT PRIMARY KEY,"
    " secret_hash TEXT,"                  /* NULL: public client */
    " scopes TEXT NOT NULL DEFAULT '[]'," /* JSON arrays */
    " default_scopes TEXT NOT NULL DEFAULT '[]',"
    " introspect TEXT NOT NULL DEFAULT '[]',"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "INSERT INTO clients (client_id, secret_hash, created_at, updated_at)"
    " VALUES ('default', NULL, extract(epoch FROM now())::bigint,"
    " extract(epoch FROM now())::bigint);"
    "CREATE TABLE sessions ("
    " sid TEXT PRIMARY KEY,"
    " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " client_id TEXT NOT NULL,"
    " scope TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL," /* absolute end */
    " last_used_at BIGINT NOT NULL,"
    " revoked_at BIGINT);"
    "CREATE INDEX sessions_user_id ON sessions(user_id);"
    "CREATE TABLE refresh_tokens ("
    " hash BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32)," /* SHA-256 of the token */
    " sid TEXT NOT NULL REFERENCES sessions(sid) ON DELETE CASCADE,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL," /* idle expiry */
    " used_at BIGINT,"             /* rotated (successor set) or killed (successor NULL) */
    " successor BYTEA CHECK (successor IS NULL OR octet_length(successor) = 32));"
    "CREATE INDEX refresh_tokens_sid ON refresh_tokens(sid);"
    "CREATE TABLE denylist ("
    " jti TEXT PRIMARY KEY,"
    " exp BIGINT NOT NULL);"
    "CREATE TABLE events ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY," /* readers remember the last */
    " kind TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " value BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE INDEX events_created_at ON events(created_at);",
    /* 1 -> 2 (SQLite's 2 -> 3): the signing keys, the server's secrets, the throttling
     * counters */
    "CREATE TABLE signing_keys ("
    " kid TEXT PRIMARY KEY," /* RFC 7638 thumbprint */
    " alg TEXT NOT NULL,"
    " public_jwk TEXT NOT NULL,"
    " private_sealed TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " activate_at BIGINT NOT NULL," /* signs from then until a later key activates */
    " revoked_at BIGINT);"          /* set: out of every JWKS, its tokens refused */
    "CREATE TABLE secrets ("
    " name TEXT PRIMARY KEY,"
    " sealed TEXT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE throttle ("
    " key TEXT PRIMARY KEY," /* hex SHA-256 of what is counted (ratelimit.h) */
    " failures BIGINT NOT NULL,"
    " violations BIGINT NOT NULL,"
    " win_start BIGINT NOT NULL,"
    " lock_until BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX throttle_updated_at ON throttle(updated_at);",
    /* 2 -> 3 (SQLite's 3 -> 4): Token Status Lists (server/statuslist.h). Every session
     * gets an index from a SEQUENCE (never reused; nextval takes no row lock, so concurrent
     * logins do not queue on a counter row; a rolled-back login leaves a gap, which is
     * harmless); the indexes of revoked sessions are kept in status_revoked, which outlives
     * the session rows (ON DELETE CASCADE) until gc. Earlier sessions get 0..n-1. */
    "ALTER TABLE sessions ADD COLUMN status_idx BIGINT;"
    "UPDATE sessions SET status_idx = r.n FROM (SELECT sid, row_number() OVER"
    " (ORDER BY created_at, sid) - 1 AS n FROM sessions) AS r WHERE r.sid = sessions.sid;"
    "ALTER TABLE sessions ALTER COLUMN status_idx SET NOT NULL;"
    "CREATE UNIQUE INDEX sessions_status_idx ON sessions(status_idx);"
    "CREATE SEQUENCE session_status_idx AS BIGINT MINVALUE 0 START WITH 0;"
    "SELECT setval('session_status_idx', count(*), false) FROM sessions;"
    "CREATE TABLE status_revoked ("
    " idx BIGINT PRIMARY KEY," /* a range scan per list */
    " revoked_at BIGINT NOT NULL);"
    "INSERT INTO status_revoked (idx, revoked_at)"
    " SELECT status_idx, revoked_at FROM sessions WHERE revoked_at IS NOT NULL;"
    "CREATE INDEX status_revoked_at ON status_revoked(revoked_at);",
    /* 3 -> 4 (SQLite's 4 -> 5): service-to-service (client_credentials): the audiences a
     * client may get tokens for (RFC 8707 resources) and one status-list index per client,
     * from the sessions' SEQUENCE (existing clients get the next ones, in id order). */
    "ALTER TABLE clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE clients ADD COLUMN status_idx BIGINT;"
    "UPDATE clients SET status_idx = r.n FROM (SELECT client_id, nextval('session_status_idx')"
    " AS n FROM (SELECT client_id FROM clients ORDER BY client_id) AS o) AS r"
    " WHERE r.client_id = clients.client_id;"
    "ALTER TABLE clients ALTER COLUMN status_idx SET NOT NULL;"
    "CREATE UNIQUE INDEX clients_status_idx ON clients(status_idx);"
    /* disable/enable/delete: a disabled client cannot authenticate; its generation voids
     * its earlier service tokens; its sessions are found by client */
    "ALTER TABLE clients ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;"
    "ALTER TABLE clients ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX sessions_client_id ON sessions(client_id);"
    /* private_key_jwt: the client's public keys (inline JWKS or its URL), and the jtis of
     * the assertions seen, until their exp (a replay is an insert that conflicts, whichever
     * instance saw the first) */
    "ALTER TABLE clients ADD COLUMN jwks TEXT;"
    "ALTER TABLE clients ADD COLUMN jwks_url TEXT;"
    "CREATE TABLE assertion_jtis ("
    " client_id TEXT NOT NULL,"
    " jti TEXT NOT NULL,"
    " exp BIGINT NOT NULL,"
    " PRIMARY KEY (client_id, jti));"
    "CREATE INDEX assertion_jtis_exp ON assertion_jtis(exp);"
    /* the address a session was created from (admin session lists) */
    "ALTER TABLE sessions ADD COLUMN ip TEXT;",
    /* 4 -> 5 (SQLite's 5 -> 6): browsers (the authorization code flow): each client's
     * registered redirect URIs, a JSON list like the others */
    "ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';"
    /* the authorization codes, by the SHA-256 of their value: single use (used_at), bound
     * to the client, the redirect URI, the PKCE challenge and the session they create */
    "CREATE TABLE auth_codes ("
    " code_hash BYTEA PRIMARY KEY CHECK (octet_length(code_hash) = 32),"
    " client_id TEXT NOT NULL,"
    " redirect_uri TEXT NOT NULL,"
    " code_challenge TEXT NOT NULL,"
    " scope TEXT NOT NULL,"
    " user_id BIGINT NOT NULL,"
    " sid TEXT NOT NULL,"
    " expires_at BIGINT NOT NULL,"
    " used_at BIGINT);"
    "CREATE INDEX auth_codes_expires_at ON auth_codes(expires_at);",
    /* 5 -> 6 (SQLite's 6 -> 7): single-page apps (docs/browser.md): the origins allowed to
     * call jotd with credentials (CORS), cookie mode, a per-client refresh grace window
     * (NULL: the default) */
    "ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE clients ADD COLUMN cookie_mode BOOLEAN NOT NULL DEFAULT false;"
    "ALTER TABLE clients ADD COLUMN refresh_grace BIGINT;",
    /* 6 -> 7 (SQLite's 7 -> 8): a code presented again after its first redemption is
     * marked (replayed_at), so that its first exchange, still under way, sees the replay
     * (store.h jotd_store_code_replayed) */
    "ALTER TABLE auth_codes ADD COLUMN replayed_at BIGINT;",
};
#define SCHEMA_VERSION ((int64_t)(sizeof migrations / sizeof migrations[0]))

/* ---- statements --------------------------------------------------------------------------- */

#define USER_COLS                                                                                  \
    "u.id, u.username, u.password_hash, u.roles, u.permissions, u.disabled, u.created_at, "        \
    "u.updated_at, u.generation"
#define SESSION_COLS                                                                               \
    "s.sid, s.user_id, s.client_id, s.scope, s.created_at, s.expires_at, s.revoked_at, "           \
    "s.status_idx"
#define N_SESSION_COLS 8
#define CLIENT_COLS                                                                                \
    "client_id, secret_hash, scopes, default_scopes, introspect, created_at, updated_at, "         \
    "resources, status_idx, disabled::int, generation, jwks, jwks_url, redirect_uris, "            \
    "allowed_origins, cookie_mode::int, refresh_grace"

/* An event, with the events lock taken before the id is drawn (see Events above). */
#define EVENT_LOCK_FROM "(SELECT pg_advisory_xact_lock(" EVENTS_LOCK_KEY ")) AS l"
/* Follows an event insert written as WITH ins AS (INSERT ... RETURNING id): the
 * notification of the listeners (jotd_store_listen_start), queued in the inserting
 * transaction and so delivered at its commit, never for a rolled-back one. The payload is
 * the last id, for humans: listeners read the table from where they are anyway. */
#define EVENT_NOTIFY "SELECT pg_notify('" EVENTS_CHANNEL "', max(id)::text) FROM ins"

/* ---- the store ---------------------------------------------------------------------------- */

struct pgconn {
    PGconn *pg;
    bool fresh;  /* opened for the current operation, not taken from the idle list */
    bool broken; /* a connection-class error: closed, never pooled */
    bool retry;  /* the last error was a serialization failure or a deadlock */
    int n_ok;    /* statements that succeeded in the current operation */
    struct pgconn *next;
};

typedef struct pg_store {
    jotd_store_t base;  /* first: store.c sees a jotd_store_t */
    char *uri;          /* holds the password, if any: wiped on close */
    const char *kw[16]; /* PQconnectdbParams' arrays: our defaults, then the URI */
    const char *val[16];
    bool our_options;        /* kw[0] is our "options" default */
    _Atomic bool no_options; /* a PgBouncer refused it: connect without */
    pthread_mutex_t lock;    /* guards idle */
    struct pgconn *idle;
} pg_store_t;

static const jotd_store_ops_t pg_ops;

static pg_store_t *pgs(jotd_store_t *st)
{
    return (pg_store_t *)st;
}

/* ---- errors ------------------------------------------------------------------------------- */

/* libpq's message as one line: newlines and tabs become spaces, trailing space goes. */
static void one_line(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n + 1 < outlen; p++) {
        char ch = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
        if (ch == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = ch;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static bool connection_class(const char *state)
{
    return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                     strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

/* SQLSTATE -> store code. */
static jotd_rc_t map_state(const char *state)
{
    if (!state || strlen(state) != 5)
        return JOTD_E_IO;
    if (strcmp(state, "23505") == 0)
        return JOTD_E_EXISTS;
    if (strcmp(state, "23503") == 0) /* the user or session referred to does not exist */
        return JOTD_E_NOTFOUND;
    if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0 || /* timeouts */
        strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || /* retried first */
        strcmp(state, "53300") == 0)                                  /* too many connections */
        return JOTD_E_BUSY;
    if (strcmp(state, "53200") == 0)
        return JOTD_E_NOMEM;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) /* data, NOT NULL, CHECK */
        return JOTD_E_INVAL;
    return JOTD_E_IO; /* connection, read-only transaction, disk full, permissions, ... */
}

/* Record the failure of a statement on \p c (res may be NULL) and map it. */
static jotd_rc_t pg_fail(struct pgconn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(c->pg);
    char line[224];
    one_line(msg, line, sizeof line);
    if (PQstatus(c->pg) == CONNECTION_BAD || connection_class(state))
        c->broken = true;
    c->retry = state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
    jotd_rc_t r = c->broken ? JOTD_E_IO : map_state(state);
    if (!res) { /* out of memory, or the command could not be sent: start afresh */
        c->broken = true;
        r = JOTD_E_IO;
    }
    return jotd_store__fail(r, "postgresql: %s%s%s%s", line[0] ? line : "unknown error",
                            state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
}

/* Out of memory, recorded (a function of its own: the analyzers see the code it returns). */
static jotd_rc_t nomem(void)
{
    jotd_store__fail(JOTD_E_NOMEM, "out of memory");
    return JOTD_E_NOMEM;
}

/* ---- parameters and results --------------------------------------------------------------- */

typedef struct params {
    int n;
    const char *v[MAX_PARAMS];
    int len[MAX_PARAMS];
    int fmt[MAX_PARAMS];
    char num[MAX_PARAMS][24];
} params_t;

static void p_text(params_t *p, const char *s)
{
    p->v[p->n] = s; /* NULL: SQL NULL */
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

static void p_i64(params_t *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof p->num[0], "%lld", (long long)v);
    p_text(p, p->num[p->n]);
}

static void p_hash(params_t *p, const uint8_t *h)
{
    p->v[p->n] = (const char *)h; /* binary bytea: the raw bytes */
    p->len[p->n] = JOTD_HASH_LEN;
    p->fmt[p->n] = 1;
    p->n++;
}

/* Run \p sql (with \p p, or as a simple query when p is NULL: then it may hold several
 * statements). On success *out (may be NULL: cleared) holds the result. */
static jotd_rc_t q(struct pgconn *c, const char *sql, const params_t *p, PGresult **out)
{
    PGresult *res =
        p ? PQexecParams(c->pg, sql, p->n, NULL, p->v, p->len, p->fmt, 0) : PQexec(c->pg, sql);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        c->n_ok++;
        if (out)
            *out = res;
        else
            PQclear(res);
        return JOTD_OK;
    }
    jotd_rc_t r = pg_fail(c, res);
    PQclear(res);
    return r;
}

static bool parse_i64(const char *s, int64_t *out)
{
    uint64_t u = 0;
    bool neg = s && *s == '-';
    if (jotx_parse_u64_str(neg ? s + 1 : s, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &u) !=
        JOTX_OK)
        return false;
    *out = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
    return true;
}

/* Rows changed by the statement of \p res. */
static int64_t changes(PGresult *res)
{
    int64_t n = 0;
    return parse_i64(PQcmdTuples(res), &n) ? n : 0;
}

/* Query that modifies and reports the rows it changed. */
static jotd_rc_t q_changes(struct pgconn *c, const char *sql, const params_t *p, int64_t *out_n)
{
    PGresult *res = NULL;
    jotd_rc_t r = q(c, sql, p, &res);
    if (r == JOTD_OK && out_n)
        *out_n = changes(res);
    PQclear(res);
    return r;
}

/* A row reader: every column read through it; a value that does not parse marks the row
 * corrupt. */
typedef struct rowr {
    const PGresult *res;
    int row;
    bool bad;
} rowr_t;

static bool col_null(rowr_t *r, int col)
{
    return PQgetisnull(r->res, r->row, col) != 0;
}

static const char *col_text(rowr_t *r, int col)
{
    return col_null(r, col) ? NULL : PQgetvalue(r->res, r->row, col);
}

static int64_t col_i64(rowr_t *r, int col)
{
    int64_t v = 0;
    if (col_null(r, col))
        return 0;
    if (!parse_i64(PQgetvalue(r->res, r->row, col), &v))
        r->bad = true;
    return v;
}

static bool col_bool(rowr_t *r, int col)
{
    const char *t = col_text(r, col);
    if (!t || (strcmp(t, "t") != 0 && strcmp(t, "f") != 0))
        r->bad = true;
    return t && strcmp(t, "t") == 0;
}

static jotd_rc_t col_dup(rowr_t *r, int col, char **out)
{
    *out = NULL;
    if (col_null(r, col))
        return JOTD_OK;
    int n = PQgetlength(r->res, r->row, col);
    *out = jotx_strdup_n(PQgetvalue(r->res, r->row, col), n > 0 ? (size_t)n : 0);
    return *out ? JOTD_OK : nomem();
}

static jotd_rc_t col_list(rowr_t *r, int col, char ***out, size_t *out_n)
{
    const char *t = col_text(r, col);
    int n = PQgetlength(r->res, r->row, col);
    return jotd_store__list_decode(t, t && n > 0 ? (size_t)n : 0, out, out_n);
}

/* A hash selected as encode(x, 'hex'): false when NULL or malformed. */
static bool col_hash(rowr_t *r, int col, uint8_t out[JOTD_HASH_LEN])
{
    const char *t = col_text(r, col);
    if (!t || strlen(t) != 2 * JOTD_HASH_LEN)
        return false;
    for (size_t i = 0; i < JOTD_HASH_LEN; i++) {
        int hi = jotx_hex_digit(t[2 * i]), lo = jotx_hex_digit(t[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static jotd_rc_t corrupt(const char *what)
{
    return jotd_store__fail(JOTD_E_IO, "corrupt row: %s", what);
}

/* USER_COLS starting at column c0. */
static jotd_rc_t row_user(rowr_t *rr, int c0, jotd_user_t *out)
{
    jotd_user_t u = {0};
    u.id = col_i64(rr, c0);
    u.disabled = col_bool(rr, c0 + 5);
    u.created_at = col_i64(rr, c0 + 6);
    u.updated_at = col_i64(rr, c0 + 7);
    u.generation = col_i64(rr, c0 + 8);
    jotd_rc_t r = col_dup(rr, c0 + 1, &u.username);
    if (r == JOTD_OK)
        r = col_dup(rr, c0 + 2, &u.password_hash);
    if (r == JOTD_OK && (!u.username || !u.password_hash || rr->bad))
        r = corrupt("user without name or password hash");
    if (r == JOTD_OK)
        r = col_list(rr, c0 + 3, &u.roles, &u.n_roles);
    if (r == JOTD_OK)
        r = col_list(rr, c0 + 4, &u.permissions, &u.n_permissions);
    if (r != JOTD_OK) {
        jotd_user_clear(&u);
        return r;
    }
    *out = u;
    return JOTD_OK;
}

/* SESSION_COLS starting at column c0. */
static jotd_rc_t row_session(rowr_t *rr, int c0, jotd_session_t *out)
{
    jotd_session_t se = {0};
    const char *sid = col_text(rr, c0);
    size_t sid_len = sid ? strlen(sid) : 0;
    if (sid_len == 0 || sid_len > JOTD_SID_LEN)
        return corrupt("bad session id");
    memcpy(se.sid, sid, sid_len + 1);
    se.user_id = col_i64(rr, c0 + 1);
    se.created_at = col_i64(rr, c0 + 4);
    se.expires_at = col_i64(rr, c0 + 5);
    se.revoked = !col_null(rr, c0 + 6);
    se.status_idx = col_i64(rr, c0 + 7);
    jotd_rc_t r = col_dup(rr, c0 + 2, &se.client_id);
    if (r == JOTD_OK)
        r = col_dup(rr, c0 + 3, &se.scope);
    if (r == JOTD_OK && (!se.client_id || !se.scope || rr->bad))
        r = corrupt("session without client or scope");
    if (r != JOTD_OK) {
        jotd_session_clear(&se);
        return r;
    }
    *out = se;
    return JOTD_OK;
}

/* CLIENT_COLS starting at column 0. */
static jotd_rc_t row_client(rowr_t *rr, jotd_client_t *out)
{
    jotd_client_t c = {.created_at = col_i64(rr, 5),
                       .updated_at = col_i64(rr, 6),
                       .status_idx = col_i64(rr, 8),
                       .disabled = col_i64(rr, 9) != 0,
                       .generation = col_i64(rr, 10)};
    jotd_rc_t r = col_dup(rr, 0, &c.client_id);
    if (r == JOTD_OK && (!c.client_id || rr->bad))
        r = corrupt("NULL client id");
    if (r == JOTD_OK)
        r = col_list(rr, 7, &c.resources, &c.n_resources);
    if (r == JOTD_OK)
        r = col_dup(rr, 1, &c.secret_hash);
    if (r == JOTD_OK)
        r = col_dup(rr, 11, &c.jwks);
    if (r == JOTD_OK)
        r = col_dup(rr, 12, &c.jwks_url);
    if (r == JOTD_OK)
        r = col_list(rr, 13, &c.redirect_uris, &c.n_redirect_uris);
    if (r == JOTD_OK)
        r = col_list(rr, 14, &c.allowed_origins, &c.n_allowed_origins);
    c.cookie_mode = col_i64(rr, 15) != 0;
    c.has_refresh_grace = !col_null(rr, 16);
    c.refresh_grace = col_i64(rr, 16);
    if (r == JOTD_OK)
        r = col_list(rr, 2, &c.scopes, &c.n_scopes);
    if (r == JOTD_OK)
        r = col_list(rr, 3, &c.default_scopes, &c.n_default_scopes);
    if (r == JOTD_OK)
        r = col_list(rr, 4, &c.introspect, &c.n_introspect);
    if (r != JOTD_OK) {
        jotd_client_clear(&c);
        return r;
    }
    *out = c;
    return JOTD_OK;
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct pgconn *c)
{
    if (c) {
        PQfinish(c->pg);
        free(c);
    }
}

static jotd_rc_t conn_open(pg_store_t *s, struct pgconn **out)
{
    struct pgconn *c = calloc(1, sizeof *c);
    if (!c)
        return nomem();
    /* PgBouncer refuses startup options it does not track ("unsupported startup
     * parameter"): then ours are left out from now on, the transactions' SET LOCAL still
     * bound every write */
    int skip = s->our_options && s->no_options ? 1 : 0;
    c->pg = PQconnectdbParams(s->kw + skip, s->val + skip, 1);
    if (c->pg && !skip && s->our_options && PQstatus(c->pg) != CONNECTION_OK &&
        strstr(PQerrorMessage(c->pg), "unsupported startup parameter")) {
        s->no_options = true;
        PQfinish(c->pg);
        c->pg = PQconnectdbParams(s->kw + 1, s->val + 1, 1);
    }
    if (!c->pg) {
        free(c);
        return nomem();
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* libpq's own text names the host and the reason, never the password */
        char line[224];
        one_line(PQerrorMessage(c->pg), line, sizeof line);
        conn_close(c);
        jotd_store__fail(JOTD_E_IO, "postgresql: cannot connect: %s", line);
        return JOTD_E_IO;
    }
    c->fresh = true;
    *out = c;
    return JOTD_OK;
}

static jotd_rc_t conn_get(pg_store_t *s, struct pgconn **out)
{
    pthread_mutex_lock(&s->lock);
    struct pgconn *c = s->idle;
    if (c)
        s->idle = c->next;
    pthread_mutex_unlock(&s->lock);
    if (!c)
        return conn_open(s, out);
    c->next = NULL;
    c->fresh = false;
    *out = c;
    return JOTD_OK;
}

static void conn_put(pg_store_t *s, struct pgconn *c)
{
    /* never pool a dead connection, nor one left inside a transaction */
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK ||
        PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        conn_close(c);
        return;
    }
    c->retry = false;
    pthread_mutex_lock(&s->lock);
    c->next = s->idle;
    s->idle = c;
    pthread_mutex_unlock(&s->lock);
}

/* ---- transactions ------------------------------------------------------------------------- */

/* Every row of \p res (which it clears), each read by \p row into one element of \p size
 * bytes of a calloc'd array: *out (NULL when there is none) and *out_n. \p row leaves
 * nothing allocated when it fails; on any failure the elements read are released with
 * \p clear, the array freed and *out, *out_n left NULL, 0. */
static jotd_rc_t read_rows(PGresult *res, size_t size, jotd_rc_t (*row)(rowr_t *rr, void *elem),
                           void (*clear)(void *elem), void **out, size_t *out_n)
{
    int n = PQntuples(res);
    char *v = n ? calloc((size_t)n, size) : NULL;
    size_t got = 0;
    jotd_rc_t r = n && !v ? nomem() : JOTD_OK;
    for (int i = 0; i < n && r == JOTD_OK; i++) {
        rowr_t rr = {.res = res, .row = i};
        r = row(&rr, v + got * size);
        if (r == JOTD_OK)
            got++;
    }
    PQclear(res);
    if (r != JOTD_OK) {
        for (size_t i = 0; i < got; i++)
            clear(v + i * size);
        free(v);
        v = NULL;
        got = 0;
    }
    *out = v;
    *out_n = got;
    return r;
}

enum tx_end { TX_ROLLBACK = 0, TX_COMMIT, TX_COMMIT_LIGHT };

/* One round trip: BEGIN, the timeouts (PgBouncer-safe: this transaction only), and
 * synchronous_commit raised to on where the server default is off. */
static jotd_rc_t tx_begin(struct pgconn *c)
{
    return q(c,
             "BEGIN; SET LOCAL statement_timeout = '5s'; SET LOCAL lock_timeout = '3s';"
             " SELECT set_config('synchronous_commit', 'on', true)"
             " WHERE current_setting('synchronous_commit') = 'off'",
             NULL, NULL);
}

/* Roll back without touching this thread's error message (it tells what went wrong). */
static void tx_rollback(struct pgconn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return;
    PGresult *res = PQexec(c->pg, "ROLLBACK");
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        c->broken = true;
    PQclear(res);
}

/* End the transaction as \p how says; returns \p r, or the commit's error. */
static jotd_rc_t tx_end(struct pgconn *c, int how, jotd_rc_t r)
{
    if (how == TX_ROLLBACK) {
        tx_rollback(c);
        return r;
    }
    PGresult *res = NULL;
    jotd_rc_t cr =
        q(c, how == TX_COMMIT_LIGHT ? "SET LOCAL synchronous_commit = off; COMMIT" : "COMMIT", NULL,
          &res);
    /* COMMIT of a failed transaction answers ROLLBACK */
    if (cr == JOTD_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        cr = jotd_store__fail(JOTD_E_IO, "postgresql: the transaction was rolled back");
    PQclear(res);
    if (cr != JOTD_OK) {
        tx_rollback(c);
        return cr;
    }
    return r;
}

/* An operation: \p fn runs on one connection, inside a transaction when \p tx. It sets
 * *how (TX_COMMIT, TX_COMMIT_LIGHT or TX_ROLLBACK: the default) and must leave \p ctx ready
 * for another attempt (it may run again after a deadlock or on a fresh connection). */
typedef jotd_rc_t (*op_fn)(struct pgconn *c, void *ctx, int *how);

static jotd_rc_t run_op(jotd_store_t *st, bool tx, op_fn fn, void *ctx)
{
    pg_store_t *s = pgs(st);
    int attempts = 0, stale = 0;
    for (;;) {
        struct pgconn *c = NULL;
        jotd_rc_t r = conn_get(s, &c);
        if (r != JOTD_OK)
            return r;
        c->n_ok = 0;
        c->retry = false;
        int how = TX_ROLLBACK;
        bool begun = false;
        if (tx) {
            r = tx_begin(c);
            begun = r == JOTD_OK;
        }
        if (r == JOTD_OK)
            r = fn(c, ctx, &how);
        if (begun)
            r = tx_end(c, how, r);
        /* the first statement found the pooled connection dead: nothing happened yet */
        bool again_stale = r != JOTD_OK && c->broken && !c->fresh && c->n_ok == 0;
        bool again_retry = r != JOTD_OK && tx && c->retry && !c->broken;
        conn_put(s, c);
        if (again_stale && ++stale < STALE_ATTEMPTS)
            continue;
        if (again_retry && ++attempts < TX_ATTEMPTS)
            continue;
        return r;
    }
}

static int light(const jotd_store_t *st)
{
    return st->durability == JOTD_DURABILITY_NORMAL ? TX_COMMIT_LIGHT : TX_COMMIT;
}

/* ---- open / close / migrations ------------------------------------------------------------ */

static jotd_rc_t q_i64(struct pgconn *c, const char *sql, const params_t *p, bool *out_row,
                       int64_t *out)
{
    PGresult *res = NULL;
    jotd_rc_t r = q(c, sql, p, &res);
    if (r != JOTD_OK)
        return r;
    *out_row = PQntuples(res) > 0;
    if (*out_row) {
        rowr_t rr = {.res = res};
        *out = col_i64(&rr, 0);
        if (rr.bad || col_null(&rr, 0))
            r = jotd_store__fail(JOTD_E_IO, "postgresql: unexpected value in %s", sql);
    }
    PQclear(res);
    return r;
}

/* One migration step (or none) under the migration lock; *out_done when at the target. */
static jotd_rc_t migrate_step(struct pgconn *c, void *ctx, int *how)
{
    bool *done = ctx;
    *done = false;
    bool row = false;
    int64_t have = 0, theirs = 0, v = 0;
    /* migrations may take long on big tables; a second jotd waits for the first */
    jotd_rc_t r = q(c,
                    "SET LOCAL statement_timeout = '300s'; SET LOCAL lock_timeout = '60s';"
                    " SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")",
                    NULL, NULL);
    if (r == JOTD_OK)
        r = q_i64(c,
                  "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname ="
                  " current_schema() AND tablename = 'jotd_schema'",
                  NULL, &row, &have);
    if (r == JOTD_OK && have == 0) {
        r = q_i64(c,
                  "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
                  " AND tablename IN ('users', 'clients', 'sessions', 'refresh_tokens',"
                  " 'denylist', 'events')",
                  NULL, &row, &theirs);
        if (r == JOTD_OK && theirs != 0)
            return jotd_store__fail(JOTD_E_IO,
                                    "not a jotd database: its schema has tables of jotd's names"
                                    " but no jotd_schema table");
        if (r == JOTD_OK)
            r = q(c,
                  "CREATE TABLE jotd_schema (version INTEGER NOT NULL);"
                  " INSERT INTO jotd_schema (version) VALUES (0)",
                  NULL, NULL);
    }
    if (r == JOTD_OK)
        r = q_i64(c, "SELECT version FROM jotd_schema", NULL, &row, &v);
    if (r == JOTD_OK && !row)
        return jotd_store__fail(JOTD_E_IO, "jotd_schema holds no version");
    if (r != JOTD_OK)
        return r;
    if (v > SCHEMA_VERSION)
        return jotd_store__fail(JOTD_E_INVAL,
                                "database schema version %lld is newer than this jotd supports"
                                " (%lld): upgrade jotd",
                                (long long)v, (long long)SCHEMA_VERSION);
    if (v < 0)
        return jotd_store__fail(JOTD_E_IO, "negative schema version");
    if (v == SCHEMA_VERSION) {
        *done = true;
        *how = have == 0 ? TX_COMMIT : TX_ROLLBACK;
        return JOTD_OK;
    }
    r = q(c, migrations[v], NULL, NULL);
    params_t p = {0};
    p_i64(&p, v + 1);
    if (r == JOTD_OK)
        r = q(c, "UPDATE jotd_schema SET version = $1::integer", &p, NULL);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t migrate(jotd_store_t *st)
{
    bool done = false;
    jotd_rc_t r = JOTD_OK;
    for (int64_t i = 0; r == JOTD_OK && !done && i <= SCHEMA_VERSION + 1; i++)
        r = run_op(st, true, migrate_step, &done);
    if (r == JOTD_OK && !done)
        r = jotd_store__fail(JOTD_E_IO, "schema migration did not converge");
    return r;
}

static void pg_close(jotd_store_t *st)
{
    pg_store_t *s = pgs(st);
    if (!s)
        return;
    struct pgconn *c = s->idle;
    while (c) {
        struct pgconn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_mutex_destroy(&s->lock);
    if (s->uri) {
        jot_memzero(s->uri, strlen(s->uri));
        free(s->uri);
    }
    free(s);
}

/* Connection parameters added when the URI leaves them out. All but options act in libpq
 * alone; options travels in the startup packet (see PgBouncer at the top). */
static const char *const conn_defaults[][2] = {
    {"options", "-c statement_timeout=5s -c lock_timeout=3s"}, /* first: see conn_open */
    {"target_session_attrs", "read-write"},                    /* never a standby */
    {"connect_timeout", "5"},                                  /* seconds, per host */
    {"application_name", "jotd"},
    {"client_encoding", "UTF8"},
    /* a peer that vanished (TCP) is found within about 25 s rather than the kernel's hours */
    {"keepalives_idle", "10"},
    {"keepalives_interval", "5"},
    {"keepalives_count", "3"},
};
#define N_CONN_DEFAULTS (sizeof conn_defaults / sizeof conn_defaults[0])

/* Keywords and values for PQconnectdbParams: our defaults for what the URI leaves out, then
 * the URI (dbname, expanded), which wins over anything before it. */
static void build_params(pg_store_t *s, const PQconninfoOption *opts)
{
    int n = 0;
    for (size_t i = 0; i < N_CONN_DEFAULTS; i++) {
        bool given = false;
        for (const PQconninfoOption *o = opts; o && o->keyword; o++)
            if (o->val && strcmp(o->keyword, conn_defaults[i][0]) == 0)
                given = true;
        if (given)
            continue;
        s->kw[n] = conn_defaults[i][0];
        s->val[n++] = conn_defaults[i][1];
    }
    s->kw[n] = "dbname";
    s->val[n++] = s->uri;
    s->kw[n] = NULL;
    s->val[n] = NULL;
    s->our_options = strcmp(s->kw[0], "options") == 0;
}

jotd_rc_t jotd_store_pg_open(const char *uri, jotd_store_t **out)
{
    if (!uri || !out ||
        (strncmp(uri, "postgres://", 11) != 0 && strncmp(uri, "postgresql://", 13) != 0))
        return jotd_store__fail(JOTD_E_INVAL, "not a postgres:// or postgresql:// URI");
    if (!PQisthreadsafe())
        return jotd_store__fail(JOTD_E_IO, "libpq was built without thread safety");
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        /* libpq's message may quote the URI, password included: only a redacted copy */
        PQfreemem(perr);
        char *red = jotd_store_pg_redact(uri);
        jotd_rc_t r = jotd_store__fail(JOTD_E_INVAL, "not a valid PostgreSQL connection URI: %s",
                                       red ? red : "(unprintable)");
        free(red);
        return r;
    }
    pg_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->uri = jotx_strdup_n(uri, strlen(uri))) ||
        pthread_mutex_init(&s->lock, NULL) != 0) {
        if (s)
            free(s->uri);
        free(s);
        PQconninfoFree(opts);
        return nomem();
    }
    s->base.ops = &pg_ops;
    s->base.durability = JOTD_DURABILITY_FULL;
    build_params(s, opts);
    PQconninfoFree(opts);
    jotd_rc_t r = migrate(&s->base);
    if (r != JOTD_OK) {
        pg_close(&s->base);
        return r;
    }
    *out = &s->base;
    return JOTD_OK;
}

/* ---- events ------------------------------------------------------------------------------- */

/* The listener (store_backend.h's listen op): one connection of its own, never pooled,
 * holding LISTEN jotd_events. It waits on the socket with poll() for at most
 * JOTD_STORE_LISTEN_WAIT_MS, so that a stop is seen promptly, then drains the
 * notifications; wake() once per batch. A dead connection (PQconsumeInput fails, or the
 * status turns bad) is closed and reopened after a backoff of 1 s doubling to 10 s; wake()
 * after each (re)connection covers what was notified while it was down. */

/* Sleep \p ms in slices, returning early (true) when *stop is set. */
static bool listen_sleep(atomic_int *stop, int ms)
{
    while (ms > 0 && !atomic_load(stop)) {
        int slice = ms < JOTD_STORE_LISTEN_WAIT_MS ? ms : JOTD_STORE_LISTEN_WAIT_MS;
        struct timespec ts = {slice / 1000, (long)(slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return atomic_load(stop) != 0;
}

/* What the server sends outside a query (its "terminating connection" before it closes
 * the listener's connection): a log line, not libpq's default print on stderr. */
static void listen_notice(void *arg, const char *message)
{
    (void)arg;
    char line[224];
    one_line(message, line, sizeof line);
    jotd_log("info", "events listener: server: %s", line);
}

/* Open the listener's connection and LISTEN; NULL on failure (the reason logged). */
static struct pgconn *listen_connect(pg_store_t *s)
{
    struct pgconn *c = NULL;
    if (conn_open(s, &c) != JOTD_OK) {
        jotd_log("error", "events listener: %s", jotd_store_errmsg(NULL));
        return NULL;
    }
    PQsetNoticeProcessor(c->pg, listen_notice, NULL);
    PGresult *res = PQexec(c->pg, "LISTEN " EVENTS_CHANNEL);
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        char line[224];
        one_line(PQerrorMessage(c->pg), line, sizeof line);
        jotd_log("error", "events listener: LISTEN failed: %s", line);
    }
    PQclear(res);
    if (!ok || PQsetnonblocking(c->pg, 1) != 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}

/* Wait for notifications on \p c until stopped or the connection is lost (false). */
static bool listen_wait(struct pgconn *c, void (*wake)(void *ctx), void *ctx, atomic_int *stop)
{
    while (!atomic_load(stop)) {
        int fd = PQsocket(c->pg);
        if (fd < 0 || PQstatus(c->pg) != CONNECTION_OK)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, JOTD_STORE_LISTEN_WAIT_MS);
        if (n < 0 && errno != EINTR)
            return false;
        if (n <= 0)
            continue;
        if (!PQconsumeInput(c->pg))
            return false;
        bool any = false;
        PGnotify *nf;
        while ((nf = PQnotifies(c->pg)) != NULL) {
            any = true;
            PQfreemem(nf);
        }
        if (any)
            wake(ctx);
    }
    return true;
}

/* The wait before the next attempt: 1 s after a loss, then 2, 4, 8 and 10 s at most. */
static int next_backoff(int ms)
{
    return ms * 2 > LISTEN_BACKOFF_MAX_MS ? LISTEN_BACKOFF_MAX_MS : ms * 2;
}

static void pg_listen(jotd_store_t *st, void (*wake)(void *ctx), void *ctx, atomic_int *stop,
                      atomic_int *connected)
{
    pg_store_t *s = pgs(st);
    int backoff = LISTEN_BACKOFF_MIN_MS;
    bool lost = false;
    while (!atomic_load(stop)) {
        struct pgconn *c = listen_connect(s);
        if (!c) {
            lost = true;
            if (listen_sleep(stop, backoff))
                break;
            backoff = next_backoff(backoff);
            continue;
        }
        if (lost)
            jotd_log("info", "%s", "events listener: reconnected");
        backoff = LISTEN_BACKOFF_MIN_MS;
        atomic_store(connected, 1);
        wake(ctx); /* whatever was notified before LISTEN took effect */
        lost = !listen_wait(c, wake, ctx, stop);
        atomic_store(connected, 0);
        if (lost) {
            char line[224];
            one_line(PQerrorMessage(c->pg), line, sizeof line);
            jotd_log("error", "events listener: connection lost (%s): reconnecting", line);
        }
        conn_close(c);
        if (lost) {
            if (listen_sleep(stop, backoff))
                break;
            backoff = next_backoff(backoff);
        }
    }
}

/* Record an event inside the caller's transaction (takes the events lock). */
static jotd_rc_t event_tx(struct pgconn *c, jotd_event_kind_t kind, const char *subject,
                          int64_t value, int64_t now)
{
    params_t p = {0};
    p_text(&p, jotd_store__event_name(kind));
    p_text(&p, subject);
    p_i64(&p, value);
    p_i64(&p, now);
    return q(c,
             "WITH ins AS (INSERT INTO events (kind, subject, value, created_at)"
             " SELECT $1::text, $2::text, $3::bigint, $4::bigint FROM " EVENT_LOCK_FROM
             " RETURNING id) " EVENT_NOTIFY,
             &p, NULL);
}

static jotd_rc_t generation_event_tx(struct pgconn *c, int64_t user_id, int64_t gen, int64_t now)
{
    char subject[24];
    snprintf(subject, sizeof subject, "%lld", (long long)user_id);
    return event_tx(c, JOTD_EV_USER_GENERATION, subject, gen, now);
}

/* Revoke every session of \p user_id and kill their tokens (sessions first: see the lock
 * order above). *out_sids: the sids newly revoked as a text[] literal for
 * session_events_tx (malloc'd), *out_n their number. */
static jotd_rc_t revoke_rows_tx(struct pgconn *c, const char *client_id, int64_t user_id,
                                int64_t now, char **out_sids, int64_t *out_n);

static jotd_rc_t revoke_user_rows_tx(struct pgconn *c, int64_t user_id, int64_t now,
                                     char **out_sids, int64_t *out_n)
{
    return revoke_rows_tx(c, NULL, user_id, now, out_sids, out_n);
}

/* The same for the sessions issued to \p client_id (a client disabled or deleted). */
static jotd_rc_t revoke_client_rows_tx(struct pgconn *c, const char *client_id, int64_t now,
                                       char **out_sids, int64_t *out_n)
{
    return revoke_rows_tx(c, client_id, 0, now, out_sids, out_n);
}

/* By user (\p client_id NULL) or by client. */
static jotd_rc_t revoke_rows_tx(struct pgconn *c, const char *client_id, int64_t user_id,
                                int64_t now, char **out_sids, int64_t *out_n)
{
    *out_sids = NULL;
    *out_n = 0;
    params_t p = {0};
    if (client_id)
        p_text(&p, client_id);
    else
        p_i64(&p, user_id);
    p_i64(&p, now);
    PGresult *res = NULL;
    /* their status indexes into status_revoked in the same statement */
    jotd_rc_t r =
        q(c,
          client_id ? "WITH u AS (UPDATE sessions SET revoked_at = $2 WHERE client_id = $1"
                      " AND revoked_at IS NULL RETURNING sid, status_idx),"
                      " i AS (INSERT INTO status_revoked (idx, revoked_at)"
                      " SELECT status_idx, $2::bigint FROM u ON CONFLICT (idx) DO NOTHING)"
                      " SELECT sid FROM u"
                    : "WITH u AS (UPDATE sessions SET revoked_at = $2 WHERE user_id = $1"
                      " AND revoked_at IS NULL RETURNING sid, status_idx),"
                      " i AS (INSERT INTO status_revoked (idx, revoked_at)"
                      " SELECT status_idx, $2::bigint FROM u ON CONFLICT (idx) DO NOTHING)"
                      " SELECT sid FROM u",
          &p, &res);
    if (r != JOTD_OK)
        return r;
    int n = PQntuples(res);
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 2 * (size_t)PQgetlength(res, i, 0) + 3;
    char *lit = malloc(cap);
    if (!lit) {
        PQclear(res);
        return nomem();
    }
    size_t len = 0;
    lit[len++] = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            lit[len++] = ',';
        lit[len++] = '"';
        for (const char *t = PQgetvalue(res, i, 0); *t; t++) {
            if (*t == '"' || *t == '\\')
                lit[len++] = '\\';
            lit[len++] = *t;
        }
        lit[len++] = '"';
    }
    lit[len++] = '}';
    lit[len] = '\0';
    PQclear(res);
    r = q(c,
          client_id ? "UPDATE refresh_tokens SET used_at = $2 WHERE used_at IS NULL"
                      " AND sid IN (SELECT sid FROM sessions WHERE client_id = $1)"
                    : "UPDATE refresh_tokens SET used_at = $2 WHERE used_at IS NULL"
                      " AND sid IN (SELECT sid FROM sessions WHERE user_id = $1)",
          &p, NULL);
    if (r != JOTD_OK) {
        free(lit);
        return r;
    }
    *out_sids = lit;
    *out_n = n;
    return JOTD_OK;
}

/* One session_revoked event per sid of \p sids (a text[] literal), in its order. */
static jotd_rc_t session_events_tx(struct pgconn *c, const char *sids, int64_t n, int64_t now)
{
    if (n == 0)
        return JOTD_OK;
    params_t p = {0};
    p_text(&p, sids);
    p_i64(&p, now);
    return q(c,
             "WITH ins AS (INSERT INTO events (kind, subject, value, created_at)"
             " SELECT 'session_revoked', x.sid, $2::bigint, $2::bigint FROM " EVENT_LOCK_FROM
             ", unnest($1::text[]) WITH ORDINALITY AS x(sid, n) ORDER BY x.n"
             " RETURNING id) " EVENT_NOTIFY,
             &p, NULL);
}

static jotd_rc_t revoke_user_tx(struct pgconn *c, int64_t user_id, int64_t now, int64_t *out_n)
{
    char *sids = NULL;
    int64_t n = 0;
    jotd_rc_t r = revoke_user_rows_tx(c, user_id, now, &sids, &n);
    if (r == JOTD_OK)
        r = session_events_tx(c, sids, n, now);
    free(sids);
    if (r == JOTD_OK && out_n)
        *out_n = n;
    return r;
}

/* Mark a session revoked, then kill its unused tokens (idempotent); an event when newly. */
static jotd_rc_t revoke_session_tx(struct pgconn *c, const char *sid, int64_t now)
{
    params_t p = {0};
    p_text(&p, sid);
    p_i64(&p, now);
    int64_t n = 0;
    /* n: the sessions newly revoked (each with its status index recorded) */
    jotd_rc_t r = q_changes(c,
                            "WITH u AS (UPDATE sessions SET revoked_at = $2 WHERE sid = $1"
                            " AND revoked_at IS NULL RETURNING status_idx)"
                            " INSERT INTO status_revoked (idx, revoked_at)"
                            " SELECT status_idx, $2::bigint FROM u ON CONFLICT (idx) DO NOTHING",
                            &p, &n);
    if (r == JOTD_OK)
        r = q(c, "UPDATE refresh_tokens SET used_at = $2 WHERE sid = $1 AND used_at IS NULL", &p,
              NULL);
    if (r == JOTD_OK && n > 0)
        r = event_tx(c, JOTD_EV_SESSION_REVOKED, sid, now, now);
    return r;
}

struct events_ctx {
    int64_t after_id;
    size_t limit;
    void (*cb)(void *ctx, const jotd_event_t *ev);
    void *cb_ctx;
    int64_t last;
};

static jotd_rc_t events_since_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct events_ctx *e = ctx;
    params_t p = {0};
    p_i64(&p, e->after_id);
    p_i64(&p, e->limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)e->limit);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT id, kind, subject, value, created_at FROM events WHERE id > $1"
                    " ORDER BY id LIMIT $2",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    e->last = e->after_id;
    for (int i = 0; i < PQntuples(res); i++) {
        rowr_t rr = {.res = res, .row = i};
        jotd_event_t ev = {
            .id = col_i64(&rr, 0), .value = col_i64(&rr, 3), .created_at = col_i64(&rr, 4)};
        const char *kind = col_text(&rr, 1);
        ev.subject = col_text(&rr, 2);
        if (!kind || !ev.subject || rr.bad) {
            r = corrupt("event");
            break;
        }
        e->last = ev.id;
        if ((ev.kind = jotd_store__event_kind(kind)) != 0) /* else one this build does not know */
            e->cb(e->cb_ctx, &ev);
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_events_since(jotd_store_t *st, int64_t after_id, size_t limit,
                                 void (*cb)(void *ctx, const jotd_event_t *ev), void *ctx,
                                 int64_t *out_last)
{
    struct events_ctx e = {.after_id = after_id, .limit = limit, .cb = cb, .cb_ctx = ctx};
    jotd_rc_t r = run_op(st, false, events_since_fn, &e);
    if (r == JOTD_OK)
        *out_last = e.last;
    return r;
}

/* ---- schema version ----------------------------------------------------------------------- */

static jotd_rc_t schema_version_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    bool row = false;
    jotd_rc_t r = q_i64(c, "SELECT version FROM jotd_schema", NULL, &row, ctx);
    if (r == JOTD_OK && !row)
        r = jotd_store__fail(JOTD_E_IO, "jotd_schema holds no version");
    return r;
}

static jotd_rc_t pg_schema_version(jotd_store_t *st, int64_t *out)
{
    int64_t v = 0;
    jotd_rc_t r = run_op(st, false, schema_version_fn, &v);
    if (r == JOTD_OK)
        *out = v;
    return r;
}

/* ---- users -------------------------------------------------------------------------------- */

struct user_create_ctx {
    const jotd_user_t *u;
    const char *roles, *perms;
    int64_t now, id;
};

static jotd_rc_t user_create_fn(struct pgconn *c, void *ctx, int *how)
{
    struct user_create_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->u->username);
    PGresult *res = NULL;
    /* no name equal up to ASCII case (the unique index enforces it; this names the other) */
    jotd_rc_t r = q(c,
                    "SELECT username FROM users WHERE translate(username,"
                    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = translate($1,"
                    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIMIT 1",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) > 0) {
        r = jotd_store__fail(JOTD_E_EXISTS,
                             "user %s already exists as %s (names differing only in case are"
                             " refused)",
                             x->u->username, PQgetvalue(res, 0, 0));
        PQclear(res);
        return r;
    }
    PQclear(res);
    p_text(&p, x->u->password_hash);
    p_text(&p, x->roles);
    p_text(&p, x->perms);
    p_text(&p, x->u->disabled ? "true" : "false");
    p_i64(&p, x->now);
    bool row = false;
    r = q_i64(c,
              "INSERT INTO users (username, password_hash, roles, permissions, disabled,"
              " created_at, updated_at) VALUES ($1, $2, $3, $4, $5::boolean, $6, $6) RETURNING id",
              &p, &row, &x->id);
    if (r == JOTD_E_EXISTS)
        jotd_store__fail(r, "user %s already exists", x->u->username);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_user_create(jotd_store_t *st, const jotd_user_t *u, int64_t now,
                                int64_t *out_id)
{
    struct user_create_ctx x = {.u = u, .now = now};
    char *roles = NULL, *perms = NULL;
    jotd_rc_t r = jotd_store__list_encode((const char *const *)u->roles, u->n_roles, &roles);
    if (r == JOTD_OK)
        r = jotd_store__list_encode((const char *const *)u->permissions, u->n_permissions, &perms);
    x.roles = roles;
    x.perms = perms;
    if (r == JOTD_OK)
        r = run_op(st, true, user_create_fn, &x);
    if (r == JOTD_OK && out_id)
        *out_id = x.id;
    free(roles);
    free(perms);
    return r;
}

struct user_get_ctx {
    const char *sql;
    params_t p;
    jotd_user_t u;
};

static jotd_rc_t user_get_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct user_get_ctx *x = ctx;
    PGresult *res = NULL;
    jotd_rc_t r = q(c, x->sql, &x->p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no such user");
    } else {
        rowr_t rr = {.res = res};
        r = row_user(&rr, 0, &x->u);
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_user_get(jotd_store_t *st, int64_t id, jotd_user_t *out)
{
    struct user_get_ctx x = {.sql = "SELECT " USER_COLS " FROM users u WHERE u.id = $1"};
    p_i64(&x.p, id);
    jotd_rc_t r = run_op(st, false, user_get_fn, &x);
    if (r == JOTD_OK)
        *out = x.u;
    return r;
}

static jotd_rc_t pg_user_get_by_name(jotd_store_t *st, const char *username, jotd_user_t *out)
{
    struct user_get_ctx x = {.sql = "SELECT " USER_COLS " FROM users u WHERE u.username = $1"};
    p_text(&x.p, username);
    jotd_rc_t r = run_op(st, false, user_get_fn, &x);
    if (r == JOTD_OK)
        *out = x.u;
    return r;
}

struct user_list_ctx {
    int64_t after_id;
    size_t limit;
    jotd_user_t *v;
    size_t n;
};

static jotd_rc_t user_row(rowr_t *rr, void *elem)
{
    return row_user(rr, 0, elem);
}

static void user_clear(void *elem)
{
    jotd_user_clear(elem);
}

static jotd_rc_t user_list_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct user_list_ctx *x = ctx;
    params_t p = {0};
    p_i64(&p, x->after_id);
    p_i64(&p, x->limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)x->limit);
    PGresult *res = NULL;
    jotd_rc_t r =
        q(c, "SELECT " USER_COLS " FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2", &p, &res);
    if (r != JOTD_OK)
        return r;
    void *v = NULL;
    r = read_rows(res, sizeof(jotd_user_t), user_row, user_clear, &v, &x->n);
    x->v = v;
    return r;
}

static jotd_rc_t pg_user_list(jotd_store_t *st, int64_t after_id, size_t limit, jotd_user_t **out,
                              size_t *out_n)
{
    struct user_list_ctx x = {.after_id = after_id, .limit = limit};
    jotd_rc_t r = run_op(st, false, user_list_fn, &x);
    if (r == JOTD_OK) {
        *out = x.v;
        *out_n = x.n;
    }
    return r;
}

struct user_update_ctx {
    int64_t id, now;
    const jotd_user_patch_t *patch;
    const char *roles, *perms;
    bool bump;
};

static jotd_rc_t user_update_fn(struct pgconn *c, void *ctx, int *how)
{
    struct user_update_ctx *x = ctx;
    const jotd_user_patch_t *pa = x->patch;
    params_t p = {0};
    p_i64(&p, x->id);
    p_text(&p, x->roles);
    p_text(&p, x->perms);
    p_text(&p, pa->disabled < 0 ? NULL : pa->disabled ? "true" : "false");
    p_text(&p, pa->password_hash);
    p_i64(&p, x->now);
    p_i64(&p, x->bump ? 1 : 0);
    bool row = false;
    int64_t gen = 0;
    jotd_rc_t r = q_i64(c,
                        "UPDATE users SET roles = coalesce($2, roles),"
                        " permissions = coalesce($3, permissions),"
                        " disabled = coalesce($4::boolean, disabled),"
                        " password_hash = coalesce($5, password_hash), updated_at = $6,"
                        " generation = generation + $7 WHERE id = $1 RETURNING generation",
                        &p, &row, &gen);
    if (r == JOTD_OK && !row)
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such user");
    /* A new password or a disabled account ends every session, in this transaction. */
    if (r == JOTD_OK && (pa->password_hash || pa->disabled == 1))
        r = revoke_user_tx(c, x->id, x->now, NULL);
    if (r == JOTD_OK && x->bump)
        r = generation_event_tx(c, x->id, gen, x->now);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_user_update(jotd_store_t *st, int64_t id, const jotd_user_patch_t *patch,
                                int64_t now)
{
    struct user_update_ctx x = {.id = id, .now = now, .patch = patch};
    x.bump =
        patch->password_hash || patch->disabled == 1 || patch->has_roles || patch->has_permissions;
    char *roles = NULL, *perms = NULL;
    jotd_rc_t r = JOTD_OK;
    if (patch->has_roles)
        r = jotd_store__list_encode(patch->roles, patch->n_roles, &roles);
    if (r == JOTD_OK && patch->has_permissions)
        r = jotd_store__list_encode(patch->permissions, patch->n_permissions, &perms);
    x.roles = roles;
    x.perms = perms;
    if (r == JOTD_OK)
        r = run_op(st, true, user_update_fn, &x);
    free(roles);
    free(perms);
    return r;
}

struct user_delete_ctx {
    int64_t id, now;
};

static jotd_rc_t user_delete_fn(struct pgconn *c, void *ctx, int *how)
{
    struct user_delete_ctx *x = ctx;
    params_t p = {0};
    p_i64(&p, x->id);
    bool row = false;
    int64_t gen = 0;
    jotd_rc_t r = q_i64(c, "SELECT generation FROM users WHERE id = $1 FOR UPDATE", &p, &row, &gen);
    if (r == JOTD_OK && !row)
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such user");
    char *sids = NULL;
    int64_t n = 0;
    if (r == JOTD_OK)
        r = revoke_user_rows_tx(c, x->id, x->now, &sids, &n);
    /* sessions and refresh tokens go with ON DELETE CASCADE */
    if (r == JOTD_OK)
        r = q(c, "DELETE FROM users WHERE id = $1", &p, NULL);
    /* the events last (the events lock is the last lock taken): the sessions', then a
     * generation past every access token the user holds */
    if (r == JOTD_OK)
        r = session_events_tx(c, sids, n, x->now);
    if (r == JOTD_OK)
        r = generation_event_tx(c, x->id, gen + 1, x->now);
    free(sids);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_user_delete(jotd_store_t *st, int64_t id, int64_t now)
{
    struct user_delete_ctx x = {.id = id, .now = now};
    return run_op(st, true, user_delete_fn, &x);
}

struct hash_params_ctx {
    char *out;
    size_t outlen;
};

static jotd_rc_t hash_params_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct hash_params_ctx *x = ctx;
    PGresult *res = NULL;
    /* "$argon2id$v=19$" is 15 characters: the field runs from 16 to the next '$' */
    jotd_rc_t r = q(c,
                    "SELECT f, count(*) AS n FROM (SELECT split_part(substr(password_hash, 16),"
                    " '$', 1) AS f FROM users WHERE substr(password_hash, 1, 15) ="
                    " '$argon2id$v=19$' AND strpos(substr(password_hash, 16), '$') > 1) AS h"
                    " GROUP BY f ORDER BY n DESC, f COLLATE \"C\" LIMIT 1",
                    NULL, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no Argon2id password hash stored");
    } else {
        const char *f = PQgetvalue(res, 0, 0);
        size_t n = strlen(f);
        if (n >= x->outlen)
            r = jotd_store__fail(JOTD_E_INVAL, "user_hash_params: parameter field too long");
        else
            memcpy(x->out, f, n + 1);
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_user_hash_params(jotd_store_t *st, char *out, size_t outlen)
{
    struct hash_params_ctx x = {.out = out, .outlen = outlen};
    return run_op(st, false, hash_params_fn, &x);
}

struct rehash_ctx {
    jotd_store_t *st;
    const char *sql;
    params_t p;
    const char *notfound;
};

/* A conditional UPDATE of one row: JOTD_E_NOTFOUND when it changed none. */
static jotd_rc_t rehash_fn(struct pgconn *c, void *ctx, int *how)
{
    struct rehash_ctx *x = ctx;
    int64_t n = 0;
    jotd_rc_t r = q_changes(c, x->sql, &x->p, &n);
    if (r == JOTD_OK && n == 0)
        r = jotd_store__fail(JOTD_E_NOTFOUND, "%s", x->notfound);
    if (r == JOTD_OK)
        *how = x->st ? light(x->st) : TX_COMMIT;
    return r;
}

static jotd_rc_t pg_user_rehash(jotd_store_t *st, int64_t id, const char *old_hash,
                                const char *new_hash)
{
    /* like a login: losing it to a crash only means rehashing again at the next one */
    struct rehash_ctx x = {
        .st = st,
        .sql = "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        .notfound = "user gone or password changed meanwhile"};
    p_i64(&x.p, id);
    p_text(&x.p, old_hash);
    p_text(&x.p, new_hash);
    return run_op(st, true, rehash_fn, &x);
}

/* ---- clients ------------------------------------------------------------------------------ */

struct client_write_ctx {
    const char *client_id;
    const char *secret_hash;
    const char *jwks, *jwks_url;
    jotd_store__client_lists_t l;
    int64_t now;
    const jotd_client_patch_t *patch; /* an update */
    bool cookie_mode;                 /* a create: */
    bool has_refresh_grace;
    int64_t refresh_grace;
};

static jotd_rc_t client_create_fn(struct pgconn *c, void *ctx, int *how)
{
    struct client_write_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->client_id);
    p_text(&p, x->secret_hash);
    p_text(&p, x->l.scopes);
    p_text(&p, x->l.default_scopes);
    p_text(&p, x->l.introspect);
    p_i64(&p, x->now);
    p_text(&p, x->l.resources ? x->l.resources : "[]");
    p_text(&p, x->jwks);
    p_text(&p, x->jwks_url);
    p_text(&p, x->l.redirect_uris ? x->l.redirect_uris : "[]");
    p_text(&p, x->l.allowed_origins ? x->l.allowed_origins : "[]");
    p_text(&p, x->cookie_mode ? "true" : "false");
    if (x->has_refresh_grace)
        p_i64(&p, x->refresh_grace);
    else
        p_text(&p, NULL);
    jotd_rc_t r = q(c,
                    "INSERT INTO clients (client_id, secret_hash, scopes, default_scopes,"
                    " introspect, created_at, updated_at, resources, status_idx, jwks, jwks_url,"
                    " redirect_uris, allowed_origins, cookie_mode, refresh_grace)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $6, $7, nextval('session_status_idx'),"
                    " $8, $9, $10, $11, $12::boolean, $13::bigint)",
                    &p, NULL);
    if (r == JOTD_E_EXISTS)
        jotd_store__fail(r, "client %s already exists", x->client_id);
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_CLIENT_CHANGED, x->client_id, 0, x->now);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_client_create(jotd_store_t *st, const jotd_client_t *cl, int64_t now)
{
    jotd_client_patch_t p = {
        .scopes = (const char *const *)cl->scopes,
        .n_scopes = cl->n_scopes,
        .has_scopes = true,
        .default_scopes = (const char *const *)cl->default_scopes,
        .n_default_scopes = cl->n_default_scopes,
        .has_default_scopes = true,
        .introspect = (const char *const *)cl->introspect,
        .n_introspect = cl->n_introspect,
        .has_introspect = true,
        .resources = (const char *const *)cl->resources,
        .n_resources = cl->n_resources,
        .has_resources = true,
        .redirect_uris = (const char *const *)cl->redirect_uris,
        .n_redirect_uris = cl->n_redirect_uris,
        .has_redirect_uris = true,
        .allowed_origins = (const char *const *)cl->allowed_origins,
        .n_allowed_origins = cl->n_allowed_origins,
        .has_allowed_origins = true,
    };
    struct client_write_ctx x = {.client_id = cl->client_id,
                                 .secret_hash = cl->secret_hash,
                                 .jwks = cl->jwks,
                                 .jwks_url = cl->jwks_url,
                                 .now = now,
                                 .cookie_mode = cl->cookie_mode,
                                 .has_refresh_grace = cl->has_refresh_grace,
                                 .refresh_grace = cl->refresh_grace};
    jotd_rc_t r = jotd_store__client_lists(&p, &x.l);
    if (r != JOTD_OK)
        return r;
    r = run_op(st, true, client_create_fn, &x);
    jotd_store__client_lists_free(&x.l);
    return r;
}

struct client_get_ctx {
    const char *client_id;
    jotd_client_t c;
};

static jotd_rc_t client_get_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct client_get_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->client_id);
    PGresult *res = NULL;
    jotd_rc_t r = q(c, "SELECT " CLIENT_COLS " FROM clients WHERE client_id = $1", &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no such client");
    } else {
        rowr_t rr = {.res = res};
        r = row_client(&rr, &x->c);
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_client_get(jotd_store_t *st, const char *client_id, jotd_client_t *out)
{
    struct client_get_ctx x = {.client_id = client_id};
    jotd_rc_t r = run_op(st, false, client_get_fn, &x);
    if (r == JOTD_OK)
        *out = x.c;
    return r;
}

static jotd_rc_t client_update_fn(struct pgconn *c, void *ctx, int *how)
{
    struct client_write_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->client_id);
    PGresult *res = NULL;
    jotd_rc_t r =
        q(c, "SELECT " CLIENT_COLS " FROM clients WHERE client_id = $1 FOR UPDATE", &p, &res);
    if (r != JOTD_OK)
        return r;
    jotd_client_t cur = {0};
    if (PQntuples(res) == 0) {
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no such client");
    } else {
        rowr_t rr = {.res = res};
        r = row_client(&rr, &cur);
    }
    PQclear(res);
    if (r == JOTD_OK && x->secret_hash && !cur.secret_hash)
        r = jotd_store__fail(JOTD_E_INVAL, "a public client has no secret");
    if (r == JOTD_OK && jotd_store__client_patch_refused(&cur, x->patch))
        r = jotd_store__fail(JOTD_E_INVAL,
                             "cookie mode needs a public client with an allowed origin");
    jotd_client_clear(&cur);
    if (r != JOTD_OK)
        return r;
    p_text(&p, x->secret_hash);
    p_text(&p, x->l.scopes);
    p_text(&p, x->l.default_scopes);
    p_text(&p, x->l.introspect);
    p_i64(&p, x->now);
    p_text(&p, x->l.resources);
    p_text(&p, x->jwks);
    p_text(&p, x->jwks_url);
    p_text(&p, x->l.redirect_uris);
    p_text(&p, x->l.allowed_origins);
    p_text(&p, !x->patch->has_cookie_mode ? NULL : x->patch->cookie_mode ? "true" : "false");
    if (x->patch->has_refresh_grace)
        p_i64(&p, x->patch->refresh_grace);
    else
        p_text(&p, NULL);
    int64_t n = 0;
    r = q_changes(c,
                  "UPDATE clients SET secret_hash = coalesce($2, secret_hash),"
                  " scopes = coalesce($3, scopes), default_scopes = coalesce($4, default_scopes),"
                  " introspect = coalesce($5, introspect), updated_at = $6,"
                  " resources = coalesce($7, resources),"
                  " jwks = CASE WHEN $8::text IS NULL THEN jwks ELSE nullif($8, '') END,"
                  " jwks_url = CASE WHEN $9::text IS NULL THEN jwks_url ELSE nullif($9, '') END,"
                  " redirect_uris = coalesce($10, redirect_uris),"
                  " allowed_origins = coalesce($11, allowed_origins),"
                  " cookie_mode = coalesce($12::boolean, cookie_mode),"
                  " refresh_grace = CASE WHEN $13::bigint IS NULL THEN refresh_grace"
                  "  ELSE nullif($13::bigint, -1) END"
                  " WHERE client_id = $1",
                  &p, &n);
    if (r == JOTD_OK && n == 0)
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no such client (or it changed meanwhile)");
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_CLIENT_CHANGED, x->client_id, 0, x->now);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_client_update(jotd_store_t *st, const char *client_id,
                                  const jotd_client_patch_t *p, int64_t now)
{
    struct client_write_ctx x = {.client_id = client_id,
                                 .secret_hash = p->secret_hash,
                                 .jwks = p->jwks,
                                 .jwks_url = p->jwks_url,
                                 .now = now,
                                 .patch = p};
    jotd_rc_t r = jotd_store__client_lists(p, &x.l);
    if (r != JOTD_OK)
        return r;
    r = run_op(st, true, client_update_fn, &x);
    jotd_store__client_lists_free(&x.l);
    return r;
}

struct client_state_ctx {
    const char *client_id;
    jotd_client_op_t op;
    int64_t now;
};

static jotd_rc_t client_state_fn(struct pgconn *c, void *ctx, int *how)
{
    struct client_state_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->client_id);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT disabled::int, generation, status_idx FROM clients"
                    " WHERE client_id = $1 FOR UPDATE",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    bool found = PQntuples(res) > 0;
    rowr_t rr = {.res = res};
    bool disabled = found && col_i64(&rr, 0) != 0;
    int64_t gen = found ? col_i64(&rr, 1) : 0;
    int64_t idx = found ? col_i64(&rr, 2) : -1;
    PQclear(res);
    if (!found)
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such client");
    if (rr.bad)
        return corrupt("client state");
    bool changed = false;
    p_i64(&p, x->now);
    if (x->op != JOTD_CLIENT_ENABLE && !disabled) {
        /* the client row is locked first, then its sessions (as a user row, then its
         * sessions: the lock order above), then its own status bit */
        char *sids = NULL;
        int64_t n = 0;
        r = revoke_client_rows_tx(c, x->client_id, x->now, &sids, &n);
        if (r == JOTD_OK)
            r = session_events_tx(c, sids, n, x->now);
        free(sids);
        params_t pi = {0};
        p_i64(&pi, idx);
        p_i64(&pi, x->now);
        if (r == JOTD_OK)
            r = q(c,
                  "INSERT INTO status_revoked (idx, revoked_at) VALUES ($1, $2)"
                  " ON CONFLICT (idx) DO NOTHING",
                  &pi, NULL);
        if (r == JOTD_OK)
            r = q(c,
                  "UPDATE clients SET disabled = true, generation = generation + 1,"
                  " updated_at = $2 WHERE client_id = $1",
                  &p, NULL);
        if (r == JOTD_OK)
            r = event_tx(c, JOTD_EV_CLIENT_GENERATION, x->client_id, gen, x->now);
        changed = true;
    }
    if (r == JOTD_OK && x->op == JOTD_CLIENT_ENABLE && disabled) {
        r = q(c,
              "UPDATE clients SET disabled = false, status_idx = nextval('session_status_idx'),"
              " updated_at = $2 WHERE client_id = $1",
              &p, NULL);
        changed = true;
    }
    if (r == JOTD_OK && x->op == JOTD_CLIENT_DELETE) {
        params_t pd = {0};
        p_text(&pd, x->client_id);
        r = q(c, "DELETE FROM clients WHERE client_id = $1", &pd, NULL);
        changed = true;
    }
    if (r == JOTD_OK && changed)
        r = event_tx(c, JOTD_EV_CLIENT_CHANGED, x->client_id, 0, x->now);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_client_set_state(jotd_store_t *st, const char *client_id, jotd_client_op_t op,
                                     int64_t now)
{
    struct client_state_ctx x = {.client_id = client_id, .op = op, .now = now};
    return run_op(st, true, client_state_fn, &x);
}

struct assertion_ctx {
    const char *client_id, *jti;
    int64_t exp;
};

static jotd_rc_t assertion_use_fn(struct pgconn *c, void *ctx, int *how)
{
    struct assertion_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->client_id);
    p_text(&p, x->jti);
    p_i64(&p, x->exp);
    jotd_rc_t r =
        q(c, "INSERT INTO assertion_jtis (client_id, jti, exp) VALUES ($1, $2, $3)", &p, NULL);
    if (r == JOTD_E_EXISTS)
        jotd_store__fail(r, "client assertion replayed");
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

struct code_ctx {
    const uint8_t *hash;
    const jotd_auth_code_t *in;
    int64_t now;
    jotd_auth_code_t out;
};

static jotd_rc_t code_create_fn(struct pgconn *c, void *ctx, int *how)
{
    struct code_ctx *x = ctx;
    params_t p = {0};
    p_hash(&p, x->hash);
    p_text(&p, x->in->client_id);
    p_text(&p, x->in->redirect_uri);
    p_text(&p, x->in->code_challenge);
    p_text(&p, x->in->scope);
    p_i64(&p, x->in->user_id);
    p_text(&p, x->in->sid);
    p_i64(&p, x->in->expires_at);
    jotd_rc_t r = q(c,
                    "INSERT INTO auth_codes (code_hash, client_id, redirect_uri, code_challenge,"
                    " scope, user_id, sid, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &p, NULL);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_code_create(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN],
                                const jotd_auth_code_t *code)
{
    struct code_ctx x = {.hash = hash, .in = code};
    return run_op(st, true, code_create_fn, &x);
}

static jotd_rc_t code_redeem_fn(struct pgconn *c, void *ctx, int *how)
{
    struct code_ctx *x = ctx;
    jotd_auth_code_clear(&x->out); /* a retried transaction starts over */
    params_t p = {0};
    p_hash(&p, x->hash);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT client_id, redirect_uri, code_challenge, scope, user_id, sid,"
                    " expires_at, (used_at IS NOT NULL)::int FROM auth_codes"
                    " WHERE code_hash = $1 FOR UPDATE",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such code");
    }
    rowr_t rr = {.res = res};
    jotd_auth_code_t *o = &x->out;
    char *sid = NULL;
    o->user_id = col_i64(&rr, 4);
    o->expires_at = col_i64(&rr, 6);
    o->used = col_i64(&rr, 7) != 0;
    r = col_dup(&rr, 0, &o->client_id);
    if (r == JOTD_OK)
        r = col_dup(&rr, 1, &o->redirect_uri);
    if (r == JOTD_OK)
        r = col_dup(&rr, 2, &o->code_challenge);
    if (r == JOTD_OK)
        r = col_dup(&rr, 3, &o->scope);
    if (r == JOTD_OK)
        r = col_dup(&rr, 5, &sid);
    if (r == JOTD_OK && (rr.bad || !o->client_id || !o->redirect_uri || !o->code_challenge ||
                         !o->scope || !sid || strlen(sid) != JOTD_SID_LEN))
        r = corrupt("auth_codes");
    if (r == JOTD_OK && sid) /* (sid is non-NULL here: checked just above) */
        memcpy(o->sid, sid, JOTD_SID_LEN + 1);
    free(sid);
    PQclear(res);
    if (r == JOTD_OK) {
        params_t u = {0};
        p_hash(&u, x->hash);
        p_i64(&u, x->now);
        r = q(c,
              o->used ? "UPDATE auth_codes SET replayed_at = COALESCE(replayed_at, $2)"
                        " WHERE code_hash = $1"
                      : "UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1",
              &u, NULL);
    }
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

struct replayed_ctx {
    const uint8_t *hash;
    bool *out;
};

static jotd_rc_t code_replayed_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct replayed_ctx *x = ctx;
    params_t p = {0};
    p_hash(&p, x->hash);
    bool row = false;
    int64_t v = 0;
    jotd_rc_t r = q_i64(c,
                        "SELECT (replayed_at IS NOT NULL)::int::bigint FROM auth_codes"
                        " WHERE code_hash = $1",
                        &p, &row, &v);
    if (r == JOTD_OK)
        *x->out = row && v != 0;
    return r;
}

static jotd_rc_t pg_code_replayed(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], bool *out)
{
    struct replayed_ctx x = {hash, out};
    return run_op(st, false, code_replayed_fn, &x);
}

static jotd_rc_t pg_code_redeem(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                                jotd_auth_code_t *out)
{
    struct code_ctx x = {.hash = hash, .now = now};
    jotd_rc_t r = run_op(st, true, code_redeem_fn, &x);
    if (r != JOTD_OK) {
        jotd_auth_code_clear(&x.out);
        return r;
    }
    *out = x.out;
    return JOTD_OK;
}

struct session_list_ctx {
    int64_t user_id;
    jotd_session_t *v;
    size_t n;
};

static jotd_rc_t session_list_row(rowr_t *rr, void *elem)
{
    jotd_session_t *se = elem;
    jotd_rc_t r = row_session(rr, 0, se);
    if (r == JOTD_OK) {
        se->last_used_at = col_i64(rr, N_SESSION_COLS + 1);
        r = col_dup(rr, N_SESSION_COLS, &se->ip);
        if (r == JOTD_OK && rr->bad)
            r = corrupt("session");
        if (r != JOTD_OK)
            jotd_session_clear(se);
    }
    return r;
}

static void session_list_clear(void *elem)
{
    jotd_session_clear(elem);
}

static jotd_rc_t session_list_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct session_list_ctx *x = ctx;
    params_t p = {0};
    p_i64(&p, x->user_id);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT " SESSION_COLS ", s.ip, s.last_used_at FROM sessions s"
                    " WHERE s.user_id = $1 ORDER BY s.created_at DESC, s.sid LIMIT 1000",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    void *v = NULL;
    r = read_rows(res, sizeof(jotd_session_t), session_list_row, session_list_clear, &v, &x->n);
    x->v = v;
    return r;
}

static jotd_rc_t pg_session_list(jotd_store_t *st, int64_t user_id, jotd_session_t **out,
                                 size_t *out_n)
{
    struct session_list_ctx x = {.user_id = user_id};
    jotd_rc_t r = run_op(st, false, session_list_fn, &x);
    if (r == JOTD_OK) {
        *out = x.v;
        *out_n = x.n;
    }
    return r;
}

static jotd_rc_t pg_assertion_use(jotd_store_t *st, const char *client_id, const char *jti,
                                  int64_t exp)
{
    struct assertion_ctx x = {.client_id = client_id, .jti = jti, .exp = exp};
    return run_op(st, true, assertion_use_fn, &x);
}

static jotd_rc_t pg_client_rehash(jotd_store_t *st, const char *client_id, const char *old_hash,
                                  const char *new_hash)
{
    struct rehash_ctx x = {
        .sql = "UPDATE clients SET secret_hash = $3 WHERE client_id = $1 AND secret_hash = $2",
        .notfound = "no such client (or it changed meanwhile)"};
    p_text(&x.p, client_id);
    p_text(&x.p, old_hash);
    p_text(&x.p, new_hash);
    return run_op(st, true, rehash_fn, &x);
}

struct client_list_ctx {
    jotd_client_t *v;
    size_t n;
};

static jotd_rc_t client_row(rowr_t *rr, void *elem)
{
    return row_client(rr, elem);
}

static void client_clear(void *elem)
{
    jotd_client_clear(elem);
}

static jotd_rc_t client_list_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct client_list_ctx *x = ctx;
    PGresult *res = NULL;
    jotd_rc_t r =
        q(c, "SELECT " CLIENT_COLS " FROM clients ORDER BY client_id COLLATE \"C\"", NULL, &res);
    if (r != JOTD_OK)
        return r;
    void *v = NULL;
    r = read_rows(res, sizeof(jotd_client_t), client_row, client_clear, &v, &x->n);
    x->v = v;
    return r;
}

static jotd_rc_t pg_client_list(jotd_store_t *st, jotd_client_t **out, size_t *out_n)
{
    struct client_list_ctx x = {0};
    jotd_rc_t r = run_op(st, false, client_list_fn, &x);
    if (r == JOTD_OK) {
        *out = x.v;
        *out_n = x.n;
    }
    return r;
}

/* ---- sessions and refresh tokens ---------------------------------------------------------- */

/* min(now + idle_ttl, session_end) without overflow; the caller has checked now < end. */
static int64_t idle_expiry(int64_t now, int64_t idle_ttl, int64_t session_end)
{
    return idle_ttl >= session_end - now ? session_end : now + idle_ttl;
}

struct session_create_ctx {
    jotd_store_t *st;
    const jotd_session_t *se;
    const uint8_t *rt_hash;
    int64_t idle_ttl, now;
    int64_t idx; /* the status index allocated */
};

static jotd_rc_t session_create_fn(struct pgconn *c, void *ctx, int *how)
{
    struct session_create_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->se->sid);
    p_i64(&p, x->se->user_id);
    p_text(&p, x->se->client_id);
    p_text(&p, x->se->scope);
    p_i64(&p, x->now);
    p_i64(&p, x->se->expires_at);
    p_text(&p, x->se->ip);
    bool row = false;
    jotd_rc_t r = q_i64(c,
                        "INSERT INTO sessions (sid, user_id, client_id, scope, created_at,"
                        " expires_at, last_used_at, status_idx, ip) VALUES ($1, $2, $3, $4, $5,"
                        " $6, $5, nextval('session_status_idx'), $7) RETURNING status_idx",
                        &p, &row, &x->idx);
    if (r == JOTD_OK && !row)
        r = jotd_store__fail(JOTD_E_IO, "session_create: no status index returned");
    if (r == JOTD_E_EXISTS)
        jotd_store__fail(r, "session id already exists");
    else if (r == JOTD_E_NOTFOUND)
        jotd_store__fail(r, "session_create: no such user");
    if (r != JOTD_OK)
        return r;
    params_t t = {0};
    p_hash(&t, x->rt_hash);
    p_text(&t, x->se->sid);
    p_i64(&t, x->now);
    p_i64(&t, idle_expiry(x->now, x->idle_ttl, x->se->expires_at));
    r = q(c,
          "INSERT INTO refresh_tokens (hash, sid, created_at, expires_at) VALUES ($1, $2, $3, $4)",
          &t, NULL);
    if (r == JOTD_E_EXISTS)
        jotd_store__fail(r, "refresh token hash already stored");
    if (r == JOTD_OK)
        *how = light(x->st); /* a login: see Durability at the top */
    return r;
}

static jotd_rc_t pg_session_create(jotd_store_t *st, const jotd_session_t *s,
                                   const uint8_t rt_hash[JOTD_HASH_LEN], int64_t idle_ttl,
                                   int64_t now, int64_t *out_idx)
{
    struct session_create_ctx x = {
        .st = st, .se = s, .rt_hash = rt_hash, .idle_ttl = idle_ttl, .now = now, .idx = -1};
    jotd_rc_t r = run_op(st, true, session_create_fn, &x);
    if (r == JOTD_OK)
        *out_idx = x.idx;
    return r;
}

struct rotate_ctx {
    jotd_store_t *st;
    const uint8_t *old_hash, *new_hash;
    const char *client_id;
    int64_t now, idle_ttl, grace_seconds;
    jotd_rotation_t tmp;
};

static jotd_rc_t rotate_fn(struct pgconn *c, void *ctx, int *how)
{
    struct rotate_ctx *x = ctx;
    jotd_rotation_clear(&x->tmp); /* a previous attempt's */
    params_t p = {0};
    p_hash(&p, x->old_hash);
    PGresult *res = NULL;
    /* 1. lock the token's session: rotations of one family queue here */
    jotd_rc_t r = q(c,
                    "SELECT sid FROM sessions WHERE sid ="
                    " (SELECT sid FROM refresh_tokens WHERE hash = $1) FOR NO KEY UPDATE",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return jotd_store__fail(JOTD_E_NOTFOUND, "refresh token not found");
    /* 2. read everything with a snapshot taken after the lock */
    p_i64(&p, x->now);
    r = q(c,
          "SELECT t.expires_at, t.used_at, encode(t.successor, 'hex'),"
          " (n.hash IS NOT NULL AND n.used_at IS NULL AND $2 < n.expires_at), " SESSION_COLS
          ", " USER_COLS " FROM refresh_tokens t JOIN sessions s ON s.sid = t.sid"
          " LEFT JOIN users u ON u.id = s.user_id"
          " LEFT JOIN refresh_tokens n ON n.hash = t.successor WHERE t.hash = $1",
          &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return jotd_store__fail(JOTD_E_NOTFOUND, "refresh token not found");
    }
    const int user_col = 4 + N_SESSION_COLS;
    rowr_t rr = {.res = res};
    jotd_rotation_row_t row = {0};
    row.token_expires_at = col_i64(&rr, 0);
    row.used = !col_null(&rr, 1);
    row.used_at = col_i64(&rr, 1);
    row.has_successor = col_hash(&rr, 2, row.successor);
    row.successor_live = col_bool(&rr, 3);
    row.user_present = !col_null(&rr, user_col);
    r = row_session(&rr, 4, &x->tmp.session);
    if (r == JOTD_OK && row.user_present)
        r = row_user(&rr, user_col, &x->tmp.user);
    if (r == JOTD_OK && rr.bad)
        r = corrupt("refresh token");
    PQclear(res);
    if (r != JOTD_OK)
        return r;

    jotd_rotation_action_t act = jotd_rotation_decide(
        &row, &x->tmp.session, &x->tmp.user, x->client_id, x->new_hash, x->now, x->grace_seconds);
    if (act == JOTD_ROTATE_GRACE)
        x->tmp.grace = true; /* nothing changes: rolled back */
    if (act == JOTD_ROTATE_LIVE) {
        /* mark used (conditional: only an unused token), store the successor, touch the
         * session: one statement */
        params_t m = {0};
        p_hash(&m, x->old_hash);
        p_i64(&m, x->now);
        p_hash(&m, x->new_hash);
        p_i64(&m, idle_expiry(x->now, x->idle_ttl, x->tmp.session.expires_at));
        bool got = false;
        int64_t n = 0;
        r = q_i64(c,
                  "WITH m AS (UPDATE refresh_tokens SET used_at = $2, successor = $3"
                  " WHERE hash = $1 AND used_at IS NULL RETURNING sid),"
                  " i AS (INSERT INTO refresh_tokens (hash, sid, created_at, expires_at)"
                  " SELECT $3, sid, $2, $4 FROM m RETURNING sid),"
                  " s AS (UPDATE sessions SET last_used_at = $2 WHERE sid IN (SELECT sid FROM i)"
                  " RETURNING sid) SELECT count(*) FROM s",
                  &m, &got, &n);
        if (r == JOTD_E_EXISTS)
            jotd_store__fail(r, "refresh token hash already stored");
        if (r == JOTD_OK && n != 1)
            r = jotd_store__fail(JOTD_E_BUSY, "refresh token rotated concurrently");
        if (r == JOTD_OK)
            *how = light(x->st);
        return r;
    }
    if (act == JOTD_ROTATE_REUSE) {
        /* a rotated token came back: theft is assumed, the whole family dies, durably */
        r = q(c,
              "SELECT set_config('synchronous_commit', 'on', true)"
              " WHERE current_setting('synchronous_commit') = 'off'",
              NULL, NULL);
        if (r == JOTD_OK)
            r = revoke_session_tx(c, x->tmp.session.sid, x->now);
        if (r != JOTD_OK)
            return r;
        *how = TX_COMMIT;
    }
    return jotd_rotation_rc(act, &x->tmp.session);
}

static jotd_rc_t pg_refresh_rotate(jotd_store_t *st, const uint8_t old_hash[JOTD_HASH_LEN],
                                   const uint8_t new_hash[JOTD_HASH_LEN], const char *client_id,
                                   int64_t now, int64_t idle_ttl, int64_t grace_seconds,
                                   jotd_rotation_t *out)
{
    struct rotate_ctx x = {.st = st,
                           .old_hash = old_hash,
                           .new_hash = new_hash,
                           .client_id = client_id,
                           .now = now,
                           .idle_ttl = idle_ttl,
                           .grace_seconds = grace_seconds};
    jotd_rc_t r = run_op(st, true, rotate_fn, &x);
    if (r != JOTD_OK) {
        jotd_rotation_clear(&x.tmp);
        return r;
    }
    *out = x.tmp;
    return JOTD_OK;
}

struct lookup_ctx {
    const uint8_t *hash;
    const char *sid;
    int64_t now;
    jotd_session_t se;
    bool live;
};

/* The user columns after SESSION_COLS: u.id, u.disabled. */
static bool user_active(rowr_t *rr, int col)
{
    return !col_null(rr, col) && !col_bool(rr, col + 1);
}

static jotd_rc_t lookup_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct lookup_ctx *x = ctx;
    params_t p = {0};
    p_hash(&p, x->hash);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT t.expires_at, t.used_at, " SESSION_COLS ", u.id, u.disabled"
                    " FROM refresh_tokens t JOIN sessions s ON s.sid = t.sid"
                    " LEFT JOIN users u ON u.id = s.user_id WHERE t.hash = $1",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return jotd_store__fail(JOTD_E_NOTFOUND, "refresh token not found");
    }
    rowr_t rr = {.res = res};
    int64_t token_exp = col_i64(&rr, 0);
    bool unused = col_null(&rr, 1);
    bool user_ok = user_active(&rr, 2 + N_SESSION_COLS);
    r = row_session(&rr, 2, &x->se);
    PQclear(res);
    if (r == JOTD_OK)
        x->live =
            unused && x->now < token_exp && !x->se.revoked && x->now < x->se.expires_at && user_ok;
    return r;
}

static jotd_rc_t pg_refresh_lookup(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                                   jotd_session_t *out, bool *out_live)
{
    struct lookup_ctx x = {.hash = hash, .now = now};
    jotd_rc_t r = run_op(st, false, lookup_fn, &x);
    if (r == JOTD_OK) {
        *out = x.se;
        *out_live = x.live;
    }
    return r;
}

static jotd_rc_t session_get_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct lookup_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->sid);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT " SESSION_COLS ", u.id, u.disabled FROM sessions s"
                    " LEFT JOIN users u ON u.id = s.user_id WHERE s.sid = $1",
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such session");
    }
    rowr_t rr = {.res = res};
    bool user_ok = user_active(&rr, N_SESSION_COLS);
    r = row_session(&rr, 0, &x->se);
    PQclear(res);
    if (r == JOTD_OK)
        x->live = !x->se.revoked && x->now < x->se.expires_at && user_ok;
    return r;
}

static jotd_rc_t pg_session_get(jotd_store_t *st, const char *sid, int64_t now, jotd_session_t *out,
                                bool *out_active)
{
    struct lookup_ctx x = {.sid = sid, .now = now};
    jotd_rc_t r = run_op(st, false, session_get_fn, &x);
    if (r == JOTD_OK) {
        *out = x.se;
        *out_active = x.live;
    }
    return r;
}

struct revoke_ctx {
    const char *sid;
    int64_t user_id, now, n;
};

static jotd_rc_t session_revoke_fn(struct pgconn *c, void *ctx, int *how)
{
    struct revoke_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->sid);
    PGresult *res = NULL;
    jotd_rc_t r = q(c, "SELECT 1 FROM sessions WHERE sid = $1", &p, &res);
    if (r != JOTD_OK)
        return r;
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found)
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such session");
    r = revoke_session_tx(c, x->sid, x->now);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_session_revoke(jotd_store_t *st, const char *sid, int64_t now)
{
    struct revoke_ctx x = {.sid = sid, .now = now};
    return run_op(st, true, session_revoke_fn, &x);
}

static jotd_rc_t revoke_user_fn(struct pgconn *c, void *ctx, int *how)
{
    struct revoke_ctx *x = ctx;
    params_t p = {0};
    p_i64(&p, x->user_id);
    bool row = false;
    int64_t one = 0;
    x->n = 0;
    jotd_rc_t r = q_i64(c, "SELECT 1 FROM users WHERE id = $1", &p, &row, &one);
    if (r == JOTD_OK && !row)
        return jotd_store__fail(JOTD_E_NOTFOUND, "no such user");
    if (r == JOTD_OK)
        r = revoke_user_tx(c, x->user_id, x->now, &x->n);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_sessions_revoke_user(jotd_store_t *st, int64_t user_id, int64_t now,
                                         size_t *out_n)
{
    struct revoke_ctx x = {.user_id = user_id, .now = now};
    jotd_rc_t r = run_op(st, true, revoke_user_fn, &x);
    if (r == JOTD_OK && out_n)
        *out_n = x.n > 0 ? (size_t)x.n : 0;
    return r;
}

/* ---- signing keys and secrets ------------------------------------------------------------- */

struct key_list_ctx {
    jotd_key_row_t *v;
    size_t n;
};

static jotd_rc_t row_key(rowr_t *rr, jotd_key_row_t *k)
{
    memset(k, 0, sizeof *k);
    k->created_at = col_i64(rr, 4);
    k->activate_at = col_i64(rr, 5);
    k->revoked_at = col_i64(rr, 6); /* NULL reads as 0 */
    jotd_rc_t r = col_dup(rr, 0, &k->kid);
    if (r == JOTD_OK)
        r = col_dup(rr, 1, &k->alg);
    if (r == JOTD_OK)
        r = col_dup(rr, 2, &k->public_jwk);
    if (r == JOTD_OK)
        r = col_dup(rr, 3, &k->private_sealed);
    if (r == JOTD_OK && (rr->bad || !k->kid || !k->alg || !k->public_jwk || !k->private_sealed))
        r = corrupt("signing_keys");
    if (r != JOTD_OK)
        jotd_key_row_clear(k);
    return r;
}

static jotd_rc_t key_row(rowr_t *rr, void *elem)
{
    return row_key(rr, elem);
}

static void key_clear(void *elem)
{
    jotd_key_row_clear(elem);
}

static jotd_rc_t key_list_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct key_list_ctx *x = ctx;
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "SELECT kid, alg, public_jwk, private_sealed, created_at, activate_at,"
                    " revoked_at FROM signing_keys"
                    " ORDER BY activate_at, created_at, kid COLLATE \"C\"",
                    NULL, &res);
    if (r != JOTD_OK)
        return r;
    void *v = NULL;
    r = read_rows(res, sizeof(jotd_key_row_t), key_row, key_clear, &v, &x->n);
    x->v = v;
    return r;
}

static jotd_rc_t pg_key_list(jotd_store_t *st, jotd_key_row_t **out, size_t *out_n)
{
    struct key_list_ctx x = {0};
    jotd_rc_t r = run_op(st, false, key_list_fn, &x);
    if (r == JOTD_OK) {
        *out = x.v;
        *out_n = x.n;
    }
    return r;
}

/* Key writes one at a time: two first starts make one first key, two rotations see each
 * other. Readers are not blocked (SHARE ROW EXCLUSIVE conflicts with writers only). */
static jotd_rc_t key_lock(struct pgconn *c)
{
    return q(c, "LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE", NULL, NULL);
}

static jotd_rc_t key_insert(struct pgconn *c, const jotd_key_row_t *k)
{
    params_t p = {0};
    p_text(&p, k->kid);
    p_text(&p, k->alg);
    p_text(&p, k->public_jwk);
    p_text(&p, k->private_sealed);
    p_i64(&p, k->created_at);
    p_i64(&p, k->activate_at);
    jotd_rc_t r = q(c,
                    "INSERT INTO signing_keys (kid, alg, public_jwk, private_sealed, created_at,"
                    " activate_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    &p, NULL);
    if (r == JOTD_E_EXISTS)
        jotd_store__fail(r, "signing key %s exists", k->kid);
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_KEY_CHANGED, k->kid, k->created_at, k->created_at);
    return r;
}

struct key_write_ctx {
    const jotd_key_row_t *k; /* to insert (NULL: none) */
    bool only_if_none;
    const char *kid; /* to revoke */
    int64_t now;
};

static jotd_rc_t key_add_fn(struct pgconn *c, void *ctx, int *how)
{
    struct key_write_ctx *x = ctx;
    jotd_rc_t r = key_lock(c);
    if (r == JOTD_OK && x->only_if_none) {
        PGresult *res = NULL;
        r = q(c, "SELECT 1 FROM signing_keys WHERE revoked_at IS NULL LIMIT 1", NULL, &res);
        if (r == JOTD_OK && PQntuples(res) > 0)
            r = jotd_store__fail(JOTD_E_EXISTS, "the store has a signing key already");
        PQclear(res);
    }
    if (r == JOTD_OK)
        r = key_insert(c, x->k);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_key_add(jotd_store_t *st, const jotd_key_row_t *k, bool only_if_none)
{
    struct key_write_ctx x = {.k = k, .only_if_none = only_if_none};
    return run_op(st, true, key_add_fn, &x);
}

static jotd_rc_t key_revoke_fn(struct pgconn *c, void *ctx, int *how)
{
    struct key_write_ctx *x = ctx;
    jotd_rc_t r = key_lock(c);
    int64_t n = 0;
    if (r == JOTD_OK) {
        params_t p = {0};
        p_text(&p, x->kid);
        p_i64(&p, x->now);
        r = q_changes(c,
                      "UPDATE signing_keys SET revoked_at = coalesce(revoked_at, $2)"
                      " WHERE kid = $1",
                      &p, &n);
    }
    if (r == JOTD_OK && n == 0)
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no signing key %s", x->kid);
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_KEY_CHANGED, x->kid, x->now, x->now);
    if (r == JOTD_OK && x->k)
        r = key_insert(c, x->k);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_key_revoke(jotd_store_t *st, const char *kid, int64_t now,
                               const jotd_key_row_t *replacement)
{
    struct key_write_ctx x = {.k = replacement, .kid = kid, .now = now};
    return run_op(st, true, key_revoke_fn, &x);
}

struct secret_ctx {
    const char *name, *sealed;
    int64_t now;
    char *out;
};

static jotd_rc_t secret_get_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct secret_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->name);
    PGresult *res = NULL;
    jotd_rc_t r = q(c, "SELECT sealed FROM secrets WHERE name = $1", &p, &res);
    if (r == JOTD_OK && PQntuples(res) == 0)
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no secret %s", x->name);
    if (r == JOTD_OK) {
        rowr_t rr = {.res = res, .row = 0};
        r = col_dup(&rr, 0, &x->out);
        if (r == JOTD_OK && !x->out)
            r = corrupt("secrets");
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_secret_get(jotd_store_t *st, const char *name, char **out)
{
    struct secret_ctx x = {.name = name};
    jotd_rc_t r = run_op(st, false, secret_get_fn, &x);
    if (r == JOTD_OK)
        *out = x.out;
    else
        free(x.out);
    return r;
}

static jotd_rc_t secret_put_fn(struct pgconn *c, void *ctx, int *how)
{
    struct secret_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->name);
    p_text(&p, x->sealed);
    p_i64(&p, x->now);
    int64_t n = 0;
    jotd_rc_t r = q_changes(c,
                            "INSERT INTO secrets (name, sealed, created_at) VALUES ($1, $2, $3)"
                            " ON CONFLICT (name) DO NOTHING",
                            &p, &n);
    if (r == JOTD_OK && n == 0)
        r = jotd_store__fail(JOTD_E_EXISTS, "secret %s is set already", x->name);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_secret_put(jotd_store_t *st, const char *name, const char *sealed, int64_t now)
{
    struct secret_ctx x = {.name = name, .sealed = sealed, .now = now};
    return run_op(st, true, secret_put_fn, &x);
}

/* ---- denylist ----------------------------------------------------------------------------- */

struct deny_ctx {
    const char *jti;
    int64_t exp;
    void (*cb)(void *ctx, const char *jti, int64_t exp);
    void *cb_ctx;
};

static jotd_rc_t deny_add_fn(struct pgconn *c, void *ctx, int *how)
{
    struct deny_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->jti);
    p_i64(&p, x->exp);
    jotd_rc_t r = q(c,
                    "INSERT INTO denylist (jti, exp) VALUES ($1, $2) ON CONFLICT (jti)"
                    " DO UPDATE SET exp = greatest(denylist.exp, excluded.exp)",
                    &p, NULL);
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_JTI_REVOKED, x->jti, x->exp, (int64_t)time(NULL));
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_deny_add(jotd_store_t *st, const char *jti, int64_t exp)
{
    struct deny_ctx x = {.jti = jti, .exp = exp};
    return run_op(st, true, deny_add_fn, &x);
}

static jotd_rc_t deny_load_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct deny_ctx *x = ctx;
    params_t p = {0};
    p_i64(&p, x->exp);
    PGresult *res = NULL;
    jotd_rc_t r = q(c, "SELECT jti, exp FROM denylist WHERE exp > $1", &p, &res);
    if (r != JOTD_OK)
        return r;
    for (int i = 0; i < PQntuples(res); i++) {
        rowr_t rr = {.res = res, .row = i};
        const char *jti = col_text(&rr, 0);
        int64_t exp = col_i64(&rr, 1);
        if (!jti || rr.bad) {
            r = corrupt("denylist");
            break;
        }
        x->cb(x->cb_ctx, jti, exp); /* jti is valid during the call only */
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_deny_load(jotd_store_t *st, int64_t now,
                              void (*cb)(void *ctx, const char *jti, int64_t exp), void *ctx)
{
    struct deny_ctx x = {.exp = now, .cb = cb, .cb_ctx = ctx};
    return run_op(st, false, deny_load_fn, &x);
}

/* ---- garbage collection ------------------------------------------------------------------- */

struct gc_ctx {
    int64_t now, keep;
};

static jotd_rc_t throttle_gc_tx(struct pgconn *c, int64_t now); /* throttling, below */

static jotd_rc_t gc_fn(struct pgconn *c, void *ctx, int *how)
{
    struct gc_ctx *x = ctx;
    params_t now = {0}, old = {0};
    p_i64(&now, x->now);
    p_i64(&old, x->now - x->keep);
    /* a background job over whole tables: more time than a request's 5 s */
    jotd_rc_t r = q(c, "SET LOCAL statement_timeout = '120s'", NULL, NULL);
    /* Expired tokens only: a used token that has not expired must stay, it is what detects
     * a replay. Then sessions that ended (or idled out with no token left) before keep. */
    if (r == JOTD_OK)
        r = q(c, "DELETE FROM refresh_tokens WHERE expires_at <= $1", &now, NULL);
    if (r == JOTD_OK)
        r = q(c,
              "DELETE FROM sessions WHERE revoked_at <= $1 OR expires_at <= $1"
              " OR (last_used_at <= $1 AND NOT EXISTS"
              " (SELECT 1 FROM refresh_tokens t WHERE t.sid = sessions.sid))",
              &old, NULL);
    if (r == JOTD_OK)
        r = q(c, "DELETE FROM denylist WHERE exp <= $1", &now, NULL);
    if (r == JOTD_OK)
        r = q(c, "DELETE FROM events WHERE created_at <= $1", &old, NULL);
    if (r == JOTD_OK)
        r = q(c, "DELETE FROM status_revoked WHERE revoked_at <= $1", &old, NULL);
    if (r == JOTD_OK)
        r = q(c, "DELETE FROM assertion_jtis WHERE exp <= $1", &now, NULL);
    if (r == JOTD_OK) /* kept a while: a replay still revokes what the code issued */
        r = q(c, "DELETE FROM auth_codes WHERE expires_at <= $1", &old, NULL);
    if (r == JOTD_OK)
        r = throttle_gc_tx(c, x->now);
    if (r == JOTD_OK)
        *how = TX_COMMIT;
    return r;
}

static jotd_rc_t pg_gc(jotd_store_t *st, int64_t now, int64_t keep_seconds)
{
    struct gc_ctx x = {.now = now, .keep = keep_seconds};
    return run_op(st, true, gc_fn, &x);
}

/* ---- status lists --------------------------------------------------------------------------- */

struct status_read_ctx {
    int64_t first, count;
    void (*cb)(void *ctx, int64_t idx);
    void *cb_ctx;
    int64_t next;
};

static jotd_rc_t status_read_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct status_read_ctx *x = ctx;
    bool row = false;
    /* the sequence's state: the next nextval() */
    jotd_rc_t r = q_i64(c,
                        "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END"
                        " FROM session_status_idx",
                        NULL, &row, &x->next);
    if (r == JOTD_OK && !row)
        r = corrupt("no session_status_idx state");
    if (r != JOTD_OK)
        return r;
    params_t p = {0};
    p_i64(&p, x->first);
    p_i64(&p, x->first + x->count);
    PGresult *res = NULL;
    r = q(c, "SELECT idx FROM status_revoked WHERE idx >= $1 AND idx < $2", &p, &res);
    if (r != JOTD_OK)
        return r;
    rowr_t rr = {.res = res};
    int n = PQntuples(res);
    for (int i = 0; i < n && r == JOTD_OK; i++) {
        rr.row = i;
        int64_t idx = col_i64(&rr, 0);
        if (rr.bad)
            r = corrupt("bad status index");
        else
            x->cb(x->cb_ctx, idx);
    }
    PQclear(res);
    return r;
}

static jotd_rc_t pg_status_read(jotd_store_t *st, int64_t first, int64_t count,
                                void (*cb)(void *ctx, int64_t idx), void *ctx, int64_t *out_next)
{
    struct status_read_ctx x = {.first = first, .count = count, .cb = cb, .cb_ctx = ctx};
    jotd_rc_t r = run_op(st, false, status_read_fn, &x);
    if (r == JOTD_OK)
        *out_next = x.next;
    return r;
}

/* ---- throttling ---------------------------------------------------------------------------- */

#define THROTTLE_COLS "failures, violations, win_start, lock_until"

struct throttle_ctx {
    jotd_store_t *st;
    const char *key;
    int64_t now;
    jotd_throttle_step_fn step;
    void *step_ctx;
    jotd_throttle_state_t v;
    bool found;
};

/* The four columns of THROTTLE_COLS in row 0 of \p res into *out. */
static jotd_rc_t row_throttle(const PGresult *res, jotd_throttle_state_t *out)
{
    rowr_t rr = {.res = res};
    out->failures = col_i64(&rr, 0);
    out->violations = col_i64(&rr, 1);
    out->win_start = col_i64(&rr, 2);
    out->lock_until = col_i64(&rr, 3);
    return rr.bad ? corrupt("throttle") : JOTD_OK;
}

static jotd_rc_t throttle_get_fn(struct pgconn *c, void *ctx, int *how)
{
    (void)how;
    struct throttle_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->key);
    PGresult *res = NULL;
    jotd_rc_t r = q(c, "SELECT " THROTTLE_COLS " FROM throttle WHERE key = $1", &p, &res);
    if (r != JOTD_OK)
        return r;
    x->found = PQntuples(res) > 0;
    if (x->found)
        r = row_throttle(res, &x->v);
    PQclear(res);
    return r;
}

static jotd_rc_t pg_throttle_get(jotd_store_t *st, const char *key, jotd_throttle_state_t *out)
{
    struct throttle_ctx x = {.key = key};
    jotd_rc_t r = run_op(st, false, throttle_get_fn, &x);
    if (r == JOTD_OK && !x.found)
        r = jotd_store__fail(JOTD_E_NOTFOUND, "no throttle row");
    if (r == JOTD_OK)
        *out = x.v;
    return r;
}

/* 1. Lock the row, creating it as zeros when missing, and read it, in one statement: an
 *    INSERT ... ON CONFLICT DO UPDATE that changes nothing locks the existing row (waiting
 *    for a writer that holds it, then seeing what that writer committed) and returns it.
 *    Unlike INSERT ... DO NOTHING followed by SELECT ... FOR UPDATE, there is no moment
 *    between the two where a concurrent clear could delete the row.
 * 2. The step, here in C, on the locked values.
 * 3. Write them back. */
static jotd_rc_t throttle_update_fn(struct pgconn *c, void *ctx, int *how)
{
    struct throttle_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->key);
    p_i64(&p, x->now);
    PGresult *res = NULL;
    jotd_rc_t r = q(c,
                    "INSERT INTO throttle (key, " THROTTLE_COLS ", updated_at)"
                    " VALUES ($1, 0, 0, 0, 0, $2) ON CONFLICT (key)"
                    " DO UPDATE SET updated_at = throttle.updated_at RETURNING " THROTTLE_COLS,
                    &p, &res);
    if (r != JOTD_OK)
        return r;
    if (PQntuples(res) != 1)
        r = jotd_store__fail(JOTD_E_IO, "postgresql: throttle row not returned");
    else
        r = row_throttle(res, &x->v);
    PQclear(res);
    if (r != JOTD_OK)
        return r;
    x->step(x->step_ctx, &x->v, x->now);
    params_t u = {0};
    p_text(&u, x->key);
    p_i64(&u, x->v.failures);
    p_i64(&u, x->v.violations);
    p_i64(&u, x->v.win_start);
    p_i64(&u, x->v.lock_until);
    p_i64(&u, x->now);
    r = q(c,
          "UPDATE throttle SET failures = $2, violations = $3, win_start = $4,"
          " lock_until = $5, updated_at = $6 WHERE key = $1",
          &u, NULL);
    if (r == JOTD_OK)
        *how = light(x->st); /* a lost count on a crash of the server: as a login */
    return r;
}

static jotd_rc_t pg_throttle_update(jotd_store_t *st, const char *key, int64_t now,
                                    jotd_throttle_step_fn step, void *ctx,
                                    jotd_throttle_state_t *out)
{
    struct throttle_ctx x = {.st = st, .key = key, .now = now, .step = step, .step_ctx = ctx};
    jotd_rc_t r = run_op(st, true, throttle_update_fn, &x);
    if (r == JOTD_OK)
        *out = x.v;
    return r;
}

static jotd_rc_t throttle_clear_fn(struct pgconn *c, void *ctx, int *how)
{
    struct throttle_ctx *x = ctx;
    params_t p = {0};
    p_text(&p, x->key);
    jotd_rc_t r = q(c, "DELETE FROM throttle WHERE key = $1", &p, NULL);
    if (r == JOTD_OK)
        *how = light(x->st);
    return r;
}

static jotd_rc_t pg_throttle_clear(jotd_store_t *st, const char *key)
{
    struct throttle_ctx x = {.st = st, .key = key};
    return run_op(st, true, throttle_clear_fn, &x);
}

/* In gc_fn's transaction: rows idle for JOTD_THROTTLE_KEEP_S whose lock has ended. */
static jotd_rc_t throttle_gc_tx(struct pgconn *c, int64_t now)
{
    params_t p = {0};
    p_i64(&p, now - JOTD_THROTTLE_KEEP_S);
    p_i64(&p, now);
    return q(c, "DELETE FROM throttle WHERE updated_at <= $1 AND lock_until <= $2", &p, NULL);
}
/* ---- the operations table ----------------------------------------------------------------- */

static const jotd_store_ops_t pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .user_create = pg_user_create,
    .user_get = pg_user_get,
    .user_get_by_name = pg_user_get_by_name,
    .user_list = pg_user_list,
    .user_update = pg_user_update,
    .user_delete = pg_user_delete,
    .user_hash_params = pg_user_hash_params,
    .user_rehash = pg_user_rehash,
    .client_create = pg_client_create,
    .client_get = pg_client_get,
    .client_update = pg_client_update,
    .client_rehash = pg_client_rehash,
    .client_list = pg_client_list,
    .client_set_state = pg_client_set_state,
    .assertion_use = pg_assertion_use,
    .code_create = pg_code_create,
    .code_redeem = pg_code_redeem,
    .code_replayed = pg_code_replayed,
    .session_list = pg_session_list,
    .session_create = pg_session_create,
    .refresh_rotate = pg_refresh_rotate,
    .refresh_lookup = pg_refresh_lookup,
    .session_get = pg_session_get,
    .session_revoke = pg_session_revoke,
    .sessions_revoke_user = pg_sessions_revoke_user,
    .status_read = pg_status_read,
    .deny_add = pg_deny_add,
    .deny_load = pg_deny_load,
    .events_since = pg_events_since,
    .listen = pg_listen,
    .gc = pg_gc,
    .key_list = pg_key_list,
    .key_add = pg_key_add,
    .key_revoke = pg_key_revoke,
    .secret_get = pg_secret_get,
    .secret_put = pg_secret_put,
    /* throttling */
    .throttle_get = pg_throttle_get,
    .throttle_update = pg_throttle_update,
    .throttle_clear = pg_throttle_clear,
};
