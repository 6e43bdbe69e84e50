/* jot sign --key KEYFILE [--alg ALG] [--kid KID] [--typ TYP] [--iss S] [--sub S] [--aud S]...
 *          [--exp DURATION|--exp-at EPOCH] [--nbf-at EPOCH] [--iat-at EPOCH] [--jti auto|S]
 *          [--claim NAME=JSONVALUE]... [--claims JSON|@FILE] */
#include "cli.h"

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

static void help(void)
{
    fputs("Usage: jot sign --key KEYFILE [options]\n"
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
          "                       --claim and the options above override its members\n",
          stdout);
}

typedef struct sign_args {
    const char *key, *alg, *kid, *typ, *iss, *sub, *exp, *exp_at, *nbf_at, *iat_at, *jti;
    const char *claims;
    const char **aud;
    size_t naud;
    const char **claim;
    size_t nclaim;
} sign_args_t;

/* Build the claim set. Returns CLI_OK or CLI_USAGE (message printed). */
static int build_claims(const char *cmd, const sign_args_t *a, int64_t iat, int have_iat,
                        int64_t exp, int have_exp, int64_t nbf, int have_nbf, jot_claims_t **out)
{
    jot_claims_t *c = NULL;
    jot_err_t rc;
    int ret = CLI_USAGE;
    char *name = NULL;

    if (a->claims) {
        const char *text = a->claims;
        size_t len = strlen(text);
        char *buf = NULL;
        if (text[0] == '@') {
            if (cli_read_input(text + 1, CLI_MAX_INPUT, &buf, &len) != 0)
                return CLI_USAGE;
            text = buf;
        }
        rc = jot_claims_from_json(text, len, &c);
        cli_free_input(buf, len);
        if (rc != JOT_OK)
            return cli_usage(cmd, "--claims: %s (a JSON object is expected)", jot_strerror(rc));
    } else {
        rc = jot_claims_new(&c);
        if (rc != JOT_OK)
            goto lib_fail;
    }

    for (size_t i = 0; i < a->nclaim; i++) {
        const char *eq = strchr(a->claim[i], '=');
        if (!eq || eq == a->claim[i]) {
            cli_usage(cmd, "--claim '%s': expected NAME=JSONVALUE", a->claim[i]);
            goto out;
        }
        size_t nlen = (size_t)(eq - a->claim[i]);
        name = malloc(nlen + 1);
        if (!name) {
            rc = JOT_E_NOMEM;
            goto lib_fail;
        }
        memcpy(name, a->claim[i], nlen);
        name[nlen] = '\0';
        rc = jot_claims_set_json(c, name, eq + 1, strlen(eq + 1));
        if (rc == JOT_E_NOMEM)
            goto lib_fail;
        if (rc != JOT_OK) {
            cli_usage(cmd,
                      "--claim %s: %s (the value must be JSON: strings need quotes, "
                      "e.g. %s='\"text\"')",
                      name, jot_strerror(rc), name);
            goto out;
        }
        free(name);
        name = NULL;
    }

    if (a->iss && (rc = jot_claims_set_string(c, "iss", a->iss)) != JOT_OK)
        goto lib_fail;
    if (a->sub && (rc = jot_claims_set_string(c, "sub", a->sub)) != JOT_OK)
        goto lib_fail;
    if (a->naud == 1 && (rc = jot_claims_set_string(c, "aud", a->aud[0])) != JOT_OK)
        goto lib_fail;
    if (a->naud > 1 && (rc = jot_claims_set_strings(c, "aud", a->aud, a->naud)) != JOT_OK)
        goto lib_fail;
    if (have_iat || !jot_claims_has(c, "iat")) {
        if ((rc = jot_claims_set_int(c, "iat", iat)) != JOT_OK)
            goto lib_fail;
    }
    if (have_nbf && (rc = jot_claims_set_int(c, "nbf", nbf)) != JOT_OK)
        goto lib_fail;
    if (have_exp && (rc = jot_claims_set_int(c, "exp", exp)) != JOT_OK)
        goto lib_fail;
    if (a->jti) {
        if (strcmp(a->jti, "auto") == 0) {
            uint8_t rnd[16];
            char b64[32];
            if (cli_random(rnd, sizeof rnd) != 0)
                goto out;
            jot_b64url_encode(b64, rnd, sizeof rnd);
            rc = jot_claims_set_string(c, "jti", b64);
        } else {
            rc = jot_claims_set_string(c, "jti", a->jti);
        }
        if (rc != JOT_OK)
            goto lib_fail;
    }
    *out = c;
    return CLI_OK;

lib_fail:
    cli_err("cannot build the claims: %s", jot_strerror(rc));
out:
    free(name);
    jot_claims_free(c);
    return ret;
}

int cmd_sign(int argc, char **argv)
{
    static const char cmd[] = "sign";
    sign_args_t a;
    cli_parser_t p;
    const char *arg;
    int id;
    int ret = CLI_USAGE;
    cli_keyfile_t kf = {NULL, NULL};
    jot_claims_t *claims = NULL;

    memset(&a, 0, sizeof a);
    a.aud = calloc((size_t)argc, sizeof *a.aud);
    a.claim = calloc((size_t)argc, sizeof *a.claim);
    if (!a.aud || !a.claim) {
        cli_err("out of memory");
        goto out;
    }

    cli_parser_init(&p, cmd, opts, argc, argv);
    while ((id = cli_next(&p, &arg)) != CLI_END) {
        const char **slot = NULL;
        switch (id) {
        case CLI_HELP:
            help();
            ret = fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
            goto out;
        case CLI_ERROR:
            goto out;
        case CLI_ARG:
            ret = cli_usage(cmd, "unexpected argument '%s'", arg);
            goto out;
        case OPT_AUD:
            a.aud[a.naud++] = arg;
            continue;
        case OPT_CLAIM:
            a.claim[a.nclaim++] = arg;
            continue;
        case OPT_KEY:
            slot = &a.key;
            break;
        case OPT_ALG:
            slot = &a.alg;
            break;
        case OPT_KID:
            slot = &a.kid;
            break;
        case OPT_TYP:
            slot = &a.typ;
            break;
        case OPT_ISS:
            slot = &a.iss;
            break;
        case OPT_SUB:
            slot = &a.sub;
            break;
        case OPT_EXP:
            slot = &a.exp;
            break;
        case OPT_EXP_AT:
            slot = &a.exp_at;
            break;
        case OPT_NBF_AT:
            slot = &a.nbf_at;
            break;
        case OPT_IAT_AT:
            slot = &a.iat_at;
            break;
        case OPT_JTI:
            slot = &a.jti;
            break;
        case OPT_CLAIMS:
            slot = &a.claims;
            break;
        default:
            goto out;
        }
        if (*slot) {
            ret = cli_usage(cmd, "option '--%s' given more than once", cli_opt_name(&p, id));
            goto out;
        }
        *slot = arg;
    }

    /* ---- usage checks before any file is read ---- */
    if (!a.key) {
        ret = cli_usage(cmd, "missing --key");
        goto out;
    }
    jot_alg_t alg = JOT_ALG_UNSET;
    if (a.alg) {
        jot_err_t rc = jot_alg_from_name(a.alg, strlen(a.alg), &alg);
        if (rc == JOT_E_ALG_NONE) {
            ret = cli_usage(cmd, "algorithm 'none' is never accepted");
            goto out;
        }
        if (rc != JOT_OK) {
            ret = cli_usage(cmd, "unknown algorithm '%s'", a.alg);
            goto out;
        }
    }
    if (a.exp && a.exp_at) {
        ret = cli_usage(cmd, "--exp and --exp-at are mutually exclusive");
        goto out;
    }
    int64_t now = cli_now(), iat = now, exp = 0, nbf = 0, dur = 0;
    if (a.iat_at && cli_parse_epoch(a.iat_at, &iat) != 0) {
        ret = cli_usage(cmd, "invalid --iat-at '%s' (seconds since the epoch)", a.iat_at);
        goto out;
    }
    if (a.nbf_at && cli_parse_epoch(a.nbf_at, &nbf) != 0) {
        ret = cli_usage(cmd, "invalid --nbf-at '%s' (seconds since the epoch)", a.nbf_at);
        goto out;
    }
    if (a.exp_at && cli_parse_epoch(a.exp_at, &exp) != 0) {
        ret = cli_usage(cmd, "invalid --exp-at '%s' (seconds since the epoch)", a.exp_at);
        goto out;
    }
    if (a.exp) {
        if (cli_parse_duration(a.exp, &dur) != 0) {
            ret =
                cli_usage(cmd, "invalid --exp '%s' (a duration such as 90s, 15m, 1h, 30d)", a.exp);
            goto out;
        }
        if (dur > CLI_MAX_TIME - iat) {
            ret = cli_usage(cmd, "--exp '%s' is too far in the future", a.exp);
            goto out;
        }
        exp = iat + dur;
    }
    if (a.jti && a.jti[0] == '\0') {
        ret = cli_usage(cmd, "--jti must not be empty (use 'auto' for a random id)");
        goto out;
    }

    /* ---- key ---- */
    if (cli_load_keyfile(a.key, 0, &kf) != 0)
        goto out;
    const char *shown = strcmp(a.key, "-") == 0 ? "stdin" : a.key;
    const jot_key_t *key = kf.key;
    if (kf.set) {
        size_t n = jot_keyset_count(kf.set);
        if (a.kid && a.kid[0]) {
            key = jot_keyset_find(kf.set, a.kid, strlen(a.kid));
            if (!key) {
                cli_err("%s: no key with kid '%s' in the key set", shown, a.kid);
                goto out;
            }
        } else if (n == 1) {
            key = jot_keyset_get(kf.set, 0);
        } else {
            ret = cli_usage(cmd, "%s: the key set holds %zu keys; choose one with --kid", shown, n);
            goto out;
        }
    }
    if (!jot_key_is_private(key)) {
        cli_err("%s: a private key is needed to sign (this is a public key)", shown);
        goto out;
    }
    if (alg == JOT_ALG_UNSET)
        alg = jot_key_default_alg(key);
    jot_err_t rc = jot_key_check_alg(key, alg, 1);
    if (rc != JOT_OK) {
        cli_err("%s: cannot sign %s with this key: %s", shown, jot_alg_name(alg), jot_strerror(rc));
        goto out;
    }

    /* ---- claims ---- */
    if (build_claims(cmd, &a, iat, a.iat_at != NULL, exp, a.exp || a.exp_at, nbf, a.nbf_at != NULL,
                     &claims) != CLI_OK)
        goto out;

    jot_sign_opts_t so;
    memset(&so, 0, sizeof so);
    so.alg = alg;
    so.kid = a.kid;
    so.typ = a.typ;
    char *token = NULL;
    size_t tlen = 0;
    rc = jot_jwt_sign(key, &so, claims, &token, &tlen);
    if (rc != JOT_OK) {
        cli_err("cannot sign: %s", jot_strerror(rc));
        goto out;
    }
    ret = cli_write_line(token, tlen) == 0 ? CLI_OK : CLI_USAGE;
    jot_free(token);

out:
    jot_claims_free(claims);
    cli_keyfile_free(&kf);
    free(a.aud);
    free(a.claim);
    return ret;
}
