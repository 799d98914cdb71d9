/* IP addresses and CIDR ranges, parsed once into bytes and compared bit by
 * bit (LICD_TRUSTED_PROXIES, X-Forwarded-For): no resolver, no OpenSSL. */
#ifndef LICD_UTIL_NETADDR_H
#define LICD_UTIL_NETADDR_H

#include <stddef.h>

#define NETADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN: the longest address as text, with its NUL */

/* An address (bits = 32 or 128) or a range of addresses (its first bits). */
typedef struct {
    int v6;                   /* 0: IPv4 (addr[0..3]), 1: IPv6 */
    unsigned char addr[16];   /* network byte order */
    int bits;                 /* prefix length */
} netaddr;

/* An IPv4 or IPv6 address without prefix length or zone (an IPv4-mapped IPv6
 * address is read as its IPv4 address); 0, or -1 when s is none. */
int netaddr_parse(const char *s, netaddr *out);

/* "ADDRESS" (a range of one) or "ADDRESS/BITS" with no host bits set (as
 * PostgreSQL's cidr); 0, or -1. */
int netaddr_parse_range(const char *s, netaddr *out);

/* 1 when the address a lies in the range r (never across IPv4 and IPv6). */
int netaddr_contains(const netaddr *r, const netaddr *a);

/* The address (not its prefix length) as text into buf (NETADDR_TEXT_MAX
 * bytes); 0, or -1 when buf is too small. */
int netaddr_format(const netaddr *a, char *buf, size_t len);

#endif
