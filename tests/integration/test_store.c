/* The store's own mechanisms against the real database: a pipeline of
 * statements is one transaction (store_exec_pipeline), and statements
 * prepared before a migration run after it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "store/db.h"
#include "store/sql.h"

/* Each run inserts its number and says how many rows it saw before it;
 * Q_PROBE_TENFOLD inserts ten times the number. */
static const store_sql Q_PROBE = {
    "pipeline_probe",
    "INSERT INTO pipeline_probe (n) VALUES ($1::int) RETURNING (SELECT count(*) FROM pipeline_probe)"};
static const store_sql Q_PROBE_TENFOLD = {
    "pipeline_probe_tenfold", "INSERT INTO pipeline_probe (n) VALUES ($1::int * 10)"
                              " RETURNING (SELECT count(*) FROM pipeline_probe)"};

/* Runs Q_PROBE for each of the n numbers, Q_PROBE_TENFOLD for those that
 * tenfold marks (when not NULL); *seen gets each run's count. */
static int probe_with(const char *const *numbers, size_t n, const int *tenfold, long long *seen)
{
    const char *const *params[8];
    const store_sql *qs[8];
    PGresult *res[8];
    int rc;
    for (size_t i = 0; i < n; i++) {
        params[i] = &numbers[i];
        qs[i] = tenfold && tenfold[i] ? &Q_PROBE_TENFOLD : &Q_PROBE;
    }
    rc = store_exec_pipeline(qs, 1, n, params, res);
    for (size_t i = 0; i < n; i++) {
        if (rc == LICD_OK)
            seen[i] = store_col_int(res[i], 0, 0);
        else
            cr_assert_null(res[i], "a failed pipeline leaves no result");
        PQclear(res[i]);
    }
    return rc;
}

static int probe(const char *const *numbers, size_t n, long long *seen)
{
    return probe_with(numbers, n, NULL, seen);
}

/* Asserts that table's numbers, in order and comma-separated, are want. */
static void assert_rows(const char *table, const char *want, const char *why)
{
    char *out = NULL;
    cr_assert_eq(it_sql(it_fmt("SELECT string_agg(n::text, ',' ORDER BY n) FROM %s", table), &out),
                 0);
    cr_assert_str_eq(out, it_fmt("%s\n", want), "%s", why);
    free(out);
}

Test(store, a_pipeline_commits_all_or_nothing)
{
    const char *first[] = {"1", "2", "3"}, *clash[] = {"4", "2", "5"}, *after[] = {"6"};
    long long seen[3] = {-1, -1, -1};

    cr_assert_eq(it_sql("DROP TABLE IF EXISTS pipeline_probe;"
                        " CREATE TABLE pipeline_probe (n int PRIMARY KEY)",
                        NULL),
                 0);
    cr_assert_eq(store_init(it_env("LICD_DATABASE_URL")), 0);

    cr_assert_eq(probe(first, 3, seen), LICD_OK);
    /* one transaction, each statement seeing the ones before it */
    cr_assert_eq(seen[0], 0);
    cr_assert_eq(seen[1], 1);
    cr_assert_eq(seen[2], 2);
    assert_rows("pipeline_probe", "1,2,3", "each run kept");

    /* the second run breaks the key: the first is rolled back, the third never runs */
    cr_assert_eq(probe(clash, 3, seen), LICD_ERR_CONFLICT);
    assert_rows("pipeline_probe", "1,2,3", "nothing of a failed pipeline is kept");

    /* the connection goes on */
    cr_assert_eq(probe(after, 1, seen), LICD_OK);
    cr_assert_eq(seen[0], 3);
    assert_rows("pipeline_probe", "1,2,3,6", "the run after a failed pipeline kept");

    /* each run its own statement, in the order given, in one transaction */
    {
        const char *mixed[] = {"7", "8", "9"};
        const int tenfold[] = {0, 1, 0};
        cr_assert_eq(probe_with(mixed, 3, tenfold, seen), LICD_OK);
        cr_assert_eq(seen[0], 4);
        cr_assert_eq(seen[1], 5);
        cr_assert_eq(seen[2], 6);
        assert_rows("pipeline_probe", "1,2,3,6,7,9,80", "each run its own statement");
        /* the tenfold run clashes with 80: none of the three is kept */
        cr_assert_eq(probe_with((const char *[]){"10", "8", "11"}, 3, tenfold, seen),
                     LICD_ERR_CONFLICT);
        assert_rows("pipeline_probe", "1,2,3,6,7,9,80", "nothing of a failed pipeline is kept");
    }

    store_shutdown();
    cr_assert_eq(it_sql("DROP TABLE pipeline_probe", NULL), 0);
}

/* A migration that changes what a prepared statement returns (here a
 * column's type) makes PostgreSQL refuse the plans prepared before it; a
 * running node prepares them again on a new connection and goes on, alone,
 * in a pipeline and in a transaction, and nothing runs twice. */
static const store_sql Q_STALE_READ = {"stale_read", "SELECT n FROM stale_probe ORDER BY n"};
static const store_sql Q_STALE_INSERT = {"stale_insert",
                                         "INSERT INTO stale_probe (n) VALUES ($1::int) RETURNING n"};

static int insert_in_tx(void *ctx)
{
    const char *params[] = {ctx};
    PGresult *res;
    int rc = store_exec(&Q_STALE_INSERT, 1, params, 0, &res);
    PQclear(res);
    return rc;
}

static void retype(const char *type)
{
    cr_assert_eq(it_sql(it_fmt("ALTER TABLE stale_probe ALTER COLUMN n TYPE %s", type), NULL), 0);
}

Test(store, statements_prepared_before_a_migration_run_after_it)
{
    const char *one[] = {"2"}, *const *params[] = {one};
    const store_sql *qs[] = {&Q_STALE_INSERT};
    PGresult *res = NULL;

    cr_assert_eq(it_sql("DROP TABLE IF EXISTS stale_probe; CREATE TABLE stale_probe (n int);"
                        " INSERT INTO stale_probe VALUES (1)",
                        NULL),
                 0);
    cr_assert_eq(store_init(it_env("LICD_DATABASE_URL")), 0);
    /* Each kind runs once (prepared on this thread's connection of the
     * moment), then again after its result's type changed. */
    cr_assert_eq(store_exec(&Q_STALE_READ, 0, NULL, 1, &res), LICD_OK);
    PQclear(res);
    retype("bigint");
    cr_assert_eq(store_exec(&Q_STALE_READ, 0, NULL, 1, &res), LICD_OK, "a read");
    cr_assert_eq(PQntuples(res), 1);
    PQclear(res);

    cr_assert_eq(store_exec_pipeline(qs, 1, 1, params, &res), LICD_OK);
    PQclear(res);
    retype("int");
    one[0] = "3";
    cr_assert_eq(store_exec_pipeline(qs, 1, 1, params, &res), LICD_OK, "a pipeline");
    PQclear(res);

    cr_assert_eq(store_tx(insert_in_tx, "4"), LICD_OK);
    retype("bigint");
    cr_assert_eq(store_tx(insert_in_tx, "5"), LICD_OK, "a transaction");

    cr_assert_eq(store_exec(&Q_STALE_INSERT, 1, (const char *[]){"6"}, 0, &res), LICD_OK);
    PQclear(res);
    retype("int");
    cr_assert_eq(store_exec(&Q_STALE_INSERT, 1, (const char *[]){"7"}, 0, &res), LICD_OK,
                 "a write alone");
    PQclear(res);

    assert_rows("stale_probe", "1,2,3,4,5,6,7", "each ran once");
    store_shutdown();
    cr_assert_eq(it_sql("DROP TABLE stale_probe", NULL), 0);
}

/* A transaction whose connection dies midway is not finished on another
 * one: the read after the loss is not tried again outside it, so the
 * write after that read never commits alone. */
static const store_sql Q_TX_PID = {"tx_pid", "SELECT pg_backend_pid()"};
static const store_sql Q_TX_INSERT = {"tx_insert", "INSERT INTO tx_probe (n) VALUES ($1::int)"};

static int write_lose_write(void *ctx)
{
    PGresult *res;
    char *gone = NULL;
    int rc, pid;
    (void)ctx;
    if ((rc = store_exec(&Q_TX_INSERT, 1, (const char *[]){"1"}, 0, &res)) != LICD_OK)
        return rc;
    PQclear(res);
    if ((rc = store_exec(&Q_TX_PID, 0, NULL, 1, &res)) != LICD_OK)
        return rc;
    pid = (int)store_col_int(res, 0, 0);
    PQclear(res);
    /* returns once the backend is gone (true), or after 5 s (false) */
    cr_assert_eq(it_sql(it_fmt("SELECT pg_terminate_backend(%d, 5000)", pid), &gone), 0);
    cr_assert_str_eq(gone, "t\n", "backend %d still there", pid);
    free(gone);
    if ((rc = store_exec(&Q_TX_PID, 0, NULL, 1, &res)) != LICD_OK) /* the loss shows here */
        return rc;
    PQclear(res);
    rc = store_exec(&Q_TX_INSERT, 1, (const char *[]){"2"}, 0, &res);
    PQclear(res);
    return rc;
}

Test(store, a_transaction_that_loses_its_connection_keeps_nothing)
{
    cr_assert_eq(it_sql("DROP TABLE IF EXISTS tx_probe; CREATE TABLE tx_probe (n int)", NULL), 0);
    cr_assert_eq(store_init(it_env("LICD_DATABASE_URL")), 0);
    cr_assert_eq(store_tx(write_lose_write, NULL), LICD_ERR_UNAVAILABLE);
    assert_rows("tx_probe", "", "a part of the transaction committed");
    store_shutdown();
    cr_assert_eq(it_sql("DROP TABLE tx_probe", NULL), 0);
}

/* A pipelined batching thread keeps one plan a statement until the
 * statistics of its tables change (store_thread_batching), often made
 * while the tables are small: it must still find rows by key once they
 * are large. The plan of an update joined to an array is made on a table
 * of 10 rows; after 200,000 more, it runs again, and the table is never
 * read whole. */
static const store_sql Q_KEYED_TOUCH = {
    "keyed_touch", "UPDATE keyed_probe p SET v = p.v + 1 FROM unnest($1::int[]) AS u(k)"
                   " WHERE p.k = u.k"};

static long long keyed_scans(const char *col)
{
    return it_table_stat(it_env("LICD_DATABASE_URL"), "keyed_probe", col, -1);
}

Test(store, a_batching_session_keeps_plans_that_find_rows_by_key)
{
    const char *keys[1] = {"{1,2,3}"};
    long long scans = 0;
    cr_assert_eq(it_sql("DROP TABLE IF EXISTS keyed_probe;"
                        " CREATE TABLE keyed_probe (k int PRIMARY KEY, v int NOT NULL)"
                        " WITH (autovacuum_enabled = off);"
                        " INSERT INTO keyed_probe SELECT g, 0 FROM generate_series(1, 10) g;"
                        " ANALYZE keyed_probe",
                        NULL),
                 0);
    cr_assert_eq(store_init(it_env("LICD_DATABASE_URL")), 0);
    store_thread_batching(STORE_BATCHING_BY_INDEX);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(store_run(&Q_KEYED_TOUCH, 1, keys), LICD_OK);
    cr_assert_eq(it_sql("INSERT INTO keyed_probe SELECT g, 0 FROM generate_series(11, 200000) g",
                        NULL),
                 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(store_run(&Q_KEYED_TOUCH, 1, keys), LICD_OK);
    store_shutdown(); /* its backend's statistics are sent as it ends */
    for (int i = 0; i < 100 && scans < 6; i++) {
        scans = keyed_scans("seq_scan") - 1 + keyed_scans("idx_scan");
        if (scans < 6)
            usleep(100000);
    }
    cr_assert_geq(scans, 6, "the runs do not show in pg_stat_user_tables");
    /* one: the primary key's build read the empty table */
    cr_assert_eq(keyed_scans("seq_scan"), 1, "a batching session read the whole table");
    cr_assert_eq(it_sql("DROP TABLE keyed_probe", NULL), 0);
}

