#!/usr/bin/env bash
# Blocks a licence (POST /v1/licenses/{id}/block), or unblocks it with
# "unblock" as second argument. A blocked licence is neither reissued nor upgraded.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/license-block.sh LICENSE_ID [block|unblock]
set -euo pipefail
. "$(dirname "$0")/common.sh"
id=${1:?usage: $0 LICENSE_ID [block|unblock]} action=${2:-block}
case $action in block|unblock) ;; *) echo "block or unblock, not $action" >&2; exit 2 ;; esac
licd_call POST "/v1/licenses/$id/$action" "$(vendor_key)"
