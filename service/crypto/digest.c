/* SHA-256, HMAC-SHA256, constant-time comparison, randomness, hex. */
#include "crypto/digest.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/error.h"

/* SHA-256 fetched from its provider once for the process: EVP_sha256()
 * makes every digest fetch it again (2% of licd's CPU on renewals). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

/* The contract returns nothing, and a wrong digest handed back silently could
 * make two different secrets compare equal, so a failure (only possible when
 * OpenSSL cannot allocate its context) aborts instead. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    unsigned int n = 0;

    pthread_once(&sha256_once, fetch_sha256);
    if (!sha256_md || EVP_Digest(data, len, out, &n, sha256_md, NULL) != 1 ||
        n != CRYPTO_SHA256_LEN) {
        fputs("licd: SHA-256 failed (out of memory?)\n", stderr);
        abort();
    }
}

int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       uint8_t out[CRYPTO_SHA256_LEN])
{
    size_t n = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, len, out,
                  CRYPTO_SHA256_LEN, &n) == NULL || n != CRYPTO_SHA256_LEN)
        return LICD_ERR_INTERNAL;
    return LICD_OK;
}

int crypto_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* OpenSSL's CSPRNG (seeded from the OS, a DRBG per thread): no system
 * call for each request id or nonce. */
int crypto_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, n) != 1)
            return LICD_ERR_INTERNAL;
        p += n;
        len -= (size_t)n;
    }
    return LICD_OK;
}

/* Ids are 16 random bytes from a reserve each thread refills with one
 * RAND_bytes call for 32 ids: one call per request was 5% of licd's CPU on
 * heartbeats. The reserve stays in memory until it is used, so it serves
 * ids only, never secrets. */
int crypto_random_id(char out[CRYPTO_ID_HEX])
{
    static _Thread_local uint8_t reserve[32 * CRYPTO_ID_BYTES];
    static _Thread_local size_t left;
    if (left < CRYPTO_ID_BYTES) {
        if (crypto_random(reserve, sizeof reserve) != LICD_OK) {
            out[0] = '\0';
            return LICD_ERR_INTERNAL;
        }
        left = sizeof reserve;
    }
    crypto_hex(reserve + sizeof reserve - left, CRYPTO_ID_BYTES, out);
    left -= CRYPTO_ID_BYTES;
    return LICD_OK;
}

void crypto_hex(const void *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void crypto_sha256_hex(const void *data, size_t len, char out[2 * CRYPTO_SHA256_LEN + 1])
{
    uint8_t digest[CRYPTO_SHA256_LEN];
    crypto_sha256(data, len, digest);
    crypto_hex(digest, sizeof digest, out);
}

/* Works through a small stack buffer so any nbytes needs no allocation; the
 * random bytes are wiped once they have been turned into hex. */
int crypto_random_hex(size_t nbytes, char *out)
{
    uint8_t chunk[64];
    int result = LICD_OK;
    size_t done = 0;

    out[0] = '\0';
    while (done < nbytes) {
        size_t n = nbytes - done < sizeof chunk ? nbytes - done : sizeof chunk;
        result = crypto_random(chunk, n);
        if (result != LICD_OK)
            goto out;
        crypto_hex(chunk, n, out + 2 * done);
        done += n;
    }

out:
    OPENSSL_cleanse(chunk, sizeof chunk);
    if (result != LICD_OK)
        out[0] = '\0';
    return result;
}

