/* List endpoints: limit and cursor parameters, and the {"items","next"} answer. */
#ifndef LICD_API_LIST_H
#define LICD_API_LIST_H

#include <libpq-fe.h>

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

/* Answers a page read with limit + 1 rows (column 0 the row's list
 * position): the first limit rows, each rendered by render (NULL: out of
 * memory), and a cursor after the last one when the extra row came. */
typedef cJSON *(*api_list_render)(const PGresult *res, int row);
int api_list_rows(http_request *req, const PGresult *res, int limit, api_list_render render);

/* A whole unfiltered vendor list endpoint (on a route for vendor keys):
 * reads limit and cursor, fetches the calling vendor's limit + 1 rows after
 * the cursor with fetch and answers them with api_list_rows. */
typedef int (*api_list_fetch)(const char *vendor_id, long long after, int limit, PGresult **res);
int api_list_vendor(http_request *req, api_list_fetch fetch, api_list_render render);

#endif
