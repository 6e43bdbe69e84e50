/* common/ (jotx.h): a growable byte buffer with a size cap and a wipe flag (curl's dynbuf is
 * the model: every buffer has a cap, and errors are sticky).
 *
 * - It may start in caller memory (usually the stack) and moves to the heap when that is
 *   full. The contents are always NUL-terminated after len (the NUL is not counted), so
 *   the usable part of caller memory is one byte less than its size.
 * - Allocations go through the jotx_alloc_t given at init: libjot passes its own allocator
 *   (jot_set_allocator() replaces it, the OOM tests count it); NULL means malloc, realloc
 *   and free.
 * - Cap: len never exceeds max. An append that would is refused whole, sets the sticky
 *   toobig flag and changes nothing. An allocation failure sets the sticky oom flag. After
 *   either, every append fails and the contents stay as they were (incomplete).
 * - Wipe: when set, storage the buffer lets go of (the caller memory it moves away from,
 *   the old heap block when it grows, the block jotx_buf_free() releases) is cleansed with
 *   OPENSSL_cleanse() first; growth then never uses realloc(), which could leave a copy.
 *
 * Fields may be read (p, len, oom, toobig); change them only through the functions. Not
 * thread-safe: one owner at a time. */
#ifndef JOTX_BUF_H
#define JOTX_BUF_H

#include "common/jotx.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct jotx_alloc {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
} jotx_alloc_t;

typedef struct jotx_buf {
    char *p;    /* contents, NUL-terminated; NULL while empty without caller memory */
    size_t len; /* bytes in p, the NUL not counted */
    size_t cap; /* bytes of storage at p, the NUL's included */
    size_t max; /* the cap on len */
    const jotx_alloc_t *alloc; /* borrowed; NULL: malloc/realloc/free */
    bool heap;                 /* p was allocated here */
    bool wipe;                 /* cleanse storage before letting go of it */
    bool oom;                  /* sticky: an allocation failed */
    bool toobig;               /* sticky: an append would have passed max */
} jotx_buf_t;

/** Start an empty buffer in \p stack (\p stack_size bytes, borrowed: it must outlive the
 *  buffer; NULL/0: start on the heap at the first append), holding at most \p max bytes
 *  (SIZE_MAX: no cap of its own). \p alloc is borrowed; NULL means the C library. */
void jotx_buf_init(jotx_buf_t *b, char *stack, size_t stack_size, size_t max, bool wipe,
                   const jotx_alloc_t *alloc);

/** jotx_buf_add() when the bytes do not fit in the storage there is (out of line). */
int jotx_buf_add_grow(jotx_buf_t *b, const void *data, size_t n);

/** Append \p n bytes of \p data (n == 0: nothing, \p data may then be NULL).
 *  \return JOTX_OK, or the sticky error: JOTX_ETOOBIG, JOTX_ENOMEM.
 *  Inline when the bytes fit (the JSON writer of libjot appends byte by byte when signing):
 *  cap <= max + 1 always, so fitting in the storage is within the cap too. */
static inline int jotx_buf_add(jotx_buf_t *b, const void *data, size_t n)
{
    if (n && n < b->cap - b->len && !b->oom && !b->toobig) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
        b->p[b->len] = '\0';
        return JOTX_OK;
    }
    return jotx_buf_add_grow(b, data, n);
}

/** Append \p n bytes the caller writes itself: returns where they go (len already counts
 *  them, and the NUL after them is written), or NULL on the sticky error. */
char *jotx_buf_extend(jotx_buf_t *b, size_t n);

/** The sticky error: JOTX_OK, JOTX_ENOMEM or JOTX_ETOOBIG. */
int jotx_buf_err(const jotx_buf_t *b);

/** Hand the contents over as one heap block (NUL-terminated; the caller frees it with the
 *  buffer's allocator: jot_free() in libjot, free() with a NULL alloc), its length in
 *  \p out_len (may be NULL). Contents still in caller memory are copied out (and that memory
 *  wiped if the buffer wipes). The buffer is left empty, as after jotx_buf_free().
 *  \return NULL on the sticky error or when the copy fails (the buffer is freed then too). */
char *jotx_buf_take(jotx_buf_t *b, size_t *out_len);

/** Release the storage (cleansed first if the buffer wipes) and leave the buffer empty with
 *  no storage, its cap, wipe flag and allocator kept, its sticky errors cleared. NULL is a
 *  no-op. */
void jotx_buf_free(jotx_buf_t *b);

/** A NUL-terminated heap copy of the \p n bytes at \p s (which may hold NULs: the copy
 *  keeps all n), from malloc(): the caller frees it with free(). NULL when out of memory. */
char *jotx_strdup_n(const char *s, size_t n);

/** free() a NUL-terminated string that holds a secret (a password, a client secret, a
 *  stored hash), its bytes cleansed first. NULL is a no-op. */
void jotx_free_secret(char *s);

#endif
