/* get_key, challenges and upgrades end to end: the real licd over HTTP
 * against the real PostgreSQL, licences checked with libjwt against the JWKS. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "fill.h"
#include "harness.h"

/* One vendor, one customer and one product per test, so tests run in parallel. */
struct world {
    char *vendor;
    char customer_id[37], customer[80];
    char product[40];
};

static void world_init(struct world *w, const char *product_json_extra)
{
    it_response r;
    w->vendor = it_new_vendor("Keys Vendor");
    it_new_customer(w->vendor, "Keys Customer", w->customer_id, w->customer);
    snprintf(w->product, sizeof w->product, "app");
    it_postf("/v1/products", w->vendor, &r,
             "{\"code\":\"app\",\"name\":\"App\",\"version\":\"1\",\"features\":[\"a\",\"b\"]%s}",
             product_json_extra ? product_json_extra : "");
    cr_assert_eq(r.status, 201, "create product: %s", r.body);
    it_response_free(&r);
}

static void world_free(struct world *w) { free(w->vendor); }

static void add_pack(struct world *w, const char *pack_id, int quantity, const char *extra)
{
    it_response r;
    it_postf("/v1/packs", w->vendor, &r,
             "{\"pack_id\":\"%s\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"1\","
             "\"type\":\"per_device\",\"quantity\":%d%s}",
             pack_id, w->customer_id, quantity, extra ? extra : "");
    cr_assert_eq(r.status, 201, "create pack: %s", r.body);
    it_response_free(&r);
}

static void get_key(const char *key, const char *client, const char *extra, it_response *r)
{
    it_postf("/v1/get_key", key, r, "{\"product\":\"app\",\"client_id\":\"%s\"%s}", client,
             extra ? extra : "");
}

static long long pack_assigned(struct world *w, const char *pack_id)
{
    it_response r;
    char path[128];
    long long n;
    snprintf(path, sizeof path, "/v1/packs/%s", pack_id);
    it_json("GET", path, w->vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    n = (long long)cJSON_GetObjectItem(r.json, "assigned")->valuedouble;
    cr_assert_leq(n, (long long)cJSON_GetObjectItem(r.json, "quantity")->valuedouble);
    it_response_free(&r);
    return n;
}

static const char *claim_str(const cJSON *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItem(c, name);
    cr_assert(cJSON_IsString(v), "claim %s missing", name);
    return v->valuestring;
}

Test(get_key, seats_then_recovery_then_temporary)
{
    struct world w;
    it_response r;
    char first[32];
    cJSON *claims;

    world_init(&w, NULL);
    add_pack(&w, "p-two", 2, ",\"begin_serial\":1000,\"expires\":\"2099-01-01T00:00:00Z\"");

    get_key(w.customer, "machine-a", NULL, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), "1000");
    cr_assert_str_eq(it_str(&r, "pack_id"), "p-two");
    cr_assert_str_eq(it_str(&r, "expires_at"), "2099-01-01T00:00:00Z");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "temporary")));
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_str_eq(claim_str(claims, "lid"), "1000");
    cr_assert_str_eq(claim_str(claims, "cid"), "machine-a");
    cr_assert_str_eq(claim_str(claims, "pid"), "app");
    cr_assert_str_eq(claim_str(claims, "pver"), "1");
    cr_assert_str_eq(claim_str(claims, "pack"), "p-two");
    cr_assert_str_eq(claim_str(claims, "platform"), "any");
    cr_assert_eq(cJSON_GetObjectItem(claims, "serial")->valuedouble, 1000);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(claims, "tmp")));
    cr_assert_eq(cJSON_GetObjectItem(claims, "exp")->valuedouble, 4070908800.0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(claims, "feat")), 2);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(claims, "iat")));
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(claims, "ver")));
    cr_assert_str_eq(claim_str(claims, "iss"), "licd");
    cJSON_Delete(claims);
    snprintf(first, sizeof first, "%s", it_str(&r, "license_id"));
    it_response_free(&r);

    /* A lost licence is recovered: the same licence, 200, no seat taken. */
    get_key(w.customer, "machine-a", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), first);
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-two"), 1);

    get_key(w.customer, "machine-b", NULL, &r);
    cr_assert_eq(r.status, 201);
    cr_assert_str_eq(it_str(&r, "license_id"), "1001");
    it_response_free(&r);

    /* No seat left: one temporary licence, returned as is when asked again. */
    get_key(w.customer, "machine-c", NULL, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "pack_id")));
    cr_assert_eq(it_str(&r, "license_id")[0], 'T');
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(claims, "tmp")));
    /* valid LICD_TEMP_LICENSE_TTL (60 days by default) */
    cr_assert_gt(cJSON_GetObjectItem(claims, "exp")->valuedouble,
                 cJSON_GetObjectItem(claims, "iat")->valuedouble + 59 * 86400.0);
    cJSON_Delete(claims);
    snprintf(first, sizeof first, "%s", it_str(&r, "license_id"));
    it_response_free(&r);
    get_key(w.customer, "machine-c", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(it_str(&r, "license_id"), first);
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-two"), 2);
    world_free(&w);
}

Test(get_key, a_temporary_licence_becomes_permanent_when_a_seat_appears)
{
    struct world w;
    it_response r;
    char temp[32], path[160];
    const cJSON *item;
    int retired = 0, active = 0;

    world_init(&w, NULL);
    add_pack(&w, "p-one", 1, ",\"begin_serial\":50");
    get_key(w.customer, "first", NULL, &r);
    it_response_free(&r);
    get_key(w.customer, "late", NULL, &r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")));
    snprintf(temp, sizeof temp, "%s", it_str(&r, "license_id"));
    it_response_free(&r);

    add_pack(&w, "p-more", 1, ",\"begin_serial\":60");
    get_key(w.customer, "late", NULL, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "temporary")));
    cr_assert_str_eq(it_str(&r, "license_id"), "60");
    it_response_free(&r);

    snprintf(path, sizeof path, "/v1/assignments?customer_id=%s&client_id=late", w.customer_id);
    it_json("GET", path, w.vendor, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(r.json, "items")) {
        const char *status = cJSON_GetObjectItem(item, "status")->valuestring;
        if (strcmp(cJSON_GetObjectItem(item, "license_id")->valuestring, temp) == 0)
            retired = strcmp(status, "retired") == 0;
        else
            active = strcmp(status, "active") == 0;
    }
    cr_assert(retired && active, "history: %s", r.body);
    it_response_free(&r);
    world_free(&w);
}

Test(get_key, an_expired_temporary_licence_is_refused_and_never_renewed)
{
    struct world w;
    it_response r;
    char sql[512];

    world_init(&w, NULL);
    add_pack(&w, "p-full", 1, NULL);
    get_key(w.customer, "owner", NULL, &r);
    it_response_free(&r);
    get_key(w.customer, "visitor", NULL, &r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")));
    it_response_free(&r);
    /* Let the temporary licence run out without waiting 60 days. */
    snprintf(sql, sizeof sql,
             "UPDATE assignments SET expires_at = now() - interval '1 second'"
             " WHERE customer_id = '%s' AND client_id = 'visitor'", w.customer_id);
    cr_assert_eq(it_sql(sql, NULL), 0);
    get_key(w.customer, "visitor", NULL, &r);
    it_assert_problem(&r, 403, "temporary_license_expired");
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-full"), 1);
    world_free(&w);
}

/* get_key answers no_matching_pack with a detail naming the cause. */
static void assert_no_pack(const char *customer, const char *extra, const char *cause)
{
    it_response r;
    get_key(customer, "m", extra, &r);
    it_assert_problem(&r, 403, "no_matching_pack");
    cr_assert(strstr(it_str(&r, "detail"), cause), "detail lacks \"%s\": %s", cause, r.body);
    it_response_free(&r);
}

Test(get_key, no_matching_pack)
{
    struct world w;
    char other_id[37], other[80];
    it_response r;

    world_init(&w, NULL);
    add_pack(&w, "p-win", 3, ",\"platform\":\"windows\"");
    it_new_customer(w.vendor, "Packless", other_id, other);
    assert_no_pack(other, NULL, "no per-device or per-user pack of app");
    it_postf("/v1/get_key", w.customer, &r, "{\"product\":\"nosuch\",\"client_id\":\"m\"}");
    it_assert_problem(&r, 403, "no_matching_pack");
    it_response_free(&r);
    /* A windows pack serves windows clients only, of its own version. */
    assert_no_pack(w.customer, ",\"platform\":\"non_windows\"", "for platform non_windows");
    assert_no_pack(w.customer, ",\"platform\":\"windows\",\"version\":\"2\"", "app version 2");
    assert_no_pack(w.customer, ",\"version\":\"2\"", "app version 2");
    {
        it_response p;
        it_postf("/v1/packs", w.vendor, &p,
                 "{\"pack_id\":\"p-v2\",\"customer_id\":\"%s\",\"product\":\"app\","
                 "\"version\":\"2\",\"type\":\"per_device\",\"quantity\":1,"
                 "\"platform\":\"non_windows\"}",
                 w.customer_id);
        cr_assert_eq(p.status, 201, "%s", p.body);
        it_response_free(&p);
    }
    assert_no_pack(w.customer, ",\"platform\":\"windows\",\"version\":\"2\"",
                   "app version 2 for platform windows");
    {
        /* Nothing in any detail says "this customer and platform" when the
         * platform is not the cause. */
        get_key(w.customer, "m", ",\"version\":\"3\"", &r);
        cr_assert(!strstr(it_str(&r, "detail"), "platform"), "%s", r.body);
        it_response_free(&r);
    }
    get_key(w.customer, "m", ",\"platform\":\"windows\"", &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    world_free(&w);
}

Test(get_key, packs_not_yet_active_or_expired_give_no_seat)
{
    struct world w;
    it_response r;
    world_init(&w, NULL);
    add_pack(&w, "p-future", 5, ",\"first_active\":\"2098-01-01T00:00:00Z\"");
    get_key(w.customer, "early", NULL, &r);
    cr_assert_eq(r.status, 201);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")), "%s", r.body);
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-future"), 0);
    world_free(&w);
}

Test(get_key, blocked_licences_are_never_issued_again)
{
    struct world w;
    it_response r;
    char path[128];

    world_init(&w, NULL);
    add_pack(&w, "p-b", 2, ",\"begin_serial\":7000");
    get_key(w.customer, "stolen", NULL, &r);
    cr_assert_eq(r.status, 201);
    it_response_free(&r);
    snprintf(path, sizeof path, "/v1/licenses/7000/block");
    it_json("POST", path, w.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    get_key(w.customer, "stolen", NULL, &r);
    it_assert_problem(&r, 403, "license_blocked");
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-b"), 1);
    it_json("POST", "/v1/licenses/7000/unblock", w.vendor, "{}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    get_key(w.customer, "stolen", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), "7000");
    it_response_free(&r);
    world_free(&w);
}

static void challenge_answer(const char *nonce_hex, const unsigned char *image, size_t len,
                             char out[65])
{
    unsigned char nonce[16], digest[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    for (int i = 0; i < 16; i++)
        sscanf(nonce_hex + 2 * i, "%2hhx", &nonce[i]);
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, nonce, 16);
    EVP_DigestUpdate(ctx, image, len);
    EVP_DigestUpdate(ctx, nonce, 16);
    EVP_DigestFinal_ex(ctx, digest, NULL);
    EVP_MD_CTX_free(ctx);
    crypto_hex(digest, 32, out);
}

Test(get_key, the_platform_challenge)
{
    static const unsigned char image[] = "MZ\x90\x00 a client build of app 1.0";
    unsigned char b64[128];
    struct world w;
    it_response r;
    char nonce[40], answer[65], extra[512];
    cJSON *claims;

    world_init(&w, ",\"require_challenge\":true");
    add_pack(&w, "p-c", 5, NULL);
    EVP_EncodeBlock(b64, image, sizeof image - 1);
    it_postf("/v1/client-images", w.vendor, &r,
             "{\"software_id\":\"app-1.0-win\",\"platform\":\"windows\",\"image_b64\":\"%s\"}", b64);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);

    get_key(w.customer, "box", NULL, &r);
    it_assert_problem(&r, 403, "challenge_required");
    cr_assert_eq(strlen(it_str(&r, "nonce")), 32, "%s", r.body);
    snprintf(nonce, sizeof nonce, "%s", it_str(&r, "nonce"));
    it_response_free(&r);

    /* A wrong answer uses the nonce up. */
    snprintf(extra, sizeof extra,
             ",\"software_id\":\"app-1.0-win\",\"challenge\":{\"nonce\":\"%s\",\"response\":\"%064d\"}",
             nonce, 0);
    get_key(w.customer, "box", extra, &r);
    it_assert_problem(&r, 403, "challenge_failed");
    it_response_free(&r);
    challenge_answer(nonce, image, sizeof image - 1, answer);
    snprintf(extra, sizeof extra,
             ",\"software_id\":\"app-1.0-win\",\"challenge\":{\"nonce\":\"%s\",\"response\":\"%s\"}",
             nonce, answer);
    get_key(w.customer, "box", extra, &r);
    it_assert_problem(&r, 403, "challenge_failed");
    it_response_free(&r);

    /* A fresh nonce from /v1/challenges and the right answer. */
    it_postf("/v1/challenges", w.customer, &r, "{\"software_id\":\"app-1.0-win\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(nonce, sizeof nonce, "%s", it_str(&r, "nonce"));
    it_response_free(&r);
    challenge_answer(nonce, image, sizeof image - 1, answer);
    snprintf(extra, sizeof extra,
             ",\"software_id\":\"other-build\",\"challenge\":{\"nonce\":\"%s\",\"response\":\"%s\"}",
             nonce, answer);
    get_key(w.customer, "box", extra, &r);
    it_assert_problem(&r, 403, "challenge_failed"); /* unknown software_id; the nonce is spent */
    it_response_free(&r);

    it_postf("/v1/challenges", w.customer, &r, "{\"software_id\":\"app-1.0-win\"}");
    snprintf(nonce, sizeof nonce, "%s", it_str(&r, "nonce"));
    it_response_free(&r);
    challenge_answer(nonce, image, sizeof image - 1, answer);
    snprintf(extra, sizeof extra, ",\"challenge\":{\"nonce\":\"%s\",\"response\":\"%s\"}", nonce,
             answer);
    get_key(w.customer, "box", extra, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    /* The platform is the one registered with the image. */
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_str_eq(claim_str(claims, "platform"), "windows");
    cJSON_Delete(claims);
    it_response_free(&r);
    /* Replaying the good answer fails: nonces are single use. */
    get_key(w.customer, "box", extra, &r);
    it_assert_problem(&r, 403, "challenge_failed");
    it_response_free(&r);
    world_free(&w);
}

Test(upgrade, from_one_version_to_the_next)
{
    struct world w;
    it_response r;
    char license[4096], other[4096];
    cJSON *claims;

    world_init(&w, NULL);
    add_pack(&w, "p-v1", 2, ",\"begin_serial\":100");
    it_postf("/v1/products/app/upgrade-paths", w.vendor, &r,
             "{\"from_version\":\"1\",\"to_version\":\"2\"}");
    cr_assert(r.status == 201 || r.status == 200, "%s", r.body);
    it_response_free(&r);
    it_postf("/v1/packs", w.vendor, &r,
             "{\"pack_id\":\"p-up\",\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"2\","
             "\"type\":\"upgrade\",\"quantity\":1,\"begin_serial\":200}",
             w.customer_id);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);

    get_key(w.customer, "ws-1", NULL, &r);
    snprintf(license, sizeof license, "%s", it_str(&r, "license"));
    it_response_free(&r);
    get_key(w.customer, "ws-2", NULL, &r);
    snprintf(other, sizeof other, "%s", it_str(&r, "license"));
    it_response_free(&r);

    it_postf("/v1/is_upgrade_available", w.customer, &r,
             "{\"license\":\"%s\",\"target_version\":\"2\"}", license);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "available")));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "supported")));
    it_response_free(&r);
    it_postf("/v1/is_upgrade_available", w.customer, &r,
             "{\"license\":\"%s\",\"target_version\":\"3\"}", license);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "supported")), "%s", r.body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "available")));
    it_response_free(&r);

    it_postf("/v1/upgrade", w.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", license);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), "200");
    claims = it_verify_jwt(it_str(&r, "license"));
    cr_assert_str_eq(claim_str(claims, "pver"), "2");
    cr_assert_str_eq(claim_str(claims, "cid"), "ws-1");
    cJSON_Delete(claims);
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-up"), 1);

    /* The old licence is history now; the second client finds no seat. */
    it_postf("/v1/upgrade", w.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", license);
    it_assert_problem(&r, 409, "no_upgrade_available");
    it_response_free(&r);
    it_postf("/v1/is_upgrade_available", w.customer, &r,
             "{\"license\":\"%s\",\"target_version\":\"2\"}", other);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "supported")), "%s", r.body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "available")));
    cr_assert_str_eq(it_str(&r, "reason"), "no_upgrade_seat");
    it_response_free(&r);
    it_postf("/v1/upgrade", w.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", other);
    it_assert_problem(&r, 409, "no_upgrade_available");
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&w, "p-up"), 1);

    /* The upgraded client asking get_key for the product gets its new licence. */
    get_key(w.customer, "ws-1", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "license_id"), "200");
    it_response_free(&r);
    world_free(&w);
}

Test(upgrade, blocked_licences_are_not_upgraded)
{
    struct world w;
    it_response r;
    char license[4096];
    world_init(&w, NULL);
    add_pack(&w, "p-v1", 1, ",\"begin_serial\":300");
    it_postf("/v1/products/app/upgrade-paths", w.vendor, &r, "{\"from_version\":\"1\",\"to_version\":\"2\"}");
    it_response_free(&r);
    it_postf("/v1/packs", w.vendor, &r,
             "{\"customer_id\":\"%s\",\"product\":\"app\",\"version\":\"2\",\"type\":\"upgrade\","
             "\"quantity\":1,\"begin_serial\":400}", w.customer_id);
    it_response_free(&r);
    get_key(w.customer, "ws", NULL, &r);
    snprintf(license, sizeof license, "%s", it_str(&r, "license"));
    it_response_free(&r);
    it_json("POST", "/v1/licenses/300/block", w.vendor, "{}", &r);
    it_response_free(&r);
    it_postf("/v1/upgrade", w.customer, &r, "{\"license\":\"%s\",\"target_version\":\"2\"}", license);
    it_assert_problem(&r, 403, "license_blocked");
    it_response_free(&r);
    world_free(&w);
}

Test(tenancy, keys_reach_only_their_own_tenant)
{
    struct world a, b;
    it_response r;
    char license[4096];
    world_init(&a, NULL);
    world_init(&b, NULL);
    add_pack(&a, "p-a", 3, NULL);

    /* A vendor key on a client endpoint. */
    get_key(a.vendor, "m", NULL, &r);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    /* Vendor b's customer asking for "app" reaches b's product, which has no pack. */
    get_key(b.customer, "m", NULL, &r);
    it_assert_problem(&r, 403, "no_matching_pack");
    it_response_free(&r);
    cr_assert_eq(pack_assigned(&a, "p-a"), 0);

    get_key(a.customer, "m", NULL, &r);
    snprintf(license, sizeof license, "%s", it_str(&r, "license"));
    it_response_free(&r);
    it_postf("/v1/is_upgrade_available", b.customer, &r,
             "{\"license\":\"%s\",\"target_version\":\"2\"}", license);
    it_assert_problem(&r, 403, "forbidden");
    it_response_free(&r);
    world_free(&a);
    world_free(&b);
}

/* The challenges (nonces) stored for the world's customer. */
static long long challenges(struct world *w)
{
    return it_sql_num(
        it_fmt("SELECT count(*) FROM challenges WHERE customer_id = '%s'", w->customer_id));
}

/* Upgrade bodies refused 400 with code, the licence in place of %s. */
static const char *const bad_upgrades[][2] = {
    {"{\"license\":\"%s\",\"target_version\":", "malformed_json"},
    {"[\"%s\",\"2\"]", "malformed_json"},
    {"{}", "invalid_field"},
    {"{\"target_version\":\"2\"}", "invalid_field"},
    {"{\"license\":\"%s\"}", "invalid_field"},
    {"{\"license\":\"%s\",\"target_version\":null}", "invalid_field"},
    {"{\"license\":7,\"target_version\":\"2\"}", "invalid_field"},
    {"{\"license\":[\"%s\"],\"target_version\":\"2\"}", "invalid_field"},
    {"{\"license\":\"%s\",\"target_version\":2}", "invalid_field"},
    {"{\"license\":\"%s\",\"target_version\":[\"2\"]}", "invalid_field"},
    {"{\"license\":\"%s\",\"target_version\":\"\"}", "invalid_field"},
    {"{\"license\":\"not.a.licence\",\"target_version\":\"2\"}", "invalid_field"},
};

Test(get_key, bad_input_changes_nothing)
{
    static const char *const bodies[][2] = {
        {"{\"product\":\"app\",", "malformed_json"},
        {"[]", "malformed_json"},
        {"{\"client_id\":\"m\"}", "invalid_field"},
        {"{\"product\":\"app\"}", "invalid_field"},
        {"{\"product\":7,\"client_id\":\"m\"}", "invalid_field"},
        {"{\"product\":\"app\",\"client_id\":[\"m\"]}", "invalid_field"},
        {"{\"product\":\"app\",\"client_id\":\"\"}", "invalid_field"},
        {"{\"product\":\"app\",\"client_id\":\"m\",\"platform\":\"amiga\"}", "invalid_field"},
        {"{\"product\":\"app\",\"client_id\":\"m\",\"version\":5}", "invalid_field"},
    };
    struct world w;
    it_response r;
    char longid[400];
    world_init(&w, NULL);
    add_pack(&w, "p-x", 3, NULL);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        it_json("POST", "/v1/get_key", w.customer, bodies[i][0], &r);
        it_assert_problem(&r, 400, bodies[i][1]);
        it_response_free(&r);
    }
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    get_key(w.customer, longid, NULL, &r);
    it_assert_problem(&r, 400, "invalid_field");
    it_response_free(&r);
    it_json("POST", "/v1/get_key", NULL, "{\"product\":\"app\",\"client_id\":\"m\"}", &r);
    it_assert_problem(&r, 401, "unauthorized");
    it_response_free(&r);
    {
        char auth[128];
        const char *h[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.customer);
        it_request("POST", "/v1/get_key", h, "{}", 2, &r);
        it_assert_problem(&r, 415, "unsupported_media_type");
        it_response_free(&r);
    }
    cr_assert_eq(pack_assigned(&w, "p-x"), 0);

    /* POST /v1/challenges: bad bodies store no nonce. */
    {
        static const char *const bad[][2] = {
            {"{\"software_id\":", "malformed_json"},
            {"[\"app-1.0\"]", "malformed_json"},
            {"{}", "invalid_field"},
            {"{\"software_id\":null}", "invalid_field"},
            {"{\"software_id\":7}", "invalid_field"},
            {"{\"software_id\":[\"app-1.0\"]}", "invalid_field"},
            {"{\"software_id\":\"\"}", "invalid_field"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            it_json_problem("POST", "/v1/challenges", w.customer, bad[i][0], 400, bad[i][1]);
        it_json_problem("POST", "/v1/challenges", NULL, "{\"software_id\":\"app-1.0\"}", 401,
                        "unauthorized");
        it_json_problem("POST", "/v1/challenges", w.vendor, "{\"software_id\":\"app-1.0\"}", 403,
                        "forbidden");
        cr_assert_eq(challenges(&w), 0);
        it_json("POST", "/v1/challenges", w.customer, "{\"software_id\":\"app-1.0\"}", &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
        cr_assert_eq(challenges(&w), 1, "a good one is stored");
    }

    /* POST /v1/is_upgrade_available and /v1/upgrade: bad bodies are
     * refused and the licence keeps its version and the upgrade seat stays free. */
    {
        char license[4096], body[8192];
        it_created("/v1/products/app/upgrade-paths", w.vendor,
                   "{\"from_version\":\"1\",\"to_version\":\"2\"}");
        it_created("/v1/packs", w.vendor,
                   "{\"pack_id\":\"p-up\",\"customer_id\":\"%s\",\"product\":\"app\","
                   "\"version\":\"2\",\"type\":\"upgrade\",\"quantity\":1}",
                   w.customer_id);
        get_key(w.customer, "ws", NULL, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        snprintf(license, sizeof license, "%s", it_str(&r, "license"));
        it_response_free(&r);
        for (size_t i = 0; i < sizeof bad_upgrades / sizeof bad_upgrades[0]; i++) {
            cr_assert_eq(test_fill(body, sizeof body, bad_upgrades[i][0], license), 0);
            it_json_problem("POST", "/v1/is_upgrade_available", w.customer, body, 400,
                            bad_upgrades[i][1]);
            it_json_problem("POST", "/v1/upgrade", w.customer, body, 400, bad_upgrades[i][1]);
        }
        snprintf(body, sizeof body, "{\"license\":\"%s\",\"target_version\":\"2\"}", license);
        it_json_problem("POST", "/v1/upgrade", NULL, body, 401, "unauthorized");
        it_json_problem("POST", "/v1/upgrade", w.vendor, body, 403, "forbidden");
        it_json_problem("POST", "/v1/is_upgrade_available", NULL, body, 401, "unauthorized");
        it_json_problem("POST", "/v1/is_upgrade_available", w.vendor, body, 403, "forbidden");
        cr_assert_eq(pack_assigned(&w, "p-up"), 0);
        cr_assert_eq(pack_assigned(&w, "p-x"), 1);
        it_json("POST", "/v1/is_upgrade_available", w.customer, body, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "available")), "%s", r.body);
        cr_assert_str_eq(it_str(&r, "from_version"), "1");
        it_response_free(&r);
        /* The same licence, asked properly, is upgraded: the refusals were the bodies'. */
        it_json("POST", "/v1/upgrade", w.customer, body, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
        cr_assert_eq(pack_assigned(&w, "p-up"), 1);
    }
    world_free(&w);
}

/* Parallel clients: never more permanent licences than seats. */
struct racer {
    const char *key;
    char client[32];
    long status;
    int temporary;
    char license_id[32];
};

static void *race(void *p)
{
    struct racer *x = p;
    it_response r;
    get_key(x->key, x->client, NULL, &r);
    x->status = r.status;
    x->temporary = cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary"));
    snprintf(x->license_id, sizeof x->license_id, "%s", it_str(&r, "license_id") ? it_str(&r, "license_id") : "");
    it_response_free(&r);
    return NULL;
}

Test(concurrency, sixty_four_clients_on_a_pack_of_ten, .timeout = 120)
{
    enum { N = 64 };
    struct world w;
    struct racer x[N];
    pthread_t t[N];
    int permanent = 0, temporary = 0;
    char sql[512], *out;

    world_init(&w, NULL);
    add_pack(&w, "p-hot", 10, NULL);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.key = w.customer};
        snprintf(x[i].client, sizeof x[i].client, "client-%02d", i);
        pthread_create(&t[i], NULL, race, &x[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(x[i].status, 201, "client %d got %ld", i, x[i].status);
        if (x[i].temporary)
            temporary++;
        else
            permanent++;
    }
    cr_assert_eq(permanent, 10);
    cr_assert_eq(temporary, 54);
    cr_assert_eq(pack_assigned(&w, "p-hot"), 10);
    snprintf(sql, sizeof sql,
             "SELECT count(*), count(DISTINCT license_id) FROM assignments a JOIN packs p"
             " ON p.id = a.pack_id WHERE p.pack_id = 'p-hot' AND p.customer_id = '%s'",
             w.customer_id);
    cr_assert_eq(it_sql(sql, &out), 0);
    cr_assert_str_eq(out, "10|10\n");
    free(out);
    world_free(&w);
}

/* Grants of several customers at once, in batches of whatever came in
 * together (store/grants.c): each customer still gets exactly its seats,
 * and a client asked for twice at once gets one licence. */
Test(concurrency, three_customers_at_once_each_get_exactly_their_seats, .timeout = 180)
{
    enum { CUSTOMERS = 3, CLIENTS = 16, SEATS = 6, N = CUSTOMERS * CLIENTS * 2 };
    struct world w[CUSTOMERS];
    struct racer x[N];
    pthread_t t[N];

    for (int c = 0; c < CUSTOMERS; c++) {
        world_init(&w[c], NULL);
        add_pack(&w[c], "p-shared", SEATS, NULL);
    }
    for (int i = 0; i < N; i++) {
        int c = i % CUSTOMERS, client = i / CUSTOMERS % CLIENTS; /* each client twice */
        x[i] = (struct racer){.key = w[c].customer};
        snprintf(x[i].client, sizeof x[i].client, "client-%02d", client);
        pthread_create(&t[i], NULL, race, &x[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int c = 0; c < CUSTOMERS; c++) {
        int permanent = 0;
        char *out;
        for (int i = c; i < N / 2; i += CUSTOMERS) {
            const struct racer *a = &x[i], *b = &x[i + N / 2]; /* one client's two requests */
            cr_assert(a->status == 201 || a->status == 200, "got %ld", a->status);
            cr_assert(b->status == 201 || b->status == 200, "got %ld", b->status);
            cr_assert_str_eq(a->license_id, b->license_id, "%s asked twice", a->client);
            cr_assert_eq(a->temporary, b->temporary);
            permanent += !a->temporary;
        }
        cr_assert_eq(permanent, SEATS, "customer %d", c);
        cr_assert_eq(pack_assigned(&w[c], "p-shared"), SEATS);
        cr_assert_eq(it_sql(it_fmt("SELECT count(*), count(DISTINCT license_id),"
                                   " count(DISTINCT client_id) FROM assignments"
                                   " WHERE customer_id = '%s' AND NOT temporary",
                                   w[c].customer_id),
                            &out),
                     0);
        cr_assert_str_eq(out, it_fmt("%d|%d|%d\n", SEATS, SEATS, SEATS));
        free(out);
        world_free(&w[c]);
    }
}

/* Races the n grants of x behind psql's hold on w's packs, on the node
 * pid a test started (dir: its folder), stops the node and checks that
 * each got a permanent seat of pack_id, that they shared batches and that
 * no worker was held meanwhile. */
static void grants_behind_a_lock(struct world *w, int pid, char *dir, const char *pack_id,
                                 struct racer *x, int n)
{
    it_batches before, after;
    it_meanwhile m;
    long long assigned;
    char *out;

    it_batched("grants", &before);
    it_hold_packs(w->customer_id);
    it_race_behind_a_lock(race, x, sizeof *x, n, &m);
    it_batched("grants", &after);
    assigned = pack_assigned(w, pack_id);
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    it_assert_worker_was_free(&m);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(x[i].status, 201, "%s got %ld", x[i].client, x[i].status);
        cr_assert(!x[i].temporary, "%s", x[i].client);
    }
    /* The first batch waits for psql; the rest share the next, one
     * transaction (their licences' xmin) with a licence each. */
    it_assert_shared_batches(&before, &after, n);
    cr_assert_eq(assigned, n);
    cr_assert_eq(it_sql(it_fmt("SELECT count(*), count(DISTINCT a.xmin::text) <= 2"
                               " FROM assignments a JOIN packs p ON p.id = a.pack_id"
                               " WHERE p.customer_id = '%s' AND p.pack_id = '%s'",
                               w->customer_id, pack_id),
                        &out),
                 0);
    cr_assert_str_eq(out, it_fmt("%d|t\n", n), "licences written outside the batches");
    free(out);
}

/* Grants that come in while a batch waits for the pack's row are written
 * together (store/grants.c), and none holds an HTTP worker meanwhile: on a
 * node of its own with one worker thread, psql holds the row for a second,
 * the first batch waits for it, the grants that come in meanwhile share
 * the batch after it, and the JWKS is answered at once, long before them.
 * The node's /metrics count only these (it is stopped before the checks,
 * so that a failed one leaves no node behind). */
Test(concurrency, grants_queued_behind_a_batch_share_the_next, .timeout = 60)
{
    enum { N = 6 };
    struct world w;
    struct racer x[N];
    const char *env[] = {"LICD_THREADS=1", NULL};
    char url[64], *dir;
    int pid = it_start_node(env, url, sizeof url, &dir);

    it_use_url(url);
    world_init(&w, NULL);
    add_pack(&w, "p-locked", N, NULL);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.key = w.customer};
        snprintf(x[i].client, sizeof x[i].client, "queued-%d", i);
    }
    grants_behind_a_lock(&w, pid, dir, "p-locked", x, N);
    world_free(&w);
}

/* A batch mixes both ways of taking a seat (store/grants.c): clients
 * that hold a temporary licence run the whole statement, which retires
 * it, and new clients the short one; queued behind psql's hold on the
 * packs, they share one batch, and each gets its own seat. */
Test(concurrency, new_and_temporary_clients_share_a_batch, .timeout = 60)
{
    enum { N = 6 };
    struct world w;
    struct racer x[N];
    const char *env[] = {"LICD_THREADS=1", NULL};
    char url[64], *dir, *out;
    it_response r;
    int pid = it_start_node(env, url, sizeof url, &dir);

    it_use_url(url);
    world_init(&w, NULL);
    add_pack(&w, "p-first", 1, ",\"begin_serial\":10");
    get_key(w.customer, "filler", NULL, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.key = w.customer};
        snprintf(x[i].client, sizeof x[i].client, i % 2 ? "new-%d" : "waiting-%d", i);
        if (i % 2)
            continue;
        get_key(w.customer, x[i].client, NULL, &r); /* no seat: a temporary licence */
        cr_assert_eq(r.status, 201, "%s", r.body);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "temporary")));
        it_response_free(&r);
    }
    add_pack(&w, "p-more", N, ",\"begin_serial\":100");
    grants_behind_a_lock(&w, pid, dir, "p-more", x, N);
    /* each client one active permanent licence; the temporaries retired */
    cr_assert_eq(it_sql(it_fmt("SELECT count(*) FILTER (WHERE NOT temporary AND status = 'active'),"
                               " count(DISTINCT client_id) FILTER (WHERE NOT temporary),"
                               " count(*) FILTER (WHERE temporary AND status = 'retired'),"
                               " count(*) FILTER (WHERE temporary AND status = 'active')"
                               " FROM assignments WHERE customer_id = '%s' AND client_id <> 'filler'",
                               w.customer_id),
                        &out),
                 0);
    cr_assert_str_eq(out, it_fmt("%d|%d|%d|0\n", N, N, N / 2));
    free(out);
    world_free(&w);
}

/* New clients of one pack queued together take their seats with one
 * statement (store/grants.c: Q_GRANT_NEW_MANY): the freed serials first,
 * then the next ones of the range, and those left without a seat get
 * temporary licences. On a node of its own, psql holds the packs while
 * six new clients come 50 ms apart: the first grant's batch waits for it
 * and the ones after it share the next batch and its one statement. The
 * pack has 4 seats, serials from 10; 10, 11 and 12 were granted and 10
 * and 11 deactivated: three seats go, to 10-2, 11-2 and 13, and three
 * clients get temporary licences. Which client gets which depends on when
 * each came; the set of licences does not. */
Test(concurrency, new_clients_of_a_batch_share_one_statement_and_the_seats_left, .timeout = 60)
{
    enum { N = 6 };
    struct world w;
    struct racer x[N];
    const char *env[] = {"LICD_THREADS=1", NULL};
    char url[64], *dir, *out, seats[64] = "";
    it_batches before, after;
    it_meanwhile m;
    it_response r;
    long long assigned;
    int temporary = 0;
    int pid = it_start_node(env, url, sizeof url, &dir);

    it_use_url(url);
    world_init(&w, NULL);
    add_pack(&w, "p-few", 4, ",\"begin_serial\":10");
    for (int i = 0; i < 3; i++) {
        get_key(w.customer, it_fmt("early-%d", i), NULL, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        it_response_free(&r);
    }
    for (int serial = 10; serial <= 11; serial++) {
        it_expect(&r, 204, "DELETE", it_fmt("/v1/licenses/%d", serial), w.vendor, NULL);
        it_response_free(&r);
    }
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.key = w.customer};
        snprintf(x[i].client, sizeof x[i].client, "joined-%d", i);
    }
    it_batched("grants", &before);
    it_hold_packs(w.customer_id);
    it_race_behind_a_lock(race, x, sizeof *x, N, &m);
    it_batched("grants", &after);
    assigned = pack_assigned(&w, "p-few");
    cr_assert_eq(it_stop_licd(pid), 0);
    it_rmdir(dir);
    it_assert_worker_was_free(&m);

    cr_assert_eq(after.failed - before.failed, 0, "a batch failed and was run again alone");
    cr_assert_geq(after.joined - before.joined, 2, "no grants shared a statement");
    cr_assert_leq(after.joined - before.joined, N);
    cr_assert_eq(assigned, 4);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(x[i].status, 201, "%s got %ld", x[i].client, x[i].status);
        temporary += x[i].temporary;
    }
    cr_assert_eq(temporary, 3);
    cr_assert_eq(it_sql(it_fmt("SELECT string_agg(license_id, ' ' ORDER BY license_id)"
                               " FROM assignments WHERE customer_id = '%s'"
                               " AND client_id LIKE 'joined-%%' AND NOT temporary",
                               w.customer_id),
                        &out),
                 0);
    snprintf(seats, sizeof seats, "%s", out);
    free(out);
    cr_assert_str_eq(seats, "10-2 11-2 13\n", "the freed serials first, then the range");
    cr_assert_eq(it_sql(it_fmt("SELECT free_serials, seat_serial FROM packs"
                               " WHERE customer_id = '%s' AND pack_id = 'p-few'",
                               w.customer_id),
                        &out),
                 0);
    cr_assert_str_eq(out, "{}|13\n");
    free(out);
    /* one license.granted event a seat, none for the temporary licences */
    cr_assert_eq(it_sql(it_fmt("SELECT count(*) FROM events WHERE type = 'license.granted'"
                               " AND data ->> 'customer_id' = '%s'"
                               " AND data ->> 'client_id' LIKE 'joined-%%'",
                               w.customer_id),
                        &out),
                 0);
    cr_assert_str_eq(out, "3\n");
    free(out);
    world_free(&w);
}

Test(concurrency, one_client_twice_in_parallel_gets_one_licence, .timeout = 120)
{
    enum { N = 16 };
    struct world w;
    struct racer x[N];
    pthread_t t[N];
    int created = 0;

    world_init(&w, NULL);
    add_pack(&w, "p-same", 5, NULL);
    for (int i = 0; i < N; i++) {
        x[i] = (struct racer){.key = w.customer};
        snprintf(x[i].client, sizeof x[i].client, "the-same-client");
        pthread_create(&t[i], NULL, race, &x[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_assert(x[i].status == 201 || x[i].status == 200, "got %ld", x[i].status);
        created += x[i].status == 201;
        cr_assert_str_eq(x[i].license_id, x[0].license_id);
        cr_assert(!x[i].temporary);
    }
    cr_assert_eq(created, 1);
    cr_assert_eq(pack_assigned(&w, "p-same"), 1);
    world_free(&w);
}

/* A pack licence whose reported usage goes over its pack's limit is
 * refused at its next get_key (even right after it was recovered, so
 * kept), unless the pack says on_over_limit: report. */
Test(get_key, over_a_limit_the_next_get_key_is_refused)
{
    struct world w;
    it_response r;
    char *license, auth[2048];
    const char *h[] = {auth, "Content-Type: application/json", NULL};
    const char *report = "{\"records\":[{\"metric\":\"cpu\",\"value\":8}]}";

    world_init(&w, NULL);
    add_pack(&w, "p-lim", 2, ",\"attributes\":{\"limits\":{\"cpu\":4}}");
    get_key(w.customer, "busy", NULL, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    license = strdup(it_str(&r, "license"));
    it_response_free(&r);
    get_key(w.customer, "busy", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);

    snprintf(auth, sizeof auth, "Authorization: License %s", license);
    it_request("POST", "/v1/report_usage", h, report, strlen(report), &r);
    cr_assert_eq(r.status, 202, "%s", r.body);
    it_response_free(&r);
    get_key(w.customer, "busy", NULL, &r);
    it_assert_problem(&r, 403, "over_limit");
    cr_assert_not_null(strstr(it_str(&r, "detail"), "cpu"), "%s", r.body);
    it_response_free(&r);

    it_json("PATCH", "/v1/packs/p-lim", w.vendor, "{\"on_over_limit\":\"report\"}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    get_key(w.customer, "busy", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    it_response_free(&r);
    free(license);
    world_free(&w);
}
