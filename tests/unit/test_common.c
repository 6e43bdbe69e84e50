/* Unit tests for common/ (common/jotx.h): the bounded decimal parser, the duration grammar,
 * random base64url text, SHA-256 and the capped buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "common/buf.h"
#include "common/duration.h"
#include "common/random.h"
#include "common/sha256.h"
#include "common/strparse.h"

/* ---- jotx_parse_u64 ------------------------------------------------------------------- */

static void test_u64_str(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t max;
        int rc;
        uint64_t want;
    } cases[] = {
        {"0", 10, JOTX_OK, 0},
        {"7", 10, JOTX_OK, 7},
        {"10", 10, JOTX_OK, 10},    /* max exactly */
        {"11", 10, JOTX_ERANGE, 0}, /* max + 1 */
        {"007", 10, JOTX_OK, 7},    /* leading zeros are allowed (the callers' old rule) */
        {"0000000000000000000000000000001", 1, JOTX_OK, 1},
        {"0", 0, JOTX_OK, 0},
        {"1", 0, JOTX_ERANGE, 0},
        {"18446744073709551615", UINT64_MAX, JOTX_OK, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, JOTX_ERANGE, 0}, /* 20 digits, overflow */
        {"99999999999999999999", UINT64_MAX, JOTX_ERANGE, 0},
        {"123456789012345678901", UINT64_MAX, JOTX_ERANGE, 0},
        {"65535", 65535, JOTX_OK, 65535},
        {"65536", 65535, JOTX_ERANGE, 0},
        {"", 10, JOTX_ENUM, 0},
        {"-1", 10, JOTX_ENUM, 0},
        {"+1", 10, JOTX_ENUM, 0},
        {" 1", 10, JOTX_ENUM, 0},
        {"1 ", 10, JOTX_ENUM, 0},
        {"1x", 10, JOTX_ENUM, 0},
        {"0x10", UINT64_MAX, JOTX_ENUM, 0},
        {"1e3", UINT64_MAX, JOTX_ENUM, 0},
        {"\xd9\xa1", 10, JOTX_ENUM, 0}, /* ARABIC-INDIC DIGIT ONE */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        int rc = jotx_parse_u64_str(cases[i].s, cases[i].max, &v);
        if (rc != cases[i].rc)
            fail_msg("\"%s\" max %llu: rc %d, want %d", cases[i].s,
                     (unsigned long long)cases[i].max, rc, cases[i].rc);
        if (rc == JOTX_OK && v != cases[i].want)
            fail_msg("\"%s\": %llu, want %llu", cases[i].s, (unsigned long long)v,
                     (unsigned long long)cases[i].want);
        if (rc != JOTX_OK && v != 12345)
            fail_msg("\"%s\": output written on failure", cases[i].s);
    }
    uint64_t v = 1;
    assert_int_equal(jotx_parse_u64_str(NULL, 10, &v), JOTX_ENUM);
    assert_int_equal(v, 1);
}

static void test_u64_advance(void **state)
{
    (void)state;
    const char *s = "123,45";
    const char *p = s;
    uint64_t v = 0;
    /* digits up to the first non-digit; the rest is the caller's */
    assert_int_equal(jotx_parse_u64(&p, s + strlen(s), 1000, &v), JOTX_OK);
    assert_int_equal(v, 123);
    assert_ptr_equal(p, s + 3);
    /* no digit at *p: nothing moves */
    assert_int_equal(jotx_parse_u64(&p, s + strlen(s), 1000, &v), JOTX_ENUM);
    assert_ptr_equal(p, s + 3);
    p++;
    assert_int_equal(jotx_parse_u64(&p, s + strlen(s), 1000, &v), JOTX_OK);
    assert_int_equal(v, 45);
    assert_ptr_equal(p, s + strlen(s));
    /* at end */
    assert_int_equal(jotx_parse_u64(&p, s + strlen(s), 1000, &v), JOTX_ENUM);
    /* end bounds the digits: "12345" read as "12" */
    const char *d = "12345";
    p = d;
    assert_int_equal(jotx_parse_u64(&p, d + 2, 1000, &v), JOTX_OK);
    assert_int_equal(v, 12);
    assert_ptr_equal(p, d + 2);
    /* over max: nothing moves, nothing written */
    p = d;
    v = 7;
    assert_int_equal(jotx_parse_u64(&p, d + 5, 1000, &v), JOTX_ERANGE);
    assert_ptr_equal(p, d);
    assert_int_equal(v, 7);
    /* an empty range */
    p = d;
    assert_int_equal(jotx_parse_u64(&p, d, 1000, &v), JOTX_ENUM);
    assert_ptr_equal(p, d);
}

/* ---- jotx_parse_duration ---------------------------------------------------------------- */

static void test_duration(void **state)
{
    (void)state;
    const int64_t M = JOTX_DURATION_MAX;
    static const struct {
        const char *s;
        int rc;
        int64_t want;
    } cases[] = {
        {"0", JOTX_OK, 0},
        {"90", JOTX_OK, 90},
        {"90s", JOTX_OK, 90},
        {"15m", JOTX_OK, 900},
        {"1h", JOTX_OK, 3600},
        {"30d", JOTX_OK, 2592000},
        {"2w", JOTX_OK, 1209600},
        {"0w", JOTX_OK, 0},
        {"007s", JOTX_OK, 7},
        /* the cap, exactly and one unit over, for each unit */
        {"253402300799", JOTX_OK, 253402300799LL},
        {"253402300800", JOTX_ERANGE, 0},
        {"253402300799s", JOTX_OK, 253402300799LL},
        {"253402300800s", JOTX_ERANGE, 0},
        {"4223371679m", JOTX_OK, 4223371679LL * 60},
        {"4223371680m", JOTX_ERANGE, 0},
        {"70389527h", JOTX_OK, 70389527LL * 3600},
        {"70389528h", JOTX_ERANGE, 0},
        {"2932896d", JOTX_OK, 2932896LL * 86400},
        {"2932897d", JOTX_ERANGE, 0},
        {"418985w", JOTX_OK, 418985LL * 604800},
        {"418986w", JOTX_ERANGE, 0},
        {"18446744073709551616w", JOTX_ERANGE, 0},
        {"99999999999999999999999999", JOTX_ERANGE, 0},
        /* the grammar */
        {"", JOTX_ENUM, 0},
        {"s", JOTX_ENUM, 0},
        {"h", JOTX_ENUM, 0},
        {"w", JOTX_ENUM, 0},
        {"-1", JOTX_ENUM, 0},
        {"-1s", JOTX_ENUM, 0},
        {"+1s", JOTX_ENUM, 0},
        {"1.5h", JOTX_ENUM, 0},
        {"1hh", JOTX_ENUM, 0},
        {"1h30m", JOTX_ENUM, 0},
        {"15 m", JOTX_ENUM, 0},
        {" 15", JOTX_ENUM, 0},
        {"15 ", JOTX_ENUM, 0},
        {"15x", JOTX_ENUM, 0},
        {"15M", JOTX_ENUM, 0},
        {"2W", JOTX_ENUM, 0},
        {"1y", JOTX_ENUM, 0},
        {"1ms", JOTX_ENUM, 0},
        {"99999999999999999999999999x", JOTX_ENUM, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -12345;
        int rc = jotx_parse_duration(cases[i].s, M, &v);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].s, rc, cases[i].rc);
        if (rc == JOTX_OK && v != cases[i].want)
            fail_msg("\"%s\": %lld, want %lld", cases[i].s, (long long)v, (long long)cases[i].want);
        if (rc != JOTX_OK && v != -12345)
            fail_msg("\"%s\": output written on failure", cases[i].s);
    }
    int64_t v = 5;
    assert_int_equal(jotx_parse_duration(NULL, M, &v), JOTX_ENUM);
    /* the caller's max, not a fixed one */
    assert_int_equal(jotx_parse_duration("1d", 86400, &v), JOTX_OK);
    assert_int_equal(v, 86400);
    assert_int_equal(jotx_parse_duration("86401", 86400, &v), JOTX_ERANGE);
    assert_int_equal(jotx_parse_duration("1w", 86400, &v), JOTX_ERANGE);
    assert_int_equal(jotx_parse_duration("0", 0, &v), JOTX_OK);
    assert_int_equal(v, 0);
    assert_int_equal(jotx_parse_duration("1s", 0, &v), JOTX_ERANGE);
    assert_int_equal(jotx_parse_duration("0", -1, &v), JOTX_ERANGE);
    assert_int_equal(jotx_parse_duration("9223372036854775807", INT64_MAX, &v), JOTX_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(jotx_parse_duration("15250284452471w", INT64_MAX, &v), JOTX_OK);
    assert_int_equal(jotx_parse_duration("15250284452472w", INT64_MAX, &v), JOTX_ERANGE);
}

/* ---- jotx_random_b64url ----------------------------------------------------------------- */

static bool all_b64url(const char *s, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !memchr(alphabet, s[i], 64))
            return false;
    return true;
}

static void test_random_b64url(void **state)
{
    (void)state;
    static const struct {
        size_t nbytes, len;
    } sizes[] = {{1, 2}, {2, 3}, {3, 4}, {15, 20}, {16, 22}, {24, 32}, {32, 43}, {64, 86}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char a[100], b[100];
        memset(a, 'X', sizeof a);
        size_t len = sizes[i].len;
        /* exactly the room needed */
        assert_int_equal(jotx_random_b64url(a, len + 1, sizes[i].nbytes), (int)len);
        assert_int_equal(strlen(a), len);
        assert_true(all_b64url(a, len));
        assert_int_equal(jotx_random_b64url(b, sizeof b, sizes[i].nbytes), (int)len);
        if (sizes[i].nbytes >= 15) /* two draws of 120+ bits never collide */
            assert_string_not_equal(a, b);
    }
    /* one byte too small: refused, and the output is an empty string */
    char small[23];
    memset(small, 'X', sizeof small);
    assert_int_equal(jotx_random_b64url(small, 22, 16), -1);
    assert_int_equal(small[0], '\0');
    assert_int_equal(small[1], 'X');
    assert_int_equal(jotx_random_b64url(small, 0, 16), -1);
    assert_int_equal(small[1], 'X');
    assert_int_equal(jotx_random_b64url(small, sizeof small, 0), -1);
    assert_int_equal(jotx_random_b64url(NULL, 100, 16), -1);
    char big[200];
    assert_int_equal(jotx_random_b64url(big, sizeof big, 65), -1);
}

/* ---- jotx_sha256 ------------------------------------------------------------------------ */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void test_sha256(void **state)
{
    (void)state;
    uint8_t md[JOTX_SHA256_LEN];
    char h[2 * JOTX_SHA256_LEN + 1];
    /* FIPS 180-2 appendix B.1 */
    jotx_sha256("abc", 3, md);
    hex(md, sizeof md, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    jotx_sha256("", 0, md);
    hex(md, sizeof md, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* B.2, two blocks; and the fetched algorithm is reused */
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (int i = 0; i < 3; i++) {
        jotx_sha256(m, strlen(m), md);
        hex(md, sizeof md, h);
        assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
}

/* ---- jotx_buf ---------------------------------------------------------------------------- */

/* A counting allocator that can refuse, and that checks that a wiping buffer hands back only
 * cleansed blocks (it knows each block's size from a header). */
static size_t n_malloc, n_realloc, n_free, n_dirty_free;
static bool refuse;
static bool check_wiped;

static void *t_malloc(size_t n)
{
    if (refuse)
        return NULL;
    n_malloc++;
    size_t *h = malloc(sizeof(size_t) + n);
    if (!h)
        return NULL;
    *h = n;
    memset(h + 1, 0xa5, n); /* never zero by chance; and defined for the check in t_free */
    return h + 1;
}

static void *t_realloc(void *p, size_t n)
{
    if (refuse)
        return NULL;
    n_realloc++;
    size_t *h = p ? (size_t *)p - 1 : NULL;
    size_t old = h ? *h : 0;
    h = realloc(h, sizeof(size_t) + n);
    if (!h)
        return NULL;
    *h = n;
    if (n > old)
        memset((char *)(h + 1) + old, 0xa5, n - old);
    return h + 1;
}

static void t_free(void *p)
{
    if (!p)
        return;
    n_free++;
    size_t *h = (size_t *)p - 1;
    if (check_wiped) {
        const unsigned char *c = p;
        for (size_t i = 0; i < *h; i++)
            if (c[i]) {
                n_dirty_free++;
                break;
            }
    }
    free(h);
}

/* What the owner of a block handed over by jotx_buf_take() does with a secret. */
static void t_free_cleansed(void *p)
{
    memset(p, 0, ((size_t *)p)[-1]);
    t_free(p);
}

static const jotx_alloc_t t_alloc = {t_malloc, t_realloc, t_free};

static int buf_setup(void **state)
{
    (void)state;
    n_malloc = n_realloc = n_free = n_dirty_free = 0;
    refuse = check_wiped = false;
    return 0;
}

static bool all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void test_buf_stack_growth(void **state)
{
    (void)state;
    char stack[8];
    jotx_buf_t b;
    jotx_buf_init(&b, stack, sizeof stack, SIZE_MAX, false, &t_alloc);
    assert_ptr_equal(b.p, stack);
    assert_string_equal(b.p, "");
    /* 7 bytes and the NUL fit in the caller's 8 */
    assert_int_equal(jotx_buf_add(&b, "abcdefg", 7), JOTX_OK);
    assert_ptr_equal(b.p, stack);
    assert_false(b.heap);
    assert_int_equal(n_malloc, 0);
    assert_string_equal(b.p, "abcdefg");
    /* one more moves to the heap, contents kept */
    assert_int_equal(jotx_buf_add(&b, "h", 1), JOTX_OK);
    assert_true(b.heap);
    assert_ptr_not_equal(b.p, stack);
    assert_int_equal(n_malloc, 1);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.p, "abcdefgh");
    /* heap growth without wiping is realloc */
    char big[1000];
    memset(big, 'z', sizeof big);
    assert_int_equal(jotx_buf_add(&b, big, sizeof big), JOTX_OK);
    assert_int_equal(b.len, 1008);
    assert_int_equal(b.p[1008], '\0');
    assert_int_equal(n_realloc, 1);
    assert_int_equal(memcmp(b.p + 8, big, sizeof big), 0);
    /* extend: room the caller fills */
    char *at = jotx_buf_extend(&b, 3);
    assert_non_null(at);
    memcpy(at, "xyz", 3);
    assert_int_equal(b.len, 1011);
    assert_string_equal(b.p + 1008, "xyz");
    jotx_buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(n_free, 1);
}

static void test_buf_cap(void **state)
{
    (void)state;
    jotx_buf_t b;
    jotx_buf_init(&b, NULL, 0, 10, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "123456", 6), JOTX_OK);
    /* 6 + 5 > 10: refused whole, nothing changes */
    assert_int_equal(jotx_buf_add(&b, "abcde", 5), JOTX_ETOOBIG);
    assert_true(b.toobig);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.p, "123456");
    /* sticky: even what would fit is refused now */
    assert_int_equal(jotx_buf_add(&b, "a", 1), JOTX_ETOOBIG);
    assert_null(jotx_buf_extend(&b, 1));
    assert_int_equal(jotx_buf_add(&b, NULL, 0), JOTX_ETOOBIG);
    assert_int_equal(jotx_buf_err(&b), JOTX_ETOOBIG);
    assert_int_equal(b.len, 6);
    /* the storage never exceeds what the cap can use */
    assert_true(b.cap <= 11);
    /* take after an error: NULL, and the buffer is released */
    assert_null(jotx_buf_take(&b, NULL));
    assert_null(b.p);
    assert_int_equal(n_free, n_malloc);
    /* the cap exactly */
    jotx_buf_init(&b, NULL, 0, 10, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "0123456789", 10), JOTX_OK);
    assert_int_equal(jotx_buf_err(&b), JOTX_OK);
    assert_int_equal(jotx_buf_add(&b, "x", 1), JOTX_ETOOBIG);
    jotx_buf_free(&b);
    /* a length that would overflow size_t is over any cap */
    jotx_buf_init(&b, NULL, 0, SIZE_MAX, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "x", 1), JOTX_OK);
    assert_null(jotx_buf_extend(&b, SIZE_MAX));
    assert_true(b.toobig);
    jotx_buf_free(&b);
    /* caller memory larger than the cap: the cap still holds (the inline path included) */
    char stack[16];
    jotx_buf_init(&b, stack, sizeof stack, 4, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "abcd", 4), JOTX_OK);
    assert_int_equal(jotx_buf_add(&b, "e", 1), JOTX_ETOOBIG);
    assert_int_equal(b.len, 4);
    assert_ptr_equal(b.p, stack);
    jotx_buf_free(&b);
    /* a cap of 0 takes nothing but the empty append */
    jotx_buf_init(&b, NULL, 0, 0, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, NULL, 0), JOTX_OK);
    assert_int_equal(jotx_buf_add(&b, "x", 1), JOTX_ETOOBIG);
    jotx_buf_free(&b);
    assert_int_equal(n_free, n_malloc);
}

static void test_buf_oom(void **state)
{
    (void)state;
    char stack[4];
    jotx_buf_t b;
    jotx_buf_init(&b, stack, sizeof stack, SIZE_MAX, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "abc", 3), JOTX_OK);
    refuse = true;
    assert_int_equal(jotx_buf_add(&b, "d", 1), JOTX_ENOMEM);
    assert_true(b.oom);
    refuse = false;
    /* sticky, contents kept */
    assert_int_equal(jotx_buf_add(&b, "d", 1), JOTX_ENOMEM);
    assert_string_equal(b.p, "abc");
    assert_int_equal(jotx_buf_err(&b), JOTX_ENOMEM);
    /* free clears the state: the buffer is usable again (on the heap) */
    jotx_buf_free(&b);
    assert_int_equal(jotx_buf_err(&b), JOTX_OK);
    assert_int_equal(jotx_buf_add(&b, "d", 1), JOTX_OK);
    assert_string_equal(b.p, "d");
    jotx_buf_free(&b);
    /* take when the copy out of the stack fails */
    jotx_buf_init(&b, stack, sizeof stack, SIZE_MAX, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "ab", 2), JOTX_OK);
    refuse = true;
    assert_null(jotx_buf_take(&b, NULL));
    refuse = false;
    assert_int_equal(n_free, n_malloc);
}

static void test_buf_wipe(void **state)
{
    (void)state;
    check_wiped = true;
    char stack[8];
    jotx_buf_t b;
    jotx_buf_init(&b, stack, sizeof stack, SIZE_MAX, true, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "secret!", 7), JOTX_OK);
    /* leaving the stack cleanses it */
    assert_int_equal(jotx_buf_add(&b, "?", 1), JOTX_OK);
    assert_true(b.heap);
    assert_true(all_zero(stack, sizeof stack));
    /* heap growth: a new block and the old one cleansed, never realloc */
    char big[2000];
    memset(big, 's', sizeof big);
    assert_int_equal(jotx_buf_add(&b, big, sizeof big), JOTX_OK);
    assert_int_equal(n_realloc, 0);
    assert_int_equal(n_malloc, 2);
    assert_int_equal(n_free, 1);
    assert_int_equal(memcmp(b.p, "secret!?", 8), 0);
    jotx_buf_free(&b);
    assert_int_equal(n_free, 2);
    assert_int_equal(n_dirty_free, 0);
    /* freed while still in caller memory: that memory is cleansed */
    jotx_buf_init(&b, stack, sizeof stack, SIZE_MAX, true, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "pw", 2), JOTX_OK);
    jotx_buf_free(&b);
    assert_true(all_zero(stack, sizeof stack));
    /* take out of caller memory: a heap copy, the stack cleansed */
    jotx_buf_init(&b, stack, sizeof stack, SIZE_MAX, true, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "key", 3), JOTX_OK);
    size_t len = 0;
    char *out = jotx_buf_take(&b, &len);
    assert_non_null(out);
    assert_int_equal(len, 3);
    assert_string_equal(out, "key");
    assert_true(all_zero(stack, sizeof stack));
    assert_null(b.p);
    t_free_cleansed(out);
    /* take from the heap hands the block over as it is */
    jotx_buf_init(&b, NULL, 0, SIZE_MAX, true, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "abc", 3), JOTX_OK);
    char *heap = b.p;
    out = jotx_buf_take(&b, NULL);
    assert_ptr_equal(out, heap);
    assert_string_equal(out, "abc");
    t_free_cleansed(out);
    assert_int_equal(n_dirty_free, 0);
    assert_int_equal(n_free, n_malloc);
    /* the negative control: without the flag, freed blocks keep their bytes */
    jotx_buf_init(&b, NULL, 0, SIZE_MAX, false, &t_alloc);
    assert_int_equal(jotx_buf_add(&b, "abc", 3), JOTX_OK);
    jotx_buf_free(&b);
    assert_int_equal(n_dirty_free, 1);
}

static void test_buf_null_and_empty(void **state)
{
    (void)state;
    jotx_buf_free(NULL);
    jotx_buf_t b;
    /* no caller memory, C library allocator */
    jotx_buf_init(&b, NULL, 0, 100, false, NULL);
    assert_null(b.p);
    assert_int_equal(jotx_buf_add(&b, NULL, 0), JOTX_OK);
    assert_null(b.p); /* nothing allocated for nothing */
    char *e = jotx_buf_extend(&b, 0);
    assert_non_null(e);
    assert_string_equal(b.p, "");
    assert_int_equal(b.len, 0);
    jotx_buf_free(&b);
    jotx_buf_free(&b); /* twice is fine */
    /* take of an empty buffer: "" */
    jotx_buf_init(&b, NULL, 0, 100, true, NULL);
    size_t len = 99;
    char *out = jotx_buf_take(&b, &len);
    assert_non_null(out);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    free(out);
    /* caller memory of size 0 counts as none */
    char one[1] = {'x'};
    jotx_buf_init(&b, one, 0, 100, false, NULL);
    assert_null(b.p);
    assert_int_equal(one[0], 'x');
    jotx_buf_free(&b);
    /* caller memory of one byte holds the NUL only */
    jotx_buf_init(&b, one, 1, 100, false, NULL);
    assert_string_equal(b.p, "");
    assert_int_equal(jotx_buf_add(&b, "a", 1), JOTX_OK);
    assert_true(b.heap);
    jotx_buf_free(&b);
}

static void test_free_secret(void **state)
{
    (void)state;
    jotx_free_secret(NULL); /* a no-op */
    char *s = jotx_strdup_n("a client secret", 15);
    assert_non_null(s);
    jotx_free_secret(s); /* freed (ASan/valgrind: no leak, no bad access) */
}

static void test_hex_digit(void **state)
{
    (void)state;
    assert_int_equal(jotx_hex_digit('0'), 0);
    assert_int_equal(jotx_hex_digit('9'), 9);
    assert_int_equal(jotx_hex_digit('a'), 10);
    assert_int_equal(jotx_hex_digit('F'), 15);
    const int bad[] = {'g', 'G', '/', ':', '@', '`', ' ', 0, -1, (char)0xe9, 0xe9};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jotx_hex_digit(bad[i]), -1);
}

/* ---- jotx_strdup_n ---------------------------------------------------------------------- */

static void test_strdup_n(void **state)
{
    (void)state;
    char *p = jotx_strdup_n("abcdef", 3);
    assert_non_null(p);
    assert_string_equal(p, "abc");
    free(p);
    p = jotx_strdup_n("a\0b", 3); /* embedded NUL kept: all n bytes, then a NUL */
    assert_non_null(p);
    assert_memory_equal(p, "a\0b\0", 4);
    free(p);
    p = jotx_strdup_n("", 0);
    assert_non_null(p);
    assert_string_equal(p, "");
    free(p);
    assert_null(jotx_strdup_n("x", SIZE_MAX)); /* n + 1 would wrap */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strdup_n),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_free_secret),
        cmocka_unit_test(test_u64_str),
        cmocka_unit_test(test_u64_advance),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_random_b64url),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test_setup(test_buf_stack_growth, buf_setup),
        cmocka_unit_test_setup(test_buf_cap, buf_setup),
        cmocka_unit_test_setup(test_buf_oom, buf_setup),
        cmocka_unit_test_setup(test_buf_wipe, buf_setup),
        cmocka_unit_test_setup(test_buf_null_and_empty, buf_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
