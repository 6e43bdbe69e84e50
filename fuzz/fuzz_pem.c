/* Fuzz target "pem": PEM key import (jot_key_from_pem: PKCS#8, SPKI, traditional RSA/EC,
 * PKCS#1 public; encrypted keys refused) and format detection (jot_key_parse: JWK or PEM).
 * Whatever either accepts goes through fuzz_check_key (fuzz_keycheck.h): thumbprint, JWK
 * and PEM export and re-import with the same thumbprint. */
#include "fuzz_keycheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size, 0);
    jot_key_t *k = NULL;
    jot_err_t rc = jot_key_from_pem(text, size, &k);
    check_err(rc);
    if (rc == JOT_OK) {
        FUZZ_CHECK(k != NULL);
        /* PEM carries no JWK parameters */
        FUZZ_CHECK(jot_key_kid(k) == NULL && jot_key_alg(k) == JOT_ALG_UNSET);
        FUZZ_CHECK(jot_key_kty(k) != JOT_KTY_OCT);
        fuzz_check_key(k);
    } else {
        FUZZ_CHECK(k == NULL);
    }

    jot_key_t *k2 = NULL;
    jot_err_t rc2 = jot_key_parse(text, size, &k2);
    check_err(rc2);
    if (rc2 == JOT_OK) {
        FUZZ_CHECK(k2 != NULL);
        /* the same PEM text through both entry points gives the same key */
        if (rc == JOT_OK && size > 0 && text[0] == '-') {
            char a[44], b[44];
            thumbprint(k, a);
            thumbprint(k2, b);
            FUZZ_CHECK(strcmp(a, b) == 0);
        } else if (rc != JOT_OK) {
            fuzz_check_key(k2); /* a JWK, or PEM after leading whitespace */
        }
    } else {
        FUZZ_CHECK(k2 == NULL);
        /* PEM that from_pem accepts as it stands, parse accepts too */
        FUZZ_CHECK(!(rc == JOT_OK && size > 0 && text[0] == '-'));
    }
    jot_key_free(k);
    jot_key_free(k2);
    free(text);
    return 0;
}
