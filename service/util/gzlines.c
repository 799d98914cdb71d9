/* JSON lines in a gzip archive: see gzlines.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/gzlines.h"
#include "util/json.h"

/* The output buffer grows by doubling up to limit + 1 bytes: one byte more
 * than allowed is what tells a too large archive from one of exactly limit,
 * checked after every inflate (the last member may end just as it fills). */
int gzlines_inflate(const char *gz, size_t len, size_t limit, char **out, size_t *out_len,
                    char *detail)
{
    z_stream z;
    size_t cap = len < (limit >> 4) ? 4 * len + 4096 : limit + 1, n = 0;
    char *buf = NULL;
    int rc = LICD_OK;

    *out = NULL;
    *out_len = 0;
    if (cap > limit + 1)
        cap = limit + 1;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return LICD_ERR_NOMEM;
    z.next_in = (const Bytef *)gz;
    z.avail_in = (uInt)len;
    for (;;) {
        int zrc;
        if (!buf || n == cap) {
            char *grown;
            cap = buf ? (2 * cap > limit + 1 ? limit + 1 : 2 * cap) : cap;
            if (!(grown = realloc(buf, cap))) {
                rc = LICD_ERR_NOMEM;
                break;
            }
            buf = grown;
        }
        z.next_out = (Bytef *)buf + n;
        z.avail_out = (uInt)(cap - n);
        zrc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (n > limit) {
            snprintf(detail, LICD_DETAIL_MAX, "the report inflates to more than %zu bytes", limit);
            rc = LICD_ERR_BODY_TOO_LARGE;
            break;
        }
        if (zrc == Z_STREAM_END && z.avail_in == 0)
            break;
        if (zrc == Z_STREAM_END) {
            inflateReset(&z); /* another member follows */
            continue;
        }
        if (zrc == Z_OK || (zrc == Z_BUF_ERROR && z.avail_out == 0))
            continue;
        /* No progress with room to write: the input ended early; or bad data. */
        if (zrc == Z_MEM_ERROR) {
            rc = LICD_ERR_NOMEM;
        } else {
            snprintf(detail, LICD_DETAIL_MAX, "the gzip archive is %s",
                     zrc == Z_BUF_ERROR ? "truncated" : "corrupt");
            rc = LICD_ERR_INVALID_ARCHIVE;
        }
        break;
    }
    inflateEnd(&z);
    if (rc != LICD_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return LICD_OK;
}

/* Trailing " \t\r" is cut off each line; a line of nothing else is blank.
 * The text is not NUL-terminated and may fill its buffer to the last byte, so
 * no string function may scan it (strspn ran past the end on a last line of
 * blanks, and under ASan's strict_string_checks on any line at all). */
int gzlines_read(const char *gz, size_t len, size_t limit, gzlines_fn fn, void *arg,
                 long long *rejected, char *detail)
{
    char *text, scratch[LICD_DETAIL_MAX];
    size_t tlen, start = 0;
    int rc = gzlines_inflate(gz, len, limit, &text, &tlen, detail);
    while (rc == LICD_OK && start < tlen) {
        const char *nl = memchr(text + start, '\n', tlen - start);
        size_t end = nl ? (size_t)(nl - text) : tlen, stop = end;
        cJSON *obj = NULL;
        while (stop > start && memchr(" \t\r", text[stop - 1], 3))
            stop--;
        if (stop > start) { /* not blank: the cut stopped at another byte */
            if (json_parse_object(text + start, stop - start, &obj, scratch) == LICD_OK)
                rc = fn(arg, obj);
            else
                (*rejected)++;
            cJSON_Delete(obj);
        }
        start = end + 1;
    }
    free(text);
    return rc;
}
