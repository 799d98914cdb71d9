/* SQL for leases (see leases.h). */
#include "store/leases.h"

#include <stdio.h>

#include "store/sql.h"
#include "util/json.h"

/* Every query below answers a lease l with its pack's id. */
enum { LEASE_ID, LEASE_PACK_ID, LEASE_EXPIRES_AT };
static const store_field lease_fields[] = {
    [LEASE_ID] = STORE_TEXT(store_lease, id),
    [LEASE_PACK_ID] = STORE_TEXT(store_lease, pack_id),
    [LEASE_EXPIRES_AT] = STORE_EPOCH(store_lease, expires_at),
};
static const store_rowtype lease_row = STORE_ROWTYPE(store_lease, lease_fields);

static const store_sql Q_LEASE_LOCK_PACKS = {
    "lease_lock_packs", "SELECT id FROM packs WHERE customer_id = $1 AND product_id = $2"
                        " AND type = 'concurrent' AND first_active <= now()"
                        " AND (expires IS NULL OR expires > now()) ORDER BY id FOR UPDATE"};
static const store_sql Q_LEASE_HELD = {
    "lease_held", "SELECT l.id, p.pack_id, extract(epoch FROM l.expires_at)::bigint"
                  " FROM leases l JOIN packs p ON p.id = l.pack_id"
                  " WHERE l.customer_id = $1 AND l.product_id = $2 AND l.client_id = $3"
                  " AND l.released_at IS NULL AND l.expires_at > now() LIMIT 1"};
static const store_sql Q_LEASE_CHECKOUT = {
    "lease_checkout",
    "WITH cand AS (SELECT p.id, p.pack_id FROM packs p WHERE p.customer_id = $1"
    "  AND p.product_id = $2 AND p.type = 'concurrent' AND p.first_active <= now()"
    "  AND (p.expires IS NULL OR p.expires > now())"
    "  AND (SELECT count(*) FROM leases l WHERE l.pack_id = p.id AND l.released_at IS NULL"
    "       AND l.expires_at > now()) < p.quantity"
    "  ORDER BY p.expires ASC NULLS LAST, p.id LIMIT 1),"
    " l AS (INSERT INTO leases (vendor_id, customer_id, product_id, pack_id, client_id,"
    "  expires_at) SELECT $3, $1, $2, cand.id, $4, now() + make_interval(secs => $5::bigint)"
    "  FROM cand RETURNING id, pack_id, expires_at)"
    " SELECT l.id, cand.pack_id, extract(epoch FROM l.expires_at)::bigint FROM l, cand"};
static const store_sql Q_LEASE_ASYNC_COMMIT = {
    "lease_async_commit", "SET LOCAL synchronous_commit = off"};
static const store_sql Q_LEASE_HEARTBEAT = {
    "lease_heartbeat",
    "WITH l AS (UPDATE leases SET heartbeat_at = now(),"
    "  expires_at = now() + make_interval(secs => $5::bigint)"
    "  WHERE id = $2 AND customer_id = $1 AND product_id = $3 AND client_id = $4"
    "  AND released_at IS NULL AND expires_at > now()"
    "  RETURNING id, pack_id, expires_at)"
    " SELECT l.id, p.pack_id, extract(epoch FROM l.expires_at)::bigint"
    " FROM l JOIN packs p ON p.id = l.pack_id"};
static const store_sql Q_LEASE_RELEASE = {
    "lease_release", "UPDATE leases SET released_at = coalesce(released_at, now())"
                     " WHERE id = $2 AND customer_id = $1 RETURNING id"};

/* Runs a statement answering at most one lease into out; *found tells. */
static int one_lease(const store_sql *q, int nparams, const char *const *params,
                     store_lease *out, int *found)
{
    int rc = store_fetch_row(q, nparams, params, 0, &lease_row, out);
    *found = rc == LICD_OK;
    return rc == LICD_ERR_NOT_FOUND ? LICD_OK : rc;
}

struct checkout {
    const char *params[6];
    store_lease *out;
    int taken, existing;
};

/* Two statements in one transaction: the first locks the candidate packs,
 * the second (a new snapshot under READ COMMITTED) counts the live leases
 * that every earlier holder of those locks committed, and inserts. */
static int checkout_tx(void *p)
{
    struct checkout *c = p;
    const char *mine[3] = {c->params[0], c->params[1], c->params[3]};
    int rc = store_run(&Q_LEASE_LOCK_PACKS, 2, c->params);
    if (rc != LICD_OK)
        return rc;
    /* A client holds one seat of a product: a checkout it repeats (say,
     * after a 503 that had committed) gets the lease it has. */
    if ((rc = one_lease(&Q_LEASE_HELD, 3, mine, c->out, &c->existing)) != LICD_OK ||
        c->existing) {
        c->taken = c->existing;
        return rc;
    }
    return one_lease(&Q_LEASE_CHECKOUT, 5, c->params, c->out, &c->taken);
}

int store_lease_checkout(const char *vendor_id, const char *customer_id, long long product_id,
                         const char *client_id, long ttl, store_lease *out, int *taken,
                         int *existing)
{
    char product[24], seconds[24];
    struct checkout c = {{customer_id, product, vendor_id, client_id, seconds}, out, 0, 0};
    int rc;
    snprintf(product, sizeof product, "%lld", product_id);
    snprintf(seconds, sizeof seconds, "%ld", ttl);
    rc = store_tx(checkout_tx, &c);
    *taken = c.taken;
    *existing = c.existing;
    return rc;
}

struct heartbeat {
    const char *params[5];
    store_lease *out;
    int found;
};

static int heartbeat_tx(void *p)
{
    struct heartbeat *h = p;
    int rc = store_run(&Q_LEASE_ASYNC_COMMIT, 0, NULL);
    return rc != LICD_OK ? rc : one_lease(&Q_LEASE_HEARTBEAT, 5, h->params, h->out, &h->found);
}

int store_lease_heartbeat(const char *customer_id, const char *lease_id, long long product_id,
                          const char *client_id, long ttl, store_lease *out, int *found)
{
    char product[24], seconds[24];
    struct heartbeat h = {{customer_id, lease_id, product, client_id, seconds}, out, 0};
    int rc;
    *found = 0;
    if (!json_is_uuid(lease_id))
        return LICD_OK;
    snprintf(product, sizeof product, "%lld", product_id);
    snprintf(seconds, sizeof seconds, "%ld", ttl);
    rc = store_tx(heartbeat_tx, &h);
    *found = h.found;
    return rc;
}

int store_lease_release(const char *customer_id, const char *lease_id)
{
    const char *params[2] = {customer_id, lease_id};
    PGresult *res = NULL;
    int rc;
    if (!json_is_uuid(lease_id))
        return LICD_ERR_NOT_FOUND;
    rc = store_exec_row(&Q_LEASE_RELEASE, 2, params, 0, &res);
    PQclear(res);
    return rc;
}
