/* jot(1): shared helpers: messages, option parsing, numbers, files, keys, JSON display. */
#include "cli.h"
#include "common/duration.h"
#include "common/strparse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- messages ------------------------------------------------------------------------- */

void cli_err(const char *fmt, ...)
{
    va_list ap;
    fputs("jot: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("jot: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, " (see 'jot %s --help')\n", cmd);
    else
        fputs(" (see 'jot --help')\n", stderr);
    return CLI_USAGE;
}

/* ---- option parsing ------------------------------------------------------------------- */

void cli_parser_init(cli_parser_t *p, const char *cmd, const cli_opt_t *opts, int argc, char **argv)
{
    p->cmd = cmd;
    p->opts = opts;
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
    p->only_args = 0;
}

const char *cli_opt_name(const cli_parser_t *p, int id)
{
    for (const cli_opt_t *o = p->opts; o->name; o++) {
        if (o->id == id)
            return o->name;
    }
    return "?";
}

int cli_set_once(const cli_parser_t *p, int id, const char **slot, const char *arg)
{
    if (*slot)
        return cli_usage(p->cmd, "option '--%s' given more than once", cli_opt_name(p, id));
    *slot = arg;
    return 0;
}

int cli_print_help(const char *text)
{
    fputs(text, stdout);
    return fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
}

int cli_one_operand(const char *cmd, const cli_opt_t *opts, const char *help_text,
                    const char *extra, int argc, char **argv, const char **out)
{
    cli_parser_t p;
    const char *arg;
    int id;
    *out = NULL;
    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        switch (id) {
        case CLI_HELP:
            return cli_print_help(help_text);
        case CLI_ARG:
            if (*out)
                return cli_usage(cmd, "unexpected argument '%s'%s", arg, extra);
            *out = arg;
            break;
        default:
            return CLI_USAGE;
        }
    }
    return CLI_CONTINUE;
}

static const cli_opt_t *find_long(const cli_opt_t *opts, const char *name, size_t len)
{
    for (const cli_opt_t *o = opts; o->name; o++) {
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

static const cli_opt_t *find_short(const cli_opt_t *opts, char c)
{
    for (const cli_opt_t *o = opts; o->name; o++) {
        if (o->short_name != 0 && o->short_name == c)
            return o;
    }
    return NULL;
}

int cli_next(cli_parser_t *p, const char **out_arg)
{
    *out_arg = NULL;
    if (p->i >= p->argc)
        return CLI_END;
    const char *a = p->argv[p->i++];
    /* "-" alone means stdin: a positional argument. */
    if (p->only_args || a[0] != '-' || a[1] == '\0') {
        *out_arg = a;
        return CLI_ARG;
    }
    if (a[1] == '-') {
        if (a[2] == '\0') { /* "--": the rest is positional */
            p->only_args = 1;
            return cli_next(p, out_arg);
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        if (nlen == 4 && memcmp(name, "help", 4) == 0 && !eq)
            return CLI_HELP;
        const cli_opt_t *o = find_long(p->opts, name, nlen);
        if (!o) {
            cli_usage(p->cmd, "unknown option '--%.*s'", (int)nlen, name);
            return CLI_ERROR;
        }
        if (!o->has_arg) {
            if (eq) {
                cli_usage(p->cmd, "option '--%s' takes no value", o->name);
                return CLI_ERROR;
            }
            return o->id;
        }
        if (eq) {
            *out_arg = eq + 1;
            return o->id;
        }
        if (p->i >= p->argc) {
            cli_usage(p->cmd, "option '--%s' needs a value", o->name);
            return CLI_ERROR;
        }
        *out_arg = p->argv[p->i++];
        return o->id;
    }
    /* short option: "-o FILE", "-oFILE", "-h" */
    if (a[1] == 'h' && a[2] == '\0')
        return CLI_HELP;
    const cli_opt_t *o = find_short(p->opts, a[1]);
    if (!o) {
        cli_usage(p->cmd, "unknown option '%s'", a);
        return CLI_ERROR;
    }
    if (!o->has_arg) {
        if (a[2] != '\0') {
            cli_usage(p->cmd, "unknown option '%s'", a);
            return CLI_ERROR;
        }
        return o->id;
    }
    if (a[2] != '\0') {
        *out_arg = a + 2;
        return o->id;
    }
    if (p->i >= p->argc) {
        cli_usage(p->cmd, "option '-%c' needs a value", o->short_name);
        return CLI_ERROR;
    }
    *out_arg = p->argv[p->i++];
    return o->id;
}

/* ---- numbers and times ---------------------------------------------------------------- */

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    return jotx_parse_u64_str(s, max, out) == JOTX_OK ? 0 : -1;
}

int cli_parse_epoch(const char *s, int64_t *out)
{
    uint64_t v;
    if (cli_parse_u64(s, (uint64_t)CLI_MAX_TIME, &v) != 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

_Static_assert(JOTX_DURATION_MAX == CLI_MAX_TIME, "one cap for durations and epochs");

int cli_parse_duration(const char *s, int64_t *out)
{
    return jotx_parse_duration(s, JOTX_DURATION_MAX, out) == JOTX_OK ? 0 : -1;
}

int64_t cli_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

int cli_format_utc(int64_t t, char *buf, size_t size)
{
    /* 0001-01-01 .. 9999-12-31: the range strftime's %Y prints with four digits */
    if (t < INT64_C(-62135596800) || t > CLI_MAX_TIME)
        return -1;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return -1;
    if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -1;
    return 0;
}

/* ---- input and output ----------------------------------------------------------------- */

static int stdin_used;

const char *cli_display_path(const char *path)
{
    return strcmp(path, "-") == 0 ? "stdin" : path;
}

int cli_read_input(const char *path, size_t cap, char **out_buf, size_t *out_len)
{
    int fd;
    int is_stdin = strcmp(path, "-") == 0;
    if (is_stdin) {
        if (stdin_used) {
            cli_err("stdin: can be read only once");
            return -1;
        }
        stdin_used = 1;
        fd = STDIN_FILENO;
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            cli_err("%s: %s", path, strerror(errno));
            return -1;
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
            cli_err("%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            cli_err("%s: is a directory", path);
            close(fd);
            return -1;
        }
    }

    size_t alloc = 4096, len = 0;
    char *buf = malloc(alloc);
    if (!buf) {
        cli_err("out of memory");
        goto fail;
    }
    for (;;) {
        if (len + 1 >= alloc) { /* keep room for the NUL */
            if (alloc > cap) {
                cli_err("%s: input too large (over %zu bytes)", cli_display_path(path), cap);
                goto fail;
            }
            size_t nalloc = alloc * 2;
            char *nb = malloc(nalloc);
            if (!nb) {
                cli_err("out of memory");
                goto fail;
            }
            memcpy(nb, buf, len);
            jot_memzero(buf, alloc);
            free(buf);
            buf = nb;
            alloc = nalloc;
        }
        ssize_t r = read(fd, buf + len, alloc - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            cli_err("%s: %s", cli_display_path(path), strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > cap) {
            cli_err("%s: input too large (over %zu bytes)", cli_display_path(path), cap);
            goto fail;
        }
    }
    buf[len] = '\0';
    if (!is_stdin)
        close(fd);
    /* Shrink to the exact size so that cli_free_input() wipes every byte it frees. */
    char *exact = malloc(len + 1);
    if (!exact) {
        cli_err("out of memory");
        jot_memzero(buf, alloc);
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len + 1);
    jot_memzero(buf, alloc);
    free(buf);
    *out_buf = exact;
    *out_len = len;
    return 0;

fail:
    if (buf) {
        jot_memzero(buf, alloc);
        free(buf);
    }
    if (!is_stdin)
        close(fd);
    return -1;
}

void cli_free_input(char *buf, size_t len)
{
    if (!buf)
        return;
    jot_memzero(buf, len + 1);
    free(buf);
}

int cli_token_from_stdin(const char *arg)
{
    return !arg || strcmp(arg, "-") == 0;
}

int cli_read_token(const char *cmd, const char *arg, cli_token_t *out)
{
    memset(out, 0, sizeof *out);
    if (!arg && isatty(STDIN_FILENO))
        return cli_usage(cmd, "missing TOKEN (give it as an argument, or pipe it to stdin)");
    if (!cli_token_from_stdin(arg)) {
        out->text = arg;
        out->len = strlen(arg);
        return 0;
    }
    if (cli_read_input("-", CLI_MAX_INPUT, &out->buf, &out->buf_len) != 0)
        return CLI_USAGE;
    out->text = out->buf;
    out->len = out->buf_len;
    /* the line terminator of `echo "$token" |`, nothing more */
    if (out->len > 0 && out->text[out->len - 1] == '\n') {
        out->len--;
        if (out->len > 0 && out->text[out->len - 1] == '\r')
            out->len--;
    }
    return 0;
}

void cli_token_free(cli_token_t *t)
{
    cli_free_input(t->buf, t->buf_len);
    memset(t, 0, sizeof *t);
}

int cli_write_new_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            cli_err("%s: file exists; refusing to overwrite it", path);
        else
            cli_err("%s: %s", path, strerror(errno));
        return -1;
    }
    /* The umask may have removed bits; we want exactly owner read/write. */
    if (fchmod(fd, 0600) != 0)
        goto fail;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;

fail:
    cli_err("%s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(path);
    return -1;
}

int cli_write_line(const char *data, size_t len)
{
    if ((len > 0 && fwrite(data, 1, len, stdout) != len) || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0) {
        cli_err("stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- keys ----------------------------------------------------------------------------- */

static int looks_like_jwks(const char *buf, size_t len)
{
    static const char needle[] = "\"keys\"";
    size_t nl = sizeof needle - 1;
    for (size_t i = 0; i + nl <= len; i++) {
        if (memcmp(buf + i, needle, nl) == 0)
            return 1;
    }
    return 0;
}

int cli_load_keyfile(const char *path, int want_set, cli_keyfile_t *out)
{
    char *buf;
    size_t len;
    const char *shown = cli_display_path(path);
    out->key = NULL;
    out->set = NULL;
    if (cli_read_input(path, CLI_MAX_INPUT, &buf, &len) != 0)
        return -1;

    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    int ret = -1;
    if (i == len) {
        cli_err("%s: empty key file", shown);
    } else if (buf[i] == '{') {
        jot_err_t rc_key = JOT_E_KEYSET;
        if (!want_set) {
            rc_key = jot_key_from_jwk(buf, len, &out->key);
            if (rc_key == JOT_OK)
                ret = 0;
        }
        if (ret != 0) {
            jot_err_t rc_set = jot_keyset_from_jwks(buf, len, &out->set);
            if (rc_set == JOT_OK && jot_keyset_count(out->set) == 0) {
                /* unsupported and too weak members are skipped (RFC 7517 §5) */
                cli_err("%s: the key set holds no usable key", shown);
                jot_keyset_free(out->set);
                out->set = NULL;
            } else if (rc_set == JOT_OK) {
                ret = 0;
            } else if (looks_like_jwks(buf, len)) {
                if (rc_set == JOT_E_KEYSET)
                    cli_err("%s: %s", shown, jot_strerror(rc_set));
                else
                    cli_err("%s: invalid key set: %s", shown, jot_strerror(rc_set));
            } else if (want_set) {
                cli_err("%s: not a JWKS (a JSON object {\"keys\":[...]} was expected)", shown);
            } else {
                cli_err("%s: invalid key: %s", shown, jot_strerror(rc_key));
            }
        }
    } else if (want_set) {
        cli_err("%s: not a JWKS (a JSON object {\"keys\":[...]} was expected)", shown);
    } else {
        jot_err_t rc = jot_key_parse(buf, len, &out->key);
        if (rc == JOT_OK)
            ret = 0;
        else
            cli_err("%s: invalid key: %s", shown, jot_strerror(rc));
    }
    cli_free_input(buf, len);
    return ret;
}

void cli_keyfile_free(cli_keyfile_t *kf)
{
    jot_key_free(kf->key);
    jot_keyset_free(kf->set);
    kf->key = NULL;
    kf->set = NULL;
}

int cli_keyfile_each(const cli_keyfile_t *kf, int (*fn)(const jot_key_t *key, void *ctx), void *ctx)
{
    if (kf->key)
        return fn(kf->key, ctx);
    int ret = CLI_OK;
    size_t n = jot_keyset_count(kf->set);
    for (size_t i = 0; i < n && ret == CLI_OK; i++)
        ret = fn(jot_keyset_get(kf->set, i), ctx);
    return ret;
}

/* ---- JSON display --------------------------------------------------------------------- */

static void indent(int depth)
{
    fputc('\n', stdout);
    for (int i = 0; i < depth; i++)
        fputs("  ", stdout);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void cli_print_json_pretty(const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned char uc = (unsigned char)c;
        if (in_str) {
            /* C1 controls (U+0080..U+009F) can act on terminals: show them escaped. */
            if (uc == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                (unsigned char)s[i + 1] <= 0x9F) {
                unsigned char v = (unsigned char)s[i + 1];
                fputs("\\u00", stdout);
                fputc(hex[v >> 4], stdout);
                fputc(hex[v & 15], stdout);
                i++;
                esc = 0;
                continue;
            }
            if (uc < 0x20 || uc == 0x7F) { /* never valid raw in JSON; never to a tty */
                fputs("\\u00", stdout);
                fputc(hex[uc >> 4], stdout);
                fputc(hex[uc & 15], stdout);
                esc = 0;
                continue;
            }
            fputc(c, stdout);
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        switch (c) {
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;
        case '"':
            in_str = 1;
            fputc(c, stdout);
            break;
        case '{':
        case '[': {
            size_t j = i + 1;
            while (j < n && is_ws(s[j]))
                j++;
            if (j < n && s[j] == (c == '{' ? '}' : ']')) {
                fputc(c, stdout);
                fputc(s[j], stdout);
                i = j;
                break;
            }
            fputc(c, stdout);
            depth++;
            indent(depth);
            break;
        }
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            indent(depth);
            fputc(c, stdout);
            break;
        case ',':
            fputc(c, stdout);
            indent(depth);
            break;
        case ':':
            fputs(": ", stdout);
            break;
        default:
            if (uc < 0x20 || uc == 0x7F)
                break;
            fputc(c, stdout);
            break;
        }
    }
    fputc('\n', stdout);
}
