/* The vendor audit trail: who did what to which object, when, in which request. */
#ifndef LICD_STORE_AUDIT_H
#define LICD_STORE_AUDIT_H

#include <cjson/cJSON.h>

#include "store/page.h"

/* Who acts: the vendor, a label for the credential (its public key prefix)
 * and the request id. */
typedef struct {
    const char *vendor_id;
    const char *actor;
    const char *request_id;
} store_actor;

/* Records one action; call it inside the transaction that does the action.
 * details is a JSON object (NULL: {}), never text spliced together. */
int store_audit(const store_actor *who, const char *action, const char *object_type,
                const char *object_id, const cJSON *details);

/* One entry of the trail. */
typedef struct {
    long long id;               /* also its list position */
    char actor[64];
    char action[32];
    char object_type[32];
    char object_id[257];
    char request_id[72];
    char *details_json;         /* JSON object text, owned by the page */
    char at[40];
} store_audit_entry;

/* Up to limit entries of the vendor with id > after, oldest first, as a
 * page of store_audit_entry. */
int store_audit_list(const char *vendor_id, long long after, int limit, store_page *page);

#endif
