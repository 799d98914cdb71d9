/* licd: the command line — serve, migrate, keygen, vendor create, routes, sign. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "crypto/apikey.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "http/server.h"
#include "site/site.h"
#include "store/caches.h"
#include "store/db.h"
#include "store/documents.h"
#include "store/grants.h"
#include "store/heartbeats.h"
#include "store/leases.h"
#include "store/maintenance.h"
#include "store/migrate.h"
#include "store/notify.h"
#include "store/tokens.h"
#include "store/vendors.h"
#include "util/config.h"
#include "util/json.h"
#include "util/log.h"
#include "webhooks/delivery.h"

#define GRACE_MS 10000

static const char usage[] =
    "usage: licd <command> [options]\n"
    "  serve                          serve the API (configured by LICD_* variables)\n"
    "  migrate [--dir DIR]            apply pending database migrations\n"
    "  keygen --out FILE              write a new P-256 signing key (mode 0600)\n"
    "  vendor create --name NAME      create a vendor; prints {\"vendor_id\",\"api_key\"}\n"
    "  sign                           sign the JSON claims read from stdin with LICD_SIGNING_KEY\n"
    "  routes                         list the routes served and who may call each\n"
    "  import FILE                    site server: install the vendor's signed allocation\n"
    "  jwks                           print the public keys of LICD_SIGNING_KEY (a JWKS)\n"
    "  export-usage --out FILE        site server: write the next signed usage report\n"
    "  version                        print the version\n";

/* Value of --name in argv, or NULL. */
static const char *flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static int fail(const char *msg, const char *detail)
{
    fprintf(stderr, "licd: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* Points the store at LICD_DATABASE_URL (url); 0, or 1 after a message. */
static int need_database(const char *url)
{
    if (!url || !*url)
        return fail("LICD_DATABASE_URL is not set", NULL);
    return store_init(url) == LICD_OK ? 0 : fail("out of memory", NULL);
}

static const char *migrations_dir(int argc, char **argv)
{
    struct stat st;
    const char *dir = flag(argc, argv, "--dir");
    if (dir)
        return dir;
    if ((dir = getenv("LICD_MIGRATIONS")) && *dir)
        return dir;
    if (stat(LICD_SOURCE_MIGRATIONS_DIR, &st) == 0 && S_ISDIR(st.st_mode))
        return LICD_SOURCE_MIGRATIONS_DIR;
    return LICD_MIGRATIONS_DIR;
}

static int cmd_migrate(int argc, char **argv)
{
    char err[1024];
    int rc;
    if (need_database(getenv("LICD_DATABASE_URL")))
        return 1;
    rc = store_migrate(migrations_dir(argc, argv), stdout, err, sizeof err);
    store_shutdown();
    return rc == LICD_OK ? 0 : fail("migrate", err);
}

static int cmd_keygen(int argc, char **argv)
{
    const char *out = flag(argc, argv, "--out");
    if (!out)
        return fail("keygen needs --out FILE", NULL);
    if (crypto_keygen(out) != LICD_OK)
        return fail("cannot write a new key (does the file exist already?)", out);
    printf("wrote %s\n", out);
    return 0;
}

static int cmd_vendor(int argc, char **argv)
{
    const char *name = flag(argc, argv, "--name");
    char key[APIKEY_PLAIN_LEN];
    store_vendor v;
    cJSON *line;
    char *text;
    int rc;

    if (argc < 3 || strcmp(argv[2], "create") != 0 || !name)
        return fail("usage: licd vendor create --name NAME", NULL);
    if (strlen(name) < 1 || strlen(name) > 200 || !json_utf8_valid(name, strlen(name)))
        return fail("the name must be 1 to 200 bytes of UTF-8", NULL);
    if (need_database(getenv("LICD_DATABASE_URL")))
        return 1;
    rc = store_vendor_create(name, &v, key, sizeof key);
    store_shutdown();
    if (rc != LICD_OK)
        return fail("cannot create the vendor", licd_err_name(rc));
    line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "vendor_id", v.id);
    cJSON_AddStringToObject(line, "name", v.name);
    cJSON_AddStringToObject(line, "api_key", key);
    text = cJSON_PrintUnformatted(line);
    puts(text ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(line);
    memset(key, 0, sizeof key);
    return 0;
}

static int load_config_and_keys(licd_config *cfg, crypto_keyring **ring)
{
    char err[1024];
    if (config_from_env(cfg, err, sizeof err) != LICD_OK)
        return fail("bad configuration", err);
    if (!cfg->signing_key || !*cfg->signing_key)
        return fail("LICD_SIGNING_KEY is not set (make one with: licd keygen --out FILE)", NULL);
    if (site_check_config(cfg))
        return 1;
    if (crypto_keyring_load(cfg->signing_key, cfg->retired_keys, ring, err, sizeof err) != LICD_OK)
        return fail("cannot load the signing keys", err);
    return 0;
}

static int cmd_sign(void)
{
    licd_config cfg;
    crypto_keyring *ring = NULL;
    char buf[16384], *token = NULL, detail[LICD_DETAIL_MAX];
    size_t len = fread(buf, 1, sizeof buf - 1, stdin);
    cJSON *claims = NULL;
    int rc = 1;

    if (load_config_and_keys(&cfg, &ring))
        goto out;
    buf[len] = '\0';
    if (json_parse_object(buf, len, &claims, detail) != LICD_OK) {
        fail("the claims on stdin must be a JSON object", detail);
        goto out;
    }
    if (crypto_jwt_sign(ring, claims, &token) != LICD_OK) {
        fail("signing failed", NULL);
        goto out;
    }
    puts(token);
    rc = 0;
out:
    free(token);
    cJSON_Delete(claims);
    crypto_keyring_free(ring);
    return rc;
}

/* The console's folder when LICD_CONSOLE_DIR is unset: the one this build
 * assembled (clients/console/build), else the installed one. */
static const char *default_console_dir(void)
{
    struct stat st;
    if (stat(LICD_CONSOLE_BUILT_DIR "/index.html", &st) == 0 && S_ISREG(st.st_mode))
        return LICD_CONSOLE_BUILT_DIR;
    return LICD_CONSOLE_INSTALLED_DIR;
}

/* The group-commit threads (store/batcher.c), and what each batches. */
static const struct {
    int (*start)(void);
    void (*stop)(void);
    const char *what;
} batchers[] = {
    {store_grants_start, store_grants_stop, "grant"},
    {store_checkouts_start, store_checkouts_stop, "checkout"},
    {store_heartbeats_start, store_heartbeats_stop, "heartbeat"},
    {store_tokens_start, store_tokens_stop, "renewal"},
};
#define NBATCHERS (sizeof batchers / sizeof *batchers)

/* Before the server, so that its first requests are batched too; one that
 * cannot start leaves each of its requests to commit alone. */
static void start_batches(void)
{
    char msg[128];
    for (size_t i = 0; i < NBATCHERS; i++)
        if (batchers[i].start() != LICD_OK) {
            snprintf(msg, sizeof msg, "cannot start the %s thread; each %s commits alone",
                     batchers[i].what, batchers[i].what);
            log_line("warn", msg, NULL);
        }
}

static void stop_batches(void)
{
    for (size_t i = 0; i < NBATCHERS; i++)
        batchers[i].stop();
}

static int cmd_serve(void)
{
    licd_config cfg;
    crypto_keyring *ring = NULL;
    http_server *srv = NULL;
    http_server_config hc;
    store_maintenance *maintenance = NULL;
    webhook_delivery *webhooks = NULL;
    webhook_delivery_config wc;
    char err[1024], msg[256];
    sigset_t stop;
    int sig, rc = 1;

    if (load_config_and_keys(&cfg, &ring))
        goto out;
    if (need_database(cfg.database_url))
        goto out;
    if (!cfg.console_dir)
        cfg.console_dir = default_console_dir();
    /* Before any thread: libcurl's global state (the webhook deliveries). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fail("cannot initialise libcurl", NULL);
        goto out;
    }
    if (api_init(&cfg, ring) != LICD_OK || store_caches_init() != LICD_OK) {
        fail("out of memory", NULL);
        goto out;
    }
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* The caches work only while changes can be heard of; the signed
     * licences saved in the background. Both on connections of their own. */
    if (store_notify_start(cfg.database_url) != LICD_OK ||
        store_documents_start() != LICD_OK) {
        fail("cannot start the cache listener or the document saver", NULL);
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    hc = (http_server_config){.host = cfg.listen_host,
                              .port = cfg.listen_port,
                              .threads = cfg.threads,
                              .offload_threads = cfg.offload_threads,
                              .body_limit = cfg.body_limit,
                              .conn_timeout = cfg.conn_timeout,
                              .per_ip_limit = cfg.per_ip_limit,
                              .tls_cert = cfg.tls_cert,
                              .tls_key = cfg.tls_key,
                              .access_log = cfg.access_log,
                              .routes = api_routes,
                              .nroutes = api_nroutes,
                              .authorize = api_authorize,
                              .prepare = api_idempotency_prepare};
    start_batches();
    if (http_server_start(&hc, &srv, err, sizeof err) != LICD_OK) {
        fail("cannot start the server", err);
        goto out;
    }
    if (store_ready() != LICD_OK)
        log_line("warn", "the database is not reachable yet; requests that need it answer 503",
                 NULL);
    /* Started after the signal mask, so the stop signals reach only sigwait. */
    if (store_maintenance_start(cfg.maintenance_interval, cfg.upw_retention, cfg.event_retention,
                                &maintenance) != LICD_OK)
        log_line("warn", "cannot start the maintenance thread; old update passwords stay", NULL);
    wc = (webhook_delivery_config){.threads = (int)cfg.webhook_threads,
                                   .backoff_max = cfg.webhook_backoff_max,
                                   .dead_after = cfg.webhook_dead_after,
                                   .timeout = cfg.webhook_timeout,
                                   .allow_private = (int)cfg.webhook_allow_private};
    if (webhook_delivery_start(&wc, &webhooks) != LICD_OK)
        log_line("warn", "cannot start the webhook delivery threads; events wait in the outbox",
                 NULL);
    snprintf(msg, sizeof msg, "licd serving on %s://%s:%d with %d threads, kid %s",
             cfg.tls_cert ? "https" : "http", cfg.listen_host, http_server_port(srv), cfg.threads,
             crypto_keyring_kid(ring));
    log_line("info", msg, NULL);
    if (*cfg.console_dir) {
        struct stat st;
        if (stat(cfg.console_dir, &st) == 0 && S_ISDIR(st.st_mode))
            log_line("info", "console at /console/, files from", cfg.console_dir);
        else
            log_line("warn", "no console folder (/console/ answers 404)", cfg.console_dir);
    }
    sigwait(&stop, &sig);
    log_line("info", "stopping: finishing requests in flight", NULL);
    /* What is queued is written and answered; later requests commit one
     * at a time, and the server stops with no connection waiting for a
     * batch. */
    stop_batches();
    http_server_stop(srv, GRACE_MS);
    webhook_delivery_stop(webhooks);
    store_maintenance_stop(maintenance);
    log_flush(); /* the access log's lines still buffered */
    log_line("info", "stopped", NULL);
    rc = 0;
out:
    stop_batches(); /* when the server did not start (a second call does nothing) */
    store_documents_stop();
    store_notify_stop();
    store_caches_free();
    store_shutdown();
    api_shutdown();
    crypto_keyring_free(ring);
    curl_global_cleanup();
    return rc;
}

/* One line per route: method, path template and who may call it. */
static int cmd_routes(void)
{
    for (size_t i = 0; i < api_nroutes; i++)
        printf("%s %s %s\n", api_routes[i].method, api_routes[i].path,
               api_auth_name(api_routes[i].auth));
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve();
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(argc, argv);
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc, argv);
    if (strcmp(cmd, "vendor") == 0)
        return cmd_vendor(argc, argv);
    if (strcmp(cmd, "sign") == 0)
        return cmd_sign();
    if (strcmp(cmd, "routes") == 0)
        return cmd_routes();
    if (strcmp(cmd, "import") == 0)
        return site_cmd_import(argc, argv);
    if (strcmp(cmd, "jwks") == 0)
        return site_cmd_jwks();
    if (strcmp(cmd, "export-usage") == 0)
        return site_cmd_export_usage(argc, argv);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        puts("licd 0.1.0");
        return 0;
    }
    fputs(usage, strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ? stdout : stderr);
    return strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ? 0 : 2;
}
