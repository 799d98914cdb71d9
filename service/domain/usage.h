/* What get_key does with a licence whose reported usage is over one of its
 * resource limits: the on_over_limit policy of a group key (or a pack).
 * Pure functions, no I/O. */
#ifndef LICD_DOMAIN_USAGE_H
#define LICD_DOMAIN_USAGE_H

typedef enum {
    OVER_LIMIT_REFUSE, /* get_key answers 403 over_limit (the default) */
    OVER_LIMIT_REPORT  /* the licence is still issued; the excess is only reported */
} domain_over_limit;

/* The API names of the policies, NULL-terminated, in enum order. */
extern const char *const domain_over_limit_names[];

/* The policy named s; 0, or -1 when s names none. */
int domain_over_limit_parse(const char *s, domain_over_limit *out);

/* 1 when get_key refuses a licence: it is over a limit (over) and the
 * policy does not merely report it. */
int domain_over_limit_refuses(domain_over_limit policy, int over);

#endif
