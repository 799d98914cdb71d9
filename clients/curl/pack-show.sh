#!/usr/bin/env bash
# Shows a pack with its quantity and how many licences are assigned
# (GET /v1/packs/{pack_id}). Usage: LICD_VENDOR_KEY=lv_... clients/curl/pack-show.sh PACK_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/packs/${1:?usage: $0 PACK_ID}" "$(vendor_key)"
