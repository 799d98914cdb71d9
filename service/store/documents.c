/* The document saver (see documents.h): a queue under one mutex and a
 * thread that drains it a batch at a time. */
#include "store/documents.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util/log.h"

#define QUEUE_MAX 4096
#define BATCH_MAX 256

struct item {
    long long id;
    char *jwt;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct item queue[QUEUE_MAX];
static size_t queued;
static int running, stopping;
static pthread_t thread;

/* A document only fills an empty place or replaces one signed earlier for
 * the same claims (say, before a key rotation): the row must still be the
 * one it was signed for, which the trigger of migration 0010 ensures by
 * clearing documents whose claims change. */
static const store_sql Q_DOCUMENTS_SAVE = {
    "documents_save",
    "UPDATE assignments a SET document = d.doc"
    " FROM unnest($1::bigint[], $2::text[]) AS d(id, doc) WHERE a.id = d.id"};
static const store_sql Q_DOCUMENTS_ASYNC = {
    "documents_async", "SELECT set_config('synchronous_commit', 'off', false)"};

void store_document_save(long long assignment_id, const char *jwt)
{
    char *copy;
    if (assignment_id <= 0 || !jwt || !(copy = strdup(jwt)))
        return;
    pthread_mutex_lock(&lock);
    if (running && !stopping && queued < QUEUE_MAX) {
        queue[queued++] = (struct item){assignment_id, copy};
        copy = NULL;
        pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&lock);
    free(copy);
}

/* Writes n items as two array literals ({1,2}, {"a","b"}): documents are
 * compact JWS text (base64url and dots), which needs no escaping. */
static int save(const struct item *items, size_t n)
{
    size_t ids_len = n * 21 + 3, docs_len = 3;
    char *ids, *docs;
    int rc = LICD_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        docs_len += strlen(items[i].jwt) + 3;
    ids = malloc(ids_len);
    docs = malloc(docs_len);
    if (ids && docs) {
        size_t a = 0, b = 0;
        const char *params[2] = {ids, docs};
        ids[a++] = '{';
        docs[b++] = '{';
        for (size_t i = 0; i < n; i++) {
            a += (size_t)snprintf(ids + a, ids_len - a, "%s%lld", i ? "," : "", items[i].id);
            b += (size_t)snprintf(docs + b, docs_len - b, "%s\"%s\"", i ? "," : "", items[i].jwt);
        }
        ids[a++] = '}';
        docs[b++] = '}';
        ids[a] = docs[b] = '\0';
        rc = store_run(&Q_DOCUMENTS_ASYNC, 0, NULL);
        if (rc == LICD_OK)
            rc = store_run(&Q_DOCUMENTS_SAVE, 2, params);
    }
    free(ids);
    free(docs);
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
        if (!queued) {
            pthread_mutex_unlock(&lock);
            break;
        }
        n = queued < BATCH_MAX ? queued : BATCH_MAX;
        memcpy(batch, queue + queued - n, n * sizeof *batch);
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
