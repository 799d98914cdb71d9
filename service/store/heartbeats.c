/* Lease heartbeats through the batcher (see heartbeats.h). */
#include "store/heartbeats.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/batcher.h"
#include "store/db.h"
#include "store/sql.h"
#include "util/json.h"

/* A heartbeat's parameters, as text; the batch sends each as one array. */
enum { BEAT_LEASE, BEAT_CUSTOMER, BEAT_PRODUCT, BEAT_CLIENT, BEAT_TTL, BEAT_PARAMS };

/* One queued heartbeat. */
struct beat {
    store_batch_item item; /* first */
    const char *param[BEAT_PARAMS];
    char product[24], ttl[24];
    store_beat_result *res;
};

/* $1..$5: lease ids, customers, products, clients and ttls, one entry per
 * heartbeat. A lease that several heartbeats of a batch name is updated
 * once, and each of them gets the answer (n lists their positions). The
 * statement commits on its own, durably: no BEGIN, SET or COMMIT. */
enum { BEAT_N, BEAT_ID, BEAT_PACK_ID, BEAT_EXPIRES_AT };
static const store_field beat_fields[] = {
    [BEAT_ID] = STORE_TEXT(store_lease, id),
    [BEAT_PACK_ID] = STORE_TEXT(store_lease, pack_id),
    [BEAT_EXPIRES_AT] = STORE_EPOCH(store_lease, expires_at),
};
static const store_rowtype beat_row = STORE_ROWTYPE(store_lease, beat_fields);
static const store_sql Q_LEASE_HEARTBEATS = {
    "lease_heartbeats",
    "WITH b AS (SELECT id, customer_id, product_id, client_id, max(ttl) AS ttl,"
    "  array_agg(n) AS ns"
    "  FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::bigint[])"
    "  WITH ORDINALITY AS u(id, customer_id, product_id, client_id, ttl, n)"
    "  GROUP BY id, customer_id, product_id, client_id),"
    " l AS (UPDATE leases l SET heartbeat_at = now(),"
    /* never earlier than it was: a borrowed lease ends when its borrow
     * does, and a batch whose statement began before another node's batch
     * committed the row (now() is the statement's start) keeps that later
     * expiry, which a client was told, instead of moving it back */
    "   expires_at = greatest(l.expires_at, now() + make_interval(secs => b.ttl))"
    /* id = ANY(...) lets the planner find the rows by primary key whatever
     * it guesses of the batch's size (a join alone may scan the table). */
    "  FROM b WHERE l.id = ANY($1::uuid[]) AND l.id = b.id AND l.customer_id = b.customer_id"
    "  AND l.product_id = b.product_id AND l.client_id = b.client_id"
    "  AND l.released_at IS NULL AND l.expires_at > now()"
    "  RETURNING b.ns, l.id, l.pack_id, l.expires_at)"
    /* whole seconds rounded down: it never lapses before the time told */
    " SELECT unnest(l.ns), l.id, k.pack_id, floor(extract(epoch FROM l.expires_at))::bigint"
    " FROM l JOIN packs k ON k.id = l.pack_id"};

static void write_batch(store_batch_item *b)
{
    PGresult *res = NULL;
    /* A lease named by two nodes' batches at once may deadlock them: the
     * retry extends it twice, which is harmless. */
    int rc = store_batch_exec(&Q_LEASE_HEARTBEATS, BEAT_PARAMS, b, 1, &res);
    for (int row = 0; rc == LICD_OK && row < PQntuples(res); row++) {
        struct beat *h = (struct beat *)store_batch_nth(b, store_col_int(res, row, BEAT_N));
        if (h && (rc = store_fill(&beat_row, res, row, &h->res->lease)) == LICD_OK)
            h->res->found = 1;
    }
    for (; b; b = b->next)
        ((struct beat *)b)->res->rc = rc;
    PQclear(res);
}

static STORE_BATCHER(beats, "heartbeats", write_batch);

int store_heartbeats_start(void) { return store_batcher_start(&beats); }

void store_heartbeats_stop(void) { store_batcher_stop(&beats); }

int store_lease_heartbeat(const char *customer_id, const char *lease_id, long long product_id,
                          const char *client_id, long ttl, store_beat_result *res,
                          void (*done)(void *arg), void *arg)
{
    struct beat *h;

    res->found = 0;
    res->rc = LICD_OK;
    if (!json_is_uuid(lease_id)) {
        done(arg);
        return LICD_OK;
    }
    if (!(h = calloc(1, sizeof *h)))
        return LICD_ERR_NOMEM;
    snprintf(h->product, sizeof h->product, "%lld", product_id);
    snprintf(h->ttl, sizeof h->ttl, "%ld", ttl);
    h->param[BEAT_LEASE] = lease_id;
    h->param[BEAT_CUSTOMER] = customer_id;
    h->param[BEAT_PRODUCT] = h->product;
    h->param[BEAT_CLIENT] = client_id;
    h->param[BEAT_TTL] = h->ttl;
    h->res = res;
    store_batcher_submit(&beats, &h->item, h->param, done, arg);
    return LICD_OK;
}
