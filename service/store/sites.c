/* SQL for site allocations, site keys and the chain of usage reports (see
 * sites.h). */
#include "store/sites.h"

#include <stdio.h>

#include "store/leases.h"
#include "store/sql.h"

/* The pack locked against grants and other allocations, with this site's
 * allocation of it now (0 when none). */
enum { LOCK_ID, LOCK_QUANTITY, LOCK_ASSIGNED, LOCK_ALLOCATED, LOCK_OLD };
static const store_sql Q_ALLOCATION_LOCK = {
    "allocation_lock",
    "SELECT k.id, k.quantity, k.assigned, k.allocated, coalesce(a.quantity, 0)"
    " FROM packs k LEFT JOIN site_allocations a ON a.pack_id = k.id AND a.site_id = $3"
    " WHERE k.vendor_id = $1 AND k.pack_id = $2 FOR UPDATE OF k"};
static const store_sql Q_SITE_ENSURE = {
    "site_ensure", "INSERT INTO sites (vendor_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
/* $1 vendor, $2 site, $3 pack row id, $4 quantity, $5 the old quantity. */
enum { ALLOC_ID, ALLOC_SITE, ALLOC_PACK, ALLOC_QUANTITY, ALLOC_SEQUENCE, ALLOC_CREATED };
static const store_field alloc_fields[] = {
    [ALLOC_ID] = STORE_TEXT(store_allocation, id),
    [ALLOC_SITE] = STORE_TEXT(store_allocation, site_id),
    [ALLOC_PACK] = STORE_TEXT(store_allocation, pack_id),
    [ALLOC_QUANTITY] = STORE_INT64(store_allocation, quantity),
    [ALLOC_SEQUENCE] = STORE_INT64(store_allocation, sequence),
};
static const store_rowtype alloc_row = STORE_ROWTYPE(store_allocation, alloc_fields);
static const store_sql Q_ALLOCATION_SET = {
    "allocation_set",
    "WITH k AS (UPDATE packs SET allocated = allocated - $5::integer + $4::integer"
    "  WHERE id = $3 RETURNING pack_id),"
    " a AS (INSERT INTO site_allocations (vendor_id, site_id, pack_id, quantity)"
    "  VALUES ($1, $2, $3, $4::integer) ON CONFLICT (pack_id, site_id) DO UPDATE"
    "  SET quantity = EXCLUDED.quantity, sequence = site_allocations.sequence + 1,"
    "  updated_at = now() RETURNING id, site_id, quantity, sequence, xmax = 0 AS created)"
    " SELECT a.id, a.site_id, k.pack_id, a.quantity, a.sequence, a.created FROM a, k"};
static const store_sql Q_SITE_ALLOCATIONS = {
    "site_allocations",
    "SELECT a.id, a.site_id, k.pack_id, a.quantity, a.sequence FROM site_allocations a"
    " JOIN packs k ON k.id = a.pack_id WHERE a.vendor_id = $1 AND a.site_id = $2"
    " ORDER BY a.created_at, a.id"};

enum { SITE_ID, SITE_JWKS, SITE_LAST_SEQ, SITE_LAST_HASH, SITE_LAST_REPORT };
static const store_field site_fields[] = {
    [SITE_ID] = STORE_TEXT(store_site, site_id),
    [SITE_JWKS] = STORE_DUP(store_site, jwks_json),
    [SITE_LAST_SEQ] = STORE_INT64(store_site, last_seq),
    [SITE_LAST_HASH] = STORE_TEXT(store_site, last_hash),
    [SITE_LAST_REPORT] = STORE_DUP(store_site, last_report_json),
};
static const store_rowtype site_row = STORE_ROWTYPE(store_site, site_fields);
static const store_sql Q_SITE_GET = {
    "site_get", "SELECT site_id, jwks::text, last_seq, last_hash, last_report::text FROM sites"
                " WHERE vendor_id = $1 AND site_id = $2"};
enum { KEYS_CREATED };
static const store_sql Q_SITE_PUT_KEYS = {
    "site_put_keys",
    "INSERT INTO sites (vendor_id, site_id, jwks) VALUES ($1, $2, $3::jsonb)"
    " ON CONFLICT (vendor_id, site_id) DO UPDATE SET jwks = EXCLUDED.jwks, updated_at = now()"
    " RETURNING xmax = 0"};
/* $1 vendor, $2 site, $3 seq, $4 prev, $5 hash, $6 report, $7 claims, $8 figures. */
static const store_sql Q_SITE_REPORT_ADD = {
    "site_report_add",
    "WITH s AS (UPDATE sites SET last_seq = $3::bigint, last_hash = $5,"
    "  last_report = $8::jsonb, updated_at = now()"
    "  WHERE vendor_id = $1 AND site_id = $2 AND last_seq = $3::bigint - 1 AND last_hash = $4"
    "  RETURNING vendor_id)"
    " INSERT INTO site_reports (vendor_id, site_id, seq, report, claims)"
    " SELECT $1, $2, $3::bigint, $6, $7::jsonb FROM s RETURNING seq"};

struct set_ctx {
    const store_actor *who;
    const char *pack_id, *site_id;
    long long quantity, *most;
    store_allocation *out;
    int *created;
};

static int set_tx(void *p)
{
    struct set_ctx *c = p;
    const char *lock[3] = {c->who->vendor_id, c->pack_id, c->site_id};
    char id[24], quantity[24], old[24];
    const char *params[5] = {c->who->vendor_id, c->site_id, id, quantity, old};
    long long total, assigned, allocated, was;
    PGresult *res = NULL;
    cJSON *details = NULL;
    int rc = store_exec_row(&Q_ALLOCATION_LOCK, 3, lock, 0, &res);

    if (rc != LICD_OK)
        goto out;
    snprintf(id, sizeof id, "%lld", store_col_int(res, 0, LOCK_ID));
    total = store_col_int(res, 0, LOCK_QUANTITY);
    assigned = store_col_int(res, 0, LOCK_ASSIGNED);
    allocated = store_col_int(res, 0, LOCK_ALLOCATED);
    was = store_col_int(res, 0, LOCK_OLD);
    PQclear(res);
    res = NULL;
    if (c->quantity > was && assigned + allocated - was + c->quantity > total) {
        *c->most = total - assigned - allocated + was;
        if (*c->most < was)
            *c->most = was;
        rc = LICD_ERR_NOT_ENOUGH_FREE_SEATS;
        goto out;
    }
    snprintf(quantity, sizeof quantity, "%lld", c->quantity);
    snprintf(old, sizeof old, "%lld", was);
    if ((rc = store_run(&Q_SITE_ENSURE, 2, params)) != LICD_OK ||
        (rc = store_exec_row(&Q_ALLOCATION_SET, 5, params, 0, &res)) != LICD_OK ||
        (rc = store_fill(&alloc_row, res, 0, c->out)) != LICD_OK)
        goto out;
    *c->created = store_col_bool(res, 0, ALLOC_CREATED);
    rc = LICD_ERR_NOMEM;
    if ((details = cJSON_CreateObject()) &&
        cJSON_AddStringToObject(details, "site_id", c->site_id) &&
        cJSON_AddStringToObject(details, "pack_id", c->pack_id) &&
        cJSON_AddNumberToObject(details, "quantity", (double)c->quantity) &&
        cJSON_AddNumberToObject(details, "sequence", (double)c->out->sequence))
        rc = store_audit(c->who, "allocate", "pack", c->pack_id, details);
out:
    cJSON_Delete(details);
    PQclear(res);
    return rc;
}

int store_allocation_set(const store_actor *who, const char *pack_id, const char *site_id,
                         long long quantity, store_allocation *out, int *created,
                         long long *most)
{
    struct set_ctx c = {who, pack_id, site_id, quantity, most, out, created};
    /* Lapsed leases hold no seat: release them before judging the free pool. */
    int rc = store_lease_reclaim_pack(who->vendor_id, pack_id);
    *created = 0;
    *most = 0;
    return rc != LICD_OK ? rc : store_tx(set_tx, &c);
}

int store_site_get(const char *vendor_id, const char *site_id, store_site *out)
{
    const char *params[2] = {vendor_id, site_id};
    out->jwks_json = out->last_report_json = NULL;
    return store_fetch_row(&Q_SITE_GET, 2, params, 1, &site_row, out);
}

void store_site_clear(store_site *s)
{
    store_clear(&site_row, s);
}

int store_site_allocations(const char *vendor_id, const char *site_id, store_page *page)
{
    const char *params[2] = {vendor_id, site_id};
    return store_fetch_all(&Q_SITE_ALLOCATIONS, 2, params, &alloc_row, page);
}

struct keys_ctx {
    const store_actor *who;
    const char *site_id, *jwks;
    int *created;
};

static int keys_tx(void *p)
{
    struct keys_ctx *c = p;
    const char *params[3] = {c->who->vendor_id, c->site_id, c->jwks};
    PGresult *res = NULL;
    cJSON *details = NULL;
    int rc = store_exec_row(&Q_SITE_PUT_KEYS, 3, params, 0, &res);
    if (rc == LICD_OK) {
        *c->created = store_col_bool(res, 0, KEYS_CREATED);
        rc = (details = cJSON_CreateObject()) ? store_audit(c->who, "register_keys", "site",
                                                            c->site_id, details)
                                              : LICD_ERR_NOMEM;
    }
    cJSON_Delete(details);
    PQclear(res);
    return rc;
}

int store_site_put_keys(const store_actor *who, const char *site_id, const char *jwks_json,
                        int *created)
{
    struct keys_ctx c = {who, site_id, jwks_json, created};
    *created = 0;
    return store_tx(keys_tx, &c);
}

int store_site_report_add(const char *vendor_id, const char *site_id, long long seq,
                          const char *prev, const char *hash, const char *report,
                          const char *claims_json, const char *figures_json)
{
    char s[24];
    const char *params[8] = {vendor_id, site_id, s, prev, hash, report, claims_json,
                             figures_json};
    PGresult *res = NULL;
    int rc;
    snprintf(s, sizeof s, "%lld", seq);
    rc = store_exec_row(&Q_SITE_REPORT_ADD, 8, params, 0, &res);
    PQclear(res);
    /* No row: the chain moved meanwhile; a key taken twice (23505) alike. */
    return rc == LICD_ERR_NOT_FOUND || rc == LICD_ERR_CONFLICT ? LICD_ERR_REPORT_OUT_OF_ORDER : rc;
}
