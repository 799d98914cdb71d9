/* store/'s private header, the one that sees libpq (only store/'s own
 * sources include it): named statements prepared once per connection, their
 * execution, and the readers that turn result rows into the structs store/
 * hands out.
 *
 * Every statement is a static const store_sql in the file that uses it. Its
 * result columns are named once, by an enum beside its column list; readers
 * take those names, never bare column numbers:
 *
 *     enum { PACK_ID, PACK_QUANTITY };
 *     #define PACK_COLUMNS "k.pack_id, k.quantity"
 *     static const store_field pack_fields[] = {
 *         [PACK_ID] = STORE_TEXT(store_pack, pack_id),
 *         [PACK_QUANTITY] = STORE_INT64(store_pack, quantity),
 *     };
 *     static const store_rowtype pack_row = STORE_ROWTYPE(store_pack, pack_fields);
 *     static const store_sql Q_PACK_GET = {"pack_get", "SELECT " PACK_COLUMNS " ..."};
 */
#ifndef LICD_STORE_SQL_H
#define LICD_STORE_SQL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <time.h>

#include "crypto/apikey.h"
#include "store/audit.h"
#include "store/caches.h"
#include "store/db.h"
#include "store/gate.h"
#include "store/page.h"
#include "util/cache.h"

/* SQL rendering a timestamptz column as RFC 3339 UTC ("2026-01-31T12:00:00Z"). */
#define STORE_TIME(col) \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* One statement. name is its prepared statement's name on every connection
 * (unique among store/'s statements); the object's address is its identity. */
typedef struct {
    const char *name;
    const char *sql;
} store_sql;

/* Runs q with text parameters on this thread's connection, preparing it
 * first if this connection has not yet (a connection forgets what it
 * prepared when it is re-established). On success *res holds the result
 * (caller PQclears it). Errors are classified by store_classify (failures
 * to prepare alike; unexpected ones are logged with the statement's name);
 * LICD_ERR_NOMEM; *res is NULL then. Outside a transaction, a statement that
 * fails because the connection was found dead before it ran is retried once
 * on a new connection only when idempotent is set (reads). */
int store_exec(const store_sql *q, int nparams, const char *const *params, int idempotent,
               PGresult **res);
/* store_exec with PQexecPrepared's lengths and formats: a parameter whose
 * format is 1 is sent as binary (lengths[i] bytes, e.g. a bytea without hex
 * escaping); lengths and formats may be NULL for all-text parameters. */
int store_exec_params(const store_sql *q, int nparams, const char *const *values,
                      const int *lengths, const int *formats, int idempotent, PGresult **res);
/* store_exec for a statement that names one row: a result without rows is
 * LICD_ERR_NOT_FOUND (and *res is NULL then). */
int store_exec_row(const store_sql *q, int nparams, const char *const *params, int idempotent,
                   PGresult **res);
/* Runs n statements, the i-th qs[i] with parameters params[i] (nparams
 * each), sent as one pipeline that PostgreSQL runs as one transaction and
 * commits at its end: one round trip and one commit for all of them, each
 * run seeing the ones before it.
 * On success res[i] holds the i-th result (caller PQclears each). The first
 * run that fails rolls all of them back and its error is returned
 * (store_classify's; a deadlock is tried again, up to STORE_TX_ATTEMPTS);
 * res then holds nothing. LICD_ERR_UNAVAILABLE when the connection broke
 * off: whether the transaction committed is then unknown. Not inside
 * store_tx. */
int store_exec_pipeline(const store_sql *const *qs, int nparams, size_t n,
                        const char *const *const *params, PGresult **res);
/* Like store_exec for a statement whose rows are not needed. */
int store_run(const store_sql *q, int nparams, const char *const *params);

/* A purge of rows that have served their purpose, in chunks: q deletes at
 * most STORE_PURGE_CHUNK rows (STORE_PURGE names them), and runs again, each
 * run its own short transaction, until a run deletes fewer. A purge of
 * millions of rows thus never holds their row locks, nor the oldest
 * snapshot, for long: a long transaction keeps every other session from
 * pruning the dead versions of rows that hot paths update (a pack's
 * counter, a lease's expiry), which then slow down as they grow.
 * *deleted gets how many rows went. */
int store_purge(const store_sql *q, int nparams, const char *const *params, long long *deleted);
#define STORE_PURGE_CHUNK 10000
#define STORE_PURGE_TEXT_(n) #n
#define STORE_PURGE_TEXT(n) STORE_PURGE_TEXT_(n)
/* The SQL of such a purge of table: the first STORE_PURGE_CHUNK rows found
 * of those that match cond, by their row addresses, with cond asked again
 * of each as it is deleted: a row updated meanwhile (an expired
 * Idempotency-Key claimed again) is deleted only if its new version still
 * matches (a scan by row address alone does not look again). order: ORDER
 * BY the column of cond that an index has: each chunk takes the oldest
 * rows, found through that index (a round with little to purge reads
 * little). STORE_PURGE_CHUNK must stay a plain number (its text is the
 * LIMIT). */
#define STORE_PURGE(table, cond, order)                                                     \
    "DELETE FROM " table " WHERE ctid = ANY (ARRAY (SELECT ctid FROM " table " WHERE " cond \
    " " order " LIMIT " STORE_PURGE_TEXT(STORE_PURGE_CHUNK) ")) AND " cond

/* Runs a script of several statements (simple protocol, no parameters, not
 * prepared) on this thread's connection; for migrations only. On failure
 * the server's message goes to err. */
int store_run_script(const char *sql, char *err, size_t errlen);

/* ---- column readers: col is a name from the statement's column enum; a
 * NULL reads as the zero value ("", 0, false) ---- */

/* The column's text, valid until res is cleared. */
const char *store_col_str(const PGresult *res, int row, int col);
/* Copies the text into dst (size bytes), truncating. */
void store_col_copy(const PGresult *res, int row, int col, char *dst, size_t size);
/* Replaces *dst (NULL or malloc'd) with a malloc'd copy of the text; 0 or
 * LICD_ERR_NOMEM (*dst is NULL then). */
int store_col_dup(const PGresult *res, int row, int col, char **dst);
long long store_col_int(const PGresult *res, int row, int col);
double store_col_double(const PGresult *res, int row, int col);
int store_col_bool(const PGresult *res, int row, int col);

/* ---- row types: the fields of a struct that columns fill, in column order ---- */

typedef enum {
    STORE_F_NONE,   /* a column no field takes (read it with store_col_*) */
    STORE_F_TEXT,   /* char[]: store_col_copy */
    STORE_F_DUP,    /* char * owned by the struct: store_col_dup */
    STORE_F_INT64,  /* long long */
    STORE_F_INT,    /* int */
    STORE_F_BOOL,   /* int, 0 or 1 */
    STORE_F_EPOCH,  /* time_t from whole seconds */
    STORE_F_DOUBLE, /* double */
} store_field_kind;

typedef struct {
    store_field_kind kind;
    size_t offset, size;
} store_field;

struct store_rowtype {
    const store_field *fields; /* fields[col] for each column the struct takes */
    int ncols;
    size_t size;               /* of the struct */
};

/* A field of kind k for member m of struct T; it does not compile unless m
 * has the C type the kind writes (ptr is the type of &m). */
#define STORE_FIELD_(k, T, m, ptr) \
    {k, offsetof(T, m) + 0 * sizeof(_Generic(&((T *)0)->m, ptr: 1)), sizeof(((T *)0)->m)}
#define STORE_TEXT(T, m) STORE_FIELD_(STORE_F_TEXT, T, m, char(*)[sizeof(((T *)0)->m)])
#define STORE_DUP(T, m) STORE_FIELD_(STORE_F_DUP, T, m, char **)
#define STORE_INT64(T, m) STORE_FIELD_(STORE_F_INT64, T, m, long long *)
#define STORE_INT(T, m) STORE_FIELD_(STORE_F_INT, T, m, int *)
#define STORE_BOOL(T, m) STORE_FIELD_(STORE_F_BOOL, T, m, int *)
#define STORE_EPOCH(T, m) STORE_FIELD_(STORE_F_EPOCH, T, m, time_t *)
#define STORE_DOUBLE(T, m) STORE_FIELD_(STORE_F_DOUBLE, T, m, double *)
#define STORE_ROWTYPE(T, fields) {fields, (int)(sizeof(fields) / sizeof((fields)[0])), sizeof(T)}

/* Fills the fields of out from one row; 0, LICD_ERR_NOMEM (a copy failed)
 * or LICD_ERR_INTERNAL (the result has fewer columns than the type reads).
 * STORE_F_DUP fields of out must hold NULL or malloc'd text. */
int store_fill(const store_rowtype *t, const PGresult *res, int row, void *out);
/* Frees the STORE_F_DUP fields of item and sets them to NULL. */
void store_clear(const store_rowtype *t, void *item);

/* store_exec_row, then the row into out. */
int store_fetch_row(const store_sql *q, int nparams, const char *const *params, int idempotent,
                    const store_rowtype *t, void *out);
/* Runs q (a read) and reads all its rows into page as items of type t.
 * Clear page with store_page_free. */
int store_fetch_all(const store_sql *q, int nparams, const char *const *params,
                    const store_rowtype *t, store_page *page);
/* store_fetch_all for a paged list: q asks for limit + 1 rows; page gets
 * the first limit, more when the extra one came, and last_pos from column
 * pos_col of the last item. */
int store_fetch_page(const store_sql *q, int nparams, const char *const *params,
                     const store_rowtype *t, int limit, int pos_col, store_page *page);

/* A PostgreSQL array literal of n texts ({"a","b\\"c"}), every element
 * quoted and escaped, for a text[] parameter; malloc'd, NULL when out of
 * memory. */
char *store_array_literal(const char *const *items, size_t n);

/* Finds the owner of a presented bearer key (vendor, customer or group key)
 * with q, run with $1 = the key's public prefix: its columns are type t's,
 * then the stored hex SHA-256 of the key as the last one. The row whose hash
 * matches (compared in constant time) fills out. A malformed or unmatched
 * key: LICD_ERR_UNAUTHORIZED. With a cache c (or NULL), q's column before
 * the hash tells whether the key may be kept (true: it has no end of its
 * own); such a key is kept there (t must have no STORE_F_DUP field) and
 * found again without a statement. gate (or NULL) runs when the key is not
 * in the cache, before anything else: its error is returned as it is. */
int store_find_key(const char *presented, const store_sql *q, const store_rowtype *t, void *out,
                   cache *c, const store_gate *gate);

/* An event of the outbox (store_event) as store/events.c and store/webhooks.c read it. */
enum { EVENT_ID, EVENT_TYPE, EVENT_CREATED_AT, EVENT_CREATED_EPOCH, EVENT_DATA };
#define STORE_EVENT_COLUMNS \
    "seq, type, " STORE_TIME("created_at") ", extract(epoch FROM created_at), data::text"
extern const store_rowtype store_event_row;

/* A key rotation of a vendor or a customer (the owner). q takes the owner
 * (nowner parameters), then the new key's prefix and hex hash, then the
 * grace in seconds; it ends the owner's live keys that long from now at the
 * latest, adds the new one, and answers that end (no row: no such owner). */
typedef struct {
    const store_sql *q;
    int nowner;
    const char *owner[2];
    apikey_kind kind;
    const char *object_type, *object_id; /* for the audit trail */
    store_cache_id cache;                /* the cache of keys of that kind */
} store_rotation;

/* Runs rotation r in a transaction, audited; on success the new key goes to
 * key, the old keys' end to valid_until, and this process forgets the keys
 * it cached. */
int store_rotate_key(const store_actor *who, const store_rotation *r, long grace_s, char *key,
                     size_t key_len, char valid_until[40]);

#endif
