/* Fuzz target "config": jotd configuration loading (server/config.c).
 *
 * config.c reads its file by path only, so the input is written to one temporary file per
 * process (created once, rewritten for each input, removed at exit) and loaded with
 * --config=PATH, as `jotd serve --config FILE` does.
 *
 * Input: one option byte, then the text.
 *   bit 0  0: the text is the config file ("key = value" lines)
 *          1: the text's lines are command-line arguments (after "serve"), and the config
 *             file is empty
 *   bit 1  collect unknown arguments in rest[] instead of refusing them
 * Whatever loads goes through jotd_config_validate (with TLS file names, if any, pointed at
 * the temporary file, so that no other path is ever opened). The JOTD_* environment is
 * cleared once, so only the input counts.
 * Invariants: a failed load leaves a message; a loaded config has its strings set, the
 * issuer and audience non-empty, and a port that fits; rest[] holds only input arguments. */
#include "fuzz_common.h"

#include "config.h"

#include <errno.h>
#include <unistd.h>

#define MAX_ARGS 64

extern char **environ;

static char cfg_path[64];
static int cfg_fd = -1;

static void remove_file(void)
{
    if (cfg_path[0])
        unlink(cfg_path);
}

static void init(void)
{
    if (cfg_fd >= 0)
        return;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir || strlen(dir) > sizeof cfg_path - 32)
        dir = "/tmp";
    snprintf(cfg_path, sizeof cfg_path, "%s/jot-fuzz-config-XXXXXX", dir);
    cfg_fd = mkstemp(cfg_path);
    FUZZ_CHECK(cfg_fd >= 0);
    atexit(remove_file);
    /* only the input configures: drop any JOTD_* variable of the caller */
    for (;;) {
        char name[128] = "";
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "JOTD_", 5) == 0) {
                const char *eq = strchr(*e, '=');
                size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
                if (n < sizeof name) {
                    memcpy(name, *e, n);
                    name[n] = '\0';
                    break;
                }
            }
        }
        if (!name[0])
            break;
        FUZZ_CHECK(unsetenv(name) == 0);
    }
}

static void write_file(const uint8_t *data, size_t len)
{
    FUZZ_CHECK(ftruncate(cfg_fd, 0) == 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = pwrite(cfg_fd, data + off, len - off, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        FUZZ_CHECK(w > 0);
        off += (size_t)w;
    }
}

static void check_loaded(jotd_config_t *c)
{
    FUZZ_CHECK(c->data_dir && c->listen_host && c->issuer && c->audience && c->default_client);
    FUZZ_CHECK(c->issuer[0] != '\0' && c->audience[0] != '\0');
    FUZZ_CHECK(c->config_file != NULL && strcmp(c->config_file, cfg_path) == 0);
    /* never open whatever path the input named for TLS: point both at our own file */
    if (c->tls_cert) {
        free(c->tls_cert);
        c->tls_cert = strdup(cfg_path);
        FUZZ_CHECK(c->tls_cert != NULL);
    }
    if (c->tls_key) {
        free(c->tls_key);
        c->tls_key = strdup(cfg_path);
        FUZZ_CHECK(c->tls_key != NULL);
    }
    char err[512] = "";
    if (jotd_config_validate(c, err, sizeof err) != JOTD_OK)
        FUZZ_CHECK(err[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    const uint8_t *text = data + 1;
    size_t len = size - 1;

    char *argv[MAX_ARGS + 3];
    char *owned[MAX_ARGS];
    size_t n_owned = 0;
    char config_arg[96];
    snprintf(config_arg, sizeof config_arg, "--config=%s", cfg_path);
    int argc = 0;
    static char serve[] = "serve";
    argv[argc++] = serve;
    argv[argc++] = config_arg;
    if (opt & 1) {
        write_file(NULL, 0);
        /* one argument per line (up to the first NUL of each) */
        size_t i = 0;
        while (i < len && n_owned < MAX_ARGS) {
            const uint8_t *nl = memchr(text + i, '\n', len - i);
            size_t end = nl ? (size_t)(nl - text) : len;
            owned[n_owned] = fuzz_cstr(text + i, end - i);
            argv[argc++] = owned[n_owned++];
            i = end + 1;
        }
    } else {
        write_file(text, len);
    }
    argv[argc] = NULL;

    jotd_config_t c;
    jotd_config_defaults(&c);
    char *rest[MAX_ARGS + 3];
    int n_rest = -1;
    char err[512] = "";
    jotd_rc_t rc =
        jotd_config_load(&c, argc, argv, (opt & 2) ? rest : NULL, &n_rest, err, sizeof err);
    FUZZ_CHECK(rc == JOTD_OK || rc == JOTD_E_INVAL || rc == JOTD_E_IO || rc == JOTD_E_NOMEM);
    if (rc == JOTD_OK) {
        check_loaded(&c);
        if (opt & 2) {
            FUZZ_CHECK(n_rest >= 0 && n_rest <= argc - 1);
            for (int i = 0; i < n_rest; i++) {
                bool mine = false;
                for (size_t k = 0; k < n_owned; k++)
                    mine = mine || rest[i] == owned[k];
                FUZZ_CHECK(mine);
            }
        } else {
            FUZZ_CHECK(n_rest == 0);
        }
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    jotd_config_free(&c);
    for (size_t k = 0; k < n_owned; k++)
        free(owned[k]);
    return 0;
}
