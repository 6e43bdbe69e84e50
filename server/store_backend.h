/* The contract between server/store.c (the backend-neutral rules) and a store backend
 * (store_sqlite.c, store_pg.c). Callers never include this: they use store.h.
 *
 * The model is redis's ae.c + ae_epoll.c: the rules above, only primitives below.
 * - store.c owns jotd_store_open() (it picks the backend by the location: a postgres:// or
 *   postgresql:// URI is PostgreSQL, anything else a SQLite file path), every argument check
 *   (a backend operation is only called with non-NULL pointers and sane times: the checks
 *   store.h's functions make today move there), the *_clear/_free/_copy functions, the
 *   roles/permissions/scopes list encoding (jotd_store__list_encode/_decode below), the
 *   per-thread error text, and the refresh-rotation decision (jotd_rotation_decide).
 * - A backend embeds `jotd_store_t base` as the first member of its own struct and fills
 *   base.ops; store.c calls through it. Every operation has the signature and the meaning
 *   of the store.h function of the same name, minus the argument checks.
 * - A backend reports a failure with jotd_store__fail() (code + text), so that
 *   jotd_store_errmsg() works the same on every backend. */
#ifndef JOTD_STORE_BACKEND_H
#define JOTD_STORE_BACKEND_H

#include "store.h"

#include <stdatomic.h>

typedef struct jotd_store_ops jotd_store_ops_t;

struct jotd_store {
    const jotd_store_ops_t *ops;
    _Atomic int durability; /* jotd_durability_t of logins and rotations */
};

struct jotd_store_ops {
    const char *name; /* "sqlite", "postgresql": for logs */
    void (*close)(jotd_store_t *st);
    /** The schema version the store is at now (after the migrations open applied). */
    jotd_rc_t (*schema_version)(jotd_store_t *st, int64_t *out);

    jotd_rc_t (*user_create)(jotd_store_t *st, const jotd_user_t *u, int64_t now, int64_t *out_id);
    jotd_rc_t (*user_get)(jotd_store_t *st, int64_t id, jotd_user_t *out);
    jotd_rc_t (*user_get_by_name)(jotd_store_t *st, const char *username, jotd_user_t *out);
    jotd_rc_t (*user_list)(jotd_store_t *st, int64_t after_id, size_t limit, jotd_user_t **out,
                           size_t *out_n);
    jotd_rc_t (*user_update)(jotd_store_t *st, int64_t id, const jotd_user_patch_t *patch,
                             int64_t now);
    jotd_rc_t (*user_delete)(jotd_store_t *st, int64_t id, int64_t now);
    jotd_rc_t (*user_hash_params)(jotd_store_t *st, char *out, size_t outlen);
    jotd_rc_t (*user_rehash)(jotd_store_t *st, int64_t id, const char *old_hash,
                             const char *new_hash);

    jotd_rc_t (*client_create)(jotd_store_t *st, const jotd_client_t *c, int64_t now);
    jotd_rc_t (*client_get)(jotd_store_t *st, const char *client_id, jotd_client_t *out);
    jotd_rc_t (*client_update)(jotd_store_t *st, const char *client_id,
                               const jotd_client_patch_t *p, int64_t now);
    jotd_rc_t (*client_rehash)(jotd_store_t *st, const char *client_id, const char *old_hash,
                               const char *new_hash);
    jotd_rc_t (*client_list)(jotd_store_t *st, jotd_client_t **out, size_t *out_n);
    jotd_rc_t (*session_list)(jotd_store_t *st, int64_t user_id, jotd_session_t **out,
                              size_t *out_n);
    jotd_rc_t (*code_create)(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN],
                             const jotd_auth_code_t *c);
    jotd_rc_t (*code_redeem)(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                             jotd_auth_code_t *out);
    jotd_rc_t (*code_replayed)(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], bool *out);
    jotd_rc_t (*assertion_use)(jotd_store_t *st, const char *client_id, const char *jti,
                               int64_t exp);
    jotd_rc_t (*client_set_state)(jotd_store_t *st, const char *client_id, jotd_client_op_t op,
                                  int64_t now);

    /* *out_idx: the status index allocated (written on JOTD_OK only). */
    jotd_rc_t (*session_create)(jotd_store_t *st, const jotd_session_t *s,
                                const uint8_t rt_hash[JOTD_HASH_LEN], int64_t idle_ttl, int64_t now,
                                int64_t *out_idx);
    /* Rotation: the backend reads the token row in its transaction (locking it against a
     * concurrent rotation: BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE or a conditional
     * UPDATE ... WHERE used_at IS NULL on PostgreSQL), asks jotd_rotation_decide() what to
     * do and applies that: ROTATE marks the token used and stores the successor, REUSE
     * revokes the session (at full durability), everything else changes nothing. */
    jotd_rc_t (*refresh_rotate)(jotd_store_t *st, const uint8_t old_hash[JOTD_HASH_LEN],
                                const uint8_t new_hash[JOTD_HASH_LEN], const char *client_id,
                                int64_t now, int64_t idle_ttl, int64_t grace_seconds,
                                jotd_rotation_t *out);
    jotd_rc_t (*refresh_lookup)(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                                jotd_session_t *out, bool *out_live);
    jotd_rc_t (*session_get)(jotd_store_t *st, const char *sid, int64_t now, jotd_session_t *out,
                             bool *out_active);
    jotd_rc_t (*session_revoke)(jotd_store_t *st, const char *sid, int64_t now);
    jotd_rc_t (*sessions_revoke_user)(jotd_store_t *st, int64_t user_id, int64_t now,
                                      size_t *out_n);

    jotd_rc_t (*deny_add)(jotd_store_t *st, const char *jti, int64_t exp);
    jotd_rc_t (*deny_load)(jotd_store_t *st, int64_t now,
                           void (*cb)(void *ctx, const char *jti, int64_t exp), void *ctx);
    jotd_rc_t (*events_since)(jotd_store_t *st, int64_t after_id, size_t limit,
                              void (*cb)(void *ctx, const jotd_event_t *ev), void *ctx,
                              int64_t *out_last);
    jotd_rc_t (*gc)(jotd_store_t *st, int64_t now, int64_t keep_seconds);
    jotd_rc_t (*status_read)(jotd_store_t *st, int64_t first, int64_t count,
                             void (*cb)(void *ctx, int64_t idx), void *ctx, int64_t *out_next);

    jotd_rc_t (*key_list)(jotd_store_t *st, jotd_key_row_t **out, size_t *out_n);
    jotd_rc_t (*key_add)(jotd_store_t *st, const jotd_key_row_t *k, bool only_if_none);
    jotd_rc_t (*key_revoke)(jotd_store_t *st, const char *kid, int64_t now,
                            const jotd_key_row_t *replacement);
    jotd_rc_t (*secret_get)(jotd_store_t *st, const char *name, char **out);
    jotd_rc_t (*secret_put)(jotd_store_t *st, const char *name, const char *sealed, int64_t now);
    /* Optional (NULL: the backend has no notifications, callers only poll). Runs on the
     * listener thread of jotd_store_listen_start until *stop is set, checking it at least
     * every LISTEN_WAIT_MS: calls wake(ctx) after each (re)connection and on each batch of
     * notifications; reconnects by itself. Sets *connected to 1 while its LISTEN is in
     * effect and to 0 when the connection is lost (what /readyz asks). Returns when stopped. */
    void (*listen)(jotd_store_t *st, void (*wake)(void *ctx), void *ctx, atomic_int *stop,
                   atomic_int *connected);

    /* ---- throttling (store.h): \p key is always a valid jotd_store_throttle_key ---- */
    jotd_rc_t (*throttle_get)(jotd_store_t *st, const char *key, jotd_throttle_state_t *out);
    /* Locks the row (creating it as zeros when missing) before reading it, calls step on
     * the state read, writes the result; step may run again if the transaction is retried.
     * The gc op deletes rows with updated_at <= now - JOTD_THROTTLE_KEEP_S and
     * lock_until <= now. */
    jotd_rc_t (*throttle_update)(jotd_store_t *st, const char *key, int64_t now,
                                 jotd_throttle_step_fn step, void *ctx, jotd_throttle_state_t *out);
    jotd_rc_t (*throttle_clear)(jotd_store_t *st, const char *key);
};

/* The longest a listen op may wait before it checks its stop flag. */
#define JOTD_STORE_LISTEN_WAIT_MS 500

/* ---- backends ---------------------------------------------------------------------------- */
/** SQLite file at \p path (created if needed, WAL, migrations applied). */
jotd_rc_t jotd_store_sqlite_open(const char *path, jotd_store_t **out);
/** PostgreSQL at the libpq connection URI \p uri (migrations applied under an advisory
 *  lock). Exists only in a build with libpq (JOTD_HAVE_PG); without it jotd_store_open()
 *  answers a postgres:// location with JOTD_E_INVAL "built without PostgreSQL support". */
jotd_rc_t jotd_store_pg_open(const char *uri, jotd_store_t **out);
/** A copy of the libpq connection string \p uri (URI or key=value form) fit for logs and
 *  messages: every password (the userinfo's "user:PASSWORD@", a password= parameter)
 *  replaced by "***", user, host, port, database and the other parameters kept. Should the
 *  result still carry a password for libpq (a spelling not foreseen), only the
 *  scheme and "***". Malloc'd, the caller frees it; NULL when \p uri is NULL or out of memory.
 *  store_pg_redact.c: built with or without libpq. */
char *jotd_store_pg_redact(const char *uri);

/* ---- errors (store.c) -------------------------------------------------------------------- */
/** Record \p fmt as this thread's jotd_store_errmsg() and return \p rc. Never log or store a
 *  password here: a PostgreSQL backend passes its messages through jotd_store__redact(). */
jotd_rc_t jotd_store__fail(jotd_rc_t rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- event kinds (store.c) --------------------------------------------------------------- */
/** The name an event of \p kind is stored under ("session_revoked", ...). */
const char *jotd_store__event_name(jotd_event_kind_t kind);
/** The kind stored under \p name, or 0 for a name this build does not know (an event of a
 *  newer jotd: skipped, its id still counts). */
jotd_event_kind_t jotd_store__event_kind(const char *name);

/* ---- the rotation decision (store.c) ----------------------------------------------------- */
/** What a backend read about the presented refresh token, its session and its user. */
typedef struct jotd_rotation_row {
    int64_t token_expires_at; /* idle expiry of the presented token */
    bool used;                /* used_at is set (rotated, or revoked with its session) */
    int64_t used_at;
    bool has_successor;
    uint8_t successor[JOTD_HASH_LEN];
    bool successor_live; /* the successor's row exists, is unused and now < its expiry */
    bool user_present;   /* the session's user still exists */
    /* the session and user go in jotd_rotation_t (out->session, out->user) */
} jotd_rotation_row_t;

typedef enum jotd_rotation_action {
    JOTD_ROTATE_EXPIRED = 1, /* → JOTD_E_EXPIRED, nothing changes */
    JOTD_ROTATE_MISMATCH,    /* → JOTD_E_MISMATCH, nothing changes */
    JOTD_ROTATE_DISABLED,    /* → JOTD_E_DISABLED, nothing changes */
    JOTD_ROTATE_LIVE,        /* mark used, store the successor → JOTD_OK */
    JOTD_ROTATE_GRACE,       /* the same successor again within the window → JOTD_OK, grace */
    JOTD_ROTATE_REUSE,       /* revoke the session → JOTD_E_REUSED */
} jotd_rotation_action_t;

/** The rules of store.h's jotd_store_refresh_rotate, in order: session revoked or ended or
 *  token idle-expired → EXPIRED; another client → MISMATCH; user gone or disabled →
 *  DISABLED; unused → LIVE; used within \p grace_seconds with recorded successor ==
 *  \p new_hash and that successor live → GRACE; otherwise REUSE. Pure: no I/O. */
jotd_rotation_action_t jotd_rotation_decide(const jotd_rotation_row_t *row,
                                            const jotd_session_t *session, const jotd_user_t *user,
                                            const char *client_id,
                                            const uint8_t new_hash[JOTD_HASH_LEN], int64_t now,
                                            int64_t grace_seconds);

/** The answer to an action of jotd_rotation_decide, with its text in jotd_store_errmsg():
 *  JOTD_OK for LIVE and GRACE, else the refusal (REUSE names \p session's sid; call it after
 *  the revocation succeeded, whose own failure is the answer otherwise). */
jotd_rc_t jotd_rotation_rc(jotd_rotation_action_t action, const jotd_session_t *session);

/* ---- list encoding (store.c) ------------------------------------------------------------- */
/** The lists of a client patch as JSON texts (malloc'd); a list the patch leaves out
 *  (has_ == false) stays NULL. Release with jotd_store__client_lists_free(). */
typedef struct jotd_store__client_lists {
    char *scopes, *default_scopes, *introspect, *resources, *redirect_uris, *allowed_origins;
} jotd_store__client_lists_t;
jotd_rc_t jotd_store__client_lists(const jotd_client_patch_t *p, jotd_store__client_lists_t *out);
void jotd_store__client_lists_free(jotd_store__client_lists_t *l);
/** Whether \p p would leave the client \p cur (read in the update's transaction) in cookie
 *  mode without being able to be (jotd_cookie_mode_refusal): the update is then refused. */
bool jotd_store__client_patch_refused(const jotd_client_t *cur, const jotd_client_patch_t *p);

/** Roles, permissions, scopes...: a JSON array of strings, malloc'd text into *out. */
jotd_rc_t jotd_store__list_encode(const char *const *v, size_t n, char **out);
/** The reverse; an empty or NULL text is the empty list. *out: malloc'd array of malloc'd
 *  strings (free each, then the array). JOTD_E_IO on text that is not such an array. */
jotd_rc_t jotd_store__list_decode(const char *text, size_t len, char ***out, size_t *out_n);

#endif
