/* router_match over the real route table: the first byte picks a method,
 * the rest is the path. Every parameter captured must fit its buffer. */
#include "api/api.h"
#include "fuzz.h"
#include "http/router.h"

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
                                      "get"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const http_route *route = NULL;
    http_request req;
    const char *method;
    char *path;

    if (size == 0)
        return 0;
    method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    path = fuzz_cstr(data + 1, size - 1);
    memset(&req, 0, sizeof req);
    if (router_match(api_routes, api_nroutes, method, path, &route, &req) == LICD_OK) {
        if (!route || req.nparams < 0 || req.nparams > HTTP_MAX_PARAMS)
            abort();
        for (int i = 0; i < req.nparams; i++)
            if (!memchr(req.params[i].value, '\0', sizeof req.params[i].value) ||
                strchr(req.params[i].value, '/'))
                abort();
    }
    free(path);
    return 0;
}
