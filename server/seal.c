/* The key-encryption key and sealed values (see seal.h).
 *
 * From the file's 32 bytes F two values are derived with HMAC-SHA256, so that the id shown
 * in messages says nothing about the key that seals:
 *   sealing key = HMAC(F, "jotd seal v1")
 *   id          = hex of the first 8 bytes of HMAC(F, "jotd kek id v1")
 * The associated data of a value is "jotd:v1:" followed by its purpose. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <jot/jot.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEK_TEXT_LEN 43 /* base64url of 32 bytes, no padding */
#define NONCE_LEN 12
#define NONCE_TEXT_LEN 16 /* its base64url */
#define TAG_LEN 16
#define SEALED_MAX (1024 * 1024) /* far beyond any key: bounds the work on a damaged row */
#define PREFIX "v1."

/* Report \p rc with a message in the function's err/errlen (rc.h). */
#define FAIL(rc, ...) (jotd_seterr(err, errlen, __VA_ARGS__), (rc))

static int hmac(const uint8_t *key, size_t key_len, const char *msg, uint8_t out[32])
{
    size_t n = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, (const unsigned char *)msg,
                     strlen(msg), out, 32, &n) &&
                   n == 32
               ? 0
               : -1;
}

/* Derive the sealing key and the id from the file's bytes. */
static jotd_rc_t derive(const uint8_t file[JOTD_KEK_LEN], jotd_kek_t *out)
{
    uint8_t idm[32];
    if (hmac(file, JOTD_KEK_LEN, "jotd seal v1", out->key) != 0 ||
        hmac(file, JOTD_KEK_LEN, "jotd kek id v1", idm) != 0) {
        jotd_kek_wipe(out);
        return JOTD_E_CRYPTO;
    }
    for (size_t i = 0; i < JOTD_KEK_ID_LEN / 2; i++)
        snprintf(out->id + 2 * i, 3, "%02x", idm[i]);
    return JOTD_OK;
}

void jotd_kek_wipe(jotd_kek_t *k)
{
    if (k)
        jot_memzero(k, sizeof *k);
}

jotd_rc_t jotd_key_file_read(const char *path, uint8_t out[JOTD_KEK_LEN], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT
                   ? FAIL(JOTD_E_NOTFOUND, "%s does not exist", path)
                   : FAIL(JOTD_E_IO, "cannot open %s (a symbolic link is refused)", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        close(fd);
        return FAIL(JOTD_E_INVAL, "%s must be a regular file of mode 0600 (chmod 600)", path);
    }
    char text[KEK_TEXT_LEN + 3];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n < 0)
        return FAIL(JOTD_E_IO, "cannot read %s", path);
    size_t len = (size_t)n;
    if (len > KEK_TEXT_LEN && text[len - 1] == '\n')
        len--;
    if (len > KEK_TEXT_LEN && text[len - 1] == '\r')
        len--;
    uint8_t key[JOTD_KEK_LEN + 2]; /* jot_b64url_decode's room for 43 characters */
    size_t got = 0;
    jotd_rc_t rc = JOTD_OK;
    if (len != KEK_TEXT_LEN || jot_b64url_decode(key, &got, text, len) != JOT_OK ||
        got != JOTD_KEK_LEN)
        rc = FAIL(JOTD_E_INVAL, "%s must hold 43 base64url characters (32 random bytes)", path);
    else
        memcpy(out, key, JOTD_KEK_LEN);
    jot_memzero(key, sizeof key);
    jot_memzero(text, sizeof text);
    return rc;
}

jotd_rc_t jotd_kek_load(const char *path, jotd_kek_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    uint8_t file[JOTD_KEK_LEN];
    jotd_rc_t rc = jotd_key_file_read(path, file, err, errlen);
    if (rc == JOTD_OK && derive(file, out) != JOTD_OK)
        rc = FAIL(JOTD_E_CRYPTO, "cannot derive keys from %s", path);
    jot_memzero(file, sizeof file);
    return rc;
}

jotd_rc_t jotd_kek_create(const char *path, jotd_kek_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    uint8_t file[JOTD_KEK_LEN];
    char text[KEK_TEXT_LEN + 2];
    if (RAND_bytes(file, sizeof file) != 1)
        return FAIL(JOTD_E_CRYPTO, "no randomness for %s", path);
    jot_b64url_encode(text, file, sizeof file);
    text[KEK_TEXT_LEN] = '\n';
    jot_memzero(file, sizeof file);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        jot_memzero(text, sizeof text);
        return errno == EEXIST ? FAIL(JOTD_E_EXISTS, "%s exists", path)
                               : FAIL(JOTD_E_IO, "cannot create %s", path);
    }
    bool ok = write(fd, text, KEK_TEXT_LEN + 1) == KEK_TEXT_LEN + 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    jot_memzero(text, sizeof text);
    if (ok) { /* the name too must survive a crash: sync the directory */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok = dfd >= 0 && fsync(dfd) == 0;
        if (dfd >= 0)
            close(dfd);
    }
    if (!ok) {
        unlink(path);
        return FAIL(JOTD_E_IO, "cannot write %s", path);
    }
    return jotd_kek_load(path, out, err, errlen);
}

/* "jotd:v1:" + purpose, malloc'd. */
static char *aad_of(const char *purpose)
{
    size_t n = strlen(purpose) + 9;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "jotd:v1:%s", purpose);
    return s;
}

/* One AES-256-GCM pass: encrypt (tag written to \p tag) or decrypt (tag checked). Returns 0,
 * or -1 (for a decryption: it does not authenticate). */
static int gcm(bool enc, const uint8_t key[32], const uint8_t nonce[NONCE_LEN], const char *aad,
               const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_LEN])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0,
        ok = c && len <= INT32_MAX &&
             EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc ? 1 : 0) == 1 &&
             EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             (len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)len) == 1);
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(c, out + (len ? n : 0), &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

jotd_rc_t jotd_seal(const jotd_kek_t *k, const char *purpose, const uint8_t *plain, size_t len,
                    char **out)
{
    *out = NULL;
    if (len > SEALED_MAX)
        return JOTD_E_INVAL;
    uint8_t nonce[NONCE_LEN];
    uint8_t *ct = malloc(len + TAG_LEN);
    char *aad = aad_of(purpose);
    /* v1. id . nonce . ct+tag, NUL */
    size_t cap = sizeof PREFIX + JOTD_KEK_ID_LEN + 2 + jot_b64url_encoded_len(NONCE_LEN) +
                 jot_b64url_encoded_len(len + TAG_LEN) + 1;
    char *s = malloc(cap);
    jotd_rc_t rc = JOTD_E_NOMEM;
    if (ct && aad && s) {
        rc = JOTD_E_CRYPTO;
        if (RAND_bytes(nonce, sizeof nonce) == 1 &&
            gcm(true, k->key, nonce, aad, plain, len, ct, ct + len) == 0) {
            int w = snprintf(s, cap, PREFIX "%s.", k->id);
            w += (int)jot_b64url_encode(s + w, nonce, NONCE_LEN);
            s[w++] = '.';
            jot_b64url_encode(s + w, ct, len + TAG_LEN);
            *out = s;
            s = NULL;
            rc = JOTD_OK;
        }
    }
    if (ct)
        jot_memzero(ct, len + TAG_LEN);
    free(ct);
    free(aad);
    free(s);
    return rc;
}

void jotd_sealed_kek_id(const char *sealed, char out[JOTD_KEK_ID_LEN + 1])
{
    out[0] = '\0';
    if (!sealed || strncmp(sealed, PREFIX, sizeof PREFIX - 1) != 0)
        return;
    const char *id = sealed + sizeof PREFIX - 1;
    size_t n = strspn(id, "0123456789abcdef");
    if (n == JOTD_KEK_ID_LEN && id[n] == '.') {
        memcpy(out, id, n);
        out[n] = '\0';
    }
}

jotd_rc_t jotd_unseal(const jotd_kek_t *k, const char *purpose, const char *sealed, uint8_t **out,
                      size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    char id[JOTD_KEK_ID_LEN + 1];
    jotd_sealed_kek_id(sealed, id);
    size_t total = sealed ? strnlen(sealed, SEALED_MAX + 1) : 0;
    if (!id[0] || total > SEALED_MAX)
        return FAIL(JOTD_E_CRYPTO, "sealed %s: not a sealed value (damaged)", purpose);
    if (strcmp(id, k->id) != 0) {
        jotd_seterr(err, errlen,
                    "sealed %s: sealed with key-encryption key %s, but this instance's is %s "
                    "(give every instance the same --key-encryption-key file)",
                    purpose, id, k->id);
        return JOTD_E_CRYPTO;
    }
    const char *p = sealed + sizeof PREFIX - 1 + JOTD_KEK_ID_LEN + 1;
    const char *dot = strchr(p, '.');
    uint8_t nonce[NONCE_LEN + 3];
    size_t nlen = 0;
    if (!dot || (size_t)(dot - p) != NONCE_TEXT_LEN ||
        jot_b64url_decode(nonce, &nlen, p, (size_t)(dot - p)) != JOT_OK || nlen != NONCE_LEN)
        return FAIL(JOTD_E_CRYPTO, "sealed %s: damaged", purpose);
    const char *body = dot + 1;
    size_t blen = strlen(body);
    uint8_t *raw = malloc(blen + 2), *plain = NULL; /* jot_b64url_decode's room */
    char *aad = aad_of(purpose);
    size_t rlen = 0;
    jotd_rc_t rc = JOTD_E_NOMEM;
    if (raw && aad) {
        rc = JOTD_E_CRYPTO;
        if (jot_b64url_decode(raw, &rlen, body, blen) == JOT_OK && rlen >= TAG_LEN &&
            (plain = malloc(rlen - TAG_LEN + 1)) != NULL &&
            gcm(false, k->key, nonce, aad, raw, rlen - TAG_LEN, plain, raw + rlen - TAG_LEN) == 0) {
            plain[rlen - TAG_LEN] = 0;
            *out = plain;
            *out_len = rlen - TAG_LEN;
            plain = NULL;
            rc = JOTD_OK;
        } else if (rlen >= TAG_LEN && !plain) { /* decoded, then out of memory */
            rc = JOTD_E_NOMEM;
        }
    }
    if (rc == JOTD_E_CRYPTO)
        jotd_seterr(err, errlen, "sealed %s: damaged (it does not authenticate)", purpose);
    if (plain)
        jot_memzero(plain, rlen - TAG_LEN);
    free(plain);
    if (raw)
        jot_memzero(raw, blen + 2);
    free(raw);
    free(aad);
    return rc;
}
