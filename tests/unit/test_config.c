/* Unit tests for service/util/config.c: defaults, and refusal of bad LICD_* values with a message naming the variable. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/config.h"
#include "util/error.h"

#define DAY (24L * 3600L)

struct var {
    const char *name, *value;
};

/* The fake environment config_load reads through fake_get. */
static const struct var *env_table;

static const char *fake_get(const char *name)
{
    for (const struct var *v = env_table; v && v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v->value;
    return NULL;
}

/* Loads from a table ending with {NULL, NULL}; err receives the message. */
static int load(const struct var *table, licd_config *cfg, char *err, size_t errlen)
{
    env_table = table;
    err[0] = '\0';
    return config_load(cfg, fake_get, err, errlen);
}

/* Loads with one variable set. */
static int load1(const char *name, const char *value, licd_config *cfg, char *err, size_t errlen)
{
    const struct var table[] = {{name, value}, {NULL, NULL}};
    return load(table, cfg, err, errlen);
}

/* Expects name=value to stop start-up with a message naming name. */
static void expect_refused(const char *name, const char *value)
{
    licd_config cfg;
    char err[256];
    int rc = load1(name, value, &cfg, err, sizeof err);
    cr_assert_eq(rc, LICD_ERR_CONFIG, "%s=\"%s\" was accepted", name, value);
    cr_assert_not_null(strstr(err, name), "message \"%s\" does not name %s", err, name);
}

static const char *const NUMERIC_VARS[] = {
    "LICD_TEMP_LICENSE_TTL", "LICD_KEY_TTL", "LICD_TOKEN_TTL", "LICD_RENEW_WINDOW",
    "LICD_LEASE_TTL", "LICD_THREADS", "LICD_BODY_LIMIT", "LICD_CONNECTION_TIMEOUT",
    "LICD_PER_IP_CONNECTIONS", "LICD_ACCESS_LOG", "LICD_UPDATE_PASSWORD_RETENTION",
    "LICD_MAINTENANCE_INTERVAL", "LICD_RATE_LIMIT", "LICD_IDEMPOTENCY_TTL",
};
#define NNUMERIC (sizeof NUMERIC_VARS / sizeof NUMERIC_VARS[0])

Test(config, defaults)
{
    const struct var none[] = {{NULL, NULL}};
    licd_config cfg;
    char err[256];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    cr_assert_eq(load(none, &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_str_eq(cfg.listen_host, "127.0.0.1");
    cr_assert_eq(cfg.listen_port, 8080);
    cr_assert_eq(cfg.temp_license_ttl, 60 * DAY);
    cr_assert_eq(cfg.key_ttl, 30 * DAY);
    cr_assert_eq(cfg.token_ttl, 30 * DAY);
    cr_assert_eq(cfg.renew_window, 90 * DAY);
    cr_assert_eq(cfg.lease_ttl, 120);
    cr_assert_eq(cfg.upw_retention, 180 * DAY);
    cr_assert_eq(cfg.maintenance_interval, 3600);
    cr_assert_eq(cfg.rate_limit, 1000);
    cr_assert_eq(cfg.auth_failure_rate, 20);
    cr_assert_eq(cfg.idempotency_ttl, DAY);
    cr_assert_eq(cfg.body_limit, (size_t)1 << 20);
    cr_assert_eq(cfg.conn_timeout, 30);
    cr_assert_eq(cfg.per_ip_limit, 256);
    cr_assert_eq(cfg.access_log, 1);
    cr_assert_eq(cfg.threads, 4 * (cpus > 0 ? cpus : 1));
    cr_assert_null(cfg.database_url);
    cr_assert_null(cfg.signing_key);
    cr_assert_null(cfg.retired_keys);
    cr_assert_null(cfg.tls_cert);
    cr_assert_null(cfg.tls_key);
}

Test(config, empty_values_keep_defaults)
{
    const struct var table[] = {
        {"LICD_LISTEN", ""}, {"LICD_KEY_TTL", ""}, {"LICD_LEASE_TTL", ""}, {"LICD_THREADS", ""},
        {"LICD_TLS_CERT", ""}, {"LICD_TLS_KEY", ""}, {NULL, NULL},
    };
    licd_config cfg;
    char err[256];
    cr_assert_eq(load(table, &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_str_eq(cfg.listen_host, "127.0.0.1");
    cr_assert_eq(cfg.listen_port, 8080);
    cr_assert_eq(cfg.key_ttl, 30 * DAY);
    cr_assert_eq(cfg.lease_ttl, 120);
    cr_assert_null(cfg.tls_cert);
    cr_assert_null(cfg.tls_key);
}

Test(config, values_are_read)
{
    const struct var table[] = {
        {"LICD_DATABASE_URL", "host=a,b dbname=licd"},
        {"LICD_SIGNING_KEY", "/etc/licd/key.pem"},
        {"LICD_RETIRED_KEYS", "/k1.pem,/k2.pem"},
        {"LICD_LISTEN", "0.0.0.0:9000"},
        {"LICD_THREADS", "16"},
        {"LICD_BODY_LIMIT", "4096"},
        {"LICD_CONNECTION_TIMEOUT", "5"},
        {"LICD_PER_IP_CONNECTIONS", "10"},
        {"LICD_ACCESS_LOG", "0"},
        {"LICD_TEMP_LICENSE_TTL", "3600"},
        {"LICD_KEY_TTL", "7200"},
        {"LICD_TOKEN_TTL", "60"},
        {"LICD_RENEW_WINDOW", "0"},
        {"LICD_LEASE_TTL", "3"},
        {"LICD_TLS_CERT", "/c.pem"},
        {"LICD_TLS_KEY", "/k.pem"},
        {NULL, NULL},
    };
    licd_config cfg;
    char err[256];
    cr_assert_eq(load(table, &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_eq(cfg.database_url, table[0].value);
    cr_assert_eq(cfg.signing_key, table[1].value);
    cr_assert_eq(cfg.retired_keys, table[2].value);
    cr_assert_str_eq(cfg.listen_host, "0.0.0.0");
    cr_assert_eq(cfg.listen_port, 9000);
    cr_assert_eq(cfg.threads, 16);
    cr_assert_eq(cfg.body_limit, 4096);
    cr_assert_eq(cfg.conn_timeout, 5);
    cr_assert_eq(cfg.per_ip_limit, 10);
    cr_assert_eq(cfg.access_log, 0);
    cr_assert_eq(cfg.temp_license_ttl, 3600);
    cr_assert_eq(cfg.key_ttl, 7200);
    cr_assert_eq(cfg.token_ttl, 60);
    cr_assert_eq(cfg.renew_window, 0);
    cr_assert_eq(cfg.lease_ttl, 3);
    cr_assert_str_eq(cfg.tls_cert, "/c.pem");
    cr_assert_str_eq(cfg.tls_key, "/k.pem");
}

Test(config, every_number_refuses_garbage)
{
    static const char *const bad[] = {
        "abc", "-1", "12x", "+5", " 5", "\t5", "\n5", "5 ", "5\n", "99999999999999999999",
        "-99999999999999999999", "0x10", "1e3", "1.5", "1,000", "-", "+", " ",
    };
    for (size_t i = 0; i < NNUMERIC; i++)
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
            expect_refused(NUMERIC_VARS[i], bad[j]);
}

Test(config, zero_only_where_allowed)
{
    static const char *const no_zero[] = {
        "LICD_TEMP_LICENSE_TTL", "LICD_KEY_TTL",     "LICD_TOKEN_TTL",          "LICD_LEASE_TTL",
        "LICD_THREADS",          "LICD_BODY_LIMIT",  "LICD_CONNECTION_TIMEOUT", "LICD_PER_IP_CONNECTIONS",
        "LICD_UPDATE_PASSWORD_RETENTION", "LICD_MAINTENANCE_INTERVAL", "LICD_IDEMPOTENCY_TTL",
    };
    licd_config cfg;
    char err[256];
    for (size_t i = 0; i < sizeof no_zero / sizeof no_zero[0]; i++)
        expect_refused(no_zero[i], "0");
    /* A renewal window of 0 means "no renewal after expiry". */
    cr_assert_eq(load1("LICD_RENEW_WINDOW", "0", &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_eq(cfg.renew_window, 0);
    cr_assert_eq(load1("LICD_ACCESS_LOG", "0", &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_eq(cfg.access_log, 0);
    /* "-0" is not a plain number either. */
    expect_refused("LICD_RENEW_WINDOW", "-0");
    /* A rate limit of 0 turns rate limiting off. */
    cr_assert_eq(load1("LICD_RATE_LIMIT", "0", &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_eq(cfg.rate_limit, 0);
}

Test(config, ranges)
{
    licd_config cfg;
    char err[256];
    char max[32], over[32];
    static const char *const ttls[] = {"LICD_TEMP_LICENSE_TTL", "LICD_KEY_TTL", "LICD_TOKEN_TTL",
                                       "LICD_RENEW_WINDOW"};
    snprintf(max, sizeof max, "%ld", 3650 * DAY);
    snprintf(over, sizeof over, "%ld", 3650 * DAY + 1);
    for (size_t i = 0; i < sizeof ttls / sizeof ttls[0]; i++) {
        cr_assert_eq(load1(ttls[i], max, &cfg, err, sizeof err), LICD_OK, "%s", err);
        expect_refused(ttls[i], over);
    }
    cr_assert_eq(cfg.renew_window, 3650 * DAY);

    expect_refused("LICD_LEASE_TTL", "2");
    cr_assert_eq(load1("LICD_LEASE_TTL", "3", &cfg, err, sizeof err), LICD_OK);
    snprintf(over, sizeof over, "%ld", 30 * DAY + 1);
    expect_refused("LICD_LEASE_TTL", over);

    expect_refused("LICD_ACCESS_LOG", "2");
    expect_refused("LICD_THREADS", "257");
    cr_assert_eq(load1("LICD_THREADS", "256", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.threads, 256);
    expect_refused("LICD_BODY_LIMIT", "1023");
    expect_refused("LICD_BODY_LIMIT", "1073741825");
    cr_assert_eq(load1("LICD_BODY_LIMIT", "1073741824", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.body_limit, (size_t)1 << 30);
    expect_refused("LICD_CONNECTION_TIMEOUT", "3601");
    expect_refused("LICD_PER_IP_CONNECTIONS", "65537");

    expect_refused("LICD_UPDATE_PASSWORD_RETENTION", "59");
    cr_assert_eq(load1("LICD_UPDATE_PASSWORD_RETENTION", max, &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.upw_retention, 3650 * DAY);
    snprintf(over, sizeof over, "%ld", 3650 * DAY + 1);
    expect_refused("LICD_UPDATE_PASSWORD_RETENTION", over);
    cr_assert_eq(load1("LICD_MAINTENANCE_INTERVAL", "86400", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.maintenance_interval, DAY);
    expect_refused("LICD_MAINTENANCE_INTERVAL", "86401");

    /* Any whole number of requests a second up to 10^9. */
    cr_assert_eq(load1("LICD_RATE_LIMIT", "1000000000", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.rate_limit, 1000000000L);
    cr_assert_eq(load1("LICD_RATE_LIMIT", "1", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.rate_limit, 1);
    expect_refused("LICD_RATE_LIMIT", "1000000001");
    cr_assert_eq(load1("LICD_AUTH_FAILURE_RATE", "0", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.auth_failure_rate, 0);
    expect_refused("LICD_AUTH_FAILURE_RATE", "-1");
    expect_refused("LICD_AUTH_FAILURE_RATE", "1000000001");
    expect_refused("LICD_IDEMPOTENCY_TTL", "59");
    cr_assert_eq(load1("LICD_IDEMPOTENCY_TTL", "60", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.idempotency_ttl, 60);
    snprintf(over, sizeof over, "%ld", 30 * DAY + 1);
    expect_refused("LICD_IDEMPOTENCY_TTL", over);
}

Test(config, message_shows_the_value_and_the_range)
{
    licd_config cfg;
    char err[256];
    cr_assert_eq(load1("LICD_KEY_TTL", "12x", &cfg, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_not_null(strstr(err, "LICD_KEY_TTL=12x"), "%s", err);
    cr_assert_not_null(strstr(err, "315360000"), "%s", err);
}

Test(config, first_bad_variable_wins_over_good_ones)
{
    const struct var table[] = {
        {"LICD_KEY_TTL", "100"}, {"LICD_LEASE_TTL", "abc"}, {"LICD_TOKEN_TTL", "200"}, {NULL, NULL},
    };
    licd_config cfg;
    char err[256];
    cr_assert_eq(load(table, &cfg, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_not_null(strstr(err, "LICD_LEASE_TTL"), "%s", err);
}

/* Expects LICD_LISTEN=value to give host and port. */
static void expect_listen(const char *value, const char *host, int port)
{
    licd_config cfg;
    char err[256];
    cr_assert_eq(load1("LICD_LISTEN", value, &cfg, err, sizeof err), LICD_OK, "%s: %s", value, err);
    cr_assert_str_eq(cfg.listen_host, host, "%s", value);
    cr_assert_eq(cfg.listen_port, port, "%s", value);
}

Test(config, listen_good_forms)
{
    expect_listen("0.0.0.0:9000", "0.0.0.0", 9000);
    expect_listen("127.0.0.1:8080", "127.0.0.1", 8080);
    expect_listen("localhost:0", "localhost", 0);
    expect_listen("licd.example.com:65535", "licd.example.com", 65535);
    expect_listen("[::1]:8080", "::1", 8080);
    expect_listen("[::]:80", "::", 80);
    expect_listen("[fe80::1%eth0]:443", "fe80::1%eth0", 443);
    expect_listen("10.0.0.1:00080", "10.0.0.1", 80);
}

Test(config, listen_bad_forms)
{
    static const char *const bad[] = {
        "nohostport", ":80", "host:99999", "host:65536", "host:", "host:-1", "host:+80",
        "host: 80", "host:80 ", "host:80x", "host:0x50", "host:123456", "[::1]", "[::1]80",
        "[]:80", "[::1:8080", "::1:8080", "::1", "a:b:80", ":", "[::1]:",
        "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh:80", /* 64-byte host */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused("LICD_LISTEN", bad[i]);
}

Test(config, listen_host_just_fits)
{
    char value[80], host[64];
    memset(host, 'h', 63);
    host[63] = '\0';
    snprintf(value, sizeof value, "%s:1", host);
    expect_listen(value, host, 1);
}

Test(config, trusted_proxies)
{
    licd_config cfg;
    char err[256], many[1024] = "";
    netaddr a;
    cr_assert_eq(load1("LICD_TRUSTED_PROXIES", "", &cfg, err, sizeof err), LICD_OK);
    cr_assert_eq(cfg.ntrusted_proxies, 0, "none by default");
    cr_assert_eq(load1("LICD_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16 ,::1", &cfg, err,
                       sizeof err),
                 LICD_OK, "%s", err);
    cr_assert_eq(cfg.ntrusted_proxies, 3);
    cr_assert_eq(cfg.trusted_proxies[0].bits, 32);
    cr_assert_eq(cfg.trusted_proxies[1].bits, 16);
    cr_assert_eq(cfg.trusted_proxies[2].v6, 1);
    netaddr_parse("192.168.77.1", &a);
    cr_assert(netaddr_contains(&cfg.trusted_proxies[1], &a));
    static const char *const bad[] = {"10.0.0.1/8", "10.0.0.0/33", "proxy.example.com",
                                      "10.0.0.5,", ",10.0.0.5", "10.0.0.5,,10.0.0.6", " ",
                                      "10.0.0.5;10.0.0.6", "10.0.0.5 10.0.0.6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused("LICD_TRUSTED_PROXIES", bad[i]);
    for (int i = 0; i < CONFIG_MAX_TRUSTED_PROXIES; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s10.0.0.%d", i ? "," : "", i);
    cr_assert_eq(load1("LICD_TRUSTED_PROXIES", many, &cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_eq(cfg.ntrusted_proxies, CONFIG_MAX_TRUSTED_PROXIES);
    snprintf(many + strlen(many), sizeof many - strlen(many), ",10.0.1.1");
    expect_refused("LICD_TRUSTED_PROXIES", many);
}

Test(config, tls_needs_both_files)
{
    licd_config cfg;
    char err[256];
    cr_assert_eq(load1("LICD_TLS_CERT", "/c.pem", &cfg, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_not_null(strstr(err, "LICD_TLS_KEY"), "%s", err);
    cr_assert_not_null(strstr(err, "LICD_TLS_CERT"), "%s", err);
    cr_assert_eq(load1("LICD_TLS_KEY", "/k.pem", &cfg, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_not_null(strstr(err, "LICD_TLS_CERT"), "%s", err);
    /* An empty key counts as unset. */
    const struct var table[] = {{"LICD_TLS_CERT", "/c.pem"}, {"LICD_TLS_KEY", ""}, {NULL, NULL}};
    cr_assert_eq(load(table, &cfg, err, sizeof err), LICD_ERR_CONFIG);
}

Test(config, small_error_buffer_is_safe)
{
    licd_config cfg;
    char err[8];
    env_table = (const struct var[]){{"LICD_KEY_TTL", "abcdefghijklmnopqrstuvwxyz"}, {NULL, NULL}};
    cr_assert_eq(config_load(&cfg, fake_get, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_eq(strlen(err), sizeof err - 1);
}

Test(config, from_environment)
{
    licd_config cfg;
    char err[256];
    setenv("LICD_LISTEN", "[::1]:7000", 1);
    setenv("LICD_LEASE_TTL", "30", 1);
    unsetenv("LICD_TLS_CERT");
    unsetenv("LICD_TLS_KEY");
    cr_assert_eq(config_from_env(&cfg, err, sizeof err), LICD_OK, "%s", err);
    cr_assert_str_eq(cfg.listen_host, "::1");
    cr_assert_eq(cfg.listen_port, 7000);
    cr_assert_eq(cfg.lease_ttl, 30);
    setenv("LICD_LEASE_TTL", "30s", 1);
    cr_assert_eq(config_from_env(&cfg, err, sizeof err), LICD_ERR_CONFIG);
    cr_assert_not_null(strstr(err, "LICD_LEASE_TTL"), "%s", err);
}

/* One rule for site ids, LICD_SITE_ID's and the vendor's /v1/sites/{site_id}. */
Test(config, site_ids)
{
    char longest[CONFIG_SITE_ID_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[CONFIG_SITE_ID_MAX] = '\0';
    cr_assert(config_site_id_valid("site-A.1_b"));
    cr_assert(config_site_id_valid(longest));
    longest[CONFIG_SITE_ID_MAX] = 'a';
    longest[CONFIG_SITE_ID_MAX + 1] = '\0';
    cr_assert_not(config_site_id_valid(longest));
    cr_assert_not(config_site_id_valid(""));
    cr_assert_not(config_site_id_valid("a/b"));
    cr_assert_not(config_site_id_valid("a b"));
    expect_refused("LICD_SITE_ID", "a/b");
}
