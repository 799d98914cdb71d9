#!/usr/bin/env bash
# Lists the vendor's customers (GET /v1/customers), one page; pass the
# previous answer's "next" to get the following one.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/customers.sh [LIMIT [CURSOR]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/customers?limit=${1:-50}${2:+&cursor=$2}" "$(vendor_key)"
