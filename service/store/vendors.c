/* SQL for vendors and vendor API keys. */
#include "store/vendors.h"

#include <stdio.h>

#include "crypto/apikey.h"
#include "store/caches.h"
#include "store/sql.h"

enum { VENDOR_ID, VENDOR_NAME, VENDOR_CREATED_AT };
#define VENDOR_COLUMNS "v.id, v.name, " STORE_TIME("v.created_at")
static const store_field vendor_fields[] = {
    [VENDOR_ID] = STORE_TEXT(store_vendor, id),
    [VENDOR_NAME] = STORE_TEXT(store_vendor, name),
    [VENDOR_CREATED_AT] = STORE_TEXT(store_vendor, created_at),
};
static const store_rowtype vendor_row = STORE_ROWTYPE(store_vendor, vendor_fields);

static const store_sql Q_VENDOR_CREATE = {
    "vendor_create", "WITH v AS (INSERT INTO vendors (name) VALUES ($1) RETURNING *),"
                     " k AS (INSERT INTO vendor_api_keys (vendor_id, prefix, key_hash)"
                     "  SELECT id, $2, decode($3, 'hex') FROM v)"
                     " SELECT " VENDOR_COLUMNS " FROM v"};
static const store_sql Q_VENDOR_BY_KEY = {
    "vendor_by_key", "SELECT " VENDOR_COLUMNS ", k.valid_until IS NULL,"
                       " encode(k.key_hash, 'hex')"
                     " FROM vendor_api_keys k JOIN vendors v ON v.id = k.vendor_id"
                     " WHERE k.prefix = $1 AND k.revoked_at IS NULL"
                     " AND (k.valid_until IS NULL OR k.valid_until > now())"};
/* Ends the vendor's live keys $4 seconds from now at the latest, and adds
 * the new one; answers that end. */
#define GRACE_END "now() + make_interval(secs => $4::bigint)"
static const store_sql Q_VENDOR_ROTATE_KEY = {
    "vendor_rotate_key",
    "WITH old AS (UPDATE vendor_api_keys"
    "  SET valid_until = least(coalesce(valid_until, 'infinity'), " GRACE_END ")"
    "  WHERE vendor_id = $1 AND revoked_at IS NULL"
    "  AND (valid_until IS NULL OR valid_until > now())),"
    " k AS (INSERT INTO vendor_api_keys (vendor_id, prefix, key_hash)"
    "  VALUES ($1, $2, decode($3, 'hex')))"
    " SELECT " STORE_TIME("(" GRACE_END ")")};
static const store_sql Q_VENDOR_RENAME = {
    "vendor_rename", "UPDATE vendors v SET name = $2 WHERE v.id = $1 RETURNING " VENDOR_COLUMNS};

struct create_ctx {
    const char *name;
    const crypto_apikey *key;
    store_vendor *out;
};

static int create_tx(void *p)
{
    struct create_ctx *c = p;
    const char *params[3] = {c->name, c->key->prefix, c->key->hash_hex};
    return store_fetch_row(&Q_VENDOR_CREATE, 3, params, 0, &vendor_row, c->out);
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

int store_vendor_by_key(const char *api_key, store_vendor *out, const store_gate *gate)
{
    return store_find_key(api_key, &Q_VENDOR_BY_KEY, &vendor_row, out,
                          store_cache(STORE_CACHE_VENDOR_KEYS), gate);
}

int store_vendor_rotate_key(const store_actor *who, long grace_s, char *api_key,
                            size_t api_key_len, char valid_until[40])
{
    const store_rotation r = {&Q_VENDOR_ROTATE_KEY, 1,        {who->vendor_id},
                              APIKEY_VENDOR,        "vendor", who->vendor_id,
                              STORE_CACHE_VENDOR_KEYS};
    return store_rotate_key(who, &r, grace_s, api_key, api_key_len, valid_until);
}

int store_vendor_rename(const char *id, const char *name, store_vendor *out)
{
    const char *params[2] = {id, name};
    int rc = store_fetch_row(&Q_VENDOR_RENAME, 2, params, 0, &vendor_row, out);
    if (rc == LICD_OK)
        store_caches_forget(STORE_CACHE_VENDOR_KEYS);
    return rc;
}
