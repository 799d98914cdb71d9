/* Group-key activation decisions (see group.h). */
#include "domain/group.h"

domain_group_license domain_group_license_for(int presented, int first_use, int same_holder)
{
    if (!presented || !same_holder)
        return GROUP_LICENSE_ORIGINAL;
    return first_use ? GROUP_LICENSE_CHAIN : GROUP_LICENSE_COPY;
}

int domain_group_quota_allows(long quota, long other_holders, int app_holds)
{
    return app_holds || other_holders < quota;
}

/* The order is part of the contract: a client learns the first reason it is
 * refused, and the checks nearest the key (revoked, its life, its scheme,
 * its pool) come before those about the request (its link, the quotas of
 * the node and of the container) and before the licence itself (blocked,
 * then over its resource limits). */
domain_group_verdict domain_group_decide(const domain_group_facts *f)
{
    if (f->key_revoked)
        return GROUP_KEY_REVOKED;
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
    if (f->container_quota > 0 &&
        !domain_group_quota_allows(f->container_quota, f->container_other_holders,
                                   f->container_app_holds))
        return GROUP_CONTAINER_QUOTA_EXCEEDED;
    if (f->blocked)
        return GROUP_LICENSE_BLOCKED;
    if (domain_over_limit_refuses(f->on_over_limit, f->over_limit))
        return GROUP_OVER_LIMIT;
    return GROUP_ISSUE;
}
