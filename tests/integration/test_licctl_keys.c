/* licctl get-key, activate and upgrade end to end: the real command
 * (LICD_LICCTL) against the real licd, its answers checked with libjwt
 * against the JWKS and with the vendor API. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* One vendor and customer per test (tests run in parallel), a folder, and
 * the last licctl run's output. */
struct world {
    char *vendor;
    char customer_id[37], customer[80];
    char *dir;
    char *out, *err;
    cJSON *json; /* stdout parsed, when it was JSON */
};

static void world_init(struct world *w, const char *product_extra)
{
    memset(w, 0, sizeof *w);
    w->vendor = it_new_vendor("Licctl Keys Vendor");
    it_new_customer(w->vendor, "Licctl Keys Customer", w->customer_id, w->customer);
    it_created("/v1/products", w->vendor,
               "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\",\"features\":[\"a\"]%s}",
               product_extra ? product_extra : "");
    w->dir = it_tmpdir();
}

static void world_free(struct world *w)
{
    free(w->vendor);
    free(w->out);
    free(w->err);
    cJSON_Delete(w->json);
    it_rmdir(w->dir);
}

static void add_pack(struct world *w, const char *pack_id, const char *version, const char *type,
                     int quantity, int begin_serial)
{
    it_created("/v1/packs", w->vendor,
               "{\"pack_id\":\"%s\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"%s\","
               "\"type\":\"%s\",\"quantity\":%d,\"begin_serial\":%d}",
               pack_id, w->customer_id, version, type, quantity, begin_serial);
}

/* Runs licctl with args, without LICD_URL and LICD_CUSTOMER_KEY in its
 * environment; keeps stdout, stderr and stdout as JSON; returns the exit
 * status. A sanitizer report fails the test. */
static int licctl(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int licctl(struct world *w, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    int status;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "env -u LICD_URL -u LICD_CUSTOMER_KEY '%s' %s 2>'%s/stderr' </dev/null",
             it_env("LICD_LICCTL"), args, w->dir);
    free(w->out);
    free(w->err);
    cJSON_Delete(w->json);
    status = it_sh(cmd, &w->out);
    snprintf(cmd, sizeof cmd, "cat '%s/stderr'", w->dir);
    it_sh(cmd, &w->err);
    w->json = cJSON_Parse(w->out);
    cr_assert(!strstr(w->err, "Sanitizer") && !strstr(w->err, "runtime error"), "licctl: %s", w->err);
    return status;
}

/* licctl get-key --json for client, with extra options. */
static int get_key(struct world *w, const char *client, const char *extra)
{
    return licctl(w, "get-key --url '%s' --customer-key '%s' --product app --client '%s' --json %s", it_url(),
                  w->customer, client, extra ? extra : "");
}

static const char *out_str(const struct world *w, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w->json, name);
    cr_assert(cJSON_IsString(v), "%s missing from licctl's output: %s (stderr: %s)", name, w->out, w->err);
    return v->valuestring;
}

static int out_bool(const struct world *w, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w->json, name);
    cr_assert(cJSON_IsBool(v), "%s missing from licctl's output: %s", name, w->out);
    return cJSON_IsTrue(v);
}

static void assert_refused(const struct world *w, const char *code)
{
    cr_assert(strstr(w->err, code), "expected %s: stderr %s", code, w->err);
    cr_assert_str_eq(w->out, "", "nothing on stdout for a refusal");
}

Test(licctl_get_key, permanent_temporary_blocked_and_no_pack)
{
    struct world w;
    it_response r;
    cJSON *claims;

    world_init(&w, NULL);
    add_pack(&w, "p-one", "1", "per_device", 1, 500);

    cr_assert_eq(get_key(&w, "ws-1", NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "license_id"), "500");
    cr_assert_str_eq(out_str(&w, "pack_id"), "p-one");
    cr_assert(!out_bool(&w, "temporary"));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(w.json, "expires_at")), "a pack without expiry: %s", w.out);
    cr_assert_eq(cJSON_GetArraySize(w.json), 5, "exactly five fields: %s", w.out);
    claims = it_verify_jwt(out_str(&w, "license"));
    cr_assert_str_eq(it_member_str(claims, "lid"), "500");
    cr_assert_str_eq(it_member_str(claims, "cid"), "ws-1");
    cJSON_Delete(claims);
    /* Asked again: the same licence (recovered), in human lines. */
    cr_assert_eq(licctl(&w, "get-key --url '%s' --customer-key '%s' --product app --client ws-1", it_url(),
                        w.customer),
                 0, "stderr: %s", w.err);
    cr_assert(strstr(w.out, "license_id: 500\n") && strstr(w.out, "temporary: no\n") &&
                  !strstr(w.out, "license:"),
              "stdout: %s", w.out);

    /* LICD_URL and LICD_CUSTOMER_KEY stand in for --url and --customer-key. */
    {
        char cmd[1024], *out;
        snprintf(cmd, sizeof cmd, "LICD_URL='%s' LICD_CUSTOMER_KEY='%s' '%s' get-key --product app --client ws-1 --json",
                 it_url(), w.customer, it_env("LICD_LICCTL"));
        cr_assert_eq(it_sh(cmd, &out), 0, "%s", out);
        cr_assert(strstr(out, "\"license_id\":\"500\""), "%s", out);
        free(out);
    }

    /* No seat left: a temporary licence, exit 10. */
    cr_assert_eq(get_key(&w, "ws-2", NULL), 10, "stderr: %s", w.err);
    cr_assert(out_bool(&w, "temporary"));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(w.json, "pack_id")), "%s", w.out);
    cr_assert_eq(out_str(&w, "license_id")[0], 'T');
    cr_assert_eq(strlen(out_str(&w, "expires_at")), 20, "RFC 3339 UTC: %s", w.out);

    /* Blocked: refused, exit 20. */
    it_json("POST", "/v1/licenses/500/block", w.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    cr_assert_eq(get_key(&w, "ws-1", NULL), 20, "stdout: %s", w.out);
    assert_refused(&w, "license_blocked");

    cr_assert_eq(licctl(&w, "get-key --url '%s' --customer-key '%s' --product nosuch --client ws-1", it_url(),
                        w.customer),
                 20, "stdout: %s", w.out);
    assert_refused(&w, "no_matching_pack");
    world_free(&w);
}

Test(licctl_get_key, an_expired_temporary_licence_is_exit_20)
{
    struct world w;
    char sql[512];

    world_init(&w, NULL);
    add_pack(&w, "p-full", "1", "per_device", 1, 10);
    cr_assert_eq(get_key(&w, "owner", NULL), 0, "stderr: %s", w.err);
    cr_assert_eq(get_key(&w, "visitor", NULL), 10, "stderr: %s", w.err);
    /* Let the temporary licence run out without waiting 60 days. */
    snprintf(sql, sizeof sql,
             "UPDATE assignments SET expires_at = now() - interval '1 second'"
             " WHERE customer_id = '%s' AND client_id = 'visitor'",
             w.customer_id);
    cr_assert_eq(it_sql(sql, NULL), 0);
    cr_assert_eq(get_key(&w, "visitor", NULL), 20, "stdout: %s", w.out);
    assert_refused(&w, "temporary_license_expired");
    world_free(&w);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(licctl_get_key, the_platform_challenge_is_met_with_the_image)
{
    static const unsigned char image[] = "MZ\x90\x00 app 1.0 for windows, as shipped";
    static const unsigned char other[] = "MZ\x90\x00 a patched build";
    unsigned char b64[256];
    char path[700], wrong[700], extra[1600];
    struct world w;
    cJSON *claims;

    world_init(&w, ",\"require_challenge\":true");
    add_pack(&w, "p-c", "1", "per_device", 5, 1);
    EVP_EncodeBlock(b64, image, sizeof image - 1);
    it_created("/v1/client-images", w.vendor,
               "{\"software_id\":\"app-1.0-win\",\"platform\":\"windows\",\"image_b64\":\"%s\"}", b64);
    snprintf(path, sizeof path, "%s/app.exe", w.dir);
    write_file(path, image, sizeof image - 1);
    snprintf(wrong, sizeof wrong, "%s/patched.exe", w.dir);
    write_file(wrong, other, sizeof other - 1);

    /* Without the image, the challenge cannot be met. */
    cr_assert_eq(get_key(&w, "box", NULL), 20, "stdout: %s", w.out);
    assert_refused(&w, "challenge_required");
    /* Another build's image gives another response. */
    snprintf(extra, sizeof extra, "--image '%s' --software-id app-1.0-win", wrong);
    cr_assert_eq(get_key(&w, "box", extra), 20, "stdout: %s", w.out);
    assert_refused(&w, "challenge_failed");

    snprintf(extra, sizeof extra, "--image '%s' --software-id app-1.0-win", path);
    cr_assert_eq(get_key(&w, "box", extra), 0, "stderr: %s", w.err);
    claims = it_verify_jwt(out_str(&w, "license"));
    cr_assert_str_eq(it_member_str(claims, "platform"), "windows", "the image's platform");
    cr_assert_str_eq(it_member_str(claims, "cid"), "box");
    cJSON_Delete(claims);

    /* --image without --software-id, or an image that is not there. */
    snprintf(extra, sizeof extra, "--image '%s'", path);
    cr_assert_eq(get_key(&w, "box", extra), 1);
    snprintf(extra, sizeof extra, "--image '%s/missing' --software-id app-1.0-win", w.dir);
    cr_assert_eq(get_key(&w, "box2", extra), 1, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "missing"), "stderr: %s", w.err);
    world_free(&w);
}

/* ---- licctl activate ---- */

static void new_group_key(struct world *w, char key[80])
{
    it_response r;
    it_postf("/v1/group-keys", w->vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"app\"],"
             "\"quota_per_node\":{\"app\":3},\"link\":{\"type\":\"ip_range\",\"value\":\"127.0.0.0/8\"}}",
             w->customer_id);
    cr_assert_eq(r.status, 201, "create group key: %s", r.body);
    snprintf(key, 80, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
}

static int activate(struct world *w, const char *key, const char *node, const char *cache, const char *extra)
{
    return licctl(w,
                  "activate --url '%s' --group-key '%s' --scheme hosting --product app --app shop "
                  "--node %s --cache-dir '%s' --json %s",
                  it_url(), key, node, cache, extra ? extra : "");
}

/* The update-password files in a cache folder, into *files (free it). */
static void password_files(const char *cache, char **files)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "cd '%s' && ls update-password-* 2>/dev/null", cache);
    it_sh(cmd, files);
}

static int mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
    return (int)(st.st_mode & 07777);
}

Test(licctl_activate, the_update_password_is_kept_and_a_copy_is_flagged)
{
    struct world w;
    char key[80], cache[700], copy[700], cmd[1600], file[800], first_id[32], *files, *before, *after;
    cJSON *items, *item, *ev;

    world_init(&w, NULL);
    new_group_key(&w, key);
    snprintf(cache, sizeof cache, "%s/cache/licd", w.dir);
    snprintf(copy, sizeof copy, "%s/copy", w.dir);

    /* First run: nothing to present; the password is kept, privately. */
    cr_assert_eq(activate(&w, key, "n1", cache, NULL), 0, "stderr: %s", w.err);
    cr_assert(!out_bool(&w, "presented"));
    cr_assert_str_eq(out_str(&w, "app_id"), "shop");
    cr_assert_str_eq(out_str(&w, "node_id"), "n1");
    cr_assert_eq(out_str(&w, "license_id")[0], 'G');
    snprintf(first_id, sizeof first_id, "%s", out_str(&w, "license_id"));
    cr_assert(!strstr(w.out, key), "the group key is never printed");
    cJSON_Delete(it_verify_jwt(out_str(&w, "license")));
    password_files(cache, &files);
    cr_assert_eq(strchr(files, '\n') - files, (long)strlen(files) - 1, "one file: %s", files);
    cr_assert(!strstr(files, key), "the key is not in the name: %s", files);
    files[strcspn(files, "\n")] = '\0';
    snprintf(file, sizeof file, "%s/%s", cache, files);
    cr_assert_eq(mode_of(cache), 0700);
    cr_assert_eq(mode_of(file), 0600);
    snprintf(cmd, sizeof cmd, "cat '%s'", file);
    it_sh(cmd, &before);
    cr_assert_eq(strlen(before), 54, "STATIC-DYNAMIC and a line end: %s", before);
    /* The application copied with its state, as it is now. */
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", cache, copy);
    cr_assert_eq(it_sh(cmd, NULL), 0);

    /* Second run: the kept password is presented (used) and replaced. */
    cr_assert_eq(activate(&w, key, "n1", cache, NULL), 0, "stderr: %s", w.err);
    cr_assert(out_bool(&w, "presented"));
    cr_assert_str_eq(out_str(&w, "license_id"), first_id);
    snprintf(cmd, sizeof cmd, "cat '%s'", file);
    it_sh(cmd, &after);
    cr_assert_str_neq(before, after);
    cr_assert_eq(strncmp(before, after, 27), 0, "the same static part: %s %s", before, after);
    items = it_items("/v1/update-passwords?status=used", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cJSON_Delete(items);
    items = it_items("/v1/update-passwords?status=cloned", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);

    /* The copy, on another node, presents the password the original already
     * presented: still activated, and flagged for moderation. */
    cr_assert_eq(activate(&w, key, "n2", copy, "--container copy"), 0, "stderr: %s", w.err);
    cr_assert(out_bool(&w, "presented"));
    cr_assert_str_eq(out_str(&w, "node_id"), "n2");
    items = it_items("/v1/update-passwords?status=cloned", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1, "one item cloned");
    item = cJSON_GetArrayItem(items, 0);
    cr_assert_str_eq(it_member_str(item, "node_id"), "n1");
    cr_assert_str_eq(it_member_str(item, "app_id"), "shop");
    cr_assert_eq(strncmp(it_member_str(item, "static"), before, 26), 0);
    ev = cJSON_GetArrayItem(cJSON_GetObjectItem(item, "evidence"), 1);
    cr_assert_str_eq(it_member_str(ev, "kind"), "clone");
    cr_assert_str_eq(it_member_str(ev, "node_id"), "n2");
    cr_assert_str_eq(it_member_str(ev, "container_id"), "copy");
    cJSON_Delete(items);
    /* The copy now keeps its own node's password; the spent one is gone. */
    free(files);
    password_files(copy, &files);
    cr_assert_eq(strchr(files, '\n') - files, (long)strlen(files) - 1, "one file: %s", files);
    cr_assert(!strstr(files, strrchr(file, '/') + 1), "the n1 file was removed: %s", files);

    /* The original is unaffected: its next run presents its own password. */
    cr_assert_eq(activate(&w, key, "n1", cache, NULL), 0, "stderr: %s", w.err);
    items = it_items("/v1/update-passwords?status=cloned", w.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cJSON_Delete(items);
    free(files);
    free(before);
    free(after);
    world_free(&w);
}

Test(licctl_activate, refusals_are_exit_20)
{
    struct world w;
    char key[80], cache[700];

    world_init(&w, NULL);
    new_group_key(&w, key);
    snprintf(cache, sizeof cache, "%s/cache", w.dir);
    cr_assert_eq(licctl(&w,
                        "activate --url '%s' --group-key '%s' --scheme other --product app --app shop "
                        "--cache-dir '%s'",
                        it_url(), key, cache),
                 20, "stdout: %s", w.out);
    assert_refused(&w, "scheme_mismatch");
    cr_assert_eq(activate(&w, "lg_0000000000000000000000000000000000000000000000000000000000000000", "n1",
                          cache, NULL),
                 20, "stdout: %s", w.out);
    assert_refused(&w, "unknown_group_key");
    {
        /* the link looks at the address the request came from (127.0.0.1),
         * not at --ip, which licd keeps as evidence only */
        it_response r;
        char far[80];
        it_postf("/v1/group-keys", w.vendor, &r,
                 "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"app\"],"
                 "\"quota_per_node\":{\"app\":3},\"link\":{\"type\":\"ip_range\","
                 "\"value\":\"10.0.0.0/8\"}}",
                 w.customer_id);
        cr_assert_eq(r.status, 201, "create group key: %s", r.body);
        snprintf(far, sizeof far, "%s", it_str(&r, "group_key"));
        it_response_free(&r);
        cr_assert_eq(activate(&w, far, "n1", cache, "--ip 10.1.2.3"), 20, "stdout: %s", w.out);
        assert_refused(&w, "link_mismatch");
    }
    /* Human lines; no node given is licd's node "default". */
    cr_assert_eq(licctl(&w,
                        "activate --url '%s' --group-key '%s' --scheme hosting --product app --app shop "
                        "--cache-dir '%s'",
                        it_url(), key, cache),
                 0, "stderr: %s", w.err);
    cr_assert(strstr(w.out, "node_id: default\n") && strstr(w.out, "presented: no\n"), "stdout: %s", w.out);
    world_free(&w);
}

/* ---- licctl upgrade ---- */

Test(licctl_upgrade, check_then_upgrade)
{
    struct world w;
    char file[700], license[4096];
    cJSON *claims;

    world_init(&w, NULL);
    add_pack(&w, "p-v1", "1", "per_device", 2, 100);
    add_pack(&w, "p-up", "2", "upgrade", 1, 200);
    it_created("/v1/products/app/upgrade-paths", w.vendor, "{\"from_version\":\"1\",\"to_version\":\"2\"}");

    /* The file get-key --json printed serves as the licence. */
    snprintf(file, sizeof file, "%s/licence.json", w.dir);
    cr_assert_eq(licctl(&w, "get-key --url '%s' --customer-key '%s' --product app --client ws-1 --json >'%s'",
                        it_url(), w.customer, file),
                 0, "stderr: %s", w.err);
    cr_assert_eq(get_key(&w, "ws-2", NULL), 0, "stderr: %s", w.err);
    snprintf(license, sizeof license, "%s", out_str(&w, "license"));

    cr_assert_eq(licctl(&w, "upgrade --url '%s' --customer-key '%s' --license-file '%s' --target 2 --check --json",
                        it_url(), w.customer, file),
                 0, "stderr: %s", w.err);
    cr_assert(out_bool(&w, "available") && out_bool(&w, "supported"), "%s", w.out);
    cr_assert_str_eq(out_str(&w, "from_version"), "1");
    cr_assert_eq(licctl(&w, "upgrade --url '%s' --customer-key '%s' --license-file '%s' --target 3 --check --json",
                        it_url(), w.customer, file),
                 20, "stderr: %s", w.err);
    cr_assert(!out_bool(&w, "supported") && !out_bool(&w, "available"), "%s", w.out);

    cr_assert_eq(licctl(&w, "upgrade --url '%s' --customer-key '%s' --license-file '%s' --target 2 --json",
                        it_url(), w.customer, file),
                 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "license_id"), "200");
    cr_assert_str_eq(out_str(&w, "version"), "2");
    claims = it_verify_jwt(out_str(&w, "license"));
    cr_assert_str_eq(it_member_str(claims, "pver"), "2");
    cr_assert_str_eq(it_member_str(claims, "cid"), "ws-1");
    cJSON_Delete(claims);

    /* The only upgrade seat is taken: the other licence has none. */
    cr_assert_eq(licctl(&w, "upgrade --url '%s' --customer-key '%s' --license '%s' --target 2 --check", it_url(),
                        w.customer, license),
                 20, "stderr: %s", w.err);
    cr_assert(strstr(w.out, "available: no\n") && strstr(w.out, "reason: no_upgrade_seat\n"), "%s", w.out);
    cr_assert_eq(licctl(&w, "upgrade --url '%s' --customer-key '%s' --license '%s' --target 2", it_url(),
                        w.customer, license),
                 20, "stdout: %s", w.out);
    assert_refused(&w, "no_upgrade_available");
    world_free(&w);
}

Test(licctl_keys, arguments_and_help)
{
    static const char *const bad[] = {
        "get-key --url http://127.0.0.1:1 --customer-key k --client c",                 /* no --product */
        "get-key --url http://127.0.0.1:1 --customer-key k --product p",                /* no --client */
        "get-key --customer-key k --product p --client c",                              /* no URL */
        "get-key --url http://127.0.0.1:1 --product p --client c",                      /* no key */
        "get-key --url http://127.0.0.1:1 --customer-key k --product p --client c x",   /* extra */
        "get-key --url http://127.0.0.1:1 --customer-key k --product p --client c",     /* unreachable */
        "activate --url http://127.0.0.1:1 --scheme s --product p --app a",             /* no key */
        "activate --url http://127.0.0.1:1 --group-key k --scheme s --product p",       /* no --app */
        "upgrade --url http://127.0.0.1:1 --customer-key k --target 2",                 /* no licence */
        "upgrade --url http://127.0.0.1:1 --customer-key k --license x --license-file y --target 2",
        "upgrade --url http://127.0.0.1:1 --customer-key k --license x",                /* no --target */
        "upgrade --url http://127.0.0.1:1 --customer-key k --license-file /nonexistent --target 2",
    };
    static const char *const help[][2] = {
        {"get-key", "--software-id"}, {"activate", "--cache-dir"}, {"upgrade", "--check"}};
    struct world w;

    memset(&w, 0, sizeof w);
    w.dir = it_tmpdir();
    setenv("XDG_CACHE_HOME", w.dir, 1); /* never the real ~/.cache */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(licctl(&w, "%s", bad[i]), 1, "exit status of: licctl %s", bad[i]);
        cr_assert(strncmp(w.err, "licctl: ", 8) == 0, "licctl %s: %s", bad[i], w.err);
        cr_assert_str_eq(w.out, "", "licctl %s printed on stdout", bad[i]);
    }
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
        cr_assert_eq(licctl(&w, "%s --help", help[i][0]), 0);
        cr_assert(strstr(w.out, "usage: licctl ") && strstr(w.out, help[i][1]) && strstr(w.out, "Exit status"),
                  "%s", w.out);
    }
    cr_assert_eq(licctl(&w, "--help"), 0);
    cr_assert(strstr(w.out, "10 a temporary one"), "licctl --help documents the exit codes: %s", w.out);
    world_free(&w);
}
