/* SQL for client images, stored as bytea from a binary parameter. */
#include "store/images.h"

#include <stdio.h>

#include "crypto/digest.h"
#include "store/sql.h"

enum { PUT_CREATED_AT };
static const store_sql Q_IMAGE_PUT = {
    "image_put",
    "INSERT INTO client_images (vendor_id, software_id, platform, image, sha256)"
    " VALUES ($1, $2, $3, $4::bytea, decode($5, 'hex'))"
    " ON CONFLICT (vendor_id, software_id) DO UPDATE SET platform = excluded.platform,"
    "  image = excluded.image, sha256 = excluded.sha256, created_at = now()"
    " RETURNING " STORE_TIME("created_at")};

struct put_ctx {
    const store_actor *who;
    const char *software_id, *platform;
    const void *data;
    size_t len;
    store_image *out;
};

static int put_tx(void *p)
{
    struct put_ctx *c = p;
    const char *values[5] = {c->who->vendor_id, c->software_id, c->platform, c->data,
                             c->out->sha256};
    const int lengths[5] = {0, 0, 0, (int)c->len, 0};
    const int formats[5] = {0, 0, 0, 1, 0};
    cJSON *details = NULL;
    PGresult *res = NULL;
    int rc = store_exec_params(&Q_IMAGE_PUT, 5, values, lengths, formats, 0, &res);
    if (rc != LICD_OK)
        goto out;
    store_col_copy(res, 0, PUT_CREATED_AT, c->out->created_at, sizeof c->out->created_at);
    rc = (details = cJSON_CreateObject()) &&
                 cJSON_AddStringToObject(details, "platform", c->platform) &&
                 cJSON_AddNumberToObject(details, "size", (double)c->len) &&
                 cJSON_AddStringToObject(details, "sha256", c->out->sha256)
             ? store_audit(c->who, "upload", "client_image", c->software_id, details)
             : LICD_ERR_NOMEM;
out:
    cJSON_Delete(details);
    PQclear(res);
    return rc;
}

int store_image_put(const store_actor *who, const char *software_id, const char *platform,
                    const void *data, size_t len, store_image *out)
{
    struct put_ctx c = {who, software_id, platform, data, len, out};
    if (len > STORE_IMAGE_MAX)
        return LICD_ERR_BODY_TOO_LARGE;
    crypto_sha256_hex(data, len, out->sha256);
    snprintf(out->software_id, sizeof out->software_id, "%s", software_id);
    snprintf(out->platform, sizeof out->platform, "%s", platform);
    out->size = len;
    return store_tx(put_tx, &c);
}
