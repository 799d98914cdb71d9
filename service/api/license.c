/* Licence JWTs and the answer that carries one. */
#include "api/license.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "crypto/jwt.h"
#include "store/documents.h"
#include "util/json.h"

#define LICENSE_ISSUER "licd"

int api_license_sign(const store_license *l, const store_product *p, char **jwt)
{
    return api_license_sign_with(l, p, NULL, jwt);
}

int api_license_sign_with(const store_license *l, const store_product *p, const cJSON *extra,
                          char **jwt)
{
    cJSON *c = cJSON_CreateObject(), *feat = cJSON_Parse(p->features_json ? p->features_json : "[]");
    const cJSON *m;
    int rc = LICD_ERR_NOMEM;
    if (c && feat && cJSON_AddStringToObject(c, "iss", LICENSE_ISSUER) &&
        cJSON_AddNumberToObject(c, "ver", LICENSE_FORMAT_VERSION) &&
        cJSON_AddStringToObject(c, "lid", l->license_id) &&
        cJSON_AddStringToObject(c, "cid", l->client_id) &&
        cJSON_AddStringToObject(c, "pid", p->code) &&
        cJSON_AddStringToObject(c, "pver", l->version) &&
        cJSON_AddStringToObject(c, "platform", l->platform) &&
        (!l->pack_id[0] ? cJSON_AddNullToObject(c, "pack") != NULL
                        : cJSON_AddStringToObject(c, "pack", l->pack_id) != NULL) &&
        (!l->serial ? cJSON_AddNullToObject(c, "serial") != NULL
                    : cJSON_AddNumberToObject(c, "serial", (double)l->serial) != NULL) &&
        cJSON_AddBoolToObject(c, "tmp", l->temporary) &&
        cJSON_AddNumberToObject(c, "iat", (double)(l->issued_at ? l->issued_at : time(NULL))) &&
        cJSON_AddNumberToObject(c, "exp", l->expires_at ? (double)l->expires_at
                                                        : (double)LICENSE_NO_EXPIRY) &&
        cJSON_AddStringToObject(c, "cus", l->customer_id) &&
        cJSON_AddStringToObject(c, "vnd", l->vendor_id)) {
        cJSON_AddItemToObject(c, "feat", feat);
        feat = NULL;
        rc = LICD_OK;
        cJSON_ArrayForEach(m, extra) {
            if (!cJSON_AddItemToObject(c, m->string, cJSON_Duplicate(m, 1)))
                rc = LICD_ERR_NOMEM;
        }
        if (rc == LICD_OK)
            rc = crypto_jwt_sign(api_ctx()->keys, c, jwt);
    }
    cJSON_Delete(feat);
    cJSON_Delete(c);
    return rc;
}

int api_license_verify(const char *jwt, cJSON **claims)
{
    const cJSON *iss, *lid, *vnd;
    int rc = crypto_jwt_verify(api_ctx()->keys, jwt, time(NULL), claims);
    if (rc == LICD_OK || rc == LICD_ERR_TOKEN_EXPIRED) {
        iss = cJSON_GetObjectItemCaseSensitive(*claims, "iss");
        lid = cJSON_GetObjectItemCaseSensitive(*claims, "lid");
        vnd = cJSON_GetObjectItemCaseSensitive(*claims, "vnd");
        /* Session tokens share the signing key and issuer but carry no lid. */
        if (!cJSON_IsString(iss) || strcmp(iss->valuestring, LICENSE_ISSUER) != 0 ||
            !cJSON_IsString(lid) || !cJSON_IsString(vnd) || !json_is_uuid(vnd->valuestring))
            rc = LICD_ERR_TOKEN_INVALID;
    }
    if (rc != LICD_OK && rc != LICD_ERR_TOKEN_EXPIRED) {
        cJSON_Delete(*claims);
        *claims = NULL;
        rc = LICD_ERR_TOKEN_INVALID;
    }
    return rc;
}

int api_license_reply(http_request *req, int status, const store_license *l,
                      const char *document, const store_product *p, char **body)
{
    char *jwt = NULL, *text = NULL;
    cJSON *o = NULL;
    int rc = LICD_OK;
    if (document && crypto_jwt_by_signing_key(api_ctx()->keys, document)) {
        if (!(jwt = strdup(document)))
            return LICD_ERR_NOMEM;
    } else if ((rc = api_license_sign(l, p, &jwt)) == LICD_OK) {
        store_document_save(l->id, l->claims_version, jwt);
    }
    if (rc != LICD_OK)
        return rc;
    rc = LICD_ERR_NOMEM;
    o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "license", jwt) &&
        cJSON_AddStringToObject(o, "license_id", l->license_id) &&
        (l->temporary ? cJSON_AddNullToObject(o, "pack_id") != NULL
                      : cJSON_AddStringToObject(o, "pack_id", l->pack_id) != NULL) &&
        (l->expires_at ? json_add_time(o, "expires_at", l->expires_at) != NULL
                       : cJSON_AddNullToObject(o, "expires_at") != NULL) &&
        cJSON_AddBoolToObject(o, "temporary", l->temporary) &&
        cJSON_AddStringToObject(o, "client_id", l->client_id) &&
        cJSON_AddStringToObject(o, "product", p->code) &&
        cJSON_AddStringToObject(o, "version", l->version) &&
        cJSON_AddStringToObject(o, "platform", l->platform) &&
        (text = cJSON_PrintUnformatted(o)))
        rc = http_reply_bytes(req, status, "application/json", text, strlen(text));
    if (rc == LICD_OK && body) {
        *body = text;
        text = NULL;
    }
    cJSON_Delete(o);
    free(text);
    free(jwt);
    return rc;
}
