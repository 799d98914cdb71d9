/* SQL for users, entitlements, session tokens and failed logins. */
#include "store/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

#define USER_COLUMNS \
    "u.id, u.customer_id, u.username, u.password_hash, u.revoked_at IS NOT NULL, " \
    STORE_TIME("u.created_at")

static void fill(store_user *u, const PGresult *res, int row)
{
    snprintf(u->id, sizeof u->id, "%s", PQgetvalue(res, row, 0));
    snprintf(u->customer_id, sizeof u->customer_id, "%s", PQgetvalue(res, row, 1));
    snprintf(u->username, sizeof u->username, "%s", PQgetvalue(res, row, 2));
    snprintf(u->password_hash, sizeof u->password_hash, "%s", PQgetvalue(res, row, 3));
    u->revoked = PQgetvalue(res, row, 4)[0] == 't';
    snprintf(u->created_at, sizeof u->created_at, "%s", PQgetvalue(res, row, 5));
}

/* Runs a statement returning USER_COLUMNS rows; 0 rows is LICD_ERR_NOT_FOUND. */
static int one_user(const char *sql, int n, const char *const *params, int idempotent,
                    store_user *out)
{
    PGresult *res = NULL;
    int rc = store_exec_row(sql, n, params, idempotent, &res);
    if (rc == LICD_OK)
        fill(out, res, 0);
    PQclear(res);
    return rc;
}

struct user_write {
    const store_actor *who;
    const char *action;
    const char *sql;
    const char *params[3];
    int nparams;
    store_user *out;
};

/* A write to one user and its audit row, in one transaction. */
static int user_write_tx(void *p)
{
    struct user_write *w = p;
    int rc = one_user(w->sql, w->nparams, w->params, 0, w->out);
    return rc != LICD_OK ? rc : store_audit(w->who, w->action, "user", w->out->id, NULL);
}

int store_user_create(const store_actor *who, const char *customer_id, const char *username,
                      const char *password_hash, store_user *out)
{
    struct user_write w = {who, "create",
                           "WITH u AS (INSERT INTO users (customer_id, username, password_hash)"
                           " VALUES ($1, $2, $3) RETURNING *) SELECT " USER_COLUMNS " FROM u",
                           {customer_id, username, password_hash}, 3, out};
    return store_tx(user_write_tx, &w);
}

int store_user_get(const char *customer_id, const char *username, store_user *out)
{
    const char *params[2] = {customer_id, username};
    return one_user("SELECT " USER_COLUMNS " FROM users u WHERE u.customer_id = $1 AND u.username = $2",
                    2, params, 1, out);
}

int store_user_revoke(const store_actor *who, const char *customer_id, const char *username,
                      store_user *out)
{
    struct user_write w = {who, "revoke",
                           "WITH u AS (UPDATE users SET revoked_at = coalesce(revoked_at, now())"
                           " WHERE customer_id = $1 AND username = $2 RETURNING *)"
                           " SELECT " USER_COLUMNS " FROM u",
                           {customer_id, username, NULL}, 2, out};
    return store_tx(user_write_tx, &w);
}

struct entitlement_write {
    const store_actor *who;
    const char *params[6];
    const char *detail;
};

static int entitlement_tx(void *p)
{
    struct entitlement_write *w = p;
    int rc = store_run("INSERT INTO entitlements (user_id, product_id, state, features,"
                       " max_machines, expires) VALUES ($1, $2, $3, $4::jsonb, $5, $6)"
                       " ON CONFLICT (user_id, product_id) DO UPDATE SET state = EXCLUDED.state,"
                       " features = EXCLUDED.features, max_machines = EXCLUDED.max_machines,"
                       " expires = EXCLUDED.expires, updated_at = now()",
                       6, w->params);
    return rc != LICD_OK ? rc : store_audit(w->who, "entitle", "user", w->params[0], w->detail);
}

int store_entitlement_put(const store_actor *who, const store_user *user, long long product_id,
                          const char *product_code, const char *state, const char *features_json,
                          int max_machines, const char *expires)
{
    char product[24], max[16], detail[256];
    struct entitlement_write w = {who, {user->id, product, state, features_json, max, expires},
                                  detail};
    snprintf(product, sizeof product, "%lld", product_id);
    snprintf(max, sizeof max, "%d", max_machines);
    snprintf(detail, sizeof detail, "{\"product\":\"%s\",\"state\":\"%s\"}", product_code, state);
    return store_tx(entitlement_tx, &w);
}

int store_login_failures(const char *customer_id, const char *username, int *count, int *oldest_age)
{
    const char *params[2] = {customer_id, username};
    PGresult *res = NULL;
    int rc = store_exec("SELECT count(*), coalesce(extract(epoch FROM now() - min(at))::int, 0)"
                        " FROM login_failures WHERE customer_id = $1 AND username = $2"
                        " AND at > now() - interval '1 minute'",
                        2, params, 1, &res);
    if (rc == LICD_OK) {
        *count = atoi(PQgetvalue(res, 0, 0));
        *oldest_age = atoi(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

int store_login_failure_add(const char *customer_id, const char *username)
{
    const char *params[2] = {customer_id, username};
    return store_run("INSERT INTO login_failures (customer_id, username) VALUES ($1, $2)", 2,
                     params);
}

int store_user_lock(const char *user_id, int *revoked)
{
    const char *params[1] = {user_id};
    PGresult *res = NULL;
    int rc = store_exec_row("SELECT revoked_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE", 1,
                        params, 0, &res);
    if (rc == LICD_OK)
        *revoked = PQgetvalue(res, 0, 0)[0] == 't';
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
                           int n, store_entitlement **out)
{
    char *array = array_literal(codes, n);
    const char *params[3] = {vendor_id, user_id, array};
    PGresult *res = NULL;
    store_entitlement *e = NULL;
    int rc;

    *out = NULL;
    if (!array)
        return LICD_ERR_NOMEM;
    rc = store_exec("SELECT p.id IS NOT NULL, e.user_id IS NOT NULL,"
                    " coalesce(e.expires <= now(), false), coalesce(e.state, 'invalid'),"
                    " coalesce(p.features, '[]'), coalesce(e.features, '[]'),"
                    " coalesce(e.max_machines, 5)"
                    " FROM unnest($3::text[]) WITH ORDINALITY AS c(code, i)"
                    " LEFT JOIN products p ON p.vendor_id = $1 AND p.code = c.code"
                    " LEFT JOIN entitlements e ON e.user_id = $2 AND e.product_id = p.id"
                    " ORDER BY c.i",
                    3, params, 0, &res);
    if (rc != LICD_OK)
        goto out;
    if (PQntuples(res) != n || !(e = calloc((size_t)n, sizeof *e))) {
        rc = LICD_ERR_INTERNAL;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        e[i].known = PQgetvalue(res, i, 0)[0] == 't';
        e[i].has_entitlement = PQgetvalue(res, i, 1)[0] == 't';
        e[i].expired = PQgetvalue(res, i, 2)[0] == 't';
        snprintf(e[i].state, sizeof e[i].state, "%s", PQgetvalue(res, i, 3));
        e[i].product_features = strdup(PQgetvalue(res, i, 4));
        e[i].named_features = strdup(PQgetvalue(res, i, 5));
        e[i].max_machines = atoi(PQgetvalue(res, i, 6));
        if (!e[i].product_features || !e[i].named_features)
            rc = LICD_ERR_NOMEM;
    }
    if (rc == LICD_OK) {
        *out = e;
        e = NULL;
    }
out:
    store_entitlements_free(e, n);
    PQclear(res);
    free(array);
    return rc;
}

void store_entitlements_free(store_entitlement *e, int n)
{
    if (!e)
        return;
    for (int i = 0; i < n; i++) {
        free(e[i].product_features);
        free(e[i].named_features);
    }
    free(e);
}

int store_machine_usage(const char *user_id, const char *machine_id, int *known, int *in_use)
{
    const char *params[2] = {user_id, machine_id};
    PGresult *res = NULL;
    int rc = store_exec("SELECT coalesce(bool_or(machine_id = $2), false),"
                        " count(DISTINCT machine_id) FROM session_tokens"
                        " WHERE user_id = $1 AND expires_at > now()",
                        2, params, 0, &res);
    if (rc == LICD_OK) {
        *known = PQgetvalue(res, 0, 0)[0] == 't';
        *in_use = atoi(PQgetvalue(res, 0, 1));
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
    rc = store_exec("INSERT INTO session_tokens (user_id, machine_id, products, renewed, expires_at)"
                    " VALUES ($1, $2, $3::text[], $5, now() + make_interval(secs => $4::bigint))"
                    " RETURNING jti, extract(epoch FROM issued_at)::bigint,"
                    " extract(epoch FROM expires_at)::bigint",
                    5, params, 0, &res);
    if (rc == LICD_OK) {
        snprintf(jti, 37, "%s", PQgetvalue(res, 0, 0));
        *iat = (time_t)atoll(PQgetvalue(res, 0, 1));
        *exp = (time_t)atoll(PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    free(array);
    return rc;
}

int store_user_activity(const char *user_id, PGresult **res)
{
    const char *params[1] = {user_id};
    return store_exec("SELECT machine_id, " STORE_TIME("min(issued_at)") ", "
                      STORE_TIME("max(issued_at)") ", count(*) FROM session_tokens"
                      " WHERE user_id = $1 AND issued_at > now() - interval '24 hours'"
                      " GROUP BY machine_id ORDER BY min(issued_at)",
                      1, params, 1, res);
}

int store_user_max_machines(const char *user_id, int *max_machines)
{
    const char *params[1] = {user_id};
    PGresult *res = NULL;
    int rc = store_exec("SELECT coalesce(min(max_machines), 5) FROM entitlements WHERE user_id = $1",
                        1, params, 1, &res);
    if (rc == LICD_OK)
        *max_machines = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}
