/* What get_key does for a client, decided from the facts the store found:
 * recover the licence it holds, take a seat, hand out or return its one
 * temporary licence, or refuse. Pure functions, no I/O. */
#ifndef LICD_DOMAIN_GRANT_H
#define LICD_DOMAIN_GRANT_H

/* The client's licences for one product, as the store found them. */
typedef struct {
    int has_permanent;       /* an active, non-temporary licence */
    int permanent_blocked;
    int permanent_expired;   /* its pack has expired */
    int has_temporary;       /* the one temporary licence it was ever given */
    int temporary_blocked;
    int temporary_retired;   /* replaced by a permanent licence since */
    int temporary_expired;
} domain_client_facts;

typedef enum {
    GRANT_RETURN_PERMANENT,  /* 200: the licence it holds (a lost licence is recovered) */
    GRANT_TRY_SEAT,          /* take a seat from a pack */
    GRANT_REFUSE_BLOCKED     /* 403 license_blocked */
} domain_grant_first;

typedef enum {
    GRANT_RETURN_TEMPORARY,  /* 200: its temporary licence, as is */
    GRANT_ISSUE_TEMPORARY,   /* 201: its first and only temporary licence */
    GRANT_TEMPORARY_EXPIRED, /* 403 temporary_license_expired */
    GRANT_NO_MATCHING_PACK   /* 403 no_matching_pack */
} domain_grant_fallback;

/* Before any seat is taken: a blocked licence of this client stops
 * everything; a good permanent licence is returned as it is. */
domain_grant_first domain_grant_first_step(const domain_client_facts *f);

/* When no seat was free: the temporary licence decides, and without one,
 * whether the customer has a pack of the product at all. */
domain_grant_fallback domain_grant_no_seat(const domain_client_facts *f, int customer_has_pack);

#endif
