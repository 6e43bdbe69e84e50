/* Password hashing with Argon2id (RFC 9106) through libargon2, stored as PHC strings:
 * $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>.
 *
 * Only Argon2id version 0x13 is accepted on verification, and only with parameters inside
 * the same bounds that hashing enforces, so a corrupted or hostile stored string can
 * neither select another variant nor make one verification cost gigabytes.
 *
 * Memory. One hash needs m KiB of work area (19 MiB by default). Left to libargon2 it comes
 * from malloc(): glibc serves the first one with mmap, then raises its mmap threshold and
 * serves the next ones from the heap of the calling thread's arena, where they stay
 * resident after free() — 19 MiB per worker thread that ever hashed, for the life of the
 * process. Mapping and unmapping a fresh area for each hash returns the memory at once but
 * costs a page fault per 4 KiB page (4864 per hash, measured 2-3x slower than the heap on a
 * virtual machine here). So the work areas are our own (allocate_cbk/free_cbk of
 * argon2_context): mapped with mmap, kept in a small cache while hashes keep coming, and
 * unmapped by jotd_password_trim() once unused for a while. jotd_password_set_parallel()
 * bounds how many hashes run at once (more than there are cores adds memory, not speed),
 * which also bounds the cache. libargon2 wipes a work area before handing it back.
 *
 * Hashing and verification go through argon2_ctx()/argon2_verify_ctx() (the only calls
 * that take the allocator), so this file reads and writes the PHC string itself. */
#include "password.h"
#include "common/random.h"
#include "common/strparse.h"

#include <jot/jot.h>

#include <argon2.h>
#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SALT_LEN 16u
#define HASH_LEN 32u

#define M_KIB_MIN 8u
#define M_KIB_MAX 4194304u /* 4 GiB */
#define T_MIN 1u
#define T_MAX 100u
#define P_MIN 1u
#define P_MAX 64u

#define PHC_PREFIX "$argon2id$v=19$"

#define SALT_MAX 64u /* what phc_ok() lets through */
#define OUT_MAX 64u
#define CACHE_MAX 16u /* work areas kept at most, whatever the parallelism */

/* ---- work areas ----------------------------------------------------------------------------- */

struct area {
    void *p;
    size_t n;
    int64_t last_used; /* monotonic seconds */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned limit;   /* hashes at once; 0: no limit */
    unsigned running; /* hashes now */
    struct area cache[CACHE_MAX];
    size_t n_cache;
    size_t mapped; /* bytes of work area mapped now, in use or cached */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {{0}}, 0, 0};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int area_alloc(uint8_t **out, size_t n)
{
    pthread_mutex_lock(&pool.mu);
    for (size_t i = pool.n_cache; i-- > 0;) {
        if (pool.cache[i].n == n) {
            *out = pool.cache[i].p;
            pool.cache[i] = pool.cache[--pool.n_cache];
            pthread_mutex_unlock(&pool.mu);
            return ARGON2_OK;
        }
    }
    pthread_mutex_unlock(&pool.mu);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return ARGON2_MEMORY_ALLOCATION_ERROR;
    pthread_mutex_lock(&pool.mu);
    pool.mapped += n;
    pthread_mutex_unlock(&pool.mu);
    *out = p;
    return ARGON2_OK;
}

/* libargon2 has wiped the area (FLAG_clear_internal_memory) before it calls this. */
static void area_free(uint8_t *p, size_t n)
{
    pthread_mutex_lock(&pool.mu);
    if (pool.n_cache < CACHE_MAX) {
        pool.cache[pool.n_cache++] = (struct area){p, n, mono_s()};
        pthread_mutex_unlock(&pool.mu);
        return;
    }
    pool.mapped -= n;
    pthread_mutex_unlock(&pool.mu);
    munmap(p, n);
}

static void slot_acquire(void)
{
    pthread_mutex_lock(&pool.mu);
    while (pool.limit && pool.running >= pool.limit)
        pthread_cond_wait(&pool.cv, &pool.mu);
    pool.running++;
    pthread_mutex_unlock(&pool.mu);
}

static void slot_release(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.running--;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

void jotd_password_set_parallel(unsigned n)
{
    pthread_mutex_lock(&pool.mu);
    pool.limit = n;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

size_t jotd_password_trim(unsigned idle_seconds)
{
    void *gone[CACHE_MAX];
    size_t gone_n[CACHE_MAX], k = 0;
    int64_t now = mono_s();
    pthread_mutex_lock(&pool.mu);
    for (size_t i = 0; i < pool.n_cache;) {
        if (now - pool.cache[i].last_used >= (int64_t)idle_seconds) {
            gone[k] = pool.cache[i].p;
            gone_n[k++] = pool.cache[i].n;
            pool.mapped -= pool.cache[i].n;
            pool.cache[i] = pool.cache[--pool.n_cache];
        } else {
            i++;
        }
    }
    size_t left = pool.mapped;
    pthread_mutex_unlock(&pool.mu);
    for (size_t i = 0; i < k; i++)
        munmap(gone[i], gone_n[i]);
    return left;
}

/* ---- standard base64 without padding (the PHC string's encoding) ----------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* \p n bytes into \p out (room for 4 * n / 3 + 4 characters), NUL-terminated. */
static void b64_encode(char *out, const uint8_t *in, size_t n)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode \p len characters (no padding; len % 4 != 1, checked by phc_ok) into \p out of
 * \p cap bytes. Unused trailing bits must be zero (canonical, as libargon2 requires).
 * Returns the byte count, or 0 on any error. */
static size_t b64_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (len % 4 == 1 || need > cap)
        return 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return 0;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1u))
        return 0;
    return o;
}

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

/* Decimal without sign or leading zero (PHC), at most UINT32_MAX, into *out; advances *pp. */
static bool parse_u32(const char **pp, uint32_t *out)
{
    const char *p = *pp;
    uint64_t v;

    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return false;
    if (jotx_parse_u64(pp, p + strlen(p), UINT32_MAX, &v) != JOTX_OK)
        return false;
    *out = (uint32_t)v;
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

/* The parts of a PHC string: parameters, and where the salt and the hash are. */
typedef struct phc {
    uint32_t m_kib, t, lanes;
    const char *salt, *hash;
    size_t salt_len, hash_len; /* characters */
} phc_t;

/* Check the whole shape of an Argon2id v=19 PHC string with sane parameters. */
static bool phc_parse(const char *phc, phc_t *out)
{
    const char *p = phc;
    uint32_t m_kib, t, lanes;
    size_t salt_len, hash_len;
    const char *salt;

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
    salt = p;
    p += salt_len + 1;
    hash_len = b64_run(p);
    /* 16..64 hash bytes: 22..86 characters. */
    if (hash_len < 22 || hash_len > 86 || hash_len % 4 == 1 || p[hash_len] != '\0')
        return false;
    if (out)
        *out = (phc_t){m_kib, t, lanes, salt, p, salt_len, hash_len};
    return true;
}

static bool phc_ok(const char *phc)
{
    return phc_parse(phc, NULL);
}

/* One Argon2id computation into \p out with our work areas, under the parallelism limit.
 * \p expect non-NULL: verify against it (constant-time, in libargon2) instead. */
static int run_argon2(uint32_t m_kib, uint32_t t, uint32_t lanes, const char *pw, size_t len,
                      const uint8_t *salt, size_t salt_len, uint8_t *out, size_t out_len,
                      const uint8_t *expect)
{
    /* argon2_context has non-const pointers; without ARGON2_FLAG_CLEAR_PASSWORD the
     * password and the salt are only read (the pointers are copied, not cast, to drop const) */
    const void *pwd_c = len ? (const void *)pw : NULL, *salt_c = salt;
    uint8_t *pwd_m, *salt_m;
    memcpy(&pwd_m, &pwd_c, sizeof pwd_m);
    memcpy(&salt_m, &salt_c, sizeof salt_m);
    argon2_context ctx = {
        .out = out,
        .outlen = (uint32_t)out_len,
        .pwd = pwd_m,
        .pwdlen = (uint32_t)len,
        .salt = salt_m,
        .saltlen = (uint32_t)salt_len,
        .t_cost = t,
        .m_cost = m_kib,
        .lanes = lanes,
        .threads = lanes,
        .version = ARGON2_VERSION_13,
        .allocate_cbk = area_alloc,
        .free_cbk = area_free,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    slot_acquire();
    int rc = expect ? argon2_verify_ctx(&ctx, (const char *)expect, Argon2_id)
                    : argon2_ctx(&ctx, Argon2_id);
    slot_release();
    return rc;
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
    uint8_t hash[HASH_LEN];
    rc = run_argon2(params->m_kib, params->t, params->p, pw, len, salt, SALT_LEN, hash, HASH_LEN,
                    NULL);
    if (rc == ARGON2_OK) {
        char salt64[SALT_LEN * 4 / 3 + 4], hash64[HASH_LEN * 4 / 3 + 4];
        b64_encode(salt64, salt, SALT_LEN);
        b64_encode(hash64, hash, HASH_LEN);
        int n = snprintf(buf, sizeof buf, PHC_PREFIX "m=%u,t=%u,p=%u$%s$%s", params->m_kib,
                         params->t, params->p, salt64, hash64);
        if (n < 0 || (size_t)n >= sizeof buf)
            rc = ARGON2_ENCODING_FAIL;
        jot_memzero(hash64, sizeof hash64);
    }
    jot_memzero(hash, sizeof hash);
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

    phc_t ph;
    if (!phc || !phc_parse(phc, &ph) || (!pw && len > 0))
        return -1;
    /* A password longer than we ever hash cannot match, but it still costs the full
     * verification so that its length does not show in the response time. */
    if (too_long)
        len = JOTD_PASSWORD_MAX;
    uint8_t salt[SALT_MAX], expect[OUT_MAX], out[OUT_MAX];
    size_t salt_n = b64_decode(salt, sizeof salt, ph.salt, ph.salt_len);
    size_t hash_n = b64_decode(expect, sizeof expect, ph.hash, ph.hash_len);
    if (salt_n < 8 || hash_n < 16)
        rc = ARGON2_DECODING_FAIL;
    else
        rc = run_argon2(ph.m_kib, ph.t, ph.lanes, pw, len, salt, salt_n, out, hash_n, expect);
    jot_memzero(out, sizeof out);
    jot_memzero(expect, sizeof expect);
    if (rc == ARGON2_OK)
        return too_long ? 0 : 1;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return 0;
    return -1;
}

int jotd_password_params(const char *phc, jotd_argon2_t *out)
{
    phc_t ph;
    if (!phc || !out || !phc_parse(phc, &ph))
        return -1;
    *out = (jotd_argon2_t){ph.m_kib, ph.t, ph.lanes};
    return 0;
}

int jotd_password_params_parse(const char *s, size_t len, jotd_argon2_t *out)
{
    char buf[48];
    const char *p = buf;
    uint32_t m_kib, t, lanes;

    /* a copy with a NUL: parse_u32 stops at the first non-digit, never past the end */
    if (!s || !out || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strncmp(p, "m=", 2) != 0)
        return -1;
    p += 2;
    if (!parse_u32(&p, &m_kib) || strncmp(p, ",t=", 3) != 0)
        return -1;
    p += 3;
    if (!parse_u32(&p, &t) || strncmp(p, ",p=", 3) != 0)
        return -1;
    p += 3;
    if (!parse_u32(&p, &lanes) || *p != '\0' || !params_ok(m_kib, t, lanes))
        return -1;
    *out = (jotd_argon2_t){m_kib, t, lanes};
    return 0;
}

int jotd_password_needs_rehash(const char *phc, const jotd_argon2_t *params)
{
    jotd_argon2_t have;
    if (!params || jotd_password_params(phc, &have) != 0)
        return -1;
    return have.m_kib != params->m_kib || have.t != params->t || have.p != params->p;
}

int jotd_password_dummy_params(const jotd_password_dummy_t *d, jotd_argon2_t *out)
{
    return d ? jotd_password_params(d->phc, out) : -1;
}

int jotd_password_dummy_init(jotd_password_dummy_t *d, const jotd_argon2_t *params)
{
    char pw[33];
    int rc;

    if (!d)
        return -1;
    if (jotx_random_b64url(pw, sizeof(pw), 24) < 0)
        return -1;
    rc = jotd_password_hash(params, pw, strlen(pw), d->phc);
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
    sink = jotd_password_verify(d->phc, len ? pw : NULL, len);
    (void)sink;
}
