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
#include "store/users.h"
#include "util/json.h"

#define TOKEN_ISSUER "licd"
#define MAX_PRODUCTS 32
#define LOGIN_FAILURES_PER_MINUTE 5

/* Everything one issue needs and yields; the transaction fills the outputs. */
struct issue {
    const char *vendor_id;
    const store_user *user;
    const char *machine_id;
    const char *codes[MAX_PRODUCTS];
    int n;
    int renewal;          /* also require an unexpired entitlement to every product */
    long ttl;
    /* out */
    domain_state state;
    cJSON *features;      /* {"<product>":[...]} */
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

/* Under the user's row lock: revocation, entitlements, the machine limit,
 * then the token row. Runs again from the top if the transaction retries. */
static int issue_tx(void *p)
{
    struct issue *x = p;
    store_page ents = {0};
    const store_entitlement *e;
    int revoked, known, in_use, max = 0, rc;

    cJSON_Delete(x->features);
    if (!(x->features = cJSON_CreateObject()))
        return LICD_ERR_NOMEM;
    if ((rc = store_user_lock(x->user->id, &revoked)) != LICD_OK)
        return rc;
    if (revoked)
        return LICD_ERR_USER_REVOKED;
    if ((rc = store_entitlements_for(x->vendor_id, x->user->id, x->codes, x->n, &ents)) != LICD_OK)
        return rc;
    e = ents.items;
    x->state = STATE_VALID;
    for (int i = 0; i < x->n; i++) {
        domain_state recorded = STATE_INVALID, s;
        cJSON *f;
        domain_state_parse(e[i].state, &recorded);
        s = domain_effective_state(e[i].known && e[i].has_entitlement, e[i].expired, recorded);
        if (x->renewal && (!e[i].known || !e[i].has_entitlement || e[i].expired)) {
            rc = LICD_ERR_RENEWAL_REFUSED;
            goto out;
        }
        if (s < x->state)
            x->state = s;
        if (!max || e[i].max_machines < max)
            max = e[i].max_machines;
        if (!(f = features_for(&e[i], s)) || !cJSON_AddItemToObject(x->features, x->codes[i], f)) {
            cJSON_Delete(f);
            rc = LICD_ERR_NOMEM;
            goto out;
        }
    }
    if ((rc = store_machine_usage(x->user->id, x->machine_id, &known, &in_use)) != LICD_OK)
        goto out;
    if (!domain_machine_allowed(known, in_use, max)) {
        rc = LICD_ERR_MACHINE_LIMIT_REACHED;
        goto out;
    }
    rc = store_token_record(x->user->id, x->machine_id, x->codes, x->n, x->ttl, x->renewal, x->jti,
                            &x->iat, &x->exp);
out:
    store_page_free(&ents);
    return rc;
}

/* Signs the token the transaction recorded and answers 201. */
static int reply_token(http_request *req, const struct issue *x, const char *customer_id)
{
    cJSON *claims = cJSON_CreateObject(), *out = NULL, *aud;
    char *jwt = NULL;
    int rc = LICD_ERR_NOMEM;

    if (!claims || !cJSON_AddStringToObject(claims, "iss", TOKEN_ISSUER) ||
        !cJSON_AddStringToObject(claims, "sub", x->user->username) ||
        !cJSON_AddStringToObject(claims, "uid", x->user->id) ||
        !cJSON_AddStringToObject(claims, "cus", customer_id) ||
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
            snprintf(req->detail, sizeof req->detail, "products holds a malformed product code");
            return LICD_ERR_INVALID_FIELD;
        }
        x->codes[x->n++] = el->valuestring;
    }
    if (x->n == 0) {
        snprintf(req->detail, sizeof req->detail, "products must name at least one product");
        return LICD_ERR_INVALID_FIELD;
    }
    return LICD_OK;
}

/* The login itself, on the offload pool: scrypt costs tens of
 * milliseconds of CPU, which must not hold an HTTP worker. */
static int tokens_create(http_request *req)
{
    const store_customer *c = api_caller_customer(req);
    store_user u;
    struct issue x = {0};
    cJSON *body = NULL;
    const cJSON *products;
    const char *username, *password;
    int rc, failures = 0, oldest = 0, wait, found;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "username", 1, 1, 128, &username, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "password", 1, 1, 1024, &password, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "machine_id", 1, 1, 256, &x.machine_id, req->detail)) != LICD_OK ||
        (rc = json_get_string_array(body, "products", 1, MAX_PRODUCTS, 64, &products, req->detail)) != LICD_OK ||
        (rc = read_codes(req, products, &x)) != LICD_OK)
        goto out;
    if ((rc = store_login_failures(c->id, username, &failures, &oldest)) != LICD_OK)
        goto out;
    if ((wait = domain_login_wait(failures, LOGIN_FAILURES_PER_MINUTE, oldest)) > 0) {
        req->retry_after = wait;
        snprintf(req->detail, sizeof req->detail, "too many failed logins for %s; retry in %d s",
                 username, wait);
        rc = LICD_ERR_TOO_MANY_REQUESTS;
        goto out;
    }
    rc = store_user_get(c->id, username, &u);
    if (rc != LICD_OK && rc != LICD_ERR_NOT_FOUND)
        goto out;
    found = rc == LICD_OK;
    /* An unknown user costs the same scrypt work as a wrong password. */
    if (!crypto_password_verify(password, found ? u.password_hash : NULL)) {
        if ((rc = store_login_failure_add(c->id, username)) == LICD_OK) {
            snprintf(req->detail, sizeof req->detail, "unknown user or wrong password");
            rc = LICD_ERR_INVALID_CREDENTIALS;
        }
        goto out;
    }
    x.vendor_id = c->vendor_id;
    x.user = &u;
    x.ttl = api_ctx()->config->token_ttl;
    if ((rc = store_tx(issue_tx, &x)) == LICD_OK)
        rc = reply_token(req, &x, c->id);
    else if (rc == LICD_ERR_MACHINE_LIMIT_REACHED)
        snprintf(req->detail, sizeof req->detail, "%s holds tokens on as many machines as allowed",
                 username);
out:
    cJSON_Delete(x.features);
    cJSON_Delete(body);
    return rc;
}

/* Renewal without a password: only a session token of ours, for this
 * machine, expired less than LICD_RENEW_WINDOW ago, of a user still
 * entitled and not revoked. Every refusal is the same 401. */
int api_tokens_create(http_request *req) { return http_offload(req, tokens_create); }

int api_tokens_renew(http_request *req)
{
    cJSON *body = NULL, *claims = NULL;
    const cJSON *aud, *exp;
    const char *token, *cus, *iss;
    store_user u;
    struct issue x = {0};
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "token", 1, 1, 16384, &token, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "machine_id", 1, 1, 256, &x.machine_id, req->detail)) != LICD_OK)
        goto out;
    rc = crypto_jwt_verify(api_ctx()->keys, token, time(NULL), &claims);
    aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
    exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    iss = json_string_member(claims, "iss");
    cus = json_string_member(claims, "cus");
    x.vendor_id = json_string_member(claims, "vnd");
    if ((rc != LICD_OK && rc != LICD_ERR_TOKEN_EXPIRED) || !iss || strcmp(iss, TOKEN_ISSUER) != 0 ||
        !cus || !x.vendor_id || !json_string_member(claims, "sub") || !json_string_member(claims, "mid") ||
        !cJSON_IsNumber(exp) || !cJSON_IsArray(aud) || cJSON_GetArraySize(aud) > MAX_PRODUCTS ||
        !domain_renewal_allowed(time(NULL), (time_t)exp->valuedouble,
                                api_ctx()->config->renew_window,
                                strcmp(json_string_member(claims, "mid"), x.machine_id) == 0)) {
        rc = LICD_ERR_RENEWAL_REFUSED;
        goto out;
    }
    {
        const cJSON *el;
        cJSON_ArrayForEach(el, aud) {
            if (!cJSON_IsString(el)) {
                rc = LICD_ERR_RENEWAL_REFUSED;
                goto out;
            }
            x.codes[x.n++] = el->valuestring;
        }
    }
    rc = store_user_get(cus, json_string_member(claims, "sub"), &u);
    if (rc == LICD_ERR_NOT_FOUND || (rc == LICD_OK && u.revoked))
        rc = LICD_ERR_RENEWAL_REFUSED;
    if (rc != LICD_OK)
        goto out;
    x.user = &u;
    x.renewal = 1;
    x.ttl = api_ctx()->config->token_ttl;
    rc = store_tx(issue_tx, &x);
    if (rc == LICD_ERR_USER_REVOKED || rc == LICD_ERR_MACHINE_LIMIT_REACHED)
        rc = LICD_ERR_RENEWAL_REFUSED;
    if (rc == LICD_OK)
        rc = reply_token(req, &x, cus);
out:
    if (rc == LICD_ERR_RENEWAL_REFUSED)
        snprintf(req->detail, sizeof req->detail,
                 "this token cannot be renewed: sign in with the password again");
    cJSON_Delete(x.features);
    cJSON_Delete(claims);
    cJSON_Delete(body);
    return rc;
}
