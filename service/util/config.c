/* Parses the LICD_* environment into a licd_config, refusing bad values. */
#include "util/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

#define DAY (24L * 3600L)

/* Reads a whole number in [min, max] from variable name; absent or empty
 * keeps *out. Trailing garbage, signs where not allowed and overflow fail. */
static int read_long(const char *(*get)(const char *), const char *name, long min, long max,
                     long *out, char *err, size_t errlen)
{
    const char *v = get(name);
    char *end;
    long n;
    if (!v || !*v)
        return LICD_OK;
    errno = 0;
    n = strtol(v, &end, 10);
    /* strtol also skips leading white space (tabs, newlines) and takes a sign. */
    if (errno || end == v || *end || !(v[0] >= '0' && v[0] <= '9') || n < min || n > max) {
        snprintf(err, errlen, "%s=%s: expected a whole number from %ld to %ld", name, v, min, max);
        return LICD_ERR_CONFIG;
    }
    *out = n;
    return LICD_OK;
}

/* Splits HOST:PORT; an IPv6 host goes in brackets ("[::1]:8080" gives host
 * "::1"), since without them its colons make the port ambiguous. The port is
 * plain digits, 0 to 65535 (0 picks a free port). */
static int read_listen(const char *v, licd_config *cfg, char *err, size_t errlen)
{
    const char *host = v, *colon;
    size_t hostlen, portlen;
    unsigned long port;
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':')
            goto bad;
        host = v + 1;
        hostlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strchr(v, ':');
        if (!colon || strchr(colon + 1, ':'))
            goto bad;
        hostlen = (size_t)(colon - v);
    }
    if (hostlen == 0 || hostlen >= sizeof cfg->listen_host)
        goto bad;
    portlen = strlen(colon + 1);
    if (portlen == 0 || portlen > 5 || strspn(colon + 1, "0123456789") != portlen)
        goto bad;
    port = strtoul(colon + 1, NULL, 10);
    if (port > 65535)
        goto bad;
    memcpy(cfg->listen_host, host, hostlen);
    cfg->listen_host[hostlen] = '\0';
    cfg->listen_port = (int)port;
    return LICD_OK;
bad:
    snprintf(err, errlen,
             "LICD_LISTEN=%s: expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080", v);
    return LICD_ERR_CONFIG;
}

/* LICD_TRUSTED_PROXIES: addresses ("10.0.0.5", "::1") and CIDRs without host
 * bits ("10.0.0.0/8"), separated by commas, spaces around each allowed; an
 * empty entry, or more than CONFIG_MAX_TRUSTED_PROXIES, is refused. */
static int read_proxies(const char *v, licd_config *cfg, char *err, size_t errlen)
{
    const char *p = v;
    for (;;) {
        char entry[2 * NETADDR_TEXT_MAX];
        size_t n = strcspn(p, ","), lead = strspn(p, " \t");
        size_t len = n > lead ? n - lead : 0;
        while (len > 0 && strchr(" \t", p[lead + len - 1]))
            len--;
        if (cfg->ntrusted_proxies == CONFIG_MAX_TRUSTED_PROXIES) {
            snprintf(err, errlen, "LICD_TRUSTED_PROXIES: at most %d addresses or ranges",
                     CONFIG_MAX_TRUSTED_PROXIES);
            return LICD_ERR_CONFIG;
        }
        if (len == 0 || len >= sizeof entry)
            goto bad;
        memcpy(entry, p + lead, len);
        entry[len] = '\0';
        if (netaddr_parse_range(entry, &cfg->trusted_proxies[cfg->ntrusted_proxies++]) != 0)
            goto bad;
        if (!p[n])
            return LICD_OK;
        p += n + 1;
    }
bad:
    snprintf(err, errlen,
             "LICD_TRUSTED_PROXIES=%s: expected IP addresses or CIDRs (no host bits set) separated"
             " by commas, such as 10.0.0.5,192.168.0.0/16,::1",
             v);
    return LICD_ERR_CONFIG;
}

int config_site_id_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= CONFIG_SITE_ID_MAX && strspn(s, CONFIG_SITE_ID_CHARS) == n;
}

int config_load(licd_config *cfg, const char *(*get)(const char *name), char *err, size_t errlen)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long threads = 4 * (cpus > 0 ? cpus : 1), body = 1L << 20, timeout = 30, per_ip = 256;
    long log = 1, offload = cpus > 0 ? cpus : 1;
    const char *listen, *proxies;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    cfg->temp_license_ttl = 60 * DAY;
    cfg->key_ttl = 30 * DAY;
    cfg->token_ttl = 30 * DAY;
    cfg->renew_window = 90 * DAY;
    cfg->lease_ttl = 120;
    cfg->upw_retention = 180 * DAY;
    cfg->maintenance_interval = 3600;
    cfg->rate_limit = 1000;
    cfg->auth_failure_rate = 20;
    cfg->idempotency_ttl = DAY;
    cfg->webhook_threads = 2;
    cfg->webhook_backoff_max = 60;
    cfg->webhook_dead_after = DAY;
    cfg->webhook_timeout = 10;
    cfg->event_retention = 7 * DAY;
    cfg->database_url = get("LICD_DATABASE_URL");
    cfg->signing_key = get("LICD_SIGNING_KEY");
    cfg->retired_keys = get("LICD_RETIRED_KEYS");
    cfg->tls_cert = get("LICD_TLS_CERT");
    cfg->tls_key = get("LICD_TLS_KEY");
    cfg->servers = get("LICD_SERVERS");
    cfg->console_dir = get("LICD_CONSOLE_DIR");
    cfg->site_id = get("LICD_SITE_ID");
    cfg->vendor_jwks = get("LICD_VENDOR_JWKS");
    if (cfg->site_id && !*cfg->site_id)
        cfg->site_id = NULL;
    if (cfg->site_id && !config_site_id_valid(cfg->site_id)) {
        snprintf(err, errlen, "LICD_SITE_ID=%s: 1 to 64 of A-Z a-z 0-9 . _ -", cfg->site_id);
        return LICD_ERR_CONFIG;
    }
    if (cfg->site_id && (!cfg->vendor_jwks || !*cfg->vendor_jwks)) {
        snprintf(err, errlen, "LICD_SITE_ID needs LICD_VENDOR_JWKS (a file with the vendor's JWKS)");
        return LICD_ERR_CONFIG;
    }
    if (cfg->tls_cert && !*cfg->tls_cert)
        cfg->tls_cert = NULL;
    if (cfg->tls_key && !*cfg->tls_key)
        cfg->tls_key = NULL;

    listen = get("LICD_LISTEN");
    if (listen && *listen && (rc = read_listen(listen, cfg, err, errlen)) != LICD_OK)
        return rc;
    proxies = get("LICD_TRUSTED_PROXIES");
    if (proxies && *proxies && (rc = read_proxies(proxies, cfg, err, errlen)) != LICD_OK)
        return rc;
    if ((rc = read_long(get, "LICD_THREADS", 1, 256, &threads, err, errlen)) ||
        (rc = read_long(get, "LICD_OFFLOAD_THREADS", 1, 256, &offload, err, errlen)) ||
        (rc = read_long(get, "LICD_BODY_LIMIT", 1024, 1L << 30, &body, err, errlen)) ||
        (rc = read_long(get, "LICD_CONNECTION_TIMEOUT", 1, 3600, &timeout, err, errlen)) ||
        (rc = read_long(get, "LICD_PER_IP_CONNECTIONS", 1, 65536, &per_ip, err, errlen)) ||
        (rc = read_long(get, "LICD_ACCESS_LOG", 0, 1, &log, err, errlen)) ||
        (rc = read_long(get, "LICD_TEMP_LICENSE_TTL", 1, 3650 * DAY, &cfg->temp_license_ttl, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_KEY_TTL", 1, 3650 * DAY, &cfg->key_ttl, err, errlen)) ||
        (rc = read_long(get, "LICD_TOKEN_TTL", 1, 3650 * DAY, &cfg->token_ttl, err, errlen)) ||
        (rc = read_long(get, "LICD_RENEW_WINDOW", 0, 3650 * DAY, &cfg->renew_window, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_LEASE_TTL", 3, 30 * DAY, &cfg->lease_ttl, err, errlen)) ||
        (rc = read_long(get, "LICD_UPDATE_PASSWORD_RETENTION", 60, 3650 * DAY,
                        &cfg->upw_retention, err, errlen)) ||
        (rc = read_long(get, "LICD_MAINTENANCE_INTERVAL", 1, DAY, &cfg->maintenance_interval,
                        err, errlen)) ||
        (rc = read_long(get, "LICD_RATE_LIMIT", 0, 1000000000L, &cfg->rate_limit, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_AUTH_FAILURE_RATE", 0, 1000000000L, &cfg->auth_failure_rate,
                        err, errlen)) ||
        (rc = read_long(get, "LICD_IDEMPOTENCY_TTL", 60, 30 * DAY, &cfg->idempotency_ttl, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_WEBHOOK_THREADS", 0, 64, &cfg->webhook_threads, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_WEBHOOK_BACKOFF_MAX", 1, DAY, &cfg->webhook_backoff_max, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_WEBHOOK_DEAD_AFTER", 1, 365 * DAY, &cfg->webhook_dead_after,
                        err, errlen)) ||
        (rc = read_long(get, "LICD_WEBHOOK_TIMEOUT", 1, 60, &cfg->webhook_timeout, err,
                        errlen)) ||
        (rc = read_long(get, "LICD_WEBHOOK_ALLOW_PRIVATE", 0, 1, &cfg->webhook_allow_private,
                        err, errlen)) ||
        (rc = read_long(get, "LICD_EVENT_RETENTION", 60, 3650 * DAY, &cfg->event_retention, err,
                        errlen)))
        return rc;
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, errlen, "LICD_TLS_CERT and LICD_TLS_KEY must be set together");
        return LICD_ERR_CONFIG;
    }
    cfg->threads = (int)threads;
    cfg->offload_threads = (int)offload;
    cfg->body_limit = (size_t)body;
    cfg->conn_timeout = (unsigned)timeout;
    cfg->per_ip_limit = (unsigned)per_ip;
    cfg->access_log = (int)log;
    return LICD_OK;
}

static const char *env_get(const char *name) { return getenv(name); }

int config_from_env(licd_config *cfg, char *err, size_t errlen)
{
    return config_load(cfg, env_get, err, errlen);
}
