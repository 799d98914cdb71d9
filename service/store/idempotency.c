/* SQL for Idempotency-Key records (migrations/0020_idempotency.sql). */
#include "store/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* One statement claims the key or, when another request holds it, reads
 * that record. The outer SELECT sees the table as the statement began: a
 * record that a concurrent request committed meanwhile (the claim lost the
 * race to it) shows in neither part, and the caller asks again. */
enum { IDEM_CLAIMED, IDEM_SAME, IDEM_REQUEST_ID, IDEM_STATUS, IDEM_TYPE, IDEM_KID, IDEM_ANSWER };
static const store_sql Q_IDEM_CLAIM = {
    "idempotency_claim",
    "WITH c AS ("
    " INSERT INTO idempotency_keys AS k (scope, key, request_hash, claim, expires_at,"
    "  locked_until)"
    " VALUES ($1, $2, decode($3, 'hex'), $4, now() + make_interval(secs => $5::int),"
    "  now() + make_interval(secs => $6::int))"
    " ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
    "  claim = EXCLUDED.claim, created_at = now(), expires_at = EXCLUDED.expires_at,"
    "  locked_until = EXCLUDED.locked_until, request_id = NULL, status = NULL,"
    "  content_type = NULL, kid = NULL, answer = NULL"
    " WHERE k.expires_at <= now()"
    "  OR (k.status IS NULL AND k.locked_until <= now() AND k.request_hash = EXCLUDED.request_hash)"
    " RETURNING 1)"
    " SELECT true, true, NULL::text, NULL::int, NULL::text, NULL::text, NULL::bytea FROM c"
    " UNION ALL"
    " SELECT false, request_hash = decode($3, 'hex'), request_id, status, content_type, kid,"
    "  answer"
    " FROM idempotency_keys WHERE scope = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM c)"};
static const store_sql Q_IDEM_KEEP = {
    "idempotency_keep",
    "UPDATE idempotency_keys SET request_id = $4, status = $5::int, content_type = $6, kid = $7,"
    " answer = $8, locked_until = NULL"
    " WHERE scope = $1 AND key = $2 AND claim = $3 AND status IS NULL"};
static const store_sql Q_IDEM_RELEASE = {
    "idempotency_release",
    "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND claim = $3"
    " AND status IS NULL"};

/* The row's record; 0, or LICD_ERR_NOMEM. */
static int read_record(const PGresult *res, store_idempotency *out)
{
    size_t n = 0;
    unsigned char *raw;
    if (!store_col_bool(res, 0, IDEM_SAME)) {
        out->state = STORE_IDEM_MISMATCH;
        return LICD_OK;
    }
    if (PQgetisnull(res, 0, IDEM_STATUS)) {
        out->state = STORE_IDEM_IN_FLIGHT;
        return LICD_OK;
    }
    out->state = STORE_IDEM_DONE;
    out->status = (int)store_col_int(res, 0, IDEM_STATUS);
    store_col_copy(res, 0, IDEM_REQUEST_ID, out->request_id, sizeof out->request_id);
    store_col_copy(res, 0, IDEM_TYPE, out->content_type, sizeof out->content_type);
    store_col_copy(res, 0, IDEM_KID, out->kid, sizeof out->kid);
    raw = PQunescapeBytea((const unsigned char *)store_col_str(res, 0, IDEM_ANSWER), &n);
    if (!raw || !(out->answer = malloc(n ? n : 1))) {
        PQfreemem(raw);
        return LICD_ERR_NOMEM;
    }
    memcpy(out->answer, raw, n);
    out->answer_len = n;
    PQfreemem(raw);
    return LICD_OK;
}

int store_idempotency_claim(const char *scope, const char *key,
                            const unsigned char request_hash[CRYPTO_SHA256_LEN], long ttl_s,
                            long lock_s, store_idempotency *out)
{
    char hash_hex[2 * CRYPTO_SHA256_LEN + 1], ttl[24], lock[24];
    const char *params[6] = {scope, key, hash_hex, out->claim, ttl, lock};
    int rc = LICD_OK;

    memset(out, 0, sizeof *out);
    if (crypto_random_hex(16, out->claim) != 0)
        return LICD_ERR_INTERNAL;
    crypto_hex(request_hash, CRYPTO_SHA256_LEN, hash_hex);
    snprintf(ttl, sizeof ttl, "%ld", ttl_s);
    snprintf(lock, sizeof lock, "%ld", lock_s);
    /* A record that came and went between the two parts shows in neither:
     * ask again (a handful of times; each ends the race it lost). */
    for (int attempt = 0; attempt < 5; attempt++) {
        PGresult *res = NULL;
        if ((rc = store_exec(&Q_IDEM_CLAIM, 6, params, 0, &res)) != LICD_OK)
            return rc;
        if (PQntuples(res) == 1) {
            if (store_col_bool(res, 0, IDEM_CLAIMED))
                out->state = STORE_IDEM_CLAIMED;
            else
                rc = read_record(res, out);
            PQclear(res);
            return rc;
        }
        PQclear(res);
    }
    out->state = STORE_IDEM_IN_FLIGHT;
    return LICD_OK;
}

int store_idempotency_keep(const char *scope, const char *key, const char *claim,
                           const char *request_id, int status, const char *content_type,
                           const char *kid, const unsigned char *answer, size_t len)
{
    char st[16];
    const char *values[8] = {scope,        key, claim, request_id, st,
                             content_type, kid, (const char *)answer};
    int lengths[8] = {0, 0, 0, 0, 0, 0, 0, (int)len};
    int formats[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    PGresult *res = NULL;
    int rc;
    if (len > (size_t)1 << 30)
        return LICD_ERR_INTERNAL;
    snprintf(st, sizeof st, "%d", status);
    rc = store_exec_params(&Q_IDEM_KEEP, 8, values, lengths, formats, 0, &res);
    PQclear(res);
    return rc;
}

int store_idempotency_release(const char *scope, const char *key, const char *claim)
{
    const char *params[3] = {scope, key, claim};
    return store_run(&Q_IDEM_RELEASE, 3, params);
}

void store_idempotency_clear(store_idempotency *r)
{
    free(r->answer);
    r->answer = NULL;
    r->answer_len = 0;
}
