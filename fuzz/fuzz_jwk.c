/* Fuzz target "jwk": import of one JWK (jot_key_from_jwk), and on success everything a key
 * offers (fuzz_keycheck.h): accessors, jot_key_check_alg for every algorithm, the RFC 7638
 * thumbprint, JWK export and re-import (private and public, same thumbprint, same text on
 * the second round), jot_key_public, PEM export and re-import. */
#include "fuzz_keycheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size, 0);
    jot_key_t *k = NULL;
    jot_err_t rc = jot_key_from_jwk(text, size, &k);
    check_err(rc);
    if (rc == JOT_OK) {
        FUZZ_CHECK(k != NULL);
        fuzz_check_key(k);
    } else {
        FUZZ_CHECK(k == NULL);
    }
    jot_key_free(k);
    free(text);
    return 0;
}
