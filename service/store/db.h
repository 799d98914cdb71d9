/* PostgreSQL access as the rest of licd sees it: one connection per thread,
 * re-established after a failure, and transactions that retry serialization
 * failures and deadlocks. Statements and rows are store/'s own business
 * (store/sql.h); nothing outside store/ sees libpq. */
#ifndef LICD_STORE_DB_H
#define LICD_STORE_DB_H

#include "util/error.h"

#define STORE_TX_ATTEMPTS 5

/* Remembers the conninfo (copied) for every thread's connection. */
int store_init(const char *conninfo);
/* Closes the calling thread's connection and forgets the conninfo. Other
 * threads' connections are closed when those threads exit. */
void store_shutdown(void);

/* The calling thread's connection is a batching thread's (store/batcher.c):
 * generic plans for every statement, and a lock wait of more than 2 s or
 * a statement of more than 10 s fails (LICD_ERR_UNAVAILABLE). BY_INDEX:
 * the plans are also made with sequential scans and hash and merge joins
 * priced out (a pipelined batcher's, whose statements take a client's rows
 * or a batch's by key: the plans kept fit any size of table). */
typedef enum { STORE_BATCHING = 1, STORE_BATCHING_BY_INDEX } store_batching;
void store_thread_batching(store_batching how);

/* Runs fn(ctx) inside BEGIN ... COMMIT on this thread's connection, rolling
 * back if fn fails, and running it again (up to STORE_TX_ATTEMPTS) when the
 * database reports a serialization failure or deadlock. fn must be safe to
 * repeat: it may only change state through the database. Returns fn's error
 * or the commit's. */
int store_tx(int (*fn)(void *ctx), void *ctx);

/* 0 when the database answers and accepts writes, else LICD_ERR_UNAVAILABLE. */
int store_ready(void);

/* How a failed statement is reported, from its SQLSTATE (NULL when the
 * connection itself failed): LICD_ERR_UNAVAILABLE (cannot connect,
 * connection lost, shutting down, read-only), LICD_ERR_CONFLICT (unique or
 * exclusion violation: 23505, 23P01), LICD_ERR_RETRY (serialization failure,
 * deadlock), LICD_ERR_INVALID_FIELD (a parameter that is not text of its
 * type, 22P02: the caller names the field), LICD_ERR_INTERNAL (anything else). */
int store_classify(const char *sqlstate);

#endif
