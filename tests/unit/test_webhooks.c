/* Unit tests for service/webhooks: which addresses a public webhook may
 * reach, which URLs are accepted, the delivery body and its signature
 * (checked against `openssl dgst -sha256 -hmac`). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "webhooks/delivery.h"
#include "webhooks/url.h"

static int public_address(const char *text)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, text, &a4.sin_addr) == 1)
        return webhook_address_public((struct sockaddr *)&a4);
    cr_assert_eq(inet_pton(AF_INET6, text, &a6.sin6_addr), 1, "%s", text);
    return webhook_address_public((struct sockaddr *)&a6);
}

Test(webhooks, public_and_private_addresses)
{
    static const char *const inward[] = {
        "127.0.0.1", "10.0.0.1",    "172.16.5.4",  "172.31.255.255", "192.168.0.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
        "::1",       "::",          "fd12::1",     "fe80::1",        "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.1.1.1",
    };
    static const char *const outward[] = {"8.8.8.8", "172.32.0.1", "100.128.0.1",
                                          "203.0.114.9", "2a00:1450:4001::1",
                                          "::ffff:8.8.4.4"};
    for (size_t i = 0; i < sizeof inward / sizeof inward[0]; i++)
        cr_assert_not(public_address(inward[i]), "%s is not public", inward[i]);
    for (size_t i = 0; i < sizeof outward / sizeof outward[0]; i++)
        cr_assert(public_address(outward[i]), "%s is public", outward[i]);
}

Test(webhooks, urls)
{
    char detail[LICD_DETAIL_MAX];
    cr_assert_eq(webhook_url_check("https://8.8.8.8/hook", 0, detail), LICD_OK, "%s", detail);
    cr_assert_eq(webhook_url_check("https://[2a00:1450:4001::1]:8443/h", 0, detail), LICD_OK,
                 "%s", detail);
    cr_assert_eq(webhook_url_check("http://8.8.8.8/hook", 0, detail), LICD_ERR_INVALID_FIELD);
    cr_assert(strstr(detail, "https"), "%s", detail);
    cr_assert_eq(webhook_url_check("https://127.0.0.1/hook", 0, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(webhook_url_check("https://[::1]/hook", 0, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(webhook_url_check("https://10.0.0.8:443/", 0, detail), LICD_ERR_INVALID_FIELD);
    /* Allowed: http and private targets, still absolute http(s) without credentials. */
    cr_assert_eq(webhook_url_check("http://127.0.0.1:9/x", 1, detail), LICD_OK, "%s", detail);
    cr_assert_eq(webhook_url_check("https://10.0.0.8/", 1, detail), LICD_OK, "%s", detail);
    cr_assert_eq(webhook_url_check("ftp://127.0.0.1/x", 1, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(webhook_url_check("127.0.0.1/x", 1, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(webhook_url_check("/relative", 1, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(webhook_url_check("https://u:p@10.0.0.8/", 1, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(webhook_url_check("https://u@10.0.0.8/", 1, detail), LICD_ERR_INVALID_FIELD);
}

Test(webhooks, signature_matches_openssl)
{
    const char *body = "{\"event_id\":7,\"type\":\"pack.low\"}";
    char sig[160];
    /* printf '%s' '1700000000.{"event_id":7,"type":"pack.low"}' |
     *   openssl dgst -sha256 -hmac whsec_test */
    cr_assert_eq(webhook_signature("whsec_test", 1700000000LL, body, strlen(body), sig,
                                   sizeof sig),
                 LICD_OK);
    cr_assert_str_eq(sig, "t=1700000000,v1=cd094e87e016f3428b5b1d9d841316c1335186a1796e35dce8f1"
                          "fbad01e2c57c");
    cr_assert_neq(webhook_signature("whsec_test", 1700000000LL, body, strlen(body), sig, 20),
                  LICD_OK, "a buffer too small is an error");
}

Test(webhooks, body)
{
    char *b = webhook_body(42, "pack.low", "2026-01-31T12:00:00Z",
                           "{\"pack_id\":\"P1\",\"assigned\":9,\"quantity\":10}");
    cr_assert(b);
    cr_assert_str_eq(b, "{\"event_id\":42,\"type\":\"pack.low\",\"created_at\":"
                        "\"2026-01-31T12:00:00Z\",\"data\":{\"pack_id\":\"P1\",\"assigned\":9,"
                        "\"quantity\":10}}");
    free(b);
    cr_assert_null(webhook_body(1, "pack.low", "2026-01-31T12:00:00Z", "{not json"));
}
