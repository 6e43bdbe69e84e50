/* The server's shared secrets and its KEK (see secrets.h). */
#include "secrets.h"

#include <jot/jot.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PURPOSE_MAX 96

static jotd_rc_t store_fail(jotd_rc_t rc, char *err, size_t errlen)
{
    jotd_seterr(err, errlen, "store: %s", jotd_store_errmsg(NULL));
    return rc;
}

/* The KEK id of any sealed value in the store into \p id ("" when there is none). */
static jotd_rc_t sealed_kek_id(jotd_store_t *st, char id[JOTD_KEK_ID_LEN + 1])
{
    id[0] = '\0';
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_key_list(st, &rows, &n);
    if (rc != JOTD_OK)
        return rc;
    if (n)
        jotd_sealed_kek_id(rows[0].private_sealed, id);
    jotd_key_list_free(rows, n);
    const char *names[] = {JOTD_SECRET_REFRESH, JOTD_SECRET_CLIENT};
    for (size_t i = 0; i < 2 && !id[0]; i++) {
        char *sealed = NULL;
        rc = jotd_store_secret_get(st, names[i], &sealed);
        if (rc == JOTD_OK)
            jotd_sealed_kek_id(sealed, id);
        free(sealed);
        if (rc != JOTD_OK && rc != JOTD_E_NOTFOUND)
            return rc;
    }
    if (!id[0] && n)
        snprintf(id, JOTD_KEK_ID_LEN + 1, "?");
    return JOTD_OK;
}

jotd_rc_t jotd_kek_open(jotd_store_t *st, const char *path, const char *data_dir, jotd_kek_t *out,
                        char *err, size_t errlen)
{
    char dflt[4096];
    if (!path) {
        snprintf(dflt, sizeof dflt, "%s/%s", data_dir ? data_dir : ".", JOTD_KEK_DEFAULT_NAME);
        path = dflt;
    }
    jotd_rc_t rc = jotd_kek_load(path, out, err, errlen);
    if (rc != JOTD_E_NOTFOUND)
        return rc;
    char id[JOTD_KEK_ID_LEN + 1];
    rc = sealed_kek_id(st, id);
    if (rc != JOTD_OK)
        return store_fail(rc, err, errlen);
    if (id[0]) {
        jotd_seterr(err, errlen,
                    "key-encryption key %s does not exist, and the store's keys are sealed with "
                    "key-encryption key %s: give this instance the file the others have "
                    "(--key-encryption-key FILE)",
                    path, id);
        return JOTD_E_NOTFOUND;
    }
    rc = jotd_kek_create(path, out, err, errlen);
    if (rc == JOTD_E_EXISTS) /* made meanwhile by another command on this directory */
        rc = jotd_kek_load(path, out, err, errlen);
    return rc;
}

jotd_rc_t jotd_secret_load(jotd_store_t *st, const jotd_kek_t *kek, const char *data_dir,
                           const char *name, uint8_t out[32], char *err, size_t errlen)
{
    char purpose[PURPOSE_MAX];
    snprintf(purpose, sizeof purpose, "secret:%s", name);
    for (int attempt = 0; attempt < 2; attempt++) {
        char *sealed = NULL;
        jotd_rc_t rc = jotd_store_secret_get(st, name, &sealed);
        if (rc == JOTD_OK) {
            uint8_t *v = NULL;
            size_t len = 0;
            rc = jotd_unseal(kek, purpose, sealed, &v, &len, err, errlen);
            free(sealed);
            if (rc == JOTD_OK && len != 32) {
                jotd_seterr(err, errlen, "secret %s in the store is damaged", name);
                rc = JOTD_E_CRYPTO;
            }
            if (rc == JOTD_OK)
                memcpy(out, v, 32);
            if (v)
                jot_memzero(v, len);
            free(v);
            return rc;
        }
        if (rc != JOTD_E_NOTFOUND)
            return store_fail(rc, err, errlen);
        /* none yet: an earlier release's file, or a new value */
        uint8_t value[32];
        char path[4096];
        snprintf(path, sizeof path, "%s/keys/%s", data_dir ? data_dir : ".", name);
        rc = jotd_key_file_read(path, value, err, errlen);
        if (rc == JOTD_E_NOTFOUND && RAND_bytes(value, sizeof value) != 1) {
            jotd_seterr(err, errlen, "secret %s: no randomness", name);
            rc = JOTD_E_CRYPTO;
        } else if (rc == JOTD_E_NOTFOUND) {
            rc = JOTD_OK;
        }
        if (rc == JOTD_OK &&
            (rc = jotd_seal(kek, purpose, value, sizeof value, &sealed)) != JOTD_OK)
            jotd_seterr(err, errlen, "secret %s: cannot seal it", name);
        jot_memzero(value, sizeof value);
        if (rc != JOTD_OK)
            return rc; /* (the file's message is in err) */
        rc = jotd_store_secret_put(st, name, sealed, (int64_t)time(NULL));
        free(sealed);
        /* stored, or another instance was first: either way read the value back */
        if (rc != JOTD_OK && rc != JOTD_E_EXISTS)
            return store_fail(rc, err, errlen);
    }
    jotd_seterr(err, errlen, "secret %s: cannot be stored", name);
    return JOTD_E_IO;
}
