/* Update-password text and status decisions (see update_password.h). */
#include "domain/update_password.h"

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const char *const domain_upw_statuses[] = {"issued", "used", "cloned", "dismissed", "blocked",
                                           NULL};

void domain_upw_part(const uint8_t bytes[UPW_PART_BYTES], char out[UPW_PART_LEN + 1])
{
    unsigned bits = 0, acc = 0;
    size_t n = 0;
    for (size_t i = 0; i < UPW_PART_BYTES; i++) {
        acc = (acc << 8) | bytes[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[n++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits)
        out[n++] = alphabet[(acc << (5 - bits)) & 31];
    out[n] = '\0';
}

void domain_upw_format(const char *static_part, const char *dynamic_part, char out[UPW_LEN + 1])
{
    memcpy(out, static_part, UPW_PART_LEN);
    out[UPW_PART_LEN] = '-';
    memcpy(out + UPW_PART_LEN + 1, dynamic_part, UPW_PART_LEN);
    out[UPW_LEN] = '\0';
}

/* Value of one base32 character (either case), or -1. */
static int value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* One part: UPW_PART_LEN characters; 16 bytes fill 128 of its 130 bits, so
 * the last character's two low bits must be zero (one text per password). */
static int part(const char *s, char out[UPW_PART_LEN + 1])
{
    for (int i = 0; i < UPW_PART_LEN; i++) {
        int v = value(s[i]);
        if (v < 0)
            return -1;
        out[i] = alphabet[v];
    }
    out[UPW_PART_LEN] = '\0';
    return (value(s[UPW_PART_LEN - 1]) & 3) ? -1 : 0;
}

int domain_upw_parse(const char *presented, char static_part[UPW_PART_LEN + 1],
                     char dynamic_part[UPW_PART_LEN + 1])
{
    if (!presented || strlen(presented) != UPW_LEN || presented[UPW_PART_LEN] != '-')
        return -1;
    if (part(presented, static_part) != 0 ||
        part(presented + UPW_PART_LEN + 1, dynamic_part) != 0)
        return -1;
    return 0;
}

int domain_upw_status_parse(const char *s, domain_upw_status *out)
{
    for (int i = 0; s && domain_upw_statuses[i]; i++)
        if (strcmp(s, domain_upw_statuses[i]) == 0) {
            *out = (domain_upw_status)i;
            return 0;
        }
    return -1;
}

domain_upw_status domain_upw_presented(domain_upw_status current)
{
    return current == UPW_ISSUED ? UPW_USED : UPW_CLONED;
}
