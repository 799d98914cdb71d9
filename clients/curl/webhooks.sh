#!/usr/bin/env bash
# The vendor's webhooks (GET /v1/webhooks), each with last_status, failures
# and state (active, or dead after a day of failures).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/webhooks.sh [LIMIT [CURSOR]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
query="limit=${1:-50}"
[ -n "${2:-}" ] && query="$query&cursor=$2"
licd_call GET "/v1/webhooks?$query" "$(vendor_key)"
