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
    const char *path;
    int ret = cli_one_operand(cmd, opts, help_text, "", argc, argv, &path);
    if (ret != CLI_CONTINUE)
        return ret;
    if (!path)
        return cli_usage(cmd, "missing KEYFILE");

    cli_keyfile_t kf;
    if (cli_load_keyfile(path, 0, &kf) != 0)
        return CLI_USAGE;
    ret = cli_keyfile_each(&kf, print_one, (void *)cli_display_path(path));
    cli_keyfile_free(&kf);
    return ret;
}
