/* Site servers, vendor side: allocations of a pack to sites (a signed
 * document the site imports), the sites' public keys, and the chain of
 * usage reports they send back (POST /v1/sites/{site_id}/reports). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/license.h"
#include "crypto/digest.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "store/packs.h"
#include "store/products.h"
#include "store/sites.h"
#include "util/base64.h"
#include "util/json.h"

#define MAX_QUANTITY 100000000
#define MAX_JWKS (64 << 10)

/* The allocation document: claims of API.md (typ, vnd, cus, pid, pver,
 * pack, site, qty, seq, iat, exp) and what a site needs to serve the seats
 * on its own: the pack's type and platform, the product's name and
 * features, the allocation's id (aid). exp is the pack's expiry. */
static int sign_allocation(const char *vendor_id, const store_allocation *a, const store_pack *k,
                           const store_product *p, char **file)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *feat = cJSON_Parse(p->features_json ? p->features_json : "[]");
    time_t expires = 0;
    int rc = LICD_ERR_NOMEM;

    if (*k->expires && json_parse_time(k->expires, &expires) != 0)
        expires = 0;
    if (c && feat && cJSON_AddStringToObject(c, "typ", "allocation") &&
        cJSON_AddStringToObject(c, "iss", "licd") && cJSON_AddStringToObject(c, "vnd", vendor_id) &&
        cJSON_AddStringToObject(c, "cus", k->customer_id) &&
        cJSON_AddStringToObject(c, "pid", k->product) &&
        cJSON_AddStringToObject(c, "pname", p->name) &&
        cJSON_AddStringToObject(c, "pver", k->version) &&
        cJSON_AddStringToObject(c, "pack", k->pack_id) &&
        cJSON_AddStringToObject(c, "ptype", k->type) &&
        cJSON_AddStringToObject(c, "platform", k->platform) &&
        cJSON_AddStringToObject(c, "site", a->site_id) &&
        cJSON_AddStringToObject(c, "aid", a->id) &&
        cJSON_AddNumberToObject(c, "qty", (double)a->quantity) &&
        cJSON_AddNumberToObject(c, "seq", (double)a->sequence) &&
        cJSON_AddNumberToObject(c, "iat", (double)time(NULL)) &&
        cJSON_AddNumberToObject(c, "exp", expires ? (double)expires : (double)LICENSE_NO_EXPIRY)) {
        cJSON_AddItemToObject(c, "feat", feat);
        feat = NULL;
        rc = crypto_jwt_sign(api_ctx()->keys, c, file);
    }
    cJSON_Delete(feat);
    cJSON_Delete(c);
    return rc;
}

int api_allocations_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *pack_id = http_param(req, "pack_id"), *site_id;
    store_allocation a;
    store_pack k = {.attributes_json = NULL};
    store_product p = {.features_json = NULL};
    cJSON *body = NULL, *o = NULL;
    char *file = NULL;
    long long quantity, most;
    int created, rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK ||
        (rc = json_get_token(body, "site_id", 1, CONFIG_SITE_ID_MAX, CONFIG_SITE_ID_CHARS, &site_id,
                             req->detail)) != LICD_OK ||
        (rc = json_get_int(body, "quantity", 1, 0, MAX_QUANTITY, &quantity, req->detail)) !=
            LICD_OK)
        goto out;
    rc = store_allocation_set(&caller->actor, pack_id, site_id, quantity, &a, &created, &most);
    if (rc == LICD_ERR_NOT_FOUND) {
        rc = http_fail(req, rc, "this vendor has no pack %.64s", pack_id);
        goto out;
    }
    if (rc == LICD_ERR_NOT_ENOUGH_FREE_SEATS) {
        rc = http_fail(req, rc, "pack %.64s can give site %s at most %lld seats now", pack_id,
                       site_id, most);
        goto out;
    }
    if (rc != LICD_OK || (rc = store_pack_get(caller->vendor.id, pack_id, &k)) != LICD_OK ||
        (rc = store_product_get(caller->vendor.id, k.product, &p)) != LICD_OK ||
        (rc = sign_allocation(caller->vendor.id, &a, &k, &p, &file)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((o = cJSON_CreateObject()) && cJSON_AddStringToObject(o, "allocation_id", a.id) &&
        cJSON_AddStringToObject(o, "site_id", a.site_id) &&
        cJSON_AddStringToObject(o, "pack_id", a.pack_id) &&
        cJSON_AddNumberToObject(o, "quantity", (double)a.quantity) &&
        cJSON_AddNumberToObject(o, "sequence", (double)a.sequence) &&
        cJSON_AddStringToObject(o, "file", file))
        rc = http_reply_json(req, created ? 201 : 200, o);
out:
    cJSON_Delete(o);
    free(file);
    store_product_clear(&p);
    store_pack_clear(&k);
    cJSON_Delete(body);
    return rc;
}

/* The site id of the path, checked as a POST body's would be. */
static int path_site(http_request *req, const char **site_id)
{
    *site_id = http_param(req, "site_id");
    if (!config_site_id_valid(*site_id))
        return http_fail(req, LICD_ERR_NOT_FOUND, "no site %.64s", *site_id);
    return LICD_OK;
}

/* PUT /v1/sites/{site_id} {"jwks":{...}}: the site's public keys (what
 * `licd jwks` prints on the site); private members are refused. */
int api_sites_put(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *site_id;
    const cJSON *jwks, *k;
    crypto_keyring *ring = NULL;
    cJSON *body = NULL, *o = NULL;
    char *text = NULL, err[160];
    int created, rc;

    if ((rc = http_json_body(req, &body)) != LICD_OK || (rc = path_site(req, &site_id)) != LICD_OK)
        goto out;
    jwks = cJSON_GetObjectItemCaseSensitive(body, "jwks");
    if (!jwks || cJSON_IsNull(jwks)) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD, "jwks is required");
        goto out;
    }
    if (!cJSON_IsObject(jwks) || !(text = cJSON_PrintUnformatted(jwks)) ||
        strlen(text) > MAX_JWKS) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD, "jwks must be a JWKS object (up to 64 KiB)");
        goto out;
    }
    cJSON_ArrayForEach (k, cJSON_GetObjectItemCaseSensitive(jwks, "keys")) {
        if (cJSON_GetObjectItemCaseSensitive(k, "d")) {
            rc = http_fail(req, LICD_ERR_INVALID_FIELD,
                           "jwks holds a private key (d): send the public keys only");
            goto out;
        }
    }
    if (crypto_keyring_from_jwks(text, &ring, err, sizeof err) != LICD_OK) {
        rc = http_fail(req, LICD_ERR_INVALID_FIELD, "jwks: %s", err);
        goto out;
    }
    if ((rc = store_site_put_keys(&caller->actor, site_id, crypto_keyring_jwks(ring), &created)) !=
        LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((o = cJSON_CreateObject()) && cJSON_AddStringToObject(o, "site_id", site_id) &&
        json_add_raw(o, "jwks", crypto_keyring_jwks(ring)))
        rc = http_reply_json(req, created ? 201 : 200, o);
out:
    crypto_keyring_free(ring);
    cJSON_free(text);
    cJSON_Delete(o);
    cJSON_Delete(body);
    return rc;
}

int api_sites_get(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *site_id;
    store_site s = {.jwks_json = NULL};
    store_page page = {0};
    cJSON *o = NULL, *arr;
    int rc;

    if ((rc = path_site(req, &site_id)) != LICD_OK)
        return rc;
    if ((rc = store_site_get(caller->vendor.id, site_id, &s)) != LICD_OK) {
        if (rc == LICD_ERR_NOT_FOUND)
            rc = http_fail(req, rc, "this vendor has no site %s", site_id);
        goto out;
    }
    if ((rc = store_site_allocations(caller->vendor.id, site_id, &page)) != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if (!(o = cJSON_CreateObject()) || !cJSON_AddStringToObject(o, "site_id", s.site_id) ||
        !cJSON_AddBoolToObject(o, "keys_registered", s.jwks_json && *s.jwks_json) ||
        !(arr = cJSON_AddArrayToObject(o, "allocations")) ||
        !(s.last_report_json && *s.last_report_json
              ? json_add_raw(o, "last_report", s.last_report_json) != NULL
              : cJSON_AddNullToObject(o, "last_report") != NULL))
        goto out;
    for (size_t i = 0; i < page.n; i++) {
        const store_allocation *a = (const store_allocation *)page.items + i;
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(arr, e) ||
            !cJSON_AddStringToObject(e, "allocation_id", a->id) ||
            !cJSON_AddStringToObject(e, "pack_id", a->pack_id) ||
            !cJSON_AddNumberToObject(e, "quantity", (double)a->quantity) ||
            !cJSON_AddNumberToObject(e, "sequence", (double)a->sequence))
            goto out;
    }
    rc = http_reply_json(req, 200, o);
out:
    cJSON_Delete(o);
    store_page_free(&page);
    store_site_clear(&s);
    return rc;
}

/* 1 if the request's Content-Type is type (parameters after ';' allowed). */
static int content_type_is(http_request *req, const char *type)
{
    const char *h = http_header(req, "Content-Type");
    size_t n = strlen(type);
    return h && strncasecmp(h, type, n) == 0 && (h[n] == '\0' || h[n] == ';' || h[n] == ' ');
}

/* A whole number claim, or -1. */
static long long claim_count(const cJSON *claims, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
        v->valuedouble != (double)(long long)v->valuedouble)
        return -1;
    return (long long)v->valuedouble;
}

/* The report's figures as GET /v1/sites answers them (malloc'd text). */
static char *figures_of(const cJSON *claims)
{
    static const char *const names[] = {"seq", "from", "to", "peak_in_use", "denials", "grants"};
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    int ok = o != NULL;
    for (size_t i = 0; ok && i < sizeof names / sizeof names[0]; i++)
        ok = cJSON_AddItemToObject(
            o, names[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(claims, names[i]), 1));
    if (ok)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* POST /v1/sites/{site_id}/reports, body a compact JWS (application/jose):
 * signed by a key the site registered, for this site, and the next link of
 * its chain (seq one more than the last, prev the last one's hash). */
int api_sites_reports_create(http_request *req)
{
    const api_vendor_caller *caller = api_caller_vendor(req);
    const char *site_id, *typ, *site, *prev;
    store_site s = {.jwks_json = NULL};
    crypto_keyring *ring = NULL;
    cJSON *claims = NULL, *o = NULL;
    char *report = NULL, *claims_text = NULL, *figures = NULL, *hash = NULL, err[160];
    unsigned char digest[CRYPTO_SHA256_LEN];
    long long seq;
    size_t len;
    int rc;

    if ((rc = path_site(req, &site_id)) != LICD_OK)
        return rc;
    if (!content_type_is(req, "application/jose"))
        return http_fail(req, LICD_ERR_UNSUPPORTED_MEDIA_TYPE,
                         "Content-Type must be application/jose (the report file as it is)");
    len = req->body_len;
    while (len &&
           (req->body[len - 1] == '\n' || req->body[len - 1] == '\r' || req->body[len - 1] == ' '))
        len--;
    if (!len || len > CRYPTO_JWT_MAX_LEN)
        return http_fail(req, LICD_ERR_INVALID_REPORT, "the body is not a report");
    if (!(report = strndup(req->body, len)))
        return LICD_ERR_NOMEM;
    if ((rc = store_site_get(caller->vendor.id, site_id, &s)) != LICD_OK) {
        if (rc == LICD_ERR_NOT_FOUND)
            rc = http_fail(req, LICD_ERR_INVALID_REPORT, "this vendor has no site %s", site_id);
        goto out;
    }
    if (!s.jwks_json || !*s.jwks_json) {
        rc = http_fail(req, LICD_ERR_INVALID_REPORT,
                       "site %s has no keys registered (PUT /v1/sites/%s)", site_id, site_id);
        goto out;
    }
    if (crypto_keyring_from_jwks(s.jwks_json, &ring, err, sizeof err) != LICD_OK) {
        rc = http_fail(req, LICD_ERR_INTERNAL, "site keys: %s", err);
        goto out;
    }
    if (crypto_jwt_verify(ring, report, time(NULL), &claims) != LICD_OK) {
        rc = http_fail(req, LICD_ERR_INVALID_REPORT,
                       "the report is not signed by a key of site %s (or was changed)", site_id);
        goto out;
    }
    typ = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "typ"));
    site = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "site"));
    prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "prev"));
    seq = claim_count(claims, "seq");
    if (!typ || strcmp(typ, "usage_report") != 0 || !site || strcmp(site, site_id) != 0 || !prev ||
        seq < 1 || claim_count(claims, "from") < 0 || claim_count(claims, "to") < 0 ||
        claim_count(claims, "peak_in_use") < 0 || claim_count(claims, "denials") < 0 ||
        claim_count(claims, "grants") < 0) {
        rc = http_fail(req, LICD_ERR_INVALID_REPORT,
                       "not a usage report of site %s (typ, site, seq, prev, from, to, "
                       "peak_in_use, denials, grants)",
                       site_id);
        goto out;
    }
    if (seq <= s.last_seq) {
        rc = http_fail(req, LICD_ERR_REPORT_OUT_OF_ORDER,
                       "report %lld of site %s was imported already (the last is %lld)", seq,
                       site_id, s.last_seq);
        goto out;
    }
    if (seq > s.last_seq + 1) {
        rc = http_fail(req, LICD_ERR_REPORT_OUT_OF_ORDER,
                       "report %lld of site %s leaves a gap: import %lld first", seq, site_id,
                       s.last_seq + 1);
        goto out;
    }
    if (strcmp(prev, s.last_hash) != 0) {
        rc = http_fail(req, LICD_ERR_REPORT_OUT_OF_ORDER,
                       "report %lld of site %s does not follow report %lld (prev differs)", seq,
                       site_id, s.last_seq);
        goto out;
    }
    crypto_sha256(report, len, digest);
    rc = LICD_ERR_NOMEM;
    if (!(hash = b64url_encode(digest, sizeof digest)) ||
        !(claims_text = cJSON_PrintUnformatted(claims)) || !(figures = figures_of(claims)))
        goto out;
    rc = store_site_report_add(caller->vendor.id, site_id, seq, prev, hash, report, claims_text,
                               figures);
    if (rc == LICD_ERR_REPORT_OUT_OF_ORDER) {
        rc = http_fail(req, rc, "another import of site %s's report %lld came first", site_id, seq);
        goto out;
    }
    if (rc != LICD_OK)
        goto out;
    rc = LICD_ERR_NOMEM;
    if ((o = cJSON_CreateObject()) && cJSON_AddStringToObject(o, "site_id", site_id) &&
        cJSON_AddNumberToObject(o, "seq", (double)seq) && json_add_raw(o, "report", figures))
        rc = http_reply_json(req, 202, o);
out:
    cJSON_Delete(o);
    cJSON_Delete(claims);
    crypto_keyring_free(ring);
    store_site_clear(&s);
    free(report);
    cJSON_free(claims_text);
    free(figures);
    free(hash);
    return rc;
}
