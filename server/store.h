/* The store interface of jotd: users, clients, sessions (refresh-token families), the
 * persisted access-token denylist. Callers use only the jotd_store_* functions here.
 * store.c implements them: it checks the arguments and keeps the rules every backend shares
 * (the rotation decision, the stored list text, the error text), then calls the backend that
 * jotd_store_open() chose by the location, SQLite (store_sqlite.c) or PostgreSQL
 * (store_pg.c), through its table of operations (store_backend.h).
 *
 * Rules every backend keeps:
 * - every function is thread-safe (the server calls them from many worker threads);
 * - every state change is exactly one transaction: after a crash it happened or it did not;
 * - refresh tokens are never stored, only their SHA-256 (32 bytes);
 * - strings returned inside out-structs are owned by the struct: release them with the
 *   matching *_clear() function; out-structs are written only on JOTD_OK;
 * - every function answers with a jotd_rc_t of rc.h (the one table of codes), details of the
 *   last failure in jotd_store_errmsg(). */
#ifndef JOTD_STORE_H
#define JOTD_STORE_H

#include "rc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOTD_SID_BYTES 16           /* random bytes of a session id or jti (128 bits) */
#define JOTD_SID_LEN 22             /* JOTD_SID_BYTES in base64url; also the length of a jti */
#define JOTD_REFRESH_TOKEN_BYTES 32 /* random bytes of a refresh token (256 bits) */
#define JOTD_REFRESH_TOKEN_LEN 43   /* JOTD_REFRESH_TOKEN_BYTES in base64url */
#define JOTD_HASH_LEN 32

typedef struct jotd_user {
    int64_t id;
    char *username;
    char *password_hash; /* PHC string ($argon2id$...) */
    char **roles;        /* n_roles strings */
    size_t n_roles;
    char **permissions;
    size_t n_permissions;
    bool disabled;
    int64_t generation; /* bumped on disable, delete, password or role change: access tokens
                           carry it, and those of an older generation are void */
    int64_t created_at, updated_at;
} jotd_user_t;

void jotd_user_clear(jotd_user_t *u); /* frees every field, zeroes the struct */

/* A change to a user: NULL / -1 means "leave as it is". */
typedef struct jotd_user_patch {
    const char *const *roles; /* with has_roles */
    size_t n_roles;
    bool has_roles;
    const char *const *permissions; /* with has_permissions */
    size_t n_permissions;
    bool has_permissions;
    int disabled;              /* -1 unchanged, 0 enable, 1 disable */
    const char *password_hash; /* new PHC string; changing it ends every session */
} jotd_user_patch_t;
/* Which patches bump the user's generation (voiding their access tokens): disabling, a new
 * password, new roles or permissions. Enabling does not. */

typedef struct jotd_session {
    char sid[JOTD_SID_LEN + 1];
    int64_t user_id;
    char *client_id;
    char *scope; /* space-separated, may be "" */
    int64_t created_at;
    int64_t expires_at; /* absolute lifetime end */
    bool revoked;
    /* The session's index in the Token Status Lists (statuslist.h): allocated once at
     * creation from a counter that only grows, never reused; every access token of the
     * session carries it. Its bit is 1 once the session is revoked (status_revoked). */
    int64_t status_idx;
    char *ip;             /* the address of the login (NULL: not recorded) */
    int64_t last_used_at; /* filled by jotd_store_session_list only */
} jotd_session_t;

void jotd_session_clear(jotd_session_t *s);

typedef struct jotd_store jotd_store_t;

/** Open (creating if needed) the store and bring its schema up to date. \p location: a
 *  libpq connection URI (postgres://... or postgresql://...) for PostgreSQL, otherwise a
 *  file path for SQLite (WAL mode). A new store commits everything at
 *  JOTD_DURABILITY_FULL. */
jotd_rc_t jotd_store_open(const char *location, jotd_store_t **out);
/** Copy the SQLite database file \p from into a new file \p to (created mode 0600, never
 *  over an existing one) with SQLite's online backup API: one consistent snapshot, the
 *  pages still in the write-ahead log included, while other processes keep reading and
 *  writing \p from. \p to is left a single self-contained file (journal_mode DELETE) that
 *  passes PRAGMA quick_check; on failure it is removed. JOTD_E_INVAL (\p to exists, \p from
 *  is not a SQLite database), JOTD_E_IO, JOTD_E_BUSY, JOTD_E_NOMEM. */
jotd_rc_t jotd_store_sqlite_copy(const char *from, const char *to);
/** The schema version the store is at (what `jotd migrate` reports). */
jotd_rc_t jotd_store_schema_version(jotd_store_t *st, int64_t *out);

/* How durable the commits of logins and refresh rotations are (everything else is always
 * FULL: revocations, reuse detection, logout, user and client changes, the denylist).
 * - FULL: every commit is on stable storage before the call returns (an fsync each);
 * - NORMAL: a commit survives the death of the process at once, and power loss or an OS
 *   crash once the next FULL commit or checkpoint has synced the log. A power loss can
 *   therefore undo the latest logins and rotations, never a revocation: every FULL commit
 *   syncs the log up to and including itself. */
typedef enum jotd_durability {
    JOTD_DURABILITY_FULL = 0,
    JOTD_DURABILITY_NORMAL = 1,
} jotd_durability_t;

/** Set the durability of later logins and rotations (thread-safe; calls in flight keep
 *  theirs). */
void jotd_store_set_durability(jotd_store_t *st, jotd_durability_t d);
void jotd_store_close(jotd_store_t *st);
/** Human-readable detail of the last error in this thread (static or thread-local). */
const char *jotd_store_errmsg(const jotd_store_t *st);

/* ---- users ---- */
/** Create; u->id/created_at/updated_at ignored. Username unique (JOTD_E_EXISTS). */
jotd_rc_t jotd_store_user_create(jotd_store_t *st, const jotd_user_t *u, int64_t now,
                                 int64_t *out_id);
jotd_rc_t jotd_store_user_get(jotd_store_t *st, int64_t id, jotd_user_t *out);
jotd_rc_t jotd_store_user_get_by_name(jotd_store_t *st, const char *username, jotd_user_t *out);
/** Users with id > after_id in id order, at most \p limit. *out is an array of *out_n users,
 *  release with jotd_user_list_free(). */
jotd_rc_t jotd_store_user_list(jotd_store_t *st, int64_t after_id, size_t limit, jotd_user_t **out,
                               size_t *out_n);
void jotd_user_list_free(jotd_user_t *users, size_t n);
/** Apply \p patch in one transaction. A password change or disabling revokes every session
 *  of the user in the same transaction; those and a role or permission change bump the
 *  generation (a user_generation event; each revoked session a session_revoked event). */
jotd_rc_t jotd_store_user_update(jotd_store_t *st, int64_t id, const jotd_user_patch_t *patch,
                                 int64_t now);
/** Delete the user with its sessions and refresh tokens (a user_generation event voids the
 *  user's access tokens). */
jotd_rc_t jotd_store_user_delete(jotd_store_t *st, int64_t id, int64_t now);

/* ---- clients ---- */
#define JOTD_CLIENT_MAX_LIST 64   /* scopes, default scopes or introspection audiences */
#define JOTD_CLIENT_GRACE_MAX 60  /* a client's refresh grace, seconds (as --refresh-grace) */
#define JOTD_COOKIE_MODE_GRACE 10 /* the grace of a cookie-mode client that sets none */

typedef struct jotd_client {
    char *client_id;
    char *secret_hash; /* NULL: a public client; else "$jotd-hmac$..." or a legacy PHC string */
    char **scopes;     /* what the client may ask for */
    size_t n_scopes;
    char **default_scopes; /* granted when the client asks for none (a subset of scopes) */
    size_t n_default_scopes;
    char **introspect; /* audiences whose tokens it may introspect (a resource server) */
    size_t n_introspect;
    char **resources; /* audiences it may get client_credentials tokens for (RFC 8707) */
    size_t n_resources;
    /* the redirect URIs registered for the authorization code flow (RFC 6749 §3.1.2:
     * absolute, no fragment; compared as exact strings) */
    char **redirect_uris;
    size_t n_redirect_uris;
    /* its index in the Token Status Lists, from the sessions' never-reused counter
     * (allocated by client_create and again by an enable; the given value is ignored) */
    int64_t status_idx;
    bool disabled; /* cannot authenticate; its tokens were voided when disabled */
    /* private_key_jwt (RFC 7523 §2.2): its public JWK set, inline or fetched from a URL
     * (NULL: none). A client with either is confidential. */
    char *jwks;
    char *jwks_url;
    int64_t generation; /* service tokens carry it; a disable or delete voids the ones below */
    int64_t created_at, updated_at;
    /* browsers (docs/browser.md): the origins allowed to call jotd with credentials (CORS;
     * "https://host[:port]", jotd_origin_valid), and cookie mode (its refresh token only in
     * an HttpOnly cookie; a public client with at least one allowed origin) */
    char **allowed_origins;
    size_t n_allowed_origins;
    bool cookie_mode;
    bool has_refresh_grace; /* false: the default (cookie mode: 10 s, else --refresh-grace) */
    int64_t refresh_grace;  /* seconds, with has_refresh_grace */
} jotd_client_t;

void jotd_client_clear(jotd_client_t *c); /* frees every field (wiping the hash), zeroes */
/** A client that authenticates: with a secret or with private_key_jwt. */
bool jotd_client_is_confidential(const jotd_client_t *c);
/** Deep copy of \p src into \p dst: 0, or -1 when out of memory (dst zeroed). */
int jotd_client_copy(jotd_client_t *dst, const jotd_client_t *src);

/* A change to a client; each list only with its has_ flag (replacing the whole list). */
typedef struct jotd_client_patch {
    const char *secret_hash; /* non-NULL: replace (a confidential client only) */
    const char *jwks;        /* non-NULL: replace ("" clears) */
    const char *jwks_url;    /* non-NULL: replace ("" clears) */
    const char *const *scopes;
    size_t n_scopes;
    bool has_scopes;
    const char *const *default_scopes;
    size_t n_default_scopes;
    bool has_default_scopes;
    const char *const *introspect;
    size_t n_introspect;
    bool has_introspect;
    const char *const *resources;
    size_t n_resources;
    bool has_resources;
    const char *const *redirect_uris;
    size_t n_redirect_uris;
    bool has_redirect_uris;
    const char *const *allowed_origins;
    size_t n_allowed_origins;
    bool has_allowed_origins;
    bool has_cookie_mode, cookie_mode;
    bool has_refresh_grace;
    int64_t refresh_grace; /* with has_refresh_grace: seconds, or -1 back to the default */
} jotd_client_patch_t;

/* ---- authorization codes (RFC 6749 §4.1, RFC 7636) ---- */
typedef struct jotd_auth_code {
    char *client_id;
    char *redirect_uri;   /* exactly as the authorization request gave it */
    char *code_challenge; /* S256 (RFC 7636 §4.2) */
    char *scope;          /* granted, space-separated, may be "" */
    int64_t user_id;
    char sid[JOTD_SID_LEN + 1]; /* the session its exchange creates (revoked on a replay) */
    int64_t expires_at;
    bool used; /* redeemed before (jotd_store_code_redeem) */
} jotd_auth_code_t;
void jotd_auth_code_clear(jotd_auth_code_t *c); /* frees every field, zeroes */
/** Store a new code by the SHA-256 of its value (the value itself is never stored). */
jotd_rc_t jotd_store_code_create(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN],
                                 const jotd_auth_code_t *c);
/** Redeem the code of \p hash in one transaction: *out is its row; the first time it is
 *  marked used at \p now (out->used false), every later time out->used is true and the
 *  code is marked replayed (the caller revokes out->sid; see jotd_store_code_replayed).
 * JOTD_E_NOTFOUND for an unknown (or collected) code. The expiry is the caller's check. */
jotd_rc_t jotd_store_code_redeem(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                                 jotd_auth_code_t *out);
/** Whether the code of \p hash was presented again after its first redemption (every later
 *  jotd_store_code_redeem marks it, in its own transaction): *out. The first exchange asks
 *  after it stored its session, so a replay racing it is never lost: either the replay
 *  comes after that session was stored and revokes it, or the first exchange sees the mark
 *  here and revokes it itself. *out false for an unknown (collected) code. */
jotd_rc_t jotd_store_code_replayed(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], bool *out);

/** Create from \p c (created_at/updated_at ignored); JOTD_E_EXISTS when the id is taken.
 *  Writes a client_changed event. */
jotd_rc_t jotd_store_client_create(jotd_store_t *st, const jotd_client_t *c, int64_t now);
jotd_rc_t jotd_store_client_get(jotd_store_t *st, const char *client_id, jotd_client_t *out);
/** Apply \p p in one transaction with a client_changed event (every change to a client can
 *  void cached credentials). A secret for a public client is JOTD_E_INVAL. */
jotd_rc_t jotd_store_client_update(jotd_store_t *st, const char *client_id,
                                   const jotd_client_patch_t *p, int64_t now);
/** Replace a client's stored secret hash with \p new_hash only while it is still
 *  \p old_hash (a format upgrade after a successful check; no event: the secret is the same). */
jotd_rc_t jotd_store_client_rehash(jotd_store_t *st, const char *client_id, const char *old_hash,
                                   const char *new_hash);
typedef enum jotd_client_op {
    JOTD_CLIENT_DISABLE = 1,
    JOTD_CLIENT_ENABLE,
    JOTD_CLIENT_DELETE,
} jotd_client_op_t;
/** Disable, enable or delete a client, in one transaction. Disable and delete (of a client
 *  not disabled yet) revoke the sessions issued to it (session_revoked events, their
 *  refresh tokens killed, their status indexes in status_revoked), put the client's own
 *  status index in status_revoked, bump its generation and write a client_generation event
 *  (subject: client id, value: the generation voided), so that every instance refuses its
 *  service tokens at once. Enable gives it a new status index (the old one stays revoked, so
 *  that its earlier tokens stay void). Each writes a client_changed event (cached
 *  credentials dropped). Disabling a disabled or enabling an enabled client changes
 *  nothing. JOTD_E_NOTFOUND: no such client. */
jotd_rc_t jotd_store_client_set_state(jotd_store_t *st, const char *client_id, jotd_client_op_t op,
                                      int64_t now);
/** The sessions of \p user_id still stored (revoked ones until gc drops them), newest
 *  first, at most 1000: malloc'd array of *out_n (jotd_session_list_free). */
jotd_rc_t jotd_store_session_list(jotd_store_t *st, int64_t user_id, jotd_session_t **out,
                                  size_t *out_n);
void jotd_session_list_free(jotd_session_t *v, size_t n);
/** Record the jti of a client assertion (RFC 7523) until \p exp: JOTD_OK the first time,
 *  JOTD_E_EXISTS when (client, jti) is already there (a replay), on every instance of the
 *  store. gc drops rows past their exp. */
jotd_rc_t jotd_store_assertion_use(jotd_store_t *st, const char *client_id, const char *jti,
                                   int64_t exp);
/** Clients in id order, malloc'd array of *out_n (jotd_client_list_free). */
jotd_rc_t jotd_store_client_list(jotd_store_t *st, jotd_client_t **out, size_t *out_n);
void jotd_client_list_free(jotd_client_t *clients, size_t n);

/* ---- sessions and refresh tokens ---- */
/** Create a session and its first refresh token (hash \p rt_hash, idle expiry
 *  min(now + idle_ttl, s->expires_at)) in one transaction, with a new status-list index
 *  (s->status_idx given is ignored; on JOTD_OK it holds the index allocated). Indexes come
 *  from a counter that only grows (PostgreSQL: a SEQUENCE, so concurrent logins never wait
 *  on one row; SQLite: a one-row counter inside the write transaction): never reused, even
 *  after the session is deleted. */
jotd_rc_t jotd_store_session_create(jotd_store_t *st, jotd_session_t *s,
                                    const uint8_t rt_hash[JOTD_HASH_LEN], int64_t idle_ttl,
                                    int64_t now);

typedef struct jotd_rotation {
    jotd_session_t session;
    jotd_user_t user; /* the user record now: roles/permissions for the new access token */
    bool grace;       /* true: a duplicate within the grace window; new_hash is the existing
                         successor, nothing was changed */
} jotd_rotation_t;

void jotd_rotation_clear(jotd_rotation_t *r);

/** Rotate in one transaction:
 *  - old token unknown: JOTD_E_NOTFOUND;
 *  - session revoked or past expires_at, or old token past its idle expiry: JOTD_E_EXPIRED;
 *  - session issued to another client than \p client_id: JOTD_E_MISMATCH (nothing changes);
 *  - user disabled (or deleted): JOTD_E_DISABLED (nothing changes);
 *  - old token live: it is marked used (at now, successor new_hash), the successor is stored
 *    with idle expiry min(now + idle_ttl, session end) → JOTD_OK;
 *  - old token already used, now - used_at <= grace_seconds, its recorded successor equals
 *    \p new_hash and that successor is still live and unused → JOTD_OK with out->grace;
 *  - otherwise (reuse): the whole session and all its tokens are revoked → JOTD_E_REUSED.
 *  The caller derives new_hash deterministically from the old token (see server/token.c), which
 *  is what makes the grace answer identical. */
jotd_rc_t jotd_store_refresh_rotate(jotd_store_t *st, const uint8_t old_hash[JOTD_HASH_LEN],
                                    const uint8_t new_hash[JOTD_HASH_LEN], const char *client_id,
                                    int64_t now, int64_t idle_ttl, int64_t grace_seconds,
                                    jotd_rotation_t *out);
/** Find the session of a refresh token (live or not). *out_live: token unused, unexpired and
 *  its session active. */
jotd_rc_t jotd_store_refresh_lookup(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN],
                                    int64_t now, jotd_session_t *out, bool *out_live);
/** Session by id; *out_active: not revoked, not past expires_at, user enabled and present. */
jotd_rc_t jotd_store_session_get(jotd_store_t *st, const char *sid, int64_t now,
                                 jotd_session_t *out, bool *out_active);
/** Revoke one session and its tokens (idempotent: revoking twice is JOTD_OK). A session
 *  newly revoked here, by reuse detection or with its user gets a session_revoked event.
 *  Every path that revokes a session (this one, reuse detection, sessions_revoke_user, a
 *  password change or disable in user_update, user_delete) records its status index in
 *  status_revoked in the same transaction: the rows of a deleted user's sessions go with
 *  ON DELETE CASCADE, their bits must stay 1. */
jotd_rc_t jotd_store_session_revoke(jotd_store_t *st, const char *sid, int64_t now);
/** Revoke every session of a user; *out_n (may be NULL) = sessions newly revoked. */
jotd_rc_t jotd_store_sessions_revoke_user(jotd_store_t *st, int64_t user_id, int64_t now,
                                          size_t *out_n);

/* ---- access-token denylist (persisted so that it survives restarts) ---- */
/** Add \p jti until \p exp, with a jti_revoked event. */
jotd_rc_t jotd_store_deny_add(jotd_store_t *st, const char *jti, int64_t exp);
/** Calls \p cb for every entry with exp > now. */
jotd_rc_t jotd_store_deny_load(jotd_store_t *st, int64_t now,
                               void (*cb)(void *ctx, const char *jti, int64_t exp), void *ctx);

/* ---- signing keys: the rows (the lifecycle's rules are keyring.h's) ---- */
typedef struct jotd_key_row {
    char *kid;            /* RFC 7638 thumbprint */
    char *alg;            /* JWA name */
    char *public_jwk;     /* JSON text */
    char *private_sealed; /* the private JWK sealed with the KEK (seal.h) */
    int64_t created_at;
    int64_t activate_at; /* signs from then on, until a later key activates */
    int64_t revoked_at;  /* 0: not revoked */
} jotd_key_row_t;

void jotd_key_row_clear(jotd_key_row_t *k); /* frees every field (wiping the sealed text) */
void jotd_key_list_free(jotd_key_row_t *keys, size_t n);

/** Every key, revoked ones too, ordered by activate_at, then created_at, then kid. *out: a
 *  malloc'd array of *out_n rows (jotd_key_list_free); NULL when there is none. */
jotd_rc_t jotd_store_key_list(jotd_store_t *st, jotd_key_row_t **out, size_t *out_n);
/** Insert \p k (its revoked_at ignored) with a key_changed event. Key writes are serialised
 *  (a table lock on PostgreSQL, the write lock on SQLite). \p only_if_none: nothing is
 *  written and JOTD_E_EXISTS returned when an unrevoked key exists (the first key of a new
 *  store, made by whichever instance starts first). JOTD_E_EXISTS also for a kid taken. */
jotd_rc_t jotd_store_key_add(jotd_store_t *st, const jotd_key_row_t *k, bool only_if_none);
/** Revoke \p kid (revoked_at = \p now; a key revoked before keeps its time) and, when
 *  \p replacement is non-NULL, insert it, in one transaction with key_changed events.
 *  JOTD_E_NOTFOUND (nothing written) when there is no such key. */
jotd_rc_t jotd_store_key_revoke(jotd_store_t *st, const char *kid, int64_t now,
                                const jotd_key_row_t *replacement);

/* ---- the server's own secrets (secrets.h), sealed with the KEK ---- */
/** The sealed text of secret \p name, malloc'd into *out. JOTD_E_NOTFOUND when unset. */
jotd_rc_t jotd_store_secret_get(jotd_store_t *st, const char *name, char **out);
/** Set \p name to \p sealed unless it has a value: JOTD_E_EXISTS (nothing written) then. A
 *  secret never changes once set, so every instance derives the same values from it. */
jotd_rc_t jotd_store_secret_put(jotd_store_t *st, const char *name, const char *sealed,
                                int64_t now);

/* ---- events: every fact that voids tokens or credentials ----
 * Written in the same transaction as the change, so that another process (an operator
 * command, another jotd) learns of it by reading the table: a running jotd applies them to
 * its in-memory state (server/events.c). Ids grow; a reader remembers the last it saw. */
typedef enum jotd_event_kind {
    JOTD_EV_SESSION_REVOKED = 1, /* subject: sid; value: when */
    JOTD_EV_USER_GENERATION,     /* subject: user id (decimal); value: the new generation */
    JOTD_EV_JTI_REVOKED,         /* subject: jti; value: the token's exp */
    JOTD_EV_CLIENT_CHANGED,      /* subject: client id; value: 0 */
    JOTD_EV_KEY_CHANGED,         /* subject: kid; value: when (published, revoked) */
    JOTD_EV_CLIENT_GENERATION,   /* subject: client id; value: the generation voided */
} jotd_event_kind_t;

typedef struct jotd_event {
    int64_t id;
    jotd_event_kind_t kind;
    const char *subject; /* valid during the callback only */
    int64_t value;
    int64_t created_at;
} jotd_event_t;

/** Calls \p cb for the events with id > \p after_id in id order (at most \p limit), and
 *  sets *out_last to the id of the last one passed (after_id when none). Events of a kind
 *  this build does not know are skipped (their id still counts). */
jotd_rc_t jotd_store_events_since(jotd_store_t *st, int64_t after_id, size_t limit,
                                  void (*cb)(void *ctx, const jotd_event_t *ev), void *ctx,
                                  int64_t *out_last);

/* ---- event notifications (PostgreSQL: LISTEN jotd_events) ---- */
/** A listener thread: see jotd_store_listen_start. */
typedef struct jotd_store_listener jotd_store_listener_t;

/** Start a thread that calls \p wake(\p ctx) soon after any process commits an event to
 *  \p st, so that the caller reads it (jotd_store_events_since) without waiting for its next
 *  poll. On PostgreSQL: one dedicated connection (not from the pool) holds
 *  LISTEN jotd_events, every event-writing transaction runs pg_notify('jotd_events', id);
 *  a lost connection is reopened with backoff (1 s doubling to 10 s), and \p wake is called
 *  after every (re)connection too, since notifications sent meanwhile are lost. The
 *  connection must reach the primary directly: LISTEN does not pass PgBouncer in
 *  transaction pooling mode. \p wake runs on the listener thread and may be called for
 *  nothing (it must be idempotent and thread-safe). Polling stays the caller's duty: a
 *  notification can be lost, and a backend without notifications (SQLite) starts no
 *  thread: *out is then NULL and JOTD_OK is returned. \p st must outlive the listener.
 *  *out: stop and free with jotd_store_listen_stop(). JOTD_E_INVAL, JOTD_E_NOMEM, or
 *  JOTD_E_IO when the thread cannot be created (a failed first connection is not an error:
 *  it is retried). */
jotd_rc_t jotd_store_listen_start(jotd_store_t *st, void (*wake)(void *ctx), void *ctx,
                                  jotd_store_listener_t **out);
/** Whether the listener \p l is connected with its LISTEN in effect (false for NULL, before
 *  the first connection and while it reconnects): the readiness check of /readyz. Any
 *  thread. */
bool jotd_store_listen_connected(jotd_store_listener_t *l);
/** Stop the listener (within about half a second), join its thread, close its connection
 *  and free it. NULL is a no-op. */
void jotd_store_listen_stop(jotd_store_listener_t *l);

/** Delete what can never matter again: expired tokens, ended sessions older than
 *  \p keep_seconds, expired denylist entries, events and status_revoked rows older than
 *  \p keep_seconds (the caller keeps them at least as long as an access token lives: the
 *  tokens that referenced a dropped index have expired). */
jotd_rc_t jotd_store_gc(jotd_store_t *st, int64_t now, int64_t keep_seconds);

/* ---- Token Status Lists (statuslist.h) ---- */
/** The status lists' view of the store: *out_next = the next index session_create will
 *  allocate (every index below it is allocated, or was), and \p cb(\p ctx, idx) for every
 *  revoked index in [first, first + count) (status_revoked rows, any order, each once). Two
 *  reads, the counter first: an index revoked in between is at worst reported with the
 *  counter's older value. JOTD_E_INVAL for first < 0 or count <= 0. */
jotd_rc_t jotd_store_status_read(jotd_store_t *st, int64_t first, int64_t count,
                                 void (*cb)(void *ctx, int64_t idx), void *ctx, int64_t *out_next);

/* ---- password hashes: parameters and rehashing ---- */
/** The parameter field of the Argon2id PHC strings ("m=19456,t=2,p=1") that the most users'
 *  password hashes carry (ties: the smallest string), NUL-terminated into \p out. Disabled
 *  users count (their logins verify too). JOTD_E_NOTFOUND: no user has an Argon2id v=19
 *  hash; JOTD_E_INVAL: the field does not fit in \p outlen. Reads every user: for start-up
 *  and reloads, not for requests. */
jotd_rc_t jotd_store_user_hash_params(jotd_store_t *st, char *out, size_t outlen);
/** Replace user \p id's password hash by \p new_hash if it is still \p old_hash (a
 *  conditional UPDATE: a password changed meanwhile wins). The password is the same, so,
 *  unlike a password change, no session ends and updated_at is kept. Committed at the
 *  durability of logins. JOTD_OK: replaced; JOTD_E_NOTFOUND: no such user or the hash is no
 *  longer \p old_hash (nothing changed). */
jotd_rc_t jotd_store_user_rehash(jotd_store_t *st, int64_t id, const char *old_hash,
                                 const char *new_hash);

/* ---- throttling: the failure counters that every instance on the store shares ----
 * One row per counted thing (an account, a client IP; see server/ratelimit.h), keyed by
 * the lowercase hex SHA-256 of "scope\x1fkind\x1fname" (jotd_store_throttle_key): never the
 * name itself, which may be any bytes (PostgreSQL TEXT refuses some) and would make the
 * table a list of who was attacked. The rules of a failure live in ratelimit.c; the store
 * only runs them in its transaction. */
#define JOTD_THROTTLE_KEY_LEN 64 /* hex characters of a throttle key */

/** The state of one counter (the columns of a throttle row). */
typedef struct jotd_throttle_state {
    int64_t failures;   /* account: consecutive failures; IP: failures in the window */
    int64_t violations; /* IP: windows in which the limit was reached */
    int64_t win_start;  /* IP: when the current window opened */
    int64_t lock_until; /* locked while now < lock_until */
} jotd_throttle_state_t;

/** One failure applied to \p s at \p now: pure (no I/O, no locks), as it runs inside the
 *  store's transaction and may run more than once (a transaction retried). */
typedef void (*jotd_throttle_step_fn)(void *ctx, jotd_throttle_state_t *s, int64_t now);

/** The key of (\p scope, \p kind, \p name) into \p out: lowercase hex SHA-256 of
 *  "scope\x1fkind\x1fname", NUL-terminated. \p name is \p name_len bytes (any bytes).
 *  JOTD_E_INVAL (NULL argument), JOTD_E_NOMEM; \p out is written only on JOTD_OK. */
jotd_rc_t jotd_store_throttle_key(const char *scope, const char *kind, const char *name,
                                  size_t name_len, char out[JOTD_THROTTLE_KEY_LEN + 1]);
/** The row of \p key into *out; JOTD_E_NOTFOUND when there is none. A read: no transaction.
 *  \p key must be a key of jotd_store_throttle_key (else JOTD_E_INVAL), as in every
 *  throttle function. */
jotd_rc_t jotd_store_throttle_get(jotd_store_t *st, const char *key, jotd_throttle_state_t *out);
/** Read-modify-write of the row of \p key in one transaction: the row (all zeros when there
 *  is none) is locked against every other writer of the store (BEGIN IMMEDIATE on SQLite,
 *  a row lock on PostgreSQL), \p step(\p ctx, state, \p now) changes it, the result is
 *  stored with updated_at = \p now and copied to *out. Concurrent updates of one key from
 *  any number of connections and processes are serialised: none is lost. Committed at the
 *  durability of logins (jotd_store_set_durability). */
jotd_rc_t jotd_store_throttle_update(jotd_store_t *st, const char *key, int64_t now,
                                     jotd_throttle_step_fn step, void *ctx,
                                     jotd_throttle_state_t *out);
/** Delete the row of \p key (JOTD_OK whether or not there was one). */
jotd_rc_t jotd_store_throttle_clear(jotd_store_t *st, const char *key);
/* jotd_store_gc also deletes the throttle rows not updated for JOTD_THROTTLE_KEEP_S whose
 * lock has ended. */
#define JOTD_THROTTLE_KEEP_S 86400

#endif
