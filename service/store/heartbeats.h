/* Lease heartbeats, durable and group-committed: a thread with its own
 * connection writes the heartbeats that request threads handed it while
 * its previous write was committing, with one statement and one commit,
 * and only then answers each of them. */
#ifndef LICD_STORE_HEARTBEATS_H
#define LICD_STORE_HEARTBEATS_H

#include "store/leases.h"

/* Starts the batching thread (licd serve). Without it, every heartbeat is
 * written on its caller's own connection, as a batch of one. */
int store_heartbeats_start(void);
/* Writes what is queued, then stops the thread; safe without a start. */
void store_heartbeats_stop(void);

/* Extends the customer's live lease of that product and client to ttl
 * seconds from now, committed (synchronous_commit on) before it returns:
 * an expiry it answers survives a crash of the database. *found = 0 when
 * the lease is unknown, released or lapsed; a lease lapses at its expiry
 * and never earlier. */
int store_lease_heartbeat(const char *customer_id, const char *lease_id, long long product_id,
                          const char *client_id, long ttl, store_lease *out, int *found);

#endif
