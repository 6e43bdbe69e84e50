/* Unit tests of the store contract of server/store.h, on every backend: SQLite (always) and
 * PostgreSQL (when JOTD_TEST_PG_URI names a superuser connection to a throwaway cluster,
 * e.g. postgresql:///postgres?host=/tmp/x&port=5499&user=postgres; tests/CMakeLists.txt sets
 * it for unit.test_jotd_store.pg). The behavioural tests run once per backend; the tests of
 * SQLite's files (modes, WAL, schema-1 migration, read-only files) and of PostgreSQL's
 * connections (concurrent first opens, reconnects, timeouts, redaction) run on theirs only.
 * Every test gets a fresh store: a new temporary directory holding jotd.db, or a new
 * database jot_test_<random> created over an admin connection and dropped after. The
 * database is also inspected directly (sqlite3 / libpq) where the contract is about stored
 * state (never two live successors, nothing changed on a refused rotation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_backend.h" /* jotd_store_pg_redact */

#ifdef JOTD_HAVE_PG
#include <libpq-fe.h>
#include <time.h>
#endif

#define T0 ((int64_t)1700000000)
#define DAY ((int64_t)86400)
#define N_RACERS 8

/* ---- fixture ------------------------------------------------------------------------------ */

typedef struct fx {
    char dir[128];
    char path[192]; /* SQLite: the database file */
    char loc[768];  /* what jotd_store_open() is given: path, or the test database's URI */
    char db[64];    /* PostgreSQL: the test's own database */
    bool pg;
    jotd_store_t *st;
} fx_t;

/* The backend of the group being run, and PostgreSQL's admin URI (JOTD_TEST_PG_URI). */
static bool g_pg;
#ifdef JOTD_HAVE_PG
static const char *g_pg_admin;
#endif

#define SQLITE_STORE_SCHEMA 8 /* PRAGMA user_version of a current SQLite store */
#define PG_STORE_SCHEMA 7     /* jotd_schema.version of a current PostgreSQL store */
#define STR_(x) #x
#define STR(x) STR_(x)

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

static int make_dir(fx_t *f, const char *base)
{
    snprintf(f->dir, sizeof f->dir, "%s/jotd-store-XXXXXX", base);
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/jotd.db", f->dir);
    snprintf(f->loc, sizeof f->loc, "%s", f->path);
    return 0;
}

#ifdef JOTD_HAVE_PG
/* One statement over a new connection to \p uri; -1 on failure (message on stderr). */
static int pg_admin_exec(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    int rc = -1;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg admin: %s", PQerrorMessage(c));
    } else {
        PGresult *res = PQexec(c, sql);
        if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
            rc = 0;
        else
            fprintf(stderr, "pg admin: %s: %s", sql, PQerrorMessage(c));
        PQclear(res);
    }
    PQfinish(c);
    return rc;
}

/* \p uri with dbname=\p db added (a query parameter wins over the URI's path). */
static void uri_with_db(char *out, size_t outlen, const char *uri, const char *db)
{
    snprintf(out, outlen, "%s%sdbname=%s", uri, strchr(uri, '?') ? "&" : "?", db);
}

/* A database of our own on the cluster of JOTD_TEST_PG_URI. */
static int pg_create_db(char *db, size_t dblen, char *uri, size_t urilen)
{
    static unsigned counter;
    unsigned r = 0;
    FILE *u = fopen("/dev/urandom", "rb");
    if (!u || fread(&r, sizeof r, 1, u) != 1)
        r = (unsigned)time(NULL);
    if (u)
        fclose(u);
    snprintf(db, dblen, "jot_test_%ld_%u_%08x", (long)getpid(), counter++, r);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    if (pg_admin_exec(g_pg_admin, sql) != 0)
        return -1;
    uri_with_db(uri, urilen, g_pg_admin, db);
    return 0;
}

static void pg_drop_db(const char *db)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    pg_admin_exec(g_pg_admin, sql);
}
#endif

/* A fresh, empty location of the current backend (nothing opened). */
static int setup_empty(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->pg = g_pg;
    if (f->pg) {
#ifdef JOTD_HAVE_PG
        if (pg_create_db(f->db, sizeof f->db, f->loc, sizeof f->loc) != 0) {
            free(f);
            return -1;
        }
#endif
    } else {
        const char *tmp = getenv("TMPDIR");
        if (make_dir(f, tmp && *tmp ? tmp : "/tmp") != 0) {
            free(f);
            return -1;
        }
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    jotd_store_close(f->st);
    if (f->pg) {
#ifdef JOTD_HAVE_PG
        pg_drop_db(f->db);
#endif
    } else {
        rm_tree(f->dir);
    }
    free(f);
    return 0;
}

static int setup(void **state)
{
    if (setup_empty(state) != 0)
        return -1;
    fx_t *f = *state;
    if (jotd_store_open(f->loc, &f->st) != JOTD_OK) {
        fprintf(stderr, "open %s: %s\n", f->pg ? f->db : f->path, jotd_store_errmsg(NULL));
        teardown(state);
        return -1;
    }
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
    char *roles[] = {"admin", "dev"};
    char *perms[] = {"read:all"};
    jotd_user_t u = {.username = (char *)name,
                     .password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                     .roles = roles,
                     .n_roles = 2,
                     .permissions = perms,
                     .n_permissions = 1};
    int64_t id = 0;
    assert_rc(jotd_store_user_create(st, &u, T0, &id), JOTD_OK);
    assert_true(id > 0);
    return id;
}

static jotd_rc_t add_client(jotd_store_t *st, const char *id, const char *hash)
{
    jotd_client_t c = {.client_id = (char *)id, .secret_hash = (char *)hash};
    return jotd_store_client_create(st, &c, T0);
}

static void add_session(jotd_store_t *st, const char *sid, int64_t user_id, int64_t now,
                        int64_t expires_at, int64_t idle, unsigned token)
{
    jotd_session_t s = {.user_id = user_id,
                        .client_id = "web",
                        .scope = "openid profile",
                        .expires_at = expires_at};
    snprintf(s.sid, sizeof s.sid, "%s", sid);
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, token);
    assert_rc(jotd_store_session_create(st, &s, h, idle, now), JOTD_OK);
}

static jotd_rc_t rotate(jotd_store_t *st, unsigned from, unsigned to, const char *client,
                        int64_t now, int64_t grace, jotd_rotation_t *out)
{
    uint8_t a[JOTD_HASH_LEN], b[JOTD_HASH_LEN];
    hash_of(a, from);
    hash_of(b, to);
    return jotd_store_refresh_rotate(st, a, b, client, now, 3600, grace, out);
}

/* rotate() expecting \p want; releases the result. Returns out.grace. */
static bool rotate_expect(jotd_store_t *st, unsigned from, unsigned to, int64_t now, int64_t grace,
                          jotd_rc_t want)
{
    jotd_rotation_t out = {0};
    assert_rc(rotate(st, from, to, "web", now, grace, &out), want);
    bool g = out.grace;
    jotd_rotation_clear(&out);
    return g;
}

static bool token_live(jotd_store_t *st, unsigned token, int64_t now)
{
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, token);
    jotd_session_t s;
    bool live = true;
    assert_rc(jotd_store_refresh_lookup(st, h, now, &s, &live), JOTD_OK);
    jotd_session_clear(&s);
    return live;
}

static bool session_active(jotd_store_t *st, const char *sid, int64_t now, bool *revoked)
{
    jotd_session_t s;
    bool active = true;
    assert_rc(jotd_store_session_get(st, sid, now, &s, &active), JOTD_OK);
    if (revoked)
        *revoked = s.revoked;
    jotd_session_clear(&s);
    return active;
}

/* One integer from the SQLite file, read with a connection of our own. */
static int64_t sqlite_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void sqlite_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db);
        fail_msg("%s: %s", sql, msg);
    }
    sqlite3_close(db);
}

#ifdef JOTD_HAVE_PG
/* \p sql on a connection of our own to the test database; its first value as an integer
 * (-1 when it returns no row). */
static int64_t pg_sql(const fx_t *f, const char *sql)
{
    PGconn *c = PQconnectdb(f->loc);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        PQfinish(c);
        fail_msg("connect %s: %s", f->db, msg);
    }
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
        fail_msg("%s: %s", sql, msg);
    }
    int64_t v = -1;
    if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        /* integers, or sums (numeric) of integers */
        const char *t = PQgetvalue(res, 0, 0);
        bool neg = *t == '-';
        v = 0;
        for (t += neg; *t >= '0' && *t <= '9'; t++)
            v = v * 10 + (*t - '0');
        if (neg)
            v = -v;
    }
    PQclear(res);
    PQfinish(c);
    return v;
}
#endif

/* One integer from the store's database, read with a connection of our own. */
static int64_t sql_int(const fx_t *f, const char *sql)
{
#ifdef JOTD_HAVE_PG
    if (f->pg)
        return pg_sql(f, sql);
#endif
    return sqlite_int(f->path, sql);
}

static void sql_exec(const fx_t *f, const char *sql)
{
#ifdef JOTD_HAVE_PG
    if (f->pg) {
        pg_sql(f, sql);
        return;
    }
#endif
    sqlite_exec(f->path, sql);
}

/* The schema version the store's database records. */
static int64_t stored_schema(const fx_t *f)
{
    return sql_int(f, f->pg ? "SELECT version FROM jotd_schema" : "PRAGMA user_version");
}

/* Sessions holding more than one live (unused, unexpired) token: must always be 0. */
static int64_t sessions_with_two_live(const fx_t *f, int64_t now)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT sid FROM refresh_tokens WHERE used_at IS NULL"
             " AND expires_at > %lld GROUP BY sid HAVING count(*) > 1) AS x",
             (long long)now);
    return sql_int(f, sql);
}

/* ---- open / schema ------------------------------------------------------------------------ */

static void test_open_creates_schema(void **state)
{
    fx_t *f = *state;
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sql_int(f, "PRAGMA user_version"), SQLITE_STORE_SCHEMA);
    assert_int_equal(sql_int(f, "PRAGMA application_id"), 0x6A6F7464);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                " AND name IN ('users', 'clients', 'sessions',"
                                " 'refresh_tokens', 'denylist')"),
                     5);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                " AND name IN ('sessions_user_id', 'refresh_tokens_sid')"),
                     2);
    /* WAL is persistent in the file */
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_reopen_keeps_data(void **state)
{
    fx_t *f = *state;
    int64_t id = add_user(f->st, "alice");
    assert_rc(add_client(f->st, "web", NULL), JOTD_OK);
    jotd_store_close(f->st);
    f->st = NULL;
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);
    jotd_user_t u;
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_string_equal(u.username, "alice");
    jotd_user_clear(&u);
    assert_int_equal(stored_schema(f), f->pg ? PG_STORE_SCHEMA : SQLITE_STORE_SCHEMA);
    /* a second handle on the same file, both usable */
    jotd_store_t *st2 = NULL;
    assert_rc(jotd_store_open(f->loc, &st2), JOTD_OK);
    assert_rc(jotd_store_user_get_by_name(st2, "alice", &u), JOTD_OK);
    assert_int_equal(u.id, id);
    jotd_user_clear(&u);
    jotd_store_close(st2);
}

static void test_open_refuses_foreign_and_newer(void **state)
{
    fx_t *f = *state;
    jotd_store_t *st = NULL;
    char p[256];

    assert_rc(jotd_store_open(":memory:", &st), JOTD_E_INVAL);
    assert_rc(jotd_store_open("", &st), JOTD_E_INVAL);
    assert_rc(jotd_store_open(NULL, &st), JOTD_E_INVAL);
    assert_null(st);

    snprintf(p, sizeof p, "%s/no/such/dir/jotd.db", f->dir);
    assert_rc(jotd_store_open(p, &st), JOTD_E_IO);

    /* somebody else's SQLite database */
    snprintf(p, sizeof p, "%s/other.db", f->dir);
    sqlite_exec(p, "CREATE TABLE t (x INTEGER)");
    assert_rc(jotd_store_open(p, &st), JOTD_E_IO);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "not a jotd database"));
    assert_null(st);

    /* not a database at all */
    snprintf(p, sizeof p, "%s/junk.db", f->dir);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite file. ", fp);
    fclose(fp);
    assert_rc(jotd_store_open(p, &st), JOTD_E_IO);

    /* a schema from a future jotd */
    jotd_store_close(f->st);
    f->st = NULL;
    sql_exec(f, "PRAGMA user_version = 99");
    assert_rc(jotd_store_open(f->path, &st), JOTD_E_IO);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "newer"));
    sql_exec(f, "PRAGMA user_version = " STR(SQLITE_STORE_SCHEMA));
    assert_rc(jotd_store_open(f->path, &f->st), JOTD_OK);
}

/* ---- users -------------------------------------------------------------------------------- */

static void test_user_crud(void **state)
{
    fx_t *f = *state;
    char *roles[] = {"admin", "éditeur"};
    jotd_user_t u = {.username = "bob",
                     .password_hash = "$argon2id$phc",
                     .roles = roles,
                     .n_roles = 2,
                     .disabled = false};
    int64_t id = 0;
    assert_rc(jotd_store_user_create(f->st, &u, T0, &id), JOTD_OK);
    assert_true(id > 0);

    jotd_user_t got;
    assert_rc(jotd_store_user_get(f->st, id, &got), JOTD_OK);
    assert_int_equal(got.id, id);
    assert_string_equal(got.username, "bob");
    assert_string_equal(got.password_hash, "$argon2id$phc");
    assert_int_equal(got.n_roles, 2);
    assert_string_equal(got.roles[0], "admin");
    assert_string_equal(got.roles[1], "éditeur");
    assert_int_equal(got.n_permissions, 0);
    assert_false(got.disabled);
    assert_int_equal(got.created_at, T0);
    assert_int_equal(got.updated_at, T0);
    jotd_user_clear(&got);
    assert_null(got.username);

    assert_rc(jotd_store_user_get_by_name(f->st, "bob", &got), JOTD_OK);
    assert_int_equal(got.id, id);
    jotd_user_clear(&got);

    /* duplicate username: EXISTS, and the first row is untouched */
    int64_t id2 = 777;
    u.password_hash = "$argon2id$other";
    assert_rc(jotd_store_user_create(f->st, &u, T0 + 1, &id2), JOTD_E_EXISTS);
    assert_int_equal(id2, 777);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "bob"));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM users"), 1);

    /* not found: out untouched */
    memset(&got, 0xAB, sizeof got);
    assert_rc(jotd_store_user_get(f->st, id + 100, &got), JOTD_E_NOTFOUND);
    assert_int_equal(got.id, (int64_t)0xABABABABABABABABull);
    assert_rc(jotd_store_user_get_by_name(f->st, "nobody", &got), JOTD_E_NOTFOUND);

    /* invalid input */
    jotd_user_t bad = {.username = "", .password_hash = "x"};
    assert_rc(jotd_store_user_create(f->st, &bad, T0, &id2), JOTD_E_INVAL);
    bad.username = "carol";
    bad.password_hash = NULL;
    assert_rc(jotd_store_user_create(f->st, &bad, T0, &id2), JOTD_E_INVAL);
    char *nullrole[] = {"ok", NULL};
    bad.password_hash = "x";
    bad.roles = nullrole;
    bad.n_roles = 2;
    assert_rc(jotd_store_user_create(f->st, &bad, T0, &id2), JOTD_E_INVAL);
    char *badutf8[] = {"\xff\xfe"};
    bad.roles = badutf8;
    bad.n_roles = 1;
    assert_rc(jotd_store_user_create(f->st, &bad, T0, &id2), JOTD_E_INVAL);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM users"), 1);

    /* ids are never reused after a delete */
    int64_t id3 = add_user(f->st, "dave");
    assert_rc(jotd_store_user_delete(f->st, id3, T0), JOTD_OK);
    int64_t id4 = add_user(f->st, "erin");
    assert_true(id4 > id3);
}

static void test_user_corrupt_roles_row(void **state)
{
    fx_t *f = *state;
    int64_t id = add_user(f->st, "mallory");
    sql_exec(f, "UPDATE users SET roles = '[\"a\", 1]' WHERE username = 'mallory'");
    jotd_user_t u;
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_E_IO);
    sql_exec(f, "UPDATE users SET roles = '{\"a\":1}' WHERE username = 'mallory'");
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_E_IO);
    sql_exec(f, "UPDATE users SET roles = '[\"a\"]' WHERE username = 'mallory'");
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_int_equal(u.n_roles, 1);
    jotd_user_clear(&u);
}

static void test_user_list_paging(void **state)
{
    fx_t *f = *state;
    int64_t ids[5];
    char name[16];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "user%d", i);
        ids[i] = add_user(f->st, name);
    }
    jotd_user_t *v = NULL;
    size_t n = 99;
    assert_rc(jotd_store_user_list(f->st, 0, 2, &v, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, ids[0]);
    assert_int_equal(v[1].id, ids[1]);
    assert_string_equal(v[1].username, "user1");
    assert_int_equal(v[1].n_roles, 2);
    int64_t after = v[1].id;
    jotd_user_list_free(v, n);

    assert_rc(jotd_store_user_list(f->st, after, 2, &v, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, ids[2]);
    assert_int_equal(v[1].id, ids[3]);
    after = v[1].id;
    jotd_user_list_free(v, n);

    assert_rc(jotd_store_user_list(f->st, after, 2, &v, &n), JOTD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, ids[4]);
    jotd_user_list_free(v, n);

    assert_rc(jotd_store_user_list(f->st, ids[4], 10, &v, &n), JOTD_OK);
    assert_int_equal(n, 0);
    jotd_user_list_free(v, n);

    assert_rc(jotd_store_user_list(f->st, 0, 1000, &v, &n), JOTD_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].id, ids[i]);
    jotd_user_list_free(v, n);

    assert_rc(jotd_store_user_list(f->st, 0, 0, &v, &n), JOTD_OK);
    assert_int_equal(n, 0);
    jotd_user_list_free(v, n);

    /* more than the initial array capacity (16) */
    for (int i = 5; i < 40; i++) {
        snprintf(name, sizeof name, "user%d", i);
        add_user(f->st, name);
    }
    assert_rc(jotd_store_user_list(f->st, 0, SIZE_MAX, &v, &n), JOTD_OK);
    assert_int_equal(n, 40);
    assert_string_equal(v[39].username, "user39");
    jotd_user_list_free(v, n);
}

static void test_user_patch_each_field(void **state)
{
    fx_t *f = *state;
    int64_t id = add_user(f->st, "pat");
    add_session(f->st, "sess-pat-1", id, T0, T0 + 30 * DAY, 7 * DAY, 1);
    jotd_user_t u;

    /* roles only */
    const char *roles[] = {"viewer"};
    jotd_user_patch_t p = {.roles = roles, .n_roles = 1, .has_roles = true, .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, id, &p, T0 + 10), JOTD_OK);
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_int_equal(u.n_roles, 1);
    assert_string_equal(u.roles[0], "viewer");
    assert_int_equal(u.n_permissions, 1);
    assert_string_equal(u.permissions[0], "read:all");
    assert_false(u.disabled);
    assert_int_equal(u.updated_at, T0 + 10);
    assert_int_equal(u.created_at, T0);
    assert_string_equal(u.password_hash, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    jotd_user_clear(&u);

    /* permissions only, to empty */
    jotd_user_patch_t p2 = {.has_permissions = true, .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, id, &p2, T0 + 20), JOTD_OK);
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_int_equal(u.n_permissions, 0);
    assert_null(u.permissions);
    assert_int_equal(u.n_roles, 1);
    jotd_user_clear(&u);

    /* neither roles nor permissions nor password nor disabling ends a session */
    assert_true(session_active(f->st, "sess-pat-1", T0 + 20, NULL));
    assert_true(token_live(f->st, 1, T0 + 20));

    /* enable (already enabled) keeps sessions */
    jotd_user_patch_t p3 = {.disabled = 0};
    assert_rc(jotd_store_user_update(f->st, id, &p3, T0 + 30), JOTD_OK);
    assert_true(session_active(f->st, "sess-pat-1", T0 + 30, NULL));

    /* invalid patches change nothing */
    jotd_user_patch_t bad = {.disabled = 2};
    assert_rc(jotd_store_user_update(f->st, id, &bad, T0 + 40), JOTD_E_INVAL);
    const char *nullrole[] = {NULL};
    jotd_user_patch_t bad2 = {.roles = nullrole, .n_roles = 1, .has_roles = true, .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, id, &bad2, T0 + 40), JOTD_E_INVAL);
    jotd_user_patch_t bad3 = {.password_hash = "", .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, id, &bad3, T0 + 40), JOTD_E_INVAL);
    assert_rc(jotd_store_user_update(f->st, id, NULL, T0 + 40), JOTD_E_INVAL);
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_int_equal(u.updated_at, T0 + 30);
    jotd_user_clear(&u);

    /* unknown user */
    assert_rc(jotd_store_user_update(f->st, id + 1, &p, T0 + 50), JOTD_E_NOTFOUND);
}

static void test_user_disable_revokes_sessions(void **state)
{
    fx_t *f = *state;
    int64_t id = add_user(f->st, "dis");
    int64_t other = add_user(f->st, "other");
    add_session(f->st, "sess-dis-1", id, T0, T0 + 30 * DAY, 7 * DAY, 1);
    add_session(f->st, "sess-dis-2", id, T0, T0 + 30 * DAY, 7 * DAY, 2);
    add_session(f->st, "sess-oth-1", other, T0, T0 + 30 * DAY, 7 * DAY, 3);

    jotd_user_patch_t p = {.disabled = 1};
    assert_rc(jotd_store_user_update(f->st, id, &p, T0 + 100), JOTD_OK);
    jotd_user_t u;
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_true(u.disabled);
    jotd_user_clear(&u);

    bool revoked = false;
    assert_false(session_active(f->st, "sess-dis-1", T0 + 100, &revoked));
    assert_true(revoked);
    assert_false(session_active(f->st, "sess-dis-2", T0 + 100, &revoked));
    assert_true(revoked);
    assert_false(token_live(f->st, 1, T0 + 100));
    assert_false(token_live(f->st, 2, T0 + 100));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens t JOIN sessions s"
                                " USING (sid) WHERE s.sid LIKE 'sess-dis%'"
                                " AND t.used_at IS NULL"),
                     0);
    /* the other user is untouched */
    assert_true(session_active(f->st, "sess-oth-1", T0 + 100, &revoked));
    assert_false(revoked);
    assert_true(token_live(f->st, 3, T0 + 100));

    /* re-enabling does not resurrect the sessions */
    jotd_user_patch_t en = {.disabled = 0};
    assert_rc(jotd_store_user_update(f->st, id, &en, T0 + 200), JOTD_OK);
    assert_false(session_active(f->st, "sess-dis-1", T0 + 200, NULL));
    assert_rc(rotate(f->st, 1, 11, "web", T0 + 200, 0, &(jotd_rotation_t){0}), JOTD_E_EXPIRED);
}

static void test_user_password_change_revokes_sessions(void **state)
{
    fx_t *f = *state;
    int64_t id = add_user(f->st, "pw");
    add_session(f->st, "sess-pw-1", id, T0, T0 + 30 * DAY, 7 * DAY, 1);
    jotd_user_patch_t p = {.password_hash = "$argon2id$new", .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, id, &p, T0 + 5), JOTD_OK);
    jotd_user_t u;
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_OK);
    assert_string_equal(u.password_hash, "$argon2id$new");
    assert_false(u.disabled);
    jotd_user_clear(&u);
    bool revoked = false;
    assert_false(session_active(f->st, "sess-pw-1", T0 + 5, &revoked));
    assert_true(revoked);
    assert_false(token_live(f->st, 1, T0 + 5));
    rotate_expect(f->st, 1, 2, T0 + 6, 0, JOTD_E_EXPIRED);
}

static void test_user_delete_cascades(void **state)
{
    fx_t *f = *state;
    int64_t id = add_user(f->st, "del");
    add_session(f->st, "sess-del-1", id, T0, T0 + 30 * DAY, 7 * DAY, 1);
    rotate_expect(f->st, 1, 2, T0 + 10, 0, JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 2);

    assert_rc(jotd_store_user_delete(f->st, id, T0), JOTD_OK);
    jotd_user_t u;
    assert_rc(jotd_store_user_get(f->st, id, &u), JOTD_E_NOTFOUND);
    jotd_session_t s;
    bool active;
    assert_rc(jotd_store_session_get(f->st, "sess-del-1", T0 + 20, &s, &active), JOTD_E_NOTFOUND);
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 2);
    assert_rc(jotd_store_refresh_lookup(f->st, h, T0 + 20, &s, &active), JOTD_E_NOTFOUND);
    rotate_expect(f->st, 2, 3, T0 + 20, 0, JOTD_E_NOTFOUND);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 0);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 0);
    assert_rc(jotd_store_user_delete(f->st, id, T0), JOTD_E_NOTFOUND);
}

/* ---- clients ------------------------------------------------------------------------------ */

static void test_clients(void **state)
{
    fx_t *f = *state;
    assert_rc(add_client(f->st, "spa", NULL), JOTD_OK);
    assert_rc(add_client(f->st, "backend", "$argon2id$secret"), JOTD_OK);
    assert_rc(add_client(f->st, "spa", "$argon2id$x"), JOTD_E_EXISTS);
    assert_rc(add_client(f->st, "", NULL), JOTD_E_INVAL);

    jotd_client_t c = {0};
    assert_rc(jotd_store_client_get(f->st, "spa", &c), JOTD_OK);
    assert_null(c.secret_hash);
    assert_int_equal(c.n_scopes, 0);
    jotd_client_clear(&c);
    assert_rc(jotd_store_client_get(f->st, "backend", &c), JOTD_OK);
    assert_string_equal(c.secret_hash, "$argon2id$secret");
    jotd_client_clear(&c);
    c.created_at = 42;
    assert_rc(jotd_store_client_get(f->st, "nope", &c), JOTD_E_NOTFOUND);
    assert_int_equal(c.created_at, 42);

    /* the default client comes with every store, a public one */
    jotd_client_t *list = NULL;
    size_t n = 0;
    assert_rc(jotd_store_client_list(f->st, &list, &n), JOTD_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].client_id, "backend");
    assert_string_equal(list[1].client_id, "default");
    assert_null(list[1].secret_hash);
    assert_string_equal(list[2].client_id, "spa");
    jotd_client_list_free(list, n);
}

/* Scopes, default scopes and introspection audiences: stored, replaced list by list, each
 * change an event; a secret only for a confidential client; rehash only from the old hash. */
static void test_client_policy_and_update(void **state)
{
    fx_t *f = *state;
    char *scopes[] = {"read", "write"}, *def[] = {"read"}, *aud[] = {"https://api.example"};
    jotd_client_t in = {.client_id = "api",
                        .secret_hash = "$jotd-hmac-sha256$old",
                        .scopes = scopes,
                        .n_scopes = 2,
                        .default_scopes = def,
                        .n_default_scopes = 1,
                        .introspect = aud,
                        .n_introspect = 1};
    assert_rc(jotd_store_client_create(f->st, &in, T0), JOTD_OK);
    jotd_client_t c = {0}, copy = {0};
    assert_rc(jotd_store_client_get(f->st, "api", &c), JOTD_OK);
    assert_int_equal(c.n_scopes, 2);
    assert_string_equal(c.scopes[1], "write");
    assert_int_equal(c.n_default_scopes, 1);
    assert_string_equal(c.introspect[0], "https://api.example");
    assert_int_equal(jotd_client_copy(&copy, &c), 0);
    assert_string_equal(copy.default_scopes[0], "read");
    assert_string_equal(copy.secret_hash, "$jotd-hmac-sha256$old");
    jotd_client_clear(&copy);
    jotd_client_clear(&c);

    const char *only[] = {"read"};
    jotd_client_patch_t p = {.scopes = only,
                             .n_scopes = 1,
                             .has_scopes = true,
                             .has_introspect = true}; /* introspect emptied, defaults kept */
    assert_rc(jotd_store_client_update(f->st, "api", &p, T0 + 1), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "api", &c), JOTD_OK);
    assert_int_equal(c.n_scopes, 1);
    assert_int_equal(c.n_introspect, 0);
    assert_int_equal(c.n_default_scopes, 1);
    assert_string_equal(c.secret_hash, "$jotd-hmac-sha256$old");
    assert_int_equal(c.updated_at, T0 + 1);
    jotd_client_clear(&c);

    jotd_client_patch_t sec = {.secret_hash = "$jotd-hmac-sha256$new"};
    assert_rc(jotd_store_client_update(f->st, "api", &sec, T0 + 2), JOTD_OK);
    assert_rc(jotd_store_client_update(f->st, "default", &sec, T0 + 2), JOTD_E_INVAL);
    assert_rc(jotd_store_client_update(f->st, "nope", &sec, T0 + 2), JOTD_E_NOTFOUND);
    /* a rehash from a hash that is no longer stored changes nothing */
    assert_rc(jotd_store_client_rehash(f->st, "api", "$jotd-hmac-sha256$old", "$x$y"),
              JOTD_E_NOTFOUND);
    assert_rc(jotd_store_client_rehash(f->st, "api", "$jotd-hmac-sha256$new", "$x$y"), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "api", &c), JOTD_OK);
    assert_string_equal(c.secret_hash, "$x$y");
    jotd_client_clear(&c);
    /* create, the list update, the secret update: three events; a rehash is none */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE kind = 'client_changed'"
                                " AND subject = 'api'"),
                     3);
}

static void test_clients_empty_list(void **state)
{
    fx_t *f = *state;
    jotd_client_t *list = (jotd_client_t *)1;
    size_t n = 5;
    /* the default client is the only one of a new store */
    assert_rc(jotd_store_client_list(f->st, &list, &n), JOTD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].client_id, "default");
    jotd_client_list_free(list, n);
}

/* ---- events --------------------------------------------------------------------------------- */

typedef struct ev_log {
    int n;
    jotd_event_kind_t kind[32];
    char subject[32][64];
    int64_t value[32];
} ev_log_t;

static void ev_cb(void *ctx, const jotd_event_t *ev)
{
    ev_log_t *l = ctx;
    if (l->n >= 32)
        fail_msg("too many events");
    l->kind[l->n] = ev->kind;
    snprintf(l->subject[l->n], sizeof l->subject[0], "%s", ev->subject);
    l->value[l->n] = ev->value;
    l->n++;
}

static void events_after(jotd_store_t *st, int64_t *last, ev_log_t *l)
{
    memset(l, 0, sizeof *l);
    assert_rc(jotd_store_events_since(st, *last, 1000, ev_cb, l, last), JOTD_OK);
}

/* Every fact that voids tokens is an event, written with the change. */
static void test_events_of_each_change(void **state)
{
    fx_t *f = *state;
    int64_t last = 0;
    ev_log_t l;
    events_after(f->st, &last, &l); /* the default client of a new store: none */
    assert_int_equal(l.n, 0);

    int64_t uid = add_user(f->st, "alice");
    add_session(f->st, "s1", uid, T0, T0 + DAY, 3600, 1);
    add_session(f->st, "s2", uid, T0, T0 + DAY, 3600, 2);
    assert_rc(jotd_store_session_revoke(f->st, "s1", T0 + 1), JOTD_OK);
    assert_rc(jotd_store_session_revoke(f->st, "s1", T0 + 2), JOTD_OK); /* again: no event */
    assert_rc(jotd_store_deny_add(f->st, "jti-1", T0 + 900), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.kind[0], JOTD_EV_SESSION_REVOKED);
    assert_string_equal(l.subject[0], "s1");
    assert_int_equal(l.value[0], T0 + 1);
    assert_int_equal(l.kind[1], JOTD_EV_JTI_REVOKED);
    assert_string_equal(l.subject[1], "jti-1");
    assert_int_equal(l.value[1], T0 + 900);

    /* a role change: a new generation, sessions kept */
    const char *roles[] = {"viewer"};
    jotd_user_patch_t p = {.roles = roles, .n_roles = 1, .has_roles = true, .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, uid, &p, T0 + 3), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.kind[0], JOTD_EV_USER_GENERATION);
    char who[24];
    snprintf(who, sizeof who, "%lld", (long long)uid);
    assert_string_equal(l.subject[0], who);
    assert_int_equal(l.value[0], 1);
    assert_true(session_active(f->st, "s2", T0 + 3, NULL));
    jotd_user_t u = {0};
    assert_rc(jotd_store_user_get(f->st, uid, &u), JOTD_OK);
    assert_int_equal(u.generation, 1);
    jotd_user_clear(&u);

    /* enabling changes no generation; disabling ends s2 and bumps */
    jotd_user_patch_t en = {.disabled = 0};
    assert_rc(jotd_store_user_update(f->st, uid, &en, T0 + 4), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 0);
    jotd_user_patch_t dis = {.disabled = 1};
    assert_rc(jotd_store_user_update(f->st, uid, &dis, T0 + 5), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.kind[0], JOTD_EV_SESSION_REVOKED);
    assert_string_equal(l.subject[0], "s2");
    assert_int_equal(l.kind[1], JOTD_EV_USER_GENERATION);
    assert_int_equal(l.value[1], 2);

    /* reuse detection ends its session with an event */
    int64_t bob = add_user(f->st, "bob");
    add_session(f->st, "s3", bob, T0, T0 + DAY, 3600, 10);
    assert_false(rotate_expect(f->st, 10, 11, T0 + 6, 0, JOTD_OK));
    assert_false(rotate_expect(f->st, 10, 12, T0 + 7, 0, JOTD_E_REUSED));
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.kind[0], JOTD_EV_SESSION_REVOKED);
    assert_string_equal(l.subject[0], "s3");

    /* a password change and a delete: generations past every token of the user */
    add_session(f->st, "s4", bob, T0 + 8, T0 + DAY, 3600, 20);
    jotd_user_patch_t pw = {.password_hash = "$argon2id$new", .disabled = -1};
    assert_rc(jotd_store_user_update(f->st, bob, &pw, T0 + 8), JOTD_OK);
    assert_rc(jotd_store_user_delete(f->st, bob, T0 + 9), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.kind[0], JOTD_EV_SESSION_REVOKED);
    assert_int_equal(l.kind[1], JOTD_EV_USER_GENERATION);
    assert_int_equal(l.value[1], 1);
    assert_int_equal(l.kind[2], JOTD_EV_USER_GENERATION);
    assert_int_equal(l.value[2], 2);

    /* a reader resumes after the last id it saw; gc drops old events only */
    int64_t before = last;
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 0);
    assert_int_equal(last, before);
    assert_rc(jotd_store_gc(f->st, T0 + 10, 0), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE created_at <= 1700000010"), 0);
    /* an event kind of a later release is skipped, its id still counted */
    sql_exec(f, "INSERT INTO events (kind, subject, value, created_at)"
                " VALUES ('from_the_future', 'x', 0, 0)");
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 0);
    assert_true(last > before);
}

/* A store made by the previous release (schema 1) upgrades in place: its users, clients,
 * sessions and refresh tokens keep working, and the default client appears. */
/* ---- status list indexes ------------------------------------------------------------------ */

/* add_session(), returning the status index the store allocated. */
static int64_t add_session_idx(jotd_store_t *st, const char *sid, int64_t user_id, unsigned token)
{
    jotd_session_t s = {.user_id = user_id,
                        .client_id = "web",
                        .scope = "",
                        .expires_at = T0 + 30 * DAY,
                        .status_idx = 12345}; /* ignored: the store allocates */
    snprintf(s.sid, sizeof s.sid, "%s", sid);
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, token);
    assert_rc(jotd_store_session_create(st, &s, h, 7 * DAY, T0), JOTD_OK);
    assert_true(s.status_idx >= 0);
    return s.status_idx;
}

#define MAX_SEEN 64
struct status_seen {
    int64_t idx[MAX_SEEN];
    size_t n;
};

static void status_cb(void *ctx, int64_t idx)
{
    struct status_seen *z = ctx;
    if (z->n < MAX_SEEN)
        z->idx[z->n] = idx;
    z->n++;
}

/* The revoked indexes in [first, first + count), as the lists read them. */
static struct status_seen status_read(jotd_store_t *st, int64_t first, int64_t count,
                                      int64_t *out_next)
{
    struct status_seen z = {0};
    int64_t next = -1;
    assert_rc(jotd_store_status_read(st, first, count, status_cb, &z, &next), JOTD_OK);
    assert_true(z.n <= MAX_SEEN);
    if (out_next)
        *out_next = next;
    return z;
}

static bool seen(const struct status_seen *z, int64_t idx)
{
    for (size_t i = 0; i < z->n; i++)
        if (z->idx[i] == idx)
            return true;
    return false;
}

static int64_t session_idx(jotd_store_t *st, const char *sid)
{
    jotd_session_t s;
    bool active;
    assert_rc(jotd_store_session_get(st, sid, T0, &s, &active), JOTD_OK);
    int64_t idx = s.status_idx;
    jotd_session_clear(&s);
    return idx;
}

static void test_migration_from_schema_1(void **state)
{
    fx_t *f = *state;
    jotd_store_close(f->st);
    f->st = NULL;
    unlink(f->path);
    char sql[4096];
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode = WAL;"
             "PRAGMA application_id = %d;"
             "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL"
             " UNIQUE, password_hash TEXT NOT NULL, roles TEXT NOT NULL, permissions TEXT NOT"
             " NULL, disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)), created_at"
             " INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;"
             "CREATE TABLE clients (client_id TEXT PRIMARY KEY NOT NULL, secret_hash TEXT,"
             " created_at INTEGER NOT NULL) STRICT;"
             "CREATE TABLE sessions (sid TEXT PRIMARY KEY NOT NULL, user_id INTEGER NOT NULL"
             " REFERENCES users(id) ON DELETE CASCADE, client_id TEXT NOT NULL, scope TEXT NOT"
             " NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, last_used_at"
             " INTEGER NOT NULL, revoked_at INTEGER) STRICT;"
             "CREATE INDEX sessions_user_id ON sessions(user_id);"
             "CREATE TABLE refresh_tokens (hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) ="
             " 32), sid TEXT NOT NULL REFERENCES sessions(sid) ON DELETE CASCADE, created_at"
             " INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, successor BLOB"
             " CHECK (successor IS NULL OR length(successor) = 32)) STRICT, WITHOUT ROWID;"
             "CREATE INDEX refresh_tokens_sid ON refresh_tokens(sid);"
             "CREATE TABLE denylist (jti TEXT PRIMARY KEY NOT NULL, exp INTEGER NOT NULL)"
             " STRICT, WITHOUT ROWID;"
             "PRAGMA user_version = 1;"
             "INSERT INTO users VALUES (1, 'alice', '$argon2id$old', '[\"admin\"]', '[]', 0,"
             " %lld, %lld);"
             "INSERT INTO clients VALUES ('api', '$argon2id$v=19$m=1024,t=1,p=1$x$y', %lld);"
             "INSERT INTO clients VALUES ('web', NULL, %lld);"
             "INSERT INTO sessions VALUES ('old-session', 1, 'web', 'read', %lld, %lld, %lld,"
             " NULL);"
             "INSERT INTO sessions VALUES ('old-revoked', 1, 'web', 'read', %lld, %lld, %lld,"
             " %lld);",
             0x6A6F7464, (long long)T0, (long long)T0, (long long)T0, (long long)T0, (long long)T0,
             (long long)(T0 + 30 * DAY), (long long)T0, (long long)T0 + 1,
             (long long)(T0 + 30 * DAY), (long long)T0, (long long)T0 + 5);
    sql_exec(f, sql);
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 1);
    char hex[2 * JOTD_HASH_LEN + 1];
    for (size_t i = 0; i < JOTD_HASH_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    snprintf(sql, sizeof sql,
             "INSERT INTO refresh_tokens VALUES (x'%s', 'old-session', %lld, %lld,"
             " NULL, NULL);",
             hex, (long long)T0, (long long)(T0 + DAY));
    sql_exec(f, sql);

    assert_rc(jotd_store_open(f->path, &f->st), JOTD_OK);
    assert_int_equal(sql_int(f, "PRAGMA user_version"), SQLITE_STORE_SCHEMA);
    jotd_user_t u = {0};
    assert_rc(jotd_store_user_get_by_name(f->st, "alice", &u), JOTD_OK);
    assert_string_equal(u.password_hash, "$argon2id$old");
    assert_int_equal(u.generation, 0);
    jotd_user_clear(&u);
    jotd_client_t c = {0};
    assert_rc(jotd_store_client_get(f->st, "api", &c), JOTD_OK);
    assert_string_equal(c.secret_hash, "$argon2id$v=19$m=1024,t=1,p=1$x$y");
    assert_int_equal(c.n_scopes, 0);
    assert_int_equal(c.updated_at, T0);
    jotd_client_clear(&c);
    assert_rc(jotd_store_client_get(f->st, "default", &c), JOTD_OK);
    assert_null(c.secret_hash);
    jotd_client_clear(&c);
    /* schema 4: the earlier sessions got status indexes in creation order, the revoked one's
     * is revoked, and new sessions count on from there */
    assert_int_equal(session_idx(f->st, "old-session"), 0);
    assert_int_equal(session_idx(f->st, "old-revoked"), 1);
    /* schema 5: then the clients got theirs, in id order */
    int64_t nc = sql_int(f, "SELECT count(*) FROM clients");
    assert_true(nc >= 2);
    assert_int_equal(sql_int(f, "SELECT min(status_idx) FROM clients"), 2);
    assert_int_equal(sql_int(f, "SELECT max(status_idx) FROM clients"), 1 + nc);
    int64_t next = -1;
    struct status_seen z = status_read(f->st, 0, 100, &next);
    assert_int_equal(next, 2 + nc);
    assert_int_equal(z.n, 1);
    assert_int_equal(z.idx[0], 1);
    assert_int_equal(add_session_idx(f->st, "new-session", 1, 77), 2 + nc);
    /* the old refresh token rotates, its successor too */
    jotd_rotation_t rot = {0};
    assert_rc(rotate(f->st, 1, 2, "web", T0 + 60, 0, &rot), JOTD_OK);
    assert_string_equal(rot.session.sid, "old-session");
    assert_string_equal(rot.session.scope, "read");
    assert_string_equal(rot.user.username, "alice");
    jotd_rotation_clear(&rot);
    assert_false(rotate_expect(f->st, 2, 3, T0 + 120, 0, JOTD_OK));
    /* opening again changes nothing */
    jotd_store_close(f->st);
    assert_rc(jotd_store_open(f->path, &f->st), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM clients"), 3);
}

/* ---- sessions and rotation ---------------------------------------------------------------- */

static void test_session_create_and_rotate_chain(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "rot");
    add_session(f->st, "sess-rot-1", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    assert_true(token_live(f->st, 1, T0));

    /* duplicates refused */
    jotd_session_t s = {.user_id = uid, .client_id = "web", .scope = "", .expires_at = T0 + DAY};
    snprintf(s.sid, sizeof s.sid, "sess-rot-1");
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 99);
    assert_rc(jotd_store_session_create(f->st, &s, h, DAY, T0), JOTD_E_EXISTS);
    snprintf(s.sid, sizeof s.sid, "sess-rot-2");
    hash_of(h, 1);
    assert_rc(jotd_store_session_create(f->st, &s, h, DAY, T0), JOTD_E_EXISTS);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 1);
    /* unknown user, bad lifetimes */
    s.user_id = uid + 50;
    hash_of(h, 98);
    assert_rc(jotd_store_session_create(f->st, &s, h, DAY, T0), JOTD_E_NOTFOUND);
    s.user_id = uid;
    assert_rc(jotd_store_session_create(f->st, &s, h, 0, T0), JOTD_E_INVAL);
    assert_rc(jotd_store_session_create(f->st, &s, h, DAY, T0 + DAY), JOTD_E_INVAL);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 1);

    /* three rotations: 1 -> 2 -> 3 -> 4 */
    unsigned chain[] = {1, 2, 3, 4};
    for (int i = 0; i < 3; i++) {
        int64_t now = T0 + 100 * (i + 1);
        jotd_rotation_t out = {0};
        assert_rc(rotate(f->st, chain[i], chain[i + 1], "web", now, 0, &out), JOTD_OK);
        assert_false(out.grace);
        assert_string_equal(out.session.sid, "sess-rot-1");
        assert_int_equal(out.session.user_id, uid);
        assert_string_equal(out.session.client_id, "web");
        assert_string_equal(out.session.scope, "openid profile");
        assert_int_equal(out.session.created_at, T0);
        assert_int_equal(out.session.expires_at, T0 + 30 * DAY);
        assert_false(out.session.revoked);
        assert_int_equal(out.user.id, uid);
        assert_string_equal(out.user.username, "rot");
        assert_int_equal(out.user.n_roles, 2);
        assert_string_equal(out.user.roles[0], "admin");
        assert_int_equal(out.user.n_permissions, 1);
        jotd_rotation_clear(&out);
        assert_false(token_live(f->st, chain[i], now));
        assert_true(token_live(f->st, chain[i + 1], now));
        assert_int_equal(sessions_with_two_live(f, now), 0);
    }
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 4);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL"), 1);
    assert_int_equal(sql_int(f, "SELECT last_used_at FROM sessions"), T0 + 300);
    /* the successor's idle expiry: now + idle (3600 in rotate()) */
    assert_int_equal(sql_int(f, "SELECT expires_at FROM refresh_tokens WHERE used_at IS NULL"),
                     T0 + 300 + 3600);

    /* an unknown token */
    rotate_expect(f->st, 50, 51, T0 + 400, 0, JOTD_E_NOTFOUND);
    /* a successor equal to the old token is a caller bug */
    rotate_expect(f->st, 4, 4, T0 + 400, 0, JOTD_E_INVAL);
    assert_true(token_live(f->st, 4, T0 + 400));
}

static void test_rotate_reuse_revokes_session(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "reuse");
    add_session(f->st, "sess-reuse", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    add_session(f->st, "sess-bystander", uid, T0, T0 + 30 * DAY, 7 * DAY, 100);
    rotate_expect(f->st, 1, 2, T0 + 10, 0, JOTD_OK);
    rotate_expect(f->st, 2, 3, T0 + 20, 0, JOTD_OK);

    /* token 1 comes back (theft): the whole family dies, 3 included */
    jotd_rotation_t out;
    memset(&out, 0xCD, sizeof out);
    assert_rc(rotate(f->st, 1, 9, "web", T0 + 30, 0, &out), JOTD_E_REUSED);
    assert_int_equal(out.session.user_id, (int64_t)0xCDCDCDCDCDCDCDCDull); /* untouched */
    assert_non_null(strstr(jotd_store_errmsg(NULL), "reuse"));

    bool revoked = false;
    assert_false(session_active(f->st, "sess-reuse", T0 + 30, &revoked));
    assert_true(revoked);
    assert_false(token_live(f->st, 3, T0 + 30));
    rotate_expect(f->st, 3, 4, T0 + 31, 0, JOTD_E_EXPIRED);
    rotate_expect(f->st, 2, 5, T0 + 31, 0, JOTD_E_EXPIRED);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens t JOIN sessions s"
                                " USING (sid) WHERE s.sid = 'sess-reuse'"
                                " AND t.used_at IS NULL"),
                     0);
    /* nothing was stored for the thief's successor */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 4);
    /* another session of the same user is not affected */
    assert_true(session_active(f->st, "sess-bystander", T0 + 30, NULL));
    assert_true(token_live(f->st, 100, T0 + 30));
}

static void test_rotate_grace_window(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "grace");
    add_session(f->st, "sess-grace-1", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    rotate_expect(f->st, 1, 2, T0 + 100, 10, JOTD_OK);
    int64_t changes_before =
        sql_int(f, "SELECT coalesce(sum(used_at), 0) + coalesce(sum(expires_at), 0) + count(*) FROM"
                   " refresh_tokens");

    /* a duplicate within the window with the same successor: same answer, nothing changed */
    jotd_rotation_t out = {0};
    assert_rc(rotate(f->st, 1, 2, "web", T0 + 105, 10, &out), JOTD_OK);
    assert_true(out.grace);
    assert_string_equal(out.session.sid, "sess-grace-1");
    assert_int_equal(out.user.id, uid);
    assert_int_equal(out.user.n_roles, 2);
    jotd_rotation_clear(&out);
    assert_false(out.grace);
    assert_true(rotate_expect(f->st, 1, 2, T0 + 110, 10, JOTD_OK)); /* the window's edge */
    assert_int_equal(
        sql_int(f, "SELECT coalesce(sum(used_at), 0) + coalesce(sum(expires_at), 0) + count(*) FROM"
                   " refresh_tokens"),
        changes_before);
    assert_int_equal(sql_int(f, "SELECT last_used_at FROM sessions"), T0 + 100);
    assert_true(token_live(f->st, 2, T0 + 110));

    /* grace 0 disables the window, even within the same second */
    add_session(f->st, "sess-grace-0", uid, T0, T0 + 30 * DAY, 7 * DAY, 40);
    rotate_expect(f->st, 40, 41, T0 + 100, 0, JOTD_OK);
    rotate_expect(f->st, 40, 41, T0 + 100, 0, JOTD_E_REUSED);
    assert_false(token_live(f->st, 41, T0 + 100));

    /* within the window but another successor: reuse */
    add_session(f->st, "sess-grace-2", uid, T0, T0 + 30 * DAY, 7 * DAY, 10);
    rotate_expect(f->st, 10, 11, T0 + 100, 10, JOTD_OK);
    rotate_expect(f->st, 10, 12, T0 + 101, 10, JOTD_E_REUSED);
    assert_false(token_live(f->st, 11, T0 + 101));
    assert_false(session_active(f->st, "sess-grace-2", T0 + 101, NULL));

    /* after the window: reuse */
    add_session(f->st, "sess-grace-3", uid, T0, T0 + 30 * DAY, 7 * DAY, 20);
    rotate_expect(f->st, 20, 21, T0 + 100, 10, JOTD_OK);
    rotate_expect(f->st, 20, 21, T0 + 111, 10, JOTD_E_REUSED);
    assert_false(session_active(f->st, "sess-grace-3", T0 + 111, NULL));

    /* within the window but the successor was itself rotated already: reuse */
    add_session(f->st, "sess-grace-4", uid, T0, T0 + 30 * DAY, 7 * DAY, 30);
    rotate_expect(f->st, 30, 31, T0 + 100, 10, JOTD_OK);
    rotate_expect(f->st, 31, 32, T0 + 101, 10, JOTD_OK);
    rotate_expect(f->st, 30, 31, T0 + 102, 10, JOTD_E_REUSED);
    assert_false(token_live(f->st, 32, T0 + 102));

    /* the first session survived all that */
    assert_true(session_active(f->st, "sess-grace-1", T0 + 111, NULL));
    assert_int_equal(sessions_with_two_live(f, T0 + 111), 0);
}

static void test_rotate_idle_expiry(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "idle");
    add_session(f->st, "sess-idle", uid, T0, T0 + 30 * DAY, 100, 1);
    assert_int_equal(sql_int(f, "SELECT expires_at FROM refresh_tokens"), T0 + 100);
    assert_true(token_live(f->st, 1, T0 + 99));
    assert_false(token_live(f->st, 1, T0 + 100));
    rotate_expect(f->st, 1, 2, T0 + 100, 0, JOTD_E_EXPIRED);
    /* nothing changed: the token can still be rotated at an earlier clock */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL"), 1);
    rotate_expect(f->st, 1, 2, T0 + 99, 0, JOTD_OK);
    /* the successor has its own idle window (3600 from rotate()) */
    rotate_expect(f->st, 2, 3, T0 + 99 + 3599, 0, JOTD_OK);
    rotate_expect(f->st, 3, 4, T0 + 99 + 3599 + 3600, 0, JOTD_E_EXPIRED);
    /* a session still within its absolute lifetime is active even if its token idled out */
    assert_true(session_active(f->st, "sess-idle", T0 + 99 + 3599 + 3600, NULL));
}

static void test_rotate_absolute_expiry(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "abs");
    add_session(f->st, "sess-abs", uid, T0, T0 + 5000, 100000, 1);
    /* idle expiry capped at the session end */
    assert_int_equal(sql_int(f, "SELECT expires_at FROM refresh_tokens"), T0 + 5000);
    rotate_expect(f->st, 1, 2, T0 + 4000, 0, JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT max(expires_at) FROM refresh_tokens"), T0 + 5000);
    rotate_expect(f->st, 2, 3, T0 + 4999, 0, JOTD_OK);
    rotate_expect(f->st, 3, 4, T0 + 5000, 0, JOTD_E_EXPIRED);
    assert_false(session_active(f->st, "sess-abs", T0 + 5000, NULL));
    assert_true(session_active(f->st, "sess-abs", T0 + 4999, NULL));
}

static void test_rotate_client_mismatch(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "mm");
    add_session(f->st, "sess-mm", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    jotd_rotation_t out = {0};
    assert_rc(rotate(f->st, 1, 2, "evil", T0 + 10, 0, &out), JOTD_E_MISMATCH);
    assert_true(token_live(f->st, 1, T0 + 10));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 1);
    /* even a used token presented by another client changes nothing */
    rotate_expect(f->st, 1, 2, T0 + 20, 0, JOTD_OK);
    assert_rc(rotate(f->st, 1, 3, "evil", T0 + 30, 0, &out), JOTD_E_MISMATCH);
    assert_true(session_active(f->st, "sess-mm", T0 + 30, NULL));
    assert_true(token_live(f->st, 2, T0 + 30));
}

static void test_rotate_disabled_user(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "off");
    add_session(f->st, "sess-off", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    /* disable behind the store's back, so that the session is not revoked: the rotation
     * must still refuse the user and change nothing */
    sql_exec(f, f->pg ? "UPDATE users SET disabled = true" : "UPDATE users SET disabled = 1");
    jotd_rotation_t out = {0};
    assert_rc(rotate(f->st, 1, 2, "web", T0 + 10, 0, &out), JOTD_E_DISABLED);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL"), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions WHERE revoked_at IS NULL"), 1);
    assert_false(token_live(f->st, 1, T0 + 10)); /* a disabled user's token is not live */
    assert_false(session_active(f->st, "sess-off", T0 + 10, NULL));
    sql_exec(f, f->pg ? "UPDATE users SET disabled = false" : "UPDATE users SET disabled = 0");
    rotate_expect(f->st, 1, 2, T0 + 20, 0, JOTD_OK);
}

static void test_session_get_active_flags(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "flags");
    add_session(f->st, "sess-flags", uid, T0, T0 + 1000, 500, 1);
    jotd_session_t s;
    bool active = false;
    assert_rc(jotd_store_session_get(f->st, "sess-flags", T0 + 1, &s, &active), JOTD_OK);
    assert_true(active);
    assert_false(s.revoked);
    assert_string_equal(s.sid, "sess-flags");
    assert_int_equal(s.user_id, uid);
    assert_string_equal(s.client_id, "web");
    assert_string_equal(s.scope, "openid profile");
    assert_int_equal(s.created_at, T0);
    assert_int_equal(s.expires_at, T0 + 1000);
    jotd_session_clear(&s);
    assert_null(s.client_id);

    assert_false(session_active(f->st, "sess-flags", T0 + 1000, NULL)); /* past its end */
    jotd_user_patch_t p = {.disabled = 1};
    assert_rc(jotd_store_user_update(f->st, uid, &p, T0 + 2), JOTD_OK);
    bool revoked = false;
    assert_false(session_active(f->st, "sess-flags", T0 + 2, &revoked));
    assert_true(revoked);
    /* disabled without revocation (behind the store's back) is still inactive */
    add_session(f->st, "sess-flags2", uid, T0, T0 + 1000, 500, 2);
    assert_false(session_active(f->st, "sess-flags2", T0 + 3, &revoked));
    assert_false(revoked);

    memset(&s, 0xEE, sizeof s);
    assert_rc(jotd_store_session_get(f->st, "nope", T0, &s, &active), JOTD_E_NOTFOUND);
    assert_int_equal((unsigned char)s.sid[0], 0xEE);

    /* refresh_lookup reports the session of a token */
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 2);
    bool live = true;
    assert_rc(jotd_store_refresh_lookup(f->st, h, T0 + 3, &s, &live), JOTD_OK);
    assert_string_equal(s.sid, "sess-flags2");
    assert_false(live);
    jotd_session_clear(&s);
}

static void test_session_revoke_idempotent(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "rev");
    add_session(f->st, "sess-rev", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    rotate_expect(f->st, 1, 2, T0 + 5, 0, JOTD_OK);
    assert_rc(jotd_store_session_revoke(f->st, "sess-rev", T0 + 10), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT revoked_at FROM sessions"), T0 + 10);
    assert_rc(jotd_store_session_revoke(f->st, "sess-rev", T0 + 20), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT revoked_at FROM sessions"), T0 + 10);
    assert_false(token_live(f->st, 2, T0 + 20));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL"), 0);
    rotate_expect(f->st, 2, 3, T0 + 30, 0, JOTD_E_EXPIRED);
    assert_rc(jotd_store_session_revoke(f->st, "nope", T0 + 30), JOTD_E_NOTFOUND);
}

static void test_sessions_revoke_user_count(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "many");
    int64_t other = add_user(f->st, "notme");
    add_session(f->st, "sess-m-1", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    add_session(f->st, "sess-m-2", uid, T0, T0 + 30 * DAY, 7 * DAY, 2);
    add_session(f->st, "sess-m-3", uid, T0, T0 + 30 * DAY, 7 * DAY, 3);
    add_session(f->st, "sess-o-1", other, T0, T0 + 30 * DAY, 7 * DAY, 4);
    assert_rc(jotd_store_session_revoke(f->st, "sess-m-3", T0 + 1), JOTD_OK);

    size_t n = 99;
    assert_rc(jotd_store_sessions_revoke_user(f->st, uid, T0 + 2, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_rc(jotd_store_sessions_revoke_user(f->st, uid, T0 + 3, &n), JOTD_OK);
    assert_int_equal(n, 0);
    assert_rc(jotd_store_sessions_revoke_user(f->st, uid, T0 + 3, NULL), JOTD_OK);
    assert_false(token_live(f->st, 1, T0 + 3));
    assert_false(token_live(f->st, 2, T0 + 3));
    assert_true(token_live(f->st, 4, T0 + 3));
    assert_true(session_active(f->st, "sess-o-1", T0 + 3, NULL));
    n = 99;
    assert_rc(jotd_store_sessions_revoke_user(f->st, other + 100, T0 + 3, &n), JOTD_E_NOTFOUND);
    assert_int_equal(n, 99);
}

/* ---- status list indexes (helpers above the migration test) ---- */

static void test_status_index_allocation(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "st-alloc");
    int64_t a = add_session_idx(f->st, "st-a", uid, 1);
    int64_t b = add_session_idx(f->st, "st-b", uid, 2);
    int64_t c = add_session_idx(f->st, "st-c", uid, 3);
    assert_int_equal(a, 1); /* a new store counts from 0, which the default client holds */
    assert_true(a < b && b < c);
    /* every read of the session carries it: get, lookup, rotation */
    assert_int_equal(session_idx(f->st, "st-b"), b);
    jotd_session_t s;
    bool live;
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 2);
    assert_rc(jotd_store_refresh_lookup(f->st, h, T0, &s, &live), JOTD_OK);
    assert_int_equal(s.status_idx, b);
    jotd_session_clear(&s);
    jotd_rotation_t rot = {0};
    assert_rc(rotate(f->st, 3, 4, "web", T0 + 1, 0, &rot), JOTD_OK);
    assert_int_equal(rot.session.status_idx, c);
    jotd_rotation_clear(&rot);
    /* the sessions go (user deleted, rows cascaded), the store is closed and opened again:
     * their indexes are never handed out again */
    assert_rc(jotd_store_user_delete(f->st, uid, T0 + 2), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), 0);
    jotd_store_close(f->st);
    f->st = NULL;
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);
    int64_t next = -1;
    status_read(f->st, 0, 1000, &next);
    assert_int_equal(next, c + 1);
    uid = add_user(f->st, "st-alloc2");
    int64_t d = add_session_idx(f->st, "st-d", uid, 5);
    assert_true(d > c);
    status_read(f->st, 0, 1000, &next);
    assert_int_equal(next, d + 1);
    /* a failed creation (sid taken) allocates nothing visible and keeps the row as it was */
    jotd_session_t dup = {.user_id = uid, .client_id = "web", .scope = "", .expires_at = T0 + DAY};
    snprintf(dup.sid, sizeof dup.sid, "st-d");
    hash_of(h, 6);
    assert_rc(jotd_store_session_create(f->st, &dup, h, DAY, T0), JOTD_E_EXISTS);
    assert_int_equal(session_idx(f->st, "st-d"), d);
    int64_t e = add_session_idx(f->st, "st-e", uid, 7);
    assert_true(e > d);
    /* bad arguments */
    struct status_seen z = {0};
    assert_rc(jotd_store_status_read(f->st, -1, 10, status_cb, &z, &next), JOTD_E_INVAL);
    assert_rc(jotd_store_status_read(f->st, 0, 0, status_cb, &z, &next), JOTD_E_INVAL);
    assert_rc(jotd_store_status_read(f->st, INT64_MAX, 2, status_cb, &z, &next), JOTD_E_INVAL);
    assert_rc(jotd_store_status_read(f->st, 0, 1, NULL, &z, &next), JOTD_E_INVAL);
}

/* Every client gets a status index from the sessions' counter when it is created; its
 * resources (RFC 8707 audiences) round-trip and are patched like the other lists. */
static void test_client_status_index_and_resources(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "cs-user");
    int64_t s1 = add_session_idx(f->st, "cs-1", uid, 1);
    char *res[] = {"https://a.test", "https://b.test"};
    jotd_client_t in = {.client_id = "svc-1",
                        .secret_hash = "$jotd-hmac-sha256$x",
                        .resources = res,
                        .n_resources = 2,
                        .status_idx = 12345};
    assert_rc(jotd_store_client_create(f->st, &in, T0), JOTD_OK);
    assert_rc(add_client(f->st, "svc-2", NULL), JOTD_OK);
    int64_t s2 = add_session_idx(f->st, "cs-2", uid, 2);
    jotd_client_t a = {0}, b = {0}, copy = {0};
    assert_rc(jotd_store_client_get(f->st, "svc-1", &a), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "svc-2", &b), JOTD_OK);
    assert_int_equal(a.status_idx, s1 + 1); /* the given value is ignored */
    assert_int_equal(b.status_idx, s1 + 2);
    assert_int_equal(s2, s1 + 3);
    assert_int_equal(a.n_resources, 2);
    assert_string_equal(a.resources[0], "https://a.test");
    assert_string_equal(a.resources[1], "https://b.test");
    assert_int_equal(b.n_resources, 0);
    assert_int_equal(jotd_client_copy(&copy, &a), 0);
    assert_int_equal(copy.status_idx, a.status_idx);
    assert_string_equal(copy.resources[1], "https://b.test");
    jotd_client_clear(&copy);
    /* patch: the resources alone, then cleared; the index never changes */
    const char *one[] = {"https://c.test"};
    jotd_client_patch_t p = {.resources = one, .n_resources = 1, .has_resources = true};
    assert_rc(jotd_store_client_update(f->st, "svc-1", &p, T0 + 1), JOTD_OK);
    jotd_client_clear(&a);
    assert_rc(jotd_store_client_get(f->st, "svc-1", &a), JOTD_OK);
    assert_int_equal(a.n_resources, 1);
    assert_string_equal(a.resources[0], "https://c.test");
    assert_int_equal(a.status_idx, s1 + 1);
    jotd_client_patch_t none = {.has_resources = true};
    assert_rc(jotd_store_client_update(f->st, "svc-1", &none, T0 + 2), JOTD_OK);
    jotd_client_clear(&a);
    assert_rc(jotd_store_client_get(f->st, "svc-1", &a), JOTD_OK);
    assert_int_equal(a.n_resources, 0);
    /* a duplicate id changes nothing (PostgreSQL's sequence may leave a gap) */
    assert_rc(add_client(f->st, "svc-2", NULL), JOTD_E_EXISTS);
    assert_true(add_session_idx(f->st, "cs-3", uid, 3) > s2);
    jotd_client_clear(&b);
    assert_rc(jotd_store_client_get(f->st, "svc-2", &b), JOTD_OK);
    assert_int_equal(b.status_idx, s1 + 2);
    /* too many resources */
    char *many[JOTD_CLIENT_MAX_LIST + 1];
    for (size_t i = 0; i <= JOTD_CLIENT_MAX_LIST; i++)
        many[i] = "https://x.test";
    jotd_client_t big = {
        .client_id = "svc-big", .resources = many, .n_resources = JOTD_CLIENT_MAX_LIST + 1};
    assert_rc(jotd_store_client_create(f->st, &big, T0), JOTD_E_INVAL);
    jotd_client_clear(&a);
    jotd_client_clear(&b);
}

/* A client's redirect URIs (the authorization code flow) round-trip, in order, through
 * create, copy, a patch that replaces them, a patch of another list that keeps them, and a
 * patch that clears them. */
static void test_client_redirect_uris(void **state)
{
    fx_t *f = *state;
    char *uris[] = {"https://app.test/cb", "http://127.0.0.1:8080/cb?x=1"};
    jotd_client_t in = {.client_id = "web-1", .redirect_uris = uris, .n_redirect_uris = 2};
    assert_rc(jotd_store_client_create(f->st, &in, T0), JOTD_OK);
    jotd_client_t a = {0}, copy = {0};
    assert_rc(jotd_store_client_get(f->st, "web-1", &a), JOTD_OK);
    assert_int_equal(a.n_redirect_uris, 2);
    assert_string_equal(a.redirect_uris[0], "https://app.test/cb");
    assert_string_equal(a.redirect_uris[1], "http://127.0.0.1:8080/cb?x=1");
    assert_int_equal(jotd_client_copy(&copy, &a), 0);
    assert_string_equal(copy.redirect_uris[1], "http://127.0.0.1:8080/cb?x=1");
    jotd_client_clear(&copy);
    jotd_client_clear(&a);
    const char *one[] = {"https://app.test/other"};
    jotd_client_patch_t p = {.redirect_uris = one, .n_redirect_uris = 1, .has_redirect_uris = true};
    assert_rc(jotd_store_client_update(f->st, "web-1", &p, T0 + 1), JOTD_OK);
    const char *scope[] = {"read"};
    jotd_client_patch_t other = {.scopes = scope, .n_scopes = 1, .has_scopes = true};
    assert_rc(jotd_store_client_update(f->st, "web-1", &other, T0 + 2), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "web-1", &a), JOTD_OK);
    assert_int_equal(a.n_redirect_uris, 1);
    assert_string_equal(a.redirect_uris[0], "https://app.test/other");
    jotd_client_clear(&a);
    jotd_client_patch_t none = {.has_redirect_uris = true};
    assert_rc(jotd_store_client_update(f->st, "web-1", &none, T0 + 3), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "web-1", &a), JOTD_OK);
    assert_int_equal(a.n_redirect_uris, 0);
    jotd_client_clear(&a);
    /* too many */
    char *many[JOTD_CLIENT_MAX_LIST + 1];
    for (size_t i = 0; i <= JOTD_CLIENT_MAX_LIST; i++)
        many[i] = "https://x.test/cb";
    jotd_client_t big = {
        .client_id = "web-big", .redirect_uris = many, .n_redirect_uris = JOTD_CLIENT_MAX_LIST + 1};
    assert_rc(jotd_store_client_create(f->st, &big, T0), JOTD_E_INVAL);
}

/* Browser clients (SQLite schema 7, PostgreSQL 6): allowed origins, cookie mode and the
 * refresh grace round-trip through create, copy and patches (-1 back to the default); cookie
 * mode is refused, on create and on every update, for a confidential client, without an
 * allowed origin, or with an id that is no cookie-name token. */
static void test_client_browser(void **state)
{
    fx_t *f = *state;
    char *origins[] = {"https://app.test", "http://localhost:5173"};
    jotd_client_t in = {.client_id = "spa-1",
                        .allowed_origins = origins,
                        .n_allowed_origins = 2,
                        .cookie_mode = true,
                        .has_refresh_grace = true,
                        .refresh_grace = 7};
    assert_rc(jotd_store_client_create(f->st, &in, T0), JOTD_OK);
    jotd_client_t a = {0}, copy = {0};
    assert_rc(jotd_store_client_get(f->st, "spa-1", &a), JOTD_OK);
    assert_int_equal(a.n_allowed_origins, 2);
    assert_string_equal(a.allowed_origins[1], "http://localhost:5173");
    assert_true(a.cookie_mode);
    assert_true(a.has_refresh_grace);
    assert_int_equal(a.refresh_grace, 7);
    assert_int_equal(jotd_client_copy(&copy, &a), 0);
    assert_true(copy.cookie_mode && copy.has_refresh_grace && copy.refresh_grace == 7);
    jotd_client_clear(&copy);
    /* every scalar: the credential cache hands out copies, and a service token carries the
     * copy's generation (a copy with generation 0 after an enable made voided tokens) */
    a.generation = 3;
    a.disabled = true;
    a.status_idx = 42;
    assert_int_equal(jotd_client_copy(&copy, &a), 0);
    assert_int_equal(copy.generation, 3);
    assert_true(copy.disabled);
    assert_int_equal(copy.status_idx, 42);
    assert_int_equal(copy.created_at, a.created_at);
    assert_int_equal(copy.updated_at, a.updated_at);
    assert_string_equal(copy.allowed_origins[0], "https://app.test");
    jotd_client_clear(&copy);
    jotd_client_clear(&a);
    /* a patch of another list keeps them; grace -1 goes back to the default */
    const char *scope[] = {"read"};
    jotd_client_patch_t other = {.scopes = scope,
                                 .n_scopes = 1,
                                 .has_scopes = true,
                                 .has_refresh_grace = true,
                                 .refresh_grace = -1};
    assert_rc(jotd_store_client_update(f->st, "spa-1", &other, T0 + 1), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "spa-1", &a), JOTD_OK);
    assert_true(a.cookie_mode);
    assert_false(a.has_refresh_grace);
    assert_int_equal(a.n_allowed_origins, 2);
    jotd_client_clear(&a);
    /* clearing the origins of a cookie-mode client: refused, nothing changed */
    jotd_client_patch_t none = {.has_allowed_origins = true};
    assert_rc(jotd_store_client_update(f->st, "spa-1", &none, T0 + 2), JOTD_E_INVAL);
    /* with cookie mode off at once: fine */
    jotd_client_patch_t off = {.has_allowed_origins = true, .has_cookie_mode = true};
    assert_rc(jotd_store_client_update(f->st, "spa-1", &off, T0 + 3), JOTD_OK);
    assert_rc(jotd_store_client_get(f->st, "spa-1", &a), JOTD_OK);
    assert_false(a.cookie_mode);
    assert_int_equal(a.n_allowed_origins, 0);
    jotd_client_clear(&a);
    /* cookie mode on without an origin: refused */
    jotd_client_patch_t on = {.has_cookie_mode = true, .cookie_mode = true};
    assert_rc(jotd_store_client_update(f->st, "spa-1", &on, T0 + 4), JOTD_E_INVAL);
    /* refused at create: confidential, no origin, an id with '@' */
    jotd_client_t conf = {.client_id = "spa-2",
                          .secret_hash = "$jotd-hmac-sha256$x",
                          .allowed_origins = origins,
                          .n_allowed_origins = 1,
                          .cookie_mode = true};
    assert_rc(jotd_store_client_create(f->st, &conf, T0), JOTD_E_INVAL);
    jotd_client_t bare = {.client_id = "spa-3", .cookie_mode = true};
    assert_rc(jotd_store_client_create(f->st, &bare, T0), JOTD_E_INVAL);
    jotd_client_t at = {.client_id = "spa@4",
                        .allowed_origins = origins,
                        .n_allowed_origins = 1,
                        .cookie_mode = true};
    assert_rc(jotd_store_client_create(f->st, &at, T0), JOTD_E_INVAL);
    /* a confidential client may allow origins (CORS) without cookie mode */
    conf.cookie_mode = false;
    assert_rc(jotd_store_client_create(f->st, &conf, T0), JOTD_OK);
    /* and is never put in cookie mode by a patch */
    assert_rc(jotd_store_client_update(f->st, "spa-2", &on, T0 + 5), JOTD_E_INVAL);
}

/* A store of the schema before browser clients (SQLite 6, PostgreSQL 5: made by dropping
 * what the later steps add) with a client: opening it migrates, and the client has no
 * origins, no cookie mode and the default grace. */
static void test_migration_browser_clients(void **state)
{
    fx_t *f = *state;
    char *scopes[] = {"read"};
    jotd_client_t in = {.client_id = "old-app", .scopes = scopes, .n_scopes = 1};
    assert_rc(jotd_store_client_create(f->st, &in, T0), JOTD_OK);
    jotd_store_close(f->st);
    f->st = NULL;
    if (f->pg)
        sql_exec(f, "ALTER TABLE clients DROP COLUMN allowed_origins, DROP COLUMN cookie_mode,"
                    " DROP COLUMN refresh_grace; ALTER TABLE auth_codes DROP COLUMN replayed_at;"
                    " UPDATE jotd_schema SET version = 5");
    else
        sql_exec(f, "ALTER TABLE clients DROP COLUMN allowed_origins;"
                    " ALTER TABLE clients DROP COLUMN cookie_mode;"
                    " ALTER TABLE clients DROP COLUMN refresh_grace;"
                    " ALTER TABLE auth_codes DROP COLUMN replayed_at;"
                    " PRAGMA user_version = 6;");
    assert_int_equal(stored_schema(f), f->pg ? 5 : 6);
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);
    assert_int_equal(stored_schema(f), f->pg ? PG_STORE_SCHEMA : SQLITE_STORE_SCHEMA);
    jotd_client_t a = {0};
    assert_rc(jotd_store_client_get(f->st, "old-app", &a), JOTD_OK);
    assert_int_equal(a.n_scopes, 1);
    assert_int_equal(a.n_allowed_origins, 0);
    assert_false(a.cookie_mode);
    assert_false(a.has_refresh_grace);
    jotd_client_clear(&a);
}

/* Authorization codes: stored by hash, redeemed once (the row comes back each time, marked
 * used from the second redemption on), unknown codes NOTFOUND, collected after their expiry
 * plus the keep time. */
static void test_auth_codes(void **state)
{
    fx_t *f = *state;
    uint8_t h1[JOTD_HASH_LEN], h2[JOTD_HASH_LEN];
    memset(h1, 0x11, sizeof h1);
    memset(h2, 0x22, sizeof h2);
    jotd_auth_code_t in = {.client_id = "web",
                           .redirect_uri = "https://app.test/cb",
                           .code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                           .scope = "profile",
                           .user_id = 42,
                           .expires_at = T0 + 60};
    memcpy(in.sid, "code-session-sid-01234", JOTD_SID_LEN + 1);
    assert_rc(jotd_store_code_create(f->st, h1, &in), JOTD_OK);
    assert_rc(jotd_store_code_create(f->st, h1, &in), JOTD_E_EXISTS);
    jotd_auth_code_t a = {0};
    assert_rc(jotd_store_code_redeem(f->st, h2, T0 + 1, &a), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_code_redeem(f->st, h1, T0 + 1, &a), JOTD_OK);
    assert_false(a.used);
    assert_string_equal(a.client_id, "web");
    assert_string_equal(a.redirect_uri, "https://app.test/cb");
    assert_string_equal(a.code_challenge, in.code_challenge);
    assert_string_equal(a.scope, "profile");
    assert_int_equal(a.user_id, 42);
    assert_string_equal(a.sid, in.sid);
    assert_int_equal(a.expires_at, T0 + 60);
    jotd_auth_code_clear(&a);
    assert_rc(jotd_store_code_redeem(f->st, h1, T0 + 2, &a), JOTD_OK);
    assert_true(a.used);
    assert_string_equal(a.sid, in.sid);
    jotd_auth_code_clear(&a);
    /* collected once expired longer than the keep time */
    assert_rc(jotd_store_gc(f->st, T0 + 60 + 100, 10), JOTD_OK);
    assert_rc(jotd_store_code_redeem(f->st, h1, T0 + 200, &a), JOTD_E_NOTFOUND);
}

/* A replay racing the first exchange (issue: "replayed" mark): the first exchange redeems,
 * the replay redeems again and revokes a session that is not stored yet (nothing to revoke),
 * then the first exchange stores its session and asks jotd_store_code_replayed: true, so it
 * revokes its own session (routes_token.c). Without a replay the answer is false. */
static void test_auth_code_replay_race(void **state)
{
    fx_t *f = *state;
    uint8_t h1[JOTD_HASH_LEN], h2[JOTD_HASH_LEN], h3[JOTD_HASH_LEN];
    memset(h1, 0x31, sizeof h1);
    memset(h2, 0x32, sizeof h2);
    memset(h3, 0x33, sizeof h3);
    jotd_auth_code_t in = {.client_id = "web",
                           .redirect_uri = "https://app.test/cb",
                           .code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                           .scope = "",
                           .user_id = 42,
                           .expires_at = T0 + 60};
    memcpy(in.sid, "race-session-sid-00001", JOTD_SID_LEN + 1);
    assert_rc(jotd_store_code_create(f->st, h1, &in), JOTD_OK);
    memcpy(in.sid, "race-session-sid-00002", JOTD_SID_LEN + 1);
    assert_rc(jotd_store_code_create(f->st, h2, &in), JOTD_OK);
    bool replayed = true;
    assert_rc(jotd_store_code_replayed(f->st, h3, &replayed), JOTD_OK); /* unknown code */
    assert_false(replayed);

    jotd_auth_code_t first = {0}, again = {0};
    assert_rc(jotd_store_code_redeem(f->st, h1, T0 + 1, &first), JOTD_OK);
    assert_false(first.used);
    assert_rc(jotd_store_code_replayed(f->st, h1, &replayed), JOTD_OK);
    assert_false(replayed); /* redeemed once: not a replay */
    assert_rc(jotd_store_code_redeem(f->st, h1, T0 + 2, &again), JOTD_OK);
    assert_true(again.used);
    /* the replay's revoke: the first exchange has not stored its session yet */
    assert_rc(jotd_store_session_revoke(f->st, again.sid, T0 + 2), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_code_replayed(f->st, h1, &replayed), JOTD_OK);
    assert_true(replayed); /* the first exchange sees it after storing its session */
    /* a third presentation keeps the mark */
    jotd_auth_code_clear(&again);
    assert_rc(jotd_store_code_redeem(f->st, h1, T0 + 3, &again), JOTD_OK);
    assert_true(again.used);
    assert_rc(jotd_store_code_replayed(f->st, h1, &replayed), JOTD_OK);
    assert_true(replayed);
    /* the other code, redeemed once, is not marked */
    jotd_auth_code_clear(&first);
    assert_rc(jotd_store_code_redeem(f->st, h2, T0 + 1, &first), JOTD_OK);
    assert_rc(jotd_store_code_replayed(f->st, h2, &replayed), JOTD_OK);
    assert_false(replayed);
    jotd_auth_code_clear(&first);
    jotd_auth_code_clear(&again);
}

/* Disable / enable / delete a client: its sessions end (events, refresh tokens, status bits),
 * its own status bit is set, its generation bumps with a client_generation event; enable
 * gives it a new status index; repeated calls change nothing. */
static void test_client_disable_enable_delete(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "cd-user");
    assert_rc(add_client(f->st, "web", "$jotd-hmac-sha256$x"), JOTD_OK);
    int64_t s_web = add_session_idx(f->st, "cd-web", uid, 1);
    jotd_session_t o = {.user_id = uid, .client_id = "other", .scope = "", .expires_at = T0 + DAY};
    snprintf(o.sid, sizeof o.sid, "cd-other");
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 2);
    assert_rc(jotd_store_session_create(f->st, &o, h, DAY, T0), JOTD_OK);
    jotd_client_t c = {0};
    assert_rc(jotd_store_client_get(f->st, "web", &c), JOTD_OK);
    int64_t idx0 = c.status_idx;
    assert_false(c.disabled);
    assert_int_equal(c.generation, 0);
    jotd_client_clear(&c);
    int64_t last = 0;
    ev_log_t l;
    events_after(f->st, &last, &l);

    assert_rc(jotd_store_client_set_state(f->st, "web", JOTD_CLIENT_DISABLE, T0 + 10), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.kind[0], JOTD_EV_SESSION_REVOKED);
    assert_string_equal(l.subject[0], "cd-web");
    assert_int_equal(l.kind[1], JOTD_EV_CLIENT_GENERATION);
    assert_string_equal(l.subject[1], "web");
    assert_int_equal(l.value[1], 0); /* the generation voided */
    assert_int_equal(l.kind[2], JOTD_EV_CLIENT_CHANGED);
    assert_false(session_active(f->st, "cd-web", T0 + 10, NULL));
    assert_true(session_active(f->st, "cd-other", T0 + 10, NULL));
    jotd_rotation_t rot = {0};
    assert_true(rotate(f->st, 1, 3, "web", T0 + 11, 0, &rot) != JOTD_OK); /* its refresh token */
    jotd_rotation_clear(&rot);
    struct status_seen z = status_read(f->st, 0, 1000, NULL);
    assert_true(seen(&z, idx0));
    assert_true(seen(&z, s_web));
    assert_int_equal(z.n, 2);
    assert_rc(jotd_store_client_get(f->st, "web", &c), JOTD_OK);
    assert_true(c.disabled);
    assert_int_equal(c.generation, 1);
    jotd_client_clear(&c);
    /* again: nothing */
    assert_rc(jotd_store_client_set_state(f->st, "web", JOTD_CLIENT_DISABLE, T0 + 12), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 0);

    assert_rc(jotd_store_client_set_state(f->st, "web", JOTD_CLIENT_ENABLE, T0 + 20), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.kind[0], JOTD_EV_CLIENT_CHANGED);
    assert_rc(jotd_store_client_get(f->st, "web", &c), JOTD_OK);
    assert_false(c.disabled);
    assert_int_equal(c.generation, 1);
    assert_true(c.status_idx > s_web); /* a fresh index; the old one stays revoked */
    int64_t idx1 = c.status_idx;
    jotd_client_clear(&c);
    z = status_read(f->st, 0, 1000, NULL);
    assert_true(seen(&z, idx0));
    assert_false(seen(&z, idx1));
    assert_rc(jotd_store_client_set_state(f->st, "web", JOTD_CLIENT_ENABLE, T0 + 21), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 0);

    assert_rc(jotd_store_client_set_state(f->st, "web", JOTD_CLIENT_DELETE, T0 + 30), JOTD_OK);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.kind[0], JOTD_EV_CLIENT_GENERATION);
    assert_int_equal(l.value[0], 1);
    assert_int_equal(l.kind[1], JOTD_EV_CLIENT_CHANGED);
    assert_rc(jotd_store_client_get(f->st, "web", &c), JOTD_E_NOTFOUND);
    z = status_read(f->st, 0, 1000, NULL);
    assert_true(seen(&z, idx1));
    assert_rc(jotd_store_client_set_state(f->st, "web", JOTD_CLIENT_DELETE, T0 + 31),
              JOTD_E_NOTFOUND);
    assert_rc(jotd_store_client_set_state(f->st, "nope", JOTD_CLIENT_DISABLE, T0), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_client_set_state(f->st, "web", 0, T0), JOTD_E_INVAL);
}

/* private_key_jwt replay table: the first use of (client, jti) wins, a second conflicts;
 * the same jti of another client is another row; gc drops rows past their exp. */
static void test_assertion_replay(void **state)
{
    fx_t *f = *state;
    assert_rc(jotd_store_assertion_use(f->st, "svc", "jti-1", T0 + 60), JOTD_OK);
    assert_rc(jotd_store_assertion_use(f->st, "svc", "jti-1", T0 + 60), JOTD_E_EXISTS);
    assert_rc(jotd_store_assertion_use(f->st, "svc", "jti-1", T0 + 999), JOTD_E_EXISTS);
    assert_rc(jotd_store_assertion_use(f->st, "other", "jti-1", T0 + 60), JOTD_OK);
    assert_rc(jotd_store_assertion_use(f->st, "svc", "jti-2", T0 + 300), JOTD_OK);
    assert_rc(jotd_store_assertion_use(f->st, "svc", "", T0), JOTD_E_INVAL);
    assert_rc(jotd_store_assertion_use(f->st, "", "x", T0), JOTD_E_INVAL);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM assertion_jtis"), 3);
    /* gc at T0 + 60: the two rows that expire then go, jti-2 stays (and still conflicts) */
    assert_rc(jotd_store_gc(f->st, T0 + 60, 3600), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM assertion_jtis"), 1);
    assert_rc(jotd_store_assertion_use(f->st, "svc", "jti-2", T0 + 300), JOTD_E_EXISTS);
}

#define N_REPLAYERS 8

struct replayer {
    const char *loc;
    jotd_rc_t rc;
};

static void *replayer_main(void *arg)
{
    struct replayer *r = arg;
    jotd_store_t *st = NULL;
    r->rc = jotd_store_open(r->loc, &st);
    if (r->rc == JOTD_OK)
        r->rc = jotd_store_assertion_use(st, "svc", "the-jti", T0 + 60);
    jotd_store_close(st);
    return NULL;
}

/* One jti sent to many instances at once (one store handle per thread): exactly one wins. */
static void test_assertion_replay_concurrent(void **state)
{
    fx_t *f = *state;
    pthread_t th[N_REPLAYERS];
    struct replayer r[N_REPLAYERS];
    for (int i = 0; i < N_REPLAYERS; i++) {
        r[i] = (struct replayer){.loc = f->loc, .rc = JOTD_E_IO};
        assert_int_equal(pthread_create(&th[i], NULL, replayer_main, &r[i]), 0);
    }
    int won = 0, lost = 0;
    for (int i = 0; i < N_REPLAYERS; i++) {
        pthread_join(th[i], NULL);
        if (r[i].rc == JOTD_OK)
            won++;
        else if (r[i].rc == JOTD_E_EXISTS)
            lost++;
        else
            fail_msg("replayer %d: %s", i, jotd_rc_str(r[i].rc));
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, N_REPLAYERS - 1);
}

/* A user's sessions, newest first, with the login's address when recorded. */
static void test_session_list(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "sl-user"), other = add_user(f->st, "sl-other");
    jotd_session_t a = {.user_id = uid,
                        .client_id = "web",
                        .scope = "x",
                        .expires_at = T0 + DAY,
                        .ip = "192.0.2.7"};
    snprintf(a.sid, sizeof a.sid, "sl-a");
    uint8_t h[JOTD_HASH_LEN];
    hash_of(h, 1);
    assert_rc(jotd_store_session_create(f->st, &a, h, DAY, T0), JOTD_OK);
    add_session(f->st, "sl-b", uid, T0 + 5, T0 + DAY, DAY, 2); /* no address */
    add_session(f->st, "sl-c", other, T0, T0 + DAY, DAY, 3);
    assert_rc(jotd_store_session_revoke(f->st, "sl-a", T0 + 6), JOTD_OK);
    jotd_session_t *v = NULL;
    size_t n = 0;
    assert_rc(jotd_store_session_list(f->st, uid, &v, &n), JOTD_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].sid, "sl-b");
    assert_null(v[0].ip);
    assert_false(v[0].revoked);
    assert_int_equal(v[0].created_at, T0 + 5);
    assert_int_equal(v[0].last_used_at, T0 + 5);
    assert_string_equal(v[1].sid, "sl-a");
    assert_string_equal(v[1].ip, "192.0.2.7");
    assert_string_equal(v[1].client_id, "web");
    assert_true(v[1].revoked);
    jotd_session_list_free(v, n);
    assert_rc(jotd_store_session_list(f->st, 999999, &v, &n), JOTD_OK);
    assert_int_equal(n, 0);
    jotd_session_list_free(v, n);
}

static void test_status_revoked_by_each_path(void **state)
{
    fx_t *f = *state;
    int64_t ua = add_user(f->st, "st-a"), ub = add_user(f->st, "st-b");
    int64_t uc = add_user(f->st, "st-c"), ud = add_user(f->st, "st-d");
    int64_t ue = add_user(f->st, "st-e"), uf = add_user(f->st, "st-f");
    int64_t logout = add_session_idx(f->st, "s-logout", ua, 1);
    int64_t reused = add_session_idx(f->st, "s-reused", ua, 2);
    int64_t live = add_session_idx(f->st, "s-live", ua, 3);
    int64_t all1 = add_session_idx(f->st, "s-all1", ub, 4);
    int64_t all2 = add_session_idx(f->st, "s-all2", ub, 5);
    int64_t disabled = add_session_idx(f->st, "s-disabled", uc, 6);
    int64_t passwd = add_session_idx(f->st, "s-passwd", ud, 7);
    int64_t del1 = add_session_idx(f->st, "s-del1", ue, 8);
    int64_t del2 = add_session_idx(f->st, "s-del2", ue, 9);
    int64_t roles = add_session_idx(f->st, "s-roles", uf, 10);
    int64_t next = -1;
    assert_int_equal(status_read(f->st, 0, 1000, &next).n, 0);
    assert_int_equal(next, roles + 1);

    assert_rc(jotd_store_session_revoke(f->st, "s-logout", T0 + 10), JOTD_OK); /* logout, 7009 */
    rotate_expect(f->st, 2, 20, T0 + 10, 0, JOTD_OK);
    rotate_expect(f->st, 2, 21, T0 + 10, 0, JOTD_E_REUSED); /* reuse detection */
    assert_rc(jotd_store_sessions_revoke_user(f->st, ub, T0 + 10, NULL), JOTD_OK);
    jotd_user_patch_t dis = {.disabled = 1};
    assert_rc(jotd_store_user_update(f->st, uc, &dis, T0 + 10), JOTD_OK);
    jotd_user_patch_t pw = {.disabled = -1, .password_hash = "$argon2id$new"};
    assert_rc(jotd_store_user_update(f->st, ud, &pw, T0 + 10), JOTD_OK);
    assert_rc(jotd_store_user_delete(f->st, ue, T0 + 10), JOTD_OK);
    /* a role change ends no session (store.h): its bit stays 0 */
    const char *const r[] = {"x"};
    jotd_user_patch_t rp = {.disabled = -1, .roles = r, .n_roles = 1, .has_roles = true};
    assert_rc(jotd_store_user_update(f->st, uf, &rp, T0 + 10), JOTD_OK);
    /* revoking again changes nothing */
    assert_rc(jotd_store_session_revoke(f->st, "s-logout", T0 + 20), JOTD_OK);
    assert_rc(jotd_store_sessions_revoke_user(f->st, ub, T0 + 20, NULL), JOTD_OK);

    struct status_seen z = status_read(f->st, 0, 1000, NULL);
    assert_int_equal(z.n, 8);
    const int64_t want[] = {logout, reused, all1, all2, disabled, passwd, del1, del2};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!seen(&z, want[i]))
            fail_msg("index %lld not revoked", (long long)want[i]);
    assert_false(seen(&z, live));
    assert_false(seen(&z, roles));
    /* the deleted user's rows are gone, their indexes stay revoked */
    assert_int_equal(
        sql_int(f, "SELECT count(*) FROM sessions WHERE user_id = 0 OR sid LIKE 's-del%'"), 0);
    char q[96];
    snprintf(q, sizeof q, "SELECT revoked_at FROM status_revoked WHERE idx = %lld",
             (long long)logout);
    assert_int_equal(sql_int(f, q), T0 + 10);

    /* a range: [all1, all1 + 2) holds all1 and all2 only; an empty range past the end */
    z = status_read(f->st, all1, 2, NULL);
    assert_int_equal(z.n, 2);
    assert_true(seen(&z, all1) && seen(&z, all2));
    z = status_read(f->st, roles + 1, 1 << 20, &next);
    assert_int_equal(z.n, 0);
    assert_int_equal(next, roles + 1);

    /* gc drops the rows once every token that could name them has expired (keep) */
    assert_rc(jotd_store_gc(f->st, T0 + 100, 1000), JOTD_OK);
    assert_int_equal(status_read(f->st, 0, 1000, NULL).n, 8);
    assert_rc(jotd_store_gc(f->st, T0 + 1010, 1000), JOTD_OK);
    assert_int_equal(status_read(f->st, 0, 1000, NULL).n, 0);
    /* gc does not give indexes back */
    int64_t later = add_session_idx(f->st, "s-later", ua, 30);
    assert_true(later > roles);
}

/* ---- denylist ----------------------------------------------------------------------------- */

struct deny_seen {
    int n;
    char jti[4][16];
    int64_t exp[4];
};

static void deny_cb(void *ctx, const char *jti, int64_t exp)
{
    struct deny_seen *d = ctx;
    if (d->n < 4) {
        snprintf(d->jti[d->n], sizeof d->jti[0], "%s", jti);
        d->exp[d->n] = exp;
    }
    d->n++;
}

/* Whether \p jti is listed at \p now, as the server learns it: through jotd_store_deny_load. */
struct deny_find {
    const char *jti;
    bool found;
};

static void deny_find_cb(void *ctx, const char *jti, int64_t exp)
{
    struct deny_find *d = ctx;
    (void)exp;
    if (strcmp(jti, d->jti) == 0)
        d->found = true;
}

static bool deny_listed(jotd_store_t *st, const char *jti, int64_t now)
{
    struct deny_find d = {.jti = jti};
    assert_rc(jotd_store_deny_load(st, now, deny_find_cb, &d), JOTD_OK);
    return d.found;
}

static void test_denylist(void **state)
{
    fx_t *f = *state;
    assert_rc(jotd_store_deny_add(f->st, "jti-a", T0 + 100), JOTD_OK);
    assert_rc(jotd_store_deny_add(f->st, "jti-b", T0 + 10), JOTD_OK);
    assert_rc(jotd_store_deny_add(f->st, "jti-a", T0 + 50), JOTD_OK); /* never shortens */
    assert_rc(jotd_store_deny_add(f->st, "", T0), JOTD_E_INVAL);

    assert_true(deny_listed(f->st, "jti-a", T0 + 99));
    assert_false(deny_listed(f->st, "jti-a", T0 + 100));
    assert_true(deny_listed(f->st, "jti-b", T0 + 5));
    assert_false(deny_listed(f->st, "jti-b", T0 + 10));
    assert_false(deny_listed(f->st, "jti-c", T0));

    struct deny_seen seen = {0};
    assert_rc(jotd_store_deny_load(f->st, T0 + 20, deny_cb, &seen), JOTD_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.jti[0], "jti-a");
    assert_int_equal(seen.exp[0], T0 + 100);
    memset(&seen, 0, sizeof seen);
    assert_rc(jotd_store_deny_load(f->st, T0, deny_cb, &seen), JOTD_OK);
    assert_int_equal(seen.n, 2);
    assert_rc(jotd_store_deny_add(f->st, "jti-a", T0 + 500), JOTD_OK); /* extends */
    assert_int_equal(sql_int(f, "SELECT exp FROM denylist WHERE jti = 'jti-a'"), T0 + 500);

    /* survives a restart */
    jotd_store_close(f->st);
    f->st = NULL;
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);
    assert_true(deny_listed(f->st, "jti-a", T0 + 200));
}

/* ---- gc ----------------------------------------------------------------------------------- */

static void test_gc(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "gc");
    /* live session, one rotation: the used token (not expired) must stay for reuse
     * detection */
    add_session(f->st, "sess-live", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    rotate_expect(f->st, 1, 2, T0 + 10, 0, JOTD_OK);
    /* revoked long ago / recently */
    add_session(f->st, "sess-old-rev", uid, T0, T0 + 30 * DAY, 7 * DAY, 10);
    assert_rc(jotd_store_session_revoke(f->st, "sess-old-rev", T0 + 100), JOTD_OK);
    add_session(f->st, "sess-new-rev", uid, T0, T0 + 30 * DAY, 7 * DAY, 20);
    assert_rc(jotd_store_session_revoke(f->st, "sess-new-rev", T0 + 2500), JOTD_OK);
    /* past its absolute end long ago */
    add_session(f->st, "sess-ended", uid, T0, T0 + 500, 100, 30);
    /* idled out: no token left after gc, idle for longer than keep */
    add_session(f->st, "sess-idled", uid, T0, T0 + 30 * DAY, 200, 40);
    assert_rc(jotd_store_deny_add(f->st, "old-jti", T0 + 100), JOTD_OK);
    assert_rc(jotd_store_deny_add(f->st, "new-jti", T0 + 20000), JOTD_OK);

    /* now T0 + 3000, keep 1000: sessions that ended before T0 + 2000 go */
    const int64_t now = T0 + 3000;
    assert_rc(jotd_store_gc(f->st, now, 1000), JOTD_OK);
    jotd_session_t s;
    bool active;
    assert_rc(jotd_store_session_get(f->st, "sess-live", now, &s, &active), JOTD_OK);
    assert_true(active);
    jotd_session_clear(&s);
    assert_rc(jotd_store_session_get(f->st, "sess-new-rev", now, &s, &active), JOTD_OK);
    jotd_session_clear(&s);
    assert_rc(jotd_store_session_get(f->st, "sess-old-rev", now, &s, &active), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_session_get(f->st, "sess-ended", now, &s, &active), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_session_get(f->st, "sess-idled", now, &s, &active), JOTD_E_NOTFOUND);
    /* tokens: 1 (used, unexpired), 2 (live) and 20 (killed, unexpired) stay */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 3);
    assert_true(token_live(f->st, 2, now));
    rotate_expect(f->st, 1, 3, now + 1, 0, JOTD_E_REUSED); /* detection still works */
    assert_false(deny_listed(f->st, "old-jti", T0));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM denylist"), 1);
    assert_rc(jotd_store_gc(f->st, T0, -1), JOTD_E_INVAL);
}

/* ---- concurrency -------------------------------------------------------------------------- */

struct racer {
    jotd_store_t *st;
    pthread_barrier_t *bar;
    unsigned from, to;
    int64_t grace;
    jotd_rc_t rc;
    bool grace_out;
    char err[256]; /* this thread's jotd_store_errmsg() */
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->bar);
    jotd_rotation_t out = {0};
    r->rc = rotate(r->st, r->from, r->to, "web", T0 + 50, r->grace, &out);
    snprintf(r->err, sizeof r->err, "%s", jotd_store_errmsg(r->st));
    if (r->rc == JOTD_OK) {
        r->grace_out = out.grace;
        jotd_rotation_clear(&out);
    }
    return NULL;
}

/* N_RACERS threads rotate token 1 at once, thread i through stores[i % n_stores]. */
static void race(jotd_store_t **stores, int n_stores, bool same_successor, int64_t grace,
                 struct racer *r)
{
    pthread_t th[N_RACERS];
    pthread_barrier_t bar;
    assert_int_equal(pthread_barrier_init(&bar, NULL, N_RACERS), 0);
    for (int i = 0; i < N_RACERS; i++) {
        r[i] = (struct racer){.st = stores[i % n_stores],
                              .bar = &bar,
                              .from = 1,
                              .to = same_successor ? 1000u : 1000u + (unsigned)i,
                              .grace = grace};
        assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    }
    for (int i = 0; i < N_RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
}

/* Grace 0, distinct successors: exactly one rotation wins; the second one in line is
 * reuse (and kills the winner's successor), the others find the session revoked. */
static void check_race_distinct(const fx_t *f, const struct racer *r)
{
    int ok = 0, reused = 0, other = 0;
    for (int i = 0; i < N_RACERS; i++) {
        if (r[i].rc == JOTD_OK)
            ok++;
        else if (r[i].rc == JOTD_E_REUSED)
            reused++;
        else if (r[i].rc == JOTD_E_EXPIRED || r[i].rc == JOTD_E_NOTFOUND)
            other++;
        else
            fail_msg("racer %d: unexpected %s: %s", i, jotd_rc_str(r[i].rc), r[i].err);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(reused, 1);
    assert_int_equal(other, N_RACERS - 2);
    /* exactly one successor was ever stored, and nothing is live any more */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 2);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL"), 0);
    assert_int_equal(sessions_with_two_live(f, T0 + 50), 0);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions WHERE revoked_at IS NULL"), 0);
}

static void test_concurrent_rotate_same_token(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "race");
    add_session(f->st, "sess-race", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    struct racer r[N_RACERS];
    race(&f->st, 1, false, 0, r);
    check_race_distinct(f, r);
}

static void test_concurrent_rotate_two_handles(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "race2");
    add_session(f->st, "sess-race2", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    jotd_store_t *stores[2] = {f->st, NULL};
    assert_rc(jotd_store_open(f->loc, &stores[1]), JOTD_OK);
    struct racer r[N_RACERS];
    race(stores, 2, false, 0, r);
    jotd_store_close(stores[1]);
    check_race_distinct(f, r);
}

/* Within the grace window every duplicate with the same successor gets that successor. */
static void test_concurrent_rotate_grace(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "raceg");
    add_session(f->st, "sess-raceg", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    struct racer r[N_RACERS];
    race(&f->st, 1, true, 30, r);
    int fresh = 0, grace = 0;
    for (int i = 0; i < N_RACERS; i++) {
        if (r[i].rc != JOTD_OK)
            fail_msg("racer %d: %s: %s", i, jotd_rc_str(r[i].rc), r[i].err);
        if (r[i].grace_out)
            grace++;
        else
            fresh++;
    }
    assert_int_equal(fresh, 1);
    assert_int_equal(grace, N_RACERS - 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 2);
    assert_true(token_live(f->st, 1000, T0 + 50));
    assert_true(session_active(f->st, "sess-raceg", T0 + 50, NULL));
    assert_int_equal(sessions_with_two_live(f, T0 + 50), 0);
}

/* Separate processes on one file: each child opens its own store. */
static void test_concurrent_rotate_processes(void **state)
{
    fx_t *f = *state;
    enum { N_PROC = 4 };
    int64_t uid = add_user(f->st, "procs");
    add_session(f->st, "sess-procs", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    /* no SQLite connection may cross fork(): close ours first */
    jotd_store_close(f->st);
    f->st = NULL;

    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[N_PROC];
    for (int i = 0; i < N_PROC; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            jotd_store_t *st = NULL;
            if (jotd_store_open(f->loc, &st) != JOTD_OK)
                _exit(100);
            char c;
            (void)!read(go[0], &c, 1); /* returns 0 when the parent closes the pipe */
            jotd_rotation_t out = {0};
            jotd_rc_t rc = rotate(st, 1, 2000u + (unsigned)i, "web", T0 + 50, 0, &out);
            jotd_rotation_clear(&out);
            jotd_store_close(st);
            _exit((int)rc);
        }
    }
    close(go[0]);
    usleep(100000); /* let every child reach read() */
    close(go[1]);
    int ok = 0, reused = 0, other = 0;
    for (int i = 0; i < N_PROC; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        int rc = WEXITSTATUS(status);
        if (rc == JOTD_OK)
            ok++;
        else if (rc == JOTD_E_REUSED)
            reused++;
        else if (rc == JOTD_E_EXPIRED || rc == JOTD_E_NOTFOUND)
            other++;
        else
            fail_msg("child %d exited %d", i, rc);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(reused, 1);
    assert_int_equal(other, N_PROC - 2);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM refresh_tokens"), 2);
    assert_int_equal(sessions_with_two_live(f, T0 + 50), 0);
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);
}

/* Many threads through the pool at once: creates, reads and session writes. */
struct worker {
    jotd_store_t *st;
    int idx;
    jotd_rc_t rc;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = JOTD_OK;
    for (int j = 0; j < 10 && w->rc == JOTD_OK; j++) {
        char name[32];
        snprintf(name, sizeof name, "w%d-%d", w->idx, j);
        jotd_user_t u = {.username = name, .password_hash = "h"};
        int64_t id = 0;
        w->rc = jotd_store_user_create(w->st, &u, T0, &id);
        jotd_user_t got;
        if (w->rc == JOTD_OK)
            w->rc = jotd_store_user_get(w->st, id, &got);
        if (w->rc == JOTD_OK) {
            if (strcmp(got.username, name) != 0)
                w->rc = JOTD_E_INVAL;
            jotd_user_clear(&got);
        }
        if (w->rc == JOTD_OK) {
            jotd_session_t s = {
                .user_id = id, .client_id = "web", .scope = "", .expires_at = T0 + DAY};
            snprintf(s.sid, sizeof s.sid, "s-%d-%d", w->idx, j);
            uint8_t h[JOTD_HASH_LEN];
            hash_of(h, (unsigned)(w->idx * 100 + j));
            w->rc = jotd_store_session_create(w->st, &s, h, 3600, T0);
        }
    }
    return NULL;
}

static void test_concurrent_pool(void **state)
{
    fx_t *f = *state;
    enum { N_W = 8 };
    pthread_t th[N_W];
    struct worker w[N_W];
    for (int i = 0; i < N_W; i++) {
        w[i] = (struct worker){.st = f->st, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < N_W; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N_W; i++)
        if (w[i].rc != JOTD_OK)
            fail_msg("worker %d: %s", i, jotd_rc_str(w[i].rc));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM users"), N_W * 10);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM sessions"), N_W * 10);
    /* concurrent logins: every session its own status index */
    assert_int_equal(sql_int(f, "SELECT count(DISTINCT status_idx) FROM sessions"), N_W * 10);
    assert_true(sql_int(f, "SELECT min(status_idx) FROM sessions") >= 0);
    int64_t next = -1;
    status_read(f->st, 0, 1, &next);
    assert_true(next > sql_int(f, "SELECT max(status_idx) FROM sessions"));
}

/* ---- errors ------------------------------------------------------------------------------- */

/* What a non-root owner of a write-protected database sees (run in a child process). */
static int readonly_scenario(const char *path, int64_t uid)
{
    if (chmod(path, 0400) != 0)
        return 10;
    jotd_store_t *st = NULL;
    jotd_rc_t rc = jotd_store_open(path, &st);
    if (rc != JOTD_OK) {
        fprintf(stderr, "readonly open: %s: %s\n", jotd_rc_str(rc), jotd_store_errmsg(NULL));
        return 11;
    }
    int fail = 0;
    jotd_user_t u;
    rc = jotd_store_user_get(st, uid, &u); /* reads keep working */
    if (rc != JOTD_OK) {
        fprintf(stderr, "readonly read: %s: %s\n", jotd_rc_str(rc), jotd_store_errmsg(NULL));
        fail = 12;
    } else {
        jotd_user_clear(&u);
    }
    jotd_user_t nu = {.username = "new", .password_hash = "h"};
    int64_t id = 0;
    jotd_user_patch_t p = {.disabled = 1};
    struct {
        const char *what;
        jotd_rc_t rc;
    } writes[] = {
        {"user_create", jotd_store_user_create(st, &nu, T0, &id)},
        {"user_update", jotd_store_user_update(st, uid, &p, T0)},
        {"user_delete", jotd_store_user_delete(st, uid, T0)},
        {"client_create", add_client(st, "c", NULL)},
        {"session_revoke", jotd_store_session_revoke(st, "sess-ro", T0)},
        {"deny_add", jotd_store_deny_add(st, "j", T0 + 10)},
        {"gc", jotd_store_gc(st, T0, 0)},
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        if (writes[i].rc != JOTD_E_IO) {
            fprintf(stderr, "readonly %s: got %s, want %s\n", writes[i].what,
                    jotd_rc_str(writes[i].rc), jotd_rc_str(JOTD_E_IO));
            fail = 13;
        }
    }
    jotd_rotation_t out = {0};
    rc = rotate(st, 1, 2, "web", T0 + 10, 0, &out);
    if (rc != JOTD_E_IO) {
        fprintf(stderr, "readonly rotate: got %s\n", jotd_rc_str(rc));
        jotd_rotation_clear(&out);
        fail = 14;
    }
    jotd_store_close(st);
    return fail;
}

static void test_readonly_db_is_io_error(void **state)
{
    (void)state;
    fx_t f;
    /* /tmp: a dropped-privilege child must be able to reach the directory */
    assert_int_equal(make_dir(&f, "/tmp"), 0);
    assert_rc(jotd_store_open(f.path, &f.st), JOTD_OK);
    int64_t uid = add_user(f.st, "ro");
    add_session(f.st, "sess-ro", uid, T0, T0 + DAY, DAY, 1);
    jotd_store_close(f.st);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0) {
            /* root ignores file modes: become an ordinary owner of the directory and file,
             * or skip when that is impossible */
            const uid_t nobody = 65534;
            if (chown(f.dir, nobody, nobody) != 0 || chown(f.path, nobody, nobody) != 0 ||
                setgroups(0, NULL) != 0 || setgid(nobody) != 0 || setuid(nobody) != 0 ||
                geteuid() == 0)
                _exit(77);
        }
        _exit(readonly_scenario(f.path, uid));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    chmod(f.path, 0600);
    rm_tree(f.dir);
    if (WEXITSTATUS(status) == 77) {
        printf("SKIPPED: running as root and cannot drop privileges\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* SQLite has no notifications: no listener thread, the caller polls. */
static void no_wake(void *ctx)
{
    (*(int *)ctx)++;
}

static void test_listen_sqlite_polls(void **state)
{
    fx_t *f = *state;
    jotd_store_listener_t *l = NULL;
    int n = 0;
    assert_rc(jotd_store_listen_start(f->st, no_wake, &n, &l), JOTD_OK);
    assert_null(l);
    assert_false(jotd_store_listen_connected(l)); /* polled only: no listener */
    assert_rc(jotd_store_listen_start(NULL, no_wake, &n, &l), JOTD_E_INVAL);
    assert_int_equal(n, 0);
    jotd_store_listen_stop(l);
}

static void test_errmsg_and_rc_str(void **state)
{
    fx_t *f = *state;
    for (int rc = JOTD_OK; rc < JOTD_RC__LAST; rc++) {
        const char *m = jotd_rc_str((jotd_rc_t)rc);
        assert_non_null(m);
        assert_true(m[0] != '\0');
        assert_string_not_equal(m, "unknown error"); /* every number has its row */
        assert_true(strncmp(jotd_rc_name((jotd_rc_t)rc), "JOTD_", 5) == 0);
    }
    assert_string_equal(jotd_rc_name(JOTD_E_NOTFOUND), "JOTD_E_NOTFOUND");
    assert_int_equal(JOTD_E_INVAL, 10); /* numbers are written in the table: never renumbered */
    assert_non_null(jotd_rc_str((jotd_rc_t)1000));
    assert_non_null(jotd_rc_name((jotd_rc_t)1000));
    add_user(f->st, "dup");
    jotd_user_t u = {.username = "dup", .password_hash = "h"};
    int64_t id;
    assert_rc(jotd_store_user_create(f->st, &u, T0, &id), JOTD_E_EXISTS);
    assert_non_null(jotd_store_errmsg(f->st));
    assert_true(jotd_store_errmsg(f->st)[0] != '\0');

    /* NULL arguments are INVAL, never a crash */
    jotd_session_t s;
    bool b;
    uint8_t h[JOTD_HASH_LEN] = {0};
    jotd_rotation_t r;
    assert_rc(jotd_store_user_get(NULL, 1, &u), JOTD_E_INVAL);
    assert_rc(jotd_store_user_get(f->st, 1, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_user_create(f->st, NULL, T0, &id), JOTD_E_INVAL);
    assert_rc(jotd_store_session_get(f->st, NULL, T0, &s, &b), JOTD_E_INVAL);
    assert_rc(jotd_store_refresh_rotate(f->st, h, h, NULL, T0, 1, 0, &r), JOTD_E_INVAL);
    assert_rc(jotd_store_refresh_lookup(f->st, NULL, T0, &s, &b), JOTD_E_INVAL);
    assert_rc(jotd_store_deny_load(f->st, T0, NULL, NULL), JOTD_E_INVAL);
    assert_rc(jotd_store_client_list(f->st, NULL, NULL), JOTD_E_INVAL);
    jotd_store_close(NULL);
    jotd_user_clear(NULL);
    jotd_session_clear(NULL);
    jotd_rotation_clear(NULL);
    jotd_user_list_free(NULL, 0);
}

/* ---- PostgreSQL only ------------------------------------------------------------------------ */

#ifdef JOTD_HAVE_PG
static void test_pg_open_creates_schema(void **state)
{
    fx_t *f = *state;
    int64_t v = 0;
    assert_rc(jotd_store_schema_version(f->st, &v), JOTD_OK);
    assert_int_equal(v, PG_STORE_SCHEMA);
    assert_int_equal(stored_schema(f), PG_STORE_SCHEMA);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                " AND tablename IN ('users', 'clients', 'sessions',"
                                " 'refresh_tokens', 'denylist', 'events', 'jotd_schema')"),
                     7);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname IN"
                                " ('sessions_user_id', 'refresh_tokens_sid', 'events_created_at',"
                                " 'users_username_nocase')"),
                     4);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM clients WHERE client_id = 'default'"
                                " AND secret_hash IS NULL"),
                     1);
    /* opening again changes nothing */
    jotd_store_t *st2 = NULL;
    assert_rc(jotd_store_open(f->loc, &st2), JOTD_OK);
    jotd_store_close(st2);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM clients"), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM jotd_schema"), 1);
    /* the pool's connection says who it is (application_name, a default of ours) */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
             " AND application_name = 'jotd'",
             f->db);
    assert_true(sql_int(f, sql) >= 1);
    /* names differing only in ASCII case are one account, as on SQLite */
    add_user(f->st, "Admin");
    jotd_user_t u = {.username = "admin", .password_hash = "h"};
    int64_t id = 0;
    assert_rc(jotd_store_user_create(f->st, &u, T0, &id), JOTD_E_EXISTS);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "Admin"));
}

static void test_pg_open_refuses_foreign_and_newer(void **state)
{
    fx_t *f = *state;
    jotd_store_t *st = NULL;
    /* a schema from a future jotd */
    jotd_store_close(f->st);
    f->st = NULL;
    sql_exec(f, "UPDATE jotd_schema SET version = 99");
    assert_rc(jotd_store_open(f->loc, &st), JOTD_E_INVAL);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "newer"));
    assert_null(st);
    sql_exec(f, "UPDATE jotd_schema SET version = " STR(PG_STORE_SCHEMA));
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);

    /* somebody else's tables of our names */
    char db[64], uri[768];
    assert_int_equal(pg_create_db(db, sizeof db, uri, sizeof uri), 0);
    fx_t other = {.pg = true};
    snprintf(other.loc, sizeof other.loc, "%s", uri);
    sql_exec(&other, "CREATE TABLE users (x integer)");
    assert_rc(jotd_store_open(uri, &st), JOTD_E_IO);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "not a jotd database"));
    assert_null(st);
    pg_drop_db(db);
    /* a database that does not exist */
    uri_with_db(uri, sizeof uri, g_pg_admin, "jot_test_no_such_db");
    assert_rc(jotd_store_open(uri, &st), JOTD_E_IO);
    assert_non_null(strstr(jotd_store_errmsg(NULL), "jot_test_no_such_db"));
}

struct opener {
    const char *uri;
    pthread_barrier_t *bar;
    jotd_rc_t rc;
    char err[256];
};

static void *opener_main(void *arg)
{
    struct opener *o = arg;
    jotd_store_t *st = NULL;
    pthread_barrier_wait(o->bar);
    o->rc = jotd_store_open(o->uri, &st);
    snprintf(o->err, sizeof o->err, "%s", jotd_store_errmsg(NULL));
    jotd_store_close(st);
    return NULL;
}

/* Two jotd starting at once on an empty database: the migration lock lets one create the
 * schema, the other finds it done. */
/* A store of schema 2 (made by rolling back what step 2 -> 3 adds) with sessions, one
 * revoked: opening it gives them indexes in creation order and records the revoked one. */
static void test_pg_migration_to_status_lists(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "mig");
    add_session(f->st, "mig-1", uid, T0, T0 + 30 * DAY, 7 * DAY, 1);
    add_session(f->st, "mig-2", uid, T0 + 1, T0 + 30 * DAY, 7 * DAY, 2);
    assert_rc(jotd_store_session_revoke(f->st, "mig-2", T0 + 5), JOTD_OK);
    jotd_store_close(f->st);
    f->st = NULL;
    sql_exec(f, "DROP INDEX clients_status_idx; DROP INDEX sessions_client_id;"
                " ALTER TABLE clients DROP COLUMN resources, DROP COLUMN status_idx,"
                " DROP COLUMN disabled, DROP COLUMN generation, DROP COLUMN jwks,"
                " DROP COLUMN jwks_url, DROP COLUMN redirect_uris, DROP COLUMN allowed_origins,"
                " DROP COLUMN cookie_mode, DROP COLUMN refresh_grace; DROP TABLE auth_codes; DROP "
                "TABLE assertion_jtis; DROP "
                "TABLE status_revoked;"
                " ALTER TABLE sessions DROP COLUMN ip;"
                " DROP SEQUENCE session_status_idx; ALTER TABLE sessions DROP COLUMN status_idx;"
                " UPDATE jotd_schema SET version = 2");
    assert_rc(jotd_store_open(f->loc, &f->st), JOTD_OK);
    assert_int_equal(stored_schema(f), PG_STORE_SCHEMA);
    assert_int_equal(session_idx(f->st, "mig-1"), 0);
    assert_int_equal(session_idx(f->st, "mig-2"), 1);
    int64_t next = -1;
    struct status_seen z = status_read(f->st, 0, 100, &next);
    int64_t nc = sql_int(f, "SELECT count(*) FROM clients"); /* then the clients, 3 -> 4 */
    assert_int_equal(sql_int(f, "SELECT min(status_idx) FROM clients"), 2);
    assert_int_equal(next, 2 + nc);
    assert_int_equal(z.n, 1);
    assert_int_equal(z.idx[0], 1);
    assert_int_equal(add_session_idx(f->st, "mig-3", uid, 3), 2 + nc);
}

static void test_pg_concurrent_first_open(void **state)
{
    fx_t *f = *state;
    enum { N_OPEN = 4 };
    pthread_t th[N_OPEN];
    struct opener o[N_OPEN];
    pthread_barrier_t bar;
    assert_int_equal(pthread_barrier_init(&bar, NULL, N_OPEN), 0);
    for (int i = 0; i < N_OPEN; i++) {
        o[i] = (struct opener){.uri = f->loc, .bar = &bar};
        assert_int_equal(pthread_create(&th[i], NULL, opener_main, &o[i]), 0);
    }
    for (int i = 0; i < N_OPEN; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int i = 0; i < N_OPEN; i++)
        if (o[i].rc != JOTD_OK)
            fail_msg("opener %d: %s: %s", i, jotd_rc_str(o[i].rc), o[i].err);
    assert_int_equal(stored_schema(f), PG_STORE_SCHEMA);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM jotd_schema"), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM clients"), 1);
}

/* Every connection of the pool killed by the server (a restart, an operator's
 * pg_terminate_backend): the next operations reconnect, without restarting jotd. */
static void test_pg_reconnect_after_terminate(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "phoenix");
    add_session(f->st, "sess-phoenix", uid, T0, T0 + DAY, 3600, 1);
    /* a few connections in the pool */
    struct racer r[N_RACERS];
    race(&f->st, 1, true, 30, r);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = '%s' AND pid <> pg_backend_pid()",
             f->db);
    assert_true(sql_int(f, sql) >= 1);
    usleep(100000);
    jotd_user_t u = {0};
    assert_rc(jotd_store_user_get(f->st, uid, &u), JOTD_OK);
    jotd_user_clear(&u);
    assert_true(token_live(f->st, 1000, T0 + 60));
    rotate_expect(f->st, 1000, 1001, T0 + 60, 0, JOTD_OK);
    /* and again, between two writes (not counted: behind a transaction-pooling PgBouncer
     * the pooler's one server connection may be the one asking) */
    sql_int(f, sql);
    usleep(100000);
    rotate_expect(f->st, 1001, 1002, T0 + 70, 0, JOTD_OK);
}

/* The events listener (jotd_store_listen_start): woken after its connection is made, after
 * an event-writing change, and again after its connection is killed (it reconnects). */
static void listen_wake(void *ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
}

/* Wait (at most 10 s) until *n exceeds \p than. */
static bool wakes_beyond(atomic_int *n, int than)
{
    for (int i = 0; i < 1000; i++) {
        if (atomic_load(n) > than)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_pg_listen_wakes_and_reconnects(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "listener");
    add_session(f->st, "sess-l1", uid, T0, T0 + DAY, 3600, 1);
    add_session(f->st, "sess-l2", uid, T0, T0 + DAY, 3600, 2);
    atomic_int n;
    atomic_init(&n, 0);
    jotd_store_listener_t *l = NULL;
    assert_rc(jotd_store_listen_start(f->st, listen_wake, &n, &l), JOTD_OK);
    assert_non_null(l);
    assert_true(wakes_beyond(&n, 0)); /* connected */
    assert_true(jotd_store_listen_connected(l));
    usleep(100000);
    int before = atomic_load(&n);
    assert_rc(jotd_store_session_revoke(f->st, "sess-l1", T0 + 10), JOTD_OK);
    assert_true(wakes_beyond(&n, before)); /* notified */
    /* the listener's connection killed: it reconnects (after its backoff) and wakes */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = '%s' AND query LIKE 'LISTEN %%' AND pid <> pg_backend_pid()",
             f->db);
    before = atomic_load(&n);
    assert_int_equal(sql_int(f, sql), 1);
    assert_true(wakes_beyond(&n, before)); /* reconnected */
    assert_true(jotd_store_listen_connected(l));
    usleep(100000);
    before = atomic_load(&n);
    assert_rc(jotd_store_session_revoke(f->st, "sess-l2", T0 + 20), JOTD_OK);
    assert_true(wakes_beyond(&n, before)); /* notified on the new connection */
    jotd_store_listen_stop(l);
    jotd_store_listen_stop(NULL);
}

/* Logins and rotations at JOTD_DURABILITY_NORMAL (synchronous_commit off for those
 * transactions only): the same answers, and reuse detection still revokes. */
static void test_pg_durability_normal(void **state)
{
    fx_t *f = *state;
    jotd_store_set_durability(f->st, JOTD_DURABILITY_NORMAL);
    int64_t uid = add_user(f->st, "fast");
    add_session(f->st, "sess-fast", uid, T0, T0 + DAY, 3600, 1);
    rotate_expect(f->st, 1, 2, T0 + 10, 0, JOTD_OK);
    rotate_expect(f->st, 2, 3, T0 + 20, 0, JOTD_OK);
    assert_true(rotate_expect(f->st, 2, 3, T0 + 21, 30, JOTD_OK)); /* grace */
    rotate_expect(f->st, 1, 9, T0 + 30, 0, JOTD_E_REUSED);
    assert_false(session_active(f->st, "sess-fast", T0 + 30, NULL));
    assert_false(token_live(f->st, 3, T0 + 30));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE kind = 'session_revoked'"), 1);
    /* rehash: at the durability of logins too */
    assert_rc(jotd_store_user_rehash(f->st, uid, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                                     "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"),
              JOTD_OK);
    char params[64];
    assert_rc(jotd_store_user_hash_params(f->st, params, sizeof params), JOTD_OK);
    assert_string_equal(params, "m=65536,t=3,p=1");
    jotd_store_set_durability(f->st, JOTD_DURABILITY_FULL);
    add_session(f->st, "sess-full", uid, T0, T0 + DAY, 3600, 50);
    rotate_expect(f->st, 50, 51, T0 + 40, 0, JOTD_OK);
}

/* Events become visible in id order: a reader that remembers the last id it saw, polling
 * while several writers add events, misses none. */
struct ev_writer {
    jotd_store_t *st;
    int idx;
    jotd_rc_t rc;
};

static void *ev_writer_main(void *arg)
{
    struct ev_writer *w = arg;
    w->rc = JOTD_OK;
    for (int i = 0; i < 25 && w->rc == JOTD_OK; i++) {
        char jti[32];
        snprintf(jti, sizeof jti, "jti-%d-%d", w->idx, i);
        w->rc = jotd_store_deny_add(w->st, jti, T0 + 1000 + i);
    }
    return NULL;
}

static void ev_count_cb(void *ctx, const jotd_event_t *ev)
{
    (void)ev;
    (*(int *)ctx)++;
}

static void test_pg_events_in_id_order(void **state)
{
    fx_t *f = *state;
    enum { N_EW = 4 };
    pthread_t th[N_EW];
    struct ev_writer w[N_EW];
    for (int i = 0; i < N_EW; i++) {
        w[i] = (struct ev_writer){.st = f->st, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, ev_writer_main, &w[i]), 0);
    }
    int seen = 0;
    int64_t last = 0;
    for (int polls = 0; seen < N_EW * 25 && polls < 100000; polls++)
        assert_rc(jotd_store_events_since(f->st, last, 7, ev_count_cb, &seen, &last), JOTD_OK);
    for (int i = 0; i < N_EW; i++) {
        pthread_join(th[i], NULL);
        assert_rc(w[i].rc, JOTD_OK);
    }
    assert_rc(jotd_store_events_since(f->st, last, 1000, ev_count_cb, &seen, &last), JOTD_OK);
    assert_int_equal(seen, N_EW * 25);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), N_EW * 25);
}

/* A deadlock with another client: PostgreSQL aborts the transaction that waited longest
 * (ours: it waits first) with 40P01, and the store runs it again. */
struct revoker {
    jotd_store_t *st;
    jotd_rc_t rc;
};

static void *revoker_main(void *arg)
{
    struct revoker *r = arg;
    r->rc = jotd_store_session_revoke(r->st, "sess-dl", T0 + 10);
    return NULL;
}

static void test_pg_deadlock_is_retried(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "deadlock");
    add_session(f->st, "sess-dl", uid, T0, T0 + DAY, 3600, 1);
    PGconn *c = PQconnectdb(f->loc);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    /* the other client: the session's tokens first ... */
    PGresult *res = PQexec(c, "BEGIN; UPDATE refresh_tokens SET expires_at = expires_at"
                              " WHERE sid = 'sess-dl'");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* ... the store: the session row, then waits for the tokens ... */
    struct revoker r = {.st = f->st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, revoker_main, &r), 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
             " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE refresh_tokens%%'",
             f->db);
    for (int i = 0; i < 200 && sql_int(f, sql) < 1; i++)
        usleep(50000);
    /* ... the other client now waits for the session row: a cycle */
    res = PQexec(c, "UPDATE sessions SET last_used_at = last_used_at WHERE sid = 'sess-dl'");
    bool other_won = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    res = PQexec(c, other_won ? "COMMIT" : "ROLLBACK");
    PQclear(res);
    PQfinish(c);
    pthread_join(th, NULL);
    assert_rc(r.rc, JOTD_OK);
    assert_true(other_won); /* the store's transaction was the victim, and ran again */
    bool revoked = false;
    assert_false(session_active(f->st, "sess-dl", T0 + 10, &revoked));
    assert_true(revoked);
    assert_false(token_live(f->st, 1, T0 + 10));
    assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE kind = 'session_revoked'"), 1);
}

/* A row lock held elsewhere longer than lock_timeout: JOTD_E_BUSY, not a hang. */
static void test_pg_lock_timeout_is_busy(void **state)
{
    fx_t *f = *state;
    int64_t uid = add_user(f->st, "stuck");
    add_session(f->st, "sess-stuck", uid, T0, T0 + DAY, 3600, 1);
    PGconn *c = PQconnectdb(f->loc);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *res = PQexec(c, "BEGIN; SELECT * FROM sessions FOR UPDATE");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    time_t t0 = time(NULL);
    rotate_expect(f->st, 1, 2, T0 + 10, 0, JOTD_E_BUSY);
    assert_true(time(NULL) - t0 <= 10);
    res = PQexec(c, "ROLLBACK");
    PQclear(res);
    PQfinish(c);
    rotate_expect(f->st, 1, 2, T0 + 10, 0, JOTD_OK);
}

/* No database: JOTD_E_IO within connect_timeout, and no password in the message. */
static void test_pg_unreachable_is_io(void **state)
{
    (void)state;
    jotd_store_t *st = NULL;
    time_t t0 = time(NULL);
    assert_rc(jotd_store_open("postgresql://jot:s3cr3t-pw@127.0.0.1:1/jot", &st), JOTD_E_IO);
    assert_null(st);
    assert_null(strstr(jotd_store_errmsg(NULL), "s3cr3t"));
    assert_rc(jotd_store_open("postgresql:///jot?host=/nonexistent/dir&port=5499"
                              "&password=s3cr3t-pw",
                              &st),
              JOTD_E_IO);
    assert_null(strstr(jotd_store_errmsg(NULL), "s3cr3t"));
    assert_non_null(strstr(jotd_store_errmsg(NULL), "/nonexistent/dir"));
    assert_true(time(NULL) - t0 <= 12);
    /* not a URI libpq accepts: INVAL, still no password */
    assert_rc(jotd_store_open("postgresql://jot:s3cr3t-pw@host/db?nonsense=1", &st), JOTD_E_INVAL);
    assert_null(strstr(jotd_store_errmsg(NULL), "s3cr3t"));
}

static void redact_is(const char *in, const char *want)
{
    char *got = jotd_store_pg_redact(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_pg_redact(void **state)
{
    (void)state;
    redact_is("postgresql://jot:s3cr3t@db.example:5432/jot?sslmode=require",
              "postgresql://jot:***@db.example:5432/jot?sslmode=require");
    redact_is("postgres://jot@db.example/jot", "postgres://jot@db.example/jot");
    redact_is("postgresql:///jot?host=/run/pg&port=5432",
              "postgresql:///jot?host=/run/pg&port=5432");
    redact_is("postgresql:///jot?host=/run/pg&password=s3cr3t&user=jot",
              "postgresql:///jot?host=/run/pg&password=***&user=jot");
    redact_is("postgresql://jot:p%40ss@h1:5432,h2:5433/jot?password=x&application_name=a",
              "postgresql://jot:***@h1:5432,h2:5433/jot?password=***&application_name=a");
    redact_is("postgresql://jot:pw?with?marks@h/jot", "postgresql://jot:***@h/jot");
    redact_is("host=db user=jot password=s3cr3t dbname=jot",
              "host=db user=jot password=*** dbname=jot");
    redact_is("host=db password = 'se cr\\'et' dbname=jot", "host=db password = *** dbname=jot");
    /* a spelling the string work does not know still gives nothing away */
    char *got = jotd_store_pg_redact("postgresql://h/jot?passw%6Frd=s3cr3t");
    assert_non_null(got);
    assert_null(strstr(got, "s3cr3t"));
    free(got);
    assert_null(jotd_store_pg_redact(NULL));
}
#endif

/* ---- signing keys and secrets ------------------------------------------------------------ */

static jotd_key_row_t key_row(const char *kid, int64_t created, int64_t activate)
{
    jotd_key_row_t k = {.kid = (char *)kid,
                        .alg = "ES256",
                        .public_jwk = "{\"kty\":\"EC\"}",
                        .private_sealed = "v1.0123456789abcdef.nonce.body",
                        .created_at = created,
                        .activate_at = activate};
    return k;
}

/* The rows of the keys, their order, the first-key rule, revocation and its events. */
static void test_signing_keys(void **state)
{
    fx_t *f = *state;
    jotd_key_row_t *v = NULL;
    size_t n = 9;
    assert_rc(jotd_store_key_list(f->st, &v, &n), JOTD_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    int64_t last = 0;
    ev_log_t l;
    events_after(f->st, &last, &l);

    jotd_key_row_t a = key_row("kid-a", T0, T0), b = key_row("kid-b", T0 + 1, T0 + 600);
    jotd_key_row_t c = key_row("kid-c", T0 + 2, T0);
    assert_rc(jotd_store_key_add(f->st, &a, true), JOTD_OK);
    assert_rc(jotd_store_key_add(f->st, &c, true), JOTD_E_EXISTS);  /* a key is there */
    assert_rc(jotd_store_key_add(f->st, &a, false), JOTD_E_EXISTS); /* the kid is taken */
    assert_rc(jotd_store_key_add(f->st, &b, false), JOTD_OK);
    assert_rc(jotd_store_key_add(f->st, &c, false), JOTD_OK);
    jotd_key_row_t bad = key_row("kid-d", T0, T0);
    bad.private_sealed = "";
    assert_rc(jotd_store_key_add(f->st, &bad, false), JOTD_E_INVAL);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.kind[0], JOTD_EV_KEY_CHANGED);
    assert_string_equal(l.subject[2], "kid-c");

    /* ordered by activation, then creation, then kid */
    assert_rc(jotd_store_key_list(f->st, &v, &n), JOTD_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].kid, "kid-a");
    assert_string_equal(v[1].kid, "kid-c");
    assert_string_equal(v[2].kid, "kid-b");
    assert_string_equal(v[2].alg, "ES256");
    assert_string_equal(v[2].private_sealed, "v1.0123456789abcdef.nonce.body");
    assert_int_equal(v[2].created_at, T0 + 1);
    assert_int_equal(v[2].activate_at, T0 + 600);
    assert_int_equal(v[2].revoked_at, 0);
    jotd_key_list_free(v, n);

    /* revocation, with a replacement in the same transaction; twice keeps the first time */
    jotd_key_row_t r = key_row("kid-r", T0 + 5, T0 + 5);
    assert_rc(jotd_store_key_revoke(f->st, "kid-c", T0 + 5, &r), JOTD_OK);
    assert_rc(jotd_store_key_revoke(f->st, "kid-c", T0 + 9, NULL), JOTD_OK);
    assert_rc(jotd_store_key_revoke(f->st, "kid-x", T0 + 9, NULL), JOTD_E_NOTFOUND);
    /* a failed replacement (kid taken) revokes nothing */
    jotd_key_row_t dup = key_row("kid-r", T0, T0);
    assert_rc(jotd_store_key_revoke(f->st, "kid-a", T0 + 9, &dup), JOTD_E_EXISTS);
    assert_rc(jotd_store_key_list(f->st, &v, &n), JOTD_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(v[i].kid, "kid-c"))
            assert_int_equal(v[i].revoked_at, T0 + 5);
        else
            assert_int_equal(v[i].revoked_at, 0);
    }
    jotd_key_list_free(v, n);
    events_after(f->st, &last, &l);
    assert_int_equal(l.n, 3); /* kid-c, kid-r, kid-c again */
    assert_string_equal(l.subject[0], "kid-c");
    assert_string_equal(l.subject[1], "kid-r");
}

static void test_secrets_rows(void **state)
{
    fx_t *f = *state;
    char *got = NULL;
    assert_rc(jotd_store_secret_get(f->st, "refresh.key", &got), JOTD_E_NOTFOUND);
    assert_null(got);
    assert_rc(jotd_store_secret_put(f->st, "refresh.key", "v1.sealed-one", T0), JOTD_OK);
    assert_rc(jotd_store_secret_put(f->st, "refresh.key", "v1.sealed-two", T0), JOTD_E_EXISTS);
    assert_rc(jotd_store_secret_get(f->st, "refresh.key", &got), JOTD_OK);
    assert_string_equal(got, "v1.sealed-one"); /* never changed once set */
    free(got);
    assert_rc(jotd_store_secret_put(f->st, "", "x", T0), JOTD_E_INVAL);
    assert_rc(jotd_store_secret_put(f->st, "client.key", "", T0), JOTD_E_INVAL);
}

struct first_key_racer {
    jotd_store_t *st;
    int i;
    jotd_rc_t rc;
};

static void *first_key_run(void *arg)
{
    struct first_key_racer *r = arg;
    char kid[16];
    snprintf(kid, sizeof kid, "first-%d", r->i);
    jotd_key_row_t k = key_row(kid, T0, T0);
    r->rc = jotd_store_key_add(r->st, &k, true);
    return NULL;
}

/* Instances starting at once on a new store make one first key. */
static void test_concurrent_first_key(void **state)
{
    fx_t *f = *state;
    enum { N = 8 };
    jotd_store_t *other = NULL;
    assert_rc(jotd_store_open(f->loc, &other), JOTD_OK);
    pthread_t t[N];
    struct first_key_racer r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (struct first_key_racer){.st = i % 2 ? other : f->st, .i = i};
        assert_int_equal(pthread_create(&t[i], NULL, first_key_run, &r[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (r[i].rc == JOTD_OK)
            ok++;
        else if (r[i].rc != JOTD_E_EXISTS)
            fail_msg("racer %d: %s", i, jotd_rc_str(r[i].rc));
    }
    jotd_store_close(other);
    assert_int_equal(ok, 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM signing_keys"), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- throttling ----------------------------------------------------------------------------- */

#define N_THROTTLERS 16

/* A step that counts one failure and locks from the third on. */
static void count_step(void *ctx, jotd_throttle_state_t *s, int64_t now)
{
    (void)ctx;
    s->failures++;
    s->win_start = s->win_start ? s->win_start : now;
    if (s->failures >= 3)
        s->lock_until = now + 10 * s->failures;
}

/* count_step, slowly: widens the window between the read and the write, where an update
 * that does not hold the row would let another one read the same count. */
static void slow_count_step(void *ctx, jotd_throttle_state_t *s, int64_t now)
{
    usleep(2000);
    count_step(ctx, s, now);
}

static void key_of(const char *name, char key[JOTD_THROTTLE_KEY_LEN + 1])
{
    assert_rc(jotd_store_throttle_key("login", "account", name, strlen(name), key), JOTD_OK);
}

static void test_throttle_key(void **state)
{
    (void)state;
    char k[JOTD_THROTTLE_KEY_LEN + 1], k2[JOTD_THROTTLE_KEY_LEN + 1];
    /* sha256sum of printf 'login\x1faccount\x1falice' */
    key_of("alice", k);
    assert_string_equal(k, "78c6af1061491332dc678aa510ab03a9d9fc0bcd75a7215746e3670a6fe49bf2");
    /* any bytes, NUL included */
    assert_rc(jotd_store_throttle_key("login", "account", "a\xff\0b", 4, k), JOTD_OK);
    assert_string_equal(k, "9c7cbf5aeb417d35b44ab95d29797b19465df1f2c32197836bffd7ec796bb56f");
    /* scope and kind are part of it */
    key_of("alice", k);
    assert_rc(jotd_store_throttle_key("client", "account", "alice", 5, k2), JOTD_OK);
    assert_string_not_equal(k, k2);
    assert_rc(jotd_store_throttle_key("login", "ip", "alice", 5, k2), JOTD_OK);
    assert_string_not_equal(k, k2);
    assert_rc(jotd_store_throttle_key(NULL, "ip", "x", 1, k2), JOTD_E_INVAL);
    assert_rc(jotd_store_throttle_key("login", "ip", NULL, 1, k2), JOTD_E_INVAL);
}

static void test_throttle_ops(void **state)
{
    fx_t *f = *state;
    char k[JOTD_THROTTLE_KEY_LEN + 1], other[JOTD_THROTTLE_KEY_LEN + 1];
    key_of("mallory\xff", k);
    key_of("bob", other);
    jotd_throttle_state_t v = {.failures = 99};
    assert_rc(jotd_store_throttle_get(f->st, k, &v), JOTD_E_NOTFOUND);
    assert_int_equal(v.failures, 99); /* out written only on success */

    /* a new row starts from zeros */
    assert_rc(jotd_store_throttle_update(f->st, k, T0, count_step, NULL, &v), JOTD_OK);
    assert_int_equal(v.failures, 1);
    assert_int_equal(v.win_start, T0);
    assert_int_equal(v.lock_until, 0);
    assert_rc(jotd_store_throttle_update(f->st, k, T0 + 1, count_step, NULL, &v), JOTD_OK);
    assert_rc(jotd_store_throttle_update(f->st, k, T0 + 2, count_step, NULL, &v), JOTD_OK);
    assert_int_equal(v.failures, 3);
    assert_int_equal(v.win_start, T0);
    assert_int_equal(v.lock_until, T0 + 2 + 30);
    jotd_throttle_state_t g = {0};
    assert_rc(jotd_store_throttle_get(f->st, k, &g), JOTD_OK);
    assert_memory_equal(&g, &v, sizeof v);
    assert_rc(jotd_store_throttle_get(f->st, other, &g), JOTD_E_NOTFOUND);

    /* stored under the hash alone, with updated_at */
    char sql[256];
    snprintf(
        sql, sizeof sql,
        "SELECT count(*) FROM throttle WHERE key = '%s' AND failures = 3 AND updated_at = %lld", k,
        (long long)(T0 + 2));
    assert_int_equal(sql_int(f, sql), 1);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM throttle"), 1);

    /* clear: gone, idempotent, the next update starts afresh */
    assert_rc(jotd_store_throttle_clear(f->st, k), JOTD_OK);
    assert_rc(jotd_store_throttle_get(f->st, k, &g), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_throttle_clear(f->st, k), JOTD_OK);
    assert_rc(jotd_store_throttle_update(f->st, k, T0 + 5, count_step, NULL, &v), JOTD_OK);
    assert_int_equal(v.failures, 1);
    assert_int_equal(v.win_start, T0 + 5);

    /* only hashes reach a backend */
    assert_rc(jotd_store_throttle_get(f->st, "alice", &g), JOTD_E_INVAL);
    assert_rc(jotd_store_throttle_clear(f->st, "alice"), JOTD_E_INVAL);
    k[0] = 'A';
    assert_rc(jotd_store_throttle_update(f->st, k, T0, count_step, NULL, &v), JOTD_E_INVAL);
    assert_rc(jotd_store_throttle_update(f->st, other, T0, NULL, NULL, &v), JOTD_E_INVAL);
    assert_rc(jotd_store_throttle_update(f->st, other, -1, count_step, NULL, &v), JOTD_E_INVAL);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM throttle"), 1);
}

struct throttler {
    jotd_store_t *st;
    pthread_barrier_t *bar;
    const char *key;
    jotd_rc_t rc;
    int64_t failures;
    char err[256];
};

static void *throttler_main(void *arg)
{
    struct throttler *x = arg;
    jotd_throttle_state_t v = {0};
    pthread_barrier_wait(x->bar);
    x->rc = jotd_store_throttle_update(x->st, x->key, T0, slow_count_step, NULL, &v);
    snprintf(x->err, sizeof x->err, "%s", jotd_store_errmsg(x->st));
    x->failures = v.failures;
    return NULL;
}

/* N threads, over two handles (two pools: on SQLite two write mutexes, so only the
 * database's lock orders them), each count one failure of one key at once: every one is
 * counted, and each saw a different count. */
static void test_throttle_concurrent(void **state)
{
    fx_t *f = *state;
    char k[JOTD_THROTTLE_KEY_LEN + 1];
    key_of("victim", k);
    jotd_store_t *stores[2] = {f->st, NULL};
    assert_rc(jotd_store_open(f->loc, &stores[1]), JOTD_OK);
    struct throttler x[N_THROTTLERS];
    pthread_t th[N_THROTTLERS];
    pthread_barrier_t bar;
    assert_int_equal(pthread_barrier_init(&bar, NULL, N_THROTTLERS), 0);
    for (int i = 0; i < N_THROTTLERS; i++) {
        x[i] = (struct throttler){.st = stores[i % 2], .bar = &bar, .key = k};
        assert_int_equal(pthread_create(&th[i], NULL, throttler_main, &x[i]), 0);
    }
    for (int i = 0; i < N_THROTTLERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    jotd_store_close(stores[1]);
    bool seen[N_THROTTLERS + 1] = {false};
    for (int i = 0; i < N_THROTTLERS; i++) {
        if (x[i].rc != JOTD_OK)
            fail_msg("thread %d: %s: %s", i, jotd_rc_str(x[i].rc), x[i].err);
        assert_in_range(x[i].failures, 1, N_THROTTLERS);
        assert_false(seen[x[i].failures]);
        seen[x[i].failures] = true;
    }
    jotd_throttle_state_t v = {0};
    assert_rc(jotd_store_throttle_get(f->st, k, &v), JOTD_OK);
    assert_int_equal(v.failures, N_THROTTLERS);
}

/* gc: rows idle for a day whose lock has ended go; recent rows and running locks stay. */
static void test_throttle_gc(void **state)
{
    fx_t *f = *state;
    char old[JOTD_THROTTLE_KEY_LEN + 1], locked[JOTD_THROTTLE_KEY_LEN + 1],
        recent[JOTD_THROTTLE_KEY_LEN + 1];
    key_of("old", old);
    key_of("locked", locked);
    key_of("recent", recent);
    jotd_throttle_state_t v;
    const int64_t now = T0 + 2 * DAY;
    /* updated two days ago, lock long over */
    for (int i = 0; i < 3; i++)
        assert_rc(jotd_store_throttle_update(f->st, old, T0, count_step, NULL, &v), JOTD_OK);
    /* updated two days ago, but locked past now */
    assert_rc(jotd_store_throttle_update(f->st, locked, T0, count_step, NULL, &v), JOTD_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE throttle SET lock_until = %lld WHERE key = '%s'",
             (long long)(now + 60), locked);
    sql_exec(f, sql);
    /* updated less than a day ago, nothing locked */
    assert_rc(jotd_store_throttle_update(f->st, recent, now - DAY + 100, count_step, NULL, &v),
              JOTD_OK);
    assert_rc(jotd_store_gc(f->st, now, 1000), JOTD_OK);
    assert_rc(jotd_store_throttle_get(f->st, old, &v), JOTD_E_NOTFOUND);
    assert_rc(jotd_store_throttle_get(f->st, locked, &v), JOTD_OK);
    assert_int_equal(v.lock_until, now + 60);
    assert_rc(jotd_store_throttle_get(f->st, recent, &v), JOTD_OK);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM throttle"), 2);
    /* once its lock has ended the locked one goes too */
    assert_rc(jotd_store_gc(f->st, now + 60, 1000), JOTD_OK);
    assert_rc(jotd_store_throttle_get(f->st, locked, &v), JOTD_E_NOTFOUND);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM throttle"), 1);
}

#define THROTTLE_TESTS                                                                             \
    cmocka_unit_test(test_throttle_key), T(test_throttle_ops), T(test_throttle_concurrent),        \
        T(test_throttle_gc)

int main(void)
{
    /* the tests of every backend */
#define BEHAVIOUR_TESTS                                                                            \
    T(test_reopen_keeps_data), T(test_user_crud), T(test_user_corrupt_roles_row),                  \
        T(test_user_list_paging), T(test_user_patch_each_field),                                   \
        T(test_user_disable_revokes_sessions), T(test_user_password_change_revokes_sessions),      \
        T(test_user_delete_cascades), T(test_clients), T(test_clients_empty_list),                 \
        T(test_client_policy_and_update), T(test_events_of_each_change),                           \
        T(test_session_create_and_rotate_chain), T(test_rotate_reuse_revokes_session),             \
        T(test_rotate_grace_window), T(test_rotate_idle_expiry), T(test_rotate_absolute_expiry),   \
        T(test_rotate_client_mismatch), T(test_rotate_disabled_user),                              \
        T(test_session_get_active_flags), T(test_session_revoke_idempotent),                       \
        T(test_sessions_revoke_user_count), T(test_status_index_allocation),                       \
        T(test_status_revoked_by_each_path), T(test_client_status_index_and_resources),            \
        T(test_client_redirect_uris), T(test_client_browser), T(test_migration_browser_clients),   \
        T(test_auth_codes), T(test_auth_code_replay_race), T(test_client_disable_enable_delete),   \
        T(test_assertion_replay), T(test_assertion_replay_concurrent), T(test_session_list),       \
        T(test_denylist), T(test_gc), T(test_concurrent_rotate_same_token),                        \
        T(test_concurrent_rotate_two_handles), T(test_concurrent_rotate_grace),                    \
        T(test_concurrent_rotate_processes), T(test_concurrent_pool), T(test_errmsg_and_rc_str),   \
        T(test_signing_keys), T(test_secrets_rows), T(test_concurrent_first_key), THROTTLE_TESTS
    const struct CMUnitTest sqlite_tests[] = {
        T(test_open_creates_schema),     T(test_open_refuses_foreign_and_newer),
        T(test_migration_from_schema_1), cmocka_unit_test(test_readonly_db_is_io_error),
        T(test_listen_sqlite_polls),     BEHAVIOUR_TESTS,
    };
    g_pg = false;
    int failed = cmocka_run_group_tests_name("store on SQLite", sqlite_tests, NULL, NULL);
#ifdef JOTD_HAVE_PG
    const struct CMUnitTest pg_offline_tests[] = {
        cmocka_unit_test(test_pg_redact),
        cmocka_unit_test(test_pg_unreachable_is_io),
    };
    failed +=
        cmocka_run_group_tests_name("store on PostgreSQL, no server", pg_offline_tests, NULL, NULL);
    g_pg_admin = getenv("JOTD_TEST_PG_URI");
    if (!g_pg_admin || !*g_pg_admin) {
        printf("SKIPPED: PostgreSQL variant: JOTD_TEST_PG_URI not set\n");
        return failed;
    }
    const struct CMUnitTest pg_tests[] = {
        T(test_pg_open_creates_schema),
        T(test_pg_open_refuses_foreign_and_newer),
        T(test_pg_migration_to_status_lists),
        cmocka_unit_test_setup_teardown(test_pg_concurrent_first_open, setup_empty, teardown),
        T(test_pg_reconnect_after_terminate),
        T(test_pg_lock_timeout_is_busy),
        T(test_pg_deadlock_is_retried),
        T(test_pg_durability_normal),
        T(test_pg_events_in_id_order),
        T(test_pg_listen_wakes_and_reconnects),
        BEHAVIOUR_TESTS,
    };
    g_pg = true;
    failed += cmocka_run_group_tests_name("store on PostgreSQL", pg_tests, NULL, NULL);
#else
    printf("SKIPPED: PostgreSQL variant: jotd built without libpq\n");
#endif
    return failed;
}
