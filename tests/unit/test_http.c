/* Unit tests for service/http/server.c: the real libmicrohttpd server in-process, driven with raw HTTP over TCP. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <semaphore.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http/request.h"
#include "http/server.h"
#include "http/static.h"
#include "util/error.h"

/* ---- routes under test ---- */

/* Answers {"len": body length} for any body. */
static int h_echo_len(http_request *req)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "len", (double)req->body_len);
    int rc = http_reply_json(req, 200, o);
    cJSON_Delete(o);
    return rc;
}

/* Answers the {id} path parameter and the "q" query argument. */
static int h_item(http_request *req)
{
    const char *q = http_query(req, "q");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", http_param(req, "id"));
    if (q)
        cJSON_AddStringToObject(o, "q", q);
    else
        cJSON_AddNullToObject(o, "q");
    int rc = http_reply_json(req, 200, o);
    cJSON_Delete(o);
    return rc;
}

/* Parses the body through http_json_body and answers its "name". */
static int h_json(http_request *req)
{
    cJSON *body = NULL, *o;
    int rc = http_json_body(req, &body);
    if (rc != LICD_OK)
        return rc;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", cJSON_IsString(name) ? name->valuestring : "");
    rc = http_reply_json(req, 200, o);
    cJSON_Delete(o);
    cJSON_Delete(body);
    return rc;
}

/* Fails with an internal error after writing a detail that must not reach the client. */
static int h_internal(http_request *req)
{
    snprintf(req->detail, sizeof req->detail, "secret: connection string host=db password=hunter2");
    return LICD_ERR_NOMEM;
}

/* Returns success without answering: the server must still answer. */
static int h_silent(http_request *req)
{
    (void)req;
    return LICD_OK;
}

static int h_empty(http_request *req) { return http_reply_empty(req, 204); }

/* Offloaded work that waits for the test to open the gate, then answers
 * with the body length (the request is whole on the pool thread). */
static sem_t gate;

static int h_gated_rest(http_request *req)
{
    sem_wait(&gate);
    return h_echo_len(req);
}

static int h_offload(http_request *req) { return http_offload(req, h_gated_rest); }

/* Offloaded work that fails without answering: the server answers for it. */
static int h_offload_fail_rest(http_request *req)
{
    snprintf(req->detail, sizeof req->detail, "refused on the pool");
    return LICD_ERR_FORBIDDEN;
}

static int h_offload_fail(http_request *req) { return http_offload(req, h_offload_fail_rest); }

/* A handler that waits (http_wait) twice for the test to wake it, keeping
 * its state with the request, then answers {"waits","len"}. */
static pthread_mutex_t waiting_lock = PTHREAD_MUTEX_INITIALIZER;
static http_request *waiting[16];
static int nwaiting;
static atomic_int kept_freed;

struct kept {
    int waits;
};

static void kept_free(void *p)
{
    free(p);
    atomic_fetch_add(&kept_freed, 1);
}

static int w_start(http_request *req)
{
    pthread_mutex_lock(&waiting_lock);
    waiting[nwaiting++] = req;
    pthread_mutex_unlock(&waiting_lock);
    return LICD_OK;
}

static int w_then(http_request *req)
{
    struct kept *k = req->ctx;
    cJSON *o;
    int rc;
    if (++k->waits < 2)
        return http_wait(req, w_start, w_then);
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "waits", k->waits);
    cJSON_AddNumberToObject(o, "len", (double)req->body_len);
    rc = http_reply_json(req, 200, o);
    cJSON_Delete(o);
    return rc;
}

static int h_wait(http_request *req)
{
    struct kept *k = calloc(1, sizeof *k);
    if (!k)
        return LICD_ERR_NOMEM;
    http_keep(req, k, kept_free);
    return http_wait(req, w_start, w_then);
}

static int w_start_fail(http_request *req)
{
    return http_fail(req, LICD_ERR_UNAVAILABLE, "no batch today");
}

static int h_wait_fail(http_request *req) { return http_wait(req, w_start_fail, w_then); }

/* Wakes the requests waiting once there are n (within 5 s); how many. */
static int wake_when(int n)
{
    int woken;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&waiting_lock);
        woken = nwaiting;
        pthread_mutex_unlock(&waiting_lock);
        if (woken >= n)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&waiting_lock);
    woken = nwaiting;
    for (int i = 0; i < nwaiting; i++)
        http_wake(waiting[i]);
    nwaiting = 0;
    pthread_mutex_unlock(&waiting_lock);
    return woken;
}

/* ---- a route declaration of the test's own (the struct is the application's) ---- */

/* The X-Key header value a route asks for. */
struct http_auth {
    const char *key;
};
static const http_auth keyed = {"k1"};

/* Lets requests to undeclared routes through; a keyed route needs its X-Key.
 * The caller is a malloc'd text naming the key and how much of the body had
 * been read by then (the server frees it with the request). */
static int authorize(http_request *req)
{
    const char *key = http_header(req, "X-Key");
    char *caller;
    if (!req->route->auth)
        return LICD_OK;
    if (!key || strcmp(key, req->route->auth->key) != 0) {
        snprintf(req->detail, sizeof req->detail, "send X-Key");
        return LICD_ERR_UNAUTHORIZED;
    }
    if (!(caller = malloc(64)))
        return LICD_ERR_NOMEM;
    snprintf(caller, 64, "%s after %zu body bytes", key, req->body_len);
    req->caller = caller;
    return LICD_OK;
}

/* Answers {"caller": what authorize found, "len": body length}. */
static int h_caller(http_request *req)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "caller", req->caller);
    cJSON_AddNumberToObject(o, "len", (double)req->body_len);
    int rc = http_reply_json(req, 200, o);
    cJSON_Delete(o);
    return rc;
}

static const http_route routes[] = {
    {"POST", "/echo", NULL, h_echo_len, 0},
    {"GET", "/items/{id}", NULL, h_item, 0},
    {"POST", "/small", NULL, h_echo_len, 100},
    {"POST", "/json", NULL, h_json, 0},
    {"GET", "/multi", NULL, h_empty, 0},
    {"POST", "/multi", NULL, h_empty, 0},
    {"GET", "/internal", NULL, h_internal, 0},
    {"GET", "/silent", NULL, h_silent, 0},
    {"POST", "/keyed", &keyed, h_caller, 0},
    {"POST", "/offload", NULL, h_offload, 0},
    {"GET", "/offload-fail", NULL, h_offload_fail, 0},
    {"POST", "/wait", NULL, h_wait, 0},
    {"GET", "/wait-fail", NULL, h_wait_fail, 0},
};

static http_server_config cfg;
static http_server *srv;
static int port;

static void start_server(void)
{
    char err[256] = "";
    cfg = (http_server_config){
        .host = "127.0.0.1",
        .port = 0,
        .threads = 2,
        .offload_threads = 1,
        .body_limit = 4096,
        .conn_timeout = 10,
        .per_ip_limit = 64,
        .access_log = 0,
        .routes = routes,
        .nroutes = sizeof routes / sizeof routes[0],
        .authorize = authorize,
    };
    sem_init(&gate, 0, 0);
    cr_assert_eq(http_server_start(&cfg, &srv, err, sizeof err), LICD_OK, "%s", err);
    port = http_server_port(srv);
    cr_assert_gt(port, 0);
}

static void stop_server(void)
{
    http_server_stop(srv, 1000);
    srv = NULL;
}

TestSuite(http, .init = start_server, .fini = stop_server, .timeout = 30);

/* ---- a small raw HTTP client ---- */

struct conn {
    int fd;
    char buf[1 << 16];
    size_t len; /* bytes received and not yet consumed */
};

struct resp {
    int status;
    char head[8192]; /* status line and headers, NUL-terminated */
    char *body;      /* NUL-terminated, body_len bytes */
    size_t body_len;
};

static void conn_open(struct conn *c)
{
    struct sockaddr_in sa = {0};
    struct timeval tv = {5, 0};
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(c->fd, 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s",
                 strerror(errno));
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void send_raw(struct conn *c, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        cr_assert_gt(n, 0, "send: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

static void send_str(struct conn *c, const char *s) { send_raw(c, s, strlen(s)); }

/* Reads more bytes into c->buf; returns how many (0 at end of stream), fails on timeout. */
static size_t fill(struct conn *c)
{
    cr_assert_lt(c->len, sizeof c->buf, "response too large");
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    cr_assert_geq(n, 0, "recv: %s", strerror(errno));
    c->len += (size_t)n;
    return (size_t)n;
}

/* Value of header name in r->head (copied into out), or NULL. */
static const char *header(const struct resp *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *line = strstr(r->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
            const char *v = h + nlen + 1, *end;
            while (*v == ' ' || *v == '\t')
                v++;
            end = strstr(v, "\r\n");
            size_t vlen = end ? (size_t)(end - v) : strlen(v);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Reads one response (Content-Length framed) from c; the caller frees r->body. */
static void read_response(struct conn *c, struct resp *r)
{
    char *end;
    char val[64];
    memset(r, 0, sizeof *r);
    for (;;) {
        c->buf[c->len] = '\0';
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        cr_assert_gt(fill(c), 0, "connection closed before a response (got %zu bytes)", c->len);
    }
    size_t hlen = (size_t)(end - c->buf) + 2; /* keep the last header's CRLF */
    cr_assert_lt(hlen, sizeof r->head);
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1, "bad status line: %s", r->head);
    cr_assert_not_null(header(r, "Content-Length", val, sizeof val), "no Content-Length in %s",
                       r->head);
    r->body_len = strtoul(val, NULL, 10);
    size_t need = hlen + 2 + r->body_len;
    while (c->len < need)
        cr_assert_gt(fill(c), 0, "connection closed in the body");
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, c->buf + hlen + 2, r->body_len);
    r->body[r->body_len] = '\0';
    memmove(c->buf, c->buf + need, c->len - need);
    c->len -= need;
}

/* True when the server closes the connection (EOF, or a reset after it). */
static int closed_by_server(struct conn *c)
{
    char b[256];
    if (c->len)
        return 0;
    ssize_t n = recv(c->fd, b, sizeof b, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Sends one request on a fresh connection and reads the answer; closes the connection. */
static void roundtrip(const char *request, struct resp *r)
{
    struct conn c;
    conn_open(&c);
    send_str(&c, request);
    read_response(&c, r);
    conn_close(&c);
}

/* Parses r->body as JSON; the caller deletes it. */
static cJSON *json_of(const struct resp *r)
{
    cJSON *j = cJSON_Parse(r->body);
    cr_assert_not_null(j, "body is not JSON: %s", r->body);
    return j;
}

static int is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

/* Checks an RFC 9457 answer: status, content type, code, and the request id in body and header. */
static void expect_problem(const struct resp *r, int status, const char *code)
{
    char type[128], rid[128];
    cr_assert_eq(r->status, status, "want %d, got %d: %s%s", status, r->status, r->head, r->body);
    cr_assert_not_null(header(r, "Content-Type", type, sizeof type));
    cr_assert_str_eq(type, "application/problem+json");
    cr_assert_not_null(header(r, "X-Request-Id", rid, sizeof rid), "no X-Request-Id: %s", r->head);
    cJSON *p = json_of(r);
    cr_assert_eq(cJSON_GetArraySize(p), 6, "%s", r->body);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "code");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "status");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "request_id");
    cr_assert(cJSON_IsString(c) && cJSON_IsNumber(s) && cJSON_IsString(id), "%s", r->body);
    cr_assert_str_eq(c->valuestring, code, "%s", r->body);
    cr_assert_eq(s->valuedouble, (double)status);
    cr_assert_str_eq(id->valuestring, rid);
    cJSON_Delete(p);
}

/* The "len" member of an echo answer. */
static long echoed_len(const struct resp *r)
{
    cr_assert_eq(r->status, 200, "%s%s", r->head, r->body);
    cJSON *j = json_of(r);
    const cJSON *len = cJSON_GetObjectItemCaseSensitive(j, "len");
    cr_assert(cJSON_IsNumber(len));
    long v = (long)len->valuedouble;
    cJSON_Delete(j);
    return v;
}

/* Builds a chunked body of total bytes in chunks of at most chunk bytes. */
static char *chunked(size_t total, size_t chunk)
{
    char *s = malloc(total * 2 + 64 + (total / chunk + 2) * 16), *p = s;
    while (total) {
        size_t n = total < chunk ? total : chunk;
        p += sprintf(p, "%zx\r\n", n);
        memset(p, 'c', n);
        p += n;
        p += sprintf(p, "\r\n");
        total -= n;
    }
    strcpy(p, "0\r\n\r\n");
    return s;
}

/* Sends raw, expects that problem and the connection closed by the server. */
static void refused_and_closed(const char *raw, int status, const char *code)
{
    struct conn c;
    struct resp r;
    conn_open(&c);
    send_str(&c, raw);
    read_response(&c, &r);
    expect_problem(&r, status, code);
    cr_assert(closed_by_server(&c), "connection left open after a refused request");
    free(r.body);
    conn_close(&c);
}

/* ---- framing ---- */

Test(http, two_content_length_headers_refused_and_closed)
{
    refused_and_closed("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
                 "hello", 400, "bad_request");
}

Test(http, two_different_content_lengths_refused)
{
    refused_and_closed("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n"
                 "hi", 400, "bad_request");
}

Test(http, content_length_with_chunked_refused)
{
    refused_and_closed("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "bad_request");
}

Test(http, repeated_transfer_encoding_refused)
{
    refused_and_closed("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "bad_request");
}

/* ---- body limits ---- */

Test(http, declared_length_over_route_limit_is_413)
{
    /* Answered from the headers alone: the body is never sent. */
    refused_and_closed("POST /small HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 101\r\n\r\n", 413, "body_too_large");
}

Test(http, declared_length_over_default_limit_is_413)
{
    struct resp r;
    roundtrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4097\r\n\r\n", &r);
    expect_problem(&r, 413, "body_too_large");
    free(r.body);
    roundtrip("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n",
              &r);
    cr_assert(r.status == 413 || r.status == 400, "got %d", r.status);
    free(r.body);
}

Test(http, chunked_body_over_limit_is_413)
{
    struct conn c;
    struct resp r;
    char *body = chunked(150, 50);
    conn_open(&c);
    send_str(&c, "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    send_str(&c, body);
    read_response(&c, &r);
    expect_problem(&r, 413, "body_too_large");
    cr_assert(closed_by_server(&c));
    free(r.body);
    free(body);
    conn_close(&c);
}

Test(http, chunked_body_one_byte_over_limit_is_413)
{
    struct resp r;
    char req[512];
    char *body = chunked(101, 7);
    snprintf(req, sizeof req,
             "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n%s", body);
    roundtrip(req, &r);
    expect_problem(&r, 413, "body_too_large");
    free(r.body);
    free(body);
}

Test(http, body_exactly_at_limit_is_accepted)
{
    struct resp r;
    char req[512], data[101];
    memset(data, 'b', 100);
    data[100] = '\0';
    snprintf(req, sizeof req, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n%s",
             data);
    roundtrip(req, &r);
    cr_assert_eq(echoed_len(&r), 100);
    free(r.body);

    char *body = chunked(100, 30);
    snprintf(req, sizeof req,
             "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n%s", body);
    roundtrip(req, &r);
    cr_assert_eq(echoed_len(&r), 100);
    free(r.body);
    free(body);
}

Test(http, large_chunked_body_under_default_limit)
{
    struct conn c;
    struct resp r;
    char *body = chunked(4096, 1000);
    conn_open(&c);
    send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    send_str(&c, body);
    read_response(&c, &r);
    cr_assert_eq(echoed_len(&r), 4096);
    free(r.body);
    free(body);
    conn_close(&c);
}

/* ---- request ids ---- */

Test(http, request_id_echoed)
{
    struct resp r;
    char rid[128];
    roundtrip("GET /items/a HTTP/1.1\r\nHost: t\r\nX-Request-Id: client-id_1.2:3\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(header(&r, "X-Request-Id", rid, sizeof rid));
    cr_assert_str_eq(rid, "client-id_1.2:3");
    free(r.body);

    /* Also on an error, in the header and the problem body. */
    roundtrip("GET /nowhere HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-404\r\n\r\n", &r);
    expect_problem(&r, 404, "not_found");
    cr_assert_str_eq(header(&r, "X-Request-Id", rid, sizeof rid), "abc-404");
    free(r.body);
}

Test(http, request_id_generated)
{
    struct resp r;
    char a[128], b[128];
    roundtrip("GET /items/a HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_not_null(header(&r, "X-Request-Id", a, sizeof a));
    cr_assert(is_hex32(a), "generated id %s is not 32 hex digits", a);
    free(r.body);
    roundtrip("GET /items/a HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_not_null(header(&r, "X-Request-Id", b, sizeof b));
    cr_assert(is_hex32(b));
    cr_assert_str_neq(a, b);
    free(r.body);
}

Test(http, unsafe_or_long_request_id_replaced)
{
    static const char *const bad[] = {
        "<script>", "has space", "quote\"d", "",
        "0123456789012345678901234567890123456789012345678901234567890123456789", /* 70 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct resp r;
        char req[256], rid[128];
        snprintf(req, sizeof req, "GET /nowhere HTTP/1.1\r\nHost: t\r\nX-Request-Id: %s\r\n\r\n",
                 bad[i]);
        roundtrip(req, &r);
        expect_problem(&r, 404, "not_found");
        cr_assert(is_hex32(header(&r, "X-Request-Id", rid, sizeof rid)), "%s kept as %s", bad[i],
                  rid);
        free(r.body);
    }
}

/* ---- routing ---- */

Test(http, unknown_path_is_404)
{
    struct resp r;
    roundtrip("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    expect_problem(&r, 404, "not_found");
    free(r.body);
    roundtrip("POST /echo/ HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r);
    expect_problem(&r, 404, "not_found");
    free(r.body);
}

Test(http, wrong_method_is_405_with_allow)
{
    struct resp r;
    char allow[64];
    roundtrip("DELETE /multi HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    expect_problem(&r, 405, "method_not_allowed");
    cr_assert_not_null(header(&r, "Allow", allow, sizeof allow), "no Allow: %s", r.head);
    cr_assert_str_eq(allow, "GET, POST");
    free(r.body);

    roundtrip("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    expect_problem(&r, 405, "method_not_allowed");
    cr_assert_str_eq(header(&r, "Allow", allow, sizeof allow), "POST");
    free(r.body);
}

Test(http, path_param_and_query)
{
    struct resp r;
    roundtrip("GET /items/a%20b?q=hello%20world&x=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 200, "%s%s", r.head, r.body);
    cJSON *j = json_of(&r);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring, "a b");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "q")->valuestring, "hello world");
    cJSON_Delete(j);
    free(r.body);

    roundtrip("GET /items/plain HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    j = json_of(&r);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring, "plain");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "q")));
    cJSON_Delete(j);
    free(r.body);
}

Test(http, path_param_decoded_exactly_once)
{
    struct resp r;
    roundtrip("GET /items/%2541 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 200, "%s%s", r.head, r.body);
    cJSON *j = json_of(&r);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring, "%41");
    cJSON_Delete(j);
    free(r.body);
}

Test(http, nul_and_slash_in_path_param_are_404)
{
    static const char *const paths[] = {"/items/ab%00cd", "/items/%00", "/items/a%2Fb",
                                        "/items/a%2fb", "/items/%2F"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct resp r;
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
        roundtrip(req, &r);
        cr_assert_eq(r.status, 404, "%s answered %d: %s", paths[i], r.status, r.body);
        expect_problem(&r, 404, "not_found");
        free(r.body);
    }
}

/* ---- keep-alive ---- */

Test(http, keep_alive_two_requests_one_connection)
{
    struct conn c;
    struct resp r;
    conn_open(&c);
    send_str(&c, "GET /items/one HTTP/1.1\r\nHost: t\r\n\r\n");
    read_response(&c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"one\""));
    free(r.body);
    send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    read_response(&c, &r);
    cr_assert_eq(echoed_len(&r), 3);
    free(r.body);
    /* An error answered after the headers keeps the connection too. */
    send_str(&c, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
    read_response(&c, &r);
    expect_problem(&r, 404, "not_found");
    free(r.body);
    send_str(&c, "GET /items/two HTTP/1.1\r\nHost: t\r\n\r\n");
    read_response(&c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"two\""));
    free(r.body);
    conn_close(&c);
}

Test(http, keep_alive_pipelined)
{
    struct conn c;
    struct resp r;
    conn_open(&c);
    send_str(&c, "GET /items/p1 HTTP/1.1\r\nHost: t\r\n\r\n"
                 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nwxyz"
                 "GET /items/p3 HTTP/1.1\r\nHost: t\r\n\r\n");
    read_response(&c, &r);
    cr_assert_not_null(strstr(r.body, "\"p1\""), "%s", r.body);
    free(r.body);
    read_response(&c, &r);
    cr_assert_eq(echoed_len(&r), 4);
    free(r.body);
    read_response(&c, &r);
    cr_assert_not_null(strstr(r.body, "\"p3\""), "%s", r.body);
    free(r.body);
    conn_close(&c);
}

/* ---- JSON bodies ---- */

Test(http, json_body_accepted)
{
    struct resp r;
    roundtrip("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              "Content-Length: 14\r\n\r\n{\"name\":\"abc\"}",
              &r);
    cr_assert_eq(r.status, 200, "%s%s", r.head, r.body);
    cr_assert_str_eq(r.body, "{\"name\":\"abc\"}");
    free(r.body);
    roundtrip("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: Application/JSON; charset=utf-8\r\n"
              "Content-Length: 14\r\n\r\n{\"name\":\"abc\"}",
              &r);
    cr_assert_eq(r.status, 200, "%s%s", r.head, r.body);
    free(r.body);
}

Test(http, json_body_wrong_content_type_is_415)
{
    static const char *const types[] = {"Content-Type: text/plain\r\n",
                                        "Content-Type: application/jsonx\r\n",
                                        "Content-Type: application/x-www-form-urlencoded\r\n",
                                        ""};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct resp r;
        char req[512];
        snprintf(req, sizeof req,
                 "POST /json HTTP/1.1\r\nHost: t\r\n%sContent-Length: 14\r\n\r\n{\"name\":\"abc\"}",
                 types[i]);
        roundtrip(req, &r);
        expect_problem(&r, 415, "unsupported_media_type");
        free(r.body);
    }
}

Test(http, json_body_malformed_is_400)
{
    static const char *const bodies[] = {"{\"name\":", "[1,2]", "{\"a\":1} x", "{\"a\":\"\\u0000\"}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct resp r;
        char req[512];
        snprintf(req, sizeof req,
                 "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 strlen(bodies[i]), bodies[i]);
        roundtrip(req, &r);
        expect_problem(&r, 400, "malformed_json");
        free(r.body);
    }
    /* An empty body too. */
    struct resp r;
    roundtrip("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              "Content-Length: 0\r\n\r\n",
              &r);
    expect_problem(&r, 400, "malformed_json");
    free(r.body);
}

/* ---- authorization ---- */

Test(http, caller_found_before_the_body_reaches_the_handler)
{
    struct resp r;
    roundtrip("POST /keyed HTTP/1.1\r\nHost: t\r\nX-Key: k1\r\nContent-Length: 5\r\n\r\nhello",
              &r);
    cr_assert_eq(r.status, 200, "%s%s", r.head, r.body);
    cr_assert_str_eq(r.body, "{\"caller\":\"k1 after 0 body bytes\",\"len\":5}");
    free(r.body);
}

Test(http, refused_caller_never_reaches_the_handler)
{
    static const char *const keys[] = {"", "X-Key: k2\r\n", "X-Key: \r\n"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        struct resp r;
        char req[256];
        /* A body the handler would have answered 200 to, malformed JSON for a parser. */
        snprintf(req, sizeof req,
                 "POST /keyed HTTP/1.1\r\nHost: t\r\n%sContent-Length: 9\r\n\r\n{not json",
                 keys[i]);
        roundtrip(req, &r);
        expect_problem(&r, 401, "unauthorized");
        cr_assert_not_null(strstr(r.body, "send X-Key"), "%s", r.body);
        free(r.body);
    }
}

Test(http, refused_request_body_is_read_past_and_the_connection_kept)
{
    struct conn c;
    struct resp r;
    char req[4096];
    char body[3001];
    memset(body, 'b', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    snprintf(req, sizeof req, "POST /keyed HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    conn_open(&c);
    send_str(&c, req);
    read_response(&c, &r);
    expect_problem(&r, 401, "unauthorized");
    free(r.body);
    send_str(&c, "POST /keyed HTTP/1.1\r\nHost: t\r\nX-Key: k1\r\nContent-Length: 2\r\n\r\nok");
    read_response(&c, &r);
    cr_assert_eq(r.status, 200, "%s%s", r.head, r.body);
    cr_assert_not_null(strstr(r.body, "\"len\":2"), "%s", r.body);
    free(r.body);
    conn_close(&c);
}

Test(http, routing_comes_before_authorization)
{
    struct resp r;
    roundtrip("GET /keyed HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    expect_problem(&r, 405, "method_not_allowed");
    free(r.body);
}

/* ---- handler failures ---- */

Test(http, internal_error_hides_its_detail)
{
    struct resp r;
    roundtrip("GET /internal HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    expect_problem(&r, 500, "internal_error");
    cr_assert_null(strstr(r.body, "secret"), "internal detail leaked: %s", r.body);
    cr_assert_null(strstr(r.body, "hunter2"), "internal detail leaked: %s", r.body);
    free(r.body);
}

Test(http, handler_that_does_not_answer_gets_500)
{
    struct resp r;
    roundtrip("GET /silent HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    expect_problem(&r, 500, "internal_error");
    free(r.body);
}

Test(http, client_that_leaves_mid_request)
{
    /* Half a request, then gone: the server frees the request and keeps serving. */
    struct conn c;
    struct resp r;
    conn_open(&c);
    send_str(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\nonly part");
    conn_close(&c);
    conn_open(&c);
    send_str(&c, "GET /items/after HTTP/1.1\r\n");
    conn_close(&c);
    roundtrip("GET /items/still HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
}

/* ---- the offload pool and waiting requests ---- */

/* Opens four connections that each send request (to be held), then shows
 * three other requests served meanwhile on the two worker threads. */
static void hold_four(struct conn c[4], const char *request)
{
    struct resp r;
    for (int i = 0; i < 4; i++) {
        conn_open(&c[i]);
        send_str(&c[i], request);
    }
    for (int i = 0; i < 3; i++) {
        roundtrip("GET /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
        cr_assert_eq(r.status, 200);
        free(r.body);
    }
}

/* The connection stays usable after its suspension; then it is closed. */
static void still_usable(struct conn *c)
{
    struct resp r;
    send_str(c, "GET /items/8 HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(c, &r);
    cr_assert_eq(r.status, 200);
    free(r.body);
    conn_close(c);
}

/* Four requests wait on the pool (one thread, the gate closed) while the
 * two HTTP workers go on serving other routes; then each gets its answer. */
Test(http, offloaded_work_never_holds_the_workers)
{
    struct conn c[4];
    struct resp r;
    hold_four(c, "POST /offload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    for (int i = 0; i < 4; i++)
        sem_post(&gate);
    for (int i = 0; i < 4; i++) {
        read_response(&c[i], &r);
        cr_assert_eq(r.status, 200);
        cr_assert_eq(echoed_len(&r), 3);
        free(r.body);
        still_usable(&c[i]);
    }
}

Test(http, offloaded_failure_is_answered_as_a_problem)
{
    struct resp r;
    roundtrip("GET /offload-fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
    expect_problem(&r, 403, "forbidden");
    cr_assert_not_null(strstr(r.body, "refused on the pool"));
    free(r.body);
}

/* Four requests wait (twice each) on a server of two worker threads:
 * others are served meanwhile, each is answered once woken, its state is
 * freed with it, and its connection stays usable. */
Test(http, waiting_requests_never_hold_the_workers)
{
    struct conn c[4];
    struct resp r;
    int freed = atomic_load(&kept_freed), woken = 0;
    hold_four(c, "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
    woken += wake_when(4);
    woken += wake_when(4);
    cr_assert_eq(woken, 8, "each of the 4 requests waits twice: %d wakes", woken);
    for (int i = 0; i < 4; i++) {
        read_response(&c[i], &r);
        cr_assert_eq(r.status, 200);
        cr_assert_not_null(strstr(r.body, "\"waits\":2"), "%s", r.body);
        cr_assert_not_null(strstr(r.body, "\"len\":4"), "%s", r.body);
        free(r.body);
        still_usable(&c[i]);
    }
    cr_assert_eq(atomic_load(&kept_freed) - freed, 4, "each request's state freed once");
}

Test(http, wait_whose_start_fails_is_answered)
{
    struct resp r;
    roundtrip("GET /wait-fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
    expect_problem(&r, 503, "unavailable");
    cr_assert_not_null(strstr(r.body, "no batch today"), "%s", r.body);
    free(r.body);
}

Test(static_files, content_type_by_extension_and_nothing_else)
{
    cr_assert_str_eq(http_static_content_type("index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(http_static_content_type("app.js"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(http_static_content_type("uPlot.min.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(http_static_content_type("uPlot.LICENSE.txt"), "text/plain; charset=utf-8");
    cr_assert_str_eq(http_static_content_type("favicon.svg"), "image/svg+xml");
    cr_assert_null(http_static_content_type("README"));
    cr_assert_null(http_static_content_type(".js"));
    cr_assert_null(http_static_content_type("data.json"));
    cr_assert_null(http_static_content_type("app.JS"));
    cr_assert_null(http_static_content_type("app.js.map"));
    cr_assert_null(http_static_content_type("index.html~"));
}
