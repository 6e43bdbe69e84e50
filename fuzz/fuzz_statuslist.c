/* Fuzz target "statuslist": the Token Status List decoder (lib/status.c): a status_list
 * object {bits, lst} parsed strictly, lst base64url-decoded and ZLIB-inflated under a cap,
 * then entries read.
 *
 * Input: the status_list JSON text.
 * Invariants:
 *   - a decoded list has bits 1, 2, 4 or 8 and at most the cap (64 KiB here) of bytes;
 *   - every entry below len * 8 / bits reads, with a value below 2^bits; the next one, and
 *     the largest index, are refused (JOT_E_STATUS_LIST), never read out of bounds;
 *   - decoding the same input twice gives the same bytes. */
#include "fuzz_common.h"
#include "fetch.h"

#define CAP (64u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    if (jot__json_parse((const char *)data, size, 1024u * 1024u, 16, true, &obj) != JOT_OK)
        return 0;
    uint8_t *bytes = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    unsigned bits = 0, bits2 = 0;
    jot_err_t rc = jot__status_list_decode(obj, CAP, &bytes, &len, &bits);
    if (rc == JOT_OK) {
        FUZZ_CHECK(bits == 1 || bits == 2 || bits == 4 || bits == 8);
        FUZZ_CHECK(len <= CAP);
        uint64_t n = (uint64_t)len * 8u / bits;
        for (uint64_t i = 0; i < n; i++) {
            unsigned v = 1000;
            FUZZ_CHECK(jot__status_get(bytes, len, bits, i, &v) == JOT_OK);
            FUZZ_CHECK(v < (1u << bits));
        }
        unsigned v;
        FUZZ_CHECK(jot__status_get(bytes, len, bits, n, &v) == JOT_E_STATUS_LIST);
        FUZZ_CHECK(jot__status_get(bytes, len, bits, UINT64_MAX, &v) == JOT_E_STATUS_LIST);
        FUZZ_CHECK(jot__status_list_decode(obj, CAP, &again, &len2, &bits2) == JOT_OK);
        FUZZ_CHECK(len2 == len && bits2 == bits && (len == 0 || memcmp(bytes, again, len) == 0));
    } else {
        FUZZ_CHECK(rc == JOT_E_STATUS_LIST || rc == JOT_E_TOOBIG || rc == JOT_E_NOMEM);
        FUZZ_CHECK(bytes == NULL);
    }
    jot_free(bytes);
    jot_free(again);
    json_decref(obj);
    return 0;
}
