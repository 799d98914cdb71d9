/* What the library's source files share and its users never see: the
 * client object's layout, error recording, HTTP and cache helpers. */
#ifndef LICD_CLIENT_INTERNAL_H
#define LICD_CLIENT_INTERNAL_H

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "licd_client.h"

#define CLIENT_MAX_PRODUCTS 32
#define CLIENT_MAX_JWT 16384
/* The cached JWKS's file name in a cache folder. */
#define CLIENT_JWKS_FILE "jwks.json"

struct licd_client {
    CURL *curl;
    char *base_url;       /* without a trailing '/' */
    char *customer_key;   /* NULL: no bearer */
    char *vendor_key;     /* the vendor calls' bearer (admin.c); NULL: none */
    long connect_timeout; /* seconds */
    long timeout;         /* seconds */
    cJSON *jwks;          /* the installed JWKS document */
    char *jwks_text;      /* and its text */
    int jwks_fetched;     /* fetched since the last save: the cache keeps it */
    long http_status;
    char problem_code[64];
    char problem_detail[512]; /* its "detail" */
    cJSON *problem;       /* the last error answer's problem+json object, or NULL */
    char error[512];
};

/* Records why the call fails and returns code (for `return client_fail(...)`). */
int client_fail(licd_client *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Forgets the last failure, at the start of each public call. */
void client_clear_error(licd_client *c);

/* One request to base_url + path. body (JSON text) may be NULL; bearer adds
 * the customer key. A 2xx answer: *json (when json is not NULL) gets the
 * parsed object (the caller's, cJSON_Delete) and *text (when not NULL) its
 * text (free). Any other status is LICD_CLIENT_ERR_HTTP, recorded with its
 * problem code and detail. */
int client_request(licd_client *c, const char *method, const char *path, const char *body,
                   int bearer, cJSON **json, char **text);

/* One request as client_send makes it. */
struct client_call {
    const char *method;
    const char *path;         /* after base_url: "/v1/..." */
    const char *body;         /* NULL: none */
    size_t body_len;
    const char *content_type; /* of body; NULL: application/json */
    const char *auth_scheme;  /* "Bearer", "License"; NULL: no Authorization header */
    const char *credential;   /* after the scheme; NULL: fails, naming: */
    const char *credential_name; /* "customer key", "vendor key", ... */
};

/* client_request for any body, content type and credential (a credential
 * or path with a control character is LICD_CLIENT_ERR_ARGS: it could
 * smuggle a header). */
int client_send(licd_client *c, const struct client_call *call, cJSON **json, char **text);

/* The shape, pinned header (alg ES256, one kid found in the installed JWKS)
 * and signature of a compact JWS; *claims gets its payload (cJSON_Delete).
 * LICD_CLIENT_ERR_UNKNOWN_KEY when the kid is not in the JWKS, else
 * LICD_CLIENT_ERR_INVALID_TOKEN. Judging the claims is the caller's. */
int client_verify_jws(licd_client *c, const char *jwt, cJSON **claims);

/* Starts a public call about scope: forgets the last failure, then checks
 * the scope before anything is sent or trusted. */
int client_begin(licd_client *c, const licd_token_scope *scope);

/* Cache files (cache.c). The folder is made mode 0700 with its parents. */
int cache_prepare_dir(licd_client *c, const char *dir);
/* *out gets the file's content, or NULL when there is no such file. */
int cache_read(licd_client *c, const char *dir, const char *name, char **out);
/* Replaces the file atomically: a 0600 temporary beside it, fsync, rename. */
int cache_write(licd_client *c, const char *dir, const char *name, const char *data);
/* Removes the file; one that is not there is fine. */
int cache_remove(licd_client *c, const char *dir, const char *name);
/* "<prefix><readable a@b>-<hash of a and b><suffix>" (free it). */
int cache_pair_name(licd_client *c, const char *prefix, const char *a, const char *b,
                    const char *suffix, char **out);
/* The token file's name for scope (free it). */
int cache_token_name(licd_client *c, const licd_token_scope *scope, char **out);

#endif
