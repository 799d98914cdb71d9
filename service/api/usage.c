/* GET /v1/usage: the usage reported under one of the vendor's licences,
 * aggregated per metric (latest, max, sum, count) over an optional range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
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
        snprintf(req->detail, sizeof req->detail,
                 "%s must be an RFC 3339 time such as 2026-01-31T12:00:00Z", name);
        return LICD_ERR_INVALID_FIELD;
    }
    json_format_time(t, buf, len);
    *out = buf;
    return LICD_OK;
}

/* One metric's aggregate from a row of store_usage_aggregate. */
static cJSON *metric_json(const PGresult *res, int row)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "metric", PQgetvalue(res, row, 0)) &&
        cJSON_AddNumberToObject(o, "count", strtod(PQgetvalue(res, row, 1), NULL)) &&
        cJSON_AddNumberToObject(o, "sum", strtod(PQgetvalue(res, row, 2), NULL)) &&
        cJSON_AddNumberToObject(o, "max", strtod(PQgetvalue(res, row, 3), NULL)) &&
        cJSON_AddNumberToObject(o, "latest", strtod(PQgetvalue(res, row, 4), NULL)) &&
        cJSON_AddStringToObject(o, "first_at", PQgetvalue(res, row, 5)) &&
        cJSON_AddStringToObject(o, "last_at", PQgetvalue(res, row, 6)))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_usage_get(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *license_id = http_query(req, "license_id"), *from, *to;
    char from_buf[32], to_buf[32];
    PGresult *res = NULL;
    cJSON *out = NULL, *metrics;
    int rc, known = 0;

    if (!license_id || !*license_id || strlen(license_id) > 64) {
        snprintf(req->detail, sizeof req->detail, "license_id is required (1 to 64 bytes)");
        return LICD_ERR_INVALID_FIELD;
    }
    if ((rc = time_arg(req, "from", from_buf, sizeof from_buf, &from)) != LICD_OK ||
        (rc = time_arg(req, "to", to_buf, sizeof to_buf, &to)) != LICD_OK ||
        (rc = store_usage_license_known(caller->vendor.id, license_id, &known)) != LICD_OK)
        return rc;
    if (!known) {
        snprintf(req->detail, sizeof req->detail, "no licence %.64s", license_id);
        return LICD_ERR_NOT_FOUND;
    }
    if ((rc = store_usage_aggregate(caller->vendor.id, license_id, from, to, &res)) != LICD_OK)
        return rc;
    rc = LICD_ERR_NOMEM;
    if (!(out = cJSON_CreateObject()) || !cJSON_AddStringToObject(out, "license_id", license_id) ||
        !json_add_string_or_null(out, "from", from) || !json_add_string_or_null(out, "to", to) ||
        !(metrics = cJSON_AddArrayToObject(out, "metrics")))
        goto out;
    for (int i = 0; i < PQntuples(res); i++)
        if (!cJSON_AddItemToArray(metrics, metric_json(res, i)))
            goto out;
    rc = http_reply_json(req, 200, out);
out:
    PQclear(res);
    cJSON_Delete(out);
    return rc;
}
