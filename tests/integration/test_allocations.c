/* Site allocations, vendor side, against the real licd and PostgreSQL: a
 * pack split across sites (signed allocation files checked with libjwt),
 * the free pool that grants and checkouts may still take, sequence numbers,
 * GET and PUT /v1/sites/{site_id}, and the errors of each route. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct split {
    char *vendor;
    char customer_id[37], customer[80];
};

static void split_init(struct split *s, int quantity)
{
    memset(s, 0, sizeof *s);
    s->vendor = it_new_vendor("Split Vendor");
    it_new_customer(s->vendor, "Split Customer", s->customer_id, s->customer);
    it_created("/v1/products", s->vendor,
               "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\",\"features\":[\"3d\"]}");
    it_created("/v1/packs", s->vendor,
               "{\"pack_id\":\"split\",\"customer_id\":\"%s\",\"product\":\"cad\",\"version\":\"7\","
               "\"type\":\"concurrent\",\"quantity\":%d}",
               s->customer_id, quantity);
}

/* POST an allocation; its answer (free it) after asserting status. */
static void allocate(const struct split *s, const char *site, int quantity, long status,
                     it_response *r)
{
    it_postf("/v1/packs/split/allocations", s->vendor, r, "{\"site_id\":\"%s\",\"quantity\":%d}",
             site, quantity);
    cr_assert_eq(r->status, status, "%s %d: %s", site, quantity, r->body);
}

static int pack_field(const struct split *s, const char *field)
{
    it_response r;
    int n;
    it_expect(&r, 200, "GET", "/v1/packs/split", s->vendor, NULL);
    n = cJSON_GetObjectItem(r.json, field)->valueint;
    it_response_free(&r);
    return n;
}

static long checkout(const struct split *s, int i)
{
    it_response r;
    long status;
    it_postf("/v1/leases", s->customer, &r, "{\"product\":\"cad\",\"client_id\":\"ws-%d\"}", i);
    status = r.status;
    it_response_free(&r);
    return status;
}

Test(allocations, a_pack_split_across_sites_keeps_its_free_pool)
{
    struct split s;
    it_response r;
    cJSON *claims;

    split_init(&s, 100);
    allocate(&s, "site-a", 40, 201, &r);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "sequence")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "quantity")->valueint, 40);
    cr_assert_str_eq(it_str(&r, "site_id"), "site-a");
    claims = it_verify_jwt(it_str(&r, "file"));
    cr_assert_str_eq(it_member_str(claims, "typ"), "allocation");
    cr_assert_str_eq(it_member_str(claims, "site"), "site-a");
    cr_assert_str_eq(it_member_str(claims, "pack"), "split");
    cr_assert_str_eq(it_member_str(claims, "pid"), "cad");
    cr_assert_str_eq(it_member_str(claims, "pver"), "7");
    cr_assert_str_eq(it_member_str(claims, "cus"), s.customer_id);
    cr_assert_eq(cJSON_GetObjectItem(claims, "qty")->valueint, 40);
    cr_assert_eq(cJSON_GetObjectItem(claims, "seq")->valueint, 1);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(claims, "exp")));
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(claims, "iat")));
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(claims, "vnd")));
    cJSON_Delete(claims);
    it_response_free(&r);

    allocate(&s, "site-b", 30, 201, &r);
    it_response_free(&r);
    cr_assert_eq(pack_field(&s, "assigned"), 70);
    cr_assert_eq(pack_field(&s, "allocated"), 70);
    /* 30 left in the free pool: a third site cannot have 31. */
    it_json_problem("POST", "/v1/packs/split/allocations", s.vendor,
                    "{\"site_id\":\"site-c\",\"quantity\":31}", 409, "not_enough_free_seats");

    /* Site A raised to 50: a new sequence, the free pool is 20. */
    allocate(&s, "site-a", 50, 200, &r);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "sequence")->valueint, 2);
    claims = it_verify_jwt(it_str(&r, "file"));
    cr_assert_eq(cJSON_GetObjectItem(claims, "qty")->valueint, 50);
    cr_assert_eq(cJSON_GetObjectItem(claims, "seq")->valueint, 2);
    cJSON_Delete(claims);
    it_response_free(&r);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(checkout(&s, i), 201, "checkout %d", i);
    cr_assert_eq(checkout(&s, 20), 403, "a checkout took an allocated seat");
    cr_assert_eq(pack_field(&s, "assigned"), 100);
    /* Now no site may grow, but one may shrink. */
    it_json_problem("POST", "/v1/packs/split/allocations", s.vendor,
                    "{\"site_id\":\"site-b\",\"quantity\":31}", 409, "not_enough_free_seats");
    allocate(&s, "site-b", 10, 200, &r);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "sequence")->valueint, 2);
    it_response_free(&r);
    cr_assert_eq(pack_field(&s, "assigned"), 80);
    cr_assert_eq(checkout(&s, 20), 201);
    /* The quantity cannot go below what is in use and allocated. */
    it_json_problem("PATCH", "/v1/packs/split", s.vendor, "{\"quantity\":80}", 409,
                    "quantity_below_assigned");

    /* The vendor's view of a site. */
    it_expect(&r, 200, "GET", "/v1/sites/site-a", s.vendor, NULL);
    cr_assert_str_eq(it_str(&r, "site_id"), "site-a");
    {
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "allocations"), 0);
        cr_assert_str_eq(it_member_str(a, "pack_id"), "split");
        cr_assert_eq(cJSON_GetObjectItem(a, "quantity")->valueint, 50);
        cr_assert_eq(cJSON_GetObjectItem(a, "sequence")->valueint, 2);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "allocations")), 1);
    }
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "last_report")));
    it_response_free(&r);
    free(s.vendor);
}

/* The vendor's events (GET /v1/events publishes what committed), as text. */
static char *events_text(const struct split *s)
{
    cJSON *items = it_items("/v1/events?limit=500", s->vendor);
    char *text = cJSON_PrintUnformatted(items);
    cJSON_Delete(items);
    return text;
}

Test(allocations, seats_allocated_count_toward_pack_low)
{
    struct split s;
    it_response r;
    char *text;

    split_init(&s, 10);
    allocate(&s, "site-a", 5, 201, &r);
    it_response_free(&r);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(checkout(&s, i), 201, "checkout %d", i);
    text = events_text(&s);
    cr_assert(!strstr(text, "pack.low"), "8 of 10 seats in use: %s", text);
    free(text);
    /* Site A grows to 6: 9 of 10 in use (3 leased, 6 allocated). */
    allocate(&s, "site-a", 6, 200, &r);
    it_response_free(&r);
    text = events_text(&s);
    cr_assert(strstr(text, "\"type\":\"pack.low\""), "9 of 10 seats in use: %s", text);
    cr_assert(strstr(text, "\"assigned\":9"), "%s", text);
    free(text);
    free(s.vendor);
}

/* GET /v1/sites/{site_id} as vendor: whether it has keys, and its one
 * allocation (pack, quantity, sequence), or none when pack is NULL. */
static void assert_site(const char *vendor, const char *site, int keys, const char *pack,
                        int quantity, int sequence)
{
    it_response r;
    const cJSON *all, *a;
    it_expect(&r, 200, "GET", it_fmt("/v1/sites/%s", site), vendor, NULL);
    cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "keys_registered")), keys, "%s: %s", site,
                 r.body);
    all = cJSON_GetObjectItem(r.json, "allocations");
    cr_assert_eq(cJSON_GetArraySize(all), pack ? 1 : 0, "%s: %s", site, r.body);
    if (pack) {
        a = cJSON_GetArrayItem(all, 0);
        cr_assert_str_eq(it_member_str(a, "pack_id"), pack);
        cr_assert_eq(cJSON_GetObjectItem(a, "quantity")->valueint, quantity, "%s: %s", site,
                     r.body);
        cr_assert_eq(cJSON_GetObjectItem(a, "sequence")->valueint, sequence, "%s: %s", site,
                     r.body);
    }
    it_response_free(&r);
}

Test(allocations, bad_input_and_other_tenants_change_nothing)
{
    struct split s, other;
    it_response r;

    split_init(&s, 10);
    split_init(&other, 10);
    allocate(&s, "site-a", 4, 201, &r);
    it_response_free(&r);
    static const char *const bad[] = {
        "{\"site_id\":\"site-a\"}",
        "{\"quantity\":1}",
        "{\"site_id\":\"site-a\",\"quantity\":\"2\"}",
        "{\"site_id\":\"site-a\",\"quantity\":-1}",
        "{\"site_id\":\"site-a\",\"quantity\":1.5}",
        "{\"site_id\":\"site a\",\"quantity\":1}",
        "{\"site_id\":\"\",\"quantity\":1}",
        "{\"site_id\":7,\"quantity\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        it_json_problem("POST", "/v1/packs/split/allocations", s.vendor, bad[i], 400,
                        "invalid_field");
    it_json_problem("POST", "/v1/packs/split/allocations", s.vendor, "{\"site_id\":", 400,
                    "malformed_json");
    it_json_problem("POST", "/v1/packs/split/allocations", s.vendor, "[]", 400, "malformed_json");
    it_json_problem("POST", "/v1/packs/split/allocations", NULL,
                    "{\"site_id\":\"x\",\"quantity\":1}", 401, "unauthorized");
    it_json_problem("POST", "/v1/packs/split/allocations", s.customer,
                    "{\"site_id\":\"x\",\"quantity\":1}", 403, "forbidden");
    it_json_problem("POST", "/v1/packs/nope/allocations", s.vendor,
                    "{\"site_id\":\"x\",\"quantity\":1}", 404, "not_found");
    {
        const char *h[] = {"Content-Type: text/plain", it_fmt("Authorization: Bearer %s", s.vendor),
                           NULL};
        const char *body = "{\"site_id\":\"x\",\"quantity\":1}";
        it_request("POST", "/v1/packs/split/allocations", h, body, strlen(body), &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    /* Another vendor's pack of the same id is its own; its site is unknown to this one. */
    allocate(&other, "site-z", 2, 201, &r);
    it_response_free(&r);
    it_json_problem("GET", "/v1/sites/site-z", s.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/sites/site-a", other.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/sites/bad%20id", s.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/sites/site-a", NULL, NULL, 401, "unauthorized");
    it_json_problem("GET", "/v1/sites/site-a", s.customer, NULL, 403, "forbidden");
    cr_assert_eq(pack_field(&s, "assigned"), 4);
    cr_assert_eq(pack_field(&other, "assigned"), 2);
    /* A pack id only the other vendor has is unknown here: its allocations
     * stay as they were, and no site of this vendor appears. */
    it_created("/v1/packs", other.vendor,
               "{\"pack_id\":\"theirs\",\"customer_id\":\"%s\",\"product\":\"cad\","
               "\"version\":\"7\",\"type\":\"concurrent\",\"quantity\":10}",
               other.customer_id);
    it_created("/v1/packs/theirs/allocations", other.vendor,
               "{\"site_id\":\"site-y\",\"quantity\":3}");
    it_json_problem("POST", "/v1/packs/theirs/allocations", s.vendor,
                    "{\"site_id\":\"site-y\",\"quantity\":1}", 404, "not_found");
    it_json_problem("POST", "/v1/packs/theirs/allocations", s.vendor,
                    "{\"site_id\":\"site-a\",\"quantity\":5}", 404, "not_found");
    it_expect(&r, 200, "GET", "/v1/packs/theirs", other.vendor, NULL);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "assigned")->valueint, 3, "%s", r.body);
    it_response_free(&r);
    assert_site(other.vendor, "site-y", 0, "theirs", 3, 1);
    it_json_problem("GET", "/v1/sites/site-y", s.vendor, NULL, 404, "not_found");
    assert_site(s.vendor, "site-a", 0, "split", 4, 1);

    /* Site keys: a JWKS of public P-256 keys, nothing else. */
    it_json_problem("PUT", "/v1/sites/site-a", s.vendor, "{}", 400, "invalid_field");
    it_json_problem("PUT", "/v1/sites/site-a", s.vendor, "{\"jwks\":\"x\"}", 400, "invalid_field");
    it_json_problem("PUT", "/v1/sites/site-a", s.vendor, "{\"jwks\":{\"keys\":[]}}", 400,
                    "invalid_field");
    it_json_problem("PUT", "/v1/sites/site-a", s.vendor,
                    "{\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}}",
                    400, "invalid_field");
    it_json_problem("PUT", "/v1/sites/site-a", s.vendor, "{\"jwks\":", 400, "malformed_json");
    /* A refused PUT registers no keys, and creates no site. */
    it_json_problem("PUT", "/v1/sites/site-q", s.vendor, "{\"jwks\":\"x\"}", 400, "invalid_field");
    it_json_problem("GET", "/v1/sites/site-q", s.vendor, NULL, 404, "not_found");
    assert_site(s.vendor, "site-a", 0, "split", 4, 1);
    {
        /* licd's own JWKS is a good one (a site prints its own with licd jwks). */
        it_response j;
        it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &j);
        cr_assert_eq(j.status, 200);
        /* Without a key, or with a customer's, even a good JWKS is not taken. */
        it_json_problem("PUT", "/v1/sites/site-a", NULL, it_fmt("{\"jwks\":%s}", j.body), 401,
                        "unauthorized");
        it_json_problem("PUT", "/v1/sites/site-a", s.customer, it_fmt("{\"jwks\":%s}", j.body), 403,
                        "forbidden");
        assert_site(s.vendor, "site-a", 0, "split", 4, 1);
        it_expect(&r, 200, "PUT", "/v1/sites/site-a", s.vendor, it_fmt("{\"jwks\":%s}", j.body));
        cr_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "jwks")));
        it_response_free(&r);
        it_expect(&r, 201, "PUT", "/v1/sites/site-new", s.vendor, it_fmt("{\"jwks\":%s}", j.body));
        it_response_free(&r);
        assert_site(s.vendor, "site-a", 1, "split", 4, 1);
        /* Site ids are each vendor's own: a PUT on the other vendor's site
         * id makes a site of this vendor (201) and leaves theirs as it was. */
        it_expect(&r, 201, "PUT", "/v1/sites/site-z", s.vendor, it_fmt("{\"jwks\":%s}", j.body));
        it_response_free(&r);
        it_response_free(&j);
    }
    assert_site(other.vendor, "site-z", 0, "split", 2, 1);
    assert_site(s.vendor, "site-z", 1, NULL, 0, 0);
    cr_assert_eq(pack_field(&other, "assigned"), 2);
    free(s.vendor);
    free(other.vendor);
}
