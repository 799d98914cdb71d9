/* The console's static files (GET /console/...), served by a licd of the
 * test's own from a folder the test lays out: content types, the browser
 * security headers, validators, 404 for what is not a served file, and
 * every way out of the folder refused (.., encoded, symbolic links). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define SECRET "top-secret-outside-the-console"

/* A licd serving dir/console, with dir/secret.txt just outside it. */
typedef struct {
    char *dir;
    char console[600];
    int port, pid;
} console_licd;

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* The licd a test started, stopped by stop() or, when an assertion ends
 * the test early, by the suite's fini (no licd outlives its test). */
static int running_pid = -1;

static void stop_leftover(void)
{
    if (running_pid > 0)
        it_stop_licd(running_pid);
    running_pid = -1;
}

TestSuite(console, .fini = stop_leftover, .timeout = 60);

static void start(console_licd *c, const char *console_dir_setting)
{
    char setting[700], log[700];
    c->dir = it_tmpdir();
    snprintf(c->console, sizeof c->console, "%s/console", c->dir);
    cr_assert_eq(mkdir(c->console, 0755), 0);
    put(it_fmt("%s/secret.txt", c->dir), SECRET "\n");
    put(it_fmt("%s/index.html", c->console),
        "<!doctype html><title>console</title><script type=module src=app.js></script>\n");
    put(it_fmt("%s/app.js", c->console), "export const answer = 42;\n");
    put(it_fmt("%s/style.css", c->console), "body { margin: 0 }\n");
    put(it_fmt("%s/logo.svg", c->console), "<svg xmlns='http://www.w3.org/2000/svg'/>\n");
    put(it_fmt("%s/NOTICE.txt", c->console), "uPlot: MIT\n");
    put(it_fmt("%s/data.bin", c->console), "raw\n");
    put(it_fmt("%s/README", c->console), "no extension\n");
    put(it_fmt("%s/.hidden.js", c->console), "hidden\n");
    cr_assert_eq(mkdir(it_fmt("%s/sub.js", c->console), 0755), 0);
    put(it_fmt("%s/sub.js/inner.js", c->console), "inner\n");
    cr_assert_eq(symlink("../secret.txt", it_fmt("%s/link.txt", c->console)), 0);
    cr_assert_eq(symlink(it_fmt("%s/app.js", c->console), it_fmt("%s/alias.js", c->console)), 0);
    cr_assert_eq(symlink("/etc", it_fmt("%s/etc.js", c->console)), 0);
    cr_assert_eq(mkfifo(it_fmt("%s/pipe.js", c->console), 0644), 0);
    snprintf(setting, sizeof setting, "LICD_CONSOLE_DIR=%s",
             console_dir_setting ? console_dir_setting : c->console);
    snprintf(log, sizeof log, "%s/licd.log", c->dir);
    c->port = it_free_port();
    {
        const char *env[] = {setting, NULL};
        c->pid = running_pid = it_start_licd(env, log, c->port);
    }
    it_use_url(it_fmt("http://127.0.0.1:%d", c->port));
}

static void stop(console_licd *c)
{
    running_pid = -1;
    cr_assert_eq(it_stop_licd(c->pid), 0);
    it_rmdir(c->dir);
}

/* The request target sent exactly as written (curl would squash "..");
 * the whole answer, head and body, NUL-terminated (free it). */
static char *raw_get(int port, const char *target, const char *extra)
{
    char req[2048], *buf;
    size_t len = 0, cap = 1 << 16;
    ssize_t n;
    int s = it_connect(port);
    cr_assert(s >= 0);
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n",
             target, extra ? extra : "");
    cr_assert_eq(write(s, req, strlen(req)), (ssize_t)strlen(req));
    buf = malloc(cap);
    cr_assert(buf);
    while ((n = read(s, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(s);
    buf[len] = '\0';
    return buf;
}

static int raw_status(const char *answer)
{
    int status = 0;
    cr_assert_eq(sscanf(answer, "HTTP/1.1 %d", &status), 1, "no status line in: %.200s", answer);
    return status;
}

/* The value of header name in a raw answer's head, into out ("" if absent). */
static void raw_header(const char *answer, const char *name, char *out, size_t cap)
{
    const char *end = strstr(answer, "\r\n\r\n"), *p = answer;
    size_t nl = strlen(name);
    out[0] = '\0';
    while (p && p < end) {
        p = strstr(p, "\r\n");
        if (!p || p >= end)
            break;
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
    }
}

static void expect_file(const char *path, const char *type, const char *start_of_body)
{
    it_response r;
    it_request("GET", path, NULL, NULL, 0, &r);
    cr_expect_eq(r.status, 200, "GET %s: %ld", path, r.status);
    cr_expect_str_eq(r.content_type, type, "GET %s", path);
    cr_expect(strncmp(r.body, start_of_body, strlen(start_of_body)) == 0, "GET %s: %.80s", path,
              r.body);
    it_response_free(&r);
}

static void expect_404(const char *path)
{
    it_response r;
    it_request("GET", path, NULL, NULL, 0, &r);
    it_assert_problem(&r, 404, "not_found");
    cr_expect_null(strstr(r.body, SECRET), "GET %s leaked the secret", path);
    it_response_free(&r);
}

Test(console, serves_files_with_their_types_and_security_headers)
{
    console_licd c;
    char v[512];
    char *a;
    it_response r;

    start(&c, NULL);
    expect_file("/console/", "text/html; charset=utf-8", "<!doctype html>");
    expect_file("/console/index.html", "text/html; charset=utf-8", "<!doctype html>");
    expect_file("/console/app.js", "text/javascript; charset=utf-8", "export const answer");
    expect_file("/console/style.css", "text/css; charset=utf-8", "body {");
    expect_file("/console/logo.svg", "image/svg+xml", "<svg");
    expect_file("/console/NOTICE.txt", "text/plain; charset=utf-8", "uPlot: MIT");
    /* a query string is not part of the name */
    expect_file("/console/app.js?v=2", "text/javascript; charset=utf-8", "export const answer");

    a = raw_get(c.port, "/console/", NULL);
    cr_assert_eq(raw_status(a), 200);
    raw_header(a, "Content-Security-Policy", v, sizeof v);
    cr_expect(strstr(v, "default-src 'self'"), "CSP: %s", v);
    cr_expect(strstr(v, "frame-ancestors 'none'"), "CSP: %s", v);
    cr_expect_null(strstr(v, "unsafe-inline"), "CSP: %s", v);
    cr_expect_null(strstr(v, "unsafe-eval"), "CSP: %s", v);
    raw_header(a, "X-Content-Type-Options", v, sizeof v);
    cr_expect_str_eq(v, "nosniff");
    raw_header(a, "Referrer-Policy", v, sizeof v);
    cr_expect_str_eq(v, "no-referrer");
    raw_header(a, "X-Frame-Options", v, sizeof v);
    cr_expect_str_eq(v, "DENY");
    raw_header(a, "Cache-Control", v, sizeof v);
    cr_expect_str_eq(v, "no-cache");
    raw_header(a, "Last-Modified", v, sizeof v);
    cr_expect(strstr(v, " GMT"), "Last-Modified: %s", v);
    raw_header(a, "X-Request-Id", v, sizeof v);
    cr_expect(v[0], "no X-Request-Id");
    free(a);

    /* the same headers on a script, and the old way of linking: no redirect
     * loop, /console goes to /console/ */
    a = raw_get(c.port, "/console/app.js", NULL);
    raw_header(a, "Content-Security-Policy", v, sizeof v);
    cr_expect(strstr(v, "default-src 'self'"), "CSP on app.js: %s", v);
    raw_header(a, "X-Content-Type-Options", v, sizeof v);
    cr_expect_str_eq(v, "nosniff");
    free(a);
    it_request("GET", "/console", NULL, NULL, 0, &r);
    cr_expect_eq(r.status, 308);
    it_response_free(&r);
    a = raw_get(c.port, "/console", NULL);
    cr_expect_eq(raw_status(a), 308);
    raw_header(a, "Location", v, sizeof v);
    cr_expect_str_eq(v, "/console/");
    free(a);

    /* the API next to it keeps its own answers */
    it_request("GET", "/healthz", NULL, NULL, 0, &r);
    cr_expect_eq(r.status, 200);
    it_response_free(&r);
    stop(&c);
}

Test(console, etag_answers_304_until_the_file_changes)
{
    console_licd c;
    char etag[256], again[256], inm[400];
    char *a;

    start(&c, NULL);
    a = raw_get(c.port, "/console/app.js", NULL);
    cr_assert_eq(raw_status(a), 200);
    raw_header(a, "ETag", etag, sizeof etag);
    cr_assert(etag[0] == '"', "ETag: %s", etag);
    free(a);

    snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", etag);
    a = raw_get(c.port, "/console/app.js", inm);
    cr_expect_eq(raw_status(a), 304);
    cr_expect_str_eq(strstr(a, "\r\n\r\n"), "\r\n\r\n", "a 304 has no body");
    raw_header(a, "ETag", again, sizeof again);
    cr_expect_str_eq(again, etag);
    free(a);
    /* weak comparison and lists, as browsers send them */
    snprintf(inm, sizeof inm, "If-None-Match: \"nope\", W/%s\r\n", etag);
    a = raw_get(c.port, "/console/app.js", inm);
    cr_expect_eq(raw_status(a), 304);
    free(a);
    a = raw_get(c.port, "/console/app.js", "If-None-Match: \"other\"\r\n");
    cr_expect_eq(raw_status(a), 200);
    free(a);

    /* a new version of the file: a new tag, served in full */
    put(it_fmt("%s/app.js", c.console), "export const answer = 43; // a longer file\n");
    snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", etag);
    a = raw_get(c.port, "/console/app.js", inm);
    cr_expect_eq(raw_status(a), 200);
    raw_header(a, "ETag", again, sizeof again);
    cr_expect_str_neq(again, etag);
    cr_expect(strstr(a, "answer = 43"));
    free(a);
    stop(&c);
}

Test(console, what_is_not_a_served_file_is_404)
{
    console_licd c;
    start(&c, NULL);
    expect_404("/console/missing.js");
    expect_404("/console/data.bin");   /* a type it does not serve */
    expect_404("/console/README");     /* no extension */
    expect_404("/console/.hidden.js"); /* hidden files */
    expect_404("/console/sub.js");     /* a folder */
    expect_404("/console/sub.js/inner.js");
    expect_404("/console/pipe.js");  /* a FIFO: refused, not waited on */
    expect_404("/console/link.txt"); /* symbolic links, wherever they point */
    expect_404("/console/alias.js");
    expect_404("/console/etc.js");
    expect_404("/console/a%20b.js"); /* names outside A-Z a-z 0-9 . _ - */
    stop(&c);
}

Test(console, traversal_is_refused_however_it_is_spelt)
{
    static const char *const targets[] = {
        "/console/../secret.txt",
        "/console/..",
        "/console/%2e%2e/secret.txt",
        "/console/%2E%2E/secret.txt",
        "/console/%2e%2e",
        "/console/..%2fsecret.txt",
        "/console/..%2Fsecret.txt",
        "/console/%2e%2e%2fsecret.txt",
        "/console/..%5csecret.txt",
        "/console/..\\secret.txt",
        "/console//secret.txt",
        "/console/%2fetc%2fpasswd",
        "/console/.%2e/secret.txt",
        "/console/%252e%252e%252fsecret.txt",
        "/console/secret.txt%00.js",
        "/console/link.txt",
        "/console/./index.html",
        "/console/%2e/index.html",
        "/console/../../../../etc/passwd",
    };
    console_licd c;
    start(&c, NULL);
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char *a = raw_get(c.port, targets[i], NULL);
        int status = raw_status(a);
        cr_expect(status == 404 || status == 400, "GET %s: %d", targets[i], status);
        cr_expect_null(strstr(a, SECRET), "GET %s leaked the file outside", targets[i]);
        cr_expect_null(strstr(a, "root:"), "GET %s leaked /etc/passwd", targets[i]);
        free(a);
    }
    /* the folder itself still serves */
    {
        char *a = raw_get(c.port, "/console/index.html", NULL);
        cr_expect_eq(raw_status(a), 200);
        free(a);
    }
    stop(&c);
}

Test(console, an_empty_or_missing_folder_serves_nothing)
{
    console_licd c;
    start(&c, "");
    expect_404("/console/");
    expect_404("/console/index.html");
    stop(&c);
    start(&c, "/nonexistent/licd-console");
    expect_404("/console/");
    expect_404("/console/app.js");
    stop(&c);
}
