/* /v1/vendor: who the presented vendor key belongs to, and renaming it. */
#include "api/api.h"
#include "api/auth.h"
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
