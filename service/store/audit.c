/* SQL for the vendor audit trail. */
#include "store/audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/sql.h"

static const store_sql Q_AUDIT_ADD = {
    "audit_add", "INSERT INTO audit (vendor_id, actor, action, object_type, object_id,"
                 " request_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"};

enum { AUDIT_ID, AUDIT_ACTOR, AUDIT_ACTION, AUDIT_OBJECT_TYPE, AUDIT_OBJECT_ID,
       AUDIT_REQUEST_ID, AUDIT_DETAILS, AUDIT_AT };
static const store_sql Q_AUDIT_LIST = {
    "audit_list", "SELECT id, actor, action, object_type, object_id, request_id, details,"
                  " " STORE_TIME("at") " FROM audit WHERE vendor_id = $1 AND id > $2"
                  " ORDER BY id LIMIT $3"};
static const store_field audit_fields[] = {
    [AUDIT_ID] = STORE_INT64(store_audit_entry, id),
    [AUDIT_ACTOR] = STORE_TEXT(store_audit_entry, actor),
    [AUDIT_ACTION] = STORE_TEXT(store_audit_entry, action),
    [AUDIT_OBJECT_TYPE] = STORE_TEXT(store_audit_entry, object_type),
    [AUDIT_OBJECT_ID] = STORE_TEXT(store_audit_entry, object_id),
    [AUDIT_REQUEST_ID] = STORE_TEXT(store_audit_entry, request_id),
    [AUDIT_DETAILS] = STORE_DUP(store_audit_entry, details_json),
    [AUDIT_AT] = STORE_TEXT(store_audit_entry, at),
};
static const store_rowtype audit_row = STORE_ROWTYPE(store_audit_entry, audit_fields);

int store_audit(const store_actor *who, const char *action, const char *object_type,
                const char *object_id, const cJSON *details)
{
    char *text = details ? cJSON_PrintUnformatted(details) : NULL;
    const char *params[7] = {who->vendor_id, who->actor,      action, object_type,
                             object_id,      who->request_id, text ? text : "{}"};
    int rc = details && !text ? LICD_ERR_NOMEM : store_run(&Q_AUDIT_ADD, 7, params);
    free(text);
    return rc;
}

int store_audit_list(const char *vendor_id, long long after, int limit, store_page *page)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit + 1);
    return store_fetch_page(&Q_AUDIT_LIST, 3, params, &audit_row, limit, AUDIT_ID, page);
}
