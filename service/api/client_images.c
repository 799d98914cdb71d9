/* POST /v1/client-images: a vendor uploads the build of a client program
 * (base64 in JSON, up to 64 MiB decoded) that challenges are checked against;
 * uploading again for the same software_id replaces it. */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/auth.h"
#include "store/images.h"
#include "util/json.h"

int api_client_images_upload(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    store_image img;
    cJSON *body = NULL, *out = NULL;
    const char *software_id = NULL, *platform = NULL;
    unsigned char *image = NULL;
    size_t len = 0;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "software_id", 1, 1, 128, &software_id, req->detail)) !=
            LICD_OK ||
        (rc = json_get_enum(body, "platform", 1, api_platforms, NULL, &platform, req->detail)) !=
            LICD_OK ||
        (rc = json_get_base64(body, "image_b64", 1, STORE_IMAGE_MAX, &image, &len, req->detail)) !=
            LICD_OK)
        goto out;
    /* The text is no longer needed: give its memory back before storing. */
    cJSON_DeleteItemFromObjectCaseSensitive(body, "image_b64");
    if ((rc = store_image_put(&caller->actor, software_id, platform, image, len, &img)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) &&
        cJSON_AddStringToObject(out, "software_id", img.software_id) &&
        cJSON_AddStringToObject(out, "platform", img.platform) &&
        cJSON_AddNumberToObject(out, "size", (double)img.size) &&
        cJSON_AddStringToObject(out, "sha256", img.sha256) &&
        cJSON_AddStringToObject(out, "created_at", img.created_at))
        rc = http_reply_json(req, 201, out);
out:
    free(image);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}
