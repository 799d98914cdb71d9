#!/usr/bin/env bash
# A client's licence (POST /v1/get_key, customer key): 201 a new one, 200 the
# one the client holds. Usage: LICD_CUSTOMER_KEY=lc_... clients/curl/get-key.sh PRODUCT CLIENT_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
product=${1:?usage: $0 PRODUCT CLIENT_ID} client=${2:?client id}
licd_call POST /v1/get_key "$(customer_key)" "{\"product\":\"$product\",\"client_id\":\"$client\"}"
