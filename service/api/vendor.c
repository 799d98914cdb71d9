/* /v1/vendor: who the presented vendor key belongs to, renaming it, and
 * rotating its API key. */
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "crypto/apikey.h"
#include "util/json.h"

static int reply_vendor(http_request *req, const store_vendor *v)
{
    cJSON *body = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (body && cJSON_AddStringToObject(body, "vendor_id", v->id) &&
        cJSON_AddStringToObject(body, "name", v->name) &&
        cJSON_AddStringToObject(body, "created_at", v->created_at))
        rc = http_reply_json(req, 200, body);
    cJSON_Delete(body);
    return rc;
}

int api_vendor_get(http_request *req)
{
    return reply_vendor(req, &api_caller_vendor(req)->vendor);
}

int api_vendor_patch(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_vendor v;
    cJSON *body = NULL;
    const char *name;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK)
        goto out;
    if ((rc = json_get_string(body, "name", 1, 1, 200, &name, req->detail)) != LICD_OK)
        goto out;
    if ((rc = store_vendor_rename(caller->vendor.id, name, &v)) != LICD_OK)
        goto out;
    rc = reply_vendor(req, &v);
out:
    cJSON_Delete(body);
    return rc;
}

/* A fresh API key for the vendor; the keys it had (the one presented
 * included) keep working for grace_s seconds. */
int api_vendor_rotate_key(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    char key[APIKEY_PLAIN_LEN], valid_until[40];
    long grace_s;
    int rc;

    if ((rc = api_rotate_params(req, &grace_s)) != LICD_OK ||
        (rc = store_vendor_rotate_key(&caller->actor, grace_s, key, sizeof key, valid_until)) !=
            LICD_OK)
        return rc;
    rc = api_reply_rotated(req, "vendor_id", caller->vendor.id, "api_key", key, valid_until);
    explicit_bzero(key, sizeof key);
    return rc;
}
