/* The login page's redirect targets (`rd`) and the cookie domain: see redirect.h. */
#include "redirect.h"

#include <stdint.h>
#include <string.h>

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* [p, p + n) is a lower-case DNS name: labels of 1..63 [a-z0-9-], not starting or ending
 * with '-', at most 253 bytes, the last label not all digits (that is an IPv4 address). */
static bool dns_name(const char *p, size_t n, size_t *out_labels)
{
    if (n == 0 || n > 253)
        return false;
    size_t labels = 0, i = 0;
    bool all_digits = true;
    while (i < n) {
        size_t start = i;
        all_digits = true;
        while (i < n && p[i] != '.') {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                return false;
            if (c < '0' || c > '9')
                all_digits = false;
            i++;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || p[start] == '-' || p[i - 1] == '-')
            return false;
        labels++;
        if (i < n) { /* a '.': another label must follow */
            i++;
            if (i == n)
                return false;
        }
    }
    if (all_digits)
        return false;
    if (out_labels)
        *out_labels = labels;
    return true;
}

bool jotd_host_under(const char *host, size_t len, const char *domain)
{
    size_t d = strlen(domain);
    if (d == 0 || len < d)
        return false;
    if (memcmp(host + len - d, domain, d) != 0)
        return false;
    return len == d || host[len - d - 1] == '.';
}

bool jotd_cookie_domain_ok(const char *name)
{
    size_t labels = 0;
    if (!name || !dns_name(name, strlen(name), &labels))
        return false;
    return labels >= 2 || strcmp(name, "localhost") == 0;
}

bool jotd_rd_ok(const char *rd, size_t len, const char *cookie_domain, bool allow_http,
                char origin[JOTD_ORIGIN_MAX])
{
    if (!rd || !cookie_domain || len == 0 || len > JOTD_RD_MAX)
        return false;
    /* the bytes: printable ASCII, no backslash, well-formed percent-escapes, no %00 */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)rd[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            return false;
        if (c == '%') {
            if (i + 2 >= len || !is_hex(rd[i + 1]) || !is_hex(rd[i + 2]))
                return false;
            if (rd[i + 1] == '0' && rd[i + 2] == '0')
                return false;
        }
    }
    size_t skip;
    if (len > 8 && memcmp(rd, "https://", 8) == 0)
        skip = 8;
    else if (allow_http && len > 7 && memcmp(rd, "http://", 7) == 0)
        skip = 7;
    else
        return false;
    const char *auth = rd + skip;
    size_t alen = 0;
    while (skip + alen < len && auth[alen] != '/' && auth[alen] != '?' && auth[alen] != '#')
        alen++;
    /* host[:port]: no userinfo, no IP literal, no escapes (the host charset refuses them) */
    size_t hlen = alen;
    const char *colon = memchr(auth, ':', alen);
    if (colon) {
        hlen = (size_t)(colon - auth);
        size_t plen = alen - hlen - 1;
        if (plen == 0 || plen > 5)
            return false;
        uint32_t port = 0;
        for (size_t i = 0; i < plen; i++) {
            char c = colon[1 + i];
            if (c < '0' || c > '9')
                return false;
            port = port * 10 + (uint32_t)(c - '0');
        }
        if (port == 0 || port > 65535 || colon[1] == '0')
            return false;
    }
    if (!dns_name(auth, hlen, NULL) || !jotd_host_under(auth, hlen, cookie_domain))
        return false;
    if (origin) {
        size_t olen = skip + alen;
        if (olen >= JOTD_ORIGIN_MAX)
            return false;
        memcpy(origin, rd, olen);
        origin[olen] = '\0';
    }
    return true;
}

size_t jotd_percent_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (o + (plain ? 1 : 3) >= cap)
            return 0;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= cap)
        return 0;
    out[o] = '\0';
    return o;
}
