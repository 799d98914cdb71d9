#!/usr/bin/env bash
# Lists the vendor's products (GET /v1/products), one page; pass the
# previous answer's "next" to get the following one.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/products.sh [LIMIT [CURSOR]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/products?limit=${1:-50}${2:+&cursor=$2}" "$(vendor_key)"
