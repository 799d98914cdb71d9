/* The store's own mechanisms against the real database: a pipeline of
 * statements is one transaction (store_exec_pipeline). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

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

static char *rows(void)
{
    char *out = NULL;
    cr_assert_eq(it_sql("SELECT string_agg(n::text, ',' ORDER BY n) FROM pipeline_probe", &out), 0);
    return out;
}

Test(store, a_pipeline_commits_all_or_nothing)
{
    const char *first[] = {"1", "2", "3"}, *clash[] = {"4", "2", "5"}, *after[] = {"6"};
    long long seen[3] = {-1, -1, -1};
    char *out;

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
    out = rows();
    cr_assert_str_eq(out, "1,2,3\n");
    free(out);

    /* the second run breaks the key: the first is rolled back, the third never runs */
    cr_assert_eq(probe(clash, 3, seen), LICD_ERR_CONFLICT);
    out = rows();
    cr_assert_str_eq(out, "1,2,3\n", "nothing of a failed pipeline is kept");
    free(out);

    /* the connection goes on */
    cr_assert_eq(probe(after, 1, seen), LICD_OK);
    cr_assert_eq(seen[0], 3);
    out = rows();
    cr_assert_str_eq(out, "1,2,3,6\n");
    free(out);

    /* each run its own statement, in the order given, in one transaction */
    {
        const char *mixed[] = {"7", "8", "9"};
        const int tenfold[] = {0, 1, 0};
        cr_assert_eq(probe_with(mixed, 3, tenfold, seen), LICD_OK);
        cr_assert_eq(seen[0], 4);
        cr_assert_eq(seen[1], 5);
        cr_assert_eq(seen[2], 6);
        out = rows();
        cr_assert_str_eq(out, "1,2,3,6,7,9,80\n");
        free(out);
        /* the tenfold run clashes with 80: none of the three is kept */
        cr_assert_eq(probe_with((const char *[]){"10", "8", "11"}, 3, tenfold, seen),
                     LICD_ERR_CONFLICT);
        out = rows();
        cr_assert_str_eq(out, "1,2,3,6,7,9,80\n", "nothing of a failed pipeline is kept");
        free(out);
    }

    store_shutdown();
    cr_assert_eq(it_sql("DROP TABLE pipeline_probe", NULL), 0);
}
