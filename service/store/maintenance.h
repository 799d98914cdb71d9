/* The periodic maintenance thread of `licd serve`: purges update passwords
 * past their retention (cloned ones awaiting moderation stay), releases
 * lapsed leases of packs due for it, and deletes old leases, failed logins,
 * challenges, session tokens and events delivered (or wanted by no webhook)
 * more than LICD_EVENT_RETENTION ago. Several licd
 * nodes may run it against one database; each round is idempotent. */
#ifndef LICD_STORE_MAINTENANCE_H
#define LICD_STORE_MAINTENANCE_H

typedef struct store_maintenance store_maintenance;

/* Starts the thread: a round at once, then one every interval seconds. It
 * has its own database connection. *out is freed by store_maintenance_stop. */
int store_maintenance_start(long interval, long upw_retention, long event_retention,
                            store_maintenance **out);

/* Wakes the thread, waits for the round in progress to end and frees m
 * (NULL is fine). */
void store_maintenance_stop(store_maintenance *m);

/* One round on the calling thread's connection (tests call it directly). */
int store_maintenance_round(long upw_retention, long event_retention);

#endif
