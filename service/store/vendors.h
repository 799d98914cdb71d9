/* Vendors and their API keys. */
#ifndef LICD_STORE_VENDORS_H
#define LICD_STORE_VENDORS_H

#include <stddef.h>

#include "store/audit.h"
#include "store/gate.h"

#define STORE_UUID_LEN 37           /* 36 characters and a NUL */

typedef struct {
    char id[STORE_UUID_LEN];
    char name[201];
    char created_at[40];
} store_vendor;

/* Creates a vendor with a fresh API key; the plain key is written to
 * api_key and never stored. */
int store_vendor_create(const char *name, store_vendor *out, char *api_key, size_t api_key_len);
/* Finds the vendor that owns an unrevoked key still within its validity:
 * 0, LICD_ERR_UNAUTHORIZED or a database error. gate (or NULL) runs when
 * the key is not in this node's cache, before the statement; its error is
 * returned as it is. */
int store_vendor_by_key(const char *api_key, store_vendor *out, const store_gate *gate);

/* The longest a rotated key may keep working, in seconds (30 days). */
#define STORE_KEY_GRACE_MAX 2592000L

/* Gives who->vendor_id a fresh API key (written to api_key, never stored).
 * Every key it had stops working grace_s seconds from now (0: at once; a
 * key already ending sooner keeps its end): valid_until gets that time
 * (RFC 3339). The old keys' rows are updated, not only a new one added.
 * Audited in the same transaction. */
int store_vendor_rotate_key(const store_actor *who, long grace_s, char *api_key,
                            size_t api_key_len, char valid_until[40]);

/* Renames a vendor; LICD_ERR_NOT_FOUND when it does not exist. */
int store_vendor_rename(const char *id, const char *name, store_vendor *out);

#endif
