/* What get_key does with a group key, decided from the facts the store found
 * (under the lock of the key, product and node): the checks in their fixed
 * order, each with its own refusal, and the per-node quota. Pure functions. */
#ifndef LICD_DOMAIN_GROUP_H
#define LICD_DOMAIN_GROUP_H

#include "domain/link.h"

/* The facts about one activation request. The key itself was found (an
 * unknown key is refused before any fact is gathered). */
typedef struct {
    int key_expired;
    int scheme_matches;
    int product_in_group;
    domain_link_decision link;
    long quota;            /* instances allowed per node for the product */
    long other_holders;    /* other app ids holding an unexpired activation key on the node */
    int app_holds;         /* this app id holds one already (asking again) */
    int blocked;           /* this app's licence for the product on the node is blocked */
} domain_group_facts;

typedef enum {
    GROUP_ISSUE,                 /* issue the activation key */
    GROUP_KEY_EXPIRED,           /* 403 group_key_expired */
    GROUP_SCHEME_MISMATCH,       /* 403 scheme_mismatch */
    GROUP_PRODUCT_NOT_IN_GROUP,  /* 403 product_not_in_group */
    GROUP_LINK_MISMATCH,         /* 403 link_mismatch */
    GROUP_QUOTA_EXCEEDED,        /* 403 quota_exceeded */
    GROUP_LICENSE_BLOCKED        /* 403 license_blocked */
} domain_group_verdict;

/* The first check that fails, in the order API.md gives, or GROUP_ISSUE. */
domain_group_verdict domain_group_decide(const domain_group_facts *f);

/* 1 when one more instance fits: an app that holds a key already is not a
 * new instance; a new one needs fewer than quota other holders. */
int domain_group_quota_allows(long quota, long other_holders, int app_holds);

#endif
