/* json_parse_time on any text; what it accepts must format and parse back
 * to the same instant whenever the formatted text is in its range. */
#include "fuzz.h"
#include "util/json.h"

/* 10000-01-01T00:00:00Z: json_format_time writes a 5-digit year from here. */
#define YEAR_10000 253402300800LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), buf[32];
    time_t t, again;

    if (json_parse_time(s, &t) == 0) {
        json_format_time(t, buf, sizeof buf);
        if (t >= 0 && (long long)t < YEAR_10000 && (json_parse_time(buf, &again) != 0 || again != t))
            abort();
    }
    free(s);
    return 0;
}
