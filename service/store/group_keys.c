/* SQL for group keys and their activations (see group_keys.h). */
#include "store/group_keys.h"

#include <stdio.h>
#include <string.h>

#include "store/customers.h"
#include "store/sql.h"
#include "store/update_passwords.h"

/* Every query renders a group key with these columns (g = group_keys). */
enum { KEY_ID, KEY_VENDOR_ID, KEY_CUSTOMER_ID, KEY_PREFIX, KEY_SCHEME, KEY_LINK_TYPE,
       KEY_LINK_VALUE, KEY_EXPIRES, KEY_CREATED_AT, KEY_POOL, KEY_LIMITS };
#define KEY_COLUMNS                                                                         \
    "g.id, g.vendor_id, g.customer_id, g.prefix, g.scheme, g.link_type,"                    \
    " coalesce(g.link_value, ''), coalesce(" STORE_TIME("g.expires") ", ''), "              \
    STORE_TIME("g.created_at") ","                                                          \
    " (SELECT coalesce(jsonb_object_agg(p.code, gp.quota_per_node), '{}')::text"            \
    "  FROM group_key_products gp JOIN products p ON p.id = gp.product_id"                  \
    "  WHERE gp.group_key_id = g.id),"                                                      \
    " g.limits::text"
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
    [KEY_POOL] = STORE_DUP(store_group_key, pool_json),
    [KEY_LIMITS] = STORE_DUP(store_group_key, limits_json),
};
static const store_rowtype key_row = STORE_ROWTYPE(store_group_key, key_fields);

static const store_sql Q_KEY_GET = {
    "group_key_get", "SELECT " KEY_COLUMNS " FROM group_keys g WHERE g.id = $1"};
/* KEY_COLUMNS and the key's hash, for store_find_key. */
static const store_sql Q_KEY_BY_PREFIX = {
    "group_key_by_prefix", "SELECT " KEY_COLUMNS ", encode(g.key_hash, 'hex')"
                           " FROM group_keys g WHERE g.prefix = $1"};
enum { VENDOR_KEY_ID };
static const store_sql Q_KEY_OF_VENDOR = {
    "group_key_of_vendor", "SELECT id FROM group_keys WHERE vendor_id = $1 AND prefix = $2"};
static const store_sql Q_KEY_UNLINK = {
    "group_key_unlink", "UPDATE group_keys SET link_value = NULL WHERE id = $1"};

/* The first product code of the pool ($2) the vendor does not have. */
enum { MISSING_CODE };
static const store_sql Q_KEY_MISSING_PRODUCT = {
    "group_key_missing_product", "SELECT k FROM jsonb_object_keys($2::jsonb) k WHERE NOT EXISTS"
                                 " (SELECT 1 FROM products WHERE vendor_id = $1 AND code = k)"
                                 " ORDER BY k LIMIT 1"};

/* Inserts the key and its product pool; link is the SQL of the stored link value. */
enum { INSERTED_ID, INSERTED_PRODUCTS };
#define INSERT_KEY(link)                                                                    \
    "WITH g AS (INSERT INTO group_keys (vendor_id, customer_id, prefix, key_hash, scheme,"  \
    "  link_type, link_value, limits, expires)"                                             \
    "  VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6, " link ", $8::jsonb, $9::timestamptz)" \
    "  RETURNING id),"                                                                      \
    " p AS (INSERT INTO group_key_products (group_key_id, product_id, quota_per_node)"      \
    "  SELECT g.id, pr.id, q.value::int FROM g, jsonb_each_text($10::jsonb) q"              \
    "  JOIN products pr ON pr.vendor_id = $1 AND pr.code = q.key RETURNING 1)"              \
    " SELECT g.id, (SELECT count(*) FROM p) FROM g"
/* PostgreSQL reads (and canonicalises) a CIDR; text it cannot read fails
 * the statement with 22P02. */
static const store_sql Q_KEY_CREATE_CIDR = {"group_key_create_cidr",
                                            INSERT_KEY("$7::cidr::text")};
static const store_sql Q_KEY_CREATE = {"group_key_create", INSERT_KEY("$7")};

void store_group_key_clear(store_group_key *k)
{
    store_clear(&key_row, k);
}

/* Reads the group key with that id (inside a transaction: what it wrote). */
static int read_key(long long id, store_group_key *out)
{
    char key[24];
    const char *params[1] = {key};
    snprintf(key, sizeof key, "%lld", id);
    return store_fetch_row(&Q_KEY_GET, 1, params, 1, &key_row, out);
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
    const char *params[10] = {c->who->vendor_id, in->customer_id,   c->key->prefix,
                              c->key->hash_hex,  in->scheme,        in->link_type,
                              in->link_value,    in->limits_json,   in->expires,
                              in->pool_json};
    store_customer customer;
    PGresult *res = NULL;
    cJSON *details = NULL;
    int rc;

    if ((rc = store_customer_get(c->who->vendor_id, in->customer_id, &customer)) != LICD_OK ||
        (rc = check_products(c)) != LICD_OK)
        return rc;
    rc = store_exec(strcmp(in->link_type, "ip_range") == 0 ? &Q_KEY_CREATE_CIDR : &Q_KEY_CREATE,
                    10, params, 0, &res);
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
    out->pool_json = out->limits_json = NULL;
    if (rc == LICD_OK && (rc = store_tx(create_tx, &c)) == LICD_OK)
        snprintf(key, APIKEY_PLAIN_LEN, "%s", k.plain);
    crypto_apikey_wipe(&k);
    return rc;
}

int store_group_key_by_key(const char *key, store_group_key *out)
{
    int rc;
    out->pool_json = out->limits_json = NULL;
    rc = store_find_key(key, &Q_KEY_BY_PREFIX, &key_row, out, NULL);
    return rc == LICD_ERR_UNAUTHORIZED ? LICD_ERR_UNKNOWN_GROUP_KEY : rc;
}

/* 1 if s has the form of a group key's public prefix ("lg_" + 12 hex). */
static int is_prefix(const char *s)
{
    return strlen(s) == APIKEY_PREFIX_LEN - 1 && strncmp(s, "lg_", 3) == 0 &&
           strspn(s + 3, "0123456789abcdef") == APIKEY_PREFIX_LEN - 4;
}

/* The id of the vendor's group key named by the key itself or its prefix. */
static int find_vendor_key(const char *vendor_id, const char *key_or_prefix, long long *id)
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
        if (rc == LICD_OK)
            *id = store_col_int(res, 0, VENDOR_KEY_ID);
        PQclear(res);
        return rc;
    }
    rc = store_find_key(key_or_prefix, &Q_KEY_BY_PREFIX, &key_row, &k, NULL);
    if (rc == LICD_ERR_UNAUTHORIZED || (rc == LICD_OK && strcmp(k.vendor_id, vendor_id) != 0))
        rc = LICD_ERR_NOT_FOUND;
    if (rc == LICD_OK)
        *id = k.id;
    store_group_key_clear(&k);
    return rc;
}

struct relink_ctx {
    const store_actor *who;
    const char *key_or_prefix;
    store_group_key *out;
};

static int relink_tx(void *p)
{
    struct relink_ctx *c = p;
    char id[24];
    const char *params[1] = {id};
    long long key_id;
    int rc = find_vendor_key(c->who->vendor_id, c->key_or_prefix, &key_id);
    if (rc != LICD_OK)
        return rc;
    snprintf(id, sizeof id, "%lld", key_id);
    if ((rc = store_run(&Q_KEY_UNLINK, 1, params)) ||
        (rc = read_key(key_id, c->out)))
        return rc;
    return store_audit(c->who, "relink", "group_key", c->out->prefix, NULL);
}

int store_group_key_relink(const store_actor *who, const char *key_or_prefix,
                           store_group_key *out)
{
    struct relink_ctx c = {who, key_or_prefix, out};
    out->pool_json = out->limits_json = NULL;
    return store_tx(relink_tx, &c);
}

/* ---- activation ---- */

struct activate_ctx {
    const store_activation_request *r;
    const char *static_part;
    store_activation *out;
};

/* The facts of one request, read after the lock: the key's life, scheme and
 * link, the product (if the vendor has it) and its quota (if in the pool),
 * the other instances on the node, and this app's own activation. The
 * strings point into the result they were read from. */
struct facts {
    domain_group_facts f;
    const char *link_type, *link_value;
    const char *bind_to;    /* the identifier an empty link binds to */
    long long product_id;
};

/* One activation at a time per key ($1), product ($2) and node ($3). */
static const store_sql Q_ACTIVATION_LOCK = {
    "activation_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2 || chr(31) || $3, 0))"};
enum { FACT_KEY_EXPIRED, FACT_SCHEME_MATCHES, FACT_PRODUCT_ID, FACT_IN_POOL, FACT_QUOTA,
       FACT_LINK_TYPE, FACT_LINK_VALUE, FACT_IP_IN_RANGE, FACT_OTHER_HOLDERS, FACT_APP_HOLDS,
       FACT_BLOCKED, FACT_CODE, FACT_VERSION, FACT_FEATURES };
static const store_sql Q_ACTIVATION_FACTS = {
    "activation_facts",
    "SELECT g.expires IS NOT NULL AND g.expires <= now(), g.scheme = $2,"
    " coalesce(p.id, 0), gp.quota_per_node IS NOT NULL, coalesce(gp.quota_per_node, 0),"
    " g.link_type, coalesce(g.link_value, ''),"
    " CASE WHEN g.link_type = 'ip_range' AND g.link_value IS NOT NULL"
    "  THEN $6::inet <<= g.link_value::cidr ELSE false END,"
    " (SELECT count(*) FROM activations a WHERE a.group_key_id = g.id"
    "  AND a.product_id = p.id AND a.node_id = $5 AND a.app_id <> $4"
    "  AND a.expires_at > now()),"
    " coalesce(x.expires_at > now(), false), coalesce(x.blocked, false),"
    " p.code, p.version, p.features::text"
    " FROM group_keys g"
    " LEFT JOIN products p ON p.vendor_id = g.vendor_id AND p.code = $3"
    " LEFT JOIN group_key_products gp ON gp.group_key_id = g.id AND gp.product_id = p.id"
    " LEFT JOIN activations x ON x.group_key_id = g.id AND x.product_id = p.id"
    "  AND x.app_id = $4 AND x.node_id = $5"
    " WHERE g.id = $1"};

static const store_sql Q_LINK_BIND_CIDR = {
    "group_key_bind_cidr", "UPDATE group_keys SET link_value = $2::inet::cidr::text"
                           " WHERE id = $1 AND link_value IS NULL RETURNING id"};
static const store_sql Q_LINK_BIND = {
    "group_key_bind", "UPDATE group_keys SET link_value = $2"
                      " WHERE id = $1 AND link_value IS NULL RETURNING id"};

/* Under the activation lock no other request inserts this row. */
enum { RECORDED_LICENSE_ID, RECORDED_ISSUED_AT, RECORDED_EXPIRES_AT };
static const store_sql Q_ACTIVATION_RECORD = {
    "activation_record",
    "WITH u AS (UPDATE activations SET static = $7, container_id = $8,"
    "  ip = $9::inet, domain = $10, activated_at = now(),"
    "  expires_at = now() + make_interval(secs => $11::bigint)"
    "  WHERE group_key_id = $3::bigint AND product_id = $4::bigint"
    "  AND app_id = $5 AND node_id = $6"
    "  RETURNING license_id, issued_at, expires_at),"
    " i AS (INSERT INTO activations (vendor_id, customer_id, group_key_id,"
    "  product_id, app_id, node_id, license_id, static, container_id, ip, domain,"
    "  expires_at)"
    "  SELECT $1::uuid, $2::uuid, $3::bigint, $4::bigint, $5, $6,"
    "  'G' || nextval('activation_license_seq'), $7, $8, $9::inet, $10,"
    "  now() + make_interval(secs => $11::bigint)"
    "  WHERE NOT EXISTS (SELECT 1 FROM u)"
    "  RETURNING license_id, issued_at, expires_at)"
    " SELECT license_id, extract(epoch FROM issued_at)::bigint,"
    " extract(epoch FROM expires_at)::bigint FROM (SELECT * FROM u"
    " UNION ALL SELECT * FROM i) a"};

static int gather(const struct activate_ctx *c, char *key_id, PGresult **res, struct facts *fa)
{
    const store_activation_request *r = c->r;
    const char *params[6] = {key_id, r->scheme, r->product, r->app_id, r->node_id, r->ip};
    const char *lock[3] = {key_id, r->product, r->node_id};
    domain_link_request lr = {r->ip, r->domain, r->node_id, r->app_id, 0};
    domain_link_type type;
    int rc;

    /* The count of instances below stays true until this transaction ends. */
    if ((rc = store_run(&Q_ACTIVATION_LOCK, 3, lock)) != LICD_OK)
        return rc;
    if ((rc = store_exec(&Q_ACTIVATION_FACTS, 6, params, 0, res)) != LICD_OK)
        return rc;
    if (PQntuples(*res) != 1)
        return LICD_ERR_UNKNOWN_GROUP_KEY;
    fa->f.key_expired = store_col_bool(*res, 0, FACT_KEY_EXPIRED);
    fa->f.scheme_matches = store_col_bool(*res, 0, FACT_SCHEME_MATCHES);
    fa->product_id = store_col_int(*res, 0, FACT_PRODUCT_ID);
    fa->f.product_in_group = store_col_bool(*res, 0, FACT_IN_POOL);
    fa->f.quota = (long)store_col_int(*res, 0, FACT_QUOTA);
    fa->link_type = store_col_str(*res, 0, FACT_LINK_TYPE);
    fa->link_value = store_col_str(*res, 0, FACT_LINK_VALUE);
    lr.ip_in_range = store_col_bool(*res, 0, FACT_IP_IN_RANGE);
    fa->f.other_holders = (long)store_col_int(*res, 0, FACT_OTHER_HOLDERS);
    fa->f.app_holds = store_col_bool(*res, 0, FACT_APP_HOLDS);
    fa->f.blocked = store_col_bool(*res, 0, FACT_BLOCKED);
    if (domain_link_type_parse(fa->link_type, &type) != 0)
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

/* Records the activation: a new licence for a new app, node and product,
 * else the same licence with a new period. */
static int record(const struct activate_ctx *c, const char *key_id, long long product_id)
{
    const store_activation_request *r = c->r;
    store_license *l = &c->out->license;
    char product[24], ttl[24];
    const char *params[11] = {r->key->vendor_id, r->key->customer_id, key_id, product,
                              r->app_id, r->node_id, c->static_part, r->container_id,
                              r->ip, r->domain, ttl};
    PGresult *res = NULL;
    int rc;

    snprintf(product, sizeof product, "%lld", product_id);
    snprintf(ttl, sizeof ttl, "%ld", r->ttl);
    rc = store_exec_row(&Q_ACTIVATION_RECORD, 11, params, 0, &res);
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

static int activate_tx(void *p)
{
    struct activate_ctx *c = p;
    const store_activation_request *r = c->r;
    store_activation *out = c->out;
    store_upw_found presented;
    domain_upw_status became;
    struct facts fa = {0};
    PGresult *res = NULL;
    char key_id[24];
    int rc;

    out->verdict = GROUP_ISSUE;
    out->presented = NULL;
    out->update_password[0] = '\0';
    snprintf(key_id, sizeof key_id, "%lld", r->key->id);
    if ((rc = gather(c, key_id, &res, &fa)) != LICD_OK)
        goto out;
    /* A refusal writes nothing: the transaction commits only the lock. */
    if ((out->verdict = domain_group_decide(&fa.f)) != GROUP_ISSUE)
        goto out;
    if ((rc = fill_product(&out->product, res, fa.product_id)) != LICD_OK)
        goto out;
    if (fa.f.link == LINK_BIND && (rc = bind_link(key_id, fa.link_type, fa.bind_to)) != LICD_OK)
        goto out;
    if (r->update_password &&
        (rc = store_upw_find(r->key->id, r->update_password, &presented, out->detail)) != LICD_OK)
        goto out;
    if ((rc = record(c, key_id, fa.product_id)) != LICD_OK)
        goto out;
    snprintf(out->license.version, sizeof out->license.version, "%s", out->product.version);
    if (r->update_password) {
        store_upw_evidence e = {r->ip,           r->node_id, r->app_id, r->container_id,
                                r->domain,       out->license.license_id};
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
