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

/* Compares path with template t segment by segment, capturing parameters. */
static int path_matches(const char *t, const char *path, http_request *req)
{
    int n = 0;
    while (*t && *path) {
        const char *te = strchr(t, '/'), *pe = strchr(path, '/');
        size_t tl = te ? (size_t)(te - t) : strlen(t), pl = pe ? (size_t)(pe - path) : strlen(path);
        if (tl > 2 && t[0] == '{' && t[tl - 1] == '}') {
            char value[HTTP_PARAM_MAX];
            if (n == HTTP_MAX_PARAMS || tl - 2 >= sizeof req->params[0].name ||
                decode_segment(path, pl, value, sizeof value) != 0)
                return 0;
            if (req) {
                memcpy(req->params[n].name, t + 1, tl - 2);
                req->params[n].name[tl - 2] = '\0';
                memcpy(req->params[n].value, value, sizeof value);
            }
            n++;
        } else if (tl != pl || memcmp(t, path, tl) != 0) {
            return 0;
        }
        t += tl;
        path += pl;
        if ((*t == '/') != (*path == '/'))
            return 0;
        if (*t == '/')
            t++, path++;
    }
    if (*t || *path)
        return 0;
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
        int same_method = strcmp(routes[i].method, method) == 0;
        if (!path_matches(routes[i].path, path, same_method ? req : NULL))
            continue;
        if (same_method) {
            *route = &routes[i];
            return LICD_OK;
        }
        path_known = 1;
        if (!strstr(req->allow, routes[i].method)) {
            int w = snprintf(req->allow + used, sizeof req->allow - used, "%s%s",
                             used ? ", " : "", routes[i].method);
            if (w > 0 && (size_t)w < sizeof req->allow - used)
                used += (size_t)w;
        }
    }
    req->nparams = 0;
    return path_known ? LICD_ERR_METHOD_NOT_ALLOWED : LICD_ERR_NOT_FOUND;
}
