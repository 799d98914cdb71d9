#!/usr/bin/env bash
# Creates a product (POST /v1/products) with the features given as a JSON
# array. Usage: LICD_VENDOR_KEY=lv_... clients/curl/product-create.sh CODE NAME VERSION ['["f1","f2"]']
set -euo pipefail
. "$(dirname "$0")/common.sh"
code=${1:?usage: $0 CODE NAME VERSION [FEATURES_JSON]} name=${2:?name} version=${3:?version}
licd_call POST /v1/products "$(vendor_key)" \
  "{\"code\":\"$code\",\"name\":\"$name\",\"version\":\"$version\",\"features\":${4:-[]}}"
