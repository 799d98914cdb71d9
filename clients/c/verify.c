/* Offline trust: the JWKS, and session tokens and licences checked against
 * it with the algorithm pinned to ES256 before libjwt sees them. */
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "util/base64.h"

#define TOKEN_ISSUER "licd"
#define P256_COORD 32

/* Indexed by licd_state. */
static const char *const state_names[] = {"invalid", "intermediate", "valid"};

const char *licd_state_name(licd_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names ? state_names[s] : "invalid";
}

void licd_token_clear(licd_token *t)
{
    if (!t)
        return;
    free(t->jwt);
    free(t->user);
    free(t->machine_id);
    for (size_t i = 0; i < t->nproducts; i++)
        free(t->products[i]);
    free(t->products);
    free(t->features_json);
    free(t->jti);
    memset(t, 0, sizeof *t);
}

int licd_token_has_feature(const licd_token *t, const char *product, const char *feature)
{
    cJSON *feat;
    const cJSON *el;
    int found = 0;

    if (!t || !t->features_json || !product || !feature || !(feat = cJSON_Parse(t->features_json)))
        return 0;
    cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(feat, product))
        if (cJSON_IsString(el) && strcmp(el->valuestring, feature) == 0)
            found = 1;
    cJSON_Delete(feat);
    return found;
}

/* A JSON object and nothing else: no NUL inside, nothing after it. */
static cJSON *parse_object(const unsigned char *buf, size_t len)
{
    const char *end = NULL;
    cJSON *json;

    if (memchr(buf, '\0', len))
        return NULL;
    json = cJSON_ParseWithLengthOpts((const char *)buf, len, &end, 0);
    if (!cJSON_IsObject(json) || !end || end != (const char *)buf + len) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

static const char *str_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A usable JWK of licd: an EC P-256 key whose alg and use, when given, say
 * ES256 and sig. */
static int jwk_usable(const cJSON *k)
{
    const char *alg = str_member(k, "alg"), *use = str_member(k, "use");
    return str_member(k, "kid") && str_member(k, "x") && str_member(k, "y") &&
           str_member(k, "kty") && strcmp(str_member(k, "kty"), "EC") == 0 &&
           str_member(k, "crv") && strcmp(str_member(k, "crv"), "P-256") == 0 &&
           (!alg || strcmp(alg, "ES256") == 0) && (!use || strcmp(use, "sig") == 0);
}

int licd_client_set_jwks(licd_client *c, const char *jwks_json)
{
    cJSON *doc;
    char *text;

    if (!c || !jwks_json)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    doc = cJSON_Parse(jwks_json);
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "keys"))) {
        cJSON_Delete(doc);
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "not a JWKS document (no \"keys\" array)");
    }
    if (!(text = strdup(jwks_json))) {
        cJSON_Delete(doc);
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    }
    cJSON_Delete(c->jwks);
    free(c->jwks_text);
    c->jwks = doc;
    c->jwks_text = text;
    c->jwks_fetched = 0;
    return LICD_CLIENT_OK;
}

int licd_client_fetch_jwks(licd_client *c, char **json_out)
{
    char *text = NULL;
    int rc;

    if (json_out)
        *json_out = NULL;
    if (!c)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if ((rc = client_request(c, "GET", "/.well-known/jwks.json", NULL, 0, NULL, &text)) != LICD_CLIENT_OK)
        return rc;
    if ((rc = licd_client_set_jwks(c, text)) == LICD_CLIENT_OK) {
        c->jwks_fetched = 1;
        if (json_out && !(*json_out = strdup(text)))
            rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    }
    free(text);
    return rc;
}

/* The JWK named kid in the installed JWKS, or NULL. */
static const cJSON *find_key(const licd_client *c, const char *kid)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(c->jwks, "keys"))
        if (jwk_usable(k) && strcmp(str_member(k, "kid"), kid) == 0)
            return k;
    return NULL;
}

/* libjwt wants a PEM key: the public point (0x04 || x || y) rebuilt from the
 * JWK's coordinates, written as SubjectPublicKeyInfo. NULL when the point
 * is not on P-256 or memory runs out. */
static char *jwk_pem(const cJSON *jwk)
{
    const char *xs = str_member(jwk, "x"), *ys = str_member(jwk, "y");
    unsigned char *x = NULL, *y = NULL, point[1 + 2 * P256_COORD];
    size_t xl = 0, yl = 0;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    char *data, *pem = NULL;
    long len;

    x = b64url_decode(xs, strlen(xs), &xl);
    y = b64url_decode(ys, strlen(ys), &yl);
    if (!x || !y || xl != P256_COORD || yl != P256_COORD)
        goto out;
    point[0] = 0x04;
    memcpy(point + 1, x, P256_COORD);
    memcpy(point + 1 + P256_COORD, y, P256_COORD);
    if (!(bld = OSSL_PARAM_BLD_new()) ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
        !(bio = BIO_new(BIO_s_mem())) || PEM_write_bio_PUBKEY(bio, pkey) != 1)
        goto out;
    len = BIO_get_mem_data(bio, &data);
    if (len <= 0 || !(pem = malloc((size_t)len + 1)))
        goto out;
    memcpy(pem, data, (size_t)len); /* BIO memory is not NUL-terminated */
    pem[len] = '\0';
out:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    ERR_clear_error();
    return pem;
}

/* The kid of a header that pins ES256: exactly one "alg", equal to "ES256",
 * exactly one string "kid", no "crit" (no extension is understood here).
 * Names are compared case-sensitively and duplicates are refused, so no
 * other JSON parser can read this header differently. */
static const char *pinned_kid(const cJSON *header)
{
    const cJSON *item, *alg = NULL, *kid = NULL;
    int nalg = 0, nkid = 0;

    cJSON_ArrayForEach(item, header) {
        if (!item->string || strcmp(item->string, "crit") == 0)
            return NULL;
        if (strcmp(item->string, "alg") == 0) {
            alg = item;
            nalg++;
        } else if (strcmp(item->string, "kid") == 0) {
            kid = item;
            nkid++;
        }
    }
    if (nalg != 1 || nkid != 1 || !cJSON_IsString(alg) || strcmp(alg->valuestring, "ES256") != 0 ||
        !cJSON_IsString(kid))
        return NULL;
    return kid->valuestring;
}

int client_begin(licd_client *c, const licd_token_scope *scope)
{
    client_clear_error(c);
    if (!scope || !scope->user || !*scope->user || !scope->machine_id || !*scope->machine_id)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a user and a machine id are required");
    if (!scope->products || scope->nproducts < 1 || scope->nproducts > CLIENT_MAX_PRODUCTS)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "between 1 and %d products are required",
                           CLIENT_MAX_PRODUCTS);
    for (size_t i = 0; i < scope->nproducts; i++) {
        if (!scope->products[i] || !*scope->products[i])
            return client_fail(c, LICD_CLIENT_ERR_ARGS, "an empty product name");
        for (size_t j = 0; j < i; j++)
            if (strcmp(scope->products[i], scope->products[j]) == 0)
                return client_fail(c, LICD_CLIENT_ERR_ARGS, "product %s named twice",
                                   scope->products[i]);
    }
    return LICD_CLIENT_OK;
}

/* aud equals the scope's products as a set (both are free of duplicates). */
static int same_products(const cJSON *aud, const licd_token_scope *scope)
{
    const cJSON *el;
    size_t n = 0;

    if (!cJSON_IsArray(aud) || (size_t)cJSON_GetArraySize(aud) != scope->nproducts)
        return 0;
    cJSON_ArrayForEach(el, aud) {
        size_t i;
        if (!cJSON_IsString(el))
            return 0;
        for (i = 0; i < scope->nproducts && strcmp(scope->products[i], el->valuestring) != 0; i++)
            ;
        if (i == scope->nproducts)
            return 0;
        for (const cJSON *prev = aud->child; prev != el; prev = prev->next)
            if (strcmp(prev->valuestring, el->valuestring) == 0)
                return 0;
        n++;
    }
    return n == scope->nproducts;
}

static int state_of(const char *lst, licd_state *out)
{
    for (size_t i = 0; lst && i < sizeof state_names / sizeof *state_names; i++)
        if (strcmp(lst, state_names[i]) == 0) {
            *out = (licd_state)i;
            return 1;
        }
    return 0;
}

/* NumericDate claims as whole seconds within what int64_t holds. */
static int seconds_of(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.2e18 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return 0;
    *out = (int64_t)v->valuedouble;
    return 1;
}

/* Copies verified claims into t: LICD_CLIENT_ERR_INVALID_TOKEN when lst,
 * feat or exp is missing or ill-typed (aud, sub and mid were checked). */
static int fill_token(licd_client *c, const char *jwt, const cJSON *claims, licd_token *t)
{
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *el;
    const cJSON *feat = cJSON_GetObjectItemCaseSensitive(claims, "feat");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");
    const char *jti = str_member(claims, "jti");
    size_t i = 0;

    if (!state_of(str_member(claims, "lst"), &t->state) || !cJSON_IsObject(feat) ||
        !seconds_of(cJSON_GetObjectItemCaseSensitive(claims, "exp"), &t->expires_at) ||
        (iat && !seconds_of(iat, &t->issued_at)))
        return client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN, "the token lacks lst, feat or exp");
    if (!(t->jwt = strdup(jwt)) || !(t->user = strdup(str_member(claims, "sub"))) ||
        !(t->machine_id = strdup(str_member(claims, "mid"))) ||
        !(t->features_json = cJSON_PrintUnformatted(feat)) || (jti && !(t->jti = strdup(jti))) ||
        !(t->products = calloc((size_t)cJSON_GetArraySize(aud) + 1, sizeof *t->products)))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(el, aud) {
        if (!(t->products[i] = strdup(el->valuestring)))
            return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        t->nproducts = ++i;
    }
    return LICD_CLIENT_OK;
}

/* The signature, by libjwt with the PEM of the JWK the pinned kid names;
 * *claims gets libjwt's reading of the payload. */
static int check_signature(licd_client *c, const char *jwt, const cJSON *jwk, cJSON **claims)
{
    jwt_t *decoded = NULL;
    char *pem = jwk_pem(jwk), *grants = NULL;
    int rc = LICD_CLIENT_ERR_INVALID_TOKEN;

    *claims = NULL;
    if (!pem) {
        rc = client_fail(c, rc, "JWKS key %s is not a P-256 point", str_member(jwk, "kid"));
        goto out;
    }
    if (jwt_decode(&decoded, jwt, (const unsigned char *)pem, (int)strlen(pem)) != 0 ||
        jwt_get_alg(decoded) != JWT_ALG_ES256) {
        rc = client_fail(c, rc, "the token's signature is not good");
        goto out;
    }
    if (!(grants = jwt_get_grants_json(decoded, NULL)) ||
        !(*claims = parse_object((const unsigned char *)grants, strlen(grants)))) {
        rc = client_fail(c, rc, "the token's claims are not a JSON object");
        goto out;
    }
    rc = LICD_CLIENT_OK;
out:
    free(grants);
    jwt_free(decoded);
    free(pem);
    return rc;
}

/* Order: shape, header (alg pinned, kid known), then the signature; the
 * claims are the caller's to judge. */
int client_verify_jws(licd_client *c, const char *jwt, cJSON **claims)
{
    const char *dot, *kid;
    unsigned char *hbuf = NULL;
    size_t hlen = 0, len;
    cJSON *header = NULL;
    const cJSON *jwk;
    int rc = LICD_CLIENT_ERR_INVALID_TOKEN;

    *claims = NULL;
    len = strnlen(jwt, CLIENT_MAX_JWT + 1);
    if (len > CLIENT_MAX_JWT || !(dot = memchr(jwt, '.', len)) ||
        !(hbuf = b64url_decode(jwt, (size_t)(dot - jwt), &hlen)) || !(header = parse_object(hbuf, hlen))) {
        rc = client_fail(c, rc, "not a JWS compact token");
        goto out;
    }
    if (!(kid = pinned_kid(header))) {
        rc = client_fail(c, rc, "the token's header does not pin alg ES256 and one kid");
        goto out;
    }
    if (!(jwk = find_key(c, kid))) {
        rc = client_fail(c, LICD_CLIENT_ERR_UNKNOWN_KEY, "key %s is not in the JWKS", kid);
        goto out;
    }
    rc = check_signature(c, jwt, jwk, claims);
out:
    cJSON_Delete(header);
    free(hbuf);
    return rc;
}

int licd_client_verify_token(licd_client *c, const char *jwt, const licd_token_scope *scope,
                             time_t now, licd_token *out)
{
    const char *iss, *sub, *mid;
    cJSON *claims = NULL;
    licd_token t = {0};
    int rc;

    if (!c || !jwt || !out)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = client_begin(c, scope)) != LICD_CLIENT_OK)
        return rc;
    if ((rc = client_verify_jws(c, jwt, &claims)) != LICD_CLIENT_OK)
        goto out;
    rc = LICD_CLIENT_ERR_INVALID_TOKEN;
    iss = str_member(claims, "iss");
    sub = str_member(claims, "sub");
    mid = str_member(claims, "mid");
    if (!iss || strcmp(iss, TOKEN_ISSUER) != 0 || !sub || !mid) {
        rc = client_fail(c, rc, "not a session token of licd");
        goto out;
    }
    if (strcmp(sub, scope->user) != 0 || strcmp(mid, scope->machine_id) != 0 ||
        !same_products(cJSON_GetObjectItemCaseSensitive(claims, "aud"), scope)) {
        rc = client_fail(c, rc, "the token is for another user, machine or set of products");
        goto out;
    }
    if ((rc = fill_token(c, jwt, claims, &t)) != LICD_CLIENT_OK)
        goto out;
    if (t.expires_at <= (int64_t)now)
        rc = client_fail(c, LICD_CLIENT_ERR_EXPIRED, "the token expired");
    else
        rc = LICD_CLIENT_OK;
    *out = t;
    memset(&t, 0, sizeof t);
out:
    licd_token_clear(&t);
    cJSON_Delete(claims);
    return rc;
}

/* ---- Licences (pack licences and activation keys) ---- */

void licd_license_clear(licd_license *l)
{
    if (!l)
        return;
    free(l->jwt);
    free(l->license_id);
    free(l->client_id);
    free(l->product);
    free(l->version);
    free(l->platform);
    free(l->pack_id);
    free(l->node_id);
    free(l->features_json);
    memset(l, 0, sizeof *l);
}

/* A copy of an optional string claim: 1 when absent, null or copied. */
static int copy_claim(const cJSON *claims, const char *name, char **out)
{
    const char *v = str_member(claims, name);
    return !v || (*out = strdup(v)) != NULL;
}

/* Copies the claims of a licence into l: LICD_CLIENT_ERR_INVALID_TOKEN when
 * lid, cid, pid, tmp or exp is missing or ill-typed. */
static int fill_license(licd_client *c, const char *jwt, const cJSON *claims, licd_license *l)
{
    const cJSON *tmp = cJSON_GetObjectItemCaseSensitive(claims, "tmp");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");
    const cJSON *serial = cJSON_GetObjectItemCaseSensitive(claims, "serial");
    const cJSON *feat = cJSON_GetObjectItemCaseSensitive(claims, "feat");

    if (!str_member(claims, "lid") || !str_member(claims, "cid") || !str_member(claims, "pid") ||
        !cJSON_IsBool(tmp) || !seconds_of(cJSON_GetObjectItemCaseSensitive(claims, "exp"), &l->expires_at) ||
        (iat && !seconds_of(iat, &l->issued_at)) || (feat && !cJSON_IsArray(feat)) ||
        (serial && !cJSON_IsNull(serial) && !seconds_of(serial, &l->serial)))
        return client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN, "the licence lacks lid, cid, pid, tmp or exp");
    l->temporary = cJSON_IsTrue(tmp);
    l->borrowed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(claims, "borrow"));
    if (!(l->jwt = strdup(jwt)) || !copy_claim(claims, "lid", &l->license_id) ||
        !copy_claim(claims, "cid", &l->client_id) || !copy_claim(claims, "pid", &l->product) ||
        !copy_claim(claims, "pver", &l->version) || !copy_claim(claims, "platform", &l->platform) ||
        !copy_claim(claims, "pack", &l->pack_id) || !copy_claim(claims, "node", &l->node_id) ||
        !(l->features_json = feat ? cJSON_PrintUnformatted(feat) : strdup("[]")))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    return LICD_CLIENT_OK;
}

int licd_client_verify_license(licd_client *c, const char *jwt, time_t now, licd_license *out)
{
    const char *iss;
    cJSON *claims = NULL;
    licd_license l = {0};
    int rc;

    if (!c || !jwt || !out)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if ((rc = client_verify_jws(c, jwt, &claims)) != LICD_CLIENT_OK)
        goto out;
    /* Session tokens share the key and the issuer; they carry no lid. */
    if (!(iss = str_member(claims, "iss")) || strcmp(iss, TOKEN_ISSUER) != 0) {
        rc = client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN, "not a licence of licd");
        goto out;
    }
    if ((rc = fill_license(c, jwt, claims, &l)) != LICD_CLIENT_OK)
        goto out;
    rc = l.expires_at <= (int64_t)now ? client_fail(c, LICD_CLIENT_ERR_EXPIRED, "the licence expired")
                                      : LICD_CLIENT_OK;
    *out = l;
    memset(&l, 0, sizeof l);
out:
    licd_license_clear(&l);
    cJSON_Delete(claims);
    return rc;
}
