/* SQL for usage reports (see usage.h). */
#include "store/usage.h"

#include "store/caches.h"
#include "store/sql.h"

/* The vendor's licence $2 among activations (a) and pack or temporary licences (s). */
#define ACTIVATION_LICENSE " FROM activations a WHERE a.vendor_id = $1 AND a.license_id = $2"
#define PACK_LICENSE " FROM assignments s WHERE s.vendor_id = $1 AND s.license_id = $2"
#define LICENSE_KNOWN "EXISTS (SELECT 1" ACTIVATION_LICENSE ") OR EXISTS (SELECT 1" PACK_LICENSE ")"

/* The resource limits (a jsonb object) of the vendor's licence $2: an
 * activation key's from its group key for its product, a pack licence's from
 * the pack's attributes. */
#define LICENSE_LIMITS                                                                     \
    "coalesce((SELECT g.limits -> p.code FROM activations a"                               \
    "   JOIN group_keys g ON g.id = a.group_key_id JOIN products p ON p.id = a.product_id" \
    "   WHERE a.vendor_id = $1 AND a.license_id = $2),"                                    \
    "  (SELECT k.attributes -> 'limits' FROM assignments s JOIN packs k ON k.id = s.pack_id" \
    "   WHERE s.vendor_id = $1 AND s.license_id = $2), '{}')"

enum { LIMITS_KNOWN, LIMITS_JSON };
static const store_sql Q_USAGE_LIMITS = {
    "usage_limits", "SELECT " LICENSE_KNOWN ", " LICENSE_LIMITS "::text"};

/* The first metric (by name) whose latest value (by at, then arrival) is
 * above its numeric limit. */
enum { EXCESS_METRIC, EXCESS_VALUE, EXCESS_LIMIT };
static const store_sql Q_USAGE_OVER_LIMIT = {
    "usage_over_limit",
    "SELECT l.key, r.value, l.value::float8"
    " FROM jsonb_each((SELECT CASE WHEN jsonb_typeof(x) = 'object' THEN x ELSE '{}' END"
    "  FROM (SELECT " LICENSE_LIMITS " AS x) o)) l"
    " CROSS JOIN LATERAL (SELECT value FROM usage_records WHERE vendor_id = $1"
    "  AND license_id = $2 AND metric = l.key ORDER BY at DESC, id DESC LIMIT 1) r"
    " WHERE r.value > CASE WHEN jsonb_typeof(l.value) = 'number' THEN l.value::float8 END"
    " ORDER BY l.key LIMIT 1"};
static const store_field excess_fields[] = {
    [EXCESS_METRIC] = STORE_TEXT(store_usage_excess, metric),
    [EXCESS_VALUE] = STORE_DOUBLE(store_usage_excess, value),
    [EXCESS_LIMIT] = STORE_DOUBLE(store_usage_excess, limit),
};
static const store_rowtype excess_row = STORE_ROWTYPE(store_usage_excess, excess_fields);

static const store_sql Q_USAGE_INSERT = {
    "usage_insert", "INSERT INTO usage_records (vendor_id, license_id, metric, value, at)"
                    " SELECT $1, $2, r.metric, r.value, coalesce(to_timestamp(r.at), now())"
                    " FROM jsonb_to_recordset($3::jsonb)"
                    "  AS r(metric text, value double precision, at double precision)"};

enum { KNOWN_ANSWER };
static const store_sql Q_USAGE_KNOWN = {"usage_license_known", "SELECT " LICENSE_KNOWN};

enum { METRIC_NAME, METRIC_COUNT, METRIC_SUM, METRIC_MAX, METRIC_LATEST, METRIC_FIRST_AT,
       METRIC_LAST_AT };
static const store_sql Q_USAGE_AGGREGATE = {
    "usage_aggregate",
    "SELECT metric, count(*), sum(value), max(value),"
    " (array_agg(value ORDER BY at DESC, id DESC))[1],"
    " " STORE_TIME("min(at)") ", " STORE_TIME("max(at)")
    " FROM usage_records WHERE vendor_id = $1 AND license_id = $2"
    " AND ($3::timestamptz IS NULL OR at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR at < $4::timestamptz)"
    " GROUP BY metric ORDER BY metric"};
static const store_field metric_fields[] = {
    [METRIC_NAME] = STORE_TEXT(store_usage_metric, metric),
    [METRIC_COUNT] = STORE_INT64(store_usage_metric, count),
    [METRIC_SUM] = STORE_DOUBLE(store_usage_metric, sum),
    [METRIC_MAX] = STORE_DOUBLE(store_usage_metric, max),
    [METRIC_LATEST] = STORE_DOUBLE(store_usage_metric, latest),
    [METRIC_FIRST_AT] = STORE_TEXT(store_usage_metric, first_at),
    [METRIC_LAST_AT] = STORE_TEXT(store_usage_metric, last_at),
};
static const store_rowtype metric_row = STORE_ROWTYPE(store_usage_metric, metric_fields);

int store_usage_limits(const char *vendor_id, const char *license_id, char **limits_json)
{
    const char *params[2] = {vendor_id, license_id};
    PGresult *res = NULL;
    int rc = store_exec(&Q_USAGE_LIMITS, 2, params, 1, &res);
    *limits_json = NULL;
    if (rc == LICD_OK && !store_col_bool(res, 0, LIMITS_KNOWN))
        rc = LICD_ERR_NOT_FOUND;
    else if (rc == LICD_OK)
        rc = store_col_dup(res, 0, LIMITS_JSON, limits_json);
    PQclear(res);
    return rc;
}

int store_usage_over_limit(const char *vendor_id, const char *license_id, int *over,
                           store_usage_excess *excess)
{
    const char *params[2] = {vendor_id, license_id};
    int rc = store_fetch_row(&Q_USAGE_OVER_LIMIT, 2, params, 1, &excess_row, excess);
    *over = rc == LICD_OK;
    return rc == LICD_ERR_NOT_FOUND ? LICD_OK : rc;
}

struct insert_ctx {
    const char *vendor_id, *license_id;
    const char *const *batches;
    size_t nbatches;
    const char *over_limit;
};

/* usage.over_limit, one event a metric, in the report's transaction. */
static const store_sql Q_USAGE_OVER_EVENT = {
    "usage_over_event",
    "INSERT INTO events (vendor_id, type, data)"
    " SELECT $1::uuid, 'usage.over_limit', jsonb_build_object('license_id', $2::text,"
    " 'metric', o.metric, 'value', o.value, 'limit', o.\"limit\")"
    " FROM jsonb_to_recordset($3::jsonb) AS o(metric text, value float8, \"limit\" float8)"};

/* A pack licence's recovered answer may be kept by every node; new usage
 * can put it over a limit, so the report announces it (migration 0010's
 * payload) in its own transaction. */
static const store_sql Q_USAGE_NOTIFY = {
    "usage_notify", "SELECT pg_notify('licd_cache', 'license:' || customer_id || ':' ||"
                    " product_id || ':' || client_id)"
                    " FROM assignments WHERE vendor_id = $1 AND license_id = $2"};

static int insert_tx(void *p)
{
    struct insert_ctx *c = p;
    const char *params[3] = {c->vendor_id, c->license_id, NULL};
    int rc = LICD_OK;
    for (size_t i = 0; rc == LICD_OK && i < c->nbatches; i++) {
        params[2] = c->batches[i];
        rc = store_run(&Q_USAGE_INSERT, 3, params);
    }
    if (rc == LICD_OK && c->over_limit) {
        params[2] = c->over_limit;
        rc = store_run(&Q_USAGE_OVER_EVENT, 3, params);
    }
    return rc == LICD_OK ? store_run(&Q_USAGE_NOTIFY, 2, params) : rc;
}

int store_usage_insert(const char *vendor_id, const char *license_id,
                       const char *const *batches, size_t nbatches, const char *over_limit)
{
    struct insert_ctx c = {vendor_id, license_id, batches, nbatches, over_limit};
    int rc = nbatches ? store_tx(insert_tx, &c) : LICD_OK;
    if (rc == LICD_OK && nbatches)
        store_caches_forget(STORE_CACHE_LICENSES);
    return rc;
}

int store_usage_license_known(const char *vendor_id, const char *license_id, int *known)
{
    const char *params[2] = {vendor_id, license_id};
    PGresult *res = NULL;
    int rc = store_exec(&Q_USAGE_KNOWN, 2, params, 1, &res);
    *known = rc == LICD_OK && store_col_bool(res, 0, KNOWN_ANSWER);
    PQclear(res);
    return rc;
}

int store_usage_aggregate(const char *vendor_id, const char *license_id, const char *from,
                          const char *to, store_page *page)
{
    const char *params[4] = {vendor_id, license_id, from, to};
    return store_fetch_all(&Q_USAGE_AGGREGATE, 4, params, &metric_row, page);
}
