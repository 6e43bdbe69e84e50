/* Helpers shared by the conformance suites: locate ../shared/vectors, load JSON files,
 * decode hex, count results per file. Test-only code, not part of libjot. */
#ifndef JOT_TEST_VECTORS_H
#define JOT_TEST_VECTORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** Directory of the vectors ($JOT_VECTORS), or NULL when it does not exist. */
const char *vec_dir(void);
/** Load <vec_dir>/<relpath> as JSON (jansson, duplicates rejected). NULL when missing: the
 *  caller then prints a SKIPPED line with vec_skip(). */
json_t *vec_load(const char *relpath);
/** Print the visible "SKIPPED: <what> (<why>)" line on stdout. */
void vec_skip(const char *what, const char *why);
/** Decode a hex string into a new malloc'd buffer (free()). NULL on bad hex. */
uint8_t *vec_hex(const char *hex, size_t *out_len);

/** Per-file tally, printed as one line:
 *  "<file>: N run, V valid accepted, I invalid rejected, A acceptable, S skipped, F FAILED" */
typedef struct vec_tally {
    const char *file;
    unsigned run, valid_ok, invalid_ok, acceptable, skipped, failed;
} vec_tally_t;
void vec_tally_print(const vec_tally_t *t);
/** Record one case: \p expected is the Wycheproof "result" ("valid", "invalid",
 *  "acceptable"), \p accepted whether libjot accepted it. Prints a FAILED line with the
 *  tcId and comment for every mismatch. Returns 1 when the case passed. */
int vec_judge(vec_tally_t *t, int tc_id, const char *comment, const char *expected, int accepted);

#endif
