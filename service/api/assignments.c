/* GET /v1/assignments: the licences a vendor's packs handed out, filtered
 * by customer, client and pack, page by page. */
#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "util/json.h"

cJSON *api_assignment_json(const store_assignment *a)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "license_id", a->license_id) &&
        json_add_string_or_null(o, "pack_id", a->pack_id) &&
        cJSON_AddStringToObject(o, "customer_id", a->customer_id) &&
        cJSON_AddStringToObject(o, "client_id", a->client_id) &&
        cJSON_AddStringToObject(o, "product", a->product) &&
        cJSON_AddStringToObject(o, "version", a->version) &&
        cJSON_AddStringToObject(o, "platform", a->platform) &&
        cJSON_AddStringToObject(o, "issued_at", a->issued_at) &&
        json_add_string_or_null(o, "expires_at", a->expires_at) &&
        cJSON_AddStringToObject(o, "status", a->status) &&
        cJSON_AddBoolToObject(o, "temporary", a->temporary) &&
        cJSON_AddBoolToObject(o, "blocked", a->blocked))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static cJSON *assignment_item_json(const void *item) { return api_assignment_json(item); }

int api_assignments_list(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_assignment_filter f;
    store_page page = {0};
    long long after;
    int limit, rc;

    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK ||
        (rc = api_list_filter_uuid(req, "customer_id", &f.customer_id)) != LICD_OK ||
        (rc = api_list_filter(req, "client_id", 256, &f.client_id)) != LICD_OK ||
        (rc = api_list_filter(req, "pack_id", 64, &f.pack_id)) != LICD_OK)
        return rc;
    if ((rc = store_assignment_list(caller->vendor.id, &f, after, limit, &page)) != LICD_OK)
        return rc;
    rc = api_list_page(req, &page, assignment_item_json);
    store_page_free(&page);
    return rc;
}
