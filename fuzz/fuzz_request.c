/* Fuzz target "request": jotd's request-body and credential parsing (server/request.h), as
 * /token, /introspect and /revoke use it, without sockets.
 *
 * Input: one option byte, then the body.
 *   bits 0-2  Content-Type: form, JSON, JSON with charset, form in odd case with a
 *             parameter, text/plain, none, empty, "application/jsonx"
 *   bits 3-4  how the body is also used as an Authorization header: as it stands,
 *             "Basic " + body, "Bearer " + body, "bearer  " + body
 * The body goes through jotd_params_parse (and jotd_parse_body, which answers 400), the
 * header through jotd_basic_auth_parse and jotd_bearer_token.
 * The body also goes, as a URL, through jotd_url_unescape and, cut into "name:value" lines,
 * as a header list through jotd_req_head_check, and as the value of X-Forwarded-For and of
 * Forwarded through jotd_client_addr (server/proxy.h).
 * Invariants:
 *   - on success: at most JOTD_MAX_PARAMS parameters, names non-empty and unique, values
 *     valid UTF-8 strings without NUL, and jotd_params_get finds each one; on failure the
 *     list is empty; jotd_parse_body agrees and answers 400/503 when it fails;
 *   - Basic: a non-empty client id; Bearer: a non-empty token of b64token characters,
 *     pointing into the header;
 *   - unescaping never lengthens, and reports a control byte exactly when the decoded bytes
 *     hold one; the head check refuses exactly those paths, and any list with two
 *     Content-Length or two Authorization fields;
 *   - the client address from an untrusted peer is the peer; from a trusted peer it is the
 *     peer or an address parsed out of the header. */
#include "fuzz_common.h"

#include <strings.h>

#include "proxy.h"
#include "request.h"
#include "server.h"

static const char *const content_types[8] = {
    "application/x-www-form-urlencoded",
    "application/json",
    "application/json; charset=utf-8",
    " Application/X-WWW-Form-Urlencoded ;charset=UTF-8",
    "text/plain",
    NULL,
    "",
    "application/jsonx",
};

static const char *const auth_prefix[4] = {"", "Basic ", "Bearer ", "bearer  "};

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t need = c < 0x80         ? 0
                      : (c >> 5) == 6  ? 1
                      : (c >> 4) == 14 ? 2
                      : (c >> 3) == 30 ? 3
                                       : 9;
        if (need == 9 || (need && c < 0xc2))
            return false;
        for (size_t k = 1; k <= need; k++)
            if ((p[k] & 0xc0) != 0x80)
                return false;
        p += need + 1;
    }
    return true;
}

static void check_params(const jotd_params_t *p)
{
    FUZZ_CHECK(p->n <= JOTD_MAX_PARAMS);
    for (size_t i = 0; i < p->n; i++) {
        const char *name = p->items[i].name, *value = p->items[i].value;
        FUZZ_CHECK(name != NULL && value != NULL && name[0] != '\0');
        FUZZ_CHECK(utf8_valid(name) && utf8_valid(value));
        FUZZ_CHECK(jotd_params_get(p, name) == value); /* unique: the first is this one */
    }
}

static void free_resp(jotd_resp_t *r)
{
    free(r->body);
    for (size_t i = 0; i < r->n_hdr; i++)
        free(r->hdr_value[i]);
}

static bool b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

static bool ctl_byte(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static void check_client_addr(const char *value)
{
    char why[96];
    jotd_cidr_t trusted[2];
    FUZZ_CHECK(jotd_cidr_parse("127.0.0.1", 9, &trusted[0], why, sizeof why) == 0);
    FUZZ_CHECK(jotd_cidr_parse("2001:db8::/32", 13, &trusted[1], why, sizeof why) == 0);
    static const char *const names[2] = {"X-Forwarded-For", "Forwarded"};
    for (int k = 0; k < 2; k++) {
        jotd_hdr_t h = {names[k], value};
        uint8_t peer[16], out[16];
        FUZZ_CHECK(jotd_addr_parse("198.51.100.1", 12, peer) == 0); /* untrusted */
        jotd_client_addr(trusted, 2, peer, &h, 1, out);
        FUZZ_CHECK(memcmp(out, peer, 16) == 0);
        FUZZ_CHECK(jotd_addr_parse("127.0.0.1", 9, peer) == 0); /* trusted */
        jotd_client_addr(trusted, 2, peer, &h, 1, out);
        char text[JOTD_ADDR_TEXT];
        jotd_addr_format(out, text);
        uint8_t again[16];
        FUZZ_CHECK(jotd_addr_parse(text, strlen(text), again) == 0 && !memcmp(again, out, 16));
    }
}

/* The body as a raw URL and as header lines (see the invariants above). */
static void check_head(const uint8_t *data, size_t len)
{
    char *url = fuzz_cstr(data, len);
    size_t raw = strlen(url);
    bool ctl = false;
    size_t n = jotd_url_unescape(url, &ctl);
    FUZZ_CHECK(n <= raw && url[n] == '\0');
    bool seen = false;
    for (size_t i = 0; i < n; i++)
        seen |= ctl_byte((unsigned char)url[i]);
    FUZZ_CHECK(seen == ctl);
    jotd_req_head_t head = {.method = "GET", .path = url, .path_len = n};
    FUZZ_CHECK((jotd_req_head_check(&head) != NULL) == ctl);
    free(url);

    /* "name:value" lines; names repeat as the input says */
    char *text = fuzz_cstr(data, len);
    char *text_for_proxy = fuzz_cstr(data, len);
    jotd_hdr_t hdrs[64];
    size_t nh = 0, n_cl = 0, n_auth = 0;
    for (char *line = text, *next; line && nh < 64; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        hdrs[nh].name = line;
        hdrs[nh++].value = colon + 1;
        n_cl += strcasecmp(line, "Content-Length") == 0;
        n_auth += strcasecmp(line, "Authorization") == 0;
    }
    check_client_addr(text_for_proxy);
    free(text_for_proxy);
    jotd_req_head_t h2 = {
        .method = "POST", .path = "/token", .path_len = 6, .hdrs = hdrs, .n_hdrs = nh};
    const char *why = jotd_req_head_check(&h2);
    if (n_cl > 1 || n_auth > 1)
        FUZZ_CHECK(why != NULL);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    const char *ct = content_types[opt & 7];
    size_t len = size - 1;
    char *body = fuzz_copy(data + 1, len, 0);

    jotd_params_t params = {0};
    jotd_rc_t rc = jotd_params_parse(ct, body, len, &params);
    FUZZ_CHECK(rc == JOTD_OK || rc == JOTD_E_MALFORMED || rc == JOTD_E_DUPLICATE ||
               rc == JOTD_E_TOOMANY || rc == JOTD_E_MEDIA || rc == JOTD_E_NOMEM);
    if (rc == JOTD_OK)
        check_params(&params);
    else
        FUZZ_CHECK(params.n == 0);
    jotd_params_clear(&params);
    FUZZ_CHECK(params.n == 0);

    jotd_req_t req = {.method = "POST",
                      .path = "/token",
                      .query = "",
                      .content_type = ct,
                      .ip = "127.0.0.1",
                      .body = body,
                      .body_len = len};
    jotd_resp_t resp = {0};
    jotd_params_t p2 = {0};
    bool ok = jotd_parse_body(&req, &p2, &resp);
    FUZZ_CHECK(ok == (rc == JOTD_OK));
    if (ok)
        check_params(&p2);
    else
        FUZZ_CHECK((resp.status == 400 || resp.status == 503) && resp.body != NULL);
    jotd_params_clear(&p2);
    free_resp(&resp);

    /* the body as an Authorization header value */
    const char *prefix = auth_prefix[(opt >> 3) & 3];
    char *rest = fuzz_cstr(data + 1, len);
    size_t hlen = strlen(prefix) + strlen(rest) + 1;
    char *header = malloc(hlen);
    FUZZ_CHECK(header != NULL);
    snprintf(header, hlen, "%s%s", prefix, rest);

    char *id = NULL, *secret = NULL;
    if (jotd_basic_auth_parse(header, &id, &secret) == 0) {
        FUZZ_CHECK(id != NULL && secret != NULL && id[0] != '\0');
        FUZZ_CHECK(utf8_valid(id) && utf8_valid(secret));
        free(id);
        free(secret);
    }
    size_t tok_len = 0;
    const char *tok = jotd_bearer_token(header, &tok_len);
    if (tok) {
        FUZZ_CHECK(tok > header && tok + tok_len <= header + strlen(header));
        FUZZ_CHECK(tok_len > 0);
        for (size_t i = 0; i < tok_len; i++)
            FUZZ_CHECK(b64token_char(tok[i]));
    }
    free(header);
    free(rest);
    free(body);
    check_head(data + 1, len);
    return 0;
}
