/* Products of a vendor (code, name, current version, licensing scheme,
 * features, whether get_key needs a platform challenge) and their upgrade paths. */
#ifndef LICD_STORE_PRODUCTS_H
#define LICD_STORE_PRODUCTS_H

#include "store/audit.h"

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

/* The vendor's product with that code; LICD_ERR_NOT_FOUND otherwise. */
int store_product_get(const char *vendor_id, const char *code, store_product *out);
void store_product_clear(store_product *p);

/* 1 when the product has an upgrade path from_version → to_version (0 if not). */
int store_upgrade_path_exists(long long product_id, const char *from_version,
                              const char *to_version, int *exists);

#endif
