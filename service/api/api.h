/* The API: the route table, the service-wide context handlers read, and
 * every handler. One file per resource under api/. */
#ifndef LICD_API_API_H
#define LICD_API_API_H

#include "crypto/keys.h"
#include "http/request.h"
#include "util/config.h"

/* Every route licd serves (also printed by `licd routes`). */
extern const http_route api_routes[];
extern const size_t api_nroutes;

/* Set once at start-up, before serving; read-only afterwards. */
typedef struct {
    const licd_config *config;
    const crypto_keyring *keys;
} api_context;

void api_init(const licd_config *config, const crypto_keyring *keys);
const api_context *api_ctx(void);

/* ops.c */
int api_healthz(http_request *req);
int api_readyz(http_request *req);
int api_metrics(http_request *req);
int api_jwks(http_request *req);
/* vendor.c */
int api_vendor_get(http_request *req);
int api_vendor_patch(http_request *req);
/* customers.c */
int api_customers_create(http_request *req);
int api_customers_get(http_request *req);

/* Client side of packs: challenges.c, get_key.c, upgrade.c */
extern const char *const api_platforms[];
int api_challenges_create(http_request *req);
int api_get_key(http_request *req);
int api_is_upgrade_available(http_request *req);
int api_upgrade(http_request *req);

#endif
