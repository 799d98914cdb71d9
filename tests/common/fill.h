/* Table rows (bodies, headers, SQL) that hold a value known only at run time,
 * an id or a kid, write it as %s and are filled with test_fill: a row used as
 * a printf format could not be checked by the compiler. */
#ifndef LICD_TEST_FILL_H
#define LICD_TEST_FILL_H

#include <stddef.h>

/* tmpl with each "%s" in it replaced by value, into out (size bytes);
 * -1 if that does not fit. */
int test_fill(char *out, size_t size, const char *tmpl, const char *value);

#endif
