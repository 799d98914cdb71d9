/* One HTTP request as the api/ handlers see it, and the calls they answer
 * with. The server owns the request; it is freed after the response is sent. */
#ifndef LICD_HTTP_REQUEST_H
#define LICD_HTTP_REQUEST_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/error.h"
#include "util/netaddr.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 256

typedef struct http_request http_request;

/* A handler answers through one http_reply_* call and returns 0, or returns
 * an error (and may have set req->detail) for the server to answer as
 * problem+json. */
typedef int (*http_handler)(http_request *req);

/* Who may call a route. The application defines the struct and reads it in
 * its authorize hook (http_server_config); this layer only carries it. */
typedef struct http_auth http_auth;

typedef struct {
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* template: "/v1/packs/{pack_id}" */
    const http_auth *auth; /* who may call it, for the authorize hook */
    http_handler handler;
    size_t body_limit;    /* 0: the server default */
} http_route;

struct http_param {
    char name[32];
    char value[HTTP_PARAM_MAX];
};

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const http_route *route;
    struct http_param params[HTTP_MAX_PARAMS];
    int nparams;
    char request_id[72];
    char *body;            /* NUL-terminated, body_len bytes; NULL when empty */
    size_t body_len, body_cap, body_limit;
    licd_err early;        /* error found before the body was read */
    char detail[LICD_DETAIL_MAX];
    char allow[64];        /* Allow header for 405 */
    int status;            /* status sent, for the access log; 0 until replied */
    int close;             /* ask MHD to close the connection after replying */
    int retry_after;       /* seconds for a Retry-After header (set: any status; 429 and 503
                              default to 1) */
    double started;        /* monotonic seconds */
    cJSON *problem_extra;  /* members added to this request's problem+json (e.g. a nonce);
                              owned by the request */
    void *caller;          /* who is calling, as the authorize hook found it: one malloc'd
                              block or NULL, owned by the request */
    http_handler offload;  /* set by http_offload: the rest of the handler, for the pool */
    int on_pool;           /* the handler runs on the offload pool: answers are held */
    struct MHD_Response *held; /* an answer made on the pool, sent once the connection resumes */
    int held_status;
    http_handler wait_start, wait_then; /* set by http_wait */
    /* A handler's own state kept across http_wait, freed with the request
     * by ctx_free (set by http_keep). */
    void *ctx;
    void (*ctx_free)(void *ctx);
    /* RateLimit-Limit, -Remaining and -Reset for every answer, when set (the
     * authorize hook or a handler that found the caller's key sets them) */
    int ratelimit_set;
    long long ratelimit_limit, ratelimit_remaining, ratelimit_reset;
    /* Called with each answer as it is made (before it is sent), when set:
     * status, Content-Type (NULL for none) and body; answer_ctx is its own
     * (malloc'd, freed with the request). */
    void (*on_answer)(http_request *req, int status, const char *type, const char *body,
                      size_t len);
    void *answer_ctx;
    int replayed; /* the answer repeats an earlier one: Idempotent-Replayed: true */
};

/* Sets the problem detail of req from a printf format and returns err, so
 * that a refusal reads `return http_fail(req, LICD_ERR_X, "...", ...);`. */
int http_fail(http_request *req, licd_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs next(req) on the server's offload pool instead of the calling HTTP
 * worker, for CPU-bound work (password hashing) that must never hold the
 * threads serving other routes; a handler ends with
 * `return http_offload(req, next);`. next answers as a handler does, and
 * its answer is sent when it returns. A full pool answers 503. */
int http_offload(http_request *req, http_handler next);

/* Waits for work done by another thread (a batch written by the store)
 * without holding the HTTP worker thread: a handler ends with
 * `return http_wait(req, start, then);`, the server suspends the
 * connection and calls start(req) on the worker; start hands the work on,
 * and whoever finishes it calls http_wake(req), from any thread. Then
 * then(req) runs on a worker and answers as a handler does (or waits
 * again). A start that fails answers its error at once and is not woken. */
int http_wait(http_request *req, http_handler start, http_handler then);
/* req is the waiting http_request: a void * so that http_wake can be the
 * done callback itself (store_lease_heartbeat's, say). */
void http_wake(void *req);
/* Keeps ctx with the request (for a handler that waits): ctx_free(ctx) is
 * called once the request is done, answered or not. */
void http_keep(http_request *req, void *ctx, void (*ctx_free)(void *ctx));

/* Path parameter by template name, query argument, or header; NULL if absent. */
const char *http_param(const http_request *req, const char *name);
const char *http_query(const http_request *req, const char *name);
const char *http_header(const http_request *req, const char *name);
/* The connection's peer address as text (IPv4 dotted, or IPv6; an
 * IPv4-mapped IPv6 address is given as its IPv4 address) into buf; 0, or -1
 * when it is unknown. */
int http_peer_address(const http_request *req, char *buf, size_t len);
/* The address the request came from, as text into buf: the peer's; or, when
 * the peer is one of the ntrusted proxies, the client's as X-Forwarded-For
 * tells (its entries, of every such header in order, read from the right:
 * the first that is not a trusted proxy, or the leftmost when all are).
 * 0, or -1 when it is unknown: no peer address, an entry that is not an IP
 * address where the client's should be, or more than 16 such headers. */
int http_client_address(const http_request *req, const netaddr *trusted, size_t ntrusted,
                        char *buf, size_t len);

/* Answers status with body serialised as application/json. */
int http_reply_json(http_request *req, int status, const cJSON *body);
/* Answers status with the given bytes and content type (copied). */
int http_reply_bytes(http_request *req, int status, const char *content_type, const char *data,
                     size_t len);
/* Answers with no body (e.g. 204). */
int http_reply_empty(http_request *req, int status);
/* Answers err as application/problem+json; detail may be NULL (then the
 * request's detail or the title is used). 503 adds Retry-After, 405 Allow. */
int http_reply_problem(http_request *req, licd_err err, const char *detail);
/* Builds the problem+json body for err (exposed for tests); caller frees. */
char *http_problem_body(licd_err err, const char *detail, const char *request_id);

/* Refuses (LICD_ERR_UNSUPPORTED_MEDIA_TYPE) a body whose Content-Type is not
 * application/json, then parses it into an object; the caller frees *out. */
int http_json_body(http_request *req, cJSON **out);

#endif
