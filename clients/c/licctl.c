/* licctl: the command line of licd's clients, over the licd_client library.
 * One row of the command table per subcommand; each parses its own options
 * and returns the process's exit code (0 valid, 10 limited, 20 no access,
 * 1 anything else). */
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "licd_client.h"
#include "licctl_cmds.h"
#define MAX_PRODUCTS 32

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
};

static int cmd_token(int argc, char **argv);
static void usage_token(FILE *out);

static const struct command commands[] = {
    {"token", "get a session token for a user on this machine (cached, renewed or issued)",
     cmd_token, usage_token},
    {"admin", "vendor calls: customers, products, packs, licences, users, group keys, usage",
     cmd_admin, usage_admin},
    {"report-usage", "report usage under a licence (JSON or a gzip archive)", cmd_report_usage,
     usage_report_usage},
    /* licctl_keys.c, licctl_lease.c */
    {"get-key", "get this client's licence of a product (a seat, or a temporary licence)",
     cmd_get_key, usage_get_key},
    {"activate", "get an activation key with a group key, keeping the update password",
     cmd_activate, usage_activate},
    {"upgrade", "move a licence to a newer version (--check: only ask)", cmd_upgrade, usage_upgrade},
    {"lease", "hold a floating seat with heartbeats until SIGINT/SIGTERM", cmd_lease, usage_lease},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

void complain(const char *fmt, ...)
{
    va_list ap;
    fputs("licctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *out)
{
    fputs("usage: licctl COMMAND [OPTIONS]\n"
          "       licctl COMMAND --help\n\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fputs("\nLICD_URL and LICD_CUSTOMER_KEY stand in for --url and --customer-key,\n"
          "LICD_VENDOR_KEY for --vendor-key (licctl admin).\n"
          "Exit status: 0 full access (valid), 10 limited (intermediate),\n"
          "20 no access (invalid or refused), 1 any other error.\n"
          "  get-key   0 a permanent licence, 10 a temporary one, 20 refused\n"
          "  activate  0 activated, 20 refused (any 403 of licd)\n"
          "  upgrade   0 upgraded (--check: available), 20 refused (--check: not available)\n"
          "  lease     0 released after SIGINT/SIGTERM, 20 no seat (at checkout, or lost)\n",
          out);
}

/* --url and --customer-key, else their environment stand-ins; both required. */
int connect_client(const char *url, const char *key, licd_client **c)
{
    int rc;

    if (!url)
        url = getenv("LICD_URL");
    if (!key)
        key = getenv("LICD_CUSTOMER_KEY");
    if (!url || !*url || !key || !*key) {
        complain("%s is required (or %s)", !url || !*url ? "--url" : "--customer-key",
                 !url || !*url ? "LICD_URL" : "LICD_CUSTOMER_KEY");
        return EXIT_ERROR;
    }
    if ((rc = licd_client_new(url, key, c)) != LICD_CLIENT_OK) {
        if (rc == LICD_CLIENT_ERR_ARGS)
            complain("--url must start with http:// or https://, and no value may hold control characters");
        else
            complain("%s", licd_client_strerror(rc));
        return EXIT_ERROR;
    }
    return EXIT_VALID;
}

static int exit_for_state(licd_state s)
{
    switch (s) {
    case LICD_STATE_VALID:
        return EXIT_VALID;
    case LICD_STATE_INTERMEDIATE:
        return EXIT_LIMITED;
    case LICD_STATE_INVALID:
        break;
    }
    return EXIT_NO_ACCESS;
}

/* A refusal of licd (or of the cache flow) is "no access"; everything
 * else — network, arguments, I/O, a malformed answer — is an error. */
static int exit_for_error(const licd_client *c, int rc)
{
    static const char *const refusals[] = {"invalid_credentials", "renewal_refused",
                                           "machine_limit_reached", "user_revoked"};
    const char *code = licd_client_problem_code(c);

    if (rc == LICD_CLIENT_ERR_NEED_PASSWORD)
        return EXIT_NO_ACCESS;
    for (size_t i = 0; rc == LICD_CLIENT_ERR_HTTP && code && i < sizeof refusals / sizeof *refusals; i++)
        if (strcmp(code, refusals[i]) == 0)
            return EXIT_NO_ACCESS;
    return EXIT_ERROR;
}

void format_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, cap, "%lld", (long long)t);
}

/* ---- licctl token ---- */

static void usage_token(FILE *out)
{
    fputs("usage: licctl token --url URL --customer-key KEY --user NAME [--machine ID]\n"
          "                    --product P[,P...] [--password-stdin] [--cache-dir DIR] [--json]\n\n"
          "Prints the licence state and features a session token grants USER on this\n"
          "machine for the products: the cached token when it still verifies offline\n"
          "(signature against the cached JWKS, user, machine, products, expiry), else\n"
          "a renewal of the cached token, else a new token for the password read from\n"
          "standard input (one line) when --password-stdin is given. When licd cannot\n"
          "be reached, a cached token that still verifies is used.\n\n"
          "  --url URL            licd's address (default: $LICD_URL)\n"
          "  --customer-key KEY   the customer's key (default: $LICD_CUSTOMER_KEY)\n"
          "  --user NAME          the user to sign in\n"
          "  --machine ID         this machine's id (default: /etc/machine-id)\n"
          "  --product P[,P...]   the products the token must cover (repeatable)\n"
          "  --password-stdin     read the password from standard input if needed\n"
          "  --cache-dir DIR      token cache, created mode 0700\n"
          "                       (default: $XDG_CACHE_HOME/licd or ~/.cache/licd)\n"
          "  --json               print one JSON object:\n"
          "                       {\"license_state\",\"features\",\"expires_at\",\"source\"}\n"
          "                       source being cache, renewed or issued\n\n"
          "Exit status: 0 valid (full access), 10 intermediate (limited), 20 no access\n"
          "(state invalid, wrong password, machine limit reached, user revoked, or\n"
          "without --password-stdin: renewal refused or no cached token), 1 any other\n"
          "error (licd unreachable with no usable cached token, bad arguments, I/O).\n",
          out);
}

struct password_source {
    int declined; /* stdin gave no password */
};

/* One line of standard input, without its line ending. */
static int password_from_stdin(void *arg, char *buf, size_t cap)
{
    struct password_source *ps = arg;
    size_t n;

    if (!fgets(buf, (int)cap, stdin) || !(n = strcspn(buf, "\r\n")) ||
        (buf[n] == '\0' && n == cap - 1)) {
        ps->declined = 1;
        return 1;
    }
    buf[n] = '\0';
    return 0;
}

/* Splits each --product value at commas into list (pointers into the
 * values), dropping repeats; 0 on an empty name or too many. */
static int add_products(char *value, const char **list, size_t *n)
{
    char *save = NULL;

    if (!*value || value[0] == ',' || value[strlen(value) - 1] == ',' || strstr(value, ",,"))
        return 0;
    for (char *p = strtok_r(value, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < *n && strcmp(list[i], p) != 0; i++)
            ;
        if (i < *n)
            continue;
        if (*n == MAX_PRODUCTS)
            return 0;
        list[(*n)++] = p;
    }
    return 1;
}

static int print_token(const licd_token *t, licd_token_source source, int json)
{
    char expires[64];
    cJSON *features = cJSON_Parse(t->features_json), *out = NULL;
    const cJSON *product, *f;
    char *text = NULL;
    int rc = EXIT_ERROR;

    format_time(t->expires_at, expires, sizeof expires);
    if (!features)
        goto out;
    if (json) {
        if (!(out = cJSON_CreateObject()) ||
            !cJSON_AddStringToObject(out, "license_state", licd_state_name(t->state)) ||
            !cJSON_AddItemReferenceToObject(out, "features", features) ||
            !cJSON_AddStringToObject(out, "expires_at", expires) ||
            !cJSON_AddStringToObject(out, "source", licd_token_source_name(source)) ||
            !(text = cJSON_PrintUnformatted(out)))
            goto out;
        puts(text);
    } else {
        printf("license state: %s\n", licd_state_name(t->state));
        cJSON_ArrayForEach(product, features) {
            printf("features:      %s:", product->string);
            cJSON_ArrayForEach(f, product)
                printf("%s%s", f == product->child ? " " : ", ", cJSON_IsString(f) ? f->valuestring : "?");
            printf("%s\n", product->child ? "" : " (none)");
        }
        printf("expires at:    %s\nsource:        %s\n", expires, licd_token_source_name(source));
    }
    rc = fflush(stdout) == 0 ? exit_for_state(t->state) : EXIT_ERROR;
out:
    if (rc == EXIT_ERROR)
        complain("cannot print the token's claims");
    cJSON_free(text);
    cJSON_Delete(out);
    cJSON_Delete(features);
    return rc;
}

static int cmd_token(int argc, char **argv)
{
    enum { OPT_URL = 256, OPT_KEY, OPT_USER, OPT_MACHINE, OPT_PRODUCT, OPT_PASSWORD, OPT_CACHE, OPT_JSON };
    static const struct option options[] = {
        {"url", required_argument, NULL, OPT_URL},
        {"customer-key", required_argument, NULL, OPT_KEY},
        {"user", required_argument, NULL, OPT_USER},
        {"machine", required_argument, NULL, OPT_MACHINE},
        {"product", required_argument, NULL, OPT_PRODUCT},
        {"password-stdin", no_argument, NULL, OPT_PASSWORD},
        {"cache-dir", required_argument, NULL, OPT_CACHE},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *key = NULL, *user = NULL, *products[MAX_PRODUCTS];
    char *values[MAX_PRODUCTS] = {0}, *machine = NULL, *cache_dir = NULL;
    size_t nproducts = 0, nvalues = 0;
    int opt, json = 0, use_stdin = 0, rc = EXIT_ERROR, lc;
    struct password_source ps = {0};
    licd_client *c = NULL;
    licd_token t = {0};
    licd_token_source source;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case OPT_URL: url = optarg; break;
        case OPT_KEY: key = optarg; break;
        case OPT_USER: user = optarg; break;
        case OPT_MACHINE:
            free(machine);
            if (!(machine = strdup(optarg)))
                goto nomem;
            break;
        case OPT_PRODUCT:
            if (nvalues == MAX_PRODUCTS)
                goto too_many;
            if (!(values[nvalues] = strdup(optarg)))
                goto nomem;
            if (!add_products(values[nvalues++], products, &nproducts))
                goto too_many;
            break;
        case OPT_PASSWORD: use_stdin = 1; break;
        case OPT_CACHE:
            free(cache_dir);
            if (!(cache_dir = strdup(optarg)))
                goto nomem;
            break;
        case OPT_JSON: json = 1; break;
        case 'h':
            usage_token(stdout);
            rc = EXIT_VALID;
            goto out;
        default:
            complain("token: unknown option or missing value: %s (see licctl token --help)",
                     argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        complain("token: unexpected argument %s (see licctl token --help)", argv[optind]);
        goto out;
    }
    if (!user || !*user || nproducts == 0) {
        complain("token: %s is required (see licctl token --help)", !user || !*user ? "--user" : "--product");
        goto out;
    }
    if (!machine && (lc = licd_machine_id(&machine)) != LICD_CLIENT_OK) {
        complain("cannot read this machine's id from /etc/machine-id (%s): give --machine",
                 licd_client_strerror(lc));
        goto out;
    }
    if (!cache_dir && (lc = licd_cache_default_dir(&cache_dir)) != LICD_CLIENT_OK) {
        complain("no cache folder (%s): give --cache-dir", licd_client_strerror(lc));
        goto out;
    }
    if (!*machine || !*cache_dir) {
        complain("token: %s must not be empty", !*machine ? "--machine" : "--cache-dir");
        goto out;
    }
    if ((rc = connect_client(url, key, &c)) != EXIT_VALID)
        goto out;
    {
        licd_token_scope scope = {user, machine, products, nproducts};
        lc = licd_client_token_obtain(c, &scope, cache_dir, use_stdin ? password_from_stdin : NULL,
                                      &ps, &t, &source);
    }
    if (lc == LICD_CLIENT_OK) {
        rc = print_token(&t, source, json);
    } else {
        complain("%s", *licd_client_error(c) ? licd_client_error(c) : licd_client_strerror(lc));
        rc = ps.declined ? EXIT_ERROR : exit_for_error(c, lc);
    }
    goto out;
too_many:
    complain("token: --product takes up to %d distinct, non-empty names", MAX_PRODUCTS);
    goto out;
nomem:
    complain("out of memory");
out:
    licd_token_clear(&t);
    licd_client_free(c);
    for (size_t i = 0; i < nvalues; i++)
        free(values[i]);
    free(machine);
    free(cache_dir);
    return rc;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    int rc = EXIT_ERROR;

    if (!name) {
        usage(stderr);
        return EXIT_ERROR;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        for (size_t i = 0; argc > 2 && i < NCOMMANDS; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                commands[i].usage(stdout);
                return EXIT_VALID;
            }
        usage(stdout);
        return EXIT_VALID;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            complain("cannot initialise libcurl");
            return EXIT_ERROR;
        }
        rc = commands[i].run(argc - 1, argv + 1);
        curl_global_cleanup();
        return rc;
    }
    complain("unknown command %s (see licctl --help)", name);
    return EXIT_ERROR;
}
