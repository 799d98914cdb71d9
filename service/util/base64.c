/* Strict base64 and base64url over OpenSSL's block coder. */
#include "util/base64.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* EVP_EncodeBlock writes 4 characters per 3 bytes and a NUL; it takes an int. */
static char *encode_std(const void *data, size_t len)
{
    char *out;
    if (len > (size_t)INT32_MAX / 4 * 3 - 3)
        return NULL;
    if (!(out = malloc((len + 2) / 3 * 4 + 1)))
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

char *b64url_encode(const void *data, size_t len)
{
    char *out = encode_std(data, len);
    size_t n;
    if (!out)
        return NULL;
    n = strlen(out);
    while (n && out[n - 1] == '=')
        out[--n] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

size_t b64_decoded_len(const char *text, size_t len)
{
    if (len < 4 || len % 4)
        return len / 4 * 3;
    return len / 4 * 3 - (text[len - 1] == '=') - (text[len - 2] == '=');
}

/* The 6-bit value of a character of the standard alphabet. */
static unsigned value(char c)
{
    return c >= 'A' && c <= 'Z'   ? (unsigned)(c - 'A')
           : c >= 'a' && c <= 'z' ? (unsigned)(c - 'a' + 26)
           : c >= '0' && c <= '9' ? (unsigned)(c - '0' + 52)
           : c == '+'             ? 62u
                                  : 63u;
}

/* Decodes padded standard base64 that is already known to use only the
 * alphabet and '=' at its end. EVP_DecodeBlock itself tolerates white space
 * and stray bits under the padding, so the canonical form (those bits zero)
 * is checked here. */
static unsigned char *decode_std(const char *text, size_t len, size_t *out_len)
{
    unsigned char *out;
    size_t n;
    int got;

    if (len == 0 || len % 4 || len > (size_t)INT32_MAX)
        return NULL;
    n = b64_decoded_len(text, len);
    if ((n % 3 == 1 && value(text[len - 3]) & 0x0f) || (n % 3 == 2 && value(text[len - 2]) & 0x03))
        return NULL;
    if (!(out = malloc(len / 4 * 3 + 1)))
        return NULL;
    got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
    if (got < 0 || (size_t)got != len / 4 * 3) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* Only characters of the alphabet, then at most two '=' at the very end. */
static int well_formed(const char *text, size_t len, const char *extra, int padded)
{
    size_t body = len;
    if (padded)
        while (body > 0 && len - body < 2 && text[body - 1] == '=')
            body--;
    for (size_t i = 0; i < body; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == (unsigned char)extra[0] || c == (unsigned char)extra[1]))
            return 0;
    }
    return 1;
}

unsigned char *b64_decode(const char *text, size_t len, size_t *out_len)
{
    if (!text || !out_len || !well_formed(text, len, "+/", 1))
        return NULL;
    return decode_std(text, len, out_len);
}

unsigned char *b64url_decode(const char *text, size_t len, size_t *out_len)
{
    unsigned char *out = NULL;
    char *std;
    if (!text || !out_len || len % 4 == 1 || len > (size_t)INT32_MAX - 4 ||
        !well_formed(text, len, "-_", 0))
        return NULL;
    if (len == 0) {
        if ((out = calloc(1, 1)))
            *out_len = 0;
        return out;
    }
    if (!(std = malloc(len + 4)))
        return NULL;
    for (size_t i = 0; i < len; i++)
        std[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
    size_t padded = len;
    while (padded % 4)
        std[padded++] = '=';
    out = decode_std(std, padded, out_len);
    free(std);
    return out;
}
