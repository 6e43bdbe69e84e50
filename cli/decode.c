/* jot decode [TOKEN|-]: show a token WITHOUT verifying it. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt_t opts[] = {
    {NULL, 0, 0, 0},
};

static const char help_text[] =
    "Usage: jot decode [TOKEN|-]\n"
    "\n"
    "Print a JWT's header and payload as indented JSON, WITHOUT checking the\n"
    "signature or any claim: the output starts with an UNVERIFIED line. The exp, nbf\n"
    "and iat claims are also shown as UTC times. The token is read from standard input\n"
    "when TOKEN is '-' or absent. Use 'jot verify' to decide whether to trust a token.\n";

/* 1 when \p s is UTF-8 text without control characters (tab and newline allowed). */
static int is_display_text(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
                return 0;
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return 0;
        }
        if (n - i <= extra)
            return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F))
            return 0;
        i += extra + 1;
    }
    return 1;
}

static void print_time_claim(const jot_claims_t *c, const char *name)
{
    int64_t t;
    char utc[32];
    if (!jot_claims_has(c, name))
        return;
    if (jot_claims_get_int(c, name, &t) != JOT_OK) {
        printf("%s: not an integer NumericDate\n", name);
        return;
    }
    if (cli_format_utc(t, utc, sizeof utc) != 0)
        printf("%s: %lld (out of range)\n", name, (long long)t);
    else
        printf("%s: %lld (%s)\n", name, (long long)t, utc);
}

/* Print the decoded token: the exit status. */
static int show(const jot_token_t *tok)
{
    size_t hlen = 0, plen = 0;
    const char *hdr = jot_token_header_json(tok, &hlen);
    const uint8_t *payload = jot_token_payload(tok, &plen);
    const jot_claims_t *claims = jot_token_claims(tok);
    int ret = CLI_OK;

    fputs("UNVERIFIED: signature not checked\n", stdout);
    fputs("header:\n", stdout);
    cli_print_json_pretty(hdr, hlen);
    if (claims) {
        fputs("payload:\n", stdout);
        cli_print_json_pretty((const char *)payload, plen);
        print_time_claim(claims, "iat");
        print_time_claim(claims, "nbf");
        print_time_claim(claims, "exp");
    } else if (is_display_text(payload, plen)) {
        fputs("payload (not a JSON object):\n", stdout);
        fwrite(payload, 1, plen, stdout);
        fputc('\n', stdout);
    } else {
        size_t elen = jot_b64url_encoded_len(plen);
        char *enc = elen < SIZE_MAX ? malloc(elen + 1) : NULL;
        if (!enc) {
            cli_err("out of memory");
            ret = CLI_USAGE;
        } else {
            jot_b64url_encode(enc, payload, plen);
            fputs("payload (binary, base64url):\n", stdout);
            fputs(enc, stdout);
            fputc('\n', stdout);
            free(enc);
        }
    }
    if (fflush(stdout) != 0) {
        cli_err("stdout: write error");
        ret = CLI_USAGE;
    }
    return ret;
}

int cmd_decode(int argc, char **argv)
{
    static const char cmd[] = "decode";
    const char *token_arg;
    int ret = cli_one_operand(cmd, opts, help_text, " (one TOKEN at most)", argc, argv, &token_arg);
    if (ret != CLI_CONTINUE)
        return ret;

    cli_token_t token;
    ret = cli_read_token(cmd, token_arg, &token);
    if (ret != 0)
        return ret;
    jot_token_t *tok = NULL;
    jot_err_t rc = jot_decode_unverified(token.text, token.len, &tok);
    if (rc != JOT_OK) {
        cli_err("%s", jot_strerror(rc));
        cli_token_free(&token);
        return rc == JOT_E_NOMEM ? CLI_USAGE : CLI_REJECTED;
    }
    ret = show(tok);
    jot_token_free(tok);
    cli_token_free(&token);
    return ret;
}
