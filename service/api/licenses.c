/* POST /v1/licenses/{license_id}/block and /unblock: a blocked licence is
 * neither reissued nor upgraded until it is unblocked. DELETE deactivates
 * a licence for good and gives its seat back to its pack. */
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

/* The vendor, or the customer that owns the licence: another customer's
 * licence is as unknown to a customer as another vendor's. */
int api_licenses_deactivate(http_request *req)
{
    const api_vendor_caller *vendor = api_caller_vendor(req);
    const store_customer *customer = api_caller_customer(req);
    const char *license_id = http_param(req, "license_id");
    char label[64];
    store_actor who;
    int rc;

    if (vendor) {
        who = vendor->actor;
    } else {
        snprintf(label, sizeof label, "customer %s", customer->id);
        who = (store_actor){customer->vendor_id, label, req->request_id};
    }
    rc = store_assignment_deactivate(&who, customer ? customer->id : NULL, license_id);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "%s has no pack or temporary licence %.64s",
                 vendor ? "this vendor" : "this customer", license_id);
    return rc == LICD_OK ? http_reply_empty(req, 204) : rc;
}
