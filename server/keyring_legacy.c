/* The DATA/keys directory of an earlier release (see keyring.h), read once to import its
 * keys into the store; nothing here writes.
 *
 * Its layout (mode 0700, never writable by group or others):
 * - <kid>.jwk: one private JWK per key, mode 0600. The kid is the key's RFC 7638
 *   thumbprint, checked again here, so a file cannot be swapped for another key. A key file
 *   with any group or other permission bit is refused (as ssh does).
 * - keyring.json: {"keys":[{"kid":..,"alg":..,"created":N,"retired":N|null}, ...]}.
 *   Only keys listed here are read; a key file that is not listed is ignored.
 * A shared flock() on the directory keeps a still running older jotd from rewriting it
 * while it is read. */
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

/* An open DATA/keys directory. */
typedef struct kr_dir {
    int fd;
    char path[PATH_MAX];
} kr_dir_t;

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

static int dir_open(const char *data_dir, kr_dir_t *d, char *err, size_t errlen)
{
    struct stat st;
    int n;

    d->fd = -1;
    if (!data_dir || !*data_dir) {
        jotd_seterr(err, errlen, "keyring: no data directory");
        return -1;
    }
    n = snprintf(d->path, sizeof(d->path), "%s/keys", data_dir);
    if (n < 0 || (size_t)n >= sizeof(d->path)) {
        jotd_seterr(err, errlen, "keyring: data directory path too long");
        return -1;
    }
    /* not through a symlink: keys/ itself is checked below, not what a link points at */
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->fd < 0) {
        jotd_seterr(err, errlen, "keyring: cannot open %s: %s", d->path, strerror(errno));
        return -1;
    }
    if (fstat(d->fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        jotd_seterr(err, errlen, "keyring: %s is not a directory", d->path);
        goto fail;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        jotd_seterr(err, errlen,
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
    while (flock(d->fd, LOCK_SH) != 0) {
        if (errno != EINTR) {
            jotd_seterr(err, errlen, "keyring: cannot lock %s: %s", d->path, strerror(errno));
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
        jotd_seterr(err, errlen, "keyring: cannot open %s/%s: %s", d->path, name, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        jotd_seterr(err, errlen, "keyring: %s/%s is not a regular file", d->path, name);
        goto fail;
    }
    if (private_file && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        jotd_seterr(err, errlen,
                    "keyring: key file %s/%s is accessible by group or others (mode %04o); "
                    "refusing to use it: run chmod 600 on it",
                    d->path, name, (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        jotd_seterr(err, errlen, "keyring: %s/%s is too large", d->path, name);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        jotd_seterr(err, errlen, "keyring: out of memory");
        goto fail;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            jotd_seterr(err, errlen, "keyring: cannot read %s/%s: %s", d->path, name,
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
        jotd_seterr(err, errlen,
                    "keyring: %s: entry %zu needs kid, alg (strings), created (integer) and "
                    "retired (integer or null)",
                    path, i);
        return -1;
    }
    if (!kid_ok(json_string_value(kid), json_string_length(kid))) {
        jotd_seterr(err, errlen, "keyring: %s: entry %zu has an invalid kid", path, i);
        return -1;
    }
    memcpy(e->kid, json_string_value(kid), json_string_length(kid) + 1);
    if (jot_alg_from_name(json_string_value(alg), json_string_length(alg), &e->alg) != JOT_OK ||
        e->alg == JOT_ALG_HS256 || e->alg == JOT_ALG_HS384 || e->alg == JOT_ALG_HS512) {
        jotd_seterr(err, errlen, "keyring: %s: key %s has an unusable alg \"%s\"", path, e->kid,
                    json_string_value(alg));
        return -1;
    }
    e->created = (int64_t)json_integer_value(created);
    if (json_is_integer(retired)) {
        e->is_retired = true;
        e->retired = (int64_t)json_integer_value(retired);
    }
    if (e->created < 0 || (e->is_retired && e->retired < 0)) {
        jotd_seterr(err, errlen, "keyring: %s: key %s has a negative time", path, e->kid);
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
        jotd_seterr(err, errlen, "keyring: %s: invalid JSON (line %d: %s)", path, jerr.line,
                    jerr.text);
        return -1;
    }
    keys = json_object_get(root, "keys");
    if (!json_is_object(root) || !json_is_array(keys)) {
        jotd_seterr(err, errlen, "keyring: %s: expected {\"keys\":[...]}", path);
        goto fail;
    }
    if (json_array_size(keys) > KEYRING_MAX_KEYS) {
        jotd_seterr(err, errlen, "keyring: %s: too many keys", path);
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        kr_entry_t e;
        if (parse_entry(json_array_get(keys, i), &e, path, i, err, errlen) != 0)
            goto fail;
        for (size_t j = 0; j < l->n; j++) {
            if (strcmp(l->v[j].kid, e.kid) == 0) {
                jotd_seterr(err, errlen, "keyring: %s: kid %s appears twice", path, e.kid);
                goto fail;
            }
        }
        if (list_push(l, &e) != 0) {
            jotd_seterr(err, errlen, "keyring: out of memory");
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

/* ---- keys ------------------------------------------------------------------------ */

static int key_file_name(const char *kid, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s.jwk", kid);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
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
        jotd_seterr(err, errlen, "keyring: key file %s/%s is missing", d->path, name);
        return -1;
    }
    if (rc != 0)
        return -1;
    jrc = jot_key_from_jwk(text, len, &key);
    jot_memzero(text, len);
    free(text);
    if (jrc != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: %s/%s: %s", d->path, name, jot_strerror(jrc));
        return -1;
    }
    if (!jot_key_is_private(key) || jot_key_kty(key) == JOT_KTY_OCT) {
        jotd_seterr(err, errlen, "keyring: %s/%s is not an asymmetric private key", d->path, name);
        goto fail;
    }
    if (jot_key_thumbprint(key, tp) != JOT_OK || strcmp(tp, e->kid) != 0) {
        jotd_seterr(err, errlen, "keyring: %s/%s does not hold the key %s (thumbprint mismatch)",
                    d->path, name, e->kid);
        goto fail;
    }
    if (jot_key_alg(key) == JOT_ALG_UNSET && jot_key_set_alg(key, e->alg) != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: %s/%s cannot be used with %s", d->path, name,
                    jot_alg_name(e->alg));
        goto fail;
    }
    if (jot_key_alg(key) != e->alg || jot_key_check_alg(key, e->alg, 1) != JOT_OK) {
        jotd_seterr(err, errlen, "keyring: %s/%s cannot be used with %s", d->path, name,
                    jot_alg_name(e->alg));
        goto fail;
    }
    if (jot_key_kid(key) == NULL || strcmp(jot_key_kid(key), e->kid) != 0) {
        if (jot_key_set_kid(key, e->kid) != JOT_OK) {
            jotd_seterr(err, errlen, "keyring: out of memory");
            goto fail;
        }
    }
    *out = key;
    return 0;
fail:
    jot_key_free(key);
    return -1;
}

/* ---- public API -------------------------------------------------------------------- */

/* ---- public API -------------------------------------------------------------------- */

void jotd_legacy_keys_free(jotd_legacy_key_t *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        jot_key_free(v[i].key);
    free(v);
}

jotd_rc_t jotd_legacy_keys_read(const char *data_dir, jotd_legacy_key_t **out, size_t *out_n,
                                char *err, size_t errlen)
{
    *out = NULL;
    *out_n = 0;
    char path[PATH_MAX];
    struct stat sb;
    int n = data_dir ? snprintf(path, sizeof path, "%s/keys/" KEYRING_FILE, data_dir) : -1;
    if (n < 0 || (size_t)n >= sizeof path || lstat(path, &sb) != 0)
        return JOTD_E_NOTFOUND; /* (a keys/ directory without keyring.json holds no key) */
    kr_dir_t d = {.fd = -1};
    kr_list_t l = {0};
    jotd_legacy_key_t *v = NULL;
    size_t got = 0;
    jotd_rc_t rc = JOTD_E_IO;
    if (dir_open(data_dir, &d, err, errlen) != 0 || dir_lock(&d, err, errlen) != 0)
        goto out;
    int r = keyring_read(&d, &l, err, errlen);
    if (r != 0) {
        rc = r == 1 ? JOTD_E_NOTFOUND : JOTD_E_IO;
        goto out;
    }
    v = l.n ? calloc(l.n, sizeof *v) : NULL;
    if (l.n && !v) {
        rc = JOTD_E_NOMEM;
        goto out;
    }
    for (; got < l.n; got++) {
        const kr_entry_t *e = &l.v[got];
        if (key_load(&d, e, &v[got].key, err, errlen) != 0)
            goto out;
        v[got].created = e->created;
        v[got].retired = e->is_retired ? e->retired : 0;
    }
    *out = v;
    *out_n = got;
    v = NULL;
    rc = JOTD_OK;
out:
    jotd_legacy_keys_free(v, got);
    list_clear(&l);
    dir_close(&d);
    return rc;
}
