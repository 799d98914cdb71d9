/* Licence packs: N licences of a product and version issued to a customer,
 * with their serial range; installed once per pack id, however often posted. */
#ifndef LICD_STORE_PACKS_H
#define LICD_STORE_PACKS_H

#include "store/audit.h"
#include "store/products.h"

#define STORE_PACK_ID_MAX 64
#define STORE_SERIAL_MAX 999999999999999LL

typedef struct {
    char pack_id[STORE_PACK_ID_MAX + 1];
    char customer_id[37];
    char product[STORE_CODE_MAX + 1];   /* the product's code */
    char version[65];
    char type[16];
    long long quantity, assigned, begin_serial;
    char issued_at[40], first_active[40];
    char expires[40];                   /* "" when the pack never expires */
    char platform[16];
    char *attributes_json;              /* JSON object text, malloc'd: store_pack_clear */
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
} store_pack_new;

/* Installs a pack of who->vendor_id, audited in the same transaction, and
 * sets *created to 1. When the vendor has a pack with that pack_id already
 * (also one a concurrent call is installing), nothing changes: *created is
 * 0 and out is that pack as first installed. A generated serial range that
 * collides with a concurrent installation is chosen again. Errors:
 * LICD_ERR_CONFLICT when an explicit begin_serial range overlaps another
 * pack of the vendor, or no range of that size is left after the vendor's
 * highest serial. out is cleared with store_pack_clear. */
int store_pack_create(const store_actor *who, const store_pack_new *in, store_pack *out,
                      int *created);

/* The vendor's pack with that pack_id; LICD_ERR_NOT_FOUND otherwise. */
int store_pack_get(const char *vendor_id, const char *pack_id, store_pack *out);
/* Frees what the pack owns; safe to call twice. */
void store_pack_clear(store_pack *p);

#endif
