/* SQL for update passwords (see update_passwords.h). */
#include "store/update_passwords.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/sql.h"

#define SECRET_NAME "update_password"
#define SECRET_BYTES 32
#define EVIDENCE_SHOWN "100" /* evidence entries an item shows, oldest first */

/* Inserts the secret unless there is one, and reads the one there is. */
enum { SECRET_VALUE };
static const store_sql Q_SECRET_LOAD = {
    "upw_secret_load", "WITH ins AS (INSERT INTO service_secrets (name, secret)"
                       "  VALUES ($1, decode($2, 'hex')) ON CONFLICT (name) DO NOTHING"
                       "  RETURNING secret)"
                       " SELECT secret FROM ins"
                       " UNION ALL SELECT secret FROM service_secrets WHERE name = $1"};
enum { STATIC_NODE_ID };
static const store_sql Q_STATIC_NODE = {
    "upw_static_node", "SELECT node_id FROM activations WHERE group_key_id = $1 AND static = $2"
                       " LIMIT 1"};
enum { FOUND_ID, FOUND_STATIC, FOUND_STATUS, FOUND_LICENSE_ID };
static const store_sql Q_UPW_FIND = {
    "upw_find", "SELECT id, static, status, license_id FROM update_passwords"
                " WHERE group_key_id = $1 AND dynamic_hash = decode($2, 'hex') FOR UPDATE"};
static const store_sql Q_UPW_PRESENT = {
    "upw_present", "WITH prior AS (SELECT status FROM update_passwords WHERE id = $1),"
                   " u AS (UPDATE update_passwords SET status = $2,"
                   "  first_used_at = coalesce(first_used_at, now()),"
                   "  cloned_at = CASE WHEN $2 = 'cloned' AND status <> 'cloned' THEN now()"
                   "   ELSE cloned_at END"
                   "  WHERE id = $1 RETURNING *),"
                   /* The moderation item is born: clone.detected, in this statement. */
                   " ev AS (INSERT INTO events (vendor_id, type, data)"
                   "  SELECT u.vendor_id, 'clone.detected', jsonb_build_object('id', u.id::text,"
                   "  'group_key_prefix', g.prefix, 'node_id', u.node_id, 'app_id', u.app_id,"
                   "  'static', u.static, 'cloned_at', " STORE_TIME("u.cloned_at") ","
                   "  'license_id', $10::text)"
                   "  FROM u JOIN group_keys g ON g.id = u.group_key_id CROSS JOIN prior"
                   "  WHERE u.status = 'cloned' AND prior.status <> 'cloned')"
                   " INSERT INTO update_password_evidence (password_id, kind, ip, claimed_ip,"
                   "  node_id, app_id, container_id, domain, license_id)"
                   " SELECT id, $3, $4::inet, $5::inet, $6, $7, $8, $9, $10 FROM u"};
static const store_sql Q_UPW_ISSUE = {
    "upw_issue", "INSERT INTO update_passwords (vendor_id, group_key_id, product_id, node_id,"
                 " app_id, license_id, static, dynamic_hash)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex'))"};

/* Every query of the queue renders a password with these columns (u the
 * password, g its group key, p its product); evidence oldest first. */
enum { ITEM_ID, ITEM_GROUP_KEY_PREFIX, ITEM_PRODUCT, ITEM_NODE_ID, ITEM_APP_ID, ITEM_STATIC,
       ITEM_STATUS, ITEM_LICENSE_ID, ITEM_ISSUED_AT, ITEM_FIRST_USED_AT, ITEM_CLONED_AT,
       ITEM_RESOLVED_AT, ITEM_EVIDENCE, ITEM_EVIDENCE_COUNT };
#define ITEM_COLUMNS                                                                          \
    "u.id, g.prefix, p.code, u.node_id, u.app_id, u.static, u.status, u.license_id, "         \
    STORE_TIME("u.issued_at") ", coalesce(" STORE_TIME("u.first_used_at") ", ''),"            \
    " coalesce(" STORE_TIME("u.cloned_at") ", ''), coalesce(" STORE_TIME("u.resolved_at")     \
    ", ''),"                                                                                  \
    " (SELECT coalesce(json_agg(json_build_object('kind', e.kind, 'at', " STORE_TIME("e.at")  \
    ",  'ip', host(e.ip), 'claimed_ip', host(e.claimed_ip), 'node_id', e.node_id,"            \
    "  'app_id', e.app_id,"                                                                    \
    "  'container_id', e.container_id, 'domain', e.domain, 'license_id', e.license_id)"       \
    "  ORDER BY e.id), '[]')::text"                                                          \
    "  FROM (SELECT * FROM update_password_evidence WHERE password_id = u.id"                 \
    "   ORDER BY id LIMIT " EVIDENCE_SHOWN ") e),"                                       \
    " (SELECT count(*) FROM update_password_evidence WHERE password_id = u.id)"
#define ITEM_FROM                                                                             \
    " FROM update_passwords u JOIN group_keys g ON g.id = u.group_key_id"                     \
    " JOIN products p ON p.id = u.product_id"
static const store_field item_fields[] = {
    [ITEM_ID] = STORE_INT64(store_upw_item, id),
    [ITEM_GROUP_KEY_PREFIX] = STORE_TEXT(store_upw_item, group_key_prefix),
    [ITEM_PRODUCT] = STORE_TEXT(store_upw_item, product),
    [ITEM_NODE_ID] = STORE_TEXT(store_upw_item, node_id),
    [ITEM_APP_ID] = STORE_TEXT(store_upw_item, app_id),
    [ITEM_STATIC] = STORE_TEXT(store_upw_item, static_part),
    [ITEM_STATUS] = STORE_TEXT(store_upw_item, status),
    [ITEM_LICENSE_ID] = STORE_TEXT(store_upw_item, license_id),
    [ITEM_ISSUED_AT] = STORE_TEXT(store_upw_item, issued_at),
    [ITEM_FIRST_USED_AT] = STORE_TEXT(store_upw_item, first_used_at),
    [ITEM_CLONED_AT] = STORE_TEXT(store_upw_item, cloned_at),
    [ITEM_RESOLVED_AT] = STORE_TEXT(store_upw_item, resolved_at),
    [ITEM_EVIDENCE] = STORE_DUP(store_upw_item, evidence_json),
    [ITEM_EVIDENCE_COUNT] = STORE_INT64(store_upw_item, evidence_count),
};
static const store_rowtype item_row = STORE_ROWTYPE(store_upw_item, item_fields);
static const store_sql Q_UPW_LIST = {
    "upw_list", "SELECT " ITEM_COLUMNS ITEM_FROM
                " WHERE u.vendor_id = $1 AND u.status = $2 AND u.id > $3"
                " ORDER BY u.id LIMIT $4"};
static const store_sql Q_UPW_GET = {
    "upw_get", "SELECT " ITEM_COLUMNS ITEM_FROM " WHERE u.vendor_id = $1 AND u.id = $2"};

/* Blocks the licences of the password's later presentations but those of
 * its first presenter. */
enum { BLOCKED_LICENSE_ID };
static const store_sql Q_UPW_BLOCK_COPIES = {
    "upw_block_copies",
    "WITH b AS (UPDATE activations SET blocked = true"
    "  WHERE vendor_id = $1 AND license_id IN ("
    "   SELECT license_id FROM update_password_evidence WHERE password_id = $2"
    "    AND kind = 'clone'"
    "   EXCEPT SELECT license_id FROM update_password_evidence WHERE password_id = $2"
    "    AND kind = 'first_use')"
    "  RETURNING license_id)"
    " SELECT license_id FROM b ORDER BY license_id"};
enum { LOCKED_STATUS };
static const store_sql Q_UPW_LOCK = {
    "upw_lock", "SELECT status FROM update_passwords WHERE vendor_id = $1 AND id = $2"
                " FOR UPDATE"};
static const store_sql Q_UPW_RESOLVE = {
    "upw_resolve", "UPDATE update_passwords SET status = $3, resolved_at = now()"
                   " WHERE vendor_id = $1 AND id = $2"};
static const store_sql Q_UPW_PURGE = {
    "upw_purge", STORE_PURGE("update_passwords",
                             "status <> 'cloned'"
                             " AND issued_at < now() - make_interval(secs => $1::bigint)",
                             "ORDER BY issued_at")};

static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t secret[SECRET_BYTES];
static int have_secret;

/* Reads the secret, making it first if no licd node has yet. The insert and
 * the read share one statement; when another node's insert commits in
 * between, neither half returns a row and the next attempt reads it. */
static int load_secret(void)
{
    char fresh[2 * SECRET_BYTES + 1];
    const char *params[2] = {SECRET_NAME, fresh};
    int rc = LICD_OK;
    if (crypto_random_hex(SECRET_BYTES, fresh) != 0)
        return LICD_ERR_INTERNAL;
    for (int attempt = 0; attempt < 3 && !have_secret && rc == LICD_OK; attempt++) {
        PGresult *res = NULL;
        rc = store_exec(&Q_SECRET_LOAD, 2, params, 0, &res);
        if (rc == LICD_OK && PQntuples(res) > 0) {
            size_t len = 0;
            const unsigned char *text = (const unsigned char *)store_col_str(res, 0, SECRET_VALUE);
            unsigned char *raw = PQunescapeBytea(text, &len);
            if (raw && len >= SECRET_BYTES) {
                memcpy(secret, raw, SECRET_BYTES);
                have_secret = 1;
            } else {
                rc = raw ? LICD_ERR_INTERNAL : LICD_ERR_NOMEM;
            }
            if (raw) {
                OPENSSL_cleanse(raw, len);
                PQfreemem(raw);
            }
        }
        PQclear(res);
    }
    OPENSSL_cleanse(fresh, sizeof fresh);
    return rc == LICD_OK && !have_secret ? LICD_ERR_UNAVAILABLE : rc;
}

int store_upw_static(long long group_key_id, const char *node_id, char out[UPW_PART_LEN + 1])
{
    uint8_t mac[CRYPTO_SHA256_LEN];
    char *msg;
    int rc = LICD_OK, len;

    pthread_mutex_lock(&secret_lock);
    if (!have_secret)
        rc = load_secret();
    pthread_mutex_unlock(&secret_lock);
    if (rc != LICD_OK)
        return rc;
    len = asprintf(&msg, "%lld/%s", group_key_id, node_id);
    if (len < 0)
        return LICD_ERR_NOMEM;
    rc = crypto_hmac_sha256(secret, sizeof secret, msg, (size_t)len, mac);
    free(msg);
    if (rc == LICD_OK)
        domain_upw_part(mac, out);
    return rc;
}

/* Hex SHA-256 of a dynamic part: what is stored in its place. */
static void dynamic_hash(const char *dynamic_part, char hex[2 * CRYPTO_SHA256_LEN + 1])
{
    crypto_sha256_hex(dynamic_part, strlen(dynamic_part), hex);
}

/* Names, for an unknown password, the node its static part belongs to: the
 * static part identifies key and node even once the dynamic part is gone. */
static void unknown_detail(long long group_key_id, const char *static_part,
                           char detail[LICD_DETAIL_MAX])
{
    char key[24];
    const char *params[2] = {key, static_part};
    PGresult *res = NULL;
    snprintf(key, sizeof key, "%lld", group_key_id);
    if (store_exec(&Q_STATIC_NODE, 2, params, 1, &res) == LICD_OK && PQntuples(res) == 1)
        snprintf(detail, LICD_DETAIL_MAX,
                 "this group key never issued this update password (or it was purged); its"
                 " static part is that of node %.64s",
                 store_col_str(res, 0, STATIC_NODE_ID));
    else
        snprintf(detail, LICD_DETAIL_MAX, "this group key never issued this update password");
    PQclear(res);
}

int store_upw_find(long long group_key_id, const char *presented, store_upw_found *out,
                   char detail[LICD_DETAIL_MAX])
{
    char static_part[UPW_PART_LEN + 1], dynamic_part[UPW_PART_LEN + 1];
    char key[24], hash[2 * CRYPTO_SHA256_LEN + 1];
    const char *params[2] = {key, hash};
    PGresult *res = NULL;
    int rc;

    if (domain_upw_parse(presented, static_part, dynamic_part) != 0) {
        snprintf(detail, LICD_DETAIL_MAX,
                 "update_password must be STATIC-DYNAMIC, two parts of %d base32 characters",
                 UPW_PART_LEN);
        return LICD_ERR_UPDATE_PASSWORD_UNKNOWN;
    }
    snprintf(key, sizeof key, "%lld", group_key_id);
    dynamic_hash(dynamic_part, hash);
    rc = store_exec(&Q_UPW_FIND, 2, params, 0, &res);
    if (rc == LICD_OK && PQntuples(res) == 1 &&
        strcmp(store_col_str(res, 0, FOUND_STATIC), static_part) == 0 &&
        domain_upw_status_parse(store_col_str(res, 0, FOUND_STATUS), &out->status) == 0) {
        out->id = store_col_int(res, 0, FOUND_ID);
        store_col_copy(res, 0, FOUND_LICENSE_ID, out->license_id, sizeof out->license_id);
    } else if (rc == LICD_OK) {
        unknown_detail(group_key_id, static_part, detail);
        rc = LICD_ERR_UPDATE_PASSWORD_UNKNOWN;
    }
    PQclear(res);
    return rc;
}

int store_upw_present(const store_upw_found *p, const store_upw_evidence *e,
                      domain_upw_status *became)
{
    char id[24];
    domain_upw_status next = domain_upw_presented(p->status);
    const char *params[10] = {id,           domain_upw_statuses[next],
                              next == UPW_CLONED ? "clone" : "first_use",
                              e->ip,        e->claimed_ip,
                              e->node_id,   e->app_id,
                              e->container_id, e->domain,
                              e->license_id};
    snprintf(id, sizeof id, "%lld", p->id);
    *became = next;
    return store_run(&Q_UPW_PRESENT, 10, params);
}

int store_upw_issue(const store_upw_owner *o, char out[UPW_LEN + 1])
{
    uint8_t random[UPW_PART_BYTES];
    char dynamic_part[UPW_PART_LEN + 1], hash[2 * CRYPTO_SHA256_LEN + 1], key[24], product[24];
    const char *params[8] = {o->vendor_id, key,           product,         o->node_id,
                             o->app_id,    o->license_id, o->static_part, hash};
    int rc;

    if (crypto_random(random, sizeof random) != 0)
        return LICD_ERR_INTERNAL;
    domain_upw_part(random, dynamic_part);
    dynamic_hash(dynamic_part, hash);
    snprintf(key, sizeof key, "%lld", o->group_key_id);
    snprintf(product, sizeof product, "%lld", o->product_id);
    rc = store_run(&Q_UPW_ISSUE, 8, params);
    if (rc == LICD_OK)
        domain_upw_format(o->static_part, dynamic_part, out);
    OPENSSL_cleanse(random, sizeof random);
    OPENSSL_cleanse(dynamic_part, sizeof dynamic_part);
    return rc;
}

int store_upw_list(const char *vendor_id, domain_upw_status status, long long after, int limit,
                   store_page *page)
{
    char a[24], l[16];
    const char *params[4] = {vendor_id, domain_upw_statuses[status], a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_UPW_LIST, 4, params, &item_row, limit, ITEM_ID, page);
}

/* 1 if s is a list position this service could have given out. */
static int is_row_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

int store_upw_get(const char *vendor_id, const char *id, store_upw_item *out)
{
    const char *params[2] = {vendor_id, id};
    out->evidence_json = NULL;
    if (!is_row_id(id))
        return LICD_ERR_NOT_FOUND;
    return store_fetch_row(&Q_UPW_GET, 2, params, 1, &item_row, out);
}

void store_upw_item_clear(store_upw_item *u)
{
    store_clear(&item_row, u);
}

struct resolve_ctx {
    const store_actor *who;
    const char *id;
    int block;
    cJSON *blocked;             /* the licence ids blocked, as a JSON array */
};

/* Blocks the licences issued in answer to the password's later
 * presentations, never the first presenter's (a copy that shares app and
 * node with the original got a licence of its own in answer, see
 * domain_group_license_for), audits each block, and lists them in
 * c->blocked. */
static int block_copies(struct resolve_ctx *c)
{
    const char *params[2] = {c->who->vendor_id, c->id};
    PGresult *res = NULL;
    cJSON *details = cJSON_CreateObject();
    int rc = details && cJSON_AddStringToObject(details, "update_password_id", c->id)
                 ? store_exec(&Q_UPW_BLOCK_COPIES, 2, params, 0, &res)
                 : LICD_ERR_NOMEM;
    for (int i = 0; rc == LICD_OK && i < PQntuples(res); i++) {
        const char *lid = store_col_str(res, i, BLOCKED_LICENSE_ID);
        rc = cJSON_AddItemToArray(c->blocked, cJSON_CreateString(lid))
                 ? store_audit(c->who, "block", "license", lid, details)
                 : LICD_ERR_NOMEM;
    }
    cJSON_Delete(details);
    PQclear(res);
    return rc;
}

/* Locks the password, blocks its copies if asked, resolves it and audits
 * the resolution with the full list of licences blocked. */
static int resolve_tx(void *p)
{
    struct resolve_ctx *c = p;
    const char *params[3] = {c->who->vendor_id, c->id, c->block ? "blocked" : "dismissed"};
    PGresult *res = NULL;
    cJSON *details = NULL;
    int rc;

    /* A transaction run again starts from no licence blocked. */
    cJSON_Delete(c->blocked);
    if (!(c->blocked = cJSON_CreateArray()))
        return LICD_ERR_NOMEM;
    rc = store_exec_row(&Q_UPW_LOCK, 2, params, 0, &res);
    if (rc == LICD_OK && strcmp(store_col_str(res, 0, LOCKED_STATUS), "cloned") != 0)
        rc = LICD_ERR_CONFLICT;
    PQclear(res);
    if (rc != LICD_OK || (c->block && (rc = block_copies(c)) != LICD_OK) ||
        (rc = store_run(&Q_UPW_RESOLVE, 3, params)) != LICD_OK)
        return rc;
    rc = (details = cJSON_CreateObject()) &&
                 cJSON_AddStringToObject(details, "action", c->block ? "block" : "dismiss") &&
                 cJSON_AddItemReferenceToObject(details, "blocked_licenses", c->blocked)
             ? store_audit(c->who, "resolve", "update_password", c->id, details)
             : LICD_ERR_NOMEM;
    cJSON_Delete(details);
    return rc;
}

int store_upw_resolve(const store_actor *who, const char *id, int block, char **blocked_json)
{
    struct resolve_ctx c = {who, id, block, NULL};
    int rc;
    *blocked_json = NULL;
    if (!is_row_id(id))
        return LICD_ERR_NOT_FOUND;
    rc = store_tx(resolve_tx, &c);
    if (rc == LICD_OK && !(*blocked_json = cJSON_PrintUnformatted(c.blocked)))
        rc = LICD_ERR_NOMEM;
    cJSON_Delete(c.blocked);
    return rc;
}

int store_upw_purge(long retention, long long *deleted)
{
    char seconds[24];
    const char *params[1] = {seconds};
    snprintf(seconds, sizeof seconds, "%ld", retention);
    return store_purge(&Q_UPW_PURGE, 1, params, deleted);
}
