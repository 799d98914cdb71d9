#!/usr/bin/env bash
# Gives a customer a new key (POST /v1/customers/{id}/rotate-key); the old one
# works GRACE_S seconds more (default 86400, 0: not at all).
# Usage: LICD_VENDOR_KEY=lv_... clients/curl/customer-rotate-key.sh CUSTOMER_ID [GRACE_S]
set -euo pipefail
. "$(dirname "$0")/common.sh"
licd_call POST "/v1/customers/${1:?usage: $0 CUSTOMER_ID [GRACE_S]}/rotate-key" "$(vendor_key)" \
  "{\"grace_s\":${2:-86400}}"
