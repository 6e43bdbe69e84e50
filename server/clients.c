/* Client authentication for /token, /revoke, /introspect (RFC 6749 §2.3.1): HTTP Basic or
 * client_id/client_secret in the body, never both. Secrets are stored as Argon2id hashes;
 * a successful check is remembered for a few minutes, keyed by a SHA-256 of the presented
 * credentials, so that introspection pays neither Argon2 nor a store read on every request. */
#include "server.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_SLOTS 256
#define CACHE_SECONDS 300

struct jotd_client_cache {
    pthread_mutex_t lock;
    struct {
        uint8_t digest[32];
        int64_t expires;
    } slot[CACHE_SLOTS];
};

jotd_client_cache_t *jotd_client_cache_new(void)
{
    jotd_client_cache_t *c = calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void jotd_client_cache_free(jotd_client_cache_t *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    jot_memzero(c, sizeof *c);
    free(c);
}

static void credential_digest(const char *id, const char *secret, uint8_t out[32])
{
    /* the NUL after the id keeps ("ab","c") and ("a","bc") apart */
    size_t ni = strlen(id) + 1, ns = strlen(secret);
    char *buf = malloc(ni + ns);
    if (!buf)
        abort();
    memcpy(buf, id, ni);
    memcpy(buf + ni, secret, ns);
    jotd_sha256(buf, ni + ns, out);
    jot_memzero(buf, ni + ns);
    free(buf);
}

static bool cache_hit(jotd_client_cache_t *c, const uint8_t d[32], int64_t now)
{
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    unsigned i = d[0];
    if (c->slot[i].expires > now && CRYPTO_memcmp(c->slot[i].digest, d, 32) == 0)
        hit = true;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static void cache_put(jotd_client_cache_t *c, const uint8_t d[32], int64_t now)
{
    pthread_mutex_lock(&c->lock);
    unsigned i = d[0];
    memcpy(c->slot[i].digest, d, 32);
    c->slot[i].expires = now + CACHE_SECONDS;
    pthread_mutex_unlock(&c->lock);
}

static void free_secret(char *s)
{
    if (s) {
        jot_memzero(s, strlen(s));
        free(s);
    }
}

jotd_client_auth_t jotd_client_authenticate(jotd_app_t *app, const jotd_req_t *req,
                                            const jotd_params_t *params, char **out_client_id)
{
    char *id = NULL, *secret = NULL;
    const char *body_id = params ? jotd_params_get(params, "client_id") : NULL;
    const char *body_secret = params ? jotd_params_get(params, "client_secret") : NULL;
    /* "Basic" alone or with anything after it is an attempt at client authentication:
     * malformed credentials are invalid_client, never an anonymous request */
    bool basic = req->authorization && strncasecmp(req->authorization, "Basic", 5) == 0 &&
                 (req->authorization[5] == '\0' || req->authorization[5] == ' ');
    if (basic) {
        if (body_secret || jotd_basic_auth_parse(req->authorization, &id, &secret) != 0)
            return JOTD_CLIENT_INVALID; /* two methods at once, or malformed */
        if (body_id && strcmp(body_id, id) != 0) {
            free(id);
            free_secret(secret);
            return JOTD_CLIENT_INVALID;
        }
    } else if (body_id) {
        id = strdup(body_id);
        secret = body_secret ? strdup(body_secret) : NULL;
        if (!id || (body_secret && !secret)) {
            free(id);
            free_secret(secret);
            return JOTD_CLIENT_INVALID;
        }
    } else {
        return body_secret ? JOTD_CLIENT_INVALID : JOTD_CLIENT_NONE;
    }

    char *hash = NULL;
    jotd_client_auth_t result = JOTD_CLIENT_INVALID;
    uint8_t d[32];
    int64_t now = jotd_now();
    if (secret)
        credential_digest(id, secret, d);
    /* A cached success needs no store read: clients are never changed or removed once added
     * (store.h has no such operation), and only a confidential client's correct secret was
     * ever put (the digest covers id and secret; a wrong secret is another digest). */
    if (secret && cache_hit(app->clients, d, now)) {
        result = JOTD_CLIENT_CONFIDENTIAL;
    } else if (req->on_event_loop) {
        result = JOTD_CLIENT_INVALID; /* not known yet: Argon2 must not stall an event loop */
    } else {
        jotd_rc_t rc = jotd_store_client_get(app->store, id, &hash);
        if (rc == JOTD_OK) {
            if (!hash) {
                /* a public client has no secret; presenting one is an error */
                result = secret ? JOTD_CLIENT_INVALID : JOTD_CLIENT_PUBLIC;
            } else if (secret && jotd_password_verify(hash, secret, strlen(secret)) == 1) {
                cache_put(app->clients, d, now);
                result = JOTD_CLIENT_CONFIDENTIAL;
            }
        } else if (secret) {
            /* unknown client: spend the work of a real check all the same */
            jotd_password_dummy_verify(&app->dummy, secret, strlen(secret));
        }
    }
    jot_memzero(d, sizeof d);
    free(hash);
    free_secret(secret);
    if (result == JOTD_CLIENT_PUBLIC || result == JOTD_CLIENT_CONFIDENTIAL)
        *out_client_id = id;
    else
        free(id);
    return result;
}
