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

/* The command line, then what check_args() derived from it. */
typedef struct keygen_args {
    const char *alg_name, *kid, *bits_s, *crv, *out;
    jot_alg_t alg;
    unsigned bits; /* RSA or HMAC size, or the EdDSA curve (25519, 448); 0: the default */
} keygen_args_t;

static const char cmd[] = "keygen";

/* Fill \p a from argv: ::CLI_CONTINUE, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, keygen_args_t *a)
{
    cli_parser_t p;
    const char *arg;
    int id;
    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        const char **slot = NULL;
        switch (id) {
        case CLI_HELP:
            return cli_print_help(help_text);
        case CLI_ARG:
            return cli_usage(cmd, "unexpected argument '%s'", arg);
        case OPT_ALG:
            slot = &a->alg_name;
            break;
        case OPT_KID:
            slot = &a->kid;
            break;
        case OPT_BITS:
            slot = &a->bits_s;
            break;
        case OPT_CRV:
            slot = &a->crv;
            break;
        case OPT_OUT:
            slot = &a->out;
            break;
        default: /* CLI_ERROR: message printed */
            return CLI_USAGE;
        }
        if (cli_set_once(&p, id, slot, arg) != 0)
            return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

/* --bits and --crv for a->alg: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int check_size(keygen_args_t *a)
{
    int is_rsa = a->alg >= JOT_ALG_RS256 && a->alg <= JOT_ALG_PS512;
    int is_hmac = a->alg >= JOT_ALG_HS256 && a->alg <= JOT_ALG_HS512;
    if (a->bits_s) {
        uint64_t v;
        if (!is_rsa && !is_hmac)
            return cli_usage(cmd, "--bits applies only to RSA and HMAC keys");
        if (cli_parse_u64(a->bits_s, is_rsa ? 16384u : 8192u, &v) != 0 || v == 0)
            return cli_usage(cmd, "invalid --bits '%s' (RSA: 2048..16384, HMAC: up to 8192)",
                             a->bits_s);
        if (is_hmac && v % 8u != 0)
            return cli_usage(cmd, "--bits for an HMAC key must be a multiple of 8");
        a->bits = (unsigned)v;
    }
    if (a->crv) {
        if (a->alg != JOT_ALG_EDDSA)
            return cli_usage(cmd, "--crv applies only to EdDSA (the curve of %s is fixed)",
                             a->alg_name);
        if (strcmp(a->crv, "Ed25519") == 0)
            a->bits = 25519;
        else if (strcmp(a->crv, "Ed448") == 0)
            a->bits = 448;
        else
            return cli_usage(cmd, "unknown EdDSA curve '%s' (Ed25519 or Ed448)", a->crv);
    }
    return CLI_CONTINUE;
}

/* Usage checks: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int check_args(keygen_args_t *a)
{
    if (!a->alg_name)
        return cli_usage(cmd, "missing --alg");
    jot_err_t rc = jot_alg_from_name(a->alg_name, strlen(a->alg_name), &a->alg);
    if (rc == JOT_E_ALG_NONE)
        return cli_usage(cmd, "algorithm 'none' is never accepted");
    if (rc != JOT_OK)
        return cli_usage(cmd, "unknown algorithm '%s'", a->alg_name);
    return check_size(a);
}

/* Write the private JWK to -o FILE or stdout: the exit status. */
static int write_jwk(const keygen_args_t *a, char *json, size_t len)
{
    if (!a->out)
        return cli_write_line(json, len) == 0 ? CLI_OK : CLI_USAGE;
    /* The file holds the JWK and a newline, like stdout. The JSON is NUL-terminated: its
     * terminator slot carries the newline while the file is written. */
    json[len] = '\n';
    int ret = cli_write_new_file(a->out, json, len + 1) == 0 ? CLI_OK : CLI_USAGE;
    json[len] = '\0';
    return ret;
}

/* Generate the key and write it: the exit status. */
static int run(const keygen_args_t *a)
{
    jot_key_t *key = NULL;
    jot_err_t rc = jot_key_generate(a->alg, a->bits, &key);
    if (rc != JOT_OK) {
        cli_err("cannot generate a %s key: %s", a->alg_name, jot_strerror(rc));
        return CLI_USAGE;
    }
    if (a->kid) {
        rc = jot_key_set_kid(key, a->kid[0] ? a->kid : NULL);
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
    int ret = write_jwk(a, json, len);
    jot_memzero(json, len);
    jot_free(json);
    return ret;
}

int cmd_keygen(int argc, char **argv)
{
    keygen_args_t a;
    memset(&a, 0, sizeof a);
    int ret = parse_args(argc, argv, &a);
    if (ret == CLI_CONTINUE)
        ret = check_args(&a);
    return ret == CLI_CONTINUE ? run(&a) : ret;
}
