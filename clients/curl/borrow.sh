#!/usr/bin/env bash
# Borrows a floating seat for SECONDS without heartbeats (POST /v1/leases
# with borrow_s; the pack's max_borrow_s must allow that long) and prints the
# answer, whose "license" is a JWT to check offline against the JWKS until
# the borrow ends. Return it early with: licd_call DELETE /v1/leases/LEASE_ID.
# Usage: LICD_CUSTOMER_KEY=lc_... clients/curl/borrow.sh PRODUCT CLIENT_ID SECONDS
set -euo pipefail
. "$(dirname "$0")/common.sh"
product=${1:?usage: $0 PRODUCT CLIENT_ID SECONDS} client=${2:?client id} seconds=${3:?seconds}
licd_call POST /v1/leases "$(customer_key)" \
  "{\"product\":\"$product\",\"client_id\":\"$client\",\"borrow_s\":$seconds}"
