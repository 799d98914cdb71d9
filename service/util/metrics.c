/* Counters for /metrics. Request counters live in one shard per thread,
 * written only by that thread without a lock or a shared cache line, and
 * summed when /metrics is read; the rare events (connections, database
 * errors) are shared atomics. */
#include "util/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 512

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

typedef atomic_ullong counter;

struct series {
    const char *method, *route;
    int status;
    counter count;
};

/* One thread's counters. Only the owner writes (plain relaxed stores, no
 * read-modify-write); the reader sees each counter whole. A series is
 * filled in before nseries is raised with release order. */
struct shard {
    struct series series[MAX_SERIES];
    atomic_size_t nseries;
    counter overflow, bucket_counts[NBUCKETS + 1], latency_ns, latency_count;
    struct shard *next;
};

/* Every shard ever made, newest first; shards live as long as the process. */
static _Atomic(struct shard *) shards;
static _Thread_local struct shard *mine;
static counter db_errors;
static atomic_long http_conns, db_conns;

static void bump(counter *c, unsigned long long by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static unsigned long long get(counter *c) { return atomic_load_explicit(c, memory_order_relaxed); }

static struct shard *my_shard(void)
{
    if (!mine && (mine = calloc(1, sizeof *mine))) {
        mine->next = atomic_load(&shards);
        while (!atomic_compare_exchange_weak(&shards, &mine->next, mine))
            ;
    }
    return mine;
}

/* Methods outside the standard set are folded into OTHER, so a client cannot
 * grow the table; series then compare by pointer. */
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
    struct shard *sh = my_shard();
    size_t i, b, n;
    if (!sh)
        return;
    n = atomic_load_explicit(&sh->nseries, memory_order_relaxed);
    for (i = 0; i < n; i++)
        if (sh->series[i].status == status && sh->series[i].route == route &&
            sh->series[i].method == m)
            break;
    if (i == n && n < MAX_SERIES) {
        sh->series[n].method = m;
        sh->series[n].route = route;
        sh->series[n].status = status;
        atomic_store_explicit(&sh->nseries, n + 1, memory_order_release);
    }
    if (i < MAX_SERIES)
        bump(&sh->series[i].count, 1);
    else
        bump(&sh->overflow, 1);
    for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
        ;
    bump(&sh->bucket_counts[b], 1);
    bump(&sh->latency_ns, (unsigned long long)(seconds * 1e9));
    bump(&sh->latency_count, 1);
}

/* Counters by name, up to four a name: a handful of names, found by their
 * pointer; a slot is claimed once with a compare-and-swap. */
#define MAX_NAMED 8
struct named {
    _Atomic(const char *) name;
    counter n[4];
};

static struct named *named_slot(struct named *table, const char *name)
{
    for (int i = 0; i < MAX_NAMED; i++) {
        const char *have = atomic_load(&table[i].name);
        if (!have && atomic_compare_exchange_strong(&table[i].name, &have, name))
            have = name;
        if (have == name)
            return &table[i];
    }
    return NULL;
}

/* caches: hits and misses; batches: as below */
static struct named caches[MAX_NAMED], batches[MAX_NAMED];
enum { BATCHES, BATCHED_ITEMS, BATCH_FAILURES, JOINED_ITEMS };
static const struct {
    const char *family, *help;
} batch_families[] = {
    [BATCHES] = {"licd_db_batches_total", "Group commits of this node: batches written, by kind."},
    [BATCHED_ITEMS] = {"licd_db_batched_items_total", "Requests written by those batches."},
    [BATCH_FAILURES] = {"licd_db_batch_failures_total",
                        "Pipelined batches that failed as a whole (their requests were run"
                        " again one by one)."},
    [JOINED_ITEMS] = {"licd_db_joined_items_total",
                      "Requests of those batches written by a statement they shared (the new"
                      " clients of one pack in a batch of grants)."},
};

void metrics_cache_lookup(const char *name, int hit)
{
    struct named *c = named_slot(caches, name);
    if (c)
        atomic_fetch_add_explicit(&c->n[hit ? 0 : 1], 1, memory_order_relaxed);
}

/* Adds n to counter which of batcher b's counters (b may be NULL: no slot
 * was left for it). */
static void batch_add(struct named *b, int which, unsigned long long n)
{
    if (b)
        atomic_fetch_add_explicit(&b->n[which], n, memory_order_relaxed);
}

void metrics_db_batch(const char *name, unsigned long long items)
{
    struct named *b = named_slot(batches, name);
    batch_add(b, BATCHES, 1);
    batch_add(b, BATCHED_ITEMS, items);
}

void metrics_db_batch_joined(const char *name, unsigned long long items)
{
    batch_add(named_slot(batches, name), JOINED_ITEMS, items);
}

void metrics_db_batch_failed(const char *name)
{
    batch_add(named_slot(batches, name), BATCH_FAILURES, 1);
}

/* Webhook deliveries of this process: a histogram of the lag from an
 * event's creation to its delivery, and the failed attempts. */
static const double lag_buckets[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600};
#define NLAG (sizeof lag_buckets / sizeof lag_buckets[0])
static counter lag_counts[NLAG + 1], lag_ms, lag_count, webhook_failures;

void metrics_webhook_delivered(double lag_seconds)
{
    size_t b;
    if (lag_seconds < 0)
        lag_seconds = 0;
    for (b = 0; b < NLAG && lag_seconds > lag_buckets[b]; b++)
        ;
    atomic_fetch_add(&lag_counts[b], 1);
    atomic_fetch_add(&lag_ms, (unsigned long long)(lag_seconds * 1e3));
    atomic_fetch_add(&lag_count, 1);
}

void metrics_webhook_failure(void) { atomic_fetch_add(&webhook_failures, 1); }

void metrics_db_error(void) { atomic_fetch_add(&db_errors, 1); }

void metrics_http_connections(int delta) { atomic_fetch_add(&http_conns, delta); }

void metrics_db_connections(int delta) { atomic_fetch_add(&db_conns, delta); }

/* Room for n more bytes and a NUL in b; 0, or -1 (b failed). */
static int reserve(metrics_text *b, size_t n)
{
    char *grown;
    if (b->failed)
        return -1;
    if (b->cap - b->len > n)
        return 0;
    if (!(grown = realloc(b->data, b->cap * 2 + n + 4096))) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = b->cap * 2 + n + 4096;
    return 0;
}

void metrics_put(metrics_text *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (reserve(b, 0) != 0)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len && reserve(b, (size_t)n) == 0) {
        va_start(ap, fmt);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    if (n < 0)
        b->failed = 1;
    else if (!b->failed)
        b->len += (size_t)n;
}

void metrics_family(metrics_text *b, const char *name, const char *type, const char *help)
{
    metrics_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(metrics_text *b, const char *name, const char *const *labels, long long value)
{
    metrics_put(b, "%s", name);
    for (size_t i = 0; labels && labels[i]; i += 2) {
        const char *v = labels[i + 1];
        metrics_put(b, "%s%s=\"", i ? "," : "{", labels[i]);
        /* The value escaped: at most two bytes for each of its own. */
        if (reserve(b, 2 * strlen(v) + 2) != 0)
            return;
        for (; *v; v++) {
            if (*v == '\\' || *v == '"' || *v == '\n')
                b->data[b->len++] = '\\';
            b->data[b->len++] = *v == '\n' ? 'n' : *v;
        }
        b->data[b->len++] = '"';
        if (!labels[i + 2])
            b->data[b->len++] = '}';
        b->data[b->len] = '\0';
    }
    metrics_put(b, " %lld\n", value);
}

char *metrics_take(metrics_text *b, size_t *len)
{
    char *data = b->data;
    if (b->failed || !data) {
        free(data);
        data = NULL;
    } else
        *len = b->len;
    *b = (metrics_text){0};
    return data;
}

/* The shards' series summed into one table (same method, route, status). */
struct total {
    const char *method, *route;
    int status;
    unsigned long long count;
};

static size_t sum_series(struct total *t, unsigned long long *overflow)
{
    size_t n = 0;
    for (struct shard *sh = atomic_load(&shards); sh; sh = sh->next) {
        size_t k = atomic_load_explicit(&sh->nseries, memory_order_acquire);
        *overflow += get(&sh->overflow);
        for (size_t i = 0; i < k; i++) {
            const struct series *s = &sh->series[i];
            size_t j;
            for (j = 0; j < n; j++)
                if (t[j].status == s->status && t[j].route == s->route && t[j].method == s->method)
                    break;
            if (j == n) {
                if (n == MAX_SERIES) {
                    *overflow += get(&sh->series[i].count);
                    continue;
                }
                t[n++] = (struct total){s->method, s->route, s->status, 0};
            }
            t[j].count += get(&sh->series[i].count);
        }
    }
    return n;
}

char *metrics_render(size_t *len)
{
    metrics_text b = {0};
    struct total *t = calloc(MAX_SERIES, sizeof *t);
    unsigned long long cum = 0, overflow = 0, bucket_counts[NBUCKETS + 1] = {0}, ns = 0, count = 0;
    size_t n;
    if (!t)
        return NULL;
    n = sum_series(t, &overflow);
    for (struct shard *sh = atomic_load(&shards); sh; sh = sh->next) {
        for (size_t i = 0; i <= NBUCKETS; i++)
            bucket_counts[i] += get(&sh->bucket_counts[i]);
        ns += get(&sh->latency_ns);
        count += get(&sh->latency_count);
    }
    metrics_put(&b, "# HELP licd_http_requests_total HTTP requests by method, route and status.\n"
                    "# TYPE licd_http_requests_total counter\n");
    for (size_t i = 0; i < n; i++)
        metrics_put(&b, "licd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                    t[i].method, t[i].route, t[i].status, t[i].count);
    free(t);
    metrics_put(&b,
                "# HELP licd_http_requests_unrecorded_total Requests beyond the series table.\n"
                "# TYPE licd_http_requests_unrecorded_total counter\n"
                "licd_http_requests_unrecorded_total %llu\n",
                overflow);
    metrics_put(&b, "# HELP licd_http_request_duration_seconds Time from first byte to response.\n"
                    "# TYPE licd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += bucket_counts[i];
        metrics_put(&b, "licd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
                    cum);
    }
    cum += bucket_counts[NBUCKETS];
    metrics_put(&b, "licd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    metrics_put(&b, "licd_http_request_duration_seconds_sum %.6f\n", (double)ns / 1e9);
    metrics_put(&b, "licd_http_request_duration_seconds_count %llu\n", count);
    metrics_put(&b,
                "# HELP licd_cache_lookups_total Look-ups in the in-process caches, by result.\n"
                "# TYPE licd_cache_lookups_total counter\n");
    for (int i = 0; i < MAX_NAMED && atomic_load(&caches[i].name); i++)
        metrics_put(&b,
                    "licd_cache_lookups_total{cache=\"%s\",result=\"hit\"} %llu\n"
                    "licd_cache_lookups_total{cache=\"%s\",result=\"miss\"} %llu\n",
                    atomic_load(&caches[i].name), get(&caches[i].n[0]),
                    atomic_load(&caches[i].name), get(&caches[i].n[1]));
    for (size_t f = 0; f < sizeof batch_families / sizeof *batch_families; f++) {
        metrics_put(&b, "# HELP %s %s\n# TYPE %s counter\n", batch_families[f].family,
                    batch_families[f].help, batch_families[f].family);
        for (int i = 0; i < MAX_NAMED && atomic_load(&batches[i].name); i++)
            metrics_put(&b, "%s{batch=\"%s\"} %llu\n", batch_families[f].family,
                        atomic_load(&batches[i].name), get(&batches[i].n[f]));
    }
    metrics_put(&b, "# HELP licd_webhook_delivery_lag_seconds From an event's creation to its"
                    " delivery to a webhook (this node's deliveries).\n"
                    "# TYPE licd_webhook_delivery_lag_seconds histogram\n");
    cum = 0;
    for (size_t i = 0; i < NLAG; i++) {
        cum += get(&lag_counts[i]);
        metrics_put(&b, "licd_webhook_delivery_lag_seconds_bucket{le=\"%g\"} %llu\n",
                    lag_buckets[i], cum);
    }
    cum += get(&lag_counts[NLAG]);
    metrics_put(&b, "licd_webhook_delivery_lag_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    metrics_put(&b, "licd_webhook_delivery_lag_seconds_sum %.3f\n", (double)get(&lag_ms) / 1e3);
    metrics_put(&b, "licd_webhook_delivery_lag_seconds_count %llu\n", get(&lag_count));
    metrics_put(&b,
                "# HELP licd_webhook_failures_total Webhook delivery attempts that failed.\n"
                "# TYPE licd_webhook_failures_total counter\nlicd_webhook_failures_total %llu\n",
                get(&webhook_failures));
    metrics_put(&b,
                "# HELP licd_db_errors_total Failed database calls.\n"
                "# TYPE licd_db_errors_total counter\nlicd_db_errors_total %llu\n",
                get(&db_errors));
    metrics_put(&b,
                "# HELP licd_http_connections Open HTTP connections.\n"
                "# TYPE licd_http_connections gauge\nlicd_http_connections %ld\n",
                atomic_load(&http_conns));
    metrics_put(&b,
                "# HELP licd_db_connections Open database connections.\n"
                "# TYPE licd_db_connections gauge\nlicd_db_connections %ld\n",
                atomic_load(&db_conns));
    return metrics_take(&b, len);
}
