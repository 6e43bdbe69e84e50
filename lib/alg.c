/* The algorithm table: every JWS algorithm libjot knows, and what it binds a key to. */
#include "internal.h"

#include <string.h>

static const jot_alg_info_t alg_table[] = {
    {JOT_ALG_HS256, "HS256", JOT_FAM_HMAC, "SHA256", 32, JOT_KTY_OCT, JOT_CRV_NONE, 32},
    {JOT_ALG_HS384, "HS384", JOT_FAM_HMAC, "SHA384", 48, JOT_KTY_OCT, JOT_CRV_NONE, 48},
    {JOT_ALG_HS512, "HS512", JOT_FAM_HMAC, "SHA512", 64, JOT_KTY_OCT, JOT_CRV_NONE, 64},
    {JOT_ALG_RS256, "RS256", JOT_FAM_RSA_PKCS1, "SHA256", 32, JOT_KTY_RSA, JOT_CRV_NONE, 0},
    {JOT_ALG_RS384, "RS384", JOT_FAM_RSA_PKCS1, "SHA384", 48, JOT_KTY_RSA, JOT_CRV_NONE, 0},
    {JOT_ALG_RS512, "RS512", JOT_FAM_RSA_PKCS1, "SHA512", 64, JOT_KTY_RSA, JOT_CRV_NONE, 0},
    {JOT_ALG_PS256, "PS256", JOT_FAM_RSA_PSS, "SHA256", 32, JOT_KTY_RSA, JOT_CRV_NONE, 0},
    {JOT_ALG_PS384, "PS384", JOT_FAM_RSA_PSS, "SHA384", 48, JOT_KTY_RSA, JOT_CRV_NONE, 0},
    {JOT_ALG_PS512, "PS512", JOT_FAM_RSA_PSS, "SHA512", 64, JOT_KTY_RSA, JOT_CRV_NONE, 0},
    {JOT_ALG_ES256, "ES256", JOT_FAM_ECDSA, "SHA256", 32, JOT_KTY_EC, JOT_CRV_P256, 64},
    {JOT_ALG_ES384, "ES384", JOT_FAM_ECDSA, "SHA384", 48, JOT_KTY_EC, JOT_CRV_P384, 96},
    {JOT_ALG_ES512, "ES512", JOT_FAM_ECDSA, "SHA512", 64, JOT_KTY_EC, JOT_CRV_P521, 132},
    {JOT_ALG_ES256K, "ES256K", JOT_FAM_ECDSA, "SHA256", 32, JOT_KTY_EC, JOT_CRV_SECP256K1, 64},
    {JOT_ALG_EDDSA, "EdDSA", JOT_FAM_EDDSA, NULL, 0, JOT_KTY_OKP, JOT_CRV_NONE, 0},
};

const jot_alg_info_t *jot__alg_info(jot_alg_t alg)
{
    if (alg <= JOT_ALG_UNSET || alg >= JOT_ALG__COUNT)
        return NULL;
    return &alg_table[alg - 1];
}

const char *jot_alg_name(jot_alg_t alg)
{
    const jot_alg_info_t *ai = jot__alg_info(alg);
    return ai ? ai->name : "";
}

jot_err_t jot_alg_from_name(const char *name, size_t len, jot_alg_t *out_alg)
{
    if (!name || !out_alg)
        return JOT_E_INVAL;
    /* exact and case-sensitive: "None", "hs256" are unknown, not aliases */
    if (len == 4 && memcmp(name, "none", 4) == 0)
        return JOT_E_ALG_NONE;
    for (size_t i = 0; i < sizeof alg_table / sizeof alg_table[0]; i++) {
        const char *n = alg_table[i].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            *out_alg = alg_table[i].alg;
            return JOT_OK;
        }
    }
    return JOT_E_ALG_UNKNOWN;
}

jot_err_t jot_alg_mask_from_list(const char *list, unsigned *out_mask)
{
    if (!list || !out_mask)
        return JOT_E_INVAL;
    unsigned mask = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        jot_alg_t alg;
        jot_err_t rc = jot_alg_from_name(p, n, &alg);
        if (rc != JOT_OK)
            return rc;
        mask |= JOT_ALG_BIT(alg);
        if (!comma)
            break;
        p = comma + 1;
    }
    *out_mask = mask;
    return JOT_OK;
}

static const struct {
    jot_crv_t crv;
    const char *name;
    size_t coord_len;
    const char *group; /* OpenSSL's name of an EC group; NULL for OKP */
} crv_table[] = {
    {JOT_CRV_P256, "P-256", 32, "prime256v1"}, {JOT_CRV_P384, "P-384", 48, "secp384r1"},
    {JOT_CRV_P521, "P-521", 66, "secp521r1"},  {JOT_CRV_SECP256K1, "secp256k1", 32, "secp256k1"},
    {JOT_CRV_ED25519, "Ed25519", 32, NULL},    {JOT_CRV_ED448, "Ed448", 57, NULL},
};

const char *jot__crv_name(jot_crv_t crv)
{
    for (size_t i = 0; i < sizeof crv_table / sizeof crv_table[0]; i++)
        if (crv_table[i].crv == crv)
            return crv_table[i].name;
    return NULL;
}

jot_crv_t jot__crv_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof crv_table / sizeof crv_table[0]; i++)
        if (strlen(crv_table[i].name) == len && memcmp(crv_table[i].name, name, len) == 0)
            return crv_table[i].crv;
    return JOT_CRV_NONE;
}

size_t jot__crv_coord_len(jot_crv_t crv)
{
    for (size_t i = 0; i < sizeof crv_table / sizeof crv_table[0]; i++)
        if (crv_table[i].crv == crv)
            return crv_table[i].coord_len;
    return 0;
}

const char *jot__crv_group(jot_crv_t crv)
{
    for (size_t i = 0; i < sizeof crv_table / sizeof crv_table[0]; i++)
        if (crv_table[i].crv == crv)
            return crv_table[i].group;
    return NULL;
}

jot_crv_t jot__crv_from_group(const char *group)
{
    for (size_t i = 0; i < sizeof crv_table / sizeof crv_table[0]; i++)
        if (crv_table[i].group && strcmp(crv_table[i].group, group) == 0)
            return crv_table[i].crv;
    return JOT_CRV_NONE;
}
