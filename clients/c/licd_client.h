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
    LICD_CLIENT_ERR_IO = -10            /* reading or writing the cache */
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

#ifdef __cplusplus
}
#endif

#endif
