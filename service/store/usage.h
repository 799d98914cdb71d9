/* Usage reported under licences and activation keys: the resource limits a
 * licence carries, storing a report's records in one transaction, and the
 * vendor's per-metric aggregates. */
#ifndef LICD_STORE_USAGE_H
#define LICD_STORE_USAGE_H

#include <stddef.h>

#include "store/page.h"

#define STORE_METRIC_MAX 64

/* The resource limits of the vendor's licence license_id as a JSON object
 * text {"<metric>": limit, ...} (malloc'd, caller frees): an activation
 * key's come from its group key's limits for its product, a pack licence's
 * from the pack's attributes.limits; "{}" when there are none.
 * LICD_ERR_NOT_FOUND when the vendor has no such licence. */
int store_usage_limits(const char *vendor_id, const char *license_id, char **limits_json);

/* The first of a licence's resource limits its usage is over. */
typedef struct {
    char metric[STORE_METRIC_MAX + 1];
    double value, limit;   /* the latest value reported, and the limit */
} store_usage_excess;

/* Whether the vendor's licence license_id is over one of the resource
 * limits store_usage_limits gives for it: the latest value reported for a
 * metric (by its time, then arrival) above the metric's limit. *over is 1
 * and excess names the first such metric (by name), else 0. A report within
 * the limit, or a raised limit, ends it. For get_key of either shape, inside
 * its transaction or not; the caller judges with domain_over_limit_refuses. */
int store_usage_over_limit(const char *vendor_id, const char *license_id, int *over,
                           store_usage_excess *excess);

/* Stores a report under the vendor's licence, all or nothing, in one
 * transaction: each of the nbatches texts is a JSON array of records
 * {"metric": text, "value": number, "at": epoch seconds or null (now)}.
 * over_limit (NULL: none) is a JSON array [{"metric","value","limit"}] of
 * the limits the report goes over: a usage.over_limit event each, in the
 * same transaction. */
int store_usage_insert(const char *vendor_id, const char *license_id,
                       const char *const *batches, size_t nbatches, const char *over_limit);

/* 1 in *known when the vendor has a licence (pack, temporary or activation) license_id. */
int store_usage_license_known(const char *vendor_id, const char *license_id, int *known);

/* One metric's usage over a range. */
typedef struct {
    char metric[STORE_METRIC_MAX + 1];
    long long count;
    double sum, max, latest;
    char first_at[40], last_at[40];
} store_usage_metric;

/* The usage of the vendor's licence per metric, in metric order, between
 * from (inclusive) and to (exclusive), each an RFC 3339 text or NULL for
 * unbounded: a page of store_usage_metric (all of them). */
int store_usage_aggregate(const char *vendor_id, const char *license_id, const char *from,
                          const char *to, store_page *page);

#endif
