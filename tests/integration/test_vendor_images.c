/* POST /v1/client-images against the real licd and PostgreSQL: base64 in
 * JSON up to 64 MiB decoded, stored with its SHA-256, replaced by a new
 * upload, audited; bad base64 and oversize images store nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "harness.h"

#define MIB (1024u * 1024u)

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard padded base64 of data (caller frees). */
static char *b64(const unsigned char *data, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;
    cr_assert(out);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0) |
                     (i + 2 < len ? data[i + 2] : 0);
        *p++ = b64chars[v >> 18 & 63];
        *p++ = b64chars[v >> 12 & 63];
        *p++ = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
        *p++ = i + 2 < len ? b64chars[v & 63] : '=';
    }
    *p = '\0';
    return out;
}

/* The upload body for image text b64text (caller frees). */
static char *upload_body(const char *software_id, const char *platform, const char *b64text)
{
    size_t n = strlen(b64text) + 256;
    char *body = malloc(n);
    cr_assert(body);
    snprintf(body, n, "{\"software_id\":\"%s\",\"platform\":\"%s\",\"image_b64\":\"%s\"}",
             software_id, platform, b64text);
    return body;
}

static void upload(const char *key, const char *software_id, const char *platform,
                   const unsigned char *data, size_t len, it_response *r)
{
    char *text = b64(data, len), *body = upload_body(software_id, platform, text);
    free(text);
    it_json("POST", "/v1/client-images", key, body, r);
    free(body);
}

static void hex_sha256(const unsigned char *data, size_t len, char out[65])
{
    uint8_t d[CRYPTO_SHA256_LEN];
    crypto_sha256(data, len, d);
    crypto_hex(d, sizeof d, out);
}

/* What the database holds for the vendor's software_id: "<size>|<sha256 of
 * the stored bytes>|<stored sha256>", or "" when nothing (caller frees). */
static char *stored(const char *key, const char *software_id)
{
    it_response r;
    char sql[512], *out;
    it_json("GET", "/v1/vendor", key, NULL, &r);
    snprintf(sql, sizeof sql,
             "SELECT length(image) || '|' || encode(sha256(image), 'hex') || '|' ||"
             " encode(sha256, 'hex') FROM client_images WHERE vendor_id = '%s'"
             " AND software_id = '%s'",
             it_str(&r, "vendor_id"), software_id);
    it_response_free(&r);
    cr_assert_eq(it_sql(sql, &out), 0);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static void assert_stored(const char *key, const char *software_id, size_t len,
                          const char *sha)
{
    char *got = stored(key, software_id), want[192];
    snprintf(want, sizeof want, "%zu|%s|%s", len, sha, sha);
    cr_assert_str_eq(got, want);
    free(got);
}

static int audit_uploads(const char *key)
{
    it_response r;
    const cJSON *e;
    int n = 0;
    it_json("GET", "/v1/audit?limit=500", key, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(r.json, "items"))
        n += strcmp(cJSON_GetObjectItem(e, "action")->valuestring, "upload") == 0;
    it_response_free(&r);
    return n;
}

Test(client_images, upload_then_replace)
{
    char *key = it_new_vendor("Image Vendor"), sha[65], rid[128];
    unsigned char small[1000], other[7];
    const cJSON *e;
    it_response r;

    for (size_t i = 0; i < sizeof small; i++)
        small[i] = (unsigned char)(i * 7 + 3);
    hex_sha256(small, sizeof small, sha);
    upload(key, "app-win-1.0", "windows", small, sizeof small, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(cJSON_GetObjectItem(r.json, "software_id")->valuestring, "app-win-1.0");
    cr_assert_str_eq(it_str(&r, "platform"), "windows");
    cr_assert_eq(cJSON_GetObjectItem(r.json, "size")->valuedouble, sizeof small);
    cr_assert_str_eq(it_str(&r, "sha256"), sha);
    cr_assert(it_str(&r, "created_at"));
    snprintf(rid, sizeof rid, "%s", r.request_id);
    it_response_free(&r);
    assert_stored(key, "app-win-1.0", sizeof small, sha);

    /* Audited with the request id the answer carried. */
    it_json("GET", "/v1/audit", key, NULL, &r);
    e = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "items"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(e, "action")->valuestring, "upload", "%s", r.body);
    cr_assert_str_eq(cJSON_GetObjectItem(e, "object_type")->valuestring, "client_image");
    cr_assert_str_eq(cJSON_GetObjectItem(e, "object_id")->valuestring, "app-win-1.0");
    cr_assert_str_eq(cJSON_GetObjectItem(e, "request_id")->valuestring, rid);
    e = cJSON_GetObjectItem(e, "details");
    cr_assert_str_eq(cJSON_GetObjectItem(e, "sha256")->valuestring, sha);
    cr_assert_eq(cJSON_GetObjectItem(e, "size")->valueint, (int)sizeof small);
    it_response_free(&r);

    /* Every padding length decodes exactly. */
    memcpy(other, "abcdefg", 7);
    for (size_t len = 1; len <= 3; len++) {
        hex_sha256(other, len, sha);
        upload(key, "app-win-1.0", "non_windows", other, len, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        cr_assert_str_eq(it_str(&r, "sha256"), sha);
        cr_assert_str_eq(it_str(&r, "platform"), "non_windows");
        it_response_free(&r);
        assert_stored(key, "app-win-1.0", len, sha);
    }
    cr_assert_eq(audit_uploads(key), 4);
    free(key);
}

Test(client_images, images_over_the_default_body_limit_are_taken)
{
    char *key = it_new_vendor("Big Image Vendor"), sha[65];
    size_t len = 3 * MIB + 1;
    unsigned char *img = malloc(len);
    it_response r;
    cr_assert(img);
    cr_assert_eq(crypto_random(img, len), 0);
    hex_sha256(img, len, sha);
    upload(key, "big", "any", img, len, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(it_str(&r, "sha256"), sha);
    it_response_free(&r);
    assert_stored(key, "big", len, sha);
    free(img);
    free(key);
}

/* Base64 of n zero bytes without encoding them: "AAAA" groups, padded. */
static char *zeros_b64(size_t n)
{
    size_t groups = (n + 2) / 3, len = groups * 4;
    char *s = malloc(len + 1);
    cr_assert(s);
    memset(s, 'A', len);
    if (n % 3 == 1)
        memcpy(s + len - 2, "==", 2);
    else if (n % 3 == 2)
        s[len - 1] = '=';
    s[len] = '\0';
    return s;
}

Test(client_images, up_to_64_mib_and_not_a_byte_more, .timeout = 120)
{
    char *key = it_new_vendor("Huge Image Vendor"), *text, *body, *got;
    it_response r;

    text = zeros_b64(64 * MIB + 1);
    body = upload_body("huge", "any", text);
    free(text);
    it_json("POST", "/v1/client-images", key, body, &r);
    free(body);
    it_assert_problem(&r, 413, "body_too_large");
    it_response_free(&r);
    got = stored(key, "huge");
    cr_assert_str_eq(got, "", "nothing stored");
    free(got);

    text = zeros_b64(64 * MIB);
    body = upload_body("huge", "any", text);
    free(text);
    it_json("POST", "/v1/client-images", key, body, &r);
    free(body);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_eq(cJSON_GetObjectItem(r.json, "size")->valuedouble, 64.0 * MIB);
    it_response_free(&r);
    cr_assert_eq(audit_uploads(key), 1);
    free(key);
}

Test(client_images, bad_uploads_store_nothing)
{
    char *key = it_new_vendor("Bad Image Vendor"), *got;
    struct {
        const char *body, *code, *what;
    } cases[] = {
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aGVsbG8\"}", "invalid_field",
         "image_b64"}, /* no padding */
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aGVs*G8=\"}", "invalid_field",
         "image_b64"},
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aGVs bG8=\"}",
         "invalid_field", "image_b64"},
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aGVsbG8-\"}", "invalid_field",
         "image_b64"}, /* base64url is not standard base64 */
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aG=sbG8=\"}", "invalid_field",
         "image_b64"},
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aGVsbG9=\"}", "invalid_field",
         "image_b64"}, /* bits under the padding */
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"====\"}", "invalid_field",
         "image_b64"},
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"\"}", "invalid_field",
         "image_b64"},
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":42}", "invalid_field",
         "image_b64"},
        {"{\"software_id\":\"s\",\"platform\":\"any\"}", "invalid_field", "image_b64"},
        {"{\"platform\":\"any\",\"image_b64\":\"aGVsbG8=\"}", "invalid_field", "software_id"},
        {"{\"software_id\":\"\",\"platform\":\"any\",\"image_b64\":\"aGVsbG8=\"}", "invalid_field",
         "software_id"},
        {"{\"software_id\":\"s\",\"image_b64\":\"aGVsbG8=\"}", "invalid_field", "platform"},
        {"{\"software_id\":\"s\",\"platform\":\"beos\",\"image_b64\":\"aGVsbG8=\"}",
         "invalid_field", "platform"},
        {"{\"software_id\":\"s\",\"platform\":\"any\",\"image_b64\":\"aGVsbG8=\"", "malformed_json",
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        it_response r;
        it_json("POST", "/v1/client-images", key, cases[i].body, &r);
        it_assert_problem(&r, 400, cases[i].code);
        if (cases[i].what)
            cr_assert(strstr(it_str(&r, "detail"), cases[i].what), "%s: %s", cases[i].body,
                      r.body);
        it_response_free(&r);
    }
    got = stored(key, "s");
    cr_assert_str_eq(got, "");
    free(got);
    cr_assert_eq(audit_uploads(key), 0);
    free(key);
}

Test(client_images, each_vendor_has_its_own_images)
{
    char *a = it_new_vendor("Image Owner"), *b = it_new_vendor("Image Neighbour"), sha[65];
    const unsigned char one[] = "first build", two[] = "second build";
    it_response r;
    upload(a, "shared", "windows", one, sizeof one - 1, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    upload(b, "shared", "legacy", two, sizeof two - 1, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    it_response_free(&r);
    hex_sha256(one, sizeof one - 1, sha);
    assert_stored(a, "shared", sizeof one - 1, sha);
    hex_sha256(two, sizeof two - 1, sha);
    assert_stored(b, "shared", sizeof two - 1, sha);
    cr_assert_eq(audit_uploads(a), 1);
    cr_assert_eq(audit_uploads(b), 1);
    free(a);
    free(b);
}
