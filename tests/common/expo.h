/* A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for tests that read /metrics: any line the format does not allow, a
 * family whose HELP or TYPE comes twice or whose lines are not one group, a
 * TYPE after the family's samples, a series given twice, a label value with
 * a quote, backslash or escape the format does not allow, and a histogram
 * whose buckets are not cumulative up to +Inf (= _count) each fail it. */
#ifndef LICD_TEST_EXPO_H
#define LICD_TEST_EXPO_H

#include <stddef.h>

typedef struct expo expo;

/* The parsed text, or NULL with the reason and the line's number in err. */
expo *expo_parse(const char *text, char *err, size_t errlen);
void expo_free(expo *e);

/* The value of the series name{labels}: labels holds label names and their
 * (unescaped) values in turn, in any order, then NULL (or is NULL for no
 * label). 0 when the series is there, -1 when not. */
int expo_value(const expo *e, const char *name, const char *const *labels, double *value);
/* The TYPE of family name ("counter", "gauge", ...), "untyped" for a family
 * with samples and no TYPE, NULL for none. */
const char *expo_type(const expo *e, const char *name);
/* Whether family name had a HELP line. */
int expo_has_help(const expo *e, const char *name);
/* How many series the family name has. */
size_t expo_series(const expo *e, const char *name);

#endif
