/* Maps licd_err values to status, code and title through the LICD_ERRORS table. */
#include "util/error.h"

#include <stddef.h>

struct err_row {
    licd_err err;
    int status;
    const char *code;
    const char *title;
};

static const struct err_row rows[] = {
#define LICD_X_ROW(name, status, code, title) {name, status, code, title},
    LICD_ERRORS(LICD_X_ROW)
#undef LICD_X_ROW
};

/* The enum counts up from LICD_ERR_FIRST_ in table order, so the row is an index. */
static const struct err_row *find(licd_err err)
{
    long i = (long)err - (long)LICD_ERR_FIRST_ - 1;
    return i >= 0 && i < (long)(sizeof rows / sizeof rows[0]) ? &rows[i] : NULL;
}

static const struct err_row *public_row(licd_err err)
{
    const struct err_row *r = find(err);
    return (r && r->status) ? r : find(LICD_ERR_INTERNAL);
}

int licd_err_status(licd_err err) { return public_row(err)->status; }
const char *licd_err_code(licd_err err) { return public_row(err)->code; }
const char *licd_err_title(licd_err err) { return public_row(err)->title; }

const char *licd_err_name(licd_err err)
{
    const struct err_row *r = find(err);
    return err == LICD_OK ? "ok" : r ? r->code : "unknown";
}
