#!/usr/bin/env bash
# Deletes a webhook (DELETE /v1/webhooks/{webhook_id}, 204).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/webhook-delete.sh WEBHOOK_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
id=${1:?usage: $0 WEBHOOK_ID}
licd_call DELETE "/v1/webhooks/$id" "$(vendor_key)"
