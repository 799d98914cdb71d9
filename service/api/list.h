/* List endpoints: limit and cursor parameters, and the {"items","next"} answer. */
#ifndef LICD_API_LIST_H
#define LICD_API_LIST_H

#include "http/request.h"

#define API_LIST_DEFAULT 50
#define API_LIST_MAX 500

/* Reads ?limit= (1..500, default 50) and ?cursor= (opaque, from a previous
 * answer's "next"); *after is the id to continue after (0 at the start).
 * Bad values: LICD_ERR_INVALID_FIELD naming the parameter. */
int api_list_params(http_request *req, int *limit, long long *after);

/* Answers 200 {"items": items, "next": cursor or null}; takes items. more
 * says whether rows remain after last_id. */
int api_list_reply(http_request *req, cJSON *items, int more, long long last_id);

#endif
