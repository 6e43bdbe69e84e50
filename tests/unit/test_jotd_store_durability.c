/* Unit tests for the durability levels of server/store_sqlite.c (store.h,
 * jotd_store_set_durability): which commits fsync the WAL, that reuse detection and every
 * revocation stay FULL under NORMAL, that a NORMAL commit survives the death of the
 * process, and that concurrent rotations still have exactly one winner.
 *
 * The fsyncs are counted by a VFS of this file registered as SQLite's default: it passes
 * every call to the real "unix" VFS and counts xSync per kind of file (WAL, main database).
 * That observes what SQLite does, not what the store asked for: a PRAGMA ignored inside a
 * transaction, say, would show here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

#define T0 ((int64_t)1700000000)
#define DAY ((int64_t)86400)
#define N_RACERS 8

/* ---- the counting VFS ----------------------------------------------------------------------- */

static sqlite3_vfs *real_vfs;
static sqlite3_vfs count_vfs;
static atomic_int wal_syncs, db_syncs;

typedef struct count_file {
    sqlite3_file base;
    sqlite3_file *real; /* lives right after this struct */
    int kind;           /* 1 WAL, 2 main database, 0 other */
} count_file_t;

#define REAL(f) (((count_file_t *)(f))->real)

static int c_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    f->pMethods = NULL;
    return rc;
}
static int c_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int c_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int c_sync(sqlite3_file *f, int flags)
{
    int kind = ((count_file_t *)f)->kind;
    if (kind == 1)
        atomic_fetch_add(&wal_syncs, 1);
    else if (kind == 2)
        atomic_fetch_add(&db_syncs, 1);
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int c_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int c_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int c_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int c_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int c_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int c_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int c_devchar(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int c_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int c_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void c_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int c_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int c_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), o, n, pp);
}
static int c_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static const sqlite3_io_methods count_io = {
    3,          c_close,       c_read,      c_write, c_truncate, c_sync,    c_size,
    c_lock,     c_unlock,      c_reserved,  c_fcntl, c_sector,   c_devchar, c_shm_map,
    c_shm_lock, c_shm_barrier, c_shm_unmap, c_fetch, c_unfetch,
};

static int c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    count_file_t *p = (count_file_t *)f;
    p->real = (sqlite3_file *)(p + 1);
    p->kind = (flags & SQLITE_OPEN_WAL) ? 1 : (flags & SQLITE_OPEN_MAIN_DB) ? 2 : 0;
    int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
    p->base.pMethods = p->real->pMethods ? &count_io : NULL;
    return rc;
}

static void install_vfs(void)
{
    real_vfs = sqlite3_vfs_find("unix");
    assert_non_null(real_vfs);
    assert_true(real_vfs->iVersion >= 2);
    count_vfs = *real_vfs;
    count_vfs.zName = "jotd-count";
    count_vfs.szOsFile = (int)sizeof(count_file_t) + real_vfs->szOsFile;
    count_vfs.xOpen = c_open;
    assert_int_equal(sqlite3_vfs_register(&count_vfs, 1), SQLITE_OK);
}

/* ---- fixture ------------------------------------------------------------------------------ */

typedef struct fx {
    char dir[128];
    char path[192];
    jotd_store_t *st;
} fx_t;

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/jotd-dur-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/jotd.db", f->dir);
    if (jotd_store_open(f->path, &f->st) != JOTD_OK) {
        rm_tree(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    jotd_store_close(f->st);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void hash_of(uint8_t h[JOTD_HASH_LEN], unsigned n)
{
    for (unsigned i = 0; i < JOTD_HASH_LEN; i++)
        h[i] = (uint8_t)(n * 31u + i * 7u + 1u);
    h[0] = (uint8_t)n;
    h[1] = (uint8_t)(n >> 8);
}

static int64_t add_user(jotd_store_t *st, const char *name)
{
    jotd_user_t u = {.username = (char *)name,
                     .password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"};
    int64_t id = 0;
    assert_rc(jotd_store_user_create(st, &u, T0, &id), JOTD_OK);
    return id;
}

static jotd_rc_t add_session(jotd_store_t *st, const char *sid, int64_t uid, unsigned token)
{
    jotd_session_t s = {.user_id = uid, .client_id = "web", .scope = "", .expires_at = T0 + DAY};
    snprintf(s.sid, sizeof s.sid, "%s", sid);
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, token);
    return jotd_store_session_create(st, &s, h, 3600, T0);
}

static jotd_rc_t rotate(jotd_store_t *st, unsigned from, unsigned to, int64_t now, bool *out_grace)
{
    uint8_t a[JOTD_HASH_LEN], b[JOTD_HASH_LEN];
    hash_of(a, from);
    hash_of(b, to);
    jotd_rotation_t out = {0};
    jotd_rc_t rc = jotd_store_refresh_rotate(st, a, b, "web", now, 3600, 0, &out);
    if (out_grace)
        *out_grace = out.grace;
    jotd_rotation_clear(&out);
    return rc;
}

static bool session_revoked(jotd_store_t *st, const char *sid)
{
    jotd_session_t s;
    bool active = true;
    assert_rc(jotd_store_session_get(st, sid, T0 + 10, &s, &active), JOTD_OK);
    bool revoked = s.revoked;
    jotd_session_clear(&s);
    return revoked;
}

static void reset_counts(void)
{
    atomic_store(&wal_syncs, 0);
    atomic_store(&db_syncs, 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* The default (a new store): every commit, logins and rotations included, fsyncs the WAL. */
static void test_full_syncs_logins_and_rotations(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "full");
    reset_counts();
    assert_rc(add_session(f->st, "s-full", uid, 1), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);
    reset_counts();
    assert_rc(rotate(f->st, 1, 2, T0 + 1, NULL), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);
}

/* NORMAL: logins and rotations commit without an fsync; switching back to FULL restores it. */
static void test_normal_logins_and_rotations_do_not_sync(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "normal");
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);
    reset_counts();
    assert_rc(add_session(f->st, "s-normal", uid, 1), JOTD_OK);
    for (unsigned i = 1; i < 20; i++)
        assert_rc(rotate(f->st, i, i + 1, T0 + i, NULL), JOTD_OK);
    assert_int_equal(atomic_load(&wal_syncs), 0);
    assert_int_equal(atomic_load(&db_syncs), 0);

    jotd_store_set_durability(f->st, JOTD_DURABILITY_FULL);
    reset_counts();
    assert_rc(rotate(f->st, 20, 21, T0 + 30, NULL), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);
}

/* NORMAL: each revocation, user, client and denylist change still fsyncs its commit. */
static void test_normal_keeps_revocations_full(void **state)
{
    fx_t *f = *state;
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);

    reset_counts();
    int64_t uid = add_user(f->st, "rev");
    assert_true(atomic_load(&wal_syncs) >= 1);
    int64_t uid2 = add_user(f->st, "rev2");

    assert_rc(add_session(f->st, "s-a", uid, 1), JOTD_OK);
    assert_rc(add_session(f->st, "s-b", uid, 2), JOTD_OK);
    assert_rc(add_session(f->st, "s-c", uid2, 3), JOTD_OK);

    reset_counts();
    assert_rc(jotd_store_session_revoke(f->st, "s-a", T0 + 1), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);

    reset_counts();
    assert_rc(jotd_store_deny_add(f->st, "jti-1", T0 + 900), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);

    reset_counts();
    assert_rc(jotd_store_sessions_revoke_user(f->st, uid, T0 + 2, NULL), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);

    reset_counts();
    jotd_user_patch_t p = {.disabled = 1};
    assert_rc(jotd_store_user_update(f->st, uid2, &p, T0 + 3), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);

    reset_counts();
    jotd_client_t api = {.client_id = "api"};
    assert_rc(jotd_store_client_create(f->st, &api, T0), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);

    reset_counts();
    assert_rc(jotd_store_user_delete(f->st, uid2, T0 + 4), JOTD_OK);
    assert_true(atomic_load(&wal_syncs) >= 1);
}

/* NORMAL: a rotation that finds reuse revokes the session in a commit that fsyncs. */
static void test_normal_reuse_detection_is_full(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "reuse");
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);
    assert_rc(add_session(f->st, "s-reuse", uid, 1), JOTD_OK);
    reset_counts();
    assert_rc(rotate(f->st, 1, 2, T0 + 1, NULL), JOTD_OK);
    assert_int_equal(atomic_load(&wal_syncs), 0);
    /* token 1 again, another successor: theft assumed */
    assert_rc(rotate(f->st, 1, 3, T0 + 2, NULL), JOTD_E_REUSED);
    assert_true(atomic_load(&wal_syncs) >= 1);
    assert_true(session_revoked(f->st, "s-reuse"));
    /* the successor died with the session */
    assert_rc(rotate(f->st, 2, 4, T0 + 3, NULL), JOTD_E_EXPIRED);
}

/* NORMAL: a commit is in the OS's hands when the call returns: SIGKILL loses nothing. */
static void test_normal_survives_sigkill(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "kill");
    assert_rc(add_session(f->st, "s-kill", uid, 1), JOTD_OK);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        jotd_store_t *st = NULL;
        if (jotd_store_open(f->path, &st) != JOTD_OK)
            _exit(2);
        jotd_store_set_durability(st, JOTD_DURABILITY_NORMAL);
        char ok = 1;
        for (unsigned i = 1; i <= 50 && ok; i++)
            ok = rotate(st, i, i + 1, T0 + i, NULL) == JOTD_OK;
        if (write(fds[1], &ok, 1) != 1)
            _exit(3);
        for (;;)
            pause(); /* killed here: no close, no checkpoint */
    }
    close(fds[1]);
    char ok = 0;
    assert_int_equal(read(fds[0], &ok, 1), 1);
    close(fds[0]);
    assert_int_equal(ok, 1);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    /* every answered rotation is there: 51 is live, 50 is used */
    jotd_store_t *st = NULL;
    assert_rc(jotd_store_open(f->path, &st), JOTD_OK);
    assert_rc(rotate(st, 51, 52, T0 + 60, NULL), JOTD_OK);
    assert_rc(rotate(st, 50, 53, T0 + 61, NULL), JOTD_E_REUSED);
    jotd_store_close(st);
}

struct racer {
    jotd_store_t *st;
    pthread_barrier_t *bar;
    unsigned to;
    jotd_rc_t rc;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->bar);
    r->rc = rotate(r->st, 1, r->to, T0 + 5, NULL);
    return NULL;
}

/* NORMAL, many threads rotate one token with distinct successors: one wins, the next one
 * in line is reuse (whose FULL re-run still finds it), the rest find the session revoked. */
static void test_normal_concurrent_rotations_one_winner(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "race");
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);
    assert_rc(add_session(f->st, "s-race", uid, 1), JOTD_OK);
    pthread_t th[N_RACERS];
    struct racer r[N_RACERS];
    pthread_barrier_t bar;
    assert_int_equal(pthread_barrier_init(&bar, NULL, N_RACERS), 0);
    for (int i = 0; i < N_RACERS; i++) {
        r[i] = (struct racer){.st = f->st, .bar = &bar, .to = 1000u + (unsigned)i};
        assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    }
    for (int i = 0; i < N_RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    int ok = 0, reused = 0, other = 0;
    for (int i = 0; i < N_RACERS; i++) {
        if (r[i].rc == JOTD_OK)
            ok++;
        else if (r[i].rc == JOTD_E_REUSED)
            reused++;
        else if (r[i].rc == JOTD_E_EXPIRED)
            other++;
        else
            fail_msg("racer %d: %s", i, jotd_rc_str(r[i].rc));
    }
    assert_int_equal(ok, 1);
    assert_int_equal(reused, 1);
    assert_int_equal(other, N_RACERS - 2);
    assert_true(session_revoked(f->st, "s-race"));
}

/* Many threads, each with its own chain: the in-process write queue serves them all. */
struct chainer {
    jotd_store_t *st;
    unsigned base;
    jotd_rc_t rc;
};

static void *chainer_main(void *arg)
{
    struct chainer *c = arg;
    c->rc = JOTD_OK;
    for (unsigned i = 0; i < 30 && c->rc == JOTD_OK; i++)
        c->rc = rotate(c->st, c->base + i, c->base + i + 1, T0 + 10, NULL);
    return NULL;
}

static void test_normal_parallel_chains(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "chains");
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);
    pthread_t th[N_RACERS];
    struct chainer c[N_RACERS];
    for (int i = 0; i < N_RACERS; i++) {
        char sid[16];
        snprintf(sid, sizeof sid, "s-chain-%d", i);
        c[i] = (struct chainer){.st = f->st, .base = 100u * (unsigned)(i + 1)};
        assert_rc(add_session(f->st, sid, uid, c[i].base), JOTD_OK);
    }
    for (int i = 0; i < N_RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, chainer_main, &c[i]), 0);
    for (int i = 0; i < N_RACERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N_RACERS; i++)
        assert_rc(c[i].rc, JOTD_OK);
}

int main(void)
{
    install_vfs();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_full_syncs_logins_and_rotations), T(test_normal_logins_and_rotations_do_not_sync),
        T(test_normal_keeps_revocations_full),   T(test_normal_reuse_detection_is_full),
        T(test_normal_survives_sigkill),         T(test_normal_concurrent_rotations_one_winner),
        T(test_normal_parallel_chains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
