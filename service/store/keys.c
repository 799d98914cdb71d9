/* Bearer-key look-up shared by every kind of key, with the in-process
 * caches of vendor and customer keys (see caches.h). */
#include "store/caches.h"

#include <stdio.h>
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
                   cache *c, const store_gate *gate)
{
    char prefix[APIKEY_PREFIX_LEN], hash_hex[2 * CRYPTO_SHA256_LEN + 1];
    const char *params[1] = {prefix};
    PGresult *res = NULL;
    uint64_t generation = c ? cache_generation(c) : 0;
    int rc, hash;

    /* hashed once: the cache's key and what the stored hashes are matched with */
    crypto_sha256_hex(presented, strlen(presented), hash_hex);
    if (c && cache_get(c, hash_hex, out, t->size) == (long)t->size)
        return LICD_OK;
    if (gate && (rc = gate->run(gate->arg)) != LICD_OK)
        return rc;
    if (crypto_apikey_prefix(presented, prefix) != 0)
        return LICD_ERR_UNAUTHORIZED;
    if ((rc = store_exec(q, 1, params, 1, &res)) != LICD_OK)
        return rc;
    hash = PQnfields(res) - 1;
    rc = LICD_ERR_UNAUTHORIZED;
    for (int i = 0; rc == LICD_ERR_UNAUTHORIZED && i < PQntuples(res); i++)
        if (crypto_apikey_matches(hash_hex, store_col_str(res, i, hash))) {
            rc = store_fill(t, res, i, out);
            /* A key in its grace period after a rotation ends at a time no
             * notice announces: it is not kept. */
            if (rc == LICD_OK && c && store_col_bool(res, i, hash - 1))
                cache_put(c, hash_hex, out, t->size, generation);
        }
    PQclear(res);
    return rc;
}

struct rotate_ctx {
    const store_actor *who;
    const store_rotation *r;
    const crypto_apikey *key;
    long grace_s;
    char *valid_until;
};

static int rotate_tx(void *p)
{
    struct rotate_ctx *c = p;
    const store_rotation *r = c->r;
    char grace[24];
    const char *params[5];
    PGresult *res = NULL;
    cJSON *details = NULL;
    int n = 0, rc;

    snprintf(grace, sizeof grace, "%ld", c->grace_s);
    for (; n < r->nowner; n++)
        params[n] = r->owner[n];
    params[n++] = c->key->prefix;
    params[n++] = c->key->hash_hex;
    params[n++] = grace;
    if ((rc = store_exec_row(r->q, n, params, 0, &res)) != LICD_OK)
        goto out;
    store_col_copy(res, 0, 0, c->valid_until, 40);
    rc = LICD_ERR_NOMEM;
    if ((details = cJSON_CreateObject()) &&
        cJSON_AddStringToObject(details, "key_prefix", c->key->prefix) &&
        cJSON_AddNumberToObject(details, "grace_s", (double)c->grace_s) &&
        cJSON_AddStringToObject(details, "previous_valid_until", c->valid_until))
        rc = store_audit(c->who, "rotate_key", r->object_type, r->object_id, details);
out:
    cJSON_Delete(details);
    PQclear(res);
    return rc;
}

int store_rotate_key(const store_actor *who, const store_rotation *r, long grace_s, char *key,
                     size_t key_len, char valid_until[40])
{
    crypto_apikey k;
    struct rotate_ctx c = {who, r, &k, grace_s, valid_until};
    int rc = crypto_apikey_new(r->kind, &k);
    if (rc == LICD_OK && (rc = store_tx(rotate_tx, &c)) == LICD_OK) {
        snprintf(key, key_len, "%s", k.plain);
        store_caches_forget(r->cache);
    }
    crypto_apikey_wipe(&k);
    return rc;
}
