/* The SQLite backend of the jotd store: only SQLite here (the pool, the migrations, the
 * statements, the transactions). The contract is server/store_backend.h; the rules every
 * backend shares (argument checks, the rotation decision, the list encoding, token
 * liveness, error texts) are in server/store.c.
 *
 * Connections. A small pool guarded by a mutex: every operation takes a connection from the
 * idle list (opening a new one when the list is empty), uses it alone from start to end and
 * puts it back. Because no two threads ever touch one connection at the same time, the
 * connections are opened SQLITE_OPEN_NOMUTEX (SQLite's per-connection mutex would be pure
 * overhead). Why a pool rather than one connection per thread behind a pthread key: the
 * threads that call us (libmicrohttpd's pool, operator commands, tests) come and go, and a
 * key needs a thread-exit destructor that can race jotd_store_close(); a pool has no such
 * race, leaks nothing when stores are opened and closed many times, and holds as many
 * connections as operations were ever in flight at once, not one per thread that ever
 * called. The mutex is held only to pop or push one list pointer, never during SQL.
 * Write transactions do not use the pool: they all run on one writer connection, taken
 * with the store's write mutex (see Transactions). Besides queueing the writers without
 * SQLite's sleeps, this keeps the writer's page cache valid from one transaction to the
 * next (a connection must drop its cache whenever another connection has written), which
 * saves the dozen page reads a rotation made on a pooled connection.
 *
 * Statements. Each connection prepares a statement the first time it needs it
 * (sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT) and keeps it until the connection is
 * closed; every use ends with sqlite3_reset() + sqlite3_clear_bindings().
 *
 * Transactions. Every write is one BEGIN IMMEDIATE ... COMMIT, rolled back on any error.
 * IMMEDIATE takes the database write lock before the first read, so a read-decide-write
 * sequence (refresh rotation above all) cannot be interleaved with another writer, in this
 * process or any other one on the same file. Inside one process the writers first queue on
 * a mutex of the store (wlock), held from BEGIN to COMMIT/ROLLBACK: SQLite's own busy
 * handler sleeps and polls (1, 2, 5, 10 ... ms), which with dozens of concurrent refreshes
 * cost more than the transactions themselves; a mutex hands the lock over at once. Another
 * process still contends through BEGIN IMMEDIATE and the busy timeout. The whole wait (mutex,
 * then SQLite lock) is bounded by BUSY_TIMEOUT_MS, after which the caller gets JOTD_E_BUSY.
 * Reads are single statements in autocommit mode, without the mutex: each sees one
 * consistent snapshot (WAL lets them run beside a writer).
 *
 * Durability. journal_mode=WAL. Each write transaction runs at one of two levels, set with
 * PRAGMA synchronous on its connection just before BEGIN (SQLite refuses to change it
 * inside a transaction, and applies it when the PRAGMA is prepared: hence sqlite3_exec and
 * not a cached statement):
 * - FULL: COMMIT fsyncs the WAL before it returns: the transaction survives power loss.
 *   Every revocation (logout, RFC 7009, reuse detection, a user's sessions), every user,
 *   client and denylist change, and garbage collection.
 * - NORMAL, with jotd_store_set_durability(JOTD_DURABILITY_NORMAL): logins
 *   (session_create) and refresh rotations. COMMIT writes the WAL without fsync. The data is
 *   in the OS page cache, so the death of the process loses nothing; power loss or an OS
 *   crash can lose the commits made since the WAL was last synced, by a later FULL commit
 *   or a checkpoint. The WAL is one append-only file with chained checksums, so what
 *   survives is always a prefix of the commit order, and every FULL commit syncs the file
 *   up to and including itself: a power loss can undo the latest logins and rotations,
 *   never a revocation. An undone rotation leaves the client with a successor the database
 *   does not know (it must log in again) and the old token live again until its idle
 *   expiry; an undone login leaves a session that does not exist.
 * A rotation that detects reuse must revoke at FULL; whether it will is known only inside
 * the transaction, so a NORMAL rotation that finds reuse rolls back and runs again at FULL.
 *
 * Token liveness (see store.c): "unused" is the column used_at IS NULL. */
#include "common/buf.h"
#include "store_backend.h"

#include <jot/jot.h>
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define JOTD_APPLICATION_ID 0x6A6F7464 /* "jotd": PRAGMA application_id of our files */

/* ---- schema: numbered migration steps --------------------------------------------------- */

/* migrations[i] takes a database from schema version i to i + 1 (PRAGMA user_version).
 * Append new steps (ALTER TABLE ... ADD COLUMN, new tables, new indexes); never edit a step
 * that has shipped. All pending steps run in one transaction at open. STRICT tables need
 * SQLite >= 3.37. */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* ids are never reused: sub stays unique */
    " username TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL,"
    " roles TEXT NOT NULL,"       /* JSON array of strings */
    " permissions TEXT NOT NULL," /* JSON array of strings */
    " disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE clients ("
    " client_id TEXT PRIMARY KEY NOT NULL,"
    " secret_hash TEXT," /* NULL: public client */
    " created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE sessions ("
    " sid TEXT PRIMARY KEY NOT NULL,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " client_id TEXT NOT NULL,"
    " scope TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL," /* absolute end */
    " last_used_at INTEGER NOT NULL,"
    " revoked_at INTEGER"
    ") STRICT;"
    "CREATE INDEX sessions_user_id ON sessions(user_id);"
    "CREATE TABLE refresh_tokens ("
    " hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32)," /* SHA-256 of the token */
    " sid TEXT NOT NULL REFERENCES sessions(sid) ON DELETE CASCADE,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL," /* idle expiry */
    " used_at INTEGER,"             /* rotated (successor set) or killed (successor NULL) */
    " successor BLOB CHECK (successor IS NULL OR length(successor) = 32)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX refresh_tokens_sid ON refresh_tokens(sid);"
    "CREATE TABLE denylist ("
    " jti TEXT PRIMARY KEY NOT NULL,"
    " exp INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;",
    /* 1 -> 2: user generations, client policy (scopes, introspection audiences), the events
     * that void tokens, and the default client as a registered public client (a store made
     * by an earlier release may already hold a client of that name: it is kept as it is,
     * and `jotd serve` refuses to start with it while it is confidential). */
    "ALTER TABLE users ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE clients ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';" /* JSON arrays */
    "ALTER TABLE clients ADD COLUMN default_scopes TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE clients ADD COLUMN introspect TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE clients ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE clients SET updated_at = created_at;"
    "INSERT OR IGNORE INTO clients (client_id, secret_hash, created_at, updated_at)"
    " VALUES ('default', NULL, CAST(strftime('%s', 'now') AS INTEGER),"
    " CAST(strftime('%s', 'now') AS INTEGER));"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: readers remember the last */
    " kind TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " value INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX events_created_at ON events(created_at);",
    /* 2 -> 3: what many instances share (see store.h): the signing keys with their
     * lifecycle, the server's own secrets, and the throttling counters. Private parts and
     * secrets are sealed with the key-encryption key (server/seal.h), never stored plain. */
    "CREATE TABLE signing_keys ("
    " kid TEXT PRIMARY KEY NOT NULL," /* RFC 7638 thumbprint */
    " alg TEXT NOT NULL,"
    " public_jwk TEXT NOT NULL,"
    " private_sealed TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " activate_at INTEGER NOT NULL," /* signs from then until a later key activates */
    " revoked_at INTEGER"            /* set: out of every JWKS, its tokens refused */
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE secrets ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " sealed TEXT NOT NULL,"
    " created_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE throttle ("
    " key TEXT PRIMARY KEY NOT NULL," /* hex SHA-256 of what is counted (ratelimit.h) */
    " failures INTEGER NOT NULL,"
    " violations INTEGER NOT NULL,"
    " win_start INTEGER NOT NULL,"
    " lock_until INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX throttle_updated_at ON throttle(updated_at);",
    /* 3 -> 4: Token Status Lists (server/statuslist.h). Every session gets an index from a
     * counter that only grows (never reused, even once the session row is gone); the
     * indexes of revoked sessions are kept in status_revoked, which outlives the session
     * rows (a deleted user's sessions go with ON DELETE CASCADE) until gc. The sessions of
     * an earlier release get 0..n-1 in creation order, the revoked ones their rows. */
    "ALTER TABLE sessions ADD COLUMN status_idx INTEGER NOT NULL DEFAULT -1;"
    "UPDATE sessions SET status_idx = r.n FROM (SELECT sid, row_number() OVER"
    " (ORDER BY created_at, sid) - 1 AS n FROM sessions) AS r WHERE r.sid = sessions.sid;"
    "CREATE UNIQUE INDEX sessions_status_idx ON sessions(status_idx);"
    "CREATE TABLE status_counter ("
    " id INTEGER PRIMARY KEY CHECK (id = 0),"
    " next INTEGER NOT NULL" /* the next index to allocate */
    ") STRICT;"
    "INSERT INTO status_counter (id, next) SELECT 0, count(*) FROM sessions;"
    "CREATE TABLE status_revoked ("
    " idx INTEGER PRIMARY KEY NOT NULL," /* a range scan per list */
    " revoked_at INTEGER NOT NULL"
    ") STRICT;"
    "INSERT INTO status_revoked (idx, revoked_at)"
    " SELECT status_idx, revoked_at FROM sessions WHERE revoked_at IS NOT NULL;"
    "CREATE INDEX status_revoked_at ON status_revoked(revoked_at);",
    /* 4 -> 5: service-to-service (client_credentials): the audiences a client may get
     * tokens for (RFC 8707 resources) and one status-list index per client, from the
     * sessions' counter (existing clients get the next ones, in id order). */
    "ALTER TABLE clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE clients ADD COLUMN status_idx INTEGER NOT NULL DEFAULT -1;"
    "UPDATE clients SET status_idx = r.n + (SELECT next FROM status_counter WHERE id = 0)"
    " FROM (SELECT client_id, row_number() OVER (ORDER BY client_id) - 1 AS n FROM clients)"
    " AS r WHERE r.client_id = clients.client_id;"
    "UPDATE status_counter SET next = next + (SELECT count(*) FROM clients) WHERE id = 0;"
    "CREATE UNIQUE INDEX clients_status_idx ON clients(status_idx);"
    /* disable/enable/delete: a disabled client cannot authenticate; its generation voids
     * its earlier service tokens; its sessions are found by client */
    "ALTER TABLE clients ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE clients ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX sessions_client_id ON sessions(client_id);"
    /* private_key_jwt: the client's public keys (inline JWKS or its URL), and the jtis of
     * the assertions seen, until their exp (a replay is an insert that conflicts) */
    "ALTER TABLE clients ADD COLUMN jwks TEXT;"
    "ALTER TABLE clients ADD COLUMN jwks_url TEXT;"
    "CREATE TABLE assertion_jtis ("
    " client_id TEXT NOT NULL,"
    " jti TEXT NOT NULL,"
    " exp INTEGER NOT NULL,"
    " PRIMARY KEY (client_id, jti)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX assertion_jtis_exp ON assertion_jtis(exp);"
    /* the address a session was created from (admin session lists) */
    "ALTER TABLE sessions ADD COLUMN ip TEXT;",
    /* 5 -> 6: browsers (the authorization code flow): each client's registered redirect
     * URIs, a JSON list like the others */
    "ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';"
    /* the authorization codes, by the SHA-256 of their value: single use (used_at), bound
     * to the client, the redirect URI, the PKCE challenge and the session they create */
    "CREATE TABLE auth_codes ("
    " code_hash BLOB PRIMARY KEY NOT NULL CHECK (length(code_hash) = 32),"
    " client_id TEXT NOT NULL,"
    " redirect_uri TEXT NOT NULL,"
    " code_challenge TEXT NOT NULL,"
    " scope TEXT NOT NULL,"
    " user_id INTEGER NOT NULL,"
    " sid TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " used_at INTEGER"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX auth_codes_expires_at ON auth_codes(expires_at);",
    /* 6 -> 7: single-page apps (docs/browser.md): the origins allowed to call jotd with
     * credentials (CORS), cookie mode, a per-client refresh grace window (NULL: default) */
    "ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE clients ADD COLUMN cookie_mode INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE clients ADD COLUMN refresh_grace INTEGER;",
    /* 7 -> 8: a code presented again after its first redemption is marked (replayed_at),
     * so that its first exchange, still under way, sees the replay (store.h
     * jotd_store_code_replayed) */
    "ALTER TABLE auth_codes ADD COLUMN replayed_at INTEGER;",
};
#define SCHEMA_VERSION ((int64_t)(sizeof migrations / sizeof migrations[0]))

/* ---- statements ------------------------------------------------------------------------- */

#define USER_COLS                                                                                  \
    "u.id, u.username, u.password_hash, u.roles, u.permissions, u.disabled, u.created_at, "        \
    "u.updated_at, u.generation"
#define SESSION_COLS                                                                               \
    "s.sid, s.user_id, s.client_id, s.scope, s.created_at, s.expires_at, s.revoked_at, "           \
    "s.status_idx"
#define N_SESSION_COLS 8
#define CLIENT_COLS                                                                                \
    "client_id, secret_hash, scopes, default_scopes, introspect, created_at, updated_at, "         \
    "resources, status_idx, disabled, generation, jwks, jwks_url, redirect_uris, "                 \
    "allowed_origins, cookie_mode, refresh_grace"

enum sync_level { SYNC_NORMAL = 1, SYNC_FULL = 2 }; /* PRAGMA synchronous values */

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_USER_INSERT,
    ST_USER_GET,
    ST_USER_GET_NAME,
    ST_USER_LIST,
    ST_USER_EXISTS,
    ST_USER_UPDATE,
    ST_USER_DELETE,
    ST_USER_REVOKE_SESSIONS,
    ST_USER_KILL_TOKENS,
    ST_USER_GENERATION,
    ST_USER_SESSION_EVENTS,
    ST_CLIENT_INSERT,
    ST_CLIENT_GET,
    ST_CLIENT_LIST,
    ST_CLIENT_UPDATE,
    ST_CLIENT_REHASH,
    ST_EVENT_INSERT,
    ST_EVENTS_SINCE,
    ST_GC_EVENTS,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_EXISTS,
    ST_SESSION_TOUCH,
    ST_SESSION_REVOKE,
    ST_SESSION_KILL_TOKENS,
    ST_TOKEN_INSERT,
    ST_TOKEN_ROTATE_SELECT,
    ST_TOKEN_MARK_USED,
    ST_TOKEN_LOOKUP,
    ST_DENY_ADD,
    ST_DENY_LOAD,
    ST_GC_TOKENS,
    ST_GC_SESSIONS,
    ST_GC_DENY,
    ST_KEY_LIST,
    ST_KEY_ANY_LIVE,
    ST_KEY_INSERT,
    ST_KEY_REVOKE,
    ST_SECRET_GET,
    ST_SECRET_PUT,
    ST_STATUS_ALLOC,
    ST_STATUS_NEXT,
    ST_STATUS_RANGE,
    ST_STATUS_REVOKE_SESSION,
    ST_STATUS_REVOKE_USER,
    ST_GC_STATUS,
    ST_CLIENT_STATE,
    ST_CLIENT_STATUS_SESSIONS,
    ST_CLIENT_SESSION_EVENTS,
    ST_CLIENT_KILL_TOKENS,
    ST_CLIENT_REVOKE_SESSIONS,
    ST_CLIENT_STATUS_REVOKE,
    ST_CLIENT_DISABLE,
    ST_CLIENT_ENABLE,
    ST_CLIENT_DELETE,
    ST_ASSERTION_USE,
    ST_SESSION_LIST,
    ST_GC_ASSERTIONS,
    ST_CODE_INSERT,
    ST_CODE_GET,
    ST_CODE_USE,
    ST_CODE_REPLAY,
    ST_CODE_REPLAYED,
    ST_GC_CODES,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_USER_INSERT] = "INSERT INTO users (username, password_hash, roles, permissions, disabled,"
                       " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [ST_USER_GET] = "SELECT " USER_COLS " FROM users u WHERE u.id = ?1",
    [ST_USER_GET_NAME] = "SELECT " USER_COLS " FROM users u WHERE u.username = ?1",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users u WHERE u.id > ?1 ORDER BY u.id LIMIT ?2",
    [ST_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
    [ST_USER_UPDATE] = "UPDATE users SET roles = coalesce(?2, roles),"
                       " permissions = coalesce(?3, permissions),"
                       " disabled = coalesce(?4, disabled),"
                       " password_hash = coalesce(?5, password_hash), updated_at = ?6,"
                       " generation = generation + ?7 WHERE id = ?1",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
    [ST_USER_REVOKE_SESSIONS] =
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
    [ST_USER_KILL_TOKENS] = "UPDATE refresh_tokens SET used_at = ?2 WHERE used_at IS NULL"
                            " AND sid IN (SELECT sid FROM sessions WHERE user_id = ?1)",
    [ST_USER_GENERATION] = "SELECT generation FROM users WHERE id = ?1",
    /* before ST_USER_REVOKE_SESSIONS: one event per session it is about to revoke */
    [ST_USER_SESSION_EVENTS] = "INSERT INTO events (kind, subject, value, created_at)"
                               " SELECT 'session_revoked', sid, ?2, ?2 FROM sessions"
                               " WHERE user_id = ?1 AND revoked_at IS NULL",
    [ST_CLIENT_INSERT] = "INSERT INTO clients (client_id, secret_hash, scopes, default_scopes,"
                         " introspect, created_at, updated_at, resources, status_idx, jwks,"
                         " jwks_url, redirect_uris, allowed_origins, cookie_mode, refresh_grace)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                         " ?14)",
    [ST_CLIENT_GET] = "SELECT " CLIENT_COLS " FROM clients WHERE client_id = ?1",
    [ST_CLIENT_LIST] = "SELECT " CLIENT_COLS " FROM clients ORDER BY client_id",
    [ST_CLIENT_UPDATE] = "UPDATE clients SET secret_hash = coalesce(?2, secret_hash),"
                         " scopes = coalesce(?3, scopes),"
                         " default_scopes = coalesce(?4, default_scopes),"
                         " introspect = coalesce(?5, introspect), updated_at = ?6,"
                         " resources = coalesce(?7, resources),"
                         " jwks = CASE WHEN ?8 IS NULL THEN jwks ELSE nullif(?8, '') END,"
                         " jwks_url = CASE WHEN ?9 IS NULL THEN jwks_url ELSE nullif(?9, '') END,"
                         " redirect_uris = coalesce(?10, redirect_uris),"
                         " allowed_origins = coalesce(?11, allowed_origins),"
                         " cookie_mode = coalesce(?12, cookie_mode),"
                         " refresh_grace = CASE WHEN ?13 IS NULL THEN refresh_grace"
                         "  ELSE nullif(?13, -1) END"
                         " WHERE client_id = ?1",
    [ST_CLIENT_REHASH] = "UPDATE clients SET secret_hash = ?3 WHERE client_id = ?1"
                         " AND secret_hash = ?2",
    [ST_EVENT_INSERT] = "INSERT INTO events (kind, subject, value, created_at)"
                        " VALUES (?1, ?2, ?3, ?4)",
    [ST_EVENTS_SINCE] = "SELECT id, kind, subject, value, created_at FROM events"
                        " WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_GC_EVENTS] = "DELETE FROM events WHERE created_at <= ?1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (sid, user_id, client_id, scope, created_at,"
                          " expires_at, last_used_at, status_idx, ip)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7, ?8)",
    [ST_SESSION_GET] = "SELECT " SESSION_COLS ", u.id, u.disabled FROM sessions s"
                       " LEFT JOIN users u ON u.id = s.user_id WHERE s.sid = ?1",
    [ST_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE sid = ?1",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_used_at = ?2 WHERE sid = ?1",
    [ST_SESSION_REVOKE] =
        "UPDATE sessions SET revoked_at = ?2 WHERE sid = ?1 AND revoked_at IS NULL",
    [ST_SESSION_KILL_TOKENS] =
        "UPDATE refresh_tokens SET used_at = ?2 WHERE sid = ?1 AND used_at IS NULL",
    [ST_TOKEN_INSERT] = "INSERT INTO refresh_tokens (hash, sid, created_at, expires_at)"
                        " VALUES (?1, ?2, ?3, ?4)",
    /* with the successor's state: n.hash IS NOT NULL, n.used_at IS NULL, n.expires_at */
    [ST_TOKEN_ROTATE_SELECT] = "SELECT t.expires_at, t.used_at, t.successor,"
                               " n.hash IS NOT NULL, n.used_at IS NULL, n.expires_at, " SESSION_COLS
                               ", " USER_COLS " FROM refresh_tokens t"
                               " JOIN sessions s ON s.sid = t.sid"
                               " LEFT JOIN users u ON u.id = s.user_id"
                               " LEFT JOIN refresh_tokens n ON n.hash = t.successor"
                               " WHERE t.hash = ?1",
    /* Conditional: of two rotations of one token only one can change a row. */
    [ST_TOKEN_MARK_USED] = "UPDATE refresh_tokens SET used_at = ?2, successor = ?3"
                           " WHERE hash = ?1 AND used_at IS NULL",
    [ST_TOKEN_LOOKUP] = "SELECT t.expires_at, t.used_at, " SESSION_COLS ", u.id, u.disabled"
                        " FROM refresh_tokens t JOIN sessions s ON s.sid = t.sid"
                        " LEFT JOIN users u ON u.id = s.user_id WHERE t.hash = ?1",
    [ST_DENY_ADD] = "INSERT INTO denylist (jti, exp) VALUES (?1, ?2)"
                    " ON CONFLICT (jti) DO UPDATE SET exp = max(exp, excluded.exp)",
    [ST_DENY_LOAD] = "SELECT jti, exp FROM denylist WHERE exp > ?1",
    [ST_GC_TOKENS] = "DELETE FROM refresh_tokens WHERE expires_at <= ?1",
    /* ?1 = now - keep_seconds. A session none of whose tokens is left can never be used
     * again (every token idle-expired): it goes too once it has been idle for keep. */
    [ST_GC_SESSIONS] = "DELETE FROM sessions WHERE revoked_at <= ?1 OR expires_at <= ?1"
                       " OR (last_used_at <= ?1 AND NOT EXISTS"
                       " (SELECT 1 FROM refresh_tokens t WHERE t.sid = sessions.sid))",
    [ST_GC_DENY] = "DELETE FROM denylist WHERE exp <= ?1",
    [ST_KEY_LIST] = "SELECT kid, alg, public_jwk, private_sealed, created_at, activate_at,"
                    " revoked_at FROM signing_keys ORDER BY activate_at, created_at, kid",
    [ST_KEY_ANY_LIVE] = "SELECT 1 FROM signing_keys WHERE revoked_at IS NULL LIMIT 1",
    [ST_KEY_INSERT] = "INSERT INTO signing_keys (kid, alg, public_jwk, private_sealed,"
                      " created_at, activate_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_KEY_REVOKE] = "UPDATE signing_keys SET revoked_at = coalesce(revoked_at, ?2)"
                      " WHERE kid = ?1",
    [ST_SECRET_GET] = "SELECT sealed FROM secrets WHERE name = ?1",
    [ST_SECRET_PUT] = "INSERT INTO secrets (name, sealed, created_at) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (name) DO NOTHING",
    /* inside session_create's write transaction: the write lock orders the allocations */
    [ST_STATUS_ALLOC] = "UPDATE status_counter SET next = next + 1 WHERE id = 0"
                        " RETURNING next - 1",
    [ST_STATUS_NEXT] = "SELECT next FROM status_counter WHERE id = 0",
    [ST_STATUS_RANGE] = "SELECT idx FROM status_revoked WHERE idx >= ?1 AND idx < ?2",
    /* before the session is marked revoked (revoked_at IS NULL selects the new ones) */
    [ST_STATUS_REVOKE_SESSION] = "INSERT OR IGNORE INTO status_revoked (idx, revoked_at)"
                                 " SELECT status_idx, ?2 FROM sessions"
                                 " WHERE sid = ?1 AND revoked_at IS NULL",
    [ST_STATUS_REVOKE_USER] = "INSERT OR IGNORE INTO status_revoked (idx, revoked_at)"
                              " SELECT status_idx, ?2 FROM sessions"
                              " WHERE user_id = ?1 AND revoked_at IS NULL",
    [ST_GC_STATUS] = "DELETE FROM status_revoked WHERE revoked_at <= ?1",
    [ST_CLIENT_STATE] = "SELECT disabled, generation, status_idx FROM clients WHERE client_id = ?1",
    /* a client disabled or deleted: its sessions, as a user's (ST_STATUS_REVOKE_USER...) */
    [ST_CLIENT_STATUS_SESSIONS] = "INSERT OR IGNORE INTO status_revoked (idx, revoked_at)"
                                  " SELECT status_idx, ?2 FROM sessions"
                                  " WHERE client_id = ?1 AND revoked_at IS NULL",
    [ST_CLIENT_SESSION_EVENTS] = "INSERT INTO events (kind, subject, value, created_at)"
                                 " SELECT 'session_revoked', sid, ?2, ?2 FROM sessions"
                                 " WHERE client_id = ?1 AND revoked_at IS NULL",
    [ST_CLIENT_KILL_TOKENS] = "UPDATE refresh_tokens SET used_at = ?2 WHERE used_at IS NULL"
                              " AND sid IN (SELECT sid FROM sessions WHERE client_id = ?1)",
    [ST_CLIENT_REVOKE_SESSIONS] =
        "UPDATE sessions SET revoked_at = ?2 WHERE client_id = ?1 AND revoked_at IS NULL",
    [ST_CLIENT_STATUS_REVOKE] = "INSERT OR IGNORE INTO status_revoked (idx, revoked_at)"
                                " VALUES (?1, ?2)",
    [ST_CLIENT_DISABLE] = "UPDATE clients SET disabled = 1, generation = generation + 1,"
                          " updated_at = ?2 WHERE client_id = ?1",
    [ST_CLIENT_ENABLE] = "UPDATE clients SET disabled = 0, status_idx = ?2, updated_at = ?3"
                         " WHERE client_id = ?1",
    [ST_CLIENT_DELETE] = "DELETE FROM clients WHERE client_id = ?1",
    [ST_SESSION_LIST] =
        "SELECT " SESSION_COLS ", s.ip, s.last_used_at FROM sessions s WHERE s.user_id = ?1 ORDER "
        "BY s.created_at DESC, s.sid LIMIT 1000",
    [ST_ASSERTION_USE] = "INSERT INTO assertion_jtis (client_id, jti, exp) VALUES (?1, ?2, ?3)",
    [ST_GC_ASSERTIONS] = "DELETE FROM assertion_jtis WHERE exp <= ?1",
    [ST_CODE_INSERT] = "INSERT INTO auth_codes (code_hash, client_id, redirect_uri, code_challenge,"
                       " scope, user_id, sid, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_CODE_GET] = "SELECT client_id, redirect_uri, code_challenge, scope, user_id, sid,"
                    " expires_at, used_at IS NOT NULL FROM auth_codes WHERE code_hash = ?1",
    [ST_CODE_USE] = "UPDATE auth_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
    [ST_CODE_REPLAY] =
        "UPDATE auth_codes SET replayed_at = ?2 WHERE code_hash = ?1 AND replayed_at IS NULL",
    [ST_CODE_REPLAYED] = "SELECT replayed_at IS NOT NULL FROM auth_codes WHERE code_hash = ?1",
    /* kept a while after their expiry, so that a replay still revokes what the code issued */
    [ST_GC_CODES] = "DELETE FROM auth_codes WHERE expires_at <= ?1",
};

/* ---- the store --------------------------------------------------------------------------- */

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST__COUNT];
    struct sqlite_store *st;
    int sync;          /* the connection's PRAGMA synchronous (enum sync_level) */
    struct conn *next; /* idle list */
};

typedef struct sqlite_store {
    jotd_store_t base; /* first: a jotd_store_t * is a sqlite_store_t * (ops, durability) */
    char *path;
    pthread_mutex_t lock; /* guards idle */
    struct conn *idle;
    pthread_mutex_t wlock; /* one write transaction of this process at a time */
    struct conn *writer;   /* the connection of every write transaction; guarded by wlock */
} sqlite_store_t;

static sqlite_store_t *as_sq(jotd_store_t *st)
{
    return (sqlite_store_t *)st;
}

/* ---- errors ------------------------------------------------------------------------------ */

/* Every text goes through jotd_store__fail (store.c): jotd_store_errmsg() reads it. FAILF
 * returns \p rc itself rather than jotd_store__fail's answer (the same value) so that the
 * static analyser, which sees neither into store.c nor into variadic calls, knows it; \p rc
 * is evaluated twice. */
#define FAILF(rc, ...) ((void)jotd_store__fail((rc), __VA_ARGS__), (rc))

static jotd_rc_t fail(jotd_rc_t rc, const char *msg)
{
    return FAILF(rc, "%s", msg);
}

/* Extended SQLite result code -> store code. */
static jotd_rc_t map_rc(int rc)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return JOTD_E_EXISTS;
    case SQLITE_CONSTRAINT_FOREIGNKEY: /* the user or session referred to does not exist */
        return JOTD_E_NOTFOUND;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return JOTD_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return JOTD_E_BUSY;
    case SQLITE_NOMEM:
        return JOTD_E_NOMEM;
    case SQLITE_CONSTRAINT: /* NOT NULL, CHECK */
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return JOTD_E_INVAL;
    default: /* FULL, READONLY, IOERR, CORRUPT, CANTOPEN, NOTADB, PERM, PROTOCOL, ... */
        return JOTD_E_IO;
    }
}

/* Record the connection's error message for this thread and map \p rc. */
static jotd_rc_t db_fail(sqlite3 *db, int rc)
{
    jotd_rc_t r = map_rc(rc);
    if (r == JOTD_OK)
        r = JOTD_E_IO;
    return FAILF(r, "sqlite: %s (%s)", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                 sqlite3_errstr(rc));
}

/* ---- small helpers ----------------------------------------------------------------------- */

/* Binding: each helper does nothing once *b holds an error. Values bound SQLITE_STATIC stay
 * alive until the statement is reset (done() clears the bindings). */
static void bind_i64(sqlite3_stmt *s, int i, int64_t v, int *b)
{
    if (*b == SQLITE_OK)
        *b = sqlite3_bind_int64(s, i, v);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v, int *b)
{
    if (*b == SQLITE_OK)
        *b = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static void bind_hash(sqlite3_stmt *s, int i, const uint8_t *v, int *b)
{
    if (*b == SQLITE_OK)
        *b = sqlite3_bind_blob(s, i, v, JOTD_HASH_LEN, SQLITE_STATIC);
}

static void done(sqlite3_stmt *s)
{
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
}

static jotd_rc_t prep(struct conn *c, enum stmt_id id, sqlite3_stmt **out)
{
    if (!c->stmts[id]) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            c->stmts[id] = NULL;
            return db_fail(c->db, rc);
        }
    }
    *out = c->stmts[id];
    return JOTD_OK;
}

/* Bind failures: record, reset. */
static jotd_rc_t bind_fail(struct conn *c, sqlite3_stmt *s, int b)
{
    jotd_rc_t r = db_fail(c->db, b);
    done(s);
    return r;
}

/* Step a statement that returns no row, then reset it. *out_changes may be NULL. */
static jotd_rc_t run(struct conn *c, sqlite3_stmt *s, int *out_changes)
{
    int rc = sqlite3_step(s);
    jotd_rc_t r = JOTD_OK;
    if (rc != SQLITE_DONE)
        r = db_fail(c->db, rc);
    else if (out_changes)
        *out_changes = sqlite3_changes(c->db);
    done(s);
    return r;
}

/* Step a statement once: *out_row true on SQLITE_ROW (the caller reads then calls done()),
 * false on SQLITE_DONE (already reset). Errors reset the statement. */
static jotd_rc_t step_row(struct conn *c, sqlite3_stmt *s, bool *out_row)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out_row = true;
        return JOTD_OK;
    }
    jotd_rc_t r = rc == SQLITE_DONE ? JOTD_OK : db_fail(c->db, rc);
    *out_row = false;
    done(s);
    return r;
}

/* Every remaining row of \p s (prepared and bound, not yet stepped), each read by \p row
 * into one element of \p size bytes of a malloc'd array: *out (NULL when there is none) and
 * *out_n. \p row leaves nothing allocated when it fails; on any failure the elements read so
 * far are released with \p clear and the array freed. */
static jotd_rc_t read_rows(struct conn *c, sqlite3_stmt *s, size_t size,
                           jotd_rc_t (*row)(sqlite3_stmt *s, void *elem), void (*clear)(void *elem),
                           void **out, size_t *out_n)
{
    char *v = NULL;
    size_t n = 0, cap = 0;
    jotd_rc_t r = JOTD_OK;
    for (;;) {
        bool more;
        r = step_row(c, s, &more);
        if (r != JOTD_OK || !more)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char *nv = ncap < SIZE_MAX / size ? realloc(v, ncap * size) : NULL;
            if (!nv) {
                r = fail(JOTD_E_NOMEM, "out of memory");
                done(s);
                break;
            }
            v = nv;
            cap = ncap;
        }
        r = row(s, v + n * size);
        if (r != JOTD_OK) {
            done(s);
            break;
        }
        n++;
    }
    if (r != JOTD_OK) {
        for (size_t i = 0; i < n; i++)
            clear(v + i * size);
        free(v);
        return r;
    }
    *out = v;
    *out_n = n;
    return JOTD_OK;
}

/* Copy a TEXT column; a NULL column gives *out = NULL. */
static jotd_rc_t col_dup(sqlite3_stmt *s, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return JOTD_OK;
    const unsigned char *t = sqlite3_column_text(s, i);
    if (!t)
        return fail(JOTD_E_NOMEM, "out of memory reading a column");
    int n = sqlite3_column_bytes(s, i);
    *out = jotx_strdup_n((const char *)t, (size_t)n);
    return *out ? JOTD_OK : fail(JOTD_E_NOMEM, "out of memory");
}

static bool col_null(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL;
}

static int64_t col_i64(sqlite3_stmt *s, int i)
{
    return sqlite3_column_int64(s, i);
}

/* A list column (roles, permissions, scopes, audiences: jotd_store__list_decode). NOT NULL
 * in the schema: a NULL there is a corrupt row. */
static jotd_rc_t col_list(sqlite3_stmt *s, int i, char ***out, size_t *out_n)
{
    if (col_null(s, i))
        return fail(JOTD_E_IO, "corrupt row: roles/permissions is not a JSON array");
    const unsigned char *t = sqlite3_column_text(s, i);
    if (!t)
        return fail(JOTD_E_NOMEM, "out of memory reading a column");
    return jotd_store__list_decode((const char *)t, (size_t)sqlite3_column_bytes(s, i), out, out_n);
}

/* ---- rows -> structs ---------------------------------------------------------------------- */

/* USER_COLS starting at column c0. */
static jotd_rc_t row_user(sqlite3_stmt *s, int c0, jotd_user_t *out)
{
    jotd_user_t u = {0};
    u.id = col_i64(s, c0);
    u.disabled = col_i64(s, c0 + 5) != 0;
    u.created_at = col_i64(s, c0 + 6);
    u.updated_at = col_i64(s, c0 + 7);
    u.generation = col_i64(s, c0 + 8);
    jotd_rc_t r = col_dup(s, c0 + 1, &u.username);
    if (r == JOTD_OK)
        r = col_dup(s, c0 + 2, &u.password_hash);
    if (r == JOTD_OK && (!u.username || !u.password_hash))
        r = fail(JOTD_E_IO, "corrupt row: user without name or password hash");
    if (r == JOTD_OK)
        r = col_list(s, c0 + 3, &u.roles, &u.n_roles);
    if (r == JOTD_OK)
        r = col_list(s, c0 + 4, &u.permissions, &u.n_permissions);
    if (r != JOTD_OK) {
        jotd_user_clear(&u);
        return r;
    }
    *out = u;
    return JOTD_OK;
}

/* SESSION_COLS starting at column c0. */
static jotd_rc_t row_session(sqlite3_stmt *s, int c0, jotd_session_t *out)
{
    jotd_session_t se = {0};
    const unsigned char *sid = sqlite3_column_text(s, c0);
    int sid_len = sqlite3_column_bytes(s, c0);
    if (!sid || sid_len <= 0 || sid_len > JOTD_SID_LEN)
        return fail(JOTD_E_IO, "corrupt row: bad session id");
    memcpy(se.sid, sid, (size_t)sid_len);
    se.sid[sid_len] = '\0';
    se.user_id = col_i64(s, c0 + 1);
    se.created_at = col_i64(s, c0 + 4);
    se.expires_at = col_i64(s, c0 + 5);
    se.revoked = !col_null(s, c0 + 6);
    se.status_idx = col_i64(s, c0 + 7);
    jotd_rc_t r = col_dup(s, c0 + 2, &se.client_id);
    if (r == JOTD_OK)
        r = col_dup(s, c0 + 3, &se.scope);
    if (r == JOTD_OK && (!se.client_id || !se.scope))
        r = fail(JOTD_E_IO, "corrupt row: session without client or scope");
    if (r != JOTD_OK) {
        jotd_session_clear(&se);
        return r;
    }
    *out = se;
    return JOTD_OK;
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    free(c);
}

/* A pragma or query that yields one integer. */
static jotd_rc_t query_int(struct conn *c, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    jotd_rc_t r = rc == SQLITE_OK ? JOTD_OK : db_fail(c->db, rc);
    sqlite3_finalize(s);
    return r;
}

static jotd_rc_t exec_sql(struct conn *c, const char *sql)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? JOTD_OK : db_fail(c->db, rc);
}

static jotd_rc_t conn_open(sqlite_store_t *st, struct conn **out)
{
    const char *path = st->path;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return fail(JOTD_E_NOMEM, "out of memory");
    c->st = st;
    c->sync = SYNC_FULL;
    /* No SQLITE_OPEN_CREATE: jotd_store_sqlite_open() created the file with mode 0600; a file
     * that has disappeared since is an error, not a new empty database. No URI filenames.
     * READWRITE falls back to read-only on a write-protected file: writes then fail with
     * SQLITE_READONLY (JOTD_E_IO), reads keep working. */
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
    jotd_rc_t r = JOTD_OK;
    if (rc != SQLITE_OK) {
        r = c->db ? db_fail(c->db, rc) : fail(JOTD_E_NOMEM, "out of memory");
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    /* Hardening: no writable_schema tricks, no functions from an untrusted schema. */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    /* foreign_keys and synchronous are per connection; journal_mode=WAL is persistent and
     * set once by jotd_store_sqlite_open(). synchronous=FULL until a transaction asks for less:
     * see the top of this file. */
    r = exec_sql(c, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
    int64_t fk = 0;
    if (r == JOTD_OK)
        r = query_int(c, "PRAGMA foreign_keys", &fk);
    if (r == JOTD_OK && fk != 1)
        r = fail(JOTD_E_IO, "SQLite built without foreign key support");
out:
    if (r != JOTD_OK) {
        conn_close(c);
        return r;
    }
    *out = c;
    return JOTD_OK;
}

static jotd_rc_t conn_get(sqlite_store_t *st, struct conn **out)
{
    pthread_mutex_lock(&st->lock);
    struct conn *c = st->idle;
    if (c)
        st->idle = c->next;
    pthread_mutex_unlock(&st->lock);
    if (c) {
        c->next = NULL;
        *out = c;
        return JOTD_OK;
    }
    return conn_open(st, out);
}

static void tx_rollback(struct conn *c);

static void conn_put(sqlite_store_t *st, struct conn *c)
{
    /* Never pool a connection left inside a transaction (it would hold the write lock). */
    if (!sqlite3_get_autocommit(c->db))
        tx_rollback(c);
    /* nor one that fell back to read-only: once the files are writable again, new
     * connections must be able to write */
    if (!sqlite3_get_autocommit(c->db) || sqlite3_db_readonly(c->db, "main") == 1) {
        conn_close(c);
        return;
    }
    pthread_mutex_lock(&st->lock);
    c->next = st->idle;
    st->idle = c;
    pthread_mutex_unlock(&st->lock);
}

/* Every row of the parameterless statement \p id on a pooled connection, read as read_rows
 * does into *out (a malloc'd array of *out_n elements of \p size bytes). */
static jotd_rc_t list_all(sqlite_store_t *st, enum stmt_id id, size_t size,
                          jotd_rc_t (*row)(sqlite3_stmt *s, void *elem), void (*clear)(void *elem),
                          void **out, size_t *out_n)
{
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, id, &s);
    void *v = NULL;
    size_t n = 0;
    if (r == JOTD_OK)
        r = read_rows(c, s, size, row, clear, &v, &n);
    conn_put(st, c);
    if (r == JOTD_OK) {
        *out = v;
        *out_n = n;
    }
    return r;
}

/* ---- transactions ------------------------------------------------------------------------- */

/* Set the connection's PRAGMA synchronous for its next transaction (outside one). */
static jotd_rc_t set_sync(struct conn *c, int level)
{
    if (c->sync == level)
        return JOTD_OK;
    jotd_rc_t r = exec_sql(c, level == SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                 : "PRAGMA synchronous = NORMAL");
    if (r == JOTD_OK)
        c->sync = level;
    return r;
}

/* Take the store's write mutex and its writer connection (opened on first use). The wait
 * for the mutex and then for SQLite's lock (BEGIN IMMEDIATE, other processes) are together
 * bounded by BUSY_TIMEOUT_MS. On failure nothing is held. */
static jotd_rc_t wconn_get(sqlite_store_t *st, struct conn **out)
{
    struct timespec t0, deadline;
    clock_gettime(CLOCK_REALTIME, &t0);
    deadline = t0;
    deadline.tv_sec += BUSY_TIMEOUT_MS / 1000;
    deadline.tv_nsec += (long)(BUSY_TIMEOUT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int64_t left = BUSY_TIMEOUT_MS;
    int e = pthread_mutex_trylock(&st->wlock);
    if (e == EBUSY) {
        e = pthread_mutex_timedlock(&st->wlock, &deadline);
        if (e == 0) {
            struct timespec t1;
            clock_gettime(CLOCK_REALTIME, &t1);
            left -= ((int64_t)t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        }
    }
    if (e != 0)
        return fail(e == ETIMEDOUT ? JOTD_E_BUSY : JOTD_E_IO,
                    "database busy: the writes of this process are queued too long");
    jotd_rc_t r = JOTD_OK;
    if (!st->writer)
        r = conn_open(st, &st->writer);
    if (r != JOTD_OK) {
        st->writer = NULL;
        pthread_mutex_unlock(&st->wlock);
        return r;
    }
    sqlite3_busy_timeout(st->writer->db, left < 1 ? 1 : (int)left);
    *out = st->writer;
    return JOTD_OK;
}

static void wconn_put(sqlite_store_t *st, struct conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        tx_rollback(c);
    /* a connection stuck in a transaction, or fallen back to read-only (see conn_put), is
     * replaced by a new one at the next write */
    if (!sqlite3_get_autocommit(c->db) || sqlite3_db_readonly(c->db, "main") == 1) {
        conn_close(c);
        st->writer = NULL;
    }
    pthread_mutex_unlock(&st->wlock);
}

/* BEGIN IMMEDIATE at sync \p level. */
static jotd_rc_t tx_begin_at(struct conn *c, int level)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = set_sync(c, level);
    if (r == JOTD_OK)
        r = prep(c, ST_BEGIN, &s);
    if (r == JOTD_OK)
        r = run(c, s, NULL);
    return r;
}

/* A transaction that must survive power loss once committed. */
static jotd_rc_t tx_begin(struct conn *c)
{
    return tx_begin_at(c, SYNC_FULL);
}

/* The sync level of logins and rotations: what jotd_store_set_durability() chose. */
static int light_level(sqlite_store_t *st)
{
    return atomic_load(&st->base.durability) == JOTD_DURABILITY_NORMAL ? SYNC_NORMAL : SYNC_FULL;
}

/* A login or a rotation: at the level jotd_store_set_durability() chose. */
static jotd_rc_t tx_begin_light(struct conn *c)
{
    return tx_begin_at(c, light_level(c->st));
}

/* Roll back without touching this thread's error message (it tells what went wrong). */
static void tx_rollback(struct conn *c)
{
    if (sqlite3_get_autocommit(c->db))
        return; /* SQLite already rolled back (some errors do), or nothing was begun */
    if (!c->stmts[ST_ROLLBACK])
        sqlite3_prepare_v3(c->db, stmt_sql[ST_ROLLBACK], -1, SQLITE_PREPARE_PERSISTENT,
                           &c->stmts[ST_ROLLBACK], NULL);
    if (c->stmts[ST_ROLLBACK]) {
        sqlite3_step(c->stmts[ST_ROLLBACK]);
        sqlite3_reset(c->stmts[ST_ROLLBACK]);
    }
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* End the transaction: commit when \p commit, roll back otherwise. Returns \p r, or the
 * commit's error (the transaction then rolled back). */
static jotd_rc_t tx_end(struct conn *c, bool commit, jotd_rc_t r)
{
    if (!commit) {
        tx_rollback(c);
        return r;
    }
    sqlite3_stmt *s = NULL;
    jotd_rc_t cr = prep(c, ST_COMMIT, &s);
    if (cr == JOTD_OK)
        cr = run(c, s, NULL);
    if (cr != JOTD_OK) {
        tx_rollback(c);
        return cr;
    }
    return r;
}

/* ---- open / close ------------------------------------------------------------------------- */

static jotd_rc_t migrate(struct conn *c)
{
    int64_t version = 0, app_id = 0;
    jotd_rc_t r = query_int(c, "PRAGMA user_version", &version);
    if (r == JOTD_OK)
        r = query_int(c, "PRAGMA application_id", &app_id);
    if (r != JOTD_OK)
        return r;
    if (version == SCHEMA_VERSION && app_id == JOTD_APPLICATION_ID)
        return JOTD_OK; /* the common case; a read-only database gets this far too */

    r = tx_begin(c);
    if (r != JOTD_OK)
        return r;
    /* Again under the write lock: another process may have migrated meanwhile. */
    int64_t n_objects = 0;
    r = query_int(c, "PRAGMA user_version", &version);
    if (r == JOTD_OK)
        r = query_int(c, "PRAGMA application_id", &app_id);
    if (r == JOTD_OK)
        r = query_int(c, "SELECT count(*) FROM sqlite_master", &n_objects);
    if (r == JOTD_OK && (app_id != 0 || n_objects != 0 || version != 0) &&
        app_id != JOTD_APPLICATION_ID) {
        r = FAILF(JOTD_E_IO, "not a jotd database (application_id %lld, user_version %lld)",
                  (long long)app_id, (long long)version);
    }
    if (r == JOTD_OK && version > SCHEMA_VERSION) {
        r = FAILF(JOTD_E_IO, "database schema version %lld is newer than this jotd supports (%lld)",
                  (long long)version, (long long)SCHEMA_VERSION);
    }
    if (r == JOTD_OK && version < 0)
        r = fail(JOTD_E_IO, "negative schema version");
    char sql[64];
    if (r == JOTD_OK && version == 0) {
        snprintf(sql, sizeof sql, "PRAGMA application_id = %lld", (long long)JOTD_APPLICATION_ID);
        r = exec_sql(c, sql);
    }
    for (int64_t v = version; r == JOTD_OK && v < SCHEMA_VERSION; v++) {
        r = exec_sql(c, migrations[v]);
        if (r == JOTD_OK) {
            snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", (long long)v + 1);
            r = exec_sql(c, sql);
        }
    }
    return tx_end(c, r == JOTD_OK, r);
}

static const jotd_store_ops_t sqlite_ops; /* at the end of this file */

/* ---- backup ------------------------------------------------------------------------------ */

/* One step of the copy that failed: the message names the file (db is either side). */
static jotd_rc_t copy_fail(sqlite3 *db, int rc, const char *what)
{
    jotd_rc_t r = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? JOTD_E_BUSY
                  : rc == SQLITE_NOMEM                     ? JOTD_E_NOMEM
                  : rc == SQLITE_NOTADB                    ? JOTD_E_INVAL
                                                           : JOTD_E_IO;
    return FAILF(r, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

jotd_rc_t jotd_store_sqlite_copy(const char *from, const char *to)
{
    if (!from || !to)
        return fail(JOTD_E_INVAL, "copy: NULL argument");
    /* the copy holds password and token hashes: 0600 from its first byte, and never a file
     * (or symlink) that was there before */
    int fd = open(to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errno == EEXIST ? FAILF(JOTD_E_INVAL, "%s exists: refusing to overwrite it", to)
                               : FAILF(JOTD_E_IO, "cannot create %s: %s", to, strerror(errno));
    close(fd);
    sqlite3 *src = NULL, *dst = NULL;
    jotd_rc_t r = JOTD_OK;
    int rc = sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        r = copy_fail(src, rc, from);
        goto out;
    }
    sqlite3_busy_timeout(src, BUSY_TIMEOUT_MS);
    rc = sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        r = copy_fail(dst, rc, to);
        goto out;
    }
    sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
    /* every page in one step: one read transaction on the source, so one snapshot (in WAL
     * mode writers go on meanwhile; the copy is what was committed when it started) */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        r = copy_fail(dst, sqlite3_errcode(dst), to);
        goto out;
    }
    rc = sqlite3_backup_step(b, -1);
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        r = copy_fail(src, rc, from);
        goto out;
    }
    if (frc != SQLITE_OK) {
        r = copy_fail(dst, frc, to);
        goto out;
    }
    /* one file, no -wal beside it, checked */
    sqlite3_stmt *q = NULL;
    rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &q, NULL);
    if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(q, 0);
        if (!v || strcmp((const char *)v, "ok") != 0)
            r = FAILF(JOTD_E_IO, "%s: the copy fails its check: %s", to, v ? (const char *)v : "?");
    } else if (rc != SQLITE_OK || r == JOTD_OK) {
        r = copy_fail(dst, sqlite3_errcode(dst), to);
    }
    sqlite3_finalize(q);
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    if (r != JOTD_OK)
        unlink(to);
    return r;
}

jotd_rc_t jotd_store_sqlite_open(const char *path, jotd_store_t **out)
{
    if (strcmp(path, ":memory:") == 0)
        return fail(JOTD_E_INVAL, "the store needs a file: every connection of the pool must "
                                  "see the same database");
    if (!sqlite3_threadsafe())
        return fail(JOTD_E_IO, "SQLite was built without thread support");
    if (sqlite3_libversion_number() < 3037000)
        return fail(JOTD_E_IO, "SQLite 3.37 or newer is required (STRICT tables)");

    /* Create the file 0600 ourselves: it holds password and token hashes. SQLite gives the
     * -wal and -shm files the mode of the database file. */
    /* O_EXCL does not follow a symlink at the name (EEXIST); an existing name must be the
     * database itself, not a symlink to a file elsewhere (SQLITE_OPEN_NOFOLLOW says so
     * too, in conn_open; this check gives the clear message) */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int open_errno = errno;
    struct stat lst;
    if (fd >= 0) {
        close(fd);
    } else if (open_errno == EEXIST && lstat(path, &lst) == 0 && !S_ISREG(lst.st_mode)) {
        return FAILF(JOTD_E_IO, "%s is %s, not the database file: refusing it", path,
                     S_ISLNK(lst.st_mode) ? "a symbolic link" : "not a regular file");
    } else if (open_errno != EEXIST) {
        int e = open_errno;
        char eb[128];
        if (strerror_r(e, eb, sizeof eb) != 0)
            snprintf(eb, sizeof eb, "errno %d", e);
        jotd_rc_t rc = e == ENOMEM ? JOTD_E_NOMEM : JOTD_E_IO;
        return FAILF(rc, "cannot create %s: %s", path, eb);
    }

    sqlite_store_t *st = calloc(1, sizeof *st);
    if (!st)
        return fail(JOTD_E_NOMEM, "out of memory");
    st->base.ops = &sqlite_ops;
    atomic_init(&st->base.durability, JOTD_DURABILITY_FULL);
    st->path = jotx_strdup_n(path, strlen(path));
    if (!st->path || pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st->path);
        free(st);
        return fail(JOTD_E_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&st->wlock, NULL) != 0) {
        pthread_mutex_destroy(&st->lock);
        free(st->path);
        free(st);
        return fail(JOTD_E_NOMEM, "out of memory");
    }

    struct conn *c = NULL;
    jotd_rc_t r = conn_open(st, &c);
    if (r == JOTD_OK) {
        /* journal_mode is persistent: this is a no-op once the file is in WAL mode (which is
         * also why a read-only copy of a WAL database still opens). */
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
            r = db_fail(c->db, rc);
        } else {
            const char *mode = (const char *)sqlite3_column_text(s, 0);
            if (!mode || strcmp(mode, "wal") != 0) {
                r = FAILF(JOTD_E_IO, "cannot put the database in WAL mode (journal_mode %s)",
                          mode ? mode : "?");
            }
        }
        sqlite3_finalize(s);
    }
    if (r == JOTD_OK)
        r = migrate(c);
    if (r != JOTD_OK) {
        conn_close(c);
        pthread_mutex_destroy(&st->lock);
        pthread_mutex_destroy(&st->wlock);
        free(st->path);
        free(st);
        return r;
    }
    conn_put(st, c);
    *out = &st->base;
    return JOTD_OK;
}

static void sq_close(jotd_store_t *base)
{
    sqlite_store_t *st = as_sq(base);
    /* No call may be in flight: every connection is on the idle list, or the writer. */
    conn_close(st->writer);
    struct conn *c = st->idle;
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->wlock);
    free(st->path);
    free(st);
}

static jotd_rc_t sq_schema_version(jotd_store_t *base, int64_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = query_int(c, "PRAGMA user_version", out);
    conn_put(st, c);
    return r;
}

/* ---- users -------------------------------------------------------------------------------- */

/* A statement used too rarely to keep prepared (user creation, start-up, rehashing). */
static jotd_rc_t adhoc(struct conn *c, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(c->db, sql, -1, out, NULL);
    return rc == SQLITE_OK ? JOTD_OK : db_fail(c->db, rc);
}

/* No user's name equals \p name up to ASCII case (NOCASE folds A-Z only): "Admin" next to
 * "admin" would be two accounts that people and logs tell apart by case alone. Inside the
 * create transaction. Logins stay exact-match. A scan of users (the UNIQUE index is
 * BINARY); creating users is rare. */
static jotd_rc_t username_free_tx(struct conn *c, const char *name)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r =
        adhoc(c, "SELECT username FROM users WHERE username = ?1 COLLATE NOCASE LIMIT 1", &s);
    if (r != JOTD_OK)
        return r;
    int rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        r = FAILF(JOTD_E_EXISTS,
                  "user %s already exists as %s (names differing only in case are refused)", name,
                  (const char *)sqlite3_column_text(s, 0));
    } else if (rc != SQLITE_DONE) {
        r = db_fail(c->db, rc);
    }
    sqlite3_finalize(s);
    return r;
}

static jotd_rc_t sq_user_create(jotd_store_t *base, const jotd_user_t *u, int64_t now,
                                int64_t *out_id)
{
    sqlite_store_t *st = as_sq(base);
    char *roles = NULL, *perms = NULL;
    jotd_rc_t r = jotd_store__list_encode((const char *const *)u->roles, u->n_roles, &roles);
    if (r == JOTD_OK)
        r = jotd_store__list_encode((const char *const *)u->permissions, u->n_permissions, &perms);
    struct conn *c = NULL;
    if (r == JOTD_OK)
        r = wconn_get(st, &c);
    if (r != JOTD_OK)
        goto out;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        int64_t id = 0;
        r = username_free_tx(c, u->username);
        if (r == JOTD_OK)
            r = prep(c, ST_USER_INSERT, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, u->username, &b);
            bind_text(s, 2, u->password_hash, &b);
            bind_text(s, 3, roles, &b);
            bind_text(s, 4, perms, &b);
            bind_i64(s, 5, u->disabled ? 1 : 0, &b);
            bind_i64(s, 6, now, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
            id = sqlite3_last_insert_rowid(c->db);
        }
        if (r == JOTD_E_EXISTS && s)
            r = FAILF(r, "user %s already exists", u->username);
        r = tx_end(c, r == JOTD_OK, r);
        if (r == JOTD_OK && out_id)
            *out_id = id;
    }
    wconn_put(st, c);
out:
    free(roles);
    free(perms);
    return r;
}

/* One user by the prepared statement \p id, whose ?1 the caller has bound. */
static jotd_rc_t user_fetch(struct conn *c, sqlite3_stmt *s, jotd_user_t *out)
{
    bool row;
    jotd_rc_t r = step_row(c, s, &row);
    if (r != JOTD_OK)
        return r;
    if (!row)
        return fail(JOTD_E_NOTFOUND, "no such user");
    r = row_user(s, 0, out);
    done(s);
    return r;
}

static jotd_rc_t sq_user_get(jotd_store_t *base, int64_t id, jotd_user_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_USER_GET, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_i64(s, 1, id, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : user_fetch(c, s, out);
    }
    conn_put(st, c);
    return r;
}

static jotd_rc_t sq_user_get_by_name(jotd_store_t *base, const char *username, jotd_user_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_USER_GET_NAME, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, username, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : user_fetch(c, s, out);
    }
    conn_put(st, c);
    return r;
}

static jotd_rc_t user_row(sqlite3_stmt *s, void *elem)
{
    return row_user(s, 0, elem);
}

static void user_clear(void *elem)
{
    jotd_user_clear(elem);
}

static jotd_rc_t sq_user_list(jotd_store_t *base, int64_t after_id, size_t limit, jotd_user_t **out,
                              size_t *out_n)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_USER_LIST, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_i64(s, 1, after_id, &b);
        bind_i64(s, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit, &b);
        if (b != SQLITE_OK)
            r = bind_fail(c, s, b);
    }
    void *v = NULL;
    size_t n = 0;
    if (r == JOTD_OK)
        r = read_rows(c, s, sizeof(jotd_user_t), user_row, user_clear, &v, &n);
    conn_put(st, c);
    if (r == JOTD_OK) {
        *out = v;
        *out_n = n;
    }
    return r;
}

/* ---- events ------------------------------------------------------------------------------- */

/* Record an event inside the caller's transaction. */
static jotd_rc_t event_tx(struct conn *c, jotd_event_kind_t kind, const char *subject,
                          int64_t value, int64_t now)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    jotd_rc_t r = prep(c, ST_EVENT_INSERT, &s);
    if (r != JOTD_OK)
        return r;
    bind_text(s, 1, jotd_store__event_name(kind), &b);
    bind_text(s, 2, subject, &b);
    bind_i64(s, 3, value, &b);
    bind_i64(s, 4, now, &b);
    return b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
}

/* Bump a user's generation by one and record it; inside a transaction. */
static jotd_rc_t generation_event_tx(struct conn *c, int64_t user_id, int64_t new_gen, int64_t now)
{
    char subject[24];
    snprintf(subject, sizeof subject, "%lld", (long long)user_id);
    return event_tx(c, JOTD_EV_USER_GENERATION, subject, new_gen, now);
}

static jotd_rc_t user_generation_tx(struct conn *c, int64_t user_id, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    bool row = false;
    jotd_rc_t r = prep(c, ST_USER_GENERATION, &s);
    if (r != JOTD_OK)
        return r;
    bind_i64(s, 1, user_id, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
    if (r != JOTD_OK)
        return r;
    if (!row)
        return fail(JOTD_E_NOTFOUND, "no such user");
    *out = col_i64(s, 0);
    done(s);
    return JOTD_OK;
}

static jotd_rc_t sq_events_since(jotd_store_t *base, int64_t after_id, size_t limit,
                                 void (*cb)(void *ctx, const jotd_event_t *ev), void *ctx,
                                 int64_t *out_last)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    int64_t last = after_id;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_EVENTS_SINCE, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_i64(s, 1, after_id, &b);
        bind_i64(s, 2, (int64_t)limit, &b);
        if (b != SQLITE_OK)
            r = bind_fail(c, s, b);
    }
    while (r == JOTD_OK) {
        bool row;
        r = step_row(c, s, &row);
        if (r != JOTD_OK || !row)
            break;
        jotd_event_t ev = {
            .id = col_i64(s, 0), .value = col_i64(s, 3), .created_at = col_i64(s, 4)};
        const char *kind = (const char *)sqlite3_column_text(s, 1);
        ev.subject = (const char *)sqlite3_column_text(s, 2);
        if (!kind || !ev.subject) {
            r = fail(JOTD_E_NOMEM, "out of memory reading events");
            done(s);
            break;
        }
        last = ev.id;
        if ((ev.kind = jotd_store__event_kind(kind)) != 0) /* else one this build does not know */
            cb(ctx, &ev);
    }
    conn_put(st, c);
    if (r == JOTD_OK)
        *out_last = last;
    return r;
}

/* Revoke every session of \p user_id and kill their tokens; inside a transaction. */
static jotd_rc_t revoke_user_tx(struct conn *c, int64_t user_id, int64_t now, int *out_changes)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    jotd_rc_t r = prep(c, ST_STATUS_REVOKE_USER, &s);
    if (r != JOTD_OK)
        return r;
    bind_i64(s, 1, user_id, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    if (r == JOTD_OK)
        r = prep(c, ST_USER_SESSION_EVENTS, &s);
    if (r != JOTD_OK)
        return r;
    bind_i64(s, 1, user_id, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    if (r == JOTD_OK)
        r = prep(c, ST_USER_KILL_TOKENS, &s);
    if (r != JOTD_OK)
        return r;
    bind_i64(s, 1, user_id, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    if (r == JOTD_OK)
        r = prep(c, ST_USER_REVOKE_SESSIONS, &s);
    if (r != JOTD_OK)
        return r;
    bind_i64(s, 1, user_id, &b);
    bind_i64(s, 2, now, &b);
    return b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, out_changes);
}

static jotd_rc_t user_exists_tx(struct conn *c, int64_t id)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    bool row;
    jotd_rc_t r = prep(c, ST_USER_EXISTS, &s);
    if (r != JOTD_OK)
        return r;
    bind_i64(s, 1, id, &b);
    if (b != SQLITE_OK)
        return bind_fail(c, s, b);
    r = step_row(c, s, &row);
    if (r != JOTD_OK)
        return r;
    if (!row)
        return fail(JOTD_E_NOTFOUND, "no such user");
    done(s);
    return JOTD_OK;
}

static jotd_rc_t sq_user_update(jotd_store_t *base, int64_t id, const jotd_user_patch_t *patch,
                                int64_t now)
{
    sqlite_store_t *st = as_sq(base);
    bool bump =
        patch->password_hash || patch->disabled == 1 || patch->has_roles || patch->has_permissions;
    char *roles = NULL, *perms = NULL;
    jotd_rc_t r = JOTD_OK;
    if (patch->has_roles)
        r = jotd_store__list_encode(patch->roles, patch->n_roles, &roles);
    if (r == JOTD_OK && patch->has_permissions)
        r = jotd_store__list_encode(patch->permissions, patch->n_permissions, &perms);
    struct conn *c = NULL;
    if (r == JOTD_OK)
        r = wconn_get(st, &c);
    if (r != JOTD_OK)
        goto out;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        r = user_exists_tx(c, id);
        sqlite3_stmt *s = NULL;
        if (r == JOTD_OK)
            r = prep(c, ST_USER_UPDATE, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_i64(s, 1, id, &b);
            bind_text(s, 2, roles, &b);
            bind_text(s, 3, perms, &b);
            if (b == SQLITE_OK)
                b = patch->disabled < 0 ? sqlite3_bind_null(s, 4)
                                        : sqlite3_bind_int64(s, 4, patch->disabled);
            bind_text(s, 5, patch->password_hash, &b);
            bind_i64(s, 6, now, &b);
            bind_i64(s, 7, bump ? 1 : 0, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
        }
        /* A new password or a disabled account ends every session, in this transaction. */
        if (r == JOTD_OK && (patch->password_hash || patch->disabled == 1))
            r = revoke_user_tx(c, id, now, NULL);
        int64_t gen = 0;
        if (r == JOTD_OK && bump)
            r = user_generation_tx(c, id, &gen);
        if (r == JOTD_OK && bump)
            r = generation_event_tx(c, id, gen, now);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
out:
    free(roles);
    free(perms);
    return r;
}

static jotd_rc_t sq_user_delete(jotd_store_t *base, int64_t id, int64_t now)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        int changes = 0;
        int64_t gen = 0;
        /* the user's sessions go with the row: their events first, then a generation past
         * every access token the user holds */
        r = user_generation_tx(c, id, &gen);
        if (r == JOTD_OK)
            r = revoke_user_tx(c, id, now, NULL);
        if (r == JOTD_OK)
            r = generation_event_tx(c, id, gen + 1, now);
        if (r == JOTD_OK)
            r = prep(c, ST_USER_DELETE, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_i64(s, 1, id, &b);
            /* sessions and refresh tokens go with ON DELETE CASCADE */
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, &changes);
        }
        if (r == JOTD_OK && changes == 0)
            r = fail(JOTD_E_NOTFOUND, "no such user");
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

/* ---- clients ------------------------------------------------------------------------------ */

/* CLIENT_COLS starting at column 0. */
static jotd_rc_t row_client(sqlite3_stmt *s, jotd_client_t *out)
{
    jotd_client_t c = {.created_at = col_i64(s, 5),
                       .updated_at = col_i64(s, 6),
                       .status_idx = col_i64(s, 8),
                       .disabled = col_i64(s, 9) != 0,
                       .generation = col_i64(s, 10)};
    jotd_rc_t r = col_dup(s, 0, &c.client_id);
    if (r == JOTD_OK && !c.client_id)
        r = fail(JOTD_E_IO, "corrupt row: NULL client id");
    if (r == JOTD_OK)
        r = col_list(s, 7, &c.resources, &c.n_resources);
    if (r == JOTD_OK)
        r = col_dup(s, 1, &c.secret_hash);
    if (r == JOTD_OK)
        r = col_dup(s, 11, &c.jwks);
    if (r == JOTD_OK)
        r = col_dup(s, 12, &c.jwks_url);
    if (r == JOTD_OK)
        r = col_list(s, 13, &c.redirect_uris, &c.n_redirect_uris);
    if (r == JOTD_OK)
        r = col_list(s, 14, &c.allowed_origins, &c.n_allowed_origins);
    c.cookie_mode = col_i64(s, 15) != 0;
    c.has_refresh_grace = !col_null(s, 16);
    c.refresh_grace = c.has_refresh_grace ? col_i64(s, 16) : 0;
    if (r == JOTD_OK)
        r = col_list(s, 2, &c.scopes, &c.n_scopes);
    if (r == JOTD_OK)
        r = col_list(s, 3, &c.default_scopes, &c.n_default_scopes);
    if (r == JOTD_OK)
        r = col_list(s, 4, &c.introspect, &c.n_introspect);
    if (r != JOTD_OK) {
        jotd_client_clear(&c);
        return r;
    }
    *out = c;
    return JOTD_OK;
}

static jotd_rc_t status_alloc_tx(struct conn *c, int64_t *out);

static jotd_rc_t sq_client_create(jotd_store_t *base, const jotd_client_t *cl, int64_t now)
{
    sqlite_store_t *st = as_sq(base);
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
    jotd_store__client_lists_t l;
    jotd_rc_t r = jotd_store__client_lists(&p, &l);
    if (r != JOTD_OK)
        return r;
    struct conn *c;
    r = wconn_get(st, &c);
    if (r != JOTD_OK) {
        jotd_store__client_lists_free(&l);
        return r;
    }
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        int64_t idx = -1;
        r = status_alloc_tx(c, &idx);
        if (r == JOTD_OK)
            r = prep(c, ST_CLIENT_INSERT, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, cl->client_id, &b);
            bind_text(s, 2, cl->secret_hash, &b);
            bind_text(s, 3, l.scopes, &b);
            bind_text(s, 4, l.default_scopes, &b);
            bind_text(s, 5, l.introspect, &b);
            bind_i64(s, 6, now, &b);
            bind_text(s, 7, l.resources, &b);
            bind_i64(s, 8, idx, &b);
            bind_text(s, 9, cl->jwks, &b);
            bind_text(s, 10, cl->jwks_url, &b);
            bind_text(s, 11, l.redirect_uris, &b);
            bind_text(s, 12, l.allowed_origins, &b);
            bind_i64(s, 13, cl->cookie_mode ? 1 : 0, &b);
            if (b == SQLITE_OK)
                b = cl->has_refresh_grace ? sqlite3_bind_int64(s, 14, cl->refresh_grace)
                                          : sqlite3_bind_null(s, 14);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
        }
        if (r == JOTD_E_EXISTS)
            r = FAILF(r, "client %s already exists", cl->client_id);
        if (r == JOTD_OK)
            r = event_tx(c, JOTD_EV_CLIENT_CHANGED, cl->client_id, 0, now);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    jotd_store__client_lists_free(&l);
    return r;
}

static jotd_rc_t sq_client_get(jotd_store_t *base, const char *client_id, jotd_client_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_CLIENT_GET, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, client_id, &b);
        bool row = false;
        r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "no such client");
        if (r == JOTD_OK && row) {
            r = row_client(s, out);
            done(s);
        }
    }
    conn_put(st, c);
    return r;
}

/* A statement that changes one client row: JOTD_E_NOTFOUND when it changed none. */
static jotd_rc_t client_changed_tx(struct conn *c, sqlite3_stmt *s, int b, const char *client_id,
                                   int64_t now, bool with_event)
{
    int changes = 0;
    jotd_rc_t r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, &changes);
    if (r == JOTD_OK && changes == 0)
        r = fail(JOTD_E_NOTFOUND, "no such client (or it changed meanwhile)");
    if (r == JOTD_OK && with_event)
        r = event_tx(c, JOTD_EV_CLIENT_CHANGED, client_id, 0, now);
    return r;
}

static jotd_rc_t sq_client_update(jotd_store_t *base, const char *client_id,
                                  const jotd_client_patch_t *p, int64_t now)
{
    sqlite_store_t *st = as_sq(base);
    jotd_store__client_lists_t l;
    jotd_rc_t r = jotd_store__client_lists(p, &l);
    if (r != JOTD_OK)
        return r;
    struct conn *c;
    r = wconn_get(st, &c);
    if (r != JOTD_OK) {
        jotd_store__client_lists_free(&l);
        return r;
    }
    r = tx_begin(c);
    if (r == JOTD_OK) {
        jotd_client_t cur = {0};
        sqlite3_stmt *s = NULL;
        bool row = false;
        int b = SQLITE_OK;
        r = prep(c, ST_CLIENT_GET, &s);
        if (r == JOTD_OK) {
            bind_text(s, 1, client_id, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        }
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "no such client");
        if (r == JOTD_OK) {
            r = row_client(s, &cur);
            done(s);
        }
        if (r == JOTD_OK && p->secret_hash && !cur.secret_hash)
            r = fail(JOTD_E_INVAL, "a public client has no secret");
        if (r == JOTD_OK && jotd_store__client_patch_refused(&cur, p))
            r = fail(JOTD_E_INVAL, "cookie mode needs a public client with an allowed origin");
        jotd_client_clear(&cur);
        if (r == JOTD_OK)
            r = prep(c, ST_CLIENT_UPDATE, &s);
        if (r == JOTD_OK) {
            bind_text(s, 1, client_id, &b);
            bind_text(s, 2, p->secret_hash, &b);
            bind_text(s, 3, l.scopes, &b);
            bind_text(s, 4, l.default_scopes, &b);
            bind_text(s, 5, l.introspect, &b);
            bind_i64(s, 6, now, &b);
            bind_text(s, 7, l.resources, &b);
            bind_text(s, 8, p->jwks, &b);
            bind_text(s, 9, p->jwks_url, &b);
            bind_text(s, 10, l.redirect_uris, &b);
            bind_text(s, 11, l.allowed_origins, &b);
            if (b == SQLITE_OK)
                b = p->has_cookie_mode ? sqlite3_bind_int64(s, 12, p->cookie_mode ? 1 : 0)
                                       : sqlite3_bind_null(s, 12);
            if (b == SQLITE_OK)
                b = p->has_refresh_grace ? sqlite3_bind_int64(s, 13, p->refresh_grace)
                                         : sqlite3_bind_null(s, 13);
            r = client_changed_tx(c, s, b, client_id, now, true);
        }
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    jotd_store__client_lists_free(&l);
    return r;
}

/* One statement of client_id ?1 and time ?2. */
static jotd_rc_t client_step_tx(struct conn *c, int st_id, const char *client_id, int64_t now)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    jotd_rc_t r = prep(c, st_id, &s);
    if (r != JOTD_OK)
        return r;
    bind_text(s, 1, client_id, &b);
    bind_i64(s, 2, now, &b);
    return b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
}

/* Void what a client holds: its sessions (status bits, events, refresh tokens), its own
 * status bit, its service tokens (generation + event). Inside the write transaction. */
static jotd_rc_t client_void_tx(struct conn *c, const char *client_id, int64_t gen, int64_t idx,
                                int64_t now)
{
    static const int steps[] = {ST_CLIENT_STATUS_SESSIONS, ST_CLIENT_SESSION_EVENTS,
                                ST_CLIENT_KILL_TOKENS, ST_CLIENT_REVOKE_SESSIONS,
                                ST_CLIENT_DISABLE};
    jotd_rc_t r = JOTD_OK;
    for (size_t i = 0; r == JOTD_OK && i < sizeof steps / sizeof steps[0]; i++)
        r = client_step_tx(c, steps[i], client_id, now);
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    if (r == JOTD_OK && idx >= 0 && (r = prep(c, ST_CLIENT_STATUS_REVOKE, &s)) == JOTD_OK) {
        bind_i64(s, 1, idx, &b);
        bind_i64(s, 2, now, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    }
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_CLIENT_GENERATION, client_id, gen, now);
    return r;
}

static jotd_rc_t sq_client_set_state(jotd_store_t *base, const char *client_id, jotd_client_op_t op,
                                     int64_t now)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        int b = SQLITE_OK;
        bool row = false, disabled = false;
        int64_t gen = 0, idx = -1;
        r = prep(c, ST_CLIENT_STATE, &s);
        if (r == JOTD_OK) {
            bind_text(s, 1, client_id, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        }
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "no such client");
        if (r == JOTD_OK) {
            disabled = col_i64(s, 0) != 0;
            gen = col_i64(s, 1);
            idx = col_i64(s, 2);
            done(s);
        }
        bool changed = false;
        if (r == JOTD_OK && op != JOTD_CLIENT_ENABLE && !disabled) {
            r = client_void_tx(c, client_id, gen, idx, now);
            changed = true;
        }
        if (r == JOTD_OK && op == JOTD_CLIENT_ENABLE && disabled) {
            int64_t fresh = -1;
            r = status_alloc_tx(c, &fresh);
            if (r == JOTD_OK)
                r = prep(c, ST_CLIENT_ENABLE, &s);
            if (r == JOTD_OK) {
                bind_text(s, 1, client_id, &b);
                bind_i64(s, 2, fresh, &b);
                bind_i64(s, 3, now, &b);
                r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
            }
            changed = true;
        }
        if (r == JOTD_OK && op == JOTD_CLIENT_DELETE) {
            r = prep(c, ST_CLIENT_DELETE, &s);
            if (r == JOTD_OK) {
                bind_text(s, 1, client_id, &b);
                r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
            }
            changed = true;
        }
        if (r == JOTD_OK && changed)
            r = event_tx(c, JOTD_EV_CLIENT_CHANGED, client_id, 0, now);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t session_list_row(sqlite3_stmt *s, void *elem)
{
    jotd_session_t *se = elem;
    jotd_rc_t r = row_session(s, 0, se);
    if (r == JOTD_OK) {
        se->last_used_at = col_i64(s, N_SESSION_COLS + 1);
        r = col_dup(s, N_SESSION_COLS, &se->ip);
        if (r != JOTD_OK)
            jotd_session_clear(se);
    }
    return r;
}

static void session_list_clear(void *elem)
{
    jotd_session_clear(elem);
}

static jotd_rc_t sq_session_list(jotd_store_t *base, int64_t user_id, jotd_session_t **out,
                                 size_t *out_n)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    void *v = NULL;
    size_t n = 0;
    r = prep(c, ST_SESSION_LIST, &s);
    if (r == JOTD_OK) {
        bind_i64(s, 1, user_id, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b)
                           : read_rows(c, s, sizeof(jotd_session_t), session_list_row,
                                       session_list_clear, &v, &n);
    }
    conn_put(st, c);
    if (r == JOTD_OK) {
        *out = v;
        *out_n = n;
    }
    return r;
}

static jotd_rc_t sq_assertion_use(jotd_store_t *base, const char *client_id, const char *jti,
                                  int64_t exp)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        r = prep(c, ST_ASSERTION_USE, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, client_id, &b);
            bind_text(s, 2, jti, &b);
            bind_i64(s, 3, exp, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
        }
        if (r == JOTD_E_EXISTS)
            r = fail(r, "client assertion replayed");
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t sq_code_create(jotd_store_t *base, const uint8_t hash[JOTD_HASH_LEN],
                                const jotd_auth_code_t *code)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        r = prep(c, ST_CODE_INSERT, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_hash(s, 1, hash, &b);
            bind_text(s, 2, code->client_id, &b);
            bind_text(s, 3, code->redirect_uri, &b);
            bind_text(s, 4, code->code_challenge, &b);
            bind_text(s, 5, code->scope, &b);
            bind_i64(s, 6, code->user_id, &b);
            bind_text(s, 7, code->sid, &b);
            bind_i64(s, 8, code->expires_at, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
        }
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t sq_code_redeem(jotd_store_t *base, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                                jotd_auth_code_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_auth_code_t code = {0};
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        bool row = false;
        int b = SQLITE_OK;
        r = prep(c, ST_CODE_GET, &s);
        if (r == JOTD_OK) {
            bind_hash(s, 1, hash, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        }
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "no such code");
        if (r == JOTD_OK && row) {
            char *sid = NULL;
            code.user_id = col_i64(s, 4);
            code.expires_at = col_i64(s, 6);
            code.used = col_i64(s, 7) != 0;
            r = col_dup(s, 0, &code.client_id);
            if (r == JOTD_OK)
                r = col_dup(s, 1, &code.redirect_uri);
            if (r == JOTD_OK)
                r = col_dup(s, 2, &code.code_challenge);
            if (r == JOTD_OK)
                r = col_dup(s, 3, &code.scope);
            if (r == JOTD_OK)
                r = col_dup(s, 5, &sid);
            if (r == JOTD_OK && (!code.client_id || !code.redirect_uri || !code.code_challenge ||
                                 !code.scope || !sid || strlen(sid) != JOTD_SID_LEN))
                r = fail(JOTD_E_IO, "corrupt row: auth_codes");
            if (r == JOTD_OK)
                memcpy(code.sid, sid, JOTD_SID_LEN + 1);
            free(sid);
            done(s);
        }
        if (r == JOTD_OK) {
            b = SQLITE_OK;
            r = prep(c, code.used ? ST_CODE_REPLAY : ST_CODE_USE, &s);
            if (r == JOTD_OK) {
                bind_hash(s, 1, hash, &b);
                bind_i64(s, 2, now, &b);
                r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
            }
        }
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    if (r != JOTD_OK) {
        jotd_auth_code_clear(&code);
        return r;
    }
    *out = code;
    return JOTD_OK;
}

static jotd_rc_t sq_code_replayed(jotd_store_t *base, const uint8_t hash[JOTD_HASH_LEN], bool *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_CODE_REPLAYED, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bool row = false;
        bind_hash(s, 1, hash, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        if (r == JOTD_OK && row) {
            *out = col_i64(s, 0) != 0;
            done(s);
        }
    }
    conn_put(st, c);
    return r;
}

static jotd_rc_t sq_client_rehash(jotd_store_t *base, const char *client_id, const char *old_hash,
                                  const char *new_hash)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        r = prep(c, ST_CLIENT_REHASH, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, client_id, &b);
            bind_text(s, 2, old_hash, &b);
            bind_text(s, 3, new_hash, &b);
            r = client_changed_tx(c, s, b, client_id, 0, false);
        }
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t client_row(sqlite3_stmt *s, void *elem)
{
    return row_client(s, elem);
}

static void client_clear(void *elem)
{
    jotd_client_clear(elem);
}

static jotd_rc_t sq_client_list(jotd_store_t *base, jotd_client_t **out, size_t *out_n)
{
    return list_all(as_sq(base), ST_CLIENT_LIST, sizeof **out, client_row, client_clear,
                    (void **)out, out_n);
}

/* ---- sessions and refresh tokens ----------------------------------------------------------- */

/* min(now + idle_ttl, session_end) without overflow; the caller has checked now < end. */
static int64_t idle_expiry(int64_t now, int64_t idle_ttl, int64_t session_end)
{
    return idle_ttl >= session_end - now ? session_end : now + idle_ttl;
}

static jotd_rc_t token_insert_tx(struct conn *c, const uint8_t *hash, const char *sid, int64_t now,
                                 int64_t expires_at)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = prep(c, ST_TOKEN_INSERT, &s);
    if (r != JOTD_OK)
        return r;
    int b = SQLITE_OK;
    bind_hash(s, 1, hash, &b);
    bind_text(s, 2, sid, &b);
    bind_i64(s, 3, now, &b);
    bind_i64(s, 4, expires_at, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    if (r == JOTD_E_EXISTS)
        r = fail(r, "refresh token hash already stored");
    return r;
}

/* The next status index, inside the write transaction. */
static jotd_rc_t status_alloc_tx(struct conn *c, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    bool row = false;
    jotd_rc_t r = prep(c, ST_STATUS_ALLOC, &s);
    if (r == JOTD_OK)
        r = step_row(c, s, &row);
    if (r == JOTD_OK && !row)
        r = fail(JOTD_E_IO, "corrupt store: no status_counter row");
    if (r == JOTD_OK) {
        *out = col_i64(s, 0);
        done(s);
    }
    return r;
}

static jotd_rc_t sq_session_create(jotd_store_t *base, const jotd_session_t *se,
                                   const uint8_t rt_hash[JOTD_HASH_LEN], int64_t idle_ttl,
                                   int64_t now, int64_t *out_idx)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    int64_t idx = -1;
    r = tx_begin_light(c); /* a login: see Durability at the top */
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        r = status_alloc_tx(c, &idx);
        if (r == JOTD_OK)
            r = prep(c, ST_SESSION_INSERT, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, se->sid, &b);
            bind_i64(s, 2, se->user_id, &b);
            bind_text(s, 3, se->client_id, &b);
            bind_text(s, 4, se->scope, &b);
            bind_i64(s, 5, now, &b);
            bind_i64(s, 6, se->expires_at, &b);
            bind_i64(s, 7, idx, &b);
            bind_text(s, 8, se->ip, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
            if (r == JOTD_E_EXISTS)
                r = fail(r, "session id already exists");
            else if (r == JOTD_E_NOTFOUND)
                r = fail(r, "session_create: no such user");
        }
        if (r == JOTD_OK)
            r = token_insert_tx(c, rt_hash, se->sid, now,
                                idle_expiry(now, idle_ttl, se->expires_at));
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    if (r == JOTD_OK)
        *out_idx = idx;
    return r;
}

/* Kill every unused token of a session and mark the session revoked (idempotent). */
static jotd_rc_t revoke_session_tx(struct conn *c, const char *sid, int64_t now)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    jotd_rc_t r = prep(c, ST_STATUS_REVOKE_SESSION, &s);
    if (r != JOTD_OK)
        return r;
    bind_text(s, 1, sid, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    if (r == JOTD_OK)
        r = prep(c, ST_SESSION_KILL_TOKENS, &s);
    if (r != JOTD_OK)
        return r;
    bind_text(s, 1, sid, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    if (r == JOTD_OK)
        r = prep(c, ST_SESSION_REVOKE, &s);
    if (r != JOTD_OK)
        return r;
    int changes = 0;
    bind_text(s, 1, sid, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, &changes);
    if (r == JOTD_OK && changes > 0) /* newly revoked */
        r = event_tx(c, JOTD_EV_SESSION_REVOKED, sid, now, now);
    return r;
}

/* Read the presented token's row with its session, its user and its recorded successor
 * (ST_TOKEN_ROTATE_SELECT) into *row and tmp->session/tmp->user. */
static jotd_rc_t rotate_read_tx(struct conn *c, const uint8_t *old_hash, int64_t now,
                                jotd_rotation_row_t *row, jotd_rotation_t *tmp)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    bool found;
    jotd_rc_t r = prep(c, ST_TOKEN_ROTATE_SELECT, &s);
    if (r != JOTD_OK)
        return r;
    bind_hash(s, 1, old_hash, &b);
    if (b != SQLITE_OK)
        return bind_fail(c, s, b);
    r = step_row(c, s, &found);
    if (r != JOTD_OK)
        return r;
    if (!found)
        return fail(JOTD_E_NOTFOUND, "refresh token not found");
    const int session_col = 6, user_col = session_col + N_SESSION_COLS;
    row->token_expires_at = col_i64(s, 0);
    row->used = !col_null(s, 1);
    row->used_at = col_i64(s, 1);
    if (!col_null(s, 2)) {
        const void *p = sqlite3_column_blob(s, 2);
        if (p && sqlite3_column_bytes(s, 2) == JOTD_HASH_LEN) {
            memcpy(row->successor, p, JOTD_HASH_LEN);
            row->has_successor = true;
        }
    }
    /* the successor's row (LEFT JOIN): present, unused, unexpired */
    row->successor_live = col_i64(s, 3) != 0 && col_i64(s, 4) != 0 && now < col_i64(s, 5);
    row->user_present = !col_null(s, user_col);
    r = row_session(s, session_col, &tmp->session);
    if (r == JOTD_OK && row->user_present)
        r = row_user(s, user_col, &tmp->user);
    done(s);
    return r;
}

/* The live case: mark the old token used, store its successor, touch the session. The
 * UPDATE is conditional and its change count checked: were two rotations of this token ever
 * to get here at once, only one could win. */
static jotd_rc_t rotate_apply_tx(struct conn *c, const uint8_t *old_hash, const uint8_t *new_hash,
                                 int64_t now, int64_t idle_ttl, const jotd_session_t *se)
{
    sqlite3_stmt *s = NULL;
    int b = SQLITE_OK;
    int changes = 0;
    jotd_rc_t r = prep(c, ST_TOKEN_MARK_USED, &s);
    if (r != JOTD_OK)
        return r;
    bind_hash(s, 1, old_hash, &b);
    bind_i64(s, 2, now, &b);
    bind_hash(s, 3, new_hash, &b);
    r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, &changes);
    if (r == JOTD_OK && changes != 1)
        r = fail(JOTD_E_BUSY, "refresh token rotated concurrently");
    if (r == JOTD_OK)
        r = token_insert_tx(c, new_hash, se->sid, now, idle_expiry(now, idle_ttl, se->expires_at));
    if (r == JOTD_OK)
        r = prep(c, ST_SESSION_TOUCH, &s);
    if (r != JOTD_OK)
        return r;
    bind_text(s, 1, se->sid, &b);
    bind_i64(s, 2, now, &b);
    return b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
}

/* The body of sq_refresh_rotate, inside BEGIN IMMEDIATE at sync \p level: read, let
 * jotd_rotation_decide() judge, apply. Fills *tmp (the caller clears it unless it hands it
 * out); *commit says whether the outcome must be committed (a rotation, or a reuse's
 * revocation) or rolled back (nothing changed). A reuse found below FULL changes nothing and
 * sets *again_full: the revocation must run in a FULL transaction. */
static jotd_rc_t rotate_tx(struct conn *c, const uint8_t *old_hash, const uint8_t *new_hash,
                           const char *client_id, int64_t now, int64_t idle_ttl,
                           int64_t grace_seconds, int level, jotd_rotation_t *tmp, bool *commit,
                           bool *again_full)
{
    *commit = false;
    *again_full = false;
    jotd_rotation_row_t row = {0};
    jotd_rc_t r = rotate_read_tx(c, old_hash, now, &row, tmp);
    if (r != JOTD_OK)
        return r;
    jotd_rotation_action_t a = jotd_rotation_decide(&row, &tmp->session, &tmp->user, client_id,
                                                    new_hash, now, grace_seconds);
    switch (a) {
    case JOTD_ROTATE_LIVE:
        r = rotate_apply_tx(c, old_hash, new_hash, now, idle_ttl, &tmp->session);
        *commit = r == JOTD_OK;
        return r;
    case JOTD_ROTATE_GRACE:
        tmp->grace = true;
        return JOTD_OK;
    case JOTD_ROTATE_REUSE:
        if (level != SYNC_FULL) {
            *again_full = true;
            return JOTD_E_REUSED;
        }
        r = revoke_session_tx(c, tmp->session.sid, now);
        if (r != JOTD_OK)
            return r;
        *commit = true;
        return jotd_rotation_rc(a, &tmp->session);
    default: /* EXPIRED, MISMATCH, DISABLED: nothing changes */
        return jotd_rotation_rc(a, &tmp->session);
    }
}

static jotd_rc_t sq_refresh_rotate(jotd_store_t *base, const uint8_t old_hash[JOTD_HASH_LEN],
                                   const uint8_t new_hash[JOTD_HASH_LEN], const char *client_id,
                                   int64_t now, int64_t idle_ttl, int64_t grace_seconds,
                                   jotd_rotation_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    jotd_rotation_t tmp = {0};
    /* At the light level first; a reuse found there must revoke at FULL: roll back and
     * decide again at FULL (the state may have changed in between; whatever the second run
     * finds is the answer). */
    int level = light_level(st);
    for (;;) {
        r = tx_begin_at(c, level);
        if (r != JOTD_OK)
            break;
        bool commit = false, again_full = false;
        r = rotate_tx(c, old_hash, new_hash, client_id, now, idle_ttl, grace_seconds, level, &tmp,
                      &commit, &again_full);
        if (again_full) {
            tx_end(c, false, r);
            jotd_rotation_clear(&tmp);
            level = SYNC_FULL;
            continue;
        }
        r = tx_end(c, commit, r);
        break;
    }
    wconn_put(st, c);
    if (r != JOTD_OK) {
        jotd_rotation_clear(&tmp);
        return r;
    }
    *out = tmp;
    return JOTD_OK;
}

/* The user columns after SESSION_COLS in ST_SESSION_GET/ST_TOKEN_LOOKUP: u.id, u.disabled. */
static bool user_active(sqlite3_stmt *s, int col)
{
    return !col_null(s, col) && col_i64(s, col + 1) == 0;
}

static jotd_rc_t sq_refresh_lookup(jotd_store_t *base, const uint8_t hash[JOTD_HASH_LEN],
                                   int64_t now, jotd_session_t *out, bool *out_live)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_TOKEN_LOOKUP, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bool row = false;
        bind_hash(s, 1, hash, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "refresh token not found");
        if (r == JOTD_OK) {
            jotd_session_t se;
            int64_t token_exp = col_i64(s, 0);
            bool unused = col_null(s, 1);
            bool user_ok = user_active(s, 2 + N_SESSION_COLS);
            r = row_session(s, 2, &se);
            done(s);
            if (r == JOTD_OK) {
                *out_live =
                    unused && now < token_exp && !se.revoked && now < se.expires_at && user_ok;
                *out = se;
            }
        }
    }
    conn_put(st, c);
    return r;
}

static jotd_rc_t sq_session_get(jotd_store_t *base, const char *sid, int64_t now,
                                jotd_session_t *out, bool *out_active)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_SESSION_GET, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bool row = false;
        bind_text(s, 1, sid, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "no such session");
        if (r == JOTD_OK) {
            jotd_session_t se;
            bool user_ok = user_active(s, N_SESSION_COLS);
            r = row_session(s, 0, &se);
            done(s);
            if (r == JOTD_OK) {
                *out_active = !se.revoked && now < se.expires_at && user_ok;
                *out = se;
            }
        }
    }
    conn_put(st, c);
    return r;
}

static jotd_rc_t sq_session_revoke(jotd_store_t *base, const char *sid, int64_t now)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        bool row = false;
        r = prep(c, ST_SESSION_EXISTS, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, sid, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
            if (row)
                done(s);
        }
        if (r == JOTD_OK && !row)
            r = fail(JOTD_E_NOTFOUND, "no such session");
        if (r == JOTD_OK)
            r = revoke_session_tx(c, sid, now);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t sq_sessions_revoke_user(jotd_store_t *base, int64_t user_id, int64_t now,
                                         size_t *out_n)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    int changes = 0;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        r = user_exists_tx(c, user_id);
        if (r == JOTD_OK)
            r = revoke_user_tx(c, user_id, now, &changes);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    if (r == JOTD_OK && out_n)
        *out_n = changes > 0 ? (size_t)changes : 0;
    return r;
}

/* ---- denylist ----------------------------------------------------------------------------- */

static jotd_rc_t sq_deny_add(jotd_store_t *base, const char *jti, int64_t exp)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        r = prep(c, ST_DENY_ADD, &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_text(s, 1, jti, &b);
            bind_i64(s, 2, exp, &b);
            r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
        }
        if (r == JOTD_OK)
            r = event_tx(c, JOTD_EV_JTI_REVOKED, jti, exp, (int64_t)time(NULL));
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t sq_deny_load(jotd_store_t *base, int64_t now,
                              void (*cb)(void *ctx, const char *jti, int64_t exp), void *ctx)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_DENY_LOAD, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_i64(s, 1, now, &b);
        if (b != SQLITE_OK)
            r = bind_fail(c, s, b);
    }
    while (r == JOTD_OK) {
        bool row;
        r = step_row(c, s, &row);
        if (r != JOTD_OK || !row)
            break;
        const char *jti = (const char *)sqlite3_column_text(s, 0);
        if (!jti) {
            r = fail(JOTD_E_NOMEM, "out of memory reading the denylist");
            done(s);
            break;
        }
        /* jti is valid during the call only */
        cb(ctx, jti, col_i64(s, 1));
    }
    conn_put(st, c);
    return r;
}

/* ---- garbage collection ------------------------------------------------------------------- */

static jotd_rc_t gc_step(struct conn *c, enum stmt_id id, int64_t t)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = prep(c, id, &s);
    if (r != JOTD_OK)
        return r;
    int b = SQLITE_OK;
    bind_i64(s, 1, t, &b);
    return b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
}

static jotd_rc_t throttle_gc_tx(struct conn *c, int64_t now); /* throttling, below */

static jotd_rc_t sq_gc(jotd_store_t *base, int64_t now, int64_t keep_seconds)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = tx_begin(c);
    if (r == JOTD_OK) {
        /* Expired tokens only: a used token that has not expired must stay, it is what
         * detects a replay. */
        r = gc_step(c, ST_GC_TOKENS, now);
        if (r == JOTD_OK)
            r = gc_step(c, ST_GC_SESSIONS, now - keep_seconds);
        if (r == JOTD_OK)
            r = gc_step(c, ST_GC_DENY, now);
        if (r == JOTD_OK)
            r = gc_step(c, ST_GC_EVENTS, now - keep_seconds);
        if (r == JOTD_OK)
            r = gc_step(c, ST_GC_STATUS, now - keep_seconds);
        if (r == JOTD_OK)
            r = gc_step(c, ST_GC_ASSERTIONS, now);
        if (r == JOTD_OK)
            r = gc_step(c, ST_GC_CODES, now - keep_seconds);
        if (r == JOTD_OK)
            r = throttle_gc_tx(c, now);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

/* ---- status lists ------------------------------------------------------------------------- */

static jotd_rc_t sq_status_read(jotd_store_t *base, int64_t first, int64_t count,
                                void (*cb)(void *ctx, int64_t idx), void *ctx, int64_t *out_next)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    bool row = false;
    int64_t next = 0;
    r = prep(c, ST_STATUS_NEXT, &s);
    if (r == JOTD_OK)
        r = step_row(c, s, &row);
    if (r == JOTD_OK && !row)
        r = fail(JOTD_E_IO, "corrupt store: no status_counter row");
    if (r == JOTD_OK) {
        next = col_i64(s, 0);
        done(s);
        r = prep(c, ST_STATUS_RANGE, &s);
    }
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_i64(s, 1, first, &b);
        bind_i64(s, 2, first + count, &b);
        if (b != SQLITE_OK)
            r = bind_fail(c, s, b);
    }
    while (r == JOTD_OK) {
        r = step_row(c, s, &row);
        if (r != JOTD_OK || !row)
            break;
        cb(ctx, col_i64(s, 0));
    }
    conn_put(st, c);
    if (r == JOTD_OK)
        *out_next = next;
    return r;
}

/* ---- signing keys and secrets -------------------------------------------------------------- */

/* \p fn in one write transaction (BEGIN IMMEDIATE; committed when it returns JOTD_OK, at the
 * durability of logins with \p light, else at full durability; rolled back otherwise). */
static jotd_rc_t write_tx(sqlite_store_t *st, bool light,
                          jotd_rc_t (*fn)(struct conn *c, void *ctx), void *ctx)
{
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    r = light ? tx_begin_light(c) : tx_begin(c);
    if (r == JOTD_OK) {
        r = fn(c, ctx);
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

static jotd_rc_t row_key(sqlite3_stmt *s, jotd_key_row_t *k)
{
    memset(k, 0, sizeof *k);
    k->created_at = col_i64(s, 4);
    k->activate_at = col_i64(s, 5);
    k->revoked_at = col_null(s, 6) ? 0 : col_i64(s, 6);
    jotd_rc_t r = col_dup(s, 0, &k->kid);
    if (r == JOTD_OK)
        r = col_dup(s, 1, &k->alg);
    if (r == JOTD_OK)
        r = col_dup(s, 2, &k->public_jwk);
    if (r == JOTD_OK)
        r = col_dup(s, 3, &k->private_sealed);
    if (r == JOTD_OK && (!k->kid || !k->alg || !k->public_jwk || !k->private_sealed))
        r = fail(JOTD_E_IO, "corrupt row in signing_keys");
    if (r != JOTD_OK)
        jotd_key_row_clear(k);
    return r;
}

static jotd_rc_t key_row(sqlite3_stmt *s, void *elem)
{
    return row_key(s, elem);
}

static void key_clear(void *elem)
{
    jotd_key_row_clear(elem);
}

static jotd_rc_t sq_key_list(jotd_store_t *base, jotd_key_row_t **out, size_t *out_n)
{
    return list_all(as_sq(base), ST_KEY_LIST, sizeof **out, key_row, key_clear, (void **)out,
                    out_n);
}

static jotd_rc_t key_insert(struct conn *c, const jotd_key_row_t *k)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = prep(c, ST_KEY_INSERT, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, k->kid, &b);
        bind_text(s, 2, k->alg, &b);
        bind_text(s, 3, k->public_jwk, &b);
        bind_text(s, 4, k->private_sealed, &b);
        bind_i64(s, 5, k->created_at, &b);
        bind_i64(s, 6, k->activate_at, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, NULL);
    }
    if (r == JOTD_E_EXISTS)
        r = FAILF(r, "signing key %s exists", k->kid);
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_KEY_CHANGED, k->kid, k->created_at, k->created_at);
    return r;
}

struct key_write {
    const jotd_key_row_t *k; /* to insert (may be NULL for a revocation) */
    bool only_if_none;
    const char *kid; /* to revoke */
    int64_t now;
};

static jotd_rc_t key_add_fn(struct conn *c, void *ctx)
{
    struct key_write *x = ctx;
    if (x->only_if_none) {
        sqlite3_stmt *s = NULL;
        bool row = false;
        jotd_rc_t r = prep(c, ST_KEY_ANY_LIVE, &s);
        if (r == JOTD_OK)
            r = step_row(c, s, &row);
        if (r == JOTD_OK && row) {
            done(s);
            return fail(JOTD_E_EXISTS, "the store has a signing key already");
        }
        if (r != JOTD_OK)
            return r;
    }
    return key_insert(c, x->k);
}

static jotd_rc_t sq_key_add(jotd_store_t *base, const jotd_key_row_t *k, bool only_if_none)
{
    struct key_write x = {.k = k, .only_if_none = only_if_none};
    return write_tx(as_sq(base), false, key_add_fn, &x);
}

static jotd_rc_t key_revoke_fn(struct conn *c, void *ctx)
{
    struct key_write *x = ctx;
    sqlite3_stmt *s = NULL;
    int changes = 0;
    jotd_rc_t r = prep(c, ST_KEY_REVOKE, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, x->kid, &b);
        bind_i64(s, 2, x->now, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, &changes);
    }
    if (r == JOTD_OK && changes == 0)
        r = FAILF(JOTD_E_NOTFOUND, "no signing key %s", x->kid);
    if (r == JOTD_OK)
        r = event_tx(c, JOTD_EV_KEY_CHANGED, x->kid, x->now, x->now);
    if (r == JOTD_OK && x->k)
        r = key_insert(c, x->k);
    return r;
}

static jotd_rc_t sq_key_revoke(jotd_store_t *base, const char *kid, int64_t now,
                               const jotd_key_row_t *replacement)
{
    struct key_write x = {.k = replacement, .kid = kid, .now = now};
    return write_tx(as_sq(base), false, key_revoke_fn, &x);
}

static jotd_rc_t sq_secret_get(jotd_store_t *base, const char *name, char **out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    sqlite3_stmt *s = NULL;
    r = prep(c, ST_SECRET_GET, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bool row = false;
        bind_text(s, 1, name, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : step_row(c, s, &row);
        if (r == JOTD_OK && !row)
            r = FAILF(JOTD_E_NOTFOUND, "no secret %s", name);
        if (r == JOTD_OK) {
            r = col_dup(s, 0, out);
            if (r == JOTD_OK && !*out)
                r = fail(JOTD_E_IO, "corrupt row in secrets");
            done(s);
        }
    }
    conn_put(st, c);
    return r;
}

struct secret_write {
    const char *name, *sealed;
    int64_t now;
};

static jotd_rc_t secret_put_fn(struct conn *c, void *ctx)
{
    struct secret_write *x = ctx;
    sqlite3_stmt *s = NULL;
    int changes = 0;
    jotd_rc_t r = prep(c, ST_SECRET_PUT, &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, x->name, &b);
        bind_text(s, 2, x->sealed, &b);
        bind_i64(s, 3, x->now, &b);
        r = b != SQLITE_OK ? bind_fail(c, s, b) : run(c, s, &changes);
    }
    if (r == JOTD_OK && changes == 0)
        r = FAILF(JOTD_E_EXISTS, "secret %s is set already", x->name);
    return r;
}

static jotd_rc_t sq_secret_put(jotd_store_t *base, const char *name, const char *sealed,
                               int64_t now)
{
    struct secret_write x = {.name = name, .sealed = sealed, .now = now};
    return write_tx(as_sq(base), false, secret_put_fn, &x);
}

/* ---- password hashes: parameters and rehashing --------------------------------------------- */

static jotd_rc_t sq_user_hash_params(jotd_store_t *base, char *out, size_t outlen)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    /* "$argon2id$v=19$" is 15 characters: the field runs from 16 to the next '$' */
    sqlite3_stmt *s = NULL;
    r = adhoc(c,
              "SELECT substr(password_hash, 16, instr(substr(password_hash, 16), '$') - 1) AS f,"
              " count(*) AS n FROM users"
              " WHERE substr(password_hash, 1, 15) = '$argon2id$v=19$'"
              " AND instr(substr(password_hash, 16), '$') > 1"
              " GROUP BY f ORDER BY n DESC, f LIMIT 1",
              &s);
    if (r == JOTD_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            const unsigned char *f = sqlite3_column_text(s, 0);
            size_t n = (size_t)sqlite3_column_bytes(s, 0);
            if (!f)
                r = fail(JOTD_E_NOMEM, "out of memory reading a column");
            else if (n >= outlen)
                r = fail(JOTD_E_INVAL, "user_hash_params: parameter field too long");
            else
                memcpy(out, f, n + 1);
        } else {
            r = rc == SQLITE_DONE ? fail(JOTD_E_NOTFOUND, "no Argon2id password hash stored")
                                  : db_fail(c->db, rc);
        }
        sqlite3_finalize(s);
    }
    conn_put(st, c);
    return r;
}

static jotd_rc_t sq_user_rehash(jotd_store_t *base, int64_t id, const char *old_hash,
                                const char *new_hash)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = wconn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    /* like a login: losing it to a power cut only means rehashing again at the next one */
    r = tx_begin_light(c);
    if (r == JOTD_OK) {
        sqlite3_stmt *s = NULL;
        int changes = 0;
        r = adhoc(c, "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
                  &s);
        if (r == JOTD_OK) {
            int b = SQLITE_OK;
            bind_i64(s, 1, id, &b);
            bind_text(s, 2, old_hash, &b);
            bind_text(s, 3, new_hash, &b);
            r = b != SQLITE_OK ? db_fail(c->db, b) : run(c, s, &changes);
            sqlite3_finalize(s);
        }
        if (r == JOTD_OK && changes == 0)
            r = fail(JOTD_E_NOTFOUND, "user gone or password changed meanwhile");
        r = tx_end(c, r == JOTD_OK, r);
    }
    wconn_put(st, c);
    return r;
}

/* ---- throttling ---------------------------------------------------------------------------- */

/* Statements of their own (adhoc), not in stmt_sql: failures are rare next to verifications,
 * and this section stays apart from the rest of the file. */
#define THROTTLE_COLS "failures, violations, win_start, lock_until"

static void row_throttle(sqlite3_stmt *s, jotd_throttle_state_t *out)
{
    out->failures = col_i64(s, 0);
    out->violations = col_i64(s, 1);
    out->win_start = col_i64(s, 2);
    out->lock_until = col_i64(s, 3);
}

/* The row of \p key into *out, *out_found false (and *out zeroed) when there is none. */
static jotd_rc_t throttle_read(struct conn *c, const char *key, jotd_throttle_state_t *out,
                               bool *out_found)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = adhoc(c, "SELECT " THROTTLE_COLS " FROM throttle WHERE key = ?1", &s);
    if (r != JOTD_OK)
        return r;
    int rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    memset(out, 0, sizeof *out);
    *out_found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        row_throttle(s, out);
    else if (rc != SQLITE_DONE)
        r = db_fail(c->db, rc);
    sqlite3_finalize(s);
    return r;
}

static jotd_rc_t sq_throttle_get(jotd_store_t *base, const char *key, jotd_throttle_state_t *out)
{
    sqlite_store_t *st = as_sq(base);
    struct conn *c;
    jotd_rc_t r = conn_get(st, &c);
    if (r != JOTD_OK)
        return r;
    jotd_throttle_state_t v;
    bool found = false;
    r = throttle_read(c, key, &v, &found);
    conn_put(st, c);
    if (r == JOTD_OK && !found)
        r = fail(JOTD_E_NOTFOUND, "no throttle row");
    if (r == JOTD_OK)
        *out = v;
    return r;
}

struct throttle_write {
    const char *key;
    int64_t now;
    jotd_throttle_step_fn step;
    void *ctx;
    jotd_throttle_state_t v;
};

static jotd_rc_t throttle_update_fn(struct conn *c, void *ctx)
{
    struct throttle_write *x = ctx;
    bool found = false;
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = throttle_read(c, x->key, &x->v, &found);
    if (r == JOTD_OK) {
        x->step(x->ctx, &x->v, x->now);
        r = adhoc(c,
                  "INSERT INTO throttle (key, " THROTTLE_COLS ", updated_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO UPDATE SET"
                  " failures = excluded.failures, violations = excluded.violations,"
                  " win_start = excluded.win_start, lock_until = excluded.lock_until,"
                  " updated_at = excluded.updated_at",
                  &s);
    }
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, x->key, &b);
        bind_i64(s, 2, x->v.failures, &b);
        bind_i64(s, 3, x->v.violations, &b);
        bind_i64(s, 4, x->v.win_start, &b);
        bind_i64(s, 5, x->v.lock_until, &b);
        bind_i64(s, 6, x->now, &b);
        r = b != SQLITE_OK ? db_fail(c->db, b) : run(c, s, NULL);
        sqlite3_finalize(s);
    }
    return r;
}

/* BEGIN IMMEDIATE holds the database's write lock from the read to the commit: no other
 * connection of any process can update the row in between. */
static jotd_rc_t sq_throttle_update(jotd_store_t *base, const char *key, int64_t now,
                                    jotd_throttle_step_fn step, void *ctx,
                                    jotd_throttle_state_t *out)
{
    struct throttle_write x = {.key = key, .now = now, .step = step, .ctx = ctx};
    jotd_rc_t r = write_tx(as_sq(base), true, throttle_update_fn, &x);
    if (r == JOTD_OK)
        *out = x.v;
    return r;
}

static jotd_rc_t throttle_clear_fn(struct conn *c, void *ctx)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = adhoc(c, "DELETE FROM throttle WHERE key = ?1", &s);
    if (r == JOTD_OK) {
        int b = SQLITE_OK;
        bind_text(s, 1, ctx, &b);
        r = b != SQLITE_OK ? db_fail(c->db, b) : run(c, s, NULL);
        sqlite3_finalize(s);
    }
    return r;
}

static jotd_rc_t sq_throttle_clear(jotd_store_t *base, const char *key)
{
    return write_tx(as_sq(base), true, throttle_clear_fn, (void *)key);
}

/* In sq_gc's transaction: rows idle for JOTD_THROTTLE_KEEP_S whose lock has ended. */
static jotd_rc_t throttle_gc_tx(struct conn *c, int64_t now)
{
    sqlite3_stmt *s = NULL;
    jotd_rc_t r = adhoc(c, "DELETE FROM throttle WHERE updated_at <= ?1 AND lock_until <= ?2", &s);
    if (r != JOTD_OK)
        return r;
    int b = SQLITE_OK;
    bind_i64(s, 1, now - JOTD_THROTTLE_KEEP_S, &b);
    bind_i64(s, 2, now, &b);
    r = b != SQLITE_OK ? db_fail(c->db, b) : run(c, s, NULL);
    sqlite3_finalize(s);
    return r;
}

/* ---- the operations table ------------------------------------------------------------------ */

static const jotd_store_ops_t sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .user_create = sq_user_create,
    .user_get = sq_user_get,
    .user_get_by_name = sq_user_get_by_name,
    .user_list = sq_user_list,
    .user_update = sq_user_update,
    .user_delete = sq_user_delete,
    .user_hash_params = sq_user_hash_params,
    .user_rehash = sq_user_rehash,
    .client_create = sq_client_create,
    .client_get = sq_client_get,
    .client_update = sq_client_update,
    .client_rehash = sq_client_rehash,
    .client_list = sq_client_list,
    .client_set_state = sq_client_set_state,
    .assertion_use = sq_assertion_use,
    .code_create = sq_code_create,
    .code_redeem = sq_code_redeem,
    .code_replayed = sq_code_replayed,
    .session_list = sq_session_list,
    .session_create = sq_session_create,
    .refresh_rotate = sq_refresh_rotate,
    .refresh_lookup = sq_refresh_lookup,
    .session_get = sq_session_get,
    .session_revoke = sq_session_revoke,
    .sessions_revoke_user = sq_sessions_revoke_user,
    .status_read = sq_status_read,
    .deny_add = sq_deny_add,
    .deny_load = sq_deny_load,
    .events_since = sq_events_since,
    .gc = sq_gc,
    .key_list = sq_key_list,
    .key_add = sq_key_add,
    .key_revoke = sq_key_revoke,
    .secret_get = sq_secret_get,
    .secret_put = sq_secret_put,
    /* throttling */
    .throttle_get = sq_throttle_get,
    .throttle_update = sq_throttle_update,
    .throttle_clear = sq_throttle_clear,
};
