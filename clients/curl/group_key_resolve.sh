#!/usr/bin/env bash
# Resolves a cloned update password (POST /v1/update-passwords/{id}/resolve):
# dismiss, or block the licences of the suspected copies.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_resolve.sh ID dismiss|block
set -euo pipefail
. "$(dirname "$0")/common.sh"
id=${1:?usage: $0 ID dismiss|block} action=${2:?dismiss or block}
licd_call POST "/v1/update-passwords/$id/resolve" "$(vendor_key)" "{\"action\":\"$action\"}"
