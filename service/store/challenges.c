/* SQL for platform challenges. The image hash is computed by PostgreSQL
 * next to the image, so a 64 MiB image never crosses the connection. */
#include "store/challenges.h"

#include <stdio.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/sql.h"

enum { CREATED_EXPIRES_AT };
static const store_sql Q_CHALLENGE_CREATE = {
    "challenge_create",
    "INSERT INTO challenges (nonce, customer_id, software_id, expires_at)"
    " VALUES (decode($1, 'hex'), $2, $3, now() + make_interval(secs => $4::int))"
    " RETURNING extract(epoch FROM expires_at)::bigint"};
/* Uses up the nonce and answers whether the response is right. */
enum { CHECKED_PLATFORM, CHECKED_RIGHT };
static const store_sql Q_CHALLENGE_CHECK = {
    "challenge_check",
    "WITH c AS (UPDATE challenges SET used_at = now()"
    "  WHERE nonce = decode($1, 'hex') AND customer_id = $2"
    "  AND used_at IS NULL AND expires_at > now() RETURNING nonce, software_id)"
    " SELECT i.platform, encode(sha256(c.nonce || i.image || c.nonce), 'hex') = lower($3)"
    " FROM c JOIN client_images i"
    "  ON i.vendor_id = $4 AND i.software_id = coalesce($5, c.software_id)"};

int store_challenge_create(const char *customer_id, const char *software_id,
                           char nonce_hex[STORE_NONCE_HEX_LEN], time_t *expires_at)
{
    char ttl[16];
    const char *params[4] = {nonce_hex, customer_id, software_id, ttl};
    PGresult *res = NULL;
    int rc;
    if (crypto_random_hex(16, nonce_hex) != 0)
        return LICD_ERR_INTERNAL;
    snprintf(ttl, sizeof ttl, "%d", STORE_CHALLENGE_TTL);
    rc = store_exec_row(&Q_CHALLENGE_CREATE, 4, params, 0, &res);
    if (rc == LICD_OK)
        *expires_at = (time_t)store_col_int(res, 0, CREATED_EXPIRES_AT);
    PQclear(res);
    return rc;
}

int store_challenge_check(const char *vendor_id, const char *customer_id, const char *nonce_hex,
                          const char *response_hex, const char *software_id, int *ok,
                          char platform[16])
{
    const char *params[5] = {nonce_hex, customer_id, response_hex, vendor_id, software_id};
    PGresult *res = NULL;
    int rc;

    *ok = 0;
    if (strlen(nonce_hex) != 32 || strspn(nonce_hex, "0123456789abcdefABCDEF") != 32)
        return LICD_OK;
    rc = store_exec(&Q_CHALLENGE_CHECK, 5, params, 0, &res);
    if (rc == LICD_OK && PQntuples(res) == 1 && store_col_bool(res, 0, CHECKED_RIGHT)) {
        *ok = 1;
        store_col_copy(res, 0, CHECKED_PLATFORM, platform, 16);
    }
    PQclear(res);
    return rc;
}
