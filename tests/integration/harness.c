/* Integration-test harness over libcurl (see harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdarg.h>

#include "crypto/digest.h"
#include "util/base64.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

const char *it_env(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set: run the integration tests through tests/run", name);
    return v;
}

static const char *url_override;

void it_use_url(const char *url) { url_override = url; }

const char *it_url(void) { return url_override ? url_override : it_env("LICD_TEST_URL"); }

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
    it_response *r = p;
    size_t add = size * n;
    char *grown = realloc(r->body, r->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + r->len, data, add);
    r->body = grown;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (len > n + 1 && strncasecmp(line, name, n) == 0 && line[n] == ':') {
        const char *v = line + n + 1;
        size_t vl = len - n - 1;
        while (vl && (*v == ' ')) v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
        if (vl >= cap) vl = cap - 1;
        memcpy(out, v, vl);
        out[vl] = '\0';
    }
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
    it_response *r = p;
    size_t len = size * n;
    header_value(data, len, "Content-Type", r->content_type, sizeof r->content_type);
    header_value(data, len, "X-Request-Id", r->request_id, sizeof r->request_id);
    header_value(data, len, "Allow", r->allow, sizeof r->allow);
    header_value(data, len, "Retry-After", r->retry_after, sizeof r->retry_after);
    header_value(data, len, "RateLimit-Limit", r->ratelimit_limit, sizeof r->ratelimit_limit);
    header_value(data, len, "RateLimit-Remaining", r->ratelimit_remaining,
                 sizeof r->ratelimit_remaining);
    header_value(data, len, "RateLimit-Reset", r->ratelimit_reset, sizeof r->ratelimit_reset);
    header_value(data, len, "Idempotent-Replayed", r->replayed, sizeof r->replayed);
    return len;
}

/* With LICD_TEST_RESPONSES naming a file, appends one JSON line per answer
 * for tests/spec/validate.mjs to check against the spec:
 * {"method","path" (query cut off),"status","content_type","length","headers",
 * "body"}; headers holds those of X-Request-Id, Allow, Retry-After,
 * RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset and
 * Idempotent-Replayed that came, body the parsed body (null when it is not JSON; "body_text" keeps a
 * body that claimed to be JSON and did not parse). One write() on an
 * O_APPEND descriptor per line, so parallel test processes never interleave. */
static void record_response(const char *method, const char *path, const it_response *r)
{
    const char *file = getenv("LICD_TEST_RESPONSES");
    cJSON *line, *hdrs;
    char *text, *p;
    size_t n;
    ssize_t w;
    int fd;

    if (!file || !*file)
        return;
    line = cJSON_CreateObject();
    cr_assert(line);
    cJSON_AddStringToObject(line, "method", method);
    p = strdup(path);
    cr_assert(p);
    p[strcspn(p, "?#")] = '\0';
    cJSON_AddStringToObject(line, "path", p);
    free(p);
    cJSON_AddNumberToObject(line, "status", (double)r->status);
    cJSON_AddStringToObject(line, "content_type", r->content_type);
    cJSON_AddNumberToObject(line, "length", (double)r->len);
    hdrs = cJSON_AddObjectToObject(line, "headers");
    cr_assert(hdrs);
    if (r->request_id[0])
        cJSON_AddStringToObject(hdrs, "x-request-id", r->request_id);
    if (r->allow[0])
        cJSON_AddStringToObject(hdrs, "allow", r->allow);
    if (r->retry_after[0])
        cJSON_AddStringToObject(hdrs, "retry-after", r->retry_after);
    if (r->ratelimit_limit[0])
        cJSON_AddStringToObject(hdrs, "ratelimit-limit", r->ratelimit_limit);
    if (r->ratelimit_remaining[0])
        cJSON_AddStringToObject(hdrs, "ratelimit-remaining", r->ratelimit_remaining);
    if (r->ratelimit_reset[0])
        cJSON_AddStringToObject(hdrs, "ratelimit-reset", r->ratelimit_reset);
    if (r->replayed[0])
        cJSON_AddStringToObject(hdrs, "idempotent-replayed", r->replayed);
    if (r->json) {
        cJSON_AddItemToObject(line, "body", cJSON_Duplicate(r->json, 1));
    } else {
        cJSON_AddNullToObject(line, "body");
        if (strstr(r->content_type, "json") && r->len)
            cJSON_AddStringToObject(line, "body_text", r->body);
    }
    text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    cr_assert(text);
    n = strlen(text);
    p = realloc(text, n + 2);
    cr_assert(p);
    p[n++] = '\n';
    p[n] = '\0';
    fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    cr_assert(fd >= 0, "cannot open LICD_TEST_RESPONSES=%s", file);
    w = write(fd, p, n);
    close(fd);
    cr_assert_eq(w, (ssize_t)n, "short write to %s", file);
    free(p);
}

void it_request(const char *method, const char *path, const char *const *headers,
                const char *body, size_t len, it_response *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[2048];
    CURLcode rc;

    memset(out, 0, sizeof *out);
    cr_assert(c);
    snprintf(url, sizeof url, "%s%s", it_url(), path);
    for (; headers && *headers; headers++)
        h = curl_slist_append(h, *headers);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    if (!out->body)
        out->body = calloc(1, 1);
    if (strstr(out->content_type, "json"))
        out->json = cJSON_ParseWithLength(out->body, out->len);
    record_response(method, path, out);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

void it_json(const char *method, const char *path, const char *bearer, const char *json,
             it_response *out)
{
    char auth[512];
    const char *headers[3] = {"Content-Type: application/json", NULL, NULL};
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        headers[1] = auth;
    }
    it_request(method, path, headers, json, json ? strlen(json) : 0, out);
}

void it_response_free(it_response *r)
{
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

const char *it_str(const it_response *r, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *it_member_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    cr_assert(cJSON_IsString(v), "%s is missing or not a string", name);
    return v->valuestring;
}

void it_assert_problem(const it_response *r, long status, const char *code)
{
    const cJSON *st;
    cr_assert_eq(r->status, status, "expected %ld, got %ld: %s", status, r->status, r->body);
    cr_assert_str_eq(r->content_type, "application/problem+json", "content type of %s", r->body);
    cr_assert(r->json, "problem body is not JSON: %s", r->body);
    cr_assert_str_eq(it_str(r, "code"), code, "body: %s", r->body);
    st = cJSON_GetObjectItemCaseSensitive(r->json, "status");
    cr_assert(cJSON_IsNumber(st) && st->valueint == status);
    cr_assert(it_str(r, "type") && it_str(r, "title") && it_str(r, "detail"));
    cr_assert(r->request_id[0]);
    cr_assert_str_eq(it_str(r, "request_id"), r->request_id);
}

void it_json_problem(const char *method, const char *path, const char *bearer, const char *json,
                     long status, const char *code)
{
    it_response r;
    it_json(method, path, bearer, json, &r);
    it_assert_problem(&r, status, code);
    it_response_free(&r);
}

int it_sh(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    int status;
    cr_assert(p, "cannot run %s", cmd);
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc(buf, cap);
            cr_assert(buf);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    if (buf)
        buf[len] = '\0';
    status = pclose(p);
    if (out)
        *out = buf ? buf : calloc(1, 1);
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

char *it_new_vendor(const char *name)
{
    char cmd[1024], *out = NULL, *key;
    cJSON *j;
    const cJSON *k;
    snprintf(cmd, sizeof cmd, "'%s' vendor create --name '%s'", it_env("LICD_BIN"), name);
    cr_assert_eq(it_sh(cmd, &out), 0, "licd vendor create failed: %s", out);
    j = cJSON_Parse(out);
    k = cJSON_GetObjectItemCaseSensitive(j, "api_key");
    cr_assert(cJSON_IsString(k), "no api_key in %s", out);
    key = strdup(k->valuestring);
    cJSON_Delete(j);
    free(out);
    return key;
}

void it_postf(const char *path, const char *bearer, it_response *out, const char *fmt, ...)
{
    char body[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    it_json("POST", path, bearer, body, out);
}

void it_new_customer(const char *vendor_key, const char *name, char *id, char *key)
{
    it_response r;
    it_postf("/v1/customers", vendor_key, &r, "{\"name\":\"%s\"}", name);
    cr_assert_eq(r.status, 201, "create customer: %s", r.body);
    snprintf(id, 37, "%s", it_str(&r, "customer_id"));
    snprintf(key, 80, "%s", it_str(&r, "customer_key"));
    it_response_free(&r);
}

/* Public key PEM rebuilt from a JWKS entry's x and y. */
char *it_pem_from_jwk(const cJSON *jwk)
{
    const char *xs = cJSON_GetObjectItem(jwk, "x")->valuestring;
    const char *ys = cJSON_GetObjectItem(jwk, "y")->valuestring;
    size_t xl = 0, yl = 0;
    uint8_t *x = b64url_decode(xs, strlen(xs), &xl), *y = b64url_decode(ys, strlen(ys), &yl);
    uint8_t point[65];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long len;

    cr_assert(x && y && xl == 32 && yl == 32);
    point[0] = 4;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
    params = OSSL_PARAM_BLD_to_param(bld);
    cr_assert(EVP_PKEY_fromdata_init(ctx) == 1);
    cr_assert(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1);
    cr_assert(PEM_write_bio_PUBKEY(bio, pkey) == 1);
    len = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)len + 1); /* BIO data is not NUL-terminated: no strndup */
    cr_assert(pem);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pem;
}

cJSON *it_verify_jwt_with(const char *token, const char *jwks)
{
    it_response r = {0};
    const cJSON *key = NULL, *k;
    const char *dot = strchr(token, '.');
    size_t hl = 0;
    uint8_t *header;
    cJSON *h, *claims, *set;
    jwt_t *jwt = NULL;
    char *pem, *grants;

    cr_assert(dot, "not a JWT: %s", token);
    header = b64url_decode(token, (size_t)(dot - token), &hl);
    cr_assert(header);
    h = cJSON_Parse((char *)header);
    free(header);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(h, "kid")), "no kid in the header");
    if (!jwks) {
        it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &r);
        jwks = r.body;
    }
    set = cJSON_Parse(jwks);
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(set, "keys"))
        if (strcmp(cJSON_GetObjectItem(k, "kid")->valuestring,
                   cJSON_GetObjectItem(h, "kid")->valuestring) == 0)
            key = k;
    cr_assert(key, "the token's kid is not in the JWKS");
    pem = it_pem_from_jwk(key);
    cr_assert_eq(jwt_decode(&jwt, token, (const unsigned char *)pem, (int)strlen(pem)), 0,
                 "libjwt refused the signature of %s", token);
    cr_assert_eq(jwt_get_alg(jwt), JWT_ALG_ES256);
    grants = jwt_get_grants_json(jwt, NULL);
    claims = cJSON_Parse(grants);
    cr_assert(claims);
    free(grants);
    jwt_free(jwt);
    free(pem);
    cJSON_Delete(h);
    cJSON_Delete(set);
    if (r.body)
        it_response_free(&r);
    return claims;
}

cJSON *it_verify_jwt(const char *token)
{
    return it_verify_jwt_with(token, NULL);
}

int it_sql_at(const char *url, const char *sql, char **out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "psql '%s' -v ON_ERROR_STOP=1 -Atqc \"%s\"", url, sql);
    return it_sh(cmd, out);
}

int it_sql(const char *sql, char **out) { return it_sql_at(it_env("LICD_DATABASE_URL"), sql, out); }

long long it_sql_num(const char *sql)
{
    char *out = NULL;
    long long n;
    cr_assert_eq(it_sql(sql, &out), 0, "%s: %s", sql, out);
    n = atoll(out);
    free(out);
    return n;
}

void it_db_url(const char *db, char *out, size_t len)
{
    const char *base = it_env("LICD_DATABASE_URL");
    const char *slash = strrchr(base, '/');
    cr_assert(slash, "LICD_DATABASE_URL %s has no database name", base);
    snprintf(out, len, "%.*s/%s", (int)(slash - base), base, db);
}

void it_new_database(const char *db, char *url, size_t len)
{
    char *out = NULL;
    it_db_url(db, url, len);
    it_sql(it_fmt("DROP DATABASE IF EXISTS %s WITH (FORCE)", db), NULL);
    cr_assert_eq(it_sql(it_fmt("CREATE DATABASE %s", db), NULL), 0);
    cr_assert_eq(
        it_sh(it_fmt("LICD_DATABASE_URL='%s' '%s' migrate 2>&1", url, it_env("LICD_BIN")), &out), 0,
        "%s", out);
    free(out);
}

/* it_table_stat and it_index_stat: counter col of relation name in a
 * statistics view (view, whose column key names its relations). */
static long long rel_stat(const char *url, const char *view, const char *key, const char *name,
                          const char *col, long long least)
{
    long long v = -1;
    for (int i = 0; i < 100; i++) {
        char *out = NULL;
        cr_assert_eq(
            it_sql_at(url, it_fmt("SELECT %s FROM %s WHERE %s = '%s'", col, view, key, name), &out),
            0);
        v = atoll(out);
        free(out);
        if (v >= least)
            break;
        usleep(100000);
    }
    cr_assert_geq(v, least, "%s's %s stays %lld", name, col, v);
    return v;
}

long long it_table_stat(const char *url, const char *table, const char *col, long long least)
{
    return rel_stat(url, "pg_stat_user_tables", "relname", table, col, least);
}

long long it_index_stat(const char *url, const char *index, const char *col, long long least)
{
    return rel_stat(url, "pg_stat_user_indexes", "indexrelname", index, col, least);
}

int it_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0), port;
    cr_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    getsockname(s, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(s);
    return port;
}

int it_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static void wait_listening(int port)
{
    for (int i = 0; i < 200; i++) {
        int s = it_connect(port);
        if (s >= 0) {
            close(s);
            return;
        }
        usleep(50 * 1000);
    }
    cr_assert_fail("licd did not start listening on %d", port);
}

/* posix_spawn runs no code of ours between fork and exec, so locks held by
 * other threads of the test process cannot hang the child. */
int it_start_node(const char *const *env, char *url, size_t len, char **dir)
{
    char log[512];
    int port = it_free_port(), pid;
    *dir = it_tmpdir();
    snprintf(log, sizeof log, "%s/licd.log", *dir);
    pid = it_start_licd(env, log, port);
    snprintf(url, len, "http://127.0.0.1:%d", port);
    return pid;
}

/* Nodes this test started: a failed assertion ends the test before it
 * stops them, so whichever still runs when its process exits is killed
 * then (not one the test already waited for: waitpid tells). */
#define NODES_MAX 16
static pid_t nodes[NODES_MAX];

static void kill_left_nodes(void)
{
    for (int i = 0; i < NODES_MAX; i++)
        if (nodes[i] > 0 && waitpid(nodes[i], NULL, WNOHANG) == 0) {
            kill(nodes[i], SIGKILL);
            waitpid(nodes[i], NULL, 0);
        }
}

static void node_started(pid_t pid)
{
    static int registered;
    if (!registered)
        registered = atexit(kill_left_nodes) == 0;
    for (int i = 0; i < NODES_MAX; i++)
        if (nodes[i] <= 0) {
            nodes[i] = pid;
            return;
        }
}

int it_start_licd(const char *const *env, const char *log, int port)
{
    extern char **environ;
    char listen[48];
    char *envp[256];
    char *argv[] = {"licd", "serve", NULL};
    posix_spawn_file_actions_t fa;
    size_t n = 0, copied;
    pid_t pid;

    snprintf(listen, sizeof listen, "LICD_LISTEN=127.0.0.1:%d", port);
    envp[n++] = listen;
    for (; env && *env && n < 200; n++, env++)
        cr_assert((envp[n] = strdup(*env))); /* envp is not const for posix_spawn */
    copied = n;
    envp[n++] = "LICD_ACCESS_LOG=0";
    for (char **e = environ; *e && n < 255; e++)
        envp[n++] = *e; /* later duplicates lose: getenv takes the first */
    envp[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    /* not the test's own stdout either: a pipe read to its end waits for
     * every process that holds it */
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    cr_assert_eq(posix_spawn(&pid, it_env("LICD_BIN"), &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    node_started(pid);
    while (copied > 1)
        free(envp[--copied]);
    wait_listening(port);
    return pid;
}

int it_stop_licd(int pid)
{
    int status;
    kill((pid_t)pid, SIGTERM);
    cr_assert_eq(waitpid((pid_t)pid, &status, 0), (pid_t)pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *it_tmpdir(void)
{
    char *dir = strdup("/tmp/licd-proc-XXXXXX");
    cr_assert(mkdtemp(dir));
    return dir;
}

void it_rmdir(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    it_sh(cmd, NULL);
    free(dir);
}

void it_created(const char *path, const char *bearer, const char *fmt, ...)
{
    char body[16384];
    it_response r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    it_json("POST", path, bearer, body, &r);
    cr_assert_eq(r.status, 201, "POST %s %s: %s", path, body, r.body);
    it_response_free(&r);
}

cJSON *it_items(const char *path, const char *bearer)
{
    it_response r;
    cJSON *items;
    it_json("GET", path, bearer, NULL, &r);
    cr_assert_eq(r.status, 200, "GET %s: %s", path, r.body);
    items = cJSON_DetachItemFromObject(r.json, "items");
    cr_assert(cJSON_IsArray(items), "GET %s: no items in %s", path, r.body);
    it_response_free(&r);
    return items;
}

const char *it_fmt(const char *fmt, ...)
{
    static char bufs[8][8192];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

void it_expect(it_response *r, long status, const char *method, const char *path,
               const char *key, const char *body)
{
    it_json(method, path, key, body, r);
    cr_assert_eq(r->status, status, "%s %s %s: expected %ld, got %ld: %s", method, path,
                 body ? body : "", status, r->status, r->body);
}

expo *it_scrape(void)
{
    it_response r;
    char err[256] = "";
    expo *e;
    it_request("GET", "/metrics", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.content_type, "text/plain; version=0.0.4"), "%s", r.content_type);
    e = expo_parse(r.body, err, sizeof err);
    cr_assert(e, "/metrics is not valid exposition text: %s", err);
    it_response_free(&r);
    return e;
}

void it_batched(const char *batch, it_batches *out)
{
    const char *labels[] = {"batch", batch, NULL};
    expo *e = it_scrape();
    *out = (it_batches){0, 0, 0, 0};
    expo_value(e, "licd_db_batches_total", labels, &out->batches);
    expo_value(e, "licd_db_batched_items_total", labels, &out->items);
    expo_value(e, "licd_db_batch_failures_total", labels, &out->failed);
    expo_value(e, "licd_db_joined_items_total", labels, &out->joined);
    expo_free(e);
}

void it_assert_shared_batches(const it_batches *before, const it_batches *after, int n)
{
    cr_assert_eq(after->failed - before->failed, 0, "a batch failed and was run again alone");
    cr_assert_eq(after->items - before->items, n, "each request written by a batch");
    cr_assert_lt(after->batches - before->batches, n, "%d requests in %.0f batches", n,
                 after->batches - before->batches);
}

double it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_race_behind_a_lock(void *(*fn)(void *), void *args, size_t size, int n,
                           it_meanwhile *out)
{
    pthread_t t[64];
    it_response r;
    double asked, answered;
    cr_assert(n > 0 && n <= 64);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, fn, (char *)args + (size_t)i * size), 0);
        usleep(50 * 1000);
    }
    asked = it_now();
    it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &r);
    answered = it_now();
    out->jwks = r.status;
    out->took = answered - asked;
    it_response_free(&r);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    out->gap = it_now() - answered;
}

void it_assert_worker_was_free(const it_meanwhile *m)
{
    cr_assert_eq(m->jwks, 200);
    cr_assert_lt(m->took, 0.4, "the JWKS took %.3f s", m->took);
    cr_assert_gt(m->gap, 0.2, "the requests were done %.3f s after the JWKS", m->gap);
}

void it_hold_packs(const char *customer_id)
{
    char *dir = it_tmpdir(), *out = NULL;
    int rc = it_sh(it_fmt("psql '%s' -qAt -c BEGIN"
                          " -c \"SELECT 1 FROM packs WHERE customer_id = '%s' FOR UPDATE\""
                          " -c '\\! touch %s/held' -c 'SELECT pg_sleep(1)' -c COMMIT"
                          " >/dev/null 2>&1 &"
                          " for i in $(seq 100); do [ -e %s/held ] && exit 0; sleep 0.05; done;"
                          " exit 1",
                          it_env("LICD_DATABASE_URL"), customer_id, dir, dir),
                   &out);
    free(out);
    it_rmdir(dir);
    cr_assert_eq(rc, 0, "psql did not take the pack rows' lock");
}

const char *it_machines(const char *vendor, const char *customer_id, const char *user)
{
    static char ids[1024];
    it_response r;
    const cJSON *m;
    it_expect(&r, 200, "GET", it_fmt("/v1/users/%s?customer_id=%s", user, customer_id), vendor,
              NULL);
    ids[0] = '\0';
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(r.json, "machines")), "%s", r.body);
    cJSON_ArrayForEach (m, cJSON_GetObjectItem(r.json, "machines")) {
        size_t n = strlen(ids);
        int w =
            snprintf(ids + n, sizeof ids - n, "%s%s", n ? "," : "", it_member_str(m, "machine_id"));
        cr_assert(w >= 0 && (size_t)w < sizeof ids - n, "more machines than fit: %s", r.body);
    }
    it_response_free(&r);
    return ids;
}
