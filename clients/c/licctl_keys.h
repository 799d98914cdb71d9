/* What licctl_keys.c and licctl_lease.c share: one option table for their
 * subcommands, its parser, and the printing and exit status of answers. */
#ifndef LICCTL_KEYS_H
#define LICCTL_KEYS_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "licd_client.h"

enum {
    K_URL, K_KEY, K_PRODUCT, K_CLIENT, K_IMAGE, K_SOFTWARE, K_VERSION, K_PLATFORM, K_JSON,
    K_GROUP_KEY, K_SCHEME, K_APP, K_NODE, K_CONTAINER, K_IP, K_DOMAIN, K_CACHE,
    K_LICENSE_FILE, K_LICENSE, K_TARGET, K_CHECK, K_SERVERS, K_BORROW, K_BORROWED, K_RETURN,
    K_HELP,
    K_COUNT
};

#define KBIT(k) (UINT32_C(1) << (k))

/* Parses the options of cmd in allowed (--help always) into v (NULL when
 * absent, "" for a flag given); those in required must be non-empty.
 * 0 parsed, 1 --help printed by usage, -1 complained. */
int keys_parse(const char *cmd, int argc, char **argv, uint32_t allowed, uint32_t required,
               const char *v[K_COUNT], void (*usage)(FILE *));

/* Complains of a failed call; EXIT_NO_ACCESS when licd refused with one of
 * refusals (NULL-terminated, may be NULL), else EXIT_ERROR. */
int keys_fail(const licd_client *c, int rc, const char *const *refusals);

/* Prints o as one JSON line, or as "name: value" lines without "license"
 * (true/false as yes/no, null as none, or never for expires_at); 0 (having
 * complained) when stdout fails. */
int keys_print(cJSON *o, int json);

#endif
