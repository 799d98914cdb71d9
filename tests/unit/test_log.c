/* Unit tests for service/util/log.c: every line is one valid JSON object,
 * whatever the values hold and however long they are. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* Runs fn with stderr sent to a temporary file and returns what it wrote. */
static char *capture(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    static char out[4 * LOG_LINE_MAX];
    size_t n;
    cr_assert(tmp && saved >= 0);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static cJSON *parse_line(const char *line)
{
    size_t len = strlen(line);
    cJSON *o;
    cr_assert(len > 0 && line[len - 1] == '\n', "line does not end with a newline: %s", line);
    cr_assert_null(memchr(line, '\n', len - 1), "more than one line: %s", line);
    o = cJSON_Parse(line);
    cr_assert(cJSON_IsObject(o), "not a JSON object: %s", line);
    return o;
}

static void write_escapes(void)
{
    log_record r;
    log_begin(&r, "info");
    log_str(&r, "path", "/v1/\"x\"\\y\n\t\x01");
    log_str(&r, "absent", NULL);
    log_int(&r, "status", 404);
    log_bool(&r, "aborted", 1);
    log_end(&r);
}

Test(log, members_escaped_and_typed)
{
    cJSON *o = parse_line(capture(write_escapes));
    cr_assert_str_eq(cJSON_GetObjectItem(o, "level")->valuestring, "info");
    cr_assert_str_eq(cJSON_GetObjectItem(o, "path")->valuestring, "/v1/\"x\"\\y\n\t\x01");
    cr_assert_null(cJSON_GetObjectItem(o, "absent"));
    cr_assert_eq(cJSON_GetObjectItem(o, "status")->valueint, 404);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "aborted")));
    cr_assert_eq(strlen(cJSON_GetObjectItem(o, "ts")->valuestring), strlen("2026-01-01T00:00:00.000Z"));
    cJSON_Delete(o);
}

static void write_overlong(void)
{
    static char big[3 * LOG_LINE_MAX];
    log_record r;
    memset(big, '"', sizeof big - 1);
    log_begin(&r, "error");
    log_str(&r, "detail", big);
    log_str(&r, "after", "left out: no room");
    log_int(&r, "n", 1);
    log_end(&r);
}

Test(log, an_overlong_value_is_cut_and_the_line_stays_json)
{
    const char *line = capture(write_overlong);
    cJSON *o;
    cr_assert_leq(strlen(line), LOG_LINE_MAX);
    o = parse_line(line);
    cr_assert_gt(strlen(cJSON_GetObjectItem(o, "detail")->valuestring), 500);
    cr_assert_null(cJSON_GetObjectItem(o, "after"));
    cJSON_Delete(o);
}

static void write_line(void) { log_line("warn", "a message", "its \"detail\""); }

Test(log, log_line)
{
    cJSON *o = parse_line(capture(write_line));
    cr_assert_str_eq(cJSON_GetObjectItem(o, "msg")->valuestring, "a message");
    cr_assert_str_eq(cJSON_GetObjectItem(o, "detail")->valuestring, "its \"detail\"");
    cJSON_Delete(o);
}

/* Buffered lines: THREADS threads each log LINES access-log lines (more than
 * one buffer's worth) and exit; every line is then in the file, whole, once. */
#define THREADS 4
#define LINES 2000

static void *log_many(void *arg)
{
    long t = (long)arg;
    for (long i = 0; i < LINES; i++) {
        log_record r;
        log_begin(&r, "info");
        log_int(&r, "thread", t);
        log_int(&r, "n", i);
        log_str(&r, "path", "/v1/leases/0123456789abcdef/heartbeat");
        log_end_buffered(&r);
    }
    return NULL;
}

Test(log, buffered_lines_of_exiting_threads_are_all_written_whole)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    static char seen[THREADS][LINES];
    pthread_t th[THREADS];
    char line[LOG_LINE_MAX];
    long lines = 0;
    cr_assert(tmp && saved >= 0);
    dup2(fileno(tmp), STDERR_FILENO);
    for (long t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, log_many, (void *)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    while (fgets(line, sizeof line, tmp)) {
        cJSON *o = parse_line(line);
        int t = cJSON_GetObjectItem(o, "thread")->valueint, n = cJSON_GetObjectItem(o, "n")->valueint;
        cr_assert(t >= 0 && t < THREADS && n >= 0 && n < LINES);
        cr_assert_eq(seen[t][n]++, 0, "line %d of thread %d written twice", n, t);
        cJSON_Delete(o);
        lines++;
    }
    fclose(tmp);
    cr_assert_eq(lines, THREADS * LINES);
}

static void write_buffered_then_wait(void)
{
    log_record r;
    log_begin(&r, "info");
    log_str(&r, "msg", "buffered");
    log_end_buffered(&r);
    /* Not written yet by this thread; the flusher writes it within LOG_FLUSH_MS. */
    usleep(10 * LOG_FLUSH_MS * 1000);
}

Test(log, a_buffered_line_of_a_live_thread_is_written_within_the_flush_interval)
{
    cJSON *o = parse_line(capture(write_buffered_then_wait));
    cr_assert_str_eq(cJSON_GetObjectItem(o, "msg")->valuestring, "buffered");
    cJSON_Delete(o);
}

static void write_buffered_then_error(void)
{
    log_record r;
    log_begin(&r, "info");
    log_str(&r, "msg", "first");
    log_end_buffered(&r);
    log_line("error", "second", NULL);
}

Test(log, a_line_written_at_once_comes_after_the_threads_buffered_ones)
{
    const char *out = capture(write_buffered_then_error);
    const char *first = strstr(out, "\"first\""), *second = strstr(out, "\"second\"");
    cr_assert(first && second && first < second, "%s", out);
}

/* Through a pipe, as under systemd or a container runtime: threads logging
 * at once, buffered and at once, while a slow reader drains it; every line
 * arrives whole (each write is of whole lines, at most PIPE_BUF bytes). */
struct drain {
    int fd;
    char *out;
    size_t len, cap;
};

static void *read_pipe(void *p)
{
    struct drain *d = p;
    char chunk[512];
    ssize_t n;
    while ((n = read(d->fd, chunk, sizeof chunk)) > 0) {
        if (d->len + (size_t)n + 1 > d->cap) {
            d->cap = 2 * (d->len + (size_t)n + 1);
            d->out = realloc(d->out, d->cap);
            cr_assert(d->out);
        }
        memcpy(d->out + d->len, chunk, (size_t)n);
        d->len += (size_t)n;
        usleep(50); /* slower than the writers: the pipe fills up */
    }
    return NULL;
}

static void *log_mixed(void *arg)
{
    long t = (long)arg;
    static char pad[600];
    memset(pad, 'x', sizeof pad - 1);
    for (long i = 0; i < LINES; i++) {
        log_record r;
        log_begin(&r, i % 50 ? "info" : "warn");
        log_int(&r, "thread", t);
        log_int(&r, "n", i);
        log_str(&r, "pad", pad);
        if (i % 50)
            log_end_buffered(&r);
        else
            log_end(&r);
    }
    return NULL;
}

Test(log, lines_of_many_threads_through_a_pipe_arrive_whole)
{
    int fds[2], saved = dup(STDERR_FILENO);
    struct drain d = {0};
    pthread_t reader, th[THREADS];
    long lines = 0;
    cr_assert(pipe(fds) == 0 && saved >= 0);
    d.fd = fds[0];
    cr_assert_eq(pthread_create(&reader, NULL, read_pipe, &d), 0);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    for (long t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, log_mixed, (void *)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    log_flush();
    dup2(saved, STDERR_FILENO); /* the pipe's last write end closes: the reader ends */
    close(saved);
    pthread_join(reader, NULL);
    close(fds[0]);
    d.out[d.len] = '\0';
    for (char *line = d.out, *end; *line; line = end + 1) {
        cJSON *o;
        end = strchr(line, '\n');
        cr_assert(end, "a line without its newline at the end");
        *end = '\0';
        o = cJSON_Parse(line);
        cr_assert(cJSON_IsObject(o), "not a whole line: %.120s", line);
        cJSON_Delete(o);
        lines++;
    }
    free(d.out);
    cr_assert_eq(lines, THREADS * LINES);
}
