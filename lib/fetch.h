/* Internal: one HTTP(S) GET under the remote rules (fetch.c), and the cache of one remote
 * document on top of it (rdoc.c). Both the remote key set (remote.c) and the status lists
 * (status.c) use these: one fetcher, one cache, never two copies. */
#ifndef JOT_FETCH_H
#define JOT_FETCH_H

#include "internal.h"

#include <pthread.h>

/** Longest ETag kept (longer ones are not used for revalidation). */
#define JOT_FETCH_ETAG_MAX 255u
/** Size of the detail message of a failed fetch. */
#define JOT_FETCH_ERRMSG 160u

typedef struct jot_fetch_cfg {
    int64_t timeout_s;
    size_t max_body;
    const char *ca_file; /* borrowed, NULL: the system's */
    bool allow_http;
    const char *accept; /* Accept header value (borrowed) */
} jot_fetch_cfg_t;

typedef struct jot_fetch_result {
    long status; /* 200 or 304 */
    char *body;  /* 200: owned (jot_free), NUL-terminated */
    size_t len;
    char etag[JOT_FETCH_ETAG_MAX + 1]; /* "" when none */
    int64_t max_age;                   /* Cache-Control max-age, -1 when absent, 0 for
                                          no-cache / no-store */
} jot_fetch_result_t;

/** False when libjot was built without libcurl. */
bool jot__fetch_available(void);
/** Is \p url acceptable under the transport rules (https, or http to a loopback host when
 *  \p allow_http)? JOT_OK, JOT_E_INVAL, or JOT_E_UNSUPPORTED without libcurl. */
jot_err_t jot__fetch_check_url(const char *url, bool allow_http);
/** GET \p url; with \p etag (may be NULL or "") as If-None-Match. JOT_OK with status 200 or
 *  304 in \p out (release with jot__fetch_result_clear()); otherwise JOT_E_FETCH,
 *  JOT_E_TOOBIG (body cap) or JOT_E_NOMEM, with a message in \p err. */
jot_err_t jot__fetch(const jot_fetch_cfg_t *cfg, const char *url, const char *etag,
                     jot_fetch_result_t *out, char err[JOT_FETCH_ERRMSG]);
void jot__fetch_result_clear(jot_fetch_result_t *r);

/* ---- a cached remote document (rdoc.c) ------------------------------------------------ */

/** Turn a fetched body into the cached object. \p io_max_age holds the response's max-age
 *  (-1: none) and may be lowered (a status list's ttl or exp). Returns JOT_OK and *out_obj,
 *  or an error (the detail in \p err). */
typedef jot_err_t (*jot_rdoc_parse_fn)(void *ctx, const char *body, size_t len, int64_t *io_max_age,
                                       void **out_obj, char err[JOT_FETCH_ERRMSG]);
typedef void (*jot_rdoc_free_fn)(void *obj);

/** One parsed document and the number of callers holding it (the cache holds one). */
typedef struct jot_rdoc_ref {
    void *obj;
    unsigned long refs;
} jot_rdoc_ref_t;

/** Interval rules, in seconds (copied from jot_remote_opts_t). */
typedef struct jot_rdoc {
    char *url;     /* owned */
    char *ca_file; /* owned */
    jot_remote_opts_t opts;
    const char *accept;
    jot_rdoc_parse_fn parse;
    jot_rdoc_free_fn free_obj;
    void *ctx; /* borrowed by parse */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    jot_rdoc_ref_t *cur; /* NULL until a fetch succeeded */
    int64_t fresh_until_ms, usable_until_ms;
    int64_t retry_at_ms;        /* after a failure: no new fetch before */
    int64_t refetch_at_ms;      /* an unknown kid may fetch from then on (last fetch + cooldown) */
    bool in_flight, background; /* background: thread holds a revalidation to join */
    pthread_t thread;
    char etag[JOT_FETCH_ETAG_MAX + 1];
    uint64_t fetches;
    jot_err_t last_rc; /* of the last fetch: JOT_OK, FETCH, TOOBIG, or the parser's */
    char errmsg[JOT_FETCH_ERRMSG];
} jot_rdoc_t;

/** How much a caller wants a fresh document. */
typedef enum jot_rdoc_want {
    JOT_RDOC_CACHED = 0, /* any usable document (a background revalidation when expired) */
    JOT_RDOC_NEWER,      /* the document missed something (an unknown kid): refetch unless
                            one ran within the cooldown; wait for one in flight */
} jot_rdoc_want_t;

/** Set up \p d (caller memory). \p opts already validated; \p accept and \p ctx borrowed. */
jot_err_t jot__rdoc_init(jot_rdoc_t *d, const char *url, const jot_remote_opts_t *opts,
                         const char *accept, jot_rdoc_parse_fn parse, jot_rdoc_free_fn free_obj,
                         void *ctx);
/** Waits for a background fetch, frees the document and what \p d holds. */
void jot__rdoc_destroy(jot_rdoc_t *d);
/** A reference to the current document (release it with jot__rdoc_release()), or
 *  JOT_E_FETCH / JOT_E_STALE / the parser's error when none is usable. */
jot_err_t jot__rdoc_acquire(jot_rdoc_t *d, jot_rdoc_want_t want, jot_rdoc_ref_t **out);
void jot__rdoc_release(jot_rdoc_t *d, jot_rdoc_ref_t *ref);
/** Validate and default options (NULL: defaults) into \p out. */
jot_err_t jot__remote_opts_check(const jot_remote_opts_t *in, jot_remote_opts_t *out);
uint64_t jot__rdoc_fetches(jot_rdoc_t *d);
void jot__rdoc_errmsg(jot_rdoc_t *d, char *buf, size_t cap);

/* ---- status lists (status.c) --------------------------------------------------------- */
/** Inflate ZLIB data into a new buffer (jot_free): at most \p max bytes (else JOT_E_TOOBIG),
 *  nothing after the stream (else JOT_E_STATUS_LIST). */
jot_err_t jot__zlib_inflate(const uint8_t *in, size_t len, size_t max, uint8_t **out,
                            size_t *out_len);
/** A status_list object {bits, lst} into its inflated bytes (jot_free) and bits. */
jot_err_t jot__status_list_decode(const json_t *obj, size_t max, uint8_t **out_bytes,
                                  size_t *out_len, unsigned *out_bits);
/** Entry \p idx of a decoded list; JOT_E_STATUS_LIST beyond it. */
jot_err_t jot__status_get(const uint8_t *bytes, size_t len, unsigned bits, uint64_t idx,
                          unsigned *out);

#endif
