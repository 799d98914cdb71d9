#!/usr/bin/env bash
# Revokes a group key (POST /v1/group-keys/{group_key}/revoke): every later
# activation with it is refused (403 group_key_revoked).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_revoke.sh GROUP_KEY_OR_PREFIX
set -euo pipefail
. "$(dirname "$0")/common.sh"
key=${1:?usage: $0 GROUP_KEY_OR_PREFIX}
licd_call POST "/v1/group-keys/$key/revoke" "$(vendor_key)"
