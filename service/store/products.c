/* SQL for products and their upgrade paths. */
#include "store/products.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

#define PRODUCT_COLUMNS                                                                    \
    "p.id, p.vendor_id, p.code, p.name, p.version, p.scheme, p.features::text,"           \
    " p.require_challenge, " STORE_TIME("p.created_at")
#define PATH_COLUMNS "u.from_version, u.to_version, " STORE_TIME("u.created_at")

/* Reads PRODUCT_COLUMNS; 0 or LICD_ERR_NOMEM (for the features text). */
static int fill(store_product *p, const PGresult *res, int row)
{
    p->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    snprintf(p->vendor_id, sizeof p->vendor_id, "%s", PQgetvalue(res, row, 1));
    snprintf(p->code, sizeof p->code, "%s", PQgetvalue(res, row, 2));
    snprintf(p->name, sizeof p->name, "%s", PQgetvalue(res, row, 3));
    snprintf(p->version, sizeof p->version, "%s", PQgetvalue(res, row, 4));
    snprintf(p->scheme, sizeof p->scheme, "%s", PQgetvalue(res, row, 5));
    free(p->features_json);
    p->features_json = strdup(PQgetvalue(res, row, 6));
    p->require_challenge = strcmp(PQgetvalue(res, row, 7), "t") == 0;
    snprintf(p->created_at, sizeof p->created_at, "%s", PQgetvalue(res, row, 8));
    return p->features_json ? LICD_OK : LICD_ERR_NOMEM;
}

void store_product_clear(store_product *p)
{
    free(p->features_json);
    p->features_json = NULL;
}

struct create_ctx {
    const store_actor *who;
    const store_product_new *in;
    store_product *out;
};

static int create_tx(void *p)
{
    struct create_ctx *c = p;
    const store_product_new *in = c->in;
    const char *params[7] = {c->who->vendor_id, in->code,          in->name,
                             in->version,       in->scheme,        in->features_json,
                             in->require_challenge ? "true" : "false"};
    PGresult *res = NULL;
    int rc = store_exec("WITH p AS (INSERT INTO products (vendor_id, code, name, version, scheme,"
                        "  features, require_challenge) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)"
                        "  RETURNING *)"
                        " SELECT " PRODUCT_COLUMNS " FROM p",
                        7, params, 0, &res);
    if (rc == LICD_OK && (rc = fill(c->out, res, 0)) == LICD_OK)
        rc = store_audit(c->who, "create", "product", c->out->code, NULL);
    PQclear(res);
    return rc;
}

int store_product_create(const store_actor *who, const store_product_new *in, store_product *out)
{
    struct create_ctx c = {who, in, out};
    out->features_json = NULL;
    return store_tx(create_tx, &c);
}

int store_product_get(const char *vendor_id, const char *code, store_product *out)
{
    const char *params[2] = {vendor_id, code};
    PGresult *res = NULL;
    int rc = store_exec_row("SELECT " PRODUCT_COLUMNS " FROM products p"
                        " WHERE p.vendor_id = $1 AND p.code = $2",
                        2, params, 1, &res);
    out->features_json = NULL;
    if (rc == LICD_OK)
        rc = fill(out, res, 0);
    PQclear(res);
    return rc;
}

struct path_ctx {
    const store_actor *who;
    const store_product *product;
    const char *from, *to;
    store_upgrade_path *out;
    int *created;
};

static void fill_path(store_upgrade_path *u, const PGresult *res, int row)
{
    snprintf(u->from_version, sizeof u->from_version, "%s", PQgetvalue(res, row, 0));
    snprintf(u->to_version, sizeof u->to_version, "%s", PQgetvalue(res, row, 1));
    snprintf(u->created_at, sizeof u->created_at, "%s", PQgetvalue(res, row, 2));
}

/* Inserts the path unless it exists; a path posted again is read back as
 * it was first stored, and only a new one is audited. */
static int path_tx(void *p)
{
    struct path_ctx *c = p;
    char id[24], object[200];
    const char *params[3] = {id, c->from, c->to};
    PGresult *res = NULL;
    int rc;

    snprintf(id, sizeof id, "%lld", c->product->id);
    rc = store_exec("WITH u AS (INSERT INTO upgrade_paths (product_id, from_version, to_version)"
                    "  VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING *)"
                    " SELECT " PATH_COLUMNS " FROM u",
                    3, params, 0, &res);
    *c->created = rc == LICD_OK && PQntuples(res) == 1;
    if (rc == LICD_OK && !*c->created) {
        PQclear(res);
        rc = store_exec("SELECT " PATH_COLUMNS " FROM upgrade_paths u WHERE u.product_id = $1"
                        " AND u.from_version = $2 AND u.to_version = $3",
                        3, params, 0, &res);
        if (rc == LICD_OK && PQntuples(res) != 1)
            rc = LICD_ERR_RETRY; /* removed in between: try again */
    }
    if (rc == LICD_OK)
        fill_path(c->out, res, 0);
    if (rc == LICD_OK && *c->created) {
        snprintf(object, sizeof object, "%s:%s->%s", c->product->code, c->from, c->to);
        rc = store_audit(c->who, "create", "upgrade_path", object, NULL);
    }
    PQclear(res);
    return rc;
}

int store_upgrade_path_add(const store_actor *who, const store_product *p,
                           const char *from_version, const char *to_version,
                           store_upgrade_path *out, int *created)
{
    struct path_ctx c = {who, p, from_version, to_version, out, created};
    return store_tx(path_tx, &c);
}

int store_upgrade_path_exists(long long product_id, const char *from_version,
                              const char *to_version, int *exists)
{
    char id[24];
    const char *params[3] = {id, from_version, to_version};
    PGresult *res = NULL;
    int rc;
    snprintf(id, sizeof id, "%lld", product_id);
    rc = store_exec("SELECT 1 FROM upgrade_paths WHERE product_id = $1 AND from_version = $2"
                    " AND to_version = $3",
                    3, params, 1, &res);
    *exists = rc == LICD_OK && PQntuples(res) == 1;
    PQclear(res);
    return rc;
}
