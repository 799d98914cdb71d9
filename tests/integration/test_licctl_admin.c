/* licctl admin and licctl report-usage end to end: the real command
 * (LICD_LICCTL) against the real licd, each test with a vendor of its own:
 * a vendor's whole day through every admin subcommand, refusals (exit 20),
 * errors (exit 1), and usage reported as JSON and as gzip. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PASSWORD "correct horse 8"

/* The vendor of the test, a scratch folder, and licctl's last answer. */
struct vendor {
    char *key;
    char *dir;
    int status;  /* licctl's exit status */
    char *out;   /* its stdout */
    char *err;   /* its stderr */
    cJSON *json; /* stdout parsed, when it is JSON */
};

static void vendor_init(struct vendor *v)
{
    memset(v, 0, sizeof *v);
    v->key = it_new_vendor("Admin Vendor");
    v->dir = it_tmpdir();
}

static void vendor_free(struct vendor *v)
{
    free(v->key);
    free(v->out);
    free(v->err);
    cJSON_Delete(v->json);
    it_rmdir(v->dir);
}

/* text into the file dir/name; returns its path (static until the next call). */
static const char *put_file(const struct vendor *v, const char *name, const char *text)
{
    static char path[600];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", v->dir, name);
    f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fputs(text, f) >= 0 && fclose(f) == 0, 1);
    return path;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;
    cr_assert(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    cr_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return buf;
}

/* licctl with the words (printf-style) under an environment without
 * LICD_URL and LICD_VENDOR_KEY (env adds NAME=VALUE words), input (or
 * nothing) on its standard input. Keeps the answer in v; a sanitizer
 * report fails the test. */
static int licctl_env(struct vendor *v, const char *env, const char *input, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int licctl_env(struct vendor *v, const char *env, const char *input, const char *fmt, ...)
{
    char words[4096], errfile[600], infile[600], cmd[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(words, sizeof words, fmt, ap);
    va_end(ap);
    snprintf(errfile, sizeof errfile, "%s/licctl.err", v->dir);
    snprintf(infile, sizeof infile, "%s", input ? put_file(v, "licctl.in", input) : "/dev/null");
    snprintf(cmd, sizeof cmd, "env -u LICD_URL -u LICD_VENDOR_KEY %s '%s' %s <'%s' 2>'%s'",
             env ? env : "", it_env("LICD_LICCTL"), words, infile, errfile);
    free(v->out);
    free(v->err);
    cJSON_Delete(v->json);
    v->status = it_sh(cmd, &v->out);
    v->err = read_all(errfile);
    v->json = cJSON_Parse(v->out);
    cr_assert(!strstr(v->err, "Sanitizer") && !strstr(v->err, "runtime error"), "licctl %s: %s",
              words, v->err);
    return v->status;
}

/* licctl admin WORDS --url <licd> --vendor-key <the vendor's>, expecting
 * exit status 0 and, with --json among the words, one JSON object. */
static cJSON *admin_ok(struct vendor *v, const char *input, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cJSON *admin_ok(struct vendor *v, const char *input, const char *fmt, ...)
{
    char words[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(words, sizeof words, fmt, ap);
    va_end(ap);
    cr_assert_eq(licctl_env(v, NULL, input, "admin %s --url '%s' --vendor-key '%s'", words, it_url(), v->key),
                 0, "licctl admin %s: exit %d: %s", words, v->status, v->err);
    cr_assert(!strstr(words, "--json") || cJSON_IsObject(v->json), "licctl admin %s printed: %s", words,
              v->out);
    return v->json;
}

/* licctl admin WORDS against the test's licd, expecting a refusal: exit
 * status 20, "licctl: code: detail" on stderr, nothing on stdout. */
static void admin_refused(struct vendor *v, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void admin_refused(struct vendor *v, const char *code, const char *fmt, ...)
{
    char words[4096], prefix[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(words, sizeof words, fmt, ap);
    va_end(ap);
    licctl_env(v, NULL, NULL, "admin %s --url '%s' --vendor-key '%s'", words, it_url(), v->key);
    snprintf(prefix, sizeof prefix, "licctl: %s: ", code);
    cr_assert_eq(v->status, 20, "licctl admin %s: exit %d, stderr %s", words, v->status, v->err);
    cr_assert(strncmp(v->err, prefix, strlen(prefix)) == 0 && strlen(v->err) > strlen(prefix) + 1,
              "licctl admin %s: stderr %s", words, v->err);
    cr_assert_str_eq(v->out, "", "licctl admin %s printed %s", words, v->out);
}

static const char *str_of(const cJSON *o, const char *name) { return it_member_str(o, name); }

static double num_of(const cJSON *o, const char *name)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsNumber(n), "%s is not a number", name);
    return n->valuedouble;
}

static int bool_of(const cJSON *o, const char *name)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsBool(b), "%s is not a boolean", name);
    return cJSON_IsTrue(b);
}

static const cJSON *items_of(const cJSON *list)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    cr_assert(cJSON_IsArray(items), "not a list");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(list, "next")), "next is not null");
    return items;
}

/* A pack licence for client through the API (customer key), as licd answers. */
static long get_key(const char *customer_key, const char *client, char *license_id, char **jwt)
{
    it_response r;
    long status;
    it_postf("/v1/get_key", customer_key, &r, "{\"product\":\"app\",\"client_id\":\"%s\"}", client);
    status = r.status;
    if (license_id && it_str(&r, "license_id"))
        snprintf(license_id, 32, "%s", it_str(&r, "license_id"));
    if (jwt)
        *jwt = strdup(r.body);
    it_response_free(&r);
    return status;
}

/* An activation with the group key; *password gets the update password. */
static long activate(const char *group_key, const char *node, const char *password, char *next)
{
    it_response r;
    long status;
    it_postf("/v1/get_key", NULL, &r,
             "{\"group_key\":\"%s\",\"scheme\":\"hosting\",\"product\":\"app\",\"app_id\":\"shop\","
             "\"node_id\":\"%s\"%s%s%s}",
             group_key, node, password ? ",\"update_password\":\"" : "", password ? password : "",
             password ? "\"" : "");
    status = r.status;
    if (next && it_str(&r, "update_password"))
        snprintf(next, 64, "%s", it_str(&r, "update_password"));
    it_response_free(&r);
    return status;
}

/* The session token licd issues ann on m-1 (its status; the state in state). */
static long sign_in(const char *customer_key, char *state)
{
    it_response r;
    long status;
    it_postf("/v1/tokens", customer_key, &r,
             "{\"username\":\"ann\",\"password\":\"%s\",\"machine_id\":\"m-1\",\"products\":[\"app\"]}",
             PASSWORD);
    status = r.status;
    if (state && it_str(&r, "license_state"))
        snprintf(state, 16, "%s", it_str(&r, "license_state"));
    it_response_free(&r);
    return status;
}

/* 1 when the list holds an audit entry of action on object_type. */
static int audited(const cJSON *items, const char *action, const char *object_type)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, items)
        if (!strcmp(str_of(e, "action"), action) && !strcmp(str_of(e, "object_type"), object_type))
            return 1;
    return 0;
}

Test(licctl_admin, a_vendor_day_through_every_subcommand)
{
    struct vendor v;
    char customer_id[64], customer_key[96], license_id[32], group_key[80], prefix[32], state[16];
    char pw1[64], pw2[64], clone_id[32];
    const cJSON *items, *item;
    cJSON *o;

    vendor_init(&v);

    /* customer create / list */
    o = admin_ok(&v, NULL, "customer create --name 'Flow Customer' --json");
    snprintf(customer_id, sizeof customer_id, "%s", str_of(o, "customer_id"));
    snprintf(customer_key, sizeof customer_key, "%s", str_of(o, "customer_key"));
    cr_assert_str_eq(str_of(o, "name"), "Flow Customer");
    admin_ok(&v, NULL, "customer list");
    cr_assert(strstr(v.out, "customer_id") && strstr(v.out, customer_id) && strstr(v.out, "Flow Customer"),
              "%s", v.out);
    items = items_of(admin_ok(&v, NULL, "customer list --json"));
    cr_assert_eq(cJSON_GetArraySize(items), 1);

    /* product create / show */
    o = admin_ok(&v, NULL, "product create --code app --name App --version 1 --features a,b --json");
    cr_assert_str_eq(str_of(o, "code"), "app");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "features")), 2);
    cr_assert_eq(bool_of(o, "require_challenge"), 0);
    admin_ok(&v, NULL, "product show app");
    cr_assert(strstr(v.out, "code") && strstr(v.out, "app") && strstr(v.out, "[\"a\",\"b\"]"), "%s", v.out);
    cr_assert_str_eq(str_of(admin_ok(&v, NULL, "product show app --json"), "version"), "1");
    items = items_of(admin_ok(&v, NULL, "product list --json"));
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(items, 0), "code"), "app");
    admin_ok(&v, NULL, "product list");
    cr_assert(strstr(v.out, "code") && strstr(v.out, "app") && strstr(v.out, "standard"), "%s", v.out);

    /* pack create / show, a licence from it, and the assignment listed */
    o = admin_ok(&v, NULL,
                 "pack create --customer %s --product app --version 1 --type per_device --quantity 2 "
                 "--pack-id PO-FLOW --platform any --json",
                 customer_id);
    cr_assert_str_eq(str_of(o, "pack_id"), "PO-FLOW");
    cr_assert_eq(num_of(o, "quantity"), 2);
    cr_assert_eq(num_of(o, "assigned"), 0);
    cr_assert_eq(get_key(customer_key, "host-1", license_id, NULL), 201);
    cr_assert_eq(num_of(admin_ok(&v, NULL, "pack show PO-FLOW --json"), "assigned"), 1);
    items = items_of(admin_ok(&v, NULL, "assignments --pack PO-FLOW --client host-1 --customer %s --json",
                              customer_id));
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    item = cJSON_GetArrayItem(items, 0);
    cr_assert_str_eq(str_of(item, "license_id"), license_id);
    cr_assert_str_eq(str_of(item, "client_id"), "host-1");
    admin_ok(&v, NULL, "assignments");
    cr_assert(strstr(v.out, "license_id") && strstr(v.out, "host-1") && strstr(v.out, "PO-FLOW"), "%s", v.out);
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "assignments --client nobody --json"))), 0);

    /* pack list / update */
    items = items_of(admin_ok(&v, NULL, "pack list --customer %s --product app --json", customer_id));
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cr_assert_eq(num_of(cJSON_GetArrayItem(items, 0), "assigned"), 1);
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "pack list --product other --json"))), 0);
    admin_ok(&v, NULL, "pack list");
    cr_assert(strstr(v.out, "pack_id") && strstr(v.out, "PO-FLOW") && strstr(v.out, "per_device"), "%s", v.out);
    o = admin_ok(&v, NULL, "pack update PO-FLOW --quantity 3 --expires 2099-01-01T00:00:00Z "
                           "--on-over-limit report --json");
    cr_assert_eq(num_of(o, "quantity"), 3);
    cr_assert_str_eq(str_of(o, "expires"), "2099-01-01T00:00:00Z");
    cr_assert_str_eq(str_of(o, "on_over_limit"), "report");
    o = admin_ok(&v, NULL, "pack update PO-FLOW --expires never --json");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "expires")), "%s", v.out);
    cr_assert_eq(get_key(customer_key, "host-2", NULL, NULL), 201);
    admin_refused(&v, "quantity_below_assigned", "pack update PO-FLOW --quantity 1");

    /* license deactivate: the seat is back, the client takes a new one */
    admin_ok(&v, NULL, "license deactivate %s", license_id);
    cr_assert_str_eq(v.out, "");
    cr_assert_eq(num_of(admin_ok(&v, NULL, "pack show PO-FLOW --json"), "assigned"), 1);
    cr_assert_eq(get_key(customer_key, "host-1", license_id, NULL), 201);

    /* license block / unblock, as get_key sees them */
    cr_assert_eq(bool_of(admin_ok(&v, NULL, "license block %s --json", license_id), "blocked"), 1);
    cr_assert_eq(get_key(customer_key, "host-1", NULL, NULL), 403);
    admin_ok(&v, NULL, "license unblock %s", license_id);
    cr_assert(strstr(v.out, "blocked") && strstr(v.out, "false"), "%s", v.out);
    cr_assert_eq(get_key(customer_key, "host-1", NULL, NULL), 200);

    /* user create / entitle / revoke, as POST /v1/tokens sees them */
    o = admin_ok(&v, PASSWORD "\n", "user create --customer %s --username ann --password-stdin --json",
                 customer_id);
    cr_assert_str_eq(str_of(o, "username"), "ann");
    cr_assert_eq(bool_of(o, "revoked"), 0);
    o = admin_ok(&v, NULL,
                 "user entitle --customer %s --username ann --product app --state intermediate "
                 "--features a --max-machines 2 --json",
                 customer_id);
    cr_assert_str_eq(str_of(o, "state"), "intermediate");
    cr_assert_eq(num_of(o, "max_machines"), 2);
    cr_assert_eq(sign_in(customer_key, state), 201, "the password went through stdin");
    cr_assert_str_eq(state, "intermediate");
    cr_assert_eq(bool_of(admin_ok(&v, NULL, "user revoke --customer %s --username ann --json", customer_id),
                         "revoked"), 1);
    cr_assert_eq(sign_in(customer_key, NULL), 403);

    /* group-key create / relink: the link binds, refuses another node, is emptied */
    o = admin_ok(&v, NULL,
                 "group-key create --customer %s --scheme hosting --products app --quota app=2 "
                 "--link-type node --json",
                 customer_id);
    snprintf(group_key, sizeof group_key, "%s", str_of(o, "group_key"));
    snprintf(prefix, sizeof prefix, "%s", str_of(o, "group_key_prefix"));
    cr_assert_eq(num_of(cJSON_GetObjectItem(o, "quota_per_node"), "app"), 2);
    cr_assert_eq(activate(group_key, "n1", NULL, NULL), 201);
    cr_assert_eq(activate(group_key, "n2", NULL, NULL), 403, "bound to n1");
    o = admin_ok(&v, NULL, "group-key relink %s --json", prefix);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "link"), "value")));
    cr_assert(!cJSON_GetObjectItem(o, "group_key"), "the key is never shown again");
    cr_assert_eq(activate(group_key, "n2", NULL, pw1), 201);

    /* group-key list / show / update / revoke */
    items = items_of(admin_ok(&v, NULL, "group-key list --customer %s --json", customer_id));
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(items, 0), "group_key_prefix"), prefix);
    admin_ok(&v, NULL, "group-key list");
    cr_assert(strstr(v.out, prefix), "%s", v.out);
    o = admin_ok(&v, NULL, "group-key show %s --json", prefix);
    cr_assert_eq(num_of(o, "activations"), 2);
    o = admin_ok(&v, NULL,
                 "group-key update %s --quota app=3 --container-quota app=1 --on-over-limit report "
                 "--limits '{\"app\":{\"seats\":4}}' --json",
                 prefix);
    cr_assert_eq(num_of(cJSON_GetObjectItem(o, "quota_per_node"), "app"), 3);
    cr_assert_eq(num_of(cJSON_GetObjectItem(o, "quota_per_container"), "app"), 1);
    cr_assert_str_eq(str_of(o, "on_over_limit"), "report");
    admin_refused(&v, "invalid_field", "group-key update %s --quota web=1", prefix);
    admin_refused(&v, "not_found", "group-key show lg_000000000000");
    cr_assert_eq(bool_of(admin_ok(&v, NULL, "group-key revoke %s --json", prefix), "revoked"), 1);
    cr_assert_eq(activate(group_key, "n2", NULL, NULL), 403, "revoked");
    /* the clones below need a live key */
    o = admin_ok(&v, NULL,
                 "group-key create --customer %s --scheme hosting --products app --quota app=2 "
                 "--link-type node --link-value n2 --container-quota app=2 --on-over-limit refuse "
                 "--json",
                 customer_id);
    snprintf(group_key, sizeof group_key, "%s", str_of(o, "group_key"));
    snprintf(prefix, sizeof prefix, "%s", str_of(o, "group_key_prefix"));
    cr_assert_eq(activate(group_key, "n2", NULL, pw1), 201);

    /* clones: none; then a password presented twice; resolved */
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "clones --json"))), 0);
    admin_ok(&v, NULL, "clones");
    cr_assert(strstr(v.out, "(none)"), "%s", v.out);
    cr_assert_eq(activate(group_key, "n2", pw1, pw2), 201);
    cr_assert_eq(activate(group_key, "n2", pw1, NULL), 201, "a clone is still answered");
    items = items_of(admin_ok(&v, NULL, "clones --json"));
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    snprintf(clone_id, sizeof clone_id, "%s", str_of(cJSON_GetArrayItem(items, 0), "id"));
    admin_ok(&v, NULL, "clones");
    cr_assert(strstr(v.out, prefix) && strstr(v.out, "n2"), "%s", v.out);
    cr_assert_str_eq(str_of(admin_ok(&v, NULL, "clone resolve %s --action dismiss --json", clone_id), "status"),
                     "dismissed");
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "clones --json"))), 0);
    admin_refused(&v, "conflict", "clone resolve %s --action dismiss", clone_id);

    /* audit lists what was done */
    items = items_of(admin_ok(&v, NULL, "audit --json"));
    cr_assert(audited(items, "create", "customer") && audited(items, "create", "product") &&
              audited(items, "create", "pack") && audited(items, "update", "pack") &&
              audited(items, "deactivate", "license") && audited(items, "block", "license") &&
              audited(items, "unblock", "license") && audited(items, "create", "user") &&
              audited(items, "entitle", "user") && audited(items, "revoke", "user") &&
              audited(items, "create", "group_key") && audited(items, "relink", "group_key") &&
              audited(items, "update", "group_key") && audited(items, "revoke", "group_key") &&
              audited(items, "resolve", "update_password"),
              "audit: %s", v.out);
    admin_ok(&v, NULL, "audit");
    cr_assert(strstr(v.out, "relink") && strstr(v.out, "object_type"), "%s", v.out);
    vendor_free(&v);
}

/* Operating users and rotating keys, as a vendor script would: users
 * listed and shown, a machine's slot freed, a revocation lifted, the
 * customer's and the vendor's keys rotated. */
Test(licctl_admin, users_machines_and_key_rotation)
{
    struct vendor v;
    char customer_id[64], customer_key[80];
    const cJSON *items;
    cJSON *o;

    vendor_init(&v);
    o = admin_ok(&v, NULL, "customer create --name 'Desk Hoster' --json");
    snprintf(customer_id, sizeof customer_id, "%s", str_of(o, "customer_id"));
    snprintf(customer_key, sizeof customer_key, "%s", str_of(o, "customer_key"));
    admin_ok(&v, NULL, "product create --code app --name App --version 1");
    admin_ok(&v, PASSWORD "\n", "user create --customer %s --username ann --password-stdin", customer_id);
    admin_ok(&v, NULL, "user entitle --customer %s --username ann --product app --state valid --max-machines 1",
             customer_id);
    cr_assert_eq(sign_in(customer_key, NULL), 201);

    items = items_of(admin_ok(&v, NULL, "user list --customer %s --json", customer_id));
    cr_assert_eq(cJSON_GetArraySize(items), 1);
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(items, 0), "username"), "ann");
    admin_ok(&v, NULL, "user list --customer %s", customer_id);
    cr_assert(strstr(v.out, "username") && strstr(v.out, "ann"), "%s", v.out);
    o = admin_ok(&v, NULL, "user show --customer %s --username ann --json", customer_id);
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "machines"), 0), "machine_id"), "m-1");
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "entitlements"), 0), "product"), "app");
    admin_ok(&v, NULL, "user show --customer %s --username ann", customer_id);
    cr_assert(strstr(v.out, "token_expires_at") && strstr(v.out, "m-1"), "%s", v.out);

    /* machine free prints nothing; the slot is free, refusals are exit 20. */
    admin_ok(&v, NULL, "machine free --customer %s --username ann --machine m-1", customer_id);
    cr_assert_str_eq(v.out, "");
    o = admin_ok(&v, NULL, "user show --customer %s --username ann --json", customer_id);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "machines")), 0);
    admin_refused(&v, "not_found", "machine free --customer %s --username ann --machine nowhere", customer_id);
    admin_refused(&v, "not_found", "user show --customer %s --username nobody", customer_id);

    /* revoke, then unrevoke */
    admin_ok(&v, NULL, "user revoke --customer %s --username ann", customer_id);
    cr_assert_eq(sign_in(customer_key, NULL), 403);
    cr_assert_eq(bool_of(admin_ok(&v, NULL, "user unrevoke --customer %s --username ann --json", customer_id),
                         "revoked"), 0);
    cr_assert_eq(sign_in(customer_key, NULL), 201);

    /* The customer's key, at once: the old one is refused, the new one works. */
    o = admin_ok(&v, NULL, "customer rotate-key %s --grace-s 0 --json", customer_id);
    cr_assert_str_eq(str_of(o, "customer_id"), customer_id);
    cr_assert_eq(sign_in(customer_key, NULL), 401);
    snprintf(customer_key, sizeof customer_key, "%s", str_of(o, "customer_key"));
    cr_assert_eq(sign_in(customer_key, NULL), 201);
    admin_refused(&v, "not_found", "customer rotate-key 00000000-0000-0000-0000-000000000000");

    /* The vendor's key: the old one keeps its day, until a rotation without grace. */
    {
        char *keys[3] = {v.key, NULL, NULL};
        o = admin_ok(&v, NULL, "vendor rotate-key --json");
        keys[1] = strdup(str_of(o, "api_key"));
        str_of(o, "previous_valid_until");
        admin_ok(&v, NULL, "customer list");
        v.key = keys[1];
        admin_ok(&v, NULL, "vendor rotate-key");
        cr_assert(strstr(v.out, "api_key") && strstr(v.out, "previous_valid_until"), "%s", v.out);
        o = admin_ok(&v, NULL, "vendor rotate-key --grace-s 0 --json");
        keys[2] = strdup(str_of(o, "api_key"));
        for (int i = 0; i < 2; i++) {
            v.key = keys[i];
            admin_refused(&v, "unauthorized", "customer list");
            free(keys[i]);
        }
        v.key = keys[2];
        cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "customer list --json"))), 1);
    }
    vendor_free(&v);
}

/* The same pack posted again is licd's 200: shown as it is; other fields
 * under its pack id are refused. */
Test(licctl_admin, a_pack_posted_again_is_shown_as_first_installed)
{
    struct vendor v;
    char customer_id[64];
    cJSON *o;

    vendor_init(&v);
    o = admin_ok(&v, NULL, "customer create --name C --json");
    snprintf(customer_id, sizeof customer_id, "%s", str_of(o, "customer_id"));
    admin_ok(&v, NULL, "product create --code app --name App --version 1");
    admin_ok(&v, NULL, "pack create --customer %s --product app --version 1 --type concurrent --quantity 5 "
                       "--pack-id P-1 --begin-serial 100 --expires 2099-01-01T00:00:00Z",
             customer_id);
    cr_assert(strstr(v.out, "begin_serial") && strstr(v.out, "100"), "%s", v.out);
    cr_assert_str_eq(v.err, "");
    o = admin_ok(&v, NULL, "pack create --customer %s --product app --version 1 --type concurrent --quantity 5 "
                           "--pack-id P-1 --begin-serial 100 --expires 2099-01-01T00:00:00Z --json",
                 customer_id);
    cr_assert_eq(num_of(o, "quantity"), 5);
    admin_ok(&v, NULL, "pack create --customer %s --product app --version 1 --type concurrent --quantity 5 "
                       "--pack-id P-1 --expires 2099-01-01T00:00:00Z",
             customer_id);
    cr_assert(strstr(v.err, "installed before"), "%s", v.err);
    admin_refused(&v, "conflict",
                  "pack create --customer %s --product app --version 1 --type concurrent --quantity 50 "
                  "--pack-id P-1 --expires 2099-01-01T00:00:00Z",
                  customer_id);
    cr_assert(strstr(v.err, "quantity"), "%s", v.err);
    cr_assert_eq(num_of(admin_ok(&v, NULL, "pack show P-1 --json"), "quantity"), 5);
    vendor_free(&v);
}

Test(licctl_admin, refusals_exit_20_with_the_problem_code)
{
    struct vendor v;
    char *real;

    vendor_init(&v);
    admin_ok(&v, NULL, "product create --code app --name App --version 1");
    admin_refused(&v, "conflict", "product create --code app --name Again --version 2");
    admin_refused(&v, "not_found", "product show nothing");
    admin_refused(&v, "not_found", "pack show nothing");
    admin_refused(&v, "not_found", "pack update nothing --quantity 2");
    admin_refused(&v, "invalid_field", "pack update nothing");
    admin_refused(&v, "not_found", "license deactivate 999999999");
    admin_refused(&v, "not_found", "license block 999999999");
    admin_refused(&v, "invalid_field", "clone resolve 1 --action maybe");
    admin_refused(&v, "invalid_field", "usage --license 1 --from yesterday");
    admin_refused(&v, "invalid_field",
                  "pack create --customer 00000000-0000-0000-0000-000000000000 --product app "
                  "--version 1 --type lots --quantity 1");

    /* Wrong vendor key: unauthorized, and nothing made. */
    real = v.key;
    v.key = strdup("lv_0000000000000000000000000000000000000000");
    admin_refused(&v, "unauthorized", "customer create --name Intruder");
    admin_refused(&v, "unauthorized", "customer list");
    free(v.key);
    v.key = real;
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "customer list --json"))), 0);
    vendor_free(&v);
}

Test(licctl_admin, licd_down_and_bad_arguments_exit_1)
{
    static const char *const bad[] = {
        "admin",
        "admin frobnicate",
        "admin customer",
        "admin customer delete",
        "admin customer create",                                  /* no --name */
        "admin customer create --name",                           /* no value */
        "admin customer create --name x --bogus",
        "admin customer create --name x extra",
        "admin product show",                                     /* no CODE */
        "admin product create --code c --name n",                 /* no --version */
        "admin pack create --customer c --product p --version 1 --type t --quantity many",
        "admin pack create --customer c --product p --version 1 --type t --quantity 1 --attributes '[1]'",
        "admin group-key create --customer c --scheme s --products a,,b --quota a=1 --link-type node",
        "admin group-key create --customer c --scheme s --products a --quota a --link-type node",
        "admin group-key update",                                 /* no KEY */
        "admin group-key update k --container-quota a=x",
        "admin group-key revoke",                                 /* no KEY */
        "admin group-key list --scheme s",                        /* not an option of list */
        "admin user create --customer c --username u",            /* the password only from stdin */
        "admin user create --customer c --username u --password-stdin", /* stdin empty */
        "admin user show --customer c",                           /* no --username */
        "admin machine free --customer c --username u",           /* no --machine */
        "admin customer rotate-key",                              /* no CUSTOMER_ID */
        "admin vendor rotate-key --grace-s soon",
        "admin license block 1 2",
        "admin license deactivate",                               /* no LICENSE_ID */
        "admin pack update",                                      /* no PACK_ID */
        "admin pack update P --quantity many",
        "admin pack list --client c",                             /* not an option of pack list */
        "admin clone resolve 1",                                  /* no --action */
        "admin usage",                                            /* no --license */
        "admin customer list --name x",                           /* not an option of list */
        "report-usage",
        "report-usage --license-file /nonexistent cpu=1",
        "report-usage --license-file /dev/null cpu=1",            /* no licence in it */
        "report-usage --license-file /etc/hostname",              /* no records */
        "report-usage --license-file /etc/hostname cpu=many",
        "report-usage --license-file /etc/hostname --stdin cpu=1",
    };
    struct vendor v;
    char env[512];

    vendor_init(&v);
    snprintf(env, sizeof env, "LICD_URL='%s' LICD_VENDOR_KEY='%s'", it_url(), v.key);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(licctl_env(&v, env, NULL, "%s", bad[i]), 1, "licctl %s: exit %d", bad[i], v.status);
        cr_assert(strncmp(v.err, "licctl: ", 8) == 0 || strstr(v.err, "usage:"), "licctl %s: %s", bad[i],
                  v.err);
        cr_assert_str_eq(v.out, "", "licctl %s printed %s", bad[i], v.out);
    }
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "customer list --json"))), 0,
                 "nothing was sent");

    /* licd down: no answer at all is an error, not a refusal. */
    {
        char closed[64];
        snprintf(closed, sizeof closed, "http://127.0.0.1:%d", it_free_port());
        cr_assert_eq(licctl_env(&v, NULL, NULL, "admin customer list --url %s --vendor-key '%s'", closed, v.key),
                     1);
        cr_assert(strncmp(v.err, "licctl: ", 8) == 0, "%s", v.err);
        put_file(&v, "lic.jwt", "a.b.c\n");
        cr_assert_eq(licctl_env(&v, NULL, NULL, "report-usage --url %s --license-file '%s/lic.jwt' cpu=1",
                                closed, v.dir),
                     1, "%s", v.err);
    }
    /* Missing URL or key. */
    cr_assert_eq(licctl_env(&v, NULL, NULL, "admin customer list --vendor-key k"), 1);
    cr_assert(strstr(v.err, "--url"), "%s", v.err);
    cr_assert_eq(licctl_env(&v, NULL, NULL, "admin customer list --url %s", it_url()), 1);
    cr_assert(strstr(v.err, "--vendor-key"), "%s", v.err);
    /* ... and the environment standing in for both. */
    cr_assert_eq(licctl_env(&v, env, NULL, "admin customer list --json"), 0, "%s", v.err);
    vendor_free(&v);
}

Test(licctl_admin, every_subcommand_has_help)
{
    static const char *const cmds[] = {
        "customer create", "customer list", "product create", "product show", "product list",
        "pack create", "pack show", "pack list", "pack update", "assignments", "license block",
        "license unblock", "license deactivate", "user create", "user entitle", "user revoke",
        "user unrevoke", "user list", "user show", "machine free", "customer rotate-key",
        "vendor rotate-key", "group-key create", "group-key list", "group-key show",
        "group-key update", "group-key revoke", "group-key relink", "clones",
        "clone resolve", "usage", "audit",
    };
    struct vendor v;
    char want[64];

    vendor_init(&v);
    cr_assert_eq(licctl_env(&v, NULL, NULL, "admin --help"), 0);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        snprintf(want, sizeof want, "licctl admin %s", cmds[i]);
        cr_assert(strstr(v.out, want), "admin --help lacks %s", cmds[i]);
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cr_assert_eq(licctl_env(&v, NULL, NULL, "admin %s --help", cmds[i]), 0, "%s --help", cmds[i]);
        snprintf(want, sizeof want, "usage: licctl admin %s", cmds[i]);
        cr_assert(strncmp(v.out, want, strlen(want)) == 0 && strstr(v.out, "--vendor-key") &&
                      strstr(v.out, "Exit status"),
                  "%s", v.out);
    }
    cr_assert_eq(licctl_env(&v, NULL, NULL, "report-usage --help"), 0);
    cr_assert(strstr(v.out, "--gzip") && strstr(v.out, "--license-file"), "%s", v.out);
    cr_assert_eq(licctl_env(&v, NULL, NULL, "--help"), 0);
    cr_assert(strstr(v.out, "admin") && strstr(v.out, "report-usage"), "%s", v.out);
    vendor_free(&v);
}

/* More customers than one page holds: the list follows licd's cursors. */
Test(licctl_admin, lists_follow_every_page, .timeout = 120)
{
    struct vendor v;
    const cJSON *items;
    char id[37], key[80], name[32];

    vendor_init(&v);
    for (int i = 0; i < 503; i++) {
        snprintf(name, sizeof name, "c%03d", i);
        it_new_customer(v.key, name, id, key);
    }
    items = items_of(admin_ok(&v, NULL, "customer list --json"));
    cr_assert_eq(cJSON_GetArraySize(items), 503);
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(items, 0), "name"), "c000");
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(items, 502), "name"), "c502");
    cr_assert_eq(cJSON_GetArraySize(items_of(admin_ok(&v, NULL, "audit --json"))), 503);
    vendor_free(&v);
}

/* A pack with a usage limit, and a licence of it in two files: the bare JWT
 * and get_key's JSON answer. */
struct reporting {
    struct vendor v;
    char license_id[32];
    char jwt_file[600], json_file[600];
};

static void reporting_init(struct reporting *p)
{
    char customer_id[64], customer_key[96], *answer;
    cJSON *o;

    vendor_init(&p->v);
    o = admin_ok(&p->v, NULL, "customer create --name Reporter --json");
    snprintf(customer_id, sizeof customer_id, "%s", str_of(o, "customer_id"));
    snprintf(customer_key, sizeof customer_key, "%s", str_of(o, "customer_key"));
    admin_ok(&p->v, NULL, "product create --code app --name App --version 1");
    admin_ok(&p->v, NULL, "pack create --customer %s --product app --version 1 --type per_device --quantity 1 "
                          "--attributes '{\"limits\":{\"cpu\":4}}'",
             customer_id);
    cr_assert_eq(get_key(customer_key, "host-1", p->license_id, &answer), 201);
    snprintf(p->json_file, sizeof p->json_file, "%s", put_file(&p->v, "get_key.json", answer));
    o = cJSON_Parse(answer);
    snprintf(p->jwt_file, sizeof p->jwt_file, "%s", put_file(&p->v, "license.jwt", str_of(o, "license")));
    cJSON_Delete(o);
    free(answer);
}

/* licctl report-usage under the licence in file, expecting exit 0 and
 * its --json answer. */
static cJSON *report(struct reporting *p, const char *input, const char *file, const char *words)
{
    licctl_env(&p->v, NULL, input, "report-usage --url '%s' --license-file '%s' --json %s", it_url(), file,
               words);
    cr_assert_eq(p->v.status, 0, "report-usage %s: exit %d: %s", words, p->v.status, p->v.err);
    cr_assert(cJSON_IsObject(p->v.json), "%s", p->v.out);
    cr_assert_str_eq(str_of(p->v.json, "license_id"), p->license_id);
    return p->v.json;
}

static const cJSON *metric_of(const cJSON *usage, const char *name)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(usage, "metrics"))
        if (!strcmp(str_of(m, "metric"), name))
            return m;
    cr_assert_fail("no metric %s", name);
    return NULL;
}

Test(licctl_admin, usage_reported_as_json_and_gzip_then_aggregated)
{
    struct reporting p;
    const cJSON *over, *m;
    cJSON *o;

    reporting_init(&p);
    o = report(&p, NULL, p.jwt_file, "cpu=8 mem=2.5");
    cr_assert_eq(num_of(o, "accepted"), 2);
    cr_assert_eq(num_of(o, "rejected"), 0);
    over = cJSON_GetObjectItem(o, "over_limit");
    cr_assert_eq(cJSON_GetArraySize(over), 1, "%s", p.v.out);
    cr_assert_str_eq(str_of(cJSON_GetArrayItem(over, 0), "metric"), "cpu");
    cr_assert_eq(num_of(cJSON_GetArrayItem(over, 0), "value"), 8);
    cr_assert_eq(num_of(cJSON_GetArrayItem(over, 0), "limit"), 4);

    /* The archive, under the licence read from get_key's JSON. */
    o = report(&p, NULL, p.json_file, "--gzip cpu=3 disk=100");
    cr_assert_eq(num_of(o, "accepted"), 2);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "over_limit")), 0);

    /* JSON lines from stdin, the bad ones counted alike in both formats. */
    {
        static const char lines[] = "{\"metric\":\"cpu\",\"value\":1,\"at\":\"2026-01-01T00:00:00Z\"}\n"
                                    "\n"
                                    "not json\n"
                                    "{\"metric\":\"cpu\"}\n";
        o = report(&p, lines, p.jwt_file, "--stdin --gzip");
        cr_assert_eq(num_of(o, "accepted"), 1);
        cr_assert_eq(num_of(o, "rejected"), 2);
        o = report(&p, lines, p.jwt_file, "--stdin");
        cr_assert_eq(num_of(o, "accepted"), 1);
        cr_assert_eq(num_of(o, "rejected"), 2);
    }

    /* Human output. */
    licctl_env(&p.v, NULL, NULL, "report-usage --url '%s' --license-file '%s' cpu=5", it_url(), p.jwt_file);
    cr_assert_eq(p.v.status, 0, "%s", p.v.err);
    cr_assert(strstr(p.v.out, "accepted:  1") && strstr(p.v.out, "over limit: cpu 5 (limit 4)"), "%s", p.v.out);

    /* admin usage: the aggregates of all of it. */
    o = admin_ok(&p.v, NULL, "usage --license %s --json", p.license_id);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "metrics")), 3, "%s", p.v.out);
    m = metric_of(o, "cpu");
    cr_assert_eq(num_of(m, "count"), 5);
    cr_assert_eq(num_of(m, "sum"), 8 + 3 + 1 + 1 + 5);
    cr_assert_eq(num_of(m, "max"), 8);
    cr_assert_str_eq(str_of(m, "first_at"), "2026-01-01T00:00:00Z");
    cr_assert_eq(num_of(metric_of(o, "mem"), "sum"), 2.5);
    cr_assert_eq(num_of(metric_of(o, "disk"), "latest"), 100);
    o = admin_ok(&p.v, NULL, "usage --license %s --to 2026-06-01T00:00:00Z --json", p.license_id);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "metrics")), 1, "only the January records");
    cr_assert_eq(num_of(metric_of(o, "cpu"), "count"), 2);
    admin_ok(&p.v, NULL, "usage --license %s", p.license_id);
    cr_assert(strstr(p.v.out, "metric") && strstr(p.v.out, "disk") && strstr(p.v.out, "2.5"), "%s", p.v.out);
    vendor_free(&p.v);
}

/* Over licd's 1 MiB body limit, a report goes through only as the archive
 * (which proves it is one); a licence licd did not sign is refused. */
Test(licctl_admin, a_large_report_needs_gzip_and_a_forged_licence_is_refused)
{
    struct reporting p;
    size_t n = 40000, len = 0;
    char *lines = malloc(n * 48 + 1);

    cr_assert(lines);
    reporting_init(&p);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(lines + len, "{\"metric\":\"requests\",\"value\":%zu}\n", i % 1000);
    licctl_env(&p.v, NULL, lines, "report-usage --url '%s' --license-file '%s' --stdin", it_url(), p.jwt_file);
    cr_assert_eq(p.v.status, 20, "%s", p.v.err);
    cr_assert(strncmp(p.v.err, "licctl: body_too_large: ", 24) == 0, "%s", p.v.err);
    cr_assert_eq(num_of(report(&p, lines, p.jwt_file, "--stdin --gzip"), "accepted"), (double)n);
    cr_assert_eq(num_of(metric_of(admin_ok(&p.v, NULL, "usage --license %s --json", p.license_id), "requests"),
                        "count"),
                 (double)n);
    free(lines);

    put_file(&p.v, "forged.jwt", "eyJhbGciOiJFUzI1NiJ9.eyJsaWQiOiIxIn0.c2lnbmF0dXJl\n");
    licctl_env(&p.v, NULL, NULL, "report-usage --url '%s' --license-file '%s/forged.jwt' cpu=1", it_url(),
               p.v.dir);
    cr_assert_eq(p.v.status, 20, "%s", p.v.err);
    cr_assert(strncmp(p.v.err, "licctl: unauthorized: ", 22) == 0, "%s", p.v.err);
    vendor_free(&p.v);
}
