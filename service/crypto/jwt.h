/* ES256 JSON Web Tokens signed and verified with OpenSSL EVP on keys loaded
 * once. The header is parsed here: alg must be ES256 and kid a known key. */
#ifndef LICD_CRYPTO_JWT_H
#define LICD_CRYPTO_JWT_H

#include <cjson/cJSON.h>
#include <time.h>

#include "crypto/keys.h"

/* Longest token crypto_jwt_verify looks at (and crypto_jwt_sign produces). */
#define CRYPTO_JWT_MAX_LEN 16384

/* Signs claims (a JSON object, not consumed) with the ring's signing key;
 * header {"alg":"ES256","typ":"JWT","kid":...}. *out is malloc'd, caller frees.
 * Returns 0, LICD_ERR_NOMEM or LICD_ERR_INTERNAL. Thread-safe. */
int crypto_jwt_sign(const crypto_keyring *ring, const cJSON *claims, char **out);

/* 1 when token's header is the one crypto_jwt_sign writes with the ring's
 * signing key now (so a stored token needs no new signature after a key
 * rotation), else 0. Looks at the header only. */
int crypto_jwt_by_signing_key(const crypto_keyring *ring, const char *token);

/* Verifies token against the ring (signing and retired keys). Refuses any alg
 * but ES256 (none, HS256, ...), an unknown or missing kid, a bad signature,
 * malformed base64url/JSON, a payload that is not an object: LICD_ERR_TOKEN_INVALID
 * and *claims = NULL. A good signature whose numeric "exp" is <= now gives
 * LICD_ERR_TOKEN_EXPIRED with *claims set (so renewal can inspect it). Else 0
 * with *claims set. The caller frees *claims with cJSON_Delete. Thread-safe. */
int crypto_jwt_verify(const crypto_keyring *ring, const char *token, time_t now, cJSON **claims);

/* Remembers token (one crypto_jwt_sign just made) as verified, so that
 * crypto_jwt_verify skips its signature check (a SHA-256 of the whole
 * token instead of an ECDSA verification, a quarter of the cost) when the
 * holder presents it again, to renew it, say. Tokens that verify are
 * remembered too. At most 65,536 a ring, for a day; a no-op for a ring
 * from a JWKS. */
void crypto_jwt_remember(const crypto_keyring *ring, const char *token);

#endif
