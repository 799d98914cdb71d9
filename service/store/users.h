/* Users of a customer, their entitlements per product, their machines and
 * the session tokens issued on them, and failed logins. */
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
/* Revoking (no new or renewed token) and lifting it, audited; revoking a
 * revoked user, or lifting a lifted revocation, changes nothing. */
int store_user_revoke(const store_actor *who, const char *customer_id, const char *username,
                      store_user *out);
int store_user_unrevoke(const store_actor *who, const char *customer_id, const char *username,
                        store_user *out);
/* Up to limit users of the customer after list position after (0: from the
 * start), oldest first, as a page of store_user (without password hashes). */
int store_user_list(const char *customer_id, long long after, int limit, store_page *page);

/* An entitlement as the vendor set it. */
typedef struct {
    char product[65];
    char state[16];
    char *features;         /* JSON array text, owned by the page */
    int max_machines;
    char expires[40];       /* "" when it never expires */
} store_user_entitlement;

/* The user's entitlements by product code: a page of store_user_entitlement. */
int store_user_entitlements(const char *user_id, store_page *page);

/* A machine of the user, as its latest token left it. */
typedef struct {
    char machine_id[257];
    char last_token_at[40], token_expires_at[40];
} store_user_machine;

/* The user's machines that are not freed and whose latest token is
 * unexpired or expired less than window seconds ago (so still renewable),
 * latest token first: a page of store_user_machine. */
int store_user_machines(const char *user_id, long window, store_page *page);
/* Frees the machine's slot, audited: it no longer counts against the
 * machine limit and none of the tokens issued on it so far is renewed (a
 * sign-in with the password takes a slot again). LICD_ERR_NOT_FOUND when
 * the user never had a token on it; freeing a freed one changes nothing. */
int store_user_machine_free(const store_actor *who, const store_user *user,
                            const char *machine_id);

/* Sets the user's entitlement to a product (expires may be NULL). */
int store_entitlement_put(const store_actor *who, const store_user *user, long long product_id,
                          const char *product_code, const char *state, const char *features_json,
                          int max_machines, const char *expires);

/* Records a failed login for the username (counted by store_token_facts_get). */
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

/* What a sign-in or a renewal decides on, read in one statement for the
 * customer's username and one machine: the user (found 0 when the customer
 * has no such user; the failures are counted all the same) and its slot. */
typedef struct {
    int failures;           /* failed logins for the username in the last minute */
    int oldest_failure_age; /* seconds since the oldest of them */
    int found;
    char user_id[37];
    char password_hash[CRYPTO_PASSWORD_ENCODED_MAX];
    int revoked;
    int slot_held;          /* the machine is not freed and its latest token is unexpired */
    long long renew_from;   /* tokens of the machine with an earlier iat are never renewed */
} store_token_facts;

/* The facts above, and the user's entitlements to each of n product codes
 * in order (a page of n store_entitlement, all invalid when not found). */
int store_token_facts_get(const char *customer_id, const char *vendor_id, const char *username,
                          const char *machine_id, const char *const *codes, int n,
                          store_token_facts *out, store_page *entitlements);

/* Inside a transaction: locks the user (serialising the token issues that
 * may take a new slot) and tells whether it is revoked. */
int store_user_lock(const char *user_id, int *revoked);

/* A token to record: for the user's machine, covering n product codes,
 * valid ttl seconds. */
typedef struct {
    const char *user_id;
    const char *machine_id;
    const char *const *codes;
    int n;
    long ttl;
    /* The machine may take a slot while fewer than max_machines machines
     * hold one; 0: only a machine that holds its slot gets the token. The
     * count is exact only under store_user_lock. */
    int max_machines;
    /* A renewal: the iat of the token presented, which must not be before
     * the machine's renew_from; -1 for a sign-in (which also takes back a
     * freed slot). */
    long long renewing_iat;
} store_token_request;

/* Upserts the machine's row and records the token, in one statement;
 * returns its jti and times. LICD_ERR_NOT_FOUND when the machine gets no
 * slot or, for a renewal, the slot was freed after the token presented. */
int store_token_record(const store_token_request *r, char jti[37], time_t *iat, time_t *exp);

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
