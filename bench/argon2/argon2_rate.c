/* Raw Argon2id rate: N threads each hashing in a loop for S seconds, as jotd hashes passwords
 * (server/password.c), to compare jotd's login rate against. Not part of the build:
 *
 *   cc -O2 -o build/argon2_rate bench/argon2/argon2_rate.c -largon2 -lpthread
 *   build/argon2_rate [THREADS [SECONDS [M_KIB [T [P [ALLOC]]]]]]
 *
 * Defaults: 1 thread, 10 s, jotd's defaults m=19456 KiB, t=2, p=1, ALLOC "mmap". ALLOC:
 *   malloc       libargon2 takes its work area from malloc() (glibc keeps it in the heap
 *                after the first hash: the raw rate to compare jotd against)
 *   mmap         a fresh mapping per hash, unmapped after it (every page faults each time)
 *   cached       one mapping per thread, reused (what server/password.c does under load)
 *   cached-huge  the same with madvise(MADV_HUGEPAGE)
 * Prints one line:
 *   threads=N seconds=S m=.. t=.. p=.. alloc=.. hashes=H rate=R/s per_thread=R/s */
#include <argon2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint32_t m_kib = 19456, t_cost = 2, lanes = 1;
static int use_mmap = 1;
static atomic_int stop;
static atomic_long total;

static int use_cache, use_huge;
static _Thread_local uint8_t *cached;

static int alloc_cb(uint8_t **out, size_t n)
{
    if (use_cache && cached) {
        *out = cached;
        return ARGON2_OK;
    }
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return ARGON2_MEMORY_ALLOCATION_ERROR;
    if (use_huge)
        madvise(p, n, MADV_HUGEPAGE);
    *out = p;
    return ARGON2_OK;
}

static void free_cb(uint8_t *p, size_t n)
{
    if (use_cache)
        cached = p;
    else
        munmap(p, n);
}

static void *worker(void *arg)
{
    (void)arg;
    uint8_t pw[16] = "correct horse", salt[16] = "0123456789abcdef", out[32];
    long n = 0;
    while (!atomic_load(&stop)) {
        argon2_context ctx = {
            .out = out,
            .outlen = sizeof out,
            .pwd = pw,
            .pwdlen = sizeof pw,
            .salt = salt,
            .saltlen = sizeof salt,
            .t_cost = t_cost,
            .m_cost = m_kib,
            .lanes = lanes,
            .threads = lanes,
            .version = ARGON2_VERSION_13,
            .allocate_cbk = use_mmap ? alloc_cb : NULL,
            .free_cbk = use_mmap ? free_cb : NULL,
        };
        if (argon2id_ctx(&ctx) != ARGON2_OK) {
            fprintf(stderr, "argon2id_ctx failed\n");
            exit(1);
        }
        pw[0]++;
        n++;
    }
    atomic_fetch_add(&total, n);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int seconds = argc > 2 ? atoi(argv[2]) : 10;
    if (argc > 3)
        m_kib = (uint32_t)strtoul(argv[3], NULL, 10);
    if (argc > 4)
        t_cost = (uint32_t)strtoul(argv[4], NULL, 10);
    if (argc > 5)
        lanes = (uint32_t)strtoul(argv[5], NULL, 10);
    if (argc > 6) {
        use_mmap = strcmp(argv[6], "malloc") != 0;
        use_cache = strncmp(argv[6], "cached", 6) == 0;
        use_huge = strstr(argv[6], "huge") != NULL;
    }
    if (threads < 1 || threads > 256 || seconds < 1) {
        fprintf(stderr, "usage: argon2_rate [THREADS [SECONDS [M_KIB [T [P [malloc|mmap]]]]]]\n");
        return 2;
    }
    pthread_t th[256];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    struct timespec d = {seconds, 0};
    nanosleep(&d, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    long n = atomic_load(&total);
    printf("threads=%d seconds=%.1f m=%u t=%u p=%u alloc=%s hashes=%ld rate=%.1f/s "
           "per_thread=%.1f/s\n",
           threads, el, m_kib, t_cost, lanes, argc > 6 ? argv[6] : "mmap", n, (double)n / el,
           (double)n / el / threads);
    return 0;
}
