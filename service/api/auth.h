/* Bearer authentication for vendor (admin) and client endpoints. */
#ifndef LICD_API_AUTH_H
#define LICD_API_AUTH_H

#include "http/request.h"
#include "store/audit.h"
#include "store/customers.h"
#include "store/vendors.h"

/* A vendor caller: who it is and how its actions are audited. */
typedef struct {
    store_vendor vendor;
    char key_prefix[16];
    store_actor actor;  /* points into this struct and the request */
} api_vendor_caller;

/* Authenticates the vendor behind "Authorization: Bearer <vendor key>".
 * No or unknown key: LICD_ERR_UNAUTHORIZED; a well-formed key of another
 * kind (customer, group): LICD_ERR_FORBIDDEN; database down: UNAVAILABLE. */
int api_auth_vendor(http_request *req, store_vendor *vendor);

/* api_auth_vendor, plus the audit identity of the caller. */
int api_auth_vendor_caller(http_request *req, api_vendor_caller *caller);

/* Authenticates the customer behind "Authorization: Bearer <customer key>":
 * no or unknown key 401; a vendor or group key 403 forbidden. */
int api_auth_customer(http_request *req, store_customer *customer);

/* The token after "<scheme> " in the Authorization header, or NULL. */
const char *api_auth_credentials(http_request *req, const char *scheme);

#endif
