/* Raw Argon2id rate for bench/server/run.sh: THREADS threads each hash a password with
 * libargon2 (the library jotd links) at m/t/p for SECONDS; prints the total hashes per
 * second. Every thread reuses its process's memory as jotd's workers do, so the figure is
 * the ceiling of password logins per second at those parameters.
 *
 *   argon2_rate M_KIB T P THREADS SECONDS
 */
#include <argon2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint32_t m_kib, t_cost, par;
static double seconds;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *loop(void *arg)
{
    unsigned long *count = arg;
    const char pw[] = "benchmark-password";
    const uint8_t salt[16] = "benchsalt16bytes";
    uint8_t hash[32];
    double end = now() + seconds;
    while (now() < end) {
        if (argon2id_hash_raw(t_cost, m_kib, par, pw, sizeof pw - 1, salt, sizeof salt, hash,
                              sizeof hash) != ARGON2_OK)
            exit(1);
        (*count)++;
    }
    return NULL;
}

static unsigned long arg(const char *s)
{
    unsigned long v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && v <= 1u << 24; p++)
        v = v * 10 + (unsigned long)(*p - '0');
    if (*p || v == 0 || v > 1u << 24) {
        fprintf(stderr, "argon2_rate: bad number %s\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: argon2_rate M_KIB T P THREADS SECONDS\n");
        return 2;
    }
    m_kib = (uint32_t)arg(argv[1]);
    t_cost = (uint32_t)arg(argv[2]);
    par = (uint32_t)arg(argv[3]);
    unsigned long n = arg(argv[4]);
    seconds = (double)arg(argv[5]);
    pthread_t th[64];
    unsigned long counts[64] = {0};
    if (n > 64)
        n = 64;
    double t0 = now();
    for (unsigned long i = 0; i < n; i++)
        pthread_create(&th[i], NULL, loop, &counts[i]);
    unsigned long total = 0;
    for (unsigned long i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += counts[i];
    }
    printf("%.1f\n", (double)total / (now() - t0));
    return 0;
}
