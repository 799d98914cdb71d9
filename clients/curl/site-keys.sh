#!/usr/bin/env bash
# Registers a site server's public keys (PUT /v1/sites/{site_id}): JWKS_FILE is
# what `licd jwks` printed on the site; its usage reports are checked with them.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/site-keys.sh SITE_ID JWKS_FILE
set -euo pipefail
. "$(dirname "$0")/common.sh"
site=${1:?usage: $0 SITE_ID JWKS_FILE} file=${2:?usage: $0 SITE_ID JWKS_FILE}
licd_call PUT "/v1/sites/$site" "$(vendor_key)" "{\"jwks\":$(cat "$file")}"
