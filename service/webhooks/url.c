/* Webhook URLs (see url.h): parsed by libcurl's URL API, resolved with
 * getaddrinfo, addresses classified with util/netaddr. */
#include "webhooks/url.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "store/webhooks.h"
#include "util/error.h"
#include "util/netaddr.h"

/* Ranges no public webhook may reach (IPv4-mapped IPv6 addresses are
 * classified as their IPv4 address). */
static const char *const not_public[] = {
    "0.0.0.0/8",       "10.0.0.0/8",     "100.64.0.0/10", "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12",   "192.0.0.0/24",   "192.0.2.0/24",  "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",   "::/128",         "::1/128",
    "64:ff9b::/96",    "100::/64",       "2001:db8::/32", "fc00::/7",       "fe80::/10",
    "ff00::/8",
};

int webhook_address_public(const struct sockaddr *sa)
{
    netaddr a = {0};
    if (sa->sa_family == AF_INET) {
        memcpy(a.addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        a.bits = 32;
    } else if (sa->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, sizeof mapped) == 0) {
            memcpy(a.addr, b + 12, 4);
            a.bits = 32;
        } else {
            a.v6 = 1;
            memcpy(a.addr, b, 16);
            a.bits = 128;
        }
    } else {
        return 0;
    }
    for (size_t i = 0; i < sizeof not_public / sizeof not_public[0]; i++) {
        netaddr r;
        if (netaddr_parse_range(not_public[i], &r) == 0 && netaddr_contains(&r, &a))
            return 0;
    }
    return 1;
}

/* Every address host resolves to is public; 0, or LICD_ERR_INVALID_FIELD. */
static int resolves_public(const char *host, const char *port, char *detail)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = LICD_OK;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        snprintf(detail, LICD_DETAIL_MAX, "url: the host %.200s does not resolve", host);
        return LICD_ERR_INVALID_FIELD;
    }
    for (struct addrinfo *ai = res; ai && rc == LICD_OK; ai = ai->ai_next)
        if (!webhook_address_public(ai->ai_addr)) {
            snprintf(detail, LICD_DETAIL_MAX,
                     "url: %.100s is a loopback, private, link-local or reserved address (set"
                     " LICD_WEBHOOK_ALLOW_PRIVATE=1 to allow it)",
                     host);
            rc = LICD_ERR_INVALID_FIELD;
        }
    freeaddrinfo(res);
    return rc;
}

int webhook_url_check(const char *url, int allow_private, char *detail)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *port = NULL;
    int rc = LICD_ERR_INVALID_FIELD;

    if (strlen(url) > STORE_WEBHOOK_URL_MAX) {
        snprintf(detail, LICD_DETAIL_MAX, "url: at most %d bytes", STORE_WEBHOOK_URL_MAX);
        return rc;
    }
    if (!(u = curl_url()))
        return LICD_ERR_NOMEM;
    /* No CURLU_GUESS_SCHEME and no default scheme: the URL must be absolute. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        snprintf(detail, LICD_DETAIL_MAX, "url: not an absolute URL with a host");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        snprintf(detail, LICD_DETAIL_MAX, "url: no user name or password in the URL");
        goto out;
    }
    if (strcmp(scheme, "https") != 0 && !(allow_private && strcmp(scheme, "http") == 0)) {
        snprintf(detail, LICD_DETAIL_MAX, "url: must be https%s", allow_private ? " or http" : "");
        goto out;
    }
    if (!allow_private) {
        char h[256];
        size_t n = strlen(host);
        /* An IPv6 literal comes in brackets. */
        if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof h) {
            memcpy(h, host + 1, n - 2);
            h[n - 2] = '\0';
        } else {
            snprintf(h, sizeof h, "%s", host);
        }
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        if ((rc = resolves_public(h, port ? port : "443", detail)) != LICD_OK)
            goto out;
    }
    rc = LICD_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}
