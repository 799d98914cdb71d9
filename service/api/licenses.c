/* POST /v1/licenses/{license_id}/block and /unblock: a blocked licence is
 * neither reissued nor upgraded until it is unblocked. */
#include <stdio.h>

#include "api/api.h"
#include "api/auth.h"

static int set_blocked(http_request *req, int blocked)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_assignment a;
    const char *license_id = http_param(req, "license_id");
    cJSON *out;
    int rc;

    rc = store_assignment_set_blocked(&caller->actor, license_id, blocked, &a);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "this vendor has no licence %.64s", license_id);
    if (rc != LICD_OK)
        return rc;
    if (!(out = api_assignment_json(&a)))
        return LICD_ERR_NOMEM;
    rc = http_reply_json(req, 200, out);
    cJSON_Delete(out);
    return rc;
}

int api_licenses_block(http_request *req) { return set_blocked(req, 1); }
int api_licenses_unblock(http_request *req) { return set_blocked(req, 0); }
