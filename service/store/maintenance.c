/* The maintenance thread (see maintenance.h): a loop of rounds separated by
 * a wait that stop cuts short. */
#include "store/maintenance.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/events.h"
#include "store/leases.h"
#include "store/sql.h"
#include "store/update_passwords.h"
#include "util/error.h"
#include "util/log.h"

struct store_maintenance {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    long interval, upw_retention, event_retention;
};

/* Rows that have served their purpose: released leases (a lapsed one is
 * released as of its expiry by the round's reclaim), failed logins past the
 * throttling minute, spent challenges, Idempotency-Key answers past their
 * LICD_IDEMPOTENCY_TTL, and session tokens past both their life and the
 * 24-hour activity window. */
static const struct {
    const char *what;
    store_sql q;
} purges[] = {
    {"purging released leases",
     {"purge_leases",
      STORE_PURGE("leases", "released_at < now() - interval '1 day'", "ORDER BY released_at")}},
    {"purging failed logins",
     {"purge_login_failures",
      STORE_PURGE("login_failures", "at < now() - interval '1 hour'", "ORDER BY at")}},
    {"purging spent challenges",
     {"purge_challenges",
      STORE_PURGE("challenges", "expires_at < now() - interval '1 day'", "ORDER BY expires_at")}},
    {"purging expired Idempotency-Key answers",
     {"purge_idempotency_keys",
      STORE_PURGE("idempotency_keys", "expires_at < now()", "ORDER BY expires_at")}},
    {"purging old session tokens",
     {"purge_session_tokens", STORE_PURGE("session_tokens",
                                          "expires_at < now() - interval '1 day'"
                                          " AND issued_at < now() - interval '1 day'",
                                          "ORDER BY expires_at")}},
};

/* Logs how a step of the round went: its failure (the database may be down
 * for a while; the next round tries again), or how many rows it changed. */
static int logged(int rc, const char *step, long long rows, const char *verb)
{
    char msg[128], detail[64];
    snprintf(msg, sizeof msg, "maintenance: %s%s", step, rc != LICD_OK ? " failed" : "");
    snprintf(detail, sizeof detail, "%lld %s", rows, verb);
    if (rc != LICD_OK)
        log_line("warn", msg, licd_err_name(rc));
    else if (rows > 0)
        log_line("info", msg, detail);
    return rc;
}

int store_maintenance_round(long upw_retention, long event_retention)
{
    long long purged = 0, released = 0, events = 0;
    int failed = logged(store_upw_purge(upw_retention, &purged),
                        "purging update passwords past their retention", purged, "purged"),
        /* Lapsed leases of packs whose next_lapse_at has passed, which no
         * checkout or read of the pack has released yet. */
        rc = logged(store_lease_reclaim_due(&released), "releasing lapsed leases", released,
                    "released");
    failed = failed ? failed : rc;
    rc = logged(store_events_purge(event_retention, &events),
                "purging delivered events past their retention", events, "purged");
    failed = failed ? failed : rc;
    for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
        rc = logged(store_purge(&purges[i].q, 0, NULL, &purged), purges[i].what, purged, "purged");
        failed = failed ? failed : rc;
    }
    return failed;
}

static void *run(void *p)
{
    store_maintenance *m = p;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        struct timespec until;
        pthread_mutex_unlock(&m->lock);
        store_maintenance_round(m->upw_retention, m->event_retention);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += m->interval;
        pthread_mutex_lock(&m->lock);
        while (!m->stopping &&
               pthread_cond_timedwait(&m->wake, &m->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

int store_maintenance_start(long interval, long upw_retention, long event_retention,
                            store_maintenance **out)
{
    store_maintenance *m = calloc(1, sizeof *m);
    pthread_condattr_t attr;
    int rc = LICD_ERR_INTERNAL;

    *out = NULL;
    if (!m)
        return LICD_ERR_NOMEM;
    m->interval = interval;
    m->upw_retention = upw_retention;
    m->event_retention = event_retention;
    pthread_mutex_init(&m->lock, NULL);
    /* A monotonic clock, so that setting the wall clock neither skips nor
     * repeats rounds. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&m->thread, NULL, run, m) != 0)
        goto out;
    *out = m;
    rc = LICD_OK;
out:
    if (rc != LICD_OK) {
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->lock);
        free(m);
    }
    return rc;
}

void store_maintenance_stop(store_maintenance *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = 1;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
