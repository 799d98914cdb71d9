/* SHA-256, HMAC-SHA256, constant-time comparison, OS randomness, hex and strict base64url. */
#include "crypto/digest.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/error.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The contract returns nothing, and a wrong digest handed back silently could
 * make two different secrets compare equal, so a failure (only possible when
 * OpenSSL cannot allocate its context) aborts instead. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
    unsigned int n = 0;

    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != CRYPTO_SHA256_LEN) {
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

/* getrandom(2) may return fewer bytes than asked for large requests or be
 * interrupted by a signal; loop until the whole buffer is filled. */
int crypto_random(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return LICD_ERR_INTERNAL;
        }
        p += n;
        len -= (size_t)n;
    }
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

char *crypto_b64url_encode(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t full = len / 3, rem = len % 3, olen, o = 0;
    char *out;

    if (full > (SIZE_MAX - 4) / 4)
        return NULL;
    olen = full * 4 + (rem ? rem + 1 : 0);
    out = malloc(olen + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < full * 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (rem) {
        uint32_t v = (uint32_t)p[full * 3] << 16;
        if (rem == 2)
            v |= (uint32_t)p[full * 3 + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        if (rem == 2)
            out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Strict: no padding, no whitespace, only the URL-safe alphabet, no length
 * that no encoder produces (len % 4 == 1), and the unused low bits of the last
 * character must be zero, so that every byte string has exactly one accepted
 * encoding (a token cannot be re-spelled and still verify). */
uint8_t *crypto_b64url_decode(const char *text, size_t text_len, size_t *out_len)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t rem = text_len % 4, blen, o = 0;
    uint32_t acc = 0;
    uint8_t *buf = NULL, *result = NULL;

    if (!text || !out_len || rem == 1)
        goto out;
    blen = text_len / 4 * 3 + (rem ? rem - 1 : 0);
    buf = malloc(blen + 1);
    if (!buf)
        goto out;
    for (size_t i = 0; i < text_len; i++) {
        int v = b64url_value(t[i]);
        if (v < 0)
            goto out;
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            buf[o++] = (uint8_t)(acc >> 16);
            buf[o++] = (uint8_t)(acc >> 8);
            buf[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (rem == 2) {
        if (acc & 0x0f)
            goto out;
        buf[o++] = (uint8_t)(acc >> 4);
    } else if (rem == 3) {
        if (acc & 0x03)
            goto out;
        buf[o++] = (uint8_t)(acc >> 10);
        buf[o++] = (uint8_t)(acc >> 2);
    }
    buf[o] = '\0';
    *out_len = o;
    result = buf;
    buf = NULL;

out:
    free(buf);
    return result;
}
