/* Platform challenges: single-use nonces a client answers with
 * hex(SHA-256(nonce ‖ client image ‖ nonce)) to prove which build it runs. */
#ifndef LICD_STORE_CHALLENGES_H
#define LICD_STORE_CHALLENGES_H

#include <time.h>

#define STORE_CHALLENGE_TTL 300
#define STORE_NONCE_HEX_LEN 33  /* 16 bytes as hex + NUL */

/* A new nonce for the customer (software_id may be NULL), valid
 * STORE_CHALLENGE_TTL seconds. */
int store_challenge_create(const char *customer_id, const char *software_id,
                           char nonce_hex[STORE_NONCE_HEX_LEN], time_t *expires_at);

/* Uses up the customer's nonce (whatever the outcome, so a nonce is never
 * tried twice) and checks response against the vendor's image registered
 * under software_id (or the one named when the nonce was made). On success
 * *ok = 1 and platform holds the image's platform. An unknown, expired or
 * used nonce, an unknown image or a wrong response: *ok = 0. */
int store_challenge_check(const char *vendor_id, const char *customer_id, const char *nonce_hex,
                          const char *response_hex, const char *software_id, int *ok,
                          char platform[16]);

#endif
