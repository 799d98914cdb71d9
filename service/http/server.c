/* libmicrohttpd glue: request lifecycle, framing checks, body gathering,
 * dispatch through the router, access log and metrics. */
#include "http/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "http/pool.h"
#include "http/router.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_pool *pool;
    const http_server_config *cfg;
    atomic_int inflight;
    char *tls_cert, *tls_key;
};

/* Echoes a client's X-Request-Id when it is short and plain, else makes one. */
static void set_request_id(http_request *req)
{
    const char *given = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t len = given ? strlen(given) : 0;
    if (len > 0 && len < 65 && strspn(given, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789-_.:") == len) {
        memcpy(req->request_id, given, len + 1);
        return;
    }
    if (crypto_random_id(req->request_id) != 0)
        snprintf(req->request_id, sizeof req->request_id, "%08lx", (unsigned long)random());
}

/* A request with the path as the client sent it. MHD hands the access
 * handler a path it has already percent-decoded, where "%00" cuts the path
 * short and "%2F" becomes a separator; the router decodes each segment
 * itself (and refuses those), so it must see the raw path, which only MHD's
 * URI log callback is given. */
struct server_request {
    http_request req; /* first: handlers see &sr->req */
    http_server *srv;
    int begun;        /* the first access-handler call has happened */
    char raw_path[];  /* request target up to '?' */
};

/* MHD's URI log callback: allocates the request before the headers are
 * parsed. What it returns is the request's *con_cls; MHD then calls
 * on_completed for it whatever happens next. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *srv = cls;
    size_t len = uri ? strcspn(uri, "?") : 0;
    struct server_request *sr = calloc(1, sizeof *sr + len + 1);
    if (!sr)
        return NULL;
    if (len)
        memcpy(sr->raw_path, uri, len);
    sr->srv = srv;
    sr->req.conn = conn;
    sr->req.method = "";
    sr->req.path = sr->raw_path;
    sr->req.started = (double)clock_mono_ns() / 1e9;
    atomic_fetch_add(&srv->inflight, 1);
    return sr;
}

struct framing {
    int content_length, transfer_encoding;
    unsigned long long declared;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, "Content-Length") == 0) {
        f->content_length++;
        f->declared = strtoull(value, NULL, 10);
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
    }
    return MHD_YES;
}

/* First call for a request: everything decided from the headers alone, in
 * the order route -> caller, so no body is gathered for a request that will
 * be refused. Errors that make the body untrustworthy (ambiguous framing, a
 * declared size over the cap) are answered at once, which also closes the
 * connection; the others are answered once the body has been read. */
static void begin_request(http_server *srv, http_request *req)
{
    const http_server_config *cfg = srv->cfg;
    struct framing f = {0, 0, 0};
    int rc;

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &f);
    rc = router_match(cfg->routes, cfg->nroutes, req->method, req->path, &req->route, req);
    req->body_limit = (req->route && req->route->body_limit) ? req->route->body_limit
                                                             : cfg->body_limit;
    if (f.content_length > 1 || (f.content_length && f.transfer_encoding) ||
        f.transfer_encoding > 1) {
        req->early = LICD_ERR_BAD_REQUEST;
        snprintf(req->detail, sizeof req->detail,
                 "ambiguous message framing: repeated Content-Length or Transfer-Encoding");
        req->close = 1;
        http_reply_problem(req, req->early, NULL);
    } else if (f.content_length && f.declared > req->body_limit) {
        req->early = LICD_ERR_BODY_TOO_LARGE;
        snprintf(req->detail, sizeof req->detail, "the body limit is %zu bytes", req->body_limit);
        req->close = 1;
        http_reply_problem(req, req->early, NULL);
    } else if (rc == LICD_ERR_METHOD_NOT_ALLOWED) {
        req->early = rc;
        snprintf(req->detail, sizeof req->detail, "%s is not allowed here; allowed: %s",
                 req->method, req->allow);
    } else if (rc != LICD_OK) {
        req->early = rc;
        snprintf(req->detail, sizeof req->detail, "no such resource");
    } else if (cfg->authorize && (rc = cfg->authorize(req)) != LICD_OK) {
        req->early = rc;
    }
}

/* Appends an upload chunk under the request's cap; past the cap the body is
 * dropped and the request will be answered 413. */
static void take_chunk(http_request *req, const char *data, size_t len)
{
    if (req->early)
        return;
    if (len > req->body_limit - req->body_len) {
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        req->early = LICD_ERR_BODY_TOO_LARGE;
        snprintf(req->detail, sizeof req->detail, "the body limit is %zu bytes", req->body_limit);
        req->close = 1;
        return;
    }
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        char *grown = realloc(req->body, cap);
        if (!grown) {
            req->early = LICD_ERR_NOMEM;
            return;
        }
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
}

/* The offloaded rest of a handler, on a pool thread: its answer is held
 * (reply.c) and the connection resumed, so that MHD calls on_access again
 * and the answer is queued on a worker thread. */
static void run_offloaded(void *p)
{
    struct server_request *sr = p;
    http_request *req = &sr->req;
    http_handler next = req->offload;
    int rc;
    req->offload = NULL;
    req->on_pool = 1;
    rc = next(req);
    if (!req->held)
        http_reply_problem(req, rc ? rc : LICD_ERR_INTERNAL, NULL);
    req->on_pool = 0;
    MHD_resume_connection(req->conn);
}

/* Runs handler h (a route's, or the rest of one that waited) and answers
 * what it leaves unanswered; a handler that waits (http_wait) or offloads
 * (http_offload) has its connection suspended until it is woken. */
static void run(struct server_request *sr, http_handler h)
{
    http_request *req = &sr->req;
    int rc = h(req);
    if (rc == LICD_OK && req->wait_start && !req->status) {
        /* Suspended before start hands the work on, so that its wake
         * always comes after the suspend. */
        http_handler start = req->wait_start;
        req->wait_start = NULL;
        MHD_suspend_connection(req->conn);
        if ((rc = start(req)) == LICD_OK)
            return;
        MHD_resume_connection(req->conn);
        req->wait_then = NULL;
    }
    if (rc == LICD_OK && req->offload && !req->status) {
        /* Suspended before the job is queued, so that its resume always
         * comes after the suspend. */
        MHD_suspend_connection(req->conn);
        if (http_pool_submit(sr->srv->pool, run_offloaded, sr) == LICD_OK)
            return;
        MHD_resume_connection(req->conn);
        req->offload = NULL;
        rc = http_fail(req, LICD_ERR_UNAVAILABLE, "too many requests of this kind at once");
    }
    if (!req->status)
        http_reply_problem(req, rc ? rc : LICD_ERR_INTERNAL, NULL);
}

static void dispatch(struct server_request *sr)
{
    http_request *req = &sr->req;
    int rc;
    if (req->early) {
        http_reply_problem(req, req->early, NULL);
        return;
    }
    if (sr->srv->cfg->prepare && ((rc = sr->srv->cfg->prepare(req)) != LICD_OK || req->status)) {
        if (!req->status)
            http_reply_problem(req, rc, NULL);
        return;
    }
    run(sr, req->route->handler);
}

/* Called by MHD once with the headers, once per body chunk, and once at the
 * end. Responses are queued only after the first call (see DESIGN.md). */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    http_server *srv = cls;
    struct server_request *sr = *con_cls;
    http_request *req = sr ? &sr->req : NULL;
    (void)version, (void)url;

    if (!req)
        return MHD_NO; /* on_uri could not allocate */
    if (!sr->begun) {
        sr->begun = 1;
        req->method = method;
        set_request_id(req);
        begin_request(srv, req);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->status)
            take_chunk(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->held) {
        /* Back from the offload pool with its answer. */
        enum MHD_Result ok = MHD_queue_response(conn, (unsigned)req->held_status, req->held);
        MHD_destroy_response(req->held);
        req->held = NULL;
        return ok;
    }
    if (req->wait_then) {
        /* Woken by whoever finished the work the handler waited for; its
         * rest may wait again. */
        http_handler then = req->wait_then;
        req->wait_then = NULL;
        run(sr, then);
        return MHD_YES;
    }
    if (!req->status)
        dispatch(sr);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    struct server_request *sr = *con_cls;
    http_request *req = sr ? &sr->req : NULL;
    (void)conn;
    if (!req)
        return;
    double elapsed = (double)clock_mono_ns() / 1e9 - req->started;
    const char *route = req->route ? req->route->path : "unmatched";
    metrics_request(req->method, route, req->status, elapsed);
    if (srv->cfg->access_log) {
        log_record r;
        log_begin(&r, "info");
        log_str(&r, "method", req->method);
        log_str(&r, "path", req->path);
        log_str(&r, "route", route);
        log_int(&r, "status", req->status);
        log_int(&r, "us", (long long)(elapsed * 1e6));
        log_str(&r, "request_id", req->request_id);
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            log_bool(&r, "aborted", 1);
        log_end_buffered(&r);
    }
    if (req->held)
        MHD_destroy_response(req->held);
    if (req->ctx_free)
        req->ctx_free(req->ctx);
    cJSON_Delete(req->problem_extra);
    free(req->body);
    free(req->caller);
    free(req->answer_ctx);
    free(sr);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls, (void)conn, (void)socket_context;
    metrics_http_connections(code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long len;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < (1L << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)len + 1))) {
        if (fread(data, 1, (size_t)len, f) == (size_t)len) {
            data[len] = '\0';
        } else {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

static void server_free(http_server *srv)
{
    if (!srv)
        return;
    http_pool_free(srv->pool);
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv);
}

int http_server_start(const http_server_config *cfg, http_server **out, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char port[8];
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    http_server *srv = calloc(1, sizeof *srv);
    int rc = LICD_ERR_CONFIG, gai;

    *out = NULL;
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return LICD_ERR_NOMEM;
    }
    srv->cfg = cfg;
    atomic_init(&srv->inflight, 0);
    if (http_pool_start(cfg->offload_threads > 0 ? (unsigned)cfg->offload_threads
                                                 : (unsigned)(cores > 0 ? cores : 1),
                        256, &srv->pool) != LICD_OK) {
        snprintf(err, errlen, "cannot start the offload threads");
        server_free(srv);
        return LICD_ERR_NOMEM;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof port, "%d", cfg->port);
    if ((gai = getaddrinfo(cfg->host, port, &hints, &ai)) != 0) {
        snprintf(err, errlen, "cannot resolve listen address %s: %s", cfg->host, gai_strerror(gai));
        goto out;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cfg->tls_cert) {
        srv->tls_cert = read_file(cfg->tls_cert);
        srv->tls_key = read_file(cfg->tls_key);
        if (!srv->tls_cert || !srv->tls_key) {
            snprintf(err, errlen, "cannot read LICD_TLS_CERT %s or LICD_TLS_KEY %s", cfg->tls_cert,
                     cfg->tls_key);
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, srv,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        cfg->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, srv->tls_cert,
        MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key,
        MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use, or bad TLS files?)",
                 cfg->host, cfg->port);
        rc = LICD_ERR_IO;
        goto out;
    }
    *out = srv;
    srv = NULL;
    rc = LICD_OK;
out:
    if (ai)
        freeaddrinfo(ai);
    server_free(srv);
    return rc;
}

int http_server_port(const http_server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : -1;
}

void http_server_stop(http_server *srv, unsigned grace_ms)
{
    if (!srv)
        return;
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    for (unsigned waited = 0; atomic_load(&srv->inflight) > 0 && waited < grace_ms; waited += 10)
        usleep(10 * 1000);
    /* Offloaded work still queued runs and resumes its connections before
     * the daemon goes, which must find none suspended. */
    http_pool_stop(srv->pool);
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
}
