/* Idempotency-Key on every POST, in one place: the prepare hook the server
 * calls once the body is in and the caller is known. The first request with
 * a key claims it in the database and runs; its answer is kept, sealed, as
 * it is sent. A retry with the same key and request gets that answer again
 * (status, Content-Type, body and request id) without running; the same key
 * with another request is 409 idempotency_key_reused; a retry while the
 * first still runs waits for it a little, then is 409
 * idempotency_key_in_progress. Keys belong to the caller: a vendor, a
 * customer, a licence, or the credential an unauthenticated POST carries in
 * its body (a group key, a session token). Answers of 5xx and 429 are not
 * kept (the key is given up, so a retry runs); other 4xx answers are. */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/auth.h"
#include "crypto/digest.h"
#include "crypto/keys.h"
#include "crypto/seal.h"
#include "store/idempotency.h"
#include "util/log.h"

#define KEY_MAX 255
#define LOCK_S 60    /* a claim whose node died holds its retries back this long */
#define WAIT_MS 2000 /* how long a retry waits for the first request to finish */

/* Retries waiting for their first request hold HTTP worker threads: at most
 * a quarter of them (at least one) wait at once; the others are answered
 * idempotency_key_in_progress at once, so duplicates cannot starve a node. */
static atomic_int waiting;
#define PURPOSE "licd idempotency answers v1"

/* What the answer hook needs: whose key it is, and the claim. */
struct claim {
    char scope[80];
    char key[KEY_MAX + 1];
    char claim[33];
};

/* The sealing key of the ring's key named kid (NULL: the signing key). */
static int seal_key(const char *kid, unsigned char key[CRYPTO_SEAL_KEY_LEN])
{
    const crypto_keyring *ring = api_ctx()->keys;
    EVP_PKEY *pkey =
        kid ? crypto_keyring_find_key(ring, kid, strlen(kid)) : crypto_keyring_signing_key(ring);
    return pkey ? crypto_seal_key(pkey, PURPOSE, key) : LICD_ERR_TOKEN_INVALID;
}

/* The sealed answer is bound to whose key it is ("scope\nkey"). */
static size_t aad_of(const struct claim *c, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%s\n%s", c->scope, c->key);
    return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

/* The answer hook: keeps the first answer, or gives the key up. */
static void answered(http_request *req, int status, const char *type, const char *body, size_t len)
{
    struct claim *c = req->answer_ctx;
    unsigned char key[CRYPTO_SEAL_KEY_LEN], *sealed = NULL;
    char aad[sizeof c->scope + sizeof c->key + 2];
    size_t sealed_len = 0, aadlen = aad_of(c, aad, sizeof aad);
    int rc;

    req->on_answer = NULL; /* the first answer is the one */
    if (status >= 500 || status == 429) {
        rc = store_idempotency_release(c->scope, c->key, c->claim);
    } else if ((rc = seal_key(NULL, key)) == LICD_OK &&
               (rc = crypto_seal(key, aad, aadlen, body ? body : "", len, &sealed, &sealed_len)) ==
                   LICD_OK) {
        rc = store_idempotency_keep(c->scope, c->key, c->claim, req->request_id, status,
                                    type ? type : "", crypto_keyring_kid(api_ctx()->keys), sealed,
                                    sealed_len);
    }
    OPENSSL_cleanse(key, sizeof key);
    free(sealed);
    if (rc != LICD_OK) {
        /* The answer goes out all the same; the claim lapses after LOCK_S. */
        log_line("warn", "cannot keep the answer of an Idempotency-Key", licd_err_name(rc));
    }
}

/* Whose keys these are: the caller the Authorization header named, or the
 * credential in the body of a route that takes one there (hashed: the
 * scope is stored); a body without it is a scope of its own. */
static void scope_of(const http_request *req, const char *request_hex, char *scope, size_t n)
{
    const api_vendor_caller *v = api_caller_vendor(req);
    const store_customer *c = api_caller_customer(req);
    const api_license_caller *l = api_caller_license(req);
    cJSON *body;
    const cJSON *cred = NULL;
    uint8_t h[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    if (v) {
        snprintf(scope, n, "v:%s", v->vendor.id);
        return;
    }
    if (c) {
        snprintf(scope, n, "c:%s", c->id);
        return;
    }
    if (l) {
        snprintf(scope, n, "l:%s", l->license_id);
        return;
    }
    body = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
    if (cJSON_IsObject(body)) {
        cred = cJSON_GetObjectItemCaseSensitive(body, "group_key");
        if (!cJSON_IsString(cred))
            cred = cJSON_GetObjectItemCaseSensitive(body, "token");
    }
    if (cJSON_IsString(cred)) {
        crypto_sha256(cred->valuestring, strlen(cred->valuestring), h);
        crypto_hex(h, 16, hex);
        snprintf(scope, n, "b:%s", hex);
    } else {
        snprintf(scope, n, "r:%.32s", request_hex);
    }
    cJSON_Delete(body);
}

/* SHA-256 of what makes two requests the same: method, path,
 * Content-Type, Content-Encoding and body (no POST route reads a query),
 * as SHA-256(SHA-256(the headers' line) || SHA-256(body)), so that a body of
 * tens of MiB is hashed where it lies, never copied. */
static void request_hash(const http_request *req, uint8_t out[CRYPTO_SHA256_LEN])
{
    const char *type = http_header(req, "Content-Type"),
               *enc = http_header(req, "Content-Encoding");
    uint8_t parts[2 * CRYPTO_SHA256_LEN];
    size_t n = strlen(req->method) + strlen(req->path) + (type ? strlen(type) : 0) +
               (enc ? strlen(enc) : 0) + 4;
    char *line = malloc(n + 1);
    if (line) {
        n = (size_t)snprintf(line, n + 1, "%s\n%s\n%s\n%s\n", req->method, req->path,
                             type ? type : "", enc ? enc : "");
        crypto_sha256(line, n, parts);
        free(line);
    } else {
        /* Out of memory: the method and path alone still tell routes apart. */
        crypto_sha256(req->path, strlen(req->path), parts);
    }
    crypto_sha256(req->body ? req->body : "", req->body_len, parts + CRYPTO_SHA256_LEN);
    crypto_sha256(parts, sizeof parts, out);
}

/* Answers again what the first request answered. */
static int replay(http_request *req, const struct claim *c, const store_idempotency *r)
{
    unsigned char key[CRYPTO_SEAL_KEY_LEN];
    char aad[sizeof c->scope + sizeof c->key + 2], *body = NULL;
    size_t len = 0, aadlen = aad_of(c, aad, sizeof aad);
    int rc = seal_key(r->kid, key);
    if (rc == LICD_OK)
        rc = crypto_open(key, aad, aadlen, r->answer, r->answer_len, &body, &len);
    OPENSSL_cleanse(key, sizeof key);
    if (rc != LICD_OK) {
        /* Sealed under a key this server no longer has, or altered. */
        return http_fail(req, LICD_ERR_INTERNAL,
                         "cannot open the kept answer of an "
                         "Idempotency-Key (kid %s): %s",
                         r->kid, licd_err_name(rc));
    }
    if (r->request_id[0] && strlen(r->request_id) < sizeof req->request_id)
        memcpy(req->request_id, r->request_id, strlen(r->request_id) + 1);
    req->replayed = 1;
    rc = http_reply_bytes(req, r->status, r->content_type[0] ? r->content_type : NULL, body, len);
    free(body);
    return rc;
}

static int valid_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x20 || k[i] > 0x7e)
            return 0;
    return 1;
}

static int max_waiting(void)
{
    int n = api_ctx()->config->threads / 4;
    return n > 0 ? n : 1;
}

int api_idempotency_prepare(http_request *req)
{
    const char *key = http_header(req, "Idempotency-Key");
    uint8_t hash[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    struct claim c;
    store_idempotency r;
    unsigned waited = 0, step = 10;
    int rc;

    if (!key || strcmp(req->method, "POST") != 0)
        return LICD_OK;
    if (!valid_key(key))
        return http_fail(req, LICD_ERR_INVALID_FIELD,
                         "Idempotency-Key must be 1 to %d printable ASCII characters", KEY_MAX);
    request_hash(req, hash);
    crypto_hex(hash, sizeof hash, hex);
    memset(&c, 0, sizeof c);
    scope_of(req, hex, c.scope, sizeof c.scope);
    memcpy(c.key, key, strlen(key) + 1);
    for (;;) {
        if ((rc = store_idempotency_claim(c.scope, c.key, hash, api_ctx()->config->idempotency_ttl,
                                          LOCK_S, &r)) != LICD_OK)
            break;
        if (r.state != STORE_IDEM_IN_FLIGHT || waited >= WAIT_MS)
            break;
        if (!waited && atomic_fetch_add(&waiting, 1) >= max_waiting()) {
            atomic_fetch_sub(&waiting, 1);
            break;
        }
        usleep(step * 1000);
        waited += step;
        step = step * 2 > 200 ? 200 : step * 2;
    }
    if (waited)
        atomic_fetch_sub(&waiting, 1);
    if (rc != LICD_OK)
        return rc;
    switch (r.state) {
    case STORE_IDEM_CLAIMED: {
        struct claim *held = malloc(sizeof *held);
        if (!held) {
            store_idempotency_release(c.scope, c.key, r.claim);
            return LICD_ERR_NOMEM;
        }
        memcpy(c.claim, r.claim, sizeof c.claim);
        *held = c;
        req->answer_ctx = held;
        req->on_answer = answered;
        return LICD_OK;
    }
    case STORE_IDEM_DONE:
        rc = replay(req, &c, &r);
        store_idempotency_clear(&r);
        return rc;
    case STORE_IDEM_MISMATCH:
        return http_fail(req, LICD_ERR_IDEMPOTENCY_KEY_REUSED,
                         "this Idempotency-Key was used with another request (method, path or "
                         "body) in the last %ld s",
                         api_ctx()->config->idempotency_ttl);
    case STORE_IDEM_IN_FLIGHT:
    default:
        req->retry_after = 1;
        return http_fail(req, LICD_ERR_IDEMPOTENCY_KEY_IN_PROGRESS,
                         "a request with this Idempotency-Key is still running; retry later");
    }
}
