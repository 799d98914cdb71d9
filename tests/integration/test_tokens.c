/* Session tokens for shared computers against the real licd and PostgreSQL:
 * suites, the machine limit, credentials, throttling, revocation, renewal,
 * key rotation and the usage-pattern watch. */
#include <criterion/criterion.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "fill.h"
#include "harness.h"
#include "util/base64.h"

struct site {
    char *vendor;
    char customer_id[37], customer[80];
};

static void site_init(struct site *s)
{
    it_response r;
    s->vendor = it_new_vendor("Desktop Vendor");
    it_new_customer(s->vendor, "Hoster", s->customer_id, s->customer);
    it_postf("/v1/products", s->vendor, &r,
             "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\",\"features\":[\"edit\",\"print\",\"export\"]}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/products", s->vendor, &r,
             "{\"code\":\"viewer\",\"name\":\"Viewer\",\"version\":\"1\",\"features\":[\"view\",\"zoom\"]}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
}

static void add_user(struct site *s, const char *user)
{
    it_response r;
    it_postf("/v1/users", s->vendor, &r,
             "{\"customer_id\":\"%s\",\"username\":\"%s\",\"password\":\"pw-%s-secret\"}",
             s->customer_id, user, user);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
}

static void entitle(struct site *s, const char *user, const char *product, const char *json)
{
    it_response r;
    char path[256];
    snprintf(path, sizeof path, "/v1/users/%s/entitlements/%s?customer_id=%s", user, product,
             s->customer_id);
    it_json("PUT", path, s->vendor, json, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
}

static void token(struct site *s, const char *user, const char *password, const char *machine,
                  const char *products, it_response *r)
{
    char pw[64];
    snprintf(pw, sizeof pw, "pw-%s-secret", user);
    it_postf("/v1/tokens", s->customer, r,
             "{\"username\":\"%s\",\"password\":\"%s\",\"machine_id\":\"%s\",\"products\":[%s]}",
             user, password ? password : pw, machine, products);
}

static void renew(const char *tok, const char *machine, it_response *r)
{
    it_postf("/v1/tokens/renew", NULL, r, "{\"token\":\"%s\",\"machine_id\":\"%s\"}", tok, machine);
}

/* The entitlements GET /v1/users/{user} shows, as JSON text (free it). */
static char *entitlements_of(struct site *s, const char *user)
{
    it_response r;
    char *text;
    it_expect(&r, 200, "GET", it_fmt("/v1/users/%s?customer_id=%s", user, s->customer_id),
              s->vendor, NULL);
    text = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.json, "entitlements"));
    cr_assert(text, "%s", r.body);
    it_response_free(&r);
    return text;
}

Test(tokens, one_user_one_machine)
{
    struct site s;
    it_response r;
    cJSON *c;
    site_init(&s);
    add_user(&s, "ann");
    entitle(&s, "ann", "app", "{\"state\":\"valid\"}");
    token(&s, "ann", NULL, "rdp-host-1", "\"app\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_state"), "valid");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "features"), "app")), 3);
    c = it_verify_jwt(it_str(&r, "token"));
    cr_assert_str_eq(cJSON_GetObjectItem(c, "sub")->valuestring, "ann");
    cr_assert_str_eq(cJSON_GetObjectItem(c, "mid")->valuestring, "rdp-host-1");
    cr_assert_str_eq(cJSON_GetObjectItem(c, "lst")->valuestring, "valid");
    cr_assert_str_eq(cJSON_GetObjectItem(c, "iss")->valuestring, "licd");
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "aud"), 0)->valuestring, "app");
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(c, "jti")));
    cr_assert_eq(cJSON_GetObjectItem(c, "exp")->valuedouble - cJSON_GetObjectItem(c, "iat")->valuedouble,
                 30 * 86400.0);
    cJSON_Delete(c);
    it_response_free(&r);
    free(s.vendor);
}

Test(tokens, a_suite_gets_the_weakest_state)
{
    struct site s;
    it_response r;
    const cJSON *f;
    site_init(&s);
    add_user(&s, "bo");
    entitle(&s, "bo", "app", "{\"state\":\"valid\"}");
    entitle(&s, "bo", "viewer", "{\"state\":\"intermediate\",\"features\":[\"view\"]}");
    token(&s, "bo", NULL, "m", "\"app\",\"viewer\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_state"), "intermediate");
    f = cJSON_GetObjectItem(r.json, "features");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f, "app")), 3);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f, "viewer")), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "viewer"), 0)->valuestring, "view");
    it_response_free(&r);
    /* A product without an entitlement is invalid, and invalid grants nothing. */
    entitle(&s, "bo", "viewer", "{\"state\":\"invalid\",\"features\":[\"view\"]}");
    token(&s, "bo", NULL, "m", "\"app\",\"viewer\"", &r);
    cr_assert_str_eq(it_str(&r, "license_state"), "invalid", "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "features"), "viewer")), 0);
    it_response_free(&r);
    free(s.vendor);
}

Test(tokens, the_machine_limit)
{
    struct site s;
    it_response r;
    site_init(&s);
    add_user(&s, "cy");
    entitle(&s, "cy", "app", "{\"state\":\"valid\",\"max_machines\":2}");
    token(&s, "cy", NULL, "m1", "\"app\"", &r);
    cr_assert_eq(r.status, 201);
    it_response_free(&r);
    token(&s, "cy", NULL, "m2", "\"app\"", &r);
    cr_assert_eq(r.status, 201);
    it_response_free(&r);
    token(&s, "cy", NULL, "m3", "\"app\"", &r);
    it_assert_problem(&r, 403, "machine_limit_reached");
    it_response_free(&r);
    token(&s, "cy", NULL, "m1", "\"app\"", &r);
    cr_assert_eq(r.status, 201, "a known machine may always refresh: %s", r.body);
    it_response_free(&r);
    free(s.vendor);
}

Test(tokens, wrong_password_and_unknown_user_look_alike)
{
    struct site s;
    it_response a, b;
    site_init(&s);
    add_user(&s, "di");
    entitle(&s, "di", "app", "{\"state\":\"valid\"}");
    token(&s, "di", "not-the-password", "m", "\"app\"", &a);
    token(&s, "nobody", "whatever-password", "m", "\"app\"", &b);
    it_assert_problem(&a, 401, "invalid_credentials");
    it_assert_problem(&b, 401, "invalid_credentials");
    cr_assert_str_eq(it_str(&a, "detail"), it_str(&b, "detail"));
    it_response_free(&a);
    it_response_free(&b);
    free(s.vendor);
}

Test(tokens, repeated_failures_are_throttled, .timeout = 120)
{
    struct site s;
    it_response r;
    site_init(&s);
    add_user(&s, "ed");
    entitle(&s, "ed", "app", "{\"state\":\"valid\"}");
    for (int i = 0; i < 5; i++) {
        token(&s, "ed", "wrong-password", "m", "\"app\"", &r);
        it_assert_problem(&r, 401, "invalid_credentials");
        it_response_free(&r);
    }
    token(&s, "ed", NULL, "m", "\"app\"", &r);
    it_assert_problem(&r, 429, "too_many_requests");
    cr_assert_gt(atoi(r.retry_after), 0, "Retry-After: %s", r.retry_after);
    it_response_free(&r);
    free(s.vendor);
}

Test(tokens, a_revoked_user_gets_nothing)
{
    struct site s;
    it_response r;
    char tok[4096], path[256];
    site_init(&s);
    add_user(&s, "fay");
    entitle(&s, "fay", "app", "{\"state\":\"valid\"}");
    token(&s, "fay", NULL, "m", "\"app\"", &r);
    snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/users/fay/revoke?customer_id=%s", s.customer_id);
    it_json("POST", path, s.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    token(&s, "fay", NULL, "m", "\"app\"", &r);
    it_assert_problem(&r, 403, "user_revoked");
    it_response_free(&r);
    renew(tok, "m", &r);
    it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    free(s.vendor);
}

/* A copy of tok with its payload's first character changed. */
static char *tampered(const char *tok)
{
    char *t = strdup(tok), *dot = strchr(t, '.');
    dot[1] = dot[1] == 'A' ? 'B' : 'A';
    return t;
}

Test(renewal, refuses_everything_but_our_own_token_for_its_machine)
{
    struct site s;
    it_response r;
    char tok[4096], forged[4096], *t;
    site_init(&s);
    add_user(&s, "gil");
    entitle(&s, "gil", "app", "{\"state\":\"valid\"}");
    token(&s, "gil", NULL, "m", "\"app\"", &r);
    snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
    it_response_free(&r);

    renew(tok, "m", &r);
    cr_assert_eq(r.status, 201, "an unexpired token renews: %s", r.body);
    it_response_free(&r);
    renew(tok, "another-machine", &r);
    it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    t = tampered(tok);
    renew(t, "m", &r);
    it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    free(t);
    /* alg none: the same claims, no signature. */
    {
        const char *payload = strchr(tok, '.') + 1;
        char *header = b64url_encode("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
        snprintf(forged, sizeof forged, "%s.%.*s.", header,
                 (int)(strchr(payload, '.') - payload), payload);
        free(header);
        renew(forged, "m", &r);
        it_assert_problem(&r, 401, "renewal_refused");
        it_response_free(&r);
    }
    /* A licence is not a session token. */
    renew("eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "m", &r);
    it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    free(s.vendor);
}

/* Renewals are read and recorded in batches: many at once of one user's
 * two machines (one token for one product, one for two), the same machine
 * often twice in a batch, each get their own token, with its products,
 * and row, and the machines stay two. */
#define RENEWERS 12
#define RENEWALS 5
struct renewer {
    const char *tok, *machine;
    long status[RENEWALS];
    int products[RENEWALS];
    char jti[RENEWALS][40];
};

static void *renew_many(void *p)
{
    struct renewer *w = p;
    for (int i = 0; i < RENEWALS; i++) {
        it_response r;
        renew(w->tok, w->machine, &r);
        w->status[i] = r.status;
        w->products[i] = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "products"));
        snprintf(w->jti[i], sizeof w->jti[i], "%s", r.status == 201 ? it_str(&r, "jti") : "");
        it_response_free(&r);
    }
    return NULL;
}

static int by_string(const void *a, const void *b) { return strcmp(a, b); }

Test(renewal, concurrent_renewals_each_get_their_own_token, .timeout = 120)
{
    struct site s;
    struct renewer w[RENEWERS];
    pthread_t t[RENEWERS];
    char toks[2][4096], jtis[RENEWERS * RENEWALS][40], sql[512], *out = NULL;
    it_response r;

    site_init(&s);
    add_user(&s, "ivy");
    entitle(&s, "ivy", "app", "{\"state\":\"valid\",\"max_machines\":2}");
    entitle(&s, "ivy", "viewer", "{\"state\":\"valid\"}");
    for (int m = 0; m < 2; m++) {
        token(&s, "ivy", NULL, m ? "n" : "m", m ? "\"app\",\"viewer\"" : "\"app\"", &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        snprintf(toks[m], sizeof toks[m], "%s", it_str(&r, "token"));
        it_response_free(&r);
    }
    for (int i = 0; i < RENEWERS; i++) {
        w[i] = (struct renewer){.tok = toks[i % 2], .machine = i % 2 ? "n" : "m"};
        cr_assert_eq(pthread_create(&t[i], NULL, renew_many, &w[i]), 0);
    }
    for (int i = 0; i < RENEWERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < RENEWERS; i++)
        for (int k = 0; k < RENEWALS; k++) {
            cr_assert_eq(w[i].status[k], 201, "renewer %d, renewal %d: %ld", i, k, w[i].status[k]);
            cr_assert_eq(w[i].products[k], 1 + i % 2, "renewer %d: %d products", i, w[i].products[k]);
            memcpy(jtis[i * RENEWALS + k], w[i].jti[k], sizeof jtis[0]);
        }
    qsort(jtis, RENEWERS * RENEWALS, sizeof jtis[0], by_string);
    for (int i = 1; i < RENEWERS * RENEWALS; i++)
        cr_assert_str_neq(jtis[i - 1], jtis[i], "two renewals got one jti");

    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM session_tokens t WHERE t.user_id = u.id AND renewed)"
             " || ' ' || (SELECT count(*) FROM user_machines m WHERE m.user_id = u.id"
             " AND freed_at IS NULL AND token_expires_at > now())"
             " FROM users u WHERE u.username = 'ivy' AND u.customer_id = '%s'", s.customer_id);
    cr_assert_eq(it_sql(sql, &out), 0);
    cr_assert_eq(atoi(out), RENEWERS * RENEWALS, "renewed tokens recorded: %s", out);
    cr_assert_eq(atoi(strchr(out, ' ') + 1), 2, "machines holding a slot: %s", out);
    free(out);
    free(s.vendor);
}

Test(renewal, hs256_signed_with_the_public_key_is_refused)
{
    it_response r;
    char *pem, *forged = NULL;
    jwt_t *jwt = NULL;
    const cJSON *key;
    it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &r);
    key = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "keys"), 0);
    pem = it_pem_from_jwk(key);
    cr_assert_eq(jwt_new(&jwt), 0);
    jwt_add_grant(jwt, "iss", "licd");
    jwt_add_grant(jwt, "sub", "gil");
    jwt_add_grant(jwt, "mid", "m");
    jwt_add_grant(jwt, "cus", "00000000-0000-0000-0000-000000000000");
    jwt_add_grant(jwt, "vnd", "00000000-0000-0000-0000-000000000000");
    jwt_add_grant_int(jwt, "exp", 4000000000);
    jwt_add_header(jwt, "kid", cJSON_GetObjectItem(key, "kid")->valuestring);
    cr_assert_eq(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)pem, (int)strlen(pem)), 0);
    forged = jwt_encode_str(jwt);
    it_response_free(&r);
    renew(forged, "m", &r);
    it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    free(forged);
    jwt_free(jwt);
    free(pem);
}

/* A licd of the test's own with short token lives. */
static int short_lived_licd(const char *ttl, const char *window, char **dir)
{
    char log[512];
    static char t[64], w[64], url[64];
    const char *env[] = {t, w, NULL};
    int port = it_free_port(), pid;
    *dir = it_tmpdir();
    snprintf(t, sizeof t, "LICD_TOKEN_TTL=%s", ttl);
    snprintf(w, sizeof w, "LICD_RENEW_WINDOW=%s", window);
    snprintf(log, sizeof log, "%s/licd.log", *dir);
    pid = it_start_licd(env, log, port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    it_use_url(url);
    return pid;
}

Test(renewal, an_expired_token_renews_within_the_window_only, .timeout = 120)
{
    struct site s;
    it_response r;
    char tok[4096], *dir;
    cJSON *c;
    int pid = short_lived_licd("1", "4", &dir);
    site_init(&s);
    add_user(&s, "hal");
    entitle(&s, "hal", "app", "{\"state\":\"valid\"}");
    token(&s, "hal", NULL, "m", "\"app\"", &r);
    snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
    it_response_free(&r);
    sleep(2);
    /* The renewed token reflects the entitlement as it is now. */
    entitle(&s, "hal", "app", "{\"state\":\"intermediate\",\"features\":[\"print\"]}");
    renew(tok, "m", &r);
    cr_assert_eq(r.status, 201, "expired 1 s ago, window 4 s: %s", r.body);
    cr_assert_str_eq(it_str(&r, "license_state"), "intermediate");
    c = it_verify_jwt(it_str(&r, "token"));
    cr_assert_str_eq(cJSON_GetObjectItem(c, "lst")->valuestring, "intermediate");
    cJSON_Delete(c);
    it_response_free(&r);
    sleep(5);
    renew(tok, "m", &r);
    it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(s.vendor);
}

Test(renewal, tokens_of_a_retired_key_still_renew, .timeout = 120)
{
    struct site s;
    it_response r;
    char tok[4096], cmd[1024], log[512], key[512], retired[600], url[64], *dir = it_tmpdir();
    const char *env[] = {key, retired, NULL};
    cJSON *c;
    int port = it_free_port(), pid;

    site_init(&s);
    add_user(&s, "ivy");
    entitle(&s, "ivy", "app", "{\"state\":\"valid\"}");
    token(&s, "ivy", NULL, "m", "\"app\"", &r); /* signed by the suite's key */
    snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
    it_response_free(&r);

    snprintf(cmd, sizeof cmd, "'%s' keygen --out '%s/new.pem' >/dev/null", it_env("LICD_BIN"), dir);
    cr_assert_eq(it_sh(cmd, NULL), 0);
    snprintf(key, sizeof key, "LICD_SIGNING_KEY=%s/new.pem", dir);
    snprintf(retired, sizeof retired, "LICD_RETIRED_KEYS=%s", it_env("LICD_SIGNING_KEY"));
    snprintf(log, sizeof log, "%s/licd.log", dir);
    pid = it_start_licd(env, log, port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    it_use_url(url);

    it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &r);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "keys")), 2);
    {
        const char *new_kid = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "keys"), 0), "kid")->valuestring;
        it_response n;
        size_t hl;
        uint8_t *h;
        renew(tok, "m", &n);
        cr_assert_eq(n.status, 201, "%s", n.body);
        h = b64url_decode(it_str(&n, "token"), strcspn(it_str(&n, "token"), "."), &hl);
        c = cJSON_Parse((char *)h);
        cr_assert_str_eq(cJSON_GetObjectItem(c, "kid")->valuestring, new_kid);
        cJSON_Delete(c);
        free(h);
        c = it_verify_jwt(it_str(&n, "token"));
        cJSON_Delete(c);
        it_response_free(&n);
    }
    it_response_free(&r);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(s.vendor);
}

Test(watch, an_account_on_too_many_machines_is_flagged, .timeout = 120)
{
    struct site s;
    it_response r;
    char path[256], *dir;
    int pid = short_lived_licd("1", "1", &dir);
    site_init(&s);
    add_user(&s, "joe");
    entitle(&s, "joe", "app", "{\"state\":\"valid\",\"max_machines\":1}");
    for (int i = 0; i < 3; i++) {
        char m[8];
        snprintf(m, sizeof m, "pc-%d", i);
        token(&s, "joe", NULL, m, "\"app\"", &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
        usleep(1200 * 1000); /* the token lapses, freeing the one machine */
    }
    snprintf(path, sizeof path, "/v1/users/joe/activity?customer_id=%s", s.customer_id);
    it_json("GET", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "flagged")), "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "machines")), 3);
    it_response_free(&r);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    free(s.vendor);
}

Test(users, vendor_calls_refuse_bad_input_and_other_tenants)
{
    struct site s, other;
    it_response r;
    char path[256];
    char other_customer[37], other_key[80], *before, *after;
    site_init(&s);
    site_init(&other);
    it_new_customer(s.vendor, "Other Hoster", other_customer, other_key);
    it_created("/v1/products", other.vendor,
               "{\"code\":\"theirs\",\"name\":\"Theirs\",\"version\":\"1\"}");
    add_user(&s, "kim");
    entitle(&s, "kim", "viewer",
            "{\"state\":\"intermediate\",\"features\":[\"view\"],\"max_machines\":2}");
    before = entitlements_of(&s, "kim");
    static const char *const bad[][2] = {
        {"{\"username\":\"x\",\"password\":\"long enough\"}", "invalid_field"},
        {"{\"customer_id\":\"%s\",\"password\":\"long enough\"}", "invalid_field"},
        {"{\"customer_id\":\"%s\",\"username\":\"x\",\"password\":\"short\"}", "invalid_field"},
        {"{\"customer_id\":\"%s\",\"username\":5,\"password\":\"long enough\"}", "invalid_field"},
        {"{\"customer_id\":\"%s\",\"username\":\"x\"", "malformed_json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[512];
        cr_assert_eq(test_fill(body, sizeof body, bad[i][0], s.customer_id), 0);
        it_json("POST", "/v1/users", s.vendor, body, &r);
        it_assert_problem(&r, 400, bad[i][1]);
        it_response_free(&r);
    }
    it_postf("/v1/users", s.vendor, &r,
             "{\"customer_id\":\"%s\",\"username\":\"kim\",\"password\":\"another one\"}", s.customer_id);
    it_assert_problem(&r, 409, "conflict");
    it_response_free(&r);
    /* Another vendor's customer is not found; a customer key is the wrong kind. */
    it_postf("/v1/users", other.vendor, &r,
             "{\"customer_id\":\"%s\",\"username\":\"zed\",\"password\":\"long enough\"}", s.customer_id);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    it_postf("/v1/users", s.customer, &r,
             "{\"customer_id\":\"%s\",\"username\":\"zed\",\"password\":\"long enough\"}", s.customer_id);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    /* None of them created a user: the customer has kim only. */
    it_json_problem("GET", it_fmt("/v1/users/zed?customer_id=%s", s.customer_id), s.vendor, NULL,
                    404, "not_found");
    {
        cJSON *items = it_items(it_fmt("/v1/users?customer_id=%s", s.customer_id), s.vendor);
        cr_assert_eq(cJSON_GetArraySize(items), 1);
        cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(items, 0), "username"), "kim");
        cJSON_Delete(items);
    }

    snprintf(path, sizeof path, "/v1/users/kim/entitlements/app?customer_id=%s", s.customer_id);
    it_json("PUT", path, s.vendor, "{\"state\":\"great\"}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    it_json("PUT", path, s.vendor, "{\"state\":\"valid\",\"max_machines\":0}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    it_json("PUT", path, other.vendor, "{\"state\":\"valid\"}", &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/users/kim/entitlements/nosuch?customer_id=%s", s.customer_id);
    it_json("PUT", path, s.vendor, "{\"state\":\"valid\"}", &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    /* Bad bodies, another vendor's product and kim named under another
     * customer leave her viewer entitlement as it was. */
    {
        char viewer[256], theirs[256], elsewhere[256];
        const struct {
            const char *path, *key, *body, *code;
            long status;
            const char *detail; /* in the problem's detail, when not NULL */
        } refused[] = {
            {viewer, s.vendor, "{\"state\":", "malformed_json", 400, NULL},
            {viewer, s.vendor, "", "malformed_json", 400, NULL},
            {viewer, s.vendor, "[\"valid\"]", "malformed_json", 400, NULL},
            {viewer, s.vendor, "{}", "invalid_field", 400, NULL},
            {viewer, s.vendor, "{\"features\":[\"view\"],\"max_machines\":9}", "invalid_field", 400,
             NULL},
            {viewer, s.vendor, "{\"state\":5}", "invalid_field", 400, NULL},
            {viewer, s.vendor, "{\"state\":\"valid\",\"features\":\"a\"}", "invalid_field", 400,
             NULL},
            {viewer, s.vendor, "{\"state\":\"valid\",\"features\":[5]}", "invalid_field", 400,
             NULL},
            {viewer, s.vendor, "{\"state\":\"valid\",\"max_machines\":\"9\"}", "invalid_field", 400,
             NULL},
            {viewer, other.vendor, "{\"state\":\"valid\"}", "not_found", 404, NULL},
            {theirs, s.vendor, "{\"state\":\"valid\"}", "not_found", 404, "no product theirs"},
            {theirs, other.vendor, "{\"state\":\"valid\"}", "not_found", 404, NULL},
            {elsewhere, s.vendor, "{\"state\":\"valid\"}", "not_found", 404, "no user kim"},
            {viewer, s.customer, "{\"state\":\"valid\"}", "forbidden", 403, NULL},
        };
        snprintf(viewer, sizeof viewer, "/v1/users/kim/entitlements/viewer?customer_id=%s",
                 s.customer_id);
        snprintf(theirs, sizeof theirs, "/v1/users/kim/entitlements/theirs?customer_id=%s",
                 s.customer_id);
        snprintf(elsewhere, sizeof elsewhere, "/v1/users/kim/entitlements/viewer?customer_id=%s",
                 other_customer);
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            it_json("PUT", refused[i].path, refused[i].key, refused[i].body, &r);
            cr_assert_eq(r.status, refused[i].status, "case %zu: %s", i, r.body);
            it_assert_problem(&r, refused[i].status, refused[i].code);
            cr_assert(!refused[i].detail || strstr(it_str(&r, "detail"), refused[i].detail),
                      "case %zu: %s", i, r.body);
            it_response_free(&r);
        }
    }
    after = entitlements_of(&s, "kim");
    cr_assert_str_eq(after, before, "kim's entitlements changed");
    cr_assert(strstr(after, "\"intermediate\""), "%s", after);
    free(before);
    free(after);
    snprintf(path, sizeof path, "/v1/users/nobody/revoke?customer_id=%s", s.customer_id);
    it_json("POST", path, s.vendor, "{}", &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    it_json("POST", "/v1/users/kim/revoke", s.vendor, "{}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    /* Nothing above changed kim: she can still sign in (no entitlement: invalid). */
    token(&s, "kim", NULL, "m", "\"app\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_state"), "invalid");
    it_response_free(&r);
    free(s.vendor);
    free(other.vendor);
}

/* Refused sign-ins record nothing: bodies with u's real password but bad
 * JSON or a missing or malformed field, and a vendor key, leave u without
 * a machine. */
Test(tokens, bad_token_requests)
{
    struct site s;
    it_response r;
    static const char *const bad[][2] = {
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\"}", "invalid_field"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\","
         "\"products\":[]}",
         "invalid_field"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\","
         "\"products\":\"app\"}",
         "invalid_field"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\","
         "\"products\":[\"A B\"]}",
         "invalid_field"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"products\":[\"app\"]}",
         "invalid_field"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":5,"
         "\"products\":[\"app\"]}",
         "invalid_field"},
        {"{\"password\":\"pw-u-secret\",\"machine_id\":\"m\",\"products\":[\"app\"]}",
         "invalid_field"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\","
         "\"products\":[\"app\"]",
         "malformed_json"},
        {"{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\","
         "\"products\":[\"app\"]}x",
         "malformed_json"},
        {"[\"u\",\"pw-u-secret\"]", "malformed_json"},
        {"", "malformed_json"},
    };
    const char *good = "{\"username\":\"u\",\"password\":\"pw-u-secret\",\"machine_id\":\"m\","
                       "\"products\":[\"app\"]}";
    site_init(&s);
    add_user(&s, "u");
    entitle(&s, "u", "app", "{\"state\":\"valid\"}");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_json("POST", "/v1/tokens", s.customer, bad[i][0], &r);
        it_assert_problem(&r, 400, bad[i][1]);
        it_response_free(&r);
    }
    it_json("POST", "/v1/tokens", s.vendor, good, &r);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    it_json("POST", "/v1/tokens", NULL, good, &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "u"), "");
    /* The good body itself signs in. */
    it_json("POST", "/v1/tokens", s.customer, good, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "u"), "m");
    it_json("POST", "/v1/tokens/renew", NULL, "{\"token\":1,\"machine_id\":\"m\"}", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    free(s.vendor);
}

/* A customer key finds users of its own customer only: another vendor's
 * customer naming lee, with lee's password and a product code both
 * vendors have, gets the unknown-user answer and lee no machine. */
Test(tokens, another_vendors_customer_key_finds_no_user)
{
    struct site s, other;
    it_response r;
    site_init(&s);
    site_init(&other);
    add_user(&s, "lee");
    entitle(&s, "lee", "app", "{\"state\":\"valid\"}");
    it_postf("/v1/tokens", other.customer, &r,
             "{\"username\":\"lee\",\"password\":\"pw-lee-secret\",\"machine_id\":\"m\","
             "\"products\":[\"app\"]}");
    it_assert_problem(&r, 401, "invalid_credentials");
    cr_assert_str_eq(it_str(&r, "detail"), "unknown user or wrong password");
    it_response_free(&r);
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "lee"), "");
    /* Nor did it make a lee of the other vendor's customer. */
    it_json_problem("GET", it_fmt("/v1/users/lee?customer_id=%s", other.customer_id), other.vendor,
                    NULL, 404, "not_found");
    /* lee's own customer signs her in, on the one machine. */
    token(&s, "lee", NULL, "m", "\"app\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_state"), "valid");
    it_response_free(&r);
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "lee"), "m");
    free(s.vendor);
    free(other.vendor);
}

/* The renewed tokens of the site's user, and all its tokens, as "renewed/all". */
static const char *tokens_of(struct site *s, const char *user)
{
    static char counts[64];
    char *out = NULL;
    cr_assert_eq(it_sql(it_fmt("SELECT count(*) FILTER (WHERE t.renewed) || '/' || count(*)"
                               " FROM session_tokens t JOIN users u ON u.id = t.user_id"
                               " WHERE u.username = '%s' AND u.customer_id = '%s'",
                               user, s->customer_id),
                        &out),
                 0, "%s", out);
    snprintf(counts, sizeof counts, "%.*s", (int)strcspn(out, "\n"), out);
    free(out);
    return counts;
}

/* Renewal bodies with bad JSON or without the token or the machine are
 * 400 and record no token; the same token then renews. */
Test(renewal, bad_bodies_renew_nothing)
{
    struct site s;
    it_response r;
    char tok[4096], no_machine[4200], machine_not_string[4200], empty_machine[4200], unclosed[4200];
    site_init(&s);
    add_user(&s, "mo");
    entitle(&s, "mo", "app", "{\"state\":\"valid\"}");
    token(&s, "mo", NULL, "m", "\"app\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(tok, sizeof tok, "%s", it_str(&r, "token"));
    it_response_free(&r);
    snprintf(no_machine, sizeof no_machine, "{\"token\":\"%s\"}", tok);
    snprintf(machine_not_string, sizeof machine_not_string, "{\"token\":\"%s\",\"machine_id\":5}",
             tok);
    snprintf(empty_machine, sizeof empty_machine, "{\"token\":\"%s\",\"machine_id\":\"\"}", tok);
    snprintf(unclosed, sizeof unclosed, "{\"token\":\"%s\",\"machine_id\":\"m\"", tok);
    {
        const struct {
            const char *body, *code, *what;
        } bad[] = {
            {unclosed, "malformed_json", NULL},
            {"{\"token\":", "malformed_json", NULL},
            {"[]", "malformed_json", NULL},
            {"", "malformed_json", NULL},
            {"{}", "invalid_field", "token"},
            {"{\"machine_id\":\"m\"}", "invalid_field", "token"},
            {"{\"token\":\"\",\"machine_id\":\"m\"}", "invalid_field", "token"},
            {no_machine, "invalid_field", "machine_id"},
            {machine_not_string, "invalid_field", "machine_id"},
            {empty_machine, "invalid_field", "machine_id"},
        };
        cr_assert_str_eq(tokens_of(&s, "mo"), "0/1");
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            it_json("POST", "/v1/tokens/renew", NULL, bad[i].body, &r);
            it_assert_problem(&r, 400, bad[i].code);
            if (bad[i].what)
                cr_assert(strstr(it_str(&r, "detail"), bad[i].what), "case %zu: %s", i, r.body);
            it_response_free(&r);
        }
    }
    cr_assert_str_eq(tokens_of(&s, "mo"), "0/1");
    renew(tok, "m", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    cr_assert_str_eq(tokens_of(&s, "mo"), "1/2");
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "mo"), "m");
    free(s.vendor);
}
