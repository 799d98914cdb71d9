/* Where a webhook may point: https to public addresses only, unless the
 * operator allows http and private targets (LICD_WEBHOOK_ALLOW_PRIVATE). */
#ifndef LICD_WEBHOOKS_URL_H
#define LICD_WEBHOOKS_URL_H

#include <stddef.h>
#include <sys/socket.h>

/* 1 when the address is one a public webhook may reach: not loopback,
 * private (RFC 1918, unique local), link-local, shared (CGNAT),
 * unspecified, multicast, broadcast or reserved. */
int webhook_address_public(const struct sockaddr *sa);

/* Checks url: absolute http(s) with a host, no user name or password, at
 * most STORE_WEBHOOK_URL_MAX bytes; unless allow_private, https whose host
 * resolves, every address of it public. LICD_ERR_INVALID_FIELD with the
 * reason in detail (LICD_DETAIL_MAX bytes), or 0. */
int webhook_url_check(const char *url, int allow_private, char *detail);

#endif
