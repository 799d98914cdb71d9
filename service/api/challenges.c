/* POST /v1/challenges: a single-use nonce for proving the client's build. */
#include "api/api.h"
#include "api/auth.h"
#include "store/challenges.h"
#include "util/json.h"

int api_challenges_create(http_request *req)
{
    const store_customer *c = api_caller_customer(req);
    cJSON *body = NULL, *out = NULL;
    const char *software_id = NULL;
    char nonce[STORE_NONCE_HEX_LEN];
    time_t expires;
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "software_id", 1, 1, 128, &software_id, req->detail)) != LICD_OK ||
        (rc = store_challenge_create(c->id, software_id, nonce, &expires)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) && cJSON_AddStringToObject(out, "nonce", nonce) &&
        json_add_time(out, "expires_at", expires))
        rc = http_reply_json(req, 201, out);
out:
    cJSON_Delete(out);
    cJSON_Delete(body);
    return rc;
}
