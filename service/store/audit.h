/* The vendor audit trail: who did what to which object, when, in which request. */
#ifndef LICD_STORE_AUDIT_H
#define LICD_STORE_AUDIT_H

#include <libpq-fe.h>

/* Who acts: the vendor, a label for the credential (its public key prefix)
 * and the request id. */
typedef struct {
    const char *vendor_id;
    const char *actor;
    const char *request_id;
} store_actor;

/* Records one action; call it inside the transaction that does the action.
 * details is a JSON object text or NULL. */
int store_audit(const store_actor *who, const char *action, const char *object_type,
                const char *object_id, const char *details);

/* Up to limit entries of the vendor with id > after, oldest first; columns:
 * id, actor, action, object_type, object_id, request_id, details, at. */
int store_audit_list(const char *vendor_id, long long after, int limit, PGresult **res);

#endif
