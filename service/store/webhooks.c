/* SQL for webhooks and their deliveries (see webhooks.h, migration 0016). */
#include "store/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/sql.h"
#include "util/json.h"

/* Over a webhook w; lists add its list position. */
enum { HOOK_ID, HOOK_URL, HOOK_EVENTS, HOOK_STATE, HOOK_LAST_STATUS, HOOK_LAST_ERROR,
       HOOK_LAST_ATTEMPT_AT, HOOK_FAILURES, HOOK_CREATED_AT, HOOK_SEQ };
#define HOOK_COLUMNS                                                                       \
    "w.id, w.url, array_to_json(w.events)::text, w.state, coalesce(w.last_status, -1),"     \
    " coalesce(w.last_error, ''), coalesce(" STORE_TIME("w.last_attempt_at") ", ''),"      \
    " w.failures, " STORE_TIME("w.created_at")
static const store_field hook_fields[] = {
    [HOOK_ID] = STORE_TEXT(store_webhook, id),
    [HOOK_URL] = STORE_TEXT(store_webhook, url),
    [HOOK_EVENTS] = STORE_DUP(store_webhook, events),
    [HOOK_STATE] = STORE_TEXT(store_webhook, state),
    [HOOK_LAST_STATUS] = STORE_INT(store_webhook, last_status),
    [HOOK_LAST_ERROR] = STORE_TEXT(store_webhook, last_error),
    [HOOK_LAST_ATTEMPT_AT] = STORE_TEXT(store_webhook, last_attempt_at),
    [HOOK_FAILURES] = STORE_INT64(store_webhook, failures),
    [HOOK_CREATED_AT] = STORE_TEXT(store_webhook, created_at),
};
static const store_rowtype hook_row = STORE_ROWTYPE(store_webhook, hook_fields);

/* The cursor starts at the vendor's latest published event. */
static const store_sql Q_WEBHOOK_CREATE = {
    "webhook_create",
    "WITH w AS (INSERT INTO webhooks (vendor_id, url, events, secret, delivered_seq)"
    "  VALUES ($1, $2, $3::text[], $4,"
    "  coalesce((SELECT max(seq) FROM events WHERE vendor_id = $1 AND seq IS NOT NULL), 0))"
    "  RETURNING *)"
    " SELECT " HOOK_COLUMNS " FROM w"};
static const store_sql Q_WEBHOOK_LIST = {
    "webhook_list", "SELECT " HOOK_COLUMNS ", w.seq FROM webhooks w"
                    " WHERE w.vendor_id = $1 AND w.seq > $2 ORDER BY w.seq LIMIT $3"};
static const store_sql Q_WEBHOOK_DELETE = {
    "webhook_delete", "DELETE FROM webhooks WHERE vendor_id = $1 AND id = $2::uuid RETURNING id"};

/* The due webhook that waited longest, claimed by a fresh claim id. */
enum { CLAIMED_ID, CLAIMED_CLAIM, CLAIMED_URL, CLAIMED_SECRET, CLAIMED_FAILURES,
       CLAIMED_VENDOR_ID, CLAIMED_DELIVERED, CLAIMED_EVENTS };
static const store_sql Q_DELIVERY_CLAIM = {
    "delivery_claim",
    "WITH due AS (SELECT w.id FROM webhooks w"
    "  WHERE w.state = 'active' AND w.next_attempt_at <= now()"
    "  AND (w.claimed_until IS NULL OR w.claimed_until < now())"
    "  AND EXISTS (SELECT 1 FROM events e WHERE e.vendor_id = w.vendor_id"
    "   AND e.seq > w.delivered_seq AND e.type = ANY (w.events))"
    "  ORDER BY w.next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " UPDATE webhooks k SET claim = gen_random_uuid(),"
    "  claimed_until = now() + make_interval(secs => $1::bigint)"
    " FROM due WHERE k.id = due.id"
    " RETURNING k.id, k.claim, k.url, k.secret, k.failures, k.vendor_id, k.delivered_seq,"
    " k.events::text"};
static const store_sql Q_DELIVERY_EVENTS = {
    "delivery_events", "SELECT " STORE_EVENT_COLUMNS " FROM events WHERE vendor_id = $1"
                       " AND seq > $2 AND type = ANY ($3::text[]) ORDER BY seq LIMIT $4"};
static const store_sql Q_DELIVERY_DONE = {
    "delivery_done",
    "UPDATE webhooks SET delivered_seq = greatest(delivered_seq, $3::bigint),"
    " last_status = $4, last_error = NULL, last_attempt_at = now(), failures = 0,"
    " failing_since = NULL, claimed_until = now() + make_interval(secs => $5::bigint)"
    " WHERE id = $1 AND claim = $2 RETURNING 1"};
/* The wait is computed from the failures before this one: 1 s, 2 s, 4 s ... */
static const store_sql Q_DELIVERY_FAILED = {
    "delivery_failed",
    "UPDATE webhooks SET failures = failures + 1,"
    " failing_since = coalesce(failing_since, now()), last_status = $3, last_error = $4,"
    " last_attempt_at = now(), next_attempt_at = now() + make_interval(secs =>"
    "  least(power(2, least(failures, 40)), $5::float8)),"
    " state = CASE WHEN coalesce(failing_since, now())"
    "  <= now() - make_interval(secs => $6::bigint) THEN 'dead' ELSE state END,"
    " claim = NULL, claimed_until = NULL"
    " WHERE id = $1 AND claim = $2"};
static const store_sql Q_DELIVERY_RELEASE = {
    "delivery_release",
    "UPDATE webhooks SET claim = NULL, claimed_until = NULL WHERE id = $1 AND claim = $2"};

struct create_ctx {
    const store_actor *who;
    const char *const *params;
    const cJSON *details;
    store_webhook *out;
};

static int create_tx(void *p)
{
    struct create_ctx *c = p;
    int rc = store_fetch_row(&Q_WEBHOOK_CREATE, 4, c->params, 0, &hook_row, c->out);
    return rc != LICD_OK ? rc : store_audit(c->who, "create", "webhook", c->out->id, c->details);
}

int store_webhook_create(const store_actor *who, const char *url, const char *const *types,
                         size_t n, store_webhook *out, char *secret)
{
    char hex[65], *events = store_array_literal(types, n);
    const char *params[4] = {who->vendor_id, url, events, secret};
    /* The audit entry's details: the URL and the types. */
    cJSON *details = cJSON_CreateObject();
    struct create_ctx c = {who, params, details, out};
    int rc = events && details && cJSON_AddStringToObject(details, "url", url) &&
                     cJSON_AddItemToObject(details, "events",
                                           cJSON_CreateStringArray(types, (int)n))
                 ? crypto_random_hex(32, hex)
                 : LICD_ERR_NOMEM;
    /* What committed before is published first, so the cursor passes it. */
    if (rc == LICD_OK && (rc = store_events_publish_all()) == LICD_OK) {
        snprintf(secret, STORE_WEBHOOK_SECRET_LEN, "whsec_%s", hex);
        rc = store_tx(create_tx, &c);
    }
    explicit_bzero(hex, sizeof hex);
    cJSON_Delete(details);
    free(events);
    return rc;
}

int store_webhook_list(const char *vendor_id, long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_WEBHOOK_LIST, 3, params, &hook_row, limit, HOOK_SEQ, page);
}

struct delete_ctx {
    const store_actor *who;
    const char *webhook_id;
};

static int delete_tx(void *p)
{
    struct delete_ctx *c = p;
    const char *params[2] = {c->who->vendor_id, c->webhook_id};
    PGresult *res = NULL;
    int rc = store_exec_row(&Q_WEBHOOK_DELETE, 2, params, 0, &res);
    PQclear(res);
    return rc != LICD_OK ? rc : store_audit(c->who, "delete", "webhook", c->webhook_id, NULL);
}

int store_webhook_delete(const store_actor *who, const char *webhook_id)
{
    struct delete_ctx c = {who, webhook_id};
    if (!json_is_uuid(webhook_id))
        return LICD_ERR_NOT_FOUND;
    return store_tx(delete_tx, &c);
}

void store_delivery_clear(store_delivery *d) { store_page_free(&d->events); }

int store_delivery_claim(int claim_s, int batch, store_delivery *out)
{
    char secs[16], lim[16], after[24];
    const char *params[1] = {secs};
    const char *next[4] = {NULL, after, NULL, lim};
    PGresult *res = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    snprintf(secs, sizeof secs, "%d", claim_s);
    snprintf(lim, sizeof lim, "%d", batch);
    if ((rc = store_exec_row(&Q_DELIVERY_CLAIM, 1, params, 0, &res)) != LICD_OK)
        return rc;
    store_col_copy(res, 0, CLAIMED_ID, out->webhook_id, sizeof out->webhook_id);
    store_col_copy(res, 0, CLAIMED_CLAIM, out->claim, sizeof out->claim);
    store_col_copy(res, 0, CLAIMED_URL, out->url, sizeof out->url);
    store_col_copy(res, 0, CLAIMED_SECRET, out->secret, sizeof out->secret);
    out->failures = store_col_int(res, 0, CLAIMED_FAILURES);
    snprintf(after, sizeof after, "%lld", store_col_int(res, 0, CLAIMED_DELIVERED));
    next[0] = store_col_str(res, 0, CLAIMED_VENDOR_ID);
    next[2] = store_col_str(res, 0, CLAIMED_EVENTS);
    rc = store_fetch_all(&Q_DELIVERY_EVENTS, 4, next, &store_event_row, &out->events);
    PQclear(res);
    if (rc != LICD_OK)
        store_delivery_release(out);
    return rc;
}

int store_delivery_done(const store_delivery *d, long long event_id, int status, int claim_s)
{
    char id[24], st[16], secs[16];
    const char *params[5] = {d->webhook_id, d->claim, id, st, secs};
    PGresult *res = NULL;
    int rc;
    snprintf(id, sizeof id, "%lld", event_id);
    snprintf(st, sizeof st, "%d", status);
    snprintf(secs, sizeof secs, "%d", claim_s);
    rc = store_exec_row(&Q_DELIVERY_DONE, 5, params, 0, &res);
    PQclear(res);
    return rc;
}

int store_delivery_failed(const store_delivery *d, int status, const char *error,
                          long backoff_max, long dead_after)
{
    char st[16], max[24], dead[24];
    const char *params[6] = {d->webhook_id, d->claim, st, error, max, dead};
    snprintf(st, sizeof st, "%d", status);
    snprintf(max, sizeof max, "%ld", backoff_max);
    snprintf(dead, sizeof dead, "%ld", dead_after);
    return store_run(&Q_DELIVERY_FAILED, 6, params);
}

int store_delivery_release(const store_delivery *d)
{
    const char *params[2] = {d->webhook_id, d->claim};
    return store_run(&Q_DELIVERY_RELEASE, 2, params);
}
