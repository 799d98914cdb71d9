/* POST /v1/tokens and /v1/tokens/renew: per-user, per-machine session
 * tokens for shared computers, one token covering a suite of products. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "domain/entitlement.h"
#include "store/db.h"
#include "store/tokens.h"
#include "store/users.h"
#include "util/json.h"

#define TOKEN_ISSUER "licd"
#define MAX_PRODUCTS 32
#define LOGIN_FAILURES_PER_MINUTE 5

/* Everything one issue needs and yields. */
struct issue {
    const char *vendor_id, *customer_id, *username, *machine_id;
    const char *codes[MAX_PRODUCTS];
    int n;
    long long renewing_iat; /* a renewal: the presented token's iat; -1 for a sign-in */
    store_token_facts facts;
    store_page entitlements; /* of store_entitlement, one per code */
    /* out */
    domain_state state;
    cJSON *features;      /* {"<product>":[...]} */
    int max_machines;     /* the smallest over the products */
    char jti[37];
    time_t iat, exp;
};

/* The features product i grants in state s. */
static cJSON *features_for(const store_entitlement *e, domain_state s)
{
    switch (domain_state_features(s)) {
    case FEATURES_ALL:
        return cJSON_Parse(e->product_features);
    case FEATURES_NAMED:
        return cJSON_Parse(e->named_features);
    case FEATURES_NONE:
        break;
    }
    return cJSON_CreateArray();
}

/* Reads the user, its machine and its entitlements to the products. */
static int read_facts(struct issue *x)
{
    return store_token_facts_get(x->customer_id, x->vendor_id, x->username, x->machine_id,
                                 x->codes, x->n, &x->facts, &x->entitlements);
}

/* The token's state (the weakest of its products'), features and machine
 * limit (the smallest) from the entitlements read. A renewal also needs an
 * unexpired entitlement to every product. */
static int judge_entitlements(struct issue *x)
{
    const store_entitlement *e = x->entitlements.items;

    if (!(x->features = cJSON_CreateObject()))
        return LICD_ERR_NOMEM;
    x->state = STATE_VALID;
    for (int i = 0; i < x->n; i++) {
        domain_state recorded = STATE_INVALID, s;
        cJSON *f;
        domain_state_parse(e[i].state, &recorded);
        s = domain_effective_state(e[i].known && e[i].has_entitlement, e[i].expired, recorded);
        if (x->renewing_iat >= 0 && (!e[i].known || !e[i].has_entitlement || e[i].expired))
            return LICD_ERR_RENEWAL_REFUSED;
        if (s < x->state)
            x->state = s;
        if (!x->max_machines || e[i].max_machines < x->max_machines)
            x->max_machines = e[i].max_machines;
        if (!(f = features_for(&e[i], s)) || !cJSON_AddItemToObject(x->features, x->codes[i], f)) {
            cJSON_Delete(f);
            return LICD_ERR_NOMEM;
        }
    }
    return LICD_OK;
}

/* Records the token with up to max machines holding slots. */
static int record(struct issue *x, int max_machines)
{
    store_token_request r = {x->facts.user_id, x->machine_id, x->codes, x->n,
                             api_ctx()->config->token_ttl, max_machines, x->renewing_iat};
    return store_token_record(&r, x->jti, &x->iat, &x->exp);
}

/* Under the user's row lock, so that two machines never take the last slot
 * at once: revocation, then the token if the machine gets a slot. Runs
 * again from the top if the transaction retries. */
static int issue_tx(void *p)
{
    struct issue *x = p;
    int revoked, rc;

    if ((rc = store_user_lock(x->facts.user_id, &revoked)) != LICD_OK)
        return rc;
    if (revoked)
        return LICD_ERR_USER_REVOKED;
    rc = record(x, x->max_machines);
    return rc == LICD_ERR_NOT_FOUND ? LICD_ERR_MACHINE_LIMIT_REACHED : rc;
}

/* A machine that holds its slot takes no new one: its token is one
 * statement. Any other (new, lapsed or freed) may take a slot only under
 * the user's lock, which the fast path falls back to when the slot was
 * lost meanwhile. */
static int issue(struct issue *x)
{
    int rc;
    if (x->facts.slot_held && (rc = record(x, 0)) != LICD_ERR_NOT_FOUND)
        return rc;
    return store_tx(issue_tx, x);
}

static void issue_clear(struct issue *x)
{
    store_page_free(&x->entitlements);
    cJSON_Delete(x->features);
}

/* Signs the token the transaction recorded and answers 201. */
static int reply_token(http_request *req, const struct issue *x)
{
    cJSON *claims = cJSON_CreateObject(), *out = NULL, *aud;
    char *jwt = NULL;
    int rc = LICD_ERR_NOMEM;

    if (!claims || !cJSON_AddStringToObject(claims, "iss", TOKEN_ISSUER) ||
        !cJSON_AddStringToObject(claims, "sub", x->username) ||
        !cJSON_AddStringToObject(claims, "uid", x->facts.user_id) ||
        !cJSON_AddStringToObject(claims, "cus", x->customer_id) ||
        !cJSON_AddStringToObject(claims, "vnd", x->vendor_id) ||
        !cJSON_AddStringToObject(claims, "mid", x->machine_id) ||
        !(aud = cJSON_AddArrayToObject(claims, "aud")) ||
        !cJSON_AddStringToObject(claims, "lst", domain_state_name(x->state)) ||
        !cJSON_AddItemReferenceToObject(claims, "feat", x->features) ||
        !cJSON_AddNumberToObject(claims, "iat", (double)x->iat) ||
        !cJSON_AddNumberToObject(claims, "exp", (double)x->exp) ||
        !cJSON_AddStringToObject(claims, "jti", x->jti))
        goto out;
    for (int i = 0; i < x->n; i++)
        if (!cJSON_AddItemToArray(aud, cJSON_CreateString(x->codes[i])))
            goto out;
    if ((rc = crypto_jwt_sign(api_ctx()->keys, claims, &jwt)) != LICD_OK)
        goto out;
    /* Its renewal skips the signature check on this node. */
    crypto_jwt_remember(api_ctx()->keys, jwt);
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) && cJSON_AddStringToObject(out, "token", jwt) &&
        json_add_time(out, "expires_at", x->exp) &&
        cJSON_AddStringToObject(out, "license_state", domain_state_name(x->state)) &&
        cJSON_AddItemReferenceToObject(out, "features", x->features) &&
        cJSON_AddStringToObject(out, "machine_id", x->machine_id) &&
        cJSON_AddItemReferenceToObject(out, "products", aud) &&
        cJSON_AddStringToObject(out, "jti", x->jti))
        rc = http_reply_json(req, 201, out);
out:
    free(jwt);
    cJSON_Delete(out);
    cJSON_Delete(claims);
    return rc;
}

/* Product codes from a JSON array (already checked to be distinct strings). */
static int read_codes(http_request *req, const cJSON *arr, struct issue *x)
{
    const cJSON *el;
    x->n = 0;
    cJSON_ArrayForEach(el, arr) {
        if (strspn(el->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
            strlen(el->valuestring)) {
            return http_fail(req, LICD_ERR_INVALID_FIELD,
                             "products holds a malformed product code");
        }
        x->codes[x->n++] = el->valuestring;
    }
    if (x->n == 0) {
        return http_fail(req, LICD_ERR_INVALID_FIELD, "products must name at least one product");
    }
    return LICD_OK;
}

/* The revoked user's refusal: what happened and what to do. */
static int user_revoked(http_request *req, const char *username)
{
    return http_fail(
        req, LICD_ERR_USER_REVOKED,
        "the vendor revoked user %s: no token is issued or renewed for it until the vendor "
        "lifts the revocation (POST /v1/users/{username}/unrevoke)",
        username);
}

/* The login itself, on the offload pool: scrypt costs tens of
 * milliseconds of CPU, which must not hold an HTTP worker. One read tells
 * the throttle, the password hash, revocation, the machine's slot and the
 * entitlements; the token is then one statement for a machine that holds
 * its slot, or the locked transaction for one that takes a slot. */
static int tokens_create(http_request *req)
{
    const store_customer *c = api_caller_customer(req);
    struct issue x = {.vendor_id = c->vendor_id, .customer_id = c->id, .renewing_iat = -1};
    cJSON *body = NULL;
    const cJSON *products;
    const char *password;
    int rc, wait;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "username", 1, 1, 128, &x.username, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "password", 1, 1, 1024, &password, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "machine_id", 1, 1, 256, &x.machine_id, req->detail)) != LICD_OK ||
        (rc = json_get_string_array(body, "products", 1, MAX_PRODUCTS, 64, &products, req->detail)) != LICD_OK ||
        (rc = read_codes(req, products, &x)) != LICD_OK ||
        (rc = read_facts(&x)) != LICD_OK)
        goto out;
    if ((wait = domain_login_wait(x.facts.failures, LOGIN_FAILURES_PER_MINUTE,
                                  x.facts.oldest_failure_age)) > 0) {
        req->retry_after = wait;
        snprintf(req->detail, sizeof req->detail, "too many failed logins for %s; retry in %d s",
                 x.username, wait);
        rc = LICD_ERR_TOO_MANY_REQUESTS;
        goto out;
    }
    /* An unknown user costs the same scrypt work as a wrong password. */
    if (!crypto_password_verify(password, x.facts.found ? x.facts.password_hash : NULL)) {
        if ((rc = store_login_failure_add(c->id, x.username)) == LICD_OK) {
            rc = http_fail(req, LICD_ERR_INVALID_CREDENTIALS, "unknown user or wrong password");
        }
        goto out;
    }
    if (x.facts.revoked) {
        rc = user_revoked(req, x.username);
        goto out;
    }
    if ((rc = judge_entitlements(&x)) != LICD_OK)
        goto out;
    rc = issue(&x);
    if (rc == LICD_OK)
        rc = reply_token(req, &x);
    else if (rc == LICD_ERR_USER_REVOKED)
        rc = user_revoked(req, x.username);
    else if (rc == LICD_ERR_MACHINE_LIMIT_REACHED)
        snprintf(req->detail, sizeof req->detail,
                 "%s holds unexpired tokens on %d machines, as many as allowed: wait until one "
                 "expires, or have the vendor free one (DELETE /v1/users/{username}/machines/"
                 "{machine_id})",
                 x.username, x.max_machines);
out:
    issue_clear(&x);
    cJSON_Delete(body);
    return rc;
}

int api_tokens_create(http_request *req) { return http_offload(req, tokens_create); }

/* A renewal's state, kept with the request while it waits for its read
 * and its write (http_wait): the body and claims hold the strings x points
 * to. */
struct renewal {
    cJSON *body, *claims;
    struct issue x;
    store_facts_result read;
    store_token_result held;
    int verdict;  /* on what was read: LICD_OK to issue under the user's lock, or a refusal */
    int recorded; /* its token went into a batched write (held) */
};

static void renewal_free(void *p)
{
    struct renewal *r = p;
    issue_clear(&r->x);
    cJSON_Delete(r->claims);
    cJSON_Delete(r->body);
    free(r);
}

/* The answer to a renewal whose token is recorded (rc LICD_OK) or not. */
static int renewal_answer(http_request *req, struct issue *x, int rc)
{
    if (rc == LICD_ERR_USER_REVOKED || rc == LICD_ERR_MACHINE_LIMIT_REACHED)
        rc = LICD_ERR_RENEWAL_REFUSED;
    if (rc == LICD_OK)
        return reply_token(req, x);
    if (rc == LICD_ERR_RENEWAL_REFUSED)
        snprintf(req->detail, sizeof req->detail,
                 "this token cannot be renewed: sign in with the password again");
    return rc;
}

/* Decides on what was read (verdict): a machine that holds its slot has
 * its token recorded in the next batched write, which wakes the request
 * (1 is returned: r may be gone by then and is not touched again); any
 * other is issued under the user's lock once the request is woken
 * (verdict LICD_OK), or refused. */
static int renewal_judge(http_request *req, struct renewal *r)
{
    struct issue *x = &r->x;
    store_token_request t;
    int rc;
    x->entitlements = r->read.entitlements; /* freed with x */
    r->read.entitlements = (store_page){0};
    x->facts = r->read.facts;
    if ((r->verdict = r->read.rc) != LICD_OK)
        return 0;
    if (!x->facts.found || x->facts.revoked || x->renewing_iat < x->facts.renew_from) {
        r->verdict = LICD_ERR_RENEWAL_REFUSED;
        return 0;
    }
    if ((r->verdict = judge_entitlements(x)) != LICD_OK || !x->facts.slot_held)
        return 0;
    t = (store_token_request){x->facts.user_id, x->machine_id, x->codes, x->n,
                              api_ctx()->config->token_ttl, 0, x->renewing_iat};
    r->recorded = 1; /* before the write can wake the request */
    if ((rc = store_token_record_held(&t, &r->held, http_wake, req)) == LICD_OK)
        return 1;
    r->recorded = 0;
    r->verdict = rc;
    return 0;
}

/* Called by the batched read once the facts are in, on its thread: a
 * token to record goes on to the batched write at once; any other
 * renewal is woken now. */
static void renewal_read_done(void *req)
{
    if (!renewal_judge(req, ((http_request *)req)->ctx))
        http_wake(req);
}

/* The user, its machine and its entitlements, read in a batch. */
static int renewal_read(http_request *req)
{
    struct renewal *r = req->ctx;
    struct issue *x = &r->x;
    return store_token_facts_batched(x->customer_id, x->vendor_id, x->username, x->machine_id,
                                     x->codes, x->n, &r->read, renewal_read_done, req);
}

/* Recorded in a batch; or the slot was lost meanwhile, or the machine
 * held none: the token is issued under the user's lock. */
static int renewal_finish(http_request *req)
{
    struct renewal *r = req->ctx;
    int rc = r->recorded ? r->held.rc : r->verdict;
    if (r->recorded && rc == LICD_OK) {
        memcpy(r->x.jti, r->held.jti, sizeof r->x.jti);
        r->x.iat = r->held.iat;
        r->x.exp = r->held.exp;
    } else if (rc == (r->recorded ? LICD_ERR_NOT_FOUND : LICD_OK)) {
        rc = store_tx(issue_tx, &r->x);
    }
    return renewal_answer(req, &r->x, rc);
}

/* Renewal without a password: only a session token of ours, for this
 * machine, expired less than LICD_RENEW_WINDOW ago, issued on it after
 * the vendor last freed its slot, of a user still entitled and not
 * revoked. Every refusal is the same 401. A machine that holds its slot
 * costs a share of one batched read and of one batched write. */
int api_tokens_renew(http_request *req)
{
    struct renewal *r = calloc(1, sizeof *r);
    struct issue *x;
    const cJSON *aud, *exp, *iat, *el;
    const char *token, *iss, *mid;
    int rc;

    if (!r)
        return LICD_ERR_NOMEM;
    http_keep(req, r, renewal_free);
    x = &r->x;
    x->renewing_iat = -1;
    if ((rc = http_json_body(req, &r->body)) != LICD_OK ||
        (rc = json_get_string(r->body, "token", 1, 1, 16384, &token, req->detail)) != LICD_OK ||
        (rc = json_get_string(r->body, "machine_id", 1, 1, 256, &x->machine_id, req->detail)) !=
            LICD_OK)
        return rc;
    rc = crypto_jwt_verify(api_ctx()->keys, token, time(NULL), &r->claims);
    aud = cJSON_GetObjectItemCaseSensitive(r->claims, "aud");
    exp = cJSON_GetObjectItemCaseSensitive(r->claims, "exp");
    iat = cJSON_GetObjectItemCaseSensitive(r->claims, "iat");
    iss = json_string_member(r->claims, "iss");
    mid = json_string_member(r->claims, "mid");
    x->customer_id = json_string_member(r->claims, "cus");
    x->vendor_id = json_string_member(r->claims, "vnd");
    x->username = json_string_member(r->claims, "sub");
    if ((rc != LICD_OK && rc != LICD_ERR_TOKEN_EXPIRED) || !iss || strcmp(iss, TOKEN_ISSUER) != 0 ||
        !x->customer_id || !x->vendor_id || !x->username || !mid || !cJSON_IsNumber(exp) ||
        !cJSON_IsNumber(iat) || !cJSON_IsArray(aud) || cJSON_GetArraySize(aud) < 1 ||
        cJSON_GetArraySize(aud) > MAX_PRODUCTS ||
        !domain_renewal_allowed(time(NULL), (time_t)exp->valuedouble,
                                api_ctx()->config->renew_window,
                                strcmp(mid, x->machine_id) == 0))
        return renewal_answer(req, x, LICD_ERR_RENEWAL_REFUSED);
    {
        /* The session token is the credential: one rate limit per user and
         * machine of a customer. */
        char id[512];
        snprintf(id, sizeof id, "s:%s:%s:%s", x->customer_id, x->username, mid);
        if ((rc = api_rate_limit(req, id)) != LICD_OK)
            return rc;
    }
    x->renewing_iat = (long long)iat->valuedouble;
    cJSON_ArrayForEach(el, aud) {
        if (!cJSON_IsString(el))
            return renewal_answer(req, x, LICD_ERR_RENEWAL_REFUSED);
        x->codes[x->n++] = el->valuestring;
    }
    return http_wait(req, renewal_read, renewal_finish);
}
