/* POST /v1/report_usage: a client reports usage under its licence or
 * activation key (Authorization: License <jwt>), as JSON or as a gzip of
 * JSON lines; good records are stored, bad ones counted, and the metrics
 * above the licence's resource limits named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/auth.h"
#include "store/usage.h"
#include "util/gzlines.h"
#include "util/json.h"

#define BATCH_RECORDS 5000   /* records per INSERT statement */

/* A resource limit of the licence and the largest value reported for it. */
struct limit {
    const char *metric;
    double limit, max;
    int seen;
};

/* One report being read: accepted records go into JSON batches for the store. */
struct report {
    cJSON *batch;            /* the batch being filled */
    char **batches;          /* full batches as text, malloc'd */
    size_t nbatches, cap;
    long long accepted, rejected;
    struct limit *limits;
    size_t nlimits;
};

static void report_free(struct report *r)
{
    cJSON_Delete(r->batch);
    for (size_t i = 0; i < r->nbatches; i++)
        cJSON_free(r->batches[i]);
    free(r->batches);
    free(r->limits);
}

/* Moves the batch being filled to the list of texts. */
static int flush(struct report *r)
{
    char *text;
    if (!r->batch || cJSON_GetArraySize(r->batch) == 0)
        return LICD_OK;
    if (r->nbatches == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        char **grown = realloc(r->batches, cap * sizeof *grown);
        if (!grown)
            return LICD_ERR_NOMEM;
        r->batches = grown;
        r->cap = cap;
    }
    if (!(text = cJSON_PrintUnformatted(r->batch)))
        return LICD_ERR_NOMEM;
    r->batches[r->nbatches++] = text;
    cJSON_Delete(r->batch);
    r->batch = NULL;
    return LICD_OK;
}

/* Accepts a record {metric (1-64 bytes), value (a finite number), at
 * (RFC 3339, optional: now)} into the batch, or counts it rejected. */
static int take(struct report *r, const cJSON *rec)
{
    char scratch[LICD_DETAIL_MAX];
    const char *metric;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(rec, "value");
    cJSON *o;
    time_t at;
    int has_at;

    if (!cJSON_IsObject(rec) ||
        json_get_string(rec, "metric", 1, 1, STORE_METRIC_MAX, &metric, scratch) != LICD_OK ||
        !cJSON_IsNumber(value) || !isfinite(value->valuedouble) ||
        json_get_time(rec, "at", 0, &at, &has_at, scratch) != LICD_OK) {
        r->rejected++;
        return LICD_OK;
    }
    if (!r->batch && !(r->batch = cJSON_CreateArray()))
        return LICD_ERR_NOMEM;
    if (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(r->batch, o) ||
        !cJSON_AddStringToObject(o, "metric", metric) ||
        !cJSON_AddNumberToObject(o, "value", value->valuedouble) ||
        !(has_at ? cJSON_AddNumberToObject(o, "at", (double)at) : cJSON_AddNullToObject(o, "at")))
        return LICD_ERR_NOMEM;
    r->accepted++;
    for (size_t i = 0; i < r->nlimits; i++)
        if (strcmp(r->limits[i].metric, metric) == 0) {
            struct limit *l = &r->limits[i];
            l->max = l->seen && l->max > value->valuedouble ? l->max : value->valuedouble;
            l->seen = 1;
        }
    return cJSON_GetArraySize(r->batch) >= BATCH_RECORDS ? flush(r) : LICD_OK;
}

/* The numeric members of the licence's limits object (held by limits). */
static int read_limits(struct report *r, const cJSON *limits)
{
    const cJSON *m;
    size_t n = 0;
    cJSON_ArrayForEach(m, limits) n++;
    if (!cJSON_IsObject(limits) || n == 0)
        return LICD_OK;
    if (!(r->limits = calloc(n, sizeof *r->limits)))
        return LICD_ERR_NOMEM;
    cJSON_ArrayForEach(m, limits) {
        if (cJSON_IsNumber(m) && isfinite(m->valuedouble))
            r->limits[r->nlimits++] = (struct limit){m->string, m->valuedouble, 0, 0};
    }
    return LICD_OK;
}

/* application/json: {"records": [record, ...]}, within LICD_BODY_LIMIT. */
static int read_json(http_request *req, struct report *r)
{
    cJSON *body = NULL;
    const cJSON *records, *rec;
    int rc;
    if (req->body_len > api_ctx()->config->body_limit) {
        snprintf(req->detail, sizeof req->detail,
                 "a JSON report is limited to %zu bytes; send larger ones as application/gzip",
                 api_ctx()->config->body_limit);
        return LICD_ERR_BODY_TOO_LARGE;
    }
    if ((rc = http_json_body(req, &body)) != LICD_OK)
        return rc;
    records = cJSON_GetObjectItemCaseSensitive(body, "records");
    if (!cJSON_IsArray(records)) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD, "records must be an array of records");
    }
    cJSON_ArrayForEach(rec, records) {
        if (rc == LICD_OK)
            rc = take(r, rec);
    }
    cJSON_Delete(body);
    return rc;
}

/* take, as the gzip reader calls it for each record line. */
static int take_line(void *arg, const cJSON *rec)
{
    return take(arg, rec);
}

/* application/gzip: one record per line; blank lines are skipped, a line
 * that is not a JSON object counts as a rejected record. */
static int read_gzip(http_request *req, struct report *r)
{
    return gzlines_read(req->body, req->body_len, API_USAGE_INFLATED_LIMIT, take_line, r,
                        &r->rejected, req->detail);
}

/* 1 if the request's Content-Type is type (parameters after ';' allowed). */
static int content_type_is(http_request *req, const char *type)
{
    const char *h = http_header(req, "Content-Type");
    size_t n = strlen(type);
    return h && strncasecmp(h, type, n) == 0 && (h[n] == '\0' || h[n] == ';' || h[n] == ' ');
}

/* The limits the report goes over: [{"metric","value","limit"}] (NULL when
 * out of memory). */
static cJSON *over_limits(const struct report *r)
{
    cJSON *over = cJSON_CreateArray();
    for (size_t i = 0; over && i < r->nlimits; i++) {
        const struct limit *l = &r->limits[i];
        cJSON *e;
        if (!l->seen || l->max <= l->limit)
            continue;
        if (!(e = cJSON_CreateObject()) || !cJSON_AddItemToArray(over, e) ||
            !cJSON_AddStringToObject(e, "metric", l->metric) ||
            !cJSON_AddNumberToObject(e, "value", l->max) ||
            !cJSON_AddNumberToObject(e, "limit", l->limit)) {
            cJSON_Delete(over);
            over = NULL;
        }
    }
    return over;
}

/* Answers 202; takes over. */
static int reply(http_request *req, const struct report *r, const char *license_id, cJSON *over)
{
    cJSON *o = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (!o || !cJSON_AddStringToObject(o, "license_id", license_id) ||
        !cJSON_AddNumberToObject(o, "accepted", (double)r->accepted) ||
        !cJSON_AddNumberToObject(o, "rejected", (double)r->rejected) ||
        !cJSON_AddItemToObject(o, "over_limit", over)) {
        cJSON_Delete(over);
        goto out;
    }
    rc = http_reply_json(req, 202, o);
out:
    cJSON_Delete(o);
    return rc;
}

/* Under the licence the caller presented (its signature and expiry already
 * checked; 401 unless it is known here), reads the licence's limits, reads
 * the whole report (so a bad archive stores nothing), then stores it in one
 * transaction. */
int api_report_usage(http_request *req)
{
    const api_license_caller *caller = api_caller_license(req);
    const char *lid = caller->license_id, *vnd = caller->vendor_id;
    struct report r = {0};
    cJSON *limits = NULL, *over = NULL;
    char *limits_json = NULL, *over_text = NULL;
    int rc;

    if ((rc = store_usage_limits(vnd, lid, &limits_json)) != LICD_OK) {
        if (rc == LICD_ERR_NOT_FOUND) {
            rc = http_fail(req, LICD_ERR_UNAUTHORIZED, "the licence is not known here");
        }
        goto out;
    }
    limits = cJSON_Parse(limits_json);
    if ((rc = read_limits(&r, limits)) != LICD_OK)
        goto out;
    rc = content_type_is(req, "application/gzip") || content_type_is(req, "application/x-gzip")
             ? read_gzip(req, &r)
             : read_json(req, &r);
    if (rc == LICD_ERR_UNSUPPORTED_MEDIA_TYPE)
        snprintf(req->detail, sizeof req->detail,
                 "Content-Type must be application/json or application/gzip");
    if (rc != LICD_OK || (rc = flush(&r)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if (!(over = over_limits(&r)) ||
        (cJSON_GetArraySize(over) > 0 && !(over_text = cJSON_PrintUnformatted(over))))
        goto out;
    if ((rc = store_usage_insert(vnd, lid, (const char *const *)r.batches, r.nbatches,
                                 over_text)) != LICD_OK)
        goto out;
    rc = reply(req, &r, lid, over);
    over = NULL;
out:
    cJSON_Delete(over);
    cJSON_free(over_text);
    report_free(&r);
    cJSON_Delete(limits);
    free(limits_json);
    return rc;
}
