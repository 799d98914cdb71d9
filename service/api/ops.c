/* Operations endpoints: liveness, readiness, metrics and the JWKS. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "store/db.h"
#include "store/pack_metrics.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

/* How long the per-pack figures of /metrics are served from memory: however
 * often and on however many connections it is scraped, each node reads
 * them at most once in that time. */
#define PACK_METRICS_TTL_NS 1000000000LL

static int reply_status(http_request *req, int status, const char *value)
{
    cJSON *body = cJSON_CreateObject();
    int rc = LICD_ERR_NOMEM;
    if (body && cJSON_AddStringToObject(body, "status", value))
        rc = http_reply_json(req, status, body);
    cJSON_Delete(body);
    return rc;
}

int api_healthz(http_request *req) { return reply_status(req, 200, "ok"); }

int api_readyz(http_request *req)
{
    if (store_ready() != LICD_OK) {
        return http_fail(req, LICD_ERR_UNAVAILABLE, "the database is unreachable or read-only");
    }
    return reply_status(req, 200, "ready");
}

/* The per-pack families, one series per pack in each (labels vendor_id and
 * pack_id only, so their number is bounded by the packs). */
static const struct {
    const char *name, *type, *help;
    size_t offset;
} pack_families[] = {
    {"licd_pack_seats_in_use", "gauge",
     "Seats of the pack in use: permanent licences (per_device, per_user), live leases "
     "(concurrent).",
     offsetof(store_pack_figures, in_use)},
    {"licd_pack_seats_total", "gauge", "Seats the pack holds (its quantity).",
     offsetof(store_pack_figures, total)},
    {"licd_pack_denials_total", "counter",
     "Requests refused a seat of the pack because none was free (get_key, lease checkout).",
     offsetof(store_pack_figures, denials)},
    {"licd_pack_temporary_total", "counter",
     "Temporary licences handed out while the pack had no seat free.",
     offsetof(store_pack_figures, temporary)},
    {"licd_pack_peak_in_use", "gauge", "The most seats of the pack ever in use at once.",
     offsetof(store_pack_figures, peak)},
};

/* The per-pack families as text, read from the database in one statement. */
static int render_packs(char **text, size_t *len)
{
    store_page page = {0};
    metrics_text t = {0};
    int rc = store_pack_metrics(&page);
    if (rc != LICD_OK)
        return rc;
    for (size_t f = 0; f < sizeof pack_families / sizeof *pack_families; f++) {
        metrics_family(&t, pack_families[f].name, pack_families[f].type, pack_families[f].help);
        for (size_t i = 0; i < page.n; i++) {
            const store_pack_figures *k = (const store_pack_figures *)page.items + i;
            const char *labels[] = {"vendor_id", k->vendor_id, "pack_id", k->pack_id, NULL};
            long long value;
            memcpy(&value, (const char *)k + pack_families[f].offset, sizeof value);
            metrics_sample(&t, pack_families[f].name, labels, value);
        }
    }
    store_page_free(&page);
    *text = metrics_take(&t, len);
    return *text ? LICD_OK : LICD_ERR_NOMEM;
}

/* The per-pack text as last read, if it is at most PACK_METRICS_TTL_NS old;
 * otherwise read again by the one caller that holds the lock while the others
 * wait for it. A failed read keeps the families out of /metrics until the
 * next one (the failure shows in licd_db_errors_total). Caller frees *text. */
static void pack_metrics(char **text, size_t *len)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char *cached;
    static size_t cached_len;
    static long long read_at;
    static int have;
    long long now;

    *text = NULL;
    pthread_mutex_lock(&lock);
    now = clock_mono_ns();
    if (!have || now - read_at >= PACK_METRICS_TTL_NS) {
        char *fresh = NULL;
        size_t fresh_len = 0;
        int rc = render_packs(&fresh, &fresh_len);
        free(cached);
        cached = rc == LICD_OK ? fresh : NULL;
        cached_len = rc == LICD_OK ? fresh_len : 0;
        read_at = now;
        have = 1;
        if (rc != LICD_OK)
            log_line("warn", "metrics: the packs' figures could not be read", licd_err_name(rc));
    }
    if (cached && (*text = malloc(cached_len + 1))) {
        memcpy(*text, cached, cached_len + 1);
        *len = cached_len;
    }
    pthread_mutex_unlock(&lock);
}

int api_metrics(http_request *req)
{
    size_t len = 0, packs_len = 0;
    char *text = metrics_render(&len), *packs = NULL, *both;
    int rc;
    if (!text)
        return LICD_ERR_NOMEM;
    pack_metrics(&packs, &packs_len);
    if (packs && (both = realloc(text, len + packs_len + 1))) {
        text = both;
        memcpy(text + len, packs, packs_len + 1);
        len += packs_len;
    }
    free(packs);
    rc = http_reply_bytes(req, 200, "text/plain; version=0.0.4", text, len);
    free(text);
    return rc;
}

int api_jwks(http_request *req)
{
    const char *jwks = crypto_keyring_jwks(api_ctx()->keys);
    return http_reply_bytes(req, 200, "application/json", jwks, strlen(jwks));
}
