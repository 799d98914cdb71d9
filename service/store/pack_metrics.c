/* SQL for the per-pack figures of /metrics (see pack_metrics.h). */
#include "store/pack_metrics.h"

#include "store/sql.h"

enum { FIG_VENDOR_ID, FIG_PACK_ID, FIG_IN_USE, FIG_TOTAL, FIG_DENIALS, FIG_TEMPORARY, FIG_PEAK };
static const store_field figure_fields[] = {
    [FIG_VENDOR_ID] = STORE_TEXT(store_pack_figures, vendor_id),
    [FIG_PACK_ID] = STORE_TEXT(store_pack_figures, pack_id),
    [FIG_IN_USE] = STORE_INT64(store_pack_figures, in_use),
    [FIG_TOTAL] = STORE_INT64(store_pack_figures, total),
    [FIG_DENIALS] = STORE_INT64(store_pack_figures, denials),
    [FIG_TEMPORARY] = STORE_INT64(store_pack_figures, temporary),
    [FIG_PEAK] = STORE_INT64(store_pack_figures, peak),
};
static const store_rowtype figure_row = STORE_ROWTYPE(store_pack_figures, figure_fields);

/* In use as the API tells it: assigned plus the seats allocated to sites.
 * A concurrent pack past its next_lapse_at may still count lapsed leases in
 * assigned (they are released lazily, leases.c): its live ones are counted
 * instead, through the leases_live index. */
static const store_sql Q_PACK_METRICS = {
    "pack_metrics",
    "SELECT k.vendor_id, k.pack_id,"
    " CASE WHEN k.type = 'concurrent' AND k.next_lapse_at <= now()"
    "  THEN (SELECT count(*) FROM leases l WHERE l.pack_id = k.id AND l.released_at IS NULL"
    "   AND l.expires_at > now())"
    "  ELSE k.assigned END + k.allocated,"
    " k.quantity, k.denials, k.temporary_issued, k.peak_in_use"
    " FROM packs k ORDER BY k.vendor_id, k.pack_id"};

int store_pack_metrics(store_page *page)
{
    return store_fetch_all(&Q_PACK_METRICS, 0, NULL, &figure_row, page);
}
