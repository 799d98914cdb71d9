/* Upgrade availability (see upgrade.h). */
#include "domain/upgrade.h"

domain_upgrade_answer domain_upgrade_check(const domain_upgrade_facts *f)
{
    domain_upgrade_answer a = {0, 0, "available"};
    if (f->license_blocked)
        a.reason = "license_blocked";
    else if (f->license_deactivated)
        a.reason = "license_deactivated";
    else if (!f->license_active)
        a.reason = "license_not_active";
    else if (f->same_version)
        a.reason = "same_version";
    else if (!f->path_exists)
        a.reason = "no_upgrade_path";
    else if (!f->seat_free)
        a.supported = 1, a.reason = "no_upgrade_seat";
    else
        a.supported = 1, a.available = 1;
    return a;
}
