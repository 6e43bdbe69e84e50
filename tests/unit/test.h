/* What every unit test in tests/unit/ includes (in place of <cmocka.h>): cmocka with the
 * headers it needs before it, the assert_rc() family, and the failing allocator of
 * support/alloc.c (linked into every unit test by tests/CMakeLists.txt).
 *
 * assert_rc(expr, want) checks a return code and, on a mismatch, names both codes. In the
 * tests of libjot (test_<module>.c) it compares ::jot_err_t; in the tests of jotd
 * (test_jotd_*.c, built with JOT_TEST_SERVER defined) it compares jotd_rc_t. The one meant can
 * also be named: assert_jot_rc() (in every test), assert_jotd_rc() (in the jotd tests). */
#ifndef JOT_TEST_H
#define JOT_TEST_H

/* cmocka.h needs these first, in this order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include <jot/jot.h>
#ifdef JOT_TEST_SERVER
#include "store.h" /* jotd_rc_t, jotd_rc_str(), jotd_store_errmsg() */
#endif

/* ---- return codes ------------------------------------------------------------------------ */

/* Fails with e.g. "jot_verify(v, t, n, &tok)\n  got JOT_E_EXPIRED (23: token expired), want
 * JOT_OK (0: success)". \p expr and \p want are evaluated once each. */
#define assert_jot_rc(expr, want)                                                                  \
    do {                                                                                           \
        jot_err_t got_rc_ = (expr);                                                                \
        jot_err_t want_rc_ = (want);                                                               \
        if (got_rc_ != want_rc_)                                                                   \
            fail_msg("%s\n  got %s (%d: %s), want %s (%d: %s)", #expr, jot_err_name(got_rc_),      \
                     (int)got_rc_, jot_strerror(got_rc_), jot_err_name(want_rc_), (int)want_rc_,   \
                     jot_strerror(want_rc_));                                                      \
    } while (0)

#ifdef JOT_TEST_SERVER
/* The same for jotd_rc_t, with the store's detail message of the last error in this thread
 * (jotd_store_errmsg()) after the codes. */
#define assert_jotd_rc(expr, want)                                                                 \
    do {                                                                                           \
        jotd_rc_t got_rc_ = (expr);                                                                \
        jotd_rc_t want_rc_ = (want);                                                               \
        if (got_rc_ != want_rc_)                                                                   \
            fail_msg("%s\n  got %s (%d), want %s (%d): %s", #expr, jotd_rc_str(got_rc_),           \
                     (int)got_rc_, jotd_rc_str(want_rc_), (int)want_rc_, jotd_store_errmsg(NULL)); \
    } while (0)
/* Object-like on purpose: the arguments reach #expr unexpanded. */
#define assert_rc assert_jotd_rc
#else
#define assert_rc assert_jot_rc
#endif

/* ---- the failing allocator (support/alloc.c) ---------------------------------------------
 *
 * oom_install() hands it to jot_set_allocator(); oom_uninstall() restores malloc. Every block
 * carries a header, so a free or realloc of a block that did not come from it is counted
 * (oom_bad_frees()) instead of corrupting the heap, and the live blocks are counted
 * (oom_live()). While armed, each malloc and realloc is numbered from 1 and the chosen one
 * fails: oom_arm(n, false) fails only the n-th ("once"), oom_arm(n, true) the n-th and every
 * later one ("from"); n = 0 fails none, so oom_arm(0, false) just counts. A "budget" of k
 * allocations that may succeed is oom_arm(k + 1, true). While it is installed, libjot must not
 * free or grow a block that it allocated before (install it first, as test_oom.c does, or
 * around code that only frees its own blocks), and a block it handed out must be freed
 * before oom_uninstall(). Not thread-safe: arm it only around single-threaded code. */
void oom_install(void);
void oom_uninstall(void);
void oom_arm(long fail_at, bool onward); /* resets oom_allocs() and oom_injected() */
void oom_disarm(void);                   /* stop counting and failing (blocks still tracked) */
void oom_rearm(void);                    /* resume after oom_disarm(), the count kept */
long oom_allocs(void);                   /* allocations numbered since oom_arm() */
bool oom_injected(void);                 /* a failure was injected since oom_arm() */
long oom_live(void);                     /* blocks handed out and not yet freed */
long oom_bad_frees(void);                /* frees/reallocs of blocks not from this allocator */

#endif /* JOT_TEST_H */
