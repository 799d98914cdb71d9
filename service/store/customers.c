/* SQL for customers and customer keys. */
#include "store/customers.h"

#include <stdio.h>
#include <string.h>

#include "crypto/apikey.h"
#include "store/db.h"
#include "store/keys.h"
#include "util/json.h"

#define CUSTOMER_COLUMNS "c.id, c.vendor_id, c.name, " STORE_TIME("c.created_at")

/* Reads CUSTOMER_COLUMNS starting at column col. */
static void fill(store_customer *c, const PGresult *res, int row, int col)
{
    snprintf(c->id, sizeof c->id, "%s", PQgetvalue(res, row, col));
    snprintf(c->vendor_id, sizeof c->vendor_id, "%s", PQgetvalue(res, row, col + 1));
    snprintf(c->name, sizeof c->name, "%s", PQgetvalue(res, row, col + 2));
    snprintf(c->created_at, sizeof c->created_at, "%s", PQgetvalue(res, row, col + 3));
}

struct create_ctx {
    const store_actor *who;
    const char *name;
    const crypto_apikey *key;
    store_customer *out;
};

static int create_tx(void *p)
{
    struct create_ctx *c = p;
    const char *params[4] = {c->who->vendor_id, c->name, c->key->prefix, c->key->hash_hex};
    PGresult *res = NULL;
    int rc = store_exec("WITH c AS (INSERT INTO customers (vendor_id, name) VALUES ($1, $2)"
                        "  RETURNING *),"
                        " k AS (INSERT INTO customer_keys (customer_id, prefix, key_hash)"
                        "  SELECT id, $3, decode($4, 'hex') FROM c)"
                        " SELECT " CUSTOMER_COLUMNS " FROM c",
                        4, params, 0, &res);
    if (rc == LICD_OK) {
        fill(c->out, res, 0, 0);
        rc = store_audit(c->who, "create", "customer", c->out->id, NULL);
    }
    PQclear(res);
    return rc;
}

int store_customer_create(const store_actor *who, const char *name, store_customer *out,
                          char *key, size_t key_len)
{
    crypto_apikey k;
    struct create_ctx c = {who, name, &k, out};
    int rc = crypto_apikey_new(APIKEY_CUSTOMER, &k);
    if (rc == LICD_OK && (rc = store_tx(create_tx, &c)) == LICD_OK)
        snprintf(key, key_len, "%s", k.plain);
    crypto_apikey_wipe(&k);
    return rc;
}

int store_customer_by_key(const char *key, store_customer *out)
{
    PGresult *res;
    int row, rc = store_find_key(key,
                                 "SELECT " CUSTOMER_COLUMNS ", encode(k.key_hash, 'hex')"
                                 " FROM customer_keys k JOIN customers c ON c.id = k.customer_id"
                                 " WHERE k.prefix = $1 AND k.revoked_at IS NULL",
                                 &res, &row);
    if (rc == LICD_OK)
        fill(out, res, row, 0);
    PQclear(res);
    return rc;
}

int store_customer_get(const char *vendor_id, const char *customer_id, store_customer *out)
{
    const char *params[2] = {vendor_id, customer_id};
    PGresult *res = NULL;
    int rc;
    if (!json_is_uuid(customer_id))
        return LICD_ERR_NOT_FOUND;
    rc = store_exec_row("SELECT " CUSTOMER_COLUMNS " FROM customers c WHERE c.vendor_id = $1 AND c.id = $2",
                    2, params, 1, &res);
    if (rc == LICD_OK)
        fill(out, res, 0, 0);
    PQclear(res);
    return rc;
}

int store_customer_list(const char *vendor_id, long long after, int limit, PGresult **res)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit);
    return store_exec("SELECT c.seq, " CUSTOMER_COLUMNS " FROM customers c"
                      " WHERE c.vendor_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3",
                      3, params, 1, res);
}

void store_customer_row(const PGresult *res, int row, store_customer *out)
{
    fill(out, res, row, 1); /* column 0 is the list position */
}
