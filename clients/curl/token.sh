#!/usr/bin/env bash
# A session token for one user on one machine covering one or more products
# (POST /v1/tokens, customer key); the password is read from stdin.
# Usage: echo PASSWORD | LICD_CUSTOMER_KEY=lc_... clients/curl/token.sh USERNAME MACHINE_ID PRODUCT[,PRODUCT...]
set -euo pipefail
. "$(dirname "$0")/common.sh"
user=${1:?usage: $0 USERNAME MACHINE_ID PRODUCTS} machine=${2:?machine id} products=${3:?products}
IFS= read -r password
list=$(printf '"%s",' ${products//,/ })
licd_call POST /v1/tokens "$(customer_key)" \
  "{\"username\":\"$user\",\"password\":\"$password\",\"machine_id\":\"$machine\",\"products\":[${list%,}]}"
