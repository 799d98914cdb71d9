/* Signing keys: generating a P-256 key, loading the active key and retired
 * keys once at start-up, their RFC 7638 thumbprints (kid) and the JWKS. */
#ifndef LICD_CRYPTO_KEYS_H
#define LICD_CRYPTO_KEYS_H

#include <stddef.h>

#include <openssl/types.h>

#include "util/cache.h"

typedef struct crypto_keyring crypto_keyring;

/* Writes a new P-256 private key as PKCS#8 PEM to path, created with mode
 * 0600; refuses (LICD_ERR_IO) to overwrite an existing file. */
int crypto_keygen(const char *path);

/* Loads the signing key (PEM file) and any retired keys (comma-separated PEM
 * paths, may be NULL or empty). Retired keys verify but never sign. Every key
 * must be an EC P-256 key. On error returns LICD_ERR_CONFIG and writes a
 * human message to err (errlen bytes). *out is freed with crypto_keyring_free. */
int crypto_keyring_load(const char *signing_path, const char *retired_paths,
                        crypto_keyring **out, char *err, size_t errlen);
void crypto_keyring_free(crypto_keyring *ring);

/* A ring that only verifies: the P-256 public keys of a JWKS document
 * ({"keys":[{"kty":"EC","crv":"P-256","x","y",...}]}), each known by its
 * RFC 7638 thumbprint (the kid licd gives its keys). At least one key;
 * anything else is LICD_ERR_CONFIG with a message in err. Such a ring must
 * never be asked to sign. */
int crypto_keyring_from_jwks(const char *jwks_json, crypto_keyring **out, char *err, size_t errlen);

/* kid (RFC 7638 SHA-256 thumbprint, base64url) of the signing key; owned by the ring. */
const char *crypto_keyring_kid(const crypto_keyring *ring);
/* {"keys":[...]} with every key (signing first), each {"kty","crv","x","y","kid","use":"sig","alg":"ES256"};
 * owned by the ring. */
const char *crypto_keyring_jwks(const crypto_keyring *ring);

/* For crypto/jwt.c: the signing key, and the key (signing or retired) whose kid
 * is the kid_len bytes at kid, or NULL if none. Owned by the ring; read-only,
 * safe to use from several threads at once. */
EVP_PKEY *crypto_keyring_signing_key(const crypto_keyring *ring);
EVP_PKEY *crypto_keyring_find_key(const crypto_keyring *ring, const char *kid, size_t kid_len);
/* For crypto/jwt.c: the SHA-256 (hex) of tokens known to bear a valid
 * signature of one of the ring's keys (NULL for a ring from a JWKS). */
cache *crypto_keyring_verified(const crypto_keyring *ring);

#endif
