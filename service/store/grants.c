/* SQL for licences granted from packs (see grants.h). Seats are taken by a
 * conditional update inside the statement that records the licence, so the
 * count and the row change together or not at all (DESIGN.md). */
#include "store/grants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/batcher.h"
#include "store/caches.h"
#include "store/sql.h"

/* Every query below renders a licence with these columns, a = assignments,
 * p = its pack (NULL for temporary licences), and whether it has expired;
 * get_key's add GET_KEY_COLUMNS, from LICENSE_DOCUMENT on. */
enum { LICENSE_ID, LICENSE_VENDOR_ID, LICENSE_CUSTOMER_ID, LICENSE_PRODUCT_ID,
       LICENSE_LICENSE_ID, LICENSE_PACK_ID, LICENSE_SERIAL, LICENSE_CLIENT_ID, LICENSE_VERSION,
       LICENSE_PLATFORM, LICENSE_TEMPORARY, LICENSE_BLOCKED, LICENSE_STATUS, LICENSE_ISSUED_AT,
       LICENSE_EXPIRES_AT, LICENSE_ON_OVER_LIMIT, LICENSE_EXPIRED, LICENSE_DOCUMENT,
       LICENSE_FRESH, LICENSE_CLAIMS_VERSION, LICENSE_LIMITED };
#define LICENSE_COLUMNS                                                                    \
    "a.id, a.vendor_id, a.customer_id, a.product_id, a.license_id,"                        \
    " coalesce(p.pack_id, ''), coalesce(a.serial, 0), a.client_id, a.version, a.platform," \
    " a.temporary, a.blocked, a.status, extract(epoch FROM a.issued_at)::bigint,"           \
    " coalesce(extract(epoch FROM a.expires_at)::bigint, 0),"                               \
    " coalesce(p.on_over_limit, 'refuse'), coalesce(a.expires_at <= now(), false)"
static const store_field license_fields[] = {
    [LICENSE_ID] = STORE_INT64(store_license, id),
    [LICENSE_VENDOR_ID] = STORE_TEXT(store_license, vendor_id),
    [LICENSE_CUSTOMER_ID] = STORE_TEXT(store_license, customer_id),
    [LICENSE_PRODUCT_ID] = STORE_INT64(store_license, product_id),
    [LICENSE_LICENSE_ID] = STORE_TEXT(store_license, license_id),
    [LICENSE_PACK_ID] = STORE_TEXT(store_license, pack_id),
    [LICENSE_SERIAL] = STORE_INT64(store_license, serial),
    [LICENSE_CLIENT_ID] = STORE_TEXT(store_license, client_id),
    [LICENSE_VERSION] = STORE_TEXT(store_license, version),
    [LICENSE_PLATFORM] = STORE_TEXT(store_license, platform),
    [LICENSE_TEMPORARY] = STORE_BOOL(store_license, temporary),
    [LICENSE_BLOCKED] = STORE_BOOL(store_license, blocked),
    [LICENSE_STATUS] = STORE_TEXT(store_license, status),
    [LICENSE_ISSUED_AT] = STORE_EPOCH(store_license, issued_at),
    [LICENSE_EXPIRES_AT] = STORE_EPOCH(store_license, expires_at),
    [LICENSE_ON_OVER_LIMIT] = STORE_TEXT(store_license, on_over_limit),
};
static const store_rowtype license_row = STORE_ROWTYPE(store_license, license_fields);

/* The data of a license.granted or license.temporary event (API.md) for the
 * licence row l just inserted, whose pack has the vendor's id pack (SQL,
 * NULL for none: the member is left out), inserted by the same statement. */
#define EVENT_LICENSE(l, pack)                                                             \
    " jsonb_strip_nulls(jsonb_build_object('license_id', " l ".license_id,"                \
    "  'pack_id', " pack ", 'client_id', " l ".client_id,"                                 \
    "  'product', (SELECT code FROM products WHERE id = " l ".product_id),"                \
    "  'customer_id', " l ".customer_id))"

/* Packs that can serve this request: customer, product, platform, version or NULL. */
#define MATCHING(customer, product, platform, version)                                     \
    " customer_id = " customer " AND product_id = " product                                \
    " AND type IN ('per_device', 'per_user') AND platform IN ('any', " platform ")"        \
    " AND (" version "::text IS NULL OR version = " version ")"
#define MATCHING_PACKS MATCHING("$1", "$2", "$3", "$4")
/* Those of them that are active and have a seat free. */
#define SEAT_FREE_PACKS                                                                    \
    MATCHING_PACKS " AND first_active <= now() AND (expires IS NULL OR expires > now())"   \
    " AND assigned + allocated < quantity"
/* The pack of those that a refusal or a temporary licence is counted
 * against in /metrics (migration 0014): the one a seat would have come
 * from first, active ones before the others. */
#define CHARGED_PACK(customer, product, platform, version)                                 \
    "(SELECT id FROM packs WHERE" MATCHING(customer, product, platform, version)           \
    " ORDER BY first_active <= now() AND (expires IS NULL OR expires > now()) DESC,"       \
    " expires ASC NULLS LAST, id LIMIT 1)"
/* Counting a refusal costs no durable commit of its own: the statement that
 * counts it writes nothing else (documents.c does the same). */
#define ASYNC_COMMIT " set_config('synchronous_commit', 'off', true)"
/* Upgrade packs usable for licence l: $1 customer, $2 product, $3 platform, $4 target version. */
#define UPGRADE_PACKS                                                                  \
    " customer_id = $1 AND product_id = $2 AND type = 'upgrade'"                       \
    " AND platform IN ('any', $3) AND version = $4"                                    \
    " AND first_active <= now() AND (expires IS NULL OR expires > now())"

/* Taking a seat of pack s (an UPDATE's SET list): the lowest serial freed by
 * a deactivated licence, else the next one of the range, kept in seat_serial
 * for RETURNING (which sees only the new row). */
#define SEAT_TAKE                                                                          \
    " assigned = s.assigned + 1, free_serials = s.free_serials[2:],"                      \
    " seat_serial = coalesce(s.free_serials[1], s.begin_serial + s.assigned)"
/* The licence id for serial (SQL) of a seat of pack seat.id just taken:
 * the serial, or "<serial>-<n>" for the serial's n-th licence. */
#define HOLDERS_OF(serial)                                                                 \
    " CROSS JOIN LATERAL (SELECT count(*) AS n FROM assignments h"                         \
    "  WHERE h.pack_id = seat.id AND h.serial = " serial ") held"
#define LICENSE_ID_OF(serial)                                                              \
    " CASE WHEN held.n = 0 THEN " serial "::text ELSE " serial " || '-' || (held.n + 1) END"
#define SEAT_HOLDERS HOLDERS_OF("seat.serial")
#define SEAT_LICENSE_ID LICENSE_ID_OF("seat.serial")

/* After LICENSE_COLUMNS in get_key's answers: the licence as signed
 * before (document), whether the row is the licence just granted, the
 * version of its claims (store_document_save) and whether its pack sets
 * usage limits (an object with at least one member, as usage.c's
 * LICENSE_LIMITS reads them), so that a recovery looks at usage only when
 * there is a limit to be over. */
#define GET_KEY_COLUMNS(document, fresh)                                                   \
    ", " document ", " fresh ", a.claims_version,"                                          \
    " coalesce(jsonb_typeof(p.attributes -> 'limits') = 'object'"                          \
    " AND p.attributes -> 'limits' <> '{}', false)"
/* The version of what licence row t says (migration 0022; keep the two in
 * step): an MD5 of the columns its claims come from, times as epochs so
 * that no session setting changes the text. */
#define CLAIMS_VERSION(t)                                                                  \
    " md5(row(" t ".license_id, " t ".client_id, " t ".version, " t ".platform, " t ".serial," \
    " " t ".pack_id, extract(epoch FROM " t ".expires_at), extract(epoch FROM " t ".issued_at)," \
    " " t ".temporary)::text)"
/* The document of licence a, a row of CLIENT_LICENSES: one saved for
 * what it says now, or NULL. */
#define SAVED_DOCUMENT                                                                     \
    "(SELECT d.document FROM license_documents d"                                          \
    " WHERE d.assignment_id = a.id AND d.claims_version = a.claims_version)"
/* The client's licences as get_key sees them (rows of assignments), and
 * those rows with the version of their claims. */
#define CLIENT_ROWS(customer, product, client)                                             \
    " FROM assignments WHERE customer_id = " customer                                        \
    " AND product_id = " product " AND client_id = " client                                  \
    " AND (temporary OR status = 'active')"
#define CLIENT_LICENSES(customer, product, client)                                         \
    " SELECT *," CLAIMS_VERSION("assignments") " AS claims_version"                          \
    CLIENT_ROWS(customer, product, client)

/* The parts of a grant's statement: cand, the first matching pack with a
 * seat free, unless the subquery unless finds a row, and seat, that seat
 * taken; then fresh, the new licence (from seat and what also joins in),
 * ev, its license.granted event, and the new licence's row of the answer.
 * $1 customer, $2 product, $3 platform, $4 version or NULL, $5 client, $6
 * vendor. */
#define GRANT_SEAT(unless)                                                                 \
    " cand AS ("                                                                           \
    "  SELECT id FROM packs WHERE" SEAT_FREE_PACKS " AND NOT EXISTS (" unless ")"          \
    "  ORDER BY expires ASC NULLS LAST, id LIMIT 1),"                                      \
    " seat AS ("                                                                           \
    "  UPDATE packs s SET" SEAT_TAKE " FROM cand"                                          \
    "  WHERE s.id = cand.id AND s.assigned + s.allocated < s.quantity"                     \
    "  RETURNING s.id, s.pack_id, s.version, s.expires, s.seat_serial AS serial),"
#define GRANT_FRESH(also) FRESH_LICENSES(" FROM seat" also, "seat.serial", "$5")
/* GRANT_FRESH's parts for the licences of rows from (SQL: FROM ... with
 * seat in it), each with its serial and client. */
#define FRESH_LICENSES(from, serial, client)                                               \
    " fresh AS ("                                                                          \
    "  INSERT INTO assignments (vendor_id, customer_id, product_id, pack_id, license_id,"  \
    "   serial, client_id, version, platform, temporary, expires_at)"                      \
    "  SELECT $6, $1, $2, seat.id," LICENSE_ID_OF(serial) ", " serial ", " client ","      \
    "   seat.version, $3, false, seat.expires"                                             \
    from HOLDERS_OF(serial)                                                                \
    "  RETURNING *," CLAIMS_VERSION("assignments") " AS claims_version),"                  \
    " ev AS (INSERT INTO events (vendor_id, type, data)"                                   \
    "  SELECT f.vendor_id, 'license.granted'," EVENT_LICENSE("f", "seat.pack_id")          \
    "  FROM fresh f CROSS JOIN seat)"                                                      \
    " SELECT " LICENSE_COLUMNS GET_KEY_COLUMNS("NULL::text", "true") " FROM fresh a"       \
    " LEFT JOIN packs p ON p.id = a.pack_id"

/* get_key in one statement. mine: the client's licences as they were
 * before it; stop: one of them decides the answer (a blocked licence, or a
 * permanent one that has not expired: domain_grant_first_step), so no seat
 * is taken. Otherwise a seat of the first matching pack with one free, the
 * client's temporary or lapsed licence retired, and the new licence. The
 * answer: the new licence (fresh) first, then the client's licences.
 * denied: when no pack has a seat free and the client's one temporary
 * licence has run out or was retired, get_key refuses it
 * (domain_grant_no_seat: temporary_license_expired); that refusal is
 * counted for /metrics. Parameters: GRANT_SEAT's. */
static const store_sql Q_GRANT = {
    "grant",
    "WITH mine AS (" CLIENT_LICENSES("$1", "$2", "$5") "),"
    " stop AS ("
    "  SELECT 1 FROM mine WHERE blocked"
    "  OR (NOT temporary AND NOT coalesce(expires_at <= now(), false))),"
    GRANT_SEAT("SELECT 1 FROM stop")
    " denied AS ("
    "  UPDATE packs SET denials = denials + 1 WHERE id =" CHARGED_PACK("$1", "$2", "$3", "$4")
    "  AND NOT EXISTS (SELECT 1 FROM stop) AND NOT EXISTS (SELECT 1 FROM cand)"
    "  AND EXISTS (SELECT 1 FROM mine WHERE temporary"
    "   AND (status <> 'active' OR coalesce(expires_at <= now(), false)))"
    "  RETURNING" ASYNC_COMMIT "),"
    " old AS ("
    "  UPDATE assignments SET status = 'retired'"
    "  WHERE id IN (SELECT id FROM mine WHERE status = 'active' AND NOT blocked"
    "  AND (temporary OR expires_at <= now())) AND EXISTS (SELECT 1 FROM seat)"
    "  RETURNING id),"
    GRANT_FRESH(" CROSS JOIN (SELECT count(*) FROM old) retired")
    " UNION ALL"
    " SELECT " LICENSE_COLUMNS GET_KEY_COLUMNS(SAVED_DOCUMENT, "false") " FROM mine a"
    " LEFT JOIN packs p ON p.id = a.pack_id"};
/* Q_GRANT for a client that had no licence when it was read (a new
 * installation's first get_key: most grants), without the parts that look
 * at the client's licences: the seat, the licence and its event. When no
 * seat is free (or the pack it chose filled up before its update), or the
 * client has a licence by now that this statement sees (an earlier grant
 * of its batch, or one committed before it began), it takes nothing and
 * answers no row: then Q_GRANT runs alone
 * (grant_written), which finds the licence or decides as before. A grant
 * for the client that another node has not committed yet ends in a
 * unique violation (assignments_one_active) that fails the batch, whose
 * runs are then made again alone, as with Q_GRANT. Parameters:
 * GRANT_SEAT's. */
static const store_sql Q_GRANT_NEW = {
    "grant_new", "WITH" GRANT_SEAT("SELECT 1" CLIENT_ROWS("$1", "$2", "$5")) GRANT_FRESH("")};
/* Q_GRANT_NEW for several new clients of one customer, product, platform
 * and version at once ($5: their ids, text[]; the pipelined batcher joins
 * their grants into this one statement: grant_join). want: the clients
 * that have no licence yet, each once; cand: the first matching pack with
 * a seat free, locked (so its columns are the latest: the seats are
 * counted from them), and k, how many of its free seats go to the first
 * k clients of want; seat: those seats taken at once, as SEAT_TAKE takes
 * one k times (the lowest freed serials first, then the next ones of the
 * range). A client left without a seat of that pack answers no row, as
 * with Q_GRANT_NEW, and its grant runs Q_GRANT alone, after the batch,
 * which takes a seat of the next pack with one. The answer: the new
 * licences, in Q_GRANT_NEW's columns. Run again alone after it committed
 * (store_batch_join), Q_GRANT_NEW finds the client's licence and takes
 * nothing. */
#define SERIAL_NUMBER(i)                                                                   \
    " CASE WHEN " i " <= cardinality(t.free_serials) THEN t.free_serials[" i "]"            \
    " ELSE t.begin_serial + t.assigned + " i " - 1 END"
static const store_sql Q_GRANT_NEW_MANY = {
    "grant_new_many",
    "WITH want AS ("
    "  SELECT DISTINCT ON (w.client) w.client, w.n"
    "  FROM unnest($5::text[]) WITH ORDINALITY AS w(client, n)"
    "  WHERE NOT EXISTS (SELECT 1" CLIENT_ROWS("$1", "$2", "w.client") ")"
    "  ORDER BY w.client, w.n),"
    " cand AS ("
    "  SELECT id, assigned, allocated, quantity, free_serials, begin_serial FROM packs"
    "  WHERE" SEAT_FREE_PACKS " AND EXISTS (SELECT 1 FROM want)"
    "  ORDER BY expires ASC NULLS LAST, id LIMIT 1 FOR NO KEY UPDATE),"
    " t AS (SELECT *, least((SELECT count(*) FROM want), quantity - assigned - allocated) AS k"
    "  FROM cand),"
    " seat AS ("
    "  UPDATE packs s SET assigned = t.assigned + t.k, free_serials = t.free_serials[t.k + 1:],"
    "  seat_serial =" SERIAL_NUMBER("t.k") " FROM t WHERE s.id = t.id AND t.k > 0"
    "  RETURNING s.id, s.pack_id, s.version, s.expires),"
    " picked AS ("
    "  SELECT w.client, " SERIAL_NUMBER("w.i") " AS serial"
    "  FROM (SELECT client, row_number() OVER (ORDER BY n) AS i FROM want) w"
    "  CROSS JOIN t WHERE w.i <= t.k),"
    FRESH_LICENSES(" FROM seat CROSS JOIN picked p", "p.serial", "p.client")};
/* The mine part of Q_GRANT alone, read first: a client that has its
 * licence (most get_key calls) costs one plain indexed read instead of the
 * grant's many-part statement, which runs only when a seat may be taken.
 * $1 customer, $2 product, $3 client. */
static const store_sql Q_GRANT_MINE = {
    "grant_mine", "SELECT " LICENSE_COLUMNS GET_KEY_COLUMNS(SAVED_DOCUMENT, "false") " FROM ("
                  CLIENT_LICENSES("$1", "$2", "$3") ") a LEFT JOIN packs p ON p.id = a.pack_id"};
static const store_sql Q_GRANT_SEAT_LEFT = {
    "grant_seat_left", "SELECT 1 FROM packs WHERE" SEAT_FREE_PACKS " LIMIT 1"};
enum { EXISTS_ANSWER }; /* of the EXISTS questions below */
/* $8: the version asked for, or NULL (the pack counted, CHARGED_PACK). */
static const store_sql Q_GRANT_TEMPORARY = {
    "grant_temporary",
    "WITH a AS (INSERT INTO assignments (vendor_id, customer_id, product_id,"
    "  license_id, client_id, version, platform, temporary, expires_at)"
    "  VALUES ($1, $2, $3, 'T' || nextval('temporary_license_seq'), $4, $5, $6,"
    "  true, now() + make_interval(secs => $7::bigint)) RETURNING *),"
    " ev AS (INSERT INTO events (vendor_id, type, data)"
    "  SELECT a.vendor_id, 'license.temporary'," EVENT_LICENSE("a", "NULL::text") " FROM a),"
    " counted AS (UPDATE packs SET temporary_issued = temporary_issued + 1"
    "  WHERE id =" CHARGED_PACK("$2", "$3", "$6", "$8") ")"
    " SELECT " LICENSE_COLUMNS " FROM a LEFT JOIN packs p ON p.id = a.pack_id"};
static const store_sql Q_LICENSE_GET = {
    "license_get", "SELECT " LICENSE_COLUMNS " FROM assignments a"
                   " LEFT JOIN packs p ON p.id = a.pack_id"
                   " WHERE a.vendor_id = $1 AND a.license_id = $2"};
/* An activation key in the same shape: the app is the client, the version
 * the product's, active until it is upgraded, never temporary. */
static const store_sql Q_ACTIVATION_LICENSE_GET = {
    "activation_license_get",
    "SELECT a.id, a.vendor_id, a.customer_id, a.product_id, a.license_id, '', 0, a.app_id,"
    " p.version, 'any', false, a.blocked,"
    " CASE WHEN a.upgraded_to IS NULL THEN 'active' ELSE 'upgraded' END,"
    " extract(epoch FROM a.issued_at)::bigint, extract(epoch FROM a.expires_at)::bigint,"
    " 'refuse', a.expires_at <= now()"
    " FROM activations a JOIN products p ON p.id = a.product_id"
    " WHERE a.vendor_id = $1 AND a.license_id = $2"};
static const store_sql Q_UPGRADE_SEAT_FREE = {
    "upgrade_seat_free", "SELECT EXISTS (SELECT 1 FROM packs WHERE" UPGRADE_PACKS
                         " AND assigned + allocated < quantity)"};
/* The old licence, locked: its status and whether it is blocked. */
enum { LOCKED_STATUS, LOCKED_BLOCKED };
static const store_sql Q_UPGRADE_LOCK = {
    "upgrade_lock", "SELECT status, blocked FROM assignments WHERE id = $1 FOR UPDATE"};
static const store_sql Q_ACTIVATION_UPGRADE_LOCK = {
    "activation_upgrade_lock",
    "SELECT CASE WHEN upgraded_to IS NULL THEN 'active' ELSE 'upgraded' END, blocked"
    " FROM activations WHERE id = $1 FOR UPDATE"};
/* A seat of an upgrade pack and the new licence on it; the old pack licence
 * ($6, NULL for an activation key) steps aside for it first (one active
 * licence per client and product). */
static const store_sql Q_UPGRADE = {
    "upgrade",
    "WITH cand AS (SELECT id FROM packs WHERE" UPGRADE_PACKS " AND assigned + allocated < quantity"
    "  ORDER BY expires ASC NULLS LAST, id LIMIT 1),"
    " seat AS (UPDATE packs s SET" SEAT_TAKE " FROM cand"
    "  WHERE s.id = cand.id AND s.assigned + s.allocated < s.quantity"
    "  RETURNING s.id, s.pack_id, s.vendor_id, s.version, s.expires, s.seat_serial AS serial),"
    " old AS (UPDATE assignments SET status = 'upgraded'"
    "  WHERE id = $6::bigint AND EXISTS (SELECT 1 FROM seat) RETURNING id),"
    " a AS (INSERT INTO assignments (vendor_id, customer_id, product_id, pack_id, license_id,"
    "  serial, client_id, version, platform, temporary, expires_at)"
    "  SELECT seat.vendor_id, $1, $2, seat.id," SEAT_LICENSE_ID ", seat.serial, $5,"
    "  seat.version, $3, false, seat.expires"
    "  FROM seat CROSS JOIN (SELECT count(*) FROM old) upgraded" SEAT_HOLDERS " RETURNING *),"
    " ev AS (INSERT INTO events (vendor_id, type, data)"
    "  SELECT a.vendor_id, 'license.granted'," EVENT_LICENSE("a", "seat.pack_id")
    "  FROM a CROSS JOIN seat)"
    " SELECT " LICENSE_COLUMNS " FROM a LEFT JOIN packs p ON p.id = a.pack_id"};
/* The old licence or activation key points to the new licence. */
static const store_sql Q_UPGRADE_LINK = {
    "upgrade_link", "UPDATE assignments SET upgraded_to = $2 WHERE id = $1"};
static const store_sql Q_ACTIVATION_UPGRADE_LINK = {
    "activation_upgrade_link", "UPDATE activations SET upgraded_to = $2 WHERE id = $1"};

/* Where each kind of licence is read, locked and linked to its upgrade. */
static const struct {
    const store_sql *get, *lock, *link;
} upgrade_sources[] = {
    [STORE_LICENSE_PACK] = {&Q_LICENSE_GET, &Q_UPGRADE_LOCK, &Q_UPGRADE_LINK},
    [STORE_LICENSE_ACTIVATION] = {&Q_ACTIVATION_LICENSE_GET, &Q_ACTIVATION_UPGRADE_LOCK,
                                  &Q_ACTIVATION_UPGRADE_LINK},
};

void store_license_cache_key(const char *customer_id, long long product_id,
                             const char *client_id, char *out, size_t len)
{
    snprintf(out, len, "%s:%lld:%s", customer_id, product_id, client_id);
}

void store_grant_result_clear(store_grant_result *out)
{
    free(out->permanent_document);
    free(out->temporary_document);
    out->permanent_document = out->temporary_document = NULL;
}

/* Reads the rows of Q_GRANT_MINE, Q_GRANT or Q_GRANT_NEW(_MANY) into out. */
static int read_grant(const PGresult *res, store_grant_result *out)
{
    domain_client_facts *f = &out->facts;
    int rc = LICD_OK;
    for (int i = 0; rc == LICD_OK && i < PQntuples(res); i++) {
        int temp = store_col_bool(res, i, LICENSE_TEMPORARY);
        int expired = store_col_bool(res, i, LICENSE_EXPIRED);
        store_license *l;
        char **doc;
        if (store_col_bool(res, i, LICENSE_FRESH)) {
            out->taken = 1;
            rc = store_fill(&license_row, res, i, &out->fresh);
            store_col_copy(res, i, LICENSE_CLAIMS_VERSION, out->fresh.claims_version,
                           sizeof out->fresh.claims_version);
            continue;
        }
        l = temp ? &out->temporary : &out->permanent;
        store_col_copy(res, i, LICENSE_CLAIMS_VERSION, l->claims_version, sizeof l->claims_version);
        l->limited = store_col_bool(res, i, LICENSE_LIMITED);
        doc = temp ? &out->temporary_document : &out->permanent_document;
        if ((rc = store_fill(&license_row, res, i, l)) != LICD_OK)
            break;
        if (*store_col_str(res, i, LICENSE_DOCUMENT))
            rc = store_col_dup(res, i, LICENSE_DOCUMENT, doc);
        if (temp) {
            f->has_temporary = 1;
            f->temporary_blocked = l->blocked;
            f->temporary_expired = expired;
            f->temporary_retired = strcmp(l->status, "active") != 0;
        } else {
            f->has_permanent = 1;
            f->permanent_blocked = l->blocked;
            f->permanent_expired = expired;
        }
    }
    return rc;
}

/* Seats are taken through a pipelined batcher (store/batcher.h): the
 * grants queued while the last batch committed run one after the other in
 * one transaction, each seeing the seats taken before it, and share its
 * commit. A pack row's lock, held to the commit, is what bounds grants of
 * one pack; a batch takes it once for all of them. A grant runs Q_GRANT,
 * or Q_GRANT_NEW for a new client (store_grant_queue; their parameters:
 * grants.h); the new clients of one customer, product, platform and
 * version next to each other in a batch run Q_GRANT_NEW_MANY once, which
 * updates the pack row once for all of them. */
static const store_batch_join grant_join = {&Q_GRANT_NEW, &Q_GRANT_NEW_MANY, GRANT_CLIENT,
                                             LICENSE_CLIENT_ID};
static STORE_PIPELINED_JOIN(grants, "grants", &Q_GRANT, GRANT_PARAMS, &grant_join);

int store_grants_start(void) { return store_batcher_start(&grants); }

void store_grants_stop(void) { store_batcher_stop(&grants); }

/* Reads res, the rows of a grant's statement run with outcome rc,
 * into out, afresh; PQclears res. */
static int take_grant(int rc, PGresult *res, store_grant_result *out)
{
    store_grant_result_clear(out);
    memset(out, 0, sizeof *out);
    if (rc == LICD_OK)
        rc = read_grant(res, out);
    PQclear(res);
    return rc;
}

/* Runs q (Q_GRANT_MINE or Q_GRANT) alone and reads its rows into out. */
static int run_grant(const store_sql *q, int nparams, const char *const *params, int idempotent,
                     store_grant_result *out)
{
    PGresult *res = NULL;
    int rc = store_exec(q, nparams, params, idempotent, &res);
    return take_grant(rc, res, out);
}

/* The rest of a grant whose first statement gave rc and out: while the chosen
 * pack filled up between the choice and the update (its own assigned <
 * quantity found no row) and a pack still has a free seat, Q_GRANT again.
 * A few attempts cover any realistic race. */
static int grant_again(const char *const *params, int rc, store_grant_result *out)
{
    for (int attempt = 1; attempt < 8 && rc == LICD_OK && !out->taken &&
                          domain_grant_first_step(&out->facts) == GRANT_TRY_SEAT;
         attempt++) {
        PGresult *res = NULL;
        int more;
        rc = store_exec(&Q_GRANT_SEAT_LEFT, 4, params, 1, &res);
        more = rc == LICD_OK && PQntuples(res) > 0;
        PQclear(res);
        if (!more)
            break;
        rc = run_grant(&Q_GRANT, GRANT_PARAMS, params, 0, out);
    }
    return rc;
}

int store_grant_mine(const store_grant_request *r, store_grant_pending *p, store_grant_result *out)
{
    const char *mine[3] = {r->customer_id, p->product, r->client_id};
    int rc;
    memset(p, 0, sizeof *p);
    snprintf(p->product, sizeof p->product, "%lld", r->product_id);
    p->params[GRANT_CUSTOMER] = r->customer_id;
    p->params[GRANT_PRODUCT] = p->product;
    p->params[GRANT_PLATFORM] = r->platform;
    p->params[GRANT_VERSION] = r->version;
    p->params[GRANT_CLIENT] = r->client_id;
    p->params[GRANT_VENDOR] = r->vendor_id;
    rc = run_grant(&Q_GRANT_MINE, 3, mine, 1, out);
    p->new_client = !out->facts.has_permanent && !out->facts.has_temporary;
    return rc;
}

/* The statement that takes p's seat. */
static const store_sql *seat_statement(const store_grant_pending *p)
{
    return p->new_client ? &Q_GRANT_NEW : &Q_GRANT;
}

void store_grant_queue(store_grant_pending *p, void (*done)(void *arg), void *arg)
{
    store_batcher_queue(&grants, seat_statement(p), p->params, &p->res, &p->rc, done, arg);
}

/* A grant's first statement came to rc and p->res: what it did (Q_GRANT's
 * when Q_GRANT_NEW took nothing: that says nothing of the client's
 * licences), then the further attempts. */
static int grant_written(store_grant_pending *p, int rc, store_grant_result *out)
{
    if (rc == LICD_OK && p->new_client && PQntuples(p->res) == 0) {
        PQclear(p->res);
        rc = run_grant(&Q_GRANT, GRANT_PARAMS, p->params, 0, out);
    } else {
        rc = take_grant(rc, p->res, out);
    }
    p->res = NULL;
    return grant_again(p->params, rc, out);
}

int store_grant_finish(store_grant_pending *p, store_grant_result *out)
{
    int rc = store_batcher_result(&grants, seat_statement(p), p->params, p->rc, &p->res);
    return grant_written(p, rc, out);
}

void store_grant_pending_clear(store_grant_pending *p)
{
    PQclear(p->res);
    p->res = NULL;
}

int store_grant(const store_grant_request *r, store_grant_result *out)
{
    store_grant_pending p;
    int rc = store_grant_mine(r, &p, out);
    if (rc != LICD_OK || domain_grant_first_step(&out->facts) != GRANT_TRY_SEAT)
        return rc;
    rc = store_batcher_exec(&grants, seat_statement(&p), p.params, &p.res);
    return grant_written(&p, rc, out);
}

int store_grant_temporary(const store_grant_request *r, long ttl, store_license *out)
{
    char product[24], seconds[24];
    const char *params[8] = {r->vendor_id, r->customer_id, product, r->client_id,
                             r->version ? r->version : r->default_version, r->platform, seconds,
                             r->version};
    snprintf(product, sizeof product, "%lld", r->product_id);
    snprintf(seconds, sizeof seconds, "%ld", ttl);
    return store_fetch_row(&Q_GRANT_TEMPORARY, 8, params, 0, &license_row, out);
}

int store_license_get(const char *vendor_id, const char *license_id, store_license *out,
                      store_license_kind *kind)
{
    const char *params[2] = {vendor_id, license_id};
    int rc = LICD_ERR_NOT_FOUND;
    for (size_t k = 0;
         rc == LICD_ERR_NOT_FOUND && k < sizeof upgrade_sources / sizeof *upgrade_sources; k++) {
        *kind = (store_license_kind)k;
        rc = store_fetch_row(upgrade_sources[k].get, 2, params, 1, &license_row, out);
    }
    return rc;
}

int store_upgrade_seat_free(const store_license *l, const char *target_version, int *free_seat)
{
    char product[24];
    const char *params[4] = {l->customer_id, product, l->platform, target_version};
    PGresult *res = NULL;
    int rc;
    snprintf(product, sizeof product, "%lld", l->product_id);
    rc = store_exec(&Q_UPGRADE_SEAT_FREE, 4, params, 1, &res);
    *free_seat = rc == LICD_OK && store_col_bool(res, 0, EXISTS_ANSWER);
    PQclear(res);
    return rc;
}

struct upgrade_ctx {
    const store_license *from;
    store_license_kind kind;
    const char *target;
    store_license *out;
};

/* Locks the old licence first, so two upgrades of one licence run one
 * after the other and the second finds it upgraded. An expired licence is
 * upgraded like any other. */
static int upgrade_tx(void *p)
{
    struct upgrade_ctx *c = p;
    char product[24], old_id[24], new_id[24];
    const char *lock[1] = {old_id};
    const char *link[2] = {old_id, new_id};
    const char *params[6] = {c->from->customer_id, product, c->from->platform, c->target,
                             c->from->client_id,   c->kind == STORE_LICENSE_PACK ? old_id : NULL};
    PGresult *res = NULL;
    int rc;

    snprintf(product, sizeof product, "%lld", c->from->product_id);
    snprintf(old_id, sizeof old_id, "%lld", c->from->id);
    rc = store_exec_row(upgrade_sources[c->kind].lock, 1, lock, 0, &res);
    if (rc == LICD_ERR_NOT_FOUND ||
        (rc == LICD_OK && strcmp(store_col_str(res, 0, LOCKED_STATUS), "active") != 0))
        rc = LICD_ERR_NO_UPGRADE_AVAILABLE;
    else if (rc == LICD_OK && store_col_bool(res, 0, LOCKED_BLOCKED))
        rc = LICD_ERR_LICENSE_BLOCKED;
    PQclear(res);
    if (rc != LICD_OK)
        return rc;
    rc = store_fetch_row(&Q_UPGRADE, 6, params, 0, &license_row, c->out);
    if (rc == LICD_ERR_NOT_FOUND)
        return LICD_ERR_NO_UPGRADE_AVAILABLE;
    if (rc != LICD_OK)
        return rc;
    snprintf(new_id, sizeof new_id, "%lld", c->out->id);
    return store_run(upgrade_sources[c->kind].link, 2, link);
}

int store_upgrade(const store_license *l, store_license_kind kind, const char *target_version,
                  store_license *out)
{
    struct upgrade_ctx c = {l, kind, target_version, out};
    int rc = store_tx(upgrade_tx, &c);
    if (rc == LICD_OK)
        store_caches_forget(STORE_CACHE_LICENSES);
    return rc;
}
