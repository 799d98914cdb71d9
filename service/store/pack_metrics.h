/* Every pack's figures for /metrics, read in one statement: seats in use
 * and in all, refusals for want of a seat, temporary licences and the peak
 * (kept in the pack's row: migration 0014). */
#ifndef LICD_STORE_PACK_METRICS_H
#define LICD_STORE_PACK_METRICS_H

#include "store/packs.h"
#include "store/page.h"

typedef struct {
    char vendor_id[37];
    char pack_id[STORE_PACK_ID_MAX + 1];
    long long in_use;    /* the pack's assigned as GET /v1/packs tells it (sites' seats too) */
    long long total;     /* its quantity */
    long long denials;   /* refusals counted against it */
    long long temporary; /* temporary licences counted against it */
    long long peak;      /* the highest in_use it has had (lapsed, unreleased leases too) */
} store_pack_figures;

/* Every pack of every vendor, by vendor and pack id, as a page of
 * store_pack_figures (store_page_free). A concurrent pack whose leases may
 * have lapsed counts its live ones, without releasing anything. */
int store_pack_metrics(store_page *page);

#endif
