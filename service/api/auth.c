/* Reads Authorization headers and resolves keys to tenants. */
#include "api/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crypto/apikey.h"

const char *api_auth_credentials(http_request *req, const char *scheme)
{
    const char *h = http_header(req, "Authorization");
    size_t n = strlen(scheme);
    if (!h || strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return NULL;
    for (h += n; *h == ' '; h++)
        ;
    return *h ? h : NULL;
}

int api_auth_vendor(http_request *req, store_vendor *vendor)
{
    const char *key = api_auth_credentials(req, "Bearer");
    apikey_kind kind;
    int rc;
    if (!key) {
        snprintf(req->detail, sizeof req->detail, "send Authorization: Bearer <vendor api key>");
        return LICD_ERR_UNAUTHORIZED;
    }
    if (crypto_apikey_kind(key, &kind) != 0) {
        snprintf(req->detail, sizeof req->detail, "unknown API key");
        return LICD_ERR_UNAUTHORIZED;
    }
    if (kind != APIKEY_VENDOR) {
        snprintf(req->detail, sizeof req->detail, "this endpoint takes a vendor API key");
        return LICD_ERR_FORBIDDEN;
    }
    rc = store_vendor_by_key(key, vendor);
    if (rc == LICD_ERR_UNAUTHORIZED)
        snprintf(req->detail, sizeof req->detail, "unknown API key");
    return rc;
}
