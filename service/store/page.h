/* The one shape of every list store/ returns: a page, an array of the
 * list's item struct (each list function names it) with its paging facts. */
#ifndef LICD_STORE_PAGE_H
#define LICD_STORE_PAGE_H

#include <stddef.h>

typedef struct store_rowtype store_rowtype;

typedef struct {
    void *items;                /* n items of size bytes each */
    size_t n, size;
    int more;                   /* paged lists: items follow the last one */
    long long last_pos;         /* paged lists: the list position of the last item */
    const store_rowtype *type;  /* store/'s own: what the items own */
} store_page;

/* Frees the items and what they own, and empties the page; safe to call
 * twice and on a zeroed page. */
void store_page_free(store_page *p);

#endif
