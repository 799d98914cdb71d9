/* licd import, licd jwks and licd export-usage (see site.h). */
#include "site/site.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "crypto/digest.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "store/db.h"
#include "store/site_server.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/json.h"

/* An allocation or report file is one compact JWS; a JWKS a few KiB. */
#define FILE_MAX (64 * 1024)
#define UUID_TEXT 37

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "licd: " and the message on stderr; returns 1 (the exit status). */
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("licd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* The whole file (NUL-terminated, trailing white space cut), or NULL. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    if (!f)
        return NULL;
    if ((buf = malloc(FILE_MAX + 1)))
        n = fread(buf, 1, FILE_MAX + 1, f);
    fclose(f);
    if (!buf || n > FILE_MAX) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    while (n &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    return buf;
}

/* The vendor's keys, from the file LICD_VENDOR_JWKS names. */
static int vendor_ring(const licd_config *cfg, crypto_keyring **ring)
{
    char err[200], *text = read_text(cfg->vendor_jwks);
    int rc;
    if (!text)
        return fail("cannot read LICD_VENDOR_JWKS %s: %s", cfg->vendor_jwks, strerror(errno));
    rc = crypto_keyring_from_jwks(text, ring, err, sizeof err);
    free(text);
    return rc == LICD_OK ? 0 : fail("LICD_VENDOR_JWKS %s: %s", cfg->vendor_jwks, err);
}

int site_check_config(const licd_config *cfg)
{
    crypto_keyring *ring = NULL;
    int rc;
    if (!cfg->site_id)
        return 0;
    rc = vendor_ring(cfg, &ring);
    crypto_keyring_free(ring);
    return rc;
}

/* The site's configuration: LICD_SITE_ID, LICD_VENDOR_JWKS (when vendor is
 * set) and the database. */
static int site_config(licd_config *cfg, int need_db)
{
    char err[512];
    if (config_from_env(cfg, err, sizeof err) != LICD_OK)
        return fail("bad configuration: %s", err);
    if (!cfg->site_id)
        return fail("LICD_SITE_ID is not set: this is no site server");
    if (need_db && (!cfg->database_url || !*cfg->database_url))
        return fail("LICD_DATABASE_URL is not set");
    if (need_db && store_init(cfg->database_url) != LICD_OK)
        return fail("out of memory");
    return 0;
}

static const char *claim_str(const cJSON *c, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, name));
}

/* A whole number claim in [min, max], or -1. */
static long long claim_int(const cJSON *c, const char *name, long long min, long long max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
        v->valuedouble != (double)(long long)v->valuedouble)
        return -1;
    return (long long)v->valuedouble;
}

/* Checks the claims of an allocation for this site into in. */
static int allocation_claims(const licd_config *cfg, const cJSON *c, store_site_import_in *in,
                             char *expires, size_t len, char **features)
{
    const char *typ = claim_str(c, "typ"), *site = claim_str(c, "site");
    const cJSON *feat = cJSON_GetObjectItemCaseSensitive(c, "feat");
    long long exp = claim_int(c, "exp", 1, 253402300799LL);

    if (!typ || strcmp(typ, "allocation") != 0)
        return fail("not an allocation file (typ %s)", typ ? typ : "missing");
    if (!site || strcmp(site, cfg->site_id) != 0)
        return fail("the allocation is for site %s, this is site %s", site ? site : "(none)",
                    cfg->site_id);
    in->vendor_id = claim_str(c, "vnd");
    in->customer_id = claim_str(c, "cus");
    in->product = claim_str(c, "pid");
    in->product_name = claim_str(c, "pname");
    in->version = claim_str(c, "pver");
    in->pack_id = claim_str(c, "pack");
    in->type = claim_str(c, "ptype");
    in->platform = claim_str(c, "platform");
    in->quantity = claim_int(c, "qty", 0, 100000000);
    in->sequence = claim_int(c, "seq", 1, 1000000000000000LL);
    if (!in->product_name)
        in->product_name = in->product;
    if (!in->type)
        in->type = "concurrent";
    if (!in->platform)
        in->platform = "any";
    if (!in->vendor_id || !json_is_uuid(in->vendor_id) || !in->customer_id ||
        !json_is_uuid(in->customer_id) || !in->product || !in->version || !in->pack_id ||
        in->quantity < 0 || in->sequence < 1 || exp < 0 || (feat && !cJSON_IsArray(feat)))
        return fail("the allocation lacks vnd, cus, pid, pver, pack, qty, seq or exp");
    in->expires = NULL;
    if (exp < 253402300799LL) {
        json_format_time((time_t)exp, expires, len);
        in->expires = expires;
    }
    *features = NULL;
    in->features_json = "[]";
    if (feat && !(in->features_json = *features = cJSON_PrintUnformatted(feat)))
        return fail("out of memory");
    return 0;
}

int site_cmd_import(int argc, char **argv)
{
    licd_config cfg;
    crypto_keyring *ring = NULL;
    cJSON *claims = NULL, *line = NULL;
    store_site_import_in in = {0};
    char *file = NULL, *features = NULL, *text = NULL, key[128], expires[32];
    long long last = 0;
    int created = 0, rc = 1, vr;

    if (argc != 3)
        return fail("usage: licd import FILE");
    if (site_config(&cfg, 0) || vendor_ring(&cfg, &ring))
        goto out;
    if (!(file = read_text(argv[2]))) {
        fail("cannot read %s: %s", argv[2], strerror(errno));
        goto out;
    }
    vr = crypto_jwt_verify(ring, file, time(NULL), &claims);
    if (vr == LICD_ERR_TOKEN_EXPIRED) {
        fail("%s: the allocation has expired", argv[2]);
        goto out;
    }
    if (vr != LICD_OK) {
        fail("%s: not signed by a key of LICD_VENDOR_JWKS (a bad signature, a changed byte, or "
             "another vendor's file)",
             argv[2]);
        goto out;
    }
    if (allocation_claims(&cfg, claims, &in, expires, sizeof expires, &features))
        goto out;
    in.file = file;
    if (!cfg.database_url || !*cfg.database_url || store_init(cfg.database_url) != LICD_OK) {
        fail("LICD_DATABASE_URL is not set");
        goto out;
    }
    vr = store_site_import(&in, key, sizeof key, &created, &last);
    store_shutdown();
    if (vr == LICD_ERR_CONFLICT) {
        char a[24], b[24];
        snprintf(a, sizeof a, "%lld", in.sequence);
        snprintf(b, sizeof b, "%lld", last);
        fail("sequence %s is not above the last one imported for this pack (%s)", a, b);
        goto out;
    }
    if (vr != LICD_OK) {
        fail("cannot install the allocation: %s", licd_err_name(vr));
        goto out;
    }
    if (created) {
        if (!(line = cJSON_CreateObject()) ||
            !cJSON_AddStringToObject(line, "customer_id", in.customer_id) ||
            !cJSON_AddStringToObject(line, "customer_key", key) ||
            !(text = cJSON_PrintUnformatted(line)) || puts(text) < 0 || fflush(stdout) != 0) {
            fail("cannot print the customer's key");
            goto out;
        }
    }
    fprintf(stderr, "licd: imported pack %s: %lld seats, sequence %lld\n", in.pack_id, in.quantity,
            in.sequence);
    rc = 0;
out:
    memset(key, 0, sizeof key);
    cJSON_free(text);
    cJSON_Delete(line);
    cJSON_Delete(claims);
    cJSON_free(features);
    free(file);
    crypto_keyring_free(ring);
    return rc;
}

/* The site's own keys (LICD_SIGNING_KEY, LICD_RETIRED_KEYS). */
static int own_ring(const licd_config *cfg, crypto_keyring **ring)
{
    char err[512];
    if (!cfg->signing_key || !*cfg->signing_key)
        return fail("LICD_SIGNING_KEY is not set");
    if (crypto_keyring_load(cfg->signing_key, cfg->retired_keys, ring, err, sizeof err) != LICD_OK)
        return fail("cannot load the signing keys: %s", err);
    return 0;
}

int site_cmd_jwks(void)
{
    licd_config cfg;
    crypto_keyring *ring = NULL;
    char err[512];
    int rc = 1;
    if (config_from_env(&cfg, err, sizeof err) != LICD_OK)
        return fail("bad configuration: %s", err);
    if (own_ring(&cfg, &ring) == 0 && puts(crypto_keyring_jwks(ring)) >= 0 && fflush(stdout) == 0)
        rc = 0;
    crypto_keyring_free(ring);
    return rc;
}

/* Writes text to a new temporary file beside path (mode 0644); its name
 * into tmp. */
static int write_temp(const char *path, const char *text, char *tmp, size_t len)
{
    size_t n = strlen(text);
    int fd;
    snprintf(tmp, len, "%s.XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0)
        return -1;
    if (fchmod(fd, 0644) != 0 || write(fd, text, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
        fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    return close(fd);
}

int site_cmd_export_usage(int argc, char **argv)
{
    const char *out = NULL;
    licd_config cfg;
    crypto_keyring *ring = NULL;
    store_usage_period p;
    cJSON *c = NULL;
    char *report = NULL, *hash = NULL, tmp[4096];
    uint8_t digest[CRYPTO_SHA256_LEN];
    int rc = 1, sr;

    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
    if (!out || argc != 4)
        return fail("usage: licd export-usage --out FILE");
    if (strlen(out) > sizeof tmp - 16)
        return fail("%s: path too long", out);
    if (site_config(&cfg, 1))
        return 1;
    if (own_ring(&cfg, &ring))
        goto out;
    if ((sr = store_site_usage_period(&p)) != LICD_OK) {
        fail("cannot read the usage: %s", licd_err_name(sr));
        goto out;
    }
    if (!(c = cJSON_CreateObject()) || !cJSON_AddStringToObject(c, "typ", "usage_report") ||
        !cJSON_AddStringToObject(c, "iss", "licd") ||
        !cJSON_AddStringToObject(c, "site", cfg.site_id) ||
        !cJSON_AddNumberToObject(c, "seq", (double)p.seq) ||
        !cJSON_AddStringToObject(c, "prev", p.prev) ||
        !cJSON_AddNumberToObject(c, "from", (double)p.from) ||
        !cJSON_AddNumberToObject(c, "to", (double)p.to) ||
        !cJSON_AddNumberToObject(c, "peak_in_use", (double)p.peak_in_use) ||
        !cJSON_AddNumberToObject(c, "denials", (double)p.denials) ||
        !cJSON_AddNumberToObject(c, "grants", (double)p.grants) ||
        !cJSON_AddNumberToObject(c, "iat", (double)time(NULL)) ||
        crypto_jwt_sign(ring, c, &report) != LICD_OK) {
        fail("cannot sign the report");
        goto out;
    }
    crypto_sha256(report, strlen(report), digest);
    if (!(hash = b64url_encode(digest, sizeof digest))) {
        fail("out of memory");
        goto out;
    }
    /* The file appears only once the report is part of the chain. */
    if (write_temp(out, report, tmp, sizeof tmp) != 0) {
        fail("cannot write %s: %s", out, strerror(errno));
        goto out;
    }
    if ((sr = store_site_usage_saved(&p, report, hash)) != LICD_OK) {
        unlink(tmp);
        fail("cannot record the report: %s", licd_err_name(sr));
        goto out;
    }
    if (rename(tmp, out) != 0) {
        fail("cannot write %s: %s", out, strerror(errno));
        unlink(tmp);
        goto out;
    }
    fprintf(stderr, "licd: wrote usage report %lld of site %s to %s\n", p.seq, cfg.site_id, out);
    rc = 0;
out:
    store_shutdown();
    cJSON_Delete(c);
    free(report);
    free(hash);
    crypto_keyring_free(ring);
    return rc;
}
