/* The client's token cache as licd_client_token_obtain reads it
 * (clients/c/cache.c, tokens.c): the input up to its first NUL byte is the
 * cached token file, the rest (if any) the cached jwks.json, in a folder
 * made once. The client has no URL: nothing is asked online. */
#include <stdio.h>
#include <unistd.h>

#include "client_internal.h"
#include "fuzz.h"

static char dir[] = "/tmp/licd-fuzz-cache.XXXXXX";
static char token_path[4096], jwks_path[4096];
static const char *const products[] = {"editor"};
static const licd_token_scope scope = {"alice", "0123456789abcdef0123456789abcdef", products, 1};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    licd_client *c = NULL;
    char *name = NULL;

    (void)argc;
    (void)argv;
    if (!mkdtemp(dir) || licd_client_new(NULL, NULL, &c) != LICD_CLIENT_OK ||
        cache_token_name(c, &scope, &name) != LICD_CLIENT_OK)
        abort();
    snprintf(token_path, sizeof token_path, "%s/%s", dir, name);
    snprintf(jwks_path, sizeof jwks_path, "%s/jwks.json", dir);
    free(name);
    licd_client_free(c);
    return 0;
}

static void put(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    licd_client *c = NULL;
    licd_token t = {0};
    licd_token_source src;

    put(token_path, data, tlen);
    if (nul)
        put(jwks_path, nul + 1, size - tlen - 1);
    else
        unlink(jwks_path);
    if (licd_client_new(NULL, NULL, &c) != LICD_CLIENT_OK)
        abort();
    licd_client_token_obtain(c, &scope, dir, NULL, NULL, &t, &src);
    licd_token_clear(&t);
    licd_client_free(c);
    return 0;
}
