/* The heartbeat batcher (see heartbeats.h): request threads queue their
 * heartbeat and go on; one thread takes the whole queue as a batch and
 * tells each heartbeat's caller once it is committed. */
#include "store/heartbeats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"
#include "store/sql.h"
#include "util/json.h"

/* A heartbeat's parameters, as text; the batch sends each as one array. */
enum { BEAT_LEASE, BEAT_CUSTOMER, BEAT_PRODUCT, BEAT_CLIENT, BEAT_TTL, BEAT_PARAMS };

/* One queued heartbeat (malloc'd; freed once its done has been called). */
struct beat {
    const char *param[BEAT_PARAMS];
    char product[24], ttl[24];
    store_beat_result *res;
    void (*done)(void *arg);
    void *arg;
    struct beat *next;
};

/* $1..$5: lease ids, customers, products, clients and ttls, one entry per
 * heartbeat. A lease that several heartbeats of a batch name is updated
 * once, and each of them gets the answer (n lists their positions). The
 * statement commits on its own, durably: no BEGIN, SET or COMMIT. */
enum { BEAT_N, BEAT_ID, BEAT_PACK_ID, BEAT_EXPIRES_AT };
static const store_field beat_fields[] = {
    [BEAT_ID] = STORE_TEXT(store_lease, id),
    [BEAT_PACK_ID] = STORE_TEXT(store_lease, pack_id),
    [BEAT_EXPIRES_AT] = STORE_EPOCH(store_lease, expires_at),
};
static const store_rowtype beat_row = STORE_ROWTYPE(store_lease, beat_fields);
static const store_sql Q_LEASE_HEARTBEATS = {
    "lease_heartbeats",
    "WITH b AS (SELECT id, customer_id, product_id, client_id, max(ttl) AS ttl,"
    "  array_agg(n) AS ns"
    "  FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::bigint[])"
    "  WITH ORDINALITY AS u(id, customer_id, product_id, client_id, ttl, n)"
    "  GROUP BY id, customer_id, product_id, client_id),"
    " l AS (UPDATE leases l SET heartbeat_at = now(),"
    /* never earlier than it was: a borrowed lease ends when its borrow
     * does, and a batch whose statement began before another node's batch
     * committed the row (now() is the statement's start) keeps that later
     * expiry, which a client was told, instead of moving it back */
    "   expires_at = greatest(l.expires_at, now() + make_interval(secs => b.ttl))"
    /* id = ANY(...) lets the planner find the rows by primary key whatever
     * it guesses of the batch's size (a join alone may scan the table). */
    "  FROM b WHERE l.id = ANY($1::uuid[]) AND l.id = b.id AND l.customer_id = b.customer_id"
    "  AND l.product_id = b.product_id AND l.client_id = b.client_id"
    "  AND l.released_at IS NULL AND l.expires_at > now()"
    "  RETURNING b.ns, l.id, l.pack_id, l.expires_at)"
    /* whole seconds rounded down: it never lapses before the time told */
    " SELECT unnest(l.ns), l.id, k.pack_id, floor(extract(epoch FROM l.expires_at))::bigint"
    " FROM l JOIN packs k ON k.id = l.pack_id"};

/* The queue the thread takes its batches from. running: the thread takes
 * new heartbeats (cleared when it is told to stop, so that later ones are
 * written by their own threads). */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t queued;
    struct beat *head, **tail;
    pthread_t thread;
    int running, started;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .queued = PTHREAD_COND_INITIALIZER, .tail = &q.head};

/* Column param of every heartbeat of batch b as an array literal
 * (malloc'd; NULL when memory ran out). */
static char *array_of(const struct beat *b, int param)
{
    const char **items;
    size_t n = 0;
    char *s;
    for (const struct beat *h = b; h; h = h->next)
        n++;
    if (!(items = malloc(n * sizeof *items)))
        return NULL;
    n = 0;
    for (const struct beat *h = b; h; h = h->next)
        items[n++] = h->param[param];
    s = store_array_literal(items, n);
    free(items);
    return s;
}

/* Writes batch b (a list) with one statement and fills in each heartbeat's
 * answer: found and the lease for the leases it extended, rc for all. */
static void write_batch(struct beat *b)
{
    char *arrays[BEAT_PARAMS] = {NULL};
    PGresult *res = NULL;
    int rc = LICD_OK;

    for (int i = 0; i < BEAT_PARAMS && rc == LICD_OK; i++)
        if (!(arrays[i] = array_of(b, i)))
            rc = LICD_ERR_NOMEM;
    /* A deadlock with another node's batch (a client heartbeating through
     * two nodes at once) is retried; extending a lease twice is harmless. */
    for (int i = 0; rc != LICD_ERR_NOMEM && i < STORE_TX_ATTEMPTS; i++)
        if ((rc = store_exec(&Q_LEASE_HEARTBEATS, BEAT_PARAMS, (const char *const *)arrays, 1,
                             &res)) != LICD_ERR_RETRY)
            break;
    for (int row = 0; rc == LICD_OK && row < PQntuples(res); row++) {
        struct beat *h = b;
        for (long long n = store_col_int(res, row, BEAT_N); h && n > 1; n--)
            h = h->next;
        if (h && (rc = store_fill(&beat_row, res, row, &h->res->lease)) == LICD_OK)
            h->res->found = 1;
    }
    for (; b; b = b->next)
        b->res->rc = rc == LICD_ERR_RETRY ? LICD_ERR_UNAVAILABLE : rc;
    PQclear(res);
    for (int i = 0; i < BEAT_PARAMS; i++)
        free(arrays[i]);
}

/* Tells each heartbeat of list b that it is written, and frees it. */
static void finish(struct beat *b)
{
    while (b) {
        struct beat *next = b->next;
        b->done(b->arg);
        free(b);
        b = next;
    }
}

/* Takes everything queued while the last batch was committing, writes it,
 * and wakes its waiters; drains the queue before it stops. */
static void *run(void *arg)
{
    (void)arg;
    /* The batch's arrays make PostgreSQL plan it anew on every call (0.15
     * ms, twice its execution); its plan finds the rows by primary key
     * whatever the batch's size. */
    store_thread_generic_plans();
    pthread_mutex_lock(&q.lock);
    for (;;) {
        struct beat *batch;
        while (!q.head && q.running)
            pthread_cond_wait(&q.queued, &q.lock);
        if (!q.head)
            break;
        batch = q.head;
        q.head = NULL;
        q.tail = &q.head;
        pthread_mutex_unlock(&q.lock);
        write_batch(batch);
        finish(batch);
        pthread_mutex_lock(&q.lock);
    }
    pthread_mutex_unlock(&q.lock);
    return NULL; /* the thread's connection closes as it exits */
}

int store_heartbeats_start(void)
{
    int rc = LICD_OK;
    pthread_mutex_lock(&q.lock);
    if (!q.started) {
        q.running = 1;
        if (pthread_create(&q.thread, NULL, run, NULL) != 0) {
            q.running = 0;
            rc = LICD_ERR_INTERNAL;
        }
        q.started = q.running;
    }
    pthread_mutex_unlock(&q.lock);
    return rc;
}

void store_heartbeats_stop(void)
{
    int started;
    pthread_mutex_lock(&q.lock);
    started = q.started;
    q.running = 0;
    q.started = 0;
    pthread_cond_signal(&q.queued);
    pthread_mutex_unlock(&q.lock);
    if (started)
        pthread_join(q.thread, NULL);
}

int store_lease_heartbeat(const char *customer_id, const char *lease_id, long long product_id,
                          const char *client_id, long ttl, store_beat_result *res,
                          void (*done)(void *arg), void *arg)
{
    struct beat *h;

    res->found = 0;
    res->rc = LICD_OK;
    if (!json_is_uuid(lease_id)) {
        done(arg);
        return LICD_OK;
    }
    if (!(h = calloc(1, sizeof *h)))
        return LICD_ERR_NOMEM;
    snprintf(h->product, sizeof h->product, "%lld", product_id);
    snprintf(h->ttl, sizeof h->ttl, "%ld", ttl);
    h->param[BEAT_LEASE] = lease_id;
    h->param[BEAT_CUSTOMER] = customer_id;
    h->param[BEAT_PRODUCT] = h->product;
    h->param[BEAT_CLIENT] = client_id;
    h->param[BEAT_TTL] = h->ttl;
    h->res = res;
    h->done = done;
    h->arg = arg;
    pthread_mutex_lock(&q.lock);
    if (q.running) {
        *q.tail = h;
        q.tail = &h->next;
        pthread_cond_signal(&q.queued);
        pthread_mutex_unlock(&q.lock);
        return LICD_OK;
    }
    pthread_mutex_unlock(&q.lock);
    write_batch(h);
    finish(h);
    return LICD_OK;
}
