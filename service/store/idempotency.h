/* Idempotency-Key records: the first answer to a POST of one caller, kept
 * for a while so that its retries are answered alike (api/idempotency.c). */
#ifndef LICD_STORE_IDEMPOTENCY_H
#define LICD_STORE_IDEMPOTENCY_H

#include <stddef.h>

#include "crypto/digest.h"
#include "util/error.h"

typedef enum {
    STORE_IDEM_CLAIMED,   /* the key is this request's: run it, then keep or release */
    STORE_IDEM_DONE,      /* answered before: status, content_type, kid, answer */
    STORE_IDEM_IN_FLIGHT, /* another request with this key and body is running */
    STORE_IDEM_MISMATCH,  /* the key was used with another request */
} store_idem_state;

typedef struct {
    store_idem_state state;
    char claim[33];          /* STORE_IDEM_CLAIMED: the claim to keep or release */
    char request_id[72];
    int status;
    char content_type[128];  /* "" for none */
    char kid[64];
    unsigned char *answer;   /* sealed; malloc'd */
    size_t answer_len;
} store_idempotency;

/* Claims (scope, key) for a request whose hash is request_hash, or reads
 * what holds it. A record past its ttl_s is replaced; one left in flight
 * past lock_s (its node died) is taken over by the same request. */
int store_idempotency_claim(const char *scope, const char *key,
                            const unsigned char request_hash[CRYPTO_SHA256_LEN], long ttl_s,
                            long lock_s, store_idempotency *out);
/* Keeps the answer of a claim (a no-op when the claim is no longer held). */
int store_idempotency_keep(const char *scope, const char *key, const char *claim,
                           const char *request_id, int status, const char *content_type,
                           const char *kid, const unsigned char *answer, size_t len);
/* Gives a claim up without an answer: the next request with the key runs. */
int store_idempotency_release(const char *scope, const char *key, const char *claim);
void store_idempotency_clear(store_idempotency *r);

#endif
