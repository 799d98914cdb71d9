/* Unit tests for service/util/json.c: strict body parsing against hostile input, typed field readers, RFC 3339 times. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "util/json.h"

/* Parses text (its strlen) and expects an object. */
static cJSON *parse_ok(const char *text)
{
    cJSON *obj = NULL;
    char detail[LICD_DETAIL_MAX] = "";
    int rc = json_parse_object(text, strlen(text), &obj, detail);
    cr_assert_eq(rc, LICD_OK, "parsing %s failed: %s", text, detail);
    cr_assert_not_null(obj);
    return obj;
}

/* Parses len bytes and expects LICD_ERR_MALFORMED_JSON with a detail and no object. */
static void expect_malformed_n(const char *text, size_t len)
{
    cJSON *obj = (cJSON *)1;
    char detail[LICD_DETAIL_MAX] = "";
    int rc = json_parse_object(text, len, &obj, detail);
    cr_assert_eq(rc, LICD_ERR_MALFORMED_JSON, "expected malformed_json for \"%.*s\", got %d",
                 (int)(len > 80 ? 80 : len), text ? text : "", rc);
    cr_assert_null(obj);
    cr_assert_neq(detail[0], '\0');
}

static void expect_malformed(const char *text) { expect_malformed_n(text, strlen(text)); }

/* Asserts a field error that names the field. */
static void expect_field_error(int rc, const char *detail, const char *name)
{
    cr_assert_eq(rc, LICD_ERR_INVALID_FIELD, "expected invalid_field, got %d", rc);
    cr_assert_not_null(strstr(detail, name), "detail \"%s\" does not name %s", detail, name);
}

/* ---- json_parse_object ---- */

Test(json_parse, accepts_objects)
{
    cJSON *o = parse_ok("{}");
    cr_assert(cJSON_IsObject(o));
    cJSON_Delete(o);
    o = parse_ok(" \t\r\n{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":-2.5}} \n\t\r");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(o, "a")->valuedouble, 1.0);
    cJSON_Delete(o);
}

Test(json_parse, duplicate_keys_refused)
{
    expect_malformed("{\"name\":\"a\",\"name\":{\"x\":1}}");
    expect_malformed("{\"a\":1,\"b\":2,\"a\":1}");
    /* the same name once unescaped */
    expect_malformed("{\"a\":1,\"\\u0061\":2}");
    /* in a nested object, also inside an array */
    expect_malformed("{\"o\":{\"k\":1,\"k\":2}}");
    expect_malformed("{\"l\":[{\"k\":1},{\"k\":1,\"k\":1}]}");
    /* names differing in case, and the same name in sibling objects, are fine */
    cJSON_Delete(parse_ok("{\"Name\":1,\"name\":2,\"o\":{\"name\":3},\"p\":{\"name\":4}}"));
}

Test(json_parse, many_distinct_keys_accepted)
{
    size_t cap = 20000 * 12 + 3, o = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    text[o++] = '{';
    for (int i = 0; i < 20000; i++)
        o += (size_t)snprintf(text + o, cap - o, "%s\"k%d\":1", i ? "," : "", i);
    text[o++] = '}';
    text[o] = '\0';
    cJSON_Delete(parse_ok(text));
    /* and the same object with its first name again at the end */
    snprintf(text + o - 1, cap - o + 1, ",\"k0\":2}");
    expect_malformed(text);
    free(text);
}

Test(json_parse, top_level_must_be_an_object)
{
    expect_malformed("[]");
    expect_malformed("[{\"a\":1}]");
    expect_malformed("1");
    expect_malformed("-3.5");
    expect_malformed("\"string\"");
    expect_malformed("null");
    expect_malformed("true");
    expect_malformed("false");
}

Test(json_parse, trailing_garbage_refused)
{
    expect_malformed("{\"a\":1} x");
    expect_malformed("{\"a\":1}{}");
    expect_malformed("{\"a\":1},");
    expect_malformed("{\"a\":1}}");
    expect_malformed("{} // comment");
    /* A NUL after the value is not white space. */
    expect_malformed_n("{\"a\":1}\0", 8);
}

Test(json_parse, truncated_refused)
{
    expect_malformed("{");
    expect_malformed("{\"a\"");
    expect_malformed("{\"a\":");
    expect_malformed("{\"a\":1");
    expect_malformed("{\"a\":1,");
    expect_malformed("{\"a\":\"bc");
    expect_malformed("{\"a\":[1,2");
    expect_malformed("{\"a\":tru");
    expect_malformed("{\"a\":\"\\u00");
    /* Only the declared length counts, even when more bytes follow in memory. */
    expect_malformed_n("{\"a\":1}", 6);
}

Test(json_parse, syntax_errors_refused)
{
    expect_malformed("{a:1}");
    expect_malformed("{'a':1}");
    expect_malformed("{\"a\":1,}");
    expect_malformed("{\"a\":NaN}");
    expect_malformed("{\"a\":\"\\x41\"}");
    expect_malformed("{\"a\" 1}");
}

Test(json_parse, numbers_follow_the_json_grammar)
{
    /* strtod would take these; JSON does not. */
    expect_malformed("{\"a\":01}");
    expect_malformed("{\"a\":-01}");
    expect_malformed("{\"a\":00}");
    expect_malformed("{\"a\":1.}");
    expect_malformed("{\"a\":1.e5}");
    expect_malformed("{\"a\":[1,2.]}");
    expect_malformed("{\"a\":.5}");
    expect_malformed("{\"a\":+1}");
    expect_malformed("{\"a\":-}");
    expect_malformed("{\"a\":--1}");
    expect_malformed("{\"a\":1e}");
    expect_malformed("{\"a\":1e+}");
    expect_malformed("{\"a\":1-2}");
    expect_malformed("{\"a\":0x10}");
    expect_malformed("{\"a\":Infinity}");
    expect_malformed("{\"a\":-Infinity}");

    cJSON *o = parse_ok("{\"a\":[0,-0,0.5,-0.5e-10,1E+2,1e2,10,123,-7.25E-3,0e0],\"b\":1}");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "a");
    cr_assert_eq(cJSON_GetArraySize(a), 10);
    cr_assert_eq(cJSON_GetArrayItem(a, 4)->valuedouble, 100.0);
    cr_assert_eq(cJSON_GetArrayItem(a, 8)->valuedouble, -7.25e-3);
    cJSON_Delete(o);
    /* Digits inside strings are not numbers. */
    o = parse_ok("{\"a\":\"01\",\"1.\":\"-\"}");
    cJSON_Delete(o);
}

Test(json_parse, raw_control_characters_in_strings_refused)
{
    expect_malformed("{\"a\":\"x\ty\"}");
    expect_malformed("{\"a\":\"x\ny\"}");
    expect_malformed("{\"a\":\"\r\"}");
    expect_malformed("{\"a\":\"\x01\"}");
    expect_malformed("{\"a\":\"\x1f\"}");
    expect_malformed("{\"\x1b\":1}");
    /* Escaped, and DEL (not a JSON control character), they are fine. */
    cJSON *o = parse_ok("{\"a\":\"x\\ty\\n\\u001f\x7f\"}");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "a")->valuestring, "x\ty\n\x1f\x7f");
    cJSON_Delete(o);
}

Test(json_parse, empty_refused)
{
    cJSON *obj = (cJSON *)1;
    char detail[LICD_DETAIL_MAX] = "";
    cr_assert_eq(json_parse_object(NULL, 0, &obj, detail), LICD_ERR_MALFORMED_JSON);
    cr_assert_null(obj);
    expect_malformed_n("", 0);
    expect_malformed_n("{}", 0);
    expect_malformed("   ");
    expect_malformed("\n");
}

Test(json_parse, raw_nul_byte_refused)
{
    static const char body[] = "{\"a\":\"b\0c\"}";
    expect_malformed_n(body, sizeof body - 1);
    static const char key[] = "{\"\0\":1}";
    expect_malformed_n(key, sizeof key - 1);
    static const char lead[] = "\0{}";
    expect_malformed_n(lead, sizeof lead - 1);
}

Test(json_parse, escaped_nul_refused)
{
    expect_malformed("{\"a\":\"\\u0000\"}");
    expect_malformed("{\"a\":\"x\\u0000y\"}");
    expect_malformed("{\"\\u0000\":1}");
    /* An escaped backslash followed by an escaped NUL. */
    expect_malformed("{\"a\":\"\\\\\\u0000\"}");
}

Test(json_parse, escaped_backslash_then_u0000_text_accepted)
{
    /* JSON text {"a":"\\u0000"}: a backslash then the five characters u0000. */
    cJSON *o = parse_ok("{\"a\":\"\\\\u0000\"}");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "a");
    cr_assert(cJSON_IsString(a));
    cr_assert_str_eq(a->valuestring, "\\u0000");
    cr_assert_eq(strlen(a->valuestring), 6);
    cJSON_Delete(o);
    /* Other escapes, and an escaped quote that does not end the string. */
    o = parse_ok("{\"a\":\"\\u0041\\\"\\n\\/\\u00e9\"}");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "a")->valuestring, "A\"\n/\xC3\xA9");
    cJSON_Delete(o);
}

/* Builds {"a": + (depth - 1) nested arrays + }: depth levels counting the object. */
static char *nested(int depth)
{
    size_t n = 16 + 2 * (size_t)depth;
    char *s = malloc(n), *p = s;
    cr_assert_not_null(s);
    p += sprintf(p, "{\"a\":");
    for (int i = 1; i < depth; i++)
        *p++ = '[';
    for (int i = 1; i < depth; i++)
        *p++ = ']';
    *p++ = '}';
    *p = '\0';
    return s;
}

Test(json_parse, nesting_limit)
{
    cr_assert_eq(JSON_MAX_DEPTH, 32);
    char *ok = nested(32), *deep = nested(33), *very = nested(100000);
    cJSON *o = parse_ok(ok);
    cJSON_Delete(o);
    expect_malformed(deep);
    expect_malformed(very);
    free(ok);
    free(deep);
    free(very);

    /* Objects count the same as arrays. */
    char buf[512] = "";
    for (int i = 0; i < 33; i++)
        strcat(buf, "{\"k\":");
    strcat(buf, "1");
    for (int i = 0; i < 33; i++)
        strcat(buf, "}");
    expect_malformed(buf);
    /* Brackets inside strings are not nesting. */
    o = parse_ok("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"}");
    cJSON_Delete(o);
}

Test(json_parse, invalid_utf8_refused)
{
    expect_malformed("{\"a\":\"\xC0\xAF\"}");             /* overlong '/' */
    expect_malformed("{\"a\":\"\xC1\xBF\"}");             /* overlong */
    expect_malformed("{\"a\":\"\xE0\x80\xAF\"}");         /* overlong, 3 bytes */
    expect_malformed("{\"a\":\"\xF0\x80\x80\xAF\"}");     /* overlong, 4 bytes */
    expect_malformed("{\"a\":\"\xED\xA0\x80\"}");         /* surrogate U+D800 */
    expect_malformed("{\"a\":\"\xED\xBF\xBF\"}");         /* surrogate U+DFFF */
    expect_malformed("{\"a\":\"\xE2\x82\"}");             /* truncated sequence */
    expect_malformed("{\"a\":\"\xE2\"}");                 /* lone lead byte */
    expect_malformed("{\"a\":\"\x80\"}");                 /* lone continuation */
    expect_malformed("{\"a\":\"\xF4\x90\x80\x80\"}");     /* above U+10FFFF */
    expect_malformed("{\"a\":\"\xF8\x88\x80\x80\x80\"}"); /* 5-byte form */
    expect_malformed("{\"a\":\"\xFF\"}");
    expect_malformed("{\"\xC3\":1}");                     /* in a key */
    expect_malformed("{\"a\":\"x\"}\xC3");                /* truncated at the very end */
    /* Escaped lone surrogates are refused as well. */
    expect_malformed("{\"a\":\"\\ud800\"}");
    expect_malformed("{\"a\":\"\\udc00\"}");
}

Test(json_parse, valid_utf8_accepted)
{
    cJSON *o = parse_ok("{\"a\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF\"}");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "a")->valuestring,
                     "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF");
    cJSON_Delete(o);
    /* A surrogate pair escape decodes to one 4-byte character. */
    o = parse_ok("{\"a\":\"\\ud83d\\ude00\"}");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "a")->valuestring, "\xF0\x9F\x98\x80");
    cJSON_Delete(o);
}

Test(json_utf8, validator)
{
    cr_assert_eq(json_utf8_valid("", 0), 1);
    cr_assert_eq(json_utf8_valid("plain", 5), 1);
    cr_assert_eq(json_utf8_valid("\xC2\x80", 2), 1);         /* smallest 2-byte */
    cr_assert_eq(json_utf8_valid("\xE0\xA0\x80", 3), 1);     /* smallest 3-byte */
    cr_assert_eq(json_utf8_valid("\xED\x9F\xBF", 3), 1);     /* U+D7FF */
    cr_assert_eq(json_utf8_valid("\xEE\x80\x80", 3), 1);     /* U+E000 */
    cr_assert_eq(json_utf8_valid("\xF0\x90\x80\x80", 4), 1); /* smallest 4-byte */
    cr_assert_eq(json_utf8_valid("\xC2", 1), 0);
    cr_assert_eq(json_utf8_valid("\xC2\x80", 1), 0);         /* length cuts the sequence */
    cr_assert_eq(json_utf8_valid("\xC2\x41", 2), 0);
    cr_assert_eq(json_utf8_valid("\xE0\x9F\xBF", 3), 0);     /* overlong U+07FF */
    cr_assert_eq(json_utf8_valid("\xF0\x8F\xBF\xBF", 4), 0); /* overlong U+FFFF */
    cr_assert_eq(json_utf8_valid("\xED\xA0\x80", 3), 0);
    cr_assert_eq(json_utf8_valid("\xF4\x90\x80\x80", 4), 0);
}

Test(json_parse, one_mebibyte_string)
{
    size_t n = 1u << 20;
    char *body = malloc(n + 16);
    cr_assert_not_null(body);
    memcpy(body, "{\"s\":\"", 6);
    memset(body + 6, 'x', n);
    memcpy(body + 6 + n, "\"}", 3);
    cJSON *o = NULL;
    char detail[LICD_DETAIL_MAX] = "";
    cr_assert_eq(json_parse_object(body, n + 8, &o, detail), LICD_OK, "%s", detail);
    cr_assert_eq(strlen(cJSON_GetObjectItemCaseSensitive(o, "s")->valuestring), n);
    cJSON_Delete(o);
    /* The same, cut short before the closing quote. */
    expect_malformed_n(body, n + 6);
    free(body);
}

Test(json_parse, detail_may_be_null)
{
    cJSON *o = NULL;
    cr_assert_eq(json_parse_object("[]", 2, &o, NULL), LICD_ERR_MALFORMED_JSON);
    cr_assert_eq(json_parse_object("{}", 2, &o, NULL), LICD_OK);
    cJSON_Delete(o);
}

/* ---- typed readers ---- */

static const char FIELDS[] =
    "{\"s\":\"abc\",\"empty\":\"\",\"n\":5,\"z\":null,\"t\":true,\"f\":false,\"arr\":[],"
    "\"obj\":{},\"str5\":\"5\",\"big\":1e400,\"nbig\":-1e400,\"half\":1.5,\"safe\":9007199254740991,"
    "\"nsafe\":-9007199254740991,\"unsafe\":9007199254740993,\"two53\":9007199254740992,"
    "\"negzero\":-0,\"one\":1.0,\"exp\":5e2,\"neg\":-7,\"huge\":1e300}";

Test(json_get_string, reads_and_checks)
{
    cJSON *o = parse_ok(FIELDS);
    char d[LICD_DETAIL_MAX];
    const char *s = NULL;

    cr_assert_eq(json_get_string(o, "s", 1, 1, 10, &s, d), LICD_OK);
    cr_assert_str_eq(s, "abc");
    cr_assert_eq(json_get_string(o, "s", 1, 3, 3, &s, d), LICD_OK);

    s = "untouched";
    cr_assert_eq(json_get_string(o, "missing", 0, 1, 10, &s, d), LICD_OK);
    cr_assert_str_eq(s, "untouched");
    expect_field_error(json_get_string(o, "missing", 1, 1, 10, &s, d), d, "missing");
    cr_assert_not_null(strstr(d, "required"));

    /* null counts as missing. */
    cr_assert_eq(json_get_string(o, "z", 0, 1, 10, &s, d), LICD_OK);
    cr_assert_str_eq(s, "untouched");
    expect_field_error(json_get_string(o, "z", 1, 1, 10, &s, d), d, "z");
    cr_assert_not_null(strstr(d, "required"));

    expect_field_error(json_get_string(o, "n", 1, 1, 10, &s, d), d, "n");
    expect_field_error(json_get_string(o, "t", 1, 1, 10, &s, d), d, "t");
    expect_field_error(json_get_string(o, "arr", 1, 1, 10, &s, d), d, "arr");
    expect_field_error(json_get_string(o, "obj", 1, 1, 10, &s, d), d, "obj");
    expect_field_error(json_get_string(o, "s", 1, 4, 10, &s, d), d, "s");
    expect_field_error(json_get_string(o, "s", 1, 1, 2, &s, d), d, "s");
    expect_field_error(json_get_string(o, "empty", 1, 1, 10, &s, d), d, "empty");
    cr_assert_eq(json_get_string(o, "empty", 1, 0, 10, &s, d), LICD_OK);
    cr_assert_str_eq(s, "");
    /* Names are case-sensitive. */
    expect_field_error(json_get_string(o, "S", 1, 1, 10, &s, d), d, "S");
    cJSON_Delete(o);
}

Test(json_get_string, length_counts_bytes)
{
    cJSON *o = parse_ok("{\"u\":\"\xC3\xA9\xC3\xA9\"}");
    char d[LICD_DETAIL_MAX];
    const char *s;
    cr_assert_eq(json_get_string(o, "u", 1, 4, 4, &s, d), LICD_OK);
    expect_field_error(json_get_string(o, "u", 1, 1, 3, &s, d), d, "u");
    cJSON_Delete(o);
}

Test(json_get_int, reads_and_checks)
{
    cJSON *o = parse_ok(FIELDS);
    char d[LICD_DETAIL_MAX];
    long long v = 77;

    cr_assert_eq(json_get_int(o, "n", 1, 0, 10, &v, d), LICD_OK);
    cr_assert_eq(v, 5);
    cr_assert_eq(json_get_int(o, "n", 1, 5, 5, &v, d), LICD_OK);
    cr_assert_eq(json_get_int(o, "neg", 1, -10, 10, &v, d), LICD_OK);
    cr_assert_eq(v, -7);
    cr_assert_eq(json_get_int(o, "negzero", 1, 0, 10, &v, d), LICD_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(json_get_int(o, "one", 1, 0, 10, &v, d), LICD_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(json_get_int(o, "exp", 1, 0, 1000, &v, d), LICD_OK);
    cr_assert_eq(v, 500);
    cr_assert_eq(json_get_int(o, "safe", 1, 0, JSON_MAX_SAFE_INT, &v, d), LICD_OK);
    cr_assert_eq(v, 9007199254740991LL);
    cr_assert_eq(json_get_int(o, "nsafe", 1, -JSON_MAX_SAFE_INT, 0, &v, d), LICD_OK);
    cr_assert_eq(v, -9007199254740991LL);

    v = 77;
    cr_assert_eq(json_get_int(o, "missing", 0, 0, 10, &v, d), LICD_OK);
    cr_assert_eq(v, 77);
    cr_assert_eq(json_get_int(o, "z", 0, 0, 10, &v, d), LICD_OK);
    cr_assert_eq(v, 77);
    expect_field_error(json_get_int(o, "missing", 1, 0, 10, &v, d), d, "missing");
    expect_field_error(json_get_int(o, "z", 1, 0, 10, &v, d), d, "z");

    expect_field_error(json_get_int(o, "big", 1, 0, 10, &v, d), d, "big");
    expect_field_error(json_get_int(o, "nbig", 1, -10, 10, &v, d), d, "nbig");
    expect_field_error(json_get_int(o, "huge", 1, 0, 10, &v, d), d, "huge");
    expect_field_error(json_get_int(o, "half", 1, 0, 10, &v, d), d, "half");
    expect_field_error(json_get_int(o, "unsafe", 1, 0, (long long)1 << 62, &v, d), d, "unsafe");
    expect_field_error(json_get_int(o, "two53", 1, 0, (long long)1 << 62, &v, d), d, "two53");
    expect_field_error(json_get_int(o, "str5", 1, 0, 10, &v, d), d, "str5");
    expect_field_error(json_get_int(o, "t", 1, 0, 10, &v, d), d, "t");
    expect_field_error(json_get_int(o, "arr", 1, 0, 10, &v, d), d, "arr");
    expect_field_error(json_get_int(o, "n", 1, 6, 10, &v, d), d, "n");
    expect_field_error(json_get_int(o, "n", 1, 0, 4, &v, d), d, "n");
    expect_field_error(json_get_int(o, "neg", 1, 0, 10, &v, d), d, "neg");
    cr_assert_eq(v, 77, "a refused value must not be stored");
    cJSON_Delete(o);
}

Test(json_get_bool, reads_and_checks)
{
    cJSON *o = parse_ok(FIELDS);
    char d[LICD_DETAIL_MAX];
    int b = 7;
    cr_assert_eq(json_get_bool(o, "t", 1, &b, d), LICD_OK);
    cr_assert_eq(b, 1);
    cr_assert_eq(json_get_bool(o, "f", 1, &b, d), LICD_OK);
    cr_assert_eq(b, 0);
    b = 7;
    cr_assert_eq(json_get_bool(o, "missing", 0, &b, d), LICD_OK);
    cr_assert_eq(b, 7);
    cr_assert_eq(json_get_bool(o, "z", 0, &b, d), LICD_OK);
    expect_field_error(json_get_bool(o, "missing", 1, &b, d), d, "missing");
    expect_field_error(json_get_bool(o, "z", 1, &b, d), d, "z");
    expect_field_error(json_get_bool(o, "n", 1, &b, d), d, "n");
    expect_field_error(json_get_bool(o, "s", 1, &b, d), d, "s");
    cJSON *o2 = parse_ok("{\"one\":1,\"strtrue\":\"true\"}");
    expect_field_error(json_get_bool(o2, "one", 1, &b, d), d, "one");
    expect_field_error(json_get_bool(o2, "strtrue", 1, &b, d), d, "strtrue");
    cr_assert_eq(b, 7);
    cJSON_Delete(o2);
    cJSON_Delete(o);
}

/* ---- times ---- */

/* Reads {"at": text} through json_get_time and expects the given epoch. */
static void expect_time(const char *text, time_t want)
{
    char body[128], d[LICD_DETAIL_MAX] = "";
    time_t got = 0;
    int present = 0;
    snprintf(body, sizeof body, "{\"at\":\"%s\"}", text);
    cJSON *o = parse_ok(body);
    int rc = json_get_time(o, "at", 1, &got, &present, d);
    cJSON_Delete(o);
    cr_assert_eq(rc, LICD_OK, "%s refused: %s", text, d);
    cr_assert_eq(present, 1);
    cr_assert_eq((long long)got, (long long)want, "%s gave %lld, want %lld", text,
                 (long long)got, (long long)want);
}

static void expect_bad_time(const char *text)
{
    char body[128], d[LICD_DETAIL_MAX] = "";
    time_t got = 12345;
    int present = 7;
    snprintf(body, sizeof body, "{\"expires\":\"%s\"}", text);
    cJSON *o = parse_ok(body);
    int rc = json_get_time(o, "expires", 1, &got, &present, d);
    cJSON_Delete(o);
    cr_assert_eq(rc, LICD_ERR_INVALID_FIELD, "\"%s\" was accepted", text);
    cr_assert_not_null(strstr(d, "expires"), "detail \"%s\" does not name the field", d);
    cr_assert_eq(present, 0);
    /* json_parse_time agrees. */
    cr_assert_eq(json_parse_time(text, &got), -1, "json_parse_time accepted \"%s\"", text);
}

Test(json_time, exact_epoch_values)
{
    expect_time("1970-01-01T00:00:00Z", 0);
    expect_time("2000-01-01T00:00:00Z", 946684800);
    expect_time("2024-02-29T00:00:00Z", 1709164800);
    expect_time("2026-01-31T12:00:00Z", 1769860800);
    expect_time("2024-12-31T23:59:59Z", 1735689599);
    expect_time("9999-12-31T23:59:59Z", 253402300799LL);
}

Test(json_time, offsets_and_fractions)
{
    expect_time("2026-01-31T12:00:00+00:00", 1769860800);
    expect_time("2026-01-31T12:00:00-00:00", 1769860800);
    expect_time("2026-01-31T14:30:00+02:30", 1769860800);
    expect_time("2026-01-31T07:00:00-05:00", 1769860800);
    expect_time("2026-01-31T23:59:00+23:59", 1769860800 - 12 * 3600);
    /* An offset that moves the instant into the previous day, over a leap day. */
    expect_time("2024-03-01T01:00:00+02:00", 1709164800 + 23 * 3600);
    expect_time("2024-02-28T22:00:00-02:00", 1709164800);
    /* Fractions are accepted and truncated to the second. */
    expect_time("2026-01-31T12:00:00.5Z", 1769860800);
    expect_time("2026-01-31T12:00:00.999999999Z", 1769860800);
    expect_time("2026-01-31T12:00:00.123+01:00", 1769860800 - 3600);
}

Test(json_time, lowercase_t_and_z)
{
    expect_time("2026-01-31t12:00:00z", 1769860800);
    expect_time("2026-01-31t12:00:00Z", 1769860800);
    expect_time("2026-01-31T12:00:00z", 1769860800);
}

Test(json_time, calendar_checks)
{
    expect_time("2000-02-29T00:00:00Z", 951782400); /* divisible by 400: leap */
    expect_bad_time("2023-02-29T00:00:00Z");
    expect_bad_time("2100-02-29T00:00:00Z");        /* divisible by 100: not leap */
    expect_bad_time("2026-04-31T00:00:00Z");
    expect_bad_time("2026-01-32T00:00:00Z");
    expect_bad_time("2026-01-00T00:00:00Z");
    expect_bad_time("2026-13-01T00:00:00Z");
    expect_bad_time("2026-00-01T00:00:00Z");
    expect_bad_time("2026-01-31T24:00:00Z");
    expect_bad_time("2026-01-31T12:60:00Z");
    expect_bad_time("2026-01-31T12:00:61Z");
    expect_bad_time("2026-01-31T12:00:00+24:00");
    expect_bad_time("2026-01-31T12:00:00+02:60");
}

Test(json_time, leap_second_is_the_last_second_of_the_minute)
{
    expect_time("2016-12-31T23:59:60Z", 1483228799);
}

Test(json_time, garbage_refused)
{
    expect_bad_time("");
    expect_bad_time("garbage");
    expect_bad_time("2026-01-31");
    expect_bad_time("2026-01-31T12:00:00");      /* no zone */
    expect_bad_time("2026-01-31T12:00Z");        /* no seconds */
    expect_bad_time("2026-01-31 12:00:00Z");
    expect_bad_time("2026-01-31X12:00:00Z");
    expect_bad_time("2026-1-31T12:00:00Z");
    expect_bad_time("26-01-31T12:00:00Z");
    expect_bad_time("+2026-01-31T12:00:00Z");
    expect_bad_time(" 2026-01-31T12:00:00Z");
    expect_bad_time("2026-01-31T12:00:00Z ");
    expect_bad_time("2026-01-31T12:00:00ZZ");
    expect_bad_time("2026-01-31T12:00:00.Z");
    expect_bad_time("2026-01-31T12:00:00.1.2Z");
    expect_bad_time("2026-01-31T12:00:00+0200");
    expect_bad_time("2026-01-31T12:00:00+02");
    expect_bad_time("2026-01-31T12:00:00+02:00Z");
    expect_bad_time("2026-01-31T12:00:00UTC");
    expect_bad_time("2026-01-31T12:0a:00Z");
    expect_bad_time("2026/01/31T12:00:00Z");
    /* Inputs are bounded: over 40 characters is refused, whatever the fraction. */
    expect_bad_time("2026-01-31T12:00:00.12345678901234567890Z");
}

Test(json_time, type_and_presence)
{
    cJSON *o = parse_ok("{\"num\":1769860800,\"z\":null,\"b\":true}");
    char d[LICD_DETAIL_MAX];
    time_t t = 99;
    int present = 7;
    cr_assert_eq(json_get_time(o, "missing", 0, &t, &present, d), LICD_OK);
    cr_assert_eq(present, 0);
    cr_assert_eq(t, 99);
    present = 7;
    cr_assert_eq(json_get_time(o, "z", 0, &t, &present, d), LICD_OK);
    cr_assert_eq(present, 0);
    expect_field_error(json_get_time(o, "missing", 1, &t, &present, d), d, "missing");
    expect_field_error(json_get_time(o, "z", 1, &t, &present, d), d, "z");
    expect_field_error(json_get_time(o, "num", 1, &t, &present, d), d, "num");
    expect_field_error(json_get_time(o, "b", 0, &t, &present, d), d, "b");
    cr_assert_eq(present, 0);
    cJSON_Delete(o);
}

Test(json_time, format_round_trip)
{
    char buf[32];
    json_format_time(0, buf, sizeof buf);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
    json_format_time(1709164800, buf, sizeof buf);
    cr_assert_str_eq(buf, "2024-02-29T00:00:00Z");
    json_format_time(1769860800, buf, sizeof buf);
    cr_assert_str_eq(buf, "2026-01-31T12:00:00Z");
    cr_assert_eq(strlen(buf), 20);

    static const time_t samples[] = {0, 1, 59, 86399, 86400, 951782400, 1709164800,
                                     1735689599, 1769860800, 2147483647, 2147483648LL,
                                     253402300799LL};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        time_t back = -1;
        json_format_time(samples[i], buf, sizeof buf);
        cr_assert_eq(json_parse_time(buf, &back), 0, "%s did not parse", buf);
        cr_assert_eq((long long)back, (long long)samples[i], "%s", buf);
    }
    /* Formatting a parsed time with an offset gives the UTC form. */
    time_t t;
    cr_assert_eq(json_parse_time("2026-01-31T14:30:00.25+02:30", &t), 0);
    json_format_time(t, buf, sizeof buf);
    cr_assert_str_eq(buf, "2026-01-31T12:00:00Z");
}

Test(json_time, add_time)
{
    cJSON *o = cJSON_CreateObject();
    cr_assert_not_null(json_add_time(o, "expires_at", 1709164800));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "expires_at")->valuestring,
                     "2024-02-29T00:00:00Z");
    cJSON_Delete(o);
}

/* ---- arrays and enums ---- */

Test(json_get_string_array, reads_and_checks)
{
    cJSON *o = parse_ok("{\"ok\":[\"a\",\"bb\",\"ccc\"],\"none\":[],\"str\":\"a\",\"num\":[\"a\",1],"
                        "\"nul\":[null],\"nested\":[[\"a\"]],\"emptyitem\":[\"a\",\"\"],"
                        "\"dup\":[\"a\",\"b\",\"a\"],\"z\":null,\"obj\":{\"a\":\"b\"}}");
    char d[LICD_DETAIL_MAX];
    const cJSON *arr = (const cJSON *)1;

    cr_assert_eq(json_get_string_array(o, "ok", 1, 3, 3, &arr, d), LICD_OK);
    cr_assert(cJSON_IsArray(arr));
    cr_assert_eq(cJSON_GetArraySize(arr), 3);
    cr_assert_str_eq(cJSON_GetArrayItem(arr, 1)->valuestring, "bb");

    cr_assert_eq(json_get_string_array(o, "none", 1, 3, 3, &arr, d), LICD_OK);
    cr_assert_not_null(arr);
    cr_assert_eq(cJSON_GetArraySize(arr), 0);

    cr_assert_eq(json_get_string_array(o, "missing", 0, 3, 3, &arr, d), LICD_OK);
    cr_assert_null(arr);
    cr_assert_eq(json_get_string_array(o, "z", 0, 3, 3, &arr, d), LICD_OK);
    cr_assert_null(arr);
    expect_field_error(json_get_string_array(o, "missing", 1, 3, 3, &arr, d), d, "missing");
    expect_field_error(json_get_string_array(o, "z", 1, 3, 3, &arr, d), d, "z");

    expect_field_error(json_get_string_array(o, "str", 1, 3, 3, &arr, d), d, "str");
    expect_field_error(json_get_string_array(o, "obj", 1, 3, 3, &arr, d), d, "obj");
    expect_field_error(json_get_string_array(o, "num", 1, 3, 3, &arr, d), d, "num");
    expect_field_error(json_get_string_array(o, "nul", 1, 3, 3, &arr, d), d, "nul");
    expect_field_error(json_get_string_array(o, "nested", 1, 3, 3, &arr, d), d, "nested");
    expect_field_error(json_get_string_array(o, "emptyitem", 1, 3, 3, &arr, d), d, "emptyitem");
    expect_field_error(json_get_string_array(o, "dup", 1, 3, 3, &arr, d), d, "dup");
    cr_assert_not_null(strstr(d, "duplicate"));
    /* Too many items, and an item too long. */
    expect_field_error(json_get_string_array(o, "ok", 1, 2, 3, &arr, d), d, "ok");
    expect_field_error(json_get_string_array(o, "ok", 1, 3, 2, &arr, d), d, "ok");
    cr_assert_null(arr);
    cJSON_Delete(o);
}

Test(json_get_string_array, many_items)
{
    /* 1000 distinct items: accepted with max 1000, refused with max 999. */
    size_t cap = 16 + 1000 * 8;
    char *body = malloc(cap), *p = body;
    p += sprintf(p, "{\"f\":[");
    for (int i = 0; i < 1000; i++)
        p += sprintf(p, "%s\"i%d\"", i ? "," : "", i);
    strcpy(p, "]}");
    cJSON *o = parse_ok(body);
    char d[LICD_DETAIL_MAX];
    const cJSON *arr;
    cr_assert_eq(json_get_string_array(o, "f", 1, 1000, 8, &arr, d), LICD_OK);
    expect_field_error(json_get_string_array(o, "f", 1, 999, 8, &arr, d), d, "f");
    cJSON_Delete(o);
    free(body);
}

static const char *const STATES[] = {"valid", "intermediate", "invalid", NULL};

Test(json_get_enum, reads_and_checks)
{
    cJSON *o = parse_ok("{\"state\":\"intermediate\",\"upper\":\"VALID\",\"num\":1,\"z\":null,"
                        "\"empty\":\"\",\"prefix\":\"val\"}");
    char d[LICD_DETAIL_MAX];
    const char *v = NULL;

    cr_assert_eq(json_get_enum(o, "state", 1, STATES, "valid", &v, d), LICD_OK);
    cr_assert_eq(v, STATES[1], "the list entry itself is returned");

    cr_assert_eq(json_get_enum(o, "missing", 0, STATES, "valid", &v, d), LICD_OK);
    cr_assert_str_eq(v, "valid");
    cr_assert_eq(json_get_enum(o, "z", 0, STATES, NULL, &v, d), LICD_OK);
    cr_assert_null(v);
    expect_field_error(json_get_enum(o, "missing", 1, STATES, NULL, &v, d), d, "missing");
    expect_field_error(json_get_enum(o, "z", 1, STATES, NULL, &v, d), d, "z");

    expect_field_error(json_get_enum(o, "upper", 1, STATES, NULL, &v, d), d, "upper");
    cr_assert_not_null(strstr(d, "valid, intermediate, invalid"), "detail lists the values: %s", d);
    expect_field_error(json_get_enum(o, "num", 1, STATES, NULL, &v, d), d, "num");
    expect_field_error(json_get_enum(o, "empty", 1, STATES, NULL, &v, d), d, "empty");
    expect_field_error(json_get_enum(o, "prefix", 1, STATES, NULL, &v, d), d, "prefix");
    cJSON_Delete(o);
}
