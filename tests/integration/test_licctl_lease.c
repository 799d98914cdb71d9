/* licctl lease end to end: the real command (LICD_LICCTL) holding a seat
 * against licd processes of the test's own (short LICD_LEASE_TTL, a pool
 * of nodes on the one test database), heartbeating, failing over when a
 * node is killed, losing a seat, and releasing it on SIGTERM or SIGINT. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TTL "LICD_LEASE_TTL=3" /* heartbeat_interval_s = 1 */

/* A customer with a concurrent pack of quantity seats of product "cad". */
struct pool {
    char *vendor;
    char customer_id[37], customer[80];
    int quantity;
    char *dir;
};

static void pool_init(struct pool *p, int quantity)
{
    memset(p, 0, sizeof *p);
    p->quantity = quantity;
    p->vendor = it_new_vendor("Lease Vendor");
    it_new_customer(p->vendor, "Lease Customer", p->customer_id, p->customer);
    it_created("/v1/products", p->vendor, "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\"}");
    it_created("/v1/packs", p->vendor,
               "{\"pack_id\":\"floating\",\"customer_id\":\"%s\",\"product\":\"cad\",\"version\":\"7\","
               "\"type\":\"concurrent\",\"quantity\":%d}",
               p->customer_id, quantity);
    p->dir = it_tmpdir();
}

static void pool_free(struct pool *p)
{
    free(p->vendor);
    it_rmdir(p->dir);
}

/* Live (neither released nor lapsed) leases of the customer, as the
 * database counts them; never more than the pack's quantity. */
static int live_leases(const struct pool *p)
{
    char sql[256], *out;
    int n;
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM leases WHERE customer_id = '%s' AND released_at IS NULL"
             " AND expires_at > now()",
             p->customer_id);
    cr_assert_eq(it_sql(sql, &out), 0, "psql: %s", out);
    n = atoi(out);
    free(out);
    cr_assert_leq(n, p->quantity, "%d live leases on a pack of %d", n, p->quantity);
    return n;
}

/* A licd of the test's own with env on top of the test's; its URL into url. */
static int node(struct pool *p, const char *const *env, int port, char url[64])
{
    char log[700];
    snprintf(log, sizeof log, "%s/licd-%d.log", p->dir, port);
    snprintf(url, 64, "http://127.0.0.1:%d", port);
    return it_start_licd(env, log, port);
}

/* One running `licctl lease`, its stdout and stderr in files. */
struct holder {
    pid_t pid;
    char out[700], err[700];
};

/* licctl lease, with --servers when servers is not NULL. */
static void start_lease_with(struct pool *p, struct holder *h, const char *name, char *url,
                             char *client, int json, char *servers)
{
    extern char **environ;
    char *argv[16] = {"licctl", "lease", "--url", url, "--customer-key", p->customer,
                      "--product", "cad", "--client", client};
    int argc = 10;
    if (json)
        argv[argc++] = "--json";
    if (servers) {
        argv[argc++] = "--servers";
        argv[argc++] = servers;
    }
    posix_spawn_file_actions_t fa;

    snprintf(h->out, sizeof h->out, "%s/%s.out", p->dir, name);
    snprintf(h->err, sizeof h->err, "%s/%s.err", p->dir, name);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, h->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, h->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_eq(posix_spawn(&h->pid, it_env("LICD_LICCTL"), &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
}

static void start_lease(struct pool *p, struct holder *h, const char *name, char *url,
                        char *client, int json)
{
    start_lease_with(p, h, name, url, client, json, NULL);
}

static char *slurp(const char *path)
{
    char cmd[800], *out;
    snprintf(cmd, sizeof cmd, "cat '%s'", path);
    it_sh(cmd, &out);
    return out;
}

/* Waits for the holder to exit; its exit status. A sanitizer report fails the test. */
static int wait_exit(struct holder *h)
{
    int status;
    char *err;
    cr_assert_eq(waitpid(h->pid, &status, 0), h->pid);
    err = slurp(h->err);
    cr_assert(!strstr(err, "Sanitizer") && !strstr(err, "runtime error"), "licctl: %s", err);
    free(err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The index-th line of the holder's stdout, parsed, or NULL while it has
 * not been written (whole lines only). */
static cJSON *event_at(const struct holder *h, int index)
{
    char *out = slurp(h->out), *line = out, *end;
    cJSON *ev = NULL;
    for (int i = 0; (end = strchr(line, '\n')); i++, line = end + 1) {
        if (i == index) {
            *end = '\0';
            ev = cJSON_Parse(line);
            cr_assert(ev, "not a JSON line: %s", line);
            break;
        }
    }
    free(out);
    return ev;
}

/* The first event of kind at index *next or later, waited for up to secs
 * while the live leases are checked; *next moves past it. */
static cJSON *await_event(struct pool *p, const struct holder *h, const char *kind, int *next, int secs)
{
    time_t end = time(NULL) + secs;
    while (time(NULL) <= end) {
        cJSON *ev = event_at(h, *next);
        if (ev) {
            (*next)++;
            if (strcmp(it_member_str(ev, "event"), kind) == 0)
                return ev;
            cJSON_Delete(ev);
            continue;
        }
        live_leases(p);
        usleep(100 * 1000);
    }
    {
        char *out = slurp(h->out), *err = slurp(h->err);
        cr_assert_fail("no %s event within %d s; stdout: %s stderr: %s", kind, secs, out, err);
    }
    return NULL;
}

static long checkout_status(struct pool *p, const char *client)
{
    it_response r;
    long status;
    it_postf("/v1/leases", p->customer, &r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
    status = r.status;
    if (status == 403)
        it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    return status;
}

Test(licctl_lease, heartbeats_then_release_on_sigterm, .timeout = 90)
{
    const char *env[] = {TTL, NULL};
    struct pool p;
    struct holder h, late;
    char url[64], lease[64], *out;
    cJSON *ev;
    int pid, next = 0;

    pool_init(&p, 1);
    pid = node(&p, env, it_free_port(), url);
    it_use_url(url);
    start_lease(&p, &h, "ws-1", url, "ws-1", 1);

    ev = await_event(&p, &h, "checkout", &next, 15);
    snprintf(lease, sizeof lease, "%s", it_member_str(ev, "lease_id"));
    cr_assert_str_eq(it_member_str(ev, "pack_id"), "floating");
    cr_assert_str_eq(it_member_str(ev, "server"), url);
    cr_assert_eq(cJSON_GetObjectItem(ev, "heartbeat_interval_s")->valueint, 1);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(ev, "servers"), 0)->valuestring, url);
    cr_assert_eq(strlen(it_member_str(ev, "expires_at")), 20, "RFC 3339 UTC: %s", it_member_str(ev, "expires_at"));
    cJSON_Delete(ev);
    for (int i = 0; i < 2; i++) {
        ev = await_event(&p, &h, "heartbeat", &next, 10);
        cr_assert_str_eq(it_member_str(ev, "lease_id"), lease);
        cJSON_Delete(ev);
    }
    /* Three TTLs in, the seat is still held: nobody else gets one. */
    sleep(3);
    cr_assert_eq(live_leases(&p), 1);
    cr_assert_eq(checkout_status(&p, "ws-2"), 403);
    start_lease(&p, &late, "ws-3", url, "ws-3", 1);
    cr_assert_eq(wait_exit(&late), 20, "no seat at checkout");
    out = slurp(late.err);
    cr_assert(strstr(out, "no_seats_available"), "stderr: %s", out);
    free(out);

    kill(h.pid, SIGTERM);
    cr_assert_eq(wait_exit(&h), 0);
    ev = await_event(&p, &h, "release", &next, 1);
    cr_assert_str_eq(it_member_str(ev, "lease_id"), lease);
    cJSON_Delete(ev);
    cr_assert_eq(live_leases(&p), 0);
    cr_assert_eq(checkout_status(&p, "ws-2"), 201, "the seat is free again");
    cr_assert_eq(it_stop_licd(pid), 0);
    pool_free(&p);
}

Test(licctl_lease, human_lines_and_sigint, .timeout = 60)
{
    const char *env[] = {TTL, NULL};
    struct pool p;
    struct holder h;
    char url[64], *out = NULL;
    int pid;

    pool_init(&p, 2);
    pid = node(&p, env, it_free_port(), url);
    it_use_url(url);
    start_lease(&p, &h, "ws", url, "ws", 0);
    for (int i = 0; i < 100; i++) {
        free(out);
        out = slurp(h.out);
        if (strstr(out, "\nheartbeat lease_id="))
            break;
        usleep(100 * 1000);
    }
    cr_assert(strncmp(out, "checkout lease_id=", 18) == 0 && strstr(out, " pack_id=floating ") &&
                  strstr(out, "\nheartbeat lease_id="),
              "stdout: %s", out);
    kill(h.pid, SIGINT);
    cr_assert_eq(wait_exit(&h), 0);
    free(out);
    out = slurp(h.out);
    cr_assert(strstr(out, "\nrelease lease_id="), "stdout: %s", out);
    cr_assert_eq(live_leases(&p), 0);
    free(out);
    cr_assert_eq(it_stop_licd(pid), 0);
    pool_free(&p);
}

/* Two nodes on one database: both listed in LICD_SERVERS, or (listed 0)
 * each listing only itself (LICD_SERVERS empty). list is both URLs. */
struct pair {
    int pid[2];
    char url[2][64];
    char list[160], servers[200];
};

static void pair_start(struct pool *p, struct pair *n, int listed)
{
    int port[2] = {it_free_port(), it_free_port()};
    const char *env[] = {TTL, n->servers, NULL};
    while (port[1] == port[0])
        port[1] = it_free_port();
    snprintf(n->list, sizeof n->list, "http://127.0.0.1:%d,http://127.0.0.1:%d", port[0], port[1]);
    snprintf(n->servers, sizeof n->servers, "LICD_SERVERS=%s", listed ? n->list : "");
    for (int i = 0; i < 2; i++)
        n->pid[i] = node(p, env, port[i], n->url[i]);
}

/* SIGKILL: no goodbye, the node just stops answering. */
static void kill_node(struct pair *n, int i)
{
    int status;
    kill(n->pid[i], SIGKILL);
    cr_assert_eq(waitpid(n->pid[i], &status, 0), n->pid[i]);
}

/* A pool of two nodes with one seat, and licctl holding it on the first;
 * lease gets its id. Nodes that do not list the pool (listed 0) leave
 * licctl with the --servers it was given. */
static void hold_on_first(struct pool *p, struct pair *n, struct holder *h, int *next, char lease[64],
                          int listed)
{
    cJSON *ev;
    pool_init(p, 1);
    pair_start(p, n, listed);
    start_lease_with(p, h, "ws", n->url[0], "ws", 1, listed ? NULL : n->list);
    ev = await_event(p, h, "checkout", next, 15);
    cr_assert_str_eq(it_member_str(ev, "server"), n->url[0]);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ev, "servers")), listed ? 2 : 1,
                 "licd lists the pool, or itself");
    snprintf(lease, 64, "%s", it_member_str(ev, "lease_id"));
    cJSON_Delete(ev);
    cJSON_Delete(await_event(p, h, "heartbeat", next, 10));
}

/* The first node dies while licctl cannot heartbeat (SIGSTOP), and its
 * lease is left to lapse; licctl goes on when continued. */
static void lapse_while_stopped(struct pool *p, struct pair *n, struct holder *h)
{
    kill(h->pid, SIGSTOP);
    kill_node(n, 0);
    for (int i = 0; i < 100 && live_leases(p) > 0; i++)
        usleep(100 * 1000);
    cr_assert_eq(live_leases(p), 0, "the lease did not lapse");
}

/* The failover event from the first node to the second. */
static void assert_failover(struct pool *p, struct pair *n, struct holder *h, int *next)
{
    cJSON *ev = await_event(p, h, "failover", next, 15);
    cr_assert_str_eq(it_member_str(ev, "from"), n->url[0]);
    cr_assert_str_eq(it_member_str(ev, "to"), n->url[1]);
    cr_assert(*it_member_str(ev, "reason"));
    cJSON_Delete(ev);
}

/* The next heartbeat keeps lease (on the second node); then SIGTERM:
 * licctl releases the seat and exits 0. */
static void heartbeat_then_release(struct pool *p, struct pair *n, struct holder *h, int *next,
                                   const char *lease)
{
    cJSON *ev = await_event(p, h, "heartbeat", next, 10);
    cr_assert_str_eq(it_member_str(ev, "server"), n->url[1]);
    cr_assert_str_eq(it_member_str(ev, "lease_id"), lease);
    cJSON_Delete(ev);
    cr_assert_eq(live_leases(p), 1);
    kill(h->pid, SIGTERM);
    cr_assert_eq(wait_exit(h), 0);
    ev = await_event(p, h, "release", next, 1);
    cr_assert_str_eq(it_member_str(ev, "server"), n->url[1]);
    cJSON_Delete(ev);
    cr_assert_eq(live_leases(p), 0);
    cr_assert_eq(it_stop_licd(n->pid[1]), 0);
    pool_free(p);
}

/* Killed between two heartbeats, the first node is left at once; the
 * second shares the database, knows the lease and extends it. */
Test(licctl_lease, failover_keeps_a_live_lease, .timeout = 90)
{
    struct pool p;
    struct pair n;
    struct holder h;
    char lease[64];
    int next = 0;

    hold_on_first(&p, &n, &h, &next, lease, 1);
    kill_node(&n, 0);
    assert_failover(&p, &n, &h, &next);
    heartbeat_then_release(&p, &n, &h, &next, lease);
}

/* Each node lists only itself: licctl keeps the --servers it was given
 * (a node's "servers" are merged into them, never replace them) and fails
 * over to the second node all the same. */
Test(licctl_lease, failover_along_the_given_servers_when_a_node_lists_only_itself, .timeout = 90)
{
    struct pool p;
    struct pair n;
    struct holder h;
    char lease[64];
    int next = 0;

    hold_on_first(&p, &n, &h, &next, lease, 0);
    kill_node(&n, 0);
    assert_failover(&p, &n, &h, &next);
    heartbeat_then_release(&p, &n, &h, &next, lease);
}

/* After a lapse, licctl's heartbeat on the second node becomes a new
 * checkout, with a new lease_id, and the seat count never passes the
 * quantity. */
Test(licctl_lease, failover_after_a_lapse_is_a_new_checkout, .timeout = 90)
{
    struct pool p;
    struct pair n;
    struct holder h;
    char lease[64];
    cJSON *ev;
    int next = 0;

    hold_on_first(&p, &n, &h, &next, lease, 1);
    lapse_while_stopped(&p, &n, &h);
    kill(h.pid, SIGCONT);
    assert_failover(&p, &n, &h, &next);
    ev = await_event(&p, &h, "checkout", &next, 10);
    cr_assert_str_eq(it_member_str(ev, "server"), n.url[1]);
    cr_assert_str_eq(it_member_str(ev, "replaces"), lease);
    cr_assert_str_neq(it_member_str(ev, "lease_id"), lease);
    snprintf(lease, sizeof lease, "%s", it_member_str(ev, "lease_id"));
    cJSON_Delete(ev);
    /* The new lease is the one heartbeated from then on. */
    heartbeat_then_release(&p, &n, &h, &next, lease);
}

/* While the lease had lapsed, another client took the only seat: the
 * heartbeat's 403 no_seats_available ends licctl with 20. */
Test(licctl_lease, a_seat_lost_at_a_heartbeat_is_exit_20, .timeout = 90)
{
    struct pool p;
    struct pair n;
    struct holder h;
    char lease[64], *err;
    int next = 0;

    hold_on_first(&p, &n, &h, &next, lease, 1);
    lapse_while_stopped(&p, &n, &h);
    it_use_url(n.url[1]);
    cr_assert_eq(checkout_status(&p, "thief"), 201);
    kill(h.pid, SIGCONT);
    cr_assert_eq(wait_exit(&h), 20);
    err = slurp(h.err);
    cr_assert(strstr(err, "no_seats_available"), "stderr: %s", err);
    free(err);
    cr_assert_eq(live_leases(&p), 1);
    cr_assert_eq(it_stop_licd(n.pid[1]), 0);
    pool_free(&p);
}

Test(licctl_lease, arguments_and_help)
{
    struct pool p = {0};
    char cmd[1024], *out;
    static const char *const bad[] = {
        "lease --url http://127.0.0.1:1 --customer-key k --client c",              /* no --product */
        "lease --url http://127.0.0.1:1 --customer-key k --product p",             /* no --client */
        "lease --customer-key k --product p --client c",                           /* no URL */
        "lease --url http://127.0.0.1:1 --customer-key k --product p --client c --servers ftp://x",
        "lease --url http://127.0.0.1:1 --customer-key k --product p --client c --bogus",
        /* no node answers at checkout: an error, not "no seat" */
        "lease --url http://127.0.0.1:1 --customer-key k --product p --client c",
    };
    p.dir = it_tmpdir();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "env -u LICD_URL -u LICD_CUSTOMER_KEY '%s' %s 2>&1 </dev/null",
                 it_env("LICD_LICCTL"), bad[i]);
        cr_assert_eq(it_sh(cmd, &out), 1, "licctl %s: %s", bad[i], out);
        cr_assert(strstr(out, "licctl: "), "licctl %s: %s", bad[i], out);
        free(out);
    }
    snprintf(cmd, sizeof cmd, "'%s' lease --help", it_env("LICD_LICCTL"));
    cr_assert_eq(it_sh(cmd, &out), 0);
    cr_assert(strstr(out, "--servers") && strstr(out, "SIGTERM") && strstr(out, "Exit status"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' --help", it_env("LICD_LICCTL"));
    cr_assert_eq(it_sh(cmd, &out), 0);
    cr_assert(strstr(out, "lease") && strstr(out, "get-key") && strstr(out, "activate") && strstr(out, "upgrade"),
              "%s", out);
    free(out);
    it_rmdir(p.dir);
}
