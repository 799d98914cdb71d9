/* licd's licence signing speed on one thread: api_license_sign (claims built
 * with cJSON, serialised, base64url, ES256 over EVP on the cached key) on a
 * realistic pack licence, for a number of seconds. Linked against
 * liblicd_core.a, so it runs the very code get_key runs.
 * Usage: sign_bench KEY.pem SECONDS   prints "N signs/s". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/api.h"
#include "api/license.h"
#include "crypto/keys.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    crypto_keyring *ring = NULL;
    char err[256];
    store_license l = {
        .id = 123456, .vendor_id = "0b5c3f2e-8a51-4c0e-9d7a-3f1e2d4c5b6a",
        .customer_id = "7e9d1c2b-3a4f-4e5d-8c6b-1a2b3c4d5e6f", .product_id = 1,
        .license_id = "1023456", .pack_id = "PACK-2024-0001", .serial = 1023456,
        .client_id = "host-42.example.com/4c4c4544-0038-3510-8051-b4c04f4d4e32",
        .version = "1.0", .platform = "any", .status = "active",
        .issued_at = 1700000000, .expires_at = 0,
    };
    char features[] = "[\"export\",\"batch\",\"api\"]";
    store_product p = {.id = 1, .code = "bench", .name = "Bench", .version = "1.0",
                       .scheme = "standard", .features_json = features};
    double seconds, start, elapsed;
    long n = 0;

    if (argc != 3 || (seconds = atof(argv[2])) <= 0) {
        fprintf(stderr, "usage: %s KEY.pem SECONDS\n", argv[0]);
        return 2;
    }
    if (crypto_keyring_load(argv[1], NULL, &ring, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    api_init(NULL, ring);
    start = now();
    do {
        /* Checking the clock every 64 signatures keeps it out of the figure. */
        for (int i = 0; i < 64; i++, n++) {
            char *jwt = NULL;
            if (api_license_sign(&l, &p, &jwt) != 0) {
                fprintf(stderr, "signing failed\n");
                return 1;
            }
            free(jwt);
        }
        elapsed = now() - start;
    } while (elapsed < seconds);
    printf("%.0f signs/s\n", (double)n / elapsed);
    crypto_keyring_free(ring);
    return 0;
}
