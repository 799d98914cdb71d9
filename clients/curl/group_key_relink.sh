#!/usr/bin/env bash
# Empties a group key's link (POST /v1/group-keys/{group_key}/relink): the
# next activation binds it. The key may be named by its prefix (lg_ + 12 hex).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_relink.sh GROUP_KEY_OR_PREFIX
set -euo pipefail
. "$(dirname "$0")/common.sh"
key=${1:?usage: $0 GROUP_KEY_OR_PREFIX}
licd_call POST "/v1/group-keys/$key/relink" "$(vendor_key)"
