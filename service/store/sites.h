/* Site servers as the vendor sees them: the allocations of its packs to
 * sites (seats that leave a pack's free pool for a server that runs without
 * the vendor's database), the sites' public keys, and the chain of usage
 * reports each site sends back. */
#ifndef LICD_STORE_SITES_H
#define LICD_STORE_SITES_H

#include "store/audit.h"
#include "store/page.h"
#include "util/config.h"

#define STORE_SITE_ID_MAX CONFIG_SITE_ID_MAX

/* One pack's allocation to one site. */
typedef struct {
    char id[37];
    char site_id[STORE_SITE_ID_MAX + 1];
    char pack_id[65];          /* the vendor's pack id */
    long long quantity, sequence;
} store_allocation;

/* Sets the allocation of the vendor's pack to the site to quantity (the
 * site is made when new), audited, in one transaction that locks the pack:
 * *created is 1 for a new allocation, else its quantity changed and its
 * sequence went up by one. LICD_ERR_NOT_FOUND: no such pack of the vendor.
 * LICD_ERR_NOT_ENOUGH_FREE_SEATS: the pack's seats in use plus its other
 * allocations leave fewer than quantity; *most is then the most this site
 * could have. Lowering is always allowed. */
int store_allocation_set(const store_actor *who, const char *pack_id, const char *site_id,
                         long long quantity, store_allocation *out, int *created,
                         long long *most);

/* A site of the vendor: its keys and where its reports stand. */
typedef struct {
    char site_id[STORE_SITE_ID_MAX + 1];
    char *jwks_json;           /* "" until registered; malloc'd: store_site_clear */
    long long last_seq;        /* 0: no report yet */
    char last_hash[64];        /* base64url SHA-256 of the last report ("" for none) */
    char *last_report_json;    /* its figures as a JSON object, or "" */
} store_site;

/* The vendor's site; LICD_ERR_NOT_FOUND when it has none by that id. */
int store_site_get(const char *vendor_id, const char *site_id, store_site *out);
void store_site_clear(store_site *s);
/* The site's allocations, as a page of store_allocation (oldest first). */
int store_site_allocations(const char *vendor_id, const char *site_id, store_page *page);

/* Registers (or replaces) the site's public keys, making the site when new;
 * audited. *created tells which. */
int store_site_put_keys(const store_actor *who, const char *site_id, const char *jwks_json,
                        int *created);

/* Appends a verified report to the site's chain: only when the site's last
 * report is seq - 1 with hash prev (else LICD_ERR_REPORT_OUT_OF_ORDER,
 * nothing written). hash is this report's, figures_json what
 * last_report answers. */
int store_site_report_add(const char *vendor_id, const char *site_id, long long seq,
                          const char *prev, const char *hash, const char *report,
                          const char *claims_json, const char *figures_json);

#endif
