/* The events outbox (migration 0016): events are rows inserted by the
 * statements that make the changes they report; here they are published
 * (numbered in commit order), listed, recorded for refusals that change
 * nothing else, and purged. */
#ifndef LICD_STORE_EVENTS_H
#define LICD_STORE_EVENTS_H

#include "store/page.h"

/* One published event; data is its JSON object as text (malloc'd, owned). */
typedef struct {
    long long event_id;
    char type[24];
    char created_at[40];
    double created_epoch; /* created_at in seconds since the epoch */
    char *data;
} store_event;

/* Numbers up to batch committed, unpublished events (licd_publish_events).
 * wait: wait for a concurrent publisher instead of leaving the work to it.
 * *published (may be NULL) gets how many. */
int store_events_publish(int wait, int batch, long long *published);

/* Publishes every event committed before the call (waiting for a
 * concurrent publisher). */
int store_events_publish_all(void);

/* Up to limit of the vendor's events with event_id above after, oldest
 * first, as a page of store_event; published first, so that what committed
 * before the call is listed. */
int store_event_list(const char *vendor_id, long long after, int limit, store_page *page);

/* seat.denied: a client of the customer was refused product for want of a
 * seat (reason: the error code it got). */
int store_event_seat_denied(const char *vendor_id, const char *customer_id, const char *product,
                            const char *client_id, const char *reason);

/* Deletes events older than retention seconds that no active webhook still
 * has to deliver; *purged gets how many. */
int store_events_purge(long retention, long long *purged);

#endif
