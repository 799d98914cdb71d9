/* Who may call each route, as `licd routes` declares it, held against the
 * running licd: every route that takes a credential answers 401 without one
 * (or with a malformed or unknown one) and 403 with a genuine credential of
 * another kind; public routes do not read credentials; token renewal takes
 * the token in the body and no key; get_key without a key takes only the
 * group-key shape. A route with no declaration, or one this test does not
 * know, fails here. And every route that takes a body refuses one over its
 * limit, declared or streamed, and changes nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_ROUTES 128

struct route {
    char method[16], path[256], kind[64];
};

/* The credentials a route can be declared to take, each with a genuine
 * Authorization header and one of the same kind that this licd does not know. */
enum { VENDOR_KEY, CUSTOMER_KEY, LICENSE, GROUP_KEY, NCREDS };
static const char *const cred_names[NCREDS] = {"vendor_key", "customer_key", "license",
                                               "group_key"};

struct creds {
    char *vendor;
    char vendor_id[37], customer_id[37], customer[80], group_key[80];
    char genuine[NCREDS][4200], unknown[NCREDS][4200];
};

/* The routes `licd routes` prints: method, path template, declared kind. */
static size_t load_routes(struct route *routes)
{
    char cmd[1024], *out, *line, *save = NULL;
    size_t n = 0;
    snprintf(cmd, sizeof cmd, "'%s' routes", it_env("LICD_BIN"));
    cr_assert_eq(it_sh(cmd, &out), 0, "licd routes failed: %s", out);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct route *r = &routes[n];
        char extra[2];
        cr_assert_lt(n, MAX_ROUTES);
        cr_assert_eq(sscanf(line, "%15s %255s %63s %1s", r->method, r->path, r->kind, extra), 3,
                     "a line of licd routes is not METHOD PATH KIND: %s", line);
        n++;
    }
    free(out);
    cr_assert_gt(n, 0, "licd routes printed nothing");
    return n;
}

/* A concrete path for a template: every {parameter} becomes a dummy value. */
static void fill_path(const char *template, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *t = template; *t && o + 8 < cap; t++) {
        if (*t == '{') {
            o += (size_t)snprintf(out + o, cap - o, "dummy1");
            t = strchr(t, '}');
            cr_assert(t, "unclosed parameter in %s", template);
        } else {
            out[o++] = *t;
        }
    }
    out[o] = '\0';
}

/* One request with the Authorization header auth (NULL: none) and, for
 * methods that take one, the JSON body (default "{}"). */
static void call(const struct route *rt, const char *auth, const char *body, it_response *r)
{
    char path[512];
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    int has_body = strcmp(rt->method, "GET") != 0 && strcmp(rt->method, "DELETE") != 0;
    fill_path(rt->path, path, sizeof path);
    if (has_body && !body)
        body = "{}";
    it_request(rt->method, path, headers, has_body ? body : NULL, has_body ? strlen(body) : 0, r);
}

static void expect_refused(const struct route *rt, const char *auth, const char *body, long status,
                           const char *code)
{
    it_response r;
    call(rt, auth, body, &r);
    cr_assert_eq(r.status, status, "%s %s (%s) with %s: expected %ld %s, got %ld: %s", rt->method,
                 rt->path, rt->kind, auth ? auth : "no Authorization", status, code, r.status,
                 r.body);
    it_assert_problem(&r, status, code);
    it_response_free(&r);
}

/* The vendor's row and the rows that belong to it, table by table: those
 * of every table with a vendor_id column; of one with a customer_id column
 * instead, its customers' (users, customer keys...); of one with only a
 * user_id column, their users' (entitlements, session tokens...). For each
 * table, how many and an MD5 of their text in order, so that a row added,
 * removed or changed shows (text to compare). Events leave out seq, which
 * the delivery threads give them after the request that made them
 * (migration 0016). */
static char *vendor_rows(const char *vendor_id)
{
    /* one table's rows: a format() string within SQL quotes, given the
     * table, the key to drop and the condition */
    static const char table_rows[] =
        "SELECT count(*) || '':'' || md5(coalesce(string_agg(r, '','' ORDER BY r), ''''))"
        " AS v FROM (SELECT (to_jsonb(t) - %L)::text AS r FROM %I t WHERE %s) s";
    char sql[3072], customers[128], *out;
    snprintf(customers, sizeof customers, "SELECT id FROM customers WHERE vendor_id = ''%s''",
             vendor_id);
    snprintf(sql, sizeof sql,
             "WITH owned AS (SELECT table_name,"
             "  bool_or(column_name = 'vendor_id') AS by_vendor,"
             "  bool_or(column_name = 'customer_id') AS by_customer"
             "  FROM information_schema.columns JOIN information_schema.tables"
             "  USING (table_schema, table_name)"
             "  WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
             "  AND column_name IN ('vendor_id', 'customer_id', 'user_id') GROUP BY table_name)"
             " SELECT string_agg(table_name || '=' || (xpath('/row/v/text()',"
             " query_to_xml(format('%s', CASE table_name WHEN 'events' THEN 'seq' ELSE '' END,"
             " table_name, CASE WHEN by_vendor THEN format('vendor_id = %%L', '%s')"
             " WHEN by_customer THEN format('customer_id IN (%%s)', '%s')"
             " ELSE format('user_id IN (SELECT id FROM users WHERE customer_id IN (%%s))', '%s')"
             " END), false, true, '')))[1]::text, ',' ORDER BY table_name) FROM owned"
             " UNION ALL SELECT 'vendor=' || md5(v::text) FROM vendors v WHERE id = '%s'",
             table_rows, vendor_id, customers, customers, vendor_id);
    cr_assert_eq(it_sql(sql, &out), 0, "%s", out);
    cr_assert(strstr(out, "customers=1:") && strstr(out, "customer_keys=") &&
                  strstr(out, "entitlements="),
              "the vendor's rows: %s", out);
    return out;
}

/* A vendor, its customer, a product, a group key and an activation key
 * (a licence) from it: one genuine credential of each kind, and for each an
 * unknown one of the same form. */
static void creds_init(struct creds *c)
{
    it_response r;
    char *jwt, *dot;
    c->vendor = it_new_vendor("Routes Auth Vendor");
    it_json("GET", "/v1/vendor", c->vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    snprintf(c->vendor_id, sizeof c->vendor_id, "%s", it_str(&r, "vendor_id"));
    it_response_free(&r);
    it_new_customer(c->vendor, "Routes Auth Customer", c->customer_id, c->customer);
    it_created("/v1/products", c->vendor, "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\"}");
    it_postf("/v1/group-keys", c->vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"s\",\"products\":[\"app\"],"
             "\"quota_per_node\":{\"app\":5},\"link\":{\"type\":\"node\"}}",
             c->customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(c->group_key, sizeof c->group_key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"s\",\"product\":\"app\",\"app_id\":\"a1\"}",
             c->group_key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    jwt = strdup(it_str(&r, "license"));
    it_response_free(&r);

    snprintf(c->genuine[VENDOR_KEY], sizeof c->genuine[0], "Authorization: Bearer %s", c->vendor);
    snprintf(c->genuine[CUSTOMER_KEY], sizeof c->genuine[0], "Authorization: Bearer %s",
             c->customer);
    snprintf(c->genuine[LICENSE], sizeof c->genuine[0], "Authorization: License %s", jwt);
    snprintf(c->genuine[GROUP_KEY], sizeof c->genuine[0], "Authorization: Bearer %s",
             c->group_key);
    snprintf(c->unknown[VENDOR_KEY], sizeof c->unknown[0], "Authorization: Bearer lv_%064d", 0);
    snprintf(c->unknown[CUSTOMER_KEY], sizeof c->unknown[0], "Authorization: Bearer lc_%064d", 0);
    snprintf(c->unknown[GROUP_KEY], sizeof c->unknown[0], "Authorization: Bearer lg_%064d", 0);
    /* The genuine licence with one character of its claims changed: the
     * signature no longer matches. */
    dot = strchr(jwt, '.');
    cr_assert(dot && dot[1]);
    dot[1] = dot[1] == 'e' ? 'f' : 'e';
    snprintf(c->unknown[LICENSE], sizeof c->unknown[0], "Authorization: License %s", jwt);
    free(jwt);
}

static void creds_free(struct creds *c) { free(c->vendor); }

/* Which credentials a declared kind names ("customer_key|group_key": a
 * customer key, or a group key in the body); 0 when it names one this test
 * does not know. */
static int parse_kind(const char *kind, int takes[NCREDS])
{
    char copy[64], *tok, *save = NULL;
    memset(takes, 0, NCREDS * sizeof takes[0]);
    snprintf(copy, sizeof copy, "%s", kind);
    for (tok = strtok_r(copy, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        int known = 0;
        for (int k = 0; k < NCREDS; k++)
            if (strcmp(tok, cred_names[k]) == 0)
                takes[k] = known = 1;
        if (!known)
            return 0;
    }
    return 1;
}

Test(routes_auth, every_route_declares_who_may_call_it)
{
    struct route routes[MAX_ROUTES];
    size_t n = load_routes(routes);
    for (size_t i = 0; i < n; i++) {
        int takes[NCREDS];
        const char *k = routes[i].kind;
        cr_assert(strcmp(k, "public") == 0 || strcmp(k, "session_token") == 0 ||
                      parse_kind(k, takes),
                  "%s %s declares \"%s\": not a caller kind licd knows", routes[i].method,
                  routes[i].path, k);
    }
}

/* The contract for a route that takes credentials: none, another scheme, a
 * malformed key or an unknown credential of a kind it takes is 401; a
 * genuine credential of a kind it does not take is 403. A group key is
 * never taken as a bearer: where a route declares group_key, it is in the
 * body, and only when no Authorization header is sent. */
static void check_keyed_route(const struct route *rt, const struct creds *c, const int takes[])
{
    expect_refused(rt, NULL, NULL, 401, "unauthorized");
    expect_refused(rt, "Authorization: Basic dXNlcjpwYXNz", NULL, 401, "unauthorized");
    expect_refused(rt, "Authorization: Bearer not-a-key", NULL, 401, "unauthorized");
    for (int k = 0; k < NCREDS; k++) {
        if (takes[k] && k != GROUP_KEY)
            expect_refused(rt, c->unknown[k], NULL, 401, "unauthorized");
        else
            expect_refused(rt, c->genuine[k], NULL, 403, "forbidden");
    }
    if (takes[GROUP_KEY]) {
        char body[512], *before, *after;
        it_response r;
        snprintf(body, sizeof body,
                 "{\"group_key\":\"lg_%064d\",\"scheme\":\"s\",\"product\":\"app\","
                 "\"app_id\":\"a2\"}", 0);
        expect_refused(rt, NULL, body, 403, "unknown_group_key");
        snprintf(body, sizeof body,
                 "{\"group_key\":\"%s\",\"scheme\":\"s\",\"product\":\"app\",\"app_id\":\"a2\"}",
                 c->group_key);
        call(rt, NULL, body, &r);
        cr_assert_eq(r.status, 201, "%s %s with a group key in the body: %s", rt->method,
                     rt->path, r.body);
        it_response_free(&r);
        /* A credential in the header that fails is not passed over for the body's. */
        before = vendor_rows(c->vendor_id);
        expect_refused(rt, c->unknown[CUSTOMER_KEY], body, 401, "unauthorized");
        after = vendor_rows(c->vendor_id);
        cr_assert_str_eq(after, before,
                         "%s %s: a refused header changed the vendor's rows: %s -> %s", rt->method,
                         rt->path, before, after);
        free(before);
        free(after);
    }
}

Test(routes_auth, keyed_routes_answer_401_without_a_key_and_403_to_another_kind)
{
    struct route routes[MAX_ROUTES];
    struct creds c;
    size_t n = load_routes(routes), checked = 0;
    creds_init(&c);
    for (size_t i = 0; i < n; i++) {
        int takes[NCREDS];
        if (parse_kind(routes[i].kind, takes)) {
            check_keyed_route(&routes[i], &c, takes);
            checked++;
        }
    }
    cr_assert_gt(checked, 0);
    creds_free(&c);
}

Test(routes_auth, public_routes_do_not_read_credentials)
{
    struct route routes[MAX_ROUTES];
    struct creds c;
    size_t n = load_routes(routes), checked = 0;
    creds_init(&c);
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &routes[i];
        it_response bare;
        if (strcmp(rt->kind, "public") != 0)
            continue;
        call(rt, NULL, NULL, &bare);
        cr_assert(bare.status < 500 && bare.status != 401 && bare.status != 403,
                  "%s %s is public but answered %ld: %s", rt->method, rt->path, bare.status,
                  bare.body);
        for (int k = 0; k < NCREDS; k++) {
            it_response r;
            call(rt, c.unknown[k], NULL, &r);
            cr_assert_eq(r.status, bare.status, "%s %s with %s: %ld, without: %ld", rt->method,
                         rt->path, c.unknown[k], r.status, bare.status);
            it_response_free(&r);
        }
        it_response_free(&bare);
        checked++;
    }
    cr_assert_gt(checked, 0);
    creds_free(&c);
}

Test(routes_auth, token_routes_take_the_token_in_the_body_and_no_key)
{
    struct route routes[MAX_ROUTES];
    struct creds c;
    size_t n = load_routes(routes), checked = 0;
    const char *body = "{\"token\":\"not-a-token\",\"machine_id\":\"m1\"}";
    creds_init(&c);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(routes[i].kind, "session_token") != 0)
            continue;
        expect_refused(&routes[i], NULL, body, 401, "renewal_refused");
        for (int k = 0; k < NCREDS; k++)
            expect_refused(&routes[i], c.genuine[k], body, 401, "renewal_refused");
        checked++;
    }
    cr_assert_gt(checked, 0);
    creds_free(&c);
}

/* ---- bodies over the limit ---- */

/* head (the request line and headers, without the blank line) and then
 * body (len bytes, may be NULL) on a connection of its own, which the
 * request asks licd to close after its answer; the answer's status, and
 * its body in out (malloc'd). licd may answer before body is all sent (from
 * the headers, when the declared length is over the limit): a send that
 * fails then ends the sending, and the answer is read all the same. */
static long raw_request(const char *head, const char *body, size_t len, char **out)
{
    const char *url = it_env("LICD_TEST_URL"), *colon = strrchr(url, ':');
    struct timeval tv = {10, 0};
    size_t got = 0, cap = 65536;
    char *buf = malloc(cap), *json, *request;
    long status = 0;
    ssize_t n = 0;
    int s;

    cr_assert(buf);
    s = it_connect(atoi(colon + 1));
    cr_assert_geq(s, 0, "cannot connect to %s", url);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    request = strdup(it_fmt("%sConnection: close\r\n\r\n", head));
    cr_assert(request);
    for (size_t at = 0, all = strlen(request); at < all && n >= 0; at += (size_t)n)
        n = send(s, request + at, all - at, MSG_NOSIGNAL);
    free(request);
    for (size_t at = 0; body && n >= 0 && at < len; at += (size_t)n)
        n = send(s, body + at, len - at, MSG_NOSIGNAL);
    while ((n = recv(s, buf + got, cap - got - 1, 0)) > 0) {
        got += (size_t)n;
        if (got + 1 == cap) {
            cr_assert(cap < (1u << 24), "an answer of over 16 MiB");
            cr_assert(buf = realloc(buf, cap *= 2));
        }
    }
    cr_assert(n == 0 || got > 0, "no answer: %s", strerror(errno));
    cr_assert(n == 0 || errno != EAGAIN, "licd did not close the connection within 10 s");
    close(s);
    buf[got] = '\0';
    cr_assert_eq(sscanf(buf, "HTTP/1.1 %ld", &status), 1, "no HTTP answer: %.200s", buf);
    json = strstr(buf, "\r\n\r\n");
    *out = strdup(json ? json + 4 : "");
    free(buf);
    return status;
}

/* A problem+json answer of status and code (body from raw_request). */
static void assert_raw_problem(const struct route *rt, long got, const char *body, long status,
                               const char *code)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    cr_assert_eq(got, status, "%s %s: expected %ld, got %ld: %s", rt->method, rt->path, status, got,
                 body);
    cr_assert(cJSON_IsString(c) && strcmp(c->valuestring, code) == 0,
              "%s %s: expected the problem %s: %s", rt->method, rt->path, code, body);
    cJSON_Delete(j);
}

/* The body limit a 413 answer names ("the body limit is N bytes"). */
static size_t limit_named(const struct route *rt, const char *body)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
    unsigned long long limit = 0;
    cr_assert(cJSON_IsString(d) &&
                  sscanf(d->valuestring, "the body limit is %llu bytes", &limit) == 1,
              "%s %s: the 413 does not name the limit: %s", rt->method, rt->path, body);
    cJSON_Delete(j);
    return (size_t)limit;
}

/* A JSON object of len bytes, streamed in chunks of 64 KiB: it would
 * create a customer if a route took it whole. */
static char *chunked_json(size_t len, size_t *out_len)
{
    const char *start = "{\"name\":\"Oversize\"", *end = "}";
    char *body = malloc(len), *wire = malloc(len + len / 4096 + 64), *p = wire;
    cr_assert(body && wire);
    memset(body, ' ', len);
    memcpy(body, start, strlen(start));
    memcpy(body + len - strlen(end), end, strlen(end));
    for (size_t at = 0; at < len;) {
        size_t n = len - at < 65536 ? len - at : 65536;
        p += sprintf(p, "%zx\r\n", n);
        memcpy(p, body + at, n);
        p += n;
        p += sprintf(p, "\r\n");
        at += n;
    }
    p += sprintf(p, "0\r\n\r\n");
    free(body);
    *out_len = (size_t)(p - wire);
    return wire;
}

/* Every route that takes a body (POST, PUT, PATCH), called as its caller
 * would call it: a declared length over any limit licd can be given (1 GiB)
 * is refused from the headers with 413, which names the route's limit; a
 * body of that limit and one byte more, streamed in chunks with a genuine
 * credential, is refused with 413 too (routes whose limit is above a
 * MiB have tests of their own: client images, usage reports). Nothing
 * of the vendor's changes. */
Test(route_bodies, every_body_route_refuses_a_body_over_its_limit_and_changes_nothing)
{
    struct route routes[MAX_ROUTES];
    struct creds c;
    size_t n = load_routes(routes), declared = 0, streamed = 0;
    char *before, *after;

    creds_init(&c);
    before = vendor_rows(c.vendor_id);
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &routes[i];
        char path[512], head[6000], *body;
        const char *auth = "X-No-Credential: 1";
        int takes[NCREDS];
        size_t limit;
        long status;
        if (strcmp(rt->method, "POST") != 0 && strcmp(rt->method, "PUT") != 0 &&
            strcmp(rt->method, "PATCH") != 0)
            continue;
        /* the first credential it takes, as its caller would send it */
        if (parse_kind(rt->kind, takes))
            for (int k = 0; k < NCREDS; k++)
                if (takes[k] && k != GROUP_KEY) {
                    auth = c.genuine[k];
                    break;
                }
        fill_path(rt->path, path, sizeof path);

        snprintf(
            head, sizeof head,
            "%.15s %.511s HTTP/1.1\r\nHost: licd\r\n%.4200s\r\nContent-Type: application/json\r\n"
            "Content-Length: %llu\r\n",
            rt->method, path, auth, (1ULL << 30) + 1);
        status = raw_request(head, NULL, 0, &body);
        assert_raw_problem(rt, status, body, 413, "body_too_large");
        limit = limit_named(rt, body);
        free(body);
        cr_assert_geq(limit, 1024, "%s %s: a limit of %zu bytes", rt->method, rt->path, limit);
        declared++;
        if (limit > (1u << 20)) {
            cr_assert(strcmp(rt->path, "/v1/client-images") == 0 ||
                          strcmp(rt->path, "/v1/report_usage") == 0,
                      "%s %s takes %zu bytes: test its limit", rt->method, rt->path, limit);
            continue;
        }

        size_t len;
        char *wire = chunked_json(limit + 1, &len);
        snprintf(
            head, sizeof head,
            "%.15s %.511s HTTP/1.1\r\nHost: licd\r\n%.4200s\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n",
            rt->method, path, auth);
        status = raw_request(head, wire, len, &body);
        assert_raw_problem(rt, status, body, 413, "body_too_large");
        free(body);
        free(wire);
        streamed++;
    }
    cr_assert_geq(streamed, 25, "only %zu of %zu routes streamed", streamed, declared);
    after = vendor_rows(c.vendor_id);
    cr_assert_str_eq(after, before, "refused bodies changed the vendor's rows");
    free(before);
    free(after);
    creds_free(&c);
}
