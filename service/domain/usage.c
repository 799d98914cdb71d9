/* The over-limit policy (see usage.h). */
#include "domain/usage.h"

#include <string.h>

const char *const domain_over_limit_names[] = {"refuse", "report", NULL};

int domain_over_limit_parse(const char *s, domain_over_limit *out)
{
    for (int i = 0; s && domain_over_limit_names[i]; i++)
        if (strcmp(s, domain_over_limit_names[i]) == 0) {
            *out = (domain_over_limit)i;
            return 0;
        }
    return -1;
}

int domain_over_limit_refuses(domain_over_limit policy, int over)
{
    return over && policy == OVER_LIMIT_REFUSE;
}
