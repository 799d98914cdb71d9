/* GET /v1/audit: the calling vendor's audit trail, oldest first, page by page. */
#include <stdlib.h>

#include "api/api.h"
#include "api/list.h"
#include "store/audit.h"
#include "util/json.h"

/* Renders one row of store_audit_list. */
static cJSON *audit_row_json(const PGresult *res, int row)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "id", strtod(PQgetvalue(res, row, 0), NULL)) &&
        cJSON_AddStringToObject(o, "actor", PQgetvalue(res, row, 1)) &&
        cJSON_AddStringToObject(o, "action", PQgetvalue(res, row, 2)) &&
        cJSON_AddStringToObject(o, "object_type", PQgetvalue(res, row, 3)) &&
        cJSON_AddStringToObject(o, "object_id", PQgetvalue(res, row, 4)) &&
        cJSON_AddStringToObject(o, "request_id", PQgetvalue(res, row, 5)) &&
        json_add_raw(o, "details", PQgetvalue(res, row, 6)) &&
        cJSON_AddStringToObject(o, "at", PQgetvalue(res, row, 7)))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_audit_list(http_request *req)
{
    return api_list_vendor(req, store_audit_list, audit_row_json);
}
