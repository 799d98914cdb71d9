/* Borrowed seats against the real licd and PostgreSQL: a pack's
 * max_borrow_s, the licence a borrow answers (checked with libjwt), the
 * seat it keeps without heartbeats until it ends or is returned, and licctl
 * lease --borrow / --borrowed / --return, the last offline with licd down. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct pool {
    char *vendor;
    char customer_id[37], customer[80];
    char pack[32];
};

/* A concurrent pack of quantity seats of product "cad" allowing max_borrow_s. */
static void pool_init(struct pool *p, int quantity, int max_borrow_s)
{
    memset(p, 0, sizeof *p);
    p->vendor = it_new_vendor("Borrow Vendor");
    it_new_customer(p->vendor, "Borrow Customer", p->customer_id, p->customer);
    it_created("/v1/products", p->vendor,
               "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\",\"features\":[\"3d\"]}");
    snprintf(p->pack, sizeof p->pack, "borrowable");
    it_created("/v1/packs", p->vendor,
               "{\"pack_id\":\"borrowable\",\"customer_id\":\"%s\",\"product\":\"cad\","
               "\"version\":\"7\",\"type\":\"concurrent\",\"quantity\":%d,\"max_borrow_s\":%d}",
               p->customer_id, quantity, max_borrow_s);
}

static long checkout(const struct pool *p, const char *client)
{
    it_response r;
    long status;
    it_postf("/v1/leases", p->customer, &r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
    status = r.status;
    it_response_free(&r);
    return status;
}

static int assigned(const struct pool *p)
{
    it_response r;
    int n;
    it_expect(&r, 200, "GET", "/v1/packs/borrowable", p->vendor, NULL);
    n = cJSON_GetObjectItem(r.json, "assigned")->valueint;
    it_response_free(&r);
    return n;
}

Test(borrow, a_borrowed_seat_is_held_without_heartbeats_and_returned_early)
{
    struct pool p;
    it_response r;
    cJSON *claims;
    time_t before = time(NULL);
    char lease[64], path[128];

    pool_init(&p, 1, 3600);
    it_postf("/v1/leases", p.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"laptop\",\"borrow_s\":1800}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(lease, sizeof lease, "%s", it_str(&r, "lease_id"));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "borrowed")));
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_str_eq(it_member_str(claims, "lid"), lease);
    cr_assert_str_eq(it_member_str(claims, "cid"), "laptop");
    cr_assert_str_eq(it_member_str(claims, "pid"), "cad");
    cr_assert_str_eq(it_member_str(claims, "pack"), "borrowable");
    cr_assert_str_eq(it_member_str(claims, "pver"), "7");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(claims, "borrow")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(claims, "tmp")));
    {
        double exp = cJSON_GetObjectItem(claims, "exp")->valuedouble;
        cr_assert(exp >= (double)before + 1799 && exp <= (double)time(NULL) + 1800, "exp %f", exp);
    }
    cJSON_Delete(claims);
    it_response_free(&r);

    /* The seat is taken: counted, and nobody else gets it. */
    cr_assert_eq(assigned(&p), 1);
    cr_assert_eq(checkout(&p, "desktop"), 403);
    /* A borrow refused for want of a seat is a seat.denied event, as a
     * checkout's refusal is. */
    it_postf("/v1/leases", p.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"tablet\",\"borrow_s\":600}");
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    {
        cJSON *items = it_items("/v1/events?limit=500", p.vendor);
        char *text = cJSON_PrintUnformatted(items);
        cr_assert(strstr(text, "\"type\":\"seat.denied\"") &&
                      strstr(text, "\"client_id\":\"tablet\""),
                  "%s", text);
        free(text);
        cJSON_Delete(items);
    }
    {
        cJSON *items = it_items("/v1/leases?pack_id=borrowable", p.vendor);
        cr_assert_eq(cJSON_GetArraySize(items), 1);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "borrowed")));
        cJSON_Delete(items);
    }

    /* A heartbeat (LICD_LEASE_TTL is far shorter) does not shorten it. */
    snprintf(path, sizeof path, "/v1/leases/%s/heartbeat", lease);
    it_postf(path, p.customer, &r, "{\"product\":\"cad\",\"client_id\":\"laptop\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    {
        time_t exp = 0;
        struct tm tm = {0};
        cr_assert(strptime(it_str(&r, "expires_at"), "%Y-%m-%dT%H:%M:%SZ", &tm));
        exp = timegm(&tm);
        cr_assert(exp >= before + 1799, "a heartbeat moved the borrow's end to %s",
                  it_str(&r, "expires_at"));
    }
    it_response_free(&r);

    /* Returned early: the seat is free again. */
    snprintf(path, sizeof path, "/v1/leases/%s", lease);
    it_expect(&r, 204, "DELETE", path, p.customer, NULL);
    it_response_free(&r);
    cr_assert_eq(assigned(&p), 0);
    cr_assert_eq(checkout(&p, "desktop"), 201);
    free(p.vendor);
}

Test(borrow, a_borrow_lapses_on_its_own, .timeout = 30)
{
    struct pool p;
    it_response r;

    pool_init(&p, 1, 60);
    it_postf("/v1/leases", p.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"laptop\",\"borrow_s\":2}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    cr_assert_eq(checkout(&p, "desktop"), 403);
    sleep(3);
    cr_assert_eq(checkout(&p, "desktop"), 201);
    cr_assert_eq(assigned(&p), 1);
    free(p.vendor);
}

Test(borrow, limits_of_the_pack_and_bad_input)
{
    struct pool p, other;
    it_response r;
    char path[128];

    pool_init(&p, 2, 0);
    /* A pack that allows none. */
    it_json_problem("POST", "/v1/leases", p.customer,
                    "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":60}", 403,
                    "borrow_not_allowed");
    it_expect(&r, 200, "PATCH", "/v1/packs/borrowable", p.vendor, "{\"max_borrow_s\":600}");
    cr_assert_eq(cJSON_GetObjectItem(r.json, "max_borrow_s")->valueint, 600);
    it_response_free(&r);
    /* Longer than it allows. */
    it_json_problem("POST", "/v1/leases", p.customer,
                    "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":601}", 400,
                    "invalid_field");
    /* Ill-typed or out of range. */
    it_json_problem("POST", "/v1/leases", p.customer,
                    "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":\"60\"}", 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/leases", p.customer,
                    "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":0}", 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/leases", p.customer,
                    "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":1.5}", 400,
                    "invalid_field");
    it_json_problem("POST", "/v1/leases", p.customer, "{\"product\":\"cad\",\"borrow_s\":60}",
                    400, "invalid_field");
    it_json_problem("POST", "/v1/leases", p.customer, "{\"product\":\"cad\",", 400,
                    "malformed_json");
    it_json_problem("PATCH", "/v1/packs/borrowable", p.vendor, "{\"max_borrow_s\":-1}", 400,
                    "invalid_field");
    it_json_problem("PATCH", "/v1/packs/borrowable", p.vendor, "{\"max_borrow_s\":\"x\"}", 400,
                    "invalid_field");
    it_json_problem("PATCH", "/v1/packs/borrowable", p.vendor, "{\"max_borrow_s\":99999999999}",
                    400, "invalid_field");
    /* Posting the pack again with another maximum is a conflict. */
    it_json_problem("POST", "/v1/packs", p.vendor,
                    it_fmt("{\"pack_id\":\"borrowable\",\"customer_id\":\"%s\",\"product\":\"cad\","
                           "\"version\":\"7\",\"type\":\"concurrent\",\"quantity\":2,"
                           "\"max_borrow_s\":5}", p.customer_id),
                    409, "conflict");
    cr_assert_eq(assigned(&p), 0, "a refusal took a seat");

    /* Another customer can neither return nor see the borrow. */
    it_postf("/v1/leases", p.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":600}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(path, sizeof path, "/v1/leases/%s", it_str(&r, "lease_id"));
    it_response_free(&r);
    pool_init(&other, 1, 60);
    it_json_problem("DELETE", path, other.customer, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/leases?pack_id=borrowable", NULL, NULL, 401, "unauthorized");
    cr_assert_eq(assigned(&p), 1);
    /* Borrowing again answers the same lease. */
    it_postf("/v1/leases", p.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"a\",\"borrow_s\":300}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(path + strlen("/v1/leases/"), it_str(&r, "lease_id"));
    it_response_free(&r);
    cr_assert_eq(assigned(&p), 1);
    free(p.vendor);
    free(other.vendor);
}

/* licctl lease with the options given, its exit status; *out its stdout. */
static int licctl(const char *args, char **out)
{
    return it_sh(it_fmt("%s lease %s 2>&1", it_env("LICD_LICCTL"), args), out);
}

Test(borrow, licctl_borrows_and_the_library_checks_it_offline_with_licd_down, .timeout = 60)
{
    struct pool p;
    char *dir, *out = NULL, url[64], common[512];
    int pid, status;
    cJSON *o;

    pool_init(&p, 1, 3600);
    pid = it_start_node(NULL, url, sizeof url, &dir);
    snprintf(common, sizeof common, "--cache-dir %s/cache --product cad --client laptop", dir);

    status = licctl(it_fmt("--borrow 1h --json --url %s --customer-key %s %s", url, p.customer,
                           common), &out);
    cr_assert_eq(status, 0, "%s", out);
    o = cJSON_Parse(out);
    cr_assert(o, "%s", out);
    cr_assert_str_eq(it_member_str(o, "event"), "borrow");
    cr_assert_str_eq(it_member_str(o, "pack_id"), "borrowable");
    cJSON_Delete(o);
    free(out);

    /* licd is stopped: the borrowed licence still verifies, from the cache alone. */
    cr_assert_eq(it_stop_licd(pid), 0);
    status = licctl(it_fmt("--borrowed --json %s", common), &out);
    cr_assert_eq(status, 0, "%s", out);
    o = cJSON_Parse(out);
    cr_assert(o, "%s", out);
    cr_assert_str_eq(it_member_str(o, "event"), "borrowed");
    cJSON_Delete(o);
    free(out);
    /* Not for another client, and the seat stays taken meanwhile. */
    status = licctl(it_fmt("--borrowed --cache-dir %s/cache --product cad --client other", dir),
                    &out);
    cr_assert_eq(status, 20, "%s", out);
    free(out);
    cr_assert_eq(checkout(&p, "desktop"), 403);

    /* Returned (through the test's licd, on the same database). */
    status = licctl(it_fmt("--return --url %s --customer-key %s %s", it_url(), p.customer, common),
                    &out);
    cr_assert_eq(status, 0, "%s", out);
    free(out);
    cr_assert_eq(checkout(&p, "desktop"), 201);
    status = licctl(it_fmt("--borrowed %s", common), &out);
    cr_assert_eq(status, 20, "%s", out);
    free(out);
    /* Refusals: a borrow longer than the pack allows, no seat. */
    status = licctl(it_fmt("--borrow 2d --url %s --customer-key %s %s", it_url(), p.customer,
                           common), &out);
    cr_assert_eq(status, 1, "%s", out);
    free(out);
    status = licctl(it_fmt("--borrow 10m --url %s --customer-key %s %s", it_url(), p.customer,
                           common), &out);
    cr_assert_eq(status, 20, "%s", out);
    free(out);
    status = licctl(it_fmt("--borrow soon %s", common), &out);
    cr_assert_eq(status, 1, "%s", out);
    free(out);
    it_rmdir(dir);
    free(p.vendor);
}

Test(borrow, licctl_borrowed_ends_with_the_borrow, .timeout = 30)
{
    struct pool p;
    char *dir = it_tmpdir(), *out = NULL, common[512];
    int status;

    pool_init(&p, 1, 60);
    snprintf(common, sizeof common, "--cache-dir %s/cache --product cad --client laptop", dir);
    status = licctl(it_fmt("--borrow 2s --url %s --customer-key %s %s", it_url(), p.customer,
                           common), &out);
    cr_assert_eq(status, 0, "%s", out);
    cr_assert(strstr(out, "lease_id: "), "%s", out);
    free(out);
    cr_assert_eq(licctl(it_fmt("--borrowed %s", common), &out), 0, "%s", out);
    free(out);
    sleep(3);
    cr_assert_eq(licctl(it_fmt("--borrowed %s", common), &out), 20, "%s", out);
    free(out);
    /* The seat lapsed at licd as well. */
    cr_assert_eq(checkout(&p, "desktop"), 201);
    it_rmdir(dir);
    free(p.vendor);
}
