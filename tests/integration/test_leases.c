/* Floating seats against the real licd and PostgreSQL: checkout up to the
 * quantity, heartbeats, release, lapses, conversion of unknown leases, the
 * pack's count of live leases and the vendor's list of them, and two licd
 * nodes on one database under parallel clients. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    char path[256];
    snprintf(path, sizeof path, "/v1/leases/%s/heartbeat", lease);
    it_postf(path, p->customer, r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
}

/* A checkout that must take a seat: its lease id into lease. */
static void checked_out(struct pool *p, const char *client, char lease[40])
{
    it_response r;
    checkout(p, client, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(lease, 40, "%s", it_str(&r, "lease_id"));
    it_response_free(&r);
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

/* A licd of the test's own (LICD_LEASE_TTL=3 and such), which the test's
 * requests go to until node_stop. */
struct node {
    int pid;
    char *dir, url[64];
};

static void node_start(struct node *n, const char *const *env)
{
    n->pid = it_start_node(env, n->url, sizeof n->url, &n->dir);
    it_use_url(n->url);
}

static void node_stop(struct node *n)
{
    cr_assert_eq(it_stop_licd(n->pid), 0);
    it_rmdir(n->dir);
}

/* The pack's assigned, as GET /v1/packs/floating answers it. */
static int assigned(const struct pool *p)
{
    it_response r;
    int n;
    it_json("GET", "/v1/packs/floating", p->vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    n = cJSON_GetObjectItem(r.json, "assigned")->valueint;
    it_response_free(&r);
    return n;
}

/* The leases GET /v1/leases?query lists, read two a page through the
 * cursors: their ids into ids (at most max); how many. */
static int listed(const struct pool *p, const char *query, char (*ids)[40], int max)
{
    char path[512], next[128] = "";
    int n = 0;
    do {
        it_response r;
        const cJSON *item, *cursor;
        snprintf(path, sizeof path, "/v1/leases?%s&limit=2%s%s", query, *next ? "&cursor=" : "",
                 next);
        it_json("GET", path, p->vendor, NULL, &r);
        cr_assert_eq(r.status, 200, "GET %s: %s", path, r.body);
        cJSON_ArrayForEach(item, cJSON_GetObjectItem(r.json, "items"))
        {
            cr_assert_lt(n, max, "more leases than %d: %s", max, r.body);
            cr_assert_str_eq(it_member_str(item, "pack_id"), "floating");
            cr_assert(*it_member_str(item, "client_id"));
            cr_assert_eq(strlen(it_member_str(item, "checked_out_at")), 20);
            cr_assert_eq(strlen(it_member_str(item, "expires_at")), 20);
            snprintf(ids[n++], sizeof ids[0], "%s", it_member_str(item, "lease_id"));
        }
        cursor = cJSON_GetObjectItem(r.json, "next");
        snprintf(next, sizeof next, "%s", cJSON_IsString(cursor) ? cursor->valuestring : "");
        it_response_free(&r);
    } while (*next);
    return n;
}

/* Whether lease is among the n ids. */
static int has(char (*ids)[40], int n, const char *lease)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ids[i], lease) == 0)
            return 1;
    return 0;
}

/* One fact about a lease from the database ("t"/"f" and such). */
static char *lease_fact(const char *lease, const char *expr)
{
    char sql[256], *out;
    snprintf(sql, sizeof sql, "SELECT %s FROM leases WHERE id = '%s'", expr, lease);
    cr_assert_eq(it_sql(sql, &out), 0, "psql: %s", out);
    out[strcspn(out, "\n")] = '\0';
    return out;
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

/* A heartbeat whose lease row another transaction holds locked waits 2 s
 * at most (the batch's lock_timeout) and answers 503, extending nothing;
 * once the lock is gone, heartbeats are extended again. On a node of its
 * own: the other heartbeats of a stuck batch get the same 503. */
Test(leases, a_heartbeat_stuck_behind_a_lock_answers_503, .timeout = 60)
{
    struct pool p;
    struct node n;
    const char *env[] = {NULL};
    it_response r;
    char lease[40], cmd[1024], *before, *after, *out = NULL;
    double t0, waited;
    node_start(&n, env);
    pool_init(&p, 2);
    checked_out(&p, "ws-locked", lease);
    before = lease_fact(lease, "expires_at");

    /* psql holds the row for 6 s, in the background (its own session) */
    snprintf(cmd, sizeof cmd,
             "psql '%s' -qAtc \"BEGIN; SELECT 1 FROM leases WHERE id = '%s' FOR UPDATE;"
             " SELECT pg_sleep(6); COMMIT\" >/dev/null 2>&1 & sleep 1",
             it_env("LICD_DATABASE_URL"), lease);
    cr_assert_eq(it_sh(cmd, &out), 0);
    free(out);
    sleep(1); /* a new second: an extension would show in expires_at */
    t0 = it_now();
    heartbeat(&p, lease, "ws-locked", &r);
    waited = it_now() - t0;
    it_assert_problem(&r, 503, "unavailable");
    cr_assert_str_not_empty(r.retry_after, "503 with Retry-After");
    it_response_free(&r);
    cr_assert(waited >= 1.5 && waited < 5.0, "answered after %.1f s", waited);
    after = lease_fact(lease, "expires_at");
    cr_assert_str_eq(after, before, "nothing extended");
    free(after);

    sleep(5); /* the lock is gone */
    heartbeat(&p, lease, "ws-locked", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    after = lease_fact(lease, "expires_at");
    cr_assert_str_neq(after, before, "extended once the lock is gone");
    free(after);
    free(before);
    free(p.vendor);
    node_stop(&n);
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
    struct node n;
    it_response r;
    char lease[40], *fact;
    const char *env[] = {"LICD_LEASE_TTL=3", NULL};

    node_start(&n, env);
    pool_init(&p, 1);
    checkout(&p, "a", &r);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "heartbeat_interval_s")->valueint, 1);
    snprintf(lease, sizeof lease, "%s", it_str(&r, "lease_id"));
    it_response_free(&r);
    checkout(&p, "b", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    sleep(4);
    /* The pack is full of a lease that lapsed: the checkout releases it. */
    checkout(&p, "b", &r);
    cr_assert_eq(r.status, 201, "the lapsed lease still holds its seat: %s", r.body);
    it_response_free(&r);
    fact = lease_fact(lease, "released_at = expires_at");
    cr_assert_str_eq(fact, "t", "released as of its expiry");
    free(fact);
    /* The lapsed lease's heartbeat cannot take the seat back. */
    heartbeat(&p, lease, "a", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    cr_assert_eq(assigned(&p), 1);
    /* b lapses too: reading the pack releases it. */
    sleep(4);
    cr_assert_eq(assigned(&p), 0);
    node_stop(&n);
    free(p.vendor);
}

Test(leases, the_pack_and_the_list_count_live_leases, .timeout = 60)
{
    enum { N = 5 };
    struct pool p;
    struct node n;
    it_response r;
    char lease[N][40], ids[8][40], query[128], again[40], *fact;
    const char *env[] = {"LICD_LEASE_TTL=3", NULL};

    node_start(&n, env);
    pool_init(&p, N + 1);
    snprintf(query, sizeof query, "customer_id=%s&product=cad", p.customer_id);
    for (int i = 0; i < N; i++) {
        char client[16];
        snprintf(client, sizeof client, "ws-%d", i);
        checked_out(&p, client, lease[i]);
    }
    cr_assert_eq(assigned(&p), N);
    cr_assert_eq(listed(&p, "pack_id=floating", ids, 8), N);
    for (int i = 0; i < N; i++)
        cr_assert(has(ids, N, lease[i]), "lease %d is not listed", i);
    cr_assert_eq(listed(&p, query, ids, 8), N);

    /* ws-4 stops its heartbeats and lapses; the others keep their seats. */
    for (int t = 0; t < 5; t++) {
        sleep(1);
        for (int i = 0; i < N - 1; i++) {
            char client[16];
            snprintf(client, sizeof client, "ws-%d", i);
            heartbeat(&p, lease[i], client, &r);
            cr_assert_eq(r.status, 200, "%s", r.body);
            it_response_free(&r);
        }
    }
    cr_assert_eq(listed(&p, query, ids, 8), N - 1);
    cr_assert_not(has(ids, N - 1, lease[N - 1]));
    /* Back again: its lapsed lease, which nothing released yet, is released
     * as of its expiry and it gets a new one. */
    checkout(&p, "ws-4", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(again, sizeof again, "%s", it_str(&r, "lease_id"));
    cr_assert_str_neq(again, lease[N - 1]);
    it_response_free(&r);
    fact = lease_fact(lease[N - 1], "released_at = expires_at");
    cr_assert_str_eq(fact, "t");
    free(fact);
    cr_assert_eq(assigned(&p), N);
    cr_assert_eq(release(p.customer, again), 204);
    cr_assert_eq(assigned(&p), N - 1);
    cr_assert_eq(listed(&p, "pack_id=floating", ids, 8), N - 1);
    /* Releasing decrements once; a second release changes nothing. */
    cr_assert_eq(release(p.customer, lease[0]), 204);
    cr_assert_eq(release(p.customer, lease[0]), 204);
    cr_assert_eq(assigned(&p), N - 2);
    cr_assert_eq(listed(&p, "pack_id=floating", ids, 8), N - 2);
    node_stop(&n);
    free(p.vendor);
}

Test(leases, the_maintenance_thread_releases_lapsed_leases, .timeout = 60)
{
    struct pool p;
    struct node n;
    char lease[40], sql[256], *fact, *out = NULL;
    const char *env[] = {"LICD_LEASE_TTL=3", "LICD_MAINTENANCE_INTERVAL=1", NULL};

    node_start(&n, env);
    pool_init(&p, 2);
    checked_out(&p, "a", lease);
    /* Nobody asks for the pack or a seat: the thread alone releases it. */
    for (int i = 0; i < 100; i++) {
        fact = lease_fact(lease, "released_at IS NOT NULL");
        if (strcmp(fact, "t") == 0)
            break;
        free(fact);
        fact = NULL;
        usleep(100 * 1000);
    }
    cr_assert(fact, "the lapsed lease was not released");
    free(fact);
    fact = lease_fact(lease, "released_at = expires_at");
    cr_assert_str_eq(fact, "t");
    free(fact);
    snprintf(sql, sizeof sql,
             "SELECT assigned FROM packs WHERE customer_id = '%s' AND pack_id = 'floating'",
             p.customer_id);
    cr_assert_eq(it_sql(sql, &out), 0);
    cr_assert_eq(atoi(out), 0);
    free(out);
    node_stop(&n);
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
    char second[64], sql[512], *out, *dir;
    int pid, granted = 0;

    pid = it_start_node(NULL, second, sizeof second, &dir);
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
    cr_assert_eq(assigned(&p), 10);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(p.vendor);
}

/* Checkouts that come in while a batch waits for the pack's row are
 * written together (store/leases.c), and none holds an HTTP worker
 * meanwhile: on a node of its own with one worker thread, psql holds the
 * row for a second, the first batch waits for it, the checkouts that come
 * in meanwhile share the batch after it, and the JWKS is answered at once,
 * long before them. The node's /metrics count only these (it is stopped
 * before the checks: a failed one leaves no node behind). */
Test(leases, checkouts_queued_behind_a_batch_share_the_next, .timeout = 60)
{
    enum { N = 6 };
    struct pool p;
    struct node n;
    const char *env[] = {"LICD_THREADS=1", NULL};
    struct racer x[N];
    it_batches before, after;
    it_meanwhile m;
    int taken;

    node_start(&n, env);
    pool_init(&p, N);
    it_batched("checkouts", &before);
    it_hold_packs(p.customer_id);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){&p, n.url, "", 0};
        snprintf(x[i].client, sizeof x[i].client, "q-%d", i);
    }
    it_race_behind_a_lock(race, x, sizeof *x, N, &m);
    it_batched("checkouts", &after);
    taken = assigned(&p);
    node_stop(&n);
    it_assert_worker_was_free(&m);
    for (int i = 0; i < N; i++)
        cr_assert_eq(x[i].status, 201, "got %ld", x[i].status);
    /* The first batch waits for psql; the rest share the next. */
    it_assert_shared_batches(&before, &after, N);
    cr_assert_eq(taken, N);
    free(p.vendor);
}

Test(leases, bad_input_and_other_tenants_change_nothing)
{
    struct pool p, q;
    it_response r;
    char lease[40], *expires, *now;
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
    it_assert_problem(&r, 403, "no_concurrent_pack");
    it_response_free(&r);

    checked_out(&p, "mine", lease);
    expires = lease_fact(lease, "expires_at");
    /* Bad heartbeat bodies: refused, and the lease is not extended. */
    {
        static const char *const beats[][2] = {
            {"{\"product\":\"cad\",", "malformed_json"},
            {"[\"cad\",\"mine\"]", "malformed_json"},
            {"", "malformed_json"},
            {"{}", "invalid_field"},
            {"{\"client_id\":\"mine\"}", "invalid_field"},
            {"{\"product\":\"cad\"}", "invalid_field"},
            {"{\"product\":7,\"client_id\":\"mine\"}", "invalid_field"},
            {"{\"product\":\"cad\",\"client_id\":7}", "invalid_field"},
            {"{\"product\":\"cad\",\"client_id\":[\"mine\"]}", "invalid_field"},
            {"{\"product\":\"cad\",\"client_id\":null}", "invalid_field"},
            {"{\"product\":\"cad\",\"client_id\":\"\"}", "invalid_field"},
        };
        char path[128];
        snprintf(path, sizeof path, "/v1/leases/%s/heartbeat", lease);
        usleep(20 * 1000); /* an extension now would move expires_at */
        for (size_t i = 0; i < sizeof beats / sizeof beats[0]; i++)
            it_json_problem("POST", path, p.customer, beats[i][0], 400, beats[i][1]);
        it_json_problem("POST", path, NULL, "{\"product\":\"cad\",\"client_id\":\"mine\"}", 401,
                        "unauthorized");
        it_json_problem("POST", path, p.vendor, "{\"product\":\"cad\",\"client_id\":\"mine\"}", 403,
                        "forbidden");
        {
            const char *h[] = {"Content-Type: text/plain",
                               it_fmt("Authorization: Bearer %s", p.customer), NULL};
            const char *body = "{\"product\":\"cad\",\"client_id\":\"mine\"}";
            it_request("POST", path, h, body, strlen(body), &r);
            it_assert_problem(&r, 415, "unsupported_media_type");
            it_response_free(&r);
        }
        now = lease_fact(lease, "expires_at");
        cr_assert_str_eq(now, expires, "a refused heartbeat extended the lease");
        free(now);
    }
    /* Another customer can neither release nor extend it. */
    cr_assert_eq(release(q.customer, lease), 404);
    heartbeat(&q, lease, "mine", &r);
    cr_assert_eq(r.status, 201, "q's heartbeat is a checkout in q's own pool: %s", r.body);
    cr_assert_str_neq(it_str(&r, "lease_id"), lease);
    it_response_free(&r);
    now = lease_fact(lease, "expires_at");
    cr_assert_str_eq(now, expires, "another customer's heartbeat extended the lease");
    free(now);
    cr_assert_eq(assigned(&p), 1);
    heartbeat(&p, lease, "mine", &r);
    cr_assert_eq(r.status, 200, "the lease is intact: %s", r.body);
    it_response_free(&r);
    now = lease_fact(lease, "expires_at");
    cr_assert_str_neq(now, expires, "its own heartbeat extends it");
    free(now);
    free(expires);
    cr_assert_eq(release(p.customer, "nope"), 404);
    free(p.vendor);
    free(q.vendor);
}

struct twin {
    struct pool *p;
    const char *url;
    long status;
    char lease[40];
};

static void *twin_checkout(void *arg)
{
    struct twin *x = arg;
    it_response r;
    it_use_url(x->url);
    checkout(x->p, "twin", &r);
    x->status = r.status;
    if (r.status == 200 || r.status == 201)
        snprintf(x->lease, sizeof x->lease, "%s", it_str(&r, "lease_id"));
    it_response_free(&r);
    return NULL;
}

/* One client checking out many times at once, through two nodes: one
 * seat, one lease, whoever wins. */
Test(leases, a_client_racing_itself_holds_one_seat, .timeout = 120)
{
    enum { N = 16 };
    struct pool p;
    struct node n;
    struct twin x[N];
    pthread_t t[N];
    char sql[256], *out;
    int created = 0;

    node_start(&n, NULL);
    pool_init(&p, 5);
    for (int i = 0; i < N; i++) {
        x[i] = (struct twin){&p, i % 2 ? n.url : it_env("LICD_TEST_URL"), 0, ""};
        pthread_create(&t[i], NULL, twin_checkout, &x[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_assert(x[i].status == 200 || x[i].status == 201, "got %ld", x[i].status);
        created += x[i].status == 201;
        cr_assert_str_eq(x[i].lease, x[0].lease);
    }
    cr_assert_eq(created, 1);
    cr_assert_eq(assigned(&p), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM leases WHERE customer_id = '%s' AND released_at IS NULL",
             p.customer_id);
    cr_assert_eq(it_sql(sql, &out), 0);
    cr_assert_eq(atoi(out), 1);
    free(out);
    node_stop(&n);
    free(p.vendor);
}

/* A client id that needs quoting in the heartbeat batch's arrays. */
Test(leases, odd_client_ids_keep_their_lease)
{
    struct pool p;
    it_response r;
    char lease[40];
    const char *client = "{\\\"a,b\\\\ c}\\u00e9";
    char path[128];
    pool_init(&p, 1);
    it_postf("/v1/leases", p.customer, &r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(lease, sizeof lease, "%s", it_str(&r, "lease_id"));
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/leases/%s/heartbeat", lease);
    for (int i = 0; i < 2; i++) {
        it_postf(path, p.customer, &r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_str_eq(it_str(&r, "lease_id"), lease);
        it_response_free(&r);
    }
    free(p.vendor);
}

Test(leases, no_concurrent_pack_names_the_cause)
{
    struct pool p;
    it_response r;
    pool_init(&p, 1);
    it_created("/v1/products", p.vendor, "{\"code\":\"seats\",\"name\":\"Seats\",\"version\":\"1\"}");
    it_created("/v1/packs", p.vendor,
               "{\"customer_id\":\"%s\",\"product\":\"seats\",\"version\":\"1\","
               "\"type\":\"per_device\",\"quantity\":5}", p.customer_id);
    it_created("/v1/products", p.vendor, "{\"code\":\"later\",\"name\":\"Later\",\"version\":\"1\"}");
    it_created("/v1/packs", p.vendor,
               "{\"customer_id\":\"%s\",\"product\":\"later\",\"version\":\"1\","
               "\"type\":\"concurrent\",\"quantity\":5,\"first_active\":\"2999-01-01T00:00:00Z\"}",
               p.customer_id);
    it_created("/v1/products", p.vendor, "{\"code\":\"past\",\"name\":\"Past\",\"version\":\"1\"}");
    it_created("/v1/packs", p.vendor,
               "{\"customer_id\":\"%s\",\"product\":\"past\",\"version\":\"1\","
               "\"type\":\"concurrent\",\"quantity\":5,\"first_active\":\"2020-01-01T00:00:00Z\","
               "\"expires\":\"2021-01-01T00:00:00Z\"}",
               p.customer_id);
    static const char *const products[] = {"seats", "later", "past", "nosuch"};
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        it_postf("/v1/leases", p.customer, &r, "{\"product\":\"%s\",\"client_id\":\"x\"}",
                 products[i]);
        it_assert_problem(&r, 403, "no_concurrent_pack");
        cr_assert(strstr(it_str(&r, "detail"), products[i]), "%s", r.body);
        it_response_free(&r);
    }
    /* A full pack is another matter. */
    checkout(&p, "a", &r);
    cr_assert_eq(r.status, 201);
    it_response_free(&r);
    checkout(&p, "b", &r);
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    free(p.vendor);
}

Test(leases, the_list_takes_one_filter_of_the_vendor)
{
    struct pool p, q;
    it_response r;
    char path[256], ids[4][40];
    pool_init(&p, 2);
    pool_init(&q, 2);
    it_created("/v1/packs", p.vendor,
               "{\"pack_id\":\"p-only\",\"customer_id\":\"%s\",\"product\":\"cad\","
               "\"version\":\"7\",\"type\":\"concurrent\",\"quantity\":1}", p.customer_id);
    checkout(&p, "mine", &r);
    cr_assert_eq(r.status, 201);
    it_response_free(&r);

    static const char *const bad[] = {
        "/v1/leases", "/v1/leases?product=cad", "/v1/leases?pack_id=floating&product=cad",
        "/v1/leases?pack_id=floating&cursor=%21%21", "/v1/leases?pack_id=floating&limit=0",
        "/v1/leases?customer_id=not-a-uuid",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        it_json_problem("GET", bad[i], p.vendor, NULL, 400, "invalid_field");
    snprintf(path, sizeof path, "/v1/leases?pack_id=floating&customer_id=%s", p.customer_id);
    it_json_problem("GET", path, p.vendor, NULL, 400, "invalid_field");

    /* Another vendor's pack or customer, or a product the vendor lacks. */
    it_json_problem("GET", "/v1/leases?pack_id=p-only", q.vendor, NULL, 404, "not_found");
    snprintf(path, sizeof path, "/v1/leases?customer_id=%s", p.customer_id);
    it_json_problem("GET", path, q.vendor, NULL, 404, "not_found");
    snprintf(path, sizeof path, "/v1/leases?customer_id=%s&product=nosuch", p.customer_id);
    it_json_problem("GET", path, p.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/leases?pack_id=floating", p.customer, NULL, 403, "forbidden");
    it_json_problem("GET", "/v1/leases?pack_id=floating", NULL, NULL, 401, "unauthorized");

    /* Each vendor sees its own. */
    cr_assert_eq(listed(&p, "pack_id=floating", ids, 4), 1);
    cr_assert_eq(listed(&q, "pack_id=floating", ids, 4), 0);
    snprintf(path, sizeof path, "customer_id=%s", p.customer_id);
    cr_assert_eq(listed(&p, path, ids, 4), 1);
    free(p.vendor);
    free(q.vendor);
}
