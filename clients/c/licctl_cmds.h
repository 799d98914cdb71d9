/* What licctl's subcommands in other files share with licctl.c: the exit
 * statuses, the one way of complaining on stderr, and their entry points
 * (rows of the command table in licctl.c). */
#ifndef LICCTL_CMDS_H
#define LICCTL_CMDS_H

#include <stdio.h>

#include "licd_client.h"

#define EXIT_VALID 0
#define EXIT_ERROR 1
#define EXIT_LIMITED 10
#define EXIT_NO_ACCESS 20

/* "licctl: " and the message, one line on stderr. */
void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* licctl admin ... (licctl_admin.c) */
int cmd_admin(int argc, char **argv);
void usage_admin(FILE *out);
/* licctl report-usage (licctl_admin.c) */
int cmd_report_usage(int argc, char **argv);
void usage_report_usage(FILE *out);

/* ---- Helpers the subcommands share ---- */

/* A client for --url and --customer-key, else LICD_URL and
 * LICD_CUSTOMER_KEY, both required (licctl.c); EXIT_VALID or EXIT_ERROR,
 * having complained. */
int connect_client(const char *url, const char *key, licd_client **c);
/* A client for --url, else LICD_URL, with the vendor key when vendor is
 * set (licctl_admin.c); the same statuses. */
int connect_to(const char *url, int vendor, const char *key, licd_client **c);
/* Unix seconds as RFC 3339 UTC (licctl.c). */
void format_time(int64_t t, char *buf, size_t cap);
/* The licence in path: a compact JWT alone, or a JSON object with
 * "license" (licctl_admin.c); NULL having complained. Free it. */
char *read_license(const char *path);

/* licctl get-key, activate, upgrade (licctl_keys.c) */
int cmd_get_key(int argc, char **argv);
void usage_get_key(FILE *out);
int cmd_activate(int argc, char **argv);
void usage_activate(FILE *out);
int cmd_upgrade(int argc, char **argv);
void usage_upgrade(FILE *out);
/* licctl lease (licctl_lease.c) */
int cmd_lease(int argc, char **argv);
void usage_lease(FILE *out);

#endif
