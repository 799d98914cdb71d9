/* SQL for the vendor's listing of assignments, for blocking licences and
 * for deactivating them. */
#include "store/assignments.h"

#include <stdio.h>

#include "store/caches.h"
#include "store/sql.h"
#include "util/json.h"

/* Over an assignment a, its product p and its pack k (none for temporary licences). */
enum { ASSIGNMENT_ID, ASSIGNMENT_LICENSE_ID, ASSIGNMENT_PACK_ID, ASSIGNMENT_CUSTOMER_ID,
       ASSIGNMENT_CLIENT_ID, ASSIGNMENT_PRODUCT, ASSIGNMENT_VERSION, ASSIGNMENT_PLATFORM,
       ASSIGNMENT_ISSUED_AT, ASSIGNMENT_EXPIRES_AT, ASSIGNMENT_STATUS, ASSIGNMENT_TEMPORARY,
       ASSIGNMENT_BLOCKED };
#define ASSIGNMENT_COLUMNS                                                                 \
    "a.id, a.license_id, k.pack_id, a.customer_id, a.client_id, p.code, a.version,"       \
    " a.platform, " STORE_TIME("a.issued_at") ", " STORE_TIME("a.expires_at") ","         \
    " a.status, a.temporary, a.blocked"
#define ASSIGNMENT_JOINS                                                                   \
    " JOIN products p ON p.id = a.product_id LEFT JOIN packs k ON k.id = a.pack_id"
static const store_field assignment_fields[] = {
    [ASSIGNMENT_ID] = STORE_INT64(store_assignment, id),
    [ASSIGNMENT_LICENSE_ID] = STORE_TEXT(store_assignment, license_id),
    [ASSIGNMENT_PACK_ID] = STORE_TEXT(store_assignment, pack_id),
    [ASSIGNMENT_CUSTOMER_ID] = STORE_TEXT(store_assignment, customer_id),
    [ASSIGNMENT_CLIENT_ID] = STORE_TEXT(store_assignment, client_id),
    [ASSIGNMENT_PRODUCT] = STORE_TEXT(store_assignment, product),
    [ASSIGNMENT_VERSION] = STORE_TEXT(store_assignment, version),
    [ASSIGNMENT_PLATFORM] = STORE_TEXT(store_assignment, platform),
    [ASSIGNMENT_ISSUED_AT] = STORE_TEXT(store_assignment, issued_at),
    [ASSIGNMENT_EXPIRES_AT] = STORE_TEXT(store_assignment, expires_at),
    [ASSIGNMENT_STATUS] = STORE_TEXT(store_assignment, status),
    [ASSIGNMENT_TEMPORARY] = STORE_BOOL(store_assignment, temporary),
    [ASSIGNMENT_BLOCKED] = STORE_BOOL(store_assignment, blocked),
};
static const store_rowtype assignment_row = STORE_ROWTYPE(store_assignment, assignment_fields);

/* Absent filters are NULL parameters, which the planner folds away. */
static const store_sql Q_ASSIGNMENT_LIST = {
    "assignment_list",
    "SELECT " ASSIGNMENT_COLUMNS " FROM assignments a" ASSIGNMENT_JOINS
    " WHERE a.vendor_id = $1 AND a.id > $2"
    " AND ($4::uuid IS NULL OR a.customer_id = $4::uuid)"
    " AND ($5::text IS NULL OR a.client_id = $5::text)"
    " AND ($6::text IS NULL OR a.pack_id ="
    "  (SELECT id FROM packs WHERE vendor_id = $1 AND pack_id = $6::text))"
    " ORDER BY a.id LIMIT $3"};
static const store_sql Q_ASSIGNMENT_BLOCK = {
    "assignment_block", "WITH a AS (UPDATE assignments SET blocked = $3"
                        "  WHERE vendor_id = $1 AND license_id = $2 RETURNING *)"
                        " SELECT " ASSIGNMENT_COLUMNS " FROM a" ASSIGNMENT_JOINS};
/* An activation key of a group key in the same shape (the app is the
 * client; no pack, never temporary). */
static const store_sql Q_ACTIVATION_BLOCK = {
    "activation_block", "WITH a AS (UPDATE activations SET blocked = $3"
                        "  WHERE vendor_id = $1 AND license_id = $2 RETURNING *)"
                        " SELECT a.id, a.license_id, NULL, a.customer_id, a.app_id, p.code,"
                        " p.version, 'any', " STORE_TIME("a.issued_at") ", "
                        STORE_TIME("a.expires_at") ", 'active', false, a.blocked"
                        " FROM a JOIN products p ON p.id = a.product_id"};

/* The seat of a pack licence goes back to its pack, and its serial to the
 * pack's free serials, in the statement that deactivates the licence. */
static const store_sql Q_ASSIGNMENT_DEACTIVATE = {
    "assignment_deactivate",
    "WITH a AS (UPDATE assignments SET status = 'deactivated', deactivated_at = now()"
    "  WHERE vendor_id = $1 AND license_id = $2 AND ($3::uuid IS NULL OR customer_id = $3::uuid)"
    "  AND status <> 'deactivated' RETURNING *),"
    " seat AS (UPDATE packs s SET assigned = s.assigned - 1,"
    "  free_serials = ARRAY(SELECT f FROM unnest(s.free_serials || a.serial) f ORDER BY f)"
    "  FROM a WHERE s.id = a.pack_id)"
    " SELECT " ASSIGNMENT_COLUMNS " FROM a" ASSIGNMENT_JOINS};
static const store_sql Q_ASSIGNMENT_FIND = {
    "assignment_find", "SELECT 1 FROM assignments WHERE vendor_id = $1 AND license_id = $2"
                       " AND ($3::uuid IS NULL OR customer_id = $3::uuid)"};

int store_assignment_list(const char *vendor_id, const store_assignment_filter *f,
                          long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[6] = {vendor_id, a, l, f->customer_id, f->client_id, f->pack_id};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_ASSIGNMENT_LIST, 6, params, &assignment_row, limit,
                            ASSIGNMENT_ID, page);
}

struct block_ctx {
    const store_actor *who;
    const char *license_id;
    int blocked;
    store_assignment *out;
};

/* A pack or temporary licence, else an activation key by that id. */
static int block_tx(void *p)
{
    struct block_ctx *c = p;
    const char *params[3] = {c->who->vendor_id, c->license_id, c->blocked ? "true" : "false"};
    int rc = store_fetch_row(&Q_ASSIGNMENT_BLOCK, 3, params, 0, &assignment_row, c->out);
    if (rc == LICD_ERR_NOT_FOUND)
        rc = store_fetch_row(&Q_ACTIVATION_BLOCK, 3, params, 0, &assignment_row, c->out);
    if (rc != LICD_OK)
        return rc;
    return store_audit(c->who, c->blocked ? "block" : "unblock", "license", c->out->license_id,
                       NULL);
}

int store_assignment_set_blocked(const store_actor *who, const char *license_id, int blocked,
                                 store_assignment *out)
{
    struct block_ctx c = {who, license_id, blocked, out};
    int rc = store_tx(block_tx, &c);
    if (rc == LICD_OK)
        store_caches_forget(STORE_CACHE_LICENSES);
    return rc;
}

struct deactivate_ctx {
    const store_actor *who;
    const char *customer_id, *license_id;
};

/* Deactivates the licence, or finds it deactivated already (nothing to do,
 * nothing audited). */
static int deactivate_tx(void *p)
{
    struct deactivate_ctx *c = p;
    const char *params[3] = {c->who->vendor_id, c->license_id, c->customer_id};
    store_assignment a;
    PGresult *res = NULL;
    cJSON *details;
    int rc = store_fetch_row(&Q_ASSIGNMENT_DEACTIVATE, 3, params, 0, &assignment_row, &a);

    if (rc == LICD_ERR_NOT_FOUND) {
        rc = store_exec_row(&Q_ASSIGNMENT_FIND, 3, params, 0, &res);
        PQclear(res);
        return rc;
    }
    if (rc != LICD_OK)
        return rc;
    details = cJSON_CreateObject();
    rc = details && cJSON_AddStringToObject(details, "client_id", a.client_id) &&
                 json_add_string_or_null(details, "pack_id", a.pack_id)
             ? store_audit(c->who, "deactivate", "license", a.license_id, details)
             : LICD_ERR_NOMEM;
    cJSON_Delete(details);
    return rc;
}

int store_assignment_deactivate(const store_actor *who, const char *customer_id,
                                const char *license_id)
{
    struct deactivate_ctx c = {who, customer_id, license_id};
    int rc = store_tx(deactivate_tx, &c);
    if (rc == LICD_OK)
        store_caches_forget(STORE_CACHE_LICENSES);
    return rc;
}
