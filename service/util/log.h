/* Structured log lines on stderr: one JSON object per line, the one writer
 * for the access log, errors and start-up messages. */
#ifndef LICD_UTIL_LOG_H
#define LICD_UTIL_LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 2048

/* One line being built on the caller's stack: log_begin, members in order,
 * log_end. A line that would outgrow LOG_LINE_MAX has its last string cut;
 * it still ends as valid JSON. */
typedef struct {
    char buf[LOG_LINE_MAX];
    size_t len;
} log_record;

/* Starts {"ts":"<RFC 3339 UTC with milliseconds>","level":level. */
void log_begin(log_record *r, const char *level);
/* Adds "key":"value" (value escaped; nothing when value is NULL). Keys are
 * the caller's literals and are not escaped. */
void log_str(log_record *r, const char *key, const char *value);
/* Adds "key":value for a whole number. */
void log_int(log_record *r, const char *key, long long value);
/* Adds "key":true or false. */
void log_bool(log_record *r, const char *key, int value);
/* Closes the object and writes the line at once, after the lines this
 * thread has buffered. For start-up messages, warnings and errors. Every
 * write(2) of the log holds whole lines and at most PIPE_BUF bytes, so
 * lines from different threads never interleave, on a pipe too. */
void log_end(log_record *r);

/* Closes the object and appends the line to the calling thread's own
 * buffer (LOG_BUFFER_SIZE): it is written when the buffer is full, by the
 * log's flusher thread within LOG_FLUSH_MS, when the thread exits, or by
 * log_flush; lines still buffered when the process is killed or crashes
 * are lost. Threads take no shared lock to log (each buffer has its own,
 * which only the flusher shares), and a busy thread writes a few times a
 * buffer instead of once a line. For the access log. */
void log_end_buffered(log_record *r);
#define LOG_BUFFER_SIZE 32768
#define LOG_FLUSH_MS 100

/* Writes every thread's buffered lines now (licd serve calls it once its
 * server has stopped; it also runs at exit). */
void log_flush(void);

/* {"ts","level","msg"[,"detail"]} in one call. */
void log_line(const char *level, const char *msg, const char *detail);

#endif
