/* ES256 JWS compact tokens: signing with the ring's key, and verification that pins alg and kid. */
#include "crypto/jwt.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/digest.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/json.h"

/* Raw JWS ES256 signature: r || s, 32 bytes each (RFC 7518 3.4). */
#define ES256_SIG_LEN 64
#define ES256_HALF 32
/* Longest DER ECDSA-Sig-Value of a P-256 signature (two 33-byte INTEGERs). */
#define ES256_DER_MAX 72

/* Header of every token signed here; the kid is base64url, so it needs no escaping. */
#define HEADER_FMT "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}"

/* OpenSSL produces a DER ECDSA-Sig-Value; JWS wants fixed-width r || s. */
static int der_to_raw(const unsigned char *der, size_t der_len, uint8_t raw[ES256_SIG_LEN])
{
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig = NULL;
    int result = LICD_ERR_INTERNAL;

    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, ES256_HALF) != ES256_HALF
        || BN_bn2binpad(s, raw + ES256_HALF, ES256_HALF) != ES256_HALF)
        goto out;
    result = LICD_OK;

out:
    ECDSA_SIG_free(sig);
    return result;
}

/* The reverse, for EVP_DigestVerify; *der is OPENSSL_malloc'd. */
static int raw_to_der(const uint8_t raw[ES256_SIG_LEN], unsigned char **der, size_t *der_len)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    int n, result = LICD_ERR_INTERNAL;

    *der = NULL;
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(raw, ES256_HALF, NULL);
    s = BN_bin2bn(raw + ES256_HALF, ES256_HALF, NULL);
    if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s))
        goto out;
    r = s = NULL; /* owned by sig now */
    n = i2d_ECDSA_SIG(sig, der);
    if (n <= 0)
        goto out;
    *der_len = (size_t)n;
    result = LICD_OK;

out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return result;
}

/* Each thread keeps one signing context, made for the key it last signed
 * with: EVP_PKEY_sign may run again and again on one initialised context,
 * and making one for every token (fetching the algorithm,
 * EVP_DigestSignInit, then the copy EVP_DigestSignFinal makes of it) cost
 * 2.3 us of a 19 us signature. The context holds a reference to its key, so
 * the key it was made for is not freed (nor its address reused) while the
 * context lives. */
struct signer {
    const EVP_PKEY *key;
    EVP_PKEY_CTX *ctx;
};

static pthread_key_t signer_key;
static pthread_once_t signer_once = PTHREAD_ONCE_INIT;

static void signer_free(void *p)
{
    struct signer *s = p;
    EVP_PKEY_CTX_free(s->ctx);
    free(s);
}

static int signer_key_made;

static void signer_key_make(void)
{
    signer_key_made = pthread_key_create(&signer_key, signer_free) == 0;
}

/* The calling thread's context for signing digests with key, or NULL. */
static EVP_PKEY_CTX *thread_signer(EVP_PKEY *key)
{
    struct signer *s;
    if (!key || pthread_once(&signer_once, signer_key_make) != 0 || !signer_key_made)
        return NULL;
    s = pthread_getspecific(signer_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return NULL;
        if (pthread_setspecific(signer_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->ctx && s->key == key)
        return s->ctx;
    EVP_PKEY_CTX_free(s->ctx);
    s->key = NULL;
    s->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!s->ctx || EVP_PKEY_sign_init(s->ctx) != 1) {
        EVP_PKEY_CTX_free(s->ctx);
        s->ctx = NULL;
        return NULL;
    }
    s->key = key;
    return s->ctx;
}

/* Refuses to issue a token longer than crypto_jwt_verify accepts: one that
 * could never be checked again is a bug, not a token. */
int crypto_jwt_by_signing_key(const crypto_keyring *ring, const char *token)
{
    char header[128], *h64;
    int n = snprintf(header, sizeof header, HEADER_FMT, crypto_keyring_kid(ring)), same;
    size_t hlen;
    if (!token || n < 0 || (size_t)n >= sizeof header || !(h64 = b64url_encode(header, (size_t)n)))
        return 0;
    hlen = strlen(h64);
    same = strncmp(token, h64, hlen) == 0 && token[hlen] == '.';
    free(h64);
    return same;
}

int crypto_jwt_sign(const crypto_keyring *ring, const cJSON *claims, char **out)
{
    char header[128];
    char *payload = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *token = NULL;
    unsigned char der[ES256_DER_MAX], digest[CRYPTO_SHA256_LEN];
    uint8_t raw[ES256_SIG_LEN];
    size_t der_len = sizeof der, hlen, plen, slen, input_len;
    EVP_PKEY_CTX *ctx;
    int n, result = LICD_ERR_INTERNAL;

    if (out)
        *out = NULL;
    if (!ring || !claims || !out || !cJSON_IsObject(claims))
        goto out;
    n = snprintf(header, sizeof header, HEADER_FMT, crypto_keyring_kid(ring));
    if (n < 0 || (size_t)n >= sizeof header)
        goto out;

    result = LICD_ERR_NOMEM;
    payload = cJSON_PrintUnformatted(claims);
    if (!payload)
        goto out;
    h64 = b64url_encode(header, (size_t)n);
    p64 = b64url_encode(payload, strlen(payload));
    if (!h64 || !p64)
        goto out;
    hlen = strlen(h64);
    plen = strlen(p64);
    slen = (ES256_SIG_LEN / 3) * 4 + 2; /* 86 */
    input_len = hlen + 1 + plen;
    if (input_len + 1 + slen > CRYPTO_JWT_MAX_LEN) {
        result = LICD_ERR_INTERNAL;
        goto out;
    }
    token = malloc(input_len + 1 + slen + 1);
    if (!token)
        goto out;
    memcpy(token, h64, hlen);
    token[hlen] = '.';
    memcpy(token + hlen + 1, p64, plen);

    result = LICD_ERR_INTERNAL;
    crypto_sha256(token, input_len, digest);
    if (!(ctx = thread_signer(crypto_keyring_signing_key(ring))) ||
        EVP_PKEY_sign(ctx, der, &der_len, digest, sizeof digest) != 1)
        goto out;
    if (der_to_raw(der, der_len, raw) != LICD_OK)
        goto out;
    s64 = b64url_encode(raw, sizeof raw);
    if (!s64) {
        result = LICD_ERR_NOMEM;
        goto out;
    }
    if (strlen(s64) != slen)
        goto out;
    token[input_len] = '.';
    memcpy(token + input_len + 1, s64, slen + 1);
    *out = token;
    token = NULL;
    result = LICD_OK;

out:
    free(token);
    free(s64);
    free(p64);
    free(h64);
    cJSON_free(payload);
    ERR_clear_error();
    return result;
}

/* Decoded header or payload: the request bodies' strict gate (an object,
 * valid UTF-8, bounded depth, no NULs, nothing after it), or NULL. */
static cJSON *parse_object(const uint8_t *buf, size_t len)
{
    cJSON *json = NULL;
    return json_parse_object((const char *)buf, len, &json, NULL) == LICD_OK ? json : NULL;
}

/* Decides, before any signature work, which key may have signed the token:
 * exactly one "alg" equal to "ES256", exactly one string "kid" naming a loaded
 * key, and no "crit" (no extension here is understood). Names are matched
 * case-sensitively, unlike cJSON_GetObjectItem. */
static EVP_PKEY *header_key(const crypto_keyring *ring, const cJSON *header)
{
    const cJSON *item, *alg = NULL, *kid = NULL;
    int nalg = 0, nkid = 0;

    cJSON_ArrayForEach(item, header) {
        if (!item->string)
            return NULL;
        if (strcmp(item->string, "crit") == 0)
            return NULL;
        if (strcmp(item->string, "alg") == 0) {
            alg = item;
            nalg++;
        } else if (strcmp(item->string, "kid") == 0) {
            kid = item;
            nkid++;
        }
    }
    if (nalg != 1 || nkid != 1)
        return NULL;
    if (!cJSON_IsString(alg) || !alg->valuestring || strcmp(alg->valuestring, "ES256") != 0)
        return NULL;
    if (!cJSON_IsString(kid) || !kid->valuestring)
        return NULL;
    return crypto_keyring_find_key(ring, kid->valuestring, strlen(kid->valuestring));
}

/* ECDSA P-256/SHA-256 over the ASCII "header.payload"; 1 only for a good signature. */
static int es256_verify(EVP_PKEY *pkey, const char *input, size_t input_len,
                        const uint8_t raw[ES256_SIG_LEN])
{
    unsigned char *der = NULL;
    size_t der_len = 0;
    EVP_MD_CTX *ctx = NULL;
    int ok = 0;

    if (raw_to_der(raw, &der, &der_len) != LICD_OK)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        goto out;
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1)
        goto out;
    ok = EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)input, input_len) == 1;

out:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

void crypto_jwt_remember(const crypto_keyring *ring, const char *token)
{
    cache *c = ring ? crypto_keyring_verified(ring) : NULL;
    char key[2 * CRYPTO_SHA256_LEN + 1];
    if (!c || !token)
        return;
    crypto_sha256_hex(token, strlen(token), key);
    cache_put(c, key, "", 0, cache_generation(c));
}

/* Order of checks: size and shape, header (alg and kid pinned), signature,
 * and only then the payload, so that attacker-chosen claims are never parsed.
 * exp and nbf, when present, must be numbers (RFC 7519 NumericDate). */
int crypto_jwt_verify(const crypto_keyring *ring, const char *token, time_t now, cJSON **claims)
{
    const char *dot1, *dot2, *sig_part;
    size_t len, hlen, plen, slen, dlen = 0;
    uint8_t *hbuf = NULL, *pbuf = NULL, *sbuf = NULL;
    cJSON *header = NULL, *payload = NULL;
    const cJSON *exp, *nbf;
    EVP_PKEY *pkey;
    cache *verified;
    char key[2 * CRYPTO_SHA256_LEN + 1], seen;
    int result = LICD_ERR_TOKEN_INVALID;

    if (claims)
        *claims = NULL;
    if (!ring || !token || !claims)
        goto out;
    len = strnlen(token, CRYPTO_JWT_MAX_LEN + 1);
    if (len == 0 || len > CRYPTO_JWT_MAX_LEN)
        goto out;
    dot1 = memchr(token, '.', len);
    if (!dot1)
        goto out;
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (!dot2)
        goto out;
    sig_part = dot2 + 1;
    if (memchr(sig_part, '.', len - (size_t)(sig_part - token)))
        goto out;
    hlen = (size_t)(dot1 - token);
    plen = (size_t)(dot2 - dot1 - 1);
    slen = len - (size_t)(sig_part - token);
    if (hlen == 0 || plen == 0 || slen == 0)
        goto out;

    hbuf = b64url_decode(token, hlen, &dlen);
    if (!hbuf)
        goto out;
    header = parse_object(hbuf, dlen);
    if (!header)
        goto out;
    pkey = header_key(ring, header);
    if (!pkey)
        goto out;

    sbuf = b64url_decode(sig_part, slen, &dlen);
    if (!sbuf || dlen != ES256_SIG_LEN)
        goto out;
    /* The signature is checked unless this very token was seen to verify
     * (or was signed here) before. */
    if ((verified = crypto_keyring_verified(ring)))
        crypto_sha256_hex(token, len, key);
    if (!verified || cache_get(verified, key, &seen, 0) < 0) {
        if (!es256_verify(pkey, token, (size_t)(dot2 - token), sbuf))
            goto out;
        if (verified)
            cache_put(verified, key, "", 0, cache_generation(verified));
    }

    pbuf = b64url_decode(dot1 + 1, plen, &dlen);
    if (!pbuf)
        goto out;
    payload = parse_object(pbuf, dlen);
    if (!payload)
        goto out;
    nbf = cJSON_GetObjectItemCaseSensitive(payload, "nbf");
    exp = cJSON_GetObjectItemCaseSensitive(payload, "exp");
    if ((nbf && !cJSON_IsNumber(nbf)) || (exp && !cJSON_IsNumber(exp)))
        goto out;
    if (nbf && (double)now < nbf->valuedouble)
        goto out;
    result = (exp && exp->valuedouble <= (double)now) ? LICD_ERR_TOKEN_EXPIRED : LICD_OK;
    *claims = payload;
    payload = NULL;

out:
    cJSON_Delete(payload);
    cJSON_Delete(header);
    free(sbuf);
    free(pbuf);
    free(hbuf);
    return result;
}
