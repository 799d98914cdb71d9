#!/usr/bin/env bash
# Lists the vendor's packs with their seats in use (GET /v1/packs), filtered
# by any of customer_id=, product= (plus limit= and cursor=).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/packs.sh [customer_id=U] [product=P] ...
set -euo pipefail
. "$(dirname "$0")/common.sh"
query=$(IFS='&'; echo "$*")
licd_call GET "/v1/packs${query:+?$query}" "$(vendor_key)"
