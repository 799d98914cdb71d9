#!/usr/bin/env bash
# The vendor's events after an event_id, oldest first (GET /v1/events):
# keep the last event_id seen and ask again with it to miss none.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/events.sh [AFTER [LIMIT]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/events?after=${1:-0}&limit=${2:-50}" "$(vendor_key)"
