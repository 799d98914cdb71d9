/* Floating seats: leases on concurrent packs, whose `assigned` counts the
 * pack's live leases (released_at unset), checkout, release, lapses and the
 * vendor's list. Heartbeats are store/heartbeats.h. */
#ifndef LICD_STORE_LEASES_H
#define LICD_STORE_LEASES_H

#include <time.h>

#include "store/page.h"

typedef struct {
    char id[37];
    char pack_id[65];   /* the vendor's pack id */
    time_t expires_at;  /* whole seconds, never after the lease's real expiry */
} store_lease;

typedef enum {
    STORE_CHECKOUT_TAKEN,   /* a new lease on a free seat */
    STORE_CHECKOUT_HELD,    /* the client's live lease of the product, as it is */
    STORE_CHECKOUT_FULL,    /* every seat of the product's active concurrent packs is leased */
    STORE_CHECKOUT_NO_PACK, /* the customer has no active concurrent pack of the product */
    STORE_CHECKOUT_NO_BORROW,  /* borrow: none of those packs allows borrowing, or the
                                  client's live lease is on one that does not allow as long */
    STORE_CHECKOUT_TOO_LONG    /* borrow: longer than any of those packs allows */
} store_checkout;

/* A checkout: takes a seat of the customer's active concurrent packs of
 * the product (the one expiring first) for ttl seconds, or gives back the
 * live lease the client holds of the product: a client never holds two,
 * even when its checkouts race. A seat is taken by a conditional increment
 * of the pack's `assigned` in the statement that inserts the lease, so
 * concurrent checkouts on any node never exceed a pack's quantity. A full
 * pack whose earliest expiry has passed has its lapsed leases released
 * first. In two steps, so that the caller waits for the batch without
 * holding its thread: store_checkout_queue puts the first look in the next
 * batch (done(arg) is called once it is written), and
 * store_checkout_finish reads what it found (running it alone when its
 * batch failed), looks again when it must, and fills out for TAKEN and
 * HELD. The strings given to the queue and p must
 * stay until the finish; store_checkout_clear frees what p holds. */
typedef struct {
    char product[24], seconds[24];
    const char *params[7];
    long long seconds_s;
    int reclaimed, raced;  /* how far its looks got */
    struct pg_result *res; /* the batch's outcome */
    int rc;
} store_checkout_pending;
void store_checkout_queue(const char *vendor_id, const char *customer_id, long long product_id,
                          const char *client_id, long ttl, store_checkout_pending *p,
                          void (*done)(void *arg), void *arg);
int store_checkout_finish(store_checkout_pending *p, store_lease *out, store_checkout *outcome);
void store_checkout_clear(store_checkout_pending *p);
/* The thread that writes the checkouts queued together with one commit
 * (licd serve); without it each commits alone. Stop writes what is queued. */
int store_checkouts_start(void);
void store_checkouts_stop(void);

/* A borrowed seat as store_lease_borrow took or found it. */
typedef struct {
    store_lease lease;
    char version[65];        /* its pack's version and platform, for the licence */
    char platform[16];
    long long max_borrow_s;  /* the longest borrow any active concurrent pack of the
                                customer's product allows (0: none) */
} store_borrow;

/* A checkout for borrow_s seconds without heartbeats: a seat of a pack that
 * allows borrowing that long (max_borrow_s), taken like a checkout's, its
 * lease marked borrowed and expiring at the borrow's end; a client's live
 * lease on such a pack is borrowed in place (its expiry only moves later).
 * Outcomes: TAKEN, HELD (out filled), FULL, NO_PACK, NO_BORROW, TOO_LONG
 * (out->max_borrow_s says how long the packs allow). */
int store_lease_borrow(const char *vendor_id, const char *customer_id, long long product_id,
                       const char *client_id, long borrow_s, store_borrow *out,
                       store_checkout *outcome);

/* Releases the customer's lease (a lapsed one as of its expiry), freeing
 * its seat; releasing a released lease changes nothing. LICD_ERR_NOT_FOUND
 * if the customer has no lease by that id. */
int store_lease_release(const char *customer_id, const char *lease_id);

/* Releases the lapsed leases of the vendor's pack when its next_lapse_at
 * has passed (nothing to do, one cheap look-up), so that its `assigned`
 * counts live leases only. */
int store_lease_reclaim_pack(const char *vendor_id, const char *pack_id);

/* Releases the lapsed leases of every pack whose next_lapse_at has passed
 * (the maintenance thread; packs another node is reclaiming are skipped);
 * *released counts them. */
int store_lease_reclaim_due(long long *released);

/* One of the vendor's live leases. */
typedef struct {
    char id[37];
    char pack_id[65];
    char client_id[257];
    char checked_out_at[40], expires_at[40];   /* RFC 3339 */
    int borrowed;                              /* a borrowed seat: no heartbeats */
} store_lease_item;

/* What GET /v1/leases filters by: a pack, or else a customer and maybe a
 * product; the caller has made sure they are the vendor's. */
typedef struct {
    const char *pack_id;       /* the vendor's pack id, or NULL */
    const char *customer_id;   /* when pack_id is NULL */
    long long product_id;      /* with customer_id; 0: any product */
} store_lease_filter;

/* The vendor's leases that are neither released nor lapsed, oldest first,
 * after list position after: a page of store_lease_item. */
int store_lease_list(const char *vendor_id, const store_lease_filter *f, long long after,
                     int limit, store_page *page);

#endif
