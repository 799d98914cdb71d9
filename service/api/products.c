/* /v1/products: a vendor defines its products (code, version, scheme,
 * features, whether get_key needs a challenge), lists them, and adds their
 * upgrade paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "store/products.h"
#include "util/json.h"

#define CODE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"
#define MAX_FEATURES 200
#define MAX_FEATURE_LEN 128

static cJSON *product_json(const store_product *p)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "code", p->code) &&
        cJSON_AddStringToObject(o, "name", p->name) &&
        cJSON_AddStringToObject(o, "version", p->version) &&
        cJSON_AddStringToObject(o, "scheme", p->scheme) &&
        json_add_raw(o, "features", p->features_json) &&
        cJSON_AddBoolToObject(o, "require_challenge", p->require_challenge) &&
        cJSON_AddStringToObject(o, "created_at", p->created_at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int reply_product(http_request *req, int status, const store_product *p)
{
    cJSON *out = product_json(p);
    int rc = out ? http_reply_json(req, status, out) : LICD_ERR_NOMEM;
    cJSON_Delete(out);
    return rc;
}

/* The vendor's product named by the path, with a detail naming it when absent. */
static int path_product(http_request *req, const api_vendor_caller *caller, store_product *p)
{
    const char *code = http_param(req, "code");
    int rc = store_product_get(caller->vendor.id, code, p);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "this vendor has no product %.64s", code);
    return rc;
}

int api_products_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_product p = {.features_json = NULL};
    store_product_new in = {.scheme = "standard"};
    cJSON *body = NULL;
    const cJSON *features = NULL;
    char *features_json = NULL;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK)
        goto out;
    if ((rc = json_get_token(body, "code", 1, STORE_CODE_MAX, CODE_CHARS, &in.code,
                             req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "name", 1, 1, 200, &in.name, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "version", 1, 1, 64, &in.version, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "scheme", 0, 1, 64, &in.scheme, req->detail)) != LICD_OK ||
        (rc = json_get_string_array(body, "features", 0, MAX_FEATURES, MAX_FEATURE_LEN,
                                    &features, req->detail)) != LICD_OK ||
        (rc = json_get_bool(body, "require_challenge", 0, &in.require_challenge, req->detail)) !=
            LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if (!(features_json = features ? cJSON_PrintUnformatted(features) : strdup("[]")))
        goto out;
    in.features_json = features_json;
    if ((rc = store_product_create(&caller->actor, &in, &p)) == LICD_ERR_CONFLICT)
        snprintf(req->detail, sizeof req->detail, "a product with code %s exists already",
                 in.code);
    if (rc == LICD_OK)
        rc = reply_product(req, 201, &p);
out:
    store_product_clear(&p);
    free(features_json);
    cJSON_Delete(body);
    return rc;
}

int api_products_get(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_product p = {.features_json = NULL};
    int rc;

    if ((rc = path_product(req, caller, &p)) == LICD_OK)
        rc = reply_product(req, 200, &p);
    store_product_clear(&p);
    return rc;
}

static cJSON *product_item_json(const void *item) { return product_json(item); }

int api_products_list(http_request *req)
{
    return api_list_vendor(req, store_product_list, product_item_json);
}

/* A path posted again answers 200 with the path as stored (idempotent). */
int api_upgrade_paths_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_product p = {.features_json = NULL};
    store_upgrade_path u;
    cJSON *body = NULL, *out = NULL;
    const char *from = NULL, *to = NULL;
    int created, rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "from_version", 1, 1, 64, &from, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "to_version", 1, 1, 64, &to, req->detail)) != LICD_OK)
        goto out;
    if (strcmp(from, to) == 0) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD, "to_version must differ from from_version");
        goto out;
    }
    if ((rc = path_product(req, caller, &p)) != LICD_OK ||
        (rc = store_upgrade_path_add(&caller->actor, &p, from, to, &u, &created)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) && cJSON_AddStringToObject(out, "product", p.code) &&
        cJSON_AddStringToObject(out, "from_version", u.from_version) &&
        cJSON_AddStringToObject(out, "to_version", u.to_version) &&
        cJSON_AddStringToObject(out, "created_at", u.created_at))
        rc = http_reply_json(req, created ? 201 : 200, out);
out:
    store_product_clear(&p);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}
