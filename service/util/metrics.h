/* Process-wide counters exported at /metrics in Prometheus text format:
 * requests by route and status, a latency histogram, database errors and
 * open HTTP and database connections. Thread-safe. */
#ifndef LICD_UTIL_METRICS_H
#define LICD_UTIL_METRICS_H

#include <stddef.h>

/* route is a static string (the route template, or "unmatched"). */
void metrics_request(const char *method, const char *route, int status, double seconds);
void metrics_db_error(void);
void metrics_http_connections(int delta);
void metrics_db_connections(int delta);
/* A look-up in the cache named name (a static string): hit or miss. */
void metrics_cache_lookup(const char *name, int hit);
/* A batch of items written by the group-commit thread named name (a static string). */
void metrics_db_batch(const char *name, unsigned long long items);
/* items of such a batch were written by one statement they shared. */
void metrics_db_batch_joined(const char *name, unsigned long long items);
/* A pipelined batch of that thread failed as a whole. */
void metrics_db_batch_failed(const char *name);
/* A webhook delivery succeeded lag_seconds after its event was created;
 * an attempt failed. */
void metrics_webhook_delivered(double lag_seconds);
void metrics_webhook_failure(void);
/* Renders every metric above; returns a malloc'd string the caller frees, or NULL. */
char *metrics_render(size_t *len);

/* Prometheus text being written (start from {0}): a family's HELP and TYPE
 * once, then its samples. A write that runs out of memory marks it failed,
 * and the later ones do nothing. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} metrics_text;

void metrics_put(metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP name help" and "# TYPE name type" (counter, gauge, ...). */
void metrics_family(metrics_text *t, const char *name, const char *type, const char *help);
/* One sample: labels holds label names and values in turn, then NULL (or
 * is NULL); values are escaped as the format asks (\\, \", \n). */
void metrics_sample(metrics_text *t, const char *name, const char *const *labels, long long value);
/* The text (malloc'd, NUL-terminated; *len its length) and t emptied; NULL
 * when a write failed or nothing was written. */
char *metrics_take(metrics_text *t, size_t *len);

#endif
