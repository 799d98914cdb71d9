#!/usr/bin/env bash
# Reads the vendor's audit trail (GET /v1/audit), oldest first.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/audit.sh [LIMIT [CURSOR]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/audit?limit=${1:-50}${2:+&cursor=$2}" "$(vendor_key)"
