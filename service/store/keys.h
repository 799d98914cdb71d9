/* Finding the owner of a presented bearer key (vendor, customer or group
 * key): by its public prefix, then a constant-time hash comparison. */
#ifndef LICD_STORE_KEYS_H
#define LICD_STORE_KEYS_H

#include <libpq-fe.h>

/* Runs sql with $1 = the key's prefix; its last column must be the stored
 * hex SHA-256. On success *res holds the rows (caller PQclears) and *row is
 * the matching one. A malformed or unmatched key: LICD_ERR_UNAUTHORIZED. */
int store_find_key(const char *presented, const char *sql, PGresult **res, int *row);

#endif
