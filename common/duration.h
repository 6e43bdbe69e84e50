/* common/ (jotx.h): the one duration grammar of jot(1) and jotd.
 *
 * A DURATION is a non-negative decimal number (strparse.h: digits only, leading zeros
 * allowed) followed by at most one unit:
 *
 *     s  seconds (also the meaning of a bare number)     "90s" = "90" = 90
 *     m  minutes                                         "15m" = 900
 *     h  hours                                           "1h"  = 3600
 *     d  days                                            "30d" = 2592000
 *     w  weeks                                           "2w"  = 1209600
 *
 * Units are lower case. Refused: "" and a unit alone ("h"), signs ("-1s", "+1s"), spaces
 * anywhere, fractions ("1.5h"), several units ("1h30m", "1hh"), other suffixes ("15M",
 * "1y"), and any value over the caller's maximum once in seconds. jot(1) and jotd both pass
 * ::JOTX_DURATION_MAX (docs/man/jot.1 "Times" and docs/jotd.md "Options" state this grammar
 * for users; keep the three in step). */
#ifndef JOTX_DURATION_H
#define JOTX_DURATION_H

#include "common/jotx.h"

#include <stdint.h>

/** The largest duration jot(1) and jotd take, in seconds: 253402300799, the epoch of
 *  9999-12-31T23:59:59Z (the same bound as jot(1)'s EPOCH values). */
#define JOTX_DURATION_MAX INT64_C(253402300799)

/** Parse the NUL-terminated duration \p s (grammar above) into seconds, at most \p max
 *  (a negative \p max refuses everything).
 *  \return JOTX_OK with \p *out set; JOTX_ENUM when \p s does not follow the
 *          grammar (NULL included); JOTX_ERANGE when it does but is over \p max. \p *out is
 *          written only on success. */
int jotx_parse_duration(const char *s, int64_t max, int64_t *out);

#endif
