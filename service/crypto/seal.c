/* AES-256-GCM sealing under HKDF-derived keys (see seal.h), with OpenSSL's
 * EVP_KDF and EVP_CIPHER. */
#include "crypto/seal.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define NONCE_LEN 12
#define TAG_LEN 16

int crypto_seal_key(EVP_PKEY *pkey, const char *purpose, unsigned char key[CRYPTO_SEAL_KEY_LEN])
{
    BIGNUM *priv = NULL;
    unsigned char secret[66];
    int n, rc = LICD_ERR_INTERNAL;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;

    if (!pkey || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 ||
        (n = BN_num_bytes(priv)) > (int)sizeof secret ||
        BN_bn2binpad(priv, secret, (int)sizeof secret) < 0)
        goto out;
    if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) && (kctx = EVP_KDF_CTX_new(kdf))) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret, sizeof secret),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, "licd seal", 9),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)purpose,
                                              strlen(purpose)),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_KDF_derive(kctx, key, CRYPTO_SEAL_KEY_LEN, params) == 1)
            rc = LICD_OK;
    }
out:
    OPENSSL_cleanse(secret, sizeof secret);
    BN_clear_free(priv);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* One GCM pass: encrypting (enc 1) in into out, or decrypting (enc 0) with
 * the tag checked. 0 or -1. */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, const void *aad,
               size_t aadlen, const unsigned char *in, size_t len, unsigned char *out,
               unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
                (aadlen == 0 || EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) == 1) &&
                (len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)len) == 1) &&
                (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1) &&
                EVP_CipherFinal_ex(c, out + len, &n) == 1 &&
                (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int crypto_seal(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad, size_t aadlen,
                const void *data, size_t len, unsigned char **out, size_t *outlen)
{
    unsigned char *s;
    *out = NULL;
    *outlen = 0;
    if (len > (size_t)1 << 30 || aadlen > (size_t)1 << 20)
        return LICD_ERR_INTERNAL;
    if (!(s = malloc(len + CRYPTO_SEAL_OVERHEAD)))
        return LICD_ERR_NOMEM;
    /* A random 96-bit nonce per sealing: far from the 2^32 sealings under
     * one key where collisions start to matter for the answers kept a day. */
    if (RAND_bytes(s, NONCE_LEN) != 1 ||
        gcm(1, key, s, aad, aadlen, data, len, s + NONCE_LEN, s + NONCE_LEN + len) != 0) {
        free(s);
        return LICD_ERR_INTERNAL;
    }
    *out = s;
    *outlen = len + CRYPTO_SEAL_OVERHEAD;
    return LICD_OK;
}

int crypto_open(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad, size_t aadlen,
                const unsigned char *sealed, size_t len, char **out, size_t *outlen)
{
    size_t n;
    unsigned char tag[TAG_LEN];
    char *p;
    *out = NULL;
    *outlen = 0;
    if (len < CRYPTO_SEAL_OVERHEAD || len > ((size_t)1 << 30) || aadlen > (size_t)1 << 20)
        return LICD_ERR_TOKEN_INVALID;
    n = len - CRYPTO_SEAL_OVERHEAD;
    if (!(p = malloc(n + 1)))
        return LICD_ERR_NOMEM;
    memcpy(tag, sealed + NONCE_LEN + n, TAG_LEN);
    if (gcm(0, key, sealed, aad, aadlen, sealed + NONCE_LEN, n, (unsigned char *)p, tag) != 0) {
        free(p);
        return LICD_ERR_TOKEN_INVALID;
    }
    p[n] = '\0';
    *out = p;
    *outlen = n;
    return LICD_OK;
}
