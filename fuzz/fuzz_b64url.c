/* Fuzz target "b64url": strict base64url decoding (RFC 4648 §5, no padding, canonical).
 *
 * Invariants:
 *   - jot_b64url_decode() never writes past the room its documentation asks for
 *     ((len / 4) * 3 + 2 bytes), nor past the bytes it reports;
 *   - it fails only with JOT_E_BASE64, and succeeds exactly when the internal allocating
 *     decoder does, with the same bytes;
 *   - decoding is canonical: decode ok -> encode -> the identical input;
 *   - any bytes encode, and the encoding decodes back to them. */
#include "fuzz_common.h"

#include "internal.h"

#define SENTINEL 0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_copy(data, size, 0);

    /* decode: exactly the documented room, filled with a sentinel */
    size_t room = size / 4 * 3 + 2;
    uint8_t *out = malloc(room);
    FUZZ_CHECK(out != NULL);
    memset(out, SENTINEL, room);
    size_t n = (size_t)-1;
    jot_err_t rc = jot_b64url_decode(out, &n, in, size);
    uint8_t *alloc = NULL;
    size_t alloc_n = 0;
    jot_err_t rc2 = jot__b64url_decode_alloc(in, size, &alloc, &alloc_n);
    FUZZ_CHECK(rc == rc2);
    if (rc == JOT_OK) {
        FUZZ_CHECK(n <= room);
        FUZZ_CHECK(n == jot__b64url_decoded_len(size));
        for (size_t i = n; i < room; i++)
            FUZZ_CHECK(out[i] == SENTINEL);
        FUZZ_CHECK(alloc_n == n && (n == 0 || memcmp(alloc, out, n) == 0));
        FUZZ_CHECK(alloc[n] == 0); /* documented NUL after the bytes */
        /* canonical: the one encoding of these bytes is the input */
        FUZZ_CHECK(jot_b64url_encoded_len(n) == size);
        char *enc = malloc(size + 1);
        FUZZ_CHECK(enc != NULL);
        size_t w = jot_b64url_encode(enc, out, n);
        FUZZ_CHECK(w == size && enc[w] == '\0');
        FUZZ_CHECK(memcmp(enc, in, size) == 0);
        free(enc);
    } else {
        FUZZ_CHECK(rc == JOT_E_BASE64);
        FUZZ_CHECK(n == (size_t)-1); /* out_* written only on success */
    }
    jot_free(alloc);
    free(out);

    /* encode the raw bytes: the result decodes back to them */
    size_t elen = jot_b64url_encoded_len(size);
    FUZZ_CHECK(elen != SIZE_MAX);
    char *enc = malloc(elen + 1);
    FUZZ_CHECK(enc != NULL);
    size_t w = jot_b64url_encode(enc, data, size);
    FUZZ_CHECK(w == elen && enc[w] == '\0');
    for (size_t i = 0; i < w; i++) {
        char c = enc[i];
        FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_');
    }
    uint8_t *back = malloc(w / 4 * 3 + 2);
    FUZZ_CHECK(back != NULL);
    size_t bn = 0;
    rc = jot_b64url_decode(back, &bn, enc, w);
    FUZZ_CHECK(rc == JOT_OK && bn == size && (size == 0 || memcmp(back, data, size) == 0));
    free(back);
    free(enc);
    free(in);
    return 0;
}
