#!/usr/bin/env bash
# A user with her entitlements and machines (GET /v1/users/{username}), or
# the customer's users (GET /v1/users) when no username is given.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/user-show.sh CUSTOMER_ID [USERNAME]
set -euo pipefail
. "$(dirname "$0")/common.sh"
customer=${1:?usage: $0 CUSTOMER_ID [USERNAME]}
licd_call GET "/v1/users${2:+/$2}?customer_id=$customer" "$(vendor_key)"
