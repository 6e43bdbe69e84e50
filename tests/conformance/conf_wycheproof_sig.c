/* Wycheproof primitive-level signature and MAC vectors, driven through jot__sig_verify()
 * (keys imported from publicKeyDer through jot__key_from_pkey(), so the library's key
 * policy applies) and, for HMAC, through the raw jot__hmac_verify() layer, which does not
 * enforce the JWS minimum key length. See the vectors README, "Primitive-level files". */
#include "internal.h"
#include "vectors.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct sig_file {
    const char *file; /* under wycheproof/testvectors_v1/ */
    jot_alg_t alg;    /* the JWS algorithm the file stands in for */
    const char *sha;  /* the group "sha" every group must have; NULL for EdDSA and HMAC */
} sig_file_t;

static sig_file_t sig_files[] = {
    {"ecdsa_secp256r1_sha256_p1363_test.json", JOT_ALG_ES256, "SHA-256"},
    {"ecdsa_secp384r1_sha384_p1363_test.json", JOT_ALG_ES384, "SHA-384"},
    {"ecdsa_secp521r1_sha512_p1363_test.json", JOT_ALG_ES512, "SHA-512"},
    {"ecdsa_secp256k1_sha256_p1363_test.json", JOT_ALG_ES256K, "SHA-256"},
    {"ed25519_test.json", JOT_ALG_EDDSA, NULL},
    {"ed448_test.json", JOT_ALG_EDDSA, NULL},
    {"rsa_signature_2048_sha256_test.json", JOT_ALG_RS256, "SHA-256"},
    {"rsa_signature_2048_sha384_test.json", JOT_ALG_RS384, "SHA-384"},
    {"rsa_signature_2048_sha512_test.json", JOT_ALG_RS512, "SHA-512"},
    {"rsa_signature_3072_sha256_test.json", JOT_ALG_RS256, "SHA-256"},
    {"rsa_signature_3072_sha384_test.json", JOT_ALG_RS384, "SHA-384"},
    {"rsa_signature_3072_sha512_test.json", JOT_ALG_RS512, "SHA-512"},
    {"rsa_signature_4096_sha256_test.json", JOT_ALG_RS256, "SHA-256"},
    {"rsa_signature_4096_sha384_test.json", JOT_ALG_RS384, "SHA-384"},
    {"rsa_signature_4096_sha512_test.json", JOT_ALG_RS512, "SHA-512"},
    {"rsa_pss_2048_sha256_mgf1_32_test.json", JOT_ALG_PS256, "SHA-256"},
    {"rsa_pss_3072_sha256_mgf1_32_test.json", JOT_ALG_PS256, "SHA-256"},
    {"rsa_pss_4096_sha256_mgf1_32_test.json", JOT_ALG_PS256, "SHA-256"},
    {"rsa_pss_2048_sha384_mgf1_48_test.json", JOT_ALG_PS384, "SHA-384"},
    {"rsa_pss_4096_sha384_mgf1_48_test.json", JOT_ALG_PS384, "SHA-384"},
    {"rsa_pss_4096_sha512_mgf1_64_test.json", JOT_ALG_PS512, "SHA-512"},
    {"hmac_sha256_test.json", JOT_ALG_HS256, NULL},
    {"hmac_sha384_test.json", JOT_ALG_HS384, NULL},
    {"hmac_sha512_test.json", JOT_ALG_HS512, NULL},
};

#define WYCHEPROOF_DIR "wycheproof/testvectors_v1/"

static const char *str_member(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

/* Import the group's publicKeyDer. NULL when the library refuses it (rc says why). */
static jot_key_t *group_key(const json_t *group, jot_err_t *rc)
{
    size_t der_len = 0;
    uint8_t *der = vec_hex(str_member(group, "publicKeyDer"), &der_len);
    *rc = JOT_E_KEY_INVALID;
    if (!der)
        return NULL;
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)der_len);
    jot_key_t *key = NULL;
    if (pkey && p == der + der_len) {
        *rc = jot__key_from_pkey(pkey, &key);
        if (*rc == JOT_OK)
            pkey = NULL; /* now owned by key */
    }
    EVP_PKEY_free(pkey);
    free(der);
    if (!key)
        ERR_clear_error(); /* a refused key is reported by rc */
    return key;
}

/* Whether the group's parameters are the ones the file's JWS algorithm fixes. */
static bool group_params_ok(const sig_file_t *f, const jot_alg_info_t *ai, const json_t *group,
                            const char **why)
{
    if (ai->family == JOT_FAM_HMAC) {
        json_int_t tag_bits = json_integer_value(json_object_get(group, "tagSize"));
        *why = "truncated MAC (tagSize below the hash length), never used by JWS";
        return tag_bits == (json_int_t)(ai->hash_len * 8);
    }
    const char *sha = str_member(group, "sha");
    *why = "hash differs from the JWS algorithm";
    if (f->sha && (!sha || strcmp(sha, f->sha) != 0))
        return false;
    if (ai->family == JOT_FAM_RSA_PSS) {
        const char *mgf = str_member(group, "mgf"), *mgf_sha = str_member(group, "mgfSha");
        json_int_t slen = json_integer_value(json_object_get(group, "sLen"));
        *why = "PSS parameters differ from RFC 7518 3.5";
        return mgf && strcmp(mgf, "MGF1") == 0 && mgf_sha && strcmp(mgf_sha, f->sha) == 0 &&
               slen == (json_int_t)ai->hash_len;
    }
    return true;
}

/* Run one file; returns the number of harness errors (bad data, wrong return codes). */
static unsigned run_file(const sig_file_t *f, vec_tally_t *t)
{
    const jot_alg_info_t *ai = jot__alg_info(f->alg);
    char rel[256];
    snprintf(rel, sizeof rel, WYCHEPROOF_DIR "%s", f->file);
    json_t *root = vec_load(rel);
    if (!root) {
        printf("ERROR: %s: cannot load\n", rel);
        return 1;
    }
    unsigned errors = 0, seen = 0;
    json_int_t expected_count = json_integer_value(json_object_get(root, "numberOfTests"));
    size_t gi;
    json_t *group;
    json_array_foreach(json_object_get(root, "testGroups"), gi, group)
    {
        json_t *tests = json_object_get(group, "tests");
        const char *why = NULL;
        if (!group_params_ok(f, ai, group, &why)) {
            printf("note: %s group %zu: %zu tests skipped: %s\n", f->file, gi,
                   json_array_size(tests), why);
            /* only HMAC files have groups outside the JWS parameter set */
            if (ai->family != JOT_FAM_HMAC)
                errors++;
            t->skipped += (unsigned)json_array_size(tests);
            seen += (unsigned)json_array_size(tests);
            continue;
        }
        jot_key_t *key = NULL;
        jot_err_t key_rc = JOT_OK;
        if (ai->family != JOT_FAM_HMAC) {
            key = group_key(group, &key_rc);
            if (!key)
                printf("note: %s group %zu: key refused: %s\n", f->file, gi, jot_err_name(key_rc));
        }
        size_t ti;
        json_t *tc;
        json_array_foreach(tests, ti, tc)
        {
            seen++;
            int tc_id = (int)json_integer_value(json_object_get(tc, "tcId"));
            const char *comment = str_member(tc, "comment");
            const char *result = str_member(tc, "result");
            size_t msg_len = 0, sig_len = 0, key_len = 0;
            uint8_t *msg = vec_hex(str_member(tc, "msg"), &msg_len);
            uint8_t *sig =
                vec_hex(str_member(tc, ai->family == JOT_FAM_HMAC ? "tag" : "sig"), &sig_len);
            uint8_t *raw_key =
                ai->family == JOT_FAM_HMAC ? vec_hex(str_member(tc, "key"), &key_len) : NULL;
            if (!msg || !sig || !result || (ai->family == JOT_FAM_HMAC && !raw_key)) {
                printf("ERROR: %s tcId %d: unreadable test case\n", f->file, tc_id);
                errors++;
                t->run++;
                t->failed++;
            } else {
                jot_err_t rc = JOT_E_KEY_INVALID;
                if (ai->family == JOT_FAM_HMAC)
                    rc = jot__hmac_verify(ai, raw_key, key_len, msg, msg_len, sig, sig_len);
                else if (key)
                    rc = jot__sig_verify(f->alg, key, msg, msg_len, sig, sig_len);
                /* once the key is in, a wrong signature is JOT_E_SIGNATURE and nothing else */
                if ((key || ai->family == JOT_FAM_HMAC) && rc != JOT_OK && rc != JOT_E_SIGNATURE) {
                    printf("ERROR: %s tcId %d: verify returned %s\n", f->file, tc_id,
                           jot_err_name(rc));
                    errors++;
                }
                if (ERR_peek_error() != 0) {
                    printf("ERROR: %s tcId %d: OpenSSL error queue not empty\n", f->file, tc_id);
                    ERR_clear_error();
                    errors++;
                }
                vec_judge(t, tc_id, comment, result, rc == JOT_OK);
            }
            free(msg);
            free(sig);
            free(raw_key);
        }
        jot_key_free(key);
    }
    if (expected_count <= 0 || (json_int_t)seen != expected_count || t->run + t->skipped != seen) {
        printf("ERROR: %s: numberOfTests %lld, cases seen %u (run %u + skipped %u)\n", f->file,
               (long long)expected_count, seen, t->run, t->skipped);
        errors++;
    }
    json_decref(root);
    return errors;
}

static void test_file(void **state)
{
    const sig_file_t *f = *state;
    vec_tally_t t = {.file = f->file};
    unsigned errors = run_file(f, &t);
    vec_tally_print(&t);
    assert_int_equal(errors, 0);
    assert_int_equal(t.failed, 0);
    assert_true(t.run > 0);
}

int main(void)
{
    if (!vec_dir()) {
        vec_skip("Wycheproof signature and MAC vectors", "JOT_VECTORS is unset or missing");
        return 0;
    }
    struct CMUnitTest tests[sizeof sig_files / sizeof sig_files[0]];
    for (size_t i = 0; i < sizeof sig_files / sizeof sig_files[0]; i++) {
        struct CMUnitTest tc = {sig_files[i].file, test_file, NULL, NULL, &sig_files[i]};
        tests[i] = tc;
    }
    return cmocka_run_group_tests_name("wycheproof_sig", tests, NULL, NULL);
}
