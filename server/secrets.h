/* The server's own secrets, the same on every instance of one store: each is 32 random bytes
 * made once by whichever instance needs it first, kept in the store sealed with the
 * key-encryption key (seal.h), never changed afterwards.
 * - refresh.key: derives a refresh token's successor (the grace window answers a duplicate
 *   refresh with the same successor, on whichever instance it lands);
 * - client.key: the HMAC key of stored client secrets;
 * - browser.key: the HMAC key of the login page's CSRF tokens (routes_login.c).
 * Releases before the shared store kept them in DATA/keys/<name>: when the store has no value
 * yet and that file exists, its value is stored, so that tokens and client secrets made
 * before keep working. */
#ifndef JOTD_SECRETS_H
#define JOTD_SECRETS_H

#include "rc.h"
#include "seal.h"
#include "store.h"

#define JOTD_SECRET_REFRESH "refresh.key"
#define JOTD_SECRET_CLIENT "client.key"
#define JOTD_SECRET_BROWSER "browser.key"

/* err/errlen as in rc.h: a message when non-NULL. */

/** This instance's KEK: the file \p path, or DATA/key-encryption-key when \p path is NULL.
 *  A file that does not exist is created (mode 0600) when the store holds nothing sealed
 *  yet, the first start of a new store; otherwise it is an error naming the KEK the store
 *  needs (JOTD_E_NOTFOUND). Errors of jotd_kek_load(), the store's. */
jotd_rc_t jotd_kek_open(jotd_store_t *st, const char *path, const char *data_dir, jotd_kek_t *out,
                        char *err, size_t errlen);

/** The secret \p name into \p out (see the top of this file). JOTD_E_CRYPTO when the stored
 *  value does not open with \p kek (the message names both KEKs); the store's errors;
 *  JOTD_E_IO or JOTD_E_INVAL for a legacy file that cannot be used. */
jotd_rc_t jotd_secret_load(jotd_store_t *st, const jotd_kek_t *kek, const char *data_dir,
                           const char *name, uint8_t out[32], char *err, size_t errlen);

#endif
