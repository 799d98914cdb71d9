/* Lease heartbeats, durable and group-committed (store/batcher.h): the
 * heartbeats that clients sent while the previous batch was committing are
 * written with one statement and one commit, and only then answered. */
#ifndef LICD_STORE_HEARTBEATS_H
#define LICD_STORE_HEARTBEATS_H

#include "store/leases.h"

/* Starts the batching thread (licd serve). Without it, every heartbeat is
 * written on its caller's own connection, as a batch of one. */
int store_heartbeats_start(void);
/* Writes what is queued, then stops the thread; safe without a start. */
void store_heartbeats_stop(void);

/* Extends the customer's live lease of that product and client to ttl
 * seconds from now, committed (synchronous_commit on) before it answers:
 * an expiry it answers survives a crash of the database. It does not wait:
 * once the heartbeat is committed (or has failed) it fills *res and calls
 * done(arg), on the batching thread, or on the caller's before it returns
 * (no thread; an id that names no lease). The strings must live until
 * then. LICD_OK, or LICD_ERR_NOMEM (and done is not called). */
typedef struct {
    store_lease lease;
    int found; /* 0: the lease is unknown, released or lapsed; a lease lapses at its
                  expiry and never earlier */
    int rc;    /* LICD_OK, or why the write failed */
} store_beat_result;
int store_lease_heartbeat(const char *customer_id, const char *lease_id, long long product_id,
                          const char *client_id, long ttl, store_beat_result *res,
                          void (*done)(void *arg), void *arg);

#endif
