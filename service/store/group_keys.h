/* Group keys of customers (the virtual-environment model): creating,
 * listing, reading, changing and revoking them, finding one by the key a
 * client presents, emptying its link, and the activation that get_key
 * performs with it in one transaction. */
#ifndef LICD_STORE_GROUP_KEYS_H
#define LICD_STORE_GROUP_KEYS_H

#include <time.h>

#include "crypto/apikey.h"
#include "domain/group.h"
#include "domain/update_password.h"
#include "store/audit.h"
#include "store/grants.h"
#include "store/page.h"
#include "store/products.h"
#include "store/usage.h"
#include "util/error.h"

#define STORE_ID_MAX 256           /* app, node and container ids */
#define STORE_LINK_VALUE_MAX 256

/* One group key as stored (never the key itself). */
typedef struct {
    long long id;
    char vendor_id[37];
    char customer_id[37];
    char prefix[APIKEY_PREFIX_LEN];
    char scheme[65];
    char link_type[16];
    char link_value[STORE_LINK_VALUE_MAX + 1];  /* "" when empty */
    char expires[40];                           /* RFC 3339; "" when it never expires */
    char created_at[40];
    char revoked_at[40];                        /* "" while not revoked */
    char on_over_limit[8];                      /* "refuse" or "report" (domain/usage.h) */
    char *pool_json;       /* {"<product code>": quota per node, ...}; malloc'd */
    char *containers_json; /* {"<product code>": quota per container} of the products that have
                              one; malloc'd */
    char *limits_json;     /* {"<product code>": {"<metric>": limit}}; malloc'd */
    long long activations; /* unexpired, unblocked activation keys (vendor reads; 0 for
                              store_group_key_by_key) */
} store_group_key;

/* Frees what the key owns; safe to call twice. */
void store_group_key_clear(store_group_key *k);

/* What a vendor gives to create a group key (validated by the caller, but
 * for what only the database knows: the customer, the product codes, the
 * CIDR). */
typedef struct {
    const char *customer_id;
    const char *scheme;
    const char *pool_json;       /* {"<product code>": quota per node}, at least one */
    const char *containers_json; /* {"<product code of the pool>": quota per container} */
    const char *link_type;       /* one of domain_link_types */
    const char *link_value;      /* NULL: empty, the first activation binds it */
    const char *limits_json;     /* {"<product code>": {"<metric>": number}} */
    const char *on_over_limit;   /* one of domain_over_limit_names */
    const char *expires;         /* RFC 3339, or NULL for never */
} store_group_key_new;

/* Creates a group key of who->vendor_id with a fresh key (written to key,
 * never stored), audited in the same transaction. Errors: LICD_ERR_NOT_FOUND
 * when the customer is not the vendor's; LICD_ERR_INVALID_FIELD, with
 * detail, for a product code the vendor does not have or an ip_range value
 * PostgreSQL cannot read as a CIDR. out is cleared with store_group_key_clear. */
int store_group_key_create(const store_actor *who, const store_group_key_new *in,
                           store_group_key *out, char key[APIKEY_PLAIN_LEN],
                           char detail[LICD_DETAIL_MAX]);

/* The group key a client presents; LICD_ERR_UNKNOWN_GROUP_KEY for a
 * malformed or unknown key. */
int store_group_key_by_key(const char *key, store_group_key *out);

/* Every function below names one of the vendor's group keys by the key
 * itself or by its public prefix; out is the key after the call (clear it
 * with store_group_key_clear). Errors: LICD_ERR_NOT_FOUND (unknown, or
 * another vendor's), LICD_ERR_CONFLICT (a prefix that several of the
 * vendor's keys share). */

/* Reads the key. */
int store_group_key_get(const char *vendor_id, const char *key_or_prefix, store_group_key *out);

/* Up to limit of the vendor's group keys with id > after (of one customer
 * when customer_id is not NULL), in id order, as a page of store_group_key.
 * LICD_ERR_NOT_FOUND when the customer is not the vendor's. */
int store_group_key_list(const char *vendor_id, const char *customer_id, long long after,
                         int limit, store_page *page);

/* Empties the link, audited as "relink". */
int store_group_key_relink(const store_actor *who, const char *key_or_prefix,
                           store_group_key *out);

/* What a vendor changes in a group key; NULL members are kept. */
typedef struct {
    int set_expires;             /* expires is given: */
    const char *expires;         /*   RFC 3339, or NULL for never */
    const char *pool_json;       /* {"<product code>": quota per node} for the products named */
    const char *containers_json; /* {"<product code>": quota per container, or null: none} */
    const char *limits_json;     /* the new limits, replacing them all */
    const char *on_over_limit;   /* one of domain_over_limit_names */
} store_group_key_patch;

/* Changes the key, audited as "update" with what changed. A product code
 * that is not in the key's pool: LICD_ERR_INVALID_FIELD naming the member
 * ("quota_per_node.<code> ..."), nothing changed. */
int store_group_key_update(const store_actor *who, const char *key_or_prefix,
                           const store_group_key_patch *in, store_group_key *out,
                           char detail[LICD_DETAIL_MAX]);

/* Revokes the key: every later activation is refused. Audited as "revoke"
 * the first time; revoking it again changes nothing. */
int store_group_key_revoke(const store_actor *who, const char *key_or_prefix,
                           store_group_key *out);

/* An activation request, validated by the caller. */
typedef struct {
    const store_group_key *key;
    const char *scheme, *product, *app_id, *node_id;
    const char *container_id, *domain;  /* NULL when not sent */
    const char *ip;                     /* the address the request came from; NULL: unknown */
    const char *claimed_ip;             /* the body's "ip", kept as evidence; NULL: not sent */
    const char *update_password;        /* NULL when none was presented */
    long ttl;                           /* seconds the activation key is valid */
} store_activation_request;

/* What the activation did. On GROUP_ISSUE: the licence (the one
 * domain_group_license_for chose: license_id kept for the same key,
 * product, app and node, and along each chain of update passwords), its
 * product, the new update password and what the presented one became. On
 * GROUP_OVER_LIMIT: the metric over its limit. */
typedef struct {
    domain_group_verdict verdict;
    store_license license;
    store_product product;              /* clear with store_product_clear */
    char update_password[UPW_LEN + 1];
    const char *presented;              /* "used", "cloned", or NULL when none */
    store_usage_excess excess;
    char detail[LICD_DETAIL_MAX];
} store_activation;

/* Checks and activates in one transaction, serialised per group key,
 * product and node so that concurrent activations never exceed the quotas:
 * finds the presented password, gathers the facts, lets domain_group_decide
 * judge, and only on GROUP_ISSUE binds an empty link, records the
 * activation, marks the presented password and issues a new one. A refusal
 * changes nothing. Errors: LICD_ERR_UNKNOWN_GROUP_KEY (deleted meanwhile),
 * LICD_ERR_UPDATE_PASSWORD_UNKNOWN (out->detail says why; checked after
 * every refusal). */
int store_group_activate(const store_activation_request *r, store_activation *out);

#endif
