/* The real licd over HTTP: operations endpoints, routing errors, problem+json
 * answers for bad bodies, and vendor-key authentication. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "harness.h"

Test(ops, healthz_is_ok)
{
    it_response r;
    it_request("GET", "/healthz", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(it_str(&r, "status"), "ok");
    cr_assert_eq(strlen(r.request_id), 32, "generated request id: %s", r.request_id);
    it_response_free(&r);
}

Test(ops, readyz_while_database_is_up)
{
    it_response r;
    it_request("GET", "/readyz", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
}

Test(ops, request_id_is_echoed)
{
    it_response r;
    const char *h[] = {"X-Request-Id: trace-42.abc", NULL};
    it_request("GET", "/nowhere", h, NULL, 0, &r);
    cr_assert_str_eq(r.request_id, "trace-42.abc");
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
}

Test(ops, metrics_count_requests)
{
    it_response r;
    char err[256] = "";
    double v = 0;
    expo *e;
    it_request("GET", "/healthz", NULL, NULL, 0, &r);
    it_response_free(&r);
    it_request("GET", "/metrics", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.content_type, "text/plain"));
    /* Valid exposition text (tests/common/expo.c), every family typed. */
    e = expo_parse(r.body, err, sizeof err);
    cr_assert(e, "%s", err);
    cr_assert_eq(expo_value(e, "licd_http_requests_total",
                            (const char *[]){"method", "GET", "route", "/healthz", "status", "200",
                                             NULL},
                            &v),
                 0, "%s", r.body);
    cr_assert_geq(v, 1);
    cr_assert_eq(expo_value(e, "licd_http_request_duration_seconds_bucket",
                            (const char *[]){"le", "+Inf", NULL}, &v),
                 0);
    cr_assert_str_eq(expo_type(e, "licd_http_request_duration_seconds"), "histogram");
    cr_assert_str_eq(expo_type(e, "licd_db_errors_total"), "counter");
    cr_assert_str_eq(expo_type(e, "licd_http_connections"), "gauge");
    expo_free(e);
    it_response_free(&r);
}

Test(routing, unknown_route_is_404)
{
    it_response r;
    it_request("GET", "/v1/no-such-thing", NULL, NULL, 0, &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
}

Test(routing, wrong_method_is_405_with_allow)
{
    it_response r;
    it_request("DELETE", "/v1/vendor", NULL, NULL, 0, &r);
    it_assert_problem(&r, 405, "method_not_allowed");
    cr_assert_str_eq(r.allow, "GET, PATCH");
    it_response_free(&r);
    it_request("POST", "/healthz", NULL, "{}", 2, &r);
    it_assert_problem(&r, 405, "method_not_allowed");
    cr_assert_str_eq(r.allow, "GET");
    it_response_free(&r);
}

Test(auth, missing_and_unknown_keys_are_401)
{
    it_response r;
    it_json("GET", "/v1/vendor", NULL, NULL, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    it_json("GET", "/v1/vendor", "not-a-key", NULL, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    it_json("GET", "/v1/vendor",
            "lv_0000000000000000000000000000000000000000000000000000000000000000", NULL, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
}

Test(auth, a_key_of_another_kind_is_403)
{
    it_response r;
    it_json("GET", "/v1/vendor",
            "lc_0000000000000000000000000000000000000000000000000000000000000000", NULL, &r);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
}

Test(auth, vendor_key_says_who_it_is)
{
    char *key = it_new_vendor("Who Am I Ltd");
    it_response r;
    it_json("GET", "/v1/vendor", key, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "name"), "Who Am I Ltd");
    cr_assert_eq(strlen(it_str(&r, "vendor_id")), 36);
    it_response_free(&r);
    free(key);
}

/* Bad bodies on PATCH /v1/vendor each get their problem and change nothing. */
static void assert_name_is(const char *key, const char *name)
{
    it_response r;
    it_json("GET", "/v1/vendor", key, NULL, &r);
    cr_assert_str_eq(it_str(&r, "name"), name);
    it_response_free(&r);
}

Test(bodies, bad_bodies_change_nothing)
{
    char *key = it_new_vendor("Body Checks");
    char auth[128];
    it_response r;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);

    it_json("PATCH", "/v1/vendor", key, "{\"name\": ", &r);
    it_assert_problem(&r, 400, "malformed_json");
    it_response_free(&r);
    it_json("PATCH", "/v1/vendor", key, "[\"name\"]", &r);
    it_assert_problem(&r, 400, "malformed_json");
    it_response_free(&r);
    it_json("PATCH", "/v1/vendor", key, "{}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "name"));
    it_response_free(&r);
    it_json("PATCH", "/v1/vendor", key, "{\"name\": 42}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "name"));
    it_response_free(&r);
    it_json("PATCH", "/v1/vendor", key, "{\"name\": \"\"}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    {
        const char *h[] = {"Content-Type: text/plain", auth, NULL};
        it_request("PATCH", "/v1/vendor", h, "{\"name\":\"x\"}", 12, &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    {
        size_t big = (1u << 20) + 1;
        char *body = malloc(big);
        const char *h[] = {"Content-Type: application/json", auth, NULL};
        memset(body, ' ', big);
        body[0] = '{';
        body[big - 1] = '}';
        it_request("PATCH", "/v1/vendor", h, body, big, &r);
        it_assert_problem(&r, 413, "body_too_large");
        it_response_free(&r);
        free(body);
    }
    assert_name_is(key, "Body Checks");

    it_json("PATCH", "/v1/vendor", key, "{\"name\": \"Renamed \\u00e9\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    assert_name_is(key, "Renamed \xc3\xa9");
    free(key);
}

Test(bodies, unauthenticated_body_is_refused_before_parsing)
{
    it_response r;
    it_json("PATCH", "/v1/vendor", NULL, "{not json", &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
}
