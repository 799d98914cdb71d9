/* Session tokens: issue and renewal over HTTP, and the cache-first flow
 * (cached, else renewed, else issued for the password) licctl runs. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

#define JWKS_FILE "jwks.json"
#define MAX_PASSWORD 1024

/* Indexed by licd_token_source. */
static const char *const source_names[] = {"cache", "renewed", "issued"};

const char *licd_token_source_name(licd_token_source s)
{
    return (unsigned)s < sizeof source_names / sizeof *source_names ? source_names[s] : "unknown";
}

/* Offline check, with the JWKS fetched again once when it lacks the
 * token's kid (the signing key was rotated since it was cached). */
static int verify_refetching(licd_client *c, const char *jwt, const licd_token_scope *scope,
                             licd_token *out)
{
    int rc = licd_client_verify_token(c, jwt, scope, time(NULL), out);
    if (rc != LICD_CLIENT_ERR_UNKNOWN_KEY)
        return rc;
    if ((rc = licd_client_fetch_jwks(c, NULL)) != LICD_CLIENT_OK)
        return rc;
    return licd_client_verify_token(c, jwt, scope, time(NULL), out);
}

/* The token in a 201 answer, verified before anything trusts it. One that
 * the local clock already sees expired is still licd's grant of a moment
 * ago (a short LICD_TOKEN_TTL, or clock skew) and is kept. */
static int take_answer(licd_client *c, const cJSON *answer, const licd_token_scope *scope,
                       licd_token *out)
{
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(answer, "token");
    licd_token t = {0};
    char why[sizeof c->error];
    int rc;

    if (!cJSON_IsString(token))
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd's answer holds no token");
    rc = verify_refetching(c, token->valuestring, scope, &t);
    if (rc == LICD_CLIENT_ERR_EXPIRED)
        rc = LICD_CLIENT_OK;
    if (rc != LICD_CLIENT_OK) {
        licd_token_clear(&t);
        if (rc == LICD_CLIENT_ERR_NOMEM || rc == LICD_CLIENT_ERR_NETWORK)
            return rc;
        memcpy(why, c->error, sizeof why);
        return client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN,
                           "licd answered a token that does not verify: %.400s", why);
    }
    *out = t;
    return LICD_CLIENT_OK;
}

/* Sends body (wiped afterwards: it may hold a password) and takes the token. */
static int post_for_token(licd_client *c, const char *path, cJSON *body, int bearer,
                          const licd_token_scope *scope, licd_token *out)
{
    cJSON *answer = NULL;
    char *text = cJSON_PrintUnformatted(body);
    int rc;

    if (!text)
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    rc = client_request(c, "POST", path, text, bearer, &answer, NULL);
    OPENSSL_cleanse(text, strlen(text));
    cJSON_free(text);
    if (rc == LICD_CLIENT_OK)
        rc = take_answer(c, answer, scope, out);
    cJSON_Delete(answer);
    return rc;
}

int licd_client_token_issue(licd_client *c, const licd_token_scope *scope, const char *password,
                            licd_token *out)
{
    cJSON *body = NULL, *products = NULL, *pw = NULL;
    int rc = LICD_CLIENT_ERR_NOMEM;

    if (!c || !out || !password)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = client_begin(c, scope)) != LICD_CLIENT_OK)
        return rc;
    rc = LICD_CLIENT_ERR_NOMEM;
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "username", scope->user) ||
        !(pw = cJSON_AddStringToObject(body, "password", password)) ||
        !cJSON_AddStringToObject(body, "machine_id", scope->machine_id) ||
        !(products = cJSON_AddArrayToObject(body, "products"))) {
        client_fail(c, rc, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < scope->nproducts; i++)
        if (!cJSON_AddItemToArray(products, cJSON_CreateString(scope->products[i]))) {
            client_fail(c, rc, "out of memory");
            goto out;
        }
    rc = post_for_token(c, "/v1/tokens", body, 1, scope, out);
out:
    if (pw)
        OPENSSL_cleanse(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(body);
    return rc;
}

int licd_client_token_renew(licd_client *c, const char *jwt, const licd_token_scope *scope,
                            licd_token *out)
{
    cJSON *body;
    int rc;

    if (!c || !jwt || !out)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = client_begin(c, scope)) != LICD_CLIENT_OK)
        return rc;
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "token", jwt) ||
        !cJSON_AddStringToObject(body, "machine_id", scope->machine_id))
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    else
        rc = post_for_token(c, "/v1/tokens/renew", body, 0, scope, out);
    cJSON_Delete(body);
    return rc;
}

/* The cached JWKS, if any: a missing or unreadable one is the same as none
 * (the first token whose kid it lacks fetches it again). */
static void load_cached_jwks(licd_client *c, const char *dir)
{
    char *text = NULL;
    if (cache_read(c, dir, JWKS_FILE, &text) == LICD_CLIENT_OK && text)
        licd_client_set_jwks(c, text);
    free(text);
    client_clear_error(c);
}

/* Whether text (a cache file, trailing line end cut off here) has the
 * shape of a compact JWS: three base64url parts, at most CLIENT_MAX_JWT. */
static int compact_jws(char *text)
{
    size_t len, dots = 0;

    text[strcspn(text, "\r\n")] = '\0';
    len = strlen(text);
    if (len == 0 || len > CLIENT_MAX_JWT ||
        strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != len)
        return 0;
    for (const char *p = text; (p = strchr(p, '.')); p++)
        dots++;
    return dots == 2 && text[0] != '.';
}

/* Renewal first, then the password when renewal is refused (or there is no
 * token to renew). */
static int token_online(licd_client *c, const licd_token_scope *scope, const char *cached,
                        licd_password_fn password, void *arg, licd_token *out,
                        licd_token_source *source)
{
    char pw[MAX_PASSWORD];
    int rc;

    if (cached) {
        rc = licd_client_token_renew(c, cached, scope, out);
        if (rc == LICD_CLIENT_OK)
            *source = LICD_SOURCE_RENEWED;
        if (rc != LICD_CLIENT_ERR_HTTP || !licd_client_problem_code(c) ||
            strcmp(licd_client_problem_code(c), "renewal_refused") != 0 || !password)
            return rc;
    } else if (!password) {
        return client_fail(c, LICD_CLIENT_ERR_NEED_PASSWORD,
                           "no cached token for %s on this machine: a password is needed",
                           scope->user);
    }
    pw[0] = '\0';
    if (password(arg, pw, sizeof pw) != 0 || !pw[0] || !memchr(pw, '\0', sizeof pw))
        rc = client_fail(c, LICD_CLIENT_ERR_NEED_PASSWORD, "no password given");
    else if ((rc = licd_client_token_issue(c, scope, pw, out)) == LICD_CLIENT_OK)
        *source = LICD_SOURCE_ISSUED;
    OPENSSL_cleanse(pw, sizeof pw);
    return rc;
}

int licd_client_token_obtain(licd_client *c, const licd_token_scope *scope, const char *cache_dir,
                             licd_password_fn password, void *password_arg, licd_token *out,
                             licd_token_source *source)
{
    char *name = NULL, *cached = NULL;
    licd_token t = {0}, fallback = {0};
    licd_token_source src = LICD_SOURCE_CACHE;
    int rc;

    if (!c || !out || !source)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = client_begin(c, scope)) != LICD_CLIENT_OK ||
        (rc = cache_prepare_dir(c, cache_dir)) != LICD_CLIENT_OK ||
        (rc = cache_token_name(c, scope, &name)) != LICD_CLIENT_OK ||
        (rc = cache_read(c, cache_dir, name, &cached)) != LICD_CLIENT_OK)
        goto out;
    load_cached_jwks(c, cache_dir);
    if (cached && !compact_jws(cached)) {
        free(cached); /* damaged: as good as none (licd would answer 400 to its renewal) */
        cached = NULL;
    }
    if (cached) {
        rc = verify_refetching(c, cached, scope, &t);
        if (rc == LICD_CLIENT_OK && t.state != LICD_STATE_INVALID)
            goto keys; /* the cheap case: no request at all (unless the JWKS was stale) */
        if (rc == LICD_CLIENT_OK) {
            /* "No access" is asked again online; it is the answer only if licd cannot be asked. */
            fallback = t;
            memset(&t, 0, sizeof t);
        }
        licd_token_clear(&t);
    }
    rc = token_online(c, scope, cached, password, password_arg, &t, &src);
    if (rc != LICD_CLIENT_OK && fallback.jwt) {
        t = fallback;
        memset(&fallback, 0, sizeof fallback);
        src = LICD_SOURCE_CACHE;
        rc = LICD_CLIENT_OK;
    }
    if (rc != LICD_CLIENT_OK || src == LICD_SOURCE_CACHE)
        goto keys;
    rc = cache_write(c, cache_dir, name, t.jwt);
keys:
    if (rc == LICD_CLIENT_OK && c->jwks_fetched) {
        if ((rc = cache_write(c, cache_dir, JWKS_FILE, c->jwks_text)) == LICD_CLIENT_OK)
            c->jwks_fetched = 0;
    }
    if (rc == LICD_CLIENT_OK) {
        client_clear_error(c); /* a fallback leaves the online step's failure behind */
        *out = t;
        *source = src;
        memset(&t, 0, sizeof t);
    }
out:
    licd_token_clear(&t);
    licd_token_clear(&fallback);
    free(cached);
    free(name);
    return rc;
}
