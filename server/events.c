/* The store's events applied to this process's memory (server.h, jotd_events_sync).
 *
 * Every change that voids tokens or credentials writes an event in its own transaction
 * (store.h), whoever makes it: this jotd, an operator command, another jotd on the same
 * store. Reading them back is the one path by which all of them reach /verify: a request
 * handler calls jotd_events_sync() right after its own change (so that its answer holds when
 * it is sent), the main loop calls it every --events-poll-interval (default 1 s) for the
 * rest, and on PostgreSQL the store's listener thread calls it as soon as another process
 * commits an event (LISTEN/NOTIFY: jotd_store_listen_start). A change made elsewhere takes
 * effect here within one notification round trip, or at worst the poll interval. Applying
 * an event twice changes nothing, so it does not matter which caller reads it first. */
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "server.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#define EVENTS_BATCH 1000

/* Slack past the access-token lifetime for an ended session: tokens are checked with a
 * leeway, and the clocks of other writers may differ a little. */
#define SESSION_SLACK 120

int jotd_session_ended(jotd_app_t *app, const char *sid, int64_t when, int64_t access_ttl)
{
    /* called once the revocation is committed: a list built from now on has its bit */
    jotd_statuslists_changed(app->statuslists);
    return jotd_denylist_add(app->ended_sessions, sid, strlen(sid),
                             when + access_ttl + SESSION_SLACK) < 0
               ? -1
               : 0;
}

int jotd_client_voided(jotd_app_t *app, const char *client_id, int64_t gen, int64_t when,
                       int64_t access_ttl)
{
    char key[JOTD_CLIENT_VOID_KEY_MAX];
    int n = jotd_client_void_key(client_id, gen, key);
    if (n < 0 || !app->void_clients)
        return n < 0 ? -1 : 0;
    return jotd_denylist_add(app->void_clients, key, (size_t)n, when + access_ttl + SESSION_SLACK) <
                   0
               ? -1
               : 0;
}

typedef struct apply_ctx {
    jotd_app_t *app;
    int64_t access_ttl;
    bool flush_clients;
    bool keys_changed;
    bool lists_changed; /* a bit of a status list, or the key that signs them, may differ */
    unsigned failed;
    size_t seen;  /* events passed to apply() by the last read */
    bool measure; /* the lag of each revocation event (not during the first read at start) */
} apply_ctx_t;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void apply(void *ctx, const jotd_event_t *ev)
{
    apply_ctx_t *a = ctx;
    int rc = 0;
    a->seen++;
    if (a->measure && ev->created_at > 0 &&
        (ev->kind == JOTD_EV_JTI_REVOKED || ev->kind == JOTD_EV_SESSION_REVOKED ||
         ev->kind == JOTD_EV_USER_GENERATION))
        jotd_metrics_event_lag(wall_ms() - ev->created_at * 1000);
    int64_t uid;
    switch (ev->kind) {
    case JOTD_EV_JTI_REVOKED:
        rc = jotd_denylist_add(a->app->deny, ev->subject, strlen(ev->subject), ev->value) < 0 ? -1
                                                                                              : 0;
        break;
    case JOTD_EV_SESSION_REVOKED:
        rc = jotd_session_ended(a->app, ev->subject, ev->value, a->access_ttl);
        break;
    case JOTD_EV_USER_GENERATION: /* a disable or delete revokes sessions too */
        a->lists_changed = true;
        rc = jotd_parse_id(ev->subject, &uid) == 0 ? jotd_genmap_raise(a->app->gens, uid, ev->value)
                                                   : 0;
        break;
    case JOTD_EV_CLIENT_CHANGED:
        a->flush_clients = true;
        break;
    case JOTD_EV_CLIENT_GENERATION: /* a client disabled or deleted */
        a->flush_clients = true;
        a->lists_changed = true;
        rc = jotd_client_voided(a->app, ev->subject, ev->value, ev->created_at, a->access_ttl);
        break;
    case JOTD_EV_KEY_CHANGED:
        a->keys_changed = true;
        a->lists_changed = true;
        break;
    }
    if (rc < 0)
        a->failed++;
}

jotd_rc_t jotd_events_sync(jotd_app_t *app, int64_t access_ttl)
{
    apply_ctx_t a = {.app = app, .access_ttl = access_ttl};
    jotd_rc_t rc = JOTD_OK;
    pthread_mutex_lock(&app->events_lock);
    a.measure = app->events_synced;
    for (;;) {
        int64_t last = app->events_last;
        rc = jotd_store_events_since(app->store, app->events_last, EVENTS_BATCH, apply, &a, &last);
        if (rc != JOTD_OK)
            break;
        bool none = last == app->events_last;
        app->events_last = last;
        if (none || a.seen < EVENTS_BATCH)
            break;
        a.seen = 0;
    }
    if (rc == JOTD_OK)
        app->events_synced = true;
    pthread_mutex_unlock(&app->events_lock);
    if (a.flush_clients) {
        jotd_client_cache_flush(app->clients);
        jotd_origins_changed(app->origins);
    }
    if (rc == JOTD_OK) /* at the first sync, and after a client changed */
        (void)jotd_origins_reload(app->origins, app->store);
    if (a.lists_changed) /* the next request for a status list builds it again */
        jotd_statuslists_changed(app->statuslists);
    if (a.keys_changed) { /* a key published or revoked: the main loop loads the keys now */
        atomic_store(&app->keys_changed, true);
        if (app->has_main_thread)
            pthread_kill(app->main_thread, SIGUSR1);
    }
    if (a.failed) /* a revocation that memory cannot hold: never silent */
        jotd_log("error",
                 "events: %u revocations could not be recorded in memory (tables full or "
                 "out of memory): tokens they void may still pass /verify",
                 a.failed);
    return rc;
}
