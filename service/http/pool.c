/* The offload pool (see pool.h): a ring of jobs under one mutex. Jobs are
 * few (a login is tens of milliseconds of work), so one lock is no cost. */
#include "http/pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/error.h"

struct job {
    void (*fn)(void *);
    void *arg;
};

struct http_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct job *ring;
    unsigned cap, head, len, nthreads;
    int stopping;
    pthread_t threads[];
};

static void *worker(void *p)
{
    http_pool *pool = p;
    for (;;) {
        struct job j;
        pthread_mutex_lock(&pool->lock);
        while (!pool->len && !pool->stopping)
            pthread_cond_wait(&pool->work, &pool->lock);
        if (!pool->len) {
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        j = pool->ring[pool->head];
        pool->head = (pool->head + 1) % pool->cap;
        pool->len--;
        pthread_mutex_unlock(&pool->lock);
        j.fn(j.arg);
    }
}

int http_pool_start(unsigned threads, unsigned queue_cap, http_pool **out)
{
    http_pool *p = calloc(1, sizeof *p + threads * sizeof(pthread_t));
    *out = NULL;
    if (!p || !(p->ring = calloc(queue_cap ? queue_cap : 1, sizeof *p->ring))) {
        free(p);
        return LICD_ERR_NOMEM;
    }
    p->cap = queue_cap ? queue_cap : 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    for (; p->nthreads < threads; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0) {
            http_pool_free(p);
            return LICD_ERR_INTERNAL;
        }
    *out = p;
    return LICD_OK;
}

int http_pool_submit(http_pool *p, void (*fn)(void *), void *arg)
{
    int rc = LICD_ERR_UNAVAILABLE;
    pthread_mutex_lock(&p->lock);
    if (!p->stopping && p->len < p->cap) {
        p->ring[(p->head + p->len) % p->cap] = (struct job){fn, arg};
        p->len++;
        pthread_cond_signal(&p->work);
        rc = LICD_OK;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void http_pool_stop(http_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

void http_pool_free(http_pool *p)
{
    if (!p)
        return;
    http_pool_stop(p);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    free(p->ring);
    free(p);
}
