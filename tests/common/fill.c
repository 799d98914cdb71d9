#include "fill.h"

#include <string.h>

int test_fill(char *out, size_t size, const char *tmpl, const char *value)
{
    size_t n = 0, value_len = strlen(value);
    for (const char *t = tmpl; *t; t++) {
        const char *piece = t;
        size_t len = 1;
        if (t[0] == '%' && t[1] == 's') {
            piece = value;
            len = value_len;
            t++;
        }
        if (n + len >= size)
            return -1;
        memcpy(out + n, piece, len);
        n += len;
    }
    if (n >= size)
        return -1;
    out[n] = '\0';
    return 0;
}
