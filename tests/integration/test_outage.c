/* PostgreSQL goes away and comes back while licd keeps running: readiness
 * and database-backed requests answer 503, liveness stays 200, and service
 * resumes by itself. tests/run runs this binary alone, after the others. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

Test(outage, database_down_then_back, .timeout = 120)
{
    char *key = it_new_vendor("Outage Ltd");
    it_response r;
    int ready = 0;

    it_request("GET", "/readyz", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    it_response_free(&r);

    cr_assert_eq(it_sh(it_env("LICD_TEST_PG_STOP"), NULL), 0, "could not stop PostgreSQL");

    it_request("GET", "/readyz", NULL, NULL, 0, &r);
    it_assert_problem(&r, 503, "unavailable");
    cr_assert_str_eq(r.retry_after, "1");
    it_response_free(&r);
    it_json("GET", "/v1/vendor", key, NULL, &r);
    it_assert_problem(&r, 503, "unavailable");
    cr_assert(r.retry_after[0]);
    it_response_free(&r);
    it_request("GET", "/healthz", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    it_response_free(&r);

    cr_assert_eq(it_sh(it_env("LICD_TEST_PG_START"), NULL), 0, "could not start PostgreSQL");
    for (int i = 0; i < 100 && !ready; i++) {
        it_request("GET", "/readyz", NULL, NULL, 0, &r);
        ready = r.status == 200;
        it_response_free(&r);
        if (!ready)
            usleep(200 * 1000);
    }
    cr_assert(ready, "licd did not become ready again after PostgreSQL returned");
    /* Every worker's connection recovers, not only the one that answered readyz. */
    for (int i = 0; i < 32; i++) {
        it_json("GET", "/v1/vendor", key, NULL, &r);
        cr_assert_eq(r.status, 200, "request %d after recovery: %s", i, r.body);
        it_response_free(&r);
    }
    free(key);
}
