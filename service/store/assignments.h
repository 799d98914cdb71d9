/* The vendor's view of assignments (every licence handed out): listing with
 * filters, blocking or unblocking one licence, and deactivating one. */
#ifndef LICD_STORE_ASSIGNMENTS_H
#define LICD_STORE_ASSIGNMENTS_H

#include "store/audit.h"
#include "store/page.h"
#include "store/products.h"

typedef struct {
    long long id;                       /* list position */
    char license_id[72];
    char pack_id[65];                   /* "" for a temporary licence */
    char customer_id[37];
    char client_id[257];
    char product[STORE_CODE_MAX + 1];
    char version[65];
    char platform[16];
    char issued_at[40];
    char expires_at[40];                /* "" when it never expires */
    char status[16];                    /* active, retired, upgraded, deactivated */
    int temporary, blocked;
} store_assignment;

/* Filters of a listing; NULL matches everything. customer_id must be a UUID. */
typedef struct {
    const char *customer_id, *client_id, *pack_id;
} store_assignment_filter;

/* Up to limit assignments of the vendor matching f with id > after, oldest
 * first, as a page of store_assignment. */
int store_assignment_list(const char *vendor_id, const store_assignment_filter *f,
                          long long after, int limit, store_page *page);

/* Sets the blocked flag of the vendor's licence license_id, audited as
 * "block" or "unblock" in the same transaction; out is the licence after.
 * LICD_ERR_NOT_FOUND for unknown licences and other vendors' alike. */
int store_assignment_set_blocked(const store_actor *who, const char *license_id, int blocked,
                                 store_assignment *out);

/* Deactivates the vendor's licence license_id (of customer customer_id
 * only, unless it is NULL), audited as "deactivate" in the same
 * transaction: a pack licence's seat and serial go back to its pack at
 * once; the licence is never issued again (get_key takes a new seat).
 * Deactivating a deactivated licence changes nothing and succeeds.
 * LICD_ERR_NOT_FOUND for unknown licences, other vendors' and customers'
 * alike, and activation keys (those are blocked, not deactivated). */
int store_assignment_deactivate(const store_actor *who, const char *customer_id,
                                const char *license_id);

#endif
