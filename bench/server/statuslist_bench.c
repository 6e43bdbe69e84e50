/* How big a Token Status List Token of jotd is, and how long it takes to build one (store read
 * + bit array + zlib + base64url + signature), with many sessions allocated and some of them
 * revoked (docs/PERFORMANCE.md, "Token Status Lists").
 *
 *   statuslist_bench [--sessions N] [--revoked-pct P] [--runs R] LOCATION
 *
 * LOCATION: a SQLite file path (created; must not exist) or a postgresql:// URI of an empty
 * database. The store is opened (migrated) through jotd's store API; the N sessions and
 * their revocations are then inserted with plain SQL in one statement each, as a million
 * logins one by one would take minutes and measure something else: the rows are what
 * session_create and the revocation paths write (sessions.status_idx, status_counter or the
 * session_status_idx sequence, status_revoked). Each index is revoked with probability
 * P % (random positions: the worst case for the compression; revocations of sessions that
 * started together cluster in practice, which compresses better). Then list 0 is built R times: the
 * figures are the token's size and the build time (min and median), with the store read and the
 * encoding timed apart. */
#include "statuslist.h"
#include "store.h"

#include <sqlite3.h>
#ifdef JOTD_HAVE_PG
#include <libpq-fe.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int populate_sqlite(const char *path, int64_t uid, long n, long every, int64_t t)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "INSERT INTO sessions (sid, user_id, client_id, scope, created_at, expires_at,"
             " last_used_at, revoked_at, status_idx)"
             " WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < %ld)"
             " SELECT 'bench-' || i, %lld, 'web', '', %lld, %lld, %lld,"
             " CASE WHEN abs(random()) %% %ld = 0 THEN %lld END, i FROM c;"
             "UPDATE status_counter SET next = %ld;"
             "INSERT INTO status_revoked (idx, revoked_at)"
             " SELECT status_idx, revoked_at FROM sessions WHERE revoked_at IS NOT NULL;"
             "COMMIT;",
             n - 1, (long long)uid, (long long)t, (long long)t + 86400, (long long)t, every,
             (long long)t, n);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "populate: %s\n", err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static int populate_pg(const char *uri, int64_t uid, long n, long every, int64_t t)
{
#ifdef JOTD_HAVE_PG
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "populate: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    char sql[1024];
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "INSERT INTO sessions (sid, user_id, client_id, scope, created_at, expires_at,"
             " last_used_at, revoked_at, status_idx)"
             " SELECT 'bench-' || i, %lld, 'web', '', %lld, %lld, %lld,"
             " CASE WHEN floor(random() * %ld) = 0 THEN %lld END, i"
             " FROM generate_series(0, %ld) AS i;"
             "SELECT setval('session_status_idx', %ld, false);"
             "INSERT INTO status_revoked (idx, revoked_at)"
             " SELECT status_idx, revoked_at FROM sessions WHERE revoked_at IS NOT NULL;"
             "COMMIT; ANALYZE;",
             (long long)uid, (long long)t, (long long)t + 86400, (long long)t, every, (long long)t,
             n - 1, n);
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "populate: %s", PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    return ok ? 0 : -1;
#else
    (void)uri, (void)uid, (void)n, (void)every, (void)t;
    fprintf(stderr, "built without PostgreSQL\n");
    return -1;
#endif
}

static void count_cb(void *ctx, int64_t idx)
{
    (void)idx;
    (*(long *)ctx)++;
}

int main(int argc, char **argv)
{
    long n = 1000000, runs = 20;
    double pct = 1.0;
    const char *loc = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc)
            n = strtol(argv[++i], NULL, 10); /* a benchmark's own flags: not untrusted input */
        else if (strcmp(argv[i], "--revoked-pct") == 0 && i + 1 < argc)
            pct = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !loc)
            loc = argv[i];
        else
            loc = NULL, i = argc;
    }
    if (!loc || n < 1 || n > JOTD_STATUS_LIST_BITS || runs < 1 || runs > 1000 || pct <= 0 ||
        pct > 100) {
        fprintf(stderr,
                "usage: statuslist_bench [--sessions N (1..%d)] [--revoked-pct P]"
                " [--runs R] SQLITE_PATH|postgresql://URI\n",
                JOTD_STATUS_LIST_BITS);
        return 2;
    }
    long every = (long)(100.0 / pct + 0.5);
    if (every < 1)
        every = 1;
    jotd_store_t *st = NULL;
    if (jotd_store_open(loc, &st) != JOTD_OK) {
        fprintf(stderr, "open: %s\n", jotd_store_errmsg(NULL));
        return 1;
    }
    int64_t t = (int64_t)time(NULL), uid = 0;
    jotd_user_t u = {.username = "bench", .password_hash = "h"};
    if (jotd_store_user_create(st, &u, t, &uid) != JOTD_OK) {
        fprintf(stderr, "user: %s (the location must be empty)\n", jotd_store_errmsg(NULL));
        return 1;
    }
    double t0 = now_ms();
    bool pg = strncmp(loc, "postgres", 8) == 0;
    if ((pg ? populate_pg : populate_sqlite)(loc, uid, n, every, t) != 0)
        return 1;
    double t_pop = now_ms() - t0;
    jot_key_t *key = NULL;
    if (jot_key_generate(JOT_ALG_ES256, 0, &key) != JOT_OK)
        return 1;
    jotd_statuslist_params_t p = {
        .issuer = "https://id.example.com", .key = key, .ttl = 30, .lifetime = 960};
    double *build = calloc((size_t)runs, sizeof *build);
    double *read = calloc((size_t)runs, sizeof *read);
    size_t size = 0;
    long revoked = 0;
    for (long r = 0; r < runs; r++) {
        /* the store read alone */
        long cnt = 0;
        int64_t next = 0;
        double a = now_ms();
        if (jotd_store_status_read(st, 0, JOTD_STATUS_LIST_BITS, count_cb, &cnt, &next) !=
            JOTD_OK) {
            fprintf(stderr, "read: %s\n", jotd_store_errmsg(NULL));
            return 1;
        }
        read[r] = now_ms() - a;
        revoked = cnt;
        /* the whole build: read + bits + zlib + base64url + ES256 */
        char *tok = NULL;
        a = now_ms();
        if (jotd_statuslist_token(st, &p, 0, t, &tok, &size) != JOTD_OK) {
            fprintf(stderr, "build: %s\n", jotd_store_errmsg(NULL));
            return 1;
        }
        build[r] = now_ms() - a;
        free(tok);
    }
    qsort(build, (size_t)runs, sizeof *build, cmp_double);
    qsort(read, (size_t)runs, sizeof *read, cmp_double);
    printf("store=%s sessions=%ld revoked=%ld (1 in %ld at random) populate=%.0f ms\n",
           pg ? "postgresql" : "sqlite", n, revoked, every, t_pop);
    printf("status list token: %zu bytes (bits before compression: %d bytes)\n", size,
           JOTD_STATUS_LIST_BYTES);
    printf("build (read + compress + sign), %ld runs: min %.1f ms, median %.1f ms, max %.1f ms\n",
           runs, build[0], build[runs / 2], build[runs - 1]);
    printf("  of which the store read: min %.1f ms, median %.1f ms\n", read[0], read[runs / 2]);
    free(build);
    free(read);
    jot_key_free(key);
    jotd_store_close(st);
    return 0;
}
