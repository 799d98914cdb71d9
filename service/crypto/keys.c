/* P-256 signing keys: generation, loading once into EVP_PKEY, RFC 7638 kids and the JWKS. */
#include "crypto/keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/digest.h"
#include "util/base64.h"
#include "util/error.h"

/* A PEM P-256 key is a few hundred bytes; anything this big is not a key. */
#define KEY_FILE_MAX (64 * 1024)
#define COORD_LEN 32
/* base64url of 32 bytes, without padding. */
#define B64_32_LEN 43

struct crypto_key {
    EVP_PKEY *pkey;
    char x[B64_32_LEN + 1];
    char y[B64_32_LEN + 1];
    char kid[B64_32_LEN + 1];
};

/* Tokens remembered as verified: enough for the session tokens a node
 * renews in a day. */
#define VERIFIED_TOKENS 65536
#define VERIFIED_TTL_MS (24u * 3600u * 1000u)

struct crypto_keyring {
    struct crypto_key *keys; /* keys[0] signs; the others are retired and only verify */
    size_t nkeys;
    char *jwks; /* cJSON_PrintUnformatted, freed with cJSON_free */
    cache *verified; /* tokens known to bear a valid signature of this ring (NULL: none kept) */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The most useful line of OpenSSL's error queue for a message; the queue is
 * cleared so that a later, unrelated failure does not report this one. */
static const char *openssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return r ? r : "unrecognised content";
}

/* Creates the file exclusively (never follows or replaces anything at path),
 * writes through a stack buffer that is wiped afterwards so the private key
 * does not linger in freed stdio memory, and fsyncs; a partial file is removed
 * so that a retry is possible. */
int crypto_keygen(const char *path)
{
    char iobuf[4096];
    EVP_PKEY *pkey = NULL;
    FILE *fp = NULL;
    int fd = -1, created = 0, result = LICD_ERR_INTERNAL;

    pkey = EVP_EC_gen("P-256");
    if (!pkey)
        goto out;
    result = LICD_ERR_IO;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    created = 1;
    if (fchmod(fd, 0600) != 0)
        goto out;
    fp = fdopen(fd, "w");
    if (!fp)
        goto out;
    fd = -1;
    setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
    if (!PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL))
        goto out;
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
        goto out;
    result = fclose(fp) == 0 ? LICD_OK : LICD_ERR_IO;
    fp = NULL;

out:
    if (fp)
        fclose(fp);
    if (fd >= 0)
        close(fd);
    if (result != LICD_OK && created)
        unlink(path);
    OPENSSL_cleanse(iobuf, sizeof iobuf);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return result;
}

/* Never prompt on the terminal for a passphrase: encrypted keys are refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Reads the whole file (bounded) so both a private and a public PEM parse can
 * be tried on it; the caller wipes and frees *data. */
static int read_key_file(const char *role, const char *path, char **data, size_t *len,
                         char *err, size_t errlen)
{
    FILE *fp = NULL;
    char *buf = NULL;
    size_t n;
    int result = LICD_ERR_CONFIG;

    fp = fopen(path, "re");
    if (!fp) {
        set_err(err, errlen, "%s %s: cannot open: %s", role, path, strerror(errno));
        goto out;
    }
    buf = malloc(KEY_FILE_MAX + 1);
    if (!buf) {
        set_err(err, errlen, "%s %s: out of memory", role, path);
        goto out;
    }
    n = fread(buf, 1, KEY_FILE_MAX + 1, fp);
    if (ferror(fp)) {
        set_err(err, errlen, "%s %s: cannot read: %s", role, path, strerror(errno));
        goto out;
    }
    if (n > KEY_FILE_MAX) {
        set_err(err, errlen, "%s %s: larger than %d bytes, not a PEM key", role, path,
                KEY_FILE_MAX);
        goto out;
    }
    *data = buf;
    *len = n;
    buf = NULL;
    result = LICD_OK;

out:
    if (buf) {
        OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
        free(buf);
    }
    if (fp)
        fclose(fp);
    return result;
}

/* A PEM private key (PKCS#8 or SEC1); when allow_public (retired keys, whose
 * private half may already have been destroyed) a PEM public key too. */
static int parse_key(const char *role, const char *path, const char *data, size_t len,
                     int allow_public, EVP_PKEY **out, char *err, size_t errlen)
{
    BIO *bio = NULL;
    int result = LICD_ERR_CONFIG;

    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio) {
        set_err(err, errlen, "%s %s: out of memory", role, path);
        goto out;
    }
    *out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (!*out && allow_public) {
        BIO_free(bio);
        bio = BIO_new_mem_buf(data, (int)len);
        if (!bio) {
            set_err(err, errlen, "%s %s: out of memory", role, path);
            goto out;
        }
        ERR_clear_error();
        *out = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    }
    if (!*out) {
        set_err(err, errlen, "%s %s: not a PEM %s (%s)", role, path,
                allow_public ? "private or public key" : "private key (unencrypted)",
                openssl_reason());
        goto out;
    }
    result = LICD_OK;

out:
    BIO_free(bio);
    ERR_clear_error();
    return result;
}

/* ES256 needs an EC key on P-256 exactly: another curve or explicit curve
 * parameters would sign something no ES256 verifier accepts. */
static int check_p256(const char *role, const char *path, EVP_PKEY *pkey, char *err,
                      size_t errlen)
{
    char group[80];
    const char *type;

    if (!EVP_PKEY_is_a(pkey, "EC")) {
        type = EVP_PKEY_get0_type_name(pkey);
        set_err(err, errlen, "%s %s: %s key, need an EC P-256 key", role, path,
                type ? type : "non-EC");
        return LICD_ERR_CONFIG;
    }
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        NULL)) {
        ERR_clear_error();
        set_err(err, errlen, "%s %s: EC key without a named curve, need P-256", role, path);
        return LICD_ERR_CONFIG;
    }
    if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0) {
        set_err(err, errlen, "%s %s: EC key on curve %s, need P-256", role, path, group);
        return LICD_ERR_CONFIG;
    }
    return LICD_OK;
}

/* base64url of exactly COORD_LEN bytes into a fixed field. */
static int b64_coord(const uint8_t *bytes, char dst[B64_32_LEN + 1])
{
    char *s = b64url_encode(bytes, COORD_LEN);

    if (!s)
        return LICD_ERR_NOMEM;
    memcpy(dst, s, B64_32_LEN + 1);
    free(s);
    return LICD_OK;
}

/* One public coordinate, left-padded to 32 bytes as JWK (RFC 7518 6.2.1.2) requires. */
static int get_coord(EVP_PKEY *pkey, const char *param, char dst[B64_32_LEN + 1])
{
    uint8_t bytes[COORD_LEN];
    BIGNUM *bn = NULL;
    int result = LICD_ERR_INTERNAL;

    if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
        goto out;
    if (BN_bn2binpad(bn, bytes, COORD_LEN) != COORD_LEN)
        goto out;
    result = b64_coord(bytes, dst);

out:
    BN_free(bn);
    ERR_clear_error();
    return result;
}

/* x, y and the RFC 7638 thumbprint: SHA-256 over the required members only,
 * in lexicographic order, with no whitespace. */
static int fill_key(struct crypto_key *k)
{
    char canon[160];
    uint8_t hash[CRYPTO_SHA256_LEN];
    int n, result;

    result = get_coord(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, k->x);
    if (result != LICD_OK)
        return result;
    result = get_coord(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, k->y);
    if (result != LICD_OK)
        return result;
    n = snprintf(canon, sizeof canon, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                 k->x, k->y);
    if (n < 0 || (size_t)n >= sizeof canon)
        return LICD_ERR_INTERNAL;
    crypto_sha256(canon, (size_t)n, hash);
    return b64_coord(hash, k->kid);
}

/* Keeps only the public half of a retired key: it never signs again, so its
 * private scalar need not stay in memory. */
static EVP_PKEY *public_only(EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub = NULL;
    int n;

    n = i2d_PUBKEY(pkey, &der);
    if (n <= 0)
        goto out;
    p = der;
    pub = d2i_PUBKEY(NULL, &p, n);

out:
    OPENSSL_free(der);
    ERR_clear_error();
    return pub;
}

/* Loads one key file into the next free slot. A retired key equal to a key
 * already loaded (same kid) is dropped rather than listed twice in the JWKS. */
static int add_key(crypto_keyring *ring, const char *role, const char *path, int retired,
                   char *err, size_t errlen)
{
    struct crypto_key k = {0};
    EVP_PKEY *pub = NULL;
    char *data = NULL;
    size_t len = 0;
    int result;

    result = read_key_file(role, path, &data, &len, err, errlen);
    if (result != LICD_OK)
        goto out;
    result = parse_key(role, path, data, len, retired, &k.pkey, err, errlen);
    if (result != LICD_OK)
        goto out;
    result = check_p256(role, path, k.pkey, err, errlen);
    if (result != LICD_OK)
        goto out;
    if (retired) {
        pub = public_only(k.pkey);
        if (!pub) {
            set_err(err, errlen, "%s %s: cannot extract the public key", role, path);
            result = LICD_ERR_CONFIG;
            goto out;
        }
        EVP_PKEY_free(k.pkey);
        k.pkey = pub;
    }
    if (fill_key(&k) != LICD_OK) {
        set_err(err, errlen, "%s %s: cannot read the public point", role, path);
        result = LICD_ERR_CONFIG;
        goto out;
    }
    for (size_t i = 0; i < ring->nkeys; i++)
        if (strcmp(ring->keys[i].kid, k.kid) == 0)
            goto out;
    ring->keys[ring->nkeys++] = k;
    k.pkey = NULL;

out:
    EVP_PKEY_free(k.pkey);
    if (data) {
        OPENSSL_cleanse(data, len);
        free(data);
    }
    return result;
}

/* The JWKS is built once here; serving it is then a pointer copy. */
static int build_jwks(crypto_keyring *ring)
{
    cJSON *root = NULL, *arr, *o;
    int result = LICD_ERR_NOMEM;

    root = cJSON_CreateObject();
    if (!root)
        goto out;
    arr = cJSON_AddArrayToObject(root, "keys");
    if (!arr)
        goto out;
    for (size_t i = 0; i < ring->nkeys; i++) {
        const struct crypto_key *k = &ring->keys[i];
        o = cJSON_CreateObject();
        if (!o)
            goto out;
        if (!cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto out;
        }
        if (!cJSON_AddStringToObject(o, "kty", "EC") || !cJSON_AddStringToObject(o, "crv", "P-256")
            || !cJSON_AddStringToObject(o, "x", k->x) || !cJSON_AddStringToObject(o, "y", k->y)
            || !cJSON_AddStringToObject(o, "kid", k->kid)
            || !cJSON_AddStringToObject(o, "use", "sig")
            || !cJSON_AddStringToObject(o, "alg", "ES256"))
            goto out;
    }
    ring->jwks = cJSON_PrintUnformatted(root);
    if (ring->jwks)
        result = LICD_OK;

out:
    cJSON_Delete(root);
    return result;
}

/* Signing key first, then each non-empty, space-trimmed entry of the
 * comma-separated retired list; any bad key fails the whole load, since a
 * half-loaded ring would silently refuse tokens that should verify. */
int crypto_keyring_load(const char *signing_path, const char *retired_paths,
                        crypto_keyring **out, char *err, size_t errlen)
{
    crypto_keyring *ring = NULL;
    char *list = NULL, *save = NULL, *tok;
    size_t cap = 1;
    int result = LICD_ERR_CONFIG;

    if (out)
        *out = NULL;
    if (!out || !signing_path || !*signing_path) {
        set_err(err, errlen, "no signing key path given");
        goto out;
    }
    if (retired_paths) {
        list = strdup(retired_paths);
        if (!list) {
            set_err(err, errlen, "out of memory loading keys");
            goto out;
        }
        for (const char *c = list; *c; c++)
            cap += *c == ',';
        cap++;
    }
    ring = calloc(1, sizeof *ring);
    if (ring)
        ring->keys = calloc(cap, sizeof *ring->keys);
    if (!ring || !ring->keys) {
        set_err(err, errlen, "out of memory loading keys");
        goto out;
    }

    result = add_key(ring, "signing key", signing_path, 0, err, errlen);
    if (result != LICD_OK)
        goto out;
    for (tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
        char *end = tok + strlen(tok);
        while (isspace((unsigned char)*tok))
            tok++;
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (!*tok)
            continue;
        result = add_key(ring, "retired key", tok, 1, err, errlen);
        if (result != LICD_OK)
            goto out;
    }
    if (build_jwks(ring) != LICD_OK ||
        !(ring->verified = cache_new("verified_tokens", VERIFIED_TOKENS, VERIFIED_TTL_MS))) {
        set_err(err, errlen, "out of memory building the JWKS");
        result = LICD_ERR_CONFIG;
        goto out;
    }
    *out = ring;
    ring = NULL;
    result = LICD_OK;

out:
    crypto_keyring_free(ring);
    free(list);
    ERR_clear_error();
    return result;
}

/* A P-256 public key from its base64url coordinates. */
static EVP_PKEY *jwk_public_key(const char *x, const char *y)
{
    unsigned char point[1 + 2 * COORD_LEN], *bx = NULL, *by = NULL;
    size_t nx = 0, ny = 0;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[3];

    bx = b64url_decode(x, strlen(x), &nx);
    by = b64url_decode(y, strlen(y), &ny);
    if (!bx || !by || nx != COORD_LEN || ny != COORD_LEN)
        goto out;
    point[0] = 0x04;
    memcpy(point + 1, bx, COORD_LEN);
    memcpy(point + 1 + COORD_LEN, by, COORD_LEN);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
    params[2] = OSSL_PARAM_construct_end();
    if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    free(bx);
    free(by);
    ERR_clear_error();
    return pkey;
}

int crypto_keyring_from_jwks(const char *jwks_json, crypto_keyring **out, char *err, size_t errlen)
{
    cJSON *doc = cJSON_Parse(jwks_json);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys"), *k;
    crypto_keyring *ring = NULL;
    int n = cJSON_GetArraySize(keys), result = LICD_ERR_CONFIG;

    *out = NULL;
    if (!cJSON_IsArray(keys) || n < 1 || n > 64) {
        set_err(err, errlen, "not a JWKS with 1 to 64 keys");
        goto out;
    }
    if (!(ring = calloc(1, sizeof *ring)) ||
        !(ring->keys = calloc((size_t)n, sizeof *ring->keys))) {
        set_err(err, errlen, "out of memory loading keys");
        goto out;
    }
    cJSON_ArrayForEach (k, keys) {
        const char *kty = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "kty"));
        const char *crv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "crv"));
        const char *x = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "x"));
        const char *y = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "y"));
        struct crypto_key key = {0};
        if (!kty || !crv || !x || !y || strcmp(kty, "EC") != 0 || strcmp(crv, "P-256") != 0 ||
            !(key.pkey = jwk_public_key(x, y)) || fill_key(&key) != LICD_OK) {
            EVP_PKEY_free(key.pkey);
            set_err(err, errlen, "key %zu of the JWKS is not a P-256 public key", ring->nkeys + 1);
            goto out;
        }
        ring->keys[ring->nkeys++] = key;
    }
    if (build_jwks(ring) != LICD_OK) {
        set_err(err, errlen, "out of memory building the JWKS");
        goto out;
    }
    *out = ring;
    ring = NULL;
    result = LICD_OK;
out:
    crypto_keyring_free(ring);
    cJSON_Delete(doc);
    return result;
}

void crypto_keyring_free(crypto_keyring *ring)
{
    if (!ring)
        return;
    for (size_t i = 0; i < ring->nkeys; i++)
        EVP_PKEY_free(ring->keys[i].pkey);
    free(ring->keys);
    cJSON_free(ring->jwks);
    cache_free(ring->verified);
    free(ring);
}

cache *crypto_keyring_verified(const crypto_keyring *ring) { return ring->verified; }

const char *crypto_keyring_kid(const crypto_keyring *ring)
{
    return ring->keys[0].kid;
}

const char *crypto_keyring_jwks(const crypto_keyring *ring)
{
    return ring->jwks;
}

EVP_PKEY *crypto_keyring_signing_key(const crypto_keyring *ring)
{
    return ring->keys[0].pkey;
}

EVP_PKEY *crypto_keyring_find_key(const crypto_keyring *ring, const char *kid, size_t kid_len)
{
    if (!kid || kid_len != B64_32_LEN)
        return NULL;
    for (size_t i = 0; i < ring->nkeys; i++)
        if (memcmp(ring->keys[i].kid, kid, B64_32_LEN) == 0)
            return ring->keys[i].pkey;
    return NULL;
}
