/* SQL for group keys and their activations (see group_keys.h). */
#include "store/group_keys.h"

#include <stdio.h>
#include <string.h>

#include "store/customers.h"
#include "store/sql.h"
#include "store/update_passwords.h"
#include "util/json.h"

/* Every query renders a group key with these columns (g = group_keys, q its
 * pool), KEY_FROM; the vendor's reads add the count of its activations. */
enum { KEY_ID, KEY_VENDOR_ID, KEY_CUSTOMER_ID, KEY_PREFIX, KEY_SCHEME, KEY_LINK_TYPE,
       KEY_LINK_VALUE, KEY_EXPIRES, KEY_CREATED_AT, KEY_REVOKED_AT, KEY_ON_OVER_LIMIT, KEY_POOL,
       KEY_CONTAINERS, KEY_LIMITS, KEY_ACTIVATIONS };
#define KEY_COLUMNS                                                                         \
    "g.id, g.vendor_id, g.customer_id, g.prefix, g.scheme, g.link_type,"                    \
    " coalesce(g.link_value, ''), coalesce(" STORE_TIME("g.expires") ", ''), "              \
    STORE_TIME("g.created_at") ", coalesce(" STORE_TIME("g.revoked_at") ", ''),"            \
    " g.on_over_limit, q.pool, q.containers, g.limits::text"
#define KEY_ACTIVATIONS_COLUMN                                                              \
    ", (SELECT count(*) FROM activations a WHERE a.group_key_id = g.id"                    \
    "  AND a.expires_at > now() AND NOT a.blocked)"
#define KEY_FROM                                                                            \
    " FROM group_keys g CROSS JOIN LATERAL (SELECT"                                         \
    "  coalesce(jsonb_object_agg(p.code, gp.quota_per_node), '{}')::text AS pool,"          \
    "  coalesce(jsonb_object_agg(p.code, gp.quota_per_container)"                           \
    "   FILTER (WHERE gp.quota_per_container IS NOT NULL), '{}')::text AS containers"       \
    "  FROM group_key_products gp JOIN products p ON p.id = gp.product_id"                  \
    "  WHERE gp.group_key_id = g.id) q"
static const store_field key_fields[] = {
    [KEY_ID] = STORE_INT64(store_group_key, id),
    [KEY_VENDOR_ID] = STORE_TEXT(store_group_key, vendor_id),
    [KEY_CUSTOMER_ID] = STORE_TEXT(store_group_key, customer_id),
    [KEY_PREFIX] = STORE_TEXT(store_group_key, prefix),
    [KEY_SCHEME] = STORE_TEXT(store_group_key, scheme),
    [KEY_LINK_TYPE] = STORE_TEXT(store_group_key, link_type),
    [KEY_LINK_VALUE] = STORE_TEXT(store_group_key, link_value),
    [KEY_EXPIRES] = STORE_TEXT(store_group_key, expires),
    [KEY_CREATED_AT] = STORE_TEXT(store_group_key, created_at),
    [KEY_REVOKED_AT] = STORE_TEXT(store_group_key, revoked_at),
    [KEY_ON_OVER_LIMIT] = STORE_TEXT(store_group_key, on_over_limit),
    [KEY_POOL] = STORE_DUP(store_group_key, pool_json),
    [KEY_CONTAINERS] = STORE_DUP(store_group_key, containers_json),
    [KEY_LIMITS] = STORE_DUP(store_group_key, limits_json),
    [KEY_ACTIVATIONS] = STORE_INT64(store_group_key, activations),
};
/* The vendor's view, with the count of activations... */
static const store_rowtype view_row = STORE_ROWTYPE(store_group_key, key_fields);
/* ...and the key a client presents, without. */
static const store_rowtype key_row = {key_fields, KEY_ACTIVATIONS, sizeof(store_group_key)};

static const store_sql Q_KEY_VIEW = {
    "group_key_view",
    "SELECT " KEY_COLUMNS KEY_ACTIVATIONS_COLUMN KEY_FROM " WHERE g.id = $1"};
static const store_sql Q_KEY_LIST = {
    "group_key_list",
    "SELECT " KEY_COLUMNS KEY_ACTIVATIONS_COLUMN KEY_FROM
    " WHERE g.vendor_id = $1 AND ($2::uuid IS NULL OR g.customer_id = $2::uuid) AND g.id > $3"
    " ORDER BY g.id LIMIT $4"};
/* KEY_COLUMNS and the key's hash, for store_find_key. */
static const store_sql Q_KEY_BY_PREFIX = {
    "group_key_by_prefix", "SELECT " KEY_COLUMNS ", encode(g.key_hash, 'hex')" KEY_FROM
                           " WHERE g.prefix = $1"};
enum { VENDOR_KEY_ID, VENDOR_KEY_PREFIX };
static const store_sql Q_KEY_OF_VENDOR = {
    "group_key_of_vendor",
    "SELECT id, prefix FROM group_keys WHERE vendor_id = $1 AND prefix = $2"};
static const store_sql Q_KEY_UNLINK = {
    "group_key_unlink", "UPDATE group_keys SET link_value = NULL WHERE id = $1"};
static const store_sql Q_KEY_REVOKE = {
    "group_key_revoke", "UPDATE group_keys SET revoked_at = now()"
                        " WHERE id = $1 AND revoked_at IS NULL RETURNING id"};
static const store_sql Q_KEY_UPDATE = {
    "group_key_update",
    "UPDATE group_keys SET expires = CASE WHEN $2::boolean THEN $3::timestamptz ELSE expires END,"
    " limits = coalesce($4::jsonb, limits), on_over_limit = coalesce($5, on_over_limit)"
    " WHERE id = $1"};
/* Quotas per node ($2) of the products named, and per container ($3, null
 * removing one); a NULL object changes nothing. */
static const store_sql Q_KEY_UPDATE_QUOTAS = {
    "group_key_update_quotas",
    "UPDATE group_key_products gp"
    " SET quota_per_node = coalesce(($2::jsonb ->> p.code)::int, gp.quota_per_node),"
    " quota_per_container = CASE WHEN $3::jsonb ? p.code THEN ($3::jsonb ->> p.code)::int"
    "  ELSE gp.quota_per_container END"
    " FROM products p WHERE p.id = gp.product_id AND gp.group_key_id = $1"};

/* The first product code of the pool ($2) the vendor does not have. */
enum { MISSING_CODE };
static const store_sql Q_KEY_MISSING_PRODUCT = {
    "group_key_missing_product", "SELECT k FROM jsonb_object_keys($2::jsonb) k WHERE NOT EXISTS"
                                 " (SELECT 1 FROM products WHERE vendor_id = $1 AND code = k)"
                                 " ORDER BY k LIMIT 1"};
/* The first member of the object $2 that names no product of the key $1. */
static const store_sql Q_KEY_FOREIGN_PRODUCT = {
    "group_key_foreign_product",
    "SELECT k FROM jsonb_object_keys($2::jsonb) k WHERE NOT EXISTS"
    " (SELECT 1 FROM group_key_products gp JOIN products p ON p.id = gp.product_id"
    "  WHERE gp.group_key_id = $1 AND p.code = k) ORDER BY k LIMIT 1"};

/* Inserts the key and its product pool; link is the SQL of the stored link value. */
enum { INSERTED_ID, INSERTED_PRODUCTS };
#define INSERT_KEY(link)                                                                    \
    "WITH g AS (INSERT INTO group_keys (vendor_id, customer_id, prefix, key_hash, scheme,"  \
    "  link_type, link_value, limits, expires, on_over_limit)"                              \
    "  VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6, " link ", $8::jsonb, $9::timestamptz," \
    "  $12)"                                                                                \
    "  RETURNING id),"                                                                      \
    " p AS (INSERT INTO group_key_products (group_key_id, product_id, quota_per_node,"      \
    "  quota_per_container)"                                                                \
    "  SELECT g.id, pr.id, q.value::int, ($11::jsonb ->> q.key)::int"                       \
    "  FROM g, jsonb_each_text($10::jsonb) q"                                               \
    "  JOIN products pr ON pr.vendor_id = $1 AND pr.code = q.key RETURNING 1)"              \
    " SELECT g.id, (SELECT count(*) FROM p) FROM g"
/* PostgreSQL reads (and canonicalises) a CIDR; text it cannot read fails
 * the statement with 22P02. */
static const store_sql Q_KEY_CREATE_CIDR = {"group_key_create_cidr",
                                            INSERT_KEY("$7::cidr::text")};
static const store_sql Q_KEY_CREATE = {"group_key_create", INSERT_KEY("$7")};

void store_group_key_clear(store_group_key *k)
{
    store_clear(&view_row, k);
}

/* The vendor's view of the group key with that id (inside a transaction:
 * what it wrote). */
static int read_key(long long id, store_group_key *out)
{
    char key[24];
    const char *params[1] = {key};
    snprintf(key, sizeof key, "%lld", id);
    return store_fetch_row(&Q_KEY_VIEW, 1, params, 1, &view_row, out);
}

struct create_ctx {
    const store_actor *who;
    const store_group_key_new *in;
    const crypto_apikey *key;
    store_group_key *out;
    char *detail;
};

/* Names the first product code of the pool the vendor does not have. */
static int check_products(const struct create_ctx *c)
{
    const char *params[2] = {c->who->vendor_id, c->in->pool_json};
    PGresult *res = NULL;
    int rc = store_exec(&Q_KEY_MISSING_PRODUCT, 2, params, 1, &res);
    if (rc == LICD_OK && PQntuples(res) == 1) {
        snprintf(c->detail, LICD_DETAIL_MAX, "products: no product %.64s",
                 store_col_str(res, 0, MISSING_CODE));
        rc = LICD_ERR_INVALID_FIELD;
    }
    PQclear(res);
    return rc;
}

static int create_tx(void *p)
{
    struct create_ctx *c = p;
    const store_group_key_new *in = c->in;
    const char *params[12] = {c->who->vendor_id,   in->customer_id, c->key->prefix,
                              c->key->hash_hex,    in->scheme,      in->link_type,
                              in->link_value,      in->limits_json, in->expires,
                              in->pool_json,       in->containers_json, in->on_over_limit};
    store_customer customer;
    PGresult *res = NULL;
    cJSON *details = NULL;
    int rc;

    if ((rc = store_customer_get(c->who->vendor_id, in->customer_id, &customer)) != LICD_OK ||
        (rc = check_products(c)) != LICD_OK)
        return rc;
    rc = store_exec(strcmp(in->link_type, "ip_range") == 0 ? &Q_KEY_CREATE_CIDR : &Q_KEY_CREATE,
                    12, params, 0, &res);
    if (rc == LICD_ERR_INVALID_FIELD)
        snprintf(c->detail, LICD_DETAIL_MAX,
                 "link.value must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32"
                 " (no host bits set)");
    if (rc != LICD_OK || (rc = read_key(store_col_int(res, 0, INSERTED_ID), c->out)) != LICD_OK)
        goto out;
    rc = (details = cJSON_CreateObject()) &&
                 cJSON_AddStringToObject(details, "customer_id", in->customer_id)
             ? store_audit(c->who, "create", "group_key", c->out->prefix, details)
             : LICD_ERR_NOMEM;
out:
    cJSON_Delete(details);
    PQclear(res);
    return rc;
}

int store_group_key_create(const store_actor *who, const store_group_key_new *in,
                           store_group_key *out, char key[APIKEY_PLAIN_LEN],
                           char detail[LICD_DETAIL_MAX])
{
    crypto_apikey k;
    struct create_ctx c = {who, in, &k, out, detail};
    int rc = crypto_apikey_new(APIKEY_GROUP, &k);
    memset(out, 0, sizeof *out);
    if (rc == LICD_OK && (rc = store_tx(create_tx, &c)) == LICD_OK)
        snprintf(key, APIKEY_PLAIN_LEN, "%s", k.plain);
    crypto_apikey_wipe(&k);
    return rc;
}

int store_group_key_by_key(const char *key, store_group_key *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    rc = store_find_key(key, &Q_KEY_BY_PREFIX, &key_row, out, NULL, NULL);
    return rc == LICD_ERR_UNAUTHORIZED ? LICD_ERR_UNKNOWN_GROUP_KEY : rc;
}

/* 1 if s has the form of a group key's public prefix ("lg_" + 12 hex). */
static int is_prefix(const char *s)
{
    return strlen(s) == APIKEY_PREFIX_LEN - 1 && strncmp(s, "lg_", 3) == 0 &&
           strspn(s + 3, "0123456789abcdef") == APIKEY_PREFIX_LEN - 4;
}

/* One of the vendor's group keys, named by the key itself or its prefix. */
struct vendor_key {
    long long id;
    char id_text[24];
    char prefix[APIKEY_PREFIX_LEN];
};

static int find_vendor_key(const char *vendor_id, const char *key_or_prefix,
                           struct vendor_key *out)
{
    store_group_key k = {.pool_json = NULL};
    PGresult *res = NULL;
    int rc;
    if (is_prefix(key_or_prefix)) {
        const char *params[2] = {vendor_id, key_or_prefix};
        rc = store_exec(&Q_KEY_OF_VENDOR, 2, params, 0, &res);
        if (rc == LICD_OK)
            rc = PQntuples(res) == 1 ? LICD_OK
                 : PQntuples(res) == 0 ? LICD_ERR_NOT_FOUND
                                       : LICD_ERR_CONFLICT;
        if (rc == LICD_OK) {
            out->id = store_col_int(res, 0, VENDOR_KEY_ID);
            store_col_copy(res, 0, VENDOR_KEY_PREFIX, out->prefix, sizeof out->prefix);
        }
        PQclear(res);
    } else {
        rc = store_find_key(key_or_prefix, &Q_KEY_BY_PREFIX, &key_row, &k, NULL, NULL);
        if (rc == LICD_ERR_UNAUTHORIZED || (rc == LICD_OK && strcmp(k.vendor_id, vendor_id) != 0))
            rc = LICD_ERR_NOT_FOUND;
        if (rc == LICD_OK) {
            out->id = k.id;
            snprintf(out->prefix, sizeof out->prefix, "%s", k.prefix);
        }
        store_group_key_clear(&k);
    }
    snprintf(out->id_text, sizeof out->id_text, "%lld", out->id);
    return rc;
}

int store_group_key_get(const char *vendor_id, const char *key_or_prefix, store_group_key *out)
{
    struct vendor_key k;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = find_vendor_key(vendor_id, key_or_prefix, &k)) != LICD_OK)
        return rc;
    return read_key(k.id, out);
}

int store_group_key_list(const char *vendor_id, const char *customer_id, long long after,
                         int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[4] = {vendor_id, customer_id, a, l};
    store_customer customer;
    int rc;
    if (customer_id && (rc = store_customer_get(vendor_id, customer_id, &customer)) != LICD_OK)
        return rc;
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_KEY_LIST, 4, params, &view_row, limit, KEY_ID, page);
}

/* A change to one of the vendor's keys, made in one transaction: change
 * does it to the key found, then the key is read back. */
struct change_ctx {
    const store_actor *who;
    const char *key_or_prefix;
    store_group_key *out;
    int (*change)(struct change_ctx *c, const struct vendor_key *k);
    const store_group_key_patch *patch;
    char *detail;
};

static int change_tx(void *p)
{
    struct change_ctx *c = p;
    struct vendor_key k;
    int rc;
    if ((rc = find_vendor_key(c->who->vendor_id, c->key_or_prefix, &k)) != LICD_OK ||
        (rc = c->change(c, &k)) != LICD_OK)
        return rc;
    store_group_key_clear(c->out);
    return read_key(k.id, c->out);
}

static int change(const store_actor *who, const char *key_or_prefix, store_group_key *out,
                  int (*fn)(struct change_ctx *, const struct vendor_key *),
                  const store_group_key_patch *patch, char *detail)
{
    struct change_ctx c = {who, key_or_prefix, out, fn, patch, detail};
    memset(out, 0, sizeof *out);
    return store_tx(change_tx, &c);
}

static int unlink_key(struct change_ctx *c, const struct vendor_key *k)
{
    const char *params[1] = {k->id_text};
    int rc = store_run(&Q_KEY_UNLINK, 1, params);
    return rc == LICD_OK ? store_audit(c->who, "relink", "group_key", k->prefix, NULL) : rc;
}

int store_group_key_relink(const store_actor *who, const char *key_or_prefix,
                           store_group_key *out)
{
    return change(who, key_or_prefix, out, unlink_key, NULL, NULL);
}

/* Revokes once: a key revoked already is left as it was, unaudited. */
static int revoke_key(struct change_ctx *c, const struct vendor_key *k)
{
    const char *params[1] = {k->id_text};
    PGresult *res = NULL;
    int rc = store_exec(&Q_KEY_REVOKE, 1, params, 0, &res);
    if (rc == LICD_OK && PQntuples(res) == 1)
        rc = store_audit(c->who, "revoke", "group_key", k->prefix, NULL);
    PQclear(res);
    return rc;
}

int store_group_key_revoke(const store_actor *who, const char *key_or_prefix,
                           store_group_key *out)
{
    return change(who, key_or_prefix, out, revoke_key, NULL, NULL);
}

/* Names in c->detail the first member of object (the patch's member) that
 * is not a product of the key. */
static int check_pool(struct change_ctx *c, const struct vendor_key *k, const char *object,
                      const char *member)
{
    const char *params[2] = {k->id_text, object};
    PGresult *res = NULL;
    int rc = object ? store_exec(&Q_KEY_FOREIGN_PRODUCT, 2, params, 0, &res) : LICD_OK;
    if (rc == LICD_OK && object && PQntuples(res) == 1) {
        snprintf(c->detail, LICD_DETAIL_MAX, "%s.%.64s is not one of the group key's products",
                 member, store_col_str(res, 0, MISSING_CODE));
        rc = LICD_ERR_INVALID_FIELD;
    }
    PQclear(res);
    return rc;
}

/* The audit details of a patch: each member given, as given. */
static cJSON *patch_details(const store_group_key_patch *in)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || (in->set_expires && !json_add_string_or_null(d, "expires", in->expires)) ||
        (in->pool_json && !json_add_raw(d, "quota_per_node", in->pool_json)) ||
        (in->containers_json && !json_add_raw(d, "quota_per_container", in->containers_json)) ||
        (in->limits_json && !json_add_raw(d, "limits", in->limits_json)) ||
        (in->on_over_limit && !cJSON_AddStringToObject(d, "on_over_limit", in->on_over_limit))) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

static int update_key(struct change_ctx *c, const struct vendor_key *k)
{
    const store_group_key_patch *in = c->patch;
    const char *key[5] = {k->id_text, in->set_expires ? "true" : "false", in->expires,
                          in->limits_json, in->on_over_limit};
    const char *quotas[3] = {k->id_text, in->pool_json, in->containers_json};
    cJSON *details = NULL;
    int rc;

    if ((rc = check_pool(c, k, in->pool_json, "quota_per_node")) ||
        (rc = check_pool(c, k, in->containers_json, "quota_per_container")) ||
        (rc = check_pool(c, k, in->limits_json, "limits")) ||
        (rc = store_run(&Q_KEY_UPDATE, 5, key)) ||
        ((in->pool_json || in->containers_json) &&
         (rc = store_run(&Q_KEY_UPDATE_QUOTAS, 3, quotas))))
        return rc;
    rc = (details = patch_details(in))
             ? store_audit(c->who, "update", "group_key", k->prefix, details)
             : LICD_ERR_NOMEM;
    cJSON_Delete(details);
    return rc;
}

int store_group_key_update(const store_actor *who, const char *key_or_prefix,
                           const store_group_key_patch *in, store_group_key *out,
                           char detail[LICD_DETAIL_MAX])
{
    return change(who, key_or_prefix, out, update_key, in, detail);
}

/* ---- activation ---- */

struct activate_ctx {
    const store_activation_request *r;
    const char *static_part;
    store_activation *out;
};

/* One activation row the request may continue. */
struct held {
    long long id;           /* 0: none */
    int blocked;
    const char *license_id; /* points into the facts' result */
};

/* The facts of one request, read after the lock: the key's state, scheme
 * and link, the product (if the vendor has it) and its quotas (if in the
 * pool), the other instances on the node and in the container, this app's
 * original activation and the activation the presented password was issued
 * with (when it is this app's on this node). The strings point into the
 * result they were read from. */
struct facts {
    domain_group_facts f;
    const char *link_type, *link_value;
    const char *bind_to;    /* the identifier an empty link binds to */
    long long product_id;
    int has_limits;         /* the key has resource limits for the product */
    struct held original, chain;
};

/* One activation at a time per key ($1), product ($2) and node ($3). */
static const store_sql Q_ACTIVATION_LOCK = {
    "activation_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2 || chr(31) || $3, 0))"};
/* Distinct other apps holding an unexpired, unblocked activation key on the
 * node (and, with cond, in the container); whether this app holds one. */
#define OTHER_HOLDERS(cond)                                                                 \
    "(SELECT count(DISTINCT a.app_id) FROM activations a WHERE a.group_key_id = g.id"       \
    "  AND a.product_id = p.id AND a.node_id = $5 AND a.app_id <> $4"                       \
    "  AND a.expires_at > now() AND NOT a.blocked" cond ")"
#define APP_HOLDS(cond)                                                                     \
    "EXISTS (SELECT 1 FROM activations a WHERE a.group_key_id = g.id"                       \
    "  AND a.product_id = p.id AND a.node_id = $5 AND a.app_id = $4"                        \
    "  AND a.expires_at > now()" cond ")"
#define IN_CONTAINER " AND a.container_id IS NOT DISTINCT FROM $7"
enum { FACT_KEY_REVOKED, FACT_KEY_EXPIRED, FACT_SCHEME_MATCHES, FACT_PRODUCT_ID, FACT_IN_POOL,
       FACT_QUOTA, FACT_CONTAINER_QUOTA, FACT_LINK_TYPE, FACT_LINK_VALUE, FACT_IP_IN_RANGE,
       FACT_OTHER_HOLDERS, FACT_APP_HOLDS, FACT_CONTAINER_OTHERS, FACT_CONTAINER_APP_HOLDS,
       FACT_ORIGINAL_ID, FACT_ORIGINAL_BLOCKED, FACT_ORIGINAL_LICENSE, FACT_CHAIN_ID,
       FACT_CHAIN_BLOCKED, FACT_CHAIN_LICENSE, FACT_ON_OVER_LIMIT, FACT_HAS_LIMITS, FACT_CODE,
       FACT_VERSION, FACT_FEATURES };
static const store_sql Q_ACTIVATION_FACTS = {
    "activation_facts",
    "SELECT g.revoked_at IS NOT NULL, g.expires IS NOT NULL AND g.expires <= now(),"
    " g.scheme = $2, coalesce(p.id, 0), gp.quota_per_node IS NOT NULL,"
    " coalesce(gp.quota_per_node, 0), coalesce(gp.quota_per_container, 0),"
    " g.link_type, coalesce(g.link_value, ''),"
    " CASE WHEN g.link_type = 'ip_range' AND g.link_value IS NOT NULL"
    "  THEN coalesce($6::inet <<= g.link_value::cidr, false) ELSE false END,"
    " " OTHER_HOLDERS("") ", " APP_HOLDS("") ","
    " CASE WHEN gp.quota_per_container IS NULL THEN 0 ELSE " OTHER_HOLDERS(IN_CONTAINER) " END,"
    " " APP_HOLDS(IN_CONTAINER) ","
    " coalesce(o.id, 0), coalesce(o.blocked, false), o.license_id,"
    " coalesce(c.id, 0), coalesce(c.blocked, false), c.license_id,"
    " g.on_over_limit, coalesce(g.limits ? p.code, false),"
    " p.code, p.version, p.features::text"
    " FROM group_keys g"
    " LEFT JOIN products p ON p.vendor_id = g.vendor_id AND p.code = $3"
    " LEFT JOIN group_key_products gp ON gp.group_key_id = g.id AND gp.product_id = p.id"
    " LEFT JOIN activations o ON o.group_key_id = g.id AND o.product_id = p.id"
    "  AND o.app_id = $4 AND o.node_id = $5 AND o.copy_of IS NULL"
    " LEFT JOIN activations c ON c.vendor_id = g.vendor_id AND c.license_id = $8"
    "  AND c.group_key_id = g.id AND c.product_id = p.id AND c.app_id = $4 AND c.node_id = $5"
    " WHERE g.id = $1"};

static const store_sql Q_LINK_BIND_CIDR = {
    "group_key_bind_cidr", "UPDATE group_keys SET link_value = $2::inet::cidr::text"
                           " WHERE id = $1 AND link_value IS NULL RETURNING id"};
static const store_sql Q_LINK_BIND = {
    "group_key_bind", "UPDATE group_keys SET link_value = $2"
                      " WHERE id = $1 AND link_value IS NULL RETURNING id"};

/* Both record statements answer the licence with these columns. */
enum { RECORDED_LICENSE_ID, RECORDED_ISSUED_AT, RECORDED_EXPIRES_AT };
#define RECORDED                                                                            \
    " SELECT license_id, extract(epoch FROM issued_at)::bigint,"                            \
    " extract(epoch FROM expires_at)::bigint FROM a"
/* The license.granted event of the activation key a that the statement
 * records (API.md: the app is the client), in the same statement. */
#define ACTIVATION_EVENT                                                                    \
    ", ev AS (INSERT INTO events (vendor_id, type, data)"                                   \
    " SELECT a.vendor_id, 'license.granted', jsonb_build_object('license_id', a.license_id," \
    "  'client_id', a.app_id, 'product', (SELECT code FROM products WHERE id = a.product_id)," \
    "  'customer_id', a.customer_id, 'node_id', a.node_id) FROM a)"
/* A new period for the activation $1. */
static const store_sql Q_ACTIVATION_RENEW = {
    "activation_renew",
    "WITH a AS (UPDATE activations SET static = $2, container_id = $3, ip = $4::inet,"
    " claimed_ip = $5::inet, domain = $6, activated_at = now(),"
    " expires_at = now() + make_interval(secs => $7::bigint) WHERE id = $1 RETURNING *)"
    ACTIVATION_EVENT RECORDED};
/* A new licence: an app's original one on a node, or a copy of the licence
 * $13. Under the activation lock no other request inserts this row. */
static const store_sql Q_ACTIVATION_INSERT = {
    "activation_insert",
    "WITH a AS (INSERT INTO activations (vendor_id, customer_id, group_key_id, product_id,"
    " app_id, node_id, license_id, static, container_id, ip, claimed_ip, domain, expires_at,"
    " copy_of)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'G' || nextval('activation_license_seq'), $7, $8,"
    " $9::inet, $10::inet, $11, now() + make_interval(secs => $12::bigint), $13) RETURNING *)"
    ACTIVATION_EVENT RECORDED};

/* The row of an activation the facts name; none when its id is 0. */
static struct held held_row(const PGresult *res, int id, int blocked, int license_id)
{
    return (struct held){store_col_int(res, 0, id), store_col_bool(res, 0, blocked),
                         store_col_str(res, 0, license_id)};
}

static int gather(const struct activate_ctx *c, const char *key_id, const char *chain_license,
                  PGresult **res, struct facts *fa)
{
    const store_activation_request *r = c->r;
    const char *params[8] = {key_id,     r->scheme,  r->product,      r->app_id,
                             r->node_id, r->ip,      r->container_id, chain_license};
    const char *lock[3] = {key_id, r->product, r->node_id};
    domain_link_request lr = {r->ip, r->domain, r->node_id, r->app_id, 0, r->container_id};
    domain_link_type type;
    int rc;

    /* The counts of instances below stay true until this transaction ends. */
    if ((rc = store_run(&Q_ACTIVATION_LOCK, 3, lock)) != LICD_OK)
        return rc;
    if ((rc = store_exec(&Q_ACTIVATION_FACTS, 8, params, 0, res)) != LICD_OK)
        return rc;
    if (PQntuples(*res) != 1)
        return LICD_ERR_UNKNOWN_GROUP_KEY;
    fa->f.key_revoked = store_col_bool(*res, 0, FACT_KEY_REVOKED);
    fa->f.key_expired = store_col_bool(*res, 0, FACT_KEY_EXPIRED);
    fa->f.scheme_matches = store_col_bool(*res, 0, FACT_SCHEME_MATCHES);
    fa->product_id = store_col_int(*res, 0, FACT_PRODUCT_ID);
    fa->f.product_in_group = store_col_bool(*res, 0, FACT_IN_POOL);
    fa->f.quota = (long)store_col_int(*res, 0, FACT_QUOTA);
    fa->f.container_quota = (long)store_col_int(*res, 0, FACT_CONTAINER_QUOTA);
    fa->link_type = store_col_str(*res, 0, FACT_LINK_TYPE);
    fa->link_value = store_col_str(*res, 0, FACT_LINK_VALUE);
    lr.ip_in_range = store_col_bool(*res, 0, FACT_IP_IN_RANGE);
    fa->f.other_holders = (long)store_col_int(*res, 0, FACT_OTHER_HOLDERS);
    fa->f.app_holds = store_col_bool(*res, 0, FACT_APP_HOLDS);
    fa->f.container_other_holders = (long)store_col_int(*res, 0, FACT_CONTAINER_OTHERS);
    fa->f.container_app_holds = store_col_bool(*res, 0, FACT_CONTAINER_APP_HOLDS);
    fa->original = held_row(*res, FACT_ORIGINAL_ID, FACT_ORIGINAL_BLOCKED, FACT_ORIGINAL_LICENSE);
    fa->chain = held_row(*res, FACT_CHAIN_ID, FACT_CHAIN_BLOCKED, FACT_CHAIN_LICENSE);
    fa->has_limits = store_col_bool(*res, 0, FACT_HAS_LIMITS);
    if (domain_link_type_parse(fa->link_type, &type) != 0 ||
        domain_over_limit_parse(store_col_str(*res, 0, FACT_ON_OVER_LIMIT),
                                &fa->f.on_over_limit) != 0)
        return LICD_ERR_INTERNAL;
    fa->f.link = domain_link_decide(type, fa->link_value, &lr, &fa->bind_to);
    return LICD_OK;
}

/* Binds the empty link to the request's identifier (an address becomes a
 * range of one). A concurrent activation that bound it first leaves no row
 * to update: the transaction runs again and judges the request against
 * that binding. */
static int bind_link(const char *key_id, const char *type, const char *value)
{
    const char *params[2] = {key_id, value};
    PGresult *res = NULL;
    int rc = store_exec(strcmp(type, "ip_range") == 0 ? &Q_LINK_BIND_CIDR : &Q_LINK_BIND, 2,
                        params, 0, &res);
    if (rc == LICD_OK && PQntuples(res) != 1)
        rc = LICD_ERR_RETRY;
    PQclear(res);
    return rc;
}

/* Records the activation: a new period for the licence it continues
 * (held->id), else a new licence (a copy of copy_of, or the app's original). */
static int record(const struct activate_ctx *c, const char *key_id, long long product_id,
                  const struct held *held, const char *copy_of)
{
    const store_activation_request *r = c->r;
    store_license *l = &c->out->license;
    char product[24], ttl[24], row[24];
    const char *renew[7] = {row, c->static_part, r->container_id, r->ip, r->claimed_ip,
                            r->domain, ttl};
    const char *insert[13] = {r->key->vendor_id, r->key->customer_id, key_id, product,
                              r->app_id, r->node_id, c->static_part, r->container_id,
                              r->ip, r->claimed_ip, r->domain, ttl, copy_of};
    PGresult *res = NULL;
    int rc;

    snprintf(product, sizeof product, "%lld", product_id);
    snprintf(ttl, sizeof ttl, "%ld", r->ttl);
    snprintf(row, sizeof row, "%lld", held->id);
    rc = held->id ? store_exec_row(&Q_ACTIVATION_RENEW, 7, renew, 0, &res)
                  : store_exec_row(&Q_ACTIVATION_INSERT, 13, insert, 0, &res);
    if (rc == LICD_OK) {
        memset(l, 0, sizeof *l);
        snprintf(l->vendor_id, sizeof l->vendor_id, "%s", r->key->vendor_id);
        snprintf(l->customer_id, sizeof l->customer_id, "%s", r->key->customer_id);
        l->product_id = product_id;
        store_col_copy(res, 0, RECORDED_LICENSE_ID, l->license_id, sizeof l->license_id);
        snprintf(l->client_id, sizeof l->client_id, "%s", r->app_id);
        snprintf(l->platform, sizeof l->platform, "any");
        snprintf(l->status, sizeof l->status, "active");
        l->issued_at = (time_t)store_col_int(res, 0, RECORDED_ISSUED_AT);
        l->expires_at = (time_t)store_col_int(res, 0, RECORDED_EXPIRES_AT);
    }
    PQclear(res);
    return rc;
}

/* The product the facts name, as the activation answers it. */
static int fill_product(store_product *p, const PGresult *res, long long id)
{
    p->id = id;
    store_col_copy(res, 0, FACT_CODE, p->code, sizeof p->code);
    store_col_copy(res, 0, FACT_VERSION, p->version, sizeof p->version);
    return store_col_dup(res, 0, FACT_FEATURES, &p->features_json);
}

/* The presented password first (it decides which licence the request
 * continues, see domain_group_license_for), then the facts of that licence;
 * a password the key never issued is refused only once every other check
 * has passed, as API.md orders them. */
static int activate_tx(void *p)
{
    struct activate_ctx *c = p;
    const store_activation_request *r = c->r;
    store_activation *out = c->out;
    store_upw_found presented = {.id = 0};
    domain_upw_status became;
    domain_group_license which;
    struct facts fa = {.product_id = 0};
    struct held held = {0, 0, NULL};
    PGresult *res = NULL;
    char key_id[24];
    int rc = LICD_OK, unknown = 0, over = 0;

    out->verdict = GROUP_ISSUE;
    out->presented = NULL;
    out->update_password[0] = '\0';
    snprintf(key_id, sizeof key_id, "%lld", r->key->id);
    if (r->update_password) {
        rc = store_upw_find(r->key->id, r->update_password, &presented, out->detail);
        unknown = rc == LICD_ERR_UPDATE_PASSWORD_UNKNOWN;
        if (rc != LICD_OK && !unknown)
            goto out;
    }
    if ((rc = gather(c, key_id, presented.id ? presented.license_id : NULL, &res, &fa)) != LICD_OK)
        goto out;
    which = domain_group_license_for(presented.id != 0, presented.status == UPW_ISSUED,
                                     fa.chain.id != 0);
    if (which != GROUP_LICENSE_COPY)
        held = which == GROUP_LICENSE_CHAIN ? fa.chain : fa.original;
    fa.f.blocked = held.blocked || (presented.id && presented.status == UPW_BLOCKED);
    if (held.id && fa.has_limits &&
        (rc = store_usage_over_limit(r->key->vendor_id, held.license_id, &over, &out->excess)))
        goto out;
    fa.f.over_limit = over;
    /* A refusal writes nothing: the transaction commits only the locks. */
    if ((out->verdict = domain_group_decide(&fa.f)) != GROUP_ISSUE)
        goto out;
    if (unknown) {
        rc = LICD_ERR_UPDATE_PASSWORD_UNKNOWN;
        goto out;
    }
    if ((rc = fill_product(&out->product, res, fa.product_id)) != LICD_OK ||
        (fa.f.link == LINK_BIND && (rc = bind_link(key_id, fa.link_type, fa.bind_to)) != LICD_OK) ||
        (rc = record(c, key_id, fa.product_id, &held,
                     which == GROUP_LICENSE_COPY ? fa.chain.license_id : NULL)) != LICD_OK)
        goto out;
    snprintf(out->license.version, sizeof out->license.version, "%s", out->product.version);
    if (presented.id) {
        store_upw_evidence e = {r->ip,           r->claimed_ip, r->node_id,
                                r->app_id,       r->container_id, r->domain,
                                out->license.license_id};
        if ((rc = store_upw_present(&presented, &e, &became)) != LICD_OK)
            goto out;
        out->presented = domain_upw_statuses[became];
    }
    {
        store_upw_owner o = {r->key->vendor_id,   r->key->id, fa.product_id, r->node_id,
                             r->app_id, out->license.license_id, c->static_part};
        rc = store_upw_issue(&o, out->update_password);
    }
out:
    PQclear(res);
    return rc;
}

int store_group_activate(const store_activation_request *r, store_activation *out)
{
    char static_part[UPW_PART_LEN + 1];
    struct activate_ctx c = {r, static_part, out};
    int rc;
    memset(out, 0, sizeof *out);
    /* Outside the transaction: the first call may create the server secret,
     * which must not vanish with a rolled-back activation. */
    if ((rc = store_upw_static(r->key->id, r->node_id, static_part)) != LICD_OK)
        return rc;
    return store_tx(activate_tx, &c);
}
