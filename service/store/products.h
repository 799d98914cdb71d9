/* Products of a vendor (code, name, current version, licensing scheme,
 * features, whether get_key needs a platform challenge) and their upgrade paths. */
#ifndef LICD_STORE_PRODUCTS_H
#define LICD_STORE_PRODUCTS_H

#include "store/audit.h"
#include "store/page.h"

#define STORE_CODE_MAX 64

typedef struct {
    long long id;
    char vendor_id[37];
    char code[STORE_CODE_MAX + 1];
    char name[201];
    char version[65];
    char scheme[65];
    char *features_json;     /* JSON array text, malloc'd: free with store_product_clear */
    int require_challenge;
    char created_at[40];
} store_product;

/* What a vendor gives to create a product. */
typedef struct {
    const char *code, *name, *version, *scheme;
    const char *features_json;  /* JSON array text */
    int require_challenge;
} store_product_new;

/* An upgrade path of a product, as stored. */
typedef struct {
    char from_version[65];
    char to_version[65];
    char created_at[40];
} store_upgrade_path;

/* Creates a product of who->vendor_id, audited in the same transaction;
 * LICD_ERR_CONFLICT when the vendor has a product with that code. out is
 * cleared with store_product_clear. */
int store_product_create(const store_actor *who, const store_product_new *in, store_product *out);

/* The vendor's product with that code; LICD_ERR_NOT_FOUND otherwise. */
int store_product_get(const char *vendor_id, const char *code, store_product *out);
void store_product_clear(store_product *p);
/* Up to limit products of the vendor whose id is above after (0: from the
 * start), oldest first, as a page of store_product. */
int store_product_list(const char *vendor_id, long long after, int limit, store_page *page);

/* Records the path from_version → to_version of product p (audited with
 * who). Idempotent: *created is 1 for a new path and 0 when it existed, out
 * being the stored path either way. */
int store_upgrade_path_add(const store_actor *who, const store_product *p,
                           const char *from_version, const char *to_version,
                           store_upgrade_path *out, int *created);

/* *exists is 1 when the product has an upgrade path from_version → to_version, else 0. */
int store_upgrade_path_exists(long long product_id, const char *from_version,
                              const char *to_version, int *exists);

#endif
