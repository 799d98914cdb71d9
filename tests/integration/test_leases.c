/* Floating seats against the real licd and PostgreSQL: checkout up to the
 * quantity, heartbeats, release, lapses, conversion of unknown leases, and
 * two licd nodes on one database under parallel clients. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct pool {
    char *vendor;
    char customer_id[37], customer[80];
};

static void pool_init(struct pool *p, int quantity)
{
    it_response r;
    p->vendor = it_new_vendor("Seats Vendor");
    it_new_customer(p->vendor, "Seats Customer", p->customer_id, p->customer);
    it_postf("/v1/products", p->vendor, &r, "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/packs", p->vendor, &r,
             "{\"pack_id\":\"floating\",\"customer_id\":\"%s\",\"product\":\"cad\",\"version\":\"7\","
             "\"type\":\"concurrent\",\"quantity\":%d}",
             p->customer_id, quantity);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
}

static void checkout(struct pool *p, const char *client, it_response *r)
{
    it_postf("/v1/leases", p->customer, r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
}

static void heartbeat(struct pool *p, const char *lease, const char *client, it_response *r)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/leases/%s/heartbeat", lease);
    it_postf(path, p->customer, r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
}

static long release(const char *key, const char *lease)
{
    it_response r;
    char path[128];
    long status;
    snprintf(path, sizeof path, "/v1/leases/%s", lease);
    it_json("DELETE", path, key, NULL, &r);
    status = r.status;
    it_response_free(&r);
    return status;
}

Test(leases, checkout_up_to_the_quantity_heartbeat_and_release)
{
    struct pool p;
    it_response r;
    char first[40];
    pool_init(&p, 3);
    for (int i = 0; i < 3; i++) {
        char client[16];
        snprintf(client, sizeof client, "ws-%d", i);
        checkout(&p, client, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        cr_assert_eq(cJSON_GetObjectItem(r.json, "heartbeat_interval_s")->valueint, 40);
        cr_assert_gt(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "servers")), 0);
        cr_assert(it_str(&r, "expires_at"));
        if (i == 0)
            snprintf(first, sizeof first, "%s", it_str(&r, "lease_id"));
        it_response_free(&r);
    }
    checkout(&p, "ws-late", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    /* A client that checks out again (a retry after a lost answer) gets the
     * seat it holds, never a second one. */
    checkout(&p, "ws-0", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "lease_id"), first);
    it_response_free(&r);

    heartbeat(&p, first, "ws-0", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "lease_id"), first);
    it_response_free(&r);

    cr_assert_eq(release(p.customer, first), 204);
    cr_assert_eq(release(p.customer, first), 204, "releasing twice is harmless");
    checkout(&p, "ws-late", &r);
    cr_assert_eq(r.status, 201, "a released seat is free at once: %s", r.body);
    it_response_free(&r);
    /* The released lease is gone: its heartbeat is a new checkout, and none is free. */
    heartbeat(&p, first, "ws-0", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    free(p.vendor);
}

Test(leases, a_heartbeat_on_an_unknown_lease_becomes_a_checkout)
{
    struct pool p;
    it_response r;
    pool_init(&p, 1);
    heartbeat(&p, "7b0c1a6e-1111-4222-8333-944455556666", "moved-here", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_neq(it_str(&r, "lease_id"), "7b0c1a6e-1111-4222-8333-944455556666");
    it_response_free(&r);
    heartbeat(&p, "not-even-a-uuid", "another", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    free(p.vendor);
}

Test(leases, a_lapsed_lease_frees_its_seat, .timeout = 60)
{
    struct pool p;
    it_response r;
    char lease[40], log[512], url[64], *dir = it_tmpdir();
    const char *env[] = {"LICD_LEASE_TTL=3", NULL};
    int port = it_free_port(), pid;
    snprintf(log, sizeof log, "%s/licd.log", dir);
    pid = it_start_licd(env, log, port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    it_use_url(url);

    pool_init(&p, 1);
    checkout(&p, "a", &r);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "heartbeat_interval_s")->valueint, 1);
    snprintf(lease, sizeof lease, "%s", it_str(&r, "lease_id"));
    it_response_free(&r);
    checkout(&p, "b", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    sleep(4);
    checkout(&p, "b", &r);
    cr_assert_eq(r.status, 201, "the lapsed lease still holds its seat: %s", r.body);
    it_response_free(&r);
    /* The lapsed lease's heartbeat cannot take the seat back. */
    heartbeat(&p, lease, "a", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(p.vendor);
}

struct racer {
    struct pool *p;
    const char *url;
    char client[16];
    long status;
};

static void *race(void *arg)
{
    struct racer *x = arg;
    it_response r;
    it_use_url(x->url);
    checkout(x->p, x->client, &r);
    x->status = r.status;
    it_response_free(&r);
    return NULL;
}

Test(leases, two_nodes_never_oversell, .timeout = 120)
{
    enum { N = 64 };
    struct pool p;
    struct racer x[N];
    pthread_t t[N];
    char log[512], second[64], sql[512], *out, *dir = it_tmpdir();
    int port = it_free_port(), pid, granted = 0;

    snprintf(log, sizeof log, "%s/licd.log", dir);
    pid = it_start_licd(NULL, log, port);
    snprintf(second, sizeof second, "http://127.0.0.1:%d", port);
    pool_init(&p, 10);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){&p, i % 2 ? second : it_env("LICD_TEST_URL"), "", 0};
        snprintf(x[i].client, sizeof x[i].client, "c-%02d", i);
        pthread_create(&t[i], NULL, race, &x[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_assert(x[i].status == 201 || x[i].status == 403, "got %ld", x[i].status);
        granted += x[i].status == 201;
    }
    cr_assert_eq(granted, 10);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM leases WHERE customer_id = '%s' AND released_at IS NULL"
             " AND expires_at > now()", p.customer_id);
    cr_assert_eq(it_sql(sql, &out), 0);
    cr_assert_eq(atoi(out), 10);
    free(out);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(p.vendor);
}

Test(leases, bad_input_and_other_tenants_change_nothing)
{
    struct pool p, q;
    it_response r;
    char lease[40];
    static const char *const bad[] = {
        "{\"client_id\":\"x\"}", "{\"product\":\"cad\"}", "{\"product\":1,\"client_id\":\"x\"}",
        "{\"product\":\"cad\",\"client_id\":\"\"}",
    };
    pool_init(&p, 1);
    pool_init(&q, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_json("POST", "/v1/leases", p.customer, bad[i], &r);
        it_assert_problem(&r, 400, "invalid_field");
        it_response_free(&r);
    }
    it_json("POST", "/v1/leases", p.customer, "{\"product\":", &r);
    it_assert_problem(&r, 400, "malformed_json");
    it_response_free(&r);
    it_json("POST", "/v1/leases", p.vendor, bad[0], &r);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    it_json("POST", "/v1/leases", NULL, bad[0], &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    it_postf("/v1/leases", p.customer, &r, "{\"product\":\"nosuch\",\"client_id\":\"x\"}");
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);

    checkout(&p, "mine", &r);
    cr_assert_eq(r.status, 201);
    snprintf(lease, sizeof lease, "%s", it_str(&r, "lease_id"));
    it_response_free(&r);
    /* Another customer can neither release nor extend it. */
    cr_assert_eq(release(q.customer, lease), 404);
    heartbeat(&q, lease, "mine", &r);
    cr_assert_eq(r.status, 201, "q's heartbeat is a checkout in q's own pool: %s", r.body);
    cr_assert_str_neq(it_str(&r, "lease_id"), lease);
    it_response_free(&r);
    heartbeat(&p, lease, "mine", &r);
    cr_assert_eq(r.status, 200, "the lease is intact: %s", r.body);
    it_response_free(&r);
    cr_assert_eq(release(p.customer, "nope"), 404);
    free(p.vendor);
    free(q.vendor);
}
