/* Per-key rate limits (a licd of the test's own with a low LICD_RATE_LIMIT)
 * and Idempotency-Key on POST (the licd tests/run started). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "store/db.h"
#include "store/maintenance.h"

#define RATE 5 /* requests a second per key; bursts of 10 */

/* ---- rate limits ---- */

struct node {
    int pid;
    char *dir;
    char url[64];
};

/* A licd of the test's own with LICD_RATE_LIMIT=rate and, when failures
 * is not NULL, LICD_AUTH_FAILURE_RATE=failures. */
static void start_node_with(struct node *n, const char *rate, const char *failures)
{
    char setting[64], failure_setting[64];
    const char *env[] = {setting, failures ? failure_setting : NULL, NULL};
    snprintf(setting, sizeof setting, "LICD_RATE_LIMIT=%s", rate);
    snprintf(failure_setting, sizeof failure_setting, "LICD_AUTH_FAILURE_RATE=%s",
             failures ? failures : "");
    n->pid = it_start_node(env, n->url, sizeof n->url, &n->dir);
    it_use_url(n->url);
}

static void start_node(struct node *n, const char *rate) { start_node_with(n, rate, NULL); }

static void stop_node(struct node *n)
{
    it_use_url(it_env("LICD_TEST_URL"));
    cr_assert_eq(it_stop_licd(n->pid), 0, "licd exited badly; see %s/licd.log", n->dir);
    it_rmdir(n->dir);
}

static long header_num(const char *v) { return *v ? atol(v) : -1; }

/* Asserts the RateLimit headers of an answer to a keyed request. */
static void assert_ratelimit_headers(const it_response *r)
{
    cr_assert_eq(header_num(r->ratelimit_limit), RATE, "RateLimit-Limit: \"%s\"", r->ratelimit_limit);
    cr_assert_geq(header_num(r->ratelimit_remaining), 0, "RateLimit-Remaining: \"%s\"",
                  r->ratelimit_remaining);
    cr_assert_leq(header_num(r->ratelimit_remaining), 2 * RATE);
    cr_assert(header_num(r->ratelimit_reset) == 0 || header_num(r->ratelimit_reset) == 1,
              "RateLimit-Reset: \"%s\"", r->ratelimit_reset);
}

/* Sends GET path with key until the first 429 (at most 100 requests);
 * returns how many were served, checking every answer's headers. */
static int until_limited(const char *path, const char *key, it_response *limited)
{
    int served = 0;
    for (int i = 0; i < 100; i++) {
        it_json("GET", path, key, NULL, limited);
        assert_ratelimit_headers(limited);
        if (limited->status == 429)
            return served;
        cr_assert_eq(limited->status, 200, "%s", limited->body);
        served++;
        it_response_free(limited);
    }
    cr_assert_fail("100 requests of one key in a row were never limited");
    return served;
}

Test(rate_limits, a_burst_over_the_limit_is_429_and_other_keys_are_not_slowed, .timeout = 120)
{
    struct node n;
    it_response r;
    char *a, *b, cid[40], ckey[80], sql[256];
    double t0, elapsed;
    int served;

    start_node(&n, "5");
    a = it_new_vendor("Limited A");
    b = it_new_vendor("Limited B");
    it_new_customer(a, "A's customer", cid, ckey);

    t0 = it_now();
    served = until_limited("/v1/vendor", a, &r);
    elapsed = it_now() - t0;
    /* The burst (2 x RATE) plus what refilled meanwhile, the one that made
     * the customer included. */
    cr_assert_geq(served, 2 * RATE - 2, "only %d served before the first 429", served);
    cr_assert_leq(served, 2 * RATE + (int)(elapsed * RATE) + 1, "%d served in %.2f s", served,
                  elapsed);
    it_assert_problem(&r, 429, "rate_limited");
    cr_assert_geq(atoi(r.retry_after), 1, "Retry-After: \"%s\"", r.retry_after);
    cr_assert_str_eq(r.ratelimit_remaining, "0");
    cr_assert_str_eq(r.ratelimit_reset, "1");
    it_response_free(&r);

    /* A limited request does nothing: no customer is made. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM customers c JOIN vendors v ON v.id = c.vendor_id"
             " WHERE v.name = 'Limited A'");
    {
        long long before = it_sql_num(sql);
        it_postf("/v1/customers", a, &r, "{\"name\":\"not made\"}");
        if (r.status == 429) {
            it_assert_problem(&r, 429, "rate_limited");
            cr_assert_eq(it_sql_num(sql), before);
        }
        it_response_free(&r);
    }

    /* Meanwhile another vendor's key, and A's customer's key, are served at once. */
    it_json("GET", "/v1/vendor", b, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.ratelimit_remaining, "9");
    it_response_free(&r);
    it_json("POST", "/v1/challenges", ckey, "{}", &r);
    cr_assert_neq(r.status, 429, "%s", r.body);
    assert_ratelimit_headers(&r);
    it_response_free(&r);

    /* A second later the key is served again (RATE tokens came back). */
    sleep(1);
    it_json("GET", "/v1/vendor", a, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    assert_ratelimit_headers(&r);
    it_response_free(&r);

    /* The sustained rate is served: RATE requests a second for 3 s. */
    sleep(2);
    for (int i = 0; i < 3 * RATE; i++) {
        it_json("GET", "/v1/vendor", b, NULL, &r);
        cr_assert_eq(r.status, 200, "request %d at the sustained rate: %s", i, r.body);
        it_response_free(&r);
        usleep(1000000 / RATE);
    }

    free(a);
    free(b);
    stop_node(&n);
}

/* Look-ups of keys a node does not hold in its cache (unknown ones, or
 * new to it) from one address: LICD_AUTH_FAILURE_RATE (here 1) a second,
 * bursts of 2; beyond, 429 before the look-up. A key the node has cached
 * costs nothing and is never refused for it, and a request without a key is
 * never counted. */
Test(rate_limits, key_lookups_from_one_address, .timeout = 120)
{
    struct node n;
    it_response r;
    char *a, unknown[80];
    double t0, limited_at;
    int refused = 0;

    start_node_with(&n, "1000", "1");
    a = it_new_vendor("Look-ups A");
    snprintf(unknown, sizeof unknown, "lv_%064d", 7);

    /* The genuine key's first use is a look-up that finds it (its token
     * comes back); then it is cached. */
    it_json("GET", "/v1/vendor", a, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    t0 = it_now();
    for (;; refused++) {
        cr_assert_lt(refused, 20, "20 unknown keys in a row were never limited");
        it_json("GET", "/v1/vendor", unknown, NULL, &r);
        if (r.status == 429)
            break;
        it_assert_problem(&r, 401, "unauthorized");
        it_response_free(&r);
    }
    limited_at = it_now();
    cr_assert_geq(refused, 2, "only %d unknown keys looked up before the first 429", refused);
    cr_assert_leq(refused, 2 + (int)(limited_at - t0) + 1, "%d in %.2f s", refused,
                  limited_at - t0);
    it_assert_problem(&r, 429, "rate_limited");
    cr_assert_geq(atoi(r.retry_after), 1, "Retry-After: \"%s\"", r.retry_after);
    cr_assert(strstr(r.body, "a second from 127.0.0.1"), "%s", r.body);
    it_response_free(&r);

    /* Meanwhile the cached genuine key is served, a request without a key
     * is a plain 401, and (within the second) another unknown key is 429. */
    it_json("GET", "/v1/vendor", a, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    it_json("GET", "/v1/vendor", NULL, NULL, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    it_json("GET", "/v1/vendor", unknown, NULL, &r);
    if (it_now() - limited_at < 0.9)
        it_assert_problem(&r, 429, "rate_limited");
    it_response_free(&r);

    /* A second later a look-up is allowed again. */
    sleep(1);
    it_json("GET", "/v1/vendor", unknown, NULL, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    free(a);
    stop_node(&n);
}

Test(rate_limits, never_on_health_readiness_metrics_or_jwks, .timeout = 120)
{
    static const char *const open_paths[] = {"/healthz", "/readyz", "/metrics",
                                             "/.well-known/jwks.json"};
    struct node n;
    it_response r;

    start_node(&n, "1");
    for (size_t p = 0; p < sizeof open_paths / sizeof open_paths[0]; p++)
        for (int i = 0; i < 20; i++) {
            it_request("GET", open_paths[p], NULL, NULL, 0, &r);
            cr_assert_eq(r.status, 200, "%s #%d: %ld", open_paths[p], i, r.status);
            cr_assert_str_eq(r.ratelimit_limit, "", "%s carries RateLimit-Limit", open_paths[p]);
            cr_assert_str_eq(r.ratelimit_remaining, "");
            it_response_free(&r);
        }
    /* An unknown key is refused before any bucket: 401, no headers. */
    it_json("GET", "/v1/vendor", "lv_0000000000000000000000000000000000000000000000000000000000000000",
            NULL, &r);
    it_assert_problem(&r, 401, "unauthorized");
    cr_assert_str_eq(r.ratelimit_limit, "");
    it_response_free(&r);
    stop_node(&n);
}

/* The credentials sent in the body are limited too: a group key's
 * activations, each group key on its own. */
Test(rate_limits, group_key_activations, .timeout = 120)
{
    struct node n;
    it_response r;
    char *v, cid[40], ckey[80], gk[2][80];
    int limited = 0;

    start_node(&n, "5");
    v = it_new_vendor("Group limits");
    it_new_customer(v, "Hoster", cid, ckey);
    it_created("/v1/products", v, "{\"code\":\"mail\",\"name\":\"Mail\",\"version\":\"3\"}");
    for (int k = 0; k < 2; k++) {
        it_postf("/v1/group-keys", v, &r,
                 "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\"],"
                 "\"quota_per_node\":{\"mail\":1000},\"link\":{\"type\":\"app\"}}",
                 cid);
        cr_assert_eq(r.status, 201, "%s", r.body);
        snprintf(gk[k], sizeof gk[k], "%s", it_str(&r, "group_key"));
        it_response_free(&r);
    }
    for (int i = 0; i < 60 && !limited; i++) {
        it_postf("/v1/get_key", NULL, &r,
                 "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
                 "\"app_id\":\"app-1\",\"node_id\":\"n1\"}",
                 gk[0]);
        assert_ratelimit_headers(&r);
        if (r.status == 429) {
            it_assert_problem(&r, 429, "rate_limited");
            limited = 1;
        } else {
            cr_assert(r.status == 201 || r.status == 200, "%s", r.body);
        }
        it_response_free(&r);
    }
    cr_assert(limited, "60 activations with one group key were never limited");
    /* The other group key of the same customer has a bucket of its own. */
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
             "\"app_id\":\"other\",\"node_id\":\"n1\"}",
             gk[1]);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(r.ratelimit_remaining, "9");
    it_response_free(&r);
    free(v);
    stop_node(&n);
}

/* Session-token renewals (the token is in the body) are limited per user
 * and machine. */
Test(rate_limits, session_token_renewals, .timeout = 120)
{
    struct node n;
    it_response r;
    char *v, cid[40], ckey[80], tok[4096];
    int limited = 0;

    start_node(&n, "5");
    v = it_new_vendor("Renewal limits");
    it_new_customer(v, "Desk", cid, ckey);
    it_created("/v1/products", v, "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\"}");
    it_created("/v1/users", v,
               "{\"customer_id\":\"%s\",\"username\":\"ann\",\"password\":\"pw-ann-secret\"}",
               cid);
    it_json("PUT", it_fmt("/v1/users/ann/entitlements/app?customer_id=%s", cid), v,
            "{\"state\":\"valid\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/tokens", ckey, &r,
             "{\"username\":\"ann\",\"password\":\"pw-ann-secret\",\"machine_id\":\"m1\","
             "\"products\":[\"app\"]}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
    it_response_free(&r);
    for (int i = 0; i < 60 && !limited; i++) {
        it_postf("/v1/tokens/renew", NULL, &r, "{\"token\":\"%s\",\"machine_id\":\"m1\"}", tok);
        assert_ratelimit_headers(&r);
        if (r.status == 429) {
            it_assert_problem(&r, 429, "rate_limited");
            limited = 1;
        } else {
            cr_assert(r.status == 200 || r.status == 201, "%s", r.body);
            snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
        }
        it_response_free(&r);
    }
    cr_assert(limited, "60 renewals of one session token were never limited");
    /* A refused renewal (another machine) is not limited: its token is not this one's. */
    it_postf("/v1/tokens/renew", NULL, &r, "{\"token\":\"%s\",\"machine_id\":\"m2\"}", tok);
    it_assert_problem(&r, 401, "renewal_refused");
    cr_assert_str_eq(r.ratelimit_limit, "");
    it_response_free(&r);
    free(v);
    stop_node(&n);
}

/* ---- Idempotency-Key ---- */

/* POST path with key's bearer, an Idempotency-Key (NULL: none) and body. */
static void post_idem(const char *path, const char *bearer, const char *idem, const char *body,
                      it_response *r)
{
    char auth[256], ik[400];
    const char *headers[4] = {"Content-Type: application/json", auth, NULL, NULL};
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
    if (idem) {
        snprintf(ik, sizeof ik, "Idempotency-Key: %s", idem);
        headers[2] = ik;
    }
    it_request("POST", path, headers, body, strlen(body), r);
}

/* A fresh key for this run: tests run more than once against one database. */
static const char *fresh_key(const char *what)
{
    char hex[17];
    FILE *f = fopen("/dev/urandom", "rb");
    unsigned char b[8];
    cr_assert(f && fread(b, 1, sizeof b, f) == sizeof b);
    fclose(f);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    return it_fmt("%s-%s", what, hex);
}

Test(idempotency, the_same_key_and_body_replay_the_first_answer_once_done)
{
    char *v = it_new_vendor("Idem vendor");
    const char *key = fresh_key("create");
    const char *name = it_fmt("Idem customer %s", key);
    const char *body = it_fmt("{\"name\":\"%s\"}", name);
    it_response first, again, other;
    char sql[512];

    post_idem("/v1/customers", v, key, body, &first);
    cr_assert_eq(first.status, 201, "%s", first.body);
    cr_assert_str_eq(first.replayed, "");
    post_idem("/v1/customers", v, key, body, &again);
    cr_assert_eq(again.status, 201, "%s", again.body);
    cr_assert_str_eq(again.replayed, "true");
    cr_assert_str_eq(again.body, first.body, "the replay is not the first answer");
    cr_assert_str_eq(again.content_type, first.content_type);
    cr_assert_str_eq(again.request_id, first.request_id);
    /* Done once: one customer of that name. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM customers WHERE name = '%s'", name);
    cr_assert_eq(it_sql_num(sql), 1);

    /* The new customer key in the answer is kept sealed, never in clear. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM idempotency_keys WHERE key = '%s' AND answer IS NOT NULL"
             " AND position(convert_to('%s', 'UTF8') IN answer) = 0"
             " AND position(convert_to('%s', 'UTF8') IN answer) = 0",
             key, it_str(&first, "customer_key"), name);
    cr_assert_eq(it_sql_num(sql), 1, "the kept answer is missing or holds the key in clear");

    /* Another body with the same key: 409, and nothing is made. */
    post_idem("/v1/customers", v, key, "{\"name\":\"someone else\"}", &other);
    it_assert_problem(&other, 409, "idempotency_key_reused");
    it_response_free(&other);
    /* The same body to another path is another request too. */
    post_idem("/v1/products", v, key, body, &other);
    it_assert_problem(&other, 409, "idempotency_key_reused");
    it_response_free(&other);
    cr_assert_eq(it_sql_num("SELECT count(*) FROM customers WHERE name = 'someone else'"), 0);

    /* Without the header, the same body makes another customer. */
    post_idem("/v1/customers", v, NULL, body, &other);
    cr_assert_eq(other.status, 201);
    cr_assert_str_neq(it_str(&other, "customer_id"), it_str(&first, "customer_id"));
    it_response_free(&other);

    it_response_free(&first);
    it_response_free(&again);
    free(v);
}

Test(idempotency, keys_belong_to_their_caller)
{
    char *a = it_new_vendor("Idem A"), *b = it_new_vendor("Idem B");
    const char *key = fresh_key("shared");
    const char *name = it_fmt("Shared name %s", key);
    const char *body = it_fmt("{\"name\":\"%s\"}", name);
    it_response ra, rb, again;
    char sql[256];

    post_idem("/v1/customers", a, key, body, &ra);
    cr_assert_eq(ra.status, 201, "%s", ra.body);
    /* Vendor B's same key and body is B's own request. */
    post_idem("/v1/customers", b, key, body, &rb);
    cr_assert_eq(rb.status, 201, "%s", rb.body);
    cr_assert_str_eq(rb.replayed, "");
    cr_assert_str_neq(it_str(&ra, "customer_id"), it_str(&rb, "customer_id"));
    /* B's retry replays B's answer. */
    post_idem("/v1/customers", b, key, body, &again);
    cr_assert_str_eq(again.replayed, "true");
    cr_assert_str_eq(it_str(&again, "customer_id"), it_str(&rb, "customer_id"));
    it_response_free(&again);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM customers WHERE name = '%s'", name);
    cr_assert_eq(it_sql_num(sql), 2);
    it_response_free(&ra);
    it_response_free(&rb);
    free(a);
    free(b);
}

/* A refusal (4xx) is the first answer too, and is replayed: the request is
 * not run again until a new key is used. */
Test(idempotency, a_refusal_is_replayed)
{
    char *v = it_new_vendor("Idem refusals");
    const char *key = fresh_key("refused");
    it_response r, again;

    post_idem("/v1/customers", v, key, "{\"name\":5}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    post_idem("/v1/customers", v, key, "{\"name\":5}", &again);
    it_assert_problem(&again, 400, "invalid_field");
    cr_assert_str_eq(again.replayed, "true");
    cr_assert_str_eq(again.body, r.body);
    it_response_free(&again);
    /* The corrected request needs a key of its own. */
    post_idem("/v1/customers", v, key, "{\"name\":\"fixed\"}", &again);
    it_assert_problem(&again, 409, "idempotency_key_reused");
    it_response_free(&again);
    it_response_free(&r);
    free(v);
}

Test(idempotency, a_bad_key_is_refused_and_other_methods_ignore_it)
{
    char *v = it_new_vendor("Idem bad keys");
    char longkey[300];
    it_response r;
    const char *headers[] = {"Content-Type: application/json", NULL, "Idempotency-Key: x", NULL};
    char auth[200];

    memset(longkey, 'k', 256);
    longkey[256] = '\0';
    post_idem("/v1/customers", v, longkey, "{\"name\":\"too long a key\"}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "Idempotency-Key"), "%s", r.body);
    it_response_free(&r);
    cr_assert_eq(it_sql_num("SELECT count(*) FROM customers WHERE name = 'too long a key'"), 0);

    /* A GET with the header is an ordinary GET. */
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", v);
    headers[1] = auth;
    it_request("GET", "/v1/vendor", headers, NULL, 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.replayed, "");
    it_response_free(&r);
    free(v);
}

struct racer {
    const char *vendor, *key, *body;
    pthread_barrier_t *start;
    long status;
    char code[64], customer_id[40], replayed[16];
};

static void *race(void *p)
{
    struct racer *x = p;
    it_response r;
    pthread_barrier_wait(x->start);
    post_idem("/v1/customers", x->vendor, x->key, x->body, &r);
    x->status = r.status;
    snprintf(x->replayed, sizeof x->replayed, "%s", r.replayed);
    if (it_str(&r, "code"))
        snprintf(x->code, sizeof x->code, "%s", it_str(&r, "code"));
    if (it_str(&r, "customer_id"))
        snprintf(x->customer_id, sizeof x->customer_id, "%s", it_str(&r, "customer_id"));
    it_response_free(&r);
    return NULL;
}

/* Duplicates sent at once: one runs; the others wait for its answer and
 * replay it (or, past the wait, are told it is in progress). */
Test(idempotency, concurrent_duplicates_run_once)
{
    enum { N = 6 };
    char *v = it_new_vendor("Idem race");
    const char *key = fresh_key("race");
    const char *name = it_fmt("Raced %s", key);
    const char *body = it_fmt("{\"name\":\"%s\"}", name);
    struct racer x[N];
    pthread_t t[N];
    pthread_barrier_t start;
    char sql[256], *made = NULL;
    int created = 0, replayed = 0;

    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.vendor = v, .key = key, .body = body, .start = &start};
        cr_assert_eq(pthread_create(&t[i], NULL, race, &x[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < N; i++) {
        if (x[i].status == 409) {
            cr_assert_str_eq(x[i].code, "idempotency_key_in_progress");
            continue;
        }
        cr_assert_eq(x[i].status, 201, "racer %d: %ld %s", i, x[i].status, x[i].code);
        if (strcmp(x[i].replayed, "true") == 0)
            replayed++;
        else
            created++;
        if (!made)
            made = x[i].customer_id;
        cr_assert_str_eq(x[i].customer_id, made, "two customers were made");
    }
    cr_assert_eq(created, 1, "%d requests ran", created);
    cr_assert_geq(replayed, 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM customers WHERE name = '%s'", name);
    cr_assert_eq(it_sql_num(sql), 1);
    free(v);
}

/* A purge deletes a row only if it still matches once it gets to it: an
 * expired key claimed again meanwhile (by psql's transaction, held open
 * while the purge waits for the row) survives the maintenance round; the
 * other expired key of the scope goes. */
Test(idempotency, a_key_claimed_again_during_a_purge_survives_it, .timeout = 60)
{
    char scope[64], *out = NULL;
    struct timespec t0, t1;
    snprintf(scope, sizeof scope, "test:purge:%d", (int)getpid());
    cr_assert_eq(it_sql(it_fmt("INSERT INTO idempotency_keys (scope, key, request_hash, claim,"
                               " expires_at) SELECT '%s', k, decode('00', 'hex'), 'first',"
                               " now() - interval '1 minute' FROM unnest(ARRAY['kept', 'gone']) k",
                               scope),
                        NULL),
                 0);
    cr_assert_eq(it_sh(it_fmt("psql '%s' -qc \"SET application_name = '%s'; BEGIN;"
                              " UPDATE idempotency_keys"
                              " SET expires_at = now() + interval '1 day', claim = 'again'"
                              " WHERE scope = '%s' AND key = 'kept'; SELECT pg_sleep(3); COMMIT;\""
                              " >/dev/null 2>&1 &",
                              it_env("LICD_DATABASE_URL"), scope, scope),
                       &out),
                 0);
    free(out);
    /* the row is updated, uncommitted, once psql sleeps */
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(it_sql(it_fmt("SELECT count(*) FROM pg_stat_activity"
                                   " WHERE application_name = '%s' AND wait_event = 'PgSleep'",
                                   scope),
                            &out),
                     0);
        int sleeping = strcmp(out, "1\n") == 0;
        free(out);
        if (sleeping)
            break;
        usleep(50000);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(store_init(it_env("LICD_DATABASE_URL")), 0);
    cr_assert_eq(store_maintenance_round(180L * 86400, 7L * 86400), 0);
    store_shutdown();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_geq(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9, 1.0,
                  "the purge did not wait for the claim's transaction");
    cr_assert_eq(it_sql(it_fmt("SELECT string_agg(key || '=' || claim, ',' ORDER BY key)"
                               " FROM idempotency_keys WHERE scope = '%s'",
                               scope),
                        &out),
                 0);
    cr_assert_str_eq(out, "kept=again\n", "%s", out);
    free(out);
}

/* An answer past LICD_IDEMPOTENCY_TTL is forgotten: the key may be used
 * again, for anything; the maintenance thread purges it. */
Test(idempotency, expired_keys_are_forgotten_and_purged, .timeout = 120)
{
    struct node n;
    char *v;
    const char *key = fresh_key("expiring");
    char sql[256];
    const char *env[] = {"LICD_MAINTENANCE_INTERVAL=1", "LICD_IDEMPOTENCY_TTL=60", NULL};
    it_response r;
    int gone = 0;

    n.pid = it_start_node(env, n.url, sizeof n.url, &n.dir);
    it_use_url(n.url);

    v = it_new_vendor("Idem expiry");
    post_idem("/v1/customers", v, key, "{\"name\":\"first\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM idempotency_keys WHERE key = '%s'"
             " AND expires_at BETWEEN now() + interval '50 s' AND now() + interval '61 s'",
             key);
    cr_assert_eq(it_sql_num(sql), 1, "the answer is not kept for LICD_IDEMPOTENCY_TTL");
    /* A day later (aged in the database) ... */
    snprintf(sql, sizeof sql,
             "UPDATE idempotency_keys SET expires_at = now() - interval '1 s' WHERE key = '%s'",
             key);
    cr_assert_eq(it_sql(sql, NULL), 0);
    /* ... the purge removes it within a round or two. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM idempotency_keys WHERE key = '%s'", key);
    for (int i = 0; i < 50 && !gone; i++) {
        gone = it_sql_num(sql) == 0;
        if (!gone)
            usleep(100 * 1000);
    }
    cr_assert(gone, "the expired answer was not purged");
    /* And the key is free again: another body is a new request. */
    post_idem("/v1/customers", v, key, "{\"name\":\"second\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(r.replayed, "");
    it_response_free(&r);
    free(v);
    stop_node(&n);
}

/* An expired answer not yet purged does not hold its key either. */
Test(idempotency, an_expired_answer_does_not_hold_the_key)
{
    char *v = it_new_vendor("Idem expired");
    const char *key = fresh_key("expired");
    char sql[256];
    it_response r;

    post_idem("/v1/customers", v, key, "{\"name\":\"one\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    snprintf(sql, sizeof sql,
             "UPDATE idempotency_keys SET expires_at = now() - interval '1 s' WHERE key = '%s'",
             key);
    cr_assert_eq(it_sql(sql, NULL), 0);
    post_idem("/v1/customers", v, key, "{\"name\":\"two\"}", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "name"), "two");
    it_response_free(&r);
    free(v);
}

/* The credential of an unauthenticated POST is in its body: a group key's
 * activation retried replays its licence (one activation made), and another
 * group key's same Idempotency-Key is unrelated to it. */
Test(idempotency, group_key_activations_are_keyed_by_their_group_key)
{
    char *v[2] = {it_new_vendor("Idem groups A"), it_new_vendor("Idem groups B")};
    const char *ik = fresh_key("activation");
    char cid[40], ckey[80], gk[2][80], body[2][512], sql[512];
    const char *headers[] = {"Content-Type: application/json", it_fmt("Idempotency-Key: %s", ik),
                             NULL};
    it_response r[2], again;

    for (int i = 0; i < 2; i++) {
        it_new_customer(v[i], "Hoster", cid, ckey);
        it_created("/v1/products", v[i], "{\"code\":\"mail\",\"name\":\"Mail\",\"version\":\"3\"}");
        it_postf("/v1/group-keys", v[i], &r[i],
                 "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\"],"
                 "\"quota_per_node\":{\"mail\":10},\"link\":{\"type\":\"app\"}}",
                 cid);
        cr_assert_eq(r[i].status, 201, "%s", r[i].body);
        snprintf(gk[i], sizeof gk[i], "%s", it_str(&r[i], "group_key"));
        it_response_free(&r[i]);
        snprintf(body[i], sizeof body[i],
                 "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
                 "\"app_id\":\"app-%d\",\"node_id\":\"n1\"}",
                 gk[i], i);
    }
    it_request("POST", "/v1/get_key", headers, body[0], strlen(body[0]), &r[0]);
    cr_assert_eq(r[0].status, 201, "%s", r[0].body);
    it_request("POST", "/v1/get_key", headers, body[0], strlen(body[0]), &again);
    cr_assert_eq(again.status, 201, "%s", again.body);
    cr_assert_str_eq(again.replayed, "true");
    cr_assert_str_eq(it_str(&again, "license_id"), it_str(&r[0], "license_id"));
    /* Not run again: a second activation would have chained a new update password. */
    cr_assert_str_eq(it_str(&again, "update_password"), it_str(&r[0], "update_password"));
    it_response_free(&again);
    /* Another vendor's group key, the same Idempotency-Key, another body:
     * its own request, run. */
    it_request("POST", "/v1/get_key", headers, body[1], strlen(body[1]), &r[1]);
    cr_assert_eq(r[1].status, 201, "%s", r[1].body);
    cr_assert_str_eq(r[1].replayed, "");
    /* Each group key's requests are its own: two kept answers for one key. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM idempotency_keys WHERE key = '%s' AND scope LIKE 'b:%%'", ik);
    cr_assert_eq(it_sql_num(sql), 2);
    it_response_free(&r[0]);
    it_response_free(&r[1]);
    free(v[0]);
    free(v[1]);
}
