/* The running jotd: shared state of the HTTP handlers and the request/response types the
 * route files use. */
#ifndef JOTD_SERVER_H
#define JOTD_SERVER_H

#include "config.h"
#include "denylist.h"
#include "keyring.h"
#include "password.h"
#include "ratelimit.h"
#include "request.h"
#include "store.h"
#include "vcache.h"

#include <jot/jot.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* What SIGHUP replaces as a whole: configuration, keys and the verifier built from them.
 * Handlers hold app->rt_lock for reading while they use it. */
typedef struct jotd_runtime {
    jotd_config_t cfg;
    jotd_keyring_t *keyring;
    jot_verifier_t *access_verifier; /* our access tokens: keys, algs, iss, aud, typ at+jwt */
    char *metadata_json;             /* RFC 8414 document */
    jotd_vcache_t *vcache; /* verified access tokens (NULL: off); dies with the runtime, so a
                              reload of the keys or configuration empties it */
} jotd_runtime_t;

typedef struct jotd_client_cache jotd_client_cache_t;

typedef struct jotd_app {
    char **argv; /* for reloading the configuration */
    int argc;
    pthread_rwlock_t rt_lock;
    jotd_runtime_t *rt;
    jotd_store_t *store;
    jotd_denylist_t *deny;
    jotd_throttle_t *throttle;
    jotd_password_dummy_t dummy;
    jotd_client_cache_t *clients;
    uint8_t refresh_key[32]; /* HMAC key deriving refresh-token successors (keys/refresh.key) */
} jotd_app_t;

/* One HTTP request, as the route handlers see it. */
typedef struct jotd_req {
    const char *method;
    const char *path;         /* without the query string */
    const char *query;        /* after '?', or "" */
    const char *content_type; /* may be NULL */
    const char *authorization;
    const char *ip; /* client address as text */
    const char *body;
    size_t body_len;
    void *conn; /* the HTTP layer's request context (query arguments) */
    /* true: the handler runs on an event loop (http.c), where it must not block on Argon2.
     * A handler of a route marked "inline first" then answers JOTD_STATUS_DEFER, with
     * nothing else in the response, to be run again on a worker thread. */
    bool on_event_loop;
} jotd_req_t;

/* jotd_resp_t.status of a handler that must run on a worker (see on_event_loop). */
#define JOTD_STATUS_DEFER 1

#define JOTD_MAX_HEADERS 8

typedef struct jotd_resp {
    unsigned status;
    char *body; /* malloc'd, may be NULL */
    size_t body_len;
    const char *content_type;
    const char *hdr_name[JOTD_MAX_HEADERS];
    char *hdr_value[JOTD_MAX_HEADERS]; /* malloc'd */
    size_t n_hdr;
} jotd_resp_t;

/* ---- responses (http.c) ---- */
void jotd_resp_header(jotd_resp_t *r, const char *name, const char *value);
/** JSON body from a jansson value (reference stolen). */
void jotd_resp_json(jotd_resp_t *r, unsigned status, void *json_value);
/** RFC 6749 §5.2 error body {"error":..,"error_description":..}. */
void jotd_resp_error(jotd_resp_t *r, unsigned status, const char *error, const char *description);
/** Parse the body into \p params; on failure answer 400 (RFC 6749 §5.2) and return false. */
bool jotd_parse_body(const jotd_req_t *req, jotd_params_t *params, jotd_resp_t *resp);
/** 401 invalid_client with WWW-Authenticate: Basic. */
void jotd_resp_invalid_client(jotd_resp_t *resp);
/** 503 temporarily_unavailable with Retry-After, for a store that cannot answer now. */
void jotd_resp_unavailable(jotd_resp_t *resp, jotd_rc_t rc);
/** 401 with an RFC 6750 WWW-Authenticate challenge; \p error NULL when no token was sent. */
void jotd_resp_bearer_challenge(jotd_resp_t *resp, const char *error, const char *description);
/** Value of a query-string parameter (decoded into \p buf) or NULL. */
const char *jotd_req_query(const jotd_req_t *req, const char *name, char *buf, size_t len);

/* ---- tokens (token.c) ---- */
/** Current time in seconds. */
int64_t jotd_now(void);
/** 22-character base64url of 128 random bits (+ NUL) into \p out. */
void jotd_random_id(char out[23]);
/** New refresh token: 43-character base64url of 256 random bits (+ NUL). */
void jotd_refresh_new(char out[44]);
/** The successor of a refresh token: base64url(HMAC-SHA256(refresh_key, token)). */
void jotd_refresh_successor(const jotd_app_t *app, const char *token, size_t len, char out[44]);
/** SHA-256 of a refresh token, as stored. */
void jotd_refresh_hash(const char *token, size_t len, uint8_t out[JOTD_HASH_LEN]);
/** Sign an access token for \p user in session \p s. *out_token malloc'd (jot_free). */
int jotd_access_token(const jotd_runtime_t *rt, const jotd_user_t *user, const jotd_session_t *s,
                      const char *scope, int64_t now, char **out_token, char *out_jti);
/** Verify one of our access tokens: signature, time, iss, aud, typ at+jwt, jti not on the
 *  denylist. No database access. On success *out is the token (jot_token_free); on failure
 *  *reason is a short static text ("token expired", "token revoked"...). */
jot_err_t jotd_access_verify(jotd_app_t *app, const jotd_runtime_t *rt, const char *token,
                             size_t len, jot_token_t **out, const char **reason);
/** jotd_access_verify() through the verified-token cache rt->vcache: a hit costs a SHA-256
 *  and a lookup, and the denylist is checked on every hit as on every miss. On success
 *  \p out holds what the token answers with (jotd_verified_clear), out->introspection
 *  included when \p introspection (an entry cached without it counts as a miss and is
 *  replaced); on failure *reason as jotd_access_verify(). */
jot_err_t jotd_access_check(jotd_app_t *app, const jotd_runtime_t *rt, const char *token,
                            size_t len, bool introspection, jotd_verified_t *out,
                            const char **reason);
/** The *reason of jotd_access_verify() for a denylisted token (compare the pointer). */
extern const char jotd_reason_revoked[];

/* ---- client authentication (clients.c) ---- */
typedef enum jotd_client_auth {
    JOTD_CLIENT_NONE = 0,     /* no credentials and no client_id */
    JOTD_CLIENT_PUBLIC,       /* a registered public client named by client_id */
    JOTD_CLIENT_CONFIDENTIAL, /* authenticated with its secret */
    JOTD_CLIENT_INVALID       /* unknown client or wrong secret or malformed credentials */
} jotd_client_auth_t;

jotd_client_cache_t *jotd_client_cache_new(void);
void jotd_client_cache_free(jotd_client_cache_t *c);
/** Authenticate the client of a request: HTTP Basic, or client_id (+ client_secret) in the
 *  body. *out_client_id is set (malloc'd) for PUBLIC and CONFIDENTIAL. Both Basic and body
 *  credentials at once → INVALID (RFC 6749 §2.3). With req->on_event_loop only cached
 *  credentials are checked (no Argon2, no store read): anything else is INVALID there, and
 *  the caller must run the request again on a worker before it refuses it. */
jotd_client_auth_t jotd_client_authenticate(jotd_app_t *app, const jotd_req_t *req,
                                            const jotd_params_t *params, char **out_client_id);

/* ---- routes (routes_*.c) ---- */
void jotd_route_token(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp);
void jotd_route_revoke(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp);
void jotd_route_introspect(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp);
void jotd_route_logout(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp);
void jotd_route_verify(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp);
void jotd_route_userinfo(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp);
void jotd_route_admin(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp);

/* ---- the HTTP server (http.c) ---- */
/** Start listening per rt->cfg, with the event loops (--threads) and a pool of worker
 *  threads for the handlers that use the database or Argon2. Returns the server, or NULL
 *  with a message. *out_port receives the bound port (useful with port 0). */
void *jotd_http_start(jotd_app_t *app, uint16_t *out_port, char *err, size_t errlen);
/** Stop accepting, wait up to \p drain_seconds for requests under way, then stop and free
 *  the server. NULL is a no-op. */
void jotd_http_stop(void *server, unsigned drain_seconds);

/* ---- runtime (app.c) ---- */
/** Build a runtime from a loaded configuration (takes the config over on success). */
int jotd_runtime_new(jotd_config_t *cfg, int64_t now, jotd_runtime_t **out, char *err,
                     size_t errlen);
void jotd_runtime_free(jotd_runtime_t *rt);
/** The Argon2 parameters of the dummy hash that logins of unknown users verify against:
 *  those most stored password hashes carry (jotd_store_user_hash_params), so that an unknown
 *  name costs what a typical existing one does; \p fallback (the current settings) when no
 *  user has a usable hash. 0, or -1 on a store error. */
int jotd_dummy_params(jotd_store_t *st, const jotd_argon2_t *fallback, jotd_argon2_t *out);

#endif
