/* common/ (jotx.h): random identifiers and secrets as base64url text. */
#ifndef JOTX_RANDOM_H
#define JOTX_RANDOM_H

#include <stddef.h>

/** \p nbytes bytes from the OpenSSL DRBG (RAND_bytes), written to \p out as base64url
 *  without padding and NUL-terminated: ceil(nbytes * 4 / 3) characters, so \p outcap must be
 *  at least that plus one (16 bytes: 23; 24 bytes: 33; 32 bytes: 44). The raw bytes are
 *  wiped before returning. Thread-safe.
 *  \return the length of the text, or -1 (no randomness, \p out too small, \p nbytes 0 or
 *          over 64); \p out is then an empty string when \p outcap > 0. */
int jotx_random_b64url(char *out, size_t outcap, size_t nbytes);

#endif
