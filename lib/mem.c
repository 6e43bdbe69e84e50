/* Allocation through one replaceable hook, secret wiping, constant-time compare. */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *(*alloc_malloc)(size_t) = malloc;
static void *(*alloc_realloc)(void *, size_t) = realloc;
static void (*alloc_free)(void *) = free;

/* Set when an allocation made for jansson fails, so that a NULL from jansson can be told
 * apart from invalid input. Per thread: verifications run concurrently. */
static _Thread_local bool json_oom;

static void *json_malloc(size_t n)
{
    void *p = alloc_malloc(n ? n : 1);
    if (!p)
        json_oom = true;
    return p;
}

static void json_free(void *p)
{
    if (p)
        alloc_free(p);
}

/* Until jot_set_allocator() is called, jansson allocates with malloc/free and an allocation
 * failure inside it would go unnoticed: hook it once, with wrappers around the same malloc
 * and free, unless the application already gave jansson functions of its own. */
static pthread_once_t json_hook_once = PTHREAD_ONCE_INIT;

static void json_hook_install(void)
{
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    if (m == malloc && f == free)
        json_set_alloc_funcs(json_malloc, json_free);
}

void jot__json_oom_clear(void)
{
    pthread_once(&json_hook_once, json_hook_install);
    json_oom = false;
}

bool jot__json_oom(void)
{
    return json_oom;
}

void jot_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                       void (*free_fn)(void *))
{
    if (malloc_fn && realloc_fn && free_fn) {
        alloc_malloc = malloc_fn;
        alloc_realloc = realloc_fn;
        alloc_free = free_fn;
    } else {
        alloc_malloc = malloc;
        alloc_realloc = realloc;
        alloc_free = free;
    }
    /* jansson allocates our JSON trees: route it through the same hook. */
    json_set_alloc_funcs(json_malloc, json_free);
}

void *jot__malloc(size_t n)
{
    return alloc_malloc(n ? n : 1);
}

void *jot__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = jot__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *jot__realloc(void *p, size_t n)
{
    return alloc_realloc(p, n ? n : 1);
}

void jot_free(void *p)
{
    if (p)
        alloc_free(p);
}

char *jot__strndup(const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = jot__malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *jot__strdup(const char *s)
{
    return jot__strndup(s, strlen(s));
}

void jot_memzero(void *p, size_t len)
{
    if (!p || !len)
        return;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
    explicit_bzero(p, len);
#else
    volatile unsigned char *v = p;
    while (len--)
        *v++ = 0;
#endif
}

const jotx_alloc_t jot__alloc = {jot__malloc, jot__realloc, jot_free};

void jot__free_secret(void *p, size_t n)
{
    if (!p)
        return;
    jot_memzero(p, n);
    jot_free(p);
}

int jot_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < len; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    /* 1 when d == 0, without a data-dependent branch */
    return (int)(1u & (((unsigned)d - 1u) >> 8));
}
