/* /v1/leases: floating seats checked out as leases and kept by heartbeats;
 * a heartbeat a node does not know becomes a new checkout. Vendors list
 * the live leases of a pack or a customer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "crypto/jwt.h"
#include "store/customers.h"
#include "store/events.h"
#include "store/heartbeats.h"
#include "store/leases.h"
#include "store/packs.h"
#include "store/products.h"
#include "util/json.h"

/* The longest borrow anyone may ask for (a pack's own maximum is lower or equal). */
#define MAX_BORROW_S 31622400

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
    long long borrow_s; /* 0: an ordinary checkout */
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
        rc = http_fail(req, LICD_ERR_NO_CONCURRENT_PACK, "no product %.64s", code);
    }
    return rc;
}

/* A checkout, a borrow or a heartbeat, kept with the request (http_keep):
 * a checkout and a heartbeat wait for their batch without holding the HTTP
 * worker (http_wait). */
struct lease_call {
    struct lease_request r;
    store_beat_result beat;
    store_checkout_pending pending;
    store_lease lease;
};

static void lease_call_free(void *p)
{
    struct lease_call *c = p;
    store_checkout_clear(&c->pending);
    store_product_clear(&c->r.product);
    cJSON_Delete(c->r.body);
    free(c);
}

/* A new lease_call kept with req, its request read from the body. */
static int lease_call(http_request *req, struct lease_call **out)
{
    struct lease_call *c = calloc(1, sizeof *c);
    *out = c;
    if (!c)
        return LICD_ERR_NOMEM;
    http_keep(req, c, lease_call_free);
    return read_request(req, &c->r);
}

/* http_wait's start and rest for a checkout: its first look goes in the
 * next batch; once written, what the looks found answers. */
static int checkout_queue(http_request *req)
{
    struct lease_call *c = req->ctx;
    store_checkout_queue(c->r.customer->vendor_id, c->r.customer->id, c->r.product.id,
                         c->r.client_id, api_ctx()->config->lease_ttl, &c->pending, http_wake,
                         req);
    return LICD_OK;
}

static int checkout_answer(http_request *req)
{
    struct lease_call *c = req->ctx;
    const struct lease_request *r = &c->r;
    store_checkout outcome;
    int rc = store_checkout_finish(&c->pending, &c->lease, &outcome);
    if (rc != LICD_OK)
        return rc;
    switch (outcome) {
    case STORE_CHECKOUT_TAKEN:
        return reply_lease(req, 201, &c->lease);
    case STORE_CHECKOUT_HELD:
        return reply_lease(req, 200, &c->lease);
    case STORE_CHECKOUT_FULL:
        /* Refused for want of a seat: seat.denied (nothing else changes). */
        if ((rc = store_event_seat_denied(r->customer->vendor_id, r->customer->id, r->product.code,
                                          r->client_id, "no_seats_available")) != LICD_OK)
            return rc;
        return http_fail(req, LICD_ERR_NO_SEATS_AVAILABLE, "every seat of %s is leased",
                         r->product.code);
    case STORE_CHECKOUT_NO_PACK:
    case STORE_CHECKOUT_NO_BORROW:
    case STORE_CHECKOUT_TOO_LONG:
        break;
    }
    return http_fail(req, LICD_ERR_NO_CONCURRENT_PACK,
                     "no active concurrent pack of %s (none, not active yet, or expired)",
                     r->product.code);
}

static int checkout(http_request *req) { return http_wait(req, checkout_queue, checkout_answer); }

/* The licence of a borrowed seat: the claims of a pack licence, with the
 * lease id as lid, no serial, and "borrow": true; it expires when the borrow
 * ends, so that a client checks it offline all that time. */
static int sign_borrow(const struct lease_request *r, const store_borrow *b, char **jwt)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *feat = cJSON_Parse(r->product.features_json ? r->product.features_json : "[]");
    int rc = LICD_ERR_NOMEM;
    if (c && feat && cJSON_AddStringToObject(c, "iss", "licd") &&
        cJSON_AddNumberToObject(c, "ver", 1) && cJSON_AddStringToObject(c, "lid", b->lease.id) &&
        cJSON_AddStringToObject(c, "cid", r->client_id) &&
        cJSON_AddStringToObject(c, "pid", r->product.code) &&
        cJSON_AddStringToObject(c, "pver", b->version) &&
        cJSON_AddStringToObject(c, "platform", b->platform) &&
        cJSON_AddStringToObject(c, "pack", b->lease.pack_id) &&
        cJSON_AddNullToObject(c, "serial") && cJSON_AddBoolToObject(c, "tmp", 0) &&
        cJSON_AddBoolToObject(c, "borrow", 1) &&
        cJSON_AddNumberToObject(c, "iat", (double)time(NULL)) &&
        cJSON_AddNumberToObject(c, "exp", (double)b->lease.expires_at) &&
        cJSON_AddStringToObject(c, "cus", r->customer->id) &&
        cJSON_AddStringToObject(c, "vnd", r->customer->vendor_id)) {
        cJSON_AddItemToObject(c, "feat", feat);
        feat = NULL;
        rc = crypto_jwt_sign(api_ctx()->keys, c, jwt);
    }
    cJSON_Delete(feat);
    cJSON_Delete(c);
    return rc;
}

static int reply_borrow(http_request *req, int status, const struct lease_request *r,
                        const store_borrow *b)
{
    long ttl = api_ctx()->config->lease_ttl;
    cJSON *o = cJSON_CreateObject(), *s = servers();
    char *jwt = NULL;
    int rc = sign_borrow(r, b, &jwt);
    if (rc == LICD_OK) {
        rc = LICD_ERR_NOMEM;
        if (o && s && cJSON_AddStringToObject(o, "lease_id", b->lease.id) &&
            cJSON_AddStringToObject(o, "pack_id", b->lease.pack_id) &&
            json_add_time(o, "expires_at", b->lease.expires_at) &&
            cJSON_AddNumberToObject(o, "heartbeat_interval_s", ttl / 3 > 0 ? ttl / 3 : 1) &&
            cJSON_AddBoolToObject(o, "borrowed", 1) && cJSON_AddStringToObject(o, "license", jwt)) {
            cJSON_AddItemToObject(o, "servers", s);
            s = NULL;
            rc = http_reply_json(req, status, o);
        }
    }
    free(jwt);
    cJSON_Delete(s);
    cJSON_Delete(o);
    return rc;
}

static int borrow(http_request *req, const struct lease_request *r)
{
    store_borrow b = {.max_borrow_s = 0};
    store_checkout outcome;
    int rc = store_lease_borrow(r->customer->vendor_id, r->customer->id, r->product.id,
                                r->client_id, (long)r->borrow_s, &b, &outcome);
    if (rc != LICD_OK)
        return rc;
    switch (outcome) {
    case STORE_CHECKOUT_TAKEN:
        return reply_borrow(req, 201, r, &b);
    case STORE_CHECKOUT_HELD:
        return reply_borrow(req, 200, r, &b);
    case STORE_CHECKOUT_FULL:
        /* Refused for want of a seat, as a checkout is: seat.denied. */
        if ((rc = store_event_seat_denied(r->customer->vendor_id, r->customer->id, r->product.code,
                                          r->client_id, "no_seats_available")) != LICD_OK)
            return rc;
        return http_fail(req, LICD_ERR_NO_SEATS_AVAILABLE,
                         "every seat of %s that may be borrowed %llds is leased", r->product.code,
                         r->borrow_s);
    case STORE_CHECKOUT_NO_BORROW:
        if (b.max_borrow_s > 0)
            return http_fail(req, LICD_ERR_BORROW_NOT_ALLOWED,
                             "the client's lease of %s is on a pack that allows no borrow of "
                             "%llds: release it first",
                             r->product.code, r->borrow_s);
        return http_fail(req, LICD_ERR_BORROW_NOT_ALLOWED,
                         "no concurrent pack of %s allows borrowing (max_borrow_s 0)",
                         r->product.code);
    case STORE_CHECKOUT_TOO_LONG:
        return http_fail(req, LICD_ERR_INVALID_FIELD,
                         "borrow_s %lld is over the %llds the packs of %s allow", r->borrow_s,
                         b.max_borrow_s, r->product.code);
    case STORE_CHECKOUT_NO_PACK:
        break;
    }
    return http_fail(req, LICD_ERR_NO_CONCURRENT_PACK,
                     "no active concurrent pack of %s (none, not active yet, or expired)",
                     r->product.code);
}

int api_leases_create(http_request *req)
{
    struct lease_call *c;
    int rc = lease_call(req, &c);
    if (rc == LICD_OK)
        rc = json_get_int(c->r.body, "borrow_s", 0, 1, MAX_BORROW_S, &c->r.borrow_s, req->detail);
    if (rc != LICD_OK)
        return rc;
    return c->r.borrow_s ? borrow(req, &c->r) : checkout(req);
}

static int heartbeat_write(http_request *req)
{
    struct lease_call *c = req->ctx;
    return store_lease_heartbeat(c->r.customer->id, http_param(req, "lease_id"), c->r.product.id,
                                 c->r.client_id, api_ctx()->config->lease_ttl, &c->beat,
                                 http_wake, req);
}

/* Once written: the lease extended, or, when the node knows no such live
 * lease, a checkout. */
static int heartbeat_answer(http_request *req)
{
    struct lease_call *c = req->ctx;
    if (c->beat.rc != LICD_OK)
        return c->beat.rc;
    return c->beat.found ? reply_lease(req, 200, &c->beat.lease) : checkout(req);
}

int api_leases_heartbeat(http_request *req)
{
    struct lease_call *c;
    int rc = lease_call(req, &c);
    return rc != LICD_OK ? rc : http_wait(req, heartbeat_write, heartbeat_answer);
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

static cJSON *lease_item_json(const void *item)
{
    const store_lease_item *l = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "lease_id", l->id) &&
        cJSON_AddStringToObject(o, "pack_id", l->pack_id) &&
        cJSON_AddStringToObject(o, "client_id", l->client_id) &&
        cJSON_AddStringToObject(o, "checked_out_at", l->checked_out_at) &&
        cJSON_AddStringToObject(o, "expires_at", l->expires_at) &&
        cJSON_AddBoolToObject(o, "borrowed", l->borrowed))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* The filter of GET /v1/leases: a pack of the vendor, or a customer of the
 * vendor with an optional product of the vendor (400 when neither or both
 * are given, 404 when one names nothing of the vendor). */
static int read_filter(http_request *req, const char *vendor_id, store_lease_filter *f)
{
    const char *code = http_query(req, "product");
    store_pack pack = {.attributes_json = NULL};
    store_customer customer;
    store_product product = {.features_json = NULL};
    int rc;

    f->pack_id = http_query(req, "pack_id");
    f->customer_id = http_query(req, "customer_id");
    f->product_id = 0;
    if (!f->pack_id == !f->customer_id || (f->pack_id && code)) {
        return http_fail(req, LICD_ERR_INVALID_FIELD,
                         "give pack_id, or customer_id with an optional product");
    }
    if (f->pack_id) {
        /* A pack's lapsed leases are released as it is read. */
        if ((rc = store_pack_get(vendor_id, f->pack_id, &pack)) == LICD_ERR_NOT_FOUND)
            snprintf(req->detail, sizeof req->detail, "this vendor has no pack %.64s", f->pack_id);
        store_pack_clear(&pack);
        return rc;
    }
    if (!json_is_uuid(f->customer_id)) {
        return http_fail(req, LICD_ERR_INVALID_FIELD, "customer_id must be a UUID");
    }
    if ((rc = store_customer_get(vendor_id, f->customer_id, &customer)) == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "this vendor has no customer %.64s",
                 f->customer_id);
    if (rc != LICD_OK || !code)
        return rc;
    if ((rc = store_product_get(vendor_id, code, &product)) == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "this vendor has no product %.64s", code);
    f->product_id = product.id;
    store_product_clear(&product);
    return rc;
}

int api_leases_list(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_lease_filter f;
    store_page page = {0};
    long long after;
    int limit, rc;

    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK ||
        (rc = read_filter(req, caller->vendor.id, &f)) != LICD_OK ||
        (rc = store_lease_list(caller->vendor.id, &f, after, limit, &page)) != LICD_OK)
        return rc;
    rc = api_list_page(req, &page, lease_item_json);
    store_page_free(&page);
    return rc;
}
