/* /v1/packs: a vendor installs licence packs for its customers (once per
 * pack id: the same pack posted again is answered as it is), lists them,
 * reads one back and changes its quantity, expiry and what get_key does
 * once usage passes a limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "crypto/digest.h"
#include "store/packs.h"
#include "util/json.h"

#define PACK_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define MAX_QUANTITY 100000000
#define MAX_ATTRIBUTES (64 << 10)
/* The longest borrow a pack may allow: 366 days (migration 0015's CHECK). */
#define MAX_BORROW_S 31622400

static const char *const pack_types[] = {"per_device", "per_user", "concurrent", "upgrade", NULL};
static const char *const over_limit_modes[] = {"refuse", "report", NULL};

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
        json_add_raw(o, "attributes", k->attributes_json) &&
        cJSON_AddStringToObject(o, "on_over_limit", k->on_over_limit) &&
        cJSON_AddNumberToObject(o, "max_borrow_s", (double)k->max_borrow_s) &&
        cJSON_AddNumberToObject(o, "allocated", (double)k->allocated))
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
    int has_first_active;             /* given (else now) */
};

/* Reads and checks every field of a POST /v1/packs body (400 invalid_field
 * naming the first bad one); what needs the database comes later. */
static int read_body(const cJSON *body, struct pack_body *b, char *detail)
{
    store_pack_new *in = &b->in;
    time_t first = time(NULL), expires = 0;
    int has_expires, rc;

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
        (rc = json_get_time(body, "first_active", 0, &first, &b->has_first_active, detail)) !=
            LICD_OK ||
        (rc = json_get_time(body, "expires", 0, &expires, &has_expires, detail)) != LICD_OK ||
        (rc = json_get_enum(body, "platform", 0, api_platforms, "any", &in->platform, detail)) !=
            LICD_OK ||
        (rc = json_get_object_text(body, "attributes", 0, MAX_ATTRIBUTES, &b->attributes,
                                   detail)) != LICD_OK ||
        (rc = json_get_enum(body, "on_over_limit", 0, over_limit_modes, "refuse",
                            &in->on_over_limit, detail)) != LICD_OK ||
        (rc = json_get_int(body, "max_borrow_s", 0, 0, MAX_BORROW_S, &in->max_borrow_s, detail)) !=
            LICD_OK)
        return rc;
    if (in->begin_serial && in->begin_serial + in->quantity - 1 > STORE_SERIAL_MAX) {
        snprintf(detail, LICD_DETAIL_MAX, "begin_serial + quantity - 1 must not exceed %lld",
                 STORE_SERIAL_MAX);
        return LICD_ERR_INVALID_FIELD;
    }
    if (has_expires && expires <= first) {
        snprintf(detail, LICD_DETAIL_MAX, "expires must be after first_active%s",
                 b->has_first_active ? "" : " (now, when first_active is not given)");
        return LICD_ERR_INVALID_FIELD;
    }
    json_format_time(first, b->first_active, sizeof b->first_active);
    json_format_time(expires, b->expires, sizeof b->expires);
    in->first_active = b->first_active;
    in->expires = has_expires ? b->expires : NULL;
    in->attributes_json = b->attributes ? b->attributes : "{}";
    return LICD_OK;
}

/* 1 when two JSON texts hold the same value (objects in any member order). */
static int same_json(const char *a, const char *b)
{
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    int same = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

/* The first field of body b that differs from the installed pack k, or NULL
 * when b installs that very pack. A field not given counts as its default,
 * but for first_active and begin_serial, which are chosen at installation. */
static const char *differing_field(const struct pack_body *b, const store_pack *k)
{
    const store_pack_new *in = &b->in;
    if (strcasecmp(in->customer_id, k->customer_id) != 0)
        return "customer_id";
    if (strcmp(b->product, k->product) != 0)
        return "product";
    if (strcmp(in->version, k->version) != 0)
        return "version";
    if (strcmp(in->type, k->type) != 0)
        return "type";
    if (in->quantity != k->quantity)
        return "quantity";
    if (in->begin_serial && in->begin_serial != k->begin_serial)
        return "begin_serial";
    if (b->has_first_active && strcmp(in->first_active, k->first_active) != 0)
        return "first_active";
    if (strcmp(in->expires ? in->expires : "", k->expires) != 0)
        return "expires";
    if (strcmp(in->platform, k->platform) != 0)
        return "platform";
    if (strcmp(in->on_over_limit, k->on_over_limit) != 0)
        return "on_over_limit";
    if (in->max_borrow_s != k->max_borrow_s)
        return "max_borrow_s";
    if (!same_json(in->attributes_json, k->attributes_json))
        return "attributes";
    return NULL;
}

/* The answer to a body whose pack_id the vendor has installed already: 200
 * with the pack when the body is that pack, else 409 naming what differs. */
static int reply_installed(http_request *req, const struct pack_body *b, const store_pack *k)
{
    const char *field = differing_field(b, k);
    if (!field)
        return reply_pack(req, 200, k);
    return http_fail(req, LICD_ERR_CONFLICT,
                     "pack %s is installed with another %s: PATCH it, or post another pack_id",
                     k->pack_id, field);
}

/* Installs the pack, or answers as reply_installed when the vendor has one
 * with this pack_id. */
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
            rc = reply_installed(req, &b, &k);
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
    if (rc == LICD_ERR_SERIAL_RANGE_TAKEN && b.in.begin_serial)
        snprintf(req->detail, sizeof req->detail,
                 "serials %lld to %lld overlap another pack of this vendor", b.in.begin_serial,
                 b.in.begin_serial + b.in.quantity - 1);
    else if (rc == LICD_ERR_SERIAL_RANGE_TAKEN)
        snprintf(req->detail, sizeof req->detail,
                 "no range of %lld serials is left after this vendor's highest serial; "
                 "give begin_serial", b.in.quantity);
    if (rc == LICD_OK)
        rc = created ? reply_pack(req, 201, &k) : reply_installed(req, &b, &k);
out:
    store_pack_clear(&k);
    store_product_clear(&product);
    free(b.attributes);
    cJSON_Delete(body);
    return rc;
}

/* The vendor's pack named by the path, with a detail naming it when absent. */
static int path_pack(http_request *req, const api_vendor_caller *caller, store_pack *k)
{
    const char *pack_id = http_param(req, "pack_id");
    int rc = store_pack_get(caller->vendor.id, pack_id, k);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "this vendor has no pack %.64s", pack_id);
    return rc;
}

int api_packs_get(http_request *req)
{
    store_pack k = {.attributes_json = NULL};
    int rc = path_pack(req, api_caller_vendor(req), &k);
    if (rc == LICD_OK)
        rc = reply_pack(req, 200, &k);
    store_pack_clear(&k);
    return rc;
}

static cJSON *pack_item_json(const void *item) { return pack_json(item); }

int api_packs_list(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_pack_filter f;
    store_page page = {0};
    long long after;
    int limit, rc;

    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK ||
        (rc = api_list_filter_uuid(req, "customer_id", &f.customer_id)) != LICD_OK ||
        (rc = api_list_filter(req, "product", STORE_CODE_MAX, &f.product)) != LICD_OK ||
        (rc = store_pack_list(caller->vendor.id, &f, after, limit, &page)) != LICD_OK)
        return rc;
    rc = api_list_page(req, &page, pack_item_json);
    store_page_free(&page);
    return rc;
}

/* Reads a PATCH body into ch (its expires text into buf): at least one of
 * quantity, expires (null: never), on_over_limit and max_borrow_s. *expires is the time
 * given, 0 for none. */
static int read_change(const cJSON *body, store_pack_change *ch, time_t *expires, char *buf,
                       size_t len, char *detail)
{
    int has_expires, rc;

    *expires = 0;
    if ((rc = json_get_int(body, "quantity", 0, 1, MAX_QUANTITY, &ch->quantity, detail)) !=
            LICD_OK ||
        (rc = json_get_time(body, "expires", 0, expires, &has_expires, detail)) != LICD_OK ||
        (rc = json_get_enum(body, "on_over_limit", 0, over_limit_modes, NULL, &ch->on_over_limit,
                            detail)) != LICD_OK)
        return rc;
    ch->max_borrow_s = -1;
    if (cJSON_GetObjectItemCaseSensitive(body, "max_borrow_s") &&
        (rc = json_get_int(body, "max_borrow_s", 1, 0, MAX_BORROW_S, &ch->max_borrow_s, detail)) !=
            LICD_OK)
        return rc;
    ch->set_expires = cJSON_GetObjectItemCaseSensitive(body, "expires") != NULL;
    if (has_expires) {
        json_format_time(*expires, buf, len);
        ch->expires = buf;
    }
    if (!ch->quantity && !ch->set_expires && !ch->on_over_limit && ch->max_borrow_s < 0) {
        snprintf(detail, LICD_DETAIL_MAX, "give quantity, expires, on_over_limit or max_borrow_s");
        return LICD_ERR_INVALID_FIELD;
    }
    return LICD_OK;
}

/* Checks the change against the pack k as it is (its serial range and
 * first_active do not change), then makes it. */
int api_packs_update(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_pack_change ch = {0};
    store_pack k = {.attributes_json = NULL}, now = {.attributes_json = NULL};
    cJSON *body = NULL;
    char expires_text[32];
    time_t expires, first = 0;
    long long least;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = read_change(body, &ch, &expires, expires_text, sizeof expires_text, req->detail)) !=
            LICD_OK ||
        (rc = path_pack(req, caller, &k)) != LICD_OK)
        goto out;
    rc = LICD_ERR_INVALID_FIELD;
    if (ch.quantity && k.begin_serial + ch.quantity - 1 > STORE_SERIAL_MAX) {
        snprintf(req->detail, sizeof req->detail,
                 "quantity must keep the serials (from %lld) below %lld", k.begin_serial,
                 STORE_SERIAL_MAX + 1);
        goto out;
    }
    if (ch.expires && (json_parse_time(k.first_active, &first) != 0 || expires <= first)) {
        snprintf(req->detail, sizeof req->detail, "expires must be after first_active (%s)",
                 k.first_active);
        goto out;
    }
    /* least is the seats assigned, unless a licence holds a serial past them. */
    rc = store_pack_update(&caller->actor, k.pack_id, &ch, &now, &least);
    if (rc == LICD_ERR_QUANTITY_BELOW_ASSIGNED && least <= k.assigned)
        snprintf(req->detail, sizeof req->detail,
                 "quantity %lld is below the %lld seats assigned", ch.quantity, least);
    else if (rc == LICD_ERR_QUANTITY_BELOW_ASSIGNED)
        snprintf(req->detail, sizeof req->detail,
                 "a licence holds serial %lld: quantity must be at least %lld",
                 k.begin_serial + least - 1, least);
    else if (rc == LICD_ERR_SERIAL_RANGE_TAKEN)
        snprintf(req->detail, sizeof req->detail,
                 "serials %lld to %lld overlap another pack of this vendor", k.begin_serial,
                 k.begin_serial + ch.quantity - 1);
    if (rc == LICD_OK)
        rc = reply_pack(req, 200, &now);
out:
    store_pack_clear(&now);
    store_pack_clear(&k);
    cJSON_Delete(body);
    return rc;
}
