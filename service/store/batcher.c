/* The batching thread (see batcher.h). */
#include "store/batcher.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "util/error.h"
#include "util/metrics.h"

/* An item of store_batcher_exec: where its result goes, and its place in
 * the queue. */
struct exec_item {
    store_batch_item item; /* first */
    const store_sql *q;    /* the statement it runs */
    PGresult **res;
    int *rc;
    size_t seq;
};

#define PIPELINE_MAX 64 /* items a pipeline: their answers fit the socket's buffers */

/* By the first two parameters, then by the place queued. */
static int by_owner(const void *a, const void *b)
{
    const struct exec_item *x = *(struct exec_item *const *)a,
                           *y = *(struct exec_item *const *)b;
    int c = strcmp(x->item.param[0], y->item.param[0]);
    if (!c)
        c = strcmp(x->item.param[1], y->item.param[1]);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Item e's result (NULL when rc says its pipeline failed). */
static void hand(struct exec_item *e, PGresult *res, int rc)
{
    *e->res = res;
    *e->rc = rc;
}

#define BATCH_PARAMS_MAX 8

/* A run of a pipeline: count items of the sorted batch from first, which
 * run one statement: their own, or, when more than one, the batcher's
 * join's many with param (param[key]: keys, malloc'd). */
struct run {
    size_t first, count;
    const char *param[BATCH_PARAMS_MAX];
    char *keys;
};

static int same(const char *x, const char *y)
{
    return x && y ? strcmp(x, y) == 0 : x == y;
}

/* Whether y may join x's run (store_batch_join). */
static int joins(const store_batcher *b, const struct exec_item *x, const struct exec_item *y)
{
    const store_batch_join *j = b->join;
    if (!j || x->q != j->one || y->q != j->one || b->nparams > BATCH_PARAMS_MAX ||
        !x->item.param[j->key] || !y->item.param[j->key])
        return 0;
    for (int i = 0; i < b->nparams; i++)
        if (i != j->key && !same(x->item.param[i], y->item.param[i]))
            return 0;
    return 1;
}

/* The run of items from first, with every next one that joins it (when the
 * array of their keys cannot be made, first alone). */
static struct run run_from(const store_batcher *b, struct exec_item **items, size_t first,
                           size_t n)
{
    struct run r = {.first = first, .count = 1};
    const char *keys[PIPELINE_MAX];
    while (first + r.count < n && r.count < PIPELINE_MAX &&
           joins(b, items[first], items[first + r.count]))
        r.count++;
    if (r.count == 1)
        return r;
    for (size_t i = 0; i < r.count; i++)
        keys[i] = items[first + i]->item.param[b->join->key];
    if (!(r.keys = store_array_literal(keys, r.count))) {
        r.count = 1;
        return r;
    }
    memcpy(r.param, items[first]->item.param, (size_t)b->nparams * sizeof *r.param);
    r.param[b->join->key] = r.keys;
    return r;
}

/* The rows of res whose column is key (none when taken: an earlier item
 * of the run had the key), as a result of their own; NULL: no memory. */
static PGresult *rows_of(const PGresult *res, int column, const char *key, int taken)
{
    PGresult *r = PQcopyResult(res, PG_COPYRES_ATTRS);
    int k = 0;
    for (int i = 0; r && !taken && i < PQntuples(res); i++) {
        if (strcmp(PQgetvalue(res, i, column), key) != 0)
            continue;
        for (int f = 0; f < PQnfields(res); f++) {
            int null = PQgetisnull(res, i, f);
            if (!PQsetvalue(r, k, f, null ? NULL : PQgetvalue(res, i, f),
                            null ? -1 : PQgetlength(res, i, f))) {
                PQclear(r);
                return NULL;
            }
        }
        k++;
    }
    return r;
}

/* Hands each item of run r its part of res, the answer of r's statement
 * (rc): all of it to the one item of a run of one; else a copy of its
 * rows to each, and res is PQcleared. */
static void hand_run(const store_batcher *b, struct exec_item **items, const struct run *r,
                     PGresult *res, int rc)
{
    if (r->count == 1) {
        hand(items[r->first], res, rc);
        return;
    }
    for (size_t i = 0; i < r->count; i++) {
        const char *key = items[r->first + i]->item.param[b->join->key];
        int taken = 0;
        PGresult *mine = NULL;
        for (size_t e = 0; e < i && !taken; e++)
            taken = strcmp(items[r->first + e]->item.param[b->join->key], key) == 0;
        int mine_rc = rc;
        if (rc == LICD_OK && !(mine = rows_of(res, b->join->column, key, taken)))
            mine_rc = LICD_ERR_NOMEM; /* the item's statement runs again alone */
        hand(items[r->first + i], mine, mine_rc);
    }
    if (rc == LICD_OK)
        metrics_db_batch_joined(b->name, r->count);
    PQclear(res);
}

/* A pipelined batcher's batch of n items (see STORE_PIPELINED). */
static void write_pipelined(const store_batcher *b, store_batch_item *batch, size_t n)
{
    const char *const *params[PIPELINE_MAX];
    const store_sql *qs[PIPELINE_MAX];
    PGresult *res[PIPELINE_MAX];
    struct exec_item **items = malloc(n * sizeof *items);
    struct run *runs = malloc(n * sizeof *runs);
    size_t i = 0, nruns = 0;

    for (store_batch_item *e = batch; e; e = e->next) {
        if (!items || !runs)
            hand((struct exec_item *)e, NULL, LICD_ERR_NOMEM);
        else
            items[i++] = (struct exec_item *)e;
    }
    if (!items || !runs) {
        free(items);
        free(runs);
        return;
    }
    for (i = 0; i < n; i++)
        items[i]->seq = i;
    qsort(items, n, sizeof *items, by_owner);
    i = 0;
    while (i < n) {
        runs[nruns] = run_from(b, items, i, n);
        i += runs[nruns++].count;
    }
    for (size_t at = 0, k; at < nruns; at += k) {
        size_t requests = 0;
        int rc;
        /* as many runs as hold PIPELINE_MAX items at most */
        for (k = 0; at + k < nruns && requests + runs[at + k].count <= PIPELINE_MAX; k++) {
            const struct run *r = &runs[at + k];
            params[k] = r->count > 1 ? r->param : items[r->first]->item.param;
            qs[k] = r->count > 1 ? b->join->many : items[r->first]->q;
            requests += r->count;
        }
        if ((rc = store_exec_pipeline(qs, b->nparams, k, params, res)) != LICD_OK)
            metrics_db_batch_failed(b->name);
        for (i = 0; i < k; i++)
            hand_run(b, items, &runs[at + i], res[i], rc);
    }
    for (i = 0; i < nruns; i++)
        free(runs[i].keys);
    free(runs);
    free(items);
}

/* Writes list batch, tells each of its items and frees it. */
static void write_and_tell(store_batcher *b, store_batch_item *batch)
{
    unsigned long long n = 0;
    for (const store_batch_item *i = batch; i; i = i->next)
        n++;
    metrics_db_batch(b->name, n);
    if (b->write)
        b->write(batch);
    else
        write_pipelined(b, batch, (size_t)n);
    while (batch) {
        store_batch_item *next = batch->next;
        batch->done(batch->arg);
        free(batch->owned);
        free(batch);
        batch = next;
    }
}

/* Takes everything queued while the last batch was committing, writes it;
 * drains the queue before it stops. */
static void *run(void *arg)
{
    store_batcher *b = arg;
    store_thread_batching(b->q ? STORE_BATCHING_BY_INDEX : STORE_BATCHING);
    pthread_mutex_lock(&b->lock);
    for (;;) {
        store_batch_item *batch;
        while (!b->head && b->running)
            pthread_cond_wait(&b->queued, &b->lock);
        if (!b->head)
            break;
        batch = b->head;
        b->head = NULL;
        b->tail = &b->head;
        pthread_mutex_unlock(&b->lock);
        write_and_tell(b, batch);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL; /* the thread's connection closes as it exits */
}

int store_batcher_start(store_batcher *b)
{
    int rc = LICD_OK;
    pthread_mutex_lock(&b->lock);
    if (!b->started) {
        b->running = 1;
        if (pthread_create(&b->thread, NULL, run, b) != 0) {
            b->running = 0;
            rc = LICD_ERR_INTERNAL;
        }
        b->started = b->running;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void store_batcher_stop(store_batcher *b)
{
    int started;
    pthread_mutex_lock(&b->lock);
    started = b->started;
    b->running = 0;
    b->started = 0;
    pthread_cond_signal(&b->queued);
    pthread_mutex_unlock(&b->lock);
    if (started)
        pthread_join(b->thread, NULL);
}

void store_batcher_submit(store_batcher *b, store_batch_item *item, const char *const *param,
                          void (*done)(void *arg), void *arg)
{
    item->next = NULL;
    item->param = param;
    item->done = done;
    item->arg = arg;
    pthread_mutex_lock(&b->lock);
    if (b->running) {
        /* The thread waits only for an empty queue; woken after the lock
         * is let go, it cannot take the core from a submitter that holds
         * it (the other submitters would queue behind). */
        int first = !b->head;
        *b->tail = item;
        b->tail = &item->next;
        pthread_mutex_unlock(&b->lock);
        if (first)
            pthread_cond_signal(&b->queued);
        return;
    }
    pthread_mutex_unlock(&b->lock);
    write_and_tell(b, item);
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t written;
    int done;
};

static void written(void *arg)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->written);
    pthread_mutex_unlock(&w->lock);
}

void store_batcher_queue(store_batcher *b, const store_sql *q, const char *const *param,
                         PGresult **res, int *rc, void (*done)(void *arg), void *arg)
{
    struct exec_item *e = calloc(1, sizeof *e);
    *res = NULL;
    if (!e) {
        *rc = LICD_ERR_NOMEM;
        done(arg);
        return;
    }
    e->q = q ? q : b->q;
    e->res = res;
    e->rc = rc;
    store_batcher_submit(b, &e->item, param, done, arg);
}

int store_batcher_result(store_batcher *b, const store_sql *q, const char *const *param, int rc,
                         PGresult **res)
{
    if (rc == LICD_OK)
        return rc;
    PQclear(*res); /* alone, on the caller's connection */
    *res = NULL;
    return store_exec(q ? q : b->q, b->nparams, param, 0, res);
}

int store_batcher_exec(store_batcher *b, const store_sql *q, const char *const *param,
                       PGresult **res)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    int rc = LICD_ERR_NOMEM;
    store_batcher_queue(b, q, param, res, &rc, written, &w);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.written, &w.lock);
    pthread_mutex_unlock(&w.lock);
    pthread_cond_destroy(&w.written);
    pthread_mutex_destroy(&w.lock);
    return store_batcher_result(b, q, param, rc, res);
}

int store_batch_exec(const store_sql *q, int nparams, const store_batch_item *batch,
                     int idempotent, PGresult **res)
{
    char *arrays[BATCH_PARAMS_MAX] = {NULL};
    const char **column = NULL;
    size_t n = 0;
    int rc = nparams <= BATCH_PARAMS_MAX ? LICD_OK : LICD_ERR_INTERNAL;

    *res = NULL;
    for (const store_batch_item *b = batch; b; b = b->next)
        n++;
    if (rc == LICD_OK && !(column = malloc(n * sizeof *column)))
        rc = LICD_ERR_NOMEM;
    /* Parameter i of every item, as one array literal. */
    for (int i = 0; i < nparams && rc == LICD_OK; i++) {
        size_t k = 0;
        for (const store_batch_item *b = batch; b; b = b->next)
            column[k++] = b->param[i];
        if (!(arrays[i] = store_array_literal(column, n)))
            rc = LICD_ERR_NOMEM;
    }
    free(column);
    /* A deadlock with another node's batch is tried again. */
    if (rc == LICD_OK)
        rc = LICD_ERR_RETRY;
    for (int i = 0; rc == LICD_ERR_RETRY && i < STORE_TX_ATTEMPTS; i++)
        rc = store_exec(q, nparams, (const char *const *)arrays, idempotent, res);
    for (int i = 0; i < nparams && i < BATCH_PARAMS_MAX; i++)
        free(arrays[i]);
    return rc == LICD_ERR_RETRY ? LICD_ERR_UNAVAILABLE : rc;
}

store_batch_item *store_batch_nth(store_batch_item *batch, long long n)
{
    for (; batch && n > 1; n--)
        batch = batch->next;
    return n == 1 ? batch : NULL;
}

