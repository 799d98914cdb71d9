/* Site servers end to end, real processes: a vendor licd of the test's own
 * splits a 100-seat pack 40/30 between two sites, each a licd with its own
 * database on the test PostgreSQL; site A imports its signed allocation and
 * serves at most 40 seats with the vendor stopped, takes a raise to 50 from
 * a file with a higher sequence, refuses old, forged, edited, expired and
 * other sites' files; its chain of signed usage reports settles at the
 * vendor, which refuses a replay, a gap and an edit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* A site: its database, key, folder and (while serving) its licd. */
struct site {
    const char *id;
    char db[64], url[512], dir[256], key[300], jwks[300], env[1400];
    char customer[128];
    int pid;
    char http[64];
};

static char vendor_jwks_file[300];
/* The licd processes a test started: stopped by the test, or, when an
 * assertion ends it early, by the suite's fini (none outlives its test). */
static int running[4];

static void stop_leftovers(void)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (running[i] > 0)
            it_stop_licd(running[i]);
    memset(running, 0, sizeof running);
}

static void track(int pid, int add)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
        if (add ? running[i] == 0 : running[i] == pid) {
            running[i] = add ? pid : 0;
            return;
        }
}

TestSuite(sites, .fini = stop_leftovers);
static char *vendor_jwks; /* its text */

static void site_init(struct site *s, const char *id, const char *dir)
{
    char *out = NULL;
    memset(s, 0, sizeof *s);
    s->id = id;
    snprintf(s->db, sizeof s->db, "licd_site_%s_%d", id + 5, (int)getpid());
    it_db_url(s->db, s->url, sizeof s->url);
    snprintf(s->dir, sizeof s->dir, "%s/%s", dir, id);
    snprintf(s->key, sizeof s->key, "%s/signing.pem", s->dir);
    snprintf(s->jwks, sizeof s->jwks, "%s/jwks.json", s->dir);
    snprintf(s->env, sizeof s->env,
             "LICD_DATABASE_URL='%s' LICD_SITE_ID=%s LICD_VENDOR_JWKS='%s' LICD_SIGNING_KEY='%s'",
             s->url, id, vendor_jwks_file, s->key);
    cr_assert_eq(it_sh(it_fmt("mkdir -p '%s'", s->dir), NULL), 0);
    it_sql(it_fmt("DROP DATABASE IF EXISTS %s WITH (FORCE)", s->db), &out);
    free(out);
    cr_assert_eq(it_sql(it_fmt("CREATE DATABASE %s", s->db), &out), 0, "%s", out);
    free(out);
    cr_assert_eq(it_sh(it_fmt("%s %s migrate >/dev/null 2>&1 && %s keygen --out '%s' >/dev/null",
                              s->env, it_env("LICD_BIN"), it_env("LICD_BIN"), s->key),
                       NULL),
                 0);
}

static void site_drop(struct site *s)
{
    char *out = NULL;
    it_sql(it_fmt("DROP DATABASE IF EXISTS %s WITH (FORCE)", s->db), &out);
    free(out);
}

/* licd import FILE on the site: its exit status, stdout in *out, stderr in *err. */
static int site_import(const struct site *s, const char *file, char **out, char **err)
{
    char errfile[300];
    int status;
    snprintf(errfile, sizeof errfile, "%s/import.err", s->dir);
    status = it_sh(it_fmt("%s %s import '%s' 2>'%s'", s->env, it_env("LICD_BIN"), file, errfile),
                   out);
    cr_assert_eq(it_sh(it_fmt("cat '%s'", errfile), err), 0);
    return status;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void site_start(struct site *s)
{
    char log[300], db[600], site[64], vj[400], key[400];
    int port = it_free_port();
    const char *env[] = {db, site, vj, key, NULL};
    snprintf(log, sizeof log, "%s/licd.log", s->dir);
    snprintf(db, sizeof db, "LICD_DATABASE_URL=%s", s->url);
    snprintf(site, sizeof site, "LICD_SITE_ID=%s", s->id);
    snprintf(vj, sizeof vj, "LICD_VENDOR_JWKS=%s", vendor_jwks_file);
    snprintf(key, sizeof key, "LICD_SIGNING_KEY=%s", s->key);
    s->pid = it_start_licd(env, log, port);
    track(s->pid, 1);
    snprintf(s->http, sizeof s->http, "http://127.0.0.1:%d", port);
}

static void site_stop(struct site *s)
{
    track(s->pid, 0);
    cr_assert_eq(it_stop_licd(s->pid), 0);
    s->pid = 0;
}

/* A vendor licd of the test's own on the test database. */
static int vendor_start(char *url, size_t len)
{
    char log[400];
    int port = it_free_port(), pid;
    snprintf(log, sizeof log, "%s.vendor.log", vendor_jwks_file);
    pid = it_start_licd(NULL, log, port);
    track(pid, 1);
    snprintf(url, len, "http://127.0.0.1:%d", port);
    it_use_url(url);
    return pid;
}

/* Lease checkouts of clients from..to-1 at the site; how many got a seat. */
static int leases(const struct site *s, int from, int to)
{
    int got = 0;
    it_use_url(s->http);
    for (int i = from; i < to; i++) {
        it_response r;
        it_postf("/v1/leases", s->customer, &r, "{\"product\":\"cad\",\"client_id\":\"c-%d\"}", i);
        cr_assert(r.status == 201 || r.status == 403, "lease %d: %ld %s", i, r.status, r.body);
        if (r.status == 403)
            cr_assert_str_eq(it_str(&r, "code"), "no_seats_available");
        got += r.status == 201;
        it_response_free(&r);
    }
    return got;
}

/* The allocation file for site at quantity (vendor licd in use). */
static char *allocate(const char *vendor, const char *site, int quantity, long status)
{
    it_response r;
    char *file;
    it_postf("/v1/packs/split/allocations", vendor, &r, "{\"site_id\":\"%s\",\"quantity\":%d}",
             site, quantity);
    cr_assert_eq(r.status, status, "%s", r.body);
    file = strdup(it_str(&r, "file"));
    it_response_free(&r);
    return file;
}

/* Signs claims with the key file (licd sign). */
static char *sign_with(const char *key, const cJSON *claims)
{
    char *text = cJSON_PrintUnformatted(claims), *out = NULL, path[] = "/tmp/licd-claims.XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cr_assert_eq(it_sh(it_fmt("LICD_SIGNING_KEY='%s' %s sign <'%s'", key, it_env("LICD_BIN"), path),
                       &out),
                 0, "%s", out);
    unlink(path);
    cJSON_free(text);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* The report file's text (one line). */
static char *read_report(const char *path)
{
    char *out = NULL;
    cr_assert_eq(it_sh(it_fmt("cat '%s'", path), &out), 0);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* POSTs a report; asserts the status and, for a refusal, the problem code. */
static void post_report(const char *vendor, const char *site, const char *report, long status,
                        const char *code, const char *what)
{
    const char *h[] = {"Content-Type: application/jose", it_fmt("Authorization: Bearer %s", vendor),
                       NULL};
    it_response r;
    it_request("POST", it_fmt("/v1/sites/%s/reports", site), h, report, strlen(report), &r);
    cr_assert_eq(r.status, status, "%s: %s", what, r.body);
    if (code)
        it_assert_problem(&r, status, code);
    it_response_free(&r);
}

/* A copy of a compact JWS with one character of its payload changed. */
static char *edited(const char *jws)
{
    char *copy = strdup(jws), *p = strchr(copy, '.') + 5;
    *p = *p == 'A' ? 'B' : 'A';
    return copy;
}

Test(sites, a_pack_split_across_two_site_servers, .timeout = 180)
{
    char *dir = it_tmpdir(), *vendor = it_new_vendor("Site Vendor"), vendor_url[64];
    char customer_id[37], customer[80], *a1, *a2, *b1, *out = NULL, *err = NULL, path[400];
    struct site a, b;
    it_response r;
    int vpid;

    snprintf(vendor_jwks_file, sizeof vendor_jwks_file, "%s/vendor-jwks.json", dir);
    it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    write_file(vendor_jwks_file, r.body);
    vendor_jwks = strdup(r.body);
    it_response_free(&r);

    vpid = vendor_start(vendor_url, sizeof vendor_url);
    it_new_customer(vendor, "Plant Operator", customer_id, customer);
    it_created("/v1/products", vendor,
               "{\"code\":\"cad\",\"name\":\"CAD\",\"version\":\"7\",\"features\":[\"3d\"]}");
    it_created("/v1/packs", vendor,
               "{\"pack_id\":\"split\",\"customer_id\":\"%s\",\"product\":\"cad\",\"version\":\"7\","
               "\"type\":\"concurrent\",\"quantity\":100}",
               customer_id);
    a1 = allocate(vendor, "site-a", 40, 201);
    b1 = allocate(vendor, "site-b", 30, 201);
    it_expect(&r, 200, "GET", "/v1/packs/split", vendor, NULL);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "assigned")->valueint, 70, "30 in the free pool");
    it_response_free(&r);
    track(vpid, 0);
    cr_assert_eq(it_stop_licd(vpid), 0);

    /* Site A: the first import makes the customer and prints its key. */
    site_init(&a, "site-a", dir);
    site_init(&b, "site-b", dir);
    snprintf(path, sizeof path, "%s/a1.alloc", dir);
    write_file(path, a1);
    cr_assert_eq(site_import(&a, path, &out, &err), 0, "%s", err);
    {
        cJSON *line = cJSON_Parse(out);
        cr_assert(line, "import printed %s", out);
        cr_assert_str_eq(it_member_str(line, "customer_id"), customer_id);
        snprintf(a.customer, sizeof a.customer, "%s", it_member_str(line, "customer_key"));
        cJSON_Delete(line);
    }
    free(out);
    free(err);
    /* Site B's file is not for site A. */
    snprintf(path, sizeof path, "%s/b1.alloc", dir);
    write_file(path, b1);
    cr_assert_neq(site_import(&a, path, &out, &err), 0);
    cr_assert(strstr(err, "site-b"), "%s", err);
    free(out);
    free(err);
    /* Site B takes it, and serves 30. */
    cr_assert_eq(site_import(&b, path, &out, &err), 0, "%s", err);
    {
        cJSON *line = cJSON_Parse(out);
        cr_assert(line, "import printed %s", out);
        snprintf(b.customer, sizeof b.customer, "%s", it_member_str(line, "customer_key"));
        cJSON_Delete(line);
    }
    free(out);
    free(err);

    /* The vendor is stopped: A serves at most 40, B at most 30. */
    site_start(&a);
    site_start(&b);
    cr_assert_eq(leases(&a, 0, 45), 40);
    cr_assert_eq(leases(&b, 0, 35), 30);
    it_use_url(a.http);
    {
        it_response g;
        it_postf("/v1/get_key", a.customer, &g, "{\"product\":\"cad\",\"client_id\":\"k\"}");
        cr_assert_eq(g.status, 403, "%s", g.body); /* a concurrent pack: leases only */
        it_response_free(&g);
    }

    /* A raise to 50: a new file with a higher sequence; the free pool is 20. */
    vpid = vendor_start(vendor_url, sizeof vendor_url);
    a2 = allocate(vendor, "site-a", 50, 200);
    it_expect(&r, 200, "GET", "/v1/packs/split", vendor, NULL);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "assigned")->valueint, 80, "20 in the free pool");
    it_response_free(&r);
    track(vpid, 0);
    cr_assert_eq(it_stop_licd(vpid), 0);
    snprintf(path, sizeof path, "%s/a2.alloc", dir);
    write_file(path, a2);
    cr_assert_eq(site_import(&a, path, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, "", "only the first import prints the customer");
    free(out);
    free(err);
    {
        /* The serving process sees it within a second. */
        int got = 0;
        for (int i = 0; i < 20 && got == 0; i++) {
            got = leases(&a, 100, 101);
            if (!got)
                usleep(100 * 1000);
        }
        cr_assert_eq(got, 1, "the raise did not reach the serving site");
        cr_assert_eq(leases(&a, 101, 115), 9);
    }

    /* The old file again, an edited one, one signed by another key, an expired one. */
    snprintf(path, sizeof path, "%s/a1.alloc", dir);
    cr_assert_neq(site_import(&a, path, &out, &err), 0);
    cr_assert(strstr(err, "sequence"), "%s", err);
    free(out);
    free(err);
    cr_assert_neq(site_import(&a, path, &out, &err), 0); /* refused again, same reason */
    free(out);
    free(err);
    {
        char *bad = edited(a2);
        snprintf(path, sizeof path, "%s/edited.alloc", dir);
        write_file(path, bad);
        free(bad);
        cr_assert_neq(site_import(&a, path, &out, &err), 0);
        cr_assert(strstr(err, "not signed"), "%s", err);
        free(out);
        free(err);
    }
    {
        cJSON *claims = it_verify_jwt_with(a2, vendor_jwks);
        char other[300], *forged;
        snprintf(other, sizeof other, "%s/other.pem", dir);
        cr_assert_eq(it_sh(it_fmt("%s keygen --out '%s' >/dev/null", it_env("LICD_BIN"), other),
                           NULL),
                     0);
        cJSON_ReplaceItemInObject(claims, "seq", cJSON_CreateNumber(99));
        cJSON_ReplaceItemInObject(claims, "qty", cJSON_CreateNumber(100));
        forged = sign_with(other, claims);
        snprintf(path, sizeof path, "%s/forged.alloc", dir);
        write_file(path, forged);
        free(forged);
        cr_assert_neq(site_import(&a, path, &out, &err), 0);
        cr_assert(strstr(err, "not signed"), "%s", err);
        free(out);
        free(err);
        /* Signed by the vendor's own key, but expired. */
        cJSON_ReplaceItemInObject(claims, "exp", cJSON_CreateNumber((double)time(NULL) - 60));
        forged = sign_with(it_env("LICD_SIGNING_KEY"), claims);
        snprintf(path, sizeof path, "%s/expired.alloc", dir);
        write_file(path, forged);
        free(forged);
        cr_assert_neq(site_import(&a, path, &out, &err), 0);
        cr_assert(strstr(err, "expired"), "%s", err);
        free(out);
        free(err);
        cJSON_Delete(claims);
    }
    cr_assert_eq(leases(&a, 200, 205), 0, "a refused file changed the site");

    /* Usage settled back: three reports of site A, imported in their order. */
    {
        char *jwks = NULL, *rep[4] = {0}, rpath[400];
        cr_assert_eq(it_sh(it_fmt("%s %s jwks", a.env, it_env("LICD_BIN")), &jwks), 0);
        /* A period ends at the last whole second: past it, report 1 holds every
         * grant and refusal so far. */
        usleep(1100 * 1000);
        for (int i = 1; i <= 3; i++) {
            snprintf(rpath, sizeof rpath, "%s/report-%d.jws", dir, i);
            cr_assert_eq(it_sh(it_fmt("%s %s export-usage --out '%s' 2>&1", a.env,
                                      it_env("LICD_BIN"), rpath),
                               &out),
                         0, "%s", out);
            free(out);
            rep[i] = read_report(rpath);
        }
        {
            cJSON *c1 = it_verify_jwt_with(rep[1], jwks), *c2 = it_verify_jwt_with(rep[2], jwks);
            cr_assert_str_eq(it_member_str(c1, "typ"), "usage_report");
            cr_assert_str_eq(it_member_str(c1, "site"), "site-a");
            cr_assert_str_eq(it_member_str(c1, "prev"), "");
            cr_assert_eq(cJSON_GetObjectItem(c1, "seq")->valueint, 1);
            cJSON *c3 = it_verify_jwt_with(rep[3], jwks);
            cr_assert_eq(cJSON_GetObjectItem(c1, "grants")->valueint, 50);
            cr_assert_geq(cJSON_GetObjectItem(c1, "denials")->valueint, 15);
            /* Each grant is in one report of the chain. */
            cr_assert_eq(cJSON_GetObjectItem(c1, "grants")->valueint +
                             cJSON_GetObjectItem(c2, "grants")->valueint +
                             cJSON_GetObjectItem(c3, "grants")->valueint,
                         50);
            cr_assert_geq(cJSON_GetObjectItem(c1, "denials")->valueint +
                              cJSON_GetObjectItem(c2, "denials")->valueint +
                              cJSON_GetObjectItem(c3, "denials")->valueint,
                          15);
            cr_assert_eq(cJSON_GetObjectItem(c3, "from")->valueint,
                         cJSON_GetObjectItem(c2, "to")->valueint);
            cJSON_Delete(c3);
            cr_assert_eq(cJSON_GetObjectItem(c1, "peak_in_use")->valueint, 50);
            cr_assert_eq(cJSON_GetObjectItem(c2, "seq")->valueint, 2);
            cr_assert_str_neq(it_member_str(c2, "prev"), "");
            cr_assert_eq(cJSON_GetObjectItem(c2, "from")->valueint,
                         cJSON_GetObjectItem(c1, "to")->valueint);
            cJSON_Delete(c1);
            cJSON_Delete(c2);
        }
        vpid = vendor_start(vendor_url, sizeof vendor_url);
        /* Before the keys are registered, no report is taken. */
        post_report(vendor, "site-a", rep[1], 400, "invalid_report", "no keys yet");
        /* licctl admin registers the keys (site-a exists: 200). */
        snprintf(rpath, sizeof rpath, "%s/site-a-jwks.json", dir);
        write_file(rpath, jwks);
        cr_assert_eq(it_sh(it_fmt("%s admin site keys site-a --file '%s' --url %s --vendor-key %s 2>&1",
                                  it_env("LICD_LICCTL"), rpath, vendor_url, vendor),
                           &out),
                     0, "%s", out);
        free(out);
        post_report(vendor, "site-a", rep[2], 409, "report_out_of_order", "a gap");
        post_report(vendor, "site-a", rep[1], 202, NULL, "the first");
        post_report(vendor, "site-a", rep[1], 409, "report_out_of_order", "a replay");
        {
            char *bad = edited(rep[2]);
            post_report(vendor, "site-a", bad, 400, "invalid_report", "an edit");
            free(bad);
        }
        post_report(vendor, "site-b", rep[2], 400, "invalid_report", "another site's report");
        post_report(vendor, "site-zz", rep[2], 400, "invalid_report", "an unknown site");
        post_report(vendor, "site-a", rep[2], 202, NULL, "the second");
        /* The third through licctl admin; again, it is a replay (exit 20). */
        snprintf(rpath, sizeof rpath, "%s/report-3.jws", dir);
        cr_assert_eq(it_sh(it_fmt("%s admin site report site-a --file '%s' --json --url %s "
                                  "--vendor-key %s 2>&1",
                                  it_env("LICD_LICCTL"), rpath, vendor_url, vendor),
                           &out),
                     0, "%s", out);
        cr_assert(strstr(out, "\"seq\":3"), "%s", out);
        free(out);
        cr_assert_eq(it_sh(it_fmt("%s admin site report site-a --file '%s' --url %s "
                                  "--vendor-key %s 2>&1",
                                  it_env("LICD_LICCTL"), rpath, vendor_url, vendor),
                           &out),
                     20, "%s", out);
        cr_assert(strstr(out, "report_out_of_order"), "%s", out);
        free(out);
        post_report(vendor, "site-a", rep[2], 409, "report_out_of_order", "a replay");
        {
            char *other = it_new_vendor("Other Vendor");
            post_report(other, "site-a", rep[3], 400, "invalid_report", "another vendor's site");
            it_json_problem("GET", "/v1/sites/site-a", other, NULL, 404, "not_found");
            free(other);
        }
        {
            const char *h[] = {"Content-Type: application/json",
                               it_fmt("Authorization: Bearer %s", vendor), NULL};
            it_request("POST", "/v1/sites/site-a/reports", h, rep[3], strlen(rep[3]), &r);
            it_assert_problem(&r, 415, "unsupported_media_type");
            it_response_free(&r);
            it_request("POST", "/v1/sites/site-a/reports", NULL, rep[3], strlen(rep[3]), &r);
            it_assert_problem(&r, 401, "unauthorized");
            it_response_free(&r);
        }
        /* No report at all: an empty body, or white space only. */
        post_report(vendor, "site-a", "", 400, "invalid_report", "an empty body");
        post_report(vendor, "site-a", " \r\n", 400, "invalid_report", "white space");
        post_report(vendor, "bad%20id", rep[3], 404, "not_found", "a malformed site id");
        /* None of the refusals moved the chain: report 3 is still the last. */
        it_expect(&r, 200, "GET", "/v1/sites/site-a", vendor, NULL);
        {
            const cJSON *last = cJSON_GetObjectItem(r.json, "last_report");
            const cJSON *al = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "allocations"), 0);
            cr_assert_eq(cJSON_GetObjectItem(last, "seq")->valueint, 3);
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(last, "to")));
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(last, "peak_in_use")));
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(last, "denials")));
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(last, "grants")));
            cr_assert_eq(cJSON_GetObjectItem(al, "quantity")->valueint, 50);
            cr_assert_eq(cJSON_GetObjectItem(al, "sequence")->valueint, 2);
        }
        it_response_free(&r);
        track(vpid, 0);
    cr_assert_eq(it_stop_licd(vpid), 0);
        for (int i = 1; i <= 3; i++)
            free(rep[i]);
        free(jwks);
    }

    site_stop(&a);
    site_stop(&b);
    site_drop(&a);
    site_drop(&b);
    free(a1);
    free(a2);
    free(b1);
    free(vendor);
    free(vendor_jwks);
    it_rmdir(dir);
}
