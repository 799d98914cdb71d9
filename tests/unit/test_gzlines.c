/* Unit tests for service/util/gzlines.c: the inflated size bound, and that the
 * line reader stays within the inflated text, which is not NUL-terminated
 * (under ASan, as tests/run builds them, a read past it fails the test). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/error.h"
#include "util/gzlines.h"

/* One gzip member of len bytes of data, malloc'd. */
static char *gz(const char *data, size_t len, size_t *out_len)
{
    z_stream z;
    uLong cap;
    char *out;
    memset(&z, 0, sizeof z);
    cr_assert(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    cap = deflateBound(&z, (uLong)len) + 64;
    cr_assert(out = malloc(cap));
    z.next_in = (const Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* len bytes of c. */
static char *filled(char c, size_t len)
{
    char *s = malloc(len);
    cr_assert(s);
    memset(s, c, len);
    return s;
}

static int count(void *arg, const cJSON *obj)
{
    (void)obj;
    ++*(long long *)arg;
    return LICD_OK;
}

/* An archive of exactly limit bytes inflates; one of limit + 1 is too large,
 * whether the output buffer is limit + 1 from the start (a large archive for
 * its limit) or reaches it by doubling. */
Test(gzlines, the_limit_is_exact)
{
    static const size_t limits[] = {100, 20000, 1u << 20};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        size_t limit = limits[i];
        for (size_t len = limit - 1; len <= limit + 2; len++) {
            char detail[LICD_DETAIL_MAX] = "", *text = filled('x', len), *out = NULL;
            size_t zlen, out_len = 0;
            char *z = gz(text, len, &zlen);
            int rc = gzlines_inflate(z, zlen, limit, &out, &out_len, detail);
            if (len <= limit) {
                cr_assert_eq(rc, LICD_OK, "%zu bytes, limit %zu: %d %s", len, limit, rc, detail);
                cr_assert_eq(out_len, len);
                cr_assert_eq(memcmp(out, text, len), 0);
            } else {
                cr_assert_eq(rc, LICD_ERR_BODY_TOO_LARGE, "%zu bytes, limit %zu: %d (%zu out)",
                             len, limit, rc, out_len);
                cr_assert_null(out);
                cr_assert(strstr(detail, "more than"), "%s", detail);
            }
            free(out);
            free(z);
            free(text);
        }
    }
}

/* A record line, then a last line of blanks without a newline, at every
 * inflated size from 1 to 3 pages: some of them fill the reader's output
 * buffer exactly, so that the first byte after the text is outside it. */
Test(gzlines, lines_are_read_within_the_inflated_text)
{
    static const char record[] = "{\"metric\":\"mailboxes\",\"value\":90}\n";
    for (size_t len = sizeof record - 1; len <= 3 * 4096 + 64; len++) {
        char detail[LICD_DETAIL_MAX] = "", *text = filled(' ', len);
        long long taken = 0, rejected = 0;
        size_t zlen;
        char *z;
        memcpy(text, record, sizeof record - 1);
        if (len % 2)
            text[len - 1] = '\t';
        z = gz(text, len, &zlen);
        cr_assert_eq(gzlines_read(z, zlen, 1u << 20, count, &taken, &rejected, detail), LICD_OK,
                     "%zu bytes: %s", len, detail);
        cr_assert_eq(taken, 1, "%zu bytes: %lld records", len, taken);
        cr_assert_eq(rejected, 0, "%zu bytes: %lld rejected", len, rejected);
        free(z);
        free(text);
    }
}

/* Several members, a line split between two of them, blank lines and a line
 * that is not a record; the last line has no newline. */
Test(gzlines, members_blank_lines_and_rejects)
{
    static const char *parts[] = {"{\"metric\":\"a\",\"value\":1}\n \t\r\n{\"metric\":",
                                  "\"b\",\"value\":2}\r\nnot a record\n\n",
                                  "{\"metric\":\"c\",\"value\":3}"};
    char all[512], detail[LICD_DETAIL_MAX] = "";
    size_t n = 0;
    long long taken = 0, rejected = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t zlen;
        char *z = gz(parts[i], strlen(parts[i]), &zlen);
        cr_assert(n + zlen <= sizeof all);
        memcpy(all + n, z, zlen);
        n += zlen;
        free(z);
    }
    cr_assert_eq(gzlines_read(all, n, 1u << 20, count, &taken, &rejected, detail), LICD_OK, "%s",
                 detail);
    cr_assert_eq(taken, 3);
    cr_assert_eq(rejected, 1);
}

/* A NUL byte is not a blank: a line of one is a rejected line, and one after
 * a record makes the line no record (strchr(" \t\r", 0) would find the
 * string's end and cut it as a blank). */
Test(gzlines, a_nul_byte_is_no_blank)
{
    static const char text[] = "{\"metric\":\"a\",\"value\":1}\n\0\n{\"metric\":\"b\",\"value\":2}\0\n";
    char detail[LICD_DETAIL_MAX] = "";
    long long taken = 0, rejected = 0;
    size_t zlen;
    char *z = gz(text, sizeof text - 1, &zlen);
    cr_assert_eq(gzlines_read(z, zlen, 1u << 20, count, &taken, &rejected, detail), LICD_OK, "%s",
                 detail);
    cr_assert_eq(taken, 1);
    cr_assert_eq(rejected, 2);
    free(z);
}
