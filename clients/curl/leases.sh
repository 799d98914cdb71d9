#!/usr/bin/env bash
# Lists live leases (GET /v1/leases), by pack_id= or by customer_id= with an
# optional product= (plus limit= and cursor=).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/leases.sh pack_id=P | customer_id=U [product=P]
set -euo pipefail
. "$(dirname "$0")/common.sh"
query=$(IFS='&'; echo "$*")
licd_call GET "/v1/leases${query:+?$query}" "$(vendor_key)"
