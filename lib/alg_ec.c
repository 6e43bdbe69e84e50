/* ECDSA back end (ES256, ES384, ES512, ES256K). JWS carries r||s, each exactly the curve's
 * coordinate length (RFC 7518 §3.4); OpenSSL speaks DER. Verification range-checks r and s
 * against the group order first (0 < r, s < n: no r = s = 0 "psychic signatures"), then
 * encodes the DER itself on the stack: the hot path makes no allocation of its own beyond
 * the digest context. */
#include "internal.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <string.h>

/* Group orders, big-endian, each exactly the curve's coordinate length. */
static const uint8_t order_p256[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const uint8_t order_p384[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};
static const uint8_t order_p521[66] = {
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b,
    0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09, 0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c,
    0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38, 0x64, 0x09,
};
static const uint8_t order_secp256k1[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* Largest coordinate (P-521) and the largest DER ECDSA-Sig-Value it gives:
 * SEQUENCE header (3) + 2 * (INTEGER header (2) + sign byte (1) + 66). */
#define EC_MAX_COORD 66u
#define EC_MAX_DER (3u + 2u * (2u + 1u + EC_MAX_COORD))

/* Order of the curve \p ai binds, with its coordinate length; NULL if unknown. */
static const uint8_t *curve_order(const jot_alg_info_t *ai, size_t *out_coord)
{
    const uint8_t *n = NULL;
    size_t coord = 0;
    switch (ai->crv) {
    case JOT_CRV_P256:
        n = order_p256;
        coord = sizeof order_p256;
        break;
    case JOT_CRV_P384:
        n = order_p384;
        coord = sizeof order_p384;
        break;
    case JOT_CRV_P521:
        n = order_p521;
        coord = sizeof order_p521;
        break;
    case JOT_CRV_SECP256K1:
        n = order_secp256k1;
        coord = sizeof order_secp256k1;
        break;
    default:
        return NULL;
    }
    if (ai->sig_len != 2 * coord)
        return NULL;
    *out_coord = coord;
    return n;
}

/* The key's field size must give the coordinate length the algorithm expects (the curve
 * itself is bound by jot_key_check_alg() before the back end is called). */
static bool key_fits(EVP_PKEY *pkey, size_t coord)
{
    int bits = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC ? EVP_PKEY_get_bits(pkey) : 0;
    return bits > 0 && ((size_t)bits + 7) / 8 == coord;
}

/* True when 0 < v < n, both big-endian of \p len bytes. Public data: may branch. */
static bool in_range(const uint8_t *v, const uint8_t *n, size_t len)
{
    bool nonzero = false;
    for (size_t i = 0; i < len; i++)
        nonzero |= v[i] != 0;
    if (!nonzero)
        return false;
    for (size_t i = 0; i < len; i++)
        if (v[i] != n[i])
            return v[i] < n[i];
    return false; /* v == n */
}

/* Content length of the DER INTEGER of a non-negative big-endian value: leading zero bytes
 * dropped (one kept for zero), a 0x00 added when the top bit is set. */
static size_t der_int_len(const uint8_t *v, size_t len)
{
    while (len > 1 && v[0] == 0) {
        v++;
        len--;
    }
    return len + ((v[0] & 0x80) ? 1 : 0);
}

/* Write that INTEGER (tag, length, content) at \p out; \p len <= EC_MAX_COORD, so the
 * length is always in short form. Returns the bytes written. */
static size_t der_int(uint8_t *out, const uint8_t *v, size_t len)
{
    size_t clen = der_int_len(v, len);
    out[0] = 0x02;
    out[1] = (uint8_t)clen;
    if (clen > len) { /* sign byte */
        out[2] = 0x00;
        memcpy(out + 3, v, len);
    } else {
        memcpy(out + 2, v + (len - clen), clen);
    }
    return 2 + clen;
}

/* DER ECDSA-Sig-Value of r||s into \p out (EC_MAX_DER bytes); returns its length. */
static size_t der_sig(uint8_t out[EC_MAX_DER], const uint8_t *rs, size_t coord)
{
    size_t blen = 2 + der_int_len(rs, coord) + 2 + der_int_len(rs + coord, coord);
    size_t n = 0;
    out[n++] = 0x30;
    if (blen >= 0x80)
        out[n++] = 0x81;
    out[n++] = (uint8_t)blen;
    n += der_int(out + n, rs, coord);
    n += der_int(out + n, rs + coord, coord);
    return n;
}

/* One DER INTEGER at *p (before end) into \p out, right-aligned on \p coord bytes. Only
 * OpenSSL's own output is read here, but every length is still checked. */
static bool der_read_int(const uint8_t **p, const uint8_t *end, size_t coord, uint8_t *out)
{
    const uint8_t *q = *p;
    if (end - q < 2 || q[0] != 0x02 || q[1] == 0 || q[1] >= 0x80 || (size_t)(end - q - 2) < q[1])
        return false;
    size_t n = q[1];
    const uint8_t *v = q + 2;
    *p = v + n;
    while (n > 1 && v[0] == 0) { /* the sign byte, and any zero padding */
        v++;
        n--;
    }
    if (n > coord)
        return false;
    memset(out, 0, coord - n);
    memcpy(out + coord - n, v, n);
    return true;
}

/* OpenSSL's DER ECDSA-Sig-Value to JWS r||s of 2 * \p coord bytes. */
static bool der_to_rs(const uint8_t *der, size_t len, size_t coord, uint8_t *rs)
{
    const uint8_t *p = der, *end = der + len;
    if (len < 2 || p[0] != 0x30)
        return false;
    size_t body = p[1];
    p += 2;
    if (body == 0x81 && len >= 3) {
        body = p[0];
        p++;
    } else if (body >= 0x80) {
        return false;
    }
    if ((size_t)(end - p) != body)
        return false;
    return der_read_int(&p, end, coord, rs) && der_read_int(&p, end, coord, rs + coord) && p == end;
}

static jot_err_t ec_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                         size_t len, uint8_t **out_sig, size_t *out_len)
{
    EVP_PKEY *pkey = key ? key->pkey : NULL;
    if (!ai || ai->family != JOT_FAM_ECDSA || !ai->md_name || !pkey || (!data && len) || !out_sig ||
        !out_len)
        return JOT_E_INVAL;
    size_t coord = 0;
    if (!curve_order(ai, &coord))
        return JOT_E_INVAL;
    if (!key_fits(pkey, coord))
        return JOT_E_KEY_MISMATCH;
    int max = EVP_PKEY_get_size(pkey);
    if (max <= 0 || (size_t)max > EC_MAX_DER)
        return JOT_E_CRYPTO;

    uint8_t der[EC_MAX_DER];
    size_t der_len = sizeof der;
    jot_err_t rc = jot__pkey_sign_digest(ai, key, NULL, data, len, der, &der_len);
    if (rc != JOT_OK)
        return rc;
    uint8_t *sig = jot__malloc(2 * coord);
    if (!sig)
        return JOT_E_NOMEM;
    if (!der_to_rs(der, der_len, coord, sig)) {
        jot_free(sig);
        return JOT_E_CRYPTO;
    }
    *out_sig = sig;
    *out_len = 2 * coord;
    return JOT_OK;
}

jot_err_t jot__ec_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                       size_t len, uint8_t **out_sig, size_t *out_len)
{
    jot_err_t rc = ec_sign(ai, key, data, len, out_sig, out_len);
    if (rc != JOT_OK)
        ERR_clear_error(); /* the failure is reported by rc alone */
    return rc;
}

jot_err_t jot__ec_verify(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                         size_t len, const uint8_t *sig, size_t sig_len)
{
    EVP_PKEY *pkey = key ? key->pkey : NULL;
    if (!ai || ai->family != JOT_FAM_ECDSA || !ai->md_name || !pkey || (!data && len) ||
        (!sig && sig_len))
        return JOT_E_INVAL;
    size_t coord = 0;
    const uint8_t *n = curve_order(ai, &coord);
    if (!n)
        return JOT_E_INVAL;
    if (!key_fits(pkey, coord))
        return JOT_E_KEY_MISMATCH;
    /* exactly r||s at full length, and 0 < r < n, 0 < s < n, before OpenSSL sees it */
    if (sig_len != 2 * coord || !in_range(sig, n, coord) || !in_range(sig + coord, n, coord))
        return JOT_E_SIGNATURE;

    uint8_t der[EC_MAX_DER];
    size_t der_len = der_sig(der, sig, coord);

    jot_err_t rc = jot__pkey_verify_digest(ai, key, NULL, data, len, der, der_len);
    if (rc != JOT_OK)
        ERR_clear_error();
    return rc;
}
