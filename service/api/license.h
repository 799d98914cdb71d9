/* The licence document: a signed JWT of a licence row, and the JSON answer
 * get_key and upgrade give. */
#ifndef LICD_API_LICENSE_H
#define LICD_API_LICENSE_H

#include "http/request.h"
#include "store/grants.h"
#include "store/products.h"

/* exp of a licence whose pack never expires: 9999-12-31T23:59:59Z. */
#define LICENSE_NO_EXPIRY 253402300799LL
#define LICENSE_FORMAT_VERSION 1

/* Signs l as a licence JWT (claims in API.md, plus cus and vnd); *jwt is
 * malloc'd, caller frees. */
int api_license_sign(const store_license *l, const store_product *p, char **jwt);

/* Answers status with {"license","license_id","pack_id","expires_at","temporary",...}. */
int api_license_reply(http_request *req, int status, const store_license *l,
                      const store_product *p);

#endif
