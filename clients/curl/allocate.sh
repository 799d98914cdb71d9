#!/usr/bin/env bash
# Allocates QUANTITY seats of a pack to a site server (POST
# /v1/packs/{pack_id}/allocations): 201 the first time, 200 with the next
# sequence after that. The answer's "file" is the signed allocation the site
# imports with `licd import FILE`; with OUT_FILE it is written there.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/allocate.sh PACK_ID SITE_ID QUANTITY [OUT_FILE]
set -euo pipefail
. "$(dirname "$0")/common.sh"
pack=${1:?usage: $0 PACK_ID SITE_ID QUANTITY [OUT_FILE]} site=${2:?site id} quantity=${3:?quantity}
answer=$(licd_call POST "/v1/packs/$pack/allocations" "$(vendor_key)" \
  "{\"site_id\":\"$site\",\"quantity\":$quantity}")
echo "$answer"
if [ -n "${4:-}" ]; then json_field file <<<"$answer" >"$4"; fi
