/* /v1/group-keys: a vendor creates group keys for its customers (the key is
 * shown once) and empties their links. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "domain/link.h"
#include "store/group_keys.h"
#include "util/json.h"

#define MAX_POOL 100                 /* products in one group key */
#define MAX_QUOTA 1000000
#define MAX_LIMITS_BYTES (64 << 10)

/* Prefixes the reader's detail ("x is required") with the object it is in. */
static int within(int rc, const char *object, char *detail)
{
    if (rc == LICD_ERR_INVALID_FIELD) {
        char inner[LICD_DETAIL_MAX];
        snprintf(inner, sizeof inner, "%s", detail);
        snprintf(detail, LICD_DETAIL_MAX, "%.32s.%.200s", object, inner);
    }
    return rc;
}

/* 1 if code is one of the products listed. */
static int listed(const cJSON *products, const char *code)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, products) {
        if (strcmp(p->valuestring, code) == 0)
            return 1;
    }
    return 0;
}

static int invalid(char *detail, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(char *detail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, LICD_DETAIL_MAX, fmt, ap);
    va_end(ap);
    return LICD_ERR_INVALID_FIELD;
}

/* The pool {"<code>": quota} of quota_per_node, with a quota for every
 * product listed and none for any other. *pool is malloc'd. */
static int read_pool(const cJSON *body, const cJSON *products, char **pool, char *detail)
{
    const cJSON *quota = cJSON_GetObjectItemCaseSensitive(body, "quota_per_node"), *p;
    cJSON *out = NULL;
    int rc = LICD_OK;

    *pool = NULL;
    if (!cJSON_IsObject(quota))
        return invalid(detail, "%s must be an object {\"<product>\": instances per node}",
                       "quota_per_node");
    cJSON_ArrayForEach(p, quota) {
        if (!listed(products, p->string))
            return invalid(detail, "quota_per_node.%.64s is not one of products", p->string);
    }
    if (!(out = cJSON_CreateObject()))
        return LICD_ERR_NOMEM;
    cJSON_ArrayForEach(p, products) {
        long long n;
        if ((rc = within(json_get_int(quota, p->valuestring, 1, 1, MAX_QUOTA, &n, detail),
                         "quota_per_node", detail)) != LICD_OK)
            break;
        if (!cJSON_AddNumberToObject(out, p->valuestring, (double)n)) {
            rc = LICD_ERR_NOMEM;
            break;
        }
    }
    if (rc == LICD_OK && !(*pool = cJSON_PrintUnformatted(out)))
        rc = LICD_ERR_NOMEM;
    cJSON_Delete(out);
    return rc;
}

/* limits: {"<product of the pool>": {"<metric>": a number >= 0}}; *limits
 * is its compact text ("{}" when absent), malloc'd. */
static int read_limits(const cJSON *body, const cJSON *products, char **limits, char *detail)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "limits"), *p, *m;
    *limits = NULL;
    if (l && !cJSON_IsNull(l)) {
        if (!cJSON_IsObject(l))
            return invalid(detail, "%s must be an object {\"<product>\": {\"<metric>\": limit}}",
                           "limits");
        cJSON_ArrayForEach(p, l) {
            if (!listed(products, p->string))
                return invalid(detail, "limits.%.64s is not one of products", p->string);
            if (!cJSON_IsObject(p))
                return invalid(detail, "limits.%.64s must be an object {\"<metric>\": limit}",
                               p->string);
            cJSON_ArrayForEach(m, p) {
                size_t len = strlen(m->string);
                if (len == 0 || len > 64)
                    return invalid(detail,
                                   "limits.%.64s has a metric name that is not 1 to 64 bytes",
                                   p->string);
                if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) || m->valuedouble < 0)
                    return invalid(detail, "limits.%.64s: each limit must be a number >= 0",
                                   p->string);
            }
        }
        *limits = cJSON_PrintUnformatted(l);
    } else {
        *limits = strdup("{}");
    }
    if (!*limits)
        return LICD_ERR_NOMEM;
    if (strlen(*limits) > MAX_LIMITS_BYTES)
        return invalid(detail, "%s must be at most 64 KiB as JSON", "limits");
    return LICD_OK;
}

/* link: {"type", "value"?}; a domain is stored in its canonical form (into
 * domain), a CIDR is left for PostgreSQL to read. */
static int read_link(const cJSON *body, store_group_key_new *in, char *domain, char *detail)
{
    const cJSON *link = cJSON_GetObjectItemCaseSensitive(body, "link");
    domain_link_type type;
    int rc;
    if (!cJSON_IsObject(link))
        return invalid(detail, "%s must be an object {\"type\", \"value\"?}", "link");
    if ((rc = within(json_get_enum(link, "type", 1, domain_link_types, NULL, &in->link_type,
                                   detail),
                     "link", detail)) != LICD_OK ||
        (rc = within(json_get_string(link, "value", 0, 1, STORE_LINK_VALUE_MAX, &in->link_value,
                                     detail),
                     "link", detail)) != LICD_OK)
        return rc;
    domain_link_type_parse(in->link_type, &type);
    if (in->link_value && type == LINK_DOMAIN) {
        if (!domain_link_domain_valid(in->link_value))
            return invalid(detail, "%s must be a DNS name such as example.com", "link.value");
        domain_link_domain_canonical(in->link_value, domain, DOMAIN_NAME_MAX + 2);
        in->link_value = domain;
    }
    return LICD_OK;
}

/* The group key as every answer shows it (never the key itself). */
static cJSON *group_key_json(const store_group_key *k)
{
    cJSON *o = cJSON_CreateObject(), *pool = cJSON_Parse(k->pool_json), *products, *link;
    const cJSON *p;
    if (!o || !pool || !cJSON_AddStringToObject(o, "group_key_prefix", k->prefix) ||
        !cJSON_AddStringToObject(o, "customer_id", k->customer_id) ||
        !cJSON_AddStringToObject(o, "scheme", k->scheme) ||
        !(products = cJSON_AddArrayToObject(o, "products")))
        goto fail;
    cJSON_ArrayForEach(p, pool) {
        if (!cJSON_AddItemToArray(products, cJSON_CreateString(p->string)))
            goto fail;
    }
    cJSON_AddItemToObject(o, "quota_per_node", pool);
    pool = NULL;
    if (!(link = cJSON_AddObjectToObject(o, "link")) ||
        !cJSON_AddStringToObject(link, "type", k->link_type) ||
        !json_add_string_or_null(link, "value", k->link_value) ||
        !json_add_raw(o, "limits", k->limits_json) ||
        !json_add_string_or_null(o, "expires", k->expires) ||
        !cJSON_AddStringToObject(o, "created_at", k->created_at))
        goto fail;
    return o;
fail:
    cJSON_Delete(pool);
    cJSON_Delete(o);
    return NULL;
}

int api_group_keys_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_group_key_new in = {0};
    store_group_key k = {0};
    char key[APIKEY_PLAIN_LEN], expires[32], domain[DOMAIN_NAME_MAX + 2];
    char *pool = NULL, *limits = NULL;
    const cJSON *products;
    cJSON *body = NULL, *out = NULL;
    time_t exp_at;
    int rc, has_expiry = 0;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "customer_id", 1, 1, 64, &in.customer_id, req->detail)) ||
        (rc = json_get_string(body, "scheme", 1, 1, 64, &in.scheme, req->detail)) ||
        (rc = json_get_string_array(body, "products", 1, MAX_POOL, STORE_CODE_MAX, &products,
                                    req->detail)) ||
        (rc = read_pool(body, products, &pool, req->detail)) ||
        (rc = read_link(body, &in, domain, req->detail)) ||
        (rc = read_limits(body, products, &limits, req->detail)) ||
        (rc = json_get_time(body, "expires", 0, &exp_at, &has_expiry, req->detail)))
        goto out;
    if (cJSON_GetArraySize(products) == 0) {
        rc = invalid(req->detail, "%s must list at least one product", "products");
        goto out;
    }
    if (has_expiry && exp_at <= time(NULL)) {
        rc = invalid(req->detail, "%s must be in the future", "expires");
        goto out;
    }
    if (has_expiry)
        json_format_time(exp_at, expires, sizeof expires);
    in.expires = has_expiry ? expires : NULL;
    in.pool_json = pool;
    in.limits_json = limits;
    rc = store_group_key_create(&caller->actor, &in, &k, key, req->detail);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no customer %.64s", in.customer_id);
    if (rc != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = group_key_json(&k)) && cJSON_AddStringToObject(out, "group_key", key))
        rc = http_reply_json(req, 201, out);
out:
    memset(key, 0, sizeof key);
    store_group_key_clear(&k);
    free(pool);
    free(limits);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}

int api_group_keys_relink(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_group_key k = {0};
    cJSON *out = NULL;
    int rc;

    rc = store_group_key_relink(&caller->actor, http_param(req, "group_key"), &k);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no such group key");
    else if (rc == LICD_ERR_CONFLICT)
        snprintf(req->detail, sizeof req->detail,
                 "several of your group keys share this prefix: name the key itself");
    if (rc == LICD_OK)
        rc = (out = group_key_json(&k)) ? http_reply_json(req, 200, out) : LICD_ERR_NOMEM;
    store_group_key_clear(&k);
    cJSON_Delete(out);
    return rc;
}
