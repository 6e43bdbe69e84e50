/* jot(1): helpers shared by the subcommands. Built only on the public API (jot/jot.h). */
#ifndef JOT_CLI_H
#define JOT_CLI_H

#include "jot/jot.h"

#include <stddef.h>
#include <stdint.h>

/* Exit statuses of contract 1. */
#define CLI_OK 0       /* success, token valid */
#define CLI_REJECTED 1 /* token rejected (verification or decoding failed) */
#define CLI_USAGE 2    /* usage error, unreadable or invalid input or key */
/* Not an exit status: a step of a command succeeded and the command goes on. */
#define CLI_CONTINUE (-1)

/* Largest file or stdin input read, in bytes. */
#define CLI_MAX_INPUT (1024u * 1024u)
/* Largest epoch or duration accepted: 9999-12-31T23:59:59Z. */
#define CLI_MAX_TIME INT64_C(253402300799)

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* ---- subcommands: each returns an exit status ----------------------------------------- */
int cmd_keygen(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_thumbprint(int argc, char **argv);

/* ---- messages ------------------------------------------------------------------------- */
/** Print "jot: <message>" and a newline on stderr. */
void cli_err(const char *fmt, ...) CLI_PRINTF(1, 2);
/** Print "jot: <message> (see 'jot <cmd> --help')" on stderr; return ::CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- option parsing ------------------------------------------------------------------- */
/* Special results of cli_next(). Option ids chosen by the caller must be > 0. */
#define CLI_END 0
#define CLI_ARG (-1)   /* a positional argument in *out_arg */
#define CLI_ERROR (-2) /* message printed; exit with CLI_USAGE */
#define CLI_HELP (-3)  /* --help or -h */

typedef struct cli_opt {
    const char *name; /* long name, without the leading "--" */
    char short_name;  /* single-letter alias ("-o"), or 0 */
    int has_arg;      /* 1: takes a value ("--x v" or "--x=v"; "-o v" or "-ov") */
    int id;           /* > 0, returned by cli_next() */
} cli_opt_t;

typedef struct cli_parser {
    const char *cmd;       /* subcommand name, for messages */
    const cli_opt_t *opts; /* terminated by an entry with name == NULL */
    int argc;
    char **argv;
    int i;         /* next argv index */
    int only_args; /* after "--" */
} cli_parser_t;

/** Start parsing argv[1..argc-1] (argv[0] is the subcommand name). */
void cli_parser_init(cli_parser_t *p, const char *cmd, const cli_opt_t *opts, int argc,
                     char **argv);
/** Next option id, ::CLI_ARG, ::CLI_HELP, ::CLI_END or ::CLI_ERROR. \p out_arg receives the
 *  option value or the positional argument (borrowed from argv). */
int cli_next(cli_parser_t *p, const char **out_arg);
/** "--name" of option \p id, for messages. */
const char *cli_opt_name(const cli_parser_t *p, int id);
/** Store \p arg in \p *slot, refusing an option given twice. 0 on success; else prints the
 *  usage message and returns ::CLI_USAGE. */
int cli_set_once(const cli_parser_t *p, int id, const char **slot, const char *arg);
/** Print a command's --help text on stdout; the exit status (::CLI_OK unless stdout fails). */
int cli_print_help(const char *text);
/** The whole argv of a command that takes no option but --help and at most one operand:
 *  *out is the operand (borrowed from argv) or NULL. A second operand is a usage error whose
 *  message ends with \p extra (may be ""). ::CLI_CONTINUE, or the exit status (help, usage). */
int cli_one_operand(const char *cmd, const cli_opt_t *opts, const char *help_text,
                    const char *extra, int argc, char **argv, const char **out);

/* ---- numbers and times ---------------------------------------------------------------- */
/** Strict decimal: digits only, no sign or space, value <= \p max. 0 on success, -1 else. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/** Epoch seconds 0..::CLI_MAX_TIME. 0 on success, -1 else. */
int cli_parse_epoch(const char *s, int64_t *out);
/** Duration in seconds: the grammar of common/duration.h (N, Ns, Nm, Nh, Nd or Nw), at most
 *  JOTX_DURATION_MAX (= ::CLI_MAX_TIME) seconds. 0 on success, -1 else. */
int cli_parse_duration(const char *s, int64_t *out);
/** Current time in seconds since the epoch. */
int64_t cli_now(void);
/** Format \p t as "YYYY-MM-DDTHH:MM:SSZ" into \p buf (>= 32 bytes). 0 on success. */
int cli_format_utc(int64_t t, char *buf, size_t size);

/* ---- input and output ----------------------------------------------------------------- */
/** Read a whole file ("-" = stdin), at most \p cap bytes. The buffer is NUL-terminated and
 *  must be released with cli_free_input(). On failure prints "jot: <path>: <reason>" and
 *  returns -1. */
int cli_read_input(const char *path, size_t cap, char **out_buf, size_t *out_len);
/** Wipe and free a buffer from cli_read_input(). NULL is a no-op. */
void cli_free_input(char *buf, size_t len);
/** "stdin" for "-", else \p path: how a path is named in messages. */
const char *cli_display_path(const char *path);

/** A TOKEN operand: the argument itself, or what standard input held. */
typedef struct cli_token {
    const char *text; /* borrowed from argv, or inside buf; not NUL-terminated for stdin */
    size_t len;
    char *buf; /* the stdin input (owned), NULL for an argument */
    size_t buf_len;
} cli_token_t;

/** 1 when the TOKEN operand \p arg (NULL when absent) means standard input: absent or "-". */
int cli_token_from_stdin(const char *arg);
/** Read the TOKEN operand of \p cmd: \p arg, or standard input when it is absent or "-",
 *  without one trailing line terminator ("\n" or "\r\n", as `echo "$t" |` adds). No operand
 *  with a terminal on stdin is a usage error. 0 on success (release with cli_token_free());
 *  else the message is printed and the exit status (::CLI_USAGE) returned. */
int cli_read_token(const char *cmd, const char *arg, cli_token_t *out);
/** Wipe and free what cli_read_token() read. */
void cli_token_free(cli_token_t *t);
/** Create \p path (it must not exist) with mode 0600 and write \p data to it. On failure
 *  prints "jot: <path>: <reason>", removes a partly written file and returns -1. */
int cli_write_new_file(const char *path, const char *data, size_t len);
/** Write \p len bytes and a newline to stdout and flush. 0 on success, -1 (message printed). */
int cli_write_line(const char *data, size_t len);

/* ---- keys ----------------------------------------------------------------------------- */
/** A key file: one key, or a key set (JWKS). Exactly one of the two is non-NULL. */
typedef struct cli_keyfile {
    jot_key_t *key;
    jot_keyset_t *set;
} cli_keyfile_t;

/** Load a JWK, JWKS or PEM key file ("-" = stdin). \p want_set: 1 requires a JWKS. On
 *  failure prints "jot: <path>: <reason>" and returns -1. */
int cli_load_keyfile(const char *path, int want_set, cli_keyfile_t *out);
void cli_keyfile_free(cli_keyfile_t *kf);
/** Call \p fn on the file's key, or on each key of its set in order, while it returns
 *  ::CLI_OK; the first other status is returned. */
int cli_keyfile_each(const cli_keyfile_t *kf, int (*fn)(const jot_key_t *key, void *ctx),
                     void *ctx);

/* ---- JSON display --------------------------------------------------------------------- */
/** Pretty-print JSON text (already validated) with 2-space indentation and a final newline
 *  to stdout. C1 control characters inside strings are shown escaped. */
void cli_print_json_pretty(const char *s, size_t n);

#endif
