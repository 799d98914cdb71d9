/* SQL for leases (see leases.h): seats counted in packs.assigned, lapsed
 * leases released once per lapse opportunity, the vendor's list. */
#include "store/leases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/batcher.h"
#include "store/sql.h"
#include "util/json.h"

/* A checkout that keeps racing (free seats taken under its feet, its own
 * concurrent checkouts, deadlocks) gives up after this many statements. */
#define CHECKOUT_ATTEMPTS 4
/* Packs the maintenance thread reclaims in one transaction. */
#define RECLAIM_BATCH 64

/* A lease's expiry as the client is told it: whole seconds, rounded down,
 * so that it never lapses before the time it was promised. */
#define LEASE_EPOCH(col) "floor(extract(epoch FROM " col "))::bigint"

/* The checkout's one row: the lease it took or found (NULLs when none),
 * and what it saw of the customer's active concurrent packs of the product. */
enum { CHECKOUT_ID, CHECKOUT_PACK_ID, CHECKOUT_EXPIRES_AT, CHECKOUT_HELD, CHECKOUT_PACKS,
       CHECKOUT_FREE, CHECKOUT_DUE };
static const store_field lease_fields[] = {
    [CHECKOUT_ID] = STORE_TEXT(store_lease, id),
    [CHECKOUT_PACK_ID] = STORE_TEXT(store_lease, pack_id),
    [CHECKOUT_EXPIRES_AT] = STORE_EPOCH(store_lease, expires_at),
};
static const store_rowtype lease_row = STORE_ROWTYPE(store_lease, lease_fields);

/* The CTE that counts a refusal for want of a seat (/metrics, migration
 * 0014) in a checkout or borrow statement whose packs are cand (of them,
 * those where usable holds), whose seat is taken by seat and whose client
 * holds a lease when holder has a row: the look after which the caller
 * answers full counts it against the first usable pack. That is: no seat
 * was free and none may be held by a lapsed lease, or those were reclaimed
 * already ($6); or it is the last look ($7) and the seat it saw free went
 * to a racing checkout. Such a statement writes nothing else, so its
 * commit need not wait for the disk. */
#define LEASE_DENIED(usable, holder)                                                      \
    " denied AS (UPDATE packs k SET denials = k.denials + 1"                              \
    "  WHERE k.id = (SELECT id FROM cand WHERE " usable                                   \
    "   ORDER BY expires ASC NULLS LAST, id LIMIT 1)"                                     \
    "  AND NOT EXISTS (SELECT FROM " holder ") AND NOT EXISTS (SELECT FROM seat)"         \
    "  AND CASE WHEN EXISTS (SELECT FROM cand WHERE " usable " AND free) THEN $7::boolean" \
    "   ELSE $6::boolean OR NOT EXISTS (SELECT FROM cand WHERE " usable " AND due) END"  \
    "  RETURNING set_config('synchronous_commit', 'off', true)),"

/* $1 customer, $2 product, $3 vendor, $4 client, $5 ttl. The client's live
 * lease if it has one; else the first active pack with a free seat gets
 * assigned + 1 (re-checked on the row as it is when locked, so racing
 * checkouts never oversell) and the lease, whose expiry lowers the pack's
 * next_lapse_at. A lapsed lease of the client that nobody released yet
 * makes the INSERT fail on leases_one_per_client (23505); denied counts
 * the look that answers full (LEASE_DENIED). */
static const store_sql Q_LEASE_CHECKOUT = {
    "lease_checkout",
    "WITH mine AS (SELECT id, pack_id, expires_at FROM leases"
    "  WHERE customer_id = $1 AND product_id = $2 AND client_id = $4"
    "  AND released_at IS NULL AND expires_at > now()),"
    " cand AS (SELECT id, expires, assigned + allocated < quantity AS free, next_lapse_at <= now() AS due"
    "  FROM packs WHERE customer_id = $1 AND product_id = $2 AND type = 'concurrent'"
    "  AND first_active <= now() AND (expires IS NULL OR expires > now())),"
    " seat AS (UPDATE packs k SET assigned = k.assigned + 1,"
    "   next_lapse_at = least(k.next_lapse_at, now() + make_interval(secs => $5::bigint))"
    "  WHERE k.id = (SELECT id FROM cand WHERE free ORDER BY expires ASC NULLS LAST, id LIMIT 1)"
    "  AND k.assigned + k.allocated < k.quantity AND NOT EXISTS (SELECT FROM mine) RETURNING k.id),"
    LEASE_DENIED("true", "mine")
    " taken AS (INSERT INTO leases (vendor_id, customer_id, product_id, pack_id, client_id,"
    "  expires_at) SELECT $3, $1, $2, seat.id, $4, now() + make_interval(secs => $5::bigint)"
    "  FROM seat RETURNING id, pack_id, expires_at),"
    " got AS (SELECT id, pack_id, expires_at, true AS held FROM mine"
    "  UNION ALL SELECT id, pack_id, expires_at, false FROM taken)"
    " SELECT g.id, k.pack_id, " LEASE_EPOCH("g.expires_at") ", g.held, c.packs, c.free, c.due"
    " FROM (SELECT count(*) AS packs, count(*) FILTER (WHERE free) AS free,"
    "  count(*) FILTER (WHERE due AND NOT free) AS due FROM cand) c"
    " LEFT JOIN got g ON true LEFT JOIN packs k ON k.id = g.pack_id"};
/* The lease.lapsed events of the leases l a statement releases as lapsed,
 * inserted by that statement (a CTE). */
#define LAPSED_EVENT(l)                                                                    \
    " ev AS (INSERT INTO events (vendor_id, type, data)"                                   \
    "  SELECT " l ".vendor_id, 'lease.lapsed', jsonb_build_object('lease_id', " l ".id,"   \
    "  'pack_id', p.pack_id, 'client_id', " l ".client_id)"                                \
    "  FROM " l " JOIN packs p ON p.id = " l ".pack_id)"

/* The borrow's one row, as the checkout's with the pack's version and
 * platform, the longest borrow the packs allow and whether the client holds
 * a live lease that could not be borrowed. */
enum { BORROW_ID, BORROW_PACK_ID, BORROW_EXPIRES_AT, BORROW_HELD, BORROW_PACKS, BORROW_FREE,
       BORROW_DUE, BORROW_VERSION, BORROW_PLATFORM, BORROW_MAX, BORROW_HOLDING };
static const store_field borrow_fields[] = {
    [BORROW_ID] = STORE_TEXT(store_borrow, lease.id),
    [BORROW_PACK_ID] = STORE_TEXT(store_borrow, lease.pack_id),
    [BORROW_EXPIRES_AT] = STORE_EPOCH(store_borrow, lease.expires_at),
    [BORROW_HELD] = {STORE_F_NONE, 0, 0},
    [BORROW_PACKS] = {STORE_F_NONE, 0, 0},
    [BORROW_FREE] = {STORE_F_NONE, 0, 0},
    [BORROW_DUE] = {STORE_F_NONE, 0, 0},
    [BORROW_VERSION] = STORE_TEXT(store_borrow, version),
    [BORROW_PLATFORM] = STORE_TEXT(store_borrow, platform),
    [BORROW_MAX] = STORE_INT64(store_borrow, max_borrow_s),
};
static const store_rowtype borrow_row = STORE_ROWTYPE(store_borrow, borrow_fields);

/* $1 customer, $2 product, $3 vendor, $4 client, $5 borrow_s. Like the
 * checkout, over the packs that allow borrowing $5 seconds (long_enough);
 * a live lease of the client on such a pack becomes borrowed, its expiry
 * moved to the borrow's end when that is later; denied as in the checkout. */
static const store_sql Q_LEASE_BORROW = {
    "lease_borrow",
    "WITH cand AS (SELECT id, expires, assigned + allocated < quantity AS free, next_lapse_at <= now() AS due,"
    "  max_borrow_s >= $5::bigint AS long_enough, max_borrow_s"
    "  FROM packs WHERE customer_id = $1 AND product_id = $2 AND type = 'concurrent'"
    "  AND first_active <= now() AND (expires IS NULL OR expires > now())),"
    " live AS (SELECT id, pack_id FROM leases"
    "  WHERE customer_id = $1 AND product_id = $2 AND client_id = $4"
    "  AND released_at IS NULL AND expires_at > now()),"
    " mine AS (UPDATE leases l SET borrowed = true,"
    "   expires_at = greatest(l.expires_at, now() + make_interval(secs => $5::bigint))"
    "  FROM live v JOIN cand c ON c.id = v.pack_id WHERE l.id = v.id AND c.long_enough"
    "  AND l.released_at IS NULL AND l.expires_at > now()"
    "  RETURNING l.id, l.pack_id, l.expires_at),"
    " seat AS (UPDATE packs k SET assigned = k.assigned + 1,"
    "   next_lapse_at = least(k.next_lapse_at, now() + make_interval(secs => $5::bigint))"
    "  WHERE k.id = (SELECT id FROM cand WHERE free AND long_enough"
    "   ORDER BY expires ASC NULLS LAST, id LIMIT 1)"
    "  AND k.assigned + k.allocated < k.quantity AND NOT EXISTS (SELECT FROM live) RETURNING k.id),"
    LEASE_DENIED("long_enough", "live")
    " taken AS (INSERT INTO leases (vendor_id, customer_id, product_id, pack_id, client_id,"
    "  expires_at, borrowed) SELECT $3, $1, $2, seat.id, $4,"
    "  now() + make_interval(secs => $5::bigint), true FROM seat"
    "  RETURNING id, pack_id, expires_at),"
    " got AS (SELECT id, pack_id, expires_at, true AS held FROM mine"
    "  UNION ALL SELECT id, pack_id, expires_at, false FROM taken)"
    " SELECT g.id, k.pack_id, " LEASE_EPOCH("g.expires_at") ", g.held, c.packs, c.free, c.due,"
    "  k.version, k.platform, c.max_borrow, (SELECT count(*) FROM live)"
    " FROM (SELECT count(*) AS packs, count(*) FILTER (WHERE free AND long_enough) AS free,"
    "  count(*) FILTER (WHERE due AND NOT free AND long_enough) AS due,"
    "  coalesce(max(max_borrow_s), 0) AS max_borrow FROM cand) c"
    " LEFT JOIN got g ON true LEFT JOIN packs k ON k.id = g.pack_id"};
/* The client's lapsed lease of the product, released as of its expiry. */
static const store_sql Q_LEASE_RELEASE_LAPSED = {
    "lease_release_lapsed",
    "WITH l AS (UPDATE leases SET released_at = expires_at"
    "  WHERE customer_id = $1 AND product_id = $2 AND client_id = $3"
    "  AND released_at IS NULL AND expires_at <= now() RETURNING *)," LAPSED_EVENT("l")
    " UPDATE packs k SET assigned = k.assigned - 1 FROM l WHERE k.id = l.pack_id"};
/* The final SELECT sees the lease as it was: found whether or not this
 * statement released it. */
static const store_sql Q_LEASE_RELEASE = {
    "lease_release",
    "WITH l AS (UPDATE leases SET released_at = least(now(), expires_at)"
    "  WHERE id = $2 AND customer_id = $1 AND released_at IS NULL RETURNING pack_id),"
    " k AS (UPDATE packs k SET assigned = k.assigned - 1 FROM l WHERE k.id = l.pack_id)"
    " SELECT 1 FROM leases WHERE id = $2 AND customer_id = $1"};

/* Packs due for reclaiming, locked against checkouts (which update the pack
 * row) until the transaction ends. */
enum { DUE_ID };
#define DUE_WHERE " type = 'concurrent' AND next_lapse_at <= now()"
static const store_sql Q_LEASE_DUE_OF_PRODUCT = {
    "lease_due_of_product", "SELECT id FROM packs WHERE customer_id = $1 AND product_id = $2"
                            " AND" DUE_WHERE " ORDER BY id FOR NO KEY UPDATE"};
static const store_sql Q_LEASE_DUE_PACK = {
    "lease_due_pack", "SELECT id FROM packs WHERE vendor_id = $1 AND pack_id = $2 AND" DUE_WHERE
                      " FOR NO KEY UPDATE"};
static const store_sql Q_LEASE_IS_DUE = {
    "lease_is_due", "SELECT id FROM packs WHERE vendor_id = $1 AND pack_id = $2 AND" DUE_WHERE};
static const store_sql Q_LEASE_DUE_ANY = {
    "lease_due_any", "SELECT id FROM packs WHERE id > $1 AND" DUE_WHERE
                     " ORDER BY id LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED"};
/* $1: the locked packs. One pass over their live leases: the lapsed ones
 * are released as of their expiry (those a heartbeat or release holds are
 * skipped and stay live), each pack's assigned goes down by its count and
 * next_lapse_at becomes the earliest expiry of the rest. A skipped lease
 * keeps its old expiry in that minimum, so the bound stays a lower bound. */
enum { RECLAIM_RELEASED };
static const store_sql Q_LEASE_RECLAIM = {
    "lease_reclaim",
    "WITH live AS MATERIALIZED (SELECT id, pack_id, expires_at FROM leases"
    "  WHERE pack_id = ANY($1::bigint[]) AND released_at IS NULL),"
    " gone AS (UPDATE leases l SET released_at = l.expires_at WHERE l.id IN"
    "  (SELECT x.id FROM leases x WHERE x.id IN (SELECT id FROM live WHERE expires_at <= now())"
    "   AND x.released_at IS NULL AND x.expires_at <= now() FOR UPDATE SKIP LOCKED)"
    "  RETURNING l.*)," LAPSED_EVENT("gone") ","
    " kept AS (SELECT v.pack_id, count(g.id) AS released,"
    "  min(v.expires_at) FILTER (WHERE g.id IS NULL) AS next_lapse_at"
    "  FROM live v LEFT JOIN gone g ON g.id = v.id GROUP BY v.pack_id)"
    " UPDATE packs k SET assigned = k.assigned - coalesce(r.released, 0),"
    "  next_lapse_at = r.next_lapse_at"
    " FROM unnest($1::bigint[]) AS p(id) LEFT JOIN kept r ON r.pack_id = p.id"
    " WHERE k.id = p.id RETURNING coalesce(r.released, 0)"};

/* Over a live lease l and its pack k; lists add its list position. */
enum { ITEM_ID, ITEM_PACK_ID, ITEM_CLIENT_ID, ITEM_CHECKED_OUT_AT, ITEM_EXPIRES_AT, ITEM_BORROWED,
       ITEM_SEQ };
#define ITEM_COLUMNS                                                                       \
    "l.id, k.pack_id, l.client_id, " STORE_TIME("l.created_at") ", "                       \
    STORE_TIME("l.expires_at") ", l.borrowed, l.seq"
#define ITEM_LIVE " l.released_at IS NULL AND l.expires_at > now() AND l.seq > $2"
static const store_field item_fields[] = {
    [ITEM_ID] = STORE_TEXT(store_lease_item, id),
    [ITEM_PACK_ID] = STORE_TEXT(store_lease_item, pack_id),
    [ITEM_CLIENT_ID] = STORE_TEXT(store_lease_item, client_id),
    [ITEM_CHECKED_OUT_AT] = STORE_TEXT(store_lease_item, checked_out_at),
    [ITEM_EXPIRES_AT] = STORE_TEXT(store_lease_item, expires_at),
    [ITEM_BORROWED] = STORE_BOOL(store_lease_item, borrowed),
};
static const store_rowtype item_row = STORE_ROWTYPE(store_lease_item, item_fields);

/* $1 vendor, $2 after, $3 limit + 1, then the filter: $4 the pack id, or
 * $4 the customer and $5 the product (NULL: any). One statement per
 * filter, so that each has its index. */
static const store_sql Q_LEASE_LIST_BY_PACK = {
    "lease_list_by_pack",
    "SELECT " ITEM_COLUMNS " FROM packs k JOIN leases l ON l.pack_id = k.id"
    " WHERE k.vendor_id = $1 AND k.pack_id = $4 AND" ITEM_LIVE " ORDER BY l.seq LIMIT $3"};
static const store_sql Q_LEASE_LIST_BY_CUSTOMER = {
    "lease_list_by_customer",
    "SELECT " ITEM_COLUMNS " FROM leases l JOIN packs k ON k.id = l.pack_id"
    " WHERE l.vendor_id = $1 AND l.customer_id = $4::uuid"
    " AND ($5::bigint IS NULL OR l.product_id = $5::bigint) AND" ITEM_LIVE
    " ORDER BY l.seq LIMIT $3"};

/* What one checkout statement found. */
struct found {
    int lease, held;       /* a lease came back; the client's own */
    long long packs, free; /* active concurrent packs; those with a free seat */
    long long due;         /* full ones whose next_lapse_at has passed */
    store_checkout refusal; /* a refusal that needs no seat count (borrows), else FULL */
};

/* Checkouts go through a pipelined batcher (store/batcher.h): the looks
 * queued while the last batch committed run in one transaction, each
 * seeing the seats taken before it, and share its commit and the pack
 * row's lock. Q_LEASE_CHECKOUT's parameters start with customer and
 * product, as the batcher orders them. */
static STORE_PIPELINED(checkouts, "checkouts", &Q_LEASE_CHECKOUT, 7);

int store_checkouts_start(void) { return store_batcher_start(&checkouts); }

void store_checkouts_stop(void) { store_batcher_stop(&checkouts); }

/* What a checkout look whose outcome is rc found in res (PQcleared). */
static int checkout_found(int rc, PGresult *res, store_lease *out, struct found *f)
{
    if (rc == LICD_OK && PQntuples(res) != 1)
        rc = LICD_ERR_INTERNAL; /* it answers one row, leased or not */
    if (rc == LICD_OK) {
        f->lease = *store_col_str(res, 0, CHECKOUT_ID) != '\0';
        f->held = store_col_bool(res, 0, CHECKOUT_HELD);
        f->packs = store_col_int(res, 0, CHECKOUT_PACKS);
        f->free = store_col_int(res, 0, CHECKOUT_FREE);
        f->due = store_col_int(res, 0, CHECKOUT_DUE);
        if (f->lease)
            rc = store_fill(&lease_row, res, 0, out);
    }
    PQclear(res);
    return rc;
}

static int checkout_once(const char *const *params, long long unused, void *out, struct found *f)
{
    PGresult *res;
    int rc = store_batcher_exec(&checkouts, NULL, params, &res);
    (void)unused;
    return checkout_found(rc, res, out, f);
}

/* A reclaim: due (run with params) picks and locks the packs. */
struct reclaim {
    const store_sql *due;
    int nparams;
    const char *const *params;
    int npacks;         /* packs locked by the last run */
    long long last_id;  /* the last of them */
    long long released; /* leases released by the last run */
};

/* "{1,2,3}": the ids of column col of res as a bigint[] literal (malloc'd). */
static char *id_array(const PGresult *res, int col)
{
    int n = PQntuples(res);
    size_t size = 3 + (size_t)n * 21, len = 1;
    char *s = malloc(size);
    if (!s)
        return NULL;
    s[0] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, size - len, "%s%lld", i ? "," : "",
                                store_col_int(res, i, col));
    snprintf(s + len, size - len, "}");
    return s;
}

/* Locks the due packs, then releases their lapsed leases in a statement of
 * its own: its snapshot sees every lease a checkout committed before the
 * lock, and none can commit one now, so next_lapse_at misses none. */
static int reclaim_tx(void *p)
{
    struct reclaim *r = p;
    PGresult *res = NULL;
    char *ids = NULL;
    const char *params[1];
    int rc = store_exec(r->due, r->nparams, r->params, 0, &res);

    r->npacks = 0;
    r->released = 0;
    if (rc != LICD_OK || PQntuples(res) == 0)
        goto out;
    r->npacks = PQntuples(res);
    r->last_id = store_col_int(res, r->npacks - 1, DUE_ID);
    if (!(ids = id_array(res, DUE_ID))) {
        rc = LICD_ERR_NOMEM;
        goto out;
    }
    PQclear(res);
    params[0] = ids;
    if ((rc = store_exec(&Q_LEASE_RECLAIM, 1, params, 0, &res)) != LICD_OK)
        goto out;
    for (int i = 0; i < PQntuples(res); i++)
        r->released += store_col_int(res, i, RECLAIM_RELEASED);
out:
    free(ids);
    PQclear(res);
    return rc;
}

/* One look: runs the statement with params, fills f and, when a lease came
 * back, out. */
typedef int (*checkout_look)(const char *const *params, long long borrow_s, void *out,
                             struct found *f);

static int borrow_once(const char *const *params, long long borrow_s, void *arg, struct found *f)
{
    store_borrow *out = arg;
    PGresult *res = NULL;
    int rc = store_exec_row(&Q_LEASE_BORROW, 7, params, 0, &res);
    if (rc == LICD_OK) {
        f->lease = *store_col_str(res, 0, BORROW_ID) != '\0';
        f->held = store_col_bool(res, 0, BORROW_HELD);
        f->packs = store_col_int(res, 0, BORROW_PACKS);
        f->free = store_col_int(res, 0, BORROW_FREE);
        f->due = store_col_int(res, 0, BORROW_DUE);
        out->max_borrow_s = store_col_int(res, 0, BORROW_MAX);
        if (out->max_borrow_s == 0)
            f->refusal = STORE_CHECKOUT_NO_BORROW;
        else if (out->max_borrow_s < borrow_s)
            f->refusal = STORE_CHECKOUT_TOO_LONG;
        else if (store_col_int(res, 0, BORROW_HOLDING) > 0)
            f->refusal = STORE_CHECKOUT_NO_BORROW; /* its live lease is on a pack that does not */
        if (f->lease)
            rc = store_fill(&borrow_row, res, 0, out);
    }
    PQclear(res);
    return rc;
}

/* A checkout's or a borrow's parameters; look i's last two. */
static void take_init(store_checkout_pending *t, const char *vendor_id, const char *customer_id,
                      long long product_id, const char *client_id, long long seconds_s)
{
    memset(t, 0, sizeof *t);
    snprintf(t->product, sizeof t->product, "%lld", product_id);
    snprintf(t->seconds, sizeof t->seconds, "%lld", seconds_s);
    t->seconds_s = seconds_s;
    t->params[0] = customer_id;
    t->params[1] = t->product;
    t->params[2] = vendor_id;
    t->params[3] = client_id;
    t->params[4] = t->seconds;
}

static void take_look(store_checkout_pending *t, int i)
{
    t->raced = 0;
    t->params[5] = t->reclaimed ? "true" : "false";
    t->params[6] = i == CHECKOUT_ATTEMPTS - 1 ? "true" : "false";
}

/* What a look found (its outcome rc, f) means: *done, with its answer (and
 * *outcome), or another look. */
static int after_look(store_checkout_pending *t, int rc, const struct found *f,
                      store_checkout *outcome, int *done)
{
    *done = 1;
    if (rc == LICD_ERR_CONFLICT) {
        /* The client has a live lease of the product after all: one a
         * checkout of its own committed meanwhile (the next look finds
         * it), or a lapsed one nobody has released yet. */
        const char *own[3] = {t->params[0], t->params[1], t->params[3]};
        rc = store_run(&Q_LEASE_RELEASE_LAPSED, 3, own);
    } else if (rc == LICD_OK && f->lease) {
        *outcome = f->held ? STORE_CHECKOUT_HELD : STORE_CHECKOUT_TAKEN;
        return LICD_OK;
    } else if (rc == LICD_OK && f->packs == 0) {
        *outcome = STORE_CHECKOUT_NO_PACK;
        return LICD_OK;
    } else if (rc == LICD_OK && f->refusal != STORE_CHECKOUT_FULL) {
        *outcome = f->refusal;
        return LICD_OK;
    } else if (rc == LICD_OK && f->free == 0) {
        /* Full: lapsed leases may hold seats, at most once a look. */
        struct reclaim r = {&Q_LEASE_DUE_OF_PRODUCT, 2, t->params, 0, 0, 0};
        if (f->due == 0 || t->reclaimed)
            return LICD_OK;
        t->reclaimed = 1;
        rc = store_tx(reclaim_tx, &r);
    } else {
        /* A seat it saw free went to a racing checkout: look again. */
        t->raced = rc == LICD_OK;
    }
    *done = rc != LICD_OK && rc != LICD_ERR_RETRY;
    return rc;
}

/* Looks from look `from` on; when the packs are full reclaims their lapsed
 * leases at most once, then looks again; a seat that went to a racing
 * checkout means another look. */
static int looks(store_checkout_pending *t, int from, checkout_look look, void *out,
                 store_checkout *outcome)
{
    for (int i = from; i < CHECKOUT_ATTEMPTS; i++) {
        struct found f = {.refusal = STORE_CHECKOUT_FULL};
        int done, rc;
        take_look(t, i);
        rc = look(t->params, t->seconds_s, out, &f);
        rc = after_look(t, rc, &f, outcome, &done);
        if (done)
            return rc;
    }
    /* Seats kept going to racing checkouts: the pack was full at the last
     * look. Conflicts or deadlocks all along: the client may try again. */
    return t->raced ? LICD_OK : LICD_ERR_UNAVAILABLE;
}

void store_checkout_queue(const char *vendor_id, const char *customer_id, long long product_id,
                          const char *client_id, long ttl, store_checkout_pending *p,
                          void (*done)(void *arg), void *arg)
{
    take_init(p, vendor_id, customer_id, product_id, client_id, ttl);
    take_look(p, 0);
    store_batcher_queue(&checkouts, NULL, p->params, &p->res, &p->rc, done, arg);
}

int store_checkout_finish(store_checkout_pending *p, store_lease *out, store_checkout *outcome)
{
    struct found f = {.refusal = STORE_CHECKOUT_FULL};
    int done, rc = store_batcher_result(&checkouts, NULL, p->params, p->rc, &p->res);
    rc = checkout_found(rc, p->res, out, &f);
    p->res = NULL;
    *outcome = STORE_CHECKOUT_FULL;
    rc = after_look(p, rc, &f, outcome, &done);
    return done ? rc : looks(p, 1, checkout_once, out, outcome);
}

void store_checkout_clear(store_checkout_pending *p)
{
    PQclear(p->res);
    p->res = NULL;
}

int store_lease_borrow(const char *vendor_id, const char *customer_id, long long product_id,
                       const char *client_id, long borrow_s, store_borrow *out,
                       store_checkout *outcome)
{
    store_checkout_pending t;
    take_init(&t, vendor_id, customer_id, product_id, client_id, borrow_s);
    *outcome = STORE_CHECKOUT_FULL;
    return looks(&t, 0, borrow_once, out, outcome);
}

int store_lease_release(const char *customer_id, const char *lease_id)
{
    const char *params[2] = {customer_id, lease_id};
    PGresult *res = NULL;
    int rc = LICD_ERR_RETRY;
    if (!json_is_uuid(lease_id))
        return LICD_ERR_NOT_FOUND;
    /* A deadlock with the client's own racing checkout is rare; once more. */
    for (int i = 0; i < STORE_TX_ATTEMPTS && rc == LICD_ERR_RETRY; i++)
        rc = store_exec_row(&Q_LEASE_RELEASE, 2, params, 0, &res);
    PQclear(res);
    return rc == LICD_ERR_RETRY ? LICD_ERR_UNAVAILABLE : rc;
}

int store_lease_reclaim_pack(const char *vendor_id, const char *pack_id)
{
    const char *params[2] = {vendor_id, pack_id};
    struct reclaim r = {&Q_LEASE_DUE_PACK, 2, params, 0, 0, 0};
    PGresult *res = NULL;
    int rc = store_exec(&Q_LEASE_IS_DUE, 2, params, 1, &res);
    if (rc == LICD_OK && PQntuples(res) > 0)
        rc = store_tx(reclaim_tx, &r);
    PQclear(res);
    return rc;
}

int store_lease_reclaim_due(long long *released)
{
    char after[24], batch[8];
    const char *params[2] = {after, batch};
    struct reclaim r = {&Q_LEASE_DUE_ANY, 2, params, 0, 0, 0};
    int rc;

    *released = 0;
    snprintf(batch, sizeof batch, "%d", RECLAIM_BATCH);
    do {
        snprintf(after, sizeof after, "%lld", r.last_id);
        if ((rc = store_tx(reclaim_tx, &r)) != LICD_OK)
            return rc;
        *released += r.released;
    } while (r.npacks == RECLAIM_BATCH);
    return LICD_OK;
}

int store_lease_list(const char *vendor_id, const store_lease_filter *f, long long after, int limit,
                     store_page *page)
{
    char a[24], l[16], product[24];
    const char *params[5] = {vendor_id, a, l, f->pack_id ? f->pack_id : f->customer_id,
                             f->product_id ? product : NULL};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    snprintf(product, sizeof product, "%lld", f->product_id);
    if (f->pack_id)
        return store_fetch_page(&Q_LEASE_LIST_BY_PACK, 4, params, &item_row, limit, ITEM_SEQ, page);
    return store_fetch_page(&Q_LEASE_LIST_BY_CUSTOMER, 5, params, &item_row, limit, ITEM_SEQ, page);
}
