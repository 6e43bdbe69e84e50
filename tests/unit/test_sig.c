/* Signature back ends (alg_hmac.c, alg_rsa.c, alg_ec.c, alg_eddsa.c) through the dispatch in
 * sig.c: round trips for every algorithm, the rejections every verifier owes (tampered
 * signature or data, wrong length, ECDSA r/s out of range, wrong key type or curve, weak HMAC
 * key, public key used to sign), known answers, interop with plain OpenSSL, OOM behaviour. */
#include "internal.h"

/* white-box: der_sig(), in_range() and the group order table of the ECDSA back end. The
 * static library's copy of alg_ec.o is then not linked in: this one takes its place. */
#include "alg_ec.c"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* ---- key pool, generated once ------------------------------------------------------- */
enum {
    K_HS256, /* 32-byte oct */
    K_HS384, /* 48-byte oct */
    K_HS512, /* 64-byte oct */
    K_RSA,
    K_P256,
    K_P384,
    K_P521,
    K_K256,
    K_ED25519,
    K_ED448,
    K__COUNT
};

static jot_key_t *pool[K__COUNT];     /* private keys */
static jot_key_t *pool_pub[K__COUNT]; /* public halves (NULL for oct) */

static const uint8_t msg[] = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLCJleHAiOjEzMDA4MTkzODB9";
#define MSG_LEN (sizeof msg - 1)

static jot_key_t *oct_key(size_t n)
{
    jot_key_t *k = jot__key_alloc(JOT_KTY_OCT);
    assert_non_null(k);
    k->oct = jot__malloc(n);
    assert_non_null(k->oct);
    assert_int_equal(RAND_bytes(k->oct, (int)n), 1);
    k->oct_len = n;
    k->has_private = true;
    k->bits = (unsigned)(n * 8);
    return k;
}

static jot_key_t *wrap(EVP_PKEY *pkey)
{
    assert_non_null(pkey);
    jot_key_t *k = NULL;
    assert_int_equal(jot__key_from_pkey(pkey, &k), JOT_OK);
    return k;
}

static jot_key_t *public_of(const jot_key_t *k)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    assert_true(n > 0);
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    jot_key_t *out = wrap(pub);
    assert_false(out->has_private);
    return out;
}

static int pool_setup(void **state)
{
    (void)state;
    pool[K_HS256] = oct_key(32);
    pool[K_HS384] = oct_key(48);
    pool[K_HS512] = oct_key(64);
    pool[K_RSA] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
    pool[K_P256] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    pool[K_P384] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
    pool[K_P521] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));
    pool[K_K256] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1"));
    pool[K_ED25519] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
    pool[K_ED448] = wrap(EVP_PKEY_Q_keygen(NULL, NULL, "ED448"));
    for (int i = K_RSA; i < K__COUNT; i++) {
        assert_true(pool[i]->has_private);
        pool_pub[i] = public_of(pool[i]);
    }
    return 0;
}

static int pool_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < K__COUNT; i++) {
        jot_key_free(pool[i]);
        jot_key_free(pool_pub[i]);
        pool[i] = pool_pub[i] = NULL;
    }
    return 0;
}

/* ---- per-algorithm cases ------------------------------------------------------------ */
typedef struct sig_case {
    const char *name;
    jot_alg_t alg;
    int key;        /* pool index of the right key */
    size_t sig_len; /* expected signature length */
    int nid;        /* ECDSA curve, for r/s manipulation; 0 otherwise */
} sig_case_t;

static sig_case_t cases[] = {
    {"HS256", JOT_ALG_HS256, K_HS256, 32, 0},
    {"HS384", JOT_ALG_HS384, K_HS384, 48, 0},
    {"HS512", JOT_ALG_HS512, K_HS512, 64, 0},
    {"RS256", JOT_ALG_RS256, K_RSA, 256, 0},
    {"RS384", JOT_ALG_RS384, K_RSA, 256, 0},
    {"RS512", JOT_ALG_RS512, K_RSA, 256, 0},
    {"PS256", JOT_ALG_PS256, K_RSA, 256, 0},
    {"PS384", JOT_ALG_PS384, K_RSA, 256, 0},
    {"PS512", JOT_ALG_PS512, K_RSA, 256, 0},
    {"ES256", JOT_ALG_ES256, K_P256, 64, NID_X9_62_prime256v1},
    {"ES384", JOT_ALG_ES384, K_P384, 96, NID_secp384r1},
    {"ES512", JOT_ALG_ES512, K_P521, 132, NID_secp521r1},
    {"ES256K", JOT_ALG_ES256K, K_K256, 64, NID_secp256k1},
    {"EdDSA/Ed25519", JOT_ALG_EDDSA, K_ED25519, 64, 0},
    {"EdDSA/Ed448", JOT_ALG_EDDSA, K_ED448, 114, 0},
};

/* Verify \p sig of \p len bytes (copied so that a read past the end is caught by ASan). */
static jot_err_t verify_copy(jot_alg_t alg, const jot_key_t *key, const uint8_t *data, size_t dlen,
                             const uint8_t *sig, size_t len)
{
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len) {
        assert_non_null(copy);
        memcpy(copy, sig, len);
    }
    jot_err_t rc = jot__sig_verify(alg, key, data, dlen, copy, len);
    free(copy);
    assert_int_equal(ERR_peek_error(), 0); /* nothing left on OpenSSL's error queue */
    return rc;
}

/* Sign, verify (with the private key and with its public half), then every rejection. */
static void test_roundtrip(void **state)
{
    const sig_case_t *c = *state;
    const jot_key_t *key = pool[c->key];
    uint8_t *sig = NULL;
    size_t len = 0;
    assert_int_equal(jot__sig_sign(c->alg, key, msg, MSG_LEN, &sig, &len), JOT_OK);
    assert_non_null(sig);
    assert_int_equal(len, c->sig_len);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, sig, len), JOT_OK);
    if (pool_pub[c->key]) {
        assert_int_equal(jot__sig_verify(c->alg, pool_pub[c->key], msg, MSG_LEN, sig, len), JOT_OK);
        /* a public key cannot sign */
        uint8_t *none = NULL;
        size_t none_len = 0;
        assert_int_equal(jot__sig_sign(c->alg, pool_pub[c->key], msg, MSG_LEN, &none, &none_len),
                         JOT_E_KEY_PRIVATE_NEEDED);
        assert_null(none);
    }

    /* any flipped bit in the signature: first, second, middle and last byte, high and low */
    uint8_t *bad = malloc(len + 1);
    assert_non_null(bad);
    const size_t positions[] = {0, 1, len / 2, len - 1};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        for (unsigned bit = 0; bit < 8; bit += 7) {
            memcpy(bad, sig, len);
            bad[positions[i]] ^= (uint8_t)(1u << bit);
            assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
        }
    }
    /* any flipped bit in the data */
    uint8_t data[sizeof msg];
    for (size_t i = 0; i < MSG_LEN; i += MSG_LEN - 1) {
        memcpy(data, msg, sizeof msg);
        data[i] ^= 0x01;
        assert_int_equal(jot__sig_verify(c->alg, key, data, MSG_LEN, sig, len), JOT_E_SIGNATURE);
    }
    /* other data lengths: one byte less, empty */
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN - 1, sig, len), JOT_E_SIGNATURE);
    assert_int_equal(jot__sig_verify(c->alg, key, NULL, 0, sig, len), JOT_E_SIGNATURE);
    /* truncated, one byte dropped at the front, one extra byte (zero or not), empty */
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, sig, len - 1), JOT_E_SIGNATURE);
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, sig + 1, len - 1), JOT_E_SIGNATURE);
    memcpy(bad, sig, len);
    bad[len] = 0x00;
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, bad, len + 1), JOT_E_SIGNATURE);
    bad[len] = 0x5a;
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, bad, len + 1), JOT_E_SIGNATURE);
    bad[0] = 0x00; /* a leading zero in front of the whole signature */
    memcpy(bad + 1, sig, len);
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, bad, len + 1), JOT_E_SIGNATURE);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, NULL, 0), JOT_E_SIGNATURE);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, sig, 0), JOT_E_SIGNATURE);
    /* all zeros and all ones of the right length */
    memset(bad, 0, len);
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    memset(bad, 0xff, len);
    assert_int_equal(verify_copy(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    free(bad);

    /* a second signature verifies too (ECDSA, PSS: randomised; the rest: identical) */
    uint8_t *sig2 = NULL;
    size_t len2 = 0;
    assert_int_equal(jot__sig_sign(c->alg, key, msg, MSG_LEN, &sig2, &len2), JOT_OK);
    assert_int_equal(len2, len);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, sig2, len2), JOT_OK);
    int deterministic = c->alg <= JOT_ALG_RS512 || c->alg == JOT_ALG_EDDSA;
    assert_int_equal(memcmp(sig, sig2, len) == 0, deterministic);
    jot_free(sig2);
    jot_free(sig);
    assert_int_equal(ERR_peek_error(), 0);
}

/* Every key of another type (or another curve, for ECDSA) is refused for signing and
 * verifying, before any signature is looked at. */
static void test_wrong_key(void **state)
{
    const sig_case_t *c = *state;
    const jot_alg_info_t *ai = jot__alg_info(c->alg);
    uint8_t sig[512];
    memset(sig, 0x11, sizeof sig);
    unsigned checked = 0;
    for (int k = 0; k < K__COUNT; k++) {
        const jot_key_t *key = pool[k];
        if (key->kty == ai->kty && (ai->family != JOT_FAM_ECDSA || key->crv == ai->crv))
            continue; /* a right key for this alg (oct of another length: test_hmac_weak) */
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(jot__sig_sign(c->alg, key, msg, MSG_LEN, &out, &out_len),
                         JOT_E_KEY_MISMATCH);
        assert_null(out);
        assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, sig, c->sig_len),
                         JOT_E_KEY_MISMATCH);
        if (pool_pub[k])
            assert_int_equal(jot__sig_verify(c->alg, pool_pub[k], msg, MSG_LEN, sig, c->sig_len),
                             JOT_E_KEY_MISMATCH);
        checked++;
    }
    assert_true(checked >= 5);
}

/* ---- ECDSA specifics ---------------------------------------------------------------- */
static BIGNUM *group_order(int nid)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    assert_non_null(g);
    BIGNUM *n = BN_dup(EC_GROUP_get0_order(g));
    EC_GROUP_free(g);
    assert_non_null(n);
    return n;
}

static void put_bn(uint8_t *out, const BIGNUM *v, size_t coord)
{
    assert_int_equal(BN_bn2binpad(v, out, (int)coord), (int)coord);
}

/* r = 0, s = 0, r = n, s = n, r or s = n + small, the "psychic signature"; and the other
 * valid signature (r, n - s) must be accepted. */
static void test_ecdsa_range(void **state)
{
    const sig_case_t *c = *state;
    const jot_key_t *key = pool_pub[c->key];
    size_t coord = c->sig_len / 2;
    uint8_t *sig = NULL;
    size_t len = 0;
    assert_int_equal(jot__sig_sign(c->alg, pool[c->key], msg, MSG_LEN, &sig, &len), JOT_OK);
    assert_int_equal(len, 2 * coord);

    BIGNUM *n = group_order(c->nid);
    BIGNUM *s = BN_bin2bn(sig + coord, (int)coord, NULL);
    BIGNUM *t = BN_new();
    assert_non_null(s);
    assert_non_null(t);
    uint8_t bad[132];

    /* (r, n - s) is the same signature's twin: valid ECDSA, accepted by JWS */
    assert_int_equal(BN_sub(t, n, s), 1);
    memcpy(bad, sig, coord);
    put_bn(bad + coord, t, coord);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_OK);

    /* r = s = 0 */
    memset(bad, 0, len);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* r = 0, s valid */
    memcpy(bad, sig, len);
    memset(bad, 0, coord);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* r valid, s = 0 */
    memcpy(bad, sig, len);
    memset(bad + coord, 0, coord);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* r = n, s valid */
    memcpy(bad, sig, len);
    put_bn(bad, n, coord);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* r valid, s = n */
    memcpy(bad, sig, len);
    put_bn(bad + coord, n, coord);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* r = s = n */
    put_bn(bad, n, coord);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* s + n, when it fits in the coordinate length (P-521 always: 528 > 521 bits) */
    assert_int_equal(BN_add(t, s, n), 1);
    if ((size_t)BN_num_bytes(t) <= coord) {
        memcpy(bad, sig, coord);
        put_bn(bad + coord, t, coord);
        assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    }
    /* r = 1, s = 1: in range, wrong */
    memset(bad, 0, len);
    bad[coord - 1] = 1;
    bad[len - 1] = 1;
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, bad, len), JOT_E_SIGNATURE);
    /* the DER form of a valid signature is not a JWS signature */
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL);
    BIGNUM *s2 = BN_dup(s);
    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, r, s2), 1);
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(es, &der);
    assert_true(der_len > 0);
    assert_int_equal(jot__sig_verify(c->alg, key, msg, MSG_LEN, der, (size_t)der_len),
                     JOT_E_SIGNATURE);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);

    BN_free(t);
    BN_free(s);
    BN_free(n);
    jot_free(sig);
    assert_int_equal(ERR_peek_error(), 0);
}

/* Our r||s matches what plain OpenSSL signs and verifies in DER. */
static void test_ecdsa_interop(void **state)
{
    const sig_case_t *c = *state;
    const jot_alg_info_t *ai = jot__alg_info(c->alg);
    EVP_PKEY *pkey = pool[c->key]->pkey;
    size_t coord = c->sig_len / 2;
    for (int round = 0; round < 8; round++) {
        /* OpenSSL signs DER; we verify r||s */
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        assert_non_null(m);
        unsigned char der[160];
        size_t der_len = sizeof der;
        assert_int_equal(EVP_DigestSignInit_ex(m, NULL, ai->md_name, NULL, NULL, pkey, NULL), 1);
        assert_int_equal(EVP_DigestSign(m, der, &der_len, msg, MSG_LEN), 1);
        EVP_MD_CTX_free(m);
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        assert_non_null(es);
        uint8_t rs[132];
        put_bn(rs, ECDSA_SIG_get0_r(es), coord);
        put_bn(rs + coord, ECDSA_SIG_get0_s(es), coord);
        ECDSA_SIG_free(es);
        assert_int_equal(jot__sig_verify(c->alg, pool_pub[c->key], msg, MSG_LEN, rs, 2 * coord),
                         JOT_OK);

        /* we sign r||s; OpenSSL verifies its DER */
        uint8_t *sig = NULL;
        size_t len = 0;
        assert_int_equal(jot__sig_sign(c->alg, pool[c->key], msg, MSG_LEN, &sig, &len), JOT_OK);
        es = ECDSA_SIG_new();
        assert_non_null(es);
        assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)coord, NULL),
                                        BN_bin2bn(sig + coord, (int)coord, NULL)),
                         1);
        unsigned char *d = NULL;
        int dl = i2d_ECDSA_SIG(es, &d);
        assert_true(dl > 0);
        m = EVP_MD_CTX_new();
        assert_non_null(m);
        assert_int_equal(
            EVP_DigestVerifyInit_ex(m, NULL, ai->md_name, NULL, NULL, pool_pub[c->key]->pkey, NULL),
            1);
        assert_int_equal(EVP_DigestVerify(m, d, (size_t)dl, msg, MSG_LEN), 1);
        EVP_MD_CTX_free(m);
        OPENSSL_free(d);
        ECDSA_SIG_free(es);
        jot_free(sig);
    }
}

/* White-box: the order table equals OpenSSL's group orders, in_range() is 0 < v < n, and
 * der_sig() gives exactly i2d_ECDSA_SIG()'s bytes for every length of r and s (leading zero
 * bytes, top bit set or not, both DER length forms). */
static void test_ecdsa_internals(void **state)
{
    const sig_case_t *c = *state;
    const jot_alg_info_t *ai = jot__alg_info(c->alg);
    size_t coord = 0;
    const uint8_t *n = curve_order(ai, &coord);
    assert_non_null(n);
    assert_int_equal(2 * coord, c->sig_len);
    BIGNUM *order = group_order(c->nid);
    uint8_t v[EC_MAX_COORD], rs[2 * EC_MAX_COORD];
    put_bn(v, order, coord);
    assert_memory_equal(n, v, coord);

    /* in_range: 0, 1, n - 1, n, n + 1, all ones */
    memset(v, 0, coord);
    assert_false(in_range(v, n, coord));
    v[coord - 1] = 1;
    assert_true(in_range(v, n, coord));
    BIGNUM *t = BN_dup(order);
    assert_non_null(t);
    assert_int_equal(BN_sub_word(t, 1), 1);
    put_bn(v, t, coord);
    assert_true(in_range(v, n, coord));
    assert_false(in_range(n, n, coord));
    assert_int_equal(BN_add_word(t, 2), 1);
    if ((size_t)BN_num_bytes(t) <= coord) {
        put_bn(v, t, coord);
        assert_false(in_range(v, n, coord));
    }
    memset(v, 0xff, coord);
    assert_false(in_range(v, n, coord));
    BN_free(t);

    /* der_sig against OpenSSL's encoder */
    static const uint8_t tops[] = {0x01, 0x7f, 0x80, 0xff};
    unsigned checked = 0;
    for (size_t rl = 1; rl <= coord; rl++) {
        for (size_t sl = 1; sl <= coord; sl++) {
            for (size_t ti = 0; ti < sizeof tops; ti++) {
                memset(rs, 0, sizeof rs);
                assert_int_equal(RAND_bytes(rs + coord - rl, (int)rl), 1);
                assert_int_equal(RAND_bytes(rs + 2 * coord - sl, (int)sl), 1);
                rs[coord - rl] = tops[ti];
                rs[2 * coord - sl] = tops[(ti + 1) % sizeof tops];
                uint8_t der[EC_MAX_DER];
                size_t der_len = der_sig(der, rs, coord);
                assert_true(der_len <= EC_MAX_DER);

                ECDSA_SIG *es = ECDSA_SIG_new();
                assert_non_null(es);
                assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(rs, (int)coord, NULL),
                                                BN_bin2bn(rs + coord, (int)coord, NULL)),
                                 1);
                unsigned char *want = NULL;
                int want_len = i2d_ECDSA_SIG(es, &want);
                assert_true(want_len > 0);
                assert_int_equal(der_len, (size_t)want_len);
                assert_memory_equal(der, want, der_len);
                OPENSSL_free(want);
                ECDSA_SIG_free(es);
                checked++;
            }
        }
    }
    assert_int_equal(checked, coord * coord * sizeof tops);
    BN_free(order);
}

/* ---- RSA specifics ------------------------------------------------------------------ */
/* Sign with plain OpenSSL, the given padding and PSS salt length. */
static size_t openssl_rsa_sign(EVP_PKEY *pkey, const char *md, int padding, int saltlen,
                               uint8_t *out, size_t out_size)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_non_null(m);
    assert_int_equal(EVP_DigestSignInit_ex(m, &pctx, md, NULL, NULL, pkey, NULL), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
    if (padding == RSA_PKCS1_PSS_PADDING)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen), 1);
    size_t len = out_size;
    assert_int_equal(EVP_DigestSign(m, out, &len, msg, MSG_LEN), 1);
    EVP_MD_CTX_free(m);
    return len;
}

static void test_rsa_pss_params(void **state)
{
    (void)state;
    EVP_PKEY *pkey = pool[K_RSA]->pkey;
    const jot_key_t *pub = pool_pub[K_RSA];
    uint8_t sig[256];
    size_t len;
    static const struct {
        jot_alg_t alg;
        const char *md;
        int hlen;
    } pss[] = {{JOT_ALG_PS256, "SHA256", 32},
               {JOT_ALG_PS384, "SHA384", 48},
               {JOT_ALG_PS512, "SHA512", 64}};
    for (size_t i = 0; i < sizeof pss / sizeof pss[0]; i++) {
        /* OpenSSL PSS with salt = hash length: accepted */
        len =
            openssl_rsa_sign(pkey, pss[i].md, RSA_PKCS1_PSS_PADDING, pss[i].hlen, sig, sizeof sig);
        assert_int_equal(jot__sig_verify(pss[i].alg, pub, msg, MSG_LEN, sig, len), JOT_OK);
        /* any other salt length: refused (no auto-detection) */
        const int other[] = {0, 20, pss[i].hlen - 1, pss[i].hlen + 1, RSA_PSS_SALTLEN_MAX};
        for (size_t j = 0; j < sizeof other / sizeof other[0]; j++) {
            len =
                openssl_rsa_sign(pkey, pss[i].md, RSA_PKCS1_PSS_PADDING, other[j], sig, sizeof sig);
            assert_int_equal(jot__sig_verify(pss[i].alg, pub, msg, MSG_LEN, sig, len),
                             JOT_E_SIGNATURE);
        }
        /* PKCS#1 v1.5 of the same hash is not PSS, and the other way round */
        len = openssl_rsa_sign(pkey, pss[i].md, RSA_PKCS1_PADDING, 0, sig, sizeof sig);
        assert_int_equal(jot__sig_verify(pss[i].alg, pub, msg, MSG_LEN, sig, len), JOT_E_SIGNATURE);
        assert_int_equal(
            jot__sig_verify((jot_alg_t)(JOT_ALG_RS256 + (int)i), pub, msg, MSG_LEN, sig, len),
            JOT_OK);
        len =
            openssl_rsa_sign(pkey, pss[i].md, RSA_PKCS1_PSS_PADDING, pss[i].hlen, sig, sizeof sig);
        assert_int_equal(
            jot__sig_verify((jot_alg_t)(JOT_ALG_RS256 + (int)i), pub, msg, MSG_LEN, sig, len),
            JOT_E_SIGNATURE);
    }
    /* RS256 signature checked as RS384: refused (hash bound by the alg) */
    len = openssl_rsa_sign(pkey, "SHA256", RSA_PKCS1_PADDING, 0, sig, sizeof sig);
    assert_int_equal(jot__sig_verify(JOT_ALG_RS256, pub, msg, MSG_LEN, sig, len), JOT_OK);
    assert_int_equal(jot__sig_verify(JOT_ALG_RS384, pub, msg, MSG_LEN, sig, len), JOT_E_SIGNATURE);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- HMAC specifics ----------------------------------------------------------------- */
static uint8_t *unhex(const char *hex, size_t *out_len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char ch = hex[2 * i + (size_t)j];
            v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
    *out_len = n;
    return out;
}

/* RFC 4231 test case 2 (key "Jefe", a 4-byte key) and HMAC-SHA256 with an empty key and
 * empty data: the raw layer computes plain HMAC for any key length. */
static void test_hmac_kat(void **state)
{
    (void)state;
    static const struct {
        jot_alg_t alg;
        const char *key, *data, *tag;
    } kat[] = {
        {JOT_ALG_HS256, "Jefe", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {JOT_ALG_HS384, "Jefe", "what do ya want for nothing?",
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
         "8e2240ca5e69e2c78b3239ecfab21649"},
        {JOT_ALG_HS512, "Jefe", "what do ya want for nothing?",
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
         "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
        {JOT_ALG_HS256, "", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        const jot_alg_info_t *ai = jot__alg_info(kat[i].alg);
        size_t tag_len = 0;
        uint8_t *want = unhex(kat[i].tag, &tag_len);
        assert_int_equal(tag_len, ai->hash_len);
        const uint8_t *key = (const uint8_t *)kat[i].key;
        const uint8_t *data = (const uint8_t *)kat[i].data;
        size_t klen = strlen(kat[i].key), dlen = strlen(kat[i].data);
        uint8_t tag[64];
        assert_int_equal(jot__hmac_sign(ai, klen ? key : NULL, klen, dlen ? data : NULL, dlen, tag),
                         JOT_OK);
        assert_memory_equal(tag, want, tag_len);
        assert_int_equal(jot__hmac_verify(ai, key, klen, data, dlen, want, tag_len), JOT_OK);
        want[tag_len - 1] ^= 0x80;
        assert_int_equal(jot__hmac_verify(ai, key, klen, data, dlen, want, tag_len),
                         JOT_E_SIGNATURE);
        want[tag_len - 1] ^= 0x80;
        /* truncated tags (as in the RFC 4231 128-bit case) are not JWS */
        assert_int_equal(jot__hmac_verify(ai, key, klen, data, dlen, want, 16), JOT_E_SIGNATURE);
        assert_int_equal(jot__hmac_verify(ai, key, klen, data, dlen, want, tag_len - 1),
                         JOT_E_SIGNATURE);
        free(want);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

/* An HMAC key shorter than the hash is refused by the JWS layer (RFC 7518 §3.2), for every
 * HS alg, for signing and verifying, even with a correct tag. */
static void test_hmac_weak(void **state)
{
    (void)state;
    static const struct {
        jot_alg_t alg;
        int short_key; /* pool index of a key one step too short */
    } weak[] = {{JOT_ALG_HS384, K_HS256}, {JOT_ALG_HS512, K_HS256}, {JOT_ALG_HS512, K_HS384}};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        const jot_alg_info_t *ai = jot__alg_info(weak[i].alg);
        const jot_key_t *k = pool[weak[i].short_key];
        uint8_t tag[64];
        assert_int_equal(jot__hmac_sign(ai, k->oct, k->oct_len, msg, MSG_LEN, tag), JOT_OK);
        assert_int_equal(jot__hmac_verify(ai, k->oct, k->oct_len, msg, MSG_LEN, tag, ai->hash_len),
                         JOT_OK);
        uint8_t *sig = NULL;
        size_t len = 0;
        assert_int_equal(jot__sig_sign(weak[i].alg, k, msg, MSG_LEN, &sig, &len), JOT_E_KEY_WEAK);
        assert_null(sig);
        assert_int_equal(jot__sig_verify(weak[i].alg, k, msg, MSG_LEN, tag, ai->hash_len),
                         JOT_E_KEY_WEAK);
    }
    /* one byte short of 32 for HS256 */
    jot_key_t *k31 = oct_key(31);
    uint8_t *sig = NULL;
    size_t len = 0;
    assert_int_equal(jot__sig_sign(JOT_ALG_HS256, k31, msg, MSG_LEN, &sig, &len), JOT_E_KEY_WEAK);
    uint8_t tag[32];
    assert_int_equal(
        jot__hmac_sign(jot__alg_info(JOT_ALG_HS256), k31->oct, k31->oct_len, msg, MSG_LEN, tag),
        JOT_OK);
    assert_int_equal(jot__sig_verify(JOT_ALG_HS256, k31, msg, MSG_LEN, tag, sizeof tag),
                     JOT_E_KEY_WEAK);
    jot_key_free(k31);
    /* a longer key is fine */
    assert_int_equal(jot__sig_sign(JOT_ALG_HS256, pool[K_HS512], msg, MSG_LEN, &sig, &len), JOT_OK);
    assert_int_equal(len, 32);
    assert_int_equal(jot__sig_verify(JOT_ALG_HS256, pool[K_HS512], msg, MSG_LEN, sig, len), JOT_OK);
    jot_free(sig);
}

/* ---- EdDSA specifics ---------------------------------------------------------------- */
/* RFC 8032 §7.1 TEST 1 (empty message) and TEST 2. Ed25519 is deterministic. */
static void test_ed25519_kat(void **state)
{
    (void)state;
    static const struct {
        const char *sk, *pk, *msg, *sig;
    } kat[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
         "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
         "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        size_t sk_len, pk_len, m_len, s_len;
        uint8_t *sk = unhex(kat[i].sk, &sk_len), *pk = unhex(kat[i].pk, &pk_len);
        uint8_t *m = unhex(kat[i].msg, &m_len), *want = unhex(kat[i].sig, &s_len);
        jot_key_t *priv = wrap(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, sk_len));
        jot_key_t *pub = wrap(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, pk_len));
        uint8_t *sig = NULL;
        size_t len = 0;
        assert_int_equal(jot__sig_sign(JOT_ALG_EDDSA, priv, m_len ? m : NULL, m_len, &sig, &len),
                         JOT_OK);
        assert_int_equal(len, 64);
        assert_memory_equal(sig, want, 64);
        assert_int_equal(jot__sig_verify(JOT_ALG_EDDSA, pub, m_len ? m : NULL, m_len, want, 64),
                         JOT_OK);
        want[63] ^= 0x40;
        assert_int_equal(jot__sig_verify(JOT_ALG_EDDSA, pub, m_len ? m : NULL, m_len, want, 64),
                         JOT_E_SIGNATURE);
        /* an Ed25519 signature is not an Ed448 one */
        want[63] ^= 0x40;
        assert_int_equal(
            jot__sig_verify(JOT_ALG_EDDSA, pool_pub[K_ED448], m_len ? m : NULL, m_len, want, 64),
            JOT_E_SIGNATURE);
        jot_free(sig);
        jot_key_free(priv);
        jot_key_free(pub);
        free(sk);
        free(pk);
        free(m);
        free(want);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- raw layer argument checks ------------------------------------------------------ */
static void test_raw_args(void **state)
{
    (void)state;
    const jot_alg_info_t *hs = jot__alg_info(JOT_ALG_HS256);
    const jot_alg_info_t *es = jot__alg_info(JOT_ALG_ES256);
    const jot_alg_info_t *rs = jot__alg_info(JOT_ALG_RS256);
    uint8_t buf[600] = {0};
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(jot__hmac_verify(NULL, buf, 32, msg, MSG_LEN, buf, 32), JOT_E_INVAL);
    assert_int_equal(jot__hmac_verify(hs, NULL, 32, msg, MSG_LEN, buf, 32), JOT_E_INVAL);
    assert_int_equal(jot__hmac_verify(hs, buf, 32, NULL, 5, buf, 32), JOT_E_INVAL);
    assert_int_equal(jot__hmac_verify(es, buf, 32, msg, MSG_LEN, buf, 32), JOT_E_INVAL);
    assert_int_equal(jot__hmac_sign(hs, buf, 32, msg, MSG_LEN, NULL), JOT_E_INVAL);
    assert_int_equal(jot__ec_verify(es, NULL, msg, MSG_LEN, buf, 64), JOT_E_INVAL);
    assert_int_equal(jot__ec_verify(hs, pool[K_P256], msg, MSG_LEN, buf, 64), JOT_E_INVAL);
    assert_int_equal(jot__ec_sign(es, pool[K_P256], msg, MSG_LEN, NULL, &out_len), JOT_E_INVAL);
    assert_int_equal(jot__rsa_verify(rs, NULL, msg, MSG_LEN, buf, 256), JOT_E_INVAL);
    assert_int_equal(jot__rsa_verify(es, pool[K_RSA], msg, MSG_LEN, buf, 256), JOT_E_INVAL);
    assert_int_equal(jot__eddsa_verify(NULL, msg, MSG_LEN, buf, 64), JOT_E_INVAL);
    assert_int_equal(jot__eddsa_sign(pool[K_ED25519], msg, MSG_LEN, &out, NULL), JOT_E_INVAL);
    /* a key of the wrong family given straight to a back end */
    assert_int_equal(jot__ec_verify(es, pool[K_RSA], msg, MSG_LEN, buf, 64), JOT_E_KEY_MISMATCH);
    assert_int_equal(jot__ec_verify(es, pool[K_P384], msg, MSG_LEN, buf, 64), JOT_E_KEY_MISMATCH);
    assert_int_equal(jot__rsa_verify(rs, pool[K_P256], msg, MSG_LEN, buf, 256), JOT_E_KEY_MISMATCH);
    assert_int_equal(jot__eddsa_verify(pool[K_P256], msg, MSG_LEN, buf, 64), JOT_E_KEY_MISMATCH);
    assert_int_equal(jot__eddsa_sign(pool[K_RSA], msg, MSG_LEN, &out, &out_len),
                     JOT_E_KEY_MISMATCH);
    assert_null(out);
    /* an unknown alg through the dispatch */
    assert_int_equal(jot__sig_verify(JOT_ALG_UNSET, pool[K_HS256], msg, MSG_LEN, buf, 32),
                     JOT_E_ALG_UNKNOWN);
    assert_int_equal(jot__sig_verify(JOT_ALG__COUNT, pool[K_HS256], msg, MSG_LEN, buf, 32),
                     JOT_E_ALG_UNKNOWN);
}

/* ---- threads ------------------------------------------------------------------------ */
/* The keys are shared read-only; every call makes its own contexts. Several threads sign and
 * verify with the same keys at once (run under TSan/helgrind to catch shared state). */
#define N_THREADS 4
#define N_ROUNDS 20

static void *thread_main(void *arg)
{
    unsigned *bad = arg;
    for (int round = 0; round < N_ROUNDS; round++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const sig_case_t *c = &cases[i];
            if (c->alg >= JOT_ALG_RS256 && c->alg <= JOT_ALG_PS512 && round % 5)
                continue; /* RSA signing is slow: fewer rounds */
            uint8_t *sig = NULL;
            size_t len = 0;
            if (jot__sig_sign(c->alg, pool[c->key], msg, MSG_LEN, &sig, &len) != JOT_OK) {
                (*bad)++;
                continue;
            }
            const jot_key_t *vk = pool_pub[c->key] ? pool_pub[c->key] : pool[c->key];
            if (jot__sig_verify(c->alg, vk, msg, MSG_LEN, sig, len) != JOT_OK)
                (*bad)++;
            sig[len / 2] ^= 0x10;
            if (jot__sig_verify(c->alg, vk, msg, MSG_LEN, sig, len) != JOT_E_SIGNATURE)
                (*bad)++;
            jot_free(sig);
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[N_THREADS];
    unsigned bad[N_THREADS] = {0};
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &bad[i]), 0);
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(bad[i], 0);
    }
}

/* ---- allocation failure ------------------------------------------------------------- */
/* Signing returns JOT_E_NOMEM when our allocator fails; verification does not allocate
 * through it at all (the hot path keeps its buffers on the stack). */
static void test_oom(void **state)
{
    (void)state;
    const sig_case_t *c = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c = &cases[i];
        uint8_t *sig = NULL;
        size_t len = 0;
        assert_int_equal(jot__sig_sign(c->alg, pool[c->key], msg, MSG_LEN, &sig, &len), JOT_OK);

        oom_install();
        oom_arm(1, true); /* every allocation fails, and each is counted */
        uint8_t *none = NULL;
        size_t none_len = 0;
        jot_err_t rc = jot__sig_sign(c->alg, pool[c->key], msg, MSG_LEN, &none, &none_len);
        long sign_calls = oom_allocs();
        oom_arm(1, true);
        jot_err_t vrc = jot__sig_verify(c->alg, pool[c->key], msg, MSG_LEN, sig, len);
        long verify_calls = oom_allocs();
        oom_uninstall();

        assert_int_equal(rc, JOT_E_NOMEM);
        assert_null(none);
        assert_true(sign_calls > 0);
        assert_int_equal(vrc, JOT_OK);
        assert_int_equal(verify_calls, 0);
        jot_free(sig);
    }
}

int main(void)
{
    enum { N_CASES = sizeof cases / sizeof cases[0], N_EC = 4 };
    static char names[N_CASES][3][48];
    struct CMUnitTest tests[N_CASES * 2 + N_EC * 3 + 7];
    size_t n = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        static const struct {
            const char *what;
            CMUnitTestFunction fn;
        } per_alg[] = {{"roundtrip", test_roundtrip}, {"wrong_key", test_wrong_key}};
        for (size_t j = 0; j < 2; j++) {
            snprintf(names[i][j], sizeof names[i][j], "%s %s", per_alg[j].what, cases[i].name);
            tests[n++] = (struct CMUnitTest){names[i][j], per_alg[j].fn, NULL, NULL, &cases[i]};
        }
    }
    static const struct {
        const char *what;
        CMUnitTestFunction fn;
    } per_ec[] = {{"ecdsa_range", test_ecdsa_range},
                  {"ecdsa_interop", test_ecdsa_interop},
                  {"ecdsa_internals", test_ecdsa_internals}};
    static char ec_names[N_EC][3][48];
    size_t ec = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        if (!cases[i].nid)
            continue;
        for (size_t j = 0; j < 3; j++) {
            snprintf(ec_names[ec][j], sizeof ec_names[ec][j], "%s %s", per_ec[j].what,
                     cases[i].name);
            tests[n++] = (struct CMUnitTest){ec_names[ec][j], per_ec[j].fn, NULL, NULL, &cases[i]};
        }
        ec++;
    }
    assert_int_equal(ec, N_EC);
    const struct CMUnitTest rest[] = {
        cmocka_unit_test(test_rsa_pss_params), cmocka_unit_test(test_hmac_kat),
        cmocka_unit_test(test_hmac_weak),      cmocka_unit_test(test_ed25519_kat),
        cmocka_unit_test(test_raw_args),       cmocka_unit_test(test_oom),
        cmocka_unit_test(test_threads),
    };
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        tests[n++] = rest[i];
    assert_int_equal(n, sizeof tests / sizeof tests[0]);
    return cmocka_run_group_tests_name("sig", tests, pool_setup, pool_teardown);
}
