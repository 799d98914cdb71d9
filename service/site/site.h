/* The command line of a site server (licd with LICD_SITE_ID): importing the
 * vendor's signed allocations, printing its public keys, exporting signed,
 * hash-chained usage reports. Each returns the process's exit status. */
#ifndef LICD_SITE_SITE_H
#define LICD_SITE_SITE_H

#include "util/config.h"

/* licd import FILE */
int site_cmd_import(int argc, char **argv);
/* licd jwks */
int site_cmd_jwks(void);
/* licd export-usage --out FILE */
int site_cmd_export_usage(int argc, char **argv);
/* For licd serve: 0 when cfg is no site server or its vendor JWKS loads;
 * else 1 after a message on stderr. */
int site_check_config(const licd_config *cfg);

#endif
