/* Group commit for hot writes: a thread with its own database connection
 * takes everything request threads queued while its previous batch was
 * committing, writes it with one statement and one commit, and then tells
 * each item that it is written. Callers do not wait for it, so a batch can
 * take one item from every client at once. */
#ifndef LICD_STORE_BATCHER_H
#define LICD_STORE_BATCHER_H

#include <pthread.h>

/* The first member of what a caller queues: param, its statement
 * parameters as text (the batch sends each as one array). */
typedef struct store_batch_item {
    struct store_batch_item *next;
    const char *const *param;
} store_batch_item;

typedef struct {
    /* Writes the batch (a list, in the order queued) and fills in each
     * item's outcome; then done is called once for every item. */
    void (*write)(store_batch_item *batch);
    void (*done)(store_batch_item *item);
    /* the queue and the thread: set by STORE_BATCHER */
    pthread_mutex_t lock;
    pthread_cond_t queued;
    store_batch_item *head, **tail;
    pthread_t thread;
    int running, started;
} store_batcher;

#define STORE_BATCHER(var, write_fn, done_fn)                                                     \
    store_batcher var = {.write = (write_fn), .done = (done_fn),                                  \
                         .lock = PTHREAD_MUTEX_INITIALIZER, .queued = PTHREAD_COND_INITIALIZER,   \
                         .tail = &var.head}

/* Starts the thread (licd serve). Without it, each item is written on its
 * caller's thread, as a batch of one. */
int store_batcher_start(store_batcher *b);
/* Writes what is queued, then stops the thread (later items are written by
 * their callers); safe without a start. */
void store_batcher_stop(store_batcher *b);
/* Queues item; or, with no thread running, writes it and calls done
 * before it returns. */
void store_batcher_submit(store_batcher *b, store_batch_item *item);

/* Parameter i of every item of batch as a PostgreSQL array literal, in the
 * batch's order (malloc'd; NULL when memory ran out). */
char *store_batch_array(const store_batch_item *batch, int i);

#endif
