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

/* Common checks of a bearer key that must be of kind want. */
static int bearer_of_kind(http_request *req, apikey_kind want, const char *what, const char **key)
{
    apikey_kind kind;
    *key = api_auth_credentials(req, "Bearer");
    if (!*key) {
        snprintf(req->detail, sizeof req->detail, "send Authorization: Bearer <%s>", what);
        return LICD_ERR_UNAUTHORIZED;
    }
    if (crypto_apikey_kind(*key, &kind) != 0) {
        snprintf(req->detail, sizeof req->detail, "unknown key");
        return LICD_ERR_UNAUTHORIZED;
    }
    if (kind != want) {
        snprintf(req->detail, sizeof req->detail, "this endpoint takes a %s", what);
        return LICD_ERR_FORBIDDEN;
    }
    return LICD_OK;
}

static int unknown_key(http_request *req, int rc)
{
    if (rc == LICD_ERR_UNAUTHORIZED)
        snprintf(req->detail, sizeof req->detail, "unknown key");
    return rc;
}

int api_auth_vendor(http_request *req, store_vendor *vendor)
{
    const char *key;
    int rc = bearer_of_kind(req, APIKEY_VENDOR, "vendor API key", &key);
    return rc != LICD_OK ? rc : unknown_key(req, store_vendor_by_key(key, vendor));
}

int api_auth_vendor_caller(http_request *req, api_vendor_caller *caller)
{
    int rc = api_auth_vendor(req, &caller->vendor);
    if (rc != LICD_OK)
        return rc;
    /* The key's public prefix names the credential in the audit trail. */
    snprintf(caller->key_prefix, sizeof caller->key_prefix, "%.15s",
             api_auth_credentials(req, "Bearer"));
    caller->actor = (store_actor){caller->vendor.id, caller->key_prefix, req->request_id};
    return LICD_OK;
}

int api_auth_customer(http_request *req, store_customer *customer)
{
    const char *key;
    int rc = bearer_of_kind(req, APIKEY_CUSTOMER, "customer key", &key);
    return rc != LICD_OK ? rc : unknown_key(req, store_customer_by_key(key, customer));
}
