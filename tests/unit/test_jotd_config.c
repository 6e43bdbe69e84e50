/* Unit tests for server/config.c: defaults < file < environment < flags, every flag form,
 * bad values with the source named in the message, argument collection, validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#include "config.h"

extern char **environ;

#define ERRLEN 512

/* Files made by a test, removed by teardown. */
static char tmp_paths[4][64];
static size_t n_tmp;

/* Remove every JOTD_* variable so that the tests do not see the caller's environment. */
static void clear_env(void)
{
    for (;;) {
        char name[128] = "";
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "JOTD_", 5) == 0) {
                const char *eq = strchr(*e, '=');
                size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
                if (n < sizeof name) {
                    memcpy(name, *e, n);
                    name[n] = '\0';
                }
                break;
            }
        }
        if (!name[0])
            return;
        unsetenv(name);
    }
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    n_tmp = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clear_env();
    for (size_t i = 0; i < n_tmp; i++)
        unlink(tmp_paths[i]);
    n_tmp = 0;
    return 0;
}

/* A temporary file holding \p text; its path lives until teardown. */
static const char *temp_file(const char *text)
{
    assert_true(n_tmp < 4);
    char *path = tmp_paths[n_tmp++];
    snprintf(path, 64, "/tmp/jotd_config_test_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Load with argv = {"serve", args..., NULL}; rest collected when \p rest is non-NULL. */
#define MAX_ARGS 32
static int load_args(jotd_config_t *c, char *err, char **rest, int *n_rest, const char *args[])
{
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"serve";
    for (size_t i = 0; args && args[i]; i++) {
        assert_true(argc <= MAX_ARGS);
        argv[argc++] = (char *)args[i];
    }
    argv[argc] = NULL;
    jotd_config_defaults(c);
    err[0] = '\0';
    return jotd_config_load(c, argc, argv, rest, n_rest, err, ERRLEN);
}

#define LOAD(c, err, ...) load_args((c), (err), NULL, NULL, (const char *[]){__VA_ARGS__, NULL})

static void expect_ok(int rc, const char *err)
{
    if (rc != 0)
        fail_msg("load failed: %s", err);
}

/* The load fails and the message contains every given fragment. */
static void expect_err(int rc, const char *err, const char *frag1, const char *frag2)
{
    if (rc == 0)
        fail_msg("load succeeded, expected an error naming \"%s\"", frag1);
    if (frag1 && !strstr(err, frag1))
        fail_msg("message \"%s\" does not contain \"%s\"", err, frag1);
    if (frag2 && !strstr(err, frag2))
        fail_msg("message \"%s\" does not contain \"%s\"", err, frag2);
}

/* ---- defaults ---------------------------------------------------------------------------- */

/* --durability full|normal: default normal (durability_full false); every source; anything
 * else refused with the source named. */
static void test_durability(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_false(c.durability_full);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--durability", "full"), err);
    assert_true(c.durability_full);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--durability=normal"), err);
    assert_false(c.durability_full);
    jotd_config_free(&c);
    setenv("JOTD_DURABILITY", "full", 1);
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_true(c.durability_full);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--durability", "normal"), err); /* the flag beats the env */
    assert_false(c.durability_full);
    jotd_config_free(&c);
    unsetenv("JOTD_DURABILITY");
    const char *file = temp_file("durability = full\n");
    expect_ok(LOAD(&c, err, "--config", file), err);
    assert_true(c.durability_full);
    jotd_config_free(&c);
    expect_err(LOAD(&c, err, "--durability", "off"), err, "--durability", "full or normal");
    jotd_config_free(&c);
    expect_err(LOAD(&c, err, "--durability", "FULL"), err, "--durability", NULL);
    jotd_config_free(&c);
}

/* --events-listen on|off: default on; every source; a value is required (a bare flag is not
 * "on"), and anything but on or off is refused with the source named. */
static void test_events_listen(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_true(c.events_listen);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--events-listen", "off"), err);
    assert_false(c.events_listen);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--events-listen=on"), err);
    assert_true(c.events_listen);
    jotd_config_free(&c);
    setenv("JOTD_EVENTS_LISTEN", "off", 1);
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_false(c.events_listen);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--events-listen", "on"), err); /* the flag beats the env */
    assert_true(c.events_listen);
    jotd_config_free(&c);
    unsetenv("JOTD_EVENTS_LISTEN");
    const char *file = temp_file("events_listen = off\n");
    expect_ok(LOAD(&c, err, "--config", file), err);
    assert_false(c.events_listen);
    jotd_config_free(&c);
    static const char *const bad[] = {"true", "no", "0", "ON", "", "offf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_err(LOAD(&c, err, "--events-listen", bad[i]), err, "--events-listen", "on or off");
        jotd_config_free(&c);
    }
    setenv("JOTD_EVENTS_LISTEN", "yes", 1);
    expect_err(load_args(&c, err, NULL, NULL, NULL), err, "JOTD_EVENTS_LISTEN", "on or off");
    jotd_config_free(&c);
    unsetenv("JOTD_EVENTS_LISTEN");
    expect_err(LOAD(&c, err, "--events-listen"), err, "--events-listen", "needs a value");
    jotd_config_free(&c);
}

static void cidrs_text(const jotd_config_t *c, char *buf, size_t size);

/* --trusted-proxy: repeatable within a source, a comma list anywhere, the next source
 * replaces the list; strict CIDRs, errors naming the source. */
static void test_trusted_proxy(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN], got[512];
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_int_equal(c.n_trusted_proxies, 0);
    jotd_config_free(&c);

    expect_ok(LOAD(&c, err, "--trusted-proxy", "127.0.0.1/32", "--trusted-proxy=::1",
                   "--trusted-proxy", "10.0.0.0/8,192.168.0.0/16"),
              err);
    cidrs_text(&c, got, sizeof got);
    assert_string_equal(got, "127.0.0.1/32 ::1/128 10.0.0.0/8 192.168.0.0/16");
    jotd_config_free(&c);

    const char *file = temp_file("trusted_proxy = 10.0.0.0/8\ntrusted-proxy = fd00::/8, "
                                 "172.16.0.0/12 # the LB\n");
    expect_ok(LOAD(&c, err, "--config", file), err);
    cidrs_text(&c, got, sizeof got);
    assert_string_equal(got, "10.0.0.0/8 fd00::/8 172.16.0.0/12");
    jotd_config_free(&c);

    setenv("JOTD_TRUSTED_PROXY", "192.0.2.1, 198.51.100.0/24", 1);
    expect_ok(LOAD(&c, err, "--config", file), err); /* the environment replaces the file */
    cidrs_text(&c, got, sizeof got);
    assert_string_equal(got, "192.0.2.1/32 198.51.100.0/24");
    jotd_config_free(&c);
    expect_ok(
        LOAD(&c, err, "--config", file, "--trusted-proxy", "::1", "--trusted-proxy", "127.0.0.1"),
        err); /* flags replace both */
    cidrs_text(&c, got, sizeof got);
    assert_string_equal(got, "::1/128 127.0.0.1/32");
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--trusted-proxy="), err); /* empty: none */
    assert_int_equal(c.n_trusted_proxies, 0);
    jotd_config_free(&c);
    setenv("JOTD_TRUSTED_PROXY", "10.0.0.1/8", 1);
    expect_err(load_args(&c, err, NULL, NULL, NULL), err, "JOTD_TRUSTED_PROXY", "host bits");
    jotd_config_free(&c);
    unsetenv("JOTD_TRUSTED_PROXY");

    static const char *const bad[] = {"10.0.0.0/33",     "10.0.0.1/8",  "::1/129",   "1.2.3",
                                      "10.0.0.0/8,,::1", "10.0.0.0/8,", "localhost", "10.0.0.0/08",
                                      "[::1]",           "fe80::1%eth0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_err(LOAD(&c, err, "--trusted-proxy", bad[i]), err, "--trusted-proxy", NULL);
        jotd_config_free(&c);
    }
    expect_err(LOAD(&c, err, "--trusted-proxy", "10.0.0.1/8"), err, "bad CIDR \"10.0.0.1/8\"",
               "host bits");
    jotd_config_free(&c);
    const char *badfile = temp_file("trusted_proxy = 10.0.0.0/8\ntrusted_proxy = nope\n");
    expect_err(LOAD(&c, err, "--config", badfile), err, ":2: trusted_proxy", "nope");
    jotd_config_free(&c);

    /* at most JOTD_MAX_TRUSTED_PROXIES ranges */
    char many[2048];
    size_t n = 0;
    for (int i = 0; i <= JOTD_MAX_TRUSTED_PROXIES; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "%s10.0.%d.0/24", i ? "," : "", i);
    expect_err(LOAD(&c, err, "--trusted-proxy", many), err, "--trusted-proxy", "more than");
    jotd_config_free(&c);
    many[strrchr(many, ',') - many] = '\0';
    expect_ok(LOAD(&c, err, "--trusted-proxy", many), err);
    assert_int_equal(c.n_trusted_proxies, JOTD_MAX_TRUSTED_PROXIES);
    jotd_config_free(&c);
}

/* A copy owns its strings: the original freed, the copy still reads every field (the key
 * reload of a serving jotd runs on such a copy). */
static void test_copy(void **state)
{
    (void)state;
    char err[ERRLEN];
    jotd_config_t c, d; /* LOAD fills c with the defaults first */
    expect_ok(LOAD(&c, err, "--issuer", "https://id.example.com", "--key-encryption-key",
                   "/etc/jotd/kek", "--tls-cert", "/c.pem", "--tls-key", "/k.pem",
                   "--key-lead-time", "2s", "--jwks-max-age", "1s"),
              err);
    assert_rc(jotd_config_copy(&d, &c), JOTD_OK);
    assert_ptr_not_equal(d.issuer, c.issuer);
    jotd_config_free(&c);
    assert_string_equal(d.issuer, "https://id.example.com");
    assert_string_equal(d.key_encryption_key, "/etc/jotd/kek");
    assert_string_equal(d.tls_cert, "/c.pem");
    assert_string_equal(d.data_dir, "./var");
    assert_string_equal(d.default_client, "default");
    assert_int_equal(d.key_lead_time, 2);
    assert_int_equal(d.jwks_max_age, 1);
    jotd_config_free(&d);
}

static void test_defaults(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_string_equal(c.data_dir, "./var");
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.issuer, "http://127.0.0.1:8080");
    assert_string_equal(c.audience, "http://127.0.0.1:8080");
    assert_null(c.tls_cert);
    assert_null(c.tls_key);
    assert_false(c.insecure_http);
    assert_null(c.config_file);
    assert_int_equal(c.alg, JOT_ALG_ES256);
    assert_int_equal(c.access_ttl, 900);
    assert_int_equal(c.events_poll_interval, 1);
    assert_int_equal(c.status_list_ttl, 30);
    assert_int_equal(c.jwks_max_age, 300);
    assert_int_equal(c.key_lead_time, 600);
    assert_null(c.key_encryption_key);
    assert_int_equal(c.refresh_idle_ttl, 7 * 86400);
    assert_int_equal(c.refresh_abs_ttl, 30 * 86400);
    assert_int_equal(c.refresh_grace, 0);
    assert_int_equal(c.argon2_m_kib, 19456);
    assert_int_equal(c.argon2_t, 2);
    assert_int_equal(c.argon2_p, 1);
    assert_int_equal(c.max_body, 16 * 1024);
    assert_in_range(c.threads, 1, 256);
    assert_int_equal(c.max_connections, 1024);
    assert_int_equal(c.connection_timeout, 30);
    assert_int_equal(c.throttle_account_failures, 5);
    assert_int_equal(c.throttle_ip_failures, 20);
    assert_string_equal(c.default_client, "default");
    expect_ok(jotd_config_validate(&c, err, ERRLEN), err);
    jotd_config_free(&c);
    jotd_config_free(NULL);
}

/* ---- precedence -------------------------------------------------------------------------- */

static void test_precedence(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    const char *file = temp_file("data = /from/file\n"
                                 "access_ttl = 1m\n"
                                 "threads = 3\n"
                                 "listen = 127.0.0.2:1000\n"
                                 "issuer = https://file.example\n"
                                 "max_body = 1000\n");

    /* file only */
    expect_ok(LOAD(&c, err, "--config", file), err);
    assert_string_equal(c.data_dir, "/from/file");
    assert_int_equal(c.access_ttl, 60);
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.listen_host, "127.0.0.2");
    assert_int_equal(c.listen_port, 1000);
    assert_string_equal(c.issuer, "https://file.example");
    assert_string_equal(c.audience, "https://file.example");
    assert_string_equal(c.config_file, file);
    jotd_config_free(&c);

    /* environment over file */
    setenv("JOTD_DATA", "/from/env", 1);
    setenv("JOTD_ACCESS_TTL", "2m", 1);
    setenv("JOTD_THREADS", "4", 1);
    setenv("JOTD_ISSUER", "https://env.example", 1);
    expect_ok(LOAD(&c, err, "--config", file), err);
    assert_string_equal(c.data_dir, "/from/env");
    assert_int_equal(c.access_ttl, 120);
    assert_int_equal(c.threads, 4);
    assert_string_equal(c.issuer, "https://env.example");
    assert_int_equal(c.listen_port, 1000); /* file, not overridden */
    assert_int_equal(c.max_body, 1000);
    jotd_config_free(&c);

    /* flags over environment over file */
    expect_ok(LOAD(&c, err, "--data", "/from/flag", "--config", file, "--threads=5", "--issuer",
                   "https://flag.example"),
              err);
    assert_string_equal(c.data_dir, "/from/flag");
    assert_int_equal(c.access_ttl, 120); /* env */
    assert_int_equal(c.threads, 5);
    assert_string_equal(c.issuer, "https://flag.example");
    assert_string_equal(c.audience, "https://flag.example");
    assert_int_equal(c.max_body, 1000); /* file */
    jotd_config_free(&c);

    /* an empty environment variable counts as unset */
    setenv("JOTD_DATA", "", 1);
    expect_ok(LOAD(&c, err, "--config", file), err);
    assert_string_equal(c.data_dir, "/from/file");
    jotd_config_free(&c);
}

static void test_config_from_env(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    const char *f1 = temp_file("data = /one\n");
    const char *f2 = temp_file("data = /two\n");
    setenv("JOTD_CONFIG", f1, 1);
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_string_equal(c.data_dir, "/one");
    jotd_config_free(&c);
    /* --config wins over JOTD_CONFIG */
    expect_ok(LOAD(&c, err,
                   "--config="
                   "/nonexistent",
                   "--config", f2),
              err);
    assert_string_equal(c.data_dir, "/two");
    jotd_config_free(&c);
}

static void test_derived_issuer(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_ok(LOAD(&c, err, "--listen", "[::1]:9000"), err);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.issuer, "http://[::1]:9000");
    assert_string_equal(c.audience, "http://[::1]:9000");
    jotd_config_free(&c);

    setenv("JOTD_LISTEN", "localhost:0", 1);
    expect_ok(LOAD(&c, err, "--audience", "api"), err);
    assert_string_equal(c.issuer, "http://localhost:0");
    assert_string_equal(c.audience, "api");
    jotd_config_free(&c);
}

/* ---- every key, in every form ------------------------------------------------------------ */

typedef enum {
    F_STR,
    F_BOOL,  /* a bare flag means true */
    F_ONOFF, /* a bool set by on/off, which the flag needs */
    F_ALG,
    F_I64,
    F_U32,
    F_UINT,
    F_SIZE,
    F_LISTEN,
    F_CIDRS
} fkind_t;

/* The trusted proxy ranges as "net/bits net/bits ..." (IPv4 prefixes as IPv4 writes them). */
static void cidrs_text(const jotd_config_t *c, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n_trusted_proxies && n < size; i++) {
        char a[JOTD_ADDR_TEXT];
        const jotd_cidr_t *r = &c->trusted_proxies[i];
        jotd_addr_format(r->addr, a);
        bool v4 = strchr(a, ':') == NULL;
        n += (size_t)snprintf(buf + n, size - n, "%s%s/%u", i ? " " : "", a,
                              v4 ? r->bits - 96 : r->bits);
    }
}

static const struct {
    const char *key; /* file key */
    const char *value;
    fkind_t kind;
    size_t off;
    const char *want; /* the field rendered as text */
} keys[] = {
    {"data", "/srv/jotd", F_STR, offsetof(jotd_config_t, data_dir), "/srv/jotd"},
    {"store", "postgresql:///jot?host=/run/pg&port=5432", F_STR, offsetof(jotd_config_t, store),
     "postgresql:///jot?host=/run/pg&port=5432"},
    {"listen", "10.1.2.3:4443", F_LISTEN, 0, "10.1.2.3 4443"},
    {"issuer", "https://id.example.com", F_STR, offsetof(jotd_config_t, issuer),
     "https://id.example.com"},
    {"audience", "api://x", F_STR, offsetof(jotd_config_t, audience), "api://x"},
    {"tls_cert", "/c.pem", F_STR, offsetof(jotd_config_t, tls_cert), "/c.pem"},
    {"tls_key", "/k.pem", F_STR, offsetof(jotd_config_t, tls_key), "/k.pem"},
    {"insecure_http", "yes", F_BOOL, offsetof(jotd_config_t, insecure_http), "1"},
    {"alg", "EdDSA", F_ALG, offsetof(jotd_config_t, alg), "EdDSA"},
    {"access_ttl", "5m", F_I64, offsetof(jotd_config_t, access_ttl), "300"},
    {"refresh_idle_ttl", "2h", F_I64, offsetof(jotd_config_t, refresh_idle_ttl), "7200"},
    {"refresh_absolute_ttl", "3d", F_I64, offsetof(jotd_config_t, refresh_abs_ttl), "259200"},
    {"refresh_grace", "10s", F_I64, offsetof(jotd_config_t, refresh_grace), "10"},
    {"events_poll_interval", "5s", F_I64, offsetof(jotd_config_t, events_poll_interval), "5"},
    {"status_list_ttl", "2m", F_I64, offsetof(jotd_config_t, status_list_ttl), "120"},
    {"jwks_max_age", "2m", F_I64, offsetof(jotd_config_t, jwks_max_age), "120"},
    {"key_lead_time", "1h", F_I64, offsetof(jotd_config_t, key_lead_time), "3600"},
    {"key_encryption_key", "/etc/jotd/kek", F_STR, offsetof(jotd_config_t, key_encryption_key),
     "/etc/jotd/kek"},
    {"events_listen", "off", F_ONOFF, offsetof(jotd_config_t, events_listen), "0"},
    {"argon2_m_kib", "65536", F_U32, offsetof(jotd_config_t, argon2_m_kib), "65536"},
    {"argon2_t", "3", F_U32, offsetof(jotd_config_t, argon2_t), "3"},
    {"argon2_p", "4", F_U32, offsetof(jotd_config_t, argon2_p), "4"},
    {"max_body", "32768", F_SIZE, offsetof(jotd_config_t, max_body), "32768"},
    {"threads", "7", F_UINT, offsetof(jotd_config_t, threads), "7"},
    {"max_connections", "99", F_UINT, offsetof(jotd_config_t, max_connections), "99"},
    {"connection_timeout", "11", F_UINT, offsetof(jotd_config_t, connection_timeout), "11"},
    {"throttle_account_failures", "9", F_UINT, offsetof(jotd_config_t, throttle_account_failures),
     "9"},
    {"throttle_ip_failures", "42", F_UINT, offsetof(jotd_config_t, throttle_ip_failures), "42"},
    {"default_client", "spa", F_STR, offsetof(jotd_config_t, default_client), "spa"},
    {"cookie_domain", "example.com", F_STR, offsetof(jotd_config_t, cookie_domain), "example.com"},
    {"verify_cache_size", "0", F_SIZE, offsetof(jotd_config_t, verify_cache_size), "0"},
    {"trusted_proxy", "10.0.0.0/8, 2001:db8::/32,127.0.0.1", F_CIDRS, 0,
     "10.0.0.0/8 2001:db8::/32 127.0.0.1/32"},
};

static void field_text(const jotd_config_t *c, size_t k, char *buf, size_t size)
{
    const char *base = (const char *)c + keys[k].off;
    switch (keys[k].kind) {
    case F_STR: {
        const char *s = *(char *const *)(const void *)base;
        snprintf(buf, size, "%s", s ? s : "(null)");
        break;
    }
    case F_BOOL:
    case F_ONOFF:
        snprintf(buf, size, "%d", *(const bool *)(const void *)base ? 1 : 0);
        break;
    case F_ALG:
        snprintf(buf, size, "%s", jot_alg_name(*(const jot_alg_t *)(const void *)base));
        break;
    case F_I64:
        snprintf(buf, size, "%lld", (long long)*(const int64_t *)(const void *)base);
        break;
    case F_U32:
        snprintf(buf, size, "%u", (unsigned)*(const uint32_t *)(const void *)base);
        break;
    case F_UINT:
        snprintf(buf, size, "%u", *(const unsigned *)(const void *)base);
        break;
    case F_SIZE:
        snprintf(buf, size, "%zu", *(const size_t *)(const void *)base);
        break;
    case F_LISTEN:
        snprintf(buf, size, "%s %u", c->listen_host, (unsigned)c->listen_port);
        break;
    case F_CIDRS:
        cidrs_text(c, buf, size);
        break;
    }
}

static void check_key(const jotd_config_t *c, size_t k, const char *how)
{
    char got[256];
    field_text(c, k, got, sizeof got);
    if (strcmp(got, keys[k].want) != 0)
        fail_msg("%s %s: got \"%s\", want \"%s\"", how, keys[k].key, got, keys[k].want);
}

static void test_every_key_every_form(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        jotd_config_t c;
        char err[ERRLEN], flag[64], joined[128], env[64], line[160];
        size_t j = 0;
        flag[j++] = '-';
        flag[j++] = '-';
        for (const char *p = keys[k].key; *p; p++)
            flag[j++] = *p == '_' ? '-' : *p;
        flag[j] = '\0';
        j = (size_t)snprintf(env, sizeof env, "JOTD_");
        for (const char *p = keys[k].key; *p; p++)
            env[j++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        env[j] = '\0';

        /* --flag value (a boolean flag stands alone) */
        if (keys[k].kind == F_BOOL)
            expect_ok(LOAD(&c, err, flag), err);
        else
            expect_ok(LOAD(&c, err, flag, keys[k].value), err);
        check_key(&c, k, flag);
        jotd_config_free(&c);
        /* --flag=value */
        snprintf(joined, sizeof joined, "%s=%s", flag, keys[k].value);
        expect_ok(LOAD(&c, err, joined), err);
        check_key(&c, k, joined);
        jotd_config_free(&c);
        /* JOTD_KEY=value */
        setenv(env, keys[k].value, 1);
        expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
        check_key(&c, k, env);
        jotd_config_free(&c);
        unsetenv(env);
        /* key = value in a file, quoted */
        snprintf(line, sizeof line, "# comment\n\n  %s\t=  \"%s\"  \n", keys[k].key, keys[k].value);
        const char *file = temp_file(line);
        expect_ok(LOAD(&c, err, "--config", file), err);
        check_key(&c, k, "file");
        jotd_config_free(&c);
        unlink(file);
        n_tmp--;
    }
}

static void test_bool_forms(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_ok(LOAD(&c, err, "--insecure-http"), err);
    assert_true(c.insecure_http);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--insecure-http", "--data", "/d"), err);
    assert_true(c.insecure_http); /* a bare flag takes no value */
    assert_string_equal(c.data_dir, "/d");
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--insecure-http=false"), err);
    assert_false(c.insecure_http);
    jotd_config_free(&c);

    static const struct {
        const char *text;
        int want; /* -1: error */
    } vals[] = {{"true", 1}, {"TRUE", 1}, {"1", 1},      {"yes", 1}, {"false", 0}, {"0", 0},
                {"no", 0},   {"No", 0},   {"maybe", -1}, {"2", -1},  {"tru", -1},  {" 1", -1}};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        setenv("JOTD_INSECURE_HTTP", vals[i].text, 1);
        int rc = load_args(&c, err, NULL, NULL, NULL);
        if (vals[i].want < 0) {
            expect_err(rc, err, "JOTD_INSECURE_HTTP", NULL);
        } else {
            expect_ok(rc, err);
            if ((int)c.insecure_http != vals[i].want)
                fail_msg("JOTD_INSECURE_HTTP=%s gave %d", vals[i].text, c.insecure_http);
        }
        jotd_config_free(&c);
    }
    unsetenv("JOTD_INSECURE_HTTP");
    /* an environment "true" is overridden by a flag "false" */
    setenv("JOTD_INSECURE_HTTP", "true", 1);
    expect_ok(LOAD(&c, err, "--insecure-http=no"), err);
    assert_false(c.insecure_http);
    jotd_config_free(&c);
}

static void test_repeated_flag_last_wins(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_ok(
        LOAD(&c, err, "--data", "/a", "--data=/b", "--access-ttl", "1h", "--access-ttl", "90"),
        err);
    assert_string_equal(c.data_dir, "/b");
    assert_int_equal(c.access_ttl, 90);
    jotd_config_free(&c);
}

/* ---- bad values -------------------------------------------------------------------------- */

static void test_bad_flag_values(void **state)
{
    (void)state;
    static const struct {
        const char *flag, *value, *frag;
    } bad[] = {
        {"--access-ttl", "-5", "--access-ttl"},
        {"--access-ttl", "15x", "15x"},
        {"--access-ttl", "", "--access-ttl"},
        {"--access-ttl", "1.5h", "--access-ttl"},
        {"--access-ttl", "+5", "--access-ttl"},
        {"--access-ttl", " 5", "--access-ttl"},
        {"--refresh-idle-ttl", "99999999999999999999", "--refresh-idle-ttl"},
        {"--refresh-absolute-ttl", "106751991167301d", "--refresh-absolute-ttl"},
        {"--refresh-grace", "h", "--refresh-grace"},
        {"--threads", "4294967296", "--threads"},
        {"--threads", "-1", "--threads"},
        {"--threads", "0x10", "--threads"},
        {"--argon2-m-kib", "18446744073709551616", "--argon2-m-kib"},
        {"--argon2-t", "4294967296", "--argon2-t"},
        {"--argon2-p", "1e3", "--argon2-p"},
        {"--max-body", "16k", "--max-body"},
        {"--max-connections", "", "--max-connections"},
        {"--connection-timeout", "30s", "--connection-timeout"},
        {"--throttle-account-failures", "five", "--throttle-account-failures"},
        {"--throttle-ip-failures", "-20", "--throttle-ip-failures"},
        {"--alg", "none", "none"},
        {"--alg", "HS256", "--alg"},
        {"--alg", "es256", "--alg"},
        {"--alg", "RS1", "--alg"},
        {"--listen", "localhost", "--listen"},
        {"--listen", "::1:8080", "brackets"},
        {"--listen", "[::1]8080", "--listen"},
        {"--listen", "[::1]:", "--listen"},
        {"--listen", "[zz]:80", "--listen"},
        {"--listen", "host:65536", "--listen"},
        {"--listen", "host:-1", "--listen"},
        {"--listen", ":80", "--listen"},
        {"--listen", "a b:80", "--listen"},
        {"--data", "", "--data"},
        {"--issuer", "", "--issuer"},
        {"--default-client", "", "--default-client"},
        {"--insecure-http=sure", NULL, "--insecure-http"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jotd_config_t c;
        char err[ERRLEN];
        int rc =
            bad[i].value ? LOAD(&c, err, bad[i].flag, bad[i].value) : LOAD(&c, err, bad[i].flag);
        if (rc == 0)
            fail_msg("%s %s accepted", bad[i].flag, bad[i].value ? bad[i].value : "");
        expect_err(rc, err, bad[i].frag, NULL);
        jotd_config_free(&c);
    }
}

static void test_missing_value_and_unknown(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    expect_err(LOAD(&c, err, "--data"), err, "--data", "value");
    jotd_config_free(&c);
    expect_err(LOAD(&c, err, "--config"), err, "--config", NULL);
    jotd_config_free(&c);
    /* without a rest array, anything that is not configuration is an error */
    expect_err(LOAD(&c, err, "--bogus"), err, "--bogus", NULL);
    jotd_config_free(&c);
    expect_err(LOAD(&c, err, "--data-dir=/x"), err, "--data-dir", NULL);
    jotd_config_free(&c);
    expect_err(LOAD(&c, err, "stray"), err, "stray", NULL);
    jotd_config_free(&c);
    /* flags use '-', not '_' */
    expect_err(LOAD(&c, err, "--access_ttl", "5"), err, "--access_ttl", NULL);
    jotd_config_free(&c);
}

static void test_bad_env_values(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    setenv("JOTD_ACCESS_TTL", "15x", 1);
    expect_err(load_args(&c, err, NULL, NULL, NULL), err, "JOTD_ACCESS_TTL", "15x");
    jotd_config_free(&c);
    /* a valid flag does not hide a bad environment value: every source must parse */
    expect_err(LOAD(&c, err, "--access-ttl", "60"), err, "JOTD_ACCESS_TTL", NULL);
    jotd_config_free(&c);
    unsetenv("JOTD_ACCESS_TTL");
    setenv("JOTD_LISTEN", "0.0.0.0", 1);
    expect_err(load_args(&c, err, NULL, NULL, NULL), err, "JOTD_LISTEN", NULL);
    jotd_config_free(&c);
    unsetenv("JOTD_LISTEN");
    setenv("JOTD_ALG", "none", 1);
    expect_err(load_args(&c, err, NULL, NULL, NULL), err, "JOTD_ALG", "none");
    jotd_config_free(&c);
}

static void test_bad_files(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN], want[128];

    const char *f = temp_file("# jotd\n\ndata = /x\nlisten_address = 1.2.3.4:80\n");
    expect_err(LOAD(&c, err, "--config", f), err, "listen_address", NULL);
    snprintf(want, sizeof want, "%s:4", f);
    expect_err(-1, err, want, NULL);
    jotd_config_free(&c);

    f = temp_file("data = /x\naccess_ttl = 15x\n");
    snprintf(want, sizeof want, "%s:2", f);
    expect_err(LOAD(&c, err, "--config", f), err, want, "access_ttl");
    jotd_config_free(&c);

    f = temp_file("data /x\n");
    snprintf(want, sizeof want, "%s:1", f);
    expect_err(LOAD(&c, err, "--config", f), err, want, NULL);
    jotd_config_free(&c);

    f = temp_file("\n\n\ndata = \"/x\n");
    snprintf(want, sizeof want, "%s:4", f);
    expect_err(LOAD(&c, err, "--config", f), err, want, "quote");
    jotd_config_free(&c);

    /* missing file named by --config or JOTD_CONFIG */
    expect_err(LOAD(&c, err, "--config", "/nonexistent/jotd.conf"), err, "/nonexistent/jotd.conf",
               NULL);
    jotd_config_free(&c);
    setenv("JOTD_CONFIG", "/nonexistent/env.conf", 1);
    expect_err(load_args(&c, err, NULL, NULL, NULL), err, "/nonexistent/env.conf", NULL);
    jotd_config_free(&c);
}

static void test_file_syntax(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    const char *f = temp_file("# a comment\r\n"
                              "   \r\n"
                              "data=/plain # trailing comment\r\n"
                              "default-client = \"with # hash\"   # comment\n"
                              "audience = a#b\n"
                              "\tissuer\t=\thttps://x.example\t\n"
                              "tls_cert = \"\"\n"
                              "access_ttl = 600"); /* no final newline */
    expect_ok(LOAD(&c, err, "--config", f), err);
    assert_string_equal(c.data_dir, "/plain");
    assert_string_equal(c.default_client, "with # hash");
    assert_string_equal(c.audience, "a#b");
    assert_string_equal(c.issuer, "https://x.example");
    assert_null(c.tls_cert);
    assert_int_equal(c.access_ttl, 600);
    jotd_config_free(&c);

    f = temp_file("data = \"/x\" junk\n");
    expect_err(LOAD(&c, err, "--config", f), err, ":1", NULL);
    jotd_config_free(&c);
    /* the file cannot name another file */
    f = temp_file("config = /etc/other.conf\n");
    expect_err(LOAD(&c, err, "--config", f), err, ":1", "config");
    jotd_config_free(&c);
}

/* ---- durations --------------------------------------------------------------------------- */

/* The duration options take the one grammar of common/duration.h (test_common.c tests it in
 * full): here, that every source uses it, "w" included, with the cap JOTX_DURATION_MAX
 * (253402300799 s; before, jotd took no "w" and went up to INT64_MAX). */
static void test_parse_duration(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t want; /* -1: rejected */
    } cases[] = {
        {"0", 0},
        {"90", 90},
        {"90s", 90},
        {"15m", 900},
        {"1h", 3600},
        {"30d", 2592000},
        {"2w", 1209600},
        {"007s", 7},
        {"253402300799", 253402300799LL},
        {"253402300800", -1},
        {"418985w", 418985LL * 604800},
        {"418986w", -1},
        {"2932896d", 2932896LL * 86400},
        {"2932897d", -1},
        {"9223372036854775807", -1},
        {"", -1},
        {"s", -1},
        {"w", -1},
        {"-1", -1},
        {"+1", -1},
        {"15x", -1},
        {"1h30m", -1},
        {"1ww", -1},
        {"15 m", -1},
        {" 15", -1},
        {"15M", -1},
        {"2W", -1},
        {"1.5h", -1},
        {"99999999999999999999999999", -1},
    };
    jotd_config_t c;
    char err[ERRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = LOAD(&c, err, "--refresh-absolute-ttl", cases[i].s);
        if (cases[i].want < 0) {
            if (rc == 0)
                fail_msg("\"%s\" accepted as %lld", cases[i].s, (long long)c.refresh_abs_ttl);
            if (!strstr(err, "--refresh-absolute-ttl") || !strstr(err, "bad duration"))
                fail_msg("\"%s\": message \"%s\"", cases[i].s, err);
        } else {
            if (rc != 0 || c.refresh_abs_ttl != cases[i].want)
                fail_msg("\"%s\": rc %d value %lld, want %lld (%s)", cases[i].s, rc,
                         (long long)c.refresh_abs_ttl, (long long)cases[i].want, err);
        }
        jotd_config_free(&c);
    }
    /* weeks from the environment and the file too */
    const char *file = temp_file("refresh_absolute_ttl = 4w\n");
    setenv("JOTD_REFRESH_IDLE_TTL", "1w", 1);
    expect_ok(LOAD(&c, err, "--config", file), err);
    assert_int_equal(c.refresh_idle_ttl, 604800);
    assert_int_equal(c.refresh_abs_ttl, 4 * 604800);
    jotd_config_free(&c);
}

/* ---- arguments left for the caller ------------------------------------------------------- */

static void test_rest(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    char *rest[16];
    int n = -1;
    /* jotd user add alice --role admin --password-stdin --data DIR */
    expect_ok(load_args(&c, err, rest, &n,
                        (const char *[]){"alice", "--role", "admin", "--password-stdin", "--data",
                                         "/tmp/dir", NULL}),
              err);
    assert_int_equal(n, 4);
    assert_string_equal(rest[0], "alice");
    assert_string_equal(rest[1], "--role");
    assert_string_equal(rest[2], "admin");
    assert_string_equal(rest[3], "--password-stdin");
    assert_string_equal(c.data_dir, "/tmp/dir");
    jotd_config_free(&c);

    /* flags between positionals; "-x", "-" and "--" handling */
    n = -1;
    expect_ok(load_args(&c, err, rest, &n,
                        (const char *[]){"--access-ttl=60", "a", "-", "-x", "--insecure-http", "b",
                                         "--", "--data", "c", NULL}),
              err);
    assert_int_equal(n, 6);
    assert_string_equal(rest[0], "a");
    assert_string_equal(rest[1], "-");
    assert_string_equal(rest[2], "-x");
    assert_string_equal(rest[3], "b");
    assert_string_equal(rest[4], "--data"); /* after "--": not configuration */
    assert_string_equal(rest[5], "c");
    assert_int_equal(c.access_ttl, 60);
    assert_true(c.insecure_http);
    assert_string_equal(c.data_dir, "./var");
    jotd_config_free(&c);

    /* nothing left over */
    n = -1;
    expect_ok(load_args(&c, err, rest, &n, (const char *[]){"--data", "/d", NULL}), err);
    assert_int_equal(n, 0);
    jotd_config_free(&c);
}

/* ---- validation -------------------------------------------------------------------------- */

static int validate_args(char *err, const char *args[])
{
    jotd_config_t c;
    int rc = load_args(&c, err, NULL, NULL, args);
    if (rc != 0)
        fail_msg("load failed: %s", err);
    err[0] = '\0';
    rc = jotd_config_validate(&c, err, ERRLEN);
    jotd_config_free(&c);
    return rc;
}

#define VALIDATE(err, ...) validate_args((err), (const char *[]){__VA_ARGS__, NULL})

static void test_validate_plain_http(void **state)
{
    (void)state;
    char err[ERRLEN];
    /* loopback: fine without TLS */
    static const char *const loop[] = {"127.0.0.1:80", "127.5.6.7:80", "[::1]:80",
                                       "localhost:80", "LocalHost:80", "[::ffff:127.0.0.1]:80"};
    for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++) {
        if (VALIDATE(err, "--listen", loop[i]) != 0)
            fail_msg("%s refused: %s", loop[i], err);
    }
    /* anything else needs TLS or --insecure-http */
    static const char *const open_[] = {"0.0.0.0:80",
                                        "[::]:80",
                                        "192.168.1.2:80",
                                        "example.com:80",
                                        "128.0.0.1:80",
                                        "[::2]:80",
                                        "localhost.evil.example:80",
                                        "127.1:80"};
    for (size_t i = 0; i < sizeof open_ / sizeof open_[0]; i++) {
        if (VALIDATE(err, "--listen", open_[i]) == 0)
            fail_msg("%s accepted without TLS", open_[i]);
        expect_err(-1, err, "--insecure-http", "--tls-cert");
        if (VALIDATE(err, "--listen", open_[i], "--insecure-http") != 0)
            fail_msg("%s --insecure-http refused: %s", open_[i], err);
    }
}

static void test_validate_tls(void **state)
{
    (void)state;
    char err[ERRLEN];
    const char *cert = temp_file("cert\n");
    const char *key = temp_file("key\n");
    assert_int_not_equal(VALIDATE(err, "--tls-cert", cert), 0);
    expect_err(-1, err, "--tls-key", NULL);
    assert_int_not_equal(VALIDATE(err, "--tls-key", key), 0);
    expect_err(-1, err, "--tls-cert", NULL);
    assert_int_not_equal(VALIDATE(err, "--tls-cert", "/nonexistent/c.pem", "--tls-key", key), 0);
    expect_err(-1, err, "/nonexistent/c.pem", NULL);
    assert_int_not_equal(VALIDATE(err, "--tls-cert", cert, "--tls-key", "/nonexistent/k.pem"), 0);
    expect_err(-1, err, "/nonexistent/k.pem", NULL);
    /* with TLS, any address; the default issuer is https */
    if (VALIDATE(err, "--tls-cert", cert, "--tls-key", key, "--listen", "0.0.0.0:8443") != 0)
        fail_msg("TLS on 0.0.0.0 refused: %s", err);
    jotd_config_t c;
    expect_ok(LOAD(&c, err, "--tls-cert", cert, "--tls-key", key, "--listen", "0.0.0.0:8443"), err);
    assert_string_equal(c.issuer, "https://0.0.0.0:8443");
    jotd_config_free(&c);
}

/* --cookie-domain: a DNS name jotd's host is under; HTTPS as the browser sees it, or plain
 * HTTP on loopback for exactly jotd's own host (redirect.h, config.c check_cookie_domain). */
static void test_validate_cookie_domain(void **state)
{
    (void)state;
    char err[ERRLEN];
    static const char *const good[][2] = {{"https://auth.jot.test", "jot.test"},
                                          {"https://auth.jot.test:8443/jotd", "jot.test"},
                                          {"https://jot.test", "jot.test"},
                                          {"https://a.b.example.co.uk", "b.example.co.uk"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (VALIDATE(err, "--insecure-http", "--issuer", good[i][0], "--cookie-domain",
                     good[i][1]) != 0)
            fail_msg("%s under %s refused: %s", good[i][0], good[i][1], err);
    static const char *const bad[][2] = {
        {"https://auth.jot.test", ".jot.test"},
        {"https://auth.jot.test", "Jot.test"},
        {"https://auth.jot.test", "test"},
        {"https://auth.jot.test", "evil.com"},
        {"https://auth.jot.test", "auth.jot.te"},
        {"https://eviljot.test", "jot.test"},
        {"https://jot.test.evil", "jot.test"},
        {"https://127.0.0.1", "127.0.0.1"},
        {"https://auth.jot.test", "jot.test."},
        {"http://auth.jot.test", "jot.test"}, /* the cookie is Secure: https needed */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (VALIDATE(err, "--insecure-http", "--issuer", bad[i][0], "--cookie-domain", bad[i][1]) ==
            0)
            fail_msg("%s under \"%s\" accepted", bad[i][0], bad[i][1]);
        expect_err(-1, err, "--cookie-domain", NULL);
    }
    /* plain HTTP on loopback (development): only jotd's own host */
    if (VALIDATE(err, "--listen", "127.0.0.1:8080", "--issuer", "http://localhost:8080",
                 "--cookie-domain", "localhost") != 0)
        fail_msg("localhost refused: %s", err);
    assert_int_not_equal(VALIDATE(err, "--listen", "127.0.0.1:8080", "--issuer",
                                  "http://auth.localhost:8080", "--cookie-domain", "localhost"),
                         0);
    expect_err(-1, err, "--cookie-domain", "plain HTTP");
    assert_int_not_equal(VALIDATE(err, "--cookie-domain", "localhost"), 0); /* http://127.0.0.1 */
    expect_err(-1, err, "--cookie-domain", NULL);
    /* the environment and the file name it too */
    jotd_config_t c;
    setenv("JOTD_COOKIE_DOMAIN", "jot.test", 1);
    expect_ok(LOAD(&c, err, "--insecure-http"), err);
    unsetenv("JOTD_COOKIE_DOMAIN");
    assert_string_equal(c.cookie_domain, "jot.test");
    jotd_config_free(&c);
}

static void test_validate_ranges(void **state)
{
    (void)state;
    char err[ERRLEN];
    static const struct {
        const char *flag, *value, *frag; /* frag NULL: valid */
    } cases[] = {
        {"--access-ttl", "0", "--access-ttl"},
        {"--access-ttl", "1", NULL},
        {"--access-ttl", "1d", NULL},
        {"--access-ttl", "86401", "--access-ttl"},
        {"--refresh-idle-ttl", "0", "--refresh-idle-ttl"},
        {"--refresh-idle-ttl", "30d", NULL},
        {"--refresh-idle-ttl", "31d", "--refresh-absolute-ttl"},
        {"--refresh-absolute-ttl", "6d", "--refresh-idle-ttl"},
        {"--refresh-absolute-ttl", "0", "--refresh-absolute-ttl"},
        {"--refresh-absolute-ttl", "3651d", "--refresh-absolute-ttl"},
        {"--events-poll-interval", "0", "--events-poll-interval"},
        {"--events-poll-interval", "1s", NULL},
        {"--events-poll-interval", "1h", NULL},
        {"--events-poll-interval", "3601", "--events-poll-interval"},
        {"--status-list-ttl", "0", "--status-list-ttl"},
        {"--status-list-ttl", "1s", NULL},
        {"--status-list-ttl", "1h", NULL},
        {"--status-list-ttl", "3601", "--status-list-ttl"},
        {"--jwks-max-age", "0", "--jwks-max-age"},
        {"--jwks-max-age", "1s", NULL},
        {"--jwks-max-age", "86401", "--jwks-max-age"},
        {"--jwks-max-age", "11m", "must be at least --jwks-max-age"}, /* lead 600 s */
        {"--key-lead-time", "0", "--key-lead-time"},
        {"--key-lead-time", "299", "must be at least --jwks-max-age"},
        {"--key-lead-time", "300", NULL},
        {"--key-lead-time", "30d", NULL},
        {"--key-lead-time", "2592001", "--key-lead-time"},
        {"--refresh-grace", "60", NULL},
        {"--refresh-grace", "61", "--refresh-grace"},
        {"--threads", "0", "--threads"},
        {"--threads", "256", NULL},
        {"--threads", "257", "--threads"},
        {"--listen", "127.0.0.1:0", NULL},
        {"--listen", "127.0.0.1:65535", NULL},
        {"--argon2-t", "0", "--argon2-t"},
        {"--argon2-p", "0", "--argon2-p"},
        {"--argon2-m-kib", "7", "--argon2-m-kib"},
        {"--max-body", "0", "--max-body"},
        {"--verify-cache-size", "0", NULL},
        {"--verify-cache-size", "10000000", NULL},
        {"--verify-cache-size", "10000001", "--verify-cache-size"},
        {"--max-connections", "0", "--max-connections"},
        {"--connection-timeout", "0", "--connection-timeout"},
        {"--throttle-account-failures", "0", "--throttle-account-failures"},
        {"--issuer", "id.example.com", "--issuer"},
        {"--issuer", "https://id.example.com/?x=1", "--issuer"},
        {"--issuer", "https://id.example.com/tenant", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = VALIDATE(err, cases[i].flag, cases[i].value);
        if (!cases[i].frag && rc != 0)
            fail_msg("%s %s refused: %s", cases[i].flag, cases[i].value, err);
        if (cases[i].frag) {
            if (rc == 0)
                fail_msg("%s %s accepted", cases[i].flag, cases[i].value);
            expect_err(rc, err, cases[i].frag, NULL);
        }
    }
}

/* The codes of rc.h: a refused value or option is JOTD_E_INVAL, a file that cannot be read
 * JOTD_E_IO; the message says which. */
/* --store: a libpq URI or nothing; a password never on the command line, never printed. */
static void test_store(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    /* default: none (SQLite in --data) */
    expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
    assert_null(c.store);
    jotd_config_free(&c);
    expect_ok(LOAD(&c, err, "--store", "postgres://jot@db.example:5433/jot?sslmode=verify-full"),
              err);
    assert_string_equal(c.store, "postgres://jot@db.example:5433/jot?sslmode=verify-full");
    jotd_config_free(&c);
    /* an empty value is no store */
    expect_ok(LOAD(&c, err, "--store="), err);
    assert_null(c.store);
    jotd_config_free(&c);
    /* anything but a libpq URI, from every source, with the source named and the value not
     * echoed */
    static const char *const bad[] = {"/var/lib/jotd/jotd.db", "sqlite:///x.db",
                                      "mysql://u:secretpw@h/db", "POSTGRES://h/db",
                                      "host=db dbname=jot"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_err(LOAD(&c, err, "--store", bad[i]), err, "--store", "postgresql://");
        assert_null(strstr(err, bad[i]));
        jotd_config_free(&c);
        setenv("JOTD_STORE", bad[i], 1);
        expect_err(load_args(&c, err, NULL, NULL, NULL), err, "JOTD_STORE", "PostgreSQL");
        assert_null(strstr(err, "secretpw"));
        jotd_config_free(&c);
        unsetenv("JOTD_STORE");
    }
    /* a password on the command line: refused, pointing at the passfile and JOTD_STORE */
    static const char *const with_pw[] = {
        "postgresql://jot:s3cret@db/jot",
        "postgres://jot:s3cret@db:5432,db2:5432/jot",
        "postgresql:///jot?host=/run/pg&password=s3cret",
        "postgresql://db/jot?user=jot&password=s3cret&sslmode=require",
        "postgresql://db/jot?%70assword=s3cret",
        "postgresql://db/jot?pass%77ORD=x&password=s3cret",
    };
    for (size_t i = 0; i < sizeof with_pw / sizeof with_pw[0]; i++) {
        expect_err(LOAD(&c, err, "--store", with_pw[i]), err, "password", "PGPASSFILE");
        assert_non_null(strstr(err, "JOTD_STORE"));
        assert_null(strstr(err, "s3cret"));
        jotd_config_free(&c);
        char joined[256];
        snprintf(joined, sizeof joined, "--store=%s", with_pw[i]);
        expect_err(LOAD(&c, err, joined), err, "password", "passfile");
        jotd_config_free(&c);
        /* ... and taken from the environment and the config file */
        setenv("JOTD_STORE", with_pw[i], 1);
        expect_ok(load_args(&c, err, NULL, NULL, NULL), err);
        assert_string_equal(c.store, with_pw[i]);
        jotd_config_free(&c);
        unsetenv("JOTD_STORE");
        char line[300];
        snprintf(line, sizeof line, "store = \"%s\"\n", with_pw[i]);
        const char *file = temp_file(line);
        expect_ok(LOAD(&c, err, "--config", file), err);
        assert_string_equal(c.store, with_pw[i]);
        jotd_config_free(&c);
        unlink(file);
        n_tmp--;
    }
    /* no password: an empty one, a user alone, a passfile, a '@' inside a parameter */
    static const char *const no_pw[] = {
        "postgresql://jot@db/jot",
        "postgresql://jot:@db/jot",
        "postgresql:///jot?host=/run/pg&port=5432&passfile=/etc/jotd/pgpass",
        "postgresql://db/jot?password=",
        "postgresql://db/jot?application_name=a:b@c",
        "postgresql://db/jot?xpassword=1",
    };
    for (size_t i = 0; i < sizeof no_pw / sizeof no_pw[0]; i++) {
        expect_ok(LOAD(&c, err, "--store", no_pw[i]), err);
        jotd_config_free(&c);
    }
}

/* Which URIs carry a password (the command line refuses those); redaction itself is
 * jotd_store_pg_redact's (test_jotd_store.c). */
static void test_uri_password(void **state)
{
    (void)state;
    static const struct {
        const char *uri;
        bool has;
    } cases[] = {
        {"postgresql://jot:s3cret@db/jot", true},
        {"postgres://jot:a:b:c@db:5432/jot?sslmode=require", true},
        {"postgresql:///jot?host=/run/pg&password=s3cret&port=5432", true},
        {"postgresql://db/jot?%70assword=s3cret", true},
        {"postgresql://jot@db/jot", false},
        {"postgresql://jot:@db/jot", false},
        {"postgresql:///postgres?host=/tmp/x&port=55432&user=postgres", false},
        {"postgresql://db/jot?password=", false},
        {"postgresql://db/jot?passfile=/etc/jotd/pgpass", false},
        {"postgresql://db/jot?application_name=a:b@c", false},
        {"/var/lib/jotd/jotd.db", false},
        {"password=x", false}, /* not a URI: refused before this question */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (jotd_uri_has_password(cases[i].uri) != cases[i].has)
            fail_msg("%s: expected %s", cases[i].uri, cases[i].has ? "a password" : "none");
    assert_false(jotd_uri_has_password(NULL));
    assert_true(jotd_uri_is_pg("postgres://x"));
    assert_true(jotd_uri_is_pg("postgresql:///jot"));
    assert_false(jotd_uri_is_pg("postgresql:/jot"));
    assert_false(jotd_uri_is_pg(NULL));
}

static void test_rc(void **state)
{
    (void)state;
    jotd_config_t c;
    char err[ERRLEN];
    assert_int_equal(LOAD(&c, err, "--bogus"), JOTD_E_INVAL);
    jotd_config_free(&c);
    assert_int_equal(LOAD(&c, err, "--threads", "many"), JOTD_E_INVAL);
    jotd_config_free(&c);
    assert_int_equal(LOAD(&c, err, "--config", "/nonexistent/jotd.conf"), JOTD_E_IO);
    assert_non_null(strstr(err, "/nonexistent/jotd.conf"));
    jotd_config_free(&c);
    const char *key = temp_file("key\n");
    assert_int_equal(VALIDATE(err, "--tls-cert", "/nonexistent/c.pem", "--tls-key", key),
                     JOTD_E_IO);
    assert_int_equal(VALIDATE(err, "--threads", "0"), JOTD_E_INVAL);
    assert_int_equal(VALIDATE(err, "--threads", "1"), JOTD_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_derived_issuer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key_every_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_flag_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_flag_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_value_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_env_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_plain_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_cookie_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_listen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trusted_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_password, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
