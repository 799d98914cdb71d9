#!/usr/bin/env bash
# Installs a licence pack (POST /v1/packs): 201 the first time, 200 with the
# pack as first installed for the same PACK_ID again (no seats are added).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/pack-create.sh PACK_ID CUSTOMER_ID PRODUCT VERSION [TYPE [QUANTITY]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
pack=${1:?usage: $0 PACK_ID CUSTOMER_ID PRODUCT VERSION [TYPE [QUANTITY]]}
customer=${2:?customer id} product=${3:?product code} version=${4:?version}
licd_call POST /v1/packs "$(vendor_key)" \
  "{\"pack_id\":\"$pack\",\"customer_id\":\"$customer\",\"product\":\"$product\",\"version\":\"$version\",\"type\":\"${5:-per_device}\",\"quantity\":${6:-10}}"
