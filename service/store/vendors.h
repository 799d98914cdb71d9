/* Vendors and their API keys. */
#ifndef LICD_STORE_VENDORS_H
#define LICD_STORE_VENDORS_H

#include <stddef.h>


#define STORE_UUID_LEN 37           /* 36 characters and a NUL */

typedef struct {
    char id[STORE_UUID_LEN];
    char name[201];
    char created_at[40];
} store_vendor;

/* Creates a vendor with a fresh API key; the plain key is written to
 * api_key and never stored. */
int store_vendor_create(const char *name, store_vendor *out, char *api_key, size_t api_key_len);
/* Finds the vendor that owns an unrevoked key: 0, LICD_ERR_UNAUTHORIZED or
 * a database error. */
int store_vendor_by_key(const char *api_key, store_vendor *out);

/* Renames a vendor; LICD_ERR_NOT_FOUND when it does not exist. */
int store_vendor_rename(const char *id, const char *name, store_vendor *out);

#endif
