/* /v1/group-keys: a vendor creates group keys for its customers (the key is
 * shown once), lists, reads, changes and revokes them, and empties their
 * links. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "domain/link.h"
#include "domain/usage.h"
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

/* 1 if code is one of the products listed; any code when products is NULL
 * (a change to a key: the store checks the key's pool). */
static int listed(const cJSON *products, const char *code)
{
    const cJSON *p;
    if (!products)
        return 1;
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

/* A quota object name: {"<product>": instances, ...}, each a whole number
 * from 1 to MAX_QUOTA (or null when nullable: no quota), each naming one of
 * products; with every, each of products has one. *out is its compact text
 * (malloc'd), NULL when absent and not every. */
static int read_quotas(const cJSON *body, const char *name, const cJSON *products, int every,
                       int nullable, char **out, char *detail)
{
    const cJSON *quota = cJSON_GetObjectItemCaseSensitive(body, name), *m;
    long long n;
    int rc;

    *out = NULL;
    if (!every && (!quota || cJSON_IsNull(quota)))
        return LICD_OK;
    if (!cJSON_IsObject(quota))
        return invalid(detail, "%s must be an object {\"<product>\": instances}", name);
    cJSON_ArrayForEach(m, quota) {
        if (!listed(products, m->string))
            return invalid(detail, "%s.%.64s is not one of products", name, m->string);
        if (!(nullable && cJSON_IsNull(m)) &&
            (rc = within(json_get_int(quota, m->string, 1, 1, MAX_QUOTA, &n, detail), name,
                         detail)) != LICD_OK)
            return rc;
    }
    for (m = every ? products->child : NULL; m; m = m->next) {
        if ((rc = within(json_get_int(quota, m->valuestring, 1, 1, MAX_QUOTA, &n, detail), name,
                         detail)) != LICD_OK)
            return rc;
    }
    return (*out = cJSON_PrintUnformatted(quota)) ? LICD_OK : LICD_ERR_NOMEM;
}

/* limits: {"<product>": {"<metric>": a number >= 0}}, products as for
 * read_quotas; *limits is its compact text (absent when it is absent: NULL
 * or a copy of "{}"), malloc'd. */
static int read_limits(const cJSON *body, const cJSON *products, const char *absent,
                       char **limits, char *detail)
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
    } else if (!absent) {
        return LICD_OK;
    } else {
        *limits = strdup(absent);
    }
    if (!*limits)
        return LICD_ERR_NOMEM;
    if (strlen(*limits) > MAX_LIMITS_BYTES)
        return invalid(detail, "%s must be at most 64 KiB as JSON", "limits");
    return LICD_OK;
}

/* expires: a time in the future; *present tells whether it was given, text
 * (32 bytes) gets it in RFC 3339. With nullable a null counts as given: the
 * key never expires (text is "" then). */
static int read_expires(const cJSON *body, int nullable, int *present, char *text, char *detail)
{
    time_t at;
    int rc;
    text[0] = '\0';
    if (nullable && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "expires"))) {
        *present = 1;
        return LICD_OK;
    }
    if ((rc = json_get_time(body, "expires", 0, &at, present, detail)) != LICD_OK)
        return rc;
    if (*present && at <= time(NULL))
        return invalid(detail, "%s must be in the future", "expires");
    if (*present)
        json_format_time(at, text, 32);
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
    if (!json_add_raw(o, "quota_per_container", k->containers_json) ||
        !(link = cJSON_AddObjectToObject(o, "link")) ||
        !cJSON_AddStringToObject(link, "type", k->link_type) ||
        !json_add_string_or_null(link, "value", k->link_value) ||
        !json_add_raw(o, "limits", k->limits_json) ||
        !cJSON_AddStringToObject(o, "on_over_limit", k->on_over_limit) ||
        !json_add_string_or_null(o, "expires", k->expires) ||
        !cJSON_AddBoolToObject(o, "revoked", k->revoked_at[0] != '\0') ||
        !json_add_string_or_null(o, "revoked_at", k->revoked_at) ||
        !cJSON_AddNumberToObject(o, "activations", (double)k->activations) ||
        !cJSON_AddStringToObject(o, "created_at", k->created_at))
        goto fail;
    return o;
fail:
    cJSON_Delete(pool);
    cJSON_Delete(o);
    return NULL;
}

static cJSON *group_key_item_json(const void *item) { return group_key_json(item); }

int api_group_keys_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_group_key_new in = {0};
    store_group_key k = {0};
    char key[APIKEY_PLAIN_LEN], expires[32], domain[DOMAIN_NAME_MAX + 2];
    char *pool = NULL, *containers = NULL, *limits = NULL;
    const cJSON *products;
    cJSON *body = NULL, *out = NULL;
    int rc, has_expiry = 0;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "customer_id", 1, 1, 64, &in.customer_id, req->detail)) ||
        (rc = json_get_string(body, "scheme", 1, 1, 64, &in.scheme, req->detail)) ||
        (rc = json_get_string_array(body, "products", 1, MAX_POOL, STORE_CODE_MAX, &products,
                                    req->detail)) ||
        (rc = read_quotas(body, "quota_per_node", products, 1, 0, &pool, req->detail)) ||
        (rc = read_quotas(body, "quota_per_container", products, 0, 0, &containers,
                          req->detail)) ||
        (rc = read_link(body, &in, domain, req->detail)) ||
        (rc = read_limits(body, products, "{}", &limits, req->detail)) ||
        (rc = json_get_enum(body, "on_over_limit", 0, domain_over_limit_names,
                            domain_over_limit_names[OVER_LIMIT_REFUSE], &in.on_over_limit,
                            req->detail)) ||
        (rc = read_expires(body, 0, &has_expiry, expires, req->detail)))
        goto out;
    if (cJSON_GetArraySize(products) == 0) {
        rc = invalid(req->detail, "%s must list at least one product", "products");
        goto out;
    }
    in.expires = has_expiry ? expires : NULL;
    in.pool_json = pool;
    in.containers_json = containers;
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
    free(containers);
    free(limits);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}

/* Answers 200 with the key a store call on {group_key} gave, or its error
 * with a detail. */
static int answer_key(http_request *req, int rc, const store_group_key *k)
{
    cJSON *out = NULL;
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no such group key");
    else if (rc == LICD_ERR_CONFLICT)
        snprintf(req->detail, sizeof req->detail,
                 "several of your group keys share this prefix: name the key itself");
    if (rc == LICD_OK)
        rc = (out = group_key_json(k)) ? http_reply_json(req, 200, out) : LICD_ERR_NOMEM;
    cJSON_Delete(out);
    return rc;
}

int api_group_keys_get(http_request *req)
{
    store_group_key k = {0};
    int rc = store_group_key_get(api_caller_vendor(req)->vendor.id, http_param(req, "group_key"),
                                 &k);
    rc = answer_key(req, rc, &k);
    store_group_key_clear(&k);
    return rc;
}

int api_group_keys_list(http_request *req)
{
    const char *customer_id = http_query(req, "customer_id");
    store_page page = {0};
    long long after;
    int limit, rc;

    if (customer_id && !json_is_uuid(customer_id))
        return invalid(req->detail, "%s must be a UUID", "customer_id");
    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK)
        return rc;
    rc = store_group_key_list(api_caller_vendor(req)->vendor.id, customer_id, after, limit, &page);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no customer %.64s", customer_id);
    if (rc == LICD_OK)
        rc = api_list_page(req, &page, group_key_item_json);
    store_page_free(&page);
    return rc;
}

int api_group_keys_relink(http_request *req)
{
    store_group_key k = {0};
    int rc = store_group_key_relink(&api_caller_vendor(req)->actor, http_param(req, "group_key"),
                                    &k);
    rc = answer_key(req, rc, &k);
    store_group_key_clear(&k);
    return rc;
}

int api_group_keys_revoke(http_request *req)
{
    store_group_key k = {0};
    int rc = store_group_key_revoke(&api_caller_vendor(req)->actor, http_param(req, "group_key"),
                                    &k);
    rc = answer_key(req, rc, &k);
    store_group_key_clear(&k);
    return rc;
}

/* PATCH: every member optional, at least one given; product codes are
 * checked against the key's pool by the store. */
int api_group_keys_update(http_request *req)
{
    store_group_key_patch in = {0};
    store_group_key k = {0};
    char expires[32];
    char *pool = NULL, *containers = NULL, *limits = NULL;
    cJSON *body = NULL;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = read_expires(body, 1, &in.set_expires, expires, req->detail)) ||
        (rc = read_quotas(body, "quota_per_node", NULL, 0, 0, &pool, req->detail)) ||
        (rc = read_quotas(body, "quota_per_container", NULL, 0, 1, &containers, req->detail)) ||
        (rc = read_limits(body, NULL, NULL, &limits, req->detail)) ||
        (rc = json_get_enum(body, "on_over_limit", 0, domain_over_limit_names, NULL,
                            &in.on_over_limit, req->detail)))
        goto out;
    if (!in.set_expires && !pool && !containers && !limits && !in.on_over_limit) {
        rc = invalid(req->detail, "give at least one of expires, quota_per_node,"
                                  " quota_per_container, limits, on_over_limit");
        goto out;
    }
    in.expires = expires[0] ? expires : NULL;
    in.pool_json = pool;
    in.containers_json = containers;
    in.limits_json = limits;
    rc = store_group_key_update(&api_caller_vendor(req)->actor, http_param(req, "group_key"), &in,
                                &k, req->detail);
    rc = answer_key(req, rc, &k);
out:
    store_group_key_clear(&k);
    free(pool);
    free(containers);
    free(limits);
    cJSON_Delete(body);
    return rc;
}
