/* Licences handed to clients from packs: finding what a client holds,
 * taking a seat (one conditional update, never read-then-write),
 * temporary licences and upgrades. */
#ifndef LICD_STORE_GRANTS_H
#define LICD_STORE_GRANTS_H

#include <stddef.h>
#include <time.h>

#include "domain/grant.h"

/* One licence (a row of assignments) as get_key and upgrade need it. */
typedef struct {
    long long id;
    char vendor_id[37];
    char customer_id[37];
    long long product_id;
    char license_id[32];
    char pack_id[65];      /* the vendor's pack id; "" for temporary licences */
    long long serial;      /* 0 for temporary licences */
    char client_id[257];
    char version[65];
    char platform[16];
    int temporary;
    int blocked;
    char status[12];
    time_t issued_at;
    time_t expires_at;     /* 0: never */
    char on_over_limit[8]; /* its pack's policy: refuse or report ("refuse" without a pack) */
    char claims_version[33]; /* what it says, as read (get_key only, else ""): its
                                document is used only while that holds (store_document_save) */
    int limited;           /* its pack sets usage limits (get_key only) */
} store_license;

/* What the client asks for: customer, product, client and the platform it
 * runs on ("any" when unknown); version NULL means any version. */
typedef struct {
    const char *vendor_id;
    const char *customer_id;
    long long product_id;
    const char *client_id;
    const char *platform;
    const char *version;
    const char *default_version; /* a temporary licence's version when none is asked */
} store_grant_request;

/* What get_key's statements found and did for a client: its licences of
 * the product (as domain_client_facts and the rows), their stored signed
 * documents (NULL when none was saved yet), and the licence of a seat it
 * took (taken = 1). A seat is taken only when domain_grant_first_step
 * would say GRANT_TRY_SEAT. Clear with store_grant_result_clear. */
typedef struct {
    domain_client_facts facts;
    store_license permanent, temporary, fresh;
    char *permanent_document, *temporary_document;
    int taken;
} store_grant_result;

/* Looks up the client's licences (one indexed read) and, unless one of
 * them decides the answer, takes one seat from the customer's active pack
 * of the product that matches version and platform (earliest expiry first)
 * and records the licence, retiring the client's temporary or lapsed
 * licence - all in one statement, which looks at the client's licences
 * again (a second one, as it was before, only when a client found without
 * a licence has one by then or no seat was taken). LICD_ERR_CONFLICT when
 * the same client got a licence concurrently (ask again). */
int store_grant(const store_grant_request *r, store_grant_result *out);

/* store_grant in steps, for a caller that waits for the seat's batch
 * without holding its thread: store_grant_mine reads the client's licences
 * into out; when domain_grant_first_step says GRANT_TRY_SEAT,
 * store_grant_queue puts the seat's statement in the next batch (done(arg)
 * is called once it is written), and store_grant_finish then reads into
 * out what it did (running it alone when its batch failed) and goes on as
 * store_grant does. r and p must stay until the finish. Q_GRANT's
 * parameters, customer and product first as the batcher orders them: */
enum { GRANT_CUSTOMER, GRANT_PRODUCT, GRANT_PLATFORM, GRANT_VERSION, GRANT_CLIENT, GRANT_VENDOR,
       GRANT_PARAMS };
typedef struct {
    char product[24];
    const char *params[GRANT_PARAMS];
    int new_client;        /* the client had no licence: the shorter statement */
    struct pg_result *res; /* the batch's outcome */
    int rc;
} store_grant_pending;
int store_grant_mine(const store_grant_request *r, store_grant_pending *p,
                     store_grant_result *out);
void store_grant_queue(store_grant_pending *p, void (*done)(void *arg), void *arg);
int store_grant_finish(store_grant_pending *p, store_grant_result *out);
/* Frees what a pending grant holds (a batch's outcome never finished). */
void store_grant_pending_clear(store_grant_pending *p);
/* The thread that takes seats for many grants in one commit (licd serve);
 * without it each grant commits alone. Stop writes what is queued. */
int store_grants_start(void);
void store_grants_stop(void);
void store_grant_result_clear(store_grant_result *out);

/* Key of a client's licence in caches: the form of the payload migration
 * 0010 sends when that licence changes ("license:" and this key). */
void store_license_cache_key(const char *customer_id, long long product_id,
                             const char *client_id, char *out, size_t len);

/* Records the client's one temporary licence, valid ttl seconds.
 * LICD_ERR_CONFLICT when it got one concurrently (look up again). */
int store_grant_temporary(const store_grant_request *r, long ttl, store_license *out);

/* Where a licence is kept: a pack (or temporary) licence, or a group key's
 * activation key (read as a licence of the product's version, platform
 * "any", for the app as client; status active until it is upgraded). */
typedef enum { STORE_LICENSE_PACK, STORE_LICENSE_ACTIVATION } store_license_kind;

/* A licence or activation key of the vendor by license_id, *kind saying
 * which; LICD_ERR_NOT_FOUND if none. */
int store_license_get(const char *vendor_id, const char *license_id, store_license *out,
                      store_license_kind *kind);

/* 1 in *free when an active upgrade pack of the customer for the product's
 * target version has a free seat usable on the licence's platform. */
int store_upgrade_seat_free(const store_license *l, const char *target_version, int *free_seat);

/* In one transaction: takes a seat of an upgrade pack of l's customer for
 * target_version, records the new licence and marks l (of kind) upgraded,
 * kept in the history, expired or not. LICD_ERR_NO_UPGRADE_AVAILABLE when
 * no seat is free or l is no longer active; LICD_ERR_LICENSE_BLOCKED when
 * blocked. */
int store_upgrade(const store_license *l, store_license_kind kind, const char *target_version,
                  store_license *out);

#endif
