/* scrypt derivations per second on one thread, with the parameters given
 * (tests/bench/run reads them from service/crypto/password.c): the cost of
 * one POST /v1/tokens password check. Usage: scrypt_rate N R P MAXMEM SECONDS */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const unsigned char salt[16] = "bench salt 16 b";
    unsigned char out[32];
    unsigned long long p[4];
    double seconds, start;
    long n = 0;

    if (argc != 6 || (seconds = atof(argv[5])) <= 0) {
        fprintf(stderr, "usage: %s N R P MAXMEM SECONDS\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < 4; i++)
        p[i] = strtoull(argv[i + 1], NULL, 10);
    start = now();
    do {
        if (EVP_PBE_scrypt("bench-password", 14, salt, sizeof salt, p[0], p[1], p[2], p[3], out,
                           sizeof out) != 1) {
            fprintf(stderr, "EVP_PBE_scrypt failed\n");
            return 1;
        }
        n++;
    } while (now() - start < seconds);
    printf("%.2f\n", (double)n / (now() - start));
    return 0;
}
