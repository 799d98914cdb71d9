/* Route look-up over path templates with {name} segments. */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes one path segment into out; refuses NUL, '/' and overlong values. */
static int decode_segment(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
                (lo = hexval(s[i + 2])) < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
            if (c == '\0' || c == '/')
                return -1;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* Whether t points at a whole {name} segment of a template; sets *end to
 * its closing brace. */
static int is_param(const char *t, const char **end)
{
    const char *close = strchr(t, '}');
    if (*t != '{' || !close || close - t < 2 || (close[1] != '/' && close[1] != '\0') ||
        memchr(t, '/', (size_t)(close - t)))
        return 0;
    *end = close;
    return 1;
}

/* Compares path with template t in one pass, capturing parameters (when req
 * is not NULL); a literal part stops at its first differing byte. */
static int path_matches(const char *t, const char *path, http_request *req)
{
    int n = 0;
    int segment_start = 1;
    const char *close;
    for (;;) {
        if (segment_start && is_param(t, &close)) {
            const char *pe = strchrnul(path, '/');
            size_t name_len = (size_t)(close - t - 1);
            char value[HTTP_PARAM_MAX];
            if (n == HTTP_MAX_PARAMS || name_len >= sizeof req->params[0].name ||
                decode_segment(path, (size_t)(pe - path), value, sizeof value) != 0)
                return 0;
            if (req) {
                memcpy(req->params[n].name, t + 1, name_len);
                req->params[n].name[name_len] = '\0';
                memcpy(req->params[n].value, value, sizeof value);
            }
            n++;
            t = close + 1, path = pe;
            segment_start = 0;
            continue;
        }
        if (*t != *path)
            return 0;
        if (!*t)
            break;
        segment_start = *t == '/';
        t++, path++;
    }
    if (req)
        req->nparams = n;
    return 1;
}

int router_match(const http_route *routes, size_t nroutes, const char *method, const char *path,
                 const http_route **route, http_request *req)
{
    size_t used = 0;
    int path_known = 0;
    req->allow[0] = '\0';
    *route = NULL;
    if (!path || path[0] != '/')
        return LICD_ERR_NOT_FOUND;
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, method) == 0 && path_matches(routes[i].path, path, req)) {
            *route = &routes[i];
            return LICD_OK;
        }
    }
    /* No route of this method: the methods the path has, for a 405. */
    for (size_t i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, method) == 0 || !path_matches(routes[i].path, path, NULL))
            continue;
        path_known = 1;
        if (strstr(req->allow, routes[i].method))
            continue;
        int w = snprintf(req->allow + used, sizeof req->allow - used, "%s%s", used ? ", " : "",
                         routes[i].method);
        if (w > 0 && (size_t)w < sizeof req->allow - used)
            used += (size_t)w;
    }
    req->nparams = 0;
    return path_known ? LICD_ERR_METHOD_NOT_ALLOWED : LICD_ERR_NOT_FOUND;
}
