/* Unit tests for service/util/error.c and http_problem_body: status/code/title per error and the RFC 9457 body. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http/request.h"
#include "util/error.h"

struct row {
    licd_err err;
    int status;
    const char *code, *title, *name;
};

static const struct row table[] = {
#define ROW(name, status, code, title) {name, status, code, title, #name},
    LICD_ERRORS(ROW)
#undef ROW
};
#define NROWS (sizeof table / sizeof table[0])

static int is_snake_case(const char *s)
{
    if (!*s || *s == '_')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

Test(errors, every_public_error_has_status_code_title)
{
    for (size_t i = 0; i < NROWS; i++) {
        const struct row *r = &table[i];
        if (!r->status)
            continue;
        cr_assert(r->status >= 400 && r->status <= 599, "%s", r->name);
        cr_assert_eq(licd_err_status(r->err), r->status, "%s", r->name);
        cr_assert_str_eq(licd_err_code(r->err), r->code, "%s", r->name);
        cr_assert_str_eq(licd_err_title(r->err), r->title, "%s", r->name);
        cr_assert_str_eq(licd_err_name(r->err), r->code, "%s", r->name);
        cr_assert(is_snake_case(r->code), "%s code %s", r->name, r->code);
        cr_assert_neq(r->title[0], '\0', "%s", r->name);
    }
}

Test(errors, codes_are_unique)
{
    for (size_t i = 0; i < NROWS; i++)
        for (size_t j = i + 1; j < NROWS; j++) {
            cr_assert_neq(table[i].err, table[j].err);
            cr_assert_str_neq(table[i].code, table[j].code, "%s and %s share a code",
                              table[i].name, table[j].name);
        }
}

Test(errors, contract_codes)
{
    /* The codes and statuses API.md "Conventions" fixes. */
    static const struct {
        licd_err err;
        int status;
        const char *code;
    } want[] = {
        {LICD_ERR_BAD_REQUEST, 400, "bad_request"},
        {LICD_ERR_MALFORMED_JSON, 400, "malformed_json"},
        {LICD_ERR_INVALID_FIELD, 400, "invalid_field"},
        {LICD_ERR_UNAUTHORIZED, 401, "unauthorized"},
        {LICD_ERR_FORBIDDEN, 403, "forbidden"},
        {LICD_ERR_NOT_FOUND, 404, "not_found"},
        {LICD_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed"},
        {LICD_ERR_CONFLICT, 409, "conflict"},
        {LICD_ERR_BODY_TOO_LARGE, 413, "body_too_large"},
        {LICD_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type"},
        {LICD_ERR_INTERNAL, 500, "internal_error"},
        {LICD_ERR_UNAVAILABLE, 503, "unavailable"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert_eq(licd_err_status(want[i].err), want[i].status, "%s", want[i].code);
        cr_assert_str_eq(licd_err_code(want[i].err), want[i].code);
    }
}

Test(errors, internal_errors_answer_500_internal_error)
{
    size_t internal = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const struct row *r = &table[i];
        if (r->status)
            continue;
        internal++;
        cr_assert_eq(licd_err_status(r->err), 500, "%s", r->name);
        cr_assert_str_eq(licd_err_code(r->err), "internal_error", "%s", r->name);
        cr_assert_str_eq(licd_err_title(r->err), "Internal server error", "%s", r->name);
        /* Logs still tell them apart. */
        cr_assert_str_eq(licd_err_name(r->err), r->code, "%s", r->name);
        cr_assert_str_neq(licd_err_name(r->err), "internal_error", "%s", r->name);
    }
    cr_assert_geq(internal, 2);
    cr_assert_eq(licd_err_status(LICD_ERR_NOMEM), 500);
    cr_assert_str_eq(licd_err_code(LICD_ERR_NOMEM), "internal_error");
    cr_assert_eq(licd_err_status(LICD_ERR_RETRY), 500);
    cr_assert_str_eq(licd_err_code(LICD_ERR_RETRY), "internal_error");
    cr_assert_str_eq(licd_err_code(LICD_ERR_TOKEN_EXPIRED), "internal_error");
    cr_assert_str_eq(licd_err_code(LICD_ERR_CONFIG), "internal_error");
}

Test(errors, ok_and_unknown_values)
{
    cr_assert_eq(licd_err_status(LICD_OK), 500);
    cr_assert_str_eq(licd_err_code(LICD_OK), "internal_error");
    cr_assert_str_eq(licd_err_name(LICD_OK), "ok");
    cr_assert_eq(licd_err_status((licd_err)12345), 500);
    cr_assert_str_eq(licd_err_code((licd_err)-1), "internal_error");
    cr_assert_str_eq(licd_err_name((licd_err)12345), "unknown");
}

/* Parses a problem body and checks it has exactly the six members with the expected values. */
static void check_body(char *text, licd_err err, const char *detail, const char *request_id)
{
    cr_assert_not_null(text);
    cJSON *p = cJSON_Parse(text);
    cr_assert_not_null(p, "not JSON: %s", text);
    cr_assert(cJSON_IsObject(p));

    static const char *const keys[] = {"type", "title", "status", "detail", "code", "request_id"};
    cr_assert_eq(cJSON_GetArraySize(p), 6, "%s", text);
    for (size_t i = 0; i < 6; i++)
        cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(p, keys[i]), "no %s in %s", keys[i],
                           text);

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(p, "title");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(p, "status");
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(p, "detail");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(p, "code");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(p, "request_id");
    cr_assert(cJSON_IsString(type) && cJSON_IsString(title) && cJSON_IsNumber(status) &&
              cJSON_IsString(det) && cJSON_IsString(code) && cJSON_IsString(rid));

    char want_type[128];
    snprintf(want_type, sizeof want_type, "https://licd.dev/problems/%s", licd_err_code(err));
    cr_assert_str_eq(type->valuestring, want_type);
    cr_assert_str_eq(title->valuestring, licd_err_title(err));
    cr_assert_eq(status->valuedouble, (double)licd_err_status(err));
    cr_assert_str_eq(code->valuestring, licd_err_code(err));
    cr_assert_str_eq(det->valuestring, detail);
    cr_assert_str_eq(rid->valuestring, request_id);
    cJSON_Delete(p);
    free(text);
}

Test(problem_body, members_and_values)
{
    check_body(http_problem_body(LICD_ERR_INVALID_FIELD, "quantity must be an integer", "abc123"),
               LICD_ERR_INVALID_FIELD, "quantity must be an integer", "abc123");
    check_body(http_problem_body(LICD_ERR_NOT_FOUND, "no such resource", "r-1"),
               LICD_ERR_NOT_FOUND, "no such resource", "r-1");
    check_body(http_problem_body(LICD_ERR_UNAVAILABLE, "database unreachable", "x"),
               LICD_ERR_UNAVAILABLE, "database unreachable", "x");
}

Test(problem_body, every_error_builds_a_body)
{
    for (size_t i = 0; i < NROWS; i++)
        check_body(http_problem_body(table[i].err, "d", "rid"), table[i].err, "d", "rid");
}

Test(problem_body, missing_detail_uses_the_title)
{
    check_body(http_problem_body(LICD_ERR_CONFLICT, NULL, "rid"), LICD_ERR_CONFLICT, "Conflict",
               "rid");
    check_body(http_problem_body(LICD_ERR_CONFLICT, "", "rid"), LICD_ERR_CONFLICT, "Conflict",
               "rid");
    check_body(http_problem_body(LICD_ERR_CONFLICT, "x", NULL), LICD_ERR_CONFLICT, "x", "");
}

Test(problem_body, internal_error_body)
{
    char *text = http_problem_body(LICD_ERR_NOMEM, NULL, "rid");
    cr_assert_not_null(strstr(text, "\"status\":500"), "%s", text);
    check_body(text, LICD_ERR_NOMEM, "Internal server error", "rid");
    check_body(http_problem_body(LICD_ERR_RETRY, NULL, "rid"), LICD_ERR_INTERNAL,
               "Internal server error", "rid");
}

Test(problem_body, detail_is_escaped)
{
    static const char *const details[] = {
        "name \"x\" is taken",
        "line one\nline two\r\n",
        "back\\slash and / slash",
        "tab\there, bell\a, escape\x1b, nul-free",
        "</script><script>alert(1)</script>",
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
        "\"}, \"status\": 200, \"x\": \"",
    };
    for (size_t i = 0; i < sizeof details / sizeof details[0]; i++) {
        char *text = http_problem_body(LICD_ERR_BAD_REQUEST, details[i], "rid");
        cr_assert_not_null(text);
        /* No raw control character reaches the wire. */
        for (const char *p = text; *p; p++)
            cr_assert_geq((unsigned char)*p, 0x20, "raw control character in %s", text);
        check_body(text, LICD_ERR_BAD_REQUEST, details[i], "rid");
    }
}

Test(problem_body, request_id_is_escaped)
{
    check_body(http_problem_body(LICD_ERR_FORBIDDEN, "d", "a\"b\\c\nd"), LICD_ERR_FORBIDDEN, "d",
               "a\"b\\c\nd");
}

Test(problem_body, long_detail_is_kept)
{
    char detail[LICD_DETAIL_MAX];
    memset(detail, 'd', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    check_body(http_problem_body(LICD_ERR_INVALID_FIELD, detail, "rid"), LICD_ERR_INVALID_FIELD,
               detail, "rid");
}
