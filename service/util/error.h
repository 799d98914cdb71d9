/* licd's one error enum, and the single table that maps each error to its
 * HTTP status, stable problem+json code and human title. */
#ifndef LICD_UTIL_ERROR_H
#define LICD_UTIL_ERROR_H

/* X(name, status, code, title). Status 0 marks an internal error that never
 * reaches a client as itself (it is answered as 500 internal_error). */
#define LICD_ERRORS(X)                                                                 \
    X(LICD_ERR_BAD_REQUEST, 400, "bad_request", "Bad request")                        \
    X(LICD_ERR_MALFORMED_JSON, 400, "malformed_json", "Malformed JSON")               \
    X(LICD_ERR_INVALID_FIELD, 400, "invalid_field", "Invalid field")                  \
    X(LICD_ERR_UNAUTHORIZED, 401, "unauthorized", "Unauthorized")                     \
    X(LICD_ERR_FORBIDDEN, 403, "forbidden", "Forbidden")                              \
    X(LICD_ERR_NOT_FOUND, 404, "not_found", "Not found")                              \
    X(LICD_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed", "Method not allowed")   \
    X(LICD_ERR_CONFLICT, 409, "conflict", "Conflict")                                 \
    X(LICD_ERR_QUANTITY_BELOW_ASSIGNED, 409, "quantity_below_assigned",               \
      "Quantity below assigned")                                                      \
    X(LICD_ERR_SERIAL_RANGE_TAKEN, 409, "serial_range_taken", "Serial range taken")   \
    X(LICD_ERR_IDEMPOTENCY_KEY_REUSED, 409, "idempotency_key_reused",                 \
      "Idempotency key reused")                                                       \
    X(LICD_ERR_IDEMPOTENCY_KEY_IN_PROGRESS, 409, "idempotency_key_in_progress",       \
      "Idempotency key in progress")                                                  \
    X(LICD_ERR_BODY_TOO_LARGE, 413, "body_too_large", "Request body too large")       \
    X(LICD_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",                 \
      "Unsupported media type")                                                       \
    X(LICD_ERR_CHALLENGE_REQUIRED, 403, "challenge_required", "Challenge required")   \
    X(LICD_ERR_CHALLENGE_FAILED, 403, "challenge_failed", "Challenge failed")         \
    X(LICD_ERR_LICENSE_BLOCKED, 403, "license_blocked", "License blocked")            \
    X(LICD_ERR_NO_MATCHING_PACK, 403, "no_matching_pack", "No matching pack")         \
    X(LICD_ERR_TEMPORARY_LICENSE_EXPIRED, 403, "temporary_license_expired",           \
      "Temporary license expired")                                                    \
    X(LICD_ERR_NO_UPGRADE_AVAILABLE, 409, "no_upgrade_available", "No upgrade available") \
    X(LICD_ERR_UNKNOWN_GROUP_KEY, 403, "unknown_group_key", "Unknown group key")       \
    X(LICD_ERR_GROUP_KEY_EXPIRED, 403, "group_key_expired", "Group key expired")       \
    X(LICD_ERR_GROUP_KEY_REVOKED, 403, "group_key_revoked", "Group key revoked")       \
    X(LICD_ERR_SCHEME_MISMATCH, 403, "scheme_mismatch", "Scheme mismatch")             \
    X(LICD_ERR_PRODUCT_NOT_IN_GROUP, 403, "product_not_in_group", "Product not in group") \
    X(LICD_ERR_LINK_MISMATCH, 403, "link_mismatch", "Link mismatch")                   \
    X(LICD_ERR_QUOTA_EXCEEDED, 403, "quota_exceeded", "Quota exceeded")                \
    X(LICD_ERR_OVER_LIMIT, 403, "over_limit", "Over limit")                           \
    X(LICD_ERR_UPDATE_PASSWORD_UNKNOWN, 403, "update_password_unknown",               \
      "Update password unknown")                                                      \
    X(LICD_ERR_INVALID_ARCHIVE, 400, "invalid_archive", "Invalid archive")             \
    X(LICD_ERR_INVALID_CREDENTIALS, 401, "invalid_credentials", "Invalid credentials") \
    X(LICD_ERR_RENEWAL_REFUSED, 401, "renewal_refused", "Renewal refused")             \
    X(LICD_ERR_MACHINE_LIMIT_REACHED, 403, "machine_limit_reached", "Machine limit reached") \
    X(LICD_ERR_USER_REVOKED, 403, "user_revoked", "User revoked")                      \
    X(LICD_ERR_TOO_MANY_REQUESTS, 429, "too_many_requests", "Too many requests")       \
    X(LICD_ERR_RATE_LIMITED, 429, "rate_limited", "Rate limited")                     \
    X(LICD_ERR_NO_SEATS_AVAILABLE, 403, "no_seats_available", "No seats available")   \
    X(LICD_ERR_NO_CONCURRENT_PACK, 403, "no_concurrent_pack", "No concurrent pack")   \
    X(LICD_ERR_BORROW_NOT_ALLOWED, 403, "borrow_not_allowed", "Borrowing not allowed") \
    X(LICD_ERR_NOT_ENOUGH_FREE_SEATS, 409, "not_enough_free_seats", "Not enough free seats") \
    X(LICD_ERR_REPORT_OUT_OF_ORDER, 409, "report_out_of_order", "Report out of order") \
    X(LICD_ERR_INVALID_REPORT, 400, "invalid_report", "Invalid report")                \
    X(LICD_ERR_INTERNAL, 500, "internal_error", "Internal server error")              \
    X(LICD_ERR_UNAVAILABLE, 503, "unavailable", "Service unavailable")                \
    X(LICD_ERR_NOMEM, 0, "out_of_memory", "Out of memory")                            \
    X(LICD_ERR_IO, 0, "io_error", "I/O error")                                        \
    X(LICD_ERR_CONFIG, 0, "bad_configuration", "Bad configuration")                   \
    X(LICD_ERR_RETRY, 0, "retry", "Transaction must be retried")                      \
    X(LICD_ERR_TOKEN_INVALID, 0, "token_invalid", "Token invalid")                    \
    X(LICD_ERR_TOKEN_EXPIRED, 0, "token_expired", "Token expired")

typedef enum {
    LICD_OK = 0,
#define LICD_X_ENUM(name, status, code, title) name,
    LICD_ERR_FIRST_ = -1000,
    LICD_ERRORS(LICD_X_ENUM)
#undef LICD_X_ENUM
} licd_err;

/* Status to answer with: errors with no HTTP meaning of their own map to 500. */
int licd_err_status(licd_err err);
/* Stable snake_case code for problem+json ("internal_error" for internal ones). */
const char *licd_err_code(licd_err err);
/* Short human title for problem+json. */
const char *licd_err_title(licd_err err);
/* Name for logs, including internal errors ("token_expired", ...). */
const char *licd_err_name(licd_err err);



/* Size of the human detail buffers that validation helpers fill. */
#define LICD_DETAIL_MAX 256
#endif
