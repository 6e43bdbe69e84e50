/* Random base64url text (random.h), on libjot's public encoder. */
#include "common/random.h"

#include "jot/jot.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>

#define RAW_MAX 64

int jotx_random_b64url(char *out, size_t outcap, size_t nbytes)
{
    uint8_t raw[RAW_MAX];
    if (!out)
        return -1;
    if (outcap)
        out[0] = '\0';
    if (nbytes == 0 || nbytes > RAW_MAX || outcap < jot_b64url_encoded_len(nbytes) + 1)
        return -1;
    if (RAND_bytes(raw, (int)nbytes) != 1) {
        OPENSSL_cleanse(raw, sizeof raw);
        return -1;
    }
    size_t n = jot_b64url_encode(out, raw, nbytes);
    OPENSSL_cleanse(raw, sizeof raw);
    return (int)n;
}
