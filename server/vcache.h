/* Verified-token cache of /verify and /introspect: what answering for an access token needs,
 * remembered after its signature and claims were checked once, so that a token presented
 * again (a user's session calls many services) costs a hash and a lookup instead of an
 * ECDSA verification.
 *
 * - Key: SHA-256 of the whole token (see vcache.c for why unkeyed), compared in full with
 *   jot_ct_equal(). Only tokens that passed jotd_access_verify() are put; failures are never
 *   cached.
 * - An entry lives until the token's exp and never beyond: get() misses from exp on.
 * - The cache belongs to a runtime (jotd_runtime_t.vcache): a reload of the configuration or
 *   the keys (SIGHUP, `jotd keys rotate`, a retired key's window ending) builds a new runtime
 *   with an empty cache, so no entry outlives the key that verified it.
 * - Callers still check the denylist on every hit (jotd_access_check() in
 *   routes_resource.c).
 * - Bounded: a fixed number of sets of JOTD_VCACHE_WAYS entries, allocated at creation; a
 *   full set evicts its entry that expires first. Thread-safe: one mutex per set. */
#ifndef JOTD_VCACHE_H
#define JOTD_VCACHE_H

#include <jot/jot.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOTD_VCACHE_WAYS 8
#define JOTD_VCACHE_KEY_LEN 32

/* The X-Auth-* headers of /verify, in this order (jotd_verified_t.hdr). */
#define JOTD_VERIFY_HEADERS 6
extern const char *const jotd_verify_header_names[JOTD_VERIFY_HEADERS];

/* The private claim of our access tokens that carries the user's generation (store.h). */
#define JOTD_GEN_CLAIM "gen"

/** What a verified access token answers with. Every string points into \p blob (one
 *  allocation, owned): free with jotd_verified_clear(). */
typedef struct jotd_verified {
    int64_t exp;
    int64_t gen; /* the JOTD_GEN_CLAIM claim, 0 when absent */
    const char *jti;
    const char *sid;           /* "" when the token has none */
    const char *aud;           /* the audiences, '\n'-separated */
    const char *introspection; /* the RFC 7662 answer: claims + active, token_type, username;
                                  "" when not built (a /verify miss does not need it) */
    const char *hdr[JOTD_VERIFY_HEADERS]; /* X-Auth-* values; hdr[0] is the subject */
    char *blob;
    size_t blob_len;
} jotd_verified_t;

/** Build \p out from a verified token's claims, with the introspection answer only when
 *  \p introspection. 0, or -1 (out of memory, or no jti/exp). */
int jotd_verified_from_token(const jot_token_t *t, bool introspection, jotd_verified_t *out);
void jotd_verified_clear(jotd_verified_t *v);

typedef struct jotd_vcache jotd_vcache_t;

/** A cache of at most \p capacity entries (rounded down to whole sets; a capacity below one
 *  set makes one smaller set). 0 → NULL: caching disabled; every function below accepts
 *  NULL as "disabled". NULL also when out of memory. */
jotd_vcache_t *jotd_vcache_new(size_t capacity);
void jotd_vcache_free(jotd_vcache_t *c);
/** The key of a token: SHA-256 of its bytes. */
void jotd_vcache_key(const char *token, size_t len, uint8_t out[JOTD_VCACHE_KEY_LEN]);
/** true and a copy in \p out (jotd_verified_clear) when \p key is cached and now < exp. */
bool jotd_vcache_get(jotd_vcache_t *c, const uint8_t key[JOTD_VCACHE_KEY_LEN], int64_t now,
                     jotd_verified_t *out);
/** Remember \p v under \p key (copied). Nothing when v->exp <= now or out of memory. */
void jotd_vcache_put(jotd_vcache_t *c, const uint8_t key[JOTD_VCACHE_KEY_LEN],
                     const jotd_verified_t *v, int64_t now);
/** Forget everything. */
void jotd_vcache_flush(jotd_vcache_t *c);
/** Live entries of \p c at \p now (each set locked in turn: for /metrics, not a hot path);
 *  *out_capacity (may be NULL): the entries it can hold. NULL \p c: 0. */
size_t jotd_vcache_count(jotd_vcache_t *c, int64_t now, size_t *out_capacity);

#endif
