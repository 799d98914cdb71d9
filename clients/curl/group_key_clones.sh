#!/usr/bin/env bash
# The update-password moderation queue (GET /v1/update-passwords): cloned
# passwords by default, with the evidence of every presentation.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_clones.sh [STATUS [LIMIT [CURSOR]]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/update-passwords?status=${1:-cloned}&limit=${2:-50}${3:+&cursor=$3}" "$(vendor_key)"
