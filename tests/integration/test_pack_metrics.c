/* Per-pack figures in /metrics, over HTTP against the real licd and
 * PostgreSQL: seats in use and in all, refusals for want of a seat (get_key
 * and lease checkout), temporary licences and the peak, exact after grants,
 * refusals, releases and a quantity change, borrows, the same on a second
 * node of the same database, and always valid exposition text (tests/common/expo). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* A vendor with one customer, a per-device product "app" and a concurrent
 * product "cad". */
struct world {
    char *vendor;
    char vendor_id[37], customer_id[37], customer[80];
};

static void world_init(struct world *w, const char *name)
{
    it_response r;
    w->vendor = it_new_vendor(name);
    it_expect(&r, 200, "GET", "/v1/vendor", w->vendor, NULL);
    snprintf(w->vendor_id, sizeof w->vendor_id, "%s", it_str(&r, "vendor_id"));
    it_response_free(&r);
    it_new_customer(w->vendor, "Customer One", w->customer_id, w->customer);
    it_created("/v1/products", w->vendor, "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\"}");
    it_created("/v1/products", w->vendor, "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"1\"}");
}

static void add_pack(const struct world *w, const char *pack_id, const char *product,
                     const char *type, int quantity)
{
    it_created("/v1/packs", w->vendor,
               "{\"pack_id\":\"%s\",\"customer_id\":\"%s\",\"product\":\"%s\",\"version\":\"1\","
               "\"type\":\"%s\",\"quantity\":%d}",
               pack_id, w->customer_id, product, type, quantity);
}

/* get_key of "app" for client: asserts the status (403: for want of a
 * seat), returns the licence id (static buffer). */
static const char *get_key(const struct world *w, const char *client, long status)
{
    static char id[64];
    it_response r;
    it_postf("/v1/get_key", w->customer, &r, "{\"product\":\"app\",\"client_id\":\"%s\"}", client);
    cr_assert_eq(r.status, status, "get_key %s: expected %ld: %ld %s", client, status, r.status,
                 r.body);
    if (status == 403)
        it_assert_problem(&r, 403, "temporary_license_expired");
    snprintf(id, sizeof id, "%s", r.status < 300 ? it_str(&r, "license_id") : "");
    it_response_free(&r);
    return id;
}

/* A lease of "cad" for client: its id on 201 (static buffer), "" on 403. */
static const char *checkout(const struct world *w, const char *client, long status)
{
    static char id[64];
    it_response r;
    it_postf("/v1/leases", w->customer, &r, "{\"product\":\"cad\",\"client_id\":\"%s\"}", client);
    cr_assert_eq(r.status, status, "checkout %s: expected %ld: %ld %s", client, status, r.status,
                 r.body);
    if (status == 403)
        it_assert_problem(&r, 403, "no_seats_available");
    snprintf(id, sizeof id, "%s", status == 201 ? it_str(&r, "lease_id") : "");
    it_response_free(&r);
    return id;
}

static const char *const families[] = {"licd_pack_seats_in_use", "licd_pack_seats_total",
                                       "licd_pack_denials_total", "licd_pack_temporary_total",
                                       "licd_pack_peak_in_use"};
static const char *const family_types[] = {"gauge", "gauge", "counter", "counter", "gauge"};
#define NFAMILIES (sizeof families / sizeof *families)

/* Reads the pack's five figures from e into got (-1: no such series). */
static void figures(const expo *e, const struct world *w, const char *pack_id,
                    long long got[NFAMILIES])
{
    const char *labels[] = {"vendor_id", w->vendor_id, "pack_id", pack_id, NULL};
    for (size_t f = 0; f < NFAMILIES; f++) {
        double v;
        got[f] = expo_value(e, families[f], labels, &v) == 0 ? (long long)v : -1;
    }
}

/* Asserts the pack's figures in /metrics: in use, in all, denials,
 * temporary licences, peak. The figures are read at most once a second on
 * each node, so a scrape may show the ones of up to a second ago: scraped
 * again until they are the ones expected, for at most 5 s. */
static void expect_pack(const struct world *w, const char *pack_id, long long in_use,
                        long long total, long long denials, long long temporary, long long peak)
{
    const long long want[NFAMILIES] = {in_use, total, denials, temporary, peak};
    long long got[NFAMILIES];
    for (int attempt = 0;; attempt++) {
        expo *e = it_scrape();
        figures(e, w, pack_id, got);
        expo_free(e);
        if (memcmp(got, want, sizeof want) == 0)
            return;
        if (attempt == 50)
            break;
        usleep(100 * 1000);
    }
    cr_assert_fail("pack %s: in use %lld (want %lld), total %lld (%lld), denials %lld (%lld), "
                   "temporary %lld (%lld), peak %lld (%lld)",
                   pack_id, got[0], in_use, got[1], total, got[2], denials, got[3], temporary,
                   got[4], peak);
}

Test(pack_metrics, figures_follow_grants_refusals_and_releases)
{
    struct world w;
    char c2_license[64], lease[64], url[64], *dir;
    int pid;

    world_init(&w, "Pack metrics");
    add_pack(&w, "floating", "cad", "concurrent", 1);
    add_pack(&w, "spare", "cad", "per_user", 5);
    add_pack(&w, "seats", "app", "per_device", 2); /* the last serials: it can grow */
    expect_pack(&w, "seats", 0, 2, 0, 0, 0);
    expect_pack(&w, "floating", 0, 1, 0, 0, 0);
    expect_pack(&w, "spare", 0, 5, 0, 0, 0);

    /* Two seats granted; a lost licence recovered takes none. */
    get_key(&w, "pc-1", 201);
    snprintf(c2_license, sizeof c2_license, "%s", get_key(&w, "pc-2", 201));
    get_key(&w, "pc-1", 200);
    expect_pack(&w, "seats", 2, 2, 0, 0, 2);

    /* The pack is full: pc-3 gets its one temporary licence instead of a
     * seat, and the same again when it asks again: no refusal yet. */
    cr_assert_eq(get_key(&w, "pc-3", 201)[0], 'T', "a temporary licence id");
    get_key(&w, "pc-3", 200);
    expect_pack(&w, "seats", 2, 2, 0, 1, 2);
    /* Once its temporary licence has run out, pc-3 is refused, twice. */
    cr_assert_eq(it_sql(it_fmt("UPDATE assignments SET expires_at = now() - interval '1 minute'"
                               " WHERE customer_id = '%s' AND client_id = 'pc-3'",
                               w.customer_id),
                        NULL),
                 0);
    get_key(&w, "pc-3", 403);
    get_key(&w, "pc-3", 403);
    expect_pack(&w, "seats", 2, 2, 2, 1, 2);

    /* The one floating seat leased; two checkouts refused, on two nodes:
     * the figures are the database's, the same on both. */
    snprintf(lease, sizeof lease, "%s", checkout(&w, "ws-1", 201));
    checkout(&w, "ws-2", 403);
    pid = it_start_node(NULL, url, sizeof url, &dir);
    it_use_url(url);
    checkout(&w, "ws-3", 403);
    expect_pack(&w, "floating", 1, 1, 2, 0, 1);
    expect_pack(&w, "seats", 2, 2, 2, 1, 2);
    it_use_url(it_env("LICD_TEST_URL"));
    expect_pack(&w, "floating", 1, 1, 2, 0, 1);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);

    /* Seats given back: in use falls, the peak stays. */
    it_response r;
    it_expect(&r, 204, "DELETE", it_fmt("/v1/leases/%s", lease), w.customer, NULL);
    it_response_free(&r);
    it_expect(&r, 204, "DELETE", it_fmt("/v1/licenses/%s", c2_license), w.vendor, NULL);
    it_response_free(&r);
    expect_pack(&w, "floating", 0, 1, 2, 0, 1);
    expect_pack(&w, "seats", 1, 2, 2, 1, 2);

    /* The freed seat goes to pc-3 after all: no refusal, no temporary
     * licence. A bigger pack shows its new total. */
    get_key(&w, "pc-3", 201);
    it_expect(&r, 200, "PATCH", "/v1/packs/seats", w.vendor, "{\"quantity\":4}");
    it_response_free(&r);
    get_key(&w, "pc-4", 201);
    expect_pack(&w, "seats", 3, 4, 2, 1, 3);
    expect_pack(&w, "spare", 0, 5, 0, 0, 0);
    free(w.vendor);
}

/* A lapsed lease that nothing has released yet is not in use. */
Test(pack_metrics, lapsed_leases_are_not_in_use)
{
    struct world w;
    char sql[512];

    world_init(&w, "Pack metrics lapse");
    add_pack(&w, "floating", "cad", "concurrent", 3);
    checkout(&w, "ws-1", 201);
    checkout(&w, "ws-2", 201);
    expect_pack(&w, "floating", 2, 3, 0, 0, 2);
    /* Lapsed, as if its heartbeats had stopped long ago (the pack's bound
     * on its next lapse moved with it). */
    snprintf(sql, sizeof sql,
             "UPDATE leases SET expires_at = now() - interval '1 minute' WHERE client_id = 'ws-1'"
             " AND customer_id = '%s';"
             " UPDATE packs SET next_lapse_at = now() - interval '1 minute' WHERE customer_id = '%s'",
             w.customer_id, w.customer_id);
    cr_assert_eq(it_sql(sql, NULL), 0);
    expect_pack(&w, "floating", 1, 3, 0, 0, 2);
    free(w.vendor);
}

/* Borrowing is a checkout: refused on a full pack, it counts; refused for
 * asking longer than the pack lends, it does not. */
Test(pack_metrics, borrows_refused_for_want_of_a_seat)
{
    struct world w;
    it_response r;

    world_init(&w, "Pack metrics borrow");
    it_created("/v1/packs", w.vendor,
               "{\"pack_id\":\"lendable\",\"customer_id\":\"%s\",\"product\":\"cad\","
               "\"version\":\"1\",\"type\":\"concurrent\",\"quantity\":1,"
               "\"max_borrow_s\":3600}",
               w.customer_id);
    it_postf("/v1/leases", w.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"laptop-1\",\"borrow_s\":600}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/leases", w.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"laptop-2\",\"borrow_s\":600}");
    it_assert_problem(&r, 403, "no_seats_available");
    it_response_free(&r);
    it_postf("/v1/leases", w.customer, &r,
             "{\"product\":\"cad\",\"client_id\":\"laptop-3\",\"borrow_s\":7200}");
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    checkout(&w, "ws-1", 403);
    expect_pack(&w, "lendable", 1, 1, 2, 0, 1);
    free(w.vendor);
}

/* Seats allocated to a site are in use: they count, and the peak with
 * them; taken back, the peak stays. */
Test(pack_metrics, seats_allocated_to_sites_are_in_use)
{
    struct world w;
    it_response r;

    world_init(&w, "Pack metrics sites");
    add_pack(&w, "split", "cad", "concurrent", 10);
    checkout(&w, "ws-1", 201);
    it_postf("/v1/packs/split/allocations", w.vendor, &r,
             "{\"site_id\":\"site-a\",\"quantity\":6}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    expect_pack(&w, "split", 7, 10, 0, 0, 7);
    it_postf("/v1/packs/split/allocations", w.vendor, &r,
             "{\"site_id\":\"site-a\",\"quantity\":2}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    expect_pack(&w, "split", 3, 10, 0, 0, 7);
    free(w.vendor);
}

/* Every family once, typed, with help, one series per pack (another
 * vendor's packs are there too, under their own vendor_id). */
Test(pack_metrics, families_are_declared_once)
{
    struct world a, b;
    expo *e;
    long long got[NFAMILIES];
    world_init(&a, "Pack metrics A");
    world_init(&b, "Pack metrics B");
    add_pack(&a, "same-id", "app", "per_device", 7);
    add_pack(&b, "same-id", "app", "per_device", 9);
    expect_pack(&a, "same-id", 0, 7, 0, 0, 0);
    expect_pack(&b, "same-id", 0, 9, 0, 0, 0);
    e = it_scrape();
    for (size_t f = 0; f < NFAMILIES; f++) {
        cr_assert_str_eq(expo_type(e, families[f]), family_types[f], "%s", families[f]);
        cr_assert(expo_has_help(e, families[f]), "%s", families[f]);
        cr_assert_eq(expo_series(e, families[f]), expo_series(e, families[0]), "%s", families[f]);
    }
    cr_assert_geq(expo_series(e, families[0]), 2);
    figures(e, &a, "no-such-pack", got);
    cr_assert_eq(got[0], -1);
    expo_free(e);
    free(a.vendor);
    free(b.vendor);
}
