/* The batching thread (see batcher.h). */
#include "store/batcher.h"

#include <stdlib.h>

#include "store/db.h"
#include "store/sql.h"
#include "util/error.h"

/* Writes list batch and tells each of its items. */
static void write_and_tell(store_batcher *b, store_batch_item *batch)
{
    b->write(batch);
    while (batch) {
        store_batch_item *next = batch->next; /* done may free the item */
        b->done(batch);
        batch = next;
    }
}

/* Takes everything queued while the last batch was committing, writes it;
 * drains the queue before it stops. */
static void *run(void *arg)
{
    store_batcher *b = arg;
    /* A batch's arrays make PostgreSQL plan its statement anew on every
     * call (0.15 ms for the heartbeats', twice their execution); the
     * generic plans find the rows by key whatever the batch's size. */
    store_thread_generic_plans();
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

void store_batcher_submit(store_batcher *b, store_batch_item *item)
{
    item->next = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->running) {
        *b->tail = item;
        b->tail = &item->next;
        pthread_cond_signal(&b->queued);
        pthread_mutex_unlock(&b->lock);
        return;
    }
    pthread_mutex_unlock(&b->lock);
    write_and_tell(b, item);
}

char *store_batch_array(const store_batch_item *batch, int i)
{
    const char **items;
    size_t n = 0;
    char *s;
    for (const store_batch_item *b = batch; b; b = b->next)
        n++;
    if (!(items = malloc(n * sizeof *items)))
        return NULL;
    n = 0;
    for (const store_batch_item *b = batch; b; b = b->next)
        items[n++] = b->param[i];
    s = store_array_literal(items, n);
    free(items);
    return s;
}
