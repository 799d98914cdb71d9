/* The licd command line against the real database: migrations (idempotent,
 * changed files refused) and signing verified through the served JWKS. */
#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/digest.h"
#include "harness.h"

static int count_migrations(void)
{
    char cmd[1024], *out;
    int n;
    snprintf(cmd, sizeof cmd, "psql '%s' -Atc 'SELECT count(*) FROM schema_migrations'",
             it_env("LICD_DATABASE_URL"));
    cr_assert_eq(it_sh(cmd, &out), 0);
    n = atoi(out);
    free(out);
    return n;
}

Test(migrate, running_twice_is_a_no_op)
{
    char cmd[1024], *out;
    int before = count_migrations();
    cr_assert_gt(before, 0);
    snprintf(cmd, sizeof cmd, "'%s' migrate 2>&1", it_env("LICD_BIN"));
    cr_assert_eq(it_sh(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "0 migration(s) applied"), "%s", out);
    free(out);
    cr_assert_eq(count_migrations(), before);
}

Test(migrate, a_changed_migration_is_refused)
{
    char dir[] = "/tmp/licd-migrations-XXXXXX", cmd[2048], *out;
    int before = count_migrations();
    cr_assert(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp '%s'/*.sql '%s'/ && echo '-- edited' >> '%s/0001_vendors.sql'",
             it_env("LICD_TEST_MIGRATIONS"), dir, dir);
    cr_assert_eq(it_sh(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "'%s' migrate --dir '%s' 2>&1", it_env("LICD_BIN"), dir);
    cr_assert_neq(it_sh(cmd, &out), 0, "a changed migration was accepted: %s", out);
    cr_assert(strstr(out, "0001_vendors.sql") && strstr(out, "checksum"), "%s", out);
    free(out);
    cr_assert_eq(count_migrations(), before);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    it_sh(cmd, NULL);
}

/* Public key PEM rebuilt from the JWKS entry's x and y. */
static char *pem_from_jwk(const cJSON *jwk)
{
    size_t xl, yl;
    uint8_t *x = crypto_b64url_decode(cJSON_GetObjectItem(jwk, "x")->valuestring,
                                      strlen(cJSON_GetObjectItem(jwk, "x")->valuestring), &xl);
    uint8_t *y = crypto_b64url_decode(cJSON_GetObjectItem(jwk, "y")->valuestring,
                                      strlen(cJSON_GetObjectItem(jwk, "y")->valuestring), &yl);
    uint8_t point[65];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long len;

    cr_assert(x && y && xl == 32 && yl == 32);
    point[0] = 4;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
    params = OSSL_PARAM_BLD_to_param(bld);
    cr_assert(EVP_PKEY_fromdata_init(ctx) == 1);
    cr_assert(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1);
    cr_assert(PEM_write_bio_PUBKEY(bio, pkey) == 1);
    len = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)len + 1); /* BIO data is not NUL-terminated: no strndup */
    cr_assert(pem);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pem;
}

Test(jwks, a_token_signed_by_the_service_verifies_against_its_jwks)
{
    char cmd[1024], *token;
    it_response r;
    const cJSON *key;
    jwt_t *jwt = NULL;
    char *pem;

    snprintf(cmd, sizeof cmd, "echo '{\"iss\":\"licd\",\"sub\":\"it\",\"exp\":%lld}' | '%s' sign",
             (long long)time(NULL) + 600, it_env("LICD_BIN"));
    cr_assert_eq(it_sh(cmd, &token), 0, "licd sign failed");
    token[strcspn(token, "\n")] = '\0';

    it_request("GET", "/.well-known/jwks.json", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    key = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "keys"), 0);
    cr_assert(key, "%s", r.body);
    cr_assert_str_eq(cJSON_GetObjectItem(key, "alg")->valuestring, "ES256");
    pem = pem_from_jwk(key);

    /* libjwt, not licd's own code, checks the signature. */
    cr_assert_eq(jwt_decode(&jwt, token, (const unsigned char *)pem, (int)strlen(pem)), 0,
                 "libjwt refused the token %s", token);
    cr_assert_eq(jwt_get_alg(jwt), JWT_ALG_ES256);
    cr_assert_str_eq(jwt_get_grant(jwt, "sub"), "it");
    cr_assert_str_eq(jwt_get_header(jwt, "kid"), cJSON_GetObjectItem(key, "kid")->valuestring);

    jwt_free(jwt);
    free(pem);
    free(token);
    it_response_free(&r);
}
