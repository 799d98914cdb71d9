#!/usr/bin/env bash
# Creates a group key for a customer (POST /v1/group-keys); the key is in this
# answer only. LINK_TYPE is ip_range, domain, node or app; without LINK_VALUE
# the link is empty and the first activation binds it.
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/group_key_create.sh CUSTOMER_ID SCHEME PRODUCT QUOTA_PER_NODE [LINK_TYPE [LINK_VALUE]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
customer=${1:?usage: $0 CUSTOMER_ID SCHEME PRODUCT QUOTA_PER_NODE [LINK_TYPE [LINK_VALUE]]}
scheme=${2:?scheme} product=${3:?product code} quota=${4:?instances per node}
link="{\"type\":\"${5:-node}\"${6:+,\"value\":\"$6\"}}"
licd_call POST /v1/group-keys "$(vendor_key)" \
  "{\"customer_id\":\"$customer\",\"scheme\":\"$scheme\",\"products\":[\"$product\"],\"quota_per_node\":{\"$product\":$quota},\"link\":$link}"
