/* The cache of one remote document (a JWKS, a status list): when to fetch, single flight,
 * stale-if-error, and the reference counts that let a new document replace the old one
 * while callers still use the old one.
 *
 * Every field of jot_rdoc_t after the mutex is read and written under it. The fetch itself
 * runs without the lock, flagged by in_flight: one fetch at a time. Callers that have a
 * usable document never wait for a fetch, except one that asks for a newer document (an
 * unknown kid) while a fetch is running; a document past its max-age is revalidated by a
 * background thread (joined before the next one starts and by jot__rdoc_destroy()). */
#include "internal.h"
#include "fetch.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY_S 86400
#define MAX_INTERVAL_S ((int64_t)3650 * DAY_S) /* ten years: far from overflowing in ms */

void jot_remote_opts_init(jot_remote_opts_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->min_cache_s = 300;
    opts->max_cache_s = DAY_S;
    opts->cooldown_s = 30;
    opts->timeout_s = 5;
    opts->max_stale_s = DAY_S;
    opts->max_body = 1024u * 1024u;
}

jot_err_t jot__remote_opts_check(const jot_remote_opts_t *in, jot_remote_opts_t *out)
{
    jot_remote_opts_t o;
    if (in)
        o = *in;
    else
        jot_remote_opts_init(&o);
    if (o.min_cache_s < 1 || o.max_cache_s < o.min_cache_s || o.max_cache_s > MAX_INTERVAL_S ||
        o.cooldown_s < 1 || o.cooldown_s > MAX_INTERVAL_S || o.timeout_s < 1 ||
        o.timeout_s > 3600 || o.max_stale_s < 0 || o.max_stale_s > MAX_INTERVAL_S ||
        o.max_body == 0 || o.max_body > (size_t)256 * 1024 * 1024)
        return JOT_E_INVAL;
    *out = o;
    return JOT_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

jot_err_t jot__rdoc_init(jot_rdoc_t *d, const char *url, const jot_remote_opts_t *opts,
                         const char *accept, jot_rdoc_parse_fn parse, jot_rdoc_free_fn free_obj,
                         void *ctx)
{
    memset(d, 0, sizeof *d);
    d->opts = *opts;
    d->accept = accept;
    d->parse = parse;
    d->free_obj = free_obj;
    d->ctx = ctx;
    d->url = jot__strdup(url);
    d->ca_file = opts->ca_file ? jot__strdup(opts->ca_file) : NULL;
    d->opts.ca_file = d->ca_file;
    if (!d->url || (opts->ca_file && !d->ca_file)) {
        jot_free(d->url);
        jot_free(d->ca_file);
        return JOT_E_NOMEM;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    return JOT_OK;
}

static void ref_drop_locked(jot_rdoc_t *d, jot_rdoc_ref_t *ref)
{
    if (--ref->refs == 0) {
        d->free_obj(ref->obj);
        jot_free(ref);
    }
}

void jot__rdoc_destroy(jot_rdoc_t *d)
{
    pthread_mutex_lock(&d->mu);
    while (d->in_flight)
        pthread_cond_wait(&d->cv, &d->mu);
    bool join = d->background;
    d->background = false;
    pthread_mutex_unlock(&d->mu);
    if (join)
        pthread_join(d->thread, NULL);
    if (d->cur)
        ref_drop_locked(d, d->cur);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    jot_free(d->url);
    jot_free(d->ca_file);
    memset(d, 0, sizeof *d);
}

/* Under the lock: mark a fetch as started. */
static void start_locked(jot_rdoc_t *d)
{
    d->in_flight = true;
    d->fetches++;
    d->refetch_at_ms = now_ms() + d->opts.cooldown_s * 1000;
}

/* The fetch of a started fetch: called without the lock, returns with it held. */
static void fetch_body(jot_rdoc_t *d)
{
    char etag[JOT_FETCH_ETAG_MAX + 1];
    pthread_mutex_lock(&d->mu);
    memcpy(etag, d->cur ? d->etag : "", d->cur ? sizeof etag : 1);
    pthread_mutex_unlock(&d->mu);

    jot_fetch_cfg_t cfg = {d->opts.timeout_s, d->opts.max_body, d->ca_file, d->opts.allow_http != 0,
                           d->accept};
    jot_fetch_result_t r;
    memset(&r, 0, sizeof r);
    char err[JOT_FETCH_ERRMSG] = "";
    void *obj = NULL;
    jot_err_t rc = jot__fetch(&cfg, d->url, etag, &r, err);
    int64_t max_age = rc == JOT_OK ? r.max_age : -1;
    if (rc == JOT_OK && r.status == 200)
        rc = d->parse(d->ctx, r.body, r.len, &max_age, &obj, err);
    else if (rc == JOT_OK && !etag[0]) {
        snprintf(err, sizeof err, "HTTP 304 to a request without If-None-Match");
        rc = JOT_E_FETCH;
    }
    jot_rdoc_ref_t *nref = NULL;
    if (rc == JOT_OK && obj) {
        if (!(nref = jot__calloc(1, sizeof *nref))) {
            d->free_obj(obj);
            rc = JOT_E_NOMEM;
        } else {
            nref->obj = obj;
            nref->refs = 1;
        }
    }

    pthread_mutex_lock(&d->mu);
    int64_t now = now_ms();
    if (rc == JOT_OK) {
        int64_t age = max_age < d->opts.min_cache_s   ? d->opts.min_cache_s
                      : max_age > d->opts.max_cache_s ? d->opts.max_cache_s
                                                      : max_age;
        if (nref) {
            jot_rdoc_ref_t *old = d->cur;
            d->cur = nref;
            if (old)
                ref_drop_locked(d, old);
            memcpy(d->etag, r.etag, sizeof d->etag);
        } else if (r.etag[0]) { /* 304: the same document, perhaps a new tag */
            memcpy(d->etag, r.etag, sizeof d->etag);
        }
        d->fresh_until_ms = now + age * 1000;
        d->usable_until_ms = d->fresh_until_ms + d->opts.max_stale_s * 1000;
        d->retry_at_ms = 0;
        d->errmsg[0] = '\0';
    } else {
        d->retry_at_ms = now + d->opts.cooldown_s * 1000;
        snprintf(d->errmsg, sizeof d->errmsg, "%s", err[0] ? err : jot_strerror(rc));
    }
    d->last_rc = rc;
    jot__fetch_result_clear(&r);
    d->in_flight = false;
    pthread_cond_broadcast(&d->cv);
}

static void *background_main(void *arg)
{
    jot_rdoc_t *d = arg;
    fetch_body(d);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Under the lock: revalidate in a thread of its own; on failure to start one, nothing
 * happens (the next caller tries again). */
static void start_background_locked(jot_rdoc_t *d)
{
    if (d->background) { /* the last one has finished (in_flight is false): reap it */
        pthread_join(d->thread, NULL);
        d->background = false;
    }
    start_locked(d);
    if (pthread_create(&d->thread, NULL, background_main, d) == 0) {
        d->background = true;
    } else {
        d->in_flight = false;
        d->fetches--;
    }
}

jot_err_t jot__rdoc_acquire(jot_rdoc_t *d, jot_rdoc_want_t want, jot_rdoc_ref_t **out)
{
    jot_err_t rc;
    bool fetched = false; /* this call ran a fetch or waited for one */
    pthread_mutex_lock(&d->mu);
    for (;;) {
        int64_t now = now_ms();
        bool usable = d->cur && now < d->usable_until_ms;
        if (!fetched && (!usable || want == JOT_RDOC_NEWER)) {
            if (d->in_flight) {
                pthread_cond_wait(&d->cv, &d->mu);
                fetched = true;
                continue;
            }
            if (usable ? now >= d->refetch_at_ms : now >= d->retry_at_ms) {
                start_locked(d);
                pthread_mutex_unlock(&d->mu);
                fetch_body(d); /* returns with the lock held */
                fetched = true;
                continue;
            }
        }
        if (usable) {
            if (now >= d->fresh_until_ms && !d->in_flight && now >= d->retry_at_ms)
                start_background_locked(d);
            d->cur->refs++;
            *out = d->cur;
            rc = JOT_OK;
            break;
        }
        if (d->in_flight) { /* someone else's fetch: wait for it too */
            pthread_cond_wait(&d->cv, &d->mu);
            continue;
        }
        /* a list that is not a valid Status List Token says so; anything else is a fetch
         * that did not give a usable document */
        rc = d->cur                            ? JOT_E_STALE
             : d->last_rc == JOT_E_STATUS_LIST ? JOT_E_STATUS_LIST
                                               : JOT_E_FETCH;
        break;
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

void jot__rdoc_release(jot_rdoc_t *d, jot_rdoc_ref_t *ref)
{
    if (!ref)
        return;
    pthread_mutex_lock(&d->mu);
    ref_drop_locked(d, ref);
    pthread_mutex_unlock(&d->mu);
}

uint64_t jot__rdoc_fetches(jot_rdoc_t *d)
{
    pthread_mutex_lock(&d->mu);
    uint64_t n = d->fetches;
    pthread_mutex_unlock(&d->mu);
    return n;
}

void jot__rdoc_errmsg(jot_rdoc_t *d, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    pthread_mutex_lock(&d->mu);
    snprintf(buf, cap, "%s", d->errmsg);
    pthread_mutex_unlock(&d->mu);
}
