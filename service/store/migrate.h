/* Schema migrations: migrations/NNNN_name.sql applied in order, each in its
 * own transaction and recorded with its SHA-256; an applied file that has
 * changed since is refused. */
#ifndef LICD_STORE_MIGRATE_H
#define LICD_STORE_MIGRATE_H

#include <stddef.h>
#include <stdio.h>

/* Applies the pending migrations of dir, printing one line per applied file
 * to log. Returns 0 (also when nothing was pending), or an error with a
 * message in err (a changed migration, unreadable file, failing SQL). */
int store_migrate(const char *dir, FILE *log, char *err, size_t errlen);

#endif
