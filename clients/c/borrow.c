/* Borrowed seats: a floating seat taken for a while without heartbeats,
 * its licence and the JWKS kept in the cache so that the client checks it
 * with no connection to licd until the borrow ends or it is returned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

#define BORROW_PREFIX "borrow-"
/* A year and a day: licd's own bound on max_borrow_s. */
#define MAX_BORROW_S 31622400L

/* The licence of the answer, verified (the JWKS fetched again once when it
 * lacks the kid) and for this lease, client and product. */
static int take_borrowed(licd_client *c, const cJSON *answer, const char *product,
                         const char *client_id, licd_license *out)
{
    const cJSON *jwt = cJSON_GetObjectItemCaseSensitive(answer, "license");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(answer, "lease_id");
    licd_license l = {0};
    int rc;

    if (!cJSON_IsString(jwt) || !cJSON_IsString(id))
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL,
                           "licd's borrow answer lacks license or lease_id");
    rc = licd_client_verify_license(c, jwt->valuestring, time(NULL), &l);
    if (rc == LICD_CLIENT_ERR_UNKNOWN_KEY &&
        (rc = licd_client_fetch_jwks(c, NULL)) == LICD_CLIENT_OK)
        rc = licd_client_verify_license(c, jwt->valuestring, time(NULL), &l);
    if (rc == LICD_CLIENT_OK &&
        (!l.borrowed || strcmp(l.license_id, id->valuestring) != 0 ||
         strcmp(l.client_id, client_id) != 0 || strcmp(l.product, product) != 0))
        rc = client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN,
                         "the borrowed licence is for another lease, client or product");
    if (rc != LICD_CLIENT_OK) {
        licd_license_clear(&l);
        return rc;
    }
    *out = l;
    return LICD_CLIENT_OK;
}

int licd_client_lease_borrow(licd_client *c, const char *product, const char *client_id,
                             long borrow_s, licd_lease *lease, licd_license *license)
{
    cJSON *body = NULL, *answer = NULL;
    char *text = NULL;
    licd_license l = {0};
    int rc;

    if (!c || !license)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (!product || !*product || !client_id || !*client_id || borrow_s < 1 ||
        borrow_s > MAX_BORROW_S)
        return client_fail(c, LICD_CLIENT_ERR_ARGS,
                           "a product, a client id and 1 to %ld seconds are required",
                           MAX_BORROW_S);
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "product", product) ||
        !cJSON_AddStringToObject(body, "client_id", client_id) ||
        !cJSON_AddNumberToObject(body, "borrow_s", (double)borrow_s) ||
        !(text = cJSON_PrintUnformatted(body))) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = client_request(c, "POST", "/v1/leases", text, 1, &answer, NULL)) != LICD_CLIENT_OK ||
        (rc = take_borrowed(c, answer, product, client_id, &l)) != LICD_CLIENT_OK)
        goto out;
    if (lease) {
        const cJSON *pack = cJSON_GetObjectItemCaseSensitive(answer, "pack_id");
        memset(lease, 0, sizeof *lease);
        lease->expires_at = l.expires_at;
        lease->heartbeat_interval_s = 0;
        if (!(lease->lease_id = strdup(l.license_id)) ||
            (cJSON_IsString(pack) && !(lease->pack_id = strdup(pack->valuestring)))) {
            licd_lease_clear(lease);
            rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    *license = l;
    memset(&l, 0, sizeof l);
out:
    licd_license_clear(&l);
    cJSON_Delete(answer);
    cJSON_Delete(body);
    cJSON_free(text);
    return rc;
}

static int borrow_name(licd_client *c, const char *product, const char *client_id, char **name)
{
    if (!product || !*product || !client_id || !*client_id)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a product and a client id are required");
    return cache_pair_name(c, BORROW_PREFIX, product, client_id, ".jwt", name);
}

int licd_client_borrow_cached(licd_client *c, const char *product, const char *client_id,
                              long borrow_s, const char *cache_dir, licd_license *out)
{
    licd_license l = {0};
    char *name = NULL;
    int rc;

    if (!c || !cache_dir || !out)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if ((rc = borrow_name(c, product, client_id, &name)) != LICD_CLIENT_OK ||
        (rc = cache_prepare_dir(c, cache_dir)) != LICD_CLIENT_OK ||
        (rc = licd_client_lease_borrow(c, product, client_id, borrow_s, NULL, &l)) !=
            LICD_CLIENT_OK)
        goto out;
    /* The JWKS first: a licence on disk is useless without the key that verifies it. */
    if (!c->jwks_text) {
        rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "no JWKS to keep with the licence");
        goto out;
    }
    if ((rc = cache_write(c, cache_dir, CLIENT_JWKS_FILE, c->jwks_text)) != LICD_CLIENT_OK ||
        (rc = cache_write(c, cache_dir, name, l.jwt)) != LICD_CLIENT_OK)
        goto out;
    *out = l;
    memset(&l, 0, sizeof l);
out:
    licd_license_clear(&l);
    free(name);
    return rc;
}

/* The cached licence of the borrow, checked against the cached JWKS. */
static int load_borrowed(licd_client *c, const char *product, const char *client_id,
                         const char *cache_dir, time_t now, licd_license *out, char **name)
{
    char *jwks = NULL, *jwt = NULL;
    int rc;

    if ((rc = borrow_name(c, product, client_id, name)) != LICD_CLIENT_OK ||
        (rc = cache_read(c, cache_dir, *name, &jwt)) != LICD_CLIENT_OK ||
        (rc = cache_read(c, cache_dir, CLIENT_JWKS_FILE, &jwks)) != LICD_CLIENT_OK)
        goto out;
    if (!jwt || !jwks) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOT_CACHED, "no borrowed licence of %s for %s in %s",
                         product, client_id, cache_dir);
        goto out;
    }
    jwt[strcspn(jwt, "\r\n")] = '\0';
    if ((rc = licd_client_set_jwks(c, jwks)) != LICD_CLIENT_OK)
        goto out;
    rc = licd_client_verify_license(c, jwt, now, out);
    if ((rc == LICD_CLIENT_OK || rc == LICD_CLIENT_ERR_EXPIRED) &&
        (!out->borrowed || strcmp(out->client_id, client_id) != 0 ||
         strcmp(out->product, product) != 0)) {
        licd_license_clear(out);
        rc = client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN,
                         "the cached licence is not a borrow of %s for %s", product, client_id);
    }
out:
    free(jwks);
    free(jwt);
    return rc;
}

int licd_client_borrowed(licd_client *c, const char *product, const char *client_id,
                         const char *cache_dir, time_t now, licd_license *out)
{
    char *name = NULL;
    int rc;

    if (!c || !cache_dir || !out)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    rc = load_borrowed(c, product, client_id, cache_dir, now, out, &name);
    free(name);
    return rc;
}

int licd_client_borrow_return(licd_client *c, const char *product, const char *client_id,
                              const char *cache_dir)
{
    licd_license l = {0};
    char *name = NULL;
    int rc;

    if (!c || !cache_dir)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    rc = load_borrowed(c, product, client_id, cache_dir, time(NULL), &l, &name);
    if (rc == LICD_CLIENT_OK)
        rc = licd_client_lease_release(c, l.license_id);
    else if (rc == LICD_CLIENT_ERR_EXPIRED)
        rc = LICD_CLIENT_OK; /* it has lapsed at licd as well */
    /* A lease licd no longer knows is returned all the same. */
    if (rc == LICD_CLIENT_ERR_HTTP && c->http_status == 404)
        rc = LICD_CLIENT_OK;
    if (rc == LICD_CLIENT_OK)
        rc = cache_remove(c, cache_dir, name);
    licd_license_clear(&l);
    free(name);
    return rc;
}
