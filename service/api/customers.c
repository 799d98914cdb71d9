/* /v1/customers: a vendor creates customers (each gets a customer key,
 * shown once), reads them back, lists them and rotates their keys. */
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "crypto/apikey.h"
#include "util/json.h"

#define DEFAULT_GRACE_S 86400

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

int api_rotate_params(http_request *req, long *grace_s)
{
    cJSON *body = NULL;
    long long grace = DEFAULT_GRACE_S;
    int rc = LICD_OK;

    /* A POST without a body takes the defaults. */
    if (req->body_len > 0 &&
        ((rc = http_json_body(req, &body)) != LICD_OK ||
         (rc = json_get_int(body, "grace_s", 0, 0, STORE_KEY_GRACE_MAX, &grace, req->detail)) !=
             LICD_OK))
        goto out;
    *grace_s = (long)grace;
out:
    cJSON_Delete(body);
    return rc;
}

int api_reply_rotated(http_request *req, const char *id_name, const char *id,
                      const char *key_name, const char *key, const char *valid_until)
{
    cJSON *out = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (out && cJSON_AddStringToObject(out, id_name, id) &&
        cJSON_AddStringToObject(out, key_name, key) &&
        cJSON_AddStringToObject(out, "previous_valid_until", valid_until))
        rc = http_reply_json(req, 200, out);
    cJSON_Delete(out);
    return rc;
}

/* A fresh key for the customer; its clients move to it while the old one
 * still works, for grace_s seconds. */
int api_customers_rotate_key(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *customer_id = http_param(req, "customer_id");
    char key[APIKEY_PLAIN_LEN], valid_until[40];
    long grace_s;
    int rc;

    if ((rc = api_rotate_params(req, &grace_s)) != LICD_OK ||
        (rc = store_customer_rotate_key(&caller->actor, customer_id, grace_s, key, sizeof key,
                                        valid_until)) != LICD_OK)
        return rc;
    rc = api_reply_rotated(req, "customer_id", customer_id, "customer_key", key, valid_until);
    explicit_bzero(key, sizeof key);
    return rc;
}
