/* /v1/packs: a vendor installs licence packs for its customers (once per
 * pack id, however often the same pack is posted) and reads them back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "crypto/digest.h"
#include "store/packs.h"
#include "util/json.h"

#define PACK_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define MAX_QUANTITY 100000000
#define MAX_ATTRIBUTES (64 << 10)

static const char *const pack_types[] = {"per_device", "per_user", "concurrent", "upgrade", NULL};

static cJSON *pack_json(const store_pack *k)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "pack_id", k->pack_id) &&
        cJSON_AddStringToObject(o, "customer_id", k->customer_id) &&
        cJSON_AddStringToObject(o, "product", k->product) &&
        cJSON_AddStringToObject(o, "version", k->version) &&
        cJSON_AddStringToObject(o, "type", k->type) &&
        cJSON_AddNumberToObject(o, "quantity", (double)k->quantity) &&
        cJSON_AddNumberToObject(o, "assigned", (double)k->assigned) &&
        cJSON_AddStringToObject(o, "issued_at", k->issued_at) &&
        cJSON_AddStringToObject(o, "first_active", k->first_active) &&
        json_add_string_or_null(o, "expires", k->expires) &&
        cJSON_AddNumberToObject(o, "begin_serial", (double)k->begin_serial) &&
        cJSON_AddStringToObject(o, "platform", k->platform) &&
        json_add_raw(o, "attributes", k->attributes_json))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int reply_pack(http_request *req, int status, const store_pack *k)
{
    cJSON *out = pack_json(k);
    int rc = out ? http_reply_json(req, status, out) : LICD_ERR_NOMEM;
    cJSON_Delete(out);
    return rc;
}

/* A pack request's fields, read and checked; the strings point into the body. */
struct pack_body {
    store_pack_new in;
    const char *product;
    char *attributes;                 /* malloc'd */
    char first_active[32], expires[32];
};

/* Reads and checks every field of a POST /v1/packs body (400 invalid_field
 * naming the first bad one); what needs the database comes later. */
static int read_body(const cJSON *body, struct pack_body *b, char *detail)
{
    store_pack_new *in = &b->in;
    time_t first = time(NULL), expires = 0;
    int has_first, has_expires, rc;

    if ((rc = json_get_token(body, "pack_id", 0, STORE_PACK_ID_MAX, PACK_ID_CHARS, &in->pack_id,
                             detail)) != LICD_OK ||
        (rc = json_get_string(body, "customer_id", 1, 1, 64, &in->customer_id, detail)) !=
            LICD_OK ||
        (rc = json_get_string(body, "product", 1, 1, STORE_CODE_MAX, &b->product, detail)) !=
            LICD_OK ||
        (rc = json_get_string(body, "version", 1, 1, 64, &in->version, detail)) != LICD_OK ||
        (rc = json_get_enum(body, "type", 1, pack_types, NULL, &in->type, detail)) != LICD_OK ||
        (rc = json_get_int(body, "quantity", 1, 1, MAX_QUANTITY, &in->quantity, detail)) !=
            LICD_OK ||
        (rc = json_get_int(body, "begin_serial", 0, 1, STORE_SERIAL_MAX, &in->begin_serial,
                           detail)) != LICD_OK ||
        (rc = json_get_time(body, "first_active", 0, &first, &has_first, detail)) != LICD_OK ||
        (rc = json_get_time(body, "expires", 0, &expires, &has_expires, detail)) != LICD_OK ||
        (rc = json_get_enum(body, "platform", 0, api_platforms, "any", &in->platform, detail)) !=
            LICD_OK ||
        (rc = json_get_object_text(body, "attributes", 0, MAX_ATTRIBUTES, &b->attributes,
                                   detail)) != LICD_OK)
        return rc;
    if (in->begin_serial && in->begin_serial + in->quantity - 1 > STORE_SERIAL_MAX) {
        snprintf(detail, LICD_DETAIL_MAX, "begin_serial + quantity - 1 must not exceed %lld",
                 STORE_SERIAL_MAX);
        return LICD_ERR_INVALID_FIELD;
    }
    if (has_expires && expires <= first) {
        snprintf(detail, LICD_DETAIL_MAX, "expires must be after first_active%s",
                 has_first ? "" : " (now, when first_active is not given)");
        return LICD_ERR_INVALID_FIELD;
    }
    json_format_time(first, b->first_active, sizeof b->first_active);
    json_format_time(expires, b->expires, sizeof b->expires);
    in->first_active = b->first_active;
    in->expires = has_expires ? b->expires : NULL;
    in->attributes_json = b->attributes ? b->attributes : "{}";
    return LICD_OK;
}

/* Installs the pack, or answers 200 with the pack as first installed when
 * the vendor has one with this pack_id (the new body is then ignored). */
int api_packs_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    struct pack_body b = {.attributes = NULL};
    store_customer customer;
    store_product product = {.features_json = NULL};
    store_pack k = {.attributes_json = NULL};
    char generated[4 + 16 + 1];
    cJSON *body = NULL;
    int created, rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = read_body(body, &b, req->detail)) != LICD_OK)
        goto out;
    if (b.in.pack_id &&
        (rc = store_pack_get(caller->vendor.id, b.in.pack_id, &k)) != LICD_ERR_NOT_FOUND) {
        if (rc == LICD_OK)
            rc = reply_pack(req, 200, &k);
        goto out;
    }
    if ((rc = store_customer_get(caller->vendor.id, b.in.customer_id, &customer)) != LICD_OK) {
        if (rc == LICD_ERR_NOT_FOUND)
            snprintf(req->detail, sizeof req->detail, "this vendor has no customer %.64s",
                     b.in.customer_id);
        goto out;
    }
    if ((rc = store_product_get(caller->vendor.id, b.product, &product)) != LICD_OK) {
        if (rc == LICD_ERR_NOT_FOUND)
            snprintf(req->detail, sizeof req->detail, "this vendor has no product %.64s",
                     b.product);
        goto out;
    }
    if (!b.in.pack_id) {
        memcpy(generated, "pk_", 3);
        if ((rc = crypto_random_hex(8, generated + 3)) != LICD_OK)
            goto out;
        b.in.pack_id = generated;
    }
    b.in.customer_id = customer.id;
    b.in.product = &product;
    rc = store_pack_create(&caller->actor, &b.in, &k, &created);
    if (rc == LICD_ERR_CONFLICT && b.in.begin_serial)
        snprintf(req->detail, sizeof req->detail,
                 "serials %lld to %lld overlap another pack of this vendor", b.in.begin_serial,
                 b.in.begin_serial + b.in.quantity - 1);
    else if (rc == LICD_ERR_CONFLICT)
        snprintf(req->detail, sizeof req->detail,
                 "no range of %lld serials is left after this vendor's highest serial; "
                 "give begin_serial", b.in.quantity);
    if (rc == LICD_OK)
        rc = reply_pack(req, created ? 201 : 200, &k);
out:
    store_pack_clear(&k);
    store_product_clear(&product);
    free(b.attributes);
    cJSON_Delete(body);
    return rc;
}

int api_packs_get(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_pack k = {.attributes_json = NULL};
    const char *pack_id = http_param(req, "pack_id");
    int rc;

    if ((rc = store_pack_get(caller->vendor.id, pack_id, &k)) == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "this vendor has no pack %.64s", pack_id);
    if (rc == LICD_OK)
        rc = reply_pack(req, 200, &k);
    store_pack_clear(&k);
    return rc;
}
