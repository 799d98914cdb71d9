/* Bearer keys (vendor API keys, later customer and group keys): 256 random
 * bits shown once, a kind marker, a short public prefix to find the row, and
 * a SHA-256 kept in place of the key and compared in constant time. */
#ifndef LICD_CRYPTO_APIKEY_H
#define LICD_CRYPTO_APIKEY_H

#include "crypto/digest.h"

#define APIKEY_SECRET_BYTES 32
#define APIKEY_PLAIN_LEN 68   /* "lv_" + 64 hex + NUL */
#define APIKEY_PREFIX_LEN 16  /* first 15 characters + NUL */

/* The kind is the key's first two letters: lv_ vendor, lc_ customer, lg_ group. */
typedef enum { APIKEY_VENDOR, APIKEY_CUSTOMER, APIKEY_GROUP } apikey_kind;

typedef struct {
    char plain[APIKEY_PLAIN_LEN];
    char prefix[APIKEY_PREFIX_LEN];
    char hash_hex[2 * CRYPTO_SHA256_LEN + 1];
} crypto_apikey;

/* Makes a fresh key of that kind. 0 or LICD_ERR_INTERNAL. */
int crypto_apikey_new(apikey_kind kind, crypto_apikey *out);
/* Which kind a presented key claims to be by its form (marker, length, hex);
 * 0, or -1 when it is not a well-formed key at all. */
int crypto_apikey_kind(const char *presented, apikey_kind *kind);
/* The look-up prefix of a presented well-formed key. 0 or -1. */
int crypto_apikey_prefix(const char *presented, char prefix[APIKEY_PREFIX_LEN]);
/* 1 if hash_hex, a presented key's crypto_sha256_hex, equals the stored
 * hex hash, compared in constant time. */
int crypto_apikey_matches(const char *hash_hex, const char *stored_hash_hex);
/* Overwrites the plain key in memory. */
void crypto_apikey_wipe(crypto_apikey *key);

#endif
