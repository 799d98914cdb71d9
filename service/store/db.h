/* PostgreSQL access: one libpq connection per thread, re-established after a
 * failure; parameterised statements; errors classified by SQLSTATE; a
 * transaction helper that retries serialization failures and deadlocks.
 * The only place (with the other store/ files) that speaks SQL. */
#ifndef LICD_STORE_DB_H
#define LICD_STORE_DB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "util/error.h"

#define STORE_TX_ATTEMPTS 5

/* SQL rendering a timestamptz column as RFC 3339 UTC ("2026-01-31T12:00:00Z"). */
#define STORE_TIME(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Remembers the conninfo (copied) for every thread's connection. */
int store_init(const char *conninfo);
/* Closes the calling thread's connection and forgets the conninfo. Other
 * threads' connections are closed when those threads exit. */
void store_shutdown(void);

/* Runs one parameterised statement on this thread's connection. On success
 * *res holds the result (caller PQclears it). Errors: LICD_ERR_UNAVAILABLE
 * (cannot connect, connection lost, shutting down, read-only), LICD_ERR_CONFLICT
 * (unique or exclusion violation: 23505, 23P01), LICD_ERR_RETRY (serialization
 * failure, deadlock), LICD_ERR_INVALID_FIELD (a parameter that is not text of
 * its type, 22P02: the caller names the field), LICD_ERR_INTERNAL (anything else, logged); *res is NULL then.
 * Outside a transaction, a statement that fails because the connection was
 * found dead before it ran is retried once on a new connection only when
 * idempotent is set (reads). */
int store_exec(const char *sql, int nparams, const char *const *params, int idempotent,
               PGresult **res);
/* store_exec with PQexecParams' lengths and formats: a parameter whose
 * format is 1 is sent as binary (lengths[i] bytes, e.g. a bytea without hex
 * escaping); lengths and formats may be NULL for all-text parameters. */
int store_exec_params(const char *sql, int nparams, const char *const *values,
                      const int *lengths, const int *formats, int idempotent, PGresult **res);
/* store_exec for a statement that names one row: a result without rows is
 * LICD_ERR_NOT_FOUND (and *res is NULL then). */
int store_exec_row(const char *sql, int nparams, const char *const *params, int idempotent,
                   PGresult **res);
/* Like store_exec for a statement whose rows are not needed. */
int store_run(const char *sql, int nparams, const char *const *params);

/* Runs a script of several statements (simple protocol, no parameters) on
 * this thread's connection; for migrations only. On failure the server's
 * message goes to err. */
int store_run_script(const char *sql, char *err, size_t errlen);

/* Runs fn(ctx) inside BEGIN ... COMMIT on this thread's connection, rolling
 * back if fn fails, and running it again (up to STORE_TX_ATTEMPTS) when the
 * database reports a serialization failure or deadlock. fn must be safe to
 * repeat: it may only change state through the database. Returns fn's error
 * or the commit's. */
int store_tx(int (*fn)(void *ctx), void *ctx);

/* 0 when the database answers and accepts writes, else LICD_ERR_UNAVAILABLE. */
int store_ready(void);

/* The SQLSTATE-based classification used above (exposed for tests). */
int store_classify(const char *sqlstate);

#endif
