/* GET /v1/usage: the usage reported under one of the vendor's licences,
 * aggregated per metric (latest, max, sum, count) over an optional range. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "store/usage.h"
#include "util/json.h"

/* Reads the optional time query argument name into buf as RFC 3339 UTC;
 * *out is buf, or NULL when absent. */
static int time_arg(http_request *req, const char *name, char *buf, size_t len, const char **out)
{
    const char *v = http_query(req, name);
    time_t t;
    *out = NULL;
    if (!v)
        return LICD_OK;
    if (json_parse_time(v, &t) != 0) {
        return http_fail(req, LICD_ERR_INVALID_FIELD,
                         "%s must be an RFC 3339 time such as 2026-01-31T12:00:00Z", name);
    }
    json_format_time(t, buf, len);
    *out = buf;
    return LICD_OK;
}

/* One metric's aggregate. */
static cJSON *metric_json(const void *item)
{
    const store_usage_metric *m = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "metric", m->metric) &&
        cJSON_AddNumberToObject(o, "count", (double)m->count) &&
        cJSON_AddNumberToObject(o, "sum", m->sum) &&
        cJSON_AddNumberToObject(o, "max", m->max) &&
        cJSON_AddNumberToObject(o, "latest", m->latest) &&
        cJSON_AddStringToObject(o, "first_at", m->first_at) &&
        cJSON_AddStringToObject(o, "last_at", m->last_at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_usage_get(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *license_id = http_query(req, "license_id"), *from, *to;
    char from_buf[32], to_buf[32];
    store_page page = {0};
    cJSON *out = NULL;
    int rc, known = 0;

    if (!license_id || !*license_id || strlen(license_id) > 64) {
        return http_fail(req, LICD_ERR_INVALID_FIELD, "license_id is required (1 to 64 bytes)");
    }
    if ((rc = time_arg(req, "from", from_buf, sizeof from_buf, &from)) != LICD_OK ||
        (rc = time_arg(req, "to", to_buf, sizeof to_buf, &to)) != LICD_OK ||
        (rc = store_usage_license_known(caller->vendor.id, license_id, &known)) != LICD_OK)
        return rc;
    if (!known) {
        return http_fail(req, LICD_ERR_NOT_FOUND, "no licence %.64s", license_id);
    }
    if ((rc = store_usage_aggregate(caller->vendor.id, license_id, from, to, &page)) != LICD_OK)
        return rc;
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) && cJSON_AddStringToObject(out, "license_id", license_id) &&
        json_add_string_or_null(out, "from", from) && json_add_string_or_null(out, "to", to) &&
        (rc = api_list_add(out, "metrics", &page, metric_json)) == LICD_OK)
        rc = http_reply_json(req, 200, out);
    store_page_free(&page);
    cJSON_Delete(out);
    return rc;
}
