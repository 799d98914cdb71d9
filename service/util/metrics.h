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
/* A webhook delivery succeeded lag_seconds after its event was created;
 * an attempt failed. */
void metrics_webhook_delivered(double lag_seconds);
void metrics_webhook_failure(void);
/* Renders every metric; returns a malloc'd string the caller frees, or NULL. */
char *metrics_render(size_t *len);

#endif
