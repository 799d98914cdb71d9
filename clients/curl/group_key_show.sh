#!/usr/bin/env bash
# One group key (GET /v1/group-keys/{group_key}), named by the key or its
# prefix (lg_ + 12 hex): pool, quotas, link, limits, expiry, revocation and
# its unexpired, unblocked activations. The key itself is never shown again.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_show.sh GROUP_KEY_OR_PREFIX
set -euo pipefail
. "$(dirname "$0")/common.sh"
key=${1:?usage: $0 GROUP_KEY_OR_PREFIX}
licd_call GET "/v1/group-keys/$key" "$(vendor_key)"
