/* The webhook delivery threads (see delivery.h). Each round: publish what
 * committed, claim one due webhook (FOR UPDATE SKIP LOCKED in the store, so
 * threads and nodes never hold the same one), POST its next events one
 * after another, moving its cursor after each success; a failure ends the
 * round for that webhook with a backoff. Idle threads poll every
 * POLL_MS. */
#include "webhooks/delivery.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "crypto/digest.h"
#include "store/db.h"
#include "store/events.h"
#include "store/webhooks.h"
#include "util/error.h"
#include "util/log.h"
#include "util/metrics.h"
#include "webhooks/url.h"

#define POLL_MS 200
#define CLAIM_S 120 /* a claim outlives any attempt (timeout is at most 60 s) */
#define BATCH 50    /* events read per claim */
#define PUBLISH_BATCH 1000
#define CONNECT_TIMEOUT_MS 5000L

struct webhook_delivery {
    webhook_delivery_config cfg;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
};

int webhook_signature(const char *secret, long long t, const char *body, size_t body_len, char *out,
                      size_t len)
{
    char prefix[32];
    uint8_t mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    int n = snprintf(prefix, sizeof prefix, "%lld.", t);
    size_t total = (size_t)n + body_len;
    char *msg = malloc(total);
    int rc = LICD_ERR_INTERNAL;
    if (!msg)
        return LICD_ERR_NOMEM;
    memcpy(msg, prefix, (size_t)n);
    memcpy(msg + n, body, body_len);
    if (crypto_hmac_sha256(secret, strlen(secret), msg, total, mac) == LICD_OK) {
        crypto_hex(mac, sizeof mac, hex);
        if ((size_t)snprintf(out, len, "t=%lld,v1=%s", t, hex) < len)
            rc = LICD_OK;
    }
    free(msg);
    return rc;
}

char *webhook_body(long long event_id, const char *type, const char *created_at, const char *data)
{
    cJSON *o = cJSON_CreateObject(), *d = cJSON_Parse(data);
    char *text = NULL;
    if (o && d && cJSON_AddNumberToObject(o, "event_id", (double)event_id) &&
        cJSON_AddStringToObject(o, "type", type) &&
        cJSON_AddStringToObject(o, "created_at", created_at) &&
        cJSON_AddItemToObject(o, "data", d)) {
        d = NULL;
        text = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(d);
    cJSON_Delete(o);
    return text;
}

static size_t discard(char *ptr, size_t size, size_t n, void *user)
{
    (void)ptr;
    (void)user;
    return size * n;
}

/* libcurl's socket for each address it connects to: refused for a
 * non-public one unless allowed, so a name that resolved to a public
 * address when the webhook was registered cannot lead into the network
 * later (DNS rebinding). */
static curl_socket_t open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    const webhook_delivery_config *cfg = user;
    (void)purpose;
    if (!cfg->allow_private && !webhook_address_public(&a->addr))
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

/* POSTs one event; its HTTP status (0 when none came) to *status and why
 * it failed to error. 1 when delivered (2xx). */
static int post(CURL *h, webhook_delivery_config *cfg, const store_delivery *d,
                const store_event *e, int *status, char *error, size_t errlen)
{
    char *body = webhook_body(e->event_id, e->type, e->created_at, e->data);
    char sig[160], sig_header[200], id_header[64];
    struct curl_slist *headers = NULL, *more;
    long code = 0;
    CURLcode cc;
    int ok = 0;

    *status = 0;
    if (!body || webhook_signature(d->secret, (long long)time(NULL), body, strlen(body), sig,
                                   sizeof sig) != LICD_OK) {
        snprintf(error, errlen, "out of memory");
        free(body);
        return 0;
    }
    snprintf(sig_header, sizeof sig_header, "Licd-Signature: %s", sig);
    snprintf(id_header, sizeof id_header, "Licd-Event-Id: %lld", e->event_id);
    if (!(more = curl_slist_append(headers, "Content-Type: application/json")) ||
        !(headers = more, more = curl_slist_append(headers, sig_header)) ||
        !(headers = more, more = curl_slist_append(headers, id_header)) ||
        !(headers = more, more = curl_slist_append(headers, "Expect:"))) {
        snprintf(error, errlen, "out of memory");
        goto out;
    }
    headers = more;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, d->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, cfg->allow_private ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     cfg->timeout * 1000 < CONNECT_TIMEOUT_MS ? cfg->timeout * 1000
                                                              : CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->timeout * 1000);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "licd-webhooks/0.1");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, cfg);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        snprintf(error, errlen, "%s", curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    if (code >= 200 && code < 300)
        ok = 1;
    else
        snprintf(error, errlen, "the receiver answered HTTP %ld", code);
out:
    curl_slist_free_all(headers);
    free(body);
    return ok;
}

static int stopping(webhook_delivery *w)
{
    int s;
    pthread_mutex_lock(&w->lock);
    s = w->stopping;
    pthread_mutex_unlock(&w->lock);
    return s;
}

/* One claimed webhook's batch, in order; stops at the first failure. */
static void deliver(webhook_delivery *w, CURL *h, store_delivery *d)
{
    const store_event *events = d->events.items;
    for (size_t i = 0; i < d->events.n; i++) {
        char error[256] = "";
        int status, rc;
        if (stopping(w))
            break;
        if (!post(h, &w->cfg, d, &events[i], &status, error, sizeof error)) {
            metrics_webhook_failure();
            if ((rc = store_delivery_failed(d, status, error, w->cfg.backoff_max,
                                            w->cfg.dead_after)) != LICD_OK)
                log_line("warn", "webhooks: cannot record a failed delivery", licd_err_name(rc));
            return;
        }
        metrics_webhook_delivered((double)time(NULL) - events[i].created_epoch);
        if ((rc = store_delivery_done(d, events[i].event_id, status, CLAIM_S)) != LICD_OK) {
            /* Delivered but not recorded: the event goes out again later (at
             * least once). No row: the webhook was deleted meanwhile. */
            if (rc != LICD_ERR_NOT_FOUND)
                log_line("warn", "webhooks: cannot record a delivery", licd_err_name(rc));
            return;
        }
    }
    store_delivery_release(d);
}

static void *run(void *p)
{
    webhook_delivery *w = p;
    CURL *h = curl_easy_init();
    if (!h) {
        log_line("error", "webhooks: cannot make a libcurl handle; this thread stops", NULL);
        return NULL;
    }
    while (!stopping(w)) {
        store_delivery d;
        int rc;
        store_events_publish(0, PUBLISH_BATCH, NULL);
        rc = store_delivery_claim(CLAIM_S, BATCH, &d);
        if (rc == LICD_OK) {
            deliver(w, h, &d);
            store_delivery_clear(&d);
            continue;
        }
        /* Nothing due (or the database is away): wait a moment. */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&w->lock);
        while (!w->stopping && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&w->lock);
    }
    curl_easy_cleanup(h);
    return NULL;
}

int webhook_delivery_start(const webhook_delivery_config *cfg, webhook_delivery **out)
{
    webhook_delivery *w;
    pthread_condattr_t attr;

    *out = NULL;
    if (cfg->threads <= 0)
        return LICD_OK;
    if (!(w = calloc(1, sizeof *w)) ||
        !(w->threads = calloc((size_t)cfg->threads, sizeof *w->threads))) {
        free(w);
        return LICD_ERR_NOMEM;
    }
    w->cfg = *cfg;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    for (int i = 0; i < cfg->threads; i++) {
        if (pthread_create(&w->threads[i], NULL, run, w) != 0)
            break;
        w->nthreads++;
    }
    if (w->nthreads == 0) {
        webhook_delivery_stop(w);
        return LICD_ERR_INTERNAL;
    }
    *out = w;
    return LICD_OK;
}

void webhook_delivery_stop(webhook_delivery *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->threads);
    free(w);
}
