/* Reading result rows: the column readers, filling structs by their row
 * types, and lists read into pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util/log.h"

const char *store_col_str(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col);
}

void store_col_copy(const PGresult *res, int row, int col, char *dst, size_t size)
{
    snprintf(dst, size, "%s", PQgetvalue(res, row, col));
}

int store_col_dup(const PGresult *res, int row, int col, char **dst)
{
    free(*dst);
    *dst = strdup(PQgetvalue(res, row, col));
    return *dst ? LICD_OK : LICD_ERR_NOMEM;
}

long long store_col_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

double store_col_double(const PGresult *res, int row, int col)
{
    return strtod(PQgetvalue(res, row, col), NULL);
}

int store_col_bool(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}

int store_fill(const store_rowtype *t, const PGresult *res, int row, void *out)
{
    int rc = LICD_OK;
    /* A column list and its enum that drifted apart show up here first. */
    if (PQnfields(res) < t->ncols) {
        log_line("error", "a statement returned fewer columns than its row type reads", NULL);
        return LICD_ERR_INTERNAL;
    }
    for (int col = 0; col < t->ncols; col++) {
        const store_field *f = &t->fields[col];
        char *field = (char *)out + f->offset;
        switch (f->kind) {
        case STORE_F_NONE:
            break;
        case STORE_F_TEXT:
            store_col_copy(res, row, col, field, f->size);
            break;
        case STORE_F_DUP:
            if (store_col_dup(res, row, col, (char **)(void *)field) != LICD_OK)
                rc = LICD_ERR_NOMEM;
            break;
        case STORE_F_INT64:
            *(long long *)(void *)field = store_col_int(res, row, col);
            break;
        case STORE_F_INT:
            *(int *)(void *)field = (int)store_col_int(res, row, col);
            break;
        case STORE_F_BOOL:
            *(int *)(void *)field = store_col_bool(res, row, col);
            break;
        case STORE_F_EPOCH:
            *(time_t *)(void *)field = (time_t)store_col_int(res, row, col);
            break;
        case STORE_F_DOUBLE:
            *(double *)(void *)field = store_col_double(res, row, col);
            break;
        }
    }
    return rc;
}

void store_clear(const store_rowtype *t, void *item)
{
    for (int col = 0; col < t->ncols; col++)
        if (t->fields[col].kind == STORE_F_DUP) {
            char **text = (char **)(void *)((char *)item + t->fields[col].offset);
            free(*text);
            *text = NULL;
        }
}

int store_fetch_row(const store_sql *q, int nparams, const char *const *params, int idempotent,
                    const store_rowtype *t, void *out)
{
    PGresult *res = NULL;
    int rc = store_exec_row(q, nparams, params, idempotent, &res);
    if (rc == LICD_OK)
        rc = store_fill(t, res, 0, out);
    PQclear(res);
    return rc;
}

/* The rows of q into page; limit 0 takes them all, else see store_fetch_page. */
static int fetch_list(const store_sql *q, int nparams, const char *const *params,
                      const store_rowtype *t, int limit, int pos_col, store_page *page)
{
    PGresult *res = NULL;
    size_t rows;
    int rc;

    *page = (store_page){.size = t->size, .type = t};
    if ((rc = store_exec(q, nparams, params, 1, &res)) != LICD_OK)
        return rc;
    rows = (size_t)PQntuples(res);
    if (limit > 0 && rows > (size_t)limit) {
        page->more = 1;
        rows = (size_t)limit;
    }
    /* Zeroed items, so that a failure part-way frees what was filled. */
    if (rows && !(page->items = calloc(rows, t->size)))
        rc = LICD_ERR_NOMEM;
    else
        page->n = rows;
    for (size_t i = 0; rc == LICD_OK && i < rows; i++)
        rc = store_fill(t, res, (int)i, (char *)page->items + i * t->size);
    if (rc == LICD_OK && limit > 0 && rows > 0)
        page->last_pos = store_col_int(res, (int)rows - 1, pos_col);
    PQclear(res);
    if (rc != LICD_OK)
        store_page_free(page);
    return rc;
}

int store_fetch_all(const store_sql *q, int nparams, const char *const *params,
                    const store_rowtype *t, store_page *page)
{
    return fetch_list(q, nparams, params, t, 0, 0, page);
}

int store_fetch_page(const store_sql *q, int nparams, const char *const *params,
                     const store_rowtype *t, int limit, int pos_col, store_page *page)
{
    return fetch_list(q, nparams, params, t, limit, pos_col, page);
}

void store_page_free(store_page *p)
{
    for (size_t i = 0; p->type && i < p->n; i++)
        store_clear(p->type, (char *)p->items + i * p->size);
    free(p->items);
    *p = (store_page){0};
}

char *store_array_literal(const char *const *items, size_t n)
{
    size_t len = 3, o = 0;
    char *out;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(items[i]) + 3;
    if (!(out = malloc(len)))
        return NULL;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[o++] = ',';
        out[o++] = '"';
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                out[o++] = '\\';
            out[o++] = *c;
        }
        out[o++] = '"';
    }
    out[o++] = '}';
    out[o] = '\0';
    return out;
}
