/* Saving signed licences (table license_documents), off the request path: a
 * licence is signed after the statement that granted it, and one background
 * thread saves the documents of many requests with one statement and
 * without waiting for the disk. A document lost in a crash is only signed
 * again (with the same claims) when its licence is next asked for. */
#ifndef LICD_STORE_DOCUMENTS_H
#define LICD_STORE_DOCUMENTS_H

/* Starts the saving thread (its own database connection). */
int store_documents_start(void);
/* Saves what is queued, then stops the thread. */
void store_documents_stop(void);

/* Queues jwt (copied) as the document of the assignment with this row id,
 * signed for what the licence said when read (claims_version,
 * store_license's): once that changes (its expiry moved, ...), get_key no
 * longer uses it. Dropped when the thread is not running, the queue is
 * full, or claims_version is "". Saved in the order queued. */
void store_document_save(long long assignment_id, const char *claims_version, const char *jwt);

#endif
