/* Request-body JSON: strict parsing and typed field readers that answer
 * LICD_ERR_MALFORMED_JSON or LICD_ERR_INVALID_FIELD (detail names the field)
 * on any hostile input, and RFC 3339 times. */
#ifndef LICD_UTIL_JSON_H
#define LICD_UTIL_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>

#include "util/error.h"

#define JSON_MAX_DEPTH 32
/* Integers are exact in a JSON double only up to 2^53. */
#define JSON_MAX_SAFE_INT 9007199254740991LL

/* Parses body (len bytes, need not be NUL-terminated) into a JSON object.
 * Refuses invalid JSON, a non-object top level, raw NUL bytes, "\u0000"
 * escapes, nesting deeper than JSON_MAX_DEPTH and invalid UTF-8 with
 * LICD_ERR_MALFORMED_JSON. *out is freed by the caller with cJSON_Delete. */
int json_parse_object(const char *body, size_t len, cJSON **out, char *detail);

/* Each reader below: missing and required → LICD_ERR_INVALID_FIELD
 * ("<name> is required"); present but wrong type or out of range →
 * LICD_ERR_INVALID_FIELD naming the field. JSON null counts as missing.
 * Strings point into obj and live as long as it does. */
int json_get_string(const cJSON *obj, const char *name, int required, size_t min_len,
                    size_t max_len, const char **out, char *detail);
int json_get_int(const cJSON *obj, const char *name, int required, long long min,
                 long long max, long long *out, char *detail);
int json_get_bool(const cJSON *obj, const char *name, int required, int *out, char *detail);
/* RFC 3339 time string; *present tells whether it was given. */
int json_get_time(const cJSON *obj, const char *name, int required, time_t *out,
                  int *present, char *detail);
/* Array of at most max_items distinct strings each 1..max_len bytes;
 * *out points into obj (NULL when absent and not required). */
int json_get_string_array(const cJSON *obj, const char *name, int required, size_t max_items,
                          size_t max_len, const cJSON **out, char *detail);
/* One of the listed values (NULL-terminated); *out is the matching list entry
 * or dflt when absent and not required. */
int json_get_enum(const cJSON *obj, const char *name, int required, const char *const *values,
                  const char *dflt, const char **out, char *detail);

/* A string of 1..max_len characters, each one of those in charset (an
 * identifier such as a product code); *out points into obj. */
int json_get_token(const cJSON *obj, const char *name, int required, size_t max_len,
                   const char *charset, const char **out, char *detail);
/* A JSON object of at most max_bytes once serialised; *out is that
 * compact text, malloc'd (the caller frees), NULL when absent and not required. */
int json_get_object_text(const cJSON *obj, const char *name, int required, size_t max_bytes,
                         char **out, char *detail);
/* Standard base64 (RFC 4648 alphabet, padded, no white space, canonical)
 * decoding to 1..max_decoded bytes. Bad text → LICD_ERR_INVALID_FIELD;
 * more than max_decoded bytes → LICD_ERR_BODY_TOO_LARGE, decided from the
 * length before anything is decoded. *out is malloc'd (the caller frees). */
int json_get_base64(const cJSON *obj, const char *name, int required, size_t max_decoded,
                    unsigned char **out, size_t *out_len, char *detail);

/* Adds the parsed JSON text under name (null when text is NULL); returns
 * the added item, or NULL when text is not JSON or memory ran out. */
cJSON *json_add_raw(cJSON *obj, const char *name, const char *text);
/* Adds the string s, or null when s is NULL or empty; the added item or NULL. */
cJSON *json_add_string_or_null(cJSON *obj, const char *name, const char *s);

/* The string member name of obj, or NULL when absent or not a string. */
const char *json_string_member(const cJSON *obj, const char *name);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" into UTC seconds; 0 or -1. */
int json_parse_time(const char *text, time_t *out);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void json_format_time(time_t t, char *buf, size_t len);
/* Adds a formatted time to obj under name; returns the added item or NULL. */
cJSON *json_add_time(cJSON *obj, const char *name, time_t t);
/* 1 if s is a UUID in its canonical 8-4-4-4-12 hex form. */
int json_is_uuid(const char *s);
/* 1 if s (len bytes) is valid UTF-8 without overlongs or surrogates. */
int json_utf8_valid(const char *s, size_t len);

#endif
