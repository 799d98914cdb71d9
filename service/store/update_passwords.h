/* Update passwords of group-key activations: the server secret their static
 * parts derive from, issuing, presenting (used, or cloned with evidence), the
 * vendor's moderation queue and its resolution, and the purge of old ones. */
#ifndef LICD_STORE_UPDATE_PASSWORDS_H
#define LICD_STORE_UPDATE_PASSWORDS_H

#include "crypto/apikey.h"
#include "domain/update_password.h"
#include "store/audit.h"
#include "store/group_keys.h"
#include "store/page.h"
#include "util/error.h"

/* The static part of every update password of this group key and node:
 * base32 of the first 16 bytes of HMAC-SHA256(server secret, "<key id>/<node>").
 * The secret is made once with random bytes, kept in the database (so every
 * licd node derives the same parts) and cached in the process. */
int store_upw_static(long long group_key_id, const char *node_id, char out[UPW_PART_LEN + 1]);

/* A presented password, found among those its group key issued. */
typedef struct {
    long long id;
    domain_upw_status status;
    char license_id[32];        /* the licence it was issued with */
} store_upw_found;

/* Inside the activation's transaction: finds the presented password among
 * those group key issued and locks it. A malformed password, one whose
 * dynamic part the key never issued (or that was purged), or one whose static
 * part is not the one it was issued with: LICD_ERR_UPDATE_PASSWORD_UNKNOWN,
 * with a detail (naming the node the static part belongs to, if any). */
int store_upw_find(long long group_key_id, const char *presented, store_upw_found *out,
                   char detail[LICD_DETAIL_MAX]);

/* The request a password is presented in (ip: the address it came from,
 * claimed_ip: the one its body named), and the licence issued in answer. */
typedef struct {
    const char *ip, *claimed_ip, *node_id, *app_id, *container_id, *domain, *license_id;
} store_upw_evidence;

/* Inside the activation's transaction: marks the found password used (the
 * first presentation) or cloned (any later one) and records the request as
 * evidence; *became is the new status. */
int store_upw_present(const store_upw_found *p, const store_upw_evidence *e,
                      domain_upw_status *became);

/* Whom a new password is issued to. */
typedef struct {
    const char *vendor_id;
    long long group_key_id, product_id;
    const char *node_id, *app_id, *license_id;
    const char *static_part;
} store_upw_owner;

/* Inside the activation's transaction: issues a new password (the static
 * part and 128 fresh random bits); only the SHA-256 of its dynamic part is
 * stored. out gets "STATIC-DYNAMIC". */
int store_upw_issue(const store_upw_owner *o, char out[UPW_LEN + 1]);

/* One password as the moderation queue shows it. */
typedef struct {
    long long id;                                 /* also its list position */
    char group_key_prefix[APIKEY_PREFIX_LEN];
    char product[STORE_CODE_MAX + 1];
    char node_id[STORE_ID_MAX + 1], app_id[STORE_ID_MAX + 1];
    char static_part[UPW_PART_LEN + 1];
    char status[16];
    char license_id[32];                          /* issued with the password */
    char issued_at[40], first_used_at[40], cloned_at[40], resolved_at[40]; /* "" when not yet */
    char *evidence_json;        /* JSON array of the presentations (malloc'd) */
    long long evidence_count;
} store_upw_item;

/* Up to limit passwords of the vendor in that status with id > after,
 * oldest first, as a page of store_upw_item. */
int store_upw_list(const char *vendor_id, domain_upw_status status, long long after, int limit,
                   store_page *page);
/* The vendor's password id; LICD_ERR_NOT_FOUND. out is cleared with
 * store_upw_item_clear. */
int store_upw_get(const char *vendor_id, const char *id, store_upw_item *out);
/* Frees what the item owns; safe to call twice. */
void store_upw_item_clear(store_upw_item *u);

/* Resolves the vendor's cloned password id, audited in the same
 * transaction: dismissed, or blocked — then the licences issued in answer
 * to its later presentations (the suspected copies) are blocked, never the
 * licence of its first presenter. *blocked_json (malloc'd, caller frees) is
 * the JSON array of the licence ids blocked. LICD_ERR_NOT_FOUND for unknown
 * ids and other vendors' alike; LICD_ERR_CONFLICT when it is not awaiting
 * moderation. */
int store_upw_resolve(const store_actor *who, const char *id, int block, char **blocked_json);

/* Deletes passwords issued more than retention seconds ago, except cloned
 * ones awaiting moderation; *deleted counts them. */
int store_upw_purge(long retention, long long *deleted);

#endif
