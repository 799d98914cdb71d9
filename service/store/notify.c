/* The NOTIFY listener thread (see notify.h). */
#include "store/notify.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sql.h"
#include "util/error.h"

#define MAX_KINDS 8
#define POLL_MS 200
#define RECONNECT_MS 500

static struct {
    char kind[24];
    cache *c;
} kinds[MAX_KINDS];
static int nkinds;
static char *conninfo;
static pthread_t thread;
static int started;
static atomic_int stopping, listening;

int store_notify_register(const char *kind, cache *c)
{
    if (nkinds == MAX_KINDS || strlen(kind) >= sizeof kinds[0].kind)
        return LICD_ERR_INTERNAL;
    strcpy(kinds[nkinds].kind, kind);
    kinds[nkinds++].c = c;
    cache_set_enabled(c, 0);
    return LICD_OK;
}

static void set_listening(int on)
{
    atomic_store(&listening, on);
    for (int i = 0; i < nkinds; i++)
        cache_set_enabled(kinds[i].c, on);
}

/* Applies one payload '<kind>:<key>'. */
static void apply(const char *payload)
{
    const char *colon = strchr(payload, ':');
    if (!colon)
        return;
    for (int i = 0; i < nkinds; i++)
        if (strlen(kinds[i].kind) == (size_t)(colon - payload) &&
            strncmp(kinds[i].kind, payload, (size_t)(colon - payload)) == 0) {
            if (strcmp(colon + 1, "*") == 0)
                cache_clear(kinds[i].c);
            else
                cache_del(kinds[i].c, colon + 1);
        }
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Listens until the connection fails or stop is asked. The caches are
 * enabled only once LISTEN is in force: a change committed before that
 * was never cached by this process (they start empty). */
static void listen_on(PGconn *conn)
{
    PGresult *r = PQexec(conn, "LISTEN " STORE_NOTIFY_CHANNEL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return;
    set_listening(1);
    while (!atomic_load(&stopping)) {
        struct pollfd p = {PQsocket(conn), POLLIN, 0};
        PGnotify *n;
        /* A hung-up socket stays readable: leave rather than spin on it. */
        if (p.fd < 0 || poll(&p, 1, POLL_MS) < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)) ||
            (p.revents && !PQconsumeInput(conn)))
            break;
        while ((n = PQnotifies(conn))) {
            apply(n->extra);
            PQfreemem(n);
        }
        if (PQstatus(conn) != CONNECTION_OK)
            break;
    }
    set_listening(0);
}

static void *run(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopping)) {
        /* The conninfo's own settings win over these defaults (as in db.c). */
        static const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *vals[] = {"2", "licd-listener", conninfo, NULL};
        PGconn *conn = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(conn) == CONNECTION_OK)
            listen_on(conn);
        PQfinish(conn);
        if (!atomic_load(&stopping))
            pause_ms(RECONNECT_MS);
    }
    return NULL;
}

int store_notify_start(const char *info)
{
    if (started || !(conninfo = strdup(info)))
        return started ? LICD_ERR_INTERNAL : LICD_ERR_NOMEM;
    atomic_store(&stopping, 0);
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        free(conninfo);
        conninfo = NULL;
        return LICD_ERR_INTERNAL;
    }
    started = 1;
    /* Up to two seconds for the first LISTEN, so that a node starts with
     * its caches on when the database is there. */
    for (int i = 0; i < 200 && !atomic_load(&listening); i++)
        pause_ms(10);
    return LICD_OK;
}

void store_notify_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, 1);
    pthread_join(thread, NULL);
    started = 0;
    free(conninfo);
    conninfo = NULL;
    set_listening(0);
}
