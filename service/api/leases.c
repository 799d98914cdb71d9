/* /v1/leases: floating seats checked out as leases and kept by heartbeats;
 * a heartbeat a node does not know becomes a new checkout. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "store/leases.h"
#include "store/products.h"
#include "util/json.h"

/* LICD_SERVERS as a JSON array, or this node's own URL when unset. */
static cJSON *servers(void)
{
    const licd_config *cfg = api_ctx()->config;
    cJSON *arr = cJSON_CreateArray();
    char own[128];
    if (!arr)
        return NULL;
    if (!cfg->servers || !*cfg->servers) {
        snprintf(own, sizeof own, "%s://%s:%d", cfg->tls_cert ? "https" : "http", cfg->listen_host,
                 cfg->listen_port);
        cJSON_AddItemToArray(arr, cJSON_CreateString(own));
        return arr;
    }
    for (const char *p = cfg->servers; *p;) {
        size_t n = strcspn(p, ",");
        char url[512];
        while (n && (*p == ' '))
            p++, n--;
        if (n && n < sizeof url) {
            memcpy(url, p, n);
            url[n] = '\0';
            cJSON_AddItemToArray(arr, cJSON_CreateString(url));
        }
        p += n + (p[n] == ',');
    }
    return arr;
}

static int reply_lease(http_request *req, int status, const store_lease *l)
{
    long ttl = api_ctx()->config->lease_ttl;
    cJSON *o = cJSON_CreateObject(), *s = servers();
    int rc = LICD_ERR_NOMEM;
    if (o && s && cJSON_AddStringToObject(o, "lease_id", l->id) &&
        cJSON_AddStringToObject(o, "pack_id", l->pack_id) &&
        json_add_time(o, "expires_at", l->expires_at) &&
        cJSON_AddNumberToObject(o, "heartbeat_interval_s", ttl / 3 > 0 ? ttl / 3 : 1)) {
        cJSON_AddItemToObject(o, "servers", s);
        s = NULL;
        rc = http_reply_json(req, status, o);
    }
    cJSON_Delete(s);
    cJSON_Delete(o);
    return rc;
}

struct lease_request {
    const store_customer *customer;
    store_product product;
    const char *client_id;
    cJSON *body;
};

/* The calling customer, and from the body its product and the client. */
static int read_request(http_request *req, struct lease_request *r)
{
    const char *code;
    int rc;
    r->customer = api_caller_customer(req);
    if ((rc = http_json_body(req, &r->body)) != LICD_OK ||
        (rc = json_get_string(r->body, "product", 1, 1, STORE_CODE_MAX, &code, req->detail)) != LICD_OK ||
        (rc = json_get_string(r->body, "client_id", 1, 1, 256, &r->client_id, req->detail)) != LICD_OK)
        return rc;
    rc = store_product_get(r->customer->vendor_id, code, &r->product);
    if (rc == LICD_ERR_NOT_FOUND) {
        snprintf(req->detail, sizeof req->detail, "no product %s", code);
        rc = LICD_ERR_NO_SEATS_AVAILABLE;
    }
    return rc;
}

static int checkout(http_request *req, const struct lease_request *r)
{
    store_lease l;
    int taken, existing,
        rc = store_lease_checkout(r->customer->vendor_id, r->customer->id, r->product.id,
                                  r->client_id, api_ctx()->config->lease_ttl, &l, &taken, &existing);
    if (rc != LICD_OK)
        return rc;
    if (!taken) {
        snprintf(req->detail, sizeof req->detail, "every seat of %s is leased", r->product.code);
        return LICD_ERR_NO_SEATS_AVAILABLE;
    }
    return reply_lease(req, existing ? 200 : 201, &l);
}

int api_leases_create(http_request *req)
{
    struct lease_request r = {0};
    int rc = read_request(req, &r);
    if (rc == LICD_OK)
        rc = checkout(req, &r);
    store_product_clear(&r.product);
    cJSON_Delete(r.body);
    return rc;
}

int api_leases_heartbeat(http_request *req)
{
    struct lease_request r = {0};
    store_lease l;
    int found = 0, rc = read_request(req, &r);
    if (rc == LICD_OK)
        rc = store_lease_heartbeat(r.customer->id, http_param(req, "lease_id"), r.product.id,
                                   r.client_id, api_ctx()->config->lease_ttl, &l, &found);
    if (rc == LICD_OK)
        rc = found ? reply_lease(req, 200, &l) : checkout(req, &r);
    store_product_clear(&r.product);
    cJSON_Delete(r.body);
    return rc;
}

int api_leases_release(http_request *req)
{
    int rc = store_lease_release(api_caller_customer(req)->id, http_param(req, "lease_id"));
    if (rc == LICD_OK)
        rc = http_reply_empty(req, 204);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no lease %s", http_param(req, "lease_id"));
    return rc;
}
