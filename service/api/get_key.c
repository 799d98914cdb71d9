/* POST /v1/get_key, pack shape: a client's licence for a product — the one
 * it holds, a new seat, or its one temporary licence — after an optional
 * platform challenge. A body with a group key and no Authorization header
 * is the group shape (get_key_group.c). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/license.h"
#include "domain/usage.h"
#include "store/caches.h"
#include "store/challenges.h"
#include "store/events.h"
#include "store/grants.h"
#include "store/packs.h"
#include "store/usage.h"
#include "util/json.h"

const char *const api_platforms[] = {"windows", "non_windows", "legacy", "direct_connect", "any",
                                     NULL};

/* Answers challenge_required with a fresh nonce the client can answer. */
static int require_challenge(http_request *req, const store_customer *c, const char *software_id)
{
    char nonce[STORE_NONCE_HEX_LEN];
    time_t expires;
    int rc = store_challenge_create(c->id, software_id, nonce, &expires);
    if (rc != LICD_OK)
        return rc;
    req->problem_extra = cJSON_CreateObject();
    if (!req->problem_extra || !cJSON_AddStringToObject(req->problem_extra, "nonce", nonce) ||
        !json_add_time(req->problem_extra, "expires_at", expires))
        return LICD_ERR_NOMEM;
    return http_fail(req, LICD_ERR_CHALLENGE_REQUIRED,
                     "this product needs a platform challenge: answer with "
                     "hex(SHA-256(nonce bytes + client image + nonce bytes))");
}

/* Checks the challenge answer; on success the image's platform becomes the client's. */
static int check_challenge(http_request *req, const store_customer *c, const cJSON *challenge,
                           const char *software_id, char platform[16])
{
    const char *nonce, *response;
    int ok, rc;
    if (!cJSON_IsObject(challenge)) {
        return http_fail(req, LICD_ERR_INVALID_FIELD,
                         "challenge must be an object {nonce, response}");
    }
    if ((rc = json_get_string(challenge, "nonce", 1, 1, 64, &nonce, req->detail)) != LICD_OK ||
        (rc = json_get_string(challenge, "response", 1, 1, 128, &response, req->detail)) != LICD_OK)
        return rc;
    rc = store_challenge_check(c->vendor_id, c->id, nonce, response, software_id, &ok, platform);
    if (rc == LICD_OK && !ok) {
        rc = http_fail(
            req, LICD_ERR_CHALLENGE_FAILED,
            "the nonce is unknown, expired or used, the image unknown, or the response wrong");
    }
    return rc;
}

/* no_matching_pack, its detail naming the real cause (m): the customer has
 * no pack of the product at all, none of the version asked for, none for the
 * client's platform, or none of that version for that platform. */
static int no_matching_pack(http_request *req, const store_grant_request *g,
                            const store_product *p, const store_pack_match *m)
{
    if (!m->packs)
        snprintf(req->detail, sizeof req->detail,
                 "the customer has no per-device or per-user pack of %s", p->code);
    else if (!m->of_version)
        snprintf(req->detail, sizeof req->detail, "the customer has no pack of %s version %s",
                 p->code, g->version);
    else if (!m->of_platform)
        snprintf(req->detail, sizeof req->detail,
                 "the customer has no pack of %s for platform %s", p->code, g->platform);
    else
        snprintf(req->detail, sizeof req->detail,
                 "the customer has no pack of %s version %s for platform %s", p->code,
                 g->version, g->platform);
    return LICD_ERR_NO_MATCHING_PACK;
}

/* Answers recovered licences of clients that asked before: the answer's
 * body in the store's licence cache under the client's licence key
 * (store_license_cache_key), with the licence's expiry in front. Filled by
 * the answers that hand back or grant a permanent licence; emptied for a
 * client when its licence changes (NOTIFY from the database, on every node). */
#define RECOVERED_MAX 4096
struct recovered_answer {
    time_t expires_at; /* 0: never */
    char body[RECOVERED_MAX - sizeof(time_t)];
};

/* Answers a permanent licence (status 200 recovered, 201 granted) and keeps
 * the answer for the client's next request. */
static int permanent_answer(http_request *req, int status, const store_license *l,
                            const char *document, const store_product *p, const char *key,
                            uint64_t generation)
{
    cache *recovered = store_cache(STORE_CACHE_LICENSES);
    struct recovered_answer a;
    char *body = NULL;
    size_t len;
    int rc = api_license_reply(req, status, l, document, p, recovered ? &body : NULL);
    if (rc == LICD_OK && body && (len = strlen(body)) < sizeof a.body) {
        a.expires_at = l->expires_at;
        memcpy(a.body, body, len + 1);
        cache_put(recovered, key, &a, offsetof(struct recovered_answer, body) + len + 1,
                  generation);
    }
    free(body);
    return rc;
}

/* The answer kept for this client, if its licence has not run out since. */
static int recovered_answer(http_request *req, const char *key)
{
    cache *recovered = store_cache(STORE_CACHE_LICENSES);
    struct recovered_answer a;
    long n = recovered ? cache_get(recovered, key, &a, sizeof a) : -1;
    if (n <= (long)offsetof(struct recovered_answer, body) ||
        (a.expires_at && a.expires_at <= time(NULL)))
        return 0;
    return http_reply_bytes(req, 200, "application/json", a.body, strlen(a.body)) == LICD_OK;
}

/* 403 over_limit when the licence's latest usage is over one of its limits
 * and its pack refuses then (on_over_limit); else 0. */
static int over_limit(http_request *req, const store_license *l)
{
    domain_over_limit policy = OVER_LIMIT_REFUSE;
    store_usage_excess e;
    int over = 0, rc;
    domain_over_limit_parse(l->on_over_limit, &policy);
    if (!l->limited || !domain_over_limit_refuses(policy, 1))
        return LICD_OK;
    if ((rc = store_usage_over_limit(l->vendor_id, l->license_id, &over, &e)) != LICD_OK ||
        !domain_over_limit_refuses(policy, over))
        return rc;
    return http_fail(req, LICD_ERR_OVER_LIMIT,
                     "the licence's reported usage of %.64s (%.17g) is over its limit (%.17g)",
                     e.metric, e.value, e.limit);
}

/* The decision: store_grant finds the client's licences and takes a seat
 * when none of them decides; what it found decides the rest.
 * A concurrent request for the same client shows up as a unique violation
 * (LICD_ERR_CONFLICT); asking again then finds what that request recorded. */
static int grant(http_request *req, const store_grant_request *g, const store_product *p,
                 const char *key)
{
    cache *recovered = store_cache(STORE_CACHE_LICENSES);
    store_grant_result r = {0};
    int rc = LICD_OK;

    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t generation = recovered ? cache_generation(recovered) : 0;
        store_pack_match m;
        store_license fresh = {0};
        rc = store_grant(g, &r);
        if (rc == LICD_ERR_CONFLICT)
            continue;
        if (rc != LICD_OK)
            break;
        if (r.taken) {
            rc = permanent_answer(req, 201, &r.fresh, NULL, p, key, generation);
            break;
        }
        switch (domain_grant_first_step(&r.facts)) {
        case GRANT_REFUSE_BLOCKED:
            rc = http_fail(req, LICD_ERR_LICENSE_BLOCKED, "licence %s is blocked",
                           r.facts.has_permanent && r.facts.permanent_blocked
                               ? r.permanent.license_id
                               : r.temporary.license_id);
            goto out;
        case GRANT_RETURN_PERMANENT:
            if ((rc = over_limit(req, &r.permanent)) != LICD_OK)
                goto out;
            rc = permanent_answer(req, 200, &r.permanent, r.permanent_document, p, key,
                                  generation);
            goto out;
        case GRANT_TRY_SEAT:
            break;
        }
        /* No seat: what the customer's packs are decides, and names the cause. */
        if ((rc = store_pack_match_count(g->customer_id, g->product_id, g->version, g->platform,
                                         &m)) != LICD_OK)
            break;
        switch (domain_grant_no_seat(&r.facts, m.matching > 0)) {
        case GRANT_RETURN_TEMPORARY:
            rc = api_license_reply(req, 200, &r.temporary, r.temporary_document, p, NULL);
            goto out;
        case GRANT_ISSUE_TEMPORARY:
            rc = store_grant_temporary(g, api_ctx()->config->temp_license_ttl, &fresh);
            if (rc == LICD_ERR_CONFLICT)
                continue;
            if (rc == LICD_OK)
                rc = api_license_reply(req, 201, &fresh, NULL, p, NULL);
            goto out;
        case GRANT_TEMPORARY_EXPIRED:
            /* Refused for want of a seat: seat.denied (nothing else changes). */
            if ((rc = store_event_seat_denied(g->vendor_id, g->customer_id, p->code, g->client_id,
                                              "temporary_license_expired")) != LICD_OK)
                goto out;
            rc = http_fail(req, LICD_ERR_TEMPORARY_LICENSE_EXPIRED,
                           "the temporary licence %s has run out and no seat is free",
                           r.temporary.license_id);
            goto out;
        case GRANT_NO_MATCHING_PACK:
            rc = no_matching_pack(req, g, p, &m);
            goto out;
        }
    }
    if (rc == LICD_ERR_CONFLICT) {
        /* Only concurrent requests for this very client loop; let it retry. */
        snprintf(req->detail, sizeof req->detail, "concurrent requests for client %s; retry",
                 g->client_id);
        rc = LICD_ERR_UNAVAILABLE;
    }
out:
    store_grant_result_clear(&r);
    return rc;
}

int api_get_key(http_request *req)
{
    const store_customer *c = api_caller_customer(req);
    store_product p = {0};
    cJSON *body = NULL;
    const cJSON *challenge;
    const char *product, *version = NULL, *client_id, *platform, *software_id = NULL;
    char image_platform[16], key[STORE_UUID_LEN + 24 + 258];
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK)
        goto out;
    if (!c) {
        /* No Authorization header: only the group shape, whose credential
         * is the group key in the body, may go on. */
        rc = cJSON_GetObjectItemCaseSensitive(body, "group_key") ? api_get_key_group(req, body)
                                                                  : api_unauthorized(req);
        goto out;
    }
    if ((rc = json_get_string(body, "product", 1, 1, STORE_CODE_MAX, &product, req->detail)) ||
        (rc = json_get_string(body, "version", 0, 1, 64, &version, req->detail)) ||
        (rc = json_get_string(body, "client_id", 1, 1, 256, &client_id, req->detail)) ||
        (rc = json_get_enum(body, "platform", 0, api_platforms, "any", &platform, req->detail)) ||
        (rc = json_get_string(body, "software_id", 0, 1, 128, &software_id, req->detail)))
        goto out;
    challenge = cJSON_GetObjectItemCaseSensitive(body, "challenge");
    if (cJSON_IsNull(challenge))
        challenge = NULL;
    rc = store_product_get(c->vendor_id, product, &p);
    if (rc == LICD_ERR_NOT_FOUND) {
        rc = http_fail(req, LICD_ERR_NO_MATCHING_PACK, "no product %s", product);
    }
    if (rc != LICD_OK)
        goto out;
    if (p.require_challenge) {
        if (!challenge) {
            rc = require_challenge(req, c, software_id);
            goto out;
        }
        if ((rc = check_challenge(req, c, challenge, software_id, image_platform)) != LICD_OK)
            goto out;
        platform = image_platform;
    }
    store_license_cache_key(c->id, p.id, client_id, key, sizeof key);
    if (recovered_answer(req, key)) {
        rc = LICD_OK;
        goto out;
    }
    {
        store_grant_request g = {c->vendor_id, c->id, p.id, client_id, platform, version, p.version};
        rc = grant(req, &g, &p, key);
    }
out:
    store_product_clear(&p);
    cJSON_Delete(body);
    return rc;
}
