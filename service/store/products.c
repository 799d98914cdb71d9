/* SQL for products and their upgrade paths. */
#include "store/products.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/caches.h"
#include "store/sql.h"

enum { PRODUCT_ID, PRODUCT_VENDOR_ID, PRODUCT_CODE, PRODUCT_NAME, PRODUCT_VERSION,
       PRODUCT_SCHEME, PRODUCT_FEATURES, PRODUCT_REQUIRE_CHALLENGE, PRODUCT_CREATED_AT };
#define PRODUCT_COLUMNS                                                                    \
    "p.id, p.vendor_id, p.code, p.name, p.version, p.scheme, p.features::text,"           \
    " p.require_challenge, " STORE_TIME("p.created_at")
static const store_field product_fields[] = {
    [PRODUCT_ID] = STORE_INT64(store_product, id),
    [PRODUCT_VENDOR_ID] = STORE_TEXT(store_product, vendor_id),
    [PRODUCT_CODE] = STORE_TEXT(store_product, code),
    [PRODUCT_NAME] = STORE_TEXT(store_product, name),
    [PRODUCT_VERSION] = STORE_TEXT(store_product, version),
    [PRODUCT_SCHEME] = STORE_TEXT(store_product, scheme),
    [PRODUCT_FEATURES] = STORE_DUP(store_product, features_json),
    [PRODUCT_REQUIRE_CHALLENGE] = STORE_BOOL(store_product, require_challenge),
    [PRODUCT_CREATED_AT] = STORE_TEXT(store_product, created_at),
};
static const store_rowtype product_row = STORE_ROWTYPE(store_product, product_fields);

enum { PATH_FROM_VERSION, PATH_TO_VERSION, PATH_CREATED_AT };
#define PATH_COLUMNS "u.from_version, u.to_version, " STORE_TIME("u.created_at")
static const store_field path_fields[] = {
    [PATH_FROM_VERSION] = STORE_TEXT(store_upgrade_path, from_version),
    [PATH_TO_VERSION] = STORE_TEXT(store_upgrade_path, to_version),
    [PATH_CREATED_AT] = STORE_TEXT(store_upgrade_path, created_at),
};
static const store_rowtype path_row = STORE_ROWTYPE(store_upgrade_path, path_fields);

static const store_sql Q_PRODUCT_CREATE = {
    "product_create",
    "WITH p AS (INSERT INTO products (vendor_id, code, name, version, scheme,"
    "  features, require_challenge) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)"
    "  RETURNING *)"
    " SELECT " PRODUCT_COLUMNS " FROM p"};
static const store_sql Q_PRODUCT_LIST = {
    "product_list", "SELECT " PRODUCT_COLUMNS " FROM products p"
                    " WHERE p.vendor_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3"};
static const store_sql Q_PRODUCT_GET = {
    "product_get", "SELECT " PRODUCT_COLUMNS " FROM products p"
                   " WHERE p.vendor_id = $1 AND p.code = $2"};
static const store_sql Q_PATH_ADD = {
    "upgrade_path_add", "WITH u AS (INSERT INTO upgrade_paths (product_id, from_version,"
                        "  to_version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING *)"
                        " SELECT " PATH_COLUMNS " FROM u"};
static const store_sql Q_PATH_GET = {
    "upgrade_path_get", "SELECT " PATH_COLUMNS " FROM upgrade_paths u WHERE u.product_id = $1"
                        " AND u.from_version = $2 AND u.to_version = $3"};
static const store_sql Q_PATH_EXISTS = {
    "upgrade_path_exists", "SELECT 1 FROM upgrade_paths WHERE product_id = $1"
                           " AND from_version = $2 AND to_version = $3"};

void store_product_clear(store_product *p)
{
    store_clear(&product_row, p);
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
    int rc = store_fetch_row(&Q_PRODUCT_CREATE, 7, params, 0, &product_row, c->out);
    return rc != LICD_OK ? rc : store_audit(c->who, "create", "product", c->out->code, NULL);
}

int store_product_create(const store_actor *who, const store_product_new *in, store_product *out)
{
    struct create_ctx c = {who, in, out};
    out->features_json = NULL;
    return store_tx(create_tx, &c);
}

/* A product as cached: the struct without its pointer, then the features. */
struct cached_product {
    store_product p;
    char features[4096];
};

int store_product_get(const char *vendor_id, const char *code, store_product *out)
{
    const char *params[2] = {vendor_id, code};
    cache *c = store_cache(STORE_CACHE_PRODUCTS);
    uint64_t generation = c ? cache_generation(c) : 0;
    struct cached_product cp;
    char key[40 + STORE_CODE_MAX + 2];
    size_t n;
    int rc;

    /* The name migration 0010's trigger announces a change of the product by. */
    snprintf(key, sizeof key, "%s:%s", vendor_id, code);
    out->features_json = NULL;
    if (c && cache_get(c, key, &cp, sizeof cp) > (long)sizeof cp.p) {
        *out = cp.p;
        return (out->features_json = strdup(cp.features)) ? LICD_OK : LICD_ERR_NOMEM;
    }
    rc = store_fetch_row(&Q_PRODUCT_GET, 2, params, 1, &product_row, out);
    if (rc == LICD_OK && c && out->features_json &&
        (n = strlen(out->features_json)) < sizeof cp.features) {
        cp.p = *out;
        cp.p.features_json = NULL;
        memcpy(cp.features, out->features_json, n + 1);
        cache_put(c, key, &cp, offsetof(struct cached_product, features) + n + 1, generation);
    }
    return rc;
}

int store_product_list(const char *vendor_id, long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_PRODUCT_LIST, 3, params, &product_row, limit, PRODUCT_ID, page);
}

struct path_ctx {
    const store_actor *who;
    const store_product *product;
    const char *from, *to;
    store_upgrade_path *out;
    int *created;
};

/* Inserts the path unless it exists; a path posted again is read back as
 * it was first stored, and only a new one is audited. */
static int path_tx(void *p)
{
    struct path_ctx *c = p;
    char id[24], object[200];
    const char *params[3] = {id, c->from, c->to};
    int rc;

    snprintf(id, sizeof id, "%lld", c->product->id);
    rc = store_fetch_row(&Q_PATH_ADD, 3, params, 0, &path_row, c->out);
    *c->created = rc == LICD_OK;
    if (rc == LICD_ERR_NOT_FOUND) {
        rc = store_fetch_row(&Q_PATH_GET, 3, params, 0, &path_row, c->out);
        if (rc == LICD_ERR_NOT_FOUND)
            rc = LICD_ERR_RETRY; /* removed in between: try again */
    }
    if (rc == LICD_OK && *c->created) {
        snprintf(object, sizeof object, "%s:%s->%s", c->product->code, c->from, c->to);
        rc = store_audit(c->who, "create", "upgrade_path", object, NULL);
    }
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
    rc = store_exec(&Q_PATH_EXISTS, 3, params, 1, &res);
    *exists = rc == LICD_OK && PQntuples(res) == 1;
    PQclear(res);
    return rc;
}
