/* Cache invalidation across licd nodes through PostgreSQL: triggers send
 * NOTIFY licd_cache '<kind>:<key>' when a cached fact changes (migrations/
 * 0009), and one listener thread per process forgets that entry in the
 * cache registered for the kind. While the listener is not connected (so
 * a change could go unheard), every registered cache is disabled. */
#ifndef LICD_STORE_NOTIFY_H
#define LICD_STORE_NOTIFY_H

#include "util/cache.h"

#define STORE_NOTIFY_CHANNEL "licd_cache"

/* Registers cache for notifications '<kind>:<key>' ('<kind>:*' clears it).
 * Call before store_notify_start; the cache starts disabled. At most 8 kinds. */
int store_notify_register(const char *kind, cache *c);

/* Starts the listener on its own connection to conninfo (copied). */
int store_notify_start(const char *conninfo);

/* Stops the listener (waits for it) and disables the caches. */
void store_notify_stop(void);

#endif
