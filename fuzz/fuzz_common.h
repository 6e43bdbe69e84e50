/* Shared by the fuzz targets (fuzz_<name>.c): the libFuzzer entry point, a check that stays
 * on in release builds (assert() is compiled out under NDEBUG), and small helpers. */
#ifndef JOT_FUZZ_COMMON_H
#define JOT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called by libFuzzer, or by replay_main.c for every corpus file. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: a violation is a finding, reported as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Exactly \p n bytes copied into a fresh allocation (so that ASan sees any over-read), plus
 * a NUL when \p nul. Never NULL (aborts on OOM: the harness, not the target, ran out). */
static inline char *fuzz_copy(const uint8_t *data, size_t n, int nul)
{
    char *p = malloc(n + 1); /* +1: room for the NUL, and never malloc(0) */
    FUZZ_CHECK(p != NULL);
    if (n)
        memcpy(p, data, n);
    if (nul)
        p[n] = '\0';
    return p;
}

/* NUL-terminated copy of \p data up to its first NUL byte: what a C-string API (an HTTP
 * header, an argv entry) could ever receive. */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
    const uint8_t *z = memchr(data, 0, n);
    return fuzz_copy(data, z ? (size_t)(z - data) : n, 1);
}

#endif
