/* Structured logging: one JSON object per line on stderr.
 *
 * Each line is formatted into a stack buffer and handed to the kernel with one write(2), so
 * lines from concurrent threads never interleave and no lock is needed (a write of at most
 * PIPE_BUF bytes to a pipe is atomic; LINE_CAP stays within it). Every string is escaped:
 * quotes, backslashes, control characters and DEL as \u00XX, and bytes that are not
 * well-formed UTF-8 as \ufffd, so a user name or path cannot forge a field or a line. A
 * string longer than VALUE_CAP bytes, or one that does not fit the line, ends in "…"; pairs
 * that do not fit at all are dropped, and the line then carries "truncated":true.
 *
 * Request lines are batched: a write(2) per request was a tenth of the CPU time of a cached
 * /verify. They are appended to one buffer under a mutex (order kept across threads) and
 * written when the next line would not fit (each write holds whole lines and at most
 * LINE_CAP bytes, so it stays atomic), by a flusher thread at most FLUSH_MS after they were
 * logged, before any audit or log line (which is written at once, so that the order of the
 * stream is the order of the calls), and at exit. A process killed by SIGKILL may lose the
 * request lines of its last FLUSH_MS. */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_CAP 4096  /* bytes per line, newline included; <= PIPE_BUF */
#define VALUE_CAP 1024 /* escaped bytes per string value */
#define MSG_CAP 2048   /* jotd_log() message before escaping */
#define KEY_CAP 128    /* escaped bytes per key */
#define FLUSH_MS 100   /* request lines wait at most this long in the batch */

static const char truncated_mark[] = ",\"truncated\":true";
/* Always kept free for the end of the line: the mark, '}' and '\n'. */
#define TAIL (sizeof truncated_mark - 1 + 2)
static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */
#define ELLIPSIS_LEN (sizeof ellipsis - 1)

typedef struct line {
    size_t len;
    bool truncated; /* a value was shortened or a pair dropped */
    bool full;      /* no further pair fits */
    char buf[LINE_CAP];
} line_t;

static void put_raw(line_t *l, const char *s, size_t n)
{
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* Length of the well-formed UTF-8 sequence at \p s (2..4), or 0. Stops at a NUL. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    size_t need;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    }
    return need + 1;
}

/* Append \p s as a JSON string of at most \p cap bytes (quotes included), shortened with an
 * ellipsis when it does not fit (or when \p cut says the caller already cut it). Returns
 * false, writing nothing, when not even an empty string fits; else true, with *out_cut
 * telling whether the string was shortened. */
static bool put_string(line_t *l, const char *s, size_t cap, bool cut, bool *out_cut)
{
    /* content may grow up to `limit`; then room remains for the ellipsis and the quote */
    size_t line_limit = LINE_CAP - TAIL - ELLIPSIS_LEN - 1;
    size_t limit = l->len + cap - ELLIPSIS_LEN - 1;
    if (limit > line_limit)
        limit = line_limit;
    if (l->len + 1 > limit)
        return false;
    put_raw(l, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        char esc[8];
        const char *unit = esc;
        size_t unit_len, adv = 1;
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            unit_len = 2;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            unit_len = 6;
        } else if (c < 0x80) {
            unit = (const char *)p;
            unit_len = 1;
        } else if ((adv = utf8_seq(p)) != 0) {
            unit = (const char *)p;
            unit_len = adv;
        } else {
            unit = "\\ufffd";
            unit_len = 6;
            adv = 1;
        }
        if (l->len + unit_len > limit) {
            cut = true;
            break;
        }
        put_raw(l, unit, unit_len);
        p += adv;
    }
    if (cut) {
        put_raw(l, ellipsis, ELLIPSIS_LEN);
        l->truncated = true;
    }
    put_raw(l, "\"", 1);
    if (out_cut)
        *out_cut = cut;
    return true;
}

/* Drop everything from \p mark on: the pair did not fit, and no later one is tried. */
static void undo_pair(line_t *l, size_t mark)
{
    l->len = mark;
    l->full = l->truncated = true;
}

/* Write ,"key": (the caller then writes the value). False, with nothing written and the line
 * marked full, when the whole key and a minimal value would not fit. */
static bool put_key(line_t *l, const char *key, size_t *mark)
{
    bool cut;
    *mark = l->len;
    if (l->full) {
        l->truncated = true;
        return false;
    }
    if (l->len > 1) {
        if (l->len + 1 + TAIL > LINE_CAP) {
            undo_pair(l, *mark);
            return false;
        }
        put_raw(l, ",", 1);
    }
    if (!put_string(l, key ? key : "", KEY_CAP, false, &cut) || cut ||
        l->len + 1 + 8 + TAIL > LINE_CAP) { /* 8: room for ':' and at least "…" or null */
        undo_pair(l, *mark);
        return false;
    }
    put_raw(l, ":", 1);
    return true;
}

static void pair_str(line_t *l, const char *key, const char *val)
{
    size_t mark;
    if (!put_key(l, key, &mark))
        return;
    if (!val) {
        if (l->len + 4 + TAIL > LINE_CAP)
            undo_pair(l, mark);
        else
            put_raw(l, "null", 4);
        return;
    }
    if (!put_string(l, val, VALUE_CAP, false, NULL))
        undo_pair(l, mark);
}

static void pair_num(line_t *l, const char *key, int64_t v)
{
    char num[24];
    size_t mark;
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    if (!put_key(l, key, &mark))
        return;
    if (n < 0 || l->len + (size_t)n + TAIL > LINE_CAP) {
        undo_pair(l, mark);
        return;
    }
    put_raw(l, num, (size_t)n);
}

/* {"ts":"2024-05-01T12:00:00.123Z","type":<type> */
static void begin(line_t *l, const char *type)
{
    struct timespec ts;
    struct tm tm;
    char stamp[96];
    l->len = 0;
    l->truncated = l->full = false;
    put_raw(l, "{", 1);
    /* the date and time up to the second are formatted once per second and thread */
    static _Thread_local time_t stamp_sec = -1;
    static _Thread_local char stamp_prefix[80];
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        pair_str(l, "ts", NULL);
    } else if (ts.tv_sec != stamp_sec && !gmtime_r(&ts.tv_sec, &tm)) {
        pair_str(l, "ts", NULL);
    } else {
        if (ts.tv_sec != stamp_sec) {
            snprintf(stamp_prefix, sizeof stamp_prefix, "%04d-%02d-%02dT%02d:%02d:%02d",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
            stamp_sec = ts.tv_sec;
        }
        unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
        size_t n = strlen(stamp_prefix);
        memcpy(stamp, stamp_prefix, n);
        stamp[n++] = '.';
        stamp[n++] = (char)('0' + ms / 100);
        stamp[n++] = (char)('0' + ms / 10 % 10);
        stamp[n++] = (char)('0' + ms % 10);
        stamp[n++] = 'Z';
        stamp[n] = '\0';
        pair_str(l, "ts", stamp);
    }
    pair_str(l, "type", type);
}

static void write_all(const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

/* The batch of request lines (see the top of the file). */
static pthread_mutex_t batch_mu = PTHREAD_MUTEX_INITIALIZER;
static char batch[LINE_CAP];
static size_t batch_len;
static pthread_once_t flusher_once = PTHREAD_ONCE_INIT;
static bool flusher_running;

/* Write the batch; batch_mu held. */
static void batch_flush_locked(void)
{
    if (batch_len) {
        write_all(batch, batch_len);
        batch_len = 0;
    }
}

void jotd_log_flush(void)
{
    int saved = errno;
    pthread_mutex_lock(&batch_mu);
    batch_flush_locked();
    pthread_mutex_unlock(&batch_mu);
    errno = saved;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec d = {0, FLUSH_MS * 1000000L};
        nanosleep(&d, NULL);
        jotd_log_flush();
    }
    return NULL;
}

static void flusher_start(void)
{
    pthread_t t;
    pthread_attr_t a;
    /* no flusher (out of threads): every request line is written at once */
    if (pthread_attr_init(&a) != 0)
        return;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* the flusher must not take the signals that the main thread waits for */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    flusher_running = pthread_create(&t, &a, flusher_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (flusher_running)
        atexit(jotd_log_flush);
}

/* Close the line. Request lines (\p batched) join the batch, others are written at once
 * after it. errno is preserved. */
static void finish_line(line_t *l, bool batched)
{
    int saved = errno;
    if (l->truncated)
        put_raw(l, truncated_mark, sizeof truncated_mark - 1);
    put_raw(l, "}\n", 2);
    if (batched)
        pthread_once(&flusher_once, flusher_start);
    pthread_mutex_lock(&batch_mu);
    if (!batched || !flusher_running || batch_len + l->len > sizeof batch)
        batch_flush_locked();
    if (batched && flusher_running) {
        memcpy(batch + batch_len, l->buf, l->len);
        batch_len += l->len;
    } else {
        write_all(l->buf, l->len);
    }
    pthread_mutex_unlock(&batch_mu);
    errno = saved;
}

static void finish(line_t *l)
{
    finish_line(l, false);
}

void jotd_log_request(const char *method, const char *path, unsigned status, int64_t latency_us,
                      const char *ip)
{
    line_t l;
    begin(&l, "request");
    pair_str(&l, "method", method);
    pair_str(&l, "path", path);
    pair_num(&l, "status", (int64_t)status);
    pair_num(&l, "latency_us", latency_us);
    pair_str(&l, "ip", ip);
    finish_line(&l, true);
}

void jotd_audit(const char *event, ...)
{
    line_t l;
    va_list ap;
    begin(&l, "audit");
    pair_str(&l, "event", event);
    va_start(ap, event);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *val = va_arg(ap, const char *);
        pair_str(&l, key, val);
    }
    va_end(ap);
    finish(&l);
}

void jotd_log(const char *level, const char *fmt, ...)
{
    line_t l;
    char msg[MSG_CAP];
    va_list ap;
    int saved = errno; /* for %m */
    begin(&l, "log");
    pair_str(&l, "level", level);
    errno = saved;
    int n = 0;
    msg[0] = '\0';
    if (fmt) {
        va_start(ap, fmt);
        n = vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n < 0)
            msg[0] = '\0';
    }
    size_t mark;
    if (put_key(&l, "msg", &mark) &&
        !put_string(&l, msg, MSG_CAP, n > 0 && (size_t)n >= sizeof msg, NULL))
        undo_pair(&l, mark);
    errno = saved;
    finish(&l);
}
