/* POST /v1/get_key, group-key shape (issue 4): not served yet. */
#include <stdio.h>

#include "api/api.h"

int api_get_key_group(http_request *req, const cJSON *body)
{
    (void)body;
    snprintf(req->detail, sizeof req->detail, "send Authorization: Bearer <customer key>");
    return LICD_ERR_UNAUTHORIZED;
}
