#!/usr/bin/env bash
# The vendor's group keys (GET /v1/group-keys), a page at a time, optionally
# only one customer's; each with its unexpired, unblocked activations.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_list.sh [CUSTOMER_ID [LIMIT [CURSOR]]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
query="limit=${2:-50}${1:+&customer_id=$1}${3:+&cursor=$3}"
licd_call GET "/v1/group-keys?$query" "$(vendor_key)"
