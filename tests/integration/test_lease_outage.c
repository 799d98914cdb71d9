/* PostgreSQL crashes (pg_ctl -m immediate) while clients heartbeat their
 * leases of a 3-seat pack and others wait for a seat: after the restart,
 * every expiry licd answered is in the database, and no client got a seat
 * before the time a lease holding it was promised. tests/run runs this
 * binary alone, after the others (it stops PostgreSQL). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "util/json.h"

enum { SEATS = 3, CLIENTS = 14, MAX_LEASES = 256, TTL = 4 };

/* What licd acknowledged of each lease with a 200 or 201: the latest
 * expiry it answered, and when the request that got it was sent. The
 * database's now() for that heartbeat came after the sending, so once it
 * is committed the lease expires at sent + TTL or later; a lost heartbeat
 * leaves the expiry of the one before, which was answered before this one
 * was sent: a loss shows even within the second the answers round to. */
static struct {
    pthread_mutex_t lock;
    int n;
    struct {
        char id[40];
        time_t until;
        double sent;
    } lease[MAX_LEASES];
} acked = {.lock = PTHREAD_MUTEX_INITIALIZER};
static atomic_int stopping, heartbeats;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void acknowledge(const it_response *r, double sent)
{
    time_t until;
    int i;
    cr_assert_eq(json_parse_time(it_str(r, "expires_at"), &until), 0, "%s", r->body);
    pthread_mutex_lock(&acked.lock);
    for (i = 0; i < acked.n && strcmp(acked.lease[i].id, it_str(r, "lease_id")) != 0; i++)
        ;
    if (i == acked.n && acked.n < MAX_LEASES)
        snprintf(acked.lease[acked.n++].id, sizeof acked.lease[0].id, "%s", it_str(r, "lease_id"));
    if (i < acked.n && until > acked.lease[i].until)
        acked.lease[i].until = until;
    if (i < acked.n && sent > acked.lease[i].sent)
        acked.lease[i].sent = sent;
    pthread_mutex_unlock(&acked.lock);
}

struct client {
    const char *customer;
    char name[16], lease[40];
};

static void lease_request(const char *customer, const char *name, const char *lease, it_response *r)
{
    char path[128] = "/v1/leases";
    if (*lease)
        snprintf(path, sizeof path, "/v1/leases/%s/heartbeat", lease);
    it_postf(path, customer, r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", name);
}

/* Heartbeats its lease as fast as licd answers, or asks for a seat every
 * 50 ms, until the test stops it; a 503 (the database is down) changes
 * nothing it holds. */
static void *client_run(void *arg)
{
    struct client *c = arg;
    while (!atomic_load(&stopping)) {
        it_response r;
        double sent = now();
        lease_request(c->customer, c->name, c->lease, &r);
        if (r.status == 200 || r.status == 201) {
            /* A checkout's 200 gives a held lease back as it is. */
            acknowledge(&r, r.status == 200 && !*c->lease ? 0 : sent);
            atomic_fetch_add(&heartbeats, r.status == 200);
            snprintf(c->lease, sizeof c->lease, "%s", it_str(&r, "lease_id"));
        } else if (r.status == 403) {
            c->lease[0] = '\0';
        } else {
            cr_assert_eq(r.status, 503, "%s", r.body);
        }
        it_response_free(&r);
        if (!*c->lease)
            usleep(50 * 1000);
    }
    return NULL;
}

/* The customer's leases in the database: id, expiry and checkout time. */
struct row {
    char id[40];
    double expires, created;
};

static int db_leases(const char *customer_id, struct row *rows, int max)
{
    char sql[512], *out, *line, *save = NULL;
    int n = 0;
    snprintf(sql, sizeof sql,
             "SELECT id, extract(epoch FROM expires_at), extract(epoch FROM created_at)"
             " FROM leases WHERE customer_id = '%s'",
             customer_id);
    cr_assert_eq(it_sql(sql, &out), 0, "psql: %s", out);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cr_assert_lt(n, max);
        cr_assert_eq(
            sscanf(line, "%39[^|]|%lf|%lf", rows[n].id, &rows[n].expires, &rows[n].created), 3,
            "%s", line);
        n++;
    }
    free(out);
    return n;
}

/* The latest expiry licd acknowledged for lease, or 0. */
static time_t acknowledged(const char *lease)
{
    for (int i = 0; i < acked.n; i++)
        if (strcmp(acked.lease[i].id, lease) == 0)
            return acked.lease[i].until;
    return 0;
}

Test(lease_outage, acknowledged_heartbeats_survive_a_crash, .timeout = 180)
{
    static struct client c[CLIENTS];
    static struct row rows[4 * MAX_LEASES];
    pthread_t t[CLIENTS];
    char customer_id[37], customer[80], log[512], url[64], stop[600], *vendor, *dir = it_tmpdir();
    char ttl[32];
    const char *env[] = {ttl, NULL};
    int port = it_free_port(), pid, n, held = 0;
    time_t deadline;

    snprintf(ttl, sizeof ttl, "LICD_LEASE_TTL=%d", TTL);
    snprintf(log, sizeof log, "%s/licd.log", dir);
    pid = it_start_licd(env, log, port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    it_use_url(url);
    vendor = it_new_vendor("Crash Seats Vendor");
    it_new_customer(vendor, "Crash Seats Customer", customer_id, customer);
    it_created("/v1/products", vendor, "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\"}");
    it_created(
        "/v1/packs", vendor,
        "{\"pack_id\":\"crash\",\"customer_id\":\"%s\",\"product\":\"cad\",\"version\":\"7\","
        "\"type\":\"concurrent\",\"quantity\":%d}",
        customer_id, SEATS);

    for (int i = 0; i < CLIENTS; i++) {
        c[i].customer = customer;
        snprintf(c[i].name, sizeof c[i].name, "ws-%02d", i);
        pthread_create(&t[i], NULL, client_run, &c[i]);
    }
    /* Every seat held and heartbeats flowing, then the crash in their midst. */
    for (int i = 0; i < 100 && atomic_load(&heartbeats) < 300; i++)
        usleep(100 * 1000);
    cr_assert_geq(atomic_load(&heartbeats), 300, "too few heartbeats before the crash");
    snprintf(stop, sizeof stop, "%s immediate", it_env("LICD_TEST_PG_STOP"));
    cr_assert_eq(it_sh(stop, NULL), 0, "could not stop PostgreSQL");
    atomic_store(&stopping, 1);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(it_sh(it_env("LICD_TEST_PG_START"), NULL), 0, "could not start PostgreSQL");

    /* Holders are gone: newcomers take the seats as the leases lapse. */
    deadline = time(NULL) + 30;
    for (int k = 0; k < SEATS; k++) {
        char name[16];
        long status = 0;
        snprintf(name, sizeof name, "new-%d", k);
        while (status != 201 && time(NULL) < deadline) {
            it_response r;
            lease_request(customer, name, "", &r);
            status = r.status;
            cr_assert(status == 201 || status == 403 || status == 503, "%s", r.body);
            it_response_free(&r);
            if (status != 201)
                usleep(100 * 1000);
        }
        cr_assert_eq(status, 201, "%s got no seat", name);
    }

    n = db_leases(customer_id, rows, 4 * MAX_LEASES);
    for (int i = 0; i < acked.n; i++) {
        int found = 0;
        for (int j = 0; j < n && !found; j++)
            if (strcmp(rows[j].id, acked.lease[i].id) == 0) {
                found = 1;
                cr_assert_geq(rows[j].expires, (double)acked.lease[i].until,
                              "lease %s was answered until %lld but expires at %.3f",
                              acked.lease[i].id, (long long)acked.lease[i].until, rows[j].expires);
                /* psql prints microseconds; a heartbeat takes longer */
                cr_assert_geq(rows[j].expires, acked.lease[i].sent + TTL - 1e-4,
                              "lease %s: its last answered heartbeat, sent at %.6f, is lost"
                              " (expires at %.6f)",
                              acked.lease[i].id, acked.lease[i].sent, rows[j].expires);
            }
        cr_assert(found, "lease %s was answered but is not in the database", acked.lease[i].id);
    }
    /* When each lease was checked out, fewer than SEATS others were live:
     * checked out before it and lapsing after, by the database or by what
     * their clients were told. */
    for (int i = 0; i < n; i++) {
        int live = 0;
        for (int j = 0; j < n; j++) {
            double until = (double)acknowledged(rows[j].id);
            if (until < rows[j].expires)
                until = rows[j].expires;
            live += j != i && rows[j].created < rows[i].created && until > rows[i].created;
        }
        cr_assert_lt(live, SEATS, "lease %s was a seat too many", rows[i].id);
        held += live == SEATS - 1;
    }
    cr_assert_gt(held, 0, "the pack was never full");
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(vendor);
}
