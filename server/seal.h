/* The key-encryption key (KEK) and what it seals: the private parts of the signing keys and
 * the server's own secrets that the store shares between instances (keyring.h, secrets.h).
 *
 * The KEK is a file holding 32 random bytes as 43 base64url characters (a final newline is
 * allowed), mode 0600: readable by group or others it is refused, as ssh refuses such a key.
 * Every instance on one store is given the same file; it is kept apart from the database's
 * backups, since the two together open every key.
 *
 * A sealed value is text: "v1.<kek id>.<nonce>.<ciphertext and tag>", AES-256-GCM under a key
 * derived from the KEK, a random 96-bit nonce per value, and the value's purpose (e.g.
 * "signing-key:<kid>") as associated data, so that a sealed value copied to another row does
 * not open there. The KEK id (16 hex digits, derived from the KEK, revealing nothing of it)
 * says which KEK sealed a value: a wrong file is reported as such, not as damage. */
#ifndef JOTD_SEAL_H
#define JOTD_SEAL_H

#include "rc.h"

#include <stddef.h>
#include <stdint.h>

#define JOTD_KEK_LEN 32
#define JOTD_KEK_ID_LEN 16 /* hex digits */
/* The file the KEK is read from when --key-encryption-key is not given: DATA/<this>. */
#define JOTD_KEK_DEFAULT_NAME "key-encryption-key"

typedef struct jotd_kek {
    uint8_t key[JOTD_KEK_LEN]; /* the sealing key derived from the file's bytes */
    char id[JOTD_KEK_ID_LEN + 1];
} jotd_kek_t;

/* The functions that take err/errlen follow rc.h: on error they write a message naming the
 * file to \p err when it is non-NULL. */

/** Read the KEK file at \p path (symlinks are not followed). JOTD_E_NOTFOUND: no such file;
 *  JOTD_E_INVAL: not a regular file, mode wider than 0600, or not 43 base64url characters;
 *  JOTD_E_IO: unreadable. */
jotd_rc_t jotd_kek_load(const char *path, jotd_kek_t *out, char *err, size_t errlen);
/** Read a 32-byte key file: 43 base64url characters (a final newline allowed), a regular
 *  file (not through a symbolic link) with no permission for group or others. The KEK file
 *  and the secret files of earlier releases (DATA/keys/refresh.key) have this form. Errors
 *  as jotd_kek_load(). */
jotd_rc_t jotd_key_file_read(const char *path, uint8_t out[JOTD_KEK_LEN], char *err, size_t errlen);
/** Create \p path (O_EXCL, mode 0600, written and synced with its directory) holding a new
 *  random KEK, and load it into \p out. JOTD_E_EXISTS when the file exists; JOTD_E_IO. */
jotd_rc_t jotd_kek_create(const char *path, jotd_kek_t *out, char *err, size_t errlen);
/** Zero \p k. */
void jotd_kek_wipe(jotd_kek_t *k);

/** Seal \p len bytes of \p plain for \p purpose into *out (malloc'd text, free()).
 *  JOTD_E_NOMEM, JOTD_E_CRYPTO. */
jotd_rc_t jotd_seal(const jotd_kek_t *k, const char *purpose, const uint8_t *plain, size_t len,
                    char **out);
/** Open \p sealed (made by jotd_seal for the same \p purpose). *out: malloc'd, *out_len bytes
 *  plus a NUL not counted; the caller wipes and frees it (jotx_free_secret or jot_memzero).
 *  JOTD_E_CRYPTO with "sealed with key-encryption key <id>, this instance has <id>" when
 *  another KEK sealed it, or "damaged" when it does not authenticate; JOTD_E_NOMEM. */
jotd_rc_t jotd_unseal(const jotd_kek_t *k, const char *purpose, const char *sealed, uint8_t **out,
                      size_t *out_len, char *err, size_t errlen);

/** The KEK id a sealed value names into \p out, or "" when \p sealed is not a sealed value. */
void jotd_sealed_kek_id(const char *sealed, char out[JOTD_KEK_ID_LEN + 1]);

#endif
