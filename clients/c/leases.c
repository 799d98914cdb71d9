/* Floating seats: lease checkout, heartbeat and release over HTTP, and the
 * lease holder that keeps one seat by heartbeats and moves across the
 * pool's nodes when one stops answering. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

/* How often a waiting holder looks at its stop flag. */
#define STOP_POLL_NS 100000000L
#define MAX_SERVERS 64

static const char *const event_names[] = {"checkout", "heartbeat", "failover", "release"};

const char *licd_lease_event_name(licd_lease_event_kind k)
{
    return (unsigned)k < sizeof event_names / sizeof *event_names ? event_names[k] : "unknown";
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void licd_lease_clear(licd_lease *l)
{
    if (!l)
        return;
    free(l->lease_id);
    free(l->pack_id);
    free_list(l->servers, l->nservers);
    memset(l, 0, sizeof *l);
}

/* RFC 3339 UTC as licd writes it ("2026-01-02T03:04:05Z", a fraction allowed). */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

    if (!end)
        return 0;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++)
            ;
    if (strcmp(end, "Z") != 0)
        return 0;
    *out = (int64_t)timegm(&tm);
    return 1;
}

/* Copies n strings (URLs) into *out; 0 when memory runs out. */
static int copy_list(const char *const *in, size_t n, char ***out)
{
    char **list = calloc(n + 1, sizeof *list);

    *out = NULL;
    if (!list)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(list[i] = strdup(in[i]))) {
            free_list(list, i);
            return 0;
        }
    *out = list;
    return 1;
}

static int same_url(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '/')
        la--;
    while (lb && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

/* A lease answer into out. lease_id is required unless prev is given (a
 * 200 heartbeat may carry only expires_at); pack_id, the interval and
 * servers are kept from prev when the answer leaves them out. */
static int parse_lease(licd_client *c, const cJSON *a, const licd_lease *prev, licd_lease *out)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "lease_id");
    const cJSON *pack = cJSON_GetObjectItemCaseSensitive(a, "pack_id");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(a, "heartbeat_interval_s");
    const cJSON *servers = cJSON_GetObjectItemCaseSensitive(a, "servers"), *s;
    const char *urls[MAX_SERVERS];
    licd_lease l = {0};
    size_t n = 0;

    if ((!cJSON_IsString(id) && !prev) ||
        !parse_time(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "expires_at")), &l.expires_at))
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd's lease answer lacks lease_id or expires_at");
    cJSON_ArrayForEach(s, servers)
        if (cJSON_IsString(s) && n < MAX_SERVERS)
            urls[n++] = s->valuestring;
    if (n == 0 && prev)
        for (; n < prev->nservers && n < MAX_SERVERS; n++)
            urls[n] = prev->servers[n];
    l.heartbeat_interval_s = cJSON_IsNumber(every) && every->valuedouble >= 1 && every->valuedouble < 86400
                                 ? (long)every->valuedouble
                                 : prev && prev->heartbeat_interval_s >= 1 ? prev->heartbeat_interval_s : 1;
    l.nservers = n;
    if (!(l.lease_id = strdup(cJSON_IsString(id) ? id->valuestring : prev->lease_id)) ||
        ((cJSON_IsString(pack) || (prev && prev->pack_id)) &&
         !(l.pack_id = strdup(cJSON_IsString(pack) ? pack->valuestring : prev->pack_id))) ||
        !copy_list(urls, n, &l.servers)) {
        l.nservers = 0;
        licd_lease_clear(&l);
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    }
    *out = l;
    return LICD_CLIENT_OK;
}

static int lease_body(licd_client *c, const char *product, const char *client_id, char **text)
{
    cJSON *body = cJSON_CreateObject();

    *text = NULL;
    if (body && cJSON_AddStringToObject(body, "product", product) &&
        cJSON_AddStringToObject(body, "client_id", client_id))
        *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return *text ? LICD_CLIENT_OK : client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
}

/* "/v1/leases/<id><suffix>"; an id is a UUID, so anything else is refused
 * before it can reach a path. */
static int lease_path(licd_client *c, const char *lease_id, const char *suffix, char *path, size_t cap)
{
    if (!lease_id || !*lease_id || strlen(lease_id) > 64 ||
        strspn(lease_id, "0123456789abcdefABCDEF-") != strlen(lease_id))
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a lease id is a UUID");
    snprintf(path, cap, "/v1/leases/%s%s", lease_id, suffix);
    return LICD_CLIENT_OK;
}

/* The POST both calls make; a 2xx answer is parsed into out. */
static int lease_post(licd_client *c, const char *path, const char *product, const char *client_id,
                      const licd_lease *prev, licd_lease *out)
{
    cJSON *answer = NULL;
    char *text = NULL;
    int rc;

    if (!product || !*product || !client_id || !*client_id)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a product and a client id are required");
    if ((rc = lease_body(c, product, client_id, &text)) == LICD_CLIENT_OK &&
        (rc = client_request(c, "POST", path, text, 1, &answer, NULL)) == LICD_CLIENT_OK)
        rc = parse_lease(c, answer, prev, out);
    cJSON_free(text);
    cJSON_Delete(answer);
    return rc;
}

int licd_client_lease_checkout(licd_client *c, const char *product, const char *client_id,
                               licd_lease *out)
{
    if (!c || !out)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    return lease_post(c, "/v1/leases", product, client_id, NULL, out);
}

int licd_client_lease_heartbeat(licd_client *c, const licd_lease *held, const char *product,
                                const char *client_id, licd_lease *out, int *created)
{
    char path[128];
    int rc;

    if (!c || !held || !out || !created)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if ((rc = lease_path(c, held->lease_id, "/heartbeat", path, sizeof path)) != LICD_CLIENT_OK)
        return rc;
    if ((rc = lease_post(c, path, product, client_id, held, out)) != LICD_CLIENT_OK)
        return rc;
    *created = c->http_status == 201;
    /* 201: a new lease, whose id the answer must name. */
    if (*created && strcmp(out->lease_id, held->lease_id) == 0) {
        licd_lease_clear(out);
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd answered 201 without a new lease_id");
    }
    return LICD_CLIENT_OK;
}

int licd_client_lease_release(licd_client *c, const char *lease_id)
{
    char path[128];
    int rc;

    if (!c)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if ((rc = lease_path(c, lease_id, "", path, sizeof path)) != LICD_CLIENT_OK)
        return rc;
    return client_request(c, "DELETE", path, NULL, 1, NULL, NULL);
}

/* ---- The holder ---- */

struct licd_lease_holder {
    licd_client *c; /* borrowed */
    char *product;
    char *client_id;
    char **servers; /* where to fail over to: the caller's, then those licd's answers added */
    size_t nservers;
    licd_lease lease; /* lease_id NULL: none held */
    licd_lease_event_fn fn;
    void *arg;
};

int licd_lease_holder_new(licd_client *c, const char *product, const char *client_id,
                          const char *const *servers, size_t nservers, licd_lease_event_fn fn,
                          void *arg, licd_lease_holder **out)
{
    licd_lease_holder *h;

    if (!out)
        return LICD_CLIENT_ERR_ARGS;
    *out = NULL;
    if (!c || !product || !*product || !client_id || !*client_id || (nservers && !servers) ||
        nservers > MAX_SERVERS)
        return LICD_CLIENT_ERR_ARGS;
    for (size_t i = 0; i < nservers; i++)
        if (!servers[i] || (strncmp(servers[i], "http://", 7) != 0 && strncmp(servers[i], "https://", 8) != 0))
            return LICD_CLIENT_ERR_ARGS;
    if (!(h = calloc(1, sizeof *h)))
        return LICD_CLIENT_ERR_NOMEM;
    h->c = c;
    h->fn = fn;
    h->arg = arg;
    h->nservers = nservers;
    if (!(h->product = strdup(product)) || !(h->client_id = strdup(client_id)) ||
        !copy_list(servers, nservers, &h->servers)) {
        h->nservers = 0;
        licd_lease_holder_free(h);
        return LICD_CLIENT_ERR_NOMEM;
    }
    *out = h;
    return LICD_CLIENT_OK;
}

void licd_lease_holder_free(licd_lease_holder *h)
{
    if (!h)
        return;
    free(h->product);
    free(h->client_id);
    free_list(h->servers, h->nservers);
    licd_lease_clear(&h->lease);
    free(h);
}

const licd_lease *licd_lease_holder_lease(const licd_lease_holder *h)
{
    return h && h->lease.lease_id ? &h->lease : NULL;
}

static void emit(licd_lease_holder *h, licd_lease_event_kind kind, const char *from, const char *reason,
                 const char *replaces)
{
    licd_lease_event ev = {kind, &h->lease, licd_client_url(h->c), from, reason, replaces};
    if (h->fn)
        h->fn(h->arg, &ev);
}

/* Adds the URLs of a node's servers list that the holder's failover list
 * lacks to its end (up to MAX_SERVERS): the list the holder was given stays
 * first and whole, so a node whose own list is partial or stale never
 * hides a node the caller named. 0 when memory runs out. */
static int merge_servers(licd_lease_holder *h, char *const *servers, size_t n)
{
    for (size_t i = 0; i < n && h->nservers < MAX_SERVERS; i++) {
        char **grown;
        size_t j = 0;
        while (j < h->nservers && !same_url(h->servers[j], servers[i]))
            j++;
        if (j < h->nservers)
            continue;
        if (!(grown = realloc(h->servers, (h->nservers + 2) * sizeof *grown)))
            return 0;
        h->servers = grown;
        if (!(h->servers[h->nservers] = strdup(servers[i])))
            return 0;
        h->servers[++h->nservers] = NULL;
    }
    return 1;
}

/* Takes fresh as the lease held, and merges its servers into the list to
 * fail over along. */
static int adopt(licd_lease_holder *h, licd_lease *fresh)
{
    if (!merge_servers(h, fresh->servers, fresh->nservers)) {
        licd_lease_clear(fresh);
        return client_fail(h->c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    }
    licd_lease_clear(&h->lease);
    h->lease = *fresh;
    memset(fresh, 0, sizeof *fresh);
    return LICD_CLIENT_OK;
}

static int op_checkout(licd_lease_holder *h)
{
    licd_lease fresh = {0};
    int rc = licd_client_lease_checkout(h->c, h->product, h->client_id, &fresh);

    if (rc == LICD_CLIENT_OK && (rc = adopt(h, &fresh)) == LICD_CLIENT_OK)
        emit(h, LICD_LEASE_CHECKOUT, NULL, NULL, NULL);
    return rc;
}

static int op_heartbeat(licd_lease_holder *h)
{
    licd_lease fresh = {0};
    char *old = NULL;
    int created = 0, rc;

    if (!h->lease.lease_id)
        return client_fail(h->c, LICD_CLIENT_ERR_ARGS, "no lease is held");
    rc = licd_client_lease_heartbeat(h->c, &h->lease, h->product, h->client_id, &fresh, &created);
    if (rc != LICD_CLIENT_OK)
        return rc;
    if (created && !(old = strdup(h->lease.lease_id))) {
        licd_lease_clear(&fresh);
        return client_fail(h->c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    }
    if ((rc = adopt(h, &fresh)) == LICD_CLIENT_OK)
        emit(h, created ? LICD_LEASE_CHECKOUT : LICD_LEASE_HEARTBEAT, NULL, NULL, old);
    free(old);
    return rc;
}

/* A lease the node does not know (404) is as good as released. */
static int op_release(licd_lease_holder *h)
{
    int rc;

    if (!h->lease.lease_id)
        return LICD_CLIENT_OK;
    rc = licd_client_lease_release(h->c, h->lease.lease_id);
    if (rc == LICD_CLIENT_ERR_HTTP && h->c->http_status == 404) {
        client_clear_error(h->c);
        rc = LICD_CLIENT_OK;
    }
    if (rc == LICD_CLIENT_OK) {
        emit(h, LICD_LEASE_RELEASE, NULL, NULL, NULL);
        licd_lease_clear(&h->lease);
    }
    return rc;
}

/* The node gave no answer, or a 5xx: another node may do better. */
static int node_down(const licd_client *c, int rc)
{
    return rc == LICD_CLIENT_ERR_NETWORK || (rc == LICD_CLIENT_ERR_HTTP && c->http_status >= 500);
}

/* Runs op on the node in use, then, while nodes are down, on each next one
 * of the list (after the one in use, wrapping; from the first when the one
 * in use is not listed), each once. An entry that is not a URL is skipped. */
static int with_failover(licd_lease_holder *h, int (*op)(licd_lease_holder *))
{
    int rc = op(h);
    size_t n = h->nservers, start = n;

    if (!node_down(h->c, rc))
        return rc;
    for (size_t i = 0; i < n && start == n; i++)
        if (same_url(h->servers[i], licd_client_url(h->c)))
            start = i;
    for (size_t k = 1; k <= n && node_down(h->c, rc); k++) {
        const char *next = h->servers[start == n ? k - 1 : (start + k) % n];
        char *from = strdup(licd_client_url(h->c)), *reason = strdup(h->c->error);
        if (!from || !reason)
            rc = client_fail(h->c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        else if (licd_client_set_url(h->c, next) == LICD_CLIENT_OK) {
            emit(h, LICD_LEASE_FAILOVER, from, reason, NULL);
            rc = op(h);
        }
        free(from);
        free(reason);
    }
    return rc;
}

int licd_lease_holder_checkout(licd_lease_holder *h)
{
    return h ? with_failover(h, op_checkout) : LICD_CLIENT_ERR_ARGS;
}

int licd_lease_holder_heartbeat(licd_lease_holder *h)
{
    return h ? with_failover(h, op_heartbeat) : LICD_CLIENT_ERR_ARGS;
}

int licd_lease_holder_release(licd_lease_holder *h)
{
    return h ? with_failover(h, op_release) : LICD_CLIENT_ERR_ARGS;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int licd_lease_holder_run(licd_lease_holder *h, const volatile sig_atomic_t *stop)
{
    int64_t due;
    int rc;

    if (!h || !stop)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = licd_lease_holder_checkout(h)) != LICD_CLIENT_OK)
        return rc;
    due = now_ns() + (int64_t)h->lease.heartbeat_interval_s * 1000000000;
    while (!*stop) {
        int64_t left = due - now_ns();
        if (left > 0) {
            struct timespec ts = {0, left < STOP_POLL_NS ? (long)left : STOP_POLL_NS};
            nanosleep(&ts, NULL); /* EINTR (the caller's signal) just looks at *stop sooner */
            continue;
        }
        rc = licd_lease_holder_heartbeat(h);
        if (rc != LICD_CLIENT_OK && !node_down(h->c, rc)) {
            licd_lease_clear(&h->lease); /* refused: lost, or lapsing by itself */
            return rc;
        }
        due = now_ns() + (int64_t)h->lease.heartbeat_interval_s * 1000000000;
    }
    return licd_lease_holder_release(h);
}
