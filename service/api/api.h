/* The API: the route table, the service-wide context handlers read, and
 * every handler. One file per resource under api/. */
#ifndef LICD_API_API_H
#define LICD_API_API_H

#include "crypto/keys.h"
#include "http/request.h"
#include "store/assignments.h"
#include "util/config.h"
#include "util/ratelimit.h"

/* Every route licd serves, each with who may call it (also printed by
 * `licd routes`). */
extern const http_route api_routes[];
extern const size_t api_nroutes;

/* auth.c: the authorize hook of http_server_config (resolves the caller a
 * route's declaration asks for; see api/auth.h), and the name of a
 * declaration as `licd routes` prints it ("undeclared" for NULL). */
int api_authorize(http_request *req);
const char *api_auth_name(const http_auth *auth);

/* Set once at start-up, before serving; read-only afterwards (the rate
 * limiter's table locks its own buckets). */
typedef struct {
    const licd_config *config;
    const crypto_keyring *keys;
    ratelimit *limits; /* NULL when LICD_RATE_LIMIT is 0 */
    ratelimit *auth_failures; /* by source address; NULL when LICD_AUTH_FAILURE_RATE is 0 */
} api_context;

/* 0, or LICD_ERR_NOMEM; api_shutdown frees what it made. */
int api_init(const licd_config *config, const crypto_keyring *keys);
void api_shutdown(void);
const api_context *api_ctx(void);

/* auth.c: takes a request of the caller known by id (a string; its kind
 * first, e.g. "v" + a vendor key's public prefix) from its rate-limit bucket
 * and sets the RateLimit-* headers of the answer: 0, or
 * LICD_ERR_RATE_LIMITED with Retry-After set. Called by api_authorize for
 * the credentials of the Authorization header, and by the handlers that
 * find the credential in the body (group keys, session-token renewal) once
 * it is verified. */
int api_rate_limit(http_request *req, const char *id);

/* idempotency.c: the prepare hook of http_server_config: a POST with an
 * Idempotency-Key answers what the first request with that key and body
 * answered (see README). */
int api_idempotency_prepare(http_request *req);

/* console.c: the vendor console's static files (clients/console), from
 * the folder config->console_dir; /console answers a redirect to /console/ */
int api_console_redirect(http_request *req);
int api_console_index(http_request *req);
int api_console_file(http_request *req);
/* ops.c */
int api_healthz(http_request *req);
int api_readyz(http_request *req);
int api_metrics(http_request *req);
int api_jwks(http_request *req);
/* vendor.c */
int api_vendor_get(http_request *req);
int api_vendor_patch(http_request *req);
int api_vendor_rotate_key(http_request *req);
/* customers.c; also what both key rotations share: api_rotate_params reads
 * the body ({"grace_s"?}, or none), api_reply_rotated answers 200 with the
 * owner's id, the new key and when the old ones stop working */
int api_customers_create(http_request *req);
int api_customers_get(http_request *req);
int api_customers_list(http_request *req);
int api_customers_rotate_key(http_request *req);
int api_rotate_params(http_request *req, long *grace_s);
int api_reply_rotated(http_request *req, const char *id_name, const char *id,
                      const char *key_name, const char *key, const char *valid_until);
/* products.c */
int api_products_create(http_request *req);
int api_products_get(http_request *req);
int api_products_list(http_request *req);
int api_upgrade_paths_create(http_request *req);
/* packs.c */
int api_packs_create(http_request *req);
int api_packs_get(http_request *req);
int api_packs_list(http_request *req);
int api_packs_update(http_request *req);
/* site servers (sites.c) */
int api_allocations_create(http_request *req);
int api_sites_get(http_request *req);
int api_sites_put(http_request *req);
int api_sites_reports_create(http_request *req);
/* assignments.c; api_assignment_json renders one licence (NULL: out of memory) */
cJSON *api_assignment_json(const store_assignment *a);
int api_assignments_list(http_request *req);
/* licenses.c */
int api_licenses_block(http_request *req);
int api_licenses_unblock(http_request *req);
int api_licenses_deactivate(http_request *req);
/* client_images.c */
int api_client_images_upload(http_request *req);
/* audit.c */
int api_audit_list(http_request *req);
/* webhooks.c: webhooks and the event list */
int api_webhooks_create(http_request *req);
int api_webhooks_list(http_request *req);
int api_webhooks_delete(http_request *req);
int api_events_list(http_request *req);

/* Client side of packs: challenges.c, get_key.c, upgrade.c */
extern const char *const api_platforms[];
int api_challenges_create(http_request *req);
int api_get_key(http_request *req);
/* get_key_group.c: the group-key shape of get_key, body already parsed. */
int api_get_key_group(http_request *req, const cJSON *body);
int api_is_upgrade_available(http_request *req);
int api_upgrade(http_request *req);

/* Group keys, update passwords and usage: group_keys.c, update_passwords.c
 * (vendor), report_usage.c (clients), usage.c (vendor) */
int api_group_keys_create(http_request *req);
int api_group_keys_list(http_request *req);
int api_group_keys_get(http_request *req);
int api_group_keys_update(http_request *req);
int api_group_keys_revoke(http_request *req);
int api_group_keys_relink(http_request *req);
int api_update_passwords_list(http_request *req);
int api_update_passwords_resolve(http_request *req);
#define API_USAGE_BODY_LIMIT (16u << 20)     /* a gzip report as sent */
#define API_USAGE_INFLATED_LIMIT (64u << 20) /* and once inflated (zip bombs: 413) */
int api_report_usage(http_request *req);
int api_usage_get(http_request *req);

/* Shared computers: users.c (vendor), tokens.c (clients) */
int api_users_create(http_request *req);
int api_users_list(http_request *req);
int api_users_get(http_request *req);
int api_users_revoke(http_request *req);
int api_users_unrevoke(http_request *req);
int api_users_free_machine(http_request *req);
int api_entitlements_put(http_request *req);
int api_users_activity(http_request *req);
int api_tokens_create(http_request *req);
int api_tokens_renew(http_request *req);

/* Floating seats: leases.c */
int api_leases_create(http_request *req);
int api_leases_heartbeat(http_request *req);
int api_leases_release(http_request *req);
int api_leases_list(http_request *req);

#endif
