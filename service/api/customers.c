/* /v1/customers: a vendor creates customers (each gets a customer key,
 * shown once), reads them back and lists them. */
#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "crypto/apikey.h"
#include "util/json.h"

static cJSON *customer_json(const store_customer *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "customer_id", c->id) &&
        cJSON_AddStringToObject(o, "name", c->name) &&
        cJSON_AddStringToObject(o, "created_at", c->created_at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_customers_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_customer c;
    char key[APIKEY_PLAIN_LEN];
    cJSON *body = NULL, *out = NULL;
    const char *name;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "name", 1, 1, 200, &name, req->detail)) != LICD_OK)
        goto out;
    if ((rc = store_customer_create(&caller->actor, name, &c, key, sizeof key)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = customer_json(&c)) && cJSON_AddStringToObject(out, "customer_key", key))
        rc = http_reply_json(req, 201, out);
out:
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}

int api_customers_get(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_customer c;
    cJSON *out;
    int rc;

    if ((rc = store_customer_get(caller->vendor.id, http_param(req, "customer_id"), &c)) != LICD_OK)
        return rc;
    if (!(out = customer_json(&c)))
        return LICD_ERR_NOMEM;
    rc = http_reply_json(req, 200, out);
    cJSON_Delete(out);
    return rc;
}

static cJSON *customer_item_json(const void *item) { return customer_json(item); }

int api_customers_list(http_request *req)
{
    return api_list_vendor(req, store_customer_list, customer_item_json);
}
