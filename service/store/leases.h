/* Floating seats: leases on concurrent packs, heartbeats and release. */
#ifndef LICD_STORE_LEASES_H
#define LICD_STORE_LEASES_H

#include <time.h>

typedef struct {
    char id[37];
    char pack_id[65];   /* the vendor's pack id */
    time_t expires_at;
} store_lease;

/* Takes a seat of the customer's active concurrent packs of the product
 * for ttl seconds; *taken = 0 when every seat is held by a live lease. The
 * candidate packs are locked before counting, so concurrent checkouts on any
 * node never exceed a pack's quantity. A client that holds a live lease of
 * the product gets that lease back (*existing = 1), never a second seat. */
int store_lease_checkout(const char *vendor_id, const char *customer_id, long long product_id,
                         const char *client_id, long ttl, store_lease *out, int *taken,
                         int *existing);

/* Extends the customer's live lease of that product and client by ttl
 * seconds (committed with synchronous_commit off: a lost heartbeat costs
 * nothing). *found = 0 when it is unknown, released or lapsed. */
int store_lease_heartbeat(const char *customer_id, const char *lease_id, long long product_id,
                          const char *client_id, long ttl, store_lease *out, int *found);

/* Releases the customer's lease; LICD_ERR_NOT_FOUND if it has none by that id. */
int store_lease_release(const char *customer_id, const char *lease_id);

#endif
