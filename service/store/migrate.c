/* Applies migrations/ in order under an advisory lock, recording checksums. */
#include "store/migrate.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "store/sql.h"

#define MAX_MIGRATIONS 1000
#define MAX_MIGRATION_BYTES (4 << 20)
/* Any constant unlikely to collide: serialises concurrent `licd migrate` runs. */
#define MIGRATE_LOCK_ID "7472616455"

static const store_sql Q_MIGRATIONS_TABLE = {
    "migrations_table", "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())"};
static const store_sql Q_MIGRATE_LOCK = {
    "migrate_lock", "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_ID ")"};
enum { APPLIED_CHECKSUM, APPLIED_NAME };
static const store_sql Q_MIGRATION_GET = {
    "migration_get", "SELECT checksum, name FROM schema_migrations WHERE version = $1"};
static const store_sql Q_MIGRATION_RECORD = {
    "migration_record",
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"};

struct migration {
    int version;
    char name[256];
};

static int by_version(const void *a, const void *b)
{
    return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

/* NNNN_name.sql with a lower-case, digit or underscore name. */
static int parse_name(const char *file, int *version)
{
    size_t len = strlen(file);
    if (len < 10 || len > 200 || strcmp(file + len - 4, ".sql") != 0 || file[4] != '_')
        return -1;
    for (int i = 0; i < 4; i++)
        if (file[i] < '0' || file[i] > '9')
            return -1;
    for (size_t i = 5; i < len - 4; i++)
        if (!((file[i] >= 'a' && file[i] <= 'z') || (file[i] >= '0' && file[i] <= '9') ||
              file[i] == '_'))
            return -1;
    *version = atoi(file);
    return 0;
}

static int list_dir(const char *dir, struct migration *out, int *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    *n = 0;
    if (!d) {
        snprintf(err, errlen, "cannot open the migrations folder %s", dir);
        return LICD_ERR_IO;
    }
    while ((e = readdir(d))) {
        int version;
        if (e->d_name[0] == '.' || parse_name(e->d_name, &version) != 0)
            continue;
        if (*n == MAX_MIGRATIONS)
            break;
        out[*n].version = version;
        snprintf(out[*n].name, sizeof out[*n].name, "%s", e->d_name);
        (*n)++;
    }
    closedir(d);
    qsort(out, (size_t)*n, sizeof *out, by_version);
    for (int i = 1; i < *n; i++)
        if (out[i].version == out[i - 1].version) {
            snprintf(err, errlen, "two migrations share version %04d: %s and %s", out[i].version,
                     out[i - 1].name, out[i].name);
            return LICD_ERR_CONFIG;
        }
    return LICD_OK;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    if (!f)
        return NULL;
    buf = malloc(MAX_MIGRATION_BYTES + 1);
    if (buf) {
        n = fread(buf, 1, MAX_MIGRATION_BYTES + 1, f);
        if (ferror(f) || n > MAX_MIGRATION_BYTES) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
            *len = n;
        }
    }
    fclose(f);
    return buf;
}

struct apply_ctx {
    const char *dir;
    const struct migration *m;
    char *sql;
    char checksum[2 * CRYPTO_SHA256_LEN + 1];
    int applied;
    char *err;
    size_t errlen;
};

/* In one transaction: lock, compare with the record, apply if new, record. */
static int apply_one(void *p)
{
    struct apply_ctx *c = p;
    char version[16];
    const char *params[3] = {version, c->m->name, c->checksum};
    PGresult *res = NULL;
    int rc;

    c->applied = 0;
    snprintf(version, sizeof version, "%d", c->m->version);
    if ((rc = store_run(&Q_MIGRATE_LOCK, 0, NULL)) != LICD_OK ||
        (rc = store_exec(&Q_MIGRATION_GET, 1, params, 0, &res)) != LICD_OK)
        goto out;
    if (PQntuples(res) == 1) {
        const char *applied = store_col_str(res, 0, APPLIED_CHECKSUM);
        if (strcmp(applied, c->checksum) != 0) {
            snprintf(c->err, c->errlen,
                     "migration %s was applied as %s with checksum %s, but the file now has "
                     "checksum %s: applied migrations must never change; add a new one instead",
                     c->m->name, store_col_str(res, 0, APPLIED_NAME), applied, c->checksum);
            rc = LICD_ERR_CONFIG;
        }
        goto out;
    }
    /* Migration files hold several statements: the simple protocol runs them. */
    if ((rc = store_run_script(c->sql, c->err, c->errlen)) != LICD_OK)
        goto out;
    if ((rc = store_run(&Q_MIGRATION_RECORD, 3, params)) != LICD_OK)
        goto out;
    c->applied = 1;
out:
    PQclear(res);
    return rc;
}

int store_migrate(const char *dir, FILE *log, char *err, size_t errlen)
{
    static struct migration list[MAX_MIGRATIONS];
    int n, rc, applied = 0;

    err[0] = '\0';
    if ((rc = list_dir(dir, list, &n, err, errlen)) != LICD_OK)
        return rc;
    rc = store_run(&Q_MIGRATIONS_TABLE, 0, NULL);
    if (rc != LICD_OK && rc != LICD_ERR_CONFLICT) {
        snprintf(err, errlen, "cannot reach the database or create schema_migrations (%s)",
                 licd_err_name(rc));
        return rc;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct apply_ctx c = {dir, &list[i], NULL, "", 0, err, errlen};
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, list[i].name);
        if (!(c.sql = read_all(path, &len))) {
            snprintf(err, errlen, "cannot read migration %s", path);
            return LICD_ERR_IO;
        }
        crypto_sha256_hex(c.sql, len, c.checksum);
        rc = store_tx(apply_one, &c);
        free(c.sql);
        if (rc != LICD_OK) {
            if (!err[0])
                snprintf(err, errlen, "migration %s failed (%s)", list[i].name, licd_err_name(rc));
            return rc;
        }
        if (c.applied) {
            applied++;
            fprintf(log, "applied %s\n", list[i].name);
        }
    }
    fprintf(log, "%d migration(s) applied, %d already in place\n", applied, n - applied);
    return LICD_OK;
}
