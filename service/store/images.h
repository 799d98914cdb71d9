/* Client images: the build of a client program a vendor uploads, against
 * which get_key's challenge responses are checked (in SQL, on the
 * client_images columns vendor_id, software_id and image). */
#ifndef LICD_STORE_IMAGES_H
#define LICD_STORE_IMAGES_H

#include <stddef.h>

#include "store/audit.h"

#define STORE_IMAGE_MAX (64u << 20)  /* 64 MiB */

typedef struct {
    char software_id[129];
    char platform[16];
    size_t size;
    char sha256[65];                 /* hex */
    char created_at[40];
} store_image;

/* Stores (or replaces) the image of who->vendor_id's software_id with its
 * SHA-256, sent to the database as binary, audited as "upload" in the same
 * transaction. */
int store_image_put(const store_actor *who, const char *software_id, const char *platform,
                    const void *data, size_t len, store_image *out);

#endif
