/* Link decisions for group keys (see link.h). */
#include "domain/link.h"

#include <string.h>
#include <strings.h>

const char *const domain_link_types[] = {"ip_range", "domain", "node", "app", "container", NULL};

int domain_link_type_parse(const char *s, domain_link_type *out)
{
    for (int i = 0; s && domain_link_types[i]; i++)
        if (strcmp(s, domain_link_types[i]) == 0) {
            *out = (domain_link_type)i;
            return 0;
        }
    return -1;
}

/* The identifier of the request a link of type t looks at; NULL if none. */
static const char *identifier(domain_link_type t, const domain_link_request *r)
{
    switch (t) {
    case LINK_IP_RANGE:
        return r->ip;
    case LINK_DOMAIN:
        return r->domain;
    case LINK_NODE:
        return r->node_id;
    case LINK_APP:
        return r->app_id;
    case LINK_CONTAINER:
        return r->container_id;
    }
    return NULL;
}

/* An empty link binds to whatever the request is (so the first activation
 * after creation or relink fixes it); a set link must match exactly, the
 * IP range by containment, a domain without regard to case. */
domain_link_decision domain_link_decide(domain_link_type t, const char *value,
                                        const domain_link_request *r, const char **bind_to)
{
    const char *id = identifier(t, r);
    *bind_to = NULL;
    if (!id || !*id)
        return LINK_MISMATCH;
    if (!value || !*value) {
        *bind_to = id;
        return LINK_BIND;
    }
    switch (t) {
    case LINK_IP_RANGE:
        return r->ip_in_range ? LINK_MATCH : LINK_MISMATCH;
    case LINK_DOMAIN:
        return domain_link_domain_equal(value, id) ? LINK_MATCH : LINK_MISMATCH;
    case LINK_NODE:
    case LINK_APP:
    case LINK_CONTAINER:
        break;
    }
    return strcmp(value, id) == 0 ? LINK_MATCH : LINK_MISMATCH;
}

static int label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

int domain_link_domain_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0, label = 0;
    if (len && s[len - 1] == '.')
        len--;
    if (len == 0 || len > DOMAIN_NAME_MAX)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            /* A label ends: 1 to 63 characters, no hyphen at either end. */
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return 0;
            label = 0;
        } else if (!label_char(s[i])) {
            return 0;
        } else {
            label++;
        }
    }
    return 1;
}

/* Length of s without one trailing dot. */
static size_t bare_len(const char *s)
{
    size_t n = strlen(s);
    return n && s[n - 1] == '.' ? n - 1 : n;
}

int domain_link_domain_equal(const char *a, const char *b)
{
    size_t n = bare_len(a);
    return n == bare_len(b) && strncasecmp(a, b, n) == 0;
}

void domain_link_domain_canonical(const char *s, char *out, size_t len)
{
    size_t n = bare_len(s), i;
    if (len == 0)
        return;
    for (i = 0; i < n && i + 1 < len; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[i] = '\0';
}
