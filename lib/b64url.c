/* base64url (RFC 4648 §5) without padding, decoded strictly: one encoding per byte string. */
#include "internal.h"

static const char enc_table[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the alphabet, 0xff for everything else (padding, '+', '/', whitespace, NUL) */
static const uint8_t dec_table[256] = {
#define X 0xff
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x00 */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x10 */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  /* 0x20 '-' */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,  /* 0x30 digits */
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* 0x40 */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63, /* 0x50 '_' */
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60 */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,  /* 0x70 */
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X,
#undef X
};

size_t jot_b64url_encoded_len(size_t n)
{
    if (n > (SIZE_MAX - 3) / 4 * 3)
        return SIZE_MAX;
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t jot__b64url_decoded_len(size_t enc_len)
{
    return enc_len / 4 * 3 + (enc_len % 4 ? enc_len % 4 - 1 : 0);
}

size_t jot_b64url_encode(char *out, const uint8_t *in, size_t n)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = enc_table[v >> 18];
        out[o++] = enc_table[(v >> 12) & 63];
        out[o++] = enc_table[(v >> 6) & 63];
        out[o++] = enc_table[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = enc_table[v >> 18];
        out[o++] = enc_table[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = enc_table[v >> 18];
        out[o++] = enc_table[(v >> 12) & 63];
        out[o++] = enc_table[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

jot_err_t jot_b64url_decode(uint8_t *out, size_t *out_len, const char *in, size_t len)
{
    if (!out || !out_len || (!in && len))
        return JOT_E_INVAL;
    if (len % 4 == 1)
        return JOT_E_BASE64;
    const uint8_t *s = (const uint8_t *)in;
    size_t o = 0, i = 0;
    /* invalid characters map to 0xff: their high bit is collected and judged once at the
     * end, so the loop has no branch per group (the output is never used on failure) */
    unsigned bad = 0;
    for (; i + 4 <= len; i += 4) {
        unsigned a = dec_table[s[i]], b = dec_table[s[i + 1]], c = dec_table[s[i + 2]],
                 d = dec_table[s[i + 3]];
        bad |= a | b | c | d;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        out[o] = (uint8_t)(v >> 16);
        out[o + 1] = (uint8_t)(v >> 8);
        out[o + 2] = (uint8_t)v;
        o += 3;
    }
    if (bad & 0x80)
        return JOT_E_BASE64;
    size_t rest = len - i;
    if (rest == 2) {
        uint8_t a = dec_table[s[i]], b = dec_table[s[i + 1]];
        if ((a | b) & 0x80 || (b & 0x0f)) /* the 4 unused bits must be zero */
            return JOT_E_BASE64;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
    } else if (rest == 3) {
        uint8_t a = dec_table[s[i]], b = dec_table[s[i + 1]], c = dec_table[s[i + 2]];
        if ((a | b | c) & 0x80 || (c & 0x03)) /* the 2 unused bits must be zero */
            return JOT_E_BASE64;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
        out[o++] = (uint8_t)(b << 4 | c >> 2);
    }
    *out_len = o;
    return JOT_OK;
}

jot_err_t jot__b64url_decode_alloc(const char *in, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t *buf = jot__malloc(jot__b64url_decoded_len(len) + 1);
    if (!buf)
        return JOT_E_NOMEM;
    size_t n;
    jot_err_t rc = jot_b64url_decode(buf, &n, in, len);
    if (rc != JOT_OK) {
        jot__free_secret(buf, jot__b64url_decoded_len(len) + 1); /* may hold key bytes */
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return JOT_OK;
}

jot_err_t jot__b64url_encode_alloc(const uint8_t *in, size_t n, char **out, size_t *out_len)
{
    size_t elen = jot_b64url_encoded_len(n);
    if (elen == SIZE_MAX)
        return JOT_E_TOOBIG;
    char *buf = jot__malloc(elen + 1);
    if (!buf)
        return JOT_E_NOMEM;
    size_t w = jot_b64url_encode(buf, in, n);
    *out = buf;
    if (out_len)
        *out_len = w;
    return JOT_OK;
}
