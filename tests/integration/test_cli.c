/* The licd command line against the real database: migrations (idempotent,
 * changed files refused) and signing verified through the served JWKS. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

Test(jwks, a_token_signed_by_the_service_verifies_against_its_jwks)
{
    char cmd[1024], *token;
    cJSON *claims;

    snprintf(cmd, sizeof cmd, "echo '{\"iss\":\"licd\",\"sub\":\"it\",\"exp\":%lld}' | '%s' sign",
             (long long)time(NULL) + 600, it_env("LICD_BIN"));
    cr_assert_eq(it_sh(cmd, &token), 0, "licd sign failed");
    token[strcspn(token, "\n")] = '\0';
    claims = it_verify_jwt(token);
    cr_assert_str_eq(cJSON_GetObjectItem(claims, "sub")->valuestring, "it");
    cJSON_Delete(claims);
    free(token);
}
