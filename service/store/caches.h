/* The in-process caches of facts every request reads (vendor and customer
 * keys, products), emptied entry by entry when the database announces a
 * change (store/notify.h) and disabled while such news cannot be heard.
 * A cached value is a whole struct without pointers. Changes made by this
 * process also empty its caches at once (store_caches_forget). */
#ifndef LICD_STORE_CACHES_H
#define LICD_STORE_CACHES_H

#include "util/cache.h"

typedef enum {
    STORE_CACHE_VENDOR_KEYS,
    STORE_CACHE_CUSTOMER_KEYS,
    STORE_CACHE_PRODUCTS,
    STORE_CACHE_LICENSES,   /* api/get_key.c's answers by store_license_cache_key */
    STORE_CACHE_COUNT
} store_cache_id;

/* Makes the caches and registers them for change notices; call before
 * store_notify_start. Without a listener they stay disabled. */
int store_caches_init(void);
void store_caches_free(void);

/* A cache made by store_caches_init; NULL before it. */
cache *store_cache(store_cache_id id);

/* Empties one cache of this process after a change committed here, so
 * that this node's next request sees it without waiting for the notice. */
void store_caches_forget(store_cache_id id);

#endif
