/* licctl lease: holds a floating seat with heartbeats until SIGINT or
 * SIGTERM, moving across the pool's nodes when one stops answering, then
 * gives the seat back. One line per event on stdout. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "licctl_cmds.h"
#include "licctl_keys.h"
#include "licd_client.h"

#define MAX_SERVERS 64
/* Seconds to connect, and for a whole request: short, so that a node that
 * hangs is left well within a lease's life. */
#define CONNECT_TIMEOUT 2
#define REQUEST_TIMEOUT 5

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

void usage_lease(FILE *out)
{
    fputs("usage: licctl lease --url URL --customer-key KEY --product P --client ID\n"
          "                    [--servers URL,URL...] [--json]\n"
          "       licctl lease --borrow DURATION [--cache-dir DIR] --url URL --customer-key KEY\n"
          "                    --product P --client ID [--json]\n"
          "       licctl lease --borrowed [--cache-dir DIR] --product P --client ID [--json]\n"
          "       licctl lease --return [--cache-dir DIR] --url URL --customer-key KEY\n"
          "                    --product P --client ID\n\n"
          "Checks a floating seat of the product out for client ID and holds it with\n"
          "heartbeats every heartbeat_interval_s (licd says how often) until SIGINT or\n"
          "SIGTERM, then releases it. When a node gives no answer (refused, timed out)\n"
          "or a 5xx, the next node of the failover list is tried (after the one in\n"
          "use, wrapping): the --servers given, then any other node licd's answers\n"
          "listed in \"servers\"; a heartbeat there that the node does not know (the\n"
          "lease lapsed meanwhile) becomes a new checkout with a new lease id.\n"
          "One line per event: checkout, heartbeat, failover, release.\n\n"
          "--borrow takes the seat away for DURATION (seconds, or a number with s, m,\n"
          "h or d) without heartbeats, when the pack allows borrowing that long: its\n"
          "licence and licd's JWKS go to the cache, and licctl exits. --borrowed then\n"
          "checks that licence offline, with no connection to licd (exit 0 while the\n"
          "borrow lasts, 20 once it has ended or when none is cached); --return gives\n"
          "the seat back early and forgets the licence.\n\n"
          "  --url URL            licd's address (default: $LICD_URL)\n"
          "  --customer-key KEY   the customer's key (default: $LICD_CUSTOMER_KEY)\n"
          "  --product P          the product's code\n"
          "  --client ID          this client's id\n"
          "  --servers URL,...    the nodes to fail over to, kept when licd lists its own\n"
          "  --borrow DURATION    borrow the seat for DURATION (e.g. 3600, 90m, 8h, 7d)\n"
          "  --borrowed           check the borrowed licence in the cache, offline\n"
          "  --return             return the borrowed seat early\n"
          "  --cache-dir DIR      where borrowed licences are kept (default:\n"
          "                       $XDG_CACHE_HOME/licd or ~/.cache/licd)\n"
          "  --json               one JSON object per event: {\"event\",\"lease_id\",\n"
          "                       \"server\",...}; checkout adds \"pack_id\",\"expires_at\",\n"
          "                       \"heartbeat_interval_s\",\"servers\" and, for a heartbeat\n"
          "                       that became a checkout, \"replaces\"; heartbeat adds\n"
          "                       \"expires_at\"; failover has \"from\",\"to\",\"reason\"\n\n"
          "Borrowing prints {\"event\":\"borrow\"|\"borrowed\"|\"return\",\"lease_id\",\n"
          "\"pack_id\",\"expires_at\",\"license\"} (--json) or its fields as lines.\n\n"
          "Exit status: 0 the seat was released after SIGINT/SIGTERM (--borrow: borrowed,\n"
          "--borrowed: the borrow lasts, --return: returned), 20 no seat\n"
          "(no_seats_available or no_concurrent_pack at checkout, or the seat lost at a\n"
          "heartbeat; borrow_not_allowed; --borrowed: none cached or it has ended),\n"
          "1 any other error (no node reachable at checkout, a failed release, arguments).\n",
          out);
}

/* One event as a JSON object: its fields by kind. */
static cJSON *event_object(const licd_lease_event *ev)
{
    const licd_lease *l = ev->lease;
    cJSON *o = cJSON_CreateObject(), *servers = NULL;
    char expires[64];
    /* A failover before the first checkout has no lease yet. */
    int ok = o && cJSON_AddStringToObject(o, "event", licd_lease_event_name(ev->kind)) &&
             (!l->lease_id || cJSON_AddStringToObject(o, "lease_id", l->lease_id));

    format_time(l->expires_at, expires, sizeof expires);
    switch (ev->kind) {
    case LICD_LEASE_CHECKOUT:
        ok = ok && cJSON_AddStringToObject(o, "pack_id", l->pack_id ? l->pack_id : "") &&
             cJSON_AddStringToObject(o, "expires_at", expires) &&
             cJSON_AddNumberToObject(o, "heartbeat_interval_s", (double)l->heartbeat_interval_s) &&
             cJSON_AddStringToObject(o, "server", ev->server) &&
             (servers = cJSON_AddArrayToObject(o, "servers")) &&
             (!ev->replaces || cJSON_AddStringToObject(o, "replaces", ev->replaces));
        for (size_t i = 0; ok && i < l->nservers; i++)
            ok = cJSON_AddItemToArray(servers, cJSON_CreateString(l->servers[i]));
        break;
    case LICD_LEASE_HEARTBEAT:
        ok = ok && cJSON_AddStringToObject(o, "expires_at", expires) &&
             cJSON_AddStringToObject(o, "server", ev->server);
        break;
    case LICD_LEASE_FAILOVER:
        ok = ok && cJSON_AddStringToObject(o, "from", ev->from) && cJSON_AddStringToObject(o, "to", ev->server) &&
             cJSON_AddStringToObject(o, "reason", ev->reason);
        break;
    case LICD_LEASE_RELEASE:
        ok = ok && cJSON_AddStringToObject(o, "server", ev->server);
        break;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Human lines are "event name=value ...", from the same object. */
static void on_event(void *arg, const licd_lease_event *ev)
{
    const int *json = arg;
    cJSON *o = event_object(ev);
    const cJSON *m;
    char *text;

    if (!o) {
        complain("out of memory");
        return;
    }
    if (*json) {
        keys_print(o, 1);
    } else {
        fputs(licd_lease_event_name(ev->kind), stdout);
        cJSON_ArrayForEach(m, o) {
            if (strcmp(m->string, "event") == 0)
                continue;
            text = cJSON_IsString(m) ? NULL : cJSON_PrintUnformatted(m);
            printf(" %s=%s", m->string, text ? text : m->valuestring);
            cJSON_free(text);
        }
        putchar('\n');
        fflush(stdout);
    }
    cJSON_Delete(o);
}

/* "a,b,c" into list (pointers into value, which is cut at the commas). */
static int split_servers(char *value, const char **list, size_t *n)
{
    char *save = NULL;

    for (char *p = strtok_r(value, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_SERVERS)
            return 0;
        list[(*n)++] = p;
    }
    return *n > 0;
}

/* "3600", "90m", "8h", "7d" as seconds; 0 when it is not a duration. */
static long parse_duration(const char *s)
{
    char *end;
    long n, unit = 1;
    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || end == s || n < 1 || *s == '+' || *s == '-')
        return 0;
    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return 0;
    }
    if (*end && end[1])
        return 0;
    return n > 31622400L / unit ? 0 : n * unit;
}

/* Prints a borrow event: {"event","lease_id","pack_id","expires_at","license"}. */
static int print_borrow(const char *event, const licd_license *l, int json)
{
    cJSON *o = cJSON_CreateObject();
    char expires[64];
    int ok;
    format_time(l->expires_at, expires, sizeof expires);
    ok = o && cJSON_AddStringToObject(o, "event", event) &&
         cJSON_AddStringToObject(o, "lease_id", l->license_id) &&
         cJSON_AddStringToObject(o, "pack_id", l->pack_id ? l->pack_id : "") &&
         cJSON_AddStringToObject(o, "expires_at", expires) &&
         cJSON_AddStringToObject(o, "license", l->jwt) && keys_print(o, json);
    cJSON_Delete(o);
    return ok;
}

/* licctl lease --borrow, --borrowed or --return. */
static int borrowing(const char *const *v)
{
    static const char *const refusals[] = {"no_seats_available", "no_concurrent_pack",
                                           "borrow_not_allowed", NULL};
    licd_client *c = NULL;
    licd_license l = {0};
    char *cache_dir = NULL;
    long seconds = 0;
    int json = v[K_JSON] != NULL, rc = EXIT_ERROR, lc;

    if (!!v[K_BORROW] + !!v[K_BORROWED] + !!v[K_RETURN] != 1) {
        complain("lease: give one of --borrow, --borrowed and --return");
        return EXIT_ERROR;
    }
    if (v[K_BORROW] && !(seconds = parse_duration(v[K_BORROW]))) {
        complain("lease: --borrow takes a duration: seconds, or a number with s, m, h or d "
                 "(at most 366 days)");
        return EXIT_ERROR;
    }
    if (v[K_CACHE] ? !(cache_dir = strdup(v[K_CACHE])) : licd_cache_default_dir(&cache_dir) != 0) {
        complain("lease: no cache folder (give --cache-dir)");
        return EXIT_ERROR;
    }
    if (v[K_BORROWED]) {
        /* No URL, no key: nothing is asked of licd. */
        if ((lc = licd_client_new(NULL, NULL, &c)) != LICD_CLIENT_OK) {
            complain("lease: %s", licd_client_strerror(lc));
            goto out;
        }
        lc = licd_client_borrowed(c, v[K_PRODUCT], v[K_CLIENT], cache_dir, time(NULL), &l);
        if (lc == LICD_CLIENT_OK)
            rc = print_borrow("borrowed", &l, json) ? EXIT_VALID : EXIT_ERROR;
        else {
            complain("lease: %s", licd_client_error(c));
            rc = lc == LICD_CLIENT_ERR_NOT_CACHED || lc == LICD_CLIENT_ERR_EXPIRED ? EXIT_NO_ACCESS
                                                                                   : EXIT_ERROR;
        }
        goto out;
    }
    if (connect_client(v[K_URL], v[K_KEY], &c) != EXIT_VALID)
        goto out;
    if (v[K_BORROW]) {
        lc = licd_client_borrow_cached(c, v[K_PRODUCT], v[K_CLIENT], seconds, cache_dir, &l);
        if (lc != LICD_CLIENT_OK)
            rc = keys_fail(c, lc, refusals);
        else
            rc = print_borrow("borrow", &l, json) ? EXIT_VALID : EXIT_ERROR;
        goto out;
    }
    lc = licd_client_borrow_return(c, v[K_PRODUCT], v[K_CLIENT], cache_dir);
    if (lc == LICD_CLIENT_OK) {
        cJSON *o = cJSON_CreateObject();
        rc = o && cJSON_AddStringToObject(o, "event", "return") && keys_print(o, json) ? EXIT_VALID
                                                                                       : EXIT_ERROR;
        cJSON_Delete(o);
    } else {
        rc = lc == LICD_CLIENT_ERR_NOT_CACHED
                 ? (complain("lease: %s", licd_client_error(c)), EXIT_NO_ACCESS)
                 : keys_fail(c, lc, NULL);
    }
out:
    licd_license_clear(&l);
    licd_client_free(c);
    free(cache_dir);
    return rc;
}

int cmd_lease(int argc, char **argv)
{
    static const char *const refusals[] = {"no_seats_available", "no_concurrent_pack",
                                           NULL};
    const char *v[K_COUNT], *servers[MAX_SERVERS];
    char *server_text = NULL;
    size_t nservers = 0;
    licd_client *c = NULL;
    licd_lease_holder *h = NULL;
    struct sigaction sa;
    int json, lc;
    int rc = keys_parse("lease", argc, argv,
                        KBIT(K_URL) | KBIT(K_KEY) | KBIT(K_PRODUCT) | KBIT(K_CLIENT) |
                            KBIT(K_SERVERS) | KBIT(K_JSON) | KBIT(K_BORROW) | KBIT(K_BORROWED) |
                            KBIT(K_RETURN) | KBIT(K_CACHE),
                        KBIT(K_PRODUCT) | KBIT(K_CLIENT), v, usage_lease);

    if (rc != 0)
        return rc > 0 ? EXIT_VALID : EXIT_ERROR;
    if (v[K_BORROW] || v[K_BORROWED] || v[K_RETURN])
        return borrowing(v);
    if (v[K_CACHE]) {
        complain("lease: --cache-dir goes with --borrow, --borrowed or --return");
        return EXIT_ERROR;
    }
    rc = EXIT_ERROR;
    json = v[K_JSON] != NULL;
    if (v[K_SERVERS] && (!(server_text = strdup(v[K_SERVERS])) || !split_servers(server_text, servers, &nservers))) {
        complain("lease: --servers takes 1 to %d URLs, comma-separated", MAX_SERVERS);
        goto out;
    }
    if (connect_client(v[K_URL], v[K_KEY], &c) != EXIT_VALID)
        goto out;
    licd_client_set_timeouts(c, CONNECT_TIMEOUT, REQUEST_TIMEOUT);
    if ((lc = licd_lease_holder_new(c, v[K_PRODUCT], v[K_CLIENT], servers, nservers, on_event, &json, &h)) !=
        LICD_CLIENT_OK) {
        complain("lease: %s", lc == LICD_CLIENT_ERR_ARGS ? "every --servers URL must start with http:// or https://"
                                                         : licd_client_strerror(lc));
        goto out;
    }
    /* No SA_RESTART: the signal cuts the holder's sleep short. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((lc = licd_lease_holder_run(h, &stop)) != LICD_CLIENT_OK)
        rc = keys_fail(c, lc, refusals);
    else
        rc = EXIT_VALID;
out:
    licd_lease_holder_free(h);
    licd_client_free(c);
    free(server_text);
    return rc;
}
