#!/usr/bin/env bash
# Changes a pack (PATCH /v1/packs/{pack_id}) with a JSON body of any of
# "quantity" (never below the seats in use: 409 quantity_below_assigned),
# "expires" (null: never), "on_over_limit" ("refuse" or "report") and
# "max_borrow_s" (how long a seat of a concurrent pack may be borrowed; 0: never).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/pack-update.sh PACK_ID '{"quantity":10}'
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call PATCH "/v1/packs/${1:?usage: $0 PACK_ID JSON}" "$(vendor_key)" "${2:?usage: $0 PACK_ID JSON}"
