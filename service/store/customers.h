/* Customers (a vendor's clients: companies or hosters) and their keys. */
#ifndef LICD_STORE_CUSTOMERS_H
#define LICD_STORE_CUSTOMERS_H

#include <stddef.h>

#include "store/audit.h"
#include "store/page.h"
#include "store/vendors.h"

typedef struct {
    char id[STORE_UUID_LEN];
    char vendor_id[STORE_UUID_LEN];
    char name[201];
    char created_at[40];
} store_customer;

/* Creates a customer of who->vendor_id with a fresh customer key (written
 * to key, never stored), audited in the same transaction. */
int store_customer_create(const store_actor *who, const char *name, store_customer *out,
                          char *key, size_t key_len);
/* The customer owning an unrevoked customer key still within its validity;
 * LICD_ERR_UNAUTHORIZED if none. gate as store_vendor_by_key's. */
int store_customer_by_key(const char *key, store_customer *out, const store_gate *gate);
/* A customer of this vendor; LICD_ERR_NOT_FOUND for unknown ids, malformed
 * ids and other vendors' customers alike. */
int store_customer_get(const char *vendor_id, const char *customer_id, store_customer *out);
/* store_vendor_rotate_key for a customer of who->vendor_id and its
 * customer keys; LICD_ERR_NOT_FOUND when the vendor has no such customer. */
int store_customer_rotate_key(const store_actor *who, const char *customer_id, long grace_s,
                              char *key, size_t key_len, char valid_until[40]);

/* Up to limit customers of the vendor created after the one with list
 * position after (0: from the start), oldest first, as a page of
 * store_customer. */
int store_customer_list(const char *vendor_id, long long after, int limit, store_page *page);

#endif
