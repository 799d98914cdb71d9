/* SQL of a site server (see site_server.h). */
#include "store/site_server.h"

#include <stdio.h>

#include "crypto/apikey.h"
#include "store/sql.h"

static const store_sql Q_IMPORT_LOCK = {
    "site_import_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended('site_import:' || $1 || ':' || $2, 0))"};
enum { LAST_SEQUENCE };
static const store_sql Q_IMPORT_LAST = {
    "site_import_last",
    "SELECT sequence FROM site_imports WHERE vendor_id = $1 AND pack_id = $2"};
static const store_sql Q_IMPORT_VENDOR = {
    "site_import_vendor",
    "INSERT INTO vendors (id, name) VALUES ($1::uuid, 'vendor ' || $1::text)"
    " ON CONFLICT (id) DO NOTHING"};
/* $1 customer, $2 vendor, $3 key prefix, $4 key hash (hex). A row when new. */
static const store_sql Q_IMPORT_CUSTOMER = {
    "site_import_customer",
    "WITH c AS (INSERT INTO customers (id, vendor_id, name)"
    "  VALUES ($1::uuid, $2::uuid, 'customer ' || $1::text)"
    "  ON CONFLICT (id) DO NOTHING RETURNING id),"
    " k AS (INSERT INTO customer_keys (customer_id, prefix, key_hash)"
    "  SELECT id, $3, decode($4, 'hex') FROM c)"
    " SELECT id FROM c"};
/* The product: made with the pack's version when new; its name and
 * features follow the vendor's. */
enum { PRODUCT_ID };
static const store_sql Q_IMPORT_PRODUCT = {
    "site_import_product",
    "INSERT INTO products (vendor_id, code, name, version, features)"
    " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (vendor_id, code) DO UPDATE"
    " SET name = EXCLUDED.name, features = EXCLUDED.features RETURNING id"};
/* The pack: site_quantity is the allocation (migration 0019's trigger sets
 * quantity and the seats held back); each pack's serials get a block of
 * 10^8 of their own, so that no quantity makes two ranges overlap. */
static const store_sql Q_IMPORT_PACK = {
    "site_import_pack",
    "INSERT INTO packs (vendor_id, pack_id, customer_id, product_id, version, type, quantity,"
    "  begin_serial, expires, platform, site_quantity)"
    " SELECT $1, $2, $3, $4, $5, $6, greatest($7::integer, 1),"
    "  coalesce(max(begin_serial), 1 - 100000000) + 100000000, $8::timestamptz, $9, $7::integer"
    "  FROM packs WHERE vendor_id = $1"
    " ON CONFLICT (vendor_id, pack_id) DO UPDATE"
    " SET site_quantity = EXCLUDED.site_quantity, expires = EXCLUDED.expires"};
static const store_sql Q_IMPORT_RECORD = {
    "site_import_record",
    "INSERT INTO site_imports (vendor_id, pack_id, sequence, quantity, file)"
    " VALUES ($1, $2, $3::bigint, $4::integer, $5) ON CONFLICT (vendor_id, pack_id) DO UPDATE"
    " SET sequence = EXCLUDED.sequence, quantity = EXCLUDED.quantity, file = EXCLUDED.file,"
    " imported_at = now()"};
/* Kept answers of get_key (temporary licences among them) are forgotten by
 * every serving process once this commits. */
static const store_sql Q_IMPORT_NOTIFY = {
    "site_import_notify", "SELECT pg_notify('licd_cache', 'license:*')"};

struct import_ctx {
    const store_site_import_in *in;
    char *key;
    size_t key_len;
    int *created;
    long long *last_seq;
};

static int import_tx(void *p)
{
    struct import_ctx *c = p;
    const store_site_import_in *in = c->in;
    char seq[24], qty[24], product_id[24];
    const char *pair[2] = {in->vendor_id, in->pack_id};
    const char *product[5] = {in->vendor_id, in->product, in->product_name, in->version,
                              in->features_json};
    const char *pack[9] = {in->vendor_id, in->pack_id, in->customer_id, product_id, in->version,
                           in->type, qty, in->expires, in->platform};
    const char *record[5] = {in->vendor_id, in->pack_id, seq, qty, in->file};
    crypto_apikey k;
    PGresult *res = NULL;
    int rc;

    snprintf(seq, sizeof seq, "%lld", in->sequence);
    snprintf(qty, sizeof qty, "%lld", in->quantity);
    if ((rc = store_run(&Q_IMPORT_LOCK, 2, pair)) != LICD_OK ||
        (rc = store_exec(&Q_IMPORT_LAST, 2, pair, 0, &res)) != LICD_OK)
        goto out;
    if (PQntuples(res) > 0 && store_col_int(res, 0, LAST_SEQUENCE) >= in->sequence) {
        *c->last_seq = store_col_int(res, 0, LAST_SEQUENCE);
        rc = LICD_ERR_CONFLICT;
        goto out;
    }
    PQclear(res);
    res = NULL;
    if ((rc = crypto_apikey_new(APIKEY_CUSTOMER, &k)) != LICD_OK)
        goto out;
    {
        const char *customer[4] = {in->customer_id, in->vendor_id, k.prefix, k.hash_hex};
        if ((rc = store_run(&Q_IMPORT_VENDOR, 1, pair)) != LICD_OK ||
            (rc = store_exec(&Q_IMPORT_CUSTOMER, 4, customer, 0, &res)) != LICD_OK) {
            crypto_apikey_wipe(&k);
            goto out;
        }
    }
    *c->created = PQntuples(res) > 0;
    if (*c->created)
        snprintf(c->key, c->key_len, "%s", k.plain);
    crypto_apikey_wipe(&k);
    PQclear(res);
    res = NULL;
    if ((rc = store_exec_row(&Q_IMPORT_PRODUCT, 5, product, 0, &res)) != LICD_OK)
        goto out;
    snprintf(product_id, sizeof product_id, "%lld", store_col_int(res, 0, PRODUCT_ID));
    if ((rc = store_run(&Q_IMPORT_PACK, 9, pack)) != LICD_OK ||
        (rc = store_run(&Q_IMPORT_RECORD, 5, record)) != LICD_OK)
        goto out;
    rc = store_run(&Q_IMPORT_NOTIFY, 0, NULL);
out:
    PQclear(res);
    return rc;
}

int store_site_import(const store_site_import_in *in, char *customer_key, size_t key_len,
                      int *customer_created, long long *last_seq)
{
    struct import_ctx c = {in, customer_key, key_len, customer_created, last_seq};
    *customer_created = 0;
    *last_seq = 0;
    if (key_len)
        customer_key[0] = '\0';
    return store_tx(import_tx, &c);
}

/* Whole seconds, so that a period ends exactly where the next begins. */
enum { P_SEQ, P_PREV, P_FROM, P_TO, P_PEAK, P_DENIALS, P_GRANTS, P_DENIALS_TOTAL };
static const store_field period_fields[] = {
    [P_SEQ] = STORE_INT64(store_usage_period, seq),
    [P_PREV] = STORE_TEXT(store_usage_period, prev),
    [P_FROM] = STORE_EPOCH(store_usage_period, from),
    [P_TO] = STORE_EPOCH(store_usage_period, to),
    [P_PEAK] = STORE_INT64(store_usage_period, peak_in_use),
    [P_DENIALS] = STORE_INT64(store_usage_period, denials),
    [P_GRANTS] = STORE_INT64(store_usage_period, grants),
    [P_DENIALS_TOTAL] = STORE_INT64(store_usage_period, denials_total),
};
static const store_rowtype period_row = STORE_ROWTYPE(store_usage_period, period_fields);
static const store_sql Q_USAGE_PERIOD = {
    "site_usage_period",
    "WITH last AS (SELECT seq, hash, period_to, denials_total FROM site_exports"
    "  ORDER BY seq DESC LIMIT 1),"
    " t AS (SELECT date_trunc('second', now()) AS now_s),"
    " b AS (SELECT least(coalesce((SELECT period_to FROM last),"
    "  (SELECT min(issued_at) FROM packs WHERE site_quantity IS NOT NULL), t.now_s), t.now_s)"
    "  AS start, t.now_s FROM t),"
    " d AS (SELECT coalesce(sum(denials), 0) AS total,"
    "  coalesce(sum(peak_in_use) FILTER (WHERE site_quantity IS NOT NULL), 0) AS peak FROM packs)"
    " SELECT coalesce((SELECT seq FROM last), 0) + 1, coalesce((SELECT hash FROM last), ''),"
    "  floor(extract(epoch FROM b.start))::bigint, floor(extract(epoch FROM b.now_s))::bigint,"
    "  d.peak, greatest(d.total - coalesce((SELECT denials_total FROM last), 0), 0),"
    "  (SELECT count(*) FROM assignments WHERE issued_at > b.start AND issued_at <= b.now_s)"
    "  + (SELECT count(*) FROM leases WHERE created_at > b.start AND created_at <= b.now_s),"
    "  d.total FROM b, d"};
static const store_sql Q_USAGE_SAVE = {
    "site_usage_save",
    "INSERT INTO site_exports (seq, report, hash, period_from, period_to, denials_total)"
    " VALUES ($1::bigint, $2, $3, to_timestamp($4::bigint), to_timestamp($5::bigint),"
    " $6::bigint)"};
/* The next period's peaks start from the seats in use now. */
static const store_sql Q_USAGE_PEAKS = {
    "site_usage_peaks",
    "UPDATE packs SET peak_in_use = assigned WHERE site_quantity IS NOT NULL"};

int store_site_usage_period(store_usage_period *out)
{
    return store_fetch_row(&Q_USAGE_PERIOD, 0, NULL, 1, &period_row, out);
}

struct save_ctx {
    const store_usage_period *p;
    const char *report, *hash;
};

static int save_tx(void *arg)
{
    struct save_ctx *c = arg;
    char seq[24], from[24], to[24], total[24];
    const char *params[6] = {seq, c->report, c->hash, from, to, total};
    int rc;
    snprintf(seq, sizeof seq, "%lld", c->p->seq);
    snprintf(from, sizeof from, "%lld", (long long)c->p->from);
    snprintf(to, sizeof to, "%lld", (long long)c->p->to);
    snprintf(total, sizeof total, "%lld", c->p->denials_total);
    if ((rc = store_run(&Q_USAGE_SAVE, 6, params)) != LICD_OK)
        return rc;
    return store_run(&Q_USAGE_PEAKS, 0, NULL);
}

int store_site_usage_saved(const store_usage_period *p, const char *report, const char *hash)
{
    struct save_ctx c = {p, report, hash};
    return store_tx(save_tx, &c);
}
