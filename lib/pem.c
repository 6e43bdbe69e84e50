/* PEM keys: import of PKCS#8, SPKI, traditional RSA/EC private keys and PKCS#1 RSA public
 * keys; export as SPKI or unencrypted PKCS#8.
 *
 * The PEM block is read with PEM_read_bio_ex() and its label decides the DER structure, so
 * nothing here ever asks for a passphrase: encrypted keys are recognised and refused. */
#include "internal.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

typedef enum pem_kind {
    PEM_KIND_PKCS8,
    PEM_KIND_SPKI,
    PEM_KIND_RSA_PRIV,
    PEM_KIND_EC_PRIV,
    PEM_KIND_RSA_PUB,
    PEM_KIND_SKIP,      /* "EC PARAMETERS" in front of an "EC PRIVATE KEY" */
    PEM_KIND_ENCRYPTED, /* refused */
    PEM_KIND_OTHER      /* certificates, DSA, ... */
} pem_kind_t;

static pem_kind_t kind_of(const char *label)
{
    static const struct {
        const char *label;
        pem_kind_t kind;
    } labels[] = {
        {"PRIVATE KEY", PEM_KIND_PKCS8},
        {"PUBLIC KEY", PEM_KIND_SPKI},
        {"RSA PRIVATE KEY", PEM_KIND_RSA_PRIV},
        {"EC PRIVATE KEY", PEM_KIND_EC_PRIV},
        {"RSA PUBLIC KEY", PEM_KIND_RSA_PUB},
        {"EC PARAMETERS", PEM_KIND_SKIP},
        {"ENCRYPTED PRIVATE KEY", PEM_KIND_ENCRYPTED},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].label, label) == 0)
            return labels[i].kind;
    return PEM_KIND_OTHER;
}

/* Decode the DER of one block; JOT_E_PEM when it is not the structure the label names or
 * when bytes are left over. */
static jot_err_t decode_der(pem_kind_t kind, const unsigned char *der, long len, EVP_PKEY **out)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = NULL;
    switch (kind) {
    case PEM_KIND_PKCS8: {
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
        if (p8 && p == der + len)
            pkey = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8); /* clears the key octets */
        break;
    }
    case PEM_KIND_SPKI:
        pkey = d2i_PUBKEY(NULL, &p, len);
        break;
    case PEM_KIND_RSA_PRIV:
        pkey = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
        break;
    case PEM_KIND_EC_PRIV:
        pkey = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
        break;
    case PEM_KIND_RSA_PUB:
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
        break;
    default:
        break;
    }
    if (pkey && p != der + len) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (!pkey)
        return JOT_E_PEM;
    *out = pkey;
    return JOT_OK;
}

/* RSA private keys: two primes only (JWK "oth" is refused as well) and consistent parts. */
static jot_err_t check_rsa_private(EVP_PKEY *pkey)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &bn) == 1) {
        BN_clear_free(bn);
        return JOT_E_UNSUPPORTED;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        return JOT_E_NOMEM;
    int ok = EVP_PKEY_pairwise_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1 ? JOT_OK : JOT_E_KEY_INVALID;
}

static jot_err_t pem_import(BIO *bio, jot_key_t **out_key)
{
    for (;;) {
        char *label = NULL, *header = NULL;
        unsigned char *der = NULL;
        long der_len = 0;
        if (PEM_read_bio_ex(bio, &label, &header, &der, &der_len,
                            PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) != 1)
            return JOT_E_PEM; /* no (further) block, or a garbled one */
        pem_kind_t kind = kind_of(label);
        jot_err_t rc = JOT_OK;
        if (kind == PEM_KIND_ENCRYPTED || (header && header[0] != '\0'))
            rc = JOT_E_UNSUPPORTED; /* PKCS#8 encrypted, or "Proc-Type: 4,ENCRYPTED" */
        else if (kind == PEM_KIND_OTHER)
            rc = JOT_E_UNSUPPORTED;
        EVP_PKEY *pkey = NULL;
        if (rc == JOT_OK && kind != PEM_KIND_SKIP)
            rc = decode_der(kind, der, der_len, &pkey);
        OPENSSL_secure_free(label);
        OPENSSL_secure_free(header);
        OPENSSL_secure_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
        if (rc != JOT_OK)
            return rc;
        if (kind == PEM_KIND_SKIP)
            continue;

        jot_key_t *key = NULL;
        rc = jot__key_from_pkey(pkey, &key);
        if (rc != JOT_OK) {
            EVP_PKEY_free(pkey);
            return rc;
        }
        if (key->kty == JOT_KTY_RSA && key->has_private &&
            (rc = check_rsa_private(key->pkey)) != JOT_OK) {
            jot_key_free(key);
            return rc;
        }
        *out_key = key;
        return JOT_OK;
    }
}

jot_err_t jot_key_from_pem(const char *pem, size_t len, jot_key_t **out_key)
{
    if (!pem || !out_key)
        return JOT_E_INVAL;
    if (len > JOT_MAX_JWK_BYTES)
        return JOT_E_TOOBIG;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return JOT_E_NOMEM;
    jot_err_t rc = pem_import(bio, out_key);
    BIO_free(bio);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}

jot_err_t jot_key_to_pem(const jot_key_t *key, unsigned flags, char **out_pem, size_t *out_len)
{
    if (!key || !out_pem || (flags & ~JOT_JWK_PRIVATE))
        return JOT_E_INVAL;
    if (key->kty == JOT_KTY_OCT)
        return JOT_E_UNSUPPORTED;
    if (!key->pkey)
        return JOT_E_INVAL;
    bool priv = flags & JOT_JWK_PRIVATE;
    if (priv && !key->has_private)
        return JOT_E_KEY_PRIVATE_NEEDED;
    /* a secure-memory BIO clears its buffer when freed */
    BIO *bio = BIO_new(priv ? BIO_s_secmem() : BIO_s_mem());
    if (!bio)
        return JOT_E_NOMEM;
    jot_err_t rc = JOT_E_CRYPTO;
    int ok = priv ? PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)
                  : PEM_write_bio_PUBKEY(bio, key->pkey);
    char *data = NULL;
    long n = ok == 1 ? BIO_get_mem_data(bio, &data) : 0;
    if (n > 0 && data) {
        char *out = jot__strndup(data, (size_t)n);
        if (out) {
            *out_pem = out;
            if (out_len)
                *out_len = (size_t)n;
            rc = JOT_OK;
        } else {
            rc = JOT_E_NOMEM;
        }
    }
    BIO_free(bio);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}
