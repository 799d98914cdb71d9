#!/usr/bin/env bash
# An application's activation key (POST /v1/get_key with a group key, no
# bearer): 201 with the licence JWT and a new update password, to present on
# the next call. A missing NODE_ID counts as node "default".
# Usage: clients/curl/group_key_activate.sh GROUP_KEY SCHEME PRODUCT APP_ID [NODE_ID [UPDATE_PASSWORD]]
set -euo pipefail
. "$(dirname "$0")/common.sh"
key=${1:?usage: $0 GROUP_KEY SCHEME PRODUCT APP_ID [NODE_ID [UPDATE_PASSWORD]]}
scheme=${2:?scheme} product=${3:?product code} app=${4:?app id}
extra="${5:+,\"node_id\":\"$5\"}${6:+,\"update_password\":\"$6\"}"
licd_call POST /v1/get_key "" \
  "{\"group_key\":\"$key\",\"scheme\":\"$scheme\",\"product\":\"$product\",\"app_id\":\"$app\"$extra}"
