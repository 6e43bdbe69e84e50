/* jot sign --key KEYFILE [--alg ALG] [--kid KID] [--typ TYP] [--iss S] [--sub S] [--aud S]...
 *          [--exp DURATION|--exp-at EPOCH] [--nbf-at EPOCH] [--iat-at EPOCH] [--jti auto|S]
 *          [--claim NAME=JSONVALUE]... [--claims JSON|@FILE] */
#include "cli.h"
#include "common/random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_KEY = 1,
    OPT_ALG,
    OPT_KID,
    OPT_TYP,
    OPT_ISS,
    OPT_SUB,
    OPT_AUD,
    OPT_EXP,
    OPT_EXP_AT,
    OPT_NBF_AT,
    OPT_IAT_AT,
    OPT_JTI,
    OPT_CLAIM,
    OPT_CLAIMS,
};

static const cli_opt_t opts[] = {
    {"key", 0, 1, OPT_KEY},       {"alg", 0, 1, OPT_ALG},       {"kid", 0, 1, OPT_KID},
    {"typ", 0, 1, OPT_TYP},       {"iss", 0, 1, OPT_ISS},       {"sub", 0, 1, OPT_SUB},
    {"aud", 0, 1, OPT_AUD},       {"exp", 0, 1, OPT_EXP},       {"exp-at", 0, 1, OPT_EXP_AT},
    {"nbf-at", 0, 1, OPT_NBF_AT}, {"iat-at", 0, 1, OPT_IAT_AT}, {"jti", 0, 1, OPT_JTI},
    {"claim", 0, 1, OPT_CLAIM},   {"claims", 0, 1, OPT_CLAIMS}, {NULL, 0, 0, 0},
};

static const char help_text[] =
    "Usage: jot sign --key KEYFILE [options]\n"
    "\n"
    "Issue a signed JWT (compact JWS) and print it followed by a newline.\n"
    "\n"
    "  --key KEYFILE        private key: JWK, JWKS or PEM ('-' = standard input)\n"
    "  --alg ALG            algorithm (default: the key's \"alg\", or its type's default)\n"
    "  --kid KID            header kid; with a JWKS also selects the key\n"
    "                       (default: the key's kid; '' omits it)\n"
    "  --typ TYP            header typ (default JWT; '' omits it)\n"
    "  --iss S              issuer claim\n"
    "  --sub S              subject claim\n"
    "  --aud S              audience; repeat for several (then an array)\n"
    "  --exp DURATION       expiry relative to iat: 90s, 15m, 1h, 30d, 2w (bare number:\n"
    "                       seconds). Without --exp or --exp-at the token has no exp\n"
    "  --exp-at EPOCH       absolute expiry, seconds since 1970-01-01T00:00:00Z\n"
    "  --nbf-at EPOCH       not-before time\n"
    "  --iat-at EPOCH       issued-at time (default: now; iat is always included)\n"
    "  --jti auto|S         token id; 'auto' = 16 random bytes, base64url\n"
    "  --claim NAME=JSON    add a claim whose value is strict JSON, e.g. roles='[\"a\"]',\n"
    "                       n=5, ok=true, name='\"text\"'; repeatable\n"
    "  --claims JSON|@FILE  a JSON object of claims, applied first ('@-' = stdin);\n"
    "                       --claim and the options above override its members\n";

/* The command line, then what check_args() derived from it. */
typedef struct sign_args {
    const char *key, *alg, *kid, *typ, *iss, *sub, *exp, *exp_at, *nbf_at, *iat_at, *jti;
    const char *claims;
    const char **aud; /* room for argc entries */
    size_t naud;
    const char **claim; /* room for argc entries */
    size_t nclaim;
    jot_alg_t alg_id; /* JOT_ALG_UNSET: the key's default */
    int64_t iat, exp_time, nbf;
} sign_args_t;

static const char cmd[] = "sign";

/* The slot of an option that may be given once, NULL for the others. */
static const char **single_slot(sign_args_t *a, int id)
{
    switch (id) {
    case OPT_KEY:
        return &a->key;
    case OPT_ALG:
        return &a->alg;
    case OPT_KID:
        return &a->kid;
    case OPT_TYP:
        return &a->typ;
    case OPT_ISS:
        return &a->iss;
    case OPT_SUB:
        return &a->sub;
    case OPT_EXP:
        return &a->exp;
    case OPT_EXP_AT:
        return &a->exp_at;
    case OPT_NBF_AT:
        return &a->nbf_at;
    case OPT_IAT_AT:
        return &a->iat_at;
    case OPT_JTI:
        return &a->jti;
    case OPT_CLAIMS:
        return &a->claims;
    default:
        return NULL;
    }
}

/* Fill \p a from argv: ::CLI_CONTINUE, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, sign_args_t *a)
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
            return cli_usage(cmd, "unexpected argument '%s'", arg);
        case OPT_AUD:
            a->aud[a->naud++] = arg;
            break;
        case OPT_CLAIM:
            a->claim[a->nclaim++] = arg;
            break;
        default: /* CLI_ERROR: message printed */
            return CLI_USAGE;
        }
    }
    return CLI_CONTINUE;
}

/* --iat-at, --nbf-at, --exp-at, --exp: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int check_times(sign_args_t *a)
{
    if (a->exp && a->exp_at)
        return cli_usage(cmd, "--exp and --exp-at are mutually exclusive");
    a->iat = cli_now();
    if (a->iat_at && cli_parse_epoch(a->iat_at, &a->iat) != 0)
        return cli_usage(cmd, "invalid --iat-at '%s' (seconds since the epoch)", a->iat_at);
    if (a->nbf_at && cli_parse_epoch(a->nbf_at, &a->nbf) != 0)
        return cli_usage(cmd, "invalid --nbf-at '%s' (seconds since the epoch)", a->nbf_at);
    if (a->exp_at && cli_parse_epoch(a->exp_at, &a->exp_time) != 0)
        return cli_usage(cmd, "invalid --exp-at '%s' (seconds since the epoch)", a->exp_at);
    if (a->exp) {
        int64_t dur = 0;
        if (cli_parse_duration(a->exp, &dur) != 0)
            return cli_usage(cmd, "invalid --exp '%s' (a duration such as 90s, 15m, 1h, 30d)",
                             a->exp);
        if (dur > CLI_MAX_TIME - a->iat)
            return cli_usage(cmd, "--exp '%s' is too far in the future", a->exp);
        a->exp_time = a->iat + dur;
    }
    return CLI_CONTINUE;
}

/* Usage checks, before any file is read: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int check_args(sign_args_t *a)
{
    if (!a->key)
        return cli_usage(cmd, "missing --key");
    if (a->alg) {
        jot_err_t rc = jot_alg_from_name(a->alg, strlen(a->alg), &a->alg_id);
        if (rc == JOT_E_ALG_NONE)
            return cli_usage(cmd, "algorithm 'none' is never accepted");
        if (rc != JOT_OK)
            return cli_usage(cmd, "unknown algorithm '%s'", a->alg);
    }
    if (check_times(a) != CLI_CONTINUE)
        return CLI_USAGE;
    if (a->jti && a->jti[0] == '\0')
        return cli_usage(cmd, "--jti must not be empty (use 'auto' for a random id)");
    return CLI_CONTINUE;
}

/* The signing key of the file (a set: the one --kid names, or its only key), checked to be
 * private and to suit the algorithm (a->alg_id is set to the key's default if unset).
 * ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int choose_key(sign_args_t *a, const cli_keyfile_t *kf, const jot_key_t **out)
{
    const char *shown = cli_display_path(a->key);
    const jot_key_t *key = kf->key;
    if (kf->set) {
        size_t n = jot_keyset_count(kf->set);
        if (a->kid && a->kid[0]) {
            key = jot_keyset_find(kf->set, a->kid, strlen(a->kid));
            if (!key) {
                cli_err("%s: no key with kid '%s' in the key set", shown, a->kid);
                return CLI_USAGE;
            }
        } else if (n == 1) {
            key = jot_keyset_get(kf->set, 0);
        } else {
            return cli_usage(cmd, "%s: the key set holds %zu keys; choose one with --kid", shown,
                             n);
        }
    }
    if (!jot_key_is_private(key)) {
        cli_err("%s: a private key is needed to sign (this is a public key)", shown);
        return CLI_USAGE;
    }
    if (a->alg_id == JOT_ALG_UNSET)
        a->alg_id = jot_key_default_alg(key);
    jot_err_t rc = jot_key_check_alg(key, a->alg_id, 1);
    if (rc != JOT_OK) {
        cli_err("%s: cannot sign %s with this key: %s", shown, jot_alg_name(a->alg_id),
                jot_strerror(rc));
        return CLI_USAGE;
    }
    *out = key;
    return CLI_CONTINUE;
}

/* The claims of --claims, or none: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int base_claims(const sign_args_t *a, jot_claims_t **out)
{
    jot_err_t rc;
    if (!a->claims) {
        rc = jot_claims_new(out);
        if (rc != JOT_OK)
            cli_err("cannot build the claims: %s", jot_strerror(rc));
        return rc == JOT_OK ? CLI_CONTINUE : CLI_USAGE;
    }
    const char *text = a->claims;
    size_t len = strlen(text);
    char *buf = NULL;
    if (text[0] == '@') {
        if (cli_read_input(text + 1, CLI_MAX_INPUT, &buf, &len) != 0)
            return CLI_USAGE;
        text = buf;
    }
    rc = jot_claims_from_json(text, len, out);
    cli_free_input(buf, len);
    if (rc != JOT_OK)
        return cli_usage(cmd, "--claims: %s (a JSON object is expected)", jot_strerror(rc));
    return CLI_CONTINUE;
}

/* One --claim NAME=JSONVALUE into \p c: ::CLI_CONTINUE or ::CLI_USAGE (message printed). */
static int add_claim_opt(jot_claims_t *c, const char *opt)
{
    const char *eq = strchr(opt, '=');
    if (!eq || eq == opt)
        return cli_usage(cmd, "--claim '%s': expected NAME=JSONVALUE", opt);
    size_t nlen = (size_t)(eq - opt);
    char *name = malloc(nlen + 1);
    if (!name) {
        cli_err("cannot build the claims: %s", jot_strerror(JOT_E_NOMEM));
        return CLI_USAGE;
    }
    memcpy(name, opt, nlen);
    name[nlen] = '\0';
    jot_err_t rc = jot_claims_set_json(c, name, eq + 1, strlen(eq + 1));
    if (rc == JOT_E_NOMEM)
        cli_err("cannot build the claims: %s", jot_strerror(rc));
    else if (rc != JOT_OK)
        cli_usage(cmd,
                  "--claim %s: %s (the value must be JSON: strings need quotes, "
                  "e.g. %s='\"text\"')",
                  name, jot_strerror(rc), name);
    free(name);
    return rc == JOT_OK ? CLI_CONTINUE : CLI_USAGE;
}

/* --jti: the given id, or 16 random bytes for "auto". */
static jot_err_t set_jti(jot_claims_t *c, const char *jti, int *random_failed)
{
    if (strcmp(jti, "auto") != 0)
        return jot_claims_set_string(c, "jti", jti);
    char b64[32];
    if (jotx_random_b64url(b64, sizeof b64, 16) < 0) {
        cli_err("--jti auto: no random bytes from the system");
        *random_failed = 1;
        return JOT_OK;
    }
    return jot_claims_set_string(c, "jti", b64);
}

/* The claims the options set, over --claims and --claim: ::CLI_CONTINUE or ::CLI_USAGE. */
static int set_registered(const sign_args_t *a, jot_claims_t *c)
{
    jot_err_t rc = JOT_OK;
    int random_failed = 0;
    if (a->iss)
        rc = jot_claims_set_string(c, "iss", a->iss);
    if (rc == JOT_OK && a->sub)
        rc = jot_claims_set_string(c, "sub", a->sub);
    if (rc == JOT_OK && a->naud == 1)
        rc = jot_claims_set_string(c, "aud", a->aud[0]);
    if (rc == JOT_OK && a->naud > 1)
        rc = jot_claims_set_strings(c, "aud", a->aud, a->naud);
    if (rc == JOT_OK && (a->iat_at || !jot_claims_has(c, "iat")))
        rc = jot_claims_set_int(c, "iat", a->iat);
    if (rc == JOT_OK && a->nbf_at)
        rc = jot_claims_set_int(c, "nbf", a->nbf);
    if (rc == JOT_OK && (a->exp || a->exp_at))
        rc = jot_claims_set_int(c, "exp", a->exp_time);
    if (rc == JOT_OK && a->jti)
        rc = set_jti(c, a->jti, &random_failed);
    if (rc != JOT_OK)
        cli_err("cannot build the claims: %s", jot_strerror(rc));
    return rc == JOT_OK && !random_failed ? CLI_CONTINUE : CLI_USAGE;
}

/* The claim set: --claims, then each --claim, then the other options. */
static int build_claims(const sign_args_t *a, jot_claims_t **out)
{
    jot_claims_t *c = NULL;
    if (base_claims(a, &c) != CLI_CONTINUE)
        return CLI_USAGE;
    int ret = CLI_CONTINUE;
    for (size_t i = 0; ret == CLI_CONTINUE && i < a->nclaim; i++)
        ret = add_claim_opt(c, a->claim[i]);
    if (ret == CLI_CONTINUE)
        ret = set_registered(a, c);
    if (ret != CLI_CONTINUE) {
        jot_claims_free(c);
        return ret;
    }
    *out = c;
    return CLI_CONTINUE;
}

/* Load the key, build the claims, sign and print: the exit status. */
static int run(sign_args_t *a)
{
    cli_keyfile_t kf = {NULL, NULL};
    jot_claims_t *claims = NULL;
    const jot_key_t *key = NULL;
    int ret = CLI_USAGE;
    if (cli_load_keyfile(a->key, 0, &kf) == 0 && choose_key(a, &kf, &key) == CLI_CONTINUE &&
        build_claims(a, &claims) == CLI_CONTINUE) {
        jot_sign_opts_t so = {0};
        so.alg = a->alg_id;
        so.kid = a->kid;
        so.typ = a->typ;
        char *token = NULL;
        size_t tlen = 0;
        jot_err_t rc = jot_jwt_sign(key, &so, claims, &token, &tlen);
        if (rc != JOT_OK)
            cli_err("cannot sign: %s", jot_strerror(rc));
        else
            ret = cli_write_line(token, tlen) == 0 ? CLI_OK : CLI_USAGE;
        jot_free(token);
    }
    jot_claims_free(claims);
    cli_keyfile_free(&kf);
    return ret;
}

int cmd_sign(int argc, char **argv)
{
    sign_args_t a;
    memset(&a, 0, sizeof a);
    a.aud = calloc((size_t)argc, sizeof *a.aud);
    a.claim = calloc((size_t)argc, sizeof *a.claim);
    int ret;
    if (!a.aud || !a.claim) {
        cli_err("out of memory");
        ret = CLI_USAGE;
    } else if ((ret = parse_args(argc, argv, &a)) == CLI_CONTINUE &&
               (ret = check_args(&a)) == CLI_CONTINUE) {
        ret = run(&a);
    }
    free(a.aud);
    free(a.claim);
    return ret;
}
