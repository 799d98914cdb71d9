#!/usr/bin/env bash
# Lists the licences handed out (GET /v1/assignments), filtered by any of
# customer_id=, client_id=, pack_id= (plus limit= and cursor=).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/assignments.sh [pack_id=P] [client_id=C] ...
set -euo pipefail
. "$(dirname "$0")/common.sh"
query=$(IFS='&'; echo "$*")
licd_call GET "/v1/assignments${query:+?$query}" "$(vendor_key)"
