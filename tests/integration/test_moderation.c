/* Clone moderation at scale: one update password presented by 500 copies of
 * an application, all blocked by one resolution whose audit entry lists
 * every copy's licence — the real licd over HTTP against the real PostgreSQL. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define COPIES 500
#define WORKERS 8

/* A share of the copies one thread activates: copy i runs on node
 * "copy-<i>" with the original's first password. */
struct copies {
    const char *key, *password;
    long status[COPIES];
    char license_id[COPIES][32];
};

struct worker {
    struct copies *all;
    int first;
};

static void *activate_copies(void *p)
{
    struct worker *w = p;
    struct copies *c = w->all;
    for (int i = w->first; i < COPIES; i += WORKERS) {
        it_response r;
        it_postf("/v1/get_key", NULL, &r,
                 "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
                 "\"app_id\":\"shop\",\"node_id\":\"copy-%d\",\"update_password\":\"%s\"}",
                 c->key, i, c->password);
        c->status[i] = r.status;
        snprintf(c->license_id[i], sizeof c->license_id[i], "%s",
                 it_str(&r, "license_id") ? it_str(&r, "license_id") : "");
        it_response_free(&r);
    }
    return NULL;
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

/* The vendor's whole audit trail, page by page (cJSON_Delete it). */
static cJSON *whole_audit(const char *vendor)
{
    cJSON *all = cJSON_CreateArray(), *item;
    char path[160] = "/v1/audit?limit=500";
    for (;;) {
        it_response r;
        const char *next;
        it_json("GET", path, vendor, NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        while ((item = cJSON_DetachItemFromArray(cJSON_GetObjectItem(r.json, "items"), 0)))
            cJSON_AddItemToArray(all, item);
        next = it_str(&r, "next");
        if (next)
            snprintf(path, sizeof path, "/v1/audit?limit=500&cursor=%s", next);
        it_response_free(&r);
        if (!next)
            return all;
    }
}

Test(moderation, blocking_500_copies_audits_every_licence, .timeout = 120)
{
    static struct copies c;
    struct worker w[WORKERS];
    pthread_t t[WORKERS];
    char *vendor, customer_id[37], customer[80], key[80], original[32], password[64], id[24];
    static char listed[COPIES][32];
    const cJSON *details = NULL, *blocked, *entry, *lid;
    cJSON *items, *audit;
    it_response r;
    int blocks = 0;

    vendor = it_new_vendor("Moderation Vendor");
    it_new_customer(vendor, "Hoster", customer_id, customer);
    it_created("/v1/products", vendor, "{\"code\":\"mail\",\"name\":\"Mail\",\"version\":\"3\"}");
    it_postf("/v1/group-keys", vendor, &r,
             "{\"customer_id\":\"%s\",\"scheme\":\"hosting\",\"products\":[\"mail\"],"
             "\"quota_per_node\":{\"mail\":1},"
             "\"link\":{\"type\":\"ip_range\",\"value\":\"127.0.0.1/32\"}}",
             customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(key, sizeof key, "%s", it_str(&r, "group_key"));
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
             "\"app_id\":\"shop\",\"node_id\":\"original\"}",
             key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(original, sizeof original, "%s", it_str(&r, "license_id"));
    snprintf(password, sizeof password, "%s", it_str(&r, "update_password"));
    it_response_free(&r);

    /* The original presents its password first (its first use, never
     * blocked); then 500 copies present the same one. */
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
             "\"app_id\":\"shop\",\"node_id\":\"original\",\"update_password\":\"%s\"}",
             key, password);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    c.key = key;
    c.password = password;
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){&c, i};
        pthread_create(&t[i], NULL, activate_copies, &w[i]);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < COPIES; i++)
        cr_assert_eq(c.status[i], 201, "copy %d answered %ld", i, c.status[i]);

    items = it_items("/v1/update-passwords?status=cloned", vendor);
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    snprintf(id, sizeof id, "%s", it_member_str(cJSON_GetArrayItem(items, 0), "id"));
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "evidence_count")->valueint,
                 COPIES + 1);
    cJSON_Delete(items);

    {
        char path[96];
        snprintf(path, sizeof path, "/v1/update-passwords/%s/resolve", id);
        it_postf(path, vendor, &r, "{\"action\":\"block\"}");
    }
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "blocked_licenses")), COPIES);
    it_response_free(&r);
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"mail\","
             "\"app_id\":\"shop\",\"node_id\":\"copy-0\"}",
             key);
    it_assert_problem(&r, 403, "license_blocked");
    it_response_free(&r);

    /* The resolution's audit entry names every copy's licence, and only
     * those; each copy has its own "block" entry as well. */
    audit = whole_audit(vendor);
    cJSON_ArrayForEach(entry, audit) {
        const char *action = it_member_str(entry, "action");
        if (strcmp(action, "resolve") == 0) {
            cr_assert_str_eq(it_member_str(entry, "object_id"), id);
            details = cJSON_GetObjectItem(entry, "details");
        } else if (strcmp(action, "block") == 0) {
            cr_assert_str_eq(
                it_member_str(cJSON_GetObjectItem(entry, "details"), "update_password_id"), id);
            blocks++;
        }
    }
    cr_assert(details, "no resolve entry in the audit trail");
    cr_assert_str_eq(it_member_str(details, "action"), "block");
    blocked = cJSON_GetObjectItem(details, "blocked_licenses");
    cr_assert_eq(cJSON_GetArraySize(blocked), COPIES);
    cr_assert_eq(blocks, COPIES);
    {
        int n = 0;
        cJSON_ArrayForEach(lid, blocked) {
            cr_assert(cJSON_IsString(lid));
            snprintf(listed[n++], sizeof listed[0], "%s", lid->valuestring);
        }
    }
    qsort(listed, COPIES, sizeof listed[0], by_text);
    qsort(c.license_id, COPIES, sizeof c.license_id[0], by_text);
    for (int i = 0; i < COPIES; i++) {
        cr_assert_str_eq(listed[i], c.license_id[i], "licence %d", i);
        cr_assert_str_neq(listed[i], original);
    }
    cJSON_Delete(audit);
    free(vendor);
}
