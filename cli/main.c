/* jot(1): command-line tool over libjot. Contract 1 of docs/ARCHITECTURE: exit 0 success,
 * 1 token rejected, 2 usage error or unreadable input; errors as one "jot: <reason>" line. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"keygen", cmd_keygen}, {"pubkey", cmd_pubkey}, {"sign", cmd_sign},
    {"verify", cmd_verify}, {"decode", cmd_decode}, {"thumbprint", cmd_thumbprint},
};

static void usage(FILE *f)
{
    fputs("Usage: jot <command> [options] [arguments]\n"
          "\n"
          "JSON Web Tokens and keys from the command line (libjot " JOT_VERSION_STRING ").\n"
          "\n"
          "Commands:\n"
          "  keygen      generate a private key (JWK)\n"
          "  pubkey      print the public JWK (or a JWKS) of keys\n"
          "  sign        issue a signed JWT\n"
          "  verify      verify a JWT and print its claims\n"
          "  decode      show a JWT's header and payload WITHOUT verifying it\n"
          "  thumbprint  print a key's RFC 7638 thumbprint\n"
          "\n"
          "Options:\n"
          "  -h, --help     show this help (also: jot <command> --help)\n"
          "  -V, --version  show the version\n"
          "\n"
          "Exit status: 0 success, 1 token rejected, 2 usage error or unreadable input.\n",
          f);
}

static int run(const char *name, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].fn(argc, argv);
    }
    return cli_usage(NULL, "unknown command '%s'", name);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(NULL, "missing command");
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        usage(stdout);
        return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
        if (argc > 2)
            return cli_usage(NULL, "'%s' takes no arguments", a);
        printf("jot %s\n", JOT_VERSION_STRING);
        return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
    }
    if (strcmp(a, "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
        }
        char help[] = "--help";
        char *sub[] = {argv[2], help, NULL};
        return run(argv[2], 2, sub);
    }
    if (a[0] == '-')
        return cli_usage(NULL, "unknown option '%s'", a);
    return run(a, argc - 1, argv + 1);
}
