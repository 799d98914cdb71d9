/* Base64 (RFC 4648) on OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, strict on
 * input: one accepted spelling per byte string, so that nothing signed or
 * compared can be re-spelled. Shared by the service and the C client. */
#ifndef LICD_UTIL_BASE64_H
#define LICD_UTIL_BASE64_H

#include <stddef.h>

/* base64url without padding (RFC 7515 2); a malloc'd NUL-terminated string
 * the caller frees, NULL when out of memory. */
char *b64url_encode(const void *data, size_t len);

/* Decodes base64url without padding: only the URL-safe alphabet, no
 * padding or white space, no length an encoder never produces, zero bits
 * under the last character. A malloc'd buffer (NUL-terminated after
 * *out_len bytes) the caller frees, or NULL on bad text or no memory. */
unsigned char *b64url_decode(const char *text, size_t len, size_t *out_len);

/* Decodes standard padded base64 under the same strictness. */
unsigned char *b64_decode(const char *text, size_t len, size_t *out_len);

/* Bytes that len characters of padded base64 decode to, from the length
 * and padding alone (for size limits checked before decoding). */
size_t b64_decoded_len(const char *text, size_t len);

#endif
