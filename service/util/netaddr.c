/* IP addresses and CIDR ranges (see netaddr.h). */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int netaddr_parse(const char *s, netaddr *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a[16];

    memset(out, 0, sizeof *out);
    if (s && inet_pton(AF_INET, s, a) == 1) {
        memcpy(out->addr, a, 4);
        out->bits = 32;
        return 0;
    }
    if (!s || inet_pton(AF_INET6, s, a) != 1)
        return -1;
    if (memcmp(a, mapped, sizeof mapped) == 0) {
        memcpy(out->addr, a + 12, 4);
        out->bits = 32;
    } else {
        memcpy(out->addr, a, 16);
        out->v6 = 1;
        out->bits = 128;
    }
    return 0;
}

/* 1 when the bits of a past the first n are all zero. */
static int host_bits_clear(const netaddr *a, int n)
{
    int total = a->v6 ? 128 : 32;
    for (int i = n; i < total; i++)
        if (a->addr[i / 8] & (0x80 >> (i % 8)))
            return 0;
    return 1;
}

int netaddr_parse_range(const char *s, netaddr *out)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    char addr[NETADDR_TEXT_MAX];
    size_t n, digits;
    long bits;

    if (!slash)
        return netaddr_parse(s, out);
    n = (size_t)(slash - s);
    digits = strspn(slash + 1, "0123456789");
    if (n == 0 || n >= sizeof addr || digits == 0 || digits > 3 || slash[1 + digits])
        return -1;
    memcpy(addr, s, n);
    addr[n] = '\0';
    /* An IPv4-mapped address with an IPv6 prefix length would change meaning. */
    if (strchr(addr, ':') && strchr(addr, '.'))
        return -1;
    bits = strtol(slash + 1, NULL, 10);
    if (netaddr_parse(addr, out) != 0 || bits > out->bits || !host_bits_clear(out, (int)bits))
        return -1;
    out->bits = (int)bits;
    return 0;
}

int netaddr_contains(const netaddr *r, const netaddr *a)
{
    int whole = r->bits / 8, rest = r->bits % 8;
    if (r->v6 != a->v6 || memcmp(r->addr, a->addr, (size_t)whole) != 0)
        return 0;
    return rest == 0 || ((r->addr[whole] ^ a->addr[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int netaddr_format(const netaddr *a, char *buf, size_t len)
{
    return inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->addr, buf, (socklen_t)len) ? 0 : -1;
}
