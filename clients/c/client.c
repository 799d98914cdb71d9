/* The client object: its libcurl handle, the last error, and one HTTP
 * request at a time to licd with problem+json errors read back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* Bigger answers are not licd's: a JWKS or a token answer is a few KiB. */
#define MAX_ANSWER (1u << 20)

struct answer {
    char *data;
    size_t len;
    int too_big;
};

const char *licd_client_strerror(int code)
{
    switch (code) {
    case LICD_CLIENT_OK:
        return "success";
    case LICD_CLIENT_ERR_ARGS:
        return "bad argument";
    case LICD_CLIENT_ERR_NOMEM:
        return "out of memory";
    case LICD_CLIENT_ERR_NETWORK:
        return "network error";
    case LICD_CLIENT_ERR_HTTP:
        return "error answer from licd";
    case LICD_CLIENT_ERR_PROTOCOL:
        return "unexpected answer from licd";
    case LICD_CLIENT_ERR_INVALID_TOKEN:
        return "invalid token";
    case LICD_CLIENT_ERR_EXPIRED:
        return "token expired";
    case LICD_CLIENT_ERR_UNKNOWN_KEY:
        return "token signed with a key not in the JWKS";
    case LICD_CLIENT_ERR_NEED_PASSWORD:
        return "password needed";
    case LICD_CLIENT_ERR_IO:
        return "cache I/O error";
    case LICD_CLIENT_ERR_NOT_CACHED:
        return "nothing cached";
    }
    return "unknown error";
}

int client_fail(licd_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return code;
}

void client_clear_error(licd_client *c)
{
    c->error[0] = '\0';
    c->problem_code[0] = '\0';
    c->problem_detail[0] = '\0';
    c->http_status = 0;
    cJSON_Delete(c->problem);
    c->problem = NULL;
}

/* A header or URL with a control character could smuggle another header. */
static int has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* An http(s) URL without control characters. */
static int url_ok(const char *url)
{
    return (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) && !has_control(url);
}

/* A copy of url without its trailing '/'s, or NULL when memory runs out. */
static char *copy_url(const char *url)
{
    char *copy = strdup(url);
    for (size_t n = copy ? strlen(copy) : 0; n > 0 && copy[n - 1] == '/'; n--)
        copy[n - 1] = '\0';
    return copy;
}

int licd_client_new(const char *base_url, const char *customer_key, licd_client **out)
{
    licd_client *c;

    if (!out)
        return LICD_CLIENT_ERR_ARGS;
    *out = NULL;
    if ((base_url && !url_ok(base_url)) || has_control(customer_key))
        return LICD_CLIENT_ERR_ARGS;
    if (!(c = calloc(1, sizeof *c)))
        return LICD_CLIENT_ERR_NOMEM;
    c->connect_timeout = 5;
    c->timeout = 30;
    if ((base_url && !(c->base_url = copy_url(base_url))) ||
        (customer_key && !(c->customer_key = strdup(customer_key)))) {
        licd_client_free(c);
        return LICD_CLIENT_ERR_NOMEM;
    }
    *out = c;
    return LICD_CLIENT_OK;
}

void licd_client_free(licd_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->base_url);
    free(c->customer_key);
    free(c->vendor_key);
    cJSON_Delete(c->jwks);
    free(c->jwks_text);
    cJSON_Delete(c->problem);
    free(c);
}

/* ---- Moving between nodes (the lease holder's failover). ---- */

int licd_client_set_url(licd_client *c, const char *base_url)
{
    char *copy;

    if (!c || !base_url || !url_ok(base_url))
        return LICD_CLIENT_ERR_ARGS;
    if (!(copy = copy_url(base_url)))
        return LICD_CLIENT_ERR_NOMEM;
    free(c->base_url);
    c->base_url = copy;
    return LICD_CLIENT_OK;
}

const char *licd_client_url(const licd_client *c) { return c ? c->base_url : NULL; }

int licd_client_set_timeouts(licd_client *c, long connect_s, long total_s)
{
    if (!c || connect_s < 1 || total_s < 1)
        return LICD_CLIENT_ERR_ARGS;
    c->connect_timeout = connect_s;
    c->timeout = total_s;
    return LICD_CLIENT_OK;
}

const char *licd_client_error(const licd_client *c) { return c ? c->error : ""; }

long licd_client_http_status(const licd_client *c) { return c ? c->http_status : 0; }

const char *licd_client_problem_code(const licd_client *c)
{
    return c && c->problem_code[0] ? c->problem_code : NULL;
}

const char *licd_client_problem_detail(const licd_client *c)
{
    return c && c->problem_code[0] ? c->problem_detail : NULL;
}

static size_t on_data(char *data, size_t size, size_t n, void *p)
{
    struct answer *a = p;
    size_t add = size * n;
    char *grown;

    if (a->len + add > MAX_ANSWER) {
        a->too_big = 1;
        return 0;
    }
    if (!(grown = realloc(a->data, a->len + add + 1)))
        return 0;
    memcpy(grown + a->len, data, add);
    a->data = grown;
    a->len += add;
    a->data[a->len] = '\0';
    return add;
}

/* An error status: its problem+json code and detail, when it has them. */
static int http_failure(licd_client *c, const struct answer *a)
{
    cJSON *problem = a->data ? cJSON_ParseWithLength(a->data, a->len) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(problem, "code");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(problem, "detail");

    if (cJSON_IsString(code))
        snprintf(c->problem_code, sizeof c->problem_code, "%s", code->valuestring);
    if (cJSON_IsString(detail))
        snprintf(c->problem_detail, sizeof c->problem_detail, "%s", detail->valuestring);
    client_fail(c, LICD_CLIENT_ERR_HTTP, "HTTP %ld%s%s: %s", c->http_status,
                c->problem_code[0] ? " " : "", c->problem_code,
                cJSON_IsString(detail) ? detail->valuestring : "no details given");
    cJSON_Delete(c->problem);
    c->problem = cJSON_IsObject(problem) ? problem : NULL;
    if (!c->problem)
        cJSON_Delete(problem);
    return LICD_CLIENT_ERR_HTTP;
}

static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (!grown)
        return 0;
    *list = grown;
    return 1;
}

/* Options are set afresh on the one handle per request (curl_easy_reset
 * keeps its connections, so a second call reuses the first's). */
int client_send(licd_client *c, const struct client_call *call, cJSON **json, char **text)
{
    struct answer a = {0};
    struct curl_slist *headers = NULL;
    char *url = NULL, *auth = NULL, *type = NULL;
    const char *method = call->method;
    CURLcode cc;
    int rc = LICD_CLIENT_ERR_NOMEM;

    if (json)
        *json = NULL;
    if (text)
        *text = NULL;
    if (!c->base_url)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "no licd URL given");
    if (call->auth_scheme && !call->credential)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "no %s given", call->credential_name);
    if (has_control(call->path) || has_control(call->credential))
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a path or credential holds a control character");
    if (!c->curl && !(c->curl = curl_easy_init()))
        return client_fail(c, rc, "cannot start libcurl");
    curl_easy_reset(c->curl);
    if (!(url = malloc(strlen(c->base_url) + strlen(call->path) + 1)))
        goto out;
    strcpy(url, c->base_url);
    strcat(url, call->path);
    if (call->auth_scheme) {
        if (!(auth = malloc(strlen(call->auth_scheme) + strlen(call->credential) + 32)))
            goto out;
        sprintf(auth, "Authorization: %s %s", call->auth_scheme, call->credential);
    }
    if (call->body) {
        const char *ct = call->content_type ? call->content_type : "application/json";
        if (!(type = malloc(strlen(ct) + 32)))
            goto out;
        sprintf(type, "Content-Type: %s", ct);
    }
    if (!add_header(&headers, "Accept: application/json") || !add_header(&headers, "Expect:") ||
        (type && !add_header(&headers, type)) || (auth && !add_header(&headers, auth)))
        goto out;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "licd_client/0.1");
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &a);
    if (call->body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, call->body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
    }
    cc = curl_easy_perform(c->curl);
    if (cc == CURLE_WRITE_ERROR && a.too_big) {
        rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "%s %s: answer larger than %u bytes",
                         method, url, MAX_ANSWER);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = client_fail(c, cc == CURLE_OUT_OF_MEMORY ? LICD_CLIENT_ERR_NOMEM : LICD_CLIENT_ERR_NETWORK,
                         "%s %s: %s", method, url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->http_status);
    if (c->http_status < 200 || c->http_status > 299) {
        rc = http_failure(c, &a);
        goto out;
    }
    if (json && (!a.data || !(*json = cJSON_ParseWithLength(a.data, a.len)) || !cJSON_IsObject(*json))) {
        cJSON_Delete(*json);
        *json = NULL;
        rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "%s %s: the answer is not a JSON object",
                         method, url);
        goto out;
    }
    if (text) {
        if (!a.data && !(a.data = calloc(1, 1)))
            goto out;
        *text = a.data;
        a.data = NULL;
    }
    rc = LICD_CLIENT_OK;
out:
    if (rc == LICD_CLIENT_ERR_NOMEM && !c->error[0])
        client_fail(c, rc, "out of memory");
    curl_slist_free_all(headers);
    free(type);
    free(auth);
    free(url);
    free(a.data);
    return rc;
}

int client_request(licd_client *c, const char *method, const char *path, const char *body,
                   int bearer, cJSON **json, char **text)
{
    struct client_call call = {method, path, body, body ? strlen(body) : 0, NULL,
                               bearer ? "Bearer" : NULL, bearer ? c->customer_key : NULL,
                               "customer key"};
    return client_send(c, &call, json, text);
}
