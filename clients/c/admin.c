/* Vendor (admin) calls: one generic request under the vendor's key, lists
 * read to the end through their `next` cursors, and escaping for paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* A list that answers the same cursor twice would be followed forever. */
#define MAX_PAGES 100000

int licd_client_set_vendor_key(licd_client *c, const char *vendor_key)
{
    char *copy = NULL;

    if (!c)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (vendor_key && !*vendor_key)
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "the vendor key is empty");
    if (vendor_key && !(copy = strdup(vendor_key)))
        return client_fail(c, LICD_CLIENT_ERR_NOMEM, "out of memory");
    free(c->vendor_key);
    c->vendor_key = copy;
    return LICD_CLIENT_OK;
}

int licd_client_escape(const char *s, char **out)
{
    static const char hex[] = "0123456789ABCDEF";
    char *e, *p;

    if (!s || !out)
        return LICD_CLIENT_ERR_ARGS;
    if (!(e = p = malloc(3 * strlen(s) + 1)))
        return LICD_CLIENT_ERR_NOMEM;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
            strchr("-._~", *q)) {
            *p++ = (char)*q;
        } else {
            *p++ = '%';
            *p++ = hex[*q >> 4];
            *p++ = hex[*q & 15];
        }
    }
    *p = '\0';
    *out = e;
    return LICD_CLIENT_OK;
}

/* The vendor call behind both public ones: *json gets the parsed answer,
 * or NULL for 204 No Content (a DELETE), and *text (when not NULL) its text
 * (NULL alike). */
static int vendor_send_as(licd_client *c, const char *method, const char *path,
                          const char *content_type, const char *body, size_t len, cJSON **json,
                          char **text)
{
    struct client_call call = {method, path, body, body ? len : 0, content_type,
                               "Bearer", c->vendor_key, "vendor key"};
    char *raw = NULL;
    int rc;

    *json = NULL;
    if (text)
        *text = NULL;
    if (!method || !*method || !path || path[0] != '/')
        return client_fail(c, LICD_CLIENT_ERR_ARGS, "a vendor call needs a method and a path from '/'");
    if ((rc = client_send(c, &call, NULL, &raw)) != LICD_CLIENT_OK)
        return rc;
    if (c->http_status == 204 && !*raw) {
        free(raw);
        return LICD_CLIENT_OK;
    }
    if (!(*json = cJSON_Parse(raw)) || !cJSON_IsObject(*json)) {
        cJSON_Delete(*json);
        *json = NULL;
        free(raw);
        return client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "%s %s: the answer is not a JSON object",
                           method, path);
    }
    if (text)
        *text = raw;
    else
        free(raw);
    return LICD_CLIENT_OK;
}

static int vendor_send(licd_client *c, const char *method, const char *path, const char *body,
                       cJSON **json, char **text)
{
    return vendor_send_as(c, method, path, NULL, body, body ? strlen(body) : 0, json, text);
}

int licd_client_vendor_upload(licd_client *c, const char *method, const char *path,
                              const char *content_type, const char *body, size_t len,
                              char **answer)
{
    cJSON *json = NULL;
    char *text = NULL;
    int rc;

    if (!c || !content_type || !body)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (answer)
        *answer = NULL;
    rc = vendor_send_as(c, method, path, content_type, body, len, &json, &text);
    if (rc == LICD_CLIENT_OK && answer) {
        *answer = text;
        text = NULL;
    }
    cJSON_Delete(json);
    free(text);
    return rc;
}

/* A 204 answer has no body (*answer NULL); any other 2xx is a JSON object. */
int licd_client_vendor_call(licd_client *c, const char *method, const char *path, const char *body,
                            char **answer)
{
    cJSON *json = NULL;
    char *text = NULL;
    int rc;

    if (!c)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (answer)
        *answer = NULL;
    rc = vendor_send(c, method, path, body, &json, &text);
    if (rc == LICD_CLIENT_OK && answer) {
        *answer = text;
        text = NULL;
    }
    cJSON_Delete(json);
    free(text);
    return rc;
}

/* path with cursor appended as a query argument (free it). */
static char *page_path(const char *path, const char *cursor)
{
    char *escaped = NULL, *p = NULL;

    if (!cursor)
        return strdup(path);
    if (licd_client_escape(cursor, &escaped) != LICD_CLIENT_OK)
        return NULL;
    if ((p = malloc(strlen(path) + strlen(escaped) + 16)))
        sprintf(p, "%s%scursor=%s", path, strchr(path, '?') ? "&" : "?", escaped);
    free(escaped);
    return p;
}

/* Pages are fetched one after the other; each page's items are moved into
 * one array, and a page without "items" or with a "next" that is neither a
 * string nor null is not a list answer. */
int licd_client_vendor_list(licd_client *c, const char *path, char **answer)
{
    cJSON *all = NULL, *items, *page = NULL;
    char *cursor = NULL, *url = NULL, *text = NULL;
    int rc = LICD_CLIENT_ERR_NOMEM;

    if (!c || !path || !answer)
        return LICD_CLIENT_ERR_ARGS;
    client_clear_error(c);
    if (!(all = cJSON_CreateObject()) || !(items = cJSON_AddArrayToObject(all, "items")) ||
        !cJSON_AddNullToObject(all, "next"))
        goto out;
    for (int pages = 0;; pages++) {
        cJSON *got, *next, *item;

        if (pages == MAX_PAGES) {
            rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "GET %s: more than %d pages", path, MAX_PAGES);
            goto out;
        }
        if (!(url = page_path(path, cursor))) {
            rc = LICD_CLIENT_ERR_NOMEM;
            goto out;
        }
        if ((rc = vendor_send(c, "GET", url, NULL, &page, NULL)) != LICD_CLIENT_OK)
            goto out;
        got = cJSON_GetObjectItemCaseSensitive(page, "items");
        next = cJSON_GetObjectItemCaseSensitive(page, "next");
        if (!cJSON_IsArray(got) || !(cJSON_IsNull(next) || cJSON_IsString(next)) ||
            (cJSON_IsString(next) && cursor && strcmp(next->valuestring, cursor) == 0)) {
            rc = client_fail(c, LICD_CLIENT_ERR_PROTOCOL, "GET %s: not a list answer", url);
            goto out;
        }
        while ((item = cJSON_DetachItemFromArray(got, 0)))
            cJSON_AddItemToArray(items, item);
        free(cursor);
        cursor = NULL;
        if (cJSON_IsNull(next))
            break;
        if (!(cursor = strdup(next->valuestring))) {
            rc = LICD_CLIENT_ERR_NOMEM;
            goto out;
        }
        cJSON_Delete(page);
        page = NULL;
        free(url);
        url = NULL;
    }
    rc = LICD_CLIENT_ERR_NOMEM;
    if (!(text = cJSON_PrintUnformatted(all)) || !(*answer = strdup(text)))
        goto out;
    rc = LICD_CLIENT_OK;
out:
    if (rc == LICD_CLIENT_ERR_NOMEM && !c->error[0])
        client_fail(c, rc, "out of memory");
    cJSON_free(text);
    cJSON_Delete(page);
    cJSON_Delete(all);
    free(cursor);
    free(url);
    return rc;
}
