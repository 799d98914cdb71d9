/* The licence document: a signed JWT of a licence row (also of a group
 * key's activation), and the JSON answer get_key and upgrade give. */
#ifndef LICD_API_LICENSE_H
#define LICD_API_LICENSE_H

#include "http/request.h"
#include "store/grants.h"
#include "store/products.h"

/* exp of a licence whose pack never expires: 9999-12-31T23:59:59Z. */
#define LICENSE_NO_EXPIRY 253402300799LL
#define LICENSE_FORMAT_VERSION 1

/* Signs l as a licence JWT (claims in API.md, plus cus and vnd), iat being
 * its issue time (now when l has none); *jwt is malloc'd, caller frees. A licence without a pack (temporary licences,
 * activation keys) has "pack" and "serial" null. */
int api_license_sign(const store_license *l, const store_product *p, char **jwt);
/* api_license_sign with the members of extra (a JSON object, not consumed;
 * NULL for none) added as further claims, e.g. an activation key's node. */
int api_license_sign_with(const store_license *l, const store_product *p, const cJSON *extra,
                          char **jwt);

/* Verifies a licence or activation key this service signed: the ES256
 * signature under a key of the JWKS, issuer "licd", not expired, with a
 * string "lid" and a UUID "vnd". *claims (caller frees) is set on success,
 * and also with LICD_ERR_TOKEN_EXPIRED for a genuine licence whose exp has
 * passed (an upgrade still takes one); LICD_ERR_TOKEN_INVALID otherwise. */
int api_license_verify(const char *jwt, cJSON **claims);

/* Answers status with {"license","license_id","pack_id","expires_at","temporary",...}.
 * The licence document is the stored one (document, NULL when none was
 * saved) while it was signed by the current signing key; otherwise it is
 * signed now with its issue time as iat and saved for next time. When body
 * is not NULL it gets a malloc'd copy of the answer's JSON (for caches). */
int api_license_reply(http_request *req, int status, const store_license *l,
                      const char *document, const store_product *p, char **body);

#endif
