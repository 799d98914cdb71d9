/* SQL for leases (see leases.h). */
#include "store/leases.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"
#include "util/json.h"

static void fill(store_lease *l, const PGresult *res)
{
    snprintf(l->id, sizeof l->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(l->pack_id, sizeof l->pack_id, "%s", PQgetvalue(res, 0, 1));
    l->expires_at = (time_t)atoll(PQgetvalue(res, 0, 2));
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
    PGresult *res = NULL;
    int rc = store_run("SELECT id FROM packs WHERE customer_id = $1 AND product_id = $2"
                       " AND type = 'concurrent' AND first_active <= now()"
                       " AND (expires IS NULL OR expires > now()) ORDER BY id FOR UPDATE",
                       2, c->params);
    if (rc != LICD_OK)
        return rc;
    /* A client holds one seat of a product: a checkout it repeats (say,
     * after a 503 that had committed) gets the lease it has. */
    {
        const char *mine[3] = {c->params[0], c->params[1], c->params[3]};
        rc = store_exec("SELECT l.id, p.pack_id, extract(epoch FROM l.expires_at)::bigint"
                        " FROM leases l JOIN packs p ON p.id = l.pack_id"
                        " WHERE l.customer_id = $1 AND l.product_id = $2 AND l.client_id = $3"
                        " AND l.released_at IS NULL AND l.expires_at > now() LIMIT 1",
                        3, mine, 0, &res);
        c->existing = rc == LICD_OK && PQntuples(res) == 1;
        if (c->existing) {
            fill(c->out, res);
            c->taken = 1;
        }
        PQclear(res);
        res = NULL;
        if (rc != LICD_OK || c->existing)
            return rc;
    }
    rc = store_exec(
        "WITH cand AS (SELECT p.id, p.pack_id FROM packs p WHERE p.customer_id = $1"
        "  AND p.product_id = $2 AND p.type = 'concurrent' AND p.first_active <= now()"
        "  AND (p.expires IS NULL OR p.expires > now())"
        "  AND (SELECT count(*) FROM leases l WHERE l.pack_id = p.id AND l.released_at IS NULL"
        "       AND l.expires_at > now()) < p.quantity"
        "  ORDER BY p.expires ASC NULLS LAST, p.id LIMIT 1),"
        " l AS (INSERT INTO leases (vendor_id, customer_id, product_id, pack_id, client_id,"
        "  expires_at) SELECT $3, $1, $2, cand.id, $4, now() + make_interval(secs => $5::bigint)"
        "  FROM cand RETURNING id, pack_id, expires_at)"
        " SELECT l.id, cand.pack_id, extract(epoch FROM l.expires_at)::bigint FROM l, cand",
        5, c->params, 0, &res);
    c->taken = rc == LICD_OK && PQntuples(res) == 1;
    if (c->taken)
        fill(c->out, res);
    PQclear(res);
    return rc;
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
    PGresult *res = NULL;
    int rc = store_run("SET LOCAL synchronous_commit = off", 0, NULL);
    if (rc != LICD_OK)
        return rc;
    rc = store_exec("WITH l AS (UPDATE leases SET heartbeat_at = now(),"
                    "  expires_at = now() + make_interval(secs => $5::bigint)"
                    "  WHERE id = $2 AND customer_id = $1 AND product_id = $3 AND client_id = $4"
                    "  AND released_at IS NULL AND expires_at > now()"
                    "  RETURNING id, pack_id, expires_at)"
                    " SELECT l.id, p.pack_id, extract(epoch FROM l.expires_at)::bigint"
                    " FROM l JOIN packs p ON p.id = l.pack_id",
                    5, h->params, 0, &res);
    h->found = rc == LICD_OK && PQntuples(res) == 1;
    if (h->found)
        fill(h->out, res);
    PQclear(res);
    return rc;
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
    rc = store_exec_row("UPDATE leases SET released_at = coalesce(released_at, now())"
                        " WHERE id = $2 AND customer_id = $1 RETURNING id",
                        2, params, 0, &res);
    PQclear(res);
    return rc;
}
