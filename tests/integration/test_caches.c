/* What licd keeps in memory must never outlive the facts: a recovered
 * licence is the stored document itself, and a change made anywhere (another
 * node, or plain SQL) stops a cached licence, key or product within a
 * second on every node. Two licd nodes on the test database. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct world {
    char *vendor;
    char customer_id[37], customer[80];
};

static void world_init(struct world *w, int quantity)
{
    w->vendor = it_new_vendor("Cache Vendor");
    it_new_customer(w->vendor, "Cache Customer", w->customer_id, w->customer);
    it_created("/v1/products", w->vendor,
               "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\",\"features\":[\"f\"]}");
    it_created("/v1/packs", w->vendor,
               "{\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1\","
               "\"type\":\"per_device\",\"quantity\":%d}",
               w->customer_id, quantity);
}

static void get_key(const char *key, const char *client, it_response *r)
{
    it_postf("/v1/get_key", key, r, "{\"product\":\"app\",\"client_id\":\"%s\"}", client);
}

/* Asks for the client's licence until the answer has status want; fails
 * unless that happens within a second. Returns the seconds it took. */
static double until_status(const char *key, const char *client, long want)
{
    double start = it_now(), took;
    it_response r;
    for (;;) {
        get_key(key, client, &r);
        took = it_now() - start;
        if (r.status == want) {
            it_response_free(&r);
            return took;
        }
        cr_assert_lt(took, 1.0, "still %ld after a second: %s", r.status, r.body);
        it_response_free(&r);
        usleep(20 * 1000);
    }
}

/* The hits of one cache of the node requests go to now, from /metrics. */
static long long cache_hits(const char *name)
{
    double v;
    long long n = -1;
    expo *e = it_scrape();
    if (expo_value(e, "licd_cache_lookups_total", (const char *[]){"cache", name, "result", "hit", NULL},
                   &v) == 0)
        n = (long long)v;
    expo_free(e);
    return n;
}

/* Whether client's saved document becomes doc within 5 s. */
static int saved_document(const struct world *w, const char *client, const char *doc)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT d.document FROM license_documents d JOIN assignments a"
             " ON a.id = d.assignment_id WHERE a.customer_id = '%s' AND a.client_id = '%s'",
             w->customer_id, client);
    for (int i = 0; i < 50; i++) {
        char *out = NULL;
        int same = it_sql(sql, &out) == 0 && out;
        if (same) {
            out[strcspn(out, "\n")] = '\0';
            same = strcmp(out, doc) == 0;
        }
        free(out);
        if (same)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

Test(caches, a_recovered_licence_is_the_stored_document)
{
    struct world w;
    it_response r;
    char *first;
    cJSON *claims;
    long long issued;

    world_init(&w, 2);
    get_key(w.customer, "pc-1", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    first = strdup(it_str(&r, "license"));
    it_response_free(&r);
    for (int i = 0; i < 3; i++) {
        get_key(w.customer, "pc-1", &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_str_eq(it_str(&r, "license"), first, "a recovery signed the licence again");
        it_response_free(&r);
    }
    /* iat is the issue time, and the document is saved for its row. */
    issued = it_sql_num(it_fmt("SELECT extract(epoch FROM issued_at)::bigint FROM assignments"
                               " WHERE customer_id = '%s' AND client_id = 'pc-1'",
                               w.customer_id));
    claims = it_verify_jwt(first);
    cr_assert_eq((long long)cJSON_GetObjectItem(claims, "iat")->valuedouble, issued);
    cJSON_Delete(claims);
    cr_assert(saved_document(&w, "pc-1", first), "the signed licence was not saved");
    free(first);
    free(w.vendor);
}

Test(caches, a_licence_whose_claims_change_is_signed_again)
{
    struct world w;
    it_response r;
    char *first, *second = NULL, *id = NULL, *left = NULL;
    cJSON *claims;
    long long want = (long long)time(NULL) + 30 * 86400;

    world_init(&w, 2);
    get_key(w.customer, "pc-1", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    first = strdup(it_str(&r, "license"));
    it_response_free(&r);
    cr_assert(saved_document(&w, "pc-1", first), "the signed licence was not saved");
    /* What the licence says changes by hand: the saved document no longer
     * matches its row, and the next answer (once NOTIFY has emptied the
     * answer cache) carries the new expiry, signed and saved anew. */
    cr_assert_eq(it_sql(it_fmt("UPDATE assignments SET expires_at = to_timestamp(%lld)"
                               " WHERE customer_id = '%s' AND client_id = 'pc-1'",
                               want, w.customer_id), NULL), 0);
    for (int i = 0; i < 50 && !second; i++) {
        get_key(w.customer, "pc-1", &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        claims = it_verify_jwt(it_str(&r, "license"));
        if (cJSON_GetObjectItem(claims, "exp") &&
            (long long)cJSON_GetObjectItem(claims, "exp")->valuedouble == want)
            second = strdup(it_str(&r, "license"));
        cJSON_Delete(claims);
        it_response_free(&r);
        if (!second)
            usleep(50 * 1000);
    }
    cr_assert_not_null(second, "the stale document was still handed back");
    cr_assert(saved_document(&w, "pc-1", second), "the licence signed again was not saved");
    /* Blocked and unblocked (NOTIFY empties the answer cache; what the
     * licence says stays): the next recovery reads the saved document from
     * the database and hands it back as it is. */
    cr_assert_eq(it_sql(it_fmt("UPDATE assignments SET blocked = true WHERE customer_id = '%s'",
                               w.customer_id), NULL), 0);
    until_status(w.customer, "pc-1", 403);
    cr_assert_eq(it_sql(it_fmt("UPDATE assignments SET blocked = false WHERE customer_id = '%s'",
                               w.customer_id), NULL), 0);
    until_status(w.customer, "pc-1", 200);
    get_key(w.customer, "pc-1", &r);
    cr_assert_str_eq(it_str(&r, "license"), second, "the saved document is not the one recovered");
    it_response_free(&r);
    /* A licence deleted (by hand: no route deletes one) takes its document along. */
    cr_assert_eq(it_sql(it_fmt("SELECT id FROM assignments WHERE customer_id = '%s'", w.customer_id),
                        &id), 0);
    id[strcspn(id, "\n")] = '\0';
    cr_assert_eq(it_sql(it_fmt("DELETE FROM assignments WHERE id = %s", id), NULL), 0);
    cr_assert_eq(it_sql(it_fmt("SELECT count(*) FROM license_documents WHERE assignment_id = %s", id),
                        &left), 0);
    cr_assert_eq(atoi(left), 0, "the deleted licence's document is still there");
    free(id);
    free(left);
    free(first);
    free(second);
    free(w.vendor);
}

Test(caches, changes_reach_every_node_within_a_second, .timeout = 60)
{
    struct world w;
    it_response r;
    char url[64], sql[512], path[128], *dir;
    int pid = it_start_node(NULL, url, sizeof url, &dir);

    world_init(&w, 4);
    /* The licence is held and recovered (so cached) on the second node. */
    it_use_url(url);
    get_key(w.customer, "pc-a", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(path, sizeof path, "/v1/licenses/%s/block", it_str(&r, "license_id"));
    it_response_free(&r);
    /* ... and that node answers from its caches, not the database. An
     * answer is kept only when no licence was invalidated while it was
     * read (the cache's generation), and this file's other tests change
     * theirs meanwhile: ask again until one is kept and found. */
    for (int i = 0; i < 40; i++) {
        get_key(w.customer, "pc-a", &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        it_response_free(&r);
        if (cache_hits("licenses") >= 1 && cache_hits("customer_keys") >= 1 &&
            cache_hits("products") >= 1)
            break;
        usleep(50 * 1000);
    }
    cr_assert_geq(cache_hits("licenses"), 1);
    cr_assert_geq(cache_hits("customer_keys"), 1);
    cr_assert_geq(cache_hits("products"), 1);

    /* Blocked through the first node's API. */
    it_use_url(it_env("LICD_TEST_URL"));
    it_json("POST", path, w.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    it_use_url(url);
    until_status(w.customer, "pc-a", 403);

    /* Unblocked by hand in the database, behind every node's back. */
    snprintf(sql, sizeof sql, "UPDATE assignments SET blocked = false WHERE customer_id = '%s'",
             w.customer_id);
    cr_assert_eq(it_sql(sql, NULL), 0);
    until_status(w.customer, "pc-a", 200);

    /* A product that starts asking for a platform challenge. */
    snprintf(sql, sizeof sql,
             "UPDATE products SET require_challenge = true WHERE vendor_id ="
             " (SELECT vendor_id FROM customers WHERE id = '%s')", w.customer_id);
    cr_assert_eq(it_sql(sql, NULL), 0);
    until_status(w.customer, "pc-a", 403);

    /* A customer key revoked in the database. */
    snprintf(sql, sizeof sql, "UPDATE customer_keys SET revoked_at = now() WHERE customer_id = '%s'",
             w.customer_id);
    cr_assert_eq(it_sql(sql, NULL), 0);
    until_status(w.customer, "pc-a", 401);
    it_use_url(it_env("LICD_TEST_URL"));
    until_status(w.customer, "pc-a", 401);

    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(w.vendor);
}
