/* Unit tests for the Prometheus text that service/util/metrics.c writes and
 * for tests/common/expo.c, the strict parser the integration tests read
 * /metrics with: it takes good text and refuses each kind of bad text. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "util/metrics.h"

static const char good[] = "# HELP a_total Things done.\n"
                           "# TYPE a_total counter\n"
                           "a_total{kind=\"x\",node=\"1\"} 3\n"
                           "a_total{node=\"1\",kind=\"y\",} 4 1700000000000\n"
                           "\n"
                           "# a comment\n"
                           "# TYPE h histogram\n"
                           "h_bucket{le=\"0.5\"} 1\n"
                           "h_bucket{le=\"+Inf\"} 2\n"
                           "h_sum 0.75\n"
                           "h_count 2\n"
                           "g{path=\"C:\\\\dir \\\"q\\\"\\nnext\"} -1.5e3\n"
                           "nan_gauge NaN\n";

Test(expo, parses_good_text)
{
    char err[256] = "";
    expo *e = expo_parse(good, err, sizeof err);
    double v = 0;
    cr_assert(e, "%s", err);
    cr_assert_str_eq(expo_type(e, "a_total"), "counter");
    cr_assert(expo_has_help(e, "a_total"));
    cr_assert_eq(expo_series(e, "a_total"), 2);
    cr_assert_eq(expo_value(e, "a_total", (const char *[]){"node", "1", "kind", "y", NULL}, &v), 0);
    cr_assert_eq(v, 4);
    cr_assert_str_eq(expo_type(e, "h"), "histogram");
    cr_assert_eq(expo_series(e, "h"), 4);
    cr_assert_eq(expo_value(e, "h_sum", NULL, &v), 0);
    cr_assert_eq(v, 0.75);
    cr_assert_str_eq(expo_type(e, "g"), "untyped");
    cr_assert_eq(expo_value(e, "g", (const char *[]){"path", "C:\\dir \"q\"\nnext", NULL}, &v), 0);
    cr_assert_eq(v, -1500);
    cr_assert_eq(expo_value(e, "nan_gauge", NULL, &v), 0);
    cr_assert(isnan(v));
    cr_assert_eq(expo_value(e, "a_total", (const char *[]){"kind", "x", NULL}, &v), -1,
                 "a label set must match whole");
    cr_assert_eq(expo_value(e, "missing", NULL, &v), -1);
    expo_free(e);
}

/* Each of these is good except for one thing, which must fail the parse. */
static const struct {
    const char *why, *text;
} bad[] = {
    {"unescaped quote in a label value", "m{a=\"x\"y\"} 1\n"},
    {"escape the format does not have", "m{a=\"x\\ty\"} 1\n"},
    {"backslash at the end of a value", "m{a=\"x\\\"} 1\n"},
    {"label value without quotes", "m{a=x} 1\n"},
    {"label twice", "m{a=\"1\",a=\"2\"} 1\n"},
    {"reserved label name", "m{__name__=\"x\"} 1\n"},
    {"labels not closed", "m{a=\"1\" 1\n"},
    {"no value", "m{a=\"1\"}\n"},
    {"value not a number", "m one\n"},
    {"hexadecimal value", "m 0x10\n"},
    {"junk after the value", "m 1 2 3\n"},
    {"bad metric name", "1m 1\n"},
    {"dash in a metric name", "my-metric 1\n"},
    {"no final newline", "m 1"},
    {"carriage return", "m 1\r\n"},
    {"second TYPE", "# TYPE m gauge\n# TYPE m gauge\nm 1\n"},
    {"second HELP", "# HELP m x\n# HELP m y\nm 1\n"},
    {"unknown type", "# TYPE m meter\nm 1\n"},
    {"TYPE after samples", "m 1\n# TYPE m gauge\n"},
    {"family in two groups", "# TYPE m gauge\nm{a=\"1\"} 1\nn 2\nm{a=\"2\"} 3\n"},
    {"family declared twice", "# TYPE m gauge\nm 1\n# TYPE n gauge\nn 1\n# HELP m again\n"},
    {"series twice", "# TYPE m gauge\nm{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 2\n"},
    {"HELP with a bad escape", "# HELP m a \\t b\nm 1\n"},
    {"counter sample named otherwise", "# TYPE m counter\nm_total 1\nm 2\nm_total 3\n"},
    {"histogram without +Inf", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
    {"histogram not cumulative",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
    {"histogram count off",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"},
    {"bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"},
    {"plain sample of a histogram", "# TYPE h histogram\nh 1\n"},
};

Test(expo, refuses_bad_text)
{
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[256] = "";
        expo *e = expo_parse(bad[i].text, err, sizeof err);
        cr_expect_null(e, "parsed text with %s: %s", bad[i].why, bad[i].text);
        cr_expect_neq(err[0], '\0', "no reason given for %s", bad[i].why);
        expo_free(e);
    }
}

/* What metrics_sample writes parses back to the same label values, however
 * they are made. */
Test(metrics_text, labels_are_escaped)
{
    static const char *const values[] = {"plain", "a\"quote", "back\\slash", "new\nline",
                                         "\\\"\n", "", "{},=", NULL};
    metrics_text t = {0};
    char err[256] = "", *text;
    size_t len = 0;
    expo *e;
    metrics_family(&t, "x_total", "counter", "Escaped labels.");
    for (int i = 0; values[i]; i++)
        metrics_sample(&t, "x_total", (const char *[]){"v", values[i], "n", "1", NULL}, i);
    metrics_family(&t, "y", "gauge", "No labels.");
    metrics_sample(&t, "y", NULL, -7);
    text = metrics_take(&t, &len);
    cr_assert(text);
    cr_assert_eq(strlen(text), len);
    e = expo_parse(text, err, sizeof err);
    cr_assert(e, "%s in:\n%s", err, text);
    for (int i = 0; values[i]; i++) {
        double v = -1;
        cr_assert_eq(expo_value(e, "x_total", (const char *[]){"n", "1", "v", values[i], NULL}, &v),
                     0, "value %d not found in:\n%s", i, text);
        cr_assert_eq(v, i);
    }
    cr_assert_eq(expo_series(e, "x_total"), 7);
    {
        double v = 0;
        cr_assert_eq(expo_value(e, "y", NULL, &v), 0);
        cr_assert_eq(v, -7);
    }
    expo_free(e);
    free(text);
}

/* The process's own metrics, as /metrics starts, are valid text. */
Test(metrics_text, render_is_valid)
{
    char err[256] = "", *text;
    size_t len = 0;
    expo *e;
    metrics_request("GET", "/v1/x", 200, 0.002);
    metrics_request("POST", "/v1/x", 404, 3.0);
    metrics_cache_lookup("keys", 1);
    text = metrics_render(&len);
    cr_assert(text);
    e = expo_parse(text, err, sizeof err);
    cr_assert(e, "%s in:\n%s", err, text);
    cr_assert_str_eq(expo_type(e, "licd_http_request_duration_seconds"), "histogram");
    cr_assert_eq(expo_series(e, "licd_http_requests_total"), 2);
    expo_free(e);
    free(text);
}
