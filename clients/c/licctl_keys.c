/* licctl get-key (a pack licence, answering a platform challenge from the
 * client image), licctl activate (a group activation with the update
 * password kept in the cache) and licctl upgrade; and the option parser
 * these and licctl lease share. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "licctl_cmds.h"
#include "licctl_keys.h"
#include "licd_client.h"

static const struct {
    const char *name;
    int has_arg;
} names[K_COUNT] = {
    [K_URL] = {"url", 1},           [K_KEY] = {"customer-key", 1},  [K_PRODUCT] = {"product", 1},
    [K_CLIENT] = {"client", 1},     [K_IMAGE] = {"image", 1},       [K_SOFTWARE] = {"software-id", 1},
    [K_VERSION] = {"version", 1},   [K_PLATFORM] = {"platform", 1}, [K_JSON] = {"json", 0},
    [K_GROUP_KEY] = {"group-key", 1}, [K_SCHEME] = {"scheme", 1},   [K_APP] = {"app", 1},
    [K_NODE] = {"node", 1},         [K_CONTAINER] = {"container", 1}, [K_IP] = {"ip", 1},
    [K_DOMAIN] = {"domain", 1},     [K_CACHE] = {"cache-dir", 1},   [K_LICENSE_FILE] = {"license-file", 1},
    [K_LICENSE] = {"license", 1},   [K_TARGET] = {"target", 1},     [K_CHECK] = {"check", 0},
    [K_SERVERS] = {"servers", 1},   [K_BORROW] = {"borrow", 1},     [K_BORROWED] = {"borrowed", 0},
    [K_RETURN] = {"return", 0},     [K_HELP] = {"help", 0},
};

int keys_parse(const char *cmd, int argc, char **argv, uint32_t allowed, uint32_t required,
               const char *v[K_COUNT], void (*usage)(FILE *))
{
    struct option table[K_COUNT + 1];
    size_t n = 0;
    int opt;

    memset(v, 0, K_COUNT * sizeof *v);
    for (int k = 0; k < K_COUNT; k++)
        if (allowed & KBIT(k) || k == K_HELP)
            table[n++] = (struct option){names[k].name, names[k].has_arg ? required_argument : no_argument,
                                         NULL, 256 + k};
    table[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+h", table, NULL)) != -1) {
        if (opt == 'h' || opt == 256 + K_HELP) {
            usage(stdout);
            return 1;
        }
        if (opt < 256) {
            complain("%s: unknown option or missing value: %s (see licctl %s --help)", cmd, argv[optind - 1],
                     cmd);
            return -1;
        }
        v[opt - 256] = optarg ? optarg : "";
    }
    if (optind < argc) {
        complain("%s: unexpected argument %s (see licctl %s --help)", cmd, argv[optind], cmd);
        return -1;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (required & KBIT(k) && (!v[k] || !*v[k])) {
            complain("%s: --%s is required (see licctl %s --help)", cmd, names[k].name, cmd);
            return -1;
        }
    return 0;
}

int keys_fail(const licd_client *c, int rc, const char *const *refusals)
{
    const char *code = licd_client_problem_code(c);

    complain("%s", *licd_client_error(c) ? licd_client_error(c) : licd_client_strerror(rc));
    for (; rc == LICD_CLIENT_ERR_HTTP && code && refusals && *refusals; refusals++)
        if (strcmp(code, *refusals) == 0)
            return EXIT_NO_ACCESS;
    return EXIT_ERROR;
}

int keys_print(cJSON *o, int json)
{
    const cJSON *m;
    char *text = NULL;
    int ok = 1;

    if (json) {
        ok = (text = cJSON_PrintUnformatted(o)) != NULL && puts(text) >= 0;
        cJSON_free(text);
    } else {
        cJSON_ArrayForEach(m, o) {
            if (strcmp(m->string, "license") == 0)
                continue;
            printf("%s: %s\n", m->string,
                   cJSON_IsString(m) ? m->valuestring
                   : cJSON_IsTrue(m) ? "yes"
                   : cJSON_IsFalse(m) ? "no"
                   : cJSON_IsNull(m) ? (strcmp(m->string, "expires_at") == 0 ? "never" : "none")
                                     : "?");
        }
    }
    if (!ok || fflush(stdout) != 0) {
        complain("cannot print the answer");
        return 0;
    }
    return 1;
}

/* {"license","license_id","expires_at"} (expires_at null when it never
 * expires), for the caller to add to. */
static cJSON *license_object(const licd_license *l)
{
    cJSON *o = cJSON_CreateObject();
    char expires[64];

    format_time(l->expires_at, expires, sizeof expires);
    if (!o || !cJSON_AddStringToObject(o, "license", l->jwt) ||
        !cJSON_AddStringToObject(o, "license_id", l->license_id) ||
        !(l->expires_at == LICD_LICENSE_NO_EXPIRY ? cJSON_AddNullToObject(o, "expires_at")
                                                   : cJSON_AddStringToObject(o, "expires_at", expires))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds name (a string, or null when value is NULL). */
static int add_string_or_null(cJSON *o, const char *name, const char *value)
{
    return value ? cJSON_AddStringToObject(o, name, value) != NULL : cJSON_AddNullToObject(o, name) != NULL;
}

/* ---- licctl get-key ---- */

void usage_get_key(FILE *out)
{
    fputs("usage: licctl get-key --url URL --customer-key KEY --product P --client ID\n"
          "                      [--image FILE --software-id S] [--version V] [--platform P] [--json]\n\n"
          "Gets this client's licence of a product from the customer's packs: the one it\n"
          "holds, a new seat, or its one temporary licence when no seat is free. When\n"
          "the product asks for a platform challenge, --image answers it: the response\n"
          "hex(SHA-256(nonce + image + nonce)) is computed and the request sent once\n"
          "more. The licence is verified against licd's JWKS before it is printed.\n\n"
          "  --url URL            licd's address (default: $LICD_URL)\n"
          "  --customer-key KEY   the customer's key (default: $LICD_CUSTOMER_KEY)\n"
          "  --product P          the product's code\n"
          "  --client ID          this client's id\n"
          "  --image FILE         the client's image (the build it runs), for a challenge\n"
          "  --software-id S      the image's software id (needed with --image)\n"
          "  --version V          the version wanted (default: the product's)\n"
          "  --platform P         windows, non_windows, legacy, direct_connect or any\n"
          "  --json               print one JSON object:\n"
          "                       {\"license\",\"license_id\",\"pack_id\",\"expires_at\",\"temporary\"}\n\n"
          "Exit status: 0 a permanent licence, 10 a temporary licence (no seat was free),\n"
          "20 refused (license_blocked, no_matching_pack, temporary_license_expired,\n"
          "challenge_failed, or challenge_required without --image), 1 any other error.\n",
          out);
}

int cmd_get_key(int argc, char **argv)
{
    static const char *const refusals[] = {"license_blocked", "no_matching_pack", "temporary_license_expired",
                                           "challenge_failed", "challenge_required", NULL};
    const char *v[K_COUNT];
    licd_client *c = NULL;
    licd_license l = {0};
    cJSON *o = NULL;
    int rc = keys_parse("get-key", argc, argv,
                        KBIT(K_URL) | KBIT(K_KEY) | KBIT(K_PRODUCT) | KBIT(K_CLIENT) | KBIT(K_IMAGE) |
                            KBIT(K_SOFTWARE) | KBIT(K_VERSION) | KBIT(K_PLATFORM) | KBIT(K_JSON),
                        KBIT(K_PRODUCT) | KBIT(K_CLIENT), v, usage_get_key);

    if (rc != 0)
        return rc > 0 ? EXIT_VALID : EXIT_ERROR;
    if (v[K_IMAGE] && (!v[K_SOFTWARE] || !*v[K_SOFTWARE])) {
        complain("get-key: --image needs --software-id (see licctl get-key --help)");
        return EXIT_ERROR;
    }
    if (connect_client(v[K_URL], v[K_KEY], &c) != EXIT_VALID)
        return EXIT_ERROR;
    {
        licd_key_request r = {v[K_PRODUCT], v[K_CLIENT], v[K_VERSION], v[K_PLATFORM], v[K_SOFTWARE], v[K_IMAGE]};
        rc = licd_client_get_key(c, &r, &l);
    }
    if (rc != LICD_CLIENT_OK) {
        rc = keys_fail(c, rc, refusals);
    } else if (!(o = license_object(&l)) || !add_string_or_null(o, "pack_id", l.pack_id) ||
               !cJSON_AddBoolToObject(o, "temporary", l.temporary) || !keys_print(o, v[K_JSON] != NULL)) {
        rc = EXIT_ERROR;
    } else {
        rc = l.temporary ? EXIT_LIMITED : EXIT_VALID;
    }
    cJSON_Delete(o);
    licd_license_clear(&l);
    licd_client_free(c);
    return rc;
}

/* ---- licctl activate ---- */

void usage_activate(FILE *out)
{
    fputs("usage: licctl activate --url URL --group-key K --scheme S --product P --app ID\n"
          "                       [--node N] [--container ID] [--ip IP] [--domain D]\n"
          "                       [--cache-dir DIR] [--json]\n\n"
          "Gets an activation key for application ID on node N with the group key of\n"
          "its container manager. Each answer carries a new update password, kept in\n"
          "the cache for the next run (one file per key, node and app, mode 0600) and\n"
          "presented then; a password presented twice shows licd a copy (clone) of\n"
          "the application. With no password for this node, the newest one of the\n"
          "same key and app from another node is presented (the app moved, or was\n"
          "copied, with its cache). Give each application instance a cache of its own.\n\n"
          "  --url URL            licd's address (default: $LICD_URL)\n"
          "  --group-key K        the group key (no customer key is needed)\n"
          "  --scheme S           the licensing scheme the key is for\n"
          "  --product P          the product's code\n"
          "  --app ID             the application's id\n"
          "  --node N             the node it runs on (default: licd's \"default\")\n"
          "  --container ID       its container, --domain its DNS name (the key's link\n"
          "                       may need one of them; an ip_range link looks at the\n"
          "                       address the request comes from)\n"
          "  --ip IP              the address it claims, kept by licd as evidence only\n"
          "  --cache-dir DIR      the cache, created mode 0700\n"
          "                       (default: $XDG_CACHE_HOME/licd or ~/.cache/licd)\n"
          "  --json               print one JSON object: {\"license\",\"license_id\",\n"
          "                       \"expires_at\",\"app_id\",\"node_id\",\"presented\"}\n\n"
          "Exit status: 0 activated, 20 refused (any 403: unknown_group_key,\n"
          "group_key_revoked, group_key_expired, scheme_mismatch, product_not_in_group,\n"
          "link_mismatch, quota_exceeded, license_blocked, over_limit,\n"
          "update_password_unknown), 1 any other error.\n",
          out);
}

int cmd_activate(int argc, char **argv)
{
    static const char *const refusals[] = {"unknown_group_key", "group_key_revoked", "group_key_expired",
                                           "scheme_mismatch", "product_not_in_group", "link_mismatch",
                                           "quota_exceeded", "license_blocked", "over_limit",
                                           "update_password_unknown", NULL};
    const char *v[K_COUNT];
    char *cache_dir = NULL;
    licd_client *c = NULL;
    licd_license l = {0};
    cJSON *o = NULL;
    int presented = 0, lc;
    int rc = keys_parse("activate", argc, argv,
                        KBIT(K_URL) | KBIT(K_GROUP_KEY) | KBIT(K_SCHEME) | KBIT(K_PRODUCT) | KBIT(K_APP) |
                            KBIT(K_NODE) | KBIT(K_CONTAINER) | KBIT(K_IP) | KBIT(K_DOMAIN) | KBIT(K_CACHE) |
                            KBIT(K_JSON),
                        KBIT(K_GROUP_KEY) | KBIT(K_SCHEME) | KBIT(K_PRODUCT) | KBIT(K_APP), v, usage_activate);

    if (rc != 0)
        return rc > 0 ? EXIT_VALID : EXIT_ERROR;
    rc = EXIT_ERROR;
    if (v[K_CACHE] ? !(cache_dir = strdup(v[K_CACHE])) : (lc = licd_cache_default_dir(&cache_dir)) != 0) {
        complain("no cache folder: give --cache-dir");
        goto out;
    }
    if (connect_to(v[K_URL], 0, NULL, &c) != EXIT_VALID)
        goto out;
    {
        licd_activation_request r = {v[K_GROUP_KEY], v[K_SCHEME], v[K_PRODUCT], v[K_APP],
                                     v[K_NODE],      v[K_CONTAINER], v[K_IP],    v[K_DOMAIN]};
        lc = licd_client_activate_cached(c, &r, cache_dir, &l, &presented);
    }
    /* A cache that could not be written still leaves the granted key to print. */
    if (lc != LICD_CLIENT_OK)
        rc = keys_fail(c, lc, refusals);
    if (l.jwt && (!(o = license_object(&l)) || !cJSON_AddStringToObject(o, "app_id", l.client_id) ||
                  !add_string_or_null(o, "node_id", l.node_id) ||
                  !cJSON_AddBoolToObject(o, "presented", presented) || !keys_print(o, v[K_JSON] != NULL)))
        rc = EXIT_ERROR;
    else if (lc == LICD_CLIENT_OK)
        rc = EXIT_VALID;
out:
    cJSON_Delete(o);
    licd_license_clear(&l);
    licd_client_free(c);
    free(cache_dir);
    return rc;
}

/* ---- licctl upgrade ---- */

void usage_upgrade(FILE *out)
{
    fputs("usage: licctl upgrade --url URL --customer-key KEY (--license-file F | --license JWT)\n"
          "                      --target V [--check] [--json]\n\n"
          "Moves a licence to version V by consuming a seat of an upgrade pack, and\n"
          "prints the new licence (verified against licd's JWKS). With --check, only\n"
          "asks whether that upgrade is available.\n\n"
          "  --url URL            licd's address (default: $LICD_URL)\n"
          "  --customer-key KEY   the customer's key (default: $LICD_CUSTOMER_KEY)\n"
          "  --license-file F     the licence: its JWT, or the JSON get-key --json printed\n"
          "  --license JWT        the licence itself\n"
          "  --target V           the version to move to\n"
          "  --check              only ask: {\"available\",\"supported\",\"reason\",...}\n"
          "  --json               print one JSON object: {\"license\",\"license_id\",\n"
          "                       \"expires_at\",\"version\"}\n\n"
          "Exit status: 0 upgraded (--check: available), 20 refused (no_upgrade_available,\n"
          "license_blocked; --check: not available), 1 any other error.\n",
          out);
}

static int upgrade_check(licd_client *c, const char *license, const char *target, int json)
{
    licd_upgrade_check u = {0};
    cJSON *o = NULL;
    int rc = licd_client_is_upgrade_available(c, license, target, &u);

    if (rc != LICD_CLIENT_OK)
        return keys_fail(c, rc, NULL);
    rc = EXIT_ERROR;
    if ((o = cJSON_CreateObject()) && cJSON_AddBoolToObject(o, "available", u.available) &&
        cJSON_AddBoolToObject(o, "supported", u.supported) && cJSON_AddStringToObject(o, "reason", u.reason) &&
        add_string_or_null(o, "license_id", u.license_id) &&
        add_string_or_null(o, "from_version", u.from_version) &&
        cJSON_AddStringToObject(o, "target_version", target) && keys_print(o, json))
        rc = u.available ? EXIT_VALID : EXIT_NO_ACCESS;
    cJSON_Delete(o);
    licd_upgrade_check_clear(&u);
    return rc;
}

int cmd_upgrade(int argc, char **argv)
{
    static const char *const refusals[] = {"no_upgrade_available", "license_blocked", NULL};
    const char *v[K_COUNT];
    char *license = NULL;
    licd_client *c = NULL;
    licd_license l = {0};
    cJSON *o = NULL;
    int rc = keys_parse("upgrade", argc, argv,
                        KBIT(K_URL) | KBIT(K_KEY) | KBIT(K_LICENSE_FILE) | KBIT(K_LICENSE) | KBIT(K_TARGET) |
                            KBIT(K_CHECK) | KBIT(K_JSON),
                        KBIT(K_TARGET), v, usage_upgrade);

    if (rc != 0)
        return rc > 0 ? EXIT_VALID : EXIT_ERROR;
    rc = EXIT_ERROR;
    if (!v[K_LICENSE_FILE] == !v[K_LICENSE]) {
        complain("upgrade: give --license-file or --license, one of them (see licctl upgrade --help)");
        goto out;
    }
    if (v[K_LICENSE] ? !(license = strdup(v[K_LICENSE])) : !(license = read_license(v[K_LICENSE_FILE])))
        goto out;
    if (connect_client(v[K_URL], v[K_KEY], &c) != EXIT_VALID)
        goto out;
    if (v[K_CHECK]) {
        rc = upgrade_check(c, license, v[K_TARGET], v[K_JSON] != NULL);
        goto out;
    }
    if ((rc = licd_client_upgrade(c, license, v[K_TARGET], &l)) != LICD_CLIENT_OK)
        rc = keys_fail(c, rc, refusals);
    else if (!(o = license_object(&l)) || !add_string_or_null(o, "version", l.version) ||
             !keys_print(o, v[K_JSON] != NULL))
        rc = EXIT_ERROR;
    else
        rc = EXIT_VALID;
out:
    cJSON_Delete(o);
    licd_license_clear(&l);
    licd_client_free(c);
    free(license);
    return rc;
}
