/* Request bodies and credentials, parsed from (ptr, len) without sockets.
 *
 * Form bodies follow the WHATWG application/x-www-form-urlencoded parser, made strict where
 * OAuth needs it: a '%' not followed by two hex digits is an error rather than a literal,
 * decoded bytes must be UTF-8 without NUL, and a parameter may appear only once
 * (RFC 6749 §3.2). Empty pairs ("a=1&&b=2") and pairs with an empty name are skipped. */
#include "request.h"
#include "common/buf.h"
#include "common/strparse.h"

#include <jansson.h>
#include <jot/jot.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_HEADER_MAX 8192 /* longest Authorization header value looked at */

/* ---- helpers ----------------------------------------------------------------------------- */

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF) and no NUL byte. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        }
        i += need + 1;
    }
    return true;
}

/* Form-urldecode [s, s+n) ('+' is a space, %XX a byte) into a new NUL-terminated string.
 * Returns JOTD_OK, JOTD_E_MALFORMED (bad escape, not UTF-8, NUL) or JOTD_E_NOMEM. */
static jotd_rc_t urldecode(const char *s, size_t n, char **out)
{
    if (n >= SIZE_MAX / 2)
        return JOTD_E_MALFORMED;
    char *buf = malloc(n + 1);
    if (!buf)
        return JOTD_E_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            buf[o++] = ' ';
        } else if (c == '%') {
            int h = n - i < 3 ? -1 : jotx_hex_digit((unsigned char)s[i + 1]);
            int l = n - i < 3 ? -1 : jotx_hex_digit((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) {
                jot_memzero(buf, n + 1);
                free(buf);
                return JOTD_E_MALFORMED;
            }
            buf[o++] = (char)(h << 4 | l);
            i += 2;
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
    if (!utf8_ok((const unsigned char *)buf, o)) {
        jot_memzero(buf, n + 1);
        free(buf);
        return JOTD_E_MALFORMED;
    }
    *out = buf;
    return JOTD_OK;
}

void jotd_params_clear(jotd_params_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n && i < JOTD_MAX_PARAMS; i++) {
        free(p->items[i].name);
        jotx_free_secret(p->items[i].value);
        p->items[i].name = p->items[i].value = NULL;
    }
    p->n = 0;
}

const char *jotd_params_get(const jotd_params_t *p, const char *name)
{
    if (!p || !name)
        return NULL;
    for (size_t i = 0; i < p->n && i < JOTD_MAX_PARAMS; i++) {
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    }
    return NULL;
}

/* Append (name, value), taking ownership of both (freed on failure). */
static jotd_rc_t add_param(jotd_params_t *p, char *name, char *value)
{
    jotd_rc_t rc = JOTD_OK;
    if (jotd_params_get(p, name))
        rc = JOTD_E_DUPLICATE;
    else if (p->n >= JOTD_MAX_PARAMS)
        rc = JOTD_E_TOOMANY;
    if (rc != JOTD_OK) {
        free(name);
        jotx_free_secret(value);
        return rc;
    }
    p->items[p->n].name = name;
    p->items[p->n].value = value;
    p->n++;
    return JOTD_OK;
}

/* ---- application/x-www-form-urlencoded --------------------------------------------------- */

static jotd_rc_t parse_form(const char *body, size_t len, jotd_params_t *out)
{
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > i) {
            const char *pair = body + i;
            size_t pair_len = end - i;
            const char *eq = memchr(pair, '=', pair_len);
            size_t name_len = eq ? (size_t)(eq - pair) : pair_len;
            char *name = NULL, *value = NULL;
            jotd_rc_t rc = urldecode(pair, name_len, &name);
            if (rc != JOTD_OK)
                return rc;
            if (eq)
                rc = urldecode(eq + 1, pair_len - name_len - 1, &value);
            else if (!(value = calloc(1, 1)))
                rc = JOTD_E_NOMEM;
            if (rc != JOTD_OK) {
                free(name);
                return rc;
            }
            if (name[0] == '\0') {
                free(name);
                jotx_free_secret(value);
            } else if ((rc = add_param(out, name, value)) != JOTD_OK) {
                return rc;
            }
        }
        i = end + 1;
    }
    return JOTD_OK;
}

/* ---- application/json -------------------------------------------------------------------- */

/* Shortest "%.*g" text that reads back as the same double. */
static void real_text(double d, char *buf, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* The text of one member value, malloc'd; NULL with *rc set when the value has no text. */
static char *json_value_text(const json_t *v, jotd_rc_t *rc)
{
    char num[64];
    *rc = JOTD_E_MALFORMED;
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (memchr(s, '\0', n))
            return NULL;
        break;
    }
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        real_text(json_real_value(v), num, sizeof num);
        break;
    case JSON_TRUE:
        snprintf(num, sizeof num, "true");
        break;
    case JSON_FALSE:
        snprintf(num, sizeof num, "false");
        break;
    case JSON_ARRAY: {
        /* An array of strings ("scope": ["read", "write"]) joined with single spaces.
         * Elements must be non-empty and space-free so that the join is unambiguous. */
        size_t total = 0, idx;
        json_t *e;
        json_array_foreach(v, idx, e)
        {
            if (!json_is_string(e))
                return NULL;
            size_t n = json_string_length(e);
            const char *s = json_string_value(e);
            if (n == 0 || memchr(s, ' ', n) || memchr(s, '\0', n))
                return NULL;
            total += n + 1;
        }
        char *out = malloc(total + 1);
        if (!out) {
            *rc = JOTD_E_NOMEM;
            return NULL;
        }
        size_t o = 0;
        json_array_foreach(v, idx, e)
        {
            size_t n = json_string_length(e);
            if (o)
                out[o++] = ' ';
            memcpy(out + o, json_string_value(e), n);
            o += n;
        }
        out[o] = '\0';
        *rc = JOTD_OK;
        return out;
    }
    default: /* null, objects */
        return NULL;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : num;
    size_t n = json_is_string(v) ? json_string_length(v) : strlen(num);
    char *out = malloc(n + 1);
    if (!out) {
        *rc = JOTD_E_NOMEM;
        return NULL;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    *rc = JOTD_OK;
    return out;
}

static jotd_rc_t parse_json(const char *body, size_t len, jotd_params_t *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_duplicate_key)
            return JOTD_E_DUPLICATE;
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return JOTD_E_NOMEM;
        return JOTD_E_MALFORMED;
    }
    jotd_rc_t rc = JOTD_OK;
    if (!json_is_object(root)) {
        rc = JOTD_E_MALFORMED;
        goto done;
    }
    if (json_object_size(root) > JOTD_MAX_PARAMS) {
        rc = JOTD_E_TOOMANY;
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        char *text = json_value_text(val, &rc);
        if (!text)
            goto done;
        if (key[0] == '\0') { /* skipped, as in forms */
            jotx_free_secret(text);
            continue;
        }
        char *name = malloc(strlen(key) + 1);
        if (!name) {
            jotx_free_secret(text);
            rc = JOTD_E_NOMEM;
            goto done;
        }
        memcpy(name, key, strlen(key) + 1);
        if ((rc = add_param(out, name, text)) != JOTD_OK)
            goto done;
    }
done:
    json_decref(root);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Does the media type of \p ct (before any ';', whitespace trimmed) equal \p want? */
static bool media_is(const char *ct, const char *want)
{
    while (is_ows(*ct))
        ct++;
    size_t n = 0;
    while (ct[n] && ct[n] != ';')
        n++;
    while (n > 0 && is_ows(ct[n - 1]))
        n--;
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

jotd_rc_t jotd_params_parse(const char *content_type, const char *body, size_t len,
                            jotd_params_t *out)
{
    out->n = 0;
    if (!body || len == 0)
        return JOTD_OK;
    jotd_rc_t rc;
    if (!content_type)
        return JOTD_E_MEDIA;
    if (media_is(content_type, "application/x-www-form-urlencoded"))
        rc = parse_form(body, len, out);
    else if (media_is(content_type, "application/json"))
        rc = parse_json(body, len, out);
    else
        return JOTD_E_MEDIA;
    if (rc != JOTD_OK)
        jotd_params_clear(out);
    return rc;
}

/* ---- Authorization headers --------------------------------------------------------------- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict RFC 4648 §4 base64: padded to a multiple of 4, '=' only at the end, zero pad bits.
 * \p out has room for n / 4 * 3 bytes. Returns the decoded length or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4] = {0, 0, 0, 0};
        size_t pad = 0;
        if (i + 4 == n && s[n - 1] == '=')
            pad = s[n - 2] == '=' ? 2 : 1;
        for (size_t k = 0; k < 4 - pad; k++) {
            if ((v[k] = b64val((unsigned char)s[i + k])) < 0)
                return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12;
        if (pad < 2)
            w |= (uint32_t)v[2] << 6;
        if (pad < 1)
            w |= (uint32_t)v[3];
        if ((pad == 2 && (w & 0xffff)) || (pad == 1 && (w & 0xff)))
            return -1; /* non-zero bits under the padding: not canonical */
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)w;
    }
    return (long)o;
}

/* Skip "<scheme>" (case-insensitive) and one or more spaces; NULL when \p h does not start so. */
static const char *after_scheme(const char *h, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return NULL;
    h += n;
    while (*h == ' ')
        h++;
    return h;
}

int jotd_basic_auth_parse(const char *header, char **out_id, char **out_secret)
{
    if (!header || strnlen(header, AUTH_HEADER_MAX + 1) > AUTH_HEADER_MAX)
        return -1;
    const char *p = after_scheme(header, "Basic");
    if (!p)
        return -1;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ')
        n--;
    if (n == 0)
        return -1;
    unsigned char dec[AUTH_HEADER_MAX / 4 * 3 + 1] = {0}; /* wiped at out: */
    long dn = b64_decode(p, n, dec);
    int rc = -1;
    char *id = NULL, *secret = NULL;
    if (dn < 0)
        goto out;
    unsigned char *colon = memchr(dec, ':', (size_t)dn);
    if (!colon)
        goto out;
    size_t id_len = (size_t)(colon - dec);
    if (urldecode((const char *)dec, id_len, &id) != JOTD_OK)
        goto out;
    if (urldecode((const char *)colon + 1, (size_t)dn - id_len - 1, &secret) != JOTD_OK)
        goto out;
    if (id[0] == '\0')
        goto out;
    *out_id = id;
    *out_secret = secret;
    id = secret = NULL;
    rc = 0;
out:
    jot_memzero(dec, sizeof dec);
    free(id);
    jotx_free_secret(secret);
    return rc;
}

static bool b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

const char *jotd_bearer_token(const char *header, size_t *out_len)
{
    if (!header)
        return NULL;
    const char *tok = after_scheme(header, "Bearer");
    if (!tok)
        return NULL;
    const char *p = tok;
    while (b64token_char((unsigned char)*p))
        p++;
    if (p == tok)
        return NULL;
    while (*p == '=')
        p++;
    const char *end = p;
    while (*p == ' ')
        p++;
    if (*p != '\0')
        return NULL;
    if (out_len)
        *out_len = (size_t)(end - tok);
    return tok;
}

/* ---- the request head -------------------------------------------------------------------- */

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

size_t jotd_url_unescape(char *s, bool *out_ctl)
{
    unsigned char *r = (unsigned char *)s, *w = r;
    bool ctl = false;
    while (*r) {
        int hi, lo;
        if (r[0] == '%' && (hi = jotx_hex_digit(r[1])) >= 0 && (lo = jotx_hex_digit(r[2])) >= 0) {
            *w = (unsigned char)(hi << 4 | lo);
            r += 3;
        } else {
            *w = *r++;
        }
        ctl |= is_ctl(*w++);
    }
    *w = '\0';
    *out_ctl = ctl;
    return (size_t)(w - (unsigned char *)s);
}

/* Content-Length as RFC 9110 §8.6 writes it: digits only (no sign, no list "3, 3"). */
static bool all_digits(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return false;
    return true;
}

const char *jotd_req_head_check(const jotd_req_head_t *h)
{
    if (h->url_ctl)
        return "control character in the URL";
    for (size_t i = 0; i < h->path_len; i++)
        if (is_ctl((unsigned char)h->path[i]))
            return "control character in the URL";
    size_t n_cl = 0, n_te = 0, n_auth = 0;
    const char *cl = NULL, *te = NULL;
    for (size_t i = 0; i < h->n_hdrs; i++) {
        const char *name = h->hdrs[i].name, *value = h->hdrs[i].value ? h->hdrs[i].value : "";
        if (!name)
            continue;
        if (strcasecmp(name, "Content-Length") == 0) {
            n_cl++;
            cl = value;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            n_te++;
            te = value;
        } else if (strcasecmp(name, "Authorization") == 0) {
            n_auth++;
        }
    }
    if (n_cl > 1)
        return "repeated Content-Length";
    if (n_cl && n_te)
        return "Content-Length together with Transfer-Encoding";
    if (cl && !all_digits(cl))
        return "bad Content-Length";
    if (n_te > 1 || (te && strcasecmp(te, "chunked") != 0))
        return "unsupported Transfer-Encoding";
    if (n_auth > 1)
        return "repeated Authorization";
    return NULL;
}
