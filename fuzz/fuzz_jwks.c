/* Fuzz target "jwks": key set import (jot_keyset_from_jwks), export (jot_keyset_to_jwks) and
 * lookup (jot_keyset_find).
 *
 * Input: the JWKS text. The last (data[0] % 32) bytes double as a kid to look up.
 * Invariants:
 *   - at most JOT_MAX_KEYS keys; no two share a kid; every key has a thumbprint;
 *   - jot_keyset_find(kid of key i) is key i; a lookup by the input's bytes returns NULL or
 *     a key with exactly that kid;
 *   - the export (private form when the set holds secrets, else public) imports again with
 *     the same number of keys, the same thumbprints and kids, in order. */
#include "fuzz_keycheck.h"

static void check_set(const jot_keyset_t *set, const uint8_t *data, size_t size)
{
    size_t n = jot_keyset_count(set);
    FUZZ_CHECK(n <= 64);
    size_t n_private = 0;
    for (size_t i = 0; i < n; i++) {
        const jot_key_t *k = jot_keyset_get(set, i);
        FUZZ_CHECK(k != NULL);
        char tp[44];
        thumbprint(k, tp);
        n_private += jot_key_is_private(k) ? 1u : 0u;
        const char *kid = jot_key_kid(k);
        if (kid) {
            FUZZ_CHECK(jot_keyset_find(set, kid, strlen(kid)) == k);
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(!same_str(kid, jot_key_kid(jot_keyset_get(set, j))));
        }
    }
    FUZZ_CHECK(jot_keyset_get(set, n) == NULL);
    /* secrets and public keys are never mixed in an imported set */
    FUZZ_CHECK(n_private == 0 || n_private == n);

    size_t kid_len = size ? data[0] % 32u : 0;
    if (kid_len > size)
        kid_len = size;
    char *kid = fuzz_copy(data + size - kid_len, kid_len, 0);
    const jot_key_t *found = jot_keyset_find(set, kid, kid_len);
    if (found) {
        const char *fk = jot_key_kid(found);
        FUZZ_CHECK(fk != NULL && strlen(fk) == kid_len && memcmp(fk, kid, kid_len) == 0);
    }
    free(kid);

    unsigned flags = n_private ? JOT_JWK_PRIVATE : JOT_JWK_PUBLIC;
    char *json = NULL;
    size_t len = 0;
    jot_err_t rc = jot_keyset_to_jwks(set, flags, &json, &len);
    FUZZ_CHECK(rc == JOT_OK && json != NULL && strlen(json) == len);
    jot_keyset_t *set2 = NULL;
    rc = jot_keyset_from_jwks(json, len, &set2);
    if (rc != JOT_OK)
        fprintf(stderr, "re-import of the exported set failed: %s\n", jot_err_name(rc));
    FUZZ_CHECK(rc == JOT_OK);
    FUZZ_CHECK(jot_keyset_count(set2) == n);
    for (size_t i = 0; i < n; i++) {
        const jot_key_t *a = jot_keyset_get(set, i), *b = jot_keyset_get(set2, i);
        char ta[44], tb[44];
        thumbprint(a, ta);
        thumbprint(b, tb);
        FUZZ_CHECK(strcmp(ta, tb) == 0);
        FUZZ_CHECK(same_str(jot_key_kid(a), jot_key_kid(b)));
        FUZZ_CHECK(jot_key_alg(a) == jot_key_alg(b));
        FUZZ_CHECK(jot_key_is_private(a) == jot_key_is_private(b));
    }
    jot_keyset_free(set2);
    jot_memzero(json, len);
    jot_free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size, 0);
    jot_keyset_t *set = NULL;
    jot_err_t rc = jot_keyset_from_jwks(text, size, &set);
    check_err(rc);
    if (rc == JOT_OK) {
        FUZZ_CHECK(set != NULL);
        check_set(set, data, size);
        /* the first key gets the full single-key treatment */
        if (jot_keyset_count(set) > 0)
            fuzz_check_key(jot_keyset_get(set, 0));
    } else {
        FUZZ_CHECK(set == NULL);
    }
    jot_keyset_free(set);
    free(text);
    return 0;
}
