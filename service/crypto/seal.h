/* Sealing data at rest: AES-256-GCM under a key derived (HKDF-SHA256) from
 * a signing key's private scalar and a purpose, so that what the database
 * keeps (e.g. an answer holding a new customer key) reads only with the
 * server's key material. */
#ifndef LICD_CRYPTO_SEAL_H
#define LICD_CRYPTO_SEAL_H

#include <stddef.h>

#include <openssl/types.h>

#define CRYPTO_SEAL_KEY_LEN 32
#define CRYPTO_SEAL_OVERHEAD 28 /* 12-byte nonce before, 16-byte tag after */

/* The key for purpose (e.g. "licd idempotency answers v1") derived from
 * pkey's private key. 0 or LICD_ERR_INTERNAL. */
int crypto_seal_key(EVP_PKEY *pkey, const char *purpose, unsigned char key[CRYPTO_SEAL_KEY_LEN]);

/* Seals len bytes at data, bound to aad (authenticated, not stored): a
 * malloc'd nonce || ciphertext || tag of len + CRYPTO_SEAL_OVERHEAD bytes.
 * 0, LICD_ERR_NOMEM or LICD_ERR_INTERNAL. */
int crypto_seal(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad, size_t aadlen,
                const void *data, size_t len, unsigned char **out, size_t *outlen);
/* Opens what crypto_seal made with the same key and aad: the malloc'd
 * plaintext (NUL-terminated, not counted in *outlen). LICD_ERR_TOKEN_INVALID
 * when it was altered or sealed otherwise. */
int crypto_open(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad, size_t aadlen,
                const unsigned char *sealed, size_t len, char **out, size_t *outlen);

#endif
