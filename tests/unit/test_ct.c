/* Constant-time check of the MAC and secret comparisons (STYLE.md rule 11), in the ctgrind
 * manner: the secret bytes are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, so that
 * memcheck reports "Conditional jump or move depends on uninitialised value(s)" wherever the
 * code branches (or indexes memory) on them. Run under valgrind by the CTest test valgrind.ct
 * (--error-exitcode=1): any such report fails it. Outside valgrind the client requests do
 * nothing and this is a plain functional test (unit.test_ct).
 *
 * Secrets here: the MAC key, the tag the library computes from it, and both inputs of
 * jot_ct_equal(). The one value that may be public is the verdict (equal or not, valid or
 * not): a function wrapper around jot_ct_equal() (valgrind's I_WRAP_SONAME_FNNAME_ZU) marks
 * its result defined as it returns, so that jot__hmac_verify() may branch on the verdict but
 * on nothing else secret, and counts the calls, which proves the verify path went through
 * jot_ct_equal().
 *
 * `test_ct --leaky` runs deliberately leaky comparisons (memcmp(), an early-exit loop) on
 * the same kind of secrets instead; valgrind.ct.negative asserts that memcheck flags them,
 * so the check above is known to be able to fail. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include "test.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#define RUNNING_ON_VALGRIND 0
#endif

/* secret: memcheck treats the bytes as unknown; public: known again. */
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

/* ---- the jot_ct_equal() wrapper (active under valgrind only) ------------------------- */
static unsigned long ct_equal_calls;

#ifdef HAVE_VALGRIND
/* Valgrind redirects every call of jot_ct_equal in the main executable ("NONE": no soname;
 * the tests link the static library) here. The wrapper calls the real function, counts the
 * call and declassifies the verdict: comparing secrets must not branch, but its outcome is
 * what the caller is allowed to act on. */
int I_WRAP_SONAME_FNNAME_ZU(NONE, jot_ct_equal)(const void *a, const void *b, size_t len);
int I_WRAP_SONAME_FNNAME_ZU(NONE, jot_ct_equal)(const void *a, const void *b, size_t len)
{
    OrigFn fn;
    int r;
    VALGRIND_GET_ORIG_FN(fn);
    CALL_FN_W_WWW(r, fn, a, b, len);
    ct_equal_calls++;
    PUBLIC(&r, sizeof r);
    return r;
}
#endif

/* Calls of jot_ct_equal() seen by the wrapper since \p before; checked under valgrind only
 * (natively the wrapper does not exist and the count stays 0). */
static void assert_ct_equal_called(unsigned long before)
{
    if (RUNNING_ON_VALGRIND)
        assert_true(ct_equal_calls > before);
}

/* Deterministic, distinct filler for keys and messages. */
static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 131u * i + (i >> 3));
}

/* ---- jot_ct_equal itself --------------------------------------------------------------- */

/* Compare secret buffers that are equal, or differ at the first, a middle or the last byte
 * (an early exit would show as a branch on the secret). */
static void test_ct_equal_secret_inputs(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 2, 16, 31, 32, 48, 64, 65, 256};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        uint8_t a[256], b[256];
        fill(a, n, 7);
        size_t where[] = {n, 0, n / 2, n - 1}; /* n: no difference */
        for (size_t wi = 0; wi < sizeof where / sizeof where[0]; wi++) {
            memcpy(b, a, n);
            if (where[wi] < n)
                b[where[wi]] ^= 0x80;
            SECRET(a, n);
            SECRET(b, n);
            unsigned long before = ct_equal_calls;
            int eq = jot_ct_equal(a, b, n);
            PUBLIC(&eq, sizeof eq); /* the verdict is public (and already is under the wrapper) */
            assert_ct_equal_called(before);
            PUBLIC(a, n);
            PUBLIC(b, n);
            assert_int_equal(eq, where[wi] == n);
        }
    }
    /* the empty comparison is equal and reads nothing */
    assert_int_equal(jot_ct_equal("", "", 0), 1);
}

/* ---- the HMAC back end: key, computed tag and presented tag are all secret -------------- */

static void hmac_case(jot_alg_t alg)
{
    const jot_alg_info_t *ai = jot__alg_info(alg);
    assert_non_null(ai);
    assert_int_equal(ai->family, JOT_FAM_HMAC);
    size_t hl = ai->hash_len;

    uint8_t key[128], data[300], tag[EVP_MAX_MD_SIZE], bad[EVP_MAX_MD_SIZE];
    size_t key_lens[] = {hl, 2 * hl, sizeof key}; /* the longest is hashed first by HMAC */
    for (size_t ki = 0; ki < sizeof key_lens / sizeof key_lens[0]; ki++) {
        size_t kl = key_lens[ki];
        fill(key, kl, (uint8_t)(alg + ki));
        fill(data, sizeof data, 3);
        SECRET(key, kl);

        /* the tag the library computes from the secret key is secret too */
        assert_int_equal(jot__hmac_sign(ai, key, kl, data, sizeof data, tag), JOT_OK);

        /* right tag: valid; the verdict came from jot_ct_equal */
        unsigned long before = ct_equal_calls;
        jot_err_t rc = jot__hmac_verify(ai, key, kl, data, sizeof data, tag, hl);
        assert_ct_equal_called(before);
        assert_int_equal(rc, JOT_OK);

        /* a tag differing in its first, a middle or its last byte: invalid, and with no
         * branch on where the difference is */
        size_t flips[] = {0, hl / 2, hl - 1};
        for (size_t fi = 0; fi < sizeof flips / sizeof flips[0]; fi++) {
            memcpy(bad, tag, hl);
            bad[flips[fi]] ^= 0x01;
            before = ct_equal_calls;
            rc = jot__hmac_verify(ai, key, kl, data, sizeof data, bad, hl);
            assert_ct_equal_called(before);
            assert_int_equal(rc, JOT_E_SIGNATURE);
        }

        /* an unrelated tag, secret as presented */
        fill(bad, hl, 0x5a);
        SECRET(bad, hl);
        rc = jot__hmac_verify(ai, key, kl, data, sizeof data, bad, hl);
        assert_int_equal(rc, JOT_E_SIGNATURE);

        /* the wrong length is refused on its (public) length alone */
        rc = jot__hmac_verify(ai, key, kl, data, sizeof data, tag, hl - 1);
        assert_int_equal(rc, JOT_E_SIGNATURE);

        PUBLIC(tag, hl);
        PUBLIC(key, kl);
    }
}

static void test_hmac_verify_hs256(void **state)
{
    (void)state;
    hmac_case(JOT_ALG_HS256);
}

static void test_hmac_verify_hs384(void **state)
{
    (void)state;
    hmac_case(JOT_ALG_HS384);
}

static void test_hmac_verify_hs512(void **state)
{
    (void)state;
    hmac_case(JOT_ALG_HS512);
}

/* ---- the public verify path: a JWS whose HMAC key is secret ---------------------------- */

/* jot_jws_verify() with a key whose bytes are secret: parsing, key selection, alg binding
 * and the MAC check must not branch on the key (the token itself is public). */
static void test_jws_verify_secret_key(void **state)
{
    (void)state;
    static const char jwk[] = "{\"kty\":\"oct\",\"alg\":\"HS256\","
                              "\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75"
                              "aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}";
    jot_key_t *key = NULL;
    assert_int_equal(jot_key_from_jwk(jwk, sizeof jwk - 1, &key), JOT_OK);
    static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    static const char payload[] = "{\"sub\":\"alice\",\"exp\":4102444800}";
    char *tok = NULL;
    size_t tok_len = 0;
    assert_int_equal(jot_jws_sign(key, JOT_ALG_HS256, hdr, sizeof hdr - 1, (const uint8_t *)payload,
                                  sizeof payload - 1, &tok, &tok_len),
                     JOT_OK);

    jot_verifier_t *v = NULL;
    assert_int_equal(jot_verifier_new(&v), JOT_OK);
    jot_verifier_set_key(v, key);
    jot_verifier_set_algs(v, JOT_ALG_BIT(JOT_ALG_HS256));

    SECRET(key->oct, key->oct_len);
    unsigned long before = ct_equal_calls;
    jot_token_t *t = NULL;
    assert_int_equal(jot_jws_verify(v, tok, tok_len, &t), JOT_OK);
    assert_ct_equal_called(before);
    jot_token_free(t);

    /* the last signature character changed: rejected, again without a secret branch */
    char *last = &tok[tok_len - 1];
    *last = *last == 'A' ? 'Q' : 'A';
    before = ct_equal_calls;
    t = NULL;
    assert_int_equal(jot_jws_verify(v, tok, tok_len, &t), JOT_E_SIGNATURE);
    assert_ct_equal_called(before);
    assert_null(t);
    PUBLIC(key->oct, key->oct_len);

    jot_verifier_free(v);
    jot_free(tok);
    jot_key_free(key);
}

/* ---- --leaky: what the check must catch ------------------------------------------------ */

/* An early-exit comparison, as a careless implementation would write it. */
static int leaky_loop_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Compares secret buffers with memcmp() and with an early-exit loop. Natively it prints the
 * verdicts and exits 0; under valgrind memcheck must report a conditional jump on
 * uninitialised values (valgrind.ct.negative asserts that it does). */
static int run_leaky(void)
{
    /* through a volatile pointer, so that the compiler cannot fold the calls away */
    int (*volatile cmp)(const void *, const void *, size_t) = memcmp;
    int (*volatile loop)(const uint8_t *, const uint8_t *, size_t) = leaky_loop_equal;
    uint8_t a[32], b[32];
    fill(a, sizeof a, 1);
    memcpy(b, a, sizeof b);
    b[20] ^= 1;
    SECRET(a, sizeof a);
    SECRET(b, sizeof b);
    int r1 = cmp(a, b, sizeof a) == 0;
    int r2 = loop(a, b, sizeof a);
    PUBLIC(&r1, sizeof r1);
    PUBLIC(&r2, sizeof r2);
    printf("leaky memcmp equal=%d, leaky loop equal=%d (valgrind must flag both)\n", r1, r2);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--leaky") == 0)
        return run_leaky();
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--leaky]\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_equal_secret_inputs), cmocka_unit_test(test_hmac_verify_hs256),
        cmocka_unit_test(test_hmac_verify_hs384),      cmocka_unit_test(test_hmac_verify_hs512),
        cmocka_unit_test(test_jws_verify_secret_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
