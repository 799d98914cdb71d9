/* Rotating vendor API keys and customer keys against the real licd and
 * PostgreSQL: the new key works at once, the old one until the end of its
 * grace period and never after; refusals change nothing; rotations are
 * audited; another vendor's customer is 404. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* The status a customer key gets from a call that takes it (201 when it
 * works, 401 when licd no longer knows it). */
static long customer_key_status(const char *key)
{
    it_response r;
    long status;
    it_postf("/v1/challenges", key, &r, "{\"software_id\":\"probe\"}");
    status = r.status;
    if (status != 201)
        it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    return status;
}

/* The same for a vendor key (200 or 401). */
static long vendor_key_status(const char *key)
{
    it_response r;
    long status;
    it_json("GET", "/v1/vendor", key, NULL, &r);
    status = r.status;
    if (status != 200)
        it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    return status;
}

/* A rotation answered 200: the new key (free it), with the owner's id and
 * previous_valid_until (seconds from now) checked. */
static char *rotate(const char *path, const char *key, const char *body, const char *id_name,
                    const char *id, const char *key_name, long grace_s)
{
    it_response r;
    struct tm tm = {0};
    char *fresh;
    long left;
    it_json("POST", path, key, body, &r);
    cr_assert_eq(r.status, 200, "POST %s %s: %s", path, body ? body : "", r.body);
    cr_assert_str_eq(it_str(&r, id_name), id);
    cr_assert(it_str(&r, key_name) && strcmp(it_str(&r, key_name), key) != 0, "%s", r.body);
    cr_assert(strptime(it_str(&r, "previous_valid_until"), "%Y-%m-%dT%H:%M:%SZ", &tm), "%s", r.body);
    left = (long)(timegm(&tm) - time(NULL));
    cr_assert(left >= grace_s - 5 && left <= grace_s + 1, "%ld s left, grace %ld s", left, grace_s);
    fresh = strdup(it_str(&r, key_name));
    it_response_free(&r);
    return fresh;
}

Test(rotation, a_customer_key_keeps_working_through_its_grace_only, .timeout = 60)
{
    char *vendor = it_new_vendor("Rotating Vendor"), id[37], old[80], *fresh;
    const char *path;

    it_new_customer(vendor, "Hoster", id, old);
    path = it_fmt("/v1/customers/%s/rotate-key", id);
    fresh = rotate(path, vendor, "{\"grace_s\":1}", "customer_id", id, "customer_key", 1);
    cr_assert_eq(customer_key_status(fresh), 201, "the new key works at once");
    cr_assert_eq(customer_key_status(old), 201, "the old key works during the grace period");
    sleep(2);
    cr_assert_eq(customer_key_status(old), 401, "and not after");
    cr_assert_eq(customer_key_status(fresh), 201);
    free(fresh);
    free(vendor);
}

Test(rotation, no_grace_ends_the_old_customer_key_at_once_and_is_audited)
{
    char *vendor = it_new_vendor("Hasty Vendor"), id[37], old[80], *fresh;
    cJSON *audit, *last, *details;

    it_new_customer(vendor, "Hoster", id, old);
    fresh = rotate(it_fmt("/v1/customers/%s/rotate-key", id), vendor, "{\"grace_s\":0}", "customer_id",
                   id, "customer_key", 0);
    cr_assert_eq(customer_key_status(old), 401);
    cr_assert_eq(customer_key_status(fresh), 201);
    audit = it_items("/v1/audit", vendor);
    cr_assert_eq(cJSON_GetArraySize(audit), 2);
    last = cJSON_GetArrayItem(audit, 1);
    cr_assert_str_eq(it_member_str(last, "action"), "rotate_key");
    cr_assert_str_eq(it_member_str(last, "object_type"), "customer");
    cr_assert_str_eq(it_member_str(last, "object_id"), id);
    details = cJSON_GetObjectItem(last, "details");
    cr_assert_eq(cJSON_GetObjectItem(details, "grace_s")->valueint, 0);
    cr_assert(strncmp(fresh, it_member_str(details, "key_prefix"),
                      strlen(it_member_str(details, "key_prefix"))) == 0,
              "the audit names the new key by its public prefix");
    it_member_str(details, "previous_valid_until");
    cJSON_Delete(audit);
    free(fresh);
    free(vendor);
}

Test(rotation, the_vendor_key_by_default_a_day_then_at_once)
{
    char *old = it_new_vendor("Key Owner"), *second, *third, vendor_id[37];
    it_response r;

    it_json("GET", "/v1/vendor", old, NULL, &r);
    snprintf(vendor_id, sizeof vendor_id, "%s", it_str(&r, "vendor_id"));
    it_response_free(&r);
    /* No body: the defaults (a day). */
    second = rotate("/v1/vendor/rotate-key", old, NULL, "vendor_id", vendor_id, "api_key", 86400);
    cr_assert_eq(vendor_key_status(second), 200);
    cr_assert_eq(vendor_key_status(old), 200);
    /* Rotating again without grace ends every older key at once. */
    third = rotate("/v1/vendor/rotate-key", second, "{\"grace_s\":0}", "vendor_id", vendor_id,
                   "api_key", 0);
    cr_assert_eq(vendor_key_status(old), 401);
    cr_assert_eq(vendor_key_status(second), 401);
    cr_assert_eq(vendor_key_status(third), 200);
    {
        cJSON *audit = it_items("/v1/audit", third), *e;
        int rotations = 0;
        cJSON_ArrayForEach(e, audit) {
            cr_assert_str_eq(it_member_str(e, "action"), "rotate_key");
            cr_assert_str_eq(it_member_str(e, "object_type"), "vendor");
            cr_assert_str_eq(it_member_str(e, "object_id"), vendor_id);
            rotations++;
        }
        cr_assert_eq(rotations, 2);
        cJSON_Delete(audit);
    }
    free(third);
    free(second);
    free(old);
}

Test(rotation, the_vendor_key_with_a_short_grace, .timeout = 60)
{
    char *old = it_new_vendor("Short Grace Vendor"), *fresh, vendor_id[37];
    it_response r;

    it_json("GET", "/v1/vendor", old, NULL, &r);
    snprintf(vendor_id, sizeof vendor_id, "%s", it_str(&r, "vendor_id"));
    it_response_free(&r);
    fresh = rotate("/v1/vendor/rotate-key", old, "{\"grace_s\":1}", "vendor_id", vendor_id,
                   "api_key", 1);
    cr_assert_eq(vendor_key_status(old), 200);
    sleep(2);
    cr_assert_eq(vendor_key_status(old), 401);
    cr_assert_eq(vendor_key_status(fresh), 200);
    free(fresh);
    free(old);
}

Test(rotation, refusals_change_nothing)
{
    char *vendor = it_new_vendor("Careful Rotator"), *other = it_new_vendor("Foreign Vendor");
    char id[37], key[80], other_id[37], other_key[80];
    const char *path;
    static const char *const bad[] = {
        "{\"grace_s\":-1}", "{\"grace_s\":2592001}", "{\"grace_s\":\"60\"}", "{\"grace_s\":1.5}",
        "[1]",
    };
    it_response r;

    it_new_customer(vendor, "Hoster", id, key);
    it_new_customer(other, "Foreign Hoster", other_id, other_key);
    path = it_fmt("/v1/customers/%s/rotate-key", id);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_json_problem("POST", path, vendor, bad[i], 400, i < 4 ? "invalid_field" : "malformed_json");
        it_json_problem("POST", "/v1/vendor/rotate-key", vendor, bad[i], 400,
                        i < 4 ? "invalid_field" : "malformed_json");
    }
    it_json_problem("POST", path, vendor, "{\"grace_s\":", 400, "malformed_json");
    {
        char auth[256];
        const char *h[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", vendor);
        it_request("POST", path, h, "{}", 2, &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    /* Another vendor's customer, an unknown or malformed id, the wrong kind of key. */
    it_json_problem("POST", it_fmt("/v1/customers/%s/rotate-key", other_id), vendor, "{}", 404,
                    "not_found");
    it_json_problem("POST", "/v1/customers/00000000-0000-0000-0000-000000000000/rotate-key", vendor,
                    "{}", 404, "not_found");
    it_json_problem("POST", "/v1/customers/nope/rotate-key", vendor, "{}", 404, "not_found");
    it_json_problem("POST", path, key, "{}", 403, "forbidden");
    it_json_problem("POST", "/v1/vendor/rotate-key", key, "{}", 403, "forbidden");
    it_json_problem("POST", path, NULL, "{}", 401, "unauthorized");

    /* Every key still works, and only the customers' creation was audited. */
    cr_assert_eq(customer_key_status(key), 201);
    cr_assert_eq(customer_key_status(other_key), 201);
    cr_assert_eq(vendor_key_status(vendor), 200);
    {
        cJSON *audit = it_items("/v1/audit", vendor);
        cr_assert_eq(cJSON_GetArraySize(audit), 1);
        cJSON_Delete(audit);
        audit = it_items("/v1/audit", other);
        cr_assert_eq(cJSON_GetArraySize(audit), 1);
        cJSON_Delete(audit);
    }
    free(other);
    free(vendor);
}
