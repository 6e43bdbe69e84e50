/* Helpers shared by the conformance suites (see vectors.h). Test-only code. */
#include "vectors.h"
#include "common/strparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *vec_dir(void)
{
    const char *dir = getenv("JOT_VECTORS");
    struct stat st;
    if (!dir || !*dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}

json_t *vec_load(const char *relpath)
{
    const char *dir = vec_dir();
    if (!dir || !relpath)
        return NULL;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, relpath);
    if (n < 0 || (size_t)n >= sizeof path)
        return NULL;
    json_error_t err;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fprintf(stderr, "vec_load: %s: %s (line %d)\n", path, err.text, err.line);
    return j;
}

void vec_skip(const char *what, const char *why)
{
    printf("SKIPPED: %s (%s)\n", what ? what : "?", why ? why : "?");
    fflush(stdout);
}

uint8_t *vec_hex(const char *hex, size_t *out_len)
{
    if (!hex || !out_len)
        return NULL;
    size_t len = strlen(hex);
    if (len % 2)
        return NULL;
    uint8_t *out = malloc(len / 2 + 1); /* + 1: a valid pointer even for "" */
    if (!out)
        return NULL;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = jotx_hex_digit(hex[2 * i]), lo = jotx_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return out;
}

void vec_tally_print(const vec_tally_t *t)
{
    printf("%s: %u run, %u valid accepted, %u invalid rejected, %u acceptable, %u skipped, "
           "%u FAILED\n",
           t->file ? t->file : "?", t->run, t->valid_ok, t->invalid_ok, t->acceptable, t->skipped,
           t->failed);
    fflush(stdout);
}

int vec_judge(vec_tally_t *t, int tc_id, const char *comment, const char *expected, int accepted)
{
    const char *file = t->file ? t->file : "?";
    t->run++;
    if (expected && strcmp(expected, "acceptable") == 0) {
        t->acceptable++;
        printf("ACCEPTABLE: %s tcId %d (%s): %s\n", file, tc_id, comment ? comment : "",
               accepted ? "accepted" : "rejected");
        return 1;
    }
    if (expected && strcmp(expected, "valid") == 0 && accepted) {
        t->valid_ok++;
        return 1;
    }
    if (expected && strcmp(expected, "invalid") == 0 && !accepted) {
        t->invalid_ok++;
        return 1;
    }
    t->failed++;
    printf("FAILED: %s tcId %d (%s): expected %s, got %s\n", file, tc_id, comment ? comment : "",
           expected ? expected : "(no result)", accepted ? "accepted" : "rejected");
    fflush(stdout);
    return 0;
}
