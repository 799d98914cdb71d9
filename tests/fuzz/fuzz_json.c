/* The request-body gate: json_parse_object on any bytes, then every field
 * reader on every member of what it accepts. */
#include "fuzz.h"
#include "util/json.h"

static const char *const colours[] = {"red", "green", "blue", NULL};

/* Each reader on one member; what they answer is not the question here,
 * only that none of them reads or writes out of bounds or leaks. */
static void read_member(const cJSON *obj, const char *name)
{
    char detail[LICD_DETAIL_MAX];
    const char *s;
    const cJSON *arr;
    long long i;
    int b, present;
    time_t t;
    char *text = NULL;
    unsigned char *bytes = NULL;
    size_t nbytes;

    json_get_string(obj, name, 1, 1, 64, &s, detail);
    json_get_int(obj, name, 1, -JSON_MAX_SAFE_INT, JSON_MAX_SAFE_INT, &i, detail);
    json_get_bool(obj, name, 0, &b, detail);
    json_get_time(obj, name, 0, &t, &present, detail);
    json_get_string_array(obj, name, 0, 8, 32, &arr, detail);
    json_get_enum(obj, name, 0, colours, "red", &s, detail);
    json_get_token(obj, name, 1, 32, "abcdefghijklmnopqrstuvwxyz0123456789_-", &s, detail);
    if (json_get_object_text(obj, name, 0, 1024, &text, detail) == LICD_OK)
        free(text);
    if (json_get_base64(obj, name, 0, 256, &bytes, &nbytes, detail) == LICD_OK)
        free(bytes);
    if ((s = json_string_member(obj, name))) {
        json_is_uuid(s);
        json_utf8_valid(s, strlen(s));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char detail[LICD_DETAIL_MAX];
    cJSON *obj = NULL;
    const cJSON *m;

    if (json_parse_object((const char *)data, size, &obj, detail) != LICD_OK)
        return 0;
    cJSON_ArrayForEach(m, obj) {
        if (m->string)
            read_member(obj, m->string);
    }
    read_member(obj, "absent");
    cJSON_Delete(obj);
    return 0;
}
