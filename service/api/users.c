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

/* The user's entitlements as "entitlements": [{"product","state",
 * "features","max_machines","expires"}]. */
static int add_entitlements(cJSON *o, const store_user *u)
{
    store_page page = {0};
    const store_user_entitlement *e;
    cJSON *list;
    int rc = store_user_entitlements(u->id, &page);

    if (rc != LICD_OK)
        return rc;
    e = page.items;
    rc = LICD_ERR_NOMEM;
    if (!(list = cJSON_AddArrayToObject(o, "entitlements")))
        goto out;
    for (size_t i = 0; i < page.n; i++) {
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            goto out;
        }
        if (!cJSON_AddStringToObject(item, "product", e[i].product) ||
            !cJSON_AddStringToObject(item, "state", e[i].state) ||
            !cJSON_AddRawToObject(item, "features", e[i].features) ||
            !cJSON_AddNumberToObject(item, "max_machines", e[i].max_machines) ||
            !(e[i].expires[0] ? cJSON_AddStringToObject(item, "expires", e[i].expires)
                              : cJSON_AddNullToObject(item, "expires")))
            goto out;
    }
    rc = LICD_OK;
out:
    store_page_free(&page);
    return rc;
}

/* The user's machines as "machines": [{"machine_id","last_token_at",
 * "token_expires_at"}]: those that hold a slot or may still renew into one. */
static int add_machines(cJSON *o, const store_user *u)
{
    store_page page = {0};
    const store_user_machine *m;
    cJSON *list;
    int rc = store_user_machines(u->id, api_ctx()->config->renew_window, &page);

    if (rc != LICD_OK)
        return rc;
    m = page.items;
    rc = LICD_ERR_NOMEM;
    if (!(list = cJSON_AddArrayToObject(o, "machines")))
        goto out;
    for (size_t i = 0; i < page.n; i++) {
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            goto out;
        }
        if (!cJSON_AddStringToObject(item, "machine_id", m[i].machine_id) ||
            !cJSON_AddStringToObject(item, "last_token_at", m[i].last_token_at) ||
            !cJSON_AddStringToObject(item, "token_expires_at", m[i].token_expires_at))
            goto out;
    }
    rc = LICD_OK;
out:
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
    if ((rc = add_entitlements(o, &u)) == LICD_OK && (rc = add_machines(o, &u)) == LICD_OK)
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

int api_users_revoke(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    int rc = find_user(req, v, &c, &u);
    if (rc == LICD_OK && (rc = store_user_revoke(&v->actor, c.id, u.username, &u)) == LICD_OK)
        rc = reply_user(req, 200, &u);
    return rc;
}

int api_users_unrevoke(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    int rc = find_user(req, v, &c, &u);
    if (rc == LICD_OK && (rc = store_user_unrevoke(&v->actor, c.id, u.username, &u)) == LICD_OK)
        rc = reply_user(req, 200, &u);
    return rc;
}

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

int api_users_activity(http_request *req)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    store_customer c;
    store_user u;
    store_page page = {0};
    const store_machine_activity *a;
    cJSON *out = NULL, *machines;
    int rc, max = 5, n;

    if ((rc = find_user(req, v, &c, &u)) != LICD_OK ||
        (rc = store_user_max_machines(u.id, &max)) != LICD_OK ||
        (rc = store_user_activity(u.id, &page)) != LICD_OK)
        goto out;
    a = page.items;
    n = (int)page.n;
    rc = LICD_ERR_NOMEM;
    if (!(out = cJSON_CreateObject()) || !cJSON_AddStringToObject(out, "username", u.username) ||
        !cJSON_AddNumberToObject(out, "window_hours", 24) ||
        !cJSON_AddNumberToObject(out, "max_machines", max) ||
        !cJSON_AddNumberToObject(out, "distinct_machines", n) ||
        !cJSON_AddBoolToObject(out, "flagged", domain_shared_account(n, max)) ||
        !(machines = cJSON_AddArrayToObject(out, "machines")))
        goto out;
    for (int i = 0; i < n; i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m)
            goto out;
        cJSON_AddItemToArray(machines, m);
        if (!cJSON_AddStringToObject(m, "machine_id", a[i].machine_id) ||
            !cJSON_AddStringToObject(m, "first_seen", a[i].first_seen) ||
            !cJSON_AddStringToObject(m, "last_seen", a[i].last_seen) ||
            !cJSON_AddNumberToObject(m, "tokens", (double)a[i].tokens))
            goto out;
    }
    rc = http_reply_json(req, 200, out);
out:
    store_page_free(&page);
    cJSON_Delete(out);
    return rc;
}
