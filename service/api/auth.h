/* Bearer authentication for vendor (admin) and client endpoints. */
#ifndef LICD_API_AUTH_H
#define LICD_API_AUTH_H

#include "http/request.h"
#include "store/vendors.h"

/* Authenticates the vendor behind "Authorization: Bearer <vendor key>".
 * No or unknown key: LICD_ERR_UNAUTHORIZED; a well-formed key of another
 * kind (customer, group): LICD_ERR_FORBIDDEN; database down: UNAVAILABLE. */
int api_auth_vendor(http_request *req, store_vendor *vendor);

/* The token after "<scheme> " in the Authorization header, or NULL. */
const char *api_auth_credentials(http_request *req, const char *scheme);

#endif
