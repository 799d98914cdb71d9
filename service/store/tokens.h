/* Session tokens: what a sign-in or a renewal decides on, and the tokens
 * of machines that hold their slot, in batches (store/batcher.h): the
 * renewals that came in while the previous batch ran are read with one
 * statement, and recorded with one statement and one commit. */
#ifndef LICD_STORE_TOKENS_H
#define LICD_STORE_TOKENS_H

#include <time.h>

#include "store/users.h"

/* Starts the batching threads (licd serve); without them each renewal is
 * read and recorded on its caller's thread. */
int store_tokens_start(void);
/* Records what is queued, then stops the thread; safe without a start. */
void store_tokens_stop(void);

typedef struct {
    char jti[37];
    time_t iat, exp;
    /* LICD_OK; LICD_ERR_NOT_FOUND when the machine holds no slot (or, for a
     * renewal, its slot was freed after the token presented), for the
     * caller to try store_token_record under the user's lock; or why the
     * write failed */
    int rc;
} store_token_result;

/* store_token_record with max_machines 0 (only a machine that holds its
 * slot gets the token), without waiting: once committed (or failed) it
 * fills *res and calls done(arg), on the batching thread or on the
 * caller's before it returns. r's strings must live until then. LICD_OK,
 * or LICD_ERR_NOMEM (and done is not called). */
int store_token_record_held(const store_token_request *r, store_token_result *res,
                            void (*done)(void *arg), void *arg);

/* store_token_facts_get for a renewal (no failed logins counted), read
 * with the others that came in while the previous read ran, without
 * waiting: fills *res, then calls done(arg) as store_token_record_held
 * does. The strings must live until then. LICD_OK, or an error (and done
 * is not called). */
typedef struct {
    store_token_facts facts;
    store_page entitlements; /* of store_entitlement, one per code; the caller frees it */
    int rc;
} store_facts_result;
int store_token_facts_batched(const char *customer_id, const char *vendor_id,
                              const char *username, const char *machine_id,
                              const char *const *codes, int n, store_facts_result *res,
                              void (*done)(void *arg), void *arg);

#endif
