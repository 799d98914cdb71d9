/* What get_key does with a group key, decided from the facts the store found
 * (under the lock of the key, product and node): which licence a request
 * continues, the checks in their fixed order, each with its own refusal, and
 * the quotas per node and per container. Pure functions. */
#ifndef LICD_DOMAIN_GROUP_H
#define LICD_DOMAIN_GROUP_H

#include "domain/link.h"
#include "domain/usage.h"

/* The licence an activation answers with. Each update password is issued
 * with a licence and continues that licence's chain when it is presented
 * for the first time; presented again from the same app and node, the
 * presenter is a copy of the chain's holder and starts a chain of its own,
 * so that blocking the copy never blocks the original. */
typedef enum {
    GROUP_LICENSE_ORIGINAL, /* the app's original licence on the node (made when it has none) */
    GROUP_LICENSE_CHAIN,    /* the licence the presented password was issued with */
    GROUP_LICENSE_COPY      /* a new licence, a copy of that one */
} domain_group_license;

/* presented: a password was presented and this key issued it; first_use:
 * this is its first presentation; same_holder: the licence it was issued
 * with is for this product, app and node. A password issued to another app
 * or node leaves the request on its own original licence. */
domain_group_license domain_group_license_for(int presented, int first_use, int same_holder);

/* The facts about one activation request. The key itself was found (an
 * unknown key is refused before any fact is gathered). */
typedef struct {
    int key_revoked;
    int key_expired;
    int scheme_matches;
    int product_in_group;
    domain_link_decision link;
    long quota;            /* instances allowed per node for the product */
    long other_holders;    /* other app ids holding an unexpired, unblocked activation key
                              on the node */
    int app_holds;         /* this app id holds an unexpired one on the node already, blocked or
                              not (asking again: not a new instance) */
    long container_quota;  /* instances allowed per container of a node; 0: no such quota */
    long container_other_holders; /* as other_holders, in the request's container */
    int container_app_holds;      /* as app_holds, in the request's container */
    int blocked;           /* the licence the request continues is blocked, or the password it
                              presented was resolved as copied (blocked) */
    int over_limit;        /* that licence's reported usage is over one of its limits */
    domain_over_limit on_over_limit;
} domain_group_facts;

typedef enum {
    GROUP_ISSUE,                 /* issue the activation key */
    GROUP_KEY_REVOKED,           /* 403 group_key_revoked */
    GROUP_KEY_EXPIRED,           /* 403 group_key_expired */
    GROUP_SCHEME_MISMATCH,       /* 403 scheme_mismatch */
    GROUP_PRODUCT_NOT_IN_GROUP,  /* 403 product_not_in_group */
    GROUP_LINK_MISMATCH,         /* 403 link_mismatch */
    GROUP_QUOTA_EXCEEDED,        /* 403 quota_exceeded (per node) */
    GROUP_CONTAINER_QUOTA_EXCEEDED, /* 403 quota_exceeded (per container) */
    GROUP_LICENSE_BLOCKED,       /* 403 license_blocked */
    GROUP_OVER_LIMIT             /* 403 over_limit */
} domain_group_verdict;

/* The first check that fails, in the order API.md gives, or GROUP_ISSUE. */
domain_group_verdict domain_group_decide(const domain_group_facts *f);

/* 1 when one more instance fits: an app that holds a key already is not a
 * new instance; a new one needs fewer than quota other holders. */
int domain_group_quota_allows(long quota, long other_holders, int app_holds);

#endif
