/* licd's configuration, read from LICD_* environment variables; a bad value
 * stops start-up with a message naming the variable. */
#ifndef LICD_UTIL_CONFIG_H
#define LICD_UTIL_CONFIG_H

#include <stddef.h>

#include "util/netaddr.h"

#define CONFIG_MAX_TRUSTED_PROXIES 64

typedef struct {
    const char *database_url;   /* LICD_DATABASE_URL (libpq conninfo or URI) */
    char listen_host[64];       /* LICD_LISTEN host part, default 127.0.0.1 */
    int listen_port;            /* LICD_LISTEN port part, default 8080 (0 = any free port) */
    const char *signing_key;    /* LICD_SIGNING_KEY: PEM path */
    const char *retired_keys;   /* LICD_RETIRED_KEYS: comma-separated PEM paths */
    const char *tls_cert;       /* LICD_TLS_CERT */
    const char *tls_key;        /* LICD_TLS_KEY */
    int threads;                /* LICD_THREADS, default 4 per core */
    int offload_threads;        /* LICD_OFFLOAD_THREADS (password hashing), default 1 per core */
    size_t body_limit;          /* LICD_BODY_LIMIT bytes, default 1 MiB */
    unsigned conn_timeout;      /* LICD_CONNECTION_TIMEOUT s, default 30 */
    unsigned per_ip_limit;      /* LICD_PER_IP_CONNECTIONS, default 256 */
    /* LICD_TRUSTED_PROXIES: comma-separated addresses or CIDRs of the proxies
     * whose X-Forwarded-For names the client's address; none by default */
    netaddr trusted_proxies[CONFIG_MAX_TRUSTED_PROXIES];
    size_t ntrusted_proxies;
    int access_log;             /* LICD_ACCESS_LOG 0/1, default 1 */
    long temp_license_ttl;      /* LICD_TEMP_LICENSE_TTL s, default 60 days */
    long key_ttl;               /* LICD_KEY_TTL s, default 30 days */
    long token_ttl;             /* LICD_TOKEN_TTL s, default 30 days */
    long renew_window;          /* LICD_RENEW_WINDOW s, default 90 days */
    long lease_ttl;             /* LICD_LEASE_TTL s, default 120 */
    long upw_retention;         /* LICD_UPDATE_PASSWORD_RETENTION s, default 180 days */
    long maintenance_interval;  /* LICD_MAINTENANCE_INTERVAL s between purges, default 3600 */
    long rate_limit;            /* LICD_RATE_LIMIT requests/s per key (bursts 2x), default 1000,
                                   0 = off */
    long auth_failure_rate;     /* LICD_AUTH_FAILURE_RATE unknown credentials/s per source
                                   address (bursts 2x), default 20, 0 = off */
    long idempotency_ttl;       /* LICD_IDEMPOTENCY_TTL s an Idempotency-Key answer is kept,
                                   default 24 h */
    const char *servers;        /* LICD_SERVERS: comma-separated public URLs of the pool's nodes */
    long webhook_threads;       /* LICD_WEBHOOK_THREADS delivery threads, default 2 (0: none) */
    long webhook_backoff_max;   /* LICD_WEBHOOK_BACKOFF_MAX s, default 60 */
    long webhook_dead_after;    /* LICD_WEBHOOK_DEAD_AFTER s of failures, default 24 h */
    long webhook_timeout;       /* LICD_WEBHOOK_TIMEOUT s per delivery attempt, default 10 */
    long webhook_allow_private; /* LICD_WEBHOOK_ALLOW_PRIVATE 0/1: http and private targets */
    long event_retention;       /* LICD_EVENT_RETENTION s delivered events are kept, default 7 days */
    /* LICD_CONSOLE_DIR: the folder /console/ serves; NULL when unset (licd
     * serve then picks the built or installed console), "" turns it off */
    const char *console_dir;
    /* LICD_SITE_ID: this licd is a site server of that id (NULL: not one);
     * LICD_VENDOR_JWKS: the file with the vendor's JWKS its allocations are
     * checked against (required with LICD_SITE_ID) */
    const char *site_id;
    const char *vendor_jwks;
} licd_config;

/* A site id, as LICD_SITE_ID names this server and the vendor's
 * /v1/sites/{site_id} names one: 1 to CONFIG_SITE_ID_MAX of CONFIG_SITE_ID_CHARS. */
#define CONFIG_SITE_ID_MAX 64
#define CONFIG_SITE_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
int config_site_id_valid(const char *s);

/* Reads every variable through get (getenv in production, a table in
 * tests). Strings point at what get returned. Returns 0, or LICD_ERR_CONFIG
 * with a message in err. */
int config_load(licd_config *cfg, const char *(*get)(const char *name), char *err, size_t errlen);
/* config_load over the process environment. */
int config_from_env(licd_config *cfg, char *err, size_t errlen);

#endif
