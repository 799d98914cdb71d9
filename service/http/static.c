/* Static files of one flat folder, opened relative to the folder without
 * following symbolic links, answered with their type, validators and the
 * headers that keep a browser from sniffing, framing or leaking them. */
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/response.h"

/* No inline script or style, nothing from elsewhere, never in a frame. */
#define STATIC_CSP                                                                 \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "    \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " \
    "frame-ancestors 'none'"

#define STATIC_NAME_MAX 128

static const struct {
    const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
};

const char *http_static_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

static void add_security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", STATIC_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

/* A name of one flat folder: 1 to STATIC_NAME_MAX of A-Z a-z 0-9 . _ -,
 * not starting with '.' (so neither "." nor ".." nor a hidden file). */
static int name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > STATIC_NAME_MAX || name[0] == '.')
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* A strong validator from what changes when the file does. */
static void make_etag(const struct stat *st, char *buf, size_t len)
{
    snprintf(buf, len, "\"%" PRIxMAX "-%" PRIxMAX "-%" PRIxMAX ".%lx\"", (uintmax_t)st->st_ino,
             (uintmax_t)st->st_size, (uintmax_t)st->st_mtim.tv_sec,
             (unsigned long)st->st_mtim.tv_nsec);
}

/* Whether an If-None-Match value ("*", or a list of tags, weak or not)
 * names etag. */
static int etag_listed(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, elen) == 0 &&
            (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' ' || p[elen] == '\t'))
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

int http_static_serve(http_request *req, const char *dir, const char *name)
{
    const char *type = http_static_content_type(name ? name : "");
    char etag[96], modified[40];
    const char *inm;
    struct MHD_Response *resp;
    struct stat st;
    struct tm tm;
    int dfd = -1, fd = -1, rc;

    if (!name || !name_ok(name) || !type)
        return http_fail(req, LICD_ERR_NOT_FOUND, "no such file");
    if (!dir || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return http_fail(req, LICD_ERR_NOT_FOUND, "no such file (the folder is not there)");
    /* O_NOFOLLOW: a symbolic link is refused (ELOOP), wherever it points;
     * O_NONBLOCK: a FIFO planted there cannot hold the thread. */
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dfd);
    if (fd < 0)
        return http_fail(req, LICD_ERR_NOT_FOUND, "no such file");
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return http_fail(req, LICD_ERR_NOT_FOUND, "no such file");
    }
    make_etag(&st, etag, sizeof etag);
    if (!gmtime_r(&st.st_mtim.tv_sec, &tm) ||
        !strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        modified[0] = '\0';
    inm = http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && etag_listed(inm, etag)) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        type = NULL;
        rc = 304;
    } else {
        /* MHD owns fd from here, closing it once the file is sent. */
        resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
        if (!resp)
            close(fd);
        rc = 200;
    }
    if (!resp)
        return LICD_ERR_NOMEM;
    add_security_headers(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (modified[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
    /* Kept, but asked about again each time: a new version shows at once. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return http_queue(req, rc, resp, type);
}

int http_static_redirect(http_request *req, const char *target)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return LICD_ERR_NOMEM;
    add_security_headers(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, target);
    return http_queue(req, 308, resp, NULL);
}
