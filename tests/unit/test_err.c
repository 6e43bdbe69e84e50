/* Unit tests for lib/err.c, lib/alg.c and lib/mem.c: error table, algorithm names and
 * masks, constant-time compare, wiping and the allocator hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "internal.h"

/* ---- errors -------------------------------------------------------------------------------- */

/* The table, as the test sees it: the row's number, code, "JOT_" name, message. */
static const struct {
    int num;
    jot_err_t code;
    const char *name, *msg;
} err_table[] = {
#define TEST_ERR_ROW(num, name, msg) {num, JOT_##name, "JOT_" #name, msg},
    JOT_ERR_MAP(TEST_ERR_ROW)
#undef TEST_ERR_ROW
};
#define N_ERRS (sizeof err_table / sizeof err_table[0])

static void test_err_codes_dense_from_zero(void **state)
{
    (void)state;
    assert_int_equal(JOT_OK, 0);
    assert_int_equal(N_ERRS, JOT_ERR__LAST);
    for (size_t i = 0; i < N_ERRS; i++) {
        assert_int_equal(err_table[i].code, i);
        assert_int_equal(err_table[i].num, i); /* each row's written number is its place */
    }
    /* append-only: a few codes pinned to their published values */
    assert_int_equal(JOT_E_NOMEM, 1);
    assert_int_equal(JOT_E_INVAL, 2);
    assert_int_equal(JOT_E_SIGNATURE, 19);
    assert_int_equal(JOT_E_EXPIRED, 23);
    assert_int_equal(JOT_E_PAYLOAD, 38);
}

static void test_err_messages(void **state)
{
    (void)state;
    const char *unknown = jot_strerror(JOT_ERR__LAST);
    for (size_t i = 0; i < N_ERRS; i++) {
        const char *m = jot_strerror(err_table[i].code);
        assert_non_null(m);
        assert_true(m[0] != '\0');
        assert_string_equal(m, err_table[i].msg);
        assert_true(m != unknown && strcmp(m, unknown) != 0);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m, jot_strerror(err_table[j].code)) == 0)
                fail_msg("%s and %s share the message '%s'", err_table[i].name, err_table[j].name,
                         m);
    }
    assert_string_equal(jot_strerror(JOT_OK), "success");
    assert_string_equal(jot_strerror(JOT_E_EXPIRED), "token expired");
}

static void test_err_names(void **state)
{
    (void)state;
    const char *unknown = jot_err_name(JOT_ERR__LAST);
    for (size_t i = 0; i < N_ERRS; i++) {
        const char *n = jot_err_name(err_table[i].code);
        assert_non_null(n);
        assert_true(strncmp(n, "JOT_", 4) == 0);
        assert_true(strlen(n) > 4);
        assert_string_equal(n, err_table[i].name);
        assert_true(strcmp(n, unknown) != 0);
        for (size_t j = 0; j < i; j++)
            assert_true(strcmp(n, jot_err_name(err_table[j].code)) != 0);
    }
    assert_string_equal(jot_err_name(JOT_OK), "JOT_OK");
    assert_string_equal(jot_err_name(JOT_E_ALG_NONE), "JOT_E_ALG_NONE");
}

static void test_err_out_of_range(void **state)
{
    (void)state;
    const int bad[] = {JOT_ERR__LAST, JOT_ERR__LAST + 1, 1000, -1, 0x7fffffff, -0x7fffffff - 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *m = jot_strerror((jot_err_t)bad[i]);
        const char *n = jot_err_name((jot_err_t)bad[i]);
        assert_non_null(m);
        assert_non_null(n);
        assert_true(m[0] != '\0');
        assert_true(strncmp(n, "JOT_", 4) == 0);
        /* never the text of a real code */
        for (size_t j = 0; j < N_ERRS; j++) {
            assert_true(strcmp(m, err_table[j].msg) != 0);
            assert_true(strcmp(n, err_table[j].name) != 0);
        }
    }
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(jot_version_number(), JOT_VERSION_NUMBER);
    assert_int_equal(JOT_VERSION_NUMBER, 200);
    assert_string_equal(JOT_VERSION_STRING, "0.2.0");
    /* the number and the string are the same three parts */
    assert_int_equal(JOT_VERSION_NUMBER,
                     JOT_VERSION_MAJOR * 10000 + JOT_VERSION_MINOR * 100 + JOT_VERSION_PATCH);
    char s[32];
    snprintf(s, sizeof s, "%d.%d.%d", JOT_VERSION_MAJOR, JOT_VERSION_MINOR, JOT_VERSION_PATCH);
    assert_string_equal(JOT_VERSION_STRING, s);
}

/* ---- constant-time compare, wipe ---------------------------------------------------------- */

static void test_ct_equal(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (uint8_t)(i * 37 + 11);
    assert_int_equal(jot_ct_equal(a, b, sizeof a), 1);
    assert_int_equal(jot_ct_equal(a, a, sizeof a), 1);
    assert_int_equal(jot_ct_equal(a, b, 0), 1); /* empty buffers are equal */
    assert_int_equal(jot_ct_equal(NULL, NULL, 0), 1);
    /* every single-bit difference in every position is seen, and the result is exactly 0 */
    for (size_t i = 0; i < sizeof a; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] = (uint8_t)(a[i] ^ (1u << bit));
            assert_int_equal(jot_ct_equal(a, b, sizeof a), 0);
            assert_int_equal(jot_ct_equal(b, a, sizeof a), 0);
            /* a difference past len is not looked at */
            assert_int_equal(jot_ct_equal(a, b, i), 1);
            assert_int_equal(jot_ct_equal(a, b, i + 1), 0);
            b[i] = a[i];
        }
    }
    /* all bytes different; one equal byte among different ones */
    memset(a, 0x00, sizeof a);
    memset(b, 0xff, sizeof b);
    assert_int_equal(jot_ct_equal(a, b, sizeof a), 0);
    assert_int_equal(jot_ct_equal(a, b, 1), 0);
    b[0] = 0;
    assert_int_equal(jot_ct_equal(a, b, 1), 1);
    assert_int_equal(jot_ct_equal(a, b, 2), 0);
    /* truth table on single bytes */
    for (unsigned x = 0; x < 256; x++) {
        for (unsigned y = 0; y < 256; y += 17) {
            uint8_t bx = (uint8_t)x, by = (uint8_t)y;
            assert_int_equal(jot_ct_equal(&bx, &by, 1), x == y ? 1 : 0);
        }
    }
}

static void test_memzero(void **state)
{
    (void)state;
    uint8_t buf[40];
    memset(buf, 0xa5, sizeof buf);
    jot_memzero(buf + 4, 32);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], i < 4 || i >= 36 ? 0xa5 : 0x00);
    jot_memzero(NULL, 10); /* no-op */
    jot_memzero(buf, 0);
    assert_int_equal(buf[0], 0xa5);
}

/* ---- algorithms -------------------------------------------------------------------------- */

static const struct {
    jot_alg_t alg;
    const char *name;
} algs[] = {
    {JOT_ALG_HS256, "HS256"},   {JOT_ALG_HS384, "HS384"}, {JOT_ALG_HS512, "HS512"},
    {JOT_ALG_RS256, "RS256"},   {JOT_ALG_RS384, "RS384"}, {JOT_ALG_RS512, "RS512"},
    {JOT_ALG_PS256, "PS256"},   {JOT_ALG_PS384, "PS384"}, {JOT_ALG_PS512, "PS512"},
    {JOT_ALG_ES256, "ES256"},   {JOT_ALG_ES384, "ES384"}, {JOT_ALG_ES512, "ES512"},
    {JOT_ALG_ES256K, "ES256K"}, {JOT_ALG_EDDSA, "EdDSA"},
};
#define N_ALGS (sizeof algs / sizeof algs[0])

static void test_alg_names(void **state)
{
    (void)state;
    assert_int_equal(N_ALGS, JOT_ALG__COUNT - 1);
    /* append-only: the published values (also the bits of JOT_ALG_BIT() masks) */
    assert_int_equal(JOT_ALG_HS256, 1);
    assert_int_equal(JOT_ALG_RS256, 4);
    assert_int_equal(JOT_ALG_ES256, 10);
    assert_int_equal(JOT_ALG_EDDSA, 14);
    for (size_t i = 0; i < N_ALGS; i++)
        assert_int_equal(algs[i].alg, i + 1);
    for (size_t i = 0; i < N_ALGS; i++) {
        assert_string_equal(jot_alg_name(algs[i].alg), algs[i].name);
        jot_alg_t got = JOT_ALG_UNSET;
        assert_rc(jot_alg_from_name(algs[i].name, strlen(algs[i].name), &got), JOT_OK);
        assert_int_equal(got, algs[i].alg);
        const jot_alg_info_t *ai = jot__alg_info(algs[i].alg);
        assert_non_null(ai);
        assert_int_equal(ai->alg, algs[i].alg);
        assert_string_equal(ai->name, algs[i].name);
    }
    assert_string_equal(jot_alg_name(JOT_ALG_UNSET), "");
    assert_string_equal(jot_alg_name(JOT_ALG__COUNT), "");
    assert_string_equal(jot_alg_name((jot_alg_t)-1), "");
    assert_string_equal(jot_alg_name((jot_alg_t)1000), "");
    assert_null(jot__alg_info(JOT_ALG_UNSET));
    assert_null(jot__alg_info(JOT_ALG__COUNT));
    assert_null(jot__alg_info((jot_alg_t)-1));
}

/* What each algorithm binds a key to: the table is security-relevant. */
static void test_alg_table_bindings(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ALGS; i++) {
        const jot_alg_info_t *ai = jot__alg_info(algs[i].alg);
        const char *n = algs[i].name;
        size_t bits = n[0] == 'E' && n[1] == 'd' ? 0 : (size_t)(n[2] - '0') * 100;
        switch (n[0]) {
        case 'H':
            assert_int_equal(ai->family, JOT_FAM_HMAC);
            assert_int_equal(ai->kty, JOT_KTY_OCT);
            assert_int_equal(ai->sig_len, ai->hash_len);
            break;
        case 'R':
            assert_int_equal(ai->family, JOT_FAM_RSA_PKCS1);
            assert_int_equal(ai->kty, JOT_KTY_RSA);
            break;
        case 'P':
            assert_int_equal(ai->family, JOT_FAM_RSA_PSS);
            assert_int_equal(ai->kty, JOT_KTY_RSA);
            break;
        case 'E':
            if (ai->alg == JOT_ALG_EDDSA) {
                assert_int_equal(ai->family, JOT_FAM_EDDSA);
                assert_int_equal(ai->kty, JOT_KTY_OKP);
                assert_null(ai->md_name);
            } else {
                assert_int_equal(ai->family, JOT_FAM_ECDSA);
                assert_int_equal(ai->kty, JOT_KTY_EC);
                assert_int_equal(ai->sig_len, 2 * jot__crv_coord_len(ai->crv));
            }
            break;
        default:
            fail();
        }
        if (bits) {
            /* 256 -> 32 bytes, 384 -> 48, 512 -> 64; SHA-2 digest of that size */
            size_t hb = bits == 200 ? 32 : bits == 300 ? 48 : 64;
            assert_int_equal(ai->hash_len, hb);
            char md[8];
            snprintf(md, sizeof md, "SHA%zu", hb * 8);
            assert_string_equal(ai->md_name, md);
        }
    }
    assert_int_equal(jot__alg_info(JOT_ALG_ES256)->crv, JOT_CRV_P256);
    assert_int_equal(jot__alg_info(JOT_ALG_ES384)->crv, JOT_CRV_P384);
    assert_int_equal(jot__alg_info(JOT_ALG_ES512)->crv, JOT_CRV_P521);
    assert_int_equal(jot__alg_info(JOT_ALG_ES256K)->crv, JOT_CRV_SECP256K1);
    assert_int_equal(jot__alg_info(JOT_ALG_ES512)->sig_len, 132);
}

static void test_alg_from_name_rejects(void **state)
{
    (void)state;
    jot_alg_t got = JOT_ALG_ES256;
    /* "none" is its own error, whatever the caller allows */
    assert_rc(jot_alg_from_name("none", 4, &got), JOT_E_ALG_NONE);
    /* case variants and look-alikes are unknown, never aliases */
    const char *unknown[] = {"None",  "NONE",   "nOne",    "none ",  " none",  "hs256",  "Hs256",
                             "hS256", "HS256 ", " HS256",  "HS2560", "HS25",   "HS",     "eddsa",
                             "EDDSA", "Eddsa",  "Ed25519", "ES256k", "es256k", "RS1",    "HS1",
                             "RSA",   "ES",     "PS256\n", "",       "HMAC",   "RS256,", "ES256K1"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        jot_err_t rc = jot_alg_from_name(unknown[i], strlen(unknown[i]), &got);
        if (rc != JOT_E_ALG_UNKNOWN)
            fail_msg("alg '%s': got %s, want JOT_E_ALG_UNKNOWN", unknown[i], jot_err_name(rc));
    }
    /* lengths are honoured: embedded NUL, prefix, longer input */
    assert_rc(jot_alg_from_name("HS256\0", 6, &got), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_alg_from_name("none\0", 5, &got), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_alg_from_name("non", 3, &got), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_alg_from_name("HS256", 4, &got), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_alg_from_name("ES256K", 5, &got), JOT_OK); /* "ES256" */
    assert_int_equal(got, JOT_ALG_ES256);
    got = JOT_ALG_ES384;
    assert_rc(jot_alg_from_name("nonex", 4, &got), JOT_E_ALG_NONE);
    assert_rc(jot_alg_from_name("HS256xyz", 5, &got), JOT_OK);
    assert_int_equal(got, JOT_ALG_HS256);
    /* failures leave the output alone */
    got = JOT_ALG_PS512;
    assert_rc(jot_alg_from_name("x", 1, &got), JOT_E_ALG_UNKNOWN);
    assert_rc(jot_alg_from_name("none", 4, &got), JOT_E_ALG_NONE);
    assert_int_equal(got, JOT_ALG_PS512);
    assert_rc(jot_alg_from_name(NULL, 5, &got), JOT_E_INVAL);
}

static void test_alg_mask_from_list(void **state)
{
    (void)state;
    unsigned mask = 0;
    assert_rc(jot_alg_mask_from_list("HS256", &mask), JOT_OK);
    assert_int_equal(mask, JOT_ALG_BIT(JOT_ALG_HS256));
    assert_rc(jot_alg_mask_from_list("RS256,ES256", &mask), JOT_OK);
    assert_int_equal(mask, JOT_ALG_BIT(JOT_ALG_RS256) | JOT_ALG_BIT(JOT_ALG_ES256));
    assert_rc(jot_alg_mask_from_list("EdDSA,HS256,HS256", &mask), JOT_OK);
    assert_int_equal(mask, JOT_ALG_BIT(JOT_ALG_EDDSA) | JOT_ALG_BIT(JOT_ALG_HS256));
    /* every name at once: every bit but UNSET's */
    char all[128] = "";
    size_t o = 0;
    for (size_t i = 0; i < N_ALGS; i++) {
        size_t n = strlen(algs[i].name);
        if (i)
            all[o++] = ',';
        memcpy(all + o, algs[i].name, n);
        o += n;
    }
    all[o] = '\0';
    assert_rc(jot_alg_mask_from_list(all, &mask), JOT_OK);
    assert_int_equal(mask, JOT_ALG_BIT(JOT_ALG__COUNT) - 2u);
    assert_int_equal(mask & JOT_ALG_BIT(JOT_ALG_UNSET), 0);

    /* rejections leave the mask alone */
    const struct {
        const char *list;
        jot_err_t want;
    } bad[] = {
        {"", JOT_E_ALG_UNKNOWN},
        {",", JOT_E_ALG_UNKNOWN},
        {"RS256,", JOT_E_ALG_UNKNOWN},
        {",RS256", JOT_E_ALG_UNKNOWN},
        {"RS256,,ES256", JOT_E_ALG_UNKNOWN},
        {"RS256, ES256", JOT_E_ALG_UNKNOWN},
        {"RS256 ,ES256", JOT_E_ALG_UNKNOWN},
        {"rs256", JOT_E_ALG_UNKNOWN},
        {"RS256;ES256", JOT_E_ALG_UNKNOWN},
        {"none", JOT_E_ALG_NONE},
        {"RS256,none", JOT_E_ALG_NONE},
        {"none,RS256", JOT_E_ALG_NONE},
        {"RS256,None", JOT_E_ALG_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mask = 0x5a5a;
        jot_err_t rc = jot_alg_mask_from_list(bad[i].list, &mask);
        if (rc != bad[i].want)
            fail_msg("mask '%s': got %s, want %s", bad[i].list, jot_err_name(rc),
                     jot_err_name(bad[i].want));
        assert_int_equal(mask, 0x5a5a);
    }
    assert_rc(jot_alg_mask_from_list(NULL, &mask), JOT_E_INVAL);
}

static void test_curves(void **state)
{
    (void)state;
    const struct {
        jot_crv_t crv;
        const char *name;
        size_t len;
    } crvs[] = {{JOT_CRV_P256, "P-256", 32},      {JOT_CRV_P384, "P-384", 48},
                {JOT_CRV_P521, "P-521", 66},      {JOT_CRV_SECP256K1, "secp256k1", 32},
                {JOT_CRV_ED25519, "Ed25519", 32}, {JOT_CRV_ED448, "Ed448", 57}};
    for (size_t i = 0; i < sizeof crvs / sizeof crvs[0]; i++) {
        assert_string_equal(jot__crv_name(crvs[i].crv), crvs[i].name);
        assert_int_equal(jot__crv_from_name(crvs[i].name, strlen(crvs[i].name)), crvs[i].crv);
        assert_int_equal(jot__crv_coord_len(crvs[i].crv), crvs[i].len);
    }
    assert_null(jot__crv_name(JOT_CRV_NONE));
    assert_int_equal(jot__crv_coord_len(JOT_CRV_NONE), 0);
    const char *bad[] = {"p-256", "P256", "P-256 ", "prime256v1", "ed25519", "X25519", "", "P-2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jot__crv_from_name(bad[i], strlen(bad[i])), JOT_CRV_NONE);
    assert_int_equal(jot__crv_from_name("P-256x", 5), JOT_CRV_P256);
}

/* ---- allocator ------------------------------------------------------------------------------ */

static size_t n_malloc, n_realloc, n_free;

static void *count_malloc(size_t n)
{
    n_malloc++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n)
{
    n_realloc++;
    return realloc(p, n);
}

static void count_free(void *p)
{
    if (p)
        n_free++;
    free(p);
}

static void *null_malloc(size_t n)
{
    (void)n;
    return NULL;
}

static void test_allocator_hook(void **state)
{
    (void)state;
    n_malloc = n_realloc = n_free = 0;
    jot_set_allocator(count_malloc, count_realloc, count_free);
    char *s = jot__strdup("hello");
    assert_string_equal(s, "hello");
    assert_int_equal(n_malloc, 1);
    s = jot__realloc(s, 64);
    assert_non_null(s);
    assert_int_equal(n_realloc, 1);
    jot_free(s);
    jot_free(NULL); /* not passed on */
    assert_int_equal(n_free, 1);
    /* JSON trees go through the hook too */
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_from_json("{\"a\":[1,2]}", 11, &c), JOT_OK);
    jot_claims_free(c);
    assert_true(n_malloc > 2);
    assert_int_equal(n_malloc, n_free);

    /* a partial set restores the defaults */
    jot_set_allocator(count_malloc, NULL, count_free);
    size_t before = n_malloc;
    jot_free(jot__strdup("x"));
    assert_int_equal(n_malloc, before);
    jot_set_allocator(NULL, NULL, NULL);
    jot_free(jot__strdup("x"));
    assert_int_equal(n_malloc, before);
}

static void test_allocator_failure(void **state)
{
    (void)state;
    jot_set_allocator(null_malloc, count_realloc, count_free);
    assert_null(jot__malloc(1));
    assert_null(jot__strdup("x"));
    assert_null(jot__calloc(2, 2));
    jot_claims_t *c = NULL;
    assert_rc(jot_claims_new(&c), JOT_E_NOMEM);
    assert_null(c);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_rc(jot__b64url_decode_alloc("QQ", 2, &buf, &len), JOT_E_NOMEM);
    char *enc = NULL;
    assert_rc(jot__b64url_encode_alloc((const uint8_t *)"A", 1, &enc, &len), JOT_E_NOMEM);
    jot_set_allocator(NULL, NULL, NULL);
}

static void test_mem_helpers(void **state)
{
    (void)state;
    /* calloc: zeroed, and refuses a size that overflows */
    uint8_t *p = jot__calloc(16, 4);
    assert_non_null(p);
    for (size_t i = 0; i < 64; i++)
        assert_int_equal(p[i], 0);
    jot_free(p);
    assert_null(jot__calloc(SIZE_MAX / 2 + 1, 2));
    assert_null(jot__calloc(SIZE_MAX, SIZE_MAX));
    /* zero-sized allocations return something freeable */
    p = jot__malloc(0);
    assert_non_null(p);
    jot_free(p);
    p = jot__calloc(0, 8);
    assert_non_null(p);
    jot_free(p);
    /* strndup copies exactly n bytes and terminates */
    char *s = jot__strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    jot_free(s);
    s = jot__strndup("a\0b", 3);
    assert_memory_equal(s, "a\0b\0", 4);
    jot_free(s);
    assert_null(jot__strndup("x", SIZE_MAX));
    /* free_secret accepts NULL */
    jot__free_secret(NULL, 10);
    s = jot__strdup("secret");
    jot__free_secret(s, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_codes_dense_from_zero),
        cmocka_unit_test(test_err_messages),
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_err_out_of_range),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_memzero),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_alg_table_bindings),
        cmocka_unit_test(test_alg_from_name_rejects),
        cmocka_unit_test(test_alg_mask_from_list),
        cmocka_unit_test(test_curves),
        cmocka_unit_test(test_allocator_hook),
        cmocka_unit_test(test_allocator_failure),
        cmocka_unit_test(test_mem_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
