/* The running jotd: shared state of the HTTP handlers and the request/response types the
 * route files use. */
#ifndef JOTD_SERVER_H
#define JOTD_SERVER_H

#include "config.h"
#include "denylist.h"
#include "genmap.h"
#include "keyring.h"
#include "password.h"
#include "ratelimit.h"
#include "seal.h"
#include "request.h"
#include "statuslist.h"
#include "store.h"
#include "vcache.h"

#include <jot/jot.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* What SIGHUP replaces as a whole: configuration, keys and the verifier built from them.
 * Handlers hold app->rt_lock for reading while they use it. */
typedef struct jotd_runtime {
    jotd_config_t cfg;
    jotd_keyring_t *keyring;
    jot_verifier_t *access_verifier; /* our access tokens: keys, algs, iss, aud, typ at+jwt */
    jot_verifier_t *logout_verifier; /* the same, also accepting expired ones (/logout) */
    char *metadata_json;             /* RFC 8414 document */
    jotd_vcache_t *vcache; /* verified access tokens (NULL: off); dies with the runtime, so a
                              reload of the keys or configuration empties it */
} jotd_runtime_t;

typedef struct jotd_client_cache jotd_client_cache_t;
typedef struct jotd_origins jotd_origins_t;
typedef struct jotd_remote_sets jotd_remote_sets_t;
/* The HTTP layer's context of one request (http.c): query arguments. */
typedef struct jotd_conn jotd_conn_t;
/* A running HTTP server (http.c). */
typedef struct jotd_http jotd_http_t;
/* jansson's value type (jansson.h), so that this header does not need jansson's. */
typedef struct json_t json_t;

typedef struct jotd_app {
    char **argv; /* for reloading the configuration */
    int argc;
    pthread_rwlock_t rt_lock;
    jotd_runtime_t *rt;
    jotd_store_t *store;
    /* What ended, in memory (fed by the store's events, events.c): consulted by /verify,
     * /userinfo, /introspect and the verified-token cache without a store read. */
    jotd_denylist_t *deny;           /* revoked access-token jtis, until their exp */
    jotd_denylist_t *ended_sessions; /* revoked sids, until their last access token expired */
    jotd_genmap_t *gens;             /* per-user generations (older tokens are void) */
    /* "<client id>\n<generation>" of disabled or deleted clients: their service tokens of
     * that generation are void, until the last of them expired (NULL: none kept) */
    jotd_denylist_t *void_clients;
    jotd_remote_sets_t *remote_sets;  /* private_key_jwt clients' JWKS URLs (NULL: none) */
    jotd_throttle_t *throttle;        /* failed logins */
    jotd_throttle_t *client_throttle; /* failed client authentications: (client, IP) and IP */
    jotd_password_dummy_t dummy;
    jotd_client_cache_t *clients;
    jotd_origins_t *origins;         /* the allowed origins of public clients (CORS; cors.c) */
    jotd_statuslists_t *statuslists; /* signed Token Status Lists (NULL: none cached) */
    jotd_kek_t kek;                  /* opens the signing keys and secrets of the store */
    uint8_t refresh_key[32];         /* HMAC key deriving refresh-token successors (secrets.h) */
    uint8_t client_key[32];          /* HMAC key of stored client secrets (secrets.h) */
    uint8_t browser_key[32];         /* HMAC key of the login page's CSRF tokens (secrets.h) */
    pthread_t main_thread;           /* woken with SIGUSR1 when the store's keys changed ... */
    bool has_main_thread;            /* ... when set (serve sets both) */
    atomic_bool keys_changed;        /* set by events.c, cleared by the main loop's reload */
    pthread_mutex_t events_lock;     /* guards events_last */
    int64_t events_last;             /* id of the last store event applied */
    bool events_synced;              /* a read of the events has completed (events_lock) */
    jotd_store_listener_t *listener; /* PostgreSQL's LISTEN thread (NULL: polled only) */
} jotd_app_t;

/* One HTTP request, as the route handlers see it. */
typedef struct jotd_req {
    const char *method;
    const char *path;         /* without the query string */
    const char *query;        /* after '?', or "" */
    const char *content_type; /* may be NULL */
    const char *authorization;
    const char *cookie;           /* the Cookie header, or NULL */
    const char *origin;           /* the Origin header, or NULL */
    const char *sec_fetch_site;   /* the Sec-Fetch-Site header, or NULL */
    const char *x_requested_with; /* the X-Requested-With header, or NULL */
    const char *ip;               /* client address as text */
    const char *body;
    size_t body_len;
    const jotd_conn_t *conn; /* the HTTP layer's request context (NULL: no query arguments) */
    /* true: the handler runs on an event loop (http.c), where it must not block on Argon2.
     * A handler of a route marked "inline first" then answers JOTD_STATUS_DEFER, with
     * nothing else in the response, to be run again on a worker thread. */
    bool on_event_loop;
} jotd_req_t;

/* jotd_resp_t.status of a handler that must run on a worker (see on_event_loop). */
#define JOTD_STATUS_DEFER 1

#define JOTD_MAX_HEADERS 16

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
/** The same for the \p len bytes at \p value (a token inside a request header). */
void jotd_resp_header_n(jotd_resp_t *r, const char *name, const char *value, size_t len);
/** Whether \p method is one of \p allow ("GET, HEAD, POST": the Allow header's list). */
bool jotd_method_allowed(const char *allow, const char *method);
/** true when the request's method is one of \p allow; otherwise false after answering 405
 *  with Allow: \p allow. */
bool jotd_resp_method(const jotd_req_t *req, const char *allow, jotd_resp_t *resp);
/** Frees what \p r holds (its body and header values) and zeroes it: an answer not sent. */
void jotd_resp_clear(jotd_resp_t *r);
/** JSON body from a jansson value (reference stolen). */
void jotd_resp_json(jotd_resp_t *r, unsigned status, json_t *json);
/** RFC 6749 §5.2 error body {"error":..,"error_description":..}. */
void jotd_resp_error(jotd_resp_t *r, unsigned status, const char *error, const char *description);
/** Parse the body into \p params; on failure answer 400 (RFC 6749 §5.2) and return false. */
bool jotd_parse_body(const jotd_req_t *req, jotd_params_t *params, jotd_resp_t *resp);
/** 401 invalid_client, with WWW-Authenticate: Basic when the client used Basic. */
void jotd_resp_invalid_client(jotd_resp_t *resp, const jotd_req_t *req);
/** 503 temporarily_unavailable with Retry-After, for a store that cannot answer now. */
void jotd_resp_unavailable(jotd_resp_t *resp, jotd_rc_t rc);
/** 401 with an RFC 6750 WWW-Authenticate challenge; \p error NULL when no token was sent. */
void jotd_resp_bearer_challenge(jotd_resp_t *resp, const char *error, const char *description);
/** The value of request header \p name (the first one; case-insensitive name) or NULL:
 *  borrowed from the HTTP layer, valid while the handler runs. Untrusted bytes. */
const char *jotd_req_header(const jotd_req_t *req, const char *name);
/** Value of a query-string parameter (decoded into \p buf) or NULL. */
const char *jotd_req_query(const jotd_req_t *req, const char *name, char *buf, size_t len);

/* ---- tokens (token.c) ---- */
/** Current time in seconds. */
int64_t jotd_now(void);
/** JOTD_SID_LEN-character base64url of 128 random bits (+ NUL) into \p out: a sid or jti. */
void jotd_random_id(char out[JOTD_SID_LEN + 1]);
/** New refresh token: JOTD_REFRESH_TOKEN_LEN-character base64url of 256 random bits (+ NUL). */
void jotd_refresh_new(char out[JOTD_REFRESH_TOKEN_LEN + 1]);
/** The successor of a refresh token: base64url(HMAC-SHA256(refresh_key, token)). */
void jotd_refresh_successor(const jotd_app_t *app, const char *token, size_t len,
                            char out[JOTD_REFRESH_TOKEN_LEN + 1]);
/** SHA-256 of a refresh token, as stored. */
void jotd_refresh_hash(const char *token, size_t len, uint8_t out[JOTD_HASH_LEN]);
/** Sign an access token for \p user in session \p s, with the "status" claim of the
 *  session's status index (statuslist.h). *out_token malloc'd (jot_free); its jti
 *  to \p out_jti unless NULL. libjot's error (JOT_E_NOMEM, a signing failure) otherwise. */
jot_err_t jotd_access_token(const jotd_runtime_t *rt, const jotd_user_t *user,
                            const jotd_session_t *s, const char *scope, int64_t now,
                            char **out_token, char out_jti[JOTD_SID_LEN + 1]);
/** What a client is told about a token that failed \p rc: "malformed token" for every
 *  failure to parse it (base64url, UTF-8, JSON, header, structure: a garbage bearer is malformed,
 *  whatever byte gave it away), jot_strerror() otherwise. Static text. */
const char *jotd_token_rejection(jot_err_t rc);
/** Sign a service token (client_credentials, RFC 9068): sub and client_id = the client's
 *  id, aud = \p aud, the scope, the "status" claim of the client's status index; no sid, no
 *  user claims (the absence of sid is what tells a service token from a user's). As
 *  jotd_access_token() otherwise. */
jot_err_t jotd_client_token(const jotd_runtime_t *rt, const jotd_client_t *cl, const char *aud,
                            const char *scope, int64_t now, char **out_token);
/** Verify one of our access tokens: signature, time, iss, typ at+jwt, jti not on the
 *  denylist; aud: the server's audience for a user's token (it has a sid), any audience for
 *  a service token (no sid, client_id = sub: jotd signs those only for a resource the client
 *  may have). No database access. On success *out is the token (jot_token_free); on failure
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
/** The user behind a verified access token \p t, read from the store now (the role checks
 *  of /admin and the claims of /userinfo come from the record, not the token). JOTD_OK:
 *  the session named by t's sid claim is active and its user present and enabled; *out is
 *  that user (jotd_user_clear). Otherwise \p resp holds the answer and *out is untouched:
 *  401 invalid_token "session ended" for JOTD_E_NOTFOUND (no sid, no such session or user),
 *  JOTD_E_EXPIRED (session revoked or past its end) and JOTD_E_DISABLED; 503 for a store
 *  that cannot answer (JOTD_E_BUSY, JOTD_E_IO...). */
jotd_rc_t jotd_session_user(jotd_app_t *app, const jot_token_t *t, jotd_user_t *out,
                            jotd_resp_t *resp);
/** The *reason of jotd_access_verify() for a denylisted token (compare the pointer). */
extern const char jotd_reason_revoked[];
/** Why an access token whose signature and claims verified is void all the same: its jti
 *  denylisted, its session ended, or its user's generation (\p sub, a user id) past the
 *  token's \p gen. NULL when it is not. \p sid and \p sub may be NULL or "". */
const char *jotd_token_void_reason(jotd_app_t *app, const char *jti, const char *sid,
                                   const char *sub, int64_t gen, int64_t now);

/* ---- events (events.c): what the store says ended, applied in memory ---- */
/* The key of a client's voided generation in app->void_clients: "<id>\n<gen>". */
#define JOTD_CLIENT_VOID_KEY_MAX 96
/** Writes the key into \p out; its length, or -1 when the id does not fit. */
int jotd_client_void_key(const char *client_id, int64_t gen, char out[JOTD_CLIENT_VOID_KEY_MAX]);
/** Record that \p client_id's service tokens of generation \p gen are void (a disable or
 *  delete at \p when): until when + access_ttl + slack. 0, or -1 when memory is full. */
int jotd_client_voided(jotd_app_t *app, const char *client_id, int64_t gen, int64_t when,
                       int64_t access_ttl);
/** Read the store's events written since the last call (every retained one at the first)
 *  and apply them: denylisted jtis, ended sessions, user generations, client changes (which
 *  empty the credential cache). Thread-safe: request handlers call it right after a change
 *  of their own, the main loop every second for changes made elsewhere. \p access_ttl: how
 *  long an access token lives (an ended session is remembered that long). */
jotd_rc_t jotd_events_sync(jotd_app_t *app, int64_t access_ttl);
/** Remember a session as ended at once (before its event is read back), and mark the
 *  cached status lists stale; call it once the revocation is committed. 0, or -1 when the
 *  in-memory table is full or out of memory. */
int jotd_session_ended(jotd_app_t *app, const char *sid, int64_t when, int64_t access_ttl);

/* ---- client authentication (clients.c) ---- */
typedef enum jotd_client_auth {
    JOTD_CLIENT_NONE = 0,     /* no credentials and no client_id */
    JOTD_CLIENT_PUBLIC,       /* a registered public client named by client_id */
    JOTD_CLIENT_CONFIDENTIAL, /* authenticated with its secret */
    JOTD_CLIENT_INVALID,      /* unknown client or wrong secret or malformed credentials */
    JOTD_CLIENT_THROTTLED,    /* too many failures from this address (for this client) */
    JOTD_CLIENT_UNAVAILABLE   /* the store could not answer */
} jotd_client_auth_t;

#define JOTD_CLIENT_SECRET_MIN 32 /* characters of a client secret given by the operator */
#define JOTD_CLIENT_HASH_MAX 80   /* a stored keyed hash, with its NUL */

jotd_client_cache_t *jotd_client_cache_new(void);
void jotd_client_cache_free(jotd_client_cache_t *c);
/** Forget every cached credential (any client changed). */
void jotd_client_cache_flush(jotd_client_cache_t *c);
/** The stored form of a client secret: "$jotd-hmac-sha256$" + base64url(HMAC-SHA256(key,
 *  client_id NUL secret)). 0, or -1 (out of memory). */
int jotd_client_secret_hash(const uint8_t key[32], const char *client_id, const char *secret,
                            char out[JOTD_CLIENT_HASH_MAX]);
/** Authenticate the client of a request: HTTP Basic, or client_id (+ client_secret) in the
 *  body. For PUBLIC and CONFIDENTIAL \p out is the client's record (jotd_client_clear);
 *  for THROTTLED *retry_after (may be NULL) the seconds to wait. Both Basic and body
 *  credentials at once → INVALID (RFC 6749 §2.3). Failures are counted per (client, IP) and
 *  per IP. With req->on_event_loop only cached credentials are checked (no store read):
 *  anything else is INVALID there, and the caller must run the request again on a worker
 *  before it refuses it. */
jotd_client_auth_t jotd_client_authenticate(jotd_app_t *app, const jotd_runtime_t *rt,
                                            const jotd_req_t *req, const jotd_params_t *params,
                                            jotd_client_t *out, int64_t *retry_after);
/* Remote JWK sets of private_key_jwt clients (--jwks-url), one per client, in memory. */
#define JOTD_REMOTE_SETS_MAX 1024
/** \p allow_http: plain http:// to a loopback host (tests; --allow-http-jwks-url). */
jotd_remote_sets_t *jotd_remote_sets_new(int allow_http);
void jotd_remote_sets_free(jotd_remote_sets_t *r);
/** private_key_jwt (RFC 7523 §2.2): a request with client_assertion_type. */
#define JOTD_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/** An assertion's exp may be at most this far in the future. */
#define JOTD_ASSERTION_MAX_LIFETIME 300
/* Clock skew allowed on an assertion's exp, nbf and iat (seconds). */
#define JOTD_ASSERTION_LEEWAY 5
/** The algorithms a client assertion may use: asymmetric ones only (never HS*, never none). */
#define JOTD_ASSERTION_ALGS                                                                        \
    (JOT_ALG_BIT(JOT_ALG_RS256) | JOT_ALG_BIT(JOT_ALG_RS384) | JOT_ALG_BIT(JOT_ALG_RS512) |        \
     JOT_ALG_BIT(JOT_ALG_PS256) | JOT_ALG_BIT(JOT_ALG_PS384) | JOT_ALG_BIT(JOT_ALG_PS512) |        \
     JOT_ALG_BIT(JOT_ALG_ES256) | JOT_ALG_BIT(JOT_ALG_ES384) | JOT_ALG_BIT(JOT_ALG_ES512) |        \
     JOT_ALG_BIT(JOT_ALG_EDDSA))
/** A client's public JWK set as registered: parses strictly, at least one key, public
 *  asymmetric keys only. 0, or -1 with the reason in \p err. */
int jotd_client_jwks_check(const char *json, size_t len, char *err, size_t errlen);
/** The record of the default client (--default-client), which acts for requests that name
 *  no client: JOTD_E_NOTFOUND unless it exists and is public. */
jotd_rc_t jotd_client_default(jotd_app_t *app, const jotd_runtime_t *rt, jotd_client_t *out);
/** The answer to a failed authentication: 401 invalid_client, 429 or 503. */
void jotd_resp_client_error(jotd_resp_t *resp, const jotd_req_t *req, jotd_client_auth_t auth,
                            int64_t retry_after);

/* ---- logins (routes_token.c): the password grant's and the login page's one check ---- */
typedef enum jotd_login_result {
    JOTD_LOGIN_OK = 0,      /* *out is the user (jotd_user_clear) */
    JOTD_LOGIN_BAD,         /* wrong name or password, or a disabled user (one answer) */
    JOTD_LOGIN_THROTTLED,   /* *out_wait seconds before the next try */
    JOTD_LOGIN_UNAVAILABLE, /* the store could not answer (logged) */
} jotd_login_result_t;
/** Check \p username / \p password as every login does: the throttle first (per account and
 *  per address), the same Argon2 work for unknown users, the audit lines (login_throttled,
 *  login_failure naming \p client_id), the failure counters and metrics, a stale hash
 *  rewritten on success. The caller makes the session and audits login_success. */
jotd_login_result_t jotd_login_check(jotd_app_t *app, const jotd_runtime_t *rt,
                                     const jotd_req_t *req, const char *username,
                                     const char *password, const char *client_id, jotd_user_t *out,
                                     int64_t *out_wait);

/** A new session of \p user for \p client_id with \p scope (borrowed by *out, as are
 *  client_id and req->ip: the sid is out's own), its first refresh token into \p refresh;
 *  counts and audits login_success. The store's error otherwise (refresh wiped). */
jotd_rc_t jotd_login_session(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                             const jotd_user_t *user, const char *client_id, char *scope,
                             int64_t now, jotd_session_t *out,
                             char refresh[JOTD_REFRESH_TOKEN_LEN + 1]);

/* ---- the refresh rotation (routes_token.c): grant_type=refresh_token's, shared with the
 * login page's silent refresh (routes_login.c) ---- */
typedef struct jotd_refreshed {
    char *access;                             /* the new access token (jot_free) */
    char *scope;                              /* its scope (malloc'd) */
    char refresh[JOTD_REFRESH_TOKEN_LEN + 1]; /* the successor refresh token */
} jotd_refreshed_t;
/** Rotate the refresh token \p old of client \p cl exactly as grant_type=refresh_token does:
 *  the store's rotation (the grace window, a reuse revoking the session), a new access token
 *  for \p scope (NULL: the session's) less what the client may no longer ask for, the audit
 *  lines and metrics. true: \p out filled (jotd_refreshed_clear). false: the error answer
 *  (RFC 6749 §5.2 JSON, 503) is in \p resp. */
bool jotd_refresh_rotate(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         const jotd_client_t *cl, const char *old, const char *scope,
                         jotd_refreshed_t *out, jotd_resp_t *resp);
/** Wipe and free what \p r holds (a zeroed one is fine). */
void jotd_refreshed_clear(jotd_refreshed_t *r);

/** The scope granted to \p cl for \p requested (NULL: its default scopes) into *out
 *  (malloc'd): 0; 1 when malformed or not allowed (invalid_scope); -1 out of memory. */
int jotd_scope_for_client(const char *requested, const jotd_client_t *cl, char **out);
/** The browser's session from its cookie (routes_login.c): a live session of the portal
 *  client whose user is enabled: true with *s and *user filled (clear both). */
bool jotd_browser_session(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_session_t *s, jotd_user_t *user);
/** The login form (routes_login.c), continuing the authorization request \p authorize (a
 *  query string for /authorize, NULL: none) whose redirect URI's origin is \p origin (NULL:
 *  none; added to the CSP's form-action). */
void jotd_login_page(jotd_app_t *app, const jotd_runtime_t *rt, jotd_resp_t *resp, unsigned status,
                     const char *message, const char *authorize, const char *origin);
/** An HTML page (routes_login.c) with the login page's headers: \p title and the
 *  paragraph \p text (escaped). */
void jotd_html_page(jotd_resp_t *resp, unsigned status, const char *title, const char *text);
/** GET /authorize (routes_authorize.c). */
void jotd_route_authorize(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                          jotd_resp_t *resp);

/* ---- cookies (cookie.c) ---- */
/** Whether the browser sees jotd over HTTPS (TLS here, or at the proxy: --insecure-http):
 *  cookies then carry their __Host-/__Secure- prefix and Secure. */
bool jotd_secure_cookies(const jotd_runtime_t *rt);
/** The name a cookie has here: \p name as given ("__Host-jotd-session"), or without its
 *  __Host-/__Secure- prefix when jotd serves plain HTTP. Points into \p name. */
const char *jotd_cookie_name(const jotd_runtime_t *rt, const char *name);
/** The value of cookie \p name in the Cookie header (the first one) into \p buf; NULL when
 *  absent or longer than \p len - 1. */
const char *jotd_cookie_get(const jotd_req_t *req, const char *name, char *buf, size_t len);
typedef struct jotd_cookie_attrs {
    const char *path;      /* NULL: "/" */
    const char *domain;    /* NULL: host-only */
    const char *same_site; /* "Strict" or "Lax" */
    int64_t max_age;       /* seconds; 0 deletes it; -1: a session cookie */
} jotd_cookie_attrs_t;
/** Adds Set-Cookie: \p name = \p value with \p a, always HttpOnly, Secure when
 *  jotd_secure_cookies. */
void jotd_cookie_set(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *name,
                     const char *value, const jotd_cookie_attrs_t *a);

/* ---- browsers from other origins (cors.c) ---- */
jotd_origins_t *jotd_origins_new(void);
void jotd_origins_free(jotd_origins_t *o);
/** A client changed: the set is rebuilt at the next jotd_origins_reload(). */
void jotd_origins_changed(jotd_origins_t *o);
/** Rebuild the set from the store's clients when it is stale (never on an event loop: a
 *  store read). The store's error leaves it stale and the old set in use. */
jotd_rc_t jotd_origins_reload(jotd_origins_t *o, jotd_store_t *st);
/** Whether \p origin is an allowed origin of some public client (memory only). */
bool jotd_origins_has(jotd_origins_t *o, const char *origin);
/** CORS headers of a credentialed endpoint (/token, /revoke, /logout, /userinfo): Vary:
 *  Origin for any Origin; Allow-Origin (that origin) and Allow-Credentials for an allowed one. */
void jotd_cors_headers(jotd_app_t *app, const jotd_req_t *req, jotd_resp_t *resp);
/** OPTIONS preflight of a credentialed endpoint allowing \p methods: 204 for an allowed
 *  origin, 403 without any Access-Control-* header otherwise. */
void jotd_cors_preflight(jotd_app_t *app, const jotd_req_t *req, const char *methods,
                         jotd_resp_t *resp);
/** \p origin (may be NULL) is one of \p cl's allowed origins. */
bool jotd_client_origin_allowed(const jotd_client_t *cl, const char *origin);
/** Why a request authenticated by a cookie-mode client's refresh cookie is refused (static
 *  text), or NULL: Origin not one of the client's, Sec-Fetch-Site cross-site, or not
 *  preflighted (neither a JSON body nor a non-empty X-Requested-With). */
const char *jotd_cookie_request_refusal(const jotd_req_t *req, const jotd_client_t *cl);
/** 403 invalid_request \p why, audited cors_refused. */
void jotd_cors_refused(const jotd_req_t *req, const jotd_client_t *cl, const char *why,
                       jotd_resp_t *resp);
/** The refresh cookie's name of \p client_id ("__Secure-jotd-refresh-<id>", without the
 *  prefix on plain HTTP): 0, or -1 when it is no valid cookie name or does not fit. */
int jotd_refresh_cookie_name(const jotd_runtime_t *rt, const char *client_id, char *out,
                             size_t len);
/** The token endpoint's path from the issuer ("https://h/auth" -> "/auth/token"): 0 or -1. */
int jotd_token_endpoint_path(const char *issuer, char *out, size_t len);
/** Set-Cookie of the refresh cookie: \p value (Max-Age = the idle lifetime), or NULL to
 *  clear it (Max-Age=0, the same Path). */
void jotd_refresh_cookie_set(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *client_id,
                             const char *value);

/* ---- routes (routes_*.c) ---- */
void jotd_route_token(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp);
void jotd_route_revoke(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp);
void jotd_route_introspect(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp);
void jotd_route_logout(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp);
/** GET/POST /login: the login page (routes_login.c). */
void jotd_route_login(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp);
/** POST /logout from the login page (a form with its csrf field): ends the browser
 *  session and clears jotd's cookies (routes_login.c). */
void jotd_browser_logout(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         const jotd_params_t *params, jotd_resp_t *resp);
/** The request's bearer token verified as one of our access tokens (jotd_access_verify):
 *  the caller frees it with jot_token_free; NULL with the 401 in \p resp. */
jot_token_t *jotd_bearer_verified(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                                  jotd_resp_t *resp);
/** Whether the roles claim of \p t holds \p role. */
bool jotd_token_has_role(const jot_token_t *t, const char *role);
void jotd_route_verify(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp);
void jotd_route_userinfo(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp);
/** The admin of an /admin request: a valid access token whose live session belongs to an
 *  enabled user with the "admin" role (read from the store). Their username (malloc'd), or
 *  NULL after answering 401/403. */
char *jotd_admin_require(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp);
/** The JSON object of an application/json body, or NULL after answering 400. */
json_t *jotd_admin_json_body(const jotd_req_t *req, jotd_resp_t *resp);
/** The first segment of \p rest ("/SEG" or "/SEG/more", what follows an /admin/... prefix)
 *  into \p buf: what follows it ("" or "/more"), or NULL when it is empty or does not fit in
 *  \p len. */
const char *jotd_admin_segment(const char *rest, char *buf, size_t len);
/** A JSON array of the \p n strings \p v (copied): roles, scopes, audiences... */
json_t *jotd_admin_strings(char *const *v, size_t n);
/** A JSON array of at most \p max strings that \p valid accepts: true with *out a calloc'd
 *  array (free it) of pointers borrowed from \p j and *n their number; false otherwise. */
bool jotd_admin_list(json_t *j, size_t max, bool (*valid)(const char *), const char ***out,
                     size_t *n);
/** /admin/keys[...] (routes_admin_clients.c). */
void jotd_route_admin_keys(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp);
/** /admin/clients[...] (routes_admin_clients.c). */
void jotd_route_admin_clients(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                              jotd_resp_t *resp);
void jotd_route_admin(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp);
/** GET /statuslists/{K}: the Status List Token of list K (statuslist.h); on the event loop
 *  only from the cache (else JOTD_STATUS_DEFER). */
void jotd_route_statuslist(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp);

/* ---- the HTTP server (http.c) ---- */
/** Start listening per rt->cfg, with the event loops (--threads) and a pool of worker
 *  threads for the handlers that use the database or Argon2. On JOTD_OK *out is the server
 *  (jotd_http_stop) and *out_port the bound port (useful with port 0). Errors (rc.h, with a
 *  message): JOTD_E_INVAL (--listen not an IP address), JOTD_E_IO (TLS files unreadable,
 *  cannot listen), JOTD_E_NOMEM. */
jotd_rc_t jotd_http_start(jotd_app_t *app, jotd_http_t **out, uint16_t *out_port, char *err,
                          size_t errlen);
/** Stop accepting, wait up to \p drain_seconds for requests under way, then stop and free
 *  \p h. NULL is a no-op. */
void jotd_http_stop(jotd_http_t *h, unsigned drain_seconds);
/** The port of the --metrics-listen listener (0: none). */
uint16_t jotd_http_metrics_port(const jotd_http_t *h);

/* ---- runtime (app.c) ---- */
/** Build a runtime from a loaded configuration (takes the config over on success) and the
 *  signing keys of \p st as they are at \p now, opened with \p kek. Errors (rc.h, with a
 *  message): those of jotd_keyring_load(), JOTD_E_NOMEM. */
jotd_rc_t jotd_runtime_new(jotd_config_t *cfg, jotd_store_t *st, const jotd_kek_t *kek, int64_t now,
                           jotd_runtime_t **out, char *err, size_t errlen);
void jotd_runtime_free(jotd_runtime_t *rt);
/** The Argon2 parameters of the dummy hash that logins of unknown users verify against:
 *  those most stored password hashes carry (jotd_store_user_hash_params), so that an unknown
 *  name costs what a typical existing one does; \p fallback (the current settings) when no
 *  user has a usable hash. JOTD_OK, or the store's error. */
jotd_rc_t jotd_dummy_params(jotd_store_t *st, const jotd_argon2_t *fallback, jotd_argon2_t *out);

#endif
