/* The route table: every method and path licd serves. api-spec/openapi.yaml
 * lists the same set (tests/run checks it). */
#include "api/api.h"

const http_route api_routes[] = {
    {"GET", "/healthz", api_healthz, 0},
    {"GET", "/readyz", api_readyz, 0},
    {"GET", "/metrics", api_metrics, 0},
    {"GET", "/.well-known/jwks.json", api_jwks, 0},
    {"GET", "/v1/vendor", api_vendor_get, 0},
    {"PATCH", "/v1/vendor", api_vendor_patch, 0},
    {"POST", "/v1/customers", api_customers_create, 0},
    {"GET", "/v1/customers/{customer_id}", api_customers_get, 0},
    /* client side of packs */
    {"POST", "/v1/challenges", api_challenges_create, 0},
    {"POST", "/v1/get_key", api_get_key, 0},
    {"POST", "/v1/is_upgrade_available", api_is_upgrade_available, 0},
    {"POST", "/v1/upgrade", api_upgrade, 0},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
