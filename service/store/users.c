/* SQL for users, entitlements, session tokens and failed logins. */
#include "store/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* Over a user u; lists add its list position and read no password hash. */
enum { USER_ID, USER_CUSTOMER_ID, USER_USERNAME, USER_PASSWORD_HASH, USER_REVOKED,
       USER_CREATED_AT, USER_SEQ };
#define USER_COLUMNS_(hash) \
    "u.id, u.customer_id, u.username, " hash ", u.revoked_at IS NOT NULL, " \
    STORE_TIME("u.created_at")
#define USER_COLUMNS USER_COLUMNS_("u.password_hash")
static const store_field user_fields[] = {
    [USER_ID] = STORE_TEXT(store_user, id),
    [USER_CUSTOMER_ID] = STORE_TEXT(store_user, customer_id),
    [USER_USERNAME] = STORE_TEXT(store_user, username),
    [USER_PASSWORD_HASH] = STORE_TEXT(store_user, password_hash),
    [USER_REVOKED] = STORE_BOOL(store_user, revoked),
    [USER_CREATED_AT] = STORE_TEXT(store_user, created_at),
};
static const store_rowtype user_row = STORE_ROWTYPE(store_user, user_fields);

static const store_sql Q_USER_CREATE = {
    "user_create", "WITH u AS (INSERT INTO users (customer_id, username, password_hash)"
                   " VALUES ($1, $2, $3) RETURNING *) SELECT " USER_COLUMNS " FROM u"};
static const store_sql Q_USER_GET = {
    "user_get", "SELECT " USER_COLUMNS " FROM users u"
                " WHERE u.customer_id = $1 AND u.username = $2"};
static const store_sql Q_USER_REVOKE = {
    "user_revoke", "WITH u AS (UPDATE users SET revoked_at = coalesce(revoked_at, now())"
                   " WHERE customer_id = $1 AND username = $2 RETURNING *)"
                   " SELECT " USER_COLUMNS " FROM u"};
static const store_sql Q_USER_UNREVOKE = {
    "user_unrevoke", "WITH u AS (UPDATE users SET revoked_at = NULL"
                     " WHERE customer_id = $1 AND username = $2 RETURNING *)"
                     " SELECT " USER_COLUMNS " FROM u"};
static const store_sql Q_USER_LIST = {
    "user_list", "SELECT " USER_COLUMNS_("NULL") ", u.seq FROM users u"
                 " WHERE u.customer_id = $1 AND u.seq > $2 ORDER BY u.seq LIMIT $3"};

/* A user's entitlements e, as GET /v1/users/{username} shows them. */
enum { USER_ENT_PRODUCT, USER_ENT_STATE, USER_ENT_FEATURES, USER_ENT_MAX_MACHINES,
       USER_ENT_EXPIRES };
static const store_sql Q_USER_ENTITLEMENTS = {
    "user_entitlements", "SELECT p.code, e.state, e.features, e.max_machines, "
                         STORE_TIME("e.expires") " FROM entitlements e"
                         " JOIN products p ON p.id = e.product_id WHERE e.user_id = $1"
                         " ORDER BY p.code"};
static const store_field user_entitlement_fields[] = {
    [USER_ENT_PRODUCT] = STORE_TEXT(store_user_entitlement, product),
    [USER_ENT_STATE] = STORE_TEXT(store_user_entitlement, state),
    [USER_ENT_FEATURES] = STORE_DUP(store_user_entitlement, features),
    [USER_ENT_MAX_MACHINES] = STORE_INT(store_user_entitlement, max_machines),
    [USER_ENT_EXPIRES] = STORE_TEXT(store_user_entitlement, expires),
};
static const store_rowtype user_entitlement_row =
    STORE_ROWTYPE(store_user_entitlement, user_entitlement_fields);

enum { MACHINE_ID, MACHINE_LAST_TOKEN_AT, MACHINE_TOKEN_EXPIRES_AT };
static const store_sql Q_USER_MACHINES = {
    "user_machines", "SELECT machine_id, " STORE_TIME("last_token_at") ", "
                     STORE_TIME("token_expires_at") " FROM user_machines"
                     " WHERE user_id = $1 AND freed_at IS NULL"
                     " AND token_expires_at > now() - make_interval(secs => $2::bigint)"
                     " ORDER BY last_token_at DESC, machine_id"};
static const store_field machine_fields[] = {
    [MACHINE_ID] = STORE_TEXT(store_user_machine, machine_id),
    [MACHINE_LAST_TOKEN_AT] = STORE_TEXT(store_user_machine, last_token_at),
    [MACHINE_TOKEN_EXPIRES_AT] = STORE_TEXT(store_user_machine, token_expires_at),
};
static const store_rowtype machine_row = STORE_ROWTYPE(store_user_machine, machine_fields);

/* Past every iat issued so far: the next whole second (iat is floored). */
static const store_sql Q_MACHINE_FREE = {
    "machine_free", "UPDATE user_machines SET freed_at = coalesce(freed_at, now()),"
                    " renew_from = greatest(renew_from,"
                    "  floor(extract(epoch FROM now()))::bigint + 1)"
                    " WHERE user_id = $1 AND machine_id = $2 RETURNING machine_id"};

static const store_sql Q_ENTITLEMENT_PUT = {
    "entitlement_put",
    "INSERT INTO entitlements (user_id, product_id, state, features, max_machines, expires)"
    " VALUES ($1, $2, $3, $4::jsonb, $5, $6)"
    " ON CONFLICT (user_id, product_id) DO UPDATE SET state = EXCLUDED.state,"
    " features = EXCLUDED.features, max_machines = EXCLUDED.max_machines,"
    " expires = EXCLUDED.expires, updated_at = now()"};

static const store_sql Q_LOGIN_FAILURE_ADD = {
    "login_failure_add", "INSERT INTO login_failures (customer_id, username) VALUES ($1, $2)"};

enum { LOCK_REVOKED };
static const store_sql Q_USER_LOCK = {
    "user_lock", "SELECT revoked_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE"};

/* The machine's row and the token's, in one statement. The machine gets
 * the token when it holds its slot, or when fewer than $5 machines hold
 * one; a renewal ($6, the presented token's iat) only when the slot was
 * not freed after that token. A token is stamped no earlier than the
 * machine's renew_from, so that every token issued after a slot was freed
 * is renewable and none before it is. */
enum { TOKEN_JTI, TOKEN_ISSUED_AT, TOKEN_EXPIRES_AT };
#define LIVE(m) m ".freed_at IS NULL AND " m ".token_expires_at > now()"
#define STAMP "greatest(EXCLUDED.last_token_at, to_timestamp(um.renew_from))"
static const store_sql Q_TOKEN_RECORD = {
    "token_record",
    "WITH m AS (INSERT INTO user_machines AS um"
    "  (user_id, machine_id, last_token_at, token_expires_at)"
    "  SELECT $1, $2, now(), now() + make_interval(secs => $4::bigint)"
    "  WHERE EXISTS (SELECT FROM user_machines h"
    "   WHERE h.user_id = $1 AND h.machine_id = $2 AND " LIVE("h") ")"
    "  OR (SELECT count(*) FROM user_machines o WHERE o.user_id = $1 AND " LIVE("o") ")"
    "   < $5::int"
    "  ON CONFLICT (user_id, machine_id) DO UPDATE SET last_token_at = " STAMP ","
    "  token_expires_at = " STAMP " + make_interval(secs => $4::bigint), freed_at = NULL"
    "  WHERE $6::bigint IS NULL OR um.renew_from <= $6::bigint"
    "  RETURNING last_token_at, token_expires_at)"
    " INSERT INTO session_tokens (user_id, machine_id, products, renewed, issued_at, expires_at)"
    " SELECT $1, $2, $3::text[], $6::bigint IS NOT NULL, last_token_at, token_expires_at FROM m"
    " RETURNING jti, floor(extract(epoch FROM issued_at))::bigint,"
    " floor(extract(epoch FROM expires_at))::bigint"};

enum { ACTIVITY_MACHINE_ID, ACTIVITY_FIRST_SEEN, ACTIVITY_LAST_SEEN, ACTIVITY_TOKENS };
static const store_sql Q_USER_ACTIVITY = {
    "user_activity", "SELECT machine_id, " STORE_TIME("min(issued_at)") ", "
                     STORE_TIME("max(issued_at)") ", count(*) FROM session_tokens"
                     " WHERE user_id = $1 AND issued_at > now() - interval '24 hours'"
                     " GROUP BY machine_id ORDER BY min(issued_at)"};
static const store_field activity_fields[] = {
    [ACTIVITY_MACHINE_ID] = STORE_TEXT(store_machine_activity, machine_id),
    [ACTIVITY_FIRST_SEEN] = STORE_TEXT(store_machine_activity, first_seen),
    [ACTIVITY_LAST_SEEN] = STORE_TEXT(store_machine_activity, last_seen),
    [ACTIVITY_TOKENS] = STORE_INT64(store_machine_activity, tokens),
};
static const store_rowtype activity_row = STORE_ROWTYPE(store_machine_activity, activity_fields);

enum { MAX_MACHINES };
static const store_sql Q_USER_MAX_MACHINES = {
    "user_max_machines",
    "SELECT coalesce(min(max_machines), 5) FROM entitlements WHERE user_id = $1"};

struct user_write {
    const store_actor *who;
    const char *action;
    const store_sql *q;
    const char *params[3];
    int nparams;
    store_user *out;
};

/* A write to one user and its audit row, in one transaction. */
static int user_write_tx(void *p)
{
    struct user_write *w = p;
    int rc = store_fetch_row(w->q, w->nparams, w->params, 0, &user_row, w->out);
    return rc != LICD_OK ? rc : store_audit(w->who, w->action, "user", w->out->id, NULL);
}

int store_user_create(const store_actor *who, const char *customer_id, const char *username,
                      const char *password_hash, store_user *out)
{
    struct user_write w = {who, "create", &Q_USER_CREATE,
                           {customer_id, username, password_hash}, 3, out};
    return store_tx(user_write_tx, &w);
}

int store_user_get(const char *customer_id, const char *username, store_user *out)
{
    const char *params[2] = {customer_id, username};
    return store_fetch_row(&Q_USER_GET, 2, params, 1, &user_row, out);
}

int store_user_revoke(const store_actor *who, const char *customer_id, const char *username,
                      store_user *out)
{
    struct user_write w = {who, "revoke", &Q_USER_REVOKE, {customer_id, username, NULL}, 2, out};
    return store_tx(user_write_tx, &w);
}

int store_user_unrevoke(const store_actor *who, const char *customer_id, const char *username,
                        store_user *out)
{
    struct user_write w = {who, "unrevoke", &Q_USER_UNREVOKE, {customer_id, username, NULL}, 2,
                           out};
    return store_tx(user_write_tx, &w);
}

int store_user_list(const char *customer_id, long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[3] = {customer_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_USER_LIST, 3, params, &user_row, limit, USER_SEQ, page);
}

int store_user_entitlements(const char *user_id, store_page *page)
{
    const char *params[1] = {user_id};
    return store_fetch_all(&Q_USER_ENTITLEMENTS, 1, params, &user_entitlement_row, page);
}

int store_user_machines(const char *user_id, long window, store_page *page)
{
    char w[24];
    const char *params[2] = {user_id, w};
    snprintf(w, sizeof w, "%ld", window);
    return store_fetch_all(&Q_USER_MACHINES, 2, params, &machine_row, page);
}

struct machine_free {
    const store_actor *who;
    const char *params[2];
    const cJSON *details;
};

static int machine_free_tx(void *p)
{
    struct machine_free *f = p;
    PGresult *res = NULL;
    int rc = store_exec_row(&Q_MACHINE_FREE, 2, f->params, 0, &res);
    PQclear(res);
    return rc != LICD_OK ? rc
                         : store_audit(f->who, "free_machine", "user", f->params[0], f->details);
}

int store_user_machine_free(const store_actor *who, const store_user *user,
                            const char *machine_id)
{
    cJSON *details = cJSON_CreateObject();
    struct machine_free f = {who, {user->id, machine_id}, details};
    int rc = LICD_ERR_NOMEM;
    if (details && cJSON_AddStringToObject(details, "machine_id", machine_id))
        rc = store_tx(machine_free_tx, &f);
    cJSON_Delete(details);
    return rc;
}

struct entitlement_write {
    const store_actor *who;
    const char *params[6];
    const cJSON *details;
};

static int entitlement_tx(void *p)
{
    struct entitlement_write *w = p;
    int rc = store_run(&Q_ENTITLEMENT_PUT, 6, w->params);
    return rc != LICD_OK ? rc : store_audit(w->who, "entitle", "user", w->params[0], w->details);
}

int store_entitlement_put(const store_actor *who, const store_user *user, long long product_id,
                          const char *product_code, const char *state, const char *features_json,
                          int max_machines, const char *expires)
{
    char product[24], max[16];
    cJSON *details = cJSON_CreateObject();
    struct entitlement_write w = {who, {user->id, product, state, features_json, max, expires},
                                  details};
    int rc = LICD_ERR_NOMEM;
    snprintf(product, sizeof product, "%lld", product_id);
    snprintf(max, sizeof max, "%d", max_machines);
    if (details && cJSON_AddStringToObject(details, "product", product_code) &&
        cJSON_AddStringToObject(details, "state", state))
        rc = store_tx(entitlement_tx, &w);
    cJSON_Delete(details);
    return rc;
}

int store_login_failure_add(const char *customer_id, const char *username)
{
    const char *params[2] = {customer_id, username};
    return store_run(&Q_LOGIN_FAILURE_ADD, 2, params);
}

int store_user_lock(const char *user_id, int *revoked)
{
    const char *params[1] = {user_id};
    PGresult *res = NULL;
    int rc = store_exec_row(&Q_USER_LOCK, 1, params, 0, &res);
    if (rc == LICD_OK)
        *revoked = store_col_bool(res, 0, LOCK_REVOKED);
    PQclear(res);
    return rc;
}

int store_token_record(const store_token_request *r, char jti[37], time_t *iat, time_t *exp)
{
    char seconds[24], max[16], renewing[24], *array = store_array_literal(r->codes, (size_t)r->n);
    const char *params[6] = {r->user_id, r->machine_id, array, seconds, max,
                             r->renewing_iat >= 0 ? renewing : NULL};
    PGresult *res = NULL;
    int rc;
    if (!array)
        return LICD_ERR_NOMEM;
    snprintf(seconds, sizeof seconds, "%ld", r->ttl);
    snprintf(max, sizeof max, "%d", r->max_machines);
    snprintf(renewing, sizeof renewing, "%lld", r->renewing_iat);
    rc = store_exec_row(&Q_TOKEN_RECORD, 6, params, 0, &res);
    if (rc == LICD_OK) {
        store_col_copy(res, 0, TOKEN_JTI, jti, 37);
        *iat = (time_t)store_col_int(res, 0, TOKEN_ISSUED_AT);
        *exp = (time_t)store_col_int(res, 0, TOKEN_EXPIRES_AT);
    }
    PQclear(res);
    free(array);
    return rc;
}

int store_user_activity(const char *user_id, store_page *page)
{
    const char *params[1] = {user_id};
    return store_fetch_all(&Q_USER_ACTIVITY, 1, params, &activity_row, page);
}

int store_user_max_machines(const char *user_id, int *max_machines)
{
    const char *params[1] = {user_id};
    PGresult *res = NULL;
    int rc = store_exec(&Q_USER_MAX_MACHINES, 1, params, 1, &res);
    if (rc == LICD_OK)
        *max_machines = (int)store_col_int(res, 0, MAX_MACHINES);
    PQclear(res);
    return rc;
}
