/* Session tokens through the batcher (see tokens.h). */
#include "store/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/batcher.h"
#include "store/sql.h"

/* A token's parameters, as text; the batch sends each as one array. */
enum { TOK_USER, TOK_MACHINE, TOK_PRODUCTS, TOK_TTL, TOK_RENEWING, TOK_PARAMS };

/* One queued token (malloc'd; freed once done has been called). */
struct token {
    store_batch_item item; /* first */
    const char *param[TOK_PARAMS];
    char *products; /* a text[] literal */
    char ttl[24], renewing[24];
    store_token_result *res;
    void (*done)(void *arg);
    void *arg;
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
    char *arrays[TOK_PARAMS] = {NULL};
    PGresult *res = NULL;
    int rc = LICD_OK;

    for (store_batch_item *t = b; t; t = t->next)
        ((struct token *)t)->res->rc = LICD_ERR_NOT_FOUND;
    for (int i = 0; i < TOK_PARAMS && rc == LICD_OK; i++)
        if (!(arrays[i] = store_batch_array(b, i)))
            rc = LICD_ERR_NOMEM;
    for (int i = 0; rc != LICD_ERR_NOMEM && i < STORE_TX_ATTEMPTS; i++)
        if ((rc = store_exec(&Q_TOKENS_RECORD_HELD, TOK_PARAMS, (const char *const *)arrays, 1,
                             &res)) != LICD_ERR_RETRY)
            break;
    for (int row = 0; rc == LICD_OK && row < PQntuples(res); row++) {
        store_batch_item *t = b;
        for (long long n = store_col_int(res, row, TOK_N); t && n > 1; n--)
            t = t->next;
        if (t) {
            store_token_result *r = ((struct token *)t)->res;
            store_col_copy(res, row, TOK_JTI, r->jti, sizeof r->jti);
            r->iat = (time_t)store_col_int(res, row, TOK_ISSUED_AT);
            r->exp = (time_t)store_col_int(res, row, TOK_EXPIRES_AT);
            r->rc = LICD_OK;
        }
    }
    if (rc != LICD_OK)
        for (; b; b = b->next)
            ((struct token *)b)->res->rc = rc == LICD_ERR_RETRY ? LICD_ERR_UNAVAILABLE : rc;
    PQclear(res);
    for (int i = 0; i < TOK_PARAMS; i++)
        free(arrays[i]);
}

/* Tells the token's caller, and frees it. */
static void tell(store_batch_item *item)
{
    struct token *t = (struct token *)item;
    t->done(t->arg);
    free(t->products);
    free(t);
}

static STORE_BATCHER(tokens, write_batch, tell);

int store_tokens_start(void) { return store_batcher_start(&tokens); }

void store_tokens_stop(void) { store_batcher_stop(&tokens); }

int store_token_record_held(const store_token_request *r, store_token_result *res,
                            void (*done)(void *arg), void *arg)
{
    struct token *t = calloc(1, sizeof *t);
    if (!t || !(t->products = store_array_literal(r->codes, (size_t)r->n))) {
        free(t);
        return LICD_ERR_NOMEM;
    }
    snprintf(t->ttl, sizeof t->ttl, "%ld", r->ttl);
    snprintf(t->renewing, sizeof t->renewing, "%lld", r->renewing_iat >= 0 ? r->renewing_iat : -1);
    t->param[TOK_USER] = r->user_id;
    t->param[TOK_MACHINE] = r->machine_id;
    t->param[TOK_PRODUCTS] = t->products;
    t->param[TOK_TTL] = t->ttl;
    t->param[TOK_RENEWING] = t->renewing;
    t->item.param = t->param;
    t->res = res;
    t->done = done;
    t->arg = arg;
    store_batcher_submit(&tokens, &t->item);
    return LICD_OK;
}
