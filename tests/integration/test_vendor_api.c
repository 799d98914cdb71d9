/* The vendor side of packs over HTTP against the real licd and PostgreSQL:
 * customers (list), products and upgrade paths, packs (idempotent, also
 * under concurrency), assignments, blocking, and the audit trail. Every bad
 * request is checked to change nothing, and every other vendor's id to be 404. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fill.h"
#include "harness.h"

/* A vendor with one customer and one product "app" (version 1.0); each
 * test makes its own, so tests are independent and run in parallel. */
struct world {
    char *vendor;
    char customer_id[37], customer[80];
};

static void world_init(struct world *w, const char *name)
{
    it_response r;
    w->vendor = it_new_vendor(name);
    it_new_customer(w->vendor, "Customer One", w->customer_id, w->customer);
    it_postf("/v1/products", w->vendor, &r,
             "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1.0\",\"features\":[\"f1\"]}");
    cr_assert_eq(r.status, 201, "create product: %s", r.body);
    it_response_free(&r);
}

static void world_free(struct world *w) { free(w->vendor); }

/* Asserts a problem answer whose detail mentions what (when given). */
static void expect_problem(long status, const char *code, const char *what, const char *method,
                           const char *path, const char *key, const char *body)
{
    it_response r;
    it_json(method, path, key, body, &r);
    cr_assert_eq(r.status, status, "%s %s %s: expected %ld, got %ld: %s", method, path,
                 body ? body : "", status, r.status, r.body);
    it_assert_problem(&r, status, code);
    if (what)
        cr_assert(strstr(it_str(&r, "detail"), what), "detail of %s lacks \"%s\": %s",
                  body ? body : path, what, r.body);
    it_response_free(&r);
}

static double num(const it_response *r, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, field);
    cr_assert(cJSON_IsNumber(v), "%s is not a number in %s", field, r->body);
    return v->valuedouble;
}

static int items_count(const it_response *r)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r->json, "items");
    cr_assert(cJSON_IsArray(items), "no items in %s", r->body);
    return cJSON_GetArraySize(items);
}

static const cJSON *item(const it_response *r, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "items"), i);
}

static const char *item_str(const it_response *r, int i, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item(r, i), field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* How many audit entries the vendor has: every vendor write adds one. */
static int audit_count(const char *key)
{
    it_response r;
    int n;
    it_expect(&r, 200, "GET", "/v1/audit?limit=500", key, NULL);
    n = items_count(&r);
    it_response_free(&r);
    return n;
}

/* A pack of the world's customer; returns its answer (caller frees). */
static void post_pack(struct world *w, it_response *r, long status, const char *pack_id,
                      int quantity, const char *extra)
{
    const char *body = it_fmt("{%s%s%s\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1.0\","
                         "\"type\":\"per_device\",\"quantity\":%d%s}",
                         pack_id ? "\"pack_id\":\"" : "", pack_id ? pack_id : "",
                         pack_id ? "\"," : "", w->customer_id, quantity, extra ? extra : "");
    it_expect(r, status, "POST", "/v1/packs", w->vendor, body);
}

/* A licence through the client API; returns its license_id (caller frees). */
static char *get_key(const char *customer_key, const char *client_id)
{
    it_response r;
    char *id;
    it_postf("/v1/get_key", customer_key, &r, "{\"product\":\"app\",\"client_id\":\"%s\"}",
             client_id);
    cr_assert(r.status == 201 || r.status == 200, "get_key: %ld %s", r.status, r.body);
    id = strdup(it_str(&r, "license_id"));
    it_response_free(&r);
    return id;
}

/* ---- authentication, the same on every vendor endpoint ---- */

static const char *const vendor_routes[][2] = {
    {"GET", "/v1/customers"},
    {"POST", "/v1/products"},
    {"GET", "/v1/products/app"},
    {"POST", "/v1/products/app/upgrade-paths"},
    {"POST", "/v1/packs"},
    {"GET", "/v1/packs/p1"},
    {"GET", "/v1/assignments"},
    {"POST", "/v1/licenses/1/block"},
    {"POST", "/v1/licenses/1/unblock"},
    {"POST", "/v1/client-images"},
    {"GET", "/v1/audit"},
};

Test(vendor_auth, no_key_is_401_and_a_customer_key_is_403_everywhere)
{
    struct world w;
    world_init(&w, "Auth Vendor");
    for (size_t i = 0; i < sizeof vendor_routes / sizeof vendor_routes[0]; i++) {
        const char *m = vendor_routes[i][0], *p = vendor_routes[i][1];
        const char *body = strcmp(m, "POST") == 0 ? "{}" : NULL;
        expect_problem(401, "unauthorized", NULL, m, p, NULL, body);
        expect_problem(401, "unauthorized", NULL, m, p,
                       "lv_0000000000000000000000000000000000000000000000000000000000000000", body);
        expect_problem(403, "forbidden", NULL, m, p, w.customer, body);
    }
    /* The key is checked before the body is even parsed. */
    expect_problem(401, "unauthorized", NULL, "POST", "/v1/packs", NULL, "{not json");
    cr_assert_eq(audit_count(w.vendor), 2, "customer and product only");
    world_free(&w);
}

/* ---- customers ---- */

Test(customers, list_pages_through_every_customer_in_order)
{
    char *key = it_new_vendor("Paging Vendor"), *other = it_new_vendor("Other Paging Vendor");
    char ids[7][37], ckey[80], cursor[256];
    it_response r;
    int seen = 0;

    for (int i = 0; i < 7; i++)
        it_new_customer(key, it_fmt("Customer %d", i), ids[i], ckey);
    cursor[0] = '\0';
    for (int page = 0; page < 3; page++) {
        it_expect(&r, 200, "GET", it_fmt("/v1/customers?limit=3%s%s", *cursor ? "&cursor=" : "", cursor),
               key, NULL);
        cr_assert_eq(items_count(&r), page < 2 ? 3 : 1, "page %d: %s", page, r.body);
        for (int i = 0; i < items_count(&r); i++, seen++) {
            cr_assert_str_eq(item_str(&r, i, "customer_id"), ids[seen]);
            cr_assert_str_eq(item_str(&r, i, "name"), it_fmt("Customer %d", seen));
            cr_assert(item_str(&r, i, "created_at"));
            cr_assert_null(cJSON_GetObjectItem(item(&r, i), "customer_key"), "keys are shown once");
        }
        if (page < 2) {
            cr_assert(it_str(&r, "next"), "page %d has no next: %s", page, r.body);
            snprintf(cursor, sizeof cursor, "%s", it_str(&r, "next"));
        } else {
            cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next")), "%s", r.body);
        }
        it_response_free(&r);
    }
    cr_assert_eq(seen, 7);

    /* Default limit: all seven in one page; another vendor sees none. */
    it_expect(&r, 200, "GET", "/v1/customers", key, NULL);
    cr_assert_eq(items_count(&r), 7);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next")));
    it_response_free(&r);
    it_expect(&r, 200, "GET", "/v1/customers", other, NULL);
    cr_assert_eq(items_count(&r), 0);
    it_response_free(&r);
    free(key);
    free(other);
}

Test(customers, get_one_and_nobody_elses)
{
    char *vendor = it_new_vendor("Customer Get"), *other = it_new_vendor("Other Vendor");
    char id[37], key[80], path[96];
    it_response r;
    it_new_customer(vendor, "Acme GmbH", id, key);
    snprintf(path, sizeof path, "/v1/customers/%s", id);
    it_json("GET", path, vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "customer_id"), id);
    cr_assert_str_eq(it_str(&r, "name"), "Acme GmbH");
    cr_assert_null(it_str(&r, "customer_key"), "the key is shown only at creation");
    it_response_free(&r);
    it_json("GET", path, other, NULL, &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    it_json("GET", "/v1/customers/not-a-uuid", vendor, NULL, &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    it_json("GET", path, key, NULL, &r);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    free(vendor);
    free(other);
}

Test(customers, bad_limit_or_cursor_is_400)
{
    char *key = it_new_vendor("Bad Paging Vendor");
    const char *bad[] = {"limit=0",  "limit=501",  "limit=-1", "limit=abc", "limit=",
                         "limit=1.5", "cursor=%21%21", "cursor=bm90LWEtbnVtYmVy", "cursor="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_problem(400, "invalid_field", strncmp(bad[i], "limit", 5) == 0 ? "limit" : "cursor",
                       "GET", it_fmt("/v1/customers?%s", bad[i]), key, NULL);
    free(key);
}

/* A refused customer creation creates nobody: the list holds the one
 * customer from before, and nothing is audited. */
Test(customers, bad_bodies_create_nothing)
{
    char *key = it_new_vendor("Bad Customer Vendor"), id[37], ckey[80], longname[256];
    it_response r;
    struct {
        const char *body, *code, *what;
    } cases[] = {
        {"{\"name\":", "malformed_json", NULL},
        {"[\"Acme\"]", "malformed_json", NULL},
        {"", "malformed_json", NULL},
        {"{\"name\":\"Acme\",\"name\":\"Acme\"}", "malformed_json", NULL},
        {"{}", "invalid_field", "name"},
        {"{\"title\":\"Acme\"}", "invalid_field", "name"},
        {"{\"name\":null}", "invalid_field", "name"},
        {"{\"name\":5}", "invalid_field", "name"},
        {"{\"name\":[\"Acme\"]}", "invalid_field", "name"},
        {"{\"name\":\"\"}", "invalid_field", "name"},
        {longname, "invalid_field", "name"},
    };

    snprintf(longname, sizeof longname, "{\"name\":\"%0201d\"}", 0);
    it_new_customer(key, "The One", id, ckey);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_problem(400, cases[i].code, cases[i].what, "POST", "/v1/customers", key,
                       cases[i].body);
    it_expect(&r, 200, "GET", "/v1/customers", key, NULL);
    cr_assert_eq(items_count(&r), 1, "%s", r.body);
    cr_assert_str_eq(item_str(&r, 0, "customer_id"), id);
    cr_assert_str_eq(item_str(&r, 0, "name"), "The One");
    it_response_free(&r);
    cr_assert_eq(audit_count(key), 1);
    free(key);
}

/* ---- products ---- */

Test(products, create_then_get)
{
    char *key = it_new_vendor("Product Vendor");
    it_response r, g;
    const cJSON *features;

    it_expect(&r, 201, "POST", "/v1/products", key,
           "{\"code\":\"cad-pro.x_1\",\"name\":\"CAD Pro\",\"version\":\"2024.1\","
           "\"scheme\":\"node-locked\",\"features\":[\"render\",\"export\"],"
           "\"require_challenge\":true}");
    cr_assert_str_eq(it_str(&r, "code"), "cad-pro.x_1");
    cr_assert_str_eq(it_str(&r, "name"), "CAD Pro");
    cr_assert_str_eq(it_str(&r, "version"), "2024.1");
    cr_assert_str_eq(it_str(&r, "scheme"), "node-locked");
    features = cJSON_GetObjectItem(r.json, "features");
    cr_assert_eq(cJSON_GetArraySize(features), 2);
    cr_assert_str_eq(cJSON_GetArrayItem(features, 1)->valuestring, "export");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "require_challenge")));
    cr_assert(it_str(&r, "created_at"));
    it_expect(&g, 200, "GET", "/v1/products/cad-pro.x_1", key, NULL);
    cr_assert_str_eq(g.body, r.body, "GET answers what POST did");
    it_response_free(&r);
    it_response_free(&g);

    /* Defaults. */
    it_expect(&r, 201, "POST", "/v1/products", key,
           "{\"code\":\"lite\",\"name\":\"Lite\",\"version\":\"1\"}");
    cr_assert_str_eq(it_str(&r, "scheme"), "standard");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "features")), 0);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "require_challenge")));
    it_response_free(&r);
    free(key);
}

Test(products, duplicate_code_is_409_but_another_vendor_may_use_it)
{
    char *a = it_new_vendor("Dup A"), *b = it_new_vendor("Dup B");
    it_response r;
    const char *body = "{\"code\":\"same\",\"name\":\"First\",\"version\":\"1\"}";
    it_expect(&r, 201, "POST", "/v1/products", a, body);
    it_response_free(&r);
    expect_problem(409, "conflict", "same", "POST", "/v1/products", a,
                   "{\"code\":\"same\",\"name\":\"Second\",\"version\":\"2\"}");
    it_expect(&r, 200, "GET", "/v1/products/same", a, NULL);
    cr_assert_str_eq(it_str(&r, "name"), "First");
    cr_assert_str_eq(it_str(&r, "version"), "1");
    it_response_free(&r);
    it_expect(&r, 201, "POST", "/v1/products", b, body);
    it_response_free(&r);
    cr_assert_eq(audit_count(a), 1);
    free(a);
    free(b);
}

Test(products, bad_bodies_change_nothing)
{
    char *key = it_new_vendor("Bad Product Vendor");
    char many[8192], longcode[160];
    size_t n = 0;
    struct {
        const char *body, *code, *what;
    } cases[] = {
        {"{\"code\":", "malformed_json", NULL},
        {"[1]", "malformed_json", NULL},
        {"", "malformed_json", NULL},
        {"{}", "invalid_field", "code"},
        {"{\"code\":7,\"name\":\"N\",\"version\":\"1\"}", "invalid_field", "code"},
        {"{\"code\":\"Upper\",\"name\":\"N\",\"version\":\"1\"}", "invalid_field", "code"},
        {"{\"code\":\"has space\",\"name\":\"N\",\"version\":\"1\"}", "invalid_field", "code"},
        {"{\"code\":\"\",\"name\":\"N\",\"version\":\"1\"}", "invalid_field", "code"},
        {"{\"code\":\"ok\",\"version\":\"1\"}", "invalid_field", "name"},
        {"{\"code\":\"ok\",\"name\":\"\",\"version\":\"1\"}", "invalid_field", "name"},
        {"{\"code\":\"ok\",\"name\":\"N\"}", "invalid_field", "version"},
        {"{\"code\":\"ok\",\"name\":\"N\",\"version\":1}", "invalid_field", "version"},
        {"{\"code\":\"ok\",\"name\":\"N\",\"version\":\"1\",\"scheme\":\"\"}", "invalid_field",
         "scheme"},
        {"{\"code\":\"ok\",\"name\":\"N\",\"version\":\"1\",\"features\":\"a\"}", "invalid_field",
         "features"},
        {"{\"code\":\"ok\",\"name\":\"N\",\"version\":\"1\",\"features\":[1]}", "invalid_field",
         "features"},
        {"{\"code\":\"ok\",\"name\":\"N\",\"version\":\"1\",\"features\":[\"a\",\"a\"]}",
         "invalid_field", "features"},
        {"{\"code\":\"ok\",\"name\":\"N\",\"version\":\"1\",\"require_challenge\":\"yes\"}",
         "invalid_field", "require_challenge"},
        {many, "invalid_field", "features"},
        {longcode, "invalid_field", "code"},
    };

    n += (size_t)snprintf(many, sizeof many,
                          "{\"code\":\"ok\",\"name\":\"N\",\"version\":\"1\",\"features\":[");
    for (int i = 0; i < 201; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "%s\"f%d\"", i ? "," : "", i);
    snprintf(many + n, sizeof many - n, "]}");
    snprintf(longcode, sizeof longcode, "{\"code\":\"%065d\",\"name\":\"N\",\"version\":\"1\"}", 0);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_problem(400, cases[i].code, cases[i].what, "POST", "/v1/products", key,
                       cases[i].body);
    {
        it_response r;
        char auth[128];
        const char *h[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        it_request("POST", "/v1/products", h, "{}", 2, &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    expect_problem(404, "not_found", "ok", "GET", "/v1/products/ok", key, NULL);
    cr_assert_eq(audit_count(key), 0);
    free(key);
}

Test(products, another_vendors_product_is_404)
{
    struct world a, b;
    world_init(&a, "Owner");
    world_init(&b, "Snooper");
    expect_problem(404, "not_found", NULL, "GET", "/v1/products/nothing", a.vendor, NULL);
    expect_problem(404, "not_found", NULL, "GET", "/v1/products/%2e%2e", a.vendor, NULL);
    /* b has its own "app"; a product only a has is not b's. */
    {
        it_response r;
        it_expect(&r, 201, "POST", "/v1/products", a.vendor,
               "{\"code\":\"only-a\",\"name\":\"A\",\"version\":\"1\"}");
        it_response_free(&r);
    }
    expect_problem(404, "not_found", NULL, "GET", "/v1/products/only-a", b.vendor, NULL);
    expect_problem(404, "not_found", NULL, "POST", "/v1/products/only-a/upgrade-paths", b.vendor,
                   "{\"from_version\":\"1\",\"to_version\":\"2\"}");
    cr_assert_eq(audit_count(a.vendor), 3);
    cr_assert_eq(audit_count(b.vendor), 2);
    world_free(&a);
    world_free(&b);
}

/* ---- upgrade paths ---- */

Test(upgrade_paths, created_once_then_answered_as_stored)
{
    struct world w;
    it_response r, again;
    world_init(&w, "Upgrade Vendor");
    it_expect(&r, 201, "POST", "/v1/products/app/upgrade-paths", w.vendor,
           "{\"from_version\":\"1.0\",\"to_version\":\"2.0\"}");
    cr_assert_str_eq(it_str(&r, "product"), "app");
    cr_assert_str_eq(it_str(&r, "from_version"), "1.0");
    cr_assert_str_eq(it_str(&r, "to_version"), "2.0");
    it_expect(&again, 200, "POST", "/v1/products/app/upgrade-paths", w.vendor,
           "{\"from_version\":\"1.0\",\"to_version\":\"2.0\"}");
    cr_assert_str_eq(again.body, r.body);
    it_response_free(&r);
    it_response_free(&again);
    it_expect(&r, 201, "POST", "/v1/products/app/upgrade-paths", w.vendor,
           "{\"from_version\":\"2.0\",\"to_version\":\"3.0\"}");
    it_response_free(&r);
    cr_assert_eq(audit_count(w.vendor), 4, "customer, product and two new paths");
    world_free(&w);
}

Test(upgrade_paths, bad_requests_change_nothing)
{
    struct world w;
    const char *p = "/v1/products/app/upgrade-paths";
    world_init(&w, "Bad Upgrade Vendor");
    expect_problem(400, "malformed_json", NULL, "POST", p, w.vendor, "{\"from_version\"");
    expect_problem(400, "invalid_field", "from_version", "POST", p, w.vendor,
                   "{\"to_version\":\"2\"}");
    expect_problem(400, "invalid_field", "to_version", "POST", p, w.vendor,
                   "{\"from_version\":\"1\"}");
    expect_problem(400, "invalid_field", "from_version", "POST", p, w.vendor,
                   "{\"from_version\":1,\"to_version\":\"2\"}");
    expect_problem(400, "invalid_field", "to_version", "POST", p, w.vendor,
                   "{\"from_version\":\"1\",\"to_version\":\"1\"}");
    expect_problem(400, "invalid_field", "to_version", "POST", p, w.vendor,
                   "{\"from_version\":\"1\",\"to_version\":\"\"}");
    expect_problem(404, "not_found", "nope", "POST", "/v1/products/nope/upgrade-paths", w.vendor,
                   "{\"from_version\":\"1\",\"to_version\":\"2\"}");
    cr_assert_eq(audit_count(w.vendor), 2);
    world_free(&w);
}

/* ---- packs ---- */

Test(packs, create_with_every_field_then_get)
{
    struct world w;
    it_response r, g;
    const cJSON *attrs;
    world_init(&w, "Pack Vendor");
    it_expect(&r, 201, "POST", "/v1/packs", w.vendor,
           it_fmt("{\"pack_id\":\"PK-2026.01_a\",\"customer_id\":\"%s\",\"product\":\"app\","
             "\"version\":\"1.0\",\"type\":\"per_user\",\"quantity\":25,\"begin_serial\":1000,"
             "\"first_active\":\"2026-01-01T00:00:00+01:00\",\"expires\":\"2027-01-01T00:00:00Z\","
             "\"platform\":\"windows\",\"attributes\":{\"seats_per_site\":5,\"tags\":[\"x\"]}}",
             w.customer_id));
    cr_assert_str_eq(it_str(&r, "pack_id"), "PK-2026.01_a");
    cr_assert_str_eq(it_str(&r, "customer_id"), w.customer_id);
    cr_assert_str_eq(it_str(&r, "product"), "app");
    cr_assert_str_eq(it_str(&r, "version"), "1.0");
    cr_assert_str_eq(it_str(&r, "type"), "per_user");
    cr_assert_eq(num(&r, "quantity"), 25);
    cr_assert_eq(num(&r, "assigned"), 0);
    cr_assert_eq(num(&r, "begin_serial"), 1000);
    cr_assert_str_eq(it_str(&r, "first_active"), "2025-12-31T23:00:00Z");
    cr_assert_str_eq(it_str(&r, "expires"), "2027-01-01T00:00:00Z");
    cr_assert_str_eq(it_str(&r, "platform"), "windows");
    cr_assert(it_str(&r, "issued_at"));
    attrs = cJSON_GetObjectItem(r.json, "attributes");
    cr_assert_eq(cJSON_GetObjectItem(attrs, "seats_per_site")->valueint, 5);
    it_expect(&g, 200, "GET", "/v1/packs/PK-2026.01_a", w.vendor, NULL);
    cr_assert_str_eq(g.body, r.body);
    it_response_free(&r);
    it_response_free(&g);
    world_free(&w);
}

Test(packs, defaults_and_generated_ids_and_serials)
{
    struct world w;
    it_response a, b;
    const char *id;
    world_init(&w, "Default Pack Vendor");
    post_pack(&w, &a, 201, NULL, 10, NULL);
    id = it_str(&a, "pack_id");
    cr_assert(id && strncmp(id, "pk_", 3) == 0 && strlen(id) == 19 &&
                  strspn(id + 3, "0123456789abcdef") == 16,
              "generated pack_id: %s", a.body);
    cr_assert_eq(num(&a, "begin_serial"), 1, "a new vendor's serials start at 1");
    cr_assert_str_eq(it_str(&a, "platform"), "any");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(a.json, "expires")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a.json, "attributes")), 0);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(a.json, "attributes")));
    cr_assert(it_str(&a, "first_active") && it_str(&a, "issued_at"), "%s", a.body);
    post_pack(&w, &b, 201, NULL, 5, NULL);
    cr_assert_str_neq(it_str(&b, "pack_id"), id);
    cr_assert_eq(num(&b, "begin_serial"), 11, "the next free serial: %s", b.body);
    it_response_free(&a);
    it_response_free(&b);
    world_free(&w);
}

Test(packs, posted_again_the_same_is_200_and_different_is_409)
{
    struct world w;
    it_response first, again, g;
    /* Each differs from the installed pack in the one field named. */
    static const struct {
        int quantity;
        const char *attributes, *extra, *field;
    } differing[] = {
        {99, "{\"a\":1,\"b\":[2]}", "", "quantity"},
        {10, "{\"a\":1,\"b\":[2]}", ",\"platform\":\"legacy\"", "platform"},
        {10, "{\"a\":1,\"b\":[2]}", ",\"begin_serial\":5000", "begin_serial"},
        {10, "{\"a\":1,\"b\":[2]}", ",\"first_active\":\"2020-01-01T00:00:00Z\"", "first_active"},
        {10, "{\"a\":1,\"b\":[2]}", ",\"expires\":\"2099-01-01T00:00:00Z\"", "expires"},
        {10, "{\"a\":1,\"b\":[2]}", ",\"on_over_limit\":\"report\"", "on_over_limit"},
        {10, "{\"a\":1,\"b\":[2,3]}", "", "attributes"},
        {10, "{}", "", "attributes"},
    };
    world_init(&w, "Twice Vendor");
    post_pack(&w, &first, 201, "twice", 10, ",\"attributes\":{\"a\":1,\"b\":[2]}");
    /* The same fields, members in another order, defaults spelled out. */
    post_pack(&w, &again, 200, "twice", 10,
              it_fmt(",\"attributes\":{\"b\":[2],\"a\":1},\"platform\":\"any\","
                "\"on_over_limit\":\"refuse\",\"begin_serial\":%.0f,\"first_active\":\"%s\"",
                num(&first, "begin_serial"), it_str(&first, "first_active")));
    cr_assert_str_eq(again.body, first.body);
    it_response_free(&again);
    for (size_t i = 0; i < sizeof differing / sizeof differing[0]; i++) {
        const char *body = it_fmt("{\"pack_id\":\"twice\",\"customer_id\":\"%s\",\"product\":\"app\","
                             "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":%d,"
                             "\"attributes\":%s%s}",
                             w.customer_id, differing[i].quantity, differing[i].attributes,
                             differing[i].extra);
        expect_problem(409, "conflict", differing[i].field, "POST", "/v1/packs", w.vendor, body);
    }
    {
        char other_id[37], other_key[80];
        it_new_customer(w.vendor, "Customer Two", other_id, other_key);
        expect_problem(409, "conflict", "customer_id", "POST", "/v1/packs", w.vendor,
                       it_fmt("{\"pack_id\":\"twice\",\"customer_id\":\"%s\",\"product\":\"app\","
                         "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":10,"
                         "\"attributes\":{\"a\":1,\"b\":[2]}}",
                         other_id));
    }
    it_expect(&g, 200, "GET", "/v1/packs/twice", w.vendor, NULL);
    cr_assert_str_eq(g.body, first.body, "a refused post changed the pack");
    it_response_free(&first);
    it_response_free(&g);
    cr_assert_eq(audit_count(w.vendor), 4, "pack and customer created; repeats are no new action");
    world_free(&w);
}

struct racer {
    const char *url, *key, *body;
    long status;
    char *answer;
};

static size_t gather(char *data, size_t size, size_t n, void *p)
{
    struct racer *r = p;
    size_t old = r->answer ? strlen(r->answer) : 0, add = size * n;
    char *grown = realloc(r->answer, old + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + old, data, add);
    grown[old + add] = '\0';
    r->answer = grown;
    return add;
}

/* One POST from its own thread (libcurl directly: Criterion's asserts
 * belong to the test's thread). */
static void *race(void *p)
{
    struct racer *r = p;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->key);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gather);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

#define RACERS 8

/* RACERS threads post bodies[i] at once; statuses and answers land in r. */
static void run_race(struct world *w, const char *const *bodies, struct racer *r)
{
    pthread_t t[RACERS];
    char url[256];
    snprintf(url, sizeof url, "%s/v1/packs", it_url());
    curl_global_init(CURL_GLOBAL_ALL);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){url, w->vendor, bodies[i], 0, NULL};
        cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < RACERS; i++)
        r[i].url = NULL; /* url is this frame's */
}

static void concurrent_same_pack(const char *pack_id, const char *extra)
{
    struct world w;
    struct racer r[RACERS];
    const char *bodies[RACERS];
    it_response g;
    char body[1024];
    int created = 0;

    world_init(&w, "Race Vendor");
    snprintf(body, sizeof body,
             "{\"pack_id\":\"%s\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1.0\","
             "\"type\":\"concurrent\",\"quantity\":7%s}",
             pack_id, w.customer_id, extra);
    for (int i = 0; i < RACERS; i++)
        bodies[i] = body;
    run_race(&w, bodies, r);
    for (int i = 0; i < RACERS; i++) {
        cr_assert(r[i].status == 201 || r[i].status == 200, "racer %d: %ld %s", i, r[i].status,
                  r[i].answer);
        created += r[i].status == 201;
        cr_assert_str_eq(r[i].answer, r[0].answer, "racer %d answered differently", i);
    }
    cr_assert_eq(created, 1, "installed %d times", created);
    it_expect(&g, 200, "GET", it_fmt("/v1/packs/%s", pack_id), w.vendor, NULL);
    cr_assert_eq(num(&g, "quantity"), 7);
    cr_assert_str_eq(g.body, r[0].answer);
    it_response_free(&g);
    cr_assert_eq(audit_count(w.vendor), 3, "one pack creation");
    for (int i = 0; i < RACERS; i++)
        free(r[i].answer);
    world_free(&w);
}

Test(packs, posted_concurrently_is_installed_once)
{
    concurrent_same_pack("race-generated", "");
}

Test(packs, posted_concurrently_with_a_given_serial_is_installed_once)
{
    concurrent_same_pack("race-explicit", ",\"begin_serial\":500");
}

Test(packs, different_packs_at_once_get_disjoint_serials)
{
    struct world w;
    struct racer r[RACERS];
    char *bodies[RACERS];
    long long begin[RACERS];

    world_init(&w, "Serial Race Vendor");
    for (int i = 0; i < RACERS; i++)
        bodies[i] = strdup(it_fmt("{\"pack_id\":\"p%d\",\"customer_id\":\"%s\",\"product\":\"app\","
                             "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":10}",
                             i, w.customer_id));
    run_race(&w, (const char *const *)bodies, r);
    for (int i = 0; i < RACERS; i++) {
        cJSON *j = cJSON_Parse(r[i].answer);
        cr_assert_eq(r[i].status, 201, "racer %d: %ld %s", i, r[i].status, r[i].answer);
        begin[i] = (long long)cJSON_GetObjectItem(j, "begin_serial")->valuedouble;
        cJSON_Delete(j);
        for (int k = 0; k < i; k++)
            cr_assert(begin[i] + 10 <= begin[k] || begin[k] + 10 <= begin[i],
                      "ranges at %lld and %lld overlap", begin[i], begin[k]);
        free(r[i].answer);
        free(bodies[i]);
    }
    world_free(&w);
}

Test(packs, overlapping_serials_are_409_and_install_nothing)
{
    struct world w;
    it_response r;
    world_init(&w, "Overlap Vendor");
    post_pack(&w, &r, 201, "base", 100, ",\"begin_serial\":1000");
    it_response_free(&r);
    {
        const char *body = it_fmt("{\"pack_id\":\"overlap\",\"customer_id\":\"%s\",\"product\":\"app\","
                             "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":10,"
                             "\"begin_serial\":1095}",
                             w.customer_id);
        expect_problem(409, "serial_range_taken", "1095", "POST", "/v1/packs", w.vendor, body);
    }
    expect_problem(404, "not_found", NULL, "GET", "/v1/packs/overlap", w.vendor, NULL);
    /* Adjacent ranges are fine; the next generated serial follows the highest. */
    post_pack(&w, &r, 201, "adjacent", 10, ",\"begin_serial\":1100");
    it_response_free(&r);
    post_pack(&w, &r, 201, "after", 1, NULL);
    cr_assert_eq(num(&r, "begin_serial"), 1110);
    it_response_free(&r);
    /* Another vendor's serials are its own. */
    {
        struct world o;
        world_init(&o, "Overlap Other");
        post_pack(&o, &r, 201, "base", 100, ",\"begin_serial\":1000");
        it_response_free(&r);
        world_free(&o);
    }
    world_free(&w);
}

Test(packs, bad_bodies_change_nothing)
{
    struct world w;
    char big[70 * 1024];
    int before;
    const char *base = "\"pack_id\":\"bad\",\"product\":\"app\",\"version\":\"1.0\"";
    struct {
        const char *fields, *what; /* fields: %s the customer id */
    } cases[] = {
        {"\"customer_id\":\"%s\",\"type\":\"per_device\"", "quantity"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":0", "quantity"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":-3", "quantity"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":100000001", "quantity"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":1e300", "quantity"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":2.5", "quantity"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":\"5\"", "quantity"},
        {"\"customer_id\":\"%s\",\"quantity\":5", "type"},
        {"\"customer_id\":\"%s\",\"type\":\"site\",\"quantity\":5", "type"},
        {"\"customer_id\":\"%s\",\"type\":5,\"quantity\":5", "type"},
        {"\"type\":\"per_device\",\"quantity\":5", "customer_id"},
        {"\"customer_id\":42,\"type\":\"per_device\",\"quantity\":5", "customer_id"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"platform\":\"mac\"",
         "platform"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"begin_serial\":0",
         "begin_serial"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"begin_serial\":-1",
         "begin_serial"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,"
         "\"begin_serial\":1000000000000000",
         "begin_serial"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,"
         "\"begin_serial\":999999999999998",
         "begin_serial"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"first_active\":\"soon\"",
         "first_active"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,"
         "\"first_active\":\"2026-02-30T00:00:00Z\"",
         "first_active"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"expires\":\"2027-01-01\"",
         "expires"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"expires\":1234",
         "expires"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,"
         "\"first_active\":\"2027-01-01T00:00:00Z\",\"expires\":\"2026-01-01T00:00:00Z\"",
         "expires"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,"
         "\"first_active\":\"2027-01-01T00:00:00Z\",\"expires\":\"2027-01-01T00:00:00Z\"",
         "expires"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,"
         "\"expires\":\"2020-01-01T00:00:00Z\"",
         "expires"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"attributes\":[1]",
         "attributes"},
        {"\"customer_id\":\"%s\",\"type\":\"per_device\",\"quantity\":5,\"attributes\":\"a=b\"",
         "attributes"},
    };

    world_init(&w, "Bad Pack Vendor");
    before = audit_count(w.vendor);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char fields[512];
        cr_assert_eq(test_fill(fields, sizeof fields, cases[i].fields, w.customer_id), 0);
        expect_problem(400, "invalid_field", cases[i].what, "POST", "/v1/packs", w.vendor,
                       it_fmt("{%s,%s}", base, fields));
    }
    /* Field-level problems of the identifiers. */
    expect_problem(400, "invalid_field", "pack_id", "POST", "/v1/packs", w.vendor,
                   it_fmt("{\"pack_id\":\"has space\",\"customer_id\":\"%s\",\"product\":\"app\","
                     "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":5}",
                     w.customer_id));
    expect_problem(400, "invalid_field", "pack_id", "POST", "/v1/packs", w.vendor,
                   it_fmt("{\"pack_id\":\"%065d\",\"customer_id\":\"%s\",\"product\":\"app\","
                     "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":5}",
                     0, w.customer_id));
    expect_problem(400, "invalid_field", "product", "POST", "/v1/packs", w.vendor,
                   it_fmt("{\"customer_id\":\"%s\",\"version\":\"1.0\",\"type\":\"per_device\","
                     "\"quantity\":5}", w.customer_id));
    expect_problem(400, "invalid_field", "version", "POST", "/v1/packs", w.vendor,
                   it_fmt("{\"customer_id\":\"%s\",\"product\":\"app\",\"type\":\"per_device\","
                     "\"quantity\":5}", w.customer_id));
    /* Attributes over 64 KiB. */
    {
        int n = snprintf(big, sizeof big,
                         "{\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1.0\","
                         "\"type\":\"per_device\",\"quantity\":5,\"attributes\":{\"blob\":\"",
                         w.customer_id);
        memset(big + n, 'x', 65 * 1024);
        snprintf(big + n + 65 * 1024, sizeof big - (size_t)n - 65 * 1024, "\"}}");
        expect_problem(400, "invalid_field", "attributes", "POST", "/v1/packs", w.vendor, big);
    }
    expect_problem(400, "malformed_json", NULL, "POST", "/v1/packs", w.vendor, "{\"quantity\":5,");
    expect_problem(400, "malformed_json", NULL, "POST", "/v1/packs", w.vendor, "{\"quantity\":05}");
    expect_problem(404, "not_found", NULL, "GET", "/v1/packs/bad", w.vendor, NULL);
    cr_assert_eq(audit_count(w.vendor), before);
    world_free(&w);
}

Test(packs, unknown_or_foreign_customer_and_product_are_404)
{
    struct world a, b;
    int before;
    world_init(&a, "Pack Owner");
    world_init(&b, "Pack Stranger");
    {
        it_response r;
        it_expect(&r, 201, "POST", "/v1/products", b.vendor,
               "{\"code\":\"b-only\",\"name\":\"B\",\"version\":\"1\"}");
        it_response_free(&r);
    }
    before = audit_count(a.vendor);
    /* Unknown, malformed and another vendor's customer. */
    expect_problem(404, "not_found", "customer", "POST", "/v1/packs", a.vendor,
                   "{\"pack_id\":\"x\",\"customer_id\":\"00000000-0000-4000-8000-000000000000\","
                   "\"product\":\"app\",\"version\":\"1.0\",\"type\":\"per_device\","
                   "\"quantity\":5}");
    expect_problem(404, "not_found", "customer", "POST", "/v1/packs", a.vendor,
                   "{\"pack_id\":\"x\",\"customer_id\":\"not-a-uuid\",\"product\":\"app\","
                   "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":5}");
    expect_problem(404, "not_found", "customer", "POST", "/v1/packs", a.vendor,
                   it_fmt("{\"pack_id\":\"x\",\"customer_id\":\"%s\",\"product\":\"app\","
                     "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":5}",
                     b.customer_id));
    /* Unknown product, and one only the other vendor has. */
    expect_problem(404, "not_found", "product", "POST", "/v1/packs", a.vendor,
                   it_fmt("{\"pack_id\":\"x\",\"customer_id\":\"%s\",\"product\":\"nope\","
                     "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":5}",
                     a.customer_id));
    expect_problem(404, "not_found", "product", "POST", "/v1/packs", a.vendor,
                   it_fmt("{\"pack_id\":\"x\",\"customer_id\":\"%s\",\"product\":\"b-only\","
                     "\"version\":\"1.0\",\"type\":\"per_device\",\"quantity\":5}",
                     a.customer_id));
    expect_problem(404, "not_found", NULL, "GET", "/v1/packs/x", a.vendor, NULL);
    cr_assert_eq(audit_count(a.vendor), before);
    world_free(&a);
    world_free(&b);
}

Test(packs, another_vendors_pack_is_404_and_untouched)
{
    struct world a, b;
    it_response mine, theirs, g;
    world_init(&a, "Pack Keeper");
    world_init(&b, "Pack Peeker");
    post_pack(&a, &mine, 201, "shared-name", 3, NULL);
    expect_problem(404, "not_found", "shared-name", "GET", "/v1/packs/shared-name", b.vendor, NULL);
    /* The same pack id under another vendor is that vendor's own pack. */
    post_pack(&b, &theirs, 201, "shared-name", 50, NULL);
    cr_assert_eq(num(&theirs, "quantity"), 50);
    it_expect(&g, 200, "GET", "/v1/packs/shared-name", a.vendor, NULL);
    cr_assert_str_eq(g.body, mine.body);
    it_response_free(&mine);
    it_response_free(&theirs);
    it_response_free(&g);
    world_free(&a);
    world_free(&b);
}

/* ---- assignments ---- */

Test(assignments, listed_with_filters_and_pages)
{
    struct world w;
    char c2[37], c2key[80], *l1, *l2, *l3, *t;
    it_response r, p2;
    world_init(&w, "Assignment Vendor");
    it_new_customer(w.vendor, "Customer Two", c2, c2key);
    post_pack(&w, &r, 201, "one", 2, NULL);
    it_response_free(&r);
    it_expect(&r, 201, "POST", "/v1/packs", w.vendor,
           it_fmt("{\"pack_id\":\"two\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1.0\","
             "\"type\":\"per_device\",\"quantity\":1,\"begin_serial\":500,"
             "\"expires\":\"2099-01-01T00:00:00Z\"}",
             c2));
    it_response_free(&r);
    l1 = get_key(w.customer, "host-a");
    l2 = get_key(w.customer, "host-b");
    l3 = get_key(c2key, "host-a");
    t = get_key(c2key, "host-z"); /* pack "two" is full: a temporary licence */

    it_expect(&r, 200, "GET", "/v1/assignments", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 4, "%s", r.body);
    cr_assert_str_eq(item_str(&r, 0, "license_id"), l1);
    cr_assert_str_eq(item_str(&r, 0, "pack_id"), "one");
    cr_assert_str_eq(item_str(&r, 0, "customer_id"), w.customer_id);
    cr_assert_str_eq(item_str(&r, 0, "client_id"), "host-a");
    cr_assert_str_eq(item_str(&r, 0, "product"), "app");
    cr_assert_str_eq(item_str(&r, 0, "version"), "1.0");
    cr_assert_str_eq(item_str(&r, 0, "status"), "active");
    cr_assert_str_eq(item_str(&r, 0, "platform"), "any");
    cr_assert(item_str(&r, 0, "issued_at"));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(item(&r, 0), "expires_at")), "%s", r.body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(item(&r, 0), "temporary")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(item(&r, 0), "blocked")));
    cr_assert_str_eq(item_str(&r, 2, "license_id"), l3);
    cr_assert_str_eq(item_str(&r, 2, "license_id"), "500");
    cr_assert_str_eq(item_str(&r, 2, "expires_at"), "2099-01-01T00:00:00Z");
    cr_assert_str_eq(item_str(&r, 3, "license_id"), t);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(item(&r, 3), "pack_id")), "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(item(&r, 3), "temporary")));
    it_response_free(&r);

    it_expect(&r, 200, "GET", it_fmt("/v1/assignments?customer_id=%s", c2), w.vendor, NULL);
    cr_assert_eq(items_count(&r), 2);
    it_response_free(&r);
    it_expect(&r, 200, "GET", "/v1/assignments?client_id=host-a", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 2);
    it_response_free(&r);
    it_expect(&r, 200, "GET", it_fmt("/v1/assignments?client_id=host-a&customer_id=%s", w.customer_id),
           w.vendor, NULL);
    cr_assert_eq(items_count(&r), 1);
    cr_assert_str_eq(item_str(&r, 0, "license_id"), l1);
    it_response_free(&r);
    it_expect(&r, 200, "GET", "/v1/assignments?pack_id=one", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 2);
    it_response_free(&r);
    it_expect(&r, 200, "GET", "/v1/assignments?pack_id=one&client_id=host-b", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 1);
    cr_assert_str_eq(item_str(&r, 0, "license_id"), l2);
    it_response_free(&r);
    it_expect(&r, 200, "GET", "/v1/assignments?pack_id=nope", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 0);
    it_response_free(&r);

    /* Pages of three: 3 then 1. */
    it_expect(&r, 200, "GET", "/v1/assignments?limit=3", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 3);
    cr_assert(it_str(&r, "next"));
    it_expect(&p2, 200, "GET", it_fmt("/v1/assignments?limit=3&cursor=%s", it_str(&r, "next")), w.vendor,
           NULL);
    cr_assert_eq(items_count(&p2), 1);
    cr_assert_str_eq(item_str(&p2, 0, "license_id"), t);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(p2.json, "next")));
    it_response_free(&r);
    it_response_free(&p2);
    free(l1);
    free(l2);
    free(l3);
    free(t);
    world_free(&w);
}

Test(assignments, bad_filters_are_400_and_other_vendors_see_nothing)
{
    struct world a, b;
    char *lic;
    it_response r;
    world_init(&a, "Listing Owner");
    world_init(&b, "Listing Stranger");
    post_pack(&a, &r, 201, "p", 1, NULL);
    it_response_free(&r);
    lic = get_key(a.customer, "m");
    expect_problem(400, "invalid_field", "customer_id", "GET",
                   "/v1/assignments?customer_id=not-a-uuid", a.vendor, NULL);
    expect_problem(400, "invalid_field", "client_id", "GET", "/v1/assignments?client_id=",
                   a.vendor, NULL);
    expect_problem(400, "invalid_field", "pack_id", "GET", "/v1/assignments?pack_id=", a.vendor,
                   NULL);
    expect_problem(400, "invalid_field", "limit", "GET", "/v1/assignments?limit=0", a.vendor, NULL);
    expect_problem(400, "invalid_field", "cursor", "GET", "/v1/assignments?cursor=zzz%21",
                   a.vendor, NULL);
    it_expect(&r, 200, "GET", "/v1/assignments", b.vendor, NULL);
    cr_assert_eq(items_count(&r), 0);
    it_response_free(&r);
    it_expect(&r, 200, "GET", it_fmt("/v1/assignments?customer_id=%s", a.customer_id), b.vendor, NULL);
    cr_assert_eq(items_count(&r), 0);
    it_response_free(&r);
    it_expect(&r, 200, "GET", "/v1/assignments?pack_id=p", b.vendor, NULL);
    cr_assert_eq(items_count(&r), 0);
    it_response_free(&r);
    free(lic);
    world_free(&a);
    world_free(&b);
}

/* ---- blocking ---- */

static int is_blocked(struct world *w, const char *license_id)
{
    it_response r;
    int blocked = -1;
    it_expect(&r, 200, "GET", "/v1/assignments", w->vendor, NULL);
    for (int i = 0; i < items_count(&r); i++)
        if (strcmp(item_str(&r, i, "license_id"), license_id) == 0)
            blocked = cJSON_IsTrue(cJSON_GetObjectItem(item(&r, i), "blocked"));
    it_response_free(&r);
    cr_assert_neq(blocked, -1, "licence %s is not listed", license_id);
    return blocked;
}

Test(licenses, block_then_unblock)
{
    struct world w;
    char *lic, *again;
    it_response r;
    world_init(&w, "Blocking Vendor");
    post_pack(&w, &r, 201, "p", 2, NULL);
    it_response_free(&r);
    lic = get_key(w.customer, "pc-1");

    it_expect(&r, 200, "POST", it_fmt("/v1/licenses/%s/block", lic), w.vendor, NULL);
    cr_assert_str_eq(it_str(&r, "license_id"), lic);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "blocked")));
    cr_assert_str_eq(it_str(&r, "client_id"), "pc-1");
    it_response_free(&r);
    cr_assert_eq(is_blocked(&w, lic), 1);
    /* A blocked licence is not reissued. */
    it_postf("/v1/get_key", w.customer, &r, "{\"product\":\"app\",\"client_id\":\"pc-1\"}");
    it_assert_problem(&r, 403, "license_blocked");
    it_response_free(&r);
    /* Blocking twice is harmless. */
    it_expect(&r, 200, "POST", it_fmt("/v1/licenses/%s/block", lic), w.vendor, NULL);
    it_response_free(&r);

    it_expect(&r, 200, "POST", it_fmt("/v1/licenses/%s/unblock", lic), w.vendor, NULL);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "blocked")));
    it_response_free(&r);
    cr_assert_eq(is_blocked(&w, lic), 0);
    again = get_key(w.customer, "pc-1");
    cr_assert_str_eq(again, lic, "the unblocked licence is recovered");
    free(again);
    free(lic);
    world_free(&w);
}

Test(licenses, unknown_or_foreign_licence_is_404_and_untouched)
{
    struct world a, b;
    char *lic;
    int before;
    it_response r;
    world_init(&a, "Licence Owner");
    world_init(&b, "Licence Stranger");
    post_pack(&a, &r, 201, "p", 1, NULL);
    it_response_free(&r);
    lic = get_key(a.customer, "box");
    before = audit_count(b.vendor);
    expect_problem(404, "not_found", lic, "POST", it_fmt("/v1/licenses/%s/block", lic), b.vendor, NULL);
    expect_problem(404, "not_found", NULL, "POST", "/v1/licenses/999999999/block", a.vendor, NULL);
    expect_problem(404, "not_found", NULL, "POST", "/v1/licenses/T0/block", a.vendor, NULL);
    expect_problem(405, "method_not_allowed", NULL, "GET", it_fmt("/v1/licenses/%s/block", lic),
                   a.vendor, NULL);
    cr_assert_eq(is_blocked(&a, lic), 0);
    /* Blocked by its owner, the other vendor cannot unblock it. */
    it_expect(&r, 200, "POST", it_fmt("/v1/licenses/%s/block", lic), a.vendor, NULL);
    it_response_free(&r);
    expect_problem(404, "not_found", lic, "POST", it_fmt("/v1/licenses/%s/unblock", lic), b.vendor,
                   NULL);
    expect_problem(404, "not_found", NULL, "POST", "/v1/licenses/999999999/unblock", a.vendor,
                   NULL);
    cr_assert_eq(is_blocked(&a, lic), 1);
    it_postf("/v1/get_key", a.customer, &r, "{\"product\":\"app\",\"client_id\":\"box\"}");
    it_assert_problem(&r, 403, "license_blocked");
    it_response_free(&r);
    cr_assert_eq(audit_count(b.vendor), before);
    free(lic);
    world_free(&a);
    world_free(&b);
}

/* ---- audit ---- */

Test(audit, records_who_did_what_in_which_request)
{
    struct world w;
    char *lic, create_rid[128], block_rid[128], auth[128];
    it_response r;
    const char *actions[] = {"create", "create", "create", "block", "unblock"};
    const char *types[] = {"customer", "product", "pack", "license", "license"};

    world_init(&w, "Audited Vendor");
    post_pack(&w, &r, 201, "audited", 1, NULL);
    snprintf(create_rid, sizeof create_rid, "%s", r.request_id);
    it_response_free(&r);
    lic = get_key(w.customer, "c1");
    {
        const char *h[] = {"Content-Type: application/json", auth, "X-Request-Id: ops-ticket-42",
                           NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.vendor);
        it_request("POST", it_fmt("/v1/licenses/%s/block", lic), h, NULL, 0, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        snprintf(block_rid, sizeof block_rid, "%s", r.request_id);
        it_response_free(&r);
    }
    cr_assert_str_eq(block_rid, "ops-ticket-42");
    it_expect(&r, 200, "POST", it_fmt("/v1/licenses/%s/unblock", lic), w.vendor, NULL);
    it_response_free(&r);

    it_expect(&r, 200, "GET", "/v1/audit", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 5, "%s", r.body);
    for (int i = 0; i < 5; i++) {
        cr_assert_str_eq(item_str(&r, i, "action"), actions[i], "entry %d: %s", i, r.body);
        cr_assert_str_eq(item_str(&r, i, "object_type"), types[i], "entry %d: %s", i, r.body);
        const char *actor = item_str(&r, i, "actor");
        cr_assert(actor && strncmp(w.vendor, actor, strlen(actor)) == 0,
                  "the actor is the key's public prefix: %s", actor);
        cr_assert(item_str(&r, i, "at") && item_str(&r, i, "request_id"));
        cr_assert(cJSON_IsObject(cJSON_GetObjectItem(item(&r, i), "details")));
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(item(&r, i), "id")));
    }
    cr_assert_str_eq(item_str(&r, 0, "object_id"), w.customer_id);
    cr_assert_str_eq(item_str(&r, 1, "object_id"), "app");
    cr_assert_str_eq(item_str(&r, 2, "object_id"), "audited");
    cr_assert_str_eq(item_str(&r, 2, "request_id"), create_rid);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(item(&r, 2), "details"), "quantity")
                     ->valueint, 1);
    cr_assert_str_eq(item_str(&r, 3, "object_id"), lic);
    cr_assert_str_eq(item_str(&r, 3, "request_id"), "ops-ticket-42");
    it_response_free(&r);

    /* Pages: 2, 2, 1; another vendor's trail is its own. */
    it_expect(&r, 200, "GET", "/v1/audit?limit=2", w.vendor, NULL);
    cr_assert_eq(items_count(&r), 2);
    {
        it_response p2, p3;
        it_expect(&p2, 200, "GET", it_fmt("/v1/audit?limit=2&cursor=%s", it_str(&r, "next")), w.vendor,
               NULL);
        cr_assert_eq(items_count(&p2), 2);
        cr_assert_str_eq(item_str(&p2, 0, "object_id"), "audited");
        it_expect(&p3, 200, "GET", it_fmt("/v1/audit?limit=2&cursor=%s", it_str(&p2, "next")), w.vendor,
               NULL);
        cr_assert_eq(items_count(&p3), 1);
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(p3.json, "next")));
        it_response_free(&p2);
        it_response_free(&p3);
    }
    it_response_free(&r);
    expect_problem(400, "invalid_field", "limit", "GET", "/v1/audit?limit=9999", w.vendor, NULL);
    expect_problem(400, "invalid_field", "cursor", "GET", "/v1/audit?cursor=-1", w.vendor, NULL);
    {
        char *other = it_new_vendor("Unaudited Vendor");
        cr_assert_eq(audit_count(other), 0);
        free(other);
    }
    free(lic);
    world_free(&w);
}
