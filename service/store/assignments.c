/* SQL for the vendor's listing of assignments and for blocking licences. */
#include "store/assignments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* Over an assignment a, its product p and its pack k (none for temporary licences). */
#define ASSIGNMENT_COLUMNS                                                                 \
    "a.id, a.license_id, k.pack_id, a.customer_id, a.client_id, p.code, a.version,"       \
    " a.platform, " STORE_TIME("a.issued_at") ", " STORE_TIME("a.expires_at") ","         \
    " a.status, a.temporary, a.blocked"
#define ASSIGNMENT_JOINS                                                                   \
    " JOIN products p ON p.id = a.product_id LEFT JOIN packs k ON k.id = a.pack_id"

void store_assignment_row(const PGresult *res, int row, store_assignment *a)
{
    a->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    snprintf(a->license_id, sizeof a->license_id, "%s", PQgetvalue(res, row, 1));
    snprintf(a->pack_id, sizeof a->pack_id, "%s", PQgetvalue(res, row, 2));
    snprintf(a->customer_id, sizeof a->customer_id, "%s", PQgetvalue(res, row, 3));
    snprintf(a->client_id, sizeof a->client_id, "%s", PQgetvalue(res, row, 4));
    snprintf(a->product, sizeof a->product, "%s", PQgetvalue(res, row, 5));
    snprintf(a->version, sizeof a->version, "%s", PQgetvalue(res, row, 6));
    snprintf(a->platform, sizeof a->platform, "%s", PQgetvalue(res, row, 7));
    snprintf(a->issued_at, sizeof a->issued_at, "%s", PQgetvalue(res, row, 8));
    snprintf(a->expires_at, sizeof a->expires_at, "%s", PQgetvalue(res, row, 9));
    snprintf(a->status, sizeof a->status, "%s", PQgetvalue(res, row, 10));
    a->temporary = strcmp(PQgetvalue(res, row, 11), "t") == 0;
    a->blocked = strcmp(PQgetvalue(res, row, 12), "t") == 0;
}

int store_assignment_list(const char *vendor_id, const store_assignment_filter *f,
                          long long after, int limit, PGresult **res)
{
    char a[24], l[16];
    const char *params[6] = {vendor_id, a, l, f->customer_id, f->client_id, f->pack_id};
    snprintf(a, sizeof a, "%lld", after);
    snprintf(l, sizeof l, "%d", limit);
    /* Absent filters are NULL parameters, which the planner folds away. */
    return store_exec("SELECT " ASSIGNMENT_COLUMNS " FROM assignments a" ASSIGNMENT_JOINS
                      " WHERE a.vendor_id = $1 AND a.id > $2"
                      " AND ($4::uuid IS NULL OR a.customer_id = $4::uuid)"
                      " AND ($5::text IS NULL OR a.client_id = $5::text)"
                      " AND ($6::text IS NULL OR a.pack_id ="
                      "  (SELECT id FROM packs WHERE vendor_id = $1 AND pack_id = $6::text))"
                      " ORDER BY a.id LIMIT $3",
                      6, params, 1, res);
}

struct block_ctx {
    const store_actor *who;
    const char *license_id;
    int blocked;
    store_assignment *out;
};

static int block_tx(void *p)
{
    struct block_ctx *c = p;
    const char *params[3] = {c->who->vendor_id, c->license_id, c->blocked ? "true" : "false"};
    PGresult *res = NULL;
    int rc = store_exec("WITH a AS (UPDATE assignments SET blocked = $3"
                        "  WHERE vendor_id = $1 AND license_id = $2 RETURNING *)"
                        " SELECT " ASSIGNMENT_COLUMNS " FROM a" ASSIGNMENT_JOINS,
                        3, params, 0, &res);
    if (rc == LICD_OK && PQntuples(res) == 0) {
        /* Not a pack licence: an activation key of a group key, shown in the
         * same shape (the app is the client; no pack, never temporary). */
        PQclear(res);
        res = NULL;
        rc = store_exec("WITH a AS (UPDATE activations SET blocked = $3"
                        "  WHERE vendor_id = $1 AND license_id = $2 RETURNING *)"
                        " SELECT a.id, a.license_id, NULL, a.customer_id, a.app_id, p.code,"
                        " p.version, 'any', " STORE_TIME("a.issued_at") ", "
                        STORE_TIME("a.expires_at") ", 'active', false, a.blocked"
                        " FROM a JOIN products p ON p.id = a.product_id",
                        3, params, 0, &res);
    }
    if (rc == LICD_OK && PQntuples(res) != 1)
        rc = LICD_ERR_NOT_FOUND;
    if (rc == LICD_OK) {
        store_assignment_row(res, 0, c->out);
        rc = store_audit(c->who, c->blocked ? "block" : "unblock", "license", c->out->license_id,
                         NULL);
    }
    PQclear(res);
    return rc;
}

int store_assignment_set_blocked(const store_actor *who, const char *license_id, int blocked,
                                 store_assignment *out)
{
    struct block_ctx c = {who, license_id, blocked, out};
    return store_tx(block_tx, &c);
}
