/* SQL for update passwords (see update_passwords.h). */
#include "store/update_passwords.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/db.h"

#define SECRET_NAME "update_password"
#define SECRET_BYTES 32
#define PURGE_BATCH 10000
#define PURGE_BATCH_TEXT "10000"
#define EVIDENCE_SHOWN "100" /* evidence entries an item shows, oldest first */

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
        rc = store_exec("WITH ins AS (INSERT INTO service_secrets (name, secret)"
                        "  VALUES ($1, decode($2, 'hex')) ON CONFLICT (name) DO NOTHING"
                        "  RETURNING secret)"
                        " SELECT secret FROM ins"
                        " UNION ALL SELECT secret FROM service_secrets WHERE name = $1",
                        2, params, 0, &res);
        if (rc == LICD_OK && PQntuples(res) > 0) {
            size_t len = 0;
            const unsigned char *text = (const unsigned char *)PQgetvalue(res, 0, 0);
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
    uint8_t digest[CRYPTO_SHA256_LEN];
    crypto_sha256(dynamic_part, strlen(dynamic_part), digest);
    crypto_hex(digest, sizeof digest, hex);
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
    if (store_exec("SELECT node_id FROM activations WHERE group_key_id = $1 AND static = $2"
                   " LIMIT 1",
                   2, params, 1, &res) == LICD_OK &&
        PQntuples(res) == 1)
        snprintf(detail, LICD_DETAIL_MAX,
                 "this group key never issued this update password (or it was purged); its"
                 " static part is that of node %.64s",
                 PQgetvalue(res, 0, 0));
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
    rc = store_exec("SELECT id, static, status FROM update_passwords"
                    " WHERE group_key_id = $1 AND dynamic_hash = decode($2, 'hex') FOR UPDATE",
                    2, params, 0, &res);
    if (rc == LICD_OK && PQntuples(res) == 1 &&
        strcmp(PQgetvalue(res, 0, 1), static_part) == 0 &&
        domain_upw_status_parse(PQgetvalue(res, 0, 2), &out->status) == 0) {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
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
    const char *params[9] = {id,        domain_upw_statuses[next],
                             next == UPW_CLONED ? "clone" : "first_use",
                             e->ip,     e->node_id,
                             e->app_id, e->container_id,
                             e->domain, e->license_id};
    snprintf(id, sizeof id, "%lld", p->id);
    *became = next;
    return store_run("WITH u AS (UPDATE update_passwords SET status = $2,"
                     "  first_used_at = coalesce(first_used_at, now()),"
                     "  cloned_at = CASE WHEN $2 = 'cloned' AND status <> 'cloned' THEN now()"
                     "   ELSE cloned_at END"
                     "  WHERE id = $1 RETURNING id)"
                     " INSERT INTO update_password_evidence (password_id, kind, ip, node_id,"
                     "  app_id, container_id, domain, license_id)"
                     " SELECT id, $3, $4::inet, $5, $6, $7, $8, $9 FROM u",
                     9, params);
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
    rc = store_run("INSERT INTO update_passwords (vendor_id, group_key_id, product_id, node_id,"
                   " app_id, license_id, static, dynamic_hash)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex'))",
                   8, params);
    if (rc == LICD_OK)
        domain_upw_format(o->static_part, dynamic_part, out);
    OPENSSL_cleanse(random, sizeof random);
    OPENSSL_cleanse(dynamic_part, sizeof dynamic_part);
    return rc;
}

/* Every query of the queue renders a password with these columns (u the
 * password, g its group key, p its product); evidence oldest first. */
#define ITEM_COLUMNS                                                                          \
    "u.id, g.prefix, p.code, u.node_id, u.app_id, u.static, u.status, u.license_id, "         \
    STORE_TIME("u.issued_at") ", coalesce(" STORE_TIME("u.first_used_at") ", ''),"            \
    " coalesce(" STORE_TIME("u.cloned_at") ", ''), coalesce(" STORE_TIME("u.resolved_at")     \
    ", ''),"                                                                                  \
    " (SELECT coalesce(json_agg(json_build_object('kind', e.kind, 'at', " STORE_TIME("e.at")  \
    ",  'ip', host(e.ip), 'node_id', e.node_id, 'app_id', e.app_id,"                          \
    "  'container_id', e.container_id, 'domain', e.domain, 'license_id', e.license_id)"       \
    "  ORDER BY e.id), '[]')::text"                                                          \
    "  FROM (SELECT * FROM update_password_evidence WHERE password_id = u.id"                 \
    "   ORDER BY id LIMIT " EVIDENCE_SHOWN ") e),"                                       \
    " (SELECT count(*) FROM update_password_evidence WHERE password_id = u.id)"
#define ITEM_FROM                                                                             \
    " FROM update_passwords u JOIN group_keys g ON g.id = u.group_key_id"                     \
    " JOIN products p ON p.id = u.product_id"

int store_upw_list(const char *vendor_id, domain_upw_status status, long long after, int limit,
                   PGresult **res)
{
    char a[24], l[16];
    const char *params[4] = {vendor_id, domain_upw_statuses[status], a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit);
    return store_exec("SELECT " ITEM_COLUMNS ITEM_FROM
                      " WHERE u.vendor_id = $1 AND u.status = $2 AND u.id > $3"
                      " ORDER BY u.id LIMIT $4",
                      4, params, 1, res);
}

/* 1 if s is a list position this service could have given out. */
static int is_row_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

int store_upw_get(const char *vendor_id, const char *id, PGresult **res)
{
    const char *params[2] = {vendor_id, id};
    *res = NULL;
    if (!is_row_id(id))
        return LICD_ERR_NOT_FOUND;
    return store_exec_row("SELECT " ITEM_COLUMNS ITEM_FROM " WHERE u.vendor_id = $1 AND u.id = $2",
                          2, params, 1, res);
}

void store_upw_row(const PGresult *res, int row, store_upw_item *out)
{
    out->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    out->group_key_prefix = PQgetvalue(res, row, 1);
    out->product = PQgetvalue(res, row, 2);
    out->node_id = PQgetvalue(res, row, 3);
    out->app_id = PQgetvalue(res, row, 4);
    out->static_part = PQgetvalue(res, row, 5);
    out->status = PQgetvalue(res, row, 6);
    out->license_id = PQgetvalue(res, row, 7);
    out->issued_at = PQgetvalue(res, row, 8);
    out->first_used_at = PQgetvalue(res, row, 9);
    out->cloned_at = PQgetvalue(res, row, 10);
    out->resolved_at = PQgetvalue(res, row, 11);
    out->evidence_json = PQgetvalue(res, row, 12);
    out->evidence_count = strtoll(PQgetvalue(res, row, 13), NULL, 10);
}

struct resolve_ctx {
    const store_actor *who;
    const char *id;
    int block;
    char **blocked_json;
};

/* Blocks the licences issued in answer to the password's later
 * presentations, never the first presenter's (when a copy shares app and
 * node with the original, the two hold one licence and it stays unblocked),
 * audits each block, and lists them in *c->blocked_json. */
static int block_copies(const struct resolve_ctx *c)
{
    const char *params[2] = {c->who->vendor_id, c->id};
    PGresult *res = NULL;
    cJSON *ids = NULL;
    char details[64];
    int rc = store_exec(
        "WITH b AS (UPDATE activations SET blocked = true"
        "  WHERE vendor_id = $1 AND license_id IN ("
        "   SELECT license_id FROM update_password_evidence WHERE password_id = $2"
        "    AND kind = 'clone'"
        "   EXCEPT SELECT license_id FROM update_password_evidence WHERE password_id = $2"
        "    AND kind = 'first_use')"
        "  RETURNING license_id)"
        " SELECT license_id FROM b ORDER BY license_id",
        2, params, 0, &res);
    if (rc != LICD_OK)
        goto out;
    snprintf(details, sizeof details, "{\"update_password_id\":\"%s\"}", c->id);
    if (!(ids = cJSON_CreateArray())) {
        rc = LICD_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; rc == LICD_OK && i < PQntuples(res); i++) {
        const char *lid = PQgetvalue(res, i, 0);
        rc = cJSON_AddItemToArray(ids, cJSON_CreateString(lid))
                 ? store_audit(c->who, "block", "license", lid, details)
                 : LICD_ERR_NOMEM;
    }
    if (rc != LICD_OK)
        goto out;
    free(*c->blocked_json);
    *c->blocked_json = cJSON_PrintUnformatted(ids);
    rc = *c->blocked_json ? LICD_OK : LICD_ERR_NOMEM;
out:
    cJSON_Delete(ids);
    PQclear(res);
    return rc;
}

static int resolve_tx(void *p)
{
    struct resolve_ctx *c = p;
    const char *params[3] = {c->who->vendor_id, c->id, c->block ? "blocked" : "dismissed"};
    PGresult *res = NULL;
    char details[1024];
    int rc = store_exec("SELECT status FROM update_passwords WHERE vendor_id = $1 AND id = $2"
                        " FOR UPDATE",
                        2, params, 0, &res);
    if (rc != LICD_OK)
        goto out;
    if (PQntuples(res) != 1) {
        rc = LICD_ERR_NOT_FOUND;
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "cloned") != 0) {
        rc = LICD_ERR_CONFLICT;
        goto out;
    }
    if (c->block && (rc = block_copies(c)) != LICD_OK)
        goto out;
    if ((rc = store_run("UPDATE update_passwords SET status = $3, resolved_at = now()"
                        " WHERE vendor_id = $1 AND id = $2",
                        3, params)) != LICD_OK)
        goto out;
    snprintf(details, sizeof details, "{\"action\":\"%s\",\"blocked_licenses\":%s}",
             c->block ? "block" : "dismiss", *c->blocked_json ? *c->blocked_json : "[]");
    rc = store_audit(c->who, "resolve", "update_password", c->id, details);
out:
    PQclear(res);
    return rc;
}

int store_upw_resolve(const store_actor *who, const char *id, int block, char **blocked_json)
{
    struct resolve_ctx c = {who, id, block, blocked_json};
    int rc;
    *blocked_json = NULL;
    if (!is_row_id(id))
        return LICD_ERR_NOT_FOUND;
    rc = store_tx(resolve_tx, &c);
    if (rc == LICD_OK && !*blocked_json && !(*blocked_json = strdup("[]")))
        rc = LICD_ERR_NOMEM;
    if (rc != LICD_OK) {
        free(*blocked_json);
        *blocked_json = NULL;
    }
    return rc;
}

int store_upw_purge(long retention, long long *deleted)
{
    char seconds[24];
    const char *params[1] = {seconds};
    int rc = LICD_OK, n = PURGE_BATCH;
    *deleted = 0;
    snprintf(seconds, sizeof seconds, "%ld", retention);
    /* In batches, so one purge never holds many row locks for long. */
    while (rc == LICD_OK && n == PURGE_BATCH) {
        PGresult *res = NULL;
        rc = store_exec("DELETE FROM update_passwords WHERE id IN ("
                        " SELECT id FROM update_passwords WHERE status <> 'cloned'"
                        "  AND issued_at < now() - make_interval(secs => $1::bigint)"
                        "  LIMIT " PURGE_BATCH_TEXT ")",
                        1, params, 0, &res);
        n = rc == LICD_OK ? atoi(PQcmdTuples(res)) : 0;
        *deleted += n;
        PQclear(res);
    }
    return rc;
}
