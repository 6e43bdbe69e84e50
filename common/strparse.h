/* common/ (jotx.h): decimal numbers.
 * The one grammar for an unsigned decimal in cli/ and server/: ASCII
 * digits only (no sign, no space, no "0x", no locale), at least one, leading zeros allowed
 * ("007" is 7; a caller that refuses them checks the first two characters itself), value at
 * most the caller's \p max (checked before any arithmetic can overflow). */
#ifndef JOTX_STRPARSE_H
#define JOTX_STRPARSE_H

#include "common/jotx.h"

#include <stdint.h>

/** Read the decimal number at \p *p (up to \p end, exclusive) into \p *out.
 *  The digits run until the first non-digit or \p end; what follows is the caller's.
 *  \return JOTX_OK: \p *out set, \p *p advanced past the digits. JOTX_ENUM: no digit at
 *          \p *p. JOTX_ERANGE: the digits make a value > \p max. On failure neither \p *p
 *          nor \p *out is written. */
int jotx_parse_u64(const char **p, const char *end, uint64_t max, uint64_t *out);

/** The whole NUL-terminated \p s is one decimal number <= \p max: NULL, "" and anything
 *  after the digits ("1 ", "1x") are JOTX_ENUM. \p *out is written only on JOTX_OK. */
int jotx_parse_u64_str(const char *s, uint64_t max, uint64_t *out);

/** The value of one hexadecimal digit (0-9, a-f, A-F), or -1 for any other byte. */
int jotx_hex_digit(int c);

#endif
