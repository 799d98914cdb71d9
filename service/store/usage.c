/* SQL for usage reports (see usage.h). */
#include "store/usage.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* The vendor's licence $2 among activations (a) and pack or temporary licences (s). */
#define ACTIVATION_LICENSE " FROM activations a WHERE a.vendor_id = $1 AND a.license_id = $2"
#define PACK_LICENSE " FROM assignments s WHERE s.vendor_id = $1 AND s.license_id = $2"
#define LICENSE_KNOWN "EXISTS (SELECT 1" ACTIVATION_LICENSE ") OR EXISTS (SELECT 1" PACK_LICENSE ")"

int store_usage_limits(const char *vendor_id, const char *license_id, char **limits_json)
{
    const char *params[2] = {vendor_id, license_id};
    PGresult *res = NULL;
    int rc = store_exec(
        "SELECT " LICENSE_KNOWN ","
        " coalesce((SELECT g.limits -> p.code FROM activations a"
        "   JOIN group_keys g ON g.id = a.group_key_id JOIN products p ON p.id = a.product_id"
        "   WHERE a.vendor_id = $1 AND a.license_id = $2),"
        "  (SELECT k.attributes -> 'limits' FROM assignments s JOIN packs k ON k.id = s.pack_id"
        "   WHERE s.vendor_id = $1 AND s.license_id = $2), '{}')::text",
        2, params, 1, &res);
    *limits_json = NULL;
    if (rc == LICD_OK && PQgetvalue(res, 0, 0)[0] != 't')
        rc = LICD_ERR_NOT_FOUND;
    else if (rc == LICD_OK && !(*limits_json = strdup(PQgetvalue(res, 0, 1))))
        rc = LICD_ERR_NOMEM;
    PQclear(res);
    return rc;
}

struct insert_ctx {
    const char *vendor_id, *license_id;
    const char *const *batches;
    size_t nbatches;
};

static int insert_tx(void *p)
{
    struct insert_ctx *c = p;
    int rc = LICD_OK;
    for (size_t i = 0; rc == LICD_OK && i < c->nbatches; i++) {
        const char *params[3] = {c->vendor_id, c->license_id, c->batches[i]};
        rc = store_run("INSERT INTO usage_records (vendor_id, license_id, metric, value, at)"
                       " SELECT $1, $2, r.metric, r.value,"
                       "  coalesce(to_timestamp(r.at), now())"
                       " FROM jsonb_to_recordset($3::jsonb)"
                       "  AS r(metric text, value double precision, at double precision)",
                       3, params);
    }
    return rc;
}

int store_usage_insert(const char *vendor_id, const char *license_id,
                       const char *const *batches, size_t nbatches)
{
    struct insert_ctx c = {vendor_id, license_id, batches, nbatches};
    return nbatches ? store_tx(insert_tx, &c) : LICD_OK;
}

int store_usage_license_known(const char *vendor_id, const char *license_id, int *known)
{
    const char *params[2] = {vendor_id, license_id};
    PGresult *res = NULL;
    int rc = store_exec("SELECT " LICENSE_KNOWN, 2, params, 1, &res);
    *known = rc == LICD_OK && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return rc;
}

int store_usage_aggregate(const char *vendor_id, const char *license_id, const char *from,
                          const char *to, PGresult **res)
{
    const char *params[4] = {vendor_id, license_id, from, to};
    return store_exec("SELECT metric, count(*), sum(value), max(value),"
                      " (array_agg(value ORDER BY at DESC, id DESC))[1],"
                      " " STORE_TIME("min(at)") ", " STORE_TIME("max(at)")
                      " FROM usage_records WHERE vendor_id = $1 AND license_id = $2"
                      " AND ($3::timestamptz IS NULL OR at >= $3::timestamptz)"
                      " AND ($4::timestamptz IS NULL OR at < $4::timestamptz)"
                      " GROUP BY metric ORDER BY metric",
                      4, params, 1, res);
}
