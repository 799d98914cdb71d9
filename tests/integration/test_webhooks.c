/* Webhooks and events over real HTTP and PostgreSQL: a receiver of the
 * test's own (libmicrohttpd on 127.0.0.1) gets signed deliveries, which the
 * test verifies with OpenSSL; failed deliveries are retried in order; a
 * rolled-back grant emits nothing; two licd nodes of the test's own share
 * the deliveries of 1,000 events to two webhooks, each delivered once; and
 * every refusal of the new routes. */
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "store/db.h"
#include "store/maintenance.h"

/* ---- the receiver ---- */

struct hit {
    char *body;
    char signature[200];
    char path[64];
    int answered;
};

struct receiver {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    int fail_first; /* answer 500 to this many requests first */
    struct hit *hits;
    size_t n, cap;
};

struct upload {
    char *data;
    size_t len;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    struct receiver *r = cls;
    struct upload *u = *state;
    struct MHD_Response *resp;
    const char *sig;
    enum MHD_Result ret;
    int status;
    (void)version;
    (void)method;
    if (!u) {
        *state = calloc(1, sizeof(struct upload));
        return *state ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *grown = realloc(u->data, u->len + *upload_size + 1);
        if (!grown)
            return MHD_NO;
        u->data = grown;
        memcpy(u->data + u->len, upload_data, *upload_size);
        u->len += *upload_size;
        u->data[u->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Licd-Signature");
    pthread_mutex_lock(&r->lock);
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->hits = realloc(r->hits, r->cap * sizeof *r->hits);
    }
    status = r->fail_first > 0 ? 500 : 200;
    if (r->fail_first > 0)
        r->fail_first--;
    r->hits[r->n] = (struct hit){u->data ? u->data : strdup(""), "", "", status};
    snprintf(r->hits[r->n].signature, sizeof r->hits[r->n].signature, "%s", sig ? sig : "");
    snprintf(r->hits[r->n].path, sizeof r->hits[r->n].path, "%s", url);
    r->n++;
    pthread_mutex_unlock(&r->lock);
    u->data = NULL;
    resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode code)
{
    struct upload *u = *state;
    (void)cls;
    (void)conn;
    (void)code;
    if (u) {
        free(u->data);
        free(u);
        *state = NULL;
    }
}

static void receiver_start(struct receiver *r, int fail_first)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    const union MHD_DaemonInfo *info;
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->fail_first = fail_first;
    r->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                                 on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                 MHD_OPTION_END);
    cr_assert(r->daemon, "the receiver does not start");
    info = MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT);
    r->port = info->port;
}

static void receiver_stop(struct receiver *r)
{
    MHD_stop_daemon(r->daemon);
    for (size_t i = 0; i < r->n; i++)
        free(r->hits[i].body);
    free(r->hits);
    pthread_mutex_destroy(&r->lock);
}

static size_t receiver_count(struct receiver *r)
{
    size_t n;
    pthread_mutex_lock(&r->lock);
    n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Waits until the receiver has had n requests (fails after seconds). */
static void wait_hits(struct receiver *r, size_t n, int seconds)
{
    for (int i = 0; i < seconds * 20 && receiver_count(r) < n; i++)
        usleep(50000);
    cr_assert_geq(receiver_count(r), n, "the receiver got %zu requests of %zu", receiver_count(r),
                  n);
}

/* The Licd-Signature of a hit checked as a receiver would: v1 is the hex
 * HMAC-SHA256 under secret of t "." body, and t is less than 5 minutes old. */
static void assert_signed(const struct hit *h, const char *secret)
{
    long long t;
    char v1[65], msg[65536], hex[65];
    unsigned char mac[32];
    unsigned len = sizeof mac;
    cr_assert_eq(sscanf(h->signature, "t=%lld,v1=%64[0-9a-f]", &t, v1), 2, "signature %s",
                 h->signature);
    cr_assert_lt(llabs((long long)time(NULL) - t), 300, "t=%lld is not recent", t);
    snprintf(msg, sizeof msg, "%lld.%s", t, h->body);
    cr_assert(HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg),
                   mac, &len));
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    cr_assert_str_eq(v1, hex, "the signature does not verify for %s", h->body);
}

/* ---- the world: a vendor, a customer, a product and a pack ---- */

struct world {
    char *vendor;
    char customer_id[37], customer[80];
};

static void world_init(struct world *w, const char *name, int quantity)
{
    w->vendor = it_new_vendor(name);
    it_new_customer(w->vendor, "Customer", w->customer_id, w->customer);
    it_created("/v1/products", w->vendor, "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\"}");
    it_created("/v1/packs", w->vendor,
               "{\"pack_id\":\"P1\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1\","
               "\"type\":\"per_device\",\"quantity\":%d}",
               w->customer_id, quantity);
}

/* Registers a webhook for types (a JSON array's inside) at the receiver;
 * its secret into secret (80 bytes), its id into id (37 bytes). */
static void add_webhook(struct world *w, struct receiver *r, const char *path,
                        const char *types, char *secret, char *id)
{
    it_response resp;
    it_postf("/v1/webhooks", w->vendor, &resp, "{\"url\":\"http://127.0.0.1:%d%s\",\"events\":[%s]}",
             r->port, path, types);
    cr_assert_eq(resp.status, 201, "%s", resp.body);
    cr_assert(strncmp(it_str(&resp, "secret"), "whsec_", 6) == 0, "%s", resp.body);
    snprintf(secret, 80, "%s", it_str(&resp, "secret"));
    snprintf(id, 37, "%s", it_str(&resp, "webhook_id"));
    it_response_free(&resp);
}

/* get_key for client; the licence id into lid (64 bytes) when given. */
static void grant(struct world *w, const char *client, long status, char *lid)
{
    it_response r;
    it_postf("/v1/get_key", w->customer, &r, "{\"product\":\"app\",\"client_id\":\"%s\"}", client);
    cr_assert_eq(r.status, status, "get_key %s: %s", client, r.body);
    if (lid)
        snprintf(lid, 64, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
}

static cJSON *parse_hit(const struct hit *h)
{
    cJSON *o = cJSON_Parse(h->body);
    cr_assert(o, "delivery body is not JSON: %s", h->body);
    return o;
}

static long long event_id(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "event_id");
    cr_assert(cJSON_IsNumber(v));
    return (long long)v->valuedouble;
}

/* The webhook's entry in GET /v1/webhooks (caller deletes it). */
static cJSON *webhook_entry(struct world *w, const char *id)
{
    cJSON *items = it_items("/v1/webhooks", w->vendor), *item, *found = NULL;
    cJSON_ArrayForEach(item, items) if (strcmp(it_member_str(item, "webhook_id"), id) == 0)
        found = cJSON_Duplicate(item, 1);
    cJSON_Delete(items);
    cr_assert(found, "webhook %s is not listed", id);
    return found;
}

Test(webhooks, delivery_is_signed_and_listed)
{
    struct world w;
    struct receiver r;
    char secret[80], id[37], lid[64];
    cJSON *o, *data, *entry, *items;

    world_init(&w, "webhooks signed", 10);
    receiver_start(&r, 0);
    add_webhook(&w, &r, "/hook", "\"license.granted\"", secret, id);
    grant(&w, "client-1", 201, lid);
    wait_hits(&r, 1, 20);
    usleep(300000);
    cr_assert_eq(receiver_count(&r), 1, "one event, one delivery");
    assert_signed(&r.hits[0], secret);
    o = parse_hit(&r.hits[0]);
    cr_assert_str_eq(it_member_str(o, "type"), "license.granted");
    it_member_str(o, "created_at");
    data = cJSON_GetObjectItemCaseSensitive(o, "data");
    cr_assert_str_eq(it_member_str(data, "license_id"), lid);
    cr_assert_str_eq(it_member_str(data, "client_id"), "client-1");
    cr_assert_str_eq(it_member_str(data, "product"), "app");
    cr_assert_str_eq(it_member_str(data, "pack_id"), "P1");
    cr_assert_str_eq(it_member_str(data, "customer_id"), w.customer_id);
    cr_assert_str_eq(r.hits[0].path, "/hook");

    /* The same event in GET /v1/events, and nothing after it. */
    items = it_items("/v1/events?after=0", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1, "one event after 0");
    cr_assert_eq(event_id(cJSON_GetArrayItem(items, 0)), event_id(o));
    cJSON_Delete(items);
    items = it_items(it_fmt("/v1/events?after=%lld", event_id(o)), w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);
    cJSON_Delete(o);

    for (int i = 0; i < 40; i++) { /* the delivery is recorded just after it is answered */
        entry = webhook_entry(&w, id);
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(entry, "last_status")))
            break;
        cJSON_Delete(entry);
        entry = NULL;
        usleep(50000);
    }
    cr_assert(entry);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(entry, "last_status")->valueint, 200);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(entry, "failures")->valueint, 0);
    cr_assert_str_eq(it_member_str(entry, "state"), "active");
    cJSON_Delete(entry);
    receiver_stop(&r);
    free(w.vendor);
}

Test(webhooks, failed_deliveries_are_retried_in_order)
{
    struct world w;
    struct receiver r;
    char secret[80], id[37];
    long long first, second;
    cJSON *o;
    it_response m;

    world_init(&w, "webhooks retry", 10);
    receiver_start(&r, 3);
    add_webhook(&w, &r, "/retry", "\"license.granted\"", secret, id);
    grant(&w, "client-a", 201, NULL);
    grant(&w, "client-b", 201, NULL);
    /* 3 refusals of the first event (backoff 1 s each under tests/run),
     * then the first and the second. */
    wait_hits(&r, 5, 30);
    usleep(1500000);
    cr_assert_eq(receiver_count(&r), 5, "no duplicate beyond the retries: %zu requests",
                 receiver_count(&r));
    o = parse_hit(&r.hits[0]);
    first = event_id(o);
    cJSON_Delete(o);
    for (int i = 0; i < 4; i++) {
        o = parse_hit(&r.hits[i]);
        cr_assert_eq(event_id(o), first, "request %d is the first event again", i);
        cr_assert_eq(r.hits[i].answered, i < 3 ? 500 : 200);
        assert_signed(&r.hits[i], secret);
        cJSON_Delete(o);
    }
    o = parse_hit(&r.hits[4]);
    second = event_id(o);
    cr_assert_gt(second, first, "the second event waits for the first");
    cr_assert_str_eq(it_member_str(cJSON_GetObjectItemCaseSensitive(o, "data"), "client_id"),
                     "client-b");
    cJSON_Delete(o);
    o = webhook_entry(&w, id);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(o, "failures")->valueint, 0, "reset by success");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(o, "last_status")->valueint, 200);
    cJSON_Delete(o);
    it_expect(&m, 200, "GET", "/metrics", NULL, NULL);
    cr_assert(strstr(m.body, "licd_webhook_failures_total "), "%s", m.body);
    cr_assert(strstr(m.body, "licd_webhook_delivery_lag_seconds_count "));
    it_response_free(&m);
    receiver_stop(&r);
    free(w.vendor);
}

/* The events of the vendor, as one JSON text (caller frees). */
static char *events_text(struct world *w)
{
    cJSON *items = it_items("/v1/events?limit=500", w->vendor);
    char *text = cJSON_PrintUnformatted(items);
    cJSON_Delete(items);
    return text;
}

Test(webhooks, rolled_back_grant_emits_nothing)
{
    struct world w;
    char *before, *after;
    it_response r;

    world_init(&w, "webhooks rollback", 2);
    grant(&w, "kept", 201, NULL);
    before = events_text(&w);
    cr_assert(strstr(before, "\"client_id\":\"kept\""), "%s", before);
    /* A licence row the database refuses (a fault injected for this one
     * client id): the grant's statement fails after its CTEs ran, and its
     * transaction rolls back. */
    cr_assert_eq(it_sql("CREATE OR REPLACE FUNCTION it_refuse_grant() RETURNS trigger"
                        " LANGUAGE plpgsql AS \\$\\$ BEGIN RAISE EXCEPTION 'refused by the test';"
                        " END \\$\\$;"
                        " SET client_min_messages = warning; DROP TRIGGER IF EXISTS it_refuse_grant ON assignments;"
                        " CREATE TRIGGER it_refuse_grant BEFORE INSERT ON assignments FOR EACH ROW"
                        " WHEN (NEW.client_id = 'rolled-back') EXECUTE FUNCTION it_refuse_grant()",
                        NULL),
                 0);
    it_postf("/v1/get_key", w.customer, &r, "{\"product\":\"app\",\"client_id\":\"rolled-back\"}");
    it_sql("DROP TRIGGER it_refuse_grant ON assignments", NULL);
    cr_assert_eq(r.status, 500, "%s", r.body);
    it_response_free(&r);
    after = events_text(&w);
    cr_assert_str_eq(after, before, "a rolled-back grant emitted an event");
    free(after);
    /* Nor did it take the seat: the second seat is still there (and the
     * pack reaching 90 % reports pack.low), then a full pack hands out a
     * temporary licence: license.temporary, no license.granted. */
    grant(&w, "second", 201, NULL);
    grant(&w, "third", 201, NULL);
    after = events_text(&w);
    cr_assert(strstr(after, "\"type\":\"pack.low\""), "%s", after);
    cr_assert(strstr(after, "\"quantity\":2,\"assigned\":2") ||
                  strstr(after, "\"assigned\":2"), "%s", after);
    cr_assert(strstr(after, "\"type\":\"license.temporary\""), "%s", after);
    cr_assert(!strstr(after, "rolled-back"), "%s", after);
    free(after);
    free(before);
    free(w.vendor);
}

Test(webhooks, seat_denied_and_lease_lapsed)
{
    struct world w;
    char *text;
    it_response r;

    w.vendor = it_new_vendor("webhooks leases");
    it_new_customer(w.vendor, "Customer", w.customer_id, w.customer);
    it_created("/v1/products", w.vendor, "{\"code\":\"fl\",\"name\":\"Fl\",\"version\":\"1\"}");
    it_created("/v1/packs", w.vendor,
               "{\"pack_id\":\"C1\",\"customer_id\":\"%s\",\"product\":\"fl\",\"version\":\"1\","
               "\"type\":\"concurrent\",\"quantity\":1}",
               w.customer_id);
    it_created("/v1/leases", w.customer, "{\"product\":\"fl\",\"client_id\":\"one\"}");
    it_postf("/v1/leases", w.customer, &r, "{\"product\":\"fl\",\"client_id\":\"two\"}");
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    text = events_text(&w);
    cr_assert(strstr(text, "\"type\":\"seat.denied\""), "%s", text);
    cr_assert(strstr(text, "\"reason\":\"no_seats_available\""), "%s", text);
    cr_assert(strstr(text, "\"client_id\":\"two\""), "%s", text);
    cr_assert(strstr(text, "\"type\":\"pack.low\""), "a pack of 1 in use is at 100 %%: %s", text);
    cr_assert(!strstr(text, "lease.lapsed"), "%s", text);
    free(text);
    /* The lease lapses (aged in the database: a test cannot wait for its
     * TTL); the next checkout reclaims it and says so. */
    cr_assert_eq(it_sql(it_fmt("UPDATE leases SET expires_at = now() - interval '1 second'"
                               " WHERE client_id = 'one' AND vendor_id = (SELECT vendor_id FROM"
                               " customers WHERE id = '%s');"
                               " UPDATE packs SET next_lapse_at = now() - interval '1 second'"
                               " WHERE customer_id = '%s'",
                               w.customer_id, w.customer_id),
                        NULL),
                 0);
    it_created("/v1/leases", w.customer, "{\"product\":\"fl\",\"client_id\":\"two\"}");
    text = events_text(&w);
    cr_assert(strstr(text, "\"type\":\"lease.lapsed\""), "%s", text);
    cr_assert(strstr(text, "\"client_id\":\"one\""), "%s", text);
    free(text);
    free(w.vendor);
}

/* Two licd nodes of this test on the suite's database (with the suite's
 * own licd delivering too), 1,000 grants spread over them, two webhooks:
 * every event reaches each webhook exactly once, in order. */
Test(webhooks, two_nodes_deliver_each_event_once, .timeout = 120)
{
    enum { EVENTS = 1000 };
    struct world w;
    struct receiver r;
    char secret[2][80], id[2][37], log[2][256], urls[2][64], *dir = it_tmpdir();
    const char *env[] = {"LICD_WEBHOOK_THREADS=2", "LICD_THREADS=4", NULL};
    int port[2], pid[2];
    size_t per_hook[2] = {0, 0}, duplicates = 0;
    long long last[2] = {0, 0};
    double t0, t1;
    char *seen[2];

    world_init(&w, "webhooks two nodes", 5000);
    receiver_start(&r, 0);
    add_webhook(&w, &r, "/a", "\"license.granted\"", secret[0], id[0]);
    add_webhook(&w, &r, "/b", "\"license.granted\",\"pack.low\"", secret[1], id[1]);
    for (int i = 0; i < 2; i++) {
        snprintf(log[i], sizeof log[i], "%s/licd-%d.log", dir, i);
        port[i] = it_free_port();
        pid[i] = it_start_licd(env, log[i], port[i]);
    }
    t0 = it_now();
    for (int i = 0; i < 2; i++)
        snprintf(urls[i], sizeof urls[i], "http://127.0.0.1:%d", port[i]);
    for (int i = 0; i < EVENTS; i++) {
        it_use_url(urls[i % 2]);
        grant(&w, it_fmt("client-%04d", i), 201, NULL);
    }
    it_use_url(it_env("LICD_TEST_URL"));
    wait_hits(&r, 2 * EVENTS, 60);
    t1 = it_now();
    usleep(1000000); /* anything more that would come */
    cr_assert_eq(it_stop_licd(pid[0]), 0, "node 1 exit status");
    cr_assert_eq(it_stop_licd(pid[1]), 0, "node 2 exit status");
    seen[0] = calloc(EVENTS * 4 + 1, 1);
    seen[1] = calloc(EVENTS * 4 + 1, 1);
    pthread_mutex_lock(&r.lock);
    for (size_t i = 0; i < r.n; i++) {
        int k = strcmp(r.hits[i].path, "/a") == 0 ? 0 : 1;
        cJSON *o = parse_hit(&r.hits[i]);
        const char *client = it_member_str(cJSON_GetObjectItemCaseSensitive(o, "data"),
                                           "client_id");
        int n = atoi(client + strlen("client-"));
        cr_assert_eq(r.hits[i].answered, 200);
        assert_signed(&r.hits[i], secret[k]);
        cr_assert_gt(event_id(o), last[k], "webhook %d: event %lld after %lld", k, event_id(o),
                     last[k]);
        last[k] = event_id(o);
        if (seen[k][n])
            duplicates++;
        seen[k][n] = 1;
        per_hook[k]++;
        cJSON_Delete(o);
    }
    pthread_mutex_unlock(&r.lock);
    fprintf(stderr,
            "two nodes: %d events, %zu deliveries (%zu to /a, %zu to /b), %zu duplicates, all"
            " delivered %.1f s after the first grant\n",
            EVENTS, per_hook[0] + per_hook[1], per_hook[0], per_hook[1], duplicates,
            t1 - t0);
    cr_assert_eq(duplicates, 0);
    cr_assert_eq(per_hook[0], EVENTS);
    cr_assert_eq(per_hook[1], EVENTS, "a pack of 5000 never reaches 90 %%");
    free(seen[0]);
    free(seen[1]);
    receiver_stop(&r);
    it_rmdir(dir);
    free(w.vendor);
}

Test(webhooks, refusals_change_nothing)
{
    struct world w, other;
    char secret[80], id[37];
    struct receiver r;
    cJSON *items;
    const char *url;
    it_response resp;

    world_init(&w, "webhooks refusals", 5);
    world_init(&other, "webhooks other vendor", 5);
    receiver_start(&r, 0);
    add_webhook(&w, &r, "/x", "\"pack.low\"", secret, id);
    url = it_fmt("http://127.0.0.1:%d/x", r.port);
    it_json_problem("POST", "/v1/webhooks", w.vendor, "{\"url\":", 400, "malformed_json");
    it_json_problem("POST", "/v1/webhooks", w.vendor, "{\"events\":[\"pack.low\"]}", 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor, it_fmt("{\"url\":\"%s\"}", url), 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    "{\"url\":42,\"events\":[\"pack.low\"]}", 400, "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    it_fmt("{\"url\":\"%s\",\"events\":\"pack.low\"}", url), 400, "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    it_fmt("{\"url\":\"%s\",\"events\":[]}", url), 400, "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    it_fmt("{\"url\":\"%s\",\"events\":[\"license.stolen\"]}", url), 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    it_fmt("{\"url\":\"%s\",\"events\":[7]}", url), 400, "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    "{\"url\":\"ftp://127.0.0.1/x\",\"events\":[\"pack.low\"]}", 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    "{\"url\":\"not a url\",\"events\":[\"pack.low\"]}", 400, "invalid_field");
    it_json_problem("POST", "/v1/webhooks", w.vendor,
                    "{\"url\":\"https://user:pw@example.com/x\",\"events\":[\"pack.low\"]}", 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/webhooks", NULL,
                    it_fmt("{\"url\":\"%s\",\"events\":[\"pack.low\"]}", url), 401,
                    "unauthorized");
    it_json_problem("POST", "/v1/webhooks", "vk_nosuchkey",
                    it_fmt("{\"url\":\"%s\",\"events\":[\"pack.low\"]}", url), 401,
                    "unauthorized");
    it_json_problem("POST", "/v1/webhooks", w.customer,
                    it_fmt("{\"url\":\"%s\",\"events\":[\"pack.low\"]}", url), 403, "forbidden");
    it_json_problem("GET", "/v1/webhooks", w.customer, NULL, 403, "forbidden");
    {
        /* Over the body limit (1 MiB), and not JSON. */
        size_t big = (1u << 20) + 16;
        char *body = malloc(big + 1), auth[160];
        const char *json[] = {"Content-Type: application/json", auth, NULL};
        const char *text[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.vendor);
        memset(body, ' ', big);
        body[0] = '{';
        body[big - 1] = '}';
        body[big] = '\0';
        it_request("POST", "/v1/webhooks", json, body, big, &resp);
        it_assert_problem(&resp, 413, "body_too_large");
        it_response_free(&resp);
        free(body);
        it_request("POST", "/v1/webhooks", text, "{}", 2, &resp);
        it_assert_problem(&resp, 415, "unsupported_media_type");
        it_response_free(&resp);
    }
    it_json_problem("GET", "/v1/events", NULL, NULL, 401, "unauthorized");
    it_json_problem("GET", "/v1/events?after=abc", w.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/events?after=-1", w.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/events?limit=0", w.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/webhooks?limit=501", w.vendor, NULL, 400, "invalid_field");
    /* Another vendor's webhook, a malformed id, an unknown one: 404. */
    it_json_problem("DELETE", it_fmt("/v1/webhooks/%s", id), other.vendor, NULL, 404,
                    "not_found");
    it_json_problem("DELETE", "/v1/webhooks/not-a-uuid", w.vendor, NULL, 404, "not_found");
    it_json_problem("DELETE", "/v1/webhooks/00000000-0000-4000-8000-000000000000", w.vendor,
                    NULL, 404, "not_found");
    it_json_problem("DELETE", it_fmt("/v1/webhooks/%s", id), w.customer, NULL, 403, "forbidden");
    items = it_items("/v1/webhooks", other.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 0, "another vendor's webhooks are not listed");
    cJSON_Delete(items);
    items = it_items("/v1/webhooks", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1, "only the one created");
    cJSON_Delete(items);
    /* Another vendor's grants are not this vendor's events. */
    grant(&other, "theirs", 201, NULL);
    items = it_items("/v1/events", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);
    it_expect(&resp, 204, "DELETE", it_fmt("/v1/webhooks/%s", id), w.vendor, NULL);
    it_response_free(&resp);
    it_json_problem("DELETE", it_fmt("/v1/webhooks/%s", id), w.vendor, NULL, 404, "not_found");
    items = it_items("/v1/webhooks", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);
    /* Both changes are in the audit trail, the refusals are not. */
    {
        cJSON *entry;
        int created = 0, deleted = 0;
        items = it_items("/v1/audit?limit=500", w.vendor);
        cJSON_ArrayForEach(entry, items) {
            if (strcmp(it_member_str(entry, "object_type"), "webhook") != 0)
                continue;
            cr_assert_str_eq(it_member_str(entry, "object_id"), id);
            created += strcmp(it_member_str(entry, "action"), "create") == 0;
            deleted += strcmp(it_member_str(entry, "action"), "delete") == 0;
        }
        cJSON_Delete(items);
        cr_assert_eq(created, 1);
        cr_assert_eq(deleted, 1);
    }
    receiver_stop(&r);
    free(w.vendor);
    free(other.vendor);
}

/* Without LICD_WEBHOOK_ALLOW_PRIVATE: https to public addresses only. */
Test(webhooks, private_targets_refused_by_default)
{
    char *dir = it_tmpdir(), log[256], url[64], *vendor;
    const char *env[] = {"LICD_WEBHOOK_ALLOW_PRIVATE=0", "LICD_WEBHOOK_THREADS=0", NULL};
    int port = it_free_port(), pid;
    static const char *const refused[] = {
        "http://203.0.114.1/x",        "https://127.0.0.1/x", "https://10.1.2.3/x",
        "https://192.168.1.1:8443/x", "https://169.254.169.254/latest", "https://[::1]/x",
        "https://[fd00::1]/x",         "https://100.64.0.1/x", "https://0.0.0.0/x",
        "https://localhost/x",
    };

    snprintf(log, sizeof log, "%s/licd.log", dir);
    pid = it_start_licd(env, log, port);
    vendor = it_new_vendor("webhooks private");
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    it_use_url(url);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        it_response r;
        it_postf("/v1/webhooks", vendor, &r, "{\"url\":\"%s\",\"events\":[\"pack.low\"]}",
                 refused[i]);
        it_assert_problem(&r, 400, "invalid_field");
        cr_assert(strstr(it_str(&r, "detail"), "url"), "%s: %s", refused[i], r.body);
        it_response_free(&r);
    }
    /* A public address literal needs no resolver: accepted. */
    it_created("/v1/webhooks", vendor, "{\"url\":\"https://203.0.114.1/x\",\"events\":[\"pack.low\"]}");
    it_use_url(it_env("LICD_TEST_URL"));
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(vendor);
}

/* Group keys: an activation is license.granted (the app as client), a
 * password presented twice is clone.detected, a report over a limit is
 * usage.over_limit — each listed once. */
Test(webhooks, activation_clone_and_usage_events)
{
    char *vendor = it_new_vendor("webhooks group keys"), *text;
    char customer_id[37], customer[80], key[80], password[64], license[2048], lid[32];
    char auth[2200];
    const char *headers[3] = {"Content-Type: application/json", auth, NULL};
    const char *report = "{\"records\":[{\"metric\":\"mailboxes\",\"value\":150}]}";
    it_response r;

    it_new_customer(vendor, "Hoster", customer_id, customer);
    it_created("/v1/products", vendor, "{\"code\":\"mail\",\"name\":\"Mail\",\"version\":\"3\"}");
    it_postf("/v1/group-keys", vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\"],"
             "\"quota_per_node\":{\"mail\":5},\"link\":{\"type\":\"node\"},"
             "\"limits\":{\"mail\":{\"mailboxes\":100}}}",
             customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(key, sizeof key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
             "\"app_id\":\"shop\",\"node_id\":\"n1\"}",
             key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(password, sizeof password, "%s", it_str(&r, "update_password"));
    snprintf(license, sizeof license, "%s", it_str(&r, "license"));
    snprintf(lid, sizeof lid, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
    for (int i = 0; i < 2; i++) { /* first use, then the same password again */
        it_postf("/v1/get_key", NULL, &r,
                 "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
                 "\"app_id\":\"shop\",\"node_id\":\"n1\",\"update_password\":\"%s\"}",
                 key, password);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
    }
    snprintf(auth, sizeof auth, "Authorization: License %s", license);
    it_request("POST", "/v1/report_usage", headers, report, strlen(report), &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    it_response_free(&r);

    {
        struct world w = {.vendor = vendor};
        text = events_text(&w);
    }
    cr_assert(strstr(text, it_fmt("\"type\":\"license.granted\",\"created_at\"")), "%s", text);
    cr_assert(strstr(text, "\"node_id\":\"n1\""), "%s", text);
    cr_assert(strstr(text, "\"client_id\":\"shop\""), "%s", text);
    cr_assert(strstr(text, "\"type\":\"clone.detected\""), "%s", text);
    cr_assert(strstr(text, "\"app_id\":\"shop\""), "%s", text);
    cr_assert(strstr(text, "\"type\":\"usage.over_limit\""), "%s", text);
    cr_assert(strstr(text, it_fmt("\"license_id\":\"%s\",\"metric\":\"mailboxes\"", lid)) ||
                  strstr(text, "\"metric\":\"mailboxes\""),
              "%s", text);
    cr_assert(strstr(text, "\"limit\":100"), "%s", text);
    /* One clone.detected for the one moderation item. */
    cr_assert_null(strstr(strstr(text, "clone.detected") + 1, "clone.detected"), "%s", text);
    free(text);
    free(vendor);
}

/* A webhook that keeps failing is dead once its failures have lasted
 * LICD_WEBHOOK_DEAD_AFTER (24 h: the start of its failures is aged in the
 * database, a test cannot wait a day), and is then left alone. */
Test(webhooks, failing_webhook_dies)
{
    struct world w;
    struct receiver r;
    char secret[80], id[37];
    cJSON *entry = NULL;
    size_t seen;

    world_init(&w, "webhooks dead", 10);
    receiver_start(&r, 1000000);
    add_webhook(&w, &r, "/dead", "\"license.granted\"", secret, id);
    grant(&w, "client-1", 201, NULL);
    wait_hits(&r, 1, 20);
    cr_assert_eq(it_sql(it_fmt("UPDATE webhooks SET failing_since = now() - interval '25 hours'"
                               " WHERE id = '%s' AND failing_since IS NOT NULL",
                               id),
                        NULL),
                 0);
    for (int i = 0; i < 100; i++) {
        entry = webhook_entry(&w, id);
        if (strcmp(it_member_str(entry, "state"), "dead") == 0)
            break;
        cJSON_Delete(entry);
        entry = NULL;
        usleep(100000);
    }
    cr_assert(entry, "the webhook never died");
    cr_assert_geq(cJSON_GetObjectItemCaseSensitive(entry, "failures")->valueint, 2);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(entry, "last_status")->valueint, 500);
    cr_assert(strstr(it_member_str(entry, "last_error"), "500"));
    cJSON_Delete(entry);
    seen = receiver_count(&r);
    grant(&w, "client-2", 201, NULL);
    usleep(2500000);
    cr_assert_eq(receiver_count(&r), seen, "a dead webhook is not tried again");
    receiver_stop(&r);
    free(w.vendor);
}

/* Retention: the maintenance round deletes events older than the
 * retention that no active webhook still waits for (ages set in the
 * database: a test cannot wait a week), and keeps those one still needs. */
Test(webhooks, old_delivered_events_are_purged)
{
    struct world kept, gone;
    struct receiver r;
    char secret[80], id[37], *text;

    world_init(&gone, "webhooks purge gone", 10);
    world_init(&kept, "webhooks purge kept", 10);
    receiver_start(&r, 1000000); /* never answers 2xx: kept's event stays due */
    add_webhook(&kept, &r, "/kept", "\"license.granted\"", secret, id);
    grant(&gone, "client-1", 201, NULL);
    grant(&kept, "client-1", 201, NULL);
    text = events_text(&gone); /* published, with event ids */
    free(text);
    cr_assert_eq(it_sql(it_fmt("UPDATE events SET created_at = now() - interval '8 days'"
                               " WHERE vendor_id IN (SELECT vendor_id FROM customers"
                               " WHERE id IN ('%s', '%s'))",
                               gone.customer_id, kept.customer_id),
                        NULL),
                 0);
    cr_assert_eq(store_init(it_env("LICD_DATABASE_URL")), 0);
    cr_assert_eq(store_maintenance_round(180L * 86400, 7L * 86400), 0);
    store_shutdown();
    text = events_text(&gone);
    cr_assert_str_eq(text, "[]", "an old event nobody waits for is purged");
    free(text);
    text = events_text(&kept);
    cr_assert(strstr(text, "\"type\":\"license.granted\""), "an undelivered event stays: %s",
              text);
    free(text);
    receiver_stop(&r);
    free(gone.vendor);
    free(kept.vendor);
}

/* A purge of many old events runs in chunks of at most STORE_PURGE_CHUNK
 * rows, each its own statement (a statement trigger counts the rows each
 * deleted: one purge of all 25,000 would show as one), found through the
 * index on their age: the round reads what it deletes, not the whole
 * outbox. A database of its own, so that the trigger and the index's
 * counter are the case's alone. */
Test(webhooks, old_events_are_purged_in_chunks_found_by_age, .timeout = 120)
{
    char db[64], url[512], *out = NULL;
    long long scans;

    snprintf(db, sizeof db, "licd_purge_%d", (int)getpid());
    it_new_database(db, url, sizeof url);
    cr_assert_eq(
        it_sql_at(url,
                  it_fmt("CREATE TABLE purge_chunks (n bigint);"
                         " CREATE FUNCTION purge_chunk() RETURNS trigger LANGUAGE plpgsql"
                         " AS \\$\\$ BEGIN INSERT INTO purge_chunks SELECT count(*) FROM gone;"
                         " RETURN NULL; END \\$\\$;"
                         " CREATE TRIGGER purge_chunk AFTER DELETE ON events"
                         " REFERENCING OLD TABLE AS gone FOR EACH STATEMENT"
                         " EXECUTE FUNCTION purge_chunk();"
                         " INSERT INTO vendors (name) VALUES ('purge');"
                         " INSERT INTO events (vendor_id, seq, type, data, created_at)"
                         " SELECT v.id, nextval('event_seq'), 'pack.low', '{}',"
                         " now() - interval '8 days' - g * interval '1 second'"
                         " FROM vendors v, generate_series(1, 25000) g;"
                         " INSERT INTO events (vendor_id, seq, type, data)"
                         " SELECT v.id, nextval('event_seq'), 'pack.low', '{}'"
                         " FROM vendors v, generate_series(1, 3) g;"
                         " ANALYZE events"),
                  NULL),
        0);
    scans = it_index_stat(url, "events_published_age", "idx_scan", -1);
    cr_assert_eq(store_init(url), 0);
    cr_assert_eq(store_maintenance_round(180L * 86400, 7L * 86400), 0);
    store_shutdown();
    cr_assert_eq(it_sql_at(url,
                           "SELECT count(*) FILTER (WHERE created_at < now() - interval '1 day'),"
                           " count(*) FROM events",
                           &out),
                 0);
    cr_assert_str_eq(out, "0|3\n", "the old events go, the new ones stay: %s", out);
    free(out);
    cr_assert_eq(it_sql_at(url,
                           "SELECT string_agg(n::text, ',' ORDER BY n DESC)"
                           " FROM purge_chunks WHERE n > 0",
                           &out),
                 0);
    cr_assert_str_eq(out, "10000,10000,5000\n", "the rows each statement deleted: %s", out);
    free(out);
    /* each of the three chunks through the index */
    it_index_stat(url, "events_published_age", "idx_scan", scans + 3);
    it_sql(it_fmt("DROP DATABASE IF EXISTS %s WITH (FORCE)", db), NULL);
}

/* An event whose transaction began first but commits last is still listed
 * after the last event_id a reader saw: ids are given at publication, in
 * commit order. (The late transaction is psql's: the API has no way to
 * hold a grant's transaction open.) */
Test(webhooks, late_commit_is_not_skipped)
{
    struct world w;
    cJSON *items, *item;
    long long last = 0;
    int late = 0;
    char *out = NULL;

    world_init(&w, "webhooks late commit", 10);
    cr_assert_eq(it_sh(it_fmt("psql '%s' -qc \"BEGIN; INSERT INTO events (vendor_id, type, data)"
                              " SELECT vendor_id, 'pack.low', '{\\\"pack_id\\\":\\\"late\\\","
                              "\\\"quantity\\\":1,\\\"assigned\\\":1}' FROM customers"
                              " WHERE id = '%s'; SELECT pg_sleep(2); COMMIT;\""
                              " >/dev/null 2>&1 &",
                              it_env("LICD_DATABASE_URL"), w.customer_id),
                       &out),
                 0);
    free(out);
    usleep(500000); /* its row is inserted, uncommitted */
    grant(&w, "early", 201, NULL);
    items = it_items("/v1/events?after=0", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1, "only the grant is committed");
    last = event_id(cJSON_GetArrayItem(items, 0));
    cJSON_Delete(items);
    usleep(2500000); /* the late one commits */
    items = it_items(it_fmt("/v1/events?after=%lld", last), w.vendor);
    cJSON_ArrayForEach(item, items) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(item, "data");
        cr_assert_gt(event_id(item), last);
        late += strcmp(it_member_str(data, "pack_id"), "late") == 0;
    }
    cJSON_Delete(items);
    cr_assert_eq(late, 1, "the event that committed late is listed after the last one seen");
    free(w.vendor);
}

/* Publication finds the events to publish, and their rows, by index whatever
 * the statistics say: events analyzed while empty (after a purge, on a new
 * server) once turned its UPDATE into a nested loop over a scan of the whole
 * table for every event published (migration 0023); and a publisher whose
 * session planned it while events was empty kept that plan, a scan of the
 * whole table by its primary key for every event published, after the
 * table had grown (migration 0024). A database of its own, so that its
 * counters are the case's alone, with autovacuum kept off the table so
 * that nothing analyzes it again meanwhile. planned_empty: the one session
 * publishes 8 times while events is empty, then publishes the 3,000. */
static void publication_by_index(int planned_empty)
{
    char db[64], url[512], *out = NULL;
    long long scans, fetched;
    /* 20,000 events published before (a plan that reads every row by the
     * primary key would read them too), then 3,000 to publish. */
    const char *fill = "INSERT INTO events (vendor_id, type, data, seq)"
                       " SELECT v.id, 'license.granted', '{}', nextval('event_seq')"
                       " FROM vendors v, generate_series(1, 20000);"
                       " INSERT INTO events (vendor_id, type, data)"
                       " SELECT v.id, 'license.granted', '{}' FROM vendors v, generate_series(1, 3000);";

    snprintf(db, sizeof db, "licd_publish_%d_%d", (int)getpid(), planned_empty);
    it_new_database(db, url, sizeof url);
    cr_assert_eq(it_sql_at(url,
                           "ALTER TABLE events SET (autovacuum_enabled = off);"
                           " INSERT INTO vendors (name) VALUES ('publication'); ANALYZE events",
                           NULL),
                 0);
    if (!planned_empty) {
        cr_assert_eq(it_sql_at(url, fill, NULL), 0);
        it_table_stat(url, "events", "n_tup_ins", 23000);
    }
    scans = it_table_stat(url, "events", "seq_scan", -1);
    fetched = it_table_stat(url, "events", "idx_tup_fetch", -1);

    cr_assert_eq(it_sql_at(url,
                           planned_empty
                               ? it_fmt("SELECT sum(licd_publish_events(true, 10000))"
                                        " FROM generate_series(1, 8); %s"
                                        " SELECT licd_publish_events(true, 10000)",
                                        fill)
                               : "SELECT licd_publish_events(true, 10000)",
                           &out),
                 0);
    cr_assert_str_eq(out, planned_empty ? "0\n3000\n" : "3000\n", "every event is published at once");
    free(out);
    it_table_stat(url, "events", "n_tup_upd", 3000);
    cr_assert_eq(it_table_stat(url, "events", "seq_scan", -1), scans,
                 "publication scanned the whole table");
    /* The 3,000 from events_unpublished, then each by the primary key. */
    cr_assert_leq(it_table_stat(url, "events", "idx_tup_fetch", -1) - fetched, 2 * 3000,
                  "publication read published events too");
    cr_assert_eq(it_sql_at(url,
                           "SELECT count(*) FILTER (WHERE seq IS NULL), bool_and(by_seq = by_id)"
                           " FROM (SELECT seq, rank() OVER (ORDER BY seq) AS by_seq,"
                           " rank() OVER (ORDER BY id) AS by_id FROM events) e",
                           &out),
                 0);
    cr_assert_str_eq(out, "0|t\n", "seq follows the events' order");
    free(out);
    cr_assert_eq(it_sql(it_fmt("DROP DATABASE %s WITH (FORCE)", db), NULL), 0);
}

Test(webhooks, publication_reads_events_by_index_after_an_empty_analyze)
{
    publication_by_index(0);
}

Test(webhooks, publication_planned_while_events_was_empty_still_reads_by_index)
{
    publication_by_index(1);
}
