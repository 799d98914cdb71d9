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
/* Closes the object and writes the line with one write(2): no lock is
 * taken, so request threads never wait on each other to log, and lines
 * from different threads never interleave. */
void log_end(log_record *r);

/* {"ts","level","msg"[,"detail"]} in one call. */
void log_line(const char *level, const char *msg, const char *detail);

#endif
