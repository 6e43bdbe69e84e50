/* The backend-neutral half of the jotd store (store.h): the rules above, only primitives
 * below (server/store_backend.h is the contract; redis's ae.c + ae_epoll.c the model).
 *
 * What lives here:
 * - jotd_store_open(), which picks the backend by the location: a postgres:// or
 *   postgresql:// URI is PostgreSQL (store_pg.c, only in a build with libpq), anything else
 *   a SQLite file path (store_sqlite.c);
 * - every public jotd_store_* function: its argument checks, then the backend's operation.
 *   A backend is therefore only ever called with non-NULL pointers, sane times and lists
 *   within JOTD_CLIENT_MAX_LIST;
 * - the per-thread error text (jotd_store__fail, jotd_store_errmsg), which every backend
 *   writes through, so that a caller reads errors the same way on each;
 * - the *_clear/_free/_copy functions of the out-structs;
 * - the stored text of roles, permissions, scopes and introspection audiences: a compact
 *   JSON array of strings (["admin","ops"]), the format the SQLite files have always held;
 * - the refresh-rotation decision (jotd_rotation_decide), a pure function over what a
 *   backend read, with the texts of its refusals (jotd_rotation_rc).
 *
 * Token liveness, on every backend. A refresh token is live when it is unused (used_at
 * not set), now < its idle expiry, and its session is neither revoked nor past its end.
 * Rotation sets used_at and the successor; revoking a session sets used_at (successor left
 * unset) on every token still unused, so "unused" is the single flag that every writer
 * tests and sets. A rotation that finds reuse revokes, and a revocation is always committed
 * at JOTD_DURABILITY_FULL, whatever the durability of rotations. */
#include "common/buf.h"
#include "common/sha256.h"
#include "names.h"
#include "store_backend.h"

#include <jansson.h>
#include <jot/jot.h>
#include <pthread.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRMSG_MAX 256

/* ---- errors ------------------------------------------------------------------------------ */

static _Thread_local char errbuf[ERRMSG_MAX];

jotd_rc_t jotd_store__fail(jotd_rc_t rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return rc;
}

const char *jotd_store_errmsg(const jotd_store_t *st)
{
    (void)st;
    return errbuf[0] ? errbuf : "no error";
}

/* A fixed text: keeps "%" in it harmless. Returns \p rc itself, not jotd_store__fail's
 * answer (the same): the static analyser does not follow variadic calls. */
static jotd_rc_t fail(jotd_rc_t rc, const char *msg)
{
    (void)jotd_store__fail(rc, "%s", msg);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------------ */

static bool is_pg_uri(const char *location)
{
    return strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0;
}

jotd_rc_t jotd_store_open(const char *location, jotd_store_t **out)
{
    if (!location || !out || !*location)
        return fail(JOTD_E_INVAL, "store location missing");
    if (is_pg_uri(location)) {
#ifdef JOTD_HAVE_PG
        return jotd_store_pg_open(location, out);
#else
        return fail(JOTD_E_INVAL, "this jotd was built without PostgreSQL support (libpq)");
#endif
    }
    return jotd_store_sqlite_open(location, out);
}

void jotd_store_close(jotd_store_t *st)
{
    if (st)
        st->ops->close(st);
}

jotd_rc_t jotd_store_schema_version(jotd_store_t *st, int64_t *out)
{
    if (!st || !out)
        return fail(JOTD_E_INVAL, "schema_version: NULL argument");
    return st->ops->schema_version(st, out);
}

void jotd_store_set_durability(jotd_store_t *st, jotd_durability_t d)
{
    if (st)
        atomic_store(&st->durability,
                     d == JOTD_DURABILITY_NORMAL ? JOTD_DURABILITY_NORMAL : JOTD_DURABILITY_FULL);
}

/* ---- out-structs ------------------------------------------------------------------------- */

static void free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void jotd_user_clear(jotd_user_t *u)
{
    if (!u)
        return;
    free(u->username);
    jotx_free_secret(u->password_hash);
    free_strings(u->roles, u->n_roles);
    free_strings(u->permissions, u->n_permissions);
    memset(u, 0, sizeof *u);
}

void jotd_user_list_free(jotd_user_t *users, size_t n)
{
    if (!users)
        return;
    for (size_t i = 0; i < n; i++)
        jotd_user_clear(&users[i]);
    free(users);
}

void jotd_session_clear(jotd_session_t *s)
{
    if (!s)
        return;
    free(s->client_id);
    free(s->scope);
    free(s->ip);
    memset(s, 0, sizeof *s);
}

void jotd_session_list_free(jotd_session_t *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        jotd_session_clear(&v[i]);
    free(v);
}

jotd_rc_t jotd_store_session_list(jotd_store_t *st, int64_t user_id, jotd_session_t **out,
                                  size_t *out_n)
{
    if (!st || !out || !out_n)
        return fail(JOTD_E_INVAL, "session_list: NULL argument");
    return st->ops->session_list(st, user_id, out, out_n);
}

void jotd_rotation_clear(jotd_rotation_t *r)
{
    if (!r)
        return;
    jotd_session_clear(&r->session);
    jotd_user_clear(&r->user);
    r->grace = false;
}

void jotd_client_clear(jotd_client_t *c)
{
    if (!c)
        return;
    free(c->client_id);
    jotx_free_secret(c->secret_hash);
    free_strings(c->scopes, c->n_scopes);
    free_strings(c->default_scopes, c->n_default_scopes);
    free_strings(c->introspect, c->n_introspect);
    free_strings(c->resources, c->n_resources);
    free_strings(c->redirect_uris, c->n_redirect_uris);
    free_strings(c->allowed_origins, c->n_allowed_origins);
    free(c->jwks);
    free(c->jwks_url);
    memset(c, 0, sizeof *c);
}

bool jotd_client_is_confidential(const jotd_client_t *c)
{
    return c->secret_hash || c->jwks || c->jwks_url;
}

void jotd_client_list_free(jotd_client_t *clients, size_t n)
{
    if (!clients)
        return;
    for (size_t i = 0; i < n; i++)
        jotd_client_clear(&clients[i]);
    free(clients);
}

static int copy_strings(char ***dst, size_t *dst_n, char *const *src, size_t n)
{
    *dst = NULL;
    *dst_n = 0;
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++) {
        v[i] = jotx_strdup_n(src[i], strlen(src[i]));
        if (!v[i]) {
            free_strings(v, i);
            return -1;
        }
    }
    *dst = v;
    *dst_n = n;
    return 0;
}

int jotd_client_copy(jotd_client_t *dst, const jotd_client_t *src)
{
    jotd_client_t c = {.status_idx = src->status_idx,
                       .disabled = src->disabled,
                       .generation = src->generation,
                       .created_at = src->created_at,
                       .updated_at = src->updated_at,
                       .cookie_mode = src->cookie_mode,
                       .has_refresh_grace = src->has_refresh_grace,
                       .refresh_grace = src->refresh_grace};
    c.client_id = jotx_strdup_n(src->client_id, strlen(src->client_id));
    c.secret_hash =
        src->secret_hash ? jotx_strdup_n(src->secret_hash, strlen(src->secret_hash)) : NULL;
    c.jwks = src->jwks ? jotx_strdup_n(src->jwks, strlen(src->jwks)) : NULL;
    c.jwks_url = src->jwks_url ? jotx_strdup_n(src->jwks_url, strlen(src->jwks_url)) : NULL;
    if (!c.client_id || (src->secret_hash && !c.secret_hash) || (src->jwks && !c.jwks) ||
        (src->jwks_url && !c.jwks_url) ||
        copy_strings(&c.scopes, &c.n_scopes, src->scopes, src->n_scopes) != 0 ||
        copy_strings(&c.default_scopes, &c.n_default_scopes, src->default_scopes,
                     src->n_default_scopes) != 0 ||
        copy_strings(&c.introspect, &c.n_introspect, src->introspect, src->n_introspect) != 0 ||
        copy_strings(&c.resources, &c.n_resources, src->resources, src->n_resources) != 0 ||
        copy_strings(&c.redirect_uris, &c.n_redirect_uris, src->redirect_uris,
                     src->n_redirect_uris) != 0 ||
        copy_strings(&c.allowed_origins, &c.n_allowed_origins, src->allowed_origins,
                     src->n_allowed_origins) != 0) {
        jotd_client_clear(&c);
        memset(dst, 0, sizeof *dst);
        return -1;
    }
    *dst = c;
    return 0;
}

/* ---- lists: roles, permissions, scopes, audiences ------------------------------------------ */

jotd_rc_t jotd_store__list_encode(const char *const *v, size_t n, char **out)
{
    if (n && !v)
        return fail(JOTD_E_INVAL, "roles/permissions: NULL array");
    json_t *a = json_array();
    if (!a)
        return fail(JOTD_E_NOMEM, "out of memory");
    jotd_rc_t r = JOTD_OK;
    for (size_t i = 0; i < n && r == JOTD_OK; i++) {
        if (!v[i]) {
            r = fail(JOTD_E_INVAL, "roles/permissions: NULL string");
            break;
        }
        json_t *s = json_string(v[i]); /* NULL for invalid UTF-8 */
        if (!s)
            r = fail(JOTD_E_INVAL, "roles/permissions: not valid UTF-8");
        else if (json_array_append_new(a, s) != 0)
            r = fail(JOTD_E_NOMEM, "out of memory");
    }
    if (r == JOTD_OK) {
        /* json_dumpb: our own buffer, so that the result is free()d whatever allocator
         * jansson was given. */
        size_t len = json_dumpb(a, NULL, 0, JSON_COMPACT);
        char *buf = len ? malloc(len + 1) : NULL;
        if (!buf || json_dumpb(a, buf, len, JSON_COMPACT) != len) {
            free(buf);
            r = fail(JOTD_E_NOMEM, "out of memory");
        } else {
            buf[len] = '\0';
            *out = buf;
        }
    }
    json_decref(a);
    return r;
}

/* Anything but an array of strings is a corrupt row (JOTD_E_IO). */
jotd_rc_t jotd_store__list_decode(const char *text, size_t len, char ***out, size_t *out_n)
{
    if (!text || len == 0) {
        *out = NULL;
        *out_n = 0;
        return JOTD_OK;
    }
    json_error_t jerr;
    json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return fail(JOTD_E_IO, "corrupt row: roles/permissions is not a JSON array");
    }
    size_t n = json_array_size(a);
    char **v = n ? calloc(n, sizeof *v) : NULL;
    jotd_rc_t r = (n && !v) ? fail(JOTD_E_NOMEM, "out of memory") : JOTD_OK;
    for (size_t i = 0; i < n && r == JOTD_OK; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e)) {
            r = fail(JOTD_E_IO, "corrupt row: roles/permissions holds a non-string");
            break;
        }
        v[i] = jotx_strdup_n(json_string_value(e), json_string_length(e));
        if (!v[i])
            r = fail(JOTD_E_NOMEM, "out of memory");
    }
    json_decref(a);
    if (r != JOTD_OK) {
        free_strings(v, n);
        return r;
    }
    *out = v;
    *out_n = n;
    return JOTD_OK;
}

/* ---- the rotation decision ----------------------------------------------------------------- */

jotd_rotation_action_t jotd_rotation_decide(const jotd_rotation_row_t *row,
                                            const jotd_session_t *session, const jotd_user_t *user,
                                            const char *client_id,
                                            const uint8_t new_hash[JOTD_HASH_LEN], int64_t now,
                                            int64_t grace_seconds)
{
    if (session->revoked || now >= session->expires_at || now >= row->token_expires_at)
        return JOTD_ROTATE_EXPIRED;
    if (strcmp(session->client_id, client_id) != 0)
        return JOTD_ROTATE_MISMATCH;
    if (!row->user_present || !user || user->disabled)
        return JOTD_ROTATE_DISABLED;
    if (!row->used)
        return JOTD_ROTATE_LIVE;
    /* Already used. Grace: the same client asks again (two tabs) within the window, with the
     * same deterministic successor, and that successor is still unused: same answer, no
     * change. grace_seconds 0 disables the window. (now >= 0 and grace_seconds >= 0, checked
     * by jotd_store_refresh_rotate: the subtraction cannot overflow.) */
    if (grace_seconds > 0 && row->has_successor && row->used_at >= now - grace_seconds &&
        jot_ct_equal(row->successor, new_hash, JOTD_HASH_LEN) && row->successor_live)
        return JOTD_ROTATE_GRACE;
    /* Reuse: a rotated token came back. Theft is assumed; the whole family dies. */
    return JOTD_ROTATE_REUSE;
}

jotd_rc_t jotd_rotation_rc(jotd_rotation_action_t action, const jotd_session_t *session)
{
    switch (action) {
    case JOTD_ROTATE_LIVE:
    case JOTD_ROTATE_GRACE:
        return JOTD_OK;
    case JOTD_ROTATE_EXPIRED:
        return fail(JOTD_E_EXPIRED, "refresh token expired or session ended");
    case JOTD_ROTATE_MISMATCH:
        return fail(JOTD_E_MISMATCH, "refresh token issued to another client");
    case JOTD_ROTATE_DISABLED:
        return fail(JOTD_E_DISABLED, "user disabled");
    case JOTD_ROTATE_REUSE:
        (void)jotd_store__fail(JOTD_E_REUSED, "refresh token reuse: session %s revoked",
                               session ? session->sid : "?");
        return JOTD_E_REUSED;
    }
    return fail(JOTD_E_IO, "refresh rotation: unknown decision");
}

/* ---- users --------------------------------------------------------------------------------- */

jotd_rc_t jotd_store_user_create(jotd_store_t *st, const jotd_user_t *u, int64_t now,
                                 int64_t *out_id)
{
    if (!st || !u || !u->username || !u->username[0] || !u->password_hash || !u->password_hash[0])
        return fail(JOTD_E_INVAL, "user: username and password hash are required");
    return st->ops->user_create(st, u, now, out_id);
}

jotd_rc_t jotd_store_user_get(jotd_store_t *st, int64_t id, jotd_user_t *out)
{
    if (!st || !out)
        return fail(JOTD_E_INVAL, "user_get: NULL argument");
    return st->ops->user_get(st, id, out);
}

jotd_rc_t jotd_store_user_get_by_name(jotd_store_t *st, const char *username, jotd_user_t *out)
{
    if (!st || !username || !out)
        return fail(JOTD_E_INVAL, "user_get_by_name: NULL argument");
    return st->ops->user_get_by_name(st, username, out);
}

jotd_rc_t jotd_store_user_list(jotd_store_t *st, int64_t after_id, size_t limit, jotd_user_t **out,
                               size_t *out_n)
{
    if (!st || !out || !out_n)
        return fail(JOTD_E_INVAL, "user_list: NULL argument");
    return st->ops->user_list(st, after_id, limit, out, out_n);
}

jotd_rc_t jotd_store_user_update(jotd_store_t *st, int64_t id, const jotd_user_patch_t *patch,
                                 int64_t now)
{
    if (!st || !patch)
        return fail(JOTD_E_INVAL, "user_update: NULL argument");
    if (patch->disabled < -1 || patch->disabled > 1)
        return fail(JOTD_E_INVAL, "user_update: disabled must be -1, 0 or 1");
    if (patch->password_hash && !patch->password_hash[0])
        return fail(JOTD_E_INVAL, "user_update: empty password hash");
    return st->ops->user_update(st, id, patch, now);
}

jotd_rc_t jotd_store_user_delete(jotd_store_t *st, int64_t id, int64_t now)
{
    if (!st)
        return fail(JOTD_E_INVAL, "user_delete: NULL store");
    return st->ops->user_delete(st, id, now);
}

jotd_rc_t jotd_store_user_hash_params(jotd_store_t *st, char *out, size_t outlen)
{
    if (!st || !out || outlen == 0)
        return fail(JOTD_E_INVAL, "user_hash_params: NULL argument");
    return st->ops->user_hash_params(st, out, outlen);
}

jotd_rc_t jotd_store_user_rehash(jotd_store_t *st, int64_t id, const char *old_hash,
                                 const char *new_hash)
{
    if (!st || !old_hash || !new_hash || !new_hash[0])
        return fail(JOTD_E_INVAL, "user_rehash: bad argument");
    return st->ops->user_rehash(st, id, old_hash, new_hash);
}

/* ---- clients ------------------------------------------------------------------------------- */

static bool client_lists_fit(size_t n_scopes, size_t n_default_scopes, size_t n_introspect,
                             size_t n_resources, size_t n_redirect_uris, size_t n_origins)
{
    return n_scopes <= JOTD_CLIENT_MAX_LIST && n_default_scopes <= JOTD_CLIENT_MAX_LIST &&
           n_introspect <= JOTD_CLIENT_MAX_LIST && n_resources <= JOTD_CLIENT_MAX_LIST &&
           n_redirect_uris <= JOTD_CLIENT_MAX_LIST && n_origins <= JOTD_CLIENT_MAX_LIST;
}

jotd_rc_t jotd_store_client_create(jotd_store_t *st, const jotd_client_t *c, int64_t now)
{
    if (!st || !c || !c->client_id || !c->client_id[0])
        return fail(JOTD_E_INVAL, "client_create: client id required");
    if (!client_lists_fit(c->n_scopes, c->n_default_scopes, c->n_introspect, c->n_resources,
                          c->n_redirect_uris, c->n_allowed_origins))
        return fail(JOTD_E_INVAL, "client: too many scopes or audiences");
    const char *why = c->cookie_mode
                          ? jotd_cookie_mode_refusal(c->client_id, !jotd_client_is_confidential(c),
                                                     c->n_allowed_origins)
                          : NULL;
    if (why)
        return jotd_store__fail(JOTD_E_INVAL, "client: %s", why);
    return st->ops->client_create(st, c, now);
}

jotd_rc_t jotd_store_client_get(jotd_store_t *st, const char *client_id, jotd_client_t *out)
{
    if (!st || !client_id || !out)
        return fail(JOTD_E_INVAL, "client_get: NULL argument");
    return st->ops->client_get(st, client_id, out);
}

jotd_rc_t jotd_store_client_update(jotd_store_t *st, const char *client_id,
                                   const jotd_client_patch_t *p, int64_t now)
{
    if (!st || !client_id || !p || (p->secret_hash && !p->secret_hash[0]))
        return fail(JOTD_E_INVAL, "client_update: bad argument");
    if (!client_lists_fit(p->n_scopes, p->n_default_scopes, p->n_introspect, p->n_resources,
                          p->n_redirect_uris, p->n_allowed_origins))
        return fail(JOTD_E_INVAL, "client: too many scopes or audiences");
    return st->ops->client_update(st, client_id, p, now);
}

jotd_rc_t jotd_store_client_rehash(jotd_store_t *st, const char *client_id, const char *old_hash,
                                   const char *new_hash)
{
    if (!st || !client_id || !old_hash || !new_hash || !new_hash[0])
        return fail(JOTD_E_INVAL, "client_rehash: bad argument");
    return st->ops->client_rehash(st, client_id, old_hash, new_hash);
}

jotd_rc_t jotd_store_client_set_state(jotd_store_t *st, const char *client_id, jotd_client_op_t op,
                                      int64_t now)
{
    if (!st || !client_id || !client_id[0] || op < JOTD_CLIENT_DISABLE || op > JOTD_CLIENT_DELETE)
        return fail(JOTD_E_INVAL, "client_set_state: bad argument");
    return st->ops->client_set_state(st, client_id, op, now);
}

void jotd_auth_code_clear(jotd_auth_code_t *c)
{
    if (!c)
        return;
    free(c->client_id);
    free(c->redirect_uri);
    free(c->code_challenge);
    free(c->scope);
    memset(c, 0, sizeof *c);
}

jotd_rc_t jotd_store_code_create(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN],
                                 const jotd_auth_code_t *c)
{
    if (!st || !hash || !c || !c->client_id || !c->redirect_uri || !c->code_challenge ||
        !c->scope || !c->sid[0])
        return fail(JOTD_E_INVAL, "code_create: bad argument");
    return st->ops->code_create(st, hash, c);
}

jotd_rc_t jotd_store_code_redeem(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], int64_t now,
                                 jotd_auth_code_t *out)
{
    if (!st || !hash || !out)
        return fail(JOTD_E_INVAL, "code_redeem: NULL argument");
    return st->ops->code_redeem(st, hash, now, out);
}

jotd_rc_t jotd_store_code_replayed(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN], bool *out)
{
    if (!st || !hash || !out)
        return fail(JOTD_E_INVAL, "code_replayed: NULL argument");
    *out = false;
    return st->ops->code_replayed(st, hash, out);
}

jotd_rc_t jotd_store_assertion_use(jotd_store_t *st, const char *client_id, const char *jti,
                                   int64_t exp)
{
    if (!st || !client_id || !client_id[0] || !jti || !jti[0] || strlen(jti) > 255)
        return fail(JOTD_E_INVAL, "assertion_use: bad argument");
    return st->ops->assertion_use(st, client_id, jti, exp);
}

jotd_rc_t jotd_store_client_list(jotd_store_t *st, jotd_client_t **out, size_t *out_n)
{
    if (!st || !out || !out_n)
        return fail(JOTD_E_INVAL, "client_list: NULL argument");
    return st->ops->client_list(st, out, out_n);
}

/* ---- sessions and refresh tokens ------------------------------------------------------------ */

static bool sid_ok(const char *sid)
{
    size_t n = sid ? strnlen(sid, JOTD_SID_LEN + 1) : 0;
    return n > 0 && n <= JOTD_SID_LEN;
}

jotd_rc_t jotd_store_session_create(jotd_store_t *st, jotd_session_t *s,
                                    const uint8_t rt_hash[JOTD_HASH_LEN], int64_t idle_ttl,
                                    int64_t now)
{
    if (!st || !s || !rt_hash || !sid_ok(s->sid) || !s->client_id || !s->scope)
        return fail(JOTD_E_INVAL, "session_create: bad argument");
    if (idle_ttl <= 0 || s->expires_at <= now)
        return fail(JOTD_E_INVAL, "session_create: lifetimes must be positive");
    int64_t idx = -1;
    jotd_rc_t r = st->ops->session_create(st, s, rt_hash, idle_ttl, now, &idx);
    if (r == JOTD_OK)
        s->status_idx = idx;
    return r;
}

jotd_rc_t jotd_store_refresh_rotate(jotd_store_t *st, const uint8_t old_hash[JOTD_HASH_LEN],
                                    const uint8_t new_hash[JOTD_HASH_LEN], const char *client_id,
                                    int64_t now, int64_t idle_ttl, int64_t grace_seconds,
                                    jotd_rotation_t *out)
{
    if (!st || !old_hash || !new_hash || !client_id || !out)
        return fail(JOTD_E_INVAL, "refresh_rotate: NULL argument");
    if (now < 0 || idle_ttl <= 0 || grace_seconds < 0)
        return fail(JOTD_E_INVAL, "refresh_rotate: bad time arguments");
    if (jot_ct_equal(old_hash, new_hash, JOTD_HASH_LEN))
        return fail(JOTD_E_INVAL, "refresh_rotate: successor equals the old token");
    return st->ops->refresh_rotate(st, old_hash, new_hash, client_id, now, idle_ttl, grace_seconds,
                                   out);
}

jotd_rc_t jotd_store_refresh_lookup(jotd_store_t *st, const uint8_t hash[JOTD_HASH_LEN],
                                    int64_t now, jotd_session_t *out, bool *out_live)
{
    if (!st || !hash || !out || !out_live)
        return fail(JOTD_E_INVAL, "refresh_lookup: NULL argument");
    return st->ops->refresh_lookup(st, hash, now, out, out_live);
}

jotd_rc_t jotd_store_session_get(jotd_store_t *st, const char *sid, int64_t now,
                                 jotd_session_t *out, bool *out_active)
{
    if (!st || !sid || !out || !out_active)
        return fail(JOTD_E_INVAL, "session_get: NULL argument");
    return st->ops->session_get(st, sid, now, out, out_active);
}

jotd_rc_t jotd_store_session_revoke(jotd_store_t *st, const char *sid, int64_t now)
{
    if (!st || !sid)
        return fail(JOTD_E_INVAL, "session_revoke: NULL argument");
    return st->ops->session_revoke(st, sid, now);
}

jotd_rc_t jotd_store_sessions_revoke_user(jotd_store_t *st, int64_t user_id, int64_t now,
                                          size_t *out_n)
{
    if (!st)
        return fail(JOTD_E_INVAL, "sessions_revoke_user: NULL store");
    return st->ops->sessions_revoke_user(st, user_id, now, out_n);
}

/* ---- denylist, events, garbage collection --------------------------------------------------- */

jotd_rc_t jotd_store_deny_add(jotd_store_t *st, const char *jti, int64_t exp)
{
    if (!st || !jti || !jti[0])
        return fail(JOTD_E_INVAL, "deny_add: jti required");
    return st->ops->deny_add(st, jti, exp);
}

jotd_rc_t jotd_store_deny_load(jotd_store_t *st, int64_t now,
                               void (*cb)(void *ctx, const char *jti, int64_t exp), void *ctx)
{
    if (!st || !cb)
        return fail(JOTD_E_INVAL, "deny_load: NULL argument");
    return st->ops->deny_load(st, now, cb, ctx);
}

jotd_rc_t jotd_store_events_since(jotd_store_t *st, int64_t after_id, size_t limit,
                                  void (*cb)(void *ctx, const jotd_event_t *ev), void *ctx,
                                  int64_t *out_last)
{
    if (!st || !cb || !out_last || limit == 0 || limit > INT64_MAX)
        return fail(JOTD_E_INVAL, "events_since: bad argument");
    return st->ops->events_since(st, after_id, limit, cb, ctx, out_last);
}

jotd_rc_t jotd_store_gc(jotd_store_t *st, int64_t now, int64_t keep_seconds)
{
    if (!st || now < 0 || keep_seconds < 0)
        return fail(JOTD_E_INVAL, "gc: bad argument");
    return st->ops->gc(st, now, keep_seconds);
}

jotd_rc_t jotd_store_status_read(jotd_store_t *st, int64_t first, int64_t count,
                                 void (*cb)(void *ctx, int64_t idx), void *ctx, int64_t *out_next)
{
    if (!st || !cb || !out_next || first < 0 || count <= 0 || first > INT64_MAX - count)
        return fail(JOTD_E_INVAL, "status_read: bad argument");
    return st->ops->status_read(st, first, count, cb, ctx, out_next);
}

struct jotd_store_listener {
    jotd_store_t *st;
    void (*wake)(void *ctx);
    void *ctx;
    atomic_int stop;
    atomic_int connected; /* the backend's LISTEN is in effect */
    pthread_t thread;
};

static void *listener_main(void *arg)
{
    jotd_store_listener_t *l = arg;
    l->st->ops->listen(l->st, l->wake, l->ctx, &l->stop, &l->connected);
    atomic_store(&l->connected, 0);
    return NULL;
}

jotd_rc_t jotd_store_listen_start(jotd_store_t *st, void (*wake)(void *ctx), void *ctx,
                                  jotd_store_listener_t **out)
{
    if (!st || !wake || !out)
        return fail(JOTD_E_INVAL, "listen_start: NULL argument");
    *out = NULL;
    if (!st->ops->listen)
        return JOTD_OK; /* polled only */
    jotd_store_listener_t *l = calloc(1, sizeof *l);
    if (!l)
        return fail(JOTD_E_NOMEM, "out of memory");
    l->st = st;
    l->wake = wake;
    l->ctx = ctx;
    atomic_init(&l->stop, 0);
    atomic_init(&l->connected, 0);
    if (pthread_create(&l->thread, NULL, listener_main, l) != 0) {
        free(l);
        return fail(JOTD_E_IO, "listen_start: cannot create the listener thread");
    }
    *out = l;
    return JOTD_OK;
}

bool jotd_store_listen_connected(jotd_store_listener_t *l)
{
    return l && atomic_load(&l->connected) != 0;
}

void jotd_store_listen_stop(jotd_store_listener_t *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, 1);
    pthread_join(l->thread, NULL);
    free(l);
}

bool jotd_store__client_patch_refused(const jotd_client_t *cur, const jotd_client_patch_t *p)
{
    bool cookie_mode = p->has_cookie_mode ? p->cookie_mode : cur->cookie_mode;
    size_t n = p->has_allowed_origins ? p->n_allowed_origins : cur->n_allowed_origins;
    return cookie_mode &&
           jotd_cookie_mode_refusal(cur->client_id, !jotd_client_is_confidential(cur), n) != NULL;
}

void jotd_store__client_lists_free(jotd_store__client_lists_t *l)
{
    free(l->scopes);
    free(l->default_scopes);
    free(l->introspect);
    free(l->resources);
    free(l->redirect_uris);
    free(l->allowed_origins);
}

jotd_rc_t jotd_store__client_lists(const jotd_client_patch_t *p, jotd_store__client_lists_t *out)
{
    memset(out, 0, sizeof *out);
    jotd_rc_t r = JOTD_OK;
    if (p->has_scopes)
        r = jotd_store__list_encode(p->scopes, p->n_scopes, &out->scopes);
    if (r == JOTD_OK && p->has_default_scopes)
        r = jotd_store__list_encode(p->default_scopes, p->n_default_scopes, &out->default_scopes);
    if (r == JOTD_OK && p->has_introspect)
        r = jotd_store__list_encode(p->introspect, p->n_introspect, &out->introspect);
    if (r == JOTD_OK && p->has_resources)
        r = jotd_store__list_encode(p->resources, p->n_resources, &out->resources);
    if (r == JOTD_OK && p->has_redirect_uris)
        r = jotd_store__list_encode(p->redirect_uris, p->n_redirect_uris, &out->redirect_uris);
    if (r == JOTD_OK && p->has_allowed_origins)
        r = jotd_store__list_encode(p->allowed_origins, p->n_allowed_origins,
                                    &out->allowed_origins);
    if (r != JOTD_OK)
        jotd_store__client_lists_free(out);
    return r;
}

/* ---- signing keys and secrets ------------------------------------------------------------ */

void jotd_key_row_clear(jotd_key_row_t *k)
{
    if (!k)
        return;
    free(k->kid);
    free(k->alg);
    free(k->public_jwk);
    jotx_free_secret(k->private_sealed);
    memset(k, 0, sizeof *k);
}

void jotd_key_list_free(jotd_key_row_t *keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        jotd_key_row_clear(&keys[i]);
    free(keys);
}

jotd_rc_t jotd_store_key_list(jotd_store_t *st, jotd_key_row_t **out, size_t *out_n)
{
    if (!st || !out || !out_n)
        return fail(JOTD_E_INVAL, "key_list: NULL argument");
    *out = NULL;
    *out_n = 0;
    return st->ops->key_list(st, out, out_n);
}

static bool key_row_ok(const jotd_key_row_t *k)
{
    return k && k->kid && k->kid[0] && k->alg && k->alg[0] && k->public_jwk && k->public_jwk[0] &&
           k->private_sealed && k->private_sealed[0];
}

jotd_rc_t jotd_store_key_add(jotd_store_t *st, const jotd_key_row_t *k, bool only_if_none)
{
    if (!st || !key_row_ok(k))
        return fail(JOTD_E_INVAL, "key_add: incomplete key");
    return st->ops->key_add(st, k, only_if_none);
}

jotd_rc_t jotd_store_key_revoke(jotd_store_t *st, const char *kid, int64_t now,
                                const jotd_key_row_t *replacement)
{
    if (!st || !kid || !kid[0] || (replacement && !key_row_ok(replacement)))
        return fail(JOTD_E_INVAL, "key_revoke: bad argument");
    return st->ops->key_revoke(st, kid, now, replacement);
}

jotd_rc_t jotd_store_secret_get(jotd_store_t *st, const char *name, char **out)
{
    if (!st || !name || !name[0] || !out)
        return fail(JOTD_E_INVAL, "secret_get: bad argument");
    *out = NULL;
    return st->ops->secret_get(st, name, out);
}

jotd_rc_t jotd_store_secret_put(jotd_store_t *st, const char *name, const char *sealed, int64_t now)
{
    if (!st || !name || !name[0] || !sealed || !sealed[0])
        return fail(JOTD_E_INVAL, "secret_put: bad argument");
    return st->ops->secret_put(st, name, sealed, now);
}

/* ---- throttling ---------------------------------------------------------------------------- */

jotd_rc_t jotd_store_throttle_key(const char *scope, const char *kind, const char *name,
                                  size_t name_len, char out[JOTD_THROTTLE_KEY_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    if (!scope || !kind || (!name && name_len) || !out)
        return fail(JOTD_E_INVAL, "throttle_key: NULL argument");
    size_t ns = strlen(scope), nk = strlen(kind);
    if (name_len > SIZE_MAX - ns - nk - 2)
        return fail(JOTD_E_INVAL, "throttle_key: name too long");
    size_t n = ns + nk + 2 + name_len;
    char *buf = malloc(n);
    if (!buf)
        return fail(JOTD_E_NOMEM, "out of memory");
    memcpy(buf, scope, ns);
    buf[ns] = '\x1f';
    memcpy(buf + ns + 1, kind, nk);
    buf[ns + 1 + nk] = '\x1f';
    if (name_len)
        memcpy(buf + ns + nk + 2, name, name_len);
    uint8_t d[JOTX_SHA256_LEN];
    jotx_sha256(buf, n, d);
    free(buf);
    for (size_t i = 0; i < JOTX_SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[JOTD_THROTTLE_KEY_LEN] = '\0';
    return JOTD_OK;
}

/* A key of jotd_store_throttle_key: 64 lowercase hex digits, nothing else (so that no raw
 * name ever reaches a backend). */
static bool throttle_key_ok(const char *key)
{
    if (!key || strnlen(key, JOTD_THROTTLE_KEY_LEN + 1) != JOTD_THROTTLE_KEY_LEN)
        return false;
    for (size_t i = 0; i < JOTD_THROTTLE_KEY_LEN; i++) {
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
            return false;
    }
    return true;
}

jotd_rc_t jotd_store_throttle_get(jotd_store_t *st, const char *key, jotd_throttle_state_t *out)
{
    if (!st || !out || !throttle_key_ok(key))
        return fail(JOTD_E_INVAL, "throttle_get: bad argument");
    return st->ops->throttle_get(st, key, out);
}

jotd_rc_t jotd_store_throttle_update(jotd_store_t *st, const char *key, int64_t now,
                                     jotd_throttle_step_fn step, void *ctx,
                                     jotd_throttle_state_t *out)
{
    if (!st || !step || !out || !throttle_key_ok(key) || now < 0)
        return fail(JOTD_E_INVAL, "throttle_update: bad argument");
    return st->ops->throttle_update(st, key, now, step, ctx, out);
}

jotd_rc_t jotd_store_throttle_clear(jotd_store_t *st, const char *key)
{
    if (!st || !throttle_key_ok(key))
        return fail(JOTD_E_INVAL, "throttle_clear: bad argument");
    return st->ops->throttle_clear(st, key);
}

/* ---- event kinds -------------------------------------------------------------------------- */

/* The stored names: the same in every backend, so that the table means one thing. */
static const char *const event_names[] = {
    [JOTD_EV_SESSION_REVOKED] = "session_revoked",
    [JOTD_EV_USER_GENERATION] = "user_generation",
    [JOTD_EV_JTI_REVOKED] = "jti_revoked",
    [JOTD_EV_CLIENT_CHANGED] = "client_changed",
    [JOTD_EV_KEY_CHANGED] = "key_changed",
    [JOTD_EV_CLIENT_GENERATION] = "client_generation",
};
#define N_EVENT_NAMES (sizeof event_names / sizeof event_names[0])

const char *jotd_store__event_name(jotd_event_kind_t kind)
{
    return (size_t)kind < N_EVENT_NAMES && event_names[kind] ? event_names[kind] : "unknown";
}

jotd_event_kind_t jotd_store__event_kind(const char *name)
{
    for (size_t k = 1; k < N_EVENT_NAMES; k++)
        if (event_names[k] && strcmp(name, event_names[k]) == 0)
            return (jotd_event_kind_t)k;
    return 0;
}
