/* licd_client: the C client of the licd licensing service. HTTP calls over
 * libcurl, offline checks of the ES256 tokens licd signs against its JWKS,
 * and the on-disk token cache that `licctl token` uses.
 *
 * Conventions (every part of this header follows them; calls added later,
 * such as get-key, leases and usage reports, will too):
 * - Every call returns a licd_client_code: LICD_CLIENT_OK (0) or a negative
 *   error. Outputs go through pointer arguments and are set only on success
 *   unless the call says otherwise.
 * - Strings and arrays the library hands out are malloc'd and the caller's:
 *   free them with free(), and structs with their own *_clear function.
 *   Arguments are only read during the call (copied when kept).
 * - After a failed call on a licd_client, licd_client_error() says what went
 *   wrong in one line, licd_client_http_status() gives the HTTP status (0 if
 *   no answer came) and licd_client_problem_code() the problem+json "code"
 *   (for LICD_CLIENT_ERR_HTTP). They stay valid until the next call on it.
 * - The library never prints, never exits the process, installs no signal
 *   handlers and keeps no global state.
 *
 * Threads: a licd_client is used by one thread at a time. libcurl wants
 * curl_global_init(CURL_GLOBAL_DEFAULT) called once before any other thread
 * starts (and curl_global_cleanup() at the very end); the library never
 * calls them, so a program with several threads calls them itself. A
 * single-threaded program may skip them: curl_easy_init does it on demand.
 */
#ifndef LICD_CLIENT_H
#define LICD_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LICD_CLIENT_OK = 0,
    LICD_CLIENT_ERR_ARGS = -1,          /* a missing or malformed argument */
    LICD_CLIENT_ERR_NOMEM = -2,         /* out of memory */
    LICD_CLIENT_ERR_NETWORK = -3,       /* no HTTP answer: DNS, connect, TLS, timeout */
    LICD_CLIENT_ERR_HTTP = -4,          /* licd answered an error status: see problem_code */
    LICD_CLIENT_ERR_PROTOCOL = -5,      /* an answer that is not what the API promises */
    LICD_CLIENT_ERR_INVALID_TOKEN = -6, /* not a token of licd for this user, machine, products */
    LICD_CLIENT_ERR_EXPIRED = -7,       /* a genuine token whose exp has passed: renew it */
    LICD_CLIENT_ERR_UNKNOWN_KEY = -8,   /* the token's kid is not in the JWKS: fetch it again */
    LICD_CLIENT_ERR_NEED_PASSWORD = -9, /* no usable token, and no password to sign in with */
    LICD_CLIENT_ERR_IO = -10,           /* reading or writing the cache */
    LICD_CLIENT_ERR_NOT_CACHED = -11    /* nothing of that kind in the cache */
} licd_client_code;

/* A fixed English name of a code ("network error", ...); never NULL. */
const char *licd_client_strerror(int code);

/* ---- The client object: one libcurl handle, the JWKS, the last error. ---- */

typedef struct licd_client licd_client;

/* base_url is "http(s)://host[:port]" (a trailing '/' is dropped) or NULL
 * for a client that only verifies offline; customer_key is the bearer for
 * the client endpoints that take one, or NULL. Both are copied. Defaults:
 * 5 s to connect, 30 s per request, redirects not followed. */
int licd_client_new(const char *base_url, const char *customer_key, licd_client **out);
/* Frees c and everything it holds; NULL is fine. */
void licd_client_free(licd_client *c);
/* Seconds to connect and for a whole request; each at least 1. */
int licd_client_set_timeouts(licd_client *c, long connect_s, long total_s);

/* The last failed call on c: a one-line reason ("" after success), the HTTP
 * status (0 when no answer came) and the problem code (NULL unless the
 * call returned LICD_CLIENT_ERR_HTTP with a problem+json body). */
const char *licd_client_error(const licd_client *c);
long licd_client_http_status(const licd_client *c);
const char *licd_client_problem_code(const licd_client *c);
/* The problem's "detail" ("" when it had none); NULL when problem_code is. */
const char *licd_client_problem_detail(const licd_client *c);

/* ---- Keys: the JWKS that offline verification trusts. ---- */

/* Installs a JWKS document (the text of GET /.well-known/jwks.json),
 * replacing the one c held. LICD_CLIENT_ERR_PROTOCOL when it is not a JWKS. */
int licd_client_set_jwks(licd_client *c, const char *jwks_json);
/* GET /.well-known/jwks.json and install it; *json_out (may be NULL) gets
 * a copy of its text, to be cached. */
int licd_client_fetch_jwks(licd_client *c, char **json_out);

/* ---- Session tokens (POST /v1/tokens, /v1/tokens/renew). ---- */

typedef enum {
    LICD_STATE_INVALID = 0,      /* no access */
    LICD_STATE_INTERMEDIATE = 1, /* limited: only the features named */
    LICD_STATE_VALID = 2         /* full access */
} licd_state;

/* "invalid", "intermediate" or "valid". */
const char *licd_state_name(licd_state s);

/* What a token grants, read from its verified claims. Calls that fill one
 * overwrite it: pass it zeroed (or cleared). licd_token_clear frees the
 * members and zeroes it again; it is safe to call twice. */
typedef struct {
    char *jwt;           /* the compact token itself */
    char *user;          /* sub */
    char *machine_id;    /* mid */
    char **products;     /* aud, in the token's order */
    size_t nproducts;
    licd_state state;    /* lst */
    char *features_json; /* feat as JSON text: {"<product>":["<feature>",...]} */
    int64_t issued_at;   /* iat, Unix seconds */
    int64_t expires_at;  /* exp, Unix seconds */
    char *jti;           /* the token's id */
} licd_token;

void licd_token_clear(licd_token *t);
/* 1 when the token grants feature of product, else 0. */
int licd_token_has_feature(const licd_token *t, const char *product, const char *feature);

/* Whom and what a token must be for. user and machine_id are required;
 * products (at least one, at most 32, distinct) must equal the token's aud
 * as a set. */
typedef struct {
    const char *user;
    const char *machine_id;
    const char *const *products;
    size_t nproducts;
} licd_token_scope;

/* Offline check against the JWKS installed in c, in this order: the header
 * is parsed here and must hold exactly one "alg", equal to "ES256" (libjwt
 * alone would take the algorithm from the token, and accept an HS256 token
 * MACed with the public key), and one "kid" found in the JWKS
 * (LICD_CLIENT_ERR_UNKNOWN_KEY if not); libjwt then checks the signature
 * against that key; iss must be "licd", sub, mid and aud must match scope,
 * and exp must lie after now (else LICD_CLIENT_ERR_EXPIRED, with *out filled
 * all the same: the token is genuine, and renewal wants it). Anything else
 * is LICD_CLIENT_ERR_INVALID_TOKEN. */
int licd_client_verify_token(licd_client *c, const char *jwt, const licd_token_scope *scope,
                             time_t now, licd_token *out);

/* POST /v1/tokens with the customer key: signs scope->user in on
 * scope->machine_id for scope->products. The answer is verified as above
 * (fetching the JWKS once when it lacks the token's kid) before *out is
 * filled; one the local clock already sees expired is still returned, as
 * licd granted it a moment ago (a short LICD_TOKEN_TTL, or clock skew).
 * Refusals are LICD_CLIENT_ERR_HTTP with problem code invalid_credentials,
 * machine_limit_reached, user_revoked or too_many_requests. */
int licd_client_token_issue(licd_client *c, const licd_token_scope *scope, const char *password,
                            licd_token *out);
/* POST /v1/tokens/renew (no bearer): a new token for the same user, machine
 * and products from jwt, expired or not, without the password. Verified as
 * the issue answer; a refusal is LICD_CLIENT_ERR_HTTP "renewal_refused". */
int licd_client_token_renew(licd_client *c, const char *jwt, const licd_token_scope *scope,
                            licd_token *out);

/* ---- The token cache and the whole flow `licctl token` runs. ---- */

/* Where a token came from. */
typedef enum {
    LICD_SOURCE_CACHE = 0,   /* the cached token, checked offline */
    LICD_SOURCE_RENEWED = 1, /* a new token for the cached one, no password */
    LICD_SOURCE_ISSUED = 2   /* a new token for the password */
} licd_token_source;

/* "cache", "renewed" or "issued". */
const char *licd_token_source_name(licd_token_source s);

/* Asked for the password only when it is needed: writes it NUL-terminated
 * into buf (cap bytes) and returns 0, or returns non-zero to decline. The
 * library wipes buf after use. */
typedef int (*licd_password_fn)(void *arg, char *buf, size_t cap);

/* $XDG_CACHE_HOME/licd when XDG_CACHE_HOME is an absolute path, else
 * $HOME/.cache/licd (HOME from the password database when unset). */
int licd_cache_default_dir(char **out);
/* The machine's id: /etc/machine-id, trimmed. LICD_CLIENT_ERR_IO if absent
 * or empty. */
int licd_machine_id(char **out);

/* A token for scope, as cheaply as it can be had:
 * 1. the cached token, when it verifies offline against the cached JWKS
 *    (fetched again once when it lacks the token's kid: key rotation) and
 *    its state is not invalid → LICD_SOURCE_CACHE, without asking licd;
 * 2. else, when a token is cached (expired, forged or not; a file that
 *    is not even shaped as a JWS counts as none), renewal
 *    → LICD_SOURCE_RENEWED;
 * 3. else, or when renewal is refused, and password is not NULL: the
 *    password it gives, POST /v1/tokens → LICD_SOURCE_ISSUED.
 * A new token replaces the cached one atomically. When licd cannot be
 * reached (or fails) after step 1 found a genuine unexpired token of state
 * invalid, that token is the answer (LICD_SOURCE_CACHE). Without a
 * password, a refused renewal stays LICD_CLIENT_ERR_HTTP "renewal_refused"
 * and no cached token at all is LICD_CLIENT_ERR_NEED_PASSWORD.
 *
 * cache_dir is created mode 0700 when missing (with missing parents); its
 * files are written mode 0600: jwks.json, and one token file per user,
 * machine and product set, token-<user>@<machine>@<products>-<hash>.jwt
 * (characters other than [A-Za-z0-9._,@-] shown as '_'; the hash of the
 * exact names keeps them apart). A cache that cannot be written is
 * LICD_CLIENT_ERR_IO, even after a token was had. */
int licd_client_token_obtain(licd_client *c, const licd_token_scope *scope, const char *cache_dir,
                             licd_password_fn password, void *password_arg, licd_token *out,
                             licd_token_source *source);

/* ---- Usage reports (POST /v1/report_usage, Authorization: License <jwt>). ---- */

typedef enum {
    LICD_USAGE_JSON = 0, /* application/json {"records":[...]}, within licd's body limit (1 MiB) */
    LICD_USAGE_GZIP = 1  /* application/gzip of JSON lines: up to 16 MiB sent, 64 MiB inflated */
} licd_usage_format;

/* One measurement: metric (1 to 64 bytes), a finite value, and when it was
 * taken in Unix seconds (0: now, as licd's clock tells). */
typedef struct {
    const char *metric;
    double value;
    int64_t at;
} licd_usage_record;

/* A metric whose largest value in the report passed the licence's limit. */
typedef struct {
    char *metric;
    double value;
    double limit;
} licd_usage_over;

/* licd's answer. licd_usage_result_clear frees the members and zeroes it
 * (safe to call twice). */
typedef struct {
    char *license_id;           /* the licence reported under */
    int64_t accepted;           /* records stored */
    int64_t rejected;           /* records that were not {metric, value, at?} */
    licd_usage_over *over_limit;
    size_t nover;
    char *json;                 /* the answer's JSON text, as licd sent it */
} licd_usage_result;

void licd_usage_result_clear(licd_usage_result *r);

/* Reports n records under license (the compact JWT of a pack licence or an
 * activation key), as format. All records are stored or none: a refusal is
 * LICD_CLIENT_ERR_HTTP with problem code unauthorized (a licence licd did
 * not sign, has expired or does not know), body_too_large (a JSON report
 * over licd's body limit: send it as gzip) or invalid_archive. A record
 * without a metric, with a value that is not finite or a negative time is
 * LICD_CLIENT_ERR_ARGS before anything is sent. */
int licd_client_report_usage(licd_client *c, const char *license, const licd_usage_record *records,
                             size_t n, licd_usage_format format, licd_usage_result *out);
/* The same for records already written as JSON lines (len bytes of text, one
 * record a line, blank lines skipped), sent as they are: compressed as the
 * archive, or each parsed into the records array (a line that is not JSON
 * goes as a string), so that licd judges every line alike and counts a bad
 * one as rejected in both formats. */
int licd_client_report_usage_lines(licd_client *c, const char *license, const char *lines,
                                   size_t len, licd_usage_format format, licd_usage_result *out);

/* ---- Vendor (admin) API: Authorization: Bearer <vendor api key>. ---- */

/* The vendor key the vendor calls send (copied; NULL forgets it). A client
 * may hold a customer key and a vendor key at once. */
int licd_client_set_vendor_key(licd_client *c, const char *vendor_key);

/* One vendor call: method to path ("/v1/...", its variable parts and query
 * values escaped with licd_client_escape) with body (JSON text) or NULL.
 * On a 2xx answer that is a JSON object, *answer (when answer is not NULL)
 * gets its text, and licd_client_http_status() tells 200 from 201 (a pack
 * posted again is 200); a 204 without a body (freeing a user's machine
 * slot, DELETE /v1/licenses/{id}) sets *answer to NULL. Any other status is
 * LICD_CLIENT_ERR_HTTP with the problem's code and detail recorded; an
 * answer that is not a JSON object, LICD_CLIENT_ERR_PROTOCOL. A key
 * rotation's answer holds the new key (shown once); after rotating the
 * vendor key, set it with licd_client_set_vendor_key for the calls that
 * follow. The library adds no knowledge of the vendor
 * endpoints: api-spec/openapi.yaml is their reference. */
int licd_client_vendor_call(licd_client *c, const char *method, const char *path, const char *body,
                            char **answer);
/* licd_client_vendor_call with a body of another type (len bytes sent as
 * they are, content_type e.g. "application/jose" for a site's usage report
 * to POST /v1/sites/{site_id}/reports); the answer as there. */
int licd_client_vendor_upload(licd_client *c, const char *method, const char *path,
                              const char *content_type, const char *body, size_t len,
                              char **answer);
/* GET of a list endpoint (path may carry filters and limit=), following its
 * "next" cursors to the end: *answer gets {"items":[every item, in order],
 * "next":null}. A page that is not {"items":[...],"next":string|null}, or a
 * cursor answered twice in a row, is LICD_CLIENT_ERR_PROTOCOL. */
int licd_client_vendor_list(licd_client *c, const char *path, char **answer);

/* s percent-encoded for a path segment or a query value: every byte but
 * the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX. */
int licd_client_escape(const char *s, char **out);

/* ---- Licences: pack licences and activation keys (licence JWTs). ---- */

/* What a licence grants, read from its verified claims. Calls that fill one
 * overwrite it: pass it zeroed (or cleared). licd_license_clear frees the
 * members and zeroes it again; it is safe to call twice. */
typedef struct {
    char *jwt;           /* the compact licence itself */
    char *license_id;    /* lid */
    char *client_id;     /* cid: the client, or the app of an activation key */
    char *product;       /* pid */
    char *version;       /* pver */
    char *platform;      /* platform */
    char *pack_id;       /* pack; NULL for a temporary licence or an activation key */
    int64_t serial;      /* serial; 0 when it has none */
    int temporary;       /* tmp: 1 for a temporary licence (no seat was free) */
    char *node_id;       /* node of an activation key; NULL for a pack licence */
    char *features_json; /* feat as JSON text: ["<feature>",...] */
    int64_t issued_at;   /* iat, Unix seconds */
    int64_t expires_at;  /* exp, Unix seconds; LICD_LICENSE_NO_EXPIRY when it never expires */
    int borrowed;        /* borrow: 1 for the licence of a borrowed seat (lid is its lease) */
} licd_license;

/* The exp of a licence without an end: 9999-12-31T23:59:59Z. */
#define LICD_LICENSE_NO_EXPIRY INT64_C(253402300799)

void licd_license_clear(licd_license *l);

/* Offline check of a licence against the JWKS installed in c, on the same
 * pinned path as licd_client_verify_token (alg ES256, a kid of the JWKS,
 * the signature by libjwt); then iss must be "licd" and lid, cid, pid, tmp
 * and exp be present. An expired licence is LICD_CLIENT_ERR_EXPIRED with
 * *out filled all the same; a kid not in the JWKS is
 * LICD_CLIENT_ERR_UNKNOWN_KEY (fetch the JWKS again); anything else that
 * fails is LICD_CLIENT_ERR_INVALID_TOKEN. */
int licd_client_verify_license(licd_client *c, const char *jwt, time_t now, licd_license *out);

/* What POST /v1/get_key asks for (pack licence, customer key as bearer).
 * product and client_id are required; the rest may be NULL. */
typedef struct {
    const char *product;
    const char *client_id;
    const char *version;     /* NULL: the product's current version */
    const char *platform;    /* windows, non_windows, legacy, direct_connect or any (NULL) */
    const char *software_id; /* the build the client runs, for a platform challenge */
    const char *image_path;  /* the client's image: answers challenge_required (NULL: refused) */
} licd_key_request;

/* The client's licence: the one it holds (recovered), a new seat, or its
 * one temporary licence (out->temporary) when no seat is free. When licd
 * answers 403 challenge_required and image_path is set, the response
 * hex(SHA-256(nonce ‖ image ‖ nonce)) is computed from the file and the
 * request sent once more with it. The licence is verified offline (the
 * JWKS fetched once when it lacks the licence's kid) and must be for
 * client_id and product. Refusals are LICD_CLIENT_ERR_HTTP with problem
 * code license_blocked, no_matching_pack, temporary_license_expired,
 * challenge_required (no image_path) or challenge_failed. */
int licd_client_get_key(licd_client *c, const licd_key_request *r, licd_license *out);

/* The answer to a platform challenge: hex(SHA-256(nonce bytes ‖ the file at
 * image_path ‖ nonce bytes)) into response (65 bytes with the NUL). The
 * nonce is 32 hex digits; a file that cannot be read is LICD_CLIENT_ERR_IO. */
int licd_client_challenge_response(licd_client *c, const char *nonce_hex, const char *image_path,
                                   char response[65]);

/* What the group shape of POST /v1/get_key sends (no bearer: the group key
 * is the credential). group_key, scheme, product and app_id are required;
 * the rest may be NULL (licd takes node "default"). ip is kept as evidence
 * only: an ip_range link looks at the address the request comes from. */
typedef struct {
    const char *group_key;
    const char *scheme;
    const char *product;
    const char *app_id;
    const char *node_id;
    const char *container_id;
    const char *ip;
    const char *domain;
} licd_activation_request;

/* One activation: update_password (NULL: none) is presented, and
 * *new_password gets the one licd answers with (free it). The activation
 * key is verified offline and must be for app_id and product. Refusals are
 * LICD_CLIENT_ERR_HTTP 403 with problem code unknown_group_key,
 * group_key_revoked, group_key_expired, scheme_mismatch,
 * product_not_in_group, link_mismatch, quota_exceeded, license_blocked,
 * over_limit or update_password_unknown. */
int licd_client_activate(licd_client *c, const licd_activation_request *r,
                         const char *update_password, licd_license *out, char **new_password);

/* An activation that keeps the update password between runs in cache_dir
 * (made mode 0700 when missing; files 0600, replaced atomically), one file
 * per group key, node and app: update-password-<H(key,app)>-<H(key,app,node)>
 * (hashes, so that the key never shows in a name). The password of this
 * node is presented; when there is none, the newest of the same key and
 * app from another node is (the app moved, or was copied, with its state),
 * and that file is removed once the answer's password is stored. So give
 * each application instance a cache folder of its own: two live instances
 * sharing one folder from different nodes would present each other's
 * passwords and be flagged as clones. *presented (may be NULL) says
 * whether a password was presented. A password written to the cache may be
 * lost only when writing it fails, which is LICD_CLIENT_ERR_IO after the
 * activation (*out is filled all the same). */
int licd_client_activate_cached(licd_client *c, const licd_activation_request *r,
                                const char *cache_dir, licd_license *out, int *presented);

/* POST /v1/is_upgrade_available's answer. licd_upgrade_check_clear frees
 * the members and zeroes it (safe to call twice). */
typedef struct {
    int available;      /* a seat of an upgrade pack is free for it */
    int supported;      /* an upgrade path leads there */
    char *reason;       /* licd's reason, e.g. "no_upgrade_seat" */
    char *license_id;   /* the licence asked about */
    char *from_version; /* its version now */
} licd_upgrade_check;

void licd_upgrade_check_clear(licd_upgrade_check *u);

/* Whether license (a licence JWT of this customer) can move to target. */
int licd_client_is_upgrade_available(licd_client *c, const char *license, const char *target,
                                     licd_upgrade_check *out);
/* POST /v1/upgrade: the new licence for target, consuming one seat of an
 * upgrade pack, verified offline. 409 no_upgrade_available and 403
 * license_blocked are LICD_CLIENT_ERR_HTTP. */
int licd_client_upgrade(licd_client *c, const char *license, const char *target, licd_license *out);

/* ---- Floating seats: leases kept by heartbeats, across a pool of nodes. ---- */

/* Makes c's later requests go to base_url (same rules as licd_client_new);
 * licd_client_url() is the one in use (NULL for an offline client). */
int licd_client_set_url(licd_client *c, const char *base_url);
const char *licd_client_url(const licd_client *c);

/* A lease as licd answered it. licd_lease_clear frees the members and
 * zeroes it (safe to call twice). */
typedef struct {
    char *lease_id;
    char *pack_id;
    int64_t expires_at;        /* Unix seconds */
    long heartbeat_interval_s; /* at least 1 */
    char **servers;            /* the pool's node URLs, as licd listed them */
    size_t nservers;
} licd_lease;

void licd_lease_clear(licd_lease *l);

/* POST /v1/leases: a seat of a concurrent pack of product for client_id.
 * Every seat taken is LICD_CLIENT_ERR_HTTP 403 no_seats_available. */
int licd_client_lease_checkout(licd_client *c, const char *product, const char *client_id,
                               licd_lease *out);
/* POST /v1/leases/{held->lease_id}/heartbeat: 200 extends the lease
 * (*created 0); 201 means the node did not know it (or it had lapsed) and
 * checked a new seat out: out->lease_id is then new (*created 1). *out is
 * the lease as licd answered, with what the answer leaves out (a 200 may
 * carry only expires_at) taken from held. 403 no_seats_available when the
 * node did not know the lease and no seat is free. */
int licd_client_lease_heartbeat(licd_client *c, const licd_lease *held, const char *product,
                                const char *client_id, licd_lease *out, int *created);
/* DELETE /v1/leases/{lease_id}: the seat is free again. */
int licd_client_lease_release(licd_client *c, const char *lease_id);

typedef enum {
    LICD_LEASE_CHECKOUT = 0,  /* a new lease: at the start, or a heartbeat licd turned into one */
    LICD_LEASE_HEARTBEAT = 1, /* the lease was extended */
    LICD_LEASE_FAILOVER = 2,  /* a node stopped answering: moving to the next */
    LICD_LEASE_RELEASE = 3    /* the seat was given back */
} licd_lease_event_kind;

/* "checkout", "heartbeat", "failover" or "release". */
const char *licd_lease_event_name(licd_lease_event_kind k);

/* What a holder reports; pointers are valid during the callback only. */
typedef struct {
    licd_lease_event_kind kind;
    const licd_lease *lease; /* the lease now (the old one for failover) */
    const char *server;      /* the node that answered; failover: the node moved to */
    const char *from;        /* failover: the node that stopped answering */
    const char *reason;      /* failover: why (licd_client_error of the failed request) */
    const char *replaces;    /* checkout by heartbeat: the lease it replaces, else NULL */
} licd_lease_event;

typedef void (*licd_lease_event_fn)(void *arg, const licd_lease_event *ev);

/* Holds one seat through c, which it borrows (c must outlive it) and moves
 * between nodes: a request that gets no answer (LICD_CLIENT_ERR_NETWORK:
 * refused, reset, timed out) or a 5xx goes to the next node of its
 * failover list, starting after the node in use and wrapping, each tried
 * once. That list is the servers given here, followed by every other node
 * licd's answers named in "servers" (merged in, never replacing the given
 * ones: a node that lists only itself does not hide the others). A
 * heartbeat that reaches a node that does not know the lease becomes a new
 * checkout there, whose lease_id the holder keeps from then on. Other
 * answers (403 no_seats_available, 401, ...) are the caller's to judge:
 * they return at once, with the error on c. */
typedef struct licd_lease_holder licd_lease_holder;

/* product, client_id and servers (nservers URLs, may be 0) are copied; fn
 * (may be NULL) is told of every event. */
int licd_lease_holder_new(licd_client *c, const char *product, const char *client_id,
                          const char *const *servers, size_t nservers, licd_lease_event_fn fn,
                          void *arg, licd_lease_holder **out);
void licd_lease_holder_free(licd_lease_holder *h);
/* The lease held, or NULL before a checkout and after a release. */
const licd_lease *licd_lease_holder_lease(const licd_lease_holder *h);
/* One checkout, heartbeat or release, each with failover as above. */
int licd_lease_holder_checkout(licd_lease_holder *h);
int licd_lease_holder_heartbeat(licd_lease_holder *h);
int licd_lease_holder_release(licd_lease_holder *h);
/* Checks a seat out, heartbeats every heartbeat_interval_s until *stop is
 * non-zero (set it from a signal handler: it is looked at every 100 ms and
 * between requests), then releases the seat. A checkout that fails returns
 * its error; a heartbeat round in which no node answered is tried again
 * after the interval (the lease may lapse meanwhile: the next heartbeat
 * then checks a seat out anew); any other heartbeat failure (403
 * no_seats_available: the seat is lost) returns at once, leaving nothing
 * held. A failed release returns its error (the lease lapses by itself). */
int licd_lease_holder_run(licd_lease_holder *h, const volatile sig_atomic_t *stop);

/* ---- Borrowed seats: a floating seat taken away for a while, no heartbeats. ---- */

/* POST /v1/leases with borrow_s: a seat of a concurrent pack that allows
 * borrowing that long (its max_borrow_s), held until the borrow ends or it
 * is returned. *license is its licence (lid the lease id, exp the borrow's
 * end), verified offline (the JWKS fetched once when it lacks the kid) and
 * for client_id and product; *lease (may be NULL) the lease. Refusals are
 * LICD_CLIENT_ERR_HTTP: 403 borrow_not_allowed, no_seats_available,
 * no_concurrent_pack; 400 invalid_field (longer than the packs allow). */
int licd_client_lease_borrow(licd_client *c, const char *product, const char *client_id,
                             long borrow_s, licd_lease *lease, licd_license *license);
/* licd_client_lease_borrow, then the licence and the JWKS that verifies it
 * written to cache_dir (made mode 0700; files 0600, replaced atomically):
 * jwks.json and borrow-<product>@<client>-<hash>.jwt. */
int licd_client_borrow_cached(licd_client *c, const char *product, const char *client_id,
                              long borrow_s, const char *cache_dir, licd_license *out);
/* Offline, no request at all: the borrowed licence cached for product and
 * client_id, verified against the cached JWKS at now (c may have no URL).
 * LICD_CLIENT_ERR_NOT_CACHED when none is cached, LICD_CLIENT_ERR_EXPIRED
 * (with *out filled) once the borrow has ended, otherwise as
 * licd_client_verify_license. */
int licd_client_borrowed(licd_client *c, const char *product, const char *client_id,
                         const char *cache_dir, time_t now, licd_license *out);
/* Returns the cached borrow early (DELETE /v1/leases/{lid}) and removes its
 * file; LICD_CLIENT_ERR_NOT_CACHED when none is cached. A borrow that has
 * ended is only removed. */
int licd_client_borrow_return(licd_client *c, const char *product, const char *client_id,
                              const char *cache_dir);

#ifdef __cplusplus
}
#endif

#endif
