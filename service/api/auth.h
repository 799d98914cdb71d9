/* Who may call each route (the declarations the route table carries) and
 * who is calling (what api_authorize found before the handler ran). */
#ifndef LICD_API_AUTH_H
#define LICD_API_AUTH_H

#include "http/request.h"
#include "store/audit.h"
#include "store/customers.h"
#include "store/vendors.h"

/* Credentials an Authorization header can carry. */
enum {
    API_KEY_VENDOR = 1 << 0,   /* Bearer <vendor API key> */
    API_KEY_CUSTOMER = 1 << 1, /* Bearer <customer key> */
    API_KEY_LICENSE = 1 << 2,  /* License <licence or activation key> */
};

/* A route's declaration: the name `licd routes` prints, the credentials its
 * Authorization header may carry, and whether a request without that header
 * reaches the handler too (which then finds the credential in the body, or
 * needs none). With no keys the header is not read at all. */
struct http_auth {
    const char *name;
    unsigned keys;
    int anonymous;
};

extern const http_auth api_public;                /* anyone */
extern const http_auth api_vendor_key;            /* a vendor API key */
extern const http_auth api_customer_key;          /* a customer key */
/* a vendor key, or a customer key (the handler limits it to what that customer owns) */
extern const http_auth api_vendor_or_customer_key;
extern const http_auth api_license;               /* a licence or activation key */
extern const http_auth api_customer_or_group_key; /* a customer key, or none and a group key
                                                     in the body (get_key's two shapes) */
extern const http_auth api_session_token;         /* no header: a session token in the body */

/* A vendor caller: who it is and how its actions are audited. */
typedef struct {
    store_vendor vendor;
    char key_prefix[16];
    store_actor actor;  /* points into this struct and the request */
} api_vendor_caller;

/* A licence caller: the licence or activation key it presented, whose
 * signature, issuer and expiry were checked (not whether it is still known). */
typedef struct {
    char license_id[72];
    char vendor_id[STORE_UUID_LEN];
} api_license_caller;

/* The caller of a request as api_authorize found it. NULL unless the request
 * presented that kind of credential: a handler may rely on the one kind its
 * route requires, and a route that also takes anonymous requests gets NULL
 * for those. Valid as long as the request. */
const api_vendor_caller *api_caller_vendor(const http_request *req);
const store_customer *api_caller_customer(const http_request *req);
const api_license_caller *api_caller_license(const http_request *req);

/* The answer to a request that brought none of the credentials its route
 * takes: LICD_ERR_UNAUTHORIZED, with a detail saying what to send. */
int api_unauthorized(http_request *req);

#endif
