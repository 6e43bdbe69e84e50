/* common/ (jotx.h): SHA-256 without a per-call algorithm lookup. */
#ifndef JOTX_SHA256_H
#define JOTX_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define JOTX_SHA256_LEN 32

/** SHA-256 of \p len bytes at \p data into \p out. The EVP_MD is fetched once per process
 *  (pthread_once): SHA256() and EVP_sha256() look the algorithm up in the provider store on
 *  every call, which showed in the profile of jotd's /verify. Thread-safe. Aborts when
 *  OpenSSL has no SHA-256 (nothing could be checked safely then). */
void jotx_sha256(const void *data, size_t len, uint8_t out[JOTX_SHA256_LEN]);

#endif
