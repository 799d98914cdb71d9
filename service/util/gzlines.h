/* JSON lines in a gzip archive (usage reports): inflating within a bound on
 * the inflated size, then handing each line that is a JSON object on. */
#ifndef LICD_UTIL_GZLINES_H
#define LICD_UTIL_GZLINES_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/error.h"

/* Called with each line that is a JSON object (freed after the call);
 * anything but LICD_OK stops the reading and is returned. */
typedef int (*gzlines_fn)(void *arg, const cJSON *obj);

/* Inflates gz (len bytes: one gzip member or several in a row) into *out
 * (malloc'd, *out_len bytes, not NUL-terminated). More than limit bytes:
 * LICD_ERR_BODY_TOO_LARGE, decided while inflating (a zip bomb is never
 * inflated whole); a truncated or corrupt archive: LICD_ERR_INVALID_ARCHIVE.
 * detail (LICD_DETAIL_MAX bytes) says why. */
int gzlines_inflate(const char *gz, size_t len, size_t limit, char **out, size_t *out_len,
                    char *detail);

/* Inflates gz as gzlines_inflate does and calls fn for each line (split at
 * '\n'; blank lines skipped) that is a JSON object; the others are counted
 * in *rejected. */
int gzlines_read(const char *gz, size_t len, size_t limit, gzlines_fn fn, void *arg,
                 long long *rejected, char *detail);

#endif
