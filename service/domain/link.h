/* Group-key links: whether an activation request matches the link its group
 * key carries (an IP range, a domain, a node, an application or a
 * container), or binds an empty one. Pure functions, no I/O. */
#ifndef LICD_DOMAIN_LINK_H
#define LICD_DOMAIN_LINK_H

#include <stddef.h>

#define DOMAIN_NAME_MAX 253

typedef enum { LINK_IP_RANGE, LINK_DOMAIN, LINK_NODE, LINK_APP, LINK_CONTAINER } domain_link_type;

/* The API names of the link types, NULL-terminated, in enum order. */
extern const char *const domain_link_types[];

/* The type named s; 0, or -1 when s names none. */
int domain_link_type_parse(const char *s, domain_link_type *out);

/* What an activation request says about itself. */
typedef struct {
    const char *ip;        /* the address the request came from; NULL when unknown */
    const char *domain;    /* NULL when the request sent none */
    const char *node_id;
    const char *app_id;
    int ip_in_range;       /* ip lies in the link's CIDR (PostgreSQL decides, inet <<= cidr) */
    const char *container_id; /* NULL when the request sent none */
} domain_link_request;

typedef enum {
    LINK_MATCH,    /* the request is on the link */
    LINK_BIND,     /* the link is empty: it binds to the request's identifier */
    LINK_MISMATCH  /* 403 link_mismatch */
} domain_link_decision;

/* Decides for a link of type t whose value is value (NULL or "" when empty).
 * On LINK_BIND *bind_to is the identifier to bind (it points into r): the IP
 * for an IP range (a host range of one address), else the domain, node, app
 * or container. A request without the identifier the link needs never
 * matches. */
domain_link_decision domain_link_decide(domain_link_type t, const char *value,
                                        const domain_link_request *r, const char **bind_to);

/* 1 if s is a DNS name: dot-separated labels of 1 to 63 letters, digits,
 * '-' or '_', not starting or ending with '-', at most 253 characters in all,
 * one trailing dot allowed. */
int domain_link_domain_valid(const char *s);

/* Whether two DNS names are the same: ASCII case and a trailing dot ignored. */
int domain_link_domain_equal(const char *a, const char *b);

/* Writes the canonical form of a valid DNS name (lower case, no trailing
 * dot) into out (len bytes, at least strlen(s) + 1). */
void domain_link_domain_canonical(const char *s, char *out, size_t len);

#endif
