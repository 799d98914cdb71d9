/* The vendor console (clients/console): static files served from the folder
 * LICD_CONSOLE_DIR names, by http/static. The page signs in with the
 * vendor key and calls the public API like any other client. */
#include "api/api.h"
#include "http/static.h"

static const char *console_dir(void)
{
    const char *dir = api_ctx()->config->console_dir;
    return dir && *dir ? dir : NULL;
}

int api_console_redirect(http_request *req) { return http_static_redirect(req, "/console/"); }

static int serve(http_request *req, const char *name)
{
    const char *dir = console_dir();
    if (!dir)
        return http_fail(req, LICD_ERR_NOT_FOUND,
                         "the console is not served here (LICD_CONSOLE_DIR is empty)");
    return http_static_serve(req, dir, name);
}

int api_console_index(http_request *req) { return serve(req, "index.html"); }

int api_console_file(http_request *req) { return serve(req, http_param(req, "file")); }
