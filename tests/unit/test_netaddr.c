/* Unit tests for service/util/netaddr.c (addresses and CIDR ranges) and for
 * http_client_address's rule, through netaddr_contains. */
#include <criterion/criterion.h>
#include <string.h>

#include "util/netaddr.h"

static netaddr addr(const char *s)
{
    netaddr a;
    cr_assert_eq(netaddr_parse(s, &a), 0, "%s", s);
    return a;
}

static netaddr range(const char *s)
{
    netaddr r;
    cr_assert_eq(netaddr_parse_range(s, &r), 0, "%s", s);
    return r;
}

static int in(const char *r, const char *a)
{
    netaddr x = range(r), y = addr(a);
    return netaddr_contains(&x, &y);
}

Test(netaddr, addresses)
{
    netaddr a;
    char text[NETADDR_TEXT_MAX];
    a = addr("10.1.2.3");
    cr_assert_eq(a.v6, 0);
    cr_assert_eq(a.bits, 32);
    a = addr("2001:db8::1");
    cr_assert_eq(a.v6, 1);
    cr_assert_eq(a.bits, 128);
    /* an IPv4-mapped IPv6 address is its IPv4 address */
    a = addr("::ffff:10.1.2.3");
    cr_assert_eq(a.v6, 0);
    cr_assert_eq(netaddr_format(&a, text, sizeof text), 0);
    cr_assert_str_eq(text, "10.1.2.3");
    a = addr("2001:DB8:0::1");
    cr_assert_eq(netaddr_format(&a, text, sizeof text), 0);
    cr_assert_str_eq(text, "2001:db8::1");
    cr_assert_eq(netaddr_format(&a, text, 4), -1);
    const char *bad[] = {"", "10.1.2", "10.1.2.3.4", "10.1.2.256", " 10.1.2.3", "10.0.0.0/8",
                         "fe80::1%eth0", "example.com", "1.2.3.4:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(netaddr_parse(bad[i], &a), -1, "%s", bad[i]);
    cr_assert_eq(netaddr_parse(NULL, &a), -1);
}

Test(netaddr, ranges)
{
    netaddr r;
    cr_assert_eq(range("10.0.0.0/8").bits, 8);
    cr_assert_eq(range("10.1.2.3").bits, 32, "an address is a range of one");
    cr_assert_eq(range("0.0.0.0/0").bits, 0);
    cr_assert_eq(range("2001:db8::/32").bits, 32);
    cr_assert_eq(range("::1/128").bits, 128);
    const char *bad[] = {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "/8", "10.0.0.0/8x",
                         "10.0.0.0/-1", "2001:db8::1/32", "::/129", "::ffff:10.0.0.0/104",
                         "10.0.0.0/0008"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(netaddr_parse_range(bad[i], &r), -1, "%s", bad[i]);
}

Test(netaddr, containment)
{
    cr_assert(in("10.0.0.0/8", "10.255.0.1"));
    cr_assert_not(in("10.0.0.0/8", "11.0.0.1"));
    cr_assert(in("192.168.4.0/22", "192.168.7.255"));
    cr_assert_not(in("192.168.4.0/22", "192.168.8.0"));
    cr_assert(in("127.0.0.1", "127.0.0.1"));
    cr_assert_not(in("127.0.0.1", "127.0.0.2"));
    cr_assert(in("0.0.0.0/0", "203.0.113.9"));
    cr_assert(in("2001:db8::/32", "2001:db8:ffff::1"));
    cr_assert_not(in("2001:db8::/33", "2001:db8:8000::1"));
    /* never across families, mapped addresses being IPv4 */
    cr_assert_not(in("0.0.0.0/0", "::1"));
    cr_assert_not(in("::/0", "10.0.0.1"));
    cr_assert(in("10.0.0.0/8", "::ffff:10.0.0.1"));
}
