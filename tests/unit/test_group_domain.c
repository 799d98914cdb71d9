/* The pure decisions of group keys (service/domain/): links, the quotas per
 * node and per container, which licence a request continues, the order of
 * get_key's checks, the over-limit policy, and update passwords. */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/group.h"
#include "domain/link.h"
#include "domain/update_password.h"
#include "domain/usage.h"

static domain_link_request request(void)
{
    return (domain_link_request){"10.1.2.3", "Shop.Example.COM.", "node-1", "app-1", 0, "c-1"};
}

Test(link, type_names_round_trip)
{
    domain_link_type t;
    for (int i = 0; domain_link_types[i]; i++) {
        cr_assert_eq(domain_link_type_parse(domain_link_types[i], &t), 0);
        cr_assert_eq((int)t, i);
    }
    cr_assert_eq(domain_link_type_parse("ip", &t), -1);
    cr_assert_eq(domain_link_type_parse(NULL, &t), -1);
}

Test(link, an_empty_link_binds_to_the_request)
{
    domain_link_request r = request();
    const char *bind;
    cr_assert_eq(domain_link_decide(LINK_IP_RANGE, NULL, &r, &bind), LINK_BIND);
    cr_assert_str_eq(bind, "10.1.2.3");
    cr_assert_eq(domain_link_decide(LINK_DOMAIN, "", &r, &bind), LINK_BIND);
    cr_assert_str_eq(bind, "Shop.Example.COM.");
    cr_assert_eq(domain_link_decide(LINK_NODE, NULL, &r, &bind), LINK_BIND);
    cr_assert_str_eq(bind, "node-1");
    cr_assert_eq(domain_link_decide(LINK_APP, NULL, &r, &bind), LINK_BIND);
    cr_assert_str_eq(bind, "app-1");
    cr_assert_eq(domain_link_decide(LINK_CONTAINER, NULL, &r, &bind), LINK_BIND);
    cr_assert_str_eq(bind, "c-1");
}

Test(link, containers_match_exactly_and_a_request_without_one_never)
{
    domain_link_request r = request();
    const char *bind;
    cr_assert_eq(domain_link_decide(LINK_CONTAINER, "c-1", &r, &bind), LINK_MATCH);
    cr_assert_eq(domain_link_decide(LINK_CONTAINER, "C-1", &r, &bind), LINK_MISMATCH);
    r.container_id = NULL;
    cr_assert_eq(domain_link_decide(LINK_CONTAINER, "c-1", &r, &bind), LINK_MISMATCH);
    cr_assert_eq(domain_link_decide(LINK_CONTAINER, NULL, &r, &bind), LINK_MISMATCH);
    cr_assert_null(bind);
}

Test(link, a_request_without_the_identifier_never_matches_nor_binds)
{
    domain_link_request r = request();
    const char *bind = "x";
    r.domain = NULL;
    cr_assert_eq(domain_link_decide(LINK_DOMAIN, NULL, &r, &bind), LINK_MISMATCH);
    cr_assert_null(bind);
    cr_assert_eq(domain_link_decide(LINK_DOMAIN, "shop.example.com", &r, &bind), LINK_MISMATCH);
}

Test(link, ip_ranges_follow_the_containment_postgresql_computed)
{
    domain_link_request r = request();
    const char *bind;
    cr_assert_eq(domain_link_decide(LINK_IP_RANGE, "10.0.0.0/8", &r, &bind), LINK_MISMATCH);
    r.ip_in_range = 1;
    cr_assert_eq(domain_link_decide(LINK_IP_RANGE, "10.0.0.0/8", &r, &bind), LINK_MATCH);
    cr_assert_null(bind);
    /* a request whose address is unknown neither matches nor binds */
    r.ip = NULL;
    cr_assert_eq(domain_link_decide(LINK_IP_RANGE, "10.0.0.0/8", &r, &bind), LINK_MISMATCH);
    cr_assert_eq(domain_link_decide(LINK_IP_RANGE, NULL, &r, &bind), LINK_MISMATCH);
}

Test(link, domains_match_without_case_or_trailing_dot)
{
    domain_link_request r = request();
    const char *bind;
    cr_assert_eq(domain_link_decide(LINK_DOMAIN, "shop.example.com", &r, &bind), LINK_MATCH);
    cr_assert_eq(domain_link_decide(LINK_DOMAIN, "example.com", &r, &bind), LINK_MISMATCH);
    cr_assert_eq(domain_link_decide(LINK_DOMAIN, "shop.example.co", &r, &bind), LINK_MISMATCH);
}

Test(link, nodes_and_apps_match_exactly)
{
    domain_link_request r = request();
    const char *bind;
    cr_assert_eq(domain_link_decide(LINK_NODE, "node-1", &r, &bind), LINK_MATCH);
    cr_assert_eq(domain_link_decide(LINK_NODE, "Node-1", &r, &bind), LINK_MISMATCH);
    cr_assert_eq(domain_link_decide(LINK_APP, "app-1", &r, &bind), LINK_MATCH);
    cr_assert_eq(domain_link_decide(LINK_APP, "app-2", &r, &bind), LINK_MISMATCH);
    /* the node link does not look at the app, nor the other way round */
    cr_assert_eq(domain_link_decide(LINK_NODE, "app-1", &r, &bind), LINK_MISMATCH);
}

Test(link, dns_names)
{
    char buf[300];
    cr_assert(domain_link_domain_valid("example.com"));
    cr_assert(domain_link_domain_valid("Example.COM."));
    cr_assert(domain_link_domain_valid("a-b.c_d.e1"));
    cr_assert(domain_link_domain_valid("localhost"));
    cr_assert_not(domain_link_domain_valid(""));
    cr_assert_not(domain_link_domain_valid("."));
    cr_assert_not(domain_link_domain_valid("a..b"));
    cr_assert_not(domain_link_domain_valid("-a.b"));
    cr_assert_not(domain_link_domain_valid("a-.b"));
    cr_assert_not(domain_link_domain_valid("a b.c"));
    cr_assert_not(domain_link_domain_valid("a.b.."));
    memset(buf, 'a', 64);
    buf[64] = '\0';
    cr_assert_not(domain_link_domain_valid(buf), "a label of 64 characters");
    buf[63] = '\0';
    cr_assert(domain_link_domain_valid(buf));
    for (int i = 0; i < 254; i++)
        buf[i] = i % 2 ? '.' : 'a';
    buf[253] = '\0';
    cr_assert(domain_link_domain_valid(buf), "253 characters");
    buf[253] = 'a';
    buf[254] = '\0';
    cr_assert_not(domain_link_domain_valid(buf), "254 characters");
    domain_link_domain_canonical("Shop.Example.COM.", buf, sizeof buf);
    cr_assert_str_eq(buf, "shop.example.com");
    cr_assert(domain_link_domain_equal("a.B.", "A.b"));
    cr_assert_not(domain_link_domain_equal("a.b", "a.bc"));
}

Test(quota, counts_other_instances_on_the_node)
{
    cr_assert(domain_group_quota_allows(3, 0, 0));
    cr_assert(domain_group_quota_allows(3, 2, 0));
    cr_assert_not(domain_group_quota_allows(3, 3, 0), "the fourth instance");
    cr_assert_not(domain_group_quota_allows(1, 1, 0));
}

Test(quota, the_same_app_again_is_not_a_new_instance)
{
    cr_assert(domain_group_quota_allows(3, 2, 1));
    cr_assert(domain_group_quota_allows(1, 5, 1), "even past a lowered quota");
}

static domain_group_facts good(void)
{
    return (domain_group_facts){.scheme_matches = 1, .product_in_group = 1, .link = LINK_MATCH,
                                .quota = 2};
}

Test(group, a_good_request_is_issued)
{
    domain_group_facts f = good();
    cr_assert_eq(domain_group_decide(&f), GROUP_ISSUE);
    f.link = LINK_BIND;
    cr_assert_eq(domain_group_decide(&f), GROUP_ISSUE, "an empty link binds");
}

Test(group, each_check_has_its_own_refusal)
{
    domain_group_facts f = good();
    f.key_revoked = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_KEY_REVOKED);
    f = good();
    f.key_expired = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_KEY_EXPIRED);
    f = good();
    f.scheme_matches = 0;
    cr_assert_eq(domain_group_decide(&f), GROUP_SCHEME_MISMATCH);
    f = good();
    f.product_in_group = 0;
    cr_assert_eq(domain_group_decide(&f), GROUP_PRODUCT_NOT_IN_GROUP);
    f = good();
    f.link = LINK_MISMATCH;
    cr_assert_eq(domain_group_decide(&f), GROUP_LINK_MISMATCH);
    f = good();
    f.other_holders = 2;
    cr_assert_eq(domain_group_decide(&f), GROUP_QUOTA_EXCEEDED);
    f = good();
    f.container_quota = 1;
    f.container_other_holders = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_CONTAINER_QUOTA_EXCEEDED);
    f = good();
    f.blocked = 1;
    f.app_holds = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_LICENSE_BLOCKED);
    f = good();
    f.over_limit = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_OVER_LIMIT);
}

Test(group, checks_run_in_the_contract_order)
{
    /* Everything wrong at once: each fix reveals the next refusal. */
    domain_group_facts f = {.key_revoked = 1, .key_expired = 1, .link = LINK_MISMATCH,
                            .quota = 1, .other_holders = 1, .container_quota = 1,
                            .container_other_holders = 1, .blocked = 1, .over_limit = 1};
    const domain_group_verdict order[] = {
        GROUP_KEY_REVOKED,     GROUP_KEY_EXPIRED,    GROUP_SCHEME_MISMATCH,
        GROUP_PRODUCT_NOT_IN_GROUP, GROUP_LINK_MISMATCH, GROUP_QUOTA_EXCEEDED,
        GROUP_CONTAINER_QUOTA_EXCEEDED, GROUP_LICENSE_BLOCKED, GROUP_OVER_LIMIT,
        GROUP_ISSUE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        cr_assert_eq(domain_group_decide(&f), order[i], "step %zu", i);
        switch (i) {
        case 0: f.key_revoked = 0; break;
        case 1: f.key_expired = 0; break;
        case 2: f.scheme_matches = 1; break;
        case 3: f.product_in_group = 1; break;
        case 4: f.link = LINK_MATCH; break;
        case 5: f.other_holders = 0; break;
        case 6: f.container_other_holders = 0; break;
        case 7: f.blocked = 0; break;
        case 8: f.over_limit = 0; break;
        default: break;
        }
    }
}

Test(group, the_container_quota_counts_only_when_the_key_has_one)
{
    domain_group_facts f = good();
    f.container_other_holders = 50;
    cr_assert_eq(domain_group_decide(&f), GROUP_ISSUE, "no quota per container");
    f.container_quota = 2;
    cr_assert_eq(domain_group_decide(&f), GROUP_CONTAINER_QUOTA_EXCEEDED);
    f.container_app_holds = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_ISSUE, "the same app in its container again");
}

Test(group, a_blocked_app_is_refused_as_blocked_even_on_a_full_node)
{
    /* Its own blocked key does not count among the holders, but it is not
     * a new instance either: the answer is license_blocked. */
    domain_group_facts f = good();
    f.other_holders = 2;
    f.app_holds = 1;
    f.blocked = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_LICENSE_BLOCKED);
}

Test(group, over_a_limit_is_refused_unless_the_key_only_reports_it)
{
    domain_group_facts f = good();
    f.over_limit = 1;
    cr_assert_eq(domain_group_decide(&f), GROUP_OVER_LIMIT);
    f.on_over_limit = OVER_LIMIT_REPORT;
    cr_assert_eq(domain_group_decide(&f), GROUP_ISSUE);
}

Test(group, which_licence_a_request_continues)
{
    /* no password, or one issued to another app or node: the app's own */
    cr_assert_eq(domain_group_license_for(0, 0, 0), GROUP_LICENSE_ORIGINAL);
    cr_assert_eq(domain_group_license_for(1, 1, 0), GROUP_LICENSE_ORIGINAL);
    cr_assert_eq(domain_group_license_for(1, 0, 0), GROUP_LICENSE_ORIGINAL);
    /* the first presentation continues the password's licence... */
    cr_assert_eq(domain_group_license_for(1, 1, 1), GROUP_LICENSE_CHAIN);
    /* ...a later one from the same app and node is a copy of its holder */
    cr_assert_eq(domain_group_license_for(1, 0, 1), GROUP_LICENSE_COPY);
}

Test(over_limit, policies)
{
    domain_over_limit p;
    for (int i = 0; domain_over_limit_names[i]; i++) {
        cr_assert_eq(domain_over_limit_parse(domain_over_limit_names[i], &p), 0);
        cr_assert_eq((int)p, i);
    }
    cr_assert_str_eq(domain_over_limit_names[OVER_LIMIT_REFUSE], "refuse");
    cr_assert_eq(domain_over_limit_parse("ignore", &p), -1);
    cr_assert_eq(domain_over_limit_parse(NULL, &p), -1);
    cr_assert(domain_over_limit_refuses(OVER_LIMIT_REFUSE, 1));
    cr_assert_not(domain_over_limit_refuses(OVER_LIMIT_REFUSE, 0));
    cr_assert_not(domain_over_limit_refuses(OVER_LIMIT_REPORT, 1));
}

Test(update_password, parts_are_26_base32_characters)
{
    uint8_t zero[UPW_PART_BYTES] = {0}, ones[UPW_PART_BYTES];
    char part[UPW_PART_LEN + 1];
    memset(ones, 0xff, sizeof ones);
    domain_upw_part(zero, part);
    cr_assert_str_eq(part, "AAAAAAAAAAAAAAAAAAAAAAAAAA");
    domain_upw_part(ones, part);
    /* 128 one bits, then two zero bits of padding in the last character */
    cr_assert_str_eq(part, "77777777777777777777777774");
    {
        /* RFC 4648 test vector "foobar" → MZXW6YTBOI, extended to 16 bytes */
        uint8_t v[UPW_PART_BYTES] = {'f', 'o', 'o', 'b', 'a', 'r'};
        domain_upw_part(v, part);
        cr_assert_eq(strncmp(part, "MZXW6YTBOI", 10), 0, "%s", part);
    }
}

Test(update_password, format_then_parse)
{
    uint8_t a[UPW_PART_BYTES], b[UPW_PART_BYTES];
    char sa[UPW_PART_LEN + 1], sb[UPW_PART_LEN + 1], pw[UPW_LEN + 1];
    char s[UPW_PART_LEN + 1], d[UPW_PART_LEN + 1];
    for (int i = 0; i < UPW_PART_BYTES; i++) {
        a[i] = (uint8_t)(i * 37 + 1);
        b[i] = (uint8_t)(255 - i * 11);
    }
    domain_upw_part(a, sa);
    domain_upw_part(b, sb);
    domain_upw_format(sa, sb, pw);
    cr_assert_eq(strlen(pw), UPW_LEN);
    cr_assert_eq(pw[UPW_PART_LEN], '-');
    cr_assert_eq(domain_upw_parse(pw, s, d), 0);
    cr_assert_str_eq(s, sa);
    cr_assert_str_eq(d, sb);
    /* lower case is read as upper case */
    for (char *p = pw; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    cr_assert_eq(domain_upw_parse(pw, s, d), 0);
    cr_assert_str_eq(s, sa);
    cr_assert_str_eq(d, sb);
}

Test(update_password, malformed_passwords_are_refused)
{
    char s[UPW_PART_LEN + 1], d[UPW_PART_LEN + 1];
    const char *good = "AAAAAAAAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBBBBBA";
    cr_assert_eq(domain_upw_parse(good, s, d), 0);
    cr_assert_eq(domain_upw_parse(NULL, s, d), -1);
    cr_assert_eq(domain_upw_parse("", s, d), -1);
    cr_assert_eq(domain_upw_parse("AAAAAAAAAAAAAAAAAAAAAAAAAA", s, d), -1, "one part");
    cr_assert_eq(domain_upw_parse("AAAAAAAAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBA", s, d),
                 -1, "another separator");
    cr_assert_eq(domain_upw_parse("AAAAAAAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBBBBBBA", s, d),
                 -1, "parts of 25 and 27");
    cr_assert_eq(domain_upw_parse("AAAAAAAAAAAAAAAAAAAAAAAAA1-BBBBBBBBBBBBBBBBBBBBBBBBBA", s, d),
                 -1, "1 is not base32");
    cr_assert_eq(domain_upw_parse("AAAAAAAAAAAAAAAAAAAAAAAAAB-BBBBBBBBBBBBBBBBBBBBBBBBBA", s, d),
                 -1, "stray bits in the last character");
    cr_assert_eq(domain_upw_parse("AAAAAAAAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBBBBBA-", s, d),
                 -1, "trailing separator");
}

Test(update_password, statuses)
{
    domain_upw_status st;
    cr_assert_eq(domain_upw_status_parse("cloned", &st), 0);
    cr_assert_eq(st, UPW_CLONED);
    cr_assert_eq(domain_upw_status_parse("CLONED", &st), -1);
    cr_assert_str_eq(domain_upw_statuses[UPW_DISMISSED], "dismissed");
}

Test(update_password, first_presentation_uses_later_ones_clone)
{
    cr_assert_eq(domain_upw_presented(UPW_ISSUED), UPW_USED);
    cr_assert_eq(domain_upw_presented(UPW_USED), UPW_CLONED);
    cr_assert_eq(domain_upw_presented(UPW_CLONED), UPW_CLONED);
    cr_assert_eq(domain_upw_presented(UPW_DISMISSED), UPW_CLONED, "back in the queue");
    cr_assert_eq(domain_upw_presented(UPW_BLOCKED), UPW_CLONED);
}
