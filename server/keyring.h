/* The signing keys of jotd, kept in DATA/keys/: one private JWK file per key (<kid>.jwk,
 * mode 0600) and keys/keyring.json recording each key's creation and retirement time.
 * The newest unretired key signs. A retired key stays in the JWKS until every token it
 * signed has expired (retired_at + access_ttl + leeway), then drops out. */
#ifndef JOTD_KEYRING_H
#define JOTD_KEYRING_H

#include "rc.h"

#include <jot/jot.h>
#include <stdint.h>
#include <stdio.h>

typedef struct jotd_keyring jotd_keyring_t;

/* The functions that take err/errlen follow rc.h: they return jotd_rc_t and on error write
 * a message to \p err when it is non-NULL. JOTD_E_IO covers everything about the key
 * directory and its files (unreadable, unwritable, corrupt, a key that does not load). */

/** Load DIR/keys (creating DIR/keys with mode 0700). With no key yet, generate one for
 *  \p alg. \p access_ttl: lifetime of the access tokens, which decides when retired keys
 *  leave the JWKS. Errors: JOTD_E_INVAL (no directory or output, an algorithm that cannot
 *  sign access tokens), JOTD_E_IO, JOTD_E_CRYPTO (the JWKS cannot be built), JOTD_E_NOMEM. */
jotd_rc_t jotd_keyring_load(const char *data_dir, jot_alg_t alg, int64_t access_ttl, int64_t now,
                            jotd_keyring_t **out, char *err, size_t errlen);
void jotd_keyring_free(jotd_keyring_t *kr);

/** The key that signs now (borrowed, valid while \p kr lives). */
const jot_key_t *jotd_keyring_signing_key(const jotd_keyring_t *kr);
/** Public keys of every key whose tokens may still be live (borrowed). */
const jot_keyset_t *jotd_keyring_verify_keys(const jotd_keyring_t *kr);
/** The JWKS document of those keys, built once at load (borrowed, NUL-terminated). */
const char *jotd_keyring_jwks(const jotd_keyring_t *kr, size_t *out_len);
/** When the first retired key of this keyring leaves the JWKS (seconds since the epoch),
 *  or 0 when none will: the server reloads the keyring at that time. */
int64_t jotd_keyring_next_expiry(const jotd_keyring_t *kr);
/** Allowlist mask of the algorithms of the verify keys. */
unsigned jotd_keyring_algs(const jotd_keyring_t *kr);

/** Operator command: generate a new key for \p alg, make it the signing key and retire the
 *  previous ones (now). The new kid goes to \p out_kid. Errors as jotd_keyring_load(), and
 *  JOTD_E_INVAL when \p out_kid is too small. */
jotd_rc_t jotd_keyring_rotate(const char *data_dir, jot_alg_t alg, int64_t now, char *out_kid,
                              size_t kid_len, char *err, size_t errlen);
/** Operator command: print one line per key (kid, alg, created, retired, state) to \p out
 *  (NULL: stdout). JOTD_E_NOTFOUND when there is no keyring yet. */
jotd_rc_t jotd_keyring_list(const char *data_dir, int64_t access_ttl, int64_t now, FILE *out,
                            char *err, size_t errlen);

#endif
