/* Unit tests for service/crypto: digests and base64url, key loading and kids, ES256 JWTs (libjwt as an independent check). */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <jwt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/digest.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "crypto/seal.h"
#include "expo.h"
#include "fill.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/metrics.h"

/* A fixed P-256 key and its RFC 7638 thumbprint, computed independently of
 * licd: `openssl ec -pubout -text` for the point, then Python hashlib/base64
 * over json.dumps(sort_keys=True, separators=(",", ":")). */
static const char FIXED_PKCS8[] = "-----BEGIN PRIVATE KEY-----\n"
                                  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTHMfYLMU0hHTh9MA\n"
                                  "kyIdgEoJPfTA8xguWSSDu5wDSfChRANCAATSjqR3jbyiddRY58KsdG9wlrgCCquX\n"
                                  "iVI+WMDarIde3cw0mDfg5BQCBBI/1QGWoj2cNYwS44o7mc+cD52IjR6B\n"
                                  "-----END PRIVATE KEY-----\n";
/* The same key in SEC1 ("EC PRIVATE KEY") form, and its public half. */
static const char FIXED_SEC1[] = "-----BEGIN EC PRIVATE KEY-----\n"
                                 "MHcCAQEEIExzH2CzFNIR04fTAJMiHYBKCT30wPMYLlkkg7ucA0nwoAoGCCqGSM49\n"
                                 "AwEHoUQDQgAE0o6kd428onXUWOfCrHRvcJa4Agqrl4lSPljA2qyHXt3MNJg34OQU\n"
                                 "AgQSP9UBlqI9nDWMEuOKO5nPnA+diI0egQ==\n"
                                 "-----END EC PRIVATE KEY-----\n";
static const char FIXED_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                                "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0o6kd428onXUWOfCrHRvcJa4Agqr\n"
                                "l4lSPljA2qyHXt3MNJg34OQUAgQSP9UBlqI9nDWMEuOKO5nPnA+diI0egQ==\n"
                                "-----END PUBLIC KEY-----\n";
static const char FIXED_X[] = "0o6kd428onXUWOfCrHRvcJa4Agqrl4lSPljA2qyHXt0";
static const char FIXED_Y[] = "zDSYN-DkFAIEEj_VAZaiPZw1jBLjijuZz5wPnYiNHoE";
static const char FIXED_KID[] = "re418heqPeObyvkrweSsNFbgU3QhaZ81l5PiJXKNJTM";

/* A key whose y coordinate starts with a 0x00 byte: x and y must be padded to
 * 32 bytes before encoding, or the kid comes out wrong. */
static const char PADDED_PKCS8[] = "-----BEGIN PRIVATE KEY-----\n"
                                   "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHMDPCbUG8VLx2H+T\n"
                                   "Dm41LFhj4JCtztGIsp1l3PMsxUuhRANCAAQRVTBttpzATiifV2QoOcZTvHJVPHfX\n"
                                   "TyqjLoDg8zSSfACRBUuj0//bjAGyoN0RuDZR1GMjcBHh4B0OYH8eFNFa\n"
                                   "-----END PRIVATE KEY-----\n";
static const char PADDED_Y[] = "AJEFS6PT_9uMAbKg3RG4NlHUYyNwEeHgHQ5gfx4U0Vo";
static const char PADDED_KID[] = "SOks1ovQTADIaUvsGyUEgjY9XAExb4NdVeaPwJJtx0g";

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/licd-test-crypto-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

TestSuite(keys, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(jwt, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(seal, .init = make_tmpdir, .fini = remove_tmpdir);

/* ---- helpers ---- */

static void tpath(char *out, size_t n, const char *name)
{
    cr_assert_lt((size_t)snprintf(out, n, "%s/%s", tmpdir, name), n);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp, "fopen %s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), fp), strlen(text));
    cr_assert_eq(fclose(fp), 0);
}

/* Whole file as a malloc'd string. */
static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf;
    size_t n;

    cr_assert_not_null(fp, "fopen %s", path);
    buf = calloc(1, 65536);
    cr_assert_not_null(buf);
    n = fread(buf, 1, 65535, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Generates a key with crypto_keygen into tmpdir/name; path returned in out. */
static void new_key(char *out, size_t n, const char *name)
{
    tpath(out, n, name);
    cr_assert_eq(crypto_keygen(out), LICD_OK, "keygen %s", out);
}

static crypto_keyring *load_ok(const char *signing, const char *retired)
{
    crypto_keyring *ring = NULL;
    char err[256] = "";

    cr_assert_eq(crypto_keyring_load(signing, retired, &ring, err, sizeof err), LICD_OK, "load: %s",
                 err);
    cr_assert_not_null(ring);
    return ring;
}

/* Writes key as PEM (PKCS#8) to tmpdir/name. */
static void write_pkey(char *out, size_t n, const char *name, EVP_PKEY *pkey)
{
    FILE *fp;

    cr_assert_not_null(pkey);
    tpath(out, n, name);
    fp = fopen(out, "w");
    cr_assert_not_null(fp);
    cr_assert(PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL));
    cr_assert_eq(fclose(fp), 0);
}

static EVP_PKEY *read_pkey(const char *path)
{
    FILE *fp = fopen(path, "r");
    EVP_PKEY *pkey;

    cr_assert_not_null(fp);
    pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    cr_assert_not_null(pkey, "PEM_read_PrivateKey %s", path);
    return pkey;
}

/* The public key of a private key file, as PEM (malloc'd), via OpenSSL. */
static char *public_pem(const char *path)
{
    EVP_PKEY *pkey = read_pkey(path);
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    cr_assert_not_null(bio);
    cr_assert(PEM_write_bio_PUBKEY(bio, pkey));
    n = BIO_get_mem_data(bio, &data);
    cr_assert_gt(n, 0);
    out = malloc((size_t)n + 1); /* not strndup: the BIO data has no NUL */
    cr_assert_not_null(out);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

static char *b64(const char *text)
{
    char *s = b64url_encode(text, strlen(text));
    cr_assert_not_null(s);
    return s;
}

/* "a.b.c" from three already-encoded parts (malloc'd). */
static char *join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(n);
    cr_assert_not_null(s);
    snprintf(s, n, "%s.%s.%s", a, b, c);
    return s;
}

/* An ES256 token with an arbitrary header and payload, correctly signed with
 * the key in key_path straight through OpenSSL: so that each refusal tested
 * with it is caused by the rule under test, not by a bad signature. */
static char *sign_raw(const char *key_path, const char *header, const char *payload)
{
    EVP_PKEY *pkey = read_pkey(key_path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *h = b64(header), *p = b64(payload), *input, *sig, *token;
    unsigned char der[80];
    const unsigned char *dp = der;
    uint8_t raw[64];
    size_t der_len = sizeof der;
    ECDSA_SIG *es;
    const BIGNUM *r, *s;

    input = join3(h, p, "");
    input[strlen(input) - 1] = '\0'; /* "h.p" */
    cr_assert_not_null(ctx);
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
    cr_assert_eq(EVP_DigestSign(ctx, der, &der_len, (unsigned char *)input, strlen(input)), 1);
    es = d2i_ECDSA_SIG(NULL, &dp, (long)der_len);
    cr_assert_not_null(es);
    ECDSA_SIG_get0(es, &r, &s);
    cr_assert_eq(BN_bn2binpad(r, raw, 32), 32);
    cr_assert_eq(BN_bn2binpad(s, raw + 32, 32), 32);
    sig = b64url_encode(raw, sizeof raw);
    token = join3(h, p, sig);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    free(sig);
    free(input);
    free(p);
    free(h);
    return token;
}

static char *sign_json(const crypto_keyring *ring, const char *claims_json)
{
    cJSON *claims = cJSON_Parse(claims_json);
    char *token = NULL;

    cr_assert_not_null(claims, "bad test JSON %s", claims_json);
    cr_assert_eq(crypto_jwt_sign(ring, claims, &token), LICD_OK);
    cr_assert_not_null(token);
    cJSON_Delete(claims);
    return token;
}

/* Asserts the token is refused as invalid, with no claims handed back. */
static void expect_invalid(const crypto_keyring *ring, const char *token, const char *why)
{
    cJSON *claims = (cJSON *)1;
    int rc = crypto_jwt_verify(ring, token, time(NULL), &claims);

    cr_assert_eq(rc, LICD_ERR_TOKEN_INVALID, "%s: expected invalid, got %d", why, rc);
    cr_assert_null(claims, "%s: claims returned", why);
}

static void expect_valid(const crypto_keyring *ring, const char *token, const char *why)
{
    cJSON *claims = NULL;
    int rc = crypto_jwt_verify(ring, token, time(NULL), &claims);

    cr_assert_eq(rc, LICD_OK, "%s: expected valid, got %d", why, rc);
    cr_assert_not_null(claims);
    cJSON_Delete(claims);
}

/* Decoded JSON of part i (0 header, 1 payload) of a token. */
static cJSON *token_part(const char *token, int i)
{
    const char *start = token, *end;
    uint8_t *buf;
    size_t n;
    cJSON *json;

    while (i-- > 0)
        start = strchr(start, '.') + 1;
    end = strchr(start, '.');
    buf = b64url_decode(start, (size_t)(end - start), &n);
    cr_assert_not_null(buf);
    json = cJSON_Parse((char *)buf);
    cr_assert_not_null(json);
    free(buf);
    return json;
}

/* Fixture: one generated signing key and its ring. */
struct one_key {
    char path[256];
    crypto_keyring *ring;
};

static void one_key_init(struct one_key *k, const char *name)
{
    new_key(k->path, sizeof k->path, name);
    k->ring = load_ok(k->path, NULL);
}

/* ---- digest.c ---- */

Test(digest, sha256_vectors)
{
    uint8_t h[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    crypto_sha256("abc", 3, h);
    crypto_hex(h, sizeof h, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256("", 0, h);
    crypto_hex(h, sizeof h, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(digest, equal_and_hex)
{
    char hex[9];

    cr_assert_eq(crypto_equal("abcd", "abcd", 4), 1);
    cr_assert_eq(crypto_equal("abcd", "abce", 4), 0);
    cr_assert_eq(crypto_equal("xbcd", "abcd", 4), 0);
    cr_assert_eq(crypto_equal("a", "b", 0), 1);
    crypto_hex("\x00\x7f\xa0\xff", 4, hex);
    cr_assert_str_eq(hex, "007fa0ff");
    crypto_hex("", 0, hex);
    cr_assert_str_eq(hex, "");
}

Test(digest, random)
{
    char a[2 * 100 + 1], b[2 * 100 + 1];
    uint8_t buf[32] = {0}, zero[32] = {0};

    cr_assert_eq(crypto_random(buf, sizeof buf), LICD_OK);
    cr_assert_neq(memcmp(buf, zero, sizeof buf), 0);
    cr_assert_eq(crypto_random_hex(100, a), LICD_OK);
    cr_assert_eq(crypto_random_hex(100, b), LICD_OK);
    cr_assert_eq(strlen(a), 200);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 200);
    cr_assert_str_neq(a, b);
    cr_assert_eq(crypto_random_hex(0, a), LICD_OK);
    cr_assert_str_eq(a, "");
}

#define ID_THREADS 4
#define IDS_EACH 1000 /* each thread refills its reserve about 31 times */
static char ids[ID_THREADS * IDS_EACH][CRYPTO_ID_HEX];

static void *draw_ids(void *arg)
{
    char(*mine)[CRYPTO_ID_HEX] = arg;
    for (int i = 0; i < IDS_EACH; i++)
        if (crypto_random_id(mine[i]) != LICD_OK)
            mine[i][0] = '\0';
    return NULL;
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

Test(digest, random_ids_are_unique_across_threads_and_refills)
{
    pthread_t t[ID_THREADS];
    for (int i = 0; i < ID_THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, draw_ids, ids[i * IDS_EACH]), 0);
    for (int i = 0; i < ID_THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < ID_THREADS * IDS_EACH; i++) {
        cr_assert_eq(strlen(ids[i]), 2 * CRYPTO_ID_BYTES, "id %d: \"%s\"", i, ids[i]);
        cr_assert_eq(strspn(ids[i], "0123456789abcdef"), 2 * CRYPTO_ID_BYTES);
    }
    qsort(ids, ID_THREADS * IDS_EACH, sizeof ids[0], by_text);
    for (int i = 1; i < ID_THREADS * IDS_EACH; i++)
        cr_assert_str_neq(ids[i - 1], ids[i], "id %s drawn twice", ids[i]);
}

Test(digest, b64url_encode_vectors)
{
    /* RFC 4648 section 10, without the padding. */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *s = b64url_encode(in[i], strlen(in[i]));
        cr_assert_str_eq(s, want[i]);
        free(s);
    }
    /* The URL-safe characters. */
    char *s = b64url_encode("\xfb\xff\xbf", 3);
    cr_assert_str_eq(s, "-_-_");
    free(s);
}

Test(digest, b64url_round_trip)
{
    uint8_t data[70];

    for (size_t len = 0; len <= sizeof data; len++) {
        size_t n = 12345;
        cr_assert_eq(crypto_random(data, len), LICD_OK);
        char *s = b64url_encode(data, len);
        cr_assert_not_null(s);
        uint8_t *back = b64url_decode(s, strlen(s), &n);
        cr_assert_not_null(back, "len %zu: %s", len, s);
        cr_assert_eq(n, len);
        cr_assert_eq(memcmp(back, data, len), 0);
        cr_assert_eq(back[n], 0, "NUL after the data");
        free(back);
        free(s);
    }
}

Test(digest, b64url_decode_strict)
{
    static const char *const bad[] = {
        "Zg==", "Zg=",   "Zm9v=", "Z",     "Zm9vY", /* padding, len % 4 == 1 */
        "Zm+v", "Zm/v",  "Zm9v!", " Zm9v", "Zm9v\n", "Zm 9v", /* alphabet */
        "Zh",   "Zm9",   "Zm9vYh", /* non-zero unused bits: a second spelling of the same bytes */
    };
    size_t n;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(b64url_decode(bad[i], strlen(bad[i]), &n), "accepted \"%s\"", bad[i]);
    cr_assert_null(b64url_decode("Zm\0v", 4, &n), "accepted a NUL byte");

    /* Only text_len bytes are read. */
    uint8_t *out = b64url_decode("Zm9vYmFy!!!", 8, &n);
    cr_assert_not_null(out);
    cr_assert_eq(n, 6);
    cr_assert_str_eq((char *)out, "foobar");
    free(out);
    out = b64url_decode("", 0, &n);
    cr_assert_not_null(out);
    cr_assert_eq(n, 0);
    free(out);
}

/* ---- keys.c ---- */

Test(keys, keygen_mode_refuses_overwrite_and_loads)
{
    char path[256], link[256], target[256], err[256];
    struct stat st;
    crypto_keyring *a, *b, *ring = NULL;

    new_key(path, sizeof path, "k.pem");
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
    char *before = read_text(path);
    cr_assert(strncmp(before, "-----BEGIN PRIVATE KEY-----\n", 28) == 0, "PKCS#8 PEM: %s", before);

    cr_assert_eq(crypto_keygen(path), LICD_ERR_IO, "overwrote an existing key");
    char *after = read_text(path);
    cr_assert_str_eq(before, after);

    /* A symlink at the path (even a dangling one) is not followed. */
    tpath(target, sizeof target, "target.pem");
    tpath(link, sizeof link, "link.pem");
    cr_assert_eq(symlink(target, link), 0);
    cr_assert_eq(crypto_keygen(link), LICD_ERR_IO);
    cr_assert_neq(access(target, F_OK), 0);
    tpath(target, sizeof target, "no/such/dir.pem");
    cr_assert_eq(crypto_keygen(target), LICD_ERR_IO);

    a = load_ok(path, NULL);
    b = load_ok(path, "");
    const char *kid = crypto_keyring_kid(a);
    cr_assert_eq(strlen(kid), 43);
    cr_assert_eq(strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 43);
    cr_assert_str_eq(kid, crypto_keyring_kid(b), "kid not stable across loads");

    /* A second key has another kid. */
    new_key(path, sizeof path, "k2.pem");
    cr_assert_eq(crypto_keyring_load(path, NULL, &ring, err, sizeof err), LICD_OK);
    cr_assert_str_neq(crypto_keyring_kid(ring), kid);

    crypto_keyring_free(ring);
    crypto_keyring_free(b);
    crypto_keyring_free(a);
    free(after);
    free(before);
}

Test(keys, rfc7638_thumbprint_and_jwks_of_fixed_key)
{
    char path[256], expect[512];
    crypto_keyring *ring;

    tpath(path, sizeof path, "fixed.pem");
    write_file(path, FIXED_PKCS8);
    ring = load_ok(path, NULL);
    cr_assert_str_eq(crypto_keyring_kid(ring), FIXED_KID);
    snprintf(expect, sizeof expect,
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\","
             "\"use\":\"sig\",\"alg\":\"ES256\"}]}",
             FIXED_X, FIXED_Y, FIXED_KID);
    cr_assert_str_eq(crypto_keyring_jwks(ring), expect);
    crypto_keyring_free(ring);

    /* The same key in SEC1 form has the same kid. */
    tpath(path, sizeof path, "fixed-sec1.pem");
    write_file(path, FIXED_SEC1);
    ring = load_ok(path, NULL);
    cr_assert_str_eq(crypto_keyring_kid(ring), FIXED_KID);
    crypto_keyring_free(ring);

    /* Leading zero byte in y: padded to 32 bytes. */
    tpath(path, sizeof path, "padded.pem");
    write_file(path, PADDED_PKCS8);
    ring = load_ok(path, NULL);
    cr_assert_str_eq(crypto_keyring_kid(ring), PADDED_KID);
    cr_assert_not_null(strstr(crypto_keyring_jwks(ring), PADDED_Y));
    crypto_keyring_free(ring);
}

Test(keys, retired_list_parsing)
{
    char s[256], r1[256], r2[256], pub[256], list[1400];
    crypto_keyring *ring;
    cJSON *jwks, *keys;

    new_key(s, sizeof s, "s.pem");
    new_key(r1, sizeof r1, "r1.pem");
    new_key(r2, sizeof r2, "r2.pem");
    tpath(pub, sizeof pub, "fixed-pub.pem");
    write_file(pub, FIXED_PUB);

    /* Spaces trimmed, empty entries skipped, the signing key listed again and
     * a duplicate retired key dropped, a public-only PEM accepted as retired. */
    snprintf(list, sizeof list, " , %s ,,%s,  %s , %s,%s, ", r1, r2, s, pub, r1);
    ring = load_ok(s, list);
    jwks = cJSON_Parse(crypto_keyring_jwks(ring));
    cr_assert_not_null(jwks);
    keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys");
    cr_assert_eq(cJSON_GetArraySize(keys), 4);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(keys, 0), "kid")->valuestring,
                     crypto_keyring_kid(ring));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(keys, 3), "kid")->valuestring,
                     FIXED_KID);
    cJSON_Delete(jwks);
    crypto_keyring_free(ring);

    ring = load_ok(s, " , ,");
    cr_assert_eq(strstr(crypto_keyring_jwks(ring), "},{"), NULL, "one key only");
    crypto_keyring_free(ring);
}

/* Asserts a load failure with LICD_ERR_CONFIG and a message naming the file
 * and containing want. */
static void expect_load_error(const char *signing, const char *retired, const char *name,
                              const char *want)
{
    crypto_keyring *ring = (crypto_keyring *)1;
    char err[512] = "";

    cr_assert_eq(crypto_keyring_load(signing, retired, &ring, err, sizeof err), LICD_ERR_CONFIG,
                 "loaded %s", name);
    cr_assert_null(ring);
    cr_assert_not_null(strstr(err, name), "message does not name %s: %s", name, err);
    cr_assert_not_null(strstr(err, want), "message lacks \"%s\": %s", want, err);
}

Test(keys, load_errors)
{
    char good[256], missing[256], rsa[256], p384[256], garbage[256], empty[256], pub[256],
        enc[256], list[600];
    EVP_PKEY *pkey;
    FILE *fp;

    new_key(good, sizeof good, "good.pem");
    tpath(missing, sizeof missing, "missing.pem");
    expect_load_error(missing, NULL, missing, "No such file");

    pkey = EVP_RSA_gen(2048);
    write_pkey(rsa, sizeof rsa, "rsa.pem", pkey);
    EVP_PKEY_free(pkey);
    expect_load_error(rsa, NULL, rsa, "RSA");

    pkey = EVP_EC_gen("P-384");
    write_pkey(p384, sizeof p384, "p384.pem", pkey);
    EVP_PKEY_free(pkey);
    expect_load_error(p384, NULL, p384, "secp384r1");

    tpath(garbage, sizeof garbage, "garbage.pem");
    write_file(garbage, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
    expect_load_error(garbage, NULL, garbage, "not a PEM");
    write_file(garbage, "hello\n");
    expect_load_error(garbage, NULL, garbage, "not a PEM");
    tpath(empty, sizeof empty, "empty.pem");
    write_file(empty, "");
    expect_load_error(empty, NULL, empty, "not a PEM");
    expect_load_error(tmpdir, NULL, tmpdir, "cannot read");

    /* A public key cannot sign. */
    tpath(pub, sizeof pub, "pub.pem");
    write_file(pub, FIXED_PUB);
    expect_load_error(pub, NULL, pub, "private key");

    /* An encrypted key is refused without prompting for a passphrase. */
    pkey = read_pkey(good);
    tpath(enc, sizeof enc, "enc.pem");
    fp = fopen(enc, "w");
    cr_assert_not_null(fp);
    cr_assert(PEM_write_PrivateKey(fp, pkey, EVP_aes_256_cbc(), (unsigned char *)"secret", 6, NULL,
                                   NULL));
    fclose(fp);
    EVP_PKEY_free(pkey);
    expect_load_error(enc, NULL, enc, "not a PEM");

    /* A bad retired key fails the whole load, naming that file. */
    snprintf(list, sizeof list, "%s,%s", good, rsa);
    expect_load_error(good, list, rsa, "retired key");
    snprintf(list, sizeof list, "%s, %s", good, missing);
    expect_load_error(good, list, missing, "retired key");

    char err[64] = "";
    crypto_keyring *ring = NULL;
    cr_assert_eq(crypto_keyring_load(NULL, NULL, &ring, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_eq(crypto_keyring_load("", NULL, &ring, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_null(ring);
    cr_assert_neq(err[0], '\0');
}

/* ---- jwt.c ---- */

Test(jwt, sign_verify_round_trip)
{
    struct one_key k;
    const char *claims_json =
        "{\"iss\":\"licd\",\"sub\":\"alice\",\"n\":42,\"f\":1.5,\"ok\":true,\"nil\":null,"
        "\"feat\":[\"a\",\"b\"],\"obj\":{\"x\":[1,{\"y\":\"\\u00e9\\\"\"}]},\"exp\":4102444800}";
    cJSON *in, *out = NULL, *header;
    char *token;

    one_key_init(&k, "sign.pem");
    token = sign_json(k.ring, claims_json);
    cr_assert_eq(crypto_jwt_verify(k.ring, token, time(NULL), &out), LICD_OK);
    in = cJSON_Parse(claims_json);
    cr_assert(cJSON_Compare(in, out, 1), "claims changed");

    header = token_part(token, 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(header, "alg")->valuestring, "ES256");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(header, "typ")->valuestring, "JWT");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(header, "kid")->valuestring,
                     crypto_keyring_kid(k.ring));
    cr_assert_eq(strlen(strrchr(token, '.') + 1), 86, "64-byte raw signature");

    cJSON_Delete(header);
    cJSON_Delete(in);
    cJSON_Delete(out);
    free(token);
    crypto_keyring_free(k.ring);
}

/* licd_cache_lookups_total{cache="verified_tokens",result} from /metrics. */
static long long verified_lookups(const char *result)
{
    size_t len;
    char *text = metrics_render(&len), err[256] = "";
    const char *labels[] = {"cache", "verified_tokens", "result", result, NULL};
    double n = 0;
    expo *e = text ? expo_parse(text, err, sizeof err) : NULL;
    cr_assert(e, "/metrics: %s", err);
    expo_value(e, "licd_cache_lookups_total", labels, &n);
    expo_free(e);
    free(text);
    return (long long)n;
}

/* A token signed here and remembered, or verified once, skips the
 * signature check when presented again (a hit); any other token, one
 * tampered with included, is checked (a miss) and refused when bad; the
 * claims and exp are read as before; another ring of the same key
 * remembers nothing of this one's. */
Test(jwt, remembered_tokens_skip_the_signature_check)
{
    struct one_key k;
    crypto_keyring *same;
    char *token, *seen, *bad;
    cJSON *out = NULL;
    long long hits, misses;

    one_key_init(&k, "sign.pem");
    same = load_ok(k.path, NULL);
    token = sign_json(k.ring, "{\"sub\":\"alice\",\"exp\":4102444800}");
    seen = sign_json(k.ring, "{\"sub\":\"bob\",\"exp\":1}");
    crypto_jwt_remember(k.ring, token);

    hits = verified_lookups("hit");
    misses = verified_lookups("miss");
    expect_valid(k.ring, token, "remembered");
    cr_assert_eq(verified_lookups("hit"), hits + 1, "a remembered token is not checked again");
    cr_assert_eq(crypto_jwt_verify(k.ring, seen, time(NULL), &out), LICD_ERR_TOKEN_EXPIRED);
    cJSON_Delete(out);
    cr_assert_eq(verified_lookups("miss"), misses + 1, "a new token is checked");
    cr_assert_eq(crypto_jwt_verify(k.ring, seen, time(NULL), &out), LICD_ERR_TOKEN_EXPIRED,
                 "remembered, its exp still counts");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(out, "sub")->valuestring, "bob");
    cJSON_Delete(out);
    cr_assert_eq(verified_lookups("hit"), hits + 2);

    /* One character of the remembered token's signature changed. */
    bad = strdup(token);
    char *last = bad + strlen(bad) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    expect_invalid(k.ring, bad, "a changed copy of a remembered token");
    expect_invalid(k.ring, bad, "and again");
    hits = verified_lookups("hit");
    misses = verified_lookups("miss");
    expect_valid(same, token, "the same key in another ring");
    cr_assert_eq(verified_lookups("hit"), hits, "another ring shares no memory");
    cr_assert_eq(verified_lookups("miss"), misses + 1);
    crypto_jwt_remember(NULL, token);

    free(bad);
    free(seen);
    free(token);
    crypto_keyring_free(same);
    crypto_keyring_free(k.ring);
}

Test(jwt, by_signing_key_tells_a_rotation)
{
    struct one_key a, b;
    crypto_keyring *rotated;
    char *token;

    one_key_init(&a, "first.pem");
    one_key_init(&b, "second.pem");
    token = sign_json(a.ring, "{\"sub\":\"x\"}");
    cr_assert(crypto_jwt_by_signing_key(a.ring, token));
    cr_assert_not(crypto_jwt_by_signing_key(b.ring, token));
    /* after a rotation the old key verifies but no longer signs */
    rotated = load_ok(b.path, a.path);
    expect_valid(rotated, token, "signed by the retired key");
    cr_assert_not(crypto_jwt_by_signing_key(rotated, token));
    cr_assert_not(crypto_jwt_by_signing_key(a.ring, "x"));
    cr_assert_not(crypto_jwt_by_signing_key(a.ring, NULL));
    free(token);
    crypto_keyring_free(rotated);
    crypto_keyring_free(a.ring);
    crypto_keyring_free(b.ring);
}

/* A thread keeps its signing context for the key it last used: signing
 * with one ring, another, the first again, then another ring of the second
 * key (the first ring freed by then) gives tokens whose signatures each
 * check under a fresh ring of their own key (a context kept for the wrong
 * key would sign with it under the right kid). */
Test(jwt, one_thread_signing_with_several_keys_in_turn)
{
    struct one_key a, b;
    crypto_keyring *checks[2], *again;
    char *tokens[4];

    one_key_init(&a, "first.pem");
    one_key_init(&b, "second.pem");
    checks[0] = load_ok(a.path, NULL);
    checks[1] = load_ok(b.path, NULL);
    tokens[0] = sign_json(a.ring, "{\"sub\":\"a1\"}");
    tokens[1] = sign_json(b.ring, "{\"sub\":\"b1\"}");
    tokens[2] = sign_json(a.ring, "{\"sub\":\"a2\"}");
    crypto_keyring_free(a.ring);
    again = load_ok(b.path, NULL);
    tokens[3] = sign_json(again, "{\"sub\":\"b2\"}");
    expect_valid(checks[0], tokens[0], "first key");
    expect_valid(checks[1], tokens[1], "second key");
    expect_valid(checks[0], tokens[2], "first key again");
    expect_valid(checks[1], tokens[3], "second key, another ring");
    expect_invalid(checks[1], tokens[0], "the first key's token under the second");
    for (int i = 0; i < 4; i++)
        free(tokens[i]);
    crypto_keyring_free(again);
    crypto_keyring_free(checks[0]);
    crypto_keyring_free(checks[1]);
    crypto_keyring_free(b.ring);
}

Test(jwt, sign_refuses_bad_arguments)
{
    struct one_key k;
    char *token = (char *)1, *big;
    cJSON *arr = cJSON_CreateArray(), *obj = cJSON_CreateObject();

    one_key_init(&k, "sign.pem");
    cr_assert_neq(crypto_jwt_sign(k.ring, arr, &token), LICD_OK);
    cr_assert_null(token);

    /* A token longer than verify accepts is never produced. */
    big = malloc(CRYPTO_JWT_MAX_LEN);
    memset(big, 'a', CRYPTO_JWT_MAX_LEN - 1);
    big[CRYPTO_JWT_MAX_LEN - 1] = '\0';
    cJSON_AddStringToObject(obj, "big", big);
    token = (char *)1;
    cr_assert_eq(crypto_jwt_sign(k.ring, obj, &token), LICD_ERR_INTERNAL);
    cr_assert_null(token);

    free(big);
    cJSON_Delete(obj);
    cJSON_Delete(arr);
    crypto_keyring_free(k.ring);
}

Test(jwt, libjwt_decodes_service_token)
{
    struct one_key k;
    jwt_t *jwt = NULL;
    char *token, *pub;

    one_key_init(&k, "sign.pem");
    pub = public_pem(k.path);
    token = sign_json(k.ring, "{\"sub\":\"bob\",\"lid\":\"L-1\",\"exp\":4102444800}");
    cr_assert_eq(jwt_decode(&jwt, token, (unsigned char *)pub, (int)strlen(pub)), 0);
    cr_assert_eq(jwt_get_alg(jwt), JWT_ALG_ES256);
    cr_assert_str_eq(jwt_get_grant(jwt, "lid"), "L-1");
    cr_assert_str_eq(jwt_get_header(jwt, "kid"), crypto_keyring_kid(k.ring));
    jwt_free(jwt);

    /* And libjwt refuses it once tampered: the check is real. */
    char *dot = strrchr(token, '.');
    dot[1] = dot[1] == 'A' ? 'B' : 'A';
    jwt = NULL;
    cr_assert_neq(jwt_decode(&jwt, token, (unsigned char *)pub, (int)strlen(pub)), 0);
    jwt_free(jwt);

    free(token);
    free(pub);
    crypto_keyring_free(k.ring);
}

/* libjwt (its own DER/raw conversion) signs, licd verifies. */
static char *libjwt_sign(jwt_alg_t alg, const char *key, const char *kid, const char *sub)
{
    jwt_t *jwt = NULL;
    char *token;

    cr_assert_eq(jwt_new(&jwt), 0);
    cr_assert_eq(jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)strlen(key)), 0);
    if (kid)
        cr_assert_eq(jwt_add_header(jwt, "kid", kid), 0);
    cr_assert_eq(jwt_add_grant(jwt, "sub", sub), 0);
    cr_assert_eq(jwt_add_grant_int(jwt, "exp", 4102444800L), 0);
    token = jwt_encode_str(jwt);
    cr_assert_not_null(token);
    jwt_free(jwt);
    return token;
}

Test(jwt, libjwt_signed_token_verifies)
{
    struct one_key k;
    char *priv, *token;
    cJSON *claims = NULL;

    one_key_init(&k, "sign.pem");
    priv = read_text(k.path);
    token = libjwt_sign(JWT_ALG_ES256, priv, crypto_keyring_kid(k.ring), "carol");
    cr_assert_eq(crypto_jwt_verify(k.ring, token, time(NULL), &claims), LICD_OK);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(claims, "sub")->valuestring, "carol");
    cJSON_Delete(claims);
    free(token);

    /* Without a kid header licd refuses even a good signature. */
    token = libjwt_sign(JWT_ALG_ES256, priv, NULL, "carol");
    expect_invalid(k.ring, token, "libjwt token without kid");
    free(token);
    free(priv);
    crypto_keyring_free(k.ring);
}

/* Signatures whose r or s has a leading zero byte exercise the padding in both
 * directions of the DER <-> r||s conversion; libjwt checks licd's output. */
Test(jwt, short_r_or_s_round_trip)
{
    struct one_key k;
    char *pub;
    int found = 0;

    one_key_init(&k, "sign.pem");
    pub = public_pem(k.path);
    for (int i = 0; i < 3000 && found < 2; i++) {
        char *token = sign_json(k.ring, "{\"sub\":\"pad\"}");
        const char *sig = strrchr(token, '.') + 1;
        size_t n;
        uint8_t *raw = b64url_decode(sig, strlen(sig), &n);
        cr_assert_eq(n, 64);
        expect_valid(k.ring, token, "own token");
        if (raw[0] == 0 || raw[32] == 0) {
            jwt_t *jwt = NULL;
            found++;
            cr_assert_eq(jwt_decode(&jwt, token, (unsigned char *)pub, (int)strlen(pub)), 0,
                         "libjwt refused a short r/s: %s", token);
            jwt_free(jwt);
        }
        free(raw);
        free(token);
    }
    cr_assert_gt(found, 0, "no signature with a short r or s in 3000 tries");
    free(pub);
    crypto_keyring_free(k.ring);
}

Test(jwt, refuses_other_algorithms)
{
    struct one_key k;
    char *pub, *token, *h, *p, header[256];
    const char *kid;

    one_key_init(&k, "sign.pem");
    kid = crypto_keyring_kid(k.ring);
    pub = public_pem(k.path);
    p = b64("{\"sub\":\"mallory\",\"exp\":4102444800}");

    /* alg none, empty signature (with and without the known kid). */
    snprintf(header, sizeof header, "{\"alg\":\"none\",\"kid\":\"%s\"}", kid);
    h = b64(header);
    token = join3(h, p, "");
    expect_invalid(k.ring, token, "alg none");
    free(token);
    free(h);
    h = b64("{\"alg\":\"none\"}");
    token = join3(h, p, "");
    expect_invalid(k.ring, token, "alg none without kid");
    free(token);
    free(h);

    /* HS256 MACed with the public key PEM as the secret (algorithm confusion). */
    token = libjwt_sign(JWT_ALG_HS256, pub, kid, "mallory");
    expect_invalid(k.ring, token, "HS256 with the public key as secret");
    free(token);

    /* Correctly ES256-signed, but the header names another algorithm. */
    static const char *const algs[] = {"RS256", "HS256", "es256", "ES384", "ES256 ", "none", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\"}", algs[i], kid);
        token = sign_raw(k.path, header, "{\"sub\":\"x\"}");
        expect_invalid(k.ring, token, algs[i]);
        free(token);
    }

    free(p);
    free(pub);
    crypto_keyring_free(k.ring);
}

Test(jwt, refuses_bad_headers_even_when_signed)
{
    struct one_key k, other;
    char header[512], *token;
    const char *kid;
    struct {
        const char *tmpl; /* %s: the kid */
        const char *why;
    } cases[] = {
        {"{\"alg\":\"ES256\"}", "missing kid"},
        {"{\"alg\":\"ES256\",\"kid\":null}", "null kid"},
        {"{\"alg\":\"ES256\",\"kid\":42}", "numeric kid"},
        {"{\"alg\":\"ES256\",\"kid\":[\"%s\"]}", "kid in an array"},
        {"{\"alg\":\"ES256\",\"kid\":\"%sx\"}", "kid with a suffix"},
        {"{\"alg\":\"ES256\",\"KID\":\"%s\"}", "KID upper-case"},
        {"{\"ALG\":\"ES256\",\"kid\":\"%s\"}", "ALG upper-case"},
        {"{\"kid\":\"%s\"}", "missing alg"},
        {"{\"alg\":null,\"kid\":\"%s\"}", "null alg"},
        {"{\"alg\":[\"ES256\"],\"kid\":\"%s\"}", "alg in an array"},
        {"{\"alg\":\"ES256\",\"alg\":\"ES256\",\"kid\":\"%s\"}", "duplicate alg"},
        {"{\"alg\":\"ES256\",\"kid\":\"%s\",\"kid\":\"%s\"}", "duplicate kid"},
        {"{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[\"exp\"],\"exp\":1}", "crit header"},
        {"{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[]}", "empty crit header"},
        {"{\"alg\":\"ES256\",\"kid\":\"%s\"} x", "trailing garbage"},
        {"{\"alg\":\"ES256\",\"kid\":\"%s\"", "unterminated"},
        {"[\"ES256\",\"%s\"]", "array header"},
        {"\"ES256\"", "string header"},
        {"", "empty header"},
    };

    one_key_init(&k, "sign.pem");
    kid = crypto_keyring_kid(k.ring);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(test_fill(header, sizeof header, cases[i].tmpl, kid), 0);
        token = sign_raw(k.path, header, "{\"sub\":\"x\"}");
        expect_invalid(k.ring, token, cases[i].why);
        free(token);
    }

    /* Extra whitespace and members are fine when alg and kid are right. */
    snprintf(header, sizeof header, " {\"typ\":\"JWT\", \"alg\":\"ES256\",\"kid\":\"%s\",\"x5u\":1}\n",
             kid);
    token = sign_raw(k.path, header, "{\"sub\":\"x\"}");
    expect_valid(k.ring, token, "whitespace and extra members");
    free(token);

    /* A NUL byte inside the header JSON. */
    {
        char raw[256];
        int n = snprintf(raw, sizeof raw, "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
        raw[n] = '\0';
        char *h = b64url_encode(raw, (size_t)n + 1), *p = b64("{}");
        token = join3(h, p, "AAAA");
        expect_invalid(k.ring, token, "NUL in header");
        free(token);
        free(p);
        free(h);
    }

    /* Unknown kid: a token of another ring. */
    one_key_init(&other, "other.pem");
    token = sign_json(other.ring, "{\"sub\":\"x\"}");
    expect_invalid(k.ring, token, "unknown kid");
    free(token);
    crypto_keyring_free(other.ring);

    /* The right kid with another key's signature. */
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
    token = sign_raw(other.path, header, "{\"sub\":\"x\"}");
    expect_invalid(k.ring, token, "kid of one key, signature of another");
    free(token);

    crypto_keyring_free(k.ring);
}

Test(jwt, refuses_bad_payloads_even_when_signed)
{
    struct one_key k;
    char header[256], *token;
    static const char *const payloads[] = {
        "[1,2]", "\"sub\"", "42", "null", "", "{\"sub\":\"x\"} {}", "{\"sub\":", "{\"exp\":\"4102444800\"}",
        "{\"nbf\":\"0\"}", "{\"exp\":null}",
    };

    one_key_init(&k, "sign.pem");
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\"}", crypto_keyring_kid(k.ring));
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        token = sign_raw(k.path, header, payloads[i]);
        expect_invalid(k.ring, token, payloads[i]);
        free(token);
    }
    token = sign_raw(k.path, header, "{}");
    expect_valid(k.ring, token, "empty object");
    free(token);
    crypto_keyring_free(k.ring);
}

Test(jwt, refuses_malformed_and_tampered)
{
    struct one_key k;
    char *token, *bad, *dot1, *dot2;
    cJSON *payload;

    one_key_init(&k, "sign.pem");
    token = sign_json(k.ring, "{\"sub\":\"alice\",\"lst\":\"limited\",\"exp\":4102444800}");
    expect_valid(k.ring, token, "untouched");
    dot1 = strchr(token, '.');
    dot2 = strchr(dot1 + 1, '.');

    /* Tampered payload: one claim changed, signature kept. */
    payload = token_part(token, 1);
    cJSON_ReplaceItemInObjectCaseSensitive(payload, "lst", cJSON_CreateString("valid"));
    char *pj = cJSON_PrintUnformatted(payload), *p64 = b64(pj);
    *dot1 = '\0';
    bad = join3(token, p64, dot2 + 1);
    *dot1 = '.';
    expect_invalid(k.ring, bad, "tampered payload");
    free(bad);
    free(p64);
    cJSON_free(pj);
    cJSON_Delete(payload);

    /* Truncated, lengthened and padded signatures. */
    size_t len = strlen(token);
    bad = strdup(token);
    bad[len - 1] = '\0';
    expect_invalid(k.ring, bad, "signature minus one char");
    bad[len - 2] = '\0';
    expect_invalid(k.ring, bad, "signature of 63 bytes");
    free(bad);
    bad = malloc(len + 8);
    snprintf(bad, len + 8, "%sAA", token);
    expect_invalid(k.ring, bad, "signature of 65 bytes");
    snprintf(bad, len + 8, "%s==", token);
    expect_invalid(k.ring, bad, "padded signature");

    /* Segment counts. */
    snprintf(bad, len + 8, "%s.", token);
    expect_invalid(k.ring, bad, "4 segments, empty last");
    snprintf(bad, len + 8, "%s.AAAA", token);
    expect_invalid(k.ring, bad, "4 segments");
    memcpy(bad, token, (size_t)(dot2 - token));
    bad[dot2 - token] = '\0';
    expect_invalid(k.ring, bad, "2 segments");
    free(bad);

    static const char *const junk[] = {
        "",     ".",      "..",     "...",     "a.b",   "a..c",     ".b.c",    "a.b.",
        "!!!.!!!.!!!", "eyJ.eyJ.AAAA", "x", "\xff\xfe.\x80.\x01", "e30.e30.e30",
        "eyJhbGciOiJFUzI1NiJ9.e30.", /* {"alg":"ES256"} */
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        expect_invalid(k.ring, junk[i], junk[i]);

    /* NULL arguments. */
    cJSON *claims = (cJSON *)1;
    cr_assert_eq(crypto_jwt_verify(k.ring, NULL, time(NULL), &claims), LICD_ERR_TOKEN_INVALID);
    cr_assert_null(claims);
    cr_assert_eq(crypto_jwt_verify(k.ring, token, time(NULL), NULL), LICD_ERR_TOKEN_INVALID);

    /* Huge inputs: not a token, and a real token padded past the limit. */
    size_t huge = 4 * 1024 * 1024;
    bad = malloc(huge + 1);
    memset(bad, 'A', huge);
    bad[huge] = '\0';
    expect_invalid(k.ring, bad, "4 MiB of A");
    bad[1000] = bad[2000] = '.';
    expect_invalid(k.ring, bad, "4 MiB in three parts");
    free(bad);

    free(token);
    crypto_keyring_free(k.ring);
}

/* Every one-character change and every truncation of a good token is refused,
 * and random strings never crash the verifier. */
Test(jwt, mutations_and_random_input)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x01\xff";
    struct one_key k;
    char *token, *bad;
    size_t len;
    uint32_t x = 2463534242u;

    one_key_init(&k, "sign.pem");
    token = sign_json(k.ring, "{\"sub\":\"alice\",\"exp\":4102444800}");
    len = strlen(token);
    bad = strdup(token);
    for (size_t i = 0; i < len; i++) {
        for (const char *c = "A_.-0="; *c; c++) {
            if (token[i] == *c)
                continue;
            bad[i] = *c;
            expect_invalid(k.ring, bad, "one character changed");
        }
        bad[i] = token[i];
    }
    for (size_t i = 0; i < len; i++) {
        bad[i] = '\0';
        expect_invalid(k.ring, bad, "truncated");
        bad[i] = token[i];
    }
    free(bad);

    bad = malloc(600);
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(round % 599);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bad[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        bad[n] = '\0';
        /* Half the time start from a real header so the later checks run too. */
        if (round % 2 && n > len)
            memcpy(bad, token, (size_t)(strchr(token, '.') - token) + 1);
        expect_invalid(k.ring, bad, "random");
    }
    free(bad);
    free(token);
    crypto_keyring_free(k.ring);
}

Test(jwt, exp_and_nbf)
{
    struct one_key k;
    char json[256], *token;
    cJSON *claims = NULL;
    time_t now = time(NULL);

    one_key_init(&k, "sign.pem");

    snprintf(json, sizeof json, "{\"sub\":\"old\",\"exp\":%lld}", (long long)now - 1);
    token = sign_json(k.ring, json);
    cr_assert_eq(crypto_jwt_verify(k.ring, token, now, &claims), LICD_ERR_TOKEN_EXPIRED);
    cr_assert_not_null(claims, "expired token must hand back its claims");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(claims, "sub")->valuestring, "old");
    cJSON_Delete(claims);
    claims = NULL;
    /* exp == now is expired; exp > now is not. */
    cr_assert_eq(crypto_jwt_verify(k.ring, token, now - 1, &claims), LICD_ERR_TOKEN_EXPIRED);
    cJSON_Delete(claims);
    claims = NULL;
    cr_assert_eq(crypto_jwt_verify(k.ring, token, now - 2, &claims), LICD_OK);
    cJSON_Delete(claims);
    claims = NULL;
    free(token);

    snprintf(json, sizeof json, "{\"sub\":\"early\",\"nbf\":%lld}", (long long)now + 60);
    token = sign_json(k.ring, json);
    claims = (cJSON *)1;
    cr_assert_eq(crypto_jwt_verify(k.ring, token, now, &claims), LICD_ERR_TOKEN_INVALID);
    cr_assert_null(claims);
    cr_assert_eq(crypto_jwt_verify(k.ring, token, now + 60, &claims), LICD_OK, "nbf == now");
    cJSON_Delete(claims);
    claims = NULL;
    free(token);

    /* Not yet valid wins over expired; no exp at all never expires. */
    snprintf(json, sizeof json, "{\"nbf\":%lld,\"exp\":%lld}", (long long)now + 60,
             (long long)now - 60);
    token = sign_json(k.ring, json);
    cr_assert_eq(crypto_jwt_verify(k.ring, token, now, &claims), LICD_ERR_TOKEN_INVALID);
    cr_assert_null(claims);
    free(token);
    token = sign_json(k.ring, "{\"sub\":\"forever\"}");
    cr_assert_eq(crypto_jwt_verify(k.ring, token, (time_t)4102444800, &claims), LICD_OK);
    cJSON_Delete(claims);
    free(token);

    crypto_keyring_free(k.ring);
}

Test(jwt, retired_key_still_verifies)
{
    char pa[256], pb[256];
    crypto_keyring *a, *b;
    char *ta, *tb;
    cJSON *jwks, *keys, *header;

    new_key(pa, sizeof pa, "a.pem");
    new_key(pb, sizeof pb, "b.pem");
    a = load_ok(pa, NULL);
    b = load_ok(pb, pa);

    ta = sign_json(a, "{\"sub\":\"from-a\"}");
    tb = sign_json(b, "{\"sub\":\"from-b\"}");
    expect_valid(b, ta, "A's token with A retired in B");
    expect_valid(b, tb, "B's own token");
    expect_invalid(a, tb, "B's token in A");

    /* B signs with its new key, never the retired one. */
    header = token_part(tb, 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(header, "kid")->valuestring,
                     crypto_keyring_kid(b));
    cr_assert_str_neq(crypto_keyring_kid(a), crypto_keyring_kid(b));

    jwks = cJSON_Parse(crypto_keyring_jwks(b));
    keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys");
    cr_assert_eq(cJSON_GetArraySize(keys), 2);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(keys, 0), "kid")->valuestring,
                     crypto_keyring_kid(b));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(keys, 1), "kid")->valuestring,
                     crypto_keyring_kid(a));
    for (int i = 0; i < 2; i++) {
        cJSON *key = cJSON_GetArrayItem(keys, i);
        static const char *const names[] = {"kty", "crv", "x", "y", "kid", "use", "alg"};
        cJSON *m = key->child;
        for (size_t j = 0; j < 7; j++, m = m->next) {
            cr_assert_not_null(m);
            cr_assert_str_eq(m->string, names[j]);
        }
        cr_assert_null(m);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(key, "alg")->valuestring, "ES256");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(key, "use")->valuestring, "sig");
    }

    cJSON_Delete(jwks);
    cJSON_Delete(header);
    free(tb);
    free(ta);
    crypto_keyring_free(b);
    crypto_keyring_free(a);
}

struct thread_arg {
    const crypto_keyring *ring;
    int failures;
};

static void *sign_verify_loop(void *p)
{
    struct thread_arg *arg = p;
    cJSON *claims = cJSON_CreateObject();

    cJSON_AddStringToObject(claims, "sub", "thread");
    for (int i = 0; i < 200; i++) {
        char *token = NULL;
        cJSON *out = NULL;
        if (crypto_jwt_sign(arg->ring, claims, &token) != LICD_OK
            || crypto_jwt_verify(arg->ring, token, time(NULL), &out) != LICD_OK)
            arg->failures++;
        cJSON_Delete(out);
        free(token);
    }
    cJSON_Delete(claims);
    return NULL;
}

Test(jwt, concurrent_sign_and_verify)
{
    struct one_key k;
    pthread_t t[4];
    struct thread_arg args[4];

    one_key_init(&k, "sign.pem");
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){k.ring, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, sign_verify_loop, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(args[i].failures, 0);
    }
    crypto_keyring_free(k.ring);
}

/* ---- sealing (crypto/seal.h) ---- */

/* The sealing key of a fresh signing key (the ring is returned to free). */
static crypto_keyring *seal_ring(const char *name, unsigned char key[CRYPTO_SEAL_KEY_LEN])
{
    char path[128];
    crypto_keyring *ring;
    new_key(path, sizeof path, name);
    ring = load_ok(path, NULL);
    cr_assert_eq(crypto_seal_key(crypto_keyring_signing_key(ring), "test v1", key), LICD_OK);
    return ring;
}

Test(seal, round_trip_bound_to_its_key_and_aad)
{
    unsigned char k1[CRYPTO_SEAL_KEY_LEN], k1b[CRYPTO_SEAL_KEY_LEN], k2[CRYPTO_SEAL_KEY_LEN],
        other[CRYPTO_SEAL_KEY_LEN], *sealed = NULL, *sealed2 = NULL;
    static const char secret[] = "{\"customer_key\":\"lc_0123456789abcdef\"}";
    crypto_keyring *r1 = seal_ring("a.pem", k1), *r2 = seal_ring("b.pem", k2);
    size_t n = 0, n2 = 0, len = 0;
    char *plain = NULL;

    /* The same key and purpose derive the same sealing key; another purpose or key, another. */
    cr_assert_eq(crypto_seal_key(crypto_keyring_signing_key(r1), "test v1", k1b), LICD_OK);
    cr_assert_eq(memcmp(k1, k1b, sizeof k1), 0);
    cr_assert_eq(crypto_seal_key(crypto_keyring_signing_key(r1), "test v2", other), LICD_OK);
    cr_assert_neq(memcmp(k1, other, sizeof k1), 0);
    cr_assert_neq(memcmp(k1, k2, sizeof k1), 0);

    cr_assert_eq(crypto_seal(k1, "scope\nkey", 9, secret, strlen(secret), &sealed, &n), LICD_OK);
    cr_assert_eq(n, strlen(secret) + CRYPTO_SEAL_OVERHEAD);
    cr_assert_null(memmem(sealed, n, "lc_0123", 7), "the secret is in clear");
    /* A random nonce: sealing twice gives two texts. */
    cr_assert_eq(crypto_seal(k1, "scope\nkey", 9, secret, strlen(secret), &sealed2, &n2), LICD_OK);
    cr_assert_neq(memcmp(sealed, sealed2, n), 0);
    free(sealed2);

    cr_assert_eq(crypto_open(k1, "scope\nkey", 9, sealed, n, &plain, &len), LICD_OK);
    cr_assert_eq(len, strlen(secret));
    cr_assert_str_eq(plain, secret);
    free(plain);
    /* Another key, another aad, a flipped bit, a short text: refused. */
    cr_assert_eq(crypto_open(k2, "scope\nkey", 9, sealed, n, &plain, &len), LICD_ERR_TOKEN_INVALID);
    cr_assert_eq(crypto_open(k1, "scope\nkeY", 9, sealed, n, &plain, &len), LICD_ERR_TOKEN_INVALID);
    sealed[3] ^= 1;
    cr_assert_eq(crypto_open(k1, "scope\nkey", 9, sealed, n, &plain, &len), LICD_ERR_TOKEN_INVALID);
    sealed[3] ^= 1;
    sealed[n - 1] ^= 0x80;
    cr_assert_eq(crypto_open(k1, "scope\nkey", 9, sealed, n, &plain, &len), LICD_ERR_TOKEN_INVALID);
    cr_assert_eq(crypto_open(k1, "scope\nkey", 9, sealed, 27, &plain, &len), LICD_ERR_TOKEN_INVALID);
    cr_assert_null(plain);
    free(sealed);

    /* An empty text seals and opens too (a 204's empty body). */
    cr_assert_eq(crypto_seal(k1, NULL, 0, "", 0, &sealed, &n), LICD_OK);
    cr_assert_eq(n, CRYPTO_SEAL_OVERHEAD);
    cr_assert_eq(crypto_open(k1, NULL, 0, sealed, n, &plain, &len), LICD_OK);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(plain, "");
    free(plain);
    free(sealed);
    crypto_keyring_free(r1);
    crypto_keyring_free(r2);
}
