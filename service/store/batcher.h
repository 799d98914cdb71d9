/* Group commit for hot writes: a thread with its own database connection
 * takes everything request threads queued while its previous batch was
 * committing, writes it with one statement (STORE_BATCHER) or one pipeline
 * (STORE_PIPELINED) and one commit, and then tells each item that it is
 * written. A caller that queues with store_batcher_submit does not wait
 * (its HTTP request is suspended meanwhile), so a batch can take one item
 * from every client at once; one that queues with store_batcher_exec waits
 * on its own thread. */
#ifndef LICD_STORE_BATCHER_H
#define LICD_STORE_BATCHER_H

#include <pthread.h>

#include <libpq-fe.h>

#include "store/sql.h"

/* The first member of what a caller queues (malloc'd): set by
 * store_batcher_submit. */
typedef struct store_batch_item {
    struct store_batch_item *next;
    const char *const *param; /* its statement parameters, as text */
    void (*done)(void *arg);  /* called once its batch is written */
    void *arg;
    char *owned;              /* text the item made (malloc'd), freed with it */
} store_batch_item;

/* For a pipelined batcher: items next to each other in a batch's order
 * (STORE_PIPELINED) that run statement one with the same parameters but
 * parameter key run statement many once instead, with parameter key the
 * array of their keys (text[], in the order queued). Each item gets the
 * rows of many's answer whose column column is its key: the first item
 * of a key does, a later one of the same key gets no row. An item whose
 * rows cannot be copied out runs one again alone (store_batcher_result)
 * after many committed, so one must find what many did and do nothing
 * twice. */
typedef struct {
    const store_sql *one, *many;
    int key, column;
} store_batch_join;

typedef struct {
    const char *name; /* in /metrics: licd_db_batches_total{batch=name} */
    /* Writes the batch (a list, in the order queued) and fills in each
     * item's outcome; then each item's done is called and the item freed. */
    void (*write)(store_batch_item *batch);
    /* Or, for a pipelined batcher (STORE_PIPELINED, no write): the statement
     * an item runs unless it names another, with nparams parameters (all of
     * them take as many). */
    const store_sql *q;
    int nparams;
    const store_batch_join *join; /* or NULL */
    /* the queue and the thread: set by STORE_BATCHER */
    pthread_mutex_t lock;
    pthread_cond_t queued;
    store_batch_item *head, **tail;
    pthread_t thread;
    int running, started;
} store_batcher;

#define STORE_BATCHER(var, name_, write_fn)                                                       \
    store_batcher var = {.name = (name_), .write = (write_fn), .lock = PTHREAD_MUTEX_INITIALIZER, \
                         .queued = PTHREAD_COND_INITIALIZER, .tail = &var.head}

/* A pipelined batcher: the items queued while its previous batch
 * committed run their statements (q or their own) one after the other in
 * one transaction sent as one
 * pipeline (store_exec_pipeline: one round trip and one commit, each run
 * seeing the ones before it; 64 items at most a pipeline), in the order of
 * their first two parameters (a customer and a product: the owner of the
 * rows they lock, so that two nodes' batches lock rows in one order), then
 * in the order queued. Items are queued by store_batcher_queue or
 * store_batcher_exec only. */
#define STORE_PIPELINED(var, name_, q_, nparams_) STORE_PIPELINED_JOIN(var, name_, q_, nparams_, NULL)
/* The same, with runs of items joined into one statement (join). */
#define STORE_PIPELINED_JOIN(var, name_, q_, nparams_, join_)                                     \
    store_batcher var = {.name = (name_), .q = (q_), .nparams = (nparams_), .join = (join_),      \
                         .lock = PTHREAD_MUTEX_INITIALIZER, .queued = PTHREAD_COND_INITIALIZER,  \
                         .tail = &var.head}

/* Starts the thread (licd serve). Without it, each item is written on its
 * caller's thread, as a batch of one. */
int store_batcher_start(store_batcher *b);
/* Writes what is queued, then stops the thread (later items are written by
 * their callers); safe without a start. */
void store_batcher_stop(store_batcher *b);
/* Queues item, whose statement parameters are param, to be written in the
 * next batch; then done(arg) is called and the item freed. With no thread
 * running, that all happens on the caller's thread before it returns. */
void store_batcher_submit(store_batcher *b, store_batch_item *item, const char *const *param,
                          void (*done)(void *arg), void *arg);
/* For a pipelined batcher: queues statement q (NULL: the batcher's) with
 * param for the next batch and waits on the calling thread until it is
 * written. Its result goes to *res (the caller PQclears it). When the
 * batch failed as a whole (one of its runs failed, a lock waited for too
 * long, the connection was lost), the statement runs again alone on the
 * caller's connection, where it finds whatever that batch committed. */
int store_batcher_exec(store_batcher *b, const store_sql *q, const char *const *param,
                       PGresult **res);
/* The same without waiting: queues param (which must stay until done) for
 * the next batch; once it is written, *res and *rc hold the run's outcome
 * and done(arg) is called on the batch's thread (on the caller's, before
 * this returns, when no thread runs or no item could be allocated: then
 * *rc is LICD_ERR_NOMEM, and store_batcher_result runs the statement alone). */
void store_batcher_queue(store_batcher *b, const store_sql *q, const char *const *param,
                         PGresult **res, int *rc, void (*done)(void *arg), void *arg);
/* What a queued run's caller does next: rc (its outcome), or, when its
 * batch failed as a whole, the outcome of its statement q (NULL: the
 * batcher's) run again alone on the caller's connection (*res replaced). */
int store_batcher_result(store_batcher *b, const store_sql *q, const char *const *param, int rc,
                         PGresult **res);

/* For a write function: runs q with each of its nparams parameters as one
 * array over the items of batch, in order (a deadlock with another node's
 * batch is retried; LICD_ERR_UNAVAILABLE when it keeps failing).
 * idempotent: q may run twice (store_exec's), as a read or a heartbeat may
 * and an insert may not. */
int store_batch_exec(const store_sql *q, int nparams, const store_batch_item *batch,
                     int idempotent, PGresult **res);
/* The item at place n (1, 2, ...) of batch: the ordinality a statement
 * returns; NULL when there is none. */
store_batch_item *store_batch_nth(store_batch_item *batch, long long n);

#endif
