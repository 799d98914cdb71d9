/* SQL for licence packs: idempotent installation by pack id, serial ranges,
 * listing and changes. */
#include "store/packs.h"

#include <stdio.h>

#include "store/caches.h"
#include "store/leases.h"
#include "store/sql.h"
#include "util/json.h"

/* Over a pack k joined with its product p; lists add its list position. */
enum { PACK_ID, PACK_CUSTOMER_ID, PACK_PRODUCT, PACK_VERSION, PACK_TYPE, PACK_QUANTITY,
       PACK_ASSIGNED, PACK_BEGIN_SERIAL, PACK_ISSUED_AT, PACK_FIRST_ACTIVE, PACK_EXPIRES,
       PACK_PLATFORM, PACK_ATTRIBUTES, PACK_ON_OVER_LIMIT, PACK_MAX_BORROW_S, PACK_ALLOCATED,
       PACK_POS };
#define PACK_COLUMNS                                                                        \
    "k.pack_id, k.customer_id, p.code, k.version, k.type, k.quantity,"                      \
    " k.assigned + k.allocated,"                                                          \
    " k.begin_serial, " STORE_TIME("k.issued_at") ", " STORE_TIME("k.first_active") ", "   \
    STORE_TIME("k.expires") ", k.platform, k.attributes::text, k.on_over_limit,"         \
    " k.max_borrow_s, k.allocated"
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
    [PACK_ON_OVER_LIMIT] = STORE_TEXT(store_pack, on_over_limit),
    [PACK_MAX_BORROW_S] = STORE_INT64(store_pack, max_borrow_s),
    [PACK_ALLOCATED] = STORE_INT64(store_pack, allocated),
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
    "   quantity, begin_serial, first_active, expires, platform, attributes, on_over_limit,"
    "   max_borrow_s)"
    "  SELECT $1, $2, $3, $4, $5, $6, $7::integer, s.serial, $9::timestamptz,"
    "   $10::timestamptz, $11, $12::jsonb, $13, $14::bigint FROM s"
    "  WHERE s.serial + $7::integer - 1 <= 999999999999999" /* STORE_SERIAL_MAX */
    "  ON CONFLICT (vendor_id, pack_id) DO NOTHING RETURNING *)"
    " SELECT " PACK_COLUMNS " FROM k JOIN products p ON p.id = k.product_id"};
/* Absent filters are NULL parameters, which the planner folds away. */
static const store_sql Q_PACK_LIST = {
    "pack_list", "SELECT " PACK_COLUMNS ", k.id FROM packs k JOIN products p ON p.id = k.product_id"
                 " WHERE k.vendor_id = $1 AND k.id > $2"
                 " AND ($4::uuid IS NULL OR k.customer_id = $4::uuid)"
                 " AND ($5::text IS NULL OR p.code = $5::text)"
                 " ORDER BY k.id LIMIT $3"};
/* Free serials in the range of quantity $3 (k's own, when $3 is NULL). */
#define FREE_SERIALS_IN_RANGE                                                              \
    "(SELECT f FROM unnest(k.free_serials) f"                                              \
    " WHERE f < k.begin_serial + coalesce($3::integer, k.quantity))"
/* A smaller quantity must still hold every serial handed out and not free
 * again: the seats in use plus the free serials below the new end. The
 * free serials past it are forgotten. A new expiry is the expiry of the
 * pack's active licences too, so that get_key answers them with it. */
static const store_sql Q_PACK_UPDATE = {
    "pack_update",
    "WITH k AS (UPDATE packs k SET quantity = coalesce($3::integer, k.quantity),"
    "  expires = CASE WHEN $4::boolean THEN $5::timestamptz ELSE k.expires END,"
    "  on_over_limit = coalesce($6::text, k.on_over_limit),"
    "  max_borrow_s = coalesce($7::bigint, k.max_borrow_s),"
    "  free_serials = ARRAY(" FREE_SERIALS_IN_RANGE " ORDER BY f)"
    "  WHERE k.vendor_id = $1 AND k.pack_id = $2"
    "  AND coalesce($3::integer, k.quantity) >= k.assigned + k.allocated"
    "   + (SELECT count(*) FROM " FREE_SERIALS_IN_RANGE " r)"
    "  RETURNING k.*),"
    " l AS (UPDATE assignments a SET expires_at = k.expires FROM k"
    "  WHERE $4::boolean AND a.pack_id = k.id AND a.status = 'active')"
    " SELECT " PACK_COLUMNS " FROM k JOIN products p ON p.id = k.product_id"};
/* The smallest quantity pack $2 can have: its seats in use, or up to the
 * highest serial that a licence not deactivated holds. */
enum { LEAST_QUANTITY };
static const store_sql Q_PACK_LEAST = {
    "pack_least",
    "SELECT greatest(k.assigned + k.allocated, (SELECT max(a.serial) FROM assignments a"
    "  WHERE a.pack_id = k.id AND a.status <> 'deactivated') - k.begin_serial + 1)"
    " FROM packs k WHERE k.vendor_id = $1 AND k.pack_id = $2"};
enum { MATCH_PACKS, MATCH_OF_VERSION, MATCH_OF_PLATFORM, MATCH_MATCHING };
static const store_sql Q_PACK_MATCH = {
    "pack_match", "SELECT count(*), count(*) FILTER (WHERE $3::text IS NULL OR version = $3),"
                  " count(*) FILTER (WHERE platform IN ('any', $4)),"
                  " count(*) FILTER (WHERE ($3::text IS NULL OR version = $3)"
                  "  AND platform IN ('any', $4))"
                  " FROM packs WHERE customer_id = $1 AND product_id = $2"
                  " AND type IN ('per_device', 'per_user')"};

/* Overlapping serial ranges are the one constraint installing or growing a
 * pack can break (the packs table excludes them: 23P01). */
static int serials(int rc)
{
    return rc == LICD_ERR_CONFLICT ? LICD_ERR_SERIAL_RANGE_TAKEN : rc;
}

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
    char product_id[24], quantity[24], serial[24], borrow[24];
    const char *params[14] = {c->who->vendor_id, in->pack_id,      in->customer_id,
                              product_id,        in->version,      in->type,
                              quantity,          in->begin_serial ? serial : NULL,
                              in->first_active,  in->expires,      in->platform,
                              in->attributes_json, in->on_over_limit, borrow};
    int rc;

    if (!in->begin_serial && (rc = store_run(&Q_PACK_SERIAL_LOCK, 1, params)) != LICD_OK)
        return rc;
    snprintf(product_id, sizeof product_id, "%lld", in->product->id);
    snprintf(quantity, sizeof quantity, "%lld", in->quantity);
    snprintf(serial, sizeof serial, "%lld", in->begin_serial);
    snprintf(borrow, sizeof borrow, "%lld", in->max_borrow_s);
    rc = serials(store_fetch_row(&Q_PACK_CREATE, 14, params, 0, &pack_row, c->out));
    if (rc == LICD_ERR_SERIAL_RANGE_TAKEN && !in->begin_serial)
        return LICD_ERR_RETRY;
    *c->created = rc == LICD_OK;
    if (rc == LICD_OK)
        return audit_created(c->who, c->out);
    if (rc != LICD_ERR_NOT_FOUND)
        return rc;
    /* Not inserted: the pack id exists, or it is new and the serials ran out. */
    rc = get(c->who->vendor_id, in->pack_id, 0, c->out);
    return rc == LICD_ERR_NOT_FOUND ? LICD_ERR_SERIAL_RANGE_TAKEN : rc;
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
    if (rc == LICD_ERR_SERIAL_RANGE_TAKEN || rc == LICD_ERR_RETRY) {
        int found = get(who->vendor_id, in->pack_id, 1, out);
        if (found == LICD_OK) {
            *created = 0;
            rc = LICD_OK;
        }
    }
    return rc == LICD_ERR_RETRY ? LICD_ERR_UNAVAILABLE : rc;
}

int store_pack_list(const char *vendor_id, const store_pack_filter *f, long long after, int limit,
                    store_page *page)
{
    char a[24], l[16];
    const char *params[5] = {vendor_id, a, l, f->customer_id, f->product};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_PACK_LIST, 5, params, &pack_row, limit, PACK_POS, page);
}

struct update_ctx {
    const store_actor *who;
    const char *pack_id;
    const store_pack_change *ch;
    store_pack *out;
    long long *least;
};

/* The audit details of a change: the fields given, as they are now. */
static int audit_updated(const store_actor *who, const store_pack_change *ch, const store_pack *k)
{
    cJSON *details = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (details &&
        (!ch->quantity || cJSON_AddNumberToObject(details, "quantity", (double)k->quantity)) &&
        (!ch->set_expires || json_add_string_or_null(details, "expires", k->expires)) &&
        (!ch->on_over_limit ||
         cJSON_AddStringToObject(details, "on_over_limit", k->on_over_limit)) &&
        (ch->max_borrow_s < 0 ||
         cJSON_AddNumberToObject(details, "max_borrow_s", (double)k->max_borrow_s)))
        rc = store_audit(who, "update", "pack", k->pack_id, details);
    cJSON_Delete(details);
    return rc;
}

/* The update, or why it changed nothing: no such pack, or a quantity too
 * small (then how small it may be). */
static int update_tx(void *p)
{
    struct update_ctx *c = p;
    const store_pack_change *ch = c->ch;
    char quantity[24], borrow[24];
    const char *params[7] = {c->who->vendor_id, c->pack_id, ch->quantity ? quantity : NULL,
                             ch->set_expires ? "true" : "false", ch->expires, ch->on_over_limit,
                             ch->max_borrow_s >= 0 ? borrow : NULL};
    PGresult *res = NULL;
    int rc;

    snprintf(quantity, sizeof quantity, "%lld", ch->quantity);
    snprintf(borrow, sizeof borrow, "%lld", ch->max_borrow_s);
    rc = serials(store_fetch_row(&Q_PACK_UPDATE, 7, params, 0, &pack_row, c->out));
    if (rc == LICD_OK)
        return audit_updated(c->who, ch, c->out);
    if (rc != LICD_ERR_NOT_FOUND)
        return rc;
    if ((rc = store_exec_row(&Q_PACK_LEAST, 2, params, 0, &res)) == LICD_OK) {
        *c->least = store_col_int(res, 0, LEAST_QUANTITY);
        rc = LICD_ERR_QUANTITY_BELOW_ASSIGNED;
    }
    PQclear(res);
    return rc;
}

int store_pack_update(const store_actor *who, const char *pack_id, const store_pack_change *ch,
                      store_pack *out, long long *least)
{
    struct update_ctx c = {who, pack_id, ch, out, least};
    int rc;
    out->attributes_json = NULL;
    *least = 0;
    /* A new expiry is also that of the pack's licences: forget the answers
     * kept for them. */
    if ((rc = store_tx(update_tx, &c)) == LICD_OK)
        store_caches_forget(STORE_CACHE_LICENSES);
    return rc;
}

int store_pack_match_count(const char *customer_id, long long product_id, const char *version,
                           const char *platform, store_pack_match *out)
{
    char product[24];
    const char *params[4] = {customer_id, product, version, platform};
    PGresult *res = NULL;
    int rc;
    snprintf(product, sizeof product, "%lld", product_id);
    if ((rc = store_exec_row(&Q_PACK_MATCH, 4, params, 1, &res)) == LICD_OK) {
        out->packs = store_col_int(res, 0, MATCH_PACKS);
        out->of_version = store_col_int(res, 0, MATCH_OF_VERSION);
        out->of_platform = store_col_int(res, 0, MATCH_OF_PLATFORM);
        out->matching = store_col_int(res, 0, MATCH_MATCHING);
    }
    PQclear(res);
    return rc;
}
