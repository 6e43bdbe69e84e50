/* jotd_store_pg_redact() (store_backend.h): a libpq connection string fit for logs. Its own
 * file, built with or without libpq, so that every caller can use it: with libpq the
 * result is also parsed as libpq would, and any password it still carries (a spelling the
 * string work did not foresee) gets the whole string replaced. */
#include "common/buf.h"
#include "store_backend.h"

#include <jot/jot.h>
#ifdef JOTD_HAVE_PG
#include <libpq-fe.h>
#endif

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Append [p, p + n) to the buffer \p b of capacity \p cap at *len. */
static void put(char *b, size_t cap, size_t *len, const char *p, size_t n)
{
    if (*len + n < cap) {
        memcpy(b + *len, p, n);
        *len += n;
    }
    b[*len < cap ? *len : cap - 1] = '\0';
}

#ifdef JOTD_HAVE_PG
/* Does the redacted text still carry a password for libpq? */
static bool still_has_password(const char *text)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(text, &err);
    PQfreemem(err);
    if (!opts)
        return false; /* libpq will not read one either */
    bool has = false;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && strcmp(o->val, "***") != 0)
            has = true;
    PQconninfoFree(opts);
    return has;
}
#else
/* Without libpq nothing connects with it; the string work above is all there is. */
static bool still_has_password(const char *text)
{
    (void)text;
    return false;
}
#endif

char *jotd_store_pg_redact(const char *uri)
{
    if (!uri)
        return NULL;
    size_t n = strlen(uri);
    size_t cap = 3 * n + 16; /* every password replaced by 3 characters: never longer */
    char *b = malloc(cap);
    if (!b)
        return NULL;
    size_t len = 0;
    b[0] = '\0';
    const char *p = uri;
    const char *scheme_end = strstr(uri, "://");
    if (scheme_end &&
        (strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0)) {
        const char *auth = scheme_end + 3;
        put(b, cap, &len, uri, (size_t)(auth - uri));
        /* userinfo: up to an '@' met before the first '/' (libpq's rule) */
        const char *at = auth;
        while (*at && *at != '@' && *at != '/')
            at++;
        p = auth;
        if (*at == '@') {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon) {
                put(b, cap, &len, auth, (size_t)(colon - auth) + 1);
                put(b, cap, &len, "***", 3);
                p = at;
            }
        }
        /* the rest: query parameters named password get *** */
        const char *qm = strchr(p, '?');
        if (!qm) {
            put(b, cap, &len, p, strlen(p));
        } else {
            put(b, cap, &len, p, (size_t)(qm - p) + 1);
            const char *k = qm + 1;
            while (*k) {
                const char *amp = strchr(k, '&');
                size_t plen = amp ? (size_t)(amp - k) : strlen(k);
                const char *eq = memchr(k, '=', plen);
                if (eq && (size_t)(eq - k) == 8 && strncmp(k, "password", 8) == 0) {
                    put(b, cap, &len, k, 9);
                    put(b, cap, &len, "***", 3);
                } else {
                    put(b, cap, &len, k, plen);
                }
                if (!amp)
                    break;
                put(b, cap, &len, "&", 1);
                k = amp + 1;
            }
        }
    } else {
        /* key=value form: password=VALUE or password='VALUE' */
        while (*p) {
            const char *m = strstr(p, "password");
            if (!m) {
                put(b, cap, &len, p, strlen(p));
                break;
            }
            const char *e = m + 8;
            while (*e == ' ')
                e++;
            bool word_start = m == uri || m[-1] == ' ' || m[-1] == '\t';
            if (!word_start || *e != '=') {
                put(b, cap, &len, p, (size_t)(m - p) + 8);
                p = m + 8;
                continue;
            }
            e++;
            while (*e == ' ')
                e++;
            put(b, cap, &len, p, (size_t)(e - p));
            put(b, cap, &len, "***", 3);
            if (*e == '\'') {
                e++;
                while (*e && *e != '\'') {
                    if (*e == '\\' && e[1])
                        e++;
                    e++;
                }
                if (*e == '\'')
                    e++;
            } else {
                while (*e && *e != ' ' && *e != '\t')
                    e++;
            }
            p = e;
        }
    }
    /* a spelling we did not foresee (percent-encoded key, ...): give nothing away */
    if (still_has_password(b)) {
        jot_memzero(b, cap);
        free(b);
        const char *safe = "postgresql://***";
        return jotx_strdup_n(safe, strlen(safe));
    }
    return b;
}
