/* Session-token decisions (see entitlement.h). */
#include "domain/entitlement.h"

#include <string.h>

const char *const domain_state_names[] = {"invalid", "intermediate", "valid", NULL};

int domain_state_parse(const char *text, domain_state *out)
{
    for (int i = 0; i < 3; i++)
        if (text && strcmp(text, domain_state_names[i]) == 0) {
            *out = (domain_state)i;
            return 0;
        }
    return -1;
}

const char *domain_state_name(domain_state s)
{
    return s >= STATE_INVALID && s <= STATE_VALID ? domain_state_names[s] : "invalid";
}

domain_features domain_state_features(domain_state s)
{
    return s == STATE_VALID ? FEATURES_ALL : s == STATE_INTERMEDIATE ? FEATURES_NAMED
                                                                      : FEATURES_NONE;
}

domain_state domain_effective_state(int has_entitlement, int expired, domain_state recorded)
{
    return has_entitlement && !expired ? recorded : STATE_INVALID;
}

int domain_renewal_allowed(time_t now, time_t exp, long window, int machine_matches)
{
    return machine_matches && now - exp < window;
}

int domain_login_wait(int failures, int limit, int oldest_age)
{
    if (failures < limit)
        return 0;
    return oldest_age >= 60 ? 1 : 60 - oldest_age;
}

int domain_shared_account(int machines_in_24h, int max_machines)
{
    return machines_in_24h > 2 * max_machines;
}
