/* Unit tests for lib/b64url.c: RFC 4648 §5 base64url, unpadded, decoded strictly. */
#include <string.h>

#include "test.h"

#include "internal.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool in_alphabet(int c)
{
    return c != 0 && memchr(alphabet, c, 64) != NULL;
}

/* Decodes with the buffer size the header documents ((len / 4) * 3 + 2), surrounded by
 * canaries so that a write past that size is caught. */
static jot_err_t decode_checked(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
    uint8_t buf[16 + 512 + 16];
    size_t room = (len / 4) * 3 + 2;
    assert_true(room <= 512);
    memset(buf, 0xa5, sizeof buf);
    jot_err_t rc = jot_b64url_decode(buf + 16, out_len, in, len);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(buf[i], 0xa5);
    for (size_t i = 16 + room; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xa5);
    if (rc == JOT_OK)
        memcpy(out, buf + 16, *out_len);
    return rc;
}

static void expect_decode_fails(const char *in, size_t len)
{
    uint8_t out[512];
    size_t out_len = 12345;
    jot_err_t rc = decode_checked(in, len, out, &out_len);
    if (rc != JOT_E_BASE64)
        fail_msg("decode of \"%.*s\" (len %zu): got %s, want JOT_E_BASE64", (int)len, in, len,
                 jot_err_name(rc));
    assert_int_equal(out_len, 12345); /* written only on success */
}

/* ---- RFC 4648 §10 vectors (base64url alphabet, padding removed) ----------------------- */

static const struct {
    const char *plain, *encoded;
} rfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        size_t n = strlen(rfc4648[i].plain);
        char out[32];
        memset(out, 'x', sizeof out);
        assert_int_equal(jot_b64url_encoded_len(n), strlen(rfc4648[i].encoded));
        size_t w = jot_b64url_encode(out, (const uint8_t *)rfc4648[i].plain, n);
        assert_int_equal(w, strlen(rfc4648[i].encoded));
        assert_string_equal(out, rfc4648[i].encoded); /* also checks the NUL */
    }
}

static void test_rfc4648_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *enc = rfc4648[i].encoded;
        uint8_t out[32];
        size_t out_len = 999;
        assert_rc(decode_checked(enc, strlen(enc), out, &out_len), JOT_OK);
        assert_int_equal(out_len, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, out_len);
        assert_int_equal(jot__b64url_decoded_len(strlen(enc)), out_len);
    }
}

static void test_rfc4648_padded_forms_rejected(void **state)
{
    (void)state;
    expect_decode_fails("Zg==", 4);
    expect_decode_fails("Zm8=", 4);
    expect_decode_fails("Zg=", 3);
    expect_decode_fails("Zm9vYg==", 8);
    expect_decode_fails("Zm9vYmE=", 8);
    expect_decode_fails("=", 1);
    expect_decode_fails("====", 4);
}

/* The standard alphabet's 62 and 63 are '+' and '/'; base64url's are '-' and '_'. */
static void test_url_safe_alphabet(void **state)
{
    (void)state;
    const uint8_t in[3] = {0xfb, 0xff, 0xbf}; /* 62 63 62 63 */
    char out[8];
    assert_int_equal(jot_b64url_encode(out, in, 3), 4);
    assert_string_equal(out, "-_-_");
    uint8_t dec[8];
    size_t n;
    assert_rc(decode_checked("-_-_", 4, dec, &n), JOT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(dec, in, 3);
    expect_decode_fails("+/+/", 4);
    expect_decode_fails("-_+_", 4);
    expect_decode_fails("-_-/", 4);
}

/* ---- round trips ---------------------------------------------------------------------- */

static void test_all_byte_values_round_trip(void **state)
{
    (void)state;
    uint8_t all[256];
    for (size_t i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char enc[400];
    size_t w = jot_b64url_encode(enc, all, sizeof all);
    assert_int_equal(w, jot_b64url_encoded_len(sizeof all));
    assert_int_equal(strlen(enc), w);
    for (size_t i = 0; i < w; i++)
        assert_true(in_alphabet(enc[i]));
    uint8_t dec[400];
    size_t n;
    assert_rc(decode_checked(enc, w, dec, &n), JOT_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(dec, all, 256);

    /* each byte alone, and in each position of a 3-byte group */
    for (unsigned b = 0; b < 256; b++) {
        for (size_t pos = 0; pos < 3; pos++) {
            for (size_t len = pos + 1; len <= 3; len++) {
                uint8_t in[3] = {0x00, 0x00, 0x00};
                in[pos] = (uint8_t)b;
                char e[8];
                size_t ew = jot_b64url_encode(e, in, len);
                uint8_t d[8];
                size_t dn;
                assert_rc(decode_checked(e, ew, d, &dn), JOT_OK);
                assert_int_equal(dn, len);
                assert_memory_equal(d, in, len);
            }
        }
    }
}

static uint32_t prng_state = 0x9e3779b9u;
static uint8_t prng_byte(void)
{
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 17;
    prng_state ^= prng_state << 5;
    return (uint8_t)(prng_state >> 24);
}

static void test_every_length_0_to_64_round_trip(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 64; len++) {
        for (int round = 0; round < 8; round++) {
            uint8_t in[64];
            for (size_t i = 0; i < len; i++)
                in[i] = round == 0 ? 0x00 : round == 1 ? 0xff : prng_byte();
            char enc[128];
            memset(enc, '#', sizeof enc);
            size_t w = jot_b64url_encode(enc, in, len);
            assert_int_equal(w, jot_b64url_encoded_len(len));
            assert_int_equal(w, (len * 4 + 2) / 3); /* unpadded length */
            assert_int_equal(enc[w], '\0');
            assert_int_equal(enc[w + 1], '#'); /* nothing written past the NUL */
            assert_true(w % 4 != 1);
            uint8_t dec[64];
            size_t n = 999;
            assert_rc(decode_checked(enc, w, dec, &n), JOT_OK);
            assert_int_equal(n, len);
            assert_memory_equal(dec, in, len);
            assert_int_equal(jot__b64url_decoded_len(w), len);
        }
    }
}

static void test_alloc_helpers_round_trip(void **state)
{
    (void)state;
    const uint8_t in[5] = {'h', 'e', 0, 'l', 0xff};
    char *enc = NULL;
    size_t elen = 0;
    assert_rc(jot__b64url_encode_alloc(in, sizeof in, &enc, &elen), JOT_OK);
    assert_int_equal(elen, 7);
    assert_string_equal(enc, "aGUAbP8");
    uint8_t *dec = NULL;
    size_t dlen = 0;
    assert_rc(jot__b64url_decode_alloc(enc, elen, &dec, &dlen), JOT_OK);
    assert_int_equal(dlen, sizeof in);
    assert_memory_equal(dec, in, sizeof in);
    assert_int_equal(dec[dlen], 0); /* NUL-terminated for convenience */
    jot_free(dec);
    jot_free(enc);

    /* empty input: a valid, empty, NUL-terminated buffer */
    assert_rc(jot__b64url_encode_alloc(NULL, 0, &enc, &elen), JOT_OK);
    assert_int_equal(elen, 0);
    assert_string_equal(enc, "");
    jot_free(enc);
    assert_rc(jot__b64url_decode_alloc("", 0, &dec, &dlen), JOT_OK);
    assert_int_equal(dlen, 0);
    jot_free(dec);

    /* failure leaves the outputs alone */
    dec = (uint8_t *)in;
    dlen = 77;
    assert_rc(jot__b64url_decode_alloc("Zg==", 4, &dec, &dlen), JOT_E_BASE64);
    assert_ptr_equal(dec, in);
    assert_int_equal(dlen, 77);
}

/* ---- rejection -------------------------------------------------------------------------- */

/* Every byte outside the alphabet is refused, in every position of a group and of a
 * partial group: '=', '+', '/', whitespace, NUL, '.', and all non-ASCII bytes. */
static void test_every_non_alphabet_byte_rejected(void **state)
{
    (void)state;
    const char *bases[] = {"QUJD", "QUJDRA", "QUJDREU", "QUI", "QQ"};
    int rejected = 0;
    for (unsigned c = 0; c < 256; c++) {
        if (in_alphabet((int)c))
            continue;
        for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            size_t len = strlen(bases[b]);
            for (size_t pos = 0; pos < len; pos++) {
                char s[16];
                memcpy(s, bases[b], len);
                s[pos] = (char)c;
                expect_decode_fails(s, len);
                rejected++;
            }
        }
    }
    assert_int_equal(rejected, (256 - 64) * (4 + 6 + 7 + 3 + 2));
}

/* The accept side of the test above: every alphabet character decodes in every position
 * of a full group. */
static void test_every_alphabet_byte_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < 64; i++) {
        for (size_t pos = 0; pos < 4; pos++) {
            char s[4] = {'A', 'A', 'A', 'A'};
            s[pos] = alphabet[i];
            uint8_t out[8];
            size_t n;
            assert_rc(decode_checked(s, 4, out, &n), JOT_OK);
            assert_int_equal(n, 3);
            /* the 6-bit value lands where it should */
            uint32_t v = (uint32_t)out[0] << 16 | (uint32_t)out[1] << 8 | out[2];
            assert_int_equal(v, (uint32_t)i << (6 * (3 - pos)));
        }
    }
}

static void test_named_rejections(void **state)
{
    (void)state;
    expect_decode_fails("Zm9v Yg", 7);  /* space */
    expect_decode_fails("Zm9v\nYg", 7); /* newline */
    expect_decode_fails("Zm9vYg\n", 7); /* trailing newline */
    expect_decode_fails(" Zm9v", 5);
    expect_decode_fails("Zm9v\tYmFy", 9);
    expect_decode_fails("Zm9v\rYmFy", 9);
    expect_decode_fails("Zm\0v", 4);        /* NUL inside */
    expect_decode_fails("Zm9v\0\0\0\0", 8); /* NULs after a valid group */
    expect_decode_fails("Zm9\xc3\xa9", 5);  /* UTF-8 é */
    expect_decode_fails("Zm9v\x80Yg", 7);
    expect_decode_fails("Zm+v", 4);
    expect_decode_fails("Zm/v", 4);
    expect_decode_fails("Zm9v.Yg", 7);
}

static void test_length_mod4_equals_1_rejected(void **state)
{
    (void)state;
    const char *valid = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"; /* all alphabet chars */
    for (size_t len = 0; len <= strlen(valid); len++) {
        uint8_t out[64];
        size_t n = 4242;
        jot_err_t rc = decode_checked(valid, len, out, &n);
        if (len % 4 == 1) {
            assert_rc(rc, JOT_E_BASE64);
            assert_int_equal(n, 4242);
        } else if (len % 4 == 0) {
            assert_rc(rc, JOT_OK); /* full groups never have unused bits */
            assert_int_equal(n, len / 4 * 3);
        }
    }
    expect_decode_fails("A", 1);
    expect_decode_fails("QUJDR", 5);
    expect_decode_fails("QUJDREVGR", 9);
}

/* Two trailing characters carry one byte: the last 4 bits of the second must be zero.
 * Three carry two bytes: the last 2 bits of the third must be zero. Otherwise one byte
 * string would have several encodings. */
static void test_nonzero_unused_bits_rejected(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n;
    assert_rc(decode_checked("QQ", 2, out, &n), JOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'A');
    expect_decode_fails("QR", 2);
    expect_decode_fails("QX", 2);
    expect_decode_fails("Q_", 2);
    assert_rc(decode_checked("QUI", 3, out, &n), JOT_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "AB", 2);
    expect_decode_fails("QUJ", 3);
    expect_decode_fails("QUK", 3);
    expect_decode_fails("QUL", 3);
    assert_rc(decode_checked("Zm9vYg", 6, out, &n), JOT_OK);
    expect_decode_fails("Zm9vYh", 6);
    assert_rc(decode_checked("Zm9vYmE", 7, out, &n), JOT_OK);
    expect_decode_fails("Zm9vYmF", 7);

    /* exhaustively: exactly the characters with zero unused bits are accepted */
    int ok2 = 0, ok3 = 0;
    for (size_t i = 0; i < 64; i++) {
        char s2[2] = {'Q', alphabet[i]};
        char s3[3] = {'Q', 'U', alphabet[i]};
        size_t m;
        jot_err_t rc2 = jot_b64url_decode(out, &m, s2, 2);
        jot_err_t rc3 = jot_b64url_decode(out, &m, s3, 3);
        assert_rc(rc2, (i & 0x0f) ? JOT_E_BASE64 : JOT_OK);
        assert_rc(rc3, (i & 0x03) ? JOT_E_BASE64 : JOT_OK);
        ok2 += rc2 == JOT_OK;
        ok3 += rc3 == JOT_OK;
    }
    assert_int_equal(ok2, 4);  /* A Q g w */
    assert_int_equal(ok3, 16); /* every fourth character */
}

/* ---- lengths ---------------------------------------------------------------------------- */

static void test_encoded_len_values(void **state)
{
    (void)state;
    const size_t expect[] = {0, 2, 3, 4, 6, 7, 8, 10, 11, 12};
    for (size_t n = 0; n < sizeof expect / sizeof expect[0]; n++)
        assert_int_equal(jot_b64url_encoded_len(n), expect[n]);
    assert_int_equal(jot_b64url_encoded_len(4096), 5462);
    assert_int_equal(jot__b64url_decoded_len(0), 0);
    assert_int_equal(jot__b64url_decoded_len(2), 1);
    assert_int_equal(jot__b64url_decoded_len(3), 2);
    assert_int_equal(jot__b64url_decoded_len(4), 3);
    assert_int_equal(jot__b64url_decoded_len(5462), 4096);
}

/* The exact value when it is representable; SIZE_MAX otherwise; never a wrapped value. */
static void test_encoded_len_saturates(void **state)
{
    (void)state;
    assert_int_equal(jot_b64url_encoded_len(SIZE_MAX), SIZE_MAX);
    assert_int_equal(jot_b64url_encoded_len(SIZE_MAX - 1), SIZE_MAX);
    assert_int_equal(jot_b64url_encoded_len(SIZE_MAX / 4 * 3 + 3), SIZE_MAX);
    int exact = 0, saturated = 0;
    const size_t starts[] = {SIZE_MAX / 4 * 3 - 64, SIZE_MAX - 64, SIZE_MAX / 2};
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        for (size_t n = starts[s]; n - starts[s] <= 64; n++) {
            size_t got = jot_b64url_encoded_len(n);
            size_t q4, want;
            bool overflow = __builtin_mul_overflow(n / 3, (size_t)4, &q4) ||
                            __builtin_add_overflow(q4, n % 3 ? n % 3 + 1 : 0, &want);
            if (overflow || got == SIZE_MAX) {
                assert_int_equal(got, SIZE_MAX);
                saturated++;
            } else {
                assert_int_equal(got, want);
                assert_true(got > n);
                exact++;
            }
        }
    }
    assert_true(exact > 0);
    assert_true(saturated > 0);
    /* a large but representable length is exact */
    assert_int_equal(jot_b64url_encoded_len(SIZE_MAX / 4 * 3 - 3), SIZE_MAX / 4 * 4 - 4);
}

static void test_decode_invalid_arguments(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 7;
    assert_rc(jot_b64url_decode(NULL, &n, "QQ", 2), JOT_E_INVAL);
    assert_rc(jot_b64url_decode(out, NULL, "QQ", 2), JOT_E_INVAL);
    assert_rc(jot_b64url_decode(out, &n, NULL, 2), JOT_E_INVAL);
    assert_int_equal(n, 7);
    /* NULL with length 0 is the empty string */
    assert_rc(jot_b64url_decode(out, &n, NULL, 0), JOT_OK);
    assert_int_equal(n, 0);
    /* encode of nothing writes just the NUL */
    char e[2] = {'x', 'x'};
    assert_int_equal(jot_b64url_encode(e, NULL, 0), 0);
    assert_int_equal(e[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_rfc4648_padded_forms_rejected),
        cmocka_unit_test(test_url_safe_alphabet),
        cmocka_unit_test(test_all_byte_values_round_trip),
        cmocka_unit_test(test_every_length_0_to_64_round_trip),
        cmocka_unit_test(test_alloc_helpers_round_trip),
        cmocka_unit_test(test_every_non_alphabet_byte_rejected),
        cmocka_unit_test(test_every_alphabet_byte_accepted),
        cmocka_unit_test(test_named_rejections),
        cmocka_unit_test(test_length_mod4_equals_1_rejected),
        cmocka_unit_test(test_nonzero_unused_bits_rejected),
        cmocka_unit_test(test_encoded_len_values),
        cmocka_unit_test(test_encoded_len_saturates),
        cmocka_unit_test(test_decode_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
