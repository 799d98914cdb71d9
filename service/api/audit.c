/* GET /v1/audit: the calling vendor's audit trail, oldest first, page by page. */
#include "api/api.h"
#include "api/list.h"
#include "store/audit.h"
#include "util/json.h"

/* Renders one store_audit_entry. */
static cJSON *audit_entry_json(const void *item)
{
    const store_audit_entry *e = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "id", (double)e->id) &&
        cJSON_AddStringToObject(o, "actor", e->actor) &&
        cJSON_AddStringToObject(o, "action", e->action) &&
        cJSON_AddStringToObject(o, "object_type", e->object_type) &&
        cJSON_AddStringToObject(o, "object_id", e->object_id) &&
        cJSON_AddStringToObject(o, "request_id", e->request_id) &&
        json_add_raw(o, "details", e->details_json) &&
        cJSON_AddStringToObject(o, "at", e->at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_audit_list(http_request *req)
{
    return api_list_vendor(req, store_audit_list, audit_entry_json);
}
