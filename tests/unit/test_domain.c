/* The pure decisions of get_key and upgrades (service/domain/). */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/grant.h"
#include "domain/upgrade.h"

Test(grant, a_client_with_nothing_tries_a_seat)
{
    domain_client_facts f = {0};
    cr_assert_eq(domain_grant_first_step(&f), GRANT_TRY_SEAT);
}

Test(grant, a_held_licence_is_recovered)
{
    domain_client_facts f = {.has_permanent = 1};
    cr_assert_eq(domain_grant_first_step(&f), GRANT_RETURN_PERMANENT);
}

Test(grant, a_lapsed_licence_makes_way_for_a_new_seat)
{
    domain_client_facts f = {.has_permanent = 1, .permanent_expired = 1};
    cr_assert_eq(domain_grant_first_step(&f), GRANT_TRY_SEAT);
}

Test(grant, blocked_licences_stop_everything)
{
    domain_client_facts a = {.has_permanent = 1, .permanent_blocked = 1};
    domain_client_facts b = {.has_permanent = 1, .permanent_blocked = 1, .permanent_expired = 1};
    domain_client_facts c = {.has_temporary = 1, .temporary_blocked = 1};
    cr_assert_eq(domain_grant_first_step(&a), GRANT_REFUSE_BLOCKED);
    cr_assert_eq(domain_grant_first_step(&b), GRANT_REFUSE_BLOCKED);
    cr_assert_eq(domain_grant_first_step(&c), GRANT_REFUSE_BLOCKED);
}

Test(grant, a_temporary_holder_still_tries_a_seat_first)
{
    domain_client_facts f = {.has_temporary = 1};
    cr_assert_eq(domain_grant_first_step(&f), GRANT_TRY_SEAT);
}

Test(grant, no_seat_no_temporary_yet)
{
    domain_client_facts f = {0};
    cr_assert_eq(domain_grant_no_seat(&f, 1), GRANT_ISSUE_TEMPORARY);
    cr_assert_eq(domain_grant_no_seat(&f, 0), GRANT_NO_MATCHING_PACK);
}

Test(grant, the_temporary_licence_is_returned_as_is_while_good)
{
    domain_client_facts f = {.has_temporary = 1};
    cr_assert_eq(domain_grant_no_seat(&f, 1), GRANT_RETURN_TEMPORARY);
}

Test(grant, only_one_temporary_licence_ever)
{
    domain_client_facts expired = {.has_temporary = 1, .temporary_expired = 1};
    domain_client_facts retired = {.has_temporary = 1, .temporary_retired = 1};
    cr_assert_eq(domain_grant_no_seat(&expired, 1), GRANT_TEMPORARY_EXPIRED);
    cr_assert_eq(domain_grant_no_seat(&retired, 1), GRANT_TEMPORARY_EXPIRED);
    cr_assert_eq(domain_grant_no_seat(&expired, 0), GRANT_TEMPORARY_EXPIRED);
}

static domain_upgrade_answer check(domain_upgrade_facts f) { return domain_upgrade_check(&f); }

Test(upgrade, available_when_path_and_seat)
{
    domain_upgrade_answer a = check((domain_upgrade_facts){1, 0, 0, 1, 1, 0});
    cr_assert(a.available && a.supported);
    cr_assert_str_eq(a.reason, "available");
}

Test(upgrade, supported_but_no_seat)
{
    domain_upgrade_answer a = check((domain_upgrade_facts){1, 0, 0, 1, 0, 0});
    cr_assert(!a.available && a.supported);
    cr_assert_str_eq(a.reason, "no_upgrade_seat");
}

Test(upgrade, reasons_in_order_of_precedence)
{
    cr_assert_str_eq(check((domain_upgrade_facts){1, 1, 0, 1, 1, 0}).reason, "license_blocked");
    cr_assert_str_eq(check((domain_upgrade_facts){.license_blocked = 1, .license_deactivated = 1,
                                                   .path_exists = 1, .seat_free = 1})
                         .reason,
                     "license_blocked");
    cr_assert_str_eq(check((domain_upgrade_facts){.license_deactivated = 1, .path_exists = 1,
                                                   .seat_free = 1})
                         .reason,
                     "license_deactivated");
    cr_assert_str_eq(check((domain_upgrade_facts){0, 0, 0, 1, 1, 0}).reason, "license_not_active");
    cr_assert_str_eq(check((domain_upgrade_facts){1, 0, 1, 1, 1, 0}).reason, "same_version");
    cr_assert_str_eq(check((domain_upgrade_facts){1, 0, 0, 0, 1, 0}).reason, "no_upgrade_path");
    cr_assert(!check((domain_upgrade_facts){1, 1, 0, 1, 1, 0}).available);
    cr_assert(!check((domain_upgrade_facts){1, 0, 0, 0, 1, 0}).supported);
}
