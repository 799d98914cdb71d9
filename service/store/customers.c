/* SQL for customers and customer keys. */
#include "store/customers.h"

#include <stdio.h>

#include "crypto/apikey.h"
#include "store/caches.h"
#include "store/sql.h"
#include "util/json.h"

/* Over a customer c; lists add its list position. */
enum { CUSTOMER_ID, CUSTOMER_VENDOR_ID, CUSTOMER_NAME, CUSTOMER_CREATED_AT, CUSTOMER_SEQ };
#define CUSTOMER_COLUMNS "c.id, c.vendor_id, c.name, " STORE_TIME("c.created_at")
static const store_field customer_fields[] = {
    [CUSTOMER_ID] = STORE_TEXT(store_customer, id),
    [CUSTOMER_VENDOR_ID] = STORE_TEXT(store_customer, vendor_id),
    [CUSTOMER_NAME] = STORE_TEXT(store_customer, name),
    [CUSTOMER_CREATED_AT] = STORE_TEXT(store_customer, created_at),
};
static const store_rowtype customer_row = STORE_ROWTYPE(store_customer, customer_fields);

static const store_sql Q_CUSTOMER_CREATE = {
    "customer_create", "WITH c AS (INSERT INTO customers (vendor_id, name) VALUES ($1, $2)"
                       "  RETURNING *),"
                       " k AS (INSERT INTO customer_keys (customer_id, prefix, key_hash)"
                       "  SELECT id, $3, decode($4, 'hex') FROM c)"
                       " SELECT " CUSTOMER_COLUMNS " FROM c"};
static const store_sql Q_CUSTOMER_BY_KEY = {
    "customer_by_key", "SELECT " CUSTOMER_COLUMNS ", k.valid_until IS NULL,"
                       " encode(k.key_hash, 'hex')"
                       " FROM customer_keys k JOIN customers c ON c.id = k.customer_id"
                       " WHERE k.prefix = $1 AND k.revoked_at IS NULL"
                       " AND (k.valid_until IS NULL OR k.valid_until > now())"};
static const store_sql Q_CUSTOMER_GET = {
    "customer_get", "SELECT " CUSTOMER_COLUMNS " FROM customers c"
                    " WHERE c.vendor_id = $1 AND c.id = $2"};
/* Ends the live keys of the vendor's customer $5 seconds from now at the
 * latest, and adds the new one; answers that end (no row: no such customer). */
#define GRACE_END "now() + make_interval(secs => $5::bigint)"
static const store_sql Q_CUSTOMER_ROTATE_KEY = {
    "customer_rotate_key",
    "WITH c AS (SELECT id FROM customers WHERE vendor_id = $1 AND id = $2),"
    " old AS (UPDATE customer_keys k"
    "  SET valid_until = least(coalesce(k.valid_until, 'infinity'), " GRACE_END ")"
    "  FROM c WHERE k.customer_id = c.id AND k.revoked_at IS NULL"
    "  AND (k.valid_until IS NULL OR k.valid_until > now())),"
    " k AS (INSERT INTO customer_keys (customer_id, prefix, key_hash)"
    "  SELECT id, $3, decode($4, 'hex') FROM c)"
    " SELECT " STORE_TIME("(" GRACE_END ")") " FROM c"};
static const store_sql Q_CUSTOMER_LIST = {
    "customer_list", "SELECT " CUSTOMER_COLUMNS ", c.seq FROM customers c"
                     " WHERE c.vendor_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3"};

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
    int rc = store_fetch_row(&Q_CUSTOMER_CREATE, 4, params, 0, &customer_row, c->out);
    return rc != LICD_OK ? rc : store_audit(c->who, "create", "customer", c->out->id, NULL);
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

int store_customer_by_key(const char *key, store_customer *out, const store_gate *gate)
{
    return store_find_key(key, &Q_CUSTOMER_BY_KEY, &customer_row, out,
                          store_cache(STORE_CACHE_CUSTOMER_KEYS), gate);
}

int store_customer_get(const char *vendor_id, const char *customer_id, store_customer *out)
{
    const char *params[2] = {vendor_id, customer_id};
    if (!json_is_uuid(customer_id))
        return LICD_ERR_NOT_FOUND;
    return store_fetch_row(&Q_CUSTOMER_GET, 2, params, 1, &customer_row, out);
}

int store_customer_rotate_key(const store_actor *who, const char *customer_id, long grace_s,
                              char *key, size_t key_len, char valid_until[40])
{
    const store_rotation r = {&Q_CUSTOMER_ROTATE_KEY, 2,  {who->vendor_id, customer_id},
                              APIKEY_CUSTOMER,        "customer", customer_id,
                              STORE_CACHE_CUSTOMER_KEYS};
    if (!json_is_uuid(customer_id))
        return LICD_ERR_NOT_FOUND;
    return store_rotate_key(who, &r, grace_s, key, key_len, valid_until);
}

int store_customer_list(const char *vendor_id, long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_CUSTOMER_LIST, 3, params, &customer_row, limit, CUSTOMER_SEQ,
                            page);
}
