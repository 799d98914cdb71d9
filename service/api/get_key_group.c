/* POST /v1/get_key, group-key shape (no bearer; the group key is the
 * credential): an application in a container asks for an activation key for
 * one product on its node, within the key's link, its quotas per node and
 * per container and its resource limits, and gets a new update password
 * with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/license.h"
#include "store/group_keys.h"
#include "util/json.h"

/* The node of a request that names none. */
#define DEFAULT_NODE "default"

/* What the client sent, validated, and where it came from. */
struct group_request {
    const char *scheme, *product, *app_id, *node_id, *container_id, *domain, *password;
    const char *claimed_ip;              /* the body's "ip": evidence only */
    const char *ip;                      /* the address the request came from; NULL: unknown */
    char address[NETADDR_TEXT_MAX];
    char domain_buf[DOMAIN_NAME_MAX + 2];
};

static int read_request(http_request *req, const cJSON *body, struct group_request *g)
{
    netaddr claimed;
    int rc;
    g->node_id = DEFAULT_NODE;
    if ((rc = json_get_string(body, "scheme", 1, 1, 64, &g->scheme, req->detail)) ||
        (rc = json_get_string(body, "product", 1, 1, STORE_CODE_MAX, &g->product, req->detail)) ||
        (rc = json_get_string(body, "app_id", 1, 1, STORE_ID_MAX, &g->app_id, req->detail)) ||
        (rc = json_get_string(body, "node_id", 0, 1, STORE_ID_MAX, &g->node_id, req->detail)) ||
        (rc = json_get_string(body, "container_id", 0, 1, STORE_ID_MAX, &g->container_id,
                              req->detail)) ||
        (rc = json_get_string(body, "ip", 0, 1, 63, &g->claimed_ip, req->detail)) ||
        (rc = json_get_string(body, "domain", 0, 1, DOMAIN_NAME_MAX + 1, &g->domain,
                              req->detail)) ||
        (rc = json_get_string(body, "update_password", 0, 1, 128, &g->password, req->detail)))
        return rc;
    if (g->claimed_ip && netaddr_parse(g->claimed_ip, &claimed) != 0) {
        return http_fail(req, LICD_ERR_INVALID_FIELD, "ip must be an IPv4 or IPv6 address");
    }
    /* An ip_range link looks at the address the request came from, never at
     * what its body claims. */
    if (http_client_address(req, api_ctx()->config->trusted_proxies,
                            api_ctx()->config->ntrusted_proxies, g->address,
                            sizeof g->address) == 0)
        g->ip = g->address;
    if (g->domain) {
        if (!domain_link_domain_valid(g->domain)) {
            return http_fail(req, LICD_ERR_INVALID_FIELD, "domain must be a DNS name");
        }
        domain_link_domain_canonical(g->domain, g->domain_buf, sizeof g->domain_buf);
        g->domain = g->domain_buf;
    }
    return LICD_OK;
}

/* The refusal for a verdict, with a detail that tells the client why. */
static int refuse(http_request *req, const store_activation *a, const struct group_request *g)
{
    switch (a->verdict) {
    case GROUP_ISSUE:
        break;
    case GROUP_KEY_REVOKED:
        return http_fail(req, LICD_ERR_GROUP_KEY_REVOKED, "the group key has been revoked");
    case GROUP_KEY_EXPIRED:
        return http_fail(req, LICD_ERR_GROUP_KEY_EXPIRED, "the group key has expired");
    case GROUP_SCHEME_MISMATCH:
        return http_fail(req, LICD_ERR_SCHEME_MISMATCH, "the group key is not for scheme %.64s",
                         g->scheme);
    case GROUP_PRODUCT_NOT_IN_GROUP:
        return http_fail(req, LICD_ERR_PRODUCT_NOT_IN_GROUP,
                         "%.64s is not among the group key's products", g->product);
    case GROUP_LINK_MISMATCH:
        return http_fail(req, LICD_ERR_LINK_MISMATCH,
                         "the request is not on the group key's link (the address it came from, its"
                         " domain, node, app or container)");
    case GROUP_QUOTA_EXCEEDED:
        return http_fail(req, LICD_ERR_QUOTA_EXCEEDED,
                         "node %.64s has as many instances of %.64s as the group key allows",
                         g->node_id, g->product);
    case GROUP_CONTAINER_QUOTA_EXCEEDED:
        return http_fail(req, LICD_ERR_QUOTA_EXCEEDED,
                         "container %.48s on node %.48s has as many instances of %.48s as the group"
                         " key allows",
                         g->container_id ? g->container_id : "(none)", g->node_id, g->product);
    case GROUP_LICENSE_BLOCKED:
        return http_fail(req, LICD_ERR_LICENSE_BLOCKED,
                         "the licence of app %.64s on node %.64s is blocked", g->app_id,
                         g->node_id);
    case GROUP_OVER_LIMIT:
        return http_fail(req, LICD_ERR_OVER_LIMIT,
                         "the licence's reported usage of %.64s (%.17g) is over its limit (%.17g)",
                         a->excess.metric, a->excess.value, a->excess.limit);
    }
    return LICD_ERR_INTERNAL;
}

/* Answers 201 with the activation key: a licence JWT that also names the
 * node and the group key (by its public prefix). */
static int reply(http_request *req, const store_group_key *k, const store_activation *a,
                 const char *node_id)
{
    cJSON *extra = cJSON_CreateObject(), *o = NULL;
    char *jwt = NULL;
    int rc = LICD_ERR_NOMEM;
    if (!extra || !cJSON_AddStringToObject(extra, "node", node_id) ||
        !cJSON_AddStringToObject(extra, "grp", k->prefix))
        goto out;
    if ((rc = api_license_sign_with(&a->license, &a->product, extra, &jwt)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((o = cJSON_CreateObject()) && cJSON_AddStringToObject(o, "license", jwt) &&
        cJSON_AddStringToObject(o, "license_id", a->license.license_id) &&
        cJSON_AddStringToObject(o, "update_password", a->update_password) &&
        json_add_time(o, "expires_at", a->license.expires_at) &&
        cJSON_AddStringToObject(o, "product", a->product.code) &&
        cJSON_AddStringToObject(o, "app_id", a->license.client_id) &&
        cJSON_AddStringToObject(o, "node_id", node_id))
        rc = http_reply_json(req, 201, o);
out:
    free(jwt);
    cJSON_Delete(o);
    cJSON_Delete(extra);
    return rc;
}

/* The group key is the credential, so it is checked first; then the other
 * fields; then, in one transaction, the checks of API.md in their order. */
int api_get_key_group(http_request *req, const cJSON *body)
{
    struct group_request g = {0};
    store_group_key k = {0};
    store_activation a;
    const char *key;
    int rc;

    if ((rc = json_get_string(body, "group_key", 1, 1, 128, &key, req->detail)) != LICD_OK)
        return rc;
    if ((rc = store_group_key_by_key(key, &k)) != LICD_OK) {
        if (rc == LICD_ERR_UNKNOWN_GROUP_KEY)
            snprintf(req->detail, sizeof req->detail, "no such group key");
        goto out;
    }
    {
        /* The group key is the caller's credential: its own rate limit. */
        char id[48];
        snprintf(id, sizeof id, "g:%s", k.prefix);
        if ((rc = api_rate_limit(req, id)) != LICD_OK)
            goto out;
    }
    if ((rc = read_request(req, body, &g)) != LICD_OK)
        goto out;
    {
        store_activation_request r = {&k,         g.scheme,       g.product, g.app_id,
                                      g.node_id,  g.container_id, g.domain,  g.ip,
                                      g.claimed_ip, g.password,   api_ctx()->config->key_ttl};
        rc = store_group_activate(&r, &a);
    }
    if (rc == LICD_ERR_UPDATE_PASSWORD_UNKNOWN || rc == LICD_ERR_UNKNOWN_GROUP_KEY)
        snprintf(req->detail, sizeof req->detail, "%s",
                 rc == LICD_ERR_UNKNOWN_GROUP_KEY ? "no such group key" : a.detail);
    if (rc == LICD_OK)
        rc = a.verdict == GROUP_ISSUE ? reply(req, &k, &a, g.node_id) : refuse(req, &a, &g);
    store_product_clear(&a.product);
out:
    store_group_key_clear(&k);
    return rc;
}
