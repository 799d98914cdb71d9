/* List endpoints: limit and cursor parameters, and the {"items","next"} answer. */
#ifndef LICD_API_LIST_H
#define LICD_API_LIST_H

#include "http/request.h"
#include "store/page.h"

#define API_LIST_DEFAULT 50
#define API_LIST_MAX 500

/* Reads ?limit= (1..500, default 50) and ?cursor= (opaque, from a previous
 * answer's "next"); *after is the id to continue after (0 at the start).
 * Bad values: LICD_ERR_INVALID_FIELD naming the parameter. */
int api_list_params(http_request *req, int *limit, long long *after);

/* Reads the optional query filter name: *out NULL when absent; 1 to max
 * bytes, else LICD_ERR_INVALID_FIELD naming it. The _uuid form takes a
 * UUID only (a customer_id). */
int api_list_filter(http_request *req, const char *name, size_t max, const char **out);
int api_list_filter_uuid(http_request *req, const char *name, const char **out);

/* Renders one item of a page (NULL: out of memory). */
typedef cJSON *(*api_list_render)(const void *item);

/* Adds the items of page, each rendered by render, to o as the array name;
 * 0 or LICD_ERR_NOMEM. */
int api_list_add(cJSON *o, const char *name, const store_page *page, api_list_render render);

/* Answers a page from store/: its items, each rendered by render, and a
 * cursor after the last one when more follow. */
int api_list_page(http_request *req, const store_page *page, api_list_render render);

/* A whole unfiltered vendor list endpoint (on a route for vendor keys):
 * reads limit and cursor, fetches up to limit of the calling vendor's items
 * after the cursor with fetch and answers them with api_list_page. */
typedef int (*api_list_fetch)(const char *vendor_id, long long after, int limit,
                              store_page *page);
int api_list_vendor(http_request *req, api_list_fetch fetch, api_list_render render);

#endif
