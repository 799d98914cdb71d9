/* licctl admin (the vendor API for vendor scripts: one table row per
 * subcommand, each turning its options into one request) and licctl
 * report-usage (usage under a licence, as JSON or a gzip archive). Exit
 * status: 0 done, 20 licd refused (a 4xx problem), 1 anything else. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "licctl_cmds.h"
#include "licd_client.h"

#define MAX_PASSWORD 1024
#define MAX_LICENSE_FILE 65536
#define LIST_LIMIT "500" /* the largest page licd gives */

/* ---- Options: one table for every admin subcommand. ---- */

/* In the order help shows them. */
enum {
    O_CUSTOMER, O_USERNAME, O_MACHINE, O_CODE, O_NAME, O_PRODUCT, O_VERSION, O_SCHEME, O_PRODUCTS, O_QUOTA,
    O_LINK_TYPE, O_TYPE, O_QUANTITY, O_STATE, O_ACTION, O_LICENSE, O_PASSWORD_STDIN,
    O_FEATURES, O_REQUIRE_CHALLENGE, O_PACK_ID, O_BEGIN_SERIAL, O_EXPIRES, O_PLATFORM, O_ATTRIBUTES,
    O_CLIENT, O_PACK, O_MAX_MACHINES, O_LINK_VALUE, O_LIMITS, O_FROM, O_TO, O_GRACE,
    O_CONTAINER_QUOTA, O_ON_OVER_LIMIT, O_MAX_BORROW, O_SITE, O_FILE,
    O_LICENSE_FILE, O_GZIP, O_STDIN, /* report-usage */
    O_URL, O_VENDOR_KEY, O_JSON, O_HELP,
    O_COUNT
};

#define BIT(o) (UINT64_C(1) << (o))
#define COMMON (BIT(O_URL) | BIT(O_VENDOR_KEY) | BIT(O_JSON) | BIT(O_HELP))

static const struct {
    const char *name;
    const char *arg; /* NULL: a flag */
    const char *help;
} options[O_COUNT] = {
    [O_URL] = {"url", "URL", "licd's address (default: $LICD_URL)"},
    [O_VENDOR_KEY] = {"vendor-key", "KEY", "the vendor's API key (default: $LICD_VENDOR_KEY)"},
    [O_JSON] = {"json", NULL, "print licd's JSON answer as it is"},
    [O_HELP] = {"help", NULL, "this help"},
    [O_NAME] = {"name", "N", "display name"},
    [O_CODE] = {"code", "C", "product code ([a-z0-9._-], up to 64)"},
    [O_VERSION] = {"version", "V", "product version"},
    [O_SCHEME] = {"scheme", "S", "licensing scheme marker"},
    [O_FEATURES] = {"features", "a,b", "features, comma-separated"},
    [O_REQUIRE_CHALLENGE] = {"require-challenge", NULL, "get_key first asks for a platform challenge"},
    [O_CUSTOMER] = {"customer", "ID", "customer id"},
    [O_PRODUCT] = {"product", "P", "product code"},
    [O_TYPE] = {"type", "T", "per_device, per_user, concurrent or upgrade"},
    [O_QUANTITY] = {"quantity", "N", "number of licences"},
    [O_PACK_ID] = {"pack-id", "ID", "your id for the pack (made when absent)"},
    [O_BEGIN_SERIAL] = {"begin-serial", "S", "first serial (default: the next free one)"},
    [O_EXPIRES] = {"expires", "T", "expiry, RFC 3339 (default: never; 'never' in pack update)"},
    [O_PLATFORM] = {"platform", "P", "windows, non_windows, legacy, direct_connect or any"},
    [O_ATTRIBUTES] = {"attributes", "JSON", "attributes object, e.g. '{\"limits\":{\"cpu\":4}}'"},
    [O_ON_OVER_LIMIT] = {"on-over-limit", "M", "usage over a limit: refuse (default) or report"},
    [O_MAX_BORROW] = {"max-borrow-s", "N", "longest borrow of a seat in seconds (0: none)"},
    [O_SITE] = {"site", "S", "site server id (its LICD_SITE_ID)"},
    [O_FILE] = {"file", "FILE", "the file to send (site keys: licd jwks; report: licd export-usage)"},
    [O_CLIENT] = {"client", "ID", "client id"},
    [O_PACK] = {"pack", "ID", "pack id"},
    [O_USERNAME] = {"username", "U", "user name"},
    [O_MACHINE] = {"machine", "ID", "machine id (as the user's tokens name it)"},
    [O_PASSWORD_STDIN] = {"password-stdin", NULL, "read the password from standard input (one line)"},
    [O_STATE] = {"state", "S", "valid, intermediate or invalid"},
    [O_MAX_MACHINES] = {"max-machines", "N", "most machines with unexpired tokens (default 5)"},
    [O_PRODUCTS] = {"products", "a,b", "product codes, comma-separated"},
    [O_QUOTA] = {"quota", "P=N[,P=N]", "instances allowed per node, per product"},
    [O_LINK_TYPE] = {"link-type", "T", "ip_range, domain, node, app or container"},
    [O_LINK_VALUE] = {"link-value", "V", "the link (default: empty, bound by the next activation)"},
    [O_LIMITS] = {"limits", "JSON", "resource limits, e.g. '{\"mail\":{\"mailboxes\":100}}'"},
    [O_CONTAINER_QUOTA] = {"container-quota", "P=N[,P=N]", "instances allowed per container of a node"},
    [O_ACTION] = {"action", "A", "dismiss or block"},
    [O_LICENSE] = {"license", "ID", "licence id"},
    [O_FROM] = {"from", "T", "from this time on, RFC 3339"},
    [O_TO] = {"to", "T", "before this time, RFC 3339"},
    [O_GRACE] = {"grace-s", "N", "seconds the old keys keep working (default 86400; 0: none)"},
    [O_LICENSE_FILE] = {"license-file", "FILE", "the licence"},
    [O_GZIP] = {"gzip", NULL, "send a gzip archive"},
    [O_STDIN] = {"stdin", NULL, "records from standard input"},
};

/* One parsed command line. */
struct admin {
    const struct admin_cmd *cmd;
    const char *v[O_COUNT]; /* option values; "" for a flag given */
    const char *arg;        /* the positional argument */
};

/* What a subcommand asks of licd. */
struct request {
    const char *method;
    char *path;
    char *body;  /* JSON text or NULL */
    int list;    /* follow "next" cursors */
    const char *content_type; /* of a body that is not JSON (body_len bytes), else NULL */
    size_t body_len;
    int secret;  /* the body holds a password: wiped after use */
};

struct admin_cmd {
    const char *words;            /* "customer create" */
    const char *arg;              /* name of the positional argument, or NULL */
    uint64_t required, optional;  /* options besides COMMON */
    const char *about;
    int (*build)(const struct admin *a, struct request *rq); /* 0, or non-zero after complaining */
    const char *rows;             /* the answer's member shown as a table (human output) */
    const char *columns;          /* its columns, comma-separated */
    const char *note_200;         /* told people (stderr) when licd answers 200, not 201 */
};

/* ---- Building requests. ---- */

static char *escaped(const char *s)
{
    char *e = NULL;
    return licd_client_escape(s, &e) == LICD_CLIENT_OK ? e : NULL;
}

/* before, a, after and b (when given) joined, a and b escaped as path segments. */
static char *path2(const char *before, const char *a, const char *after, const char *b)
{
    char *ea = escaped(a), *eb = b ? escaped(b) : NULL, *p = NULL;
    if (ea && (!b || eb) && asprintf(&p, "%s%s%s%s", before, ea, after, b ? eb : "") < 0)
        p = NULL;
    free(ea);
    free(eb);
    return p;
}

/* Appends name=value (escaped) to the query of *path when value is given. */
static int add_query(char **path, const char *name, const char *value)
{
    char *e, *p;
    if (!value)
        return 1;
    if (!*path || !(e = escaped(value)))
        return 0;
    if (asprintf(&p, "%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', name, e) < 0)
        p = NULL;
    free(e);
    free(*path);
    *path = p;
    return p != NULL;
}

/* A whole number from 0 to 10^15 - 1 (the API's largest is a serial). */
static int is_whole(const char *text)
{
    size_t n = strspn(text, "0123456789");
    return n > 0 && n <= 15 && !text[n];
}

static cJSON *whole_number(const char *option, const char *text)
{
    if (!is_whole(text)) {
        complain("--%s takes a whole number, not '%s'", option, text);
        return NULL;
    }
    return cJSON_CreateNumber(strtod(text, NULL));
}

/* "a,b" as a JSON array of strings; "" is the empty array. */
static cJSON *name_list(const char *option, const char *text)
{
    cJSON *list = cJSON_CreateArray();
    const char *p = text;

    while (list && *text) {
        size_t n = strcspn(p, ",");
        char *name = n ? strndup(p, n) : NULL;
        cJSON *s = name ? cJSON_CreateString(name) : NULL;
        free(name);
        if (!s || !cJSON_AddItemToArray(list, s)) {
            cJSON_Delete(s);
            cJSON_Delete(list);
            complain("--%s takes names separated by single commas, not '%s'", option, text);
            return NULL;
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    return list;
}

/* "P=N,Q=M" as {"P":N,"Q":M}. */
static cJSON *quota_object(const char *option, const char *text)
{
    cJSON *list = name_list(option, text), *o = cJSON_CreateObject(), *e;
    int ok = list && o && cJSON_GetArraySize(list) > 0;

    if (!list) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_ArrayForEach(e, list) {
        char *eq = strchr(e->valuestring, '=');
        cJSON *n;
        if (!ok || !eq || eq == e->valuestring || !is_whole(eq + 1)) {
            ok = 0;
            break;
        }
        *eq = '\0';
        if (!(n = cJSON_CreateNumber(strtod(eq + 1, NULL))) || !cJSON_AddItemToObject(o, e->valuestring, n)) {
            cJSON_Delete(n);
            ok = 0;
        }
    }
    cJSON_Delete(list);
    if (!ok) {
        complain("--%s takes PRODUCT=N pairs separated by commas, not '%s'", option, text);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *json_object(const char *option, const char *text)
{
    cJSON *o = cJSON_Parse(text);
    if (!cJSON_IsObject(o)) {
        complain("--%s takes a JSON object, not '%s'", option, text);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Members of request bodies, each from its option when it was given. The
 * member names are the API's (api-spec/openapi.yaml). */
enum kind { K_STRING, K_NUMBER, K_LIST, K_OBJECT, K_QUOTA, K_TRUE, K_TIME_OR_NEVER };

static int member(cJSON *body, const struct admin *a, int opt, const char *name, enum kind k)
{
    const char *v = a->v[opt];
    cJSON *item = NULL;

    if (!v)
        return 1;
    switch (k) {
    case K_STRING: item = cJSON_CreateString(v); break;
    case K_NUMBER: item = whole_number(options[opt].name, v); break;
    case K_LIST: item = name_list(options[opt].name, v); break;
    case K_OBJECT: item = json_object(options[opt].name, v); break;
    case K_QUOTA: item = quota_object(options[opt].name, v); break;
    case K_TRUE: item = cJSON_CreateTrue(); break;
    case K_TIME_OR_NEVER:
        item = strcmp(v, "never") ? cJSON_CreateString(v) : cJSON_CreateNull();
        break;
    }
    if (item && cJSON_AddItemToObject(body, name, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

struct member_spec {
    int opt;
    const char *name;
    enum kind kind;
};

/* rq->body: body (taken) with the members given; non-zero after
 * complaining when one is bad. A secret body's strings are wiped. */
static int body_of(const struct admin *a, struct request *rq, cJSON *body, const struct member_spec *m,
                   size_t n)
{
    char *text = NULL;
    const cJSON *e;
    int ok = body != NULL;

    for (size_t i = 0; ok && i < n; i++)
        ok = member(body, a, m[i].opt, m[i].name, m[i].kind);
    if (ok && (text = cJSON_PrintUnformatted(body)) && !(rq->body = strdup(text)))
        complain("out of memory");
    if (text && rq->secret)
        explicit_bzero(text, strlen(text));
    if (rq->secret && body)
        cJSON_ArrayForEach(e, body) if (cJSON_IsString(e))
            explicit_bzero(e->valuestring, strlen(e->valuestring));
    cJSON_free(text);
    cJSON_Delete(body);
    return !(ok && rq->body);
}

#define BODY(a, rq, body, ...)                                                                      \
    body_of(a, rq, body, (const struct member_spec[]){__VA_ARGS__},                                \
            sizeof((const struct member_spec[]){__VA_ARGS__}) / sizeof(struct member_spec))

/* The method and path (taken) of rq; non-zero without a path (out of memory). */
static int request(struct request *rq, const char *method, char *path, int list)
{
    rq->method = method;
    rq->path = path;
    rq->list = list;
    if (!path)
        complain("out of memory");
    return !path;
}

static int post(struct request *rq, char *path) { return request(rq, "POST", path, 0); }

/* ---- The subcommands. ---- */

static int customer_create(const struct admin *a, struct request *rq)
{
    return post(rq, strdup("/v1/customers")) ||
           BODY(a, rq, cJSON_CreateObject(), {O_NAME, "name", K_STRING});
}

static int customer_list(const struct admin *a, struct request *rq)
{
    (void)a;
    return request(rq, "GET", strdup("/v1/customers?limit=" LIST_LIMIT), 1);
}

static int customer_rotate_key(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/customers/", a->arg, "/rotate-key", NULL)) ||
           BODY(a, rq, cJSON_CreateObject(), {O_GRACE, "grace_s", K_NUMBER});
}

static int vendor_rotate_key(const struct admin *a, struct request *rq)
{
    return post(rq, strdup("/v1/vendor/rotate-key")) ||
           BODY(a, rq, cJSON_CreateObject(), {O_GRACE, "grace_s", K_NUMBER});
}

static int product_create(const struct admin *a, struct request *rq)
{
    return post(rq, strdup("/v1/products")) ||
           BODY(a, rq, cJSON_CreateObject(), {O_CODE, "code", K_STRING}, {O_NAME, "name", K_STRING},
                {O_VERSION, "version", K_STRING}, {O_SCHEME, "scheme", K_STRING},
                {O_FEATURES, "features", K_LIST}, {O_REQUIRE_CHALLENGE, "require_challenge", K_TRUE});
}

static int product_show(const struct admin *a, struct request *rq)
{
    return request(rq, "GET", path2("/v1/products/", a->arg, "", NULL), 0);
}

static int product_list(const struct admin *a, struct request *rq)
{
    (void)a;
    return request(rq, "GET", strdup("/v1/products?limit=" LIST_LIMIT), 1);
}

static int pack_create(const struct admin *a, struct request *rq)
{
    return post(rq, strdup("/v1/packs")) ||
           BODY(a, rq, cJSON_CreateObject(), {O_PACK_ID, "pack_id", K_STRING}, {O_CUSTOMER, "customer_id", K_STRING},
                {O_PRODUCT, "product", K_STRING}, {O_VERSION, "version", K_STRING},
                {O_TYPE, "type", K_STRING}, {O_QUANTITY, "quantity", K_NUMBER},
                {O_BEGIN_SERIAL, "begin_serial", K_NUMBER}, {O_EXPIRES, "expires", K_STRING},
                {O_PLATFORM, "platform", K_STRING}, {O_ATTRIBUTES, "attributes", K_OBJECT},
                {O_ON_OVER_LIMIT, "on_over_limit", K_STRING}, {O_MAX_BORROW, "max_borrow_s", K_NUMBER});
}

static int pack_show(const struct admin *a, struct request *rq)
{
    return request(rq, "GET", path2("/v1/packs/", a->arg, "", NULL), 0);
}

static int pack_list(const struct admin *a, struct request *rq)
{
    char *path = strdup("/v1/packs?limit=" LIST_LIMIT);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]) ||
        !add_query(&path, "product", a->v[O_PRODUCT])) {
        free(path);
        path = NULL;
    }
    return request(rq, "GET", path, 1);
}

static int pack_update(const struct admin *a, struct request *rq)
{
    return request(rq, "PATCH", path2("/v1/packs/", a->arg, "", NULL), 0) ||
           BODY(a, rq, cJSON_CreateObject(), {O_QUANTITY, "quantity", K_NUMBER},
                {O_EXPIRES, "expires", K_TIME_OR_NEVER}, {O_ON_OVER_LIMIT, "on_over_limit", K_STRING},
                {O_MAX_BORROW, "max_borrow_s", K_NUMBER});
}

static int pack_allocate(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/packs/", a->arg, "/allocations", NULL)) ||
           BODY(a, rq, cJSON_CreateObject(), {O_SITE, "site_id", K_STRING},
                {O_QUANTITY, "quantity", K_NUMBER});
}

static int site_show(const struct admin *a, struct request *rq)
{
    return request(rq, "GET", path2("/v1/sites/", a->arg, "", NULL), 0);
}

/* The whole file, NUL-terminated (its length in *len); NULL after complaining. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    if (f && (buf = malloc((1u << 20) + 1)))
        n = fread(buf, 1, 1u << 20, f);
    if (!f || !buf || ferror(f) || !feof(f)) {
        complain("cannot read %s (at most 1 MiB)", path);
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
        *len = n;
    }
    if (f)
        fclose(f);
    return buf;
}

static int site_keys(const struct admin *a, struct request *rq)
{
    size_t len = 0;
    char *text = read_file(a->v[O_FILE], &len);
    cJSON *jwks = text ? cJSON_Parse(text) : NULL, *body = cJSON_CreateObject();
    int bad;
    free(text);
    if (!jwks || !cJSON_IsObject(jwks)) {
        complain("%s is not a JWKS (the JSON object licd jwks prints)", a->v[O_FILE]);
        cJSON_Delete(jwks);
        cJSON_Delete(body);
        return 1;
    }
    cJSON_AddItemToObject(body, "jwks", jwks);
    bad = request(rq, "PUT", path2("/v1/sites/", a->arg, "", NULL), 0);
    if (!bad && !(text = cJSON_PrintUnformatted(body))) {
        complain("out of memory");
        bad = 1;
    }
    if (!bad && !(rq->body = strdup(text))) {
        complain("out of memory");
        bad = 1;
    }
    cJSON_free(text);
    cJSON_Delete(body);
    return bad;
}

static int site_report(const struct admin *a, struct request *rq)
{
    if (post(rq, path2("/v1/sites/", a->arg, "/reports", NULL)))
        return 1;
    if (!(rq->body = read_file(a->v[O_FILE], &rq->body_len)))
        return 1;
    rq->content_type = "application/jose";
    return 0;
}

static int assignments(const struct admin *a, struct request *rq)
{
    char *path = strdup("/v1/assignments?limit=" LIST_LIMIT);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]) ||
        !add_query(&path, "client_id", a->v[O_CLIENT]) || !add_query(&path, "pack_id", a->v[O_PACK])) {
        free(path);
        path = NULL;
    }
    return request(rq, "GET", path, 1);
}

static int license_block(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/licenses/", a->arg, "/block", NULL));
}

static int license_unblock(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/licenses/", a->arg, "/unblock", NULL));
}

static int license_deactivate(const struct admin *a, struct request *rq)
{
    return request(rq, "DELETE", path2("/v1/licenses/", a->arg, "", NULL), 0);
}

/* One line of standard input, without its line ending, into buf. */
static int read_password(char *buf, size_t cap)
{
    size_t n;
    if (!fgets(buf, (int)cap, stdin) || !(n = strcspn(buf, "\r\n")) || (!buf[n] && n == cap - 1)) {
        complain("--password-stdin: no password (one line, up to %d bytes) on standard input",
                 MAX_PASSWORD);
        return 0;
    }
    buf[n] = '\0';
    return 1;
}

static int user_create(const struct admin *a, struct request *rq)
{
    char pw[MAX_PASSWORD + 2];
    struct admin with = *a;
    int rc = 1;

    rq->secret = 1;
    if (read_password(pw, sizeof pw)) {
        with.v[O_PASSWORD_STDIN] = pw;
        rc = post(rq, strdup("/v1/users")) ||
             BODY(&with, rq, cJSON_CreateObject(), {O_CUSTOMER, "customer_id", K_STRING}, {O_USERNAME, "username", K_STRING},
                  {O_PASSWORD_STDIN, "password", K_STRING});
    }
    explicit_bzero(pw, sizeof pw);
    return rc;
}

static int user_entitle(const struct admin *a, struct request *rq)
{
    char *path = path2("/v1/users/", a->v[O_USERNAME], "/entitlements/", a->v[O_PRODUCT]);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]))
        path = NULL;
    return request(rq, "PUT", path, 0) || BODY(a, rq, cJSON_CreateObject(), {O_STATE, "state", K_STRING}, {O_FEATURES, "features", K_LIST},
                {O_MAX_MACHINES, "max_machines", K_NUMBER}, {O_EXPIRES, "expires", K_STRING});
}

static int user_revoke(const struct admin *a, struct request *rq)
{
    char *path = path2("/v1/users/", a->v[O_USERNAME], "/revoke", NULL);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]))
        path = NULL;
    return post(rq, path);
}

static int user_unrevoke(const struct admin *a, struct request *rq)
{
    char *path = path2("/v1/users/", a->v[O_USERNAME], "/unrevoke", NULL);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]))
        path = NULL;
    return post(rq, path);
}

static int user_list(const struct admin *a, struct request *rq)
{
    char *path = strdup("/v1/users?limit=" LIST_LIMIT);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]))
        path = NULL;
    return request(rq, "GET", path, 1);
}

static int user_show(const struct admin *a, struct request *rq)
{
    char *path = path2("/v1/users/", a->v[O_USERNAME], "", NULL);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]))
        path = NULL;
    return request(rq, "GET", path, 0);
}

static int machine_free(const struct admin *a, struct request *rq)
{
    char *path = path2("/v1/users/", a->v[O_USERNAME], "/machines/", a->v[O_MACHINE]);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER]))
        path = NULL;
    return request(rq, "DELETE", path, 0);
}

static int group_key_create(const struct admin *a, struct request *rq)
{
    cJSON *body, *link;

    if (post(rq, strdup("/v1/group-keys")))
        return 1;
    body = cJSON_CreateObject();
    link = cJSON_AddObjectToObject(body, "link");
    if (!link || !member(link, a, O_LINK_TYPE, "type", K_STRING) ||
        !member(link, a, O_LINK_VALUE, "value", K_STRING)) {
        cJSON_Delete(body);
        complain("out of memory");
        return 1;
    }
    return BODY(a, rq, body, {O_CUSTOMER, "customer_id", K_STRING}, {O_SCHEME, "scheme", K_STRING},
                {O_PRODUCTS, "products", K_LIST}, {O_QUOTA, "quota_per_node", K_QUOTA},
                {O_CONTAINER_QUOTA, "quota_per_container", K_QUOTA}, {O_LIMITS, "limits", K_OBJECT},
                {O_ON_OVER_LIMIT, "on_over_limit", K_STRING}, {O_EXPIRES, "expires", K_STRING});
}

static int group_key_list(const struct admin *a, struct request *rq)
{
    char *path = strdup("/v1/group-keys?limit=" LIST_LIMIT);
    if (!add_query(&path, "customer_id", a->v[O_CUSTOMER])) {
        free(path);
        path = NULL;
    }
    return request(rq, "GET", path, 1);
}

static int group_key_show(const struct admin *a, struct request *rq)
{
    return request(rq, "GET", path2("/v1/group-keys/", a->arg, "", NULL), 0);
}

static int group_key_update(const struct admin *a, struct request *rq)
{
    return request(rq, "PATCH", path2("/v1/group-keys/", a->arg, "", NULL), 0) ||
           BODY(a, rq, cJSON_CreateObject(), {O_QUOTA, "quota_per_node", K_QUOTA},
                {O_CONTAINER_QUOTA, "quota_per_container", K_QUOTA}, {O_LIMITS, "limits", K_OBJECT},
                {O_ON_OVER_LIMIT, "on_over_limit", K_STRING}, {O_EXPIRES, "expires", K_STRING});
}

static int group_key_revoke(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/group-keys/", a->arg, "/revoke", NULL));
}

static int group_key_relink(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/group-keys/", a->arg, "/relink", NULL));
}

static int clones(const struct admin *a, struct request *rq)
{
    (void)a;
    return request(rq, "GET", strdup("/v1/update-passwords?status=cloned&limit=" LIST_LIMIT), 1);
}

static int clone_resolve(const struct admin *a, struct request *rq)
{
    return post(rq, path2("/v1/update-passwords/", a->arg, "/resolve", NULL)) ||
           BODY(a, rq, cJSON_CreateObject(), {O_ACTION, "action", K_STRING});
}

static int usage_of(const struct admin *a, struct request *rq)
{
    char *path = strdup("/v1/usage");
    if (!add_query(&path, "license_id", a->v[O_LICENSE]) || !add_query(&path, "from", a->v[O_FROM]) ||
        !add_query(&path, "to", a->v[O_TO])) {
        free(path);
        path = NULL;
    }
    return request(rq, "GET", path, 0);
}

static int audit(const struct admin *a, struct request *rq)
{
    (void)a;
    return request(rq, "GET", strdup("/v1/audit?limit=" LIST_LIMIT), 1);
}

static const struct admin_cmd admin_cmds[] = {
    {"customer create", NULL, BIT(O_NAME), 0,
     "Creates a customer; its key is shown in this answer only.", customer_create, NULL, NULL, NULL},
    {"customer list", NULL, 0, 0, "Lists every customer of the vendor.", customer_list, "items",
     "customer_id,name,created_at", NULL},
    {"customer rotate-key", "CUSTOMER_ID", 0, BIT(O_GRACE),
     "Makes a new key for a customer, shown in this answer only. Its old keys keep\n"
     "working --grace-s seconds more (default a day; 0 ends them at once), until\n"
     "previous_valid_until.",
     customer_rotate_key, NULL, NULL, NULL},
    {"vendor rotate-key", NULL, 0, BIT(O_GRACE),
     "Makes a new API key for the vendor, shown in this answer only; use it from now\n"
     "on. The old keys, the one given included, keep working --grace-s seconds more\n"
     "(default a day; 0 ends them at once), until previous_valid_until.",
     vendor_rotate_key, NULL, NULL, NULL},
    {"product create", NULL, BIT(O_CODE) | BIT(O_NAME) | BIT(O_VERSION),
     BIT(O_SCHEME) | BIT(O_FEATURES) | BIT(O_REQUIRE_CHALLENGE),
     "Creates a product (a code the vendor has already is refused: conflict).", product_create,
     NULL, NULL, NULL},
    {"product show", "CODE", 0, 0, "Shows a product.", product_show, NULL, NULL, NULL},
    {"product list", NULL, 0, 0, "Lists every product of the vendor.", product_list, "items",
     "code,name,version,scheme,require_challenge,created_at", NULL},
    {"pack create", NULL,
     BIT(O_CUSTOMER) | BIT(O_PRODUCT) | BIT(O_VERSION) | BIT(O_TYPE) | BIT(O_QUANTITY),
     BIT(O_PACK_ID) | BIT(O_BEGIN_SERIAL) | BIT(O_EXPIRES) | BIT(O_PLATFORM) | BIT(O_ATTRIBUTES) |
         BIT(O_ON_OVER_LIMIT) | BIT(O_MAX_BORROW),
     "Installs a pack of licences for a customer. The same --pack-id again with the same\n"
     "fields shows the pack and adds nothing; with other fields it is refused (conflict:\n"
     "change a pack with pack update). Usage limits for report-usage go in the\n"
     "attributes' \"limits\" object.",
     pack_create, NULL, NULL,
     "the pack was installed before: shown as it is, nothing added"},
    {"pack show", "PACK_ID", 0, 0, "Shows a pack with how many of its licences are assigned.",
     pack_show, NULL, NULL, NULL},
    {"pack list", NULL, 0, BIT(O_CUSTOMER) | BIT(O_PRODUCT),
     "Lists every pack of the vendor (all pages), optionally only a customer's or a\n"
     "product's, with the seats in use (assigned).",
     pack_list, "items", "pack_id,customer_id,product,version,type,quantity,assigned,expires", NULL},
    {"pack allocate", "PACK_ID", BIT(O_SITE) | BIT(O_QUANTITY), 0,
     "Allocates --quantity seats of the pack to a site server (a change: a new\n"
     "sequence). The answer's file is the signed allocation the site installs with\n"
     "licd import FILE (--json, then its \"file\"); more than the free pool is\n"
     "refused (not_enough_free_seats).",
     pack_allocate, NULL, NULL, "the site had an allocation: changed, with a new sequence"},
    {"site show", "SITE_ID", 0, 0,
     "Shows a site server: its allocations and its last usage report.", site_show,
     "allocations", "allocation_id,pack_id,quantity,sequence", NULL},
    {"site keys", "SITE_ID", BIT(O_FILE), 0,
     "Registers the public keys a site signs its usage reports with (the JWKS that\n"
     "licd jwks prints on the site).",
     site_keys, NULL, NULL, "the site's keys were replaced"},
    {"site report", "SITE_ID", BIT(O_FILE), 0,
     "Imports a site's usage report (the file licd export-usage wrote), in the order\n"
     "of its chain: a replay or a gap is refused (report_out_of_order).",
     site_report, NULL, NULL, NULL},
    {"pack update", "PACK_ID", 0, BIT(O_QUANTITY) | BIT(O_EXPIRES) | BIT(O_ON_OVER_LIMIT) | BIT(O_MAX_BORROW),
     "Changes a pack: its quantity (never below the seats in use:\n"
     "quantity_below_assigned; a range into another pack's serials: serial_range_taken),\n"
     "its expiry (its licences' too; 'never' for none) or what get_key does once usage\n"
     "passes a limit.",
     pack_update, NULL, NULL, NULL},
    {"assignments", NULL, 0, BIT(O_CUSTOMER) | BIT(O_CLIENT) | BIT(O_PACK),
     "Lists every licence handed out (all pages), optionally only a customer's, a\n"
     "client's or a pack's.",
     assignments, "items", "license_id,pack_id,client_id,status,blocked,temporary,expires_at", NULL},
    {"license block", "LICENSE_ID", 0, 0,
     "Blocks a licence: get_key and upgrades refuse it (license_blocked).", license_block, NULL, NULL, NULL},
    {"license unblock", "LICENSE_ID", 0, 0, "Lifts a block.", license_unblock, NULL, NULL, NULL},
    {"license deactivate", "LICENSE_ID", 0, 0,
     "Deactivates a licence for good: its seat goes back to its pack, and the client's\n"
     "next get-key takes a new one. Prints nothing.",
     license_deactivate, NULL, NULL, NULL},
    {"user create", NULL, BIT(O_CUSTOMER) | BIT(O_USERNAME) | BIT(O_PASSWORD_STDIN), 0,
     "Creates a user of a customer, with the password read from standard input.", user_create,
     NULL, NULL, NULL},
    {"user entitle", NULL, BIT(O_CUSTOMER) | BIT(O_USERNAME) | BIT(O_PRODUCT) | BIT(O_STATE),
     BIT(O_FEATURES) | BIT(O_MAX_MACHINES) | BIT(O_EXPIRES),
     "Sets a user's entitlement to a product: valid (all features), intermediate (the\n"
     "features named) or invalid.",
     user_entitle, NULL, NULL, NULL},
    {"user revoke", NULL, BIT(O_CUSTOMER) | BIT(O_USERNAME), 0,
     "Revokes a user: no new or renewed session token.", user_revoke, NULL, NULL, NULL},
    {"user unrevoke", NULL, BIT(O_CUSTOMER) | BIT(O_USERNAME), 0,
     "Lifts a user's revocation: its sign-ins and renewals work again.", user_unrevoke, NULL,
     NULL, NULL},
    {"user list", NULL, BIT(O_CUSTOMER), 0, "Lists every user of a customer (all pages).", user_list,
     "items", "username,revoked,created_at,user_id", NULL},
    {"user show", NULL, BIT(O_CUSTOMER) | BIT(O_USERNAME), 0,
     "Shows a user: its entitlements, and its machines that hold a slot or may still\n"
     "renew into one, latest token first.",
     user_show, "machines", "machine_id,last_token_at,token_expires_at", NULL},
    {"machine free", NULL, BIT(O_CUSTOMER) | BIT(O_USERNAME) | BIT(O_MACHINE), 0,
     "Frees the slot a user's machine holds: the user's next new machine is accepted,\n"
     "and no token issued on this one so far is ever renewed. Prints nothing.",
     machine_free, NULL, NULL, NULL},
    {"group-key create", NULL,
     BIT(O_CUSTOMER) | BIT(O_SCHEME) | BIT(O_PRODUCTS) | BIT(O_QUOTA) | BIT(O_LINK_TYPE),
     BIT(O_LINK_VALUE) | BIT(O_CONTAINER_QUOTA) | BIT(O_LIMITS) | BIT(O_ON_OVER_LIMIT) | BIT(O_EXPIRES),
     "Creates a group key for a customer; the key is shown in this answer only.",
     group_key_create, NULL, NULL, NULL},
    {"group-key list", NULL, 0, BIT(O_CUSTOMER),
     "Lists the vendor's group keys (all pages), optionally only a customer's.", group_key_list,
     "items", "group_key_prefix,customer_id,scheme,products,activations,revoked,expires", NULL},
    {"group-key show", "KEY", 0, 0,
     "Shows a group key (named by the key or its prefix) with its unexpired, unblocked\n"
     "activations.",
     group_key_show, NULL, NULL, NULL},
    {"group-key update", "KEY", 0,
     BIT(O_QUOTA) | BIT(O_CONTAINER_QUOTA) | BIT(O_LIMITS) | BIT(O_ON_OVER_LIMIT) | BIT(O_EXPIRES),
     "Changes a group key: the quotas of the products named, the limits (all of them),\n"
     "what get_key does over a limit, the expiry.",
     group_key_update, NULL, NULL, NULL},
    {"group-key revoke", "KEY", 0, 0,
     "Revokes a group key: every later activation is refused (group_key_revoked).",
     group_key_revoke, NULL, NULL, NULL},
    {"group-key relink", "KEY", 0, 0,
     "Empties a group key's link (named by the key or its prefix); the next activation\n"
     "binds it.",
     group_key_relink, NULL, NULL, NULL},
    {"clones", NULL, 0, 0, "Lists the update passwords presented twice, awaiting moderation.",
     clones, "items", "id,group_key_prefix,product,node_id,app_id,cloned_at,evidence_count", NULL},
    {"clone resolve", "ID", BIT(O_ACTION), 0,
     "Resolves a cloned update password: dismiss, or block the suspected copies' licences.",
     clone_resolve, NULL, NULL, NULL},
    {"usage", NULL, BIT(O_LICENSE), BIT(O_FROM) | BIT(O_TO),
     "Shows the usage reported under a licence, per metric.", usage_of, "metrics",
     "metric,count,sum,max,latest,first_at,last_at", NULL},
    {"audit", NULL, 0, 0, "Lists the vendor's audit trail (all pages).", audit, "items",
     "id,at,actor,action,object_type,object_id", NULL},
};

#define NADMIN (sizeof admin_cmds / sizeof admin_cmds[0])

/* ---- Help. ---- */

/* Writes word after a space, or on a new line indented to indent when
 * the line would pass column 78; returns the new column. */
static int put_word(FILE *out, const char *word, int col, int indent)
{
    if (col + 1 + (int)strlen(word) > 78)
        col = fprintf(out, "\n%*s", indent, "") - 1;
    return col + fprintf(out, " %s", word);
}

/* "licctl admin WORDS [ARG]" (starting at column start), the required
 * options, then when full every other option, else "[OPTIONS]" if the
 * command has optional ones. */
static void synopsis(FILE *out, const struct admin_cmd *cmd, int start, int full)
{
    int col = start + fprintf(out, "licctl admin %s", cmd->words);
    int indent = col + 1;
    uint64_t optional = full ? cmd->optional | COMMON : 0;

    if (cmd->arg)
        col = put_word(out, cmd->arg, col, indent);
    for (int o = 0; o < O_COUNT; o++) {
        char word[80];
        int req = (cmd->required & BIT(o)) != 0;
        if (!req && !(optional & BIT(o)))
            continue;
        snprintf(word, sizeof word, "%s--%s%s%s%s", req ? "" : "[", options[o].name,
                 options[o].arg ? " " : "", options[o].arg ? options[o].arg : "", req ? "" : "]");
        col = put_word(out, word, col, indent);
    }
    if (!full && cmd->optional)
        put_word(out, "[OPTIONS]", col, indent);
}

void usage_admin(FILE *out)
{
    fputs("usage: licctl admin COMMAND [ARG] [OPTIONS] [--url URL] [--vendor-key KEY] [--json]\n"
          "       licctl admin COMMAND --help\n\ncommands:\n",
          out);
    for (size_t i = 0; i < NADMIN; i++) {
        fputs("  ", out);
        synopsis(out, &admin_cmds[i], 2, 0);
        fputc('\n', out);
    }
    fputs("\nThe vendor API for scripts. Output is for people unless --json, which prints\n"
          "licd's answer as it is (lists: every page, as one {\"items\":[...],\"next\":null}).\n"
          "LICD_URL and LICD_VENDOR_KEY stand in for --url and --vendor-key.\n\n"
          "Exit status: 0 done, 20 refused by licd (a 4xx problem, reported on stderr as\n"
          "\"licctl: CODE: DETAIL\"), 1 any other error (bad arguments, licd unreachable,\n"
          "a server error).\n",
          out);
}

static void usage_cmd(FILE *out, const struct admin_cmd *cmd)
{
    fputs("usage: ", out);
    synopsis(out, cmd, 7, 1);
    fprintf(out, "\n\n%s\n\n", cmd->about);
    for (int o = 0; o < O_COUNT; o++) {
        char left[64];
        if (!((cmd->required | cmd->optional | COMMON) & BIT(o)))
            continue;
        snprintf(left, sizeof left, "--%s%s%s", options[o].name, options[o].arg ? " " : "",
                 options[o].arg ? options[o].arg : "");
        fprintf(out, "  %-24s %s\n", left, options[o].help);
    }
    fputs("\nExit status: 0 done, 20 refused by licd, 1 any other error.\n", out);
}

/* ---- Output. ---- */

/* A member's text for people: strings as they are, the rest as JSON. */
static char *cell(const cJSON *v)
{
    if (!v)
        return strdup("-");
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    return cJSON_PrintUnformatted(v);
}

static int print_fields(const cJSON *o, const char *skip)
{
    const cJSON *m;
    int width = 0;

    cJSON_ArrayForEach(m, o) if ((int)strlen(m->string) > width) width = (int)strlen(m->string);
    cJSON_ArrayForEach(m, o) {
        char *text;
        if ((skip && strcmp(m->string, skip) == 0) || strcmp(m->string, "next") == 0)
            continue;
        if (!(text = cell(m)))
            return 0;
        printf("%-*s  %s\n", width + 1, m->string, text);
        free(text);
    }
    return 1;
}

/* One row of a table (the header when row is NULL): each cell padded to
 * its column's width, or with print 0 only widening the columns. */
static int table_row(const cJSON *row, char **names, size_t ncol, size_t *width, int print)
{
    for (size_t i = 0; i < ncol; i++) {
        char *text = row ? cell(cJSON_GetObjectItemCaseSensitive(row, names[i])) : strdup(names[i]);
        if (!text)
            return 0;
        if (strlen(text) > width[i])
            width[i] = strlen(text);
        if (print)
            printf("%-*s%s", i + 1 < ncol ? (int)width[i] : 0, text, i + 1 < ncol ? "  " : "\n");
        free(text);
    }
    return 1;
}

/* rows as a table under a header line, columns as wide as their widest cell. */
static int print_table(const cJSON *rows, const char *columns)
{
    char *names[16], *copy = strdup(columns), *save = NULL;
    size_t ncol = 0, width[16] = {0};
    const cJSON *row;
    int ok;

    if (!copy)
        return 0;
    for (char *p = strtok_r(copy, ",", &save); p && ncol < 16; p = strtok_r(NULL, ",", &save))
        names[ncol++] = p;
    ok = table_row(NULL, names, ncol, width, 0);
    cJSON_ArrayForEach(row, rows) ok = ok && table_row(row, names, ncol, width, 0);
    ok = ok && table_row(NULL, names, ncol, width, 1);
    cJSON_ArrayForEach(row, rows) ok = ok && table_row(row, names, ncol, width, 1);
    if (ok && cJSON_GetArraySize(rows) == 0)
        puts("(none)");
    free(copy);
    return ok;
}

static int print_answer(const struct admin_cmd *cmd, const char *text, int json)
{
    cJSON *o;
    int ok;

    if (!text) /* 204: nothing to show */
        return 1;
    if (json)
        return puts(text) >= 0;
    if (!(o = cJSON_Parse(text)))
        return 0;
    ok = print_fields(o, cmd->rows) &&
         (!cmd->rows || print_table(cJSON_GetObjectItemCaseSensitive(o, cmd->rows), cmd->columns));
    cJSON_Delete(o);
    return ok;
}

/* ---- Running. ---- */

/* 20 for a refusal (4xx), 1 for the rest, with one line on stderr: a
 * problem as "CODE: DETAIL". */
static int exit_for(const licd_client *c, int rc)
{
    long status = licd_client_http_status(c);
    const char *code = licd_client_problem_code(c);

    if (rc == LICD_CLIENT_ERR_HTTP && code)
        complain("%s: %s", code, licd_client_problem_detail(c));
    else
        complain("%s", *licd_client_error(c) ? licd_client_error(c) : licd_client_strerror(rc));
    return rc == LICD_CLIENT_ERR_HTTP && status >= 400 && status < 500 ? EXIT_NO_ACCESS : EXIT_ERROR;
}

/* --url (else $LICD_URL) and, for a vendor call, --vendor-key (else $LICD_VENDOR_KEY). */
int connect_to(const char *url, int vendor, const char *key, licd_client **c)
{
    if (!url || !*url)
        url = getenv("LICD_URL");
    if (vendor && (!key || !*key))
        key = getenv("LICD_VENDOR_KEY");
    if (!url || !*url || (vendor && (!key || !*key))) {
        complain("%s is required (or %s)", !url || !*url ? "--url" : "--vendor-key",
                 !url || !*url ? "LICD_URL" : "LICD_VENDOR_KEY");
        return EXIT_ERROR;
    }
    if (licd_client_new(url, NULL, c) != LICD_CLIENT_OK ||
        (vendor && licd_client_set_vendor_key(*c, key) != LICD_CLIENT_OK)) {
        complain("--url must start with http:// or https://, and no value may hold control characters");
        return EXIT_ERROR;
    }
    return EXIT_VALID;
}

/* getopt_long's table for the options in mask; each option's val is
 * 256 + its index in options[]. */
static void option_table(struct option *table, uint64_t mask)
{
    size_t n = 0;
    for (int o = 0; o < O_COUNT; o++)
        if (mask & BIT(o))
            table[n++] = (struct option){options[o].name, options[o].arg ? required_argument : no_argument,
                                         NULL, 256 + o};
    table[n] = (struct option){NULL, 0, NULL, 0};
}

/* The subcommand named by the first one or two words; *words gets how many. */
static const struct admin_cmd *find_cmd(int argc, char **argv, int *words)
{
    for (size_t i = 0; i < NADMIN; i++) {
        const char *w = admin_cmds[i].words, *space = strchr(w, ' ');
        size_t n = space ? (size_t)(space - w) : strlen(w);
        if (argc < 2 || strncmp(argv[1], w, n) != 0 || argv[1][n])
            continue;
        if (!space) {
            *words = 1;
            return &admin_cmds[i];
        }
        if (argc >= 3 && strcmp(argv[2], space + 1) == 0) {
            *words = 2;
            return &admin_cmds[i];
        }
    }
    return NULL;
}

/* getopt_long over argv (argv[0] being the last command word) for the
 * options in mask, their values into v ("" for a flag); optind is left at
 * the first argument that is not an option. EXIT_VALID, -1 for --help, or
 * EXIT_ERROR after complaining (what names the command: "admin pack show"). */
static int parse_options(uint64_t mask, int argc, char **argv, const char **v, const char *what)
{
    struct option table[O_COUNT + 1];
    int opt;

    option_table(table, mask | BIT(O_HELP));
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", table, NULL)) != -1) {
        if (opt == 'h' || opt == 256 + O_HELP)
            return -1;
        if (opt < 256) {
            complain("%s: unknown option or missing value: %s (see licctl %s --help)", what,
                     argv[optind - 1], what);
            return EXIT_ERROR;
        }
        v[opt - 256] = optarg ? optarg : "";
    }
    return EXIT_VALID;
}

/* Options and the positional argument, checked against the subcommand:
 * EXIT_VALID, or -1 for --help (printed), or EXIT_ERROR after complaining. */
static int parse_admin(struct admin *a, int argc, char **argv)
{
    const struct admin_cmd *cmd = a->cmd;
    char what[64];
    int rc;

    snprintf(what, sizeof what, "admin %s", cmd->words);
    if ((rc = parse_options(cmd->required | cmd->optional | COMMON, argc, argv, a->v, what)) != EXIT_VALID) {
        if (rc < 0)
            usage_cmd(stdout, cmd);
        return rc;
    }
    if (cmd->arg && optind < argc)
        a->arg = argv[optind++];
    if (optind < argc || (cmd->arg && (!a->arg || !*a->arg))) {
        complain("%s: %s %s (see licctl %s --help)", what, optind < argc ? "unexpected argument" : "missing",
                 optind < argc ? argv[optind] : cmd->arg, what);
        return EXIT_ERROR;
    }
    for (int o = 0; o < O_COUNT; o++)
        if ((cmd->required & BIT(o)) && (!a->v[o] || (options[o].arg && !*a->v[o]))) {
            complain("%s: --%s is required (see licctl %s --help)", what, options[o].name, what);
            return EXIT_ERROR;
        }
    return EXIT_VALID;
}

int cmd_admin(int argc, char **argv)
{
    struct admin a = {0};
    struct request rq = {0};
    licd_client *c = NULL;
    char *answer = NULL;
    int words = 0, rc, lc;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage_admin(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : EXIT_VALID;
    }
    if (!(a.cmd = find_cmd(argc, argv, &words))) {
        complain("admin: unknown command %s%s%s (see licctl admin --help)", argv[1],
                 argc > 2 && argv[2][0] != '-' ? " " : "", argc > 2 && argv[2][0] != '-' ? argv[2] : "");
        return EXIT_ERROR;
    }
    if ((rc = parse_admin(&a, argc - words, argv + words)) != EXIT_VALID)
        return rc < 0 ? EXIT_VALID : rc;
    rc = EXIT_ERROR;
    if (a.cmd->build(&a, &rq) || connect_to(a.v[O_URL], 1, a.v[O_VENDOR_KEY], &c) != EXIT_VALID)
        goto out;
    lc = rq.list           ? licd_client_vendor_list(c, rq.path, &answer)
         : rq.content_type ? licd_client_vendor_upload(c, rq.method, rq.path, rq.content_type,
                                                       rq.body, rq.body_len, &answer)
                           : licd_client_vendor_call(c, rq.method, rq.path, rq.body, &answer);
    if (lc != LICD_CLIENT_OK)
        rc = exit_for(c, lc);
    else if ((answer && !print_answer(a.cmd, answer, a.v[O_JSON] != NULL)) || fflush(stdout) != 0)
        complain("cannot print licd's answer");
    else
        rc = EXIT_VALID;
    if (rc == EXIT_VALID && a.cmd->note_200 && !a.v[O_JSON] && licd_client_http_status(c) == 200)
        complain("note: %s", a.cmd->note_200);
out:
    if (rq.body && rq.secret)
        explicit_bzero(rq.body, strlen(rq.body));
    free(rq.body);
    free(rq.path);
    free(answer);
    licd_client_free(c);
    return rc;
}

/* ---- licctl report-usage ---- */

void usage_report_usage(FILE *out)
{
    fputs("usage: licctl report-usage --url URL --license-file FILE [--gzip] [--json]\n"
          "                           METRIC=VALUE... | --stdin\n\n"
          "Reports usage under a licence or activation key (Authorization: License).\n"
          "Records are METRIC=VALUE arguments, taken now, or with --stdin JSON lines\n"
          "{\"metric\",\"value\",\"at\"?} (at in RFC 3339), sent as they are. licd stores\n"
          "the good records and counts the others as rejected; it names the metrics\n"
          "above the licence's limits.\n\n"
          "  --url URL            licd's address (default: $LICD_URL)\n"
          "  --license-file FILE  the licence: its JWT, or the JSON get-key printed\n"
          "                       (its \"license\" member)\n"
          "  --gzip               send a gzip archive of JSON lines (up to 64 MiB\n"
          "                       inflated) instead of one JSON document (up to 1 MiB)\n"
          "  --stdin              read the records from standard input\n"
          "  --json               print licd's answer as it is:\n"
          "                       {\"license_id\",\"accepted\",\"rejected\",\"over_limit\"}\n\n"
          "Exit status: 0 reported (rejected records and limits passed included), 20\n"
          "refused by licd (unauthorized: a licence it did not sign, expired or unknown),\n"
          "1 any other error.\n",
          out);
}

/* All of f (a file or stdin) into *out, NUL-terminated; at most max bytes
 * (0: no limit). */
static int slurp(FILE *f, size_t max, char **out, size_t *len)
{
    char *buf = NULL, *grown;
    size_t n = 0, cap = 0, got;

    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            if (!(grown = realloc(buf, cap))) {
                free(buf);
                return 0;
            }
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0 && (!max || n <= max));
    if (ferror(f) || (max && n > max)) {
        free(buf);
        return 0;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 1;
}

/* The licence in path: a compact JWT alone, or a JSON object with "license". */
char *read_license(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL, *jwt = NULL, *start;
    size_t len = 0;
    cJSON *o;

    if (!f || !slurp(f, MAX_LICENSE_FILE, &text, &len)) {
        complain("cannot read the licence from %s: %s", path, f ? "too long or unreadable" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    start = text + strspn(text, " \t\r\n");
    if (*start == '{') {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o = cJSON_Parse(start), "license");
        jwt = cJSON_IsString(l) ? strdup(l->valuestring) : NULL;
        cJSON_Delete(o);
    } else {
        start[strcspn(start, " \t\r\n")] = '\0';
        jwt = *start ? strdup(start) : NULL;
    }
    if (!jwt)
        complain("%s holds no licence (a JWT, or JSON with a \"license\" member)", path);
    free(text);
    return jwt;
}

/* METRIC=VALUE into rec (metric points into arg, cut at the '='). */
static int parse_record(char *arg, licd_usage_record *rec)
{
    char *eq = strrchr(arg, '='), *end;

    if (!eq || eq == arg || !eq[1])
        return 0;
    errno = 0;
    rec->value = strtod(eq + 1, &end);
    if (*end || errno != 0 || !isfinite(rec->value))
        return 0;
    *eq = '\0';
    rec->metric = arg;
    rec->at = 0;
    return 1;
}

static void print_result(const licd_usage_result *r, int json)
{
    if (json) {
        puts(r->json);
        return;
    }
    printf("license:   %s\naccepted:  %lld\nrejected:  %lld\n", r->license_id ? r->license_id : "-",
           (long long)r->accepted, (long long)r->rejected);
    for (size_t i = 0; i < r->nover; i++)
        printf("over limit: %s %.17g (limit %.17g)\n", r->over_limit[i].metric, r->over_limit[i].value,
               r->over_limit[i].limit);
}

int cmd_report_usage(int argc, char **argv)
{
    const char *v[O_COUNT] = {0}, *file;
    int from_stdin, rc, lc;
    licd_usage_format format;
    licd_usage_record *records = NULL;
    licd_usage_result result = {0};
    licd_client *c = NULL;
    char *license = NULL, *lines = NULL;
    size_t n = 0, len = 0;

    if ((rc = parse_options(BIT(O_URL) | BIT(O_LICENSE_FILE) | BIT(O_GZIP) | BIT(O_STDIN) | BIT(O_JSON),
                            argc, argv, v, "report-usage")) != EXIT_VALID) {
        if (rc < 0)
            usage_report_usage(stdout);
        return rc < 0 ? EXIT_VALID : rc;
    }
    rc = EXIT_ERROR;
    file = v[O_LICENSE_FILE];
    from_stdin = v[O_STDIN] != NULL;
    format = v[O_GZIP] ? LICD_USAGE_GZIP : LICD_USAGE_JSON;
    if (!file || !*file || from_stdin == (optind < argc)) {
        complain("report-usage: %s (see licctl report-usage --help)",
                 !file || !*file ? "--license-file is required"
                                 : from_stdin ? "records come from --stdin or the arguments, not both"
                                              : "no records: give METRIC=VALUE or --stdin");
        return EXIT_ERROR;
    }
    if (!from_stdin && !(records = calloc((size_t)(argc - optind), sizeof *records))) {
        complain("out of memory");
        return EXIT_ERROR;
    }
    for (; !from_stdin && optind < argc; optind++, n++)
        if (!parse_record(argv[optind], &records[n])) {
            complain("report-usage: a record is METRIC=VALUE with a finite number, not '%s'", argv[optind]);
            goto out;
        }
    if (from_stdin && !slurp(stdin, 0, &lines, &len)) {
        complain("cannot read the records from standard input");
        goto out;
    }
    if (!(license = read_license(file)) || (rc = connect_to(v[O_URL], 0, NULL, &c)) != EXIT_VALID) {
        rc = EXIT_ERROR;
        goto out;
    }
    lc = from_stdin ? licd_client_report_usage_lines(c, license, lines, len, format, &result)
                    : licd_client_report_usage(c, license, records, n, format, &result);
    if (lc != LICD_CLIENT_OK) {
        rc = exit_for(c, lc);
        goto out;
    }
    print_result(&result, v[O_JSON] != NULL);
    rc = fflush(stdout) == 0 ? EXIT_VALID : EXIT_ERROR;
out:
    licd_usage_result_clear(&result);
    licd_client_free(c);
    free(records);
    free(license);
    free(lines);
    return rc;
}
