/* Usage reports (POST /v1/report_usage under Authorization: License <jwt>):
 * records as JSON lines, sent as {"records":[...]} or as a gzip archive. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "client_internal.h"

/* licd inflates at most 64 MiB; deflate's counters are unsigned ints. */
#define MAX_REPORT (1u << 30)

void licd_usage_result_clear(licd_usage_result *r)
{
    if (!r)
        return;
    free(r->license_id);
    for (size_t i = 0; i < r->nover; i++)
        free(r->over_limit[i].metric);
    free(r->over_limit);
    free(r->json);
    memset(r, 0, sizeof *r);
}

/* gzip (RFC 1952: windowBits 15 + 16) of len bytes at data into *out, in
 * one deflate call: an output buffer of deflateBound bytes always holds it. */
static int gzip(const char *data, size_t len, unsigned char **out, size_t *out_len)
{
    z_stream z;
    unsigned char *buf = NULL;
    uLong cap;
    int zrc = Z_MEM_ERROR;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return LICD_CLIENT_ERR_NOMEM;
    cap = deflateBound(&z, (uLong)len);
    if ((buf = malloc(cap))) {
        z.next_in = (const Bytef *)data;
        z.avail_in = (uInt)len;
        z.next_out = buf;
        z.avail_out = (uInt)cap;
        zrc = deflate(&z, Z_FINISH);
    }
    if (zrc == Z_STREAM_END) {
        *out = buf;
        *out_len = z.total_out;
        buf = NULL;
    }
    free(buf);
    deflateEnd(&z);
    return zrc == Z_STREAM_END ? LICD_CLIENT_OK : LICD_CLIENT_ERR_NOMEM;
}

/* {"records":[...]} from the lines: each non-blank line parsed as JSON; one
 * that does not parse goes as a string, for licd to count it rejected just
 * as it would count the line of an archive. */
static char *records_document(const char *text, size_t len)
{
    cJSON *doc = cJSON_CreateObject(), *records = cJSON_AddArrayToObject(doc, "records");
    char *printed = NULL, *out = NULL;
    size_t start = 0;

    if (!records)
        goto out;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len, stop = end;
        cJSON *rec;
        char *line;

        while (stop > start && strchr(" \t\r", text[stop - 1]))
            stop--;
        if (stop > start + strspn(text + start, " \t")) {
            /* the whole line one value, nothing after it: as licd reads a line */
            if (!(line = strndup(text + start, stop - start)))
                goto out;
            if (!(rec = cJSON_ParseWithOpts(line, NULL, 1)))
                rec = cJSON_CreateString(line);
            free(line);
            if (!cJSON_AddItemToArray(records, rec)) {
                cJSON_Delete(rec);
                goto out;
            }
        }
        start = end + 1;
    }
    if ((printed = cJSON_PrintUnformatted(doc)))
        out = strdup(printed);
out:
    cJSON_free(printed);
    cJSON_Delete(doc);
    return out;
}

/* The 202 answer: {"license_id","accepted","rejected","over_limit":[...]}. */
static int take_result(licd_client *c, const cJSON *a, licd_usage_result *r)
{
    const cJSON *lid = cJSON_GetObjectItemCaseSensitive(a, "license_id");
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(a, "accepted");
    const cJSON *rej = cJSON_GetObjectItemCaseSensitive(a, "rejected");
    const cJSON *over = cJSON_GetObjectItemCaseSensitive(a, "over_limit"), *o;
    int n = cJSON_GetArraySize(over);

    if (!cJSON_IsNumber(acc) || !cJSON_IsNumber(rej) || !cJSON_IsArray(over))
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd's answer to the report is not a report result");
    r->accepted = (int64_t)acc->valuedouble;
    r->rejected = (int64_t)rej->valuedouble;
    if ((cJSON_IsString(lid) && !(r->license_id = strdup(lid->valuestring))) ||
        (n > 0 && !(r->over_limit = calloc((size_t)n, sizeof *r->over_limit))))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(o, over) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "limit");
        licd_usage_over *e = &r->over_limit[r->nover];
        if (!cJSON_IsString(m) || !cJSON_IsNumber(v) || !cJSON_IsNumber(l))
            return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "an over_limit entry of licd's answer is malformed");
        if (!(e->metric = strdup(m->valuestring)))
            return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        e->value = v->valuedouble;
        e->limit = l->valuedouble;
        r->nover++;
    }
    return LICD_CLIENT_OK;
}

int licd_client_report_usage_lines(licd_client *c, const char *license, const char *lines, size_t len,
                                   licd_usage_format format, licd_usage_result *out)
{
    struct client_call call = {"POST", "/v1/report_usage", NULL, 0, NULL, "License", license, "licence"};
    unsigned char *packed = NULL;
    char *doc = NULL, *text = NULL;
    cJSON *answer = NULL;
    licd_usage_result r = {0};
    int rc;

    if (!c || !license || !out || (!lines && len > 0) ||
        (format != LICD_USAGE_JSON && format != LICD_USAGE_GZIP))
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (!*license || strspn(license, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_.") != strlen(license))
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "the licence is not a compact JWT");
    if (len > MAX_REPORT)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a report is at most %u bytes before compression",
                           MAX_REPORT);
    if (format == LICD_USAGE_GZIP) {
        if ((rc = gzip(lines ? lines : "", len, &packed, &call.body_len)) != LICD_CLIENT_OK) {
            client_fail(c, rc, "cannot compress the report");
            goto out;
        }
        call.body = (const char *)packed;
        call.content_type = "application/gzip";
    } else {
        if (!(doc = records_document(lines ? lines : "", len))) {
            rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
            goto out;
        }
        call.body = doc;
        call.body_len = strlen(doc);
    }
    if ((rc = client_send(c, &call, &answer, &text)) != LICD_CLIENT_OK ||
        (rc = take_result(c, answer, &r)) != LICD_CLIENT_OK)
        goto out;
    r.json = text;
    text = NULL;
    *out = r;
    memset(&r, 0, sizeof r);
out:
    licd_usage_result_clear(&r);
    cJSON_Delete(answer);
    free(text);
    free(doc);
    free(packed);
    return rc;
}

/* One record as a JSON line; at (> 0) as RFC 3339 UTC. */
static char *record_line(const licd_usage_record *rec)
{
    cJSON *o = cJSON_CreateObject();
    char at[32], *printed = NULL, *line = NULL;
    time_t t = (time_t)rec->at;
    struct tm tm;

    if (o && cJSON_AddStringToObject(o, "metric", rec->metric) &&
        cJSON_AddNumberToObject(o, "value", rec->value) &&
        (rec->at == 0 || (gmtime_r(&t, &tm) && strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm) &&
                          cJSON_AddStringToObject(o, "at", at))) &&
        (printed = cJSON_PrintUnformatted(o)))
        line = strdup(printed);
    cJSON_free(printed);
    cJSON_Delete(o);
    return line;
}

int licd_client_report_usage(licd_client *c, const char *license, const licd_usage_record *records,
                             size_t n, licd_usage_format format, licd_usage_result *out)
{
    char *lines = NULL, *grown;
    size_t len = 0;
    int rc = LICD_CLIENT_ERR_NOMEM;

    if (!c || (!records && n > 0))
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    for (size_t i = 0; i < n; i++) {
        const licd_usage_record *rec = &records[i];
        if (!rec->metric || !*rec->metric || !isfinite(rec->value) || rec->at < 0)
            return client_fail(c, LICD_CLIENT_ERR_ARGS,
                               "record %zu: a metric, a finite value and a time from 1970 are needed", i);
    }
    for (size_t i = 0; i < n; i++) {
        char *line = record_line(&records[i]);
        size_t add = line ? strlen(line) : 0;
        if (!line || !(grown = realloc(lines, len + add + 2))) {
            free(line);
            client_fail(c, rc, "out of memory");
            goto out;
        }
        lines = grown;
        memcpy(lines + len, line, add);
        len += add;
        lines[len++] = '\n';
        lines[len] = '\0';
        free(line);
    }
    rc = licd_client_report_usage_lines(c, license, lines, len, format, out);
out:
    free(lines);
    return rc;
}
