/* Group-key activation decisions (see group.h). */
#include "domain/group.h"

int domain_group_quota_allows(long quota, long other_holders, int app_holds)
{
    return app_holds || other_holders < quota;
}

/* The order is part of the contract: a client learns the first reason it is
 * refused, and the checks nearest the key (its life, its scheme, its pool)
 * come before those about the request (its link, the node's quota) and
 * before the licence itself. */
domain_group_verdict domain_group_decide(const domain_group_facts *f)
{
    if (f->key_expired)
        return GROUP_KEY_EXPIRED;
    if (!f->scheme_matches)
        return GROUP_SCHEME_MISMATCH;
    if (!f->product_in_group)
        return GROUP_PRODUCT_NOT_IN_GROUP;
    if (f->link == LINK_MISMATCH)
        return GROUP_LINK_MISMATCH;
    if (!domain_group_quota_allows(f->quota, f->other_holders, f->app_holds))
        return GROUP_QUOTA_EXCEEDED;
    if (f->blocked)
        return GROUP_LICENSE_BLOCKED;
    return GROUP_ISSUE;
}
