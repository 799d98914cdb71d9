/* User passwords: scrypt (N = 2^15, r = 8, p = 1) with a random salt,
 * encoded as "scrypt$N$r$p$salt$hash" (base64url). */
#ifndef LICD_CRYPTO_PASSWORD_H
#define LICD_CRYPTO_PASSWORD_H

#include <stddef.h>

#define CRYPTO_PASSWORD_ENCODED_MAX 160

/* Hashes password into out (CRYPTO_PASSWORD_ENCODED_MAX bytes). 0 or LICD_ERR_INTERNAL. */
int crypto_password_hash(const char *password, char *out, size_t outlen);
/* 1 if password matches the encoded hash, else 0 (also for a malformed one).
 * Takes as long for a NULL encoded (an unknown user) as for a real hash. */
int crypto_password_verify(const char *password, const char *encoded);

#endif
