/* Hashes, randomness and encodings the service needs: SHA-256, HMAC, constant-time
 * comparison, CSPRNG bytes, hex. */
#ifndef LICD_CRYPTO_DIGEST_H
#define LICD_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* SHA-256 of data into out (32 bytes). */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
/* HMAC-SHA256 of data under key into out (32 bytes). 0 or LICD_ERR_INTERNAL. */
int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       uint8_t out[CRYPTO_SHA256_LEN]);
/* Equal in time independent of where the buffers differ. 1 if equal, else 0. */
int crypto_equal(const void *a, const void *b, size_t len);
/* Fills buf from OpenSSL's CSPRNG (RAND_bytes, seeded by the OS); 0 or
 * LICD_ERR_INTERNAL. */
int crypto_random(void *buf, size_t len);
/* SHA-256 of data as lower-case hex into out (NUL-terminated). */
void crypto_sha256_hex(const void *data, size_t len, char out[2 * CRYPTO_SHA256_LEN + 1]);
#define CRYPTO_ID_BYTES 16
#define CRYPTO_ID_HEX (2 * CRYPTO_ID_BYTES + 1)
/* A unique id (a request's): 16 random bytes as hex into out, drawn from a
 * per-thread reserve of CSPRNG bytes, so not for secrets. 0 or
 * LICD_ERR_INTERNAL. */
int crypto_random_id(char out[CRYPTO_ID_HEX]);
/* Lower-case hex of data into out, which must hold 2*len+1 bytes (NUL-terminated). */
void crypto_hex(const void *data, size_t len, char *out);
/* Random token of nbytes random bytes, hex, into out (2*nbytes+1). 0 or error. */
int crypto_random_hex(size_t nbytes, char *out);

#endif
