/* Licence packs: N licences of a product and version issued to a customer,
 * with their serial range; installed once per pack id, however often posted;
 * listed, and changed by their vendor. */
#ifndef LICD_STORE_PACKS_H
#define LICD_STORE_PACKS_H

#include "store/audit.h"
#include "store/page.h"
#include "store/products.h"

#define STORE_PACK_ID_MAX 64
#define STORE_SERIAL_MAX 999999999999999LL

typedef struct {
    char pack_id[STORE_PACK_ID_MAX + 1];
    char customer_id[37];
    char product[STORE_CODE_MAX + 1];   /* the product's code */
    char version[65];
    char type[16];
    long long quantity, assigned, begin_serial;   /* assigned: in use here + allocated */
    char issued_at[40], first_active[40];
    char expires[40];                   /* "" when the pack never expires */
    char platform[16];
    char *attributes_json;              /* JSON object text, malloc'd: store_pack_clear */
    char on_over_limit[8];              /* refuse or report */
    long long max_borrow_s;             /* longest borrow of a seat; 0: none */
    long long allocated;                /* seats allocated to sites (in assigned too) */
} store_pack;

/* What a vendor gives to install a pack (validated by the caller). */
typedef struct {
    const char *pack_id;
    const char *customer_id;            /* a customer of the vendor */
    const store_product *product;       /* a product of the vendor */
    const char *version, *type, *platform;
    long long quantity;
    long long begin_serial;             /* 0: the vendor's next free serial */
    const char *first_active;           /* RFC 3339 */
    const char *expires;                /* RFC 3339, or NULL for never */
    const char *attributes_json;        /* JSON object text */
    const char *on_over_limit;          /* refuse or report */
    long long max_borrow_s;             /* 0: no borrowing */
} store_pack_new;

/* Installs a pack of who->vendor_id, audited in the same transaction, and
 * sets *created to 1. When the vendor has a pack with that pack_id already
 * (also one a concurrent call is installing), nothing changes: *created is
 * 0 and out is that pack as first installed. A generated serial range that
 * collides with a concurrent installation is chosen again. Errors: when an
 * explicit begin_serial range overlaps another
 * pack of the vendor, or no range of that size is left after the vendor's
 * highest serial: LICD_ERR_SERIAL_RANGE_TAKEN. out is cleared with
 * store_pack_clear. */
int store_pack_create(const store_actor *who, const store_pack_new *in, store_pack *out,
                      int *created);

/* The vendor's pack with that pack_id; LICD_ERR_NOT_FOUND otherwise. */
int store_pack_get(const char *vendor_id, const char *pack_id, store_pack *out);
/* Frees what the pack owns; safe to call twice. */
void store_pack_clear(store_pack *p);

/* Filters of a listing; NULL matches everything. customer_id must be a UUID. */
typedef struct {
    const char *customer_id;
    const char *product;                /* a product code */
} store_pack_filter;

/* Up to limit packs of the vendor matching f after list position after (0:
 * from the start), oldest first, as a page of store_pack. */
int store_pack_list(const char *vendor_id, const store_pack_filter *f, long long after, int limit,
                    store_page *page);

/* What a vendor changes in a pack (validated by the caller). */
typedef struct {
    long long quantity;                 /* 0: unchanged */
    int set_expires;                    /* expires is given: */
    const char *expires;                /* RFC 3339, or NULL for never */
    const char *on_over_limit;          /* NULL: unchanged */
    long long max_borrow_s;             /* -1: unchanged */
} store_pack_change;

/* Changes the vendor's pack pack_id as ch says in one statement, audited in
 * the same transaction; out is the pack after. A new expiry becomes the
 * expiry of the pack's active licences as well. LICD_ERR_NOT_FOUND for
 * unknown packs and other vendors' alike. LICD_ERR_QUANTITY_BELOW_ASSIGNED
 * when the quantity would no longer cover the seats in use, or a serial
 * past the new end that a licence still holds; *least is then the smallest
 * quantity the pack can have now. LICD_ERR_SERIAL_RANGE_TAKEN when the
 * larger range would overlap another pack of the vendor. Nothing changes
 * on an error. */
int store_pack_update(const store_actor *who, const char *pack_id, const store_pack_change *ch,
                      store_pack *out, long long *least);

/* How a client's request relates to the customer's per-device and per-user
 * packs of a product, whatever their seats or dates: how many there are,
 * how many of the version asked for (all when version is NULL), how many
 * usable on the platform, and how many of both (those that could serve it). */
typedef struct {
    long long packs, of_version, of_platform, matching;
} store_pack_match;

int store_pack_match_count(const char *customer_id, long long product_id, const char *version,
                           const char *platform, store_pack_match *out);

#endif
