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

/* A get_key's state, kept with the request (http_keep) so that a grant can
 * wait for its seat's batch without holding the HTTP worker (http_wait):
 * the body that g's strings point into, the product, the client's key in
 * the licence cache and what the store found. */
struct get_key {
    cJSON *body;
    store_product p;
    store_grant_request g;
    char key[STORE_UUID_LEN + 24 + 258];
    char image_platform[16]; /* the platform a challenge's image proved */
    uint64_t generation; /* the licence cache's, before the store was read */
    store_grant_pending pending;
    store_grant_result r;
};

static void get_key_free(void *p)
{
    struct get_key *k = p;
    store_grant_pending_clear(&k->pending);
    store_grant_result_clear(&k->r);
    store_product_clear(&k->p);
    cJSON_Delete(k->body);
    free(k);
}

static void take_generation(struct get_key *k)
{
    cache *recovered = store_cache(STORE_CACHE_LICENSES);
    k->generation = recovered ? cache_generation(recovered) : 0;
}

/* What the store's look at the client (k->r, found with outcome rc)
 * decides: its licence, a new seat's, a temporary licence or a refusal.
 * LICD_ERR_CONFLICT: a concurrent request for the same client recorded
 * something meanwhile (a unique violation); asking again finds it. */
static int decide(http_request *req, struct get_key *k, int rc)
{
    const store_grant_request *g = &k->g;
    const store_product *p = &k->p;
    store_grant_result *r = &k->r;
    store_pack_match m;
    store_license fresh = {0};

    if (rc != LICD_OK)
        return rc;
    if (r->taken)
        return permanent_answer(req, 201, &r->fresh, NULL, p, k->key, k->generation);
    switch (domain_grant_first_step(&r->facts)) {
    case GRANT_REFUSE_BLOCKED:
        return http_fail(req, LICD_ERR_LICENSE_BLOCKED, "licence %s is blocked",
                         r->facts.has_permanent && r->facts.permanent_blocked
                             ? r->permanent.license_id
                             : r->temporary.license_id);
    case GRANT_RETURN_PERMANENT:
        if ((rc = over_limit(req, &r->permanent)) != LICD_OK)
            return rc;
        return permanent_answer(req, 200, &r->permanent, r->permanent_document, p, k->key,
                                k->generation);
    case GRANT_TRY_SEAT:
        break;
    }
    /* No seat: what the customer's packs are decides, and names the cause. */
    if ((rc = store_pack_match_count(g->customer_id, g->product_id, g->version, g->platform,
                                     &m)) != LICD_OK)
        return rc;
    switch (domain_grant_no_seat(&r->facts, m.matching > 0)) {
    case GRANT_RETURN_TEMPORARY:
        return api_license_reply(req, 200, &r->temporary, r->temporary_document, p, NULL);
    case GRANT_ISSUE_TEMPORARY:
        rc = store_grant_temporary(g, api_ctx()->config->temp_license_ttl, &fresh);
        return rc == LICD_OK ? api_license_reply(req, 201, &fresh, NULL, p, NULL) : rc;
    case GRANT_TEMPORARY_EXPIRED:
        /* Refused for want of a seat: seat.denied (nothing else changes). */
        if ((rc = store_event_seat_denied(g->vendor_id, g->customer_id, p->code, g->client_id,
                                          "temporary_license_expired")) != LICD_OK)
            return rc;
        return http_fail(req, LICD_ERR_TEMPORARY_LICENSE_EXPIRED,
                         "the temporary licence %s has run out and no seat is free",
                         r->temporary.license_id);
    case GRANT_NO_MATCHING_PACK:
        return no_matching_pack(req, g, p, &m);
    }
    return LICD_ERR_INTERNAL;
}

/* decide, and on a conflict the whole look again (store_grant) a few times. */
static int answer(http_request *req, struct get_key *k, int rc)
{
    rc = decide(req, k, rc);
    for (int attempt = 1; rc == LICD_ERR_CONFLICT && attempt < 4; attempt++) {
        take_generation(k);
        rc = decide(req, k, store_grant(&k->g, &k->r));
    }
    if (rc == LICD_ERR_CONFLICT) {
        /* Only concurrent requests for this very client loop; let it retry. */
        snprintf(req->detail, sizeof req->detail, "concurrent requests for client %s; retry",
                 k->g.client_id);
        rc = LICD_ERR_UNAVAILABLE;
    }
    return rc;
}

/* http_wait's start and rest for a seat: the grant's statement goes in the
 * next batch; once written, what it did decides. */
static int queue_seat(http_request *req)
{
    struct get_key *k = req->ctx;
    store_grant_queue(&k->pending, http_wake, req);
    return LICD_OK;
}

static int seat_written(http_request *req)
{
    struct get_key *k = req->ctx;
    return answer(req, k, store_grant_finish(&k->pending, &k->r));
}

/* The client's licences (one read) decide, or a seat is to be taken: then
 * the request waits for the seat's batch without holding its worker. */
static int grant(http_request *req, struct get_key *k)
{
    int rc;
    take_generation(k);
    rc = store_grant_mine(&k->g, &k->pending, &k->r);
    if (rc == LICD_OK && domain_grant_first_step(&k->r.facts) == GRANT_TRY_SEAT)
        return http_wait(req, queue_seat, seat_written);
    return answer(req, k, rc);
}

int api_get_key(http_request *req)
{
    const store_customer *c = api_caller_customer(req);
    struct get_key *k = calloc(1, sizeof *k);
    const cJSON *challenge;
    const char *product, *version = NULL, *client_id, *platform, *software_id = NULL;
    int rc;

    if (!k)
        return LICD_ERR_NOMEM;
    http_keep(req, k, get_key_free);
    if ((rc = http_json_body(req, &k->body)) != LICD_OK)
        return rc;
    if (!c) {
        /* No Authorization header: only the group shape, whose credential
         * is the group key in the body, may go on. */
        return cJSON_GetObjectItemCaseSensitive(k->body, "group_key")
                   ? api_get_key_group(req, k->body)
                   : api_unauthorized(req);
    }
    if ((rc = json_get_string(k->body, "product", 1, 1, STORE_CODE_MAX, &product, req->detail)) ||
        (rc = json_get_string(k->body, "version", 0, 1, 64, &version, req->detail)) ||
        (rc = json_get_string(k->body, "client_id", 1, 1, 256, &client_id, req->detail)) ||
        (rc = json_get_enum(k->body, "platform", 0, api_platforms, "any", &platform, req->detail)) ||
        (rc = json_get_string(k->body, "software_id", 0, 1, 128, &software_id, req->detail)))
        return rc;
    challenge = cJSON_GetObjectItemCaseSensitive(k->body, "challenge");
    if (cJSON_IsNull(challenge))
        challenge = NULL;
    rc = store_product_get(c->vendor_id, product, &k->p);
    if (rc == LICD_ERR_NOT_FOUND)
        return http_fail(req, LICD_ERR_NO_MATCHING_PACK, "no product %s", product);
    if (rc != LICD_OK)
        return rc;
    if (k->p.require_challenge) {
        if (!challenge)
            return require_challenge(req, c, software_id);
        if ((rc = check_challenge(req, c, challenge, software_id, k->image_platform)) != LICD_OK)
            return rc;
        platform = k->image_platform;
    }
    store_license_cache_key(c->id, k->p.id, client_id, k->key, sizeof k->key);
    if (recovered_answer(req, k->key))
        return LICD_OK;
    k->g = (store_grant_request){c->vendor_id, c->id, k->p.id, client_id, platform, version,
                                 k->p.version};
    return grant(req, k);
}
