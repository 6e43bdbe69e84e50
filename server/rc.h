/* The one error model of jotd.
 *
 * A function that can fail for more than one reason returns jotd_rc_t: JOTD_OK (0) on
 * success, otherwise the reason. Where a person needs more than the reason (an operator
 * command, a configuration error, a file that cannot be read), the function also takes
 * `char *err, size_t errlen` and, on error, writes a NUL-terminated message there when err
 * is non-NULL. Pure predicates return bool; functions with one way to fail (a parser of
 * one value, an insert into a bounded table) return 0 or -1. Making and verifying tokens
 * keeps libjot's jot_err_t (its codes name the failed check).
 *
 * JOTD_RC_MAP(XX) is the only list of codes: XX(number, NAME, message) generates the enum,
 * jotd_rc_str() and jotd_rc_name(). Numbers are written out so that a new row can never
 * renumber the others: add rows at the end, never reuse or remove a number. Every store
 * backend (store.h) answers with these codes. */
#ifndef JOTD_RC_H
#define JOTD_RC_H

#include <stddef.h>

#define JOTD_RC_MAP(XX)                                                                            \
    XX(0, OK, "ok")                                                                                \
    XX(1, E_NOTFOUND, "not found")    /* no such user/client/token/session */                      \
    XX(2, E_EXISTS, "already exists") /* unique name or id already taken */                        \
    XX(3, E_REUSED, "refresh token reused: session revoked") /* a rotated token came back */       \
    XX(4, E_EXPIRED, "expired or revoked") /* idle-expired, past absolute lifetime, revoked */     \
    XX(5, E_DISABLED, "user disabled")                                                             \
    XX(6, E_MISMATCH, "client mismatch") /* token presented by another client */                   \
    XX(7, E_BUSY, "database busy")       /* locked/busy beyond the busy timeout */                 \
    XX(8, E_IO, "database error") /* the store or a file: read-only, disk full, corrupt... */      \
    XX(9, E_NOMEM, "out of memory")                                                                \
    XX(10, E_INVAL, "invalid argument")    /* a bad value, option or configuration */              \
    XX(11, E_MALFORMED, "malformed input") /* bad encoding, not UTF-8, bad JSON */                 \
    XX(12, E_DUPLICATE, "parameter given twice")                                                   \
    XX(13, E_TOOMANY, "too many entries") /* a list or an in-memory table is full */               \
    XX(14, E_MEDIA, "unsupported media type")                                                      \
    XX(15, E_CRYPTO, "cryptographic error") /* key generation, signing, randomness */

typedef enum jotd_rc {
#define JOTD__RC_ENUM(num, name, msg) JOTD_##name = (num),
    JOTD_RC_MAP(JOTD__RC_ENUM)
#undef JOTD__RC_ENUM
        JOTD_RC__LAST /* one past the highest code */
} jotd_rc_t;

/** Human-readable message of \p rc ("not found"). Never NULL; static storage. */
const char *jotd_rc_str(jotd_rc_t rc);
/** Symbolic name of \p rc ("JOTD_E_NOTFOUND"). Never NULL; static storage. */
const char *jotd_rc_name(jotd_rc_t rc);

/** Write the message \p fmt (printf) to \p err, \p errlen bytes, when err is non-NULL and
 *  errlen > 0: the err/errlen convention above, written once. */
void jotd_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
