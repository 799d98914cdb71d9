/* /v1/webhooks and /v1/events: a vendor registers URLs that receive its
 * events (signed POSTs from webhooks/delivery.c), lists and deletes them,
 * and reads its events oldest first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "store/events.h"
#include "store/webhooks.h"
#include "util/json.h"
#include "webhooks/url.h"

/* The event types of API.md, in its order. */
static const char *const event_types[] = {"license.granted", "license.temporary", "seat.denied",
                                          "clone.detected",  "usage.over_limit",  "pack.low",
                                          "lease.lapsed"};
#define NTYPES (sizeof event_types / sizeof event_types[0])

static cJSON *webhook_json(const store_webhook *w)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "webhook_id", w->id) &&
        cJSON_AddStringToObject(o, "url", w->url) && json_add_raw(o, "events", w->events) &&
        cJSON_AddStringToObject(o, "state", w->state) &&
        (w->last_status < 0 ? cJSON_AddNullToObject(o, "last_status")
                            : cJSON_AddNumberToObject(o, "last_status", w->last_status)) &&
        (*w->last_error ? cJSON_AddStringToObject(o, "last_error", w->last_error)
                        : cJSON_AddNullToObject(o, "last_error")) &&
        (*w->last_attempt_at ? cJSON_AddStringToObject(o, "last_attempt_at", w->last_attempt_at)
                             : cJSON_AddNullToObject(o, "last_attempt_at")) &&
        cJSON_AddNumberToObject(o, "failures", (double)w->failures) &&
        cJSON_AddStringToObject(o, "created_at", w->created_at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* The "events" member: 1 to NTYPES distinct known types, into types. */
static int read_types(http_request *req, const cJSON *body, const char **types, size_t *n)
{
    const cJSON *arr, *item;
    int rc = json_get_string_array(body, "events", 1, NTYPES, 32, &arr, req->detail);
    *n = 0;
    if (rc != LICD_OK)
        return rc;
    if (cJSON_GetArraySize(arr) == 0)
        return http_fail(req, LICD_ERR_INVALID_FIELD, "events: at least one event type");
    cJSON_ArrayForEach (item, arr) {
        size_t k;
        for (k = 0; k < NTYPES && strcmp(event_types[k], item->valuestring) != 0; k++)
            ;
        if (k == NTYPES)
            return http_fail(req, LICD_ERR_INVALID_FIELD,
                             "events: unknown event type %.40s (known: license.granted,"
                             " license.temporary, seat.denied, clone.detected,"
                             " usage.over_limit, pack.low, lease.lapsed)",
                             item->valuestring);
        types[(*n)++] = event_types[k];
    }
    return LICD_OK;
}

int api_webhooks_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *url, *types[NTYPES];
    char secret[STORE_WEBHOOK_SECRET_LEN];
    store_webhook w = {0};
    cJSON *body = NULL, *out = NULL;
    size_t n;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "url", 1, 1, STORE_WEBHOOK_URL_MAX, &url, req->detail)) !=
            LICD_OK ||
        (rc = read_types(req, body, types, &n)) != LICD_OK ||
        (rc = webhook_url_check(url, (int)api_ctx()->config->webhook_allow_private, req->detail)) !=
            LICD_OK ||
        (rc = store_webhook_create(&caller->actor, url, types, n, &w, secret)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = webhook_json(&w)) && cJSON_AddStringToObject(out, "secret", secret))
        rc = http_reply_json(req, 201, out);
out:
    explicit_bzero(secret, sizeof secret);
    free(w.events);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}

static cJSON *webhook_item_json(const void *item) { return webhook_json(item); }

int api_webhooks_list(http_request *req)
{
    return api_list_vendor(req, store_webhook_list, webhook_item_json);
}

int api_webhooks_delete(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    int rc = store_webhook_delete(&caller->actor, http_param(req, "webhook_id"));
    return rc != LICD_OK ? rc : http_reply_empty(req, 204);
}

static cJSON *event_json(const void *item)
{
    const store_event *e = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "event_id", (double)e->event_id) &&
        cJSON_AddStringToObject(o, "type", e->type) &&
        cJSON_AddStringToObject(o, "created_at", e->created_at) && json_add_raw(o, "data", e->data))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* ?after=<event_id> (a whole number; 0, the default, is the start) or a
 * cursor from a previous page, and ?limit=. */
int api_events_list(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *a = http_query(req, "after");
    store_page page = {0};
    long long after;
    int limit, rc;

    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK)
        return rc;
    if (a) {
        char *end;
        errno = 0;
        after = strtoll(a, &end, 10);
        if (errno || end == a || *end || !(a[0] >= '0' && a[0] <= '9'))
            return http_fail(req, LICD_ERR_INVALID_FIELD,
                             "after must be an event_id (a whole number, 0 for the start)");
    }
    if ((rc = store_event_list(caller->vendor.id, after, limit, &page)) == LICD_OK)
        rc = api_list_page(req, &page, event_json);
    store_page_free(&page);
    return rc;
}
