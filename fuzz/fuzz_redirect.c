/* Fuzz target "redirect": the portal's redirect targets (server/redirect.c).
 *
 * Input: one option byte, then the bytes of a candidate rd (NULs included: the length is
 * what counts).
 *   bit 0  http:// allowed (jotd serving plain HTTP)
 *   bit 1  cookie domain "localhost" instead of "jot.test"
 * Invariants of an accepted rd: printable ASCII without backslash or space; https:// (or
 * http:// with bit 0); no '@' before the first '/', '?' or '#'; the origin is a prefix of it,
 * its host the domain or under it; at most JOTD_RD_MAX bytes. The percent-encoding of any
 * NUL-free input decodes back to it and holds only unreserved characters and %XX. */
#include "fuzz_common.h"

#include "redirect.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned o = data[0];
    const char *domain = (o & 2) ? "localhost" : "jot.test";
    bool allow_http = (o & 1) != 0;
    char *rd = fuzz_copy(data + 1, size - 1, 1);
    size_t n = size - 1;
    char origin[JOTD_ORIGIN_MAX];
    if (jotd_rd_ok(rd, n, domain, allow_http, origin)) {
        FUZZ_CHECK(n <= JOTD_RD_MAX);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(rd[i] > 0x20 && rd[i] < 0x7f && rd[i] != '\\');
        size_t skip = strncmp(rd, "https://", 8) == 0 ? 8 : 7;
        FUZZ_CHECK(skip == 8 || (allow_http && strncmp(rd, "http://", 7) == 0));
        size_t olen = strlen(origin);
        FUZZ_CHECK(olen > skip && olen <= n && memcmp(origin, rd, olen) == 0);
        FUZZ_CHECK(olen == n || rd[olen] == '/' || rd[olen] == '?' || rd[olen] == '#');
        FUZZ_CHECK(memchr(origin, '@', olen) == NULL);
        const char *host = origin + skip;
        size_t hlen = strcspn(host, ":");
        FUZZ_CHECK(jotd_host_under(host, hlen, domain));
    }
    /* the Location encoding */
    size_t cap = strlen(rd) * 3 + 1;
    char *enc = malloc(cap), *dec = malloc(cap);
    FUZZ_CHECK(enc && dec);
    size_t elen = jotd_percent_encode(rd, enc, cap);
    FUZZ_CHECK(elen == strlen(enc));
    FUZZ_CHECK(jotd_percent_encode(rd, enc, elen) == 0 || elen == 0); /* no room for the NUL */
    jotd_percent_encode(rd, enc, cap);
    size_t d = 0;
    for (size_t i = 0; i < elen; i++) {
        char c = enc[i];
        if (c == '%') {
            FUZZ_CHECK(i + 2 < elen && hexval(enc[i + 1]) >= 0 && hexval(enc[i + 2]) >= 0);
            dec[d++] = (char)(hexval(enc[i + 1]) * 16 + hexval(enc[i + 2]));
            i += 2;
        } else {
            FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~');
            dec[d++] = c;
        }
    }
    FUZZ_CHECK(d == strlen(rd) && memcmp(dec, rd, d) == 0);
    free(enc);
    free(dec);
    free(rd);
    return 0;
}
