/* The HTTP server: libmicrohttpd with its internal thread pool and epoll,
 * capped request bodies, request ids, access log, metrics and graceful stop. */
#ifndef LICD_HTTP_SERVER_H
#define LICD_HTTP_SERVER_H

#include <stddef.h>

#include "http/request.h"

typedef struct {
    const char *host;          /* address to bind, e.g. "127.0.0.1" or "::" */
    int port;                  /* 0 picks a free port (see http_server_port) */
    int threads;
    int offload_threads;       /* the pool for http_offload (0: one per core) */
    size_t body_limit;         /* default cap on request bodies */
    unsigned conn_timeout;     /* seconds of inactivity before a connection is closed */
    unsigned per_ip_limit;     /* concurrent connections from one address */
    const char *tls_cert;      /* PEM file paths; both NULL for plain HTTP */
    const char *tls_key;
    int access_log;            /* one JSON line per request on stderr */
    const http_route *routes;
    size_t nroutes;
    /* Decides whether the request may reach req->route's handler, from the
     * headers alone: called once per routed request, before its body is
     * read; may set req->caller. 0, or the error to answer (after the body,
     * which is then dropped unread). NULL: every route is open. */
    int (*authorize)(http_request *req);
    /* Called once the body is in, before the handler of a request that
     * passed authorize: 0 lets the handler run, unless it answered the
     * request itself (a replayed answer); else the error to answer. NULL:
     * handlers run directly. */
    int (*prepare)(http_request *req);
} http_server_config;

typedef struct http_server http_server;

/* Starts serving; the config (and its routes) must outlive the server.
 * Returns 0, or LICD_ERR_CONFIG/LICD_ERR_IO with a message in err. */
int http_server_start(const http_server_config *cfg, http_server **out, char *err, size_t errlen);
/* The bound port (useful when cfg->port was 0). */
int http_server_port(const http_server *srv);
/* Stops accepting, waits up to grace_ms for requests in flight to finish,
 * then stops the threads and frees the server. */
void http_server_stop(http_server *srv, unsigned grace_ms);

#endif
