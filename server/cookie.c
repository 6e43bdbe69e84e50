/* Cookies: reading one from the request's Cookie header, writing Set-Cookie.
 *
 * Every cookie jotd sets is HttpOnly (no script of any page reads it). Their names carry the
 * __Host- or __Secure- prefix (RFC 6265bis §4.1.3) when the browser sees jotd over HTTPS: TLS
 * here, or at a proxy in front (--insecure-http). A jotd serving plain HTTP on loopback is a
 * development or test server: the names then drop the prefix and the Secure attribute, which
 * need HTTPS (browsers treat http://localhost as secure, other clients do not). */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool jotd_secure_cookies(const jotd_runtime_t *rt)
{
    return rt->cfg.tls_cert || rt->cfg.insecure_http;
}

const char *jotd_cookie_name(const jotd_runtime_t *rt, const char *name)
{
    if (jotd_secure_cookies(rt))
        return name;
    if (strncmp(name, "__Host-", 7) == 0)
        return name + 7;
    if (strncmp(name, "__Secure-", 9) == 0)
        return name + 9;
    return name;
}

const char *jotd_cookie_get(const jotd_req_t *req, const char *name, char *buf, size_t len)
{
    const char *p = req->cookie;
    size_t n = strlen(name);
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t vlen = strcspn(p, ";");
        if (vlen > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t m = vlen - n - 1;
            if (m >= len)
                return NULL;
            memcpy(buf, p + n + 1, m);
            buf[m] = '\0';
            return buf;
        }
        p += vlen;
    }
    return NULL;
}

void jotd_cookie_set(jotd_resp_t *resp, const jotd_runtime_t *rt, const char *name,
                     const char *value, const jotd_cookie_attrs_t *a)
{
    const char *path = a->path ? a->path : "/";
    size_t cap =
        strlen(name) + strlen(value) + strlen(path) + (a->domain ? strlen(a->domain) : 0) + 128;
    char *h = malloc(cap);
    if (!h)
        return;
    char age[40] = "";
    if (a->max_age >= 0)
        snprintf(age, sizeof age, "; Max-Age=%lld", (long long)a->max_age);
    snprintf(h, cap, "%s=%s; Path=%s%s%s; HttpOnly; SameSite=%s%s%s", name, value, path,
             a->domain ? "; Domain=" : "", a->domain ? a->domain : "", a->same_site,
             jotd_secure_cookies(rt) ? "; Secure" : "", age);
    jotd_resp_header(resp, "Set-Cookie", h);
    jot_memzero(h, cap);
    free(h);
}
