/* Unit tests for the field readers the vendor endpoints added to
 * service/util/json.c (base64 images, identifiers, JSON objects, nullable
 * answers) and for the SQLSTATE classes they rely on. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/error.h"
#include "util/json.h"

static cJSON *obj(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    cr_assert_not_null(o, "bad test JSON %s", text);
    return o;
}

/* Decodes {"b": text} allowing max bytes; returns the status, *out the bytes. */
static int b64(const char *json, size_t max, unsigned char **out, size_t *len, char *detail)
{
    cJSON *o = obj(json);
    int rc = json_get_base64(o, "b", 1, max, out, len, detail);
    cJSON_Delete(o);
    return rc;
}

static void b64_ok(const char *json, const char *want)
{
    unsigned char *out = NULL;
    size_t len = 0;
    char detail[LICD_DETAIL_MAX] = "";
    cr_assert_eq(b64(json, 1000, &out, &len, detail), LICD_OK, "%s: %s", json, detail);
    cr_assert_eq(len, strlen(want), "%s decoded to %zu bytes", json, len);
    cr_assert_eq(memcmp(out, want, len), 0, "%s", json);
    free(out);
}

static void b64_bad(const char *json)
{
    unsigned char *out = (unsigned char *)1;
    size_t len = 1;
    char detail[LICD_DETAIL_MAX] = "";
    cr_assert_eq(b64(json, 1000, &out, &len, detail), LICD_ERR_INVALID_FIELD, "%s accepted", json);
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cr_assert(strstr(detail, "b "), "detail names the field: %s", detail);
}

Test(json_base64, decodes_every_padding)
{
    b64_ok("{\"b\":\"aGVsbG8=\"}", "hello");
    b64_ok("{\"b\":\"aGVsbA==\"}", "hell");
    b64_ok("{\"b\":\"aGVs\"}", "hel");
    b64_ok("{\"b\":\"+/+/\"}", "\xfb\xff\xbf");
}

Test(json_base64, refuses_what_is_not_padded_standard_base64)
{
    b64_bad("{\"b\":\"\"}");
    b64_bad("{\"b\":\"aGVsbG8\"}");     /* no padding */
    b64_bad("{\"b\":\"aGVsbG8-\"}");    /* base64url */
    b64_bad("{\"b\":\"aGVs_G8=\"}");
    b64_bad("{\"b\":\"aGVs bG8=\"}");
    b64_bad("{\"b\":\"aGVs\\nbG8=\"}");
    b64_bad("{\"b\":\"aG=sbG8=\"}");    /* padding inside */
    b64_bad("{\"b\":\"aGVsbG==bG8=\"}");
    b64_bad("{\"b\":\"aGVsb=8=\"}");
    b64_bad("{\"b\":\"====\"}");
    b64_bad("{\"b\":\"a===\"}");
    b64_bad("{\"b\":\"aGVsbG9=\"}");    /* bits under the padding */
    b64_bad("{\"b\":\"aGVsbB==\"}");
    b64_bad("{\"b\":5}");
    b64_bad("{\"c\":\"aGVs\"}");
}

Test(json_base64, too_long_is_413_before_decoding)
{
    unsigned char *out = NULL;
    size_t len = 0;
    char detail[LICD_DETAIL_MAX] = "";
    /* 5 bytes allowed: "hello" fits, "hello!" does not, even when the text
     * would not decode at all (the length decides first). */
    cr_assert_eq(b64("{\"b\":\"aGVsbG8=\"}", 5, &out, &len, detail), LICD_OK);
    free(out);
    cr_assert_eq(b64("{\"b\":\"aGVsbG8h\"}", 5, &out, &len, detail), LICD_ERR_BODY_TOO_LARGE);
    cr_assert_null(out);
    cr_assert(strstr(detail, "6 bytes"), "%s", detail);
    cr_assert_eq(b64("{\"b\":\"********\"}", 5, &out, &len, detail), LICD_ERR_BODY_TOO_LARGE);
}

Test(json_base64, absent_and_optional_is_fine)
{
    cJSON *o = obj("{}");
    unsigned char *out = (unsigned char *)1;
    size_t len = 1;
    char detail[LICD_DETAIL_MAX];
    cr_assert_eq(json_get_base64(o, "b", 0, 10, &out, &len, detail), LICD_OK);
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cJSON_Delete(o);
}

Test(json_token, only_the_given_characters)
{
    cJSON *o = obj("{\"ok\":\"cad-pro.x_1\",\"upper\":\"Cad\",\"space\":\"a b\",\"empty\":\"\","
                   "\"long\":\"abcdefghi\",\"num\":1}");
    const char *cs = "abcdefghijklmnopqrstuvwxyz0123456789._-", *v = NULL;
    char detail[LICD_DETAIL_MAX];
    cr_assert_eq(json_get_token(o, "ok", 1, 64, cs, &v, detail), LICD_OK);
    cr_assert_str_eq(v, "cad-pro.x_1");
    cr_assert_eq(json_get_token(o, "upper", 1, 64, cs, &v, detail), LICD_ERR_INVALID_FIELD);
    cr_assert(strstr(detail, "upper") && strstr(detail, "byte 0"), "%s", detail);
    cr_assert_eq(json_get_token(o, "space", 1, 64, cs, &v, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(json_get_token(o, "empty", 1, 64, cs, &v, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(json_get_token(o, "long", 1, 8, cs, &v, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(json_get_token(o, "num", 1, 8, cs, &v, detail), LICD_ERR_INVALID_FIELD);
    v = NULL;
    cr_assert_eq(json_get_token(o, "absent", 0, 8, cs, &v, detail), LICD_OK);
    cr_assert_null(v);
    cr_assert_eq(json_get_token(o, "absent", 1, 8, cs, &v, detail), LICD_ERR_INVALID_FIELD);
    cJSON_Delete(o);
}

Test(json_object_text, objects_only_and_within_the_limit)
{
    cJSON *o = obj("{\"a\":{\"k\":[1,2]},\"arr\":[1],\"s\":\"x\",\"n\":null}");
    char *text = NULL, detail[LICD_DETAIL_MAX];
    cr_assert_eq(json_get_object_text(o, "a", 1, 64, &text, detail), LICD_OK);
    cr_assert_str_eq(text, "{\"k\":[1,2]}");
    free(text);
    cr_assert_eq(json_get_object_text(o, "a", 1, 10, &text, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_null(text);
    cr_assert_eq(json_get_object_text(o, "arr", 1, 64, &text, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(json_get_object_text(o, "s", 1, 64, &text, detail), LICD_ERR_INVALID_FIELD);
    cr_assert_eq(json_get_object_text(o, "n", 0, 64, &text, detail), LICD_OK);
    cr_assert_null(text);
    cJSON_Delete(o);
}

Test(json_answers, raw_json_and_nullable_strings)
{
    cJSON *o = cJSON_CreateObject();
    char *text;
    cr_assert_not_null(json_add_raw(o, "features", "[\"a\"]"));
    cr_assert_not_null(json_add_raw(o, "none", NULL));
    cr_assert_null(json_add_raw(o, "bad", "{not json"));
    cr_assert_not_null(json_add_string_or_null(o, "expires", ""));
    cr_assert_not_null(json_add_string_or_null(o, "gone", NULL));
    cr_assert_not_null(json_add_string_or_null(o, "at", "2026-01-01T00:00:00Z"));
    text = cJSON_PrintUnformatted(o);
    cr_assert_str_eq(text, "{\"features\":[\"a\"],\"none\":null,\"expires\":null,\"gone\":null,"
                           "\"at\":\"2026-01-01T00:00:00Z\"}");
    free(text);
    cJSON_Delete(o);
}

Test(store_classify, constraint_violations_are_conflicts)
{
    cr_assert_eq(store_classify("23505"), LICD_ERR_CONFLICT);
    cr_assert_eq(store_classify("23P01"), LICD_ERR_CONFLICT, "exclusion: overlapping serials");
    cr_assert_eq(store_classify("40001"), LICD_ERR_RETRY);
    cr_assert_eq(store_classify(NULL), LICD_ERR_UNAVAILABLE);
    /* a batching thread's lock or statement timeout: 503, never 500 */
    cr_assert_eq(store_classify("55P03"), LICD_ERR_UNAVAILABLE);
    cr_assert_eq(store_classify("57014"), LICD_ERR_UNAVAILABLE);
    cr_assert_eq(store_classify("42P01"), LICD_ERR_INTERNAL, "a missing table is a bug");
}
