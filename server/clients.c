/* Client authentication for /token, /revoke, /introspect, /logout (RFC 6749 §2.3.1): HTTP
 * Basic or client_id/client_secret in the body, never both.
 *
 * Secrets. Client secrets are machine secrets of at least 256 bits (jotd generates them, or
 * refuses given ones shorter than JOTD_CLIENT_SECRET_MIN characters), so a slow password
 * hash buys nothing against guessing and costs a CPU-second per dozen wrong guesses: they are
 * stored as HMAC-SHA256 under a server key (DATA/keys/client.key) over the client id and the
 * secret, "$jotd-hmac-sha256$<base64url>", and checked in microseconds. The key keeps a copy
 * of the database alone from being a list of offline-checkable hashes; the client id in the
 * MAC ties a hash to its row. Secrets stored by earlier releases as Argon2id PHC strings are
 * still checked (on a worker: Argon2 never runs on an event loop) and upgraded to the keyed
 * form on their first success when long enough.
 *
 * Guessing. Failures are throttled per (client, IP) and per IP (ratelimit.c), never per
 * client alone: anyone could otherwise lock a resource server out by spraying wrong secrets
 * under its id. The counters are shared through the store (ratelimit.h), and the store is
 * never touched on an event loop: there the throttle answers from its local table only
 * (jotd_throttle_check_local), and the store-backed check, failure and success run on the
 * worker path alone (cache miss, store read, secret check). A cache hit is a success that
 * clears the local entry only: it never reads or writes the store.
 *
 * Cache. A successful check is remembered for CACHE_SECONDS, keyed by a SHA-256 of the
 * presented credentials, with a copy of the client record, so that introspection needs
 * neither a MAC nor a store read on every request. A public client (and the default
 * client) is remembered the same way, keyed by the SHA-256 of its id alone: that input has
 * no NUL, the confidential key's input (id NUL secret) has one, so the two never meet. Any
 * change to any client (an event, events.c) empties the whole cache at once. */
#include "log.h"
#include "common/buf.h"
#include "names.h"
#include "server.h"
#include "common/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_SLOTS 256
#define CACHE_SECONDS 300
#define HMAC_PREFIX "$jotd-hmac-sha256$"

struct jotd_client_cache {
    pthread_mutex_t lock;
    struct {
        uint8_t digest[32];
        int64_t expires;
        jotd_client_t client;
    } slot[CACHE_SLOTS];
};

jotd_client_cache_t *jotd_client_cache_new(void)
{
    jotd_client_cache_t *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void jotd_client_cache_flush(jotd_client_cache_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        jotd_client_clear(&c->slot[i].client);
        jot_memzero(c->slot[i].digest, sizeof c->slot[i].digest);
        c->slot[i].expires = 0;
    }
    pthread_mutex_unlock(&c->lock);
}

void jotd_client_cache_free(jotd_client_cache_t *c)
{
    if (!c)
        return;
    jotd_client_cache_flush(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* MAC input: the id, a NUL (keeps ("ab","c") and ("a","bc") apart), the secret. */
static int id_secret_mac(const uint8_t key[32], const char *id, const char *secret, uint8_t out[32])
{
    size_t ni = strlen(id) + 1, ns = strlen(secret);
    char *buf = malloc(ni + ns);
    if (!buf)
        return -1;
    memcpy(buf, id, ni);
    memcpy(buf + ni, secret, ns);
    size_t len = 0;
    int ok = key ? EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, (unsigned char *)buf,
                             ni + ns, out, 32, &len) != NULL &&
                       len == 32
                 : (jotx_sha256(buf, ni + ns, out), 1);
    jot_memzero(buf, ni + ns);
    free(buf);
    return ok ? 0 : -1;
}

int jotd_client_secret_hash(const uint8_t key[32], const char *client_id, const char *secret,
                            char out[JOTD_CLIENT_HASH_MAX])
{
    uint8_t mac[32];
    if (id_secret_mac(key, client_id, secret, mac) != 0)
        return -1;
    memcpy(out, HMAC_PREFIX, sizeof HMAC_PREFIX - 1);
    jot_b64url_encode(out + sizeof HMAC_PREFIX - 1, mac, sizeof mac);
    jot_memzero(mac, sizeof mac);
    return 0;
}

/* 1 match, 0 no match, -1 a hash this build cannot check. */
static int secret_matches(const jotd_app_t *app, const char *stored, const char *id,
                          const char *secret)
{
    if (strncmp(stored, HMAC_PREFIX, sizeof HMAC_PREFIX - 1) == 0) {
        char want[JOTD_CLIENT_HASH_MAX];
        if (jotd_client_secret_hash(app->client_key, id, secret, want) != 0)
            return -1;
        size_t n = strlen(want);
        int eq = strlen(stored) == n && CRYPTO_memcmp(stored, want, n) == 0;
        jot_memzero(want, sizeof want);
        return eq;
    }
    return jotd_password_verify(stored, secret, strlen(secret)); /* legacy Argon2id */
}

static bool cache_hit(jotd_client_cache_t *c, const uint8_t d[32], int64_t now, jotd_client_t *out)
{
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    unsigned i = d[0];
    if (c->slot[i].expires > now && CRYPTO_memcmp(c->slot[i].digest, d, 32) == 0)
        hit = jotd_client_copy(out, &c->slot[i].client) == 0;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static void cache_put(jotd_client_cache_t *c, const uint8_t d[32], int64_t now,
                      const jotd_client_t *client)
{
    jotd_client_t copy;
    if (jotd_client_copy(&copy, client) != 0)
        return;
    pthread_mutex_lock(&c->lock);
    unsigned i = d[0];
    jotd_client_clear(&c->slot[i].client);
    c->slot[i].client = copy;
    memcpy(c->slot[i].digest, d, 32);
    c->slot[i].expires = now + CACHE_SECONDS;
    pthread_mutex_unlock(&c->lock);
}

/* The credentials of a request: NONE, INVALID (malformed, or two methods at once), or
 * PUBLIC with *id (and *secret when one was sent), both malloc'd. */
static jotd_client_auth_t credentials(const jotd_req_t *req, const jotd_params_t *params, char **id,
                                      char **secret)
{
    const char *body_id = params ? jotd_params_get(params, "client_id") : NULL;
    const char *body_secret = params ? jotd_params_get(params, "client_secret") : NULL;
    *id = *secret = NULL;
    /* "Basic" alone or with anything after it is an attempt at client authentication:
     * malformed credentials are invalid_client, never an anonymous request */
    bool basic = req->authorization && strncasecmp(req->authorization, "Basic", 5) == 0 &&
                 (req->authorization[5] == '\0' || req->authorization[5] == ' ');
    if (basic) {
        if (body_secret || jotd_basic_auth_parse(req->authorization, id, secret) != 0)
            return JOTD_CLIENT_INVALID; /* two methods at once, or malformed */
        if ((body_id && strcmp(body_id, *id) != 0) || !**id) {
            free(*id);
            jotx_free_secret(*secret);
            *id = *secret = NULL;
            return JOTD_CLIENT_INVALID;
        }
        return JOTD_CLIENT_PUBLIC;
    }
    if (!body_id)
        return body_secret ? JOTD_CLIENT_INVALID : JOTD_CLIENT_NONE;
    *id = strdup(body_id);
    *secret = body_secret ? strdup(body_secret) : NULL;
    if (!*id || (body_secret && !*secret)) {
        free(*id);
        jotx_free_secret(*secret);
        *id = *secret = NULL;
        return JOTD_CLIENT_INVALID;
    }
    return JOTD_CLIENT_PUBLIC;
}

/* The throttle's "account" of a client: the client id and the address together. */
static char *throttle_key(const char *id, const char *ip)
{
    size_t n = strlen(id) + strlen(ip) + 2;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\x1f%s", id, ip);
    return k;
}

/* Check \p secret (NULL: none sent) against the stored client \p cl. */
static jotd_client_auth_t check_client(jotd_app_t *app, jotd_client_t *cl, const char *secret)
{
    if (cl->disabled) /* no secret checked: the same answer as a wrong one */
        return JOTD_CLIENT_INVALID;
    if (!cl->secret_hash && jotd_client_is_confidential(cl))
        return JOTD_CLIENT_INVALID; /* a private_key_jwt client: its assertion or nothing */
    if (!cl->secret_hash)           /* a public client has no secret; presenting one is an error */
        return secret ? JOTD_CLIENT_INVALID : JOTD_CLIENT_PUBLIC;
    if (!secret)
        return JOTD_CLIENT_INVALID;
    int m = secret_matches(app, cl->secret_hash, cl->client_id, secret);
    if (m != 1)
        return JOTD_CLIENT_INVALID;
    if (strncmp(cl->secret_hash, HMAC_PREFIX, sizeof HMAC_PREFIX - 1) != 0 &&
        strlen(secret) >= JOTD_CLIENT_SECRET_MIN) {
        /* an Argon2 hash of an earlier release: store the keyed form from now on */
        char h[JOTD_CLIENT_HASH_MAX];
        if (jotd_client_secret_hash(app->client_key, cl->client_id, secret, h) == 0 &&
            jotd_store_client_rehash(app->store, cl->client_id, cl->secret_hash, h) == JOTD_OK) {
            jotx_free_secret(cl->secret_hash);
            cl->secret_hash = strdup(h);
        }
        jot_memzero(h, sizeof h);
    }
    return JOTD_CLIENT_CONFIDENTIAL;
}

int jotd_client_jwks_check(const char *json, size_t len, char *err, size_t errlen)
{
    jot_keyset_t *ks = NULL;
    jot_err_t rc = jot_keyset_from_jwks(json, len, &ks);
    int ret = -1;
    if (rc != JOT_OK) {
        snprintf(err, errlen, "not a JWK set: %s", jot_strerror(rc));
    } else if (jot_keyset_count(ks) == 0) {
        snprintf(err, errlen, "%s", "the JWK set holds no usable key");
    } else {
        ret = 0;
        for (size_t i = 0; i < jot_keyset_count(ks) && ret == 0; i++) {
            const jot_key_t *k = jot_keyset_get(ks, i);
            if (jot_key_is_private(k) || jot_key_kty(k) == JOT_KTY_OCT) {
                snprintf(err, errlen, "%s",
                         "public keys only (no private or symmetric key in a client's JWK set)");
                ret = -1;
            }
        }
    }
    jot_keyset_free(ks);
    return ret;
}

/* The remote key set of a client registered with --jwks-url, one per client and URL, kept
 * for the life of the process (a changed URL gets a new one). */
struct jotd_remote_sets {
    pthread_mutex_t lock;
    int allow_http;
    size_t n;
    struct {
        char *client_id, *url;
        jot_remote_keyset_t *rk;
    } v[JOTD_REMOTE_SETS_MAX];
};

jotd_remote_sets_t *jotd_remote_sets_new(int allow_http)
{
    jotd_remote_sets_t *r = calloc(1, sizeof *r);
    if (r)
        pthread_mutex_init(&r->lock, NULL);
    if (r)
        r->allow_http = allow_http;
    return r;
}

void jotd_remote_sets_free(jotd_remote_sets_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].client_id);
        free(r->v[i].url);
        jot_remote_keyset_free(r->v[i].rk);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Borrowed: lives as long as the table. NULL: refused URL, full, or out of memory. */
static jot_remote_keyset_t *remote_set(jotd_remote_sets_t *r, const char *client_id,
                                       const char *url)
{
    if (!r)
        return NULL;
    jot_remote_keyset_t *rk = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n && !rk; i++)
        if (strcmp(r->v[i].client_id, client_id) == 0 && strcmp(r->v[i].url, url) == 0)
            rk = r->v[i].rk;
    if (!rk && r->n < JOTD_REMOTE_SETS_MAX) {
        jot_remote_opts_t o;
        jot_remote_opts_init(&o);
        o.allow_http = r->allow_http;
        o.min_cache_s = 60;
        o.cooldown_s = 10;
        char *cid = strdup(client_id), *u = strdup(url);
        if (cid && u && jot_remote_keyset_new(url, &o, &rk) == JOT_OK) {
            r->v[r->n].client_id = cid;
            r->v[r->n].url = u;
            r->v[r->n].rk = rk;
            r->n++;
        } else {
            free(cid);
            free(u);
            rk = NULL;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rk;
}

/* The client named by an assertion: iss = sub = the client id (RFC 7523 §3), read without
 * trusting anything else; malloc'd, NULL when malformed. */
static char *assertion_client(const char *assertion)
{
    jot_token_t *t = NULL;
    if (jot_decode_unverified(assertion, strlen(assertion), &t) != JOT_OK)
        return NULL;
    const jot_claims_t *c = jot_token_claims(t);
    const char *iss = NULL, *sub = NULL;
    char *id = NULL;
    if (c && jot_claims_get_string(c, "iss", &iss) == JOT_OK &&
        jot_claims_get_string(c, "sub", &sub) == JOT_OK && strcmp(iss, sub) == 0 &&
        jotd_username_valid(iss))
        id = strdup(iss);
    jot_token_free(t);
    return id;
}

/* Verify \p assertion with \p cl's keys: asymmetric algorithms only, iss = sub = the client,
 * aud = the token endpoint or the issuer, exp required and at most
 * JOTD_ASSERTION_MAX_LIFETIME ahead, jti required and never seen before (the store's replay
 * table, shared by every instance). */
static jotd_client_auth_t assertion_check(jotd_app_t *app, const jotd_runtime_t *rt,
                                          const jotd_client_t *cl, const char *assertion)
{
    if (cl->disabled || (!cl->jwks && !cl->jwks_url))
        return JOTD_CLIENT_INVALID;
    jot_keyset_t *ks = NULL;
    jot_remote_keyset_t *rk = NULL;
    if (cl->jwks) {
        if (jot_keyset_from_jwks(cl->jwks, strlen(cl->jwks), &ks) != JOT_OK)
            return JOTD_CLIENT_INVALID;
    } else if (!(rk = remote_set(app->remote_sets, cl->client_id, cl->jwks_url))) {
        return JOTD_CLIENT_INVALID;
    }
    size_t n = strlen(rt->cfg.issuer) + sizeof "/token";
    char *endpoint = malloc(n);
    jot_verifier_t *v = NULL;
    jotd_client_auth_t result = JOTD_CLIENT_INVALID;
    jot_token_t *t = NULL;
    if (endpoint) {
        /* the issuer with its trailing slash or not, then /token */
        size_t il = strlen(rt->cfg.issuer);
        snprintf(endpoint, n, "%.*s/token",
                 (int)(il && rt->cfg.issuer[il - 1] == '/' ? il - 1 : il), rt->cfg.issuer);
    }
    if (endpoint && jot_verifier_new(&v) == JOT_OK &&
        jot_verifier_set_issuer(v, cl->client_id) == JOT_OK &&
        jot_verifier_set_subject(v, cl->client_id) == JOT_OK &&
        jot_verifier_add_audience(v, endpoint) == JOT_OK &&
        jot_verifier_add_audience(v, rt->cfg.issuer) == JOT_OK &&
        jot_verifier_require_claim(v, "jti") == JOT_OK) {
        if (ks)
            jot_verifier_set_keyset(v, ks);
        else
            jot_verifier_set_remote_keyset(v, rk);
        jot_verifier_set_algs(v, JOTD_ASSERTION_ALGS);
        jot_verifier_set_leeway(v, JOTD_ASSERTION_LEEWAY);
        if (jot_verify(v, assertion, strlen(assertion), &t) == JOT_OK) {
            const jot_claims_t *c = jot_token_claims(t);
            const char *jti = NULL;
            int64_t exp = 0, now = jotd_now();
            if (jot_claims_get_string(c, "jti", &jti) == JOT_OK && *jti && strlen(jti) <= 255 &&
                jot_claims_get_int(c, "exp", &exp) == JOT_OK &&
                exp <= now + JOTD_ASSERTION_MAX_LIFETIME) {
                /* remembered as long as the verifier would still accept it (exp + leeway):
                 * gc dropping it at exp would let a replay in during the leeway */
                jotd_rc_t rc = jotd_store_assertion_use(app->store, cl->client_id, jti,
                                                        exp + JOTD_ASSERTION_LEEWAY);
                result = rc == JOTD_OK         ? JOTD_CLIENT_CONFIDENTIAL
                         : rc == JOTD_E_EXISTS ? JOTD_CLIENT_INVALID
                                               : JOTD_CLIENT_UNAVAILABLE;
                if (rc == JOTD_E_EXISTS)
                    jotd_audit("client_assertion_replayed", "client_id", cl->client_id, NULL);
            }
        }
    }
    jot_token_free(t);
    jot_verifier_free(v);
    jot_keyset_free(ks);
    free(endpoint);
    return result;
}

/* private_key_jwt: no other credential with it (RFC 6749 §2.3); on a worker only (a store
 * write per assertion: no cache). */
static jotd_client_auth_t assertion_auth(jotd_app_t *app, const jotd_runtime_t *rt,
                                         const jotd_req_t *req, const jotd_params_t *params,
                                         jotd_client_t *out, int64_t *retry_after)
{
    const char *type = jotd_params_get(params, "client_assertion_type");
    const char *assertion = jotd_params_get(params, "client_assertion");
    const char *body_id = jotd_params_get(params, "client_id");
    bool basic = req->authorization && strncasecmp(req->authorization, "Basic", 5) == 0;
    if (!type || strcmp(type, JOTD_ASSERTION_TYPE) != 0 || !assertion || basic ||
        jotd_params_get(params, "client_secret"))
        return JOTD_CLIENT_INVALID;
    if (req->on_event_loop)
        return JOTD_CLIENT_INVALID; /* the caller runs it again on a worker */
    char *id = assertion_client(assertion);
    if (!id || (body_id && strcmp(body_id, id) != 0)) {
        jotd_audit("client_auth_failure", "method", "private_key_jwt", "ip", req->ip, NULL);
        free(id);
        return JOTD_CLIENT_INVALID;
    }
    int64_t now = jotd_now();
    char *tkey = throttle_key(id, req->ip);
    int64_t wait = tkey ? jotd_throttle_check(app->client_throttle, tkey, req->ip, now) : 1;
    jotd_client_auth_t result = JOTD_CLIENT_INVALID;
    jotd_client_t cl = {0};
    if (wait > 0) {
        result = JOTD_CLIENT_THROTTLED;
        if (retry_after)
            *retry_after = wait;
    } else {
        jotd_rc_t rc = jotd_store_client_get(app->store, id, &cl);
        result = rc == JOTD_OK           ? assertion_check(app, rt, &cl, assertion)
                 : rc == JOTD_E_NOTFOUND ? JOTD_CLIENT_INVALID
                                         : JOTD_CLIENT_UNAVAILABLE;
        if (result == JOTD_CLIENT_INVALID) {
            jotd_throttle_failure(app->client_throttle, tkey, req->ip, now);
            jotd_audit("client_auth_failure", "client_id", id, "method", "private_key_jwt", "ip",
                       req->ip, NULL);
        } else if (result == JOTD_CLIENT_CONFIDENTIAL) {
            jotd_throttle_success(app->client_throttle, tkey, now);
        }
    }
    free(tkey);
    free(id);
    if (result == JOTD_CLIENT_CONFIDENTIAL)
        *out = cl;
    else
        jotd_client_clear(&cl);
    return result;
}

jotd_client_auth_t jotd_client_authenticate(jotd_app_t *app, const jotd_runtime_t *rt,
                                            const jotd_req_t *req, const jotd_params_t *params,
                                            jotd_client_t *out, int64_t *retry_after)
{
    char *id = NULL, *secret = NULL;
    memset(out, 0, sizeof *out);
    if (params && (jotd_params_get(params, "client_assertion_type") ||
                   jotd_params_get(params, "client_assertion")))
        return assertion_auth(app, rt, req, params, out, retry_after);
    jotd_client_auth_t result = credentials(req, params, &id, &secret);
    if (result != JOTD_CLIENT_PUBLIC)
        return result;

    int64_t now = jotd_now();
    char *tkey = throttle_key(id, req->ip);
    int64_t wait = tkey ? jotd_throttle_check_local(app->client_throttle, tkey, req->ip, now) : 1;
    uint8_t d[32];
    bool have_digest = secret && id_secret_mac(NULL, id, secret, d) == 0;
    if (!secret) {
        jotx_sha256(id, strlen(id), d); /* a public client: see Cache above */
        have_digest = true;
    }
    jotd_client_t cl = {0};
    bool failure = false, cached = false;
    if (wait == 0 && have_digest && cache_hit(app->clients, d, now, &cl)) {
        result = cl.secret_hash ? JOTD_CLIENT_CONFIDENTIAL : JOTD_CLIENT_PUBLIC;
        if (!cl.secret_hash && jotd_client_is_confidential(&cl))
            result = JOTD_CLIENT_INVALID; /* never cached: see check_client */
        cached = true;
    } else if (wait == 0 && req->on_event_loop) {
        result = JOTD_CLIENT_INVALID; /* not known yet: the caller runs it again on a worker */
    } else if (wait == 0) {
        /* a worker: now the counters of every instance (a store read) */
        wait = jotd_throttle_check(app->client_throttle, tkey, req->ip, now);
    }
    if (wait > 0) {
        result = JOTD_CLIENT_THROTTLED;
        if (retry_after)
            *retry_after = wait;
    } else if (!cached && !req->on_event_loop) {
        jotd_rc_t rc = jotd_store_client_get(app->store, id, &cl);
        if (rc == JOTD_OK) {
            result = check_client(app, &cl, secret);
        } else if (rc == JOTD_E_NOTFOUND) {
            result = JOTD_CLIENT_INVALID;
        } else {
            result = JOTD_CLIENT_UNAVAILABLE;
        }
        failure = result == JOTD_CLIENT_INVALID;
        if ((result == JOTD_CLIENT_CONFIDENTIAL || result == JOTD_CLIENT_PUBLIC) && have_digest)
            cache_put(app->clients, d, now, &cl);
    }
    if (failure) {
        jotd_throttle_failure(app->client_throttle, tkey, req->ip, now);
        jotd_audit("client_auth_failure", "client_id", id, "ip", req->ip, NULL);
    } else if (result == JOTD_CLIENT_CONFIDENTIAL && tkey && cached) {
        jotd_throttle_success_local(app->client_throttle, tkey, now);
    } else if (result == JOTD_CLIENT_CONFIDENTIAL && tkey) {
        jotd_throttle_success(app->client_throttle, tkey, now);
    }
    jot_memzero(d, sizeof d);
    free(tkey);
    free(id);
    jotx_free_secret(secret);
    if (result == JOTD_CLIENT_PUBLIC || result == JOTD_CLIENT_CONFIDENTIAL)
        *out = cl;
    else
        jotd_client_clear(&cl);
    return result;
}

jotd_rc_t jotd_client_default(jotd_app_t *app, const jotd_runtime_t *rt, jotd_client_t *out)
{
    const char *id = rt->cfg.default_client;
    uint8_t d[32];
    int64_t now = jotd_now();
    jotx_sha256(id, strlen(id), d); /* the key of a public client (see Cache above) */
    if (cache_hit(app->clients, d, now, out))
        return JOTD_OK; /* only public records are cached under this key */
    jotd_rc_t rc = jotd_store_client_get(app->store, id, out);
    if (rc == JOTD_OK && jotd_client_is_confidential(out)) { /* refused at start: never acts */
        jotd_client_clear(out);
        return JOTD_E_NOTFOUND;
    }
    if (rc == JOTD_OK)
        cache_put(app->clients, d, now, out);
    return rc;
}

void jotd_resp_client_error(jotd_resp_t *resp, const jotd_req_t *req, jotd_client_auth_t auth,
                            int64_t retry_after)
{
    if (auth == JOTD_CLIENT_THROTTLED) {
        char retry[24];
        snprintf(retry, sizeof retry, "%lld", (long long)(retry_after > 0 ? retry_after : 1));
        jotd_resp_error(resp, 429, "temporarily_unavailable",
                        "too many failed client authentications, retry later");
        jotd_resp_header(resp, "Retry-After", retry);
    } else if (auth == JOTD_CLIENT_UNAVAILABLE) {
        jotd_resp_unavailable(resp, JOTD_E_BUSY);
    } else {
        jotd_resp_invalid_client(resp, req);
    }
}
