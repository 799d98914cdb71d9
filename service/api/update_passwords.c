/* /v1/update-passwords: the vendor's post-moderation queue of update
 * passwords presented more than once (suspected clones), and its resolution. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "store/update_passwords.h"
#include "util/json.h"

static const char *const actions[] = {"dismiss", "block", NULL};

/* One password (a store_upw_item) as the queue shows it. */
static cJSON *item_json(const void *item)
{
    const store_upw_item *u = item;
    char id[24];
    cJSON *o = cJSON_CreateObject();
    snprintf(id, sizeof id, "%lld", u->id);
    if (o && cJSON_AddStringToObject(o, "id", id) &&
        cJSON_AddStringToObject(o, "group_key_prefix", u->group_key_prefix) &&
        cJSON_AddStringToObject(o, "product", u->product) &&
        cJSON_AddStringToObject(o, "node_id", u->node_id) &&
        cJSON_AddStringToObject(o, "app_id", u->app_id) &&
        cJSON_AddStringToObject(o, "static", u->static_part) &&
        cJSON_AddStringToObject(o, "status", u->status) &&
        cJSON_AddStringToObject(o, "license_id", u->license_id) &&
        cJSON_AddStringToObject(o, "issued_at", u->issued_at) &&
        json_add_string_or_null(o, "first_used_at", u->first_used_at) &&
        json_add_string_or_null(o, "cloned_at", u->cloned_at) &&
        json_add_string_or_null(o, "resolved_at", u->resolved_at) &&
        json_add_raw(o, "evidence", u->evidence_json) &&
        cJSON_AddNumberToObject(o, "evidence_count", (double)u->evidence_count))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_update_passwords_list(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    domain_upw_status status = UPW_CLONED;
    const char *s = http_query(req, "status");
    store_page page = {0};
    long long after;
    int limit, rc;

    if (s && domain_upw_status_parse(s, &status) != 0) {
        return http_fail(req, LICD_ERR_INVALID_FIELD,
                         "status must be one of: issued, used, cloned, dismissed, blocked");
    }
    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK ||
        (rc = store_upw_list(caller->vendor.id, status, after, limit, &page)) != LICD_OK)
        return rc;
    rc = api_list_page(req, &page, item_json);
    store_page_free(&page);
    return rc;
}

int api_update_passwords_resolve(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *id = http_param(req, "id"), *action;
    char *blocked = NULL;
    store_upw_item item = {.evidence_json = NULL};
    cJSON *body = NULL, *out = NULL;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_enum(body, "action", 1, actions, NULL, &action, req->detail)) != LICD_OK)
        goto out;
    rc = store_upw_resolve(&caller->actor, id, action == actions[1], &blocked);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no update password %.32s", id);
    else if (rc == LICD_ERR_CONFLICT)
        snprintf(req->detail, sizeof req->detail,
                 "update password %.32s is not awaiting moderation (status is not cloned)", id);
    if (rc != LICD_OK || (rc = store_upw_get(caller->vendor.id, id, &item)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = item_json(&item)) && json_add_raw(out, "blocked_licenses", blocked))
        rc = http_reply_json(req, 200, out);
out:
    store_upw_item_clear(&item);
    free(blocked);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}
