/* A strict Prometheus text-format parser for tests (see expo.h). */
#include "expo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct family {
    char *name;
    const char *type; /* NULL until a TYPE line, or its first sample (untyped) */
    int typed, help, samples;
};

struct sample {
    size_t family;
    char *name;  /* the sample's own name (a histogram's name_bucket, ...) */
    char *key;   /* name{labels sorted by name, values as escaped} */
    char *rest;  /* key without a histogram bucket's le label */
    double value, le;
};

struct expo {
    struct family *f;
    size_t nf;
    struct sample *s;
    size_t ns;
};

/* A label as read: its name and escaped value (pointers into the line). */
struct label {
    const char *name, *value;
    size_t name_len, value_len;
};
#define MAX_LABELS 32

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "line %d: ", line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int name_start(char c, int colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static int name_char(char c, int colon)
{
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Length of the metric (colon = 1) or label name at p, 0 if none. */
static size_t name_len(const char *p, int colon)
{
    size_t n = 0;
    if (!name_start(p[0], colon))
        return 0;
    while (name_char(p[n], colon))
        n++;
    return n;
}

static void *grow(void *array, size_t n, size_t size)
{
    /* Room for one more in an array of n; doubles at powers of two. */
    if (n == 0 || (n & (n - 1)) == 0) {
        void *bigger = realloc(array, (n ? 2 * n : 1) * size);
        if (!bigger)
            abort();
        return bigger;
    }
    return array;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static long find_family(const expo *e, const char *name)
{
    for (size_t i = 0; i < e->nf; i++)
        if (strcmp(e->f[i].name, name) == 0)
            return (long)i;
    return -1;
}

static size_t add_family(expo *e, const char *name, size_t len)
{
    e->f = grow(e->f, e->nf, sizeof *e->f);
    e->f[e->nf] = (struct family){dup_n(name, len), NULL, 0, 0, 0};
    return e->nf++;
}

/* The family the lines of name belong to, made current: a family seen
 * before another one started is a second group of it (an error). */
static int enter_family(expo *e, long *current, const char *name, size_t len, int line,
                        char *err, size_t errlen)
{
    char *n = dup_n(name, len);
    long i = find_family(e, n);
    if (i >= 0 && i != *current) {
        fail(err, errlen, line, "family %s appears again after other families", n);
        free(n);
        return -1;
    }
    free(n);
    *current = i >= 0 ? i : (long)add_family(e, name, len);
    return 0;
}

/* A HELP text's escapes: only \\ and \n. */
static int help_ok(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p == '\\' && (++p == end || (*p != '\\' && *p != 'n')))
            return 0;
    return 1;
}

static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped", NULL};

/* "# HELP name text" or "# TYPE name type"; other comments are ignored. */
static int comment(expo *e, long *current, const char *p, const char *end, int line, char *err,
                   size_t errlen)
{
    int help = strncmp(p, "# HELP ", 7) == 0, type = strncmp(p, "# TYPE ", 7) == 0;
    size_t n;
    struct family *f;
    if (!help && !type)
        return 0;
    p += 7;
    if (!(n = name_len(p, 1)))
        return fail(err, errlen, line, "%s without a metric name", help ? "HELP" : "TYPE");
    if (enter_family(e, current, p, n, line, err, errlen))
        return -1;
    f = &e->f[*current];
    p += n;
    if (help) {
        if (f->help)
            return fail(err, errlen, line, "a second HELP for %s", f->name);
        if (p < end && *p != ' ')
            return fail(err, errlen, line, "HELP %s: junk after the name", f->name);
        if (!help_ok(p, end))
            return fail(err, errlen, line, "HELP %s: an escape other than \\\\ or \\n", f->name);
        f->help = 1;
        return 0;
    }
    if (f->typed)
        return fail(err, errlen, line, "a second TYPE for %s", f->name);
    if (f->samples)
        return fail(err, errlen, line, "TYPE %s after its samples", f->name);
    if (*p++ != ' ')
        return fail(err, errlen, line, "TYPE %s without a type", f->name);
    for (int i = 0; types[i]; i++)
        if ((size_t)(end - p) == strlen(types[i]) && strncmp(p, types[i], strlen(types[i])) == 0)
            f->type = types[i];
    if (!f->type)
        return fail(err, errlen, line, "TYPE %s: unknown type %.*s", f->name, (int)(end - p), p);
    f->typed = 1;
    return 0;
}

/* Labels from p (just after '{') up to and past '}'. */
static int labels(const char **pp, const char *end, struct label *l, int *nl, int line,
                  char *err, size_t errlen)
{
    const char *p = *pp;
    *nl = 0;
    while (p < end && *p != '}') {
        struct label *x = &l[*nl];
        if (*nl == MAX_LABELS)
            return fail(err, errlen, line, "more than %d labels", MAX_LABELS);
        if (!(x->name_len = name_len(p, 0)))
            return fail(err, errlen, line, "a label without a valid name at \"%.20s\"", p);
        x->name = p;
        if (x->name_len >= 2 && p[0] == '_' && p[1] == '_')
            return fail(err, errlen, line, "reserved label name %.*s", (int)x->name_len, p);
        for (int i = 0; i < *nl; i++)
            if (l[i].name_len == x->name_len && strncmp(l[i].name, p, x->name_len) == 0)
                return fail(err, errlen, line, "label %.*s twice", (int)x->name_len, p);
        p += x->name_len;
        if (p + 1 >= end || p[0] != '=' || p[1] != '"')
            return fail(err, errlen, line, "label %.*s: expected =\"", (int)x->name_len,
                        x->name);
        x->value = p += 2;
        while (p < end && *p != '"') {
            if (*p == '\\') {
                if (p + 1 == end || (p[1] != '\\' && p[1] != '"' && p[1] != 'n'))
                    return fail(err, errlen, line, "label %.*s: a bad escape", (int)x->name_len,
                                x->name);
                p++;
            }
            p++;
        }
        if (p == end)
            return fail(err, errlen, line, "label %.*s: no closing quote", (int)x->name_len,
                        x->name);
        x->value_len = (size_t)(p - x->value);
        (*nl)++;
        p++;
        if (p < end && *p == ',')
            p++;
        else if (p < end && *p != '}')
            return fail(err, errlen, line, "after label %.*s: expected , or } (an unescaped "
                        "quote in its value?)", (int)x->name_len, x->name);
    }
    if (p == end)
        return fail(err, errlen, line, "labels without a closing }");
    *pp = p + 1;
    return 0;
}

/* A sample value: a decimal float, NaN, +Inf or -Inf. */
static int number(const char *p, size_t n, double *v)
{
    char buf[64], *stop;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (strcmp(buf, "NaN") == 0 || strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0) {
        *v = buf[0] == 'N' ? NAN : buf[0] == '+' ? INFINITY : -INFINITY;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", buf[i]))
            return -1;
    *v = strtod(buf, &stop);
    return *stop == '\0' ? 0 : -1;
}

static int by_label_name(const void *a, const void *b)
{
    const struct label *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = strncmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* name{labels} with the labels in name order, skipping the one named skip. */
static char *series_key(const char *name, size_t len, struct label *l, int nl, const char *skip)
{
    size_t size = len + 3, at;
    char *k;
    qsort(l, (size_t)nl, sizeof *l, by_label_name);
    for (int i = 0; i < nl; i++)
        size += l[i].name_len + l[i].value_len + 4;
    k = malloc(size);
    if (!k)
        abort();
    at = (size_t)snprintf(k, size, "%.*s{", (int)len, name);
    for (int i = 0, first = 1; i < nl; i++) {
        if (skip && strlen(skip) == l[i].name_len && strncmp(skip, l[i].name, l[i].name_len) == 0)
            continue;
        at += (size_t)snprintf(k + at, size - at, "%s%.*s=\"%.*s\"", first ? "" : ",",
                               (int)l[i].name_len, l[i].name, (int)l[i].value_len, l[i].value);
        first = 0;
    }
    snprintf(k + at, size - at, "}");
    return k;
}

/* Whether a sample called name (len) belongs to family f by the suffixes
 * its type gives its samples. */
static int of_family(const struct family *f, const char *name, size_t len)
{
    size_t fl = strlen(f->name);
    static const char *const histogram[] = {"_bucket", "_sum", "_count", NULL};
    static const char *const summary[] = {"_sum", "_count", NULL};
    const char *const *suffixes = NULL;
    if (len == fl && strncmp(name, f->name, len) == 0)
        return !f->type || strcmp(f->type, "histogram") != 0;
    if (f->type && strcmp(f->type, "histogram") == 0)
        suffixes = histogram;
    else if (f->type && strcmp(f->type, "summary") == 0)
        suffixes = summary;
    for (int i = 0; suffixes && suffixes[i]; i++)
        if (len == fl + strlen(suffixes[i]) && strncmp(name, f->name, fl) == 0 &&
            strncmp(name + fl, suffixes[i], len - fl) == 0)
            return 1;
    return 0;
}

static int sample(expo *e, long *current, const char *p, const char *end, int line, char *err,
                  size_t errlen)
{
    struct label l[MAX_LABELS];
    int nl = 0;
    size_t n = name_len(p, 1), vlen;
    const char *name = p, *v;
    struct sample s = {0};
    struct family *f;

    if (!n)
        return fail(err, errlen, line, "not a sample, HELP, TYPE or comment: \"%.*s\"",
                    (int)(end - p < 40 ? end - p : 40), p);
    p += n;
    if (p < end && *p == '{') {
        p++;
        if (labels(&p, end, l, &nl, line, err, errlen))
            return -1;
    }
    if (p == end || (*p != ' ' && *p != '\t'))
        return fail(err, errlen, line, "%.*s: no value", (int)n, name);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    for (v = p; p < end && *p != ' ' && *p != '\t'; p++)
        ;
    vlen = (size_t)(p - v);
    if (number(v, vlen, &s.value))
        return fail(err, errlen, line, "%.*s: bad value \"%.*s\"", (int)n, name, (int)vlen, v);
    if (p < end) {
        /* A timestamp: milliseconds, an integer, and nothing after it. */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p == '-')
            p++;
        if (p == end)
            return fail(err, errlen, line, "%.*s: blanks after the value", (int)n, name);
        for (; p < end; p++)
            if (*p < '0' || *p > '9')
                return fail(err, errlen, line, "%.*s: junk after the value", (int)n, name);
    }
    if (!(*current >= 0 && of_family(&e->f[*current], name, n)) &&
        enter_family(e, current, name, n, line, err, errlen))
        return -1;
    f = &e->f[*current];
    if (!of_family(f, name, n))
        return fail(err, errlen, line, "%.*s is not a sample of %s %s", (int)n, name,
                    f->type, f->name);
    if (!f->type)
        f->type = "untyped";
    f->samples++;
    s.family = (size_t)*current;
    s.name = dup_n(name, n);
    s.key = series_key(name, n, l, nl, NULL);
    s.rest = series_key(name, n, l, nl, "le");
    s.le = NAN;
    for (int i = 0; i < nl; i++)
        if (l[i].name_len == 2 && strncmp(l[i].name, "le", 2) == 0 &&
            number(l[i].value, l[i].value_len, &s.le)) {
            free(s.name), free(s.key), free(s.rest);
            return fail(err, errlen, line, "%.*s: bad le", (int)n, name);
        }
    e->s = grow(e->s, e->ns, sizeof *e->s);
    e->s[e->ns++] = s;
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct sample *)a)->key, ((const struct sample *)b)->key);
}

/* Each histogram series: buckets with an le, rising le and counts, the last
 * +Inf, and _count equal to it. */
static int histograms(const expo *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < e->ns; i++) {
        const struct sample *c = &e->s[i];
        const struct family *f = &e->f[c->family];
        size_t fl = strlen(f->name);
        double le = -INFINITY, count = -1;
        int buckets = 0;
        char want[512];
        if (strcmp(f->type, "histogram") != 0 || strcmp(c->name + fl, "_count") != 0)
            continue;
        for (size_t j = 0; j < e->ns; j++) {
            const struct sample *b = &e->s[j];
            if (b->family != c->family || strcmp(b->name + fl, "_bucket") != 0)
                continue;
            snprintf(want, sizeof want, "%s_bucket%s", f->name, c->rest + strlen(c->name));
            if (strcmp(b->rest, want) != 0)
                continue;
            if (isnan(b->le) || b->le <= le || b->value < count)
                return fail(err, errlen, 0, "histogram %s: buckets not rising at %s", f->name,
                            b->key);
            le = b->le, count = b->value, buckets++;
        }
        if (!buckets || !isinf(le) || count != c->value)
            return fail(err, errlen, 0, "histogram %s: no +Inf bucket equal to %s", f->name,
                        c->key);
    }
    return 0;
}

expo *expo_parse(const char *text, char *err, size_t errlen)
{
    expo *e = calloc(1, sizeof *e);
    long current = -1;
    int line = 0, rc = 0;
    const char *p = text;
    if (!e)
        abort();
    if (*text && text[strlen(text) - 1] != '\n')
        rc = fail(err, errlen, 0, "the text does not end with a newline");
    while (rc == 0 && *p) {
        const char *end = strchr(p, '\n');
        line++;
        if (memchr(p, '\r', (size_t)(end - p)))
            rc = fail(err, errlen, line, "a carriage return");
        else if (end == p)
            ; /* blank lines are allowed */
        else if (*p == '#')
            rc = comment(e, &current, p, end, line, err, errlen);
        else
            rc = sample(e, &current, p, end, line, err, errlen);
        p = end + 1;
    }
    if (rc == 0) {
        struct sample *sorted = malloc((e->ns ? e->ns : 1) * sizeof *sorted);
        if (!sorted)
            abort();
        memcpy(sorted, e->s, e->ns * sizeof *sorted);
        qsort(sorted, e->ns, sizeof *sorted, by_key);
        for (size_t i = 1; rc == 0 && i < e->ns; i++)
            if (strcmp(sorted[i - 1].key, sorted[i].key) == 0)
                rc = fail(err, errlen, 0, "series %s twice", sorted[i].key);
        free(sorted);
    }
    if (rc == 0)
        rc = histograms(e, err, errlen);
    if (rc != 0) {
        expo_free(e);
        return NULL;
    }
    return e;
}

void expo_free(expo *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nf; i++)
        free(e->f[i].name);
    for (size_t i = 0; i < e->ns; i++)
        free(e->s[i].name), free(e->s[i].key), free(e->s[i].rest);
    free(e->f);
    free(e->s);
    free(e);
}

int expo_value(const expo *e, const char *name, const char *const *labels, double *value)
{
    struct label l[MAX_LABELS];
    char *escaped[MAX_LABELS], *key;
    int nl = 0, rc = -1;
    for (; labels && labels[2 * nl] && nl < MAX_LABELS; nl++) {
        const char *v = labels[2 * nl + 1];
        char *o = escaped[nl] = malloc(2 * strlen(v) + 1);
        if (!o)
            abort();
        for (; *v; v++) {
            if (*v == '\\' || *v == '"' || *v == '\n')
                *o++ = '\\';
            *o++ = *v == '\n' ? 'n' : *v;
        }
        *o = '\0';
        l[nl] = (struct label){labels[2 * nl], escaped[nl], strlen(labels[2 * nl]),
                               strlen(escaped[nl])};
    }
    key = series_key(name, strlen(name), l, nl, NULL);
    for (size_t i = 0; rc && i < e->ns; i++)
        if (strcmp(e->s[i].key, key) == 0) {
            *value = e->s[i].value;
            rc = 0;
        }
    free(key);
    for (int i = 0; i < nl; i++)
        free(escaped[i]);
    return rc;
}

const char *expo_type(const expo *e, const char *name)
{
    long i = find_family(e, name);
    return i < 0 ? NULL : e->f[i].type;
}

int expo_has_help(const expo *e, const char *name)
{
    long i = find_family(e, name);
    return i >= 0 && e->f[i].help;
}

size_t expo_series(const expo *e, const char *name)
{
    long i = find_family(e, name);
    return i < 0 ? 0 : (size_t)e->f[i].samples;
}
