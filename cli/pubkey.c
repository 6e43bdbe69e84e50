/* jot pubkey [--jwks] KEYFILE... */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_JWKS = 1 };

static const cli_opt_t opts[] = {
    {"jwks", 0, 0, OPT_JWKS},
    {NULL, 0, 0, 0},
};

static const char help_text[] =
    "Usage: jot pubkey [--jwks] KEYFILE...\n"
    "\n"
    "Print the public JWK of each key, one per line. KEYFILE is a JWK, a JWKS (each of\n"
    "its keys) or a PEM key; '-' reads standard input. HMAC (oct) keys have no public\n"
    "form and are refused.\n"
    "\n"
    "  --jwks   print one JWKS {\"keys\":[...]} holding all the public keys\n";

/* Public JWKs collected before anything is printed, so that a failure prints nothing. */
typedef struct out_lines {
    char **json;
    size_t *len;
    size_t n, cap;
} out_lines_t;

static void lines_free(out_lines_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        jot_free(o->json[i]);
    free(o->json);
    free(o->len);
}

/* Where emit() puts the public keys: \p set (--jwks) or \p lines. */
typedef struct emit_ctx {
    const char *path; /* the key file, for messages */
    jot_keyset_t *set;
    out_lines_t *lines;
} emit_ctx_t;

/* Append the public form of \p key to the set or the lines of \p ctx (an emit_ctx_t). */
static int emit(const jot_key_t *key, void *ctx)
{
    const char *path = ((emit_ctx_t *)ctx)->path;
    jot_keyset_t *set = ((emit_ctx_t *)ctx)->set;
    out_lines_t *lines = ((emit_ctx_t *)ctx)->lines;
    if (jot_key_kty(key) == JOT_KTY_OCT) {
        cli_err("%s: an HMAC (oct) key is secret and has no public form", path);
        return CLI_USAGE;
    }
    if (set) {
        jot_key_t *pub = NULL;
        jot_err_t rc = jot_key_public(key, &pub);
        if (rc != JOT_OK) {
            cli_err("%s: %s", path, jot_strerror(rc));
            return CLI_USAGE;
        }
        rc = jot_keyset_add(set, pub);
        if (rc != JOT_OK) {
            jot_key_free(pub);
            if (rc == JOT_E_KEYSET)
                cli_err("%s: cannot add the key to the set (duplicate kid?): %s", path,
                        jot_strerror(rc));
            else
                cli_err("%s: %s", path, jot_strerror(rc));
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (lines->n == lines->cap) {
        size_t ncap = lines->cap ? lines->cap * 2 : 8;
        char **nj = realloc(lines->json, ncap * sizeof *nj);
        if (!nj) {
            cli_err("out of memory");
            return CLI_USAGE;
        }
        lines->json = nj;
        size_t *nl = realloc(lines->len, ncap * sizeof *nl);
        if (!nl) {
            cli_err("out of memory");
            return CLI_USAGE;
        }
        lines->len = nl;
        lines->cap = ncap;
    }
    jot_err_t rc =
        jot_key_to_jwk(key, JOT_JWK_PUBLIC, &lines->json[lines->n], &lines->len[lines->n]);
    if (rc != JOT_OK) {
        cli_err("%s: %s", path, jot_strerror(rc));
        return CLI_USAGE;
    }
    lines->n++;
    return CLI_OK;
}

static const char cmd[] = "pubkey";

/* First pass over argv: options and usage errors, before any file is read. ::CLI_CONTINUE
 * or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, int *as_jwks)
{
    cli_parser_t p;
    const char *arg;
    int id, nfiles = 0;
    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        switch (id) {
        case CLI_HELP:
            return cli_print_help(help_text);
        case CLI_ARG:
            nfiles++;
            break;
        case OPT_JWKS:
            *as_jwks = 1;
            break;
        default: /* CLI_ERROR: message printed */
            return CLI_USAGE;
        }
    }
    return nfiles == 0 ? cli_usage(cmd, "missing KEYFILE") : CLI_CONTINUE;
}

/* Second pass: the public form of every key of every KEYFILE, into \p set or \p lines. */
static int collect(int argc, char **argv, jot_keyset_t *set, out_lines_t *lines)
{
    cli_parser_t p;
    const char *arg;
    int id, ret = CLI_OK;
    cli_parser_init(&p, cmd, opts, argc, argv);
    while (ret == CLI_OK && (id = cli_next(&p, &arg)) != CLI_END) {
        if (id != CLI_ARG)
            continue;
        cli_keyfile_t kf;
        if (cli_load_keyfile(arg, 0, &kf) != 0)
            return CLI_USAGE;
        emit_ctx_t ctx = {cli_display_path(arg), set, lines};
        ret = cli_keyfile_each(&kf, emit, &ctx);
        cli_keyfile_free(&kf);
    }
    return ret;
}

/* Print the set as one JWKS, or the lines: the exit status. */
static int print_all(const jot_keyset_t *set, const out_lines_t *lines)
{
    if (set) {
        char *json = NULL;
        size_t len = 0;
        jot_err_t rc = jot_keyset_to_jwks(set, JOT_JWK_PUBLIC, &json, &len);
        if (rc != JOT_OK) {
            cli_err("cannot write the key set: %s", jot_strerror(rc));
            return CLI_USAGE;
        }
        int ret = cli_write_line(json, len) == 0 ? CLI_OK : CLI_USAGE;
        jot_free(json);
        return ret;
    }
    for (size_t i = 0; i < lines->n; i++) {
        if (cli_write_line(lines->json[i], lines->len[i]) != 0)
            return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_pubkey(int argc, char **argv)
{
    int as_jwks = 0;
    int ret = parse_args(argc, argv, &as_jwks);
    if (ret != CLI_CONTINUE)
        return ret;
    jot_keyset_t *set = NULL;
    if (as_jwks) {
        jot_err_t rc = jot_keyset_new(&set);
        if (rc != JOT_OK) {
            cli_err("%s", jot_strerror(rc));
            return CLI_USAGE;
        }
    }
    out_lines_t lines = {NULL, NULL, 0, 0};
    ret = collect(argc, argv, set, &lines);
    if (ret == CLI_OK)
        ret = print_all(set, &lines);
    lines_free(&lines);
    jot_keyset_free(set);
    return ret;
}
