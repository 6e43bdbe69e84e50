/* The failing allocator of the unit tests (declared in ../test.h): numbers the allocations
 * libjot makes through jot_set_allocator()'s hook and fails the chosen one(s), tracking every
 * block it hands out. Linked into every unit test; the shared place for what test_oom.c
 * started, so that each test that injects allocation failures uses the same one. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define HDR 16u                          /* keeps the 16-byte alignment malloc gives */
#define MAGIC_LIVE 0x6a6f742d6c697665ull /* "jot-live" */
#define MAGIC_DEAD 0x6a6f742d64656164ull /* "jot-dead" */

static long live_blocks; /* blocks handed out and not yet freed */
static bool armed;       /* count and fail allocations */
static long alloc_seq;   /* allocations made while armed */
static long fail_at;     /* 1-based: the allocation to fail; 0: none */
static bool fail_onward; /* fail every allocation from fail_at on */
static bool injected;    /* a failure was injected since oom_arm() */
static long bad_frees;   /* frees of blocks that did not come from the hook */

static bool should_fail(void)
{
    if (!armed)
        return false;
    alloc_seq++;
    if (fail_at > 0 && (alloc_seq == fail_at || (fail_onward && alloc_seq > fail_at))) {
        injected = true;
        return true;
    }
    return false;
}

static void *hdr_of(void *p)
{
    return (unsigned char *)p - HDR;
}

static bool check_block(void *p)
{
    uint64_t m;
    memcpy(&m, hdr_of(p), sizeof m);
    if (m != MAGIC_LIVE) {
        bad_frees++;
        return false;
    }
    return true;
}

static void *hook_malloc(size_t n)
{
    if (should_fail() || n > SIZE_MAX - HDR)
        return NULL;
    unsigned char *b = malloc(n + HDR);
    if (!b)
        return NULL;
    uint64_t m = MAGIC_LIVE;
    memcpy(b, &m, sizeof m);
    live_blocks++;
    return b + HDR;
}

static void hook_free(void *p)
{
    if (!p)
        return;
    if (!check_block(p))
        return; /* not ours: leak it rather than corrupt the heap; counted */
    uint64_t m = MAGIC_DEAD;
    memcpy(hdr_of(p), &m, sizeof m);
    live_blocks--;
    free(hdr_of(p));
}

static void *hook_realloc(void *p, size_t n)
{
    if (!p)
        return hook_malloc(n);
    if (!check_block(p))
        return NULL;
    if (should_fail() || n > SIZE_MAX - HDR)
        return NULL; /* the old block stays valid, as realloc() promises */
    unsigned char *b = realloc(hdr_of(p), n + HDR);
    return b ? b + HDR : NULL;
}

void oom_install(void)
{
    armed = false;
    fail_at = 0;
    jot_set_allocator(hook_malloc, hook_realloc, hook_free);
}

void oom_uninstall(void)
{
    armed = false;
    fail_at = 0;
    jot_set_allocator(NULL, NULL, NULL);
}

void oom_arm(long n, bool onward)
{
    alloc_seq = 0;
    fail_at = n;
    fail_onward = onward;
    injected = false;
    armed = true;
}

void oom_disarm(void)
{
    armed = false;
}

void oom_rearm(void)
{
    armed = true;
}

long oom_allocs(void)
{
    return alloc_seq;
}

bool oom_injected(void)
{
    return injected;
}

long oom_live(void)
{
    return live_blocks;
}

long oom_bad_frees(void)
{
    return bad_frees;
}
