/* Vendors' webhooks (migration 0016): their registration, and the claims
 * through which delivery threads of any number of licd nodes share the
 * deliveries, each webhook's events going out one at a time in order. */
#ifndef LICD_STORE_WEBHOOKS_H
#define LICD_STORE_WEBHOOKS_H

#include <stddef.h>

#include "store/events.h"
#include "store/page.h"
#include "store/vendors.h"

#define STORE_WEBHOOK_URL_MAX 2048
#define STORE_WEBHOOK_SECRET_LEN 72 /* "whsec_" and 64 hex digits, with the NUL (and room) */

typedef struct {
    char id[STORE_UUID_LEN];
    char url[STORE_WEBHOOK_URL_MAX + 1];
    char *events;         /* JSON array of the event types (malloc'd, owned) */
    char state[8];        /* active or dead */
    int last_status;      /* HTTP status of the last attempt; 0: no answer; -1: none yet */
    char last_error[256]; /* why the last attempt failed ("" when it did not) */
    char last_attempt_at[40]; /* "" when never attempted */
    long long failures;   /* attempts failed since the last success */
    char created_at[40];
} store_webhook;

/* Registers a webhook of who->vendor_id for the event types (n of them)
 * with a fresh secret (written to secret, STORE_WEBHOOK_SECRET_LEN bytes),
 * audited in the same transaction. It receives the events committed from
 * now on. out->events is malloc'd (free it). */
int store_webhook_create(const store_actor *who, const char *url, const char *const *types,
                         size_t n, store_webhook *out, char *secret);
/* Up to limit of the vendor's webhooks after list position after, oldest
 * first, as a page of store_webhook. */
int store_webhook_list(const char *vendor_id, long long after, int limit, store_page *page);
/* Deletes who->vendor_id's webhook, audited; LICD_ERR_NOT_FOUND for
 * unknown, malformed and other vendors' ids alike. */
int store_webhook_delete(const store_actor *who, const char *webhook_id);

/* A webhook claimed for delivery, with the events it is due next (up to
 * the batch asked for, in order). Clear with store_delivery_clear. */
typedef struct {
    char webhook_id[STORE_UUID_LEN];
    char claim[STORE_UUID_LEN];
    char url[STORE_WEBHOOK_URL_MAX + 1];
    char secret[STORE_WEBHOOK_SECRET_LEN];
    long long failures;
    store_page events; /* of store_event */
} store_delivery;

/* Claims for claim_s seconds one active webhook whose next attempt is due
 * and that has events to deliver, skipping those another thread or node
 * holds (FOR UPDATE SKIP LOCKED), and reads up to batch of its next events.
 * LICD_ERR_NOT_FOUND when none is due. */
int store_delivery_claim(int claim_s, int batch, store_delivery *out);
void store_delivery_clear(store_delivery *d);

/* Event event_id was delivered (HTTP status): the webhook's cursor moves
 * past it, its failures end, and the claim is extended by claim_s.
 * LICD_ERR_NOT_FOUND when the claim was lost (another thread holds it now). */
int store_delivery_done(const store_delivery *d, long long event_id, int status, int claim_s);
/* An attempt failed (status 0 when no answer came; error says why): the
 * next one waits min(2^failures, backoff_max) seconds; after dead_after
 * seconds of failures the webhook is dead. The claim ends. */
int store_delivery_failed(const store_delivery *d, int status, const char *error,
                          long backoff_max, long dead_after);
/* Ends the claim (nothing left in the batch). */
int store_delivery_release(const store_delivery *d);

#endif
