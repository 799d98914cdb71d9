/* Bearer-key look-up shared by every kind of key. */
#include "crypto/apikey.h"
#include "store/sql.h"

int store_find_key(const char *presented, const store_sql *q, const store_rowtype *t, void *out)
{
    char prefix[APIKEY_PREFIX_LEN];
    const char *params[1] = {prefix};
    PGresult *res = NULL;
    int rc, hash;

    if (crypto_apikey_prefix(presented, prefix) != 0)
        return LICD_ERR_UNAUTHORIZED;
    if ((rc = store_exec(q, 1, params, 1, &res)) != LICD_OK)
        return rc;
    hash = PQnfields(res) - 1;
    rc = LICD_ERR_UNAUTHORIZED;
    for (int i = 0; rc == LICD_ERR_UNAUTHORIZED && i < PQntuples(res); i++)
        if (crypto_apikey_matches(presented, store_col_str(res, i, hash)))
            rc = store_fill(t, res, i, out);
    PQclear(res);
    return rc;
}
