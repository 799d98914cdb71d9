/* The service-wide context handlers read: configuration and signing keys. */
#include "api/api.h"

static api_context ctx;

void api_init(const licd_config *config, const crypto_keyring *keys)
{
    ctx.config = config;
    ctx.keys = keys;
}

const api_context *api_ctx(void) { return &ctx; }
