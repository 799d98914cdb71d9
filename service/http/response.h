/* Inside service/http/ only: queueing a libmicrohttpd response that a
 * module built itself (a file, a redirect) with the headers every answer
 * carries. */
#ifndef LICD_HTTP_RESPONSE_H
#define LICD_HTTP_RESPONSE_H

#include <microhttpd.h>

#include "http/request.h"

/* Adds Content-Type (type, unless NULL), X-Request-Id, Cache-Control
 * no-store (unless resp has a Cache-Control already), and Allow,
 * Retry-After and Connection: close where they apply, then queues resp
 * (or holds it, on the offload pool). Takes ownership of resp (NULL:
 * LICD_ERR_NOMEM). */
int http_queue(http_request *req, int status, struct MHD_Response *resp, const char *type);

#endif
