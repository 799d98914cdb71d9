#!/usr/bin/env bash
# Deactivates a licence for good (DELETE /v1/licenses/{license_id}, 204): its
# seat goes back to its pack and the client's next get_key takes a new one.
# With LICD_CUSTOMER_KEY set instead of LICD_VENDOR_KEY, the customer
# deactivates one of its own licences.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/license-deactivate.sh LICENSE_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
id=${1:?usage: $0 LICENSE_ID}
if [ -n "${LICD_VENDOR_KEY:-}" ]; then key=$(vendor_key); else key=$(customer_key); fi
licd_call DELETE "/v1/licenses/$id" "$key"
