/* SHA-256 with the algorithm fetched once (sha256.h). */
#include "common/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

static EVP_MD *sha256_md; /* never freed: lives as long as the process */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void jotx_sha256(const void *data, size_t len, uint8_t out[JOTX_SHA256_LEN])
{
    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256_md || !EVP_Digest(data, len, out, NULL, sha256_md, NULL))
        abort(); /* no SHA-256: nothing can be checked safely */
}
