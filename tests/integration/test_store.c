/* The store's own mechanisms against the real database: a pipeline of
 * statements is one transaction (store_exec_pipeline). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "store/db.h"
#include "store/sql.h"

/* Each run inserts its number and says how many rows it saw before it. */
static const store_sql Q_PROBE = {
    "pipeline_probe",
    "INSERT INTO pipeline_probe (n) VALUES ($1::int) RETURNING (SELECT count(*) FROM pipeline_probe)"};

/* Runs Q_PROBE once for each of the n numbers; *seen gets each run's count. */
static int probe(const char *const *numbers, size_t n, long long *seen)
{
    const char *const *params[8];
    PGresult *res[8];
    int rc;
    for (size_t i = 0; i < n; i++)
        params[i] = &numbers[i];
    rc = store_exec_pipeline(&Q_PROBE, 1, n, params, res);
    for (size_t i = 0; i < n; i++) {
        if (rc == LICD_OK)
            seen[i] = store_col_int(res[i], 0, 0);
        else
            cr_assert_null(res[i], "a failed pipeline leaves no result");
        PQclear(res[i]);
    }
    return rc;
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

    store_shutdown();
    cr_assert_eq(it_sql("DROP TABLE pipeline_probe", NULL), 0);
}
