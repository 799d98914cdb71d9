/* Per-thread libpq connections, statements prepared once per connection,
 * their execution, and transactions. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util/log.h"
#include "util/metrics.h"

/* A thread's connection and the statements prepared on it: an
 * open-addressing set of store_sql addresses, emptied whenever the
 * connection is dropped. */
struct conn_state {
    PGconn *conn;
    int in_tx;
    store_batching batching; /* store_thread_batching()'s, or 0 */
    const store_sql **prepared;
    size_t nprepared, cap;      /* cap is 0 or a power of two */
};

static const store_sql Q_BEGIN = {"begin", "BEGIN"};
static const store_sql Q_COMMIT = {"commit", "COMMIT"};
static const store_sql Q_READY = {
    "ready", "SELECT NOT pg_is_in_recovery() AND"
             " current_setting('default_transaction_read_only') = 'off'"};
enum { READY_WRITABLE };

/* A batching thread's session (store_thread_batching): its statements'
 * arrays made PostgreSQL plan them anew on every call (0.15 ms for the
 * heartbeats', twice their execution), while their generic plans find the
 * rows by key whatever the batch's size; and a batch stuck behind a lock or
 * a stalled server fails (503 to everyone waiting in it) instead of parking
 * every heartbeat or renewal of the node for good. */
#define BATCHING_SETTINGS                                                                          \
    "SET plan_cache_mode = force_generic_plan; SET lock_timeout = '2s';"                           \
    " SET statement_timeout = '10s'"
/* And for a pipelined batcher's (STORE_BATCHING_BY_INDEX), whose statements
 * each take one client's rows or one batch's (64 at most): a generic plan
 * is kept until the statistics of its tables next change, which on a
 * growing table can be many thousands of rows later; made on a small
 * table it may read all of it (made when assignments held 1,000 rows, the
 * joined grants' plan hashed all of the customer's licences for every
 * batch, 2.85 ms a batch instead of 0.8 as the table grew). With
 * sequential scans and hash and merge joins priced out, the plans kept
 * are the index look-ups that fit any size. The other batchers join
 * their whole batch to itself (token renewals), which a hash join keeps
 * linear in its size. */
#define BY_INDEX_SETTINGS                                                                          \
    "; SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off"

static char *conninfo;
static pthread_key_t conn_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void conn_state_free(void *p)
{
    struct conn_state *st = p;
    if (st->conn) {
        PQfinish(st->conn);
        metrics_db_connections(-1);
    }
    free(st->prepared);
    free(st);
}

static void make_key(void) { pthread_key_create(&conn_key, conn_state_free); }

int store_init(const char *info)
{
    pthread_once(&key_once, make_key);
    free(conninfo);
    conninfo = info ? strdup(info) : NULL;
    return info && !conninfo ? LICD_ERR_NOMEM : LICD_OK;
}

void store_shutdown(void)
{
    struct conn_state *st;
    pthread_once(&key_once, make_key);
    st = pthread_getspecific(conn_key);
    if (st) {
        conn_state_free(st);
        pthread_setspecific(conn_key, NULL);
    }
    free(conninfo);
    conninfo = NULL;
}

static struct conn_state *state(void)
{
    struct conn_state *st;
    pthread_once(&key_once, make_key);
    st = pthread_getspecific(conn_key);
    if (!st && (st = calloc(1, sizeof *st)) && pthread_setspecific(conn_key, st) != 0) {
        free(st);
        st = NULL;
    }
    return st;
}

static void drop(struct conn_state *st)
{
    if (st->conn) {
        PQfinish(st->conn);
        metrics_db_connections(-1);
    }
    st->conn = NULL;
    st->in_tx = 0;
    if (st->cap)
        memset(st->prepared, 0, st->cap * sizeof *st->prepared);
    st->nprepared = 0;
}

void store_thread_batching(store_batching how)
{
    struct conn_state *st = state();
    if (st && !st->batching) {
        st->batching = how;
        drop(st); /* a connection opened before now keeps its settings */
    }
}

/* The slot of q in the prepared set: where it is, or the empty one where it
 * would go. Statements are static objects, so their addresses spread well. */
static size_t slot(const struct conn_state *st, const store_sql *q)
{
    size_t i = (size_t)((uintptr_t)q / sizeof *q) & (st->cap - 1);
    while (st->prepared[i] && st->prepared[i] != q)
        i = (i + 1) & (st->cap - 1);
    return i;
}

static int is_prepared(const struct conn_state *st, const store_sql *q)
{
    return st->cap && st->prepared[slot(st, q)] == q;
}

/* Makes room for one more statement in the set (kept at most half full). */
static int reserve(struct conn_state *st)
{
    const store_sql **old = st->prepared;
    size_t old_cap = st->cap, cap = old_cap ? 2 * old_cap : 64;
    if (2 * (st->nprepared + 1) <= old_cap)
        return LICD_OK;
    if (!(st->prepared = calloc(cap, sizeof *st->prepared))) {
        st->prepared = old;
        return LICD_ERR_NOMEM;
    }
    st->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            st->prepared[slot(st, old[i])] = old[i];
    free(old);
    return LICD_OK;
}

/* A server's notice or warning goes to the log as one line, not to stderr
 * as libpq would print it. */
static void notice(void *arg, const char *message)
{
    char line[512];
    size_t n;
    (void)arg;
    snprintf(line, sizeof line, "%s", message);
    n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_line("warn", "database notice", line);
}

/* This thread's connection, opened on first use or after a failure. The
 * conninfo's own settings win over the defaults given before it. */
static PGconn *connection(struct conn_state *st)
{
    static const char *const keys[] = {"connect_timeout", "application_name", "options",
                                       "dbname", NULL};
    const char *vals[] = {"2", "licd", "-c client_min_messages=warning", conninfo, NULL};
    PGresult *set = NULL;
    if (st->conn && PQstatus(st->conn) == CONNECTION_OK)
        return st->conn;
    drop(st);
    if (!conninfo)
        return NULL;
    st->conn = PQconnectdbParams(keys, vals, 1);
    /* Set on the session itself, so that no options in the conninfo undo it. */
    if (PQstatus(st->conn) != CONNECTION_OK ||
        (st->batching &&
         PQresultStatus(set = PQexec(st->conn, st->batching == STORE_BATCHING_BY_INDEX
                                                   ? BATCHING_SETTINGS BY_INDEX_SETTINGS
                                                   : BATCHING_SETTINGS)) != PGRES_COMMAND_OK)) {
        PQclear(set);
        metrics_db_error();
        PQfinish(st->conn);
        st->conn = NULL;
        return NULL;
    }
    PQclear(set);
    PQsetNoticeProcessor(st->conn, notice, NULL);
    metrics_db_connections(1);
    return st->conn;
}

int store_classify(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5)
        return LICD_ERR_UNAVAILABLE; /* no SQLSTATE: the connection itself failed */
    /* A unique or exclusion constraint (e.g. overlapping serial ranges). */
    if (strcmp(sqlstate, "23505") == 0 || strcmp(sqlstate, "23P01") == 0)
        return LICD_ERR_CONFLICT;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
        return LICD_ERR_RETRY;
    /* A value PostgreSQL cannot read as its type (a CIDR, an address): the
     * caller names the field it came from. */
    if (strcmp(sqlstate, "22P02") == 0)
        return LICD_ERR_INVALID_FIELD;
    if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
        strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0 ||
        strcmp(sqlstate, "25006") == 0 || strcmp(sqlstate, "53300") == 0 ||
        /* a lock or statement timeout (store_thread_batching), a cancel */
        strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "57014") == 0)
        return LICD_ERR_UNAVAILABLE;
    return LICD_ERR_INTERNAL;
}

/* One statement and its parameters as PQexecPrepared takes them. */
struct stmt {
    const store_sql *q;
    int nparams;
    const char *const *values;
    const int *lengths;
    const int *formats;
};

/* A statement that failed to prepare or to run: classifies it by SQLSTATE,
 * counts and logs it, and drops the connection when it is gone (*dead). */
static int failed(struct conn_state *st, const store_sql *q, PGresult *r, int *dead)
{
    const char *sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *where = r ? PQresultErrorField(r, PG_DIAG_SOURCE_FUNCTION) : NULL;
    /* A migration changed what a statement this connection prepared
     * returns: PostgreSQL refuses its plan ("cached plan must not change
     * result type", in whatever language, from the function that checks
     * the plan) until it is prepared again, which a new connection does
     * (it did not run: LICD_ERR_RETRY). */
    int stale = sqlstate && strcmp(sqlstate, "0A000") == 0 && where &&
                strcmp(where, "RevalidateCachedQuery") == 0;
    int rc = stale ? LICD_ERR_RETRY : store_classify(sqlstate);
    if (stale)
        log_line("warn", "a migration changed a prepared statement's result; reconnecting",
                 q->name);
    if (rc == LICD_ERR_INTERNAL) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s: %s", q->name, PQerrorMessage(st->conn));
        log_line("error", "database statement failed", detail);
    }
    if (rc != LICD_ERR_CONFLICT)
        metrics_db_error();
    PQclear(r);
    if (PQstatus(st->conn) != CONNECTION_OK || rc == LICD_ERR_UNAVAILABLE || stale) {
        *dead = 1;
        drop(st);
    }
    return rc;
}

/* Prepares q on conn unless this connection has; *dead tells whether the
 * connection was lost. */
static int prepare(struct conn_state *st, PGconn *conn, const store_sql *q, int *dead)
{
    PGresult *r;
    if (is_prepared(st, q))
        return LICD_OK;
    if (reserve(st) != LICD_OK)
        return LICD_ERR_NOMEM;
    r = PQprepare(conn, q->name, q->sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        return failed(st, q, r, dead);
    PQclear(r);
    st->prepared[slot(st, q)] = q;
    st->nprepared++;
    return LICD_OK;
}

/* One attempt, preparing the statement first if this connection has not;
 * *dead tells whether the connection was lost. */
static int exec_once(struct conn_state *st, const struct stmt *s, PGresult **res, int *dead)
{
    PGconn *conn = connection(st);
    PGresult *r;
    ExecStatusType status;
    int rc;

    *dead = 0;
    *res = NULL;
    if (!conn) {
        *dead = 1;
        return LICD_ERR_UNAVAILABLE;
    }
    if ((rc = prepare(st, conn, s->q, dead)) != LICD_OK)
        return rc;
    r = PQexecPrepared(conn, s->q->name, s->nparams, s->values, s->lengths, s->formats, 0);
    status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        *res = r;
        return LICD_OK;
    }
    return failed(st, s->q, r, dead);
}

int store_exec_params(const store_sql *q, int nparams, const char *const *values,
                      const int *lengths, const int *formats, int idempotent, PGresult **res)
{
    struct conn_state *st = state();
    const struct stmt s = {q, nparams, values, lengths, formats};
    int dead, had_conn, in_tx, rc;
    *res = NULL;
    if (!st)
        return LICD_ERR_NOMEM;
    had_conn = st->conn != NULL;
    in_tx = st->in_tx;
    rc = exec_once(st, &s, res, &dead);
    /* A connection that was idle may have died with a database restart; one
     * fresh attempt is safe for statements that change nothing. A plan a
     * migration made stale ran nothing: any statement may run again (in a
     * transaction, store_tx runs it all again). */
    if (((rc == LICD_ERR_UNAVAILABLE && had_conn && idempotent) || rc == LICD_ERR_RETRY) &&
        dead && !in_tx)
        rc = exec_once(st, &s, res, &dead);
    return rc;
}

/* synchronous_commit back to the session's own value for the rest of the
 * transaction (a NULL value resets; SET LOCAL would warn outside a
 * transaction block, which a pipeline is not before PostgreSQL 18). */
#define RESET_COMMIT "SELECT set_config('synchronous_commit', NULL, true)"

/* One attempt of store_exec_pipeline. The statements between the
 * pipeline's start and its sync are one implicit transaction: PostgreSQL
 * commits it at the sync, or, after a statement failed, skips the rest
 * (PGRES_PIPELINE_ABORTED) and rolls it back there. */
static int pipeline_once(struct conn_state *st, const store_sql *const *qs, int nparams,
                         size_t n, const char *const *const *params, PGresult **res, int *dead)
{
    PGconn *conn = connection(st);
    PGresult *r, *error = NULL;
    const store_sql *q = qs[0]; /* named in the log when the pipeline fails: the run that
                                 * did (the first when its end did) */
    size_t i;
    int rc, synced = 0;

    *dead = 0;
    if (!conn) {
        *dead = 1;
        return LICD_ERR_UNAVAILABLE;
    }
    for (i = 0; i < n; i++)
        if ((rc = prepare(st, conn, qs[i], dead)) != LICD_OK)
            return rc;
    if (!PQenterPipelineMode(conn))
        return failed(st, q, NULL, dead);
    i = 0;
    while (i < n && PQsendQueryPrepared(conn, qs[i]->name, nparams, params[i], NULL, NULL, 0))
        i++;
    /* A statement that wrote nothing worth a wait for the disk may have
     * turned synchronous_commit off for its transaction (a refusal counted,
     * grants.c and leases.c): here that transaction holds the others' writes
     * too, so its commit waits for the disk as the session says. */
    if (i < n || !PQsendQueryParams(conn, RESET_COMMIT, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQpipelineSync(conn))
        return failed(st, q, NULL, dead); /* cannot send: the connection is gone */
    /* Each statement's result and a NULL (RESET_COMMIT's last), then the sync's. */
    for (i = 0; i <= n && (r = PQgetResult(conn)); i++) {
        ExecStatusType status = PQresultStatus(r);
        PGresult *end;
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            if (i < n)
                res[i] = r;
            else
                PQclear(r);
        } else if (status != PGRES_PIPELINE_ABORTED && !error) {
            error = r;
            q = qs[i < n ? i : 0];
        } else {
            PQclear(r);
        }
        while ((end = PQgetResult(conn)))
            PQclear(end);
    }
    if (i > n && (r = PQgetResult(conn))) {
        synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
    }
    if (synced)
        synced = PQexitPipelineMode(conn);
    if (synced && !error)
        return LICD_OK;
    for (i = 0; i < n; i++) {
        PQclear(res[i]);
        res[i] = NULL;
    }
    if (!synced) { /* the connection broke off: what was committed is unknown */
        PQclear(error);
        error = NULL;
    }
    return failed(st, q, error, dead);
}

int store_exec_pipeline(const store_sql *const *qs, int nparams, size_t n,
                        const char *const *const *params, PGresult **res)
{
    struct conn_state *st = state();
    int dead, rc = LICD_ERR_RETRY;
    for (size_t i = 0; i < n; i++)
        res[i] = NULL;
    if (!st)
        return LICD_ERR_NOMEM;
    if (st->in_tx)
        return LICD_ERR_INTERNAL;
    if (!n)
        return LICD_OK;
    for (int attempt = 0; attempt < STORE_TX_ATTEMPTS && rc == LICD_ERR_RETRY; attempt++)
        rc = pipeline_once(st, qs, nparams, n, params, res, &dead);
    return rc;
}

int store_exec(const store_sql *q, int nparams, const char *const *params, int idempotent,
               PGresult **res)
{
    return store_exec_params(q, nparams, params, NULL, NULL, idempotent, res);
}

int store_exec_row(const store_sql *q, int nparams, const char *const *params, int idempotent,
                   PGresult **res)
{
    int rc = store_exec(q, nparams, params, idempotent, res);
    if (rc == LICD_OK && PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        rc = LICD_ERR_NOT_FOUND;
    }
    return rc;
}

int store_run(const store_sql *q, int nparams, const char *const *params)
{
    PGresult *res;
    int rc = store_exec(q, nparams, params, 0, &res);
    PQclear(res);
    return rc;
}

int store_purge(const store_sql *q, int nparams, const char *const *params, long long *deleted)
{
    long long n = STORE_PURGE_CHUNK;
    int rc = LICD_OK;
    *deleted = 0;
    while (rc == LICD_OK && n == STORE_PURGE_CHUNK) {
        PGresult *res = NULL;
        rc = store_exec(q, nparams, params, 0, &res);
        n = rc == LICD_OK ? atoll(PQcmdTuples(res)) : 0;
        *deleted += n;
        PQclear(res);
    }
    return rc;
}

int store_run_script(const char *sql, char *err, size_t errlen)
{
    struct conn_state *st = state();
    PGconn *conn = st ? connection(st) : NULL;
    PGresult *r;
    int rc = LICD_OK;
    if (!conn)
        return LICD_ERR_UNAVAILABLE;
    r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        rc = store_classify(PQresultErrorField(r, PG_DIAG_SQLSTATE));
        if (rc == LICD_ERR_RETRY || rc == LICD_ERR_CONFLICT)
            rc = LICD_ERR_INTERNAL;
    }
    PQclear(r);
    return rc;
}

int store_tx(int (*fn)(void *ctx), void *ctx)
{
    struct conn_state *st = state();
    int rc = LICD_ERR_RETRY;
    if (!st)
        return LICD_ERR_NOMEM;
    for (int attempt = 0; attempt < STORE_TX_ATTEMPTS && rc == LICD_ERR_RETRY; attempt++) {
        PGresult *res;
        /* Nothing is written before BEGIN succeeds, so BEGIN may reconnect. */
        rc = store_exec(&Q_BEGIN, 0, NULL, 1, &res);
        PQclear(res);
        if (rc != LICD_OK)
            break;
        st->in_tx = 1;
        rc = fn(ctx);
        if (rc == LICD_OK)
            rc = store_run(&Q_COMMIT, 0, NULL);
        if (rc != LICD_OK && st->conn)
            PQclear(PQexec(st->conn, "ROLLBACK"));
        st->in_tx = 0;
    }
    return rc;
}

int store_ready(void)
{
    PGresult *res;
    int rc = store_exec(&Q_READY, 0, NULL, 1, &res);
    if (rc == LICD_OK && (PQntuples(res) != 1 || !store_col_bool(res, 0, READY_WRITABLE)))
        rc = LICD_ERR_UNAVAILABLE;
    PQclear(res);
    return rc == LICD_OK ? LICD_OK : LICD_ERR_UNAVAILABLE;
}
