/* SQL for vendors and vendor API keys. */
#include "store/vendors.h"

#include <stdio.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/db.h"
#include "store/keys.h"
#include "crypto/apikey.h"

#define VENDOR_COLUMNS "id, name, " STORE_TIME("created_at")

static void fill(store_vendor *v, const PGresult *res, int row)
{
    snprintf(v->id, sizeof v->id, "%s", PQgetvalue(res, row, 0));
    snprintf(v->name, sizeof v->name, "%s", PQgetvalue(res, row, 1));
    snprintf(v->created_at, sizeof v->created_at, "%s", PQgetvalue(res, row, 2));
}

struct create_ctx {
    const char *name;
    const crypto_apikey *key;
    store_vendor *out;
};

static int create_tx(void *p)
{
    struct create_ctx *c = p;
    const char *params[3] = {c->name, c->key->prefix, c->key->hash_hex};
    PGresult *res = NULL;
    int rc = store_exec("WITH v AS (INSERT INTO vendors (name) VALUES ($1)"
                        "  RETURNING " VENDOR_COLUMNS " AS created_at),"
                        " k AS (INSERT INTO vendor_api_keys (vendor_id, prefix, key_hash)"
                        "  SELECT id, $2, decode($3, 'hex') FROM v)"
                        " SELECT id, name, created_at FROM v",
                        3, params, 0, &res);
    if (rc == LICD_OK)
        fill(c->out, res, 0);
    PQclear(res);
    return rc;
}

int store_vendor_create(const char *name, store_vendor *out, char *api_key, size_t api_key_len)
{
    crypto_apikey key;
    struct create_ctx c = {name, &key, out};
    int rc = crypto_apikey_new(APIKEY_VENDOR, &key);
    if (rc != LICD_OK)
        return rc;
    rc = store_tx(create_tx, &c);
    if (rc == LICD_OK)
        snprintf(api_key, api_key_len, "%s", key.plain);
    crypto_apikey_wipe(&key);
    return rc;
}

int store_vendor_by_key(const char *api_key, store_vendor *out)
{
    PGresult *res;
    int row, rc = store_find_key(api_key,
                                 "SELECT v.id, v.name, " STORE_TIME("v.created_at") ","
                                 " encode(k.key_hash, 'hex')"
                                 " FROM vendor_api_keys k JOIN vendors v ON v.id = k.vendor_id"
                                 " WHERE k.prefix = $1 AND k.revoked_at IS NULL",
                                 &res, &row);
    if (rc == LICD_OK)
        fill(out, res, row);
    PQclear(res);
    return rc;
}

int store_vendor_rename(const char *id, const char *name, store_vendor *out)
{
    const char *params[2] = {id, name};
    PGresult *res = NULL;
    int rc = store_exec_row("UPDATE vendors SET name = $2 WHERE id = $1 RETURNING " VENDOR_COLUMNS, 2,
                        params, 0, &res);
    if (rc == LICD_OK)
        fill(out, res, 0);
    PQclear(res);
    return rc;
}
