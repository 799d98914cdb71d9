/* Licences over HTTP: get_key for a pack licence (answering a platform
 * challenge from the client image), group activations with the update
 * password kept between runs, and upgrades. Every licence is verified
 * offline against the JWKS before it is handed out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client_internal.h"

#define NONCE_BYTES 16
#define UPW_PREFIX "update-password-"
#define UPW_HASH_BYTES 8
#define MAX_UPDATE_PASSWORD 128
/* The node licd takes when a request names none. */
#define DEFAULT_NODE "default"

static const char *answer_str(const cJSON *answer, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(answer, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Offline check, with the JWKS fetched again once when it lacks the
 * licence's kid (none was installed yet, or the signing key was rotated). */
static int verify_refetching(licd_client *c, const char *jwt, licd_license *out)
{
    int rc = licd_client_verify_license(c, jwt, time(NULL), out);
    if (rc != LICD_CLIENT_ERR_UNKNOWN_KEY)
        return rc;
    if ((rc = licd_client_fetch_jwks(c, NULL)) != LICD_CLIENT_OK)
        return rc;
    return licd_client_verify_license(c, jwt, time(NULL), out);
}

/* The licence in a 2xx answer, verified before anything trusts it: signed
 * by licd, the answer's license_id its lid, and (when given) for client
 * and product. One the local clock already sees expired is licd's grant of
 * a moment ago (clock skew) and is kept. */
static int take_license(licd_client *c, const cJSON *answer, const char *client, const char *product,
                        licd_license *out)
{
    const char *jwt = answer_str(answer, "license"), *lid = answer_str(answer, "license_id");
    licd_license l = {0};
    char why[sizeof c->error];
    int rc;

    if (!jwt || !lid)
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd's answer holds no license and license_id");
    rc = verify_refetching(c, jwt, &l);
    if (rc == LICD_CLIENT_ERR_EXPIRED)
        rc = LICD_CLIENT_OK;
    if (rc == LICD_CLIENT_OK && (strcmp(l.license_id, lid) != 0 || (client && strcmp(l.client_id, client) != 0) ||
                                 (product && strcmp(l.product, product) != 0)))
        rc = client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN, "the licence is for another id, client or product");
    if (rc != LICD_CLIENT_OK) {
        licd_license_clear(&l);
        if (rc == LICD_CLIENT_ERR_NOMEM || rc == LICD_CLIENT_ERR_NETWORK || rc == LICD_CLIENT_ERR_HTTP)
            return rc;
        memcpy(why, c->error, sizeof why);
        return client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN,
                           "licd answered a licence that does not verify: %.400s", why);
    }
    *out = l;
    return LICD_CLIENT_OK;
}

/* Adds name: value to obj when value is not NULL; 0 when memory runs out. */
static int add_optional(cJSON *obj, const char *name, const char *value)
{
    return !value || cJSON_AddStringToObject(obj, name, value) != NULL;
}

/* POSTs body (wiped afterwards: it may hold a key or a password); on a 2xx
 * *answer gets the parsed object. */
static int post(licd_client *c, const char *path, const cJSON *body, int bearer, cJSON **answer)
{
    char *text = cJSON_PrintUnformatted(body);
    int rc;

    *answer = NULL;
    if (!text)
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    rc = client_request(c, "POST", path, text, bearer, answer, NULL);
    OPENSSL_cleanse(text, strlen(text));
    cJSON_free(text);
    return rc;
}

/* ---- Pack licences and the platform challenge ---- */

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The image is hashed as it is read, so a large one never sits in memory. */
static int challenge_response(licd_client *c, const char *nonce_hex, const char *image_path,
                              char response[65])
{
    unsigned char nonce[NONCE_BYTES], digest[EVP_MAX_MD_SIZE], buf[65536];
    EVP_MD_CTX *sha = NULL;
    FILE *f = NULL;
    size_t n;
    int rc = LICD_CLIENT_ERR_NOMEM;

    if (!nonce_hex || !image_path || strlen(nonce_hex) != 2 * NONCE_BYTES)
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "the nonce is not %d hex digits", 2 * NONCE_BYTES);
    for (size_t i = 0; i < NONCE_BYTES; i++) {
        int hi = hex_value(nonce_hex[2 * i]), lo = hex_value(nonce_hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "the nonce is not %d hex digits", 2 * NONCE_BYTES);
        nonce[i] = (unsigned char)(hi << 4 | lo);
    }
    if (!(f = fopen(image_path, "rb"))) {
        rc = client_fail(c, LICD_CLIENT_ERR_IO, "cannot read %s: %s", image_path, strerror(errno));
        goto out;
    }
    if (!(sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(sha, nonce, sizeof nonce))
        goto nomem;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (!EVP_DigestUpdate(sha, buf, n))
            goto nomem;
    if (ferror(f)) {
        rc = client_fail(c, LICD_CLIENT_ERR_IO, "cannot read %s", image_path);
        goto out;
    }
    if (!EVP_DigestUpdate(sha, nonce, sizeof nonce) || !EVP_DigestFinal_ex(sha, digest, NULL))
        goto nomem;
    for (size_t i = 0; i < 32; i++)
        sprintf(response + 2 * i, "%02x", digest[i]);
    rc = LICD_CLIENT_OK;
    goto out;
nomem:
    client_fail(c, rc, "out of memory");
out:
    if (f)
        fclose(f);
    EVP_MD_CTX_free(sha);
    return rc;
}

int licd_client_challenge_response(licd_client *c, const char *nonce_hex, const char *image_path,
                                   char response[65])
{
    if (!c || !nonce_hex || !image_path || !response)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    return challenge_response(c, nonce_hex, image_path, response);
}

/* Adds {"nonce","response"} for the nonce of the challenge_required
 * problem c holds. */
static int add_challenge(licd_client *c, cJSON *body, const char *image_path)
{
    const char *nonce = answer_str(c->problem, "nonce");
    char response[65];
    cJSON *challenge;
    int rc;

    if (!nonce)
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "challenge_required came without a nonce");
    if ((rc = challenge_response(c, nonce, image_path, response)) != LICD_CLIENT_OK)
        return rc;
    if (!(challenge = cJSON_AddObjectToObject(body, "challenge")) ||
        !cJSON_AddStringToObject(challenge, "nonce", nonce) ||
        !cJSON_AddStringToObject(challenge, "response", response))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    return LICD_CLIENT_OK;
}

static int is_problem(const licd_client *c, int rc, const char *code)
{
    return rc == LICD_CLIENT_ERR_HTTP && c->problem_code[0] && strcmp(c->problem_code, code) == 0;
}

int licd_client_get_key(licd_client *c, const licd_key_request *r, licd_license *out)
{
    cJSON *body = NULL, *answer = NULL;
    int rc;

    if (!c || !r || !out)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (!r->product || !*r->product || !r->client_id || !*r->client_id)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a product and a client id are required");
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "product", r->product) ||
        !cJSON_AddStringToObject(body, "client_id", r->client_id) ||
        !add_optional(body, "version", r->version) || !add_optional(body, "platform", r->platform) ||
        !add_optional(body, "software_id", r->software_id)) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = post(c, "/v1/get_key", body, 1, &answer);
    /* Once: a second challenge_required would be a licd that never takes the answer. */
    if (is_problem(c, rc, "challenge_required") && r->image_path) {
        if ((rc = add_challenge(c, body, r->image_path)) != LICD_CLIENT_OK)
            goto out;
        client_clear_error(c);
        rc = post(c, "/v1/get_key", body, 1, &answer);
    }
    if (rc == LICD_CLIENT_OK)
        rc = take_license(c, answer, r->client_id, r->product, out);
out:
    cJSON_Delete(answer);
    cJSON_Delete(body);
    return rc;
}

/* ---- Group activations and the update-password cache ---- */

int licd_client_activate(licd_client *c, const licd_activation_request *r,
                         const char *update_password, licd_license *out, char **new_password)
{
    cJSON *body = NULL, *answer = NULL;
    const char *pw;
    licd_license l = {0};
    int rc;

    if (!c || !r || !out || !new_password)
        return LICD_CLIENT_ERR_ARGS;
    *new_password = NULL;
    client_clear_error(c);
    if (!r->group_key || !*r->group_key || !r->scheme || !*r->scheme || !r->product || !*r->product ||
        !r->app_id || !*r->app_id)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a group key, scheme, product and app id are required");
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "group_key", r->group_key) ||
        !cJSON_AddStringToObject(body, "scheme", r->scheme) ||
        !cJSON_AddStringToObject(body, "product", r->product) ||
        !cJSON_AddStringToObject(body, "app_id", r->app_id) || !add_optional(body, "node_id", r->node_id) ||
        !add_optional(body, "container_id", r->container_id) || !add_optional(body, "ip", r->ip) ||
        !add_optional(body, "domain", r->domain) ||
        !add_optional(body, "update_password", update_password)) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = post(c, "/v1/get_key", body, 0, &answer)) != LICD_CLIENT_OK ||
        (rc = take_license(c, answer, r->app_id, r->product, &l)) != LICD_CLIENT_OK)
        goto out;
    if (!l.node_id || strcmp(l.node_id, r->node_id ? r->node_id : DEFAULT_NODE) != 0) {
        rc = client_fail(c, LICD_CLIENT_ERR_INVALID_TOKEN, "the activation key is for another node");
        goto out;
    }
    if (!(pw = answer_str(answer, "update_password")) || !*pw) {
        rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd's answer holds no update_password");
        goto out;
    }
    if (!(*new_password = strdup(pw))) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        goto out;
    }
    *out = l;
    memset(&l, 0, sizeof l);
out:
    licd_license_clear(&l);
    cJSON_Delete(answer);
    cJSON_Delete(body);
    return rc;
}

/* The first bytes of SHA-256 over the NUL-terminated parts, as hex. */
static int parts_hash(const char *const *parts, size_t n, char out[2 * UPW_HASH_BYTES + 1])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    int ok = sha && EVP_DigestInit_ex(sha, EVP_sha256(), NULL);

    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(sha, parts[i], strlen(parts[i]) + 1);
    ok = ok && EVP_DigestFinal_ex(sha, digest, NULL);
    EVP_MD_CTX_free(sha);
    for (size_t i = 0; ok && i < UPW_HASH_BYTES; i++)
        sprintf(out + 2 * i, "%02x", digest[i]);
    return ok;
}

/* "update-password-<H(key,app)>-" and the whole name for this node. */
struct upw_names {
    char prefix[sizeof UPW_PREFIX + 2 * UPW_HASH_BYTES + 1];
    char name[sizeof UPW_PREFIX + 4 * UPW_HASH_BYTES + 1];
};

static int upw_names(licd_client *c, const licd_activation_request *r, struct upw_names *n)
{
    const char *parts[] = {r->group_key, r->app_id, r->node_id ? r->node_id : DEFAULT_NODE};
    char app[2 * UPW_HASH_BYTES + 1], node[2 * UPW_HASH_BYTES + 1];

    if (!parts_hash(parts, 2, app) || !parts_hash(parts, 3, node))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    snprintf(n->prefix, sizeof n->prefix, UPW_PREFIX "%s-", app);
    snprintf(n->name, sizeof n->name, "%s%s", n->prefix, node);
    return LICD_CLIENT_OK;
}

/* The newest file of the same key and app from another node, into other
 * (empty when there is none). */
static int newest_other(licd_client *c, const char *dir, const struct upw_names *n,
                        char other[sizeof n->name])
{
    struct dirent *e;
    struct stat st;
    time_t newest = 0;
    DIR *d = opendir(dir);
    int fd;

    other[0] = '\0';
    if (!d)
        return client_fail(c, LICD_CLIENT_ERR_IO, "cannot read %s: %s", dir, strerror(errno));
    fd = dirfd(d);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, n->prefix, strlen(n->prefix)) != 0 ||
            strlen(e->d_name) != strlen(n->name) || strcmp(e->d_name, n->name) == 0 ||
            fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!other[0] || st.st_mtime > newest ||
            (st.st_mtime == newest && strcmp(e->d_name, other) < 0)) {
            newest = st.st_mtime;
            memcpy(other, e->d_name, strlen(n->name) + 1); /* its length was checked */
        }
    }
    closedir(d);
    return LICD_CLIENT_OK;
}

/* A cached password, its line end cut off; a damaged one counts as none
 * (licd would refuse it as update_password_unknown). */
static int cached_password(licd_client *c, const char *dir, const char *name, char **out)
{
    int rc = cache_read(c, dir, name, out);
    char *pw = *out;

    if (rc != LICD_CLIENT_OK || !pw)
        return rc;
    pw[strcspn(pw, "\r\n")] = '\0';
    if (!*pw || strlen(pw) > MAX_UPDATE_PASSWORD ||
        strspn(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != strlen(pw)) {
        free(pw);
        *out = NULL;
    }
    return LICD_CLIENT_OK;
}

int licd_client_activate_cached(licd_client *c, const licd_activation_request *r,
                                const char *cache_dir, licd_license *out, int *presented)
{
    struct upw_names n;
    char other[sizeof n.name], *path = NULL, *old = NULL, *fresh = NULL, *line = NULL;
    licd_license l = {0};
    int rc;

    if (!c || !r || !out)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (!r->group_key || !r->app_id)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a group key and an app id are required");
    other[0] = '\0';
    if ((rc = cache_prepare_dir(c, cache_dir)) != LICD_CLIENT_OK || (rc = upw_names(c, r, &n)) != LICD_CLIENT_OK ||
        (rc = cached_password(c, cache_dir, n.name, &old)) != LICD_CLIENT_OK)
        goto out;
    if (!old && ((rc = newest_other(c, cache_dir, &n, other)) != LICD_CLIENT_OK ||
                 (other[0] && (rc = cached_password(c, cache_dir, other, &old)) != LICD_CLIENT_OK)))
        goto out;
    if ((rc = licd_client_activate(c, r, old, &l, &fresh)) != LICD_CLIENT_OK)
        goto out;
    if (presented)
        *presented = old != NULL;
    if (!(line = malloc(strlen(fresh) + 2))) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    } else {
        sprintf(line, "%s\n", fresh);
        rc = cache_write(c, cache_dir, n.name, line);
    }
    /* The other node's password is spent: left there, it would be presented again. */
    if (rc == LICD_CLIENT_OK && old && other[0]) {
        if (!(path = malloc(strlen(cache_dir) + sizeof n.name + 2))) {
            rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        } else {
            sprintf(path, "%s/%s", cache_dir, other);
            if (unlink(path) != 0 && errno != ENOENT)
                rc = client_fail(c, LICD_CLIENT_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
        }
    }
    /* The licence was granted: it is the caller's even when the cache failed. */
    *out = l;
    memset(&l, 0, sizeof l);
out:
    if (old)
        OPENSSL_cleanse(old, strlen(old));
    if (fresh)
        OPENSSL_cleanse(fresh, strlen(fresh));
    if (line)
        OPENSSL_cleanse(line, strlen(line));
    free(old);
    free(fresh);
    free(line);
    free(path);
    licd_license_clear(&l);
    return rc;
}

/* ---- Upgrades ---- */

void licd_upgrade_check_clear(licd_upgrade_check *u)
{
    if (!u)
        return;
    free(u->reason);
    free(u->license_id);
    free(u->from_version);
    memset(u, 0, sizeof *u);
}

/* {"license","target_version"}, for both upgrade calls. */
static int upgrade_post(licd_client *c, const char *path, const char *license, const char *target,
                        cJSON **answer)
{
    cJSON *body = NULL;
    int rc;

    *answer = NULL;
    client_clear_error(c);
    if (!license || !*license || !target || !*target)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a licence and a target version are required");
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "license", license) ||
        !cJSON_AddStringToObject(body, "target_version", target))
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    else
        rc = post(c, path, body, 1, answer);
    cJSON_Delete(body);
    return rc;
}

int licd_client_is_upgrade_available(licd_client *c, const char *license, const char *target,
                                     licd_upgrade_check *out)
{
    const cJSON *available, *supported;
    const char *reason, *lid, *from;
    licd_upgrade_check u = {0};
    cJSON *answer = NULL;
    int rc;

    if (!c || !out)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = upgrade_post(c, "/v1/is_upgrade_available", license, target, &answer)) != LICD_CLIENT_OK)
        goto out;
    available = cJSON_GetObjectItemCaseSensitive(answer, "available");
    supported = cJSON_GetObjectItemCaseSensitive(answer, "supported");
    reason = answer_str(answer, "reason");
    lid = answer_str(answer, "license_id");
    from = answer_str(answer, "from_version");
    if (!cJSON_IsBool(available) || !cJSON_IsBool(supported) || !reason) {
        rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "licd's answer lacks available, supported or reason");
        goto out;
    }
    u.available = cJSON_IsTrue(available);
    u.supported = cJSON_IsTrue(supported);
    if (!(u.reason = strdup(reason)) || (lid && !(u.license_id = strdup(lid))) ||
        (from && !(u.from_version = strdup(from)))) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        goto out;
    }
    *out = u;
    memset(&u, 0, sizeof u);
out:
    licd_upgrade_check_clear(&u);
    cJSON_Delete(answer);
    return rc;
}

int licd_client_upgrade(licd_client *c, const char *license, const char *target, licd_license *out)
{
    cJSON *answer = NULL;
    int rc;

    if (!c || !out)
        return LICD_CLIENT_ERR_ARGS;
    if ((rc = upgrade_post(c, "/v1/upgrade", license, target, &answer)) == LICD_CLIENT_OK)
        rc = take_license(c, answer, NULL, NULL, out);
    cJSON_Delete(answer);
    return rc;
}
