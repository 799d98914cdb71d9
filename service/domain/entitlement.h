/* Session-token decisions for the shared-computer model: licence states and
 * the features they grant, renewal and throttling. Pure. (The machine limit
 * is a count that store/ makes under the user's lock.) */
#ifndef LICD_DOMAIN_ENTITLEMENT_H
#define LICD_DOMAIN_ENTITLEMENT_H

#include <time.h>

/* Ordered weakest first, so the weakest of several is the minimum. */
typedef enum { STATE_INVALID = 0, STATE_INTERMEDIATE = 1, STATE_VALID = 2 } domain_state;

/* The state names in domain_state order, NULL-terminated. */
extern const char *const domain_state_names[];

/* "valid" / "intermediate" / "invalid"; 0 or -1 for anything else. */
int domain_state_parse(const char *text, domain_state *out);
const char *domain_state_name(domain_state s);

/* Which features a state grants: all of the product's, the ones the
 * entitlement names, or none. */
typedef enum { FEATURES_ALL, FEATURES_NAMED, FEATURES_NONE } domain_features;
domain_features domain_state_features(domain_state s);

/* A product's state for a user: no entitlement, or an expired one, is invalid. */
domain_state domain_effective_state(int has_entitlement, int expired, domain_state recorded);

/* Renewal without a password: the token's machine must match and it must
 * have expired less than window seconds ago (or not at all). */
int domain_renewal_allowed(time_t now, time_t exp, long window, int machine_matches);

/* Seconds a client must wait after failures failed logins in the last
 * minute, the oldest at oldest_age seconds ago; 0 when it may try now. */
int domain_login_wait(int failures, int limit, int oldest_age);

/* A user whose tokens span more machines in a day than twice the limit is
 * listed for the vendor as a possibly shared account. */
int domain_shared_account(int machines_in_24h, int max_machines);

#endif
