/* The webhook delivery threads: apart from the HTTP workers, each with its
 * own database connection and libcurl handle, they publish events, claim
 * due webhooks (shared with other licd nodes through the database) and
 * POST each webhook's events in order, signed, at least once. */
#ifndef LICD_WEBHOOKS_DELIVERY_H
#define LICD_WEBHOOKS_DELIVERY_H

#include <stddef.h>

typedef struct {
    int threads;       /* LICD_WEBHOOK_THREADS (0: this node delivers nothing) */
    long backoff_max;  /* LICD_WEBHOOK_BACKOFF_MAX s: the longest wait between attempts */
    long dead_after;   /* LICD_WEBHOOK_DEAD_AFTER s of failures before a webhook is dead */
    long timeout;      /* LICD_WEBHOOK_TIMEOUT s for a whole attempt (connect: at most 5) */
    int allow_private; /* LICD_WEBHOOK_ALLOW_PRIVATE: http and private addresses allowed */
} webhook_delivery_config;

typedef struct webhook_delivery webhook_delivery;

/* Starts the threads (none when cfg->threads is 0: *out is NULL then).
 * curl_global_init must have run. */
int webhook_delivery_start(const webhook_delivery_config *cfg, webhook_delivery **out);
/* Stops them after the attempts in flight and waits for them; NULL is fine. */
void webhook_delivery_stop(webhook_delivery *d);

/* The Licd-Signature header's value for body signed at t with secret:
 * "t=<t>,v1=<hex HMAC-SHA256(secret, t "." body)>" into out (len bytes,
 * at least 100). 0 or LICD_ERR_INTERNAL. */
int webhook_signature(const char *secret, long long t, const char *body, size_t body_len, char *out,
                      size_t len);

/* The body POSTed for an event (malloc'd, caller frees; NULL when out of
 * memory or data is not JSON): {"event_id","type","created_at","data"}. */
char *webhook_body(long long event_id, const char *type, const char *created_at, const char *data);

#endif
