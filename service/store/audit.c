/* SQL for the vendor audit trail. */
#include "store/audit.h"

#include <stdio.h>

#include "store/db.h"

int store_audit(const store_actor *who, const char *action, const char *object_type,
                const char *object_id, const char *details)
{
    const char *params[7] = {who->vendor_id, who->actor,  action, object_type,
                             object_id,      who->request_id, details ? details : "{}"};
    return store_run("INSERT INTO audit (vendor_id, actor, action, object_type, object_id,"
                     " request_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
                     7, params);
}

int store_audit_list(const char *vendor_id, long long after, int limit, PGresult **res)
{
    char a[24], l[16];
    const char *params[3] = {vendor_id, a, l};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit);
    return store_exec("SELECT id, actor, action, object_type, object_id, request_id, details,"
                      " " STORE_TIME("at") " FROM audit WHERE vendor_id = $1 AND id > $2"
                      " ORDER BY id LIMIT $3",
                      3, params, 1, res);
}
