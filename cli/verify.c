/* jot verify (--key KEYFILE | --jwks FILE | --jwks-url URL [--allow-http] [--ca-file F]) --alg
 * ALG[,ALG...] [--iss S]... [--aud S]...
 *            [--sub S] [--typ TYP] [--leeway SECONDS] [--require CLAIM]...
 *            [--max-age SECONDS] [--allow-no-exp] [--now EPOCH] [TOKEN|-]
 *
 * parse_args() fills a verify_args_t, check_args() refuses bad usage before any file is
 * read, build_verifier() turns the arguments into the library's policy, cmd_verify() acts. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_KEY = 1,
    OPT_JWKS,
    OPT_ALG,
    OPT_ISS,
    OPT_AUD,
    OPT_SUB,
    OPT_TYP,
    OPT_LEEWAY,
    OPT_REQUIRE,
    OPT_MAX_AGE,
    OPT_ALLOW_NO_EXP,
    OPT_NOW,
    OPT_JWKS_URL,
    OPT_ALLOW_HTTP,
    OPT_CA_FILE,
    OPT_CHECK_STATUS,
    OPT_STATUS_PREFIX,
};

static const cli_opt_t opts[] = {
    {"key", 0, 1, OPT_KEY},
    {"jwks", 0, 1, OPT_JWKS},
    {"alg", 0, 1, OPT_ALG},
    {"iss", 0, 1, OPT_ISS},
    {"aud", 0, 1, OPT_AUD},
    {"sub", 0, 1, OPT_SUB},
    {"typ", 0, 1, OPT_TYP},
    {"leeway", 0, 1, OPT_LEEWAY},
    {"require", 0, 1, OPT_REQUIRE},
    {"max-age", 0, 1, OPT_MAX_AGE},
    {"allow-no-exp", 0, 0, OPT_ALLOW_NO_EXP},
    {"now", 0, 1, OPT_NOW},
    {"jwks-url", 0, 1, OPT_JWKS_URL},
    {"allow-http", 0, 0, OPT_ALLOW_HTTP},
    {"ca-file", 0, 1, OPT_CA_FILE},
    {"check-status", 0, 0, OPT_CHECK_STATUS},
    {"status-prefix", 0, 1, OPT_STATUS_PREFIX},
    {NULL, 0, 0, 0},
};

/* JOT_MAX_LEEWAY as text, for the help */
#define TEXT_(x) #x
#define TEXT(x) TEXT_(x)
#define MAX_LEEWAY_TEXT TEXT(JOT_MAX_LEEWAY)

static const char help_text[] =
    "Usage: jot verify (--key KEYFILE | --jwks FILE | --jwks-url URL) --alg ALG[,ALG...] "
    "[options] "
    "[TOKEN|-]\n"
    "\n"
    "Verify a JWT. Valid: print its claims (JSON) and exit 0. Rejected: print\n"
    "'jot: <reason>' on stderr and exit 1. The token is read from standard input when\n"
    "TOKEN is '-' or absent (one trailing newline is ignored).\n"
    "\n"
    "  --key KEYFILE      verification key: JWK, PEM, or a JWKS (key chosen by kid)\n"
    "  --jwks FILE        key set (JWKS); the token's kid selects the key\n"
    "  --jwks-url URL     fetch the key set (JWKS) over HTTPS; the token's kid selects the\n"
    "                     key. A key set that cannot be fetched: exit 2\n"
    "  --allow-http       with --jwks-url: accept http:// to a loopback host (tests)\n"
    "  --ca-file FILE     with --jwks-url: trust these PEM CA certificates instead of the\n"
    "                     system's\n"
    "  --check-status     with --jwks-url: refuse a token whose Token Status List entry\n"
    "                     (claim status.status_list) is not 0 ('jot: token revoked'); the\n"
    "                     list must be signed by a key of the same set\n"
    "  --status-prefix P  status list URIs must begin with P (default: the origin of\n"
    "                     --jwks-url, e.g. https://auth.example.com/)\n"
    "  --alg LIST         accepted algorithms, comma-separated or repeated (required;\n"
    "                     there is no default and 'none' is never accepted)\n"
    "  --iss S            expected issuer; repeat to accept any of several\n"
    "  --aud S            expected audience; repeat to accept any of several\n"
    "  --sub S            expected subject\n"
    "  --typ TYP          expected header typ (case-insensitive, 'application/' optional)\n"
    "  --leeway SECONDS   clock skew allowed for exp, nbf and iat (default 0, max " MAX_LEEWAY_TEXT
    ")\n"
    "  --require CLAIM    the claim must be present; repeatable\n"
    "  --max-age SECONDS  reject tokens whose iat is older (iat then required)\n"
    "  --allow-no-exp     accept tokens without exp (rejected by default)\n"
    "  --now EPOCH        use this time instead of the clock\n"
    "\n"
    "SECONDS values also accept a unit: 30s, 5m, 1h, 1d.\n";

/* The command line, then what check_args() derived from it. */
typedef struct verify_args {
    const char *key, *jwks, *jwks_url, *ca_file, *status_prefix, *sub, *typ, *leeway_s, *max_age_s,
        *now_s, *token;
    const char **iss, **aud, **req, **algs; /* each with room for argc entries */
    size_t niss, naud, nreq, nalgs;
    int allow_no_exp, allow_http, check_status;
    unsigned alg_mask;
    int64_t leeway, max_age, now;
} verify_args_t;

static const char cmd[] = "verify";

/* The slot of an option that may be given once, NULL for the others. */
static const char **single_slot(verify_args_t *a, int id)
{
    switch (id) {
    case OPT_KEY:
        return &a->key;
    case OPT_JWKS:
        return &a->jwks;
    case OPT_SUB:
        return &a->sub;
    case OPT_TYP:
        return &a->typ;
    case OPT_LEEWAY:
        return &a->leeway_s;
    case OPT_MAX_AGE:
        return &a->max_age_s;
    case OPT_NOW:
        return &a->now_s;
    case OPT_JWKS_URL:
        return &a->jwks_url;
    case OPT_CA_FILE:
        return &a->ca_file;
    case OPT_STATUS_PREFIX:
        return &a->status_prefix;
    default:
        return NULL;
    }
}

/* Fill \p a from argv: ::CLI_CONTINUE, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, verify_args_t *a)
{
    cli_parser_t p;
    const char *arg;
    int id;
    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        const char **slot = single_slot(a, id);
        if (slot) {
            if (cli_set_once(&p, id, slot, arg) != 0)
                return CLI_USAGE;
            continue;
        }
        switch (id) {
        case CLI_HELP:
            return cli_print_help(help_text);
        case CLI_ARG:
            if (a->token)
                return cli_usage(cmd, "unexpected argument '%s' (one TOKEN at most)", arg);
            a->token = arg;
            break;
        case OPT_ALG:
            a->algs[a->nalgs++] = arg;
            break;
        case OPT_ISS:
            a->iss[a->niss++] = arg;
            break;
        case OPT_AUD:
            a->aud[a->naud++] = arg;
            break;
        case OPT_REQUIRE:
            a->req[a->nreq++] = arg;
            break;
        case OPT_ALLOW_NO_EXP:
            a->allow_no_exp = 1;
            break;
        case OPT_ALLOW_HTTP:
            a->allow_http = 1;
            break;
        case OPT_CHECK_STATUS:
            a->check_status = 1;
            break;
        default: /* CLI_ERROR: message printed */
            return CLI_USAGE;
        }
    }
    return CLI_CONTINUE;
}

/* --alg lists into a mask: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int parse_algs(verify_args_t *a)
{
    if (a->nalgs == 0)
        return cli_usage(cmd, "missing --alg: the accepted algorithms must be given");
    for (size_t i = 0; i < a->nalgs; i++) {
        unsigned m = 0;
        jot_err_t rc = jot_alg_mask_from_list(a->algs[i], &m);
        if (rc == JOT_E_ALG_NONE)
            return cli_usage(cmd, "algorithm 'none' is never accepted");
        if (rc != JOT_OK)
            return cli_usage(cmd, "invalid --alg '%s': %s", a->algs[i], jot_strerror(rc));
        a->alg_mask |= m;
    }
    return CLI_CONTINUE;
}

/* Usage checks, before any file is read: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int check_args(verify_args_t *a)
{
    int sources = !!a->key + !!a->jwks + !!a->jwks_url;
    if (sources == 0)
        return cli_usage(cmd, "missing --key, --jwks or --jwks-url");
    if (sources > 1)
        return cli_usage(cmd, "--key, --jwks and --jwks-url are mutually exclusive");
    if (!a->jwks_url && (a->allow_http || a->ca_file))
        return cli_usage(cmd, "--allow-http and --ca-file go with --jwks-url");
    if (!a->jwks_url && a->check_status)
        return cli_usage(cmd, "--check-status needs --jwks-url (the list is verified with it)");
    if (a->status_prefix && !a->check_status)
        return cli_usage(cmd, "--status-prefix goes with --check-status");
    if (parse_algs(a) != CLI_CONTINUE)
        return CLI_USAGE;
    if (a->leeway_s &&
        (cli_parse_duration(a->leeway_s, &a->leeway) != 0 || a->leeway > JOT_MAX_LEEWAY))
        return cli_usage(cmd, "invalid --leeway '%s' (0 to %d seconds)", a->leeway_s,
                         JOT_MAX_LEEWAY);
    if (a->max_age_s && (cli_parse_duration(a->max_age_s, &a->max_age) != 0 || a->max_age == 0))
        return cli_usage(cmd, "invalid --max-age '%s' (a positive number of seconds)",
                         a->max_age_s);
    if (a->now_s && cli_parse_epoch(a->now_s, &a->now) != 0)
        return cli_usage(cmd, "invalid --now '%s' (seconds since the epoch)", a->now_s);
    return CLI_CONTINUE;
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* The policy of \p a on the key file \p kf or the remote key set \p rk. The verifier
 * borrows kf's key, rk and a->now. */
static jot_err_t build_verifier(const verify_args_t *a, const cli_keyfile_t *kf,
                                jot_remote_keyset_t *rk, jot_status_checker_t *sc,
                                jot_verifier_t **out)
{
    jot_verifier_t *v = NULL;
    jot_err_t rc = jot_verifier_new(&v);
    if (rc != JOT_OK)
        return rc;
    if (sc)
        jot_verifier_set_status_checker(v, sc);
    if (rk)
        jot_verifier_set_remote_keyset(v, rk);
    else if (kf->key)
        jot_verifier_set_key(v, kf->key);
    else
        jot_verifier_set_keyset(v, kf->set);
    jot_verifier_set_algs(v, a->alg_mask);
    for (size_t i = 0; rc == JOT_OK && i < a->niss; i++)
        rc = jot_verifier_add_issuer(v, a->iss[i]);
    for (size_t i = 0; rc == JOT_OK && i < a->naud; i++)
        rc = jot_verifier_add_audience(v, a->aud[i]);
    if (rc == JOT_OK && a->sub)
        rc = jot_verifier_set_subject(v, a->sub);
    if (rc == JOT_OK && a->typ)
        rc = jot_verifier_set_typ(v, a->typ);
    for (size_t i = 0; rc == JOT_OK && i < a->nreq; i++)
        rc = jot_verifier_require_claim(v, a->req[i]);
    jot_verifier_set_leeway(v, a->leeway);
    jot_verifier_set_max_age(v, a->max_age);
    jot_verifier_allow_no_exp(v, a->allow_no_exp);
    if (a->now_s)
        jot_verifier_set_clock(v, fixed_clock, (void *)&a->now);
    if (rc != JOT_OK) {
        jot_verifier_free(v);
        return rc;
    }
    *out = v;
    return JOT_OK;
}

/* Print the reason a token was rejected, naming the claim at fault unless the message
 * already does ("token has no expiry (exp)"). Header parameters are not named: the messages
 * of alg, typ and crit failures say which they are. The names come from the library or our
 * own --require options, never from the token. Resource failures are not verdicts on the
 * token: exit 2 for those. */
static int reject(jot_err_t rc, const jot_verify_detail_t *d)
{
    const char *msg = jot_strerror(rc);
    char named[JOT_DETAIL_NAME_MAX + 4];
    snprintf(named, sizeof named, "(%s)", d->name);
    size_t ml = strlen(msg), nl = strlen(named);
    if (d->name[0] && !d->in_header && !(ml >= nl && strcmp(msg + ml - nl, named) == 0))
        cli_err("%s (%s)", msg, d->name);
    else
        cli_err("%s", msg);
    /* no key set to judge the token with is not a verdict on it either */
    return rc == JOT_E_NOMEM || rc == JOT_E_FETCH || rc == JOT_E_STALE ? CLI_USAGE : CLI_REJECTED;
}

/* A status list that could not be used: its reason too. A list that is invalid, or a URI
 * not allowed, rejects the token (exit 1); one that cannot be fetched is no verdict (2). */
static int reject_status(jot_err_t rc, jot_status_checker_t *sc)
{
    char msg[200];
    jot_status_checker_errmsg(sc, msg, sizeof msg);
    if (msg[0])
        cli_err("%s: %s", jot_strerror(rc), msg);
    else
        cli_err("%s", jot_strerror(rc));
    return rc == JOT_E_FETCH || rc == JOT_E_STALE || rc == JOT_E_NOMEM ? CLI_USAGE : CLI_REJECTED;
}

/* Verify the token and print its claims: the exit status. */
static int verify_and_print(const jot_verifier_t *v, jot_status_checker_t *sc, const cli_token_t *t)
{
    jot_token_t *tok = NULL;
    jot_verify_detail_t detail;
    jot_err_t rc = jot_verify_ex(v, t->text, t->len, &tok, &detail);
    if (sc && (rc == JOT_E_STATUS_LIST || rc == JOT_E_STATUS_URI || rc == JOT_E_FETCH ||
               rc == JOT_E_STALE))
        return reject_status(rc, sc);
    if (rc != JOT_OK)
        return reject(rc, &detail);
    const jot_claims_t *claims = jot_token_claims(tok);
    if (!claims) {
        jot_token_free(tok);
        return reject(JOT_E_PAYLOAD, &detail);
    }
    char *json = NULL;
    size_t json_len = 0;
    rc = jot_claims_to_json(claims, &json, &json_len);
    jot_token_free(tok);
    if (rc != JOT_OK) {
        cli_err("%s", jot_strerror(rc));
        return CLI_USAGE;
    }
    int ret = cli_write_line(json, json_len) == 0 ? CLI_OK : CLI_USAGE;
    jot_free(json);
    return ret;
}

/* The remote key set of --jwks-url, fetched once now so that a server that cannot give it
 * is told apart from a token that fails (exit 2, with the reason). NULL on failure
 * (message printed). */
static jot_remote_keyset_t *fetch_keyset(const verify_args_t *a)
{
    jot_remote_opts_t o;
    jot_remote_opts_init(&o);
    o.allow_http = a->allow_http;
    o.ca_file = a->ca_file;
    jot_remote_keyset_t *rk = NULL;
    jot_err_t rc = jot_remote_keyset_new(a->jwks_url, &o, &rk);
    if (rc == JOT_E_INVAL) {
        cli_usage(cmd,
                  "--jwks-url '%s' refused: https only (http only to a loopback host, "
                  "with --allow-http)",
                  a->jwks_url);
        return NULL;
    }
    if (rc == JOT_E_UNSUPPORTED) {
        cli_err("--jwks-url: jot was built without libcurl");
        return NULL;
    }
    if (rc == JOT_OK && (rc = jot_remote_keyset_refresh(rk)) != JOT_OK) {
        char msg[200];
        jot_remote_keyset_errmsg(rk, msg, sizeof msg);
        cli_err("cannot fetch the key set: %s", msg[0] ? msg : jot_strerror(rc));
        jot_remote_keyset_free(rk);
        return NULL;
    }
    if (rc != JOT_OK)
        cli_err("%s", jot_strerror(rc));
    return rc == JOT_OK ? rk : NULL;
}

/* The status checker of --check-status: lists under --status-prefix (default: the origin
 * of --jwks-url), verified with \p rk under --alg. NULL on failure (message printed). */
static jot_status_checker_t *make_status_checker(const verify_args_t *a, jot_remote_keyset_t *rk)
{
    char origin[1024];
    const char *prefix = a->status_prefix;
    if (!prefix) {
        const char *sep = strstr(a->jwks_url, "://");
        const char *slash = sep ? strchr(sep + 3, '/') : NULL;
        size_t n = slash ? (size_t)(slash - a->jwks_url) : strlen(a->jwks_url);
        if (n + 2 > sizeof origin) {
            cli_usage(cmd, "--jwks-url too long");
            return NULL;
        }
        memcpy(origin, a->jwks_url, n);
        memcpy(origin + n, "/", 2);
        prefix = origin;
    }
    jot_status_opts_t o;
    jot_status_opts_init(&o);
    o.fetch.allow_http = a->allow_http;
    o.fetch.ca_file = a->ca_file;
    o.uri_prefix = prefix;
    o.alg_mask = a->alg_mask;
    jot_status_checker_t *sc = NULL;
    jot_err_t rc = jot_status_checker_new(&o, NULL, rk, &sc);
    if (rc == JOT_E_INVAL)
        cli_usage(cmd,
                  "--status-prefix '%s' refused: an https URL (http to loopback with "
                  "--allow-http)",
                  prefix);
    else if (rc != JOT_OK)
        cli_err("%s", jot_strerror(rc));
    return rc == JOT_OK ? sc : NULL;
}

/* Read the token and the key, build the policy, verify: the exit status. */
static int run(const verify_args_t *a)
{
    const char *key_path = a->key ? a->key : a->jwks;
    cli_token_t token;
    cli_keyfile_t kf = {NULL, NULL};
    jot_verifier_t *v = NULL;
    jot_remote_keyset_t *rk = NULL;
    jot_status_checker_t *sc = NULL;
    if (!key_path && !a->jwks_url)
        return CLI_USAGE; /* refused by check_args() */
    int ret = cli_read_token(cmd, a->token, &token);
    if (ret != 0)
        return ret;
    ret = CLI_USAGE;
    if (key_path && cli_token_from_stdin(a->token) && strcmp(key_path, "-") == 0) {
        cli_usage(cmd, "the key and the token cannot both come from stdin");
    } else if (key_path ? cli_load_keyfile(key_path, a->jwks != NULL, &kf) == 0
                        : (rk = fetch_keyset(a)) != NULL &&
                              (!a->check_status || (sc = make_status_checker(a, rk)))) {
        jot_err_t rc = build_verifier(a, &kf, rk, sc, &v);
        if (rc == JOT_OK)
            ret = verify_and_print(v, sc, &token);
        else
            cli_err("%s", jot_strerror(rc));
    }
    jot_verifier_free(v);
    jot_status_checker_free(sc);
    jot_remote_keyset_free(rk);
    cli_keyfile_free(&kf);
    cli_token_free(&token);
    return ret;
}

int cmd_verify(int argc, char **argv)
{
    verify_args_t a;
    memset(&a, 0, sizeof a);
    a.iss = calloc((size_t)argc, sizeof *a.iss);
    a.aud = calloc((size_t)argc, sizeof *a.aud);
    a.req = calloc((size_t)argc, sizeof *a.req);
    a.algs = calloc((size_t)argc, sizeof *a.algs);
    int ret;
    if (!a.iss || !a.aud || !a.req || !a.algs) {
        cli_err("out of memory");
        ret = CLI_USAGE;
    } else if ((ret = parse_args(argc, argv, &a)) == CLI_CONTINUE &&
               (ret = check_args(&a)) == CLI_CONTINUE) {
        ret = run(&a);
    }
    free(a.iss);
    free(a.aud);
    free(a.req);
    free(a.algs);
    return ret;
}
