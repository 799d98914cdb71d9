#!/usr/bin/env bash
# Registers a webhook (POST /v1/webhooks, 201): URL receives the vendor's
# events of the types given; the answer holds the signing secret, shown
# this once. The URL must be https to a public address unless licd runs
# with LICD_WEBHOOK_ALLOW_PRIVATE=1.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/webhook-create.sh URL TYPE [TYPE...]
#   types: license.granted license.temporary seat.denied clone.detected
#          usage.over_limit pack.low lease.lapsed
set -euo pipefail
. "$(dirname "$0")/common.sh"
url=${1:?usage: $0 URL TYPE [TYPE...]}
shift
[ $# -gt 0 ] || { echo "usage: $0 URL TYPE [TYPE...]" >&2; exit 2; }
types=$(printf '"%s",' "$@")
licd_call POST /v1/webhooks "$(vendor_key)" "{\"url\":\"$url\",\"events\":[${types%,}]}"
