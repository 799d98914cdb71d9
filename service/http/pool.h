/* A small fixed pool of threads with a bounded queue, for work that must
 * not run on the HTTP worker threads (CPU-bound password hashing). */
#ifndef LICD_HTTP_POOL_H
#define LICD_HTTP_POOL_H

typedef struct http_pool http_pool;

/* Starts threads workers taking jobs from a queue of at most queue_cap. */
int http_pool_start(unsigned threads, unsigned queue_cap, http_pool **out);

/* Queues fn(arg); LICD_ERR_UNAVAILABLE when the queue is full or the pool
 * is stopping (the caller answers 503). */
int http_pool_submit(http_pool *p, void (*fn)(void *), void *arg);

/* Refuses new jobs, runs what is queued and joins the threads (NULL is
 * fine; a second call does nothing). */
void http_pool_stop(http_pool *p);
/* http_pool_stop, then frees p. */
void http_pool_free(http_pool *p);

#endif
