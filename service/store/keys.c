/* Bearer-key look-up shared by every kind of key. */
#include "store/keys.h"

#include "crypto/apikey.h"
#include "store/db.h"

int store_find_key(const char *presented, const char *sql, PGresult **res, int *row)
{
    char prefix[APIKEY_PREFIX_LEN];
    const char *params[1] = {prefix};
    int rc, last;

    *res = NULL;
    *row = -1;
    if (crypto_apikey_prefix(presented, prefix) != 0)
        return LICD_ERR_UNAUTHORIZED;
    if ((rc = store_exec(sql, 1, params, 1, res)) != LICD_OK)
        return rc;
    last = PQnfields(*res) - 1;
    for (int i = 0; i < PQntuples(*res); i++)
        if (crypto_apikey_matches(presented, PQgetvalue(*res, i, last))) {
            *row = i;
            return LICD_OK;
        }
    PQclear(*res);
    *res = NULL;
    return LICD_ERR_UNAUTHORIZED;
}
