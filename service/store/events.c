/* SQL for the events outbox (see events.h and migration 0016). */
#include "store/events.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/sql.h"

#define PUBLISH_BATCH 10000

static const store_field event_fields[] = {
    [EVENT_ID] = STORE_INT64(store_event, event_id),
    [EVENT_TYPE] = STORE_TEXT(store_event, type),
    [EVENT_CREATED_AT] = STORE_TEXT(store_event, created_at),
    [EVENT_CREATED_EPOCH] = STORE_DOUBLE(store_event, created_epoch),
    [EVENT_DATA] = STORE_DUP(store_event, data),
};
const store_rowtype store_event_row = STORE_ROWTYPE(store_event, event_fields);

enum { PUBLISHED_COUNT };
static const store_sql Q_EVENTS_PUBLISH = {
    "events_publish", "SELECT licd_publish_events($1::boolean, $2::integer)"};
static const store_sql Q_EVENT_LIST = {
    "event_list", "SELECT " STORE_EVENT_COLUMNS " FROM events"
                  " WHERE vendor_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"};
static const store_sql Q_EVENT_SEAT_DENIED = {
    "event_seat_denied",
    "INSERT INTO events (vendor_id, type, data) VALUES ($1::uuid, 'seat.denied',"
    " jsonb_build_object('product', $3::text, 'client_id', $4::text,"
    " 'customer_id', $2::text, 'reason', $5::text))"};
static const store_sql Q_EVENTS_PURGE = {
    "events_purge",
    STORE_PURGE("events",
                "seq IS NOT NULL AND created_at < now() - make_interval(secs => $1::bigint)"
                " AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.vendor_id = events.vendor_id"
                "  AND w.state = 'active' AND w.delivered_seq < events.seq"
                "  AND events.type = ANY (w.events))",
                "ORDER BY created_at")};

int store_events_publish(int wait, int batch, long long *published)
{
    char b[16];
    const char *params[2] = {wait ? "true" : "false", b};
    PGresult *res = NULL;
    int rc;
    snprintf(b, sizeof b, "%d", batch);
    rc = store_exec(&Q_EVENTS_PUBLISH, 2, params, 0, &res);
    if (published)
        *published = rc == LICD_OK ? store_col_int(res, 0, PUBLISHED_COUNT) : 0;
    PQclear(res);
    return rc;
}

int store_events_publish_all(void)
{
    long long n = 0;
    int rc;
    /* Batches until one falls short. */
    do
        rc = store_events_publish(1, PUBLISH_BATCH, &n);
    while (rc == LICD_OK && n == PUBLISH_BATCH);
    return rc;
}

int store_event_list(const char *vendor_id, long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    int rc = store_events_publish_all();
    if (rc != LICD_OK)
        return rc;
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_EVENT_LIST, 3, params, &store_event_row, limit, EVENT_ID, page);
}

int store_event_seat_denied(const char *vendor_id, const char *customer_id, const char *product,
                            const char *client_id, const char *reason)
{
    const char *params[5] = {vendor_id, customer_id, product, client_id, reason};
    return store_run(&Q_EVENT_SEAT_DENIED, 5, params);
}

int store_events_purge(long retention, long long *purged)
{
    char r[24];
    const char *params[1] = {r};
    snprintf(r, sizeof r, "%ld", retention);
    return store_purge(&Q_EVENTS_PURGE, 1, params, purged);
}
