/* JSON log lines on stderr. */
#include "util/log.h"

#include <stdio.h>
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

void log_end(log_record *r)
{
    ssize_t w;
    r->buf[r->len++] = '}';
    r->buf[r->len++] = '\n';
    /* One write per line; a short or failed write of a log line is not worth
     * stopping a request for. */
    w = write(STDERR_FILENO, r->buf, r->len);
    (void)w;
}

void log_line(const char *level, const char *msg, const char *detail)
{
    log_record r;
    log_begin(&r, level);
    log_str(&r, "msg", msg);
    log_str(&r, "detail", detail);
    log_end(&r);
}
