/* jotd: the authentication server and its operator commands.
 *   jotd serve [options]
 *   jotd user add NAME [--role R]... [--permission P]... --password-stdin
 *   jotd user passwd NAME --password-stdin
 *   jotd user roles NAME [--role R]... [--permission P]...
 *   jotd user disable|enable|delete NAME
 *   jotd user list
 *   jotd client add ID (--generate-secret | --secret-stdin | --public) [--scope S]...
 *                      [--default-scope S]... [--introspect AUD]... [--resource AUD]...
 *                      [--redirect-uri URI]... [--allowed-origin ORIGIN]... [--cookie-mode]
 *                      [--refresh-grace SECONDS]
 *   jotd client update ID [--scope S]... [--default-scope S]... [--introspect AUD]...
 *                      [--resource AUD]... [--redirect-uri URI]... [--no-scopes]
 *                      [--no-default-scopes] [--no-introspect] [--no-resources]
 *                      [--no-redirect-uris] [--allowed-origin ORIGIN]...
 *                      [--no-allowed-origins] [--cookie-mode | --no-cookie-mode]
 *                      [--refresh-grace SECONDS | --no-refresh-grace]
 *   jotd client rotate-secret ID [--secret-stdin]
 *   jotd client list
 *   jotd client disable|enable|delete ID
 *   jotd session list USER | jotd session revoke SID
 *   jotd keys list | rotate [--alg ALG]
 *   jotd migrate
 * Options common to all: see config.h (--data DIR, --store URI, --config FILE, ...). */
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "common/buf.h"
#include "names.h"
#include "secrets.h"
#include "server.h"
#include "store_backend.h" /* jotd_store_pg_redact() only: the store is used through store.h */
#include "common/random.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN 256

/* The main loop of `jotd serve` (cmd_serve) */
/* Seconds the loop waits for a signal before its periodic work (events of other processes,
 * key changes, Argon2 work areas): how late a revocation made elsewhere is applied here. */
#define TICK_S 1
/* Argon2 work areas unused this long go back to the OS (jotd_password_trim). */
#define PASSWORD_IDLE_S 10u
/* Seconds between two collections of what can no longer matter (denylists, store GC). */
#define GC_INTERVAL_S 60
/* How long the store keeps ended sessions and events (jotd_store_gc): a week, and in any
 * case an access token's lifetime plus GC_KEEP_MARGIN_S, so that an event outlives every
 * access token it can void. */
#define GC_KEEP_S (7 * 86400)
#define GC_KEEP_MARGIN_S 3600
/* Seconds a shutdown (SIGTERM, SIGINT) waits for the requests under way. */
#define DRAIN_S 10u
/* Accounts and addresses each login/client throttle remembers (ratelimit.h). */
#define THROTTLE_MAX_ENTRIES 100000

/* The commands, one synopsis each (continuation lines start with a space): `jotd --help`
 * prints them all, `jotd CMD [SUB] --help` those of its command. The options come from
 * config.c's table (jotd_config_usage), not from a second list here. */
static const char *const synopsis[] = {
    "jotd serve [OPTION]...",
    " start the server (the data directory and the store are created on first start)",
    "jotd init --data DIR [--store URI] [--alg ALG]",
    " create a data directory: the key-encryption key, the store's schema, the server's",
    " secrets and a signing key; prints what it made",
    "jotd backup DEST --data DIR",
    " copy the SQLite store while jotd serves: DEST, and the key-encryption key as",
    " DEST.key-encryption-key (both new files, mode 0600); PostgreSQL: use pg_dump",
    "jotd restore SRC --data NEWDIR",
    " a backup into a data directory that holds no store (SRC.key-encryption-key too)",
    "jotd user add NAME [--role R]... [--permission P]... --password-stdin",
    "jotd user passwd NAME --password-stdin",
    "jotd user roles NAME [--role R]... [--permission P]...",
    "jotd user disable|enable|delete NAME",
    "jotd user list",
    "jotd client add ID (--generate-secret | --secret-stdin | --public | --jwks FILE |",
    " --jwks-url URL) [--scope S]... [--default-scope S]... [--introspect AUD]...",
    " [--resource AUD]... [--redirect-uri URI]... [--allowed-origin ORIGIN]...",
    " [--cookie-mode] [--refresh-grace SECONDS]",
    "jotd client update ID [--scope S]... [--default-scope S]... [--introspect AUD]...",
    " [--resource AUD]... [--redirect-uri URI]... [--jwks FILE | --jwks-url URL]",
    " [--no-scopes] [--no-default-scopes] [--no-introspect] [--no-resources]",
    " [--no-redirect-uris] [--allowed-origin ORIGIN]... [--no-allowed-origins]",
    " [--cookie-mode | --no-cookie-mode] [--refresh-grace SECONDS | --no-refresh-grace]",
    " --redirect-uri: an exact https URI (http only for localhost, 127.0.0.1, [::1]), no #",
    " --allowed-origin: https://host[:port] (http only for localhost, 127.0.0.1, [::1]),",
    "  lower case, no path; --cookie-mode: a public client with an allowed origin gets its",
    "  refresh token in an HttpOnly cookie only; --refresh-grace: 0-60 (default: 10 in cookie",
    "  mode, else the server's --refresh-grace)",
    "jotd client rotate-secret ID [--secret-stdin]",
    "jotd client list",
    "jotd client disable|enable|delete ID",
    " disable: no authentication, its tokens and the sessions issued to it void at once;",
    " enable: authenticates again (earlier tokens stay void); delete: as disable, then gone",
    "jotd session list USER",
    "jotd session revoke SID",
    "jotd keys list",
    "jotd keys rotate [--alg ALG]",
    "jotd keys revoke KID",
    "jotd migrate [--store URI | --data DIR]",
    " bring the store's schema up to date and print its version",
};

/* The synopsis lines of `jotd \p cmd [\p sub]` (every line when cmd is NULL). */
static void print_synopsis(FILE *f, const char *cmd, const char *sub)
{
    char want[64] = "";
    if (cmd)
        snprintf(want, sizeof want, "jotd %s%s%s", cmd, sub && *sub ? " " : "", sub ? sub : "");
    size_t n = strlen(want);
    bool on = false;
    const char *lead = "usage: ";
    for (size_t i = 0; i < sizeof synopsis / sizeof synopsis[0]; i++) {
        const char *l = synopsis[i];
        if (l[0] != ' ') /* a command's first line; "jotd user" matches each user command */
            on = !cmd || (!strncmp(l, want, n) && (l[n] == ' ' || l[n] == '\0' || l[n] == '|'));
        if (!on)
            continue;
        fprintf(f, "%s%s\n", l[0] == ' ' ? "         " : lead, l + (l[0] == ' '));
        lead = "       ";
    }
}

static int usage(FILE *f)
{
    print_synopsis(f, NULL, NULL);
    fputs("\nOptions (serve takes them all; each operator command takes those that apply to it):\n",
          f);
    jotd_config_usage(f, NULL);
    fputs("  --config FILE                      NAME = value lines, one per option\n"
          "  --help                             this text; jotd CMD [SUB] --help: one command's\n"
          "  --version                          the version\n"
          "Every option also reads JOTD_<NAME> from the environment and NAME = value from the\n"
          "--config file (flag > environment > file > default). See jotd(8) and docs/jotd.md.\n",
          f);
    return f == stdout ? 0 : 2;
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("jotd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* One line from stdin (a password or secret), without its newline; never echoed, never in
 * argv. Returns a malloc'd string or NULL. */
static char *read_secret_stdin(void)
{
    char buf[JOTD_PASSWORD_MAX + 2];
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n >= sizeof buf - 1) {
            jot_memzero(buf, sizeof buf);
            return NULL;
        }
        buf[n++] = (char)c;
    }
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    char *s = strdup(buf);
    jot_memzero(buf, sizeof buf);
    return s;
}

/* Create the data directory (0700) if \p create and it is missing, then refuse one that
 * others could write to (jotd_data_dir_check). 0, or 1 reported. */
static int data_dir_ready(const jotd_config_t *cfg, bool create)
{
    char err[ERRLEN];
    struct stat sb;
    /* an operator command never makes a new, empty data directory (`jotd user add` in the
     * wrong directory used to create ./var and report success): serve and init do */
    if (!create && stat(cfg->data_dir, &sb) != 0 && errno == ENOENT)
        return fail("data directory %s does not exist: give --data DIR (or JOTD_DATA), or "
                    "create one with 'jotd init --data %s'",
                    cfg->data_dir, cfg->data_dir);
    if (create && mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST)
        return fail("cannot create data directory %s", cfg->data_dir);
    return jotd_data_dir_check(cfg->data_dir, err, sizeof err) == JOTD_OK ? 0 : fail("%s", err);
}

/* Where the store is, fit to print: the --store URI with any password replaced by ***, or
 * DATA/jotd.db. Caller frees; NULL when out of memory. */
static char *store_shown(const jotd_config_t *cfg)
{
    if (cfg->store)
        return jotd_store_pg_redact(cfg->store);
    size_t n = strlen(cfg->data_dir) + sizeof "/jotd.db";
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/jotd.db", cfg->data_dir);
    return s;
}

/* The store's last error message with every copy of the --store URI in it redacted (a
 * backend may quote its location). Caller frees; NULL when out of memory. */
static char *store_errmsg_shown(const jotd_config_t *cfg)
{
    const char *msg = jotd_store_errmsg(NULL);
    const char *uri = cfg->store;
    if (!uri || !strstr(msg, uri))
        return strdup(msg);
    char *shown = jotd_store_pg_redact(uri);
    if (!shown)
        return NULL;
    size_t ulen = strlen(uri), slen = strlen(shown), n = 0;
    for (const char *p = msg; (p = strstr(p, uri)); p += ulen)
        n++;
    /* room for n copies of the redacted URI (longer than the URI when "p" becomes "***") */
    size_t cap = strlen(msg) + n * slen + 1;
    char *out = malloc(cap), *o = out;
    if (out) {
        for (const char *p = msg, *hit; *p; p = hit + ulen) {
            hit = strstr(p, uri);
            size_t k = hit ? (size_t)(hit - p) : strlen(p);
            memcpy(o, p, k);
            o += k;
            if (!hit)
                break;
            memcpy(o, shown, slen);
            o += slen;
        }
        *o = '\0';
    }
    free(shown);
    return out;
}

/* Open the store: PostgreSQL at --store when given, else SQLite in DATA/jotd.db. The data
 * directory is made ready (created when \p create, checked) first unless \p without_data
 * and a --store is given: it holds the local files (keys/) whichever the store. 0, or 1
 * reported. */
static int open_store_as(const jotd_config_t *cfg, jotd_store_t **st, bool without_data,
                         bool create)
{
    char path[4096];
    if (!(without_data && cfg->store) && data_dir_ready(cfg, create) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/jotd.db", cfg->data_dir);
    jotd_rc_t rc = jotd_store_open(cfg->store ? cfg->store : path, st);
    if (rc != JOTD_OK) {
        char *shown = store_shown(cfg), *msg = store_errmsg_shown(cfg);
        fail("cannot open the database %s: %s (%s)", shown ? shown : "(out of memory)",
             jotd_rc_str(rc), msg ? msg : "out of memory");
        free(shown);
        free(msg);
        return 1;
    }
    /* logins and rotations; revocations and admin changes are always fsynced */
    jotd_store_set_durability(*st,
                              cfg->durability_full ? JOTD_DURABILITY_FULL : JOTD_DURABILITY_NORMAL);
    return 0;
}

static int open_store(const jotd_config_t *cfg, jotd_store_t **st)
{
    return open_store_as(cfg, st, false, false);
}

/* `jotd migrate`: open the store (which brings its schema up to date) and say where it is. */
static int cmd_migrate(const jotd_config_t *cfg)
{
    jotd_store_t *st = NULL;
    if (open_store_as(cfg, &st, true, false) != 0)
        return 1;
    int64_t version = 0;
    jotd_rc_t rc = jotd_store_schema_version(st, &version);
    char *shown = store_shown(cfg);
    int ret = 0;
    if (rc != JOTD_OK) {
        char *msg = store_errmsg_shown(cfg);
        ret = fail("cannot read the schema version: %s (%s)", jotd_rc_str(rc),
                   msg ? msg : "out of memory");
        free(msg);
    } else if (!shown)
        ret = fail("%s", "out of memory");
    else
        printf("jotd: schema version %lld (%s, %s)\n", (long long)version,
               cfg->store ? "postgresql" : "sqlite", shown);
    free(shown);
    jotd_store_close(st);
    return ret;
}

static jotd_argon2_t argon2_of(const jotd_config_t *cfg)
{
    jotd_argon2_t p = {cfg->argon2_m_kib, cfg->argon2_t, cfg->argon2_p};
    return p;
}

/* ---- user and client commands ------------------------------------------------------ */

typedef struct user_opts {
    const char *name;
    const char *roles[JOTD_MAX_NAMES];
    size_t n_roles;
    const char *perms[JOTD_MAX_NAMES];
    size_t n_perms;
    bool password_stdin, secret_stdin, public_client, generate_secret;
    /* clients: each list with its has_ flag (given, or cleared with --no-...) */
    const char *scopes[JOTD_CLIENT_MAX_LIST];
    size_t n_scopes;
    bool has_scopes;
    const char *default_scopes[JOTD_CLIENT_MAX_LIST];
    size_t n_default_scopes;
    bool has_default_scopes;
    const char *introspect[JOTD_CLIENT_MAX_LIST];
    size_t n_introspect;
    bool has_introspect;
    const char *resources[JOTD_CLIENT_MAX_LIST];
    size_t n_resources;
    bool has_resources;
    const char *redirect_uris[JOTD_CLIENT_MAX_LIST]; /* the authorization code flow */
    size_t n_redirect_uris;
    bool has_redirect_uris;
    const char *allowed_origins[JOTD_CLIENT_MAX_LIST]; /* browsers (CORS, cookie mode) */
    size_t n_allowed_origins;
    bool has_allowed_origins;
    bool has_cookie_mode, cookie_mode;
    bool has_refresh_grace;
    int64_t refresh_grace;            /* -1: back to the default (--no-refresh-grace) */
    const char *jwks_file, *jwks_url; /* private_key_jwt */
} user_opts_t;

/* --scope, --default-scope, --introspect, --resource, --redirect-uri: 1 when \p a is one (its value
 * taken), 0 when not, -1 after reporting an error. */
static int parse_client_list_opt(char **rest, int n, int *i, user_opts_t *o)
{
    const char *a = rest[*i];
    const char **list;
    size_t *count;
    bool *has, audience = false, uri = false, origin = false;
    if (!strcmp(a, "--scope")) {
        list = o->scopes, count = &o->n_scopes, has = &o->has_scopes;
    } else if (!strcmp(a, "--default-scope")) {
        list = o->default_scopes, count = &o->n_default_scopes, has = &o->has_default_scopes;
    } else if (!strcmp(a, "--introspect")) {
        list = o->introspect, count = &o->n_introspect, has = &o->has_introspect;
        audience = true;
    } else if (!strcmp(a, "--resource")) {
        list = o->resources, count = &o->n_resources, has = &o->has_resources;
        audience = true;
    } else if (!strcmp(a, "--redirect-uri")) {
        list = o->redirect_uris, count = &o->n_redirect_uris, has = &o->has_redirect_uris;
        uri = true;
    } else if (!strcmp(a, "--no-redirect-uris")) {
        return o->has_redirect_uris = true, 1;
    } else if (!strcmp(a, "--allowed-origin")) {
        list = o->allowed_origins, count = &o->n_allowed_origins, has = &o->has_allowed_origins;
        origin = true;
    } else if (!strcmp(a, "--no-allowed-origins")) {
        return o->has_allowed_origins = true, 1;
    } else if (!strcmp(a, "--cookie-mode") || !strcmp(a, "--no-cookie-mode")) {
        o->cookie_mode = a[2] == 'c';
        return o->has_cookie_mode = true, 1;
    } else if (!strcmp(a, "--no-refresh-grace")) {
        o->refresh_grace = -1;
        return o->has_refresh_grace = true, 1;
    } else if (!strcmp(a, "--refresh-grace")) {
        int64_t g = -1;
        if (*i + 1 >= n || jotd_parse_id(rest[*i + 1], &g) != 0 || g > JOTD_CLIENT_GRACE_MAX)
            return fail("--refresh-grace needs a number of seconds, 0-%d", JOTD_CLIENT_GRACE_MAX),
                   -1;
        ++*i;
        o->refresh_grace = g;
        return o->has_refresh_grace = true, 1;
    } else if (!strcmp(a, "--no-resources")) {
        return o->has_resources = true, 1;
    } else if (!strcmp(a, "--no-scopes")) {
        return o->has_scopes = true, 1;
    } else if (!strcmp(a, "--no-default-scopes")) {
        return o->has_default_scopes = true, 1;
    } else if (!strcmp(a, "--no-introspect")) {
        return o->has_introspect = true, 1;
    } else {
        return 0;
    }
    if (*i + 1 >= n)
        return fail("%s needs a value", a), -1;
    const char *v = rest[++*i];
    if (origin && !jotd_origin_valid(v))
        return fail("invalid allowed-origin '%s' (https://host[:port], or http:// for localhost, "
                    "127.0.0.1 or [::1]; lower case, no path, no trailing slash)",
                    v),
               -1;
    if (uri && !jotd_redirect_uri_valid(v))
        return fail("invalid redirect-uri '%s' (an absolute https URI, or http for localhost, "
                    "127.0.0.1 or [::1]; no fragment, no user information)",
                    v),
               -1;
    if (!uri && !origin && (audience ? !jotd_audience_valid(v) : !jotd_scope_token_valid(v)))
        return fail("invalid %s '%s' (%s)", a + 2, v,
                    audience ? "1-255 printable characters, no space"
                             : "1-128 characters of a scope token: no space, '\"' or '\\'"),
               -1;
    if (*count >= JOTD_CLIENT_MAX_LIST)
        return fail("too many %s values (at most %d)", a, JOTD_CLIENT_MAX_LIST), -1;
    list[(*count)++] = v;
    *has = true;
    return 1;
}

static int parse_user_opts(char **rest, int n, user_opts_t *o)
{
    for (int i = 0; i < n; i++) {
        const char *a = rest[i];
        bool role = !strcmp(a, "--role"), perm = !strcmp(a, "--permission");
        if (role || perm) {
            if (i + 1 >= n)
                return fail("%s needs a value", a);
            const char *v = rest[++i];
            if (!jotd_name_valid(v))
                return fail("invalid role or permission name '%s' (A-Z a-z 0-9 . _ : / -)", v);
            if ((role ? o->n_roles : o->n_perms) >= JOTD_MAX_NAMES)
                return fail("too many %s", role ? "roles" : "permissions");
            if (role)
                o->roles[o->n_roles++] = v;
            else
                o->perms[o->n_perms++] = v;
        } else if (!strcmp(a, "--password-stdin")) {
            o->password_stdin = true;
        } else if (!strcmp(a, "--secret-stdin")) {
            o->secret_stdin = true;
        } else if (!strcmp(a, "--public")) {
            o->public_client = true;
        } else if (!strcmp(a, "--generate-secret")) {
            o->generate_secret = true;
        } else if (!strcmp(a, "--jwks") || !strcmp(a, "--jwks-url")) {
            if (i + 1 >= n)
                return fail("%s needs a value", a);
            *(!strcmp(a, "--jwks") ? &o->jwks_file : &o->jwks_url) = rest[++i];
        } else if (!strncmp(a, "--", 2)) {
            int c = parse_client_list_opt(rest, n, &i, o);
            if (c == 1)
                continue;
            if (c < 0)
                return 1;
            return fail("unknown option %.*s (try jotd --help)", (int)strcspn(a, "="), a);
        } else if (!o->name) {
            o->name = a;
        } else {
            return fail("unexpected argument '%s'", a);
        }
    }
    return 0;
}

static int find_user(jotd_store_t *st, const char *name, jotd_user_t *u)
{
    jotd_rc_t rc = jotd_store_user_get_by_name(st, name, u);
    if (rc == JOTD_E_NOTFOUND)
        return fail("no user '%s'", name);
    if (rc != JOTD_OK)
        return fail("database error: %s", jotd_rc_str(rc));
    return 0;
}

static int hash_from_stdin(const jotd_config_t *cfg, char phc[JOTD_PHC_MAX])
{
    char *pw = read_secret_stdin();
    if (!pw || strlen(pw) < JOTD_PASSWORD_MIN) {
        jotx_free_secret(pw);
        return fail("%s", "a password of 8 to 1024 characters is expected on stdin");
    }
    jotd_argon2_t p = argon2_of(cfg);
    int rc = jotd_password_hash(&p, pw, strlen(pw), phc);
    jotx_free_secret(pw);
    return rc == 0 ? 0 : fail("%s", "cannot hash the password");
}

static void print_user(const jotd_user_t *u)
{
    printf("%lld\t%s\t%s\troles=", (long long)u->id, u->username,
           u->disabled ? "disabled" : "enabled");
    for (size_t i = 0; i < u->n_roles; i++)
        printf("%s%s", i ? "," : "", u->roles[i]);
    printf("\tpermissions=");
    for (size_t i = 0; i < u->n_permissions; i++)
        printf("%s%s", i ? "," : "", u->permissions[i]);
    putchar('\n');
}

/* Which flags a command takes is decided once, by commands[] below (own_flags_apply). */
static int cmd_user(const jotd_config_t *cfg, const char *sub, user_opts_t *o)
{
    jotd_store_t *st = NULL;
    if (open_store(cfg, &st) != 0)
        return 1;
    int ret = 0;
    int64_t now = jotd_now();
    jotd_user_t u = {0};
    char phc[JOTD_PHC_MAX] = "";
    if (!strcmp(sub, "list")) {
        int64_t after = 0;
        for (;;) {
            jotd_user_t *list = NULL;
            size_t n = 0;
            if (jotd_store_user_list(st, after, 100, &list, &n) != JOTD_OK) {
                ret = fail("%s", "database error");
                break;
            }
            for (size_t i = 0; i < n; i++)
                print_user(&list[i]);
            after = n ? list[n - 1].id : after;
            jotd_user_list_free(list, n);
            if (n < 100)
                break;
        }
    } else if (!o->name) {
        ret = fail("jotd user %s needs a user name", sub);
    } else if (!strcmp(sub, "add")) {
        if (!jotd_username_valid(o->name))
            ret = fail("invalid user name '%s' (1-64 of A-Z a-z 0-9 . _ @ -)", o->name);
        else if (!o->password_stdin)
            ret = fail("%s", "give the password on stdin with --password-stdin");
        else if ((ret = hash_from_stdin(cfg, phc)) == 0) {
            jotd_user_t nu = {.username = (char *)o->name,
                              .password_hash = phc,
                              .roles = (char **)o->roles,
                              .n_roles = o->n_roles,
                              .permissions = (char **)o->perms,
                              .n_permissions = o->n_perms};
            int64_t id;
            jotd_rc_t rc = jotd_store_user_create(st, &nu, now, &id);
            if (rc == JOTD_E_EXISTS)
                ret = fail("user '%s' exists", o->name);
            else if (rc != JOTD_OK)
                ret = fail("database error: %s", jotd_rc_str(rc));
            else
                printf("created user %s (id %lld)\n", o->name, (long long)id);
        }
    } else if ((ret = find_user(st, o->name, &u)) != 0) {
        /* reported */
    } else {
        jotd_user_patch_t p = {.disabled = -1};
        if (!strcmp(sub, "passwd")) {
            if (!o->password_stdin)
                ret = fail("%s", "give the password on stdin with --password-stdin");
            else if ((ret = hash_from_stdin(cfg, phc)) == 0)
                p.password_hash = phc;
        } else if (!strcmp(sub, "roles")) {
            p.roles = o->roles;
            p.n_roles = o->n_roles;
            p.has_roles = true;
            p.permissions = o->perms;
            p.n_permissions = o->n_perms;
            p.has_permissions = true;
        } else if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
            p.disabled = !strcmp(sub, "disable");
        } else if (strcmp(sub, "delete") != 0) {
            ret = fail("unknown command 'jotd user %s'", sub);
        }
        if (ret == 0) {
            jotd_rc_t rc = !strcmp(sub, "delete") ? jotd_store_user_delete(st, u.id, now)
                                                  : jotd_store_user_update(st, u.id, &p, now);
            if (rc != JOTD_OK)
                ret = fail("database error: %s", jotd_rc_str(rc));
            else
                printf("%s: %s done\n", o->name, sub);
        }
    }
    jot_memzero(phc, sizeof phc);
    jotd_user_clear(&u);
    jotd_store_close(st);
    return ret;
}

/* This instance's KEK (--key-encryption-key, else DATA/key-encryption-key; made at the first
 * start of a new store). 0, or 1 reported. */
static int open_kek(const jotd_config_t *cfg, jotd_store_t *st, jotd_kek_t *kek)
{
    char err[ERRLEN] = "";
    if (jotd_kek_open(st, cfg->key_encryption_key, cfg->data_dir, kek, err, sizeof err) != JOTD_OK)
        return fail("%s", err);
    return 0;
}

/* The server secret \p name (secrets.h), shared through the store. 0, or 1 reported. */
static int server_secret(const jotd_config_t *cfg, jotd_store_t *st, const jotd_kek_t *kek,
                         const char *name, uint8_t key[32])
{
    char err[ERRLEN] = "";
    if (jotd_secret_load(st, kek, cfg->data_dir, name, key, err, sizeof err) != JOTD_OK)
        return fail("%s", err);
    return 0;
}

/* The client-secret key of the operator commands that hash a client secret. */
static int client_key(const jotd_config_t *cfg, jotd_store_t *st, uint8_t key[32])
{
    jotd_kek_t kek;
    int ret = open_kek(cfg, st, &kek);
    if (ret == 0)
        ret = server_secret(cfg, st, &kek, JOTD_SECRET_CLIENT, key);
    jotd_kek_wipe(&kek);
    return ret;
}

static void print_list(const char *label, char *const *v, size_t n)
{
    printf("\t%s=", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? "," : "", v[i]);
}

static void print_client(const jotd_client_t *c)
{
    printf("%s\t%s", c->client_id, jotd_client_is_confidential(c) ? "confidential" : "public");
    if (c->disabled)
        printf("\tdisabled");
    print_list("scopes", c->scopes, c->n_scopes);
    print_list("default_scopes", c->default_scopes, c->n_default_scopes);
    print_list("introspect", c->introspect, c->n_introspect);
    print_list("resources", c->resources, c->n_resources);
    print_list("redirect_uris", c->redirect_uris, c->n_redirect_uris);
    print_list("allowed_origins", c->allowed_origins, c->n_allowed_origins);
    printf("\tcookie_mode=%s", c->cookie_mode ? "yes" : "no");
    if (c->has_refresh_grace)
        printf("\trefresh_grace=%lld", (long long)c->refresh_grace);
    else
        printf("\trefresh_grace=default");
    putchar('\n');
}

/* The client's secret: generated (256 bits, printed once by the caller) or read from stdin
 * (at least JOTD_CLIENT_SECRET_MIN characters). *out malloc'd. */
static int client_secret(const user_opts_t *o, char **out)
{
    if (o->generate_secret) {
        char *s = malloc(44);
        if (!s || jotx_random_b64url(s, 44, 32) < 0) {
            free(s);
            return fail("%s", "no randomness");
        }
        *out = s;
        return 0;
    }
    char *s = read_secret_stdin();
    if (!s || strlen(s) < JOTD_CLIENT_SECRET_MIN) {
        jotx_free_secret(s);
        return fail("a client secret of at least %d characters is expected on stdin (or use "
                    "--generate-secret)",
                    JOTD_CLIENT_SECRET_MIN);
    }
    *out = s;
    return 0;
}

/* Every default scope must be one the client may ask for. */
static int check_default_scopes(const char *const *def, size_t n_def, const char *const *allowed,
                                size_t n_allowed)
{
    for (size_t i = 0; i < n_def; i++) {
        bool found = false;
        for (size_t j = 0; j < n_allowed && !found; j++)
            found = strcmp(def[i], allowed[j]) == 0;
        if (!found)
            return fail("default scope '%s' is not one of the client's --scope values", def[i]);
    }
    return 0;
}

/* --jwks FILE: the JWK set, checked (public asymmetric keys only), malloc'd into *out;
 * --jwks-url URL: checked against the fetch rules (https, or http to loopback). */
static int client_jwks(const user_opts_t *o, char **out)
{
    *out = NULL;
    if (o->jwks_url) {
        jot_remote_opts_t ro;
        jot_remote_opts_init(&ro);
        ro.allow_http = 1; /* the server refuses http unless --allow-http-jwks-url */
        jot_remote_keyset_t *rk = NULL;
        jot_err_t rc = jot_remote_keyset_new(o->jwks_url, &ro, &rk);
        jot_remote_keyset_free(rk);
        if (rc != JOT_OK)
            return fail("--jwks-url %s: %s (https://, or http:// to a loopback host)", o->jwks_url,
                        jot_strerror(rc));
        return 0;
    }
    if (!o->jwks_file)
        return 0;
    FILE *f = fopen(o->jwks_file, "rb");
    if (!f)
        return fail("cannot read %s", o->jwks_file);
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65537, f) : 0;
    fclose(f);
    if (!buf || n > 65536) {
        free(buf);
        return fail("%s: too large (at most 64 KiB) or out of memory", o->jwks_file);
    }
    buf[n] = '\0';
    char err[160];
    if (jotd_client_jwks_check(buf, n, err, sizeof err) != 0) {
        free(buf);
        return fail("%s: %s", o->jwks_file, err);
    }
    *out = buf;
    return 0;
}

static int client_add(const jotd_config_t *cfg, jotd_store_t *st, const user_opts_t *o)
{
    if ((int)o->secret_stdin + (int)o->public_client + (int)o->generate_secret +
            (o->jwks_file != NULL) + (o->jwks_url != NULL) !=
        1)
        return fail("%s", "give exactly one of --generate-secret, --secret-stdin, --public, "
                          "--jwks and --jwks-url");
    char *jwks = NULL;
    if (client_jwks(o, &jwks) != 0)
        return 1;
    bool keyed = o->jwks_file || o->jwks_url;
    if (check_default_scopes(o->default_scopes, o->n_default_scopes, o->scopes, o->n_scopes) != 0) {
        free(jwks);
        return 1;
    }
    const char *why =
        o->cookie_mode ? jotd_cookie_mode_refusal(o->name, o->public_client, o->n_allowed_origins)
                       : NULL;
    if (why) {
        free(jwks);
        return fail("--cookie-mode: %s", why);
    }
    if (o->has_refresh_grace && o->refresh_grace < 0) {
        free(jwks);
        return fail("%s", "--no-refresh-grace is for client update");
    }
    char *secret = NULL, hash[JOTD_CLIENT_HASH_MAX] = "";
    uint8_t key[32];
    int ret = 0;
    if (!o->public_client && !keyed) {
        if ((ret = client_key(cfg, st, key)) != 0 || (ret = client_secret(o, &secret)) != 0)
            goto out;
        if (jotd_client_secret_hash(key, o->name, secret, hash) != 0) {
            ret = fail("%s", "out of memory");
            goto out;
        }
    }
    jotd_client_t c = {.client_id = (char *)o->name,
                       .secret_hash = o->public_client || keyed ? NULL : hash,
                       .jwks = jwks,
                       .jwks_url = (char *)o->jwks_url,
                       .scopes = (char **)o->scopes,
                       .n_scopes = o->n_scopes,
                       .default_scopes = (char **)o->default_scopes,
                       .n_default_scopes = o->n_default_scopes,
                       .introspect = (char **)o->introspect,
                       .n_introspect = o->n_introspect,
                       .resources = (char **)o->resources,
                       .n_resources = o->n_resources,
                       .redirect_uris = (char **)o->redirect_uris,
                       .n_redirect_uris = o->n_redirect_uris,
                       .allowed_origins = (char **)o->allowed_origins,
                       .n_allowed_origins = o->n_allowed_origins,
                       .cookie_mode = o->cookie_mode,
                       .has_refresh_grace = o->has_refresh_grace,
                       .refresh_grace = o->refresh_grace};
    jotd_rc_t rc = jotd_store_client_create(st, &c, jotd_now());
    if (rc == JOTD_E_EXISTS)
        ret = fail("client '%s' exists", o->name);
    else if (rc != JOTD_OK)
        ret = fail("database error: %s", jotd_rc_str(rc));
    else {
        printf("created %s client %s\n",
               o->public_client ? "public"
               : keyed          ? "confidential (private_key_jwt)"
                                : "confidential",
               o->name);
        if (o->generate_secret) /* alone on the last line, so that scripts can take it */
            printf("%s\n", secret);
    }
out:
    jotx_free_secret(secret);
    free(jwks);
    jot_memzero(hash, sizeof hash);
    jot_memzero(key, sizeof key);
    return ret;
}

static int client_update(jotd_store_t *st, const user_opts_t *o)
{
    jotd_client_t cur = {0};
    jotd_rc_t rc = jotd_store_client_get(st, o->name, &cur);
    if (rc != JOTD_OK)
        return rc == JOTD_E_NOTFOUND ? fail("no client '%s'", o->name)
                                     : fail("database error: %s", jotd_rc_str(rc));
    /* the default scopes as they will be, against the scopes as they will be */
    int ret = check_default_scopes(
        o->has_default_scopes ? o->default_scopes : (const char *const *)cur.default_scopes,
        o->has_default_scopes ? o->n_default_scopes : cur.n_default_scopes,
        o->has_scopes ? o->scopes : (const char *const *)cur.scopes,
        o->has_scopes ? o->n_scopes : cur.n_scopes);
    bool was_public = !jotd_client_is_confidential(&cur);
    /* cookie mode as it will be, with the origins as they will be */
    const char *why = (o->has_cookie_mode ? o->cookie_mode : cur.cookie_mode)
                          ? jotd_cookie_mode_refusal(o->name, was_public,
                                                     o->has_allowed_origins ? o->n_allowed_origins
                                                                            : cur.n_allowed_origins)
                          : NULL;
    jotd_client_clear(&cur);
    if (ret != 0)
        return ret;
    if (why)
        return fail("cookie mode: %s", why);
    if (o->jwks_file && o->jwks_url)
        return fail("%s", "give --jwks or --jwks-url, not both");
    if ((o->jwks_file || o->jwks_url) && was_public)
        return fail("client '%s' is public: it has no keys", o->name);
    if (!o->has_scopes && !o->has_default_scopes && !o->has_introspect && !o->has_resources &&
        !o->has_redirect_uris && !o->has_allowed_origins && !o->has_cookie_mode &&
        !o->has_refresh_grace && !o->jwks_file && !o->jwks_url)
        return fail("%s", "nothing to change (--scope, --default-scope, --introspect, "
                          "--resource, --redirect-uri, --allowed-origin, --cookie-mode, "
                          "--refresh-grace, --no-...)");
    jotd_client_patch_t p = {.scopes = o->scopes,
                             .n_scopes = o->n_scopes,
                             .has_scopes = o->has_scopes,
                             .default_scopes = o->default_scopes,
                             .n_default_scopes = o->n_default_scopes,
                             .has_default_scopes = o->has_default_scopes,
                             .introspect = o->introspect,
                             .n_introspect = o->n_introspect,
                             .has_introspect = o->has_introspect,
                             .resources = o->resources,
                             .n_resources = o->n_resources,
                             .has_resources = o->has_resources,
                             .redirect_uris = o->redirect_uris,
                             .n_redirect_uris = o->n_redirect_uris,
                             .has_redirect_uris = o->has_redirect_uris,
                             .allowed_origins = o->allowed_origins,
                             .n_allowed_origins = o->n_allowed_origins,
                             .has_allowed_origins = o->has_allowed_origins,
                             .has_cookie_mode = o->has_cookie_mode,
                             .cookie_mode = o->cookie_mode,
                             .has_refresh_grace = o->has_refresh_grace,
                             .refresh_grace = o->refresh_grace};
    char *jwks = NULL;
    if (client_jwks(o, &jwks) != 0)
        return 1;
    /* a new key set replaces the other kind: --jwks clears the URL and the reverse */
    p.jwks = jwks ? jwks : o->jwks_url ? "" : NULL;
    p.jwks_url = o->jwks_url ? o->jwks_url : jwks ? "" : NULL;
    rc = jotd_store_client_update(st, o->name, &p, jotd_now());
    free(jwks);
    if (rc != JOTD_OK)
        return fail("database error: %s", jotd_rc_str(rc));
    printf("%s: update done\n", o->name);
    return 0;
}

static int client_rotate_secret(const jotd_config_t *cfg, jotd_store_t *st, user_opts_t *o)
{
    o->generate_secret = !o->secret_stdin;
    char *secret = NULL, hash[JOTD_CLIENT_HASH_MAX] = "";
    uint8_t key[32];
    int ret = client_key(cfg, st, key);
    if (ret == 0)
        ret = client_secret(o, &secret);
    if (ret == 0 && jotd_client_secret_hash(key, o->name, secret, hash) != 0)
        ret = fail("%s", "out of memory");
    if (ret == 0) {
        jotd_client_patch_t p = {.secret_hash = hash};
        jotd_rc_t rc = jotd_store_client_update(st, o->name, &p, jotd_now());
        if (rc == JOTD_E_NOTFOUND)
            ret = fail("no client '%s'", o->name);
        else if (rc == JOTD_E_INVAL)
            ret = fail("client '%s' is public: it has no secret", o->name);
        else if (rc != JOTD_OK)
            ret = fail("database error: %s", jotd_rc_str(rc));
        else {
            /* a running jotd drops the old secret from its cache within a second */
            printf("new secret for client %s; the old one no longer works\n", o->name);
            if (o->generate_secret)
                printf("%s\n", secret);
        }
    }
    jotx_free_secret(secret);
    jot_memzero(hash, sizeof hash);
    jot_memzero(key, sizeof key);
    return ret;
}

/* jotd client disable|enable|delete ID */
static int client_set_state(jotd_store_t *st, const char *sub, const char *id)
{
    jotd_client_op_t op = !strcmp(sub, "disable")  ? JOTD_CLIENT_DISABLE
                          : !strcmp(sub, "enable") ? JOTD_CLIENT_ENABLE
                                                   : JOTD_CLIENT_DELETE;
    jotd_rc_t rc = jotd_store_client_set_state(st, id, op, jotd_now());
    if (rc == JOTD_E_NOTFOUND)
        return fail("no client '%s'", id);
    if (rc != JOTD_OK)
        return fail("database error: %s", jotd_rc_str(rc));
    jotd_audit(op == JOTD_CLIENT_DISABLE  ? "client_disabled"
               : op == JOTD_CLIENT_ENABLE ? "client_enabled"
                                          : "client_deleted",
               "client_id", id, "by", "operator", NULL);
    printf("%s: %s\n", id,
           op == JOTD_CLIENT_DISABLE  ? "disabled; its tokens and sessions are void"
           : op == JOTD_CLIENT_ENABLE ? "enabled (its earlier tokens stay void)"
                                      : "deleted; its tokens and sessions are void");
    return 0;
}

static int cmd_client(const jotd_config_t *cfg, const char *sub, user_opts_t *o)
{
    /* sub is one of commands[] (main refuses the others): add, update, rotate-secret, list */
    bool is_add = !strcmp(sub, "add"), is_update = !strcmp(sub, "update"),
         is_list = !strcmp(sub, "list");
    if (!is_list && (!o->name || !jotd_username_valid(o->name)))
        return fail("jotd client %s needs a client id (1-64 of A-Z a-z 0-9 . _ @ -)", sub);
    jotd_store_t *st = NULL;
    if (open_store(cfg, &st) != 0)
        return 1;
    int ret = 0;
    if (is_list) {
        jotd_client_t *list = NULL;
        size_t n = 0;
        if (jotd_store_client_list(st, &list, &n) != JOTD_OK)
            ret = fail("%s", "database error");
        for (size_t i = 0; i < n; i++)
            print_client(&list[i]);
        jotd_client_list_free(list, n);
    } else if (is_add) {
        ret = client_add(cfg, st, o);
    } else if (is_update) {
        ret = client_update(st, o);
    } else if (!strcmp(sub, "disable") || !strcmp(sub, "enable") || !strcmp(sub, "delete")) {
        ret = client_set_state(st, sub, o->name);
    } else {
        ret = client_rotate_secret(cfg, st, o);
    }
    jotd_store_close(st);
    return ret;
}

static void iso_time(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "@%lld", (long long)t);
}

/* jotd session list USER | jotd session revoke SID */
static int cmd_session(const jotd_config_t *cfg, const char *sub, const user_opts_t *o)
{
    bool list = !strcmp(sub, "list");
    if (!o->name)
        return fail("jotd session %s needs %s", sub, list ? "a user name" : "a session id");
    jotd_store_t *st = NULL;
    if (open_store(cfg, &st) != 0)
        return 1;
    int ret = 0;
    int64_t now = jotd_now();
    if (list) {
        jotd_user_t u = {0};
        jotd_session_t *v = NULL;
        size_t n = 0;
        jotd_rc_t rc = jotd_store_user_get_by_name(st, o->name, &u);
        if (rc == JOTD_OK)
            rc = jotd_store_session_list(st, u.id, &v, &n);
        if (rc == JOTD_E_NOTFOUND)
            ret = fail("no user '%s'", o->name);
        else if (rc != JOTD_OK)
            ret = fail("database error: %s", jotd_rc_str(rc));
        for (size_t i = 0; i < n; i++) {
            char created[32], used[32];
            iso_time(v[i].created_at, created);
            iso_time(v[i].last_used_at, used);
            printf("%s\t%s\tcreated=%s\tlast_used=%s\tclient=%s\tip=%s\n", v[i].sid,
                   v[i].revoked             ? "revoked"
                   : v[i].expires_at <= now ? "expired"
                                            : "active",
                   created, used, v[i].client_id, v[i].ip ? v[i].ip : "-");
        }
        jotd_session_list_free(v, n);
        jotd_user_clear(&u);
    } else {
        jotd_session_t s = {0};
        bool active = false;
        jotd_rc_t rc = jotd_store_session_get(st, o->name, now, &s, &active);
        jotd_session_clear(&s);
        if (rc == JOTD_OK)
            rc = jotd_store_session_revoke(st, o->name, now);
        if (rc == JOTD_E_NOTFOUND)
            ret = fail("no session '%s'", o->name);
        else if (rc != JOTD_OK)
            ret = fail("database error: %s", jotd_rc_str(rc));
        else
            printf("session %s revoked\n", o->name);
    }
    jotd_store_close(st);
    return ret;
}

static int keys_rotate(const jotd_config_t *cfg, jotd_store_t *st, const jotd_kek_t *kek)
{
    char err[ERRLEN] = "", kid[JOT_THUMBPRINT_LEN + 1], when[32];
    /* --alg is a configuration key (the file and JOTD_ALG set it too), default ES256 */
    jot_alg_t alg = cfg->alg;
    if (jotd_config_check_key_times(cfg, err, sizeof err) != JOTD_OK)
        return fail("%s", err);
    int64_t now = jotd_now(), at = 0;
    if (jotd_keyring_rotate(st, kek, cfg->data_dir, alg, cfg->key_lead_time, cfg->access_ttl, now,
                            kid, &at, err, sizeof err) != JOTD_OK)
        return fail("%s", err);
    iso_time(at, when);
    printf("new signing key %s (%s) published; it signs from %s (in %lld s)\n", kid,
           jot_alg_name(alg), when, (long long)(at - now));
    return 0;
}

static int keys_revoke(jotd_store_t *st, const jotd_kek_t *kek, const user_opts_t *o)
{
    char err[ERRLEN] = "", fresh[JOT_THUMBPRINT_LEN + 1];
    if (!o->name)
        return fail("%s", "jotd keys revoke needs a kid (see jotd keys list)");
    char alg_name[16] = "?";
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    if (jotd_store_key_list(st, &rows, &n) == JOTD_OK)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(rows[i].kid, o->name))
                snprintf(alg_name, sizeof alg_name, "%s", rows[i].alg);
    jotd_key_list_free(rows, n);
    if (jotd_keyring_revoke(st, kek, o->name, jotd_now(), fresh, err, sizeof err) != JOTD_OK)
        return fail("%s", err);
    printf("revoked signing key %s: out of the JWKS, its tokens refused\n", o->name);
    if (fresh[0]) /* the revoked key's algorithm */
        printf("new signing key %s (%s) signs now\n", fresh, alg_name);
    return 0;
}

static int cmd_keys(const jotd_config_t *cfg, const char *sub, user_opts_t *o)
{
    char err[ERRLEN] = "";
    jotd_store_t *st = NULL;
    if (open_store(cfg, &st) != 0)
        return 1;
    int ret = 0;
    if (!strcmp(sub, "list")) {
        if (jotd_keyring_list(st, cfg->access_ttl, jotd_now(), stdout, err, sizeof err) != JOTD_OK)
            ret = fail("%s", err);
    } else {
        jotd_kek_t kek;
        ret = open_kek(cfg, st, &kek);
        if (ret == 0)
            ret = !strcmp(sub, "rotate") ? keys_rotate(cfg, st, &kek) : keys_revoke(st, &kek, o);
        jotd_kek_wipe(&kek);
    }
    jotd_store_close(st);
    return ret;
}

/* ---- which options each operator command takes ------------------------------------ */

/* Besides --config: the configuration keys (config.c's file keys) and the own
 * flags (parse_user_opts; a trailing '=' marks a flag that takes a value) of each operator
 * command. Anything else given as a flag is refused rather than silently ignored (`jotd
 * client add svc --audience X` used to succeed and do nothing); the config file and JOTD_*
 * variables may still carry any key. A new command is a new row, a new flag one more word. */
#define ARGON2_KEYS "argon2_m_kib", "argon2_t", "argon2_p"
#define LOCATION_KEYS "data", "store" /* where the local files and the store are */
#define KEK_KEY "key_encryption_key"  /* commands that open what the store keeps sealed */
#define CMD_KEYS_MAX 8

typedef struct command {
    const char *cmd, *sub;
    const char *keys[CMD_KEYS_MAX]; /* NULL-terminated */
    const char *flags;              /* space-separated */
} command_t;

static const command_t commands[] = {
    {"user", "add", {LOCATION_KEYS, ARGON2_KEYS}, "--role= --permission= --password-stdin"},
    {"user", "passwd", {LOCATION_KEYS, ARGON2_KEYS}, "--password-stdin"},
    {"user", "roles", {LOCATION_KEYS}, "--role= --permission="},
    {"user", "disable", {LOCATION_KEYS}, ""},
    {"user", "enable", {LOCATION_KEYS}, ""},
    {"user", "delete", {LOCATION_KEYS}, ""},
    {"user", "list", {LOCATION_KEYS}, ""},
    {"client",
     "add",
     {LOCATION_KEYS, KEK_KEY},
     "--secret-stdin --public --generate-secret --scope= --default-scope= --introspect= "
     "--resource= --redirect-uri= --allowed-origin= --cookie-mode --refresh-grace= --jwks= "
     "--jwks-url="},
    {"client",
     "update",
     {LOCATION_KEYS},
     "--scope= --default-scope= --introspect= --resource= --no-scopes --no-default-scopes "
     "--no-introspect --no-resources --redirect-uri= --no-redirect-uris --allowed-origin= "
     "--no-allowed-origins --cookie-mode --no-cookie-mode --refresh-grace= --no-refresh-grace "
     "--jwks= --jwks-url="},
    {"client", "rotate-secret", {LOCATION_KEYS, KEK_KEY}, "--secret-stdin"},
    {"client", "list", {LOCATION_KEYS}, ""},
    {"client", "disable", {LOCATION_KEYS}, ""},
    {"session", "list", {LOCATION_KEYS}, ""},
    {"session", "revoke", {LOCATION_KEYS}, ""},
    {"client", "enable", {LOCATION_KEYS}, ""},
    {"client", "delete", {LOCATION_KEYS}, ""},
    {"keys", "list", {LOCATION_KEYS, "access_ttl"}, ""},
    {"keys",
     "rotate",
     {LOCATION_KEYS, KEK_KEY, "alg", "key_lead_time", "jwks_max_age", "access_ttl"},
     ""},
    {"keys", "revoke", {LOCATION_KEYS, KEK_KEY}, ""},
    {"migrate", "", {LOCATION_KEYS}, ""},
    {"init", "", {LOCATION_KEYS, KEK_KEY, "alg", "access_ttl"}, ""},
    {"backup", "", {LOCATION_KEYS, KEK_KEY}, ""},
    {"restore", "", {LOCATION_KEYS, KEK_KEY}, ""},
};

static const command_t *find_command(const char *cmd, const char *sub)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].cmd, cmd) && !strcmp(commands[i].sub, sub))
            return &commands[i];
    return NULL;
}

/* "--role" in a flags list: 0 absent, 1 without a value, 2 with one. */
static int flag_in(const char *flags, const char *name, size_t n)
{
    for (const char *p = flags; *p;) {
        size_t w = strcspn(p, " ");
        size_t len = w && p[w - 1] == '=' ? w - 1 : w;
        if (len == n && !strncmp(p, name, n))
            return len < w ? 2 : 1;
        p += w;
        p += *p == ' ';
    }
    return 0;
}

/* Refuse an own flag of another command (--public on `user add`). Unknown flags are left to
 * parse_user_opts. 0, or 2 reported. */
static int own_flags_apply(const command_t *c, char **rest, int n)
{
    for (int i = 0; i < n; i++) {
        const char *a = rest[i];
        size_t len = strcspn(a, "=");
        if (strncmp(a, "--", 2) != 0)
            continue;
        int mine = flag_in(c->flags, a, len);
        if (mine == 2 && !a[len])
            i++; /* its value */
        if (mine)
            continue;
        for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
            if (flag_in(commands[k].flags, a, len)) {
                fail("option %.*s does not apply to 'jotd %s%s%s'", (int)len, a, c->cmd,
                     *c->sub ? " " : "", c->sub);
                return 2;
            }
        }
    }
    return 0;
}

/* `jotd init`: a new data directory made explicitly, with everything serve would make at
 * its first start, and a line for each thing made. A SQLite store already there is refused
 * (init is not a repair); on PostgreSQL the schema is brought up to date as by migrate. */
static int cmd_init(const jotd_config_t *cfg)
{
    char path[4096], err[ERRLEN];
    struct stat sb;
    bool had_dir = stat(cfg->data_dir, &sb) == 0;
    snprintf(path, sizeof path, "%s/jotd.db", cfg->data_dir);
    if (!cfg->store && stat(path, &sb) == 0)
        return fail("%s already holds a store (%s): nothing done", cfg->data_dir, path);
    const char *kek_path = cfg->key_encryption_key;
    char kek_default[4096];
    if (!kek_path) {
        snprintf(kek_default, sizeof kek_default, "%s/key-encryption-key", cfg->data_dir);
        kek_path = kek_default;
    }
    bool had_kek = stat(kek_path, &sb) == 0;
    jotd_store_t *st = NULL;
    jotd_kek_t kek = {0};
    uint8_t key[32];
    int64_t version = 0;
    size_t imported = 0;
    int ret = 1;
    if (open_store_as(cfg, &st, false, true) != 0)
        return 1;
    if (!had_dir)
        printf("jotd: created the data directory %s (mode 0700)\n", cfg->data_dir);
    char *shown = store_shown(cfg);
    if (jotd_store_schema_version(st, &version) != JOTD_OK) {
        fail("cannot read the schema version: %s", jotd_store_errmsg(NULL));
        goto out;
    }
    printf("jotd: %s store %s, schema version %lld\n", cfg->store ? "postgresql" : "sqlite",
           shown ? shown : "", (long long)version);
    if (open_kek(cfg, st, &kek) != 0)
        goto out;
    printf("jotd: key-encryption key %s%s\n", kek_path,
           had_kek ? " (existing)" : " (created, mode 0600: back it up with the store)");
    if (server_secret(cfg, st, &kek, JOTD_SECRET_REFRESH, key) != 0 ||
        server_secret(cfg, st, &kek, JOTD_SECRET_CLIENT, key) != 0)
        goto out;
    printf("jotd: server secrets %s and %s sealed in the store\n", JOTD_SECRET_REFRESH,
           JOTD_SECRET_CLIENT);
    if (jotd_keyring_ensure(st, &kek, cfg->data_dir, cfg->alg, cfg->access_ttl, jotd_now(),
                            &imported, err, sizeof err) != JOTD_OK) {
        fail("%s", err);
        goto out;
    }
    printf("jotd: signing key ready (%s); 'jotd keys list' shows it\n", jot_alg_name(cfg->alg));
    ret = 0;
out:
    jot_memzero(key, sizeof key);
    jotd_kek_wipe(&kek);
    free(shown);
    jotd_store_close(st);
    return ret;
}

/* ---- backup and restore -------------------------------------------------------------- */

/* Copy the small file \p from to the new file \p to (mode 0600, never over one there). */
static int copy_secret_file(const char *from, const char *to)
{
    char buf[4096];
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return fail("cannot read %s: %s", from, strerror(errno));
    ssize_t n = read(in, buf, sizeof buf);
    close(in);
    if (n < 0 || (size_t)n == sizeof buf) {
        jot_memzero(buf, sizeof buf);
        return fail("cannot read %s (or larger than a key file)", from);
    }
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int ret = 0;
    if (out < 0) {
        ret = fail("cannot create %s: %s", to, strerror(errno));
    } else {
        if (write(out, buf, (size_t)n) != n || fsync(out) != 0)
            ret = fail("cannot write %s: %s", to, strerror(errno));
        close(out);
        if (ret)
            unlink(to);
    }
    jot_memzero(buf, sizeof buf);
    return ret;
}

/* The key-encryption key of \p cfg: --key-encryption-key, else DATA/key-encryption-key. */
static void kek_path_of(const jotd_config_t *cfg, char *out, size_t n)
{
    if (cfg->key_encryption_key)
        snprintf(out, n, "%s", cfg->key_encryption_key);
    else
        snprintf(out, n, "%s/key-encryption-key", cfg->data_dir);
}

/* `jotd backup DEST`: the SQLite store through the online backup API (consistent while
 * jotd serves; what is still in the WAL included, unlike a cp of jotd.db) and the
 * key-encryption key beside it: the store's keys and secrets are sealed with it, so a backup
 * without it restores nothing usable. */
static int cmd_backup(const jotd_config_t *cfg, const char *dest)
{
    if (cfg->store)
        return fail("%s", "a PostgreSQL store is backed up with pg_dump (and the "
                          "key-encryption-key file kept with it): see docs/deploy.md, "
                          "\"Backup and restore\"");
    if (data_dir_ready(cfg, false) != 0)
        return 1;
    char db[4096], kek[4096], kek_dest[4096];
    snprintf(db, sizeof db, "%s/jotd.db", cfg->data_dir);
    kek_path_of(cfg, kek, sizeof kek);
    snprintf(kek_dest, sizeof kek_dest, "%s.key-encryption-key", dest);
    struct stat sb;
    if (stat(db, &sb) != 0)
        return fail("%s holds no store (%s)", cfg->data_dir, db);
    if (stat(kek_dest, &sb) == 0)
        return fail("%s exists: refusing to overwrite it", kek_dest);
    jotd_rc_t rc = jotd_store_sqlite_copy(db, dest);
    if (rc != JOTD_OK)
        return fail("backup of %s failed: %s", db, jotd_store_errmsg(NULL));
    if (copy_secret_file(kek, kek_dest) != 0) {
        unlink(dest);
        return 1;
    }
    printf("jotd: %s -> %s (mode 0600)\njotd: %s -> %s (mode 0600)\n", db, dest, kek, kek_dest);
    return 0;
}

/* `jotd restore SRC`: the reverse, into a data directory that holds no store (created if
 * missing); the key-encryption key goes to --key-encryption-key or DATA/. */
static int cmd_restore(const jotd_config_t *cfg, const char *src)
{
    if (cfg->store)
        return fail("%s", "a PostgreSQL store is restored with pg_restore or psql: see "
                          "docs/deploy.md, \"Backup and restore\"");
    char db[4096], kek[4096], kek_src[4096];
    snprintf(db, sizeof db, "%s/jotd.db", cfg->data_dir);
    kek_path_of(cfg, kek, sizeof kek);
    snprintf(kek_src, sizeof kek_src, "%s.key-encryption-key", src);
    struct stat sb;
    if (stat(src, &sb) != 0 || !S_ISREG(sb.st_mode))
        return fail("%s: no such backup file", src);
    if (!cfg->key_encryption_key && stat(kek_src, &sb) != 0)
        return fail("%s is missing: the store's keys are sealed with it", kek_src);
    if (stat(db, &sb) == 0)
        return fail("%s already holds a store (%s): restore into a new data directory",
                    cfg->data_dir, db);
    /* --key-encryption-key naming an existing file: that key is used (it must open the
     * backup); otherwise the backup's key is copied there, never over another file */
    bool own_kek = cfg->key_encryption_key && stat(kek, &sb) == 0;
    if (!own_kek && stat(kek, &sb) == 0)
        return fail("%s exists: refusing to overwrite it", kek);
    if (data_dir_ready(cfg, true) != 0)
        return 1;
    jotd_rc_t rc = jotd_store_sqlite_copy(src, db);
    if (rc != JOTD_OK)
        return fail("restore of %s failed: %s", src, jotd_store_errmsg(NULL));
    if (!own_kek && copy_secret_file(kek_src, kek) != 0) {
        unlink(db);
        return 1;
    }
    /* the schema brought up to date (a backup of an older release), the keys checked */
    jotd_store_t *st = NULL;
    jotd_kek_t k = {0};
    int ret = open_store(cfg, &st) != 0 || open_kek(cfg, st, &k) != 0;
    jotd_kek_wipe(&k);
    jotd_store_close(st);
    if (ret)
        return 1;
    if (own_kek)
        printf("jotd: %s -> %s\njotd: opened with the key %s\n", src, db, kek);
    else
        printf("jotd: %s -> %s\njotd: %s -> %s (mode 0600)\n", src, db, kek_src, kek);
    return 0;
}

/* ---- serve ------------------------------------------------------------------------- */

/* Tell systemd (NOTIFY_SOCKET) how the service stands; a failure is logged, not fatal. */
static void notify(const char *state)
{
    if (jotd_notify(state) < 0)
        jotd_log("warn", "NOTIFY_SOCKET: cannot send %.16s: %s", state, strerror(errno));
}

static void deny_loaded(void *ctx, const char *jti, int64_t exp)
{
    jotd_denylist_add(ctx, jti, strlen(jti), exp);
}

/* First start: an "admin" user with a random password, shown once. Returns 1 if created. */
static int first_admin(jotd_app_t *app, char password[32])
{
    jotd_user_t *list = NULL;
    size_t n = 0;
    if (jotd_store_user_list(app->store, 0, 1, &list, &n) != JOTD_OK)
        return -1;
    jotd_user_list_free(list, n);
    if (n)
        return 0;
    if (jotx_random_b64url(password, 32, 15) < 0)
        return -1;
    jotd_argon2_t p = argon2_of(&app->rt->cfg);
    char phc[JOTD_PHC_MAX];
    if (jotd_password_hash(&p, password, strlen(password), phc) != 0)
        return -1;
    const char *roles[] = {"admin"};
    jotd_user_t u = {
        .username = "admin", .password_hash = phc, .roles = (char **)roles, .n_roles = 1};
    int64_t id;
    jotd_rc_t rc = jotd_store_user_create(app->store, &u, jotd_now(), &id);
    jot_memzero(phc, sizeof phc);
    return rc == JOTD_OK ? 1 : -1;
}

/* The dummy hash that logins of unknown users verify against, made with the parameters of
 * most stored hashes (jotd_dummy_params), so that after a change of --argon2-* an unknown
 * name still costs what most existing ones do. Made at start, and again on SIGHUP and every
 * minute when those parameters have changed (users are rehashed as they log in). Returns 0,
 * or -1 (a store or hashing error: the dummy in use stays). */
static int dummy_refresh(jotd_app_t *app, bool first)
{
    jotd_argon2_t want, have, fallback = argon2_of(&app->rt->cfg);
    if (jotd_dummy_params(app->store, &fallback, &want) != JOTD_OK)
        return -1;
    if (!first && jotd_password_dummy_params(&app->dummy, &have) == 0 && have.m_kib == want.m_kib &&
        have.t == want.t && have.p == want.p)
        return 0;
    jotd_password_dummy_t nd;
    if (jotd_password_dummy_init(&nd, &want) != 0)
        return -1;
    /* handlers read app->dummy under the read lock */
    pthread_rwlock_wrlock(&app->rt_lock);
    app->dummy = nd;
    pthread_rwlock_unlock(&app->rt_lock);
    jot_memzero(&nd, sizeof nd);
    jotd_log("info", "unknown users' logins verify at m=%u,t=%u,p=%u", (unsigned)want.m_kib,
             (unsigned)want.t, (unsigned)want.p);
    return 0;
}

/* With --listen HOST:0 the port is known only once bound: a default issuer ("...:0") and
 * audience then take the real port. */
static int use_bound_port(jotd_config_t *cfg, uint16_t port)
{
    char **fields[] = {&cfg->issuer, &cfg->audience};
    for (size_t i = 0; i < 2; i++) {
        char *s = *fields[i];
        size_t n = s ? strlen(s) : 0;
        if (cfg->listen_port != 0 || n < 2 || strcmp(s + n - 2, ":0") != 0)
            continue;
        char *fixed = malloc(n + 6);
        if (!fixed)
            return -1;
        snprintf(fixed, n + 6, "%.*s:%u", (int)(n - 2), s, (unsigned)port);
        free(s);
        *fields[i] = fixed;
    }
    return 0;
}

/* Build a runtime for \p cfg as it will serve on \p port (see use_bound_port). */
static int runtime_for_port(jotd_app_t *app, jotd_config_t *cfg, uint16_t port,
                            jotd_runtime_t **out, char *err, size_t errlen)
{
    if (use_bound_port(cfg, port) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return jotd_runtime_new(cfg, app->store, &app->kek, jotd_now(), out, err, errlen) == JOTD_OK
               ? 0
               : -1;
}

/* Swap in \p nrt and free the runtime it replaces. */
static void runtime_swap(jotd_app_t *app, jotd_runtime_t *nrt)
{
    pthread_rwlock_wrlock(&app->rt_lock);
    jotd_runtime_t *old = app->rt;
    app->rt = nrt;
    jotd_metrics_enable(nrt->cfg.metrics); /* --metrics follows SIGHUP */
    pthread_rwlock_unlock(&app->rt_lock);
    jotd_runtime_free(old);
}

/* The store's keys changed (a key published or revoked, by any instance or command), or a
 * retired key's window ended: the same configuration with the keys as they are now. Called
 * on the main thread, the only one that replaces the runtime. */
static void reload_keys(jotd_app_t *app)
{
    char err[ERRLEN] = "";
    jotd_config_t copy;
    jotd_runtime_t *nrt = NULL;
    if (jotd_config_copy(&copy, &app->rt->cfg) != JOTD_OK) {
        jotd_log("error", "%s", "reloading the keys: out of memory; keeping the loaded keys");
        return;
    }
    if (jotd_runtime_new(&copy, app->store, &app->kek, jotd_now(), &nrt, err, sizeof err) !=
        JOTD_OK) {
        jotd_log("error", "reloading the keys failed, keeping the loaded keys: %s", err);
        jotd_config_free(&copy);
        atomic_store(&app->keys_changed, true); /* again at the next tick */
        return;
    }
    runtime_swap(app, nrt);
    jotd_log("info", "%s", "loaded the signing keys from the store");
}

/* After a reload (the new runtime is in place): what lives outside the runtime. */
static void reload_extras(jotd_app_t *app)
{
    const jotd_config_t *c = &app->rt->cfg;
    jotd_throttle_set_limits(app->throttle, c->throttle_account_failures, c->throttle_ip_failures);
    jotd_throttle_set_limits(app->client_throttle, c->throttle_account_failures,
                             c->throttle_ip_failures);
    if (dummy_refresh(app, false) != 0)
        jotd_log("error", "%s", "cannot rebuild the dummy hash of unknown users");
}

/* The default client acts for requests that name no client, which carry no credentials: it
 * must be a registered public client. So must the portal client (--portal-client), whose
 * sessions the login page makes for a browser that shows no client credentials. */
static int check_public_client(jotd_store_t *st, const char *opt, const char *id, char *err,
                               size_t errlen)
{
    jotd_client_t c = {0};
    jotd_rc_t rc = jotd_store_client_get(st, id, &c);
    bool confidential = rc == JOTD_OK && c.secret_hash;
    jotd_client_clear(&c);
    if (rc == JOTD_E_NOTFOUND)
        snprintf(err, errlen,
                 "%s '%s' is not a registered client (create it with: jotd client "
                 "add %s --public)",
                 opt, id, id);
    else if (rc != JOTD_OK)
        snprintf(err, errlen, "cannot read client '%s': %s", id, jotd_rc_str(rc));
    else if (confidential)
        snprintf(err, errlen,
                 "%s '%s' is a confidential client: requests without credentials "
                 "would act as it; name a public client",
                 opt, id);
    return rc == JOTD_OK && !confidential ? 0 : -1;
}

static int check_default_client(jotd_store_t *st, const jotd_config_t *cfg, char *err,
                                size_t errlen)
{
    return check_public_client(st, "--default-client", cfg->default_client, err, errlen) != 0 ||
                   check_public_client(st, "--portal-client", cfg->portal_client, err, errlen) != 0
               ? -1
               : 0;
}

/* The store's listener (jotd_store_listen_start) saw an event committed: read it now. */
static void events_wake(void *ctx)
{
    jotd_app_t *app = ctx;
    pthread_rwlock_rdlock(&app->rt_lock);
    int64_t access_ttl = app->rt->cfg.access_ttl;
    pthread_rwlock_unlock(&app->rt_lock);
    if (jotd_events_sync(app, access_ttl) != JOTD_OK)
        jotd_log("error", "events: cannot read the store: %s", jotd_store_errmsg(NULL));
}

static int cmd_serve(jotd_config_t *cfg, int argc, char **argv)
{
    char err[ERRLEN];
    if (jotd_config_validate(cfg, err, sizeof err) != JOTD_OK)
        return fail("%s", err);
    /* signals are taken by the main thread with sigwait; block them before any thread */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1); /* the store's keys changed (events.c) */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    jotd_app_t app = {
        .argc = argc, .argv = argv, .main_thread = pthread_self(), .has_main_thread = true};
    pthread_mutex_init(&app.events_lock, NULL);
    /* prefer the writer: a SIGHUP reload must not starve behind a steady stream of requests */
    pthread_rwlockattr_t rwa;
    pthread_rwlockattr_init(&rwa);
    pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&app.rt_lock, &rwa);
    pthread_rwlockattr_destroy(&rwa);
    int ret = 1;
    jotd_http_t *daemon = NULL;
    jotd_store_listener_t *listener = NULL;
    if (open_store_as(cfg, &app.store, false, true) != 0 ||
        open_kek(cfg, app.store, &app.kek) != 0 ||
        server_secret(cfg, app.store, &app.kek, JOTD_SECRET_REFRESH, app.refresh_key) != 0 ||
        server_secret(cfg, app.store, &app.kek, JOTD_SECRET_CLIENT, app.client_key) != 0 ||
        server_secret(cfg, app.store, &app.kek, JOTD_SECRET_BROWSER, app.browser_key) != 0)
        goto out;
    size_t imported = 0;
    if (jotd_keyring_ensure(app.store, &app.kek, cfg->data_dir, cfg->alg, cfg->access_ttl,
                            jotd_now(), &imported, err, sizeof err) != JOTD_OK) {
        fail("%s", err);
        goto out;
    }
    if (imported)
        jotd_log("info",
                 "imported %zu signing keys from %s/keys into the store; that directory is no "
                 "longer read",
                 imported, cfg->data_dir);
    if (jotd_runtime_new(cfg, app.store, &app.kek, jotd_now(), &app.rt, err, sizeof err) !=
        JOTD_OK) {
        fail("%s", err);
        goto out;
    }
    if (check_default_client(app.store, &app.rt->cfg, err, sizeof err) != 0) {
        fail("%s", err);
        goto out;
    }
    app.deny = jotd_denylist_new();
    app.ended_sessions = jotd_denylist_new();
    app.void_clients = jotd_denylist_new();
    app.remote_sets = jotd_remote_sets_new(app.rt->cfg.allow_http_jwks_url);
    app.gens = jotd_genmap_new();
    app.throttle = jotd_throttle_new(app.rt->cfg.throttle_account_failures,
                                     app.rt->cfg.throttle_ip_failures, THROTTLE_MAX_ENTRIES);
    app.client_throttle = jotd_throttle_new(app.rt->cfg.throttle_account_failures,
                                            app.rt->cfg.throttle_ip_failures, THROTTLE_MAX_ENTRIES);
    app.clients = jotd_client_cache_new();
    app.origins = jotd_origins_new();
    app.statuslists = jotd_statuslists_new();
    /* as many Argon2 hashes at once as there are event loops (CPUs by default): more would
     * add a 19 MiB work area each and no speed */
    jotd_password_set_parallel(app.rt->cfg.threads);
    if (!app.deny || !app.ended_sessions || !app.void_clients || !app.remote_sets || !app.gens ||
        !app.throttle || !app.client_throttle || !app.clients || !app.origins || !app.statuslists) {
        fail("%s", "out of memory");
        goto out;
    }
    /* failure counters shared by every instance on the store (ratelimit.h) */
    jotd_throttle_set_store(app.throttle, app.store, "login");
    jotd_throttle_set_store(app.client_throttle, app.store, "client");
    if (dummy_refresh(&app, true) != 0) {
        fail("cannot read the stored password hashes: %s", jotd_store_errmsg(NULL));
        goto out;
    }
    if (jotd_store_deny_load(app.store, jotd_now(), deny_loaded, app.deny) != JOTD_OK) {
        fail("%s", "cannot read the denylist");
        goto out;
    }
    /* every retained event: the sessions ended and the generations bumped while we were not
     * running (or by another process) */
    if (jotd_events_sync(&app, app.rt->cfg.access_ttl) != JOTD_OK) {
        fail("cannot read the store's events: %s", jotd_store_errmsg(NULL));
        goto out;
    }
    /* PostgreSQL: events made elsewhere are read as soon as they are notified; the poll
     * below still bounds the lag when a notification is lost. --events-listen off (a store
     * behind PgBouncer's transaction pooling, where LISTEN does not work): the poll only */
    if (!app.rt->cfg.events_listen) { /* read once: a change needs a restart */
        if (app.rt->cfg.store)
            jotd_log("info",
                     "events listener: off (--events-listen off), events polled every %" PRId64
                     " s",
                     app.rt->cfg.events_poll_interval);
    } else if (jotd_store_listen_start(app.store, events_wake, &app, &listener) != JOTD_OK) {
        fail("cannot start the events listener: %s", jotd_store_errmsg(NULL));
        goto out;
    }
    app.listener = listener; /* /readyz asks it */
    char admin_pw[32] = "";
    int created = first_admin(&app, admin_pw);
    if (created < 0) {
        fail("%s", "cannot create the first admin user");
        goto out;
    }
    uint16_t port = 0;
    jotd_metrics_enable(app.rt->cfg.metrics);
    if (jotd_http_start(&app, &daemon, &port, err, sizeof err) != JOTD_OK) {
        fail("%s", err);
        goto out;
    }
    if (app.rt->cfg.listen_port == 0) {
        /* rebuild what depends on the issuer now that the port is known */
        jotd_config_t copy;
        jotd_config_defaults(&copy);
        jotd_runtime_t *nrt = NULL;
        if (jotd_config_load(&copy, app.argc, app.argv, NULL, NULL, err, sizeof err) != JOTD_OK ||
            runtime_for_port(&app, &copy, port, &nrt, err, sizeof err) != 0) {
            jotd_config_free(&copy);
            fail("%s", err);
            goto out;
        }
        runtime_swap(&app, nrt);
    }
    const jotd_config_t *c = &app.rt->cfg;
    const char *scheme = c->tls_cert ? "https" : "http";
    bool v6 = strchr(c->listen_host, ':') != NULL;
    char base[300];
    snprintf(base, sizeof base, "%s://%s%s%s:%u", scheme, v6 ? "[" : "", c->listen_host,
             v6 ? "]" : "", (unsigned)port);
    char *shown = store_shown(c);
    jotd_log("info", "listening on %s (issuer %s, data %s, store %s)", base, c->issuer, c->data_dir,
             shown ? shown : "?");
    free(shown);
    printf("jotd listening on %s\n", base);
    if (jotd_http_metrics_port(daemon)) {
        char mhost[256], *mh = NULL, why[64];
        uint16_t mp = 0;
        if (jotd_parse_listen(c->metrics_listen, &mh, &mp, why, sizeof why) == 0) {
            bool mv6 = strchr(mh, ':') != NULL;
            snprintf(mhost, sizeof mhost, "%s%s%s", mv6 ? "[" : "", mh, mv6 ? "]" : "");
            printf("jotd metrics on http://%s:%u/metrics\n", mhost,
                   (unsigned)jotd_http_metrics_port(daemon));
            jotd_log("info", "metrics on http://%s:%u/metrics (no token: --metrics-listen)", mhost,
                     (unsigned)jotd_http_metrics_port(daemon));
        }
        free(mh);
    }
    if (created == 1)
        printf("\nCreated user 'admin' with password: %s\n(shown once; change it with: "
               "jotd user passwd admin --password-stdin --data %s%s)\n",
               admin_pw, c->data_dir, c->store ? " and the same --store or JOTD_STORE" : "");
    printf("\nTry:\n"
           "  curl -s %s/token -d grant_type=password -d username=admin -d password='%s'\n"
           "  curl -s %s/verify -H \"Authorization: Bearer $ACCESS_TOKEN\" -i\n"
           "  curl -s %s/.well-known/jwks.json\n\n",
           base, created == 1 ? admin_pw : "PASSWORD", base, base);
    fflush(stdout);
    jot_memzero(admin_pw, sizeof admin_pw);
    notify("READY=1"); /* systemd Type=notify: listening, logins can be served */

    int64_t last_gc = jotd_now();
    int64_t last_events = last_gc;
    for (;;) {
        struct timespec tick = {TICK_S, 0};
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            notify("STOPPING=1");
            break;
        }
        /* a key published or revoked anywhere (events.c wakes us), or a retired key whose
         * window ended (it leaves the JWKS and stops verifying) */
        bool keys_changed = atomic_exchange(&app.keys_changed, false);
        int64_t expiry = jotd_keyring_next_change(app.rt->keyring);
        keys_changed |= expiry && jotd_now() >= expiry;
        if (keys_changed && sig != SIGHUP) {
            reload_keys(&app);
            continue;
        }
        if (sig == SIGHUP) {
            /* reload configuration and keys; connections stay open */
            struct timespec mono;
            clock_gettime(CLOCK_MONOTONIC, &mono);
            char reloading[64];
            snprintf(reloading, sizeof reloading, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long)mono.tv_sec * 1000000ull +
                         (unsigned long long)mono.tv_nsec / 1000ull);
            notify(reloading);
            jotd_config_t nc;
            jotd_config_defaults(&nc);
            jotd_runtime_t *nrt = NULL;
            if (jotd_config_load(&nc, app.argc, app.argv, NULL, NULL, err, sizeof err) != JOTD_OK ||
                jotd_config_validate(&nc, err, sizeof err) != JOTD_OK ||
                check_default_client(app.store, &nc, err, sizeof err) != 0 ||
                runtime_for_port(&app, &nc, port, &nrt, err, sizeof err) != 0) {
                jotd_log("error", "reload failed, keeping the running configuration: %s", err);
                jotd_config_free(&nc);
                notify("READY=1"); /* still serving, with the old configuration */
                continue;
            }
            runtime_swap(&app, nrt);
            jotd_store_set_durability(app.store, app.rt->cfg.durability_full
                                                     ? JOTD_DURABILITY_FULL
                                                     : JOTD_DURABILITY_NORMAL);
            reload_extras(&app);
            jotd_log("info", "%s", "reloaded configuration and keys");
            notify("READY=1");
            continue;
        }
        /* revocations and client changes made by operator commands or other instances,
         * every --events-poll-interval (on PostgreSQL the listener is usually first) */
        pthread_rwlock_rdlock(&app.rt_lock);
        int64_t access_ttl = app.rt->cfg.access_ttl;
        int64_t poll_s = app.rt->cfg.events_poll_interval;
        pthread_rwlock_unlock(&app.rt_lock);
        int64_t now = jotd_now();
        if (now - last_events >= poll_s || now < last_events) {
            last_events = now;
            if (jotd_events_sync(&app, access_ttl) != JOTD_OK)
                jotd_log("error", "events: cannot read the store: %s", jotd_store_errmsg(NULL));
        }
        /* Argon2 work areas go back to the OS after PASSWORD_IDLE_S without a login */
        jotd_password_trim(PASSWORD_IDLE_S);
        if (jotd_now() - last_gc >= GC_INTERVAL_S) { /* forget what can no longer matter */
            last_gc = jotd_now();
            jotd_denylist_purge(app.deny, last_gc);
            jotd_denylist_purge(app.ended_sessions, last_gc);
            jotd_denylist_purge(app.void_clients, last_gc);
            /* events outlive every access token they can void */
            int64_t keep = GC_KEEP_S > access_ttl + GC_KEEP_MARGIN_S
                               ? GC_KEEP_S
                               : access_ttl + GC_KEEP_MARGIN_S;
            (void)jotd_store_gc(app.store, last_gc, keep);
            (void)dummy_refresh(&app, false);
        }
    }
    jotd_log("info", "%s", "shutting down: draining open requests");
    jotd_http_stop(daemon, DRAIN_S);
    daemon = NULL;
    ret = 0;
out:
    jotd_http_stop(daemon, 0);
    jotd_store_listen_stop(listener); /* before what its wake() reads goes */
    jotd_runtime_free(app.rt);
    jotd_store_close(app.store);
    jotd_denylist_free(app.deny);
    jotd_denylist_free(app.ended_sessions);
    jotd_denylist_free(app.void_clients);
    jotd_remote_sets_free(app.remote_sets);
    jotd_genmap_free(app.gens);
    jotd_throttle_free(app.throttle);
    jotd_throttle_free(app.client_throttle);
    jotd_client_cache_free(app.clients);
    jotd_origins_free(app.origins);
    jotd_statuslists_free(app.statuslists);
    jotd_kek_wipe(&app.kek);
    jot_memzero(app.refresh_key, sizeof app.refresh_key);
    jot_memzero(app.browser_key, sizeof app.browser_key);
    jot_memzero(app.client_key, sizeof app.client_key);
    pthread_mutex_destroy(&app.events_lock);
    pthread_rwlock_destroy(&app.rt_lock);
    return ret;
}

static bool is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* `jotd CMD [SUB] --help`: the command's synopsis and the options it takes, on stdout. */
static int command_usage(const char *cmd, const command_t *spec)
{
    print_synopsis(stdout, cmd, spec ? spec->sub : NULL);
    if (spec) {
        printf("\nOptions:\n");
        jotd_config_usage(stdout, spec->keys);
    } else if (!strcmp(cmd, "serve")) {
        printf("\nOptions:\n");
        jotd_config_usage(stdout, NULL);
    } else {
        printf("\n'jotd %s SUBCOMMAND --help' lists the options of one.\n", cmd);
    }
    printf("  --config FILE                      NAME = value lines, one per option\n"
           "See jotd(8).\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(argc < 2 ? stderr : stdout);
    if (!strcmp(argv[1], "--version")) {
        printf("jotd %s\n", JOT_VERSION_STRING);
        return 0;
    }
    const char *cmd = argv[1];
    bool two_words = !strcmp(cmd, "user") || !strcmp(cmd, "client") || !strcmp(cmd, "keys") ||
                     !strcmp(cmd, "session");
    bool serve = !strcmp(cmd, "serve"), migrate = !strcmp(cmd, "migrate");
    bool init = !strcmp(cmd, "init");
    bool backup = !strcmp(cmd, "backup"), restore = !strcmp(cmd, "restore");
    if (!serve && !migrate && !init && !backup && !restore && !two_words)
        return usage(stderr);
    if (two_words && argc >= 3 && is_help(argv[2])) /* jotd user --help */
        return command_usage(cmd, NULL);
    if (two_words && argc < 3)
        return fail("'jotd %s' needs a subcommand (try jotd --help)", cmd);
    int first = two_words ? 2 : 1; /* argv[first] is the last command word */
    const command_t *spec = serve ? NULL : find_command(cmd, two_words ? argv[2] : "");
    if (two_words && !spec)
        return fail("unknown command 'jotd %s %s' (try jotd --help)", cmd, argv[2]);
    for (int i = first + 1; i < argc; i++)
        if (is_help(argv[i]))
            return command_usage(cmd, spec);
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", cmd, two_words ? " " : "", two_words ? argv[2] : "");
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0;
    char err[ERRLEN] = "out of memory";
    jotd_config_t cfg;
    jotd_config_defaults(&cfg);
    /* the command's own flags never reach the configuration parser, even when a server
     * option has the same name (client add --refresh-grace: the client's, not the server's) */
    char **cfg_argv = calloc((size_t)argc + 1, sizeof *cfg_argv);
    char **own = calloc((size_t)argc + 1, sizeof *own);
    int cfg_argc = 0, n_own = 0;
    for (int i = first; cfg_argv && own && i < argc; i++) {
        size_t len = strcspn(argv[i], "=");
        int mine = spec && i > first && !strncmp(argv[i], "--", 2)
                       ? flag_in(spec->flags, argv[i], len)
                       : 0;
        if (!mine) {
            cfg_argv[cfg_argc++] = argv[i];
            continue;
        }
        own[n_own++] = argv[i];
        if (mine == 2 && !argv[i][len] && i + 1 < argc)
            own[n_own++] = argv[++i];
    }
    jotd_rc_t lrc = !rest || !cfg_argv || !own
                        ? JOTD_E_NOMEM
                        : jotd_config_load_for(&cfg, cfg_argc, cfg_argv, rest, &n_rest,
                                               spec ? spec->keys : NULL, name, err, sizeof err);
    for (int i = 0; lrc == JOTD_OK && i < n_own; i++)
        rest[n_rest++] = own[i];
    free(cfg_argv);
    free(own);
    if (lrc != JOTD_OK) {
        free(rest);
        jotd_config_free(&cfg);
        fprintf(stderr, "jotd: %s\n", err);
        return 2;
    }
    user_opts_t o = {0};
    int ret;
    if (serve) {
        ret = n_rest ? fail("unexpected argument '%s' (try jotd --help)", rest[0])
                     : cmd_serve(&cfg, argc - first, argv + first);
    } else if (!spec || own_flags_apply(spec, rest, n_rest) != 0) {
        ret = 2;
    } else if (backup || restore) {
        if (n_rest != 1 || rest[0][0] == '-')
            ret = n_rest ? (fail("unexpected argument %.*s (try jotd %s --help)",
                                 (int)strcspn(rest[n_rest > 1 ? 1 : 0], "="),
                                 rest[n_rest > 1 ? 1 : 0], cmd),
                            2)
                         : (fail("'jotd %s' needs a file (try jotd %s --help)", cmd, cmd), 2);
        else
            ret = backup ? cmd_backup(&cfg, rest[0]) : cmd_restore(&cfg, rest[0]);
    } else if (init) {
        ret = n_rest ? (fail("unexpected argument %.*s (try jotd init --help)",
                             (int)strcspn(rest[0], "="), rest[0]),
                        2)
                     : cmd_init(&cfg);
    } else if (migrate) {
        /* the name only: "--password=..." must not echo */
        ret = n_rest ? (fail("unexpected argument %.*s (try jotd --help)",
                             (int)strcspn(rest[0], "="), rest[0]),
                        2)
                     : cmd_migrate(&cfg);
    } else if (parse_user_opts(rest, n_rest, &o) != 0) {
        ret = 2;
    } else if (!strcmp(cmd, "user")) {
        ret = cmd_user(&cfg, argv[2], &o);
    } else if (!strcmp(cmd, "client")) {
        ret = cmd_client(&cfg, argv[2], &o);
    } else if (!strcmp(cmd, "session")) {
        ret = cmd_session(&cfg, argv[2], &o);
    } else {
        ret = cmd_keys(&cfg, argv[2], &o);
    }
    free(rest);
    jotd_config_free(&cfg);
    return ret;
}
