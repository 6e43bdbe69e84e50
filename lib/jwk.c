/* JSON Web Keys: import (RFC 7517, RFC 7518 §6, RFC 8037 §2), export, RFC 7638 thumbprints,
 * the public half of a key, and format detection (JWK or PEM).
 *
 * Every decoded secret (d, p, q, dp, dq, qi, k) lives in a buffer wiped before it is freed,
 * and the base64url text of those members is wiped inside the parsed JSON tree before the
 * tree is released. JWK text is produced by a small builder that wipes what it discards,
 * not by jansson, so private exports leave no copies behind. */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <string.h>

/* Shared with keyset.c. Import one JWK from a parsed JSON object; the text of the private
 * members in \p obj is wiped whatever the outcome. */
/* Wipe the text of the private members of a JWK object in place. */

/* ---- small helpers ------------------------------------------------------------------ */

/* A decoded base64url member. */
typedef struct blob {
    uint8_t *p;
    size_t len;
} blob_t;

static void blob_free(blob_t *b)
{
    jot__free_secret(b->p, b->len);
    b->p = NULL;
    b->len = 0;
}

static bool str_is(const json_t *v, const char *lit)
{
    size_t n = strlen(lit);
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), lit, n) == 0;
}

/* Members defined for JWKs whose value must be a string when present. */
static const char *const string_members[] = {"kty", "kid", "alg", "use", "crv", "x",  "y",  "d",
                                             "n",   "e",   "p",   "q",   "dp",  "dq", "qi", "k"};
/* Members holding private key material. */
static const char *const secret_members[] = {"d", "p", "q", "dp", "dq", "qi", "k"};

static void wipe_string(json_t *v)
{
    if (json_is_string(v))
        jot_memzero((char *)json_string_value(v), json_string_length(v));
}

void jot__jwk_wipe_json(json_t *obj)
{
    if (!json_is_object(obj))
        return;
    for (size_t i = 0; i < sizeof secret_members / sizeof secret_members[0]; i++)
        wipe_string(json_object_get(obj, secret_members[i]));
    /* "oth" (RFC 7518 §6.3.2.7) is refused, but its primes are secrets all the same */
    json_t *oth = json_object_get(obj, "oth");
    if (json_is_array(oth)) {
        for (size_t i = 0; i < json_array_size(oth); i++) {
            json_t *o = json_array_get(oth, i);
            const char *name;
            json_t *v;
            if (json_is_object(o))
                json_object_foreach(o, name, v)
                {
                    wipe_string(v);
                }
        }
    }
}

/* Decode member \p name: JOT_E_NOT_FOUND when absent. The buffer is wiped on every error. */
static jot_err_t get_b64(const json_t *obj, const char *name, blob_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return JOT_E_NOT_FOUND;
    if (!json_is_string(v))
        return JOT_E_KEY_INVALID;
    const char *s = json_string_value(v);
    size_t slen = json_string_length(v);
    size_t cap = jot__b64url_decoded_len(slen) + 1;
    uint8_t *buf = jot__malloc(cap);
    if (!buf)
        return JOT_E_NOMEM;
    size_t n = 0;
    jot_err_t rc = jot_b64url_decode(buf, &n, s, slen);
    if (rc != JOT_OK) {
        jot__free_secret(buf, cap);
        return rc;
    }
    out->p = buf;
    out->len = n;
    return JOT_OK;
}

/* A member the key type requires: absent means the JWK is invalid. */
static jot_err_t need_b64(const json_t *obj, const char *name, blob_t *out)
{
    jot_err_t rc = get_b64(obj, name, out);
    return rc == JOT_E_NOT_FOUND ? JOT_E_KEY_INVALID : rc;
}

static BIGNUM *bn_from_blob(const blob_t *b, bool secret)
{
    BIGNUM *bn = secret ? BN_secure_new() : BN_new();
    if (bn && !BN_bin2bn(b->p, (int)b->len, bn)) {
        BN_clear_free(bn);
        bn = NULL;
    }
    return bn;
}

/* Build an EVP_PKEY of \p type from the parameters in \p bld (freed here). */
static jot_err_t pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, bool priv, EVP_PKEY **out)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    OSSL_PARAM_BLD_free(bld);
    if (!params)
        return JOT_E_NOMEM;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    jot_err_t rc = JOT_E_KEY_INVALID;
    if (!ctx)
        rc = JOT_E_NOMEM;
    else if (EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) ==
                 1)
        rc = JOT_OK;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params); /* secure BIGNUMs were copied to a block it clears */
    if (rc == JOT_OK)
        *out = pkey;
    return rc;
}

/* Wrap \p pkey (consumed in every case) in a key object. */
static jot_err_t wrap_pkey(EVP_PKEY *pkey, jot_key_t **out)
{
    jot_err_t rc = jot__key_from_pkey(pkey, out);
    if (rc != JOT_OK)
        EVP_PKEY_free(pkey);
    return rc;
}

/* ---- import: one function per kty ----------------------------------------------------- */

static jot_err_t oct_from_json(const json_t *obj, jot_key_t **out)
{
    blob_t k = {0};
    jot_err_t rc = need_b64(obj, "k", &k);
    if (rc != JOT_OK)
        return rc;
    if (k.len < 32) /* RFC 7518 §3.2: at least the HS256 hash size; "" included */
        rc = JOT_E_KEY_WEAK;
    else if (k.len > JOT_MAX_HMAC_KEY_BYTES)
        rc = JOT_E_KEY_INVALID;
    jot_key_t *key = NULL;
    if (rc == JOT_OK && !(key = jot__key_alloc(JOT_KTY_OCT)))
        rc = JOT_E_NOMEM;
    if (rc != JOT_OK) {
        blob_free(&k);
        return rc;
    }
    key->oct = k.p;
    key->oct_len = k.len;
    key->has_private = true;
    key->bits = (unsigned)(k.len * 8);
    *out = key;
    return JOT_OK;
}

/* RSA private halves: both factors, both CRT exponents and the coefficient, or none. */
static const struct {
    const char *member;
    const char *param;
} rsa_crt[] = {
    {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},       {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},    {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
};
#define RSA_CRT_COUNT (sizeof rsa_crt / sizeof rsa_crt[0])

static jot_err_t rsa_consistent(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        return JOT_E_NOMEM;
    /* n = p*q, d*e = 1 mod lcm(p-1, q-1), dp, dq, qi; p and q prime */
    int ok = EVP_PKEY_pairwise_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1 ? JOT_OK : JOT_E_KEY_INVALID;
}

static jot_err_t rsa_from_json(const json_t *obj, jot_key_t **out)
{
    if (json_object_get(obj, "oth")) /* multi-prime keys */
        return JOT_E_UNSUPPORTED;
    size_t ncrt = 0;
    for (size_t i = 0; i < RSA_CRT_COUNT; i++)
        ncrt += json_object_get(obj, rsa_crt[i].member) != NULL;
    bool priv = json_object_get(obj, "d") != NULL;
    if ((ncrt != 0 && ncrt != RSA_CRT_COUNT) || (ncrt && !priv))
        return JOT_E_KEY_INVALID;

    blob_t n = {0}, e = {0}, d = {0}, crt[RSA_CRT_COUNT] = {{0}};
    BIGNUM *bn_n = NULL, *bn_e = NULL, *bn_d = NULL, *bn_crt[RSA_CRT_COUNT] = {0};
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    jot_key_t *key = NULL;
    jot_err_t rc = need_b64(obj, "n", &n);
    if (rc == JOT_OK)
        rc = need_b64(obj, "e", &e);
    if (rc != JOT_OK)
        goto done;
    /* RFC 7518 §6.3.1.1: n is unsigned, big-endian, without a leading zero octet */
    if (n.len == 0 || n.p[0] == 0 || e.len == 0 || e.len > 32) {
        rc = JOT_E_KEY_INVALID;
        goto done;
    }
    if (n.len > JOT_MAX_RSA_BITS / 8) {
        rc = JOT_E_KEY_INVALID;
        goto done;
    }
    /* d without the CRT members: OpenSSL 3.0 can hold such a key but cannot check that d
     * belongs to n and e, nor write it as PKCS#8; refuse it rather than trust it. */
    if (priv && !ncrt) {
        rc = JOT_E_UNSUPPORTED;
        goto done;
    }
    if (priv) {
        rc = need_b64(obj, "d", &d);
        for (size_t i = 0; rc == JOT_OK && i < RSA_CRT_COUNT; i++)
            rc = need_b64(obj, rsa_crt[i].member, &crt[i]);
        if (rc != JOT_OK)
            goto done;
        if (d.len == 0 || d.len > n.len) {
            rc = JOT_E_KEY_INVALID;
            goto done;
        }
        for (size_t i = 0; i < RSA_CRT_COUNT; i++)
            if (crt[i].len == 0 || crt[i].len > n.len) {
                rc = JOT_E_KEY_INVALID;
                goto done;
            }
    }
    rc = JOT_E_NOMEM;
    bn_n = bn_from_blob(&n, false);
    bn_e = bn_from_blob(&e, false);
    bld = OSSL_PARAM_BLD_new();
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto done;
    if (priv) {
        if (!(bn_d = bn_from_blob(&d, true)) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bn_d))
            goto done;
        for (size_t i = 0; i < RSA_CRT_COUNT; i++)
            if (!(bn_crt[i] = bn_from_blob(&crt[i], true)) ||
                !OSSL_PARAM_BLD_push_BN(bld, rsa_crt[i].param, bn_crt[i]))
                goto done;
    }
    rc = pkey_fromdata("RSA", bld, priv, &pkey);
    bld = NULL;
    if (rc != JOT_OK)
        goto done;
    /* size and exponent first (a 1024-bit key is weak before it is anything else) */
    rc = wrap_pkey(pkey, &key);
    if (rc == JOT_OK && priv && (rc = rsa_consistent(key->pkey)) != JOT_OK)
        jot_key_free(key);
    else if (rc == JOT_OK)
        *out = key;

done:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    BN_clear_free(bn_d);
    for (size_t i = 0; i < RSA_CRT_COUNT; i++) {
        BN_clear_free(bn_crt[i]);
        blob_free(&crt[i]);
    }
    blob_free(&n);
    blob_free(&e);
    blob_free(&d);
    return rc;
}

/* The "crv" member: absent → invalid, unknown → unsupported. */
static jot_err_t get_crv(const json_t *obj, jot_crv_t *out)
{
    json_t *v = json_object_get(obj, "crv");
    if (!v)
        return JOT_E_KEY_INVALID;
    *out = jot__crv_from_name(json_string_value(v), json_string_length(v));
    return *out == JOT_CRV_NONE ? JOT_E_UNSUPPORTED : JOT_OK;
}

static jot_err_t ec_from_json(const json_t *obj, jot_key_t **out)
{
    jot_crv_t crv;
    jot_err_t rc = get_crv(obj, &crv);
    if (rc != JOT_OK)
        return rc;
    const char *group = jot__crv_group(crv);
    if (!group)
        return JOT_E_UNSUPPORTED; /* an OKP curve under kty EC */
    size_t clen = jot__crv_coord_len(crv);
    blob_t x = {0}, y = {0}, d = {0};
    BIGNUM *bn_d = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t point[1 + 2 * 66];
    rc = need_b64(obj, "x", &x);
    if (rc == JOT_OK)
        rc = need_b64(obj, "y", &y);
    if (rc == JOT_OK && (rc = get_b64(obj, "d", &d)) == JOT_E_NOT_FOUND)
        rc = JOT_OK;
    if (rc != JOT_OK)
        goto done;
    /* RFC 7518 §6.2.1.2, §6.2.2.1: full-length coordinates and private scalar */
    if (x.len != clen || y.len != clen || (d.p && d.len != clen)) {
        rc = JOT_E_KEY_INVALID;
        goto done;
    }
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x.p, clen);
    memcpy(point + 1 + clen, y.p, clen);
    rc = JOT_E_NOMEM;
    if (!(bld = OSSL_PARAM_BLD_new()) ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * clen))
        goto done;
    if (d.p && (!(bn_d = bn_from_blob(&d, true)) ||
                !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn_d)))
        goto done;
    /* a point that is not on the curve fails here already */
    rc = pkey_fromdata("EC", bld, d.p != NULL, &pkey);
    bld = NULL;
    if (rc == JOT_OK) /* point validity again, and d*G == (x, y) when private */
        rc = wrap_pkey(pkey, out);

done:
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bn_d);
    blob_free(&x);
    blob_free(&y);
    blob_free(&d);
    return rc;
}

static jot_err_t okp_from_json(const json_t *obj, jot_key_t **out)
{
    jot_crv_t crv;
    jot_err_t rc = get_crv(obj, &crv);
    if (rc != JOT_OK)
        return rc;
    /* X25519 and X448 are key agreement curves (RFC 8037 §3.2), not for signatures */
    if (crv != JOT_CRV_ED25519 && crv != JOT_CRV_ED448)
        return JOT_E_UNSUPPORTED;
    const char *type = crv == JOT_CRV_ED25519 ? "ED25519" : "ED448";
    size_t klen = jot__crv_coord_len(crv);
    blob_t x = {0}, d = {0};
    EVP_PKEY *pkey = NULL;
    rc = need_b64(obj, "x", &x);
    if (rc == JOT_OK && (rc = get_b64(obj, "d", &d)) == JOT_E_NOT_FOUND)
        rc = JOT_OK;
    if (rc != JOT_OK)
        goto done;
    if (x.len != klen || (d.p && d.len != klen)) {
        rc = JOT_E_KEY_INVALID;
        goto done;
    }
    if (d.p) {
        pkey = EVP_PKEY_new_raw_private_key_ex(NULL, type, NULL, d.p, d.len);
        uint8_t pub[57];
        size_t plen = sizeof pub;
        rc = JOT_E_KEY_INVALID;
        if (pkey && EVP_PKEY_get_raw_public_key(pkey, pub, &plen) == 1 && plen == klen &&
            jot_ct_equal(pub, x.p, klen))
            rc = JOT_OK; /* the public key derived from d is the one given as x */
    } else {
        pkey = EVP_PKEY_new_raw_public_key_ex(NULL, type, NULL, x.p, x.len);
        rc = pkey ? JOT_OK : JOT_E_KEY_INVALID;
    }
    if (rc == JOT_OK) {
        rc = wrap_pkey(pkey, out);
        pkey = NULL;
    }

done:
    EVP_PKEY_free(pkey);
    blob_free(&x);
    blob_free(&d);
    return rc;
}

/* ---- import: common members ----------------------------------------------------------- */

static jot_err_t parse_key_ops(const json_t *v, unsigned *out)
{
    /* registered ops are 8 (RFC 7517 §4.3) and must be unique; bound the quadratic check */
    if (!json_is_array(v) || json_array_size(v) > 16)
        return JOT_E_KEY_INVALID;
    unsigned ops = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *op = json_array_get(v, i);
        if (!json_is_string(op))
            return JOT_E_KEY_INVALID;
        for (size_t j = 0; j < i; j++) {
            const json_t *prev = json_array_get(v, j);
            if (json_string_length(prev) == json_string_length(op) &&
                memcmp(json_string_value(prev), json_string_value(op), json_string_length(op)) == 0)
                return JOT_E_KEY_INVALID;
        }
        if (str_is(op, "sign"))
            ops |= JOT_OP_SIGN;
        else if (str_is(op, "verify"))
            ops |= JOT_OP_VERIFY;
        else /* encrypt, decrypt, wrapKey, unwrapKey, deriveKey, deriveBits, private ones */
            ops |= JOT_OP_OTHER;
    }
    /* an empty array permits nothing; 0 would mean "no key_ops member" */
    *out = ops ? ops : JOT_OP_OTHER;
    return JOT_OK;
}

static jot_err_t import_json(const json_t *obj, jot_key_t **out_key)
{
    for (size_t i = 0; i < sizeof string_members / sizeof string_members[0]; i++) {
        json_t *v = json_object_get(obj, string_members[i]);
        if (v && !json_is_string(v))
            return JOT_E_KEY_INVALID;
    }
    json_t *kty = json_object_get(obj, "kty");
    if (!kty)
        return JOT_E_KEY_INVALID;

    jot_alg_t alg = JOT_ALG_UNSET;
    json_t *v = json_object_get(obj, "alg");
    jot_err_t rc;
    if (v && (rc = jot_alg_from_name(json_string_value(v), json_string_length(v), &alg)) != JOT_OK)
        return rc;

    jot_use_t use = JOT_USE_ANY;
    if ((v = json_object_get(obj, "use"))) {
        if (str_is(v, "sig"))
            use = JOT_USE_SIG;
        else if (str_is(v, "enc"))
            use = JOT_USE_ENC;
        else
            return JOT_E_KEY_INVALID;
    }

    unsigned ops = 0;
    if ((v = json_object_get(obj, "key_ops")) && (rc = parse_key_ops(v, &ops)) != JOT_OK)
        return rc;

    char *kid = NULL;
    if ((v = json_object_get(obj, "kid")) &&
        !(kid = jot__strndup(json_string_value(v), json_string_length(v))))
        return JOT_E_NOMEM;

    jot_key_t *key = NULL;
    if (str_is(kty, "oct"))
        rc = oct_from_json(obj, &key);
    else if (str_is(kty, "RSA"))
        rc = rsa_from_json(obj, &key);
    else if (str_is(kty, "EC"))
        rc = ec_from_json(obj, &key);
    else if (str_is(kty, "OKP"))
        rc = okp_from_json(obj, &key);
    else
        rc = JOT_E_UNSUPPORTED;
    /* "alg" must suit the key (type, curve, HMAC key length); set it before "use" and
     * "key_ops" so that an encryption-only key imports but can never sign or verify */
    if (rc == JOT_OK)
        rc = jot_key_set_alg(key, alg);
    if (rc != JOT_OK) {
        jot_key_free(key);
        jot_free(kid);
        return rc;
    }
    key->use = use;
    key->key_ops = ops;
    key->kid = kid;
    *out_key = key;
    return JOT_OK;
}

jot_err_t jot__key_from_json(json_t *obj, jot_key_t **out_key)
{
    if (!json_is_object(obj) || !out_key)
        return JOT_E_INVAL;
    jot_err_t rc = import_json(obj, out_key);
    jot__jwk_wipe_json(obj);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}

jot_err_t jot_key_from_jwk(const char *json, size_t len, jot_key_t **out_key)
{
    if (!json || !out_key)
        return JOT_E_INVAL;
    json_t *obj = NULL;
    jot_err_t rc = jot__json_parse(json, len, JOT_MAX_JWK_BYTES, JOT_MAX_JSON_DEPTH, true, &obj);
    if (rc != JOT_OK)
        return rc;
    rc = jot__key_from_json(obj, out_key);
    json_decref(obj);
    return rc;
}

jot_err_t jot_key_parse(const char *data, size_t len, jot_key_t **out_key)
{
    if (!data || !out_key)
        return JOT_E_INVAL;
    if (len > JOT_MAX_JWK_BYTES)
        return JOT_E_TOOBIG;
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    static const char begin[] = "-----BEGIN";
    if (i < len && data[i] == '{')
        return jot_key_from_jwk(data, len, out_key);
    /* PEM may follow explanatory text (as "openssl pkcs12" writes it): whatever
     * jot_key_from_pem accepts, this accepts too */
    for (size_t j = i; j + sizeof begin - 1 <= len; j++)
        if (memcmp(data + j, begin, sizeof begin - 1) == 0)
            return jot_key_from_pem(data + i, len - i, out_key);
    return JOT_E_KEY_INVALID;
}

/* ---- export --------------------------------------------------------------------------- */

/* The JWK writer: a jotx_buf_t (common/buf.h) that wipes every copy it lets go of (private
 * members pass through it), the member count, and the first error; errors are sticky. */
typedef struct sb {
    jotx_buf_t buf;
    unsigned members;
    jot_err_t rc;
} sb_t;

static void sb_init(sb_t *b)
{
    jotx_buf_init(&b->buf, NULL, 0, SIZE_MAX, true, &jot__alloc);
    b->members = 0;
    b->rc = JOT_OK;
}

/* The buffer's sticky error as the first error, if there is none yet. */
static void sb_buf_failed(sb_t *b)
{
    if (b->rc == JOT_OK)
        b->rc = b->buf.oom ? JOT_E_NOMEM : JOT_E_TOOBIG;
}

static void sb_put(sb_t *b, const char *s, size_t n)
{
    if (b->rc == JOT_OK && jotx_buf_add(&b->buf, s, n) != JOTX_OK)
        sb_buf_failed(b);
}

static void sb_puts(sb_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_free(sb_t *b)
{
    jotx_buf_free(&b->buf);
}

/* ,"name": */
static void sb_name(sb_t *b, const char *name)
{
    if (b->members++)
        sb_put(b, ",", 1);
    sb_put(b, "\"", 1);
    sb_puts(b, name);
    sb_put(b, "\":", 2);
}

/* "name":"value" for a value that needs no escaping (kty, crv, alg, use names) */
static void sb_member_str(sb_t *b, const char *name, const char *value)
{
    if (!value) {
        if (b->rc == JOT_OK)
            b->rc = JOT_E_INVAL;
        return;
    }
    sb_name(b, name);
    sb_put(b, "\"", 1);
    sb_puts(b, value);
    sb_put(b, "\"", 1);
}

static void sb_member_b64(sb_t *b, const char *name, const uint8_t *data, size_t n)
{
    sb_name(b, name);
    if (b->rc != JOT_OK)
        return;
    size_t elen = jot_b64url_encoded_len(n);
    if (elen == SIZE_MAX) {
        b->rc = JOT_E_TOOBIG;
        return;
    }
    char *at = jotx_buf_extend(&b->buf, elen + 2); /* "...": the NUL after them is written */
    if (!at) {
        sb_buf_failed(b);
        return;
    }
    at[0] = '"';
    jot_b64url_encode(at + 1, data, n); /* its NUL lands where the closing quote goes */
    at[elen + 1] = '"';
}

/* "name":<JSON string>, escaped by jansson (kid can hold anything) */
static void sb_member_json_string(sb_t *b, const char *name, const char *value)
{
    jot__json_oom_clear();
    json_t *s = json_string(value);
    if (!s) { /* invalid UTF-8 (a kid set through jot_key_set_kid()), or no memory */
        if (b->rc == JOT_OK)
            b->rc = jot__json_oom() ? JOT_E_NOMEM : JOT_E_UTF8;
        return;
    }
    char *text = NULL;
    size_t tlen = 0;
    jot_err_t rc = jot__json_dump(s, &text, &tlen);
    json_decref(s);
    if (rc != JOT_OK) {
        if (b->rc == JOT_OK)
            b->rc = rc;
        return;
    }
    sb_name(b, name);
    sb_put(b, text, tlen);
    jot_free(text);
}

static const char *kty_name(jot_kty_t kty)
{
    switch (kty) {
    case JOT_KTY_OCT:
        return "oct";
    case JOT_KTY_RSA:
        return "RSA";
    case JOT_KTY_EC:
        return "EC";
    case JOT_KTY_OKP:
        return "OKP";
    case JOT_KTY_NONE:
        break;
    }
    return NULL;
}

/* Key components, by their JWK member name. */
typedef enum comp { C_N, C_E, C_D, C_P, C_Q, C_DP, C_DQ, C_QI, C_X, C_Y, C_K } comp_t;

static const char *const comp_member[] = {"n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y", "k"};

static const char *rsa_param(comp_t c)
{
    switch (c) {
    case C_N:
        return OSSL_PKEY_PARAM_RSA_N;
    case C_E:
        return OSSL_PKEY_PARAM_RSA_E;
    case C_D:
        return OSSL_PKEY_PARAM_RSA_D;
    case C_P:
        return OSSL_PKEY_PARAM_RSA_FACTOR1;
    case C_Q:
        return OSSL_PKEY_PARAM_RSA_FACTOR2;
    case C_DP:
        return OSSL_PKEY_PARAM_RSA_EXPONENT1;
    case C_DQ:
        return OSSL_PKEY_PARAM_RSA_EXPONENT2;
    case C_QI:
        return OSSL_PKEY_PARAM_RSA_COEFFICIENT1;
    default:
        return NULL;
    }
}

/* Big-endian bytes of a BIGNUM parameter: minimal (pad 0) or left-padded to \p pad. */
static jot_err_t bn_param(EVP_PKEY *pkey, const char *param, size_t pad, blob_t *out)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        return JOT_E_NOT_FOUND;
    size_t n = (size_t)BN_num_bytes(bn);
    jot_err_t rc = JOT_OK;
    if (pad && n > pad)
        rc = JOT_E_KEY_INVALID;
    size_t len = pad ? pad : n;
    uint8_t *buf = rc == JOT_OK ? jot__malloc(len) : NULL;
    if (rc == JOT_OK && !buf)
        rc = JOT_E_NOMEM;
    if (rc == JOT_OK && BN_bn2binpad(bn, buf, (int)len) != (int)len)
        rc = JOT_E_CRYPTO;
    BN_clear_free(bn);
    if (rc != JOT_OK) {
        jot__free_secret(buf, len);
        return rc;
    }
    out->p = buf;
    out->len = len;
    return JOT_OK;
}

static jot_err_t raw_param(EVP_PKEY *pkey, bool priv, blob_t *out)
{
    size_t n = 0;
    int ok = priv ? EVP_PKEY_get_raw_private_key(pkey, NULL, &n)
                  : EVP_PKEY_get_raw_public_key(pkey, NULL, &n);
    if (ok != 1)
        return JOT_E_NOT_FOUND;
    uint8_t *buf = jot__malloc(n);
    if (!buf)
        return JOT_E_NOMEM;
    ok = priv ? EVP_PKEY_get_raw_private_key(pkey, buf, &n)
              : EVP_PKEY_get_raw_public_key(pkey, buf, &n);
    if (ok != 1) {
        jot__free_secret(buf, n);
        return JOT_E_CRYPTO;
    }
    out->p = buf;
    out->len = n;
    return JOT_OK;
}

/* The bytes of component \p c of \p key (JOT_E_NOT_FOUND when the key has none). */
static jot_err_t get_comp(const jot_key_t *key, comp_t c, blob_t *out)
{
    switch (key->kty) {
    case JOT_KTY_OCT: {
        if (c != C_K)
            return JOT_E_NOT_FOUND;
        uint8_t *buf = jot__malloc(key->oct_len);
        if (!buf)
            return JOT_E_NOMEM;
        memcpy(buf, key->oct, key->oct_len);
        out->p = buf;
        out->len = key->oct_len;
        return JOT_OK;
    }
    case JOT_KTY_RSA: {
        const char *param = rsa_param(c);
        return param ? bn_param(key->pkey, param, 0, out) : JOT_E_NOT_FOUND;
    }
    case JOT_KTY_EC: {
        size_t clen = jot__crv_coord_len(key->crv);
        if (c == C_X)
            return bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, clen, out);
        if (c == C_Y)
            return bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, clen, out);
        if (c == C_D)
            return bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, clen, out);
        return JOT_E_NOT_FOUND;
    }
    case JOT_KTY_OKP:
        if (c == C_X || c == C_D)
            return raw_param(key->pkey, c == C_D, out);
        return JOT_E_NOT_FOUND;
    case JOT_KTY_NONE:
        break;
    }
    return JOT_E_NOT_FOUND;
}

static void sb_member_comp(sb_t *b, const jot_key_t *key, comp_t c)
{
    if (b->rc != JOT_OK)
        return;
    blob_t v = {0};
    jot_err_t rc = get_comp(key, c, &v);
    if (rc == JOT_E_NOT_FOUND)
        rc = JOT_E_KEY_INVALID; /* a component the key type must have */
    if (rc != JOT_OK) {
        b->rc = rc;
        return;
    }
    sb_member_b64(b, comp_member[c], v.p, v.len);
    blob_free(&v);
}

/* The members every public form has (kty excluded), in JWK export order. */
static void put_public(sb_t *b, const jot_key_t *key)
{
    switch (key->kty) {
    case JOT_KTY_EC:
        sb_member_str(b, "crv", jot__crv_name(key->crv));
        sb_member_comp(b, key, C_X);
        sb_member_comp(b, key, C_Y);
        break;
    case JOT_KTY_RSA:
        sb_member_comp(b, key, C_N);
        sb_member_comp(b, key, C_E);
        break;
    case JOT_KTY_OKP:
        sb_member_str(b, "crv", jot__crv_name(key->crv));
        sb_member_comp(b, key, C_X);
        break;
    case JOT_KTY_OCT:
    case JOT_KTY_NONE:
        break;
    }
}

static void put_private(sb_t *b, const jot_key_t *key)
{
    switch (key->kty) {
    case JOT_KTY_OCT:
        sb_member_comp(b, key, C_K);
        break;
    case JOT_KTY_EC:
    case JOT_KTY_OKP:
        sb_member_comp(b, key, C_D);
        break;
    case JOT_KTY_RSA: {
        sb_member_comp(b, key, C_D);
        /* the CRT members go out all together or not at all */
        blob_t v = {0};
        jot_err_t crc = b->rc == JOT_OK ? get_comp(key, C_P, &v) : JOT_E_NOT_FOUND;
        if (crc == JOT_OK) {
            blob_free(&v);
            for (comp_t c = C_P; c <= C_QI; c++)
                sb_member_comp(b, key, c);
        } else if (crc != JOT_E_NOT_FOUND && b->rc == JOT_OK) {
            b->rc = crc; /* out of memory: never a private key without its primes */
        }
        break;
    }
    case JOT_KTY_NONE:
        break;
    }
}

static void put_key_ops(sb_t *b, unsigned ops)
{
    sb_name(b, "key_ops");
    sb_put(b, "[", 1);
    bool first = true;
    if (ops & JOT_OP_SIGN) {
        sb_puts(b, "\"sign\"");
        first = false;
    }
    if (ops & JOT_OP_VERIFY)
        sb_puts(b, first ? "\"verify\"" : ",\"verify\"");
    /* JOT_OP_OTHER keeps no names: [] still permits neither signing nor verifying */
    sb_put(b, "]", 1);
}

jot_err_t jot_key_to_jwk(const jot_key_t *key, unsigned flags, char **out_json, size_t *out_len)
{
    if (!key || !out_json || (flags & ~JOT_JWK_PRIVATE))
        return JOT_E_INVAL;
    const char *kty = kty_name(key->kty);
    if (!kty)
        return JOT_E_INVAL;
    bool priv = flags & JOT_JWK_PRIVATE;
    if (key->kty == JOT_KTY_OCT && !priv)
        return JOT_E_UNSUPPORTED; /* a secret key has no public form */
    if (priv && !key->has_private)
        return JOT_E_KEY_PRIVATE_NEEDED;
    sb_t b;
    sb_init(&b);
    sb_put(&b, "{", 1);
    sb_member_str(&b, "kty", kty);
    put_public(&b, key);
    if (priv)
        put_private(&b, key);
    if (key->kid)
        sb_member_json_string(&b, "kid", key->kid);
    if (key->alg != JOT_ALG_UNSET)
        sb_member_str(&b, "alg", jot_alg_name(key->alg));
    if (key->use != JOT_USE_ANY)
        sb_member_str(&b, "use", key->use == JOT_USE_SIG ? "sig" : "enc");
    if (key->key_ops)
        put_key_ops(&b, key->key_ops);
    sb_put(&b, "}", 1);
    if (b.rc != JOT_OK) {
        sb_free(&b);
        ERR_clear_error();
        return b.rc;
    }
    *out_json = jotx_buf_take(&b.buf, out_len); /* NUL-terminated; the caller's now */
    return *out_json ? JOT_OK : JOT_E_NOMEM;
}

/* The thumbprint is a SHA-256 digest in base64url: 32 bytes, JOT_THUMBPRINT_LEN characters. */
#define THUMBPRINT_DIGEST_LEN 32
_Static_assert(JOT_THUMBPRINT_LEN == (THUMBPRINT_DIGEST_LEN * 4 + 2) / 3,
               "JOT_THUMBPRINT_LEN is the base64url length of a SHA-256 digest");

jot_err_t jot_key_thumbprint(const jot_key_t *key, char out[JOT_THUMBPRINT_LEN + 1])
{
    if (!key || !out)
        return JOT_E_INVAL;
    /* RFC 7638 §3.2 (RFC 8037 §2 for OKP): the required members only, sorted, no spaces */
    sb_t b;
    sb_init(&b);
    sb_put(&b, "{", 1);
    switch (key->kty) {
    case JOT_KTY_EC:
        sb_member_str(&b, "crv", jot__crv_name(key->crv));
        sb_member_str(&b, "kty", "EC");
        sb_member_comp(&b, key, C_X);
        sb_member_comp(&b, key, C_Y);
        break;
    case JOT_KTY_RSA:
        sb_member_comp(&b, key, C_E);
        sb_member_str(&b, "kty", "RSA");
        sb_member_comp(&b, key, C_N);
        break;
    case JOT_KTY_OCT:
        sb_member_comp(&b, key, C_K);
        sb_member_str(&b, "kty", "oct");
        break;
    case JOT_KTY_OKP:
        sb_member_str(&b, "crv", jot__crv_name(key->crv));
        sb_member_str(&b, "kty", "OKP");
        sb_member_comp(&b, key, C_X);
        break;
    case JOT_KTY_NONE:
        b.rc = JOT_E_INVAL;
        break;
    }
    sb_put(&b, "}", 1);
    uint8_t md[THUMBPRINT_DIGEST_LEN];
    unsigned mdlen = 0;
    jot_err_t rc = b.rc;
    if (rc == JOT_OK &&
        (EVP_Digest(b.buf.p, b.buf.len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof md))
        rc = JOT_E_CRYPTO;
    sb_free(&b); /* holds k for an oct key */
    if (rc != JOT_OK) {
        ERR_clear_error();
        return rc;
    }
    jot_b64url_encode(out, md, sizeof md);
    return JOT_OK;
}

jot_err_t jot_key_public(const jot_key_t *key, jot_key_t **out_key)
{
    if (!key || !out_key)
        return JOT_E_INVAL;
    if (key->kty == JOT_KTY_OCT)
        return JOT_E_UNSUPPORTED;
    if (!key->pkey)
        return JOT_E_INVAL;
    /* a fresh EVP_PKEY from the public parameters: nothing mutable is shared */
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pub = NULL;
    jot_key_t *k = NULL;
    jot_err_t rc = JOT_E_CRYPTO;
    if (EVP_PKEY_todata(key->pkey, EVP_PKEY_PUBLIC_KEY, &params) == 1 &&
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, EVP_PKEY_get0_type_name(key->pkey), NULL)) &&
        EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params) == 1)
        rc = wrap_pkey(pub, &k);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (rc == JOT_OK && key->kid && !(k->kid = jot__strdup(key->kid)))
        rc = JOT_E_NOMEM;
    if (rc != JOT_OK) {
        jot_key_free(k);
        ERR_clear_error();
        return rc;
    }
    k->alg = key->alg;
    k->use = key->use;
    k->key_ops = key->key_ops;
    *out_key = k;
    return JOT_OK;
}
