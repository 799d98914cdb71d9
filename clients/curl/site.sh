#!/usr/bin/env bash
# A site server as the vendor sees it (GET /v1/sites/{site_id}): its
# allocations and the figures of the last usage report it sent.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/site.sh SITE_ID
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call GET "/v1/sites/${1:?usage: $0 SITE_ID}" "$(vendor_key)"
