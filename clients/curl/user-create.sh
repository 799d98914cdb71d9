#!/usr/bin/env bash
# A user of a customer (POST /v1/users, vendor key).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/user-create.sh CUSTOMER_ID USERNAME PASSWORD
set -euo pipefail
. "$(dirname "$0")/common.sh"
customer=${1:?usage: $0 CUSTOMER_ID USERNAME PASSWORD} user=${2:?username} password=${3:?password}
licd_call POST /v1/users "$(vendor_key)" \
  "{\"customer_id\":\"$customer\",\"username\":\"$user\",\"password\":\"$password\"}"
