/* The document saver (see documents.h): a queue under one mutex and a
 * thread that drains it a batch at a time. */
#include "store/documents.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sql.h"
#include "util/log.h"

#define QUEUE_MAX 4096
#define BATCH_MAX 256
/* How long the thread lets documents gather before it saves them: a
 * statement per few milliseconds, not per grant. */
#define GATHER_MS 20

struct item {
    long long id;
    char version[33]; /* store_license's claims_version */
    char *jwt;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct item queue[QUEUE_MAX];
static size_t queued;
static int running, stopping;
static pthread_t thread;

/* Documents go to their own table (migration 0022) with the version of
 * the claims they were signed for, which get_key compares with the row's
 * as it reads them. Saved twice in one batch, the one queued last is kept
 * (as a later batch's replaces an earlier one's: one signed again after a
 * key rotation replaces the old). */
static const store_sql Q_DOCUMENTS_SAVE = {
    "documents_save",
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))"
    " INSERT INTO license_documents (assignment_id, claims_version, document)"
    " SELECT DISTINCT ON (d.id) d.id, d.version, d.doc"
    " FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS d(id, version, doc, n),"
    " async ORDER BY d.id, d.n DESC"
    " ON CONFLICT (assignment_id) DO UPDATE"
    " SET claims_version = excluded.claims_version, document = excluded.document"};

void store_document_save(long long assignment_id, const char *claims_version, const char *jwt)
{
    char *copy;
    int wake_saver = 0;
    if (assignment_id <= 0 || !jwt || !claims_version || !*claims_version ||
        strnlen(claims_version, sizeof queue[0].version) == sizeof queue[0].version ||
        !(copy = strdup(jwt)))
        return;
    pthread_mutex_lock(&lock);
    if (running && !stopping && queued < QUEUE_MAX) {
        queue[queued].id = assignment_id;
        strcpy(queue[queued].version, claims_version);
        queue[queued++].jwt = copy;
        copy = NULL;
        /* The thread waits for a first document, then for a full batch or
         * the end of its gathering time: woken for every document, it
         * would take the lock as often as grants come, and a grant that
         * wakes it while holding the lock can lose its core to it with the
         * lock held (the other grants then queue behind). */
        wake_saver = queued == 1 || queued == BATCH_MAX;
    }
    pthread_mutex_unlock(&lock);
    if (wake_saver)
        pthread_cond_signal(&wake);
    free(copy);
}

/* Writes n items with one statement (ids, claims versions and documents
 * as three arrays). */
static int save(const struct item *items, size_t n)
{
    const char *docs[BATCH_MAX], *versions[BATCH_MAX];
    char ids[BATCH_MAX * 21 + 3], *doc_array = NULL, *version_array = NULL;
    size_t o = 0;
    int rc = LICD_ERR_NOMEM;
    ids[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(ids + o, sizeof ids - o, "%s%lld", i ? "," : "", items[i].id);
        docs[i] = items[i].jwt;
        versions[i] = items[i].version;
    }
    snprintf(ids + o, sizeof ids - o, "}");
    if ((doc_array = store_array_literal(docs, n)) &&
        (version_array = store_array_literal(versions, n))) {
        const char *params[3] = {ids, version_array, doc_array};
        rc = store_run(&Q_DOCUMENTS_SAVE, 3, params);
    }
    free(doc_array);
    free(version_array);
    return rc;
}

static void *run(void *arg)
{
    static struct item batch[BATCH_MAX];
    (void)arg;
    for (;;) {
        size_t n;
        pthread_mutex_lock(&lock);
        while (!queued && !stopping)
            pthread_cond_wait(&wake, &lock);
        if (queued < BATCH_MAX && !stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += GATHER_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (queued < BATCH_MAX && !stopping &&
                   pthread_cond_timedwait(&wake, &lock, &until) == 0)
                ;
        }
        if (!queued) {
            pthread_mutex_unlock(&lock);
            break;
        }
        /* the oldest first, so that batches keep the order queued */
        n = queued < BATCH_MAX ? queued : BATCH_MAX;
        memcpy(batch, queue, n * sizeof *batch);
        memmove(queue, queue + n, (queued - n) * sizeof *queue);
        queued -= n;
        pthread_mutex_unlock(&lock);
        if (save(batch, n) != LICD_OK)
            log_line("warn", "saving signed licences failed; they are signed again when asked for",
                     NULL);
        for (size_t i = 0; i < n; i++)
            free(batch[i].jwt);
    }
    return NULL;
}

int store_documents_start(void)
{
    int rc = LICD_OK;
    pthread_mutex_lock(&lock);
    stopping = 0;
    if (!running && pthread_create(&thread, NULL, run, NULL) != 0)
        rc = LICD_ERR_INTERNAL;
    else
        running = 1;
    pthread_mutex_unlock(&lock);
    return rc;
}

void store_documents_stop(void)
{
    pthread_mutex_lock(&lock);
    if (!running) {
        pthread_mutex_unlock(&lock);
        return;
    }
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = 0;
}
