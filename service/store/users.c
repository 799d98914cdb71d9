/* SQL for users, entitlements, session tokens and failed logins. */
#include "store/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* Over a user u. */
enum { USER_ID, USER_CUSTOMER_ID, USER_USERNAME, USER_PASSWORD_HASH, USER_REVOKED,
       USER_CREATED_AT };
#define USER_COLUMNS \
    "u.id, u.customer_id, u.username, u.password_hash, u.revoked_at IS NOT NULL, " \
    STORE_TIME("u.created_at")
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

static const store_sql Q_ENTITLEMENT_PUT = {
    "entitlement_put",
    "INSERT INTO entitlements (user_id, product_id, state, features, max_machines, expires)"
    " VALUES ($1, $2, $3, $4::jsonb, $5, $6)"
    " ON CONFLICT (user_id, product_id) DO UPDATE SET state = EXCLUDED.state,"
    " features = EXCLUDED.features, max_machines = EXCLUDED.max_machines,"
    " expires = EXCLUDED.expires, updated_at = now()"};

enum { FAILURES_COUNT, FAILURES_OLDEST_AGE };
static const store_sql Q_LOGIN_FAILURES = {
    "login_failures", "SELECT count(*), coalesce(extract(epoch FROM now() - min(at))::int, 0)"
                      " FROM login_failures WHERE customer_id = $1 AND username = $2"
                      " AND at > now() - interval '1 minute'"};
static const store_sql Q_LOGIN_FAILURE_ADD = {
    "login_failure_add", "INSERT INTO login_failures (customer_id, username) VALUES ($1, $2)"};

enum { LOCK_REVOKED };
static const store_sql Q_USER_LOCK = {
    "user_lock", "SELECT revoked_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE"};

/* One row per requested code, in order ($3 a text[]). */
enum { ENTITLEMENT_KNOWN, ENTITLEMENT_HAS, ENTITLEMENT_EXPIRED, ENTITLEMENT_STATE,
       ENTITLEMENT_PRODUCT_FEATURES, ENTITLEMENT_NAMED_FEATURES, ENTITLEMENT_MAX_MACHINES };
static const store_sql Q_ENTITLEMENTS_FOR = {
    "entitlements_for",
    "SELECT p.id IS NOT NULL, e.user_id IS NOT NULL,"
    " coalesce(e.expires <= now(), false), coalesce(e.state, 'invalid'),"
    " coalesce(p.features, '[]'), coalesce(e.features, '[]'), coalesce(e.max_machines, 5)"
    " FROM unnest($3::text[]) WITH ORDINALITY AS c(code, i)"
    " LEFT JOIN products p ON p.vendor_id = $1 AND p.code = c.code"
    " LEFT JOIN entitlements e ON e.user_id = $2 AND e.product_id = p.id"
    " ORDER BY c.i"};
static const store_field entitlement_fields[] = {
    [ENTITLEMENT_KNOWN] = STORE_BOOL(store_entitlement, known),
    [ENTITLEMENT_HAS] = STORE_BOOL(store_entitlement, has_entitlement),
    [ENTITLEMENT_EXPIRED] = STORE_BOOL(store_entitlement, expired),
    [ENTITLEMENT_STATE] = STORE_TEXT(store_entitlement, state),
    [ENTITLEMENT_PRODUCT_FEATURES] = STORE_DUP(store_entitlement, product_features),
    [ENTITLEMENT_NAMED_FEATURES] = STORE_DUP(store_entitlement, named_features),
    [ENTITLEMENT_MAX_MACHINES] = STORE_INT(store_entitlement, max_machines),
};
static const store_rowtype entitlement_row = STORE_ROWTYPE(store_entitlement, entitlement_fields);

enum { MACHINES_KNOWN, MACHINES_IN_USE };
static const store_sql Q_MACHINE_USAGE = {
    "machine_usage", "SELECT coalesce(bool_or(machine_id = $2), false),"
                     " count(DISTINCT machine_id) FROM session_tokens"
                     " WHERE user_id = $1 AND expires_at > now()"};

enum { TOKEN_JTI, TOKEN_ISSUED_AT, TOKEN_EXPIRES_AT };
static const store_sql Q_TOKEN_RECORD = {
    "token_record",
    "INSERT INTO session_tokens (user_id, machine_id, products, renewed, expires_at)"
    " VALUES ($1, $2, $3::text[], $5, now() + make_interval(secs => $4::bigint))"
    " RETURNING jti, extract(epoch FROM issued_at)::bigint,"
    " extract(epoch FROM expires_at)::bigint"};

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

int store_login_failures(const char *customer_id, const char *username, int *count, int *oldest_age)
{
    const char *params[2] = {customer_id, username};
    PGresult *res = NULL;
    int rc = store_exec(&Q_LOGIN_FAILURES, 2, params, 1, &res);
    if (rc == LICD_OK) {
        *count = (int)store_col_int(res, 0, FAILURES_COUNT);
        *oldest_age = (int)store_col_int(res, 0, FAILURES_OLDEST_AGE);
    }
    PQclear(res);
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

/* A PostgreSQL text[] literal of codes that were checked to need no quoting. */
static char *array_literal(const char *const *codes, int n)
{
    size_t len = 3;
    char *out, *p;
    for (int i = 0; i < n; i++)
        len += strlen(codes[i]) + 3;
    if (!(p = out = malloc(len)))
        return NULL;
    *p++ = '{';
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s\"%s\"", i ? "," : "", codes[i]);
    strcpy(p, "}");
    return out;
}

int store_entitlements_for(const char *vendor_id, const char *user_id, const char *const *codes,
                           int n, store_page *page)
{
    char *array = array_literal(codes, n);
    const char *params[3] = {vendor_id, user_id, array};
    int rc;

    *page = (store_page){0};
    if (!array)
        return LICD_ERR_NOMEM;
    rc = store_fetch_all(&Q_ENTITLEMENTS_FOR, 3, params, &entitlement_row, page);
    if (rc == LICD_OK && page->n != (size_t)n) {
        store_page_free(page);
        rc = LICD_ERR_INTERNAL;
    }
    free(array);
    return rc;
}

int store_machine_usage(const char *user_id, const char *machine_id, int *known, int *in_use)
{
    const char *params[2] = {user_id, machine_id};
    PGresult *res = NULL;
    int rc = store_exec(&Q_MACHINE_USAGE, 2, params, 0, &res);
    if (rc == LICD_OK) {
        *known = store_col_bool(res, 0, MACHINES_KNOWN);
        *in_use = (int)store_col_int(res, 0, MACHINES_IN_USE);
    }
    PQclear(res);
    return rc;
}

int store_token_record(const char *user_id, const char *machine_id, const char *const *codes,
                       int n, long ttl, int renewed, char jti[37], time_t *iat, time_t *exp)
{
    char seconds[24], *array = array_literal(codes, n);
    const char *params[5] = {user_id, machine_id, array, seconds, renewed ? "t" : "f"};
    PGresult *res = NULL;
    int rc;
    if (!array)
        return LICD_ERR_NOMEM;
    snprintf(seconds, sizeof seconds, "%ld", ttl);
    rc = store_exec(&Q_TOKEN_RECORD, 5, params, 0, &res);
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
