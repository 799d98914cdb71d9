/* crypto_jwt_verify against a keyring whose P-256 key is made once at
 * start-up. Each input is verified as a whole token, and again after the
 * header of a genuine token (the ring's kid, alg ES256), so that the
 * signature and payload checks are reached as well as the header's. */
#include <stdio.h>
#include <unistd.h>

#include "crypto/jwt.h"
#include "util/error.h"
#include "fuzz.h"

static crypto_keyring *ring;
static char *header; /* "<base64url header>." of a token the ring signed */

/* A genuine token must verify: else the target would fuzz nothing. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/licd-fuzz-jwt.XXXXXX", path[64], err[256], *token = NULL;
    cJSON *claims = cJSON_CreateObject(), *back = NULL;

    (void)argc;
    (void)argv;
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/signing.pem", dir);
    if (crypto_keygen(path) != LICD_OK || crypto_keyring_load(path, NULL, &ring, err, sizeof err) != LICD_OK)
        abort();
    unlink(path);
    rmdir(dir);
    if (!claims || !cJSON_AddStringToObject(claims, "sub", "fuzz") ||
        crypto_jwt_sign(ring, claims, &token) != LICD_OK ||
        crypto_jwt_verify(ring, token, 0, &back) != LICD_OK)
        abort();
    header = strndup(token, (size_t)(strchr(token, '.') + 1 - token));
    if (!header)
        abort();
    cJSON_Delete(back);
    cJSON_Delete(claims);
    free(token);
    return 0;
}

static void verify(const char *token)
{
    cJSON *claims = NULL;
    int rc = crypto_jwt_verify(ring, token, 1700000000, &claims);
    if ((rc == LICD_OK || rc == LICD_ERR_TOKEN_EXPIRED) != (claims != NULL))
        abort();
    cJSON_Delete(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *with_header;
    size_t hlen = strlen(header);

    verify(s);
    if (!(with_header = malloc(hlen + size + 1)))
        abort();
    memcpy(with_header, header, hlen);
    strcpy(with_header + hlen, s);
    verify(with_header);
    free(with_header);
    free(s);
    return 0;
}
