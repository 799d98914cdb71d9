/* Strict request-body JSON parsing and typed field readers (see json.h). */
#include "util/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"

static int fail(char *detail, licd_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *detail, licd_err err, const char *fmt, ...)
{
    if (detail) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, LICD_DETAIL_MAX, fmt, ap);
        va_end(ap);
    }
    return err;
}

int json_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of the RFC 8259 number at s, or 0 when there is none: strtod, which
 * cJSON relies on, also takes leading zeros ("01") and a bare dot ("1."). */
static size_t number_len(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if (i < len && is_digit(s[i]))
        while (i < len && is_digit(s[i]))
            i++;
    else
        return 0;
    if (i < len && s[i] == '.') {
        if (++i >= len || !is_digit(s[i]))
            return 0;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return 0;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i;
}

/* One pass over the raw text before cJSON sees it: cJSON accepts NUL escapes
 * (silently truncating strings), raw control characters in strings and
 * numbers such as "01", recurses without a small bound and does not check
 * UTF-8, so those are refused here. */
static int prescan(const char *body, size_t len, char *detail)
{
    int depth = 0, in_string = 0;
    if (memchr(body, '\0', len))
        return fail(detail, LICD_ERR_MALFORMED_JSON, "body contains a NUL byte");
    if (!json_utf8_valid(body, len))
        return fail(detail, LICD_ERR_MALFORMED_JSON, "body is not valid UTF-8");
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if ((unsigned char)c < 0x20)
                return fail(detail, LICD_ERR_MALFORMED_JSON,
                            "unescaped control character in a string at byte %zu", i);
            if (c == '\\') {
                if (i + 5 < len && body[i + 1] == 'u' && memcmp(body + i + 2, "0000", 4) == 0)
                    return fail(detail, LICD_ERR_MALFORMED_JSON, "\\u0000 is not allowed in strings");
                i++;
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '-' || is_digit(c)) {
            size_t end = i;
            while (end < len && (is_digit(body[end]) || body[end] == '-' || body[end] == '+' ||
                                 body[end] == '.' || body[end] == 'e' || body[end] == 'E'))
                end++;
            if (number_len(body + i, end - i) != end - i)
                return fail(detail, LICD_ERR_MALFORMED_JSON, "invalid number at byte %zu", i);
            i = end - 1;
        } else if (c == '{' || c == '[') {
            if (++depth > JSON_MAX_DEPTH)
                return fail(detail, LICD_ERR_MALFORMED_JSON, "nesting deeper than %d", JSON_MAX_DEPTH);
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return LICD_OK;
}

static int key_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether any object in the tree under item names a member twice (compared
 * after unescaping, so "a" and "\u0061" are the same name). Parsers differ
 * on which duplicate wins, so what a proxy or a client library checked
 * might not be what licd would use: such a body is refused. Sorting keeps a
 * hostile object with many members at n log n; the depth is already capped. */
static int has_duplicate_keys(const cJSON *item, int *nomem)
{
    size_t n = 0, i = 0;
    const char **names;
    const cJSON *c;
    int dup = 0;

    for (c = item->child; c; c = c->next) {
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && has_duplicate_keys(c, nomem))
            return 1;
        n++;
    }
    if (!cJSON_IsObject(item) || n < 2)
        return 0;
    if (!(names = malloc(n * sizeof *names))) {
        *nomem = 1;
        return 0;
    }
    for (c = item->child; c; c = c->next)
        names[i++] = c->string;
    qsort(names, n, sizeof *names, key_order);
    for (i = 1; i < n && !dup; i++)
        dup = strcmp(names[i - 1], names[i]) == 0;
    free(names);
    return dup;
}

int json_parse_object(const char *body, size_t len, cJSON **out, char *detail)
{
    const char *end = NULL;
    cJSON *root;
    int rc, nomem = 0;

    *out = NULL;
    if (!body || len == 0)
        return fail(detail, LICD_ERR_MALFORMED_JSON, "request body is empty");
    if ((rc = prescan(body, len, detail)) != LICD_OK)
        return rc;
    root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root)
        return fail(detail, LICD_ERR_MALFORMED_JSON, "invalid JSON near byte %zu",
                    end && end >= body ? (size_t)(end - body) : (size_t)0);
    /* Only white space may follow the value. */
    for (; end && (size_t)(end - body) < len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            cJSON_Delete(root);
            return fail(detail, LICD_ERR_MALFORMED_JSON, "trailing data after the JSON value");
        }
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fail(detail, LICD_ERR_MALFORMED_JSON, "the body must be a JSON object");
    }
    if (has_duplicate_keys(root, &nomem) || nomem) {
        cJSON_Delete(root);
        return nomem ? LICD_ERR_NOMEM
                     : fail(detail, LICD_ERR_MALFORMED_JSON, "an object names a member twice");
    }
    *out = root;
    return LICD_OK;
}

/* Looks name up case-sensitively; null counts as absent. */
static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    return (item && !cJSON_IsNull(item)) ? item : NULL;
}

static int missing(const char *name, int required, char *detail)
{
    if (required)
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s is required", name);
    return LICD_OK;
}

int json_get_string(const cJSON *obj, const char *name, int required, size_t min_len,
                    size_t max_len, const char **out, char *detail)
{
    const cJSON *item = field(obj, name);
    size_t len;
    if (!item)
        return missing(name, required, detail);
    if (!cJSON_IsString(item) || !item->valuestring)
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be a string", name);
    len = strlen(item->valuestring);
    if (len < min_len || len > max_len)
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be %zu to %zu bytes long", name,
                    min_len, max_len);
    *out = item->valuestring;
    return LICD_OK;
}

int json_get_int(const cJSON *obj, const char *name, int required, long long min,
                 long long max, long long *out, char *detail)
{
    const cJSON *item = field(obj, name);
    double v;
    if (!item)
        return missing(name, required, detail);
    if (!cJSON_IsNumber(item))
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be an integer", name);
    v = item->valuedouble;
    if (!isfinite(v) || v != floor(v) || fabs(v) > (double)JSON_MAX_SAFE_INT)
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be an integer", name);
    if ((long long)v < min || (long long)v > max)
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be between %lld and %lld", name,
                    min, max);
    *out = (long long)v;
    return LICD_OK;
}

int json_get_bool(const cJSON *obj, const char *name, int required, int *out, char *detail)
{
    const cJSON *item = field(obj, name);
    if (!item)
        return missing(name, required, detail);
    if (!cJSON_IsBool(item))
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be true or false", name);
    *out = cJSON_IsTrue(item);
    return LICD_OK;
}

int json_get_time(const cJSON *obj, const char *name, int required, time_t *out,
                  int *present, char *detail)
{
    const cJSON *item = field(obj, name);
    *present = 0;
    if (!item)
        return missing(name, required, detail);
    if (!cJSON_IsString(item) || json_parse_time(item->valuestring, out) != 0)
        return fail(detail, LICD_ERR_INVALID_FIELD,
                    "%s must be an RFC 3339 time such as 2026-01-31T12:00:00Z", name);
    *present = 1;
    return LICD_OK;
}

int json_get_string_array(const cJSON *obj, const char *name, int required, size_t max_items,
                          size_t max_len, const cJSON **out, char *detail)
{
    const cJSON *item = field(obj, name), *el, *prev;
    size_t n = 0;
    *out = NULL;
    if (!item)
        return missing(name, required, detail);
    if (!cJSON_IsArray(item))
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be an array of strings", name);
    cJSON_ArrayForEach(el, item) {
        size_t len;
        if (++n > max_items)
            return fail(detail, LICD_ERR_INVALID_FIELD, "%s has more than %zu items", name,
                        max_items);
        if (!cJSON_IsString(el) || !el->valuestring)
            return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be an array of strings", name);
        len = strlen(el->valuestring);
        if (len == 0 || len > max_len)
            return fail(detail, LICD_ERR_INVALID_FIELD, "%s items must be 1 to %zu bytes long",
                        name, max_len);
        for (prev = item->child; prev != el; prev = prev->next)
            if (strcmp(prev->valuestring, el->valuestring) == 0)
                return fail(detail, LICD_ERR_INVALID_FIELD, "%s has a duplicate item", name);
    }
    *out = item;
    return LICD_OK;
}

int json_get_enum(const cJSON *obj, const char *name, int required, const char *const *values,
                  const char *dflt, const char **out, char *detail)
{
    const cJSON *item = field(obj, name);
    if (!item) {
        *out = dflt;
        return missing(name, required, detail);
    }
    if (cJSON_IsString(item) && item->valuestring)
        for (const char *const *v = values; *v; v++)
            if (strcmp(*v, item->valuestring) == 0) {
                *out = *v;
                return LICD_OK;
            }
    {
        char list[160] = "";
        for (const char *const *v = values; *v; v++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", v == values ? "" : ", ", *v);
        }
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be one of: %s", name, list);
    }
}

int json_get_token(const cJSON *obj, const char *name, int required, size_t max_len,
                   const char *charset, const char **out, char *detail)
{
    const char *s = NULL;
    int rc = json_get_string(obj, name, required, 1, max_len, &s, detail);
    if (rc != LICD_OK || !s)
        return rc;
    size_t ok = strspn(s, charset);
    if (s[ok])
        return fail(detail, LICD_ERR_INVALID_FIELD,
                    "%s has a character that is not allowed at byte %zu", name, ok);
    *out = s;
    return LICD_OK;
}

int json_get_object_text(const cJSON *obj, const char *name, int required, size_t max_bytes,
                         char **out, char *detail)
{
    const cJSON *item = field(obj, name);
    *out = NULL;
    if (!item)
        return missing(name, required, detail);
    if (!cJSON_IsObject(item))
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be a JSON object", name);
    if (!(*out = cJSON_PrintUnformatted(item)))
        return LICD_ERR_NOMEM;
    if (strlen(*out) > max_bytes) {
        free(*out);
        *out = NULL;
        return fail(detail, LICD_ERR_INVALID_FIELD, "%s must be at most %zu bytes as JSON", name,
                    max_bytes);
    }
    return LICD_OK;
}

int json_get_base64(const cJSON *obj, const char *name, int required, size_t max_decoded,
                    unsigned char **out, size_t *out_len, char *detail)
{
    const char *text = NULL;
    size_t len, decoded;
    int rc = json_get_string(obj, name, required, 0, (size_t)-1, &text, detail);
    *out = NULL;
    *out_len = 0;
    if (rc != LICD_OK || !field(obj, name))
        return rc;
    len = strlen(text);
    decoded = b64_decoded_len(text, len);
    if (decoded > max_decoded)
        return fail(detail, LICD_ERR_BODY_TOO_LARGE, "%s decodes to %zu bytes; at most %zu allowed",
                    name, decoded, max_decoded);
    if (!(*out = b64_decode(text, len, out_len)))
        return fail(detail, LICD_ERR_INVALID_FIELD,
                    "%s must be non-empty standard base64 with padding", name);
    return LICD_OK;
}

cJSON *json_add_raw(cJSON *obj, const char *name, const char *text)
{
    cJSON *item = text ? cJSON_Parse(text) : cJSON_CreateNull();
    if (item && cJSON_AddItemToObject(obj, name, item))
        return item;
    cJSON_Delete(item);
    return NULL;
}

cJSON *json_add_string_or_null(cJSON *obj, const char *name, const char *s)
{
    return s && *s ? cJSON_AddStringToObject(obj, name, s) : cJSON_AddNullToObject(obj, name);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int json_parse_time(const char *s, time_t *out)
{
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
    struct tm tm = {0};
    const char *p;
    time_t t;

    if (!s || strlen(s) < 20 || strlen(s) > 40)
        return -1;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) ||
        h > 23 || m > 59 || sec > 60)
        return -1;
    p = s + 19;
    if (*p == '.') {
        if (!(p[1] >= '0' && p[1] <= '9'))
            return -1;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        sign = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !digits(p + 1, 2, &oh) &&
               p[3] == ':' && !digits(p + 4, 2, &om) && oh <= 23 && om <= 59) {
        sign = *p == '+' ? 1 : -1;
    } else {
        return -1;
    }
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec == 60 ? 59 : sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t - sign * (oh * 3600 + om * 60);
    return 0;
}

void json_format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cJSON *json_add_time(cJSON *obj, const char *name, time_t t)
{
    char buf[32];
    json_format_time(t, buf, sizeof buf);
    return cJSON_AddStringToObject(obj, name, buf);
}

int json_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    }
    return 1;
}

const char *json_string_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
