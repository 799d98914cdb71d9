/* licctl token end to end: the real command (LICD_LICCTL) against the real
 * licd, with its cache on disk: issued, cached, renewed, refused, offline,
 * and tokens it must not trust. */
#include <criterion/criterion.h>
#include <jwt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "harness.h"
#include "util/base64.h"

#define PASSWORD "correct horse 8"

/* One vendor, customer and product per test (tests run in parallel), a
 * folder for the cache, and the licd the test talks to. */
struct world {
    char *vendor;
    char customer_id[37], customer[80];
    char *dir;
    char cache[600];
    char url[128];
    char *out;  /* last run's stdout */
    char *err;  /* and stderr */
    cJSON *json; /* stdout parsed, when it was JSON */
};

static void world_init(struct world *w)
{
    it_response r;
    memset(w, 0, sizeof *w);
    w->vendor = it_new_vendor("Licctl Vendor");
    it_new_customer(w->vendor, "Licctl Customer", w->customer_id, w->customer);
    it_postf("/v1/products", w->vendor, &r,
             "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\",\"features\":[\"a\",\"b\"]}");
    cr_assert_eq(r.status, 201, "create product: %s", r.body);
    it_response_free(&r);
    w->dir = it_tmpdir();
    snprintf(w->cache, sizeof w->cache, "%s/cache/licd", w->dir);
    snprintf(w->url, sizeof w->url, "%s", it_url());
}

static void world_free(struct world *w)
{
    free(w->vendor);
    free(w->out);
    free(w->err);
    cJSON_Delete(w->json);
    it_rmdir(w->dir);
}

/* A user of the customer entitled to "app" in state with named features. */
static void add_user(struct world *w, const char *user, const char *state, const char *features,
                     int max_machines)
{
    it_response r;
    char path[256], body[512];
    it_postf("/v1/users", w->vendor, &r, "{\"customer_id\":\"%s\",\"username\":\"%s\",\"password\":\"%s\"}",
             w->customer_id, user, PASSWORD);
    cr_assert_eq(r.status, 201, "create user: %s", r.body);
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/users/%s/entitlements/app?customer_id=%s", user, w->customer_id);
    snprintf(body, sizeof body, "{\"state\":\"%s\",\"features\":%s,\"max_machines\":%d}", state,
             features, max_machines);
    it_json("PUT", path, w->vendor, body, &r);
    cr_assert_eq(r.status, 200, "entitlement: %s", r.body);
    it_response_free(&r);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    cr_assert(f && buf, "cannot read %s", path);
    cr_assert(fread(buf, 1, 65535, f) < 65535, "%s is too long", path);
    fclose(f);
    return buf;
}

/* Runs licctl with args (after the command name) and env (NAME=VALUE
 * words, or NULL) on top of an environment without LICD_URL and
 * LICD_CUSTOMER_KEY; password (when not NULL) is its standard input. Keeps
 * stdout, stderr and stdout as JSON in w; returns the exit status. A
 * sanitizer report fails the test. */
static int run(struct world *w, const char *env, const char *password, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int run(struct world *w, const char *env, const char *password, const char *fmt, ...)
{
    char args[2048], cmd[4096], errpath[700];
    va_list ap;
    int status;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errpath, sizeof errpath, "%s/stderr", w->dir);
    snprintf(cmd, sizeof cmd, "%s%s%senv -u LICD_URL -u LICD_CUSTOMER_KEY %s '%s' %s 2>'%s'%s",
             password ? "printf '%s\\n' '" : "", password ? password : "", password ? "' | " : "",
             env ? env : "", it_env("LICD_LICCTL"), args, errpath, password ? "" : " </dev/null");
    free(w->out);
    free(w->err);
    cJSON_Delete(w->json);
    status = it_sh(cmd, &w->out);
    w->err = slurp(errpath);
    w->json = cJSON_Parse(w->out);
    cr_assert(!strstr(w->err, "Sanitizer") && !strstr(w->err, "runtime error"), "licctl: %s", w->err);
    return status;
}

/* `licctl token` for user on machine against url, in the world's cache. */
static int token(struct world *w, const char *url, const char *user, const char *machine,
                 const char *password, const char *extra)
{
    return run(w, NULL, password,
               "token --url '%s' --customer-key '%s' --user '%s' --machine '%s' --product app "
               "--cache-dir '%s' --json%s%s",
               url, w->customer, user, machine, w->cache, password ? " --password-stdin" : "",
               extra ? extra : "");
}

static const char *out_str(const struct world *w, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w->json, name);
    cr_assert(cJSON_IsString(v), "%s missing from licctl's output: %s (stderr: %s)", name, w->out, w->err);
    return v->valuestring;
}

/* The features licctl printed for app, as JSON text. */
static char *out_features(const struct world *w)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(w->json, "features");
    cr_assert(cJSON_IsObject(f), "no features object: %s", w->out);
    return cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(f, "app"));
}

static void assert_features(const struct world *w, const char *expected)
{
    char *got = out_features(w);
    cr_assert_str_eq(got, expected, "features: %s", w->out);
    free(got);
}

/* Path of the one token file in the cache. */
static char *token_file(const struct world *w)
{
    char cmd[800], *out;
    snprintf(cmd, sizeof cmd, "ls '%s'/token-*.jwt", w->cache);
    cr_assert_eq(it_sh(cmd, &out), 0, "no token file in %s", w->cache);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static int mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
    return (int)(st.st_mode & 07777);
}

/* A licd of the test's own with extra settings (a short token life). */
static int own_licd(struct world *w, const char *const *env)
{
    char log[700];
    int port = it_free_port(), pid;
    snprintf(log, sizeof log, "%s/licd.log", w->dir);
    pid = it_start_licd(env, log, port);
    snprintf(w->url, sizeof w->url, "http://127.0.0.1:%d", port);
    return pid;
}

static const char *closed_url(void)
{
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", it_free_port());
    return url;
}

Test(licctl, issued_then_cached_then_offline)
{
    struct world w;
    char jwks[700], *file, *jwt;
    cJSON *claims;

    world_init(&w);
    add_user(&w, "alice", "valid", "[]", 5);

    cr_assert_eq(token(&w, w.url, "alice", "m-1", PASSWORD, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "issued");
    cr_assert_str_eq(out_str(&w, "license_state"), "valid");
    assert_features(&w, "[\"a\",\"b\"]");
    cr_assert_eq(strlen(out_str(&w, "expires_at")), 20, "RFC 3339 UTC: %s", w.out);
    cr_assert_eq(cJSON_GetArraySize(w.json), 4, "exactly four fields: %s", w.out);

    /* Private cache: folder 0700, files 0600; the token is licd's, for alice on m-1. */
    snprintf(jwks, sizeof jwks, "%s/jwks.json", w.cache);
    cr_assert_eq(mode_of(w.cache), 0700);
    cr_assert_eq(mode_of(jwks), 0600);
    file = token_file(&w);
    cr_assert_eq(mode_of(file), 0600);
    jwt = slurp(file);
    claims = it_verify_jwt(jwt);
    cr_assert_str_eq(cJSON_GetObjectItem(claims, "sub")->valuestring, "alice");
    cr_assert_str_eq(cJSON_GetObjectItem(claims, "mid")->valuestring, "m-1");
    cJSON_Delete(claims);

    cr_assert_eq(token(&w, w.url, "alice", "m-1", NULL, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "cache");
    assert_features(&w, "[\"a\",\"b\"]");

    /* licd unreachable: the cached token still verifies offline. */
    cr_assert_eq(token(&w, closed_url(), "alice", "m-1", NULL, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "cache");

    /* A JWKS without the token's kid (keys rotated): fetched again, the cache stays good. */
    write_file(jwks, "{\"keys\":[]}");
    cr_assert_eq(token(&w, w.url, "alice", "m-1", NULL, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "cache");
    free(jwt);
    jwt = slurp(jwks);
    cr_assert(strstr(jwt, "\"kid\""), "the JWKS was not fetched again: %s", jwt);

    /* Human output, and the environment standing in for --url and --customer-key. */
    cr_assert_eq(run(&w, NULL, NULL,
                     "token --url '%s' --customer-key '%s' --user alice --machine m-1 --product app "
                     "--cache-dir '%s'",
                     w.url, w.customer, w.cache),
                 0, "stderr: %s", w.err);
    cr_assert(strstr(w.out, "license state: valid") && strstr(w.out, "source:        cache") &&
              strstr(w.out, "app: a, b"), "output: %s", w.out);
    {
        char env[512];
        snprintf(env, sizeof env, "LICD_URL='%s' LICD_CUSTOMER_KEY='%s'", w.url, w.customer);
        cr_assert_eq(run(&w, env, NULL,
                         "token --user alice --machine m-1 --product app --cache-dir '%s' --json",
                         w.cache),
                     0, "stderr: %s", w.err);
        cr_assert_str_eq(out_str(&w, "source"), "cache");
    }
    free(jwt);
    free(file);
    world_free(&w);
}

Test(licctl, expired_token_is_renewed_without_password)
{
    struct world w;
    const char *env[] = {"LICD_TOKEN_TTL=2", NULL};
    char *before, *after, *file;
    int pid;

    world_init(&w);
    add_user(&w, "bob", "valid", "[]", 5);
    pid = own_licd(&w, env);
    cr_assert_eq(token(&w, w.url, "bob", "m-1", PASSWORD, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "issued");
    file = token_file(&w);
    before = slurp(file);
    sleep(3);

    /* Expired and licd unreachable: nothing usable. */
    cr_assert_eq(token(&w, closed_url(), "bob", "m-1", NULL, NULL), 1, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "licctl: "), "stderr: %s", w.err);

    cr_assert_eq(token(&w, w.url, "bob", "m-1", NULL, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "renewed");
    cr_assert_str_eq(out_str(&w, "license_state"), "valid");
    after = slurp(file);
    cr_assert_str_neq(before, after, "the renewed token did not replace the cached one");
    cr_assert_eq(mode_of(file), 0600);
    cr_assert_eq(it_stop_licd(pid), 0);
    free(before);
    free(after);
    free(file);
    world_free(&w);
}

Test(licctl, refused_renewal_needs_the_password)
{
    struct world w;
    const char *env[] = {"LICD_TOKEN_TTL=1", "LICD_RENEW_WINDOW=1", NULL};
    int pid;

    world_init(&w);
    add_user(&w, "carol", "valid", "[]", 5);
    pid = own_licd(&w, env);
    cr_assert_eq(token(&w, w.url, "carol", "m-1", PASSWORD, NULL), 0, "stderr: %s", w.err);
    sleep(3); /* expired longer ago than LICD_RENEW_WINDOW */

    cr_assert_eq(token(&w, w.url, "carol", "m-1", NULL, NULL), 20, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "renewal_refused"), "stderr: %s", w.err);
    cr_assert_eq(token(&w, w.url, "carol", "m-1", PASSWORD, NULL), 0, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "issued");
    cr_assert_eq(it_stop_licd(pid), 0);
    world_free(&w);
}

Test(licctl, states_map_to_exit_codes)
{
    struct world w;

    world_init(&w);
    add_user(&w, "dave", "intermediate", "[\"a\"]", 5);
    add_user(&w, "erin", "invalid", "[\"a\"]", 5);

    cr_assert_eq(token(&w, w.url, "dave", "m-1", PASSWORD, NULL), 10, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "license_state"), "intermediate");
    assert_features(&w, "[\"a\"]");
    cr_assert_eq(token(&w, w.url, "dave", "m-1", NULL, NULL), 10, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "source"), "cache");

    cr_assert_eq(token(&w, w.url, "erin", "m-1", PASSWORD, NULL), 20, "stderr: %s", w.err);
    cr_assert_str_eq(out_str(&w, "license_state"), "invalid");
    assert_features(&w, "[]");
    world_free(&w);
}

Test(licctl, refusals_are_no_access)
{
    struct world w;

    world_init(&w);
    add_user(&w, "frank", "valid", "[]", 1);

    cr_assert_eq(token(&w, w.url, "frank", "m-1", "wrong password", NULL), 20, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "licctl: ") && strstr(w.err, "invalid_credentials"), "stderr: %s", w.err);
    cr_assert_str_eq(w.out, "", "nothing on stdout for a refusal");

    /* No cached token and no password: nothing to renew, nobody to sign in. */
    cr_assert_eq(token(&w, w.url, "frank", "m-1", NULL, NULL), 20, "stdout: %s", w.out);

    cr_assert_eq(token(&w, w.url, "frank", "m-1", PASSWORD, NULL), 0, "stderr: %s", w.err);
    cr_assert_eq(token(&w, w.url, "frank", "m-2", PASSWORD, NULL), 20, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "machine_limit_reached"), "stderr: %s", w.err);
    world_free(&w);
}

/* libjwt 1.10 takes the algorithm from the token: a token MACed (HS256)
 * with the public key as secret, or unsigned, must not pass for cached. */
Test(licctl, forged_cached_tokens_are_not_trusted)
{
    static const jwt_alg_t algs[] = {JWT_ALG_HS256, JWT_ALG_NONE};
    struct world w;
    char cmd[700], *pem, *file, *jwt, *payload, *header;
    const char *dot1, *dot2;
    size_t len = 0;
    cJSON *h;

    world_init(&w);
    add_user(&w, "grace", "valid", "[]", 5);
    cr_assert_eq(token(&w, w.url, "grace", "m-1", PASSWORD, NULL), 0, "stderr: %s", w.err);
    file = token_file(&w);
    jwt = slurp(file);
    dot1 = strchr(jwt, '.');
    dot2 = strchr(dot1 + 1, '.');
    payload = (char *)b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &len);
    header = (char *)b64url_decode(jwt, (size_t)(dot1 - jwt), &len);
    cr_assert(payload && header && (h = cJSON_Parse(header)));
    /* The same PEM licd_client rebuilds from the JWKS. */
    snprintf(cmd, sizeof cmd, "openssl pkey -in '%s' -pubout", it_env("LICD_SIGNING_KEY"));
    cr_assert_eq(it_sh(cmd, &pem), 0);

    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        jwt_t *forged = NULL;
        char *text;
        cr_assert_eq(jwt_new(&forged), 0);
        cr_assert_eq(jwt_add_grants_json(forged, payload), 0);
        cr_assert_eq(jwt_add_header(forged, "kid", cJSON_GetObjectItem(h, "kid")->valuestring), 0);
        cr_assert_eq(jwt_set_alg(forged, algs[i], algs[i] == JWT_ALG_NONE ? NULL : (unsigned char *)pem,
                                 algs[i] == JWT_ALG_NONE ? 0 : (int)strlen(pem)), 0);
        text = jwt_encode_str(forged);
        cr_assert(text);
        write_file(file, text);
        /* Not accepted offline, so renewal is tried; licd refuses it too. */
        cr_assert_eq(token(&w, w.url, "grace", "m-1", NULL, NULL), 20, "%s accepted: %s",
                     jwt_alg_str(algs[i]), w.out);
        cr_assert(strstr(w.err, "renewal_refused"), "stderr: %s", w.err);
        free(text);
        jwt_free(forged);
    }
    /* A damaged file counts as no token: nothing to renew, so the password is asked for. */
    write_file(file, "not a token\n");
    cr_assert_eq(token(&w, w.url, "grace", "m-1", NULL, NULL), 20, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "password is needed"), "stderr: %s", w.err);
    cJSON_Delete(h);
    free(header);
    free(payload);
    free(pem);
    free(jwt);
    free(file);
    world_free(&w);
}

Test(licctl, unreachable_licd_without_cache_is_an_error)
{
    struct world w;
    world_init(&w);
    cr_assert_eq(token(&w, closed_url(), "nobody", "m-1", PASSWORD, NULL), 1, "stdout: %s", w.out);
    cr_assert(strstr(w.err, "licctl: "), "stderr: %s", w.err);
    world_free(&w);
}

Test(licctl, arguments_and_help)
{
    static const char *const bad[] = {
        "",
        "frobnicate",
        "token --url http://127.0.0.1:1 --customer-key k --product app",              /* no --user */
        "token --url http://127.0.0.1:1 --customer-key k --user u",                   /* no --product */
        "token --url http://127.0.0.1:1 --customer-key k --user u --product app --bogus",
        "token --url http://127.0.0.1:1 --customer-key k --user u --product app,,x",
        "token --url ftp://127.0.0.1:1 --customer-key k --user u --product app --machine m",
        "token --customer-key k --user u --product app --machine m",                  /* no URL */
        "token --url http://127.0.0.1:1 --user u --product app --machine m",          /* no key */
        "token --url http://127.0.0.1:1 --customer-key k --user u --product app --machine m extra",
    };
    struct world w;
    char env[700];

    memset(&w, 0, sizeof w);
    w.dir = it_tmpdir();
    snprintf(env, sizeof env, "XDG_CACHE_HOME='%s'", w.dir); /* never the real ~/.cache */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(run(&w, env, NULL, "%s", bad[i]), 1, "exit status of: licctl %s", bad[i]);
        cr_assert(strncmp(w.err, "licctl: ", 8) == 0 || strstr(w.err, "usage:"), "licctl %s: %s",
                  bad[i], w.err);
        cr_assert_str_eq(w.out, "", "licctl %s printed on stdout", bad[i]);
    }
    cr_assert_eq(run(&w, NULL, NULL, "--help"), 0);
    cr_assert(strstr(w.out, "token"), "%s", w.out);
    cr_assert_eq(run(&w, NULL, NULL, "token --help"), 0);
    cr_assert(strstr(w.out, "--password-stdin") && strstr(w.out, "--cache-dir"), "%s", w.out);
    world_free(&w);
}
