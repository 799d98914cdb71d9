/* Unit tests for service/http/router.c: route look-up, {param} capture and decoding, 404 versus 405. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "http/router.h"
#include "util/error.h"

static int h_dummy(http_request *req)
{
    (void)req;
    return 0;
}

static const http_route routes[] = {
    {"GET", "/healthz", NULL, h_dummy, 0},
    {"GET", "/v1/packs", NULL, h_dummy, 0},
    {"POST", "/v1/packs", NULL, h_dummy, 0},
    {"GET", "/v1/packs/{pack_id}", NULL, h_dummy, 0},
    {"POST", "/v1/licenses/{license_id}/block", NULL, h_dummy, 0},
    {"PUT", "/v1/users/{username}/entitlements/{product}", NULL, h_dummy, 0},
    {"DELETE", "/v1/leases/{lease_id}", NULL, h_dummy, 0},
    {"POST", "/v1/leases/{lease_id}/heartbeat", NULL, h_dummy, 0},
    {"GET", "/five/{a}/{b}/{c}/{d}/{e}", NULL, h_dummy, 0},
    {"GET", "/four/{a}/{b}/{c}/{d}", NULL, h_dummy, 0},
    {"GET", "/", NULL, h_dummy, 0},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Runs the router over the table above. */
static int match(const char *method, const char *path, const http_route **route,
                 http_request *req)
{
    memset(req, 0, sizeof *req);
    return router_match(routes, NROUTES, method, path, route, req);
}

Test(router, exact_match)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/healthz", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[0]);
    cr_assert_eq(req.nparams, 0);

    cr_assert_eq(match("POST", "/v1/packs", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[2]);
    cr_assert_eq(match("GET", "/v1/packs", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[1]);
    cr_assert_eq(match("GET", "/", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[10]);
}

Test(router, method_is_case_sensitive)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("get", "/healthz", &r, &req), LICD_ERR_METHOD_NOT_ALLOWED);
    cr_assert_null(r);
}

Test(router, captures_params)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/v1/packs/pk-1", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[3]);
    cr_assert_eq(req.nparams, 1);
    cr_assert_str_eq(req.params[0].name, "pack_id");
    cr_assert_str_eq(req.params[0].value, "pk-1");
    cr_assert_str_eq(http_param(&req, "pack_id"), "pk-1");
    cr_assert_null(http_param(&req, "other"));

    cr_assert_eq(match("PUT", "/v1/users/alice/entitlements/cad", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[5]);
    cr_assert_eq(req.nparams, 2);
    cr_assert_str_eq(http_param(&req, "username"), "alice");
    cr_assert_str_eq(http_param(&req, "product"), "cad");

    cr_assert_eq(match("POST", "/v1/licenses/L42/block", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[4]);
    cr_assert_str_eq(http_param(&req, "license_id"), "L42");
}

Test(router, param_and_literal_routes_are_told_apart)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("DELETE", "/v1/leases/abc", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[6]);
    cr_assert_eq(match("POST", "/v1/leases/abc/heartbeat", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[7]);
    cr_assert_str_eq(http_param(&req, "lease_id"), "abc");
    /* One literal segment too many or too few. */
    cr_assert_eq(match("POST", "/v1/leases/abc/heartbeat/x", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("POST", "/v1/licenses/L42", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("POST", "/v1/licenses/L42/unblockx", &r, &req), LICD_ERR_NOT_FOUND);
}

Test(router, percent_decodes_params)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/v1/packs/a%20b%41%7e", &r, &req), LICD_OK);
    cr_assert_str_eq(http_param(&req, "pack_id"), "a bA~");
    /* Decoded once only: %25 is a literal percent sign. */
    cr_assert_eq(match("GET", "/v1/packs/%2541", &r, &req), LICD_OK);
    cr_assert_str_eq(http_param(&req, "pack_id"), "%41");
    /* '+' is not a space in a path. */
    cr_assert_eq(match("GET", "/v1/packs/a+b", &r, &req), LICD_OK);
    cr_assert_str_eq(http_param(&req, "pack_id"), "a+b");
    /* UTF-8 bytes come through as they are. */
    cr_assert_eq(match("GET", "/v1/packs/%C3%A9", &r, &req), LICD_OK);
    cr_assert_str_eq(http_param(&req, "pack_id"), "\xC3\xA9");
}

Test(router, nul_and_slash_in_param_refused)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/v1/packs/ab%00cd", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_null(r);
    cr_assert_eq(match("GET", "/v1/packs/%00", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/a%2Fb", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/a%2fb", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("POST", "/v1/licenses/a%2Fb/block", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_null(r);
}

Test(router, bad_percent_escapes_refused)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/v1/packs/%", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/a%4", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/a%zz", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/a%4g", &r, &req), LICD_ERR_NOT_FOUND);
}

Test(router, trailing_and_double_slash_do_not_match)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/healthz/", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs/pk-1/", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "//healthz", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1//packs", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/v1/packs//pk-1", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("POST", "/v1/licenses//block", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "//", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_null(r);
}

Test(router, unknown_path_is_404)
{
    http_request req;
    const http_route *r = (const http_route *)&req;
    cr_assert_eq(match("GET", "/nope", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_null(r);
    cr_assert_str_eq(req.allow, "");
    cr_assert_eq(req.nparams, 0);
    cr_assert_eq(match("GET", "/healthzz", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "/health", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "healthz", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", "*", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("GET", NULL, &r, &req), LICD_ERR_NOT_FOUND);
}

Test(router, known_path_wrong_method_is_405_with_allow)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("DELETE", "/v1/packs", &r, &req), LICD_ERR_METHOD_NOT_ALLOWED);
    cr_assert_null(r);
    cr_assert_str_eq(req.allow, "GET, POST");
    cr_assert_eq(req.nparams, 0);

    cr_assert_eq(match("POST", "/healthz", &r, &req), LICD_ERR_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(req.allow, "GET");

    cr_assert_eq(match("GET", "/v1/leases/x", &r, &req), LICD_ERR_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(req.allow, "DELETE");
    /* A param path whose value would not decode is unknown, not 405. */
    cr_assert_eq(match("GET", "/v1/leases/a%2Fb", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_str_eq(req.allow, "");
}

Test(router, allow_is_reset_between_lookups)
{
    http_request req;
    const http_route *r = NULL;
    memset(&req, 0, sizeof req);
    cr_assert_eq(router_match(routes, NROUTES, "PUT", "/v1/packs", &r, &req),
                 LICD_ERR_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(req.allow, "GET, POST");
    /* Same struct reused, as the server does for a keep-alive connection. */
    cr_assert_eq(router_match(routes, NROUTES, "GET", "/healthz", &r, &req), LICD_OK);
    cr_assert_str_eq(req.allow, "");
    cr_assert_eq(router_match(routes, NROUTES, "GET", "/nope", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_str_eq(req.allow, "");
}

Test(router, param_length_limit)
{
    http_request req;
    const http_route *r = NULL;
    char path[1024], val[HTTP_PARAM_MAX + 1];

    /* HTTP_PARAM_MAX - 1 bytes fit with the terminating NUL. */
    memset(val, 'x', HTTP_PARAM_MAX - 1);
    val[HTTP_PARAM_MAX - 1] = '\0';
    snprintf(path, sizeof path, "/v1/packs/%s", val);
    cr_assert_eq(match("GET", path, &r, &req), LICD_OK);
    cr_assert_eq(strlen(http_param(&req, "pack_id")), HTTP_PARAM_MAX - 1);

    memset(val, 'x', HTTP_PARAM_MAX);
    val[HTTP_PARAM_MAX] = '\0';
    snprintf(path, sizeof path, "/v1/packs/%s", val);
    cr_assert_eq(match("GET", path, &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_null(r);

    /* The limit is on the decoded value: 255 "%41" escapes decode to 255 bytes. */
    strcpy(path, "/v1/packs/");
    for (int i = 0; i < HTTP_PARAM_MAX - 1; i++)
        strcat(path, "%41");
    cr_assert_eq(match("GET", path, &r, &req), LICD_OK);
    cr_assert_eq(strlen(http_param(&req, "pack_id")), HTTP_PARAM_MAX - 1);
}

Test(router, more_params_than_the_limit)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(HTTP_MAX_PARAMS, 4);
    cr_assert_eq(match("GET", "/four/1/2/3/4", &r, &req), LICD_OK);
    cr_assert_eq(r, &routes[9]);
    cr_assert_eq(req.nparams, 4);
    cr_assert_str_eq(http_param(&req, "a"), "1");
    cr_assert_str_eq(http_param(&req, "d"), "4");
    /* A template with five params can never match: no overflow of req->params. */
    cr_assert_eq(match("GET", "/five/1/2/3/4/5", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_null(r);
}

Test(router, empty_param_segment_refused)
{
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("PUT", "/v1/users//entitlements/cad", &r, &req), LICD_ERR_NOT_FOUND);
    cr_assert_eq(match("PUT", "/v1/users/alice/entitlements/", &r, &req), LICD_ERR_NOT_FOUND);
}

Test(router, query_string_is_not_part_of_the_path)
{
    /* The server strips the query before routing; a '?' reaching the router is data. */
    http_request req;
    const http_route *r = NULL;
    cr_assert_eq(match("GET", "/healthz?x=1", &r, &req), LICD_ERR_NOT_FOUND);
}
