/* The service-wide context handlers read: configuration and signing keys. */
#include "api/api.h"

static api_context ctx;

/* Buckets for 64Ki keys at most (about 2 MiB), idle ones forgotten first. */
#define RATE_LIMIT_BUCKETS 65536

int api_init(const licd_config *config, const crypto_keyring *keys)
{
    ctx.config = config;
    ctx.keys = keys;
    ctx.limits = ctx.auth_failures = NULL;
    if ((config->rate_limit > 0 &&
         !(ctx.limits = ratelimit_new(config->rate_limit, RATE_LIMIT_BUCKETS))) ||
        (config->auth_failure_rate > 0 &&
         !(ctx.auth_failures = ratelimit_new(config->auth_failure_rate, RATE_LIMIT_BUCKETS)))) {
        api_shutdown();
        return LICD_ERR_NOMEM;
    }
    return LICD_OK;
}

void api_shutdown(void)
{
    ratelimit_free(ctx.limits);
    ratelimit_free(ctx.auth_failures);
    ctx.limits = ctx.auth_failures = NULL;
}

const api_context *api_ctx(void) { return &ctx; }
