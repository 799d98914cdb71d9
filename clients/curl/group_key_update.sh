#!/usr/bin/env bash
# Changes a group key (PATCH /v1/group-keys/{group_key}) with a JSON body of
# any of "expires" (null: never), "quota_per_node", "quota_per_container"
# (a product's null removes its quota), "limits", "on_over_limit".
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_update.sh GROUP_KEY_OR_PREFIX JSON
set -euo pipefail
. "$(dirname "$0")/common.sh"
key=${1:?usage: $0 GROUP_KEY_OR_PREFIX JSON} body=${2:?a JSON object}
licd_call PATCH "/v1/group-keys/$key" "$(vendor_key)" "$body"
