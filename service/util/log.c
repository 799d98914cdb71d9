/* JSON log lines on stderr. */
#include "util/log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room kept at the end of the buffer for the closing "\"}\n". */
#define LOG_TAIL 4

static void put(log_record *r, const char *s, size_t n)
{
    size_t room = LOG_LINE_MAX - LOG_TAIL - r->len;
    if (n > room)
        n = room;
    memcpy(r->buf + r->len, s, n);
    r->len += n;
}

void log_begin(log_record *r, const char *level)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    r->len = (size_t)snprintf(r->buf, LOG_LINE_MAX, "{\"ts\":\"%s.%03ldZ\"", when,
                              ts.tv_nsec / 1000000);
    log_str(r, "level", level);
}

/* Escapes s as the inside of a JSON string; stops, whole escapes only, when
 * the line is full. */
static void put_escaped(log_record *r, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        size_t n = 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
        } else {
            esc[0] = (char)c;
        }
        if (r->len + n > LOG_LINE_MAX - LOG_TAIL)
            return;
        put(r, esc, n);
    }
}

/* Whether a member with this key and n more bytes still fits; a member
 * that does not is left out whole, so the line stays valid JSON. */
static int fits(const log_record *r, const char *key, size_t n)
{
    return r->len + strlen(key) + n + 5 <= LOG_LINE_MAX - LOG_TAIL;
}

/* Adds "key":text for a JSON literal (a number or true/false). */
static void add_literal(log_record *r, const char *key, const char *text)
{
    size_t n = strlen(text);
    if (!fits(r, key, n))
        return;
    put(r, ",\"", 2);
    put(r, key, strlen(key));
    put(r, "\":", 2);
    put(r, text, n);
}

void log_str(log_record *r, const char *key, const char *value)
{
    if (!value || !fits(r, key, 0))
        return;
    put(r, ",\"", 2);
    put(r, key, strlen(key));
    put(r, "\":\"", 3);
    put_escaped(r, value);
    /* The closing quote has its place in the tail even when the value was cut. */
    r->buf[r->len++] = '"';
}

void log_bool(log_record *r, const char *key, int value)
{
    add_literal(r, key, value ? "true" : "false");
}

void log_int(log_record *r, const char *key, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    add_literal(r, key, num);
}

/* Writes n bytes to stderr, going on after a short write or a signal; a
 * failed write of log lines is not worth stopping a request for. */
static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w, n -= (size_t)w;
    }
}

/* A thread's buffered lines; linked in `buffers` for the flusher. */
typedef struct log_buffer {
    pthread_mutex_t lock;
    struct log_buffer *next;
    size_t len;
    char data[LOG_BUFFER_SIZE];
} log_buffer;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t buffer_key;
static int buffering; /* the key and the flusher are there */
static pthread_mutex_t buffers_lock = PTHREAD_MUTEX_INITIALIZER;
static log_buffer *buffers;

/* Writes what b holds (the caller holds b->lock), whole lines at most
 * PIPE_BUF bytes a write(2): a write that size is never split on a pipe,
 * so lines from different threads never interleave wherever stderr goes. */
static void drain(log_buffer *b)
{
    size_t at = 0;
    while (at < b->len) {
        size_t n = b->len - at;
        if (n > PIPE_BUF) {
            n = PIPE_BUF;
            while (n > 0 && b->data[at + n - 1] != '\n')
                n--;
            if (n == 0) /* no line is that long (LOG_LINE_MAX) */
                n = PIPE_BUF;
        }
        write_all(b->data + at, n);
        at += n;
    }
    b->len = 0;
}

/* A thread's exit: its lines are written and its buffer goes. */
static void buffer_gone(void *p)
{
    log_buffer *b = p, **at;
    pthread_mutex_lock(&buffers_lock);
    for (at = &buffers; *at != b; at = &(*at)->next)
        ;
    *at = b->next;
    pthread_mutex_unlock(&buffers_lock);
    drain(b);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

void log_flush(void)
{
    pthread_mutex_lock(&buffers_lock);
    for (log_buffer *b = buffers; b; b = b->next) {
        pthread_mutex_lock(&b->lock);
        drain(b);
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_unlock(&buffers_lock);
}

static void *flusher(void *arg)
{
    const struct timespec tick = {0, LOG_FLUSH_MS * 1000000L};
    (void)arg;
    for (;;) {
        nanosleep(&tick, NULL);
        log_flush();
    }
    return NULL;
}

/* The key of the threads' buffers and the flusher, which takes no signal
 * (whichever thread logs first, licd's signal handling stays as it is). */
static void start_buffering(void)
{
    pthread_t t;
    sigset_t all, old;
    if (pthread_key_create(&buffer_key, buffer_gone) != 0)
        return;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&t, NULL, flusher, NULL) == 0) {
        pthread_detach(t);
        atexit(log_flush);
        buffering = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The calling thread's buffer, made on its first buffered line; NULL when
 * out of memory (its lines are then written one by one). */
static log_buffer *my_buffer(void)
{
    log_buffer *b = pthread_getspecific(buffer_key);
    if (b)
        return b;
    b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->lock, NULL);
    pthread_setspecific(buffer_key, b);
    pthread_mutex_lock(&buffers_lock);
    b->next = buffers;
    buffers = b;
    pthread_mutex_unlock(&buffers_lock);
    return b;
}

/* Appends the line to b and, when `now` or when it would not fit, writes
 * the buffer (with the line in one write when it fits). */
static void append(log_buffer *b, const log_record *r, int now)
{
    pthread_mutex_lock(&b->lock);
    if (b->len + r->len > LOG_BUFFER_SIZE)
        drain(b);
    memcpy(b->data + b->len, r->buf, r->len);
    b->len += r->len;
    if (now)
        drain(b);
    pthread_mutex_unlock(&b->lock);
}

/* Closes r and writes it: appended to the calling thread's buffer (made
 * on its first buffered line), which is written too when `now`; or, with
 * no buffer (none yet for a line written now, or out of memory), alone. */
static void end(log_record *r, int now)
{
    log_buffer *b = NULL;
    r->buf[r->len++] = '}';
    r->buf[r->len++] = '\n';
    if (pthread_once(&once, start_buffering) == 0 && buffering)
        b = now ? pthread_getspecific(buffer_key) : my_buffer();
    if (b)
        append(b, r, now);
    else
        write_all(r->buf, r->len);
}

void log_end(log_record *r) { end(r, 1); }

void log_end_buffered(log_record *r) { end(r, 0); }

void log_line(const char *level, const char *msg, const char *detail)
{
    log_record r;
    log_begin(&r, level);
    log_str(&r, "msg", msg);
    log_str(&r, "detail", detail);
    log_end(&r);
}
