/* Structured log lines on stderr: one JSON object per line. */
#ifndef LICD_UTIL_LOG_H
#define LICD_UTIL_LOG_H

#include <stddef.h>

/* Copies s into out (cap bytes) as the inside of a JSON string, truncating. */
void log_escape(char *out, size_t cap, const char *s);
/* Writes {"level":level,"msg":msg[,"detail":detail]} with both escaped. */
void log_line(const char *level, const char *msg, const char *detail);

#endif
