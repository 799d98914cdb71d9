/* Cursor pagination shared by every list endpoint. Cursors are the last
 * row id, base64url-encoded so clients treat them as opaque. */
#include "api/list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "crypto/digest.h"
#include "util/base64.h"
#include "util/json.h"

int api_list_params(http_request *req, int *limit, long long *after)
{
    const char *l = http_query(req, "limit"), *c = http_query(req, "cursor");
    char *end;
    *limit = API_LIST_DEFAULT;
    *after = 0;
    if (l) {
        long v;
        errno = 0;
        v = strtol(l, &end, 10);
        if (errno || end == l || *end || v < 1 || v > API_LIST_MAX) {
            return http_fail(req, LICD_ERR_INVALID_FIELD,
                             "limit must be a whole number from 1 to %d", API_LIST_MAX);
        }
        *limit = (int)v;
    }
    if (c) {
        size_t len = 0;
        uint8_t *raw = b64url_decode(c, strlen(c), &len);
        long long v = -1;
        if (raw && len > 0 && len < 20 && strspn((char *)raw, "0123456789") == len) {
            errno = 0;
            v = strtoll((char *)raw, &end, 10);
            if (errno)
                v = -1;
        }
        free(raw);
        if (v < 0) {
            return http_fail(req, LICD_ERR_INVALID_FIELD,
                             "cursor is not one this service gave out");
        }
        *after = v;
    }
    return LICD_OK;
}

int api_list_filter(http_request *req, const char *name, size_t max, const char **out)
{
    const char *v = http_query(req, name);
    *out = NULL;
    if (!v)
        return LICD_OK;
    if (!*v || strlen(v) > max) {
        return http_fail(req, LICD_ERR_INVALID_FIELD, "%s must be 1 to %zu bytes long", name, max);
    }
    *out = v;
    return LICD_OK;
}

int api_list_filter_uuid(http_request *req, const char *name, const char **out)
{
    int rc = api_list_filter(req, name, 36, out);
    if (rc == LICD_OK && *out && !json_is_uuid(*out)) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD, "%s must be a UUID", name);
    }
    return rc;
}

/* Answers 200 {"items": items, "next": cursor or null}; takes items. more
 * says whether items remain after last_id. */
static int reply(http_request *req, cJSON *items, int more, long long last_id)
{
    cJSON *body = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (!body) {
        cJSON_Delete(items);
        return rc;
    }
    cJSON_AddItemToObject(body, "items", items);
    if (more) {
        char id[24], *cursor;
        snprintf(id, sizeof id, "%lld", last_id);
        cursor = b64url_encode(id, strlen(id));
        if (cursor && cJSON_AddStringToObject(body, "next", cursor))
            rc = http_reply_json(req, 200, body);
        free(cursor);
    } else if (cJSON_AddNullToObject(body, "next")) {
        rc = http_reply_json(req, 200, body);
    }
    cJSON_Delete(body);
    return rc;
}

/* The items of page rendered into a new array; NULL when out of memory. */
static cJSON *render_items(const store_page *page, api_list_render render)
{
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; items && i < page->n; i++) {
        cJSON *item = render((const char *)page->items + i * page->size);
        if (!item || !cJSON_AddItemToArray(items, item)) {
            cJSON_Delete(item);
            cJSON_Delete(items);
            items = NULL;
        }
    }
    return items;
}

int api_list_add(cJSON *o, const char *name, const store_page *page, api_list_render render)
{
    cJSON *items = render_items(page, render);
    if (items && cJSON_AddItemToObject(o, name, items))
        return LICD_OK;
    cJSON_Delete(items);
    return LICD_ERR_NOMEM;
}

int api_list_page(http_request *req, const store_page *page, api_list_render render)
{
    cJSON *items = render_items(page, render);
    return items ? reply(req, items, page->more, page->last_pos) : LICD_ERR_NOMEM;
}

int api_list_vendor(http_request *req, api_list_fetch fetch, api_list_render render)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_page page = {0};
    long long after;
    int limit, rc;

    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK ||
        (rc = fetch(caller->vendor.id, after, limit, &page)) != LICD_OK)
        return rc;
    rc = api_list_page(req, &page, render);
    store_page_free(&page);
    return rc;
}
