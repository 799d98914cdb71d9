/* GET /v1/vendor: who the presented vendor key belongs to. */
#include "api/api.h"
#include "api/auth.h"

int api_vendor_get(http_request *req)
{
    store_vendor v;
    cJSON *body;
    int rc = api_auth_vendor(req, &v);
    if (rc != LICD_OK)
        return rc;
    body = cJSON_CreateObject();
    rc = LICD_ERR_NOMEM;
    if (body && cJSON_AddStringToObject(body, "vendor_id", v.id) &&
        cJSON_AddStringToObject(body, "name", v.name) &&
        cJSON_AddStringToObject(body, "created_at", v.created_at))
        rc = http_reply_json(req, 200, body);
    cJSON_Delete(body);
    return rc;
}
