/* SQL for licence packs: idempotent installation by pack id, serial ranges. */
#include "store/packs.h"

#include <stdio.h>

#include "store/leases.h"
#include "store/sql.h"

/* Over a pack k joined with its product p. */
enum { PACK_ID, PACK_CUSTOMER_ID, PACK_PRODUCT, PACK_VERSION, PACK_TYPE, PACK_QUANTITY,
       PACK_ASSIGNED, PACK_BEGIN_SERIAL, PACK_ISSUED_AT, PACK_FIRST_ACTIVE, PACK_EXPIRES,
       PACK_PLATFORM, PACK_ATTRIBUTES };
#define PACK_COLUMNS                                                                        \
    "k.pack_id, k.customer_id, p.code, k.version, k.type, k.quantity, k.assigned,"         \
    " k.begin_serial, " STORE_TIME("k.issued_at") ", " STORE_TIME("k.first_active") ", "   \
    STORE_TIME("k.expires") ", k.platform, k.attributes::text"
static const store_field pack_fields[] = {
    [PACK_ID] = STORE_TEXT(store_pack, pack_id),
    [PACK_CUSTOMER_ID] = STORE_TEXT(store_pack, customer_id),
    [PACK_PRODUCT] = STORE_TEXT(store_pack, product),
    [PACK_VERSION] = STORE_TEXT(store_pack, version),
    [PACK_TYPE] = STORE_TEXT(store_pack, type),
    [PACK_QUANTITY] = STORE_INT64(store_pack, quantity),
    [PACK_ASSIGNED] = STORE_INT64(store_pack, assigned),
    [PACK_BEGIN_SERIAL] = STORE_INT64(store_pack, begin_serial),
    [PACK_ISSUED_AT] = STORE_TEXT(store_pack, issued_at),
    [PACK_FIRST_ACTIVE] = STORE_TEXT(store_pack, first_active),
    [PACK_EXPIRES] = STORE_TEXT(store_pack, expires),
    [PACK_PLATFORM] = STORE_TEXT(store_pack, platform),
    [PACK_ATTRIBUTES] = STORE_DUP(store_pack, attributes_json),
};
static const store_rowtype pack_row = STORE_ROWTYPE(store_pack, pack_fields);

static const store_sql Q_PACK_GET = {
    "pack_get", "SELECT " PACK_COLUMNS " FROM packs k JOIN products p ON p.id = k.product_id"
                " WHERE k.vendor_id = $1 AND k.pack_id = $2"};
static const store_sql Q_PACK_SERIAL_LOCK = {
    "pack_serial_lock", "SELECT pg_advisory_xact_lock(hashtextextended('packs:' || $1, 0))"};
static const store_sql Q_PACK_CREATE = {
    "pack_create",
    "WITH s AS (SELECT COALESCE($8::bigint, (SELECT COALESCE(max(begin_serial + quantity), 1)"
    "   FROM packs WHERE vendor_id = $1)) AS serial),"
    " k AS (INSERT INTO packs (vendor_id, pack_id, customer_id, product_id, version, type,"
    "   quantity, begin_serial, first_active, expires, platform, attributes)"
    "  SELECT $1, $2, $3, $4, $5, $6, $7::integer, s.serial, $9::timestamptz,"
    "   $10::timestamptz, $11, $12::jsonb FROM s"
    "  WHERE s.serial + $7::integer - 1 <= 999999999999999" /* STORE_SERIAL_MAX */
    "  ON CONFLICT (vendor_id, pack_id) DO NOTHING RETURNING *)"
    " SELECT " PACK_COLUMNS " FROM k JOIN products p ON p.id = k.product_id"};

void store_pack_clear(store_pack *p)
{
    store_clear(&pack_row, p);
}

/* The pack by id into out: 0, LICD_ERR_NOT_FOUND or a database error. */
static int get(const char *vendor_id, const char *pack_id, int idempotent, store_pack *out)
{
    const char *params[2] = {vendor_id, pack_id};
    return store_fetch_row(&Q_PACK_GET, 2, params, idempotent, &pack_row, out);
}

int store_pack_get(const char *vendor_id, const char *pack_id, store_pack *out)
{
    /* A concurrent pack's assigned counts its live leases: those that
     * lapsed are released first, when one may have. */
    int rc = store_lease_reclaim_pack(vendor_id, pack_id);
    out->attributes_json = NULL;
    return rc != LICD_OK ? rc : get(vendor_id, pack_id, 1, out);
}

struct create_ctx {
    const store_actor *who;
    const store_pack_new *in;
    store_pack *out;
    int *created;
};

/* The audit details of a new pack. */
static int audit_created(const store_actor *who, const store_pack *k)
{
    cJSON *details = cJSON_CreateObject();
    int rc = details && cJSON_AddStringToObject(details, "customer_id", k->customer_id) &&
                     cJSON_AddStringToObject(details, "product", k->product) &&
                     cJSON_AddNumberToObject(details, "quantity", (double)k->quantity) &&
                     cJSON_AddNumberToObject(details, "begin_serial", (double)k->begin_serial)
                 ? store_audit(who, "create", "pack", k->pack_id, details)
                 : LICD_ERR_NOMEM;
    cJSON_Delete(details);
    return rc;
}

/* One attempt at installing the pack. ON CONFLICT covers the pack id only:
 * a pack id that exists (or is being installed by a transaction this one
 * then waits for) inserts nothing, and the row is read in a new statement,
 * which sees it committed. Choosing the next free serial takes a per-vendor
 * transaction lock first, so that concurrent installations each see the
 * ranges the others committed instead of all picking the same one. An
 * overlapping range (23P01) is then a client error when the serial was
 * given, and a race with such a pack, to be run again, when it was chosen. */
static int create_tx(void *p)
{
    struct create_ctx *c = p;
    const store_pack_new *in = c->in;
    char product_id[24], quantity[24], serial[24];
    const char *params[12] = {c->who->vendor_id, in->pack_id,      in->customer_id,
                              product_id,        in->version,      in->type,
                              quantity,          in->begin_serial ? serial : NULL,
                              in->first_active,  in->expires,      in->platform,
                              in->attributes_json};
    int rc;

    if (!in->begin_serial && (rc = store_run(&Q_PACK_SERIAL_LOCK, 1, params)) != LICD_OK)
        return rc;
    snprintf(product_id, sizeof product_id, "%lld", in->product->id);
    snprintf(quantity, sizeof quantity, "%lld", in->quantity);
    snprintf(serial, sizeof serial, "%lld", in->begin_serial);
    rc = store_fetch_row(&Q_PACK_CREATE, 12, params, 0, &pack_row, c->out);
    if (rc == LICD_ERR_CONFLICT && !in->begin_serial)
        return LICD_ERR_RETRY;
    *c->created = rc == LICD_OK;
    if (rc == LICD_OK)
        return audit_created(c->who, c->out);
    if (rc != LICD_ERR_NOT_FOUND)
        return rc;
    /* Not inserted: the pack id exists, or it is new and the serials ran out. */
    rc = get(c->who->vendor_id, in->pack_id, 0, c->out);
    return rc == LICD_ERR_NOT_FOUND ? LICD_ERR_CONFLICT : rc;
}

int store_pack_create(const store_actor *who, const store_pack_new *in, store_pack *out,
                      int *created)
{
    struct create_ctx c = {who, in, out, created};
    int rc;
    out->attributes_json = NULL;
    *created = 0;
    rc = store_tx(create_tx, &c);
    /* An explicit range that overlapped a concurrent installation of this
     * same pack id: the pack exists now, so this post is a repeat. */
    if (rc == LICD_ERR_CONFLICT || rc == LICD_ERR_RETRY) {
        int found = get(who->vendor_id, in->pack_id, 1, out);
        if (found == LICD_OK) {
            *created = 0;
            rc = LICD_OK;
        }
    }
    return rc == LICD_ERR_RETRY ? LICD_ERR_UNAVAILABLE : rc;
}
