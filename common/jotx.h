/* common/: small bounded helpers shared by libjot, jot(1) and jotd: numbers (strparse.h),
 * durations (duration.h), random identifiers (random.h), SHA-256 (sha256.h) and a capped
 * buffer (buf.h). Modelled on curl's lib/curlx: borrowed by the programs, no API promise.
 *
 * The objects are compiled into libjot's object library, so the static libjot.a that cli/,
 * server/ and the tests link carries them, while the shared libjot.so keeps them hidden
 * (-fvisibility=hidden; tests/lint/symbols.sh fails if a jotx_ symbol is ever exported).
 * Everything here is prefixed jotx_ / JOTX_. Reach the headers as "common/NAME.h". */
#ifndef JOTX_H
#define JOTX_H

/* Results of the functions of common/ that can fail in more than one way (0 is success). */
#define JOTX_OK 0
#define JOTX_ENUM (-1)    /* not a number (or not a duration): the text breaks the grammar */
#define JOTX_ERANGE (-2)  /* a well-formed number over the caller's maximum */
#define JOTX_ENOMEM (-3)  /* an allocation failed */
#define JOTX_ETOOBIG (-4) /* a buffer would grow past its cap */

#endif
