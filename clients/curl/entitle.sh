#!/usr/bin/env bash
# Sets a user's entitlement to a product (PUT /v1/users/{username}/entitlements/{product}).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/entitle.sh CUSTOMER_ID USERNAME PRODUCT STATE ['["f1"]' [MAX_MACHINES]]
# STATE is valid (all the product's features), intermediate (the features named) or invalid (none).
set -euo pipefail
. "$(dirname "$0")/common.sh"
customer=${1:?usage: $0 CUSTOMER_ID USERNAME PRODUCT STATE [FEATURES [MAX_MACHINES]]}
user=${2:?username} product=${3:?product} state=${4:?state} features=${5:-[]} max=${6:-5}
licd_call PUT "/v1/users/$user/entitlements/$product?customer_id=$customer" "$(vendor_key)" \
  "{\"state\":\"$state\",\"features\":$features,\"max_machines\":$max}"
