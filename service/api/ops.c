/* Operations endpoints: liveness, readiness, metrics and the JWKS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "store/db.h"
#include "util/metrics.h"

static int reply_status(http_request *req, int status, const char *value)
{
    cJSON *body = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (body && cJSON_AddStringToObject(body, "status", value))
        rc = http_reply_json(req, status, body);
    cJSON_Delete(body);
    return rc;
}

int api_healthz(http_request *req) { return reply_status(req, 200, "ok"); }

int api_readyz(http_request *req)
{
    if (store_ready() != LICD_OK) {
        return http_fail(req, LICD_ERR_UNAVAILABLE, "the database is unreachable or read-only");
    }
    return reply_status(req, 200, "ready");
}

int api_metrics(http_request *req)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    int rc;
    if (!text)
        return LICD_ERR_NOMEM;
    rc = http_reply_bytes(req, 200, "text/plain; version=0.0.4", text, len);
    free(text);
    return rc;
}

int api_jwks(http_request *req)
{
    const char *jwks = crypto_keyring_jwks(api_ctx()->keys);
    return http_reply_bytes(req, 200, "application/json", jwks, strlen(jwks));
}
