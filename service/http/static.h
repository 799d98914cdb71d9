/* Static files from one flat folder (a web page's HTML, scripts, styles and
 * images): no subfolders, no hidden files, no symbolic links, only the
 * content types it knows, with strict browser security headers. */
#ifndef LICD_HTTP_STATIC_H
#define LICD_HTTP_STATIC_H

#include "http/request.h"

/* Answers GET for the file name (one path segment, already decoded by the
 * router) of folder dir: 200 with the file, Content-Type from its
 * extension, ETag and Last-Modified, or 304 when If-None-Match names the
 * ETag. A name that is empty, starts with '.', holds anything but
 * A-Z a-z 0-9 . _ - or has an extension not served; a file that is missing,
 * a symbolic link (O_NOFOLLOW), or not a regular file; or a dir that is
 * NULL or cannot be opened: LICD_ERR_NOT_FOUND with req->detail set, for
 * the caller to answer. Every answer it makes carries
 * http_static_security_headers. */
int http_static_serve(http_request *req, const char *dir, const char *name);

/* The Content-Type served for name's extension, or NULL when not served. */
const char *http_static_content_type(const char *name);

/* Answers 308 with Location: target and the security headers (an empty body). */
int http_static_redirect(http_request *req, const char *target);

#endif
