/* get_key decisions (see grant.h). */
#include "domain/grant.h"

domain_grant_first domain_grant_first_step(const domain_client_facts *f)
{
    if ((f->has_permanent && f->permanent_blocked) || (f->has_temporary && f->temporary_blocked))
        return GRANT_REFUSE_BLOCKED;
    if (f->has_permanent && !f->permanent_expired)
        return GRANT_RETURN_PERMANENT;
    return GRANT_TRY_SEAT;
}

domain_grant_fallback domain_grant_no_seat(const domain_client_facts *f, int customer_has_pack)
{
    if (f->has_temporary) {
        /* One temporary licence per client, ever: once it has run out (or was
         * replaced by a permanent one that has since lapsed) none follows. */
        if (f->temporary_expired || f->temporary_retired)
            return GRANT_TEMPORARY_EXPIRED;
        return GRANT_RETURN_TEMPORARY;
    }
    return customer_has_pack ? GRANT_ISSUE_TEMPORARY : GRANT_NO_MATCHING_PACK;
}
