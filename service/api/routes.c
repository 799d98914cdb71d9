/* The route table: every method and path licd serves and who may call it
 * (api/auth.h), checked by the server before any handler runs.
 * api-spec/openapi.yaml lists the same set (tests/run checks it). */
#include "api/api.h"
#include "api/auth.h"

const http_route api_routes[] = {
    {"GET", "/healthz", &api_public, api_healthz, 0},
    {"GET", "/readyz", &api_public, api_readyz, 0},
    {"GET", "/metrics", &api_public, api_metrics, 0},
    {"GET", "/.well-known/jwks.json", &api_public, api_jwks, 0},
    /* the vendor console: static files; it signs in with the vendor key itself */
    {"GET", "/console", &api_public, api_console_redirect, 0},
    {"GET", "/console/", &api_public, api_console_index, 0},
    {"GET", "/console/{file}", &api_public, api_console_file, 0},
    {"GET", "/v1/vendor", &api_vendor_key, api_vendor_get, 0},
    {"PATCH", "/v1/vendor", &api_vendor_key, api_vendor_patch, 0},
    {"POST", "/v1/vendor/rotate-key", &api_vendor_key, api_vendor_rotate_key, 0},
    {"POST", "/v1/customers", &api_vendor_key, api_customers_create, 0},
    {"GET", "/v1/customers/{customer_id}", &api_vendor_key, api_customers_get, 0},
    {"POST", "/v1/customers/{customer_id}/rotate-key", &api_vendor_key, api_customers_rotate_key, 0},
    {"GET", "/v1/customers", &api_vendor_key, api_customers_list, 0},
    /* vendor side of packs */
    {"POST", "/v1/products", &api_vendor_key, api_products_create, 0},
    {"GET", "/v1/products", &api_vendor_key, api_products_list, 0},
    {"GET", "/v1/products/{code}", &api_vendor_key, api_products_get, 0},
    {"POST", "/v1/products/{code}/upgrade-paths", &api_vendor_key, api_upgrade_paths_create, 0},
    {"POST", "/v1/packs", &api_vendor_key, api_packs_create, 0},
    {"GET", "/v1/packs", &api_vendor_key, api_packs_list, 0},
    {"GET", "/v1/packs/{pack_id}", &api_vendor_key, api_packs_get, 0},
    {"PATCH", "/v1/packs/{pack_id}", &api_vendor_key, api_packs_update, 0},
    /* site servers: allocations of packs, the sites' keys, their usage reports */
    {"POST", "/v1/packs/{pack_id}/allocations", &api_vendor_key, api_allocations_create, 0},
    {"GET", "/v1/sites/{site_id}", &api_vendor_key, api_sites_get, 0},
    {"PUT", "/v1/sites/{site_id}", &api_vendor_key, api_sites_put, 0},
    {"POST", "/v1/sites/{site_id}/reports", &api_vendor_key, api_sites_reports_create, 0},
    {"GET", "/v1/assignments", &api_vendor_key, api_assignments_list, 0},
    {"POST", "/v1/licenses/{license_id}/block", &api_vendor_key, api_licenses_block, 0},
    {"POST", "/v1/licenses/{license_id}/unblock", &api_vendor_key, api_licenses_unblock, 0},
    {"DELETE", "/v1/licenses/{license_id}", &api_vendor_or_customer_key, api_licenses_deactivate,
     0},
    /* 64 MiB of image as base64 (4/3 of it) with room for the JSON around it */
    {"POST", "/v1/client-images", &api_vendor_key, api_client_images_upload, 90u << 20},
    {"GET", "/v1/audit", &api_vendor_key, api_audit_list, 0},
    /* events and the webhooks that receive them */
    {"POST", "/v1/webhooks", &api_vendor_key, api_webhooks_create, 0},
    {"GET", "/v1/webhooks", &api_vendor_key, api_webhooks_list, 0},
    {"DELETE", "/v1/webhooks/{webhook_id}", &api_vendor_key, api_webhooks_delete, 0},
    {"GET", "/v1/events", &api_vendor_key, api_events_list, 0},
    /* client side of packs */
    {"POST", "/v1/challenges", &api_customer_key, api_challenges_create, 0},
    {"POST", "/v1/get_key", &api_customer_or_group_key, api_get_key, 0},
    {"POST", "/v1/is_upgrade_available", &api_customer_key, api_is_upgrade_available, 0},
    {"POST", "/v1/upgrade", &api_customer_key, api_upgrade, 0},
    /* group keys, update passwords and usage */
    {"POST", "/v1/group-keys", &api_vendor_key, api_group_keys_create, 0},
    {"GET", "/v1/group-keys", &api_vendor_key, api_group_keys_list, 0},
    {"GET", "/v1/group-keys/{group_key}", &api_vendor_key, api_group_keys_get, 0},
    {"PATCH", "/v1/group-keys/{group_key}", &api_vendor_key, api_group_keys_update, 0},
    {"POST", "/v1/group-keys/{group_key}/revoke", &api_vendor_key, api_group_keys_revoke, 0},
    {"POST", "/v1/group-keys/{group_key}/relink", &api_vendor_key, api_group_keys_relink, 0},
    {"GET", "/v1/update-passwords", &api_vendor_key, api_update_passwords_list, 0},
    {"POST", "/v1/update-passwords/{id}/resolve", &api_vendor_key, api_update_passwords_resolve, 0},
    /* gzip reports up to 16 MiB (64 MiB once inflated); JSON ones keep LICD_BODY_LIMIT */
    {"POST", "/v1/report_usage", &api_license, api_report_usage, API_USAGE_BODY_LIMIT},
    {"GET", "/v1/usage", &api_vendor_key, api_usage_get, 0},
    /* shared computers: users and session tokens */
    {"POST", "/v1/users", &api_vendor_key, api_users_create, 0},
    {"GET", "/v1/users", &api_vendor_key, api_users_list, 0},
    {"GET", "/v1/users/{username}", &api_vendor_key, api_users_get, 0},
    {"PUT", "/v1/users/{username}/entitlements/{product}", &api_vendor_key, api_entitlements_put, 0},
    {"POST", "/v1/users/{username}/revoke", &api_vendor_key, api_users_revoke, 0},
    {"POST", "/v1/users/{username}/unrevoke", &api_vendor_key, api_users_unrevoke, 0},
    {"DELETE", "/v1/users/{username}/machines/{machine_id}", &api_vendor_key,
     api_users_free_machine, 0},
    {"GET", "/v1/users/{username}/activity", &api_vendor_key, api_users_activity, 0},
    {"POST", "/v1/tokens", &api_customer_key, api_tokens_create, 0},
    {"POST", "/v1/tokens/renew", &api_session_token, api_tokens_renew, 0},
    /* floating seats */
    {"POST", "/v1/leases", &api_customer_key, api_leases_create, 0},
    {"POST", "/v1/leases/{lease_id}/heartbeat", &api_customer_key, api_leases_heartbeat, 0},
    {"DELETE", "/v1/leases/{lease_id}", &api_customer_key, api_leases_release, 0},
    {"GET", "/v1/leases", &api_vendor_key, api_leases_list, 0},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
