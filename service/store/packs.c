/* SQL for licence packs: idempotent installation by pack id, serial ranges. */
#include "store/packs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* Over a pack k joined with its product p. */
#define PACK_COLUMNS                                                                        \
    "k.pack_id, k.customer_id, p.code, k.version, k.type, k.quantity, k.assigned,"         \
    " k.begin_serial, " STORE_TIME("k.issued_at") ", " STORE_TIME("k.first_active") ", "   \
    STORE_TIME("k.expires") ", k.platform, k.attributes::text"

#define PACK_BY_ID                                                                          \
    "SELECT " PACK_COLUMNS " FROM packs k JOIN products p ON p.id = k.product_id"          \
    " WHERE k.vendor_id = $1 AND k.pack_id = $2"

/* Reads PACK_COLUMNS; 0 or LICD_ERR_NOMEM (for the attributes text). */
static int fill(store_pack *k, const PGresult *res, int row)
{
    snprintf(k->pack_id, sizeof k->pack_id, "%s", PQgetvalue(res, row, 0));
    snprintf(k->customer_id, sizeof k->customer_id, "%s", PQgetvalue(res, row, 1));
    snprintf(k->product, sizeof k->product, "%s", PQgetvalue(res, row, 2));
    snprintf(k->version, sizeof k->version, "%s", PQgetvalue(res, row, 3));
    snprintf(k->type, sizeof k->type, "%s", PQgetvalue(res, row, 4));
    k->quantity = strtoll(PQgetvalue(res, row, 5), NULL, 10);
    k->assigned = strtoll(PQgetvalue(res, row, 6), NULL, 10);
    k->begin_serial = strtoll(PQgetvalue(res, row, 7), NULL, 10);
    snprintf(k->issued_at, sizeof k->issued_at, "%s", PQgetvalue(res, row, 8));
    snprintf(k->first_active, sizeof k->first_active, "%s", PQgetvalue(res, row, 9));
    snprintf(k->expires, sizeof k->expires, "%s", PQgetvalue(res, row, 10));
    snprintf(k->platform, sizeof k->platform, "%s", PQgetvalue(res, row, 11));
    free(k->attributes_json);
    k->attributes_json = strdup(PQgetvalue(res, row, 12));
    return k->attributes_json ? LICD_OK : LICD_ERR_NOMEM;
}

void store_pack_clear(store_pack *p)
{
    free(p->attributes_json);
    p->attributes_json = NULL;
}

/* The pack by id into out: 0, LICD_ERR_NOT_FOUND or a database error. */
static int get(const char *vendor_id, const char *pack_id, int idempotent, store_pack *out)
{
    const char *params[2] = {vendor_id, pack_id};
    PGresult *res = NULL;
    int rc = store_exec_row(PACK_BY_ID, 2, params, idempotent, &res);
    if (rc == LICD_OK)
        rc = fill(out, res, 0);
    PQclear(res);
    return rc;
}

int store_pack_get(const char *vendor_id, const char *pack_id, store_pack *out)
{
    out->attributes_json = NULL;
    return get(vendor_id, pack_id, 1, out);
}

struct create_ctx {
    const store_actor *who;
    const store_pack_new *in;
    store_pack *out;
    int *created;
};

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
    char product_id[24], quantity[24], serial[24], details[200];
    const char *params[12] = {c->who->vendor_id, in->pack_id,      in->customer_id,
                              product_id,        in->version,      in->type,
                              quantity,          in->begin_serial ? serial : NULL,
                              in->first_active,  in->expires,      in->platform,
                              in->attributes_json};
    PGresult *res = NULL;
    int rc;

    if (!in->begin_serial &&
        (rc = store_run("SELECT pg_advisory_xact_lock(hashtextextended('packs:' || $1, 0))", 1,
                        params)) != LICD_OK)
        return rc;
    snprintf(product_id, sizeof product_id, "%lld", in->product->id);
    snprintf(quantity, sizeof quantity, "%lld", in->quantity);
    snprintf(serial, sizeof serial, "%lld", in->begin_serial);
    rc = store_exec(
        "WITH s AS (SELECT COALESCE($8::bigint, (SELECT COALESCE(max(begin_serial + quantity), 1)"
        "   FROM packs WHERE vendor_id = $1)) AS serial),"
        " k AS (INSERT INTO packs (vendor_id, pack_id, customer_id, product_id, version, type,"
        "   quantity, begin_serial, first_active, expires, platform, attributes)"
        "  SELECT $1, $2, $3, $4, $5, $6, $7::integer, s.serial, $9::timestamptz,"
        "   $10::timestamptz, $11, $12::jsonb FROM s"
        "  WHERE s.serial + $7::integer - 1 <= 999999999999999" /* STORE_SERIAL_MAX */
        "  ON CONFLICT (vendor_id, pack_id) DO NOTHING RETURNING *)"
        " SELECT " PACK_COLUMNS " FROM k JOIN products p ON p.id = k.product_id",
        12, params, 0, &res);
    if (rc == LICD_ERR_CONFLICT && !in->begin_serial)
        rc = LICD_ERR_RETRY;
    if (rc != LICD_OK)
        goto out;
    *c->created = PQntuples(res) == 1;
    if (*c->created) {
        if ((rc = fill(c->out, res, 0)) != LICD_OK)
            goto out;
        snprintf(details, sizeof details,
                 "{\"customer_id\":\"%s\",\"product\":\"%s\",\"quantity\":%lld,"
                 "\"begin_serial\":%lld}",
                 c->out->customer_id, c->out->product, c->out->quantity, c->out->begin_serial);
        rc = store_audit(c->who, "create", "pack", c->out->pack_id, details);
    } else {
        /* Not found: the pack id is new and the serials ran out. */
        rc = get(c->who->vendor_id, in->pack_id, 0, c->out);
        if (rc == LICD_ERR_NOT_FOUND)
            rc = LICD_ERR_CONFLICT;
    }
out:
    PQclear(res);
    return rc;
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
