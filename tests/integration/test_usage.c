/* Usage reports end to end: JSON and gzip reports under activation keys and
 * pack licences, resource limits, broken archives, zip bombs, licences that
 * do not authenticate, and the vendor's aggregates. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "harness.h"

/* A vendor, a customer, product mail and a group key whose activation key
 * (jwt, license_id) reports usage. */
struct reporter {
    char *vendor;
    char customer_id[37], customer[80];
    char license_id[32], vendor_id[37];
    char *jwt;
};

static void reporter_init(struct reporter *p)
{
    it_response r;
    char key[80];
    cJSON *claims;
    p->vendor = it_new_vendor("Usage Vendor");
    it_new_customer(p->vendor, "Hoster", p->customer_id, p->customer);
    it_postf("/v1/products", p->vendor, &r,
             "{\"code\":\"mail\",\"name\":\"Mail\",\"version\":\"1\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/group-keys", p->vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"s\",\"products\":[\"mail\"],"
             "\"quota_per_node\":{\"mail\":5},\"link\":{\"type\":\"node\"},"
             "\"limits\":{\"mail\":{\"mailboxes\":100,\"disk_gb\":10.5}}}",
             p->customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(key, sizeof key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"s\",\"product\":\"mail\",\"app_id\":\"m1\"}", key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    p->jwt = strdup(it_str(&r, "license"));
    snprintf(p->license_id, sizeof p->license_id, "%s", it_str(&r, "license_id"));
    claims = it_verify_jwt(p->jwt);
    snprintf(p->vendor_id, sizeof p->vendor_id, "%s",
             it_member_str(claims, "vnd"));
    cJSON_Delete(claims);
    it_response_free(&r);
}

static void reporter_free(struct reporter *p)
{
    free(p->vendor);
    free(p->jwt);
}

/* POSTs a report with this content type under "License <jwt>". */
static void report(const char *jwt, const char *type, const void *body, size_t len,
                   it_response *r)
{
    char auth[8192], ct[128];
    const char *h[] = {ct, auth, NULL};
    snprintf(ct, sizeof ct, "Content-Type: %s", type);
    snprintf(auth, sizeof auth, "Authorization: License %s", jwt);
    it_request("POST", "/v1/report_usage", h, body, len, r);
}

/* report with a NUL-terminated body. */
static void report_text(const char *jwt, const char *type, const char *body, it_response *r)
{
    report(jwt, type, body, strlen(body), r);
}

/* report, expecting the problem status/code (nothing is stored then). */
static void report_problem(const char *jwt, const char *type, const void *body, size_t len,
                           long status, const char *code)
{
    it_response r;
    report(jwt, type, body, len, &r);
    it_assert_problem(&r, status, code);
    it_response_free(&r);
}

/* gzip of data repeated times (one member), malloc'd. */
static unsigned char *gz(const void *data, size_t len, int times, size_t *out_len)
{
    z_stream z;
    size_t cap = len * (size_t)times / 50 + 65536, n = 0;
    unsigned char *out = malloc(cap);
    memset(&z, 0, sizeof z);
    cr_assert(out);
    cr_assert(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    for (int i = 0; i < times; i++) {
        z.next_in = (const Bytef *)data;
        z.avail_in = (uInt)len;
        do {
            if (n == cap) {
                cap *= 2;
                cr_assert(out = realloc(out, cap));
            }
            z.next_out = out + n;
            z.avail_out = (uInt)(cap - n);
            cr_assert(deflate(&z, i + 1 == times ? Z_FINISH : Z_NO_FLUSH) != Z_STREAM_ERROR);
            n = cap - z.avail_out;
        } while (z.avail_in > 0 || (i + 1 == times && z.avail_out == 0));
    }
    deflateEnd(&z);
    *out_len = n;
    return out;
}

static cJSON *usage(struct reporter *p, const char *query)
{
    it_response r;
    char path[256];
    cJSON *m;
    snprintf(path, sizeof path, "/v1/usage?license_id=%s%s", p->license_id, query);
    it_json("GET", path, p->vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), p->license_id);
    m = cJSON_DetachItemFromObject(r.json, "metrics");
    it_response_free(&r);
    return m;
}

static const cJSON *metric(const cJSON *metrics, const char *name)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, metrics) {
        if (strcmp(it_member_str(m, "metric"), name) == 0)
            return m;
    }
    return NULL;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", name);
    return v->valuedouble;
}

static long long stored(struct reporter *p)
{
    return it_sql_num(it_fmt("SELECT count(*) FROM usage_records WHERE license_id = '%s'"
                             " AND vendor_id = '%s'",
                             p->license_id, p->vendor_id));
}

Test(report_usage, json_records_limits_and_aggregates)
{
    struct reporter p;
    it_response r;
    cJSON *m;
    const cJSON *o;
    static const char body[] =
        "{\"records\":["
        "{\"metric\":\"mailboxes\",\"value\":150,\"at\":\"2026-01-01T00:00:00Z\"},"
        "{\"metric\":\"mailboxes\",\"value\":50,\"at\":\"2026-01-02T01:00:00+01:00\"},"
        "{\"metric\":\"disk_gb\",\"value\":10.5},"
        "{\"metric\":\"\",\"value\":1},"
        "{\"metric\":\"x\",\"value\":\"1\"},"
        "{\"metric\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"value\":1},"
        "{\"metric\":\"y\",\"value\":1,\"at\":\"yesterday\"},"
        "{\"value\":1},"
        "7]}";

    reporter_init(&p);
    report(p.jwt, "application/json", body, strlen(body), &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    cr_assert_eq(num(r.json, "accepted"), 3);
    cr_assert_eq(num(r.json, "rejected"), 6);
    /* 150 mailboxes are above the group key's 100; 10.5 GB is not above 10.5 */
    o = cJSON_GetObjectItem(r.json, "over_limit");
    cr_assert_eq(cJSON_GetArraySize(o), 1, "%s", r.body);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(o, 0), "metric"),
                     "mailboxes");
    cr_assert_eq(num(cJSON_GetArrayItem(o, 0), "value"), 150);
    cr_assert_eq(num(cJSON_GetArrayItem(o, 0), "limit"), 100);
    it_response_free(&r);

    m = usage(&p, "");
    cr_assert_eq(cJSON_GetArraySize(m), 2);
    o = metric(m, "mailboxes");
    cr_assert(o);
    cr_assert_eq(num(o, "count"), 2);
    cr_assert_eq(num(o, "sum"), 200);
    cr_assert_eq(num(o, "max"), 150);
    cr_assert_eq(num(o, "latest"), 50, "the value reported for the latest time");
    cr_assert_str_eq(it_member_str(o, "first_at"), "2026-01-01T00:00:00Z");
    cr_assert_str_eq(it_member_str(o, "last_at"), "2026-01-02T00:00:00Z");
    cr_assert_eq(num(metric(m, "disk_gb"), "latest"), 10.5);
    cJSON_Delete(m);
    /* a range: [from, to) */
    m = usage(&p, "&from=2026-01-01T12:00:00Z&to=2026-06-01T00:00:00Z");
    cr_assert_eq(cJSON_GetArraySize(m), 1);
    cr_assert_eq(num(metric(m, "mailboxes"), "sum"), 50);
    cJSON_Delete(m);
    m = usage(&p, "&to=2026-01-02T00:00:00Z");
    cr_assert_eq(num(metric(m, "mailboxes"), "count"), 1);
    cr_assert_eq(num(metric(m, "mailboxes"), "sum"), 150);
    cJSON_Delete(m);
    cr_assert_eq(stored(&p), 3);
    reporter_free(&p);
}

Test(report_usage, gzip_reports_of_json_lines)
{
    struct reporter p;
    it_response r;
    static const char lines[] = "{\"metric\":\"mailboxes\",\"value\":120}\n"
                                "not json\n"
                                "\n"
                                "   \r\n"
                                "[1]\n"
                                "{\"metric\":\"disk_gb\",\"value\":2,"
                                "\"at\":\"2026-03-01T00:00:00Z\"}\r\n"
                                "{\"metric\":\"m\"}\n"
                                "{\"metric\":\"last\",\"value\":-1}";
    unsigned char *z, *two;
    size_t zl;

    reporter_init(&p);
    z = gz(lines, strlen(lines), 1, &zl);
    report(p.jwt, "application/gzip", z, zl, &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    cr_assert_eq(num(r.json, "accepted"), 3);
    cr_assert_eq(num(r.json, "rejected"), 3, "blank lines are no records: %s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "over_limit")), 1);
    it_response_free(&r);
    cr_assert_eq(stored(&p), 3);

    /* two gzip members one after the other are one archive (the first
     * ends its last line, the second does not) */
    {
        size_t fl;
        static const char line[] = "{\"metric\":\"a\",\"value\":1}\n";
        unsigned char *first = gz(line, strlen(line), 3, &fl);
        two = malloc(fl + zl);
        memcpy(two, first, fl);
        memcpy(two + fl, z, zl);
        report(p.jwt, "application/x-gzip", two, fl + zl, &r);
        free(first);
        free(two);
        two = malloc(2 * zl);
    }
    cr_assert_eq(r.status, 202, "%s", r.body);
    cr_assert_eq(num(r.json, "accepted"), 6);
    it_response_free(&r);
    cr_assert_eq(stored(&p), 9);

    /* truncated, corrupt, trailing garbage: 400, nothing stored */
    report_problem(p.jwt, "application/gzip", z, zl - 9, 400, "invalid_archive");
    report_problem(p.jwt, "application/gzip", z, 5, 400, "invalid_archive");
    memcpy(two, z, zl);
    for (size_t i = 12; i < zl - 8; i++)
        two[i] ^= 0x5a;
    report_problem(p.jwt, "application/gzip", two, zl, 400, "invalid_archive");
    memcpy(two, z, zl);
    memcpy(two + zl, "garbage!", 8);
    report_problem(p.jwt, "application/gzip", two, zl + 8, 400, "invalid_archive");
    report_problem(p.jwt, "application/gzip", "", 0, 400, "invalid_archive");
    cr_assert_eq(stored(&p), 9);
    free(two);
    free(z);
    reporter_free(&p);
}

Test(report_usage, a_zip_bomb_is_refused_before_it_inflates, .timeout = 120)
{
    struct reporter p;
    char *zeros = calloc(1, 1 << 20);
    unsigned char *bomb;
    size_t len;

    reporter_init(&p);
    bomb = gz(zeros, 1 << 20, 100, &len); /* 100 MiB of zeros */
    cr_assert_lt(len, 1 << 20, "the bomb is small: %zu bytes", len);
    report_problem(p.jwt, "application/gzip", bomb, len, 413, "body_too_large");
    cr_assert_eq(stored(&p), 0);
    free(bomb);
    free(zeros);
    reporter_free(&p);
}

Test(report_usage, content_types_and_sizes)
{
    struct reporter p;
    it_response r;
    char *big;
    size_t n = 0, cap = (1 << 20) + 65536;
    static const char empty[] = "{\"records\":[]}",
                      cut[] = "{\"records\":", object[] = "{\"records\":{}}", none[] = "{}",
                      null[] = "{\"records\":null}",
                      one[] = "{\"records\":[{\"metric\":\"mailboxes\",\"value\":1}]}";

    reporter_init(&p);
    report_problem(p.jwt, "text/plain", empty, sizeof empty - 1, 415, "unsupported_media_type");
    report_problem(p.jwt, "application/json", cut, sizeof cut - 1, 400, "malformed_json");
    report_problem(p.jwt, "application/json", object, sizeof object - 1, 400, "invalid_field");
    report_problem(p.jwt, "application/json", none, sizeof none - 1, 400, "invalid_field");
    report_problem(p.jwt, "application/json", null, sizeof null - 1, 400, "invalid_field");
    report_text(p.jwt, "application/json; charset=utf-8", empty, &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    cr_assert_eq(num(r.json, "accepted"), 0);
    it_response_free(&r);
    /* a JSON report keeps the usual 1 MiB limit (gzip is for larger ones) */
    big = malloc(cap);
    n += (size_t)snprintf(big, cap, "{\"records\":[");
    while (n < (1 << 20) + 100)
        n += (size_t)snprintf(big + n, cap - n, "{\"metric\":\"a\",\"value\":1},");
    n += (size_t)snprintf(big + n, cap - n, "{\"metric\":\"a\",\"value\":1}]}");
    report_problem(p.jwt, "application/json", big, n, 413, "body_too_large");
    free(big);
    cr_assert_eq(stored(&p), 0);
    /* one good record is stored: the count above could tell */
    report_text(p.jwt, "application/json", one, &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    cr_assert_eq(num(r.json, "accepted"), 1);
    it_response_free(&r);
    cr_assert_eq(stored(&p), 1);
    reporter_free(&p);
}

/* Signs claims with `licd sign`, under the key in key_path (NULL: the service's). */
static char *sign(const char *claims, const char *key_path)
{
    char cmd[2048], *out;
    char env[600] = "";
    if (key_path)
        snprintf(env, sizeof env, "LICD_SIGNING_KEY='%s' ", key_path);
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | %s'%s' sign", claims, env, it_env("LICD_BIN"));
    cr_assert_eq(it_sh(cmd, &out), 0, "licd sign failed: %s", out);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static void refused(const char *jwt)
{
    static const char body[] = "{\"records\":[{\"metric\":\"a\",\"value\":1}]}";
    report_problem(jwt, "application/json", body, strlen(body), 401, "unauthorized");
}

Test(report_usage, only_licences_this_service_signed_and_not_expired)
{
    struct reporter p;
    it_response r;
    char claims[512], cmd[1024], *dir = it_tmpdir(), other[300], *jwt;
    long now = (long)time(NULL);
    const char *h[] = {"Content-Type: application/json", NULL, NULL};

    reporter_init(&p);
    snprintf(other, sizeof other, "%s/other.pem", dir);
    snprintf(cmd, sizeof cmd, "'%s' keygen --out '%s' >/dev/null", it_env("LICD_BIN"), other);
    cr_assert_eq(it_sh(cmd, NULL), 0);

    /* forged: the right claims signed by a key the JWKS does not list */
    snprintf(claims, sizeof claims,
             "{\"iss\":\"licd\",\"ver\":1,\"lid\":\"%s\",\"vnd\":\"%s\",\"pid\":\"mail\","
             "\"iat\":%ld,\"exp\":%ld}",
             p.license_id, p.vendor_id, now, now + 3600);
    jwt = sign(claims, other);
    refused(jwt);
    free(jwt);
    /* expired: the service's own key, exp in the past */
    snprintf(claims, sizeof claims,
             "{\"iss\":\"licd\",\"ver\":1,\"lid\":\"%s\",\"vnd\":\"%s\",\"pid\":\"mail\","
             "\"iat\":%ld,\"exp\":%ld}",
             p.license_id, p.vendor_id, now - 7200, now - 3600);
    jwt = sign(claims, NULL);
    refused(jwt);
    free(jwt);
    /* the right key and time, but no licence id (a session token's shape), or an unknown one */
    snprintf(claims, sizeof claims,
             "{\"iss\":\"licd\",\"sub\":\"u\",\"vnd\":\"%s\",\"exp\":%ld}", p.vendor_id, now + 60);
    jwt = sign(claims, NULL);
    refused(jwt);
    free(jwt);
    snprintf(claims, sizeof claims,
             "{\"iss\":\"licd\",\"lid\":\"G0\",\"vnd\":\"%s\",\"exp\":%ld}", p.vendor_id, now + 60);
    jwt = sign(claims, NULL);
    refused(jwt);
    free(jwt);
    snprintf(claims, sizeof claims,
             "{\"iss\":\"someone\",\"lid\":\"%s\",\"vnd\":\"%s\",\"exp\":%ld}", p.license_id,
             p.vendor_id, now + 60);
    jwt = sign(claims, NULL);
    refused(jwt);
    free(jwt);
    refused("not-a-jwt");
    /* no credentials, or a bearer key (a credential of another kind) */
    it_request("POST", "/v1/report_usage", h, "{\"records\":[]}", 14, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    it_json_problem("POST", "/v1/report_usage", p.customer, "{\"records\":[]}", 403,
                    "forbidden");
    cr_assert_eq(stored(&p), 0);
    /* the genuine licence still works */
    report_text(p.jwt, "application/json", "{\"records\":[{\"metric\":\"a\",\"value\":1}]}", &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    it_response_free(&r);
    it_rmdir(dir);
    reporter_free(&p);
}

Test(report_usage, pack_licences_use_the_pack_limits)
{
    struct reporter p;
    it_response r;
    const cJSON *o;

    reporter_init(&p);
    it_postf("/v1/packs", p.vendor, &r,
             "{\"pack_id\":\"usage-pack\",\"customer_id\":\"%s\",\"product\":\"mail\","
             "\"version\":\"1\",\"type\":\"per_device\",\"quantity\":1,"
             "\"attributes\":{\"limits\":{\"seats\":3}}}",
             p.customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/get_key", p.customer, &r, "{\"product\":\"mail\",\"client_id\":\"pc-1\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    free(p.jwt);
    p.jwt = strdup(it_str(&r, "license"));
    snprintf(p.license_id, sizeof p.license_id, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
    report_text(p.jwt, "application/json",
                "{\"records\":[{\"metric\":\"seats\",\"value\":5},"
                "{\"metric\":\"seats\",\"value\":2}]}",
                &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    o = cJSON_GetObjectItem(r.json, "over_limit");
    cr_assert_eq(cJSON_GetArraySize(o), 1, "%s", r.body);
    cr_assert_eq(num(cJSON_GetArrayItem(o, 0), "value"), 5);
    cr_assert_eq(num(cJSON_GetArrayItem(o, 0), "limit"), 3);
    it_response_free(&r);
    cr_assert_eq(stored(&p), 2);
    reporter_free(&p);
}

Test(usage, bad_input_and_other_vendors)
{
    struct reporter p, q;
    it_response r;
    char path[128];
    reporter_init(&p);
    reporter_init(&q);
    it_json("GET", "/v1/usage", p.vendor, NULL, &r);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "license_id"));
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/usage?license_id=%s&from=soon", p.license_id);
    it_json("GET", path, p.vendor, NULL, &r);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "from"));
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/usage?license_id=%s", q.license_id);
    it_json_problem("GET", path, p.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/usage?license_id=G0", p.vendor, NULL, 404, "not_found");
    snprintf(path, sizeof path, "/v1/usage?license_id=%s", p.license_id);
    it_json_problem("GET", path, NULL, NULL, 401, "unauthorized");
    it_json_problem("GET", path, p.customer, NULL, 403, "forbidden");
    /* no usage yet: an empty list */
    it_json("GET", path, p.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "metrics")), 0);
    it_response_free(&r);
    reporter_free(&q);
    reporter_free(&p);
}
