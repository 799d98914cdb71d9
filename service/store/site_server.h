/* The store of a site server (licd with LICD_SITE_ID): allocations of the
 * vendor installed as packs of this database, and the chain of usage
 * reports it exports. The vendor, customer and product come with the first
 * allocation that names them, under the vendor's own ids. */
#ifndef LICD_STORE_SITE_SERVER_H
#define LICD_STORE_SITE_SERVER_H

#include <stddef.h>
#include <time.h>

/* One verified allocation document's claims. */
typedef struct {
    const char *vendor_id, *customer_id;
    const char *product, *product_name, *version;
    const char *pack_id, *type, *platform;
    const char *features_json;   /* JSON array text */
    const char *expires;         /* RFC 3339, or NULL for never */
    long long quantity, sequence;
    const char *file;            /* the document itself */
} store_site_import_in;

/* Installs the allocation in one transaction: the pack gets the quantity
 * (a lower one takes effect as seats come back), the vendor, customer and
 * product are made when new; serving processes are told at commit (NOTIFY).
 * When the customer is new, its key is written to customer_key and
 * *customer_created set. LICD_ERR_CONFLICT when the pack's last imported
 * sequence (in *last_seq) is not lower than in->sequence: nothing changes. */
int store_site_import(const store_site_import_in *in, char *customer_key, size_t key_len,
                      int *customer_created, long long *last_seq);

/* The next usage report's figures, from the end of the last one (or the
 * first import) to now. */
typedef struct {
    long long seq;           /* 1, 2, ... */
    char prev[64];           /* the last report's hash, "" before the first */
    time_t from, to;
    long long peak_in_use;   /* per pack, summed: the most seats in use at once this period */
    long long denials;       /* requests refused a seat this period */
    long long grants;        /* licences and leases handed out this period */
    long long denials_total; /* where the next period's denials start */
} store_usage_period;

int store_site_usage_period(store_usage_period *out);
/* Records the signed report of period p (hash: base64url SHA-256 of it),
 * and starts the next period's peaks from the seats in use now.
 * LICD_ERR_CONFLICT when another export took that seq meanwhile. */
int store_site_usage_saved(const store_usage_period *p, const char *report, const char *hash);

#endif
