/* The fault test (issue "Proven under faults and hostile input"): 32 clients
 * take permanent seats (get_key on a per_device pack), lease floating seats
 * and heartbeat them, release some, while licd is killed with SIGKILL and
 * PostgreSQL crashed (pg_ctl -m immediate) at seeded random moments, twice
 * each; first with one licd, then with two licd nodes on one database, one of
 * them killed while the other serves. Every answer is recorded; afterwards
 * the database must hold every licence and lease acknowledged to a client
 * (same id, same client, the latest expiry told), assigned must equal the
 * rows and never exceed quantity (sampled during the run too), no client
 * may hold two permanent licences, and outside the outage windows (kill to
 * the first ready /readyz after the restart, plus a grace) licd answers only
 * 2xx, 4xx or 503, never another 5xx nor a dropped connection.
 *
 * Environment (tests/run sets all but the last three): LICD_BIN,
 * LICD_DATABASE_URL, LICD_SIGNING_KEY, LICD_TEST_PG_STOP, LICD_TEST_PG_START
 * (scripts taking pg_ctl's stop mode), LICD_FAULTS_SEED (random when unset;
 * printed), LICD_FAULTS_SECONDS (length of each of the two runs, 40),
 * LICD_FAULTS_DIR (logs and the recorded answers; a new folder in /tmp).
 * Ends with "N passed, N failed"; exits non-zero when a check fails. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

enum {
    CLIENTS = 32,
    MAX_NODES = 2,
    DEVICE_SEATS = 40, /* per_device pack: fewer than the devices asking */
    FLOAT_SEATS = 14,  /* concurrent pack: fewer than the clients leasing */
    LEASE_TTL = 8,
    MAX_WINDOWS = 16,
};
static int DUAL = 4; /* two nodes: one heartbeat in DUAL goes through both */
static const double GRACE = 1.0; /* seconds after the first ready /readyz */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

__attribute__((format(printf, 1, 2))) static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "faults: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    printf("0 passed, 1 failed\n");
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        die("out of memory");
    return p;
}

/* A growable array of fixed-size items. */
struct vec {
    void *items;
    size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        void *p = realloc(v->items, cap * v->size);
        if (!p)
            die("out of memory");
        v->items = p;
        v->cap = cap;
    }
    memset((char *)v->items + v->n * v->size, 0, v->size);
    return (char *)v->items + v->n++ * v->size;
}
#define VEC_AT(v, type, i) (&((type *)(v).items)[i])

/* ---- licd nodes and PostgreSQL ---------------------------------------- */

struct node {
    int port;
    pid_t pid;
    char url[64], log[512];
};

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("no free port: %s", strerror(errno));
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* The status of GET url/path, 0 when nothing answered. */
static long probe(const char *url, const char *path)
{
    char full[128];
    long status = 0;
    CURL *h = curl_easy_init();
    snprintf(full, sizeof full, "%s%s", url, path);
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    return status;
}

/* Waits until node answers /readyz with 200; 0 once it does, -1 after 90 s. */
static int wait_ready(const struct node *n)
{
    for (double until = now() + 90; now() < until; sleep_s(0.05))
        if (probe(n->url, "/readyz") == 200)
            return 0;
    return -1;
}

static void start_node(struct node *n)
{
    extern char **environ;
    char listen[48], *argv[] = {"licd", "serve", NULL}, *envp[300];
    char *mine[] = {listen, "LICD_THREADS=4", "LICD_ACCESS_LOG=0", "LICD_RATE_LIMIT=0",
                    "LICD_LEASE_TTL=" /* filled below */, NULL};
    char ttl[32];
    posix_spawn_file_actions_t fa;
    size_t k = 0;

    snprintf(listen, sizeof listen, "LICD_LISTEN=127.0.0.1:%d", n->port);
    snprintf(ttl, sizeof ttl, "LICD_LEASE_TTL=%d", LEASE_TTL);
    mine[4] = ttl;
    for (char **e = mine; *e; e++)
        envp[k++] = *e;
    for (char **e = environ; *e && k < 299; e++)
        envp[k++] = *e; /* getenv takes the first of duplicates: ours */
    envp[k] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, n->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&n->pid, getenv("LICD_BIN"), &fa, NULL, argv, envp) != 0)
        die("cannot start %s", getenv("LICD_BIN"));
    posix_spawn_file_actions_destroy(&fa);
}

/* Runs a shell command; its exit status. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int st;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- requests ----------------------------------------------------------- */

enum kind { K_GET_KEY, K_DELETE_LICENSE, K_CHECKOUT, K_HEARTBEAT, K_RELEASE, K_KINDS };
static const char *const kind_name[K_KINDS] = {"get_key", "delete_license", "checkout",
                                               "heartbeat", "release"};

/* One answer as recorded: status 0 is a dropped connection or no answer. */
struct rec {
    double t0, t1;
    int node, kind;
    long status;
    int curl_rc;
};

struct call {
    int node, kind;
    const char *method;
    char path[160], body[256];
    long status;
    int curl_rc;
    double t0, t1;
    char *out;
    size_t len;
    cJSON *json;
    CURL *h;
    struct curl_slist *headers;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    char *out = realloc(c->out, c->len + size * n + 1);
    if (!out)
        return 0;
    memcpy(out + c->len, p, size * n);
    c->len += size * n;
    out[c->len] = '\0';
    c->out = out;
    return size * n;
}

/* ---- what the clients were told ----------------------------------------- */

struct licence_ack {
    char id[40], client[32];
    int temporary, delete_sent, delete_acked;
};

struct lease_ack {
    char id[40], client[32];
    long long until; /* the latest expires_at answered, seconds */
    int release_sent, release_acked;
};

struct client {
    int index;
    unsigned seed;
    struct phase *ph;
    CURL *easy[MAX_NODES];
    CURLM *multi;
    int node; /* where it sends now */
    /* permanent seats: its current device and the licence it was told */
    int device;
    char perm[40];
    int perm_delete_sent;
    /* its floating seat */
    char lease[40];
    double lease_pause_until;
    struct vec recs, licences, leases;
    int doubles; /* a second permanent licence for one device */
    char double_detail[160];
};

struct window {
    double start, end;
    int node; /* -1: every node (PostgreSQL was down) */
    const char *what;
};

struct phase {
    int nodes;
    struct node node[MAX_NODES];
    char vendor[128], customer_id[40], customer_key[128];
    atomic_int stop;
    double started;
    struct window win[MAX_WINDOWS];
    atomic_int nwin;
    /* sampled by the sampler thread */
    atomic_int samples, oversold_samples, mismatch_samples;
    char sample_detail[256];
    struct client client[CLIENTS];
};

static struct licence_ack *licence_of(struct client *c, const char *id)
{
    for (size_t i = c->licences.n; i-- > 0;) {
        struct licence_ack *a = VEC_AT(c->licences, struct licence_ack, i);
        if (strcmp(a->id, id) == 0)
            return a;
    }
    return NULL;
}

static struct lease_ack *lease_of(struct client *c, const char *id)
{
    for (size_t i = c->leases.n; i-- > 0;) {
        struct lease_ack *a = VEC_AT(c->leases, struct lease_ack, i);
        if (strcmp(a->id, id) == 0)
            return a;
    }
    return NULL;
}

static const char *jstr(const struct call *k, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(k->json, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Parses an RFC 3339 UTC time (as licd writes it) to epoch seconds. */
static long long parse_time(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (long long)timegm(&tm);
}

/* Sends the n calls at once (one connection each) and records them. */
static void perform(struct client *c, struct call *k, int n)
{
    int running = 0;
    for (int i = 0; i < n; i++) {
        struct node *nd = &c->ph->node[k[i].node];
        char url[256], auth[200];
        k[i].h = c->easy[k[i].node];
        curl_easy_reset(k[i].h);
        snprintf(url, sizeof url, "%s%s", nd->url, k[i].path);
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->ph->customer_key);
        k[i].headers = curl_slist_append(NULL, auth);
        k[i].headers = curl_slist_append(k[i].headers, "Content-Type: application/json");
        curl_easy_setopt(k[i].h, CURLOPT_URL, url);
        curl_easy_setopt(k[i].h, CURLOPT_CUSTOMREQUEST, k[i].method);
        curl_easy_setopt(k[i].h, CURLOPT_HTTPHEADER, k[i].headers);
        if (*k[i].body)
            curl_easy_setopt(k[i].h, CURLOPT_POSTFIELDS, k[i].body);
        curl_easy_setopt(k[i].h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(k[i].h, CURLOPT_WRITEDATA, &k[i]);
        curl_easy_setopt(k[i].h, CURLOPT_PRIVATE, &k[i]);
        curl_easy_setopt(k[i].h, CURLOPT_TIMEOUT_MS, 15000L);
        curl_easy_setopt(k[i].h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
        curl_easy_setopt(k[i].h, CURLOPT_NOSIGNAL, 1L);
        k[i].t0 = now();
        curl_multi_add_handle(c->multi, k[i].h);
    }
    do {
        CURLMsg *m;
        int left;
        curl_multi_perform(c->multi, &running);
        while ((m = curl_multi_info_read(c->multi, &left))) {
            struct call *done = NULL;
            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&done);
            done->t1 = now();
            done->curl_rc = m->data.result;
            if (m->data.result == CURLE_OK)
                curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &done->status);
        }
        if (running)
            curl_multi_poll(c->multi, NULL, 0, 200, NULL);
    } while (running);
    for (int i = 0; i < n; i++) {
        struct rec *r = vec_push(&c->recs);
        curl_multi_remove_handle(c->multi, k[i].h);
        curl_slist_free_all(k[i].headers);
        k[i].headers = NULL;
        if (k[i].out)
            k[i].json = cJSON_Parse(k[i].out);
        *r = (struct rec){k[i].t0, k[i].t1, k[i].node, k[i].kind, k[i].status, k[i].curl_rc};
    }
}

static void call_free(struct call *k)
{
    free(k->out);
    cJSON_Delete(k->json);
    memset(k, 0, sizeof *k);
}

static void device_name(const struct client *c, char *out, size_t size)
{
    snprintf(out, size, "dev-%02d-%d", c->index, c->device);
}

static void lease_client(const struct client *c, char *out, size_t size)
{
    snprintf(out, size, "ws-%02d", c->index);
}

/* A dropped call sends the client to the other node, as licctl would. */
static void after(struct client *c, const struct call *k)
{
    if (k->status == 0 && c->ph->nodes > 1)
        c->node = (k->node + 1) % c->ph->nodes;
    else if (k->status != 0 && rand_r(&c->seed) % 20 == 0)
        c->node = c->index % c->ph->nodes; /* back home now and then */
}

static void get_key(struct client *c)
{
    struct call k = {.node = c->node, .kind = K_GET_KEY, .method = "POST"};
    char dev[32];
    device_name(c, dev, sizeof dev);
    snprintf(k.path, sizeof k.path, "/v1/get_key");
    snprintf(k.body, sizeof k.body, "{\"product\":\"cad\",\"client_id\":\"%s\"}", dev);
    perform(c, &k, 1);
    if ((k.status == 200 || k.status == 201) && jstr(&k, "license_id")) {
        const char *id = jstr(&k, "license_id");
        const cJSON *tmp = cJSON_GetObjectItemCaseSensitive(k.json, "temporary");
        int temporary = cJSON_IsTrue(tmp);
        struct licence_ack *a = licence_of(c, id);
        if (!a) {
            a = vec_push(&c->licences);
            snprintf(a->id, sizeof a->id, "%s", id);
            snprintf(a->client, sizeof a->client, "%s", dev);
            a->temporary = temporary;
        }
        if (!temporary) {
            if (*c->perm && strcmp(c->perm, id) != 0 && !c->perm_delete_sent) {
                c->doubles++;
                snprintf(c->double_detail, sizeof c->double_detail, "%s: %s then %s", dev,
                         c->perm, id);
            }
            if (strcmp(c->perm, id) != 0) {
                snprintf(c->perm, sizeof c->perm, "%s", id);
                c->perm_delete_sent = 0;
            }
        }
    }
    after(c, &k);
    call_free(&k);
}

static void delete_license(struct client *c)
{
    struct call k = {.node = c->node, .kind = K_DELETE_LICENSE, .method = "DELETE"};
    struct licence_ack *a = licence_of(c, c->perm);
    snprintf(k.path, sizeof k.path, "/v1/licenses/%s", c->perm);
    if (a)
        a->delete_sent = 1;
    c->perm_delete_sent = 1;
    perform(c, &k, 1);
    if (k.status == 204 && (a = licence_of(c, c->perm)))
        a->delete_acked = 1;
    after(c, &k);
    call_free(&k);
}

/* A 200 or 201 carrying a lease: noted with its expiry. */
static void lease_answer(struct client *c, const struct call *k)
{
    const char *id = jstr(k, "lease_id");
    long long until = parse_time(jstr(k, "expires_at"));
    struct lease_ack *a;
    char who[32];
    if (!id)
        return;
    lease_client(c, who, sizeof who);
    if (!(a = lease_of(c, id))) {
        a = vec_push(&c->leases);
        snprintf(a->id, sizeof a->id, "%s", id);
        snprintf(a->client, sizeof a->client, "%s", who);
    }
    if (until > a->until)
        a->until = until;
    snprintf(c->lease, sizeof c->lease, "%s", id);
}

static void checkout(struct client *c)
{
    struct call k = {.node = c->node, .kind = K_CHECKOUT, .method = "POST"};
    char who[32];
    lease_client(c, who, sizeof who);
    snprintf(k.path, sizeof k.path, "/v1/leases");
    snprintf(k.body, sizeof k.body, "{\"product\":\"flt\",\"client_id\":\"%s\"}", who);
    perform(c, &k, 1);
    if (k.status == 200 || k.status == 201)
        lease_answer(c, &k);
    else if (k.status == 403) /* no seat free: asks again a little later */
        c->lease_pause_until = now() + 0.2 + (rand_r(&c->seed) % 800) / 1000.0;
    after(c, &k);
    call_free(&k);
}

/* One heartbeat, or with dual the same one through both nodes at once (a
 * client retrying on the other node while the first is still in flight). */
static void heartbeat(struct client *c, int dual)
{
    struct call k[2] = {{.node = c->node, .kind = K_HEARTBEAT, .method = "POST"},
                        {.node = (c->node + 1) % MAX_NODES, .kind = K_HEARTBEAT, .method = "POST"}};
    char who[32];
    int n = dual ? 2 : 1, gone = 0, renewed = 0;
    lease_client(c, who, sizeof who);
    for (int i = 0; i < n; i++) {
        snprintf(k[i].path, sizeof k[i].path, "/v1/leases/%s/heartbeat", c->lease);
        snprintf(k[i].body, sizeof k[i].body, "{\"product\":\"flt\",\"client_id\":\"%s\"}", who);
    }
    if (dual) {
        /* just before a second begins: the two writes' times straddle it
         * often, so a write that moved the expiry back would show in the
         * whole seconds licd answers */
        double t = now(), at = floor(t) + 1 - (1 + rand_r(&c->seed) % 40) / 1000.0;
        if (at > t)
            sleep_s(at - t);
    }
    perform(c, k, n);
    for (int i = 0; i < n; i++) {
        if (k[i].status == 200 || k[i].status == 201) {
            lease_answer(c, &k[i]);
            renewed = 1;
        } else if (k[i].status >= 400 && k[i].status < 500) {
            gone = 1;
        }
    }
    if (gone && !renewed)
        c->lease[0] = '\0';
    after(c, &k[0]);
    for (int i = 0; i < n; i++)
        call_free(&k[i]);
}

static void release(struct client *c)
{
    struct call k = {.node = c->node, .kind = K_RELEASE, .method = "DELETE"};
    struct lease_ack *a = lease_of(c, c->lease);
    snprintf(k.path, sizeof k.path, "/v1/leases/%s", c->lease);
    if (a)
        a->release_sent = 1;
    perform(c, &k, 1);
    if (k.status == 204 && a)
        a->release_acked = 1;
    if (k.status != 0)
        c->lease[0] = '\0';
    after(c, &k);
    call_free(&k);
}

static void *client_run(void *arg)
{
    struct client *c = arg;
    for (int i = 0; i < MAX_NODES; i++)
        c->easy[i] = curl_easy_init();
    c->multi = curl_multi_init();
    c->node = c->index % c->ph->nodes;
    while (!atomic_load(&c->ph->stop)) {
        int r = (int)(rand_r(&c->seed) % 100);
        if (r < 18) {
            get_key(c);
        } else if (r < 21 && *c->perm && !c->perm_delete_sent) {
            delete_license(c);
        } else if (r < 23) {
            c->device++; /* a new machine; the old one keeps its seat */
            c->perm[0] = '\0';
            get_key(c);
        } else if (now() < c->lease_pause_until) {
            ; /* waits for a seat, or let its lease lapse */
        } else if (!*c->lease) {
            checkout(c);
        } else if (r < 26) {
            release(c);
        } else if (r < 28) {
            /* stops heartbeating: the lease lapses and frees its seat */
            c->lease[0] = '\0';
            c->lease_pause_until = now() + LEASE_TTL + 1;
        } else {
            heartbeat(c, c->ph->nodes > 1 && rand_r(&c->seed) % DUAL == 0);
        }
        /* a dropped call: licd is down, try again a little later */
        if (c->recs.n && VEC_AT(c->recs, struct rec, c->recs.n - 1)->status == 0)
            sleep_s(0.1);
        sleep_s(0.02 + (rand_r(&c->seed) % 60) / 1000.0);
    }
    for (int i = 0; i < MAX_NODES; i++)
        curl_easy_cleanup(c->easy[i]);
    curl_multi_cleanup(c->multi);
    return NULL;
}

/* ---- the database ------------------------------------------------------- */

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *db_connect(void)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *values[] = {getenv("LICD_DATABASE_URL"), "3", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    /* "terminating connection due to immediate shutdown": expected here */
    PQsetNoticeProcessor(conn, quiet, NULL);
    return conn;
}

/* Runs sql with the customer id as $1; NULL (and the connection reset on
 * the next call) when it fails. */
static PGresult *db_query(PGconn **conn, const char *sql, const char *customer_id)
{
    PGresult *res;
    const char *params[] = {customer_id};
    if (!*conn || PQstatus(*conn) != CONNECTION_OK) {
        PQfinish(*conn);
        *conn = db_connect();
        if (PQstatus(*conn) != CONNECTION_OK)
            return NULL;
    }
    res = PQexecParams(*conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Each pack of the customer: type, quantity, assigned and its seats as rows
 * (active permanent licences, or live leases), read in one snapshot. */
static const char *const PACK_COUNTS =
    "SELECT k.pack_id, k.quantity, k.assigned,"
    " CASE k.type WHEN 'concurrent' THEN"
    "  (SELECT count(*) FROM leases l WHERE l.pack_id = k.id AND l.released_at IS NULL)"
    " ELSE (SELECT count(*) FROM assignments a WHERE a.pack_id = k.id AND NOT a.temporary"
    "  AND a.status = 'active') END"
    " FROM packs k WHERE k.customer_id = $1 ORDER BY k.pack_id";

/* Checks one reading of the packs; the number of packs read, -1 if none. */
static int check_counts(PGresult *res, int *oversold, int *mismatch, char *detail, size_t size)
{
    for (int i = 0; i < PQntuples(res); i++) {
        long quantity = atol(PQgetvalue(res, i, 1)), assigned = atol(PQgetvalue(res, i, 2)),
             rows = atol(PQgetvalue(res, i, 3));
        if (assigned > quantity || rows > quantity) {
            (*oversold)++;
            snprintf(detail, size, "pack %s: quantity %ld, assigned %ld, rows %ld",
                     PQgetvalue(res, i, 0), quantity, assigned, rows);
        }
        if (assigned != rows) {
            (*mismatch)++;
            snprintf(detail, size, "pack %s: assigned %ld but %ld rows", PQgetvalue(res, i, 0),
                     assigned, rows);
        }
    }
    return PQntuples(res);
}

static void *sampler_run(void *arg)
{
    struct phase *ph = arg;
    PGconn *conn = NULL;
    while (!atomic_load(&ph->stop)) {
        PGresult *res = db_query(&conn, PACK_COUNTS, ph->customer_id);
        if (res) {
            int over = 0, mis = 0;
            check_counts(res, &over, &mis, ph->sample_detail, sizeof ph->sample_detail);
            atomic_fetch_add(&ph->samples, 1);
            atomic_fetch_add(&ph->oversold_samples, over);
            atomic_fetch_add(&ph->mismatch_samples, mis);
            PQclear(res);
        }
        sleep_s(0.25);
    }
    PQfinish(conn);
    return NULL;
}

/* ---- setting up a customer over HTTP ------------------------------------ */

static long setup_call(const struct node *n, const char *method, const char *path,
                       const char *bearer, const char *body, cJSON **json)
{
    char url[256], auth[200], *out = NULL;
    struct call k = {0};
    struct curl_slist *hs = NULL;
    long status = 0;
    CURL *h = curl_easy_init();
    snprintf(url, sizeof url, "%s%s", n->url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
    hs = curl_slist_append(hs, auth);
    hs = curl_slist_append(hs, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    out = k.out;
    if (json)
        *json = out ? cJSON_Parse(out) : NULL;
    if (status / 100 != 2)
        die("%s %s: %ld %s", method, path, status, out ? out : "");
    free(out);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    return status;
}

static void copy_member(const cJSON *j, const char *name, char *out, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    if (!cJSON_IsString(v))
        die("no %s in an answer", name);
    snprintf(out, size, "%s", v->valuestring);
}

static void setup(struct phase *ph, const char *name)
{
    char cmd[1024], line[1024] = "", body[512];
    FILE *p;
    cJSON *j;
    snprintf(cmd, sizeof cmd, "'%s' vendor create --name '%s'", getenv("LICD_BIN"), name);
    if (!(p = popen(cmd, "r")) || !fgets(line, sizeof line, p) || pclose(p) != 0)
        die("licd vendor create failed: %s", line);
    if (!(j = cJSON_Parse(line)))
        die("licd vendor create: %s", line);
    copy_member(j, "api_key", ph->vendor, sizeof ph->vendor);
    cJSON_Delete(j);
    snprintf(body, sizeof body, "{\"name\":\"%s customer\"}", name);
    setup_call(&ph->node[0], "POST", "/v1/customers", ph->vendor, body, &j);
    copy_member(j, "customer_id", ph->customer_id, sizeof ph->customer_id);
    copy_member(j, "customer_key", ph->customer_key, sizeof ph->customer_key);
    cJSON_Delete(j);
    setup_call(&ph->node[0], "POST", "/v1/products", ph->vendor,
               "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\"}", NULL);
    setup_call(&ph->node[0], "POST", "/v1/products", ph->vendor,
               "{\"code\":\"flt\",\"name\":\"Floating\",\"version\":\"1\"}", NULL);
    snprintf(body, sizeof body,
             "{\"pack_id\":\"devices\",\"customer_id\":\"%s\",\"product\":\"cad\","
             "\"version\":\"7\",\"type\":\"per_device\",\"quantity\":%d}",
             ph->customer_id, DEVICE_SEATS);
    setup_call(&ph->node[0], "POST", "/v1/packs", ph->vendor, body, NULL);
    snprintf(body, sizeof body,
             "{\"pack_id\":\"floating\",\"customer_id\":\"%s\",\"product\":\"flt\","
             "\"version\":\"1\",\"type\":\"concurrent\",\"quantity\":%d}",
             ph->customer_id, FLOAT_SEATS);
    setup_call(&ph->node[0], "POST", "/v1/packs", ph->vendor, body, NULL);
}

/* ---- checks ------------------------------------------------------------- */

static int passed, failed;

__attribute__((format(printf, 2, 3))) static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "ok" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (ok)
        passed++;
    else
        failed++;
}

static int in_window(const struct phase *ph, const struct rec *r)
{
    for (int i = 0; i < atomic_load(&ph->nwin); i++) {
        const struct window *w = &ph->win[i];
        if ((w->node < 0 || w->node == r->node) && r->t1 >= w->start && r->t0 <= w->end)
            return 1;
    }
    return 0;
}

/* Whether licd was killed on another node while r was in flight. */
static int killed_then(const struct phase *ph, const struct rec *r)
{
    for (int i = 0; i < atomic_load(&ph->nwin); i++) {
        const struct window *w = &ph->win[i];
        if (w->node >= 0 && w->node != r->node && r->t1 >= w->start && r->t0 <= w->end)
            return 1;
    }
    return 0;
}

struct db_lease {
    char id[40], client[32];
    double created, expires, released; /* released < 0: live */
    int release_sent;
    long long acked;
};

static int by_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

struct event {
    double at;
    int delta;
};

static int by_time(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->delta - y->delta; /* an end before a start at the same time */
}

/* The most floating seats in use at any moment, by the leases' lives in the
 * database, each lasting at least until the latest expiry its client was
 * told unless a release was sent for it. */
static int peak_floating(struct db_lease *l, int n)
{
    struct event *ev = xcalloc(2 * (size_t)n + 1, sizeof *ev);
    int k = 0, cur = 0, peak = 0;
    for (int i = 0; i < n; i++) {
        double end = l[i].released >= 0 ? l[i].released : l[i].expires;
        if (!l[i].release_sent && (double)l[i].acked > end)
            end = (double)l[i].acked;
        /* a release's time is its statement's start: a checkout waiting on
         * the pack row may have started a moment earlier */
        if (l[i].release_sent && l[i].released >= 0)
            end -= 0.25;
        ev[k++] = (struct event){l[i].created, +1};
        ev[k++] = (struct event){end, -1};
    }
    qsort(ev, (size_t)k, sizeof *ev, by_time);
    for (int i = 0; i < k; i++) {
        cur += ev[i].delta;
        if (cur > peak)
            peak = cur;
    }
    free(ev);
    return peak;
}

struct figures {
    long requests, acknowledged, lost, oversold, fivexx_outside, dropped, dropped_outside,
        other_outside, within_outage, doubles, mismatch, survivor;
    long by_kind[K_KINDS], acked_by_kind[K_KINDS];
};

static void verify(struct phase *ph, const char *label, FILE *answers)
{
    struct figures f = {0};
    PGconn *conn = db_connect();
    PGresult *res;
    char detail[512] = "";
    struct db_lease *dl;
    int ndl, over = 0, mis = 0;

    if (PQstatus(conn) != CONNECTION_OK)
        die("cannot connect to the database: %s", PQerrorMessage(conn));

    /* every answer */
    for (int i = 0; i < CLIENTS; i++) {
        struct client *c = &ph->client[i];
        for (size_t j = 0; j < c->recs.n; j++) {
            const struct rec *r = VEC_AT(c->recs, struct rec, j);
            int inside = in_window(ph, r);
            f.requests++;
            f.by_kind[r->kind]++;
            if (r->status / 100 == 2) {
                f.acknowledged++;
                f.acked_by_kind[r->kind]++;
            }
            if (r->status == 0)
                f.dropped++;
            f.within_outage += inside;
            f.survivor += !inside && ph->nodes > 1 && r->status != 0 && killed_then(ph, r);
            if (!inside) {
                if (r->status == 0)
                    f.dropped_outside++;
                else if (r->status >= 500 && r->status != 503)
                    f.fivexx_outside++;
                else if (r->status / 100 != 2 && r->status / 100 != 4 && r->status != 503)
                    f.other_outside++;
                if (r->status == 0 || (r->status >= 500 && r->status != 503))
                    snprintf(detail, sizeof detail, "%s to node %d at %.3f-%.3f: %ld (curl %d)",
                             kind_name[r->kind], r->node, r->t0, r->t1, r->status, r->curl_rc);
            }
            if (answers)
                fprintf(answers, "%s\t%.6f\t%.6f\t%d\t%s\t%ld\t%d\t%d\n", label, r->t0, r->t1,
                        r->node, kind_name[r->kind], r->status, r->curl_rc, inside);
        }
        f.doubles += c->doubles;
        if (c->doubles)
            printf("  two permanent licences for one device: %s\n", c->double_detail);
    }

    /* licences: every acknowledged one is there, for the same client, and
     * still active unless its deletion was sent; a deletion acknowledged
     * has retired it */
    res = PQexecParams(conn,
                       "SELECT license_id, client_id, status, temporary FROM assignments"
                       " WHERE customer_id = $1 ORDER BY license_id COLLATE \"C\"",
                       1, NULL, (const char *[]){ph->customer_id}, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("reading licences: %s", PQerrorMessage(conn));
    {
        int n = PQntuples(res);
        char(*ids)[40] = xcalloc((size_t)n + 1, sizeof *ids);
        for (int i = 0; i < n; i++)
            snprintf(ids[i], sizeof ids[i], "%s", PQgetvalue(res, i, 0));
        for (int i = 0; i < CLIENTS; i++) {
            struct client *c = &ph->client[i];
            for (size_t j = 0; j < c->licences.n; j++) {
                const struct licence_ack *a = VEC_AT(c->licences, struct licence_ack, j);
                char(*hit)[40] = bsearch(a->id, ids, (size_t)n, sizeof *ids, by_id);
                int row = hit ? (int)(hit - ids) : -1;
                const char *why = NULL;
                if (row < 0)
                    why = "missing";
                else if (strcmp(PQgetvalue(res, row, 1), a->client) != 0)
                    why = "another client's";
                else if (!a->temporary && !a->delete_sent &&
                         strcmp(PQgetvalue(res, row, 2), "active") != 0)
                    why = "no longer active, never deleted";
                else if (a->delete_acked && strcmp(PQgetvalue(res, row, 2), "deactivated") != 0)
                    why = "deleted but still active";
                if (why) {
                    f.lost++;
                    snprintf(detail, sizeof detail, "licence %s of %s: %s", a->id, a->client, why);
                    printf("  lost: %s\n", detail);
                }
            }
        }
        free(ids);
    }
    PQclear(res);

    /* no client holds two permanent licences */
    res = PQexecParams(conn,
                       "SELECT count(*) FROM (SELECT client_id FROM assignments"
                       " WHERE customer_id = $1 AND NOT temporary AND status = 'active'"
                       " GROUP BY product_id, client_id HAVING count(*) > 1) d",
                       1, NULL, (const char *[]){ph->customer_id}, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("reading licences: %s", PQerrorMessage(conn));
    f.doubles += atol(PQgetvalue(res, 0, 0));
    PQclear(res);

    /* leases: every acknowledged one is there, for the same client, with at
     * least the latest expiry told (unless a release was sent), released if
     * its release was acknowledged */
    res = PQexecParams(conn,
                       "SELECT id, client_id, extract(epoch FROM created_at),"
                       " extract(epoch FROM expires_at), coalesce(extract(epoch FROM released_at), -1)"
                       " FROM leases WHERE customer_id = $1 ORDER BY id::text COLLATE \"C\"",
                       1, NULL, (const char *[]){ph->customer_id}, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("reading leases: %s", PQerrorMessage(conn));
    ndl = PQntuples(res);
    dl = xcalloc((size_t)ndl + 1, sizeof *dl);
    for (int i = 0; i < ndl; i++) {
        snprintf(dl[i].id, sizeof dl[i].id, "%s", PQgetvalue(res, i, 0));
        snprintf(dl[i].client, sizeof dl[i].client, "%s", PQgetvalue(res, i, 1));
        dl[i].created = atof(PQgetvalue(res, i, 2));
        dl[i].expires = atof(PQgetvalue(res, i, 3));
        dl[i].released = atof(PQgetvalue(res, i, 4));
    }
    PQclear(res);
    for (int i = 0; i < CLIENTS; i++) {
        struct client *c = &ph->client[i];
        for (size_t j = 0; j < c->leases.n; j++) {
            const struct lease_ack *a = VEC_AT(c->leases, struct lease_ack, j);
            struct db_lease *d = bsearch(a->id, dl, (size_t)ndl, sizeof *dl, by_id);
            char why[160] = "";
            if (!d)
                snprintf(why, sizeof why, "missing");
            else if (strcmp(d->client, a->client) != 0)
                snprintf(why, sizeof why, "another client's");
            else if (!a->release_sent && d->expires < (double)a->until)
                snprintf(why, sizeof why, "expires at %.3f, %lld was told", d->expires, a->until);
            else if (!a->release_sent && d->released >= 0 && d->released < (double)a->until)
                snprintf(why, sizeof why, "released at %.3f, told it lasts until %lld",
                         d->released, a->until);
            else if (a->release_acked && d->released < 0)
                snprintf(why, sizeof why, "release acknowledged, still live");
            if (d) {
                d->release_sent |= a->release_sent;
                if (a->until > d->acked)
                    d->acked = a->until;
            }
            if (*why) {
                f.lost++;
                snprintf(detail, sizeof detail, "lease %s of %s: %s", a->id, a->client, why);
                printf("  lost: %s\n", detail);
            }
        }
    }

    /* seats: assigned equals the rows and never exceeds quantity, now and
     * at every sample; floating seats never overlap beyond quantity */
    res = db_query(&conn, PACK_COUNTS, ph->customer_id);
    if (!res)
        die("reading packs: %s", PQerrorMessage(conn));
    char counts[256] = "";
    if (check_counts(res, &over, &mis, counts, sizeof counts) != 2)
        die("expected two packs");
    PQclear(res);
    {
        int peak = peak_floating(dl, ndl);
        if (peak > FLOAT_SEATS) {
            over++;
            snprintf(counts, sizeof counts, "%d floating seats in use at once of %d", peak,
                     FLOAT_SEATS);
        }
        printf("%s: floating seats in use at most %d of %d (%d leases)\n", label, peak,
               FLOAT_SEATS, ndl);
    }
    f.oversold = over + atomic_load(&ph->oversold_samples);
    f.mismatch = mis + atomic_load(&ph->mismatch_samples);
    if (*counts)
        printf("  %s\n", counts);
    if (f.oversold || f.mismatch)
        printf("  sampled: %s\n", ph->sample_detail);
    free(dl);
    PQfinish(conn);

    printf("%s: requests %ld, acknowledged %ld, lost %ld, oversold %ld, 5xx outside outages %ld,"
           " dropped %ld (outside outages %ld), answered within outages %ld\n",
           label, f.requests, f.acknowledged, f.lost, f.oversold, f.fivexx_outside, f.dropped,
           f.dropped_outside, f.within_outage);
    printf("%s: by kind (acknowledged/sent):", label);
    for (int k = 0; k < K_KINDS; k++)
        printf(" %s %ld/%ld", kind_name[k], f.acked_by_kind[k], f.by_kind[k]);
    printf("; %d samples of the packs\n", atomic_load(&ph->samples));
    if (ph->nodes > 1)
        printf("%s: node 1 answered %ld requests while node 2 was down\n", label, f.survivor);
    if (*detail && (f.fivexx_outside || f.dropped_outside || f.lost))
        printf("  e.g. %s\n", detail);

    check(f.lost == 0, "%s: every acknowledged licence and lease is in the database (lost %ld)",
          label, f.lost);
    check(f.oversold == 0, "%s: no seat oversold (%ld)", label, f.oversold);
    check(f.mismatch == 0, "%s: assigned equals the rows at every sample and at the end (%ld off)",
          label, f.mismatch);
    check(f.doubles == 0, "%s: no client holds two permanent licences (%ld)", label, f.doubles);
    check(f.fivexx_outside == 0 && f.other_outside == 0,
          "%s: only 2xx, 4xx or 503 outside the outages (%ld other 5xx, %ld other)", label,
          f.fivexx_outside, f.other_outside);
    check(f.dropped_outside == 0, "%s: no dropped connection outside the outages (%ld)", label,
          f.dropped_outside);
    check(f.acked_by_kind[K_GET_KEY] > 0 && f.acked_by_kind[K_HEARTBEAT] > 0 &&
              f.acked_by_kind[K_CHECKOUT] > 0 && f.acked_by_kind[K_RELEASE] > 0 &&
              f.acked_by_kind[K_DELETE_LICENSE] > 0 && (ph->nodes == 1 || f.survivor > 0),
          "%s: every kind of request was acknowledged at least once%s", label,
          ph->nodes > 1 ? ", node 1 served while node 2 was down" : "");
}

/* ---- the faults --------------------------------------------------------- */

enum fault { F_KILL_LICD, F_CRASH_PG };

static unsigned fault_seed;

static double frand(double lo, double hi)
{
    return lo + (hi - lo) * (rand_r(&fault_seed) / (double)RAND_MAX);
}

static int add_window(struct phase *ph, double start, int node, const char *what)
{
    int i = atomic_load(&ph->nwin);
    if (i >= MAX_WINDOWS)
        die("too many outage windows");
    ph->win[i] = (struct window){start, 1e18, node, what};
    atomic_store(&ph->nwin, i + 1);
    return i;
}

/* One fault: its outage window ends GRACE after every node answers /readyz
 * with 200 again. 0 when the service came back. */
static int inject(struct phase *ph, enum fault f, int victim, const char *label)
{
    double t0 = now(), down = frand(0.2, 1.5);
    int w, st = 0, ready = 0;
    if (f == F_KILL_LICD) {
        w = add_window(ph, t0, victim, "licd killed");
        kill(ph->node[victim].pid, SIGKILL);
        waitpid(ph->node[victim].pid, NULL, 0);
        sleep_s(down);
        start_node(&ph->node[victim]);
    } else {
        w = add_window(ph, t0, -1, "PostgreSQL crashed");
        st = sh("'%s' immediate", getenv("LICD_TEST_PG_STOP"));
        sleep_s(down);
        st |= sh("'%s'", getenv("LICD_TEST_PG_START"));
    }
    for (int i = 0; i < ph->nodes; i++)
        ready |= wait_ready(&ph->node[i]);
    ph->win[w].end = now() + GRACE;
    printf("%s: %s%s at +%.1f s, down %.1f s, ready again after %.1f s\n", label,
           ph->win[w].what, f == F_KILL_LICD ? (victim ? " (node 2)" : " (node 1)") : "",
           t0 - ph->started, down, ph->win[w].end - GRACE - t0);
    fflush(stdout);
    return st == 0 && ready == 0 ? 0 : -1;
}

static void run_phase(int nodes, const char *label, const char *dir, double seconds,
                      unsigned seed, FILE *answers)
{
    struct phase *ph = xcalloc(1, sizeof *ph);
    pthread_t clients[CLIENTS], sampler;
    enum fault plan[4] = {F_KILL_LICD, F_KILL_LICD, F_CRASH_PG, F_CRASH_PG};
    int fault_failures = 0, clean = 1;
    double start, slot;

    fault_seed = seed;
    ph->nodes = nodes;
    for (int i = 0; i < nodes; i++) {
        struct node *n = &ph->node[i];
        n->port = free_port();
        snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", n->port);
        snprintf(n->log, sizeof n->log, "%s/licd-%dnode%s-%d.log", dir, nodes, nodes > 1 ? "s" : "", i + 1);
        start_node(n);
    }
    for (int i = 0; i < nodes; i++)
        if (wait_ready(&ph->node[i]) != 0)
            die("licd on %s never became ready (see %s)", ph->node[i].url, ph->node[i].log);
    setup(ph, label);

    /* the order of the four faults, shuffled */
    for (int i = 3; i > 0; i--) {
        int j = (int)(rand_r(&fault_seed) % (unsigned)(i + 1));
        enum fault t = plan[i];
        plan[i] = plan[j];
        plan[j] = t;
    }
    for (int i = 0; i < CLIENTS; i++) {
        ph->client[i] = (struct client){.index = i, .seed = seed * 977u + (unsigned)i, .ph = ph};
        ph->client[i].recs.size = sizeof(struct rec);
        ph->client[i].licences.size = sizeof(struct licence_ack);
        ph->client[i].leases.size = sizeof(struct lease_ack);
        pthread_create(&clients[i], NULL, client_run, &ph->client[i]);
    }
    pthread_create(&sampler, NULL, sampler_run, ph);
    start = ph->started = now();
    /* the run in five slots: a fault at a random moment of each of the
     * first four's first half-and-more, the last slot quiet */
    slot = seconds / 5;
    for (int i = 0; i < 4; i++) {
        double at = start + slot * i + frand(0.15, 0.6) * slot;
        if (now() < at)
            sleep_s(at - now());
        /* two nodes: the second is the one killed, the first keeps serving */
        if (inject(ph, plan[i], nodes - 1, label) != 0)
            fault_failures++;
    }
    if (now() < start + seconds)
        sleep_s(start + seconds - now());
    atomic_store(&ph->stop, 1);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(clients[i], NULL);
    pthread_join(sampler, NULL);

    check(fault_failures == 0, "%s: licd killed twice, PostgreSQL crashed twice, each time ready again",
          label);
    verify(ph, label, answers);

    /* the last processes stop cleanly, with no sanitizer report in their logs */
    for (int i = 0; i < nodes; i++) {
        int st = 0;
        kill(ph->node[i].pid, SIGTERM);
        waitpid(ph->node[i].pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
            sh("grep -a -q -E 'AddressSanitizer|LeakSanitizer|runtime error' '%s'",
               ph->node[i].log) == 0) {
            clean = 0;
            printf("  node %d: exit status %d; see %s\n", i + 1, st, ph->node[i].log);
        }
    }
    check(clean, "%s: licd stopped cleanly with no sanitizer report", label);
    for (int i = 0; i < CLIENTS; i++) {
        free(ph->client[i].recs.items);
        free(ph->client[i].licences.items);
        free(ph->client[i].leases.items);
    }
    free(ph);
}

int main(void)
{
    const char *need[] = {"LICD_BIN", "LICD_DATABASE_URL", "LICD_SIGNING_KEY", "LICD_TEST_PG_STOP",
                          "LICD_TEST_PG_START"};
    char dir[512], path[600];
    unsigned seed;
    double seconds = atof(env_or("LICD_FAULTS_SECONDS", "40"));
    FILE *answers;

    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!getenv(need[i]))
            die("%s is not set (tests/run sets it)", need[i]);
    if (getenv("LICD_FAULTS_SEED") && *getenv("LICD_FAULTS_SEED"))
        seed = (unsigned)strtoul(getenv("LICD_FAULTS_SEED"), NULL, 10);
    else
        seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    DUAL = atoi(env_or("LICD_FAULTS_DUAL", "4"));
    if (DUAL < 1)
        DUAL = 1;
    if (seconds < 10)
        seconds = 10;
    if (getenv("LICD_FAULTS_DIR")) {
        snprintf(dir, sizeof dir, "%s", getenv("LICD_FAULTS_DIR"));
        mkdir(dir, 0755);
    } else {
        snprintf(dir, sizeof dir, "/tmp/licd-faults.XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp: %s", strerror(errno));
    }
    snprintf(path, sizeof path, "%s/answers.tsv", dir);
    if (!(answers = fopen(path, "w")))
        die("cannot write %s", path);
    fprintf(answers, "run\tsent\tanswered\tnode\tkind\tstatus\tcurl\twithin_outage\n");
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("LICD_FAULTS_SEED=%u LICD_FAULTS_SECONDS=%.0f (%d clients; logs and answers in %s)\n",
           seed, seconds, CLIENTS, dir);
    fflush(stdout);

    run_phase(1, "one node", dir, seconds, seed, answers);
    run_phase(2, "two nodes", dir, seconds, seed + 1, answers);

    fclose(answers);
    curl_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
