/* Whether a licence can be upgraded to a target version, and why not. Pure. */
#ifndef LICD_DOMAIN_UPGRADE_H
#define LICD_DOMAIN_UPGRADE_H

/* A pack licence or an activation key of a group key, expired or not. */
typedef struct {
    int license_active;   /* a permanent licence or activation key not retired,
                             upgraded or deactivated */
    int license_blocked;
    int same_version;     /* the target is the version it already has */
    int path_exists;      /* the product has an upgrade path from its version to the target */
    int seat_free;        /* an active upgrade pack for the target has a free seat */
    int license_deactivated; /* deactivated by its vendor or customer: never again */
} domain_upgrade_facts;

typedef struct {
    int supported;        /* the product supports this upgrade for this licence */
    int available;        /* and a seat is there to take */
    const char *reason;   /* snake_case: available, no_upgrade_path, no_upgrade_seat,
                             license_blocked, license_deactivated, license_not_active,
                             same_version */
} domain_upgrade_answer;

domain_upgrade_answer domain_upgrade_check(const domain_upgrade_facts *f);

#endif
