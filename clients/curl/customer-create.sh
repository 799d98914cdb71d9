#!/usr/bin/env bash
# Creates a customer (POST /v1/customers); the answer holds its customer key,
# shown this once. Usage: LICD_VENDOR_KEY=lv_... clients/curl/customer-create.sh NAME
set -euo pipefail
. "$(dirname "$0")/common.sh"
name=${1:?usage: $0 NAME}
licd_call POST /v1/customers "$(vendor_key)" "{\"name\":\"$name\"}"
