/* Session tokens through the batcher (see tokens.h). */
#include "store/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/batcher.h"
#include "store/sql.h"

/* One row per requested code, in order ($5 a text[]): the facts of the
 * user and its machine first (the same in every row), then the code's
 * product and entitlement. Unknown users still get their failed logins
 * counted, so that a sign-in treats them like known ones. */
enum { FACT_FAILURES, FACT_OLDEST_FAILURE_AGE, FACT_FOUND, FACT_USER_ID, FACT_PASSWORD_HASH,
       FACT_REVOKED, FACT_SLOT_HELD, FACT_RENEW_FROM,
       ENTITLEMENT_KNOWN, ENTITLEMENT_HAS, ENTITLEMENT_EXPIRED, ENTITLEMENT_STATE,
       ENTITLEMENT_PRODUCT_FEATURES, ENTITLEMENT_NAMED_FEATURES, ENTITLEMENT_MAX_MACHINES, FACT_N };
/* The columns after the failures (same order as the enum), from the
 * joins below over a user u, machine m, product p and entitlement e. */
#define FACT_COLUMNS                                                                               \
    " u.id IS NOT NULL, u.id, u.password_hash, u.revoked_at IS NOT NULL,"                        \
    " coalesce(m.freed_at IS NULL AND m.token_expires_at > now(), false),"                        \
    " coalesce(m.renew_from, 0),"                                                                 \
    " p.id IS NOT NULL, e.user_id IS NOT NULL,"                                                   \
    " coalesce(e.expires <= now(), false), coalesce(e.state, 'invalid'),"                         \
    " coalesce(p.features, '[]'), coalesce(e.features, '[]'), coalesce(e.max_machines, 5)"
#define FACT_JOINS(customer, vendor, username, machine)                                            \
    " LEFT JOIN users u ON u.customer_id = " customer " AND u.username = " username                \
    " LEFT JOIN user_machines m ON m.user_id = u.id AND m.machine_id = " machine                   \
    " LEFT JOIN products p ON p.vendor_id = " vendor " AND p.code = c.code"                        \
    " LEFT JOIN entitlements e ON e.user_id = u.id AND e.product_id = p.id"
static const store_sql Q_TOKEN_FACTS = {
    "token_facts",
    "WITH f AS (SELECT count(*) AS n,"
    "  coalesce(extract(epoch FROM now() - min(at))::int, 0) AS oldest FROM login_failures"
    "  WHERE customer_id = $1 AND username = $3 AND at > now() - interval '1 minute')"
    " SELECT f.n, f.oldest," FACT_COLUMNS
    " FROM f CROSS JOIN unnest($5::text[]) WITH ORDINALITY AS c(code, i)"
    FACT_JOINS("$1", "$2", "$3", "$4")
    " ORDER BY c.i"};
/* The same for a batch of renewals (no failures counted: a renewal takes
 * no password): $1..$5 customers, vendors, usernames, machines and code
 * lists (text[] literals), one entry per renewal; the renewal's place in
 * the batch (n) last. */
static const store_sql Q_TOKEN_FACTS_BATCH = {
    "token_facts_batch",
    "SELECT 0, 0," FACT_COLUMNS ", r.n"
    " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])"
    "  WITH ORDINALITY AS r(customer_id, vendor_id, username, machine_id, codes, n)"
    " CROSS JOIN LATERAL unnest(r.codes::text[]) WITH ORDINALITY AS c(code, i)"
    FACT_JOINS("r.customer_id", "r.vendor_id", "r.username", "r.machine_id")
    " ORDER BY r.n, c.i"};
static const store_field facts_fields[] = {
    [FACT_FAILURES] = STORE_INT(store_token_facts, failures),
    [FACT_OLDEST_FAILURE_AGE] = STORE_INT(store_token_facts, oldest_failure_age),
    [FACT_FOUND] = STORE_BOOL(store_token_facts, found),
    [FACT_USER_ID] = STORE_TEXT(store_token_facts, user_id),
    [FACT_PASSWORD_HASH] = STORE_TEXT(store_token_facts, password_hash),
    [FACT_REVOKED] = STORE_BOOL(store_token_facts, revoked),
    [FACT_SLOT_HELD] = STORE_BOOL(store_token_facts, slot_held),
    [FACT_RENEW_FROM] = STORE_INT64(store_token_facts, renew_from),
};
static const store_rowtype facts_row = STORE_ROWTYPE(store_token_facts, facts_fields);
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

/* A token's parameters, as text; the batch sends each as one array. */
enum { TOK_USER, TOK_MACHINE, TOK_PRODUCTS, TOK_TTL, TOK_RENEWING, TOK_PARAMS };

/* One queued token (its product list, a text[] literal, is the item's owned text). */
struct token {
    store_batch_item item; /* first */
    const char *param[TOK_PARAMS];
    char ttl[24], renewing[24];
    store_token_result *res;
};

/* $1..$5: users, machines, product lists (text[] literals), ttls and the
 * iat of the token presented (-1: a sign-in), one entry per token; n is
 * the token's place in the batch. A machine's row is extended once
 * however many of the batch's tokens name it, only while it holds its slot
 * and when one of them may have it: a sign-in, or a renewal of a token not
 * issued before the slot was last freed (renew_from, which this statement
 * does not change). Each such token gets its own row in session_tokens, as
 * the one-token statement in users.c does with max_machines 0. The
 * statement commits on its own, durably. */
enum { TOK_N, TOK_JTI, TOK_ISSUED_AT, TOK_EXPIRES_AT };
#define STAMP "greatest(now(), to_timestamp(um.renew_from))"
static const store_sql Q_TOKENS_RECORD_HELD = {
    "tokens_record_held",
    "WITH r AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[],"
    "  $5::bigint[]) WITH ORDINALITY AS r(user_id, machine_id, products, ttl, renewing, n)),"
    " g AS (SELECT user_id, machine_id, max(ttl) AS ttl, max(renewing) AS renewing,"
    "  bool_or(renewing < 0) AS signin FROM r GROUP BY user_id, machine_id),"
    " m AS (UPDATE user_machines um SET last_token_at = " STAMP ","
    "  token_expires_at = " STAMP " + make_interval(secs => g.ttl), freed_at = NULL"
    "  FROM g WHERE um.user_id = g.user_id AND um.machine_id = g.machine_id"
    "  AND um.freed_at IS NULL AND um.token_expires_at > now()"
    "  AND (g.signin OR um.renew_from <= g.renewing)"
    "  RETURNING um.user_id, um.machine_id, um.renew_from, um.last_token_at,"
    "  um.token_expires_at),"
    /* referenced twice, so computed once: one jti a token */
    " t AS (SELECT gen_random_uuid() AS jti, r.n, r.user_id, r.machine_id, r.products,"
    "  r.renewing, m.last_token_at, m.token_expires_at"
    "  FROM r JOIN m ON m.user_id = r.user_id AND m.machine_id = r.machine_id"
    "  WHERE r.renewing < 0 OR m.renew_from <= r.renewing),"
    " i AS (INSERT INTO session_tokens"
    "  (jti, user_id, machine_id, products, renewed, issued_at, expires_at)"
    "  SELECT jti, user_id, machine_id, products::text[], renewing >= 0, last_token_at,"
    "  token_expires_at FROM t)"
    " SELECT n, jti, floor(extract(epoch FROM last_token_at))::bigint,"
    " floor(extract(epoch FROM token_expires_at))::bigint FROM t"};

static void write_batch(store_batch_item *b)
{
    PGresult *res = NULL;
    int rc = store_batch_exec(&Q_TOKENS_RECORD_HELD, TOK_PARAMS, b, 0, &res);

    for (store_batch_item *t = b; t; t = t->next)
        ((struct token *)t)->res->rc = rc == LICD_OK ? LICD_ERR_NOT_FOUND : rc;
    for (int row = 0; rc == LICD_OK && row < PQntuples(res); row++) {
        struct token *t = (struct token *)store_batch_nth(b, store_col_int(res, row, TOK_N));
        if (t) {
            store_token_result *r = t->res;
            store_col_copy(res, row, TOK_JTI, r->jti, sizeof r->jti);
            r->iat = (time_t)store_col_int(res, row, TOK_ISSUED_AT);
            r->exp = (time_t)store_col_int(res, row, TOK_EXPIRES_AT);
            r->rc = LICD_OK;
        }
    }
    PQclear(res);
}

static STORE_BATCHER(tokens, "token_writes", write_batch);

static void read_batch(store_batch_item *b);
static STORE_BATCHER(asks, "token_reads", read_batch);

int store_tokens_start(void)
{
    int rc = store_batcher_start(&asks);
    return rc == LICD_OK ? store_batcher_start(&tokens) : rc;
}

void store_tokens_stop(void)
{
    store_batcher_stop(&asks);
    store_batcher_stop(&tokens);
}

int store_token_record_held(const store_token_request *r, store_token_result *res,
                            void (*done)(void *arg), void *arg)
{
    struct token *t = calloc(1, sizeof *t);
    if (!t || !(t->item.owned = store_array_literal(r->codes, (size_t)r->n))) {
        free(t);
        return LICD_ERR_NOMEM;
    }
    snprintf(t->ttl, sizeof t->ttl, "%ld", r->ttl);
    snprintf(t->renewing, sizeof t->renewing, "%lld", r->renewing_iat >= 0 ? r->renewing_iat : -1);
    t->param[TOK_USER] = r->user_id;
    t->param[TOK_MACHINE] = r->machine_id;
    t->param[TOK_PRODUCTS] = t->item.owned;
    t->param[TOK_TTL] = t->ttl;
    t->param[TOK_RENEWING] = t->renewing;
    t->res = res;
    store_batcher_submit(&tokens, &t->item, t->param, done, arg);
    return LICD_OK;
}

int store_token_facts_get(const char *customer_id, const char *vendor_id, const char *username,
                          const char *machine_id, const char *const *codes, int n,
                          store_token_facts *out, store_page *entitlements)
{
    char *array = store_array_literal(codes, (size_t)n);
    const char *params[5] = {customer_id, vendor_id, username, machine_id, array};
    PGresult *res = NULL;
    store_page *page = entitlements;
    int rc;

    *page = (store_page){.size = sizeof(store_entitlement), .type = &entitlement_row};
    if (!array)
        return LICD_ERR_NOMEM;
    if ((rc = store_exec(&Q_TOKEN_FACTS, 5, params, 1, &res)) != LICD_OK)
        goto out;
    rc = LICD_ERR_INTERNAL;
    if (n < 1 || PQntuples(res) != n)
        goto out;
    rc = LICD_ERR_NOMEM;
    if (!(page->items = calloc((size_t)n, sizeof(store_entitlement))))
        goto out;
    page->n = (size_t)n;
    rc = store_fill(&facts_row, res, 0, out);
    for (int i = 0; rc == LICD_OK && i < n; i++)
        rc = store_fill(&entitlement_row, res, i, (store_entitlement *)page->items + i);
out:
    if (rc != LICD_OK)
        store_page_free(page);
    PQclear(res);
    free(array);
    return rc;
}

/* One queued read of a renewal's facts. */
enum { ASK_CUSTOMER, ASK_VENDOR, ASK_USERNAME, ASK_MACHINE, ASK_CODES, ASK_PARAMS };
struct ask {
    store_batch_item item; /* first; owned: the codes as a text[] literal */
    const char *param[ASK_PARAMS];
    int ncodes;
    store_facts_result *res;
};

/* Fills ask a's facts and entitlements from its ncodes rows from row. */
static int fill_ask(struct ask *a, PGresult *res, int row)
{
    store_page *page = &a->res->entitlements;
    int rc = LICD_ERR_NOMEM;
    if ((page->items = calloc((size_t)a->ncodes, sizeof(store_entitlement)))) {
        page->n = (size_t)a->ncodes;
        rc = store_fill(&facts_row, res, row, &a->res->facts);
    }
    for (int i = 0; rc == LICD_OK && i < a->ncodes; i++)
        rc = store_fill(&entitlement_row, res, row + i, (store_entitlement *)page->items + i);
    if (rc != LICD_OK)
        store_page_free(page);
    return rc;
}

static void read_batch(store_batch_item *b)
{
    PGresult *res = NULL;
    int rc = store_batch_exec(&Q_TOKEN_FACTS_BATCH, ASK_PARAMS, b, 1, &res), row = 0, n = 1;

    for (; b; b = b->next, n++) {
        struct ask *a = (struct ask *)b;
        /* ncodes rows, in code order, for every read of the batch */
        if (rc != LICD_OK)
            a->res->rc = rc;
        else if (row + a->ncodes > PQntuples(res) || store_col_int(res, row, FACT_N) != n ||
                 store_col_int(res, row + a->ncodes - 1, FACT_N) != n)
            a->res->rc = LICD_ERR_INTERNAL;
        else
            a->res->rc = fill_ask(a, res, row);
        row += a->ncodes;
    }
    PQclear(res);
}

int store_token_facts_batched(const char *customer_id, const char *vendor_id,
                              const char *username, const char *machine_id,
                              const char *const *codes, int n, store_facts_result *res,
                              void (*done)(void *arg), void *arg)
{
    struct ask *a;
    res->entitlements = (store_page){.size = sizeof(store_entitlement), .type = &entitlement_row};
    if (n < 1)
        return LICD_ERR_INTERNAL;
    if (!(a = calloc(1, sizeof *a)) || !(a->item.owned = store_array_literal(codes, (size_t)n))) {
        free(a);
        return LICD_ERR_NOMEM;
    }
    a->param[ASK_CUSTOMER] = customer_id;
    a->param[ASK_VENDOR] = vendor_id;
    a->param[ASK_USERNAME] = username;
    a->param[ASK_MACHINE] = machine_id;
    a->param[ASK_CODES] = a->item.owned;
    a->ncodes = n;
    a->res = res;
    store_batcher_submit(&asks, &a->item, a->param, done, arg);
    return LICD_OK;
}
