/* jot verify (--key KEYFILE | --jwks FILE) --alg ALG[,ALG...] [--iss S]... [--aud S]...
 *            [--sub S] [--typ TYP] [--leeway SECONDS] [--require CLAIM]...
 *            [--max-age SECONDS] [--allow-no-exp] [--now EPOCH] [TOKEN|-] */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    {NULL, 0, 0, 0},
};

static void help(void)
{
    fputs("Usage: jot verify (--key KEYFILE | --jwks FILE) --alg ALG[,ALG...] [options] "
          "[TOKEN|-]\n"
          "\n"
          "Verify a JWT. Valid: print its claims (JSON) and exit 0. Rejected: print\n"
          "'jot: <reason>' on stderr and exit 1. The token is read from standard input when\n"
          "TOKEN is '-' or absent (one trailing newline is ignored).\n"
          "\n"
          "  --key KEYFILE      verification key: JWK, PEM, or a JWKS (key chosen by kid)\n"
          "  --jwks FILE        key set (JWKS); the token's kid selects the key\n"
          "  --alg LIST         accepted algorithms, comma-separated or repeated (required;\n"
          "                     there is no default and 'none' is never accepted)\n"
          "  --iss S            expected issuer; repeat to accept any of several\n"
          "  --aud S            expected audience; repeat to accept any of several\n"
          "  --sub S            expected subject\n"
          "  --typ TYP          expected header typ (case-insensitive, 'application/' optional)\n"
          "  --leeway SECONDS   clock skew allowed for exp, nbf and iat (default 0, max 86400)\n"
          "  --require CLAIM    the claim must be present; repeatable\n"
          "  --max-age SECONDS  reject tokens whose iat is older (iat then required)\n"
          "  --allow-no-exp     accept tokens without exp (rejected by default)\n"
          "  --now EPOCH        use this time instead of the clock\n"
          "\n"
          "SECONDS values also accept a unit: 30s, 5m, 1h, 1d.\n",
          stdout);
}

static int64_t fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* Exit status for a failed jot_verify(): resource failures are not verdicts on the token. */
static int reject(jot_err_t rc)
{
    cli_err("%s", jot_strerror(rc));
    return rc == JOT_E_NOMEM ? CLI_USAGE : CLI_REJECTED;
}

int cmd_verify(int argc, char **argv)
{
    static const char cmd[] = "verify";
    const char *key_path = NULL, *jwks_path = NULL, *sub = NULL, *typ = NULL;
    const char *leeway_s = NULL, *max_age_s = NULL, *now_s = NULL, *token_arg = NULL;
    const char **iss = NULL, **aud = NULL, **req = NULL, **algs = NULL;
    size_t niss = 0, naud = 0, nreq = 0, nalgs = 0;
    int allow_no_exp = 0;
    int ret = CLI_USAGE;
    cli_parser_t p;
    const char *arg;
    int id;
    cli_keyfile_t kf = {NULL, NULL};
    jot_verifier_t *v = NULL;
    jot_token_t *tok = NULL;
    char *input = NULL;
    size_t input_len = 0;

    iss = calloc((size_t)argc, sizeof *iss);
    aud = calloc((size_t)argc, sizeof *aud);
    req = calloc((size_t)argc, sizeof *req);
    algs = calloc((size_t)argc, sizeof *algs);
    if (!iss || !aud || !req || !algs) {
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
            if (token_arg) {
                ret = cli_usage(cmd, "unexpected argument '%s' (one TOKEN at most)", arg);
                goto out;
            }
            token_arg = arg;
            continue;
        case OPT_ALG:
            algs[nalgs++] = arg;
            continue;
        case OPT_ISS:
            iss[niss++] = arg;
            continue;
        case OPT_AUD:
            aud[naud++] = arg;
            continue;
        case OPT_REQUIRE:
            req[nreq++] = arg;
            continue;
        case OPT_ALLOW_NO_EXP:
            allow_no_exp = 1;
            continue;
        case OPT_KEY:
            slot = &key_path;
            break;
        case OPT_JWKS:
            slot = &jwks_path;
            break;
        case OPT_SUB:
            slot = &sub;
            break;
        case OPT_TYP:
            slot = &typ;
            break;
        case OPT_LEEWAY:
            slot = &leeway_s;
            break;
        case OPT_MAX_AGE:
            slot = &max_age_s;
            break;
        case OPT_NOW:
            slot = &now_s;
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
    if (!key_path && !jwks_path) {
        ret = cli_usage(cmd, "missing --key or --jwks");
        goto out;
    }
    if (key_path && jwks_path) {
        ret = cli_usage(cmd, "--key and --jwks are mutually exclusive");
        goto out;
    }
    if (nalgs == 0) {
        ret = cli_usage(cmd, "missing --alg: the accepted algorithms must be given");
        goto out;
    }
    unsigned mask = 0;
    for (size_t i = 0; i < nalgs; i++) {
        unsigned m = 0;
        jot_err_t rc = jot_alg_mask_from_list(algs[i], &m);
        if (rc == JOT_E_ALG_NONE) {
            ret = cli_usage(cmd, "algorithm 'none' is never accepted");
            goto out;
        }
        if (rc != JOT_OK) {
            ret = cli_usage(cmd, "invalid --alg '%s': %s", algs[i], jot_strerror(rc));
            goto out;
        }
        mask |= m;
    }
    int64_t leeway = 0, max_age = 0, now = 0;
    if (leeway_s && (cli_parse_duration(leeway_s, &leeway) != 0 || leeway > 86400)) {
        ret = cli_usage(cmd, "invalid --leeway '%s' (0 to 86400 seconds)", leeway_s);
        goto out;
    }
    if (max_age_s && (cli_parse_duration(max_age_s, &max_age) != 0 || max_age == 0)) {
        ret = cli_usage(cmd, "invalid --max-age '%s' (a positive number of seconds)", max_age_s);
        goto out;
    }
    if (now_s && cli_parse_epoch(now_s, &now) != 0) {
        ret = cli_usage(cmd, "invalid --now '%s' (seconds since the epoch)", now_s);
        goto out;
    }

    int token_from_stdin = !token_arg || strcmp(token_arg, "-") == 0;
    if (!token_arg && isatty(STDIN_FILENO)) {
        ret = cli_usage(cmd, "missing TOKEN (give it as an argument, or pipe it to stdin)");
        goto out;
    }
    if (token_from_stdin && strcmp(key_path ? key_path : jwks_path, "-") == 0) {
        ret = cli_usage(cmd, "the key and the token cannot both come from stdin");
        goto out;
    }

    /* ---- key ---- */
    if (key_path ? cli_load_keyfile(key_path, 0, &kf) : cli_load_keyfile(jwks_path, 1, &kf))
        goto out;

    /* ---- token ---- */
    const char *token;
    size_t token_len;
    if (token_from_stdin) {
        if (cli_read_input("-", CLI_MAX_INPUT, &input, &input_len) != 0)
            goto out;
        token = input;
        token_len = input_len;
        /* the line terminator of `echo "$token" |`, nothing more */
        if (token_len > 0 && token[token_len - 1] == '\n') {
            token_len--;
            if (token_len > 0 && token[token_len - 1] == '\r')
                token_len--;
        }
    } else {
        token = token_arg;
        token_len = strlen(token_arg);
    }

    /* ---- policy ---- */
    jot_err_t rc = jot_verifier_new(&v);
    if (rc != JOT_OK) {
        cli_err("%s", jot_strerror(rc));
        goto out;
    }
    if (kf.key)
        jot_verifier_set_key(v, kf.key);
    else
        jot_verifier_set_keyset(v, kf.set);
    jot_verifier_set_algs(v, mask);
    if (niss == 1 && (rc = jot_verifier_set_issuer(v, iss[0])) != JOT_OK)
        goto lib_fail;
    for (size_t i = 0; i < naud; i++) {
        if ((rc = jot_verifier_add_audience(v, aud[i])) != JOT_OK)
            goto lib_fail;
    }
    if (sub && (rc = jot_verifier_set_subject(v, sub)) != JOT_OK)
        goto lib_fail;
    if (typ && (rc = jot_verifier_set_typ(v, typ)) != JOT_OK)
        goto lib_fail;
    for (size_t i = 0; i < nreq; i++) {
        if ((rc = jot_verifier_require_claim(v, req[i])) != JOT_OK)
            goto lib_fail;
    }
    /* several issuers: the library checks one; require the claim, compare below */
    if (niss > 1 && (rc = jot_verifier_require_claim(v, "iss")) != JOT_OK)
        goto lib_fail;
    jot_verifier_set_leeway(v, leeway);
    jot_verifier_set_max_age(v, max_age);
    jot_verifier_allow_no_exp(v, allow_no_exp);
    if (now_s)
        jot_verifier_set_clock(v, fixed_clock, &now);

    /* ---- verdict ---- */
    rc = jot_verify(v, token, token_len, &tok);
    if (rc != JOT_OK) {
        ret = reject(rc);
        goto out;
    }
    const jot_claims_t *claims = jot_token_claims(tok);
    if (!claims) {
        ret = reject(JOT_E_PAYLOAD);
        goto out;
    }
    if (niss > 1) {
        const char *got = NULL;
        rc = jot_claims_get_string(claims, "iss", &got);
        if (rc != JOT_OK) {
            ret = reject(rc == JOT_E_NOT_FOUND ? JOT_E_MISSING_CLAIM : rc);
            goto out;
        }
        size_t i = 0;
        while (i < niss && strcmp(iss[i], got) != 0)
            i++;
        if (i == niss) {
            ret = reject(JOT_E_ISSUER);
            goto out;
        }
    }

    char *json = NULL;
    size_t json_len = 0;
    rc = jot_claims_to_json(claims, &json, &json_len);
    if (rc != JOT_OK)
        goto lib_fail;
    ret = cli_write_line(json, json_len) == 0 ? CLI_OK : CLI_USAGE;
    jot_free(json);
    goto out;

lib_fail:
    cli_err("%s", jot_strerror(rc));
    ret = CLI_USAGE;
out:
    jot_token_free(tok);
    jot_verifier_free(v);
    cli_keyfile_free(&kf);
    cli_free_input(input, input_len);
    free(iss);
    free(aud);
    free(req);
    free(algs);
    return ret;
}
