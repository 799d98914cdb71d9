/* Bearer-key look-up shared by every kind of key, with the in-process
 * caches of vendor and customer keys (see caches.h). */
#include "store/caches.h"

#include <string.h>

#include "crypto/apikey.h"
#include "crypto/digest.h"
#include "store/notify.h"
#include "store/sql.h"

static cache *caches[STORE_CACHE_COUNT];

/* Sizes and lives: a few thousand keys and products per node, kept ten
 * seconds at most (changes are heard of at once; the TTL is the backstop). */
#define CACHE_ENTRIES 8192
#define CACHE_TTL_MS 10000

int store_caches_init(void)
{
    /* The kind of change notice each listens to, and its name in /metrics. */
    static const char *const kinds[STORE_CACHE_COUNT][2] = {
        [STORE_CACHE_VENDOR_KEYS] = {"key", "vendor_keys"},
        [STORE_CACHE_CUSTOMER_KEYS] = {"key", "customer_keys"},
        [STORE_CACHE_PRODUCTS] = {"product", "products"},
        [STORE_CACHE_LICENSES] = {"license", "licenses"},
    };
    for (int i = 0; i < STORE_CACHE_COUNT; i++) {
        int rc;
        if (!(caches[i] = cache_new(kinds[i][1], CACHE_ENTRIES, CACHE_TTL_MS)))
            return LICD_ERR_NOMEM;
        if ((rc = store_notify_register(kinds[i][0], caches[i])) != LICD_OK)
            return rc;
    }
    return LICD_OK;
}

void store_caches_free(void)
{
    for (int i = 0; i < STORE_CACHE_COUNT; i++) {
        cache_free(caches[i]);
        caches[i] = NULL;
    }
}

cache *store_cache(store_cache_id id) { return caches[id]; }

void store_caches_forget(store_cache_id id)
{
    if (caches[id])
        cache_clear(caches[id]);
}

/* Cached under the key's SHA-256 in hex: the name migration 0010's trigger
 * gives when a key row changes, and never the key itself. */
int store_find_key(const char *presented, const store_sql *q, const store_rowtype *t, void *out,
                   cache *c)
{
    char prefix[APIKEY_PREFIX_LEN], hash_hex[2 * CRYPTO_SHA256_LEN + 1];
    const char *params[1] = {prefix};
    uint8_t digest[CRYPTO_SHA256_LEN];
    PGresult *res = NULL;
    uint64_t generation = c ? cache_generation(c) : 0;
    int rc, hash;

    if (crypto_apikey_prefix(presented, prefix) != 0)
        return LICD_ERR_UNAUTHORIZED;
    if (c) {
        crypto_sha256(presented, strlen(presented), digest);
        crypto_hex(digest, sizeof digest, hash_hex);
        if (cache_get(c, hash_hex, out, t->size) == (long)t->size)
            return LICD_OK;
    }
    if ((rc = store_exec(q, 1, params, 1, &res)) != LICD_OK)
        return rc;
    hash = PQnfields(res) - 1;
    rc = LICD_ERR_UNAUTHORIZED;
    for (int i = 0; rc == LICD_ERR_UNAUTHORIZED && i < PQntuples(res); i++)
        if (crypto_apikey_matches(presented, store_col_str(res, i, hash))) {
            rc = store_fill(t, res, i, out);
            /* A key in its grace period after a rotation ends at a time no
             * notice announces: it is not kept. */
            if (rc == LICD_OK && c && store_col_bool(res, i, hash - 1))
                cache_put(c, hash_hex, out, t->size, generation);
        }
    PQclear(res);
    return rc;
}
