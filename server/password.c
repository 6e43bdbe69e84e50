/* Password hashing with Argon2id (RFC 9106) through libargon2, stored as PHC strings:
 * $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>.
 *
 * Only Argon2id version 0x13 is accepted on verification, and only with parameters inside
 * the same bounds that hashing enforces, so a corrupted or hostile stored string can
 * neither select another variant nor make one verification cost gigabytes. */
#include "password.h"

#include <jot/jot.h>

#include <argon2.h>
#include <openssl/rand.h>
#include <string.h>

#define SALT_LEN 16u
#define HASH_LEN 32u

#define M_KIB_MIN 8u
#define M_KIB_MAX 4194304u /* 4 GiB */
#define T_MIN 1u
#define T_MAX 100u
#define P_MIN 1u
#define P_MAX 64u

#define PHC_PREFIX "$argon2id$v=19$"

static bool params_ok(uint32_t m_kib, uint32_t t, uint32_t p)
{
    if (m_kib < M_KIB_MIN || m_kib > M_KIB_MAX)
        return false;
    if (t < T_MIN || t > T_MAX)
        return false;
    if (p < P_MIN || p > P_MAX)
        return false;
    return m_kib >= 8u * p; /* Argon2 needs at least 8 KiB per lane */
}

/* Decimal without sign or leading zero, at most 10 digits, into *out; advances *pp. */
static bool parse_u32(const char **pp, uint32_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    size_t n = 0;

    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return false;
    while (*p >= '0' && *p <= '9') {
        if (++n > 10)
            return false;
        v = v * 10u + (uint64_t)(*p - '0');
        p++;
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    *pp = p;
    return true;
}

static bool is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Length of a run of standard base64 characters (no padding) starting at p. */
static size_t b64_run(const char *p)
{
    size_t n = 0;
    while (is_b64_char(p[n]))
        n++;
    return n;
}

/* Check the whole shape of an Argon2id v=19 PHC string with sane parameters. */
static bool phc_ok(const char *phc)
{
    const char *p = phc;
    uint32_t m_kib, t, lanes;
    size_t salt_len, hash_len;

    if (!memchr(phc, '\0', JOTD_PHC_MAX))
        return false; /* longer than anything we produce */
    if (strncmp(p, PHC_PREFIX, sizeof(PHC_PREFIX) - 1) != 0)
        return false;
    p += sizeof(PHC_PREFIX) - 1;
    if (strncmp(p, "m=", 2) != 0)
        return false;
    p += 2;
    if (!parse_u32(&p, &m_kib) || strncmp(p, ",t=", 3) != 0)
        return false;
    p += 3;
    if (!parse_u32(&p, &t) || strncmp(p, ",p=", 3) != 0)
        return false;
    p += 3;
    if (!parse_u32(&p, &lanes) || *p != '$')
        return false;
    p++;
    if (!params_ok(m_kib, t, lanes))
        return false;
    salt_len = b64_run(p);
    /* 8..64 salt bytes: 11..86 characters; a length of 1 mod 4 is never valid base64. */
    if (salt_len < 11 || salt_len > 86 || salt_len % 4 == 1 || p[salt_len] != '$')
        return false;
    p += salt_len + 1;
    hash_len = b64_run(p);
    /* 16..64 hash bytes: 22..86 characters. */
    if (hash_len < 22 || hash_len > 86 || hash_len % 4 == 1 || p[hash_len] != '\0')
        return false;
    return true;
}

int jotd_password_hash(const jotd_argon2_t *params, const char *pw, size_t len,
                       char out[JOTD_PHC_MAX])
{
    uint8_t salt[SALT_LEN];
    char buf[JOTD_PHC_MAX];
    int rc;

    if (!params || !out || (!pw && len > 0) || len > JOTD_PASSWORD_MAX)
        return -1;
    if (!params_ok(params->m_kib, params->t, params->p))
        return -1;
    if (argon2_encodedlen(params->t, params->m_kib, params->p, SALT_LEN, HASH_LEN, Argon2_id) >
        sizeof(buf))
        return -1;
    if (RAND_bytes(salt, (int)sizeof(salt)) != 1)
        return -1;
    rc = argon2id_hash_encoded(params->t, params->m_kib, params->p, len ? pw : NULL, len, salt,
                               SALT_LEN, HASH_LEN, buf, sizeof(buf));
    jot_memzero(salt, sizeof(salt));
    if (rc != ARGON2_OK || !phc_ok(buf)) {
        jot_memzero(buf, sizeof(buf));
        return -1;
    }
    memcpy(out, buf, strlen(buf) + 1);
    jot_memzero(buf, sizeof(buf));
    return 0;
}

int jotd_password_verify(const char *phc, const char *pw, size_t len)
{
    int rc;
    bool too_long = len > JOTD_PASSWORD_MAX;

    if (!phc || !phc_ok(phc) || (!pw && len > 0))
        return -1;
    /* A password longer than we ever hash cannot match, but it still costs the full
     * verification so that its length does not show in the response time. */
    if (too_long)
        len = JOTD_PASSWORD_MAX;
    rc = argon2id_verify(phc, len ? pw : NULL, len);
    if (rc == ARGON2_OK)
        return too_long ? 0 : 1;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return 0;
    return -1;
}

int jotd_password_dummy_init(jotd_password_dummy_t *d, const jotd_argon2_t *params)
{
    uint8_t raw[24];
    char pw[33];
    int rc;

    if (!d)
        return -1;
    if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
        return -1;
    (void)jot_b64url_encode(pw, raw, sizeof(raw));
    rc = jotd_password_hash(params, pw, strlen(pw), d->phc);
    jot_memzero(raw, sizeof(raw));
    jot_memzero(pw, sizeof(pw));
    return rc;
}

void jotd_password_dummy_verify(const jotd_password_dummy_t *d, const char *pw, size_t len)
{
    volatile int sink;

    if (!d)
        return;
    if (len > JOTD_PASSWORD_MAX)
        len = JOTD_PASSWORD_MAX;
    sink = argon2id_verify(d->phc, len ? pw : NULL, len);
    (void)sink;
}
