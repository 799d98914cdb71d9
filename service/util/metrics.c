/* Counters for /metrics, kept in fixed tables under one mutex. */
#include "util/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 512

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct series {
    const char *method, *route;
    int status;
    unsigned long long count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static size_t nseries;
static unsigned long long overflow;
static unsigned long long bucket_counts[NBUCKETS + 1];
static double latency_sum;
static unsigned long long latency_count, db_errors;
static long http_conns, db_conns;

/* Methods outside the standard set are folded into OTHER, so a client cannot
 * grow the table; series then compare by pointer. Done outside the lock. */
static const char *method_name(const char *method)
{
    static const char *const known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strcmp(known[k], method) == 0)
            return known[k];
    return "OTHER";
}

void metrics_request(const char *method, const char *route, int status, double seconds)
{
    const char *m = method_name(method);
    size_t i, b;
    pthread_mutex_lock(&lock);
    for (i = 0; i < nseries; i++)
        if (series[i].status == status && series[i].route == route && series[i].method == m)
            break;
    if (i == nseries && nseries < MAX_SERIES)
        series[nseries++] = (struct series){m, route, status, 0};
    if (i < nseries)
        series[i].count++;
    else
        overflow++;
    for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
        ;
    bucket_counts[b]++;
    latency_sum += seconds;
    latency_count++;
    pthread_mutex_unlock(&lock);
}

void metrics_db_error(void)
{
    pthread_mutex_lock(&lock);
    db_errors++;
    pthread_mutex_unlock(&lock);
}

void metrics_http_connections(int delta)
{
    pthread_mutex_lock(&lock);
    http_conns += delta;
    pthread_mutex_unlock(&lock);
}

void metrics_db_connections(int delta)
{
    pthread_mutex_lock(&lock);
    db_conns += delta;
    pthread_mutex_unlock(&lock);
}

struct buf {
    char *data;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        char *grown = realloc(b->data, b->cap * 2 + (size_t)n);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = b->cap * 2 + (size_t)n;
    }
}

char *metrics_render(size_t *len)
{
    struct buf b = {malloc(4096), 0, 4096, 0};
    unsigned long long cum = 0;
    if (!b.data)
        return NULL;
    b.data[0] = '\0';
    pthread_mutex_lock(&lock);
    put(&b, "# HELP licd_http_requests_total HTTP requests by method, route and status.\n"
            "# TYPE licd_http_requests_total counter\n");
    for (size_t i = 0; i < nseries; i++)
        put(&b, "licd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
            series[i].method, series[i].route, series[i].status, series[i].count);
    put(&b, "# HELP licd_http_requests_unrecorded_total Requests beyond the series table.\n"
            "# TYPE licd_http_requests_unrecorded_total counter\n"
            "licd_http_requests_unrecorded_total %llu\n", overflow);
    put(&b, "# HELP licd_http_request_duration_seconds Time from first byte to response.\n"
            "# TYPE licd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += bucket_counts[i];
        put(&b, "licd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i], cum);
    }
    cum += bucket_counts[NBUCKETS];
    put(&b, "licd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    put(&b, "licd_http_request_duration_seconds_sum %.6f\n", latency_sum);
    put(&b, "licd_http_request_duration_seconds_count %llu\n", latency_count);
    put(&b, "# HELP licd_db_errors_total Failed database calls.\n"
            "# TYPE licd_db_errors_total counter\nlicd_db_errors_total %llu\n", db_errors);
    put(&b, "# HELP licd_http_connections Open HTTP connections.\n"
            "# TYPE licd_http_connections gauge\nlicd_http_connections %ld\n", http_conns);
    put(&b, "# HELP licd_db_connections Open database connections.\n"
            "# TYPE licd_db_connections gauge\nlicd_db_connections %ld\n", db_conns);
    pthread_mutex_unlock(&lock);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
