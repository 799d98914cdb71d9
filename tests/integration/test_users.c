/* Operating users of the shared-computer model against the real licd and
 * PostgreSQL: listing and reading users with their entitlements and
 * machines, freeing a machine's slot, lifting a revocation, and the
 * machine limit under concurrent sign-ins. Every refusal is checked to
 * change nothing, and other vendors' and customers' ids to be 404. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* A vendor with a customer, the products "app" and "viewer", and each
 * test's own users. */
struct site {
    char *vendor;
    char customer_id[37], customer[80];
};

static void site_init(struct site *s, const char *name)
{
    s->vendor = it_new_vendor(name);
    it_new_customer(s->vendor, "Hoster", s->customer_id, s->customer);
    it_created("/v1/products", s->vendor,
               "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\",\"features\":[\"edit\"]}");
    it_created("/v1/products", s->vendor,
               "{\"code\":\"viewer\",\"name\":\"Viewer\",\"version\":\"1\",\"features\":[\"view\"]}");
}

static void add_user(struct site *s, const char *user, const char *entitlement)
{
    it_response r;
    it_created("/v1/users", s->vendor,
               "{\"customer_id\":\"%s\",\"username\":\"%s\",\"password\":\"pw-%s-secret\"}",
               s->customer_id, user, user);
    it_json("PUT", it_fmt("/v1/users/%s/entitlements/app?customer_id=%s", user, s->customer_id),
            s->vendor, entitlement, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
}

/* Asserts a problem answer whose detail mentions what (when given). */
static void expect_problem(long status, const char *code, const char *what, const char *method,
                           const char *path, const char *key, const char *body)
{
    it_response r;
    it_json(method, path, key, body, &r);
    it_assert_problem(&r, status, code);
    if (what)
        cr_assert(strstr(it_str(&r, "detail"), what), "detail of %s %s lacks \"%s\": %s", method,
                  path, what, r.body);
    it_response_free(&r);
}

/* A sign-in: "201" with the token into tok (when given), or the problem's code. */
static const char *sign_in(struct site *s, const char *user, const char *machine, char *tok,
                           size_t cap)
{
    static char code[64];
    it_response r;
    it_postf("/v1/tokens", s->customer, &r,
             "{\"username\":\"%s\",\"password\":\"pw-%s-secret\",\"machine_id\":\"%s\","
             "\"products\":[\"app\"]}",
             user, user, machine);
    if (r.status == 201) {
        snprintf(code, sizeof code, "201");
        if (tok)
            snprintf(tok, cap, "%s", it_str(&r, "token"));
    } else {
        cr_assert(it_str(&r, "code"), "%ld without a problem code: %s", r.status, r.body);
        it_assert_problem(&r, r.status, it_str(&r, "code"));
        snprintf(code, sizeof code, "%s", it_str(&r, "code"));
    }
    it_response_free(&r);
    return code;
}

/* A renewal; returns the answer's status, and the new token into tok when 201. */
static long renew(const char *token, const char *machine, char *tok, size_t cap)
{
    it_response r;
    long status;
    it_postf("/v1/tokens/renew", NULL, &r, "{\"token\":\"%s\",\"machine_id\":\"%s\"}", token,
             machine);
    status = r.status;
    if (status == 201 && tok)
        snprintf(tok, cap, "%s", it_str(&r, "token"));
    else if (status != 201)
        it_assert_problem(&r, 401, "renewal_refused");
    it_response_free(&r);
    return status;
}

/* The actions of the vendor's audit trail, comma-separated, oldest first. */
static const char *audit_actions(const char *vendor)
{
    static char actions[4096];
    cJSON *items = it_items("/v1/audit?limit=500", vendor), *e;
    actions[0] = '\0';
    cJSON_ArrayForEach(e, items) {
        size_t n = strlen(actions);
        snprintf(actions + n, sizeof actions - n, "%s%s", n ? "," : "", it_member_str(e, "action"));
    }
    cJSON_Delete(items);
    return actions;
}

Test(users, listed_a_page_at_a_time_without_secrets)
{
    struct site s;
    it_response r, p2;
    const char *names[] = {"ann", "bob", "cyd"};

    site_init(&s, "Listing Vendor");
    for (int i = 0; i < 3; i++)
        add_user(&s, names[i], "{\"state\":\"valid\"}");
    it_expect(&r, 200, "GET", it_fmt("/v1/users?customer_id=%s&limit=2", s.customer_id), s.vendor, NULL);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 2, "%s", r.body);
    for (int i = 0; i < 2; i++) {
        const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), i);
        cr_assert_str_eq(it_member_str(u, "username"), names[i]);
        cr_assert_str_eq(it_member_str(u, "customer_id"), s.customer_id);
        cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(u, "revoked")));
        it_member_str(u, "user_id");
    }
    cr_assert(!strstr(r.body, "scrypt") && !strstr(r.body, "password"), "%s", r.body);
    it_expect(&p2, 200, "GET", it_fmt("/v1/users?customer_id=%s&limit=2&cursor=%s", s.customer_id,
                              it_str(&r, "next")),
           s.vendor, NULL);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(p2.json, "items")), 1);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(cJSON_GetObjectItem(p2.json, "items"), 0),
                                   "username"),
                     "cyd");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(p2.json, "next")));
    it_response_free(&p2);
    it_response_free(&r);

    /* Another customer of the same vendor has its own (empty) list. */
    {
        char other_id[37], other_key[80];
        cJSON *items;
        it_new_customer(s.vendor, "Other Hoster", other_id, other_key);
        items = it_items(it_fmt("/v1/users?customer_id=%s", other_id), s.vendor);
        cr_assert_eq(cJSON_GetArraySize(items), 0);
        cJSON_Delete(items);
    }
    free(s.vendor);
}

Test(users, list_refusals)
{
    struct site s;
    char *other = it_new_vendor("Foreign Vendor");
    site_init(&s, "Refusing Vendor");
    add_user(&s, "ann", "{\"state\":\"valid\"}");
    expect_problem(400, "invalid_field", "customer_id", "GET", "/v1/users", s.vendor, NULL);
    expect_problem(400, "invalid_field", "limit", "GET",
                   it_fmt("/v1/users?customer_id=%s&limit=0", s.customer_id), s.vendor, NULL);
    expect_problem(400, "invalid_field", "cursor", "GET",
                   it_fmt("/v1/users?customer_id=%s&cursor=-1", s.customer_id), s.vendor, NULL);
    expect_problem(404, "not_found", NULL, "GET", it_fmt("/v1/users?customer_id=%s", s.customer_id),
                   other, NULL);
    expect_problem(404, "not_found", NULL, "GET", "/v1/users?customer_id=not-a-uuid", s.vendor,
                   NULL);
    expect_problem(403, "forbidden", NULL, "GET", it_fmt("/v1/users?customer_id=%s", s.customer_id),
                   s.customer, NULL);
    expect_problem(401, "unauthorized", NULL, "GET", it_fmt("/v1/users?customer_id=%s", s.customer_id),
                   NULL, NULL);
    free(other);
    free(s.vendor);
}

Test(users, one_user_with_entitlements_and_machines)
{
    struct site s;
    it_response r;
    const cJSON *e, *m;
    char tok[4096];

    site_init(&s, "Reading Vendor");
    add_user(&s, "ann", "{\"state\":\"valid\",\"max_machines\":3}");
    it_expect(&r, 200, "PUT", it_fmt("/v1/users/ann/entitlements/viewer?customer_id=%s", s.customer_id),
           s.vendor,
           "{\"state\":\"intermediate\",\"features\":[\"view\"],\"max_machines\":2,"
           "\"expires\":\"2031-01-01T00:00:00Z\"}");
    it_response_free(&r);
    cr_assert_str_eq(sign_in(&s, "ann", "pc-1", tok, sizeof tok), "201");
    cr_assert_str_eq(sign_in(&s, "ann", "pc-2", NULL, 0), "201");
    /* Renewals add tokens, not machines: pc-1 is still one machine, now the latest. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(renew(tok, "pc-1", tok, sizeof tok), 201);

    it_expect(&r, 200, "GET", it_fmt("/v1/users/ann?customer_id=%s", s.customer_id), s.vendor, NULL);
    cr_assert_str_eq(it_str(&r, "username"), "ann");
    cr_assert_str_eq(it_str(&r, "customer_id"), s.customer_id);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "revoked")));
    e = cJSON_GetObjectItem(r.json, "entitlements");
    cr_assert_eq(cJSON_GetArraySize(e), 2, "%s", r.body);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(e, 0), "product"), "app");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(e, 0), "state"), "valid");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "expires")));
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "max_machines")->valueint, 3);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(e, 1), "product"), "viewer");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(e, 1), "state"), "intermediate");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(e, 1), "expires"), "2031-01-01T00:00:00Z");
    cr_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 1), "features"), 0)->valuestring,
        "view");
    m = cJSON_GetObjectItem(r.json, "machines");
    cr_assert_eq(cJSON_GetArraySize(m), 2, "%s", r.body);
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(m, 0), "machine_id"), "pc-1");
    cr_assert_str_eq(it_member_str(cJSON_GetArrayItem(m, 1), "machine_id"), "pc-2");
    cr_assert(strcmp(it_member_str(cJSON_GetArrayItem(m, 0), "token_expires_at"),
                     it_member_str(cJSON_GetArrayItem(m, 0), "last_token_at")) > 0);
    it_response_free(&r);

    /* Unknown users, and users asked for under another customer or vendor. */
    {
        char other_id[37], other_key[80], *other = it_new_vendor("Foreign Vendor");
        it_new_customer(s.vendor, "Other Hoster", other_id, other_key);
        expect_problem(404, "not_found", "nobody", "GET",
                       it_fmt("/v1/users/nobody?customer_id=%s", s.customer_id), s.vendor, NULL);
        expect_problem(404, "not_found", "ann", "GET", it_fmt("/v1/users/ann?customer_id=%s", other_id),
                       s.vendor, NULL);
        expect_problem(404, "not_found", NULL, "GET",
                       it_fmt("/v1/users/ann?customer_id=%s", s.customer_id), other, NULL);
        expect_problem(400, "invalid_field", "customer_id", "GET", "/v1/users/ann", s.vendor, NULL);
        expect_problem(403, "forbidden", NULL, "GET",
                       it_fmt("/v1/users/ann?customer_id=%s", s.customer_id), s.customer, NULL);
        free(other);
    }
    free(s.vendor);
}

Test(machines, a_freed_slot_admits_the_next_machine_and_its_tokens_never_renew)
{
    struct site s;
    it_response r;
    char m1[4096], m1_again[4096], m2[4096];

    site_init(&s, "Freeing Vendor");
    add_user(&s, "bo", "{\"state\":\"valid\",\"max_machines\":1}");
    cr_assert_str_eq(sign_in(&s, "bo", "laptop", m1, sizeof m1), "201");
    cr_assert_str_eq(sign_in(&s, "bo", "desktop", NULL, 0), "machine_limit_reached");

    it_expect(&r, 204, "DELETE", it_fmt("/v1/users/bo/machines/laptop?customer_id=%s", s.customer_id),
           s.vendor, NULL);
    cr_assert_eq(r.len, 0);
    it_response_free(&r);
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "bo"), "");
    cr_assert_eq(renew(m1, "laptop", NULL, 0), 401, "a freed machine's token is not renewed");
    cr_assert_str_eq(sign_in(&s, "bo", "desktop", m2, sizeof m2), "201", "the slot is free");
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "bo"), "desktop");
    cr_assert_str_eq(sign_in(&s, "bo", "laptop", NULL, 0), "machine_limit_reached",
                     "desktop holds the one slot now");
    cr_assert_eq(renew(m2, "desktop", m2, sizeof m2), 201);
    cr_assert_str_eq(audit_actions(s.vendor), "create,create,create,create,entitle,free_machine");

    /* Freeing again changes nothing; then the laptop signs in again with
     * the password (at once, within the same second as the freeing): its
     * new token renews, the one from before the freeing still does not. */
    it_expect(&r, 204, "DELETE", it_fmt("/v1/users/bo/machines/laptop?customer_id=%s", s.customer_id),
           s.vendor, NULL);
    it_response_free(&r);
    it_expect(&r, 204, "DELETE", it_fmt("/v1/users/bo/machines/desktop?customer_id=%s", s.customer_id),
           s.vendor, NULL);
    it_response_free(&r);
    cr_assert_str_eq(sign_in(&s, "bo", "laptop", m1_again, sizeof m1_again), "201");
    cr_assert_eq(renew(m1_again, "laptop", NULL, 0), 201);
    cr_assert_eq(renew(m1, "laptop", NULL, 0), 401);
    cr_assert_eq(renew(m2, "desktop", NULL, 0), 401);
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "bo"), "laptop");
    free(s.vendor);
}

Test(machines, refusals_free_nothing)
{
    struct site s;
    it_response r;
    char tok[4096], *other = it_new_vendor("Foreign Vendor");
    char other_id[37], other_key[80];

    site_init(&s, "Careful Vendor");
    it_new_customer(s.vendor, "Other Hoster", other_id, other_key);
    add_user(&s, "cy", "{\"state\":\"valid\",\"max_machines\":1}");
    cr_assert_str_eq(sign_in(&s, "cy", "pc", tok, sizeof tok), "201");

    expect_problem(404, "not_found", "never had a token on machine elsewhere", "DELETE",
                   it_fmt("/v1/users/cy/machines/elsewhere?customer_id=%s", s.customer_id), s.vendor,
                   NULL);
    expect_problem(404, "not_found", "nobody", "DELETE",
                   it_fmt("/v1/users/nobody/machines/pc?customer_id=%s", s.customer_id), s.vendor, NULL);
    expect_problem(404, "not_found", NULL, "DELETE",
                   it_fmt("/v1/users/cy/machines/pc?customer_id=%s", other_id), s.vendor, NULL);
    expect_problem(404, "not_found", NULL, "DELETE",
                   it_fmt("/v1/users/cy/machines/pc?customer_id=%s", s.customer_id), other, NULL);
    expect_problem(400, "invalid_field", "customer_id", "DELETE", "/v1/users/cy/machines/pc",
                   s.vendor, NULL);
    expect_problem(403, "forbidden", NULL, "DELETE",
                   it_fmt("/v1/users/cy/machines/pc?customer_id=%s", s.customer_id), s.customer, NULL);
    expect_problem(401, "unauthorized", NULL, "DELETE",
                   it_fmt("/v1/users/cy/machines/pc?customer_id=%s", s.customer_id), NULL, NULL);

    /* pc still holds its slot and renews; nothing was audited. */
    cr_assert_str_eq(it_machines(s.vendor, s.customer_id, "cy"), "pc");
    cr_assert_str_eq(sign_in(&s, "cy", "another-pc", NULL, 0), "machine_limit_reached");
    cr_assert_eq(renew(tok, "pc", NULL, 0), 201);
    cr_assert_str_eq(audit_actions(s.vendor), "create,create,create,create,create,entitle");
    it_json("GET", "/v1/audit", other, NULL, &r);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "items")), 0);
    it_response_free(&r);
    free(other);
    free(s.vendor);
}

Test(users, unrevoke_lets_the_user_sign_in_and_renew_again)
{
    struct site s;
    it_response r;
    char tok[4096], *other = it_new_vendor("Foreign Vendor");

    site_init(&s, "Forgiving Vendor");
    add_user(&s, "di", "{\"state\":\"valid\"}");
    cr_assert_str_eq(sign_in(&s, "di", "pc", tok, sizeof tok), "201");
    it_expect(&r, 200, "POST", it_fmt("/v1/users/di/revoke?customer_id=%s", s.customer_id), s.vendor, NULL);
    it_response_free(&r);
    it_postf("/v1/tokens", s.customer, &r,
             "{\"username\":\"di\",\"password\":\"pw-di-secret\",\"machine_id\":\"pc\","
             "\"products\":[\"app\"]}");
    it_assert_problem(&r, 403, "user_revoked");
    cr_assert(strstr(it_str(&r, "detail"), "revoked user di") &&
                  strstr(it_str(&r, "detail"), "unrevoke"),
              "the detail says what happened and what to do: %s", it_str(&r, "detail"));
    it_response_free(&r);
    cr_assert_eq(renew(tok, "pc", NULL, 0), 401);

    /* Refusals change nothing. */
    expect_problem(404, "not_found", "nobody", "POST",
                   it_fmt("/v1/users/nobody/unrevoke?customer_id=%s", s.customer_id), s.vendor, NULL);
    expect_problem(404, "not_found", NULL, "POST",
                   it_fmt("/v1/users/di/unrevoke?customer_id=%s", s.customer_id), other, NULL);
    expect_problem(400, "invalid_field", "customer_id", "POST", "/v1/users/di/unrevoke", s.vendor,
                   NULL);
    expect_problem(403, "forbidden", NULL, "POST",
                   it_fmt("/v1/users/di/unrevoke?customer_id=%s", s.customer_id), s.customer, NULL);
    cr_assert_str_eq(sign_in(&s, "di", "pc", NULL, 0), "user_revoked");

    it_expect(&r, 200, "POST", it_fmt("/v1/users/di/unrevoke?customer_id=%s", s.customer_id), s.vendor,
           NULL);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "revoked")), "%s", r.body);
    cr_assert_str_eq(it_str(&r, "username"), "di");
    it_response_free(&r);
    cr_assert_eq(renew(tok, "pc", NULL, 0), 201, "a token from before the revocation renews");
    cr_assert_str_eq(sign_in(&s, "di", "pc", NULL, 0), "201");
    cr_assert_str_eq(audit_actions(s.vendor), "create,create,create,create,entitle,revoke,unrevoke");
    free(other);
    free(s.vendor);
}

/* A revocation asked for by another vendor, or naming the user under
 * another customer of the same vendor, is 404 and revokes nobody: the
 * user still signs in and renews, and nothing is audited. */
Test(users, revoke_refusals_leave_the_user_unrevoked)
{
    struct site s, o;
    it_response r;
    char tok[4096], other_id[37], other_key[80];

    site_init(&s, "Revoking Vendor");
    site_init(&o, "Foreign Vendor");
    it_new_customer(s.vendor, "Other Hoster", other_id, other_key);
    add_user(&s, "el", "{\"state\":\"valid\"}");
    add_user(&o, "el", "{\"state\":\"valid\"}");
    cr_assert_str_eq(sign_in(&s, "el", "pc", tok, sizeof tok), "201");

    expect_problem(404, "not_found", s.customer_id, "POST",
                   it_fmt("/v1/users/el/revoke?customer_id=%s", s.customer_id), o.vendor, NULL);
    expect_problem(404, "not_found", "no user el", "POST",
                   it_fmt("/v1/users/el/revoke?customer_id=%s", other_id), s.vendor, NULL);
    expect_problem(404, "not_found", "nobody", "POST",
                   it_fmt("/v1/users/nobody/revoke?customer_id=%s", s.customer_id), s.vendor, NULL);
    expect_problem(400, "invalid_field", "customer_id", "POST", "/v1/users/el/revoke", s.vendor,
                   NULL);
    expect_problem(403, "forbidden", NULL, "POST",
                   it_fmt("/v1/users/el/revoke?customer_id=%s", s.customer_id), s.customer, NULL);

    /* Read back: el of either vendor is not revoked, signs in and renews. */
    it_expect(&r, 200, "GET", it_fmt("/v1/users/el?customer_id=%s", s.customer_id), s.vendor, NULL);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "revoked")), "%s", r.body);
    it_response_free(&r);
    it_expect(&r, 200, "GET", it_fmt("/v1/users/el?customer_id=%s", o.customer_id), o.vendor, NULL);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "revoked")), "%s", r.body);
    it_response_free(&r);
    cr_assert_eq(renew(tok, "pc", NULL, 0), 201);
    cr_assert_str_eq(sign_in(&s, "el", "pc", NULL, 0), "201");
    cr_assert_str_eq(sign_in(&o, "el", "pc", NULL, 0), "201");
    cr_assert_str_eq(audit_actions(s.vendor), "create,create,create,create,create,entitle");
    cr_assert_str_eq(audit_actions(o.vendor), "create,create,create,create,entitle");
    free(o.vendor);
    free(s.vendor);
}

/* A user's activity is shown to its own vendor under its own customer
 * only: another vendor (which has a user of that name itself) and another
 * customer's id are 404. */
Test(users, activity_of_another_vendor_or_customer_is_404)
{
    struct site s, o;
    it_response r;
    char other_id[37], other_key[80];

    site_init(&s, "Watching Vendor");
    site_init(&o, "Foreign Vendor");
    it_new_customer(s.vendor, "Other Hoster", other_id, other_key);
    add_user(&s, "fi", "{\"state\":\"valid\"}");
    add_user(&o, "fi", "{\"state\":\"valid\"}");
    cr_assert_str_eq(sign_in(&s, "fi", "pc", NULL, 0), "201");
    it_expect(&r, 200, "GET", it_fmt("/v1/users/fi/activity?customer_id=%s", s.customer_id),
              s.vendor, NULL);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "distinct_machines")->valueint, 1, "%s", r.body);
    it_response_free(&r);

    expect_problem(404, "not_found", s.customer_id, "GET",
                   it_fmt("/v1/users/fi/activity?customer_id=%s", s.customer_id), o.vendor, NULL);
    expect_problem(404, "not_found", "no user fi", "GET",
                   it_fmt("/v1/users/fi/activity?customer_id=%s", other_id), s.vendor, NULL);
    expect_problem(404, "not_found", "nobody", "GET",
                   it_fmt("/v1/users/nobody/activity?customer_id=%s", s.customer_id), s.vendor,
                   NULL);
    expect_problem(400, "invalid_field", "customer_id", "GET", "/v1/users/fi/activity", s.vendor,
                   NULL);
    expect_problem(403, "forbidden", NULL, "GET",
                   it_fmt("/v1/users/fi/activity?customer_id=%s", s.customer_id), s.customer, NULL);
    /* The other vendor's own fi never signed in: nothing of s's fi shows. */
    it_expect(&r, 200, "GET", it_fmt("/v1/users/fi/activity?customer_id=%s", o.customer_id),
              o.vendor, NULL);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "distinct_machines")->valueint, 0, "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "machines")), 0, "%s", r.body);
    it_response_free(&r);
    free(o.vendor);
    free(s.vendor);
}

/* ---- migration 0012: the machines of tokens issued before it ---- */

Test(migration, user_machines_are_filled_from_the_tokens_issued_before)
{
    char db[64], url[512], dir[] = "/tmp/licd-before-0012-XXXXXX", cmd[2048], *out = NULL;

    /* A database of its own, migrated up to just before 0012. */
    snprintf(db, sizeof db, "licd_backfill_%d", (int)getpid());
    it_db_url(db, url, sizeof url);
    cr_assert_eq(it_sql(it_fmt("CREATE DATABASE %s", db), &out), 0, "%s", out);
    free(out);
    cr_assert(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "for m in '%s'/*.sql; do case $(basename \"$m\") in 0012_*) break ;; esac;"
             " cp \"$m\" '%s'/; done && LICD_DATABASE_URL='%s' '%s' migrate --dir '%s' 2>&1",
             it_env("LICD_TEST_MIGRATIONS"), dir, url, it_env("LICD_BIN"), dir);
    cr_assert_eq(it_sh(cmd, &out), 0, "%s", out);
    free(out);
    /* ann's tokens: three on pc-a (renewals), one on pc-b. */
    cr_assert_eq(it_sql_at(url,
                      "WITH v AS (INSERT INTO vendors (name) VALUES ('Old') RETURNING id),"
                      " c AS (INSERT INTO customers (vendor_id, name) SELECT id, 'C' FROM v RETURNING id),"
                      " u AS (INSERT INTO users (customer_id, username, password_hash)"
                      "  SELECT id, 'ann', 'x' FROM c RETURNING id)"
                      " INSERT INTO session_tokens (user_id, machine_id, products, issued_at, expires_at)"
                      " SELECT u.id, t.m, '{app}', now() - make_interval(hours => t.h),"
                      "  now() - make_interval(hours => t.h) + interval '30 days'"
                      " FROM u, (VALUES ('pc-a', 3), ('pc-a', 1), ('pc-a', 2), ('pc-b', 5)) t(m, h)",
                      &out),
                 0, "%s", out);
    free(out);

    snprintf(cmd, sizeof cmd, "LICD_DATABASE_URL='%s' '%s' migrate --dir '%s' 2>&1", url,
             it_env("LICD_BIN"), it_env("LICD_TEST_MIGRATIONS"));
    cr_assert_eq(it_sh(cmd, &out), 0, "%s", out);
    free(out);
    cr_assert_eq(it_sql_at(url,
                      "SELECT string_agg(m.machine_id || ':' || (m.last_token_at = max_issued)"
                      " || (m.token_expires_at = max_expires) || (m.freed_at IS NULL)"
                      " || (m.renew_from = 0), ',' ORDER BY m.machine_id)"
                      " FROM user_machines m JOIN (SELECT user_id, machine_id,"
                      "  max(issued_at) AS max_issued, max(expires_at) AS max_expires"
                      "  FROM session_tokens GROUP BY user_id, machine_id) s USING (user_id, machine_id)",
                      &out),
                 0, "%s", out);
    cr_assert_str_eq(out, "pc-a:truetruetruetrue,pc-b:truetruetruetrue\n");
    free(out);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    it_sh(cmd, NULL);
    cr_assert_eq(it_sql(it_fmt("DROP DATABASE %s", db), &out), 0, "%s", out);
    free(out);
}

/* ---- the machine limit under concurrent sign-ins ---- */

#define RACERS 8

struct racer {
    const char *url, *key;
    char body[512];
    long status;
};

static size_t discard(char *data, size_t size, size_t n, void *p)
{
    (void)data;
    (void)p;
    return size * n;
}

/* One POST from its own thread (libcurl directly: Criterion's asserts
 * belong to the test's thread). */
static void *race(void *p)
{
    struct racer *r = p;
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->key);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

Test(machines, concurrent_sign_ins_never_pass_the_limit, .timeout = 120)
{
    struct site s;
    struct racer r[RACERS];
    pthread_t t[RACERS];
    char url[256];
    int created = 0;

    site_init(&s, "Racing Vendor");
    add_user(&s, "eve", "{\"state\":\"valid\",\"max_machines\":3}");
    snprintf(url, sizeof url, "%s/v1/tokens", it_url());
    curl_global_init(CURL_GLOBAL_ALL);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){url, s.customer, "", 0};
        snprintf(r[i].body, sizeof r[i].body,
                 "{\"username\":\"eve\",\"password\":\"pw-eve-secret\",\"machine_id\":\"m%d\","
                 "\"products\":[\"app\"]}",
                 i);
        cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < RACERS; i++) {
        cr_assert(r[i].status == 201 || r[i].status == 403, "racer %d: %ld", i, r[i].status);
        created += r[i].status == 201;
    }
    cr_assert_eq(created, 3, "%d machines signed in, the limit is 3", created);
    cr_assert_eq(strlen(it_machines(s.vendor, s.customer_id, "eve")), strlen("mX,mX,mX"));
    free(s.vendor);
}
