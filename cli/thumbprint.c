/* jot thumbprint KEYFILE */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const cli_opt_t opts[] = {
    {NULL, 0, 0, 0},
};

static const char help_text[] =
    "Usage: jot thumbprint KEYFILE\n"
    "\n"
    "Print the RFC 7638 JWK thumbprint (SHA-256, base64url) of the key in KEYFILE (a JWK\n"
    "or PEM key; '-' reads standard input). For a JWKS, one line per key, in order.\n"
    "The thumbprint of a private key is that of its public key.\n";

/* \p ctx: the key file's name for messages. */
static int print_one(const jot_key_t *key, void *ctx)
{
    const char *shown = ctx;
    char tp[JOT_THUMBPRINT_LEN + 1];
    jot_err_t rc = jot_key_thumbprint(key, tp);
    if (rc != JOT_OK) {
        cli_err("%s: cannot compute the thumbprint: %s", shown, jot_strerror(rc));
        return CLI_USAGE;
    }
    return cli_write_line(tp, strlen(tp)) == 0 ? CLI_OK : CLI_USAGE;
}

int cmd_thumbprint(int argc, char **argv)
{
    static const char cmd[] = "thumbprint";
    const char *path = NULL;
    cli_parser_t p;
    const char *arg;
    int id;

    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        switch (id) {
        case CLI_HELP:
            return cli_print_help(help_text);
        case CLI_ARG:
            if (path)
                return cli_usage(cmd, "unexpected argument '%s'", arg);
            path = arg;
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (!path)
        return cli_usage(cmd, "missing KEYFILE");

    cli_keyfile_t kf;
    if (cli_load_keyfile(path, 0, &kf) != 0)
        return CLI_USAGE;
    int ret = cli_keyfile_each(&kf, print_one, (void *)cli_display_path(path));
    cli_keyfile_free(&kf);
    return ret;
}
