/* The token cache on disk: a private folder, files replaced atomically, one
 * token file per user, machine and product set; and the machine's id. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client_internal.h"

/* A JWT is at most CLIENT_MAX_JWT; a JWKS a few KiB. */
#define MAX_CACHE_FILE (1u << 20)
/* The readable part of a token file's name; the hash follows it. */
#define NAME_READABLE 96
#define NAME_HASH_BYTES 8

/* Reads a small regular file whole, not through a symlink. -1 with errno
 * set on failure; *out NUL-terminated, the caller's. */
static int read_small(const char *path, size_t max, char **out)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, saved;

    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        goto fail;
    }
    if (!(buf = malloc((size_t)st.st_size + 1)))
        goto fail;
    while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    *out = buf;
    return 0;
fail:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return -1;
}

static char *join_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = malloc(dl + 1 + nl + 1);
    if (p) {
        memcpy(p, dir, dl);
        p[dl] = '/';
        memcpy(p + dl + 1, name, nl + 1);
    }
    return p;
}

int cache_prepare_dir(licd_client *c, const char *dir)
{
    struct stat st;
    char *path;
    int rc = LICD_CLIENT_OK;

    if (!dir || !*dir)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "no cache folder given");
    if (!(path = strdup(dir)))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    /* Each missing component, parents first; existing ones are left as they are. */
    for (char *p = path + 1;; p++) {
        char keep = *p;
        if (keep != '/' && keep != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            rc = client_fail(c, LICD_CLIENT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
            break;
        }
        *p = keep;
        if (keep == '\0')
            break;
    }
    if (rc == LICD_CLIENT_OK && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = client_fail(c, LICD_CLIENT_ERR_IO, "%s is not a folder", dir);
    free(path);
    return rc;
}

int cache_read(licd_client *c, const char *dir, const char *name, char **out)
{
    char *path = join_path(dir, name);
    int rc = LICD_CLIENT_OK;

    *out = NULL;
    if (!path)
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    if (read_small(path, MAX_CACHE_FILE, out) != 0 && errno != ENOENT)
        rc = client_fail(c, LICD_CLIENT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

/* Readers see the old file or the new one, never half of either, and a
 * crash leaves at most a hidden temporary behind. */
int cache_write(licd_client *c, const char *dir, const char *name, const char *data)
{
    char *path = join_path(dir, name), *tmp = NULL;
    size_t len = strlen(data), done = 0;
    int fd = -1, rc = LICD_CLIENT_ERR_IO;

    if (!path || !(tmp = malloc(strlen(dir) + strlen(name) + 16))) {
        rc = client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
        goto out;
    }
    sprintf(tmp, "%s/.%s.XXXXXX", dir, name);
    if ((fd = mkstemp(tmp)) < 0) {
        client_fail(c, rc, "cannot create a file in %s: %s", dir, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0)
        goto fail;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    rc = LICD_CLIENT_OK;
    goto out;
fail:
    client_fail(c, rc, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(path);
    return rc;
}

int cache_remove(licd_client *c, const char *dir, const char *name)
{
    char *path = join_path(dir, name);
    int rc = LICD_CLIENT_OK;
    if (!path)
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    if (unlink(path) != 0 && errno != ENOENT)
        rc = client_fail(c, LICD_CLIENT_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends s to the readable part, characters outside [A-Za-z0-9._,@-] as '_'. */
static void readable(char *dst, size_t *n, const char *s)
{
    for (; *s && *n < NAME_READABLE; s++)
        dst[(*n)++] = (isalnum((unsigned char)*s) || strchr("._,@-", *s)) ? *s : '_';
}

/* Products are sorted first, so that "a,b" and "b,a" share one file; the
 * hash covers the exact names, which the readable part may have changed. */
int cache_token_name(licd_client *c, const licd_token_scope *scope, char **out)
{
    const char *sorted[CLIENT_MAX_PRODUCTS];
    unsigned char digest[EVP_MAX_MD_SIZE];
    char part[NAME_READABLE + 1];
    size_t n = 0;
    EVP_MD_CTX *sha;
    int ok;

    *out = NULL;
    memcpy(sorted, scope->products, scope->nproducts * sizeof *sorted);
    qsort(sorted, scope->nproducts, sizeof *sorted, by_name);
    ok = (sha = EVP_MD_CTX_new()) && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(sha, scope->user, strlen(scope->user) + 1) &&
         EVP_DigestUpdate(sha, scope->machine_id, strlen(scope->machine_id) + 1);
    readable(part, &n, scope->user);
    readable(part, &n, "@");
    readable(part, &n, scope->machine_id);
    readable(part, &n, "@");
    for (size_t i = 0; i < scope->nproducts; i++) {
        ok = ok && EVP_DigestUpdate(sha, sorted[i], strlen(sorted[i]) + 1);
        readable(part, &n, i ? "," : "");
        readable(part, &n, sorted[i]);
    }
    ok = ok && EVP_DigestFinal_ex(sha, digest, NULL);
    EVP_MD_CTX_free(sha);
    part[n] = '\0';
    if (!ok || !(*out = malloc(sizeof "token-" + n + 1 + 2 * NAME_HASH_BYTES + sizeof ".jwt")))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    n = (size_t)sprintf(*out, "token-%s-", part);
    for (size_t i = 0; i < NAME_HASH_BYTES; i++)
        n += (size_t)sprintf(*out + n, "%02x", digest[i]);
    strcpy(*out + n, ".jwt");
    return LICD_CLIENT_OK;
}

int cache_pair_name(licd_client *c, const char *prefix, const char *a, const char *b,
                    const char *suffix, char **out)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    char part[NAME_READABLE + 1];
    size_t n = 0;
    EVP_MD_CTX *sha;
    int ok;

    *out = NULL;
    ok = (sha = EVP_MD_CTX_new()) && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(sha, a, strlen(a) + 1) && EVP_DigestUpdate(sha, b, strlen(b) + 1) &&
         EVP_DigestFinal_ex(sha, digest, NULL);
    EVP_MD_CTX_free(sha);
    readable(part, &n, a);
    readable(part, &n, "@");
    readable(part, &n, b);
    part[n] = '\0';
    if (!ok || !(*out = malloc(strlen(prefix) + n + 2 + 2 * NAME_HASH_BYTES + strlen(suffix))))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    n = (size_t)sprintf(*out, "%s%s-", prefix, part);
    for (size_t i = 0; i < NAME_HASH_BYTES; i++)
        n += (size_t)sprintf(*out + n, "%02x", digest[i]);
    strcpy(*out + n, suffix);
    return LICD_CLIENT_OK;
}

int licd_cache_default_dir(char **out)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    struct passwd pw, *found = NULL;
    char buf[4096];

    if (!out)
        return LICD_CLIENT_ERR_ARGS;
    *out = NULL;
    if (xdg && xdg[0] == '/') {
        *out = join_path(xdg, "licd");
        return *out ? LICD_CLIENT_OK : LICD_CLIENT_ERR_NOMEM;
    }
    if (!home || !*home) {
        if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) != 0 || !found || !pw.pw_dir)
            return LICD_CLIENT_ERR_IO;
        home = pw.pw_dir;
    }
    *out = join_path(home, ".cache/licd");
    return *out ? LICD_CLIENT_OK : LICD_CLIENT_ERR_NOMEM;
}

/* systemd's file first, then D-Bus's older copy of the same id. */
int licd_machine_id(char **out)
{
    static const char *const paths[] = {"/etc/machine-id", "/var/lib/dbus/machine-id"};
    char *id = NULL;

    if (!out)
        return LICD_CLIENT_ERR_ARGS;
    *out = NULL;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char *start, *end;
        if (read_small(paths[i], 4096, &id) != 0)
            continue;
        for (start = id; isspace((unsigned char)*start); start++)
            ;
        for (end = start + strlen(start); end > start && isspace((unsigned char)end[-1]); end--)
            ;
        *end = '\0';
        if (*start) {
            memmove(id, start, (size_t)(end - start) + 1);
            *out = id;
            return LICD_CLIENT_OK;
        }
        free(id);
    }
    return errno == ENOMEM ? LICD_CLIENT_ERR_NOMEM : LICD_CLIENT_ERR_IO;
}
