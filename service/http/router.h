/* Matches a method and path against route templates: a route, or 404, or
 * 405 with the methods the path allows. */
#ifndef LICD_HTTP_ROUTER_H
#define LICD_HTTP_ROUTER_H

#include "http/request.h"

/* On a match sets *route and fills req->params (percent-decoded; a segment
 * with %00, '/' after decoding or over HTTP_PARAM_MAX bytes does not match).
 * Else LICD_ERR_NOT_FOUND, or LICD_ERR_METHOD_NOT_ALLOWED with req->allow
 * set to the allowed methods ("GET, POST"). */
int router_match(const http_route *routes, size_t nroutes, const char *method, const char *path,
                 const http_route **route, http_request *req);

#endif
