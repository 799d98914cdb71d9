/* Integration-test harness: HTTP calls to the licd that tests/run started,
 * the licd command line, and assertions on problem+json answers. */
#ifndef LICD_TEST_HARNESS_H
#define LICD_TEST_HARNESS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "expo.h"

typedef struct {
    long status;
    char *body;         /* NUL-terminated */
    size_t len;
    cJSON *json;        /* parsed body when it was JSON, else NULL */
    char content_type[128];
    char request_id[128];
    char allow[128];
    char retry_after[32];
    char ratelimit_limit[32];     /* RateLimit-Limit, -Remaining, -Reset ("" when absent) */
    char ratelimit_remaining[32];
    char ratelimit_reset[32];
    char replayed[16];            /* Idempotent-Replayed */
} it_response;

/* Environment from tests/run: LICD_TEST_URL, LICD_BIN, LICD_DATABASE_URL, ... */
const char *it_env(const char *name);
const char *it_url(void);

/* One request. headers: NULL-terminated "Name: value" strings (may be NULL).
 * body may be NULL. Aborts the test on a transport failure. */
void it_request(const char *method, const char *path, const char *const *headers,
                const char *body, size_t len, it_response *out);
/* JSON request with an optional bearer key. */
void it_json(const char *method, const char *path, const char *bearer, const char *json,
             it_response *out);
void it_response_free(it_response *r);

/* Asserts status, problem+json content type and code, and a request_id equal to the header. */
void it_assert_problem(const it_response *r, long status, const char *code);
/* it_json, then it_assert_problem on its answer (freed after). */
void it_json_problem(const char *method, const char *path, const char *bearer, const char *json,
                     long status, const char *code);

/* Runs a shell command; returns its exit status; *out (if given) gets stdout (free it). */
int it_sh(const char *cmd, char **out);
/* Creates a vendor through `licd vendor create`; returns the API key (free it). */
char *it_new_vendor(const char *name);
/* A string field of r->json, or NULL. */
const char *it_str(const it_response *r, const char *field);
/* The string member name of obj (a claim, a list item); fails the test when
 * it is missing or not a string. */
const char *it_member_str(const cJSON *obj, const char *name);

/* POSTs a JSON document built with printf-style arguments. */
void it_postf(const char *path, const char *bearer, it_response *out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A customer of the vendor: fills id (37 bytes) and key (80 bytes). */
void it_new_customer(const char *vendor_key, const char *name, char *id, char *key);

/* A token's claims, after libjwt (not licd's own code) checked its ES256
 * signature against the key in the served JWKS named by its kid. */
cJSON *it_verify_jwt(const char *token);
/* The same against the keys of jwks (a JWKS document's text), e.g. a site
 * server's own (licd jwks). */
cJSON *it_verify_jwt_with(const char *token, const char *jwks);
/* The PEM public key of a JWKS entry (free it). */
char *it_pem_from_jwk(const cJSON *jwk);

/* Runs SQL through psql on the test database; returns psql's exit status.
 * For facts a test cannot wait for (ageing a licence), never to set up
 * what the API can. */
int it_sql(const char *sql, char **out);
/* it_sql on the database at url. */
int it_sql_at(const char *url, const char *sql, char **out);
/* The number the one-row, one-column query sql answers (a count). */
long long it_sql_num(const char *sql);
/* The test database's URL with database name db instead. */
void it_db_url(const char *db, char *out, size_t len);
/* A new database db (one left by an earlier run is dropped), migrated by
 * licd migrate; url gets its URL. */
void it_new_database(const char *db, char *url, size_t len);
/* Table table's counter col of pg_stat_user_tables (seq_scan, n_tup_ins...)
 * in the database at url, read once it shows at least least (a backend's
 * statistics reach the others when it ends; -1: any value). */
long long it_table_stat(const char *url, const char *table, const char *col, long long least);
/* The same for an index's counter of pg_stat_user_indexes (idx_scan ...). */
long long it_index_stat(const char *url, const char *index, const char *col, long long least);

/* Requests of this test process go to url from now on (a licd of its own). */
void it_use_url(const char *url);

/* A licd process of the test's own: a free port, started with extra
 * NAME=VALUE settings on top of the environment (stderr to log), waited
 * for until it listens; stopped with SIGTERM, returning its exit status. */
int it_free_port(void);
int it_start_licd(const char *const *env, const char *log, int port);
int it_stop_licd(int pid);
/* it_start_licd on a free port, logging to licd.log in a new it_tmpdir (*dir,
 * for the caller to remove); url gets its address. Returns its pid. */
int it_start_node(const char *const *env, char *url, size_t len, char **dir);
/* A TCP connection to 127.0.0.1:port, or -1. */
int it_connect(int port);
/* A fresh temporary folder (free it with it_rmdir). */
char *it_tmpdir(void);
void it_rmdir(char *dir);

/* Holds the pack rows of the customer (FOR UPDATE) for a second in a psql
 * session of its own; returns once they are held. */
void it_hold_packs(const char *customer_id);
/* Seconds on the monotonic clock, for timing what a test waits for. */
double it_now(void);
/* Requests waiting for a pack that it_hold_packs holds, and the JWKS
 * meanwhile: starts fn(args + i * size) for i < n on threads 50 ms apart
 * (the first one's batch is waiting for psql by the time the next comes),
 * GETs the JWKS of the node requests go to now, and joins the threads. */
typedef struct {
    long jwks;   /* the JWKS's status */
    double took; /* seconds it took */
    double gap;  /* seconds from its answer until the last thread was done */
} it_meanwhile;
void it_race_behind_a_lock(void *(*fn)(void *), void *args, size_t size, int n,
                           it_meanwhile *out);
/* That the node's one worker was free while they waited: the JWKS answered
 * 200 within 0.4 s, over 0.2 s before the requests were done. */
void it_assert_worker_was_free(const it_meanwhile *m);

/* GET /metrics of the node requests go to now, parsed strictly (malformed
 * exposition text fails the test); free it with expo_free. */
expo *it_scrape(void);

/* From the /metrics of the node requests go to now: the batches its
 * group-commit thread named batch (grants, checkouts, ...) has written,
 * the requests in them, the batches that failed as a whole, and the
 * requests written by a statement they shared (store_batch_join). */
typedef struct {
    double batches, items, failed, joined;
} it_batches;
void it_batched(const char *batch, it_batches *out);
/* Between before and after, n requests were written by fewer than n
 * batches and no batch failed. */
void it_assert_shared_batches(const it_batches *before, const it_batches *after, int n);

/* printf into one of 8 rotating buffers of 8 KiB: short-lived paths and
 * bodies in a test's own calls. */
const char *it_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The machine ids that GET /v1/users/{user} of customer_id lists for
 * vendor (a key), comma-separated in its order (a static buffer). */
const char *it_machines(const char *vendor, const char *customer_id, const char *user);
/* it_json, then asserts the status; the caller frees r. */
void it_expect(it_response *r, long status, const char *method, const char *path,
               const char *key, const char *body);

/* it_postf for a fixture: fails the test unless licd answers 201 Created. */
void it_created(const char *path, const char *bearer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* GET of a list endpoint (one page): fails the test unless 200; its
 * "items" (cJSON_Delete them). */
cJSON *it_items(const char *path, const char *bearer);

#endif
