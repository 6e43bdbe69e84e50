/* The capped buffer (buf.h). */
#include "common/buf.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first heap block is at least this large (unless the cap says less). */
#define FIRST_HEAP 256

static void *b_malloc(const jotx_buf_t *b, size_t n)
{
    return b->alloc ? b->alloc->malloc_fn(n) : malloc(n);
}

static void *b_realloc(const jotx_buf_t *b, void *p, size_t n)
{
    return b->alloc ? b->alloc->realloc_fn(p, n) : realloc(p, n);
}

static void b_free(const jotx_buf_t *b, void *p)
{
    if (b->alloc)
        b->alloc->free_fn(p);
    else
        free(p);
}

void jotx_buf_init(jotx_buf_t *b, char *stack, size_t stack_size, size_t max, bool wipe,
                   const jotx_alloc_t *alloc)
{
    bool use_stack = stack && stack_size > 0;
    b->p = use_stack ? stack : NULL;
    if (use_stack)
        stack[0] = '\0';
    b->len = 0;
    b->max = max < SIZE_MAX ? max : SIZE_MAX - 1; /* room for the NUL */
    /* never more storage than the cap can use (jotx_buf_add() relies on it) */
    b->cap = !use_stack ? 0 : stack_size <= b->max ? stack_size : b->max + 1;
    b->alloc = alloc;
    b->heap = false;
    b->wipe = wipe;
    b->oom = false;
    b->toobig = false;
}

int jotx_buf_err(const jotx_buf_t *b)
{
    return b->oom ? JOTX_ENOMEM : b->toobig ? JOTX_ETOOBIG : JOTX_OK;
}

/* Room for n more bytes and the NUL; false on the sticky error (set here if new). */
static bool reserve(jotx_buf_t *b, size_t n)
{
    if (b->oom || b->toobig)
        return false;
    if (n > b->max - b->len) {
        b->toobig = true;
        return false;
    }
    size_t need = b->len + n + 1; /* no overflow: len + n <= max < SIZE_MAX */
    if (need <= b->cap)
        return true;
    size_t cap = b->cap > SIZE_MAX / 2 ? SIZE_MAX : b->cap * 2;
    if (cap < FIRST_HEAP)
        cap = FIRST_HEAP;
    if (cap < need)
        cap = need;
    if (cap > b->max + 1) /* never more storage than the cap can use */
        cap = b->max + 1;
    char *np;
    if (b->heap && !b->wipe) {
        np = b_realloc(b, b->p, cap);
    } else {
        np = b_malloc(b, cap);
        if (np && b->p) {
            memcpy(np, b->p, b->len + 1);
            if (b->wipe)
                OPENSSL_cleanse(b->p, b->cap);
            if (b->heap)
                b_free(b, b->p);
        }
    }
    if (!np) {
        b->oom = true;
        return false;
    }
    if (!b->p)
        np[0] = '\0';
    b->p = np;
    b->cap = cap;
    b->heap = true;
    return true;
}

char *jotx_buf_extend(jotx_buf_t *b, size_t n)
{
    if (!reserve(b, n))
        return NULL;
    char *at = b->p + b->len;
    b->len += n;
    b->p[b->len] = '\0';
    return at;
}

int jotx_buf_add_grow(jotx_buf_t *b, const void *data, size_t n)
{
    if (n == 0)
        return jotx_buf_err(b);
    char *at = jotx_buf_extend(b, n);
    if (!at)
        return jotx_buf_err(b);
    memcpy(at, data, n);
    return JOTX_OK;
}

char *jotx_buf_take(jotx_buf_t *b, size_t *out_len)
{
    char *out = NULL;
    size_t len = b->len;
    if (b->oom || b->toobig) {
        jotx_buf_free(b);
        return NULL;
    }
    if (b->heap) {
        out = b->p;
        b->p = NULL; /* now the caller's: not wiped, not freed */
        b->heap = false;
        b->cap = 0;
    } else {
        out = b_malloc(b, len + 1);
        if (out) {
            if (len)
                memcpy(out, b->p, len);
            out[len] = '\0';
        }
    }
    jotx_buf_free(b); /* wipes caller memory still holding the contents */
    if (out && out_len)
        *out_len = len;
    return out;
}

void jotx_buf_free(jotx_buf_t *b)
{
    if (!b)
        return;
    if (b->p && b->wipe)
        OPENSSL_cleanse(b->p, b->cap);
    if (b->heap)
        b_free(b, b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->heap = false;
    b->oom = false;
    b->toobig = false;
}

char *jotx_strdup_n(const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void jotx_free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}
