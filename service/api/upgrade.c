/* POST /v1/is_upgrade_available and /v1/upgrade: moving a licence (a pack
 * licence or an activation key, expired or not) to a newer version by
 * consuming a seat of an upgrade pack of its customer. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/license.h"
#include "domain/upgrade.h"
#include "store/grants.h"
#include "util/json.h"

struct upgrade_request {
    const store_customer *customer;
    store_license license;
    store_license_kind kind;
    store_product product;
    const char *target;
    domain_upgrade_answer answer;
};

/* Reads the body, checks the licence JWT belongs to the calling customer
 * (it may have expired: an expired licence can still be upgraded), finds
 * its row and product, and decides availability. */
static int prepare(http_request *req, struct upgrade_request *u, cJSON **body)
{
    const char *jwt, *lid, *pid;
    cJSON *claims = NULL;
    domain_upgrade_facts f = {0};
    int rc, seat = 0;

    u->customer = api_caller_customer(req);
    if ((rc = http_json_body(req, body)) != LICD_OK ||
        (rc = json_get_string(*body, "license", 1, 1, 16384, &jwt, req->detail)) != LICD_OK ||
        (rc = json_get_string(*body, "target_version", 1, 1, 64, &u->target, req->detail)) != LICD_OK)
        return rc;
    if (api_license_verify(jwt, &claims) == LICD_ERR_TOKEN_INVALID) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD,
                       "license is not a licence signed by this service");
        goto out;
    }
    lid = cJSON_GetObjectItemCaseSensitive(claims, "lid")->valuestring; /* checked by the verify */
    pid = json_string_member(claims, "pid");
    if (!pid || !json_string_member(claims, "cus") || strcmp(json_string_member(claims, "cus"), u->customer->id) != 0) {
        rc = http_fail(req, LICD_ERR_FORBIDDEN, "the licence belongs to another customer");
        goto out;
    }
    if ((rc = store_license_get(u->customer->vendor_id, lid, &u->license, &u->kind)) != LICD_OK ||
        (rc = store_product_get(u->customer->vendor_id, pid, &u->product)) != LICD_OK)
        goto out;
    f.license_active = !u->license.temporary && strcmp(u->license.status, "active") == 0;
    f.license_deactivated = strcmp(u->license.status, "deactivated") == 0;
    f.license_blocked = u->license.blocked;
    f.same_version = strcmp(u->license.version, u->target) == 0;
    if ((rc = store_upgrade_path_exists(u->product.id, u->license.version, u->target,
                                        &f.path_exists)) != LICD_OK ||
        (rc = store_upgrade_seat_free(&u->license, u->target, &seat)) != LICD_OK)
        goto out;
    f.seat_free = seat;
    u->answer = domain_upgrade_check(&f);
out:
    cJSON_Delete(claims);
    return rc;
}

int api_is_upgrade_available(http_request *req)
{
    struct upgrade_request u = {0};
    cJSON *body = NULL, *out = NULL;
    int rc = prepare(req, &u, &body);
    if (rc == LICD_OK) {
        rc = LICD_ERR_NOMEM;
        if ((out = cJSON_CreateObject()) &&
            cJSON_AddBoolToObject(out, "available", u.answer.available) &&
            cJSON_AddBoolToObject(out, "supported", u.answer.supported) &&
            cJSON_AddStringToObject(out, "reason", u.answer.reason) &&
            cJSON_AddStringToObject(out, "license_id", u.license.license_id) &&
            cJSON_AddStringToObject(out, "from_version", u.license.version) &&
            cJSON_AddStringToObject(out, "target_version", u.target))
            rc = http_reply_json(req, 200, out);
    }
    cJSON_Delete(out);
    cJSON_Delete(body);
    store_product_clear(&u.product);
    return rc;
}

int api_upgrade(http_request *req)
{
    struct upgrade_request u = {0};
    store_license fresh = {0};
    cJSON *body = NULL;
    int rc = prepare(req, &u, &body);
    if (rc != LICD_OK)
        goto out;
    if (u.license.blocked) {
        rc =
            http_fail(req, LICD_ERR_LICENSE_BLOCKED, "licence %s is blocked", u.license.license_id);
        goto out;
    }
    if (!u.answer.available) {
        rc = http_fail(req, LICD_ERR_NO_UPGRADE_AVAILABLE,
                       "licence %s cannot be upgraded to %s (reason: %s)", u.license.license_id,
                       u.target, u.answer.reason);
        goto out;
    }
    rc = store_upgrade(&u.license, u.kind, u.target, &fresh);
    if (rc == LICD_ERR_LICENSE_BLOCKED)
        snprintf(req->detail, sizeof req->detail, "licence %s is blocked", u.license.license_id);
    else if (rc == LICD_ERR_NO_UPGRADE_AVAILABLE)
        snprintf(req->detail, sizeof req->detail,
                 "licence %s cannot be upgraded to %s (reason: no_upgrade_seat)",
                 u.license.license_id, u.target);
    if (rc == LICD_OK)
        rc = api_license_reply(req, 201, &fresh, NULL, &u.product, NULL);
out:
    cJSON_Delete(body);
    store_product_clear(&u.product);
    return rc;
}
