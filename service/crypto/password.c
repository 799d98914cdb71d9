/* scrypt password hashing through OpenSSL's EVP_PBE_scrypt. */
#include "crypto/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "util/base64.h"
#include "util/error.h"

#define SCRYPT_N 32768ULL
#define SCRYPT_R 8ULL
#define SCRYPT_P 1ULL
#define SCRYPT_MAXMEM (64ULL << 20)
#define SALT_LEN 16
#define HASH_LEN 32

static int derive(const char *password, const uint8_t *salt, size_t salt_len, uint64_t n,
                  uint64_t r, uint64_t p, uint8_t out[HASH_LEN])
{
    return EVP_PBE_scrypt(password, strlen(password), salt, salt_len, n, r, p, SCRYPT_MAXMEM,
                          out, HASH_LEN) == 1 ? LICD_OK : LICD_ERR_INTERNAL;
}

int crypto_password_hash(const char *password, char *out, size_t outlen)
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    char *s = NULL, *h = NULL;
    int rc = LICD_ERR_INTERNAL;
    if (crypto_random(salt, sizeof salt) != LICD_OK ||
        derive(password, salt, sizeof salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, hash) != LICD_OK)
        goto out;
    s = b64url_encode(salt, sizeof salt);
    h = b64url_encode(hash, sizeof hash);
    if (s && h &&
        (size_t)snprintf(out, outlen, "scrypt$%llu$%llu$%llu$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P, s,
                         h) < outlen)
        rc = LICD_OK;
out:
    free(s);
    free(h);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

int crypto_password_verify(const char *password, const char *encoded)
{
    static const uint8_t dummy_salt[SALT_LEN] = {0};
    unsigned long long n, r, p;
    char salt_text[64], hash_text[64];
    uint8_t got[HASH_LEN], *salt = NULL, *want = NULL;
    size_t salt_len = 0, want_len = 0;
    int ok = 0;

    if (!encoded) {
        /* Unknown user: spend the same work so timing does not tell. */
        derive(password, dummy_salt, sizeof dummy_salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, got);
        return 0;
    }
    if (sscanf(encoded, "scrypt$%llu$%llu$%llu$%63[^$]$%63s", &n, &r, &p, salt_text, hash_text) != 5 ||
        n < 2 || n > (1ULL << 20) || r < 1 || r > 16 || p < 1 || p > 4)
        return 0;
    salt = b64url_decode(salt_text, strlen(salt_text), &salt_len);
    want = b64url_decode(hash_text, strlen(hash_text), &want_len);
    if (salt && want && want_len == HASH_LEN &&
        derive(password, salt, salt_len, n, r, p, got) == LICD_OK)
        ok = crypto_equal(got, want, HASH_LEN);
    free(salt);
    free(want);
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}
