/* Update passwords STATIC-DYNAMIC: their text form, and what presenting one
 * does to it (first time used, any later time cloned). The static part comes
 * from an HMAC of the group key and node, the dynamic part from fresh
 * randomness; both are 16 bytes written in base32 (RFC 4648 alphabet, no
 * padding). Pure functions, no I/O. */
#ifndef LICD_DOMAIN_UPDATE_PASSWORD_H
#define LICD_DOMAIN_UPDATE_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define UPW_PART_BYTES 16
#define UPW_PART_LEN 26                    /* base32 characters of 16 bytes */
#define UPW_LEN (2 * UPW_PART_LEN + 1)     /* STATIC-DYNAMIC, without the NUL */

/* The base32 text of 16 bytes (no padding) into out (UPW_PART_LEN + 1 bytes). */
void domain_upw_part(const uint8_t bytes[UPW_PART_BYTES], char out[UPW_PART_LEN + 1]);

/* Joins the parts into "STATIC-DYNAMIC" (out holds UPW_LEN + 1 bytes). */
void domain_upw_format(const char *static_part, const char *dynamic_part, char out[UPW_LEN + 1]);

/* Splits a presented password into its parts: exactly two parts of
 * UPW_PART_LEN base32 characters each (upper case; lower case is accepted
 * and upper-cased), joined by one '-', whose last character carries no
 * stray bits. 0, or -1 when malformed. */
int domain_upw_parse(const char *presented, char static_part[UPW_PART_LEN + 1],
                     char dynamic_part[UPW_PART_LEN + 1]);

/* The statuses a password goes through (API names in enum order). */
typedef enum { UPW_ISSUED, UPW_USED, UPW_CLONED, UPW_DISMISSED, UPW_BLOCKED } domain_upw_status;
extern const char *const domain_upw_statuses[];
/* The status named s; 0, or -1. */
int domain_upw_status_parse(const char *s, domain_upw_status *out);

/* The status a password takes when presented: the first presentation of an
 * issued password uses it; any later one (used, already cloned, or resolved
 * by a vendor since) marks it cloned, back in the moderation queue. */
domain_upw_status domain_upw_presented(domain_upw_status current);

#endif
