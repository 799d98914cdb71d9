/* Group keys end to end: activation keys within links and per-node quotas,
 * update passwords and clone moderation, relinking, every refusal, bad
 * input, and the purge of old passwords — the real licd over HTTP against
 * the real PostgreSQL, activation keys checked with libjwt against the JWKS. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fill.h"
#include "harness.h"

/* One vendor, one customer and two products (mail, web) per test, so tests
 * run in parallel. */
struct site {
    char *vendor;
    char customer_id[37], customer[80];
};

static void site_init(struct site *s)
{
    it_response r;
    s->vendor = it_new_vendor("Group Vendor");
    it_new_customer(s->vendor, "Hoster", s->customer_id, s->customer);
    it_postf("/v1/products", s->vendor, &r,
             "{\"code\":\"mail\",\"name\":\"Mail\",\"version\":\"3\",\"features\":[\"imap\"]}");
    cr_assert_eq(r.status, 201, "create product: %s", r.body);
    it_response_free(&r);
    it_postf("/v1/products", s->vendor, &r,
             "{\"code\":\"web\",\"name\":\"Web\",\"version\":\"1\"}");
    cr_assert_eq(r.status, 201, "create product: %s", r.body);
    it_response_free(&r);
}

static void site_free(struct site *s) { free(s->vendor); }

/* A group key for mail (and web) with the given link; key gets the key. */
static void new_key(struct site *s, const char *link, const char *extra, char key[80])
{
    it_response r;
    it_postf("/v1/group-keys", s->vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\",\"web\"],"
             "\"quota_per_node\":{\"mail\":2,\"web\":1},\"link\":%s%s}",
             s->customer_id, link, extra ? extra : "");
    cr_assert_eq(r.status, 201, "create group key: %s", r.body);
    cr_assert(it_str(&r, "group_key"));
    snprintf(key, 80, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
}

/* get_key with a group key (no bearer): scheme hosting, product mail unless fields say. */
static void activate(const char *key, const char *fields, it_response *r)
{
    it_postf("/v1/get_key", NULL, r, "{\"group_key\":\"%s\",\"scheme\":\"hosting\"%s%s}", key,
             strstr(fields, "\"product\"") ? "" : ",\"product\":\"mail\"", fields);
}

/* Activates and expects 201; copies license_id and update_password out. */
static void activate_ok(const char *key, const char *fields, char *license_id, char *password)
{
    it_response r;
    activate(key, fields, &r);
    cr_assert_eq(r.status, 201, "get_key %s: %s", fields, r.body);
    if (license_id)
        snprintf(license_id, 32, "%s", it_str(&r, "license_id"));
    if (password)
        snprintf(password, 64, "%s", it_str(&r, "update_password"));
    it_response_free(&r);
}

static void activate_refused(const char *key, const char *fields, const char *code)
{
    it_response r;
    activate(key, fields, &r);
    it_assert_problem(&r, 403, code);
    it_response_free(&r);
}

/* The count that tmpl, its %s filled by arg, selects. */
static long long sql_count(const char *tmpl, const char *arg)
{
    char sql[1024];
    cr_assert_eq(test_fill(sql, sizeof sql, tmpl, arg), 0);
    return it_sql_num(sql);
}

Test(group_keys, the_whole_flow)
{
    struct site s;
    it_response r;
    char key[80], lid[32], pw[64], pw2[64];
    cJSON *c;
    double iat, exp;

    site_init(&s);
    it_postf("/v1/group-keys", s.vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\"],"
             "\"quota_per_node\":{\"mail\":3},\"link\":{\"type\":\"ip_range\","
             "\"value\":\"127.0.0.0/8\"},\"limits\":{\"mail\":{\"mailboxes\":5000}},"
             "\"expires\":\"2099-01-01T00:00:00Z\"}",
             s.customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(key, sizeof key, "%s", it_str(&r, "group_key"));
    cr_assert_eq(strlen(key), 67, "lg_ and 64 hex digits: %s", key);
    cr_assert_eq(strncmp(key, "lg_", 3), 0);
    cr_assert_eq(strncmp(key, it_str(&r, "group_key_prefix"), 15), 0);
    cr_assert_str_eq(it_str(&r, "customer_id"), s.customer_id);
    cr_assert_str_eq(it_str(&r, "scheme"), "hosting");
    cr_assert_str_eq(it_str(&r, "expires"), "2099-01-01T00:00:00Z");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "quota_per_node"), "mail")
                     ->valueint, 3);
    cr_assert_str_eq(it_member_str(cJSON_GetObjectItem(r.json, "link"), "value"), "127.0.0.0/8");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "limits"),
                                                         "mail"), "mailboxes")->valueint, 5000);
    it_response_free(&r);
    /* the key is stored hashed: only its prefix is in the database */
    cr_assert_eq(sql_count("SELECT count(*) FROM group_keys WHERE key_hash ="
                           " sha256(convert_to('%s', 'UTF8'))", key),
                 1);

    /* The first activation: a licence JWT with the claims of API.md. */
    activate(key, ",\"app_id\":\"mailer-1\",\"node_id\":\"n1\",\"container_id\":\"c-17\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(lid, sizeof lid, "%s", it_str(&r, "license_id"));
    snprintf(pw, sizeof pw, "%s", it_str(&r, "update_password"));
    cr_assert_eq(lid[0], 'G');
    cr_assert_eq(strlen(pw), 53, "STATIC-DYNAMIC, 26 + 1 + 26: %s", pw);
    cr_assert_eq(pw[26], '-');
    cr_assert_eq(strspn(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-"), 53);
    c = it_verify_jwt(it_str(&r, "license"));
    cr_assert_str_eq(it_member_str(c, "iss"), "licd");
    cr_assert_str_eq(it_member_str(c, "lid"), lid);
    cr_assert_str_eq(it_member_str(c, "cid"), "mailer-1");
    cr_assert_str_eq(it_member_str(c, "pid"), "mail");
    cr_assert_str_eq(it_member_str(c, "pver"), "3");
    cr_assert_str_eq(it_member_str(c, "platform"), "any");
    cr_assert_str_eq(it_member_str(c, "node"), "n1");
    cr_assert_str_eq(it_member_str(c, "cus"), s.customer_id);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "pack")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "serial")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(c, "tmp")));
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "feat"), 0)->valuestring, "imap");
    iat = cJSON_GetObjectItem(c, "iat")->valuedouble;
    exp = cJSON_GetObjectItem(c, "exp")->valuedouble;
    /* valid LICD_KEY_TTL, 30 days by default */
    cr_assert(exp - iat > 30 * 86400.0 - 5 && exp - iat < 30 * 86400.0 + 5, "%f", exp - iat);
    cJSON_Delete(c);
    it_response_free(&r);

    /* Asked again (with its password): the same licence, a new password
     * with the same static part. */
    {
        char fields[256], again[32];
        snprintf(fields, sizeof fields,
                 ",\"app_id\":\"mailer-1\",\"node_id\":\"n1\",\"update_password\":\"%s\"", pw);
        activate_ok(key, fields, again, pw2);
        cr_assert_str_eq(again, lid);
        cr_assert_str_neq(pw2, pw);
        cr_assert_eq(strncmp(pw, pw2, 27), 0, "same static part: %s %s", pw, pw2);
    }
    /* Another node: another static part. */
    activate_ok(key, ",\"app_id\":\"mailer-1\",\"node_id\":\"n2\"", NULL, pw2);
    cr_assert_neq(strncmp(pw, pw2, 26), 0);
    /* the first password is used, nothing is cloned */
    it_json("GET", "/v1/update-passwords?status=used", s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 1);
    it_response_free(&r);
    it_json("GET", "/v1/update-passwords", s.vendor, NULL, &r);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 0);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next")));
    it_response_free(&r);
    /* audited */
    cr_assert_eq(sql_count("SELECT count(*) FROM audit a JOIN customers c ON c.vendor_id ="
                           " a.vendor_id WHERE c.id = '%s' AND a.object_type = 'group_key'",
                           s.customer_id),
                 1);
    site_free(&s);
}

Test(group_keys, a_missing_node_counts_as_node_default)
{
    struct site s;
    it_response r;
    char key[80];
    site_init(&s);
    new_key(&s, "{\"type\":\"app\"}", NULL, key);
    activate(key, ",\"app_id\":\"solo\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "node_id"), "default");
    it_response_free(&r);
    site_free(&s);
}

/* A vendor blocks an activation key by its licence id like any licence. */
Test(group_keys, an_activation_is_blocked_and_unblocked_by_licence_id)
{
    struct site s;
    it_response r;
    char key[80], lid[32], path[96];
    site_init(&s);
    new_key(&s, "{\"type\":\"app\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"a1\",\"node_id\":\"n1\"", lid, NULL);
    snprintf(path, sizeof path, "/v1/licenses/%s/block", lid);
    it_json("POST", path, s.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "blocked")), "%s", r.body);
    cr_assert_str_eq(it_str(&r, "client_id"), "a1");
    it_response_free(&r);
    activate_refused(key, ",\"app_id\":\"a1\",\"node_id\":\"n1\"", "license_blocked");
    snprintf(path, sizeof path, "/v1/licenses/%s/unblock", lid);
    it_json("POST", path, s.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"a1\",\"node_id\":\"n1\"", NULL, NULL);
    site_free(&s);
}

Test(quota, reached_at_exactly_n_on_one_node_while_another_is_unaffected)
{
    struct site s;
    char key[80], a[32], again[32];
    site_init(&s);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"127.0.0.0/8\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", a, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"c\",\"node_id\":\"n1\"", "quota_exceeded");
    /* the same app again is not a new instance */
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", again, NULL);
    cr_assert_str_eq(again, a);
    /* another node has its own quota, and the quota is per product */
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n2\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n1\",\"product\":\"web\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"d\",\"node_id\":\"n1\",\"product\":\"web\"",
                     "quota_exceeded");
    /* once b's activation key has expired, its place is free */
    cr_assert_eq(sql_count("WITH u AS (UPDATE activations SET expires_at = now() - interval '1 s'"
                           " WHERE app_id = 'b' AND customer_id = '%s' RETURNING 1)"
                           " SELECT count(*) FROM u",
                           s.customer_id),
                 1);
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"b\",\"node_id\":\"n1\"", "quota_exceeded");
    site_free(&s);
}

#define RACERS 24
#define QUOTA 5

struct racer {
    const char *key;
    char app[16];
    long status;
    char code[32];
};

static void *race(void *p)
{
    struct racer *x = p;
    it_response r;
    char fields[128];
    /* the domain link holds every racer: sent in another case, with a dot */
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"%s\",\"node_id\":\"hot\",\"domain\":\"farm.EXAMPLE.com.\"", x->app);
    activate(x->key, fields, &r);
    x->status = r.status;
    snprintf(x->code, sizeof x->code, "%s", it_str(&r, "code") ? it_str(&r, "code") : "");
    it_response_free(&r);
    return NULL;
}

Test(quota, parallel_activations_never_exceed_it, .timeout = 120)
{
    struct site s;
    it_response r;
    struct racer x[RACERS];
    pthread_t t[RACERS];
    char key[80];
    int issued = 0, refused = 0;

    site_init(&s);
    it_postf("/v1/group-keys", s.vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\"],"
             "\"quota_per_node\":{\"mail\":%d},\"link\":{\"type\":\"domain\","
             "\"value\":\"Farm.Example.com\"}}",
             s.customer_id, QUOTA);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(key, sizeof key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    for (int i = 0; i < RACERS; i++) {
        x[i] = (struct racer){.key = key};
        snprintf(x[i].app, sizeof x[i].app, "app-%02d", i);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_create(&t[i], NULL, race, &x[i]);
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        if (x[i].status == 201)
            issued++;
        else if (x[i].status == 403 && strcmp(x[i].code, "quota_exceeded") == 0)
            refused++;
    }
    cr_assert_eq(issued, QUOTA);
    cr_assert_eq(refused, RACERS - QUOTA);
    cr_assert_eq(sql_count("SELECT count(*) FROM activations WHERE customer_id = '%s'",
                           s.customer_id),
                 QUOTA);
    site_free(&s);
}

/* The queue's items of one status. */
static cJSON *queue(struct site *s, const char *status)
{
    it_response r;
    char path[96];
    cJSON *items;
    snprintf(path, sizeof path, "/v1/update-passwords?status=%s", status);
    it_json("GET", path, s->vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    items = cJSON_DetachItemFromObject(r.json, "items");
    it_response_free(&r);
    return items;
}

static void resolve(struct site *s, const char *id, const char *action, it_response *r)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/update-passwords/%s/resolve", id);
    it_postf(path, s->vendor, r, "{\"action\":\"%s\"}", action);
}

/* Of the queue's cloned, dismissed and blocked passwords, the only one is
 * id, with status (resolved unless cloned). */
static void assert_only(struct site *s, const char *id, const char *status)
{
    static const char *const all[] = {"cloned", "dismissed", "blocked"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        cJSON *items = queue(s, all[i]), *item = cJSON_GetArrayItem(items, 0);
        if (strcmp(all[i], status) != 0) {
            cr_assert_eq(cJSON_GetArraySize(items), 0, "%s", all[i]);
        } else {
            cr_assert_eq(cJSON_GetArraySize(items), 1, "%s", all[i]);
            cr_assert_str_eq(it_member_str(item, "id"), id);
            cr_assert_str_eq(it_member_str(item, "status"), status);
            cr_assert_eq(cJSON_IsNull(cJSON_GetObjectItem(item, "resolved_at")),
                         strcmp(status, "cloned") == 0);
        }
        cJSON_Delete(items);
    }
}

/* Audit rows of resolutions by the customer's vendor. */
static long long resolutions(struct site *s)
{
    return sql_count("SELECT count(*) FROM audit a JOIN customers c ON c.vendor_id = a.vendor_id"
                     " WHERE c.id = '%s' AND a.action = 'resolve'",
                     s->customer_id);
}

Test(clones, a_copy_presenting_an_old_password_is_flagged_and_can_be_blocked)
{
    struct site s;
    it_response r;
    char key[80], original[32], copy[32], p1[64], p2[64], fields[256], id[24];
    cJSON *items, *item, *ev;

    site_init(&s);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"127.0.0.1/32\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"shop\",\"node_id\":\"n1\"", original, p1);
    /* the original comes back with its password: used */
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"shop\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p1);
    activate_ok(key, fields, NULL, p2);
    /* a copy of the application, moved to another node with the old state,
     * presents the same password: still answered (post-moderation) */
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"shop\",\"node_id\":\"n2\",\"container_id\":\"copy\","
             "\"update_password\":\"%s\"",
             p1);
    activate_ok(key, fields, copy, NULL);
    cr_assert_str_neq(copy, original);

    items = queue(&s, "cloned");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    item = cJSON_GetArrayItem(items, 0);
    snprintf(id, sizeof id, "%s", it_member_str(item, "id"));
    cr_assert_eq(strncmp(it_member_str(item, "group_key_prefix"), key, 15), 0);
    cr_assert_str_eq(it_member_str(item, "node_id"), "n1");
    cr_assert_str_eq(it_member_str(item, "app_id"), "shop");
    cr_assert_eq(strncmp(it_member_str(item, "static"), p1, 26), 0);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(item, "first_used_at")));
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(item, "cloned_at")));
    ev = cJSON_GetObjectItem(item, "evidence");
    cr_assert_eq(cJSON_GetArraySize(ev), 2);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 0), "license_id"),
                     original);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "kind"), "clone");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "node_id"), "n2");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "ip"),
                     "127.0.0.1");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "container_id"),
                     "copy");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "license_id"),
                     copy);
    cJSON_Delete(items);

    /* Another vendor sees none of it and cannot resolve it. */
    {
        struct site other;
        site_init(&other);
        items = queue(&other, "cloned");
        cr_assert_eq(cJSON_GetArraySize(items), 0);
        cJSON_Delete(items);
        resolve(&other, id, "block", &r);
        it_assert_problem(&r, 404, "not_found");
        it_response_free(&r);
        site_free(&other);
    }

    resolve(&s, id, "block", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "status"), "blocked");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "blocked_licenses")), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "blocked_licenses"), 0)
                         ->valuestring, copy);
    it_response_free(&r);
    /* resolved: out of the queue, and not twice */
    items = queue(&s, "cloned");
    cr_assert_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);
    items = queue(&s, "blocked");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cJSON_Delete(items);
    resolve(&s, id, "dismiss", &r);
    it_assert_problem(&r, 409, "conflict");
    it_response_free(&r);

    /* the copy is blocked, the original is fine */
    activate_refused(key, ",\"app_id\":\"shop\",\"node_id\":\"n2\"", "license_blocked");
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"shop\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p2);
    activate_ok(key, fields, copy, NULL);
    cr_assert_str_eq(copy, original);
    cr_assert_eq(sql_count("SELECT count(*) FROM audit a JOIN customers c ON c.vendor_id ="
                           " a.vendor_id WHERE c.id = '%s' AND a.action IN ('block', 'resolve')",
                           s.customer_id),
                 2);
    site_free(&s);
}

Test(clones, a_dismissed_clone_blocks_nothing)
{
    struct site s;
    it_response r;
    char key[80], p1[64], fields[256], id[24], path[96];
    cJSON *items;

    site_init(&s);
    new_key(&s, "{\"type\":\"node\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, p1);
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p1);
    activate_ok(key, fields, NULL, NULL);
    /* a lost answer: the same app sends the same password again */
    activate_ok(key, fields, NULL, NULL);
    items = queue(&s, "cloned");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    snprintf(id, sizeof id, "%s", it_member_str(cJSON_GetArrayItem(items, 0), "id"));
    cJSON_Delete(items);
    /* bad bodies on a password awaiting moderation: refused, still awaiting it */
    snprintf(path, sizeof path, "/v1/update-passwords/%s/resolve", id);
    it_json_problem("POST", path, s.vendor, "{\"action\":", 400, "malformed_json");
    it_json_problem("POST", path, s.vendor, "[\"block\"]", 400, "malformed_json");
    it_json_problem("POST", path, s.vendor, "{}", 400, "invalid_field");
    it_json_problem("POST", path, s.vendor, "{\"action\":5}", 400, "invalid_field");
    it_json_problem("POST", path, s.vendor, "{\"action\":[\"block\"]}", 400, "invalid_field");
    it_json_problem("POST", path, s.vendor, "{\"action\":\"Block\"}", 400, "invalid_field");
    assert_only(&s, id, "cloned");
    cr_assert_eq(resolutions(&s), 0);
    resolve(&s, id, "dismiss", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "status"), "dismissed");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "blocked_licenses")), 0);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    /* resolve: bad input */
    resolve(&s, id, "forgive", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    it_postf("/v1/update-passwords/1/resolve", s.vendor, &r, "{}");
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    resolve(&s, "x1", "block", &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    resolve(&s, "999999999999", "block", &r);
    it_assert_problem(&r, 404, "not_found");
    it_response_free(&r);
    it_json_problem("POST", path, s.vendor, "{\"action\":", 400, "malformed_json");
    it_json_problem("POST", path, s.vendor, "{\"action\":5}", 400, "invalid_field");
    /* none of it touched the dismissed password */
    assert_only(&s, id, "dismissed");
    cr_assert_eq(resolutions(&s), 1);
    site_free(&s);
}

Test(clones, passwords_the_key_never_issued_are_refused)
{
    struct site s;
    char key[80], other[80], p1[64], fields[256], forged[64];
    site_init(&s);
    new_key(&s, "{\"type\":\"node\"}", NULL, key);
    new_key(&s, "{\"type\":\"node\"}", NULL, other);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, p1);
    /* malformed */
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"hello\"",
                     "update_password_unknown");
    /* another key's password */
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p1);
    activate_refused(other, fields, "update_password_unknown");
    /* the right static part with a made-up dynamic part */
    snprintf(forged, sizeof forged, "%.27sAAAAAAAAAAAAAAAAAAAAAAAAAA", p1);
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"%s\"", forged);
    activate_refused(key, fields, "update_password_unknown");
    /* the right dynamic part with another static part */
    snprintf(forged, sizeof forged, "AAAAAAAAAAAAAAAAAAAAAAAAAA%s", p1 + 26);
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"%s\"", forged);
    activate_refused(key, fields, "update_password_unknown");
    /* refusals changed nothing: the password is still only issued */
    cr_assert_eq(sql_count("SELECT count(*) FROM update_passwords u JOIN activations a"
                           " ON a.license_id = u.license_id AND a.vendor_id = u.vendor_id"
                           " WHERE a.customer_id = '%s' AND u.status = 'issued'",
                           s.customer_id),
                 1);
    site_free(&s);
}

/* A licd of the test's own whose requests come through trusted proxies (its
 * LICD_TRUSTED_PROXIES): they name the client's address in X-Forwarded-For. */
struct proxied {
    int pid;
    char *dir;
    char url[64];  /* the harness keeps this pointer */
};

static void proxied_start(struct proxied *p, const char *trusted)
{
    char env[128], log[300];
    const char *vars[] = {env, NULL};
    int port = it_free_port();
    snprintf(env, sizeof env, "LICD_TRUSTED_PROXIES=%s", trusted);
    p->dir = it_tmpdir();
    snprintf(log, sizeof log, "%s/licd.log", p->dir);
    p->pid = it_start_licd(vars, log, port);
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", port);
    it_use_url(p->url);
}

static void proxied_stop(struct proxied *p)
{
    cr_assert_eq(it_stop_licd(p->pid), 0);
    it_rmdir(p->dir);
}

/* activate() with X-Forwarded-For headers (forwarded: NULL-terminated values). */
static void activate_via(const char *key, const char *fields, const char *const *forwarded,
                         it_response *r)
{
    char body[1024], h[4][128];
    const char *headers[6] = {"Content-Type: application/json"};
    int n = 1;
    for (; forwarded && forwarded[n - 1] && n < 5; n++) {
        snprintf(h[n - 1], sizeof h[0], "X-Forwarded-For: %s", forwarded[n - 1]);
        headers[n] = h[n - 1];
    }
    headers[n] = NULL;
    snprintf(body, sizeof body, "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\"%s}",
             key, fields);
    it_request("POST", "/v1/get_key", headers, body, strlen(body), r);
}

/* The answer's status to an activation from the one address forwarded. */
static long status_from(const char *key, const char *fields, const char *forwarded)
{
    const char *f[] = {forwarded, NULL};
    it_response r;
    long status;
    activate_via(key, fields, f, &r);
    cr_assert(r.status == 201 || (r.status == 403 && strcmp(it_str(&r, "code"), "link_mismatch") == 0),
              "%s", r.body);
    status = r.status;
    it_response_free(&r);
    return status;
}

Test(links, an_address_outside_the_range_is_refused, .timeout = 60)
{
    struct proxied p;
    struct site s;
    char key[80], v6[80];
    proxied_start(&p, "127.0.0.1");
    site_init(&s);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"10.20.0.0/16\"}", NULL, key);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.21.0.1"), 403);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "2001:db8::1"), 403);
    /* without X-Forwarded-For the proxy's own address (127.0.0.1) counts,
     * and an "ip" in the body is evidence only */
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", NULL), 403);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\",\"ip\":\"10.20.255.254\"", NULL), 403);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.20.255.254"), 201);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"2001:db8::/32\"}", NULL, v6);
    cr_assert_eq(status_from(v6, ",\"app_id\":\"a\"", "2001:db8:1::7"), 201);
    cr_assert_eq(status_from(v6, ",\"app_id\":\"a\"", "2001:db9::1"), 403);
    cr_assert_eq(status_from(v6, ",\"app_id\":\"a\"", "10.20.255.254"), 403);
    site_free(&s);
    proxied_stop(&p);
}

Test(links, x_forwarded_for_is_read_from_the_right_past_trusted_proxies, .timeout = 60)
{
    struct proxied p;
    struct site s;
    it_response r;
    char key[80], pw[64], fields[256];
    cJSON *items, *ev;
    proxied_start(&p, "127.0.0.1, 10.99.0.0/16");
    site_init(&s);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"10.20.0.0/16\"}", NULL, key);
    /* the first entry from the right that no trusted proxy wrote is the client */
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.20.1.2, 10.99.0.7"), 201);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.21.0.1, 10.20.1.2"), 201,
                 "what the client itself sent, on the left, is not read");
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.20.1.2, 10.21.0.1"), 403);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.99.0.7"), 403,
                 "only trusted proxies: the leftmost is the client");
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "somewhere"), 403);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.20.1.2, garbage"), 403);
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.20.1.2,"), 403);
    {
        /* several headers are one list, in order */
        const char *in_order[] = {"10.21.0.1", "10.20.1.2", NULL};
        const char *reversed[] = {"10.20.1.2", "10.21.0.1", NULL};
        activate_via(key, ",\"app_id\":\"a\"", in_order, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
        activate_via(key, ",\"app_id\":\"a\"", reversed, &r);
        it_assert_problem(&r, 403, "link_mismatch");
        it_response_free(&r);
    }
    /* the evidence keeps the address a request came from and the one its body claimed */
    {
        const char *from[] = {"10.20.3.4", NULL};
        activate_via(key, ",\"app_id\":\"b\"", from, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        snprintf(pw, sizeof pw, "%s", it_str(&r, "update_password"));
        it_response_free(&r);
        snprintf(fields, sizeof fields,
                 ",\"app_id\":\"b\",\"ip\":\"10.77.0.1\",\"update_password\":\"%s\"", pw);
        activate_via(key, fields, from, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
    }
    items = queue(&s, "used");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    ev = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "evidence"), 0);
    cr_assert_str_eq(it_member_str(ev, "ip"), "10.20.3.4");
    cr_assert_str_eq(it_member_str(ev, "claimed_ip"), "10.77.0.1");
    cJSON_Delete(items);
    site_free(&s);
    proxied_stop(&p);
}

Test(links, x_forwarded_for_from_an_untrusted_peer_is_ignored)
{
    struct site s;
    char key[80], local[80];
    site_init(&s);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"10.20.0.0/16\"}", NULL, key);
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"127.0.0.1/32\"}", NULL, local);
    /* this licd trusts no proxy: the peer's address is the request's */
    cr_assert_eq(status_from(key, ",\"app_id\":\"a\"", "10.20.1.2"), 403);
    cr_assert_eq(status_from(local, ",\"app_id\":\"a\"", "10.20.1.2"), 201);
    site_free(&s);
}

Test(links, relink_then_a_new_identifier_binds_it)
{
    struct site s;
    it_response r;
    char key[80], path[160], prefix[16];
    site_init(&s);
    /* an empty link binds to the first activation's identifier */
    new_key(&s, "{\"type\":\"node\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n2\"", "link_mismatch");
    /* a client can never move it: relink is a vendor call */
    snprintf(path, sizeof path, "/v1/group-keys/%s/relink", key);
    it_json_problem("POST", path, NULL, NULL, 401, "unauthorized");
    it_json_problem("POST", path, s.customer, NULL, 403, "forbidden");
    it_json("POST", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "link"), "value")));
    cr_assert_null(it_str(&r, "group_key"), "the key is shown only at creation");
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n2\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "link_mismatch");

    /* by its public prefix too; an IP range binds to one address */
    new_key(&s, "{\"type\":\"ip_range\",\"value\":\"10.0.0.0/8\"}", NULL, key);
    snprintf(prefix, sizeof prefix, "%.15s", key);
    snprintf(path, sizeof path, "/v1/group-keys/%s/relink", prefix);
    it_json("POST", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    /* (to the address the request came from, not to the "ip" its body names) */
    activate_ok(key, ",\"app_id\":\"a\",\"ip\":\"192.168.1.9\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"b\"", NULL, NULL);
    cr_assert_eq(sql_count("SELECT count(*) FROM group_keys WHERE prefix = '%s'"
                           " AND link_value = '127.0.0.1/32'",
                           prefix),
                 1);

    /* domains and apps bind the same way */
    new_key(&s, "{\"type\":\"domain\"}", NULL, key);
    activate_refused(key, ",\"app_id\":\"a\"", "link_mismatch"); /* no domain to bind to */
    activate_ok(key, ",\"app_id\":\"a\",\"domain\":\"Shop.Example.org\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"domain\":\"shop.example.org.\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"domain\":\"example.org\"", "link_mismatch");
    new_key(&s, "{\"type\":\"app\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"only\",\"node_id\":\"n1\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"only\",\"node_id\":\"n2\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"other\",\"node_id\":\"n1\"", "link_mismatch");

    /* another vendor's key, an unknown one */
    {
        struct site other;
        site_init(&other);
        snprintf(path, sizeof path, "/v1/group-keys/%s/relink", key);
        it_json_problem("POST", path, other.vendor, NULL, 404, "not_found");
        site_free(&other);
    }
    /* the refused relink left the key bound to its app */
    it_json("GET", it_fmt("/v1/group-keys/%s", key), s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_member_str(cJSON_GetObjectItem(r.json, "link"), "value"), "only");
    it_response_free(&r);
    activate_refused(key, ",\"app_id\":\"other\",\"node_id\":\"n1\"", "link_mismatch");
    activate_ok(key, ",\"app_id\":\"only\",\"node_id\":\"n3\"", NULL, NULL);
    it_json_problem("POST", "/v1/group-keys/lg_000000000000/relink", s.vendor, NULL, 404,
                    "not_found");
    it_json_problem("POST", "/v1/group-keys/nonsense/relink", s.vendor, NULL, 404, "not_found");
    site_free(&s);
}

Test(refusals, every_check_has_its_own_code_in_order)
{
    struct site s;
    it_response r;
    char key[80], fields[256], lid[32], p1[64];
    site_init(&s);
    new_key(&s, "{\"type\":\"node\",\"value\":\"n1\"}", ",\"expires\":\"2099-01-01T00:00:00Z\"",
            key);
    activate_refused("lg_0000000000000000000000000000000000000000000000000000000000000000",
                     ",\"app_id\":\"a\"", "unknown_group_key");
    activate_refused("not a key", ",\"app_id\":\"a\"", "unknown_group_key");
    it_postf("/v1/get_key", NULL, &r, "{\"group_key\":\"%s\",\"scheme\":\"other\","
             "\"product\":\"nope\",\"app_id\":\"a\",\"node_id\":\"n9\"}", key);
    it_assert_problem(&r, 403, "scheme_mismatch");
    it_response_free(&r);
    activate_refused(key, ",\"product\":\"nope\",\"app_id\":\"a\",\"node_id\":\"n9\"",
                     "product_not_in_group");
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n9\"", "link_mismatch");
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", lid, p1);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"c\",\"node_id\":\"n1\"", "quota_exceeded");
    cr_assert_eq(sql_count("WITH u AS (UPDATE activations SET blocked = true WHERE license_id ="
                           " '%s' RETURNING 1) SELECT count(*) FROM u",
                           lid),
                 1);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "license_blocked");
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"b\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p1);
    activate_ok(key, fields, NULL, NULL); /* p1 was issued by this key (to app a) */
    activate_refused(key,
                     ",\"app_id\":\"b\",\"node_id\":\"n1\",\"update_password\":"
                     "\"AAAAAAAAAAAAAAAAAAAAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAA\"",
                     "update_password_unknown");
    /* an expired key comes first of all */
    cr_assert_eq(sql_count("WITH u AS (UPDATE group_keys SET expires = now() - interval '1 s'"
                           " WHERE prefix = left('%s', 15) RETURNING 1) SELECT count(*) FROM u",
                           key),
                 1);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "group_key_expired");
    it_postf("/v1/get_key", NULL, &r, "{\"group_key\":\"%s\",\"scheme\":\"other\","
             "\"product\":\"nope\",\"app_id\":\"a\",\"node_id\":\"n9\"}", key);
    it_assert_problem(&r, 403, "group_key_expired");
    it_response_free(&r);
    site_free(&s);
}

/* POST /v1/group-keys with body; expects a 400/404 problem naming what. */
/* POSTs /v1/group-keys with tmpl (its %s the customer id) and expects a
 * problem whose detail names what (when given). */
static void create_refused(struct site *s, const char *customer_id, long status,
                           const char *code, const char *what, const char *tmpl)
{
    it_response r;
    char body[2048];
    cr_assert_eq(test_fill(body, sizeof body, tmpl, customer_id), 0);
    it_json("POST", "/v1/group-keys", s->vendor, body, &r);
    it_assert_problem(&r, status, code);
    if (what)
        cr_assert(strstr(it_str(&r, "detail"), what), "detail %s should name %s",
                  it_str(&r, "detail"), what);
    it_response_free(&r);
}

#define BODY(products, quota, link, extra)                                                  \
    "{\"customer_id\":\"%s\",\"scheme\":\"s\",\"products\":" products                        \
    ",\"quota_per_node\":" quota ",\"link\":" link extra "}"
#define MAIL(link, extra) BODY("[\"mail\"]", "{\"mail\":1}", link, extra)
#define NODE "{\"type\":\"node\"}"

/* Bodies answered 400 invalid_field, and what the detail names. */
static const struct {
    const char *what, *tmpl;
} bad_bodies[] = {
    {"customer_id", "{\"scheme\":\"s\"}"},
    {"scheme", "{\"customer_id\":\"%s\",\"products\":[\"mail\"]}"},
    {"scheme", "{\"customer_id\":\"%s\",\"scheme\":7,\"products\":[\"mail\"]}"},
    {"products", BODY("\"mail\"", "{\"mail\":1}", NODE, "")},
    {"products", BODY("[]", "{}", NODE, "")},
    {"products", BODY("[\"mail\",\"mail\"]", "{\"mail\":1}", NODE, "")},
    {"no product cloud", BODY("[\"mail\",\"cloud\"]", "{\"mail\":1,\"cloud\":1}", NODE, "")},
    {"quota_per_node.web", BODY("[\"mail\",\"web\"]", "{\"mail\":1}", NODE, "")},
    {"quota_per_node.mail", BODY("[\"mail\"]", "{\"mail\":0}", NODE, "")},
    {"quota_per_node.mail", BODY("[\"mail\"]", "{\"mail\":\"2\"}", NODE, "")},
    {"quota_per_node.web", BODY("[\"mail\"]", "{\"mail\":1,\"web\":1}", NODE, "")},
    {"quota_per_node", BODY("[\"mail\"]", "[1]", NODE, "")},
    {"link", MAIL("\"node\"", "")},
    {"link.type", MAIL("{\"type\":\"planet\"}", "")},
    {"link.value", MAIL("{\"type\":\"node\",\"value\":5}", "")},
    {"link.value", MAIL("{\"type\":\"ip_range\",\"value\":\"10.0.0.1/8\"}", "")},
    {"link.value", MAIL("{\"type\":\"ip_range\",\"value\":\"10.0.0.0/33\"}", "")},
    {"link.value", MAIL("{\"type\":\"ip_range\",\"value\":\"example.com\"}", "")},
    {"link.value", MAIL("{\"type\":\"domain\",\"value\":\"not a domain\"}", "")},
    {"limits.web", MAIL(NODE, ",\"limits\":{\"web\":{\"sites\":1}}")},
    {"limits.mail", MAIL(NODE, ",\"limits\":{\"mail\":{\"boxes\":\"many\"}}")},
    {"limits", MAIL(NODE, ",\"limits\":[]")},
    {"expires", MAIL(NODE, ",\"expires\":\"2001-01-01T00:00:00Z\"")},
    {"expires", MAIL(NODE, ",\"expires\":\"tomorrow\"")},
};

Test(bad_input, creating_a_group_key)
{
    struct site s, other;
    it_response r;
    site_init(&s);
    site_init(&other);
    for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++)
        create_refused(&s, s.customer_id, 400, "invalid_field", bad_bodies[i].what,
                       bad_bodies[i].tmpl);
    /* another vendor's customer, an unknown one */
    create_refused(&s, other.customer_id, 404, "not_found", NULL, MAIL(NODE, ""));
    create_refused(&s, "nobody", 404, "not_found", NULL, MAIL(NODE, ""));
    /* another vendor's product code is unknown here */
    it_postf("/v1/products", other.vendor, &r,
             "{\"code\":\"theirs\",\"name\":\"T\",\"version\":\"1\"}");
    cr_assert_eq(r.status, 201);
    it_response_free(&r);
    create_refused(&s, s.customer_id, 400, "invalid_field", "theirs",
                   BODY("[\"theirs\"]", "{\"theirs\":1}", NODE, ""));
    /* malformed JSON, content type, credentials */
    it_json_problem("POST", "/v1/group-keys", s.vendor, "{\"customer_id\":", 400,
                    "malformed_json");
    {
        char auth[128];
        const char *h[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", s.vendor);
        it_request("POST", "/v1/group-keys", h, "{}", 2, &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    it_json_problem("POST", "/v1/group-keys", NULL, "{}", 401, "unauthorized");
    it_json_problem("POST", "/v1/group-keys", s.customer, "{}", 403, "forbidden");
    /* none of it changed anything */
    cr_assert_eq(sql_count("SELECT count(*) FROM group_keys WHERE customer_id = '%s'",
                           s.customer_id),
                 0);
    cr_assert_eq(sql_count("SELECT count(*) FROM audit a JOIN customers c ON c.vendor_id ="
                           " a.vendor_id WHERE c.id = '%s' AND a.object_type = 'group_key'",
                           s.customer_id),
                 0);
    site_free(&other);
    site_free(&s);
}

Test(bad_input, activating_and_listing)
{
    struct site s;
    it_response r;
    char key[80];
    site_init(&s);
    new_key(&s, "{\"type\":\"app\"}", NULL, key);
    activate(key, "", &r); /* no app_id */
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "app_id"));
    it_response_free(&r);
    activate(key, ",\"app_id\":7", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    activate(key, ",\"app_id\":\"a\",\"node_id\":[]", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    activate(key, ",\"app_id\":\"a\",\"ip\":\"10.0.0.0/8\"", &r);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "ip"));
    it_response_free(&r);
    activate(key, ",\"app_id\":\"a\",\"domain\":\"a..b\"", &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r, "{\"group_key\":\"%s\",\"product\":\"mail\","
             "\"app_id\":\"a\"}", key);
    it_assert_problem(&r, 400, "invalid_field");
    cr_assert(strstr(it_str(&r, "detail"), "scheme"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r, "{\"group_key\":5}");
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    cr_assert_eq(sql_count("SELECT count(*) FROM activations WHERE customer_id = '%s'",
                           s.customer_id),
                 0);
    /* the queue */
    it_json_problem("GET", "/v1/update-passwords?status=lost", s.vendor, NULL, 400,
                    "invalid_field");
    it_json_problem("GET", "/v1/update-passwords?limit=0", s.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/update-passwords?cursor=@@", s.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/update-passwords", NULL, NULL, 401, "unauthorized");
    it_json_problem("GET", "/v1/update-passwords", s.customer, NULL, 403, "forbidden");
    site_free(&s);
}

Test(update_passwords, the_queue_pages_with_a_cursor)
{
    struct site s;
    it_response r;
    char key[80], p[64], fields[256], path[256];
    site_init(&s);
    new_key(&s, "{\"type\":\"app\",\"value\":\"a\"}", NULL, key);
    for (int i = 0; i < 3; i++) {
        snprintf(fields, sizeof fields, ",\"app_id\":\"a\",\"node_id\":\"n%d\"", i);
        activate_ok(key, fields, NULL, p);
        snprintf(fields, sizeof fields, ",\"app_id\":\"a\",\"node_id\":\"n%d\","
                 "\"update_password\":\"%s\"", i, p);
        activate_ok(key, fields, NULL, NULL);
        activate_ok(key, fields, NULL, NULL);
    }
    it_json("GET", "/v1/update-passwords?status=cloned&limit=2", s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 2);
    cr_assert(it_str(&r, "next"));
    snprintf(path, sizeof path, "/v1/update-passwords?status=cloned&limit=2&cursor=%s",
             it_str(&r, "next"));
    it_response_free(&r);
    it_json("GET", path, s.vendor, NULL, &r);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 1);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"),
                                                            0), "node_id")->valuestring, "n2");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next")));
    it_response_free(&r);
    site_free(&s);
}

/* Waits until the query's count equals want (the maintenance thread runs every second). */
static void await_count(const char *sql, const char *arg, long long want)
{
    long long n = -1;
    for (int i = 0; i < 100 && n != want; i++) {
        n = sql_count(sql, arg);
        if (n != want)
            usleep(100 * 1000);
    }
    cr_assert_eq(n, want, "%s", sql);
}

Test(purge, old_passwords_go_cloned_ones_stay, .timeout = 120)
{
    struct site s;
    it_response r;
    const char *env[] = {"LICD_MAINTENANCE_INTERVAL=1", "LICD_UPDATE_PASSWORD_RETENTION=3600",
                         NULL};
    char key[80], p1[64], p2[64], fields[256], url[64], *dir = it_tmpdir(), log[300];
    int port = it_free_port(), pid;

    snprintf(log, sizeof log, "%s/licd.log", dir);
    pid = it_start_licd(env, log, port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    it_use_url(url);
    site_init(&s);
    new_key(&s, "{\"type\":\"app\",\"value\":\"a\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, p1);
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p1);
    activate_ok(key, fields, NULL, p2);
    activate_ok(key, fields, NULL, NULL); /* p1 is cloned now */
    /* everything was issued two hours ago, past the retention of one */
    cr_assert_eq(sql_count("WITH u AS (UPDATE update_passwords SET issued_at = now() - interval"
                           " '2 hours' WHERE vendor_id = (SELECT vendor_id FROM customers WHERE"
                           " id = '%s') RETURNING 1) SELECT count(*) FROM u",
                           s.customer_id),
                 3);
    await_count("SELECT count(*) FROM update_passwords WHERE status <> 'cloned' AND vendor_id ="
                " (SELECT vendor_id FROM customers WHERE id = '%s')",
                s.customer_id, 0);
    cr_assert_eq(sql_count("SELECT count(*) FROM update_passwords WHERE status = 'cloned' AND"
                           " vendor_id = (SELECT vendor_id FROM customers WHERE id = '%s')",
                           s.customer_id),
                 1);
    /* a purged password is unknown, but its static part still names the node */
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"a\",\"node_id\":\"n1\",\"update_password\":\"%s\"", p2);
    activate(key, fields, &r);
    it_assert_problem(&r, 403, "update_password_unknown");
    cr_assert(strstr(it_str(&r, "detail"), "node n1"), "%s", it_str(&r, "detail"));
    it_response_free(&r);
    site_free(&s);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
}

/* ---- Operating group keys: list, read, change, revoke ---- */

/* GET of a group key (by key or prefix): 200 and the key's JSON (cJSON_Delete it). */
static cJSON *key_view(struct site *s, const char *key_or_prefix)
{
    it_response r;
    char path[160];
    cJSON *o;
    snprintf(path, sizeof path, "/v1/group-keys/%s", key_or_prefix);
    it_json("GET", path, s->vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(it_str(&r, "group_key"), "the key is shown only at creation");
    o = r.json;
    r.json = NULL;
    it_response_free(&r);
    return o;
}

/* Asserts that two views of a key say the same, and frees both. */
static void assert_same_view(cJSON *before, cJSON *after)
{
    char *a = cJSON_PrintUnformatted(before), *b = cJSON_PrintUnformatted(after);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void patch_key(struct site *s, const char *key, const char *body, it_response *r)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/group-keys/%s", key);
    it_json("PATCH", path, s->vendor, body, r);
}

static long long audited(struct site *s, const char *action)
{
    return it_sql_num(
        it_fmt("SELECT count(*) FROM audit a JOIN customers c ON c.vendor_id = a.vendor_id"
               " WHERE c.id = '%s' AND a.object_type = 'group_key' AND a.action = '%s'",
               s->customer_id, action));
}

static double member_number(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);
    cr_assert(cJSON_IsNumber(v), "%s.%s", a, b);
    return v->valuedouble;
}

Test(operate, list_read_change_and_revoke)
{
    struct site s;
    it_response r;
    char key[80], other[80], prefix[16], path[256], lid[32], cid[37], ckey[80];
    cJSON *k, *items;

    site_init(&s);
    it_new_customer(s.vendor, "Second Hoster", cid, ckey);
    new_key(&s, "{\"type\":\"node\"}", ",\"quota_per_container\":{\"mail\":1}", key);
    new_key(&s, "{\"type\":\"app\"}", ",\"on_over_limit\":\"report\"", other);
    snprintf(prefix, sizeof prefix, "%.15s", key);
    it_postf("/v1/group-keys", s.vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"s\",\"products\":[\"web\"],"
             "\"quota_per_node\":{\"web\":1},\"link\":{\"type\":\"container\",\"value\":\"c-9\"}}",
             cid);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_member_str(cJSON_GetObjectItem(r.json, "link"), "type"), "container");
    cr_assert_eq(cJSON_GetObjectItem(r.json, "activations")->valueint, 0);
    it_response_free(&r);

    /* the list: all the vendor's keys, or one customer's, page by page */
    items = it_items("/v1/group-keys", s.vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 3);
    cJSON_Delete(items);
    snprintf(path, sizeof path, "/v1/group-keys?customer_id=%s&limit=1", s.customer_id);
    it_json("GET", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    items = cJSON_GetObjectItem(r.json, "items");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(items, 0), "group_key_prefix"), prefix);
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "group_key"));
    cr_assert(it_str(&r, "next"));
    snprintf(path, sizeof path, "/v1/group-keys?customer_id=%s&limit=1&cursor=%s", s.customer_id,
             it_str(&r, "next"));
    it_response_free(&r);
    it_json("GET", path, s.vendor, NULL, &r);
    items = cJSON_GetObjectItem(r.json, "items");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cr_assert_eq(strncmp(it_member_str(cJSON_GetArrayItem(items, 0), "group_key_prefix"), other,
                         15), 0);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(items, 0), "on_over_limit"), "report");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "next")));
    it_response_free(&r);

    /* one key, by itself or by its prefix, with its activations: unexpired and unblocked */
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c1\"", lid, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\",\"container_id\":\"c2\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n1\",\"product\":\"web\"", NULL, NULL);
    snprintf(path, sizeof path, "/v1/licenses/%s/block", lid);
    it_json("POST", path, s.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    k = key_view(&s, prefix);
    cr_assert_str_eq(it_member_str(k, "group_key_prefix"), prefix);
    cr_assert_str_eq(it_member_str(k, "customer_id"), s.customer_id);
    cr_assert_str_eq(it_member_str(k, "scheme"), "hosting");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(k, "products")), 2);
    cr_assert_eq(member_number(k, "quota_per_node", "mail"), 2);
    cr_assert_eq(member_number(k, "quota_per_container", "mail"), 1);
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(k, "quota_per_container"), "web"));
    cr_assert_str_eq(it_member_str(cJSON_GetObjectItem(k, "link"), "value"), "n1");
    cr_assert_str_eq(it_member_str(k, "on_over_limit"), "refuse");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(k, "expires")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(k, "revoked")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(k, "revoked_at")));
    cr_assert_eq(cJSON_GetObjectItem(k, "activations")->valueint, 2, "a's is blocked");
    cJSON_Delete(k);
    k = key_view(&s, key);
    cr_assert_str_eq(it_member_str(k, "group_key_prefix"), prefix);
    cJSON_Delete(k);

    /* a change: the quotas follow it at once */
    activate_refused(key, ",\"app_id\":\"d\",\"node_id\":\"n1\",\"product\":\"web\"",
                     "quota_exceeded");
    patch_key(&s, prefix,
              "{\"expires\":\"2099-06-01T00:00:00Z\",\"quota_per_node\":{\"web\":2},"
              "\"quota_per_container\":{\"mail\":null,\"web\":1},"
              "\"limits\":{\"mail\":{\"mailboxes\":10}},\"on_over_limit\":\"report\"}",
              &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "expires"), "2099-06-01T00:00:00Z");
    cr_assert_eq(member_number(r.json, "quota_per_node", "mail"), 2, "kept");
    cr_assert_eq(member_number(r.json, "quota_per_node", "web"), 2);
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "quota_per_container"), "mail"));
    cr_assert_eq(member_number(r.json, "quota_per_container", "web"), 1);
    cr_assert_eq(member_number(cJSON_GetObjectItem(r.json, "limits"), "mail", "mailboxes"), 10);
    cr_assert_str_eq(it_str(&r, "on_over_limit"), "report");
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"d\",\"node_id\":\"n1\",\"product\":\"web\","
                     "\"container_id\":\"c9\"", NULL, NULL);
    /* expires null: never; limits {}: none */
    patch_key(&s, key, "{\"expires\":null,\"limits\":{}}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "expires")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "limits")), 0);
    cr_assert_str_eq(it_str(&r, "on_over_limit"), "report", "kept");
    it_response_free(&r);
    cr_assert_eq(audited(&s, "update"), 2);

    /* revoked: every later activation is refused, first of all */
    snprintf(path, sizeof path, "/v1/group-keys/%s/revoke", prefix);
    it_json("POST", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "revoked")));
    cr_assert(it_str(&r, "revoked_at"));
    it_response_free(&r);
    activate_refused(key, ",\"app_id\":\"b\",\"node_id\":\"n1\",\"container_id\":\"c2\"",
                     "group_key_revoked");
    it_postf("/v1/get_key", NULL, &r, "{\"group_key\":\"%s\",\"scheme\":\"other\","
             "\"product\":\"nope\",\"app_id\":\"a\",\"node_id\":\"n9\"}", key);
    it_assert_problem(&r, 403, "group_key_revoked");
    it_response_free(&r);
    /* again: the same answer, audited once */
    it_json("POST", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "revoked")));
    it_response_free(&r);
    cr_assert_eq(audited(&s, "revoke"), 1);
    /* the other key is untouched */
    activate_ok(other, ",\"app_id\":\"a\"", NULL, NULL);
    site_free(&s);
}

/* PATCH bodies answered 400 invalid_field, and what the detail names. */
static const struct {
    const char *what, *body;
} bad_patches[] = {
    {"at least one", "{}"},
    {"at least one", "{\"products\":[\"mail\"]}"},
    {"expires", "{\"expires\":\"2001-01-01T00:00:00Z\"}"},
    {"expires", "{\"expires\":\"tomorrow\"}"},
    {"quota_per_node", "{\"quota_per_node\":[1]}"},
    {"quota_per_node.mail", "{\"quota_per_node\":{\"mail\":0}}"},
    {"quota_per_node.mail", "{\"quota_per_node\":{\"mail\":null}}"},
    {"quota_per_node.cloud", "{\"quota_per_node\":{\"cloud\":1}}"},
    {"quota_per_container.mail", "{\"quota_per_container\":{\"mail\":\"2\"}}"},
    {"quota_per_container.cloud", "{\"quota_per_container\":{\"cloud\":1}}"},
    {"limits", "{\"limits\":7}"},
    {"limits.mail", "{\"limits\":{\"mail\":{\"boxes\":-1}}}"},
    {"limits.cloud", "{\"limits\":{\"cloud\":{\"boxes\":1}}}"},
    {"on_over_limit", "{\"on_over_limit\":\"ignore\"}"},
    {"quota_per_node.cloud",
     "{\"quota_per_node\":{\"web\":2,\"cloud\":1},\"on_over_limit\":\"report\"}"},
};

Test(operate, refusals_and_bad_input_change_nothing)
{
    struct site s, other;
    it_response r;
    char key[80], theirs[80], path[256];
    cJSON *before, *after, *theirs_before;

    site_init(&s);
    site_init(&other);
    new_key(&s, "{\"type\":\"node\"}", NULL, key);
    new_key(&other, "{\"type\":\"node\"}", NULL, theirs);
    it_created("/v1/products", s.vendor, "{\"code\":\"cloud\",\"name\":\"C\",\"version\":\"1\"}");
    before = key_view(&s, key);
    theirs_before = key_view(&other, theirs);
    for (size_t i = 0; i < sizeof bad_patches / sizeof bad_patches[0]; i++) {
        patch_key(&s, key, bad_patches[i].body, &r);
        it_assert_problem(&r, 400, "invalid_field");
        cr_assert(strstr(it_str(&r, "detail"), bad_patches[i].what), "%s: detail %s",
                  bad_patches[i].body, it_str(&r, "detail"));
        it_response_free(&r);
    }
    patch_key(&s, key, "{\"expires\":", &r);
    it_assert_problem(&r, 400, "malformed_json");
    it_response_free(&r);
    {
        char auth[128];
        const char *h[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", s.vendor);
        snprintf(path, sizeof path, "/v1/group-keys/%s", key);
        it_request("PATCH", path, h, "{}", 2, &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    /* credentials; another vendor's key is unknown here, both ways */
    snprintf(path, sizeof path, "/v1/group-keys/%s", key);
    it_json_problem("GET", path, NULL, NULL, 401, "unauthorized");
    it_json_problem("GET", path, s.customer, NULL, 403, "forbidden");
    it_json_problem("GET", path, other.vendor, NULL, 404, "not_found");
    it_json_problem("PATCH", path, other.vendor, "{\"on_over_limit\":\"report\"}", 404,
                    "not_found");
    snprintf(path, sizeof path, "/v1/group-keys/%.15s", key);
    it_json_problem("GET", path, other.vendor, NULL, 404, "not_found");
    snprintf(path, sizeof path, "/v1/group-keys/%s/revoke", key);
    it_json_problem("POST", path, other.vendor, NULL, 404, "not_found");
    it_json_problem("POST", path, s.customer, NULL, 403, "forbidden");
    snprintf(path, sizeof path, "/v1/group-keys/%s/revoke", theirs);
    it_json_problem("POST", path, s.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/group-keys/lg_000000000000", s.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/group-keys/nonsense", s.vendor, NULL, 404, "not_found");
    it_json_problem("POST", "/v1/group-keys/nonsense/revoke", s.vendor, NULL, 404, "not_found");
    /* the list: another vendor's customer, bad filters and pages */
    snprintf(path, sizeof path, "/v1/group-keys?customer_id=%s", other.customer_id);
    it_json_problem("GET", path, s.vendor, NULL, 404, "not_found");
    it_json_problem("GET", "/v1/group-keys?customer_id=nobody", s.vendor, NULL, 400,
                    "invalid_field");
    it_json_problem("GET", "/v1/group-keys?limit=501", s.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/group-keys?cursor=@@", s.vendor, NULL, 400, "invalid_field");
    it_json_problem("GET", "/v1/group-keys", NULL, NULL, 401, "unauthorized");
    it_json_problem("GET", "/v1/group-keys", s.customer, NULL, 403, "forbidden");
    {
        cJSON *items = it_items("/v1/group-keys", other.vendor);
        cr_assert_eq(cJSON_GetArraySize(items), 1, "only its own");
        cJSON_Delete(items);
    }
    /* nothing changed, nothing audited */
    assert_same_view(before, key_view(&s, key));
    cr_assert_eq(audited(&s, "update") + audited(&s, "revoke"), 0);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    /* the other vendor's key, whose revoke was refused, is as it was and still works */
    after = key_view(&other, theirs);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(after, "revoked")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(after, "revoked_at")));
    assert_same_view(theirs_before, after);
    cr_assert_eq(audited(&other, "update") + audited(&other, "revoke"), 0);
    activate_ok(theirs, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    site_free(&other);
    site_free(&s);
}

/* Creation bodies with the new members, answered 400 invalid_field. */
Test(operate, creating_with_bad_container_quotas_or_policy)
{
    struct site s;
    site_init(&s);
    create_refused(&s, s.customer_id, 400, "invalid_field", "quota_per_container.web",
                   MAIL(NODE, ",\"quota_per_container\":{\"web\":1}"));
    create_refused(&s, s.customer_id, 400, "invalid_field", "quota_per_container.mail",
                   MAIL(NODE, ",\"quota_per_container\":{\"mail\":0}"));
    create_refused(&s, s.customer_id, 400, "invalid_field", "quota_per_container",
                   MAIL(NODE, ",\"quota_per_container\":3"));
    create_refused(&s, s.customer_id, 400, "invalid_field", "on_over_limit",
                   MAIL(NODE, ",\"on_over_limit\":\"warn\""));
    create_refused(&s, s.customer_id, 400, "invalid_field", "link.type",
                   MAIL("{\"type\":\"containers\"}", ""));
    cr_assert_eq(sql_count("SELECT count(*) FROM group_keys WHERE customer_id = '%s'",
                           s.customer_id),
                 0);
    site_free(&s);
}

/* ---- Containers ---- */

Test(containers, the_quota_counts_distinct_apps_per_node_and_container)
{
    struct site s;
    char key[80], a[32], path[96];
    it_response r;
    site_init(&s);
    new_key(&s, "{\"type\":\"node\"}", ",\"quota_per_container\":{\"mail\":2}", key);
    /* the node allows 2 as well: use n1's, then n2 for the containers */
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c1\"", a, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\",\"container_id\":\"c1\"", NULL, NULL);
    patch_key(&s, key, "{\"quota_per_node\":{\"mail\":10}}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate(key, ",\"app_id\":\"c\",\"node_id\":\"n1\",\"container_id\":\"c1\"", &r);
    it_assert_problem(&r, 403, "quota_exceeded");
    cr_assert(strstr(it_str(&r, "detail"), "container c1"), "%s", it_str(&r, "detail"));
    it_response_free(&r);
    /* the same app again is not a new instance; another container has its own quota */
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c1\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n1\",\"container_id\":\"c2\"", NULL, NULL);
    /* requests naming no container share one */
    activate_ok(key, ",\"app_id\":\"d\",\"node_id\":\"n1\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"e\",\"node_id\":\"n1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"f\",\"node_id\":\"n1\"", "quota_exceeded");
    /* a blocked activation frees its place; the blocked app itself stays blocked */
    snprintf(path, sizeof path, "/v1/licenses/%s/block", a);
    it_json("POST", path, s.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n1\",\"container_id\":\"c1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c1\"",
                     "license_blocked");
    site_free(&s);
}

Test(containers, a_blocked_activation_no_longer_counts_against_the_node_quota)
{
    struct site s;
    char key[80], a[32], path[96];
    it_response r;
    site_init(&s);
    new_key(&s, "{\"type\":\"node\"}", NULL, key); /* mail: 2 per node */
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", a, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"c\",\"node_id\":\"n1\"", "quota_exceeded");
    snprintf(path, sizeof path, "/v1/licenses/%s/block", a);
    it_json("POST", path, s.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"c\",\"node_id\":\"n1\"", NULL, NULL);
    /* the node is full again, yet the blocked app learns that it is blocked */
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "license_blocked");
    activate_refused(key, ",\"app_id\":\"d\",\"node_id\":\"n1\"", "quota_exceeded");
    site_free(&s);
}

Test(containers, an_empty_container_link_binds_to_the_first_container_seen)
{
    struct site s;
    it_response r;
    char key[80], path[160];
    site_init(&s);
    new_key(&s, "{\"type\":\"container\"}", NULL, key);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "link_mismatch");
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c-1\"", NULL, NULL);
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n2\",\"container_id\":\"c-1\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c-2\"",
                     "link_mismatch");
    {
        cJSON *k = key_view(&s, key);
        cr_assert_str_eq(it_member_str(cJSON_GetObjectItem(k, "link"), "value"), "c-1");
        cJSON_Delete(k);
    }
    snprintf(path, sizeof path, "/v1/group-keys/%s/relink", key);
    it_json("POST", path, s.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c-2\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\",\"container_id\":\"c-1\"",
                     "link_mismatch");
    /* a value given at creation */
    new_key(&s, "{\"type\":\"container\",\"value\":\"c-7\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"a\",\"container_id\":\"c-7\"", NULL, NULL);
    activate_refused(key, ",\"app_id\":\"a\",\"container_id\":\"c-8\"", "link_mismatch");
    site_free(&s);
}

/* ---- Resource limits ---- */

/* Reports one record under a licence JWT: 202, and how many metrics are over. */
static int report(const char *jwt, const char *metric, double value)
{
    char auth[2048], body[256];
    const char *h[] = {"Content-Type: application/json", auth, NULL};
    it_response r;
    int over;
    snprintf(auth, sizeof auth, "Authorization: License %s", jwt);
    snprintf(body, sizeof body, "{\"records\":[{\"metric\":\"%s\",\"value\":%g}]}", metric, value);
    it_request("POST", "/v1/report_usage", h, body, strlen(body), &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    over = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "over_limit"));
    it_response_free(&r);
    return over;
}

Test(limits, a_report_over_a_limit_refuses_the_next_activation)
{
    struct site s;
    it_response r;
    char key[80], jwt[2048], lid[32], again[32];
    site_init(&s);
    new_key(&s, "{\"type\":\"node\"}", ",\"limits\":{\"mail\":{\"mailboxes\":100,\"disk_gb\":5}}",
            key);
    activate(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(jwt, sizeof jwt, "%s", it_str(&r, "license"));
    snprintf(lid, sizeof lid, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
    cr_assert_eq(report(jwt, "mailboxes", 100), 0, "at the limit is within it");
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    cr_assert_eq(report(jwt, "mailboxes", 120), 1);
    activate(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", &r);
    it_assert_problem(&r, 403, "over_limit");
    cr_assert(strstr(it_str(&r, "detail"), "mailboxes"), "%s", it_str(&r, "detail"));
    it_response_free(&r);
    /* another app's licence has no such usage */
    activate_ok(key, ",\"app_id\":\"b\",\"node_id\":\"n1\"", NULL, NULL);
    /* a key that only reports it issues the licence */
    patch_key(&s, key, "{\"on_over_limit\":\"report\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", again, NULL);
    cr_assert_str_eq(again, lid);
    patch_key(&s, key, "{\"on_over_limit\":\"refuse\"}", &r);
    it_response_free(&r);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "over_limit");
    /* the latest report counts: back within the limit, the licence is issued again */
    cr_assert_eq(report(jwt, "mailboxes", 90), 0);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    /* and a raised limit ends it as well */
    cr_assert_eq(report(jwt, "disk_gb", 7.5), 1);
    activate_refused(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", "over_limit");
    patch_key(&s, key, "{\"limits\":{\"mail\":{\"mailboxes\":100,\"disk_gb\":8}}}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    site_free(&s);
}

Test(limits, a_key_created_to_report_issues_over_its_limits)
{
    struct site s;
    it_response r;
    char key[80], jwt[2048];
    site_init(&s);
    new_key(&s, "{\"type\":\"node\"}",
            ",\"limits\":{\"mail\":{\"mailboxes\":1}},\"on_over_limit\":\"report\"", key);
    activate(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(jwt, sizeof jwt, "%s", it_str(&r, "license"));
    it_response_free(&r);
    cr_assert_eq(report(jwt, "mailboxes", 2), 1);
    activate_ok(key, ",\"app_id\":\"a\",\"node_id\":\"n1\"", NULL, NULL);
    site_free(&s);
}

/* ---- Clones that present the original's app and node ---- */

/* An activation of app shop on node n1 presenting password pw: 201 with
 * its licence and new password, or the refusal code. */
static void shop(const char *key, const char *pw, char *lid, char *next)
{
    char fields[256];
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"shop\",\"node_id\":\"n1\",\"update_password\":\"%s\"", pw);
    activate_ok(key, fields, lid, next);
}

static void shop_refused(const char *key, const char *pw, const char *code)
{
    char fields[256];
    snprintf(fields, sizeof fields,
             ",\"app_id\":\"shop\",\"node_id\":\"n1\",\"update_password\":\"%s\"", pw);
    activate_refused(key, fields, code);
}

Test(clones, an_exact_copy_is_blocked_while_the_original_keeps_working)
{
    struct site s;
    it_response r;
    char key[80], original[32], copy[32], lid[32], p0[64], p1[64], c1[64], next[64], id[24];
    cJSON *items, *ev;

    site_init(&s);
    new_key(&s, "{\"type\":\"node\",\"value\":\"n1\"}", NULL, key);
    activate_ok(key, ",\"app_id\":\"shop\",\"node_id\":\"n1\"", original, p0);
    shop(key, p0, lid, p1);
    cr_assert_str_eq(lid, original);
    /* a copy of the whole container (same app, same node) presents p0 again:
     * answered, with a licence of its own */
    shop(key, p0, copy, c1);
    cr_assert_str_neq(copy, original);
    items = queue(&s, "cloned");
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    snprintf(id, sizeof id, "%s", it_member_str(cJSON_GetArrayItem(items, 0), "id"));
    ev = cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "evidence");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 0), "license_id"), original);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "kind"), "clone");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(ev, 1), "license_id"), copy);
    cJSON_Delete(items);
    /* the copy's own chain follows its licence until it is blocked */
    shop(key, c1, lid, next);
    cr_assert_str_eq(lid, copy);
    snprintf(c1, sizeof c1, "%s", next);

    resolve(&s, id, "block", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "blocked_licenses")), 1, "%s",
                 r.body);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "blocked_licenses"), 0)
                         ->valuestring, copy);
    it_response_free(&r);

    /* the copy stays blocked: with its own password, or the one it copied */
    shop_refused(key, c1, "license_blocked");
    shop_refused(key, p0, "license_blocked");
    /* the original's chain keeps working, round after round */
    for (int i = 0; i < 3; i++) {
        shop(key, p1, lid, next);
        cr_assert_str_eq(lid, original);
        snprintf(p1, sizeof p1, "%s", next);
    }
    activate_ok(key, ",\"app_id\":\"shop\",\"node_id\":\"n1\"", lid, NULL);
    cr_assert_str_eq(lid, original);
    /* the refusals recorded nothing: still nothing in the queue */
    items = queue(&s, "cloned");
    cr_assert_eq(cJSON_GetArraySize(items), 0);
    cJSON_Delete(items);
    site_free(&s);
}
