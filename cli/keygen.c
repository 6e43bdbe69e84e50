/* jot keygen --alg ALG [--kid KID] [--bits N] [--crv Ed25519|Ed448] [-o FILE] */
#include "cli.h"

#include <stdio.h>
#include <string.h>

enum { OPT_ALG = 1, OPT_KID, OPT_BITS, OPT_CRV, OPT_OUT };

static const cli_opt_t opts[] = {
    {"alg", 0, 1, OPT_ALG}, {"kid", 0, 1, OPT_KID},   {"bits", 0, 1, OPT_BITS},
    {"crv", 0, 1, OPT_CRV}, {"out", 'o', 1, OPT_OUT}, {NULL, 0, 0, 0},
};

static const char help_text[] =
    "Usage: jot keygen --alg ALG [--kid KID] [--bits N] [--crv CRV] [-o FILE]\n"
    "\n"
    "Generate a private key for ALG and print it as a JWK (JSON) followed by a newline.\n"
    "\n"
    "  --alg ALG     HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512\n"
    "                ES256 ES384 ES512 ES256K EdDSA (required)\n"
    "  --kid KID     key id (default: the RFC 7638 thumbprint; '' for none)\n"
    "  --bits N      RSA modulus size (default 2048, minimum 2048) or HMAC key size\n"
    "                (default: the hash size, minimum the hash size)\n"
    "  --crv CRV     EdDSA curve: Ed25519 (default) or Ed448\n"
    "  -o, --out FILE  write the key to FILE, created with mode 0600; an existing\n"
    "                file is never overwritten\n";

int cmd_keygen(int argc, char **argv)
{
    static const char cmd[] = "keygen";
    const char *alg_name = NULL, *kid = NULL, *bits_s = NULL, *crv = NULL, *out = NULL;
    cli_parser_t p;
    const char *arg;
    int id;

    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        const char **slot = NULL;
        switch (id) {
        case CLI_HELP:
            return cli_print_help(help_text);
        case CLI_ERROR:
            return CLI_USAGE;
        case CLI_ARG:
            return cli_usage(cmd, "unexpected argument '%s'", arg);
        case OPT_ALG:
            slot = &alg_name;
            break;
        case OPT_KID:
            slot = &kid;
            break;
        case OPT_BITS:
            slot = &bits_s;
            break;
        case OPT_CRV:
            slot = &crv;
            break;
        case OPT_OUT:
            slot = &out;
            break;
        default:
            return CLI_USAGE;
        }
        if (cli_set_once(&p, id, slot, arg) != 0)
            return CLI_USAGE;
    }

    if (!alg_name)
        return cli_usage(cmd, "missing --alg");
    jot_alg_t alg;
    jot_err_t rc = jot_alg_from_name(alg_name, strlen(alg_name), &alg);
    if (rc == JOT_E_ALG_NONE)
        return cli_usage(cmd, "algorithm 'none' is never accepted");
    if (rc != JOT_OK)
        return cli_usage(cmd, "unknown algorithm '%s'", alg_name);

    unsigned bits = 0;
    int is_rsa = alg >= JOT_ALG_RS256 && alg <= JOT_ALG_PS512;
    int is_hmac = alg >= JOT_ALG_HS256 && alg <= JOT_ALG_HS512;
    if (bits_s) {
        uint64_t v;
        if (!is_rsa && !is_hmac)
            return cli_usage(cmd, "--bits applies only to RSA and HMAC keys");
        if (cli_parse_u64(bits_s, is_rsa ? 16384u : 8192u, &v) != 0 || v == 0)
            return cli_usage(cmd, "invalid --bits '%s' (RSA: 2048..16384, HMAC: up to 8192)",
                             bits_s);
        if (is_hmac && v % 8u != 0)
            return cli_usage(cmd, "--bits for an HMAC key must be a multiple of 8");
        bits = (unsigned)v;
    }
    if (crv) {
        if (alg != JOT_ALG_EDDSA)
            return cli_usage(cmd, "--crv applies only to EdDSA (the curve of %s is fixed)",
                             alg_name);
        if (strcmp(crv, "Ed25519") == 0)
            bits = 25519;
        else if (strcmp(crv, "Ed448") == 0)
            bits = 448;
        else
            return cli_usage(cmd, "unknown EdDSA curve '%s' (Ed25519 or Ed448)", crv);
    }

    jot_key_t *key = NULL;
    rc = jot_key_generate(alg, bits, &key);
    if (rc != JOT_OK) {
        cli_err("cannot generate a %s key: %s", alg_name, jot_strerror(rc));
        return CLI_USAGE;
    }
    if (kid) {
        rc = jot_key_set_kid(key, kid[0] ? kid : NULL);
        if (rc != JOT_OK) {
            cli_err("cannot set the kid: %s", jot_strerror(rc));
            jot_key_free(key);
            return CLI_USAGE;
        }
    }

    char *json = NULL;
    size_t len = 0;
    rc = jot_key_to_jwk(key, JOT_JWK_PRIVATE, &json, &len);
    jot_key_free(key);
    if (rc != JOT_OK) {
        cli_err("cannot export the key: %s", jot_strerror(rc));
        return CLI_USAGE;
    }

    int ret = CLI_OK;
    if (out) {
        /* The file holds the JWK and a newline, like stdout. The JSON is NUL-terminated:
         * its terminator slot carries the newline while the file is written. */
        json[len] = '\n';
        if (cli_write_new_file(out, json, len + 1) != 0)
            ret = CLI_USAGE;
        json[len] = '\0';
    } else if (cli_write_line(json, len) != 0) {
        ret = CLI_USAGE;
    }
    jot_memzero(json, len);
    jot_free(json);
    return ret;
}
