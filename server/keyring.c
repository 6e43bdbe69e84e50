/* The signing keys of jotd (see keyring.h).
 *
 * On disk, in DATA/keys/ (mode 0700, never writable by group or others):
 * - <kid>.jwk: one private JWK per key, mode 0600. The kid is the key's RFC 7638
 *   thumbprint, checked again at every load, so a file cannot be swapped for another key.
 *   A key file with any group or other permission bit is refused (as ssh does).
 * - keyring.json: {"keys":[{"kid":..,"alg":..,"created":N,"retired":N|null}, ...]}.
 *   Only keys listed here are used; a key file that is not listed (left by a crash between
 *   the two writes of a rotation) is ignored.
 * Every file is written atomically: a temporary file created with O_EXCL and mode 0600,
 * fsync, rename over the target, fsync of the directory. A rotation writes the new key
 * file first and keyring.json second, so a crash at any point leaves a valid keyring.
 * Load and rotate hold an exclusive flock() on the directory: a running server reloading
 * on SIGHUP and `jotd keys rotate` never interleave their writes.
 *
 * HMAC algorithms are refused: the verification keys are published in the JWKS. */
#include "keyring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KID_MAX 128
#define KEYRING_FILE "keyring.json"
#define KEYRING_MAX_BYTES (1024 * 1024)
#define KEYRING_MAX_KEYS 10000
#define KEY_FILE_MAX_BYTES (64 * 1024)
#define TMP_PREFIX ".tmp-"
#define LEEWAY 60 /* seconds a retired key outlives the last token it may have signed */

typedef struct kr_entry {
    char kid[KID_MAX + 1];
    jot_alg_t alg;
    int64_t created;
    int64_t retired;
    bool is_retired;
} kr_entry_t;

typedef struct kr_list {
    kr_entry_t *v;
    size_t n, cap;
} kr_list_t;

struct jotd_keyring {
    jot_key_t *signing;   /* private */
    jot_keyset_t *verify; /* public keys of the live keys */
    char *jwks;           /* jot_free() */
    size_t jwks_len;
    unsigned algs;
    int64_t next_expiry; /* when the first retired key leaves the JWKS; 0: never */
};

/* An open DATA/keys directory. */
typedef struct kr_dir {
    int fd;
    char path[PATH_MAX];
} kr_dir_t;

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool kid_ok(const char *kid, size_t len)
{
    if (len == 0 || len > KID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = kid[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool alg_is_hmac(jot_alg_t alg)
{
    return alg == JOT_ALG_HS256 || alg == JOT_ALG_HS384 || alg == JOT_ALG_HS512;
}

static int check_alg(jot_alg_t alg, char *err, size_t errlen)
{
    if (alg <= JOT_ALG_UNSET || alg >= JOT_ALG__COUNT) {
        seterr(err, errlen, "keyring: no algorithm given");
        return -1;
    }
    if (alg_is_hmac(alg)) {
        seterr(err, errlen,
               "keyring: %s cannot sign access tokens: an HMAC key would have to be "
               "published in the JWKS; use an asymmetric algorithm (ES256, EdDSA, RS256...)",
               jot_alg_name(alg));
        return -1;
    }
    return 0;
}

static bool live(const kr_entry_t *e, int64_t access_ttl, int64_t now)
{
    int64_t until;

    if (!e->is_retired)
        return true;
    /* retired + access_ttl + LEEWAY > now, without overflow */
    if (access_ttl < 0)
        access_ttl = 0;
    if (e->retired > INT64_MAX - LEEWAY || access_ttl > INT64_MAX - LEEWAY - e->retired)
        return true;
    until = e->retired + access_ttl + LEEWAY;
    return until > now;
}

/* Index of the signing key: the newest unretired entry (the later one on equal times),
 * or -1 when every key is retired. */
static long signing_index(const kr_list_t *l)
{
    long best = -1;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].is_retired)
            continue;
        if (best < 0 || l->v[i].created >= l->v[(size_t)best].created)
            best = (long)i;
    }
    return best;
}

static int list_push(kr_list_t *l, const kr_entry_t *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kr_entry_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
    return 0;
}

static void list_clear(kr_list_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- files ------------------------------------------------------------------------- */

static int dir_open(const char *data_dir, bool create, kr_dir_t *d, char *err, size_t errlen)
{
    struct stat st;
    int n;

    d->fd = -1;
    if (!data_dir || !*data_dir) {
        seterr(err, errlen, "keyring: no data directory");
        return -1;
    }
    n = snprintf(d->path, sizeof(d->path), "%s/keys", data_dir);
    if (n < 0 || (size_t)n >= sizeof(d->path)) {
        seterr(err, errlen, "keyring: data directory path too long");
        return -1;
    }
    if (create) {
        if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
            seterr(err, errlen, "keyring: cannot create %s: %s", data_dir, strerror(errno));
            return -1;
        }
        if (mkdir(d->path, 0700) != 0 && errno != EEXIST) {
            seterr(err, errlen, "keyring: cannot create %s: %s", d->path, strerror(errno));
            return -1;
        }
    }
    /* not through a symlink: keys/ itself is checked below, not what a link points at */
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->fd < 0) {
        seterr(err, errlen, "keyring: cannot open %s: %s", d->path, strerror(errno));
        return -1;
    }
    if (fstat(d->fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        seterr(err, errlen, "keyring: %s is not a directory", d->path);
        goto fail;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        seterr(err, errlen,
               "keyring: %s is writable by group or others (mode %04o); run chmod 700 on it",
               d->path, (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    return 0;
fail:
    close(d->fd);
    d->fd = -1;
    return -1;
}

static void dir_close(kr_dir_t *d)
{
    if (d->fd >= 0)
        close(d->fd); /* also releases the flock */
    d->fd = -1;
}

static int dir_lock(kr_dir_t *d, char *err, size_t errlen)
{
    while (flock(d->fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            seterr(err, errlen, "keyring: cannot lock %s: %s", d->path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Read a regular file of at most \p max bytes into a NUL-terminated buffer (free()).
 * With \p private_file, refuse any group/other permission bit. Returns 0, 1 when the file
 * does not exist, or -1. */
static int read_at(const kr_dir_t *d, const char *name, size_t max, bool private_file, char **out,
                   size_t *out_len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        seterr(err, errlen, "keyring: cannot open %s/%s: %s", d->path, name, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        seterr(err, errlen, "keyring: %s/%s is not a regular file", d->path, name);
        goto fail;
    }
    if (private_file && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        seterr(err, errlen,
               "keyring: key file %s/%s is accessible by group or others (mode %04o); "
               "refusing to use it: run chmod 600 on it",
               d->path, name, (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        seterr(err, errlen, "keyring: %s/%s is too large", d->path, name);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        seterr(err, errlen, "keyring: out of memory");
        goto fail;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            seterr(err, errlen, "keyring: cannot read %s/%s: %s", d->path, name,
                   r < 0 ? strerror(errno) : "file shrank");
            goto fail;
        }
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(fd);
    *out = buf;
    *out_len = len;
    return 0;
fail:
    if (buf) {
        jot_memzero(buf, (size_t)st.st_size + 1);
        free(buf);
    }
    close(fd);
    return -1;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Atomically replace \p name in the directory with \p data (mode 0600). */
static int write_atomic(const kr_dir_t *d, const char *name, const char *data, size_t len,
                        char *err, size_t errlen)
{
    unsigned char rnd[8];
    char tmp[KID_MAX + 64];
    int fd, saved;
    uint64_t r = 0;

    if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1) {
        seterr(err, errlen, "keyring: no randomness for a temporary name");
        return -1;
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        r = r << 8 | rnd[i];
    if ((size_t)snprintf(tmp, sizeof(tmp), TMP_PREFIX "%016" PRIx64 "-%s", r, name) >=
        sizeof(tmp)) {
        seterr(err, errlen, "keyring: file name too long");
        return -1;
    }
    fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        seterr(err, errlen, "keyring: cannot create %s/%s: %s", d->path, tmp, strerror(errno));
        return -1;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        goto fail;
    }
    if (close(fd) != 0) {
        saved = errno;
        goto fail;
    }
    if (renameat(d->fd, tmp, d->fd, name) != 0) {
        saved = errno;
        goto fail;
    }
    if (fsync(d->fd) != 0) {
        seterr(err, errlen, "keyring: cannot sync %s: %s", d->path, strerror(errno));
        return -1;
    }
    return 0;
fail:
    unlinkat(d->fd, tmp, 0);
    seterr(err, errlen, "keyring: cannot write %s/%s: %s", d->path, name, strerror(saved));
    return -1;
}

/* Remove temporary files left by a crash (caller holds the lock) and report whether any
 * key file (*.jwk) is present. Returns 0/1, or -1 on error. */
static int scan_dir(const kr_dir_t *d, char *err, size_t errlen)
{
    int fd = dup(d->fd);
    int found = 0;
    DIR *dir;
    struct dirent *de;

    if (fd < 0 || !(dir = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        seterr(err, errlen, "keyring: cannot list %s: %s", d->path, strerror(errno));
        return -1;
    }
    rewinddir(dir);
    while ((de = readdir(dir)) != NULL) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
            (void)unlinkat(d->fd, de->d_name, 0);
        else if (n > 4 && strcmp(de->d_name + n - 4, ".jwk") == 0)
            found = 1;
    }
    closedir(dir);
    return found;
}

/* ---- keyring.json ---------------------------------------------------------------- */

static int parse_entry(json_t *o, kr_entry_t *e, const char *path, size_t i, char *err,
                       size_t errlen)
{
    json_t *kid = json_object_get(o, "kid");
    json_t *alg = json_object_get(o, "alg");
    json_t *created = json_object_get(o, "created");
    json_t *retired = json_object_get(o, "retired");

    memset(e, 0, sizeof(*e));
    if (!json_is_object(o) || !json_is_string(kid) || !json_is_string(alg) ||
        !json_is_integer(created) ||
        (retired && !json_is_null(retired) && !json_is_integer(retired))) {
        seterr(err, errlen,
               "keyring: %s: entry %zu needs kid, alg (strings), created (integer) and "
               "retired (integer or null)",
               path, i);
        return -1;
    }
    if (!kid_ok(json_string_value(kid), json_string_length(kid))) {
        seterr(err, errlen, "keyring: %s: entry %zu has an invalid kid", path, i);
        return -1;
    }
    memcpy(e->kid, json_string_value(kid), json_string_length(kid) + 1);
    if (jot_alg_from_name(json_string_value(alg), json_string_length(alg), &e->alg) != JOT_OK ||
        alg_is_hmac(e->alg)) {
        seterr(err, errlen, "keyring: %s: key %s has an unusable alg \"%s\"", path, e->kid,
               json_string_value(alg));
        return -1;
    }
    e->created = (int64_t)json_integer_value(created);
    if (json_is_integer(retired)) {
        e->is_retired = true;
        e->retired = (int64_t)json_integer_value(retired);
    }
    if (e->created < 0 || (e->is_retired && e->retired < 0)) {
        seterr(err, errlen, "keyring: %s: key %s has a negative time", path, e->kid);
        return -1;
    }
    return 0;
}

/* Read keyring.json into \p l. Returns 0, 1 when it does not exist, or -1. */
static int keyring_read(const kr_dir_t *d, kr_list_t *l, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    json_t *root = NULL, *keys;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", d->path, KEYRING_FILE);
    rc = read_at(d, KEYRING_FILE, KEYRING_MAX_BYTES, false, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) {
        seterr(err, errlen, "keyring: %s: invalid JSON (line %d: %s)", path, jerr.line, jerr.text);
        return -1;
    }
    keys = json_object_get(root, "keys");
    if (!json_is_object(root) || !json_is_array(keys)) {
        seterr(err, errlen, "keyring: %s: expected {\"keys\":[...]}", path);
        goto fail;
    }
    if (json_array_size(keys) > KEYRING_MAX_KEYS) {
        seterr(err, errlen, "keyring: %s: too many keys", path);
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        kr_entry_t e;
        if (parse_entry(json_array_get(keys, i), &e, path, i, err, errlen) != 0)
            goto fail;
        for (size_t j = 0; j < l->n; j++) {
            if (strcmp(l->v[j].kid, e.kid) == 0) {
                seterr(err, errlen, "keyring: %s: kid %s appears twice", path, e.kid);
                goto fail;
            }
        }
        if (list_push(l, &e) != 0) {
            seterr(err, errlen, "keyring: out of memory");
            goto fail;
        }
    }
    json_decref(root);
    return 0;
fail:
    json_decref(root);
    list_clear(l);
    return -1;
}

static int keyring_write(const kr_dir_t *d, const kr_list_t *l, char *err, size_t errlen)
{
    /* kid and alg are checked to be plain ASCII without quotes or backslashes. */
    const size_t per_entry = KID_MAX + 128;
    size_t cap, len = 0;
    char *buf;
    int n, rc;

    if (l->n > (SIZE_MAX - 64) / per_entry) {
        seterr(err, errlen, "keyring: too many keys");
        return -1;
    }
    cap = l->n * per_entry + 64;
    buf = malloc(cap);
    if (!buf) {
        seterr(err, errlen, "keyring: out of memory");
        return -1;
    }
    n = snprintf(buf, cap, "{\"keys\": [");
    len = (size_t)n;
    for (size_t i = 0; i < l->n; i++) {
        const kr_entry_t *e = &l->v[i];
        char retired[24];
        if (e->is_retired)
            snprintf(retired, sizeof(retired), "%" PRId64, e->retired);
        else
            snprintf(retired, sizeof(retired), "null");
        n = snprintf(buf + len, cap - len,
                     "%s\n  {\"kid\": \"%s\", \"alg\": \"%s\", \"created\": %" PRId64
                     ", \"retired\": %s}",
                     i ? "," : "", e->kid, jot_alg_name(e->alg), e->created, retired);
        if (n < 0 || (size_t)n >= cap - len) {
            free(buf);
            seterr(err, errlen, "keyring: internal error formatting %s", KEYRING_FILE);
            return -1;
        }
        len += (size_t)n;
    }
    n = snprintf(buf + len, cap - len, "\n]}\n");
    if (n < 0 || (size_t)n >= cap - len) {
        free(buf);
        seterr(err, errlen, "keyring: internal error formatting %s", KEYRING_FILE);
        return -1;
    }
    len += (size_t)n;
    rc = write_atomic(d, KEYRING_FILE, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* Read keyring.json; a missing one is an empty keyring unless key files are present
 * (then the operator must restore it: guessing which key signs would be unsafe). */
static int keyring_read_or_empty(const kr_dir_t *d, kr_list_t *l, char *err, size_t errlen)
{
    int rc = keyring_read(d, l, err, errlen);
    int files;

    if (rc != 1)
        return rc;
    files = scan_dir(d, err, errlen);
    if (files < 0)
        return -1;
    if (files) {
        seterr(err, errlen,
               "keyring: %s/%s is missing but key files are present; restore it, or remove "
               "the *.jwk files to start with a new key",
               d->path, KEYRING_FILE);
        return -1;
    }
    return 0;
}

/* ---- keys ------------------------------------------------------------------------ */

static int key_file_name(const char *kid, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s.jwk", kid);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Remove the key file of a key that never made it into keyring.json. */
static void key_discard(const kr_dir_t *d, const char *kid)
{
    char name[KID_MAX + 8];

    if (key_file_name(kid, name, sizeof(name)) == 0)
        (void)unlinkat(d->fd, name, 0);
}

/* Load and check the private key of entry \p e. */
static int key_load(const kr_dir_t *d, const kr_entry_t *e, jot_key_t **out, char *err,
                    size_t errlen)
{
    char name[KID_MAX + 8], tp[JOT_THUMBPRINT_LEN + 1];
    char *text = NULL;
    size_t len = 0;
    jot_key_t *key = NULL;
    jot_err_t jrc;
    int rc;

    if (key_file_name(e->kid, name, sizeof(name)) != 0)
        return -1;
    rc = read_at(d, name, KEY_FILE_MAX_BYTES, true, &text, &len, err, errlen);
    if (rc == 1) {
        seterr(err, errlen, "keyring: key file %s/%s is missing", d->path, name);
        return -1;
    }
    if (rc != 0)
        return -1;
    jrc = jot_key_from_jwk(text, len, &key);
    jot_memzero(text, len);
    free(text);
    if (jrc != JOT_OK) {
        seterr(err, errlen, "keyring: %s/%s: %s", d->path, name, jot_strerror(jrc));
        return -1;
    }
    if (!jot_key_is_private(key) || jot_key_kty(key) == JOT_KTY_OCT) {
        seterr(err, errlen, "keyring: %s/%s is not an asymmetric private key", d->path, name);
        goto fail;
    }
    if (jot_key_thumbprint(key, tp) != JOT_OK || strcmp(tp, e->kid) != 0) {
        seterr(err, errlen, "keyring: %s/%s does not hold the key %s (thumbprint mismatch)",
               d->path, name, e->kid);
        goto fail;
    }
    if (jot_key_alg(key) == JOT_ALG_UNSET && jot_key_set_alg(key, e->alg) != JOT_OK) {
        seterr(err, errlen, "keyring: %s/%s cannot be used with %s", d->path, name,
               jot_alg_name(e->alg));
        goto fail;
    }
    if (jot_key_alg(key) != e->alg || jot_key_check_alg(key, e->alg, 1) != JOT_OK) {
        seterr(err, errlen, "keyring: %s/%s cannot be used with %s", d->path, name,
               jot_alg_name(e->alg));
        goto fail;
    }
    if (jot_key_kid(key) == NULL || strcmp(jot_key_kid(key), e->kid) != 0) {
        if (jot_key_set_kid(key, e->kid) != JOT_OK) {
            seterr(err, errlen, "keyring: out of memory");
            goto fail;
        }
    }
    *out = key;
    return 0;
fail:
    jot_key_free(key);
    return -1;
}

/* Generate a key for \p alg and write its file; fills \p e (not yet retired). */
static int key_new(const kr_dir_t *d, jot_alg_t alg, int64_t now, jot_key_t **out, kr_entry_t *e,
                   char *err, size_t errlen)
{
    char name[KID_MAX + 8];
    char *jwk = NULL;
    size_t jwk_len = 0;
    jot_key_t *key = NULL;
    const char *kid;
    jot_err_t jrc;
    int rc;

    jrc = jot_key_generate(alg, 0, &key);
    if (jrc != JOT_OK) {
        seterr(err, errlen, "keyring: cannot generate a %s key: %s", jot_alg_name(alg),
               jot_strerror(jrc));
        return -1;
    }
    kid = jot_key_kid(key);
    if (!kid || !kid_ok(kid, strlen(kid)) || key_file_name(kid, name, sizeof(name)) != 0) {
        seterr(err, errlen, "keyring: generated key has no usable kid");
        goto fail;
    }
    jrc = jot_key_to_jwk(key, JOT_JWK_PRIVATE, &jwk, &jwk_len);
    if (jrc != JOT_OK) {
        seterr(err, errlen, "keyring: cannot export the new key: %s", jot_strerror(jrc));
        goto fail;
    }
    rc = write_atomic(d, name, jwk, jwk_len, err, errlen);
    jot_memzero(jwk, jwk_len);
    jot_free(jwk);
    if (rc != 0)
        goto fail;
    memset(e, 0, sizeof(*e));
    memcpy(e->kid, kid, strlen(kid) + 1);
    e->alg = alg;
    e->created = now;
    e->is_retired = false;
    *out = key;
    return 0;
fail:
    jot_key_free(key);
    return -1;
}

/* ---- public API -------------------------------------------------------------------- */

void jotd_keyring_free(jotd_keyring_t *kr)
{
    if (!kr)
        return;
    jot_key_free(kr->signing);
    jot_keyset_free(kr->verify);
    jot_free(kr->jwks);
    free(kr);
}

/* Add the public part of \p key to the verify set. */
static int add_public(jotd_keyring_t *kr, const jot_key_t *key, char *err, size_t errlen)
{
    jot_key_t *pub = NULL;
    jot_alg_t alg;
    jot_err_t jrc = jot_key_public(key, &pub);

    if (jrc == JOT_OK) {
        alg = jot_key_alg(pub);
        if (alg == JOT_ALG_UNSET)
            alg = jot_key_default_alg(pub);
        jrc = jot_keyset_add(kr->verify, pub);
        if (jrc == JOT_OK) {
            kr->algs |= JOT_ALG_BIT(alg);
            return 0;
        }
        jot_key_free(pub);
    }
    seterr(err, errlen, "keyring: key %s: %s", jot_key_kid(key) ? jot_key_kid(key) : "?",
           jot_strerror(jrc));
    return -1;
}

/* The rc of a failed dir_open(): no directory given, or one that cannot be used. */
static jotd_rc_t dir_open_rc(const char *data_dir)
{
    return data_dir && *data_dir ? JOTD_E_IO : JOTD_E_INVAL;
}

jotd_rc_t jotd_keyring_load(const char *data_dir, jot_alg_t alg, int64_t access_ttl, int64_t now,
                            jotd_keyring_t **out, char *err, size_t errlen)
{
    kr_dir_t d = {.fd = -1};
    kr_list_t l = {0};
    jotd_keyring_t *kr = NULL;
    jot_key_t *fresh = NULL;
    long sig;
    jot_err_t jrc;
    jotd_rc_t rc = JOTD_E_IO; /* unless a step below says otherwise */

    if (!out) {
        seterr(err, errlen, "keyring: no output");
        return JOTD_E_INVAL;
    }
    if (alg == JOT_ALG_UNSET)
        alg = JOT_ALG_ES256;
    if (dir_open(data_dir, true, &d, err, errlen) != 0)
        return dir_open_rc(data_dir);
    if (dir_lock(&d, err, errlen) != 0 || scan_dir(&d, err, errlen) < 0 ||
        keyring_read_or_empty(&d, &l, err, errlen) != 0)
        goto fail;

    sig = signing_index(&l);
    if (sig < 0) {
        /* First start, or every key retired: a new signing key. */
        kr_entry_t e;
        if (check_alg(alg, err, errlen) != 0) {
            rc = JOTD_E_INVAL;
            goto fail;
        }
        if (key_new(&d, alg, now, &fresh, &e, err, errlen))
            goto fail;
        if (list_push(&l, &e) != 0) {
            rc = JOTD_E_NOMEM;
            seterr(err, errlen, "keyring: out of memory");
            key_discard(&d, e.kid);
            goto fail;
        }
        if (keyring_write(&d, &l, err, errlen) != 0) {
            key_discard(&d, e.kid);
            goto fail;
        }
        sig = (long)l.n - 1;
    }

    kr = calloc(1, sizeof(*kr));
    if (!kr || jot_keyset_new(&kr->verify) != JOT_OK) {
        rc = JOTD_E_NOMEM;
        seterr(err, errlen, "keyring: out of memory");
        goto fail;
    }
    /* Newest first, the signing key at the head of the JWKS. */
    for (size_t k = l.n; k-- > 0;) {
        const kr_entry_t *e = &l.v[k];
        jot_key_t *key = NULL;
        if ((long)k != sig && !live(e, access_ttl, now))
            continue;
        if (e->is_retired && (long)k != sig) {
            int64_t until = e->retired + (access_ttl > 0 ? access_ttl : 0) + LEEWAY;
            if (!kr->next_expiry || until < kr->next_expiry)
                kr->next_expiry = until;
        }
        if ((long)k == sig && fresh) {
            key = fresh;
            fresh = NULL;
        } else if (key_load(&d, e, &key, err, errlen) != 0) {
            goto fail;
        }
        if (add_public(kr, key, err, errlen) != 0) {
            jot_key_free(key);
            goto fail;
        }
        if ((long)k == sig)
            kr->signing = key;
        else
            jot_key_free(key);
    }
    jrc = jot_keyset_to_jwks(kr->verify, JOT_JWK_PUBLIC, &kr->jwks, &kr->jwks_len);
    if (jrc != JOT_OK) {
        rc = jrc == JOT_E_NOMEM ? JOTD_E_NOMEM : JOTD_E_CRYPTO;
        seterr(err, errlen, "keyring: cannot build the JWKS: %s", jot_strerror(jrc));
        goto fail;
    }
    list_clear(&l);
    dir_close(&d);
    *out = kr;
    return JOTD_OK;
fail:
    jot_key_free(fresh);
    jotd_keyring_free(kr);
    list_clear(&l);
    dir_close(&d);
    return rc;
}

int64_t jotd_keyring_next_expiry(const jotd_keyring_t *kr)
{
    return kr ? kr->next_expiry : 0;
}

const jot_key_t *jotd_keyring_signing_key(const jotd_keyring_t *kr)
{
    return kr ? kr->signing : NULL;
}

const jot_keyset_t *jotd_keyring_verify_keys(const jotd_keyring_t *kr)
{
    return kr ? kr->verify : NULL;
}

const char *jotd_keyring_jwks(const jotd_keyring_t *kr, size_t *out_len)
{
    if (!kr)
        return NULL;
    if (out_len)
        *out_len = kr->jwks_len;
    return kr->jwks;
}

unsigned jotd_keyring_algs(const jotd_keyring_t *kr)
{
    return kr ? kr->algs : 0;
}

jotd_rc_t jotd_keyring_rotate(const char *data_dir, jot_alg_t alg, int64_t now, char *out_kid,
                              size_t kid_len, char *err, size_t errlen)
{
    kr_dir_t d = {.fd = -1};
    kr_list_t l = {0};
    jot_key_t *key = NULL;
    kr_entry_t e;
    bool written = false;
    long sig;
    jotd_rc_t rc = JOTD_E_IO; /* unless a step below says otherwise */

    if (dir_open(data_dir, true, &d, err, errlen) != 0)
        return dir_open_rc(data_dir);
    if (dir_lock(&d, err, errlen) != 0 || scan_dir(&d, err, errlen) < 0 ||
        keyring_read_or_empty(&d, &l, err, errlen) != 0)
        goto out;
    sig = signing_index(&l);
    if (alg == JOT_ALG_UNSET)
        alg = sig >= 0 ? l.v[sig].alg : JOT_ALG_ES256;
    if (check_alg(alg, err, errlen) != 0) {
        rc = JOTD_E_INVAL;
        goto out;
    }
    if (key_new(&d, alg, now, &key, &e, err, errlen) != 0)
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.v[i].kid, e.kid) == 0) {
            /* (a random key equal to an existing one: the file is that key's own) */
            rc = JOTD_E_EXISTS;
            seterr(err, errlen, "keyring: new key %s is already in the keyring", e.kid);
            goto out;
        }
    }
    written = true;
    if (out_kid && kid_len <= strlen(e.kid)) {
        rc = JOTD_E_INVAL;
        seterr(err, errlen, "keyring: kid buffer too small");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (!l.v[i].is_retired) {
            l.v[i].is_retired = true;
            l.v[i].retired = now;
        }
    }
    if (list_push(&l, &e) != 0) {
        rc = JOTD_E_NOMEM;
        seterr(err, errlen, "keyring: out of memory");
        goto out;
    }
    if (keyring_write(&d, &l, err, errlen) != 0)
        goto out;
    if (out_kid)
        memcpy(out_kid, e.kid, strlen(e.kid) + 1);
    rc = JOTD_OK;
out:
    if (rc != JOTD_OK && written)
        key_discard(&d, e.kid);
    jot_key_free(key);
    list_clear(&l);
    dir_close(&d);
    return rc;
}

static void iso8601(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "@%" PRId64, t);
}

jotd_rc_t jotd_keyring_list(const char *data_dir, int64_t access_ttl, int64_t now, FILE *out,
                            char *err, size_t errlen)
{
    kr_dir_t d = {.fd = -1};
    kr_list_t l = {0};
    FILE *f = out ? out : stdout;
    long sig;
    jotd_rc_t rc = JOTD_OK;

    if (dir_open(data_dir, false, &d, err, errlen) != 0)
        return dir_open_rc(data_dir);
    int read = keyring_read(&d, &l, err, errlen);
    if (read == 1)
        seterr(err, errlen, "keyring: no %s/%s yet (the server creates it on first start)", d.path,
               KEYRING_FILE);
    if (read != 0) {
        dir_close(&d);
        return read == 1 ? JOTD_E_NOTFOUND : JOTD_E_IO;
    }
    sig = signing_index(&l);
    for (size_t i = 0; i < l.n; i++) {
        const kr_entry_t *e = &l.v[i];
        char created[32], retired[32];
        const char *state = (long)i == sig             ? "signing"
                            : live(e, access_ttl, now) ? "verifying"
                                                       : "expired";
        iso8601(e->created, created);
        if (e->is_retired)
            iso8601(e->retired, retired);
        else
            snprintf(retired, sizeof(retired), "-");
        fprintf(f, "%s %s created=%s retired=%s state=%s\n", e->kid, jot_alg_name(e->alg), created,
                retired, state);
    }
    if (fflush(f) != 0) {
        rc = JOTD_E_IO;
        seterr(err, errlen, "keyring: cannot write the list: %s", strerror(errno));
    }
    list_clear(&l);
    dir_close(&d);
    return rc;
}
