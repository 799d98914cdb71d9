/* The declarations routes carry, and the authorize hook that holds each
 * request's Authorization header to its route's declaration and finds the
 * caller, before the body is read and before any handler runs. */
#include "api/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/license.h"
#include "crypto/apikey.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/netaddr.h"

const http_auth api_public = {"public", 0, 1};
const http_auth api_vendor_key = {"vendor_key", API_KEY_VENDOR, 0};
const http_auth api_customer_key = {"customer_key", API_KEY_CUSTOMER, 0};
const http_auth api_vendor_or_customer_key = {"vendor_key|customer_key",
                                              API_KEY_VENDOR | API_KEY_CUSTOMER, 0};
const http_auth api_license = {"license", API_KEY_LICENSE, 0};
const http_auth api_customer_or_group_key = {"customer_key|group_key", API_KEY_CUSTOMER, 1};
const http_auth api_session_token = {"session_token", 0, 1};

/* Who is calling: key is the API_KEY_* presented and names the member set. */
typedef struct {
    unsigned key;
    api_vendor_caller vendor;
    store_customer customer;
    api_license_caller license;
} api_caller;

/* How each credential is sent, for the details of refusals. */
static const struct {
    unsigned key;
    const char *form;
} forms[] = {
    {API_KEY_VENDOR, "Bearer <vendor API key>"},
    {API_KEY_CUSTOMER, "Bearer <customer key>"},
    {API_KEY_LICENSE, "License <licence or activation key>"},
};

/* Sets the detail to what, followed by the credentials the route takes. */
static void detail_forms(http_request *req, const char *what)
{
    const char *sep = "";
    snprintf(req->detail, sizeof req->detail, "%s", what);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        size_t used = strlen(req->detail);
        if (!(req->route->auth->keys & forms[i].key))
            continue;
        snprintf(req->detail + used, sizeof req->detail - used, "%s%s", sep, forms[i].form);
        sep = " or ";
    }
}

int api_unauthorized(http_request *req)
{
    detail_forms(req, "send Authorization: ");
    return LICD_ERR_UNAUTHORIZED;
}

/* The token after "<scheme> " in the Authorization header h, or NULL. */
static const char *credentials(const char *h, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return NULL;
    for (h += n; *h == ' '; h++)
        ;
    return *h ? h : NULL;
}

/* Which credential the header presents, by its form alone (*key 0: a
 * well-formed key no route takes, such as a group key), and its token.
 * Another scheme or a malformed key presents none: 401. */
static int presented(http_request *req, const char *h, unsigned *key, const char **token)
{
    apikey_kind kind;
    if ((*token = credentials(h, "License"))) {
        *key = API_KEY_LICENSE;
        return LICD_OK;
    }
    if (!(*token = credentials(h, "Bearer")))
        return api_unauthorized(req);
    if (crypto_apikey_kind(*token, &kind) != 0) {
        return http_fail(req, LICD_ERR_UNAUTHORIZED, "unknown key");
    }
    *key = kind == APIKEY_VENDOR ? API_KEY_VENDOR : kind == APIKEY_CUSTOMER ? API_KEY_CUSTOMER : 0;
    return LICD_OK;
}

/* A licence or activation key this service signed and that has not expired;
 * anything else is 401. */
static int verify_license(http_request *req, const char *jwt, api_license_caller *l)
{
    cJSON *claims = NULL;
    int rc = api_license_verify(jwt, &claims);
    if (rc == LICD_OK) {
        /* Both are strings, vnd a UUID: api_license_verify checked them. */
        const char *lid = json_string_member(claims, "lid");
        const char *vnd = json_string_member(claims, "vnd");
        if (strlen(lid) < sizeof l->license_id) {
            memcpy(l->license_id, lid, strlen(lid) + 1);
            memcpy(l->vendor_id, vnd, strlen(vnd) + 1);
        } else {
            rc = LICD_ERR_TOKEN_INVALID;
        }
    }
    cJSON_Delete(claims);
    if (rc == LICD_OK)
        return LICD_OK;
    return http_fail(req, LICD_ERR_UNAUTHORIZED, "the licence %s",
                     rc == LICD_ERR_TOKEN_EXPIRED ? "has expired"
                                                  : "is not one this service signed");
}

/* A bearer key this node does not hold in its cache costs a database
 * look-up: each source address may make LICD_AUTH_FAILURE_RATE look-ups a
 * second (bursts up to twice that) that find no key. Each look-up takes a
 * token before it runs (429 when there is none) and gives it back unless
 * the key turned out unknown (so a database outage uses none up): the
 * limit holds however many run at once, and only unknown keys use it up.
 * Keys in the cache cost nothing and are never refused. The address is the
 * client's (http_client_address), else the peer's; an IPv6 address counts
 * by its /64, which one host can easily hold whole. */
static void lookup_bucket(const http_request *req, char *key, size_t len)
{
    const licd_config *cfg = api_ctx()->config;
    char text[NETADDR_TEXT_MAX] = "unknown";
    netaddr a;
    if ((http_client_address(req, cfg->trusted_proxies, cfg->ntrusted_proxies, text,
                             sizeof text) != 0 &&
         http_peer_address(req, text, sizeof text) != 0) ||
        netaddr_parse(text, &a) != 0) {
        snprintf(key, len, "unknown");
        return;
    }
    if (a.v6) {
        memset(a.addr + 8, 0, 8);
        netaddr_format(&a, text, sizeof text);
        snprintf(key, len, "%s/64", text);
    } else {
        snprintf(key, len, "%s", text);
    }
}

/* The RateLimit-* headers of a bucket's verdict, and on a refusal its
 * Retry-After: whether it allowed the request. */
static int show_verdict(http_request *req, const ratelimit_verdict *v)
{
    req->ratelimit_set = 1;
    req->ratelimit_limit = v->limit;
    req->ratelimit_remaining = v->remaining;
    req->ratelimit_reset = v->reset;
    if (!v->allowed)
        req->retry_after = (int)v->retry_after;
    return v->allowed;
}

/* A look-up of a key not in the node's cache, charged to its source
 * address's bucket (named in bucket, "" until a token is taken). */
struct lookup {
    http_request *req;
    char bucket[NETADDR_TEXT_MAX + 8];
};

/* The store's gate before the look-up's statement: takes a token from the
 * address's bucket, or answers 429 (with that bucket's RateLimit-*, which
 * only a refusal carries). */
static int charge_lookup(void *p)
{
    struct lookup *l = p;
    char key[sizeof l->bucket];
    ratelimit_verdict v;
    if (!api_ctx()->auth_failures)
        return LICD_OK;
    lookup_bucket(l->req, key, sizeof key);
    ratelimit_take(api_ctx()->auth_failures, key, strlen(key), clock_mono_ns(), &v);
    if (v.allowed) {
        memcpy(l->bucket, key, sizeof key);
        return LICD_OK;
    }
    show_verdict(l->req, &v);
    return http_fail(l->req, LICD_ERR_RATE_LIMITED,
                     "more than %lld look-ups of unknown keys a second from %s; retry in %lld s",
                     v.limit, key, v.retry_after);
}

/* A charged look-up gives its token back unless it found the key unknown
 * (it found it, or the database could not answer). */
static void refund_lookup(const struct lookup *l, int rc)
{
    if (*l->bucket && rc != LICD_ERR_UNAUTHORIZED)
        ratelimit_give_back(api_ctx()->auth_failures, l->bucket, strlen(l->bucket),
                            clock_mono_ns());
}

/* Finds the tenant or licence behind a presented credential of kind key:
 * 0, LICD_ERR_UNAUTHORIZED when unknown, or a database error. */
static int resolve(http_request *req, unsigned key, const char *token, api_caller *c)
{
    struct lookup l = {req, ""};
    const store_gate gate = {charge_lookup, &l};
    int rc;
    if (key == API_KEY_LICENSE)
        return verify_license(req, token, &c->license);
    if (key == API_KEY_CUSTOMER) {
        refund_lookup(&l, rc = store_customer_by_key(token, &c->customer, &gate));
    } else {
        api_vendor_caller *v = &c->vendor;
        refund_lookup(&l, rc = store_vendor_by_key(token, &v->vendor, &gate));
        /* The key's public prefix names the credential in the audit trail. */
        snprintf(v->key_prefix, sizeof v->key_prefix, "%.15s", token);
        v->actor = (store_actor){v->vendor.id, v->key_prefix, req->request_id};
    }
    if (rc == LICD_ERR_UNAUTHORIZED)
        snprintf(req->detail, sizeof req->detail, "unknown key");
    return rc;
}

int api_rate_limit(http_request *req, const char *id)
{
    ratelimit *rl = api_ctx()->limits;
    ratelimit_verdict v;
    if (!rl)
        return LICD_OK;
    ratelimit_take(rl, id, strlen(id), clock_mono_ns(), &v);
    if (show_verdict(req, &v))
        return LICD_OK;
    return http_fail(req, LICD_ERR_RATE_LIMITED,
                     "more than %lld requests a second with this key; retry in %lld s", v.limit,
                     v.retry_after);
}

/* The rate-limit bucket of a resolved caller: a bearer key's own (by its
 * public prefix: each of a tenant's keys during a rotation has one), or the
 * licence's. */
static int limit_caller(http_request *req, unsigned key, const char *token, const api_caller *c)
{
    char id[96];
    if (key == API_KEY_LICENSE)
        snprintf(id, sizeof id, "l:%s", c->license.license_id);
    else
        snprintf(id, sizeof id, "%c:%.15s", key == API_KEY_VENDOR ? 'v' : 'c', token);
    return api_rate_limit(req, id);
}

/* Route -> credential -> caller -> its rate limit. A route without a declaration is served to
 * nobody; a credential of a kind the route does not take is 403 whether or
 * not it is genuine; a missing, malformed or unknown one is 401. */
int api_authorize(http_request *req)
{
    const http_auth *a = req->route->auth;
    const char *h, *token;
    api_caller *c;
    unsigned key = 0;
    int rc;

    if (!a)
        return LICD_ERR_INTERNAL;
    if (!a->keys)
        return LICD_OK;
    if (!(h = http_header(req, "Authorization")))
        return a->anonymous ? LICD_OK : api_unauthorized(req);
    if ((rc = presented(req, h, &key, &token)) != LICD_OK)
        return rc;
    if (!(a->keys & key)) {
        detail_forms(req, "this endpoint takes Authorization: ");
        return LICD_ERR_FORBIDDEN;
    }
    if (!(c = calloc(1, sizeof *c)))
        return LICD_ERR_NOMEM;
    c->key = key;
    if ((rc = resolve(req, key, token, c)) != LICD_OK) {
        free(c);
        return rc;
    }
    req->caller = c;
    return limit_caller(req, key, token, c);
}

const char *api_auth_name(const http_auth *auth) { return auth ? auth->name : "undeclared"; }

/* The caller if it presented a credential of kind key, else NULL. */
static const api_caller *caller_with(const http_request *req, unsigned key)
{
    const api_caller *c = req->caller;
    return c && c->key == key ? c : NULL;
}

const api_vendor_caller *api_caller_vendor(const http_request *req)
{
    const api_caller *c = caller_with(req, API_KEY_VENDOR);
    return c ? &c->vendor : NULL;
}

const store_customer *api_caller_customer(const http_request *req)
{
    const api_caller *c = caller_with(req, API_KEY_CUSTOMER);
    return c ? &c->customer : NULL;
}

const api_license_caller *api_caller_license(const http_request *req)
{
    const api_caller *c = caller_with(req, API_KEY_LICENSE);
    return c ? &c->license : NULL;
}
