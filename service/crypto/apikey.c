/* Generation, parsing and constant-time checking of bearer keys. */
#include "crypto/apikey.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

static const char *const markers[] = {"lv_", "lc_", "lg_"};

int crypto_apikey_new(apikey_kind kind, crypto_apikey *out)
{
    char hex[2 * APIKEY_SECRET_BYTES + 1];
    if (crypto_random_hex(APIKEY_SECRET_BYTES, hex) != 0)
        return LICD_ERR_INTERNAL;
    snprintf(out->plain, sizeof out->plain, "%s%s", markers[kind], hex);
    memcpy(out->prefix, out->plain, APIKEY_PREFIX_LEN - 1);
    out->prefix[APIKEY_PREFIX_LEN - 1] = '\0';
    crypto_sha256_hex(out->plain, strlen(out->plain), out->hash_hex);
    OPENSSL_cleanse(hex, sizeof hex);
    return LICD_OK;
}

int crypto_apikey_kind(const char *presented, apikey_kind *kind)
{
    if (!presented || strlen(presented) != APIKEY_PLAIN_LEN - 1 ||
        strspn(presented + 3, "0123456789abcdef") != APIKEY_PLAIN_LEN - 4)
        return -1;
    for (unsigned i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (strncmp(presented, markers[i], 3) == 0) {
            *kind = (apikey_kind)i;
            return 0;
        }
    return -1;
}

int crypto_apikey_prefix(const char *presented, char prefix[APIKEY_PREFIX_LEN])
{
    apikey_kind kind;
    if (crypto_apikey_kind(presented, &kind) != 0)
        return -1;
    memcpy(prefix, presented, APIKEY_PREFIX_LEN - 1);
    prefix[APIKEY_PREFIX_LEN - 1] = '\0';
    return 0;
}

int crypto_apikey_matches(const char *hash_hex, const char *stored_hash_hex)
{
    size_t len = 2 * CRYPTO_SHA256_LEN;
    if (!hash_hex || !stored_hash_hex || strlen(hash_hex) != len || strlen(stored_hash_hex) != len)
        return 0;
    return crypto_equal(hash_hex, stored_hash_hex, len);
}

void crypto_apikey_wipe(crypto_apikey *key) { OPENSSL_cleanse(key, sizeof *key); }
