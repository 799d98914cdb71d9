/* Users of a customer, their entitlements per product, the session tokens
 * issued to them per machine, and failed logins. */
#ifndef LICD_STORE_USERS_H
#define LICD_STORE_USERS_H

#include <time.h>

#include "crypto/password.h"
#include "store/audit.h"
#include "store/page.h"

typedef struct {
    char id[37];
    char customer_id[37];
    char username[129];
    char password_hash[CRYPTO_PASSWORD_ENCODED_MAX];
    int revoked;
    char created_at[40];
} store_user;

/* LICD_ERR_CONFLICT when the customer has that username already. */
int store_user_create(const store_actor *who, const char *customer_id, const char *username,
                      const char *password_hash, store_user *out);
/* LICD_ERR_NOT_FOUND when the customer has no such user. */
int store_user_get(const char *customer_id, const char *username, store_user *out);
int store_user_revoke(const store_actor *who, const char *customer_id, const char *username,
                      store_user *out);

/* Sets the user's entitlement to a product (expires may be NULL). */
int store_entitlement_put(const store_actor *who, const store_user *user, long long product_id,
                          const char *product_code, const char *state, const char *features_json,
                          int max_machines, const char *expires);

/* Failed logins for the username in the last minute, and the age in seconds of the oldest. */
int store_login_failures(const char *customer_id, const char *username, int *count, int *oldest_age);
int store_login_failure_add(const char *customer_id, const char *username);

/* One requested product as the token needs it. */
typedef struct {
    int known;              /* the vendor has this product */
    int has_entitlement;
    int expired;
    char state[16];
    char *product_features; /* JSON array text, owned by the page */
    char *named_features;   /* the entitlement's JSON array text, owned by the page */
    int max_machines;
} store_entitlement;

/* Inside a transaction: locks the user (serialising its token issues) and
 * tells whether it is revoked. */
int store_user_lock(const char *user_id, int *revoked);
/* The user's entitlements to each of n product codes, in order: a page of
 * n store_entitlement. */
int store_entitlements_for(const char *vendor_id, const char *user_id, const char *const *codes,
                           int n, store_page *page);
/* Whether this machine holds an unexpired token of the user, and how many
 * machines do. */
int store_machine_usage(const char *user_id, const char *machine_id, int *known, int *in_use);
/* Records a token valid ttl seconds; returns its jti and times. */
int store_token_record(const char *user_id, const char *machine_id, const char *const *codes,
                       int n, long ttl, int renewed, char jti[37], time_t *iat, time_t *exp);

/* A machine the user's tokens named. */
typedef struct {
    char machine_id[257];
    char first_seen[40], last_seen[40];
    long long tokens;
} store_machine_activity;

/* The machines the user's tokens named in the last 24 hours, first seen
 * first: a page of store_machine_activity (all of them). */
int store_user_activity(const char *user_id, store_page *page);
/* The smallest max_machines over the user's entitlements (5 without any). */
int store_user_max_machines(const char *user_id, int *max_machines);

#endif
