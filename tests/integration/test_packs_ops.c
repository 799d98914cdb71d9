/* Operating what is sold, over HTTP against the real licd and PostgreSQL:
 * product and pack lists, changing a pack (PATCH), deactivating licences
 * (DELETE: the seat and its serial go back to the pack), and upgrades of
 * activation keys and expired licences. Every refusal is checked to change
 * nothing, and other vendors' and customers' ids to be 404. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* A vendor with one customer and one product "app" (version 1); each test
 * makes its own, so tests are independent and run in parallel. */
struct world {
    char *vendor;
    char customer_id[37], customer[80];
};

static void world_init(struct world *w, const char *name)
{
    w->vendor = it_new_vendor(name);
    it_new_customer(w->vendor, "Customer One", w->customer_id, w->customer);
    it_created("/v1/products", w->vendor, "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\"}");
}

static void world_free(struct world *w) { free(w->vendor); }

/* Asserts a problem answer whose detail mentions what (when given). */
static void expect_problem(long status, const char *code, const char *what, const char *method,
                           const char *path, const char *key, const char *body)
{
    it_response r;
    it_expect(&r, status, method, path, key, body);
    it_assert_problem(&r, status, code);
    if (what)
        cr_assert(strstr(it_str(&r, "detail"), what), "detail of %s %s lacks \"%s\": %s", method,
                  path, what, r.body);
    it_response_free(&r);
}

static double num(const cJSON *o, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", field);
    return v->valuedouble;
}

/* A per-device pack of "app" for the world's customer. */
static void add_pack(struct world *w, const char *pack_id, int quantity, const char *extra)
{
    it_created("/v1/packs", w->vendor,
               "{\"pack_id\":\"%s\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1\","
               "\"type\":\"per_device\",\"quantity\":%d%s}",
               pack_id, w->customer_id, quantity, extra ? extra : "");
}

/* GET /v1/packs/{pack_id} as text (caller frees): a refusal must leave it as it was. */
static char *pack_text(const struct world *w, const char *pack_id)
{
    it_response r;
    char *text;
    it_expect(&r, 200, "GET", it_fmt("/v1/packs/%s", pack_id), w->vendor, NULL);
    text = strdup(r.body);
    it_response_free(&r);
    return text;
}

static long long assigned(const struct world *w, const char *pack_id)
{
    it_response r;
    long long n;
    it_expect(&r, 200, "GET", it_fmt("/v1/packs/%s", pack_id), w->vendor, NULL);
    n = (long long)num(r.json, "assigned");
    cr_assert_leq(n, (long long)num(r.json, "quantity"), "%s", r.body);
    it_response_free(&r);
    return n;
}

/* get_key for client with the customer key; asserts status; the answer in r. */
static void get_key(const char *customer, const char *client, long status, it_response *r)
{
    it_postf("/v1/get_key", customer, r, "{\"product\":\"app\",\"client_id\":\"%s\"}", client);
    cr_assert_eq(r->status, status, "get_key %s: expected %ld, got %ld: %s", client, status,
                 r->status, r->body);
}

/* A licence's id and JWT (jwt may be NULL) from a get_key that must answer status. */
static void grant(const char *customer, const char *client, long status, char id[32],
                  char jwt[4096])
{
    it_response r;
    get_key(customer, client, status, &r);
    snprintf(id, 32, "%s", it_str(&r, "license_id"));
    if (jwt)
        snprintf(jwt, 4096, "%s", it_str(&r, "license"));
    it_response_free(&r);
}

/* The audit entries of the vendor with this action. */
static int audited(const char *vendor, const char *action)
{
    cJSON *items = it_items("/v1/audit?limit=500", vendor), *e;
    int n = 0;
    cJSON_ArrayForEach(e, items) n += strcmp(it_member_str(e, "action"), action) == 0;
    cJSON_Delete(items);
    return n;
}

/* The status of a licence in the vendor's assignments. */
static char *license_status(const struct world *w, const char *license_id)
{
    cJSON *items = it_items("/v1/assignments?limit=500", w->vendor), *e;
    char *status = NULL;
    cJSON_ArrayForEach(e, items) if (strcmp(it_member_str(e, "license_id"), license_id) == 0)
        status = strdup(it_member_str(e, "status"));
    cJSON_Delete(items);
    cr_assert(status, "licence %s is not listed", license_id);
    return status;
}

static void assert_status(const struct world *w, const char *license_id, const char *want)
{
    char *status = license_status(w, license_id);
    cr_assert_str_eq(status, want, "licence %s", license_id);
    free(status);
}

/* A list's item codes (the member named) joined by ',', from one page. */
static const char *codes(const char *path, const char *key, const char *member, char **next)
{
    it_response r;
    static char out[1024];
    const cJSON *e, *n;
    out[0] = '\0';
    it_expect(&r, 200, "GET", path, key, NULL);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(r.json, "items"))
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? "," : "",
                 it_member_str(e, member));
    n = cJSON_GetObjectItem(r.json, "next");
    cr_assert(cJSON_IsNull(n) || cJSON_IsString(n), "%s", r.body);
    if (next)
        *next = cJSON_IsString(n) ? strdup(n->valuestring) : NULL;
    it_response_free(&r);
    return out;
}

/* ---- lists ---- */

Test(products, listed_in_pages_and_only_the_vendors_own)
{
    struct world w, o;
    char *next;
    world_init(&w, "Product Lister");
    world_init(&o, "Product Other");
    it_created("/v1/products", w.vendor, "{\"code\":\"b\",\"name\":\"B\",\"version\":\"2\"}");
    it_created("/v1/products", w.vendor, "{\"code\":\"c\",\"name\":\"C\",\"version\":\"3\"}");
    it_created("/v1/products", o.vendor, "{\"code\":\"z\",\"name\":\"Z\",\"version\":\"9\"}");

    cr_assert_str_eq(codes("/v1/products", w.vendor, "code", NULL), "app,b,c");
    cr_assert_str_eq(codes("/v1/products?limit=2", w.vendor, "code", &next), "app,b");
    cr_assert(next);
    cr_assert_str_eq(codes(it_fmt("/v1/products?limit=2&cursor=%s", next), w.vendor, "code", NULL),
                     "c");
    free(next);
    cr_assert_str_eq(codes("/v1/products", o.vendor, "code", NULL), "app,z");
    expect_problem(400, "invalid_field", "limit", "GET", "/v1/products?limit=0", w.vendor, NULL);
    expect_problem(400, "invalid_field", "cursor", "GET", "/v1/products?cursor=bogus", w.vendor,
                   NULL);
    world_free(&w);
    world_free(&o);
}

Test(packs, listed_with_filters_and_pages_and_their_seats_in_use)
{
    struct world w, o;
    char two_id[37], two[80], id[32], *next;
    world_init(&w, "Pack Lister");
    world_init(&o, "Pack Other");
    it_new_customer(w.vendor, "Customer Two", two_id, two);
    it_created("/v1/products", w.vendor, "{\"code\":\"b\",\"name\":\"B\",\"version\":\"1\"}");
    add_pack(&w, "p1", 3, NULL);
    it_created("/v1/packs", w.vendor,
               "{\"pack_id\":\"p2\",\"customer_id\":\"%s\",\"product\":\"b\",\"version\":\"1\","
               "\"type\":\"per_user\",\"quantity\":2,\"on_over_limit\":\"report\"}",
               w.customer_id);
    it_created("/v1/packs", w.vendor,
               "{\"pack_id\":\"p3\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1\","
               "\"type\":\"per_device\",\"quantity\":1}",
               two_id);
    add_pack(&o, "p1", 5, NULL);
    grant(w.customer, "m1", 201, id, NULL);

    cr_assert_str_eq(codes("/v1/packs", w.vendor, "pack_id", NULL), "p1,p2,p3");
    {
        cJSON *items = it_items("/v1/packs", w.vendor);
        const cJSON *p1 = cJSON_GetArrayItem(items, 0), *p2 = cJSON_GetArrayItem(items, 1);
        cr_assert_eq(num(p1, "assigned"), 1, "the seat taken is in use");
        cr_assert_eq(num(p1, "quantity"), 3);
        cr_assert_str_eq(it_member_str(p1, "customer_id"), w.customer_id);
        cr_assert_str_eq(it_member_str(p1, "on_over_limit"), "refuse");
        cr_assert_str_eq(it_member_str(p2, "on_over_limit"), "report");
        cr_assert_str_eq(it_member_str(p2, "product"), "b");
        cJSON_Delete(items);
    }
    cr_assert_str_eq(codes(it_fmt("/v1/packs?customer_id=%s", w.customer_id), w.vendor, "pack_id", NULL),
                     "p1,p2");
    cr_assert_str_eq(codes("/v1/packs?product=app", w.vendor, "pack_id", NULL), "p1,p3");
    cr_assert_str_eq(codes(it_fmt("/v1/packs?customer_id=%s&product=app", two_id), w.vendor, "pack_id",
                           NULL),
                     "p3");
    cr_assert_str_eq(codes("/v1/packs?product=nosuch", w.vendor, "pack_id", NULL), "");
    cr_assert_str_eq(codes("/v1/packs?limit=2", w.vendor, "pack_id", &next), "p1,p2");
    cr_assert(next);
    cr_assert_str_eq(codes(it_fmt("/v1/packs?limit=2&cursor=%s", next), w.vendor, "pack_id", NULL),
                     "p3");
    free(next);
    /* Another vendor sees its own pack p1 only, whatever the filter names. */
    cr_assert_str_eq(codes("/v1/packs", o.vendor, "pack_id", NULL), "p1");
    cr_assert_str_eq(codes(it_fmt("/v1/packs?customer_id=%s", w.customer_id), o.vendor, "pack_id",
                           NULL),
                     "");
    expect_problem(400, "invalid_field", "customer_id", "GET", "/v1/packs?customer_id=x",
                   w.vendor, NULL);
    expect_problem(400, "invalid_field", "product", "GET", "/v1/packs?product=", w.vendor, NULL);
    expect_problem(400, "invalid_field", "product", "GET", it_fmt("/v1/packs?product=%065d", 0),
                   w.vendor, NULL);
    world_free(&w);
    world_free(&o);
}

/* ---- PATCH /v1/packs/{pack_id} ---- */

Test(packs_patch, changes_quantity_expiry_and_over_limit)
{
    struct world w;
    it_response r;
    char id[32], again[32];
    world_init(&w, "Pack Changer");
    add_pack(&w, "p", 2, NULL);
    grant(w.customer, "m1", 201, id, NULL);

    it_expect(&r, 200, "PATCH", "/v1/packs/p", w.vendor, "{\"quantity\":5}");
    cr_assert_eq(num(r.json, "quantity"), 5);
    cr_assert_eq(num(r.json, "assigned"), 1);
    it_response_free(&r);
    it_expect(&r, 200, "PATCH", "/v1/packs/p", w.vendor, "{\"on_over_limit\":\"report\"}");
    cr_assert_str_eq(it_str(&r, "on_over_limit"), "report");
    cr_assert_eq(num(r.json, "quantity"), 5, "fields not given stay as they were");
    it_response_free(&r);
    /* The pack's licences take its new expiry: get_key answers it. */
    it_expect(&r, 200, "PATCH", "/v1/packs/p", w.vendor, "{\"expires\":\"2099-01-01T00:00:00Z\"}");
    cr_assert_str_eq(it_str(&r, "expires"), "2099-01-01T00:00:00Z");
    it_response_free(&r);
    get_key(w.customer, "m1", 200, &r);
    cr_assert_str_eq(it_str(&r, "license_id"), id);
    cr_assert_str_eq(it_str(&r, "expires_at"), "2099-01-01T00:00:00Z");
    it_response_free(&r);
    it_expect(&r, 200, "PATCH", "/v1/packs/p", w.vendor,
           "{\"expires\":null,\"quantity\":3,\"on_over_limit\":\"refuse\"}");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "expires")), "%s", r.body);
    cr_assert_eq(num(r.json, "quantity"), 3);
    cr_assert_str_eq(it_str(&r, "on_over_limit"), "refuse");
    it_response_free(&r);
    grant(w.customer, "m1", 200, again, NULL);
    cr_assert_str_eq(again, id, "the same licence, now without an end");
    cr_assert_eq(audited(w.vendor, "update"), 4);
    world_free(&w);
}

Test(packs_patch, quantity_below_assigned_is_409_and_changes_nothing)
{
    struct world w;
    it_response r;
    char id[32], *before, *after;
    world_init(&w, "Pack Shrinker");
    add_pack(&w, "p", 3, NULL);
    grant(w.customer, "a", 201, id, NULL);
    grant(w.customer, "b", 201, id, NULL);
    before = pack_text(&w, "p");
    expect_problem(409, "quantity_below_assigned", "2 seats", "PATCH", "/v1/packs/p", w.vendor,
                   "{\"quantity\":1,\"on_over_limit\":\"report\"}");
    after = pack_text(&w, "p");
    cr_assert_str_eq(after, before, "a refused PATCH changed the pack");
    cr_assert_eq(audited(w.vendor, "update"), 0);
    it_expect(&r, 200, "PATCH", "/v1/packs/p", w.vendor, "{\"quantity\":2}");
    cr_assert_eq(num(r.json, "quantity"), 2);
    it_response_free(&r);
    free(before);
    free(after);
    world_free(&w);
}

Test(packs_patch, a_raise_into_another_packs_serials_is_409_and_changes_nothing)
{
    struct world w;
    it_response r;
    char *before, *after;
    world_init(&w, "Pack Raiser");
    add_pack(&w, "low", 10, ",\"begin_serial\":100");
    add_pack(&w, "high", 10, ",\"begin_serial\":110");
    before = pack_text(&w, "low");
    expect_problem(409, "serial_range_taken", "100 to 110", "PATCH", "/v1/packs/low", w.vendor,
                   "{\"quantity\":11}");
    after = pack_text(&w, "low");
    cr_assert_str_eq(after, before);
    /* Nothing lies above the other pack's range: it may grow. */
    it_expect(&r, 200, "PATCH", "/v1/packs/high", w.vendor, "{\"quantity\":1000}");
    it_response_free(&r);
    cr_assert_eq(audited(w.vendor, "update"), 1);
    free(before);
    free(after);
    world_free(&w);
}

Test(packs_patch, bad_bodies_and_other_vendors_packs_change_nothing)
{
    struct world w, o;
    char *before, *after, *theirs;
    static const struct {
        const char *body, *what;
    } bad[] = {
        {"{}", "quantity, expires, on_over_limit or max_borrow_s"},
        {"{\"quantity\":0}", "quantity"},
        {"{\"quantity\":-1}", "quantity"},
        {"{\"quantity\":2.5}", "quantity"},
        {"{\"quantity\":\"5\"}", "quantity"},
        {"{\"quantity\":100000001}", "quantity"},
        {"{\"expires\":\"soon\"}", "expires"},
        {"{\"expires\":1234}", "expires"},
        {"{\"expires\":\"2000-01-01T00:00:00Z\"}", "first_active"},
        {"{\"on_over_limit\":\"ignore\"}", "on_over_limit"},
        {"{\"quantity\":3,\"on_over_limit\":5}", "on_over_limit"},
    };
    world_init(&w, "Pack Keeper");
    world_init(&o, "Pack Meddler");
    add_pack(&w, "p", 2, NULL);
    add_pack(&w, "edge", 5, ",\"begin_serial\":999999999999990");
    add_pack(&o, "theirs", 2, NULL);
    before = pack_text(&w, "p");
    theirs = pack_text(&o, "theirs");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_problem(400, "invalid_field", bad[i].what, "PATCH", "/v1/packs/p", w.vendor,
                       bad[i].body);
    expect_problem(400, "malformed_json", NULL, "PATCH", "/v1/packs/p", w.vendor, "{\"quantity\":");
    /* The range would pass the largest serial. */
    expect_problem(400, "invalid_field", "quantity", "PATCH", "/v1/packs/edge", w.vendor,
                   "{\"quantity\":100}");
    expect_problem(404, "not_found", "nosuch", "PATCH", "/v1/packs/nosuch", w.vendor,
                   "{\"quantity\":3}");
    /* Another vendor's pack id is unknown to this one, and the other way round. */
    expect_problem(404, "not_found", NULL, "PATCH", "/v1/packs/theirs", w.vendor,
                   "{\"quantity\":3}");
    expect_problem(404, "not_found", NULL, "PATCH", "/v1/packs/p", o.vendor, "{\"quantity\":3}");
    after = pack_text(&w, "p");
    cr_assert_str_eq(after, before);
    free(after);
    after = pack_text(&o, "theirs");
    cr_assert_str_eq(after, theirs);
    cr_assert_eq(audited(w.vendor, "update"), 0);
    cr_assert_eq(audited(o.vendor, "update"), 0);
    free(before);
    free(after);
    free(theirs);
    world_free(&w);
    world_free(&o);
}

/* A deactivated licence's serial is handed out again (under a new licence
 * id); a smaller quantity must keep every serial a licence still holds. */
Test(packs_patch, shrinking_keeps_every_serial_a_licence_holds)
{
    struct world w;
    it_response r;
    char id[32], *before, *after;
    cJSON *claims;
    world_init(&w, "Serial Keeper");
    add_pack(&w, "p", 3, ",\"begin_serial\":700");
    grant(w.customer, "a", 201, id, NULL);
    grant(w.customer, "b", 201, id, NULL);
    grant(w.customer, "c", 201, id, NULL);
    cr_assert_str_eq(id, "702");
    it_expect(&r, 204, "DELETE", "/v1/licenses/701", w.vendor, NULL);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 2);
    before = pack_text(&w, "p");
    expect_problem(409, "quantity_below_assigned", "702", "PATCH", "/v1/packs/p", w.vendor,
                   "{\"quantity\":2}");
    after = pack_text(&w, "p");
    cr_assert_str_eq(after, before);
    it_expect(&r, 204, "DELETE", "/v1/licenses/702", w.vendor, NULL);
    it_response_free(&r);
    it_expect(&r, 200, "PATCH", "/v1/packs/p", w.vendor, "{\"quantity\":2}");
    it_response_free(&r);
    /* Serial 701 is free again; 702 left the range. */
    get_key(w.customer, "d", 201, &r);
    cr_assert_str_eq(it_str(&r, "license_id"), "701-2");
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_eq(num(claims, "serial"), 701);
    cr_assert_str_eq(it_member_str(claims, "lid"), "701-2");
    cJSON_Delete(claims);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 2);
    get_key(w.customer, "e", 201, &r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")), "the pack is full: %s",
              r.body);
    it_response_free(&r);
    free(before);
    free(after);
    world_free(&w);
}

/* ---- DELETE /v1/licenses/{license_id} ---- */

Test(licenses_delete, the_seat_returns_and_the_next_get_key_takes_a_new_one)
{
    struct world w;
    it_response r;
    char id[32], jwt[4096], fresh[32];
    cJSON *claims;
    world_init(&w, "Licence Deactivator");
    add_pack(&w, "p", 1, ",\"begin_serial\":500");
    grant(w.customer, "m1", 201, id, jwt);
    cr_assert_str_eq(id, "500");
    cr_assert_eq(assigned(&w, "p"), 1);

    it_expect(&r, 204, "DELETE", "/v1/licenses/500", w.vendor, NULL);
    cr_assert_eq(r.len, 0, "204 has no body: %s", r.body);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 0, "the seat is back");
    assert_status(&w, "500", "deactivated");
    cr_assert_eq(audited(w.vendor, "deactivate"), 1);

    /* The old licence is refused: never issued, upgraded or counted again. */
    it_postf("/v1/is_upgrade_available", w.customer, &r,
             "{\"license\":\"%s\",\"target_version\":\"2\"}", jwt);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "reason"), "license_deactivated");
    it_response_free(&r);
    it_postf("/v1/upgrade", w.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", jwt);
    it_assert_problem(&r, 409, "no_upgrade_available");
    it_response_free(&r);

    /* The client's next get_key takes the seat anew, under a new licence id. */
    get_key(w.customer, "m1", 201, &r);
    snprintf(fresh, sizeof fresh, "%s", it_str(&r, "license_id"));
    cr_assert_str_eq(fresh, "500-2");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "temporary")), "%s", r.body);
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_eq(num(claims, "serial"), 500);
    cJSON_Delete(claims);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 1);
    grant(w.customer, "m1", 200, id, NULL);
    cr_assert_str_eq(id, fresh, "recovered as the new licence");
    assert_status(&w, "500", "deactivated");

    /* Deleting it again changes nothing. */
    it_expect(&r, 204, "DELETE", "/v1/licenses/500", w.vendor, NULL);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 1);
    cr_assert_eq(audited(w.vendor, "deactivate"), 1);
    world_free(&w);
}

Test(licenses_delete, the_owning_customer_may_and_no_one_else)
{
    struct world w, o;
    it_response r;
    char two_id[37], two[80], id[32], group_key[80], activation[32];
    world_init(&w, "Licence Owner Vendor");
    world_init(&o, "Licence Stranger");
    it_new_customer(w.vendor, "Customer Two", two_id, two);
    add_pack(&w, "p", 2, ",\"begin_serial\":600");
    grant(w.customer, "m1", 201, id, NULL);

    expect_problem(404, "not_found", "600", "DELETE", "/v1/licenses/600", two, NULL);
    expect_problem(404, "not_found", "600", "DELETE", "/v1/licenses/600", o.vendor, NULL);
    expect_problem(404, "not_found", "600", "DELETE", "/v1/licenses/600", o.customer, NULL);
    expect_problem(404, "not_found", NULL, "DELETE", "/v1/licenses/999999", w.vendor, NULL);
    expect_problem(404, "not_found", NULL, "DELETE", "/v1/licenses/999999", w.customer, NULL);
    /* An activation key is blocked, not deactivated. */
    it_postf("/v1/group-keys", w.vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"s\",\"products\":[\"app\"],"
             "\"quota_per_node\":{\"app\":5},\"link\":{\"type\":\"node\"}}",
             w.customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(group_key, sizeof group_key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"s\",\"product\":\"app\",\"app_id\":\"a1\"}",
             group_key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(activation, sizeof activation, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
    expect_problem(404, "not_found", NULL, "DELETE", it_fmt("/v1/licenses/%s", activation), w.vendor,
                   NULL);
    cr_assert_eq(assigned(&w, "p"), 1);
    assert_status(&w, "600", "active");
    cr_assert_eq(audited(w.vendor, "deactivate"), 0);

    it_expect(&r, 204, "DELETE", "/v1/licenses/600", w.customer, NULL);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 0);
    assert_status(&w, "600", "deactivated");
    {
        cJSON *items = it_items("/v1/audit?limit=500", w.vendor), *e;
        char actor[64];
        int seen = 0;
        snprintf(actor, sizeof actor, "customer %s", w.customer_id);
        cJSON_ArrayForEach(e, items) if (strcmp(it_member_str(e, "action"), "deactivate") == 0)
        {
            cr_assert_str_eq(it_member_str(e, "actor"), actor);
            cr_assert_str_eq(it_member_str(e, "object_id"), "600");
            seen++;
        }
        cr_assert_eq(seen, 1);
        cJSON_Delete(items);
    }
    world_free(&w);
    world_free(&o);
}

Test(licenses_delete, a_deactivated_temporary_licence_is_never_issued_again)
{
    struct world w;
    it_response r;
    char id[32], temporary[32];
    world_init(&w, "Temporary Deactivator");
    add_pack(&w, "p", 1, NULL);
    grant(w.customer, "a", 201, id, NULL);
    get_key(w.customer, "b", 201, &r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")), "%s", r.body);
    snprintf(temporary, sizeof temporary, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
    it_expect(&r, 204, "DELETE", it_fmt("/v1/licenses/%s", temporary), w.customer, NULL);
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "p"), 1, "a temporary licence holds no seat");
    assert_status(&w, temporary, "deactivated");
    get_key(w.customer, "b", 403, &r);
    it_assert_problem(&r, 403, "temporary_license_expired");
    it_response_free(&r);
    world_free(&w);
}

/* ---- upgrades of activation keys and expired licences ---- */

/* An upgrade path 1 -> 2 and an upgrade pack of version 2 with one seat. */
static void upgrade_pack(struct world *w, long long begin_serial)
{
    it_response r;
    it_postf("/v1/products/app/upgrade-paths", w->vendor, &r,
             "{\"from_version\":\"1\",\"to_version\":\"2\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    it_created("/v1/packs", w->vendor,
               "{\"pack_id\":\"up\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"2\","
               "\"type\":\"upgrade\",\"quantity\":1,\"begin_serial\":%lld}",
               w->customer_id, begin_serial);
}

static void assert_available(const struct world *w, const char *jwt, const char *reason)
{
    it_response r;
    it_postf("/v1/is_upgrade_available", w->customer, &r,
             "{\"license\":\"%s\",\"target_version\":\"2\"}", jwt);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "reason"), reason, "%s", r.body);
    cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "available")),
                 strcmp(reason, "available") == 0);
    it_response_free(&r);
}

/* The new licence of an upgrade: version 2 for client, from the upgrade pack. */
static void assert_upgraded(const struct world *w, const char *jwt, const char *client,
                            const char *license_id)
{
    it_response r;
    cJSON *claims;
    it_postf("/v1/upgrade", w->customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", jwt);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), license_id);
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_str_eq(it_member_str(claims, "pver"), "2");
    cr_assert_str_eq(it_member_str(claims, "cid"), client);
    cr_assert_str_eq(it_member_str(claims, "pack"), "up");
    cr_assert_gt(num(claims, "exp"), (double)time(NULL));
    cJSON_Delete(claims);
    it_response_free(&r);
}

Test(upgrade, an_activation_key_takes_a_seat_of_the_customers_upgrade_pack)
{
    struct world w, o;
    it_response r;
    char jwt[4096], group_key[80];
    world_init(&w, "Activation Upgrader");
    world_init(&o, "Activation Stranger");
    upgrade_pack(&w, 800);
    it_postf("/v1/group-keys", w.vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"s\",\"products\":[\"app\"],"
             "\"quota_per_node\":{\"app\":5},\"link\":{\"type\":\"node\"}}",
             w.customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(group_key, sizeof group_key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"s\",\"product\":\"app\",\"app_id\":\"a1\"}",
             group_key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(jwt, sizeof jwt, "%s", it_str(&r, "license"));
    it_response_free(&r);

    /* Another customer cannot use it. */
    it_postf("/v1/upgrade", o.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", jwt);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "up"), 0);

    assert_available(&w, jwt, "available");
    assert_upgraded(&w, jwt, "a1", "800");
    cr_assert_eq(assigned(&w, "up"), 1);
    assert_status(&w, "800", "active");
    /* Upgraded once: the activation key is history for upgrades. */
    assert_available(&w, jwt, "license_not_active");
    it_postf("/v1/upgrade", w.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", jwt);
    it_assert_problem(&r, 409, "no_upgrade_available");
    it_response_free(&r);
    cr_assert_eq(assigned(&w, "up"), 1);
    world_free(&w);
    world_free(&o);
}

Test(upgrade, an_expired_licence_can_still_be_upgraded, .timeout = 30)
{
    struct world w;
    char expires[32], id[32], jwt[4096];
    time_t end = time(NULL) + 2;
    cJSON *claims;
    world_init(&w, "Expired Upgrader");
    strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", gmtime(&end));
    add_pack(&w, "p", 1, it_fmt(",\"expires\":\"%s\"", expires));
    upgrade_pack(&w, 900);
    grant(w.customer, "m1", 201, id, jwt);
    claims = it_verify_jwt(jwt);
    cr_assert_eq(num(claims, "exp"), (double)end);
    cJSON_Delete(claims);
    while (time(NULL) <= end + 1)
        usleep(200 * 1000);
    assert_available(&w, jwt, "available");
    assert_upgraded(&w, jwt, "m1", "900");
    assert_status(&w, id, "upgraded");
    world_free(&w);
}
