/* Client addresses behind trusted proxies (see proxy.h). */
#include "proxy.h"
#include "common/strparse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NODE_MAX 64     /* longest node text looked at ("[v6]:port" is at most 53) */
#define MAX_ENTRIES 128 /* entries remembered, the rightmost ones; the walk needs no more */

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int jotd_addr_parse(const char *s, size_t n, uint8_t out[16])
{
    char buf[JOTD_ADDR_TEXT];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) { /* glibc: dotted quad only, no leading zeros */
        memcpy(out, v4_mapped, 12);
        memcpy(out + 12, &a4, 4);
        return 0;
    }
    if (strchr(buf, '%')) /* no zone ids */
        return -1;
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static bool is_v4(const uint8_t a[16])
{
    return memcmp(a, v4_mapped, 12) == 0;
}

void jotd_addr_format(const uint8_t a[16], char out[JOTD_ADDR_TEXT])
{
    if (is_v4(a))
        inet_ntop(AF_INET, a + 12, out, JOTD_ADDR_TEXT);
    else
        inet_ntop(AF_INET6, a, out, JOTD_ADDR_TEXT);
}

/* Whether \p a and \p net agree on their first \p bits bits. */
static bool prefix_equal(const uint8_t a[16], const uint8_t net[16], unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

int jotd_cidr_parse(const char *s, size_t n, jotd_cidr_t *out, char *why, size_t whylen)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    jotd_cidr_t c;
    if (jotd_addr_parse(s, alen, c.addr) != 0) {
        snprintf(why, whylen, "not an IPv4 or IPv6 address");
        return -1;
    }
    /* an IPv4-mapped IPv6 literal is refused: write the IPv4 form, whose prefix is 0..32 */
    bool v4 = memchr(s, ':', alen) == NULL;
    if (!v4 && is_v4(c.addr)) {
        snprintf(why, whylen, "write IPv4-mapped addresses as IPv4");
        return -1;
    }
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *p = slash + 1, *end = s + n;
        uint64_t v;
        if (p == end || end - p > 3 || (*p == '0' && end - p > 1) ||
            jotx_parse_u64(&p, end, 999, &v) != JOTX_OK || p != end) {
            snprintf(why, whylen, "bad prefix length");
            return -1;
        }
        bits = (unsigned)v;
        if (bits > max) {
            snprintf(why, whylen, "prefix length over %u", max);
            return -1;
        }
    }
    c.bits = v4 ? 96 + bits : bits;
    jotd_cidr_t net = c;
    for (unsigned i = c.bits; i < 128; i++)
        net.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    if (memcmp(net.addr, c.addr, 16) != 0) {
        snprintf(why, whylen, "host bits set beyond /%u", bits);
        return -1;
    }
    *out = c;
    return 0;
}

bool jotd_cidr_contains(const jotd_cidr_t *ranges, size_t n, const uint8_t a[16])
{
    for (size_t i = 0; i < n; i++)
        if (prefix_equal(a, ranges[i].addr, ranges[i].bits))
            return true;
    return false;
}

/* ---- lists of nodes ---------------------------------------------------------------------- */

/* The rightmost MAX_ENTRIES entries of a list, in a ring. An entry with ptr NULL is an
 * element that names no node (Forwarded without for=): malformed when walked to. */
typedef struct entries {
    struct {
        const char *p;
        size_t n;
    } e[MAX_ENTRIES];
    size_t count; /* all entries seen, the ring holds the last min(count, MAX_ENTRIES) */
} entries_t;

static void push(entries_t *l, const char *p, size_t n)
{
    l->e[l->count % MAX_ENTRIES].p = p;
    l->e[l->count % MAX_ENTRIES].n = n;
    l->count++;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n)
{
    while (*n && is_ows(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && is_ows((*p)[*n - 1]))
        (*n)--;
}

/* "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:4711". 0/-1. */
static int parse_node(const char *s, size_t n, uint8_t out[16])
{
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        size_t after = n - (size_t)(close + 1 - s);
        const char *port = close + 1;
        if (after && (port[0] != ':' || after < 2 || after > 6))
            return -1;
        for (size_t i = 1; i < after; i++)
            if (port[i] < '0' || port[i] > '9')
                return -1;
        uint8_t a[16];
        if (jotd_addr_parse(s + 1, (size_t)(close - s - 1), a) != 0)
            return -1;
        memcpy(out, a, 16);
        return 0;
    }
    const char *colon = memchr(s, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) { /* v4:port */
        size_t plen = n - (size_t)(colon + 1 - s);
        if (plen < 1 || plen > 5)
            return -1;
        for (size_t i = 0; i < plen; i++)
            if (colon[1 + i] < '0' || colon[1 + i] > '9')
                return -1;
        uint8_t a[16];
        if (jotd_addr_parse(s, (size_t)(colon - s), a) != 0 || !is_v4(a))
            return -1;
        memcpy(out, a, 16);
        return 0;
    }
    return jotd_addr_parse(s, n, out);
}

static void split_xff(entries_t *l, const char *v)
{
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        const char *p = v;
        trim(&p, &n);
        push(l, p, n); /* an empty entry stays, and is malformed */
        if (!comma)
            return;
        v = comma + 1;
    }
}

/* RFC 7239 §4: forwarded-element *( "," forwarded-element ), each element pairs
 * token=value separated by ';', a value a token or a quoted-string (which may hold ',' and
 * ';'). The for= value of each element is pushed as it stands, quotes included; an element
 * without for= is pushed as NULL. Returns false when the syntax is broken. */
static bool split_forwarded(entries_t *l, const char *v)
{
    const char *p = v;
    for (;;) {
        const char *node = NULL;
        size_t node_n = 0;
        for (;;) { /* pairs of one element */
            while (is_ows(*p))
                p++;
            const char *name = p;
            while (*p && *p != '=' && *p != ';' && *p != ',' && !is_ows(*p))
                p++;
            size_t name_n = (size_t)(p - name);
            if (*p != '=' || name_n == 0)
                return false;
            p++;
            const char *val = p;
            if (*p == '"') {
                for (p++; *p && *p != '"'; p++)
                    if (*p == '\\' && p[1])
                        p++;
                if (*p != '"')
                    return false;
                p++;
            } else {
                while (*p && *p != ';' && *p != ',' && !is_ows(*p))
                    p++;
            }
            if (name_n == 3 && strncasecmp(name, "for", 3) == 0) {
                if (node) /* for= twice in one element */
                    return false;
                node = val;
                node_n = (size_t)(p - val);
            }
            while (is_ows(*p))
                p++;
            if (*p != ';')
                break;
            p++;
        }
        push(l, node, node_n);
        if (*p == '\0')
            return true;
        if (*p != ',')
            return false;
        p++;
    }
}

/* A for= value: unquote (RFC 7230 quoted-pair) into \p buf, then parse the node. */
static int forwarded_node(const char *s, size_t n, uint8_t out[16])
{
    char buf[NODE_MAX];
    size_t k = 0;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        for (size_t i = 1; i + 1 < n; i++) {
            if (s[i] == '\\' && i + 2 < n)
                i++;
            if (k + 1 >= sizeof buf)
                return -1;
            buf[k++] = s[i];
        }
    } else {
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, s, n);
        k = n;
    }
    return parse_node(buf, k, out);
}

void jotd_client_addr(const jotd_cidr_t *trusted, size_t n_trusted, const uint8_t peer[16],
                      const jotd_hdr_t *hdrs, size_t n_hdrs, uint8_t out[16])
{
    memcpy(out, peer, 16);
    if (!n_trusted || !jotd_cidr_contains(trusted, n_trusted, peer))
        return;
    entries_t l;
    l.count = 0;
    bool xff = false;
    for (size_t i = 0; i < n_hdrs; i++) {
        if (hdrs[i].name && hdrs[i].value && strcasecmp(hdrs[i].name, "X-Forwarded-For") == 0) {
            split_xff(&l, hdrs[i].value);
            xff = true;
        }
    }
    for (size_t i = 0; !xff && i < n_hdrs; i++) {
        if (hdrs[i].name && hdrs[i].value && strcasecmp(hdrs[i].name, "Forwarded") == 0 &&
            !split_forwarded(&l, hdrs[i].value))
            return; /* broken syntax: nothing in it can be placed */
    }
    size_t kept = l.count < MAX_ENTRIES ? l.count : MAX_ENTRIES;
    uint8_t candidate[16];
    bool have = false;
    /* cppcheck does not follow the entries split_xff()/split_forwarded() add through &l */
    // cppcheck-suppress knownConditionTrueFalse
    for (size_t k = 0; k < kept; k++) { /* from the rightmost entry leftwards */
        size_t idx = (l.count - 1 - k) % MAX_ENTRIES;
        uint8_t a[16];
        if (!l.e[idx].p || (xff ? parse_node(l.e[idx].p, l.e[idx].n, a)
                                : forwarded_node(l.e[idx].p, l.e[idx].n, a)) != 0)
            return; /* malformed: the peer */
        if (!jotd_cidr_contains(trusted, n_trusted, a)) {
            memcpy(out, a, 16);
            return;
        }
        memcpy(candidate, a, 16);
        have = true;
    }
    if (have) /* every entry is a trusted proxy: the leftmost */
        memcpy(out, candidate, 16);
}
