/* Answers: JSON, raw bytes, empty, and RFC 9457 problem+json; request
 * accessors and the JSON body gate. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/request.h"
#include "http/response.h"
#include "util/json.h"
#include "util/log.h"

const char *http_param(const http_request *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

const char *http_query(const http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int http_peer_address(const http_request *req, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                         (socklen_t)len) ? 0 : -1;
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            return inet_ntop(AF_INET, a->s6_addr + 12, buf, (socklen_t)len) ? 0 : -1;
        return inet_ntop(AF_INET6, a, buf, (socklen_t)len) ? 0 : -1;
    }
    return -1;
}

#define FORWARDED_HEADERS_MAX 16

/* The X-Forwarded-For headers of a request, in order. */
struct forwarded {
    const char *values[FORWARDED_HEADERS_MAX];
    int n, overflow;
};

static enum MHD_Result collect_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    struct forwarded *f = cls;
    (void)kind;
    if (!value || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    if (f->n == FORWARDED_HEADERS_MAX) {
        f->overflow = 1;
        return MHD_NO;
    }
    f->values[f->n++] = value;
    return MHD_YES;
}

static int is_trusted(const netaddr *a, const netaddr *trusted, size_t ntrusted)
{
    for (size_t i = 0; i < ntrusted; i++)
        if (netaddr_contains(&trusted[i], a))
            return 1;
    return 0;
}

/* One X-Forwarded-For entry (len bytes at s, spaces around it allowed). */
static int forwarded_entry(const char *s, size_t len, netaddr *out)
{
    char text[NETADDR_TEXT_MAX];
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof text)
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    return netaddr_parse(text, out);
}

/* Proxies append the address they heard from on the right, so the entries
 * are read from the right: the first one no trusted proxy wrote is the
 * client's, and anything left of it is whatever the client sent. */
int http_client_address(const http_request *req, const netaddr *trusted, size_t ntrusted,
                        char *buf, size_t len)
{
    struct forwarded f = {.n = 0};
    char peer[NETADDR_TEXT_MAX];
    netaddr a;

    if (http_peer_address(req, peer, sizeof peer) != 0 || netaddr_parse(peer, &a) != 0)
        return -1;
    if (is_trusted(&a, trusted, ntrusted)) {
        MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_forwarded, &f);
        if (f.overflow)
            return -1;
        for (int h = f.n - 1; h >= 0; h--) {
            const char *v = f.values[h];
            size_t end = strlen(v), start;
            for (;; end = start - 1) {
                for (start = end; start > 0 && v[start - 1] != ','; start--)
                    ;
                if (forwarded_entry(v + start, end - start, &a) != 0)
                    return -1;
                if (!is_trusted(&a, trusted, ntrusted))
                    return netaddr_format(&a, buf, len);
                if (start == 0)
                    break;
            }
        }
    }
    return netaddr_format(&a, buf, len);
}

/* v (not negative) in decimal into buf (24 bytes); buf. On every keyed
 * answer three times, where snprintf cost about 800 instructions each. */
static const char *decimal(long long v, char buf[24])
{
    char *p = buf + 23;
    unsigned long long u = v > 0 ? (unsigned long long)v : 0;
    *p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    return p;
}

int http_queue(http_request *req, int status, struct MHD_Response *resp, const char *type)
{
    enum MHD_Result ok;
    if (!resp)
        return LICD_ERR_NOMEM;
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (!MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (req->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (status == 405 && req->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->allow);
    if (status == 503 || status == 429 || req->retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", req->retry_after > 0 ? req->retry_after : 1);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (req->ratelimit_set) {
        char n[24];
        MHD_add_response_header(resp, "RateLimit-Limit", decimal(req->ratelimit_limit, n));
        MHD_add_response_header(resp, "RateLimit-Remaining", decimal(req->ratelimit_remaining, n));
        MHD_add_response_header(resp, "RateLimit-Reset", decimal(req->ratelimit_reset, n));
    }
    if (req->replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (req->on_pool) {
        /* A suspended connection takes no answer from another thread: the
         * server queues it when the connection resumes. */
        MHD_destroy_response(req->held);
        req->held = resp;
        req->held_status = req->status = status;
        return LICD_OK;
    }
    ok = MHD_queue_response(req->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES)
        return LICD_ERR_INTERNAL;
    req->status = status;
    return LICD_OK;
}

/* An answer of len bytes at data, shown first to the request's answer hook;
 * mode says whether MHD copies data or frees it (then data is malloc'd and
 * owned by the answer, even on failure). */
static int queue(http_request *req, int status, const char *type, char *data, size_t len,
                 enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp;
    if (req->on_answer)
        req->on_answer(req, status, type, data, len);
    if (!(resp = MHD_create_response_from_buffer(len, data, mode))) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(data);
        return LICD_ERR_NOMEM;
    }
    return http_queue(req, status, resp, type);
}

int http_fail(http_request *req, licd_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->detail, sizeof req->detail, fmt, ap);
    va_end(ap);
    return err;
}

int http_offload(http_request *req, http_handler next)
{
    req->offload = next;
    return LICD_OK;
}

int http_wait(http_request *req, http_handler start, http_handler then)
{
    req->wait_start = start;
    req->wait_then = then;
    return LICD_OK;
}

void http_wake(void *req) { MHD_resume_connection(((http_request *)req)->conn); }

void http_keep(http_request *req, void *ctx, void (*ctx_free)(void *ctx))
{
    req->ctx = ctx;
    req->ctx_free = ctx_free;
}

int http_reply_bytes(http_request *req, int status, const char *content_type, const char *data,
                     size_t len)
{
    /* MUST_COPY only reads data; the prototype lacks the const. */
    return queue(req, status, content_type, (char *)(uintptr_t)data, len, MHD_RESPMEM_MUST_COPY);
}

int http_reply_empty(http_request *req, int status)
{
    return queue(req, status, NULL, NULL, 0, MHD_RESPMEM_PERSISTENT);
}

int http_reply_json(http_request *req, int status, const cJSON *body)
{
    char *text = cJSON_PrintUnformatted(body);
    if (!text)
        return LICD_ERR_NOMEM;
    return queue(req, status, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE);
}

/* The problem object, with extra's members (copied) after the standard ones. */
static char *problem_text(licd_err err, const char *detail, const char *request_id,
                          const cJSON *extra)
{
    cJSON *p = cJSON_CreateObject();
    const cJSON *m;
    char type[96], *text = NULL;
    if (!p)
        return NULL;
    snprintf(type, sizeof type, "https://licd.dev/problems/%s", licd_err_code(err));
    if (cJSON_AddStringToObject(p, "type", type) &&
        cJSON_AddStringToObject(p, "title", licd_err_title(err)) &&
        cJSON_AddNumberToObject(p, "status", licd_err_status(err)) &&
        cJSON_AddStringToObject(p, "detail", detail && *detail ? detail : licd_err_title(err)) &&
        cJSON_AddStringToObject(p, "code", licd_err_code(err)) &&
        cJSON_AddStringToObject(p, "request_id", request_id ? request_id : "")) {
        cJSON_ArrayForEach(m, extra) {
            if (!cJSON_GetObjectItemCaseSensitive(p, m->string))
                cJSON_AddItemToObject(p, m->string, cJSON_Duplicate(m, 1));
        }
        text = cJSON_PrintUnformatted(p);
    }
    cJSON_Delete(p);
    return text;
}

char *http_problem_body(licd_err err, const char *detail, const char *request_id)
{
    return problem_text(err, detail, request_id, NULL);
}

int http_reply_problem(http_request *req, licd_err err, const char *detail)
{
    int status = licd_err_status(err);
    char *text;
    if (!detail)
        detail = req->detail;
    if (status == 500) {
        /* Internal details stay in the log; the client sees only the title. */
        if (err != LICD_ERR_INTERNAL || (detail && *detail)) {
            log_record r;
            log_begin(&r, "error");
            log_str(&r, "error", licd_err_name(err));
            log_str(&r, "detail", detail ? detail : "");
            log_str(&r, "request_id", req->request_id);
            log_end(&r);
        }
        detail = NULL;
    }
    text = problem_text(err, detail, req->request_id, status == 500 ? NULL : req->problem_extra);
    if (!text)
        return LICD_ERR_NOMEM;
    return queue(req, status, "application/problem+json", text, strlen(text),
                 MHD_RESPMEM_MUST_FREE);
}

int http_json_body(http_request *req, cJSON **out)
{
    const char *type = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = strlen("application/json");
    *out = NULL;
    if (!type || strncasecmp(type, "application/json", n) != 0 ||
        (type[n] != '\0' && type[n] != ';' && type[n] != ' ')) {
        return http_fail(req, LICD_ERR_UNSUPPORTED_MEDIA_TYPE,
                         "Content-Type must be application/json");
    }
    return json_parse_object(req->body, req->body_len, out, req->detail);
}
