/* Vendor side of the shared-computer model: users of a customer, their
 * entitlements per product and machines, revocation, freeing a machine's
 * slot, and the usage-pattern watch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/list.h"
#include "domain/entitlement.h"
#include "store/customers.h"
#include "store/products.h"
#include "store/users.h"
#include "util/json.h"

/* The vendor's customer named by ?customer_id= (or body), else 404/400. */
static int vendor_customer(http_request *req, const api_vendor_caller *v, const char *customer_id,
                           store_customer *c)
{
    if (!customer_id) {
        return http_fail(req, LICD_ERR_INVALID_FIELD, "customer_id is required");
    }
    int rc = store_customer_get(v->vendor.id, customer_id, c);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no customer %s", customer_id);
    return rc;
}

/* Finds ?customer_id='s user named in the path, for the calling vendor. */
static int find_user(http_request *req, const api_vendor_caller *v, store_customer *c,
                     store_user *u)
{
    int rc = vendor_customer(req, v, http_query(req, "customer_id"), c);
    if (rc != LICD_OK)
        return rc;
    rc = store_user_get(c->id, http_param(req, "username"), u);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no user %s", http_param(req, "username"));
    return rc;
}

static cJSON *user_json(const store_user *u)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "user_id", u->id) &&
        cJSON_AddStringToObject(o, "customer_id", u->customer_id) &&
        cJSON_AddStringToObject(o, "username", u->username) &&
        cJSON_AddBoolToObject(o, "revoked", u->revoked) &&
        cJSON_AddStringToObject(o, "created_at", u->created_at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int reply_user(http_request *req, int status, const store_user *u)
{
    cJSON *o = user_json(u);
    int rc = o ? http_reply_json(req, status, o) : LICD_ERR_NOMEM;
    cJSON_Delete(o);
    return rc;
}

static cJSON *user_item_json(const void *item) { return user_json(item); }

int api_users_list(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_page page = {0};
    long long after;
    int limit, rc;

    if ((rc = api_list_params(req, &limit, &after)) != LICD_OK ||
        (rc = vendor_customer(req, v, http_query(req, "customer_id"), &c)) != LICD_OK ||
        (rc = store_user_list(c.id, after, limit, &page)) != LICD_OK)
        return rc;
    rc = api_list_page(req, &page, user_item_json);
    store_page_free(&page);
    return rc;
}

/* One entitlement: {"product","state","features","max_machines","expires"}. */
static cJSON *entitlement_json(const void *item)
{
    const store_user_entitlement *e = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "product", e->product) &&
        cJSON_AddStringToObject(o, "state", e->state) &&
        cJSON_AddRawToObject(o, "features", e->features) &&
        cJSON_AddNumberToObject(o, "max_machines", e->max_machines) &&
        (e->expires[0] ? cJSON_AddStringToObject(o, "expires", e->expires)
                       : cJSON_AddNullToObject(o, "expires")))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* One machine: {"machine_id","last_token_at","token_expires_at"}. */
static cJSON *machine_json(const void *item)
{
    const store_user_machine *m = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "machine_id", m->machine_id) &&
        cJSON_AddStringToObject(o, "last_token_at", m->last_token_at) &&
        cJSON_AddStringToObject(o, "token_expires_at", m->token_expires_at))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* The user's entitlements, and the machines that hold a slot or may still
 * renew into one, added to o. */
static int add_entitlements_and_machines(cJSON *o, const store_user *u)
{
    store_page page = {0};
    int rc;
    if ((rc = store_user_entitlements(u->id, &page)) == LICD_OK)
        rc = api_list_add(o, "entitlements", &page, entitlement_json);
    store_page_free(&page);
    if (rc == LICD_OK &&
        (rc = store_user_machines(u->id, api_ctx()->config->renew_window, &page)) == LICD_OK)
        rc = api_list_add(o, "machines", &page, machine_json);
    store_page_free(&page);
    return rc;
}

int api_users_get(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    cJSON *o = NULL;
    int rc;

    if ((rc = find_user(req, v, &c, &u)) != LICD_OK)
        return rc;
    if (!(o = user_json(&u)))
        return LICD_ERR_NOMEM;
    if ((rc = add_entitlements_and_machines(o, &u)) == LICD_OK)
        rc = http_reply_json(req, 200, o);
    cJSON_Delete(o);
    return rc;
}

int api_users_create(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    cJSON *body = NULL;
    const char *customer_id, *username, *password;
    char hash[CRYPTO_PASSWORD_ENCODED_MAX];
    int rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_string(body, "customer_id", 1, 1, 64, &customer_id, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "username", 1, 1, 128, &username, req->detail)) != LICD_OK ||
        (rc = json_get_string(body, "password", 1, 8, 1024, &password, req->detail)) != LICD_OK ||
        (rc = vendor_customer(req, v, customer_id, &c)) != LICD_OK)
        goto out;
    if ((rc = crypto_password_hash(password, hash, sizeof hash)) != LICD_OK)
        goto out;
    rc = store_user_create(&v->actor, c.id, username, hash, &u);
    if (rc == LICD_ERR_CONFLICT)
        snprintf(req->detail, sizeof req->detail, "the customer has a user %s already", username);
    if (rc == LICD_OK)
        rc = reply_user(req, 201, &u);
out:
    cJSON_Delete(body);
    return rc;
}

/* Revokes the user named in the path, or lifts its revocation (set). */
static int set_revoked(http_request *req,
                       int (*set)(const store_actor *, const char *, const char *, store_user *))
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    int rc = find_user(req, v, &c, &u);
    if (rc == LICD_OK && (rc = set(&v->actor, c.id, u.username, &u)) == LICD_OK)
        rc = reply_user(req, 200, &u);
    return rc;
}

int api_users_revoke(http_request *req) { return set_revoked(req, store_user_revoke); }

int api_users_unrevoke(http_request *req) { return set_revoked(req, store_user_unrevoke); }

int api_users_free_machine(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    const char *machine_id = http_param(req, "machine_id");
    store_customer c;
    store_user u;
    int rc = find_user(req, v, &c, &u);
    if (rc != LICD_OK)
        return rc;
    rc = store_user_machine_free(&v->actor, &u, machine_id);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "%s never had a token on machine %s",
                 u.username, machine_id);
    return rc == LICD_OK ? http_reply_empty(req, 204) : rc;
}

int api_entitlements_put(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    store_product p = {0};
    cJSON *body = NULL, *out = NULL;
    const cJSON *features = NULL;
    const char *state;
    char expires_text[32];
    long long max_machines = 5;
    time_t expires = 0;
    int has_expires = 0, rc;
    char *features_json = NULL;

    /* validate the body → look up → act (route and key were checked first) */
    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_enum(body, "state", 1, domain_state_names, NULL, &state, req->detail)) != LICD_OK ||
        (rc = json_get_string_array(body, "features", 0, 200, 64, &features, req->detail)) != LICD_OK ||
        (rc = json_get_int(body, "max_machines", 0, 1, 100000, &max_machines, req->detail)) != LICD_OK ||
        (rc = json_get_time(body, "expires", 0, &expires, &has_expires, req->detail)) != LICD_OK ||
        (rc = find_user(req, v, &c, &u)) != LICD_OK)
        goto out;
    rc = store_product_get(v->vendor.id, http_param(req, "product"), &p);
    if (rc == LICD_ERR_NOT_FOUND)
        snprintf(req->detail, sizeof req->detail, "no product %s", http_param(req, "product"));
    if (rc != LICD_OK)
        goto out;
    features_json = features ? cJSON_PrintUnformatted(features) : strdup("[]");
    /* The time as this service read it, not the client's text again. */
    json_format_time(expires, expires_text, sizeof expires_text);
    if (!features_json) {
        rc = LICD_ERR_NOMEM;
        goto out;
    }
    if ((rc = store_entitlement_put(&v->actor, &u, p.id, p.code, state, features_json,
                                    (int)max_machines, has_expires ? expires_text : NULL)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) && cJSON_AddStringToObject(out, "username", u.username) &&
        cJSON_AddStringToObject(out, "product", p.code) &&
        cJSON_AddStringToObject(out, "state", state) &&
        cJSON_AddRawToObject(out, "features", features_json) &&
        cJSON_AddNumberToObject(out, "max_machines", (double)max_machines) &&
        (has_expires ? json_add_time(out, "expires", expires) != NULL
                     : cJSON_AddNullToObject(out, "expires") != NULL))
        rc = http_reply_json(req, 200, out);
out:
    free(features_json);
    store_product_clear(&p);
    cJSON_Delete(out);
    cJSON_Delete(body);
    return rc;
}

/* One machine of the usage-pattern watch. */
static cJSON *activity_json(const void *item)
{
    const store_machine_activity *a = item;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "machine_id", a->machine_id) &&
        cJSON_AddStringToObject(o, "first_seen", a->first_seen) &&
        cJSON_AddStringToObject(o, "last_seen", a->last_seen) &&
        cJSON_AddNumberToObject(o, "tokens", (double)a->tokens))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int api_users_activity(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    store_page page = {0};
    cJSON *out = NULL;
    int rc, max = 5, n;

    if ((rc = find_user(req, v, &c, &u)) != LICD_OK ||
        (rc = store_user_max_machines(u.id, &max)) != LICD_OK ||
        (rc = store_user_activity(u.id, &page)) != LICD_OK)
        goto out;
    n = (int)page.n;
    rc = LICD_ERR_NOMEM;
    if ((out = cJSON_CreateObject()) && cJSON_AddStringToObject(out, "username", u.username) &&
        cJSON_AddNumberToObject(out, "window_hours", 24) &&
        cJSON_AddNumberToObject(out, "max_machines", max) &&
        cJSON_AddNumberToObject(out, "distinct_machines", n) &&
        cJSON_AddBoolToObject(out, "flagged", domain_shared_account(n, max)) &&
        (rc = api_list_add(out, "machines", &page, activity_json)) == LICD_OK)
        rc = http_reply_json(req, 200, out);
out:
    store_page_free(&page);
    cJSON_Delete(out);
    return rc;
}
