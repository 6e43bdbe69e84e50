/* The signing keys of jotd, kept in the store (store.h, signing_keys) so that every instance on
 * one store signs and publishes the same keys; the private parts sealed with the
 * key-encryption key (seal.h).
 *
 * A key's life, from the times of its row (activate_at, revoked_at) and the next key's:
 * - published: activate_at is in the future. It is in the JWKS already, so that verifiers
 *   that cache the JWKS (for --jwks-max-age) know it before its first token; a rotation
 *   publishes the new key --key-lead-time (>= the JWKS max-age) ahead.
 * - active: the latest key whose activate_at has come signs. Every instance switches at the
 *   same second: the choice is made per token from the clock, not when an instance hears of
 *   the key.
 * - retired: a later key activated. It stays in the JWKS and verifies until the last token it
 *   may have signed expired (that activation + access_ttl + 60 s), then is gone.
 * - revoked: out of every JWKS at once and its tokens refused (`jotd keys revoke`); revoking
 *   the active key makes a new key active at once (the emergency path).
 * Ties of activate_at are broken by created_at, then kid: every instance picks the same key. */
#ifndef JOTD_KEYRING_H
#define JOTD_KEYRING_H

#include "rc.h"
#include "seal.h"
#include "store.h"

#include <jot/jot.h>
#include <stdint.h>
#include <stdio.h>

typedef struct jotd_keyring jotd_keyring_t;

/* The functions that take err/errlen follow rc.h: they return jotd_rc_t and on error write
 * a message to \p err when it is non-NULL. */

/** Make sure the store has a signing key: when it has no unrevoked key, import the keys of
 *  an earlier release's DATA/keys directory (\p data_dir; keys whose tokens have all expired
 *  are left out), or else generate one for \p alg, active now. Two instances starting at
 *  once make one key. *out_imported (may be NULL): keys imported. Errors: JOTD_E_INVAL (an
 *  algorithm that cannot sign access tokens: HMAC keys would have to be published), the
 *  store's, JOTD_E_IO (the legacy directory), JOTD_E_CRYPTO. */
jotd_rc_t jotd_keyring_ensure(jotd_store_t *st, const jotd_kek_t *kek, const char *data_dir,
                              jot_alg_t alg, int64_t access_ttl, int64_t now, size_t *out_imported,
                              char *err, size_t errlen);

/** The keys of the store as they are at \p now, with their private parts opened: what a
 *  serving jotd signs and verifies with until the next load. \p access_ttl: the lifetime of
 *  access tokens, which decides when retired keys leave the JWKS. Errors: the store's,
 *  JOTD_E_CRYPTO (a sealed key that does not open with \p kek: its message names both KEK
 *  ids), JOTD_E_NOTFOUND (no usable key: run jotd_keyring_ensure first), JOTD_E_NOMEM. */
jotd_rc_t jotd_keyring_load(jotd_store_t *st, const jotd_kek_t *kek, int64_t access_ttl,
                            int64_t now, jotd_keyring_t **out, char *err, size_t errlen);
void jotd_keyring_free(jotd_keyring_t *kr);

/** The key that signs at \p now (borrowed, valid while \p kr lives). */
const jot_key_t *jotd_keyring_signing_key(const jotd_keyring_t *kr, int64_t now);
/** Public keys of every published, active and retired key (borrowed). */
const jot_keyset_t *jotd_keyring_verify_keys(const jotd_keyring_t *kr);
/** The JWKS document of those keys, built at load (borrowed, NUL-terminated). */
const char *jotd_keyring_jwks(const jotd_keyring_t *kr, size_t *out_len);
/** When the JWKS of this keyring changes by itself (a retired key's tokens have all
 *  expired): seconds since the epoch, or 0 for never. The server loads the keys again then. */
int64_t jotd_keyring_next_change(const jotd_keyring_t *kr);
/** Allowlist mask of the algorithms of the verify keys. */
unsigned jotd_keyring_algs(const jotd_keyring_t *kr);

/** Operator command: publish a new key for \p alg (JOT_ALG_UNSET: the active key's) that
 *  signs from now + \p lead_time; its kid into \p out_kid (room for JOT_THUMBPRINT_LEN + 1)
 *  and that time into *out_activate_at. */
jotd_rc_t jotd_keyring_rotate(jotd_store_t *st, const jotd_kek_t *kek, const char *data_dir,
                              jot_alg_t alg, int64_t lead_time, int64_t access_ttl, int64_t now,
                              char out_kid[JOT_THUMBPRINT_LEN + 1], int64_t *out_activate_at,
                              char *err, size_t errlen);
/** Operator command: revoke \p kid. When it is the key signing at \p now, a new key for its
 *  algorithm signs from now: its kid into \p out_new_kid, else out_new_kid[0] = '\0'.
 *  JOTD_E_NOTFOUND: no such key. */
jotd_rc_t jotd_keyring_revoke(jotd_store_t *st, const jotd_kek_t *kek, const char *kid, int64_t now,
                              char out_new_kid[JOT_THUMBPRINT_LEN + 1], char *err, size_t errlen);
/** Operator command: one line per key (kid, alg, state, created, activates, retired or
 *  revoked) to \p out (NULL: stdout). */
jotd_rc_t jotd_keyring_list(jotd_store_t *st, int64_t access_ttl, int64_t now, FILE *out, char *err,
                            size_t errlen);

/* ---- an earlier release's DATA/keys directory (keyring_legacy.c) ---- */
typedef struct jotd_legacy_key {
    jot_key_t *key; /* private, kid = its thumbprint, alg set */
    int64_t created;
    int64_t retired; /* 0: the key was not retired */
} jotd_legacy_key_t;

/** Read DATA/keys/keyring.json and the key files it lists (each checked against its kid),
 *  oldest first. JOTD_E_NOTFOUND when there is no keyring.json; JOTD_E_IO otherwise. *out:
 *  malloc'd array of *out_n (jotd_legacy_keys_free). */
jotd_rc_t jotd_legacy_keys_read(const char *data_dir, jotd_legacy_key_t **out, size_t *out_n,
                                char *err, size_t errlen);
void jotd_legacy_keys_free(jotd_legacy_key_t *v, size_t n);

#endif
